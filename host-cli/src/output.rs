//! Writing results to stdout in the chosen format.

use std::io::Write;

use anyhow::Result;
use comfy_table::{ContentArrangement, Table, presets::UTF8_FULL_CONDENSED};
use serde_json::Value;

use crate::cli::Format;

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Columns of `rows` in first-seen order.
fn columns(rows: &[Value]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for r in rows {
        if let Value::Object(m) = r {
            for k in m.keys() {
                if !cols.contains(k) {
                    cols.push(k.clone());
                }
            }
        }
    }
    cols
}

/// Print one JSON value.
/// Errors: writing stdout failed (a closed pipe is `BrokenPipe`, which `main` ends on quietly).
pub fn value(format: Format, v: &Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match (format, v) {
        (Format::Json, _) => writeln!(out, "{}", serde_json::to_string_pretty(v)?)?,
        (Format::Jsonl, Value::Array(items)) => rows(format, items)?,
        (Format::Jsonl, _) => writeln!(out, "{}", serde_json::to_string(v)?)?,
        (Format::Table | Format::Csv, Value::Array(items)) => rows(format, items)?,
        (Format::Table | Format::Csv, Value::Object(_)) => rows(format, std::slice::from_ref(v))?,
        (Format::Table | Format::Csv, other) => writeln!(out, "{}", cell(other))?,
    }
    Ok(())
}

/// Whether `e` is stdout closed under us (`rem query ... | head -2`): not a failure of the command.
pub fn is_closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<csv::Error>().is_some_and(
                |c| matches!(c.kind(), csv::ErrorKind::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe),
            )
    })
}

/// Print a list of rows.
pub fn rows(format: Format, items: &[Value]) -> Result<()> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(items)?)?,
        Format::Jsonl => {
            for r in items {
                writeln!(out, "{}", serde_json::to_string(r)?)?;
            }
        }
        Format::Table => {
            let cols = columns(items);
            let mut t = Table::new();
            t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic);
            if cols.is_empty() {
                t.set_header(vec!["value"]);
                for r in items {
                    t.add_row(vec![cell(r)]);
                }
            } else {
                t.set_header(cols.clone());
                for r in items {
                    t.add_row(cols.iter().map(|c| r.get(c).map(cell).unwrap_or_default()).collect::<Vec<_>>());
                }
            }
            writeln!(out, "{t}")?;
            writeln!(out, "({} row{})", items.len(), if items.len() == 1 { "" } else { "s" })?;
        }
        Format::Csv => {
            let cols = columns(items);
            let mut w = csv::Writer::from_writer(out);
            w.write_record(&cols)?;
            for r in items {
                w.write_record(cols.iter().map(|c| r.get(c).map(cell).unwrap_or_default()))?;
            }
            w.flush()?;
        }
    }
    Ok(())
}

/// Parse JSON text the engine returned.
pub fn parse(text: &str) -> Result<Value> {
    Ok(serde_json::from_str(text)?)
}
