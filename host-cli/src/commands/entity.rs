//! Entity commands: insert (single and --batch), get, lookup, update, delete, list, count.

use std::io::{BufRead, BufReader, Read};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use indicatif::{ProgressBar, ProgressStyle};
use rem_host::{DEFAULT_BATCH_CHUNK, Error, PathSegment};
use serde_json::{Value, json};

use crate::cli::{Global, InsertArgs};
use crate::output;

/// The non-empty lines of a JSONL source with their 1-based line numbers.
pub fn read_jsonl(source: &std::path::Path) -> Result<(Vec<String>, Vec<usize>)> {
    let reader: Box<dyn Read> = if source.as_os_str() == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(std::fs::File::open(source).with_context(|| format!("cannot open {}", source.display()))?)
    };
    let mut rows = Vec::new();
    let mut lines = Vec::new();
    for (i, line) in BufReader::new(reader).lines().enumerate() {
        let line = line.with_context(|| format!("cannot read line {} of {}", i + 1, source.display()))?;
        if !line.trim().is_empty() {
            rows.push(line);
            lines.push(i + 1);
        }
    }
    Ok((rows, lines))
}

/// Re-word a batch validation error so it names input lines instead of row indexes.
pub fn batch_error(e: Error, lines: &[usize], source: &str) -> anyhow::Error {
    let Error::Validation(issues) = &e else {
        return e.into();
    };
    let mut msg = format!("batch rejected, nothing was written: {} problem(s) in {source}", issues.len());
    for i in issues.iter().take(20) {
        let (line, rest) = match i.loc.split_first() {
            Some((PathSegment::Index(r), rest)) => (lines.get(*r as usize).copied(), rest),
            _ => (None, &i.loc[..]),
        };
        let field = rest.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(".");
        let field = if field.is_empty() { "(the row)".to_string() } else { format!("field `{field}`") };
        match line {
            Some(l) => msg.push_str(&format!("\n  line {l}, {field}: {} [type={}]", i.msg, i.kind)),
            None => msg.push_str(&format!("\n  {field}: {} [type={}]", i.msg, i.kind)),
        }
    }
    if issues.len() > 20 {
        msg.push_str(&format!("\n  ... and {} more", issues.len() - 20));
    }
    crate::errors::BatchRejected(msg, e).into()
}

/// The rows of a batch file: YAML (`.yaml`/`.yml`: a list of objects, each row numbered by its
/// position from 1) or JSONL (anything else; numbered by line).
pub fn read_rows(source: &std::path::Path) -> Result<(Vec<String>, Vec<usize>)> {
    let ext = source.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
    if ext != "yaml" && ext != "yml" {
        return read_jsonl(source);
    }
    let text = std::fs::read_to_string(source).with_context(|| format!("cannot read {}", source.display()))?;
    let doc: Value =
        serde_yaml_ng::from_str(&text).with_context(|| format!("{} is not valid YAML", source.display()))?;
    let Value::Array(items) = doc else {
        bail!("{} must hold a YAML list of rows (`- name: ...`)", source.display());
    };
    let rows = items.iter().map(Value::to_string).collect();
    Ok((rows, (1..=items.len()).collect()))
}

/// `rem insert <table> <json>` or `rem insert <table> --batch [file|-]`.
pub fn insert(g: &Global, args: InsertArgs) -> Result<()> {
    let db = super::open(g)?;
    if let Some(source) = &args.batch {
        let ext = source.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let (rows, lines) = match ext.as_str() {
            "parquet" | "pq" | "csv" => rem_host::transfer::read_file(db.as_ref(), &args.table, source)?,
            _ => {
                let (rows, lines) = read_rows(source)?;
                let name = source.display().to_string();
                (rem_host::transfer::normalise(db.as_ref(), &args.table, rows, &name)?, lines)
            }
        };
        let started = Instant::now();
        let bar = ProgressBar::new(rows.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} rows ({per_sec}, eta {eta})")
                .expect("static template")
                .progress_chars("=> "),
        );
        bar.set_message(format!("inserting into {}", args.table));
        // Rows that carry their id and edges (an export's) get their edges after every row is in.
        let ids = match rows.iter().any(|r| r.contains("\"edges\"") && r.contains("\"id\"")) {
            true => rem_host::transfer::import(db.as_ref(), &args.table, rows),
            false => db.insert_batch_with_progress(&args.table, &rows, DEFAULT_BATCH_CHUNK, &mut |n| {
                bar.set_position(n as u64)
            }),
        }
        .map_err(|e| batch_error(e, &lines, &source.display().to_string()));
        bar.finish_and_clear();
        let ids = ids?;
        let secs = started.elapsed().as_secs_f64();
        let mut summary = json!({
            "table": args.table,
            "inserted": ids.len(),
            "seconds": (secs * 1000.0).round() / 1000.0,
            "rows_per_second": if secs > 0.0 { (ids.len() as f64 / secs).round() } else { 0.0 },
        });
        if args.ids {
            summary["ids"] = json!(ids);
        }
        return output::value(g.format, &summary);
    }
    let Some(data) = args.data else {
        bail!(
            "give the entity as a JSON argument, e.g. rem insert {} '{{\"name\": \"x\"}}', or use --batch FILE",
            args.table
        );
    };
    output::value(g.format, &output::parse(&db.insert(&args.table, &data)?)?)
}

/// `rem get <id>`.
pub fn get(g: &Global, id: &str, vectors: bool) -> Result<()> {
    let db = super::open(g)?;
    match db.get(id)? {
        Some(e) => {
            let mut e = output::parse(&e)?;
            if vectors {
                attach_vectors(db.as_ref(), std::slice::from_mut(&mut e))?;
            }
            output::value(g.format, &e)
        }
        None => Err(Error::NotFound(format!("no entity with id or key {id:?} in tenant '{}'", db.tenant())).into()),
    }
}

/// Give each entity in `rows` its stored vector as `embedding` (`null` without one), in one call.
pub fn attach_vectors(db: &dyn rem_host::Api, rows: &mut [Value]) -> Result<()> {
    let ids: Vec<String> = rows.iter().map(|r| r["id"].as_str().unwrap_or_default().to_string()).collect();
    for (row, v) in rows.iter_mut().zip(db.get_vectors(&ids)?) {
        if let Value::Object(m) = row {
            // Each item the shortest decimal that reads back as the same f32.
            let v =
                v.map(|v| v.iter().map(|f| f.to_string().parse::<f64>().map_or(Value::Null, Value::from)).collect());
            m.insert("embedding".into(), v.map_or(Value::Null, Value::Array));
        }
    }
    Ok(())
}

/// `rem lookup <key>`.
pub fn lookup(g: &Global, key: &str) -> Result<()> {
    let db = super::open(g)?;
    let rows = db.lookup(key)?.iter().map(|e| output::parse(e)).collect::<Result<Vec<Value>>>()?;
    output::rows(g.format, &rows)
}

/// `rem update <id> <json>`.
pub fn update(g: &Global, id: &str, patch: &str) -> Result<()> {
    let db = super::open(g)?;
    output::value(g.format, &output::parse(&db.update(id, patch)?)?)
}

/// `rem delete <id> [--hard]`.
pub fn delete(g: &Global, id: &str, hard: bool) -> Result<()> {
    let db = super::open(g)?;
    output::value(g.format, &output::parse(&db.delete(id, hard)?)?)
}

/// `rem list <table>`.
pub fn list(g: &Global, table: &str, limit: Option<u32>, offset: u32, after: Option<&str>) -> Result<()> {
    let db = super::open(g)?;
    let texts = match after {
        None => db.list(table, limit, offset)?,
        Some(after) => {
            // Quoted, so a table named like a keyword reads as a name.
            let sql = format!("SELECT id FROM \"{table}\"");
            let page = output::parse(&db.query_page(&sql, None, Some(after), limit.unwrap_or(1000))?)?;
            let ids: Vec<String> = page["rows"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|r| r["id"].as_str().map(String::from))
                .collect();
            db.get_many(&ids)?.into_iter().flatten().collect()
        }
    };
    let rows = texts.iter().map(|e| output::parse(e)).collect::<Result<Vec<Value>>>()?;
    output::rows(g.format, &rows)
}

/// `rem count <table>`: prints the number.
pub fn count(g: &Global, table: &str) -> Result<()> {
    let db = super::open(g)?;
    output::value(g.format, &json!(db.count(table)?))
}
