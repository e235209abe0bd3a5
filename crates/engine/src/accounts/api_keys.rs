//! API key format: `fg_<prefix>_<secret>`.
//!
//! The 8-character prefix identifies the key (stored in clear, shown in
//! lists); the 32-character secret makes it unguessable (190 bits). The
//! database keeps SHA-256 of the whole key.

use rand::{distributions::Alphanumeric, Rng};
use sha2::{Digest, Sha256};

const PREFIX_LEN: usize = 8;
const SECRET_LEN: usize = 32;

/// A freshly generated key: the full text (shown once) and what is stored.
#[derive(Debug)]
pub struct GeneratedKey {
    pub full: String,
    pub prefix: String,
    pub hash: String,
}

pub fn generate() -> GeneratedKey {
    let mut rng = rand::thread_rng();
    let prefix: String = (&mut rng)
        .sample_iter(&Alphanumeric)
        .take(PREFIX_LEN)
        .map(char::from)
        .collect::<String>()
        .to_lowercase();
    let secret: String =
        (&mut rng).sample_iter(&Alphanumeric).take(SECRET_LEN).map(char::from).collect();
    let full = format!("fg_{prefix}_{secret}");
    let hash = hash_key(&full);
    GeneratedKey { full, prefix, hash }
}

pub fn hash_key(full: &str) -> String {
    hex::encode(Sha256::digest(full.as_bytes()))
}

/// The prefix of something shaped like a key, or `None`.
pub fn parse_prefix(candidate: &str) -> Option<&str> {
    let rest = candidate.strip_prefix("fg_")?;
    let (prefix, secret) = rest.split_once('_')?;
    let well_formed = prefix.len() == PREFIX_LEN
        && secret.len() == SECRET_LEN
        && prefix.bytes().all(|b| b.is_ascii_alphanumeric())
        && secret.bytes().all(|b| b.is_ascii_alphanumeric());
    well_formed.then_some(prefix)
}

/// Compares two hex digests in constant time.
pub fn digests_match(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_back_to_their_prefix() {
        let key = generate();
        assert_eq!(parse_prefix(&key.full), Some(key.prefix.as_str()));
        assert_eq!(key.hash, hash_key(&key.full));
        assert_ne!(generate().full, key.full);
    }

    #[test]
    fn malformed_keys_have_no_prefix() {
        for candidate in [
            "",
            "fg_",
            "fg_abc_def",
            "xx_abcdefgh_0123456789abcdef0123456789abcdef",
            "fg_abcdefgh_short",
        ] {
            assert_eq!(parse_prefix(candidate), None, "{candidate:?}");
        }
    }

    #[test]
    fn digests_compare_by_value() {
        assert!(digests_match("abcd", "abcd"));
        assert!(!digests_match("abcd", "abce"));
        assert!(!digests_match("abcd", "abc"));
    }
}
