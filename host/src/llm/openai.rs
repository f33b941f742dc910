//! An OpenAI-compatible chat model: `POST {base}/chat/completions`
//! (<https://platform.openai.com/docs/api-reference/chat/create>) with `temperature: 0`, and
//! structured output (`response_format: {"type": "json_schema", ...}`) where the endpoint takes
//! it. An endpoint that refuses `response_format` with a 400 is asked again with
//! `{"type": "json_object"}`, then with none (remembered for the client's later calls); the
//! prompt always describes the shape too, so plain JSON parsing is the last resort.

use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use super::{ChatModel, ChatReply, ChatRequest};
use crate::embed::OpenAiConfig;
use crate::error::{Error, Result};

/// Default per-request timeout for chat: 120 s (a local model writing a long plan is slow).
pub const CHAT_TIMEOUT: Duration = Duration::from_secs(120);

/// The endpoint settings of the environment (as for `openai:` embeddings), with the chat timeout.
pub fn chat_config() -> OpenAiConfig {
    OpenAiConfig { timeout: CHAT_TIMEOUT, ..OpenAiConfig::default() }
}

/// The structured-output modes, strongest first.
const JSON_SCHEMA: u8 = 0;
const JSON_OBJECT: u8 = 1;
const PLAIN: u8 = 2;

/// A client for one chat model.
pub struct OpenAiChat {
    config: OpenAiConfig,
    model: String,
    agent: ureq::Agent,
    /// The strongest `response_format` mode the endpoint has not refused.
    mode: AtomicU8,
}

impl OpenAiChat {
    /// A client for `model`. Errors: `Llm` when the endpoint is OpenAI's own and no API key is
    /// set (local servers such as Ollama need none).
    pub fn new(model: &str, config: OpenAiConfig) -> Result<OpenAiChat> {
        if config.api_key.is_none() && config.base_url.contains("api.openai.com") {
            return Err(Error::Llm(format!(
                "{model} on api.openai.com needs an API key: set P8_OPENAI_API_KEY (or OPENAI_API_KEY), or point \
                 P8_OPENAI_BASE_URL at another OpenAI-compatible server"
            )));
        }
        let agent = crate::http::agent(config.timeout);
        Ok(OpenAiChat { config, model: model.to_string(), agent, mode: AtomicU8::new(JSON_SCHEMA) })
    }

    fn body(&self, request: &ChatRequest, mode: u8) -> Value {
        let mut body = json!({"model": self.model, "messages": request.messages, "temperature": 0});
        match (&request.schema, mode) {
            (Some((name, schema)), JSON_SCHEMA) => {
                body["response_format"] =
                    json!({"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": false}});
            }
            (Some(_), JSON_OBJECT) => body["response_format"] = json!({"type": "json_object"}),
            _ => {}
        }
        body
    }
}

impl ChatModel for OpenAiChat {
    fn name(&self) -> String {
        self.model.clone()
    }

    /// Errors are redacted ([`crate::redact`]): no URL credentials, bearer token or API key in them.
    fn chat(&self, request: &ChatRequest) -> std::result::Result<ChatReply, String> {
        self.complete(request)
            .map_err(|e| crate::redact::redact(&e, &[self.config.api_key.as_deref().unwrap_or_default()]))
    }
}

impl OpenAiChat {
    fn complete(&self, request: &ChatRequest) -> std::result::Result<ChatReply, String> {
        let url = format!("{}/chat/completions", self.config.base_url.trim_end_matches('/'));
        let call = crate::http::Retrying {
            agent: &self.agent,
            key: self.config.api_key.as_deref(),
            timeout: self.config.timeout,
            retries: self.config.retries,
            deadline: self.config.deadline,
        };
        let text = loop {
            let mode = self.mode.load(Ordering::Relaxed);
            match call.post(&url, &self.body(request, mode).to_string()) {
                Ok(text) => break text,
                // An endpoint without structured output refuses the field; step down a mode.
                Err(crate::http::Failure::Refused(r))
                    if r.status == 400
                        && request.schema.is_some()
                        && mode < PLAIN
                        && (r.message.contains("response_format") || r.message.contains("json_schema")) =>
                {
                    self.mode.store(mode + 1, Ordering::Relaxed);
                }
                Err(e) => return Err(e.message()),
            }
        };
        let reply: Value = serde_json::from_str(&text).map_err(|e| format!("{url}: the answer is not JSON ({e})"))?;
        let content = reply["choices"][0]["message"]["content"].as_str().ok_or_else(|| {
            format!(
                "{url}: the answer has no choices[0].message.content: {}",
                text.chars().take(200).collect::<String>()
            )
        })?;
        let usage = &reply["usage"];
        Ok(ChatReply {
            content: content.to_string(),
            prompt_tokens: usage["prompt_tokens"].as_u64().unwrap_or(0),
            completion_tokens: usage["completion_tokens"].as_u64().unwrap_or(0),
        })
    }
}
