//! Access paths: which rows a `SELECT` reads, and how.
//!
//! The planner turns the filter's conjuncts on indexed fields into index
//! probes (`=`, `IN`, `<`, `<=`, `>`, `>=`, `BETWEEN`, `IS NULL`, `x = ANY(f)`,
//! and `OR` of probe-able branches), estimates each by counting its index
//! entries (up to a cap), and uses the smallest, intersecting the others that
//! are small too. A probe only proposes candidates; the full filter is always
//! re-checked on each row. When the best probe would read more than a quarter
//! of the table, a table scan is used instead. `ORDER BY <indexed scalar
//! field> ... LIMIT n` walks the index in order and stops early.

use std::collections::HashSet;

use serde_json::Value;

use super::ir::{CmpOp, Ex, OrderKey, Select};
use crate::error::Result;
use crate::index::{self, TAG_FALSE, TAG_NULL, TAG_NUMBER, TAG_STRING};
use crate::model::schema::SchemaRecord;
use crate::storage::keys::prefix_end;
use crate::storage::store::Storage;
use crate::storage::tx::PrefixScan;

/// Index entries counted at most when estimating a probe.
const ESTIMATE_CAP: usize = 20_000;

/// A lookup this small is read and sorted rather than walking an ordered index.
const SMALL_LOOKUP: usize = 1_000;

/// A `[start, end)` key range (`end: None` means unbounded).
pub type KeyRange = (Vec<u8>, Option<Vec<u8>>);

/// A set of key ranges of one field's index.
#[derive(Debug, Clone)]
pub struct Probe {
    /// Indexed field.
    pub field: String,
    /// What the probe matches, for EXPLAIN.
    pub describe: String,
    /// `[start, end)` key ranges (full keys, prefix included).
    pub ranges: Vec<KeyRange>,
}

/// Candidate generation: probes combined by AND (intersection) or OR (union).
#[derive(Debug, Clone)]
pub enum Candidates {
    /// One probe.
    Probe(Probe),
    /// Every branch must match (intersection of id sets).
    All(Vec<Candidates>),
    /// Any branch may match (union of id sets).
    Any(Vec<Candidates>),
}

impl Candidates {
    fn describe(&self) -> String {
        match self {
            Candidates::Probe(p) => p.describe.clone(),
            Candidates::All(v) => v.iter().map(|c| c.describe()).collect::<Vec<_>>().join(" ∩ "),
            Candidates::Any(v) => format!("({})", v.iter().map(|c| c.describe()).collect::<Vec<_>>().join(" ∪ ")),
        }
    }
}

/// How rows are read.
#[derive(Debug, Clone)]
pub enum Access {
    /// Read every row of the table.
    Scan,
    /// Read the rows the candidates name.
    Lookup(Candidates),
    /// `SELECT f, COUNT(*) ... GROUP BY f` without a filter: count index entries per value.
    CountGroups {
        /// Indexed scalar field.
        field: String,
    },
    /// Walk the index of `key.expr` in order, stopping after `limit` rows pass the filter.
    Ordered {
        /// Indexed field.
        field: String,
        /// Rows needed (offset + limit).
        need: u64,
        /// Sort key.
        key: OrderKey,
        /// Key range of the walk when the filter bounds the field (then NULLs cannot match).
        bounds: Option<KeyRange>,
    },
    /// Read the rows from the index's row copies (`super::covering`).
    Covered(super::covering::Covered),
}

/// The chosen plan with its estimate.
#[derive(Debug, Clone)]
pub struct Plan {
    /// Access path.
    pub access: Access,
    /// Estimated rows read (capped counts for probes, table count for scans).
    pub estimated: u64,
}

impl Plan {
    /// Human-readable access path.
    pub fn describe(&self, table: &str) -> String {
        match &self.access {
            Access::Scan => format!("full scan of {table}"),
            Access::Lookup(c) => format!("index lookup on {table}: {}", c.describe()),
            Access::CountGroups { field } => format!("index-only count of {table} grouped by {field}"),
            Access::Covered(c) => {
                format!("covered index lookup on {table}: {} (rows read from the index's row copies)", c.describe)
            }
            Access::Ordered { field, need, key, .. } => format!(
                "ordered index walk on {table}.{field} ({}), stopping after {need} matching rows",
                if key.desc { "descending" } else { "ascending" }
            ),
        }
    }
}

fn column_name(path: &[String]) -> String {
    let p = if path.first().is_some_and(|f| f == "properties") && path.len() > 1 { &path[1..] } else { path };
    p.join(".")
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// The tag range `[tag_lo, tag_hi)` holding values of the same type as `v`.
fn type_range(v: &Value) -> Option<(u8, u8)> {
    match v {
        Value::Bool(_) => Some((TAG_FALSE, TAG_FALSE + 2)),
        Value::Number(_) => Some((TAG_NUMBER, TAG_NUMBER + 1)),
        Value::String(_) => Some((TAG_STRING, TAG_STRING + 1)),
        _ => None,
    }
}

fn with(prefix: &[u8], tail: &[u8]) -> Vec<u8> {
    let mut k = prefix.to_vec();
    k.extend_from_slice(tail);
    k
}

struct Planner<'a> {
    tenant: &'a str,
    rec: &'a SchemaRecord,
}

impl Planner<'_> {
    fn indexed(&self, path: &[String]) -> Option<String> {
        let name = column_name(path);
        self.rec.indexed_fields.contains(&name).then_some(name)
    }

    fn prefix(&self, field: &str) -> Vec<u8> {
        index::field_prefix(self.tenant, &self.rec.name, field)
    }

    fn point(&self, field: &str, v: &Value) -> Option<KeyRange> {
        let enc = index::encode_scalar(v)?;
        if v.is_null() {
            return None;
        }
        let start = with(&self.prefix(field), &enc);
        let end = prefix_end(&start);
        Some((start, end))
    }

    fn cmp_range(&self, field: &str, op: CmpOp, v: &Value) -> Option<KeyRange> {
        let (lo, hi) = type_range(v)?;
        let prefix = self.prefix(field);
        let at = with(&prefix, &index::encode_scalar(v)?);
        let type_start = with(&prefix, &[lo]);
        let type_end = Some(with(&prefix, &[hi]));
        Some(match op {
            CmpOp::Eq => return self.point(field, v),
            CmpOp::Ne => return None,
            CmpOp::Gt => (prefix_end(&at)?, type_end),
            CmpOp::Ge => (at, type_end),
            CmpOp::Lt => (type_start, Some(at)),
            CmpOp::Le => (type_start, prefix_end(&at)),
        })
    }

    /// Candidates for one predicate, if an index can serve it.
    fn candidates(&self, ex: &Ex) -> Option<Candidates> {
        let probe = |field: String, describe: String, ranges: Vec<KeyRange>| {
            Some(Candidates::Probe(Probe { field, describe, ranges }))
        };
        match ex {
            Ex::And(..) => {
                let parts: Vec<Candidates> = conjuncts(ex).into_iter().filter_map(|c| self.candidates(c)).collect();
                match parts.len() {
                    0 => None,
                    1 => parts.into_iter().next(),
                    _ => Some(Candidates::All(parts)),
                }
            }
            Ex::Or(a, b) => Some(Candidates::Any(vec![self.candidates(a)?, self.candidates(b)?])),
            Ex::Cmp(l, op, r) => {
                let (path, op, v) = match (l.as_ref(), r.as_ref()) {
                    (Ex::Col(p), Ex::Lit(v)) => (p, *op, v),
                    (Ex::Lit(v), Ex::Col(p)) => (p, flip(*op), v),
                    _ => return None,
                };
                let field = self.indexed(path)?;
                let range = self.cmp_range(&field, op, v)?;
                probe(field.clone(), format!("{field} {op:?} {v}"), vec![range])
            }
            Ex::InList(e, list, false, _) => {
                let Ex::Col(path) = e.as_ref() else { return None };
                let field = self.indexed(path)?;
                let mut ranges = Vec::new();
                for item in list {
                    match item {
                        Ex::Lit(Value::Null) => {}
                        Ex::Lit(v) => ranges.push(self.point(&field, v)?),
                        _ => return None,
                    }
                }
                probe(field.clone(), format!("{field} IN ({} values)", list.len()), ranges)
            }
            Ex::Between(e, lo, hi, false) => {
                let (Ex::Col(path), Ex::Lit(lo), Ex::Lit(hi)) = (e.as_ref(), lo.as_ref(), hi.as_ref()) else {
                    return None;
                };
                let field = self.indexed(path)?;
                if type_range(lo)? != type_range(hi)? {
                    return None;
                }
                let start = self.cmp_range(&field, CmpOp::Ge, lo)?.0;
                let end = self.cmp_range(&field, CmpOp::Le, hi)?.1;
                probe(field.clone(), format!("{field} BETWEEN {lo} AND {hi}"), vec![(start, end)])
            }
            Ex::IsNull(e, false) => {
                let Ex::Col(path) = e.as_ref() else { return None };
                let field = self.indexed(path)?;
                let start = with(&self.prefix(&field), &[TAG_NULL]);
                let end = prefix_end(&start);
                probe(field.clone(), format!("{field} IS NULL"), vec![(start, end)])
            }
            Ex::Any(needle, CmpOp::Eq, arr) => {
                let (Ex::Lit(v), Ex::Col(path)) = (needle.as_ref(), arr.as_ref()) else { return None };
                let field = self.indexed(path)?;
                probe(field.clone(), format!("{v} = ANY({field})"), vec![self.point(&field, v)?])
            }
            _ => None,
        }
    }

    /// Whether `field` is declared as a scalar (one index entry per row).
    fn scalar(&self, field: &str) -> bool {
        let mut schema = &self.rec.schema;
        for part in field.split('.') {
            match schema.get("properties").and_then(|p| p.get(part)) {
                Some(s) => schema = s,
                None => return false,
            }
        }
        let scalar = |t: &Value| matches!(t.as_str(), Some("string" | "integer" | "number" | "boolean" | "null"));
        match schema.get("type") {
            Some(Value::String(_)) => scalar(schema.get("type").expect("checked")),
            Some(Value::Array(ts)) => ts.iter().all(scalar),
            _ => false,
        }
    }
}

/// The field of a filter-less `GROUP BY <indexed scalar field>` whose aggregates are all `COUNT(*)`.
fn count_by_index(planner: &Planner<'_>, q: &Select) -> Option<String> {
    if q.filter.is_some() || q.distinct || q.aggs.is_empty() {
        return None;
    }
    if !q.aggs.iter().all(|a| a.func == super::ir::AggFn::CountStar) {
        return None;
    }
    let [Ex::Col(path)] = q.group_by.as_slice() else { return None };
    planner.indexed(path).filter(|f| planner.scalar(f))
}

/// Groups of an index-only count: the first row (in id order) of each value, and the row count.
pub fn count_groups<S: Storage>(
    store: &S,
    tenant: &str,
    rec: &SchemaRecord,
    field: &str,
) -> Result<Vec<([u8; 16], u64)>> {
    let prefix = index::field_prefix(tenant, &rec.name, field);
    let mut scan = PrefixScan::new(store, &prefix).with_page(4096);
    let mut groups: Vec<([u8; 16], u64)> = Vec::new();
    let mut last: Option<Vec<u8>> = None;
    loop {
        let page = scan.next_page()?;
        if page.is_empty() {
            return Ok(groups);
        }
        for (k, _) in page {
            let split = k.len() - 16;
            let value = &k[prefix.len()..split];
            if last.as_deref() == Some(value) {
                groups.last_mut().expect("a group is open").1 += 1;
            } else {
                groups.push((k[split..].try_into().expect("16 bytes"), 1));
                last = Some(value.to_vec());
            }
        }
    }
}

/// The top-level AND-ed parts of `ex`.
pub fn conjuncts(ex: &Ex) -> Vec<&Ex> {
    match ex {
        Ex::And(a, b) => {
            let mut v = conjuncts(a);
            v.extend(conjuncts(b));
            v
        }
        other => vec![other],
    }
}

/// Count entries of `c`'s ranges, stopping at `cap`.
fn estimate<S: Storage>(store: &S, c: &Candidates, cap: usize) -> Result<usize> {
    Ok(match c {
        Candidates::Probe(_) => Counter::new(store, c).count_to(cap)?,
        Candidates::All(v) => {
            let mut best = cap;
            for c in v {
                best = best.min(estimate(store, c, best)?);
            }
            best
        }
        Candidates::Any(v) => {
            let mut n = 0;
            for c in v {
                n += estimate(store, c, cap)?;
            }
            n.min(cap)
        }
    })
}

/// A count of a branch's index entries that can be taken further: a probe's count resumes where
/// it stopped; other shapes are counted again.
struct Counter<'a, S: Storage> {
    store: &'a S,
    c: &'a Candidates,
    /// A probe's ranges not yet started.
    ranges: std::slice::Iter<'a, KeyRange>,
    /// The scan of the range being counted.
    scan: Option<PrefixScan<'a, S>>,
    /// Entries counted.
    n: usize,
    /// Every entry is counted.
    done: bool,
}

impl<'a, S: Storage> Counter<'a, S> {
    fn new(store: &'a S, c: &'a Candidates) -> Self {
        let ranges = match c {
            Candidates::Probe(p) => p.ranges.iter(),
            _ => [].iter(),
        };
        Counter { store, c, ranges, scan: None, n: 0, done: false }
    }

    /// Count on up to `cap` entries; returns the count so far, at most `cap`. Pages are no larger
    /// than what is left to count, and counted without copying entries out.
    fn count_to(&mut self, cap: usize) -> Result<usize> {
        if self.done {
            return Ok(self.n.min(cap));
        }
        if !matches!(self.c, Candidates::Probe(_)) {
            self.n = estimate(self.store, self.c, cap)?;
            self.done = self.n < cap;
            return Ok(self.n);
        }
        while !self.done && self.n < cap {
            let scan = match &mut self.scan {
                Some(scan) => scan,
                None => match self.ranges.next() {
                    Some((start, end)) => self.scan.insert(PrefixScan::range(self.store, start.clone(), end.clone())),
                    None => {
                        self.done = true;
                        break;
                    }
                },
            };
            scan.set_page((cap - self.n) as u32);
            let page = scan.next_packed()?;
            if page.is_empty() {
                self.scan = None;
            }
            self.n += page.len();
        }
        Ok(self.n.min(cap))
    }
}

/// The ids `c` yields (sorted, unique).
pub fn ids<S: Storage>(store: &S, c: &Candidates) -> Result<Vec<[u8; 16]>> {
    Ok(match c {
        Candidates::Probe(p) => {
            let mut out = Vec::new();
            for (start, end) in &p.ranges {
                let mut scan = PrefixScan::range(store, start.clone(), end.clone());
                loop {
                    let page = scan.next_page()?;
                    if page.is_empty() {
                        break;
                    }
                    for (k, _) in page {
                        if let Some(id) = k.len().checked_sub(16).and_then(|i| <[u8; 16]>::try_from(&k[i..]).ok()) {
                            out.push(id);
                        }
                    }
                }
            }
            out.sort_unstable();
            out.dedup();
            out
        }
        Candidates::All(v) => {
            // `prune` ordered the branches smallest first: start there, intersect with the rest.
            let mut acc = ids(store, &v[0])?;
            for c in &v[1..] {
                let other: HashSet<[u8; 16]> = ids(store, c)?.into_iter().collect();
                acc.retain(|id| other.contains(id));
            }
            acc
        }
        Candidates::Any(v) => {
            let mut out = Vec::new();
            for c in v {
                out.extend(ids(store, c)?);
            }
            out.sort_unstable();
            out.dedup();
            out
        }
    })
}

/// A branch joins an intersection when it has at most this many times the entries of the
/// smallest branch (or of 64, whichever is more).
const KEEP_FACTOR: usize = 8;

/// Estimates of the intersection branches `v` for [`prune`], each exact below `cap` when it can
/// matter: counting runs in rounds with caps growing 8x from 512 (a probe's count resuming where
/// it stopped), so a branch matching much of the table (`price > 1` next to `category = 'x'`) is
/// counted only as far as the smallest branch makes it worth keeping, not up to `cap`. A branch
/// returned at its bound is too big to keep.
fn sizes<S: Storage>(store: &S, v: &[Candidates], cap: usize) -> Result<Vec<usize>> {
    let mut counters: Vec<Counter<'_, S>> = v.iter().map(|c| Counter::new(store, c)).collect();
    let mut n: Vec<Option<usize>> = vec![None; v.len()];
    let mut round = cap.min(512);
    loop {
        for (counter, size) in counters.iter_mut().zip(n.iter_mut()).filter(|(_, size)| size.is_none()) {
            let counted = counter.count_to(round)?;
            if counted < round || round >= cap {
                *size = Some(counted);
            }
        }
        if n.iter().any(Option::is_some) {
            break;
        }
        round = round.saturating_mul(KEEP_FACTOR).min(cap);
    }
    let smallest = n.iter().flatten().copied().min().unwrap_or(cap);
    let bound = (smallest.max(64) * KEEP_FACTOR + 1).min(cap);
    counters
        .iter_mut()
        .zip(n)
        .map(|(counter, size)| match size {
            Some(size) => Ok(size),
            None => counter.count_to(bound),
        })
        .collect()
}

/// Only keep intersection branches that are small next to the smallest one; estimates count up to `cap`.
fn prune<S: Storage>(store: &S, c: Candidates, cap: usize) -> Result<(Candidates, usize)> {
    match c {
        Candidates::All(v) => {
            let mut sized: Vec<(usize, Candidates)> = sizes(store, &v, cap)?.into_iter().zip(v).collect();
            sized.sort_by_key(|(n, _)| *n);
            let smallest = sized[0].0;
            // The smallest branch always stays; others join the intersection when they are small too.
            let mut sized = sized.into_iter();
            let (_, first) = sized.next().expect("an intersection has branches");
            let mut kept = vec![first];
            kept.extend(sized.filter(|(n, _)| *n <= smallest.max(64) * KEEP_FACTOR && *n < cap).map(|(_, c)| c));
            if kept.len() == 1 {
                Ok((kept.pop().expect("one"), smallest))
            } else {
                Ok((Candidates::All(kept), smallest))
            }
        }
        other => {
            let n = estimate(store, &other, cap)?;
            Ok((other, n))
        }
    }
}

/// Choose how to read the rows of `q`.
pub fn choose<S: Storage>(store: &S, tenant: &str, rec: &SchemaRecord, q: &Select, table_rows: u64) -> Result<Plan> {
    let planner = Planner { tenant, rec };
    let scan = Plan { access: Access::Scan, estimated: table_rows };
    // Indexes hold live rows only.
    if q.include_deleted {
        return Ok(scan);
    }
    if let Some(field) = count_by_index(&planner, q) {
        return Ok(Plan { access: Access::CountGroups { field }, estimated: table_rows });
    }
    let mut ordered = match (q.order_by.as_slice(), q.limit, q.grouped || q.distinct) {
        ([key], Some(limit), false) => match &key.expr {
            Ex::Col(path) => planner.indexed(path).filter(|f| planner.scalar(f)).map(|field| {
                // A single-range condition on the same field bounds the walk.
                let bounds = q.filter.as_ref().and_then(|f| {
                    conjuncts(f).into_iter().find_map(|c| match planner.candidates(c) {
                        Some(Candidates::Probe(p)) if p.field == field && p.ranges.len() == 1 => {
                            p.ranges.into_iter().next()
                        }
                        _ => None,
                    })
                });
                Plan {
                    access: Access::Ordered { field, need: q.offset + limit, key: key.clone(), bounds },
                    estimated: q.offset + limit,
                }
            }),
            _ => None,
        },
        _ => None,
    };
    // A walk whose bound is the whole filter reads only rows that match, in order, and stops at
    // the limit: no lookup can read fewer, so there is nothing to count.
    // (`bounds` is set only from a conjunct that is such a range, so one conjunct plus a bound is that.)
    if let Some(walk) = ordered.take_if(|o| {
        q.filter
            .as_ref()
            .is_none_or(|f| matches!(o.access, Access::Ordered { bounds: Some(_), .. }) && conjuncts(f).len() == 1)
    }) {
        return Ok(walk);
    }
    // With an ordered walk available, a lookup only wins when it is small: count no further.
    let cap = if ordered.is_some() { SMALL_LOOKUP + 1 } else { ESTIMATE_CAP.min((table_rows / 4) as usize + 1) };
    let lookup = match q.filter.as_ref().and_then(|f| planner.candidates(f)) {
        Some(c) => {
            let (c, n) = prune(store, c, cap)?;
            // Reading more than a quarter of the table by id costs more than a scan.
            if (n as u64).saturating_mul(4) > table_rows && table_rows > 256 || n > SMALL_LOOKUP && ordered.is_some() {
                None
            } else {
                Some(Plan { access: Access::Lookup(c), estimated: n as u64 })
            }
        }
        None => None,
    };
    Ok(match (lookup, ordered) {
        // A small lookup plus a sort beats walking an index that the filter may reject row after row.
        (Some(l), Some(o)) => {
            if l.estimated <= SMALL_LOOKUP as u64 {
                l
            } else {
                o
            }
        }
        (Some(l), None) => l,
        (None, Some(o)) => o,
        (None, None) => scan,
    })
}

/// Rows (as `decode` makes them) for an ordered index walk, already filtered, all ties of the
/// last needed value included.
#[allow(clippy::too_many_arguments)]
pub fn ordered_rows<S: Storage, T>(
    store: &S,
    tenant: &str,
    rec: &SchemaRecord,
    field: &str,
    key: &OrderKey,
    need: u64,
    bounds: Option<&KeyRange>,
    decode: &dyn Fn(&[u8]) -> Result<T>,
    keep: &dyn Fn(&T) -> bool,
) -> Result<Vec<T>> {
    let prefix = index::field_prefix(tenant, &rec.name, field);
    let nulls = (with(&prefix, &[TAG_NULL]), prefix_end(&with(&prefix, &[TAG_NULL])));
    let values = match bounds {
        Some(b) => b.clone(),
        None => (with(&prefix, &[TAG_FALSE]), prefix_end(&prefix)),
    };
    let mut passes: Vec<(KeyRange, bool)> = vec![(values, key.desc)];
    // A bounded walk comes from a comparison on the field, which NULL never satisfies.
    if bounds.is_none() {
        if key.nulls_first {
            passes.insert(0, (nulls, false));
        } else {
            passes.push((nulls, false));
        }
    }
    let mut out = Vec::new();
    let mut last_value: Option<Vec<u8>> = None;
    // Rows read that the filter rejected.
    let mut rejected = 0usize;
    for ((start, end), reverse) in passes {
        // Pages sized to what is still needed: an early stop fetches few rows.
        let mut page_size = (need.saturating_sub(out.len() as u64) + 8).clamp(16, 1024) as u32;
        let mut scan = PrefixScan::range(store, start, end).with_page(page_size);
        if reverse {
            scan = scan.reversed();
        }
        loop {
            let page = scan.next_page()?;
            if page.is_empty() {
                break;
            }
            let entries: Vec<(&[u8], [u8; 16])> = page
                .iter()
                .map(|(k, _)| {
                    let split = k.len() - 16;
                    (&k[prefix.len()..split], k[split..].try_into().expect("16 bytes"))
                })
                .collect();
            // Rows are fetched only for the entries that can still be needed: as many as rows are
            // missing (more once the filter has rejected rows), plus the ties of the last of them;
            // the walk stops at the first entry past the last needed value without fetching its row.
            let mut i = 0;
            while i < entries.len() {
                if out.len() as u64 >= need && last_value.as_deref() != Some(entries[i].0) {
                    return Ok(out);
                }
                let missing = need.saturating_sub(out.len() as u64).max(1) as usize;
                let mut j = (i + missing.max(rejected)).min(entries.len());
                while j < entries.len() && entries[j].0 == entries[j - 1].0 {
                    j += 1;
                }
                let row_keys: Vec<Vec<u8>> =
                    entries[i..j].iter().map(|(_, id)| crate::storage::keys::entity(tenant, &rec.name, id)).collect();
                for ((value, _), row) in entries[i..j].iter().zip(store.get_many(&row_keys)?) {
                    if out.len() as u64 >= need && last_value.as_deref() != Some(*value) {
                        return Ok(out);
                    }
                    let Some(bytes) = row else { continue };
                    let e = decode(&bytes)?;
                    if keep(&e) {
                        out.push(e);
                        last_value = Some(value.to_vec());
                    } else {
                        rejected += 1;
                    }
                }
                i = j;
            }
            // A filter rejecting rows makes the walk longer than planned: take bigger steps.
            if rejected > 0 && page_size < 1024 {
                page_size = (page_size * 2).min(1024);
                scan.set_page(page_size);
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sqlparser::ast::Statement;

    use super::*;
    use crate::storage::store::MemoryStore;
    use crate::{Database, sql::compile};

    /// A table of 400 people: `role` indexed (4 values), `age` indexed (0..99), `team` not.
    fn people(store: &MemoryStore) -> Database<&MemoryStore> {
        let db = Database::new(store, "t").unwrap();
        let doc = json!({"type": "object", "key_field": "name", "indexed_fields": ["role", "age"], "properties": {
            "name": {"type": "string"}, "age": {"type": "integer"}, "role": {"type": "string"},
            "team": {"type": "string"}}});
        db.register_schema("person", &doc.to_string()).unwrap();
        let rows: Vec<String> = (0..400)
            .map(|i| {
                let role = if i == 7 { "founder" } else { ["eng", "ops", "pm"][i % 3] };
                json!({"name": format!("p{i}"), "age": i % 100, "role": role, "team": format!("t{}", i % 5)})
                    .to_string()
            })
            .collect();
        db.insert_batch("person", &rows).unwrap();
        db
    }

    fn plan(db: &Database<&MemoryStore>, sql: &str) -> Plan {
        let statements = crate::sql::parsed::parse(sql).unwrap();
        let Statement::Query(query) = &statements[0] else { panic!("{sql}") };
        let (select, _) = compile::source_table(query).unwrap();
        let schema = db.require_table("person").unwrap();
        let q = compile::compile_select(query, select, &schema).unwrap();
        choose(db.store(), "t", &schema.record, &q, 400).unwrap()
    }

    #[test]
    fn a_selective_indexed_filter_is_an_index_lookup() {
        let store = MemoryStore::new();
        let db = people(&store);
        let p = plan(&db, "SELECT * FROM person WHERE role = 'founder'");
        assert!(matches!(&p.access, Access::Lookup(Candidates::Probe(pr)) if pr.field == "role"), "{p:?}");
        assert_eq!(p.estimated, 1);
    }

    #[test]
    fn no_filter_an_unindexed_filter_or_deleted_rows_mean_a_scan() {
        let store = MemoryStore::new();
        let db = people(&store);
        for sql in [
            "SELECT * FROM person",
            "SELECT * FROM person WHERE team = 't1'",
            "SELECT * FROM person WHERE role = 'founder' AND deleted_at IS NULL OR deleted_at IS NOT NULL",
        ] {
            assert!(matches!(plan(&db, sql).access, Access::Scan), "{sql}");
        }
    }

    #[test]
    fn an_unselective_filter_is_cheaper_as_a_scan() {
        let store = MemoryStore::new();
        let db = people(&store);
        // Two roles of three: two thirds of the table.
        let p = plan(&db, "SELECT * FROM person WHERE role IN ('eng', 'ops')");
        assert!(matches!(p.access, Access::Scan), "{p:?}");
    }

    #[test]
    fn order_by_an_indexed_field_with_a_limit_walks_the_index() {
        let store = MemoryStore::new();
        let db = people(&store);
        let p = plan(&db, "SELECT name FROM person ORDER BY age DESC LIMIT 5 OFFSET 2");
        assert!(matches!(&p.access, Access::Ordered { field, need: 7, .. } if field == "age"), "{p:?}");
        let p = plan(&db, "SELECT name FROM person WHERE age >= 90 ORDER BY age LIMIT 5");
        assert!(matches!(&p.access, Access::Ordered { bounds: Some(_), .. }), "{p:?}");
    }

    #[test]
    fn counting_groups_of_an_indexed_field_reads_the_index_only() {
        let store = MemoryStore::new();
        let db = people(&store);
        let p = plan(&db, "SELECT role, COUNT(*) FROM person GROUP BY role");
        assert!(matches!(&p.access, Access::CountGroups { field } if field == "role"), "{p:?}");
    }
}
