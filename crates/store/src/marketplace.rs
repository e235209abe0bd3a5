//! Freelancer profiles and jobs.

use std::collections::BTreeMap;

use fairgig_core::{
    ids::{JobId, SubmissionId, UserId},
    marketplace::{Availability, ExperienceLevel, JobStatus, ProfileSkill},
};
use serde_json::Value;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{embeddings::EntityKind, now, with_pool, Store, StoreError};

/// A profile as its owner writes it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProfileInput {
    pub headline: String,
    pub bio: String,
    pub skills: Vec<ProfileSkill>,
    pub hourly_rate_minor: Option<i64>,
    pub currency: Option<String>,
    pub region: Option<String>,
    pub utc_offset_minutes: Option<i32>,
    pub availability: Availability,
    pub years_experience: f64,
    pub languages: Vec<String>,
    pub portfolio: Vec<String>,
    /// Self-declared group attributes: fairness audits only.
    pub group_attributes: BTreeMap<String, String>,
}

/// Serializable so the matcher's candidate index can keep profiles in its
/// snapshot.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    pub user_id: UserId,
    pub input: ProfileInput,
    pub completed_jobs: i32,
    pub rating_sum: f64,
    pub rating_count: i32,
    pub last_active_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// A job as its owner writes it.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JobInput {
    pub title: String,
    pub description: String,
    pub required_skills: Vec<String>,
    pub preferred_skills: Vec<String>,
    pub max_hourly_minor: Option<i64>,
    pub currency: Option<String>,
    pub region: Option<String>,
    pub remote: bool,
    pub utc_offset_minutes: Option<i32>,
    pub experience_level: Option<ExperienceLevel>,
}

/// Serializable so the index of open jobs can keep them in its snapshot.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Job {
    pub id: JobId,
    pub owner: UserId,
    pub submission: Option<SubmissionId>,
    pub input: JobInput,
    pub status: JobStatus,
    /// The bias check of title and description.
    pub bias_report: Value,
    /// The bias check asks for review: the job opens only acknowledged.
    pub needs_review: bool,
    pub bias_acknowledged: bool,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct ProfileRow {
    user_id: Uuid,
    headline: String,
    bio: String,
    skills: String,
    hourly_rate_minor: Option<i64>,
    currency: Option<String>,
    region: Option<String>,
    utc_offset_minutes: Option<i32>,
    availability: String,
    years_experience: f64,
    languages: String,
    portfolio: String,
    group_attributes: String,
    completed_jobs: i32,
    rating_sum: f64,
    rating_count: i32,
    last_active_at: OffsetDateTime,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

const PROFILE_COLUMNS: &str =
    "user_id, headline, bio, skills, hourly_rate_minor, currency, region, \
    utc_offset_minutes, availability, years_experience, languages, portfolio, group_attributes, \
    completed_jobs, rating_sum, rating_count, last_active_at, created_at, updated_at";

fn json<T: serde::de::DeserializeOwned>(text: &str, what: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|err| StoreError::Corrupt(format!("{what}: {err}")))
}

/// The columns a [`JobInput`] fills, in the order `bind_job_input!` binds
/// them (as `$4`–`$13` in both the insert and the edit).
const JOB_INPUT_COLUMNS: [&str; 10] = [
    "title",
    "description",
    "required_skills",
    "preferred_skills",
    "max_hourly_minor",
    "currency",
    "region",
    "remote",
    "utc_offset_minutes",
    "experience_level",
];

/// Binds a job's fields to `$query` in [`JOB_INPUT_COLUMNS`] order.
macro_rules! bind_job_input {
    ($query:expr, $input:expr) => {
        $query
            .bind(&$input.title)
            .bind(&$input.description)
            .bind(to_json(&$input.required_skills))
            .bind(to_json(&$input.preferred_skills))
            .bind($input.max_hourly_minor)
            .bind($input.currency.as_deref())
            .bind($input.region.as_deref())
            .bind($input.remote)
            .bind($input.utc_offset_minutes)
            .bind($input.experience_level.map(|level| level.as_str()))
    };
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Plain data (strings, numbers, maps): serialising cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

impl ProfileRow {
    fn into_profile(self) -> Result<Profile, StoreError> {
        let what = |field: &str| format!("profile {} {field}", self.user_id);
        Ok(Profile {
            user_id: UserId::from_uuid(self.user_id),
            input: ProfileInput {
                headline: self.headline.clone(),
                bio: self.bio.clone(),
                skills: json(&self.skills, &what("skills"))?,
                hourly_rate_minor: self.hourly_rate_minor,
                currency: self.currency.clone(),
                region: self.region.clone(),
                utc_offset_minutes: self.utc_offset_minutes,
                availability: self
                    .availability
                    .parse()
                    .map_err(|_| StoreError::Corrupt(what("availability")))?,
                years_experience: self.years_experience,
                languages: json(&self.languages, &what("languages"))?,
                portfolio: json(&self.portfolio, &what("portfolio"))?,
                group_attributes: json(&self.group_attributes, &what("group attributes"))?,
            },
            completed_jobs: self.completed_jobs,
            rating_sum: self.rating_sum,
            rating_count: self.rating_count,
            last_active_at: self.last_active_at,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    owner_id: Uuid,
    submission_id: Option<Uuid>,
    title: String,
    description: String,
    required_skills: String,
    preferred_skills: String,
    max_hourly_minor: Option<i64>,
    currency: Option<String>,
    region: Option<String>,
    remote: bool,
    utc_offset_minutes: Option<i32>,
    experience_level: Option<String>,
    status: String,
    bias_report: String,
    needs_review: bool,
    bias_acknowledged: bool,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

const JOB_COLUMNS: &str = "id, owner_id, submission_id, title, description, required_skills, \
    preferred_skills, max_hourly_minor, currency, region, remote, utc_offset_minutes, \
    experience_level, status, bias_report, needs_review, bias_acknowledged, created_at, updated_at";

impl JobRow {
    fn into_job(self) -> Result<Job, StoreError> {
        let what = |field: &str| format!("job {} {field}", self.id);
        Ok(Job {
            id: JobId::from_uuid(self.id),
            owner: UserId::from_uuid(self.owner_id),
            submission: self.submission_id.map(SubmissionId::from_uuid),
            input: JobInput {
                title: self.title.clone(),
                description: self.description.clone(),
                required_skills: json(&self.required_skills, &what("required skills"))?,
                preferred_skills: json(&self.preferred_skills, &what("preferred skills"))?,
                max_hourly_minor: self.max_hourly_minor,
                currency: self.currency.clone(),
                region: self.region.clone(),
                remote: self.remote,
                utc_offset_minutes: self.utc_offset_minutes,
                experience_level: self
                    .experience_level
                    .as_deref()
                    .map(str::parse)
                    .transpose()
                    .map_err(|_| StoreError::Corrupt(what("experience level")))?,
            },
            status: self.status.parse().map_err(|_| StoreError::Corrupt(what("status")))?,
            bias_report: json(&self.bias_report, &what("bias report"))?,
            needs_review: self.needs_review,
            bias_acknowledged: self.bias_acknowledged,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// A job's bias check as stored: the report, and whether it asks for review.
#[derive(Clone, Debug)]
pub struct JobReview {
    pub report: Value,
    pub needs_review: bool,
}

impl JobReview {
    /// For jobs that were never checked (the demo's, tests').
    pub fn unchecked() -> Self {
        JobReview { report: Value::Object(Default::default()), needs_review: false }
    }
}

/// A profile the matcher may consider, with its current embedding.
#[derive(Clone, Debug)]
pub struct MatchableProfile {
    pub profile: Profile,
    pub vector: Vec<f32>,
}

/// One profile's answer for a self-declared attribute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeclaredAnswer {
    pub user: UserId,
    /// Open to work (part of the pool matching draws from).
    pub open: bool,
    pub value: Option<String>,
}

/// A row changed (itself or its vector) since some moment, with its
/// vector: what the matcher's in-memory indexes follow.
#[derive(Clone, Debug)]
pub struct Changed<T> {
    pub entity: T,
    pub vector: Vec<f32>,
    pub vector_updated_at: OffsetDateTime,
}

/// Runs a [`changes_sql`] query for entities of `$kind` and decodes each
/// row (`$row`, made an entity by its method `$into`) with its vector.
macro_rules! fetch_changes {
    ($store:expr, $sql:expr, $kind:expr, $model:expr, $since:expr, $row:ty, $into:ident) => {{
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            entity: $row,
            vector: Vec<u8>,
            vector_updated_at: OffsetDateTime,
        }
        let rows: Vec<Row> = with_pool!($store, pool => {
            sqlx::query_as(&$sql)
                .bind($kind.as_str())
                .bind($model)
                .bind($since)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(Changed {
                    vector: crate::embeddings::decode_vector(&row.vector)?,
                    vector_updated_at: row.vector_updated_at,
                    entity: row.entity.$into()?,
                })
            })
            .collect()
    }};
}

/// The query of [`Store::profile_changes`] and [`Store::job_changes`]:
/// `columns` of `table` (alias `t`, key column `id`) joined with their
/// `$2` vectors of kind `$1`, for the rows whose row or vector changed at
/// or after `$3`. The changed ids come from two index range scans
/// (migrations 0011 and 0014); only their rows are joined and read.
/// `model_id || ''` keeps SQLite off the model_id index, which would walk
/// every vector of the model probing the id list (12 ms at 10k profiles,
/// per match); the primary key is used instead.
fn changes_sql(table: &str, id: &str, columns: &str) -> String {
    let columns: String =
        columns.split(", ").map(|c| format!("t.{c}")).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT {columns}, e.vector, e.updated_at AS vector_updated_at \
         FROM {table} t JOIN entity_embeddings e \
           ON e.entity_kind = $1 AND e.entity_id = t.{id} AND e.model_id || '' = $2 \
         WHERE t.{id} IN ( \
           SELECT {id} FROM {table} WHERE updated_at >= $3 \
           UNION SELECT entity_id FROM entity_embeddings \
             WHERE entity_kind = $1 AND updated_at >= $3)"
    )
}

impl Store {
    /// Creates or replaces the caller's profile; counters and `created_at` survive.
    pub async fn put_profile(
        &self,
        user: UserId,
        input: &ProfileInput,
    ) -> Result<Profile, StoreError> {
        let at = now();
        let sql = format!(
            "INSERT INTO profiles (user_id, headline, bio, skills, hourly_rate_minor, currency, region, \
               utc_offset_minutes, availability, years_experience, languages, portfolio, group_attributes, \
               last_active_at, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $14) \
             ON CONFLICT (user_id) DO UPDATE SET headline = $2, bio = $3, skills = $4, \
               hourly_rate_minor = $5, currency = $6, region = $7, utc_offset_minutes = $8, \
               availability = $9, years_experience = $10, languages = $11, portfolio = $12, \
               group_attributes = $13, last_active_at = $14, updated_at = $14 \
             RETURNING {PROFILE_COLUMNS}"
        );
        let row: ProfileRow = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(user.as_uuid())
                .bind(&input.headline)
                .bind(&input.bio)
                .bind(to_json(&input.skills))
                .bind(input.hourly_rate_minor)
                .bind(input.currency.as_deref())
                .bind(input.region.as_deref())
                .bind(input.utc_offset_minutes)
                .bind(input.availability.as_str())
                .bind(input.years_experience)
                .bind(to_json(&input.languages))
                .bind(to_json(&input.portfolio))
                .bind(to_json(&input.group_attributes))
                .bind(at)
                .fetch_one(pool)
                .await?
        });
        row.into_profile()
    }

    /// A profile; `NotFound` for an erased account's (its emptied row stays
    /// only so the indexes see it leave).
    pub async fn profile(&self, user: UserId) -> Result<Profile, StoreError> {
        let sql = format!(
            "SELECT {PROFILE_COLUMNS} FROM profiles WHERE user_id = $1 \
             AND NOT EXISTS (SELECT 1 FROM users WHERE id = $1 AND erased_at IS NOT NULL)"
        );
        let row: Option<ProfileRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(user.as_uuid()).fetch_optional(pool).await?
        });
        row.ok_or(StoreError::NotFound)?.into_profile()
    }

    /// Profiles in any availability changed at or after `since` (the
    /// freelancer search index's catch-up).
    pub async fn profiles_changed_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<Profile>, StoreError> {
        let sql = format!("SELECT {PROFILE_COLUMNS} FROM profiles WHERE updated_at >= $1");
        let rows: Vec<ProfileRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(since).fetch_all(pool).await?
        });
        rows.into_iter().map(ProfileRow::into_profile).collect()
    }

    /// These freelancers' profiles, in the order asked (unknown ids are left out).
    pub async fn profiles_by_ids(&self, ids: &[UserId]) -> Result<Vec<Profile>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT {PROFILE_COLUMNS} FROM profiles WHERE user_id IN ({})",
            placeholders.join(", ")
        );
        let rows: Vec<ProfileRow> = with_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(id.as_uuid());
            }
            query.fetch_all(pool).await?
        });
        let mut found: std::collections::HashMap<UserId, Profile> = rows
            .into_iter()
            .map(|row| row.into_profile().map(|profile| (profile.user_id, profile)))
            .collect::<Result<_, _>>()?;
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// Profiles open to work (available or limited) that have an embedding by
    /// `model_id`, with it: the matcher's whole candidate pool.
    pub async fn matchable_profiles(
        &self,
        model_id: &str,
    ) -> Result<Vec<MatchableProfile>, StoreError> {
        let columns: String =
            PROFILE_COLUMNS.split(", ").map(|c| format!("p.{c}")).collect::<Vec<_>>().join(", ");
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            profile: ProfileRow,
            vector: Vec<u8>,
        }
        let sql = format!(
            "SELECT {columns}, e.vector FROM profiles p JOIN entity_embeddings e \
               ON e.entity_kind = $1 AND e.entity_id = p.user_id AND e.model_id = $2 \
             WHERE p.availability <> 'unavailable'"
        );
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(EntityKind::Profile.as_str())
                .bind(model_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|row| {
                Ok(MatchableProfile {
                    vector: crate::embeddings::decode_vector(&row.vector)?,
                    profile: row.profile.into_profile()?,
                })
            })
            .collect()
    }

    /// Profiles (whatever their availability) whose row or whose `model_id`
    /// vector changed at or after `since`, with the vector and when it
    /// changed: what the matcher's candidate index follows.
    pub async fn profile_changes(
        &self,
        model_id: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<Changed<Profile>>, StoreError> {
        let sql = changes_sql("profiles", "user_id", PROFILE_COLUMNS);
        fetch_changes!(self, sql, EntityKind::Profile, model_id, since, ProfileRow, into_profile)
    }

    /// Every profile's answer for the self-declared attribute `key` (`None`
    /// when it declared none) and whether it is open to work: what fairness
    /// audits group by. Answers are read here and nowhere on a client's path.
    pub async fn declared_attribute(&self, key: &str) -> Result<Vec<DeclaredAnswer>, StoreError> {
        let rows: Vec<(Uuid, String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT user_id, availability, group_attributes FROM profiles")
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|(user, availability, attributes)| {
                let mut attributes: BTreeMap<String, String> =
                    json(&attributes, &format!("profile {user} group attributes"))?;
                Ok(DeclaredAnswer {
                    user: UserId::from_uuid(user),
                    open: availability != "unavailable",
                    value: attributes.remove(key),
                })
            })
            .collect()
    }

    /// Jobs in any status whose row or `model_id` vector changed at or
    /// after `since`, with that vector: what the index of open jobs follows
    /// (a job leaving `open` is dropped from it).
    pub async fn job_changes(
        &self,
        model_id: &str,
        since: OffsetDateTime,
    ) -> Result<Vec<Changed<Job>>, StoreError> {
        let sql = changes_sql("jobs", "id", JOB_COLUMNS);
        fetch_changes!(self, sql, EntityKind::Job, model_id, since, JobRow, into_job)
    }

    /// Open jobs with an embedding by `model_id`, with it: what a freelancer
    /// can be matched to.
    pub async fn matchable_jobs(&self, model_id: &str) -> Result<Vec<(Job, Vec<f32>)>, StoreError> {
        let columns: String =
            JOB_COLUMNS.split(", ").map(|c| format!("j.{c}")).collect::<Vec<_>>().join(", ");
        let sql = format!(
            "SELECT {columns}, e.vector FROM jobs j JOIN entity_embeddings e \
               ON e.entity_kind = $1 AND e.entity_id = j.id AND e.model_id = $2 \
             WHERE j.status = 'open'"
        );
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            job: JobRow,
            vector: Vec<u8>,
        }
        let rows: Vec<Row> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(EntityKind::Job.as_str())
                .bind(model_id)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter()
            .map(|row| Ok((row.job.into_job()?, crate::embeddings::decode_vector(&row.vector)?)))
            .collect()
    }

    /// Stores a new job in `status`; `Conflict { field: "submission" }` when
    /// the submission already became a job.
    pub async fn create_job(
        &self,
        owner: UserId,
        submission: Option<SubmissionId>,
        input: &JobInput,
        status: JobStatus,
        review: &JobReview,
    ) -> Result<Job, StoreError> {
        let at = now();
        let sql = format!(
            "INSERT INTO jobs (id, owner_id, submission_id, {}, \
               status, bias_report, needs_review, bias_acknowledged, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18) \
             RETURNING {JOB_COLUMNS}",
            JOB_INPUT_COLUMNS.join(", ")
        );
        let row: JobRow = with_pool!(self, pool => {
            bind_job_input!(
                sqlx::query_as(&sql)
                    .bind(JobId::new().as_uuid())
                    .bind(owner.as_uuid())
                    .bind(submission.map(|id| id.as_uuid())),
                input
            )
                .bind(status.as_str())
                .bind(review.report.to_string())
                .bind(review.needs_review)
                .bind(false)
                .bind(at)
                .fetch_one(pool)
                .await
                .map_err(StoreError::conflict_on("submission"))?
        });
        row.into_job()
    }

    /// The job a submission became, if it did.
    pub async fn job_for_submission(
        &self,
        submission: SubmissionId,
    ) -> Result<Option<Job>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE submission_id = $1");
        let row: Option<JobRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(submission.as_uuid()).fetch_optional(pool).await?
        });
        row.map(JobRow::into_job).transpose()
    }

    /// Open jobs, newest first: the public board.
    pub async fn open_jobs(&self, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'open' ORDER BY created_at DESC, id DESC LIMIT $1"
        );
        let rows: Vec<JobRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(i64::from(limit)).fetch_all(pool).await?
        });
        rows.into_iter().map(JobRow::into_job).collect()
    }

    /// Jobs in any status changed at or after `since` (the search index's
    /// catch-up; `updated_at` is indexed, migration 0014).
    pub async fn jobs_changed_since(&self, since: OffsetDateTime) -> Result<Vec<Job>, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE updated_at >= $1");
        let rows: Vec<JobRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(since).fetch_all(pool).await?
        });
        rows.into_iter().map(JobRow::into_job).collect()
    }

    /// Jobs posted at or after `since` that are not drafts (a draft that
    /// never opened drew no applicants to count).
    pub async fn jobs_posted_since(&self, since: OffsetDateTime) -> Result<Vec<Job>, StoreError> {
        let sql =
            format!("SELECT {JOB_COLUMNS} FROM jobs WHERE created_at >= $1 AND status <> 'draft'");
        let rows: Vec<JobRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(since).fetch_all(pool).await?
        });
        rows.into_iter().map(JobRow::into_job).collect()
    }

    /// These jobs, in the order asked (unknown ids are left out).
    pub async fn jobs_by_ids(&self, ids: &[JobId]) -> Result<Vec<Job>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql =
            format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id IN ({})", placeholders.join(", "));
        let rows: Vec<JobRow> = with_pool!(self, pool => {
            let mut query = sqlx::query_as(&sql);
            for id in ids {
                query = query.bind(id.as_uuid());
            }
            query.fetch_all(pool).await?
        });
        let mut found: std::collections::HashMap<JobId, Job> = rows
            .into_iter()
            .map(|row| row.into_job().map(|job| (job.id, job)))
            .collect::<Result<_, _>>()?;
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }

    /// A client's jobs in any status, newest first.
    pub async fn jobs_of(&self, owner: UserId, limit: u32) -> Result<Vec<Job>, StoreError> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM jobs WHERE owner_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        );
        let rows: Vec<JobRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(owner.as_uuid()).bind(i64::from(limit)).fetch_all(pool).await?
        });
        rows.into_iter().map(JobRow::into_job).collect()
    }

    pub async fn job(&self, id: JobId) -> Result<Job, StoreError> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM jobs WHERE id = $1");
        let row: Option<JobRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql).bind(id.as_uuid()).fetch_optional(pool).await?
        });
        row.ok_or(StoreError::NotFound)?.into_job()
    }

    /// Replaces a job's details and bias report and moves it from `from` to
    /// `to` in one statement; a new report clears an earlier acknowledgement.
    /// `Conflict { field: "status" }` when it is no longer in `from`.
    pub async fn update_job(
        &self,
        id: JobId,
        from: JobStatus,
        to: JobStatus,
        input: &JobInput,
        review: &JobReview,
    ) -> Result<Job, StoreError> {
        let set: Vec<String> = JOB_INPUT_COLUMNS
            .iter()
            .enumerate()
            .map(|(index, column)| format!("{column} = ${}", index + 4))
            .collect();
        let sql = format!(
            "UPDATE jobs SET {}, bias_report = $14, needs_review = $15, bias_acknowledged = FALSE, \
               status = $3, updated_at = $16 WHERE id = $1 AND status = $2 RETURNING {JOB_COLUMNS}",
            set.join(", ")
        );
        let row: Option<JobRow> = with_pool!(self, pool => {
            bind_job_input!(
                sqlx::query_as(&sql)
                    .bind(id.as_uuid())
                    .bind(from.as_str())
                    .bind(to.as_str()),
                input
            )
                .bind(review.report.to_string())
                .bind(review.needs_review)
                .bind(now())
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some(row) => row.into_job(),
            None => Err(StoreError::Conflict { field: "status" }),
        }
    }

    /// Moves a job from `from` to `to`; `Conflict` when it is no longer in `from`.
    pub async fn set_job_status(
        &self,
        id: JobId,
        from: JobStatus,
        to: JobStatus,
        acknowledge_bias: bool,
    ) -> Result<Job, StoreError> {
        let sql = format!(
            "UPDATE jobs SET status = $3, updated_at = $4, \
               bias_acknowledged = (bias_acknowledged OR $5) \
             WHERE id = $1 AND status = $2 RETURNING {JOB_COLUMNS}"
        );
        let row: Option<JobRow> = with_pool!(self, pool => {
            sqlx::query_as(&sql)
                .bind(id.as_uuid())
                .bind(from.as_str())
                .bind(to.as_str())
                .bind(now())
                .bind(acknowledge_bias)
                .fetch_optional(pool)
                .await?
        });
        match row {
            Some(row) => row.into_job(),
            None => Err(StoreError::Conflict { field: "status" }),
        }
    }
}
