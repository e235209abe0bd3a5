//! What a signed-in user is told as it happens (`GET /me/events`): a
//! client hears of each new application to their jobs, a freelancer of each
//! newly opened job that fits their profile (a skill they have, in their
//! region or remote). The stream reads the store on a short interval, so it
//! sees what other replicas wrote, and ends after [`MAX_WATCH`]; clients
//! reconnect (EventSource does so by itself).

use std::collections::{HashSet, VecDeque};

use fairgig_core::{
    api_key::Scope,
    ids::{ApplicationId, JobId, UserId},
    marketplace::JobStatus,
    user::Role,
};
use fairgig_store::marketplace::{Job, Profile};
use time::OffsetDateTime;

use crate::{candidates::OVERLAP, Caller, Engine, Result};

/// How often the store is read.
const POLL: std::time::Duration = std::time::Duration::from_secs(1);
/// How long one stream lasts.
const MAX_WATCH: std::time::Duration = std::time::Duration::from_secs(3_600);

/// Something new for the watcher.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveEvent {
    /// Someone applied to one of the client's jobs.
    Application { application: ApplicationId, job: JobId, job_title: String, freelancer: UserId },
    /// A job opened that fits the freelancer.
    Job { job: JobId, title: String, required_skills: Vec<String> },
}

/// Whose events a stream carries.
#[derive(Clone, Copy, Debug)]
enum Watcher {
    Client(UserId),
    Freelancer(UserId),
}

struct Watch {
    engine: Engine,
    watcher: Watcher,
    /// Rows changed at or after this are read next (minus [`OVERLAP`]).
    cursor: OffsetDateTime,
    /// Sent already: the overlap reads some rows twice.
    sent: HashSet<uuid::Uuid>,
    pending: VecDeque<LiveEvent>,
    started: tokio::time::Instant,
}

/// The caller's live events from now on; clients and freelancers (an
/// admin's stream stays quiet but for keep-alives).
pub fn watch(engine: Engine, caller: &Caller) -> Result<impl futures::Stream<Item = LiveEvent>> {
    caller.require(Scope::Read)?;
    let watcher = match caller.user.role {
        Role::Freelancer => Watcher::Freelancer(caller.user.id),
        _ => Watcher::Client(caller.user.id),
    };
    let start = Watch {
        engine,
        watcher,
        cursor: OffsetDateTime::now_utc(),
        sent: HashSet::new(),
        pending: VecDeque::new(),
        started: tokio::time::Instant::now(),
    };
    Ok(futures::stream::unfold(start, |mut watch| async move {
        loop {
            if let Some(event) = watch.pending.pop_front() {
                return Some((event, watch));
            }
            if watch.started.elapsed() >= MAX_WATCH {
                return None;
            }
            tokio::time::sleep(POLL).await;
            if let Err(err) = watch.look().await {
                tracing::warn!(error = %err, "live events: reading the store failed; trying again");
            }
        }
    }))
}

impl Watch {
    /// Queues what changed since the last look.
    async fn look(&mut self) -> Result<(), fairgig_store::StoreError> {
        let now = OffsetDateTime::now_utc();
        let since = self.cursor - OVERLAP;
        match self.watcher {
            Watcher::Client(owner) => {
                for (application, job_title) in
                    self.engine.store.applications_to_jobs_of(owner, since).await?
                {
                    if self.sent.insert(application.id.as_uuid()) {
                        self.pending.push_back(LiveEvent::Application {
                            application: application.id,
                            job: application.job,
                            job_title,
                            freelancer: application.freelancer,
                        });
                    }
                }
            }
            Watcher::Freelancer(freelancer) => {
                let Ok(profile) = self.engine.store.profile(freelancer).await else {
                    self.cursor = now;
                    return Ok(());
                };
                for job in self.engine.store.jobs_changed_since(since).await? {
                    if job.status == JobStatus::Open
                        && fits(&job, &profile)
                        && self.sent.insert(job.id.as_uuid())
                    {
                        self.pending.push_back(LiveEvent::Job {
                            job: job.id,
                            title: job.input.title.clone(),
                            required_skills: job.input.required_skills.clone(),
                        });
                    }
                }
            }
        }
        self.cursor = now;
        Ok(())
    }
}

/// A job worth telling a freelancer about: they have one of its required
/// skills (any job when it requires none), and it is remote, has no region
/// or is in theirs.
fn fits(job: &Job, profile: &Profile) -> bool {
    let theirs: HashSet<String> =
        profile.input.skills.iter().map(|skill| skill.name.trim().to_lowercase()).collect();
    let skilled = job.input.required_skills.is_empty()
        || job
            .input
            .required_skills
            .iter()
            .any(|skill| theirs.contains(&skill.trim().to_lowercase()));
    let placed = job.input.remote
        || job.input.region.is_none()
        || job
            .input
            .region
            .as_deref()
            .zip(profile.input.region.as_deref())
            .is_some_and(|(job, theirs)| job.eq_ignore_ascii_case(theirs));
    skilled && placed
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use fairgig_core::marketplace::{Availability, ProfileSkill, SkillLevel};
    use fairgig_store::marketplace::{JobInput, ProfileInput};

    use super::*;

    fn job(skills: &[&str], region: Option<&str>, remote: bool) -> Job {
        let at = OffsetDateTime::UNIX_EPOCH;
        Job {
            id: JobId::new(),
            owner: UserId::new(),
            submission: None,
            input: JobInput {
                title: "Job".into(),
                description: String::new(),
                required_skills: skills.iter().map(|s| (*s).to_owned()).collect(),
                preferred_skills: vec![],
                max_hourly_minor: None,
                currency: None,
                region: region.map(str::to_owned),
                remote,
                utc_offset_minutes: None,
                experience_level: None,
            },
            status: JobStatus::Open,
            bias_report: serde_json::Value::Null,
            bias_acknowledged: false,
            needs_review: false,
            created_at: at,
            updated_at: at,
        }
    }

    fn profile(skills: &[&str], region: Option<&str>) -> Profile {
        let at = OffsetDateTime::UNIX_EPOCH;
        Profile {
            user_id: UserId::new(),
            input: ProfileInput {
                headline: "Dev".into(),
                bio: String::new(),
                skills: skills
                    .iter()
                    .map(|s| ProfileSkill { name: (*s).to_owned(), level: SkillLevel::Expert })
                    .collect(),
                hourly_rate_minor: None,
                currency: None,
                region: region.map(str::to_owned),
                utc_offset_minutes: None,
                availability: Availability::Available,
                years_experience: 1.0,
                languages: vec![],
                portfolio: vec![],
                group_attributes: BTreeMap::new(),
            },
            completed_jobs: 0,
            rating_sum: 0.0,
            rating_count: 0,
            last_active_at: at,
            created_at: at,
            updated_at: at,
        }
    }

    #[test]
    fn a_job_fits_by_one_shared_skill_and_its_place() {
        let rustacean = profile(&["Rust", "Go"], Some("DE"));
        assert!(fits(&job(&["rust", "Kubernetes"], None, true), &rustacean));
        assert!(fits(&job(&[], Some("de"), false), &rustacean), "no skills required");
        assert!(!fits(&job(&["Photography"], None, true), &rustacean));
        assert!(!fits(&job(&["Rust"], Some("FR"), false), &rustacean), "elsewhere, on site");
        assert!(fits(&job(&["Rust"], Some("FR"), true), &rustacean), "elsewhere, remote");
        assert!(!fits(&job(&["Rust"], Some("FR"), false), &profile(&["Rust"], None)));
    }
}
