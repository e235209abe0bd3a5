//! The matcher's candidate source: an in-memory ANN index over profile
//! vectors (with region and availability filtered inside the graph walk)
//! and an inverted index from skill to profiles, so a freelancer with every
//! required skill is a candidate however far the embedding puts them.
//!
//! The index also keeps each profile as last read (without its bio, which
//! matching never reads), so a match scores its candidates from memory and
//! reads no profile row: at 100,000 profiles loading the candidates' rows
//! was most of a match's time. The matcher applies every hard filter again
//! on what the index hands it.
//!
//! Keeping in step: the index is built in the background at start (matching
//! scans the whole pool until it is ready), then, before each use, asks the
//! store for profiles and vectors changed since its last look (two index
//! range scans, migration 0011). That gives read-your-writes across
//! processes: a profile saved through another replica is seen by the next
//! match here. The look-back overlaps by [`OVERLAP`] so a write stamped just
//! before the last look but committed after it is not missed; re-seen rows
//! whose timestamps did not change are skipped.
//!
//! Restarts: the index is saved as a snapshot (the graph, the vectors and
//! what each profile was indexed as, with the change cursor) after it is
//! built, every few minutes while it changes, and when the process stops.
//! A start loads the snapshot and catches up from its cursor instead of
//! rebuilding the graph; a missing, unreadable or other-model snapshot means
//! a full build.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use fairgig_embed::index::{Filter, IndexConfig, Metadata, Quantised, VectorIndex};
use fairgig_store::{
    marketplace::{Profile, ProfileChange},
    Store, StoreError,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::{Mutex, RwLock};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// How far each look reaches back before the previous one (commit delays
/// and clock skew between processes).
pub const OVERLAP: Duration = Duration::from_secs(5);

/// Candidate list width of graph searches. The default in
/// [`IndexConfig::new`] is tuned for random vectors, the worst case; real
/// embeddings cluster, and the skill index backs the search up.
const EF_SEARCH: usize = 128;

/// Candidates from the skill index when more profiles than this have every
/// required skill: the ones most similar to the job.
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

/// What a job asks of its candidates before scoring.
#[derive(Clone, Debug, Default)]
pub struct CandidateQuery<'a> {
    pub vector: &'a [f32],
    pub required_skills: &'a [String],
    /// Only profiles in this region (a job that is not remote).
    pub region: Option<&'a str>,
    /// How many nearest profiles the graph search returns.
    pub nearest: usize,
}

/// A profile the index proposes, with its similarity to the query.
#[derive(Clone, Debug)]
pub struct IndexedCandidate {
    /// As last read from the store, without its bio.
    pub profile: Arc<Profile>,
    pub similarity: f32,
}

struct Indexed {
    vectors: VectorIndex,
    /// Lower-cased skill name → the slots ([`VectorIndex::slot`]) of the
    /// profiles with it, ascending: lists intersect by merging, and each
    /// holder's vector and metadata are read by slot, without hashing.
    by_skill: HashMap<String, Vec<usize>>,
    /// What each profile was indexed as: the profile (its row's change
    /// time is `updated_at`) and its vector's change time, to skip re-seen
    /// rows and drop old skills.
    seen: HashMap<Uuid, Seen>,
    /// The next look asks for changes at or after this moment.
    cursor: OffsetDateTime,
}

#[derive(Clone, Serialize, Deserialize)]
struct Seen {
    profile: Arc<Profile>,
    vector_at: OffsetDateTime,
}

impl Seen {
    /// Keeps `profile` without its bio.
    fn of(mut profile: Profile, vector_at: OffsetDateTime) -> Self {
        profile.input.bio = String::new();
        Self { profile: Arc::new(profile), vector_at }
    }
}

/// Everything of a snapshot but the vector index itself.
#[derive(Serialize, Deserialize)]
struct SnapshotMeta {
    model_id: String,
    cursor: OffsetDateTime,
    seen: HashMap<Uuid, Seen>,
}

/// How the index came to be at start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Built {
    /// From every profile vector in the store.
    Rebuilt,
    /// From the snapshot, then caught up with the store.
    FromSnapshot,
}

/// The candidate index of one embedding model.
pub struct ProfileIndex {
    model_id: String,
    dimensions: usize,
    /// Where snapshots go (`None`: never saved).
    snapshot: Option<PathBuf>,
    indexed: RwLock<Option<Indexed>>,
    /// One look at a time; others wait for it and then see its result.
    refreshing: Mutex<()>,
    /// Changed since the last snapshot.
    dirty: AtomicBool,
}

impl std::fmt::Debug for ProfileIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProfileIndex").field("model_id", &self.model_id).finish_non_exhaustive()
    }
}

impl ProfileIndex {
    /// An index for `model_id`'s vectors; with `snapshot_dir`, it is saved
    /// there (in a folder per model) and loaded from there at start.
    pub fn new(model_id: &str, dimensions: usize, snapshot_dir: Option<&Path>) -> Arc<Self> {
        let folder: String = model_id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' })
            .collect();
        Arc::new(Self {
            model_id: model_id.to_owned(),
            dimensions,
            snapshot: snapshot_dir.map(|dir| dir.join(format!("profiles-{folder}"))),
            indexed: RwLock::new(None),
            refreshing: Mutex::new(()),
            dirty: AtomicBool::new(false),
        })
    }

    /// Loads the snapshot and catches up, or else builds from every profile
    /// vector in the store (on a blocking thread) and saves a snapshot.
    /// Until this is done [`Self::candidates`] answers `None`.
    pub async fn build(self: &Arc<Self>, store: &Store) -> Result<(usize, Built), CandidateError> {
        if let Some(loaded) = self.load_snapshot().await {
            *self.indexed.write().await = Some(loaded);
            self.refresh(store).await?;
            let size = self.indexed.read().await.as_ref().map_or(0, |i| i.vectors.len());
            return Ok((size, Built::FromSnapshot));
        }
        let look = self.refreshing.lock().await;
        let started = OffsetDateTime::now_utc();
        let changes = store.profile_changes(&self.model_id, OffsetDateTime::UNIX_EPOCH).await?;
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
    async fn load_snapshot(&self) -> Option<Indexed> {
        let path = self.snapshot.clone()?;
        let dimensions = self.dimensions;
        let model_id = self.model_id.clone();
        let loaded = tokio::task::spawn_blocking(move || -> Result<Indexed, String> {
            let bytes = std::fs::read(path.join("meta.json")).map_err(|err| err.to_string())?;
            let meta: SnapshotMeta =
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
                tracing::info!(%reason, "no usable candidate index snapshot; rebuilding");
                None
            }
            Err(err) => {
                tracing::warn!(error = %err, "loading the candidate index snapshot failed");
                None
            }
        }
    }

    /// Saves every few minutes while the index changes, and once more at `stop`.
    pub fn spawn_snapshots(self: &Arc<Self>, stop: CancellationToken) {
        if self.snapshot.is_none() {
            return;
        }
        let index = Arc::clone(self);
        tokio::spawn(async move {
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
    /// pool meanwhile.
    pub fn spawn_build(self: &Arc<Self>, store: Store) {
        let index = Arc::clone(self);
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match index.build(&store).await {
                Ok((size, how)) => tracing::info!(
                    profiles = size,
                    ?how,
                    seconds = started.elapsed().as_secs_f64(),
                    "candidate index ready"
                ),
                Err(err) => {
                    tracing::warn!(error = %err, "candidate index not built; matching scans the pool")
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
        let changes = store.profile_changes(&self.model_id, cursor).await?;
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

    /// The profiles worth scoring for `query`, after catching up with the
    /// store: its nearest profiles that are open to work (and in its
    /// region), plus every such profile with all of its required skills.
    /// `None` while the index is still being built.
    pub async fn candidates(
        &self,
        store: &Store,
        query: &CandidateQuery<'_>,
    ) -> Result<Option<Vec<IndexedCandidate>>, CandidateError> {
        self.refresh(store).await?;
        let guard = self.indexed.read().await;
        let Some(indexed) = guard.as_ref() else { return Ok(None) };
        Ok(Some(indexed.candidates(query)?))
    }
}

fn build(
    dimensions: usize,
    changes: Vec<ProfileChange>,
    started: OffsetDateTime,
) -> Result<Indexed, CandidateError> {
    let mut seen = HashMap::with_capacity(changes.len());
    let mut points = Vec::with_capacity(changes.len());
    for ProfileChange { profile, vector, vector_updated_at } in changes {
        let key = profile.user_id.as_uuid();
        points.push((key, vector, metadata(&profile)));
        seen.insert(key, Seen::of(profile, vector_updated_at));
    }
    let vectors = VectorIndex::build(index_config(dimensions), points)?;
    Ok(Indexed { by_skill: postings(&seen, &vectors), vectors, seen, cursor: started - OVERLAP })
}

fn index_config(dimensions: usize) -> IndexConfig {
    IndexConfig { ef_search: EF_SEARCH, ..IndexConfig::new(dimensions) }
}

/// The skill → slots lists of what was indexed (derived, so a snapshot
/// need not store them).
fn postings(seen: &HashMap<Uuid, Seen>, vectors: &VectorIndex) -> HashMap<String, Vec<usize>> {
    let mut by_skill: HashMap<String, Vec<usize>> = HashMap::new();
    for (key, record) in seen {
        let Some(slot) = vectors.slot(*key) else { continue };
        for skill in skills_of(&record.profile) {
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

fn skills_of(profile: &Profile) -> Vec<String> {
    let mut skills: Vec<String> =
        profile.input.skills.iter().map(|skill| normalise(&skill.name)).collect();
    skills.sort();
    skills.dedup();
    skills
}

fn normalise(skill: &str) -> String {
    skill.trim().to_lowercase()
}

fn metadata(profile: &Profile) -> Metadata {
    Metadata {
        region: profile.input.region.clone(),
        available: profile.input.availability
            != fairgig_core::marketplace::Availability::Unavailable,
        rate_minor: profile.input.hourly_rate_minor,
        status: String::new(),
    }
}

impl Indexed {
    /// Takes in one change; whether it was new.
    fn apply(&mut self, change: ProfileChange) -> Result<bool, CandidateError> {
        let key = change.profile.user_id.as_uuid();
        let (profile_at, vector_at) = (change.profile.updated_at, change.vector_updated_at);
        if let Some(old) = self.seen.get(&key) {
            if old.profile.updated_at == profile_at && old.vector_at == vector_at {
                return Ok(false);
            }
            if let Some(slot) = self.vectors.slot(key) {
                for skill in skills_of(&old.profile) {
                    if let Some(holders) = self.by_skill.get_mut(&skill) {
                        if let Ok(at) = holders.binary_search(&slot) {
                            holders.remove(at);
                        }
                    }
                }
            }
        }
        let vector_changed = self.seen.get(&key).is_none_or(|old| old.vector_at != vector_at);
        if vector_changed {
            self.vectors.upsert(key, &change.vector, metadata(&change.profile))?;
        } else {
            self.vectors.set_metadata(key, metadata(&change.profile));
        }
        if let Some(slot) = self.vectors.slot(key) {
            for skill in skills_of(&change.profile) {
                add_holder(self.by_skill.entry(skill).or_default(), slot);
            }
        }
        self.seen.insert(key, Seen::of(change.profile, vector_at));
        Ok(true)
    }

    fn candidates(
        &self,
        query: &CandidateQuery<'_>,
    ) -> Result<Vec<IndexedCandidate>, CandidateError> {
        let filter = Filter {
            regions: query.region.map(|region| vec![region.to_owned()]),
            available: Some(true),
            ..Filter::default()
        };
        let mut hits: Vec<(usize, f32)> = self
            .vectors
            .search(query.vector, query.nearest, &filter)?
            .into_iter()
            .map(|hit| (hit.slot, hit.score))
            .collect();
        let mut known: Vec<usize> = hits.iter().map(|(slot, _)| *slot).collect();
        known.sort_unstable();
        // Every profile with the skills, the most similar first: ranked by
        // the 8-bit copies (a quarter of the memory to read), then the kept
        // ones scored exactly.
        let rough = Quantised::of(query.vector);
        let mut skilled: Vec<(usize, f32)> = self
            .with_all_skills(query.required_skills)
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
            skilled.into_iter().filter_map(|(slot, _)| {
                Some((slot, self.vectors.similarity_at(slot, query.vector)?))
            }),
        );
        Ok(hits
            .into_iter()
            .filter_map(|(slot, similarity)| {
                let profile = Arc::clone(&self.seen.get(&self.vectors.key_at(slot)?)?.profile);
                Some(IndexedCandidate { profile, similarity })
            })
            .collect())
    }

    /// The slots of the profiles holding every one of `skills` (none when
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
        ids::UserId,
        marketplace::{Availability, ProfileSkill, SkillLevel},
        user::{DisplayName, Email, Role},
    };
    use fairgig_store::{
        embeddings::EntityKind, marketplace::ProfileInput, test_support::on_every_backend,
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
        let query = CandidateQuery { vector: &job, required_skills: &skills, region, nearest: 1 };
        let found = index.candidates(store, &query).await.expect("candidates").expect("built");
        let mut ids: Vec<Uuid> = found.iter().map(|c| c.profile.user_id.as_uuid()).collect();
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
            assert_eq!(index.build(&store).await.expect("built"), (4, Built::Rebuilt));

            assert_eq!(candidates(&index, &store, None).await, sorted(vec![near, skilled]));
            assert_eq!(candidates(&index, &store, Some("US")).await, vec![skilled]);
            // Each comes as last read, without its bio, with its exact similarity.
            let query = CandidateQuery { vector: &job, nearest: 1, ..CandidateQuery::default() };
            let found = index.candidates(&store, &query).await.expect("ok").expect("built");
            assert_eq!(found.len(), 1);
            assert_eq!(found[0].profile.user_id.as_uuid(), near);
            assert_eq!((found[0].profile.input.bio.as_str(), found[0].similarity), ("", 1.0));
            assert_eq!(found[0].profile.input.skills[0].name, "Go");

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
