//! Vector index maintenance natively (no component): compaction after many
//! deletes, and index/scan agreement after random writes.

mod common;

use common::Letters;
use rem_core::{Database, MemoryStore, SearchOptions, SearchQuery};
use serde_json::{Value, json};

fn db(store: &MemoryStore) -> Database<&MemoryStore> {
    let db = Database::new(store, "t").unwrap().with_embedder(Box::new(Letters));
    let schema = json!({"type": "object", "properties": {"k": {"type": "string"}, "text": {"type": "string"}},
        "key_field": "k", "embedding_fields": ["text"]});
    db.register_schema("docs", &schema.to_string()).unwrap();
    db
}

fn stats(db: &Database<&MemoryStore>) -> Value {
    db.index_stats("docs").unwrap()
}

#[test]
fn tombstones_outnumbering_live_vectors_trigger_a_compaction() {
    let store = MemoryStore::new();
    let db = db(&store);
    let mut rng = fastrand::Rng::with_seed(1);
    let word = |rng: &mut fastrand::Rng| (0..8).map(|_| rng.lowercase()).collect::<String>();
    let rows: Vec<String> =
        (0..2500).map(|i| json!({"k": format!("k{i}"), "text": word(&mut rng)}).to_string()).collect();
    let ids = db.insert_batch("docs", &rows).unwrap();
    assert_eq!(stats(&db)["live"], 2500);
    for (i, id) in ids.iter().enumerate().take(1300) {
        db.delete(id, i % 2 == 0).unwrap();
    }
    // The 1,251st delete left 1,251 tombstones > 1,249 live (and > 1,000), so it compacted
    // the graph to its 1,249 live nodes; the 49 deletes after it are tombstones again.
    let s = stats(&db);
    assert_eq!(
        (s["live"].as_u64(), s["tombstones"].as_u64(), s["count"].as_u64()),
        (Some(1200), Some(49), Some(1249)),
        "{s}"
    );
    let q = SearchQuery::Text("abcdefgh".into());
    let hits = db.search("docs", q, &SearchOptions { top_k: 1200, ..Default::default() }).unwrap();
    assert_eq!(hits.len(), 1200);
    let live: std::collections::HashSet<&str> = ids[1300..].iter().map(String::as_str).collect();
    assert!(hits.iter().all(|h| live.contains(h["id"].as_str().unwrap())));
    // A fresh handle over the same store (a reopen) sees the compacted index.
    let again = Database::new(&store, "t").unwrap().with_embedder(Box::new(Letters));
    assert_eq!(again.index_stats("docs").unwrap()["live"], 1200);
    let report = again.check(20).unwrap();
    assert_eq!(report["ok"], true, "the compacted index agrees with the rows: {report:#}");
}

#[test]
fn a_changed_model_re_embeds_the_table_on_registration() {
    let store = MemoryStore::new();
    let db = db(&store);
    db.insert("docs", r#"{"k": "a", "text": "hello"}"#).unwrap();
    let schema = json!({"type": "object", "properties": {"k": {"type": "string"}, "text": {"type": "string"}},
        "key_field": "k", "embedding_fields": ["k", "text"]});
    let rec: Value = serde_json::from_str(&db.register_schema("docs", &schema.to_string()).unwrap()).unwrap();
    assert_eq!(rec["embedding_fields"], json!(["k", "text"]));
    let s = stats(&db);
    assert_eq!((s["live"].as_u64(), s["tombstones"].as_u64()), (Some(1), Some(0)));
    // Dropping the embedding fields drops the index.
    let plain = json!({"type": "object", "properties": {"k": {"type": "string"}, "text": {"type": "string"}}, "key_field": "k"});
    db.register_schema("docs", &plain.to_string()).unwrap();
    assert!(db.index_stats("docs").is_err());
    assert!(db.search("docs", SearchQuery::Text("x".into()), &SearchOptions::default()).is_err());
}
