//! `rem-host`: runs the REM engine component (`rem-core` compiled to
//! `wasm32-wasip2`) under wasmtime, with storage on redb.
//!
//! ```no_run
//! let db = rem_host::Database::in_memory()?;
//! db.register_schema("person", r#"{"type":"object","properties":{"name":{"type":"string"}},"key_field":"name"}"#)?;
//! let alice = db.insert("person", r#"{"name":"Alice"}"#)?;
//! assert!(alice.contains("942881f7-a48a-5e6f-bcfb-cc9fc555fded"));
//! # Ok::<(), rem_host::Error>(())
//! ```

pub mod agent;
mod api;
mod bindings;
pub mod config;
pub mod crypto;
mod database;
pub mod embed;
mod error;
mod graph;
mod http;
pub mod ingest;
pub mod kv;
pub mod llm;
pub mod nodes;
pub mod private;
pub mod redact;
pub mod remote;
mod runtime;
mod state;
pub mod stats;
pub mod templates;
pub mod transfer;

pub use api::Api;
pub use database::{
    CompactReport, CopyReport, DEFAULT_BATCH_CHUNK, Database, INTERRUPT_POLL, InterruptCheck, MAX_BATCH_BYTES,
    MAX_TENANT_LEN, OpenOptions, SearchOptions, SearchQuery, TableRows, WriteSet, WriteSetOutcome, restore,
};
pub use embed::Embeddings;
pub use error::{Error, Issue, IssueKind, PathSegment, Result, panic_message};
pub use graph::{Direction, Strategy};
pub use runtime::{Artifact, ENGINE_HASH, ENGINE_WASM, EPOCH_TICK, Runtime};
