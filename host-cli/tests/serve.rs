//! `rem serve` with real processes: the server, `rem` commands that find it, several processes
//! at once, a server killed mid-batch, a second server refused, stale endpoint files, tokens.

use std::io::{BufRead, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_rem");

/// A `rem` command on the database in `dir`, with a model-free default embedding.
fn cmd(dir: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("--path")
        .arg(dir.join("db"))
        .env("P8_DEFAULT_EMBEDDING", "hash:64")
        .env_remove("P8_DB_PATH")
        .env_remove("P8_TENANT_ID")
        .env_remove("P8_SERVER")
        .env_remove("P8_SERVER_TOKEN");
    c
}

fn rem(dir: &Path, args: &[&str]) -> Output {
    cmd(dir).args(args).output().expect("run rem")
}

fn ok(dir: &Path, args: &[&str]) -> Value {
    let out = rem(dir, args);
    assert!(out.status.success(), "rem {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("rem {args:?}: not JSON ({e})"))
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A database with table `item` (`name` key, `batch`, `n`; `name` embedded).
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let schema = json!({
        "type": "object", "key_field": "name", "embedding_fields": ["name"],
        "properties": {"name": {"type": "string"}, "batch": {"type": "integer"}, "n": {"type": "integer", "minimum": 0}},
        "required": ["name"]
    });
    std::fs::write(dir.path().join("item.json"), schema.to_string()).unwrap();
    ok(dir.path(), &["init", "--no-core"]);
    ok(dir.path(), &["schema", "add", dir.path().join("item.json").to_str().unwrap(), "--name", "item"]);
    dir
}

/// A running `rem serve`, stopped with SIGTERM when dropped.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Server {
        Self::start_logging(dir, args, "info")
    }

    /// Start with the log filter `filter` (`P8_LOG`).
    fn start_logging(dir: &Path, args: &[&str], filter: &str) -> Server {
        let log = dir.join(format!("serve-{}.log", fastrand_name()));
        let mut c = cmd(dir);
        c.args(["serve", "--listen", "127.0.0.1:0"]).args(args).env("P8_LOG", filter);
        let child = c.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
        // Owned at once, so a failure below still stops it (Drop).
        let mut server = Server { child, url: String::new(), log };
        let endpoint = dir.join("db").join("rem.server.json");
        let started = Instant::now();
        loop {
            if let Ok(text) = std::fs::read_to_string(&endpoint)
                && let Ok(v) = serde_json::from_str::<Value>(&text)
                && v["pid"] == server.child.id()
            {
                server.url = v["url"].as_str().unwrap().to_string();
                return server;
            }
            assert!(started.elapsed() < Duration::from_secs(60), "rem serve did not start: {}", read(&server.log));
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(mut self) -> String {
        terminate(self.child.id());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "rem serve exited with {status}: {}", read(&self.log));
        read(&self.log)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A JSONL file of `rows` `item` rows (batch 1) in `dir`.
fn big_batch(dir: &Path, rows: usize) -> PathBuf {
    let file = dir.join(format!("big-{rows}.jsonl"));
    let text: String =
        (0..rows).map(|i| format!("{}\n", json!({"name": format!("big-{i}"), "batch": 1, "n": i}))).collect();
    std::fs::write(&file, text).unwrap();
    file
}

/// Wait until `server` (started logging `rem_server=debug`) has begun call `call`.
fn wait_for_call(server: &Server, call: &str) {
    let started = Instant::now();
    while !read(&server.log).contains(&format!("call={call}")) {
        assert!(started.elapsed() < Duration::from_secs(60), "{call} never arrived: {}", read(&server.log));
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

fn fastrand_name() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}

fn terminate(pid: u32) {
    Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
}

/// One raw HTTP/1.0 request (so a streamed answer is not chunked) to `addr` (`host:port`); the status code and body.
fn http(addr: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    let mut req =
        format!("{method} {path} HTTP/1.0\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

fn addr_of(url: &str) -> String {
    url.trim_start_matches("http://").to_string()
}

#[test]
fn commands_find_the_server_and_answer_as_they_do_in_process() {
    let dir = setup();
    let d = dir.path();
    // The same failing insert, in process and served: the same message and exit code.
    let bad = ["insert", "item", r#"{"name": "x", "n": -1}"#];
    let local = rem(d, &bad);
    let server = Server::start(d, &[]);
    let row = ok(d, &["insert", "item", r#"{"name": "a", "batch": 0, "n": 1}"#]);
    assert_eq!(row["properties"]["n"], 1);
    assert_eq!(ok(d, &["count", "item"]), json!(1));
    assert_eq!(ok(d, &["query", "SELECT name, n FROM item"]), json!([{"name": "a", "n": 1}]));
    assert_eq!(ok(d, &["search", "a", "--table", "item", "-k", "1"])[0]["properties"]["name"], "a");
    let served = rem(d, &bad);
    assert_eq!(served.status.code(), local.status.code());
    assert_eq!(stderr_of(&served), stderr_of(&local));
    // --server names it explicitly (from anywhere: no --path needed).
    let out = Command::new(BIN).args(["--server", &server.url, "count", "item"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "1", "{}", stderr_of(&out));
    // Streaming: NDJSON when asked for.
    let (status, body) = http(
        &addr_of(&server.url),
        "POST",
        "/v1/query",
        &[("Accept", "application/x-ndjson"), ("Content-Type", "application/json")],
        r#"{"sql": "SELECT name FROM item"}"#,
    );
    assert_eq!((status, body.trim()), (200, r#"{"name":"a"}"#));
    let log = server.stop();
    assert!(log.contains("/v1/insert") && log.contains("request_id"), "requests are logged with ids: {log}");
    assert!(!d.join("db/rem.server.json").exists(), "the endpoint file is removed on exit");
    // With the server gone the commands open the file again.
    assert_eq!(ok(d, &["count", "item"]), json!(1));
}

#[test]
fn four_processes_at_once_never_see_half_a_batch() {
    let dir = setup();
    let d = dir.path().to_path_buf();
    let server = Server::start(&d, &[]);
    const ROWS: usize = 40;
    let until = Instant::now() + Duration::from_secs(6);
    let writer = |w: usize| {
        let d = d.clone();
        std::thread::spawn(move || {
            let mut committed = 0;
            let mut b = 0;
            while Instant::now() < until {
                let batch = w * 10_000 + b;
                let file = d.join(format!("batch-{batch}.jsonl"));
                let rows: String = (0..ROWS)
                    .map(|i| format!("{}\n", json!({"name": format!("{batch}-{i}"), "batch": batch, "n": i})))
                    .collect();
                std::fs::write(&file, rows).unwrap();
                let out = rem(&d, &["insert", "item", "--batch", file.to_str().unwrap()]);
                assert!(out.status.success(), "writer {w}: {}", stderr_of(&out));
                committed += 1;
                b += 1;
            }
            committed
        })
    };
    let reader = |r: usize| {
        let d = d.clone();
        std::thread::spawn(move || {
            let mut reads = 0;
            while Instant::now() < until {
                let rows = ok(&d, &["query", "SELECT batch, COUNT(*) AS c FROM item GROUP BY batch"]);
                for row in rows.as_array().unwrap() {
                    assert_eq!(row["c"], json!(ROWS), "reader {r} saw part of a batch: {row}");
                }
                let hits = ok(&d, &["search", "7-1", "--table", "item", "-k", "3"]);
                assert!(hits.as_array().unwrap().len() <= 3);
                reads += 1;
            }
            reads
        })
    };
    let handles = [writer(1), writer(2), reader(1), reader(2)];
    let counts: Vec<usize> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(counts.iter().all(|&c| c > 0), "every process got work done: {counts:?}");
    let batches = counts[0] + counts[1];
    assert_eq!(ok(&d, &["count", "item"]), json!(batches * ROWS), "every committed row is there");
    server.stop();
}

#[test]
fn a_server_killed_mid_batch_leaves_the_batch_whole_or_absent() {
    let dir = setup();
    let d = dir.path();
    let mut server = Server::start_logging(d, &[], "rem_server=debug");
    const ROWS: usize = 20_000;
    let file = big_batch(d, ROWS);
    let client = cmd(d)
        .args(["insert", "item", "--batch", file.to_str().unwrap()])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Kill the server once it has the batch (about 2 s of work).
    wait_for_call(&server, "insert-batch");
    server.child.kill().unwrap();
    server.child.wait().unwrap();
    let out = client.wait_with_output().unwrap();
    if !out.status.success() {
        let err = stderr_of(&out);
        assert!(err.contains("cannot reach the REM server"), "a clear connection error: {err}");
    }
    // The stale endpoint file is passed over; the file opens (repaired if need be).
    let n = ok(d, &["count", "item"]).as_u64().unwrap();
    eprintln!("after the kill: {n} rows, client {}", out.status);
    assert!(n == 0 || n == ROWS as u64, "the batch is wholly absent or present, not {n} rows");
    assert_eq!(out.status.success(), n == ROWS as u64, "the client reported success only if the batch committed");
    drop(server);
}

#[test]
fn a_second_server_is_refused_naming_the_first() {
    let dir = setup();
    let d = dir.path();
    let first = Server::start(d, &[]);
    let out = rem(d, &["serve", "--listen", "127.0.0.1:0"]);
    assert!(!out.status.success());
    let err = stderr_of(&out);
    assert!(
        err.contains(&format!("already served by process {}", first.child.id())) && err.contains(&first.url),
        "{err}"
    );
    first.stop();
}

#[test]
fn a_stale_endpoint_file_falls_back_to_the_file() {
    let dir = setup();
    let d = dir.path();
    let mut gone = Command::new("true").spawn().unwrap();
    let dead = gone.id();
    gone.wait().unwrap();
    let endpoint = d.join("db/rem.server.json");
    std::fs::write(&endpoint, json!({"url": "http://127.0.0.1:9", "pid": dead}).to_string()).unwrap();
    assert_eq!(ok(d, &["count", "item"]), json!(0));
    assert!(endpoint.exists(), "a stale endpoint file is ignored, not removed (a server may be replacing it)");
    // A live process that serves nothing there (this test): its endpoint does not answer, so
    // the file is opened.
    std::fs::write(&endpoint, json!({"url": "http://127.0.0.1:9", "pid": std::process::id()}).to_string()).unwrap();
    assert_eq!(ok(d, &["count", "item"]), json!(0));
}

#[test]
fn off_loopback_every_route_needs_the_token() {
    let dir = setup();
    let d = dir.path();
    let refused = rem(d, &["serve", "--listen", "0.0.0.0:0"]);
    assert!(!refused.status.success());
    assert!(stderr_of(&refused).contains("without a token"), "{}", stderr_of(&refused));
    let token_file = d.join("token");
    std::fs::write(&token_file, "s3cret-token-value\n").unwrap();
    let mut c = cmd(d);
    c.args(["serve", "--listen", "0.0.0.0:0", "--token-file", token_file.to_str().unwrap()]).env("P8_LOG", "debug");
    let log = d.join("serve.log");
    let child = c.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
    let mut server = Server { child, url: String::new(), log: log.clone() };
    let started = Instant::now();
    while !d.join("db/rem.server.json").exists() {
        assert!(started.elapsed() < Duration::from_secs(60), "no endpoint: {}", read(&log));
        std::thread::sleep(Duration::from_millis(20));
    }
    let endpoint: Value = serde_json::from_str(&read(&d.join("db/rem.server.json"))).unwrap();
    assert!(!read(&d.join("db/rem.server.json")).contains("s3cret"), "the token stays in its own file");
    server.url = endpoint["url"].as_str().unwrap().to_string();
    let port = server.url.rsplit(':').next().unwrap().to_string();
    let addr = format!("127.0.0.1:{port}");
    for (method, path) in [("GET", "/v1/health"), ("POST", "/v1/count"), ("POST", "/v1/insert"), ("GET", "/nowhere")] {
        let (status, body) = http(&addr, method, path, &[], r#"{"table": "item"}"#);
        assert_eq!(status, 401, "{method} {path}: {body}");
        let (status, _) = http(&addr, method, path, &[("Authorization", "Bearer wrong")], r#"{"table": "item"}"#);
        assert_eq!(status, 401, "{method} {path} with a wrong token");
    }
    let (status, body) =
        http(&addr, "POST", "/v1/count", &[("Authorization", "Bearer s3cret-token-value")], r#"{"table": "item"}"#);
    assert_eq!((status, body.as_str()), (200, "0"));
    // Local clients read the token file the endpoint names; explicit clients pass the token.
    assert_eq!(ok(d, &["count", "item"]), json!(0));
    let out = Command::new(BIN)
        .args(["--server", &format!("http://{addr}"), "count", "item"])
        .env("P8_SERVER_TOKEN", "s3cret-token-value")
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "0", "{}", stderr_of(&out));
    let out = Command::new(BIN).args(["--server", &format!("http://{addr}"), "count", "item"]).output().unwrap();
    assert!(stderr_of(&out).contains("refused the request"), "{}", stderr_of(&out));
    let log_text = server.stop();
    assert!(!log_text.contains("s3cret"), "the token never appears in the log");
}

#[test]
fn a_held_database_is_waited_for_then_named() {
    let dir = setup();
    let d = dir.path();
    // This test process holds the database.
    let held = rem_host::Database::open(
        rem_host::OpenOptions::at(d.join("db")).embeddings(rem_host::Embeddings::new(Some("hash:64".into()), None)),
    )
    .unwrap();
    let t = Instant::now();
    let out = rem(d, &["--wait", "300", "count", "item"]);
    assert!(t.elapsed() >= Duration::from_millis(300), "it waited");
    let err = stderr_of(&out);
    assert!(err.contains(&format!("held by process {}", std::process::id())) && err.contains("rem serve"), "{err}");
    // Released while another process waits: that one goes on.
    let releaser = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        drop(held);
    });
    let out = cmd(d).args(["--wait", "20000", "count", "item"]).output().unwrap();
    releaser.join().unwrap();
    assert!(out.status.success(), "{}", stderr_of(&out));
}

#[test]
fn an_oversized_request_gets_413_and_a_clear_error() {
    let dir = setup();
    let d = dir.path();
    let server = Server::start(d, &["--max-body-mib", "1"]);
    let file = d.join("wide.jsonl");
    let rows: String =
        (0..3000).map(|i| format!("{}\n", json!({"name": format!("{i}-{}", "x".repeat(400))}))).collect();
    std::fs::write(&file, rows).unwrap();
    let out = rem(d, &["insert", "item", "--batch", file.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(stderr_of(&out).contains("larger than this server accepts"), "{}", stderr_of(&out));
    assert_eq!(ok(d, &["count", "item"]), json!(0));
    let (status, _) = http(&addr_of(&server.url), "POST", "/v1/count", &[], &"x".repeat(2 << 20));
    assert_eq!(status, 413);
    server.stop();
}

#[test]
fn a_unix_socket_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = setup();
    let d = dir.path();
    let sock = d.join("rem.sock");
    let server = Server::start(d, &["--socket", sock.to_str().unwrap()]);
    assert_eq!(std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777, 0o600);
    let mut s = std::os::unix::net::UnixStream::connect(&sock).unwrap();
    s.write_all(b"GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").unwrap();
    let mut first = String::new();
    std::io::BufReader::new(s).read_line(&mut first).unwrap();
    assert!(first.contains(" 200 "), "{first}");
    server.stop();
    assert!(!sock.exists(), "the socket is removed on exit");
}

/// An OpenAI-compatible `/v1/embeddings` on loopback answering model `letters` with the
/// conformance suite's letter counts; it checks the key and model it is sent, and answers 400
/// to anything else. Returns its base URL.
fn letters_endpoint() -> String {
    let addr = rem_tests::stub::start(|_, req| {
        let body = &req.body;
        if !(req.line.starts_with("POST /v1/embeddings ")
            && req.authorization == "Bearer stub-key"
            && body["model"] == "letters")
        {
            return ("400 Bad Request", json!({"error": {"message": format!("unexpected request {req:?}")}}));
        }
        let data: Vec<Value> = body["input"]
            .as_array()
            .unwrap()
            .iter()
            .enumerate()
            .map(|(i, t)| {
                let mut v = vec![0f32; 26];
                for c in t.as_str().unwrap().to_lowercase().chars() {
                    if c.is_ascii_lowercase() {
                        v[(c as u8 - b'a') as usize] += 1.0;
                    }
                }
                json!({"index": i, "embedding": v})
            })
            .collect();
        ("200 OK", json!({"data": data}))
    });
    format!("http://{addr}/v1")
}

/// One conformance step as a `rem` command against the server at `url`: the result as JSON, or
/// the error (kind, issues) from `--error-format json`.
fn cli_step(work: &Path, url: &str, op: &str, a: &Value) -> Result<Value, (String, Option<Value>)> {
    let s = |k: &str| a[k].as_str().unwrap().to_string();
    let mut args: Vec<String> = Vec::new();
    let direction = a["direction"].as_str().unwrap_or("out").to_string();
    let types = |args: &mut Vec<String>| {
        for t in a["rel_types"].as_array().into_iter().flatten() {
            args.extend(["--type".into(), t.as_str().unwrap().into()]);
        }
    };
    match op {
        "register_schema" => {
            let file = work.join(format!("schema-{}.json", s("name")));
            std::fs::write(&file, a["schema"].to_string()).unwrap();
            args.extend(["schema".into(), "add".into(), file.display().to_string(), "--name".into(), s("name")]);
        }
        "list_schemas" => args.extend(["schema".into(), "list".into()]),
        "get_schema" => args.extend(["schema".into(), "show".into(), s("name")]),
        "insert" => args.extend(["insert".into(), s("table"), a["data"].to_string()]),
        "insert_batch" => {
            let file = work.join("batch.jsonl");
            let rows: String = a["rows"].as_array().unwrap().iter().map(|r| format!("{r}\n")).collect();
            std::fs::write(&file, rows).unwrap();
            args.extend(["insert".into(), s("table"), "--batch".into(), file.display().to_string(), "--ids".into()]);
        }
        "get" => args.extend(["get".into(), s("id")]),
        "update" => args.extend(["update".into(), s("id"), a["patch"].to_string()]),
        "delete" => {
            args.extend(["delete".into(), s("id")]);
            if a["hard"].as_bool().unwrap_or(false) {
                args.push("--hard".into());
            }
        }
        "lookup" => args.extend(["lookup".into(), s("key")]),
        "count" => args.extend(["count".into(), s("table")]),
        "query" => {
            args.extend(["query".into(), s("sql")]);
            if let Some(p) = a.get("params") {
                args.extend(["--params".into(), p.to_string()]);
            }
        }
        "search" => {
            args.push("search".into());
            match a.get("text") {
                Some(t) => args.push(t.as_str().unwrap().into()),
                None => args.extend(["--vector".into(), a["vector"].to_string()]),
            }
            args.extend(["--table".into(), s("table"), "-k".into(), a["top_k"].as_u64().unwrap_or(10).to_string()]);
            if let Some(f) = a["filter"].as_str() {
                args.extend(["--where".into(), f.into()]);
            }
        }
        "add_edge" => {
            args.extend(["edge".into(), "add".into(), s("src"), s("dst"), s("rel_type")]);
            if let Some(p) = a.get("properties") {
                args.extend(["--props".into(), p.to_string()]);
            }
        }
        "traverse" => {
            args.extend([
                "traverse".into(),
                s("start"),
                "--depth".into(),
                a["depth"].to_string(),
                "--direction".into(),
                direction,
            ]);
            types(&mut args);
        }
        "shortest_path" => {
            args.extend(["path".into(), s("source"), s("target"), "--direction".into(), direction]);
            args.extend(["--max-depth".into(), a["max_depth"].to_string()]);
            if a["weighted"].as_bool().unwrap_or(false) {
                args.push("--weighted".into());
            }
            types(&mut args);
        }
        other => panic!("the suite uses op {other:?}, which the CLI runner does not know"),
    }
    let out = Command::new(BIN)
        .args(["--server", url, "--error-format", "json"])
        .args(&args)
        .env_remove("P8_SERVER")
        .output()
        .unwrap();
    if !out.status.success() {
        let err: Value = serde_json::from_slice(&out.stderr)
            .unwrap_or_else(|e| panic!("rem {args:?}: stderr is not a JSON error ({e}): {}", stderr_of(&out)));
        let kind = err["error"]["kind"].as_str().unwrap().to_string();
        // The CLI reports a missing entity of `rem get` as not_found; the API answers null.
        if op == "get" && kind == "not_found" {
            return Ok(Value::Null);
        }
        return Err((kind, err["error"].get("issues").cloned()));
    }
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    Ok(match op {
        "list_schemas" => Value::Array(v.as_array().unwrap().iter().map(|r| r["name"].clone()).collect()),
        "insert_batch" => v["ids"].clone(),
        _ => v,
    })
}

#[test]
fn the_cli_passes_the_conformance_suite_through_a_server() {
    let suite: Value = serde_json::from_str(rem_core::suites::CONFORMANCE).unwrap();
    // The server cannot call the suite's in-process letters function: it is served to it by an
    // OpenAI-compatible endpoint instead, as model openai:letters.
    let model = suite["model"].as_str().unwrap();
    let suite = rem_core::suites::CONFORMANCE.replace(model, "openai:letters");
    let dir = tempfile::tempdir().unwrap();
    ok(dir.path(), &["init", "--no-core"]);
    let base = letters_endpoint();
    let mut c = cmd(dir.path());
    let log = dir.path().join("serve.log");
    c.args(["serve", "--listen", "127.0.0.1:0"])
        .env("P8_DEFAULT_EMBEDDING", "openai:letters")
        .env("P8_OPENAI_BASE_URL", &base)
        .env("P8_OPENAI_API_KEY", "stub-key");
    let child = c.stdout(Stdio::null()).stderr(std::fs::File::create(&log).unwrap()).spawn().unwrap();
    let mut server = Server { child, url: String::new(), log };
    let started = Instant::now();
    while server.url.is_empty() {
        if let Ok(v) = serde_json::from_str::<Value>(&read(&dir.path().join("db/rem.server.json"))) {
            server.url = v["url"].as_str().unwrap().to_string();
        }
        assert!(started.elapsed() < Duration::from_secs(60), "no server: {}", read(&server.log));
        std::thread::sleep(Duration::from_millis(20));
    }
    let url = server.url.clone();
    rem_core::suites::run_suite(&suite, |op, args| cli_step(dir.path(), &url, op, args));
    server.stop();
}

#[test]
fn sigterm_finishes_the_calls_in_flight_before_stopping() {
    let dir = setup();
    let d = dir.path();
    let server = Server::start_logging(d, &[], "rem_server=debug");
    const ROWS: usize = 80_000;
    let file = big_batch(d, ROWS);
    let mut client = cmd(d)
        .args(["insert", "item", "--batch", file.to_str().unwrap()])
        .stderr(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // SIGTERM once the server has the batch (several seconds of work): it finishes it first.
    wait_for_call(&server, "insert-batch");
    assert!(client.try_wait().unwrap().is_none(), "the batch is still in flight");
    let log = server.stop();
    let out = client.wait_with_output().unwrap();
    assert!(out.status.success(), "the call in flight finished: {} / {log}", stderr_of(&out));
    assert!(log.contains("shutting down"), "{log}");
    assert_eq!(ok(d, &["count", "item"]), json!(ROWS), "and committed whole");
}

#[test]
fn ingest_goes_through_the_server() {
    let dir = setup();
    let d = dir.path();
    let notes = d.join("notes");
    std::fs::create_dir(&notes).unwrap();
    std::fs::write(notes.join("tides.md"), "# Tides\n\nThe moon pulls the oceans into two bulges.\n").unwrap();
    let server = Server::start(d, &[]);
    let summary = ok(d, &["ingest", notes.to_str().unwrap()]);
    assert_eq!((summary["ingested"].as_u64(), summary["chunks"].as_u64()), (Some(1), Some(1)), "{summary}");
    let hits = ok(d, &["search", "moon oceans", "--table", "resources", "-k", "1"]);
    assert!(hits[0]["properties"]["content"].as_str().unwrap().contains("two bulges"), "{hits}");
    // Unchanged on a second run, as in process.
    assert_eq!(ok(d, &["ingest", notes.to_str().unwrap()])["skipped_unchanged"], json!(1));
    let log = server.stop();
    assert!(log.contains("/v1/write-document"), "the document was written by the server: {log}");
}

#[test]
fn a_client_gone_mid_upload_writes_nothing() {
    let dir = setup();
    let d = dir.path();
    let server = Server::start(d, &[]);
    let rows: Vec<String> = (0..100).map(|i| json!({"name": format!("r{i}")}).to_string()).collect();
    let body = json!({"table": "item", "rows": rows}).to_string();
    let mut s = std::net::TcpStream::connect(addr_of(&server.url)).unwrap();
    let head = format!(
        "POST /v1/insert-batch HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&body.as_bytes()[..body.len() / 2]).unwrap();
    drop(s);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(ok(d, &["count", "item"]), json!(0));
    server.stop();
}

#[test]
fn backup_and_compaction_go_through_the_server() {
    let dir = setup();
    let d = dir.path();
    let server = Server::start(d, &[]);
    ok(d, &["insert", "item", "--batch", big_batch(d, 2000).to_str().unwrap()]);
    // A backup while the server runs: a consistent copy that opens and checks clean.
    let dest = d.join("copy");
    let report = ok(d, &["backup", dest.to_str().unwrap()]);
    assert!(report["keys"].as_u64().unwrap() >= 2000, "{report}");
    let copy = |args: &[&str]| -> Value {
        let out = Command::new(BIN)
            .arg("--path")
            .arg(&dest)
            .args(args)
            .env("P8_DEFAULT_EMBEDDING", "hash:64")
            .env_remove("P8_SERVER")
            .output()
            .unwrap();
        assert!(out.status.success(), "rem {args:?} on the copy: {}", stderr_of(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    assert_eq!(copy(&["count", "item"]), json!(2000));
    assert_eq!(copy(&["check"])["ok"], json!(true));
    // Not over an existing path without --force, and never a relative path sent as is.
    let again = rem(d, &["backup", dest.to_str().unwrap()]);
    assert!(!again.status.success() && stderr_of(&again).contains("already exists"), "{}", stderr_of(&again));
    let (status, body) = http(&addr_of(&server.url), "POST", "/v1/backup", &[], r#"{"dest": "relative/copy"}"#);
    assert!(status == 400 && body.contains("absolute path"), "{status} {body}");

    // Compaction with the server holding the file: the space of deleted rows comes back.
    ok(d, &["query", "--write", "DELETE FROM item HARD"]);
    let report = ok(d, &["compact"]);
    let (before, after) = (report["file_bytes_before"].as_u64().unwrap(), report["file_bytes_after"].as_u64().unwrap());
    assert!(after < before, "{report}");
    assert_eq!(ok(d, &["count", "item"]), json!(0), "the server answers after compacting");
    let log = server.stop();
    assert!(log.contains("/v1/backup") && log.contains("/v1/compact"), "both ran in the server: {log}");
}
