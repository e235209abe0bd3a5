//! The matcher's candidate sources: in-memory ANN indexes over profile
//! vectors (a job's candidates) and over open jobs' vectors (a freelancer's
//! "jobs for me"), with region and availability filtered inside the graph
//! walk, and beside each an inverted index from skill to entries, so a
//! freelancer with every required skill is a candidate (and a job whose
//! every required skill the freelancer has is proposed to them) however
//! far the embedding puts them.
//!
//! Each index also keeps its entries as last read (without long texts,
//! which matching never reads), so a match scores its candidates from
//! memory and reads no rows: at 100,000 profiles loading the candidates'
//! rows was most of a match's time. The matcher applies every hard filter
//! again on what an index hands it.
//!
//! Keeping in step: an index is built in the background at start (matching
//! scans the store until it is ready), then, before each use, asks the
//! store for rows and vectors changed since its last look (two index range
//! scans, migrations 0011 and 0014). That gives read-your-writes across
//! processes: a profile saved or a job closed through another replica is
//! seen by the next match here. The look-back overlaps by [`OVERLAP`] so a
//! write stamped just before the last look but committed after it is not
//! missed; re-seen rows whose timestamps did not change are skipped. A job
//! that leaves `open` leaves the index.
//!
//! Restarts: an index is saved as a snapshot (the graph, the vectors and
//! what each entry was indexed as, with the change cursor) after it is
//! built, every few minutes while it changes, and when the process stops.
//! A start loads the snapshot and catches up from its cursor instead of
//! rebuilding the graph; a missing, unreadable or other-model snapshot means
//! a full build.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fairgig_core::marketplace::{Availability, JobStatus};
use fairgig_embed::index::{Filter, IndexConfig, Metadata, Quantised, RateCap, VectorIndex};
use fairgig_store::{
    marketplace::{Changed, Job, Profile},
    Store, StoreError,
};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{Mutex, RwLock};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How far each look reaches back before the previous one (commit delays
/// and clock skew between processes).
pub const OVERLAP: Duration = Duration::from_secs(5);

/// Candidate list width of graph searches. A proposal asks for 400 or more
/// neighbours, which sets the width by itself, so the index is not
/// calibrated (that would scan a sample at every build); the skill index
/// backs the search up.
const EF_SEARCH: usize = 128;

/// Candidates from the skill index when more entries than this qualify by
/// skills: the ones most similar to the query.
const MAX_SKILL_CANDIDATES: usize = 2_000;

/// How often a changed index is saved.
const SAVE_EVERY: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error)]
pub enum CandidateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("candidate index: {0}")]
    Index(#[from] fairgig_embed::index::IndexError),
    #[error("candidate index snapshot {path}: {reason}")]
    Snapshot { path: PathBuf, reason: String },
}

/// What an index holds: a profile or a job, as the store returns it.
pub trait Indexable: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Names the snapshot folder.
    const KIND: &'static str;
    fn key(&self) -> Uuid;
    /// Its row's change time.
    fn changed_at(&self) -> OffsetDateTime;
    /// Without what matching never reads (long texts).
    fn slim(self) -> Self;
    /// The skills it is found by, lower case, once each.
    fn skills(&self) -> Vec<String>;
    fn metadata(&self) -> Metadata;
    /// Whether it belongs in the index at all (a job only while open).
    fn listed(&self) -> bool;
    /// Entries whose row or `model_id` vector changed at or after `since`.
    fn changes(
        store: &Store,
        model_id: &str,
        since: OffsetDateTime,
    ) -> impl Future<Output = Result<Vec<Changed<Self>>, StoreError>> + Send;
}

impl Indexable for Profile {
    const KIND: &'static str = "profiles";

    fn key(&self) -> Uuid {
        self.user_id.as_uuid()
    }

    fn changed_at(&self) -> OffsetDateTime {
        self.updated_at
    }

    fn slim(mut self) -> Self {
        self.input.bio = String::new();
        self
    }

    fn skills(&self) -> Vec<String> {
        distinct_skills(self.input.skills.iter().map(|skill| skill.name.as_str()))
    }

    fn metadata(&self) -> Metadata {
        Metadata {
            region: self.input.region.clone(),
            available: self.input.availability != Availability::Unavailable,
            rate_minor: self.input.hourly_rate_minor,
            currency: self.input.currency.clone(),
            status: String::new(),
        }
    }

    /// Only profiles open to work: every proposal asks for them, and an
    /// erased account's profile (made unavailable) must leave the index.
    fn listed(&self) -> bool {
        self.input.availability != Availability::Unavailable
    }

    async fn changes(
        store: &Store,
        model_id: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<Changed<Self>>, StoreError> {
        store.profile_changes(model_id, since).await
    }
}

impl Indexable for Job {
    const KIND: &'static str = "jobs";

    fn key(&self) -> Uuid {
        self.id.as_uuid()
    }

    fn changed_at(&self) -> OffsetDateTime {
        self.updated_at
    }

    fn slim(mut self) -> Self {
        self.input.description = String::new();
        self.bias_report = serde_json::Value::Null;
        self
    }

    /// Its required skills: a freelancer holding all of them is proposed it.
    fn skills(&self) -> Vec<String> {
        distinct_skills(self.input.required_skills.iter().map(String::as_str))
    }

    /// A remote job has no region: it passes every region filter that lets
    /// region-less entries through.
    fn metadata(&self) -> Metadata {
        Metadata {
            region: if self.input.remote { None } else { self.input.region.clone() },
            available: true,
            rate_minor: self.input.max_hourly_minor,
            currency: self.input.currency.clone(),
            status: self.status.as_str().to_owned(),
        }
    }

    fn listed(&self) -> bool {
        self.status == JobStatus::Open
    }

    async fn changes(
        store: &Store,
        model_id: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<Changed<Self>>, StoreError> {
        store.job_changes(model_id, since).await
    }
}

/// `names` lower case, sorted, once each.
fn distinct_skills<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut skills: Vec<String> = names.map(normalise).collect();
    skills.sort();
    skills.dedup();
    skills
}

fn normalise(skill: &str) -> String {
    skill.trim().to_lowercase()
}

/// What a job asks of its candidate profiles before scoring.
#[derive(Clone, Debug, Default)]
pub struct CandidateQuery<'a> {
    pub vector: &'a [f32],
    pub required_skills: &'a [String],
    /// Only profiles in this region (a job that is not remote).
    pub region: Option<&'a str>,
    /// Only profiles whose rate fits (the job's budget with its tolerance).
    pub rate_cap: Option<RateCap>,
    /// How many nearest profiles the graph search returns.
    pub nearest: usize,
}

/// What a freelancer's "jobs for me" asks of the open jobs.
#[derive(Clone, Debug, Default)]
pub struct JobQuery<'a> {
    pub vector: &'a [f32],
    /// The freelancer's skills: every job whose required skills are all
    /// among them is proposed.
    pub skills: &'a [String],
    /// The freelancer's region: jobs there, or remote, or without one.
    pub region: Option<&'a str>,
    /// How many nearest jobs the graph search returns.
    pub nearest: usize,
}

/// An entry an index proposes, with its similarity to the query.
#[derive(Clone, Debug)]
pub struct Proposed<E> {
    /// As last read from the store, slimmed ([`Indexable::slim`]).
    pub entity: Arc<E>,
    pub similarity: f32,
}

struct Indexed<E> {
    vectors: VectorIndex,
    /// Lower-cased skill name → the slots ([`VectorIndex::slot`]) of the
    /// entries with it, ascending: lists intersect by merging, and each
    /// holder's vector and metadata are read by slot, without hashing.
    by_skill: HashMap<String, Vec<usize>>,
    /// What each entry was indexed as: the entity (its row's change time
    /// is [`Indexable::changed_at`]) and its vector's change time, to skip
    /// re-seen rows and drop old skills.
    seen: HashMap<Uuid, Seen<E>>,
    /// The next look asks for changes at or after this moment.
    cursor: OffsetDateTime,
}

#[derive(Clone, Serialize, Deserialize)]
struct Seen<E> {
    entity: Arc<E>,
    vector_at: OffsetDateTime,
}

/// Everything of a snapshot but the vector index itself.
#[derive(Serialize, Deserialize)]
struct SnapshotMeta<E> {
    model_id: String,
    cursor: OffsetDateTime,
    seen: HashMap<Uuid, Seen<E>>,
}

/// How the index came to be at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Built {
    /// From every vector of its kind in the store.
    Rebuilt,
    /// From the snapshot, then caught up with the store.
    FromSnapshot,
}

/// The candidate index of one kind of entry and one embedding model.
pub struct CandidateIndex<E> {
    model_id: String,
    dimensions: usize,
    /// Where snapshots go (`None`: never saved).
    snapshot: Option<PathBuf>,
    indexed: RwLock<Option<Indexed<E>>>,
    /// One look at a time; others wait for it and then see its result.
    refreshing: Mutex<()>,
    /// Changed since the last snapshot.
    dirty: AtomicBool,
}

/// A job's candidate freelancers.
pub type ProfileIndex = CandidateIndex<Profile>;
/// A freelancer's candidate jobs.
pub type JobIndex = CandidateIndex<Job>;

impl<E> std::fmt::Debug for CandidateIndex<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CandidateIndex").field("model_id", &self.model_id).finish_non_exhaustive()
    }
}

impl<E: Indexable> CandidateIndex<E> {
    /// An index for `model_id`'s vectors; with `snapshot_dir`, it is saved
    /// there (in a folder per kind and model) and loaded from there at start.
    pub fn new(model_id: &str, dimensions: usize, snapshot_dir: Option<&Path>) -> Arc<Self> {
        let folder: String = model_id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
            .collect();
        Arc::new(Self {
            model_id: model_id.to_owned(),
            dimensions,
            snapshot: snapshot_dir.map(|dir| dir.join(format!("{}-{folder}", E::KIND))),
            indexed: RwLock::new(None),
            refreshing: Mutex::new(()),
            dirty: AtomicBool::new(false),
        })
    }

    /// Loads the snapshot and catches up, or else builds from every vector
    /// of its kind in the store (on a blocking thread) and saves a snapshot.
    /// Until this is done the index proposes nothing (`None`).
    pub async fn build(self: &Arc<Self>, store: &Store) -> Result<(usize, Built), CandidateError> {
        if let Some(loaded) = self.load_snapshot().await {
            *self.indexed.write().await = Some(loaded);
            self.refresh(store).await?;
            let size = self.indexed.read().await.as_ref().map_or(0, |i| i.vectors.len());
            return Ok((size, Built::FromSnapshot));
        }
        let look = self.refreshing.lock().await;
        let started = OffsetDateTime::now_utc();
        let changes = E::changes(store, &self.model_id, OffsetDateTime::UNIX_EPOCH).await?;
        let dimensions = self.dimensions;
        let built = tokio::task::spawn_blocking(move || build(dimensions, changes, started))
            .await
            .map_err(|err| {
                fairgig_embed::index::IndexError::Engine(format!("build task failed: {err}"))
            })??;
        let size = built.vectors.len();
        *self.indexed.write().await = Some(built);
        drop(look);
        self.dirty.store(true, Ordering::Relaxed);
        // The index serves either way; a failed save is retried later.
        if let Err(err) = self.save().await {
            tracing::warn!(error = %err, "saving the candidate index failed");
        }
        Ok((size, Built::Rebuilt))
    }

    /// Writes the snapshot if anything changed since the last one (on a
    /// blocking thread, holding the index for reading meanwhile).
    pub async fn save(self: &Arc<Self>) -> Result<(), CandidateError> {
        if self.snapshot.is_none() || !self.dirty.swap(false, Ordering::Relaxed) {
            return Ok(());
        }
        let index = Arc::clone(self);
        let result = tokio::task::spawn_blocking(move || index.write_snapshot())
            .await
            .unwrap_or_else(|err| {
                Err(fairgig_embed::index::IndexError::Engine(format!("save task failed: {err}"))
                    .into())
            });
        if result.is_err() {
            self.dirty.store(true, Ordering::Relaxed);
        }
        result
    }

    fn write_snapshot(&self) -> Result<(), CandidateError> {
        let Some(path) = &self.snapshot else { return Ok(()) };
        let guard = self.indexed.blocking_read();
        let Some(indexed) = guard.as_ref() else { return Ok(()) };
        let failed = |reason: String| CandidateError::Snapshot { path: path.clone(), reason };
        let meta = SnapshotMeta {
            model_id: self.model_id.clone(),
            cursor: indexed.cursor,
            seen: indexed.seen.iter().map(|(k, v)| (*k, v.clone())).collect(),
        };
        std::fs::create_dir_all(path).map_err(|err| failed(err.to_string()))?;
        indexed.vectors.save(&path.join("vectors"))?;
        let bytes = serde_json::to_vec(&meta).map_err(|err| failed(err.to_string()))?;
        // meta.json names the cursor the vectors are current to: written last.
        let staging = path.join("meta.json.saving");
        std::fs::write(&staging, bytes).map_err(|err| failed(err.to_string()))?;
        std::fs::rename(&staging, path.join("meta.json")).map_err(|err| failed(err.to_string()))
    }

    /// The snapshot, if there is a readable one of this model.
    async fn load_snapshot(&self) -> Option<Indexed<E>> {
        let path = self.snapshot.clone()?;
        let dimensions = self.dimensions;
        let model_id = self.model_id.clone();
        let loaded = tokio::task::spawn_blocking(move || -> Result<Indexed<E>, String> {
            let bytes = std::fs::read(path.join("meta.json")).map_err(|err| err.to_string())?;
            let meta: SnapshotMeta<E> =
                serde_json::from_slice(&bytes).map_err(|err| err.to_string())?;
            if meta.model_id != model_id {
                return Err(format!("made with {}", meta.model_id));
            }
            let vectors = VectorIndex::load(index_config(dimensions), &path.join("vectors"))
                .map_err(|err| err.to_string())?;
            let by_skill = postings(&meta.seen, &vectors);
            Ok(Indexed { vectors, by_skill, seen: meta.seen, cursor: meta.cursor })
        })
        .await;
        match loaded {
            Ok(Ok(indexed)) => Some(indexed),
            Ok(Err(reason)) => {
                tracing::info!(kind = E::KIND, %reason, "no usable candidate index snapshot; rebuilding");
                None
            }
            Err(err) => {
                tracing::warn!(error = %err, "loading the candidate index snapshot failed");
                None
            }
        }
    }

    /// Saves every few minutes while the index changes, and once more at
    /// `stop` (joining `tasks` waits for that last save).
    pub fn spawn_snapshots(self: &Arc<Self>, tasks: &mut JoinSet<()>, stop: CancellationToken) {
        if self.snapshot.is_none() {
            return;
        }
        let index = Arc::clone(self);
        tasks.spawn(async move {
            loop {
                let stopping = tokio::select! {
                    () = stop.cancelled() => true,
                    () = tokio::time::sleep(SAVE_EVERY) => false,
                };
                if let Err(err) = index.save().await {
                    tracing::warn!(error = %err, "saving the candidate index failed");
                }
                if stopping {
                    return;
                }
            }
        });
    }

    /// Builds in the background, logging the outcome; matching scans the
    /// pool meanwhile. Gives up at `stop`.
    pub fn spawn_build(
        self: &Arc<Self>,
        store: Store,
        tasks: &mut JoinSet<()>,
        stop: CancellationToken,
    ) {
        let index = Arc::clone(self);
        tasks.spawn(async move {
            let started = std::time::Instant::now();
            let built = tokio::select! {
                () = stop.cancelled() => return,
                built = index.build(&store) => built,
            };
            match built {
                Ok((size, how)) => tracing::info!(
                    kind = E::KIND,
                    size,
                    ?how,
                    seconds = started.elapsed().as_secs_f64(),
                    "candidate index ready"
                ),
                Err(err) => {
                    tracing::warn!(kind = E::KIND, error = %err, "candidate index not built; matching scans the store")
                }
            }
        });
    }

    /// Applies the changes since the last look. Does nothing before the
    /// first build.
    pub async fn refresh(&self, store: &Store) -> Result<(), CandidateError> {
        let _look = self.refreshing.lock().await;
        let Some(cursor) = self.indexed.read().await.as_ref().map(|indexed| indexed.cursor) else {
            return Ok(());
        };
        let started = OffsetDateTime::now_utc();
        let changes = E::changes(store, &self.model_id, cursor).await?;
        let mut guard = self.indexed.write().await;
        if let Some(indexed) = guard.as_mut() {
            let mut changed = false;
            for change in changes {
                changed |= indexed.apply(change)?;
            }
            indexed.cursor = started - OVERLAP;
            if changed {
                self.dirty.store(true, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    /// The index as it stands after catching up with the store (`None`
    /// before the first build), held for reading while proposing.
    async fn current(
        &self,
        store: &Store,
    ) -> Result<tokio::sync::RwLockReadGuard<'_, Option<Indexed<E>>>, CandidateError> {
        self.refresh(store).await?;
        Ok(self.indexed.read().await)
    }
}

impl<E: Indexable> CandidateIndex<E> {
    /// How specific each of `skills` is among the indexed entries, in the
    /// order given: inverse document frequency, `ln((1 + N) / (1 + n)) + 1`
    /// for `n` of `N` entries holding it, so a skill everyone lists ("meet
    /// deadlines") weighs 1 and a rare one ("install pipes") several times
    /// that. All 1 while the index is being built. Reads the index as last
    /// caught up (a match has just done so).
    pub async fn skill_specificity(&self, skills: &[&str]) -> Vec<f64> {
        let guard = self.indexed.read().await;
        let Some(indexed) = guard.as_ref() else { return vec![1.0; skills.len()] };
        let entries = indexed.seen.len() as f64;
        skills
            .iter()
            .map(|skill| {
                let holders = indexed.by_skill.get(&normalise(skill)).map_or(0, Vec::len);
                ((1.0 + entries) / (1.0 + holders as f64)).ln() + 1.0
            })
            .collect()
    }
}

impl ProfileIndex {
    /// The profiles worth scoring for `query`, after catching up with the
    /// store: its nearest profiles that are open to work (and in its
    /// region), plus every such profile with all of its required skills.
    /// `None` while the index is still being built.
    pub async fn candidates(
        &self,
        store: &Store,
        query: &CandidateQuery<'_>,
    ) -> Result<Option<Vec<Proposed<Profile>>>, CandidateError> {
        let guard = self.current(store).await?;
        let Some(indexed) = guard.as_ref() else { return Ok(None) };
        let filter = Filter {
            regions: query.region.map(|region| vec![region.to_owned()]),
            available: Some(true),
            rate_cap: query.rate_cap.clone(),
            ..Filter::default()
        };
        let skilled = indexed.with_all_skills(query.required_skills);
        Ok(Some(indexed.propose(query.vector, query.nearest, &filter, skilled)?))
    }
}

impl JobIndex {
    /// The open jobs worth scoring for a freelancer, after catching up with
    /// the store: the nearest ones in their region (or remote, or without
    /// one), plus every such job whose required skills they all have.
    /// `None` while the index is still being built.
    pub async fn candidates(
        &self,
        store: &Store,
        query: &JobQuery<'_>,
    ) -> Result<Option<Vec<Proposed<Job>>>, CandidateError> {
        let guard = self.current(store).await?;
        let Some(indexed) = guard.as_ref() else { return Ok(None) };
        let filter = Filter {
            regions: Some(query.region.map(|region| vec![region.to_owned()]).unwrap_or_default()),
            or_no_region: true,
            ..Filter::default()
        };
        let skilled = indexed.with_skills_among(query.skills);
        Ok(Some(indexed.propose(query.vector, query.nearest, &filter, skilled)?))
    }
}

impl<E: Indexable> CandidateIndex<E> {
    /// The entries nearest to `vector`, anywhere, that are available (every
    /// open job; a freelancer open to work), after catching up with the
    /// store: a search's vector half. `None` while being built.
    pub async fn nearest(
        &self,
        store: &Store,
        vector: &[f32],
        nearest: usize,
    ) -> Result<Option<Vec<Proposed<E>>>, CandidateError> {
        let guard = self.current(store).await?;
        let Some(indexed) = guard.as_ref() else { return Ok(None) };
        let filter = Filter { available: Some(true), ..Filter::default() };
        Ok(Some(indexed.propose(vector, nearest, &filter, Vec::new())?))
    }
}

fn build<E: Indexable>(
    dimensions: usize,
    changes: Vec<Changed<E>>,
    started: OffsetDateTime,
) -> Result<Indexed<E>, CandidateError> {
    let mut seen = HashMap::with_capacity(changes.len());
    let mut points = Vec::with_capacity(changes.len());
    for Changed { entity, vector, vector_updated_at } in
        changes.into_iter().filter(|change| change.entity.listed())
    {
        let key = entity.key();
        points.push((key, vector, entity.metadata()));
        seen.insert(key, Seen { entity: Arc::new(entity.slim()), vector_at: vector_updated_at });
    }
    let vectors = VectorIndex::build(index_config(dimensions), points)?;
    Ok(Indexed { by_skill: postings(&seen, &vectors), vectors, seen, cursor: started - OVERLAP })
}

fn index_config(dimensions: usize) -> IndexConfig {
    IndexConfig { ef_search: EF_SEARCH, calibrate_to: None, ..IndexConfig::new(dimensions) }
}

/// The skill → slots lists of what was indexed (derived, so a snapshot
/// need not store them).
fn postings<E: Indexable>(
    seen: &HashMap<Uuid, Seen<E>>,
    vectors: &VectorIndex,
) -> HashMap<String, Vec<usize>> {
    let mut by_skill: HashMap<String, Vec<usize>> = HashMap::new();
    for (key, record) in seen {
        let Some(slot) = vectors.slot(*key) else { continue };
        for skill in record.entity.skills() {
            by_skill.entry(skill).or_default().push(slot);
        }
    }
    for holders in by_skill.values_mut() {
        holders.sort_unstable();
    }
    by_skill
}

/// Inserts `slot` into an ascending list (once).
fn add_holder(holders: &mut Vec<usize>, slot: usize) {
    if let Err(at) = holders.binary_search(&slot) {
        holders.insert(at, slot);
    }
}

impl<E: Indexable> Indexed<E> {
    /// Takes in one change; whether it changed the index.
    fn apply(&mut self, change: Changed<E>) -> Result<bool, CandidateError> {
        let key = change.entity.key();
        let (entity_at, vector_at) = (change.entity.changed_at(), change.vector_updated_at);
        if let Some(old) = self.seen.get(&key) {
            if old.entity.changed_at() == entity_at && old.vector_at == vector_at {
                return Ok(false);
            }
            if let Some(slot) = self.vectors.slot(key) {
                for skill in old.entity.skills() {
                    if let Some(holders) = self.by_skill.get_mut(&skill) {
                        if let Ok(at) = holders.binary_search(&slot) {
                            holders.remove(at);
                        }
                    }
                }
            }
        }
        if !change.entity.listed() {
            // A job no longer open leaves the index (if it was in it).
            self.vectors.delete(key)?;
            return Ok(self.seen.remove(&key).is_some());
        }
        let vector_changed = self.seen.get(&key).is_none_or(|old| old.vector_at != vector_at);
        if vector_changed {
            self.vectors.upsert(key, &change.vector, change.entity.metadata())?;
        } else {
            self.vectors.set_metadata(key, change.entity.metadata());
        }
        if let Some(slot) = self.vectors.slot(key) {
            for skill in change.entity.skills() {
                add_holder(self.by_skill.entry(skill).or_default(), slot);
            }
        }
        self.seen.insert(key, Seen { entity: Arc::new(change.entity.slim()), vector_at });
        Ok(true)
    }

    /// The graph's `nearest` entries passing `filter`, plus those of
    /// `skilled` (slots) that pass it: when more than
    /// [`MAX_SKILL_CANDIDATES`], the most similar, ranked by the 8-bit
    /// copies (a quarter of the memory to read) before the kept ones are
    /// scored exactly.
    fn propose(
        &self,
        vector: &[f32],
        nearest: usize,
        filter: &Filter,
        skilled: Vec<usize>,
    ) -> Result<Vec<Proposed<E>>, CandidateError> {
        let mut hits: Vec<(usize, f32)> = self
            .vectors
            .search(vector, nearest, filter)?
            .into_iter()
            .map(|hit| (hit.slot, hit.score))
            .collect();
        let mut known: Vec<usize> = hits.iter().map(|(slot, _)| *slot).collect();
        known.sort_unstable();
        let rough = Quantised::of(vector);
        let mut skilled: Vec<(usize, f32)> = skilled
            .into_iter()
            .filter(|slot| known.binary_search(slot).is_err())
            .filter(|slot| self.vectors.metadata_at(*slot).is_some_and(|m| filter.matches(m)))
            .filter_map(|slot| Some((slot, self.vectors.approximate_similarity_at(slot, &rough)?)))
            .collect();
        if skilled.len() > MAX_SKILL_CANDIDATES {
            skilled.select_nth_unstable_by(MAX_SKILL_CANDIDATES - 1, |a, b| b.1.total_cmp(&a.1));
            skilled.truncate(MAX_SKILL_CANDIDATES);
        }
        hits.extend(
            skilled
                .into_iter()
                .filter_map(|(slot, _)| Some((slot, self.vectors.similarity_at(slot, vector)?))),
        );
        Ok(hits
            .into_iter()
            .filter_map(|(slot, similarity)| {
                let entity = Arc::clone(&self.seen.get(&self.vectors.key_at(slot)?)?.entity);
                Some(Proposed { entity, similarity })
            })
            .collect())
    }

    /// The slots of the entries holding every one of `skills` (none when
    /// none are asked), ascending: the posting lists merged, shortest first.
    fn with_all_skills(&self, skills: &[String]) -> Vec<usize> {
        let mut lists: Vec<&[usize]> = Vec::with_capacity(skills.len());
        for skill in skills {
            match self.by_skill.get(&normalise(skill)) {
                Some(holders) => lists.push(holders),
                None => return Vec::new(),
            }
        }
        lists.sort_by_key(|holders| holders.len());
        let Some((first, rest)) = lists.split_first() else { return Vec::new() };
        let mut common = first.to_vec();
        for list in rest {
            common = intersect(&common, list);
        }
        common
    }

    /// The slots of the entries all of whose skills are among `skills`
    /// (entries asking for none are left to the graph), ascending. An entry
    /// is once in the posting list of each of its skills, so it qualifies
    /// when it turns up as often as it has skills.
    fn with_skills_among(&self, skills: &[String]) -> Vec<usize> {
        let held = distinct_skills(skills.iter().map(String::as_str));
        let mut slots: Vec<usize> =
            held.iter().filter_map(|skill| self.by_skill.get(skill)).flatten().copied().collect();
        slots.sort_unstable();
        let mut among = Vec::new();
        for run in slots.chunk_by(|a, b| a == b) {
            let slot = run[0];
            let needs = self
                .vectors
                .key_at(slot)
                .and_then(|key| self.seen.get(&key))
                .map_or(usize::MAX, |seen| seen.entity.skills().len());
            if run.len() == needs {
                among.push(slot);
            }
        }
        among
    }
}

/// The common elements of two ascending lists. Walks the short one and
/// gallops through the long one, so a rare skill intersects quickly with a
/// common one.
fn intersect(short: &[usize], long: &[usize]) -> Vec<usize> {
    let mut common = Vec::with_capacity(short.len());
    let mut rest = long;
    for &slot in short {
        // Exponential search for the first element not below `slot`.
        let mut bound = 1;
        while bound < rest.len() && rest[bound] < slot {
            bound *= 2;
        }
        let window = &rest[..bound.min(rest.len())];
        let at = window.partition_point(|&x| x < slot);
        rest = &rest[at..];
        if rest.first() == Some(&slot) {
            common.push(slot);
        }
    }
    common
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use fairgig_core::{
        ids::{JobId, UserId},
        marketplace::{Availability, JobStatus, ProfileSkill, SkillLevel},
        user::{DisplayName, Email, Role},
    };
    use fairgig_store::{
        embeddings::EntityKind,
        marketplace::{JobInput, ProfileInput},
        test_support::on_every_backend,
        users::NewUser,
    };

    use super::*;

    const MODEL: &str = "test-model";

    /// A unit vector along `axis` in 4 dimensions.
    fn axis(axis: usize) -> Vec<f32> {
        let mut vector = vec![0.0; 4];
        vector[axis] = 1.0;
        vector
    }

    fn input(skills: &[&str], region: &str, availability: Availability) -> ProfileInput {
        ProfileInput {
            headline: "Developer".into(),
            bio: "Fifteen years of shipping backends.".into(),
            skills: skills
                .iter()
                .map(|name| ProfileSkill { name: (*name).into(), level: SkillLevel::Expert })
                .collect(),
            hourly_rate_minor: None,
            currency: None,
            region: Some(region.into()),
            utc_offset_minutes: None,
            availability,
            years_experience: 3.0,
            languages: vec![],
            portfolio: vec![],
            group_attributes: Default::default(),
        }
    }

    async fn profile(store: &Store, name: &str, input: &ProfileInput, vector: &[f32]) -> Uuid {
        let user = store
            .create_user(NewUser {
                email: Email::parse(&format!("{name}@example.org")).expect("email"),
                display_name: DisplayName::parse(name).expect("name"),
                role: Role::Freelancer,
                region: None,
                password_hash: String::new(),
            })
            .await
            .expect("user");
        store.put_profile(user.id, input).await.expect("profile");
        let id = user.id.as_uuid();
        store
            .put_entity_embedding(EntityKind::Profile, id, MODEL, name, vector)
            .await
            .expect("vector");
        id
    }

    async fn candidates(index: &ProfileIndex, store: &Store, region: Option<&str>) -> Vec<Uuid> {
        let skills = vec!["Rust".to_owned(), "sql".to_owned()];
        let job = axis(0);
        let query = CandidateQuery {
            vector: &job,
            required_skills: &skills,
            region,
            nearest: 1,
            ..CandidateQuery::default()
        };
        let found = index.candidates(store, &query).await.expect("candidates").expect("built");
        let mut ids: Vec<Uuid> = found.iter().map(|c| c.entity.user_id.as_uuid()).collect();
        ids.sort();
        ids
    }

    fn sorted(mut ids: Vec<Uuid>) -> Vec<Uuid> {
        ids.sort();
        ids
    }

    #[test]
    fn intersect_finds_the_common_slots_of_lists_of_any_lengths() {
        let long: Vec<usize> = (0..1_000).map(|n| n * 3).collect();
        assert_eq!(intersect(&[0, 4, 6, 2_997, 3_000], &long), vec![0, 6, 2_997]);
        assert_eq!(intersect(&[], &long), Vec::<usize>::new());
        assert_eq!(intersect(&[5], &[]), Vec::<usize>::new());
        let evens: Vec<usize> = (0..100).map(|n| n * 2).collect();
        let threes: Vec<usize> = (0..100).map(|n| n * 3).collect();
        let expected: Vec<usize> = (0..34).map(|n| n * 6).filter(|n| *n < 200).collect();
        assert_eq!(intersect(&evens, &threes), expected);
    }

    #[tokio::test]
    async fn nearest_and_fully_skilled_profiles_are_proposed_and_changes_are_followed() {
        on_every_backend(|store| async move {
            let index = ProfileIndex::new(MODEL, 4, None);
            let job = axis(0);
            let query = CandidateQuery { vector: &job, nearest: 1, ..CandidateQuery::default() };
            assert!(index.candidates(&store, &query).await.expect("ok").is_none(), "not built");
            assert_eq!(index.skill_specificity(&["Go"]).await, vec![1.0], "even until built");

            let open = Availability::Available;
            let near = profile(&store, "near", &input(&["Go"], "EU", open), &axis(0)).await;
            // Far from the job but with every required skill (any case).
            let skilled =
                profile(&store, "skilled", &input(&["rust", "SQL", "Go"], "US", open), &axis(1))
                    .await;
            let _half = profile(&store, "half", &input(&["Rust"], "EU", open), &axis(2)).await;
            let away = Availability::Unavailable;
            let _resting =
                profile(&store, "resting", &input(&["Rust", "SQL"], "EU", away), &axis(0)).await;
            // Only the three open to work are indexed.
            assert_eq!(index.build(&store).await.expect("built"), (3, Built::Rebuilt));
            // Specificity among them: two of three hold Rust, two Go, nobody Kotlin.
            let weights = index.skill_specificity(&["RUST", "go", "Kotlin"]).await;
            let idf = |holders: f64| (4.0 / (1.0 + holders)).ln() + 1.0;
            for (weight, expected) in weights.iter().zip([idf(2.0), idf(2.0), idf(0.0)]) {
                assert!((weight - expected).abs() < 1e-12, "{weights:?}");
            }

            assert_eq!(candidates(&index, &store, None).await, sorted(vec![near, skilled]));
            assert_eq!(candidates(&index, &store, Some("US")).await, vec![skilled]);
            // Each comes as last read, without its bio, with its exact similarity.
            let query = CandidateQuery { vector: &job, nearest: 1, ..CandidateQuery::default() };
            let found = index.candidates(&store, &query).await.expect("ok").expect("built");
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].entity.user_id.as_uuid(), near);
            assert_eq!((found[0].entity.input.bio.as_str(), found[0].similarity), ("", 1.0));
            assert_eq!(found[0].entity.input.skills[0].name, "Go");

            // A new profile is seen by the next match, without a rebuild…
            let nearer =
                profile(&store, "newcomer", &input(&["Rust", "SQL"], "EU", open), &axis(0)).await;
            let found = candidates(&index, &store, Some("EU")).await;
            assert!(found.contains(&nearer) && !found.contains(&skilled), "{found:?}");
            // …and so are lost skills and a pause.
            store.put_profile(UserId::from_uuid(skilled), &input(&["Go"], "US", open)).await.ok();
            store.put_profile(UserId::from_uuid(nearer), &input(&["Rust"], "EU", away)).await.ok();
            assert_eq!(candidates(&index, &store, None).await, vec![near]);
        })
        .await;
    }

    async fn job(
        store: &Store,
        owner: UserId,
        (skills, region, remote): (&[&str], &str, bool),
        vector: &[f32],
    ) -> Uuid {
        let input = JobInput {
            title: "Backend work".into(),
            description: "A long description the index does not keep.".into(),
            required_skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            preferred_skills: vec![],
            max_hourly_minor: None,
            currency: None,
            region: Some(region.into()),
            remote,
            utc_offset_minutes: None,
            experience_level: None,
        };
        let job = store
            .create_job(
                owner,
                None,
                &input,
                JobStatus::Open,
                &fairgig_store::marketplace::JobReview::unchecked(),
            )
            .await
            .expect("job");
        let id = job.id.as_uuid();
        store
            .put_entity_embedding(EntityKind::Job, id, MODEL, "job", vector)
            .await
            .expect("vector");
        id
    }

    #[tokio::test]
    async fn open_jobs_are_proposed_by_nearness_region_and_held_skills_until_they_close() {
        on_every_backend(|store| async move {
            let owner = UserId::from_uuid(
                profile(&store, "owner", &input(&[], "EU", Availability::Available), &axis(3))
                    .await,
            );
            let near = job(&store, owner, (&["Go"], "EU", false), &axis(0)).await;
            // Far, but every skill it asks for is held; remote, so anywhere.
            let held = job(&store, owner, (&["rust", "SQL"], "US", true), &axis(1)).await;
            // Asks for a skill the freelancer lacks.
            let _more = job(&store, owner, (&["Rust", "Kotlin"], "EU", false), &axis(2)).await;
            // Near, but in another region and not remote.
            let _away = job(&store, owner, (&["Go"], "US", false), &axis(0)).await;
            let index = JobIndex::new(MODEL, 4, None);
            assert_eq!(index.build(&store).await.expect("built"), (4, Built::Rebuilt));

            let skills = vec!["Rust".to_owned(), "SQL".to_owned(), "Go".to_owned()];
            let me = axis(0);
            let query = JobQuery { vector: &me, skills: &skills, region: Some("EU"), nearest: 1 };
            let ids = |found: Vec<Proposed<Job>>| {
                sorted(found.iter().map(|c| c.entity.id.as_uuid()).collect())
            };
            let found = index.candidates(&store, &query).await.expect("ok").expect("built");
            assert!(found.iter().all(|c| c.entity.input.description.is_empty()), "slimmed");
            assert_eq!(ids(found), sorted(vec![near, held]));

            // A job taken off the market leaves the index at the next look.
            store
                .set_job_status(
                    JobId::from_uuid(held),
                    JobStatus::Open,
                    JobStatus::Cancelled,
                    false,
                )
                .await
                .expect("cancelled");
            let found = index.candidates(&store, &query).await.expect("ok").expect("built");
            assert_eq!(ids(found), vec![near]);
        })
        .await;
    }

    #[tokio::test]
    async fn a_budget_keeps_priced_out_profiles_out_of_the_graph_walk() {
        on_every_backend(|store| async move {
            let priced = |minor: i64, currency: &str| ProfileInput {
                hourly_rate_minor: Some(minor),
                currency: Some(currency.into()),
                ..input(&["Go"], "EU", Availability::Available)
            };
            let _pricey = profile(&store, "pricey", &priced(20_000, "EUR"), &axis(0)).await;
            let fair = profile(&store, "fair", &priced(9_000, "EUR"), &axis(0)).await;
            // Another currency cannot be compared: it stays a candidate.
            let dollar = profile(&store, "dollar", &priced(50_000, "USD"), &axis(0)).await;
            let index = ProfileIndex::new(MODEL, 4, None);
            index.build(&store).await.expect("built");
            let job = axis(0);
            let cap = RateCap { currency: "EUR".into(), max_minor: 12_500.0 };
            let query = CandidateQuery {
                vector: &job,
                rate_cap: Some(cap),
                nearest: 3,
                ..CandidateQuery::default()
            };
            let found = index.candidates(&store, &query).await.expect("ok").expect("built");
            let ids = sorted(found.iter().map(|c| c.entity.user_id.as_uuid()).collect());
            assert_eq!(ids, sorted(vec![fair, dollar]));
        })
        .await;
    }

    #[tokio::test]
    async fn a_restart_loads_the_snapshot_and_catches_up() {
        on_every_backend(|store| async move {
            let dir = tempfile::tempdir().expect("temp dir");
            let open = Availability::Available;
            let first =
                profile(&store, "first", &input(&["Rust", "SQL"], "EU", open), &axis(0)).await;
            let index = ProfileIndex::new(MODEL, 4, Some(dir.path()));
            assert_eq!(index.build(&store).await.expect("built"), (1, Built::Rebuilt));
            drop(index);

            // Written while no process was running.
            let second =
                profile(&store, "second", &input(&["Rust", "SQL"], "US", open), &axis(1)).await;
            let restarted = ProfileIndex::new(MODEL, 4, Some(dir.path()));
            assert_eq!(restarted.build(&store).await.expect("loaded"), (2, Built::FromSnapshot));
            assert_eq!(candidates(&restarted, &store, None).await, sorted(vec![first, second]));

            // Another model's snapshot is not this model's.
            let other = ProfileIndex::new("other-model", 4, Some(dir.path()));
            assert_eq!(other.build(&store).await.expect("built"), (0, Built::Rebuilt));
        })
        .await;
    }
}
