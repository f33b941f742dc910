//! Secondary indexes: one entry per (indexed field, value, entity).
//!
//! Entry key: `T <tenant> X <table> <field> <value> <id:16>`, empty value.
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

use serde_json::Value;

use crate::keys;

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
    let mut k = keys::index_space(tenant);
    keys::push_str(&mut k, table);
    keys::push_str(&mut k, field);
    k
}

/// Prefix of every index entry of `table`.
pub fn table_prefix(tenant: &str, table: &str) -> Vec<u8> {
    let mut k = keys::index_space(tenant);
    keys::push_str(&mut k, table);
    k
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
    fn arrays_index_each_element_once() {
        let got = encode_field(Some(&json!(["b", "a", "b", {"x": 1}, 3])));
        assert_eq!(got.len(), 3);
        assert_eq!(encode_field(None), vec![vec![TAG_NULL]]);
        assert!(encode_field(Some(&json!({"a": 1}))).is_empty());
    }
}
