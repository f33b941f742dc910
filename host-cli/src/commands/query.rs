//! `rem query`.

use anyhow::Result;

use crate::cli::Global;
use crate::output;

/// Run one statement and print its rows (or, with `explain`, its plan).
pub fn run(g: &Global, sql: &str, explain: bool) -> Result<()> {
    let db = super::open(g)?;
    let sql = if explain { format!("EXPLAIN {sql}") } else { sql.to_string() };
    let rows = output::parse(&db.query(&sql)?)?;
    output::value(g.format, &rows)
}
