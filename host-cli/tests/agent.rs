//! `rem ask`, `rem dream` and `rem mcp` as a user runs them: the real binary, a database in a
//! temp dir, and a local OpenAI-compatible stub that checks what it receives.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::{Value, json};

fn rem(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rem"));
    cmd.arg("--path").arg(dir.join("db")).args(args);
    for k in ["P8_DB_PATH", "P8_TENANT_ID", "P8_SERVER", "P8_DEFAULT_LLM", "P8_OPENAI_BASE_URL", "P8_OPENAI_API_KEY"] {
        cmd.env_remove(k);
    }
    cmd.env("P8_DEFAULT_EMBEDDING", "hash:32");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run rem")
}

fn ok(dir: &Path, env: &[(&str, String)], args: &[&str]) -> Value {
    let out = rem(dir, env, args);
    assert!(out.status.success(), "rem {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// A database with the core schemas and a short conversation.
fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    ok(d, &[], &["init"]);
    ok(d, &[], &["insert", "sessions", r#"{"session_id": "s1", "user_id": "u"}"#]);
    for (i, (role, content)) in
        [("user", "Which database should we use?"), ("assistant", "REM, it keeps memory.")].iter().enumerate()
    {
        let row = json!({"message_id": format!("m{i}"), "session_id": "s1", "role": role, "content": content,
                         "timestamp": format!("2026-12-07T09:0{i}:00.000000Z")});
        ok(d, &[], &["insert", "messages", &row.to_string()]);
    }
    dir
}

/// A stub answering chat completions from `answer(user message)`; requests are checked.
fn llm(answer: fn(&str) -> Value) -> Vec<(&'static str, String)> {
    let addr = rem_tests::stub::start(move |_, req| {
        assert_eq!(req.line, "POST /v1/chat/completions HTTP/1.1");
        assert_eq!(req.authorization, "Bearer sk-cli-test");
        assert_eq!(req.body["model"], "stub-model");
        let user = req.body["messages"].as_array().unwrap().iter().rev().find(|m| m["role"] == "user").unwrap();
        let content = answer(user["content"].as_str().unwrap()).to_string();
        ("200 OK", json!({"choices": [{"message": {"role": "assistant", "content": content}}]}))
    });
    vec![
        ("P8_OPENAI_BASE_URL", format!("http://{addr}/v1")),
        ("P8_OPENAI_API_KEY", "sk-cli-test".into()),
        ("P8_DEFAULT_LLM", "stub-model".into()),
    ]
}

fn answer(user: &str) -> Value {
    if user.starts_with("Activity:") {
        json!({"moments": [{"name": "Choosing a database", "summary": "They chose REM.", "moment_type": "planning",
                            "session_ids": ["s1"]}],
               "summary": "A short decision.", "edges": []})
    } else {
        json!({"query": "SELECT content FROM messages WHERE role = 'assistant'", "query_type": "select",
               "confidence": 0.9, "reasoning": "role is indexed", "requires_search": false})
    }
}

#[test]
fn ask_without_a_model_says_what_to_set() {
    let dir = setup();
    let out = rem(dir.path(), &[], &["ask", "what was decided?"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no LLM configured") && err.contains("P8_DEFAULT_LLM"), "{err}");
    assert!(err.contains("hint:") && err.contains("P8_OPENAI_BASE_URL"), "{err}");
    let out = rem(dir.path(), &[], &["--error-format", "json", "ask", "q"]);
    let e: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(e["error"]["kind"], "llm");
}

#[test]
fn ask_plans_checks_and_runs() {
    let dir = setup();
    let env = llm(answer);
    let plan = ok(dir.path(), &env, &["ask", "what did the assistant say?", "--plan"]);
    assert_eq!(plan["query"], "SELECT content FROM messages WHERE role = 'assistant'");
    assert_eq!(plan["query_type"], "select");
    assert!(plan.get("results").is_none(), "--plan does not run the query");
    let out = ok(dir.path(), &env, &["ask", "what did the assistant say?"]);
    assert_eq!(out["results"], json!([{"content": "REM, it keeps memory."}]));
    assert_eq!(out["stages"][0]["rows"], 1);
    let table = rem(dir.path(), &env, &["ask", "what did the assistant say?", "--format", "table"]);
    assert!(table.status.success());
    assert!(String::from_utf8_lossy(&table.stdout).contains("REM, it keeps memory."));
    assert!(String::from_utf8_lossy(&table.stderr).contains("query: SELECT content FROM messages"));
}

#[test]
fn dream_dry_run_then_write_then_again() {
    let dir = setup();
    let env = llm(answer);
    let window = ["dream", "--start", "2026-12-07", "--end", "2026-12-07"];
    let dry = ok(dir.path(), &env, &[&window[..], &["--dry-run"]].concat());
    assert_eq!(dry["dry_run"], true);
    assert_eq!(dry["writes"]["moments"][0]["name"], "Choosing a database");
    assert_eq!(ok(dir.path(), &[], &["count", "moments"]), json!(0), "a dry run writes nothing");
    let report = ok(dir.path(), &env, &window);
    assert_eq!((report["messages"].as_u64(), report["moments_written"].as_u64()), (Some(2), Some(1)));
    assert!(report.get("writes").is_none(), "the rows are shown with --verbose or --dry-run only");
    ok(dir.path(), &env, &window);
    assert_eq!(ok(dir.path(), &[], &["count", "moments"]), json!(2), "the same window updates, not duplicates");
    let bad = rem(dir.path(), &env, &["dream", "--start", "2026-12-07"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("--end"));
    let bad = rem(dir.path(), &env, &["dream", "--start", "yesterday", "--end", "2026-12-07"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("neither a date"));
}

#[test]
fn mcp_answers_json_rpc_on_stdio() {
    let dir = setup();
    let mut child = Command::new(env!("CARGO_BIN_EXE_rem"))
        .arg("--path")
        .arg(dir.path().join("db"))
        .arg("mcp")
        .env("P8_DEFAULT_EMBEDDING", "hash:32")
        .env_remove("P8_SERVER")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut send = |v: Value| writeln!(stdin, "{v}").unwrap();
    let mut read = || {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str::<Value>(&line).unwrap()
    };
    send(json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18",
        "capabilities": {}, "clientInfo": {"name": "cli-test", "version": "0"}}}));
    let init = read();
    assert_eq!(init["result"]["serverInfo"]["name"], "rem");
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    send(json!({"jsonrpc": "2.0", "method": "notifications/initialized"}));
    send(json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call",
                "params": {"name": "query", "arguments": {"sql": "SELECT COUNT(*) AS n FROM messages"}}}));
    let call = read();
    assert_eq!(call["id"], 2);
    assert_eq!(call["result"]["isError"], false);
    assert_eq!(call["result"]["content"][0]["text"], r#"[{"n":2}]"#);
    drop(stdin);
    assert!(child.wait().unwrap().success(), "closing stdin ends the server");
}
