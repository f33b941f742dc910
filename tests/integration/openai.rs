//! The `openai:<model>` provider against a small local OpenAI-compatible server:
//! batching, the bearer token, retries on 5xx, and clear errors otherwise.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rem_host::embed::OpenAiConfig;
use rem_host::embed::hash::HashEmbedder;
use rem_host::{Database, Embeddings, OpenOptions, SearchOptions, SearchQuery};
use rem_tests::parse;
use serde_json::{Value, json};

/// What the server saw: (authorization header, request body) per request.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// Serve `/v1/embeddings`: the first request fails with 503, model `bad` gets 400,
/// everything else gets hash:16 vectors (in reverse order, with `index` set).
fn server() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let hash = HashEmbedder::new(16);
    let addr = rem_tests::stub::start(move |n, req| {
        log.lock().unwrap().push((req.authorization.clone(), req.body.clone()));
        let req = &req.body;
        if n == 0 {
            ("503 Service Unavailable", json!({"error": "warming up"}))
        } else if req["model"] == "bad" {
            ("400 Bad Request", json!({"error": {"message": "no such model"}}))
        } else {
            let inputs = req["input"].as_array().unwrap();
            let data: Vec<Value> = inputs
                .iter()
                .enumerate()
                .rev()
                .map(|(i, t)| json!({"index": i, "embedding": hash.vector(t.as_str().unwrap())}))
                .collect();
            ("200 OK", json!({"data": data, "model": req["model"]}))
        }
    });
    (format!("http://{addr}/v1"), seen)
}

fn config(base_url: String) -> OpenAiConfig {
    OpenAiConfig {
        base_url,
        api_key: Some("sk-test".into()),
        timeout: Duration::from_secs(5),
        retries: 2,
        batch: 4,
        deadline: None,
    }
}

#[test]
fn openai_compatible_endpoint_batched_with_retries() {
    let (url, seen) = server();
    let db =
        Database::open(OpenOptions::in_memory().embeddings(Embeddings::default().with_openai(config(url)))).unwrap();
    let schema = json!({
        "type": "object", "properties": {"title": {"type": "string"}}, "key_field": "title",
        "embedding_fields": ["title"], "embedding_provider": "openai:test-embed",
    });
    let rec = parse(&db.register_schema("notes", &schema.to_string()).unwrap());
    assert_eq!(rec["embedding_dims"], 16);
    let rows: Vec<String> = (0..10).map(|i| json!({"title": format!("note number {i}")}).to_string()).collect();
    db.insert_batch("notes", &rows).unwrap();
    let found =
        parse(&db.search("notes", &SearchQuery::Text("note number 7".into()), &SearchOptions::default()).unwrap());
    assert_eq!(found[0]["properties"]["title"], "note number 7", "answers were matched to inputs by index");
    let seen = seen.lock().unwrap();
    // 503 then the probe; 10 rows in batches of 4; the query.
    let sizes: Vec<usize> = seen.iter().map(|(_, b)| b["input"].as_array().unwrap().len()).collect();
    assert_eq!(sizes, vec![1, 1, 4, 4, 2, 1]);
    assert!(seen.iter().all(|(auth, b)| auth == "Bearer sk-test" && b["model"] == "test-embed"));
}

#[test]
fn openai_errors_are_clear() {
    let (url, _) = server();
    let emb = Embeddings::default().with_openai(config(url));
    // The first request (503) is retried; 400 is not.
    let err = emb.embed("openai:bad", &["x".into()]).unwrap_err();
    assert!(err.contains("400") && err.contains("no such model"), "{err}");
    let no_key =
        Embeddings::default().with_openai(OpenAiConfig { api_key: None, ..config("http://127.0.0.1:9".into()) });
    let err = no_key.embed("openai:m", &["x".into()]).unwrap_err();
    assert!(err.contains("P8_OPENAI_API_KEY"), "{err}");
    let down = Embeddings::default().with_openai(OpenAiConfig { retries: 1, ..config("http://127.0.0.1:9/v1".into()) });
    let err = down.embed("openai:m", &["x".into()]).unwrap_err();
    assert!(err.contains("cannot reach") && err.contains("2 attempts"), "{err}");
}

/// A server that answers every request 401 with a body quoting the Authorization header it got,
/// as some providers quote the key they refused.
fn echoing_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(8) {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut auth = String::new();
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                if let Some(v) = line.strip_prefix("authorization: ").or_else(|| line.strip_prefix("Authorization: ")) {
                    auth = v.trim().to_string();
                }
                line.clear();
            }
            let text = json!({"error": {"message": format!("Incorrect API key provided: {auth}")}}).to_string();
            let _ = write!(
                stream,
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                text.len()
            );
        }
    });
    format!("http://{addr}/v1")
}

#[test]
fn embedding_errors_never_show_keys_tokens_or_url_credentials() {
    let key = "sk-live-0123456789abcdefSECRET";
    let with_key = |base_url: String| OpenAiConfig { api_key: Some(key.into()), ..config(base_url) };
    // The server quotes the bearer token back.
    let url = echoing_server();
    let err = Embeddings::default().with_openai(with_key(url)).embed("openai:m", &["x".into()]).unwrap_err();
    assert!(err.contains("401"), "{err}");
    // Nothing listens on port 9; the URL carries credentials.
    let creds = "http://alice:hunter2pass@127.0.0.1:9/v1".to_string();
    let down = OpenAiConfig { retries: 0, ..with_key(creds) };
    let err2 = Embeddings::default().with_openai(down.clone()).embed("openai:m", &["x".into()]).unwrap_err();
    let debug = format!("{down:?}");
    for shown in [&err, &err2, &debug] {
        for secret in ["0123456789abcdef", "SECRET", "hunter2pass"] {
            assert!(!shown.contains(secret), "{secret} shown in: {shown}");
        }
    }
    // Through a database call too.
    let db = Database::open(
        OpenOptions::in_memory().embeddings(Embeddings::default().with_openai(with_key(echoing_server()))),
    )
    .unwrap();
    let schema = json!({"type": "object", "properties": {"t": {"type": "string"}}, "embedding_fields": ["t"],
                        "embedding_provider": "openai:m"});
    let err = db.register_schema("n", &schema.to_string()).unwrap_err().to_string();
    assert!(err.contains("401") && !err.contains("0123456789abcdef"), "{err}");
}

#[test]
fn a_hung_embedding_endpoint_is_bounded_by_the_call_deadline() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(120));
        drop(held);
    });
    let slow = OpenAiConfig { timeout: Duration::from_secs(100), ..config(format!("http://{addr}/v1")) };
    let db = Database::open(
        OpenOptions::in_memory()
            .embeddings(Embeddings::default().with_openai(slow))
            .call_timeout(Some(Duration::from_millis(600))),
    )
    .unwrap();
    let schema = json!({"type": "object", "properties": {"t": {"type": "string"}}, "embedding_fields": ["t"],
                        "embedding_provider": "openai:m"});
    let started = std::time::Instant::now();
    let err = db.register_schema("n", &schema.to_string()).unwrap_err();
    assert_eq!(err.kind(), "timeout", "{err}");
    // Far below the endpoint's own 100 s timeout: the deadline cut the request short.
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    // The handle still works, and nothing was registered.
    assert!(db.list_schemas().unwrap().is_empty());
}
