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

/// Result alias for the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;
