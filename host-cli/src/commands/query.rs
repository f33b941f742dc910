//! `rem query`.

use anyhow::Result;

use crate::cli::Global;
use crate::output;

/// Run one statement, with `params` (JSON) bound to its placeholders, and print its rows
/// (or, with `explain`, its plan).
pub fn run(g: &Global, sql: &str, explain: bool, params: Option<&str>) -> Result<()> {
    let db = super::open(g)?;
    let sql = if explain { format!("EXPLAIN {sql}") } else { sql.to_string() };
    let out = match params {
        Some(p) => db.query_with_params(&sql, p)?,
        None => db.query(&sql)?,
    };
    let rows = output::parse(&out)?;
    output::value(g.format, &rows)
}
