//! REM SQL writes: `DELETE FROM t [WHERE ..] [HARD]` and `UPDATE t SET f = expr, .. [WHERE ..]`.
//!
//! Each finds its rows with the `SELECT` it stands for (`SELECT id, <expr> .. FROM t WHERE ..`,
//! so the planner's indexes apply and the expressions are REM SQL's), then writes them through
//! the same paths as `delete` and `update` (index entries, vectors, edges and counts kept in
//! step). A statement is one engine call, so the host runs it in one transaction: a failure on
//! any row (an `UPDATE` that a row's schema refuses) rolls back every row, and the engine's
//! caches are discarded so they cannot run ahead of the store.

use serde_json::{Map, Value};
use sqlparser::ast::{self, FromTable, ObjectNamePart, Statement, TableFactor};

use super::Database;
use crate::error::{Error, Result};
use crate::sql::compile::SYSTEM_FIELDS;
use crate::sql::params;
use crate::storage::store::Storage;

/// Prefix of the select-list names that carry an `UPDATE`'s new values.
const SET_PREFIX: &str = "__rem_set_";

/// A parsed write statement.
enum Write {
    /// The select that finds the rows; `hard` removes them for good.
    Delete { select: String, hard: bool },
    /// The select that finds the rows and computes the values; the assigned columns in order.
    Update { select: String, columns: Vec<String> },
}

fn unsupported(what: &str) -> Error {
    Error::Unsupported(format!("{what} is not supported by REM SQL yet"))
}

/// The one plain table of a `FROM` (or `UPDATE`) clause, as written (quotes kept, for the select).
fn table_of(t: &ast::TableWithJoins) -> Result<String> {
    if !t.joins.is_empty() {
        return Err(unsupported("a join in DELETE or UPDATE"));
    }
    match &t.relation {
        TableFactor::Table { name, args: None, alias: None, .. } if name.0.len() == 1 => Ok(name.to_string()),
        TableFactor::Table { alias: Some(_), .. } => Err(unsupported("a table alias in DELETE or UPDATE")),
        other => Err(Error::query(format!("DELETE and UPDATE take one table name, got {other}"))),
    }
}

/// `statement` as a [`Write`]. `hard` is the trailing `HARD` REM reads after a `DELETE`.
fn plan_write(statement: &Statement, hard: bool) -> Result<Write> {
    let filter = |selection: &Option<ast::Expr>| selection.as_ref().map(|w| format!(" WHERE {w}")).unwrap_or_default();
    match statement {
        Statement::Delete(d) => {
            if d.returning.is_some() || d.output.is_some() {
                return Err(unsupported("RETURNING"));
            }
            if !d.tables.is_empty() || d.using.is_some() {
                return Err(unsupported("DELETE of several tables (USING)"));
            }
            if !d.order_by.is_empty() || d.limit.is_some() {
                return Err(unsupported("ORDER BY or LIMIT in DELETE"));
            }
            let from = match &d.from {
                FromTable::WithFromKeyword(f) | FromTable::WithoutKeyword(f) => f,
            };
            let [one] = from.as_slice() else { return Err(unsupported("DELETE of several tables")) };
            let select = format!("SELECT id, deleted_at FROM {}{}", table_of(one)?, filter(&d.selection));
            Ok(Write::Delete { select, hard })
        }
        Statement::Update(u) => {
            if hard {
                return Err(Error::query("HARD applies to DELETE only"));
            }
            if u.returning.is_some() || u.output.is_some() {
                return Err(unsupported("RETURNING"));
            }
            if u.from.is_some() || u.or.is_some() || !u.order_by.is_empty() || u.limit.is_some() {
                return Err(unsupported("UPDATE with FROM, OR, ORDER BY or LIMIT"));
            }
            let (mut columns, mut probe) = (Vec::new(), Vec::new());
            let mut items = vec!["id".to_string()];
            for (i, a) in u.assignments.iter().enumerate() {
                let column = match &a.target {
                    ast::AssignmentTarget::ColumnName(name) => match name.0.as_slice() {
                        [ObjectNamePart::Identifier(c)] => {
                            probe.push(c.to_string());
                            c.value.clone()
                        }
                        _ => return Err(unsupported("SET of a nested path (set the whole top-level field)")),
                    },
                    ast::AssignmentTarget::Tuple(_) => return Err(unsupported("SET (a, b) = (...)")),
                };
                if SYSTEM_FIELDS.contains(&column.as_str()) || column == "edges" {
                    return Err(Error::query(format!(
                        "'{column}' is a system field, kept by REM: UPDATE sets properties only"
                    )));
                }
                if columns.contains(&column) {
                    return Err(Error::query(format!("column '{column}' is set twice")));
                }
                // The column is read once as itself so a misspelt name fails against the schema.
                items.push(format!("{} AS {SET_PREFIX}{i}", a.value));
                columns.push(column);
            }
            let select = format!(
                "SELECT {}, {} FROM {}{}",
                items.join(", "),
                probe.join(", "),
                table_of(&u.table)?,
                filter(&u.selection)
            );
            Ok(Write::Update { select, columns })
        }
        _ => Err(Error::Internal("plan_write called for a statement that does not write".into())),
    }
}

/// Whether `sql` is a write statement (`DELETE` or `UPDATE`), by its first word.
pub(crate) fn is_write(sql: &str) -> bool {
    matches!(crate::sql::first_word(sql).as_str(), "DELETE" | "UPDATE")
}

/// `sql` without a trailing `HARD` word (and whether it had one).
fn strip_hard(sql: &str) -> (&str, bool) {
    let trimmed = sql.trim_end().trim_end_matches(';').trim_end();
    let cut = trimmed.len().saturating_sub(4);
    match trimmed.get(cut..) {
        Some(word)
            if word.eq_ignore_ascii_case("HARD")
                && trimmed[..cut].ends_with(|c: char| c.is_whitespace() || c == ')') =>
        {
            (trimmed[..cut].trim_end(), true)
        }
        _ => (sql, false),
    }
}

impl<S: Storage> Database<S> {
    /// Run one REM SQL statement that may write: `DELETE FROM t [WHERE ..] [HARD]` (soft delete,
    /// as `delete` is; `HARD` removes the rows) or `UPDATE t SET f = expr, .. [WHERE ..]` (each
    /// row's new properties validated against its schema, as `update` does); any other
    /// statement runs as [`Database::query`] would. `params` are bound first, as in
    /// `query_with_params`. Returns JSON: the rows for a read, `[{"changed": n}]` for a write
    /// (`n` rows deleted or updated; a soft `DELETE` counts only rows that were live).
    ///
    /// Errors: those of `query`; `Validation` (an updated row its schema refuses: nothing is
    /// written), `InvalidQuery` (a system field in `SET`, a column set twice), `Unsupported`
    /// (`RETURNING`, joins, aliases, `LIMIT` in a write, nested paths in `SET`).
    pub fn execute(&self, sql: &str, params: Option<&str>) -> Result<String> {
        if let Some(p) = params {
            let bound = params::bind(sql, &Self::parse_params(p)?)?;
            return self.execute(&bound, None);
        }
        if !is_write(sql) {
            return self.query(sql);
        }
        let (text, hard) = strip_hard(sql);
        let statements = self.parsed.parse(text)?;
        let statement = match statements.as_slice() {
            [one] => one,
            _ => return Err(Error::Unsupported("several statements in one call are not supported; send one".into())),
        };
        let write = plan_write(statement, hard)?;
        let result = self.apply_write(write);
        if result.is_err() {
            // Rows written before the failure are rolled back by the host: so are the caches.
            self.discard_caches();
        }
        Ok(serde_json::json!([{ "changed": result? }]).to_string())
    }

    /// Check a `DELETE` or `UPDATE` without running it: its kind (`"delete"`, `"update"`) and the
    /// `SELECT` that finds its rows (for [`Database::prepare`]).
    pub(super) fn prepare_write(&self, sql: &str) -> Result<(&'static str, String)> {
        let (text, hard) = strip_hard(sql);
        let statements = self.parsed.parse(text)?;
        let [statement] = statements.as_slice() else {
            return Err(Error::Unsupported("several statements in one call are not supported; send one".into()));
        };
        Ok(match plan_write(statement, hard)? {
            Write::Delete { select, .. } => ("delete", select),
            Write::Update { select, .. } => ("update", select),
        })
    }

    /// Carry out `write`; the number of rows changed.
    fn apply_write(&self, write: Write) -> Result<u64> {
        match write {
            Write::Delete { select, hard } => {
                let mut changed = 0;
                for row in self.query_rows(&select)? {
                    let id = row["id"].as_str().ok_or_else(|| Error::Internal("a row without its id".into()))?;
                    changed += u64::from(hard || row["deleted_at"].is_null());
                    self.delete(id, hard)?;
                }
                Ok(changed)
            }
            Write::Update { select, columns } => {
                let rows = self.query_rows(&select)?;
                for row in &rows {
                    let id = row["id"].as_str().ok_or_else(|| Error::Internal("a row without its id".into()))?;
                    let patch: Map<String, Value> = columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| (c.clone(), row[format!("{SET_PREFIX}{i}")].clone()))
                        .collect();
                    self.update(id, &Value::Object(patch).to_string())?;
                }
                Ok(rows.len() as u64)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::strip_hard;

    #[test]
    fn a_trailing_hard_is_read_off() {
        assert_eq!(strip_hard("DELETE FROM t WHERE a = 1 HARD"), ("DELETE FROM t WHERE a = 1", true));
        assert_eq!(strip_hard("DELETE FROM t hard;"), ("DELETE FROM t", true));
        assert!(!strip_hard("DELETE FROM t WHERE name = 'HARD'").1);
        assert!(!strip_hard("DELETE FROM orchard").1);
    }
}
