//! A deterministic embedding from hashed words and word pairs.
//!
//! For tests that exercise storage, caching and the index without loading a
//! model, and nothing else: it knows no synonyms. It is never chosen unless
//! configured by name.

use crate::l2_normalise;

/// Dimensions of the hashing embedder (the same as the local model, so the
/// two fit the same tables and index).
pub const DIMENSIONS: usize = 384;
pub const MODEL_ID: &str = "fairgig/hashing-v1";

/// Unit vector of `text`: each lower-cased word and each pair of adjacent
/// words adds ±1 to the dimension its FNV-1a hash picks.
pub fn embed(text: &str) -> Vec<f32> {
    let mut v = vec![0f32; DIMENSIONS];
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut add = |feature: &[&str]| {
        let h = fnv1a(feature);
        let sign = if h & (1 << 63) == 0 { 1.0 } else { -1.0 };
        v[(h % DIMENSIONS as u64) as usize] += sign;
    };
    for (i, word) in words.iter().enumerate() {
        add(&[word]);
        if let Some(next) = words.get(i + 1) {
            add(&[word, next]);
        }
    }
    l2_normalise(&mut v);
    v
}

fn fnv1a(parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ 0x1f).wrapping_mul(0x0100_0000_01b3);
        }
        for b in part.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dot;

    #[test]
    fn same_text_same_vector_and_unit_length() {
        let a = embed("Senior Rust developer, remote");
        assert_eq!(a, embed("senior rust DEVELOPER remote"));
        assert!((dot(&a, &a) - 1.0).abs() < 1e-5);
    }

    #[test]
    fn shared_words_score_higher_than_none() {
        let job = embed("rust developer for a payments backend");
        let close = embed("backend rust developer");
        let far = embed("watercolour illustrations of birds");
        assert!(dot(&job, &close) > dot(&job, &far) + 0.3);
    }

    #[test]
    fn empty_text_is_the_zero_vector() {
        assert!(embed(" \t ").iter().all(|x| *x == 0.0));
    }
}
