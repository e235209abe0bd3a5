//! What the matcher knows about a job and a freelancer, and the eight
//! features it scores a pair by. Every feature lies in [0, 1], 1 best.
//!
//! | feature | definition |
//! |---|---|
//! | `semantic` | the square of the cosine similarity of the job and profile embeddings ([`SEMANTIC_POWER`]), negatives clamped to 0 |
//! | `required_skills` | share of the job's required skills the profile lists, each weighted by how specific it is (1 when none are required) |
//! | `preferred_skills` | the same for preferred skills |
//! | `rate_fit` | 1 at or under the budget's top; falls linearly to 0 at [`RATE_TOLERANCE`] above it; 0.5 when either side is unknown or the currencies differ (no exchange rates) |
//! | `experience_fit` | 1 at or above the level's minimum years ([`ExperienceLevel::min_years`]), else the fraction of it reached; over-qualification is not penalised |
//! | `reputation` | the Bayesian average rating (see [`Reputation::bayesian_average`]) mapped from 1–5 to 0–1 |
//! | `timezone_overlap` | shared hours of two 09:00–17:00 working days, out of 8; 0.5 when unknown |
//! | `recency` | `0.5^(days since last active / 30)`: halves every 30 days idle |
//!
//! Skills are compared case-insensitively by their label (the ESCO-derived
//! skills list gives one label per skill). A skill's weight in coverage is
//! its specificity (the engine's inverse document frequency over the
//! freelancers or jobs indexed): holding "install pipes" says more about a
//! plumber than holding "use safety equipment", which painters and
//! electricians list too, and unweighted coverage let a painter outrank
//! the plumbers for a plumbing job.
//!
//! A wanted skill the profile lists under another label of the same
//! meaning ("Python" for "Python (computer programming)", "use welding
//! equipment" for "welding techniques") earns part of its weight: its
//! [`Kin`], built by the engine from the labels' embeddings, gives each
//! such label a credit by [`kin_credit`]. An exact label always earns all.

use std::collections::HashMap;

/// How far above the budget's top a rate may go before `rate_fit` is 0 (25 %).
pub const RATE_TOLERANCE: f64 = 0.25;

/// Prior of the Bayesian average: this many imaginary reviews …
pub const PRIOR_REVIEWS: f64 = 5.0;
/// … of this rating, so three 5-star reviews do not outrank fifty 4.8s.
pub const PRIOR_RATING: f64 = 3.5;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExperienceLevel {
    Entry,
    Intermediate,
    Expert,
}

impl ExperienceLevel {
    /// Years of experience the level asks for at least.
    pub fn min_years(self) -> f64 {
        match self {
            Self::Entry => 0.0,
            Self::Intermediate => 2.0,
            Self::Expert => 5.0,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Entry => "entry",
            Self::Intermediate => "intermediate",
            Self::Expert => "expert",
        }
    }
}

/// Below this cosine of their embeddings a skill of another label earns
/// nothing for a wanted one: unrelated skills lie under 0.2 with the local
/// model, related trades' skills around 0.5 ("types of piping" ~ "install
/// pipes" 0.52), and some different skills as high as 0.68 ("German" ~
/// "English"), which must not count as one.
pub const KIN_FLOOR: f64 = 0.6;
/// At this cosine and above, another label earns all of the wanted skill's
/// weight; between the two, a straight line.
pub const KIN_FULL: f64 = 0.95;
/// A skill of another label counts as held in explanations from this
/// credit on ("Python" for "Python (computer programming)", cosine 0.88).
pub const KIN_HELD: f64 = 0.5;

/// What holding a skill of another label earns for a wanted skill whose
/// embedding has `cosine` with it.
pub fn kin_credit(cosine: f32) -> f64 {
    let cosine = f64::from(cosine);
    if cosine.is_finite() {
        ((cosine - KIN_FLOOR) / (KIN_FULL - KIN_FLOOR)).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// One wanted skill's kin: the labels of other skills close to it in
/// meaning (by [`skill_key`]), each with its credit in (0, 1].
pub type Kin = HashMap<String, f64>;

/// How a skill label is compared: trimmed and lower-cased.
pub fn skill_key(label: &str) -> String {
    label.trim().to_lowercase()
}

/// Each of `wanted`'s kin among the `held` labels: `vector` gives a
/// label's embedding (unit length), `None` when it has none, which leaves
/// that skill to exact labels. The wanted label itself is not its own kin.
pub fn kin_among<'v>(
    wanted: &[String],
    held: &[&str],
    vector: impl Fn(&str) -> Option<&'v [f32]>,
) -> Vec<Kin> {
    let mut held: Vec<(String, &[f32])> =
        held.iter().filter_map(|label| Some((skill_key(label), vector(label)?))).collect();
    held.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    held.dedup_by(|a, b| a.0 == b.0);
    wanted
        .iter()
        .map(|skill| {
            let key = skill_key(skill);
            let Some(wanted_vector) = vector(skill) else { return Kin::new() };
            held.iter()
                .filter(|(label, _)| *label != key)
                .filter_map(|(label, held_vector)| {
                    let cosine: f32 =
                        wanted_vector.iter().zip(*held_vector).map(|(a, b)| a * b).sum();
                    let credit = kin_credit(cosine);
                    (credit > 0.0).then(|| (label.clone(), credit))
                })
                .collect()
        })
        .collect()
}

/// An hourly amount in a currency (ISO 4217, upper case).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Money<'a> {
    pub amount: f64,
    /// Borrowed from the job or profile: facts are built for every
    /// candidate of every match, and copying nothing keeps that cheap.
    pub currency: &'a str,
}

/// The job side of a match.
#[derive(Clone, Debug, Default)]
pub struct JobFacts<'a> {
    pub required_skills: Vec<String>,
    pub preferred_skills: Vec<String>,
    /// Each required skill's weight in coverage (its specificity), in
    /// order; empty: each weighs 1.
    pub required_weights: Vec<f64>,
    /// The same for the preferred skills.
    pub preferred_weights: Vec<f64>,
    /// Each required skill's [`Kin`], in order; empty: labels only.
    pub required_kin: Vec<Kin>,
    /// The same for the preferred skills.
    pub preferred_kin: Vec<Kin>,
    /// The most the client will pay per hour.
    pub max_hourly: Option<Money<'a>>,
    pub experience: Option<ExperienceLevel>,
    /// Minutes east of UTC of the client's working day.
    pub utc_offset_minutes: Option<i32>,
}

/// Ratings received so far.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Reputation {
    pub mean: f64,
    pub count: u32,
}

impl Reputation {
    /// `(C·m + n·mean) / (C + n)` with `C` = [`PRIOR_REVIEWS`] and `m` = [`PRIOR_RATING`].
    pub fn bayesian_average(self) -> f64 {
        let n = f64::from(self.count);
        (PRIOR_REVIEWS * PRIOR_RATING + n * self.mean) / (PRIOR_REVIEWS + n)
    }
}

/// The freelancer side of a match.
#[derive(Clone, Debug, Default)]
pub struct ProfileFacts<'a> {
    /// Skill names as the profile has them.
    pub skills: Vec<&'a str>,
    pub hourly_rate: Option<Money<'a>>,
    pub years_experience: f64,
    pub reputation: Reputation,
    pub utc_offset_minutes: Option<i32>,
    pub days_since_active: f64,
}

/// The eight features, each in [0, 1].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Features {
    pub semantic: f64,
    pub required_skills: f64,
    pub preferred_skills: f64,
    pub rate_fit: f64,
    pub experience_fit: f64,
    pub reputation: f64,
    pub timezone_overlap: f64,
    pub recency: f64,
}

/// Feature names in [`Features::values`] order.
pub const FEATURE_NAMES: [&str; 8] = [
    "semantic",
    "required_skills",
    "preferred_skills",
    "rate_fit",
    "experience_fit",
    "reputation",
    "timezone_overlap",
    "recency",
];

impl Features {
    pub fn values(&self) -> [f64; 8] {
        [
            self.semantic,
            self.required_skills,
            self.preferred_skills,
            self.rate_fit,
            self.experience_fit,
            self.reputation,
            self.timezone_overlap,
            self.recency,
        ]
    }
}

/// A wanted skill the profile holds: under its own label (`as_label`
/// `None`) or under another of the same meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held<'w, 'h> {
    pub skill: &'w str,
    pub as_label: Option<&'h str>,
}

/// The required (or preferred) skills a profile holds (by label, or by
/// meaning with a credit of at least [`KIN_HELD`]) and lacks, in the job's
/// order; `kin` in `wanted`'s order, empty for labels only.
pub fn skill_split<'w, 'h>(
    wanted: &'w [String],
    kin: &[Kin],
    has: &[&'h str],
) -> (Vec<Held<'w, 'h>>, Vec<&'w str>) {
    let mut held = Vec::new();
    let mut missing = Vec::new();
    for (at, skill) in wanted.iter().enumerate() {
        if holds(has, skill) {
            held.push(Held { skill, as_label: None });
            continue;
        }
        match kin.get(at).and_then(|kin| best_kin(kin, has)) {
            Some((label, credit)) if credit >= KIN_HELD => {
                held.push(Held { skill, as_label: Some(label) })
            }
            _ => missing.push(skill.as_str()),
        }
    }
    (held, missing)
}

/// The held label with the most credit in `kin`, and that credit.
fn best_kin<'h>(kin: &Kin, has: &[&'h str]) -> Option<(&'h str, f64)> {
    if kin.is_empty() {
        return None;
    }
    has.iter()
        .filter_map(|label| Some((*label, *kin.get(&skill_key(label))?)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// Whether `has` lists `skill`, ignoring case and surrounding space. Lists
/// are short, so a comparison per pair without allocating beats hashing
/// lower-cased copies (this runs for every candidate of every match).
fn holds(has: &[&str], skill: &str) -> bool {
    let skill = skill.trim();
    has.iter().any(|held| {
        let held = held.trim();
        if held.is_ascii() && skill.is_ascii() {
            held.eq_ignore_ascii_case(skill)
        } else {
            held.chars().flat_map(char::to_lowercase).eq(skill.chars().flat_map(char::to_lowercase))
        }
    })
}

/// The weighted share of `wanted` that `has` lists (`weights` in
/// `wanted`'s order; missing weights count 1): all of a skill's weight
/// for its label, its kin's credit for another label of its meaning.
fn coverage(wanted: &[String], weights: &[f64], kin: &[Kin], has: &[&str]) -> f64 {
    if wanted.is_empty() {
        return 1.0;
    }
    let weight =
        |at: usize| weights.get(at).copied().filter(|w| w.is_finite() && *w > 0.0).unwrap_or(1.0);
    let credit = |at: usize, skill: &str| {
        if holds(has, skill) {
            1.0
        } else {
            kin.get(at).and_then(|kin| best_kin(kin, has)).map_or(0.0, |(_, credit)| credit)
        }
    };
    let (held, total) = wanted.iter().enumerate().fold((0.0, 0.0), |(held, total), (at, skill)| {
        let w = weight(at);
        (held + w * credit(at, skill), total + w)
    });
    held / total
}

fn rate_fit(budget: Option<&Money>, rate: Option<&Money>) -> f64 {
    match (budget, rate) {
        (Some(budget), Some(rate)) if budget.currency == rate.currency && budget.amount > 0.0 => {
            let over = (rate.amount - budget.amount) / budget.amount;
            (1.0 - over.max(0.0) / RATE_TOLERANCE).clamp(0.0, 1.0)
        }
        _ => 0.5,
    }
}

/// Shared hours of two 09:00–17:00 days at the given UTC offsets.
pub fn overlap_hours(a_minutes: i32, b_minutes: i32) -> f64 {
    let difference = f64::from((a_minutes - b_minutes).rem_euclid(24 * 60)) / 60.0;
    let difference = difference.min(24.0 - difference);
    (8.0 - difference).max(0.0)
}

/// The semantic feature is the cosine of the embeddings raised to this
/// power. A linear ranker adds it to skill coverage, and squaring makes a
/// step between close texts (0.8 → 0.9) weigh more than one between
/// unrelated ones (0.3 → 0.4). The train split of `fairgig eval
/// matching` chose 2 among 1, 1.5, 2, 3 and 4 (listwise nDCG@10 0.6790,
/// 0.6798, 0.6800, 0.6791, 0.6766; `tools/matching_study.py`). Ranking by
/// it alone is ranking by the cosine.
pub const SEMANTIC_POWER: i32 = 2;

/// The semantic feature of a cosine: negatives (no similarity) are 0.
pub fn semantic_of(cosine: f64) -> f64 {
    cosine.clamp(0.0, 1.0).powi(SEMANTIC_POWER)
}

/// The version of these definitions, recorded with every item of a shown
/// list so that training reads its features as they were meant: 2 since
/// the semantic feature is squared. Items recorded without one follow
/// version 1, where it was the plain cosine.
pub const FEATURES_VERSION: u64 = 2;

/// The features of one (job, profile) pair; `similarity` is the cosine of
/// their embeddings.
pub fn features(job: &JobFacts, profile: &ProfileFacts, similarity: f32) -> Features {
    let semantic = semantic_of(f64::from(similarity));
    let experience_fit = match job.experience {
        Some(level) if level.min_years() > 0.0 => {
            (profile.years_experience.max(0.0) / level.min_years()).min(1.0)
        }
        _ => 1.0,
    };
    let timezone_overlap = match (job.utc_offset_minutes, profile.utc_offset_minutes) {
        (Some(a), Some(b)) => overlap_hours(a, b) / 8.0,
        _ => 0.5,
    };
    Features {
        semantic: if semantic.is_finite() { semantic } else { 0.0 },
        required_skills: coverage(
            &job.required_skills,
            &job.required_weights,
            &job.required_kin,
            &profile.skills,
        ),
        preferred_skills: coverage(
            &job.preferred_skills,
            &job.preferred_weights,
            &job.preferred_kin,
            &profile.skills,
        ),
        rate_fit: rate_fit(job.max_hourly.as_ref(), profile.hourly_rate.as_ref()),
        experience_fit,
        reputation: ((profile.reputation.bayesian_average() - 1.0) / 4.0).clamp(0.0, 1.0),
        timezone_overlap,
        recency: 0.5f64.powf(profile.days_since_active.max(0.0) / 30.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(amount: f64) -> Option<Money<'static>> {
        Some(Money { amount, currency: "EUR" })
    }

    fn skills(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| (*name).to_owned()).collect()
    }

    #[test]
    fn skill_coverage_is_case_insensitive_and_names_what_is_missing() {
        let wanted = skills(&["Rust", "PostgreSQL", "Kubernetes"]);
        let (has, missing) = skill_split(&wanted, &[], &["rust", " postgresql ", "Go"]);
        let has: Vec<&str> = has.iter().map(|held| held.skill).collect();
        assert_eq!((has, missing), (vec!["Rust", "PostgreSQL"], vec!["Kubernetes"]));
        assert!((coverage(&wanted, &[], &[], &["rust"]) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(coverage(&[], &[], &[], &[]), 1.0);
        // Case folds beyond ASCII; a prefix is not the skill.
        assert_eq!(
            coverage(&skills(&["Ökonometrie", "SQL"]), &[], &[], &["ökonometrie", "SQLite"]),
            0.5
        );
    }

    #[test]
    fn a_specific_skill_covers_more_than_a_generic_one() {
        let wanted = skills(&["install pipes", "use safety equipment"]);
        let weights = [3.0, 1.0];
        assert!((coverage(&wanted, &weights, &[], &["install pipes"]) - 0.75).abs() < 1e-12);
        assert!((coverage(&wanted, &weights, &[], &["use safety equipment"]) - 0.25).abs() < 1e-12);
        assert_eq!(
            coverage(&wanted, &[f64::NAN, -1.0], &[], &["install pipes"]),
            0.5,
            "bad weights count 1"
        );
    }

    /// Unit vectors at the given angles (degrees) in a plane: their
    /// cosines are known exactly.
    fn at_angle(degrees: f64) -> Vec<f32> {
        let radians = degrees.to_radians();
        vec![radians.cos() as f32, radians.sin() as f32]
    }

    #[test]
    fn a_skill_of_another_label_earns_its_kins_credit() {
        let vectors: HashMap<&str, Vec<f32>> = [
            ("python (computer programming)", at_angle(0.0)),
            ("python", at_angle(15.0)), // cosine 0.966: full credit
            ("jython", at_angle(40.0)), // cosine 0.766: part
            ("german", at_angle(50.0)), // cosine 0.643: a little
            ("cobol", at_angle(60.0)),  // cosine 0.5: none
        ]
        .into();
        let vector = |label: &str| vectors.get(skill_key(label).as_str()).map(Vec::as_slice);
        let wanted = skills(&["Python (computer programming)", "Fortran"]);
        let kin = kin_among(&wanted, &["python", "Jython", "German", "COBOL"], vector);
        assert_eq!(kin.len(), 2);
        assert_eq!(kin[0].get("python").copied(), Some(1.0));
        let jython = kin[0].get("jython").copied().unwrap_or_default();
        assert!((jython - (0.766 - KIN_FLOOR) / (KIN_FULL - KIN_FLOOR)).abs() < 1e-3, "{jython}");
        assert!(!kin[0].contains_key("cobol"), "below the floor");
        assert!(kin[1].is_empty(), "a skill with no vector is left to its label");

        let weights = [1.0, 1.0];
        assert_eq!(coverage(&wanted, &weights, &kin, &["Python"]), 0.5);
        let part = coverage(&wanted, &weights, &kin, &["Jython"]);
        assert!((part - jython / 2.0).abs() < 1e-12, "{part}");
        assert_eq!(coverage(&wanted, &weights, &[], &["Python"]), 0.0, "labels only");
        assert_eq!(coverage(&wanted, &weights, &kin, &["COBOL"]), 0.0);

        let (held, missing) = skill_split(&wanted, &kin, &["German", "Python"]);
        assert_eq!(
            held,
            vec![Held { skill: "Python (computer programming)", as_label: Some("Python") }]
        );
        assert_eq!(missing, vec!["Fortran"]);
        let (held, _) = skill_split(&wanted, &kin, &["German"]);
        assert!(held.is_empty(), "a little credit is not holding the skill");
        assert_eq!(kin_credit(f32::NAN), 0.0);
    }

    #[test]
    fn rate_fit_falls_off_above_the_budget() {
        assert_eq!(rate_fit(eur(100.0).as_ref(), eur(80.0).as_ref()), 1.0);
        assert_eq!(rate_fit(eur(100.0).as_ref(), eur(100.0).as_ref()), 1.0);
        assert!((rate_fit(eur(100.0).as_ref(), eur(110.0).as_ref()) - 0.6).abs() < 1e-9);
        assert_eq!(rate_fit(eur(100.0).as_ref(), eur(130.0).as_ref()), 0.0);
        let usd = Money { amount: 50.0, currency: "USD" };
        assert_eq!(rate_fit(eur(100.0).as_ref(), Some(&usd)), 0.5, "no exchange rates");
        assert_eq!(rate_fit(None, eur(10.0).as_ref()), 0.5);
    }

    #[test]
    fn timezone_overlap_wraps_around_the_day() {
        assert_eq!(overlap_hours(60, 60), 8.0);
        assert_eq!(overlap_hours(0, 180), 5.0);
        assert_eq!(overlap_hours(-300, 540), 0.0, "New York and Tokyo");
        assert_eq!(overlap_hours(23 * 60, -60), 8.0, "+23 h is −1 h");
        assert_eq!(overlap_hours(330, 0), 2.5, "India's half hour");
    }

    #[test]
    fn the_bayesian_average_needs_many_reviews_to_move_far_from_the_prior() {
        let few = Reputation { mean: 5.0, count: 3 }.bayesian_average();
        let many = Reputation { mean: 4.8, count: 50 }.bayesian_average();
        assert!(many > few, "{many} vs {few}");
        assert_eq!(Reputation::default().bayesian_average(), PRIOR_RATING);
    }

    #[test]
    fn features_stay_in_the_unit_interval() {
        let job = JobFacts {
            required_skills: skills(&["Rust"]),
            preferred_skills: skills(&["Go"]),
            max_hourly: eur(50.0),
            experience: Some(ExperienceLevel::Expert),
            utc_offset_minutes: Some(60),
            ..JobFacts::default()
        };
        let profile = ProfileFacts {
            skills: vec!["Rust"],
            hourly_rate: eur(55.0),
            years_experience: 2.5,
            reputation: Reputation { mean: 4.0, count: 10 },
            utc_offset_minutes: Some(0),
            days_since_active: 30.0,
        };
        for similarity in [-0.3, 0.42, 1.2, f32::NAN] {
            let found = features(&job, &profile, similarity);
            assert!(found.values().iter().all(|v| (0.0..=1.0).contains(v)), "{found:?}");
        }
        let found = features(&job, &profile, 0.42);
        assert!((found.experience_fit - 0.5).abs() < 1e-12);
        assert!((found.recency - 0.5).abs() < 1e-12);
        assert!((found.timezone_overlap - 7.0 / 8.0).abs() < 1e-12);
        assert_eq!(found.preferred_skills, 0.0);
    }

    #[test]
    fn the_semantic_feature_squares_the_cosine_and_keeps_its_order() {
        let (job, profile) = (JobFacts::default(), ProfileFacts::default());
        let semantic = |cosine: f32| features(&job, &profile, cosine).semantic;
        assert!((semantic(0.7) - 0.49).abs() < 1e-6, "{}", semantic(0.7));
        assert_eq!(semantic(-0.4), 0.0, "a negative cosine is no similarity, not a squared one");
        assert_eq!(semantic(1.0), 1.0);
        let cosines = [0.05, 0.3, 0.31, 0.62, 0.9, 0.99];
        assert!(cosines.windows(2).all(|pair| semantic(pair[0]) < semantic(pair[1])));
        // A step between close texts weighs more than one between far ones.
        assert!(semantic(0.9) - semantic(0.8) > semantic(0.4) - semantic(0.3));
    }
}
