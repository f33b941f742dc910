//! The WIT `query` group: REM SQL statements run against one tenant (`SELECT` through the
//! planner and `sql::exec`, and the REM statements `LOOKUP`, `SEARCH` and `TRAVERSE`).

use serde_json::Value;

use super::Database;
use crate::error::{Error, Result};
use crate::sql::exec::{Exec, index_fields};
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
        let params: Value = crate::json::parse::parse(params).map_err(|e| match e {
            crate::json::parse::ReadError::Syntax(e) => {
                Error::InvalidArgument(format!("params are not valid JSON: {e}"))
            }
            big => Error::InvalidArgument(format!("params: {big}")),
        })?;
        self.query(&params::bind(sql, &params)?)
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
            "EXPLAIN" => ("explain", vec![self.prepare_select(explained(sql))?]),
            _ => ("select", vec![self.prepare_select(sql)?]),
        };
        Ok(serde_json::json!({"statement": statement, "tables": tables, "read_only": true}).to_string())
    }

    /// Compile a `SELECT` (or the kv form) without running it; its table.
    fn prepare_select(&self, sql: &str) -> Result<String> {
        let statements = self.parsed.parse(sql)?;
        let query = single_query(&statements)?;
        let (select, table) = compile::source_table(query)?;
        match self.require_table(&table) {
            Err(Error::SchemaNotFound(_)) if table.eq_ignore_ascii_case("kv") => {
                statements::kv_keys(select)?;
            }
            found => {
                compile::compile_select(query, select, &*found?)?;
            }
        }
        Ok(table)
    }

    /// Parse, plan and run a `SELECT` (or the kv form); with `explain`, return the plan instead of the rows.
    fn select(&self, sql: &str, explain: bool) -> Result<Vec<Out>> {
        let statements = self.parsed.parse(sql)?;
        let query = single_query(&statements)?;
        let (select, table) = compile::source_table(query)?;
        // `kv` is the natural-key index, unless the tenant registered a table of that name.
        let schema = match self.require_table(&table) {
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
        let q = compile::compile_select(query, select, &schema)?;
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
        sqlparser::ast::Statement::Update(_) => {
            Err(Error::Unsupported("UPDATE in SQL is not supported: write with update".into()))
        }
        sqlparser::ast::Statement::Delete(_) => {
            Err(Error::Unsupported("DELETE in SQL is not supported: write with delete".into()))
        }
        other => {
            let word = other.to_string().split_whitespace().next().unwrap_or("this statement").to_ascii_uppercase();
            Err(Error::Unsupported(format!(
                "{word} statements are not supported: REM SQL runs SELECT, LOOKUP, SEARCH and TRAVERSE"
            )))
        }
    }
}
