//! The query corpus (`tests/corpus/*.json`): statements with their expected
//! rows or error, run through the real component against the same data with
//! and without secondary indexes (the rules: `rem_core::suites`).

use rem_core::suites;
use rem_host::Database;

#[test]
fn select_corpus() {
    for indexed in [false, true] {
        let db = Database::in_memory().unwrap();
        let (schema, rows) = suites::corpus_table(indexed);
        db.register_schema("person", &schema.to_string()).unwrap();
        db.insert_batch("person", &rows).unwrap();
        suites::run_corpus(&format!("component, indexed: {indexed}"), |sql| {
            db.query(sql).map_err(|e| (e.kind().to_string(), e.to_string()))
        });
    }
}
