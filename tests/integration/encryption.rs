//! Encryption at rest (issue 27): nothing readable in an encrypted file or its backup, a wrong
//! or missing password changes nothing, tampering is an error (never wrong data), and a new
//! password rewrites only the header.

use std::path::Path;

use rem_host::crypto::Password;
use rem_host::crypto::backend::STORED;
use rem_host::crypto::header::HEADER;
use rem_host::{Database, Error, OpenOptions};
use rem_tests::parse;
use serde_json::json;

const TABLE: &str = "markertable";
const MARKERS: [&str; 5] = ["MARKERKEYzq", "MARKERTAGzq", "MARKERBODYzq", "MARKEREDGEzq", TABLE];

fn password(text: &str) -> Password {
    Password::new(text).unwrap()
}

fn open(dir: &Path, pw: Option<&str>) -> rem_host::Result<Database> {
    let mut options = OpenOptions::at(dir);
    options.password = pw.map(password);
    Database::open(options)
}

/// A table with a natural key, an indexed field, an embedded field and an edge, each holding a
/// marker; returns the row's stored vector.
fn fill(db: &Database) -> Vec<f32> {
    let schema = json!({"type": "object", "key_field": "name", "indexed_fields": ["tag"], "embedding_fields": ["body"],
        "embedding_provider": "hash:64",
        "properties": {"name": {"type": "string"}, "tag": {"type": "string"}, "body": {"type": "string"}}});
    db.register_schema(TABLE, &schema.to_string()).unwrap();
    let row = json!({"name": MARKERS[0], "tag": MARKERS[1], "body": format!("{} words", MARKERS[2])});
    let id = parse(&db.insert(TABLE, &row.to_string()).unwrap())["id"].as_str().unwrap().to_string();
    db.add_edge(&id, &id, MARKERS[3], None).unwrap();
    db.get_vectors(std::slice::from_ref(&id)).unwrap()[0].clone().expect("the row has a vector")
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// What of the markers and the vector's bytes `bytes` holds.
fn readable(bytes: &[u8], vector: &[f32]) -> Vec<String> {
    let mut found: Vec<String> =
        MARKERS.iter().filter(|m| contains(bytes, m.as_bytes())).map(|m| m.to_string()).collect();
    let head: Vec<u8> = vector[..4].iter().flat_map(|x| x.to_le_bytes()).collect();
    if contains(bytes, &head) {
        found.push("the vector's bytes".into());
    }
    found
}

fn file(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join("rem.redb")).unwrap()
}

#[test]
fn an_encrypted_file_and_its_backup_hold_nothing_readable() {
    let dir = tempfile::tempdir().unwrap();
    // The same data in a plain file is found by the same search (so the search can fail).
    let plain = open(&dir.path().join("plain"), None).unwrap();
    let vector = fill(&plain);
    drop(plain);
    assert_eq!(readable(&file(&dir.path().join("plain")), &vector).len(), MARKERS.len() + 1);

    let secret = dir.path().join("secret");
    let db = open(&secret, Some("correct horse")).unwrap();
    let vector = fill(&db);
    assert!(db.is_encrypted());
    db.backup(&dir.path().join("backup"), false).unwrap();
    drop(db);
    assert_eq!(readable(&file(&secret), &vector), Vec::<String>::new());
    let backup = file(&dir.path().join("backup"));
    assert_eq!(readable(&backup, &vector), Vec::<String>::new());
    assert!(backup.starts_with(b"REMCRYPT"));
    // The backup opens with the same password and holds the row.
    let copy = open(&dir.path().join("backup"), Some("correct horse")).unwrap();
    assert_eq!(copy.lookup(MARKERS[0]).unwrap().len(), 1);
    assert_eq!(parse(&copy.check(10).unwrap())["ok"], true);
}

#[test]
fn a_missing_or_wrong_password_is_a_clear_error_that_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Some("right one")).unwrap();
    fill(&db);
    drop(db);
    let before = file(dir.path());
    match open(dir.path(), None) {
        Err(Error::Password(m)) => assert!(m.contains("is encrypted"), "{m}"),
        other => panic!("expected a password error, got {:?}", other.map(|_| ())),
    }
    match open(dir.path(), Some("wrong one")) {
        Err(Error::Password(m)) => assert!(m.contains("wrong password") && !m.contains("wrong one"), "{m}"),
        other => panic!("expected a password error, got {:?}", other.map(|_| ())),
    }
    assert!(file(dir.path()) == before, "a refused open changed the file");
    assert_eq!(open(dir.path(), Some("right one")).unwrap().count(TABLE).unwrap(), 1);
    // A password for a plain database is refused, and the plain one opens without.
    let plain = dir.path().join("plain");
    drop(open(&plain, None).unwrap());
    assert!(matches!(open(&plain, Some("x1234")), Err(Error::InvalidArgument(_))));
}

#[test]
fn tampering_is_an_error_never_wrong_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = open(dir.path(), Some("pw-tamper")).unwrap();
    db.register_schema(
        "t",
        r#"{"type": "object", "key_field": "k", "indexed_fields": ["n"],
        "properties": {"k": {"type": "string"}, "n": {"type": "integer"}, "text": {"type": "string"}}}"#,
    )
    .unwrap();
    let rows: Vec<String> =
        (0..400).map(|i| json!({"k": format!("k{i}"), "n": i, "text": "y".repeat(300)}).to_string()).collect();
    db.insert_batch("t", &rows).unwrap();
    let all = "SELECT k, n, text FROM t ORDER BY k";
    let baseline = db.query(all).unwrap();
    drop(db);
    let original = file(dir.path());
    let blocks = (original.len() - HEADER) / STORED;
    assert!(blocks > 20, "{blocks} stored blocks");
    let mut errors = 0;
    // One byte of the ciphertext of blocks spread over the file, one at a time.
    for b in (3..blocks).step_by(blocks / 12) {
        let mut bytes = original.clone();
        bytes[HEADER + b * STORED + 8 + 24 + 100] ^= 0x01;
        std::fs::write(dir.path().join("rem.redb"), &bytes).unwrap();
        let read = open(dir.path(), Some("pw-tamper")).and_then(|db| {
            let rows = db.query(all)?;
            db.check(10)?;
            Ok(rows)
        });
        match read {
            Ok(rows) => assert!(rows == baseline, "block {b}: tampered data was returned"),
            Err(e) => {
                errors += 1;
                let text = e.to_string();
                assert!(text.contains("failed authentication") || text.contains("damaged"), "block {b}: {text}");
            }
        }
    }
    assert!(errors > 0, "no tampered block was noticed");
    // Both copies of the header damaged: a clear error.
    let mut bytes = original.clone();
    bytes[100] ^= 1;
    bytes[2048 + 100] ^= 1;
    std::fs::write(dir.path().join("rem.redb"), &bytes).unwrap();
    assert!(matches!(open(dir.path(), Some("pw-tamper")), Err(Error::Storage(_))));
    // One copy damaged: the other opens it, and the damaged one is healed.
    let mut bytes = original.clone();
    bytes[100] ^= 1;
    std::fs::write(dir.path().join("rem.redb"), &bytes).unwrap();
    assert_eq!(open(dir.path(), Some("pw-tamper")).unwrap().query(all).unwrap(), baseline);
    assert_eq!(file(dir.path())[..HEADER], original[..HEADER]);
}

#[test]
fn rekey_changes_the_password_and_rewrites_only_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("db");
    let db = open(&path, Some("old password")).unwrap();
    fill(&db);
    drop(db);
    // Compared while the database is open (closing it saves redb's allocator state, which
    // rewrites blocks with new nonces): the rekey itself writes the header only.
    let db = open(&path, Some("old password")).unwrap();
    let before = file(&path);
    db.rekey(&password("new password")).unwrap();
    let after = file(&path);
    drop(db);
    assert!(after.len() == before.len() && after[HEADER..] == before[HEADER..], "the data was rewritten");
    assert!(after[..HEADER] != before[..HEADER]);
    assert!(matches!(open(&path, Some("old password")), Err(Error::Password(_))));
    let db = open(&path, Some("new password")).unwrap();
    assert_eq!(db.lookup(MARKERS[0]).unwrap().len(), 1);
    // A backup restores with the password, encrypted with it.
    db.backup(&dir.path().join("bk"), false).unwrap();
    drop(db);
    let restored = dir.path().join("restored");
    assert!(matches!(rem_host::restore(&dir.path().join("bk"), &restored, false, None), Err(Error::Password(_))));
    rem_host::restore(&dir.path().join("bk"), &restored, false, Some(&password("new password"))).unwrap();
    assert!(file(&restored).starts_with(b"REMCRYPT"));
    assert_eq!(open(&restored, Some("new password")).unwrap().count(TABLE).unwrap(), 1);
    // A plain database has no password to change.
    let plain = open(&dir.path().join("plain"), None).unwrap();
    assert!(matches!(plain.rekey(&password("whatever")), Err(Error::InvalidArgument(_))));
}
