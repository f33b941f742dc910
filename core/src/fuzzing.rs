//! What the fuzzers check, shared by the cargo-fuzz targets (`fuzz/`) and the stable fuzz
//! test (`core/tests/fuzz.rs`), so that the stable suite runs exactly what the fuzzers run.
//! Not part of the engine's API.
//!
//! The promises checked for any input: the engine never panics; a call returns rows or one of
//! the typed [`Error`] cases; a statement writes nothing, and gives the same answer parsed
//! afresh and from the parse cache; a failed call leaves every key and value of the store as it
//! was; and the JSON reader agrees with serde_json (apart from refusing integers beyond 64 bits,
//! which serde_json rounds). A broken promise panics, naming the input.
//!
//! A call is atomic because the host runs it in one storage transaction and aborts that on an
//! error; the engine itself may send part of a failed call's writes before it fails (it flushes
//! its buffer before a scan, and every `Tx::FLUSH_AT` writes). The harness's [`CallStore`] does
//! what the host does, undoing a failed call's writes, and the check is that the store is then
//! exactly as before the call, and the next calls work on it.

use std::cell::RefCell;

use serde_json::Value;

use crate::Database;
use crate::error::{Error, Result};
use crate::json::parse::ReadError;
use crate::storage::store::{MemoryStore, Page, Storage, WriteOp};

/// A key written, with its value before (`None`: absent).
type Overwritten = (Vec<u8>, Option<Vec<u8>>);

/// A [`MemoryStore`] whose writes since [`CallStore::begin`] can be undone, as the host aborts
/// the storage transaction of a failed call.
#[derive(Debug, Default)]
pub struct CallStore {
    store: MemoryStore,
    /// Each key written since `begin`, oldest first.
    undo: RefCell<Vec<Overwritten>>,
}

impl CallStore {
    /// Start a call: forget the previous call's writes.
    pub fn begin(&self) {
        self.undo.borrow_mut().clear();
    }

    /// Keys written since [`CallStore::begin`] (counting rewrites).
    pub fn written(&self) -> usize {
        self.undo.borrow().len()
    }

    /// Undo every write since [`CallStore::begin`].
    pub fn rollback(&self) {
        let undo = std::mem::take(&mut *self.undo.borrow_mut());
        let ops = undo
            .into_iter()
            .rev()
            .map(|(k, old)| match old {
                Some(v) => WriteOp::Put(k, v),
                None => WriteOp::Delete(k),
            })
            .collect();
        self.store.write(ops).expect("the memory store writes");
    }
}

impl Storage for CallStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        self.store.get(key)
    }
    fn scan(&self, start: &[u8], end: Option<&[u8]>, limit: u32, reverse: bool) -> Result<Page> {
        self.store.scan(start, end, limit, reverse)
    }
    fn write(&self, ops: Vec<WriteOp>) -> Result<()> {
        let mut undo = self.undo.borrow_mut();
        for op in &ops {
            let key = match op {
                WriteOp::Put(k, _) | WriteOp::Delete(k) => k,
            };
            undo.push((key.clone(), self.store.get(key)?));
        }
        self.store.write(ops)
    }
}

/// The schema of the harness table `person` (the query corpus's, with settings that exercise
/// indexes, row copies, references, patterns and limits).
pub const SCHEMA: &str = r#"{
  "title": "Person", "type": "object", "version": "1.0.0",
  "key_field": "name",
  "indexed_fields": ["age", "role", "tags", "contact.address.city", "score"],
  "covering_fields": ["role"],
  "references": {"manager": {"table": "person", "rel_type": "reports_to"}},
  "properties": {
    "name": {"type": "string", "maxLength": 64},
    "age": {"type": "number", "minimum": 0},
    "role": {"type": "string", "enum": ["engineer", "manager", "designer"]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "nickname": {"type": "string", "pattern": "^[A-Za-z_%0-9 ]*$"},
    "score": {"type": "number"},
    "manager": {"type": "string"},
    "contact": {"type": "object", "properties": {"address": {"type": "object",
      "properties": {"city": {"type": "string"}}}}}
  },
  "required": ["name", "age"]
}"#;

/// The rows of the harness table, in insertion order (Alice manages Bob).
pub const ROWS: [&str; 4] = [
    r#"{"name": "Alice", "age": 30, "role": "engineer", "tags": ["rust", "python"], "contact": {"address": {"city": "Delft"}}, "score": 7.5}"#,
    r#"{"name": "Bob", "age": 25, "role": "engineer", "tags": ["go"], "manager": "Alice", "contact": {"address": {"city": "Leiden"}}, "score": 9}"#,
    r#"{"name": "Charlie", "age": 35, "role": "manager", "tags": [], "contact": {"address": {"city": "Delft"}}}"#,
    r#"{"name": "Dana_1%", "age": 41.0, "role": "designer", "tags": ["rust"], "nickname": "D"}"#,
];

/// A small in-memory database (table `person` with [`ROWS`]) whose calls check the promises
/// in the module docs.
pub struct Harness {
    db: Database<CallStore>,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// A fresh database holding table `person` ([`SCHEMA`]) with [`ROWS`].
    pub fn new() -> Harness {
        let db = Database::new(CallStore::default(), "fuzz").expect("a valid tenant");
        db.register_schema("person", SCHEMA).expect("the harness schema registers");
        let rows: Vec<String> = ROWS.iter().map(|r| r.to_string()).collect();
        db.insert_batch("person", &rows).expect("the harness rows insert");
        Harness { db }
    }

    /// The database, for calls the harness does not wrap.
    pub fn database(&self) -> &Database<CallStore> {
        &self.db
    }

    /// Every key and value of the store.
    pub fn state(&self) -> Page {
        self.db.store().scan(&[], None, u32::MAX, false).expect("the memory store scans")
    }

    /// Run `call` as the host does: if it fails, undo its writes, and check that the store is
    /// then as it was; if it wrote, check (`Database::check`) that the derived records agree
    /// with the rows (`what` and `input` name the call in the panic message).
    fn checked<T>(&self, what: &str, input: &str, call: impl FnOnce(&Database<CallStore>) -> Result<T>) -> Result<T> {
        let before = self.state();
        self.db.store().begin();
        let out = call(&self.db);
        if let Err(e) = &out {
            self.db.store().rollback();
            assert!(
                self.state() == before,
                "{what} failed ({e}) and the store is not as it was; input: {:?}",
                crate::error::preview_with(input, 2000)
            );
        } else if self.db.store().written() > 0 {
            // A write that succeeded leaves every derived record in agreement with the rows.
            let report = self.db.check(10).expect("check reads the memory store");
            assert!(
                report["ok"] == true,
                "{what} left derived records that disagree with the rows: {report}; input: {:?}",
                crate::error::preview_with(input, 2000)
            );
        }
        out
    }

    /// Run one statement twice (parsed, then from the parse cache): the rows as a JSON array, or
    /// an error; both runs agree, and neither writes.
    pub fn sql(&self, sql: &str) -> Result<String> {
        let read_only = |db: &Database<CallStore>| {
            let out = db.query(sql);
            assert_eq!(db.store().written(), 0, "a statement wrote to the store: {sql:?}");
            out
        };
        let first = self.checked("query", sql, read_only);
        let again = self.checked("query", sql, read_only);
        assert_eq!(first, again, "a statement answered differently from the parse cache: {sql:?}");
        if let Ok(rows) = &first {
            let parsed: Value = serde_json::from_str(rows).unwrap_or_else(|e| panic!("{sql:?} gave invalid JSON: {e}"));
            assert!(parsed.is_array(), "{sql:?} gave {parsed}, not an array of rows");
        }
        first
    }

    /// Insert `row` (JSON text) into `table`; the stored entity is what `get` returns.
    pub fn insert(&self, table: &str, row: &str) -> Result<String> {
        let out = self.checked("insert", row, |db| db.insert(table, row));
        if let Ok(stored) = &out {
            let entity: Value = serde_json::from_str(stored).expect("insert returns the entity as JSON");
            let id = entity["id"].as_str().expect("a stored entity has an id");
            let got = self.db.get(id).expect("a stored entity reads back").expect("and is found");
            let got: Value = serde_json::from_str(&got).expect("get returns JSON");
            assert_eq!(got, entity, "get does not return what insert stored: {row:?}");
        }
        out
    }

    /// Insert `rows` into `table`, all or none.
    pub fn insert_batch(&self, table: &str, rows: &[String]) -> Result<Vec<String>> {
        let out = self.checked("insert_batch", &rows.join("\n"), |db| db.insert_batch(table, rows));
        if let Ok(ids) = &out {
            assert_eq!(ids.len(), rows.len(), "one id per row");
        }
        out
    }

    /// Apply `patch` (JSON text) to the row `id`.
    pub fn update(&self, id: &str, patch: &str) -> Result<String> {
        self.checked("update", patch, |db| db.update(id, patch))
    }

    /// Register (or replace) the schema of `table`.
    pub fn register(&self, table: &str, document: &str) -> Result<String> {
        self.checked("register_schema", document, |db| db.register_schema(table, document))
    }

    /// Delete the row `id` (soft or hard).
    pub fn delete(&self, id: &str, hard: bool) -> Result<String> {
        self.checked("delete", id, |db| db.delete(id, hard))
    }
}

/// Check the JSON reader on `text` against serde_json: the same value (key order included) or
/// the same error, except that it refuses an integer beyond 64 bits that serde_json reads as a
/// float; and when it says the text is compact, the text is serde_json's writing of the value.
pub fn check_reader(text: &str) {
    let theirs = serde_json::from_str::<Value>(text);
    match (crate::json::parse::parse_noting_compact(text), theirs) {
        (Ok((ours, compact)), Ok(theirs)) => {
            assert_eq!(ours, theirs, "{text:?}");
            assert_eq!(ours.to_string(), theirs.to_string(), "{text:?}");
            if compact {
                assert_eq!(serde_json::to_string(&ours).ok().as_deref(), Some(text), "said compact: {text:?}");
            }
        }
        (Err(ReadError::Syntax(ours)), Err(theirs)) => assert_eq!(ours.to_string(), theirs.to_string(), "{text:?}"),
        (Err(ReadError::BigInteger { literal, .. }), Ok(_)) => {
            let integer = !literal.contains(['.', 'e', 'E']);
            assert!(integer && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err(), "{literal}");
        }
        (ours, theirs) => panic!("the reader and serde_json disagree on {text:?}: {ours:?} against {theirs:?}"),
    }
}

/// Whether `e` is an error a statement may give (everything but a broken invariant).
fn expected(e: &Error) -> bool {
    !matches!(e, Error::Internal(_) | Error::Storage(_))
}

/// The cargo-fuzz target `sql`: the input (as UTF-8, lossily) as one statement against a fresh
/// [`Harness`].
pub fn sql(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let harness = Harness::new();
    if let Err(e) = harness.sql(&text) {
        assert!(expected(&e), "{text:?}: {e:?}");
    }
}

/// The cargo-fuzz target `json_row`: the JSON reader on the input (as UTF-8, lossily), then
/// the input as a row of `person` in a fresh [`Harness`].
pub fn json_row(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    check_reader(&text);
    let harness = Harness::new();
    if let Err(e) = harness.insert("person", &text) {
        assert!(expected(&e), "{text:?}: {e:?}");
    }
}
