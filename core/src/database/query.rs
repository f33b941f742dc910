//! The WIT `query` group: REM SQL statements run against one tenant (`SELECT` through the
//! planner and `sql::exec`, and the REM statements `LOOKUP`, `SEARCH` and `TRAVERSE`).

use serde_json::Value;

use super::Database;
use super::relational::{self, Env};
use crate::error::{Error, Result};
use crate::sql::exec::{Exec, index_fields};
use crate::sql::ir::{CmpOp, Ex, Projection};
use crate::sql::out::{self, Out};
use crate::sql::{compile, covering, first_word, params, plan, statements};
use crate::storage::store::Storage;

impl<S: Storage> Database<S> {
    /// Run one REM SQL statement; returns a JSON array of row objects.
    /// Errors: `InvalidQuery` (with line/column for syntax errors), `SchemaNotFound`,
    /// `Unsupported` (naming the construct), `Storage`.
    pub fn query(&self, sql: &str) -> Result<String> {
        out::to_json(&self.rows(sql)?)
    }

    /// [`Database::query`] with `params` (JSON text: a list for `?`/`?N`/`$N`, an object for
    /// `:name`/`$name`) bound as literals first (see [`params::bind`]).
    /// Errors: as `query`, plus `InvalidArgument` (params that are not JSON, missing, unused or unbindable).
    pub fn query_with_params(&self, sql: &str, params: &str) -> Result<String> {
        self.query(&params::bind(sql, &Self::parse_params(params)?)?)
    }

    /// Query parameters (JSON text) as a value. Errors: `InvalidArgument` (not JSON).
    pub(super) fn parse_params(params: &str) -> Result<Value> {
        crate::json::parse::parse(params).map_err(|e| match e {
            crate::json::parse::ReadError::Syntax(e) => {
                Error::InvalidArgument(format!("params are not valid JSON: {e}"))
            }
            big => Error::InvalidArgument(format!("params: {big}")),
        })
    }

    /// One page of a `SELECT`'s rows in id order, for reading a large result a page at a time
    /// (keyset pagination: each page starts after the last id of the one before, so a page
    /// costs what its rows cost, and memory stays bounded). `after` is the `next` of the page
    /// before (`None` for the first), `limit` the page size (1 to 100,000). Returns JSON
    /// `{"rows": [...], "next": "<id>" | null}`; `next` is null on the last page.
    ///
    /// Errors: as [`Database::query`]; `Unsupported` for a statement that is not a plain
    /// `SELECT` of one table (`ORDER BY`, `GROUP BY`, aggregates, `DISTINCT`, `LIMIT`,
    /// `OFFSET`, `LOOKUP`, `SEARCH`, `TRAVERSE`: run those with `query`); `InvalidArgument`
    /// (`after` not an id, `limit` out of range).
    pub fn query_page(&self, sql: &str, params: Option<&str>, after: Option<&str>, limit: u32) -> Result<String> {
        if let Some(p) = params {
            let bound = params::bind(sql, &Self::parse_params(p)?)?;
            return self.query_page(&bound, None, after, limit);
        }
        if !(1..=100_000).contains(&limit) {
            return Err(Error::InvalidArgument(format!("a page holds 1 to 100000 rows, got {limit}")));
        }
        let after = after.map(crate::model::ids::parse_id).transpose()?;
        let refuse = |what: &str| {
            Err(Error::Unsupported(format!(
                "reading a query page by page needs a plain SELECT of one table, in id order; {what} is not \
                 supported there: run the statement with query"
            )))
        };
        let word = first_word(sql);
        if matches!(word.as_str(), "LOOKUP" | "SEARCH" | "TRAVERSE" | "EXPLAIN") {
            return refuse(&word);
        }
        let statements = self.parsed.parse(sql)?;
        let query = single_query(&statements)?;
        let (select, table) = compile::source_table(query)?;
        let schema = match self.source_schema(sql, &table) {
            Err(Error::SchemaNotFound(_)) if table.eq_ignore_ascii_case("kv") => return refuse("the kv form"),
            found => found?,
        };
        let mut q = compile::compile_select(query, select, &schema)?;
        for (on, what) in [
            (!q.order_by.is_empty(), "ORDER BY"),
            (q.grouped, "GROUP BY or an aggregate"),
            (q.distinct, "DISTINCT"),
            (q.limit.is_some() || q.offset > 0, "LIMIT or OFFSET"),
        ] {
            if on {
                return refuse(what);
            }
        }
        if let Some(after) = after {
            let bound = Ex::Cmp(
                Box::new(Ex::Col(vec!["id".into()])),
                CmpOp::Gt,
                Box::new(Ex::Lit(Value::String(after.to_string()))),
            );
            q.filter = Some(match q.filter.take() {
                Some(f) => Ex::And(Box::new(bound), Box::new(f)),
                None => bound,
            });
        }
        q.limit = Some(u64::from(limit));
        // The cursor: each row's id, as a hidden last column when the projection has no `*`.
        const CURSOR: &str = "\u{0}cursor";
        if let Projection::Items(items) = &mut q.projection {
            items.push((CURSOR.into(), Ex::Col(vec!["id".into()])));
        }
        let access = plan::choose(self.store(), self.tenant(), &schema.record, &q, self.live_count(&table)?)?;
        let (rows, _) = Exec { store: self.store(), tenant: self.tenant() }.execute(&q, &schema.record, &access)?;
        let mut values = rows.into_iter().map(Out::into_value).collect::<Result<Vec<Value>>>()?;
        let mut last = None;
        for v in &mut values {
            if let Value::Object(m) = v {
                last = match m.shift_remove(CURSOR) {
                    Some(id) => Some(id),
                    None => m.get("id").cloned(),
                };
            }
        }
        let next = if values.len() as u64 == u64::from(limit) { last.unwrap_or(Value::Null) } else { Value::Null };
        Ok(serde_json::json!({"rows": values, "next": next}).to_string())
    }

    /// The schema of the table a statement reads; a missing table whose name is a clause keyword
    /// written after FROM (`SELECT * FROM WHERE x = 1`: the table was left out) is an
    /// `InvalidQuery` saying so, at the keyword's line and column, not a missing table.
    fn source_schema(&self, sql: &str, table: &str) -> Result<std::rc::Rc<crate::model::schema::CompiledSchema>> {
        match self.require_table(table) {
            Err(Error::SchemaNotFound(m)) => {
                let word = table.to_ascii_uppercase();
                if !crate::sql::CLAUSES.contains(&word.as_str()) {
                    return Err(Error::SchemaNotFound(m));
                }
                Err(crate::sql::keyword_after_from(sql, &word))
            }
            other => other,
        }
    }

    /// [`Database::query`] returning the rows as values.
    pub fn query_rows(&self, sql: &str) -> Result<Vec<Value>> {
        self.rows(sql)?.into_iter().map(Out::into_value).collect()
    }

    /// Run one statement of any kind.
    fn rows(&self, sql: &str) -> Result<Vec<Out>> {
        let values = |v: Vec<Value>| v.into_iter().map(Out::Value).collect();
        match first_word(sql).as_str() {
            "LOOKUP" => return self.lookup_keys(&statements::lookup(sql)?).map(values),
            "SEARCH" => {
                let s = statements::search(sql)?;
                return self.search(&s.table, s.query, &s.options).map(values);
            }
            "TRAVERSE" => {
                let t = statements::traverse(sql)?;
                let out = self.traverse(&t.start, &t.options)?;
                return match serde_json::from_str(&out).map_err(|e| Error::Internal(e.to_string()))? {
                    Value::Array(rows) => Ok(values(rows)),
                    _ => Err(Error::Internal("traverse returned no array".into())),
                };
            }
            "EXPLAIN" => return self.select(explained(sql), true),
            _ => {}
        }
        self.select(sql, false)
    }

    /// Check one statement without reading any row: parse it, resolve its table and compile it
    /// as [`Database::query`] would. Returns JSON `{"statement": "select" | "lookup" | "search" |
    /// "traverse" | "explain", "tables": [...], "read_only": true}` (every statement REM SQL runs
    /// today reads). Errors: the error `query` would return for the same text.
    pub fn prepare(&self, sql: &str) -> Result<String> {
        let (statement, tables) = match first_word(sql).as_str() {
            "LOOKUP" => {
                statements::lookup(sql)?;
                ("lookup", Vec::new())
            }
            "SEARCH" => {
                let s = statements::search(sql)?;
                self.check_search(&s.table, &s.options)?;
                ("search", vec![s.table])
            }
            "TRAVERSE" => {
                statements::traverse(sql)?;
                ("traverse", Vec::new())
            }
            "EXPLAIN" => ("explain", self.prepare_select(explained(sql))?),
            "DELETE" | "UPDATE" => {
                let (kind, select) = self.prepare_write(sql)?;
                (kind, self.prepare_select(&select)?)
            }
            _ => ("select", self.prepare_select(sql)?),
        };
        let read_only = !matches!(statement, "delete" | "update");
        Ok(serde_json::json!({"statement": statement, "tables": tables, "read_only": read_only}).to_string())
    }

    /// Compile a `SELECT` (or the kv form) without running it; its table.
    pub(super) fn prepare_select(&self, sql: &str) -> Result<Vec<String>> {
        let statements = self.parsed.parse(sql)?;
        let query = single_query(&statements)?;
        self.prepare_query(query, Some(sql))
    }

    /// [`Database::prepare_select`] for a parsed query: the stored tables it reads. A query over
    /// several sources has its tables checked, not compiled (its `WITH` tables would have to be
    /// read first); subqueries are checked the same way and stand for no rows.
    fn prepare_query(&self, query: &sqlparser::ast::Query, text: Option<&str>) -> Result<Vec<String>> {
        if relational::is_relational(query, &Env::default()) {
            let tables = relational::tables(query);
            for t in &tables {
                self.require_table(t)?;
            }
            return Ok(tables);
        }
        let (select, table) = compile::source_table(query)?;
        let written = text.map_or_else(|| query.to_string(), str::to_string);
        let inner = std::cell::RefCell::new(Vec::new());
        match self.source_schema(&written, &table) {
            Err(Error::SchemaNotFound(_)) if table.eq_ignore_ascii_case("kv") => {
                statements::kv_keys(select)?;
            }
            found => {
                let check = |q: &sqlparser::ast::Query| {
                    inner.borrow_mut().extend(self.prepare_query(q, None)?);
                    Ok(Vec::new())
                };
                compile::compile_select_with(query, select, &*found?, &check)?;
            }
        }
        let mut tables = vec![table];
        for t in inner.into_inner() {
            if !tables.contains(&t) {
                tables.push(t);
            }
        }
        Ok(tables)
    }

    /// Parse, plan and run a `SELECT` (or the kv form); with `explain`, return the plan instead of the rows.
    fn select(&self, sql: &str, explain: bool) -> Result<Vec<Out>> {
        let statements = self.parsed.parse(sql)?;
        let query = single_query(&statements)?;
        self.select_query(query, explain, &Env::default(), Some(sql))
    }

    /// Plan and run a parsed query, with the `WITH` tables of `env` in scope: one stored table
    /// through the planner, anything else (joins, `WITH`, derived tables, `UNION`) through
    /// [`super::relational`]. Subqueries in expressions run once, first. `text` is the statement
    /// as written, when it is one (for error positions).
    pub(super) fn select_query(
        &self,
        query: &sqlparser::ast::Query,
        explain: bool,
        env: &Env,
        text: Option<&str>,
    ) -> Result<Vec<Out>> {
        if relational::is_relational(query, env) {
            return self.relational(query, explain, env);
        }
        let (select, table) = compile::source_table(query)?;
        // `kv` is the natural-key index, unless the tenant registered a table of that name.
        let written = text.map_or_else(|| query.to_string(), str::to_string);
        let schema = match self.source_schema(&written, &table) {
            Err(Error::SchemaNotFound(_)) if table.eq_ignore_ascii_case("kv") => {
                if explain {
                    return Ok(vec![Out::Value(
                        serde_json::json!({"table": "kv", "access": "natural-key index lookup"}),
                    )]);
                }
                return Ok(self.lookup_keys(&statements::kv_keys(select)?)?.into_iter().map(Out::Value).collect());
            }
            found => found?,
        };
        let run = |q: &sqlparser::ast::Query| self.query_values(q, env);
        let q = compile::compile_select_with(query, select, &schema, &run)?;
        // The live count is read only by the planner and EXPLAIN, not by a covered lookup.
        let mut table_rows = None;
        let covered = covering::covered(self.tenant(), &schema.record, &q);
        let copies = match &covered {
            Some(c) => covering::rows(self.store(), c)?,
            None => None,
        };
        let (access, (rows, read)) = match (covered, copies) {
            (Some(c), Some(copies)) => {
                let read = copies.len() as u64;
                let limit = q.limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
                let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
                let rows = copies.into_iter().skip(offset).take(limit).map(Out::Text).collect();
                (plan::Plan { access: plan::Access::Covered(c), estimated: read }, (rows, read))
            }
            _ => {
                let n = *table_rows.insert(self.live_count(&table)?);
                let access = plan::choose(self.store(), self.tenant(), &schema.record, &q, n)?;
                let done = Exec { store: self.store(), tenant: self.tenant() }.execute(&q, &schema.record, &access)?;
                (access, done)
            }
        };
        if explain {
            let index = match &access.access {
                plan::Access::Scan => Value::Null,
                plan::Access::Lookup(c) => Value::String(index_fields(c).join(", ")),
                plan::Access::Ordered { field, .. } | plan::Access::CountGroups { field } => {
                    Value::String(field.clone())
                }
                plan::Access::Covered(c) => Value::String(c.field.clone()),
            };
            return Ok(vec![Out::Value(serde_json::json!({
                "table": table,
                "plan": access.describe(&table),
                "index": index,
                "table_rows": match table_rows {
                    Some(n) => n,
                    None => self.live_count(&table)?,
                },
                "estimated_rows": access.estimated,
                "rows_read": read,
                "rows_returned": rows.len(),
            }))]);
        }
        Ok(rows)
    }

    fn lookup_keys(&self, keys: &[String]) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        for k in keys {
            for e in self.lookup(k)? {
                out.push(serde_json::from_str(&e).map_err(|e| Error::Storage(e.to_string()))?);
            }
        }
        Ok(out)
    }
}

/// The statement after `EXPLAIN` (and an optional `ANALYZE`).
fn explained(sql: &str) -> &str {
    let rest = sql.trim_start()[7..].trim_start();
    rest.strip_prefix("ANALYZE").or_else(|| rest.strip_prefix("analyze")).unwrap_or(rest)
}

/// The one query of `statements`. Errors: `InvalidQuery` (none), `Unsupported` (several, or a
/// statement REM SQL does not run, named with what to use instead).
fn single_query(statements: &[sqlparser::ast::Statement]) -> Result<&sqlparser::ast::Query> {
    let stmt = match statements {
        [one] => one,
        [] => return Err(Error::query("empty query")),
        _ => {
            return Err(Error::Unsupported("several statements in one query are not supported; send one".into()));
        }
    };
    match stmt {
        sqlparser::ast::Statement::Query(q) => Ok(q),
        sqlparser::ast::Statement::Insert(_) => {
            Err(Error::Unsupported("INSERT in SQL is not supported: write with insert or insert_batch".into()))
        }
        sqlparser::ast::Statement::Update(_) | sqlparser::ast::Statement::Delete(_) => Err(Error::Unsupported(
            "UPDATE and DELETE write, and query runs reads only: run them with execute (`rem query --write`, \
             Python db.execute(sql) or db.query(sql, read_only=False))"
                .into(),
        )),
        other => {
            let word = other.to_string().split_whitespace().next().unwrap_or("this statement").to_ascii_uppercase();
            Err(Error::Unsupported(format!(
                "{word} statements are not supported: REM SQL runs SELECT, LOOKUP, SEARCH and TRAVERSE"
            )))
        }
    }
}
