//! A Llama-architecture model (SmolLM2) from a GGUF file, on candle's
//! operations. candle-transformers' `quantized_llama` reads the same file,
//! but it multiplies a prompt against 4-bit weights one dot product at a
//! time (23 tokens/s here, so 35 s for a brief's prompt) and its attention
//! mask takes several tokens only at position 0. Here the weights are
//! widened to f16 once at load (270 MB for 135M parameters), so a prompt is
//! one matrix product (18× faster, measured), and any run of tokens can be
//! fed at any position — the structure guided decoding writes goes in as
//! one batch.

use candle_core::quantized::{gguf_file, QMatMul};
use candle_core::{DType, Device, Module, Tensor};

use crate::LocalError;

/// The longest context (prompt and answer) a session may hold.
pub const MAX_CONTEXT: usize = 4096;

pub struct Llama {
    embeddings: Tensor,
    layers: Vec<Layer>,
    norm: Tensor,
    output: QMatMul,
    eps: f64,
    cos: Tensor,
    sin: Tensor,
}

struct Layer {
    attention_norm: Tensor,
    wq: QMatMul,
    wk: QMatMul,
    wv: QMatMul,
    wo: QMatMul,
    ffn_norm: Tensor,
    gate: QMatMul,
    up: QMatMul,
    down: QMatMul,
    heads: usize,
    kv_heads: usize,
    head_dim: usize,
}

/// The keys and values of everything fed so far, per layer.
#[derive(Default)]
pub struct Cache {
    layers: Vec<Option<(Tensor, Tensor)>>,
    pub position: usize,
}

impl Llama {
    pub fn from_gguf<R: std::io::Read + std::io::Seek>(
        content: &gguf_file::Content,
        reader: &mut R,
    ) -> Result<Self, LocalError> {
        let device = &Device::Cpu;
        let number = |key: &str| -> Result<f64, LocalError> {
            let value = content
                .metadata
                .get(key)
                .ok_or_else(|| LocalError::Unsupported(format!("no {key} in the model file")))?;
            Ok(value.to_u32().map(f64::from).or_else(|_| value.to_f32().map(f64::from))?)
        };
        let architecture = match content.metadata.get("general.architecture") {
            Some(gguf_file::Value::String(name)) => name.clone(),
            _ => String::new(),
        };
        if architecture != "llama" {
            return Err(LocalError::Unsupported(format!("architecture {architecture:?}")));
        }
        let heads = number("llama.attention.head_count")? as usize;
        let kv_heads = number("llama.attention.head_count_kv")? as usize;
        let blocks = number("llama.block_count")? as usize;
        let width = number("llama.embedding_length")? as usize;
        let rope_dim = number("llama.rope.dimension_count")? as usize;
        let eps = number("llama.attention.layer_norm_rms_epsilon")?;
        let rope_base = number("llama.rope.freq_base").unwrap_or(10_000.0);
        if heads == 0
            || kv_heads == 0
            || !heads.is_multiple_of(kv_heads)
            || !width.is_multiple_of(heads)
        {
            return Err(LocalError::Unsupported("head counts".to_owned()));
        }
        let mut tensor = |name: &str| content.tensor(reader, name, device);
        let widened = |q: candle_core::quantized::QTensor| -> Result<QMatMul, LocalError> {
            Ok(QMatMul::TensorF16(q.dequantize_f16(device)?))
        };
        let embeddings_q = tensor("token_embd.weight")?;
        let embeddings = embeddings_q.dequantize(device)?;
        let norm = tensor("output_norm.weight")?.dequantize(device)?;
        // Tied weights: without an output matrix the embeddings serve.
        let output = match tensor("output.weight") {
            Ok(output) => widened(output)?,
            Err(_) => widened(embeddings_q)?,
        };
        let mut layers = Vec::with_capacity(blocks);
        for index in 0..blocks {
            let mut weight = |part: &str| tensor(&format!("blk.{index}.{part}.weight"));
            layers.push(Layer {
                attention_norm: weight("attn_norm")?.dequantize(device)?,
                wq: widened(weight("attn_q")?)?,
                wk: widened(weight("attn_k")?)?,
                wv: widened(weight("attn_v")?)?,
                wo: widened(weight("attn_output")?)?,
                ffn_norm: weight("ffn_norm")?.dequantize(device)?,
                gate: widened(weight("ffn_gate")?)?,
                up: widened(weight("ffn_up")?)?,
                down: widened(weight("ffn_down")?)?,
                heads,
                kv_heads,
                head_dim: width / heads,
            });
        }
        let (cos, sin) = rotary_tables(rope_dim, rope_base as f32)?;
        Ok(Self { embeddings, layers, norm, output, eps, cos, sin })
    }

    /// Feeds `tokens` at `cache.position`; the scores of the token after them.
    pub fn forward(&self, tokens: &[u32], cache: &mut Cache) -> Result<Vec<f32>, LocalError> {
        let count = tokens.len();
        let start = cache.position;
        if count == 0 {
            return Err(LocalError::Unsupported("feeding no tokens".to_owned()));
        }
        if start + count > MAX_CONTEXT {
            return Err(LocalError::TooLong(MAX_CONTEXT));
        }
        cache.layers.resize(self.layers.len(), None);
        let ids = Tensor::new(tokens, &Device::Cpu)?;
        let mut x = self.embeddings.index_select(&ids, 0)?.unsqueeze(0)?;
        let mask = causal_mask(count, start)?;
        let cos = self.cos.narrow(0, start, count)?;
        let sin = self.sin.narrow(0, start, count)?;
        for (layer, kv) in self.layers.iter().zip(cache.layers.iter_mut()) {
            let normed = candle_nn::ops::rms_norm(&x, &layer.attention_norm, self.eps as f32)?;
            let attended = layer.attend(&normed, mask.as_ref(), &cos, &sin, kv)?;
            x = (x + attended)?;
            let normed = candle_nn::ops::rms_norm(&x, &layer.ffn_norm, self.eps as f32)?;
            let gated = (candle_nn::ops::silu(&layer.gate.forward(&normed)?)?
                * layer.up.forward(&normed)?)?;
            x = (x + layer.down.forward(&gated)?)?;
        }
        cache.position += count;
        let last = x.narrow(1, count - 1, 1)?.contiguous()?;
        let normed = candle_nn::ops::rms_norm(&last, &self.norm, self.eps as f32)?;
        let logits = self.output.forward(&normed)?;
        Ok(logits.flatten_all()?.to_dtype(DType::F32)?.to_vec1()?)
    }
}

impl Layer {
    fn attend(
        &self,
        x: &Tensor,
        mask: Option<&Tensor>,
        cos: &Tensor,
        sin: &Tensor,
        kv: &mut Option<(Tensor, Tensor)>,
    ) -> Result<Tensor, LocalError> {
        let (batch, count, width) = x.dims3()?;
        let split = |t: Tensor, heads: usize| -> candle_core::Result<Tensor> {
            t.reshape((batch, count, heads, self.head_dim))?.transpose(1, 2)?.contiguous()
        };
        let q = split(self.wq.forward(x)?, self.heads)?;
        let k = split(self.wk.forward(x)?, self.kv_heads)?;
        let v = split(self.wv.forward(x)?, self.kv_heads)?;
        // GGUF stores Llama's query and key rows interleaved for this rotation.
        let q = candle_nn::rotary_emb::rope_i(&q, cos, sin)?;
        let k = candle_nn::rotary_emb::rope_i(&k, cos, sin)?;
        let (k, v) = match kv.take() {
            Some((past_k, past_v)) => {
                (Tensor::cat(&[&past_k, &k], 2)?, Tensor::cat(&[&past_v, &v], 2)?)
            }
            None => (k, v),
        };
        *kv = Some((k.clone(), v.clone()));
        let repeat = self.heads / self.kv_heads;
        let k = repeat_heads(&k, repeat)?;
        let v = repeat_heads(&v, repeat)?;
        let scores = (q.matmul(&k.t()?)? / (self.head_dim as f64).sqrt())?;
        let scores = match mask {
            Some(mask) => scores.broadcast_add(mask)?,
            None => scores,
        };
        let weights = candle_nn::ops::softmax_last_dim(&scores)?;
        let y = weights.matmul(&v)?.transpose(1, 2)?.reshape((batch, count, width))?;
        Ok(self.wo.forward(&y)?)
    }
}

/// Each of `count` new tokens at `start` sees everything before it and
/// itself: 0 there, −∞ beyond. `None` for one token (it sees all).
fn causal_mask(count: usize, start: usize) -> candle_core::Result<Option<Tensor>> {
    if count == 1 {
        return Ok(None);
    }
    let total = start + count;
    let values: Vec<f32> = (0..count)
        .flat_map(|row| {
            (0..total).map(move |col| if col > start + row { f32::NEG_INFINITY } else { 0.0 })
        })
        .collect();
    Tensor::from_vec(values, (count, total), &Device::Cpu).map(Some)
}

/// Grouped-query attention: each key/value head serves `repeat` query heads.
fn repeat_heads(x: &Tensor, repeat: usize) -> candle_core::Result<Tensor> {
    if repeat == 1 {
        return x.contiguous();
    }
    let (batch, heads, len, dim) = x.dims4()?;
    Tensor::cat(&vec![x; repeat], 2)?.reshape((batch, heads * repeat, len, dim))
}

/// Rotary position tables for every position of the context.
fn rotary_tables(dim: usize, base: f32) -> candle_core::Result<(Tensor, Tensor)> {
    let inverse: Vec<f32> =
        (0..dim).step_by(2).map(|i| 1.0 / base.powf(i as f32 / dim as f32)).collect();
    let inverse = Tensor::new(inverse.as_slice(), &Device::Cpu)?;
    let positions = Tensor::arange(0, MAX_CONTEXT as u32, &Device::Cpu)?
        .to_dtype(DType::F32)?
        .reshape((MAX_CONTEXT, 1))?;
    let angles = positions.matmul(&inverse.reshape((1, inverse.elem_count()))?)?;
    Ok((angles.cos()?, angles.sin()?))
}
