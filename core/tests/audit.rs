//! `check` and `stats` natively: a database after a random life agrees with itself, and each
//! kind of damage to a derived record is reported in its key space.

mod common;

use common::Letters;
use rem_core::storage::keys;
use rem_core::{Database, MemoryStore, Storage, WriteOp};
use serde_json::{Value, json};

fn schema() -> String {
    json!({"type": "object", "key_field": "k",
        "properties": {"k": {"type": "string"}, "text": {"type": "string"}, "n": {"type": "integer"},
                       "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["k"], "indexed_fields": ["n", "tags"], "covering_fields": ["n"],
        "embedding_fields": ["text"]})
    .to_string()
}

/// A database with rows inserted, updated, soft- and hard-deleted and restored, and edges.
fn lived(store: &MemoryStore) -> Database<&MemoryStore> {
    let db = Database::new(store, "t").unwrap().with_embedder(Box::new(Letters));
    db.register_schema("docs", &schema()).unwrap();
    db.register_schema("plain", r#"{"type": "object", "properties": {"a": {"type": "integer"}}}"#).unwrap();
    let mut rng = fastrand::Rng::with_seed(11);
    let word = |rng: &mut fastrand::Rng| (0..6).map(|_| rng.lowercase()).collect::<String>();
    let rows: Vec<String> = (0..300)
        .map(|i| {
            json!({"k": format!("k{i}"), "text": format!("{} {}", word(&mut rng), word(&mut rng)), "n": i % 7,
                   "tags": [format!("t{}", i % 3)]})
            .to_string()
        })
        .collect();
    let ids = db.insert_batch("docs", &rows).unwrap();
    for i in 0..40 {
        db.insert("plain", &json!({"a": i}).to_string()).unwrap();
    }
    for (i, id) in ids.iter().enumerate() {
        match i % 10 {
            0 => drop(db.delete(id, false).unwrap()),
            1 => drop(db.delete(id, true).unwrap()),
            2 => drop(db.update(id, &json!({"text": word(&mut rng), "n": 100}).to_string()).unwrap()),
            3 => drop(db.add_edge(id, &ids[(i + 5) % 300], "next", None).unwrap()),
            _ => {}
        }
    }
    // Restore some soft-deleted rows by writing them again.
    for i in (0..300).step_by(20) {
        db.insert("docs", &json!({"k": format!("k{i}"), "text": "back again", "n": 1}).to_string()).unwrap();
    }
    db
}

fn keys_under(store: &MemoryStore, prefix: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    store.scan(prefix, keys::prefix_end(prefix).as_deref(), 100_000, false).unwrap().into_kvs()
}

fn problems(db: &Database<&MemoryStore>) -> Vec<Value> {
    db.check(1000).unwrap()["problems"].as_array().unwrap().clone()
}

#[test]
fn a_database_after_a_random_life_agrees_with_itself() {
    let store = MemoryStore::new();
    let db = lived(&store);
    let report = db.check(100).unwrap();
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(report["checked"]["rows"], 270 + 40, "{report}");
    assert!(report["checked"]["edges"].as_u64().unwrap() > 0, "{report}");
    let stats = db.stats().unwrap();
    let docs = &stats["tables"]["docs"];
    assert_eq!(docs["stored"], 270);
    let live = db.count("docs").unwrap();
    assert_eq!(docs["rows"], live);
    assert_eq!(docs["deleted"], 270 - live);
    assert_eq!(docs["vectors"]["live"], live);
    assert_eq!(stats["spaces"]["id_index"], 310);
    assert_eq!(stats["format_version"], keys::FORMAT_VERSION);
    assert!(docs["bytes"].as_u64().unwrap() > stats["tables"]["plain"]["bytes"].as_u64().unwrap());
}

/// Apply `damage` to a lived database and return the problems `check` reports.
fn damaged(damage: impl FnOnce(&MemoryStore)) -> Vec<Value> {
    let store = MemoryStore::new();
    let db = lived(&store);
    damage(&store);
    let found = problems(&Database::new(&store, "t").unwrap().with_embedder(Box::new(Letters)));
    drop(db);
    found
}

fn spaces(found: &[Value]) -> Vec<&str> {
    found.iter().map(|p| p["space"].as_str().unwrap()).collect()
}

fn first(store: &MemoryStore, tag: u8) -> (Vec<u8>, Vec<u8>) {
    keys_under(store, &keys::tenant_space("t", tag)).into_iter().next().expect("a record")
}

#[test]
fn each_kind_of_damage_is_reported_in_its_space() {
    // A secondary-index entry lost.
    let found = damaged(|s| s.write(vec![WriteOp::Delete(first(s, keys::INDEX).0)]).unwrap());
    assert!(spaces(&found).contains(&"X"), "{found:?}");
    assert!(found.iter().any(|p| p["problem"].as_str().unwrap().starts_with("missing")), "{found:?}");
    // A secondary-index entry of a row that is gone.
    let found = damaged(|s| {
        let (mut k, _) = first(s, keys::INDEX);
        let at = k.len() - 16;
        k[at..].copy_from_slice(&[7; 16]);
        s.write(vec![WriteOp::Put(k, Vec::new())]).unwrap()
    });
    assert!(found.iter().any(|p| p["problem"] == "no row owns this entry"), "{found:?}");
    // A row copy whose text is not the row's.
    let found = damaged(|s| {
        let (k, _) = first(s, keys::INDEX_COPY);
        s.write(vec![WriteOp::Put(k, b"{}".to_vec())]).unwrap()
    });
    assert!(spaces(&found).contains(&"Y"), "{found:?}");
    // A wrong live-row count.
    let found =
        damaged(|s| s.write(vec![WriteOp::Put(keys::count("t", "docs"), 5u64.to_le_bytes().to_vec())]).unwrap());
    assert_eq!(spaces(&found), ["C"], "{found:?}");
    // A reverse edge lost.
    let found = damaged(|s| s.write(vec![WriteOp::Delete(first(s, keys::EDGE_IN).0)]).unwrap());
    assert!(spaces(&found).contains(&"R"), "{found:?}");
    // An id-index entry lost.
    let found = damaged(|s| s.write(vec![WriteOp::Delete(first(s, keys::ID_INDEX).0)]).unwrap());
    assert!(spaces(&found).contains(&"I"), "{found:?}");
    // A natural-key entry of a row that is not stored.
    let found =
        damaged(|s| s.write(vec![WriteOp::Put(keys::key_index("t", "ghost", &[9; 16]), b"docs".to_vec())]).unwrap());
    assert!(spaces(&found).contains(&"K"), "{found:?}");
    // A soft-delete marker lost.
    let found = damaged(|s| s.write(vec![WriteOp::Delete(first(s, keys::DELETED).0)]).unwrap());
    assert!(spaces(&found).contains(&"D"), "{found:?}");
    // A keyword posting lost, and a vector's liveness flipped.
    let found = damaged(|s| {
        let mut p = rem_core::keyword::table_prefix("t", "docs");
        p.push(keys::keyword::POSTING);
        let (k, _) = keys_under(s, &p).into_iter().next().unwrap();
        s.write(vec![WriteOp::Delete(k)]).unwrap()
    });
    assert!(spaces(&found).contains(&"W"), "{found:?}");
    let found = damaged(|s| {
        let p = rem_core::vector::layout::id_prefix("t", "docs");
        let (k, mut v) = keys_under(s, &p).into_iter().next().unwrap();
        v[20] ^= 1;
        s.write(vec![WriteOp::Put(k, v)]).unwrap()
    });
    assert!(spaces(&found).contains(&"V"), "{found:?}");
    // Rows of a table that has no schema.
    let found = damaged(|s| s.write(vec![WriteOp::Put(keys::entity("t", "ghost", &[3; 16]), b"{}".to_vec())]).unwrap());
    assert!(found.iter().any(|p| p["table"] == "ghost"), "{found:?}");
}

#[test]
fn a_report_lists_at_most_its_limit_and_counts_the_rest() {
    let store = MemoryStore::new();
    let db = lived(&store);
    let doomed: Vec<WriteOp> = keys_under(&store, &keys::tenant_space("t", keys::INDEX))
        .into_iter()
        .map(|(k, _)| WriteOp::Delete(k))
        .collect();
    let n = doomed.len();
    store.write(doomed).unwrap();
    let report = db.check(10).unwrap();
    assert_eq!(report["problems"].as_array().unwrap().len(), 10);
    assert!(report["problems_total"].as_u64().unwrap() >= n as u64, "{report}");
    assert_eq!(report["ok"], false);
}

#[test]
fn a_changed_key_field_moves_every_row_s_natural_key() {
    let store = MemoryStore::new();
    let db = Database::new(&store, "t").unwrap();
    let schema = |key: &str| {
        json!({"type": "object", "key_field": key, "properties": {"a": {"type": "string"}, "b": {"type": "string"}}})
            .to_string()
    };
    db.register_schema("p", &schema("a")).unwrap();
    db.insert("p", r#"{"a": "first", "b": "second"}"#).unwrap();
    db.register_schema("p", &schema("b")).unwrap();
    let report = db.check(10).unwrap();
    assert_eq!(report["ok"], true, "{report:#}");
    assert_eq!(db.lookup("second").unwrap().len(), 1);
    assert!(db.lookup("first").unwrap().is_empty());
}
