//! The ordered key-value store on redb: one table of byte keys and values,
//! accessed through one transaction per engine call. Shared by the WIT
//! `storage` import and by native use of `rem-core` (benchmarks).

use redb::{ReadableDatabase, ReadableTable, TableDefinition, WriteTransaction};

/// The single redb table holding REM's key space (layout: `docs/design.md`).
pub const KV: TableDefinition<&[u8], &[u8]> = TableDefinition::new("rem_kv");

/// Largest page a `scan` returns; the guest's `limit` is clamped to it.
pub const MAX_SCAN: u32 = 4096;

/// One scan page: `(data, ends)`, the layout of the WIT `storage.page` record.
pub type Packed = (Vec<u8>, Vec<u32>);

/// `data.len()` as a page offset; a page past 4 GiB is refused (`limit` keeps pages far smaller).
fn offset(data: &[u8]) -> Result<u32, String> {
    u32::try_from(data.len()).map_err(|_| "scan page larger than 4 GiB; use a smaller limit".to_string())
}

/// The transaction an engine call runs in.
pub enum Txn {
    /// A read-only snapshot (`None` when the table has never been written).
    Read(Option<redb::ReadOnlyTable<&'static [u8], &'static [u8]>>),
    /// A write transaction, committed or aborted by the caller.
    Write(Box<WriteTransaction>),
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

    /// Begin a write transaction on `db` (durable on commit).
    pub fn write(db: &redb::Database) -> Result<Txn, String> {
        Ok(Txn::Write(Box::new(db.begin_write().map_err(err)?)))
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
            Txn::Write(w) => {
                let t = w.open_table(KV).map_err(err)?;
                Ok(t.get(key).map_err(err)?.map(|v| v.value().to_vec()))
            }
        }
    }

    /// The values at `keys`, in order.
    pub fn get_many(&self, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, String> {
        match self {
            Txn::Read(None) => Ok(vec![None; keys.len()]),
            Txn::Read(Some(t)) => {
                keys.iter().map(|k| Ok(t.get(k.as_slice()).map_err(err)?.map(|v| v.value().to_vec()))).collect()
            }
            Txn::Write(w) => {
                let t = w.open_table(KV).map_err(err)?;
                keys.iter().map(|k| Ok(t.get(k.as_slice()).map_err(err)?.map(|v| v.value().to_vec()))).collect()
            }
        }
    }

    /// Up to `limit` (clamped to [`MAX_SCAN`]) entries with `start <= key < end`,
    /// ascending, or descending when `reverse`, packed as the WIT `storage.page`
    /// record: `(data, ends)`, every key and value back to back in `data`, `ends`
    /// holding where each key and then each value ends.
    pub fn scan(&self, start: &[u8], end: Option<&[u8]>, limit: u32, reverse: bool) -> Result<Packed, String> {
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
            Txn::Write(w) => collect(&w.open_table(KV).map_err(err)?, start, end, limit, reverse),
        }
    }

    /// Apply puts (`Some`) and deletes (`None`) in order. Errors on a read snapshot.
    pub fn apply<'a>(&mut self, ops: impl IntoIterator<Item = (&'a [u8], Option<&'a [u8]>)>) -> Result<(), String> {
        let Txn::Write(w) = self else {
            return Err("write attempted during a read-only call (an engine bug)".into());
        };
        let mut t = w.open_table(KV).map_err(err)?;
        for (k, v) in ops {
            match v {
                Some(v) => {
                    t.insert(k, v).map_err(err)?;
                }
                None => {
                    t.remove(k).map_err(err)?;
                }
            }
        }
        Ok(())
    }

    /// Commit a write transaction (a read snapshot just ends).
    pub fn commit(self) -> Result<(), String> {
        match self {
            Txn::Read(_) => Ok(()),
            Txn::Write(w) => w.commit().map_err(err),
        }
    }

    /// Abort: nothing written in this transaction lands.
    pub fn abort(self) -> Result<(), String> {
        match self {
            Txn::Read(_) => Ok(()),
            Txn::Write(w) => w.abort().map_err(err),
        }
    }
}
