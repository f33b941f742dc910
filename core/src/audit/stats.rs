//! `rem stats`: what one tenant holds, per key space (`storage/keys.rs`), counted by a scan
//! of each space. Bytes are the stored keys' and values' lengths (the data redb keeps, before
//! its pages and B-tree overhead; the host adds the file's size on disk).

use serde_json::{Map, Value, json};

use super::{each, names_in, table_space};
use crate::error::Result;
use crate::keyword;
use crate::model::schema::SchemaRecord;
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::vector::layout::{self, Meta};

/// Entries and their bytes (keys plus values) under one prefix.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    entries: u64,
    bytes: u64,
}

fn tally<S: Storage + ?Sized>(store: &S, prefix: &[u8]) -> Result<Tally> {
    let mut t = Tally::default();
    each(store, prefix, |k, v| {
        t.entries += 1;
        t.bytes += (k.len() + v.len()) as u64;
        Ok(())
    })?;
    Ok(t)
}

/// Per table (`tables`: the tenant's schema records): `rows` (live), `deleted` (soft-deleted),
/// `stored` (both),
/// `index_entries` (`X`), `row_copies` (`Y`), `bytes` (every record of the table: rows,
/// index entries, copies, vector and keyword indexes), and with a vector index `vectors`
/// (`nodes`, `live`, `tombstones`, `bytes`; `alt` for a second model) and `keyword_documents`;
/// then per tenant `id_index`, `key_index`, `edges`, `reverse_edges`, `deleted_markers`,
/// `schemas`, `bytes` (every record of the tenant) and `format_version`.
/// Errors: `Storage`.
pub fn stats<S: Storage + ?Sized>(store: &S, tenant: &str, tables: &[SchemaRecord]) -> Result<Value> {
    let mut out = Map::new();
    let mut tenant_bytes = 0u64;
    for rec in tables {
        let table = rec.name.as_str();
        let rows = tally(store, &keys::entity_prefix(tenant, table))?;
        let live = crate::write::decode_count(store.get(&keys::count(tenant, table))?);
        let index = tally(store, &table_space(tenant, keys::INDEX, table))?;
        let copies = tally(store, &table_space(tenant, keys::INDEX_COPY, table))?;
        let mut bytes = rows.bytes + index.bytes + copies.bytes;
        let mut entry = json!({
            "rows": live,
            "deleted": rows.entries.saturating_sub(live),
            "stored": rows.entries,
            "index_entries": index.entries,
            "row_copies": copies.entries,
        });
        if rec.has_vectors() {
            let mut vectors = vector_stats(store, tenant, table)?;
            bytes += vectors["bytes"].as_u64().unwrap_or(0);
            if let Some(alt) = rec.alt_index() {
                let second = vector_stats(store, tenant, &alt.name)?;
                bytes += second["bytes"].as_u64().unwrap_or(0);
                vectors["alt"] = second;
            }
            let mut docs = keyword::table_prefix(tenant, table);
            docs.push(keys::keyword::DOCUMENT);
            let words = tally(store, &keyword::table_prefix(tenant, table))?;
            bytes += words.bytes;
            entry["vectors"] = vectors;
            entry["keyword_documents"] = json!(tally(store, &docs)?.entries);
            entry["keyword_bytes"] = json!(words.bytes);
        }
        entry["bytes"] = json!(bytes);
        tenant_bytes += bytes;
        out.insert(table.to_string(), entry);
    }
    let mut spaces = Map::new();
    for (name, tag) in [
        ("id_index", keys::ID_INDEX),
        ("key_index", keys::KEY_INDEX),
        ("edges", keys::EDGE_OUT),
        ("reverse_edges", keys::EDGE_IN),
        ("deleted_markers", keys::DELETED),
        ("schemas", keys::SCHEMA),
    ] {
        let t = tally(store, &keys::tenant_space(tenant, tag))?;
        tenant_bytes += t.bytes;
        spaces.insert(name.to_string(), json!(t.entries));
    }
    // Records of tables without a schema (left by a failure; `rem check` names them).
    let known: Vec<&str> = tables.iter().map(|r| r.name.as_str()).collect();
    let stray = names_in(store, &keys::tenant_space(tenant, keys::ENTITY))?
        .into_iter()
        .filter(|n| !known.contains(&n.as_str()))
        .count();
    let format = store.get(keys::FORMAT_KEY)?.map(|v| String::from_utf8_lossy(&v).trim().to_string());
    Ok(json!({
        "tenant": tenant,
        "tables": out,
        "spaces": spaces,
        "tables_without_schema": stray,
        "bytes": tenant_bytes,
        "format_version": format.and_then(|f| f.parse::<u32>().ok()),
    }))
}

/// One vector index's nodes and bytes, from its header and a scan.
fn vector_stats<S: Storage + ?Sized>(store: &S, tenant: &str, index: &str) -> Result<Value> {
    let all = tally(store, &layout::prefix(tenant, index))?;
    let meta = store.get(&layout::meta_key(tenant, index))?.map(|b| Meta::decode(&b)).transpose()?;
    Ok(match meta {
        Some(m) => json!({
            "model": m.model, "dims": m.dims, "nodes": m.count, "live": m.live, "tombstones": m.tombstones,
            "m": m.m, "ef_search": m.ef_search, "bytes": all.bytes,
        }),
        None => json!({"nodes": 0, "live": 0, "tombstones": 0, "bytes": all.bytes}),
    })
}
