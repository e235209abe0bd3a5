//! `fairgig model train`: a ranker learned from recorded lists and feedback,
//! evaluated against the v1 model on the newest lists (time split).
//!
//! The model registry (challenger/champion, promotion gate, rollback) is not
//! built yet, so the trained weights are printed, not registered.

use std::time::Instant;

use fairgig_matching::{
    learning::{
        evaluate, label_of, time_split, train, Evaluation, Example, ShownList, TrainConfig,
    },
    score::LinearModel,
};
use fairgig_store::{feedback::TrainingList, Store};

/// Turns recorded lists into training examples; items without numeric
/// features (a corrupt or foreign list) are skipped.
pub fn shown_lists(lists: &[TrainingList]) -> Vec<ShownList> {
    lists
        .iter()
        .map(|list| {
            let examples = list
                .items
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|item| {
                    let values: Vec<f64> =
                        item["features"].as_array()?.iter().filter_map(|v| v.as_f64()).collect();
                    let features: [f64; 8] = values.try_into().ok()?;
                    let freelancer = item["freelancer"].as_str()?;
                    let label = list
                        .feedback
                        .iter()
                        .filter(|(who, _, _)| who.to_string() == freelancer)
                        .map(|(_, kind, rating)| label_of(kind, *rating))
                        .max()
                        .unwrap_or(0);
                    Some(Example {
                        features,
                        rank: usize::try_from(item["rank"].as_u64()?).ok()?,
                        label,
                        newcomer: item["newcomer"].as_bool().unwrap_or(false),
                    })
                })
                .collect();
            ShownList { examples }
        })
        .collect()
}

fn describe(name: &str, evaluation: &Evaluation) {
    let skew =
        evaluation.min_skew_at_10.map_or_else(|| "n/a".to_owned(), |skew| format!("{skew:.3}"));
    println!(
        "{name}: NDCG@10 {:.4}, AUC {:.4}, newcomer MinSkew@10 {skew} ({} held-out lists)",
        evaluation.ndcg_at_10, evaluation.auc, evaluation.lists
    );
}

/// Trains on the older lists, prints both models' held-out figures and the weights.
pub async fn train_command(store: &Store, held_out: f64) -> anyhow::Result<()> {
    let recorded = store.training_lists().await?;
    let lists = shown_lists(&recorded);
    let events: usize = recorded.iter().map(|list| list.feedback.len()).sum();
    println!("{} lists with feedback, {events} feedback events", lists.len());
    if lists.len() < 2 {
        println!("not enough feedback to train and hold some out; nothing trained");
        return Ok(());
    }
    let (training, testing) = time_split(&lists, held_out);
    let v1 = LinearModel::v1().weights;
    let started = Instant::now();
    let learned = train(training, v1, TrainConfig::default());
    println!("trained on {} lists in {:.3} s", training.len(), started.elapsed().as_secs_f64());
    describe(LinearModel::V1_VERSION, &evaluate(testing, &v1));
    describe("trained", &evaluate(testing, &learned));
    let names = fairgig_matching::features::FEATURE_NAMES;
    let weights: Vec<String> =
        names.iter().zip(learned).map(|(name, w)| format!("{name} {w:.3}")).collect();
    println!("trained weights: {}", weights.join(", "));
    println!("(not registered: the model registry is not built yet)");
    Ok(())
}
