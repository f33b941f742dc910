//! The ordered key-value store on redb: one table of byte keys and values,
//! accessed through one transaction per engine call. Shared by the WIT
//! `storage` import and by native use of `rem-core` (benchmarks).

pub mod base;
pub mod batch;
pub mod pipeline;

use redb::{ReadableDatabase, ReadableTable, TableDefinition};

pub use batch::Batch;
pub use pipeline::PIPELINE_MIN_OPS;
use pipeline::Pipelined;

/// The single redb table holding REM's key space (layout: `docs/design.md`).
pub const KV: TableDefinition<&[u8], &[u8]> = TableDefinition::new("rem_kv");

/// Largest page a `scan` returns; the guest's `limit` is clamped to it.
pub const MAX_SCAN: u32 = 4096;

/// One scan page: `(data, ends)`, the layout of the WIT `storage.page` record.
pub type Packed = (Vec<u8>, Vec<u32>);

/// The answer of one `get-many`: `(data, ends)`, the layout of the WIT `storage.values`
/// record (the values found back to back in `data`; per key, where its value ends, or
/// `None` when absent).
pub type PackedValues = (Vec<u8>, Vec<Option<u32>>);

/// Split packed byte strings (the WIT `storage.keys` record: item i is
/// `data[ends[i-1]..ends[i]]`, `ends[-1]` read as 0). Errors: an offset that decreases or
/// lies past the end of `data` (a guest bug; checked because the guest is untrusted).
pub fn unpack<'a>(data: &'a [u8], ends: &[u32]) -> Result<Vec<&'a [u8]>, String> {
    let mut start = 0usize;
    ends.iter()
        .enumerate()
        .map(|(i, &end)| {
            let end = end as usize;
            let item = data
                .get(start..end)
                .ok_or_else(|| format!("packed keys: offset {end} of item {i} is out of order or past the data"))?;
            start = end;
            Ok(item)
        })
        .collect()
}

/// Appends values to a [`PackedValues`].
#[derive(Default)]
struct ValuesBuilder {
    data: Vec<u8>,
    ends: Vec<Option<u32>>,
}

impl ValuesBuilder {
    fn with_capacity(keys: usize) -> Self {
        ValuesBuilder { data: Vec::new(), ends: Vec::with_capacity(keys) }
    }

    fn push(&mut self, value: Option<&[u8]>) -> Result<(), String> {
        let end = match value {
            Some(v) => {
                self.data.extend_from_slice(v);
                Some(
                    u32::try_from(self.data.len())
                        .map_err(|_| "get-many answer larger than 4 GiB; ask for fewer keys")?,
                )
            }
            None => None,
        };
        self.ends.push(end);
        Ok(())
    }

    fn finish(self) -> PackedValues {
        (self.data, self.ends)
    }
}

/// `data.len()` as a page offset; a page past 4 GiB is refused (`limit` keeps pages far smaller).
fn offset(data: &[u8]) -> Result<u32, String> {
    u32::try_from(data.len()).map_err(|_| "scan page larger than 4 GiB; use a smaller limit".to_string())
}

/// Where a write transaction's point read finds a key's current value.
enum Found<'a> {
    /// In the batch being applied: the value, or `None` for a delete.
    InFlight(Option<&'a [u8]>),
    /// In the state the transaction started from (the key has not been written since).
    Base,
    /// Only in the write transaction itself.
    Txn,
}

/// The transaction an engine call runs in.
pub enum Txn {
    /// A read-only snapshot (`None` when the table has never been written).
    Read(Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>),
    /// A write transaction, committed or aborted by the caller; large write batches
    /// are applied in the background (see [`pipeline`]).
    Write(Box<Pipelined>),
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl Txn {
    /// Begin a read snapshot of `db`.
    pub fn read(db: &redb::Database) -> Result<Txn, String> {
        let txn = db.begin_read().map_err(err)?;
        match txn.open_table(KV) {
            Ok(t) => Ok(Txn::Read(Some(t))),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(Txn::Read(None)),
            Err(e) => Err(err(e)),
        }
    }

    /// Begin a write transaction on `db` (durable on commit), with the write pipeline.
    pub fn write(db: &redb::Database) -> Result<Txn, String> {
        Txn::write_with(db, true, false)
    }

    /// Begin a write transaction on `db` (durable on commit); `pipeline` says whether large
    /// batches are applied on a second thread ([`pipeline`]) or in the calling one, and
    /// `two_phase` whether it commits in redb's two phases (`set_two_phase_commit`).
    pub fn write_with(db: &redb::Database, pipeline: bool, two_phase: bool) -> Result<Txn, String> {
        let mut txn = db.begin_write().map_err(err)?;
        txn.set_two_phase_commit(two_phase);
        // Nothing can commit between the two: redb has one writer at a time.
        let base = base::Base::open(db)?;
        Ok(Txn::Write(Box::new(Pipelined::new(txn, base, pipeline))))
    }

    /// Whether writes are allowed.
    pub fn is_write(&self) -> bool {
        matches!(self, Txn::Write(_))
    }

    /// The value at `key`.
    pub fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
        match self {
            Txn::Read(None) => Ok(None),
            Txn::Read(Some(t)) => Ok(t.get(key).map_err(err)?.map(|v| v.value().to_vec())),
            Txn::Write(w) => match w.in_flight(key) {
                Some(v) => Ok(v.map(<[u8]>::to_vec)),
                None if w.base().answers(key) => Ok(w.base().get(key)?.map(|v| v.value().to_vec())),
                None => w.read(|w| {
                    let t = w.open_table(KV).map_err(err)?;
                    Ok(t.get(key).map_err(err)?.map(|v| v.value().to_vec()))
                }),
            },
        }
    }

    /// The values at `keys`, in order, packed as the WIT `storage.values` record.
    pub fn get_many(&self, keys: &[&[u8]]) -> Result<PackedValues, String> {
        let mut out = ValuesBuilder::with_capacity(keys.len());
        match self {
            Txn::Read(None) => {
                for _ in keys {
                    out.push(None)?;
                }
            }
            Txn::Read(Some(t)) => {
                for k in keys {
                    out.push(t.get(*k).map_err(err)?.as_ref().map(|v| v.value()))?;
                }
            }
            Txn::Write(w) => {
                // Where each key's value is: in the batch in flight, in the starting state
                // (a key not written since), or only in the write transaction.
                let found: Vec<Found> = keys
                    .iter()
                    .map(|k| match w.in_flight(k) {
                        Some(v) => Found::InFlight(v),
                        None if w.base().answers(k) => Found::Base,
                        None => Found::Txn,
                    })
                    .collect();
                let answer = |out: &mut ValuesBuilder, k: &[u8], f: &Found, t: Option<&redb::Table<'_, _, _>>| match f {
                    Found::InFlight(v) => out.push(*v),
                    Found::Base => out.push(w.base().get(k)?.as_ref().map(|v| v.value())),
                    Found::Txn => {
                        let t = t.expect("the write transaction's table is open for keys only it holds");
                        out.push(t.get(k).map_err(err)?.as_ref().map(|v| v.value()))
                    }
                };
                if found.iter().any(|f| matches!(f, Found::Txn)) {
                    w.read(|txn| {
                        let t = txn.open_table(KV).map_err(err)?;
                        keys.iter().zip(&found).try_for_each(|(k, f)| answer(&mut out, k, f, Some(&t)))
                    })?;
                } else {
                    keys.iter().zip(&found).try_for_each(|(k, f)| answer(&mut out, k, f, None))?;
                }
            }
        }
        Ok(out.finish())
    }

    /// Up to `limit` (clamped to [`MAX_SCAN`]) entries with `start <= key < end`,
    /// ascending, or descending when `reverse`, packed as the WIT `storage.page`
    /// record: `(data, ends)`, every key and value back to back in `data`, `ends`
    /// holding where each key and then each value ends.
    pub fn scan(&mut self, start: &[u8], end: Option<&[u8]>, limit: u32, reverse: bool) -> Result<Packed, String> {
        let limit = limit.clamp(1, MAX_SCAN) as usize;
        fn collect<T: ReadableTable<&'static [u8], &'static [u8]>>(
            t: &T,
            start: &[u8],
            end: Option<&[u8]>,
            limit: usize,
            reverse: bool,
        ) -> Result<Packed, String> {
            let range = match end {
                Some(e) => t.range::<&[u8]>(start..e).map_err(err)?,
                None => t.range::<&[u8]>(start..).map_err(err)?,
            };
            let (mut data, mut ends) = (Vec::new(), Vec::with_capacity(2 * limit.min(256)));
            let items: Box<dyn Iterator<Item = _>> = if reverse { Box::new(range.rev()) } else { Box::new(range) };
            for item in items.take(limit) {
                let (k, v) = item.map_err(err)?;
                data.extend_from_slice(k.value());
                ends.push(offset(&data)?);
                data.extend_from_slice(v.value());
                ends.push(offset(&data)?);
            }
            Ok((data, ends))
        }
        match self {
            Txn::Read(None) => Ok((Vec::new(), Vec::new())),
            Txn::Read(Some(t)) => collect(t, start, end, limit, reverse),
            Txn::Write(w) => {
                w.settle()?;
                w.read(|w| collect(&w.open_table(KV).map_err(err)?, start, end, limit, reverse))
            }
        }
    }

    /// Apply the batch's puts and deletes in order; a large batch sorted by key
    /// may still be being applied when this returns (reads see it either way). Errors on
    /// a read snapshot, or what applying the previous batch returned.
    pub fn apply(&mut self, ops: Batch) -> Result<(), String> {
        let Txn::Write(w) = self else {
            return Err("write attempted during a read-only call (an engine bug)".into());
        };
        w.write(ops)
    }

    /// Commit a write transaction (a read snapshot just ends).
    pub fn commit(self) -> Result<(), String> {
        match self {
            Txn::Read(_) => Ok(()),
            Txn::Write(w) => w.finish()?.commit().map_err(err),
        }
    }

    /// Abort: nothing written in this transaction lands.
    pub fn abort(self) -> Result<(), String> {
        match self {
            Txn::Read(_) => Ok(()),
            Txn::Write(mut w) => {
                let _ = w.settle(); // a failed batch is aborted with the rest
                w.finish().and_then(|t| t.abort().map_err(err))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rem_core::storage::store::WriteOp;

    fn key(i: usize) -> Vec<u8> {
        format!("k{i:06}").into_bytes()
    }

    fn open() -> (tempfile::TempDir, redb::Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("t.redb")).unwrap();
        (dir, db)
    }

    fn read_all(db: &redb::Database) -> Vec<(Vec<u8>, Vec<u8>)> {
        let (data, ends) = Txn::read(db).unwrap().scan(b"", None, MAX_SCAN, false).unwrap();
        rem_core::storage::store::Page::new(data, ends).unwrap().into_kvs()
    }

    /// One operation as the tests write them: a put (`Some(value)`) or a delete (`None`).
    type Op = (Vec<u8>, Option<Vec<u8>>);

    /// `ops` as a packed batch.
    fn pack(ops: Vec<Op>) -> Batch {
        let ops: Vec<WriteOp> = ops
            .into_iter()
            .map(|(k, v)| match v {
                Some(v) => WriteOp::Put(k, v),
                None => WriteOp::Delete(k),
            })
            .collect();
        let (data, key_ends, value_ends) = rem_core::storage::packed::pack_batch(&ops);
        Batch::new(data, key_ends, value_ends).unwrap()
    }

    /// A batch large enough for the pipeline: puts of `0..n` with value `tag`, sorted.
    fn batch(n: usize, tag: &[u8]) -> Vec<Op> {
        (0..n).map(|i| (key(i), Some(tag.to_vec()))).collect()
    }

    #[test]
    fn reads_see_a_batch_in_flight_and_what_was_written_before_it() {
        let (_dir, db) = open();
        let n = PIPELINE_MIN_OPS * 4;
        let mut t = Txn::write(&db).unwrap();
        t.apply(pack(vec![(b"before".to_vec(), Some(b"b".to_vec()))])).unwrap();
        t.apply(pack(batch(n, b"v1"))).unwrap();
        // Deletes and overwrites of the first batch, in flight while we read.
        let mut second: Vec<Op> = (0..n).step_by(2).map(|i| (key(i), None)).collect();
        second.extend((n..n + PIPELINE_MIN_OPS).map(|i| (key(i), Some(b"v2".to_vec()))));
        t.apply(pack(second)).unwrap();
        assert_eq!(t.get(b"before").unwrap().as_deref(), Some(&b"b"[..]));
        assert_eq!(t.get(&key(0)).unwrap(), None, "deleted by the batch in flight");
        assert_eq!(t.get(&key(1)).unwrap().as_deref(), Some(&b"v1"[..]), "written by the batch before");
        assert_eq!(t.get(&key(n)).unwrap().as_deref(), Some(&b"v2"[..]));
        let (k2, k3, k4) = (key(2), key(3), key(n + 1));
        let (data, ends) = t.get_many(&[&k2, &k3, b"before", &k4, b"absent"]).unwrap();
        assert_eq!(data, b"v1bv2");
        assert_eq!(ends, vec![None, Some(2), Some(3), Some(5), None]);
        // A scan waits for the batch and sees all of it.
        let (_, ends) = t.scan(&key(0), Some(&key(n + PIPELINE_MIN_OPS)), MAX_SCAN, false).unwrap();
        assert_eq!(ends.len() / 2, n / 2 + PIPELINE_MIN_OPS);
        t.commit().unwrap();
        let stored = read_all(&db);
        assert_eq!(stored.len(), 1 + n / 2 + PIPELINE_MIN_OPS);
        assert!(stored.iter().all(|(k, _)| k.as_slice() == b"before" || k[1..].iter().all(u8::is_ascii_digit)));
        assert!(!stored.iter().any(|(k, _)| *k == key(0)));
    }

    #[test]
    fn point_reads_see_the_starting_state_only_for_keys_not_written_since() {
        for pipeline in [true, false] {
            let (_dir, db) = open();
            let mut t = Txn::write(&db).unwrap();
            let committed =
                ["kept", "overwritten", "deleted", "rewritten"].map(|k| (k.as_bytes().to_vec(), Some(b"old".to_vec())));
            t.apply(pack(committed.to_vec())).unwrap();
            t.commit().unwrap();
            let mut t = Txn::write_with(&db, pipeline, false).unwrap();
            t.apply(pack(vec![
                (b"deleted".to_vec(), None),
                (b"new".to_vec(), Some(b"n".to_vec())),
                (b"overwritten".to_vec(), Some(b"o2".to_vec())),
                (b"rewritten".to_vec(), None),
            ]))
            .unwrap();
            t.apply(pack(vec![(b"rewritten".to_vec(), Some(b"r3".to_vec()))])).unwrap();
            // A large batch, possibly in flight during the reads below.
            t.apply(pack(batch(PIPELINE_MIN_OPS * 2, b"x"))).unwrap();
            let want: [(&[u8], Option<&[u8]>); 6] = [
                (b"kept", Some(b"old")),
                (b"overwritten", Some(b"o2")),
                (b"deleted", None),
                (b"rewritten", Some(b"r3")),
                (b"new", Some(b"n")),
                (b"absent", None),
            ];
            for (k, v) in want {
                assert_eq!(
                    t.get(k).unwrap().as_deref(),
                    v,
                    "get {:?}, pipeline {pipeline}",
                    String::from_utf8_lossy(k)
                );
            }
            let keys: Vec<&[u8]> = want.iter().map(|(k, _)| *k).collect();
            let (data, ends) = t.get_many(&keys).unwrap();
            assert_eq!(data, b"oldo2r3n");
            assert_eq!(ends, vec![Some(3), Some(5), None, Some(7), Some(8), None]);
            let (data, _) = t.get_many(&[b"kept"]).unwrap();
            assert_eq!(data, b"old", "a get-many the starting state answers alone");
            t.commit().unwrap();
        }
    }

    #[test]
    fn packed_keys_split_and_malformed_ones_are_refused() {
        assert_eq!(unpack(b"abc", &[1, 1, 3]).unwrap(), vec![&b"a"[..], b"", b"bc"]);
        for ends in [&[2, 1][..], &[4]] {
            assert!(unpack(b"abc", ends).unwrap_err().contains("out of order or past the data"));
        }
    }

    #[test]
    fn an_aborted_transaction_drops_a_batch_in_flight() {
        let (_dir, db) = open();
        let mut t = Txn::write(&db).unwrap();
        t.apply(pack(vec![(b"kept".to_vec(), Some(b"1".to_vec()))])).unwrap();
        t.commit().unwrap();
        let mut t = Txn::write(&db).unwrap();
        t.apply(pack(batch(PIPELINE_MIN_OPS * 8, b"x"))).unwrap();
        t.abort().unwrap();
        assert_eq!(read_all(&db), vec![(b"kept".to_vec(), b"1".to_vec())]);
    }

    #[test]
    fn an_unsorted_batch_is_applied_in_order_with_the_last_write_winning() {
        let (_dir, db) = open();
        let mut t = Txn::write(&db).unwrap();
        let mut ops: Vec<Op> = batch(PIPELINE_MIN_OPS * 2, b"a").into_iter().rev().collect();
        ops.push((key(5), Some(b"last".to_vec())));
        ops.push((key(6), None));
        t.apply(pack(ops)).unwrap();
        assert_eq!(t.get(&key(5)).unwrap().as_deref(), Some(&b"last"[..]));
        assert_eq!(t.get(&key(6)).unwrap(), None);
        t.commit().unwrap();
        assert_eq!(read_all(&db).len(), PIPELINE_MIN_OPS * 2 - 1);
    }

    #[test]
    fn writes_are_refused_on_a_read_snapshot() {
        let (_dir, db) = open();
        let mut t = Txn::read(&db).unwrap();
        assert!(t.apply(pack(batch(1, b"x"))).unwrap_err().contains("read-only"));
    }
}
