//! Reference fields kept as edges.
//!
//! A schema's `references` setting names fields whose value points at rows of
//! another table, e.g. `messages.session_id -> sessions` as `belongs_to`. On
//! every write the row's edges of that type follow the field: an edge to each
//! target is added (both endpoints exist, as for any edge) and the edge to a
//! target the field no longer names is removed, in the same transaction.
//!
//! A value names its target by entity id or by natural key (the target table's
//! `key_field`, `key`, `name` or `uri`, as `lookup` resolves it). A value that
//! names no row of the table is a validation issue at the field (type
//! `reference_missing`): insert the target first.

use serde_json::Value;
use uuid::Uuid;

use crate::error::{Error, Issue, IssueKind, PathSegment, Result};
use crate::graph;
use crate::index::field_value;
use crate::model::entity::Entity;
use crate::model::ids::{hashed_id, key_text};
use crate::model::schema::{Reference, SchemaRecord};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::Tx;

/// The target names in `field` of `props`: a scalar, or each item of a list, as key text.
fn names(e: &Entity, field: &str) -> Vec<(Option<u32>, String)> {
    match field_value(&e.properties, field) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            items.iter().enumerate().filter_map(|(i, v)| key_text(v).map(|t| (Some(i as u32), t))).collect()
        }
        Some(v) => key_text(v).map(|t| vec![(None, t)]).unwrap_or_default(),
    }
}

/// Whether the id index says `id` is a row of `table`.
fn in_table<S: Storage + ?Sized>(tx: &Tx<'_, S>, tenant: &str, table: &str, id: &Uuid) -> Result<bool> {
    Ok(tx.get(&keys::id_index(tenant, id.as_bytes()))?.is_some_and(|t| t == table.as_bytes()))
}

/// The id of the row of `r.table` that `name` names (an id, or a natural key), if any.
fn resolve<S: Storage + ?Sized>(tx: &mut Tx<'_, S>, tenant: &str, r: &Reference, name: &str) -> Result<Option<Uuid>> {
    if let Ok(id) = Uuid::parse_str(name)
        && in_table(tx, tenant, &r.table, &id)?
    {
        return Ok(Some(id));
    }
    // The id a `key_field`/`key`/`name` key gives (see `ids`): one read, no scan.
    let keyed = hashed_id(&format!("{}:{name}", r.table));
    if in_table(tx, tenant, &r.table, &keyed)? {
        return Ok(Some(keyed));
    }
    // Other keys (a `uri`): the key index.
    Ok(crate::index::keyed(tx, tenant, name)?
        .into_iter()
        .find(|(table, _)| table == r.table.as_bytes())
        .map(|(_, id)| Uuid::from_bytes(id)))
}

/// Bring the edges of `new`'s reference fields in line with their values (`old`: the row it replaces).
///
/// Errors: `Validation` (`reference_missing` at the field, or the list item) when a
/// value names no row of the referenced table; `Storage`.
pub(crate) fn sync<S: Storage + ?Sized>(
    tx: &mut Tx<'_, S>,
    tenant: &str,
    rec: &SchemaRecord,
    old: Option<&Entity>,
    new: &Entity,
) -> Result<()> {
    let src = crate::model::ids::parse_id(&new.id)?;
    for r in &rec.references {
        let before = old.map(|o| names(o, &r.field)).unwrap_or_default();
        let after = names(new, &r.field);
        if old.is_some() && before.iter().map(|b| &b.1).eq(after.iter().map(|a| &a.1)) {
            continue;
        }
        let mut targets = Vec::new();
        let mut issues = Vec::new();
        for (i, name) in &after {
            match resolve(tx, tenant, r, name)? {
                Some(id) => targets.push(id),
                None => {
                    let mut loc: Vec<PathSegment> = r.field.split('.').map(|p| PathSegment::Field(p.into())).collect();
                    loc.extend(i.map(PathSegment::Index));
                    issues.push(Issue {
                        loc,
                        kind: IssueKind::ReferenceMissing,
                        msg: format!(
                            "no row of '{}' has the id or key {}; insert it first (the field is kept as a '{}' edge)",
                            r.table,
                            crate::error::preview(&format!("{name:?}")),
                            r.rel_type
                        ),
                    });
                }
            }
        }
        if !issues.is_empty() {
            return Err(Error::Validation(issues));
        }
        for (_, name) in &before {
            if let Some(id) = resolve(tx, tenant, r, name)?
                && !targets.contains(&id)
            {
                graph::remove_edge(tx, tenant, &new.id, &id.to_string(), &r.rel_type)?;
            }
        }
        for dst in targets {
            let edge = graph::new_edge(&src, &dst, &r.rel_type, Default::default(), &new.modified_at);
            graph::put_edge(tx, tenant, &edge)?;
        }
    }
    Ok(())
}
