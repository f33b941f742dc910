//! The one row-write path (`rem_core::write`), checked from outside: random sequences of
//! inserts, batch upserts, updates, soft deletes, restores, hard deletes and schema changes
//! (indexes and covering fields added and dropped), after which every record the rows own
//! must be exactly what a rebuild from the rows gives: the id index, key index, secondary
//! index entries, row copies and deleted markers (`write::owned` of each stored row), the
//! live-row counts, the reference edges (one `belongs_to` edge per live or deleted row
//! naming an owner), and the vector/BM25 records (as a fresh database given the same rows
//! builds them).

mod common;

use std::collections::{BTreeMap, BTreeSet};

use rem_core::model::schema::SchemaRecord;
use rem_core::storage::keys;
use rem_core::{Database, MemoryStore, Storage};
use serde_json::{Value, json};

const TENANT: &str = "t";

fn person_schema() -> String {
    json!({"type": "object", "key_field": "name", "properties": {"name": {"type": "string"}}}).to_string()
}

/// The item table, with a choice of indexed and covering fields (the schema changes between them).
fn item_schema(variant: u64) -> String {
    let (indexed, covering): (Vec<&str>, Vec<&str>) = match variant % 4 {
        0 => (vec!["color", "size"], vec!["color"]),
        1 => (vec!["size", "tags"], vec!["size", "tags"]),
        2 => (vec![], vec![]),
        _ => (vec!["color", "tags", "size"], vec![]),
    };
    json!({
        "type": "object",
        "key_field": "name",
        "indexed_fields": indexed,
        "covering_fields": covering,
        "embedding_fields": ["note"],
        "references": {"owner": {"table": "person", "rel_type": "belongs_to"}},
        "properties": {
            "name": {"type": "string"},
            "color": {"type": "string"},
            "size": {"type": ["integer", "null"]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "note": {"type": "string"},
            "owner": {"type": "string"}
        },
        "required": ["name"]
    })
    .to_string()
}

fn random_item(r: &mut fastrand::Rng) -> Value {
    let mut row = json!({"name": format!("i{}", r.u64(..12))});
    if r.bool() {
        row["color"] = json!(["red", "green", "blue"][r.usize(..3)]);
    }
    if r.u64(..3) > 0 {
        row["size"] = if r.u64(..5) == 0 { Value::Null } else { json!(r.u64(..6)) };
    }
    if r.bool() {
        row["tags"] = json!((0..r.u64(..3)).map(|_| format!("t{}", r.u64(..3))).collect::<Vec<_>>());
    }
    if r.bool() {
        row["note"] = json!(["alpha beta", "gamma", "beta delta delta"][r.usize(..3)]);
    }
    if r.u64(..3) == 0 {
        row["owner"] = json!(format!("p{}", r.u64(..3)));
    }
    if r.u64(..10) == 0 {
        row["edges"] = json!([{"dst": "", "rel_type": "likes"}]);
    }
    row
}

/// Every key of `store` under `prefix`, with its value.
fn space(store: &MemoryStore, prefix: &[u8]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let end = keys::prefix_end(prefix);
    store.scan(prefix, end.as_deref(), u32::MAX, false).unwrap().into_kvs().into_iter().collect()
}

/// The stored rows of `table`, decoded.
fn rows(store: &MemoryStore, table: &str) -> Vec<rem_core::model::entity::Entity> {
    space(store, &keys::entity_prefix(TENANT, table))
        .values()
        .map(|v| rem_core::json::record::decode_entity(v).unwrap())
        .collect()
}

/// Check every derived record of the tenant against a rebuild from the stored rows.
fn check(db: &Database<&MemoryStore>, store: &MemoryStore, step: usize) {
    let mut expected: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
    for table in ["person", "item"] {
        let rec: SchemaRecord = serde_json::from_str(&db.get_schema(table).unwrap()).unwrap();
        let rows = rows(store, table);
        for e in &rows {
            expected.extend(rem_core::write::owned(TENANT, &rec, e).unwrap());
        }
        let live = rows.iter().filter(|e| e.is_live()).count() as u64;
        assert_eq!(db.count(table).unwrap(), live, "step {step}: live count of {table}");
    }
    // The spaces a row owns: id index (I), key index (K), secondary entries (X), row copies
    // (Y) and deleted markers (D).
    let mut found = BTreeMap::new();
    for tag in [b'I', b'K', b'X', b'Y', b'D'] {
        found.extend(space(store, &keys::tenant_space(TENANT, tag)));
    }
    if found != expected {
        let f: BTreeSet<_> = found.keys().collect();
        let e: BTreeSet<_> = expected.keys().collect();
        panic!(
            "step {step}: derived records differ from a rebuild\n  stored only: {:?}\n  rebuild only: {:?}",
            f.difference(&e).map(|k| String::from_utf8_lossy(k)).collect::<Vec<_>>(),
            e.difference(&f).map(|k| String::from_utf8_lossy(k)).collect::<Vec<_>>()
        );
    }
    // Reference edges: exactly one belongs_to edge per row whose owner names a person.
    let people: BTreeMap<String, String> =
        rows(store, "person").into_iter().map(|p| (p.properties["name"].as_str().unwrap().to_string(), p.id)).collect();
    for item in rows(store, "item") {
        let edges: Value = serde_json::from_str(
            &db.get_edges(&item.id, rem_core::graph::Direction::Outgoing, &["belongs_to".to_string()]).unwrap(),
        )
        .unwrap_or(json!([]));
        let dsts: Vec<&str> =
            edges.as_array().map(|a| a.iter().map(|e| e["dst"].as_str().unwrap()).collect()).unwrap_or_default();
        let want: Vec<&str> = item
            .properties
            .get("owner")
            .and_then(Value::as_str)
            .and_then(|o| people.get(o))
            .map(|id| vec![id.as_str()])
            .unwrap_or_default();
        if item.is_live() {
            assert_eq!(dsts, want, "step {step}: reference edges of {}", item.id);
        }
    }
}

#[test]
fn random_writes_leave_every_derived_record_as_a_rebuild_from_the_rows_gives_it() {
    for seed in 0..12u64 {
        let mut r = fastrand::Rng::with_seed(seed);
        let store = MemoryStore::new();
        let db = Database::new(&store, TENANT).unwrap().with_embedder(Box::new(common::Letters));
        db.register_schema("person", &person_schema()).unwrap();
        let mut variant = r.u64(..4);
        db.register_schema("item", &item_schema(variant)).unwrap();
        for p in 0..3 {
            db.insert("person", &json!({"name": format!("p{p}")}).to_string()).unwrap();
        }
        let mut ids: Vec<String> = Vec::new();
        for step in 0..120 {
            let pick =
                |r: &mut fastrand::Rng, ids: &[String]| (!ids.is_empty()).then(|| ids[r.usize(..ids.len())].clone());
            match r.u64(..10) {
                0..=2 => {
                    let mut row = random_item(&mut r);
                    if let (Some(edges), Some(dst)) = (row.get_mut("edges"), pick(&mut r, &ids)) {
                        edges[0]["dst"] = json!(dst);
                    }
                    if let Ok(out) = db.insert("item", &row.to_string()) {
                        ids.push(serde_json::from_str::<Value>(&out).unwrap()["id"].as_str().unwrap().to_string());
                    }
                }
                3 => {
                    let batch: Vec<String> = (0..r.u64(1..6))
                        .map(|_| {
                            let mut v = random_item(&mut r);
                            v.as_object_mut().unwrap().remove("edges");
                            v.to_string()
                        })
                        .collect();
                    if let Ok(new) = db.insert_batch("item", &batch) {
                        ids.extend(new);
                    }
                }
                4 | 5 => {
                    if let Some(id) = pick(&mut r, &ids) {
                        let mut patch = random_item(&mut r);
                        patch.as_object_mut().unwrap().remove("name");
                        patch.as_object_mut().unwrap().remove("edges");
                        let _ = db.update(&id, &patch.to_string());
                    }
                }
                6 | 7 => {
                    if let Some(id) = pick(&mut r, &ids) {
                        let _ = db.delete(&id, false);
                    }
                }
                8 => {
                    if let Some(id) = pick(&mut r, &ids) {
                        db.delete(&id, true).unwrap();
                        ids.retain(|i| *i != id);
                    }
                }
                _ => {
                    variant = (variant + 1 + r.u64(..3)) % 4;
                    db.register_schema("item", &item_schema(variant)).unwrap();
                }
            }
            check(&db, &store, step);
        }
        // The vector index holds the live rows with an embedding text, and the BM25 records
        // equal those a fresh database builds from the same live rows.
        let live: Vec<_> = rows(&store, "item").into_iter().filter(|e| e.is_live()).collect();
        let stats = db.index_stats("item").unwrap();
        let with_text = live.iter().filter(|e| e.properties.get("note").is_some()).count() as u64;
        assert_eq!(stats["live"].as_u64(), Some(with_text), "seed {seed}: live vectors ({stats})");
        let fresh_store = MemoryStore::new();
        let fresh = Database::new(&fresh_store, TENANT).unwrap().with_embedder(Box::new(common::Letters));
        fresh.register_schema("person", &person_schema()).unwrap();
        fresh.register_schema("item", &item_schema(variant)).unwrap();
        for p in 0..3 {
            fresh.insert("person", &json!({"name": format!("p{p}")}).to_string()).unwrap();
        }
        for e in &live {
            fresh.insert("item", &Value::Object(e.properties.clone()).to_string()).unwrap();
        }
        let keyword = |s: &MemoryStore| space(s, &keys::tenant_space(TENANT, b'W'));
        assert_eq!(keyword(&store), keyword(&fresh_store), "seed {seed}: BM25 records");
    }
}
