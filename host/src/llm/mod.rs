//! Chat models for the agent's side of REM (`rem ask`, `rem dream`, the MCP server's `ask`
//! tool): one small trait, [`ChatModel`], with an OpenAI-compatible implementation
//! ([`openai::OpenAiChat`]: OpenAI, Ollama, llama.cpp's server, vLLM all speak it), chosen
//! from the environment by [`from_env`]. A caller's own function may stand in (the Python
//! wheel's `llm=` does), as a custom embedder does for embeddings.

pub mod openai;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

pub use crate::config::ENV_DEFAULT_LLM;

/// One chat message (`role`: `system`, `user` or `assistant`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    /// `system`, `user` or `assistant`.
    pub role: String,
    /// The text.
    pub content: String,
}

impl ChatMessage {
    /// A `system` message.
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage { role: "system".into(), content: content.into() }
    }

    /// A `user` message.
    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage { role: "user".into(), content: content.into() }
    }

    /// An `assistant` message.
    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage { role: "assistant".into(), content: content.into() }
    }
}

/// What to ask: the conversation, and the JSON Schema the answer must follow.
#[derive(Debug, Clone)]
pub struct ChatRequest {
    /// The messages, oldest first.
    pub messages: Vec<ChatMessage>,
    /// The answer's JSON Schema and a name for it (sent as OpenAI's `response_format`
    /// `json_schema` where the endpoint takes it; the prompt also describes the shape).
    pub schema: Option<(String, Value)>,
}

/// The model's answer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatReply {
    /// The assistant message's text.
    pub content: String,
    /// Prompt tokens the endpoint reported (0 when it reports none).
    pub prompt_tokens: u64,
    /// Completion tokens the endpoint reported (0 when it reports none).
    pub completion_tokens: u64,
}

/// A chat model. Errors are plain sentences (redacted: no key, token or URL credentials);
/// callers wrap them in [`Error::Llm`].
pub trait ChatModel: Send + Sync {
    /// The model's name, for reports (`gpt-4.1-mini`).
    fn name(&self) -> String;
    /// One completion for `request`.
    fn chat(&self, request: &ChatRequest) -> std::result::Result<ChatReply, String>;
}

/// The chat model named `model` (`openai:` prefix optional) on the OpenAI-compatible endpoint
/// of the environment (`P8_OPENAI_BASE_URL`, `P8_OPENAI_API_KEY`/`OPENAI_API_KEY`).
/// Errors: `Llm` for an empty name, or OpenAI's own endpoint without an API key.
pub fn named(model: &str) -> Result<Box<dyn ChatModel>> {
    let model = model.strip_prefix("openai:").unwrap_or(model).trim();
    if model.is_empty() {
        return Err(Error::Llm(format!("the model name is empty: set {ENV_DEFAULT_LLM} or --llm to a chat model")));
    }
    Ok(Box::new(openai::OpenAiChat::new(model, openai::chat_config())?))
}

/// The chat model of `$P8_DEFAULT_LLM` (see [`named`]). Errors: `Llm` when it is unset,
/// saying what to set.
pub fn from_env() -> Result<Box<dyn ChatModel>> {
    match std::env::var(ENV_DEFAULT_LLM).ok().filter(|v| !v.trim().is_empty()) {
        Some(model) => named(&model),
        None => Err(Error::Llm(format!(
            "no LLM configured: set {ENV_DEFAULT_LLM} to a chat model (e.g. gpt-4.1-mini with P8_OPENAI_API_KEY, or \
             llama3.1 with P8_OPENAI_BASE_URL=http://localhost:11434/v1 for Ollama)"
        ))),
    }
}

/// The JSON object in a model's answer: the whole text, else the text inside a Markdown code
/// fence, else the span from the first `{` to the last `}` (models that were not held to a
/// schema wrap their JSON in prose). Errors: a sentence quoting the start of the answer.
pub fn json_object(text: &str) -> std::result::Result<serde_json::Map<String, Value>, String> {
    let trimmed = text.trim();
    let fenced = trimmed
        .strip_prefix("```json")
        .or_else(|| trimmed.strip_prefix("```"))
        .and_then(|rest| rest.trim_end().strip_suffix("```"))
        .map(str::trim);
    let braces = match (trimmed.find('{'), trimmed.rfind('}')) {
        (Some(a), Some(b)) if a < b => Some(&trimmed[a..=b]),
        _ => None,
    };
    for candidate in [Some(trimmed), fenced, braces].into_iter().flatten() {
        if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(candidate) {
            return Ok(map);
        }
    }
    let start: String = trimmed.chars().take(160).collect();
    Err(format!("the model did not answer a JSON object (it began: {start:?})"))
}

/// Ask `model` and read its answer as a JSON object: one call, and when the answer is not
/// JSON, one more with the problem stated. Tokens used are added to `tokens`.
/// Errors: `Llm` (endpoint failures, or no JSON object twice).
pub fn chat_json(
    model: &dyn ChatModel,
    mut request: ChatRequest,
    tokens: &mut Tokens,
) -> Result<serde_json::Map<String, Value>> {
    let mut last = String::new();
    for _ in 0..2 {
        let reply = model.chat(&request).map_err(Error::Llm)?;
        tokens.add(&reply);
        match json_object(&reply.content) {
            Ok(map) => return Ok(map),
            Err(e) => {
                last = e;
                request.messages.push(ChatMessage::assistant(reply.content));
                request.messages.push(ChatMessage::user(
                    "That was not a JSON object. Answer again with only the JSON object, no prose and no code fence.",
                ));
            }
        }
    }
    Err(Error::Llm(format!("{last}; check that {} follows instructions and returns JSON", model.name())))
}

/// Tokens used across calls, as the endpoint reported them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Tokens {
    /// Prompt tokens.
    pub prompt: u64,
    /// Completion tokens.
    pub completion: u64,
    /// Chat calls made.
    pub calls: u64,
}

impl Tokens {
    /// Count one reply.
    pub fn add(&mut self, reply: &ChatReply) {
        self.prompt += reply.prompt_tokens;
        self.completion += reply.completion_tokens;
        self.calls += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_in_fences_and_prose() {
        assert_eq!(json_object(r#"{"a":1}"#).unwrap()["a"], 1);
        assert_eq!(json_object("```json\n{\"a\": 2}\n```").unwrap()["a"], 2);
        assert_eq!(json_object("Sure! Here it is: {\"a\": 3} Hope that helps.").unwrap()["a"], 3);
        let e = json_object("I cannot help with that.").unwrap_err();
        assert!(e.contains("did not answer a JSON object") && e.contains("I cannot"), "{e}");
        assert!(json_object("[1, 2]").is_err());
    }
}
