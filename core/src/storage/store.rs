//! The storage abstraction the engine runs on: an ordered byte-key store.
//!
//! In the component it is the WIT `storage` import (see `guest/component.rs`);
//! natively it is any implementation, such as [`MemoryStore`] for tests.
//! The per-call write buffer over it is `storage::tx`.

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::error::Result;

/// One entry of a scan.
pub type Kv = (Vec<u8>, Vec<u8>);

/// One page of a scan, packed as the WIT `storage.page` record: every key and value back to
/// back in `data`, so a page of n entries crosses the component boundary as two lists instead
/// of 2n. `ends[2i]` is the offset in `data` where key i ends and `ends[2i + 1]` where its value
/// ends; each starts where the previous one ended.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Page {
    data: Vec<u8>,
    ends: Vec<u32>,
}

impl Page {
    /// A page from its packed parts. Errors: `Storage` when `ends` is odd in length, decreasing,
    /// or past the end of `data` (a host bug; checked because the host is outside the sandbox).
    pub fn new(data: Vec<u8>, ends: Vec<u32>) -> Result<Page> {
        let ordered = ends.windows(2).all(|w| w[0] <= w[1]);
        if !ends.len().is_multiple_of(2) || !ordered || ends.last().is_some_and(|&e| e as usize > data.len()) {
            return Err(crate::Error::Storage(format!(
                "malformed scan page from the host: {} offsets over {} bytes",
                ends.len(),
                data.len()
            )));
        }
        Ok(Page { data, ends })
    }

    /// Append one entry.
    pub fn push(&mut self, key: &[u8], value: &[u8]) {
        self.data.extend_from_slice(key);
        self.ends.push(self.data.len() as u32);
        self.data.extend_from_slice(value);
        self.ends.push(self.data.len() as u32);
    }

    /// The packed parts `(data, ends)`.
    pub fn into_parts(self) -> (Vec<u8>, Vec<u32>) {
        (self.data, self.ends)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.ends.len() / 2
    }

    /// Whether the page holds no entry.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Entry `i` as `(key, value)`. Panics when `i >= len()`.
    pub fn entry(&self, i: usize) -> (&[u8], &[u8]) {
        let start = if i == 0 { 0 } else { self.ends[2 * i - 1] as usize };
        let (k, v) = (self.ends[2 * i] as usize, self.ends[2 * i + 1] as usize);
        (&self.data[start..k], &self.data[k..v])
    }

    /// The entries in page order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        (0..self.len()).map(|i| self.entry(i))
    }

    /// The last entry's key.
    pub fn last_key(&self) -> Option<&[u8]> {
        self.len().checked_sub(1).map(|i| self.entry(i).0)
    }

    /// The entries as owned pairs.
    pub fn into_kvs(self) -> Vec<Kv> {
        self.iter().map(|(k, v)| (k.to_vec(), v.to_vec())).collect()
    }
}

/// One mutation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteOp {
    /// Insert or overwrite.
    Put(Vec<u8>, Vec<u8>),
    /// Remove (absent keys ignored).
    Delete(Vec<u8>),
}

/// An ordered byte-key store, as the host supplies it.
pub trait Storage {
    /// The value at `key`.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// The values at `keys`, in order.
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        keys.iter().map(|k| self.get(k)).collect()
    }
    /// Up to `limit` entries with `start <= key < end`, ascending (descending when `reverse`).
    fn scan(&self, start: &[u8], end: Option<&[u8]>, limit: u32, reverse: bool) -> Result<Page>;
    /// Apply `ops` in order.
    fn write(&self, ops: Vec<WriteOp>) -> Result<()>;
}

impl<S: Storage + ?Sized> Storage for &S {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        (**self).get(key)
    }
    fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>> {
        (**self).get_many(keys)
    }
    fn scan(&self, start: &[u8], end: Option<&[u8]>, limit: u32, reverse: bool) -> Result<Page> {
        (**self).scan(start, end, limit, reverse)
    }
    fn write(&self, ops: Vec<WriteOp>) -> Result<()> {
        (**self).write(ops)
    }
}

/// Rows fetched per `scan` page.
pub const SCAN_PAGE: u32 = 1024;

/// An in-memory [`Storage`] for tests and native use.
#[derive(Debug, Default)]
pub struct MemoryStore {
    map: std::cell::RefCell<BTreeMap<Vec<u8>, Vec<u8>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of keys stored.
    pub fn len(&self) -> usize {
        self.map.borrow().len()
    }
    /// Whether the store is empty.
    pub fn is_empty(&self) -> bool {
        self.map.borrow().is_empty()
    }
}

impl Storage for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.map.borrow().get(key).cloned())
    }
    fn scan(&self, start: &[u8], end: Option<&[u8]>, limit: u32, reverse: bool) -> Result<Page> {
        let map = self.map.borrow();
        let upper = match end {
            Some(e) => Bound::Excluded(e.to_vec()),
            None => Bound::Unbounded,
        };
        let range = map.range((Bound::Included(start.to_vec()), upper));
        let mut page = Page::default();
        if reverse {
            range.rev().take(limit as usize).for_each(|(k, v)| page.push(k, v));
        } else {
            range.take(limit as usize).for_each(|(k, v)| page.push(k, v));
        }
        Ok(page)
    }
    fn write(&self, ops: Vec<WriteOp>) -> Result<()> {
        let mut map = self.map.borrow_mut();
        for op in ops {
            match op {
                WriteOp::Put(k, v) => {
                    map.insert(k, v);
                }
                WriteOp::Delete(k) => {
                    map.remove(&k);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_pack_entries_and_refuse_bad_offsets() {
        let mut page = Page::default();
        page.push(b"k1", b"");
        page.push(b"", b"v2");
        page.push(b"k3", b"value3");
        let (data, ends) = page.clone().into_parts();
        assert_eq!(ends, vec![2, 2, 2, 4, 6, 12]);
        let back = Page::new(data.clone(), ends).unwrap();
        assert_eq!(back, page);
        assert_eq!(back.last_key(), Some(&b"k3"[..]));
        assert_eq!(
            back.into_kvs(),
            vec![(b"k1".to_vec(), vec![]), (vec![], b"v2".to_vec()), (b"k3".to_vec(), b"value3".to_vec())]
        );
        for bad in [vec![2], vec![2, 1], vec![2, 13], vec![4, 2, 6, 12]] {
            assert!(matches!(Page::new(data.clone(), bad), Err(crate::Error::Storage(_))));
        }
        assert!(Page::new(Vec::new(), Vec::new()).unwrap().is_empty());
    }
}
