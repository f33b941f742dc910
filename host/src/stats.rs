//! What is in a database, from any [`Api`] handle (a file or a server): `rem stats` and
//! `db.stats()`, and the short `db.health()` report.

use serde_json::{Value, json};

use crate::Api;
use crate::error::{Error, Result};

fn parse(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("the engine returned bad JSON: {e}")))
}

/// The database file's size in bytes, when the handle has a path on this machine.
fn file_bytes(api: &dyn Api) -> Option<u64> {
    let path = api.path()?.join(crate::config::DB_FILE);
    std::fs::metadata(path).ok().map(|m| m.len())
}

/// Per table: `rows` (live), `deleted` (soft-deleted), `indexed_fields`, and for tables with
/// embedding fields `vectors` (`model`, `dims`, `live`, `tombstones`, `m`, `ef_search`); then
/// `file_bytes` (the redb file, when the handle opened a path), `engine` and `tenant`.
/// Errors: `Storage`, `Connection`.
pub fn stats(api: &dyn Api) -> Result<Value> {
    let mut tables = serde_json::Map::new();
    for table in api.list_schemas()? {
        let record = parse(&api.get_schema(&table)?)?;
        let deleted =
            parse(&api.query(&format!("SELECT COUNT(*) AS n FROM \"{table}\" WHERE deleted_at IS NOT NULL"))?)?;
        let mut entry = json!({
            "rows": api.count(&table)?,
            "deleted": deleted[0]["n"].as_u64().unwrap_or(0),
            "indexed_fields": record["indexed_fields"],
        });
        if record["embedding_fields"].as_array().is_some_and(|f| !f.is_empty()) {
            let v = parse(&api.index_stats(&table)?)?;
            entry["vectors"] = json!({
                "model": v["model"], "dims": v["dims"], "live": v["live"], "tombstones": v["tombstones"],
                "m": v["m"], "ef_search": v["ef_search"],
            });
        }
        tables.insert(table, entry);
    }
    Ok(json!({
        "tenant": api.tenant(),
        "engine": api.engine_version()?,
        "file_bytes": file_bytes(api),
        "tables": tables,
    }))
}

/// A short report that the handle works: `ok`, `engine` (version and storage format), `path`,
/// `server`, `tenant`, `tables` (how many), `file_bytes`. Errors: the first call that fails.
pub fn health(api: &dyn Api) -> Result<Value> {
    Ok(json!({
        "ok": true,
        "engine": api.engine_version()?,
        "path": api.path().map(|p| p.display().to_string()),
        "server": api.server(),
        "tenant": api.tenant(),
        "tables": api.list_schemas()?.len(),
        "file_bytes": file_bytes(api),
    }))
}
