//! The engine's side of embeddings: the [`Embedder`] the host supplies and the
//! text of a row that gets embedded.

use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Turns texts into vectors; in the component this is the WIT `embeddings` import.
pub trait Embedder {
    /// One vector per text, in order. Errors: `Embedding`.
    fn embed(&self, model: &str, texts: &[String]) -> Result<Vec<Vec<f32>>>;
    /// The model used when a schema names none (the host's `P8_DEFAULT_EMBEDDING`).
    fn default_model(&self) -> String;
    /// The second model of tables that name no `embedding_provider_alt` (the host's
    /// `P8_ALT_EMBEDDING`), if any.
    fn alt_model(&self) -> Option<String> {
        None
    }
}

/// An embedder that has no provider: every call fails with a hint.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoEmbedder;

impl Embedder for NoEmbedder {
    fn embed(&self, model: &str, _texts: &[String]) -> Result<Vec<Vec<f32>>> {
        Err(Error::Embedding(format!("no embedding provider is configured in this host (model '{model}')")))
    }
    fn default_model(&self) -> String {
        "local:all-MiniLM-L6-v2".into()
    }
}

fn at<'a>(props: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut v = props.get(parts.next()?)?;
    for p in parts {
        v = v.as_object()?.get(p)?;
    }
    Some(v)
}

/// The text embedded for a row: the values of `fields` (dotted paths) that are
/// present and not null, strings as they are and other values as JSON, joined
/// with newlines. `None` when no field has a value (the row gets no vector).
pub fn embedding_text(props: &Map<String, Value>, fields: &[String]) -> Option<String> {
    let parts: Vec<String> = fields
        .iter()
        .filter_map(|f| match at(props, f)? {
            Value::Null => None,
            Value::String(s) if s.trim().is_empty() => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
        .collect();
    if parts.is_empty() { None } else { Some(parts.join("\n")) }
}

/// First 16 bytes of BLAKE3 of `text` (to skip re-embedding an unchanged text).
pub fn text_hash(text: &str) -> [u8; 16] {
    blake3::hash(text.as_bytes()).as_bytes()[..16].try_into().expect("16 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_joins_present_fields_in_order() {
        let p = json!({"name": "nginx", "desc": "web server", "n": 3, "x": null, "meta": {"tag": "http"}});
        let p = p.as_object().unwrap();
        let f = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(embedding_text(p, &f(&["name", "desc"])).as_deref(), Some("nginx\nweb server"));
        assert_eq!(embedding_text(p, &f(&["x", "n", "meta.tag"])).as_deref(), Some("3\nhttp"));
        assert_eq!(embedding_text(p, &f(&["x", "missing"])), None);
        assert_ne!(text_hash("a"), text_hash("b"));
    }
}
