//! `fairgig bench llm`: the local language model on this machine — load
//! time, how fast it reads a prompt and writes an answer (tokens/s), the
//! latency of a whole brief (the rules' draft, then the model's, checked)
//! and of an offer's words, how many of the model's answers passed their
//! checks, and peak memory.
//!
//! The requests are fixed (English and German, typed as clients type), so
//! the figures compare across versions and machines.

use std::time::{Duration, Instant};

use fairgig_ai::analyse::{analyse, SkillIndex};
use fairgig_ai::brief::{brief, BriefInput};
use fairgig_ai::offer::{offer, OfferInput};
use fairgig_engine::briefs::{write_brief, write_offer_prose, BriefRequest};
use fairgig_llm::LanguageModel;
use fairgig_llm_local::{LocalChat, LocalConfig, LocalModel};

/// A brief on 2 cores should be back within this (p50).
const BRIEF_GOAL: Duration = Duration::from_secs(10);

const REQUESTS: [(&str, &str); 4] = [
    (
        "Online shop for a bakery",
        "We need an online shop for our bakery in Leipzig. Customers should order cakes for \
         pickup and pay by card. The budget is 4000 EUR and it must be ready by March.",
    ),
    (
        "Sales dashboard",
        "Our sales team wants a dashboard that shows weekly revenue per region from our \
         PostgreSQL database. It should refresh every morning and export to Excel.",
    ),
    (
        "Mobile app for a gym",
        "Build an iOS and Android app where members book classes, see the timetable and get \
         reminders. We already have a REST API written in Python.",
    ),
    (
        "Website für eine Physiotherapie-Praxis",
        "Wir brauchen eine neue Website für unsere Praxis in Köln mit Online-Terminbuchung. \
         Die Seite soll auf Deutsch und Englisch sein und bis Ende April fertig sein.",
    ),
];

pub async fn run(settings: &fairgig_core::config::Settings, rounds: usize) -> anyhow::Result<()> {
    let config = LocalConfig {
        model_path: settings.llm.model_path.clone(),
        max_tokens: settings.llm.max_tokens_per_answer.max(1),
        timeout: Duration::from_secs(settings.llm.timeout_secs.max(1)),
    };
    let started = Instant::now();
    let loaded = LocalModel::load(config.clone())?;
    let load = started.elapsed();
    drop(loaded);
    let llm = LanguageModel::new(LocalChat::new(config.clone()), settings.llm.max_tokens_per_run);
    let skills = SkillIndex::builtin();

    let mut brief_times = Vec::new();
    let mut offer_times = Vec::new();
    let (mut read, mut written) = (0u64, 0u64);
    let (mut briefs_used, mut prose_used, mut asked) = (0, 0, 0);
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    // The first answer loads the model; it is not timed.
    let warm = REQUESTS[0];
    let _ = write_brief(Some(&llm), request(warm), draft(warm, &skills), &|_| {}).await;
    for _ in 0..rounds.max(1) {
        for pair in REQUESTS {
            asked += 1;
            let started = Instant::now();
            let briefed =
                write_brief(Some(&llm), request(pair), draft(pair, &skills), &|_| {}).await;
            brief_times.push(started.elapsed());
            match &briefed.fallback {
                None => briefs_used += 1,
                Some(reason) => *reasons.entry(reason.clone()).or_insert(0) += 1,
            }
            if let Some(usage) = &briefed.usage {
                read += u64::from(usage.prompt_tokens);
                written += u64::from(usage.completion_tokens);
            }
            let analysis = analyse(pair.1, &skills, 0);
            let priced = offer(&OfferInput {
                analysis: &analysis,
                deliverables: &briefed.brief.deliverable_texts(),
                currency: "EUR",
                budget_minor: None,
                rates_minor: &[],
                reference_rate_minor: 6_000,
            });
            let started = Instant::now();
            let text = format!("{}\n{}", pair.0, pair.1);
            let spent = briefed.usage.as_ref().map_or(0, fairgig_llm::Usage::total);
            let (prose, by) = write_offer_prose(Some(&llm), &text, &priced, spent, &|_| {}).await;
            offer_times.push(started.elapsed());
            prose_used += usize::from(prose.is_some());
            if let Some(reason) = by.and_then(|by| by.fallback) {
                *reasons.entry(reason).or_insert(0) += 1;
            }
        }
    }
    let total: Duration = brief_times.iter().sum();
    let p50 = median(&mut brief_times);
    let max = brief_times.last().copied().unwrap_or_default();
    println!(
        "llm {}: brief p50 {:.2} s, max {:.2} s over {} requests (goal p50 <= {} s) {}",
        config.model_path.display(),
        p50.as_secs_f64(),
        max.as_secs_f64(),
        brief_times.len(),
        BRIEF_GOAL.as_secs(),
        if p50 <= BRIEF_GOAL { "met" } else { "MISSED" },
    );
    println!(
        "llm briefs: {read} prompt tokens and {written} answer tokens in {:.1} s \
         ({:.0} tokens/s overall); offer words p50 {:.2} s",
        total.as_secs_f64(),
        (read + written) as f64 / total.as_secs_f64().max(1e-9),
        median(&mut offer_times).as_secs_f64(),
    );
    println!(
        "llm answers used: briefs {briefs_used} of {asked}, offer words {prose_used} of {asked} \
         (the rest fell back to the rules, with the reason in the output)"
    );
    for (reason, count) in &reasons {
        println!("llm fell back {count}×: {reason}");
    }
    println!(
        "llm load {:.2} s, peak resident memory {} MiB",
        load.as_secs_f64(),
        crate::asr::peak_resident_bytes() / (1024 * 1024)
    );
    let (title, text) = REQUESTS[0];
    let sample =
        write_brief(Some(&llm), request((title, text)), draft((title, text), &skills), &|_| {})
            .await;
    println!("llm sample brief for {title:?}:\n{}", serde_json::to_string_pretty(&sample.brief)?);
    Ok(())
}

fn request((title, text): (&'static str, &'static str)) -> BriefRequest<'static> {
    BriefRequest { title, text, budget: None, deadline: None, region: None }
}

fn draft((title, text): (&str, &str), skills: &SkillIndex) -> fairgig_ai::brief::Brief {
    let analysis = analyse(text, skills, 0);
    brief(&BriefInput {
        title,
        text,
        analysis: &analysis,
        budget: None,
        deadline: None,
        region: None,
        needs_review: false,
        truncated_recording: false,
    })
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times.get(times.len() / 2).copied().unwrap_or_default()
}
