//! The WIT `entities` group: validated upserts (one row or a batch), updates, soft and hard
//! deletes, and reads by id, natural key and table. Every write goes through the one
//! row-write path (`crate::write`).

use serde_json::{Map, Value};
use uuid::Uuid;

use super::{Database, json_error, parse_json};
use crate::error::{Error, Issue, IssueKind, PathSegment, Result};
use crate::index::keyed;
use crate::json::parse::ReadError;
use crate::json::record::decode_entity;
use crate::model::entity::{Entity, merge_edges, parse_edges};
use crate::model::ids::{canonical_id, identity, parse_id};
use crate::model::schema::{CompiledSchema, SchemaRecord, VECTOR_MEMBER};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::{PrefixScan, Tx};
use crate::vector::VecOp;
use crate::write::{Side, decode_count, write_row};

/// The validation issue for a row (`row`: its index in a batch) whose text was refused with `e`.
fn row_issue(row: Option<u32>, e: ReadError) -> Issue {
    let mut loc: Vec<PathSegment> = row.map(PathSegment::Index).into_iter().collect();
    match e {
        ReadError::Syntax(e) => Issue {
            loc,
            kind: IssueKind::JsonInvalid,
            msg: format!("invalid JSON: {e} (line {}, column {})", e.line(), e.column()),
        },
        ReadError::BigInteger { loc: at, literal } => {
            loc.extend(at);
            Issue { loc, kind: IssueKind::IntParsingSize, msg: ReadError::big_integer_message(&literal) }
        }
    }
}

fn encode_entity(e: &Entity) -> Result<Vec<u8>> {
    Ok(crate::json::write::entity(e))
}

/// Parse an entity's JSON text, keeping the text when it is exactly the compact JSON of
/// the value (so storing the entity can copy it instead of writing it again).
fn parse_row(text: &str) -> Result<(Value, Option<&str>), ReadError> {
    let (value, compact) = crate::json::parse::parse_noting_compact(text)?;
    Ok((value, compact.then_some(text)))
}

/// A validated row with its identity, ready to upsert.
struct Prepared<'t> {
    id: Uuid,
    key: Vec<u8>,
    props: Map<String, Value>,
    /// The compact JSON text of `props`, when the caller's text was exactly that.
    props_text: Option<&'t str>,
    edges: Vec<crate::model::entity::InlineEdge>,
    /// The vector the row brought (its `embedding` member), if any.
    vector: Option<Vec<f32>>,
    /// The id came from the row's `id` member (checked against the id index when applied).
    given_id: bool,
}

/// Read the vector a row brought (`value`, its `embedding` member) for `rec`'s table; problems
/// are added to `issues` at `embedding` (`embedding.<i>` for an item that is not a number).
fn row_vector(value: Value, rec: &SchemaRecord, issues: &mut Vec<Issue>) -> Option<Vec<f32>> {
    let at = |tail: Option<u32>| {
        let mut loc = vec![PathSegment::Field(VECTOR_MEMBER.into())];
        loc.extend(tail.map(PathSegment::Index));
        loc
    };
    let items = match value {
        Value::Null => return None,
        Value::Array(items) => items,
        other => {
            issues.push(Issue {
                loc: at(None),
                kind: IssueKind::ListType,
                msg: format!(
                    "a row's vector must be a list of numbers, got {}",
                    crate::error::preview(&other.to_string())
                ),
            });
            return None;
        }
    };
    let Some(dims) = rec.embedding_dims.filter(|_| rec.has_vectors()) else {
        issues.push(Issue {
            loc: at(None),
            kind: IssueKind::ValueError,
            msg: format!(
                "table '{}' keeps no vectors: give it embedding_fields (a model embeds them), or \
                 embedding_provider \"none\" with embedding_dims for rows that bring their own",
                rec.name
            ),
        });
        return None;
    };
    if items.len() != dims {
        issues.push(Issue {
            loc: at(None),
            kind: IssueKind::ValueError,
            msg: format!(
                "a vector of {} dimensions, but table '{}' keeps {dims}-dimensional vectors",
                items.len(),
                rec.name
            ),
        });
        return None;
    }
    let mut out = Vec::with_capacity(dims);
    for (j, item) in items.iter().enumerate() {
        match item.as_f64().map(|f| f as f32).filter(|f| f.is_finite()) {
            Some(f) => out.push(f),
            None => {
                issues.push(Issue {
                    loc: at(Some(j as u32)),
                    kind: IssueKind::FloatType,
                    msg: format!("vector items must be finite numbers, got {item}"),
                });
                return None;
            }
        }
    }
    Some(out)
}

impl<S: Storage> Database<S> {
    /// Validate one row and work out its identity. `row` is the batch index for issue locations.
    /// `text` is the compact JSON text of `data`, if the caller has it (see [`parse_row`]).
    fn prepare_row<'t>(
        &self,
        schema: &CompiledSchema,
        (data, text): (Value, Option<&'t str>),
        now: &str,
        row: Option<u32>,
    ) -> Result<Prepared<'t>> {
        let rec = &schema.record;
        let with_row = |mut issues: Vec<Issue>| {
            if let Some(r) = row {
                for i in &mut issues {
                    i.loc.insert(0, PathSegment::Index(r));
                }
            }
            Error::Validation(issues)
        };
        let Value::Object(mut props) = data else {
            let got = match &data {
                Value::Array(_) => "an array",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "a boolean",
                _ => "null",
            };
            return Err(with_row(vec![Issue {
                loc: vec![],
                kind: IssueKind::DictType,
                msg: format!("an entity must be a JSON object of properties, got {got}"),
            }]));
        };
        let mut issues = Vec::new();
        let edges = props.remove("edges");
        let declared = |name: &str| rec.schema.get("properties").and_then(|p| p.get(name)).is_some();
        let vector = if declared(VECTOR_MEMBER) { None } else { props.remove(VECTOR_MEMBER) };
        // An `id` member (a system field, unless the schema declares it) keeps a row's id: the
        // id of a row without a natural key, or a check of the one its key gives (an import of
        // an export keeps the ids of keyless tables).
        // (Only a UUID in its hyphenated form: any other `id` stays a property, as it always was.)
        let given_id = match props.get("id").and_then(Value::as_str).and_then(canonical_id) {
            Some(id) if !declared("id") => {
                props.remove("id");
                Some(id)
            }
            _ => None,
        };
        // The text stays the properties' text only if no member was taken out or filled in.
        let mut props_text = text.filter(|_| edges.is_none() && vector.is_none() && given_id.is_none());
        let edges = edges.map(|e| parse_edges(e, now, &mut issues)).unwrap_or_default();
        let vector = vector.and_then(|v| row_vector(v, rec, &mut issues));
        let mut value = Value::Object(props);
        match schema.validate(&mut value) {
            Ok(true) => props_text = None,
            Ok(false) => {}
            Err(mut more) => issues.append(&mut more),
        }
        if !issues.is_empty() {
            return Err(with_row(issues));
        }
        let Value::Object(props) = value else { unreachable!("validated value stays an object") };
        let mut ident = identity(&rec.name, &props, rec.key_field.as_deref());
        let mut took_id = false;
        if let Some(id) = given_id {
            match ident.key {
                None => {
                    ident.id = id;
                    took_id = true;
                }
                Some(ref natural) if id != ident.id => {
                    return Err(with_row(vec![Issue {
                        loc: vec![PathSegment::Field("id".into())],
                        kind: IssueKind::ValueError,
                        msg: format!(
                            "id {id} is not the id of this row's natural key {} ({}): leave id out, or fix it",
                            crate::error::preview(&format!("{natural:?}")),
                            ident.id
                        ),
                    }]));
                }
                Some(_) => {}
            }
        }
        let key = keys::entity(&self.tenant, &rec.name, ident.id.as_bytes());
        Ok(Prepared { id: ident.id, key, props, props_text, edges, vector, given_id: took_id })
    }

    /// Upsert a prepared row (see `docs/design.md` for the rules).
    /// Returns the stored entity and its vector work.
    fn apply(&self, tx: &mut Tx<'_, S>, rec: &SchemaRecord, p: Prepared, now: &str) -> Result<(Entity, Option<VecOp>)> {
        if p.given_id
            && let Some(table) = tx.get(&keys::id_index(&self.tenant, p.id.as_bytes()))?
            && table != rec.name.as_bytes()
        {
            return Err(Error::InvalidArgument(format!(
                "id {} belongs to a row of table '{}'; leave id out to give this row a new one",
                p.id,
                String::from_utf8_lossy(&table)
            )));
        }
        let old = tx.get(&p.key)?.map(|b| decode_entity(&b)).transpose()?;
        let entity = Entity {
            id: p.id.to_string(),
            entity_type: rec.name.clone(),
            created_at: old.as_ref().map(|o| o.created_at.clone()).unwrap_or_else(|| now.to_string()),
            modified_at: now.to_string(),
            deleted_at: None,
            edges: match &old {
                Some(o) => merge_edges(&o.edges, p.edges),
                None => p.edges,
            },
            properties: p.props,
        };
        let text = crate::json::write::entity_with(&entity, p.props_text);
        let old = old.as_ref().map(|o| Side { rec, entity: o });
        let mut op = write_row(tx, &self.tenant, old, Some(Side { rec, entity: &entity }), Some(text))?;
        if let (Some(VecOp::Upsert(_, _, slot)), Some(v)) = (op.as_mut(), p.vector) {
            *slot = Some(v);
        }
        Ok((entity, op))
    }

    /// Validate and upsert one entity (JSON object text); returns the stored entity as JSON.
    /// Errors: `SchemaNotFound`, `InvalidArgument`, `Validation`, `Storage`.
    pub fn insert(&self, table: &str, data: &str) -> Result<String> {
        let mut tx = self.begin(true)?;
        let schema = self.schema(&tx, table)?;
        let parsed = parse_row(data).map_err(|e| match e {
            ReadError::Syntax(_) => json_error("entity data", &e),
            big => Error::Validation(vec![row_issue(None, big)]),
        })?;
        let now = crate::model::time::now();
        let prepared = self.prepare_row(&schema, parsed, &now, None)?;
        let (entity, op) = self.apply(&mut tx, &schema.record, prepared, &now)?;
        self.vector_index().index_vectors(&mut tx, &schema.record, op.into_iter().collect())?;
        tx.commit()?;
        String::from_utf8(encode_entity(&entity)?).map_err(|e| Error::Internal(e.to_string()))
    }

    /// Upsert every row or none; returns ids in row order. A row's validation
    /// issues carry its index as the first `loc` segment; an unparsable row is a
    /// `Validation` issue of type `json_invalid` at that index.
    pub fn insert_batch(&self, table: &str, rows: &[String]) -> Result<Vec<String>> {
        let mut tx = self.begin(true)?;
        let schema = self.schema(&tx, table)?;
        let now = crate::model::time::now();
        // Rows go in blocks: validate a block, read its existing rows in one
        // crossing, then write it. Small blocks keep the parsed rows in cache.
        let mut ids = Vec::with_capacity(rows.len());
        let mut vec_ops = Vec::new();
        // Every row is validated even after a bad one (up to MAX_BATCH_ISSUES issues), so one
        // error lists what is wrong in the whole batch; nothing is applied once a row failed.
        let mut issues: Vec<Issue> = Vec::new();
        'blocks: for (b, block) in rows.chunks(Self::BATCH_BLOCK).enumerate() {
            let mut prepared = Vec::with_capacity(block.len());
            for (j, row) in block.iter().enumerate() {
                let i = (b * Self::BATCH_BLOCK + j) as u32;
                let checked = parse_row(row)
                    .map_err(|e| Error::Validation(vec![row_issue(Some(i), e)]))
                    .and_then(|value| self.prepare_row(&schema, value, &now, Some(i)));
                match checked {
                    Ok(p) if issues.is_empty() => prepared.push(p),
                    Ok(_) => {}
                    Err(Error::Validation(mut more)) => {
                        issues.append(&mut more);
                        if issues.len() >= Self::MAX_BATCH_ISSUES {
                            break 'blocks;
                        }
                    }
                    Err(other) => return Err(other),
                }
            }
            if !issues.is_empty() {
                continue;
            }
            tx.prefetch(prepared.iter().map(|p| p.key.clone()).collect())?;
            for p in prepared {
                let (e, op) = self.apply(&mut tx, &schema.record, p, &now)?;
                if schema.record.has_vectors() {
                    vec_ops.extend(op);
                }
                ids.push(e.id);
            }
        }
        if !issues.is_empty() {
            issues.truncate(Self::MAX_BATCH_ISSUES);
            return Err(Error::Validation(issues));
        }
        self.vector_index().index_vectors(&mut tx, &schema.record, vec_ops)?;
        tx.commit()?;
        Ok(ids)
    }

    pub(crate) fn locate(&self, tx: &Tx<'_, S>, id: &Uuid) -> Result<Option<(String, Vec<u8>)>> {
        let Some(table) = tx.get(&keys::id_index(&self.tenant, id.as_bytes()))? else {
            return Ok(None);
        };
        let table = String::from_utf8(table).map_err(|_| Error::Storage("corrupt id index entry".into()))?;
        let Some(bytes) = tx.get(&keys::entity(&self.tenant, &table, id.as_bytes()))? else {
            return Err(Error::Storage(format!("id index points at a missing row for {id}")));
        };
        Ok(Some((table, bytes)))
    }

    /// Merge `patch` (JSON object) into the properties of `id` (an id or a natural key),
    /// re-validate and store. Errors: `NotFound` (absent or soft-deleted), `InvalidArgument`,
    /// `Validation`, `Storage`.
    pub fn update(&self, id: &str, patch: &str) -> Result<String> {
        let Some(uuid) = self.id_or_key(id)? else {
            return Err(Error::NotFound(format!(
                "no entity with id or key {} in tenant '{}'",
                crate::error::preview(&format!("{id:?}")),
                self.tenant
            )));
        };
        let mut tx = self.begin(true)?;
        let Some((table, bytes)) = self.locate(&tx, &uuid)? else {
            return Err(Error::NotFound(format!("no entity with id {id} in tenant '{}'", self.tenant)));
        };
        let old = decode_entity(&bytes)?;
        if !old.is_live() {
            return Err(Error::NotFound(format!(
                "entity {id} is deleted (at {}); insert it again to restore it",
                old.deleted_at.as_deref().unwrap_or("?")
            )));
        }
        let Value::Object(mut patch) = parse_json("patch", patch)? else {
            return Err(Error::InvalidArgument("a patch must be a JSON object of properties".into()));
        };
        let schema = self.schema(&tx, &table)?;
        let now = crate::model::time::now();
        let mut issues = Vec::new();
        let new_edges = patch.remove("edges").map(|e| parse_edges(e, &now, &mut issues)).unwrap_or_default();
        let declared = schema.record.schema.get("properties").and_then(|p| p.get(VECTOR_MEMBER)).is_some();
        let vector = if declared { None } else { patch.remove(VECTOR_MEMBER) };
        let vector = vector.and_then(|v| row_vector(v, &schema.record, &mut issues));
        let mut props: Map<String, Value> = old.properties.clone();
        for (k, v) in patch {
            props.insert(k, v);
        }
        let mut value = Value::Object(props);
        if let Err(mut more) = schema.validate(&mut value) {
            issues.append(&mut more);
        }
        if !issues.is_empty() {
            return Err(Error::Validation(issues));
        }
        let Value::Object(props) = value else { unreachable!("validated value stays an object") };
        let new =
            Entity { modified_at: now, edges: merge_edges(&old.edges, new_edges), properties: props, ..old.clone() };
        let rec = &schema.record;
        let text = crate::json::write::entity(&new);
        let mut op = write_row(
            &mut tx,
            &self.tenant,
            Some(Side { rec, entity: &old }),
            Some(Side { rec, entity: &new }),
            Some(text),
        )?;
        if let (Some(VecOp::Upsert(_, _, slot)), Some(v)) = (op.as_mut(), vector) {
            *slot = Some(v);
        }
        self.vector_index().index_vectors(&mut tx, rec, op.into_iter().collect())?;
        tx.commit()?;
        String::from_utf8(encode_entity(&new)?).map_err(|e| Error::Internal(e.to_string()))
    }

    /// Soft-delete (`hard == false`) or remove `id` (an id or a natural key) with its index entries.
    /// Returns the entity as last stored. Soft-deleting a deleted entity is a no-op.
    /// Errors: `NotFound`, `InvalidArgument`, `Storage`.
    pub fn delete(&self, id: &str, hard: bool) -> Result<String> {
        let Some(uuid) = self.id_or_key(id)? else {
            return Err(Error::NotFound(format!(
                "no entity with id or key {} in tenant '{}'",
                crate::error::preview(&format!("{id:?}")),
                self.tenant
            )));
        };
        let mut tx = self.begin(true)?;
        let Some((table, bytes)) = self.locate(&tx, &uuid)? else {
            return Err(Error::NotFound(format!("no entity with id {id} in tenant '{}'", self.tenant)));
        };
        let old = decode_entity(&bytes)?;
        let rec = self.schema(&tx, &table)?;
        let rec = &rec.record;
        let before = Some(Side { rec, entity: &old });
        let result = if hard {
            let op = write_row(&mut tx, &self.tenant, before, None, None)?;
            self.vector_index().index_vectors(&mut tx, rec, op.into_iter().collect())?;
            old
        } else if old.is_live() {
            let now = crate::model::time::now();
            let new = Entity { deleted_at: Some(now.clone()), modified_at: now, ..old.clone() };
            let text = encode_entity(&new)?;
            let op = write_row(&mut tx, &self.tenant, before, Some(Side { rec, entity: &new }), Some(text))?;
            self.vector_index().index_vectors(&mut tx, rec, op.into_iter().collect())?;
            new
        } else {
            old
        };
        tx.commit()?;
        String::from_utf8(encode_entity(&result)?).map_err(|e| Error::Internal(e.to_string()))
    }

    /// The entity `id` as JSON (soft-deleted ones included), or `None`; `id` may be a natural
    /// key (the one live entity with it).
    pub fn get(&self, id: &str) -> Result<Option<String>> {
        let Some(uuid) = self.id_or_key(id)? else { return Ok(None) };
        let tx = self.begin(false)?;
        Ok(self.locate(&tx, &uuid)?.map(|(_, b)| String::from_utf8_lossy(&b).into_owned()))
    }

    /// The entity `id_or_key` names: a UUID as it is, else the one live entity whose natural key
    /// it is (`None` when none has it). Errors: `InvalidArgument` (empty, or a key that names
    /// entities in several tables: pass the id).
    fn id_or_key(&self, id_or_key: &str) -> Result<Option<Uuid>> {
        if let Ok(id) = Uuid::parse_str(id_or_key) {
            return Ok(Some(id));
        }
        if id_or_key.is_empty() {
            return Err(Error::InvalidArgument("an entity id or natural key must not be empty".into()));
        }
        let hits = self.lookup(id_or_key)?;
        match hits.as_slice() {
            [] => Ok(None),
            [one] => {
                let e: Value = serde_json::from_str(one).map_err(|e| Error::Storage(e.to_string()))?;
                parse_id(e["id"].as_str().unwrap_or_default()).map(Some)
            }
            many => Err(Error::InvalidArgument(format!(
                "key {} names {} entities in different tables; pass an id",
                crate::error::preview(&format!("{id_or_key:?}")),
                many.len()
            ))),
        }
    }

    /// `get` for each id in order, with two batched storage round trips.
    pub fn get_many(&self, ids: &[String]) -> Result<Vec<Option<String>>> {
        let uuids = ids.iter().map(|i| parse_id(i)).collect::<Result<Vec<_>>>()?;
        let tx = self.begin(false)?;
        let idx_keys: Vec<Vec<u8>> = uuids.iter().map(|u| keys::id_index(&self.tenant, u.as_bytes())).collect();
        let tables = tx.get_many(&idx_keys)?;
        let row_keys: Vec<Vec<u8>> = uuids
            .iter()
            .zip(&tables)
            .filter_map(|(u, t)| {
                t.as_ref().map(|t| keys::entity(&self.tenant, &String::from_utf8_lossy(t), u.as_bytes()))
            })
            .collect();
        let mut rows = tx.get_many(&row_keys)?.into_iter();
        Ok(tables
            .iter()
            .map(|t| t.as_ref().and_then(|_| rows.next().flatten()).map(|b| String::from_utf8_lossy(&b).into_owned()))
            .collect())
    }

    /// Live entities whose natural key is exactly `key`, across tables.
    pub fn lookup(&self, key: &str) -> Result<Vec<String>> {
        let mut tx = self.begin(false)?;
        let row_keys: Vec<Vec<u8>> = keyed(&mut tx, &self.tenant, key)?
            .into_iter()
            .map(|(table, id)| keys::entity(&self.tenant, &String::from_utf8_lossy(&table), &id))
            .collect();
        let rows = tx.get_many(&row_keys)?;
        let mut out = Vec::new();
        for bytes in rows.into_iter().flatten() {
            if decode_entity(&bytes)?.is_live() {
                out.push(String::from_utf8_lossy(&bytes).into_owned());
            }
        }
        Ok(out)
    }

    /// Every stored row of `table` (live and deleted), page by page.
    pub fn scan_table(&self, table: &str) -> Result<PrefixScan<'_, S>> {
        let mut tx = self.begin(false)?;
        self.schema(&tx, table)?;
        Ok(tx.scan_prefix(&keys::entity_prefix(&self.tenant, table))?.with_page(4096))
    }

    /// Up to `limit` live entities of `table` after skipping `offset`, in id order.
    pub fn list(&self, table: &str, limit: Option<u32>, offset: u32) -> Result<Vec<String>> {
        let mut scan = self.scan_table(table)?;
        let mut out = Vec::new();
        let mut skipped = 0u32;
        let want = limit.unwrap_or(u32::MAX) as usize;
        while out.len() < want {
            let page = scan.next_page()?;
            if page.is_empty() {
                break;
            }
            for (_, bytes) in page {
                if !decode_entity(&bytes)?.is_live() {
                    continue;
                }
                if skipped < offset {
                    skipped += 1;
                    continue;
                }
                out.push(String::from_utf8_lossy(&bytes).into_owned());
                if out.len() >= want {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// Number of live entities in `table`. Errors: `SchemaNotFound`.
    pub fn count(&self, table: &str) -> Result<u64> {
        let tx = self.begin(false)?;
        self.schema(&tx, table)?;
        self.live_count(table)
    }

    /// The live-row count record of `table`, without checking the table exists.
    pub(crate) fn live_count(&self, table: &str) -> Result<u64> {
        Ok(decode_count(self.store.get(&keys::count(&self.tenant, table))?))
    }
}
