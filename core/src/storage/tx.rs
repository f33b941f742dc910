//! The per-call transaction buffer: [`Tx`] adds a write buffer over a [`Storage`] so one
//! engine call crosses the boundary once for its writes while still reading its own writes,
//! and [`PrefixScan`] pages through a key range.

use rustc_hash::FxHashMap;

use super::store::{Kv, Page, SCAN_PAGE, Storage, WriteOp};
use crate::error::Result;

/// Buffered writes over a [`Storage`] for the length of one engine call.
///
/// Reads consult the buffer first; scans flush it first so they see every
/// write. The buffer is flushed in one `write` when it grows past
/// [`Tx::FLUSH_AT`] operations and at [`Tx::commit`]. Atomicity is the host's:
/// everything written during the call lands or none of it does.
pub struct Tx<'s, S: Storage + ?Sized> {
    store: &'s S,
    /// Buffered puts (`Some`) and deletes (`None`), sorted by key when flushed. Hashed with
    /// FxHash: keys share long tenant and table prefixes, which made B-tree inserts (a
    /// `memcmp` per level) the largest single cost of a batch insert in profiles.
    pending: FxHashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Values read ahead by [`Tx::prefetch`]; a buffered write to a key evicts it.
    fetched: FxHashMap<Vec<u8>, Option<Vec<u8>>>,
    /// Counters (u64 LE) incremented once at [`Tx::commit`] (see [`Tx::bump_on_commit`]).
    bumps: std::collections::BTreeSet<Vec<u8>>,
}

impl<'s, S: Storage + ?Sized> Tx<'s, S> {
    /// Buffered operations that trigger an early flush. Small enough that a large batch
    /// reaches the host in several writes, which the host's write pipeline inserts while
    /// the engine goes on; only the last write of a call is waited for. (A 10,000-row
    /// `insert_batch` from Python: 166-168 ms at 4,096 against 170-195 ms at 16,384, two or
    /// three runs each on a noisy machine; `docs/benchmarks.md`.)
    pub const FLUSH_AT: usize = 4_096;

    /// Start buffering over `store`.
    pub fn new(store: &'s S) -> Self {
        Tx { store, pending: Default::default(), fetched: Default::default(), bumps: Default::default() }
    }

    /// The underlying store.
    pub fn store(&self) -> &'s S {
        self.store
    }

    /// The value at `key`, including buffered writes.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(v) = self.pending.get(key) {
            return Ok(v.clone());
        }
        match self.fetched.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.store.get(key),
        }
    }

    /// Read `keys` ahead in one crossing so later `get`s of them are local.
    pub fn prefetch(&mut self, keys: Vec<Vec<u8>>) -> Result<()> {
        let wanted: Vec<Vec<u8>> =
            keys.into_iter().filter(|k| !self.pending.contains_key(k) && !self.fetched.contains_key(k)).collect();
        if wanted.is_empty() {
            return Ok(());
        }
        let values = self.store.get_many(&wanted)?;
        self.fetched.extend(wanted.into_iter().zip(values));
        Ok(())
    }

    /// `get` for many keys, one boundary crossing for those not buffered or prefetched.
    pub fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        let local = |k: &Vec<u8>| self.pending.get(k).or_else(|| self.fetched.get(k));
        let missing: Vec<Vec<u8>> = keys.iter().filter(|k| local(k).is_none()).cloned().collect();
        let mut remote = if missing.is_empty() { Vec::new() } else { self.store.get_many(&missing)? }.into_iter();
        Ok(keys
            .iter()
            .map(|k| match local(k) {
                Some(v) => v.clone(),
                None => remote.next().flatten(),
            })
            .collect())
    }

    /// Buffer a put.
    pub fn put(&mut self, key: Vec<u8>, value: Vec<u8>) -> Result<()> {
        self.fetched.remove(&key);
        self.pending.insert(key, Some(value));
        self.maybe_flush()
    }

    /// Buffer a delete.
    pub fn delete(&mut self, key: Vec<u8>) -> Result<()> {
        self.fetched.remove(&key);
        self.pending.insert(key, None);
        self.maybe_flush()
    }

    fn maybe_flush(&mut self) -> Result<()> {
        if self.pending.len() >= Self::FLUSH_AT { self.flush() } else { Ok(()) }
    }

    /// Send buffered writes to the store.
    pub fn flush(&mut self) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        // Sorted, so the store's B-tree is written in key order.
        let mut ops: Vec<(Vec<u8>, Option<Vec<u8>>)> = std::mem::take(&mut self.pending).into_iter().collect();
        ops.sort_unstable_by(|a, b| key_cmp(&a.0, &b.0));
        self.store.write(
            ops.into_iter()
                .map(|(k, v)| match v {
                    Some(v) => WriteOp::Put(k, v),
                    None => WriteOp::Delete(k),
                })
                .collect(),
        )
    }

    /// Increment the u64 LE counter at `key` (absent = 0) once when the call commits,
    /// however often this is called: a generation number caches compare to see writes.
    pub fn bump_on_commit(&mut self, key: Vec<u8>) {
        self.bumps.insert(key);
    }

    /// Apply the counter bumps, flush and finish.
    pub fn commit(mut self) -> Result<()> {
        for key in std::mem::take(&mut self.bumps) {
            let n = self.get(&key)?.and_then(|b| <[u8; 8]>::try_from(b.as_slice()).ok()).map_or(0, u64::from_le_bytes);
            self.put(key, n.wrapping_add(1).to_le_bytes().to_vec())?;
        }
        self.flush()
    }

    /// Delete every key starting with `prefix` (including buffered ones).
    pub fn delete_prefix(&mut self, prefix: &[u8]) -> Result<()> {
        let mut scan = self.scan_prefix(prefix)?;
        loop {
            let page = scan.next_page()?;
            if page.is_empty() {
                return Ok(());
            }
            for (k, _) in page {
                self.delete(k)?;
            }
        }
    }

    /// Every entry whose key starts with `prefix`, page by page (flushes first).
    pub fn scan_prefix(&mut self, prefix: &[u8]) -> Result<PrefixScan<'s, S>> {
        self.flush()?;
        Ok(PrefixScan::new(self.store, prefix))
    }
}

/// Byte order of `a` and `b`, as `a.cmp(b)`, eight bytes a step. Buffered keys share long
/// tenant and table prefixes, and in the component the slice comparison is wasi-libc's
/// `memcmp`, one byte a step: sorting a flush spent most of its time there.
fn key_cmp(a: &[u8], b: &[u8]) -> std::cmp::Ordering {
    let words = a.len().min(b.len()) / 8;
    for i in 0..words {
        let at = i * 8..i * 8 + 8;
        let x = u64::from_be_bytes(a[at.clone()].try_into().expect("eight bytes"));
        let y = u64::from_be_bytes(b[at].try_into().expect("eight bytes"));
        if x != y {
            return x.cmp(&y);
        }
    }
    a[words * 8..].cmp(&b[words * 8..])
}

/// Pages through every entry in a key range, [`SCAN_PAGE`] entries a call,
/// ascending or descending.
pub struct PrefixScan<'s, S: Storage + ?Sized> {
    store: &'s S,
    start: Vec<u8>,
    end: Option<Vec<u8>>,
    page: u32,
    reverse: bool,
    done: bool,
}

impl<'s, S: Storage + ?Sized> PrefixScan<'s, S> {
    /// Scan every key starting with `prefix` in `store`, ascending.
    pub fn new(store: &'s S, prefix: &[u8]) -> Self {
        Self::range(store, prefix.to_vec(), crate::storage::keys::prefix_end(prefix))
    }

    /// Scan `start <= key < end` in `store`, ascending.
    pub fn range(store: &'s S, start: Vec<u8>, end: Option<Vec<u8>>) -> Self {
        PrefixScan { store, start, end, page: SCAN_PAGE, reverse: false, done: false }
    }

    /// Walk the range in descending key order.
    pub fn reversed(mut self) -> Self {
        self.reverse = true;
        self
    }

    /// Use pages of `n` entries (clamped to 1..=4096).
    pub fn with_page(mut self, n: u32) -> Self {
        self.page = n.clamp(1, 4096);
        self
    }

    /// Use pages of `n` entries (clamped to 1..=4096) from the next page on.
    pub fn set_page(&mut self, n: u32) {
        self.page = n.clamp(1, 4096);
    }

    /// The next page, or an empty vector when done.
    pub fn next_page(&mut self) -> Result<Vec<Kv>> {
        Ok(self.next_packed()?.into_kvs())
    }

    /// The next page as it crossed the boundary (no allocation per entry), empty when done.
    pub fn next_packed(&mut self) -> Result<Page> {
        if self.done {
            return Ok(Page::default());
        }
        let batch = self.store.scan(&self.start, self.end.as_deref(), self.page, self.reverse)?;
        match batch.last_key() {
            Some(last) if batch.len() as u32 == self.page => {
                if self.reverse {
                    self.end = Some(last.to_vec());
                } else {
                    let mut next = Vec::with_capacity(last.len() + 1);
                    next.extend_from_slice(last);
                    next.push(0);
                    self.start = next;
                }
            }
            _ => self.done = true,
        }
        Ok(batch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::store::MemoryStore;

    #[test]
    fn key_cmp_is_byte_order() {
        let mut rng = fastrand::Rng::with_seed(7);
        // Short alphabets and shared prefixes, so most pairs differ late or are prefixes of each other.
        let key = |rng: &mut fastrand::Rng| {
            let mut k = b"tenant\x00table\x00".to_vec();
            k.extend((0..rng.usize(0..24)).map(|_| rng.u8(0..3) * 127));
            k
        };
        for _ in 0..20_000 {
            let (a, b) = (key(&mut rng), key(&mut rng));
            assert_eq!(key_cmp(&a, &b), a.cmp(&b), "{a:?} vs {b:?}");
            assert_eq!(key_cmp(&a, &a), std::cmp::Ordering::Equal);
        }
    }

    #[test]
    fn tx_reads_its_own_writes_and_scans_see_them() {
        let store = MemoryStore::new();
        let mut tx = Tx::new(&store);
        tx.put(b"a1".to_vec(), b"x".to_vec()).unwrap();
        assert_eq!(tx.get(b"a1").unwrap(), Some(b"x".to_vec()));
        assert!(store.is_empty());
        tx.delete(b"a1".to_vec()).unwrap();
        assert_eq!(tx.get(b"a1").unwrap(), None);
        tx.put(b"a2".to_vec(), b"y".to_vec()).unwrap();
        let mut scan = tx.scan_prefix(b"a").unwrap();
        assert_eq!(scan.next_page().unwrap(), vec![(b"a2".to_vec(), b"y".to_vec())]);
    }

    #[test]
    fn prefetched_values_never_go_stale() {
        let store = MemoryStore::new();
        store.write(vec![WriteOp::Put(b"k".to_vec(), b"old".to_vec())]).unwrap();
        let mut tx = Tx::new(&store);
        tx.prefetch(vec![b"k".to_vec(), b"absent".to_vec()]).unwrap();
        assert_eq!(tx.get(b"k").unwrap(), Some(b"old".to_vec()));
        assert_eq!(tx.get(b"absent").unwrap(), None);
        tx.put(b"k".to_vec(), b"new".to_vec()).unwrap();
        tx.flush().unwrap();
        assert_eq!(
            tx.get(b"k").unwrap(),
            Some(b"new".to_vec()),
            "a flushed write is read back, not the prefetched value"
        );
    }

    #[test]
    fn reverse_scans_page_backwards() {
        let store = MemoryStore::new();
        store.write((0..50u32).map(|i| WriteOp::Put(format!("p{i:03}").into_bytes(), vec![])).collect()).unwrap();
        let mut scan = PrefixScan::new(&store, b"p").with_page(7).reversed();
        let mut keys = Vec::new();
        loop {
            let page = scan.next_page().unwrap();
            if page.is_empty() {
                break;
            }
            keys.extend(page.into_iter().map(|(k, _)| k));
        }
        let want: Vec<Vec<u8>> = (0..50u32).rev().map(|i| format!("p{i:03}").into_bytes()).collect();
        assert_eq!(keys, want);
    }

    #[test]
    fn prefix_scan_pages_through_everything() {
        let store = MemoryStore::new();
        let ops = (0..100u32).map(|i| WriteOp::Put(format!("p{i:03}").into_bytes(), vec![])).collect();
        store.write(ops).unwrap();
        store.write(vec![WriteOp::Put(b"q".to_vec(), vec![])]).unwrap();
        let mut scan = PrefixScan::new(&store, b"p").with_page(7);
        let mut n = 0;
        loop {
            let page = scan.next_page().unwrap();
            if page.is_empty() {
                break;
            }
            n += page.len();
        }
        assert_eq!(n, 100);
    }
}
