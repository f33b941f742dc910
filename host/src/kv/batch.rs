//! A write batch as the guest sends it (the WIT `storage.write-batch` record): every key
//! and value back to back in one buffer, with a key end and an optional value end per
//! operation. Kept packed all the way into redb, so a batch costs the host three
//! allocations, not two per operation.

/// Operations in order, packed; [`Batch::new`] has checked every offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    data: Vec<u8>,
    key_ends: Vec<u32>,
    value_ends: Vec<Option<u32>>,
}

impl Batch {
    /// A batch from its packed parts: operation i's key ends at `key_ends[i]` (bytes into
    /// `data`), its value at `value_ends[i]` (a put) or it has none (`None`, a delete); each
    /// key starts where the previous operation ended. Errors: the lists differ in length, or
    /// an offset goes backwards or past `data` (a guest bug; checked because the guest is
    /// untrusted).
    pub fn new(data: Vec<u8>, key_ends: Vec<u32>, value_ends: Vec<Option<u32>>) -> Result<Batch, String> {
        if key_ends.len() != value_ends.len() {
            return Err(format!(
                "malformed write batch: {} key ends but {} value ends",
                key_ends.len(),
                value_ends.len()
            ));
        }
        let mut at = 0u32;
        for (i, (&k, v)) in key_ends.iter().zip(&value_ends).enumerate() {
            let end = v.unwrap_or(k);
            if k < at || end < k || end as usize > data.len() {
                return Err(format!(
                    "malformed write batch: operation {i} ends at byte {end} (key end {k}), after byte {at}, \
                     over {} bytes",
                    data.len()
                ));
            }
            at = end;
        }
        Ok(Batch { data, key_ends, value_ends })
    }

    /// Number of operations.
    pub fn len(&self) -> usize {
        self.key_ends.len()
    }

    /// Whether the batch holds no operation.
    pub fn is_empty(&self) -> bool {
        self.key_ends.is_empty()
    }

    /// Operation `i`: its key and its value (`None` for a delete). Panics when `i >= len()`.
    pub fn op(&self, i: usize) -> (&[u8], Option<&[u8]>) {
        let start = match i {
            0 => 0,
            _ => self.value_ends[i - 1].unwrap_or(self.key_ends[i - 1]) as usize,
        };
        let k = self.key_ends[i] as usize;
        (&self.data[start..k], self.value_ends[i].map(|v| &self.data[k..v as usize]))
    }

    /// The operations in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], Option<&[u8]>)> {
        (0..self.len()).map(|i| self.op(i))
    }

    /// Whether keys strictly increase (sorted, no key twice).
    pub fn sorted_unique(&self) -> bool {
        (1..self.len()).all(|i| self.op(i - 1).0 < self.op(i).0)
    }

    /// What a sorted batch does to `key`: `Some(value, or None for a delete)`, or `None` when
    /// no operation touches it (binary search; only meaningful when [`Batch::sorted_unique`]).
    pub fn find(&self, key: &[u8]) -> Option<Option<&[u8]>> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (k, v) = self.op(mid);
            match k.cmp(key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(v),
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rem_core::storage::packed::pack_batch;
    use rem_core::storage::store::WriteOp;

    #[test]
    fn ops_read_back_as_the_engine_packed_them() {
        let (data, key_ends, value_ends) = pack_batch(&[
            WriteOp::Put(b"a".to_vec(), b"1".to_vec()),
            WriteOp::Delete(b"b".to_vec()),
            WriteOp::Put(b"c".to_vec(), Vec::new()),
        ]);
        let b = Batch::new(data, key_ends, value_ends).unwrap();
        assert_eq!(b.iter().collect::<Vec<_>>(), vec![(&b"a"[..], Some(&b"1"[..])), (b"b", None), (b"c", Some(b""))]);
        assert!(b.sorted_unique());
        assert_eq!(b.find(b"b"), Some(None));
        assert_eq!(b.find(b"c"), Some(Some(&b""[..])));
        assert_eq!(b.find(b"bb"), None);
        let again = Batch::new(b.data.clone(), b.key_ends.clone(), b.value_ends.clone()).unwrap();
        assert_eq!(again, b);
    }

    #[test]
    fn malformed_batches_are_refused() {
        for (key_ends, value_ends) in [
            (vec![1], vec![]),              // lengths differ
            (vec![2, 1], vec![None, None]), // a key end goes backwards
            (vec![1], vec![Some(0)]),       // a value ends before its key
            (vec![1], vec![Some(9)]),       // past the data
        ] {
            let e = Batch::new(b"abc".to_vec(), key_ends, value_ends).unwrap_err();
            assert!(e.starts_with("malformed write batch"), "{e}");
        }
    }
}
