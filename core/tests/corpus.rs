//! The query corpus (`tests/corpus/*.json`) natively: the same statements, expected rows and
//! errors that `tests/integration/corpus.rs` runs through the component, here against the
//! engine over the in-memory store, with and without secondary indexes. A planner or SQL
//! change is tested here without building the component.

use rem_core::{Database, MemoryStore, suites};

#[test]
fn select_corpus_natively() {
    for indexed in [false, true] {
        let store = MemoryStore::new();
        let db = Database::new(&store, "default").unwrap();
        let (schema, rows) = suites::corpus_table(indexed);
        db.register_schema("person", &schema.to_string()).unwrap();
        db.insert_batch("person", &rows).unwrap();
        suites::run_corpus(&format!("native, indexed: {indexed}"), |sql| {
            db.query(sql).map_err(|e| (e.kind().to_string(), e.to_string()))
        });
    }
}
