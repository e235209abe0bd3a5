//! What the pipeline's integration tests share.

use fairgig_core::{
    ids::SubmissionId,
    submission::SubmissionKind,
    user::{DisplayName, Email, Role},
};
use fairgig_pipeline::{Pipeline, StepHandler, StepSpec};
use fairgig_store::{submissions::NewSubmission, users::NewUser, Store};

/// A fresh owner submits a request; its run follows `pipeline`'s plan.
pub async fn submit(store: &Store, pipeline: &Pipeline) -> SubmissionId {
    let owner = store
        .create_user(NewUser {
            email: Email::parse(&format!("u{}@example.org", uuid::Uuid::now_v7().simple()))
                .expect("email"),
            display_name: DisplayName::parse("Owner").expect("name"),
            role: Role::Client,
            region: None,
            password_hash: String::new(),
        })
        .await
        .expect("user");
    let id = SubmissionId::new();
    store
        .create_submission(
            &NewSubmission {
                id,
                owner: owner.id,
                kind: SubmissionKind::Request,
                title: "Test".to_owned(),
                body: "Build me a thing".to_owned(),
                budget: None,
                deadline: None,
                region: None,
                contact: None,
                idempotency_key: None,
                request_hash: None,
                files: Vec::new(),
                audit: None,
                receipt: None,
            },
            pipeline.plan(),
        )
        .await
        .expect("submission");
    id
}

/// `extract → {analyse, bias_check} → reply`, every step run by `handler`.
pub fn diamond<H: StepHandler + Clone>(handler: &H) -> Pipeline {
    Pipeline::new()
        .step(StepSpec::new("extract"), handler.clone())
        .and_then(|p| p.step(StepSpec::new("analyse").after(&["extract"]), handler.clone()))
        .and_then(|p| p.step(StepSpec::new("bias_check").after(&["extract"]), handler.clone()))
        .and_then(|p| {
            p.step(StepSpec::new("reply").after(&["analyse", "bias_check"]), handler.clone())
        })
        .expect("valid plan")
}
