//! REM SQL: `SELECT` (parsed with sqlparser) plus the REM statements
//! `LOOKUP`, `SEARCH` and `TRAVERSE`, executed over a table scan.
//!
//! Supported: projections (`*`, columns, nested paths, aliases, system
//! fields), `WHERE` (comparisons, `AND`/`OR`/`NOT`, `IN`, `BETWEEN`,
//! `LIKE`/`ILIKE` with `ESCAPE`, `IS [NOT] NULL`, `LOWER`/`UPPER`,
//! `x = ANY(array_field)`), `GROUP BY`/`HAVING` with `COUNT`/`SUM`/`AVG`/`MIN`/`MAX`,
//! `ORDER BY` several keys with `NULLS FIRST|LAST`, `LIMIT`/`OFFSET`, `DISTINCT`.
//! Everything else is refused with an error naming the construct.

pub mod compile;
pub mod covering;
pub mod eval;
pub mod ir;
pub mod out;
pub mod params;
pub(crate) mod parsed;
pub mod plan;

use std::cmp::Ordering;
use std::collections::HashMap;

use serde_json::{Map, Value};
use sqlparser::dialect::GenericDialect;
use sqlparser::parser::ParserError;
use sqlparser::tokenizer::{Token, Tokenizer};

use self::eval::{Row, eval, total_order, truthy};
use self::ir::{AggFn, Projection, Select};
use self::out::Out;
use crate::database::{Database, decode_entity};
use crate::error::{Error, Result};
use crate::model::entity::Entity;
use crate::model::schema::SchemaRecord;
use crate::storage::store::Storage;

/// Turn a sqlparser error into `InvalidQuery`, pulling out its line and column
/// (for an error at end of input, the position just past the last character of `sql`).
fn parse_error(e: ParserError, sql: &str) -> Error {
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
fn tokens(sql: &str) -> Result<Vec<Token>> {
    let dialect = GenericDialect {};
    let toks = Tokenizer::new(&dialect, sql)
        .tokenize()
        .map_err(|e| parse_error(ParserError::TokenizerError(e.to_string()), sql))?;
    Ok(toks.into_iter().filter(|t| !matches!(t, Token::Whitespace(_) | Token::SemiColon)).collect())
}

/// Byte offset in `sql` of the 1-based `line` and `column` (in characters) the tokenizer reports.
fn byte_offset(sql: &str, line: u64, column: u64) -> usize {
    let mut offset = 0;
    for (n, l) in sql.split_inclusive('\n').enumerate() {
        if n as u64 + 1 == line {
            return offset + l.char_indices().nth(column.saturating_sub(1) as usize).map_or(l.len(), |(i, _)| i);
        }
        offset += l.len();
    }
    sql.len()
}

fn first_word(sql: &str) -> String {
    sql.trim_start().split(|c: char| !c.is_ascii_alphabetic()).next().unwrap_or("").to_ascii_uppercase()
}

impl<S: Storage> Database<S> {
    /// Run one REM SQL statement; returns a JSON array of row objects.
    /// Errors: `InvalidQuery` (with line/column for syntax errors), `SchemaNotFound`,
    /// `Unsupported` (naming the construct), `Storage`.
    pub fn query(&self, sql: &str) -> Result<String> {
        out::to_json(&self.rows(sql)?)
    }

    /// [`Database::query`] with `params` (JSON text: a list for `?`/`?N`/`$N`, an object for
    /// `:name`/`$name`) bound as literals first (see [`params::bind`]).
    /// Errors: as `query`, plus `InvalidArgument` (params that are not JSON, missing, unused or unbindable).
    pub fn query_with_params(&self, sql: &str, params: &str) -> Result<String> {
        let params: Value = crate::json::parse::parse(params).map_err(|e| match e {
            crate::json::parse::ReadError::Syntax(e) => {
                Error::InvalidArgument(format!("params are not valid JSON: {e}"))
            }
            big => Error::InvalidArgument(format!("params: {big}")),
        })?;
        self.query(&params::bind(sql, &params)?)
    }

    /// [`Database::query`] returning the rows as values.
    pub fn query_rows(&self, sql: &str) -> Result<Vec<Value>> {
        self.rows(sql)?.into_iter().map(Out::into_value).collect()
    }

    /// Run one statement of any kind.
    fn rows(&self, sql: &str) -> Result<Vec<Out>> {
        let values = |v: Vec<Value>| v.into_iter().map(Out::Value).collect();
        match first_word(sql).as_str() {
            "LOOKUP" => return self.lookup_statement(sql).map(values),
            "SEARCH" => return self.search_statement(sql).map(values),
            "TRAVERSE" => return self.traverse_statement(sql).map(values),
            "EXPLAIN" => {
                let rest = sql.trim_start()[7..].trim_start();
                let rest = rest.strip_prefix("ANALYZE").or_else(|| rest.strip_prefix("analyze")).unwrap_or(rest);
                return self.select(rest, true);
            }
            _ => {}
        }
        self.select(sql, false)
    }

    /// Parse, plan and run a `SELECT` (or the kv form); with `explain`, return the plan instead of the rows.
    fn select(&self, sql: &str, explain: bool) -> Result<Vec<Out>> {
        let statements = self.parsed.parse(sql)?;
        let stmt = match statements.as_slice() {
            [one] => one,
            [] => return Err(Error::query("empty query")),
            _ => {
                return Err(Error::Unsupported("several statements in one query are not supported; send one".into()));
            }
        };
        let query = match stmt {
            sqlparser::ast::Statement::Query(q) => q,
            sqlparser::ast::Statement::Insert(_) => {
                return Err(Error::Unsupported(
                    "INSERT in SQL is not supported: write with insert / insert-batch (rem insert)".into(),
                ));
            }
            sqlparser::ast::Statement::Update(_) => {
                return Err(Error::Unsupported(
                    "UPDATE in SQL is not supported: write with update (rem update)".into(),
                ));
            }
            sqlparser::ast::Statement::Delete(_) => {
                return Err(Error::Unsupported("DELETE in SQL is not supported: use delete (rem delete)".into()));
            }
            other => {
                let word = other.to_string().split_whitespace().next().unwrap_or("this statement").to_ascii_uppercase();
                return Err(Error::Unsupported(format!(
                    "{word} statements are not supported: REM SQL runs SELECT, LOOKUP, SEARCH and TRAVERSE"
                )));
            }
        };
        let (select, table) = compile::source_table(query)?;
        // `kv` is the natural-key index, unless the tenant registered a table of that name.
        let schema = match self.require_table(&table) {
            Err(Error::SchemaNotFound(_)) if table.eq_ignore_ascii_case("kv") => {
                if explain {
                    return Ok(vec![Out::Value(
                        serde_json::json!({"table": "kv", "access": "natural-key index lookup"}),
                    )]);
                }
                return Ok(self.kv_statement(select)?.into_iter().map(Out::Value).collect());
            }
            found => found?,
        };
        let q = compile::compile_select(query, select, &schema)?;
        // The live count is read only by the planner and EXPLAIN, not by a covered lookup.
        let mut table_rows = None;
        let covered = covering::covered(self.tenant(), &schema.record, &q);
        let copies = match &covered {
            Some(c) => covering::rows(self.store(), c)?,
            None => None,
        };
        let (access, (rows, read)) = match (covered, copies) {
            (Some(c), Some(copies)) => {
                let read = copies.len() as u64;
                let limit = q.limit.map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
                let offset = usize::try_from(q.offset).unwrap_or(usize::MAX);
                let rows = copies.into_iter().skip(offset).take(limit).map(Out::Text).collect();
                (plan::Plan { access: plan::Access::Covered(c), estimated: read }, (rows, read))
            }
            _ => {
                let n = *table_rows.insert(self.live_count(&table)?);
                let access = plan::choose(self.store(), self.tenant(), &schema.record, &q, n)?;
                let done = self.execute(&q, &schema.record, &access)?;
                (access, done)
            }
        };
        if explain {
            let index = match &access.access {
                plan::Access::Scan => Value::Null,
                plan::Access::Lookup(c) => Value::String(index_fields(c).join(", ")),
                plan::Access::Ordered { field, .. } | plan::Access::CountGroups { field } => {
                    Value::String(field.clone())
                }
                plan::Access::Covered(c) => Value::String(c.field.clone()),
            };
            return Ok(vec![Out::Value(serde_json::json!({
                "table": table,
                "plan": access.describe(&table),
                "index": index,
                "table_rows": match table_rows {
                    Some(n) => n,
                    None => self.live_count(&table)?,
                },
                "estimated_rows": access.estimated,
                "rows_read": read,
                "rows_returned": rows.len(),
            }))]);
        }
        Ok(rows)
    }

    /// `TRAVERSE FROM '<id|key>' DEPTH n DIRECTION out|in|both [TYPE '<rel>' [, '<rel>']] [LIMIT n]`:
    /// rows `{id, depth, path}`, the start first. Keywords are case-insensitive; values keep their case.
    fn traverse_statement(&self, sql: &str) -> Result<Vec<Value>> {
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
            let kw = word(&toks[i])
                .ok_or_else(|| Error::query(format!("unexpected {} in TRAVERSE; use {usage}", toks[i])))?;
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
                    while let (Some(Token::Comma), Some(Token::SingleQuotedString(s))) =
                        (toks.get(i + 2), toks.get(i + 3))
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
        let out = self.traverse(&start.ok_or_else(|| missing("FROM '<id or key>'"))?, &options)?;
        match serde_json::from_str(&out).map_err(|e| Error::Internal(e.to_string()))? {
            Value::Array(rows) => Ok(rows),
            _ => Err(Error::Internal("traverse returned no array".into())),
        }
    }

    /// `SEARCH '<text>' IN <table> [WHERE <predicate>] [LIMIT n]` (default LIMIT 10): entities with `_score`.
    fn search_statement(&self, sql: &str) -> Result<Vec<Value>> {
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
        let mut k = 10usize;
        if end >= 6 && is_kw(end - 2, "LIMIT") {
            match &toks[end - 1].token {
                Token::Number(n, _) => {
                    k = n.parse().map_err(|_| Error::query(format!("LIMIT must be 1 to 10000, got {n}")))?;
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
        let opts = crate::search::SearchOptions { k, filter, ..Default::default() };
        self.search(&table, crate::search::SearchQuery::Text(text), &opts)
    }

    /// `LOOKUP 'k1', 'k2'`: live entities by natural key, in key order.
    fn lookup_statement(&self, sql: &str) -> Result<Vec<Value>> {
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
        self.lookup_keys(&keys)
    }

    fn lookup_keys(&self, keys: &[String]) -> Result<Vec<Value>> {
        let mut out = Vec::new();
        for k in keys {
            for e in self.lookup(k)? {
                out.push(serde_json::from_str(&e).map_err(|e| Error::Storage(e.to_string()))?);
            }
        }
        Ok(out)
    }

    /// `SELECT * FROM kv WHERE key IN ('k1', ...)` or `WHERE key = 'k'` (when the tenant has no
    /// table named `kv`, which would be read instead).
    fn kv_statement(&self, select: &sqlparser::ast::Select) -> Result<Vec<Value>> {
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
            Some(k) if !k.is_empty() => self.lookup_keys(&k),
            _ => {
                Err(Error::Unsupported("the kv table only supports WHERE key IN ('k1', ...) or WHERE key = 'k'".into()))
            }
        }
    }

    /// Run a compiled `SELECT` through `access`; returns the output rows and the number of rows read.
    fn execute(&self, plan: &Select, rec: &SchemaRecord, access: &plan::Plan) -> Result<(Vec<Out>, u64)> {
        let keep = |r: &Read| {
            let e = &r.entity;
            (plan.include_deleted || e.is_live())
                && plan.filter.as_ref().is_none_or(|f| truthy(&eval(f, &Row { entity: e, aggs: &[] })))
        };
        // `*` rows are spliced from the stored text unless DISTINCT or grouping needs values.
        let tested = (matches!(plan.projection, Projection::Star) && !plan.grouped && !plan.distinct)
            .then(|| plan.properties_tested());
        let wanted = plan.properties_read();
        let decode = |bytes: &[u8]| -> Result<Read> {
            Ok(match &tested {
                Some(t) => {
                    let (entity, text) = crate::json::record::entity_with_star(bytes, t)?;
                    Read { entity, text }
                }
                None => Read { entity: crate::json::record::entity(bytes, wanted.as_ref())?, text: None },
            })
        };
        let mut rows: Vec<Read> = Vec::new();
        let mut read = 0u64;
        // Without ORDER BY, grouping or DISTINCT, reading can stop early.
        let stop_after = match (&plan.limit, plan.order_by.is_empty() && !plan.grouped && !plan.distinct) {
            (Some(l), true) => Some(plan.offset.saturating_add(*l)),
            _ => None,
        };
        // Decode a row and keep it if it passes; true once enough rows are kept.
        let take = |bytes: &[u8], rows: &mut Vec<Read>| -> Result<bool> {
            let row = decode(bytes)?;
            if keep(&row) {
                rows.push(row);
            }
            Ok(stop_after.is_some_and(|n| rows.len() as u64 >= n))
        };
        match &access.access {
            plan::Access::Scan => {
                let mut scan = self.scan_table(&plan.table)?;
                'scan: loop {
                    let page = scan.next_packed()?;
                    if page.is_empty() {
                        break;
                    }
                    for (_, bytes) in page.iter() {
                        read += 1;
                        if take(bytes, &mut rows)? {
                            break 'scan;
                        }
                    }
                }
            }
            plan::Access::Lookup(c) => {
                let ids = plan::ids(self.store(), c)?;
                'ids: for chunk in ids.chunks(crate::storage::store::SCAN_PAGE as usize) {
                    let keys: Vec<Vec<u8>> =
                        chunk.iter().map(|id| crate::storage::keys::entity(self.tenant(), &plan.table, id)).collect();
                    for bytes in self.store().get_many(&keys)?.into_iter().flatten() {
                        read += 1;
                        if take(&bytes, &mut rows)? {
                            break 'ids;
                        }
                    }
                }
            }
            plan::Access::CountGroups { field } => {
                let mut groups = plan::count_groups(self.store(), self.tenant(), rec, field)?;
                // Scan order: groups by the id of their first row.
                groups.sort_by_key(|(id, _)| *id);
                let keys: Vec<Vec<u8>> =
                    groups.iter().map(|(id, _)| crate::storage::keys::entity(self.tenant(), &plan.table, id)).collect();
                let mut firsts = Vec::with_capacity(groups.len());
                for bytes in self.store().get_many(&keys)? {
                    let bytes = bytes.ok_or_else(|| Error::Storage("index entry without its row".into()))?;
                    firsts.push(decode_entity(&bytes)?);
                }
                read = groups.iter().map(|(_, n)| n).sum();
                let finished = groups
                    .iter()
                    .enumerate()
                    .map(|(i, (_, n))| (i, plan.aggs.iter().map(|_| Value::from(*n)).collect()))
                    .collect();
                let out = finish_groups(plan, &firsts, finished);
                return self.order_and_limit(plan, out).map(|rows| (rows, read));
            }
            plan::Access::Covered(_) => {
                return Err(Error::Internal("a covered lookup is answered before execution".into()));
            }
            plan::Access::Ordered { field, need, key, bounds } => {
                let (store, tenant) = (self.store(), self.tenant());
                rows = plan::ordered_rows(store, tenant, rec, field, key, *need, bounds.as_ref(), &decode, &keep)?;
                read = rows.len() as u64;
                // Ties keep id order, as a scan would deliver them.
                rows.sort_by(|a, b| a.entity.id.cmp(&b.entity.id));
            }
        }
        let out: Vec<(Vec<Value>, Out)> = if plan.grouped {
            let rows: Vec<Entity> = rows.into_iter().map(|r| r.entity).collect();
            self.group(plan, &rows)?
        } else {
            rows.into_iter()
                .map(|Read { entity, text }| {
                    let row = Row { entity: &entity, aggs: &[] };
                    let keys = plan.order_by.iter().map(|k| eval(&k.expr, &row)).collect();
                    let out = match text {
                        Some(text) => Out::Text(text),
                        None => Out::Value(project_owned(&plan.projection, entity)),
                    };
                    (keys, out)
                })
                .collect()
        };
        let result = self.order_and_limit(plan, out)?;
        Ok((result, read))
    }

    /// Sort by the ORDER BY keys (stable), apply DISTINCT, OFFSET and LIMIT.
    fn order_and_limit(&self, plan: &Select, mut out: Vec<(Vec<Value>, Out)>) -> Result<Vec<Out>> {
        if !plan.order_by.is_empty() {
            out.sort_by(|(a, _), (b, _)| {
                for (i, k) in plan.order_by.iter().enumerate() {
                    let o = match (a[i].is_null(), b[i].is_null()) {
                        (true, true) => Ordering::Equal,
                        (true, false) => {
                            if k.nulls_first {
                                Ordering::Less
                            } else {
                                Ordering::Greater
                            }
                        }
                        (false, true) => {
                            if k.nulls_first {
                                Ordering::Greater
                            } else {
                                Ordering::Less
                            }
                        }
                        (false, false) => {
                            let o = total_order(&a[i], &b[i]);
                            if k.desc { o.reverse() } else { o }
                        }
                    };
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                Ordering::Equal
            });
        }
        let mut result: Vec<Out> = out.into_iter().map(|(_, v)| v).collect();
        if plan.distinct {
            let mut seen = std::collections::HashSet::new();
            result.retain(|v| seen.insert(v.text().into_owned()));
        }
        Ok(result
            .into_iter()
            .skip(plan.offset.min(usize::MAX as u64) as usize)
            .take(plan.limit.map(|l| l.min(usize::MAX as u64) as usize).unwrap_or(usize::MAX))
            .collect())
    }

    /// Group `rows` and finish the groups.
    fn group(&self, plan: &Select, rows: &[Entity]) -> Result<Vec<(Vec<Value>, Out)>> {
        let mut index: HashMap<String, usize> = HashMap::new();
        let mut groups: Vec<(usize, Vec<Acc>)> = Vec::new();
        for (i, e) in rows.iter().enumerate() {
            let row = Row { entity: e, aggs: &[] };
            let key: Vec<Value> = plan.group_by.iter().map(|g| eval(g, &row)).collect();
            let key_text = serde_json::to_string(&key).unwrap_or_default();
            let slot = *index.entry(key_text).or_insert_with(|| {
                groups.push((i, plan.aggs.iter().map(|a| Acc::new(a.func)).collect()));
                groups.len() - 1
            });
            for (acc, agg) in groups[slot].1.iter_mut().zip(&plan.aggs) {
                acc.add(if agg.func == AggFn::CountStar { Value::Bool(true) } else { eval(&agg.arg, &row) });
            }
        }
        let groups =
            groups.into_iter().map(|(first, accs)| (first, accs.into_iter().map(Acc::finish).collect())).collect();
        Ok(finish_groups(plan, rows, groups))
    }
}

/// Apply HAVING, ORDER BY keys and the projection to groups given as
/// (index of the group's first row in `rows`, aggregate values).
fn finish_groups(plan: &Select, rows: &[Entity], groups: Vec<(usize, Vec<Value>)>) -> Vec<(Vec<Value>, Out)> {
    {
        // An aggregate without GROUP BY over no rows still yields one row.
        let empty = Entity {
            id: String::new(),
            entity_type: plan.table.clone(),
            created_at: String::new(),
            modified_at: String::new(),
            deleted_at: None,
            edges: Vec::new(),
            properties: Map::new(),
        };
        if groups.is_empty() && plan.group_by.is_empty() {
            let aggs: Vec<Value> = plan.aggs.iter().map(|a| Acc::new(a.func).finish()).collect();
            let row = Row { entity: &empty, aggs: &aggs };
            if plan.having.as_ref().is_some_and(|h| !truthy(&eval(h, &row))) {
                return Vec::new();
            }
            let keys = plan.order_by.iter().map(|k| eval(&k.expr, &row)).collect();
            return vec![(keys, Out::Value(project(&plan.projection, &row)))];
        }
        let mut out = Vec::new();
        for (first, aggs) in groups {
            let row = Row { entity: &rows[first], aggs: &aggs };
            if plan.having.as_ref().is_some_and(|h| !truthy(&eval(h, &row))) {
                continue;
            }
            let keys = plan.order_by.iter().map(|k| eval(&k.expr, &row)).collect();
            out.push((keys, Out::Value(project(&plan.projection, &row))));
        }
        out
    }
}

fn index_fields(c: &plan::Candidates) -> Vec<String> {
    let mut out = match c {
        plan::Candidates::Probe(p) => vec![p.field.clone()],
        plan::Candidates::All(v) | plan::Candidates::Any(v) => v.iter().flat_map(index_fields).collect(),
    };
    out.dedup();
    out
}

/// Build one output object.
fn project(p: &Projection, row: &Row<'_>) -> Value {
    match p {
        Projection::Star => {
            let e = row.entity;
            star(e.id.clone(), e.entity_type.clone(), e.properties.clone())
        }
        Projection::Items(items) => {
            Value::Object(items.iter().map(|(name, ex)| (name.clone(), eval(ex, row))).collect())
        }
    }
}

/// [`project`] for a row not needed afterwards: `*` moves the properties instead of copying them.
fn project_owned(p: &Projection, entity: Entity) -> Value {
    match p {
        Projection::Star => star(entity.id, entity.entity_type, entity.properties),
        items => project(items, &Row { entity: &entity, aggs: &[] }),
    }
}

/// A `*` row: `id` and `entity_type` in front, then the properties in order (a property
/// of either name is replaced by the system field).
fn star(id: String, entity_type: String, mut properties: Map<String, Value>) -> Value {
    properties.shift_insert(0, "id".into(), Value::String(id));
    properties.shift_insert(1, "entity_type".into(), Value::String(entity_type));
    Value::Object(properties)
}

/// A row read for a query: decoded as far as the query needs, with its `*` text when spliced.
struct Read {
    entity: Entity,
    text: Option<Vec<u8>>,
}

/// An aggregate accumulator.
enum Acc {
    Count(u64),
    Distinct(std::collections::HashSet<String>),
    Sum { sum: f64, int: Option<i64>, n: u64, avg: bool },
    Extreme(Option<Value>, bool),
}

impl Acc {
    fn new(f: AggFn) -> Acc {
        match f {
            AggFn::CountStar | AggFn::Count => Acc::Count(0),
            AggFn::CountDistinct => Acc::Distinct(Default::default()),
            AggFn::Sum => Acc::Sum { sum: 0.0, int: Some(0), n: 0, avg: false },
            AggFn::Avg => Acc::Sum { sum: 0.0, int: Some(0), n: 0, avg: true },
            AggFn::Min => Acc::Extreme(None, false),
            AggFn::Max => Acc::Extreme(None, true),
        }
    }

    fn add(&mut self, v: Value) {
        if v.is_null() {
            return;
        }
        match self {
            Acc::Count(n) => *n += 1,
            Acc::Distinct(set) => {
                set.insert(v.to_string());
            }
            Acc::Sum { sum, int, n, .. } => {
                if let Value::Number(num) = &v {
                    *sum += num.as_f64().unwrap_or(0.0);
                    *int = match (*int, num.as_i64()) {
                        (Some(a), Some(b)) => a.checked_add(b),
                        _ => None,
                    };
                    *n += 1;
                }
            }
            Acc::Extreme(best, max) => {
                let replace = match best {
                    None => true,
                    Some(b) => {
                        let o = total_order(&v, b);
                        if *max { o == Ordering::Greater } else { o == Ordering::Less }
                    }
                };
                if replace {
                    *best = Some(v);
                }
            }
        }
    }

    fn finish(self) -> Value {
        match self {
            Acc::Count(n) => Value::from(n),
            Acc::Distinct(set) => Value::from(set.len() as u64),
            Acc::Sum { n: 0, .. } => Value::Null,
            Acc::Sum { sum, n, avg: true, .. } => Value::from(sum / n as f64),
            Acc::Sum { int: Some(i), avg: false, .. } => Value::from(i),
            Acc::Sum { sum, avg: false, .. } => Value::from(sum),
            Acc::Extreme(v, _) => v.unwrap_or(Value::Null),
        }
    }
}
