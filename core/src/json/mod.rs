//! JSON text in and out: parsing rows (exact-size, noting compact text), writing stored
//! entities byte-identical to serde_json, and decoding stored records (whole, or a few
//! properties).

pub mod parse;
pub mod record;
pub mod write;
