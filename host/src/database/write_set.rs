//! Several writes across tables committed as one: hard deletes, upserts into any tables, and
//! edges, in one transaction (all or nothing). `rem dream` writes its moments, summary and
//! edges this way.

use serde::{Deserialize, Serialize};

use super::instance::{Mode, batches, shift_rows};
use super::{DEFAULT_BATCH_CHUNK, Database};
use crate::error::{Error, Result};

/// The writes to commit together, applied in this order: `deletes`, `inserts`, `edges`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WriteSet {
    /// Ids (or natural keys) to hard-delete; one already gone is skipped.
    #[serde(default)]
    pub deletes: Vec<String>,
    /// Rows (JSON objects as text) to upsert, per table, as `insert_batch` does.
    #[serde(default)]
    pub inserts: Vec<TableRows>,
    /// Edges as `add_edges` takes them: JSON `{src, dst, rel_type, properties?}`, ends given
    /// as ids or natural keys of rows that exist (or are upserted above).
    #[serde(default)]
    pub edges: Vec<String>,
}

/// Rows for one table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TableRows {
    /// The table.
    pub table: String,
    /// The rows, JSON object text each.
    pub rows: Vec<String>,
}

/// What a [`WriteSet`] did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WriteSetOutcome {
    /// Rows hard-deleted (ids that were already gone are not counted).
    pub deleted: u32,
    /// The ids of the upserted rows, one list per entry of `inserts`, in order.
    pub ids: Vec<Vec<String>>,
    /// Edges added or updated.
    pub edges: u32,
}

impl Database {
    /// Commit `writes` in one transaction: nothing is written unless every part succeeds.
    /// Errors: `SchemaNotFound`, `Validation` (issues' `loc` start with the row's index within
    /// its table's list), `NotFound` (an edge end that does not exist), `Embedding`.
    pub fn write_set(&self, writes: &WriteSet) -> Result<WriteSetOutcome> {
        self.transaction(Mode::Write, |live| {
            let mut out = WriteSetOutcome::default();
            for id in &writes.deletes {
                match Self::invoke(live, |db, s, h| db.call_delete(s, h, id, true)) {
                    Ok(_) => out.deleted += 1,
                    Err(Error::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            for group in &writes.inserts {
                let mut ids = Vec::with_capacity(group.rows.len());
                for part in batches(&group.rows, DEFAULT_BATCH_CHUNK) {
                    let offset = ids.len() as u32;
                    let got = Self::invoke(live, |db, s, h| db.call_insert_batch(s, h, &group.table, part))
                        .map_err(|e| shift_rows(e, offset))?;
                    ids.extend(got);
                }
                out.ids.push(ids);
            }
            if !writes.edges.is_empty() {
                out.edges = Self::invoke(live, |db, s, h| db.call_add_edges(s, h, &writes.edges))?;
            }
            Ok(out)
        })
    }

    /// Delete every one of `ids` (ids or natural keys, of any tables) in one transaction:
    /// soft-deleted as [`Database::delete`] does, or removed with `hard`. Returns how many
    /// rows were deleted (a soft delete of a row already deleted counts none). Errors:
    /// `NotFound` naming the first id that does not exist (nothing is deleted), `InvalidArgument`.
    pub fn delete_batch(&self, ids: &[String], hard: bool) -> Result<u32> {
        self.transaction(Mode::Write, |live| {
            let mut deleted = 0;
            for id in ids {
                let before = Self::invoke(live, |db, s, h| db.call_get(s, h, id))?;
                let was_live = before
                    .as_deref()
                    .and_then(|e| serde_json::from_str::<serde_json::Value>(e).ok())
                    .is_some_and(|e| e["deleted_at"].is_null());
                Self::invoke(live, |db, s, h| db.call_delete(s, h, id, hard))?;
                deleted += u32::from(hard || was_live);
            }
            Ok(deleted)
        })
    }
}
