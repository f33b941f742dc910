//! Semantic search through the real component: embedding on write, the HNSW
//! index in storage, filtered search, upserts and deletes, reopening.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use rem_host::embed::hash::HashEmbedder;
use rem_host::{Database, Embeddings, Error, OpenOptions, SearchOptions, SearchQuery};
use rem_tests::parse;
use serde_json::{Value, json};

fn schema(provider: &str) -> String {
    json!({
        "type": "object",
        "properties": {"title": {"type": "string"}, "body": {"type": "string"}, "n": {"type": "integer"}},
        "required": ["title"],
        "key_field": "title",
        "indexed_fields": ["n"],
        "embedding_fields": ["title", "body"],
        "embedding_provider": provider,
    })
    .to_string()
}

fn search(db: &Database, text: &str, k: u32, filter: Option<&str>) -> Vec<Value> {
    let opts = SearchOptions { top_k: k, filter: filter.map(str::to_string), ..Default::default() };
    match parse(&db.search("docs", &SearchQuery::Text(text.into()), &opts).unwrap()) {
        Value::Array(rows) => rows,
        other => panic!("{other}"),
    }
}

const WORDS: [&str; 24] = [
    "web", "server", "http", "proxy", "database", "sql", "python", "library", "graph", "image", "audio", "video",
    "network", "kernel", "driver", "font", "editor", "compiler", "rust", "shell", "mail", "game", "cloud", "backup",
];

fn text(rng: &mut fastrand::Rng) -> String {
    (0..6).map(|_| WORDS[rng.usize(..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

#[test]
fn the_nearest_text_comes_first_with_a_score() {
    let db = Database::in_memory().unwrap();
    let rec = parse(&db.register_schema("docs", &schema("hash:256")).unwrap());
    assert_eq!((rec["embedding_provider"].as_str(), rec["embedding_dims"].as_u64()), (Some("hash:256"), Some(256)));
    for (t, b) in
        [("nginx", "fast web server and reverse proxy"), ("postgres", "sql database server"), ("vim", "text editor")]
    {
        db.insert("docs", &json!({"title": t, "body": b}).to_string()).unwrap();
    }
    let rows = search(&db, "web proxy", 3, None);
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["properties"]["title"], "nginx");
    let scores: Vec<f64> = rows.iter().map(|r| r["_score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    // The same through SQL, with a filter and a limit.
    let rows = parse(&db.query("SEARCH 'server' IN docs WHERE title != 'nginx' LIMIT 1").unwrap());
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["properties"]["title"], "postgres");
    let stats = parse(&db.index_stats("docs").unwrap());
    assert_eq!((stats["live"].as_u64(), stats["dims"].as_u64(), stats["m"].as_u64()), (Some(3), Some(256), Some(16)));
}

#[test]
fn filtered_search_returns_min_of_k_and_matches_for_every_selectivity() {
    let db = Database::in_memory().unwrap();
    db.register_schema("docs", &schema("hash:64")).unwrap();
    let mut rng = fastrand::Rng::with_seed(11);
    let rows: Vec<String> =
        (0..3000).map(|n| json!({"title": format!("doc {n}"), "body": text(&mut rng), "n": n}).to_string()).collect();
    db.insert_batch("docs", &rows).unwrap();
    for (filter, matches) in [
        ("n < 0", 0),
        ("n = 7", 1),
        ("n < 5", 5),
        ("n < 300", 300),
        ("n >= 1000", 2000),
        ("n >= 500", 2500),
        ("n >= 0", 3000),
        ("n < 100 OR n >= 2990", 110),
    ] {
        for k in [1u32, 10, 50] {
            let got = search(&db, "web server database", k, Some(filter));
            assert_eq!(got.len(), (k as usize).min(matches), "{filter} k={k}");
            let check = parse(&db.query(&format!("SELECT id FROM docs WHERE {filter}")).unwrap());
            let allowed: Vec<&str> = check.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
            assert!(got.iter().all(|r| allowed.contains(&r["id"].as_str().unwrap())), "{filter}");
        }
    }
    let err = db.search(
        "docs",
        &SearchQuery::Text("x".into()),
        &SearchOptions { filter: Some("n < 3 LIMIT 1".into()), ..Default::default() },
    );
    assert!(matches!(err, Err(Error::InvalidQuery { .. })), "{err:?}");
}

#[test]
fn after_random_upserts_and_deletes_no_stale_vector_is_returned() {
    let db = Database::in_memory().unwrap();
    db.register_schema("docs", &schema("hash:64")).unwrap();
    let embed = HashEmbedder::new(64);
    let mut rng = fastrand::Rng::with_seed(5);
    let mut model: HashMap<String, String> = HashMap::new(); // title -> embedded text
    let mut ids: HashMap<String, String> = HashMap::new();
    for step in 0..600 {
        let title = format!("t{}", rng.usize(..150));
        match rng.usize(..10) {
            0..=5 => {
                let body = text(&mut rng);
                let e = parse(&db.insert("docs", &json!({"title": title, "body": body}).to_string()).unwrap());
                ids.insert(title.clone(), e["id"].as_str().unwrap().to_string());
                model.insert(title.clone(), format!("{title}\n{body}"));
            }
            6 | 7 => {
                if let Some(id) = ids.get(&title) {
                    let body = text(&mut rng);
                    db.update(id, &json!({"body": body}).to_string()).unwrap();
                    model.insert(title.clone(), format!("{title}\n{body}"));
                }
            }
            _ => {
                if let Some(id) = ids.remove(&title) {
                    db.delete(&id, step % 2 == 0).unwrap();
                    model.remove(&title);
                }
            }
        }
    }
    let stats = parse(&db.index_stats("docs").unwrap());
    assert_eq!(stats["live"].as_u64().unwrap() as usize, model.len(), "{stats}");
    for _ in 0..30 {
        let q = text(&mut rng);
        let qv = embed.vector(&q);
        let rows = search(&db, &q, 20, None);
        assert_eq!(rows.len(), 20.min(model.len()));
        for r in rows {
            let title = r["properties"]["title"].as_str().unwrap();
            let current = model.get(title).unwrap_or_else(|| panic!("deleted row {title} returned"));
            let want: f32 = embed.vector(current).iter().zip(&qv).map(|(a, b)| a * b).sum();
            let got = r["_score"].as_f64().unwrap() as f32;
            assert!((want - got).abs() < 1e-4, "{title}: score {got} is not that of its current text ({want})");
        }
    }
}

#[test]
fn an_unchanged_text_is_not_embedded_again_and_a_batch_is_one_call() {
    let calls = Arc::new(AtomicUsize::new(0));
    let texts = Arc::new(AtomicUsize::new(0));
    let (c, t) = (calls.clone(), texts.clone());
    let hash = HashEmbedder::new(32);
    let emb = Embeddings::new(None, None).with_custom(
        "custom:count",
        Arc::new(move |batch: &[String]| {
            c.fetch_add(1, Ordering::SeqCst);
            t.fetch_add(batch.len(), Ordering::SeqCst);
            Ok(batch.iter().map(|s| hash.vector(s)).collect())
        }),
    );
    let db = Database::open(OpenOptions::in_memory().embeddings(emb)).unwrap();
    db.register_schema("docs", &schema("custom:count")).unwrap();
    let probe = calls.load(Ordering::SeqCst);
    let rows: Vec<String> =
        (0..300).map(|n| json!({"title": format!("doc {n}"), "body": "same body", "n": n}).to_string()).collect();
    db.insert_batch("docs", &rows).unwrap();
    assert_eq!(calls.load(Ordering::SeqCst) - probe, 1, "one embed call per batch");
    let before = texts.load(Ordering::SeqCst);
    db.insert_batch("docs", &rows).unwrap();
    let id = parse(&db.insert("docs", &rows[0]).unwrap())["id"].as_str().unwrap().to_string();
    db.update(&id, r#"{"n": 1000}"#).unwrap();
    assert_eq!(texts.load(Ordering::SeqCst), before, "unchanged texts were embedded again");
    // Soft delete hides the row; restoring it revives the vector without embedding.
    db.delete(&id, false).unwrap();
    assert!(search(&db, "doc 0 same body", 300, None).iter().all(|r| r["id"] != id.as_str()));
    let before = texts.load(Ordering::SeqCst); // the search embedded its query
    db.insert("docs", &rows[0]).unwrap();
    assert_eq!(texts.load(Ordering::SeqCst), before);
    assert!(search(&db, "doc 0 same body", 300, None).iter().any(|r| r["id"] == id.as_str()));
}

#[test]
fn dimension_changes_and_bad_arguments_are_clear_errors() {
    let dims = Arc::new(AtomicUsize::new(16));
    let d = dims.clone();
    let emb = Embeddings::new(None, None).with_custom(
        "custom:shifty",
        Arc::new(move |batch: &[String]| Ok(batch.iter().map(|_| vec![0.5; d.load(Ordering::SeqCst)]).collect())),
    );
    let db = Database::open(OpenOptions::in_memory().embeddings(emb)).unwrap();
    db.register_schema("docs", &schema("custom:shifty")).unwrap();
    db.insert("docs", r#"{"title": "a"}"#).unwrap();
    dims.store(32, Ordering::SeqCst);
    let err = db.insert("docs", r#"{"title": "b"}"#).unwrap_err().to_string();
    assert!(err.contains("32") && err.contains("16"), "{err}");
    assert_eq!(db.count("docs").unwrap(), 1, "the failed write left nothing behind");
    let err = db.search("docs", &SearchQuery::Vector(vec![1.0; 3]), &SearchOptions::default()).unwrap_err().to_string();
    assert!(err.contains("3 dimensions") && err.contains("16"), "{err}");
    let hybrid = SearchOptions { hybrid: true, ..Default::default() };
    assert!(matches!(db.search("docs", &SearchQuery::Vector(vec![1.0; 16]), &hybrid), Err(Error::InvalidArgument(_))));
    let zero = SearchOptions { top_k: 0, ..Default::default() };
    assert!(matches!(db.search("docs", &SearchQuery::Text("a".into()), &zero), Err(Error::InvalidArgument(_))));
    let err = Database::in_memory().unwrap().register_schema("docs", &schema("nope:1")).unwrap_err().to_string();
    assert!(err.contains("unknown embedding model"), "{err}");
}

#[test]
fn results_are_the_same_after_reopening_and_rebuilding() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = fastrand::Rng::with_seed(9);
    let queries: Vec<String> = (0..20).map(|_| text(&mut rng)).collect();
    let before: Vec<Vec<Value>> = {
        let db = Database::open_path(dir.path()).unwrap();
        db.register_schema("docs", &schema("hash:64")).unwrap();
        let rows: Vec<String> = (0..1500)
            .map(|n| json!({"title": format!("doc {n}"), "body": text(&mut rng), "n": n}).to_string())
            .collect();
        db.insert_batch("docs", &rows).unwrap();
        queries.iter().map(|q| search(&db, q, 10, None)).collect()
    };
    let db = Database::open_path(dir.path()).unwrap();
    let after: Vec<Vec<Value>> = queries.iter().map(|q| search(&db, q, 10, None)).collect();
    assert_eq!(before, after);
    let stats = parse(&db.rebuild_index("docs", false).unwrap());
    assert_eq!((stats["live"].as_u64(), stats["tombstones"].as_u64()), (Some(1500), Some(0)));
    // Hash vectors tie often, so compare the scores of the top 10 rather than the ids.
    let scores = |rows: &Vec<Vec<Value>>| -> Vec<Vec<i64>> {
        rows.iter().map(|r| r.iter().map(|x| (x["_score"].as_f64().unwrap() * 1e5).round() as i64).collect()).collect()
    };
    let rebuilt: Vec<Vec<Value>> = queries.iter().map(|q| search(&db, q, 10, None)).collect();
    let same = scores(&before).iter().zip(scores(&rebuilt)).filter(|(a, b)| **a == *b).count();
    assert!(same >= 18, "only {same}/20 queries agree after a rebuild");
}

#[test]
fn hybrid_search_fuses_keywords_with_vectors() {
    // A model-free embedding that knows nothing: every text gets the same vector, so
    // only the BM25 half of the fusion can tell the rows apart.
    let emb = Embeddings::new(None, None).with_custom(
        "custom:flat",
        Arc::new(|batch: &[String]| Ok(batch.iter().map(|_| vec![1.0, 0.0, 0.0]).collect())),
    );
    let db = Database::open(OpenOptions::in_memory().embeddings(emb)).unwrap();
    db.register_schema("docs", &schema("custom:flat")).unwrap();
    for (t, b, n) in [("nginx", "web server", 1), ("postgres", "sql database", 2), ("redis", "key value store", 3)] {
        db.insert("docs", &json!({"title": t, "body": b, "n": n}).to_string()).unwrap();
    }
    let opts = SearchOptions { top_k: 3, hybrid: true, ..Default::default() };
    let rows = parse(&db.search("docs", &SearchQuery::Text("sql database".into()), &opts).unwrap());
    assert_eq!(rows[0]["properties"]["title"], "postgres", "{rows}");
    assert!(rows[0]["_bm25_score"].as_f64().unwrap() > 0.0);
    assert!(rows[1]["_bm25_score"].is_null());
    // The keyword index follows updates and deletes.
    let id = rows[0]["id"].as_str().unwrap().to_string();
    db.update(&id, r#"{"body": "object relational"}"#).unwrap();
    let rows = parse(&db.search("docs", &SearchQuery::Text("sql".into()), &opts).unwrap());
    assert!(rows.as_array().unwrap().iter().all(|r| r["_bm25_score"].is_null()), "{rows}");
    db.delete(&id, false).unwrap();
    let rows = parse(&db.search("docs", &SearchQuery::Text("relational".into()), &opts).unwrap());
    assert!(rows.as_array().unwrap().iter().all(|r| r["id"] != id.as_str()));
    // With a filter, fusion only ranks matching rows.
    let filtered = SearchOptions { filter: Some("n = 3".into()), ..opts };
    let rows = parse(&db.search("docs", &SearchQuery::Text("web server".into()), &filtered).unwrap());
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["properties"]["title"], "redis");
}
