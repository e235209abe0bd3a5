//! An in-process nearest-neighbour index over unit vectors (job and profile
//! embeddings), with metadata filters applied during the search.
//!
//! The graph is USearch's HNSW (`usearch`; inner-product metric on unit
//! vectors). We chose it after measuring `hnsw_rs`: its filtered search gives
//! up HNSW's early stop and walks nearly the whole graph (15 queries/s at
//! 100k points), and its plain search was slow (56 queries/s at ef 400).
//! USearch takes a predicate into its graph walk, removes points, and saves
//! and loads its graph. Around it we keep:
//! - the entries (key, metadata, live flag) by internal id, which is never
//!   reused, so a replaced vector cannot be confused with its successor;
//! - a flat copy of the vectors, for exact search (tiny indexes, very
//!   selective filters), exact similarities and tests to check recall
//!   against (the graph's own copy may be of lower precision:
//!   [`GraphPrecision`]);
//! - an 8-bit copy ([`Quantised`]), a quarter of the size, for ranking many
//!   points roughly before the best are scored exactly;
//! - snapshots: [`VectorIndex::save`] writes USearch's file and our entries,
//!   [`VectorIndex::load`] reads both back without rebuilding the graph.

use std::collections::HashMap;
use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};
use uuid::Uuid;

use crate::dot;

/// What a search may filter on. For profiles `available` and `rate_minor`
/// (hourly rate) matter; for jobs `status` and the budget as `rate_minor`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub region: Option<String>,
    pub available: bool,
    pub rate_minor: Option<i64>,
    /// The rate's currency (ISO 4217).
    #[serde(default)]
    pub currency: Option<String>,
    pub status: String,
}

/// The most a point's rate may be, in one currency. A rate in another
/// currency, or none, passes: it cannot be compared (the matcher gives it a
/// neutral rate fit).
#[derive(Clone, Debug, PartialEq)]
pub struct RateCap {
    pub currency: String,
    /// In minor units (cents), fractions allowed.
    pub max_minor: f64,
}

impl RateCap {
    fn admits(&self, m: &Metadata) -> bool {
        match (m.rate_minor, &m.currency) {
            (Some(rate), Some(currency)) if *currency == self.currency => {
                rate as f64 <= self.max_minor
            }
            _ => true,
        }
    }
}

/// Conditions a result must meet; `None` means any.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Any of these regions.
    pub regions: Option<Vec<String>>,
    /// With `regions`: points without a region pass too (a remote job
    /// suits a freelancer anywhere).
    pub or_no_region: bool,
    pub available: Option<bool>,
    pub rate_min: Option<i64>,
    pub rate_max: Option<i64>,
    /// A budget the rate must fit (see [`RateCap`]).
    pub rate_cap: Option<RateCap>,
    pub status: Option<String>,
}

impl Filter {
    pub fn is_empty(&self) -> bool {
        self.regions.is_none()
            && self.available.is_none()
            && self.rate_min.is_none()
            && self.rate_max.is_none()
            && self.rate_cap.is_none()
            && self.status.is_none()
    }

    pub fn matches(&self, m: &Metadata) -> bool {
        if let Some(regions) = &self.regions {
            let passes = match &m.region {
                Some(region) => regions.iter().any(|x| x.eq_ignore_ascii_case(region)),
                None => self.or_no_region,
            };
            if !passes {
                return false;
            }
        }
        if self.available.is_some_and(|a| a != m.available) {
            return false;
        }
        if self.rate_min.is_some() || self.rate_max.is_some() {
            let Some(rate) = m.rate_minor else { return false };
            if self.rate_min.is_some_and(|min| rate < min)
                || self.rate_max.is_some_and(|max| rate > max)
            {
                return false;
            }
        }
        if self.rate_cap.as_ref().is_some_and(|cap| !cap.admits(m)) {
            return false;
        }
        self.status.as_ref().is_none_or(|s| *s == m.status)
    }
}

/// How the graph stores its copy of the vectors; its distances during a
/// walk come from that copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GraphPrecision {
    /// 32-bit floats.
    F32,
    /// bfloat16 (8 bits of mantissa): half the memory of f32, and walks
    /// faster where the CPU has bf16 dot products (AVX-512 BF16), for a
    /// similarity error of a few thousandths: too small to change which
    /// neighbours a walk keeps, measured by the recall test.
    Bf16,
}

#[derive(Clone, Debug)]
pub struct IndexConfig {
    pub dimensions: usize,
    pub precision: GraphPrecision,
    /// Links per node (HNSW's M).
    pub max_connections: usize,
    pub ef_construction: usize,
    /// Candidate list width when searching (at least k); with
    /// `calibrate_to`, the widest one tried.
    pub ef_search: usize,
    /// The recall@10 that building and loading tune the search width to,
    /// measured on a sample of the index's own points ([`VectorIndex::calibrate`]);
    /// `None` always searches `ef_search` wide. The width is most of a
    /// search's cost, and the one that suffices depends on the data: random
    /// vectors need the widest, real embeddings cluster and need a fraction.
    pub calibrate_to: Option<f64>,
    /// Below this many live points every search is an exact scan.
    pub exact_below: usize,
    /// A filter passed by fewer than this share of the points is answered
    /// by a scan of those points (the graph walk would visit most of the
    /// graph to find k of them).
    pub exact_selectivity: f64,
}

impl IndexConfig {
    pub fn new(dimensions: usize) -> Self {
        Self {
            dimensions,
            precision: GraphPrecision::Bf16,
            // Tuned on 50k random 384-d unit vectors, the worst case (no
            // clusters, neighbours barely nearer than anything else):
            // recall@10 was 0.80 at ef 512, 0.94 at 1,024, 0.99 at 2,048.
            // Real embeddings cluster and need far less, which calibration
            // finds (`calibrate_to`); this is the widest it tries.
            max_connections: 32,
            ef_construction: 128,
            ef_search: 1_536,
            // A margin over the 0.95 we promise: the sample is 200 points.
            calibrate_to: Some(0.97),
            exact_below: 5_000,
            exact_selectivity: 0.02,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("vector has {got} dimensions, the index {expected}")]
    Dimensions { expected: usize, got: usize },
    #[error("vector is not finite and unit length")]
    NotUnit,
    #[error("index snapshot: {0}")]
    Snapshot(String),
    #[error("vector index: {0}")]
    Engine(String),
}

impl From<cxx::Exception> for IndexError {
    fn from(e: cxx::Exception) -> Self {
        Self::Engine(e.what().to_owned())
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    key: Uuid,
    meta: Metadata,
    live: bool,
}

/// One search result: the key, its slot and its cosine similarity to the query.
#[derive(Clone, Debug, PartialEq)]
pub struct Hit {
    pub key: Uuid,
    /// See [`VectorIndex::slot`].
    pub slot: usize,
    pub score: f32,
}

/// A vector in 8 bits: each component a multiple of `scale` (the largest
/// magnitude over 127), so dot products run on integers over a quarter of
/// the memory. Good for ranking roughly: the error of a similarity is about
/// `scale²·√dimensions`, a few thousandths for unit vectors.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantised {
    values: Vec<i8>,
    scale: f32,
}

impl Quantised {
    pub fn of(vector: &[f32]) -> Self {
        let largest = vector.iter().fold(0.0f32, |max, x| max.max(x.abs()));
        let scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
        let values =
            vector.iter().map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8).collect();
        Self { values, scale }
    }

    /// About the dot product of the vectors `self` and `other` stand for.
    pub fn dot(&self, other: &Quantised) -> f32 {
        dot_i8(&self.values, &other.values) as f32 * self.scale * other.scale
    }
}

/// Integer dot product by NumKong (VNNI where the CPU has it).
fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    use numkong::Dot;
    let n = a.len().min(b.len());
    i8::dot(&a[..n], &b[..n]).unwrap_or(0)
}

/// What [`VectorIndex::calibrate`] settled on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Calibration {
    pub ef_search: usize,
    /// recall@10 at that width on the sample.
    pub recall: f64,
    /// Points sampled as queries.
    pub sample: usize,
}

/// Search widths [`VectorIndex::calibrate`] tries, narrowest first (then
/// the configured `ef_search`, the widest).
const EF_LADDER: &[usize] = &[16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1_024];

pub struct VectorIndex {
    config: IndexConfig,
    /// The search width in use (`config.ef_search` until calibrated).
    ef_search: usize,
    graph: Index,
    /// By internal id (the graph's data id): never reused.
    entries: Vec<Entry>,
    /// Row-major vectors by internal id, for exact search and rebuilds.
    vectors: Vec<f32>,
    /// The same in 8 bits ([`Quantised`]), row-major, and each row's
    /// scale (derived: not in snapshots).
    quantised: Vec<i8>,
    scales: Vec<f32>,
    by_key: HashMap<Uuid, usize>,
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex").field("live", &self.len()).finish_non_exhaustive()
    }
}

fn new_graph(config: &IndexConfig) -> Result<Index, IndexError> {
    let options = IndexOptions {
        dimensions: config.dimensions,
        metric: MetricKind::IP,
        quantization: match config.precision {
            GraphPrecision::F32 => ScalarKind::F32,
            GraphPrecision::Bf16 => ScalarKind::BF16,
        },
        connectivity: config.max_connections,
        expansion_add: config.ef_construction,
        expansion_search: config.ef_search,
        multi: false,
    };
    Ok(Index::new(&options)?)
}

impl VectorIndex {
    pub fn new(config: IndexConfig) -> Result<Self, IndexError> {
        Ok(Self {
            graph: new_graph(&config)?,
            ef_search: config.ef_search,
            config,
            entries: Vec::new(),
            vectors: Vec::new(),
            quantised: Vec::new(),
            scales: Vec::new(),
            by_key: HashMap::new(),
        })
    }

    /// Builds an index from many points at once, adding on every core.
    pub fn build(
        config: IndexConfig,
        points: Vec<(Uuid, Vec<f32>, Metadata)>,
    ) -> Result<Self, IndexError> {
        let mut index = Self::new(config)?;
        for (key, vector, meta) in points {
            index.check(&vector)?;
            if let Some(old) = index.by_key.insert(key, index.entries.len()) {
                index.entries[old].live = false;
            }
            index.entries.push(Entry { key, meta, live: true });
            index.keep(&vector);
        }
        index.graph.reserve(index.entries.len())?;
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let live: Vec<usize> =
            (0..index.entries.len()).filter(|&id| index.entries[id].live).collect();
        let index_ref = &index;
        std::thread::scope(|scope| {
            let workers: Vec<_> = live
                .chunks(live.len().div_ceil(threads).max(1))
                .map(|ids| {
                    scope.spawn(move || -> Result<(), IndexError> {
                        for &id in ids {
                            index_ref.graph.add(id as u64, index_ref.vector(id))?;
                        }
                        Ok(())
                    })
                })
                .collect();
            workers.into_iter().try_for_each(|w| {
                w.join().unwrap_or_else(|_| Err(IndexError::Engine("build thread panicked".into())))
            })
        })?;
        if let Some(target) = index.config.calibrate_to {
            index.calibrate(target)?;
        }
        Ok(index)
    }

    /// Sets the candidate list width of later searches (recall against speed).
    pub fn set_ef_search(&mut self, ef: usize) {
        self.ef_search = ef;
        self.graph.change_expansion_search(ef);
    }

    /// The candidate list width searches use now.
    pub fn ef_search(&self) -> usize {
        self.ef_search
    }

    /// Sets the narrowest search width on a ladder (up to the configured
    /// `ef_search`) at which the graph finds `target` of the true 10 nearest
    /// neighbours of up to 200 of its own points, spread over the index (each
    /// point's own hit left out). Below `exact_below` points nothing changes:
    /// every search is a scan. Points added later are not sampled until the
    /// next build or load.
    pub fn calibrate(&mut self, target: f64) -> Result<Option<Calibration>, IndexError> {
        const SAMPLE: usize = 200;
        const K: usize = 10;
        if self.len() < self.config.exact_below {
            return Ok(None);
        }
        let step = (self.entries.len() / SAMPLE).max(1);
        let sample: Vec<usize> = (0..self.entries.len())
            .step_by(step)
            .filter(|&id| self.entries[id].live)
            .take(SAMPLE)
            .collect();
        let truths = self.neighbours_of(&sample, K);
        let ceiling = self.config.ef_search;
        let ladder = EF_LADDER.iter().copied().filter(|&ef| ef < ceiling).chain([ceiling]);
        let mut settled = Calibration { ef_search: ceiling, recall: 0.0, sample: sample.len() };
        for ef in ladder {
            self.graph.change_expansion_search(ef.max(K + 1));
            let (mut found, mut wanted) = (0usize, 0usize);
            for (&id, truth) in sample.iter().zip(&truths) {
                let got = self.graph.search(self.vector(id), K + 1)?;
                found += got.keys.iter().filter(|&&g| truth.contains(&(g as usize))).count();
                wanted += truth.len();
            }
            settled.ef_search = ef;
            settled.recall = found as f64 / wanted.max(1) as f64;
            if settled.recall >= target {
                break;
            }
        }
        self.set_ef_search(settled.ef_search.max(K + 1));
        tracing::debug!(
            points = self.len(),
            ef_search = settled.ef_search,
            recall = settled.recall,
            "vector index search width calibrated"
        );
        Ok(Some(settled))
    }

    /// The exact `k` nearest other live points of each point in `ids`, by
    /// internal id; a scan per point, split over the cores.
    fn neighbours_of(&self, ids: &[usize], k: usize) -> Vec<Vec<usize>> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        std::thread::scope(|scope| {
            let workers: Vec<_> = ids
                .chunks(ids.len().div_ceil(threads).max(1))
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|&id| {
                                self.exact(self.vector(id), k + 1, &Filter::default())
                                    .into_iter()
                                    .map(|hit| hit.slot)
                                    .filter(|&slot| slot != id)
                                    .take(k)
                                    .collect::<Vec<usize>>()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            // A lost chunk would pair the next chunk's neighbours with the
            // wrong points: a panic in a scan goes on up instead.
            workers
                .into_iter()
                .flat_map(|w| w.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        })
    }

    /// Live points.
    pub fn len(&self) -> usize {
        self.by_key.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_key.is_empty()
    }

    /// Appends the vector of the newest entry in both copies.
    fn keep(&mut self, vector: &[f32]) {
        self.vectors.extend_from_slice(vector);
        let Quantised { values, scale } = Quantised::of(vector);
        self.quantised.extend_from_slice(&values);
        self.scales.push(scale);
    }

    fn vector(&self, id: usize) -> &[f32] {
        let d = self.config.dimensions;
        &self.vectors[id * d..(id + 1) * d]
    }

    fn check(&self, vector: &[f32]) -> Result<(), IndexError> {
        if vector.len() != self.config.dimensions {
            return Err(IndexError::Dimensions {
                expected: self.config.dimensions,
                got: vector.len(),
            });
        }
        let norm = dot(vector, vector);
        if !norm.is_finite() || (norm - 1.0).abs() > 1e-3 {
            return Err(IndexError::NotUnit);
        }
        Ok(())
    }

    /// Adds a point, or replaces the one with the same key.
    pub fn upsert(&mut self, key: Uuid, vector: &[f32], meta: Metadata) -> Result<(), IndexError> {
        self.check(vector)?;
        let id = self.entries.len();
        if self.graph.size() + 1 > self.graph.capacity() {
            self.graph.reserve((self.graph.capacity() * 2).max(1_024))?;
        }
        self.graph.add(id as u64, vector)?;
        if let Some(old) = self.by_key.insert(key, id) {
            self.entries[old].live = false;
            self.graph.remove(old as u64)?;
        }
        self.entries.push(Entry { key, meta, live: true });
        self.keep(vector);
        Ok(())
    }

    /// Changes a point's metadata without touching the graph.
    pub fn set_metadata(&mut self, key: Uuid, meta: Metadata) -> bool {
        match self.by_key.get(&key) {
            Some(&id) => {
                self.entries[id].meta = meta;
                true
            }
            None => false,
        }
    }

    /// A live point's slot: a dense number that stays the point's until its
    /// vector is replaced or it is deleted, and is never reused. Callers that
    /// keep per-point data in arrays address points by slot, which spares a
    /// hash lookup per point.
    pub fn slot(&self, key: Uuid) -> Option<usize> {
        self.by_key.get(&key).copied()
    }

    /// The metadata at a live slot.
    pub fn metadata_at(&self, slot: usize) -> Option<&Metadata> {
        self.entries.get(slot).filter(|entry| entry.live).map(|entry| &entry.meta)
    }

    /// The dot product of the vector at a live slot with `query` (its cosine
    /// similarity when both are unit vectors).
    pub fn similarity_at(&self, slot: usize, query: &[f32]) -> Option<f32> {
        let live = self.entries.get(slot).is_some_and(|entry| entry.live);
        (live && query.len() == self.config.dimensions).then(|| dot(query, self.vector(slot)))
    }

    /// About the similarity of the vector at a live slot to `query`, from
    /// the 8-bit copies: for ranking many points before scoring the best
    /// exactly with [`Self::similarity_at`].
    pub fn approximate_similarity_at(&self, slot: usize, query: &Quantised) -> Option<f32> {
        let d = self.config.dimensions;
        let live = self.entries.get(slot).is_some_and(|entry| entry.live);
        let row = self.quantised.get(slot * d..(slot + 1) * d).filter(|_| live)?;
        Some(dot_i8(row, &query.values) as f32 * self.scales.get(slot)? * query.scale)
    }

    /// The key at a live slot.
    pub fn key_at(&self, slot: usize) -> Option<Uuid> {
        self.entries.get(slot).filter(|entry| entry.live).map(|entry| entry.key)
    }

    pub fn delete(&mut self, key: Uuid) -> Result<bool, IndexError> {
        let Some(id) = self.by_key.remove(&key) else { return Ok(false) };
        self.entries[id].live = false;
        self.graph.remove(id as u64)?;
        Ok(true)
    }

    /// The `k` live points most similar to `query` that pass `filter`, best
    /// first, with exact similarities. The filter is checked inside the graph walk, so the walk goes
    /// on until it has k passing points; tiny indexes and filters that
    /// almost nothing passes are answered by an exact scan instead.
    pub fn search(&self, query: &[f32], k: usize, filter: &Filter) -> Result<Vec<Hit>, IndexError> {
        if query.len() != self.config.dimensions {
            return Err(IndexError::Dimensions {
                expected: self.config.dimensions,
                got: query.len(),
            });
        }
        if k == 0 || self.is_empty() {
            return Ok(Vec::new());
        }
        if self.len() < self.config.exact_below || self.selective(filter) {
            return Ok(self.exact(query, k, filter));
        }
        let matches = if filter.is_empty() {
            self.graph.search(query, k)?
        } else {
            let entries = &self.entries;
            self.graph.filtered_search(query, k, |id| {
                entries.get(id as usize).is_some_and(|e| e.live && filter.matches(&e.meta))
            })?
        };
        // Scores from the full-precision copy: the graph's distances are of
        // its own copy, which may be bf16.
        let mut hits: Vec<Hit> = matches
            .keys
            .iter()
            .filter_map(|&id| {
                let slot = usize::try_from(id).ok()?;
                let entry = self.entries.get(slot).filter(|e| e.live)?;
                Some(Hit { key: entry.key, slot, score: dot(query, self.vector(slot)) })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(hits)
    }

    /// Whether so few points pass `filter` that a scan beats the graph
    /// (estimated on a sample of up to 1,000 entries).
    fn selective(&self, filter: &Filter) -> bool {
        if filter.is_empty() {
            return false;
        }
        let step = (self.entries.len() / 1_000).max(1);
        let (mut seen, mut passing) = (0usize, 0usize);
        for entry in self.entries.iter().step_by(step).filter(|e| e.live) {
            seen += 1;
            passing += usize::from(filter.matches(&entry.meta));
        }
        seen > 0 && (passing as f64) < self.config.exact_selectivity * seen as f64
    }

    /// Brute force over the live points that pass `filter`.
    pub fn exact(&self, query: &[f32], k: usize, filter: &Filter) -> Vec<Hit> {
        let mut hits: Vec<Hit> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.live && filter.matches(&e.meta))
            .map(|(slot, e)| Hit { key: e.key, slot, score: dot(query, self.vector(slot)) })
            .collect();
        let k = k.min(hits.len());
        if k == 0 {
            return Vec::new();
        }
        hits.select_nth_unstable_by(k - 1, |a, b| b.score.total_cmp(&a.score));
        hits.truncate(k);
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits
    }

    /// Writes the graph and the entries into `dir` (replacing a snapshot there).
    pub fn save(&self, dir: &Path) -> Result<(), IndexError> {
        let err =
            |e: &dyn std::fmt::Display| IndexError::Snapshot(format!("{}: {e}", dir.display()));
        let staging = dir.with_extension("saving");
        let _ = fs::remove_dir_all(&staging);
        fs::create_dir_all(&staging).map_err(|e| err(&e))?;
        let graph_path = staging.join("graph.usearch");
        self.graph.save(&graph_path.to_string_lossy())?;
        let file = fs::File::create(staging.join("entries.bin")).map_err(|e| err(&e))?;
        let mut out = BufWriter::new(file);
        let header =
            serde_json::to_vec(&(&self.config.dimensions, &self.config.precision, &self.entries))
                .map_err(|e| err(&e))?;
        out.write_all(&(header.len() as u64).to_le_bytes()).map_err(|e| err(&e))?;
        out.write_all(&header).map_err(|e| err(&e))?;
        for x in &self.vectors {
            out.write_all(&x.to_le_bytes()).map_err(|e| err(&e))?;
        }
        out.flush().map_err(|e| err(&e))?;
        let _ = fs::remove_dir_all(dir);
        fs::rename(&staging, dir).map_err(|e| err(&e))
    }

    /// Reads a snapshot written by [`Self::save`].
    pub fn load(config: IndexConfig, dir: &Path) -> Result<Self, IndexError> {
        let err =
            |e: &dyn std::fmt::Display| IndexError::Snapshot(format!("{}: {e}", dir.display()));
        let file = fs::File::open(dir.join("entries.bin")).map_err(|e| err(&e))?;
        let mut input = BufReader::new(file);
        let mut len = [0u8; 8];
        input.read_exact(&mut len).map_err(|e| err(&e))?;
        let header_len = usize::try_from(u64::from_le_bytes(len)).map_err(|e| err(&e))?;
        let mut header = Vec::new();
        (&mut input).take(header_len as u64).read_to_end(&mut header).map_err(|e| err(&e))?;
        let (dimensions, precision, entries): (usize, GraphPrecision, Vec<Entry>) =
            serde_json::from_slice(&header).map_err(|e| err(&e))?;
        if dimensions != config.dimensions {
            return Err(IndexError::Dimensions { expected: config.dimensions, got: dimensions });
        }
        if precision != config.precision {
            return Err(err(&format!(
                "graph stored as {precision:?}, wanted {:?}",
                config.precision
            )));
        }
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes).map_err(|e| err(&e))?;
        if bytes.len() != entries.len() * dimensions * 4 {
            return Err(err(&"vectors do not match the entries"));
        }
        let vectors: Vec<f32> =
            bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        let (mut quantised, mut scales) = (Vec::with_capacity(vectors.len()), Vec::new());
        for row in vectors.chunks_exact(dimensions.max(1)) {
            let Quantised { values, scale } = Quantised::of(row);
            quantised.extend_from_slice(&values);
            scales.push(scale);
        }
        let graph = new_graph(&config)?;
        graph.load(&dir.join("graph.usearch").to_string_lossy())?;
        graph.change_expansion_search(config.ef_search);
        let ef_search = config.ef_search;
        let by_key: HashMap<Uuid, usize> =
            entries.iter().enumerate().filter(|(_, e)| e.live).map(|(id, e)| (e.key, id)).collect();
        if graph.size() != by_key.len() {
            return Err(err(&"graph and entries disagree"));
        }
        let mut index =
            Self { config, ef_search, graph, entries, vectors, quantised, scales, by_key };
        if let Some(target) = index.config.calibrate_to {
            index.calibrate(target)?;
        }
        Ok(index)
    }
}
