//! `rem ingest`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use rem_host::ingest::{FileOutcome, IngestOptions, Unit};
use serde_json::json;

use crate::cli::Global;
use crate::output;

/// Ingest `paths` with `options` (the core schemas are registered first when the tables are missing).
pub fn run(g: &Global, paths: &[PathBuf], options: IngestOptions) -> Result<()> {
    let db = super::open(g)?;
    let listing = rem_host::ingest::expand(paths, options.follow_symlinks)?;
    let bar = ProgressBar::new(listing.files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} ingesting [{bar:30}] {pos}/{len} files ({per_sec}, eta {eta}) {msg}")
            .expect("static template")
            .progress_chars("=> "),
    );
    let started = Instant::now();
    let summary = rem_host::ingest::ingest_files(&*db, &listing, &options, &mut |file, outcome| {
        bar.inc(1);
        bar.set_message(file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        match outcome {
            FileOutcome::Failed(why) => bar.suspend(|| eprintln!("warning: skipped {}: {why}", file.display())),
            FileOutcome::Unsupported(why) => bar.suspend(|| eprintln!("note: not read {}: {why}", file.display())),
            FileOutcome::Ingested { .. } | FileOutcome::Unchanged => {}
        }
    });
    bar.finish_and_clear();
    let summary = summary?;
    let secs = started.elapsed().as_secs_f64();
    let mut out = summary.to_json(&options.table);
    out["seconds"] = json!((secs * 1000.0).round() / 1000.0);
    output::value(g.format, &out)
}

/// Parse `--unit`.
pub fn unit(s: &str) -> Result<Unit> {
    Ok(s.parse::<Unit>()?)
}
