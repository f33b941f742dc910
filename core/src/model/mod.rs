//! The data model: the stored entity and its system fields, deterministic ids, table
//! schemas (REM settings and the validator), schema defaults, and timestamps.

mod defaults;
pub mod entity;
pub mod ids;
pub mod schema;
pub mod tenant;
pub mod time;
