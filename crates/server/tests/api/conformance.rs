//! The OpenAPI document tells the truth: schemathesis (a property-based API
//! tester, from PyPI) generates requests for every operation from the
//! document and checks each answer's status, content type and body against
//! it, and that none is a server error. Once as an admin (everything
//! reachable; the operations that would end the admin's own session are
//! left out), once with a revoked-looking token (the 401 side of every
//! operation; with no credential at all schemathesis would sign up itself).
//!
//! `FAIRGIG_TEST_SCHEMATHESIS` names the `schemathesis` executable
//! (`.ci/run` installs a pinned one); without it this prints SKIP, except in
//! CI, where it fails.

use std::process::Command;

use fairgig_core::user::Role;

use crate::helpers::spawn_app;

fn schemathesis() -> Option<String> {
    match std::env::var("FAIRGIG_TEST_SCHEMATHESIS") {
        Ok(path) if !path.is_empty() => Some(path),
        _ => {
            assert!(
                std::env::var_os("CI").is_none(),
                "FAIRGIG_TEST_SCHEMATHESIS is unset; .ci/run must install schemathesis"
            );
            eprintln!("SKIP api conformance: FAIRGIG_TEST_SCHEMATHESIS unset");
            None
        }
    }
}

/// Runs schemathesis against `base` with `headers`; its report on failure.
async fn run(program: &str, base: &str, headers: &[String], extra: &[&str]) -> Result<(), String> {
    let mut command = Command::new(program);
    command
        .arg("run")
        .arg(format!("{base}/api/v1/openapi.json"))
        .args(["--url", base])
        .args([
            "--checks",
            "status_code_conformance,content_type_conformance,response_schema_conformance,not_a_server_error",
        ])
        .args(["--seed", "20261205", "--workers", "1", "--no-color"])
        .args(extra)
        .env("SCHEMATHESIS_HOOKS", "")
        .env_remove("CI");
    for header in headers {
        command.args(["-H", header]);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the schemathesis thread")
        .map_err(|err| format!("running schemathesis: {err}"))?;
    let report = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    if output.status.success() {
        Ok(())
    } else {
        Err(report)
    }
}

#[tokio::test]
async fn every_answer_conforms_to_the_openapi_document() {
    let Some(program) = schemathesis() else { return };
    let app = spawn_app().await;
    let admin = app.register_as("ops@example.org", Role::Client).await;
    app.store.set_role(admin.id, Role::Admin).await.expect("promote");
    let login = app.login("ops@example.org", crate::helpers::PASSWORD).await;
    let body: serde_json::Value = login.json().await.expect("json");
    let token = body["access_token"].as_str().expect("token").to_owned();

    let as_admin = run(
        &program,
        &app.address,
        &[format!("Authorization: Bearer {token}")],
        &[
            "--phases",
            "examples,coverage,fuzzing",
            "--max-examples",
            "30",
            // These end the admin's own session or account mid-run; the
            // live events stream lasts an hour (its own test reads it).
            "--exclude-path-regex",
            "/auth/logout|/me/sessions|/admin/users/.*/(disable|role)|/me/password|/me/events",
        ],
    )
    .await;
    if let Err(report) = as_admin {
        panic!("as an admin:\n{report}");
    }
    let invalid = ["Authorization: Bearer not-a-token".to_owned()];
    let phases = ["--phases", "examples,fuzzing", "--max-examples", "10"];
    if let Err(report) = run(&program, &app.address, &invalid, &phases).await {
        panic!("with an invalid token:\n{report}");
    }
}
