//! The one row-write path.
//!
//! Every record a row owns is derived from (schema, row) by [`owned`], and every change
//! to a row is one [`write_row`] from (old row, new row): insert, upsert, update, soft
//! delete, restore, hard delete, and the index build or drop of a schema change (the same
//! row under the old and the new schema). Records the old row owned that the new one does
//! not are deleted; records the new one owns that are absent or different are written.
//!
//! What a row owns (key spaces in `storage/keys.rs`):
//! - its id-index entry (`I`, value: the table name) and, with a natural key, its key-index
//!   entry (`K`, value: the table name);
//! - while live: one secondary-index entry per value of each indexed field (`X`) and one
//!   row copy per covering field (`Y`, see `index`);
//! - while soft-deleted: its deleted marker (`D`), which hides it from traversals.
//!
//! Kept by the same call, because they are not a function of the row alone:
//! - the row record itself (`E`), written from its text (or removed by a hard delete);
//! - the table's live-row count (`C`), by the change in liveness;
//! - edges: inline `edges` that are new or changed become edge records (merging never
//!   removes one); reference fields follow their values (`graph::refs`); a hard delete
//!   removes every edge of the row;
//! - the vector and BM25 work, returned as a [`VecOp`] for the caller to run for a whole
//!   batch at once (embedding is batched across rows).

use uuid::Uuid;

use crate::error::{Error, Issue, IssueKind, PathSegment, Result};
use crate::graph;
use crate::index;
use crate::model::entity::Entity;
use crate::model::ids::{natural_key, parse_id};
use crate::model::schema::SchemaRecord;
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::Tx;
use crate::vector::VecOp;

/// A row as stored under a schema: one side of a [`write_row`].
#[derive(Clone, Copy)]
pub struct Side<'a> {
    /// The table's schema record.
    pub rec: &'a SchemaRecord,
    /// The row.
    pub entity: &'a Entity,
}

/// Every record `e` owns in `tenant` under `rec` (see the module doc), as (key, value)
/// pairs. The row record itself is not among them. Errors: `InvalidArgument` (an id that
/// is not a UUID: a corrupt row).
pub fn owned(tenant: &str, rec: &SchemaRecord, e: &Entity) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    owned_records(tenant, rec, e, true)
}

/// [`owned`]; without `copy_values` (the side being replaced, which needs only keys), row
/// copies carry an empty value instead of the row's `SELECT *` text, so a copy the new row
/// keeps is always written again (its text follows the row).
fn owned_records(tenant: &str, rec: &SchemaRecord, e: &Entity, copy_values: bool) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
    let id = *parse_id(&e.id)?.as_bytes();
    let table = rec.name.as_bytes();
    let mut out = vec![(keys::id_index(tenant, &id), table.to_vec())];
    if let Some(k) = natural_key(&e.properties, rec.key_field.as_deref()) {
        out.push((keys::key_index(tenant, &k, &id), table.to_vec()));
    }
    if !e.is_live() {
        out.push((graph::deleted_marker(tenant, &id), Vec::new()));
        return Ok(out);
    }
    for field in &rec.indexed_fields {
        out.extend(index::entries(tenant, &rec.name, field, &e.properties, &id).into_iter().map(|k| (k, Vec::new())));
    }
    // The replaced side lists every copy key the row may have (a row too large for copies has
    // none, and deleting an absent key is harmless), without serialising it.
    let row = match copy_values {
        true => index::copy_value(e),
        false => Some(Vec::new()),
    };
    if !rec.covering_fields.is_empty()
        && let Some(row) = row
    {
        for field in &rec.covering_fields {
            if let Some(k) = index::copy_key(tenant, &rec.name, field, &e.properties, &id) {
                out.push((k, row.clone()));
            }
        }
    }
    Ok(out)
}

/// Change one row from `old` to `new` (`None`: absent before, or removed), keeping every
/// record it owns right (see the module doc). `text` is the row record to store for `new`
/// (its JSON text); `None` leaves the stored row record as it is (an index build or drop).
/// Returns the row's vector work (`None` when the row's text is unchanged).
///
/// Errors: `Validation` (`edge_target_missing` at `edges.<i>.dst`; `reference_missing`
/// from `graph::refs`), `InvalidArgument` (a corrupt id), `Storage`.
pub fn write_row<S: Storage + ?Sized>(
    tx: &mut Tx<'_, S>,
    tenant: &str,
    old: Option<Side<'_>>,
    new: Option<Side<'_>>,
    text: Option<Vec<u8>>,
) -> Result<Option<VecOp>> {
    let Some(any) = new.or(old) else { return Ok(None) };
    let uuid = parse_id(&any.entity.id)?;
    let id = *uuid.as_bytes();
    let before = match old {
        Some(o) => owned_records(tenant, o.rec, o.entity, false)?,
        None => Vec::new(),
    };
    let after = match new {
        Some(n) => owned(tenant, n.rec, n.entity)?,
        None => Vec::new(),
    };
    let marker = graph::deleted_marker(tenant, &id);
    let mut graph_changed = false;
    for (k, _) in before.iter().filter(|(k, _)| !after.iter().any(|(a, _)| a == k)) {
        graph_changed |= *k == marker;
        tx.delete(k.clone())?;
    }
    for (k, v) in after {
        if before.iter().any(|(b, bv)| *b == k && *bv == v) {
            continue;
        }
        graph_changed |= k == marker;
        tx.put(k, v)?;
    }
    let was_live = old.is_some_and(|o| o.entity.is_live());
    let is_live = new.is_some_and(|n| n.entity.is_live());
    let Some(new) = new else {
        // Removed: every edge goes with it, and so does the row.
        let old = old.expect("one side is present");
        graph::remove_all_edges(tx, tenant, &id)?;
        graph::touch(tx, tenant);
        if was_live {
            add_count(tx, tenant, &old.rec.name, -1)?;
        }
        tx.delete(keys::entity(tenant, &old.rec.name, &id))?;
        return Ok(Some(VecOp::HardDelete(id)));
    };
    if graph_changed {
        graph::touch(tx, tenant);
    }
    inline_edges(tx, tenant, &uuid, old.map(|o| o.entity), new.entity)?;
    graph::refs::sync(tx, tenant, new.rec, old.map(|o| o.entity), new.entity)?;
    if was_live != is_live {
        add_count(tx, tenant, &new.rec.name, if is_live { 1 } else { -1 })?;
    }
    let Some(text) = text else { return Ok(None) };
    tx.put(keys::entity(tenant, &new.rec.name, &id), text)?;
    Ok(Some(match is_live {
        true => {
            let text = crate::vector::embed::embedding_text(&new.entity.properties, &new.rec.embedding_fields);
            VecOp::Upsert(id, text, None)
        }
        false => VecOp::SoftDelete(id),
    }))
}

/// Write the edge records of `new`'s inline edges that `old` did not have as they are.
fn inline_edges<S: Storage + ?Sized>(
    tx: &mut Tx<'_, S>,
    tenant: &str,
    src: &Uuid,
    old: Option<&Entity>,
    new: &Entity,
) -> Result<()> {
    for (i, e) in new.edges.iter().enumerate() {
        if old.is_some_and(|o| {
            o.edges.iter().any(|x| x.dst == e.dst && x.rel_type == e.rel_type && x.properties == e.properties)
        }) {
            continue;
        }
        let missing = |msg: String| {
            Error::Validation(vec![Issue {
                loc: vec![
                    PathSegment::Field("edges".into()),
                    PathSegment::Index(i as u32),
                    PathSegment::Field("dst".into()),
                ],
                kind: IssueKind::EdgeTargetMissing,
                msg,
            }])
        };
        let dst = Uuid::parse_str(&e.dst)
            .map_err(|_| missing(format!("{} is not an entity id", crate::error::preview(&format!("{:?}", e.dst)))))?;
        if dst != *src && tx.get(&keys::id_index(tenant, dst.as_bytes()))?.is_none() {
            return Err(missing(format!("no entity with id {} in tenant '{tenant}'", e.dst)));
        }
        let edge = graph::new_edge(src, &dst, &e.rel_type, e.properties.clone(), &e.created_at);
        graph::put_edge(tx, tenant, &edge)?;
    }
    Ok(())
}

/// The live-row count of a table, as stored (absent: 0).
pub fn decode_count(bytes: Option<Vec<u8>>) -> u64 {
    bytes.and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok()).map(u64::from_le_bytes).unwrap_or(0)
}

fn add_count<S: Storage + ?Sized>(tx: &mut Tx<'_, S>, tenant: &str, table: &str, delta: i64) -> Result<()> {
    let key = keys::count(tenant, table);
    let n = decode_count(tx.get(&key)?).saturating_add_signed(delta);
    tx.put(key, n.to_le_bytes().to_vec())
}
