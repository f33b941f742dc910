//! Queries over more than one table's rows: joins (`JOIN .. ON`, `LEFT JOIN .. ON`), `WITH`
//! tables, derived tables (`FROM (SELECT ..) AS d`) and `UNION [ALL]`.
//!
//! Each table is read once through the planner with the parts of the `WHERE` that concern it
//! alone (so its indexes apply), then the sources are joined left to right by a hash join on
//! the `ON` clause's equalities. When the rows already joined have few distinct keys, the next
//! table is read with `key IN (those keys)` added to its filter, so an indexed join key (or the
//! natural key) is probed instead of scanned. The joined rows are then filtered, grouped,
//! ordered and projected by the same code as one table's rows ([`exec::run_rows`]).

use std::collections::HashSet;
use std::rc::Rc;

use rustc_hash::{FxHashMap, FxHashSet};
use serde_json::{Map, Value};
use sqlparser::ast::{self, JoinConstraint, JoinOperator, SetExpr, SetOperator, SetQuantifier, TableFactor};

use super::Database;
use crate::error::{Error, Result};
use crate::model::entity::Entity;
use crate::model::schema::CompiledSchema;
use crate::sql::compile::{self, Source};
use crate::sql::eval::{Row, ValueSet, at_path, eval};
use crate::sql::exec::{self, Exec};
use crate::sql::ir::{CmpOp, Ex, Projection, Select};
use crate::sql::out::Out;
use crate::sql::plan;
use crate::storage::store::Storage;

/// Most distinct join keys sent to the next table as `key IN (...)`; with more, it is read whole.
const MAX_PROBE_KEYS: usize = 4096;

/// The `WITH` tables in scope: name and rows.
#[derive(Default, Clone)]
pub(super) struct Env {
    ctes: Vec<(String, Rc<Vec<Value>>)>,
}

impl Env {
    fn rows(&self, name: &str) -> Option<Rc<Vec<Value>>> {
        self.ctes.iter().rev().find(|(n, _)| n == name).map(|(_, r)| r.clone())
    }
}

/// Whether `query` reads anything but one stored table (joins, `WITH`, derived tables, set
/// operations, or a `WITH` table named in `FROM`).
pub(super) fn is_relational(query: &ast::Query, env: &Env) -> bool {
    if query.with.is_some() {
        return true;
    }
    let SetExpr::Select(select) = query.body.as_ref() else { return true };
    match select.from.as_slice() {
        [one] => {
            !one.joins.is_empty()
                || match &one.relation {
                    TableFactor::Table { name, args: None, .. } => env.rows(&plain_name(name)).is_some(),
                    _ => true,
                }
        }
        _ => select.from.len() > 1,
    }
}

/// The stored tables `query` names in `FROM` and `JOIN` (not its `WITH` tables), in order,
/// including those of its `WITH` tables, derived tables, `UNION` sides and subqueries.
pub(super) fn tables(query: &ast::Query) -> Vec<String> {
    let mut ctes = Vec::new();
    let mut out = Vec::new();
    if let Some(with) = &query.with {
        for cte in &with.cte_tables {
            for t in tables(&cte.query) {
                if !out.contains(&t) && !ctes.contains(&t) {
                    out.push(t);
                }
            }
            ctes.push(cte.alias.name.value.clone());
        }
    }
    let add = |t: String, out: &mut Vec<String>| {
        if !out.contains(&t) && !ctes.contains(&t) {
            out.push(t);
        }
    };
    let mut bodies = vec![query.body.as_ref()];
    while let Some(body) = bodies.pop() {
        match body {
            SetExpr::Select(s) => {
                for from in &s.from {
                    for factor in std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation)) {
                        match factor {
                            TableFactor::Table { name, args: None, .. } => add(plain_name(name), &mut out),
                            TableFactor::Derived { subquery, .. } => {
                                for t in tables(subquery) {
                                    add(t, &mut out);
                                }
                            }
                            _ => {}
                        }
                    }
                }
            }
            SetExpr::SetOperation { left, right, .. } => {
                bodies.push(right);
                bodies.push(left);
            }
            SetExpr::Query(q) => {
                for t in tables(q) {
                    add(t, &mut out);
                }
            }
            _ => {}
        }
    }
    // Tables read by subqueries in expressions (`IN (SELECT ..)`, `EXISTS (..)`, `(SELECT ..)`).
    let _ = ast::visit_expressions(query, |e: &ast::Expr| {
        if let ast::Expr::Subquery(q)
        | ast::Expr::InSubquery { subquery: q, .. }
        | ast::Expr::Exists { subquery: q, .. } = e
        {
            for t in tables(q) {
                add(t, &mut out);
            }
        }
        std::ops::ControlFlow::<()>::Continue(())
    });
    out
}

/// A one-part name as written, without its quotes.
fn plain_name(name: &ast::ObjectName) -> String {
    match name.0.as_slice() {
        [ast::ObjectNamePart::Identifier(i)] => i.value.clone(),
        _ => name.to_string(),
    }
}

fn unsupported(what: &str) -> Error {
    Error::Unsupported(format!("{what} is not supported by REM SQL yet"))
}

/// One source's rows before joining.
enum Rows {
    /// A stored table: read through the planner.
    Table(Rc<CompiledSchema>),
    /// Rows already computed (a `WITH` table, a derived table).
    Values(Rc<Vec<Value>>),
}

/// A source in `FROM`, with how it joins the ones before it.
struct From {
    alias: String,
    rows: Rows,
    /// `None` for the first source; else (left join, the `ON` condition).
    join: Option<(bool, ast::Expr)>,
    /// Whether soft-deleted rows are read too (the `WHERE` or an `ON` tests `alias.deleted_at`,
    /// as a one-table query whose `WHERE` tests `deleted_at` reads them).
    with_deleted: bool,
}

/// An entity as one source's object in a joined row: its properties (already only the wanted
/// ones), then the system fields in `wanted` (all without it).
fn entity_object(e: Entity, wanted: Option<&HashSet<String>>) -> Value {
    // A query names a few columns: compared in turn rather than hashed.
    let want = |f: &str| wanted.is_none_or(|w| w.iter().any(|k| k == f));
    let mut m = e.properties;
    let mut system = |name: &str, v: Value| {
        if want(name) {
            m.insert(name.to_string(), v);
        }
    };
    system("id", Value::String(e.id));
    system("entity_type", Value::String(e.entity_type));
    system("created_at", Value::String(e.created_at));
    system("modified_at", Value::String(e.modified_at));
    system("deleted_at", e.deleted_at.map_or(Value::Null, Value::String));
    Value::Object(m)
}

/// A joined row as an entity whose properties hold one object per source.
fn combined(properties: Map<String, Value>) -> Entity {
    Entity { properties, ..Entity::default() }
}

/// The `AND`ed parts of `ex`.
fn conjuncts(ex: Ex, out: &mut Vec<Ex>) {
    match ex {
        Ex::And(a, b) => {
            conjuncts(*a, out);
            conjuncts(*b, out);
        }
        other => out.push(other),
    }
}

/// The source aliases an expression reads (first segments of its columns).
fn aliases(ex: &Ex, out: &mut HashSet<String>) {
    match ex {
        Ex::Col(p) => {
            out.insert(p[0].clone());
        }
        other => other.children().into_iter().for_each(|c| aliases(c, out)),
    }
}

fn reads_only(ex: &Ex, alias: &str) -> bool {
    let mut seen = HashSet::new();
    aliases(ex, &mut seen);
    seen.len() == 1 && seen.contains(alias)
}

/// `ex` with the leading alias taken off its columns (for one table's own filter).
fn unqualified(ex: &Ex) -> Ex {
    match ex {
        Ex::Col(p) => Ex::Col(p[1..].to_vec()),
        other => map_children(other, unqualified),
    }
}

/// `ex` rebuilt with `f` applied to each child.
fn map_children(ex: &Ex, f: fn(&Ex) -> Ex) -> Ex {
    let b = |x: &Ex| Box::new(f(x));
    match ex {
        Ex::Col(_) | Ex::Lit(_) | Ex::Agg(_) => ex.clone(),
        Ex::Cmp(a, op, c) => Ex::Cmp(b(a), *op, b(c)),
        Ex::And(a, c) => Ex::And(b(a), b(c)),
        Ex::Or(a, c) => Ex::Or(b(a), b(c)),
        Ex::Not(a) => Ex::Not(b(a)),
        Ex::InList(a, l, n, set) => Ex::InList(b(a), l.iter().map(f).collect(), *n, set.clone()),
        Ex::Between(a, lo, hi, n) => Ex::Between(b(a), b(lo), b(hi), *n),
        Ex::Like(a, p, e, n, ci) => Ex::Like(b(a), b(p), *e, *n, *ci),
        Ex::LikeLit(a, p, n, ci) => Ex::LikeLit(b(a), p.clone(), *n, *ci),
        Ex::IsNull(a, n) => Ex::IsNull(b(a), *n),
        Ex::Lower(a) => Ex::Lower(b(a)),
        Ex::Upper(a) => Ex::Upper(b(a)),
        Ex::Any(a, op, c) => Ex::Any(b(a), *op, b(c)),
        Ex::Neg(a) => Ex::Neg(b(a)),
        Ex::Arith(a, op, c) => Ex::Arith(b(a), *op, b(c)),
        Ex::Concat(a, c) => Ex::Concat(b(a), b(c)),
        Ex::Call(func, args) => Ex::Call(*func, args.iter().map(f).collect()),
        Ex::Cast(a, to) => Ex::Cast(b(a), *to),
        Ex::Shift(a, iv) => Ex::Shift(b(a), *iv),
        Ex::Case(o, w, e) => {
            Ex::Case(o.as_deref().map(b), w.iter().map(|(x, y)| (f(x), f(y))).collect(), e.as_deref().map(b))
        }
    }
}

/// A join key's value as a hash key, borrowed: numbers by value (`1` and `1.0` alike),
/// strings and booleans as themselves; `None` for NULL (which joins nothing), arrays and objects.
#[derive(Hash, PartialEq, Eq)]
enum Key<'a> {
    Int(i64),
    Float(u64),
    Str(&'a str),
    Bool(bool),
}

fn key_of(v: &Value) -> Option<Key<'_>> {
    match v {
        Value::Number(n) => {
            let f = n.as_f64()?;
            Some(match n.as_i64() {
                Some(i) => Key::Int(i),
                None if f.fract() == 0.0 && f.abs() < 9.2e18 => Key::Int(f as i64),
                None => Key::Float(f.to_bits()),
            })
        }
        Value::String(s) => Some(Key::Str(s)),
        Value::Bool(b) => Some(Key::Bool(*b)),
        _ => None,
    }
}

/// What the plan of a joined query looked like, for EXPLAIN.
#[derive(Default)]
struct Explain {
    steps: Vec<Value>,
}

impl<S: Storage> Database<S> {
    /// Run a query over several sources (see the module doc); with `explain`, its plan.
    pub(super) fn relational(&self, query: &ast::Query, explain: bool, env: &Env) -> Result<Vec<Out>> {
        let mut env = env.clone();
        if let Some(with) = &query.with {
            if with.recursive {
                return Err(unsupported("WITH RECURSIVE"));
            }
            for cte in &with.cte_tables {
                if !cte.alias.columns.is_empty() {
                    return Err(unsupported(
                        "column names after a WITH table's name (name them inside: SELECT x AS a)",
                    ));
                }
                let rows = self.query_values(&cte.query, &env)?;
                env.ctes.push((cte.alias.name.value.clone(), Rc::new(rows)));
            }
        }
        match query.body.as_ref() {
            SetExpr::Select(select) => self.select_sources(query, select, explain, &env),
            SetExpr::Query(inner) if query.order_by.is_none() && query.limit_clause.is_none() => {
                self.relational(inner, explain, &env)
            }
            SetExpr::SetOperation { .. } | SetExpr::Query(_) => {
                let rows = match query.body.as_ref() {
                    SetExpr::Query(inner) => self.query_values(inner, &env)?,
                    body => self.set_operation(body, &env)?,
                };
                // ORDER BY / LIMIT of a UNION apply to its rows, by output column.
                let mut outer = query.clone();
                outer.with = None;
                let wrapper = crate::sql::parsed::parse("SELECT * FROM __rem_union")?;
                let ast::Statement::Query(w) = &wrapper[0] else {
                    return Err(Error::Internal("the UNION wrapper is not a query".into()));
                };
                outer.body = w.body.clone();
                env.ctes.push(("__rem_union".into(), Rc::new(rows)));
                self.relational(&outer, explain, &env)
            }
            SetExpr::Values(_) => Err(unsupported("VALUES")),
            other => Err(unsupported(&format!("`{other}`"))),
        }
    }

    /// The rows of `body` (a `UNION` of selects): the right side's columns take the left side's
    /// names by position; `UNION` without `ALL` drops repeated rows.
    fn set_operation(&self, body: &SetExpr, env: &Env) -> Result<Vec<Value>> {
        match body {
            SetExpr::SetOperation { left, op, set_quantifier, right } => {
                if *op != SetOperator::Union {
                    return Err(unsupported(&format!("{op} of queries")));
                }
                let mut rows = self.set_operation(left, env)?;
                let more = self.set_operation(right, env)?;
                // The right side's columns take the left side's names by position when both
                // list their columns (rows of `*` keep their own names: their order varies).
                let listed = |side: &SetExpr| match side {
                    SetExpr::Select(s) => !s
                        .projection
                        .iter()
                        .any(|i| matches!(i, ast::SelectItem::Wildcard(_) | ast::SelectItem::QualifiedWildcard(..))),
                    _ => false,
                };
                let names: Option<Vec<String>> = match listed(left) && listed(right) {
                    true => rows.first().and_then(Value::as_object).map(|m| m.keys().cloned().collect()),
                    false => None,
                };
                for row in more {
                    rows.push(match (&names, row) {
                        (Some(names), Value::Object(m)) => {
                            if m.len() != names.len() {
                                return Err(Error::query(format!(
                                    "each UNION query must have the same number of columns ({} and {})",
                                    names.len(),
                                    m.len()
                                )));
                            }
                            Value::Object(names.iter().cloned().zip(m.into_iter().map(|(_, v)| v)).collect())
                        }
                        (_, row) => row,
                    });
                }
                if !matches!(set_quantifier, SetQuantifier::All) {
                    let mut seen = HashSet::new();
                    rows.retain(|r| seen.insert(r.to_string()));
                }
                Ok(rows)
            }
            SetExpr::Select(_) | SetExpr::Query(_) => {
                let q = match body {
                    SetExpr::Query(q) => (**q).clone(),
                    _ => {
                        let text = format!("{body}");
                        let parsed = crate::sql::parsed::parse(&text)?;
                        let ast::Statement::Query(q) = &parsed[0] else {
                            return Err(Error::Internal("a UNION side is not a query".into()));
                        };
                        (**q).clone()
                    }
                };
                self.query_values(&q, env)
            }
            other => Err(unsupported(&format!("`{other}` in a UNION"))),
        }
    }

    /// Run `query` (with the `WITH` tables in `env`): its rows as values.
    pub(super) fn query_values(&self, query: &ast::Query, env: &Env) -> Result<Vec<Value>> {
        self.select_query(query, false, env, None)?.into_iter().map(Out::into_value).collect()
    }

    /// The sources of a `SELECT`'s `FROM`, in order, with their joins.
    fn sources(&self, select: &ast::Select, env: &Env) -> Result<Vec<From>> {
        let [from] = select.from.as_slice() else {
            return Err(unsupported("several tables separated by commas (write JOIN ... ON)"));
        };
        let mut out = vec![self.source(&from.relation, None, env)?];
        for j in &from.joins {
            let (left, on) = match &j.join_operator {
                JoinOperator::Join(c) | JoinOperator::Inner(c) => (false, c),
                JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => (true, c),
                other => {
                    let word = format!("{other:?}");
                    let word = word.split('(').next().unwrap_or("this join").to_ascii_uppercase();
                    return Err(unsupported(&format!("{word} JOIN (REM SQL joins with JOIN and LEFT JOIN ... ON)")));
                }
            };
            let on = match on {
                JoinConstraint::On(e) => e.clone(),
                JoinConstraint::Using(_) | JoinConstraint::Natural => {
                    return Err(unsupported("JOIN ... USING and NATURAL JOIN (write ON a.x = b.y)"));
                }
                JoinConstraint::None => return Err(Error::query("a JOIN needs ON <condition>")),
            };
            out.push(self.source(&j.relation, Some((left, on)), env)?);
        }
        let mut names = HashSet::new();
        for s in &out {
            if !names.insert(s.alias.clone()) {
                return Err(Error::query(format!(
                    "table name '{}' specified more than once: give each an alias (FROM t a JOIN t b ON ...)",
                    s.alias
                )));
            }
        }
        Ok(out)
    }

    fn source(&self, factor: &TableFactor, join: Option<(bool, ast::Expr)>, env: &Env) -> Result<From> {
        match factor {
            TableFactor::Table { name, alias, args: None, .. } => {
                let table = plain_name(name);
                let alias = alias.as_ref().map_or(table.clone(), |a| a.name.value.clone());
                let rows = match env.rows(&table) {
                    Some(rows) => Rows::Values(rows),
                    None => Rows::Table(self.require_table(&table)?),
                };
                Ok(From { alias, rows, join, with_deleted: false })
            }
            TableFactor::Table { name, alias, args: Some(args), .. } => {
                let func = plain_name(name).to_ascii_uppercase();
                let alias = alias.as_ref().map_or(func.to_ascii_lowercase(), |a| a.name.value.clone());
                let rows = self.table_function(&func, &args.args)?;
                Ok(From { alias, rows: Rows::Values(Rc::new(rows)), join, with_deleted: false })
            }
            TableFactor::Derived { alias: Some(a), .. } if !a.columns.is_empty() => {
                Err(unsupported("column names after a derived table's alias (name them inside: SELECT x AS a)"))
            }
            TableFactor::Derived { subquery, alias, lateral: false, .. } => {
                let alias = alias
                    .as_ref()
                    .map(|a| a.name.value.clone())
                    .ok_or_else(|| Error::query("a subquery in FROM needs an alias: FROM (SELECT ...) AS d"))?;
                Ok(From {
                    alias,
                    rows: Rows::Values(Rc::new(self.query_values(subquery, env)?)),
                    join,
                    with_deleted: false,
                })
            }
            other => Err(unsupported(&format!("the table expression {other}"))),
        }
    }

    /// The rows of a table function in `FROM`: `TRAVERSE('start', depth [, 'out'|'in'|'both'
    /// [, 'rel_type']])` (rows `{id, depth, path}`, as the `TRAVERSE` statement) and
    /// `SEARCH('text', 'table' [, k])` (the table's entities with `_score`, best first, as the
    /// `SEARCH` statement). Errors: `InvalidQuery` for other functions or arguments, and those
    /// of the traversal or search.
    fn table_function(&self, func: &str, args: &[ast::FunctionArg]) -> Result<Vec<Value>> {
        let usage = "FROM TRAVERSE('<id or key>', <depth> [, 'out'|'in'|'both' [, '<rel_type>']]) AS t, or \
                     FROM SEARCH('<text>', '<table>' [, <k>]) AS s";
        let literal = |i: usize| -> Option<Value> {
            match args.get(i)? {
                ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(ast::Expr::Value(v))) => match &v.value {
                    ast::Value::SingleQuotedString(s) => Some(Value::String(s.clone())),
                    ast::Value::Number(n, _) => n.parse::<u64>().ok().map(Value::from),
                    _ => None,
                },
                _ => None,
            }
        };
        let text = |i: usize, what: &str| -> Result<String> {
            literal(i).and_then(|v| v.as_str().map(str::to_string)).ok_or_else(|| {
                Error::query(format!("{func}: argument {} ({what}) must be a quoted text; use {usage}", i + 1))
            })
        };
        let number = |i: usize, what: &str| -> Result<u32> {
            literal(i).and_then(|v| v.as_u64()).and_then(|n| u32::try_from(n).ok()).ok_or_else(|| {
                Error::query(format!("{func}: argument {} ({what}) must be a whole number; use {usage}", i + 1))
            })
        };
        match func {
            "TRAVERSE" => {
                if !(2..=4).contains(&args.len()) {
                    return Err(Error::query(format!("TRAVERSE takes 2 to 4 arguments; use {usage}")));
                }
                let direction = match args.len() > 2 {
                    true => text(2, "direction")?.parse()?,
                    false => crate::graph::Direction::Outgoing,
                };
                let options = crate::graph::TraverseOptions {
                    direction,
                    depth: number(1, "depth")?,
                    rel_types: if args.len() > 3 { vec![text(3, "relationship type")?] } else { Vec::new() },
                    dfs: false,
                    limit: crate::graph::DEFAULT_LIMIT,
                    include_deleted: false,
                };
                if options.depth == 0 || options.depth > crate::graph::MAX_DEPTH {
                    return Err(Error::query(format!("TRAVERSE depth must be 1 to 10, got {}", options.depth)));
                }
                match serde_json::from_str(&self.traverse(&text(0, "start")?, &options)?) {
                    Ok(Value::Array(rows)) => Ok(rows),
                    _ => Err(Error::Internal("traverse returned no array".into())),
                }
            }
            "SEARCH" => {
                if !(2..=3).contains(&args.len()) {
                    return Err(Error::query(format!("SEARCH takes 2 or 3 arguments; use {usage}")));
                }
                let mut options = crate::SearchOptions::default();
                if args.len() > 2 {
                    options.top_k = number(2, "k")?;
                }
                self.search(&text(1, "table")?, crate::SearchQuery::Text(text(0, "query text")?), &options)
            }
            other => Err(unsupported(&format!("the table function {other}() ({usage})"))),
        }
    }

    /// A `SELECT` over its sources (see the module doc).
    fn select_sources(&self, query: &ast::Query, select: &ast::Select, explain: bool, env: &Env) -> Result<Vec<Out>> {
        let mut from = self.sources(select, env)?;
        let sources: Vec<Source<'_>> = from
            .iter()
            .map(|f| Source {
                alias: f.alias.clone(),
                schema: match &f.rows {
                    Rows::Table(s) => Some(s.as_ref()),
                    Rows::Values(_) => None,
                },
                columns: match &f.rows {
                    Rows::Values(rows) if !rows.is_empty() => Some(members(rows)),
                    _ => None,
                },
            })
            .collect();
        let run = |q: &ast::Query| self.query_values(q, env);
        let mut plan = compile::compile_sources(query, select, &sources, &run)?;
        let on: Vec<Option<Ex>> = from
            .iter()
            .map(|f| f.join.as_ref().map(|(_, e)| compile::expr_over(e, &sources, &run)).transpose())
            .collect::<Result<_>>()?;
        // An ON may name only its own table and those joined before it.
        for (i, ex) in on.iter().enumerate() {
            let mut named = HashSet::new();
            ex.iter().for_each(|e| aliases(e, &mut named));
            if let Some(later) = from[i + 1..].iter().find(|f| named.contains(&f.alias)) {
                return Err(Error::query(format!(
                    "the ON of the join with '{}' names '{}', which is joined after it: \
                     move that condition to the later join's ON or to WHERE",
                    from[i].alias, later.alias
                )));
            }
        }
        // Soft-deleted rows of the tables whose `deleted_at` the WHERE or an ON tests.
        let mut tested = Vec::new();
        plan.filter.iter().chain(on.iter().flatten()).for_each(|e| columns(e, &mut tested));
        for f in from.iter_mut() {
            f.with_deleted = tested.iter().any(|p| p.len() == 2 && p[0] == f.alias && p[1] == "deleted_at");
        }
        // The WHERE's parts about one table alone go to that table's read (not into the
        // optional side of a LEFT JOIN, where they must see the NULL-extended rows).
        let mut parts = Vec::new();
        if let Some(f) = plan.filter.take() {
            conjuncts(f, &mut parts);
        }
        let mut pushed: Vec<Vec<Ex>> = vec![Vec::new(); from.len()];
        let mut rest = Vec::new();
        for part in parts {
            let target = from.iter().position(|f| reads_only(&part, &f.alias));
            match target {
                Some(i) if !from[i].join.as_ref().is_some_and(|(left, _)| *left) => pushed[i].push(part),
                _ => rest.push(part),
            }
        }
        plan.filter = rest.into_iter().reduce(|a, b| Ex::And(Box::new(a), Box::new(b)));
        // The properties each table must decode (all of them for `*` or `alias.*`).
        let mut wanted: Vec<Option<HashSet<String>>> = vec![Some(HashSet::new()); from.len()];
        let star = match &plan.projection {
            Projection::Members(m) => m.clone(),
            _ => Vec::new(),
        };
        {
            let mut exprs: Vec<&Ex> = Vec::new();
            if let Projection::Items(items) = &plan.projection {
                exprs.extend(items.iter().map(|(_, e)| e));
            }
            exprs.extend(plan.filter.iter().chain(&plan.group_by).chain(&plan.having));
            exprs.extend(plan.order_by.iter().map(|k| &k.expr));
            exprs.extend(plan.aggs.iter().map(|a| &a.arg));
            exprs.extend(on.iter().flatten());
            exprs.extend(pushed.iter().flatten());
            let mut cols = Vec::new();
            for e in exprs {
                columns(e, &mut cols);
            }
            for (i, f) in from.iter().enumerate() {
                if star.contains(&f.alias) {
                    wanted[i] = None;
                } else if let Some(w) = wanted[i].as_mut() {
                    w.extend(cols.iter().filter(|p| p[0] == f.alias && p.len() > 1).map(|p| p[1].clone()));
                }
            }
        }
        let mut explained = Explain::default();
        // The first source, then each join in turn.
        let first = self.read_source(&from[0], &pushed[0], wanted[0].as_ref(), None, &mut explained)?;
        let mut rows: Vec<Entity> = first
            .into_iter()
            .map(|obj| {
                let mut m = Map::new();
                m.insert(from[0].alias.clone(), obj);
                combined(m)
            })
            .collect();
        // The last join hands each joined row, borrowed, straight to the projection when the
        // query neither groups nor selects `*` (no joined row is then built to be kept).
        // (A grouped query keeps only each group's first row and its aggregates.)
        crate::sql::scalar::take_fault();
        let stream = !explain && from.len() > 1 && (plan.grouped || exec::streams(&plan));
        let mut streamed = Vec::new();
        let mut grouper = exec::Grouper::new(&plan);
        for (i, f) in from.iter().enumerate().skip(1) {
            let (left, _) = f.join.as_ref().ok_or_else(|| Error::Internal("a join without its condition".into()))?;
            let on = on[i].clone().ok_or_else(|| Error::Internal("a join without its condition".into()))?;
            let mut sink = |e: &Entity| match plan.grouped {
                true => grouper.add(e),
                false => streamed.extend(exec::row_out(&plan, e)),
            };
            let emit: Option<&mut dyn FnMut(&Entity)> =
                if stream && i + 1 == from.len() { Some(&mut sink) } else { None };
            rows = self.join(rows, f, *left, on, &pushed[i], wanted[i].as_ref(), emit, &mut explained)?;
        }
        if stream {
            return match plan.grouped {
                true => grouper.finish(),
                false => exec::finish_streamed(&plan, streamed),
            };
        }
        if explain {
            return Ok(vec![Out::Value(serde_json::json!({
                "plan": "join",
                "steps": explained.steps,
                "rows_joined": rows.len(),
            }))]);
        }
        exec::run_rows(&plan, rows)
    }

    /// Read one source's rows as objects, keeping those that pass `filter` (parts about it
    /// alone) and, when `probe` is given, whose `probe.0` column is one of `probe.1`.
    fn read_source(
        &self,
        f: &From,
        filter: &[Ex],
        wanted: Option<&HashSet<String>>,
        probe: Option<(&[String], Vec<Value>)>,
        explained: &mut Explain,
    ) -> Result<Vec<Value>> {
        // A table's own read takes its columns unqualified; rows already computed are tested
        // as `{alias: row}`, where `id` and the other system names are ordinary members.
        let table = matches!(f.rows, Rows::Table(_));
        let mut parts: Vec<Ex> = filter.iter().map(|e| if table { unqualified(e) } else { e.clone() }).collect();
        let probed = probe
            .as_ref()
            .map(|(path, keys)| format!("{} IN ({} keys of the rows joined so far)", path.join("."), keys.len()));
        if let Some((path, keys)) = probe {
            let items: Vec<Ex> = keys.into_iter().map(Ex::Lit).collect();
            let set = ValueSet::of(&items).map(Box::new);
            let mut column = if table { Vec::new() } else { vec![f.alias.clone()] };
            column.extend_from_slice(path);
            parts.push(Ex::InList(Box::new(Ex::Col(column)), items, false, set));
        }
        let filter = parts.into_iter().reduce(|a, b| Ex::And(Box::new(a), Box::new(b)));
        match &f.rows {
            Rows::Table(schema) => {
                let q = Select {
                    table: schema.record.name.clone(),
                    projection: Projection::Star,
                    filter,
                    include_deleted: f.with_deleted,
                    group_by: Vec::new(),
                    aggs: Vec::new(),
                    grouped: false,
                    having: None,
                    order_by: Vec::new(),
                    distinct: false,
                    limit: None,
                    offset: 0,
                };
                let n = self.live_count(&q.table)?;
                let access = plan::choose(self.store(), self.tenant(), &schema.record, &q, n)?;
                let rows = Exec { store: self.store(), tenant: self.tenant() }.entities(
                    &q,
                    &schema.record,
                    &access,
                    wanted,
                )?;
                explained.steps.push(serde_json::json!({
                    "table": q.table,
                    "alias": f.alias,
                    "plan": access.describe(&q.table),
                    "probe": probed,
                    "table_rows": n,
                    "rows": rows.len(),
                }));
                Ok(rows.into_iter().map(|e| entity_object(e, wanted)).collect())
            }
            Rows::Values(values) => {
                let keep = |v: &Value| match &filter {
                    None => true,
                    Some(test) => {
                        let e = combined(Map::from_iter([(f.alias.clone(), v.clone())]));
                        crate::sql::eval::truthy(&eval(test, &Row { entity: &e, aggs: &[] }))
                    }
                };
                let rows: Vec<Value> = values.iter().filter(|v| keep(v)).cloned().collect();
                explained.steps.push(serde_json::json!({"rows_of": f.alias, "rows": rows.len()}));
                Ok(rows)
            }
        }
    }

    /// Join `rows` with source `f` on `on` (hash join on its equalities between `f` and the
    /// sources before it; the rest of `on` checked on each pair). With `emit`, each joined row is
    /// handed to it, borrowed, and none is returned.
    #[allow(clippy::too_many_arguments)]
    fn join(
        &self,
        rows: Vec<Entity>,
        f: &From,
        left: bool,
        on: Ex,
        filter: &[Ex],
        wanted: Option<&HashSet<String>>,
        emit: Option<&mut dyn FnMut(&Entity)>,
        explained: &mut Explain,
    ) -> Result<Vec<Entity>> {
        let mut parts = Vec::new();
        conjuncts(on, &mut parts);
        // (expression over the rows so far, column of `f`) pairs; the other parts stay.
        let (mut keys, mut residual) = (Vec::new(), Vec::new());
        for part in parts {
            match part {
                Ex::Cmp(a, CmpOp::Eq, b) => {
                    let (a, b) = (*a, *b);
                    let side = |x: &Ex| {
                        let mut s = HashSet::new();
                        aliases(x, &mut s);
                        s
                    };
                    let (sa, sb) = (side(&a), side(&b));
                    let own = |s: &HashSet<String>| s.len() == 1 && s.contains(&f.alias);
                    let before = |s: &HashSet<String>| !s.is_empty() && !s.contains(&f.alias);
                    match (&b, &a) {
                        (Ex::Col(p), _) if own(&sb) && before(&sa) => keys.push((a.clone(), p.clone())),
                        (_, Ex::Col(p)) if own(&sa) && before(&sb) => keys.push((b.clone(), p.clone())),
                        _ => residual.push(Ex::Cmp(Box::new(a), CmpOp::Eq, Box::new(b))),
                    }
                }
                other => residual.push(other),
            }
        }
        if keys.is_empty() {
            return Err(unsupported(&format!(
                "a join whose ON has no equality between a column of '{}' and the tables before it",
                f.alias
            )));
        }
        let residual = residual.into_iter().reduce(|a, b| Ex::And(Box::new(a), Box::new(b)));
        // The key values of the rows so far (one list per key).
        // (Columns are borrowed from the rows; other expressions evaluated.)
        let row_keys: Vec<Vec<std::borrow::Cow<'_, Value>>> = rows
            .iter()
            .map(|e| {
                keys.iter()
                    .map(|(x, _)| match x {
                        Ex::Col(path) => crate::sql::eval::column_cow(e, path),
                        other => std::borrow::Cow::Owned(eval(other, &Row { entity: e, aggs: &[] })),
                    })
                    .collect()
            })
            .collect();
        let mut distinct: Vec<Value> = Vec::new();
        let mut seen = FxHashSet::default();
        for k in &row_keys {
            if let Some(text) = key_of(&k[0])
                && seen.insert(text)
            {
                distinct.push(k[0].clone().into_owned());
            }
        }
        let probe_path: Vec<String> = keys[0].1[1..].to_vec();
        let probe = (distinct.len() <= MAX_PROBE_KEYS).then_some((probe_path.as_slice(), distinct));
        let right = if rows.is_empty() { Vec::new() } else { self.read_source(f, filter, wanted, probe, explained)? };
        // Hash the new source's rows by their key columns: each distinct key is a group of rows.
        let mut table: FxHashMap<Vec<Key<'_>>, usize> = FxHashMap::default();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, r) in right.iter().enumerate() {
            let key: Option<Vec<Key<'_>>> = keys.iter().map(|(_, p)| at_path(r, &p[1..]).and_then(key_of)).collect();
            if let Some(key) = key {
                let g = *table.entry(key).or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
                groups[g].push(i);
            }
        }
        // Each row so far: the group of new rows it matches.
        let group_of: Vec<Option<usize>> = row_keys
            .iter()
            .map(|k| {
                let key: Option<Vec<Key<'_>>> = k.iter().map(|v| key_of(v)).collect();
                key.and_then(|key| table.get(&key).copied())
            })
            .collect();
        drop(table);
        drop(row_keys);
        let no_hits: Vec<usize> = Vec::new();
        let hits_of = group_of.iter().map(|g| g.map_or(&no_hits, |g| &groups[g]));
        let passes = |joined: &Entity| {
            residual.as_ref().is_none_or(|r| crate::sql::eval::truthy(&eval(r, &Row { entity: joined, aggs: &[] })))
        };
        if let Some(emit) = emit {
            // Each new row is swapped into the joined row for its turn and back out, so neither
            // side is copied.
            let mut right = right;
            let mut emitted = 0usize;
            for (mut e, hits) in rows.into_iter().zip(hits_of) {
                e.properties.insert(f.alias.clone(), Value::Null);
                let mut matched = false;
                for &i in hits {
                    let slot = e.properties.get_mut(&f.alias).ok_or_else(|| Error::Internal("joined slot".into()))?;
                    std::mem::swap(slot, &mut right[i]);
                    if passes(&e) {
                        emit(&e);
                        matched = true;
                        emitted += 1;
                    }
                    let slot = e.properties.get_mut(&f.alias).ok_or_else(|| Error::Internal("joined slot".into()))?;
                    std::mem::swap(slot, &mut right[i]);
                }
                if left && !matched {
                    emit(&e);
                    emitted += 1;
                }
            }
            explained.steps.push(serde_json::json!({
                "join": if left { "left" } else { "inner" },
                "with": f.alias,
                "method": "hash join",
                "rows": emitted,
            }));
            return Ok(Vec::new());
        }
        // Each row of the new source is moved into its last match and copied into the others.
        let mut uses = vec![0u32; right.len()];
        for &i in hits_of.clone().flatten() {
            uses[i] += 1;
        }
        let mut right: Vec<Option<Value>> = right.into_iter().map(Some).collect();
        let mut take = |i: usize| {
            uses[i] -= 1;
            let v = if uses[i] == 0 { right[i].take() } else { right[i].clone() };
            v.unwrap_or(Value::Null)
        };
        let mut out = Vec::with_capacity(rows.len());
        for (mut e, hits) in rows.into_iter().zip(hits_of) {
            let before = out.len();
            for (n, &i) in hits.iter().enumerate() {
                // The row itself goes with its last match; earlier matches take a copy.
                let mut joined = if n + 1 == hits.len() {
                    std::mem::replace(&mut e, combined(Map::new()))
                } else {
                    combined(e.properties.clone())
                };
                joined.properties.insert(f.alias.clone(), take(i));
                if passes(&joined) {
                    out.push(joined);
                } else if n + 1 == hits.len() {
                    // Keep the row for a LEFT JOIN's NULL-extended form.
                    joined.properties.shift_remove(&f.alias);
                    e = joined;
                }
            }
            if left && out.len() == before {
                e.properties.insert(f.alias.clone(), Value::Null);
                out.push(e);
            }
        }
        explained.steps.push(serde_json::json!({
            "join": if left { "left" } else { "inner" },
            "with": f.alias,
            "method": "hash join",
            "rows": out.len(),
        }));
        Ok(out)
    }
}

/// The members any of `rows` has.
fn members(rows: &[Value]) -> HashSet<String> {
    let mut out = HashSet::new();
    for row in rows {
        if let Value::Object(m) = row {
            for k in m.keys() {
                if !out.contains(k) {
                    out.insert(k.clone());
                }
            }
        }
    }
    out
}

/// Every column path `ex` reads.
fn columns(ex: &Ex, out: &mut Vec<Vec<String>>) {
    match ex {
        Ex::Col(p) => out.push(p.clone()),
        other => other.children().into_iter().for_each(|c| columns(c, out)),
    }
}
