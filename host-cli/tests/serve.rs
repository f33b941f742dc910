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
        let log = dir.join(format!("serve-{}.log", fastrand_name()));
        let mut c = cmd(dir);
        c.args(["serve", "--listen", "127.0.0.1:0"]).args(args).env("P8_LOG", "info");
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
    let mut server = Server::start(d, &[]);
    const ROWS: usize = 20_000;
    let file = d.join("big.jsonl");
    let rows: String =
        (0..ROWS).map(|i| format!("{}\n", json!({"name": format!("big-{i}"), "batch": 1, "n": i}))).collect();
    std::fs::write(&file, rows).unwrap();
    let client = cmd(d)
        .args(["insert", "item", "--batch", file.to_str().unwrap()])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    // Kill the server while the batch is on its way or being written (about 2 s of work).
    std::thread::sleep(Duration::from_millis(400));
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
    assert!(!endpoint.exists(), "the stale endpoint file is removed");
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
