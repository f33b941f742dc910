//! Parsed statements kept per database handle, keyed by their text: agents and
//! services send the same few queries again and again, and tokenizing and parsing
//! with sqlparser was about a fifth of a small query's engine time (`docs/benchmarks.md`).
//! Parsing is a pure function of the text, so a kept parse is always the right one;
//! planning and execution still run on every call (they depend on the data).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use sqlparser::ast::Statement;
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::{Parser, ParserError};

/// Most statements kept; past this the cache starts over (a simple bound, not an LRU).
pub const CAPACITY: usize = 256;

/// Longest statement text kept (longer ones, rare and often generated, are parsed each time).
pub const MAX_TEXT: usize = 4096;

/// The parse cache of one database handle.
#[derive(Default)]
pub struct ParseCache {
    map: RefCell<HashMap<String, Rc<Vec<Statement>>>>,
}

impl ParseCache {
    /// The statements of `sql`, from the cache or parsed now (errors are not kept).
    /// Errors: sqlparser's, for the caller to turn into a positioned query error.
    pub fn parse(&self, sql: &str) -> Result<Rc<Vec<Statement>>, ParserError> {
        if let Some(s) = self.map.borrow().get(sql) {
            return Ok(s.clone());
        }
        let parsed = Rc::new(Parser::parse_sql(&GenericDialect {}, sql)?);
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
