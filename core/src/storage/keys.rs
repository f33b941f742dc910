//! The storage key layout (format version 2). See `docs/design.md` for the table.
//!
//! Every key is a tuple of parts, each encoded so that byte order equals
//! tuple order: strings end in `0x00`, with an embedded `0x00` written as
//! `0x00 0xFF` (the FoundationDB tuple-layer convention), so a part is never a
//! prefix of a longer different part and any byte (`:` in URIs included) is safe.
//!
//! ```text
//! M format                                  -> "2"                (global, one record)
//! T <tenant> S <table>                      -> schema record JSON
//! T <tenant> E <table> <id:16>              -> entity JSON
//! T <tenant> I <id:16>                      -> table name          (id index)
//! T <tenant> K <key> <id:16>                -> table name          (natural-key index)
//! T <tenant> C <table>                      -> u64 LE live count
//! T <tenant> X <table> <field> <value> <id:16> -> empty           (secondary index, see `index`)
//! T <tenant> Y <table> <field> <value> <id:16> -> `SELECT *` row   (row copy of an exact scalar entry, see `index`)
//! T <tenant> G <src:16> <rel> <dst:16>      -> edge JSON          (graph, forward; see `graph`)
//! T <tenant> R <dst:16> <rel> <src:16>      -> edge JSON          (graph, reverse)
//! T <tenant> D <id:16>                      -> empty              (the entity is soft-deleted)
//! T <tenant> H                              -> u64 LE             (graph generation, bumped by every edge or D write)
//! ```

/// Layout version written in the `M format` record. Version 2 added the `Y` row copies;
/// a version-1 file is read as is (it has no copies, which version 2 allows) and marked
/// version 2 by its first write, so older REMs, which do not keep the copies, refuse it.
pub const FORMAT_VERSION: u32 = 2;

/// Older layout versions this REM opens (see [`FORMAT_VERSION`]).
pub const FORMAT_READABLE: &[u32] = &[1];

/// Key of the global format-version record.
pub const FORMAT_KEY: &[u8] = b"Mformat";

/// Space tags inside a tenant.
const SCHEMA: u8 = b'S';
const ENTITY: u8 = b'E';
const ID_INDEX: u8 = b'I';
const KEY_INDEX: u8 = b'K';
const COUNT: u8 = b'C';
const INDEX: u8 = b'X';
const INDEX_COPY: u8 = b'Y';

/// Append `s` as an order-preserving, self-delimiting tuple part.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    for &b in s.as_bytes() {
        match b {
            0 => out.extend_from_slice(&[1, 1]),
            1 => out.extend_from_slice(&[1, 2]),
            b => out.push(b),
        }
    }
    out.push(0);
}

/// Decode one string part from the start of `bytes`; returns it and the rest.
pub fn pop_str(bytes: &[u8]) -> Option<(String, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            0 => return String::from_utf8(out).ok().map(|s| (s, &bytes[i + 1..])),
            1 => {
                out.push(bytes.get(i + 1)?.checked_sub(1)?);
                i += 2;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    None
}

/// `T <tenant> <space>`: the start of every key of one kind in a tenant.
pub fn tenant_space(tenant: &str, space: u8) -> Vec<u8> {
    let mut k = Vec::with_capacity(tenant.len() + 40);
    k.push(b'T');
    push_str(&mut k, tenant);
    k.push(space);
    k
}

/// `T <tenant> X`: the secondary-index space of a tenant.
pub fn index_space(tenant: &str) -> Vec<u8> {
    tenant_space(tenant, INDEX)
}

/// `T <tenant> Y`: the row copies of a tenant's secondary indexes.
pub fn index_copy_space(tenant: &str) -> Vec<u8> {
    tenant_space(tenant, INDEX_COPY)
}

/// `T <tenant> S <table>`.
pub fn schema(tenant: &str, table: &str) -> Vec<u8> {
    let mut k = tenant_space(tenant, SCHEMA);
    push_str(&mut k, table);
    k
}

/// Prefix of every schema record of a tenant.
pub fn schema_prefix(tenant: &str) -> Vec<u8> {
    tenant_space(tenant, SCHEMA)
}

/// Prefix of every entity row of `table`.
pub fn entity_prefix(tenant: &str, table: &str) -> Vec<u8> {
    let mut k = tenant_space(tenant, ENTITY);
    push_str(&mut k, table);
    k
}

/// `T <tenant> E <table> <id>`.
pub fn entity(tenant: &str, table: &str, id: &[u8; 16]) -> Vec<u8> {
    let mut k = entity_prefix(tenant, table);
    k.extend_from_slice(id);
    k
}

/// `T <tenant> I <id>`.
pub fn id_index(tenant: &str, id: &[u8; 16]) -> Vec<u8> {
    let mut k = tenant_space(tenant, ID_INDEX);
    k.extend_from_slice(id);
    k
}

/// Prefix of the key-index entries for natural key `key`.
pub fn key_index_prefix(tenant: &str, key: &str) -> Vec<u8> {
    let mut k = tenant_space(tenant, KEY_INDEX);
    push_str(&mut k, key);
    k
}

/// `T <tenant> K <key> <id>`.
pub fn key_index(tenant: &str, key: &str, id: &[u8; 16]) -> Vec<u8> {
    let mut k = key_index_prefix(tenant, key);
    k.extend_from_slice(id);
    k
}

/// `T <tenant> C <table>`.
pub fn count(tenant: &str, table: &str) -> Vec<u8> {
    let mut k = tenant_space(tenant, COUNT);
    push_str(&mut k, table);
    k
}

/// The smallest key greater than every key starting with `prefix`
/// (`None` when no such key exists, i.e. the prefix is all `0xFF`).
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xFF {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &str) -> Vec<u8> {
        let mut v = Vec::new();
        push_str(&mut v, s);
        v
    }

    #[test]
    fn string_parts_keep_order_and_never_prefix_each_other() {
        let words = [
            "", "\0", "\0\0", "\u{1}", "\u{1}\0", "\u{2}", "a", "a\0", "a\0b", "a\u{1}", "ab", "b", "TAP-1:2", "TAP-1",
            "é",
        ];
        let mut sorted = words.to_vec();
        sorted.sort();
        let mut by_bytes = words.to_vec();
        by_bytes.sort_by_key(|w| enc(w));
        assert_eq!(sorted, by_bytes);
        for a in words {
            for b in words {
                if a != b {
                    assert!(!enc(b).starts_with(&enc(a)), "{a:?} prefixes {b:?}");
                }
            }
        }
    }

    #[test]
    fn pop_str_inverts_push_str() {
        for w in ["", "x", "a\0b\0", "\u{1}\u{1}\0", "https://docs.python.org:0", "TAP-1:2"] {
            let mut v = enc(w);
            v.extend_from_slice(b"rest");
            let (s, rest) = pop_str(&v).unwrap();
            assert_eq!(s, w);
            assert_eq!(rest, b"rest");
        }
    }

    #[test]
    fn tenants_and_tables_are_disjoint() {
        let id = [7u8; 16];
        assert!(!entity("ab", "c", &id).starts_with(&entity_prefix("a", "bc")));
        assert!(!entity("a", "bc", &id).starts_with(&entity_prefix("a", "b")));
        assert!(!key_index("t", "k:1", &id).starts_with(&key_index_prefix("t", "k")));
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
    }
}
