//! What `deploy/` ships, checked with the tools that will read it: the
//! alert rules with promtool (and their unit tests), the compose file with
//! docker-compose, the Helm chart rendered by helm and validated against
//! Kubernetes' schemas, and the container image built, started and asked.
//! Each tool's path comes from the environment (`.ci/run` installs them);
//! unset, the test prints a SKIP line.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::Once,
};

use crate::helpers::say_once;

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The tool named by `variable`, or `None` after a SKIP line.
fn tool(variable: &str, once: &'static Once) -> Option<PathBuf> {
    match std::env::var_os(variable) {
        Some(path) => Some(PathBuf::from(path)),
        None => {
            say_once(once, &format!("SKIP {variable} unset"));
            None
        }
    }
}

/// Runs `command` off the test runtime and returns what it did.
async fn run(mut command: Command) -> Output {
    let shown = format!("{command:?}");
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the command's thread")
        .unwrap_or_else(|err| panic!("{shown}: {err}"))
}

fn succeeded(output: &Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn the_alert_rules_pass_promtool_and_their_unit_tests() {
    static SKIP: Once = Once::new();
    let Some(promtool) = tool("FAIRGIG_TEST_PROMTOOL", &SKIP) else { return };
    let rules = repository().join("deploy/prometheus");
    for args in [["check", "rules", "alerts.yml"], ["test", "rules", "alerts.test.yml"]] {
        let mut command = Command::new(&promtool);
        command.args(args).current_dir(&rules);
        succeeded(&run(command).await, &args.join(" "));
    }
}

#[tokio::test]
async fn the_compose_file_is_valid_and_needs_a_jwt_secret() {
    static SKIP: Once = Once::new();
    let Some(compose) = tool("FAIRGIG_TEST_DOCKER_COMPOSE", &SKIP) else { return };
    let file = repository().join("deploy/compose.yaml");
    let config = |secret: Option<&str>| {
        let mut command = Command::new(&compose);
        command.args(["-p", "fairgig", "-f"]).arg(&file).args(["config", "-q"]);
        command.env_remove("FAIRGIG_JWT_SECRET");
        if let Some(secret) = secret {
            command.env("FAIRGIG_JWT_SECRET", secret);
        }
        command
    };
    succeeded(&run(config(Some("0123456789abcdef0123456789abcdef"))).await, "compose config");
    let unset = run(config(None)).await;
    assert!(!unset.status.success(), "the compose file runs without a JWT secret");
    assert!(String::from_utf8_lossy(&unset.stderr).contains("FAIRGIG_JWT_SECRET"));
}

#[tokio::test]
async fn the_helm_chart_renders_manifests_that_kubernetes_accepts() {
    static SKIP: Once = Once::new();
    let Some(helm) = tool("FAIRGIG_TEST_HELM", &SKIP) else { return };
    let Some(validate) = tool("FAIRGIG_TEST_KUBERNETES_VALIDATE", &SKIP) else { return };
    let chart = repository().join("deploy/helm/fairgig");
    let mut lint = Command::new(&helm);
    lint.arg("lint").arg("--strict").arg(&chart);
    succeeded(&run(lint).await, "helm lint");

    let everything = [
        "secretConfig.DATABASE_URL=postgres://fairgig@db/fairgig",
        "ingress.enabled=true",
        "ingress.tls.enabled=true",
        "serviceMonitor.enabled=true",
        "worker.autoscaling.queueDepth.enabled=true",
        "models.existingClaim=fairgig-models",
        "networkPolicy.ingressFrom[0].name=ingress",
    ];
    let scratch = tempfile::tempdir().expect("scratch");
    for (name, sets) in [("defaults", &[][..]), ("everything", &everything[..])] {
        let mut template = Command::new(&helm);
        template.args(["template", "fairgig"]).arg(&chart);
        for set in sets {
            template.args(["--set", set]);
        }
        let rendered = run(template).await;
        succeeded(&rendered, &format!("helm template ({name})"));
        let manifests = scratch.path().join(format!("{name}.yaml"));
        std::fs::write(&manifests, &rendered.stdout).expect("write");
        let text = String::from_utf8_lossy(&rendered.stdout);
        for kind in ["Deployment", "Job", "Service", "PodDisruptionBudget", "NetworkPolicy"] {
            assert!(text.contains(&format!("kind: {kind}\n")), "{name}: no {kind}");
        }
        // The oldest Kubernetes the chart supports (Chart.yaml) and the newest known.
        for version in ["1.29.0", "1.37.0"] {
            let mut check = Command::new(&validate);
            check.args(["--strict", "--quiet", "-k", version]).arg(&manifests);
            succeeded(&run(check).await, &format!("kubernetes-validate {version} ({name})"));
        }
    }
    // The values schema refuses what Kubernetes would refuse later.
    let mut wrong = Command::new(&helm);
    wrong.args(["template", "fairgig"]).arg(&chart).args(["--set", "api.replicas=-1"]);
    let refused = run(wrong).await;
    assert!(!refused.status.success(), "a negative replica count was accepted");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("api.replicas"));
}

#[tokio::test]
async fn the_image_builds_runs_as_non_root_and_answers() {
    static SKIP: Once = Once::new();
    if tool("FAIRGIG_TEST_IMAGE", &SKIP).is_none() {
        return;
    }
    let mut command = Command::new("bash");
    command.arg(repository().join("tools/image_check.sh")).arg(env!("CARGO_BIN_EXE_fairgig"));
    let checked = run(command).await;
    succeeded(&checked, "tools/image_check.sh");
    assert!(String::from_utf8_lossy(&checked.stdout).contains("HEALTHCHECK healthy"));
}
