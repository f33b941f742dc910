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
//!
//! Only regular files are read: folders are walked without following symlinks (unless
//! `follow_symlinks`, and then with loop detection), devices, FIFOs and sockets are listed as
//! ignored, and no file larger than `max_file_size` is read (so `/dev/zero` or a huge log cannot
//! exhaust memory). Nothing is skipped without being listed in the [`Summary`].

pub mod chunk;
pub mod extract;

use std::path::{Path, PathBuf};

pub use chunk::{Chunker, Unit};
use serde_json::json;

use crate::{Api, Error, Result};

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
    /// Largest file read, in bytes (default [`DEFAULT_MAX_FILE_SIZE`]); larger ones fail.
    pub max_file_size: u64,
    /// Follow symlinks met inside the folders given (default no: they are listed as ignored).
    pub follow_symlinks: bool,
}

/// Default cap of one file's size: 100 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 100 * 1024 * 1024;

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            table: "resources".into(),
            documents: "documents".into(),
            chunk_size: 1000,
            overlap: 100,
            unit: Unit::Chars,
            force: false,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            follow_symlinks: false,
        }
    }
}

/// What happened to one file.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
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
    /// Entries not read, with the reason: symlinks not followed, symlink loops, devices, FIFOs,
    /// sockets, unsupported file types in a folder.
    pub ignored: Vec<(String, String)>,
}

/// What [`expand`] found: the files to read, and the entries it will not read, with the reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// Regular files to ingest, in walk order.
    pub files: Vec<PathBuf>,
    /// Entries left out, with the reason.
    pub ignored: Vec<(PathBuf, String)>,
}

/// What kind of non-regular entry `t` is, for the summary.
fn kind_of(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

/// The files under `paths`: regular files as given (any extension; a symlink named here is
/// followed), folders walked recursively for supported extensions (hidden entries skipped), in
/// sorted order. Inside folders symlinks are followed only with `follow_symlinks`, and a folder
/// reached twice (a symlink loop) is walked once. Errors: `Io` for a path that does not exist or
/// a folder that cannot be listed.
pub fn expand(paths: &[PathBuf], follow_symlinks: bool) -> Result<Listing> {
    use std::os::unix::fs::MetadataExt;
    struct Walk {
        follow: bool,
        seen: std::collections::HashSet<(u64, u64)>,
        out: Listing,
    }
    impl Walk {
        fn dir(&mut self, dir: &Path, meta: &std::fs::Metadata) -> Result<()> {
            if !self.seen.insert((meta.dev(), meta.ino())) {
                self.out.ignored.push((dir.to_path_buf(), "folder already walked (a symlink loop)".into()));
                return Ok(());
            }
            let mut entries = Vec::new();
            for e in std::fs::read_dir(dir)
                .map_err(|e| Error::Io { context: format!("cannot list {}", dir.display()), message: e.to_string() })?
            {
                match e {
                    Ok(e) if e.file_name().to_str().is_some_and(|n| n.starts_with('.')) => {}
                    Ok(e) => entries.push(e),
                    Err(err) => self.out.ignored.push((dir.to_path_buf(), format!("an entry cannot be read: {err}"))),
                }
            }
            entries.sort_by_key(|e| e.file_name());
            for e in entries {
                let p = e.path();
                let t = match e.file_type() {
                    Ok(t) => t,
                    Err(err) => {
                        self.out.ignored.push((p, format!("cannot inspect: {err}")));
                        continue;
                    }
                };
                let meta = if t.is_symlink() {
                    if !self.follow {
                        self.out.ignored.push((p, "symlink not followed (use --follow-symlinks)".into()));
                        continue;
                    }
                    match std::fs::metadata(&p) {
                        Ok(m) => m,
                        Err(e) => {
                            self.out.ignored.push((p, format!("broken symlink: {e}")));
                            continue;
                        }
                    }
                } else {
                    match e.metadata() {
                        Ok(m) => m,
                        Err(err) => {
                            self.out.ignored.push((p, format!("cannot inspect: {err}")));
                            continue;
                        }
                    }
                };
                self.entry(p, &meta, false)?;
            }
            Ok(())
        }

        fn entry(&mut self, p: PathBuf, meta: &std::fs::Metadata, named: bool) -> Result<()> {
            if meta.is_dir() {
                self.dir(&p, meta)
            } else if !meta.is_file() {
                self.out.ignored.push((p, format!("{}, not a regular file", kind_of(&meta.file_type()))));
                Ok(())
            } else if named || extract::content_type(&p).is_some() {
                self.out.files.push(p);
                Ok(())
            } else {
                self.out.ignored.push((p, "unsupported file type".into()));
                Ok(())
            }
        }
    }
    let mut walk = Walk { follow: follow_symlinks, seen: Default::default(), out: Listing::default() };
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| Error::Io {
            context: format!("cannot ingest {}", p.display()),
            message: if e.kind() == std::io::ErrorKind::NotFound { "no such file".into() } else { e.to_string() },
        })?;
        // A symlink named on the command line is followed: the file read is its target.
        let p = if meta.is_file() { std::fs::canonicalize(p).unwrap_or_else(|_| p.clone()) } else { p.clone() };
        walk.entry(p, &meta, true)?;
    }
    Ok(walk.out)
}

/// Read the regular file `path`, at most `max` bytes. The file is opened without blocking (a
/// FIFO swapped in since the listing cannot hang the run) and, unless `follow`, without
/// following a symlink swapped in since; its type is checked on the open file. Errors: a
/// sentence for the summary.
fn read_capped(path: &Path, max: u64, follow: bool) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut flags = rustix::fs::OFlags::NONBLOCK;
    if !follow {
        flags |= rustix::fs::OFlags::NOFOLLOW;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(|e| format!("cannot read: {e}"))?;
    let meta = file.metadata().map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{}, not a regular file", kind_of(&meta.file_type())));
    }
    let too_big = || format!("larger than the {max}-byte cap (raise it with --max-file-size)");
    if meta.len() > max {
        return Err(too_big());
    }
    // The size can grow while reading (or be reported as 0, as /proc's files are): read one byte past the cap.
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(max.saturating_add(1)).read_to_end(&mut bytes).map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > max {
        return Err(too_big());
    }
    Ok(bytes)
}

/// `file://` URI of `path` (absolute).
pub fn file_uri(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    format!("file://{}", abs.display())
}

/// Read, extract, chunk and write one file. Errors (as `Failed`): unreadable,
/// unsupported or empty files; database errors are returned as `Err`.
pub fn ingest_file(db: &dyn Api, path: &Path, chunker: &Chunker, options: &IngestOptions) -> Result<FileOutcome> {
    let Some(content_type) = extract::content_type(path) else {
        return Ok(FileOutcome::Failed("unsupported file type: REM reads .txt, .md, .html and .pdf".into()));
    };
    let bytes = match read_capped(path, options.max_file_size, options.follow_symlinks) {
        Ok(b) => b,
        Err(why) => return Ok(FileOutcome::Failed(why)),
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
    db: &dyn Api,
    paths: &[PathBuf],
    options: &IngestOptions,
    progress: &mut dyn FnMut(&Path, &FileOutcome),
) -> Result<Summary> {
    ingest_files(db, &expand(paths, options.follow_symlinks)?, options, progress)
}

/// Ingest the files of `listing` (as [`expand`] lists them; its ignored entries go into the
/// summary), calling `progress(file, outcome)`
/// after each. With the default tables, the core schemas are registered first if
/// `resources` or `documents` is missing. Errors: `Io` (a missing path),
/// `InvalidArgument` (bad chunk settings), `SchemaNotFound` (custom tables not
/// registered), database errors.
pub fn ingest_files(
    db: &dyn Api,
    listing: &Listing,
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
    let ignored = listing.ignored.iter().map(|(p, why)| (p.display().to_string(), why.clone())).collect();
    let mut summary = Summary { files: listing.files.len(), ignored, ..Summary::default() };
    for file in &listing.files {
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
