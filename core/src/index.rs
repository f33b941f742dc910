//! Secondary indexes: one entry per (indexed field, value, entity).
//!
//! Entry key: `T <tenant> X <table> <field> <value> <id:16>`, empty value.
//! Row copy: the same key under `Y`, valued with the row's `SELECT *` text (see below).
//! Values are encoded so that byte order equals the query engine's sort order
//! (`sql::eval::total_order`): null/missing < booleans < numbers < strings.
//!
//! - null or missing: `0x00`
//! - boolean: `0x10`, `0x11`
//! - number: `0x20` + the f64 as 8 big-endian bytes with the sign bit flipped
//!   for positives and every bit flipped for negatives (IEEE 754 total order);
//! - string: `0x30` + the string as a tuple part (see `keys`);
//! - arrays index each scalar element (a multi-key index, so `x = ANY(f)` can use it);
//!   objects are not indexed.
//!
//! Indexes hold **live rows only**: soft delete removes a row's entries and
//! re-inserting restores them; a query that asks for deleted rows scans.
//!
//! The index only proposes candidates: every row it yields is re-checked
//! against the full predicate, so f64 rounding of very large integers can add
//! candidates but never lose a match.
//!
//! **Row copies** (`Y` keys, format 2) of the schema's `covering_fields` (a subset of its
//! `indexed_fields`, opted into because each costs a record per row on every write): beside
//! the entry of a live row whose field holds one
//! *exact* scalar (a string, a boolean, or a number that f64 holds exactly, so key equality is
//! SQL equality), the same key under `Y` stores the row's `SELECT *` text, when that text is
//! at most [`ROW_COPY_MAX`] bytes and no property is named `id` or `entity_type`. A query
//! `SELECT * ... WHERE field = <literal>` then reads its answer from one range of copies
//! instead of fetching and decoding each row by id; it uses the copies only when they name the
//! same ids as the entries (`sql::covering::rows`), so rows without a copy (too large, an
//! array value, written by format 1) make it take the ordinary path. A copy is written and
//! removed with its entry and rewritten whenever the row changes.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::Tx;

/// Tag byte of null or missing values.
pub const TAG_NULL: u8 = 0x00;
/// Tag byte of `false` (`true` is `TAG_FALSE + 1`).
pub const TAG_FALSE: u8 = 0x10;
/// Tag byte of numbers.
pub const TAG_NUMBER: u8 = 0x20;
/// Tag byte of strings.
pub const TAG_STRING: u8 = 0x30;

/// Order-preserving bytes of an f64 (`-0.0` and `0.0` encode alike).
pub fn f64_bytes(f: f64) -> [u8; 8] {
    let f = if f == 0.0 { 0.0 } else { f };
    let bits = f.to_bits();
    let ordered = if bits >> 63 == 0 { bits | (1 << 63) } else { !bits };
    ordered.to_be_bytes()
}

/// Encode one scalar value; `None` for arrays and objects.
pub fn encode_scalar(v: &Value) -> Option<Vec<u8>> {
    Some(match v {
        Value::Null => vec![TAG_NULL],
        Value::Bool(b) => vec![TAG_FALSE + u8::from(*b)],
        Value::Number(n) => {
            let mut out = vec![TAG_NUMBER];
            out.extend_from_slice(&f64_bytes(n.as_f64()?));
            out
        }
        Value::String(s) => {
            let mut out = vec![TAG_STRING];
            keys::push_str(&mut out, s);
            out
        }
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// The encoded values a field holds: one per scalar (array elements one by
/// one, duplicates removed), `[null]` when missing or null.
pub fn encode_field(v: Option<&Value>) -> Vec<Vec<u8>> {
    match v {
        None => vec![vec![TAG_NULL]],
        Some(Value::Array(items)) => {
            let mut out: Vec<Vec<u8>> = items.iter().filter_map(encode_scalar).collect();
            out.sort();
            out.dedup();
            out
        }
        Some(other) => encode_scalar(other).into_iter().collect(),
    }
}

/// The value at a dotted path inside an entity's properties.
pub fn field_value<'a>(props: &'a serde_json::Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut cur = props.get(parts.next()?)?;
    for p in parts {
        cur = match cur {
            Value::Object(m) => m.get(p)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Prefix of every entry of `field` in `table`.
pub fn field_prefix(tenant: &str, table: &str, field: &str) -> Vec<u8> {
    with_table_field(keys::index_space(tenant), table, field)
}

/// `space` followed by the `table` and `field` parts.
fn with_table_field(mut space: Vec<u8>, table: &str, field: &str) -> Vec<u8> {
    keys::push_str(&mut space, table);
    keys::push_str(&mut space, field);
    space
}

/// Prefix of every index entry of `table`.
pub fn table_prefix(tenant: &str, table: &str) -> Vec<u8> {
    let mut k = keys::index_space(tenant);
    keys::push_str(&mut k, table);
    k
}

/// Largest `SELECT *` row text (bytes) an index keeps a copy of: at 2 KiB, a table's index
/// copies cost at most that much per indexed field and row; larger rows are fetched by id.
pub const ROW_COPY_MAX: usize = 2048;

/// Prefix of every row copy of `field` in `table` (the `Y` twin of [`field_prefix`]).
pub fn copy_prefix(tenant: &str, table: &str, field: &str) -> Vec<u8> {
    with_table_field(keys::index_copy_space(tenant), table, field)
}

/// The value of `e`'s row copies: its `SELECT *` text, or `None` when the row gets no copy
/// (over [`ROW_COPY_MAX`] bytes, or a property named `id` or `entity_type`).
pub fn copy_value(e: &crate::model::entity::Entity) -> Option<Vec<u8>> {
    crate::json::write::star_row(e).filter(|r| r.len() <= ROW_COPY_MAX)
}

/// Whether index-key equality of `v` is SQL equality (`sql::eval::compare`): strings and
/// booleans, floats, and integers within ±2^53 (beyond, distinct integers share an f64).
pub fn exact_scalar(v: &Value) -> bool {
    const F64_EXACT: u64 = 1 << 53;
    match v {
        Value::String(_) | Value::Bool(_) => true,
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.unsigned_abs() <= F64_EXACT,
            (None, Some(u)) => u <= F64_EXACT,
            (None, None) => n.as_f64().is_some(),
        },
        _ => false,
    }
}

/// The row-copy key for `field` of an entity with `props`: `Some` only when the field holds
/// one exact scalar ([`exact_scalar`]).
pub fn copy_key(
    tenant: &str,
    table: &str,
    field: &str,
    props: &serde_json::Map<String, Value>,
    id: &[u8; 16],
) -> Option<Vec<u8>> {
    let v = field_value(props, field).filter(|v| exact_scalar(v))?;
    let mut k = copy_prefix(tenant, table, field);
    k.extend_from_slice(&encode_scalar(v)?);
    k.extend_from_slice(id);
    Some(k)
}

/// The entry keys for `field` of an entity with `props`.
pub fn entries(
    tenant: &str,
    table: &str,
    field: &str,
    props: &serde_json::Map<String, Value>,
    id: &[u8; 16],
) -> Vec<Vec<u8>> {
    let prefix = field_prefix(tenant, table, field);
    encode_field(field_value(props, field))
        .into_iter()
        .map(|v| {
            let mut k = prefix.clone();
            k.extend_from_slice(&v);
            k.extend_from_slice(id);
            k
        })
        .collect()
}

/// The (table name, id) of every row whose natural key is `key`, from the key index.
/// Errors: `Storage` (a corrupt entry).
pub(crate) fn keyed<S: Storage + ?Sized>(
    tx: &mut Tx<'_, S>,
    tenant: &str,
    key: &str,
) -> Result<Vec<(Vec<u8>, [u8; 16])>> {
    let prefix = keys::key_index_prefix(tenant, key);
    let mut scan = tx.scan_prefix(&prefix)?;
    let mut out = Vec::new();
    loop {
        let page = scan.next_page()?;
        if page.is_empty() {
            return Ok(out);
        }
        for (k, table) in page {
            let id: [u8; 16] =
                k[prefix.len()..].try_into().map_err(|_| Error::Storage("corrupt key index entry".into()))?;
            out.push((table, id));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn byte_order_is_value_order() {
        let values = [
            json!(null),
            json!(false),
            json!(true),
            json!(-1e300),
            json!(-2.5),
            json!(-1),
            json!(0),
            json!(0.5),
            json!(1),
            json!(2),
            json!(10),
            json!(1e300),
            json!(""),
            json!("2024-01-01T00:00:00.000000Z"),
            json!("2024-01-02T00:00:00.000000Z"),
            json!("A"),
            json!("a"),
            json!("ab"),
            json!("b"),
        ];
        let enc: Vec<Vec<u8>> = values.iter().map(|v| encode_scalar(v).unwrap()).collect();
        for w in enc.windows(2) {
            assert!(w[0] < w[1], "{:?} !< {:?}", w[0], w[1]);
        }
        assert_eq!(encode_scalar(&json!(30)), encode_scalar(&json!(30.0)));
        assert_eq!(encode_scalar(&json!(-0.0)), encode_scalar(&json!(0)));
    }

    #[test]
    fn only_exact_scalars_get_row_copies() {
        for v in
            [json!("x"), json!(true), json!(2.5), json!(9_007_199_254_740_992u64), json!(-9_007_199_254_740_992i64)]
        {
            assert!(exact_scalar(&v), "{v}");
        }
        for v in
            [json!(9_007_199_254_740_993u64), json!(-9_007_199_254_740_993i64), json!(null), json!(["x"]), json!({})]
        {
            assert!(!exact_scalar(&v), "{v}");
        }
        let props = json!({"a": "x", "b": ["x"], "c": {"d": 1}}).as_object().unwrap().clone();
        let id = [7u8; 16];
        let k = copy_key("t", "tbl", "a", &props, &id).unwrap();
        let entry = &entries("t", "tbl", "a", &props, &id)[0];
        // The copy's key is the entry's with the space tag X replaced by Y.
        assert_eq!(k.len(), entry.len());
        assert_eq!(k.iter().zip(entry).filter(|(a, b)| a != b).count(), 1);
        assert!(copy_key("t", "tbl", "b", &props, &id).is_none());
        assert!(copy_key("t", "tbl", "c.d", &props, &id).is_some());
        assert!(copy_key("t", "tbl", "missing", &props, &id).is_none());
    }

    #[test]
    fn arrays_index_each_element_once() {
        let got = encode_field(Some(&json!(["b", "a", "b", {"x": 1}, 3])));
        assert_eq!(got.len(), 3);
        assert_eq!(encode_field(None), vec![vec![TAG_NULL]]);
        assert!(encode_field(Some(&json!({"a": 1}))).is_empty());
    }
}
