//! The host's error type: the engine's WIT error cases plus what only the
//! host can fail at (locking, files, traps).

use std::path::PathBuf;

use crate::bindings::rem::engine::types as wit;

/// Validation issues are the engine's own types, defined once in `rem-core`.
pub use rem_core::error::{Issue, IssueKind, PathSegment};

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
    /// An embedding provider failure the caller may act on: the provider could not be reached,
    /// refused the credentials, or is rate limiting (wait `retry_after` seconds, when it said).
    /// Its `kind()` is `embedding`, as [`Error::Embedding`]'s.
    #[error("embedding error: {message}")]
    EmbeddingProvider {
        /// What went wrong (redacted).
        message: String,
        /// Which failure it was.
        failure: crate::embed::ProviderFailure,
        /// Seconds to wait before retrying (`Retry-After`), for a rate limit that said.
        retry_after: Option<f64>,
    },
    /// Sandbox limit hit; the call was rolled back and the database stays usable.
    #[error("resource exhausted: {0}")]
    ResourceExhausted(String),
    /// Another process (or another handle in this process) has the database open, and it was
    /// not released within the busy timeout (`P8_BUSY_TIMEOUT_MS`).
    #[error(
        "database {} is held by {}; close it there, or run `rem serve --path {}` so that every process shares it",
        path.display(),
        holder.map_or_else(|| "another process".to_string(), |pid| format!("process {pid}")),
        path.display()
    )]
    Locked {
        /// The database directory.
        path: PathBuf,
        /// The process holding it, when known (from its `rem.holder` file).
        holder: Option<u32>,
    },
    /// No database at the path, and the caller asked not to create one (`OpenOptions::create`
    /// false: every `rem` command but `rem init`).
    #[error("no database at {}", path.display())]
    DatabaseNotFound {
        /// The database directory looked for.
        path: PathBuf,
    },
    /// A served database could not be reached, or the connection broke before an answer came
    /// (the call may or may not have been applied when it broke mid-request: it was atomic
    /// either way).
    #[error("cannot reach the REM server: {0}")]
    Connection(String),
    /// The server refused the request's credentials (HTTP 401).
    #[error("the REM server refused the request: {0}")]
    Unauthorized(String),
    /// The database is encrypted and no password was given, or the password is wrong (nothing
    /// was read or changed). The message never holds the password.
    #[error("{0}")]
    Password(String),
    /// The chat model (`rem ask`, `rem dream`) is not configured, cannot be reached, or
    /// answered something REM cannot use; the message names the problem and the next step,
    /// never the API key.
    #[error("LLM error: {0}")]
    Llm(String),
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
                        kind: IssueKind::parse(&i.kind),
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

impl From<rem_core::Error> for Error {
    /// An engine error raised on the host's side of the boundary (a rule both sides share,
    /// such as the tenant name), as the host reports it.
    fn from(e: rem_core::Error) -> Self {
        match e {
            rem_core::Error::InvalidArgument(m) => Error::InvalidArgument(m),
            rem_core::Error::NotFound(m) => Error::NotFound(m),
            rem_core::Error::SchemaNotFound(m) => Error::SchemaNotFound(m),
            rem_core::Error::InvalidSchema(m) => Error::InvalidSchema(m),
            rem_core::Error::SchemaConflict(m) => Error::SchemaConflict(m),
            rem_core::Error::Validation(issues) => Error::Validation(issues),
            rem_core::Error::InvalidQuery { message, line, column } => Error::InvalidQuery { message, line, column },
            rem_core::Error::Unsupported(m) => Error::Unsupported(m),
            rem_core::Error::Storage(m) => Error::Storage(m),
            rem_core::Error::Embedding(m) => Error::Embedding(m),
            rem_core::Error::ResourceExhausted(m) => Error::ResourceExhausted(m),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl Error {
    /// The host error for the WIT `error` case named `case` (its WIT name, `not-found`,
    /// `validation`, ...) carrying `message`, made through the same conversion the engine's
    /// errors take; `None` for a name that is not a case. For tests that walk every case into
    /// each host's error type (a `validation` case carries one `value_error` issue at `field`;
    /// an `invalid-query` case, line 1 column 2).
    #[doc(hidden)]
    pub fn from_wit_case(case: &str, message: &str) -> Option<Error> {
        let m = message.to_string();
        let e = match case {
            "not-found" => wit::Error::NotFound(m),
            "schema-not-found" => wit::Error::SchemaNotFound(m),
            "invalid-schema" => wit::Error::InvalidSchema(m),
            "schema-conflict" => wit::Error::SchemaConflict(m),
            "validation" => wit::Error::Validation(vec![wit::ValidationIssue {
                loc: vec![wit::PathSegment::Field("field".into())],
                kind: "value_error".into(),
                msg: m,
            }]),
            "invalid-query" => wit::Error::InvalidQuery(wit::QueryError { message: m, line: 1, column: 2 }),
            "unsupported" => wit::Error::Unsupported(m),
            "invalid-argument" => wit::Error::InvalidArgument(m),
            "storage" => wit::Error::Storage(m),
            "embedding" => wit::Error::Embedding(m),
            "resource-exhausted" => wit::Error::ResourceExhausted(m),
            "internal" => wit::Error::Internal(m),
            _ => return None,
        };
        Some(e.into())
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
            Error::Embedding(_) | Error::EmbeddingProvider { .. } => "embedding",
            Error::ResourceExhausted(_) => "resource_exhausted",
            Error::Locked { .. } => "locked",
            Error::DatabaseNotFound { .. } => "database_not_found",
            Error::Connection(_) => "connection",
            Error::Unauthorized(_) => "unauthorized",
            Error::Password(_) => "password",
            Error::Llm(_) => "llm",
            Error::Io { .. } => "io",
            Error::Timeout(_) => "timeout",
            Error::Interrupted(_) => "interrupted",
            Error::Forked { .. } => "forked",
            Error::Trap(_) => "trap",
            Error::Internal(_) => "internal",
        }
    }
}
