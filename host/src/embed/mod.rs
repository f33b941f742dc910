//! Embedding providers behind the WIT `embeddings` import.
//!
//! Model names: `local:all-MiniLM-L6-v2` (the default; candle, in process),
//! `hash:<dims>` (deterministic, offline, lexical; no model), and
//! `openai:<model>` (any OpenAI-compatible `/v1/embeddings` endpoint).
//! The default model is `P8_DEFAULT_EMBEDDING`, else `local:all-MiniLM-L6-v2`.

pub mod hash;
pub mod local;
pub mod openai;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

pub use hash::HashEmbedder;
pub use local::{MiniLm, find_model_dir};
pub use openai::{OpenAi, OpenAiConfig};

/// The default embedding model when neither the schema nor `P8_DEFAULT_EMBEDDING` names one.
pub const DEFAULT_MODEL: &str = "local:all-MiniLM-L6-v2";

pub use crate::http::ProviderFailure;

/// Why embedding failed: the message for the `embedding` error case and, when the provider
/// told, the kind of failure and the seconds it asked to wait (`Retry-After`).
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedError {
    /// What went wrong, redacted (no key or credential in it).
    pub message: String,
    /// The kind of provider failure, when known.
    pub failure: Option<ProviderFailure>,
    /// Seconds to wait before retrying, when a rate-limiting provider said.
    pub retry_after: Option<f64>,
}

impl From<String> for EmbedError {
    fn from(message: String) -> Self {
        EmbedError { message, failure: None, retry_after: None }
    }
}

/// Something that turns texts into vectors.
pub trait Provider: Send + Sync {
    /// One vector per text, in order. Errors: a message for the `embedding` error case.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String>;
}

/// A user-supplied embedding function (`texts -> vectors`), e.g. a Python callable.
pub type CustomEmbedder = Arc<dyn Fn(&[String]) -> Result<Vec<Vec<f32>>, String> + Send + Sync>;

/// Resolves model names to providers; shared by every database of a process.
#[derive(Clone)]
pub struct Embeddings {
    default_model: String,
    alt_model: Option<String>,
    model_dir: Option<PathBuf>,
    custom: Option<(String, CustomEmbedder)>,
    openai: OpenAiConfig,
}

impl std::fmt::Debug for Embeddings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Embeddings")
            .field("default_model", &self.default_model)
            .field("model_dir", &self.model_dir)
            .field("custom", &self.custom.as_ref().map(|(n, _)| n))
            .finish()
    }
}

impl Default for Embeddings {
    fn default() -> Self {
        Embeddings::new(None, None)
    }
}

fn local_models() -> &'static Mutex<HashMap<PathBuf, Arc<MiniLm>>> {
    static MODELS: OnceLock<Mutex<HashMap<PathBuf, Arc<MiniLm>>>> = OnceLock::new();
    MODELS.get_or_init(Default::default)
}

impl Embeddings {
    /// Providers with `default_model` (else `$P8_DEFAULT_EMBEDDING`, else [`DEFAULT_MODEL`])
    /// and MiniLM weights at `model_dir` (else searched, see [`find_model_dir`]).
    pub fn new(default_model: Option<String>, model_dir: Option<PathBuf>) -> Embeddings {
        let default_model = default_model
            .or_else(|| std::env::var("P8_DEFAULT_EMBEDDING").ok().filter(|s| !s.is_empty()))
            .unwrap_or_else(|| DEFAULT_MODEL.to_string());
        let alt_model = std::env::var(crate::config::ENV_ALT_EMBEDDING).ok().filter(|s| !s.is_empty());
        Embeddings { default_model, alt_model, model_dir, custom: None, openai: OpenAiConfig::default() }
    }

    /// Give tables with embedding fields a second vector per row from `model` (`None`: none),
    /// instead of `$P8_ALT_EMBEDDING`.
    pub fn with_alt_model(mut self, model: Option<String>) -> Embeddings {
        self.alt_model = model;
        self
    }

    /// The second model of tables that name no `embedding_provider_alt`, if any.
    pub fn alt_model(&self) -> Option<&str> {
        self.alt_model.as_deref()
    }

    /// Route model `name` to `f` (for example `custom:my-model`).
    pub fn with_custom(mut self, name: impl Into<String>, f: CustomEmbedder) -> Embeddings {
        self.custom = Some((name.into(), f));
        self
    }

    /// The model name routed to a function of this process ([`Embeddings::with_custom`]), if any.
    pub fn custom_model(&self) -> Option<&str> {
        self.custom.as_ref().map(|(name, _)| name.as_str())
    }

    /// Call OpenAI-compatible endpoints with `config` (default: from the environment).
    pub fn with_openai(mut self, config: OpenAiConfig) -> Embeddings {
        self.openai = config;
        self
    }

    /// The model a schema without `embedding_provider` uses.
    pub fn default_model(&self) -> &str {
        &self.default_model
    }

    /// Embed `texts` with `model`. Errors: unknown model, provider unavailable (with how to fix), provider failure.
    pub fn embed(&self, model: &str, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        self.embed_before(model, texts, None, &|| false).map_err(|e| e.message)
    }

    /// [`Embeddings::embed`] that gives up at `deadline`: the OpenAI client's request timeout is cut to
    /// what is left before each request and it retries no later; MiniLM stops between its batches,
    /// also when `interrupted()` answers `true`. Errors: as `embed`, and "deadline passed" /
    /// "interrupted"; an OpenAI-compatible provider's failure says its kind ([`EmbedError`]).
    pub fn embed_before(
        &self,
        model: &str,
        texts: &[String],
        deadline: Option<std::time::Instant>,
        interrupted: &dyn Fn() -> bool,
    ) -> Result<Vec<Vec<f32>>, EmbedError> {
        if let Some((name, f)) = &self.custom
            && name == model
        {
            return Ok(f(texts)?);
        }
        if let Some(dims) = model.strip_prefix("hash:") {
            let dims: usize = dims
                .parse()
                .ok()
                .filter(|d| (1..=8192).contains(d))
                .ok_or_else(|| format!("'{model}': hash dimensions must be an integer from 1 to 8192"))?;
            return Ok(HashEmbedder::new(dims).embed(texts)?);
        }
        match model {
            "local:all-MiniLM-L6-v2" | "all-MiniLM-L6-v2" | "sentence-transformers/all-MiniLM-L6-v2" => {
                Ok(self.minilm()?.embed_before(texts, deadline, interrupted)?)
            }
            m if m.starts_with("openai:") => {
                let config = OpenAiConfig { deadline, ..self.openai.clone() };
                OpenAi::new(&m["openai:".len()..], config)?.embed_detailed(texts)
            }
            m => Err(format!(
                "unknown embedding model '{m}': use local:all-MiniLM-L6-v2 (the default), openai:<model> or \
                 hash:<dims> (lexical, no model)"
            )
            .into()),
        }
    }

    /// The MiniLM model, loaded once per weights folder per process.
    pub fn minilm(&self) -> Result<Arc<MiniLm>, String> {
        // The search (which may ask Python) runs once per process.
        static FOUND: OnceLock<PathBuf> = OnceLock::new();
        let dir = match (&self.model_dir, FOUND.get()) {
            (Some(d), _) | (None, Some(d)) => d.clone(),
            (None, None) => {
                let d = find_model_dir()?;
                FOUND.get_or_init(|| d).clone()
            }
        };
        let mut models = local_models().lock().map_err(|_| "embedding model cache poisoned".to_string())?;
        if let Some(m) = models.get(&dir) {
            return Ok(m.clone());
        }
        let m = Arc::new(MiniLm::load(&dir)?);
        models.insert(dir, m.clone());
        Ok(m)
    }
}
