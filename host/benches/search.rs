//! Semantic-search benchmarks on real 384-d all-MiniLM-L6-v2 embeddings of
//! the Debian catalog (name + summary of every package), through the component,
//! side by side with native hnsw_rs (single thread) and brute force in the same run.
//!
//! Run: `cargo bench -p rem-host --bench search` (needs the MiniLM weights; see README).
//! The embeddings are cached in `target/bench-cache/` after the first run, which
//! also measures the embedding rate.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use hnsw_rs::prelude::{DistDot, Hnsw};
use rem_core::vector::distance::dot;
use rem_host::embed::Provider;
use rem_host::{Database, Embeddings, OpenOptions, SearchOptions, SearchQuery};

const QUERIES: usize = 500;
const K: usize = 10;
const EFS: [u32; 3] = [32, 64, 128];

/// Texts and their MiniLM vectors, computed once and cached.
fn corpus(texts: &[String]) -> (Vec<Vec<f32>>, Option<f64>) {
    let cache = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../target/bench-cache"));
    let key = blake3::hash(texts.join("\n").as_bytes()).to_hex()[..16].to_string();
    let file = cache.join(format!("debian-minilm-{key}.f32"));
    if let Ok(bytes) = std::fs::read(&file) {
        let all: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().unwrap())).collect();
        return (all.chunks(384).map(<[f32]>::to_vec).collect(), None);
    }
    let model = Embeddings::default().minilm().unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    let mut out = Vec::with_capacity(texts.len());
    for (i, chunk) in texts.chunks(2048).enumerate() {
        out.extend(model.embed(chunk).unwrap());
        eprintln!("embedded {} / {}", (i + 1) * 2048, texts.len());
    }
    let rate = texts.len() as f64 / start.elapsed().as_secs_f64();
    std::fs::create_dir_all(&cache).unwrap();
    let bytes: Vec<u8> = out.iter().flatten().flat_map(|x| x.to_le_bytes()).collect();
    std::fs::write(&file, bytes).unwrap();
    (out, Some(rate))
}

fn recall(got: &[Vec<usize>], truth: &[Vec<usize>]) -> f64 {
    let hits: usize = got.iter().zip(truth).map(|(g, t)| g.iter().filter(|x| t.contains(x)).count()).sum();
    hits as f64 / (truth.len() * K) as f64
}

fn main() {
    let lists = std::env::var("APT_LISTS").unwrap_or_else(|_| "/var/lib/apt/lists".into());
    let packages = debian_catalog::load(Path::new(&lists)).expect("load the Debian catalog (run apt-get update first)");
    let texts: Vec<String> = packages.iter().map(|p| format!("{}\n{}", p.name, p.summary)).collect();
    let (vectors, embed_rate) = corpus(&texts);
    // Hold out every n-th package as a query.
    let step = texts.len() / QUERIES;
    let (mut docs, mut queries) = (Vec::new(), Vec::new());
    for i in 0..texts.len() {
        if i % step == 0 && queries.len() < QUERIES { queries.push(i) } else { docs.push(i) }
    }
    println!(
        "corpus: {} packages, {} documents, {} held-out queries, 384 dims",
        texts.len(),
        docs.len(),
        queries.len()
    );
    if let Some(r) = embed_rate {
        println!("embedding (all-MiniLM-L6-v2, candle, batch 32, 2 cores): {r:.0} texts/s");
    }

    // Ground truth and the brute-force baseline.
    let start = Instant::now();
    let truth: Vec<Vec<usize>> = queries
        .iter()
        .map(|&q| {
            let mut s: Vec<(f32, usize)> =
                docs.iter().enumerate().map(|(j, &d)| (dot(&vectors[q], &vectors[d]), j)).collect();
            s.select_nth_unstable_by(K, |a, b| b.0.total_cmp(&a.0));
            s.truncate(K);
            s.into_iter().map(|(_, j)| j).collect()
        })
        .collect();
    let brute_qps = queries.len() as f64 / start.elapsed().as_secs_f64();
    println!("brute force (native, exact, vectorised dot product): {brute_qps:.0} queries/s");

    // Native hnsw_rs, single thread, same M and ef_construction.
    let start = Instant::now();
    let hnsw: Hnsw<f32, DistDot> = Hnsw::new(16, docs.len(), 16, 100, DistDot {});
    for (j, &d) in docs.iter().enumerate() {
        hnsw.insert((&vectors[d], j));
    }
    let native_build = docs.len() as f64 / start.elapsed().as_secs_f64();
    println!("hnsw_rs build: {native_build:.0} vectors/s");
    let mut native = HashMap::new();
    for ef in EFS {
        let start = Instant::now();
        let got: Vec<Vec<usize>> = queries
            .iter()
            .map(|&q| hnsw.search(&vectors[q], K, ef as usize).iter().map(|n| n.d_id).collect())
            .collect();
        let qps = queries.len() as f64 / start.elapsed().as_secs_f64();
        native.insert(ef, qps);
        println!("hnsw_rs ef_search={ef}: recall@10 {:.3}, {qps:.0} queries/s", recall(&got, &truth));
    }

    // REM through the component: the vectors come from a lookup "model", so the
    // figures are the engine's (validation, storage, HNSW), not the embedding's.
    let by_text: Arc<HashMap<String, Vec<f32>>> =
        Arc::new(docs.iter().map(|&d| (texts[d].clone(), vectors[d].clone())).collect());
    let lookup = by_text.clone();
    let embeddings = Embeddings::new(None, None).with_custom(
        "custom:precomputed",
        Arc::new(move |batch: &[String]| {
            Ok(batch.iter().map(|t| lookup.get(t).cloned().unwrap_or_else(|| vec![0.05; 384])).collect())
        }),
    );
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("rem");
    let schema = serde_json::json!({
        "type": "object",
        "properties": {"name": {"type": "string"}, "text": {"type": "string"}, "n": {"type": "integer"}},
        "key_field": "name",
        "embedding_fields": ["text"],
        "embedding_provider": "custom:precomputed",
    });
    let rows: Vec<String> = docs
        .iter()
        .enumerate()
        .map(|(j, &d)| serde_json::json!({"name": packages[d].name, "text": texts[d], "n": j}).to_string())
        .collect();
    let name_to_doc: HashMap<String, usize> =
        docs.iter().enumerate().map(|(j, &d)| (packages[d].name.clone(), j)).collect();
    {
        let db = Database::open(OpenOptions::at(&dir).embeddings(embeddings.clone())).unwrap();
        db.register_schema("docs", &schema.to_string()).unwrap();
        let start = Instant::now();
        db.insert_batch_with_progress("docs", &rows, 1000, &mut |_| {}).unwrap();
        let rem_build = docs.len() as f64 / start.elapsed().as_secs_f64();
        println!(
            "REM build (insert_batch: validate + store + index, 1000 rows a call): {rem_build:.0} vectors/s ({:.2}x hnsw_rs)",
            rem_build / native_build
        );
    }
    let start = Instant::now();
    let db = Database::open(OpenOptions::at(&dir).embeddings(embeddings)).unwrap();
    let opts = SearchOptions { top_k: K as u32, ..Default::default() };
    db.search("docs", &SearchQuery::Vector(vectors[queries[0]].clone()), &opts).unwrap();
    println!(
        "REM open + first search (63k vectors, nothing loaded up front): {:.1} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let ids = |json: &str| -> Vec<usize> {
        let rows: serde_json::Value = serde_json::from_str(json).unwrap();
        rows.as_array().unwrap().iter().map(|r| name_to_doc[r["properties"]["name"].as_str().unwrap()]).collect()
    };
    for ef in EFS {
        let opts = SearchOptions { top_k: K as u32, ef_search: Some(ef), ..Default::default() };
        // Warm: the first pass reads the nodes it visits from storage.
        for &q in &queries {
            db.search("docs", &SearchQuery::Vector(vectors[q].clone()), &opts).unwrap();
        }
        let start = Instant::now();
        let got: Vec<Vec<usize>> = queries
            .iter()
            .map(|&q| ids(&db.search("docs", &SearchQuery::Vector(vectors[q].clone()), &opts).unwrap()))
            .collect();
        let qps = queries.len() as f64 / start.elapsed().as_secs_f64();
        println!(
            "REM ef_search={ef}: recall@10 {:.3}, {qps:.0} queries/s ({:.2}x hnsw_rs)",
            recall(&got, &truth),
            qps / native[&ef]
        );
    }
    // A filtered search: a range on `n` keeping about 10% of the rows, ranked exactly or through the graph.
    let opts =
        SearchOptions { top_k: K as u32, filter: Some(format!("n < {}", docs.len() / 10)), ..Default::default() };
    let start = Instant::now();
    for &q in &queries[..100] {
        let got = db.search("docs", &SearchQuery::Vector(vectors[q].clone()), &opts).unwrap();
        assert_eq!(ids(&got).len(), K);
    }
    println!(
        "REM filtered search (10% of rows match, no index on n): {:.1} ms/query",
        start.elapsed().as_secs_f64() * 1e3 / 100.0
    );
    println!("stats: {}", db.index_stats("docs").unwrap());
}
