//! Output rows: values, or `*` rows spliced from their stored text.
//!
//! A `SELECT *` row is the stored record's properties with `id` and `entity_type` in front.
//! Building it as a `serde_json::Value` and serialising it again was most of an indexed
//! query's cost per row; [`Out::Text`] carries the row's JSON text instead (see
//! [`crate::json::record::entity_with_star`]) through ORDER BY, OFFSET and LIMIT to the answer.

use std::borrow::Cow;

use serde_json::Value;

use crate::error::{Error, Result};

/// One output row.
pub enum Out {
    /// A row built as a value.
    Value(Value),
    /// A row's JSON text (one object, UTF-8 as stored).
    Text(Vec<u8>),
}

impl Out {
    /// The row as a value. Errors: `Storage` when spliced text is not JSON (a corrupt record).
    pub fn into_value(self) -> Result<Value> {
        match self {
            Out::Value(v) => Ok(v),
            Out::Text(t) => serde_json::from_slice(&t).map_err(Error::corrupt_record),
        }
    }

    /// The row's JSON text, for DISTINCT (equal rows give equal text: both are compact
    /// `serde_json` output).
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Out::Value(v) => Cow::Owned(v.to_string()),
            Out::Text(t) => String::from_utf8_lossy(t),
        }
    }
}

/// The rows as one JSON array. Errors: `Storage` when spliced text is not UTF-8.
pub fn to_json(rows: &[Out]) -> Result<String> {
    let size: usize = rows.iter().map(|r| if let Out::Text(t) = r { t.len() + 1 } else { 64 }).sum();
    let mut out = Vec::with_capacity(size + 2);
    out.push(b'[');
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        match row {
            Out::Value(v) => crate::json::write::value(&mut out, v),
            Out::Text(t) => out.extend_from_slice(t),
        }
    }
    out.push(b']');
    String::from_utf8(out).map_err(Error::corrupt_record)
}
