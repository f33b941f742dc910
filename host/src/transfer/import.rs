//! Read Parquet, CSV and JSONL files (REM's exports, or anyone's) into rows for `insert_batch`.
//!
//! - **Parquet** is read with the `parquet` crate's Arrow reader and each record batch turned
//!   into JSON objects by `arrow-json` (lists as arrays, timestamps as RFC 3339 text, NULLs left
//!   out), so any Parquet file whose columns match the table's properties imports.
//! - **CSV** cells are typed by the table's JSON Schema: integers, numbers and booleans parsed,
//!   objects and lists parsed from their JSON text, empty cells left out.
//! - **JSONL** lines are objects as they are.
//!
//! Then every row is made a row to insert: the system fields an export writes (`entity_type`,
//! `created_at`, `modified_at`, `deleted_at`) are dropped unless the schema declares them (the
//! timestamps become those of the import, and soft-deleted rows are imported live), `id` is kept
//! (so rows of tables without a natural key keep their ids), `edges` and `_extra` given as JSON
//! text are parsed (`_extra`'s members become properties again), and `embedding` is the row's
//! own vector.

use std::path::Path;

use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::{Map, Value};

use super::columns::{EDGES, EXTRA, Kind, Scalar, VECTOR, kind_of};
use super::{Format, TableInfo};
use crate::api::Api;
use crate::error::{Error, Result};

/// Rows read from a file: each row's JSON text and its 1-based position in the file (the line
/// of a JSONL or CSV file, the row of a Parquet file).
pub type Rows = (Vec<String>, Vec<usize>);

fn bad(path: &str, e: impl std::fmt::Display) -> Error {
    Error::InvalidArgument(format!("cannot read {path}: {e}"))
}

/// Read the file at `path` (format from its extension) as rows for `table`. Errors:
/// `InvalidArgument` naming the file, and the row and column of a bad cell; `SchemaNotFound`;
/// `Io`.
pub fn read_file(api: &dyn Api, table: &str, path: &Path) -> Result<Rows> {
    let format = Format::from_path(path)?;
    let bytes = std::fs::read(path)
        .map_err(|e| Error::Io { context: format!("cannot read {}", path.display()), message: e.to_string() })?;
    read_bytes(api, table, bytes, format, &path.display().to_string())
}

/// [`read_file`] of a file's bytes already in memory (`name` names it in errors).
pub fn read_bytes(api: &dyn Api, table: &str, bytes: Vec<u8>, format: Format, name: &str) -> Result<Rows> {
    let info = TableInfo::read(api, table)?;
    let objects: Vec<(Value, usize)> = match format {
        Format::Parquet => parquet_rows(bytes, name)?,
        Format::Csv => csv_rows(&bytes, &info, name)?,
        Format::Jsonl => jsonl_rows(&bytes, name)?,
    };
    let mut rows = Vec::with_capacity(objects.len());
    let mut positions = Vec::with_capacity(objects.len());
    for (value, at) in objects {
        let Value::Object(row) = value else {
            return Err(Error::InvalidArgument(format!("{name}: row {at} is not a JSON object")));
        };
        let typed_text = format != Format::Jsonl;
        rows.push(Value::Object(to_insert(row, &info, name, at, typed_text)?).to_string());
        positions.push(at);
    }
    Ok((rows, positions))
}

/// Upsert `rows` (from [`read_file`], [`read_bytes`] or [`normalise`]) into `table`, all or
/// none; the ids in order. The inline edges of rows that carry their `id` are added after every
/// row is written, in the same transaction (a write set), so an edge may point at a row later in
/// the file; an edge to a row of another table needs that table imported first.
/// Errors: those of `insert_batch` and `write_set`.
pub fn import(api: &dyn Api, table: &str, rows: Vec<String>) -> Result<Vec<String>> {
    let info = TableInfo::read(api, table)?;
    // The id a row keeps: a hyphenated UUID, in a table that does not declare `id` itself.
    let keeps_id = |row: &Map<String, Value>| {
        !info.declares("id")
            && row.get("id").and_then(Value::as_str).and_then(rem_core::model::ids::canonical_id).is_some()
    };
    let mut edges = Vec::new();
    let mut out = Vec::with_capacity(rows.len());
    for text in rows {
        match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(mut row)) if keeps_id(&row) && matches!(row.get(EDGES), Some(Value::Array(_))) => {
                let src = row["id"].clone();
                if let Some(Value::Array(list)) = row.shift_remove(EDGES) {
                    for mut edge in list {
                        if let Value::Object(e) = &mut edge {
                            e.shift_remove("created_at");
                            e.insert("src".into(), src.clone());
                        }
                        edges.push(edge.to_string());
                    }
                }
                out.push(Value::Object(row).to_string());
            }
            _ => out.push(text),
        }
    }
    if edges.is_empty() {
        return api.insert_batch(table, &out);
    }
    let set = crate::WriteSet {
        deletes: Vec::new(),
        inserts: vec![crate::TableRows { table: table.to_string(), rows: out }],
        edges,
    };
    Ok(api.write_set(&set)?.ids.into_iter().next().unwrap_or_default())
}

/// Rows already read (JSON objects' text, e.g. a JSONL batch) made rows to insert (see the
/// module doc); rows that hold none of an export's members are passed through untouched.
/// Errors: `InvalidArgument` naming the row (1-based); `SchemaNotFound`.
pub fn normalise(api: &dyn Api, table: &str, rows: Vec<String>, name: &str) -> Result<Vec<String>> {
    const EXPORTED: [&str; 7] = [
        "\"entity_type\"",
        "\"created_at\"",
        "\"modified_at\"",
        "\"deleted_at\"",
        "\"_extra\"",
        "\"edges\"",
        "\"embedding\"",
    ];
    if !rows.iter().any(|r| EXPORTED.iter().any(|m| r.contains(m))) {
        return Ok(rows);
    }
    let info = TableInfo::read(api, table)?;
    rows.into_iter()
        .enumerate()
        .map(|(i, text)| match serde_json::from_str::<Value>(&text) {
            Ok(Value::Object(row)) => Ok(Value::Object(to_insert(row, &info, name, i + 1, false)?).to_string()),
            // Left for insert_batch to report, with its position.
            _ => Ok(text),
        })
        .collect()
}

/// A row as read, made a row to insert (see the module doc). The system fields are dropped
/// only from a row that has the ones every export writes (`id`, `entity_type`, `created_at`),
/// so a user's own `created_at` in a free-form row stays. With `typed_text` (CSV, Parquet),
/// declared objects and lists given as JSON text are parsed.
fn to_insert(
    mut row: Map<String, Value>,
    info: &TableInfo,
    name: &str,
    at: usize,
    typed_text: bool,
) -> Result<Map<String, Value>> {
    let exported = ["id", "entity_type", "created_at"].iter().all(|f| row.contains_key(*f));
    for f in ["entity_type", "created_at", "modified_at", "deleted_at"] {
        if exported && !info.declares(f) {
            row.shift_remove(f);
        }
    }
    let parse_text = |member: &str, v: Value| -> Result<Value> {
        match v {
            Value::String(s) => serde_json::from_str(&s).map_err(|e| {
                Error::InvalidArgument(format!("{name}: row {at}: column '{member}' is not JSON text: {e}"))
            }),
            other => Ok(other),
        }
    };
    if !info.declares(EXTRA)
        && let Some(extra) = row.shift_remove(EXTRA)
    {
        match parse_text(EXTRA, extra)? {
            Value::Object(members) => {
                for (k, v) in members {
                    row.entry(k).or_insert(v);
                }
            }
            Value::Null => {}
            _ => return Err(Error::InvalidArgument(format!("{name}: row {at}: '{EXTRA}' must be a JSON object"))),
        }
    }
    if !info.declares(EDGES)
        && let Some(edges) = row.shift_remove(EDGES)
    {
        match parse_text(EDGES, edges)? {
            Value::Null => {}
            Value::Array(a) if a.is_empty() => {}
            edges => {
                row.insert(EDGES.into(), edges);
            }
        }
    }
    if !info.declares(VECTOR)
        && let Some(v) = row.shift_remove(VECTOR)
    {
        let v = parse_text(VECTOR, v)?;
        if !v.is_null() {
            row.insert(VECTOR.into(), v);
        }
    }
    // Declared objects and lists exported as JSON text are values again.
    if let Some(Value::Object(props)) = info.schema.get("properties").filter(|_| typed_text) {
        for (k, prop) in props {
            if kind_of(prop) == Kind::Json
                && matches!(row.get(k), Some(Value::String(_)))
                && !matches!(prop.get("type").and_then(Value::as_str), Some("string"))
                && let Some(v) = row.shift_remove(k)
            {
                let parsed = parse_text(k, v)?;
                row.insert(k.clone(), parsed);
            }
        }
    }
    Ok(row)
}

fn parquet_rows(bytes: Vec<u8>, name: &str) -> Result<Vec<(Value, usize)>> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes))
        .map_err(|e| bad(name, e))?
        .build()
        .map_err(|e| bad(name, e))?;
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| bad(name, e))?;
        let mut text = Vec::new();
        {
            let mut w = arrow_json::LineDelimitedWriter::new(&mut text);
            w.write(&batch).map_err(|e| bad(name, e))?;
            w.finish().map_err(|e| bad(name, e))?;
        }
        for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            let v: Value = serde_json::from_slice(line).map_err(|e| bad(name, e))?;
            out.push((v, out.len() + 1));
        }
    }
    Ok(out)
}

fn jsonl_rows(bytes: &[u8], name: &str) -> Result<Vec<(Value, usize)>> {
    let text = std::str::from_utf8(bytes).map_err(|e| bad(name, e))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let v: Value = serde_json::from_str(line)
            .map_err(|e| Error::InvalidArgument(format!("{name}: line {} is not JSON: {e}", i + 1)))?;
        out.push((v, i + 1));
    }
    Ok(out)
}

/// A CSV cell typed by its column's property schema (`None`: undeclared, kept as text unless it
/// is one of the JSON columns an export writes).
fn cell(text: &str, column: &str, kind: Option<Kind>) -> std::result::Result<Value, String> {
    let number = |t: &str| serde_json::from_str::<Value>(t).ok().filter(Value::is_number);
    let scalar = |s: Scalar, t: &str| -> Option<Value> {
        match s {
            Scalar::Text => Some(Value::String(t.to_string())),
            Scalar::Int => t.trim().parse::<i64>().ok().map(Value::from),
            Scalar::Float => number(t.trim()),
            Scalar::Bool => match t.trim().to_ascii_lowercase().as_str() {
                "true" => Some(Value::Bool(true)),
                "false" => Some(Value::Bool(false)),
                _ => None,
            },
        }
    };
    let json = |t: &str| serde_json::from_str::<Value>(t).map_err(|e| format!("is not JSON text ({e})"));
    match kind {
        Some(Kind::Text | Kind::Time) => Ok(Value::String(text.to_string())),
        Some(Kind::Int) => scalar(Scalar::Int, text).ok_or_else(|| format!("is not an integer: {text:?}")),
        Some(Kind::Float) => scalar(Scalar::Float, text).ok_or_else(|| format!("is not a number: {text:?}")),
        Some(Kind::Bool) => scalar(Scalar::Bool, text).ok_or_else(|| format!("is not true or false: {text:?}")),
        Some(Kind::List(_) | Kind::Json) => json(text),
        None if [EDGES, EXTRA, VECTOR].contains(&column) => json(text),
        None => Ok(Value::String(text.to_string())),
    }
}

fn csv_rows(bytes: &[u8], info: &TableInfo, name: &str) -> Result<Vec<(Value, usize)>> {
    let mut reader = csv::Reader::from_reader(bytes);
    let headers: Vec<String> = reader.headers().map_err(|e| bad(name, e))?.iter().map(str::to_string).collect();
    let props = info.schema.get("properties");
    let kinds: Vec<Option<Kind>> = headers.iter().map(|h| props.and_then(|p| p.get(h)).map(kind_of)).collect();
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(name, e))?;
        let mut row = Map::new();
        for ((h, kind), text) in headers.iter().zip(&kinds).zip(record.iter()) {
            if text.is_empty() {
                continue;
            }
            let v = cell(text, h, *kind).map_err(|why| {
                Error::InvalidArgument(format!("{name}: row {} (line {}), column '{h}' {why}", i + 1, i + 2))
            })?;
            row.insert(h.clone(), v);
        }
        // Positions are the file's lines (the header is line 1).
        out.push((Value::Object(row), i + 2));
    }
    Ok(out)
}
