//! The vector index against brute force, and its bookkeeping.

use fairgig_embed::index::{
    Filter, GraphPrecision, IndexConfig, Metadata, Quantised, RateCap, VectorIndex,
};
use rand::{rngs::StdRng, SeedableRng};
use uuid::Uuid;

const DIMS: usize = 384;

fn unit(rng: &mut StdRng) -> Vec<f32> {
    fairgig_embed::bench::random_unit(rng, DIMS)
}

fn meta(i: usize) -> Metadata {
    Metadata {
        region: Some(format!("R{}", i % 10)),
        available: i.is_multiple_of(2),
        rate_minor: Some((i % 100) as i64 * 100),
        currency: Some("EUR".into()),
        status: if i.is_multiple_of(3) { "closed".into() } else { "open".into() },
    }
}

fn recall(index: &VectorIndex, queries: &[Vec<f32>], filter: &Filter) -> f64 {
    let mut found = 0;
    for q in queries {
        let truth: Vec<Uuid> = index.exact(q, 10, filter).into_iter().map(|h| h.key).collect();
        let got = index.search(q, 10, filter).expect("search");
        assert!(got.windows(2).all(|w| w[0].score >= w[1].score), "best first");
        found += got.iter().filter(|h| truth.contains(&h.key)).count();
    }
    found as f64 / (queries.len() * 10) as f64
}

#[test]
fn recall_at_10_on_50k_random_unit_vectors() {
    let mut rng = StdRng::seed_from_u64(7);
    let points: Vec<(Uuid, Vec<f32>, Metadata)> =
        (0..50_000).map(|i| (Uuid::from_u128(i as u128 + 1), unit(&mut rng), meta(i))).collect();
    let index = VectorIndex::build(IndexConfig::new(DIMS), points).expect("build");
    let queries: Vec<Vec<f32>> = (0..100).map(|_| unit(&mut rng)).collect();

    let all = recall(&index, &queries, &Filter::default());
    // Region R3 is 10 % of the points.
    let one_region = Filter { regions: Some(vec!["R3".into()]), ..Filter::default() };
    let filtered = recall(&index, &queries, &one_region);
    println!("recall@10 on 50k: {all:.3} unfiltered, {filtered:.3} with a 10 % filter");
    assert!(all >= 0.95, "recall {all}");
    assert!(filtered >= 0.95, "filtered recall {filtered}");

    for hit in index.search(&queries[0], 10, &one_region).expect("search") {
        let i = hit.key.as_u128() as usize - 1;
        assert_eq!(i % 10, 3, "only region R3 comes back");
    }
}

#[test]
fn filters_combine_and_match_exactly() {
    let f = Filter {
        regions: Some(vec!["de".into(), "FR".into()]),
        or_no_region: false,
        available: Some(true),
        rate_min: Some(1_000),
        rate_max: Some(5_000),
        rate_cap: None,
        status: Some("open".into()),
    };
    let ok = Metadata {
        region: Some("DE".into()),
        available: true,
        rate_minor: Some(2_000),
        currency: Some("EUR".into()),
        status: "open".into(),
    };
    assert!(f.matches(&ok));
    for bad in [
        Metadata { region: Some("IT".into()), ..ok.clone() },
        Metadata { region: None, ..ok.clone() },
        Metadata { available: false, ..ok.clone() },
        Metadata { rate_minor: Some(999), ..ok.clone() },
        Metadata { rate_minor: Some(5_001), ..ok.clone() },
        Metadata { rate_minor: None, ..ok.clone() },
        Metadata { status: "closed".into(), ..ok.clone() },
    ] {
        assert!(!f.matches(&bad), "{bad:?}");
    }
    assert!(Filter::default().matches(&Metadata::default()));
    let or_none = Filter { or_no_region: true, ..f.clone() };
    assert!(or_none.matches(&Metadata { region: None, ..ok.clone() }), "no region passes");
    assert!(!or_none.matches(&Metadata { region: Some("IT".into()), ..ok.clone() }));
    // A budget caps rates in its currency only.
    let cap = RateCap { currency: "EUR".into(), max_minor: 2_500.0 };
    let capped = Filter { rate_cap: Some(cap), ..Filter::default() };
    let rate = |minor: i64, currency: Option<&str>| Metadata {
        rate_minor: Some(minor),
        currency: currency.map(str::to_owned),
        ..Metadata::default()
    };
    assert!(capped.matches(&rate(2_500, Some("EUR"))));
    assert!(!capped.matches(&rate(2_501, Some("EUR"))));
    assert!(capped.matches(&rate(9_000, Some("USD"))), "not comparable");
    assert!(capped.matches(&rate(9_000, None)) && capped.matches(&Metadata::default()));
}

#[test]
fn upsert_delete_and_snapshot() {
    let mut rng = StdRng::seed_from_u64(11);
    let mut config = IndexConfig::new(DIMS);
    config.exact_below = 100; // exercise the graph path on a small index
    let mut index = VectorIndex::new(config.clone()).expect("new");
    let keys: Vec<Uuid> = (0..2_000).map(|i| Uuid::from_u128(i + 1)).collect();
    let mut vectors = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let v = unit(&mut rng);
        index.upsert(*key, &v, meta(i)).expect("upsert");
        vectors.push(v);
    }
    assert_eq!(index.len(), 2_000);
    // A point finds itself first.
    let top = index.search(&vectors[42], 1, &Filter::default()).expect("search");
    assert_eq!(top[0].key, keys[42]);
    assert!((top[0].score - 1.0).abs() < 1e-4);

    // Replacing a vector: the old one is gone, the new one found.
    let moved = unit(&mut rng);
    index.upsert(keys[42], &moved, meta(42)).expect("replace");
    assert_eq!(index.len(), 2_000);
    assert_ne!(index.search(&vectors[42], 1, &Filter::default()).expect("search")[0].key, keys[42]);
    assert_eq!(index.search(&moved, 1, &Filter::default()).expect("search")[0].key, keys[42]);

    // Deleting.
    assert!(index.delete(keys[7]).expect("delete"));
    assert!(!index.delete(keys[7]).expect("delete"));
    assert!(index
        .search(&vectors[7], 5, &Filter::default())
        .expect("search")
        .iter()
        .all(|h| h.key != keys[7]));
    for key in &keys[100..700] {
        index.delete(*key).expect("delete");
    }
    assert_eq!(index.len(), 2_000 - 601);
    assert_eq!(
        index.search(&vectors[1_500], 1, &Filter::default()).expect("search")[0].key,
        keys[1_500]
    );

    // Metadata changes apply to filters at once.
    let closed = Filter { status: Some("closed".into()), ..Filter::default() };
    index.set_metadata(keys[1_500], Metadata { status: "closed".into(), ..meta(1_501) });
    assert_eq!(index.search(&vectors[1_500], 1, &closed).expect("search")[0].key, keys[1_500]);

    // Snapshot round trip gives the same answers.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("index");
    index.save(&path).expect("save");
    let loaded = VectorIndex::load(config.clone(), &path).expect("load");
    assert_eq!(loaded.len(), index.len());
    for q in vectors.iter().step_by(97) {
        assert_eq!(
            loaded.search(q, 5, &closed).expect("search"),
            index.search(q, 5, &closed).expect("search")
        );
    }

    // Bad input is refused.
    assert!(index.upsert(Uuid::nil(), &[1.0; 3], Metadata::default()).is_err());
    assert!(index.upsert(Uuid::nil(), &vec![0.0; DIMS], Metadata::default()).is_err());
    assert!(index.upsert(Uuid::nil(), &vec![f32::NAN; DIMS], Metadata::default()).is_err());
    assert!(index.search(&[1.0; 3], 5, &Filter::default()).is_err());
    assert!(VectorIndex::load(config.clone(), dir.path()).is_err(), "not a snapshot");
    // A snapshot of another graph precision is refused (and so rebuilt).
    let f32_config = IndexConfig { precision: GraphPrecision::F32, ..config };
    assert!(VectorIndex::load(f32_config, &path).is_err(), "other precision");
}

#[test]
fn the_8_bit_copy_ranks_points_almost_as_the_exact_similarity_does() {
    let mut rng = StdRng::seed_from_u64(5);
    let mut index = VectorIndex::new(IndexConfig::new(DIMS)).expect("new");
    let vectors: Vec<Vec<f32>> = (0..500).map(|_| unit(&mut rng)).collect();
    for (i, v) in vectors.iter().enumerate() {
        index.upsert(Uuid::from_u128(i as u128 + 1), v, meta(i)).expect("upsert");
    }
    let query = unit(&mut rng);
    let rough = Quantised::of(&query);
    let mut worst = 0.0f32;
    for slot in 0..vectors.len() {
        let exact = index.similarity_at(slot, &query).expect("live");
        let approximate = index.approximate_similarity_at(slot, &rough).expect("live");
        worst = worst.max((exact - approximate).abs());
    }
    assert!(worst < 0.01, "largest error {worst}");
    // Itself, roughly: about 1.
    assert!((Quantised::of(&query).dot(&rough) - 1.0).abs() < 0.01);
    // A replaced or deleted point has no similarity at its old slot.
    index.delete(Uuid::from_u128(1)).expect("delete");
    assert_eq!(index.approximate_similarity_at(0, &rough), None);
    assert_eq!(index.approximate_similarity_at(10_000, &rough), None);
}

#[test]
fn an_empty_or_tiny_index_answers_exactly() {
    let mut rng = StdRng::seed_from_u64(3);
    let mut index = VectorIndex::new(IndexConfig::new(DIMS)).expect("new");
    let q = unit(&mut rng);
    assert!(index.search(&q, 10, &Filter::default()).expect("search").is_empty());
    index.upsert(Uuid::from_u128(1), &q, meta(0)).expect("upsert");
    let hits = index.search(&q, 10, &Filter::default()).expect("search");
    assert_eq!(hits.len(), 1);
    assert!(index
        .search(&q, 10, &Filter { status: Some("nope".into()), ..Filter::default() })
        .expect("search")
        .is_empty());
}

#[test]
fn calibration_narrows_the_search_on_clustered_vectors_and_keeps_recall() {
    use fairgig_embed::bench::{vectors, Data};
    let (count, clusters) = (20_000, 200);
    let points: Vec<(Uuid, Vec<f32>, Metadata)> =
        vectors(Data::Clustered, count, clusters, DIMS, 1)
            .into_iter()
            .enumerate()
            .map(|(i, v)| (Uuid::from_u128(i as u128 + 1), v, meta(i)))
            .collect();
    let widest = IndexConfig::new(DIMS).ef_search;
    let index = VectorIndex::build(IndexConfig::new(DIMS), points).expect("build");
    assert_eq!(index.len(), count, "the held-out points are in the index too");
    let settled = index.ef_search();
    assert!(settled < widest / 4, "clusters need a narrow search: ef {settled}");

    // Fresh queries from the same clusters keep the recall promised.
    let queries = vectors(Data::Clustered, 100, clusters, DIMS, 2);
    let all = recall(&index, &queries, &Filter::default());
    let one_region = Filter { regions: Some(vec!["R3".into()]), ..Filter::default() };
    let filtered = recall(&index, &queries, &one_region);
    println!("calibrated to ef {settled}: recall@10 {all:.3}, {filtered:.3} with a 10 % filter");
    assert!(all >= 0.95 && filtered >= 0.95, "recall {all}, filtered {filtered}");

    // A snapshot keeps the width; loading without calibration takes the config's.
    let dir = tempfile::tempdir().expect("temp dir");
    index.save(dir.path()).expect("save");
    let loaded = VectorIndex::load(IndexConfig::new(DIMS), dir.path()).expect("load");
    assert_eq!(loaded.ef_search(), settled);

    // Filtered walks that never give up for a scan find the neighbours too,
    // with a filter 10 % and one 30 % of the points pass.
    let walking = IndexConfig { walk_budget: f64::INFINITY, ..IndexConfig::new(DIMS) };
    let walking = VectorIndex::load(walking, dir.path()).expect("load");
    let three_regions =
        Filter { regions: Some(vec!["R0".into(), "R1".into(), "r2".into()]), ..Filter::default() };
    for filter in [&one_region, &three_regions] {
        let walked = recall(&walking, &queries, filter);
        assert!(walked >= 0.95, "walked recall {walked} with {filter:?}");
    }

    let fixed = IndexConfig { calibrate_to: None, ..IndexConfig::new(DIMS) };
    let mut loaded = VectorIndex::load(fixed, dir.path()).expect("load");
    assert_eq!(loaded.ef_search(), widest);

    // Calibrating anew on given queries: reachable targets narrow the width,
    // one the graph cannot reach settles on the widest.
    let again = loaded.calibrate(&queries, 0.97).expect("calibrate").expect("big enough");
    assert_eq!(again.sample, queries.len());
    assert!(again.recall >= 0.97 && again.ef_search < widest / 4, "{again:?}");
    assert_eq!(loaded.ef_search(), again.ef_search);
    let unreachable = loaded.calibrate(&queries, 1.01).expect("calibrate").expect("calibrated");
    assert_eq!(unreachable.ef_search, widest);
    assert!(loaded.calibrate(&[vec![1.0; 3]], 0.97).is_err(), "a query of other dimensions");
}

#[test]
fn a_tiny_index_is_not_calibrated() {
    let mut rng = StdRng::seed_from_u64(5);
    let points: Vec<(Uuid, Vec<f32>, Metadata)> =
        (0..100).map(|i| (Uuid::from_u128(i as u128 + 1), unit(&mut rng), meta(i))).collect();
    let mut index = VectorIndex::build(IndexConfig::new(DIMS), points).expect("build");
    assert_eq!(index.len(), 100);
    let queries = vec![unit(&mut rng)];
    assert_eq!(index.calibrate(&queries, 0.97).expect("calibrate"), None, "searches are scans");
    assert_eq!(index.ef_search(), IndexConfig::new(DIMS).ef_search);
}
