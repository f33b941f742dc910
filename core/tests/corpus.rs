//! The query corpus (`tests/corpus/*.json`) natively: the same statements, expected rows and
//! errors that `tests/integration/corpus.rs` runs through the component, here against the
//! engine over the in-memory store, with and without secondary indexes. A planner or SQL
//! change is tested here without building the component.

use rem_core::{Database, MemoryStore};
use serde_json::Value;

const CORPUS: &str = include_str!("../../tests/corpus/select.json");

fn load<'s>(store: &'s MemoryStore, doc: &Value, indexed: bool) -> Database<&'s MemoryStore> {
    let db = Database::new(store, "default").unwrap();
    let mut schema = doc["schema"].clone();
    if indexed {
        schema["indexed_fields"] = doc["indexed_fields"].clone();
    }
    db.register_schema("person", &schema.to_string()).unwrap();
    let rows: Vec<String> = doc["rows"].as_array().unwrap().iter().map(|r| r.to_string()).collect();
    db.insert_batch("person", &rows).unwrap();
    db
}

#[test]
fn select_corpus_natively() {
    let doc: Value = serde_json::from_str(CORPUS).unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() > 60);
    for indexed in [false, true] {
        let store = MemoryStore::new();
        let db = load(&store, &doc, indexed);
        for case in cases {
            let sql = case["sql"].as_str().unwrap();
            let got = db.query(sql);
            let ctx = format!("{sql} (indexed: {indexed})");
            if let Some(want_kind) = case.get("error").and_then(Value::as_str) {
                let err = got.expect_err(&ctx);
                assert_eq!(err.kind(), want_kind, "{ctx}: {err}");
                let msg = err.to_string();
                assert!(msg.contains(case["contains"].as_str().unwrap()), "{ctx}: {msg}");
                continue;
            }
            let rows: Value = serde_json::from_str(&got.unwrap_or_else(|e| panic!("{ctx}: {e}"))).unwrap();
            if let Some(n) = case.get("row_count") {
                assert_eq!(rows.as_array().unwrap().len() as u64, n.as_u64().unwrap(), "{ctx}");
            } else {
                assert_eq!(rows, case["rows"], "{ctx}");
            }
        }
    }
}
