use rem_host::{Database, Error, OpenOptions};
use rem_tests::{parse, person_schema};
use serde_json::json;

#[test]
fn data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = Database::open_path(dir.path()).unwrap();
        db.register_schema("person", &person_schema().to_string()).unwrap();
        db.insert("person", &json!({"name": "Alice", "age": 30}).to_string()).unwrap();
    }
    let db = Database::open_path(dir.path()).unwrap();
    assert_eq!(db.count("person").unwrap(), 1);
    assert_eq!(parse(&db.lookup("Alice").unwrap()[0])["properties"]["age"], 30);
}

#[test]
fn second_handle_is_refused_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let _first = Database::open_path(dir.path()).unwrap();
    match Database::open_path(dir.path()) {
        Err(Error::Locked { path, holder }) => {
            assert_eq!(path, dir.path());
            assert_eq!(holder, Some(std::process::id()));
        }
        Err(other) => panic!("expected Locked, got {other:?}"),
        Ok(_) => panic!("a second handle opened a locked database"),
    }
}

#[test]
fn memory_cap_fails_the_call_and_the_database_stays_usable() {
    let db = Database::open(OpenOptions::in_memory().memory_limit(64 * 1024 * 1024)).unwrap();
    db.register_schema(
        "blob",
        &json!({"type": "object", "properties": {"name": {"type": "string"}, "data": {"type": "string"}}}).to_string(),
    )
    .unwrap();
    db.insert("blob", &json!({"name": "small", "data": "x"}).to_string()).unwrap();
    // A row of 80 MiB: the guest needs well over 64 MiB for it. Batches go to the engine in chunks
    // of at most 256 KiB of text, so the small row before it is written by an earlier engine call
    // of the same transaction, and must be rolled back with it.
    let big = "y".repeat(80 * 1024 * 1024);
    let rows: Vec<String> =
        vec![json!({"name": "fits", "data": "x"}).to_string(), json!({"name": "big", "data": big}).to_string()];
    let err = db.insert_batch("blob", &rows).unwrap_err();
    assert!(matches!(err, Error::ResourceExhausted(_)), "{err:?}");
    assert_eq!(db.count("blob").unwrap(), 1, "the failed call wrote nothing");
    db.insert("blob", &json!({"name": "after", "data": "z"}).to_string()).unwrap();
    assert_eq!(db.count("blob").unwrap(), 2);
}

#[test]
fn a_call_past_its_deadline_times_out_and_is_rolled_back() {
    let dir = tempfile::tempdir().unwrap();
    let schema = json!({"type": "object", "properties": {"k": {"type": "string"}, "text": {"type": "string"}}, "key_field": "k"});
    let rows: Vec<String> = (0..60_000)
        .map(|i| json!({"k": format!("k{i}"), "text": format!("row {i} of a long table")}).to_string())
        .collect();
    {
        let db = Database::open_path(dir.path()).unwrap();
        db.register_schema("t", &schema.to_string()).unwrap();
        db.insert_batch("t", &rows[..30_000]).unwrap();
    }
    let db =
        Database::open(OpenOptions::at(dir.path()).call_timeout(Some(std::time::Duration::from_millis(10)))).unwrap();
    // A full scan of 30,000 rows with a LIKE takes far longer than 10 ms.
    let err = db.query("SELECT COUNT(*) FROM t WHERE text LIKE '%of a long%' AND text LIKE '%row 1%'").unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    assert_eq!(err.kind(), "timeout");
    // A write past its deadline keeps nothing.
    let err = db.insert_batch("t", &rows[30_000..]).unwrap_err();
    assert!(matches!(err, Error::Timeout(_)), "{err:?}");
    // The handle keeps working, and the data is what it was.
    assert_eq!(db.count("t").unwrap(), 30_000);
    assert_eq!(db.lookup("k7").unwrap().len(), 1);
    assert!(db.lookup("k40000").unwrap().is_empty());
}

#[test]
fn bad_tenant_is_refused_at_open() {
    assert!(matches!(Database::open(OpenOptions::in_memory().tenant("")), Err(Error::InvalidArgument(_))));
    assert!(matches!(Database::open(OpenOptions::in_memory().tenant("x".repeat(129))), Err(Error::InvalidArgument(_))));
}

#[test]
fn the_write_pipeline_on_or_off_stores_the_same_rows() {
    // Enough rows that each engine call's writes reach the pipeline's threshold, with upserts of
    // rows written by an earlier chunk of the same transaction (read while a batch is in flight).
    let rows: Vec<String> =
        (0..6_000).map(|i| json!({"name": format!("p{}", i % 4_000), "age": i}).to_string()).collect();
    let mut answers = Vec::new();
    for pipeline in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let db = Database::open(OpenOptions::at(dir.path()).write_pipeline(pipeline)).unwrap();
        db.register_schema("person", &person_schema().to_string()).unwrap();
        db.insert_batch_with_progress("person", &rows, 1_000, &mut |_| {}).unwrap();
        assert_eq!(db.count("person").unwrap(), 4_000);
        answers.push(db.query("SELECT name, age FROM person ORDER BY name").unwrap());
    }
    assert_eq!(answers[0], answers[1]);
    assert!(answers[0].contains(r#"{"name":"p0","age":4000}"#), "the later row of a key wins");
}

/// A database file damaged on disk in several ways, then opened and used: every outcome is an
/// error naming the file (or a correct answer), never a panic, and the handle stays usable.
#[test]
fn a_damaged_file_is_a_storage_error_never_a_panic() {
    let hows = ["truncated", "header_zeroed", "middle_scrambled", "garbage"];
    for how in hows {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = Database::open_path(dir.path()).unwrap();
            db.register_schema("person", &person_schema().to_string()).unwrap();
            let rows: Vec<String> =
                (0..3000).map(|i| json!({"name": format!("p{i}"), "age": i % 90}).to_string()).collect();
            db.insert_batch("person", &rows).unwrap();
        }
        let file = dir.path().join("rem.redb");
        let mut data = std::fs::read(&file).unwrap();
        match how {
            "truncated" => data.truncate(data.len() / 3),
            "header_zeroed" => data[..4096].fill(0),
            "middle_scrambled" => {
                let mid = data.len() / 2;
                let end = (mid + 65536).min(data.len());
                for (i, b) in data[mid..end].iter_mut().enumerate() {
                    *b = (i * 131 + 7) as u8;
                }
            }
            _ => data = b"this is not a database".repeat(1000),
        }
        std::fs::write(&file, &data).unwrap();
        let outcome = std::panic::catch_unwind(|| match Database::open_path(dir.path()) {
            Err(e) => {
                assert_eq!(e.kind(), "storage", "{how}: {e}");
                assert!(e.to_string().contains("rem.redb"), "{how}: {e}");
            }
            Ok(db) => {
                for _ in 0..2 {
                    let _ = db.count("person");
                    let _ = db.query("SELECT name FROM person WHERE age > 10 ORDER BY age LIMIT 5");
                    let _ = db.list("person", Some(5000), 0);
                    let _ = db.insert("person", &json!({"name": "new", "age": 1}).to_string());
                }
            }
        });
        assert!(outcome.is_ok(), "{how}: a panic escaped rem-host");
    }
}

#[test]
fn database_folders_and_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b");
    drop(Database::open_path(&path).unwrap());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.path().join("a")), 0o700);
    assert_eq!(mode(&path), 0o700);
    assert_eq!(mode(&path.join("rem.redb")), 0o600);
}

/// The compiled-engine cache loads only what this user's REM wrote: a planted symlink is
/// replaced, not written through; a tampered artifact is compiled anew; a folder others can
/// write is not used.
#[test]
fn the_engine_cache_loads_only_verified_artifacts() {
    use rem_host::{Artifact, Runtime};
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let file = Runtime::artifact_path(&cache, false).unwrap();
    // A symlink planted where the artifact goes, pointing at a file that must survive.
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o700)).unwrap();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, b"keep me").unwrap();
    std::os::unix::fs::symlink(&victim, &file).unwrap();
    let first = Runtime::new(&cache, false).unwrap();
    assert!(matches!(&first.artifact, Artifact::Compiled(Some(p)) if p == &file), "{:?}", first.artifact);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep me");
    assert!(!std::fs::symlink_metadata(&file).unwrap().file_type().is_symlink());
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&file), 0o600);
    assert_eq!(mode(&cache.join("cache.key")), 0o600);
    // Verified: loaded.
    assert!(matches!(Runtime::new(&cache, false).unwrap().artifact, Artifact::Cached(_)));
    // One byte changed in the code: not loaded, compiled again and replaced.
    let mut bytes = std::fs::read(&file).unwrap();
    let n = bytes.len();
    bytes[n / 2] ^= 0x40;
    std::fs::write(&file, &bytes).unwrap();
    assert!(matches!(Runtime::new(&cache, false).unwrap().artifact, Artifact::Compiled(Some(_))));
    assert!(matches!(Runtime::new(&cache, false).unwrap().artifact, Artifact::Cached(_)));
    // A folder of one's own that others can write (an older REM's, under umask 002) is made
    // private, and its artifact is still verified.
    std::fs::set_permissions(&cache, std::fs::Permissions::from_mode(0o777)).unwrap();
    assert!(matches!(Runtime::new(&cache, false).unwrap().artifact, Artifact::Cached(_)));
    assert_eq!(mode(&cache), 0o700);
    // A folder that is a symlink is not used at all (compiled in memory).
    let link = dir.path().join("cache-link");
    std::os::unix::fs::symlink(&cache, &link).unwrap();
    assert!(matches!(Runtime::new(&link, false).unwrap().artifact, Artifact::Compiled(None)));
}
