//! Scoring a match and saying why.
//!
//! v1 was a linear model with hand-set weights ([`LinearModel::v1`]); the
//! built-in champion is v3 ([`LinearModel::v3`]), the same shape with
//! weights learned from judged relevance (v2 had learned them for the
//! plain cosine, before the semantic feature was squared), and the
//! learning system trains others from the hiring funnel. A score is
//! `Σ weight_f · feature_f`; with weights summing to 1 it lies in [0, 1].
//! Every scored match carries each feature's value and contribution, and
//! plain-language strengths and gaps a client can read.

use crate::features::{skill_split, Features, Held, JobFacts, ProfileFacts, FEATURE_NAMES};

/// A linear ranker: one weight per feature, in [`FEATURE_NAMES`] order.
#[derive(Clone, Debug, PartialEq)]
pub struct LinearModel {
    pub weights: [f64; 8],
}

impl LinearModel {
    /// The version recorded with every list [`LinearModel::v1`] ranked.
    pub const V1_VERSION: &'static str = "linear-v1";

    /// The version recorded with every list [`LinearModel::v3`] ranked.
    pub const V3_VERSION: &'static str = "linear-v3";

    /// The built-in champion, ranking while no trained ranker is promoted:
    /// the topical weights learned listwise (`learning::fit_shares`) by
    /// `fairgig eval matching` on the train split of ESCO occupations (both
    /// directions), the fit features at [`LinearModel::FIT_WEIGHTS`]. On
    /// the test split it beats semantic similarity alone, which v1 did not
    /// (the README has the table).
    pub fn v3() -> Self {
        Self { weights: V3_WEIGHTS }
    }

    /// The built-in champion's version and model.
    pub fn builtin() -> (&'static str, Self) {
        (Self::V3_VERSION, Self::v3())
    }

    /// The hand-set first model: meaning and required skills first (0.30,
    /// 0.25), then price, experience and reputation (0.10 each), then
    /// preferred skills, timezone and recent activity (0.05 each).
    pub fn v1() -> Self {
        Self { weights: [0.30, 0.25, 0.05, 0.10, 0.10, 0.10, 0.05, 0.05] }
    }

    /// The fit features' weights when a ranker is learned from judged
    /// relevance (`fairgig eval matching`): rate, experience, reputation,
    /// timezone and recency are not relevance, and judgements alone would
    /// weigh them nothing, so they keep these (about v1's proportions,
    /// 0.10 in all: enough to order equally relevant freelancers by fit,
    /// 0.15 cost 0.005 nDCG@10 on judged relevance) and the topical
    /// features share the rest.
    pub const FIT_WEIGHTS: [f64; 8] = [0.0, 0.0, 0.0, 0.03, 0.02, 0.03, 0.01, 0.01];
    /// The topical features: semantic, required and preferred skills.
    pub const TOPICAL: [usize; 3] = [0, 1, 2];

    pub fn score(&self, features: &Features) -> f64 {
        self.weights.iter().zip(features.values()).map(|(w, v)| w * v).sum()
    }
}

/// [`LinearModel::v3`]'s weights, as `fairgig eval matching` printed them.
const V3_WEIGHTS: [f64; 8] = [0.63, 0.18, 0.09, 0.03, 0.02, 0.03, 0.01, 0.01];

/// One feature's part in a score.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    pub feature: &'static str,
    pub value: f64,
    pub weight: f64,
    pub contribution: f64,
}

/// A scored match with its explanation.
#[derive(Clone, Debug, PartialEq)]
pub struct Explained {
    pub score: f64,
    pub contributions: Vec<Contribution>,
    pub strengths: Vec<String>,
    pub gaps: Vec<String>,
}

/// Scores a pair and explains the score.
pub fn explain(
    model: &LinearModel,
    job: &JobFacts,
    profile: &ProfileFacts,
    features: &Features,
) -> Explained {
    let contributions = FEATURE_NAMES
        .iter()
        .zip(features.values())
        .zip(model.weights)
        .map(|((feature, value), weight)| Contribution {
            feature,
            value,
            weight,
            contribution: value * weight,
        })
        .collect();
    let (mut strengths, mut gaps) = (Vec::new(), Vec::new());

    if !job.required_skills.is_empty() {
        let (has, missing) = skill_split(&job.required_skills, &job.required_kin, &profile.skills);
        let covers =
            format!("covers {} of {} required skills", has.len(), job.required_skills.len());
        let by_meaning = by_meaning(&has);
        let covers =
            if by_meaning.is_empty() { covers } else { format!("{covers} ({by_meaning})") };
        if missing.is_empty() {
            strengths.push(covers);
        } else {
            gaps.push(format!("{covers}; missing {}", missing.join(", ")));
        }
    }
    let (preferred, _) = skill_split(&job.preferred_skills, &job.preferred_kin, &profile.skills);
    if !preferred.is_empty() {
        let names: Vec<&str> = preferred.iter().map(|held| held.skill).collect();
        let by_meaning = by_meaning(&preferred);
        let also = format!("also knows {}", names.join(", "));
        strengths.push(if by_meaning.is_empty() { also } else { format!("{also} ({by_meaning})") });
    }
    match (&job.max_hourly, &profile.hourly_rate) {
        (Some(budget), Some(rate)) if budget.currency == rate.currency => {
            let amount = format!("{:.0} {}/h", rate.amount, rate.currency);
            if rate.amount <= budget.amount {
                strengths.push(format!("rate {amount} is within budget"));
            } else {
                let over = (rate.amount / budget.amount - 1.0) * 100.0;
                gaps.push(format!("rate {amount} is {over:.0} % above budget"));
            }
        }
        (Some(_), Some(rate)) => {
            gaps.push(format!("rate is in {}, the budget in another currency", rate.currency))
        }
        _ => {}
    }
    if let Some(level) = job.experience {
        let years = format!("{:.0} years of experience", profile.years_experience);
        if features.experience_fit >= 1.0 {
            strengths.push(format!("{years} ({} level asked)", level.label()));
        } else {
            gaps.push(format!(
                "{years}; {} level asks for {:.0}+",
                level.label(),
                level.min_years()
            ));
        }
    }
    let reputation = profile.reputation;
    if reputation.count == 0 {
        gaps.push("no reviews yet".to_owned());
    } else {
        let reviews = if reputation.count == 1 { "review" } else { "reviews" };
        let rated = format!("rated {:.1} from {} {reviews}", reputation.mean, reputation.count);
        if reputation.bayesian_average() >= 4.0 {
            strengths.push(rated);
        } else {
            gaps.push(rated);
        }
    }
    if job.utc_offset_minutes.is_some() && profile.utc_offset_minutes.is_some() {
        let hours = features.timezone_overlap * 8.0;
        if hours >= 4.0 {
            strengths.push(format!("working hours overlap {hours:.1} h"));
        } else {
            gaps.push(format!("working hours overlap only {hours:.1} h"));
        }
    }
    if profile.days_since_active > 60.0 {
        gaps.push(format!("last active {:.0} days ago", profile.days_since_active));
    }
    Explained { score: model.score(features), contributions, strengths, gaps }
}

/// "X as “Y”" for each skill held under another label of its meaning, so
/// a client sees why it counts.
fn by_meaning(held: &[Held]) -> String {
    let named: Vec<String> = held
        .iter()
        .filter_map(|held| Some(format!("{} as “{}”", held.skill, held.as_label?)))
        .collect();
    named.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::features::{features, ExperienceLevel, Money, Reputation};

    fn job() -> JobFacts<'static> {
        let skills = ["Rust", "PostgreSQL", "Docker", "gRPC", "Kubernetes"];
        JobFacts {
            required_skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            preferred_skills: vec!["Terraform".to_owned()],
            max_hourly: Some(Money { amount: 90.0, currency: "EUR" }),
            experience: Some(ExperienceLevel::Expert),
            utc_offset_minutes: Some(60),
            ..JobFacts::default()
        }
    }

    fn profile() -> ProfileFacts<'static> {
        ProfileFacts {
            skills: vec!["rust", "postgresql", "docker", "grpc", "terraform"],
            hourly_rate: Some(Money { amount: 85.0, currency: "EUR" }),
            years_experience: 8.0,
            reputation: Reputation { mean: 4.8, count: 23 },
            utc_offset_minutes: Some(120),
            days_since_active: 3.0,
        }
    }

    #[test]
    fn built_in_weights_sum_to_one_so_scores_stay_in_the_unit_interval() {
        assert!((LinearModel::v1().weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        let v3 = LinearModel::v3().weights;
        assert!((v3.iter().sum::<f64>() - 1.0).abs() < 1e-9, "{v3:?}");
        assert_eq!(v3[3..], LinearModel::FIT_WEIGHTS[3..], "fit features as fixed for learning");
        assert!(v3[0] > v3[1] && v3[1] > v3[2], "meaning, then required, then preferred skills");
    }

    #[test]
    fn an_explanation_adds_up_and_reads_plainly() {
        let (job, profile) = (job(), profile());
        let found = features(&job, &profile, 0.71);
        let explained = explain(&LinearModel::v1(), &job, &profile, &found);
        let total: f64 = explained.contributions.iter().map(|c| c.contribution).sum();
        assert!((total - explained.score).abs() < 1e-12);
        assert_eq!(explained.contributions.len(), 8);
        assert!(
            explained
                .gaps
                .contains(&"covers 4 of 5 required skills; missing Kubernetes".to_owned()),
            "{explained:?}"
        );
        for strength in [
            "also knows Terraform",
            "rate 85 EUR/h is within budget",
            "8 years of experience (expert level asked)",
            "rated 4.8 from 23 reviews",
            "working hours overlap 7.0 h",
        ] {
            assert!(
                explained.strengths.contains(&strength.to_owned()),
                "{strength}: {explained:?}"
            );
        }
    }

    #[test]
    fn a_better_fit_scores_higher() {
        let job = job();
        let mut weaker = profile();
        weaker.skills.truncate(2);
        weaker.hourly_rate = Some(Money { amount: 120.0, currency: "EUR" });
        let model = LinearModel::v1();
        let strong = model.score(&features(&job, &profile(), 0.7));
        let weak = model.score(&features(&job, &weaker, 0.7));
        assert!(strong > weak, "{strong} vs {weak}");
        let explained = explain(&model, &job, &weaker, &features(&job, &weaker, 0.7));
        assert!(explained.gaps.iter().any(|gap| gap == "rate 120 EUR/h is 33 % above budget"));
    }
}
