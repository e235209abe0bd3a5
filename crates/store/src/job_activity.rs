//! What happened around a client's jobs: who opened them (views, once per
//! viewer and day) and how many applied, by application status. Read
//! together for "my jobs", so a client sees interest without opening each.

use std::collections::HashMap;

use fairgig_core::{
    ids::{JobId, UserId},
    marketplace::{ApplicationStatus, JobStatus},
};
use time::Date;
use uuid::Uuid;

use crate::{marketplace::Job, with_pool, Store, StoreError};

/// Applications to one job, by status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct ApplicantCounts {
    pub applied: i64,
    pub shortlisted: i64,
    pub hired: i64,
    pub rejected: i64,
    pub withdrawn: i64,
}

impl ApplicantCounts {
    /// Everyone who applied and has not withdrawn.
    pub fn active(&self) -> i64 {
        self.applied + self.shortlisted + self.hired + self.rejected
    }

    fn add(&mut self, status: ApplicationStatus, count: i64) {
        let slot = match status {
            ApplicationStatus::Applied => &mut self.applied,
            ApplicationStatus::Shortlisted => &mut self.shortlisted,
            ApplicationStatus::Hired => &mut self.hired,
            ApplicationStatus::Rejected => &mut self.rejected,
            ApplicationStatus::Withdrawn => &mut self.withdrawn,
        };
        *slot += count;
    }
}

/// One of a client's jobs with the interest it drew.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnedJob {
    pub job: Job,
    pub applicants: ApplicantCounts,
    /// Viewer-days: each person who opened it counts once per day.
    pub views: i64,
}

/// Someone who applied to a job, with their completed jobs now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Applicant {
    pub job: JobId,
    pub freelancer: UserId,
    pub completed_jobs: i32,
}

/// Applicants with their profile's completed jobs (0 without a profile).
const APPLICANTS: &str = "SELECT a.job_id, a.freelancer_id, COALESCE(p.completed_jobs, 0) \
     FROM applications a LEFT JOIN profiles p ON p.user_id = a.freelancer_id";

fn applicants(rows: Vec<(Uuid, Uuid, i32)>) -> Vec<Applicant> {
    rows.into_iter()
        .map(|(job, freelancer, completed_jobs)| Applicant {
            job: JobId::from_uuid(job),
            freelancer: UserId::from_uuid(freelancer),
            completed_jobs,
        })
        .collect()
}

impl Store {
    /// Everyone who applied to `job`.
    pub async fn applicants_of(&self, job: JobId) -> Result<Vec<Applicant>, StoreError> {
        let sql = format!("{APPLICANTS} WHERE a.job_id = $1");
        let rows: Vec<(Uuid, Uuid, i32)> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(job.as_uuid()).fetch_all(pool).await?
        });
        Ok(applicants(rows))
    }

    /// Everyone who applied to a job posted at or after `since`.
    pub async fn applicants_to_jobs_since(
        &self,
        since: time::OffsetDateTime,
    ) -> Result<Vec<Applicant>, StoreError> {
        let sql = format!("{APPLICANTS} JOIN jobs j ON j.id = a.job_id WHERE j.created_at >= $1");
        let rows: Vec<(Uuid, Uuid, i32)> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(since).fetch_all(pool).await?
        });
        Ok(applicants(rows))
    }

    /// Counts `viewer` opening `job` on `day` (a second look that day is
    /// not another view).
    pub async fn record_job_view(
        &self,
        job: JobId,
        viewer: UserId,
        day: Date,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO job_views (job_id, viewer_id, day) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(job.as_uuid())
            .bind(viewer.as_uuid())
            .bind(day.to_string())
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// `owner`'s jobs in every status, newest first, with applicant counts
    /// and views (three queries, whatever the number of jobs).
    pub async fn jobs_with_activity(
        &self,
        owner: UserId,
        limit: u32,
    ) -> Result<Vec<OwnedJob>, StoreError> {
        let jobs = self.jobs_of(owner, limit).await?;
        let applications: Vec<(Uuid, String, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT a.job_id, a.status, COUNT(*) FROM applications a \
                 JOIN jobs j ON j.id = a.job_id WHERE j.owner_id = $1 GROUP BY a.job_id, a.status",
            )
            .bind(owner.as_uuid())
            .fetch_all(pool)
            .await?
        });
        let views: Vec<(Uuid, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT v.job_id, COUNT(*) FROM job_views v \
                 JOIN jobs j ON j.id = v.job_id WHERE j.owner_id = $1 GROUP BY v.job_id",
            )
            .bind(owner.as_uuid())
            .fetch_all(pool)
            .await?
        });
        let mut counts: HashMap<Uuid, ApplicantCounts> = HashMap::new();
        for (job, status, count) in applications {
            let status: ApplicationStatus = status
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("application status {status:?}")))?;
            counts.entry(job).or_default().add(status, count);
        }
        let views: HashMap<Uuid, i64> = views.into_iter().collect();
        Ok(jobs
            .into_iter()
            .map(|job| {
                let id = job.id.as_uuid();
                OwnedJob {
                    applicants: counts.get(&id).copied().unwrap_or_default(),
                    views: views.get(&id).copied().unwrap_or(0),
                    job,
                }
            })
            .collect())
    }

    /// Deletes a job that is still a draft (its match lists and any
    /// applications go with it). `Conflict { field: "status" }` when it is
    /// no longer a draft; `NotFound` when there is no such job.
    pub async fn delete_draft_job(&self, job: JobId) -> Result<(), StoreError> {
        let deleted = with_pool!(self, pool => {
            sqlx::query("DELETE FROM jobs WHERE id = $1 AND status = $2")
                .bind(job.as_uuid())
                .bind(JobStatus::Draft.as_str())
                .execute(pool)
                .await?
                .rows_affected()
        });
        if deleted == 0 {
            self.job(job).await?;
            return Err(StoreError::Conflict { field: "status" });
        }
        Ok(())
    }
}
