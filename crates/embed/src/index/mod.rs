//! An in-process nearest-neighbour index over unit vectors (job and profile
//! embeddings), with metadata filters applied during the search.
//!
//! The graph is USearch's HNSW (`usearch`; inner-product metric on unit
//! vectors). We chose it after measuring `hnsw_rs`: its filtered search gives
//! up HNSW's early stop and walks nearly the whole graph (15 queries/s at
//! 100k points), and its plain search was slow (56 queries/s at ef 400).
//! USearch takes a predicate into its graph walk, removes points, and saves
//! and loads its graph. Around it we keep:
//! - the entries (key, metadata) by internal id, which is never reused, so
//!   a replaced vector cannot be confused with its successor;
//! - the same metadata as dense facets ([`filter`]), which filters read
//!   without touching a string, with each point's live flag;
//! - a flat copy of the vectors, for exact search (tiny indexes), exact
//!   similarities and tests to check recall against (the graph's own copy
//!   may be of lower precision: [`GraphPrecision`]);
//! - an 8-bit copy ([`Quantised`]), a quarter of the size, for ranking many
//!   points roughly before the best are scored exactly: the scans that
//!   answer filters few points pass;
//! - a search width calibrated on held-out points ([`IndexConfig::calibrate_to`]);
//! - snapshots: [`VectorIndex::save`] writes USearch's file and our entries,
//!   [`VectorIndex::load`] reads both back without rebuilding the graph.

use std::collections::HashMap;
use std::fs;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use fairgig_core::progress::{Progress, Silent};
use serde::{Deserialize, Serialize};
use usearch::{Index, IndexOptions, MetricKind, ScalarKind};
use uuid::Uuid;

use crate::dot;

mod filter;

use filter::{CompiledFilter, Facets, Symbols};
pub use filter::{Filter, Metadata, RateCap};

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
    /// The recall@10 that building tunes the search width to, measured on
    /// 200 points held out of the graph until the width is set (snapshots
    /// keep it; [`VectorIndex::calibrate`] sets it anew); `None` always
    /// searches `ef_search` wide. The width is most of a
    /// search's cost, and the one that suffices depends on the data: random
    /// vectors need the widest, real embeddings cluster and need a fraction.
    pub calibrate_to: Option<f64>,
    /// Below this many live points every search is an exact scan.
    pub exact_below: usize,
    /// A filter passed by fewer than this share of the points is answered
    /// by a scan of those points without trying the graph (the walk would
    /// visit most of the graph to find k of them).
    pub exact_selectivity: f64,
    /// A filtered walk may check this many points per point the filter
    /// passes (at least 1,000) before a scan of the passing points answers
    /// instead. A check in the walk is a distance at a random place in
    /// memory, a point in the scan an 8-bit dot product in a row, several
    /// times cheaper. Infinite: walks never give up.
    pub walk_budget: f64,
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
            // A margin over the 0.95 we promise: the sample is 200 queries.
            calibrate_to: Some(0.97),
            exact_below: 5_000,
            exact_selectivity: 0.02,
            walk_budget: 0.25,
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

/// The head of a snapshot's entries file: `entries` is borrowed when
/// saving, owned when loading.
#[derive(Serialize, Deserialize)]
struct SnapshotHeader<E> {
    dimensions: usize,
    precision: GraphPrecision,
    /// The search width in use when saved (calibrated, or the configured one).
    ef_search: usize,
    entries: E,
    /// By internal id, whether the point is live (the facets' flags).
    live: Vec<bool>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct Entry {
    key: Uuid,
    meta: Metadata,
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
    /// recall@10 of the queries at that width.
    pub recall: f64,
    /// Queries measured.
    pub sample: usize,
}

/// Search widths calibration tries, narrowest first (then the configured
/// `ef_search`, the widest).
const EF_LADDER: &[usize] = &[16, 24, 32, 48, 64, 96, 128, 192, 256, 384, 512, 768, 1_024];

/// The fewest points a filtered walk may check before a scan answers
/// instead ([`IndexConfig::walk_budget`]).
const MIN_WALK_CHECKS: usize = 1_000;
/// A scan re-scores this many points per hit wanted exactly (at least
/// [`MIN_SHORTLIST`]).
const SHORTLIST_PER_HIT: usize = 4;
const MIN_SHORTLIST: usize = 64;

/// Points a build holds out of the graph to calibrate its search width on.
const CALIBRATION_QUERIES: usize = 200;
/// Calibration measures recall@10.
const CALIBRATION_K: usize = 10;

/// Up to `n` of `ids`, evenly spread over them (sorted if `ids` is).
fn spread(ids: &[usize], n: usize) -> Vec<usize> {
    ids.iter().step_by((ids.len() / n.max(1)).max(1)).take(n).copied().collect()
}

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
    /// By internal id, what filters read (derived from the entries) and
    /// whether the point is live (the one place that says so), and the
    /// strings the facets refer to.
    facets: Vec<Facets>,
    symbols: Symbols,
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
            facets: Vec::new(),
            symbols: Symbols::default(),
            by_key: HashMap::new(),
        })
    }

    /// Builds an index from many points at once, adding on every core.
    /// With `calibrate_to`, a sample of the points is held out of the graph
    /// until the others are in, to calibrate the search width on: as queries
    /// they are fresh, as the index's real queries will be.
    pub fn build(
        config: IndexConfig,
        points: Vec<(Uuid, Vec<f32>, Metadata)>,
    ) -> Result<Self, IndexError> {
        Self::build_reporting(config, points, &Silent)
    }

    /// [`VectorIndex::build`], reporting its stages and the points added
    /// to `progress` (the command line draws them as bars).
    pub fn build_reporting(
        config: IndexConfig,
        points: Vec<(Uuid, Vec<f32>, Metadata)>,
        progress: &dyn Progress,
    ) -> Result<Self, IndexError> {
        let mut index = Self::new(config)?;
        for (key, vector, meta) in points {
            index.check(&vector)?;
            if let Some(old) = index.by_key.insert(key, index.entries.len()) {
                index.retire(old);
            }
            index.push(key, &vector, meta);
        }
        index.graph.reserve(index.entries.len())?;
        let live: Vec<usize> = (0..index.entries.len()).filter(|&id| index.is_live(id)).collect();
        let target = index.config.calibrate_to.filter(|_| live.len() >= index.config.exact_below);
        let held: Vec<usize> = match target {
            Some(_) => spread(&live, CALIBRATION_QUERIES),
            None => Vec::new(),
        };
        let rest: Vec<usize> =
            live.iter().copied().filter(|id| held.binary_search(id).is_err()).collect();
        progress.stage("adding points", Some(rest.len() as u64));
        index.add_in_parallel(&rest, progress)?;
        if let Some(target) = target {
            progress.stage("calibrating the search width", None);
            let queries: Vec<&[f32]> = held.iter().map(|&id| index.vector(id)).collect();
            let truths = index.nearest(&queries, CALIBRATION_K, &held);
            let settled = index.settle_width(&queries, &truths, target)?;
            index.set_ef_search(settled.ef_search);
            progress.stage("adding the calibration points", Some(held.len() as u64));
            index.add_in_parallel(&held, progress)?;
        }
        Ok(index)
    }

    /// Adds the points at `ids` to the graph, split over the cores, telling
    /// `progress` every [`REPORT_EVERY`] points (not each: the workers
    /// would queue on the bar's lock).
    fn add_in_parallel(&self, ids: &[usize], progress: &dyn Progress) -> Result<(), IndexError> {
        const REPORT_EVERY: usize = 1024;
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        std::thread::scope(|scope| {
            let workers: Vec<_> = ids
                .chunks(ids.len().div_ceil(threads).max(1))
                .map(|chunk| {
                    scope.spawn(move || -> Result<(), IndexError> {
                        for part in chunk.chunks(REPORT_EVERY) {
                            for &id in part {
                                self.graph.add(id as u64, self.vector(id))?;
                            }
                            progress.advance(part.len() as u64);
                        }
                        Ok(())
                    })
                })
                .collect();
            workers.into_iter().try_for_each(|w| {
                w.join().unwrap_or_else(|_| Err(IndexError::Engine("build thread panicked".into())))
            })
        })
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
    /// live points of `queries`. The queries should be like the ones the
    /// index will get: its own points make poor ones, since each sits in the
    /// graph beside its neighbours (at 1M clustered points they promised
    /// recall 0.976 where fresh queries got 0.937). Below `exact_below`
    /// points nothing changes: every search is a scan.
    pub fn calibrate(
        &mut self,
        queries: &[Vec<f32>],
        target: f64,
    ) -> Result<Option<Calibration>, IndexError> {
        if self.len() < self.config.exact_below || queries.is_empty() {
            return Ok(None);
        }
        for query in queries {
            self.check(query)?;
        }
        let queries: Vec<&[f32]> = queries.iter().map(Vec::as_slice).collect();
        let truths = self.nearest(&queries, CALIBRATION_K, &[]);
        let settled = self.settle_width(&queries, &truths, target)?;
        self.set_ef_search(settled.ef_search);
        Ok(Some(settled))
    }

    /// The narrowest width on the ladder whose searches for `queries` find
    /// `target` of `truths` (the widest if none does). Leaves the graph's
    /// width changed: the caller sets the one to keep.
    fn settle_width(
        &self,
        queries: &[&[f32]],
        truths: &[Vec<usize>],
        target: f64,
    ) -> Result<Calibration, IndexError> {
        let ceiling = self.config.ef_search.max(CALIBRATION_K);
        let ladder = EF_LADDER.iter().copied().filter(|&ef| ef < ceiling).chain([ceiling]);
        let mut settled = Calibration { ef_search: ceiling, recall: 0.0, sample: queries.len() };
        for ef in ladder {
            self.graph.change_expansion_search(ef);
            let (mut found, mut wanted) = (0usize, 0usize);
            for (query, truth) in queries.iter().zip(truths) {
                let got = self.graph.search(query, CALIBRATION_K)?;
                found += got.keys.iter().filter(|&&g| truth.contains(&(g as usize))).count();
                wanted += truth.len();
            }
            settled.ef_search = ef;
            settled.recall = found as f64 / wanted.max(1) as f64;
            tracing::trace!(ef, recall = settled.recall, "vector index width tried");
            if settled.recall >= target {
                break;
            }
        }
        tracing::debug!(
            points = self.len(),
            ef_search = settled.ef_search,
            recall = settled.recall,
            queries = settled.sample,
            "vector index search width calibrated"
        );
        Ok(settled)
    }

    /// The exact `k` nearest live points of each query, by internal id,
    /// leaving out the ids in `skip` (sorted); a scan per query, split over
    /// the cores.
    fn nearest(&self, queries: &[&[f32]], k: usize, skip: &[usize]) -> Vec<Vec<usize>> {
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        std::thread::scope(|scope| {
            let workers: Vec<_> = queries
                .chunks(queries.len().div_ceil(threads).max(1))
                .map(|chunk| {
                    scope.spawn(move || {
                        chunk
                            .iter()
                            .map(|query| {
                                // At most `skip.len()` of the nearest are left out.
                                self.exact(query, k + skip.len(), &Filter::default())
                                    .into_iter()
                                    .map(|hit| hit.slot)
                                    .filter(|slot| skip.binary_search(slot).is_err())
                                    .take(k)
                                    .collect::<Vec<usize>>()
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            // A lost chunk would pair the next chunk's neighbours with the
            // wrong queries: a panic in a scan goes on up instead.
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

    /// Appends a live point under the next internal id: its entry, facets
    /// and both copies of its vector (the caller maps its key and adds it to
    /// the graph).
    fn push(&mut self, key: Uuid, vector: &[f32], meta: Metadata) {
        self.facets.push(Facets::of(&meta, true, &mut self.symbols));
        self.entries.push(Entry { key, meta });
        self.vectors.extend_from_slice(vector);
        let Quantised { values, scale } = Quantised::of(vector);
        self.quantised.extend_from_slice(&values);
        self.scales.push(scale);
    }

    /// Marks a point dead (not in the graph).
    fn retire(&mut self, id: usize) {
        self.facets[id].live = false;
    }

    /// Whether an internal id is a live point.
    fn is_live(&self, id: usize) -> bool {
        self.facets.get(id).is_some_and(|facets| facets.live)
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
            self.retire(old);
            self.graph.remove(old as u64)?;
        }
        self.push(key, vector, meta);
        Ok(())
    }

    /// Changes a point's metadata without touching the graph.
    pub fn set_metadata(&mut self, key: Uuid, meta: Metadata) -> bool {
        match self.by_key.get(&key) {
            Some(&id) => {
                self.facets[id] = Facets::of(&meta, true, &mut self.symbols);
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
        self.entries.get(slot).filter(|_| self.is_live(slot)).map(|entry| &entry.meta)
    }

    /// The dot product of the vector at a live slot with `query` (its cosine
    /// similarity when both are unit vectors).
    pub fn similarity_at(&self, slot: usize, query: &[f32]) -> Option<f32> {
        (self.is_live(slot) && query.len() == self.config.dimensions)
            .then(|| dot(query, self.vector(slot)))
    }

    /// About the similarity of the vector at a live slot to `query`, from
    /// the 8-bit copies: for ranking many points before scoring the best
    /// exactly with [`Self::similarity_at`].
    pub fn approximate_similarity_at(&self, slot: usize, query: &Quantised) -> Option<f32> {
        let d = self.config.dimensions;
        let row = self.quantised.get(slot * d..(slot + 1) * d).filter(|_| self.is_live(slot))?;
        Some(dot_i8(row, &query.values) as f32 * self.scales.get(slot)? * query.scale)
    }

    /// The key at a live slot.
    pub fn key_at(&self, slot: usize) -> Option<Uuid> {
        self.entries.get(slot).filter(|_| self.is_live(slot)).map(|entry| entry.key)
    }

    pub fn delete(&mut self, key: Uuid) -> Result<bool, IndexError> {
        let Some(id) = self.by_key.remove(&key) else { return Ok(false) };
        self.retire(id);
        self.graph.remove(id as u64)?;
        Ok(true)
    }

    /// The `k` live points most similar to `query` that pass `filter`, best
    /// first, with exact similarities. The filter is checked inside the graph
    /// walk, so the walk goes on until it has k passing points. Tiny indexes
    /// are answered by an exact scan; filters few points pass, by a scan of
    /// those points ([`Self::scan`]); and so is a filtered walk that has
    /// checked more points than such a scan would rank: it has left the
    /// query's neighbourhood for want of passing points there, and would go
    /// on through most of the graph (at 1M clustered points, 8 queries/s
    /// with a 10 % filter).
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
        if self.len() < self.config.exact_below {
            return Ok(self.exact(query, k, filter));
        }
        if filter.is_empty() {
            let matches = self.graph.search(query, k)?;
            return Ok(self.scored(query, &matches.keys));
        }
        let filter = CompiledFilter::new(filter, &self.symbols);
        let passing = self.passing_share(&filter) * self.len() as f64;
        if passing < self.config.exact_selectivity * self.len() as f64 {
            return Ok(self.scan(query, k, &filter));
        }
        // Saturates: an infinite budget is usize::MAX.
        let budget = ((passing * self.config.walk_budget) as usize).max(MIN_WALK_CHECKS);
        let checked = std::cell::Cell::new(0usize);
        let matches = self.graph.filtered_search(query, k, |id| {
            checked.set(checked.get() + 1);
            // Past the budget every point passes, which fills the walk's
            // list and ends it at once; its answer is then not used.
            checked.get() > budget
                || self.facets.get(id as usize).is_some_and(|facets| filter.admits(facets))
        })?;
        if checked.get() > budget {
            return Ok(self.scan(query, k, &filter));
        }
        Ok(self.scored(query, &matches.keys))
    }

    /// Hits for the graph's answer, scored on the full-precision copy (the
    /// graph's distances are of its own copy, which may be bf16), best first.
    fn scored(&self, query: &[f32], ids: &[u64]) -> Vec<Hit> {
        let mut hits: Vec<Hit> = ids
            .iter()
            .filter_map(|&id| {
                let slot = usize::try_from(id).ok()?;
                let entry = self.entries.get(slot).filter(|_| self.is_live(slot))?;
                Some(Hit { key: entry.key, slot, score: dot(query, self.vector(slot)) })
            })
            .collect();
        hits.sort_by(|a, b| b.score.total_cmp(&a.score));
        hits
    }

    /// About the share of live points that pass `filter` (from a sample of
    /// up to 1,000 entries).
    fn passing_share(&self, filter: &CompiledFilter) -> f64 {
        let step = (self.facets.len() / 1_000).max(1);
        let (mut seen, mut passing) = (0usize, 0usize);
        for facets in self.facets.iter().step_by(step).filter(|f| f.live) {
            seen += 1;
            passing += usize::from(filter.admits(facets));
        }
        passing as f64 / seen.max(1) as f64
    }

    /// The `k` best live points that pass `filter`, ranked on the 8-bit copy
    /// (a quarter of the memory to read) and the best few re-scored exactly.
    /// The 8-bit error (a few thousandths) is far smaller than the gap between
    /// the k-th and the shortlist's last similarity, so the answer is the
    /// exact one but for near-ties.
    fn scan(&self, query: &[f32], k: usize, filter: &CompiledFilter) -> Vec<Hit> {
        let d = self.config.dimensions;
        let rough = Quantised::of(query);
        let mut ranked: Vec<(f32, usize)> = self
            .facets
            .iter()
            .enumerate()
            .filter(|(_, facets)| filter.admits(facets))
            .map(|(slot, _)| {
                let row = &self.quantised[slot * d..(slot + 1) * d];
                (dot_i8(row, &rough.values) as f32 * self.scales[slot], slot)
            })
            .collect();
        let shortlist = (k * SHORTLIST_PER_HIT).max(MIN_SHORTLIST).min(ranked.len());
        if shortlist == 0 {
            return Vec::new();
        }
        ranked.select_nth_unstable_by(shortlist - 1, |a, b| b.0.total_cmp(&a.0));
        self.best_exact(query, k, ranked[..shortlist].iter().map(|&(_, slot)| slot))
    }

    /// Brute force over the live points that pass `filter`.
    pub fn exact(&self, query: &[f32], k: usize, filter: &Filter) -> Vec<Hit> {
        let filter = CompiledFilter::new(filter, &self.symbols);
        let passing = self.facets.iter().enumerate().filter(|(_, f)| filter.admits(f));
        self.best_exact(query, k, passing.map(|(slot, _)| slot))
    }

    /// The `k` of `slots` most similar to `query` by the full-precision copy,
    /// best first.
    fn best_exact(&self, query: &[f32], k: usize, slots: impl Iterator<Item = usize>) -> Vec<Hit> {
        let mut hits: Vec<Hit> = slots
            .map(|slot| Hit {
                key: self.entries[slot].key,
                slot,
                score: dot(query, self.vector(slot)),
            })
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
        let header = serde_json::to_vec(&SnapshotHeader {
            dimensions: self.config.dimensions,
            precision: self.config.precision,
            ef_search: self.ef_search,
            entries: &self.entries,
            live: self.facets.iter().map(|facets| facets.live).collect(),
        })
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
        let SnapshotHeader { dimensions, precision, ef_search: saved_ef, entries, live } =
            serde_json::from_slice::<SnapshotHeader<Vec<Entry>>>(&header).map_err(|e| err(&e))?;
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
        if live.len() != entries.len() {
            return Err(err(&"live flags do not match the entries"));
        }
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
        // The calibrated width is the data's; a fixed one is the config's.
        let ef_search = match config.calibrate_to {
            Some(_) => saved_ef.clamp(CALIBRATION_K, config.ef_search.max(CALIBRATION_K)),
            None => config.ef_search,
        };
        graph.change_expansion_search(ef_search);
        let by_key: HashMap<Uuid, usize> =
            (0..entries.len()).filter(|&id| live[id]).map(|id| (entries[id].key, id)).collect();
        if graph.size() != by_key.len() {
            return Err(err(&"graph and entries disagree"));
        }
        let mut symbols = Symbols::default();
        let facets = entries
            .iter()
            .zip(live)
            .map(|(e, live)| Facets::of(&e.meta, live, &mut symbols))
            .collect();
        Ok(Self {
            config,
            ef_search,
            graph,
            entries,
            vectors,
            quantised,
            scales,
            facets,
            symbols,
            by_key,
        })
    }
}
