//! `openai:<model>`: any OpenAI-compatible `POST {base}/embeddings` endpoint
//! (<https://platform.openai.com/docs/api-reference/embeddings>), batched, with
//! a timeout per request and retries with exponential backoff on 429, 5xx and
//! transport errors.

use std::time::Duration;

use serde::Deserialize;

use super::Provider;

/// Where and how to call the endpoint. Its `Debug` shows neither the key nor URL credentials.
#[derive(Clone, PartialEq)]
pub struct OpenAiConfig {
    /// Base URL, e.g. `https://api.openai.com/v1` (`P8_OPENAI_BASE_URL`).
    pub base_url: String,
    /// Bearer token (`P8_OPENAI_API_KEY`, else `OPENAI_API_KEY`).
    pub api_key: Option<String>,
    /// Per-request timeout. Default 30 s.
    pub timeout: Duration,
    /// Retries after the first attempt. Default 3 (waits 0.5 s, 1 s, 2 s).
    pub retries: u32,
    /// Texts per request. Default 256.
    pub batch: usize,
    /// Give up at this instant: each request's timeout is cut to what is left, and no retry
    /// starts after it (set per call from the call's deadline). Default none.
    pub deadline: Option<std::time::Instant>,
}

impl std::fmt::Debug for OpenAiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenAiConfig")
            .field("base_url", &crate::redact::redact(&self.base_url, &[]))
            .field("api_key", &self.api_key.as_ref().map(|_| crate::redact::MASK))
            .field("timeout", &self.timeout)
            .field("retries", &self.retries)
            .field("batch", &self.batch)
            .field("deadline", &self.deadline)
            .finish()
    }
}

impl Default for OpenAiConfig {
    fn default() -> Self {
        let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        OpenAiConfig {
            base_url: env("P8_OPENAI_BASE_URL").unwrap_or_else(|| "https://api.openai.com/v1".into()),
            api_key: env("P8_OPENAI_API_KEY").or_else(|| env("OPENAI_API_KEY")),
            timeout: Duration::from_secs(30),
            retries: 3,
            batch: 256,
            deadline: None,
        }
    }
}

/// A client for one model.
pub struct OpenAi {
    config: OpenAiConfig,
    model: String,
    agent: ureq::Agent,
}

#[derive(Deserialize)]
struct Item {
    index: usize,
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct Reply {
    data: Vec<Item>,
}

impl OpenAi {
    /// A client for `model` (the name after `openai:`). Errors: no API key.
    pub fn new(model: &str, config: OpenAiConfig) -> Result<OpenAi, String> {
        if config.api_key.is_none() {
            return Err(format!(
                "openai:{model} needs an API key: set P8_OPENAI_API_KEY (or OPENAI_API_KEY), and P8_OPENAI_BASE_URL \
                 for another OpenAI-compatible server"
            ));
        }
        let timeout = match config.deadline {
            Some(d) => config.timeout.min(d.saturating_duration_since(std::time::Instant::now())),
            None => config.timeout,
        };
        let agent = crate::http::agent(timeout);
        Ok(OpenAi { config, model: model.to_string(), agent })
    }

    fn request(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, super::EmbedError> {
        let url = format!("{}/embeddings", self.config.base_url.trim_end_matches('/'));
        let body = serde_json::json!({"model": self.model, "input": texts}).to_string();
        let text = crate::http::Retrying {
            agent: &self.agent,
            key: self.config.api_key.as_deref(),
            timeout: self.config.timeout,
            retries: self.config.retries,
            deadline: self.config.deadline,
        }
        .post(&url, &body)
        .map_err(|f| {
            let (failure, retry_after) = f.provider_failure().unzip();
            super::EmbedError { message: f.message(), failure, retry_after: retry_after.flatten() }
        })?;
        let mut reply: Reply = serde_json::from_str(&text).map_err(|e| format!("{url}: unexpected reply ({e})"))?;
        if reply.data.len() != texts.len() {
            return Err(format!("{url} returned {} embeddings for {} texts", reply.data.len(), texts.len()).into());
        }
        reply.data.sort_by_key(|i| i.index);
        Ok(reply.data.into_iter().map(|i| i.embedding).collect())
    }
}

impl OpenAi {
    /// [`Provider::embed`] with the kind of a failure kept ([`super::EmbedError`]): unreachable,
    /// credentials refused, or rate limited with the `Retry-After` seconds. Errors are redacted
    /// ([`crate::redact`]): no URL credentials, bearer token or API key in them.
    pub fn embed_detailed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, super::EmbedError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.config.batch.max(1)) {
            if self.config.deadline.is_some_and(|d| std::time::Instant::now() >= d) {
                return Err(String::from("deadline passed").into());
            }
            let got = self.request(chunk).map_err(|mut e| {
                e.message = crate::redact::redact(&e.message, &[self.config.api_key.as_deref().unwrap_or_default()]);
                e
            })?;
            out.extend(got);
        }
        Ok(out)
    }
}

impl Provider for OpenAi {
    /// Errors are redacted ([`crate::redact`]): no URL credentials, bearer token or API key in them.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        self.embed_detailed(texts).map_err(|e| e.message)
    }
}
