//! The store's contract, run on SQLite always and on PostgreSQL when
//! `FAIRGIG_TEST_POSTGRES_URL` is set; every test gets a fresh database.

use fairgig_core::{
    api_key::Scope,
    audit::{actions, Actor, NewAuditEntry},
    ids::{ApiKeyId, UserId},
    user::{DisplayName, Email, Region, Role},
};
use fairgig_store::{
    api_keys::NewApiKey,
    audit::{AuditFilter, AuditProblem},
    sessions::Rotation,
    test_support::on_every_backend,
    users::{NewUser, UserChanges},
    Store, StoreError,
};
use time::{Duration, OffsetDateTime};

fn new_user(email: &str) -> NewUser {
    NewUser {
        email: Email::parse(email).expect("valid email"),
        display_name: DisplayName::parse("Test User").expect("valid name"),
        role: Role::Client,
        region: Some(Region::parse("DE").expect("valid region")),
        password_hash: "not-a-real-hash".to_owned(),
    }
}

/// A request with a title and a text and nothing else.
fn plain_request(
    owner: UserId,
    title: &str,
    body: &str,
) -> fairgig_store::submissions::NewSubmission {
    fairgig_store::submissions::NewSubmission {
        id: fairgig_core::ids::SubmissionId::new(),
        owner,
        kind: fairgig_core::submission::SubmissionKind::Request,
        title: title.to_owned(),
        body: body.to_owned(),
        budget: None,
        deadline: None,
        region: None,
        contact: None,
        idempotency_key: None,
        request_hash: None,
        files: vec![],
        audit: None,
        receipt: None,
    }
}

fn token_expiry() -> OffsetDateTime {
    OffsetDateTime::now_utc() + Duration::days(1)
}

#[tokio::test]
async fn users_are_created_found_and_unique_by_email() {
    on_every_backend(|store| async move {
        let user = store.create_user(new_user("ada@example.org")).await.expect("create");
        assert_eq!(user.email, "ada@example.org");
        assert_eq!(user.role, Role::Client);
        assert_eq!(user.region.as_deref(), Some("DE"));

        let again = store.create_user(new_user("ADA@example.org")).await;
        assert!(
            matches!(again, Err(StoreError::Conflict { field: "email" })),
            "duplicate email must conflict, got {again:?}"
        );

        let fetched = store.get_user(user.id).await.expect("get");
        assert_eq!(fetched.id, user.id);
        assert_eq!(fetched.created_at, user.created_at, "timestamps read back exactly");
        let (found, hash) = store
            .find_user_for_login(&Email::parse("ada@example.org").expect("email"))
            .await
            .expect("find")
            .expect("present");
        assert_eq!(found.id, user.id);
        assert_eq!(hash, "not-a-real-hash");
        assert!(matches!(store.get_user(UserId::new()).await, Err(StoreError::NotFound)));
    })
    .await;
}

#[tokio::test]
async fn users_are_updated_and_listed_in_creation_order() {
    on_every_backend(|store| async move {
        let first = store.create_user(new_user("a@example.org")).await.expect("create");
        let second = store.create_user(new_user("b@example.org")).await.expect("create");
        let third = store.create_user(new_user("c@example.org")).await.expect("create");

        let changed = store
            .update_user(
                first.id,
                UserChanges {
                    display_name: Some(DisplayName::parse("Renamed").expect("name")),
                    region: Some(None),
                },
            )
            .await
            .expect("update");
        assert_eq!(changed.display_name, "Renamed");
        assert_eq!(changed.region, None);

        let untouched =
            store.update_user(second.id, UserChanges::default()).await.expect("empty update");
        assert_eq!(untouched.region.as_deref(), Some("DE"));

        let promoted = store.set_role(third.id, Role::Admin).await.expect("role");
        assert_eq!(promoted.role, Role::Admin);

        let page = store.list_users(None, 2).await.expect("list");
        assert_eq!(page.iter().map(|u| u.id).collect::<Vec<_>>(), vec![first.id, second.id]);
        let rest = store.list_users(Some(second.id), 2).await.expect("list");
        assert_eq!(rest.iter().map(|u| u.id).collect::<Vec<_>>(), vec![third.id]);
    })
    .await;
}

#[tokio::test]
async fn refresh_tokens_rotate_and_reuse_revokes_the_family() {
    on_every_backend(|store| async move {
        let user = store.create_user(new_user("r@example.org")).await.expect("create");
        let session = store.create_session(user.id, "t1", token_expiry()).await.expect("session");

        let rotated = store.rotate_refresh_token("t1", "t2", token_expiry()).await.expect("rotate");
        assert_eq!(rotated, Rotation::Rotated { session, user: user.id });
        assert!(store.session_user(session).await.expect("lookup").is_some());

        let reused = store.rotate_refresh_token("t1", "t3", token_expiry()).await.expect("reuse");
        assert_eq!(reused, Rotation::ReuseDetected { session, user: user.id });
        assert!(
            store.session_user(session).await.expect("lookup").is_none(),
            "reuse revokes the session"
        );
        let successor =
            store.rotate_refresh_token("t2", "t4", token_expiry()).await.expect("after");
        assert_eq!(successor, Rotation::Invalid, "the whole family is dead");

        let unknown =
            store.rotate_refresh_token("nope", "t5", token_expiry()).await.expect("unknown");
        assert_eq!(unknown, Rotation::Invalid);
    })
    .await;
}

#[tokio::test]
async fn expired_refresh_tokens_are_invalid_and_logout_revokes() {
    on_every_backend(|store| async move {
        let user = store.create_user(new_user("e@example.org")).await.expect("create");
        let past = OffsetDateTime::now_utc() - Duration::minutes(1);
        store.create_session(user.id, "old", past).await.expect("session");
        let result =
            store.rotate_refresh_token("old", "new", token_expiry()).await.expect("rotate");
        assert_eq!(result, Rotation::Invalid);

        let session = store.create_session(user.id, "live", token_expiry()).await.expect("session");
        let other = UserId::new();
        assert!(
            !store.revoke_session(session, other, "logout").await.expect("revoke"),
            "another user cannot revoke it"
        );
        assert!(store.revoke_session(session, user.id, "logout").await.expect("revoke"));
        let result =
            store.rotate_refresh_token("live", "next", token_expiry()).await.expect("rotate");
        assert_eq!(result, Rotation::Invalid);
    })
    .await;
}

#[tokio::test]
async fn api_keys_belong_to_their_owner() {
    on_every_backend(|store| async move {
        let owner = store.create_user(new_user("o@example.org")).await.expect("create");
        let other = store.create_user(new_user("x@example.org")).await.expect("create");
        let key = store
            .create_api_key(NewApiKey {
                user: owner.id,
                name: "ci".to_owned(),
                prefix: "abcd1234".to_owned(),
                key_hash: "hash".to_owned(),
                scopes: vec![Scope::Read],
                expires_at: None,
            })
            .await
            .expect("create key");
        assert_eq!(key.scopes, vec![Scope::Read]);
        let found = store.find_api_key_by_prefix("abcd1234").await.expect("find").expect("some");
        assert_eq!(found.id, key.id);
        assert_eq!(found.key_hash, "hash");
        store.touch_api_key(key.id).await.expect("touch");

        assert!(matches!(store.revoke_api_key(other.id, key.id).await, Err(StoreError::NotFound)));
        assert!(matches!(
            store.revoke_api_key(owner.id, ApiKeyId::new()).await,
            Err(StoreError::NotFound)
        ));
        let revoked = store.revoke_api_key(owner.id, key.id).await.expect("revoke");
        assert!(revoked.revoked_at.is_some());
        assert!(!revoked.is_usable(OffsetDateTime::now_utc()));
        assert_eq!(store.list_api_keys(owner.id).await.expect("list").len(), 1);
        assert!(store.list_api_keys(other.id).await.expect("list").is_empty());
    })
    .await;
}

#[tokio::test]
async fn disabling_a_user_revokes_sessions_and_keys() {
    on_every_backend(|store| async move {
        let user = store.create_user(new_user("d@example.org")).await.expect("create");
        let session = store.create_session(user.id, "tok", token_expiry()).await.expect("session");
        store
            .create_api_key(NewApiKey {
                user: user.id,
                name: "k".to_owned(),
                prefix: "dddd0000".to_owned(),
                key_hash: "h".to_owned(),
                scopes: Scope::DEFAULT.to_vec(),
                expires_at: None,
            })
            .await
            .expect("key");
        let disabled = store.disable_user(user.id).await.expect("disable");
        assert!(disabled.is_disabled());
        assert!(store.session_user(session).await.expect("lookup").is_none());
        let key = store.find_api_key_by_prefix("dddd0000").await.expect("find").expect("some");
        assert!(key.revoked_at.is_some());
    })
    .await;
}

async fn append(store: &Store, action: &'static str, target: &str) {
    store
        .append_audit(
            NewAuditEntry::new(Actor::Cli, action)
                .target(target)
                .details(serde_json::json!({"why": "test"})),
        )
        .await
        .expect("append");
}

#[tokio::test]
async fn the_audit_log_chains_filters_and_verifies() {
    on_every_backend(|store| async move {
        append(&store, actions::USER_CREATED, "user:1").await;
        append(&store, actions::LOGIN_FAILED, "user:2").await;
        append(&store, actions::USER_CREATED, "user:3").await;

        let all = store.list_audit(&AuditFilter::default(), 10).await.expect("list");
        assert_eq!(all.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3, 2, 1], "newest first");
        assert_eq!(all[0].details["why"], "test");

        let created =
            AuditFilter { action: Some(actions::USER_CREATED.to_owned()), ..Default::default() };
        assert_eq!(store.list_audit(&created, 10).await.expect("list").len(), 2);
        let page = AuditFilter { before_seq: Some(3), ..created };
        let older = store.list_audit(&page, 10).await.expect("list");
        assert_eq!(older.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1]);

        let verification = store.verify_audit().await.expect("verify");
        assert!(verification.is_intact(), "{:?}", verification.problems);
        assert_eq!(verification.entries_checked, 3);
    })
    .await;
}

#[tokio::test]
async fn audit_verification_names_edited_and_deleted_entries() {
    on_every_backend(|store| async move {
        for target in ["a", "b", "c", "d"] {
            append(&store, actions::USER_UPDATED, target).await;
        }
        let (edit, delete_middle, delete_last) = (
            "UPDATE audit_log SET target = 'forged' WHERE seq = 2",
            "DELETE FROM audit_log WHERE seq = 3",
            "DELETE FROM audit_log WHERE seq = 4",
        );
        for sql in [edit, delete_middle, delete_last] {
            match store.pool() {
                fairgig_store::Pool::Sqlite(pool) => sqlx::query(sql).execute(pool).await.map(drop),
                fairgig_store::Pool::Postgres(pool) => {
                    sqlx::query(sql).execute(pool).await.map(drop)
                }
            }
            .expect("tamper");
        }
        let verification = store.verify_audit().await.expect("verify");
        assert_eq!(
            verification.problems,
            vec![
                AuditProblem::Edited { seq: 2 },
                AuditProblem::TruncatedTail { last_seq: 2, head_seq: 4 },
            ]
        );

        append(&store, actions::USER_UPDATED, "e").await;
        let verification = store.verify_audit().await.expect("verify");
        assert!(
            verification.problems.contains(&AuditProblem::Missing { after: 2, seq: 5 }),
            "{:?}",
            verification.problems
        );
    })
    .await;
}

#[tokio::test]
async fn concurrent_audit_appends_keep_one_unbroken_chain() {
    on_every_backend(|store| async move {
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move {
                    store
                        .append_audit(
                            NewAuditEntry::new(Actor::Anonymous, actions::LOGIN_FAILED)
                                .target(format!("t{i}")),
                        )
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("join").expect("append");
        }
        let verification = store.verify_audit().await.expect("verify");
        assert!(verification.is_intact(), "{:?}", verification.problems);
        assert_eq!(verification.entries_checked, 20);
    })
    .await;
}

#[tokio::test]
async fn migrations_are_current_and_a_newer_database_is_refused() {
    on_every_backend(|store| async move {
        store.check_migrations_current().await.expect("current after migrate");
        store.migrate().await.expect("migrate is idempotent");
        let insert = "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
                      VALUES (99990101000000, 'from the future', TRUE, $1, 0)";
        match store.pool() {
            fairgig_store::Pool::Sqlite(pool) => sqlx::query(insert).bind(vec![0u8; 48]).execute(pool).await.map(drop),
            fairgig_store::Pool::Postgres(pool) => sqlx::query(insert).bind(vec![0u8; 48]).execute(pool).await.map(drop),
        }
        .expect("fake a newer migration");
        assert!(matches!(
            store.migrate().await,
            Err(StoreError::DatabaseNewer { version: 99990101000000 })
        ));
        assert!(matches!(
            store.check_migrations_current().await,
            Err(StoreError::DatabaseNewer { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn the_embedding_cache_is_keyed_by_model_and_text_digest() {
    on_every_backend(|store| async move {
        let (a, b, missing) = ([1u8; 32], [2u8; 32], [3u8; 32]);
        let (va, vb) = (vec![0.6f32, 0.8, 0.0], vec![0.0f32, -1.0, 0.0]);
        store
            .cache_embeddings("model-1", &[(a, va.as_slice()), (b, vb.as_slice())])
            .await
            .expect("cache");
        // A second write of the same key keeps the first vector.
        store.cache_embeddings("model-1", &[(a, vb.as_slice())]).await.expect("cache again");
        let found = store.cached_embeddings("model-1", &[a, b, missing]).await.expect("look up");
        assert_eq!(found.len(), 2);
        assert_eq!(found[&a], va);
        assert_eq!(found[&b], vb);
        assert!(store.cached_embeddings("model-2", &[a]).await.expect("other model").is_empty());
        assert!(store.cached_embeddings("model-1", &[]).await.expect("none").is_empty());
    })
    .await;
}

#[tokio::test]
async fn entity_embeddings_replace_and_report_stale_models() {
    use fairgig_store::embeddings::EntityKind;
    on_every_backend(|store| async move {
        let (job, profile) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
        store
            .put_entity_embedding(EntityKind::Job, job, "old-model", "rust job", &[1.0, 0.0])
            .await
            .expect("put");
        store
            .put_entity_embedding(
                EntityKind::Profile,
                profile,
                "new-model",
                "rust dev",
                &[0.0, 1.0],
            )
            .await
            .expect("put");
        let lease = OffsetDateTime::now_utc() + Duration::minutes(5);
        let stale =
            store.claim_stale_entity_embeddings("new-model", 10, lease).await.expect("stale");
        assert_eq!(stale.len(), 1);
        assert_eq!(
            (stale[0].kind, stale[0].id, stale[0].text.as_str()),
            (EntityKind::Job, job, "rust job")
        );
        // Claimed: a second process finds nothing to do.
        let again =
            store.claim_stale_entity_embeddings("new-model", 10, lease).await.expect("again");
        assert!(again.is_empty());

        // Edited and embedded by the current model meanwhile: the late
        // re-embedding of the old text does not overwrite it.
        store
            .put_entity_embedding(
                EntityKind::Job,
                job,
                "new-model",
                "rust job, edited",
                &[0.0, 1.0],
            )
            .await
            .expect("edit");
        let stored = store
            .replace_stale_entity_embedding(&stale[0], "new-model", &[1.0, 0.0])
            .await
            .expect("replace");
        assert!(!stored, "the newer vector stays");
        store
            .put_entity_embedding(EntityKind::Job, job, "old-model", "rust job", &[1.0, 0.0])
            .await
            .expect("back to stale");
        // A lease that ran out can be claimed again.
        let expired = OffsetDateTime::now_utc() - Duration::seconds(1);
        let stale =
            store.claim_stale_entity_embeddings("new-model", 10, expired).await.expect("claim");
        let stale_again =
            store.claim_stale_entity_embeddings("new-model", 10, lease).await.expect("claim");
        assert_eq!((stale.len(), stale_again.len()), (1, 1));
        assert!(store
            .replace_stale_entity_embedding(&stale_again[0], "new-model", &[0.5, 0.5])
            .await
            .expect("replace"));
        assert!(store
            .claim_stale_entity_embeddings("new-model", 10, lease)
            .await
            .expect("stale")
            .is_empty());
        let stored =
            store.entity_embedding(EntityKind::Job, job).await.expect("get").expect("exists");
        assert_eq!((stored.model_id.as_str(), stored.vector), ("new-model", vec![0.5, 0.5]));

        store.delete_entity_embedding(EntityKind::Job, job).await.expect("delete");
        assert!(store.entity_embedding(EntityKind::Job, job).await.expect("get").is_none());
    })
    .await;
}

#[tokio::test]
async fn the_outbox_publishes_each_queued_task_once_and_again_after_a_requeue() {
    use fairgig_store::{outbox::TaskClaim, tasks::NewTask};
    on_every_backend(|store| async move {
        let now = OffsetDateTime::now_utc();
        let mut due = NewTask::new("test.due", serde_json::json!({}));
        due.dedupe_key = Some("due".to_owned());
        let mut later = NewTask::new("test.later", serde_json::json!({}));
        later.dedupe_key = Some("later".to_owned());
        later.run_after = now + Duration::minutes(10);
        store.enqueue(&due).await.expect("enqueue");
        store.enqueue(&later).await.expect("enqueue");

        // Only what is due within the horizon, and each task once.
        let taken = store.take_unpublished(10, now + Duration::minutes(1)).await.expect("take");
        assert_eq!(taken.len(), 1);
        let due_id = taken[0].id;
        assert!(store
            .take_unpublished(10, OffsetDateTime::now_utc())
            .await
            .expect("again")
            .is_empty());
        let all = store.take_unpublished(10, now + Duration::hours(1)).await.expect("later");
        assert_eq!(all.len(), 1);
        let later_id = all[0].id;

        // A message that was not confirmed is published again.
        store.unmark_published(&[due_id]).await.expect("unmark");
        let retaken = store.take_unpublished(10, OffsetDateTime::now_utc()).await.expect("retake");
        assert_eq!(retaken.iter().map(|t| t.id).collect::<Vec<_>>(), vec![due_id]);

        // A message that came early hands the task back; a duplicate finds it gone.
        let lease = now + Duration::minutes(5);
        assert_eq!(store.claim_task(later_id, "w", lease).await.expect("early"), TaskClaim::NotDue);
        let TaskClaim::Claimed(task) = store.claim_task(due_id, "w", lease).await.expect("claim")
        else {
            panic!("a queued, due task is claimed");
        };
        assert_eq!((task.id, task.attempts), (due_id, 1));
        assert_eq!(store.claim_task(due_id, "w2", lease).await.expect("dup"), TaskClaim::Gone);
        assert_eq!(
            store.claim_task(fairgig_core::ids::TaskId::new(), "w", lease).await.expect("unknown"),
            TaskClaim::Gone
        );

        // A retry returns the task to the queue unpublished.
        store.fail_task(due_id, "w", "boom", Some(OffsetDateTime::now_utc())).await.expect("fail");
        let after_retry =
            store.take_unpublished(10, OffsetDateTime::now_utc()).await.expect("take after retry");
        assert_eq!(after_retry.iter().map(|t| t.id).collect::<Vec<_>>(), vec![due_id]);

        // Orphans: marked long ago, due, still queued.
        assert_eq!(store.republish_orphans(now - Duration::minutes(1)).await.expect("none"), 0);
        let cleared = store.republish_orphans(OffsetDateTime::now_utc()).await.expect("orphans");
        assert_eq!(cleared, 1, "only the due task; the later one is not due");
    })
    .await;
}

#[tokio::test]
async fn profiles_and_jobs_round_trip_and_job_status_moves_once() {
    use fairgig_core::marketplace::{
        Availability, ExperienceLevel, JobStatus, ProfileSkill, SkillLevel,
    };
    use fairgig_store::{
        embeddings::EntityKind,
        marketplace::{JobInput, ProfileInput},
    };
    on_every_backend(|store| async move {
        let freelancer = store.create_user(new_user("dev@example.org")).await.expect("user");
        let mut input = ProfileInput {
            headline: "Rust backend developer".to_owned(),
            bio: "APIs and databases".to_owned(),
            skills: vec![ProfileSkill { name: "Rust".to_owned(), level: SkillLevel::Expert }],
            hourly_rate_minor: Some(8_500),
            currency: Some("EUR".to_owned()),
            region: Some("DE".to_owned()),
            utc_offset_minutes: Some(60),
            availability: Availability::Available,
            years_experience: 7.5,
            languages: vec!["de".to_owned(), "en".to_owned()],
            portfolio: vec!["https://example.org/work".to_owned()],
            group_attributes: [("gender".to_owned(), "woman".to_owned())].into(),
        };
        let first = store.put_profile(freelancer.id, &input).await.expect("create");
        assert_eq!(first.input, input);
        input.headline = "Senior Rust developer".to_owned();
        let second = store.put_profile(freelancer.id, &input).await.expect("replace");
        assert_eq!(second.created_at, first.created_at);
        assert_eq!(store.profile(freelancer.id).await.expect("get").input.headline, input.headline);

        // Only profiles with an embedding by the current model are matchable.
        assert!(store.matchable_profiles("m").await.expect("pool").is_empty());
        store
            .put_entity_embedding(
                EntityKind::Profile,
                freelancer.id.as_uuid(),
                "m",
                "t",
                &[0.6, 0.8],
            )
            .await
            .expect("embed");
        let pool = store.matchable_profiles("m").await.expect("pool");
        assert_eq!((pool.len(), pool[0].vector.clone()), (1, vec![0.6, 0.8]));
        input.availability = Availability::Unavailable;
        store.put_profile(freelancer.id, &input).await.expect("unavailable");
        assert!(store.matchable_profiles("m").await.expect("pool").is_empty());

        let client = store.create_user(new_user("client@example.org")).await.expect("user");
        let job_input = JobInput {
            title: "Build an API".to_owned(),
            description: "In Rust".to_owned(),
            required_skills: vec!["Rust".to_owned()],
            preferred_skills: vec![],
            max_hourly_minor: Some(9_000),
            currency: Some("EUR".to_owned()),
            region: None,
            remote: true,
            utc_offset_minutes: None,
            experience_level: Some(ExperienceLevel::Expert),
        };
        let report = fairgig_store::marketplace::JobReview {
            report: serde_json::json!({"requires_review": true}),
            needs_review: true,
        };
        let job = store
            .create_job(client.id, None, &job_input, JobStatus::Draft, &report)
            .await
            .expect("job");
        assert_eq!(store.job(job.id).await.expect("get"), job);
        assert!(job.needs_review);
        let open = store
            .set_job_status(job.id, JobStatus::Draft, JobStatus::Open, true)
            .await
            .expect("open");
        assert_eq!((open.status, open.bias_acknowledged), (JobStatus::Open, true));
        // An edit replaces the details, takes the new report and clears the acknowledgement.
        let mut edited_input = job_input.clone();
        edited_input.title = "Build a faster API".to_owned();
        edited_input.required_skills = vec!["Rust".to_owned(), "SQL".to_owned()];
        let edited = store
            .update_job(job.id, JobStatus::Open, JobStatus::Open, &edited_input, &report)
            .await
            .expect("edit");
        assert_eq!((edited.input.clone(), edited.bias_acknowledged), (edited_input.clone(), false));
        assert!(matches!(
            store
                .update_job(job.id, JobStatus::Draft, JobStatus::Open, &edited_input, &report)
                .await,
            Err(StoreError::Conflict { field: "status" })
        ));
        assert!(matches!(
            store.set_job_status(job.id, JobStatus::Draft, JobStatus::Open, false).await,
            Err(StoreError::Conflict { field: "status" })
        ));
    })
    .await;
}

#[tokio::test]
async fn hiring_completing_and_reviews_count_once() {
    use fairgig_core::marketplace::{Availability, JobStatus};
    use fairgig_store::{applications::NewReview, marketplace::ProfileInput};
    on_every_backend(|store| async move {
        let client = store.create_user(new_user("client@example.org")).await.expect("user");
        let dev = store.create_user(new_user("dev@example.org")).await.expect("user");
        let profile = ProfileInput {
            headline: "Dev".to_owned(),
            bio: String::new(),
            skills: vec![],
            hourly_rate_minor: None,
            currency: None,
            region: None,
            utc_offset_minutes: None,
            availability: Availability::Available,
            years_experience: 1.0,
            languages: vec![],
            portfolio: vec![],
            group_attributes: Default::default(),
        };
        store.put_profile(dev.id, &profile).await.expect("profile");
        let input = remote_job();
        let job = store
            .create_job(
                client.id,
                None,
                &input,
                JobStatus::Open,
                &fairgig_store::marketplace::JobReview::unchecked(),
            )
            .await
            .expect("job");
        let application =
            store.apply(job.id, dev.id, "hello", Some((5_000, "EUR"))).await.expect("apply");
        assert!(matches!(
            store.apply(job.id, dev.id, "again", None).await,
            Err(StoreError::Conflict { field: "application" })
        ));
        store
            .set_application_status(
                application.id,
                &[fairgig_core::marketplace::ApplicationStatus::Applied],
                fairgig_core::marketplace::ApplicationStatus::Hired,
                client.id,
            )
            .await
            .expect("hire");
        assert_eq!(store.job(job.id).await.expect("job").status, JobStatus::InProgress);
        store.complete_job(job.id).await.expect("complete");
        assert!(matches!(store.complete_job(job.id).await, Err(StoreError::Conflict { .. })));

        let review = |published: bool, author| NewReview {
            job: job.id,
            author,
            subject: dev.id,
            rating: 4,
            sub_ratings: serde_json::json!({}),
            body: "Good".to_owned(),
            bias_report: serde_json::json!({}),
            published,
        };
        store.create_review(&review(true, client.id)).await.expect("review");
        let pending = store.create_review(&review(false, dev.id)).await.expect("pending");
        assert_eq!(store.pending_reviews(10).await.expect("queue").len(), 1);
        store.moderate_review(pending.id, true).await.expect("publish");
        let counted = store.profile(dev.id).await.expect("profile");
        assert_eq!((counted.completed_jobs, counted.rating_count, counted.rating_sum), (1, 2, 8.0));
        assert_eq!(store.reviews_of(dev.id, 10).await.expect("reviews").len(), 2);

        // A shown list and feedback on it, once per (actor, item, kind).
        use fairgig_store::feedback::{NewFeedback, NewMatchList};
        let items = serde_json::json!([{"freelancer": dev.id, "rank": 1, "features": [0.5]}]);
        let (list, _) = store
            .insert_match_list(
                &NewMatchList {
                    job: job.id,
                    ranker: "linear-v1".to_owned(),
                    embedding_model: "m".to_owned(),
                    algorithm: "det_const_sort".to_owned(),
                    items: items.clone(),
                    fairness: serde_json::json!({}),
                    viewer: Some(client.id),
                    hash: "h1".to_owned(),
                },
                None,
                |id| {
                    fairgig_core::audit::NewAuditEntry::new(
                        fairgig_core::audit::Actor::System,
                        "match.ranked",
                    )
                    .target(format!("match_list:{id}"))
                },
            )
            .await
            .expect("list");
        assert_eq!(store.match_list(list).await.expect("get").items, items);
        // The same viewer shown the same list again within the window: one
        // row, counted; another hash, viewer or an expired window: none.
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let repeat = |viewer: UserId, hash: &'static str, since: i64| {
            let store = store.clone();
            async move {
                store.count_repeat_view(job.id, viewer, hash, (now, since)).await.expect("count")
            }
        };
        assert_eq!(repeat(client.id, "h1", now - 600).await, Some(list));
        assert_eq!(repeat(client.id, "h1", now - 600).await, Some(list));
        assert_eq!(store.match_list_views(list).await.expect("views"), 3);
        assert!(store.database_bytes().await.expect("size") > 0);
        assert_eq!(repeat(client.id, "h2", now - 600).await, None);
        assert_eq!(repeat(dev.id, "h1", now - 600).await, None);
        assert_eq!(repeat(client.id, "h1", now + 1).await, None, "outside the window");

        // A shown list with its exposure and audit entry, in one transaction.
        use fairgig_core::audit::{Actor, NewAuditEntry};
        use fairgig_store::exposure::GroupExposure;
        let booked = [GroupExposure { group: "newcomer".into(), owed: 1.5, given: 2.0 }];
        let today = OffsetDateTime::now_utc().date();
        let shown = NewMatchList {
            job: job.id,
            ranker: "linear-v1".to_owned(),
            embedding_model: "m".to_owned(),
            algorithm: "det_greedy".to_owned(),
            items: items.clone(),
            fairness: serde_json::json!({"k": 1}),
            viewer: None,
            hash: "h3".to_owned(),
        };
        let (ranked, entry) = store
            .insert_match_list(&shown, Some(("newcomer", today, &booked)), |id| {
                NewAuditEntry::new(Actor::System, "match.ranked").target(format!("match_list:{id}"))
            })
            .await
            .expect("ranking");
        assert_eq!(store.match_list(ranked).await.expect("get").items, items);
        assert_eq!(entry.target, Some(format!("match_list:{ranked}")));
        let ledger = store.exposure_since("newcomer", today).await.expect("ledger");
        assert_eq!(ledger, booked.to_vec());
        assert!(store.verify_audit().await.expect("verify").problems.is_empty());
        let feedback = NewFeedback {
            actor: client.id,
            match_list: list,
            freelancer: dev.id,
            kind: "click".to_owned(),
            rank: 1,
            rating: None,
        };
        assert!(store.record_feedback(&feedback).await.expect("first"));
        assert!(!store.record_feedback(&feedback).await.expect("again"));
        let epoch = OffsetDateTime::UNIX_EPOCH;
        let recorded = store.match_lists_with_feedback(epoch, true).await.expect("with feedback");
        assert_eq!((recorded.len(), recorded[0].feedback.len()), (1, 1));
        let future = OffsetDateTime::now_utc() + Duration::days(1);
        assert!(store.match_lists_with_feedback(future, false).await.expect("none yet").is_empty());
    })
    .await;
}

#[tokio::test]
async fn the_registry_keeps_aliases_and_rolls_back_one_step() {
    use fairgig_store::models::ModelVersion;
    on_every_backend(|store| async move {
        let model = |version: &str| ModelVersion {
            id: fairgig_core::ids::ModelVersionId::new(),
            kind: "ranker".to_owned(),
            version: version.to_owned(),
            parameters: serde_json::json!({"weights": [1.0]}),
            metrics: serde_json::json!({}),
            lineage: serde_json::json!({"parent": "linear-v1"}),
            created_by: "test".to_owned(),
            created_at: OffsetDateTime::now_utc(),
        };
        let (a, b) = (model("a"), model("b"));
        store.register_challenger(&a).await.expect("a");
        assert!(matches!(
            store.register_challenger(&a).await,
            Err(StoreError::Conflict { field: "version" })
        ));
        assert!(store.model_alias("ranker", "champion").await.expect("none").is_none());
        store.set_champion("ranker", a.id).await.expect("champion a");
        assert!(matches!(store.rollback_champion("ranker").await, Err(StoreError::NotFound)));
        store.register_challenger(&b).await.expect("b");
        assert_eq!(
            store.model_alias("ranker", "challenger").await.expect("get").map(|m| m.version),
            Some("b".into())
        );
        store.set_champion("ranker", b.id).await.expect("champion b");
        store.rollback_champion("ranker").await.expect("rollback");
        let champion = store.model_alias("ranker", "champion").await.expect("get").expect("some");
        assert_eq!(champion.version, "a");
        assert_eq!(store.models("ranker").await.expect("list").len(), 2);
    })
    .await;
}

#[tokio::test]
async fn notifications_dedupe_claim_once_retry_postpone_and_rotate_secrets() {
    use fairgig_core::work::NotificationStatus;
    use fairgig_store::notifications::{DeliveryOutcome, NewNotification};
    on_every_backend(|store| async move {
        let user = store.create_user(new_user("inbox@example.org")).await.expect("user");
        let new = NewNotification {
            user: user.id,
            kind: "run_completed".into(),
            channel: "log".into(),
            address: "inbox@example.org".into(),
            source: "run/1".into(),
            context: serde_json::json!({"n": 1}),
            locale: "en".into(),
            subject: "Done".into(),
            body_text: "text".into(),
            body_html: None,
            channel_rank: 0,
            not_before: None,
            digest: false,
            refused: None,
        };
        let first = store.enqueue_notification(&new).await.expect("enqueue").expect("new");
        assert_eq!((first.status.as_str(), first.attempts), ("pending", 0));
        assert!(store.enqueue_notification(&new).await.expect("again").is_none(), "deduped");

        let lease = OffsetDateTime::now_utc() + Duration::minutes(1);
        let claimed = store.claim_notifications(10, lease).await.expect("claim");
        assert_eq!(claimed.len(), 1);
        assert_eq!((claimed[0].status.as_str(), claimed[0].attempts), ("sending", 1));
        assert!(store.claim_notifications(10, lease).await.expect("claim").is_empty(), "leased");

        // An open circuit hands it back without spending the attempt.
        store.postpone_notification(first.id, OffsetDateTime::now_utc()).await.expect("postpone");
        let again = store.claim_notifications(10, lease).await.expect("claim");
        assert_eq!(again[0].attempts, 1);
        let later = OffsetDateTime::now_utc() + Duration::hours(1);
        let retry = DeliveryOutcome::Retry { at: later, error: "503".into() };
        store.finish_notification(first.id, &retry).await.expect("retry");
        assert!(store.claim_notifications(10, lease).await.expect("claim").is_empty(), "not due");
        let row = store.notification(first.id).await.expect("row");
        assert_eq!((row.status.as_str(), row.last_error.as_deref()), ("retrying", Some("503")));

        // Dead, then an admin retry puts it back with fresh attempts.
        assert!(matches!(store.retry_notification(first.id).await, Err(StoreError::NotFound)));
        let mut dead = new.clone();
        dead.source = "run/2".into();
        dead.refused = Some("too large".into());
        let dead = store.enqueue_notification(&dead).await.expect("enqueue").expect("new");
        assert_eq!(dead.status, NotificationStatus::Dead);
        store.retry_notification(dead.id).await.expect("retry");
        let claimed = store.claim_notifications(10, lease).await.expect("claim");
        assert_eq!(claimed.iter().map(|n| n.id).collect::<Vec<_>>(), [dead.id]);
        let sent = DeliveryOutcome::Sent { provider_id: Some("log:1".into()) };
        store.finish_notification(dead.id, &sent).await.expect("sent");
        let inbox = store.notifications_for_user(user.id, 10, 0).await.expect("inbox");
        assert_eq!(inbox.len(), 2);
        assert_eq!(inbox[0].provider_id.as_deref(), Some("log:1"), "newest first");

        // Webhook endpoints: owner-only, rotation keeps the old secret for the overlap.
        let endpoint = store
            .create_webhook_endpoint(user.id, "https://x.example/h", "whsec_a", &["hired".into()])
            .await
            .expect("endpoint");
        assert!(endpoint.wants("hired") && !endpoint.wants("run_failed"));
        let stranger = store.create_user(new_user("other@example.org")).await.expect("user");
        assert!(matches!(
            store.webhook_endpoint(stranger.id, endpoint.id).await,
            Err(StoreError::NotFound)
        ));
        let until = OffsetDateTime::now_utc() + Duration::hours(1);
        let rotated = store
            .rotate_webhook_secret(user.id, endpoint.id, "whsec_b", until)
            .await
            .expect("rotate");
        assert_eq!(rotated.signing_secrets(OffsetDateTime::now_utc()), ["whsec_b", "whsec_a"]);
        assert_eq!(rotated.signing_secrets(until + Duration::seconds(1)), ["whsec_b"]);
        store.delete_webhook_endpoint(user.id, endpoint.id).await.expect("delete");
        assert!(store.webhook_endpoints(user.id).await.expect("list").is_empty());

        // Digest items wait for their time and are claimed together.
        let mut item = new.clone();
        item.digest = true;
        for source in ["digest/1", "digest/2"] {
            item.source = source.into();
            item.not_before = Some(OffsetDateTime::now_utc() - Duration::seconds(1));
            store.enqueue_notification(&item).await.expect("enqueue");
        }
        item.source = "digest/later".into();
        item.not_before = Some(OffsetDateTime::now_utc() + Duration::hours(2));
        store.enqueue_notification(&item).await.expect("enqueue");
        let first = store.claim_notifications(1, lease).await.expect("claim");
        assert_eq!(first.len(), 1);
        assert!(first[0].digest);
        let rest = store
            .claim_digest_items(user.id, "log", "inbox@example.org", lease)
            .await
            .expect("companions");
        assert_eq!(rest.len(), 1, "the other due item, not the later one");

        let prefs = serde_json::json!({"channels": [], "locale": "de"});
        store.set_notification_preferences(user.id, &prefs).await.expect("save");
        assert_eq!(store.notification_preferences(user.id).await.expect("read"), Some(prefs));
    })
    .await;
}

#[tokio::test]
async fn job_activity_counts_viewer_days_and_applications_and_deletes_only_drafts() {
    use fairgig_core::marketplace::{ApplicationStatus, JobStatus};
    use fairgig_store::marketplace::JobReview;
    on_every_backend(|store| async move {
        let client = store.create_user(new_user("client@example.org")).await.expect("user");
        let dev = store.create_user(new_user("dev@example.org")).await.expect("user");
        let rival = store.create_user(new_user("rival@example.org")).await.expect("user");
        let input = remote_job();
        let review = JobReview::unchecked();
        let create = |status| store.create_job(client.id, None, &input, status, &review);
        let open = create(JobStatus::Open).await.expect("open job");
        let draft = create(JobStatus::Draft).await.expect("draft");

        let today = time::OffsetDateTime::now_utc().date();
        let yesterday = today.previous_day().expect("a day before");
        for (viewer, day) in
            [(dev.id, today), (dev.id, today), (dev.id, yesterday), (rival.id, today)]
        {
            store.record_job_view(open.id, viewer, day).await.expect("view");
        }
        let first = store.apply(open.id, dev.id, "hello", None).await.expect("apply");
        store.apply(open.id, rival.id, "me too", None).await.expect("apply");
        store
            .set_application_status(
                first.id,
                &[ApplicationStatus::Applied],
                ApplicationStatus::Shortlisted,
                client.id,
            )
            .await
            .expect("shortlist");

        let listed = store.jobs_with_activity(client.id, 10).await.expect("mine");
        assert_eq!(listed.len(), 2);
        let opened = listed.iter().find(|owned| owned.job.id == open.id).expect("listed");
        assert_eq!(opened.views, 3, "viewer-days");
        assert_eq!((opened.applicants.applied, opened.applicants.shortlisted), (1, 1));
        assert_eq!(opened.applicants.active(), 2);
        let drafted = listed.iter().find(|owned| owned.job.id == draft.id).expect("listed");
        assert_eq!((drafted.views, drafted.applicants.active()), (0, 0));
        assert!(store.jobs_with_activity(dev.id, 10).await.expect("none").is_empty());

        assert!(matches!(
            store.delete_draft_job(open.id).await,
            Err(StoreError::Conflict { field: "status" })
        ));
        store.delete_draft_job(draft.id).await.expect("a draft goes");
        assert!(matches!(store.job(draft.id).await, Err(StoreError::NotFound)));
        assert!(matches!(store.delete_draft_job(draft.id).await, Err(StoreError::NotFound)));
    })
    .await;
}

#[tokio::test]
async fn a_search_of_ones_submissions_needs_every_word_and_escapes_wildcards() {
    use fairgig_store::submissions::SubmissionFilter;
    on_every_backend(|store| async move {
        let owner = store.create_user(new_user("client@example.org")).await.expect("user");
        for (title, body) in
            [("Payments API", "Rust backend for CARD payments"), ("Logo", "50% off")]
        {
            let new = plain_request(owner.id, title, body);
            store.create_submission(&new, &[]).await.expect("submission");
        }
        let titles = |text: &str| {
            let filter = SubmissionFilter { text: Some(text.to_owned()), ..Default::default() };
            let store = store.clone();
            async move {
                let found = store.list_submissions(owner.id, &filter, 10).await.expect("list");
                found.into_iter().map(|s| s.title).collect::<Vec<_>>()
            }
        };
        assert_eq!(titles("card rust").await, ["Payments API"]);
        assert!(titles("card logo").await.is_empty());
        assert_eq!(titles("50%").await, ["Logo"]);
        assert!(titles("5_").await.is_empty());
        assert!(titles("%").await == ["Logo"], "a lone % is a character");
    })
    .await;
}

#[tokio::test]
async fn a_submission_commits_with_its_audit_entry_receipt_and_files() {
    use fairgig_core::{
        audit::{Actor, NewAuditEntry},
        ids::{FileId, SubmissionId},
        submission::SubmissionKind,
    };
    use fairgig_store::{
        announcements::NewAnnouncement,
        audit::AuditFilter,
        submissions::{NewSubmission, StoredFile},
    };
    on_every_backend(|store| async move {
        let owner = store.create_user(new_user("client@example.org")).await.expect("user");
        let id = SubmissionId::new();
        let key = format!("submissions/{id}/{}", FileId::new());
        let receipt = NewAnnouncement {
            user: owner.id,
            kind: "submission_received".to_owned(),
            source: format!("submission/{id}"),
            context: serde_json::json!({"submission": {"id": id}}),
        };
        let new = NewSubmission {
            id,
            owner: owner.id,
            kind: SubmissionKind::Request,
            title: "Logo".to_owned(),
            body: "A logo".to_owned(),
            budget: None,
            deadline: None,
            region: None,
            contact: None,
            idempotency_key: None,
            request_hash: None,
            files: vec![StoredFile {
                id: FileId::new(),
                role: "attachment".to_owned(),
                filename: "brief.pdf".to_owned(),
                content_type: "application/pdf".to_owned(),
                size_bytes: 3,
                sha256: "0".repeat(64),
                object_key: key.clone(),
            }],
            audit: Some(
                NewAuditEntry::new(Actor::User(owner.id), "submission.created")
                    .target(format!("submission:{id}")),
            ),
            receipt: Some(receipt.clone()),
        };
        store.create_submission(&new, &[]).await.expect("submission");
        let filter = AuditFilter { target: Some(format!("submission:{id}")), ..Default::default() };
        assert_eq!(store.list_audit(&filter, 10).await.expect("audit").len(), 1);
        let waiting = store.announcements_from(&receipt.source).await.expect("announcements");
        assert_eq!(waiting.iter().map(|a| &a.new).collect::<Vec<_>>(), [&receipt]);
        let soon = time::OffsetDateTime::now_utc() + time::Duration::seconds(5);
        assert_eq!(store.announcements_before(soon, 10).await.expect("old").len(), 1);
        let past = time::OffsetDateTime::now_utc() - time::Duration::hours(1);
        assert!(store.announcements_before(past, 10).await.expect("old").is_empty());
        store.delete_announcement(waiting[0].id).await.expect("delivered");
        store.delete_announcement(waiting[0].id).await.expect("twice is fine");
        assert!(store.announcements_from(&receipt.source).await.expect("none").is_empty());

        let orphan = format!("submissions/{}/{}", SubmissionId::new(), FileId::new());
        let referenced =
            store.referenced_object_keys(&[key.clone(), orphan]).await.expect("referenced");
        assert_eq!(referenced.into_iter().collect::<Vec<_>>(), [key]);
    })
    .await;
}

#[tokio::test]
async fn profiles_are_read_by_change_time_and_by_ids_in_the_order_asked() {
    use fairgig_core::marketplace::Availability;
    use fairgig_store::marketplace::ProfileInput;
    on_every_backend(|store| async move {
        let input = ProfileInput {
            headline: "Dev".to_owned(),
            bio: String::new(),
            skills: vec![],
            hourly_rate_minor: None,
            currency: None,
            region: None,
            utc_offset_minutes: None,
            availability: Availability::Available,
            years_experience: 1.0,
            languages: vec![],
            portfolio: vec![],
            group_attributes: Default::default(),
        };
        let first = store.create_user(new_user("first@example.org")).await.expect("user");
        store.put_profile(first.id, &input).await.expect("profile");
        let between = time::OffsetDateTime::now_utc();
        let second = store.create_user(new_user("second@example.org")).await.expect("user");
        store.put_profile(second.id, &input).await.expect("profile");
        let changed = store.profiles_changed_since(between).await.expect("changed");
        assert_eq!(changed.iter().map(|p| p.user_id).collect::<Vec<_>>(), [second.id]);
        let all =
            store.profiles_changed_since(time::OffsetDateTime::UNIX_EPOCH).await.expect("all");
        assert_eq!(all.len(), 2);
        let nobody = store.create_user(new_user("nobody@example.org")).await.expect("user");
        let asked = [second.id, nobody.id, first.id];
        let found = store.profiles_by_ids(&asked).await.expect("by ids");
        assert_eq!(found.iter().map(|p| p.user_id).collect::<Vec<_>>(), [second.id, first.id]);
        assert!(store.profiles_by_ids(&[]).await.expect("none").is_empty());
    })
    .await;
}

#[tokio::test]
async fn funnel_steps_land_on_the_newest_list_that_showed_the_freelancer() {
    use fairgig_core::marketplace::{ApplicationStatus, JobStatus};
    use fairgig_store::{
        feedback::{FunnelStep, NewMatchList},
        marketplace::JobReview,
    };
    on_every_backend(|store| async move {
        let client = store.create_user(new_user("client@example.org")).await.expect("user");
        let dev = store.create_user(new_user("dev@example.org")).await.expect("user");
        let stranger = store.create_user(new_user("stranger@example.org")).await.expect("user");
        let input = remote_job();
        let job = store
            .create_job(client.id, None, &input, JobStatus::Open, &JobReview::unchecked())
            .await
            .expect("job");
        let show = |rank: u32, hash: &'static str| NewMatchList {
            job: job.id,
            ranker: "linear-v1".to_owned(),
            embedding_model: "m".to_owned(),
            algorithm: "none".to_owned(),
            items: serde_json::json!([{"freelancer": dev.id, "rank": rank, "features": [0.5]}]),
            fairness: serde_json::json!({}),
            viewer: Some(client.id),
            hash: hash.to_owned(),
        };
        let audit = |_| {
            fairgig_core::audit::NewAuditEntry::new(
                fairgig_core::audit::Actor::System,
                "match.ranked",
            )
        };
        store.insert_match_list(&show(3, "older"), None, audit).await.expect("older list");
        let (newest, _) =
            store.insert_match_list(&show(1, "newer"), None, audit).await.expect("newest list");

        let application = store.apply(job.id, dev.id, "hello", None).await.expect("apply");
        store
            .set_application_status(
                application.id,
                &[ApplicationStatus::Applied],
                ApplicationStatus::Shortlisted,
                client.id,
            )
            .await
            .expect("shortlist");
        // Nobody showed the stranger: their application records no step.
        store.apply(job.id, stranger.id, "me too", None).await.expect("apply");
        let click =
            FunnelStep { actor: client.id, freelancer: dev.id, kind: "click", rating: None };
        let week_ago = time::OffsetDateTime::now_utc() - time::Duration::days(7);
        assert!(store.record_profile_opened(&click, week_ago).await.expect("click"));
        assert!(!store.record_profile_opened(&click, week_ago).await.expect("once"));
        let future = time::OffsetDateTime::now_utc() + time::Duration::minutes(1);
        assert!(!store.record_profile_opened(&click, future).await.expect("too old"));

        let lists = store
            .match_lists_with_feedback(time::OffsetDateTime::UNIX_EPOCH, true)
            .await
            .expect("lists");
        assert_eq!(lists.len(), 1, "only the newest list got the steps");
        let mut kinds: Vec<&str> =
            lists[0].feedback.iter().map(|(_, kind, _)| kind.as_str()).collect();
        kinds.sort_unstable();
        assert_eq!(kinds, ["apply", "click", "shortlist"]);
        assert_eq!(store.match_list(newest).await.expect("list").items[0]["rank"], 1);
    })
    .await;
}

#[tokio::test]
async fn reviews_are_listed_by_helpful_votes_one_per_voter() {
    use fairgig_core::marketplace::JobStatus;
    use fairgig_store::{applications::NewReview, marketplace::JobReview};
    on_every_backend(|store| async move {
        let subject = store.create_user(new_user("dev@example.org")).await.expect("user");
        let first = store.create_user(new_user("first@example.org")).await.expect("user");
        let second = store.create_user(new_user("second@example.org")).await.expect("user");
        let reader = store.create_user(new_user("reader@example.org")).await.expect("user");
        let input = remote_job();
        let job = store
            .create_job(first.id, None, &input, JobStatus::Completed, &JobReview::unchecked())
            .await
            .expect("job");
        let write = |author| NewReview {
            job: job.id,
            author,
            subject: subject.id,
            rating: 4,
            sub_ratings: serde_json::json!({}),
            body: "Fine".to_owned(),
            bias_report: serde_json::json!({}),
            published: true,
        };
        let older = store.create_review(&write(first.id)).await.expect("review");
        let newer = store.create_review(&write(second.id)).await.expect("review");
        let order = |reviews: Vec<fairgig_store::applications::Review>| {
            reviews.into_iter().map(|r| (r.id, r.helpful)).collect::<Vec<_>>()
        };
        assert_eq!(
            order(store.reviews_of(subject.id, 10).await.expect("list")),
            [(newer.id, 0), (older.id, 0)]
        );
        assert_eq!(store.vote_review(older.id, reader.id, true).await.expect("vote"), 1);
        assert_eq!(store.vote_review(older.id, reader.id, true).await.expect("again"), 1);
        assert_eq!(store.vote_review(older.id, second.id, true).await.expect("vote"), 2);
        assert_eq!(
            order(store.reviews_of(subject.id, 10).await.expect("list")),
            [(older.id, 2), (newer.id, 0)]
        );
        assert_eq!(store.vote_review(older.id, reader.id, false).await.expect("take back"), 1);
        assert_eq!(store.review(newer.id).await.expect("one").id, newer.id);
    })
    .await;
}

/// A remote job with a title and a description and nothing else.
fn remote_job() -> fairgig_store::marketplace::JobInput {
    fairgig_store::marketplace::JobInput {
        title: "Job".to_owned(),
        description: "Work".to_owned(),
        required_skills: vec![],
        preferred_skills: vec![],
        max_hourly_minor: None,
        currency: None,
        region: None,
        remote: true,
        utc_offset_minutes: None,
        experience_level: None,
    }
}

/// The pruning statements are valid on both backends and find nothing
/// finished in a fresh store (what they keep and delete is checked through
/// `fairgig prune` in the server's CLI test).
#[tokio::test]
async fn pruning_statements_run_on_both_backends() {
    use fairgig_store::retention::{Cutoffs, Pruned};
    on_every_backend(|store| async move {
        let user = store.create_user(new_user("prune@example.org")).await.expect("user");
        let tomorrow = time::OffsetDateTime::now_utc() + time::Duration::days(1);
        let everything = Cutoffs {
            notifications: Some(tomorrow),
            sessions: Some(tomorrow),
            embedding_cache: Some(tomorrow),
            feedback: Some(tomorrow),
            step_outputs: Some((tomorrow, "extract")),
        };
        // Nothing is finished yet: a user alone has nothing to prune.
        assert_eq!(store.prune(&everything).await.expect("prune"), Pruned::default());
        assert!(store.get_user(user.id).await.is_ok());
        assert_eq!(store.prune(&Cutoffs::default()).await.expect("keep"), Pruned::default());
    })
    .await;
}

#[tokio::test]
async fn prototypes_are_one_per_submission_and_counted_per_owner_per_window() {
    use fairgig_store::prototypes::Recorded;
    on_every_backend(|store| async move {
        let owner = store.create_user(new_user("client@example.org")).await.expect("user");
        let mut submissions = Vec::new();
        for title in ["one", "two", "three"] {
            let new = plain_request(owner.id, title, "A landing page");
            store.create_submission(&new, &[]).await.expect("submission");
            submissions.push(new.id);
        }
        let window = Duration::hours(24);
        let first = store
            .record_prototype(submissions[0], owner.id, ("t1", "prototypes/t1.html"), (2, window))
            .await
            .expect("record");
        assert!(matches!(first, Recorded::Created(_)));
        // A retried step finds its own prototype, whatever token it drew.
        let again = store
            .record_prototype(submissions[0], owner.id, ("t9", "prototypes/t9.html"), (2, window))
            .await
            .expect("record");
        assert!(matches!(again, Recorded::Existing(ref p) if p.token == "t1"), "{again:?}");
        let second = store
            .record_prototype(submissions[1], owner.id, ("t2", "prototypes/t2.html"), (2, window))
            .await
            .expect("record");
        assert!(matches!(second, Recorded::Created(_)));
        let third = store
            .record_prototype(submissions[2], owner.id, ("t3", "prototypes/t3.html"), (2, window))
            .await
            .expect("record");
        let Recorded::QuotaReached { limit, next_at } = third else { panic!("{third:?}") };
        assert_eq!(limit, 2);
        let served = store.prototype("t1").await.expect("by token");
        assert_eq!(served.submission, submissions[0]);
        assert_eq!(next_at, served.created_at + window);
        assert!(matches!(store.prototype("t3").await, Err(StoreError::NotFound)));

        // Deleting the submission hands back the prototype's object too.
        let keys = store.delete_submission(submissions[0]).await.expect("delete");
        assert!(keys.contains(&"prototypes/t1.html".to_owned()), "{keys:?}");
        assert!(matches!(store.prototype("t1").await, Err(StoreError::NotFound)));
    })
    .await;
}

#[tokio::test]
async fn pages_keep_every_version_and_refuse_a_stale_save() {
    use fairgig_core::content::{PageContent, PageStatus};
    use fairgig_store::pages::{NewPage, PageFilter, PageGroup};
    on_every_backend(|store| async move {
        let author = store.create_user(new_user("pages@example.org")).await.expect("user");
        let content = |slug: &str, body: &str| PageContent {
            slug: slug.to_owned(),
            title: "Pricing".to_owned(),
            summary: String::new(),
            body: body.to_owned(),
            tags: vec!["fees".to_owned()],
            status: PageStatus::Published,
            publish_at: None,
        };
        let new = |locale: &str, slug: &str, group: Option<_>| NewPage {
            group: group.map_or_else(|| PageGroup::New(Default::default()), PageGroup::Join),
            locale: locale.to_owned(),
            content: content(slug, "v1"),
            author: Some(author.id),
            message: "first".to_owned(),
        };
        let english = store.create_page(&new("en", "pricing", None)).await.expect("created");
        assert!(matches!(
            store.create_page(&new("en", "pricing", None)).await,
            Err(StoreError::Conflict { field: "slug" })
        ));
        let german =
            store.create_page(&new("de", "preise", Some(english.group))).await.expect("translated");
        assert!(matches!(
            store.create_page(&new("de", "preise-2", Some(english.group))).await,
            Err(StoreError::Conflict { field: "locale" })
        ));
        let stranger = Some(fairgig_core::ids::TranslationGroupId::new());
        assert!(matches!(
            store.create_page(&new("fr", "prix", stranger)).await,
            Err(StoreError::NotFound)
        ));

        let saved = store
            .update_page(english.id, 1, &content("pricing", "v2"), (Some(author.id), "second"))
            .await
            .expect("saved");
        assert_eq!((saved.version, saved.content.body.as_str()), (2, "v2"));
        assert!(matches!(
            store.update_page(english.id, 1, &content("pricing", "v3"), (None, "late")).await,
            Err(StoreError::Stale { current: 2 })
        ));
        let german = store
            .update_page(german.id, 1, &content("pricing", "x"), (None, ""))
            .await
            .expect("a slug is unique per locale only");
        store
            .update_page(german.id, 2, &content("preise", "x"), (None, "back"))
            .await
            .expect("renamed back");
        let versions = store.page_versions(english.id).await.expect("versions");
        let bodies: Vec<(i64, &str, &str)> = versions
            .iter()
            .map(|v| (v.version, v.content.body.as_str(), v.message.as_str()))
            .collect();
        assert_eq!(bodies, vec![(1, "v1", "first"), (2, "v2", "second")]);
        assert_eq!(store.page_version(english.id, 2).await.expect("v2").content.tags, vec!["fees"]);
        assert_eq!(store.translations(english.group).await.expect("group").len(), 2);
        assert_eq!(store.pages_with_slug("preise").await.expect("slug").len(), 1);
        let third = store.create_page(&new("en", "fees", None)).await.expect("created");
        assert!(
            matches!(
                store.update_page(third.id, 1, &content("pricing", "y"), (None, "")).await,
                Err(StoreError::Conflict { field: "slug" })
            ),
            "pricing is taken in English"
        );
        let filter = PageFilter { locale: Some("de".to_owned()), ..PageFilter::default() };
        assert_eq!(store.pages(&filter).await.expect("listed").len(), 1);
        let tagged = PageFilter { tag: Some("none".to_owned()), ..PageFilter::default() };
        assert!(store.pages(&tagged).await.expect("listed").is_empty());

        assert!(!store.is_page_editor(author.id).await.expect("read"));
        store.grant_page_editor(author.id).await.expect("granted");
        store.grant_page_editor(author.id).await.expect("idempotent");
        assert!(store.is_page_editor(author.id).await.expect("read"));
        assert!(store.revoke_page_editor(author.id).await.expect("revoked"));
        assert!(!store.revoke_page_editor(author.id).await.expect("none left"));
    })
    .await;
}

#[tokio::test]
async fn a_running_steps_progress_shows_until_it_finishes() {
    use fairgig_store::runs::{PlannedStep, StepRef};
    on_every_backend(|store| async move {
        let owner = store.create_user(new_user("client@example.org")).await.expect("user");
        let new = plain_request(owner.id, "Brief", "A landing page");
        let plan = [PlannedStep {
            name: "brief".into(),
            depends_on: vec![],
            max_attempts: 3,
            priority: 0,
        }];
        let (_, run) = store.create_submission(&new, &plan).await.expect("submission");
        let step = StepRef { run, step: "brief".into() };
        // Not running yet: a write is ignored.
        store.record_step_progress(&step, "{\"goals\":[").await.expect("progress");
        let view = store.run_of_submission(new.id).await.expect("run");
        assert_eq!(view.steps[0].progress, None);

        store.start_step(&step, 1).await.expect("start");
        store.record_step_progress(&step, "{\"goals\":[{\"text\":\"A").await.expect("progress");
        let view = store.run_of_submission(new.id).await.expect("run");
        assert_eq!(view.steps[0].progress.as_deref(), Some("{\"goals\":[{\"text\":\"A"));

        store.fail_abandoned_step(&step, "lost").await.expect("fail");
        let view = store.run_of_submission(new.id).await.expect("run");
        assert_eq!(view.steps[0].progress, None, "a failed step shows no half answer");
    })
    .await;
}
