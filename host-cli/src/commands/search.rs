//! `rem search` and `rem index stats|rebuild`.

use anyhow::Result;
use rem_host::{SearchOptions, SearchQuery};
use serde_json::Value;

use crate::cli::{Global, IndexCommand};
use crate::output;

/// Search `table` for `query` (a text or a vector) and print the rows with their `_score`
/// (and, with `vectors`, their stored vectors as `embedding`).
pub fn search(g: &Global, table: &str, query: &SearchQuery, options: &SearchOptions, vectors: bool) -> Result<()> {
    let db = super::open(g)?;
    let mut rows = output::parse(&db.search(table, query, options)?)?;
    if vectors && let Value::Array(items) = &mut rows {
        super::entity::attach_vectors(db.as_ref(), items)?;
    }
    output::value(g.format, &rows)
}

/// Run a `rem index` subcommand.
pub fn index(g: &Global, cmd: IndexCommand) -> Result<()> {
    let db = super::open(g)?;
    let out = match cmd {
        IndexCommand::Stats { table } => db.index_stats(&table)?,
        IndexCommand::Rebuild { table, reembed } => {
            let spinner = indicatif::ProgressBar::new_spinner();
            spinner.set_message(format!("rebuilding the vector index of {table}"));
            spinner.enable_steady_tick(std::time::Duration::from_millis(120));
            let out = db.rebuild_index(&table, reembed);
            spinner.finish_and_clear();
            out?
        }
    };
    output::value(g.format, &output::parse(&out)?)
}
