//! The packed forms in which `get-many` and `write` cross the component boundary: the keys
//! as one byte buffer with end offsets (the WIT `storage.keys` record), the values found as
//! one buffer with an optional end per key (`storage.values`), a write batch as one buffer
//! with a key end and an optional value end per operation (`storage.write-batch`). A few
//! lists cross per call instead of one or two per key, value or operation, so neither side
//! allocates per item and the host does not call back into the guest's allocator per item.

use crate::error::{Error, Result};
use crate::storage::store::WriteOp;

/// A write batch packed as the WIT `storage.write-batch` record: `(data, key_ends,
/// value_ends)`. Operation i's key ends at `key_ends[i]`; `value_ends[i]` is where its value
/// ends for a put, `None` for a delete; each key starts where the previous operation ended.
pub type PackedBatch = (Vec<u8>, Vec<u32>, Vec<Option<u32>>);

/// `ops` packed in order (see [`PackedBatch`]). Offsets are `u32`, as the guest's buffers
/// are: a wasm32 memory holds at most 4 GiB (natively, callers keep batches far smaller).
pub fn pack_batch(ops: &[WriteOp]) -> PackedBatch {
    let size = ops
        .iter()
        .map(|op| match op {
            WriteOp::Put(k, v) => k.len() + v.len(),
            WriteOp::Delete(k) => k.len(),
        })
        .sum();
    let mut data = Vec::with_capacity(size);
    let (mut key_ends, mut value_ends) = (Vec::with_capacity(ops.len()), Vec::with_capacity(ops.len()));
    for op in ops {
        match op {
            WriteOp::Put(k, v) => {
                data.extend_from_slice(k);
                key_ends.push(data.len() as u32);
                data.extend_from_slice(v);
                value_ends.push(Some(data.len() as u32));
            }
            WriteOp::Delete(k) => {
                data.extend_from_slice(k);
                key_ends.push(data.len() as u32);
                value_ends.push(None);
            }
        }
    }
    (data, key_ends, value_ends)
}

/// `keys` back to back: `(data, ends)`, item i being `data[ends[i-1]..ends[i]]` (`ends[-1]`
/// read as 0). Offsets are `u32`: a batch of keys never nears 4 GiB (the engine asks for at
/// most [`crate::storage::store::SCAN_PAGE`]-sized chunks of short keys).
pub fn pack_keys(keys: &[Vec<u8>]) -> (Vec<u8>, Vec<u32>) {
    let mut data = Vec::with_capacity(keys.iter().map(Vec::len).sum());
    let mut ends = Vec::with_capacity(keys.len());
    for k in keys {
        data.extend_from_slice(k);
        ends.push(data.len() as u32);
    }
    (data, ends)
}

/// The values of a packed `get-many` answer, one per key: `ends[i]` is where value i ends in
/// `data` (bytes) or `None` for an absent key; each value starts where the previous value
/// found ended. Errors: `Storage` when `ends` has not `keys` entries, decreases, or points past
/// `data` (a host bug; checked because the host is outside the sandbox).
pub fn unpack_values(data: &[u8], ends: &[Option<u32>], keys: usize) -> Result<Vec<Option<Vec<u8>>>> {
    let bad = || {
        Error::Storage(format!(
            "malformed get-many answer from the host: {} offsets for {keys} keys over {} bytes",
            ends.len(),
            data.len()
        ))
    };
    if ends.len() != keys {
        return Err(bad());
    }
    let mut start = 0usize;
    ends.iter()
        .map(|end| match end {
            None => Ok(None),
            Some(end) => {
                let end = *end as usize;
                let value = data.get(start..end).ok_or_else(bad)?;
                start = end;
                Ok(Some(value.to_vec()))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_pack_back_to_back() {
        let (data, ends) = pack_keys(&[b"ab".to_vec(), Vec::new(), b"c".to_vec()]);
        assert_eq!((data.as_slice(), ends.as_slice()), (&b"abc"[..], &[2, 2, 3][..]));
    }

    #[test]
    fn batches_pack_puts_and_deletes_in_order() {
        let ops = [
            WriteOp::Put(b"k1".to_vec(), b"v1".to_vec()),
            WriteOp::Delete(b"k2".to_vec()),
            WriteOp::Put(b"k3".to_vec(), Vec::new()),
        ];
        let (data, key_ends, value_ends) = pack_batch(&ops);
        assert_eq!(data, b"k1v1k2k3");
        assert_eq!(key_ends, vec![2, 6, 8]);
        assert_eq!(value_ends, vec![Some(4), None, Some(8)]);
    }

    #[test]
    fn values_unpack_with_gaps() {
        let got = unpack_values(b"xyz", &[Some(1), None, Some(1), Some(3)], 4).unwrap();
        assert_eq!(got, vec![Some(b"x".to_vec()), None, Some(Vec::new()), Some(b"yz".to_vec())]);
    }

    #[test]
    fn malformed_answers_are_refused() {
        for (ends, keys) in [
            (vec![Some(2), Some(1)], 2), // decreasing
            (vec![Some(4)], 1),          // past the data
            (vec![Some(1)], 2),          // too few entries
        ] {
            let e = unpack_values(b"xyz", &ends, keys).unwrap_err();
            assert!(e.to_string().contains("malformed get-many answer"), "{e}");
        }
    }
}
