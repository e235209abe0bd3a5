//! A person's rights over their data: a copy of everything the platform
//! holds about them (GDPR Art. 15 and 20) and the erasure of their account
//! (Art. 17). Each person can do both for themselves; admins for anyone.
//! Both are audited, and the audit log itself is kept (see
//! [`fairgig_store::personal_data`] for what an erasure keeps and why).

use std::io::{Seek, SeekFrom, Write};

use fairgig_core::{
    audit::{Actor, AuditEntry, NewAuditEntry, RequestContext},
    ids::UserId,
    user::Role,
};
use fairgig_store::{
    audit::AuditFilter, personal_data::Erasure, submissions::SubmissionFilter, StoreError,
};
use serde_json::{json, Value};
use time::OffsetDateTime;
use zip::{write::SimpleFileOptions, CompressionMethod, ZipWriter};

use crate::{Caller, Engine, Error, ErrorKind, Result};

/// Audited when someone downloads an account's data.
pub const DATA_EXPORTED: &str = "user.data_exported";
/// Audited when an account is erased.
pub const ACCOUNT_ERASED: &str = "user.erased";
/// The archive's format, written into it so a reader knows what it holds.
pub const EXPORT_FORMAT: &str = "fairgig-export/1";
/// Audit entries read per page while exporting.
const AUDIT_PAGE: u32 = 1000;

/// An account's data as one ZIP archive in an anonymous temporary file
/// (gone when dropped): `data.json` with every record, `files/` with the
/// uploaded files as they were sent, `README.txt` saying what is where.
#[derive(Debug)]
pub struct Archive {
    pub file: std::fs::File,
    pub bytes: u64,
    /// `fairgig-export-<date>.zip`, for the download.
    pub filename: String,
}

/// Whose data a call acts on: the caller's own (which needs a signed-in
/// session, not a delegated key) or, for an admin, anyone's.
#[derive(Clone, Copy, Debug)]
pub enum Whose {
    Mine,
    Account(UserId),
}

impl Whose {
    /// The account acted on, once the caller may act on it.
    fn authorise(self, caller: &Caller) -> Result<UserId> {
        match self {
            Whose::Mine => {
                caller.require_session()?;
                Ok(caller.user.id)
            }
            Whose::Account(user) => {
                caller.require_admin()?;
                Ok(user)
            }
        }
    }
}

/// Everything the platform holds about an account, as an [`Archive`]. It
/// reads every file the account uploaded, so it takes one of the caller's
/// expensive-work slots: a second export while one runs is a 429.
pub async fn export(
    engine: &Engine,
    caller: &Caller,
    whose: Whose,
    context: RequestContext,
) -> Result<Archive> {
    let user = whose.authorise(caller)?;
    let actor = Actor::User(caller.user.id);
    let _slot = engine
        .expensive
        .try_start(caller.user.id)
        .ok_or(Error::RateLimited { retry_after_secs: 1 })?;
    let account = engine.store.get_user(user).await?;
    let (data, files) = collect(engine, user, &account).await?;
    let archive = write_archive(engine, &data, &files).await?;
    engine
        .store
        .append_audit(
            NewAuditEntry::new(actor, DATA_EXPORTED)
                .target(format!("user:{user}"))
                .context(context)
                .details(json!({"files": files.len(), "bytes": archive.bytes})),
        )
        .await?;
    Ok(archive)
}

/// One uploaded file to copy into the archive.
struct FileToCopy {
    object_key: String,
    path: String,
}

/// Reads every record about `user` into `data.json`'s document, and lists
/// the files to copy beside it.
async fn collect(
    engine: &Engine,
    user: UserId,
    account: &fairgig_core::user::User,
) -> Result<(Value, Vec<FileToCopy>)> {
    let store = &engine.store;
    let all = u32::MAX;
    let profile = match store.profile(user).await {
        Ok(profile) => merged(
            &profile.input,
            json!({
                "completed_jobs": profile.completed_jobs, "rating_count": profile.rating_count,
                "rating_sum": profile.rating_sum, "last_active_at": rfc3339(profile.last_active_at),
                "created_at": rfc3339(profile.created_at), "updated_at": rfc3339(profile.updated_at),
            }),
        ),
        Err(StoreError::NotFound) => Value::Null,
        Err(err) => return Err(err.into()),
    };
    let jobs: Vec<Value> = store
        .jobs_of(user, all)
        .await?
        .into_iter()
        .map(|job| {
            merged(
                &job.input,
                json!({
                    "id": job.id, "submission": job.submission, "status": job.status,
                    "created_at": rfc3339(job.created_at), "updated_at": rfc3339(job.updated_at),
                }),
            )
        })
        .collect();
    let mut submissions = Vec::new();
    let mut files = Vec::new();
    for submission in store.list_submissions(user, &SubmissionFilter::default(), all).await? {
        let run = match store.run_of_submission(submission.id).await {
            Ok(run) => Some(run),
            Err(StoreError::NotFound) => None,
            Err(err) => return Err(err.into()),
        };
        let mut copied = Vec::new();
        for file in &submission.files {
            let path = format!("files/{}/{}-{}", submission.id, file.id, safe_name(&file.filename));
            copied.push(json!({"id": file.id, "path": path}));
            files.push(FileToCopy { object_key: file.object_key.clone(), path });
        }
        submissions.push(json!({"submission": submission, "run": run, "files_in_archive": copied}));
    }
    let applications: Vec<Value> = store
        .applications_by(user, all)
        .await?
        .into_iter()
        .map(|(application, job_title)| {
            json!({
                "id": application.id, "job": application.job, "job_title": job_title,
                "cover_letter": application.cover_letter,
                "proposed_rate_minor": application.proposed_rate_minor,
                "currency": application.currency, "status": application.status,
                "created_at": rfc3339(application.created_at),
            })
        })
        .collect();
    let review = |review: fairgig_store::applications::Review| {
        json!({
            "id": review.id, "job": review.job, "author": review.author, "subject": review.subject,
            "rating": review.rating, "sub_ratings": review.sub_ratings, "text": review.body,
            "status": review.status, "created_at": rfc3339(review.created_at),
        })
    };
    let reviews_written: Vec<Value> =
        store.reviews_by(user, all).await?.into_iter().map(review).collect();
    let reviews_received: Vec<Value> =
        store.reviews_of(user, all).await?.into_iter().map(review).collect();
    let notifications: Vec<Value> = store
        .notifications_for_user(user, all, 0)
        .await?
        .into_iter()
        .map(|sent| {
            json!({
                "id": sent.id, "kind": sent.kind, "channel": sent.channel, "address": sent.address,
                "subject": sent.subject, "text": sent.body_text, "status": sent.status.as_str(),
                "created_at": rfc3339(sent.created_at), "sent_at": sent.sent_at.map(rfc3339),
            })
        })
        .collect();
    // Endpoints without their signing secrets: a secret in a downloaded
    // file is a secret leaked.
    let webhooks: Vec<Value> = store
        .webhook_endpoints(user)
        .await?
        .into_iter()
        .map(|endpoint| {
            json!({
                "id": endpoint.id, "url": endpoint.url, "events": endpoint.events.0,
                "created_at": rfc3339(endpoint.created_at),
            })
        })
        .collect();
    let data = json!({
        "format": EXPORT_FORMAT,
        "exported_at": rfc3339(OffsetDateTime::now_utc()),
        "account": account,
        "profile": profile,
        "submissions": submissions,
        "jobs": jobs,
        "applications": applications,
        "reviews_written": reviews_written,
        "reviews_received": reviews_received,
        "notifications": notifications,
        "notification_preferences": store.notification_preferences(user).await?,
        "webhook_endpoints": webhooks,
        "match_feedback": store.feedback_given(user).await?,
        "api_keys": store.list_api_keys(user).await?,
        "sessions": store.sessions_of(user).await?,
        "audit_entries": audit_entries_about(engine, user).await?,
    });
    Ok((data, files))
}

/// The audit entries the account made or that name it, oldest first.
async fn audit_entries_about(engine: &Engine, user: UserId) -> Result<Vec<AuditEntry>> {
    let who = format!("user:{user}");
    let mut entries = Vec::new();
    for by_actor in [true, false] {
        let mut filter = AuditFilter::default();
        if by_actor {
            filter.actor = Some(who.clone());
        } else {
            filter.target = Some(who.clone());
        }
        loop {
            let page = engine.store.list_audit(&filter, AUDIT_PAGE).await?;
            let Some(last) = page.last() else { break };
            filter.before_seq = Some(last.seq);
            let full = page.len() == AUDIT_PAGE as usize;
            entries.extend(page);
            if !full {
                break;
            }
        }
    }
    entries.sort_by_key(|entry| entry.seq);
    entries.dedup_by_key(|entry| entry.seq);
    Ok(entries)
}

const README: &str = "\
This archive holds everything fairgig keeps about your account.

data.json   every record: your account, profile, submissions (with their
            pipeline results), jobs, applications, reviews you wrote and
            received, notifications sent to you, notification settings,
            webhook endpoints (without their secrets), what you did with
            match lists, API keys (without the keys), sign-in sessions and
            the audit log's entries by or about you.
files/      the files you uploaded, as you sent them, one folder per
            submission; data.json names each one's path.

Times are UTC (RFC 3339); money is in minor units (cents) with its currency.
";

/// Writes the archive into a temporary file: the JSON compressed, the
/// uploads stored as they are (most are compressed media already).
async fn write_archive(engine: &Engine, data: &Value, files: &[FileToCopy]) -> Result<Archive> {
    let failed = |err: &dyn std::fmt::Display| {
        Error::Internal(anyhow::anyhow!("writing the export archive: {err}"))
    };
    let file = tempfile::tempfile().map_err(|err| failed(&err))?;
    let mut zip = ZipWriter::new(file);
    let compressed = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    let stored =
        SimpleFileOptions::default().compression_method(CompressionMethod::Stored).large_file(true);
    let json = serde_json::to_vec_pretty(data).map_err(|err| failed(&err))?;
    for (name, bytes) in [("README.txt", README.as_bytes()), ("data.json", &json)] {
        zip.start_file(name, compressed).map_err(|err| failed(&err))?;
        zip.write_all(bytes).map_err(|err| failed(&err))?;
    }
    for copy in files {
        let bytes =
            engine.storage.get(&copy.object_key).await.map_err(|err| {
                Error::Internal(anyhow::Error::new(err).context("reading an upload"))
            })?;
        zip.start_file(copy.path.as_str(), stored).map_err(|err| failed(&err))?;
        zip.write_all(&bytes).map_err(|err| failed(&err))?;
    }
    let mut file = zip.finish().map_err(|err| failed(&err))?;
    let bytes = file.seek(SeekFrom::End(0)).map_err(|err| failed(&err))?;
    file.seek(SeekFrom::Start(0)).map_err(|err| failed(&err))?;
    let date = OffsetDateTime::now_utc().date();
    Ok(Archive { file, bytes, filename: format!("fairgig-export-{date}.zip") })
}

/// A file name safe as one path segment of the archive on any system.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '.' | '-' | '_') { c } else { '_' })
        .take(100)
        .collect();
    if cleaned.trim_matches('.').is_empty() {
        "file".to_owned()
    } else {
        cleaned
    }
}

/// `input`'s fields (what the person wrote) followed by `facts`.
fn merged(input: &impl serde::Serialize, facts: Value) -> Value {
    let mut record = serde_json::to_value(input).unwrap_or(Value::Null);
    if let (Value::Object(record), Value::Object(facts)) = (&mut record, facts) {
        record.extend(facts);
    }
    record
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

/// Erases an account: the person confirms with their `password`; an admin
/// erasing an account needs none. The last admin who can sign in cannot be
/// erased. Files are deleted after the database commit; one that fails to
/// delete is logged and left to the orphaned-upload sweep, which removes
/// files no row refers to.
pub async fn erase(
    engine: &Engine,
    caller: &Caller,
    whose: Whose,
    password: &str,
    context: RequestContext,
) -> Result<Erasure> {
    let user = whose.authorise(caller)?;
    let actor = Actor::User(caller.user.id);
    if matches!(whose, Whose::Mine) {
        let stored = engine.store.password_hash(user).await?;
        if !engine.passwords.verify(password, Some(&stored)).await.map_err(anyhow::Error::new)? {
            return Err(Error::with_field(
                ErrorKind::InvalidCredentials,
                "the password is wrong",
                "password",
            ));
        }
    }
    let account = engine.store.get_user(user).await?;
    if account.is_erased() {
        return Err(Error::not_found());
    }
    if account.role == Role::Admin
        && !account.is_disabled()
        && engine.store.active_admins().await? <= 1
    {
        return Err(Error::conflict(
            "this is the last admin account: make another admin before erasing it",
        ));
    }
    let erasure = engine.store.erase_user(user).await?;
    for key in &erasure.object_keys {
        if let Err(err) = engine.storage.delete(key).await {
            tracing::warn!(error = %err, key, "an erased account's file was not deleted; the orphan sweep will");
        }
    }
    let digests: Vec<[u8; 32]> = erasure
        .embedded_texts
        .iter()
        .map(|text| fairgig_embed::text_digest(&fairgig_embed::normalise_text(text)))
        .collect();
    engine.store.forget_cached_embeddings(&digests).await?;
    metrics::counter!("fairgig_accounts_erased_total").increment(1);
    engine
        .store
        .append_audit(
            NewAuditEntry::new(actor, ACCOUNT_ERASED)
                .target(format!("user:{user}"))
                .context(context)
                .details(json!({"files_deleted": erasure.object_keys.len(), "erased": erasure})),
        )
        .await?;
    Ok(erasure)
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn archive_names_keep_no_path_or_control_characters() {
        assert_eq!(safe_name("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(safe_name("brief (final).pdf"), "brief__final_.pdf");
        assert_eq!(safe_name(".."), "file");
        assert_eq!(safe_name("a\u{0}b\nc"), "a_b_c");
        assert_eq!(safe_name("Straße.ogg"), "Straße.ogg");
    }
}
