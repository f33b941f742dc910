//! Backup, restore and compaction of the database file (issue 27).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use rem_host::{Database, Error, OpenOptions};
use rem_tests::parse;
use serde_json::json;

const BATCH: usize = 50;

fn schema() -> String {
    json!({"type": "object", "key_field": "k", "indexed_fields": ["g"],
           "properties": {"k": {"type": "string"}, "g": {"type": "integer"}, "text": {"type": "string"}}})
    .to_string()
}

fn rows(from: usize, n: usize) -> Vec<String> {
    (from..from + n)
        .map(|i| json!({"k": format!("k{i:06}"), "g": i % 7, "text": "x".repeat(200)}).to_string())
        .collect()
}

#[test]
fn a_backup_is_one_commit_s_snapshot_while_writes_go_on_and_opens_as_a_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = Arc::new(Database::open_path(dir.path().join("live")).unwrap());
    db.register_schema("t", &schema()).unwrap();
    db.insert_batch("t", &rows(0, BATCH)).unwrap();
    // A second handle on the same file writes batches (one transaction each) while backups run.
    let writer = db.for_tenant("default").unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let done = stop.clone();
    let thread = std::thread::spawn(move || {
        let mut next = BATCH;
        while !done.load(Ordering::Relaxed) && next < 40 * BATCH {
            writer.insert_batch("t", &rows(next, BATCH)).unwrap();
            next += BATCH;
        }
    });
    for i in 0..4 {
        let dest = dir.path().join(format!("backup{i}"));
        let report = db.backup(&dest, false).unwrap();
        assert!(report.keys > 0 && report.file_bytes > 0);
        let copy = Database::open(OpenOptions::at(&dest).create(false)).unwrap();
        let n = copy.count("t").unwrap() as usize;
        assert_eq!(n % BATCH, 0, "a backup holds whole commits only ({n} rows)");
        // The copy's index agrees with its rows.
        let by_index: usize = (0..7)
            .map(|g| {
                parse(&copy.query(&format!("SELECT COUNT(*) AS n FROM t WHERE g = {g}")).unwrap())[0]["n"]
                    .as_u64()
                    .unwrap() as usize
            })
            .sum();
        assert_eq!(by_index, n);
        assert!(copy.lookup("k000000").unwrap().len() == 1);
    }
    stop.store(true, Ordering::Relaxed);
    thread.join().unwrap();
}

#[test]
fn backup_and_restore_refuse_to_overwrite_and_leave_nothing_half_written() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_path(dir.path().join("live")).unwrap();
    db.register_schema("t", &schema()).unwrap();
    db.insert_batch("t", &rows(0, 10)).unwrap();
    let dest = dir.path().join("b");
    db.backup(&dest, false).unwrap();
    // An existing destination needs force; a directory that is not a database is never replaced.
    match db.backup(&dest, false) {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("--force"), "{m}"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    db.insert_batch("t", &rows(10, 5)).unwrap();
    db.backup(&dest, true).unwrap();
    let other = dir.path().join("not-a-db");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("notes.txt"), "mine").unwrap();
    assert!(matches!(db.backup(&other, true), Err(Error::InvalidArgument(_))));
    assert_eq!(std::fs::read_to_string(other.join("notes.txt")).unwrap(), "mine");
    // A destination that cannot be made fails cleanly, leaving no partial directory.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    assert!(db.backup(&blocker.join("sub"), false).is_err());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A forced backup over a database replaces its file only, keeping the folder's other files.
    std::fs::write(dest.join("notes.txt"), "kept").unwrap();
    db.backup(&dest, true).unwrap();
    assert_eq!(std::fs::read_to_string(dest.join("notes.txt")).unwrap(), "kept");
    // Never into a folder holding the database being copied.
    assert!(matches!(db.backup(dir.path(), true), Err(Error::InvalidArgument(_))));
    // The database itself is never a backup's destination; an open database is never replaced.
    assert!(matches!(db.backup(&dir.path().join("live"), true), Err(Error::InvalidArgument(_))));
    // Restore: into a new path; over a database only with force; never over an open one.
    let restored = dir.path().join("restored");
    let report = rem_host::restore(&dest, &restored, false, None).unwrap();
    assert_eq!(report.path, restored);
    {
        let back = Database::open(OpenOptions::at(&restored).create(false)).unwrap();
        assert_eq!(back.count("t").unwrap(), 15);
        assert_eq!(back.lookup("k000003").unwrap().len(), 1);
    }
    assert!(matches!(rem_host::restore(&dest, &restored, false, None), Err(Error::InvalidArgument(_))));
    rem_host::restore(&dest, &restored, true, None).unwrap();
    assert!(matches!(rem_host::restore(&dest, &dir.path().join("live"), true, None), Err(Error::Locked { .. })));
    assert!(matches!(
        rem_host::restore(&dir.path().join("nothing"), &dir.path().join("r2"), false, None),
        Err(Error::DatabaseNotFound { .. })
    ));
    assert_eq!(db.count("t").unwrap(), 15, "the live database is untouched");
}

#[test]
fn compaction_gives_back_the_space_of_deleted_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = Database::open_path(dir.path()).unwrap();
    db.register_schema("t", &schema()).unwrap();
    for i in 0..10 {
        db.insert_batch("t", &rows(i * 500, 500)).unwrap();
    }
    db.execute("DELETE FROM t WHERE g != 0 HARD", None).unwrap();
    let report = db.compact().unwrap();
    let (before, after) = (report.file_bytes_before.unwrap(), report.file_bytes_after.unwrap());
    assert!(after < before, "compaction shrank the file: {before} -> {after}");
    // The handle works on after compaction, with every row and index entry in place.
    assert_eq!(db.count("t").unwrap(), 715);
    assert_eq!(parse(&db.query("SELECT COUNT(*) AS n FROM t WHERE g = 0").unwrap())[0]["n"], 715);
    // Another handle on the file keeps it from compacting.
    let other = db.for_tenant("default").unwrap();
    match db.compact() {
        Err(Error::InvalidArgument(m)) => assert!(m.contains("close them"), "{m}"),
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
    drop(other);
    assert!(db.compact().is_ok());
    // In memory there is no file to measure.
    let mem = Database::in_memory().unwrap();
    assert!(mem.compact().unwrap().file_bytes_after.is_none());
}
