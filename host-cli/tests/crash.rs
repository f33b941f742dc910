//! Crash test: kill `rem` in the middle of a large batch insert, reopen, and
//! check the batch is wholly absent or wholly present and the database opens.

use std::io::Write;
use std::process::{Command, Stdio};

use serde_json::json;

#[test]
fn killed_batch_is_all_or_nothing() {
    let schema = json!({"title": "Item", "type": "object", "key_field": "k", "properties": {"k": {"type": "string"}, "v": {"type": "string"}}});
    crash_mid_batch(schema, 200_000, &|_| {});
}

#[test]
fn killed_batch_leaves_vector_index_and_rows_in_step() {
    let schema = json!({
        "title": "Item", "type": "object", "key_field": "k",
        "properties": {"k": {"type": "string"}, "v": {"type": "string"}},
        "embedding_fields": ["v"], "embedding_provider": "hash:32"
    });
    crash_mid_batch(schema, 20_000, &|rem| {
        let count: u64 = serde_json::from_slice(&rem(&["count", "item"]).stdout).unwrap();
        let stats: serde_json::Value = serde_json::from_slice(&rem(&["index", "stats", "item"]).stdout).unwrap();
        assert_eq!(stats["live"].as_u64(), Some(count), "index and rows disagree after a kill: {stats}");
        let found: serde_json::Value =
            serde_json::from_slice(&rem(&["search", "payload 7", "--table", "item", "--top-k", "3"]).stdout).unwrap();
        assert_eq!(found.as_array().map(Vec::len), Some(3.min(count as usize)));
    });
}

type Rem<'a> = dyn Fn(&[&str]) -> std::process::Output + 'a;

/// Kill `rem insert --batch` of `rows` rows at several points; after each kill the batch
/// must be wholly absent or present, earlier data intact, and `check` must pass.
fn crash_mid_batch(schema: serde_json::Value, rows: u64, check: &dyn Fn(&Rem<'_>)) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db");
    let rem_at = |db: &std::path::Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_rem")).arg("--path").arg(db).args(args).output().unwrap()
    };
    let rem = |args: &[&str]| rem_at(&db, args);
    std::fs::write(dir.path().join("item.json"), schema.to_string()).unwrap();
    assert!(rem(&["init", "--no-core"]).status.success());
    assert!(rem(&["schema", "add", dir.path().join("item.json").to_str().unwrap()]).status.success());
    assert!(rem(&["insert", "item", r#"{"k": "before", "v": "x"}"#]).status.success());

    let mut file = std::io::BufWriter::new(std::fs::File::create(dir.path().join("big.jsonl")).unwrap());
    for i in 0..rows {
        writeln!(file, "{}", json!({"k": format!("k{i}"), "v": format!("payload {} {}", i % 97, "x ".repeat(8))}))
            .unwrap();
    }
    file.flush().unwrap();
    drop(file);

    let batch = |db: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_rem"))
            .arg("--path")
            .arg(db)
            .args(["insert", "item", "--batch", dir.path().join("big.jsonl").to_str().unwrap()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    // Time one complete run on a scratch database, so the kills below land
    // while the batch is being written (reading the input is the first ~20%).
    let scratch = dir.path().join("scratch");
    assert!(rem_at(&scratch, &["init", "--no-core"]).status.success());
    assert!(rem_at(&scratch, &["schema", "add", dir.path().join("item.json").to_str().unwrap()]).status.success());
    let started = std::time::Instant::now();
    assert!(batch(&scratch).wait().unwrap().success());
    let full = started.elapsed();

    let mut killed_mid_batch = 0;
    for fraction in [0.4, 0.7, 0.9] {
        let mut child = batch(&db);
        std::thread::sleep(full.mul_f64(fraction));
        if child.try_wait().unwrap().is_none() {
            killed_mid_batch += 1;
        }
        child.kill().unwrap(); // SIGKILL: no cleanup runs
        let _ = child.wait();

        let out = rem(&["count", "item"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "database must open after a kill: {stderr}");
        let n: u64 = serde_json::from_slice(&out.stdout).unwrap();
        assert!(n == 1 || n == rows + 1, "batch half-written: count {n} after a kill at {fraction} of a run");
        // redb recovers from the allocator state it saved at the last commit; only a full repair
        // (when that state is unusable) is reported, with its progress, on stderr.
        if !stderr.is_empty() {
            assert!(stderr.contains("repairing the database after an unclean shutdown"), "{stderr}");
        }
        let before = rem(&["lookup", "before"]);
        assert!(String::from_utf8_lossy(&before.stdout).contains("before"), "earlier data lost");
        check(&rem);
        // Every derived record (indexes, counts, vectors) agrees with the rows after the kill.
        let audit = rem(&["check"]);
        assert!(audit.status.success(), "rem check after a kill: {}", String::from_utf8_lossy(&audit.stdout));
        if n == rows + 1 {
            break; // the batch committed before the kill; later kills prove nothing more
        }
    }
    assert!(killed_mid_batch > 0, "no kill landed while the batch was running (full run took {full:?})");
}
