//! `rem-core`: the REM engine. Schemas and validation, entities and their
//! deterministic ids, the storage key layout, and REM SQL.
//!
//! The engine runs over the [`store::Storage`] trait. Natively (tests,
//! benchmarks) any implementation will do; compiled to `wasm32-wasip2`, the
//! `component` module binds it to the WIT `storage` import and exports the
//! WIT `database` interface (see `wit/engine.wit`).

// The guest's allocator shim (a `GlobalAlloc`, `unsafe` by nature); private to the crate.
#[allow(unsafe_code)]
#[cfg(any(target_arch = "wasm32", test))]
mod alloc_cache;
pub mod db;
pub mod decode;
mod defaults;
pub mod embed;
pub mod entity;
pub mod error;
// Shared by the cargo-fuzz targets and the stable fuzz test (native only); not the engine's API.
#[cfg(not(target_arch = "wasm32"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod graph;
mod graph_ops;
mod graph_walk;
pub mod ids;
pub mod index;
mod json_in;
mod json_out;
pub mod keys;
pub mod packed;
mod refs;
pub mod schema;
mod search;
pub mod sql;
pub mod store;
pub mod text;
pub mod time;
pub mod vector;

// The generated WIT bindings use `unsafe` for the canonical ABI; the rest of the crate stays safe.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, missing_docs)]
mod component;

pub use db::Database;
pub use embed::{Embedder, NoEmbedder};
pub use error::{Error, Issue, PathSegment, Result};
pub use search::{SearchOptions, SearchQuery};
pub use store::{MemoryStore, Storage, WriteOp};
