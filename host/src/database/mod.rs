//! [`Database`]: a tenant's handle on a REM database, running the engine
//! component in a wasmtime store over redb.
//!
//! Atomicity: every method runs in exactly one redb transaction, which the
//! host opens before calling into the engine. Mutating methods use a write
//! transaction that is committed only if the engine returns `ok`; an error or
//! a trap aborts it, so nothing of a failed call is ever written. Reads use a
//! read snapshot. After a trap the store is discarded and a fresh instance is
//! made on the next call.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use wasmtime::Store;
use wasmtime::component::ResourceAny;

use crate::bindings::Engine as Bindings;
use crate::bindings::exports::rem::engine::database as wit_db;
use crate::bindings::rem::engine::types as wit;
use crate::config;
use crate::embed::Embeddings;
use crate::error::{Error, PathSegment, Result};
use crate::graph::{Direction, Strategy};
use crate::kv::Txn;
use crate::runtime::{EPOCH_TICK, Runtime};
use crate::state::{HostState, Stop};

/// Largest tenant name, in bytes.
pub const MAX_TENANT_LEN: usize = 128;

/// Rows per engine call in [`Database::insert_batch_with_progress`].
pub const DEFAULT_BATCH_CHUNK: usize = 1000;

/// What [`Database::search`] looks for.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchQuery {
    /// Text, embedded with the table's model.
    Text(String),
    /// A vector of the table's dimension.
    Vector(Vec<f32>),
}

/// Options of [`Database::search`].
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    /// Top-k (1 to 10,000). Default 10.
    pub top_k: u32,
    /// Smallest score returned (score = 1 - cosine distance). Default -1 (no cut).
    pub min_score: f32,
    /// A REM SQL predicate (what follows WHERE).
    pub filter: Option<String>,
    /// Fuse a BM25 keyword ranking with the vector ranking (reciprocal rank fusion); needs a text query.
    pub hybrid: bool,
    /// Override the table's `ef_search`.
    pub ef_search: Option<u32>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions { top_k: 10, min_score: -1.0, filter: None, hybrid: false, ef_search: None }
    }
}

/// A check run about every [`INTERRUPT_POLL`] while an engine call runs; when it answers `true`
/// the call is stopped and rolled back with [`Error::Interrupted`] (the Python wheel checks for
/// Ctrl-C here).
#[derive(Clone)]
pub struct InterruptCheck(pub Arc<dyn Fn() -> bool + Send + Sync>);

impl std::fmt::Debug for InterruptCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InterruptCheck(..)")
    }
}

/// How often a running call asks its [`InterruptCheck`]: 100 ms.
pub const INTERRUPT_POLL: Duration = Duration::from_millis(100);

/// Options for [`Database::open`].
#[derive(Debug, Clone)]
pub struct OpenOptions {
    /// Database directory (holds `rem.redb`); `None` for a throwaway in-memory database.
    pub path: Option<PathBuf>,
    /// Tenant (1 to 128 bytes). Default `default`.
    pub tenant: String,
    /// Guest linear-memory cap in bytes. Default `$P8_MEMORY_LIMIT_MIB` or 2 GiB.
    pub memory_limit: u64,
    /// Embedding providers (default model, weights folder, custom function).
    pub embeddings: Embeddings,
    /// Deadline of each engine call, host-side embedding included (`None`: no deadline). Default
    /// `$P8_CALL_TIMEOUT_MS`, else [`config::DEFAULT_CALL_TIMEOUT_MS`] (60 s). Resolution:
    /// [`crate::EPOCH_TICK`] (5 ms). Deadlines cost up to ~20% in compute-bound calls (wasmtime's
    /// epoch checks; `docs/benchmarks.md`), so `None` runs the engine without them.
    pub call_timeout: Option<std::time::Duration>,
    /// Stops a running call when it answers `true` (see [`InterruptCheck`]). Default none.
    pub interrupt: Option<InterruptCheck>,
    /// Apply large write batches on a second thread while the engine goes on (`kv::pipeline`).
    /// Default `$P8_WRITE_PIPELINE`, else on. On a machine whose other core is busy the second
    /// thread costs more than it saves; turn it off there (`docs/benchmarks.md`, issue 2).
    pub write_pipeline: bool,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            path: Some(config::default_db_path()),
            tenant: "default".into(),
            // A bad setting falls back to its default here; `Database::open` refuses it (config::check_env).
            memory_limit: config::memory_limit_from_env()
                .ok()
                .flatten()
                .unwrap_or(config::DEFAULT_MEMORY_LIMIT_MIB * 1024 * 1024),
            embeddings: Embeddings::default(),
            call_timeout: config::call_timeout_from_env()
                .unwrap_or(Some(Duration::from_millis(config::DEFAULT_CALL_TIMEOUT_MS))),
            interrupt: None,
            write_pipeline: config::write_pipeline_from_env().unwrap_or(true),
        }
    }
}

impl OpenOptions {
    /// Options for the database directory `path`.
    pub fn at(path: impl Into<PathBuf>) -> Self {
        OpenOptions { path: Some(path.into()), ..Default::default() }
    }
    /// Options for a throwaway in-memory database.
    pub fn in_memory() -> Self {
        OpenOptions { path: None, ..Default::default() }
    }
    /// Use `tenant`.
    pub fn tenant(mut self, tenant: impl Into<String>) -> Self {
        self.tenant = tenant.into();
        self
    }
    /// Cap guest memory at `bytes`.
    pub fn memory_limit(mut self, bytes: u64) -> Self {
        self.memory_limit = bytes;
        self
    }
    /// Stop any engine call still running after `timeout` (`Error::Timeout`, rolled back).
    pub fn call_timeout(mut self, timeout: Option<std::time::Duration>) -> Self {
        self.call_timeout = timeout;
        self
    }
    /// Stop running calls when `check` answers `true` ([`Error::Interrupted`], rolled back).
    pub fn interrupt(mut self, check: InterruptCheck) -> Self {
        self.interrupt = Some(check);
        self
    }
    /// Turn the write pipeline on or off (see [`OpenOptions::write_pipeline`]).
    pub fn write_pipeline(mut self, on: bool) -> Self {
        self.write_pipeline = on;
        self
    }
    /// Use `embeddings` (e.g. `Embeddings::new(Some("hash:384".into()), None)` for a model-free default).
    pub fn embeddings(mut self, embeddings: Embeddings) -> Self {
        self.embeddings = embeddings;
        self
    }
}

struct Live {
    store: Store<HostState>,
    bindings: Bindings,
    handle: ResourceAny,
    /// Whether engine calls run with epoch checks (a deadline or an interrupt check).
    timed: bool,
    /// The deadline each engine call gets, from its own start.
    call_timeout: Option<Duration>,
}

struct Inner {
    /// Always `Some` until the handle is dropped (see `Drop for Database`).
    redb: Option<redb::Database>,
    live: Option<Live>,
}

/// A tenant's handle on a REM database. `Send + Sync`: calls are serialised
/// by an internal mutex.
///
/// Fork safety: a handle belongs to the process that opened it. In a child made by `fork()`
/// every call fails with [`Error::Forked`], and dropping the handle there releases nothing and
/// writes nothing (the parent's open file, lock and any transaction in flight are left alone),
/// so the parent's database is never written through a copied handle.
pub struct Database {
    inner: Mutex<Inner>,
    /// The process that opened the handle.
    pid: u32,
    interrupt: Option<InterruptCheck>,
    tenant: String,
    memory_limit: u64,
    path: Option<PathBuf>,
    embeddings: Embeddings,
    call_timeout: Option<std::time::Duration>,
    write_pipeline: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_keep_order_and_bound_rows_and_bytes() {
        let rows: Vec<String> = [10, 10, 300_000, 10, 200_000, 100_000, 5].iter().map(|&n| "x".repeat(n)).collect();
        let parts: Vec<Vec<usize>> = batches(&rows, 2).map(|p| p.iter().map(String::len).collect()).collect();
        assert_eq!(parts, vec![vec![10, 10], vec![300_000], vec![10, 200_000], vec![100_000, 5]]);
        let small: Vec<String> = (0..2500).map(|i| i.to_string()).collect();
        let sizes: Vec<usize> = batches(&small, 1000).map(<[String]>::len).collect();
        assert_eq!(sizes, vec![1000, 1000, 500]);
        assert_eq!(batches(&[], 1000).count(), 0);
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Read,
    Write,
}

fn io(context: String, e: impl std::fmt::Display) -> Error {
    Error::Io { context, message: e.to_string() }
}

/// What to say after "the database file ... is damaged".
const DAMAGED_NEXT_STEP: &str = "restore it from a backup, or move it aside to start an empty database there";

/// The error for a damaged database file at `file`.
fn damaged(file: &Path, what: impl std::fmt::Display) -> Error {
    Error::Storage(format!("the database file {} is damaged: {what}; {DAMAGED_NEXT_STEP}", file.display()))
}

/// Open (creating, owner-only) the redb file in `dir`. A file left by an unclean shutdown is
/// repaired by redb first, with its progress on stderr. Errors: `Locked`, `Io`, `Storage`
/// (a damaged file, named, with what to do).
fn open_redb(dir: &Path) -> Result<redb::Database> {
    crate::private::create_dir(dir)
        .map_err(|e| io(format!("cannot create database directory {}", dir.display()), e))?;
    let path = dir.join(config::DB_FILE);
    let file =
        crate::private::open_or_create_file(&path).map_err(|e| io(format!("cannot open {}", path.display()), e))?;
    let mut builder = redb::Database::builder();
    // Whole percents of a repair already reported (u32::MAX: none), so a line is written only when it changes.
    let shown = Arc::new(std::sync::atomic::AtomicU32::new(u32::MAX));
    let seen = shown.clone();
    builder.set_repair_callback(move |session| {
        let pct = (session.progress() * 100.0) as u32;
        if seen.swap(pct, std::sync::atomic::Ordering::Relaxed) != pct {
            eprint!("\rrepairing the database after an unclean shutdown... {pct:3}%");
        }
    });
    // redb reports most damage as errors; a panic inside it is damage it did not expect.
    let opened = std::panic::catch_unwind(AssertUnwindSafe(|| builder.create_file(file)));
    if shown.load(std::sync::atomic::Ordering::Relaxed) != u32::MAX {
        eprintln!("\rrepairing the database after an unclean shutdown... done");
    }
    match opened {
        Ok(Ok(db)) => Ok(db),
        Ok(Err(redb::DatabaseError::DatabaseAlreadyOpen)) => Err(Error::Locked(dir.to_path_buf())),
        // redb reports a file that is not a database (bad magic number, short header) as `InvalidData`.
        Ok(Err(redb::DatabaseError::Storage(redb::StorageError::Io(e))))
            if !matches!(e.kind(), std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof) =>
        {
            Err(io(format!("cannot open {}", path.display()), e))
        }
        Ok(Err(e @ redb::DatabaseError::Storage(redb::StorageError::Corrupted(_) | redb::StorageError::Io(_)))) => {
            Err(damaged(&path, e))
        }
        Ok(Err(redb::DatabaseError::UpgradeRequired(v))) => Err(Error::Storage(format!(
            "{} was written in redb file format {v}, which this REM cannot read; open it with the REM that wrote it \
             and export the data",
            path.display()
        ))),
        Ok(Err(e)) => Err(Error::Storage(format!("cannot open {}: {e}", path.display()))),
        Err(panic) => Err(damaged(&path, crate::error::panic_message(&*panic))),
    }
}

/// Most bytes of row text sent to the engine in one call: 256 KiB, about 256 rows of long text,
/// which MiniLM embeds in ~25 s on 2 cores (each text is cut at 256 tokens, about 1,000
/// characters), inside the default 60 s per-call deadline.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// `rows` split into runs of at most `max_rows` rows and [`MAX_BATCH_BYTES`] bytes (a longer
/// row goes alone), in order.
fn batches(rows: &[String], max_rows: usize) -> impl Iterator<Item = &[String]> {
    let max_rows = max_rows.max(1);
    let mut rest = rows;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut bytes = 0;
        let mut n = 0;
        while n < rest.len() && n < max_rows && (n == 0 || bytes + rest[n].len() <= MAX_BATCH_BYTES) {
            bytes += rest[n].len();
            n += 1;
        }
        let (part, tail) = rest.split_at(n);
        rest = tail;
        Some(part)
    })
}

/// Make the row index at the start of validation `loc`s global across chunks.
fn shift_rows(e: Error, offset: u32) -> Error {
    match e {
        Error::Validation(mut issues) => {
            for i in &mut issues {
                if let Some(PathSegment::Index(r)) = i.loc.first_mut() {
                    *r += offset;
                }
            }
            Error::Validation(issues)
        }
        other => other,
    }
}

/// Epoch ticks until the callback should next look: at the deadline, and every
/// [`INTERRUPT_POLL`] when there is an interrupt check.
fn next_check(deadline: Option<Instant>, polling: bool) -> u64 {
    let tick = EPOCH_TICK.as_micros().max(1);
    let until = deadline.map_or(u64::MAX / 4, |d| {
        (d.saturating_duration_since(Instant::now()).as_micros().div_ceil(tick) as u64).max(1)
    });
    if polling { until.min((INTERRUPT_POLL.as_micros() / tick).max(1) as u64) } else { until }
}

impl Drop for Database {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        if std::process::id() != self.pid {
            // A copy made by fork(): closing redb here would write the parent's file (and abort a
            // transaction the parent may have in flight), so leak the copy instead.
            std::mem::forget(inner.live.take());
            std::mem::forget(inner.redb.take());
            return;
        }
        // Closing writes to the file; on a damaged one redb may panic, which must not escape a drop.
        let (live, redb) = (inner.live.take(), inner.redb.take());
        let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop((live, redb))));
    }
}

impl Database {
    /// Open (creating if needed) the database described by `options`.
    ///
    /// Errors: `InvalidArgument` (bad tenant), `Locked` (another process has
    /// it open), `Io`, `Storage`, `Internal` (the engine failed to load).
    pub fn open(options: OpenOptions) -> Result<Database> {
        let problems = config::check_env();
        if !problems.is_empty() {
            return Err(Error::InvalidArgument(format!(
                "bad settings in the environment: {}; fix or unset them",
                problems.join("; ")
            )));
        }
        if options.tenant.is_empty() || options.tenant.len() > MAX_TENANT_LEN {
            return Err(Error::InvalidArgument(format!(
                "tenant must be 1 to {MAX_TENANT_LEN} bytes, got {:?}",
                options.tenant
            )));
        }
        let redb = match &options.path {
            Some(dir) => open_redb(dir)?,
            None => redb::Database::builder()
                .create_with_backend(redb::backends::InMemoryBackend::new())
                .map_err(|e| Error::Storage(e.to_string()))?,
        };
        let db = Database {
            inner: Mutex::new(Inner { redb: Some(redb), live: None }),
            pid: std::process::id(),
            interrupt: options.interrupt,
            tenant: options.tenant,
            memory_limit: options.memory_limit,
            path: options.path,
            embeddings: options.embeddings,
            call_timeout: options.call_timeout,
            write_pipeline: options.write_pipeline,
        };
        // Instantiate now so configuration problems surface at open.
        db.transaction(Mode::Read, |_| Ok(()))?;
        Ok(db)
    }

    /// Open the database directory `path` as tenant `default`.
    pub fn open_path(path: impl Into<PathBuf>) -> Result<Database> {
        Database::open(OpenOptions::at(path))
    }

    /// A throwaway in-memory database.
    pub fn in_memory() -> Result<Database> {
        Database::open(OpenOptions::in_memory())
    }

    /// The engine's version and storage format (`rem-core <semver> (format <n>)`): one export
    /// call that touches no storage. Errors: `Trap`, `Internal`, `Forked`.
    pub fn engine_version(&self) -> Result<String> {
        self.transaction(Mode::Read, |live| {
            live.bindings.rem_engine_database().call_version(&mut live.store).map_err(|e| Error::Trap(format!("{e:#}")))
        })
    }

    /// The tenant this handle reads and writes.
    pub fn tenant(&self) -> &str {
        &self.tenant
    }

    /// The database directory (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The handle's state, for a call. Errors: `Forked` in a child process. A mutex poisoned by a
    /// panic (which `transaction` catches, so only a bug elsewhere) is taken over with a fresh engine.
    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>> {
        // Checked before locking: a fork taken while another thread held the lock copies it held.
        let now = std::process::id();
        if now != self.pid {
            return Err(Error::Forked { opened_in: self.pid, now });
        }
        Ok(self.inner.lock().unwrap_or_else(|poisoned| {
            let mut inner = poisoned.into_inner();
            inner.live = None;
            inner
        }))
    }

    fn ensure_live<'a>(&self, inner: &'a mut Inner) -> Result<&'a mut Live> {
        if inner.live.is_none() {
            let rt = Runtime::shared_for(self.call_timeout.is_some() || self.interrupt.is_some())?;
            // A runtime built before a fork() has no ticker thread in the child.
            rt.ensure_ticker();
            let mut state = HostState::new(self.memory_limit, self.embeddings.clone());
            state.interrupt = self.interrupt.clone();
            let mut store = Store::new(&rt.engine, state);
            store.limiter(|s| &mut s.limiter);
            // Each call sets its own deadline; instantiation runs without one.
            if rt.deadlines {
                store.set_epoch_deadline(u64::MAX / 2);
                store.epoch_deadline_callback(|mut ctx| {
                    let state = ctx.data_mut();
                    if state.deadline.is_some_and(|d| Instant::now() >= d) {
                        state.stop = Some(Stop::Deadline);
                    } else if state.interrupt.as_ref().is_some_and(|check| (check.0)()) {
                        state.stop = Some(Stop::Interrupted);
                    } else {
                        return Ok(wasmtime::UpdateDeadline::Continue(next_check(
                            state.deadline,
                            state.interrupt.is_some(),
                        )));
                    }
                    Ok(wasmtime::UpdateDeadline::Interrupt)
                });
            }
            let inst = |e: wasmtime::Error| Error::Internal(format!("instantiating the engine: {e:#}"));
            let bindings = rt.pre.instantiate(&mut store).map_err(inst)?;
            let handle =
                bindings.rem_engine_database().database().call_constructor(&mut store, &self.tenant).map_err(inst)?;
            inner.live = Some(Live { store, bindings, handle, timed: false, call_timeout: None });
        }
        Ok(inner.live.as_mut().expect("just made"))
    }

    /// Run `body` (one or more engine calls) in one transaction of `mode`. A panic anywhere in it
    /// (redb meeting a damaged file, or a bug) rolls the transaction back and becomes an error:
    /// no panic leaves this function, and the handle stays usable with a fresh engine.
    fn transaction<T>(&self, mode: Mode, body: impl FnOnce(&mut Live) -> Result<T>) -> Result<T> {
        let mut inner = self.lock()?;
        match std::panic::catch_unwind(AssertUnwindSafe(|| self.transaction_in(&mut inner, mode, body))) {
            Ok(result) => result,
            Err(panic) => {
                let text = crate::error::panic_message(&*panic);
                // Dropping the engine drops its transaction, which rolls back; that may meet the same damage.
                let live = inner.live.take();
                let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop(live)));
                Err(match &self.path {
                    // A panic is most often redb meeting a damaged page; it may also be a bug.
                    Some(dir) => Error::Storage(format!(
                        "the call failed unexpectedly and was rolled back ({text}); if this repeats, the database \
                         file {} may be damaged: {DAMAGED_NEXT_STEP}",
                        dir.join(config::DB_FILE).display()
                    )),
                    None => Error::Internal(format!("{text} (the call was rolled back; a bug in REM)")),
                })
            }
        }
    }

    fn transaction_in<T>(&self, inner: &mut Inner, mode: Mode, body: impl FnOnce(&mut Live) -> Result<T>) -> Result<T> {
        let redb = inner.redb.as_ref().ok_or_else(|| Error::Internal("the database is closed".into()))?;
        let txn = match mode {
            Mode::Read => Txn::read(redb),
            Mode::Write => Txn::write_with(redb, self.write_pipeline),
        }
        .map_err(Error::Storage)?;
        let live = self.ensure_live(inner)?;
        let state = live.store.data_mut();
        state.txn = Some(txn);
        state.limiter.hit = false;
        state.ok_calls = 0;
        live.timed = self.call_timeout.is_some() || self.interrupt.is_some();
        live.call_timeout = self.call_timeout;
        let result = body(live);
        let txn = live.store.data_mut().txn.take();
        // The engine keeps caches between calls (vector graphs, adjacency lists) keyed by
        // generation numbers it writes. When writes an engine call made are rolled back after
        // it returned (a later call of the same transaction failed, or the commit did), or a
        // call trapped or failed in storage, its caches may be ahead of the store: start afresh.
        let undone = mode == Mode::Write && result.is_err() && live.store.data().ok_calls > 0;
        let suspect = matches!(
            result,
            Err(Error::Trap(_)
                | Error::ResourceExhausted(_)
                | Error::Timeout(_)
                | Error::Interrupted(_)
                | Error::Storage(_))
        );
        if undone || suspect {
            inner.live = None;
        }
        match (result, txn) {
            (Ok(v), Some(t)) => t.commit().map(|_| v).map_err(|e| {
                inner.live = None;
                Error::Storage(format!("commit failed: {e}"))
            }),
            (Ok(_), None) => Err(Error::Internal("transaction vanished during the call".into())),
            (Err(e), t) => {
                if let Some(t) = t {
                    t.abort().map_err(|a| Error::Storage(format!("{e}; and the rollback failed: {a}")))?;
                }
                Err(e)
            }
        }
    }

    /// One engine call: maps the WIT error and turns traps into `Trap`/`ResourceExhausted`.
    fn invoke<T>(
        live: &mut Live,
        f: impl FnOnce(
            &mut Store<HostState>,
            &Bindings,
            ResourceAny,
        ) -> wasmtime::Result<std::result::Result<T, wit::Error>>,
    ) -> Result<T> {
        // Each engine call has its own deadline, from its start (a batch sent in chunks gets one per chunk).
        let state = live.store.data_mut();
        state.stop = None;
        state.deadline = live.call_timeout.map(|t| Instant::now() + t);
        if live.timed {
            let ticks = next_check(state.deadline, state.interrupt.is_some());
            live.store.set_epoch_deadline(ticks);
        }
        let outcome = f(&mut live.store, &live.bindings, live.handle);
        // A stop asked for by the epoch callback or by a host import (embedding past the deadline).
        match live.store.data().stop {
            Some(Stop::Deadline) if outcome.as_ref().map_or(true, |r| r.is_err()) => {
                return Err(Error::Timeout(
                    "the call ran past its deadline and was stopped; nothing it wrote was kept".into(),
                ));
            }
            Some(Stop::Interrupted) if outcome.as_ref().map_or(true, |r| r.is_err()) => {
                return Err(Error::Interrupted("the call was interrupted; nothing it wrote was kept".into()));
            }
            _ => {}
        }
        match outcome {
            Ok(Ok(v)) => {
                live.store.data_mut().ok_calls += 1;
                Ok(v)
            }
            Ok(Err(e)) => Err(e.into()),
            Err(trap) => {
                if live.store.data().limiter.hit {
                    Err(Error::ResourceExhausted(format!(
                        "the engine needed more than its memory cap of {} MiB",
                        live.store.data().limiter.max / (1024 * 1024)
                    )))
                } else {
                    Err(Error::Trap(format!("{trap:#}")))
                }
            }
        }
    }

    fn call<T>(
        &self,
        mode: Mode,
        f: impl FnOnce(
            &mut Store<HostState>,
            &Bindings,
            ResourceAny,
        ) -> wasmtime::Result<std::result::Result<T, wit::Error>>,
    ) -> Result<T> {
        self.transaction(mode, |live| Self::invoke(live, f))
    }

    /// Register or replace the schema of table `name` from a JSON Schema
    /// document (JSON text). Returns the stored schema record as JSON.
    /// Errors: `InvalidSchema`, `SchemaConflict` (major version bump), `InvalidArgument`, `Storage`.
    pub fn register_schema(&self, name: &str, schema_json: &str) -> Result<String> {
        self.call(Mode::Write, |s, b, h| {
            b.rem_engine_database().database().call_register_schema(s, h, name, schema_json)
        })
    }

    /// Register several `(name, schema_json)` at once, all or none (one transaction).
    /// Returns the stored records. Errors: as [`Database::register_schema`].
    pub fn register_schemas(&self, schemas: &[(&str, &str)]) -> Result<Vec<String>> {
        self.transaction(Mode::Write, |live| {
            schemas
                .iter()
                .map(|(name, schema)| {
                    Self::invoke(live, |s, b, h| {
                        b.rem_engine_database().database().call_register_schema(s, h, name, schema)
                    })
                })
                .collect()
        })
    }

    /// Write one ingested document in one transaction: skip it when `documents` already
    /// holds its `uri` with the same `file_hash` (unless `force`); else upsert the document
    /// row, upsert `chunks` (each given `document_id`) into `table`, hard-delete the chunks
    /// of that uri beyond the new count, and add a `part_of` edge from each chunk to the
    /// document. Errors: `SchemaNotFound`, `Validation` (rows not fitting the tables), `Embedding`.
    pub fn write_document(
        &self,
        documents: &str,
        table: &str,
        document: &serde_json::Value,
        mut chunks: Vec<serde_json::Value>,
        force: bool,
    ) -> Result<crate::ingest::FileOutcome> {
        use crate::ingest::FileOutcome;
        let parse = |s: &str| -> Result<serde_json::Value> {
            serde_json::from_str(s).map_err(|e| Error::Internal(format!("the engine returned bad JSON: {e}")))
        };
        let uri = document["uri"].as_str().unwrap_or_default().to_string();
        let hash = document["file_hash"].clone();
        self.transaction(Mode::Write, |live| {
            let found = Self::invoke(live, |s, b, h| b.rem_engine_database().database().call_lookup(s, h, &uri))?;
            let mut same = false;
            let mut old: Vec<(String, u64)> = Vec::new();
            for e in &found {
                let v = parse(e)?;
                let id = v["id"].as_str().unwrap_or_default().to_string();
                if v["entity_type"] == documents {
                    same = v["properties"]["file_hash"] == hash;
                } else if v["entity_type"] == table {
                    old.push((id, v["properties"]["chunk_ordinal"].as_u64().unwrap_or(0)));
                }
            }
            if same && !force {
                return Ok(FileOutcome::Unchanged);
            }
            let doc = Self::invoke(live, |s, b, h| {
                b.rem_engine_database().database().call_insert(s, h, documents, &document.to_string())
            })?;
            let document_id = parse(&doc)?["id"].as_str().unwrap_or_default().to_string();
            for c in &mut chunks {
                c["document_id"] = document_id.clone().into();
            }
            let rows: Vec<String> = chunks.iter().map(|c| c.to_string()).collect();
            let mut ids = Vec::with_capacity(rows.len());
            for part in batches(&rows, DEFAULT_BATCH_CHUNK) {
                ids.extend(Self::invoke(live, |s, b, h| {
                    b.rem_engine_database().database().call_insert_batch(s, h, table, part)
                })?);
            }
            let mut removed = 0;
            for (id, ordinal) in old {
                if ordinal >= ids.len() as u64 {
                    Self::invoke(live, |s, b, h| b.rem_engine_database().database().call_delete(s, h, &id, true))?;
                    removed += 1;
                }
            }
            let edges: Vec<String> = ids
                .iter()
                .map(|id| serde_json::json!({"src": id, "dst": document_id, "rel_type": "part_of"}).to_string())
                .collect();
            Self::invoke(live, |s, b, h| b.rem_engine_database().database().call_add_edges(s, h, &edges))?;
            Ok(FileOutcome::Ingested { document_id, chunks: ids.len(), removed })
        })
    }

    /// Registered table names, sorted. Errors: `Storage`.
    pub fn list_schemas(&self) -> Result<Vec<String>> {
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_list_schemas(s, h))
    }

    /// The schema record of `name` as JSON. Errors: `SchemaNotFound`.
    pub fn get_schema(&self, name: &str) -> Result<String> {
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_get_schema(s, h, name))
    }

    /// Validate and upsert one entity (`data`: JSON object text); returns the
    /// stored entity as JSON. Errors: `SchemaNotFound`, `InvalidArgument`, `Validation`, `Storage`.
    pub fn insert(&self, table: &str, data: &str) -> Result<String> {
        self.call(Mode::Write, |s, b, h| b.rem_engine_database().database().call_insert(s, h, table, data))
    }

    /// Upsert every row (JSON object texts) or none, in one transaction; returns ids in order.
    /// Validation issues carry the row index as their first `loc` segment.
    ///
    /// Sent to the engine at most [`DEFAULT_BATCH_CHUNK`] rows and [`MAX_BATCH_BYTES`] bytes per
    /// engine call, so the per-call deadline bounds each chunk (and its embedding), not the whole batch.
    pub fn insert_batch(&self, table: &str, rows: &[String]) -> Result<Vec<String>> {
        self.insert_batch_with_progress(table, rows, DEFAULT_BATCH_CHUNK, &mut |_| {})
    }

    /// Like [`Database::insert_batch`], sent to the engine at most `chunk` rows (and
    /// [`MAX_BATCH_BYTES`] bytes) at a time inside one transaction (all or nothing), calling
    /// `progress(rows_done)` after each chunk.
    pub fn insert_batch_with_progress(
        &self,
        table: &str,
        rows: &[String],
        chunk: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<Vec<String>> {
        self.transaction(Mode::Write, |live| {
            let mut ids = Vec::with_capacity(rows.len());
            for part in batches(rows, chunk) {
                let offset = ids.len() as u32;
                let got = Self::invoke(live, |s, b, h| {
                    b.rem_engine_database().database().call_insert_batch(s, h, table, part)
                })
                .map_err(|e| shift_rows(e, offset))?;
                ids.extend(got);
                progress(ids.len());
            }
            Ok(ids)
        })
    }

    /// The entity `id` as JSON (soft-deleted ones included), or `None`.
    /// Errors: `InvalidArgument` (not a UUID), `Storage`.
    pub fn get(&self, id: &str) -> Result<Option<String>> {
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_get(s, h, id))
    }

    /// `get` for each id, in order.
    pub fn get_many(&self, ids: &[String]) -> Result<Vec<Option<String>>> {
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_get_many(s, h, ids))
    }

    /// Merge `patch` (JSON object text) into the entity's properties, re-validate, store.
    /// Errors: `NotFound`, `InvalidArgument`, `Validation`, `Storage`.
    pub fn update(&self, id: &str, patch: &str) -> Result<String> {
        self.call(Mode::Write, |s, b, h| b.rem_engine_database().database().call_update(s, h, id, patch))
    }

    /// Soft delete, or with `hard` remove the entity and its index entries.
    /// Returns the entity as last stored. Errors: `NotFound`, `InvalidArgument`, `Storage`.
    pub fn delete(&self, id: &str, hard: bool) -> Result<String> {
        self.call(Mode::Write, |s, b, h| b.rem_engine_database().database().call_delete(s, h, id, hard))
    }

    /// Live entities whose natural key is exactly `key`, across tables.
    pub fn lookup(&self, key: &str) -> Result<Vec<String>> {
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_lookup(s, h, key))
    }

    /// Up to `limit` live entities of `table` after `offset`, in id order.
    /// Errors: `SchemaNotFound`, `Storage`.
    pub fn list(&self, table: &str, limit: Option<u32>, offset: u32) -> Result<Vec<String>> {
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_list(s, h, table, limit, offset))
    }

    /// Number of live entities in `table`. Errors: `SchemaNotFound`, `Storage`.
    pub fn count(&self, table: &str) -> Result<u64> {
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_count(s, h, table))
    }

    /// Add (upsert) the edge `src -[rel_type]-> dst` (ids or natural keys, both must exist) with
    /// optional JSON-object `properties`. Returns the edge as JSON. Errors: `NotFound`, `InvalidArgument`.
    pub fn add_edge(&self, src: &str, dst: &str, rel_type: &str, properties: Option<&str>) -> Result<String> {
        self.call(Mode::Write, |s, b, h| {
            b.rem_engine_database().database().call_add_edge(s, h, src, dst, rel_type, properties)
        })
    }

    /// Add (upsert) many edges (JSON objects `{src, dst, rel_type, properties?}`, ends as ids or
    /// natural keys), `chunk` per engine call inside one transaction (all or none), calling
    /// `progress(edges_done)` after each chunk. Validation issues carry the global edge index.
    pub fn add_edges_with_progress(
        &self,
        edges: &[String],
        chunk: usize,
        progress: &mut dyn FnMut(usize),
    ) -> Result<u32> {
        let chunk = chunk.max(1);
        self.transaction(Mode::Write, |live| {
            let mut done = 0u32;
            for (n, part) in edges.chunks(chunk).enumerate() {
                let offset = (n * chunk) as u32;
                done += Self::invoke(live, |s, b, h| b.rem_engine_database().database().call_add_edges(s, h, part))
                    .map_err(|e| shift_rows(e, offset))?;
                progress(done as usize);
            }
            Ok(done)
        })
    }

    /// Edges of `id` (or natural key) in `direction`, filtered by `rel_types` (empty: all), as a JSON array.
    pub fn get_edges(&self, id: &str, direction: Direction, rel_types: &[String]) -> Result<String> {
        self.call(Mode::Read, |s, b, h| {
            b.rem_engine_database().database().call_get_edges(s, h, id, direction.into(), rel_types)
        })
    }

    /// Remove the edge `src -[rel_type]-> dst`; returns it as JSON. Errors: `NotFound`.
    pub fn delete_edge(&self, src: &str, dst: &str, rel_type: &str) -> Result<String> {
        self.call(Mode::Write, |s, b, h| b.rem_engine_database().database().call_delete_edge(s, h, src, dst, rel_type))
    }

    /// Walk from `start` (id or natural key) up to `depth` hops (1 to 10); returns a JSON array of
    /// `{id, depth, path}`, the start first. Errors: `NotFound`, `InvalidArgument`.
    pub fn traverse(
        &self,
        start: &str,
        direction: Direction,
        depth: u32,
        rel_types: &[String],
        strategy: Strategy,
        limit: Option<u32>,
    ) -> Result<String> {
        self.call(Mode::Read, |s, b, h| {
            let db = b.rem_engine_database().database();
            db.call_traverse(s, h, start, direction.into(), depth, rel_types, strategy.into(), limit)
        })
    }

    /// Shortest path within `max_depth` hops: fewest hops, or least total `weight` when `weighted`.
    /// Returns JSON `{source, target, hops, cost, nodes, path}`. Errors: `NotFound` ("no path ...").
    pub fn shortest_path(
        &self,
        source: &str,
        target: &str,
        direction: Direction,
        max_depth: u32,
        rel_types: &[String],
        weighted: bool,
    ) -> Result<String> {
        self.call(Mode::Read, |s, b, h| {
            let db = b.rem_engine_database().database();
            db.call_shortest_path(s, h, source, target, direction.into(), max_depth, rel_types, weighted)
        })
    }

    /// Run one REM SQL statement; returns a JSON array of row objects.
    /// Errors: `InvalidQuery`, `SchemaNotFound`, `Unsupported`, `Storage`.
    pub fn query(&self, sql: &str) -> Result<String> {
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_query(s, h, sql))
    }

    /// [`Database::query`] with `params` (JSON text: a list for `?`, `?N`, `$N`; an object for
    /// `:name`, `$name`) bound as SQL literals first. Errors: as `query`, plus `InvalidArgument`.
    pub fn query_with_params(&self, sql: &str, params: &str) -> Result<String> {
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_query_with_params(s, h, sql, params))
    }

    /// Semantic search of `table`: a JSON array of entities with `_score` (1 - cosine distance), best
    /// first; with a filter, exactly min(top-k, matching rows) rows (above `min_score`).
    /// Errors: `SchemaNotFound`, `InvalidArgument`, `InvalidQuery` (filter), `Embedding`.
    pub fn search(&self, table: &str, query: &SearchQuery, options: &SearchOptions) -> Result<String> {
        let q = match query {
            SearchQuery::Text(t) => wit_db::SearchQuery::Text(t.clone()),
            SearchQuery::Vector(v) => wit_db::SearchQuery::Vector(v.clone()),
        };
        let o = wit_db::SearchOptions {
            top_k: options.top_k,
            min_score: options.min_score,
            filter: options.filter.clone(),
            hybrid: options.hybrid,
            ef_search: options.ef_search,
        };
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_search(s, h, table, &q, &o))
    }

    /// The vector index of `table` as JSON (`model`, `dims`, `m`, `ef_construction`, `ef_search`,
    /// `count`, `live`, `tombstones`, `max_level`, `resident`). Errors: `SchemaNotFound`, `InvalidArgument`.
    pub fn index_stats(&self, table: &str) -> Result<String> {
        self.call(Mode::Read, |s, b, h| b.rem_engine_database().database().call_index_stats(s, h, table))
    }

    /// Rebuild `table`'s vector index from stored vectors (or re-embed every row with `reembed`).
    /// Returns the index stats. Errors: as `index_stats`, plus `Embedding`.
    ///
    /// It runs without the per-call deadline (it is one engine call over the whole table, which
    /// may rightly take longer than any deadline set for ordinary calls); the interrupt check
    /// still applies.
    pub fn rebuild_index(&self, table: &str, reembed: bool) -> Result<String> {
        self.transaction(Mode::Write, |live| {
            live.call_timeout = None;
            Self::invoke(live, |s, b, h| b.rem_engine_database().database().call_rebuild_index(s, h, table, reembed))
        })
    }
}
