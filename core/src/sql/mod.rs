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

/// Turn a sqlparser error into `InvalidQuery`, pulling out its line and column
/// (for an error at end of input, the position just past the last character of `sql`).
pub(crate) fn parse_error(e: ParserError, sql: &str) -> Error {
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
