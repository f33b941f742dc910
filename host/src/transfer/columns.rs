//! A table's columns for export: typed from its JSON Schema, with the system fields in front.
//!
//! | JSON Schema | Arrow / Parquet column |
//! |---|---|
//! | `string` | `Utf8` |
//! | `string` with `format: date-time` | `Timestamp(Microsecond, "+00:00")` (UTC) |
//! | `integer` | `Int64` |
//! | `number` | `Float64` |
//! | `boolean` | `Boolean` |
//! | `array` of one of the above | `List` of that type |
//! | `object`, other arrays, anything else | `Utf8` holding the value's JSON text |
//!
//! Pydantic's `Optional[T]` (`anyOf: [T, {"type": "null"}]`) is the column of `T`; every column is
//! nullable. Members a row has that the schema does not declare go, as one JSON object's text, to
//! the `_extra` column (all of a free-form table's properties do).

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, TimeUnit};
use serde_json::Value;

/// The column holding the JSON text of a row's undeclared members.
pub const EXTRA: &str = "_extra";
/// The column holding a row's vector (with `--with-vectors`).
pub const VECTOR: &str = "embedding";
/// The system fields, exported in front of the properties.
pub const SYSTEM: [&str; 5] = ["id", "entity_type", "created_at", "modified_at", "deleted_at"];
/// The column holding a row's edges (JSON text), after the properties.
pub const EDGES: &str = "edges";

/// How one column's values are written.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Text.
    Text,
    /// An RFC 3339 time, as microseconds since the epoch in UTC.
    Time,
    /// A 64-bit integer.
    Int,
    /// A 64-bit float.
    Float,
    /// A boolean.
    Bool,
    /// A list of scalars of the inner kind.
    List(Scalar),
    /// Any JSON value, as its text.
    Json,
}

/// The scalar kinds a list column holds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scalar {
    /// Text.
    Text,
    /// A 64-bit integer.
    Int,
    /// A 64-bit float.
    Float,
    /// A boolean.
    Bool,
}

/// One exported column: its name and kind.
#[derive(Debug, Clone)]
pub struct Column {
    /// The column's name (a property's name, or a system field's).
    pub name: String,
    /// How its values are written.
    pub kind: Kind,
}

/// The declared type of a property schema, seeing through `anyOf`/`oneOf` with `null`.
fn declared_type(prop: &Value) -> Option<(&str, &Value)> {
    if let Some(t) = prop.get("type") {
        return match t {
            Value::String(s) => Some((s.as_str(), prop)),
            // ["string", "null"]
            Value::Array(ts) => {
                let non_null: Vec<&str> = ts.iter().filter_map(Value::as_str).filter(|t| *t != "null").collect();
                match non_null.as_slice() {
                    [one] => Some((one, prop)),
                    _ => None,
                }
            }
            _ => None,
        };
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(options)) = prop.get(key) {
            let non_null: Vec<&Value> =
                options.iter().filter(|o| o.get("type").and_then(Value::as_str) != Some("null")).collect();
            if let [one] = non_null.as_slice() {
                return declared_type(one);
            }
        }
    }
    None
}

fn scalar(t: &str) -> Option<Scalar> {
    match t {
        "string" => Some(Scalar::Text),
        "integer" => Some(Scalar::Int),
        "number" => Some(Scalar::Float),
        "boolean" => Some(Scalar::Bool),
        _ => None,
    }
}

/// The kind of a property's column (see the module doc).
pub fn kind_of(prop: &Value) -> Kind {
    match declared_type(prop) {
        Some(("string", p)) if p.get("format").and_then(Value::as_str) == Some("date-time") => Kind::Time,
        Some(("string", _)) => Kind::Text,
        Some(("integer", _)) => Kind::Int,
        Some(("number", _)) => Kind::Float,
        Some(("boolean", _)) => Kind::Bool,
        Some(("array", p)) => {
            match p.get("items").and_then(declared_type).and_then(|(t, item)| {
                // A list of times stays text: Parquet lists of timestamps gain little.
                if item.get("format").is_some() { None } else { scalar(t) }
            }) {
                Some(s) => Kind::List(s),
                None => Kind::Json,
            }
        }
        _ => Kind::Json,
    }
}

/// The columns of a table whose JSON Schema is `schema`: system fields, declared properties in
/// their order, `edges`, `_extra`.
pub fn columns(schema: &Value) -> Vec<Column> {
    let mut out: Vec<Column> = SYSTEM
        .iter()
        .map(|n| Column { name: (*n).to_string(), kind: if n.ends_with("_at") { Kind::Time } else { Kind::Text } })
        .collect();
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (name, prop) in props {
            if SYSTEM.contains(&name.as_str()) || name == EDGES || name == EXTRA || name == VECTOR {
                continue;
            }
            out.push(Column { name: name.clone(), kind: kind_of(prop) });
        }
    }
    out.push(Column { name: EDGES.into(), kind: Kind::Json });
    out.push(Column { name: EXTRA.into(), kind: Kind::Json });
    out
}

fn scalar_type(s: Scalar) -> DataType {
    match s {
        Scalar::Text => DataType::Utf8,
        Scalar::Int => DataType::Int64,
        Scalar::Float => DataType::Float64,
        Scalar::Bool => DataType::Boolean,
    }
}

/// The Arrow type of a column.
pub fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Text | Kind::Json => DataType::Utf8,
        Kind::Time => DataType::Timestamp(TimeUnit::Microsecond, Some("+00:00".into())),
        Kind::Int => DataType::Int64,
        Kind::Float => DataType::Float64,
        Kind::Bool => DataType::Boolean,
        Kind::List(s) => DataType::List(Arc::new(Field::new("item", scalar_type(s), true))),
    }
}

/// The Arrow schema of `columns`, plus a `FixedSizeList<Float32>` vector column of `dims`.
pub fn arrow_schema(columns: &[Column], dims: Option<usize>) -> Schema {
    let mut fields: Vec<Field> = columns.iter().map(|c| Field::new(&c.name, data_type(c.kind), true)).collect();
    if let Some(d) = dims {
        let item = Arc::new(Field::new("item", DataType::Float32, true));
        fields.push(Field::new(VECTOR, DataType::FixedSizeList(item, d as i32), true));
    }
    Schema::new(fields)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn kinds_follow_the_json_schema_pydantic_emits() {
        assert_eq!(kind_of(&json!({"type": "string"})), Kind::Text);
        assert_eq!(kind_of(&json!({"type": "string", "format": "date-time"})), Kind::Time);
        assert_eq!(kind_of(&json!({"anyOf": [{"type": "integer"}, {"type": "null"}]})), Kind::Int);
        assert_eq!(kind_of(&json!({"type": ["number", "null"]})), Kind::Float);
        assert_eq!(kind_of(&json!({"type": "array", "items": {"type": "string"}})), Kind::List(Scalar::Text));
        assert_eq!(kind_of(&json!({"type": "array", "items": {"type": "object"}})), Kind::Json);
        assert_eq!(kind_of(&json!({"type": "object"})), Kind::Json);
        assert_eq!(kind_of(&json!({})), Kind::Json);
    }

    #[test]
    fn system_fields_lead_and_extra_closes() {
        let cols = columns(&json!({"properties": {"name": {"type": "string"}, "id": {"type": "string"}}}));
        let names: Vec<&str> = cols.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["id", "entity_type", "created_at", "modified_at", "deleted_at", "name", "edges", "_extra"]);
    }
}
