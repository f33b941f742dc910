//! `rem query`.

use anyhow::Result;

use crate::cli::Global;
use crate::output;

/// Run one statement, with `params` (JSON) bound to its placeholders, and print its rows
/// (or, with `explain`, its plan). With `write`, `DELETE` and `UPDATE` run too (`execute`).
pub fn run(g: &Global, sql: &str, explain: bool, params: Option<&str>, write: bool) -> Result<()> {
    let db = super::open(g)?;
    if write && !explain {
        let out = db.execute(sql, params)?;
        return output::value(g.format, &output::parse(&out)?);
    }
    if g.format == crate::cli::Format::Jsonl && !explain && stream(db.as_ref(), sql, params)? {
        return Ok(());
    }
    let sql = if explain { format!("EXPLAIN {sql}") } else { sql.to_string() };
    let out = match params {
        Some(p) => db.query_with_params(&sql, p)?,
        None => db.query(&sql)?,
    };
    let rows = output::parse(&out)?;
    output::value(g.format, &rows)
}

/// Rows per page when `--format jsonl` streams a query.
const STREAM_PAGE: u32 = 1000;

/// Print a plain `SELECT`'s rows as JSON lines a page at a time (`query-page`, keyset
/// pagination), so memory stays bounded and the first rows appear at once. Returns false,
/// having printed nothing, for a statement that cannot be paged (ORDER BY, aggregates, REM
/// statements...), which the caller runs whole.
fn stream(db: &dyn rem_host::Api, sql: &str, params: Option<&str>) -> Result<bool> {
    let mut after: Option<String> = None;
    loop {
        let page = match db.query_page(sql, params, after.as_deref(), STREAM_PAGE) {
            // Not a plain SELECT, or a server older than `query-page`: run it whole.
            Err(rem_host::Error::Unsupported(_) | rem_host::Error::NotFound(_)) if after.is_none() => return Ok(false),
            other => output::parse(&other?)?,
        };
        if let Some(rows) = page["rows"].as_array() {
            output::rows(crate::cli::Format::Jsonl, rows)?;
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => return Ok(true),
        }
    }
}
