//! The agent's side of REM, over any [`Api`] (a database file or a served one) and any
//! [`crate::llm::ChatModel`]: natural-language questions ([`ask`]), "dreaming" over a period
//! of activity ([`dream`]), and the table catalog both prompts (and the MCP server) show.

pub mod ask;
pub mod catalog;
pub mod dream;

pub use ask::{AskOptions, AskOutcome, Plan, ask};
pub use catalog::{TableInfo, describe_tables};
pub use dream::{DreamOptions, DreamReport, Window, dream};

use crate::Api;
use crate::error::{Error, Result};

/// The statement's first word, upper-cased (`SELECT`, `DELETE`, ...).
pub(crate) fn first_word(sql: &str) -> String {
    sql.trim_start().split(|c: char| c.is_whitespace() || c == '(').next().unwrap_or_default().to_ascii_uppercase()
}

/// Statements that change data or schemas; a plan starting with one is refused before the
/// engine sees it (the engine refuses them too, and runs queries in read transactions).
const WRITE_WORDS: &[&str] = &[
    "INSERT", "UPDATE", "DELETE", "UPSERT", "REPLACE", "MERGE", "DROP", "CREATE", "ALTER", "TRUNCATE", "GRANT",
    "REVOKE", "ATTACH", "DETACH", "VACUUM", "PRAGMA",
];

/// Whether `sql` is a statement that writes.
pub(crate) fn writes(sql: &str) -> bool {
    let word = first_word(sql);
    WRITE_WORDS.contains(&word.as_str()) || (word == "WITH" && WRITE_WORDS.iter().any(|w| contains_word(sql, w)))
}

fn contains_word(sql: &str, word: &str) -> bool {
    sql.split(|c: char| !c.is_ascii_alphanumeric() && c != '_').any(|t| t.eq_ignore_ascii_case(word))
}

/// Run a read statement the model planned: refused when it writes, checked with
/// [`Api::prepare`] (nothing read) and refused when the engine says it is not read-only.
/// Returns the statement kind (`select`, `search`, ...). Errors: `Unsupported` (writes),
/// or the engine's error for a statement that does not compile.
pub fn check_read(api: &dyn Api, sql: &str) -> Result<String> {
    if writes(sql) {
        return Err(Error::Unsupported(format!(
            "{} statements are refused here: only read statements (SELECT, SEARCH, LOOKUP, TRAVERSE) run",
            first_word(sql)
        )));
    }
    let prepared: serde_json::Value = serde_json::from_str(&api.prepare(sql)?)
        .map_err(|e| Error::Internal(format!("prepare returned bad JSON: {e}")))?;
    if prepared["read_only"] != true {
        return Err(Error::Unsupported("the statement writes; only read statements run here".into()));
    }
    Ok(prepared["statement"].as_str().unwrap_or("select").to_string())
}

/// Parse JSON the engine returned. Errors: `Internal`.
pub(crate) fn parse(text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|e| Error::Internal(format!("the engine returned bad JSON: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_recognised_by_their_first_word() {
        for sql in ["DELETE FROM t", "  update t set a = 1", "DROP TABLE t", "WITH x AS (SELECT 1) DELETE FROM t"] {
            assert!(writes(sql), "{sql}");
        }
        for sql in ["SELECT * FROM t", "SEARCH 'x' IN t", "LOOKUP 'a'", "TRAVERSE FROM 'a' DEPTH 1 DIRECTION out"] {
            assert!(!writes(sql), "{sql}");
        }
        assert!(!writes("SELECT * FROM t WHERE note = 'deleted'"));
    }
}
