//! `rem dream` / `db.dream(...)`: a chat model reads a period of activity and writes back
//! what is worth remembering: `moments` (the core schema), one summary of the period (a
//! moment of type `reflection` tagged `dream-summary`), and typed edges between the
//! resources, sessions and entities it saw (each with a `reason` in its properties).
//!
//! Activity is the period's messages (grouped by session) and the rows of every other table
//! created or modified in it, read with REM SQL; it is cut into batches that fit the model's
//! context ([`DreamOptions::max_context_chars`]), one chat call each, and the batch summaries
//! are merged by one more call when there are several. Everything is written through one
//! [`crate::WriteSet`] (one transaction: all or nothing), validated by the schemas. Moments
//! are keyed by name and tagged `dream` with their window in `metadata.dream`, so dreaming
//! over the same window again upserts them and removes the ones it no longer proposes.
//! Edges are written only between rows the model was shown (so both ends exist).

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;
use serde_json::{Value, json};

use super::catalog::truncate;
use super::parse;
use crate::error::{Error, Result};
use crate::llm::{ChatMessage, ChatModel, ChatRequest, Tokens, chat_json};
use crate::{Api, TableRows, WriteSet};

/// The table dreams write to.
pub const MOMENTS: &str = "moments";
/// The table whose rows are read as conversations.
pub const MESSAGES: &str = "messages";
/// Characters of one message or row shown to the model.
const ITEM_CHARS: usize = 600;
/// Rows read per table for one window.
const MAX_ROWS: usize = 2_000;
/// The `moment_type` values of the core `moments` schema.
const MOMENT_TYPES: &[&str] =
    &["work_session", "learning", "planning", "communication", "reflection", "creation", "other"];

/// A period of time, RFC 3339 UTC with microseconds (the system fields' format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Window {
    /// Inclusive start.
    pub start: String,
    /// Inclusive end.
    pub end: String,
}

impl Window {
    /// The last `hours` hours, ending now.
    pub fn lookback(hours: f64) -> Result<Window> {
        if !(hours.is_finite() && hours > 0.0) {
            return Err(Error::InvalidArgument(format!("lookback hours must be a positive number, not {hours}")));
        }
        let end = jiff::Timestamp::now();
        let span = jiff::SignedDuration::try_from_secs_f64(hours * 3600.0)
            .map_err(|e| Error::InvalidArgument(format!("lookback {hours} h is out of range: {e}")))?;
        let start = end.checked_sub(span).map_err(|e| Error::InvalidArgument(format!("lookback {hours} h: {e}")))?;
        Ok(Window { start: format!("{start:.6}"), end: format!("{end:.6}") })
    }

    /// From `start` to `end`, each an RFC 3339 timestamp or a date (`2026-12-01`: its midnight
    /// UTC for the start, its last microsecond for the end). Errors: `InvalidArgument` naming the
    /// value that is neither, or an end before the start.
    pub fn between(start: &str, end: &str) -> Result<Window> {
        let start = instant(start, "start", false)?;
        let end = instant(end, "end", true)?;
        if end < start {
            return Err(Error::InvalidArgument(format!("the end {end} is before the start {start}")));
        }
        Ok(Window { start: format!("{start:.6}"), end: format!("{end:.6}") })
    }
}

fn instant(text: &str, what: &str, end_of_day: bool) -> Result<jiff::Timestamp> {
    if let Ok(t) = text.parse::<jiff::Timestamp>() {
        return Ok(t);
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        Error::InvalidArgument(format!(
            "--{what} {text:?} is neither a date (2026-12-01) nor an RFC 3339 time (2026-12-01T09:00:00Z)"
        ))
    })?;
    let time =
        if end_of_day { jiff::civil::Time::constant(23, 59, 59, 999_999_000) } else { jiff::civil::Time::midnight() };
    date.to_datetime(time)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp())
        .map_err(|e| Error::InvalidArgument(format!("--{what} {text:?}: {e}")))
}

/// Options of [`dream`].
#[derive(Debug, Clone)]
pub struct DreamOptions {
    /// The period to read.
    pub window: Window,
    /// Return what would be written, and write nothing.
    pub dry_run: bool,
    /// Characters of activity per chat call (about 4 per token; default 48,000, about 12k
    /// tokens, within every current chat model's context with room for the answer).
    pub max_context_chars: usize,
}

impl DreamOptions {
    /// Options for `window` with the defaults.
    pub fn new(window: Window) -> Self {
        DreamOptions { window, dry_run: false, max_context_chars: 48_000 }
    }
}

/// What [`dream`] did (or, with `dry_run`, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DreamReport {
    /// The period read.
    pub window: Window,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// The model's name (empty when there was no activity to read).
    pub model: String,
    /// Messages read.
    pub messages: usize,
    /// Sessions those messages belong to.
    pub sessions: usize,
    /// Other rows read (created or modified in the window).
    pub rows: usize,
    /// Chat calls that read activity (batches).
    pub batches: usize,
    /// Moments written (the summary not counted).
    pub moments_written: usize,
    /// Summaries written (0 or 1).
    pub summaries_written: usize,
    /// Edges written.
    pub edges_written: usize,
    /// Edges the model proposed between rows it was not shown (not written).
    pub edges_dropped: usize,
    /// `resource_ids` and `session_ids` the model named that it was not shown (not written).
    pub ids_dropped: usize,
    /// Moments renamed because another moment (not of a dream of this window) has the name:
    /// the window's start date is added to the name.
    pub moments_renamed: usize,
    /// Moments of an earlier dream over the same window that this one replaced (hard-deleted).
    pub moments_replaced: usize,
    /// Tokens used.
    pub tokens: Tokens,
    /// The summary of the period.
    pub summary: String,
    /// The rows and edges written (or that would be).
    pub writes: Value,
}

/// The answer shape asked of the model per batch.
pub fn batch_schema() -> Value {
    let strings = json!({"type": "array", "items": {"type": "string"}});
    json!({
        "type": "object",
        "properties": {
            "moments": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "name": {"type": "string"}, "summary": {"type": "string"},
                    "start_time": {"type": "string"}, "end_time": {"type": "string"},
                    "moment_type": {"type": "string", "enum": MOMENT_TYPES},
                    "tags": strings, "emotion_tags": strings, "people": strings,
                    "resource_ids": strings, "session_ids": strings
                },
                "required": ["name", "summary", "moment_type"]
            }},
            "summary": {"type": "string"},
            "edges": {"type": "array", "items": {
                "type": "object",
                "properties": {
                    "src": {"type": "string"}, "dst": {"type": "string"}, "rel_type": {"type": "string"},
                    "reason": {"type": "string"}, "weight": {"type": "number"}
                },
                "required": ["src", "dst", "rel_type", "reason"]
            }}
        },
        "required": ["moments", "summary", "edges"]
    })
}

/// One thing the model reads: its id, and its text.
struct Item {
    text: String,
}

/// The period's activity, as prompt lines, and the ids the model may name.
#[derive(Default)]
struct Activity {
    items: Vec<Item>,
    /// Ids of rows shown (any table), for edges and `resource_ids`.
    ids: HashSet<String>,
    /// Session keys and ids shown, for `session_ids`.
    sessions: HashSet<String>,
    /// One name per session shown (its key), for the count.
    session_names: HashSet<String>,
    messages: usize,
    rows: usize,
}

/// The fields of a table worth showing the model: its key and embedded fields, else its first
/// few declared text properties.
fn shown_fields(record: &Value) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    if let Some(k) = record["key_field"].as_str() {
        fields.push(k.to_string());
    }
    for f in record["embedding_fields"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if !fields.iter().any(|x| x == f) && !f.contains('.') {
            fields.push(f.to_string());
        }
    }
    if fields.len() <= 1 {
        let props = record["schema"]["properties"].as_object();
        for (name, spec) in props.into_iter().flatten() {
            if spec["type"] == "string" && fields.len() < 6 && !fields.contains(name) {
                fields.push(name.clone());
            }
        }
    }
    fields.retain(|f| !f.contains('"'));
    fields
}

fn text_of(row: &Value, fields: &[String]) -> String {
    let props = &row["properties"];
    let parts: Vec<String> = fields
        .iter()
        .filter_map(|f| props.get(f).or_else(|| row.get(f)))
        .filter_map(|v| v.as_str().map(String::from).or_else(|| (!v.is_null()).then(|| v.to_string())))
        .collect();
    if parts.is_empty() { truncate(&row.to_string(), ITEM_CHARS) } else { truncate(&parts.join(" / "), ITEM_CHARS) }
}

fn rows_of(api: &dyn Api, sql: &str) -> Result<Vec<Value>> {
    match parse(&api.query(sql)?)? {
        Value::Array(rows) => Ok(rows),
        _ => Ok(Vec::new()),
    }
}

fn field<'a>(row: &'a Value, name: &str) -> &'a Value {
    row.get("properties").and_then(|p| p.get(name)).filter(|v| !v.is_null()).unwrap_or(&row[name])
}

fn read_activity(api: &dyn Api, window: &Window, max_chars: usize) -> Result<Activity> {
    let tables = api.list_schemas()?;
    let mut act = Activity::default();
    let (start, end) = (&window.start, &window.end);
    if tables.iter().any(|t| t == MESSAGES) {
        // `timestamp` is stored as the writer spelled it (an offset, no fraction) and compared as
        // text: read a day more on each side, then keep what falls in the window as a time.
        let (from, to) = (instant(start, "start", false)?, instant(end, "end", true)?);
        let day = jiff::SignedDuration::from_hours(24);
        let wide = |t: jiff::Timestamp, later: bool| {
            let moved = if later { t.checked_add(day) } else { t.checked_sub(day) };
            format!("{:.6}", moved.unwrap_or(t))
        };
        let msgs = rows_of(
            api,
            &format!(
                "SELECT * FROM {MESSAGES} WHERE timestamp >= '{}' AND timestamp <= '{}' ORDER BY timestamp LIMIT {MAX_ROWS}",
                wide(from, false),
                wide(to, true)
            ),
        )?;
        let mut by_session: BTreeMap<String, Vec<(jiff::Timestamp, &Value)>> = BTreeMap::new();
        for m in &msgs {
            let Some(at) = field(m, "timestamp").as_str().and_then(|t| t.parse::<jiff::Timestamp>().ok()) else {
                continue;
            };
            if at < from || at > to {
                continue;
            }
            by_session
                .entry(field(m, "session_id").as_str().unwrap_or_default().to_string())
                .or_default()
                .push((at, m));
        }
        for (session, mut msgs) in by_session {
            msgs.sort_by_key(|(at, _)| *at);
            let head = format!("session {session}:\n");
            let mut text = head.clone();
            for (at, m) in msgs {
                let line = format!(
                    "  [{at:.6}] {}: {}\n",
                    field(m, "role").as_str().unwrap_or_default(),
                    truncate(field(m, "content").as_str().unwrap_or_default(), ITEM_CHARS)
                );
                // A session longer than one call's budget goes in parts, each naming the session.
                if text.chars().count() + line.chars().count() > max_chars && text != head {
                    act.items
                        .push(Item { text: std::mem::replace(&mut text, format!("session {session} (continued):\n")) });
                }
                text.push_str(&line);
                act.messages += 1;
            }
            act.sessions.insert(session.clone());
            act.session_names.insert(session);
            act.items.push(Item { text });
        }
    }
    for table in tables.iter().filter(|t| *t != MESSAGES && *t != MOMENTS) {
        let record = parse(&api.get_schema(table)?)?;
        let fields = shown_fields(&record);
        let columns: String = fields.iter().map(|f| format!(", \"{f}\"")).collect();
        let rows = rows_of(
            api,
            &format!(
                "SELECT id, modified_at{columns} FROM \"{table}\" WHERE modified_at >= '{start}' AND modified_at <= '{end}' \
                 ORDER BY modified_at LIMIT {MAX_ROWS}"
            ),
        )?;
        for row in rows {
            let id = row["id"].as_str().unwrap_or_default().to_string();
            if table == "sessions" {
                act.sessions.insert(id.clone());
                let key = field(&row, "session_id").as_str().unwrap_or(&id).to_string();
                act.sessions.insert(key.clone());
                act.session_names.insert(key);
            }
            act.items.push(Item {
                text: format!(
                    "{table} id={id} modified={}: {}\n",
                    row["modified_at"].as_str().unwrap_or_default(),
                    text_of(&row, &fields)
                ),
            });
            act.ids.insert(id);
            act.rows += 1;
        }
    }
    Ok(act)
}

fn system_prompt(window: &Window) -> String {
    format!(
        "You read an agent's activity between {} and {} and decide what is worth remembering.\n\
         Answer with a JSON object only:\n\
         {{\"moments\": [{{\"name\": \"<short unique title>\", \"summary\": \"<what happened, 1-3 sentences>\", \
         \"start_time\": \"<RFC 3339>\", \"end_time\": \"<RFC 3339>\", \"moment_type\": \"{}\", \"tags\": [], \
         \"emotion_tags\": [], \"people\": [], \"resource_ids\": [\"<ids shown below>\"], \
         \"session_ids\": [\"<session names shown below>\"]}}],\n \
         \"summary\": \"<the period in a few sentences>\",\n \
         \"edges\": [{{\"src\": \"<id shown below>\", \"dst\": \"<id shown below>\", \"rel_type\": \"<snake_case \
         relation>\", \"reason\": \"<why>\", \"weight\": <0 to 1>}}]}}\n\
         Use only ids that appear in the activity. Few, meaningful moments; no moment for trivia.",
        window.start,
        window.end,
        MOMENT_TYPES.join("|")
    )
}

/// Split the items into batches of at most `max` characters (an item longer than `max` alone;
/// sessions are already cut to `max`).
fn batches(items: &[Item], max: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut chars = 0;
    for item in items {
        let n = item.text.chars().count();
        if !current.is_empty() && chars + n > max {
            out.push(std::mem::take(&mut current));
            chars = 0;
        }
        current.push_str(&item.text);
        chars += n;
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn strings_in(v: &Value, keep: impl Fn(&str) -> bool) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().filter_map(Value::as_str).filter(|s| keep(s)).map(String::from).collect())
        .unwrap_or_default()
}

/// The strings of `v` that are in `known`; the others are counted in `dropped`.
fn kept_ids(v: &Value, known: &HashSet<String>, dropped: &mut usize) -> Vec<String> {
    let all = strings_in(v, |_| true);
    let kept: Vec<String> = all.iter().filter(|s| known.contains(*s)).cloned().collect();
    *dropped += all.len() - kept.len();
    kept
}

/// Whether `name` is free for a moment of the dream of `window_text`: no moment has it, or
/// the one that has it was written by a dream of the same window.
fn name_is_ours(api: &dyn Api, name: &str, window_text: &str) -> Result<bool> {
    for found in api.lookup(name)? {
        let row = parse(&found)?;
        if row["entity_type"] == MOMENTS && field(&row, "metadata")["dream"]["window"] != window_text {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Read the window's activity, ask `model` what to remember, and write it (see the module
/// documentation). With no activity, nothing is asked or written. Errors: `Llm` (the model
/// failed or did not answer JSON), `SchemaNotFound` (no `moments` table: run `rem init`),
/// `Validation` (a moment the schema refuses; nothing is written), and the engine's errors.
pub fn dream(api: &dyn Api, model: &dyn ChatModel, options: &DreamOptions) -> Result<DreamReport> {
    // Parsed again, so the window's text in the queries below is always a timestamp.
    let window = &Window::between(&options.window.start, &options.window.end)?;
    if !api.list_schemas()?.iter().any(|t| t == MOMENTS) {
        return Err(Error::SchemaNotFound(format!(
            "dreams are written to the `{MOMENTS}` table, which this database does not have: run `rem init` (it \
             registers the core schemas)"
        )));
    }
    let act = read_activity(api, window, options.max_context_chars.max(1_000))?;
    let mut report = DreamReport {
        window: window.clone(),
        dry_run: options.dry_run,
        model: String::new(),
        messages: act.messages,
        sessions: act.session_names.len(),
        rows: act.rows,
        batches: 0,
        moments_written: 0,
        summaries_written: 0,
        edges_written: 0,
        edges_dropped: 0,
        ids_dropped: 0,
        moments_renamed: 0,
        moments_replaced: 0,
        tokens: Tokens::default(),
        summary: String::new(),
        writes: json!({"moments": [], "edges": [], "deletes": []}),
    };
    if act.items.is_empty() {
        return Ok(report);
    }
    report.model = model.name();
    let window_text = format!("{}/{}", window.start, window.end);
    let mut moments: BTreeMap<String, Value> = BTreeMap::new();
    let mut edges: BTreeMap<(String, String, String), Value> = BTreeMap::new();
    let mut summaries = Vec::new();
    for batch in batches(&act.items, options.max_context_chars.max(1_000)) {
        report.batches += 1;
        let request = ChatRequest {
            messages: vec![
                ChatMessage::system(system_prompt(window)),
                ChatMessage::user(format!("Activity:\n{batch}")),
            ],
            schema: Some(("rem_dream".into(), batch_schema())),
        };
        let answer = chat_json(model, request, &mut report.tokens)?;
        if let Some(s) = answer.get("summary").and_then(Value::as_str).filter(|s| !s.trim().is_empty()) {
            summaries.push(s.trim().to_string());
        }
        for m in answer.get("moments").and_then(Value::as_array).into_iter().flatten() {
            let Some(name) = m["name"].as_str().map(str::trim).filter(|n| !n.is_empty()) else { continue };
            let name = truncate(name, 200);
            let kind = m["moment_type"].as_str().filter(|t| MOMENT_TYPES.contains(t)).unwrap_or("other");
            let time = |k: &str, default: &str| {
                m[k].as_str()
                    .and_then(|t| t.parse::<jiff::Timestamp>().ok())
                    .map_or_else(|| default.to_string(), |t| format!("{t:.6}"))
            };
            let mut tags = strings_in(&m["tags"], |_| true);
            if !tags.iter().any(|t| t == "dream") {
                tags.push("dream".into());
            }
            let row = json!({
                "name": name,
                "summary": m["summary"].as_str().unwrap_or_default(),
                "start_time": time("start_time", &window.start),
                "end_time": time("end_time", &window.end),
                "moment_type": kind,
                "tags": tags,
                "emotion_tags": strings_in(&m["emotion_tags"], |_| true),
                "people": strings_in(&m["people"], |_| true),
                "resource_ids": kept_ids(&m["resource_ids"], &act.ids, &mut report.ids_dropped),
                "session_ids": kept_ids(&m["session_ids"], &act.sessions, &mut report.ids_dropped),
                "metadata": {"dream": {"window": window_text, "model": report.model}},
            });
            moments.insert(name, row);
        }
        for e in answer.get("edges").and_then(Value::as_array).into_iter().flatten() {
            let (Some(src), Some(dst), Some(rel)) = (e["src"].as_str(), e["dst"].as_str(), e["rel_type"].as_str())
            else {
                report.edges_dropped += 1;
                continue;
            };
            if src == dst || rel.trim().is_empty() || !act.ids.contains(src) || !act.ids.contains(dst) {
                report.edges_dropped += 1;
                continue;
            }
            let mut props =
                json!({"reason": e["reason"].as_str().unwrap_or_default(), "source": "dream", "window": window_text});
            if let Some(w) = e["weight"].as_f64().filter(|w| w.is_finite() && *w >= 0.0) {
                props["weight"] = w.into();
            }
            edges.insert(
                (src.into(), dst.into(), rel.trim().into()),
                json!({"src": src, "dst": dst, "rel_type": rel.trim(), "properties": props}),
            );
        }
    }
    report.summary = match summaries.len() {
        0 => String::new(),
        1 => summaries.remove(0),
        _ => merge_summaries(model, window, &summaries, &mut report.tokens)?,
    };
    let mut rows: Vec<Value> = moments.into_values().collect();
    report.moments_written = rows.len();
    if !report.summary.is_empty() {
        rows.push(json!({
            "name": format!("Dream summary {} to {}", window.start, window.end),
            "summary": report.summary,
            "start_time": window.start,
            "end_time": window.end,
            "moment_type": "reflection",
            "tags": ["dream", "dream-summary"],
            "metadata": {"dream": {"window": window_text, "model": report.model}},
        }));
        report.summaries_written = 1;
    }
    // A name another moment holds (by hand, or a dream of another window) gets the window's date.
    for row in rows.iter_mut() {
        let name = row["name"].as_str().unwrap_or_default().to_string();
        if name_is_ours(api, &name, &window_text)? {
            continue;
        }
        let dated = format!("{name} ({})", &window.start[..10]);
        row["name"] = if name_is_ours(api, &dated, &window_text)? {
            dated.into()
        } else {
            format!("{name} ({window_text})").into()
        };
        report.moments_renamed += 1;
    }
    // Moments of an earlier dream over this window that this one does not propose again.
    let names: HashSet<&str> = rows.iter().filter_map(|r| r["name"].as_str()).collect();
    let earlier = rows_of(api, &format!("SELECT id, name, metadata FROM {MOMENTS} WHERE 'dream' = ANY(tags)"))?;
    let deletes: Vec<String> = earlier
        .iter()
        .filter(|r| field(r, "metadata")["dream"]["window"] == window_text.as_str())
        .filter(|r| !names.contains(field(r, "name").as_str().unwrap_or_default()))
        .filter_map(|r| r["id"].as_str().map(String::from))
        .collect();
    report.moments_replaced = deletes.len();
    let edges: Vec<Value> = edges.into_values().collect();
    report.edges_written = edges.len();
    report.writes = json!({"moments": rows, "edges": edges, "deletes": deletes});
    if !options.dry_run {
        let writes = WriteSet {
            deletes,
            inserts: vec![TableRows { table: MOMENTS.into(), rows: rows.iter().map(Value::to_string).collect() }],
            edges: edges.iter().map(Value::to_string).collect(),
        };
        api.write_set(&writes)?;
    }
    Ok(report)
}

fn merge_summaries(model: &dyn ChatModel, window: &Window, parts: &[String], tokens: &mut Tokens) -> Result<String> {
    let request = ChatRequest {
        messages: vec![
            ChatMessage::system(format!(
                "Merge these summaries of parts of the period {} to {} into one summary of a few sentences. Answer with \
                 a JSON object only: {{\"summary\": \"...\"}}",
                window.start, window.end
            )),
            ChatMessage::user(parts.iter().map(|p| format!("- {p}")).collect::<Vec<_>>().join("\n")),
        ],
        schema: Some((
            "rem_dream_summary".into(),
            json!({"type": "object", "properties": {"summary": {"type": "string"}}, "required": ["summary"]}),
        )),
    };
    let answer = chat_json(model, request, tokens)?;
    Ok(answer.get("summary").and_then(Value::as_str).unwrap_or_default().trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_take_dates_and_times() {
        let w = Window::between("2026-12-01", "2026-12-01").unwrap();
        assert_eq!(w.start, "2026-12-01T00:00:00.000000Z");
        assert_eq!(w.end, "2026-12-01T23:59:59.999999Z");
        let w = Window::between("2026-12-01T09:00:00Z", "2026-12-01T10:30:00+01:00").unwrap();
        assert_eq!((w.start.as_str(), w.end.as_str()), ("2026-12-01T09:00:00.000000Z", "2026-12-01T09:30:00.000000Z"));
        assert!(Window::between("yesterday", "2026-12-01").unwrap_err().to_string().contains("--start"));
        assert!(Window::between("2026-12-02", "2026-12-01").is_err());
        let w = Window::lookback(24.0).unwrap();
        assert!(w.start < w.end && w.start.len() == 27);
        assert!(Window::lookback(-1.0).is_err());
    }

    #[test]
    fn batches_fit_the_budget() {
        let items: Vec<Item> =
            ["aaaa", "bbbb", "cccccccccc", "d"].iter().map(|t| Item { text: t.to_string() }).collect();
        assert_eq!(batches(&items, 8), vec!["aaaabbbb", "cccccccccc", "d"]);
    }
}
