//! Query parameters: values bound into a REM SQL statement as literals, so
//! callers never splice user text into SQL themselves.
//!
//! Placeholders (found by the sqlparser tokenizer, so never inside string
//! literals or comments): `?` takes the next value of a JSON array, `?N` and
//! `$N` the N-th (1-based); `:name` and `$name` the member `name` of a JSON
//! object. Values become literals: `null` → `NULL`, booleans → `TRUE`/`FALSE`,
//! numbers as written (negative ones in parentheses), strings single-quoted
//! with `'` doubled, arrays → a parenthesised list for `IN` (non-empty, of
//! scalars). Objects are refused. Every value must be used, and every
//! placeholder bound.

use serde_json::Value;
use sqlparser::dialect::GenericDialect;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::{byte_offset, parse_error};
use crate::error::{Error, Result};

fn scalar(v: &Value, name: &str) -> Result<String> {
    Ok(match v {
        Value::Null => "NULL".into(),
        Value::Bool(true) => "TRUE".into(),
        Value::Bool(false) => "FALSE".into(),
        Value::Number(n) if n.as_f64().is_some_and(|f| f < 0.0) => format!("({n})"),
        Value::Number(n) => n.to_string(),
        Value::String(s) => format!("'{}'", s.replace('\'', "''")),
        Value::Array(_) | Value::Object(_) => {
            return Err(Error::InvalidArgument(format!(
                "parameter {name}: a list may hold only null, booleans, numbers and strings"
            )));
        }
    })
}

fn literal(v: &Value, name: &str) -> Result<String> {
    match v {
        Value::Array(items) if items.is_empty() => Err(Error::InvalidArgument(format!(
            "parameter {name}: an empty list cannot be bound (IN () matches nothing)"
        ))),
        Value::Array(items) => {
            let parts = items.iter().map(|i| scalar(i, name)).collect::<Result<Vec<_>>>()?;
            Ok(format!("({})", parts.join(", ")))
        }
        Value::Object(_) => Err(Error::InvalidArgument(format!(
            "parameter {name}: objects cannot be bound; pass a scalar or a list of scalars"
        ))),
        other => scalar(other, name),
    }
}

/// `sql` with every placeholder replaced by the literal of its value in `params`
/// (a JSON array or object). Errors: `InvalidArgument` (missing, unused or
/// unbindable values, naming the placeholder), `InvalidQuery` (untokenizable SQL).
pub fn bind(sql: &str, params: &Value) -> Result<String> {
    let toks = Tokenizer::new(&GenericDialect {}, sql)
        .tokenize_with_location()
        .map_err(|e| parse_error(sqlparser::parser::ParserError::TokenizerError(e.to_string()), sql))?;
    let (list, map) = match params {
        Value::Array(a) => (Some(a), None),
        Value::Object(o) => (None, Some(o)),
        Value::Null => (None, None),
        _ => {
            return Err(Error::InvalidArgument(
                "params must be a list (for ?, ?N, $N) or an object (for :name, $name)".into(),
            ));
        }
    };
    let mut used = vec![false; list.map_or(0, Vec::len)];
    let mut used_names = std::collections::BTreeSet::new();
    let mut next = 0usize;
    let mut edits: Vec<(usize, usize, String)> = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let start = byte_offset(sql, t.span.start.line, t.span.start.column);
        let (name, end) = match &t.token {
            Token::Placeholder(p) => (p.clone(), byte_offset(sql, t.span.end.line, t.span.end.column)),
            Token::Colon => match toks.get(i + 1) {
                Some(w) if matches!(w.token, Token::Word(_)) && w.span.start == t.span.end => {
                    i += 1;
                    (format!(":{}", w.token), byte_offset(sql, w.span.end.line, w.span.end.column))
                }
                _ => {
                    i += 1;
                    continue;
                }
            },
            _ => {
                i += 1;
                continue;
            }
        };
        i += 1;
        let positional = match name.as_str() {
            "?" => {
                next += 1;
                Some(next)
            }
            n => n.strip_prefix('?').or_else(|| n.strip_prefix('$')).and_then(|d| d.parse::<usize>().ok()),
        };
        let value = match positional {
            Some(pos) => {
                let values = list.ok_or_else(|| {
                    Error::InvalidArgument(format!("placeholder {name} needs params as a list, got {}", kind(params)))
                })?;
                if pos == 0 || pos > values.len() {
                    return Err(Error::InvalidArgument(format!(
                        "placeholder {name} refers to parameter {pos}, but {} were given",
                        values.len()
                    )));
                }
                used[pos - 1] = true;
                &values[pos - 1]
            }
            None => {
                let key = &name[1..];
                let values = map.ok_or_else(|| {
                    Error::InvalidArgument(format!(
                        "placeholder {name} needs params as an object, got {}",
                        kind(params)
                    ))
                })?;
                used_names.insert(key.to_string());
                values.get(key).ok_or_else(|| Error::InvalidArgument(format!("no value for placeholder {name}")))?
            }
        };
        edits.push((start, end, literal(value, &name)?));
    }
    if let Some(unused) = used.iter().position(|u| !u) {
        return Err(Error::InvalidArgument(format!(
            "parameter {} of {} is not used by any placeholder",
            unused + 1,
            used.len()
        )));
    }
    if let Some(unused) = map.and_then(|m| m.keys().find(|k| !used_names.contains(*k))) {
        return Err(Error::InvalidArgument(format!("parameter {unused:?} is not used by any placeholder")));
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut at = 0;
    for (start, end, lit) in edits {
        out.push_str(&sql[at..start]);
        out.push_str(&lit);
        at = end;
    }
    out.push_str(&sql[at..]);
    Ok(out)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "none",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
        _ => "a scalar",
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::bind;

    #[test]
    fn binds_each_placeholder_form() {
        let cases = [
            ("SELECT * FROM t WHERE a = ? AND b = ?", json!([1, "x"]), "SELECT * FROM t WHERE a = 1 AND b = 'x'"),
            (
                "SELECT * FROM t WHERE a = $2 OR b = $1",
                json!(["it's", -2.5]),
                "SELECT * FROM t WHERE a = (-2.5) OR b = 'it''s'",
            ),
            ("SELECT * FROM t WHERE a = ?1 AND b = ?1", json!([true]), "SELECT * FROM t WHERE a = TRUE AND b = TRUE"),
            (
                "SELECT * FROM t WHERE a = :name AND b IS $z",
                json!({"name": "a", "z": null}),
                "SELECT * FROM t WHERE a = 'a' AND b IS NULL",
            ),
            (
                "SELECT * FROM t WHERE a IN ? AND s = '?'",
                json!([["x", 2]]),
                "SELECT * FROM t WHERE a IN ('x', 2) AND s = '?'",
            ),
            (
                "SELECT * FROM t\nWHERE a = ?",
                json!(["'; DROP TABLE t; --"]),
                "SELECT * FROM t\nWHERE a = '''; DROP TABLE t; --'",
            ),
            ("LOOKUP ?", json!(["Alice"]), "LOOKUP 'Alice'"),
            ("SELECT a::text FROM t WHERE x = 1", json!([]), "SELECT a::text FROM t WHERE x = 1"),
        ];
        for (sql, params, want) in cases {
            assert_eq!(bind(sql, &params).unwrap(), want, "{sql}");
        }
    }

    #[test]
    fn refuses_mismatches() {
        let cases = [
            ("SELECT * FROM t WHERE a = ?", json!([]), "refers to parameter 1, but 0 were given"),
            ("SELECT * FROM t WHERE a = ?", json!([1, 2]), "parameter 2 of 2 is not used"),
            ("SELECT * FROM t WHERE a = :x", json!({}), "no value for placeholder :x"),
            ("SELECT * FROM t WHERE a = :x", json!({"x": 1, "y": 2}), "\"y\" is not used"),
            ("SELECT * FROM t WHERE a = :x", json!([1]), "needs params as an object"),
            ("SELECT * FROM t WHERE a = ?", json!([{"a": 1}]), "objects cannot be bound"),
            ("SELECT * FROM t WHERE a IN ?", json!([[]]), "empty list"),
            ("SELECT * FROM t WHERE a = ?", json!("x"), "params must be a list"),
        ];
        for (sql, params, want) in cases {
            let err = bind(sql, &params).unwrap_err().to_string();
            assert!(err.contains(want), "{sql} {params}: {err}");
        }
    }
}
