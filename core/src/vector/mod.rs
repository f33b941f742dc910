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
pub mod maintain;

/// The vector work of one written row.
pub enum VecOp {
    /// The row is live with this text (`None`: no embedding field has a value) and, when the
    /// row brought one, its own vector (of the table's dimension, not yet normalised), which is
    /// indexed instead of the text's embedding.
    Upsert([u8; 16], Option<String>, Option<Vec<f32>>),
    /// The row was soft-deleted.
    SoftDelete([u8; 16]),
    /// The row was removed.
    HardDelete([u8; 16]),
}

impl VecOp {
    /// The row's id.
    pub fn id(&self) -> [u8; 16] {
        match self {
            VecOp::Upsert(id, ..) | VecOp::SoftDelete(id) | VecOp::HardDelete(id) => *id,
        }
    }
}
