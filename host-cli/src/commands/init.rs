//! `rem init`.

use anyhow::Result;
use serde_json::json;

use crate::cli::Global;
use crate::output;

/// Create and open the database, warming the compiled-engine cache, and register the core
/// schemas unless `no_core`. Without an embedding model the database is still created: the
/// core schemas (which embed) are left out, with a warning saying how to add them.
pub fn run(g: &Global, no_core: bool) -> Result<()> {
    let db = super::open_creating(g)?;
    let mut warning = None;
    let core = if no_core {
        Vec::new()
    } else {
        match db.register_core_schemas() {
            Ok(core) => core,
            Err(rem_host::Error::Embedding(why)) => {
                let text = format!(
                    "the core schemas were not registered: the embedding model is unavailable ({why}); fix that, \
                     then run `rem init` again"
                );
                eprintln!("warning: {text}");
                warning = Some(text);
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        }
    };
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
            "warning": warning,
        }),
    )
}
