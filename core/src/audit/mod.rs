//! What a database holds and whether it agrees with itself: `rem stats` ([`stats`]) counts
//! every key space of a tenant, `rem check` ([`check`]) verifies every derived record
//! against the rows it is derived from. Both only read; both scan in pages, so memory stays
//! bounded by a page (and by one table's vector-index ordinals for `check`).

pub mod check;
pub mod stats;

use crate::error::Result;
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::PrefixScan;

/// Entries read per page by the audits.
pub(crate) const PAGE: u32 = 512;

/// `T <tenant> <tag> <table>`: the records of one table in a space whose keys start with it.
pub(crate) fn table_space(tenant: &str, tag: u8, table: &str) -> Vec<u8> {
    let mut k = keys::tenant_space(tenant, tag);
    keys::push_str(&mut k, table);
    k
}

/// Every entry under `prefix`, page by page, as (key, value) slices.
pub(crate) fn each<S: Storage + ?Sized>(
    store: &S,
    prefix: &[u8],
    mut f: impl FnMut(&[u8], &[u8]) -> Result<()>,
) -> Result<()> {
    let mut scan = PrefixScan::new(store, prefix).with_page(PAGE);
    loop {
        let page = scan.next_packed()?;
        if page.is_empty() {
            return Ok(());
        }
        for (k, v) in page.iter() {
            f(k, v)?;
        }
    }
}

/// Every page under `prefix` as owned (key, value) pairs (for checks that fetch related
/// records of a whole page with one `get_many`).
pub(crate) fn pages<S: Storage + ?Sized>(
    store: &S,
    prefix: &[u8],
    mut f: impl FnMut(Vec<(Vec<u8>, Vec<u8>)>) -> Result<()>,
) -> Result<()> {
    let mut scan = PrefixScan::new(store, prefix).with_page(PAGE);
    loop {
        let page = scan.next_page()?;
        if page.is_empty() {
            return Ok(());
        }
        f(page)?;
    }
}

/// The names that start keys under `space` (a tenant space whose keys begin with a string
/// part: a table name), found by skipping from one name to the next, so a space of millions
/// of entries costs one read per name.
pub(crate) fn names_in<S: Storage + ?Sized>(store: &S, space: &[u8]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let mut start = space.to_vec();
    let end = keys::prefix_end(space);
    loop {
        let page = store.scan(&start, end.as_deref(), 1, false)?;
        let Some((key, _)) = page.iter().next() else { return Ok(names) };
        let Some((name, _)) = keys::pop_str(&key[space.len()..]) else { return Ok(names) };
        let mut prefix = space.to_vec();
        keys::push_str(&mut prefix, &name);
        names.push(name);
        match keys::prefix_end(&prefix) {
            Some(next) => start = next,
            None => return Ok(names),
        }
    }
}
