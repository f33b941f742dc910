//! The storage key layout (format version 2): every key space of the database, in one
//! table ([`SPACES`]). `docs/design.md` shows the same table; a test checks it against
//! [`layout_markdown`].
//!
//! Every key is a tuple of parts, each encoded so that byte order equals tuple order and no
//! part is a prefix of a longer different part: a string part is its UTF-8 bytes with
//! `0x00` written as `0x01 0x01` and `0x01` as `0x01 0x02`, then a `0x00` terminator (see
//! [`push_str`]). Any byte in a name or key (`:` in URIs, NUL) is therefore safe. Ids are 16
//! raw bytes; ordinals are big-endian so that byte order equals numeric order.

/// Layout version written in the `M format` record. Version 2 added the `Y` row copies;
/// a version-1 file is read as is (it has no copies, which version 2 allows) and marked
/// version 2 by its first write, so older REMs, which do not keep the copies, refuse it.
pub const FORMAT_VERSION: u32 = 2;

/// Older layout versions this REM opens (see [`FORMAT_VERSION`]).
pub const FORMAT_READABLE: &[u32] = &[1];

/// Key of the global format-version record.
pub const FORMAT_KEY: &[u8] = b"Mformat";

/// The global space (one record: the format version).
pub const GLOBAL: u8 = b'M';
/// The tenant spaces' common first byte: `T <tenant> <space tag> ...`.
pub const TENANT: u8 = b'T';

/// Space tag of schema records.
pub const SCHEMA: u8 = b'S';
/// Space tag of entity rows.
pub const ENTITY: u8 = b'E';
/// Space tag of the id index.
pub const ID_INDEX: u8 = b'I';
/// Space tag of the natural-key index.
pub const KEY_INDEX: u8 = b'K';
/// Space tag of live-row counts.
pub const COUNT: u8 = b'C';
/// Space tag of secondary-index entries.
pub const INDEX: u8 = b'X';
/// Space tag of secondary-index row copies.
pub const INDEX_COPY: u8 = b'Y';
/// Space tag of forward edges.
pub const EDGE_OUT: u8 = b'G';
/// Space tag of reverse edges.
pub const EDGE_IN: u8 = b'R';
/// Space tag of soft-delete markers.
pub const DELETED: u8 = b'D';
/// Space tag of the graph generation counter.
pub const GRAPH_GENERATION: u8 = b'H';
/// Space tag of the vector (HNSW) indexes.
pub const VECTOR: u8 = b'V';
/// Space tag of the keyword (BM25) indexes.
pub const KEYWORD: u8 = b'W';

/// Record tags inside a table's vector index (`T <tenant> V <table> <tag> ...`).
pub mod vector {
    /// The index header.
    pub const META: u8 = b'm';
    /// Entity id to node.
    pub const NODE_OF: u8 = b'i';
    /// A node's vector.
    pub const VECTOR: u8 = b'v';
    /// A node's links.
    pub const LINKS: u8 = b'a';
}

/// Record tags inside a table's keyword index (`T <tenant> W <table> <tag> ...`).
pub mod keyword {
    /// Corpus statistics.
    pub const STATS: u8 = b's';
    /// A row's terms.
    pub const DOCUMENT: u8 = b'd';
    /// A posting.
    pub const POSTING: u8 = b'p';
}

/// One kind of record: the key's parts, the value, and the module that writes it.
#[derive(Debug, Clone, Copy)]
pub struct Space {
    /// The first byte after the tenant (or the global tag for the format record).
    pub tag: u8,
    /// The record tag inside the space, for spaces with several kinds of record.
    pub sub: Option<u8>,
    /// The key, as parts (`"T" tenant "E" table id[16]`).
    pub key: &'static str,
    /// The value.
    pub value: &'static str,
}

/// Every key space of the database. `docs/design.md` ("Storage layout") shows this table.
pub const SPACES: &[Space] = &[
    Space { tag: GLOBAL, sub: None, key: r#""M" "format""#, value: r#"`"2"`: the layout version"# },
    Space { tag: SCHEMA, sub: None, key: r#""T" tenant "S" table"#, value: "schema record (JSON)" },
    Space { tag: ENTITY, sub: None, key: r#""T" tenant "E" table id[16]"#, value: "entity (JSON)" },
    Space {
        tag: ID_INDEX,
        sub: None,
        key: r#""T" tenant "I" id[16]"#,
        value: "table name (id index: `get` by id without knowing the table)",
    },
    Space {
        tag: KEY_INDEX,
        sub: None,
        key: r#""T" tenant "K" key id[16]"#,
        value: "table name (natural-key index for `lookup`)",
    },
    Space { tag: COUNT, sub: None, key: r#""T" tenant "C" table"#, value: "live row count, u64 little-endian" },
    Space {
        tag: INDEX,
        sub: None,
        key: r#""T" tenant "X" table field value id[16]"#,
        value: "empty (secondary index entry)",
    },
    Space {
        tag: INDEX_COPY,
        sub: None,
        key: r#""T" tenant "Y" table field value id[16]"#,
        value: "the row's `SELECT *` text (row copy of an entry; see Secondary indexes)",
    },
    Space {
        tag: EDGE_OUT,
        sub: None,
        key: r#""T" tenant "G" src[16] rel dst[16]"#,
        value: "edge JSON (forward adjacency)",
    },
    Space {
        tag: EDGE_IN,
        sub: None,
        key: r#""T" tenant "R" dst[16] rel src[16]"#,
        value: "edge JSON (reverse adjacency)",
    },
    Space {
        tag: DELETED,
        sub: None,
        key: r#""T" tenant "D" id[16]"#,
        value: "empty: the entity is soft-deleted (read by traversals)",
    },
    Space {
        tag: GRAPH_GENERATION,
        sub: None,
        key: r#""T" tenant "H""#,
        value: "graph generation, u64 little-endian: bumped once by every call that writes a `G`, `R` or `D` key (absent = 0)",
    },
    Space {
        tag: VECTOR,
        sub: Some(vector::META),
        key: r#""T" tenant "V" table "m""#,
        value: "vector index header (JSON: model, dims, M, ef_construction, ef_search, entry point, counts, generation)",
    },
    Space {
        tag: VECTOR,
        sub: Some(vector::NODE_OF),
        key: r#""T" tenant "V" table "i" id[16]"#,
        value: "node ordinal u32 LE, BLAKE3-128 of the embedded text, live flag",
    },
    Space {
        tag: VECTOR,
        sub: Some(vector::VECTOR),
        key: r#""T" tenant "V" table "v" ord[4 BE]"#,
        value: "entity id, then the L2-normalised vector as f32 LE (written once)",
    },
    Space {
        tag: VECTOR,
        sub: Some(vector::LINKS),
        key: r#""T" tenant "V" table "a" ord[4 BE]"#,
        value: "tombstone flag, layer count, then per layer: u16 count + u32 LE neighbour ordinals",
    },
    Space {
        tag: KEYWORD,
        sub: Some(keyword::STATS),
        key: r#""T" tenant "W" table "s""#,
        value: "BM25 corpus statistics: documents u64 LE, total length u64 LE",
    },
    Space {
        tag: KEYWORD,
        sub: Some(keyword::DOCUMENT),
        key: r#""T" tenant "W" table "d" id[16]"#,
        value: "the row's terms: (term, tf) list, JSON",
    },
    Space {
        tag: KEYWORD,
        sub: Some(keyword::POSTING),
        key: r#""T" tenant "W" table "p" term id[16]"#,
        value: "posting: tf u16 LE, document length u16 LE",
    },
];

/// [`SPACES`] as the Markdown table `docs/design.md` shows.
pub fn layout_markdown() -> String {
    let mut out = String::from("| key | value |\n|---|---|\n");
    for s in SPACES {
        out.push_str(&format!("| `{}` | {} |\n", s.key, s.value));
    }
    out
}

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
    k.push(TENANT);
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
    fn every_space_has_its_own_tag_and_its_key_names_it() {
        let mut seen = std::collections::HashSet::new();
        for s in SPACES {
            assert!(seen.insert((s.tag, s.sub)), "tag {:?}/{:?} is used twice", s.tag as char, s.sub.map(char::from));
            let tag = format!("\"{}\"", s.tag as char);
            assert!(s.key.contains(&tag), "{} does not name its tag {tag}", s.key);
            if let Some(sub) = s.sub {
                assert!(s.key.contains(&format!("\"{}\"", sub as char)), "{} does not name its record tag", s.key);
            }
        }
        // Spaces with several kinds of record use a record tag for every one of them.
        for s in SPACES {
            assert!(SPACES.iter().filter(|o| o.tag == s.tag).all(|o| o.sub.is_some() == s.sub.is_some()));
        }
        let tenant_tags: Vec<u8> = SPACES.iter().filter(|s| s.tag != GLOBAL).map(|s| s.tag).collect();
        assert!(!tenant_tags.contains(&GLOBAL) && GLOBAL != TENANT);
    }

    #[test]
    fn the_design_doc_shows_the_key_table() {
        let doc = include_str!("../../../docs/design.md");
        let table = layout_markdown();
        assert!(
            doc.contains(&table),
            "docs/design.md's storage-layout table differs from storage::keys::SPACES; replace it with:\n{table}"
        );
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 0xFF]), Some(vec![2]));
        assert_eq!(prefix_end(&[0xFF, 0xFF]), None);
    }
}
