//! `rem-core`: the REM engine. Schemas and validation, entities and their
//! deterministic ids, the storage key layout, and REM SQL.
//!
//! The engine runs over the [`storage::store::Storage`] trait. Natively (tests,
//! benchmarks) any implementation will do; compiled to `wasm32-wasip2`, the
//! `guest` module binds it to the WIT `storage` import and exports the
//! WIT `database` interface (see `wit/engine.wit`).
//!
//! The modules are layers, bottom up; each imports only from the layers below it
//! (`docs/architecture.md`).

pub mod audit;
pub mod database;
pub mod error;
pub mod graph;
mod guest;
pub mod index;
pub mod json;
pub mod keyword;
pub mod model;
mod search;
pub mod sql;
pub mod storage;
pub mod vector;
pub mod write;

// Shared by the cargo-fuzz targets and the stable fuzz test (native only); not the engine's API.
#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
pub mod fuzzing;
// The shared suites' rules (conformance, SQL corpus) for every runner (native only); not the engine's API.
#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
pub mod suites;

pub use database::Database;
pub use error::{Error, Issue, IssueKind, PathSegment, Result};
pub use search::{SearchOptions, SearchQuery};
pub use storage::store::{MemoryStore, Storage, WriteOp};
pub use vector::embed::{Embedder, NoEmbedder};
