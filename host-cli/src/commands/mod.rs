//! One module per command group; each returns a result for `main` to report.

pub mod agent;
pub mod component;
pub mod entity;
pub mod graph;
pub mod ingest;
pub mod init;
pub mod mcp;
pub mod password;
pub mod query;
pub mod schema;
pub mod search;
pub mod serve;

use anyhow::{Context, Result};
use rem_host::remote::ServerChoice;
use rem_host::{Api, OpenOptions};

use crate::cli::{Cli, Command, Global};

/// The open options the global options name. A missing database is an error (only `rem init`
/// creates one; see [`open_creating`]).
pub fn options(global: &Global) -> Result<OpenOptions> {
    options_asking(global, false)
}

/// [`options`]; a password asked at a prompt is typed twice when `confirm` (a new database).
fn options_asking(global: &Global, confirm: bool) -> Result<OpenOptions> {
    let mut options = OpenOptions::default().tenant(global.tenant.clone()).create(false);
    if let Some(p) = &global.path {
        options.path = Some(p.clone());
    }
    if let Some(ms) = global.wait {
        options.busy_timeout = std::time::Duration::from_millis(ms);
    }
    options.password = password::given(global, confirm)?;
    Ok(options)
}

/// Open the database the global options name: through `--server` when given, else through the
/// server serving it (found by its endpoint file), else the file itself. An encrypted database
/// given no password asks for it on a terminal.
pub fn open(global: &Global) -> Result<Box<dyn Api>> {
    open_with(global, options(global)?)
}

fn open_with(global: &Global, options: OpenOptions) -> Result<Box<dyn Api>> {
    use std::io::IsTerminal;
    let server = ServerChoice { url: global.server.clone(), ..ServerChoice::from_env() };
    let asked = options.password.is_none();
    match rem_host::remote::open(options.clone(), &server) {
        Err(rem_host::Error::Password(_)) if asked && std::io::stdin().is_terminal() => {
            let mut options = options;
            options.password = Some(password::prompt("Database password", false)?);
            Ok(rem_host::remote::open(options, &server)?)
        }
        other => Ok(other?),
    }
}

/// [`open`], creating the database when there is none (`rem init`; encrypted with
/// `--password` or `--password-file`, the password typed twice at a prompt).
pub fn open_creating(global: &Global) -> Result<Box<dyn Api>> {
    open_with(global, options_asking(global, true)?.create(true))
}

/// Run `work` with a spinner on stderr when it is a terminal.
fn with_spinner<T>(message: &str, work: impl FnOnce() -> rem_host::Result<T>) -> Result<T> {
    use std::io::IsTerminal;
    let spinner = std::io::stderr().is_terminal().then(|| {
        let s = indicatif::ProgressBar::new_spinner();
        s.set_message(message.to_string());
        s.enable_steady_tick(std::time::Duration::from_millis(120));
        s
    });
    let out = work();
    if let Some(s) = spinner {
        s.finish_and_clear();
    }
    Ok(out?)
}

/// Run the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    let g = &cli.global;
    match cli.command {
        Command::Init { no_core } => init::run(g, no_core),
        Command::Ingest { paths, table, chunk_size, overlap, unit, force, max_file_size, follow_symlinks } => {
            let options = rem_host::ingest::IngestOptions {
                table,
                chunk_size,
                overlap,
                unit: ingest::unit(&unit)?,
                force,
                max_file_size,
                follow_symlinks,
                ..Default::default()
            };
            ingest::run(g, &paths, options)
        }
        Command::Schema(cmd) => schema::run(g, cmd),
        Command::Insert(args) => entity::insert(g, args),
        Command::Get { id, include_vectors } => entity::get(g, &id, include_vectors),
        Command::Lookup { key } => entity::lookup(g, &key),
        Command::Update { id, patch } => entity::update(g, &id, &patch),
        Command::Delete { id, hard } => entity::delete(g, &id, hard),
        Command::List { table, limit, offset, after } => entity::list(g, &table, limit, offset, after.as_deref()),
        Command::Count { table } => entity::count(g, &table),
        Command::Query { sql, explain, params, write } => query::run(g, &sql, explain, params.as_deref(), write),
        Command::Search {
            text,
            vector,
            table,
            top_k,
            min_score,
            filter,
            hybrid,
            ef_search,
            include_vectors,
            vector_field,
        } => {
            let options = rem_host::SearchOptions { top_k, min_score, filter, hybrid, ef_search, vector_field };
            let query = match (text, vector) {
                (_, Some(v)) => rem_host::SearchQuery::Vector(
                    serde_json::from_str(&v).context("--vector must be a JSON array of numbers, e.g. [0.1, 0.2]")?,
                ),
                (Some(t), None) => rem_host::SearchQuery::Text(t),
                (None, None) => anyhow::bail!("give a text to search for, or --vector"),
            };
            search::search(g, &table, &query, &options, include_vectors)
        }
        Command::Index(cmd) => search::index(g, cmd),
        Command::Component(crate::cli::ComponentCommand::Export { dir }) => component::export(g, &dir),
        Command::Serve(args) => serve::run(g, args),
        Command::Ask { question, plan, table, max_stages, llm } => {
            let options = rem_host::agent::AskOptions { table, max_stages, plan_only: plan };
            agent::ask(g, &question, &options, llm.as_deref())
        }
        Command::Dream { lookback_hours, start, end, dry_run, llm, max_context_chars, verbose } => {
            let window = agent::window(lookback_hours, start.as_deref(), end.as_deref())?;
            let options = rem_host::agent::DreamOptions { window, dry_run, max_context_chars };
            agent::dream(g, &options, llm.as_deref(), verbose)
        }
        Command::Mcp => mcp::run(g),
        Command::Stats => {
            let db = open(g)?;
            crate::output::value(g.format, &rem_host::stats::stats(db.as_ref())?)
        }
        Command::Rekey { new_password_file } => {
            let db = open(g)?;
            let new = password::new_password(new_password_file.as_deref())?;
            with_spinner("changing the password", || db.rekey(&new))?;
            crate::output::value(g.format, &serde_json::json!({"rekeyed": true}))
        }
        Command::KeyGen { dir, force } => {
            let password = password::required(g, "Password for the private key")?;
            let dir = dir.unwrap_or_else(rem_host::crypto::identity::default_dir);
            let pair =
                with_spinner("making the key pair", || rem_host::crypto::identity::generate(&dir, &password, force))?;
            crate::output::value(g.format, &serde_json::to_value(pair)?)
        }
        Command::Check { max_problems } => {
            let db = open(g)?;
            let report = with_spinner("checking", || rem_host::stats::check(db.as_ref(), max_problems))?;
            crate::output::value(g.format, &report)?;
            match report["problems_total"].as_u64().unwrap_or(0) {
                0 => Ok(()),
                n => anyhow::bail!("check found {n} problem(s), listed above"),
            }
        }
        Command::Backup { dest, force } => {
            let db = open(g)?;
            let report = with_spinner(&format!("backing up to {}", dest.display()), || db.backup(&dest, force))?;
            crate::output::value(g.format, &serde_json::to_value(report)?)
        }
        Command::Restore { src, force } => {
            let options = options(g)?;
            let dest = options.path.context("restore needs a database path: give --path")?;
            let report = with_spinner(&format!("restoring {}", src.display()), || {
                rem_host::restore(&src, &dest, force, options.password.as_ref())
            })?;
            crate::output::value(g.format, &serde_json::to_value(report)?)
        }
        Command::Export { table, all, output, file_format, filter, with_vectors, include_deleted, force } => {
            let db = open(g)?;
            let options = rem_host::transfer::ExportOptions {
                format: file_format.as_deref().map(str::parse).transpose()?,
                filter,
                with_vectors,
                include_deleted,
                force,
            };
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(
                indicatif::ProgressStyle::with_template("{spinner} {msg} {pos} rows ({per_sec})")
                    .expect("static template"),
            );
            let report = match (all, table) {
                (true, _) => serde_json::to_value(rem_host::transfer::export_all(
                    db.as_ref(),
                    &output,
                    &options,
                    &mut |t, n| {
                        bar.set_message(format!("exporting {t}"));
                        bar.set_position(n);
                    },
                )?)?,
                (false, Some(table)) => {
                    bar.set_message(format!("exporting {table}"));
                    let total = db.count(&table).unwrap_or(0);
                    bar.set_length(total);
                    serde_json::to_value(rem_host::transfer::export(
                        db.as_ref(),
                        &table,
                        &output,
                        &options,
                        &mut |n| bar.set_position(n),
                    )?)?
                }
                (false, None) => anyhow::bail!("give a table to export, or --all"),
            };
            bar.finish_and_clear();
            crate::output::value(g.format, &report)
        }
        Command::Compact => {
            let db = open(g)?;
            let report = with_spinner("compacting", || db.compact())?;
            crate::output::value(g.format, &serde_json::to_value(report)?)
        }
        Command::Edge(cmd) => graph::edge(g, cmd),
        Command::Traverse(args) => graph::traverse(g, &args),
        Command::Path { from, to, direction, max_depth, types, weighted } => {
            graph::path(g, &from, &to, &direction, max_depth, &types, weighted)
        }
    }
}
