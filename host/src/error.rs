//! The host's error type: the engine's WIT error cases plus what only the
//! host can fail at (locking, files, traps).

use std::path::PathBuf;

use serde::Serialize;

use crate::bindings::rem::engine::types as wit;

/// One step of a validation `loc` path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// An object key.
    Field(String),
    /// An array index (for batches, the first segment is the row index).
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

/// One validation problem, shaped like pydantic-core's (`loc`, `type`, `msg`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Issue {
    /// Path from the root of the written value.
    pub loc: Vec<PathSegment>,
    /// Stable snake_case kind (`missing`, `string_type`, `enum`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Human-readable message.
    pub msg: String,
}

impl Issue {
    /// `loc` rendered as `a.b.0`.
    pub fn loc_string(&self) -> String {
        self.loc.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(".")
    }
}

/// Every error a REM host call can return.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// No such entity.
    #[error("{0}")]
    NotFound(String),
    /// No such table.
    #[error("{0}")]
    SchemaNotFound(String),
    /// Unusable schema document.
    #[error("invalid schema: {0}")]
    InvalidSchema(String),
    /// Refused schema change.
    #[error("{0}")]
    SchemaConflict(String),
    /// Data does not satisfy the schema (every issue).
    #[error("{} validation error(s): {}", .0.len(), .0.iter().map(|i| format!("{}: {} [type={}]", i.loc_string(), i.msg, i.kind)).collect::<Vec<_>>().join("; "))]
    Validation(Vec<Issue>),
    /// Bad query; `line`/`column` 1-based, 0 when unknown.
    #[error("{message}")]
    InvalidQuery {
        /// What is wrong.
        message: String,
        /// Line or 0.
        line: u32,
        /// Column or 0.
        column: u32,
    },
    /// Unsupported construct or feature.
    #[error("{0}")]
    Unsupported(String),
    /// Bad argument.
    #[error("{0}")]
    InvalidArgument(String),
    /// Storage failure.
    #[error("storage error: {0}")]
    Storage(String),
    /// Embedding failure.
    #[error("embedding error: {0}")]
    Embedding(String),
    /// Sandbox limit hit; the call was rolled back and the database stays usable.
    #[error("resource exhausted: {0}")]
    ResourceExhausted(String),
    /// Another process (or another handle in this process) has the database open.
    #[error("database {} is locked by another process; close it there or use another --path", .0.display())]
    Locked(PathBuf),
    /// A file-system problem.
    #[error("{context}: {message}")]
    Io {
        /// What REM was doing.
        context: String,
        /// The OS error.
        message: String,
    },
    /// The call ran past its deadline; it was stopped and rolled back, and the database stays usable.
    #[error("timeout: {0}")]
    Timeout(String),
    /// The call was stopped by the handle's interrupt check (Ctrl-C in Python); rolled back.
    #[error("interrupted: {0}")]
    Interrupted(String),
    /// The handle was opened in another process, and this one is a child made by `fork()`.
    #[error(
        "this database handle was opened in process {opened_in} and cannot be used in process {now}, made from it by \
         fork(); open the database in the child instead (after the parent closes it, or use the 'spawn' start method)"
    )]
    Forked {
        /// The process that opened the handle.
        opened_in: u32,
        /// This process.
        now: u32,
    },
    /// The engine trapped (a bug); the call was rolled back and the engine restarted.
    #[error("engine trap (rolled back, engine restarted): {0}")]
    Trap(String),
    /// A broken invariant.
    #[error("internal error: {0}")]
    Internal(String),
}

/// The message of a caught panic (`std::panic::catch_unwind`'s payload), for an error.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into())
}

/// Result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<wit::Error> for Error {
    fn from(e: wit::Error) -> Self {
        match e {
            wit::Error::NotFound(m) => Error::NotFound(m),
            wit::Error::SchemaNotFound(m) => Error::SchemaNotFound(m),
            wit::Error::InvalidSchema(m) => Error::InvalidSchema(m),
            wit::Error::SchemaConflict(m) => Error::SchemaConflict(m),
            wit::Error::Validation(issues) => Error::Validation(
                issues
                    .into_iter()
                    .map(|i| Issue {
                        loc: i
                            .loc
                            .into_iter()
                            .map(|s| match s {
                                wit::PathSegment::Field(f) => PathSegment::Field(f),
                                wit::PathSegment::Index(n) => PathSegment::Index(n),
                            })
                            .collect(),
                        kind: i.kind,
                        msg: i.msg,
                    })
                    .collect(),
            ),
            wit::Error::InvalidQuery(q) => Error::InvalidQuery { message: q.message, line: q.line, column: q.column },
            wit::Error::Unsupported(m) => Error::Unsupported(m),
            wit::Error::InvalidArgument(m) => Error::InvalidArgument(m),
            wit::Error::Storage(m) => Error::Storage(m),
            wit::Error::Embedding(m) => Error::Embedding(m),
            wit::Error::ResourceExhausted(m) => Error::ResourceExhausted(m),
            wit::Error::Internal(m) => Error::Internal(m),
        }
    }
}

impl Error {
    /// A short next step for people, if there is an obvious one.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self {
            Error::SchemaNotFound(_) => "list tables with `rem schema list`; register one with `rem schema add <file>`",
            Error::NotFound(_) => "check the id (`rem list <table>`) or look it up by key (`rem lookup <key>`)",
            Error::Validation(_) => "fix the fields named above; `rem schema show <table>` prints the schema",
            Error::InvalidQuery { .. } => "REM SQL is documented in docs/design.md (Query)",
            Error::Locked(_) => "only one process may open a database at a time",
            Error::ResourceExhausted(_) => "raise the cap with P8_MEMORY_LIMIT_MIB or make the call smaller",
            Error::Timeout(_) => {
                "raise the deadline (P8_CALL_TIMEOUT_MS, OpenOptions::call_timeout) or make the call smaller"
            }
            Error::Forked { .. } => {
                "open databases after fork(), not before (gunicorn: --preload off; multiprocessing: 'spawn')"
            }
            Error::Trap(_) => "this is a bug in REM; please report it with the command that caused it",
            _ => return None,
        })
    }

    /// A stable snake_case name of the case (for `--json` error output).
    pub fn kind(&self) -> &'static str {
        match self {
            Error::NotFound(_) => "not_found",
            Error::SchemaNotFound(_) => "schema_not_found",
            Error::InvalidSchema(_) => "invalid_schema",
            Error::SchemaConflict(_) => "schema_conflict",
            Error::Validation(_) => "validation",
            Error::InvalidQuery { .. } => "invalid_query",
            Error::Unsupported(_) => "unsupported",
            Error::InvalidArgument(_) => "invalid_argument",
            Error::Storage(_) => "storage",
            Error::Embedding(_) => "embedding",
            Error::ResourceExhausted(_) => "resource_exhausted",
            Error::Locked(_) => "locked",
            Error::Io { .. } => "io",
            Error::Timeout(_) => "timeout",
            Error::Interrupted(_) => "interrupted",
            Error::Forked { .. } => "forked",
            Error::Trap(_) => "trap",
            Error::Internal(_) => "internal",
        }
    }
}
