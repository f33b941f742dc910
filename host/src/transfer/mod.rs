//! Data in and out of a table as files: Parquet (ZSTD, through the `arrow` and `parquet`
//! crates), CSV (the `csv` crate) and JSONL. [`export`] streams a table out; [`import`] reads
//! the same formats back into rows for `insert_batch`, so an export imported into an empty
//! database gives the same rows, ids and vectors. Column types: [`columns`].

pub mod columns;
pub mod export;
pub mod import;

use std::path::Path;

use serde::Serialize;
use serde_json::Value;

use crate::api::Api;
use crate::error::{Error, Result};

pub use export::{ExportOptions, ExportReport, export, export_all};
pub use import::{import, normalise, read_bytes, read_file};

/// A file format of export and import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Apache Parquet, ZSTD-compressed, one row group per page of 1,000 rows.
    Parquet,
    /// Comma-separated values with a header row (RFC 4180 quoting).
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// The format a file's extension names (`.parquet`, `.csv`, `.jsonl`/`.ndjson`/`.json`).
    /// Errors: `InvalidArgument` for any other, saying to give the format.
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        match ext.as_str() {
            "parquet" | "pq" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" | "json" => Ok(Format::Jsonl),
            _ => Err(Error::InvalidArgument(format!(
                "cannot tell the format of {} from its extension: name it .parquet, .csv or .jsonl, or give \
                 --format parquet|csv|jsonl",
                path.display()
            ))),
        }
    }

    /// The file extension of the format.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Parquet => "parquet",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

impl std::str::FromStr for Format {
    type Err = Error;

    fn from_str(s: &str) -> Result<Format> {
        match s.to_ascii_lowercase().as_str() {
            "parquet" => Ok(Format::Parquet),
            "csv" => Ok(Format::Csv),
            "jsonl" | "ndjson" => Ok(Format::Jsonl),
            other => Err(Error::InvalidArgument(format!("unknown format '{other}': use parquet, csv or jsonl"))),
        }
    }
}

/// What export and import need of a table's registration.
pub(crate) struct TableInfo {
    /// The table's JSON Schema.
    pub schema: Value,
    /// The dimension of its vectors, when it keeps any.
    pub dims: Option<usize>,
}

impl TableInfo {
    /// Read `table`'s registration. Errors: `SchemaNotFound`, the engine's.
    pub fn read(api: &dyn Api, table: &str) -> Result<TableInfo> {
        let record: Value = serde_json::from_str(&api.get_schema(table)?)
            .map_err(|e| Error::Internal(format!("get_schema answered no JSON: {e}")))?;
        let keeps_vectors = record["embedding_fields"].as_array().is_some_and(|f| !f.is_empty())
            || record["embedding_provider"].as_str() == Some("none");
        let mut dims = record["embedding_dims"].as_u64().filter(|_| keeps_vectors).map(|d| d as usize);
        if keeps_vectors && dims.is_none() {
            // A table embedded by a model: its index knows the dimension.
            let stats: Value = serde_json::from_str(&api.index_stats(table)?).unwrap_or(Value::Null);
            dims = stats["dims"].as_u64().map(|d| d as usize);
        }
        Ok(TableInfo { schema: record["schema"].clone(), dims })
    }

    /// Whether the schema declares `name` as a property.
    pub fn declares(&self, name: &str) -> bool {
        self.schema.get("properties").and_then(|p| p.get(name)).is_some()
    }
}
