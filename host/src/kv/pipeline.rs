//! The write pipeline: large write batches are applied to the redb write
//! transaction on a second thread while the engine goes on working.
//!
//! A batch insert spends about half its time in the host inserting records into
//! redb (profile in `docs/benchmarks.md`). The engine does not need to wait for
//! that: `write` hands a batch of [`PIPELINE_MIN_OPS`] or more operations, sorted
//! by key, to a thread and returns. Until that thread is done:
//! - `get` and `get-many` answer keys of the batch in flight from the batch
//!   itself (a binary search: the engine sends its batches sorted) and the other
//!   keys from the transaction, whose state for them is final;
//! - `scan`, the next `write`, commit and abort wait for the batch to be applied.
//!
//! When a reader is waiting, the applying thread lets go of the transaction
//! after its current `insert`, so a point read waits for one insert, not for
//! the batch. An error while applying is reported by the next
//! storage call or by the commit, which then aborts: a batch never half lands.
//!
//! It pays only when a second core is free; `OpenOptions::write_pipeline(false)`
//! (or `P8_WRITE_PIPELINE=0`) applies every batch in the calling thread instead.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;

use redb::WriteTransaction;

use super::base::Base;
use super::batch::Batch;
use super::{KV, err};

/// Batches with fewer operations are applied in the calling thread: a thread
/// start (tens of µs) would cost more than it saves.
pub const PIPELINE_MIN_OPS: usize = 512;

/// The transaction, shared with the applying thread.
struct Shared {
    txn: Mutex<WriteTransaction>,
    /// Readers waiting for `txn`; the applying thread lets go of it while non-zero.
    waiting: AtomicUsize,
}

/// A batch being applied on the pipeline thread.
struct InFlight {
    /// Sorted by key, keys unique.
    ops: Arc<Batch>,
    done: JoinHandle<Result<(), String>>,
}

/// A redb write transaction with at most one batch being applied in the background.
pub struct Pipelined {
    shared: Arc<Shared>,
    in_flight: Option<InFlight>,
    /// Whether large batches go to the pipeline thread.
    enabled: bool,
    /// The state the transaction started from, for point reads of keys not written since.
    base: Base,
}

impl Pipelined {
    /// Wrap `txn`, whose starting state `base` holds; with `enabled` false every batch is
    /// applied in the calling thread.
    pub fn new(txn: WriteTransaction, base: Base, enabled: bool) -> Pipelined {
        let shared = Arc::new(Shared { txn: Mutex::new(txn), waiting: AtomicUsize::new(0) });
        Pipelined { shared, in_flight: None, enabled, base }
    }

    /// The transaction's starting state (see [`Base`]).
    pub fn base(&self) -> &Base {
        &self.base
    }

    /// Wait for the batch in flight, if any. Errors: what applying it returned.
    pub fn settle(&mut self) -> Result<(), String> {
        match self.in_flight.take() {
            None => Ok(()),
            Some(f) => f.done.join().unwrap_or_else(|_| Err("the write pipeline thread panicked".into())),
        }
    }

    /// The value the batch in flight gives `key`: `Some(value or None for a delete)`,
    /// or `None` when the batch does not touch `key`.
    pub fn in_flight(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        self.in_flight.as_ref()?.ops.find(key)
    }

    /// Run `f` on the transaction (the batch in flight may still be partly applied).
    pub fn read<T>(&self, f: impl FnOnce(&WriteTransaction) -> Result<T, String>) -> Result<T, String> {
        let guard = self.shared.lock_as_reader()?;
        f(&guard)
    }

    /// Apply `ops` in order: in the background when there are many of them and they are
    /// sorted with unique keys, else here. Waits for the batch before, if any.
    pub fn write(&mut self, ops: Batch) -> Result<(), String> {
        self.settle()?;
        self.base.note(&ops);
        let ops = Arc::new(ops);
        if self.enabled && ops.len() >= PIPELINE_MIN_OPS && ops.sorted_unique() {
            let (shared, batch) = (self.shared.clone(), ops.clone());
            let spawned = std::thread::Builder::new()
                .name("rem-write-pipeline".into())
                .spawn(move || shared.apply_yielding(&batch));
            if let Ok(done) = spawned {
                self.in_flight = Some(InFlight { ops, done });
                return Ok(());
            }
            // No thread to be had: apply here.
        }
        let guard = self.shared.lock_as_reader()?;
        apply(&guard, &ops, 0, None).map(drop)
    }

    /// Wait for the batch in flight and take the transaction back.
    pub fn finish(mut self) -> Result<WriteTransaction, String> {
        let settled = self.settle();
        let shared = Arc::try_unwrap(self.shared).map_err(|_| "the write pipeline still holds the transaction")?;
        let txn = shared.txn.into_inner().map_err(poisoned)?;
        match settled {
            Ok(()) => Ok(txn),
            Err(e) => {
                let _ = txn.abort();
                Err(e)
            }
        }
    }
}

impl Shared {
    /// Apply `ops`, letting go of the transaction whenever a reader waits for it.
    fn apply_yielding(&self, ops: &Batch) -> Result<(), String> {
        let mut next = 0;
        while next < ops.len() {
            let guard = self.txn.lock().map_err(poisoned)?;
            next = apply(&guard, ops, next, Some(&self.waiting))?;
            drop(guard);
            // Let the waiting reader take the transaction before taking it back.
            while next < ops.len() && self.waiting.load(Ordering::Acquire) > 0 {
                std::thread::yield_now();
            }
        }
        Ok(())
    }

    /// Take the transaction, asking the pipeline thread to let go of it.
    fn lock_as_reader(&self) -> Result<MutexGuard<'_, WriteTransaction>, String> {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let guard = self.txn.lock();
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        guard.map_err(poisoned)
    }
}

/// The error for a transaction whose lock a panicking thread held.
fn poisoned<T>(_: T) -> String {
    "storage transaction poisoned (a thread panicked while writing)".into()
}

/// Apply the operations of `ops` from index `from` in order, all of them, or with `waiting`
/// until a reader waits. Returns the index of the first operation not applied (past `from`
/// when any was left).
fn apply(txn: &WriteTransaction, ops: &Batch, from: usize, waiting: Option<&AtomicUsize>) -> Result<usize, String> {
    let mut t = txn.open_table(KV).map_err(err)?;
    for i in from..ops.len() {
        match ops.op(i) {
            (k, Some(v)) => drop(t.insert(k, v).map_err(err)?),
            (k, None) => drop(t.remove(k).map_err(err)?),
        }
        if waiting.is_some_and(|w| w.load(Ordering::Relaxed) > 0) {
            return Ok(i + 1);
        }
    }
    Ok(ops.len())
}
