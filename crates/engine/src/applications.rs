//! Applications, hiring and reviews: who may apply, decide, review and
//! moderate, and what each step tells the other party.
//!
//! An application moves `applied → shortlisted → hired` (the job's owner),
//! or to `rejected` (the owner) or `withdrawn` (the applicant) until hired
//! ([`ApplicationStatus::reachable_from`]). Hiring starts the job. Once the
//! job is completed each party reviews the other once; a review whose text
//! needs a bias review waits for a moderator and counts only once
//! published.

use fairgig_ai::bias::{CheckOptions, TextKind};
use fairgig_core::{
    api_key::Scope,
    ids::{ApplicationId, JobId, ReviewId, UserId},
    marketplace::{ApplicationStatus, JobStatus, ReviewStatus},
    submission::{parse_body, Budget},
    user::Role,
    ValidationError,
};
use fairgig_notify::NotificationKind;
use fairgig_store::{
    applications::{Application, NewReview, Review},
    marketplace::Job,
    StoreError,
};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use crate::{
    error::{Error, ErrorKind, Result},
    notifications::announce_from_request,
    Caller, Engine,
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyRequest {
    /// 1–10,000 characters, not only spaces.
    #[schema(min_length = 1, max_length = 10000, pattern = "\\S")]
    pub cover_letter: String,
    pub proposed_rate: Option<Budget>,
}

/// Applies to an open job (freelancers with a profile; once per job) and
/// tells the job's owner.
pub async fn apply(
    engine: &Engine,
    caller: &Caller,
    job: JobId,
    request: ApplyRequest,
) -> Result<Application> {
    caller.require(Scope::Write)?;
    if caller.user.role != Role::Freelancer {
        return Err(Error::forbidden());
    }
    match engine.store.profile(caller.user.id).await {
        Ok(_) => {}
        Err(StoreError::NotFound) => {
            return Err(Error::new(ErrorKind::Forbidden, "create a profile before applying"))
        }
        Err(err) => return Err(err.into()),
    }
    let letter = parse_body(&request.cover_letter)
        .map_err(|err| ValidationError::new("cover_letter", err.message))?;
    let length = letter.trim().chars().count();
    if length == 0 || length > 10_000 {
        return Err(ValidationError::new("cover_letter", "must be 1 to 10000 characters").into());
    }
    let rate = request
        .proposed_rate
        .map(|rate| Budget::parse(rate.amount_minor, &rate.currency))
        .transpose()
        .map_err(|err| ValidationError::new("proposed_rate", err.message))?;
    let job = engine.store.job(job).await?;
    if job.status != JobStatus::Open {
        return Err(Error::not_found());
    }
    let application = engine
        .store
        .apply(
            job.id,
            caller.user.id,
            &letter,
            rate.as_ref().map(|r| (r.amount_minor, r.currency.as_str())),
        )
        .await?;
    announce_from_request(
        engine,
        job.owner,
        NotificationKind::ApplicationReceived,
        format!("application/{}", application.id),
        json!({"job": job_context(&job), "applicant": caller.user.display_name}),
    )
    .await;
    Ok(application)
}

/// A job's applications (its owner and admins).
pub async fn for_job(engine: &Engine, caller: &Caller, job: JobId) -> Result<Vec<Application>> {
    caller.require(Scope::Read)?;
    let job = engine.store.job(job).await?;
    if job.owner != caller.user.id && caller.user.role != Role::Admin {
        return Err(Error::not_found());
    }
    Ok(engine.store.applications_for_job(job.id).await?)
}

/// What may be decided about an application, and by whom.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationDecision {
    /// The job's owner.
    Shortlisted,
    /// The job's owner; the job moves to `in_progress`.
    Hired,
    /// The job's owner.
    Rejected,
    /// The applicant.
    Withdrawn,
}

impl ApplicationDecision {
    fn status(self) -> ApplicationStatus {
        match self {
            ApplicationDecision::Shortlisted => ApplicationStatus::Shortlisted,
            ApplicationDecision::Hired => ApplicationStatus::Hired,
            ApplicationDecision::Rejected => ApplicationStatus::Rejected,
            ApplicationDecision::Withdrawn => ApplicationStatus::Withdrawn,
        }
    }
}

/// Shortlists, hires or rejects an application (the job's owner), or
/// withdraws it (the applicant); a hire tells the freelancer.
pub async fn decide(
    engine: &Engine,
    caller: &Caller,
    id: ApplicationId,
    decision: ApplicationDecision,
) -> Result<Application> {
    caller.require(Scope::Write)?;
    let application = engine.store.application(id).await?;
    let job = engine.store.job(application.job).await?;
    let owner = job.owner == caller.user.id || caller.user.role == Role::Admin;
    let allowed = match decision {
        ApplicationDecision::Withdrawn => application.freelancer == caller.user.id,
        _ => owner,
    };
    if !allowed {
        return Err(Error::not_found());
    }
    let to = decision.status();
    let moved = engine
        .store
        .set_application_status(id, to.reachable_from(), to, caller.user.id)
        .await
        .map_err(|err| match err {
            StoreError::Conflict { field: "job" } => Error::conflict("the job is no longer open"),
            StoreError::Conflict { .. } => Error::conflict(format!(
                "an application that is {} cannot become {to}",
                application.status
            )),
            other => other.into(),
        })?;
    if to == ApplicationStatus::Hired {
        announce_from_request(
            engine,
            moved.freelancer,
            NotificationKind::Hired,
            format!("application/{}/hired", moved.id),
            json!({"job": job_context(&job)}),
        )
        .await;
    }
    Ok(moved)
}

#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SubRatings {
    pub communication: Option<u8>,
    pub quality: Option<u8>,
    pub expertise: Option<u8>,
    pub professionalism: Option<u8>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// 1–5.
    #[schema(minimum = 1, maximum = 5)]
    pub rating: u8,
    #[serde(default)]
    pub sub_ratings: SubRatings,
    /// Up to 5,000 characters.
    #[serde(default)]
    #[schema(max_length = 5000)]
    pub text: String,
}

/// Reviews the other party of a completed job (once per party): the
/// client reviews the hired freelancer, the hired freelancer the client.
pub async fn review(
    engine: &Engine,
    caller: &Caller,
    job: JobId,
    request: ReviewRequest,
) -> Result<Review> {
    caller.require(Scope::Write)?;
    let in_range = |value: u8| (1..=5).contains(&value);
    if !in_range(request.rating) {
        return Err(ValidationError::new("rating", "must be 1 to 5").into());
    }
    let subs = &request.sub_ratings;
    if [subs.communication, subs.quality, subs.expertise, subs.professionalism]
        .into_iter()
        .flatten()
        .any(|value| !in_range(value))
    {
        return Err(ValidationError::new("sub_ratings", "each must be 1 to 5").into());
    }
    let text =
        parse_body(&request.text).map_err(|err| ValidationError::new("text", err.message))?;
    if text.chars().count() > 5_000 {
        return Err(ValidationError::new("text", "must be at most 5000 characters").into());
    }
    let job = engine.store.job(job).await?;
    let hired: Vec<UserId> = engine
        .store
        .applications_for_job(job.id)
        .await?
        .into_iter()
        .filter(|application| application.status == ApplicationStatus::Hired)
        .map(|application| application.freelancer)
        .collect();
    let subject = if job.owner == caller.user.id {
        *hired.first().ok_or_else(Error::not_found)?
    } else if hired.contains(&caller.user.id) {
        job.owner
    } else {
        return Err(Error::not_found());
    };
    if job.status != JobStatus::Completed {
        return Err(Error::conflict("reviews open once the job is completed"));
    }
    let report = engine.bias.check(&text, TextKind::Review, &CheckOptions::default());
    let serialise = |err| Error::internal(err, "serialising a review");
    let review = NewReview {
        job: job.id,
        author: caller.user.id,
        subject,
        rating: i32::from(request.rating),
        sub_ratings: serde_json::to_value(&request.sub_ratings).map_err(serialise)?,
        body: text,
        bias_report: serde_json::to_value(&report).map_err(serialise)?,
        published: !report.requires_review,
    };
    let stored = engine.store.create_review(&review).await?;
    if stored.status == ReviewStatus::Published {
        announce_review(engine, &stored, &job).await;
    }
    Ok(stored)
}

/// Published reviews of a user, newest first (at most 100).
/// How many of their own applications and reviews a person is shown.
const OWN_LISTED: u32 = 100;

/// The caller's applications, newest first, each with its job's title.
pub async fn mine(engine: &Engine, caller: &Caller) -> Result<Vec<(Application, String)>> {
    caller.require(Scope::Read)?;
    Ok(engine.store.applications_by(caller.user.id, OWN_LISTED).await?)
}

/// The reviews the caller wrote, in any status (a held one says so).
pub async fn reviews_given(engine: &Engine, caller: &Caller) -> Result<Vec<Review>> {
    caller.require(Scope::Read)?;
    Ok(engine.store.reviews_by(caller.user.id, OWN_LISTED).await?)
}

/// Published reviews of someone, the most helpful first.
pub async fn reviews_of(engine: &Engine, caller: &Caller, subject: UserId) -> Result<Vec<Review>> {
    caller.require(Scope::Read)?;
    Ok(engine.store.reviews_of(subject, REVIEWS_LISTED).await?)
}

/// Reviews listed on a profile.
const REVIEWS_LISTED: u32 = 100;

/// Each sub-rating's mean over published reviews and how many gave it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, ToSchema)]
pub struct SubRatingAverages {
    pub communication: Option<f64>,
    pub quality: Option<f64>,
    pub expertise: Option<f64>,
    pub professionalism: Option<f64>,
    /// Reviews with at least one sub-rating.
    pub reviews: usize,
}

/// The sub-ratings of `reviews`, averaged one by one (a review without a
/// sub-rating does not pull its mean down).
pub fn sub_rating_averages(reviews: &[Review]) -> SubRatingAverages {
    let mean = |key: &str| {
        let given: Vec<f64> =
            reviews.iter().filter_map(|review| review.sub_ratings[key].as_f64()).collect();
        (!given.is_empty()).then(|| given.iter().sum::<f64>() / given.len() as f64)
    };
    const KEYS: [&str; 4] = ["communication", "quality", "expertise", "professionalism"];
    SubRatingAverages {
        communication: mean(KEYS[0]),
        quality: mean(KEYS[1]),
        expertise: mean(KEYS[2]),
        professionalism: mean(KEYS[3]),
        reviews: reviews
            .iter()
            .filter(|review| KEYS.iter().any(|key| review.sub_ratings[*key].is_number()))
            .count(),
    }
}

/// Marks a published review helpful for the caller, or takes the mark
/// back; returns how many find it helpful now. Nobody votes on their own.
pub async fn vote(engine: &Engine, caller: &Caller, id: ReviewId, helpful: bool) -> Result<i64> {
    caller.require(Scope::Write)?;
    let review = engine.store.review(id).await?;
    if review.status != ReviewStatus::Published {
        return Err(Error::not_found());
    }
    if review.author == caller.user.id {
        return Err(Error::conflict("you cannot mark your own review helpful"));
    }
    Ok(engine.store.vote_review(id, caller.user.id, helpful).await?)
}

/// Reviews waiting for moderation, oldest first (admins).
pub async fn pending_reviews(engine: &Engine, caller: &Caller) -> Result<Vec<Review>> {
    caller.require_admin()?;
    Ok(engine.store.pending_reviews(200).await?)
}

/// Publishes (its rating then counts) or rejects a pending review (admins).
pub async fn moderate(
    engine: &Engine,
    caller: &Caller,
    id: ReviewId,
    publish: bool,
) -> Result<Review> {
    caller.require_admin()?;
    let review = engine.store.moderate_review(id, publish).await?;
    if review.status == ReviewStatus::Published {
        let job = engine.store.job(review.job).await?;
        announce_review(engine, &review, &job).await;
    }
    Ok(review)
}

/// The job as notification templates see it.
fn job_context(job: &Job) -> serde_json::Value {
    json!({"id": job.id, "title": job.input.title, "status": job.status})
}

/// Tells the reviewed party once their review is visible (once per review:
/// publishing after moderation has the same source).
async fn announce_review(engine: &Engine, review: &Review, job: &Job) {
    announce_from_request(
        engine,
        review.subject,
        NotificationKind::ReviewReceived,
        format!("review/{}", review.id),
        json!({"job": job_context(job), "rating": review.rating}),
    )
    .await;
}

#[cfg(test)]
mod sub_rating_tests {
    use super::*;

    fn review(sub_ratings: serde_json::Value) -> Review {
        Review {
            id: ReviewId::new(),
            job: JobId::new(),
            author: UserId::new(),
            subject: UserId::new(),
            rating: 4,
            sub_ratings,
            body: String::new(),
            bias_report: json!({}),
            status: ReviewStatus::Published,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            helpful: 0,
        }
    }

    #[test]
    fn each_sub_rating_is_averaged_over_the_reviews_that_gave_it() {
        let reviews = [
            review(json!({"quality": 5, "communication": 3})),
            review(json!({"quality": 4})),
            review(json!({})),
        ];
        let averages = sub_rating_averages(&reviews);
        assert_eq!(averages.quality, Some(4.5));
        assert_eq!(averages.communication, Some(3.0));
        assert_eq!(averages.expertise, None);
        assert_eq!(averages.reviews, 2);
        assert_eq!(sub_rating_averages(&[]), SubRatingAverages::default());
    }
}
