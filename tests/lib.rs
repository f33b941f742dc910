//! Shared fixtures for REM's integration tests.

use rem_host::Database;
use serde_json::{Value, json};

/// The people table used across tests: key `name`, an enum `role`, an age ≥ 0.
pub fn person_schema() -> Value {
    json!({
        "title": "Person",
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 0},
            "role": {"type": "string", "enum": ["engineer", "manager", "designer"], "default": "engineer"},
            "tags": {"type": "array", "items": {"type": "string"}, "default": []},
            "nickname": {"type": "string"},
            "contact": {"type": "object", "properties": {"address": {"type": "object", "properties": {"city": {"type": "string"}}}}}
        },
        "required": ["name", "age"],
        "key_field": "name",
        "version": "1.0.0"
    })
}

/// A fresh in-memory database with `person` registered and Alice (30, engineer),
/// Bob (25, engineer) and Charlie (35, manager) inserted.
pub fn people() -> Database {
    let db = Database::in_memory().expect("open in-memory database");
    db.register_schema("person", &person_schema().to_string()).expect("register person");
    for (name, age, role, city) in
        [("Alice", 30, "engineer", "Delft"), ("Bob", 25, "engineer", "Leiden"), ("Charlie", 35, "manager", "Delft")]
    {
        let row = json!({"name": name, "age": age, "role": role, "tags": [role, "staff"], "contact": {"address": {"city": city}}});
        db.insert("person", &row.to_string()).expect("insert person");
    }
    db
}

/// Parse engine JSON output.
pub fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("engine returns JSON")
}

/// A local HTTP/1.1 server answering JSON, for tests of clients that would otherwise need the
/// internet (OpenAI-compatible endpoints): each request is read whole and passed to the handler,
/// which checks what it received and answers a status line and a JSON body. Connections are
/// kept alive; each runs on its own thread.
pub mod stub {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{SocketAddr, TcpListener};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use serde_json::Value;

    /// One request as the stub read it.
    #[derive(Debug, Clone)]
    pub struct Request {
        /// The request line, e.g. `POST /v1/embeddings HTTP/1.1`.
        pub line: String,
        /// The `Authorization` header's value (empty without one).
        pub authorization: String,
        /// The body, parsed as JSON (`Null` when empty or not JSON).
        pub body: Value,
    }

    /// The handler: the request's number (0-based, across connections) and the request, to a
    /// status line (`"200 OK"`) and a JSON body.
    pub type Handler = dyn Fn(usize, &Request) -> (&'static str, Value) + Send + Sync;

    /// Start a stub on a free loopback port; its address.
    pub fn start(handler: impl Fn(usize, &Request) -> (&'static str, Value) + Send + Sync + 'static) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let handler: Arc<Handler> = Arc::new(handler);
        let count = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (handler, count) = (handler.clone(), count.clone());
                std::thread::spawn(move || {
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    while let Some(req) = read(&mut reader) {
                        let (status, reply) = handler(count.fetch_add(1, Ordering::SeqCst), &req);
                        let text = reply.to_string();
                        let head = format!(
                            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                            text.len()
                        );
                        if stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(text.as_bytes())).is_err() {
                            return;
                        }
                    }
                });
            }
        });
        addr
    }

    /// The next request on a connection, or `None` when the client closed it.
    fn read(reader: &mut impl BufRead) -> Option<Request> {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let (mut len, mut authorization) = (0usize, String::new());
        loop {
            let mut header = String::new();
            reader.read_line(&mut header).ok()?;
            let h = header.trim_end();
            if h.is_empty() {
                break;
            }
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                len = v.trim().parse().ok()?;
            }
            if lower.starts_with("authorization:") {
                authorization = h["authorization:".len()..].trim().to_string();
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Some(Request { line: line.trim_end().to_string(), authorization, body })
    }
}
