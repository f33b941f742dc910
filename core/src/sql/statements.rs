//! The REM statements `LOOKUP`, `SEARCH` and `TRAVERSE`, and the `kv` form of `SELECT`,
//! parsed into what the database runs (`database/query.rs` runs them).

use sqlparser::dialect::GenericDialect;
use sqlparser::parser::ParserError;
use sqlparser::tokenizer::{Token, Tokenizer};

use super::{byte_offset, parse_error, tokens};
use crate::error::{Error, Result};
use crate::graph::TraverseOptions;
use crate::search::{SearchOptions, SearchQuery};

/// A parsed `TRAVERSE`: where to start (an entity id or natural key) and how to walk.
#[derive(Debug, Clone)]
pub struct Traverse {
    /// The start: an entity id or a natural key.
    pub start: String,
    /// Direction, depth, relationship types and row limit.
    pub options: TraverseOptions,
}

/// A parsed `SEARCH`: the table, the query text and the options (`k` from `LIMIT`, the
/// `WHERE` predicate's source text as the filter).
#[derive(Debug, Clone)]
pub struct Search {
    /// The table searched.
    pub table: String,
    /// The query (always text in the statement form).
    pub query: SearchQuery,
    /// `k` and the filter.
    pub options: SearchOptions,
}

/// `TRAVERSE FROM '<id|key>' DEPTH n DIRECTION out|in|both [TYPE '<rel>' [, '<rel>']] [LIMIT n]`:
/// parsed; the database answers with rows `{id, depth, path}`, the start first. Keywords are case-insensitive; values keep their case.
pub fn traverse(sql: &str) -> Result<Traverse> {
    let usage = "TRAVERSE FROM '<id or key>' DEPTH <1-10> DIRECTION out|in|both [TYPE '<rel>'] [LIMIT <n>]";
    let toks = tokens(sql)?;
    let mut start = None;
    let mut depth = None;
    let mut direction = None;
    let mut rels = Vec::new();
    let mut limit = crate::graph::DEFAULT_LIMIT;
    let word = |t: &Token| match t {
        Token::Word(w) => Some(w.value.to_ascii_uppercase()),
        _ => None,
    };
    let mut i = 1;
    while i < toks.len() {
        let kw =
            word(&toks[i]).ok_or_else(|| Error::query(format!("unexpected {} in TRAVERSE; use {usage}", toks[i])))?;
        let arg = toks.get(i + 1).ok_or_else(|| Error::query(format!("{kw} needs a value; use {usage}")))?;
        match (kw.as_str(), arg) {
            ("FROM", Token::SingleQuotedString(s)) => start = Some(s.clone()),
            ("DEPTH", Token::Number(n, _)) => {
                depth = Some(n.parse::<u32>().map_err(|_| Error::query(format!("DEPTH must be 1 to 10, got {n}")))?)
            }
            ("DIRECTION", t) => {
                let d = match t {
                    Token::Word(w) => w.value.clone(),
                    Token::SingleQuotedString(s) => s.clone(),
                    other => other.to_string(),
                };
                direction = Some(crate::graph::Direction::parse(&d).map_err(|e| Error::query(e.to_string()))?);
            }
            ("TYPE", Token::SingleQuotedString(s)) => {
                rels.push(s.clone());
                while let (Some(Token::Comma), Some(Token::SingleQuotedString(s))) = (toks.get(i + 2), toks.get(i + 3))
                {
                    rels.push(s.clone());
                    i += 2;
                }
            }
            ("LIMIT", Token::Number(n, _)) => {
                limit = n.parse().map_err(|_| Error::query(format!("LIMIT must be a positive integer, got {n}")))?
            }
            (kw, other) => return Err(Error::query(format!("unexpected {kw} {other} in TRAVERSE; use {usage}"))),
        }
        i += 2;
    }
    let missing = |what: &str| Error::query(format!("TRAVERSE needs {what}; use {usage}"));
    let options = crate::graph::TraverseOptions {
        direction: direction.ok_or_else(|| missing("DIRECTION"))?,
        depth: depth.ok_or_else(|| missing("DEPTH"))?,
        rel_types: rels,
        dfs: false,
        limit,
        include_deleted: false,
    };
    if options.depth == 0 || options.depth > crate::graph::MAX_DEPTH {
        return Err(Error::query(format!("DEPTH must be 1 to 10, got {}", options.depth)));
    }
    Ok(Traverse { start: start.ok_or_else(|| missing("FROM '<id or key>'"))?, options })
}

/// `SEARCH '<text>' IN <table> [WHERE <predicate>] [LIMIT n]` (default LIMIT 10), parsed; the database answers with entities with `_score`.
pub fn search(sql: &str) -> Result<Search> {
    let usage = "SEARCH '<text>' IN <table> [WHERE <predicate>] [LIMIT <n>]";
    let dialect = GenericDialect {};
    let toks: Vec<_> = Tokenizer::new(&dialect, sql)
        .tokenize_with_location()
        .map_err(|e| parse_error(ParserError::TokenizerError(e.to_string()), sql))?
        .into_iter()
        .filter(|t| !matches!(t.token, Token::Whitespace(_) | Token::SemiColon))
        .collect();
    let is_kw = |i: usize, kw: &str| matches!(toks.get(i).map(|t| &t.token), Some(Token::Word(w)) if w.value.eq_ignore_ascii_case(kw));
    let bad = |what: &str| Error::query(format!("{what}; use {usage}"));
    let text = match toks.get(1).map(|t| &t.token) {
        Some(Token::SingleQuotedString(s)) => s.clone(),
        _ => return Err(bad("SEARCH needs the text to search for as a quoted string")),
    };
    if !is_kw(2, "IN") {
        return Err(bad("SEARCH needs IN <table> after the text"));
    }
    let table = match toks.get(3).map(|t| &t.token) {
        Some(Token::Word(w)) => w.value.clone(),
        _ => return Err(bad("SEARCH needs a table name after IN")),
    };
    let mut end = toks.len();
    let mut top_k = 10u32;
    if end >= 6 && is_kw(end - 2, "LIMIT") {
        match &toks[end - 1].token {
            Token::Number(n, _) => {
                top_k = n.parse().map_err(|_| Error::query(format!("LIMIT must be 1 to 10000, got {n}")))?;
            }
            other => return Err(Error::query(format!("LIMIT must be a number, got {other}"))),
        }
        end -= 2;
    }
    let filter = if end > 4 {
        if !is_kw(4, "WHERE") {
            return Err(bad(&format!("unexpected {} after the table name", toks[4].token)));
        }
        if end == 5 {
            return Err(bad("WHERE needs a predicate"));
        }
        // The predicate is the source text between WHERE and LIMIT (or the end).
        let from = byte_offset(sql, toks[5].span.start.line, toks[5].span.start.column);
        let to = if end < toks.len() {
            byte_offset(sql, toks[end].span.start.line, toks[end].span.start.column)
        } else {
            sql.len()
        };
        Some(sql[from..to].trim().trim_end_matches(';').to_string())
    } else {
        None
    };
    let options = SearchOptions { top_k, filter, ..Default::default() };
    Ok(Search { table, query: SearchQuery::Text(text), options })
}

/// `LOOKUP 'k1', 'k2'`: the natural keys, in order (the database answers with their live entities).
pub fn lookup(sql: &str) -> Result<Vec<String>> {
    let toks = tokens(sql)?;
    let mut keys = Vec::new();
    let mut expect_key = true;
    for t in &toks[1..] {
        match t {
            Token::SingleQuotedString(s) | Token::DoubleQuotedString(s) if expect_key => {
                keys.push(s.clone());
                expect_key = false;
            }
            Token::Comma if !expect_key => expect_key = true,
            other => {
                return Err(Error::query(format!(
                    "LOOKUP takes quoted keys separated by commas (LOOKUP 'k1', 'k2'); unexpected {other}"
                )));
            }
        }
    }
    if keys.is_empty() || expect_key {
        return Err(Error::query("LOOKUP needs at least one quoted key: LOOKUP 'k1', 'k2'"));
    }
    Ok(keys)
}

/// The keys of `SELECT * FROM kv WHERE key IN ('k1', ...)` or `WHERE key = 'k'` (when the tenant has no
/// table named `kv`, which would be read instead).
pub fn kv_keys(select: &sqlparser::ast::Select) -> Result<Vec<String>> {
    use sqlparser::ast::{BinaryOperator, Expr, SelectItem};
    if !matches!(select.projection.as_slice(), [SelectItem::Wildcard(_)]) {
        return Err(Error::Unsupported("the kv table only supports SELECT * FROM kv WHERE key IN (...)".into()));
    }
    let is_key = |e: &Expr| matches!(e, Expr::Identifier(i) if i.value.eq_ignore_ascii_case("key"));
    let lit = |e: &Expr| match e {
        Expr::Value(v) => match &v.value {
            sqlparser::ast::Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    let keys: Option<Vec<String>> = match &select.selection {
        Some(Expr::InList { expr, list, negated: false }) if is_key(expr) => list.iter().map(lit).collect(),
        Some(Expr::BinaryOp { left, op: BinaryOperator::Eq, right }) if is_key(left) => lit(right).map(|k| vec![k]),
        _ => None,
    };
    match keys {
        Some(k) if !k.is_empty() => Ok(k),
        _ => Err(Error::Unsupported("the kv table only supports WHERE key IN ('k1', ...) or WHERE key = 'k'".into())),
    }
}
