//! REM SQL: `SELECT` (parsed with sqlparser) plus the REM statements
//! `LOOKUP`, `SEARCH` and `TRAVERSE`, planned over the secondary indexes.
//!
//! Supported: projections (`*`, columns, nested paths, aliases, system
//! fields), expressions (arithmetic, `||`, `CASE`, `CAST`, scalar functions:
//! [`scalar`]), `WHERE` (comparisons, `AND`/`OR`/`NOT`, `IN`, `BETWEEN`,
//! `LIKE`/`ILIKE` with `ESCAPE`, `IS [NOT] NULL`, `x = ANY(array_field)`),
//! `GROUP BY`/`HAVING` with `COUNT`/`SUM`/`AVG`/`MIN`/`MAX`, `ORDER BY` several
//! keys with `NULLS FIRST|LAST`, `LIMIT`/`OFFSET`, `DISTINCT`. Joins, subqueries,
//! `WITH` and `UNION` are run by `database::relational` over this module's
//! pieces; `DELETE`/`UPDATE` by `database::dml`. Everything else is refused
//! with an error naming the construct.

pub mod compile;
pub mod covering;
pub mod eval;
pub mod exec;
pub mod ir;
pub mod out;
pub mod params;
pub(crate) mod parsed;
pub mod plan;
pub mod scalar;
pub mod statements;

use sqlparser::dialect::GenericDialect;
use sqlparser::parser::ParserError;
use sqlparser::tokenizer::{Token, Tokenizer};

use crate::error::{Error, Result};

/// Clause keywords that cannot name a table (`SELECT * FROM WHERE ...`: the table was left out).
pub(crate) const CLAUSES: [&str; 6] = ["WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET"];

/// The error for a clause keyword written where the table belongs (`SELECT * FROM WHERE x = 1`),
/// at the keyword's line and column.
pub(crate) fn keyword_after_from(sql: &str, word: &str) -> Error {
    let upper = sql.to_ascii_uppercase();
    let at = upper.find("FROM").map(|f| f + 4).and_then(|f| upper[f..].find(word).map(|w| f + w));
    let (line, column) = at.map_or((0, 0), |at| {
        let before = &sql[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line as u32, column as u32)
    });
    Error::InvalidQuery {
        message: format!(
            "expected a table name after FROM, found the keyword {word}: write SELECT ... FROM <table> {word} ..."
        ),
        line,
        column,
    }
}

/// Turn a sqlparser error into `InvalidQuery`, pulling out its line and column
/// (for an error at end of input, the position just past the last character of `sql`).
/// A clause keyword right after `FROM` is reported as the table left out.
pub(crate) fn parse_error(e: ParserError, sql: &str) -> Error {
    if let Ok(toks) = Tokenizer::new(&GenericDialect {}, sql).tokenize() {
        let words: Vec<&Token> = toks.iter().filter(|t| !matches!(t, Token::Whitespace(_))).collect();
        for pair in words.windows(2) {
            if let (Token::Word(f), Token::Word(w)) = (pair[0], pair[1])
                && f.quote_style.is_none()
                && f.value.eq_ignore_ascii_case("FROM")
                && w.quote_style.is_none()
                && CLAUSES.contains(&w.value.to_ascii_uppercase().as_str())
            {
                return keyword_after_from(sql, &w.value.to_ascii_uppercase());
            }
        }
    }
    let text = match &e {
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s.clone(),
        ParserError::RecursionLimitExceeded => format!(
            "query nests deeper than the parser's limit ({} levels): simplify it or split it",
            parsed::MAX_PARSE_DEPTH
        ),
    };
    let num_after = |label: &str| -> u32 {
        text.find(label)
            .map(|i| text[i + label.len()..].chars().take_while(|c| c.is_ascii_digit()).collect::<String>())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    };
    let (mut line, mut column) = (num_after("Line: "), num_after("Column: "));
    if line == 0 && text.contains("found: EOF") {
        let trimmed = sql.trim_end();
        line = trimmed.lines().count().max(1) as u32;
        column = trimmed.lines().last().map(|l| l.chars().count() as u32 + 1).unwrap_or(1);
    }
    Error::InvalidQuery { message: format!("SQL syntax error: {text}"), line, column }
}

/// The words and string literals of an extension statement.
pub(crate) fn tokens(sql: &str) -> Result<Vec<Token>> {
    let dialect = GenericDialect {};
    let toks = Tokenizer::new(&dialect, sql)
        .tokenize()
        .map_err(|e| parse_error(ParserError::TokenizerError(e.to_string()), sql))?;
    Ok(toks.into_iter().filter(|t| !matches!(t, Token::Whitespace(_) | Token::SemiColon)).collect())
}

/// Byte offset in `sql` of the 1-based `line` and `column` (in characters) the tokenizer reports.
pub(crate) fn byte_offset(sql: &str, line: u64, column: u64) -> usize {
    let mut offset = 0;
    for (n, l) in sql.split_inclusive('\n').enumerate() {
        if n as u64 + 1 == line {
            return offset + l.char_indices().nth(column.saturating_sub(1) as usize).map_or(l.len(), |(i, _)| i);
        }
        offset += l.len();
    }
    sql.len()
}

pub(crate) fn first_word(sql: &str) -> String {
    sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("").to_ascii_uppercase()
}
