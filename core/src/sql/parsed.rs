//! Parsed statements kept per database handle, keyed by their text: agents and
//! services send the same few queries again and again, and tokenizing and parsing
//! with sqlparser was about a fifth of a small query's engine time (`docs/benchmarks.md`).
//! Parsing is a pure function of the text, so a kept parse is always the right one;
//! planning and execution still run on every call (they depend on the data).
//!
//! **Size limits.** The engine runs on the guest's 1 MiB stack, and sqlparser's AST is walked
//! recursively: by its `Drop`, `Display` and `Clone`, and by the compiler. sqlparser bounds its
//! own recursion ([`MAX_PARSE_DEPTH`]), but builds a chain like `a AND b AND c ...` or
//! `1 + 1 + 1 ...` in a loop, one AST level per operator. So before parsing, the tokens are
//! checked: a statement with more than [`MAX_OPERATORS`] operators, or nested deeper than
//! [`MAX_NESTING`], is refused, and the AST of any statement that gets parsed is at most about
//! that deep. The compiler bounds the nesting of what it compiles further
//! (`compile::MAX_EXPR_DEPTH`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use sqlparser::ast::Statement;
use sqlparser::dialect::GenericDialect;
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::error::{Error, Result};

/// Most statements kept; past this the cache starts over (a simple bound, not an LRU).
pub const CAPACITY: usize = 256;

/// Longest statement text kept (longer ones, rare and often generated, are parsed each time).
pub const MAX_TEXT: usize = 4096;

/// Most operator tokens one statement may hold: `AND`, `OR`, `NOT`, comparisons, arithmetic,
/// `IS`, `IN`, `LIKE`, `BETWEEN`, `.`, `::`, `UNION` and the like (values, names, commas and
/// parentheses do not count, so an `IN` list may be as long as needed). About 500 conditions
/// joined by `AND`/`OR`; an AST this deep is dropped and displayed well within a 1 MiB stack.
pub const MAX_OPERATORS: usize = 1_000;

/// Deepest nesting a statement's tokens may show: each open parenthesis or bracket (so function
/// calls and subqueries) is one level, plus one for each operator, `NOT` or sign right before it
/// (as in `OR (` or `NOT (`); a run of `NOT`s or signs before an operand counts the same. This
/// follows sqlparser's recursion, and is checked before parsing and kept below
/// [`MAX_PARSE_DEPTH`], so that a statement too deep is refused naming this limit (sqlparser
/// does not always report running out of depth as such: too many `NOT`s in a row come back as
/// a syntax error).
pub const MAX_NESTING: usize = 12;

/// Deepest recursion sqlparser may take while parsing, the backstop behind [`MAX_NESTING`]:
/// its frames are large (a derived table `FROM (SELECT ...)` costs about 40 KiB of native stack
/// per level), and at this depth every construct measured (nested derived tables, joins,
/// unions, subqueries, calls, CTEs) parses within half of a 1 MiB stack. sqlparser's default is 50.
pub const MAX_PARSE_DEPTH: usize = 20;

/// The dialect REM SQL is parsed with.
static DIALECT: GenericDialect = GenericDialect {};

/// Keywords that continue an expression (sqlparser's infix operators) or a set operation.
const CHAIN_KEYWORDS: [Keyword; 25] = [
    Keyword::AND,
    Keyword::OR,
    Keyword::XOR,
    Keyword::NOT,
    Keyword::IS,
    Keyword::IN,
    Keyword::BETWEEN,
    Keyword::OVERLAPS,
    Keyword::LIKE,
    Keyword::ILIKE,
    Keyword::RLIKE,
    Keyword::REGEXP,
    Keyword::MATCH,
    Keyword::GLOB,
    Keyword::SIMILAR,
    Keyword::MEMBER,
    Keyword::OPERATOR,
    Keyword::DIV,
    Keyword::AT,
    Keyword::NOTNULL,
    Keyword::COLLATE,
    Keyword::UNION,
    Keyword::EXCEPT,
    Keyword::INTERSECT,
    Keyword::MINUS,
];

/// Whether `t` may add a level to the AST sqlparser builds in a loop. Counts more than it
/// must (every token that is not a value, a name, a comma or a parenthesis), never less. A
/// `+`/`-` right after something that cannot end an operand is a sign, which sqlparser parses
/// recursively (bounded by [`MAX_PARSE_DEPTH`]), so `IN (-1, -2, ...)` costs nothing.
fn is_operator(t: &Token, prev: Option<&Token>) -> bool {
    match t {
        Token::Word(w) => w.quote_style.is_none() && CHAIN_KEYWORDS.contains(&w.keyword),
        Token::Plus | Token::Minus => prev.is_some_and(|p| {
            matches!(
                p,
                Token::Word(_)
                    | Token::Number(..)
                    | Token::SingleQuotedString(_)
                    | Token::DoubleQuotedString(_)
                    | Token::RParen
                    | Token::RBracket
            )
        }),
        Token::Number(..)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::NationalStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::HexStringLiteral(_)
        | Token::Placeholder(_)
        | Token::Comma
        | Token::LParen
        | Token::RParen
        | Token::SemiColon
        | Token::Whitespace(_)
        | Token::EOF => false,
        _ => true,
    }
}

/// The tokens of `sql`, with their positions.
///
/// Errors: `InvalidQuery` for text that does not tokenize, that holds more than
/// [`MAX_OPERATORS`] operators, or that nests deeper than [`MAX_NESTING`] (positioned at the
/// token past the limit).
pub(crate) fn tokenize(sql: &str) -> Result<Vec<TokenWithSpan>> {
    let tokens = Tokenizer::new(&DIALECT, sql)
        .tokenize_with_location()
        .map_err(|e| super::parse_error(ParserError::TokenizerError(e.to_string()), sql))?;
    let refuse = |t: &TokenWithSpan, message: String| Error::InvalidQuery {
        message,
        line: t.span.start.line.try_into().unwrap_or(0),
        column: t.span.start.column.try_into().unwrap_or(0),
    };
    let mut operators = 0usize;
    let mut prev: Option<&Token> = None;
    // The nesting at each open parenthesis or bracket, and the run of operators, NOTs and signs
    // since the last operand or parenthesis.
    let mut open: Vec<usize> = Vec::new();
    let mut run = 0usize;
    for t in &tokens {
        if matches!(t.token, Token::Whitespace(_)) {
            continue;
        }
        let operator = is_operator(&t.token, prev);
        let base = open.last().copied().unwrap_or(0);
        // The nesting this token takes sqlparser to (0: none of its own).
        let level = match &t.token {
            Token::LParen | Token::LBracket => {
                let level = base + run + 1;
                open.push(level);
                run = 0;
                level
            }
            Token::RParen | Token::RBracket => {
                open.pop();
                run = 0;
                0
            }
            // A sign or `NOT` is parsed as a prefix of what follows, one level deeper.
            Token::Plus | Token::Minus if !operator => {
                run += 1;
                base + run
            }
            Token::Word(w) if w.quote_style.is_none() && w.keyword == Keyword::NOT => {
                run += 1;
                base + run
            }
            // An operator parses its right side one level deeper (a parenthesis there deeper still).
            _ if operator => {
                run += 1;
                0
            }
            _ => {
                run = 0;
                0
            }
        };
        if level > MAX_NESTING {
            return Err(refuse(
                t,
                format!(
                    "query nests deeper than {MAX_NESTING} levels (the limit): each parenthesis, function call \
                     or subquery is a level, and so is an operator or NOT before one; simplify it or split it"
                ),
            ));
        }
        if operator {
            operators += 1;
            if operators > MAX_OPERATORS {
                return Err(refuse(
                    t,
                    format!(
                        "query has more than {MAX_OPERATORS} operators (the limit): use IN (...) for long lists \
                         of values, or split the query"
                    ),
                ));
            }
        }
        prev = Some(&t.token);
    }
    Ok(tokens)
}

/// A parser over `sql`'s tokens, with REM's limits (see the module docs).
/// Errors: as [`tokenize`].
pub(crate) fn parser(sql: &str) -> Result<Parser<'static>> {
    Ok(Parser::new(&DIALECT).with_recursion_limit(MAX_PARSE_DEPTH).with_tokens_with_locations(tokenize(sql)?))
}

/// Parse `sql` into statements, within REM's limits.
/// Errors: `InvalidQuery`, positioned where sqlparser says.
pub(crate) fn parse(sql: &str) -> Result<Vec<Statement>> {
    parser(sql)?.parse_statements().map_err(|e| super::parse_error(e, sql))
}

/// The parse cache of one database handle.
#[derive(Default)]
pub struct ParseCache {
    map: RefCell<HashMap<String, Rc<Vec<Statement>>>>,
}

impl ParseCache {
    /// Statements held (for `stats`).
    pub(crate) fn held(&self) -> usize {
        self.map.borrow().len()
    }

    /// The statements of `sql`, from the cache or parsed now (errors are not kept).
    /// Errors: `InvalidQuery` (see [`parse`]).
    pub fn parse(&self, sql: &str) -> Result<Rc<Vec<Statement>>> {
        if let Some(s) = self.map.borrow().get(sql) {
            return Ok(s.clone());
        }
        let parsed = Rc::new(parse(sql)?);
        if sql.len() <= MAX_TEXT {
            let mut map = self.map.borrow_mut();
            if map.len() >= CAPACITY {
                map.clear();
            }
            map.insert(sql.to_string(), parsed.clone());
        }
        Ok(parsed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_parse_equals_a_fresh_one_and_the_cache_stays_bounded() {
        let cache = ParseCache::default();
        let sql = "SELECT a FROM t WHERE b = 'x' ORDER BY a LIMIT 3";
        let first = cache.parse(sql).unwrap();
        let again = cache.parse(sql).unwrap();
        assert!(Rc::ptr_eq(&first, &again), "the second call is served from the cache");
        assert_eq!(*again, Parser::parse_sql(&GenericDialect {}, sql).unwrap());
        assert!(cache.parse("SELECT (").is_err());
        assert!(cache.parse("SELECT (").is_err(), "errors are not kept");
        for i in 0..(CAPACITY * 2) {
            cache.parse(&format!("SELECT {i} FROM t")).unwrap();
        }
        assert!(cache.map.borrow().len() <= CAPACITY);
    }
}
