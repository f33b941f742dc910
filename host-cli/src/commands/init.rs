//! `rem init`.

use anyhow::Result;
use serde_json::json;

use crate::cli::Global;
use crate::output;

/// Create and open the database, warming the compiled-engine cache, and register the core
/// schemas unless `no_core`.
pub fn run(g: &Global, no_core: bool) -> Result<()> {
    let db = super::open_creating(g)?;
    let core = if no_core { Vec::new() } else { db.register_core_schemas()? };
    let schemas = db.list_schemas()?;
    let engine = match &rem_host::Runtime::shared()?.artifact {
        rem_host::Artifact::Cached(p) => json!({"compiled": "cached", "artifact": p}),
        rem_host::Artifact::Compiled(p) => json!({"compiled": "now", "artifact": p}),
    };
    output::value(
        g.format,
        &json!({
            "path": db.path(),
            "tenant": db.tenant(),
            "schemas": schemas,
            "core_schemas": core,
            "engine": engine,
        }),
    )
}
