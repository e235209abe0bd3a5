//! Argon2id password hashing.
//!
//! Parameters default to the OWASP 2023 baseline (19 MiB, 2 passes, 1 lane):
//! about 25 ms per hash on this project's 2-core reference machine in release
//! builds. Hashing runs on the blocking pool, at most `2 × cores` at once, so
//! a login flood cannot claim unbounded memory (19 MiB each).

use std::sync::Arc;

use argon2::{
    password_hash::{
        rand_core::OsRng, PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString,
    },
    Algorithm, Argon2, Params, Version,
};
use fairgig_core::config::AuthSettings;
use tokio::sync::Semaphore;

#[derive(Debug, thiserror::Error)]
pub enum PasswordError {
    #[error("invalid Argon2 parameters: {0}")]
    Params(String),
    #[error("password hashing failed: {0}")]
    Hash(String),
    #[error("the hashing task failed")]
    Join(#[from] tokio::task::JoinError),
}

#[derive(Clone, Debug)]
pub struct PasswordHasher {
    params: Params,
    permits: Arc<Semaphore>,
    /// A hash of a random password, verified against when the account does
    /// not exist, so a failed login takes as long either way.
    decoy: Arc<String>,
}

impl PasswordHasher {
    pub fn new(settings: &AuthSettings) -> Result<Self, PasswordError> {
        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.argon2_parallelism,
            None,
        )
        .map_err(|err| PasswordError::Params(err.to_string()))?;
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let decoy = hash_with(&params, &uuid::Uuid::now_v7().to_string())?;
        Ok(Self { params, permits: Arc::new(Semaphore::new(cores * 2)), decoy: Arc::new(decoy) })
    }

    /// A PHC-format Argon2id hash with a random salt.
    pub async fn hash(&self, password: &str) -> Result<String, PasswordError> {
        let _permit =
            self.permits.acquire().await.map_err(|err| PasswordError::Hash(err.to_string()))?;
        let params = self.params.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_with(&params, &password)).await?
    }

    /// Checks `password` against `stored` (or against the decoy when `None`,
    /// which always fails but costs the same).
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&str>,
    ) -> Result<bool, PasswordError> {
        let _permit =
            self.permits.acquire().await.map_err(|err| PasswordError::Hash(err.to_string()))?;
        let exists = stored.is_some();
        let stored = stored.map_or_else(|| self.decoy.as_str().to_owned(), str::to_owned);
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            let Ok(parsed) = PasswordHash::new(&stored) else {
                return false;
            };
            // Verification reads the parameters from the stored hash, so
            // hashes made with older settings keep working.
            Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok()
        })
        .await?;
        Ok(exists && matches)
    }
}

fn hash_with(params: &Params, password: &str) -> Result<String, PasswordError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| PasswordError::Hash(err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hasher() -> PasswordHasher {
        PasswordHasher::new(&AuthSettings::default()).expect("default params are valid")
    }

    #[tokio::test]
    async fn a_hashed_password_verifies_and_others_do_not() {
        let hasher = hasher();
        let hash = hasher.hash("correct horse battery").await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(hasher.verify("correct horse battery", Some(&hash)).await.expect("verify"));
        assert!(!hasher.verify("wrong horse battery", Some(&hash)).await.expect("verify"));
    }

    #[tokio::test]
    async fn unknown_accounts_and_garbage_hashes_never_verify() {
        let hasher = hasher();
        assert!(!hasher.verify("anything at all", None).await.expect("verify"));
        assert!(!hasher.verify("anything at all", Some("not a phc string")).await.expect("verify"));
    }
}
