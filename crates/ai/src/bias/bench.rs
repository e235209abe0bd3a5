//! The bias check's throughput benchmark: a synthetic job-ad corpus and its
//! timing, shared by `fairgig bench bias` and quick runs of this crate alone.

use std::time::Instant;

use fairgig_core::cancel::Cancel;

use super::{BiasChecker, CheckOptions, TextKind};

/// Sentences typical of job ads, about a third of them biased.
const SENTENCES: [&str; 16] = [
    "We are looking for a senior backend engineer to join our platform team in Berlin.",
    "You will design, build and operate services in Rust and PostgreSQL.",
    "The ideal candidate is a young, ambitious rockstar who thrives under pressure.",
    "You collaborate with product managers, designers and other engineers every day.",
    "Experience with Kubernetes, Terraform and observability tooling is a plus.",
    "We offer a competitive salary, flexible hours and 30 days of paid leave.",
    "Native English speaker preferred; German is nice to have.",
    "Our culture is work hard, play hard, and we are like a family.",
    "We value kindness, curiosity and clear written communication.",
    "You will mentor junior colleagues and review their code with care.",
    "The role is fully remote within European time zones.",
    "He or she will report to the head of engineering.",
    "Recent graduates with strong fundamentals are encouraged to apply.",
    "We are an equal opportunity employer and welcome applicants of all backgrounds.",
    "Must be able to lift 20 kg and stand for long periods in the warehouse.",
    "Please send your CV and a short note about a project you are proud of.",
];

/// A corpus of about `megabytes` MB: the sentences above in a deterministic
/// shuffle, an ad ending (a newline) after about one in five; check it
/// ad by ad (`split_inclusive('\n')`).
pub fn corpus(megabytes: usize) -> String {
    let target = megabytes.max(1) * 1_000_000;
    let mut corpus = String::with_capacity(target + 200);
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    while corpus.len() < target {
        // xorshift: deterministic, no dependency, varied enough.
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        corpus.push_str(SENTENCES[(state % SENTENCES.len() as u64) as usize]);
        corpus.push(if state.is_multiple_of(5) { '\n' } else { ' ' });
    }
    corpus
}

/// Texts shaped to make a super-linear step show: each repeats one piece
/// to about `bytes` (at a char boundary). The checker must handle every one
/// in time linear in its length; `fairgig bench bias` prints their
/// throughput beside the ordinary corpus and a test bounds it at 10 MiB.
pub fn adversarial(bytes: usize) -> Vec<(&'static str, String)> {
    const PIECES: [(&str, &str); 10] = [
        // Findings right after a capitalised word: the proper-name question.
        ("proper-name capitals", "Lake Crazy Horse is Young. This Job Ad is fine. "),
        ("many findings", "young rockstar ninja guys manpower "),
        ("title case", "Young Rockstar Ninja Guys Wanted "),
        ("one huge word", "a"),
        ("no spaces", "young,rockstar;ninja,guys;"),
        ("all quotes", "\"young\" `ninja` "),
        ("his or her pairs", "his or her he/she "),
        ("deep hyphen chain", "young-rockstar-"),
        ("one line a word", "Young\n"),
        ("only punctuation", ".,;:!?-'\" "),
    ];
    PIECES
        .iter()
        .map(|(name, piece)| {
            let mut text = piece.repeat(bytes / piece.len() + 1);
            let mut end = bytes.min(text.len());
            while !text.is_char_boundary(end) {
                end -= 1;
            }
            text.truncate(end);
            (*name, text)
        })
        .collect()
}

/// One timed pass.
#[derive(Clone, Copy, Debug)]
pub struct Throughput {
    pub megabytes: f64,
    pub seconds: f64,
    pub ads: usize,
    pub findings: usize,
}

impl Throughput {
    pub fn megabytes_per_second(&self) -> f64 {
        self.megabytes / self.seconds
    }
}

/// Checks each of `ads` as a job post (all job-ad packs and the
/// gender-coded verdict), one at a time on this thread, as the API does.
pub fn run(checker: &BiasChecker, ads: &[&str]) -> Throughput {
    run_with(checker, ads, &CheckOptions::default())
}

/// The hardest options the API takes: binary pairs allowed and an allow-list
/// of its maximum length (1,000 entries), which every finding consults.
pub fn hostile_options() -> CheckOptions {
    CheckOptions { binary: true, allow: (0..1000).map(|i| format!("allowed phrase {i}")).collect() }
}

/// [`run`] with the given options, as the API checks: through
/// [`BiasChecker::check_until`] (findings counted, the first ones listed).
pub fn run_with(checker: &BiasChecker, ads: &[&str], options: &CheckOptions) -> Throughput {
    let never = Cancel::new();
    let check = |ad: &str| {
        checker
            .check_until(ad, TextKind::JobPost, options, &never)
            .map_or(0, |report| report.findings_total)
    };
    if let Some(first) = ads.first() {
        let _warm = check(first);
    }
    let started = Instant::now();
    let findings: usize = ads.iter().map(|ad| check(ad)).sum();
    Throughput {
        megabytes: ads.iter().map(|ad| ad.len()).sum::<usize>() as f64 / 1e6,
        seconds: started.elapsed().as_secs_f64(),
        ads: ads.len(),
        findings,
    }
}
