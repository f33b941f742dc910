//! The storage layer: the ordered byte-key store the engine runs on, the per-call
//! transaction buffer over it, the packed records that cross the component boundary, and the
//! key layout every record of the database lives under.

pub mod keys;
pub mod packed;
pub mod store;
pub mod tx;
