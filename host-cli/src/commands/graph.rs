//! Graph commands: `rem edge add|list|delete`, `rem traverse`, `rem path`.

use anyhow::Result;
use rem_host::{Direction, Strategy};

use crate::cli::{EdgeCommand, Global};
use crate::output;

/// Run a `rem edge` subcommand.
pub fn edge(g: &Global, cmd: EdgeCommand) -> Result<()> {
    let db = super::open(g)?;
    let out = match cmd {
        EdgeCommand::Add { src, dst, rel_type, props } => db.add_edge(&src, &dst, &rel_type, props.as_deref())?,
        EdgeCommand::List { id, direction, types } => db.get_edges(&id, direction.parse::<Direction>()?, &types)?,
        EdgeCommand::Delete { src, dst, rel_type } => db.delete_edge(&src, &dst, &rel_type)?,
        EdgeCommand::Import { file } => {
            let (rows, lines) = super::entity::read_jsonl(&file)?;
            let started = std::time::Instant::now();
            let bar = indicatif::ProgressBar::new(rows.len() as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} importing edges [{bar:30}] {pos}/{len} ({per_sec}, eta {eta})",
                )
                .expect("static template")
                .progress_chars("=> "),
            );
            let n = db
                .add_edges_with_progress(&rows, 5000, &mut |n| bar.set_position(n as u64))
                .map_err(|e| super::entity::batch_error(e, &lines, &file.display().to_string()));
            bar.finish_and_clear();
            let n = n?;
            let secs = started.elapsed().as_secs_f64();
            return output::value(
                g.format,
                &serde_json::json!({"edges": n, "seconds": (secs * 1000.0).round() / 1000.0}),
            );
        }
    };
    output::value(g.format, &output::parse(&out)?)
}

/// `rem traverse`.
pub fn traverse(g: &Global, args: &crate::cli::TraverseArgs) -> Result<()> {
    let db = super::open(g)?;
    let strategy = if args.dfs { Strategy::Dfs } else { Strategy::Bfs };
    let out = db.traverse(&args.start, args.direction.parse()?, args.depth, &args.types, strategy, args.limit)?;
    let mut rows = output::parse(&out)?;
    // A table is for people: names beside the ids.
    if (args.keys || g.format == crate::cli::Format::Table)
        && let Some(list) = rows.as_array_mut()
    {
        rem_host::nodes::label(db.as_ref(), list, "id")?;
    }
    output::value(g.format, &rows)
}

/// `rem path`.
pub fn path(
    g: &Global,
    from: &str,
    to: &str,
    direction: &str,
    max_depth: u32,
    types: &[String],
    weighted: bool,
) -> Result<()> {
    let db = super::open(g)?;
    let out = db.shortest_path(from, to, direction.parse()?, max_depth, types, weighted)?;
    output::value(g.format, &output::parse(&out)?)
}
