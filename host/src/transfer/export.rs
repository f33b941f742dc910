//! Export a table to Parquet (ZSTD), CSV or JSONL, streaming: the table is read in pages of ids
//! in id order (`query_page`), each page's entities fetched with `get_many` (and their vectors
//! with `get_vectors`), and written at once (a Parquet row group per page), so memory stays
//! bounded by one page. The file is written under a temporary name beside the target and
//! renamed into place only when complete.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::builder::{
    BooleanBuilder, FixedSizeListBuilder, Float32Builder, Float64Builder, Int64Builder, ListBuilder, StringBuilder,
    TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use serde::Serialize;
use serde_json::{Map, Value};

use super::columns::{self, Column, EDGES, EXTRA, Kind, SYSTEM, Scalar, VECTOR};
use super::{Format, TableInfo};
use crate::api::Api;
use crate::error::{Error, Result};

/// Rows per page read and written (a Parquet row group).
pub const PAGE_ROWS: u32 = 1000;

/// What to export and how (see [`export`]).
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// The file format (`None`: from the file's extension).
    pub format: Option<Format>,
    /// A REM SQL predicate the rows must pass (`WHERE` without the keyword).
    pub filter: Option<String>,
    /// Add the `embedding` column (the table's vectors, `FixedSizeList<Float32>` in Parquet).
    pub with_vectors: bool,
    /// Export soft-deleted rows too.
    pub include_deleted: bool,
    /// Replace a file already at the path.
    pub force: bool,
}

/// What [`export`] wrote.
#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    /// The table.
    pub table: String,
    /// The file written.
    pub path: PathBuf,
    /// Its format.
    pub format: Format,
    /// Rows written.
    pub rows: u64,
    /// The file's size in bytes.
    pub bytes: u64,
}

fn io(context: String, e: impl std::fmt::Display) -> Error {
    Error::Io { context, message: e.to_string() }
}

fn bad_value(id: &Value, column: &str, what: &str) -> Error {
    Error::InvalidArgument(format!("row {id}: column '{column}' {what}; export it as JSON text (--format jsonl)"))
}

/// The writer of one format.
enum Sink {
    Parquet(Box<ArrowWriter<File>>),
    Csv(Box<csv::Writer<File>>),
    Jsonl(BufWriter<File>),
}

/// Export `table` to `path` (see the module doc); `progress` gets the rows written so far.
/// Errors: `InvalidArgument` (unknown format, the path exists and `force` is false, vectors of
/// a table that keeps none, a bad `filter`, a value its column cannot hold), `SchemaNotFound`,
/// `Io` (the partial file is removed), and the engine's errors.
pub fn export(
    api: &dyn Api,
    table: &str,
    path: &Path,
    options: &ExportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<ExportReport> {
    let format = match options.format {
        Some(f) => f,
        None => Format::from_path(path)?,
    };
    if path.exists() && !options.force {
        return Err(Error::InvalidArgument(format!(
            "{} already exists; choose another path, or pass --force (force=True) to replace it",
            path.display()
        )));
    }
    let info = TableInfo::read(api, table)?;
    let dims = match options.with_vectors {
        true => Some(info.dims.ok_or_else(|| {
            Error::InvalidArgument(format!("table '{table}' keeps no vectors: leave out --with-vectors"))
        })?),
        false => None,
    };
    let columns = columns::columns(&info.schema);
    let partial = crate::private::partial_beside(path);
    let written = write(api, table, &partial, format, &columns, dims, options, progress);
    let finished = written.and_then(|rows| {
        std::fs::rename(&partial, path)
            .map_err(|e| io(format!("cannot move the export into place at {}", path.display()), e))?;
        Ok(rows)
    });
    match finished {
        Ok(rows) => {
            let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            Ok(ExportReport { table: table.to_string(), path: path.to_path_buf(), format, rows, bytes })
        }
        Err(e) => {
            let _ = std::fs::remove_file(&partial);
            Err(e)
        }
    }
}

/// Export every table of the tenant to `dir` (created if needed), one `<table>.<ext>` each.
/// Errors: as [`export`], for the first table that fails (the files written before it stay).
pub fn export_all(
    api: &dyn Api,
    dir: &Path,
    options: &ExportOptions,
    progress: &mut dyn FnMut(&str, u64),
) -> Result<Vec<ExportReport>> {
    let format = options.format.unwrap_or(Format::Parquet);
    crate::private::create_dir(dir).map_err(|e| io(format!("cannot create {}", dir.display()), e))?;
    let mut out = Vec::new();
    for table in api.list_schemas()? {
        let path = dir.join(format!("{table}.{}", format.extension()));
        let mut one = options.clone();
        one.format = Some(format);
        one.with_vectors = options.with_vectors && TableInfo::read(api, &table)?.dims.is_some();
        out.push(export(api, &table, &path, &one, &mut |n| progress(&table, n))?);
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn write(
    api: &dyn Api,
    table: &str,
    partial: &Path,
    format: Format,
    columns: &[Column],
    dims: Option<usize>,
    options: &ExportOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    let file = crate::private::open_or_create_file(partial)
        .map_err(|e| io(format!("cannot create {}", partial.display()), e))?;
    let schema = Arc::new(columns::arrow_schema(columns, dims));
    let mut sink = match format {
        Format::Parquet => {
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(3).map_err(|e| Error::Internal(e.to_string()))?))
                .build();
            Sink::Parquet(Box::new(
                ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| Error::Internal(e.to_string()))?,
            ))
        }
        Format::Csv => {
            let mut w = csv::Writer::from_writer(file);
            let mut header: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            if dims.is_some() {
                header.push(VECTOR);
            }
            w.write_record(&header).map_err(|e| io(format!("cannot write {}", partial.display()), e))?;
            Sink::Csv(Box::new(w))
        }
        Format::Jsonl => Sink::Jsonl(BufWriter::new(file)),
    };
    let mut conditions = Vec::new();
    if let Some(f) = options.filter.as_deref().filter(|f| !f.trim().is_empty()) {
        if !balanced(f) {
            return Err(Error::InvalidArgument(format!(
                "--where must be one predicate with balanced parentheses and quotes, got {f:?}"
            )));
        }
        conditions.push(format!("({f})"));
    }
    if options.include_deleted {
        conditions.push("(deleted_at IS NULL OR deleted_at IS NOT NULL)".into());
    }
    let sql = match conditions.is_empty() {
        true => format!("SELECT id FROM \"{table}\""),
        false => format!("SELECT id FROM \"{table}\" WHERE {}", conditions.join(" AND ")),
    };
    let declared: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
    let mut after: Option<String> = None;
    let mut rows = 0u64;
    let werr = |e: &dyn std::fmt::Display| io(format!("cannot write {}", partial.display()), e);
    loop {
        let page: Value = serde_json::from_str(&api.query_page(&sql, None, after.as_deref(), PAGE_ROWS)?)
            .map_err(|e| Error::Internal(format!("query_page answered no JSON: {e}")))?;
        let ids: Vec<String> = page["rows"]
            .as_array()
            .map(|r| r.iter().filter_map(|row| row["id"].as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        if !ids.is_empty() {
            let found = api.get_many(&ids)?;
            let mut vectors = match dims {
                Some(_) => api.get_vectors(&ids)?,
                None => Vec::new(),
            };
            // A row deleted since the page was read is left out, with its vector.
            let mut entities: Vec<Value> = Vec::with_capacity(ids.len());
            let mut kept_vectors = Vec::with_capacity(vectors.len());
            for (i, text) in found.into_iter().enumerate() {
                let Some(text) = text else { continue };
                entities.push(
                    serde_json::from_str(&text)
                        .map_err(|e| Error::Internal(format!("get_many answered no JSON: {e}")))?,
                );
                if dims.is_some() {
                    kept_vectors.push(vectors.get_mut(i).and_then(Option::take));
                }
            }
            let vectors = kept_vectors;
            let flat: Vec<Map<String, Value>> = entities.iter().map(|e| flatten(e, &declared)).collect();
            match &mut sink {
                Sink::Parquet(w) => {
                    let batch = record_batch(&schema, columns, &flat, dims.map(|d| (d, vectors.as_slice())))?;
                    w.write(&batch).map_err(|e| werr(&e))?;
                    w.flush().map_err(|e| werr(&e))?;
                }
                Sink::Csv(w) => {
                    for (i, row) in flat.iter().enumerate() {
                        let mut record: Vec<String> = columns.iter().map(|c| csv_cell(row.get(&c.name))).collect();
                        if dims.is_some() {
                            record.push(vectors.get(i).cloned().flatten().map(|v| json_floats(&v)).unwrap_or_default());
                        }
                        w.write_record(&record).map_err(|e| werr(&e))?;
                    }
                }
                Sink::Jsonl(w) => {
                    for (i, (entity, row)) in entities.iter().zip(&flat).enumerate() {
                        let mut line = jsonl_row(entity, row);
                        if let Some(Some(v)) = vectors.get(i) {
                            line.insert(
                                VECTOR.into(),
                                Value::from(v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>()),
                            );
                        }
                        serde_json::to_writer(&mut *w, &line).map_err(|e| werr(&e))?;
                        w.write_all(b"\n").map_err(|e| werr(&e))?;
                    }
                }
            }
            rows += entities.len() as u64;
            progress(rows);
        }
        match page["next"].as_str() {
            Some(next) => after = Some(next.to_string()),
            None => break,
        }
    }
    match sink {
        Sink::Parquet(w) => {
            w.into_inner().map_err(|e| werr(&e))?.sync_all().map_err(|e| werr(&e))?;
        }
        Sink::Csv(w) => {
            w.into_inner().map_err(|e| werr(&e))?.sync_all().map_err(|e| werr(&e))?;
        }
        Sink::Jsonl(w) => {
            w.into_inner().map_err(|e| werr(&e))?.sync_all().map_err(|e| werr(&e))?;
        }
    }
    Ok(rows)
}

/// Whether a predicate's parentheses balance outside its quoted texts and it holds no `;` or
/// comment there (so, put in parentheses, it stays one predicate and cannot close the
/// statement's own).
fn balanced(predicate: &str) -> bool {
    let (mut depth, mut quote) = (0i64, None::<char>);
    let mut chars = predicate.chars().peekable();
    while let Some(c) = chars.next() {
        // A comment could hide the closing parenthesis: none outside quotes.
        if quote.is_none() && matches!((c, chars.peek()), ('-', Some('-')) | ('/', Some('*'))) {
            return false;
        }
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth < 0 {
                    return false;
                }
            }
            (None, ';') => return false,
            _ => {}
        }
    }
    depth == 0 && quote.is_none()
}

/// An entity as one flat row: system fields, declared properties, `edges` (when any) and the
/// undeclared members as one object under `_extra`.
fn flatten(entity: &Value, declared: &[&str]) -> Map<String, Value> {
    let mut row = Map::new();
    for f in SYSTEM {
        row.insert(f.into(), entity.get(f).cloned().unwrap_or(Value::Null));
    }
    let mut extra = Map::new();
    if let Some(Value::Object(props)) = entity.get("properties") {
        for (k, v) in props {
            if declared.contains(&k.as_str()) && !SYSTEM.contains(&k.as_str()) && k != EDGES && k != EXTRA {
                row.insert(k.clone(), v.clone());
            } else {
                extra.insert(k.clone(), v.clone());
            }
        }
    }
    if let Some(edges) = entity.get("edges").filter(|e| e.as_array().is_some_and(|a| !a.is_empty())) {
        row.insert(EDGES.into(), edges.clone());
    }
    if !extra.is_empty() {
        row.insert(EXTRA.into(), Value::Object(extra));
    }
    row
}

/// A JSONL line: system fields, every property (declared or not) and `edges` when any.
fn jsonl_row(entity: &Value, flat: &Map<String, Value>) -> Map<String, Value> {
    let mut line = Map::new();
    for f in SYSTEM {
        line.insert(f.into(), flat.get(f).cloned().unwrap_or(Value::Null));
    }
    if let Some(Value::Object(props)) = entity.get("properties") {
        for (k, v) in props {
            line.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let Some(edges) = flat.get(EDGES) {
        line.insert(EDGES.into(), edges.clone());
    }
    line
}

fn json_floats(v: &[f32]) -> String {
    Value::from(v.iter().map(|x| f64::from(*x)).collect::<Vec<_>>()).to_string()
}

/// A CSV cell: text as itself, NULL as an empty cell, anything else as its JSON text.
fn csv_cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// An RFC 3339 time as microseconds since the epoch.
fn micros(s: &str) -> Option<i64> {
    let t: jiff::Timestamp = s.parse().ok()?;
    Some(t.as_microsecond())
}

/// One page of rows as an Arrow record batch of `schema`.
fn record_batch(
    schema: &Arc<arrow_schema::Schema>,
    columns: &[Column],
    rows: &[Map<String, Value>],
    vectors: Option<(usize, &[Option<Vec<f32>>])>,
) -> Result<RecordBatch> {
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len() + 1);
    for c in columns {
        let cells = rows.iter().map(|r| (r.get("id").unwrap_or(&Value::Null), r.get(&c.name)));
        arrays.push(array(c, cells)?);
    }
    if let Some((dims, vectors)) = vectors {
        let mut b = FixedSizeListBuilder::new(Float32Builder::with_capacity(rows.len() * dims), dims as i32);
        for i in 0..rows.len() {
            match vectors.get(i).and_then(Option::as_ref) {
                Some(v) if v.len() == dims => {
                    b.values().append_slice(v);
                    b.append(true);
                }
                _ => {
                    b.values().append_nulls(dims);
                    b.append(false);
                }
            }
        }
        arrays.push(Arc::new(b.finish()));
    }
    RecordBatch::try_new(schema.clone(), arrays).map_err(|e| Error::Internal(e.to_string()))
}

/// One column's array from its cells (row id, value).
fn array<'a>(c: &Column, cells: impl Iterator<Item = (&'a Value, Option<&'a Value>)>) -> Result<ArrayRef> {
    let name = c.name.as_str();
    // A column of one scalar type: NULLs kept, any other value an error naming the row.
    macro_rules! scalar_column {
        ($builder:expr, $get:expr, $what:expr) => {{
            let mut b = $builder;
            for (id, v) in cells {
                match v {
                    None | Some(Value::Null) => b.append_null(),
                    Some(v) => b.append_value($get(v).ok_or_else(|| bad_value(id, name, $what))?),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    Ok(match c.kind {
        Kind::Text | Kind::Json => {
            let mut b = StringBuilder::new();
            for (_, v) in cells {
                match v {
                    None | Some(Value::Null) => b.append_null(),
                    Some(Value::String(s)) if c.kind == Kind::Text => b.append_value(s),
                    Some(other) => b.append_value(other.to_string()),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Time => {
            let mut b = TimestampMicrosecondBuilder::new().with_timezone("+00:00");
            for (id, v) in cells {
                match v {
                    None | Some(Value::Null) => b.append_null(),
                    Some(Value::String(s)) => {
                        b.append_value(micros(s).ok_or_else(|| bad_value(id, name, "is not an RFC 3339 time"))?)
                    }
                    Some(_) => return Err(bad_value(id, name, "is not a time")),
                }
            }
            Arc::new(b.finish())
        }
        Kind::Int => scalar_column!(Int64Builder::new(), Value::as_i64, "is not a 64-bit integer"),
        Kind::Float => scalar_column!(Float64Builder::new(), Value::as_f64, "is not a number"),
        Kind::Bool => scalar_column!(BooleanBuilder::new(), Value::as_bool, "is not a boolean"),
        Kind::List(s) => list(name, s, cells)?,
    })
}

fn list<'a>(name: &str, s: Scalar, cells: impl Iterator<Item = (&'a Value, Option<&'a Value>)>) -> Result<ArrayRef> {
    macro_rules! build {
        ($builder:expr, $get:expr, $what:expr) => {{
            let mut b = ListBuilder::new($builder);
            for (id, v) in cells {
                match v {
                    None | Some(Value::Null) => b.append(false),
                    Some(Value::Array(items)) => {
                        for item in items {
                            match item {
                                Value::Null => b.values().append_null(),
                                other => {
                                    b.values().append_value($get(other).ok_or_else(|| bad_value(id, name, $what))?)
                                }
                            }
                        }
                        b.append(true);
                    }
                    Some(_) => return Err(bad_value(id, name, "is not a list")),
                }
            }
            Arc::new(b.finish()) as ArrayRef
        }};
    }
    Ok(match s {
        Scalar::Text => {
            build!(StringBuilder::new(), |v: &Value| v.as_str().map(str::to_string), "holds a non-text item")
        }
        Scalar::Int => build!(Int64Builder::new(), Value::as_i64, "holds a non-integer item"),
        Scalar::Float => build!(Float64Builder::new(), Value::as_f64, "holds a non-number item"),
        Scalar::Bool => build!(BooleanBuilder::new(), Value::as_bool, "holds a non-boolean item"),
    })
}
