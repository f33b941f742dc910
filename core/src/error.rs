//! The engine's error type. It mirrors the WIT `error` variant case for case,
//! so the component shim maps it one-to-one.

use serde::Serialize;

/// One step of a path into a JSON value (pydantic-core's `loc`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// An object key.
    Field(String),
    /// An array index (0-based); for batches the first segment is the row index.
    Index(u32),
}

impl std::fmt::Display for PathSegment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PathSegment::Field(s) => f.write_str(s),
            PathSegment::Index(i) => write!(f, "{i}"),
        }
    }
}

/// One validation problem: `loc` path, stable snake_case `kind`, message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Where the problem is, from the root of the written value.
    pub loc: Vec<PathSegment>,
    /// Stable snake_case kind, e.g. `missing`, `string_type`, `enum`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Human-readable message.
    pub msg: String,
}

impl Issue {
    /// Path rendered as `a.b.0.c` (empty path: `<root>`).
    pub fn loc_string(&self) -> String {
        if self.loc.is_empty() {
            return "<root>".to_string();
        }
        self.loc.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(".")
    }
}

/// Every error the engine reports. One case per WIT `error` case.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No entity with this id or key in the tenant.
    #[error("{0}")]
    NotFound(String),
    /// The table has no registered schema.
    #[error("{0}")]
    SchemaNotFound(String),
    /// The schema document is unusable.
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
    /// A refused schema change.
    #[error("{0}")]
    SchemaConflict(String),
    /// Written data does not satisfy the schema.
    #[error("{}", render_issues(.0))]
    Validation(Vec<Issue>),
    /// Malformed or invalid query; `line`/`column` are 1-based, 0 when unknown.
    #[error("{message}")]
    InvalidQuery {
        /// What is wrong.
        message: String,
        /// 1-based line or 0.
        line: u32,
        /// 1-based column or 0.
        column: u32,
    },
    /// A construct REM does not support (yet).
    #[error("{0}")]
    Unsupported(String),
    /// An argument outside its domain.
    #[error("{0}")]
    InvalidArgument(String),
    /// The storage layer failed.
    #[error("storage: {0}")]
    Storage(String),
    /// The embedding provider failed.
    #[error("embedding: {0}")]
    Embedding(String),
    /// A sandbox limit was hit.
    #[error("resource exhausted: {0}")]
    ResourceExhausted(String),
    /// A broken engine invariant.
    #[error("internal error: {0}")]
    Internal(String),
}

fn render_issues(issues: &[Issue]) -> String {
    let mut out = format!("{} validation error(s)", issues.len());
    for i in issues {
        out.push_str(&format!("\n  {}: {} [type={}]", i.loc_string(), i.msg, i.kind));
    }
    out
}

impl Error {
    /// A query error without a position.
    pub fn query(message: impl Into<String>) -> Self {
        Error::InvalidQuery { message: message.into(), line: 0, column: 0 }
    }

    /// A stored entity record that cannot be read (`Storage`), saying why.
    pub fn corrupt_record(why: impl std::fmt::Display) -> Self {
        Error::Storage(format!("corrupt entity record: {why}"))
    }
}

/// Most characters of a caller's value that a message quotes (see [`preview`]).
pub const MAX_QUOTED_CHARS: usize = 64;

/// `text` (a value as written in a message) cut to its first [`MAX_QUOTED_CHARS`] characters,
/// followed by `… (N bytes)` naming its full length, so that a message about a large bad value
/// stays short. Text within the limit comes back unchanged.
pub fn preview(text: &str) -> std::borrow::Cow<'_, str> {
    preview_with(text, MAX_QUOTED_CHARS)
}

/// [`preview`] with a limit of `max` characters.
pub fn preview_with(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((cut, _)) => std::borrow::Cow::Owned(format!("{}… ({} bytes)", &text[..cut], text.len())),
    }
}

/// A JSON value as quoted in a message: its compact JSON text, cut as [`preview`] cuts text, and
/// whether it was cut. Serializes the value once without keeping more than the quoted start of it.
pub fn preview_json(value: &serde_json::Value) -> (String, bool) {
    /// The first `KEEP` bytes written, and how many were written in all.
    struct Head {
        kept: Vec<u8>,
        total: usize,
    }
    // Enough bytes for MAX_QUOTED_CHARS characters of up to 4 bytes each, and one more.
    const KEEP: usize = 4 * (MAX_QUOTED_CHARS + 1);
    impl std::io::Write for Head {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            let room = KEEP.saturating_sub(self.kept.len());
            self.kept.extend_from_slice(&b[..b.len().min(room)]);
            self.total += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut head = Head { kept: Vec::new(), total: 0 };
    // Writing a `Value` to a writer that never fails cannot fail.
    let _ = serde_json::to_writer(&mut head, value);
    let text = String::from_utf8_lossy(&head.kept);
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((cut, _)) => (format!("{}… ({} bytes)", &text[..cut], head.total), true),
        None => (text.into_owned(), false),
    }
}

/// Result alias for the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_cut_long_values_on_a_character_boundary() {
        assert_eq!(preview("short"), "short");
        let exact = "é".repeat(MAX_QUOTED_CHARS);
        assert_eq!(preview(&exact), exact.as_str());
        let long = format!("{}€", "é".repeat(MAX_QUOTED_CHARS));
        assert_eq!(preview(&long), format!("{exact}… ({} bytes)", long.len()));
        let (quoted, cut) = preview_json(&serde_json::json!({"k": "€".repeat(100_000)}));
        assert!(cut && quoted.starts_with("{\"k\":\"€€") && quoted.ends_with("… (300008 bytes)"), "{quoted}");
        assert_eq!(quoted.chars().count(), MAX_QUOTED_CHARS + "… (300008 bytes)".chars().count());
        assert_eq!(preview_json(&serde_json::json!([1, "a"])), ("[1,\"a\"]".to_string(), false));
    }
}
