//! The stored record is the compact JSON of the entity however the caller spelled its row:
//! a row already in compact form is stored by copying its text, any other row is written
//! out again, and a row the write changes (defaults filled in, inline edges taken out)
//! never keeps the caller's text.

use rem_core::model::entity::Entity;
use rem_core::storage::store::Storage;
use rem_core::{Database, MemoryStore};
use serde_json::{Value, json};

const SCHEMA: &str = r#"{"type":"object","key_field":"k","properties":{
    "k":{"type":"string"},"n":{"type":"integer"},"f":{"type":"number"},"s":{"type":"string"},
    "d":{"type":"string","default":"filled"}}}"#;

/// The stored bytes of the entity whose JSON `inserted` (as `insert` returns it) names.
fn stored(db: &Database<MemoryStore>, inserted: &str) -> Vec<u8> {
    let e: Entity = serde_json::from_str(inserted).unwrap();
    let id = uuid::Uuid::parse_str(&e.id).unwrap();
    db.store().get(&rem_core::storage::keys::entity("t", "t", id.as_bytes())).unwrap().expect("the row is stored")
}

/// Rows, each with the properties that must be stored for it; `dst` is an entity id the
/// inline edge points at.
fn cases(dst: &str) -> Vec<(String, Value)> {
    let rows = vec![
        (r#"{"k":"a","n":-12,"s":"q\"\\\n","d":"x"}"#, json!({"k":"a","n":-12,"s":"q\"\\\n","d":"x"})),
        (" { \"k\" : \"b\",\n\"n\":7, \"d\":\"x\" } ", json!({"k":"b","n":7,"d":"x"})),
        (r#"{"k":"c","s":"\u00e9\/","d":"x"}"#, json!({"k":"c","s":"é/","d":"x"})),
        (r#"{"k":"d","f":1e2,"d":"x"}"#, json!({"k":"d","f":100.0,"d":"x"})),
        (r#"{"k":"e","s":"\u001F","d":"x"}"#, json!({"k":"e","s":"\u{1f}","d":"x"})),
        (r#"{"k":"f","n":1,"n":2,"d":"x"}"#, json!({"k":"f","n":2,"d":"x"})),
        (r#"{"k":"g"}"#, json!({"k":"g","d":"filled"})),
        (r#"{"k":"h","edges":[{"dst":"DST","rel_type":"knows"}],"d":"x"}"#, json!({"k":"h","d":"x"})),
    ];
    rows.into_iter().map(|(r, v)| (r.replace("DST", dst), v)).collect()
}

/// A database with the table and an edge target; returns the target's id.
fn setup() -> (Database<MemoryStore>, String) {
    let db = Database::new(MemoryStore::new(), "t").unwrap();
    db.register_schema("t", SCHEMA).unwrap();
    let target: Entity = serde_json::from_str(&db.insert("t", r#"{"k":"target"}"#).unwrap()).unwrap();
    (db, target.id)
}

fn check(db: &Database<MemoryStore>, inserted: &str, want: &Value, row: &str) {
    let bytes = stored(db, inserted);
    let e: Entity = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(Value::Object(e.properties.clone()), *want, "{row}");
    assert_eq!(serde_json::to_string(&e.properties).unwrap(), want.to_string(), "key order: {row}");
    assert_eq!(bytes, serde_json::to_vec(&e).unwrap(), "stored bytes are the compact JSON: {row}");
    assert_eq!(db.get(&e.id).unwrap().unwrap(), inserted, "get returns what insert did: {row}");
}

#[test]
fn insert_stores_compact_json_whatever_the_spelling() {
    let (db, dst) = setup();
    for (row, want) in cases(&dst) {
        let inserted = db.insert("t", &row).unwrap();
        check(&db, &inserted, &want, &row);
    }
}

#[test]
fn insert_batch_stores_compact_json_whatever_the_spelling() {
    let (db, dst) = setup();
    let cases = cases(&dst);
    let rows: Vec<String> = cases.iter().map(|(r, _)| r.clone()).collect();
    let ids = db.insert_batch("t", &rows).unwrap();
    assert_eq!(ids.len(), rows.len());
    for (id, (row, want)) in ids.iter().zip(cases) {
        let got = db.get(id).unwrap().expect("stored");
        check(&db, &got, &want, &row);
    }
}
