//! Running a compiled `SELECT`: reading rows through the chosen access path, filtering,
//! grouping and aggregating, ordering, and projecting the output rows.

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::{Map, Value};

use super::eval::{Row, eval, total_order, truthy};
use super::ir::{AggFn, CmpOp, Ex, Projection, Select};
use super::out::Out;
use super::plan;
use super::scalar;
use crate::error::{Error, Result};
use crate::json::record::decode_entity;
use crate::model::entity::Entity;
use crate::model::schema::{SchemaRecord, VECTOR_MEMBER};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::{PrefixScan, Tx};
use crate::vector::layout::read_vectors;

/// Rows per page of a table scan.
const SCAN_PAGE: u32 = 4096;

/// One tenant's rows in a store, as a query reads them.
pub struct Exec<'a, S: Storage> {
    /// The store read.
    pub store: &'a S,
    /// The tenant whose rows are read.
    pub tenant: &'a str,
}

impl<'a, S: Storage> Exec<'a, S> {
    /// Every stored row of `table` (live and deleted), page by page.
    fn scan_table(&self, table: &str) -> Result<PrefixScan<'a, S>> {
        let mut tx = Tx::new(self.store);
        Ok(tx.scan_prefix(&keys::entity_prefix(self.tenant, table))?.with_page(SCAN_PAGE))
    }

    /// Run a compiled `SELECT` through `access`; returns the output rows and the number of rows read.
    /// Errors: those of storage, and an expression's failure on a row (division by zero, a bad
    /// cast: see [`super::scalar`]), which fails the whole query.
    pub fn execute(&self, plan: &Select, rec: &SchemaRecord, access: &plan::Plan) -> Result<(Vec<Out>, u64)> {
        scalar::take_fault();
        let result = self.run(plan, rec, access);
        match scalar::take_fault() {
            Some(fault) if result.is_ok() => Err(fault),
            _ => result,
        }
    }

    fn run(&self, plan: &Select, rec: &SchemaRecord, access: &plan::Plan) -> Result<(Vec<Out>, u64)> {
        if let plan::Access::CountGroups { field } = &access.access {
            let mut groups = plan::count_groups(self.store, self.tenant, rec, field)?;
            // Scan order: groups by the id of their first row.
            groups.sort_by_key(|(id, _)| *id);
            let keys: Vec<Vec<u8>> =
                groups.iter().map(|(id, _)| crate::storage::keys::entity(self.tenant, &plan.table, id)).collect();
            let mut firsts = Vec::with_capacity(groups.len());
            for bytes in self.store.get_many(&keys)? {
                let bytes = bytes.ok_or_else(|| Error::Storage("index entry without its row".into()))?;
                firsts.push(decode_entity(&bytes)?);
            }
            let read: u64 = groups.iter().map(|(_, n)| n).sum();
            let finished = groups
                .iter()
                .enumerate()
                .map(|(i, (_, n))| (i, plan.aggs.iter().map(|_| Value::from(*n)).collect()))
                .collect();
            let out = finish_groups(plan, &firsts, finished);
            return order_and_limit(plan, out).map(|rows| (rows, read));
        }
        // `*` rows are spliced from the stored text unless DISTINCT or grouping needs values.
        let tested = (matches!(plan.projection, Projection::Star) && !plan.grouped && !plan.distinct)
            .then(|| plan.properties_tested());
        let wanted = plan.properties_read();
        let (mut rows, read) = self.read_rows(plan, rec, access, tested.as_ref(), wanted.as_ref())?;
        if !plan.grouped && wanted.as_ref().is_some_and(|w| w.contains(VECTOR_MEMBER)) {
            self.attach_vectors(rec, &mut rows)?;
        }
        Ok((finish(plan, rows)?, read))
    }

    /// The entities `access` reaches that pass `plan`'s filter (see [`Exec::execute`]), with only
    /// the `wanted` properties decoded (`None`: all), for a query that combines them further (a
    /// join). Errors: those of storage and of the filter's expressions.
    pub fn entities(
        &self,
        plan: &Select,
        rec: &SchemaRecord,
        access: &plan::Plan,
        wanted: Option<&std::collections::HashSet<String>>,
    ) -> Result<Vec<Entity>> {
        scalar::take_fault();
        let result = self.read_rows(plan, rec, access, None, wanted);
        if let Some(fault) = scalar::take_fault() {
            return Err(fault);
        }
        Ok(result?.0.into_iter().map(|r| r.entity).collect())
    }

    /// Read the rows `access` reaches that pass the filter (and are live, unless the plan reads
    /// deleted ones); `tested` splices `*` rows from their text, `wanted` decodes only those
    /// properties (`None`: all). Returns the rows and how many were read.
    fn read_rows(
        &self,
        plan: &Select,
        rec: &SchemaRecord,
        access: &plan::Plan,
        tested: Option<&std::collections::HashSet<String>>,
        wanted: Option<&std::collections::HashSet<String>>,
    ) -> Result<(Vec<Read>, u64)> {
        let keep = |r: &Read| {
            let e = &r.entity;
            (plan.include_deleted || e.is_live())
                && plan.filter.as_ref().is_none_or(|f| truthy(&eval(f, &Row { entity: e, aggs: &[] })))
        };
        let decode = |bytes: &[u8]| -> Result<Read> {
            Ok(match tested {
                Some(t) => {
                    let (entity, text) = crate::json::record::entity_with_star(bytes, t)?;
                    Read { entity, text }
                }
                None => Read { entity: crate::json::record::entity(bytes, wanted)?, text: None },
            })
        };
        let mut rows: Vec<Read> = Vec::new();
        let mut read = 0u64;
        // Without ORDER BY, grouping or DISTINCT, reading can stop early.
        let stop_after = match (&plan.limit, plan.order_by.is_empty() && !plan.grouped && !plan.distinct) {
            (Some(l), true) => Some(plan.offset.saturating_add(*l)),
            _ => None,
        };
        // Decode a row and keep it if it passes; true once enough rows are kept.
        let take = |bytes: &[u8], rows: &mut Vec<Read>| -> Result<bool> {
            let row = decode(bytes)?;
            if keep(&row) {
                rows.push(row);
            }
            Ok(stop_after.is_some_and(|n| rows.len() as u64 >= n))
        };
        match &access.access {
            plan::Access::Scan => {
                let mut scan = match plan.filter.as_ref().and_then(id_floor) {
                    // Rows are stored in id order: start at the smallest id the filter allows.
                    Some(floor) => {
                        let prefix = keys::entity_prefix(self.tenant, &plan.table);
                        let end = keys::prefix_end(&prefix);
                        PrefixScan::range(self.store, keys::entity(self.tenant, &plan.table, &floor), end)
                            .with_page(SCAN_PAGE)
                    }
                    None => self.scan_table(&plan.table)?,
                };
                'scan: loop {
                    let page = scan.next_packed()?;
                    if page.is_empty() {
                        break;
                    }
                    for (_, bytes) in page.iter() {
                        read += 1;
                        if take(bytes, &mut rows)? {
                            break 'scan;
                        }
                    }
                }
            }
            plan::Access::Lookup(c) => {
                let ids = plan::ids(self.store, c)?;
                // Ids come sorted: rows below the smallest id the filter allows are not read.
                let from = plan.filter.as_ref().and_then(id_floor).map_or(0, |f| ids.partition_point(|id| *id < f));
                'ids: for chunk in ids[from..].chunks(crate::storage::store::SCAN_PAGE as usize) {
                    let keys: Vec<Vec<u8>> =
                        chunk.iter().map(|id| crate::storage::keys::entity(self.tenant, &plan.table, id)).collect();
                    for bytes in self.store.get_many(&keys)?.into_iter().flatten() {
                        read += 1;
                        if take(&bytes, &mut rows)? {
                            break 'ids;
                        }
                    }
                }
            }
            plan::Access::CountGroups { .. } => {
                return Err(Error::Internal("index-only group counts are answered before rows are read".into()));
            }
            plan::Access::Covered(_) => {
                return Err(Error::Internal("a covered lookup is answered before execution".into()));
            }
            plan::Access::Ordered { field, need, key, bounds } => {
                let (store, tenant) = (self.store, self.tenant);
                rows = plan::ordered_rows(store, tenant, rec, field, key, *need, bounds.as_ref(), &decode, &keep)?;
                read = rows.len() as u64;
                // Ties keep id order, as a scan would deliver them.
                rows.sort_by(|a, b| a.entity.id.cmp(&b.entity.id));
            }
        }
        Ok((rows, read))
    }

    /// Give each row its stored vector as the column `embedding` (`SELECT embedding FROM t`), in
    /// a table that keeps vectors and declares no property of that name. A row without a vector
    /// gets `NULL`. Vectors are read after filtering, so a predicate on `embedding` sees `NULL`.
    fn attach_vectors(&self, rec: &SchemaRecord, rows: &mut [Read]) -> Result<()> {
        let declared = rec.schema.get("properties").and_then(|p| p.get(VECTOR_MEMBER)).is_some();
        if !rec.has_vectors() || declared {
            return Ok(());
        }
        let tx = Tx::new(self.store);
        for chunk in rows.chunks_mut(crate::storage::store::SCAN_PAGE as usize) {
            let ids = chunk
                .iter()
                .map(|r| crate::model::ids::parse_id(&r.entity.id).map(|u| *u.as_bytes()))
                .collect::<Result<Vec<_>>>()?;
            for (r, v) in chunk.iter_mut().zip(read_vectors(&tx, self.tenant, &rec.name, &ids)?) {
                r.entity.properties.insert(VECTOR_MEMBER.into(), v.map_or(Value::Null, |v| vector_json(&v)));
            }
        }
        Ok(())
    }
}

/// The rows of a query after they are read (and passed its filter): grouped and aggregated,
/// ordered, projected, made distinct, offset and limited.
fn finish(plan: &Select, rows: Vec<Read>) -> Result<Vec<Out>> {
    let out: Vec<(Vec<Value>, Out)> = if plan.grouped {
        let rows: Vec<Entity> = rows.into_iter().map(|r| r.entity).collect();
        group(plan, &rows)?
    } else {
        rows.into_iter()
            .map(|Read { entity, text }| {
                let row = Row { entity: &entity, aggs: &[] };
                let keys = plan.order_by.iter().map(|k| eval(&k.expr, &row)).collect();
                let out = match text {
                    Some(text) => Out::Text(text),
                    None => Out::Value(project_owned(&plan.projection, entity)),
                };
                (keys, out)
            })
            .collect()
    };
    order_and_limit(plan, out)
}

/// Run `plan` over rows already in memory (the joined rows of several tables, a `WITH` table,
/// a derived table): filter, group, order, project and limit them as a table's rows are.
/// Errors: an expression's failure on a row (see [`super::scalar`]).
pub fn run_rows(plan: &Select, rows: Vec<Entity>) -> Result<Vec<Out>> {
    scalar::take_fault();
    let kept: Vec<Read> = rows
        .into_iter()
        .filter(|e| {
            (plan.include_deleted || e.is_live())
                && plan.filter.as_ref().is_none_or(|f| truthy(&eval(f, &Row { entity: e, aggs: &[] })))
        })
        .map(|entity| Read { entity, text: None })
        .collect();
    let result = finish(plan, kept);
    match scalar::take_fault() {
        Some(fault) if result.is_ok() => Err(fault),
        _ => result,
    }
}

/// Whether `plan` can take its rows one at a time, borrowed ([`row_out`]): no grouping, and a
/// projection of expressions (a `*` or `alias.*` row moves its members instead).
pub fn streams(plan: &Select) -> bool {
    !plan.grouped && matches!(plan.projection, Projection::Items(_))
}

/// One row of a [`streams`] plan: `None` when the filter drops it, else its ORDER BY keys and
/// its projection. A failing expression is left as a fault for [`finish_streamed`] to raise.
pub fn row_out(plan: &Select, e: &Entity) -> Option<(Vec<Value>, Out)> {
    let row = Row { entity: e, aggs: &[] };
    if !(plan.include_deleted || e.is_live()) || plan.filter.as_ref().is_some_and(|f| !truthy(&eval(f, &row))) {
        return None;
    }
    let keys = plan.order_by.iter().map(|k| eval(&k.expr, &row)).collect();
    Some((keys, Out::Value(project(&plan.projection, &row))))
}

/// Order and limit the rows [`row_out`] gave. Errors: a fault an expression raised on a row.
pub fn finish_streamed(plan: &Select, rows: Vec<(Vec<Value>, Out)>) -> Result<Vec<Out>> {
    let result = order_and_limit(plan, rows);
    match scalar::take_fault() {
        Some(fault) if result.is_ok() => Err(fault),
        _ => result,
    }
}

/// Sort by the ORDER BY keys (stable), apply DISTINCT, OFFSET and LIMIT.
fn order_and_limit(plan: &Select, mut out: Vec<(Vec<Value>, Out)>) -> Result<Vec<Out>> {
    if !plan.order_by.is_empty() {
        out.sort_by(|(a, _), (b, _)| {
            for (i, k) in plan.order_by.iter().enumerate() {
                let o = match (a[i].is_null(), b[i].is_null()) {
                    (true, true) => Ordering::Equal,
                    (true, false) => {
                        if k.nulls_first {
                            Ordering::Less
                        } else {
                            Ordering::Greater
                        }
                    }
                    (false, true) => {
                        if k.nulls_first {
                            Ordering::Greater
                        } else {
                            Ordering::Less
                        }
                    }
                    (false, false) => {
                        let o = total_order(&a[i], &b[i]);
                        if k.desc { o.reverse() } else { o }
                    }
                };
                if o != Ordering::Equal {
                    return o;
                }
            }
            Ordering::Equal
        });
    }
    let mut result: Vec<Out> = out.into_iter().map(|(_, v)| v).collect();
    if plan.distinct {
        let mut seen = std::collections::HashSet::new();
        result.retain(|v| seen.insert(v.text().into_owned()));
    }
    Ok(result
        .into_iter()
        .skip(plan.offset.min(usize::MAX as u64) as usize)
        .take(plan.limit.map(|l| l.min(usize::MAX as u64) as usize).unwrap_or(usize::MAX))
        .collect())
}

/// Group `rows` and finish the groups.
fn group(plan: &Select, rows: &[Entity]) -> Result<Vec<(Vec<Value>, Out)>> {
    let mut groups = Groups::default();
    let mut firsts = Vec::new();
    for (i, e) in rows.iter().enumerate() {
        if groups.add(plan, e) {
            firsts.push(i);
        }
    }
    let accs = groups.finish();
    Ok(finish_groups(plan, rows, firsts.into_iter().zip(accs).collect()))
}

/// Rows grouped by the GROUP BY keys as they come: each group's aggregate accumulators.
#[derive(Default)]
struct Groups {
    index: HashMap<String, usize>,
    accs: Vec<Vec<Acc>>,
}

impl Groups {
    /// Add `e` to its group; true when it starts a new one.
    fn add(&mut self, plan: &Select, e: &Entity) -> bool {
        let row = Row { entity: e, aggs: &[] };
        let key: Vec<Value> = plan.group_by.iter().map(|g| eval(g, &row)).collect();
        let key_text = serde_json::to_string(&key).unwrap_or_default();
        let mut new = false;
        let slot = *self.index.entry(key_text).or_insert_with(|| {
            new = true;
            self.accs.push(plan.aggs.iter().map(|a| Acc::new(a.func)).collect());
            self.accs.len() - 1
        });
        for (acc, agg) in self.accs[slot].iter_mut().zip(&plan.aggs) {
            acc.add(if agg.func == AggFn::CountStar { Value::Bool(true) } else { eval(&agg.arg, &row) });
        }
        new
    }

    /// Each group's aggregate values, in the order the groups started.
    fn finish(self) -> Vec<Vec<Value>> {
        self.accs.into_iter().map(|accs| accs.into_iter().map(Acc::finish).collect()).collect()
    }
}

/// A grouped query's rows taken one at a time, borrowed (the rows of a join): only each group's
/// first row is kept (for the GROUP BY columns it projects).
pub struct Grouper<'p> {
    plan: &'p Select,
    groups: Groups,
    firsts: Vec<Entity>,
}

impl<'p> Grouper<'p> {
    /// An empty grouping for `plan` (whose `grouped` is set).
    pub fn new(plan: &'p Select) -> Self {
        Grouper { plan, groups: Groups::default(), firsts: Vec::new() }
    }

    /// Add a row, unless the plan's filter drops it.
    pub fn add(&mut self, e: &Entity) {
        let row = Row { entity: e, aggs: &[] };
        if !(self.plan.include_deleted || e.is_live())
            || self.plan.filter.as_ref().is_some_and(|f| !truthy(&eval(f, &row)))
        {
            return;
        }
        if self.groups.add(self.plan, e) {
            self.firsts.push(e.clone());
        }
    }

    /// The grouped, ordered and limited rows. Errors: a fault an expression raised on a row.
    pub fn finish(self) -> Result<Vec<Out>> {
        let accs = self.groups.finish();
        let groups = (0..self.firsts.len()).zip(accs).collect();
        finish_streamed(self.plan, finish_groups(self.plan, &self.firsts, groups))
    }
}

/// Apply HAVING, ORDER BY keys and the projection to groups given as
/// (index of the group's first row in `rows`, aggregate values).
fn finish_groups(plan: &Select, rows: &[Entity], groups: Vec<(usize, Vec<Value>)>) -> Vec<(Vec<Value>, Out)> {
    {
        // An aggregate without GROUP BY over no rows still yields one row.
        let empty = Entity {
            id: String::new(),
            entity_type: plan.table.clone(),
            created_at: String::new(),
            modified_at: String::new(),
            deleted_at: None,
            edges: Vec::new(),
            properties: Map::new(),
        };
        if groups.is_empty() && plan.group_by.is_empty() {
            let aggs: Vec<Value> = plan.aggs.iter().map(|a| Acc::new(a.func).finish()).collect();
            let row = Row { entity: &empty, aggs: &aggs };
            if plan.having.as_ref().is_some_and(|h| !truthy(&eval(h, &row))) {
                return Vec::new();
            }
            let keys = plan.order_by.iter().map(|k| eval(&k.expr, &row)).collect();
            return vec![(keys, Out::Value(project(&plan.projection, &row)))];
        }
        let mut out = Vec::new();
        for (first, aggs) in groups {
            let row = Row { entity: &rows[first], aggs: &aggs };
            if plan.having.as_ref().is_some_and(|h| !truthy(&eval(h, &row))) {
                continue;
            }
            let keys = plan.order_by.iter().map(|k| eval(&k.expr, &row)).collect();
            out.push((keys, Out::Value(project(&plan.projection, &row))));
        }
        out
    }
}

pub(crate) fn index_fields(c: &plan::Candidates) -> Vec<String> {
    let mut out = match c {
        plan::Candidates::Probe(p) => vec![p.field.clone()],
        plan::Candidates::All(v) | plan::Candidates::Any(v) => v.iter().flat_map(index_fields).collect(),
    };
    out.dedup();
    out
}

/// Build one output object.
fn project(p: &Projection, row: &Row<'_>) -> Value {
    match p {
        Projection::Star => {
            let e = row.entity;
            star(e.id.clone(), e.entity_type.clone(), e.properties.clone())
        }
        Projection::Items(items) => {
            Value::Object(items.iter().map(|(name, ex)| (name.clone(), eval(ex, row))).collect())
        }
        Projection::Members(names) => members(names, row.entity.properties.clone()),
    }
}

/// [`project`] for a row not needed afterwards: `*` moves the properties instead of copying them.
fn project_owned(p: &Projection, entity: Entity) -> Value {
    match p {
        Projection::Star => star(entity.id, entity.entity_type, entity.properties),
        Projection::Members(names) => members(names, entity.properties),
        items => project(items, &Row { entity: &entity, aggs: &[] }),
    }
}

/// A [`Projection::Members`] row from a combined row's properties.
fn members(names: &[String], mut properties: Map<String, Value>) -> Value {
    match names {
        [one] => match properties.swap_remove(one) {
            Some(v @ Value::Object(_)) => v,
            _ => Value::Object(Map::new()),
        },
        _ => {
            Value::Object(names.iter().map(|n| (n.clone(), properties.swap_remove(n).unwrap_or(Value::Null))).collect())
        }
    }
}

/// A `*` row: `id` and `entity_type` in front, then the properties in order (a property
/// of either name is replaced by the system field).
fn star(id: String, entity_type: String, mut properties: Map<String, Value>) -> Value {
    properties.shift_insert(0, "id".into(), Value::String(id));
    properties.shift_insert(1, "entity_type".into(), Value::String(entity_type));
    Value::Object(properties)
}

/// The smallest id a row passing `filter` can have, when the filter requires (at its top
/// level, or in an AND there) `id > 'L'` or `id >= 'L'` with `L` a canonical id: ids compare
/// as strings in the order their bytes are stored, so a scan may start at `L`.
fn id_floor(filter: &Ex) -> Option<[u8; 16]> {
    match filter {
        Ex::And(a, b) => id_floor(a).max(id_floor(b)),
        Ex::Cmp(a, CmpOp::Gt | CmpOp::Ge, b) => match (&**a, &**b) {
            (Ex::Col(path), Ex::Lit(Value::String(lit))) if path.len() == 1 && path[0] == "id" => {
                uuid::Uuid::parse_str(lit).ok().filter(|u| u.to_string() == *lit).map(|u| *u.as_bytes())
            }
            _ => None,
        },
        _ => None,
    }
}

/// A vector as a JSON array, each item the shortest decimal that reads back as the same `f32`.
pub fn vector_json(v: &[f32]) -> Value {
    Value::Array(v.iter().map(|f| Value::from(f.to_string().parse::<f64>().unwrap_or(f64::from(*f)))).collect())
}

/// A row read for a query: decoded as far as the query needs, with its `*` text when spliced.
struct Read {
    entity: Entity,
    text: Option<Vec<u8>>,
}

/// An aggregate accumulator.
enum Acc {
    Count(u64),
    Distinct(std::collections::HashSet<String>),
    Sum { sum: f64, int: Option<i64>, n: u64, avg: bool },
    Extreme(Option<Value>, bool),
}

impl Acc {
    fn new(f: AggFn) -> Acc {
        match f {
            AggFn::CountStar | AggFn::Count => Acc::Count(0),
            AggFn::CountDistinct => Acc::Distinct(Default::default()),
            AggFn::Sum => Acc::Sum { sum: 0.0, int: Some(0), n: 0, avg: false },
            AggFn::Avg => Acc::Sum { sum: 0.0, int: Some(0), n: 0, avg: true },
            AggFn::Min => Acc::Extreme(None, false),
            AggFn::Max => Acc::Extreme(None, true),
        }
    }

    fn add(&mut self, v: Value) {
        if v.is_null() {
            return;
        }
        match self {
            Acc::Count(n) => *n += 1,
            Acc::Distinct(set) => {
                set.insert(v.to_string());
            }
            Acc::Sum { sum, int, n, .. } => {
                if let Value::Number(num) = &v {
                    *sum += num.as_f64().unwrap_or(0.0);
                    *int = match (*int, num.as_i64()) {
                        (Some(a), Some(b)) => a.checked_add(b),
                        _ => None,
                    };
                    *n += 1;
                }
            }
            Acc::Extreme(best, max) => {
                let replace = match best {
                    None => true,
                    Some(b) => {
                        let o = total_order(&v, b);
                        if *max { o == Ordering::Greater } else { o == Ordering::Less }
                    }
                };
                if replace {
                    *best = Some(v);
                }
            }
        }
    }

    fn finish(self) -> Value {
        match self {
            Acc::Count(n) => Value::from(n),
            Acc::Distinct(set) => Value::from(set.len() as u64),
            Acc::Sum { n: 0, .. } => Value::Null,
            Acc::Sum { sum, n, avg: true, .. } => Value::from(sum / n as f64),
            Acc::Sum { int: Some(i), avg: false, .. } => Value::from(i),
            Acc::Sum { sum, avg: false, .. } => Value::from(sum),
            Acc::Extreme(v, _) => v.unwrap_or(Value::Null),
        }
    }
}
