//! Point reads of a write transaction from the committed state it started from.
//!
//! A batch insert checks, for every row, whether its id is already stored. Asked of the
//! write transaction, each of those lookups waits for the write pipeline thread to let go
//! of the transaction and goes through redb's dirty-page bookkeeping; they cost about a
//! fifth of a batch insert of the Debian catalog (measured in `docs/benchmarks.md`). But a
//! key the transaction has not written has the value it had when the transaction began,
//! so it can be read from a read snapshot of that state instead, with no lock shared with
//! the writer. [`Base`] keeps that snapshot and the hashes of every key the transaction
//! has written; a key whose hash is among them (or collides with one) is read from the
//! write transaction as before.
//!
//! The snapshot is the transaction's starting state because redb allows one writer at a
//! time: nothing can commit between `begin_write` and the `begin_read` that follows it.

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use redb::{AccessGuard, ReadOnlyTable, ReadableDatabase};
use rustc_hash::FxHasher;

use super::{Batch, KV, err};

/// Past this many distinct written keys the transaction stops tracking them and every
/// read goes to the write transaction. The set is a hashbrown table of 9 bytes a bucket (a
/// u64 and a control byte), at most 7/8 full with a power-of-two bucket count: 2^23 buckets,
/// 72 MiB, at this limit.
pub const MAX_TRACKED_KEYS: usize = 1 << 22;

/// The starting state of a write transaction and the keys it has written since.
pub struct Base {
    /// The snapshot's table; `None` when it had never been written (every key absent).
    table: Option<ReadOnlyTable<&'static [u8], &'static [u8]>>,
    /// Hashes of the keys put or deleted so far; `None` once past [`MAX_TRACKED_KEYS`],
    /// after which the snapshot answers nothing.
    written: Option<HashSet<u64, BuildHasherDefault<Identity>>>,
}

/// FxHash (rustc-hash) of `key`. Its quality only matters for speed: a collision sends a
/// read to the write transaction, which always has the current value.
fn key_hash(key: &[u8]) -> u64 {
    let mut h = FxHasher::default();
    h.write(key);
    h.finish()
}

/// The set's hasher: its items are hashes already.
#[derive(Default)]
struct Identity(u64);

impl Hasher for Identity {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; anything else folds in with FxHash.
        self.0 = BuildHasherDefault::<FxHasher>::default().hash_one(bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl Base {
    /// Snapshot `db` right after its write transaction began. Errors: redb's, as text.
    pub fn open(db: &redb::Database) -> Result<Base, String> {
        let txn = db.begin_read().map_err(err)?;
        let table = match txn.open_table(KV) {
            Ok(t) => Some(t),
            Err(redb::TableError::TableDoesNotExist(_)) => None,
            Err(e) => return Err(err(e)),
        };
        Ok(Base { table, written: Some(HashSet::default()) })
    }

    /// A base that answers nothing: every read goes to the write transaction.
    pub fn none() -> Base {
        Base { table: None, written: None }
    }

    /// Record the keys of `ops`, about to be applied.
    pub fn note(&mut self, ops: &Batch) {
        let Some(written) = &mut self.written else { return };
        written.extend((0..ops.len()).map(|i| key_hash(ops.op(i).0)));
        if written.len() > MAX_TRACKED_KEYS {
            self.written = None;
            self.table = None;
        }
    }

    /// Whether the snapshot holds the transaction's current value of `key`.
    pub fn answers(&self, key: &[u8]) -> bool {
        self.written.as_ref().is_some_and(|w| !w.contains(&key_hash(key)))
    }

    /// The snapshot's value of `key`; only meaningful when [`Base::answers`] it.
    pub fn get(&self, key: &[u8]) -> Result<Option<AccessGuard<'static, &'static [u8]>>, String> {
        match &self.table {
            None => Ok(None),
            Some(t) => t.get(key).map_err(err),
        }
    }
}
