//! What is in a database, from any [`Api`] handle (a file or a server): `rem stats` and
//! `db.stats()`, `rem check` and `db.check()`, and the short `db.health()` report.

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

/// Whether the handle's database file is encrypted (`crate::crypto`), when it has a path here.
fn encrypted(api: &dyn Api) -> Option<bool> {
    crate::crypto::header::is_encrypted_path(&api.path()?.join(crate::config::DB_FILE))
}

/// What is in the database: the engine's count of every key space (WIT `stats`: per table
/// `rows` (live), `deleted`, `stored`, `index_entries`, `row_copies`, `bytes`, `vectors`,
/// `keyword_documents`; per tenant `spaces` with `edges`, `id_index`, ...; `format_version`;
/// `caches`), each table's `indexed_fields`, and `file_bytes` (the redb file's size on disk,
/// when the handle opened a path), `encrypted` (the same), `engine` and `tenant`. Errors: `Storage`, `Connection`.
pub fn stats(api: &dyn Api) -> Result<Value> {
    let mut out = parse(&api.engine_stats()?)?;
    if let Some(tables) = out["tables"].as_object_mut() {
        for (table, entry) in tables.iter_mut() {
            let record = parse(&api.get_schema(table)?)?;
            entry["indexed_fields"] = record["indexed_fields"].clone();
        }
    }
    out["engine"] = json!(api.engine_version()?);
    out["file_bytes"] = json!(file_bytes(api));
    out["encrypted"] = json!(encrypted(api));
    out["tenant"] = json!(api.tenant());
    Ok(out)
}

/// Verify every derived record against the rows (see [`crate::Database::check`]), listing at
/// most `max_problems`. Errors: `Storage`, `Connection`.
pub fn check(api: &dyn Api, max_problems: u32) -> Result<Value> {
    parse(&api.check(max_problems)?)
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
