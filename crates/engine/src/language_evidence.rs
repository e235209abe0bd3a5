//! Does flagged language cost a group its applications here? For each job,
//! the categories of language its bias check found next to who applied
//! (newcomers, and for admins a self-declared group); for admins, over a
//! period, each category's jobs against the jobs without it: applications
//! per job and the applicants' shares, with the counts behind each share.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fairgig_core::{
    api_key::Scope,
    ids::{JobId, UserId},
    ValidationError,
};
use fairgig_matching::fairness::groups::{declared_groups, is_attribute_name, DeclaredGroups};
use fairgig_store::{job_activity::Applicant, marketplace::Job};
use serde::Serialize;
use utoipa::ToSchema;

use crate::{Caller, Engine, Result};

/// One group's applications and share of all applications.
#[derive(Clone, Debug, PartialEq, Serialize, ToSchema)]
pub struct GroupShare {
    pub group: String,
    pub applications: usize,
    pub share: f64,
}

/// Who applied: how many, how many newcomers (no completed job yet), and,
/// when grouped by a self-declared attribute (admins), each group's share.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct ApplicantMix {
    pub applications: usize,
    pub newcomers: usize,
    /// `None` without applications.
    pub newcomer_share: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupShare>>,
}

/// A job's flagged language and who applied.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct JobEvidence {
    pub job: JobId,
    /// Finding categories of its bias check, with how often each was found.
    pub categories: BTreeMap<String, u64>,
    pub applicants: ApplicantMix,
}

/// Jobs on one side of a category, and their applicants.
#[derive(Clone, Debug, Default, Serialize, ToSchema)]
pub struct Side {
    pub jobs: usize,
    pub applications_per_job: Option<f64>,
    pub applicants: ApplicantMix,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct CategoryEvidence {
    pub category: String,
    /// Jobs whose check found this category.
    pub with: Side,
    /// The other jobs of the period.
    pub without: Side,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct LanguageEvidence {
    pub days: i64,
    /// The self-declared attribute applicants are grouped by, if any.
    pub attribute: Option<String>,
    pub jobs: usize,
    pub categories: Vec<CategoryEvidence>,
}

/// Applicants' self-declared groups: pooled names and each user's group.
struct Grouping {
    names: Vec<String>,
    of: HashMap<UserId, usize>,
}

async fn grouping(engine: &Engine, attribute: &str) -> Result<Grouping> {
    if !is_attribute_name(attribute) {
        return Err(ValidationError::new(
            "attribute",
            "a self-declared attribute: 1–40 letters, digits, _ or -",
        )
        .into());
    }
    let answers = engine.store.declared_attribute(attribute).await?;
    let values: Vec<Option<&str>> = answers.iter().map(|a| a.value.as_deref()).collect();
    let DeclaredGroups { names, members } = declared_groups(&values);
    Ok(Grouping { names, of: answers.iter().map(|a| a.user).zip(members).collect() })
}

fn mix<'a>(
    applicants: impl Iterator<Item = &'a Applicant>,
    grouping: Option<&Grouping>,
) -> ApplicantMix {
    let mut applications = 0;
    let mut newcomers = 0;
    let mut per_group = vec![0usize; grouping.map_or(0, |g| g.names.len())];
    for applicant in applicants {
        applications += 1;
        newcomers += usize::from(applicant.completed_jobs == 0);
        if let Some(grouping) = grouping {
            per_group[grouping.of.get(&applicant.freelancer).copied().unwrap_or(0)] += 1;
        }
    }
    let share = |n: usize| (applications > 0).then(|| n as f64 / applications as f64);
    ApplicantMix {
        applications,
        newcomers,
        newcomer_share: share(newcomers),
        groups: grouping.map(|grouping| {
            grouping
                .names
                .iter()
                .zip(per_group)
                .map(|(group, n)| GroupShare {
                    group: group.clone(),
                    applications: n,
                    share: share(n).unwrap_or(0.0),
                })
                .collect()
        }),
    }
}

/// The finding categories of a job's bias check.
fn categories(job: &Job) -> BTreeMap<String, u64> {
    job.bias_report["categories"]
        .as_object()
        .map(|found| {
            found.iter().filter_map(|(name, count)| Some((name.clone(), count.as_u64()?))).collect()
        })
        .unwrap_or_default()
}

/// A job's flagged language and who applied (its owner or an admin; only
/// an admin may group applicants by a self-declared attribute).
pub async fn for_job(
    engine: &Engine,
    caller: &Caller,
    id: JobId,
    attribute: Option<&str>,
) -> Result<JobEvidence> {
    caller.require(Scope::Read)?;
    let job = crate::jobs::managed(engine, caller, id).await?;
    let grouping = match attribute.map(str::trim).filter(|a| !a.is_empty()) {
        Some(attribute) => {
            caller.require_admin()?;
            Some(grouping(engine, attribute).await?)
        }
        None => None,
    };
    let applicants = engine.store.applicants_of(id).await?;
    Ok(JobEvidence {
        job: id,
        categories: categories(&job),
        applicants: mix(applicants.iter(), grouping.as_ref()),
    })
}

/// Over the jobs posted in the last `days` days (1–3660, default 90):
/// each finding category's jobs against the others (admins).
pub async fn report(
    engine: &Engine,
    caller: &Caller,
    days: Option<i64>,
    attribute: Option<&str>,
) -> Result<LanguageEvidence> {
    caller.require_admin()?;
    let days = days.unwrap_or(90);
    if !(1..=3660).contains(&days) {
        return Err(ValidationError::new("days", "must be between 1 and 3660").into());
    }
    let attribute = attribute.map(str::trim).filter(|a| !a.is_empty());
    let grouping = match attribute {
        Some(attribute) => Some(grouping(engine, attribute).await?),
        None => None,
    };
    let since = time::OffsetDateTime::now_utc() - time::Duration::days(days);
    let jobs = engine.store.jobs_posted_since(since).await?;
    let applicants = engine.store.applicants_to_jobs_since(since).await?;
    let mut by_job: HashMap<JobId, Vec<&Applicant>> = HashMap::new();
    for applicant in &applicants {
        by_job.entry(applicant.job).or_default().push(applicant);
    }
    let found: Vec<(JobId, BTreeMap<String, u64>)> =
        jobs.iter().map(|job| (job.id, categories(job))).collect();
    let names: BTreeSet<&String> = found.iter().flat_map(|(_, found)| found.keys()).collect();
    let side = |with: bool, category: &str| {
        let chosen: Vec<JobId> = found
            .iter()
            .filter(|(_, found)| found.contains_key(category) == with)
            .map(|(id, _)| *id)
            .collect();
        let of_chosen = chosen.iter().flat_map(|id| by_job.get(id).into_iter().flatten().copied());
        let applicants = mix(of_chosen, grouping.as_ref());
        Side {
            jobs: chosen.len(),
            applications_per_job: (!chosen.is_empty())
                .then(|| applicants.applications as f64 / chosen.len() as f64),
            applicants,
        }
    };
    Ok(LanguageEvidence {
        days,
        attribute: attribute.map(str::to_owned),
        jobs: jobs.len(),
        categories: names
            .into_iter()
            .map(|category| CategoryEvidence {
                category: category.clone(),
                with: side(true, category),
                without: side(false, category),
            })
            .collect(),
    })
}
