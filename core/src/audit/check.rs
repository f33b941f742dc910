//! `rem check`: verify every derived record of a tenant against the rows (the key spaces of
//! `storage/keys.rs`), in both directions: each record a row should own is there with the
//! right value, and each derived record that is there belongs to a row that owns it.
//!
//! What is checked, per table:
//! - each row record (`E`): it decodes, its key's id is its `id`, its `entity_type` is the table;
//! - the records a row owns (`write::owned`: `I`, `K`, `X`, `Y`, `D`) are present with the
//!   values the row gives them, and the table's `X`/`Y` entries are exactly those;
//! - the live-row count (`C`) equals the live rows;
//! - vector index (`V`, and a second model's): each entity-to-node record names a row of the
//!   table, with the row's liveness and the hash of its embedded text; its node's vector
//!   record names the same row; every node's links point at nodes that exist; the header's
//!   `count`, `live` and `tombstones` equal the nodes';
//! - keyword index (`W`): a live row with text has a document with its terms, other rows none;
//!   each document's postings exist; the posting count and the header agree with the documents.
//!
//! And per tenant: every `I` entry names a stored row, every `K` and `D` entry is owned by a
//! row, every forward edge (`G`) has its reverse (`R`) with the same value and both
//! endpoints exist, and no record names a table without a schema.

use std::collections::{BTreeMap, HashSet};

use serde_json::{Value, json};

use super::{each, names_in, pages, table_space};
use crate::error::Result;
use crate::json::record::decode_entity;
use crate::keyword;
use crate::model::entity::Entity;
use crate::model::schema::{SchemaRecord, alt_index_name};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::vector::embed::{embedding_text, text_hash};
use crate::vector::layout::{self, IdRecord, Meta};

/// Most problems one report lists (the total is counted beyond it).
pub const MAX_LISTED: usize = 10_000;

/// The findings of one check.
#[derive(Debug, Default)]
pub struct Report {
    problems: Vec<Value>,
    total: u64,
    limit: usize,
    checked: BTreeMap<&'static str, u64>,
}

impl Report {
    /// An empty report listing at most `limit` problems (clamped to 1..=[`MAX_LISTED`]).
    pub fn new(limit: usize) -> Report {
        let checked = ["rows", "index_entries", "vectors", "keyword_documents", "edges"].map(|k| (k, 0)).into();
        Report { limit: limit.clamp(1, MAX_LISTED), checked, ..Report::default() }
    }

    fn problem(&mut self, space: &str, table: Option<&str>, id: Option<&[u8]>, message: String) {
        self.total += 1;
        if self.problems.len() < self.limit {
            let id = id.and_then(|b| <[u8; 16]>::try_from(b).ok()).map(|b| format_id(&b));
            self.problems.push(json!({"space": space, "table": table, "id": id, "problem": message}));
        }
    }

    fn count(&mut self, what: &'static str, n: u64) {
        *self.checked.entry(what).or_insert(0) += n;
    }

    /// The report as JSON: `{"ok": bool, "problems": [{"space", "table", "id", "problem"}],
    /// "problems_total": n, "checked": {"rows": n, ...}}` (`problems` lists at most the limit).
    pub fn to_json(&self) -> Value {
        json!({
            "ok": self.total == 0,
            "problems": self.problems,
            "problems_total": self.total,
            "checked": self.checked,
        })
    }
}

/// Check `tenant` of `store` (see the module doc); `tables` are its schema records.
/// Errors: `Storage` (a read failed). Disagreements are the report's, not errors.
pub fn check<S: Storage + ?Sized>(store: &S, tenant: &str, tables: &[SchemaRecord], report: &mut Report) -> Result<()> {
    let mut owned = Owned::default();
    for rec in tables {
        check_table(store, tenant, rec, report, &mut owned)?;
    }
    let known: HashSet<String> = tables
        .iter()
        .flat_map(|r| {
            let alt = r.alt_index().map(|_| alt_index_name(&r.name));
            std::iter::once(r.name.clone()).chain(alt)
        })
        .collect();
    for (space, tag) in [
        ("E", keys::ENTITY),
        ("C", keys::COUNT),
        ("X", keys::INDEX),
        ("Y", keys::INDEX_COPY),
        ("V", keys::VECTOR),
        ("W", keys::KEYWORD),
    ] {
        for name in names_in(store, &keys::tenant_space(tenant, tag))? {
            if !known.contains(&name) {
                report.problem(space, Some(&name), None, "records of a table that has no schema".into());
            }
        }
    }
    check_id_index(store, tenant, report, owned.rows)?;
    check_owned_space(store, tenant, keys::KEY_INDEX, "K", owned.keys, report)?;
    check_owned_space(store, tenant, keys::DELETED, "D", owned.deleted, report)?;
    check_edges(store, tenant, report)
}

/// How many tenant-wide records the rows own.
#[derive(Default)]
struct Owned {
    rows: u64,
    keys: u64,
    deleted: u64,
}

fn format_id(id: &[u8; 16]) -> String {
    uuid::Uuid::from_bytes(*id).to_string()
}

fn entry_id(key: &[u8]) -> Option<[u8; 16]> {
    key.len().checked_sub(16).map(|at| key[at..].try_into().expect("16 bytes"))
}

fn check_table<S: Storage + ?Sized>(
    store: &S,
    tenant: &str,
    rec: &SchemaRecord,
    report: &mut Report,
    owned: &mut Owned,
) -> Result<()> {
    let table = rec.name.as_str();
    let prefix = keys::entity_prefix(tenant, table);
    let (mut live, mut entries) = (0u64, 0u64);
    let vector_indexes: Vec<String> = match rec.has_vectors() {
        true => std::iter::once(table.to_string()).chain(rec.alt_index().map(|a| a.name)).collect(),
        false => Vec::new(),
    };
    pages(store, &prefix, |page| {
        let mut rows: Vec<([u8; 16], Entity)> = Vec::with_capacity(page.len());
        for (k, v) in &page {
            let Some(id) = entry_id(&k[prefix.len()..]) else {
                report.problem("E", Some(table), None, "a row key without a 16-byte id".into());
                continue;
            };
            match decode_entity(v) {
                Ok(e) if e.id != format_id(&id) => report.problem(
                    "E",
                    Some(table),
                    Some(&id),
                    format!("the row's id is {} but its key's is not", e.id),
                ),
                Ok(e) if e.entity_type != table => {
                    report.problem("E", Some(table), Some(&id), format!("the row's entity_type is '{}'", e.entity_type))
                }
                Ok(e) => rows.push((id, e)),
                Err(e) => report.problem("E", Some(table), Some(&id), format!("the row does not decode: {e}")),
            }
        }
        report.count("rows", rows.len() as u64);
        owned.rows += rows.len() as u64;
        // The records each row owns, fetched for the page at once.
        let mut expected: Vec<(usize, Vec<u8>, Vec<u8>)> = Vec::new();
        let tag_at = keys::tenant_space(tenant, 0).len() - 1;
        for (i, (_, e)) in rows.iter().enumerate() {
            live += e.is_live() as u64;
            // A row owns a key once, however often its values repeat (an array's equal items).
            let mut records = crate::write::owned(tenant, rec, e)?;
            records.sort_unstable();
            records.dedup_by(|a, b| a.0 == b.0);
            for (k, v) in records {
                match k[keys::tenant_space(tenant, 0).len() - 1] {
                    keys::INDEX | keys::INDEX_COPY => entries += 1,
                    keys::KEY_INDEX => owned.keys += 1,
                    keys::DELETED => owned.deleted += 1,
                    _ => {}
                }
                expected.push((i, k, v));
            }
        }
        let keys_only: Vec<Vec<u8>> = expected.iter().map(|(_, k, _)| k.clone()).collect();
        let found = store.get_many(&keys_only)?;
        for ((i, k, v), got) in expected.iter().zip(found) {
            let space = space_name(k[tag_at]);
            match got {
                None => {
                    report.problem(space, Some(table), Some(&rows[*i].0), "missing: the row owns this record".into())
                }
                Some(g) if g != *v => {
                    report.problem(space, Some(table), Some(&rows[*i].0), "its value differs from the row's".into())
                }
                Some(_) => {}
            }
        }
        for index in &vector_indexes {
            check_row_vectors(store, tenant, rec, index, &rows, report)?;
        }
        if rec.has_vectors() {
            check_row_documents(store, tenant, rec, &rows, report)?;
        }
        Ok(())
    })?;
    let count = crate::write::decode_count(store.get(&keys::count(tenant, table))?);
    if count != live {
        report.problem(
            "C",
            Some(table),
            None,
            format!("the live-row count is {count}, the table has {live} live rows"),
        );
    }
    let mut found = 0u64;
    for tag in [keys::INDEX, keys::INDEX_COPY] {
        found += count_under(store, &table_space(tenant, tag, table))?;
    }
    report.count("index_entries", found);
    if found != entries {
        report.problem(
            "X",
            Some(table),
            None,
            format!("{found} secondary-index entries and row copies, the rows own {entries}"),
        );
        // Name the entries no row owns (entries of rows that are gone are the usual case).
        orphan_entries(store, tenant, rec, report)?;
    }
    for index in &vector_indexes {
        check_vector_index(store, tenant, table, index, report)?;
    }
    if rec.has_vectors() {
        check_keyword_index(store, tenant, table, report)?;
    }
    Ok(())
}

/// Report each `X`/`Y` entry of `rec`'s table that no stored row owns.
fn orphan_entries<S: Storage + ?Sized>(store: &S, tenant: &str, rec: &SchemaRecord, report: &mut Report) -> Result<()> {
    let table = rec.name.as_str();
    for tag in [keys::INDEX, keys::INDEX_COPY] {
        pages(store, &table_space(tenant, tag, table), |page| {
            let ids: Vec<Option<[u8; 16]>> = page.iter().map(|(k, _)| entry_id(k)).collect();
            let row_keys: Vec<Vec<u8>> =
                ids.iter().map(|id| keys::entity(tenant, table, &id.unwrap_or_default())).collect();
            let rows = store.get_many(&row_keys)?;
            for (((k, _), id), row) in page.iter().zip(&ids).zip(rows) {
                let owns = match row.map(|r| decode_entity(&r)) {
                    Some(Ok(e)) => crate::write::owned(tenant, rec, &e).is_ok_and(|o| o.iter().any(|(o, _)| o == k)),
                    _ => false,
                };
                if !owns {
                    let space = if tag == keys::INDEX { "X" } else { "Y" };
                    report.problem(space, Some(table), id.as_ref().map(|i| &i[..]), "no row owns this entry".into());
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// The vector side of a page of rows: each entity-to-node record of `index` agrees with its row.
fn check_row_vectors<S: Storage + ?Sized>(
    store: &S,
    tenant: &str,
    rec: &SchemaRecord,
    index: &str,
    rows: &[([u8; 16], Entity)],
    report: &mut Report,
) -> Result<()> {
    let rec_keys: Vec<Vec<u8>> = rows.iter().map(|(id, _)| layout::id_key(tenant, index, id)).collect();
    let records = store.get_many(&rec_keys)?;
    let mut nodes = Vec::new();
    for ((id, e), r) in rows.iter().zip(records) {
        let Some(r) = r else { continue };
        let Ok(r) = IdRecord::decode(&r) else {
            report.problem("V", Some(index), Some(id), "a corrupt entity-to-node record".into());
            continue;
        };
        if r.live != e.is_live() {
            let state = if e.is_live() { "live" } else { "soft-deleted" };
            report.problem("V", Some(index), Some(id), format!("the row is {state}, its vector is not"));
        }
        let text = embedding_text(&e.properties, &rec.embedding_fields).unwrap_or_default();
        if e.is_live() && r.text_hash != text_hash(&text) {
            report.problem("V", Some(index), Some(id), "the vector was made from another text than the row's".into());
        }
        nodes.push((*id, r));
    }
    report.count("vectors", nodes.len() as u64);
    let vec_keys: Vec<Vec<u8>> = nodes.iter().map(|(_, r)| layout::vector_key(tenant, index, r.ord)).collect();
    let link_keys: Vec<Vec<u8>> = nodes.iter().map(|(_, r)| layout::links_key(tenant, index, r.ord)).collect();
    for (((id, r), v), l) in nodes.iter().zip(store.get_many(&vec_keys)?).zip(store.get_many(&link_keys)?) {
        match v.as_deref().map(layout::decode_vector) {
            Some(Ok((owner, _))) if owner == *id => {}
            Some(Ok(_)) => {
                report.problem("V", Some(index), Some(id), format!("node {} holds another row's vector", r.ord))
            }
            _ => report.problem("V", Some(index), Some(id), format!("node {} has no readable vector", r.ord)),
        }
        match l.as_deref().map(layout::decode_links) {
            Some(Ok((deleted, _))) if deleted == r.live => report.problem(
                "V",
                Some(index),
                Some(id),
                format!(
                    "node {} is {} but its row's vector is not",
                    r.ord,
                    if deleted { "tombstoned" } else { "live" }
                ),
            ),
            Some(Ok(_)) => {}
            _ => report.problem("V", Some(index), Some(id), format!("node {} has no readable links", r.ord)),
        }
    }
    Ok(())
}

/// The whole vector index `index` of `table`: header counts, nodes, links, and each
/// entity-to-node record's row.
fn check_vector_index<S: Storage + ?Sized>(
    store: &S,
    tenant: &str,
    table: &str,
    index: &str,
    report: &mut Report,
) -> Result<()> {
    let meta = match store.get(&layout::meta_key(tenant, index))? {
        None => {
            if names_in(store, &keys::tenant_space(tenant, keys::VECTOR))?.iter().any(|n| n == index)
                && count_under(store, &layout::id_prefix(tenant, index))? > 0
            {
                report.problem("V", Some(index), None, "vector records without an index header".into());
            }
            return Ok(());
        }
        Some(b) => match Meta::decode(&b) {
            Ok(m) => m,
            Err(e) => {
                report.problem("V", Some(index), None, e.to_string());
                return Ok(());
            }
        },
    };
    // Entity-to-node records name rows of the table; each node is claimed at most once.
    let mut claimed: HashSet<u32> = HashSet::new();
    let mut live_records = 0u64;
    pages(store, &layout::id_prefix(tenant, index), |page| {
        let ids: Vec<Option<[u8; 16]>> = page.iter().map(|(k, _)| entry_id(k)).collect();
        let row_keys: Vec<Vec<u8>> =
            ids.iter().map(|id| keys::entity(tenant, table, &id.unwrap_or_default())).collect();
        for (((_, v), id), row) in page.iter().zip(&ids).zip(store.get_many(&row_keys)?) {
            let id = id.as_ref().map(|i| &i[..]);
            if row.is_none() {
                report.problem("V", Some(index), id, "a vector of a row that is not stored".into());
            }
            if let Ok(r) = IdRecord::decode(v) {
                live_records += r.live as u64;
                if !claimed.insert(r.ord) {
                    report.problem("V", Some(index), id, format!("node {} is claimed by two rows", r.ord));
                }
            }
        }
        Ok(())
    })?;
    let (mut vectors, mut live, mut tombstones) = (0u64, 0u64, 0u64);
    each(store, &with_tag(tenant, index, keys::vector::VECTOR), |_, _| {
        vectors += 1;
        Ok(())
    })?;
    each(store, &with_tag(tenant, index, keys::vector::LINKS), |k, v| {
        let ord = k.len().checked_sub(4).map(|at| u32::from_be_bytes(k[at..].try_into().expect("4 bytes")));
        match layout::decode_links(v) {
            Ok((deleted, links)) => {
                if deleted {
                    tombstones += 1;
                } else {
                    live += 1;
                    if ord.is_some_and(|o| !claimed.contains(&o)) {
                        report.problem(
                            "V",
                            Some(index),
                            None,
                            format!("live node {} belongs to no row", ord.unwrap_or(0)),
                        );
                    }
                }
                if let Some(bad) = links.iter().flatten().find(|&&o| o >= meta.count) {
                    report.problem(
                        "V",
                        Some(index),
                        None,
                        format!("node {} links to node {bad}, beyond the {} nodes", ord.unwrap_or(0), meta.count),
                    );
                }
            }
            Err(e) => report.problem("V", Some(index), None, format!("node {}: {e}", ord.unwrap_or(0))),
        }
        Ok(())
    })?;
    let nodes = live + tombstones;
    if vectors != nodes || u64::from(meta.count) != nodes {
        report.problem(
            "V",
            Some(index),
            None,
            format!("the header counts {} nodes; {vectors} vector records, {nodes} links records", meta.count),
        );
    }
    if meta.live != live || meta.tombstones != tombstones || live_records != live {
        report.problem(
            "V",
            Some(index),
            None,
            format!(
                "the header counts {} live and {} tombstoned nodes; the links hold {live} and {tombstones}, \
                 the rows {live_records} live vectors",
                meta.live, meta.tombstones
            ),
        );
    }
    Ok(())
}

fn with_tag(tenant: &str, index: &str, tag: u8) -> Vec<u8> {
    let mut k = layout::prefix(tenant, index);
    k.push(tag);
    k
}

/// How many entries are under `prefix`.
fn count_under<S: Storage + ?Sized>(store: &S, prefix: &[u8]) -> Result<u64> {
    let mut n = 0;
    each(store, prefix, |_, _| {
        n += 1;
        Ok(())
    })?;
    Ok(n)
}

/// The letter of a key space (`storage/keys.rs`), as reports name it.
fn space_name(tag: u8) -> &'static str {
    match tag {
        keys::ID_INDEX => "I",
        keys::KEY_INDEX => "K",
        keys::INDEX => "X",
        keys::INDEX_COPY => "Y",
        keys::DELETED => "D",
        _ => "?",
    }
}

fn keyword_prefix(tenant: &str, table: &str, tag: u8) -> Vec<u8> {
    let mut k = keyword::table_prefix(tenant, table);
    k.push(tag);
    k
}

fn decode_terms(bytes: &[u8]) -> Option<Vec<(String, u32)>> {
    serde_json::from_slice(bytes).ok()
}

/// The keyword side of a page of rows: a live row with terms has its document, others none.
fn check_row_documents<S: Storage + ?Sized>(
    store: &S,
    tenant: &str,
    rec: &SchemaRecord,
    rows: &[([u8; 16], Entity)],
    report: &mut Report,
) -> Result<()> {
    let table = rec.name.as_str();
    let doc_keys: Vec<Vec<u8>> = rows
        .iter()
        .map(|(id, _)| {
            let mut k = keyword_prefix(tenant, table, keys::keyword::DOCUMENT);
            k.extend_from_slice(id);
            k
        })
        .collect();
    for ((id, e), doc) in rows.iter().zip(store.get_many(&doc_keys)?) {
        let want: Vec<(String, u32)> = match e.is_live() {
            true => embedding_text(&e.properties, &rec.embedding_fields)
                .map(|t| keyword::terms(&t).into_iter().collect())
                .unwrap_or_default(),
            false => Vec::new(),
        };
        match (doc.as_deref().map(decode_terms), want.is_empty()) {
            (None, true) => {}
            (None, false) => {
                report.problem("W", Some(table), Some(id), "missing: the row's text has no keyword document".into())
            }
            (Some(_), true) => {
                report.problem("W", Some(table), Some(id), "a keyword document of a row without text".into())
            }
            (Some(Some(got)), false) if got == want => {}
            (Some(_), false) => {
                report.problem("W", Some(table), Some(id), "the keyword document's terms differ from the row's".into())
            }
        }
    }
    Ok(())
}

/// The whole keyword index of `table`: each document's row is stored and its postings exist;
/// the posting count and the header agree with the documents.
fn check_keyword_index<S: Storage + ?Sized>(store: &S, tenant: &str, table: &str, report: &mut Report) -> Result<()> {
    let (mut docs, mut total, mut postings_owned) = (0u64, 0u64, 0u64);
    let doc_prefix = keyword_prefix(tenant, table, keys::keyword::DOCUMENT);
    pages(store, &doc_prefix, |page| {
        let ids: Vec<Option<[u8; 16]>> = page.iter().map(|(k, _)| entry_id(k)).collect();
        let row_keys: Vec<Vec<u8>> =
            ids.iter().map(|id| keys::entity(tenant, table, &id.unwrap_or_default())).collect();
        let mut wanted: Vec<(Option<[u8; 16]>, Vec<u8>, u32)> = Vec::new();
        for (((_, v), id), row) in page.iter().zip(&ids).zip(store.get_many(&row_keys)?) {
            let idb = id.as_ref().map(|i| &i[..]);
            if row.is_none() {
                report.problem("W", Some(table), idb, "a keyword document of a row that is not stored".into());
            }
            let Some(terms) = decode_terms(v) else {
                report.problem("W", Some(table), idb, "a corrupt keyword document".into());
                continue;
            };
            docs += 1;
            for (term, n) in terms {
                total += u64::from(n);
                postings_owned += 1;
                let mut k = keyword_prefix(tenant, table, keys::keyword::POSTING);
                keys::push_str(&mut k, &term);
                k.extend_from_slice(&id.unwrap_or_default());
                wanted.push((*id, k, n));
            }
        }
        let keys_only: Vec<Vec<u8>> = wanted.iter().map(|(_, k, _)| k.clone()).collect();
        for ((id, _, n), got) in wanted.iter().zip(store.get_many(&keys_only)?) {
            let idb = id.as_ref().map(|i| &i[..]);
            match got {
                None => report.problem("W", Some(table), idb, "missing: a posting of the row's document".into()),
                Some(v)
                    if v.len() < 2 || u32::from(u16::from_le_bytes([v[0], v[1]])) != (*n).min(u32::from(u16::MAX)) =>
                {
                    report.problem("W", Some(table), idb, "a posting's term count differs from the document's".into())
                }
                Some(_) => {}
            }
        }
        Ok(())
    })?;
    report.count("keyword_documents", docs);
    let postings = count_under(store, &keyword_prefix(tenant, table, keys::keyword::POSTING))?;
    if postings != postings_owned {
        report.problem("W", Some(table), None, format!("{postings} postings, the documents own {postings_owned}"));
    }
    let stats = store.get(&keyword_prefix(tenant, table, keys::keyword::STATS))?;
    let (d, t) = match stats {
        Some(b) if b.len() == 16 => {
            (u64::from_le_bytes(b[..8].try_into().expect("8")), u64::from_le_bytes(b[8..].try_into().expect("8")))
        }
        Some(_) => {
            report.problem("W", Some(table), None, "a corrupt keyword index header".into());
            return Ok(());
        }
        None => (0, 0),
    };
    if (d, t) != (docs, total) {
        report.problem(
            "W",
            Some(table),
            None,
            format!("the header counts {d} documents of {t} terms; the documents are {docs} of {total}"),
        );
    }
    Ok(())
}

/// Every `I` entry names a table whose row with that id is stored; their number is the rows'.
fn check_id_index<S: Storage + ?Sized>(store: &S, tenant: &str, report: &mut Report, rows: u64) -> Result<()> {
    let mut n = 0u64;
    pages(store, &keys::tenant_space(tenant, keys::ID_INDEX), |page| {
        n += page.len() as u64;
        let ids: Vec<Option<[u8; 16]>> = page.iter().map(|(k, _)| entry_id(k)).collect();
        let row_keys: Vec<Vec<u8>> = page
            .iter()
            .zip(&ids)
            .map(|((_, v), id)| keys::entity(tenant, &String::from_utf8_lossy(v), &id.unwrap_or_default()))
            .collect();
        for (((_, v), id), row) in page.iter().zip(&ids).zip(store.get_many(&row_keys)?) {
            if row.is_none() {
                let table = String::from_utf8_lossy(v);
                report.problem(
                    "I",
                    Some(&table),
                    id.as_ref().map(|i| &i[..]),
                    "the id names a row that is not stored".into(),
                );
            }
        }
        Ok(())
    })?;
    if n != rows {
        report.problem("I", None, None, format!("{n} id-index entries for {rows} rows"));
    }
    Ok(())
}

/// A tenant-wide space of records the rows own (`K`, `D`): as many as the rows own (each
/// owned one was found present while checking the rows); if not, name those of rows not stored.
fn check_owned_space<S: Storage + ?Sized>(
    store: &S,
    tenant: &str,
    tag: u8,
    space: &'static str,
    owned: u64,
    report: &mut Report,
) -> Result<()> {
    let n = count_under(store, &keys::tenant_space(tenant, tag))?;
    if n == owned {
        return Ok(());
    }
    report.problem(space, None, None, format!("{n} records, the rows own {owned}"));
    pages(store, &keys::tenant_space(tenant, tag), |page| {
        let ids: Vec<Option<[u8; 16]>> = page.iter().map(|(k, _)| entry_id(k)).collect();
        let idx: Vec<Vec<u8>> = ids.iter().map(|id| keys::id_index(tenant, &id.unwrap_or_default())).collect();
        for (id, table) in ids.iter().zip(store.get_many(&idx)?) {
            if table.is_none() {
                report.problem(space, None, id.as_ref().map(|i| &i[..]), "a record of a row that is not stored".into());
            }
        }
        Ok(())
    })
}

/// Split a `G`/`R` key after its space into (first id, rel, second id).
fn split_edge(rest: &[u8]) -> Option<([u8; 16], String, [u8; 16])> {
    let a: [u8; 16] = rest.get(..16)?.try_into().ok()?;
    let (rel, tail) = keys::pop_str(&rest[16..])?;
    let b: [u8; 16] = tail.try_into().ok()?;
    Some((a, rel, b))
}

/// Every forward edge has its reverse with the same value and both endpoints are stored;
/// there are as many reverse edges as forward ones.
fn check_edges<S: Storage + ?Sized>(store: &S, tenant: &str, report: &mut Report) -> Result<()> {
    let out_space = keys::tenant_space(tenant, keys::EDGE_OUT);
    let in_space = keys::tenant_space(tenant, keys::EDGE_IN);
    let mut n = 0u64;
    pages(store, &out_space, |page| {
        n += page.len() as u64;
        let mut reverse = Vec::new();
        let mut ends = Vec::new();
        let mut parsed = Vec::new();
        for (k, v) in &page {
            let Some((src, rel, dst)) = split_edge(&k[out_space.len()..]) else {
                report.problem("G", None, None, "an edge key that does not parse".into());
                continue;
            };
            let mut r = in_space.clone();
            r.extend_from_slice(&dst);
            keys::push_str(&mut r, &rel);
            r.extend_from_slice(&src);
            reverse.push(r);
            ends.push(keys::id_index(tenant, &src));
            ends.push(keys::id_index(tenant, &dst));
            parsed.push((src, dst, v));
        }
        let got = store.get_many(&reverse)?;
        let stored = store.get_many(&ends)?;
        for (i, ((src, dst, value), r)) in parsed.iter().zip(got).enumerate() {
            match r {
                None => report.problem("R", None, Some(src), "missing: the reverse of an edge".into()),
                Some(r) if r != **value => {
                    report.problem("R", None, Some(src), "the reverse of an edge has another value".into())
                }
                Some(_) => {}
            }
            if stored[2 * i].is_none() {
                report.problem("G", None, Some(src), "an edge from a row that is not stored".into());
            }
            if stored[2 * i + 1].is_none() {
                report.problem("G", None, Some(dst), "an edge to a row that is not stored".into());
            }
        }
        Ok(())
    })?;
    report.count("edges", n);
    let reverse = count_under(store, &in_space)?;
    if reverse != n {
        report.problem("R", None, None, format!("{reverse} reverse edges for {n} edges"));
    }
    Ok(())
}
