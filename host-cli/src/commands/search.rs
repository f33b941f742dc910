//! `rem search` and `rem index stats|rebuild`.

use anyhow::Result;
use rem_host::{SearchOptions, SearchQuery};

use crate::cli::{Global, IndexCommand};
use crate::output;

/// Search `table` for `query` (a text or a vector) and print the rows with their `_score`.
pub fn search(g: &Global, table: &str, query: &SearchQuery, options: &SearchOptions) -> Result<()> {
    let db = super::open(g)?;
    let rows = db.search(table, query, options)?;
    output::value(g.format, &output::parse(&rows)?)
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
