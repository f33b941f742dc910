//! What a model needs to know about a tenant's tables: fields with their types and
//! descriptions, the key, indexed and embedded fields, row counts, and a few sample values of
//! indexed text fields (so a model writes `section = 'httpd'`, not `section = 'web servers'`).

use serde::Serialize;
use serde_json::Value;

use super::parse;
use crate::Api;
use crate::error::Result;

/// Sample values shown per indexed field.
pub const SAMPLES: usize = 5;

/// One field of a table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldInfo {
    /// The property name.
    pub name: String,
    /// The JSON Schema type (`string`, `integer`, `array`, ...; `any` when the schema gives none).
    #[serde(rename = "type")]
    pub kind: String,
    /// The JSON Schema `format` (`date-time`, `uuid`), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The allowed values (`enum`), if the schema lists them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<Value>,
    /// The field's description, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// One table as prompts and the MCP server's `describe_table` show it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableInfo {
    /// The table name.
    pub name: String,
    /// The schema's description.
    pub description: Option<String>,
    /// Live rows.
    pub rows: u64,
    /// The natural key field, if any.
    pub key_field: Option<String>,
    /// Fields with a secondary index.
    pub indexed_fields: Vec<String>,
    /// Fields embedded for semantic search (`SEARCH`).
    pub embedding_fields: Vec<String>,
    /// The declared properties, in schema order.
    pub fields: Vec<FieldInfo>,
    /// Up to [`SAMPLES`] most frequent values of each indexed text field, with their counts.
    pub samples: Vec<(String, Vec<(Value, u64)>)>,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
}

/// The tenant's tables (only `only` when given), described. Errors: `SchemaNotFound` (an
/// unknown `only`), `Storage`, `Connection`.
pub fn describe_tables(api: &dyn Api, only: Option<&str>) -> Result<Vec<TableInfo>> {
    let names = match only {
        Some(t) => vec![t.to_string()],
        None => api.list_schemas()?,
    };
    let mut out = Vec::with_capacity(names.len());
    for name in names {
        let record = parse(&api.get_schema(&name)?)?;
        out.push(describe(api, &name, &record)?);
    }
    Ok(out)
}

fn describe(api: &dyn Api, name: &str, record: &Value) -> Result<TableInfo> {
    let schema = &record["schema"];
    let mut fields = Vec::new();
    if let Some(props) = schema["properties"].as_object() {
        for (field, spec) in props {
            let kind = match &spec["type"] {
                Value::String(t) => t.clone(),
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("|"),
                _ => "any".into(),
            };
            fields.push(FieldInfo {
                name: field.clone(),
                kind,
                format: spec["format"].as_str().map(String::from),
                choices: spec["enum"].as_array().cloned().unwrap_or_default(),
                description: spec["description"].as_str().map(String::from),
            });
        }
    }
    let indexed = strings(&record["indexed_fields"]);
    let mut samples = Vec::new();
    for field in &indexed {
        let info = fields.iter().find(|f| &f.name == field);
        // Dates and ids are all different; enums are listed already; a name with a quote cannot
        // be quoted in the statement below.
        if field.contains('"')
            || info.is_some_and(|f| f.kind != "string" || f.format.is_some() || !f.choices.is_empty())
        {
            continue;
        }
        let sql = format!(
            "SELECT \"{field}\" AS v, COUNT(*) AS n FROM \"{name}\" WHERE \"{field}\" IS NOT NULL GROUP BY \"{field}\" \
             ORDER BY n DESC LIMIT {SAMPLES}"
        );
        // A field the engine cannot group (a list, say) just has no samples.
        if let Ok(Value::Array(rows)) = api.query(&sql).and_then(|t| parse(&t)) {
            let values = rows.iter().map(|r| (r["v"].clone(), r["n"].as_u64().unwrap_or(0))).collect::<Vec<_>>();
            if !values.is_empty() {
                samples.push((field.clone(), values));
            }
        }
    }
    Ok(TableInfo {
        name: name.to_string(),
        description: record["description"].as_str().filter(|d| !d.is_empty()).map(String::from),
        rows: api.count(name)?,
        key_field: record["key_field"].as_str().map(String::from),
        indexed_fields: indexed,
        embedding_fields: strings(&record["embedding_fields"]),
        fields,
        samples,
    })
}

/// The tables as prompt text: one block per table.
pub fn prompt_text(tables: &[TableInfo]) -> String {
    let mut out = String::new();
    for t in tables {
        out.push_str(&format!("table {} ({} rows)", t.name, t.rows));
        if let Some(d) = &t.description {
            out.push_str(&format!(": {}", truncate(d, 300)));
        }
        out.push('\n');
        if let Some(k) = &t.key_field {
            out.push_str(&format!("  natural key: {k} (LOOKUP '<{k} value>' finds the row)\n"));
        }
        if !t.indexed_fields.is_empty() {
            out.push_str(&format!("  indexed: {}\n", t.indexed_fields.join(", ")));
        }
        if !t.embedding_fields.is_empty() {
            out.push_str(&format!("  embedded for SEARCH '<text>' IN {}: {}\n", t.name, t.embedding_fields.join(", ")));
        }
        out.push_str("  fields:\n");
        for f in &t.fields {
            out.push_str(&format!("    - {}: {}", f.name, f.kind));
            if let Some(fmt) = &f.format {
                out.push_str(&format!(" ({fmt})"));
            }
            if !f.choices.is_empty() {
                let c: Vec<String> = f.choices.iter().map(Value::to_string).collect();
                out.push_str(&format!(", one of {}", c.join(", ")));
            }
            if let Some(d) = &f.description {
                out.push_str(&format!(": {}", truncate(d, 160)));
            }
            out.push('\n');
        }
        out.push_str("    - system fields: id, entity_type, created_at, modified_at, deleted_at (RFC 3339 UTC text)\n");
        for (field, values) in &t.samples {
            let v: Vec<String> = values.iter().map(|(v, n)| format!("{v} ({n})")).collect();
            out.push_str(&format!("  frequent {field} values: {}\n", v.join(", ")));
        }
    }
    out
}

/// `text` cut to at most `max` characters, with an ellipsis when cut.
pub(crate) fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
