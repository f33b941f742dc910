//! `rem query`.

use anyhow::Result;

use crate::cli::Global;
use crate::output;

/// Run one statement and print its rows.
pub fn run(g: &Global, sql: &str) -> Result<()> {
    let db = super::open(g)?;
    let rows = output::parse(&db.query(sql)?)?;
    output::value(g.format, &rows)
}
