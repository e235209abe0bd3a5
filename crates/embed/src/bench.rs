//! `fairgig bench embed`: sentences per second of the local model.
//!
//! Batches of 64 texts, as the API takes them, of two kinds: short (~15
//! tokens, a job title with a line of detail) and long (~128 tokens, a
//! paragraph of a job post). Texts are generated from a fixed word list with
//! a fixed seed, so every run embeds the same inputs.

use std::time::{Duration, Instant};

use fairgig_core::progress::Progress;

use crate::local::LocalModel;
use crate::EmbedError;

const WORDS: &[&str] = &[
    "senior",
    "rust",
    "developer",
    "remote",
    "backend",
    "payments",
    "platform",
    "designer",
    "illustrator",
    "translation",
    "german",
    "english",
    "marketing",
    "campaign",
    "budget",
    "deadline",
    "weeks",
    "experience",
    "years",
    "team",
    "startup",
    "logo",
    "brand",
    "mobile",
    "app",
    "android",
    "ios",
    "website",
    "shop",
    "data",
    "analysis",
    "python",
    "dashboard",
    "reports",
    "copywriting",
    "articles",
    "video",
    "editing",
    "podcast",
    "audio",
    "accounting",
    "invoices",
    "legal",
    "contract",
    "review",
    "customer",
    "support",
    "tickets",
    "api",
    "integration",
    "database",
    "migration",
    "cloud",
    "security",
    "audit",
    "testing",
    "automation",
    "writing",
];

/// Deterministic text of about `tokens` word-piece tokens.
fn text(seed: &mut u64, tokens: usize) -> String {
    let mut words = Vec::new();
    // Most of these words are one token; punctuation adds a few.
    while words.len() < tokens.saturating_sub(4) {
        *seed =
            seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        words.push(WORDS[(*seed >> 33) as usize % WORDS.len()]);
    }
    format!("{}.", words.join(" "))
}

/// What one kind of batch measured.
#[derive(Debug)]
pub struct Figure {
    pub label: &'static str,
    pub mean_tokens: f64,
    pub sentences_per_sec: f64,
    pub batch_p50: Duration,
}

/// Embeds `batches` batches of 64 texts of each kind after one warm-up batch.
pub fn run(model: &LocalModel, batches: usize) -> Result<Vec<Figure>, EmbedError> {
    let mut seed = 42;
    let mut figures = Vec::new();
    for (label, tokens) in [("short", 15), ("long", 128)] {
        let sets: Vec<Vec<String>> =
            (0..=batches).map(|_| (0..64).map(|_| text(&mut seed, tokens)).collect()).collect();
        let mut token_total = 0usize;
        for t in sets.iter().flatten() {
            token_total += model.token_count(t)?;
        }
        let mut times = Vec::with_capacity(batches);
        for (i, set) in sets.iter().enumerate() {
            let refs: Vec<&str> = set.iter().map(String::as_str).collect();
            let start = Instant::now();
            model.embed(&refs)?;
            if i > 0 {
                times.push(start.elapsed());
            }
        }
        let total: Duration = times.iter().sum();
        times.sort();
        figures.push(Figure {
            label,
            mean_tokens: token_total as f64 / (sets.len() * 64) as f64,
            sentences_per_sec: (batches * 64) as f64 / total.as_secs_f64(),
            batch_p50: times[times.len() / 2],
        });
    }
    Ok(figures)
}

/// The vectors an index benchmark runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Data {
    /// Uniform on the sphere: no neighbourhood structure at all, so a
    /// point's true neighbours are barely nearer than the rest (HNSW's worst
    /// case, and no embedding model's output).
    Random,
    /// A mixture of 1 cluster per 100 points, centres uniform on the
    /// sphere, each point at a cosine of about 0.7 from its centre (two
    /// points of a cluster about 0.5, of two clusters about 0): the shape of
    /// embedded texts that fall into topics. Queries come from the same
    /// clusters.
    Clustered,
}

impl Data {
    pub fn label(self) -> &'static str {
        match self {
            Self::Random => "random",
            Self::Clustered => "clustered",
        }
    }
}

/// What the index benchmark measured at one size.
#[derive(Debug)]
pub struct IndexFigure {
    pub points: usize,
    /// The kind of vectors.
    pub data: &'static str,
    pub build: Duration,
    /// Growth of the process's resident memory while building.
    pub memory_bytes: u64,
    /// The search width calibration settled on.
    pub ef_search: usize,
    pub queries_per_sec_one_core: f64,
    pub recall_at_10: f64,
    pub filtered_queries_per_sec_one_core: f64,
    pub filtered_recall_at_10: f64,
}

/// A standard normal vector of `dims` components (Box-Muller).
fn gaussian(rng: &mut rand::rngs::StdRng, dims: usize) -> Vec<f32> {
    use rand::Rng;
    (0..dims)
        .map(|_| {
            let (u1, u2): (f32, f32) = (rng.gen_range(f32::EPSILON..1.0), rng.gen());
            (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
        })
        .collect()
}

/// A unit vector uniform on the sphere (a normalised Gaussian).
pub fn random_unit(rng: &mut rand::rngs::StdRng, dims: usize) -> Vec<f32> {
    let mut v = gaussian(rng, dims);
    crate::l2_normalise(&mut v);
    v
}

/// `count` unit vectors of `data`'s kind; `seed` picks the points, the
/// clusters are the same for every seed.
pub fn vectors(data: Data, count: usize, clusters: usize, dims: usize, seed: u64) -> Vec<Vec<f32>> {
    use rand::{rngs::StdRng, Rng, SeedableRng};
    let mut rng = StdRng::seed_from_u64(seed);
    let unit = |mut v: Vec<f32>| {
        crate::l2_normalise(&mut v);
        v
    };
    match data {
        Data::Random => (0..count).map(|_| random_unit(&mut rng, dims)).collect(),
        Data::Clustered => {
            let mut centre_rng = StdRng::seed_from_u64(0);
            let centres: Vec<Vec<f32>> =
                (0..clusters.max(1)).map(|_| random_unit(&mut centre_rng, dims)).collect();
            // Noise of length about 1 around a unit centre: cosine ~ 1/sqrt(2).
            let spread = 1.0 / (dims as f32).sqrt();
            (0..count)
                .map(|_| {
                    let centre = &centres[rng.gen_range(0..centres.len())];
                    let noise = gaussian(&mut rng, dims);
                    unit(centre.iter().zip(noise).map(|(c, n)| c + spread * n).collect())
                })
                .collect()
        }
    }
}

fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1).and_then(|pages| pages.parse::<u64>().ok()))
        .map_or(0, |pages| pages * 4096)
}

/// [`index_on`] `points` unit vectors of `data`'s kind, queried with 1,000
/// more of the same kind.
pub fn index(
    points: usize,
    data: Data,
    config: crate::index::IndexConfig,
    progress: &dyn Progress,
) -> Result<IndexFigure, crate::index::IndexError> {
    let (dims, clusters) = (config.dimensions, points.div_ceil(100));
    let base = vectors(data, points, clusters, dims, 1);
    index_on(base, vectors(data, 1_000, clusters, dims, 2), data.label(), config, progress)
}

/// Builds an index of the `base` unit vectors, shaped by `config` (10
/// regions; the build calibrates its search width when the config asks),
/// and times `queries` on one thread, unfiltered and with a 10 % filter;
/// recall@10 against exact search on 100 of them. The build's stages go to
/// `progress`.
pub fn index_on(
    base: Vec<Vec<f32>>,
    queries: Vec<Vec<f32>>,
    data: &'static str,
    config: crate::index::IndexConfig,
    progress: &dyn Progress,
) -> Result<IndexFigure, crate::index::IndexError> {
    use crate::index::{Filter, Metadata, VectorIndex};

    let points = base.len();
    let before = resident_bytes();
    let data_points: Vec<_> = base
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let meta = Metadata { region: Some(format!("R{}", i % 10)), ..Metadata::default() };
            (uuid::Uuid::from_u128(i as u128 + 1), v, meta)
        })
        .collect();
    let start = Instant::now();
    let index = VectorIndex::build_reporting(config, data_points, progress)?;
    let build = start.elapsed();
    progress.stage("querying", None);
    let memory_bytes = resident_bytes().saturating_sub(before);

    let filter = Filter { regions: Some(vec!["R3".into()]), ..Filter::default() };
    let mut figure = IndexFigure {
        points,
        data,
        build,
        memory_bytes,
        ef_search: index.ef_search(),
        queries_per_sec_one_core: 0.0,
        recall_at_10: 0.0,
        filtered_queries_per_sec_one_core: 0.0,
        filtered_recall_at_10: 0.0,
    };
    for (filter, qps, recall) in [
        (Filter::default(), &mut figure.queries_per_sec_one_core, &mut figure.recall_at_10),
        (filter, &mut figure.filtered_queries_per_sec_one_core, &mut figure.filtered_recall_at_10),
    ] {
        let start = Instant::now();
        let mut answers = Vec::with_capacity(queries.len());
        for q in &queries {
            answers.push(index.search(q, 10, &filter)?);
        }
        *qps = queries.len() as f64 / start.elapsed().as_secs_f64();
        let (mut found, mut wanted) = (0, 0);
        for (q, got) in queries.iter().zip(&answers).take(100) {
            let truth = index.exact(q, 10, &filter);
            found += got.iter().filter(|h| truth.iter().any(|t| t.key == h.key)).count();
            wanted += truth.len();
        }
        *recall = found as f64 / wanted.max(1) as f64;
    }
    Ok(figure)
}
