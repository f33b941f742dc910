//! `rem init`.

use anyhow::Result;
use serde_json::json;

use crate::cli::Global;
use crate::output;

/// Create and open the database, warming the compiled-engine cache.
pub fn run(g: &Global) -> Result<()> {
    let db = super::open(g)?;
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
            "engine": engine,
        }),
    )
}
