//! The local model against a reference no one here wrote: the STS-B dev set
//! (`../shared/data/sts/`), whose 1,500 sentence pairs carry human similarity
//! scores and the cosine the upstream all-MiniLM-L6-v2 gives each pair.
//!
//! Needs the model (`make models`; `make test` fetches it first).

use std::path::Path;

use fairgig_embed::dot;
use fairgig_embed::local::{LocalConfig, LocalModel};
use fairgig_embed::quality::spearman;

struct Pair {
    human: f64,
    a: String,
    b: String,
    reference: f64,
}

fn pairs() -> Vec<Pair> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/sts");
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
    };
    let pairs_text = read("sts-dev.csv");
    let reference_text = read("all-MiniLM-L6-v2.dev-reference-cosines.tsv");
    let pairs: Vec<Pair> = pairs_text
        .lines()
        .zip(reference_text.lines())
        .map(|(pair, reference)| {
            let fields: Vec<&str> = pair.split('\t').collect();
            let ref_fields: Vec<&str> = reference.split('\t').collect();
            assert_eq!(
                fields[..5],
                ref_fields[1..6],
                "the two files list the pairs in the same order"
            );
            Pair {
                human: fields[4].parse().expect("score"),
                a: fields[5].to_owned(),
                b: fields[6].to_owned(),
                reference: ref_fields[6].parse().expect("cosine"),
            }
        })
        .collect();
    assert_eq!(pairs.len(), 1500);
    pairs
}

#[test]
fn sts_dev_matches_the_reference_model() {
    let model = LocalModel::load(&LocalConfig::for_tests()).unwrap_or_else(|e| panic!("{e}"));
    let pairs = pairs();
    let mut cosines = Vec::with_capacity(pairs.len());
    for chunk in pairs.chunks(32) {
        let a: Vec<&str> = chunk.iter().map(|p| p.a.as_str()).collect();
        let b: Vec<&str> = chunk.iter().map(|p| p.b.as_str()).collect();
        let (va, vb) = (model.embed(&a).expect("embed"), model.embed(&b).expect("embed"));
        cosines.extend(va.iter().zip(&vb).map(|(x, y)| f64::from(dot(x, y))));
    }

    let worst = pairs
        .iter()
        .zip(&cosines)
        .map(|(p, c)| ((c - p.reference).abs(), p))
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .expect("pairs");
    let human: Vec<f64> = pairs.iter().map(|p| p.human).collect();
    let rho = 100.0 * spearman(&cosines, &human);
    println!(
        "STS-B dev: Spearman {rho:.2} (reference 86.7); largest cosine difference {:.2e}",
        worst.0
    );
    assert!(rho >= 86.0, "Spearman {rho:.2} < 86.0");
    assert!(
        worst.0 <= 1e-3,
        "cosine of {:?} / {:?} is {:.6} off the reference {:.6}",
        worst.1.a,
        worst.1.b,
        worst.0,
        worst.1.reference
    );
}

#[test]
fn long_and_odd_inputs_embed_without_error() {
    let model = LocalModel::load(&LocalConfig::for_tests()).unwrap_or_else(|e| panic!("{e}"));
    let long = "word ".repeat(5_000);
    let texts = ["", "🦀🦀🦀", "مرحبا بالعالم", long.as_str(), "\u{0}\u{feff}"];
    let vectors = model.embed(&texts).expect("embed");
    assert_eq!(vectors.len(), texts.len());
    for v in &vectors {
        assert_eq!(v.len(), 384);
        assert!((dot(v, v) - 1.0).abs() < 1e-4);
    }
    assert_eq!(model.token_count(&long).expect("tokens"), 256, "truncated at 256 tokens");
    // Order is kept although the batch is sorted by length inside.
    let single = model.embed(&[long.as_str()]).expect("embed");
    assert!(dot(&single[0], &vectors[3]) > 0.9999);
}
