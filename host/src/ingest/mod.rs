//! Document ingest: files (plain text, Markdown, HTML, PDF) to a `documents` row
//! and `resources` chunks, embedded and searchable.
//!
//! Each file becomes one `documents` row (uri, name, content type, size, BLAKE3
//! hash, chunk count) and one chunk row per chunk (`uri`, `chunk_ordinal`, `name`,
//! `content`, `content_type`, `document_id`), whose id is BLAKE3 of table, uri and
//! ordinal; each chunk has a `part_of` edge to its document. A file is written in
//! one transaction: an unchanged file (same hash) is skipped; a changed one has
//! its chunks upserted and the chunks it no longer has removed, so no stale chunk
//! survives. All chunks of a file are embedded in one call. A file that cannot be
//! read is reported and skipped; the others go in.

pub mod chunk;
pub mod extract;

use std::path::{Path, PathBuf};

pub use chunk::{Chunker, Unit};
use serde_json::json;

use crate::{Database, Error, Result};

/// Options of [`ingest`].
#[derive(Debug, Clone)]
pub struct IngestOptions {
    /// Table of the chunks (default `resources`; it needs the `resources` fields).
    pub table: String,
    /// Table of the document rows (default `documents`).
    pub documents: String,
    /// Largest chunk, in `unit`s (default 1,000 characters).
    pub chunk_size: usize,
    /// Units shared by consecutive chunks (default 100).
    pub overlap: usize,
    /// What sizes count (default characters).
    pub unit: Unit,
    /// Re-ingest files whose hash did not change.
    pub force: bool,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            table: "resources".into(),
            documents: "documents".into(),
            chunk_size: 1000,
            overlap: 100,
            unit: Unit::Chars,
            force: false,
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq)]
pub enum FileOutcome {
    /// Written: its document id and chunk count (and chunks removed since the last ingest).
    Ingested {
        /// The `documents` row's id.
        document_id: String,
        /// Chunks written.
        chunks: usize,
        /// Stale chunks removed.
        removed: usize,
    },
    /// Same hash as the stored document: nothing written.
    Unchanged,
    /// Not read: the reason.
    Failed(String),
}

/// The totals of an ingest run.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Summary {
    /// Files looked at.
    pub files: usize,
    /// Files written.
    pub ingested: usize,
    /// Chunks written.
    pub chunks: usize,
    /// Unchanged files skipped.
    pub skipped: usize,
    /// Stale chunks removed.
    pub removed: usize,
    /// Files that failed, with the reason.
    pub errors: Vec<(String, String)>,
}

/// The files under `paths`: files as given (any extension), directories walked
/// recursively for supported extensions (hidden entries skipped), in sorted order.
/// Errors: `Io` for a path that does not exist.
pub fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::Io { context: format!("cannot list {}", dir.display()), message: e.to_string() })?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if extract::content_type(&p).is_some() {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(Error::Io {
                context: format!("cannot ingest {}", p.display()),
                message: "no such file".into(),
            });
        }
    }
    Ok(out)
}

/// `file://` URI of `path` (absolute).
pub fn file_uri(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", abs.display())
}

/// Read, extract, chunk and write one file. Errors (as `Failed`): unreadable,
/// unsupported or empty files; database errors are returned as `Err`.
pub fn ingest_file(db: &Database, path: &Path, chunker: &Chunker, options: &IngestOptions) -> Result<FileOutcome> {
    let Some(content_type) = extract::content_type(path) else {
        return Ok(FileOutcome::Failed("unsupported file type: REM reads .txt, .md, .html and .pdf".into()));
    };
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return Ok(FileOutcome::Failed(format!("cannot read: {e}"))),
    };
    let text = match extract::text(&bytes, content_type) {
        Ok(t) => t,
        Err(e) => return Ok(FileOutcome::Failed(e)),
    };
    let chunks = chunker.chunks(&text, content_type);
    if chunks.is_empty() {
        return Ok(FileOutcome::Failed("no text in the file".into()));
    }
    let uri = file_uri(path);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("document").to_string();
    let document = json!({
        "name": name,
        "uri": uri,
        "content_type": content_type,
        "file_size": bytes.len(),
        "file_hash": blake3::hash(&bytes).to_hex().to_string(),
        "chunk_count": chunks.len(),
        "metadata": {"path": path.display().to_string()},
    });
    let rows: Vec<serde_json::Value> = chunks
        .into_iter()
        .enumerate()
        .map(|(i, content)| {
            json!({
                "name": format!("{name} #{i}"),
                "content": content,
                "uri": uri,
                "chunk_ordinal": i,
                "content_type": content_type,
            })
        })
        .collect();
    db.write_document(&options.documents, &options.table, &document, rows, options.force)
}

/// Ingest every file under `paths` (see [`expand`]); see [`ingest_files`].
pub fn ingest(
    db: &Database,
    paths: &[PathBuf],
    options: &IngestOptions,
    progress: &mut dyn FnMut(&Path, &FileOutcome),
) -> Result<Summary> {
    ingest_files(db, &expand(paths)?, options, progress)
}

/// Ingest `files` (as [`expand`] lists them), calling `progress(file, outcome)`
/// after each. With the default tables, the core schemas are registered first if
/// `resources` or `documents` is missing. Errors: `Io` (a missing path),
/// `InvalidArgument` (bad chunk settings), `SchemaNotFound` (custom tables not
/// registered), database errors.
pub fn ingest_files(
    db: &Database,
    files: &[PathBuf],
    options: &IngestOptions,
    progress: &mut dyn FnMut(&Path, &FileOutcome),
) -> Result<Summary> {
    let chunker = Chunker::new(options.chunk_size, options.overlap, options.unit)?;
    if options.table == "resources" && options.documents == "documents" {
        let tables = db.list_schemas()?;
        if !(tables.iter().any(|t| t == "resources") && tables.iter().any(|t| t == "documents")) {
            db.register_core_schemas()?;
        }
    }
    let mut summary = Summary { files: files.len(), ..Summary::default() };
    for file in files {
        let outcome = ingest_file(db, file, &chunker, options)?;
        match &outcome {
            FileOutcome::Ingested { chunks, removed, .. } => {
                summary.ingested += 1;
                summary.chunks += chunks;
                summary.removed += removed;
            }
            FileOutcome::Unchanged => summary.skipped += 1,
            FileOutcome::Failed(why) => summary.errors.push((file.display().to_string(), why.clone())),
        }
        progress(file, &outcome);
    }
    Ok(summary)
}
