//! The packed forms in which `get-many` crosses the component boundary: the keys as one
//! byte buffer with end offsets (the WIT `storage.keys` record), the values found as one
//! buffer with an optional end per key (`storage.values`). Two lists cross per call
//! instead of one per key or value, so the host allocates nothing per value and does not
//! call back into the guest's allocator once per value.

use crate::error::{Error, Result};

/// `keys` back to back: `(data, ends)`, item i being `data[ends[i-1]..ends[i]]` (`ends[-1]`
/// read as 0). Offsets are `u32`: a batch of keys never nears 4 GiB (the engine asks for at
/// most [`crate::store::SCAN_PAGE`]-sized chunks of short keys).
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
