//! Document ingest: files of every common kind (text, Markdown, HTML, PDF, Word, PowerPoint,
//! spreadsheets, CSV/TSV, JSON, YAML, e-mail: see [`extract`]) to a `documents` row and
//! `resources` chunks, embedded and searchable.
//!
//! Each file becomes one `documents` row (uri, name, content type, size, BLAKE3
//! hash, chunk count) and one chunk row per chunk (`uri`, `chunk_ordinal`, `name`,
//! `content`, `content_type`, `document_id`, and `metadata` saying where in the document the
//! chunk is: `page`, `sheet` and `rows`, `slide`, `headings`), whose id is BLAKE3 of table, uri
//! and ordinal; each chunk has a `part_of` edge to its document. A file is written in
//! one transaction: a file whose hash is unchanged and whose chunks are in the target table is
//! skipped; a changed one has its chunks upserted and the chunks it no longer has removed, so
//! no stale chunk survives. All chunks of a file are embedded in one call. Files are read,
//! extracted and chunked on worker threads (one per core) while the calling thread writes;
//! at most `workers + 2` files' chunks are in memory at once. A file that cannot be read is reported
//! and skipped; the others go in.
//!
//! Only regular files are read: folders are walked without following symlinks (unless
//! `follow_symlinks`, and then with loop detection), devices, FIFOs and sockets are listed as
//! ignored, and no file larger than `max_file_size` is read (so `/dev/zero` or a huge log cannot
//! exhaust memory). Nothing is skipped without being listed in the [`Summary`], except hidden entries (names
//! starting with `.`) inside the folders walked.

pub mod chunk;
pub mod extract;

use std::collections::HashMap;
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

/// Stack of an ingest worker thread: 8 MiB, the main thread's on Linux (the readers recurse
/// into nested document structures).
const WORKER_STACK: usize = 8 * 1024 * 1024;

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
    /// Not a kind of file REM reads: the reason.
    Unsupported(String),
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
    /// Files looked at: ingested + skipped + unsupported + errors.
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
    /// Files of a kind REM does not read, with the reason.
    pub unsupported: Vec<(String, String)>,
    /// Entries not read, with the reason: symlinks not followed, symlink loops, devices, FIFOs,
    /// sockets.
    pub ignored: Vec<(String, String)>,
    /// Seconds the workers spent reading and extracting the files they chunked (all but those
    /// known unchanged before extraction, and those that failed), summed over workers.
    pub extract_seconds: f64,
    /// Seconds the workers spent chunking those files, summed over workers.
    pub chunk_seconds: f64,
    /// Seconds the writer spent writing (embedding included).
    pub write_seconds: f64,
}

impl Summary {
    /// The summary as users see it (CLI, Python): `{table, files, ingested, chunks,
    /// skipped_unchanged, removed_stale_chunks, errors: [{path, error}], unsupported: [{path,
    /// reason}], ignored: [{path, reason}], extract_seconds, chunk_seconds, write_seconds}`.
    pub fn to_json(&self, table: &str) -> serde_json::Value {
        let listed = |v: &[(String, String)], what: &str| -> Vec<serde_json::Value> {
            v.iter().map(|(p, why)| json!({"path": p, what: why})).collect()
        };
        let secs = |s: f64| (s * 1000.0).round() / 1000.0;
        json!({
            "table": table,
            "files": self.files,
            "ingested": self.ingested,
            "chunks": self.chunks,
            "skipped_unchanged": self.skipped,
            "removed_stale_chunks": self.removed,
            "errors": listed(&self.errors, "error"),
            "unsupported": listed(&self.unsupported, "reason"),
            "ignored": listed(&self.ignored, "reason"),
            "extract_seconds": secs(self.extract_seconds),
            "chunk_seconds": secs(self.chunk_seconds),
            "write_seconds": secs(self.write_seconds),
        })
    }
}

/// What [`expand`] found: the files to read, and the entries it will not read, with the reason.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Listing {
    /// Regular files to ingest, in walk order.
    pub files: Vec<PathBuf>,
    /// Entries left out, with the reason.
    pub ignored: Vec<(PathBuf, String)>,
    /// Files in the folders of a kind REM does not read, with the reason.
    pub unsupported: Vec<(PathBuf, String)>,
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

/// Why `path` is not read: its extension, and the ones REM reads.
fn unsupported_reason(path: &Path) -> String {
    let kind = path
        .extension()
        .and_then(|e| e.to_str())
        .map_or("a file without an extension".to_string(), |e| format!(".{e} files"));
    format!("unsupported file type: REM does not read {kind}; it reads {}", extract::SUPPORTED)
}

/// The files under `paths`: regular files as given (any extension, read as text when it is not
/// one REM knows; a symlink named here is
/// followed), folders walked recursively for supported extensions and files without one (read
/// as text when UTF-8; hidden entries skipped), in
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
            } else if named || extract::Format::of(&p).is_some() || p.extension().is_none() {
                // Files without an extension (README, AUTHORS, NEWS) are read as text when they
                // are UTF-8, and listed as unsupported when not.
                self.out.files.push(p);
                Ok(())
            } else {
                let why = unsupported_reason(&p);
                self.out.unsupported.push((p, why));
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

/// A file read, extracted and chunked, ready to write.
#[derive(Debug)]
struct Prepared {
    document: serde_json::Value,
    rows: Vec<serde_json::Value>,
    /// Time spent reading and extracting, and chunking.
    extract: std::time::Duration,
    chunk: std::time::Duration,
}

/// Read, extract and chunk one file; `stored` is the BLAKE3 hash its chunks in the target table
/// were cut from, if known (then a file with that hash is `Unchanged` without being extracted).
/// Errors (as an outcome): `Unsupported` for a file of an unknown type that is not UTF-8 text,
/// `Failed` for unreadable or empty files.
fn prepare(
    path: &Path,
    chunker: &Chunker,
    options: &IngestOptions,
    stored: Option<&str>,
) -> std::result::Result<Prepared, FileOutcome> {
    let started = std::time::Instant::now();
    let bytes = read_capped(path, options.max_file_size, options.follow_symlinks).map_err(FileOutcome::Failed)?;
    let hash = blake3::hash(&bytes).to_hex().to_string();
    if stored == Some(hash.as_str()) {
        return Err(FileOutcome::Unchanged);
    }
    let format = match extract::Format::of(path) {
        Some(f) => f,
        // A file named on the command line, or without an extension: read as text if it is.
        None if !bytes.contains(&0) && std::str::from_utf8(&bytes).is_ok() => extract::Format::Text,
        None => return Err(FileOutcome::Unsupported(unsupported_reason(path))),
    };
    let content_type = format.content_type();
    let sections = extract::sections(&bytes, format).map_err(FileOutcome::Failed)?;
    let extracted = std::time::Instant::now();
    let chunks: Vec<(String, extract::Place)> = sections.iter().flat_map(|s| chunker.section(s)).collect();
    let chunked = std::time::Instant::now();
    if chunks.is_empty() {
        return Err(FileOutcome::Failed("no text in the file".into()));
    }
    let uri = file_uri(path);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("document").to_string();
    let document = json!({
        "name": name,
        "uri": uri,
        "content_type": content_type,
        "file_size": bytes.len(),
        "file_hash": hash,
        "chunk_count": chunks.len(),
        "metadata": {"path": path.display().to_string()},
    });
    let rows = chunks
        .into_iter()
        .enumerate()
        .map(|(i, (content, place))| {
            json!({
                "name": format!("{name} #{i}"),
                "content": content,
                "uri": uri,
                "chunk_ordinal": i,
                "content_type": content_type,
                "metadata": place,
            })
        })
        .collect();
    Ok(Prepared { document, rows, extract: extracted - started, chunk: chunked - extracted })
}

/// Read, extract, chunk and write one file. Errors (as `Failed` or `Unsupported`): unreadable,
/// unsupported or empty files; database errors are returned as `Err`.
pub fn ingest_file(db: &dyn Api, path: &Path, chunker: &Chunker, options: &IngestOptions) -> Result<FileOutcome> {
    match prepare(path, chunker, options, None) {
        Ok(p) => db.write_document(&options.documents, &options.table, &p.document, p.rows, options.force),
        Err(outcome) => Ok(outcome),
    }
}

/// For each of `files` whose chunks in `table` all carry one `metadata.file_hash`, that hash
/// (one `lookup` of its uri each), so that an unchanged file is not extracted again; the
/// writer checks again in its transaction. Errors: database errors.
fn stored_hashes(db: &dyn Api, files: &[PathBuf], table: &str) -> Result<HashMap<PathBuf, String>> {
    let mut out = HashMap::new();
    for file in files {
        if let Some(h) = chunks_hash(&chunks_in(&db.lookup(&file_uri(file))?, table)?) {
            out.insert(file.clone(), h.to_string());
        }
    }
    Ok(out)
}

/// The entities of `table` among `found` (a `lookup` of a document's uri: its chunks there).
/// Errors: `Internal` (the engine returned bad JSON).
pub(crate) fn chunks_in(found: &[String], table: &str) -> Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for e in found {
        let v: serde_json::Value =
            serde_json::from_str(e).map_err(|e| Error::Internal(format!("the engine returned bad JSON: {e}")))?;
        if v["entity_type"] == table {
            out.push(v);
        }
    }
    Ok(out)
}

/// The file hash every one of `chunks` carries in `metadata.file_hash`; `None` when there are
/// none, or they disagree, or one has none (then the file is not known unchanged).
pub(crate) fn chunks_hash(chunks: &[serde_json::Value]) -> Option<&str> {
    let first = chunks.first()?["properties"]["metadata"]["file_hash"].as_str()?;
    chunks.iter().all(|c| c["properties"]["metadata"]["file_hash"] == first).then_some(first)
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

/// Ingest the files of `listing` (as [`expand`] lists them; its ignored and unsupported entries
/// go into the summary), calling `progress(file, outcome)` after each, in the order they finish.
/// Files are read, extracted and chunked on one worker thread per core (at most 8) while this
/// thread writes them one transaction each; the summary lists files in `listing` order. With
/// the default tables, the core schemas are registered first if `resources` or `documents` is
/// missing. Errors: `InvalidArgument` (bad chunk settings), `SchemaNotFound` (custom tables not
/// registered), database errors (the run stops; files written before stay written).
pub fn ingest_files(
    db: &dyn Api,
    listing: &Listing,
    options: &IngestOptions,
    progress: &mut dyn FnMut(&Path, &FileOutcome),
) -> Result<Summary> {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};
    let chunker = Chunker::new(options.chunk_size, options.overlap, options.unit)?;
    if options.table == "resources" && options.documents == "documents" {
        let tables = db.list_schemas()?;
        if !(tables.iter().any(|t| t == "resources") && tables.iter().any(|t| t == "documents")) {
            db.register_core_schemas()?;
        }
    }
    let listed = |v: &[(PathBuf, String)]| v.iter().map(|(p, why)| (p.display().to_string(), why.clone())).collect();
    let mut summary = Summary {
        files: listing.files.len() + listing.unsupported.len(),
        ignored: listed(&listing.ignored),
        unsupported: listed(&listing.unsupported),
        ..Summary::default()
    };
    let files = &listing.files;
    let stored = &if options.force { HashMap::new() } else { stored_hashes(db, files, &options.table)? };
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8).min(files.len().max(1));
    let next = AtomicUsize::new(0);
    let mut outcomes: Vec<Option<FileOutcome>> = vec![None; files.len()];
    let mut extract_time = Duration::ZERO;
    let mut chunk_time = Duration::ZERO;
    let mut write_time = Duration::ZERO;
    let chunker = &chunker;
    let written: Result<()> = std::thread::scope(|scope| {
        // Bounded: a worker with a prepared file waits while one is queued, so at most
        // `workers + 2` files' chunks are in memory (one per worker, one queued, one writing).
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        for _ in 0..workers {
            let (tx, next) = (tx.clone(), &next);
            let work = move || {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(file) = files.get(i) else { break };
                    // A reader that panics on a hostile file fails that file, not the run.
                    let prepared = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        prepare(file, chunker, options, stored.get(file).map(String::as_str))
                    }))
                    .unwrap_or_else(|_| {
                        Err(FileOutcome::Failed("reading this file failed (a reader panicked)".into()))
                    });
                    if tx.send((i, prepared)).is_err() {
                        break; // the writer stopped on an error
                    }
                }
            };
            // The readers recurse into nested structures: give them the main thread's stack.
            std::thread::Builder::new()
                .name("rem-ingest".into())
                .stack_size(WORKER_STACK)
                .spawn_scoped(scope, work)
                .map_err(|e| Error::Internal(format!("cannot start an ingest worker: {e}")))?;
        }
        drop(tx);
        for (i, prepared) in rx {
            let outcome = match prepared {
                Ok(p) => {
                    extract_time += p.extract;
                    chunk_time += p.chunk;
                    let started = Instant::now();
                    let outcome =
                        db.write_document(&options.documents, &options.table, &p.document, p.rows, options.force)?;
                    write_time += started.elapsed();
                    outcome
                }
                Err(outcome) => outcome,
            };
            progress(&files[i], &outcome);
            outcomes[i] = Some(outcome);
        }
        Ok(())
    });
    written?;
    for (file, outcome) in files.iter().zip(outcomes) {
        let path = file.display().to_string();
        // Every file has its outcome once the writer has gone through the channel to its end.
        match outcome.ok_or_else(|| Error::Internal(format!("{path} was not read")))? {
            FileOutcome::Ingested { chunks, removed, .. } => {
                summary.ingested += 1;
                summary.chunks += chunks;
                summary.removed += removed;
            }
            FileOutcome::Unchanged => summary.skipped += 1,
            FileOutcome::Failed(why) => summary.errors.push((path, why)),
            FileOutcome::Unsupported(why) => summary.unsupported.push((path, why)),
        }
    }
    summary.extract_seconds = extract_time.as_secs_f64();
    summary.chunk_seconds = chunk_time.as_secs_f64();
    summary.write_seconds = write_time.as_secs_f64();
    Ok(summary)
}
