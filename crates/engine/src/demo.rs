//! `fairgig demo`: fills a fresh database with a demo marketplace and runs
//! it end to end.
//!
//! The data (`demo/demo.json`, derived from ESCO by
//! `tools/make_demo_data.py`, attribution inside) is 300 freelancers and 40
//! job posts. Freelancers with a history get it the way anyone does: a
//! past job is opened, they apply, are hired, the job is completed and the
//! client's review is published, so their completed-job count and
//! reputation are real. The job posts then go in as `job` submissions and
//! through the whole pipeline (extract, analyse, bias check, embed, publish,
//! match) in this process's worker; the top matches of a few of them are
//! printed with their explanations and fairness report.
//!
//! Every demo account has the password [`DEMO_PASSWORD`], so the data can be
//! explored through the API after `make run`. Notifications the runs cause
//! (results to the demo client, invitations to matched freelancers) are
//! recorded and sent by the next `serve` (to the log channel unless SMTP is
//! configured).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fairgig_core::{
    audit::RequestContext,
    ids::{SessionId, SubmissionId, UserId},
    marketplace::{ApplicationStatus, Availability, JobStatus, ProfileSkill},
    progress::Progress,
    submission::{RunStatus, SubmissionKind},
    user::{DisplayName, Email, Role, User},
};
use fairgig_store::{
    applications::NewReview,
    embeddings::EntityKind,
    marketplace::{JobInput, JobReview, ProfileInput},
    users::NewUser,
    Store,
};
use serde::Deserialize;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::{
    caller::{Caller, Credential},
    matching::{profile_text, FairnessReport, GroupMetrics},
    steps::outputs::{Matched, Published, RunOutputs},
    submissions::SubmissionRequest,
    Engine,
};

const DEMO_DATA: &str = include_str!("../demo/demo.json");
/// Demo accounts live under a reserved domain (RFC 2606).
const DOMAIN: &str = "demo.fairgig.example";
/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "fairgig-demo-password";
/// How long the pipeline may take for all job posts.
const PIPELINE_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Deserialize)]
struct DemoData {
    attribution: String,
    freelancers: Vec<DemoFreelancer>,
    jobs: Vec<DemoJob>,
}

#[derive(Deserialize)]
struct DemoFreelancer {
    name: String,
    headline: String,
    bio: String,
    skills: Vec<ProfileSkill>,
    hourly_rate_eur: i64,
    region: String,
    utc_offset_minutes: i32,
    availability: Availability,
    years_experience: f64,
    languages: Vec<String>,
    group_attributes: BTreeMap<String, String>,
    /// Ratings of past jobs, one per job done.
    history: Vec<i32>,
}

#[derive(Deserialize)]
struct DemoJob {
    title: String,
    text: String,
    region: Option<String>,
}

/// The demo's job posts and freelancer bios, with their kinds: a reference
/// corpus of realistic text (bias rule packs are evaluated on it).
pub fn reference_texts() -> Vec<(fairgig_ai::bias::TextKind, String)> {
    use fairgig_ai::bias::TextKind;
    let Ok(data) = serde_json::from_str::<DemoData>(DEMO_DATA) else { return Vec::new() };
    let jobs = data
        .jobs
        .into_iter()
        .map(|job| (TextKind::JobPost, format!("{}\n{}", job.title, job.text)));
    let bios = data
        .freelancers
        .into_iter()
        .map(|f| (TextKind::Profile, format!("{}\n{}", f.headline, f.bio)));
    jobs.chain(bios).collect()
}

/// Loads the demo into the engine's (fresh) database, runs its job posts
/// through the pipeline and prints the top matches of `show` of them.
pub async fn run(engine: &Engine, show: usize, progress: &dyn Progress) -> anyhow::Result<()> {
    let store = &engine.store;
    let client_email = Email::parse(&format!("client@{DOMAIN}"))?;
    if store.find_user_by_email(&client_email).await?.is_some() {
        bail!(
            "this database already holds the demo (client@{DOMAIN} exists); \
             run it on a fresh one, e.g. FAIRGIG_DATABASE__URL=sqlite://demo.db fairgig demo"
        );
    }
    let data: DemoData =
        serde_json::from_str(DEMO_DATA).context("reading the bundled demo data")?;
    println!("Demo data: {}\n", data.attribution);

    let started = Instant::now();
    let password_hash = engine.passwords.hash(DEMO_PASSWORD).await?;
    let account = |email: &str, name: &str, role| -> anyhow::Result<NewUser> {
        Ok(NewUser {
            email: Email::parse(email)?,
            display_name: DisplayName::parse(name)?,
            role,
            region: None,
            password_hash: password_hash.clone(),
        })
    };
    let client =
        store.create_user(account(client_email.as_ref(), "Demo Client", Role::Client)?).await?;
    let mut done = 0;
    progress.stage("freelancers", Some(data.freelancers.len() as u64));
    for (index, freelancer) in data.freelancers.iter().enumerate() {
        let email = format!("freelancer{:03}@{DOMAIN}", index + 1);
        let user = store.create_user(account(&email, &freelancer.name, Role::Freelancer)?).await?;
        let input = profile_input(freelancer);
        store.put_profile(user.id, &input).await?;
        engine
            .embeddings
            .embed_entity(EntityKind::Profile, user.id.as_uuid(), &profile_text(&input))
            .await
            .context("embedding a demo profile")?;
        for rating in &freelancer.history {
            past_job(store, &client, user.id, freelancer, *rating).await?;
            done += 1;
        }
        progress.advance(1);
    }
    progress.stage("candidate index", None);
    println!(
        "{} freelancers ({} with {done} past jobs between them) loaded and embedded in {:.1} s",
        data.freelancers.len(),
        data.freelancers.iter().filter(|f| !f.history.is_empty()).count(),
        started.elapsed().as_secs_f64()
    );
    engine.profile_index.build(store).await.context("building the candidate index")?;

    let started = Instant::now();
    let caller = Caller { user: client.clone(), credential: Credential::Session(SessionId::new()) };
    let mut submissions = Vec::with_capacity(data.jobs.len());
    progress.stage("job posts", Some(data.jobs.len() as u64));
    for job in &data.jobs {
        let request = SubmissionRequest {
            kind: SubmissionKind::Job,
            title: job.title.clone(),
            text: job.text.clone(),
            budget: None,
            deadline: None,
            region: job.region.clone(),
            contact: None,
        };
        let (submission, _) = crate::submissions::create(
            engine,
            &caller,
            request,
            Vec::new(),
            None,
            RequestContext::default(),
        )
        .await
        .map_err(|err| anyhow::anyhow!("submitting a demo job post: {err:?}"))?;
        submissions.push(submission.id);
    }
    let stop = CancellationToken::new();
    let worker = tokio::spawn(crate::background::worker_for(engine).run(stop.clone()));
    engine.wake.notify_one();
    let finished = wait_for_runs(store, &submissions, progress).await;
    stop.cancel();
    worker.await.context("the demo worker")?;
    let outputs = finished?;
    println!(
        "{} job posts went through the pipeline in {:.1} s\n",
        outputs.len(),
        started.elapsed().as_secs_f64()
    );
    print_summary(&outputs);
    for (title, output) in data.jobs.iter().map(|job| &job.title).zip(&outputs).take(show) {
        print_matches(store, title, output).await?;
    }
    println!(
        "Every demo account's password is `{DEMO_PASSWORD}`: client@{DOMAIN}, \
         freelancer001@{DOMAIN} … freelancer{:03}@{DOMAIN}.",
        data.freelancers.len()
    );
    Ok(())
}

fn profile_input(freelancer: &DemoFreelancer) -> ProfileInput {
    ProfileInput {
        headline: freelancer.headline.clone(),
        bio: freelancer.bio.clone(),
        skills: freelancer.skills.clone(),
        hourly_rate_minor: Some(freelancer.hourly_rate_eur * 100),
        currency: Some("EUR".to_owned()),
        region: Some(freelancer.region.clone()),
        utc_offset_minutes: Some(freelancer.utc_offset_minutes),
        availability: freelancer.availability,
        years_experience: freelancer.years_experience,
        languages: freelancer.languages.clone(),
        portfolio: Vec::new(),
        group_attributes: freelancer.group_attributes.clone(),
    }
}

/// One job done in the past, the way the marketplace records it: opened,
/// applied to, hired, completed, reviewed.
async fn past_job(
    store: &Store,
    client: &User,
    freelancer: UserId,
    profile: &DemoFreelancer,
    rating: i32,
) -> anyhow::Result<()> {
    let skills: Vec<String> = profile.skills.iter().take(3).map(|s| s.name.clone()).collect();
    let input = JobInput {
        title: format!("Earlier work: {}", skills.join(", ")),
        description: "A finished job from the demo's history.".to_owned(),
        required_skills: skills,
        preferred_skills: Vec::new(),
        max_hourly_minor: None,
        currency: None,
        region: None,
        remote: true,
        utc_offset_minutes: None,
        experience_level: None,
    };
    let job =
        store.create_job(client.id, None, &input, JobStatus::Open, &JobReview::unchecked()).await?;
    let application = store.apply(job.id, freelancer, "", None).await?;
    store
        .set_application_status(
            application.id,
            &[ApplicationStatus::Applied],
            ApplicationStatus::Hired,
            client.id,
        )
        .await?;
    store.complete_job(job.id).await?;
    store
        .create_review(&NewReview {
            job: job.id,
            author: client.id,
            subject: freelancer,
            rating,
            sub_ratings: json!({}),
            body: String::new(),
            bias_report: json!({}),
            published: true,
        })
        .await?;
    Ok(())
}

/// Waits until every submission's run ended; their step outputs, in order.
async fn wait_for_runs(
    store: &Store,
    submissions: &[SubmissionId],
    progress: &dyn Progress,
) -> anyhow::Result<Vec<RunOutputs>> {
    let deadline = Instant::now() + PIPELINE_TIMEOUT;
    loop {
        let mut outputs = Vec::with_capacity(submissions.len());
        for submission in submissions {
            let run = store.run_of_submission(*submission).await?;
            if run.status == RunStatus::Running {
                break;
            }
            outputs.push(RunOutputs::of(&run.steps));
        }
        if outputs.len() == submissions.len() {
            return Ok(outputs);
        }
        progress.set(outputs.len() as u64);
        if Instant::now() > deadline {
            bail!("the pipeline did not finish the demo job posts within {PIPELINE_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn print_summary(outputs: &[RunOutputs]) {
    let statuses: Vec<JobStatus> = outputs
        .iter()
        .filter_map(|o| o.published.as_ref().and_then(Published::job))
        .map(|(_, status)| status)
        .collect();
    let open = statuses.iter().filter(|status| **status == JobStatus::Open).count();
    let drafts = statuses.iter().filter(|status| **status == JobStatus::Draft).count();
    let flagged: usize = outputs
        .iter()
        .filter_map(|o| o.bias.as_ref())
        .map(|checked| checked.0.findings_total)
        .sum();
    println!(
        "Jobs: {open} open, {drafts} held as drafts for bias review; {flagged} bias findings in all.\n"
    );
}

async fn print_matches(store: &Store, title: &str, output: &RunOutputs) -> anyhow::Result<()> {
    let Some(Matched::List { pool, ranker, matches, fairness, .. }) = &output.matched else {
        return Ok(());
    };
    println!("== {title}");
    if let Some(Published::Job { required_skills, .. }) = &output.published {
        println!("   required skills found by analysis: {}", required_skills.join(", "));
    }
    println!("   {pool} qualified candidates scored; ranker {ranker}");
    for entry in matches.iter().take(5) {
        let profile = store.profile(entry.freelancer).await?;
        let user = store.get_user(entry.freelancer).await?;
        println!(
            "   #{} {} — {} (score {:.3}{}{})",
            entry.rank,
            user.display_name,
            profile.input.headline,
            entry.score,
            if entry.newcomer { ", newcomer" } else { "" },
            if entry.rank == entry.relevance_rank {
                String::new()
            } else {
                format!(", {} by score alone", entry.relevance_rank)
            },
        );
        for line in &entry.strengths {
            println!("       + {line}");
        }
        for line in &entry.gaps {
            println!("       - {line}");
        }
    }
    let min_skew = |metrics: &Option<GroupMetrics>| {
        metrics.as_ref().map_or_else(|| "n/a".to_owned(), GroupMetrics::min_skew_figure)
    };
    println!(
        "   fairness ({}, by {}): target {} ; MinSkew@k before {}, after {}\n",
        fairness.algorithm,
        fairness.attribute,
        shares(fairness),
        min_skew(&fairness.before),
        min_skew(&fairness.after),
    );
    Ok(())
}

/// `newcomer 35%, established 65%` from a fairness report.
fn shares(fairness: &FairnessReport) -> String {
    fairness
        .groups
        .iter()
        .zip(&fairness.target)
        .map(|(group, share)| format!("{group} {:.0}%", share * 100.0))
        .collect::<Vec<_>>()
        .join(", ")
}
