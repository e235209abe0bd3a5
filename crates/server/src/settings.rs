//! Loading configuration: built-in defaults < `fairgig.toml` < environment.
//!
//! Environment keys are `FAIRGIG_` + the key path with `__` between levels
//! (`FAIRGIG_SERVER__BIND`, `FAIRGIG_DATA_DIR`), plus the customary
//! `DATABASE_URL`, `REDIS_URL`, `AMQP_URL`, `FAIRGIG_SMTP_URL` and `FAIRGIG_SMTP_FROM`. `FAIRGIG_TEST_*` belong to the test suite
//! and are ignored here. Unknown keys are an error that names the key.

use std::path::Path;

use anyhow::Context;
use fairgig_core::config::Settings;
use figment::{
    providers::{Env, Format, Toml},
    Figment,
};

/// Where settings come from when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "fairgig.toml";

pub fn load(config_file: Option<&Path>) -> anyhow::Result<Settings> {
    let file = match config_file {
        Some(path) => {
            anyhow::ensure!(path.is_file(), "configuration file {} does not exist", path.display());
            Toml::file_exact(path)
        }
        None => Toml::file(DEFAULT_CONFIG_FILE),
    };
    Figment::new()
        .merge(file)
        .merge(Env::raw().only(&["DATABASE_URL"]).map(|_| "database.url".into()))
        .merge(Env::raw().only(&["REDIS_URL"]).map(|_| "redis.url".into()))
        .merge(Env::raw().only(&["AMQP_URL"]).map(|_| "queue.amqp_url".into()))
        .merge(Env::raw().only(&["FAIRGIG_SMTP_URL"]).map(|_| "notifications.smtp_url".into()))
        .merge(Env::raw().only(&["FAIRGIG_SMTP_FROM"]).map(|_| "notifications.smtp_from".into()))
        .merge(
            Env::raw().only(&["FAIRGIG_SMTP_CA_FILE"]).map(|_| "notifications.smtp_ca_file".into()),
        )
        .merge(
            Env::prefixed("FAIRGIG_")
                .filter(|key| {
                    let key = key.as_str().to_ascii_lowercase();
                    !key.starts_with("test_")
                        && !["smtp_url", "smtp_from", "smtp_ca_file"].contains(&key.as_str())
                })
                .split("__"),
        )
        .extract::<Settings>()
        .context("invalid configuration")
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closure signature, not ours
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn the_environment_overrides_the_file_which_overrides_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "fairgig.toml",
                "data_dir = \"/srv/fairgig\"\n[server]\nbind = \"0.0.0.0:9000\"\nrequest_timeout_secs = 5\n",
            )?;
            jail.set_env("FAIRGIG_SERVER__BIND", "127.0.0.1:7000");
            jail.set_env("DATABASE_URL", "postgres://app:pw@db/fairgig");
            jail.set_env("FAIRGIG_TEST_POSTGRES_URL", "postgres://ignored");
            let settings = load(None).map_err(|err| format!("{err:#}"))?;
            assert_eq!(settings.server.bind.to_string(), "127.0.0.1:7000");
            assert_eq!(settings.server.request_timeout_secs, 5);
            assert_eq!(settings.data_dir, Path::new("/srv/fairgig"));
            assert_eq!(settings.database_url(), "postgres://app:pw@db/fairgig");
            assert_eq!(settings.auth.access_token_ttl_secs, 900, "defaults fill the rest");
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        Jail::expect_with(|jail| {
            jail.create_file("fairgig.toml", "[server]\nbindd = \"0.0.0.0:9000\"\n")?;
            let err = format!("{:#}", load(None).expect_err("typo must fail"));
            assert!(err.contains("bindd"), "{err}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("FAIRGIG_SERVR__BIND", "x");
            let err = format!("{:#}", load(None).expect_err("typo must fail"));
            assert!(err.contains("servr"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn a_missing_explicit_config_file_is_an_error() {
        assert!(load(Some(Path::new("/nonexistent/fairgig.toml"))).is_err());
    }
}
