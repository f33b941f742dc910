//! The layout-version record: a new file gets the current version, an older readable version
//! is read as is and marked current by its first write, and any other version is refused.

use rem_core::storage::keys::{FORMAT_KEY, FORMAT_VERSION};
use rem_core::storage::store::{Storage, WriteOp};
use rem_core::{Database, MemoryStore};

const SCHEMA: &str = r#"{"type":"object","key_field":"k","indexed_fields":["b"],"covering_fields":["b"],"properties":{"k":{"type":"string"},"b":{"type":"string"}}}"#;

fn version(store: &MemoryStore) -> Option<String> {
    store.get(FORMAT_KEY).unwrap().map(|v| String::from_utf8(v).unwrap())
}

#[test]
fn a_new_database_records_the_current_version() {
    let db = Database::new(MemoryStore::new(), "t").unwrap();
    db.register_schema("t", SCHEMA).unwrap();
    assert_eq!(version(db.store()), Some(FORMAT_VERSION.to_string()));
    assert_eq!(FORMAT_VERSION, 2);
}

#[test]
fn a_version_1_file_is_read_as_is_and_marked_by_its_first_write() {
    // A version-1 file: its rows have index entries but no row copies.
    let old = Database::new(MemoryStore::new(), "t").unwrap();
    old.register_schema("t", SCHEMA).unwrap();
    old.insert("t", r#"{"k":"x","b":"red"}"#).unwrap();
    let store = old.store();
    let copies: Vec<Vec<u8>> = store
        .scan(&rem_core::storage::keys::index_copy_space("t"), None, u32::MAX, false)
        .unwrap()
        .iter()
        .map(|(k, _)| k.to_vec())
        .filter(|k| k.starts_with(&rem_core::storage::keys::index_copy_space("t")))
        .collect();
    assert_eq!(copies.len(), 1);
    let mut ops: Vec<WriteOp> = copies.into_iter().map(WriteOp::Delete).collect();
    ops.push(WriteOp::Put(FORMAT_KEY.to_vec(), b"1".to_vec()));
    store.write(ops).unwrap();

    let db = Database::new(store, "t").unwrap();
    let q = "SELECT * FROM t WHERE b = 'red'";
    let rows = db.query(q).unwrap();
    assert!(rows.contains(r#""k":"x""#), "{rows}");
    assert!(db.query(&format!("EXPLAIN {q}")).unwrap().contains("\"index lookup"), "no copies: the ordinary lookup");
    assert_eq!(version(store).as_deref(), Some("1"), "reading does not change the file");
    // A failed write changes nothing; a write that lands marks the file.
    assert!(db.insert("missing", r#"{"k":"y"}"#).is_err());
    assert_eq!(version(store).as_deref(), Some("1"));
    db.insert("t", r#"{"k":"y","b":"red"}"#).unwrap();
    assert_eq!(version(store), Some(FORMAT_VERSION.to_string()));
    assert_eq!(db.query(q).unwrap().matches(r#""b":"red""#).count(), 2);
}

#[test]
fn an_unknown_version_is_refused_with_both_versions_named() {
    let store = MemoryStore::new();
    store.write(vec![WriteOp::Put(FORMAT_KEY.to_vec(), b"3".to_vec())]).unwrap();
    let db = Database::new(&store, "t").unwrap();
    let e = db.register_schema("t", SCHEMA).unwrap_err().to_string();
    assert!(e.contains("layout version 3") && e.contains(&format!("layout {FORMAT_VERSION}")), "{e}");
    assert_eq!(version(&store).as_deref(), Some("3"));
}
