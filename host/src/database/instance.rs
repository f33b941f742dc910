//! The engine instance and its transactions: opening the redb file, instantiating the
//! component in a wasmtime store (with the per-call deadline and interrupt check), running
//! one or more engine calls in one redb transaction with commit or rollback, and the one
//! helper every engine call goes through ([`Database::invoke`]).

use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use wasmtime::Store;
use wasmtime::component::ResourceAny;

use super::{Database, INTERRUPT_POLL};
use crate::bindings::Engine as Bindings;
use crate::bindings::exports::rem::engine::database as wit_db;
use crate::bindings::rem::engine::types as wit;
use crate::config;
use crate::crypto::Password;
use crate::crypto::backend::Keyring;
use crate::error::{Error, PathSegment, Result};
use crate::kv::Txn;
use crate::runtime::{EPOCH_TICK, Runtime};
use crate::state::{HostState, Stop};

/// The engine's `database` export, as an engine call sees it.
pub(super) type EngineDb<'a> = wit_db::GuestDatabase<'a>;

pub(super) struct Live {
    pub(super) store: Store<HostState>,
    pub(super) bindings: Bindings,
    pub(super) handle: ResourceAny,
    /// Whether engine calls run with epoch checks (a deadline or an interrupt check).
    pub(super) timed: bool,
    /// The deadline each engine call gets, from its own start.
    pub(super) call_timeout: Option<Duration>,
}

/// Longest compaction waits for the reads running on spare instances.
const DRAIN_WAIT: Duration = Duration::from_secs(60);

/// Spare engine instances for reads that arrive while the handle's own instance is busy: each
/// runs in its own read snapshot, so reads on one handle run in parallel (writes stay on the
/// handle's own instance, one at a time).
pub(super) struct Readers {
    /// The open file, for making spares (taken out while compacting and when the handle drops).
    pub(super) file: Option<Arc<redb::Database>>,
    /// Spares not in use.
    pub(super) idle: Vec<Inner>,
    /// Spares made and not dropped (in use or idle).
    pub(super) made: usize,
    /// Most spares ([`Readers::default_max`]).
    pub(super) max: usize,
}

impl Readers {
    /// Spares for the file `file`, at most [`Readers::default_max`].
    pub(super) fn new(file: Option<Arc<redb::Database>>) -> Readers {
        Readers { file, idle: Vec::new(), made: 0, max: Self::default_max() }
    }

    /// One fewer than the cores this process may use (so reads from as many threads as cores
    /// run at once), at most 7; 0 on one core.
    pub(super) fn default_max() -> usize {
        std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8) - 1
    }
}

/// A spare lent to one call, given back when dropped.
struct SpareGuard<'a> {
    db: &'a Database,
    spare: Option<Inner>,
}

impl Drop for SpareGuard<'_> {
    fn drop(&mut self) {
        if let Some(spare) = self.spare.take() {
            self.db.give_back(spare);
        }
    }
}

pub(super) struct Inner {
    /// Always `Some` until the handle is dropped (see `Drop for Database`). Shared by the
    /// handles [`Database::for_tenant`] makes; the file closes with the last of them.
    pub(super) redb: Option<Arc<redb::Database>>,
    pub(super) live: Option<Live>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Mode {
    /// A read snapshot.
    Read,
    /// A write transaction, committed if the call succeeds.
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

/// Open (creating, owner-only) the redb file in `dir`, waiting up to `busy_timeout` while
/// another process holds it (polled every 50 ms; no wait when the holder is this process,
/// which cannot release it while it waits). On success `rem.holder` names this process.
/// Errors: `Locked` (naming the holder from `rem.holder`), `Io`, `Storage`.
pub(super) fn open_redb_waiting(dir: &Path, busy_timeout: Duration, password: Option<&Password>) -> Result<Opened> {
    let deadline = Instant::now() + busy_timeout;
    loop {
        match open_redb(dir, password) {
            Err(Error::Locked { path, holder }) => {
                let mine = holder == Some(std::process::id());
                if mine || Instant::now() >= deadline {
                    return Err(Error::Locked { path, holder });
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Ok(db) => {
                // Best effort: the holder file only improves the message another process shows.
                let _ = crate::private::replace_file(
                    &dir.join(config::HOLDER_FILE),
                    std::process::id().to_string().as_bytes(),
                );
                return Ok(db);
            }
            Err(other) => return Err(other),
        }
    }
}

/// The process named by `dir`'s `rem.holder` file, if readable.
fn holder(dir: &Path) -> Option<u32> {
    let bytes = crate::private::read_file(&dir.join(config::HOLDER_FILE)).ok()?;
    String::from_utf8(bytes).ok()?.trim().parse().ok()
}

/// A redb database, with the keys of its file when it is encrypted.
pub(super) type Opened = (redb::Database, Option<Arc<Keyring>>);

/// Whether the database file in `dir` is encrypted (its first bytes are
/// [`crate::crypto::header::MAGIC`]); false when there is none or it cannot be read.
pub(super) fn is_encrypted_dir(dir: &Path) -> bool {
    crate::crypto::header::is_encrypted_path(&dir.join(config::DB_FILE)).unwrap_or(false)
}

/// Open (creating, owner-only) the redb file in `dir`; encrypted (`crate::crypto`) when it is,
/// or when it is new and `password` is given. A file left by an unclean shutdown is repaired
/// by redb first, with its progress on stderr. Errors: `Locked`, `Io`, `Storage` (a damaged
/// file, named, with what to do), `Password` (encrypted, and no password or a wrong one),
/// `InvalidArgument` (a password for a plain database).
fn open_redb(dir: &Path, password: Option<&Password>) -> Result<Opened> {
    crate::private::create_dir(dir)
        .map_err(|e| io(format!("cannot create database directory {}", dir.display()), e))?;
    let path = dir.join(config::DB_FILE);
    let file =
        crate::private::open_or_create_file(&path).map_err(|e| io(format!("cannot open {}", path.display()), e))?;
    let len = file.metadata().map_err(|e| io(format!("cannot read {}", path.display()), e))?.len();
    let encrypted = crate::crypto::header::is_encrypted_file(&file);
    let from_env = if encrypted && password.is_none() { Password::from_env() } else { None };
    let (sealed, file) = match (encrypted, password.or(from_env.as_ref())) {
        (true, None) => {
            return Err(Error::Password(format!(
                "the database {} is encrypted: give its password (--password-file FILE or P8_PASSWORD; \
                 password= in Python)",
                dir.display()
            )));
        }
        (false, Some(_)) if len > 0 => {
            return Err(Error::InvalidArgument(format!(
                "the database {} is not encrypted: open it without a password (to encrypt it, export it and \
                 import it into a database made with `rem init --password`)",
                dir.display()
            )));
        }
        (_, Some(p)) => (Some(crate::crypto::backend::unlock(file, &path, p)?), None),
        (false, None) => (None, Some(file)),
    };
    let keys = sealed.as_ref().map(|s| s.keyring());
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
    let opened = std::panic::catch_unwind(AssertUnwindSafe(|| match (sealed, file) {
        (Some(backend), _) => builder.create_with_backend(backend),
        (None, Some(file)) => builder.create_file(file),
        (None, None) => unreachable!("a plain database keeps its file"),
    }));
    if shown.load(std::sync::atomic::Ordering::Relaxed) != u32::MAX {
        eprintln!("\rrepairing the database after an unclean shutdown... done");
    }
    match opened {
        Ok(Ok(db)) => {
            if let Some(k) = &keys {
                k.heal()?;
            }
            Ok((db, keys))
        }
        Ok(Err(redb::DatabaseError::DatabaseAlreadyOpen)) => {
            Err(Error::Locked { path: dir.to_path_buf(), holder: holder(dir) })
        }
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
pub(super) fn batches(rows: &[String], max_rows: usize) -> impl Iterator<Item = &[String]> {
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
pub(super) fn shift_rows(e: Error, offset: u32) -> Error {
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
        let readers = self.readers.get_mut().unwrap_or_else(|p| p.into_inner());
        let (file, spares) = (readers.file.take(), std::mem::take(&mut readers.idle));
        let inner = self.inner.get_mut().unwrap_or_else(|p| p.into_inner());
        if std::process::id() != self.pid {
            // A copy made by fork(): closing redb here would write the parent's file (and abort a
            // transaction the parent may have in flight), so leak the copy instead.
            std::mem::forget(inner.live.take());
            std::mem::forget(inner.redb.take());
            std::mem::forget((file, spares));
            return;
        }
        // Closing writes to the file; on a damaged one redb may panic, which must not escape a drop.
        let (live, redb) = (inner.live.take(), inner.redb.take());
        let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop((spares, file, live, redb))));
    }
}

impl Database {
    /// The handle's state, for a call. Errors: `Forked` in a child process. A mutex poisoned by a
    /// panic (which `transaction` catches, so only a bug elsewhere) is taken over with a fresh engine.
    pub(super) fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>> {
        // Checked before locking: a fork taken while another thread held the lock copies it held.
        self.check_fork()?;
        Ok(self.inner.lock().unwrap_or_else(|poisoned| {
            let mut inner = poisoned.into_inner();
            inner.live = None;
            inner
        }))
    }

    /// Engine instances this handle has made for reads: its own and the spares (see [`Readers`]).
    pub fn read_instances(&self) -> usize {
        if self.check_fork().is_err() {
            return 0;
        }
        1 + self.readers().made
    }

    /// Errors: `Forked` in a process other than the one that opened the handle.
    pub(super) fn check_fork(&self) -> Result<()> {
        let now = std::process::id();
        if now != self.pid { Err(Error::Forked { opened_in: self.pid, now }) } else { Ok(()) }
    }

    /// The spare instances, their lock taken over if a panic poisoned it.
    pub(super) fn readers(&self) -> std::sync::MutexGuard<'_, Readers> {
        self.readers.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle spare, or a new one while fewer than the most are made; `None` when all are busy
    /// (or the file is being compacted or closed).
    fn take_spare(&self) -> Option<Inner> {
        let mut readers = self.readers();
        if let Some(spare) = readers.idle.pop() {
            return Some(spare);
        }
        let file = readers.file.clone()?;
        if readers.made >= readers.max {
            return None;
        }
        readers.made += 1;
        Some(Inner { redb: Some(file), live: None })
    }

    /// Return a spare after its call (dropped instead while the file is being compacted or closed;
    /// see [`SpareGuard`]).
    fn give_back(&self, spare: Inner) {
        let mut readers = self.readers();
        if readers.file.is_some() {
            readers.idle.push(spare);
        } else {
            readers.made -= 1;
            drop(readers);
            let _ = std::panic::catch_unwind(AssertUnwindSafe(move || drop(spare)));
        }
    }

    /// Drop every spare, waiting (up to [`DRAIN_WAIT`]) for those in use to finish their call,
    /// and stop making new ones until [`Database::resume_spares`]: for compaction, which needs
    /// the only reference to the file. Errors: `Timeout` (a read still runs; spares are made
    /// again).
    pub(super) fn drain_spares(&self) -> Result<()> {
        let started = Instant::now();
        let mut readers = self.readers();
        let file = readers.file.take();
        loop {
            let idle = std::mem::take(&mut readers.idle);
            readers.made = readers.made.saturating_sub(idle.len());
            drop(idle);
            if readers.made == 0 {
                return Ok(());
            }
            if started.elapsed() > DRAIN_WAIT {
                readers.file = file;
                return Err(Error::Timeout(format!(
                    "compaction waited {} s for reads on this handle to finish; try again when it is quieter",
                    DRAIN_WAIT.as_secs()
                )));
            }
            drop(readers);
            std::thread::sleep(Duration::from_millis(1));
            readers = self.readers();
        }
    }

    /// Make spares again, on `file`.
    pub(super) fn resume_spares(&self, file: Option<Arc<redb::Database>>) {
        self.readers().file = file;
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
    ///
    /// A read runs on an idle spare instance when there is one (see [`Readers`]), else on the
    /// handle's own instance, else on a new spare while fewer than the most are made; when all
    /// are busy it waits for the handle's own.
    pub(super) fn transaction<T>(&self, mode: Mode, body: impl FnOnce(&mut Live) -> Result<T>) -> Result<T> {
        let started = Instant::now();
        let mut own = None;
        let mut spare = None;
        if mode == Mode::Read {
            self.check_fork()?;
            // An idle spare first, so that the handle's own instance stays free for writes;
            // then the handle's own; a new spare only when that is busy.
            spare = self.readers().idle.pop();
        }
        if mode == Mode::Read && spare.is_none() {
            match self.inner.try_lock() {
                Ok(guard) => own = Some(guard),
                Err(std::sync::TryLockError::Poisoned(p)) => {
                    let mut guard = p.into_inner();
                    guard.live = None;
                    own = Some(guard);
                }
                Err(std::sync::TryLockError::WouldBlock) => spare = self.take_spare(),
            }
        }
        // A spare goes back to the idle list however this call ends (a panic included).
        let mut spare = spare.map(|s| SpareGuard { db: self, spare: Some(s) });
        if own.is_none() && spare.is_none() {
            own = Some(self.lock()?);
        }
        let inner: &mut Inner = match (own.as_deref_mut(), spare.as_mut().and_then(|g| g.spare.as_mut())) {
            (Some(inner), _) => inner,
            (None, Some(inner)) => inner,
            (None, None) => return Err(Error::Internal("no engine instance for the call".into())),
        };
        let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| self.transaction_in(inner, mode, body)));
        let took = started.elapsed();
        if took >= config::slow_call() {
            // A `tracing` event: `rem serve`'s subscriber prints it; without a subscriber (the wheel)
            // tracing's `log` feature hands it on as a `log` record, which pyo3-log gives Python's
            // `logging` (logger `rem`).
            tracing::debug!(target: "rem", "slow {mode:?} call: {} ms (tenant {}, {})", took.as_millis(), self.tenant,
                self.path.as_ref().map_or_else(|| "in memory".to_string(), |p| p.display().to_string()));
        }
        let result = match outcome {
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
        };
        drop(own);
        drop(spare);
        result
    }

    fn transaction_in<T>(&self, inner: &mut Inner, mode: Mode, body: impl FnOnce(&mut Live) -> Result<T>) -> Result<T> {
        let redb = inner.redb.as_ref().ok_or_else(|| Error::Internal("the database is closed".into()))?;
        let txn = match mode {
            Mode::Read => Txn::read(redb),
            // An encrypted file commits in two phases: its data is synced before redb's header
            // names it, so a power loss never leaves a named page half-written (which would fail
            // authentication, where a plain file's checksum sends redb back a commit).
            Mode::Write => Txn::write_with(redb, self.write_pipeline, self.keys.is_some()),
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

    /// One engine call (`f` gets the engine's `database` export, the store and the handle): maps the WIT error and turns traps into `Trap`/`ResourceExhausted`.
    pub(super) fn invoke<T>(
        live: &mut Live,
        f: impl FnOnce(
            EngineDb<'_>,
            &mut Store<HostState>,
            ResourceAny,
        ) -> wasmtime::Result<std::result::Result<T, wit::Error>>,
    ) -> Result<T> {
        // Each engine call has its own deadline, from its start (a batch sent in chunks gets one per chunk).
        let state = live.store.data_mut();
        state.stop = None;
        state.embed_failure = None;
        state.deadline = live.call_timeout.map(|t| Instant::now() + t);
        if live.timed {
            let ticks = next_check(state.deadline, state.interrupt.is_some());
            live.store.set_epoch_deadline(ticks);
        }
        let outcome = f(live.bindings.rem_engine_database().database(), &mut live.store, live.handle);
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
            Ok(Err(e)) => Err(match (Error::from(e), live.store.data_mut().embed_failure.take()) {
                (Error::Embedding(message), Some((failure, retry_after))) => {
                    Error::EmbeddingProvider { message, failure, retry_after }
                }
                (e, _) => e,
            }),
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

    /// One engine call in its own transaction of `mode`: the helper every single-call method uses.
    pub(super) fn call<T>(
        &self,
        mode: Mode,
        f: impl FnOnce(
            EngineDb<'_>,
            &mut Store<HostState>,
            ResourceAny,
        ) -> wasmtime::Result<std::result::Result<T, wit::Error>>,
    ) -> Result<T> {
        self.transaction(mode, |live| Self::invoke(live, f))
    }
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
