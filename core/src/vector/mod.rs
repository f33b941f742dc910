//! Vector search: REM's HNSW index, its storage layout, and the distance.
//!
//! The index is REM's own implementation of HNSW (Malkov & Yashunin, "Efficient
//! and robust approximate nearest neighbor search using Hierarchical Navigable
//! Small World graphs", IEEE TPAMI 2018, arXiv:1603.09320). hnsw_rs, the native
//! baseline in `docs/benchmarks.md`, can persist its graph only to files, and the
//! component has no filesystem: REM keeps every node of the graph as its own
//! records in storage, written in the same transaction as the entity, so the index
//! survives restarts and crashes exactly as the data does and opening a database
//! loads nothing up front (nodes are read on first use).

pub mod distance;
pub mod embed;
pub mod hnsw;
pub mod layout;
