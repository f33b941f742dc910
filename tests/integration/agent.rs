//! The agent's side through `rem-host`: the chat client against a local OpenAI-compatible
//! stub (retries, structured-output fallback, redaction), the `prepare` call, write sets,
//! and `ask`/`dream` with a scripted model.

use std::sync::{Arc, Mutex};

use rem_host::agent::{self, AskOptions, DreamOptions, Window};
use rem_host::embed::OpenAiConfig;
use rem_host::llm::openai::OpenAiChat;
use rem_host::llm::{ChatMessage, ChatModel, ChatReply, ChatRequest};
use rem_host::{Api, Database, Embeddings, Error, OpenOptions, TableRows, WriteSet};
use rem_tests::parse;
use serde_json::{Value, json};

fn db() -> Database {
    Database::open(OpenOptions::in_memory().embeddings(Embeddings::new(Some("hash:32".into()), None))).unwrap()
}

fn people() -> Database {
    let db = db();
    db.register_schema(
        "person",
        &json!({"type": "object", "key_field": "name", "indexed_fields": ["team"], "embedding_fields": ["bio"],
                "properties": {"name": {"type": "string"}, "team": {"type": "string"}, "bio": {"type": "string"}},
                "required": ["name"]})
        .to_string(),
    )
    .unwrap();
    let rows: Vec<String> = [("Ann", "storage"), ("Ben", "storage"), ("Cy", "search")]
        .iter()
        .map(|(n, t)| json!({"name": n, "team": t, "bio": format!("{n} works on {t}")}).to_string())
        .collect();
    db.insert_batch("person", &rows).unwrap();
    db
}

/// A model answering from a list, recording what it was asked.
struct Scripted {
    answers: Mutex<Vec<String>>,
    seen: Arc<Mutex<Vec<ChatRequest>>>,
}

impl Scripted {
    fn new(answers: &[Value]) -> (Scripted, Arc<Mutex<Vec<ChatRequest>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let answers = answers.iter().rev().map(|a| a.as_str().map_or_else(|| a.to_string(), String::from)).collect();
        (Scripted { answers: Mutex::new(answers), seen: seen.clone() }, seen)
    }
}

impl ChatModel for Scripted {
    fn name(&self) -> String {
        "scripted".into()
    }
    fn chat(&self, request: &ChatRequest) -> Result<ChatReply, String> {
        self.seen.lock().unwrap().push(request.clone());
        let content = self.answers.lock().unwrap().pop().ok_or("no more answers")?;
        Ok(ChatReply { content, prompt_tokens: 10, completion_tokens: 2 })
    }
}

/// A model answering with `answer(request)`, counting its calls.
struct By(fn(&ChatRequest) -> Value, std::sync::atomic::AtomicUsize);

impl ChatModel for By {
    fn name(&self) -> String {
        "by".into()
    }
    fn chat(&self, request: &ChatRequest) -> Result<ChatReply, String> {
        self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Ok(ChatReply { content: (self.0)(request).to_string(), ..ChatReply::default() })
    }
}

fn plan(query: &str) -> Value {
    json!({"query": query, "query_type": "select", "confidence": 0.7, "reasoning": "r", "requires_search": false})
}

fn config(addr: std::net::SocketAddr, key: &str) -> OpenAiConfig {
    OpenAiConfig {
        base_url: format!("http://{addr}/v1"),
        api_key: Some(key.into()),
        timeout: std::time::Duration::from_secs(10),
        retries: 3,
        ..OpenAiConfig::default()
    }
}

fn request() -> ChatRequest {
    ChatRequest {
        messages: vec![ChatMessage::system("s"), ChatMessage::user("u")],
        schema: Some(("answer".into(), json!({"type": "object"}))),
    }
}

fn completion(content: &str) -> Value {
    json!({"choices": [{"message": {"role": "assistant", "content": content}}],
           "usage": {"prompt_tokens": 7, "completion_tokens": 3}})
}

#[test]
fn the_chat_client_retries_then_steps_down_response_format() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let addr = rem_tests::stub::start(move |n, req| {
        log.lock().unwrap().push(req.clone());
        let format = req.body["response_format"]["type"].as_str().unwrap_or("none").to_string();
        match (n, format.as_str()) {
            (0, _) => ("503 Service Unavailable", json!({"error": "warming up"})),
            (_, "json_schema") => {
                ("400 Bad Request", json!({"error": {"message": "response_format json_schema is not supported"}}))
            }
            _ => ("200 OK", completion(r#"{"ok": true}"#)),
        }
    });
    let chat = OpenAiChat::new("m", config(addr, "sk-abc")).unwrap();
    let reply = chat.chat(&request()).unwrap();
    assert_eq!((reply.content.as_str(), reply.prompt_tokens, reply.completion_tokens), (r#"{"ok": true}"#, 7, 3));
    let formats: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.body["response_format"]["type"].as_str().unwrap_or("none").to_string())
        .collect();
    assert_eq!(formats, ["json_schema", "json_schema", "json_object"], "retried the 503, then stepped down");
    let first = seen.lock().unwrap()[0].clone();
    assert_eq!(first.line, "POST /v1/chat/completions HTTP/1.1");
    assert_eq!(first.authorization, "Bearer sk-abc");
    assert_eq!(first.body["messages"][1], json!({"role": "user", "content": "u"}));
    // The client remembers: the next call starts at json_object.
    chat.chat(&request()).unwrap();
    assert_eq!(seen.lock().unwrap().last().unwrap().body["response_format"]["type"], "json_object");
}

#[test]
fn chat_errors_are_clear_and_never_show_the_key() {
    let addr = rem_tests::stub::start(|_, req| {
        let key = req.authorization.clone();
        ("401 Unauthorized", json!({"error": {"message": format!("Incorrect API key provided: {key}")}}))
    });
    let chat = OpenAiChat::new("m", config(addr, "sk-secret-0123456789")).unwrap();
    let e = chat.chat(&request()).unwrap_err();
    assert!(e.contains("401") && !e.contains("sk-secret-0123456789"), "{e}");
    let garbage = rem_tests::stub::start(|_, _| ("200 OK", json!({"choices": []})));
    let e = OpenAiChat::new("m", config(garbage, "k")).unwrap().chat(&request()).unwrap_err();
    assert!(e.contains("choices[0].message.content"), "{e}");
    // Credentials in the endpoint's URL never show either.
    let with_creds = OpenAiConfig { base_url: format!("http://user:hunter2secret@{addr}/v1"), ..config(addr, "k") };
    let e = OpenAiChat::new("m", with_creds).unwrap().chat(&request()).unwrap_err();
    assert!(e.contains("401") && !e.contains("hunter2secret"), "{e}");
    // An answer is returned as it came: text that looks like a credential is not masked.
    let plain =
        rem_tests::stub::start(|_, _| ("200 OK", completion("Basic setup: key=value, sk-abcdefghijklmnopqrstu")));
    let reply = OpenAiChat::new("m", config(plain, "k")).unwrap().chat(&request()).unwrap();
    assert_eq!(reply.content, "Basic setup: key=value, sk-abcdefghijklmnopqrstu");
    let no_key = OpenAiConfig { api_key: None, ..OpenAiConfig::default() };
    let e = OpenAiChat::new("gpt-x", OpenAiConfig { base_url: "https://api.openai.com/v1".into(), ..no_key });
    assert!(matches!(e, Err(Error::Llm(m)) if m.contains("P8_OPENAI_API_KEY")));
}

#[test]
fn prepare_checks_every_statement_kind_without_reading() {
    let db = people();
    let kind = |sql: &str| parse(&db.prepare(sql).unwrap());
    assert_eq!(
        kind("SELECT name FROM person WHERE team = 'storage'"),
        json!({"statement": "select", "tables": ["person"], "read_only": true})
    );
    assert_eq!(kind("SEARCH 'storage' IN person LIMIT 2")["statement"], "search");
    assert_eq!(kind("LOOKUP 'Ann'")["statement"], "lookup");
    assert_eq!(kind("TRAVERSE FROM 'Ann' DEPTH 2 DIRECTION out")["statement"], "traverse");
    assert_eq!(kind("EXPLAIN SELECT * FROM person")["tables"], json!(["person"]));
    assert!(matches!(db.prepare("SELECT * FROM nope"), Err(Error::SchemaNotFound(_))));
    assert!(matches!(db.prepare("SEARCH 'x' IN nope"), Err(Error::SchemaNotFound(_))));
    assert!(matches!(db.prepare("SELEC name FROM person"), Err(Error::InvalidQuery { .. })));
    // Writes compile, and say they write (only execute runs them; rem ask refuses them).
    assert_eq!(kind("DELETE FROM person"), json!({"statement": "delete", "tables": ["person"], "read_only": false}));
    assert!(matches!(db.prepare("INSERT INTO person (name) VALUES ('x')"), Err(Error::Unsupported(_))));
    // A search is checked as far as it can be without embedding: k, the table's embedding
    // fields, and its filter.
    assert!(matches!(db.prepare("SEARCH 'x' IN person LIMIT 0"), Err(Error::InvalidArgument(_))));
    assert!(matches!(db.prepare("SEARCH 'x' IN person WHERE nope("), Err(Error::InvalidQuery { .. })));
    db.register_schema("plain", r#"{"type": "object", "properties": {"a": {"type": "string"}}}"#).unwrap();
    assert!(
        matches!(db.prepare("SEARCH 'x' IN plain"), Err(Error::InvalidArgument(m)) if m.contains("embedding_fields"))
    );
    // Same errors as query for the same text.
    assert_eq!(db.prepare("SELECT FROM").unwrap_err().to_string(), db.query("SELECT FROM").unwrap_err().to_string());
}

#[test]
fn a_write_set_commits_whole_or_not_at_all() {
    let db = people();
    let ann = db.lookup("Ann").unwrap()[0].clone();
    let ann = parse(&ann)["id"].as_str().unwrap().to_string();
    let writes = WriteSet {
        deletes: vec![ann.clone(), "00000000-0000-0000-0000-000000000000".into()],
        inserts: vec![TableRows {
            table: "person".into(),
            rows: vec![json!({"name": "Dee", "team": "graph"}).to_string()],
        }],
        edges: vec![json!({"src": "Dee", "dst": "Ben", "rel_type": "knows"}).to_string()],
    };
    let bad = WriteSet {
        edges: vec![json!({"src": "Dee", "dst": "Nobody", "rel_type": "knows"}).to_string()],
        ..writes.clone()
    };
    assert!(db.write_set(&bad).is_err());
    assert_eq!(db.count("person").unwrap(), 3, "nothing of the failed set was written");
    assert!(db.lookup("Dee").unwrap().is_empty() && db.get(&ann).unwrap().is_some());
    let out = db.write_set(&writes).unwrap();
    assert_eq!((out.deleted, out.ids[0].len(), out.edges), (1, 1, 1));
    assert_eq!(db.count("person").unwrap(), 3);
    assert!(db.get(&ann).unwrap().is_none(), "hard-deleted");
    let invalid = WriteSet {
        inserts: vec![TableRows { table: "person".into(), rows: vec!["{}".into(), r#"{"name": 5}"#.into()] }],
        ..WriteSet::default()
    };
    match db.write_set(&invalid) {
        Err(Error::Validation(issues)) => assert!(issues.iter().any(|i| i.loc_string().starts_with('0'))),
        other => panic!("{other:?}"),
    }
}

#[test]
fn ask_checks_corrects_once_and_never_runs_writes() {
    let db = people();
    let (model, seen) = Scripted::new(&[
        plan("SELECT name FROM persons"),
        plan("SELECT name FROM person WHERE team = 'storage' ORDER BY name"),
    ]);
    let out = agent::ask(&db, &model, "who is in storage?", &AskOptions::default()).unwrap();
    assert_eq!(out.results, vec![json!({"name": "Ann"}), json!({"name": "Ben"})]);
    assert_eq!((out.tokens.calls, out.tokens.prompt), (2, 20));
    let seen = seen.lock().unwrap();
    let system = &seen[0].messages[0].content;
    assert!(system.contains("frequent team values: \"storage\" (2), \"search\" (1)"), "{system}");
    assert!(seen[1].messages.last().unwrap().content.contains("persons"));
    drop(seen);

    // A query that compiles but fails when it runs goes back once too.
    db.register_schema("plain", r#"{"type": "object", "properties": {"a": {"type": "string"}}}"#).unwrap();
    let (model, seen) =
        Scripted::new(&[plan("SEARCH 'x' IN person LIMIT 20000"), plan("SELECT COUNT(*) AS n FROM person")]);
    let out = agent::ask(&db, &model, "how many?", &AskOptions::default()).unwrap();
    assert_eq!(out.results, vec![json!({"n": 3})]);
    assert!(seen.lock().unwrap()[1].messages.last().unwrap().content.contains("top_k"));

    // The same query twice ends the stages without running it again.
    let (model, seen) = Scripted::new(&[
        plan("SELECT name FROM person WHERE team = 'x'"),
        plan("SELECT name FROM person WHERE team = 'x'"),
    ]);
    let out = agent::ask(&db, &model, "q", &AskOptions::default()).unwrap();
    assert_eq!((out.results.len(), out.stages.len(), seen.lock().unwrap().len()), (0, 1, 2));

    let (model, _) = Scripted::new(&[plan("DELETE FROM person"), plan("DROP TABLE person")]);
    let e = agent::ask(&db, &model, "delete all", &AskOptions::default()).unwrap_err();
    assert!(matches!(&e, Error::Llm(m) if m.contains("DROP statements are refused")), "{e}");
    assert_eq!(db.count("person").unwrap(), 3);

    let (model, _) = Scripted::new(&[json!("not json"), json!("still not")]);
    assert!(matches!(agent::ask(&db, &model, "q", &AskOptions::default()), Err(Error::Llm(_))));
    let (model, _) = Scripted::new(&[]);
    assert!(matches!(agent::ask(&db, &model, " ", &AskOptions::default()), Err(Error::InvalidArgument(_))));
    assert!(matches!(
        agent::ask(&db, &model, "q", &AskOptions { table: Some("nope".into()), ..Default::default() }),
        Err(Error::SchemaNotFound(_))
    ));
}

#[test]
fn dream_batches_activity_within_the_context_and_merges_summaries() {
    let db = db();
    db.register_core_schemas().unwrap();
    db.insert("sessions", r#"{"session_id": "s1"}"#).unwrap();
    let rows: Vec<String> = (0..40)
        .map(|i| {
            json!({"message_id": format!("m{i}"), "session_id": "s1", "role": "user",
                   "content": format!("message number {i} {}", "words ".repeat(20)),
                   "timestamp": format!("2026-12-07T09:{i:02}:00.000000Z")})
            .to_string()
        })
        .collect();
    db.insert_batch("messages", &rows).unwrap();
    let model = By(
        |r| {
            if r.messages[0].content.starts_with("Merge") {
                json!({"summary": "the whole day"})
            } else {
                json!({"moments": [], "summary": "part", "edges": []})
            }
        },
        Default::default(),
    );
    let mut options = DreamOptions::new(Window::between("2026-12-07", "2026-12-07").unwrap());
    options.max_context_chars = 1_000;
    let report = agent::dream(&db, &model, &options).unwrap();
    // 40 messages of about 170 characters: the session goes in parts of at most 1,000 characters,
    // each naming the session.
    assert!(report.batches >= 7, "{}", report.batches);
    assert_eq!(report.messages, 40);
    assert_eq!(report.summary, "the whole day");
    assert_eq!(model.1.load(std::sync::atomic::Ordering::SeqCst), report.batches + 1, "one merge call");
    assert_eq!(db.count("moments").unwrap(), 1);
    // A moment name held by another moment is dated instead of overwriting it; timestamps with
    // offsets are placed by their time; a long session goes in parts.
    db.insert(
        "moments",
        &json!({"name": "Launch", "summary": "by hand", "start_time": "2026-01-01T00:00:00Z",
        "end_time": "2026-01-01T00:00:00Z", "moment_type": "other"})
        .to_string(),
    )
    .unwrap();
    let late = json!({"message_id": "late", "session_id": "s1", "role": "user", "content": "late by offset",
                      "timestamp": "2026-12-08T00:30:00+02:00"});
    db.insert("messages", &late.to_string()).unwrap();
    let moment = json!({"moments": [{"name": "Launch", "summary": "dreamt", "moment_type": "planning"}],
                        "summary": "", "edges": []});
    options.max_context_chars = 100_000;
    let (model, seen) = Scripted::new(&[moment]);
    let report = agent::dream(&db, &model, &options).unwrap();
    assert_eq!((report.messages, report.moments_renamed), (41, 1));
    assert!(seen.lock().unwrap().iter().any(|r| r.messages[1].content.contains("late by offset")));
    let by_hand = parse(&db.lookup("Launch").unwrap()[0]);
    assert_eq!(by_hand["properties"]["summary"], "by hand");
    assert_eq!(parse(&db.lookup("Launch (2026-12-07)").unwrap()[0])["properties"]["summary"], "dreamt");
    let (model, _) = Scripted::new(&[]);
    let no_moments = db.for_tenant("other").unwrap();
    assert!(matches!(agent::dream(&no_moments, &model, &options), Err(Error::SchemaNotFound(_))));
}
