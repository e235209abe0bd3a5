//! The model's tokenizer, rebuilt from the GGUF file's own metadata (the
//! package ships no `tokenizer.json`): byte-level BPE with SmolLM's digit
//! splitting, and the bytes each token stands for, which guided decoding
//! checks before it lets the model write a token.

use std::collections::HashMap;

use candle_core::quantized::gguf_file::{Content, Value};
use tokenizers::decoders::byte_level::ByteLevel as ByteLevelDecoder;
use tokenizers::models::bpe::BPE;
use tokenizers::pre_tokenizers::byte_level::ByteLevel;
use tokenizers::pre_tokenizers::digits::Digits;
use tokenizers::pre_tokenizers::sequence::Sequence;
use tokenizers::{PreTokenizerWrapper, Tokenizer};

use crate::LocalError;

/// GGUF's token type of control tokens (`<|im_start|>`, `<|endoftext|>`).
const CONTROL: i32 = 3;

/// The vocabulary: how text becomes tokens and what each token writes.
pub struct Vocab {
    tokenizer: Tokenizer,
    /// The bytes each token id stands for (empty for control tokens).
    pieces: Vec<Vec<u8>>,
    control: Vec<bool>,
    /// `<|im_start|>`, `<|im_end|>`.
    pub im_start: u32,
    pub im_end: u32,
}

impl std::fmt::Debug for Vocab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocab").field("tokens", &self.pieces.len()).finish()
    }
}

impl Vocab {
    /// Reads `tokenizer.ggml.*` from the model file's metadata.
    pub fn from_gguf(content: &Content) -> Result<Self, LocalError> {
        let model = string(content, "tokenizer.ggml.model")?;
        if model != "gpt2" {
            return Err(LocalError::Unsupported(format!("tokenizer model {model:?}")));
        }
        let tokens = strings(content, "tokenizer.ggml.tokens")?;
        let merges = strings(content, "tokenizer.ggml.merges")?;
        let types: Vec<i32> = match content.metadata.get("tokenizer.ggml.token_type") {
            Some(Value::Array(values)) => values.iter().map(|v| v.to_i32().unwrap_or(1)).collect(),
            _ => vec![1; tokens.len()],
        };
        let vocab: ahash::AHashMap<String, u32> =
            tokens.iter().enumerate().map(|(id, token)| (token.clone(), id as u32)).collect();
        let merges: Vec<(String, String)> = merges
            .iter()
            .filter_map(|merge| merge.split_once(' '))
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        let bpe = BPE::builder()
            .vocab_and_merges(vocab, merges)
            .build()
            .map_err(|err| LocalError::Tokenizer(err.to_string()))?;
        let mut tokenizer = Tokenizer::new(bpe);
        // SmolLM's pre-tokenizer: every digit alone, then GPT-2's byte-level split.
        tokenizer.with_pre_tokenizer(Some(PreTokenizerWrapper::Sequence(Sequence::new(vec![
            PreTokenizerWrapper::Digits(Digits::new(true)),
            PreTokenizerWrapper::ByteLevel(ByteLevel::new(false, true, true)),
        ]))));
        tokenizer.with_decoder(Some(ByteLevelDecoder::default()));

        let unicode_to_byte = unicode_to_byte();
        let control: Vec<bool> =
            (0..tokens.len()).map(|id| types.get(id).copied() == Some(CONTROL)).collect();
        let pieces = tokens
            .iter()
            .zip(&control)
            .map(|(token, &is_control)| {
                if is_control {
                    Vec::new()
                } else {
                    token.chars().filter_map(|c| unicode_to_byte.get(&c).copied()).collect()
                }
            })
            .collect();
        let id = |name: &str| {
            tokens
                .iter()
                .position(|token| token == name)
                .map(|id| id as u32)
                .ok_or_else(|| LocalError::Unsupported(format!("no {name} token")))
        };
        Ok(Self {
            im_start: id("<|im_start|>")?,
            im_end: id("<|im_end|>")?,
            tokenizer,
            pieces,
            control,
        })
    }

    /// The tokens of `text`, control markers left as plain text: a request
    /// that types `<|im_end|>` cannot end its own message.
    pub fn encode(&self, text: &str) -> Result<Vec<u32>, LocalError> {
        let encoding = self
            .tokenizer
            .encode(text, false)
            .map_err(|err| LocalError::Tokenizer(err.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }

    /// The bytes token `id` writes (empty for a control token).
    pub fn piece(&self, id: u32) -> &[u8] {
        self.pieces.get(id as usize).map_or(&[], Vec::as_slice)
    }

    /// Whether `id` is a control token (end of text, a chat marker).
    pub fn is_control(&self, id: u32) -> bool {
        self.control.get(id as usize).copied().unwrap_or(true)
    }
}

fn string(content: &Content, key: &str) -> Result<String, LocalError> {
    match content.metadata.get(key) {
        Some(Value::String(value)) => Ok(value.clone()),
        _ => Err(LocalError::Unsupported(format!("no {key} in the model file"))),
    }
}

fn strings(content: &Content, key: &str) -> Result<Vec<String>, LocalError> {
    match content.metadata.get(key) {
        Some(Value::Array(values)) => values
            .iter()
            .map(|value| match value {
                Value::String(s) => Ok(s.clone()),
                _ => Err(LocalError::Unsupported(format!("{key} holds a non-string"))),
            })
            .collect(),
        _ => Err(LocalError::Unsupported(format!("no {key} in the model file"))),
    }
}

/// GPT-2's map from the printable characters byte-level BPE writes back to
/// the bytes they stand for.
fn unicode_to_byte() -> HashMap<char, u8> {
    let printable = |b: u8| (b'!'..=b'~').contains(&b) || (0xA1..=0xAC).contains(&b) || b >= 0xAE;
    let mut map = HashMap::with_capacity(256);
    let mut shifted = 0u32;
    for byte in 0..=255u8 {
        let c = if printable(byte) {
            char::from(byte)
        } else {
            shifted += 1;
            char::from_u32(255 + shifted).unwrap_or('\u{FFFD}')
        };
        map.insert(c, byte);
    }
    map
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_byte_map_covers_every_byte_once() {
        let map = super::unicode_to_byte();
        assert_eq!(map.len(), 256);
        assert_eq!(map[&'Ġ'], b' ');
        assert_eq!(map[&'Ċ'], b'\n');
        assert_eq!(map[&'a'], b'a');
    }
}
