//! Covered equality: `SELECT * FROM t WHERE <covering field> = <literal>` answered from the
//! index's row copies (`Y` keys, see `crate::index`) in one range read, without fetching or
//! decoding any row by id.
//!
//! The copies are used only when they name exactly the ids the index entries name for that
//! value; otherwise (a row too large for a copy, an array-valued field, rows written by
//! layout version 1) the query takes its ordinary plan, so the answer never depends on which
//! path ran. Within one value, entries and copies are in id order, which is the order the
//! ordinary plan returns rows in without `ORDER BY`.

use super::compile::SYSTEM_FIELDS;
use super::ir::{CmpOp, Ex, Projection, Select};
use crate::error::Result;
use crate::index;
use crate::model::schema::SchemaRecord;
use crate::storage::keys::prefix_end;
use crate::storage::store::Storage;
use crate::storage::tx::PrefixScan;

/// The ranges one covered equality reads.
#[derive(Debug, Clone)]
pub struct Covered {
    /// Indexed field.
    pub field: String,
    /// What it matches, for EXPLAIN.
    pub describe: String,
    /// `[start, end)` of the index entries of the value.
    entries: (Vec<u8>, Option<Vec<u8>>),
    /// `[start, end)` of their row copies.
    copies: (Vec<u8>, Option<Vec<u8>>),
}

/// The covered equality `q` is, if it is one: `SELECT *` of live rows, no grouping, DISTINCT or
/// ORDER BY (LIMIT and OFFSET are fine), and a filter that is exactly `field = literal` (either
/// way round) on a covering field (`covering_fields`) with an exact scalar literal ([`index::exact_scalar`]).
pub fn covered(tenant: &str, rec: &SchemaRecord, q: &Select) -> Option<Covered> {
    let plain = matches!(q.projection, Projection::Star)
        && !q.include_deleted
        && !q.grouped
        && !q.distinct
        && q.aggs.is_empty()
        && q.group_by.is_empty()
        && q.having.is_none()
        && q.order_by.is_empty();
    if !plain {
        return None;
    }
    let Some(Ex::Cmp(l, CmpOp::Eq, r)) = &q.filter else { return None };
    let (path, v) = match (l.as_ref(), r.as_ref()) {
        (Ex::Col(p), Ex::Lit(v)) | (Ex::Lit(v), Ex::Col(p)) => (p, v),
        _ => return None,
    };
    // A system column (`id`, `created_at`, ...) is not the property of the same name.
    let field = match path.as_slice() {
        [first, rest @ ..] if first == "properties" && !rest.is_empty() => rest.join("."),
        [first, ..] if !SYSTEM_FIELDS.contains(&first.as_str()) => path.join("."),
        _ => return None,
    };
    if !rec.covering_fields.contains(&field) || !index::exact_scalar(v) {
        return None;
    }
    let value = index::encode_scalar(v)?;
    let range = |mut prefix: Vec<u8>| {
        prefix.extend_from_slice(&value);
        let end = prefix_end(&prefix);
        (prefix, end)
    };
    Some(Covered {
        describe: format!("{field} = {v}"),
        entries: range(index::field_prefix(tenant, &rec.name, &field)),
        copies: range(index::copy_prefix(tenant, &rec.name, &field)),
        field,
    })
}

/// The `SELECT *` rows of `c` in id order, or `None` when the copies do not cover every entry
/// (the caller then runs the ordinary plan). Errors: `Storage`.
pub fn rows<S: Storage>(store: &S, c: &Covered) -> Result<Option<Vec<Vec<u8>>>> {
    let mut ids: Vec<&[u8]> = Vec::new();
    let mut pages = Vec::new();
    let mut scan = PrefixScan::range(store, c.entries.0.clone(), c.entries.1.clone());
    loop {
        let page = scan.next_packed()?;
        if page.is_empty() {
            break;
        }
        pages.push(page);
    }
    for page in &pages {
        ids.extend(page.iter().map(|(k, _)| id_of(k)));
    }
    let mut rows = Vec::with_capacity(ids.len());
    let mut scan = PrefixScan::range(store, c.copies.0.clone(), c.copies.1.clone());
    loop {
        let page = scan.next_packed()?;
        if page.is_empty() {
            break;
        }
        for (k, row) in page.iter() {
            if ids.get(rows.len()).is_none_or(|id| *id != id_of(k)) {
                return Ok(None);
            }
            rows.push(row.to_vec());
        }
    }
    Ok((rows.len() == ids.len()).then_some(rows))
}

/// The id suffix of an index key (empty for a malformed, shorter key, which then matches none).
fn id_of(key: &[u8]) -> &[u8] {
    key.get(key.len().saturating_sub(16)..).unwrap_or_default()
}
