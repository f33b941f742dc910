//! Compile a sqlparser AST into the IR, refusing what REM does not support.

use std::collections::HashMap;

use serde_json::{Number, Value};
use sqlparser::ast::{
    self, BinaryOperator, DuplicateTreatment, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr,
    LimitClause, ObjectNamePart, OrderByKind, OrderBySort, SelectItem, SetExpr, TableFactor, UnaryOperator,
};

use super::eval::ValueSet;
use super::ir::{Agg, AggFn, ArithOp, CastTo, CmpOp, Ex, Func, OrderKey, Projection, Select};
use super::{ir, scalar};
use crate::error::{Error, Result};
use crate::model::schema::{CompiledSchema, VECTOR_MEMBER, closest};

/// System fields readable as ordinary columns.
pub const SYSTEM_FIELDS: [&str; 5] = ["id", "entity_type", "created_at", "modified_at", "deleted_at"];

/// Deepest nesting of an expression the compiler accepts, checked before it recurses (and so
/// before evaluation does). A chain of one operator, `a AND b AND c ...` or `a OR b OR ...`,
/// is one level however long (its length is bounded by `parsed::MAX_OPERATORS`); every other
/// operator, function call, parenthesis or `NOT` adds one.
pub const MAX_EXPR_DEPTH: usize = 128;

/// Longest `AND`/`OR` chain compiled left-deep, as written (and as EXPLAIN shows it); longer
/// chains are split in halves built the same way, so evaluating one recurses about
/// `LEFT_DEEP_TERMS + log2(terms)` deep instead of once per term.
const LEFT_DEEP_TERMS: usize = 16;

fn unsupported(what: impl std::fmt::Display) -> Error {
    Error::Unsupported(format!("{what} is not supported by REM SQL"))
}

/// Whether aggregates may appear where an expression is being compiled.
#[derive(Clone, Copy, PartialEq)]
enum Scope {
    Row,
    Group,
}

/// One source of a query's rows when it has several (a join) or rows already computed (a
/// `WITH` table, a derived table): its alias and, for a table, its schema (`None`: free-form
/// rows, whose missing columns read as NULL).
pub struct Source<'a> {
    /// The name columns are qualified with (the alias, else the table's name).
    pub alias: String,
    /// The table's schema, for checking column names.
    pub schema: Option<&'a CompiledSchema>,
    /// For rows already computed, the members their rows have (`None`: not known, e.g. no rows);
    /// an unqualified name resolves to the one source that has it.
    pub columns: Option<std::collections::HashSet<String>>,
}

/// Runs an uncorrelated subquery (`IN (SELECT ..)`, `EXISTS (..)`, `(SELECT ..)`) once, while
/// the outer query is compiled: its rows as JSON objects.
pub type Subqueries<'a> = &'a dyn Fn(&ast::Query) -> Result<Vec<Value>>;

/// What column names resolve against.
enum Names<'a> {
    /// One table: names are its properties and system fields.
    Table(&'a CompiledSchema),
    /// Several sources: names are `alias.column`, or a column only one source has.
    Sources(&'a [Source<'a>]),
}

struct Compiler<'a> {
    names: Names<'a>,
    /// The alias of a one-table query's table (`FROM person p`), which qualifies its columns.
    alias: Option<String>,
    aggs: Vec<Agg>,
    subqueries: Option<Subqueries<'a>>,
}

/// Whether `src` names `prop` itself: a stored table declaring it as a property or having it as
/// a system field, or computed rows having that member. Free-form sources whose columns are not
/// known name nothing explicitly (but every name is one of their columns).
fn names_explicitly(src: &Source<'_>, prop: &str) -> bool {
    match (src.schema, &src.columns) {
        (Some(schema), _) => {
            let rec = &schema.record;
            SYSTEM_FIELDS.contains(&prop)
                || (prop == VECTOR_MEMBER && rec.has_vectors())
                || rec.schema.get("properties").and_then(Value::as_object).is_some_and(|p| p.contains_key(prop))
        }
        (None, Some(columns)) => columns.contains(prop),
        (None, None) => false,
    }
}

/// Whether `src` may have any column (a free-form table, or computed rows of unknown members).
fn open_source(src: &Source<'_>) -> bool {
    match src.schema {
        Some(_) => declares(src.schema, "\u{0}not a declared name"),
        None => src.columns.is_none(),
    }
}

/// Whether `prop` is a column of a table with this schema (`None`: free-form, every name is).
/// Declared tables are those with a non-empty `properties` and `additionalProperties` not
/// `true` (what Pydantic emits), or `additionalProperties: false`.
fn declares(schema: Option<&CompiledSchema>, prop: &str) -> bool {
    let Some(schema) = schema else { return true };
    if SYSTEM_FIELDS.contains(&prop) {
        return true;
    }
    let rec = &schema.record;
    let known = rec.schema.get("properties").and_then(Value::as_object);
    let open = matches!(rec.schema.get("additionalProperties"), Some(Value::Bool(true) | Value::Object(_)));
    let declared = rec.strict || (known.is_some_and(|p| !p.is_empty()) && !open);
    !declared || (prop == VECTOR_MEMBER && rec.has_vectors()) || known.is_some_and(|p| p.contains_key(prop))
}

fn ident_path(parts: &[ast::Ident]) -> Vec<String> {
    parts.iter().map(|i| i.value.clone()).collect()
}

/// A number literal: an integer (no `.`, no exponent) exactly as an `i64` or `u64`, anything else
/// as a float. An integer beyond 64 bits is refused rather than rounded to a float.
fn number(text: &str) -> Result<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Value::from(i));
    }
    if let Ok(u) = text.parse::<u64>() {
        return Ok(Value::from(u));
    }
    if !text.contains(['.', 'e', 'E']) {
        return Err(Error::query(format!(
            "integer literal {} does not fit in 64 bits (the limit): compare with a string, or write it as a float \
             (with a fraction or an exponent) if rounding is acceptable",
            crate::error::preview(text)
        )));
    }
    text.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
        .ok_or_else(|| Error::query(format!("invalid number literal {text}")))
}

fn literal(v: &ast::Value) -> Result<Value> {
    Ok(match v {
        ast::Value::Number(n, _) => number(n)?,
        ast::Value::SingleQuotedString(s) | ast::Value::DoubleQuotedString(s) => Value::String(s.clone()),
        ast::Value::Boolean(b) => Value::Bool(*b),
        ast::Value::Null => Value::Null,
        ast::Value::Placeholder(p) => {
            return Err(Error::Unsupported(format!("query parameters ({p}) are not supported yet; inline the value")));
        }
        other => return Err(unsupported(format!("the literal {other}"))),
    })
}

fn cmp_op(op: &BinaryOperator) -> Option<CmpOp> {
    Some(match op {
        BinaryOperator::Eq => CmpOp::Eq,
        BinaryOperator::NotEq => CmpOp::Ne,
        BinaryOperator::Lt => CmpOp::Lt,
        BinaryOperator::LtEq => CmpOp::Le,
        BinaryOperator::Gt => CmpOp::Gt,
        BinaryOperator::GtEq => CmpOp::Ge,
        _ => return None,
    })
}

/// Refuse `root` when it nests deeper than [`MAX_EXPR_DEPTH`], walking it with an explicit
/// stack (never recursion), through every child the compiler would recurse into.
fn check_depth(root: &ast::Expr) -> Result<()> {
    use ast::Expr as E;
    let mut todo: Vec<(&ast::Expr, usize)> = vec![(root, 1)];
    let mut children: Vec<&ast::Expr> = Vec::new();
    while let Some((e, depth)) = todo.pop() {
        if depth > MAX_EXPR_DEPTH {
            return Err(Error::query(format!(
                "expression nests deeper than {MAX_EXPR_DEPTH} levels (the limit): simplify it or split the query"
            )));
        }
        match e {
            E::BinaryOp { left, op: op @ (BinaryOperator::And | BinaryOperator::Or), right } => {
                // The terms of a chain of one operator are compiled as one level.
                for side in [left.as_ref(), right.as_ref()] {
                    match side {
                        E::BinaryOp { op: o, .. } if o == op => todo.push((side, depth)),
                        term => children.push(term),
                    }
                }
            }
            E::BinaryOp { left, right, .. } | E::AnyOp { left, right, .. } => children.extend([&**left, &**right]),
            E::UnaryOp { expr, .. } | E::Nested(expr) | E::IsNull(expr) | E::IsNotNull(expr) => children.push(expr),
            E::InList { expr, list, .. } => {
                children.push(expr);
                children.extend(list);
            }
            E::Between { expr, low, high, .. } => children.extend([&**expr, &**low, &**high]),
            E::Like { expr, pattern, .. } | E::ILike { expr, pattern, .. } => children.extend([&**expr, &**pattern]),
            E::Case { operand, conditions, else_result, .. } => {
                children.extend(operand.as_deref());
                children.extend(conditions.iter().flat_map(|c| [&c.condition, &c.result]));
                children.extend(else_result.as_deref());
            }
            E::Cast { expr, .. } | E::Ceil { expr, .. } | E::Floor { expr, .. } => children.push(expr),
            E::Substring { expr, substring_from, substring_for, .. } => {
                children.push(expr);
                children.extend(substring_from.as_deref());
                children.extend(substring_for.as_deref());
            }
            E::Trim { expr, trim_what, .. } => {
                children.push(expr);
                children.extend(trim_what.as_deref());
            }
            E::Function(f) => {
                if let FunctionArguments::List(l) = &f.args {
                    children.extend(l.args.iter().filter_map(|a| match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => Some(x),
                        _ => None,
                    }));
                }
            }
            // Anything else is compiled without looking inside (or refused).
            _ => {}
        }
        todo.extend(children.drain(..).map(|c| (c, depth + 1)));
    }
    Ok(())
}

/// `terms` joined by `AND` (`and`) or `OR`: left-deep up to [`LEFT_DEEP_TERMS`] terms, longer
/// chains as two halves. Both are associative in SQL's three-valued logic, so the shape does not
/// change the result. (No terms, which the compiler never asks for, is the operator's identity.)
fn chain(and: bool, mut terms: Vec<Ex>) -> Ex {
    let join = |a: Ex, b: Ex| if and { Ex::And(Box::new(a), Box::new(b)) } else { Ex::Or(Box::new(a), Box::new(b)) };
    if terms.len() > LEFT_DEEP_TERMS {
        let right = terms.split_off(terms.len() / 2);
        return join(chain(and, terms), chain(and, right));
    }
    let mut terms = terms.into_iter();
    let first = terms.next().unwrap_or(Ex::Lit(Value::Bool(and)));
    terms.fold(first, join)
}

/// The one argument of `name()` (`None` for `*`). Errors: `InvalidQuery` for any other count.
fn one_arg<'e>(name: &str, args: &'e [FunctionArg]) -> Result<Option<&'e ast::Expr>> {
    match args {
        [FunctionArg::Unnamed(FunctionArgExpr::Wildcard)] => Ok(None),
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(e))] => Ok(Some(e)),
        _ => Err(Error::query(format!("{name}() takes exactly one argument"))),
    }
}

impl Compiler<'_> {
    /// Compile a top-level expression (a select item, the filter, a key), checking its depth first.
    fn top(&mut self, e: &ast::Expr, scope: Scope) -> Result<Ex> {
        check_depth(e)?;
        self.expr(e, scope)
    }

    /// A column reference; `quoted` when it was written in double quotes. In a table that
    /// declares its properties (a non-empty `properties`, and `additionalProperties` not `true`
    /// or a schema) a name that is neither a property, a system field nor the stored vector
    /// (`embedding`, in a table with vectors) is an `InvalidQuery` naming it, with the closest
    /// name and, for a double-quoted one, the hint that strings take single quotes. Free-form
    /// tables (no properties, or `additionalProperties: true`) read a missing field as `NULL`.
    fn column(&self, mut path: Vec<String>, quoted: bool) -> Result<Ex> {
        let schema = match &self.names {
            Names::Table(schema) => schema,
            Names::Sources(sources) => return source_column(sources, path, quoted),
        };
        // `p.name` with `FROM person p` (or `person.name` without an alias): the table's own column.
        if path.len() > 1 && self.alias.as_deref().unwrap_or(&schema.record.name) == path[0] {
            path.remove(0);
        }
        let first = path[0].as_str();
        if first == "edges" {
            return Err(Error::Unsupported(
                "the edges system field is not readable in SQL yet: use TRAVERSE, `rem edges` or get()".into(),
            ));
        }
        if SYSTEM_FIELDS.contains(&first) {
            if path.len() > 1 {
                return Err(Error::query(format!("system field '{first}' has no sub-fields")));
            }
            return Ok(Ex::Col(path));
        }
        let prop = if first == "properties" && path.len() > 1 { path[1].as_str() } else { first };
        let rec = &schema.record;
        if !declares(Some(schema), prop) {
            let known = rec.schema.get("properties").and_then(Value::as_object);
            let names = known.into_iter().flat_map(|p| p.keys().map(String::as_str)).chain(SYSTEM_FIELDS);
            let near = closest(prop, names).map(|n| format!("; did you mean '{n}'?")).unwrap_or_default();
            let quotes = match quoted {
                true => format!(" (double quotes name a column; strings take single quotes: write '{prop}')"),
                false => String::new(),
            };
            let undeclared = match rec.strict {
                true => "",
                false => {
                    " (a field the schema does not declare: declare it, or set additionalProperties: true to query undeclared fields)"
                }
            };
            let outer = match path.len() > 1 {
                true => format!(
                    " ('{}' is not this query's table or alias; a subquery cannot name the outer query's columns yet)",
                    path[0]
                ),
                false => String::new(),
            };
            return Err(Error::query(format!(
                "Unknown column '{}' in table '{}'{near}{quotes}{undeclared}{outer}",
                path.join("."),
                rec.name
            )));
        }
        Ok(Ex::Col(path))
    }

    fn expr(&mut self, e: &ast::Expr, scope: Scope) -> Result<Ex> {
        use ast::Expr as E;
        let b = |x: Ex| Box::new(x);
        Ok(match e {
            E::Identifier(i) => self.column(vec![i.value.clone()], i.quote_style == Some('"'))?,
            E::CompoundIdentifier(parts) => self.column(ident_path(parts), false)?,
            E::Value(v) => Ex::Lit(literal(&v.value)?),
            E::Nested(inner) => self.expr(inner, scope)?,
            E::BinaryOp { op: op @ (BinaryOperator::And | BinaryOperator::Or), .. } => {
                // The chain's terms, left to right, gathered without recursion.
                let mut terms = Vec::new();
                let mut todo = vec![e];
                while let Some(x) = todo.pop() {
                    match x {
                        E::BinaryOp { left, op: o, right } if o == op => {
                            todo.push(right);
                            todo.push(left);
                        }
                        term => terms.push(self.expr(term, scope)?),
                    }
                }
                chain(*op == BinaryOperator::And, terms)
            }
            E::BinaryOp { left, op, right } => {
                if let Some(c) = cmp_op(op) {
                    return Ok(Ex::Cmp(b(self.expr(left, scope)?), c, b(self.expr(right, scope)?)));
                }
                if let (BinaryOperator::Plus | BinaryOperator::Minus, E::Interval(iv)) = (op, right.as_ref()) {
                    let mut interval = interval(iv)?;
                    if *op == BinaryOperator::Minus {
                        interval = ir::Interval { months: -interval.months, micros: -interval.micros };
                    }
                    return Ok(fold(Ex::Shift(b(self.expr(left, scope)?), interval)));
                }
                if matches!(op, BinaryOperator::Arrow | BinaryOperator::LongArrow) {
                    return self.json_path(left, op, right, scope);
                }
                let arith = match op {
                    BinaryOperator::Plus => ArithOp::Add,
                    BinaryOperator::Minus => ArithOp::Sub,
                    BinaryOperator::Multiply => ArithOp::Mul,
                    BinaryOperator::Divide => ArithOp::Div,
                    BinaryOperator::Modulo => ArithOp::Mod,
                    BinaryOperator::StringConcat => {
                        return Ok(fold(Ex::Concat(b(self.expr(left, scope)?), b(self.expr(right, scope)?))));
                    }
                    _ => return Err(unsupported(format!("the operator {op}"))),
                };
                fold(Ex::Arith(b(self.expr(left, scope)?), arith, b(self.expr(right, scope)?)))
            }
            E::Interval(_) => {
                return Err(Error::query(
                    "an INTERVAL can only be added to or subtracted from a timestamp (ts + INTERVAL '1 day')",
                ));
            }
            E::Case { operand, conditions, else_result, .. } => {
                let operand = operand.as_ref().map(|o| self.expr(o, scope).map(b)).transpose()?;
                let whens = conditions
                    .iter()
                    .map(|c| Ok((self.expr(&c.condition, scope)?, self.expr(&c.result, scope)?)))
                    .collect::<Result<Vec<_>>>()?;
                let otherwise = else_result.as_ref().map(|x| self.expr(x, scope).map(b)).transpose()?;
                Ex::Case(operand, whens, otherwise)
            }
            E::Cast { kind: ast::CastKind::Cast | ast::CastKind::DoubleColon, expr, data_type, format: None } => {
                fold(Ex::Cast(b(self.expr(expr, scope)?), cast_to(data_type)?))
            }
            E::Ceil { expr, field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) } => {
                fold(Ex::Call(Func::Ceil, vec![self.expr(expr, scope)?]))
            }
            E::Floor { expr, field: ast::CeilFloorKind::DateTimeField(ast::DateTimeField::NoDateTime) } => {
                fold(Ex::Call(Func::Floor, vec![self.expr(expr, scope)?]))
            }
            E::Substring { expr, substring_from, substring_for, .. } => {
                let mut args = vec![self.expr(expr, scope)?];
                args.push(match substring_from {
                    Some(f) => self.expr(f, scope)?,
                    None => Ex::Lit(Value::from(1)),
                });
                if let Some(n) = substring_for {
                    args.push(self.expr(n, scope)?);
                }
                fold(Ex::Call(Func::Substr, args))
            }
            E::Trim { trim_where, trim_what, expr, trim_characters } => {
                let func = match trim_where {
                    None | Some(ast::TrimWhereField::Both) => Func::Trim,
                    Some(ast::TrimWhereField::Leading) => Func::Ltrim,
                    Some(ast::TrimWhereField::Trailing) => Func::Rtrim,
                };
                let mut args = vec![self.expr(expr, scope)?];
                match (trim_what, trim_characters.as_deref()) {
                    (Some(w), None) => args.push(self.expr(w, scope)?),
                    (None, Some([c])) => args.push(self.expr(c, scope)?),
                    (None, None) => {}
                    _ => return Err(Error::query("TRIM takes one set of characters to remove")),
                }
                fold(Ex::Call(func, args))
            }
            E::UnaryOp { op: UnaryOperator::Not, expr } => Ex::Not(b(self.expr(expr, scope)?)),
            E::UnaryOp { op: UnaryOperator::Minus, expr } => Ex::Neg(b(self.expr(expr, scope)?)),
            E::UnaryOp { op: UnaryOperator::Plus, expr } => self.expr(expr, scope)?,
            E::IsNull(x) => Ex::IsNull(b(self.expr(x, scope)?), false),
            E::IsNotNull(x) => Ex::IsNull(b(self.expr(x, scope)?), true),
            E::InList { expr, list, negated } => {
                let target = b(self.expr(expr, scope)?);
                let items: Vec<Ex> = list.iter().map(|x| self.expr(x, scope)).collect::<Result<_>>()?;
                let set = ValueSet::of(&items).map(Box::new);
                Ex::InList(target, items, *negated, set)
            }
            E::Between { expr, negated, low, high } => {
                Ex::Between(b(self.expr(expr, scope)?), b(self.expr(low, scope)?), b(self.expr(high, scope)?), *negated)
            }
            E::Like { negated, any: false, expr, pattern, escape_char }
            | E::ILike { negated, any: false, expr, pattern, escape_char } => {
                let ci = matches!(e, E::ILike { .. });
                let escape = match escape_char.as_deref() {
                    None => Some('\\'),
                    Some(E::Value(v)) => match &v.value {
                        ast::Value::SingleQuotedString(s) if s.chars().count() == 1 => s.chars().next(),
                        ast::Value::SingleQuotedString(s) if s.is_empty() => None,
                        _ => return Err(Error::query("ESCAPE takes a single character")),
                    },
                    Some(_) => return Err(Error::query("ESCAPE takes a single character")),
                };
                let target = b(self.expr(expr, scope)?);
                match self.expr(pattern, scope)? {
                    Ex::Lit(Value::String(p)) => {
                        let p = if ci { p.to_lowercase() } else { p };
                        Ex::LikeLit(target, super::eval::LikePattern::new(&p, escape), *negated, ci)
                    }
                    other => Ex::Like(target, b(other), escape, *negated, ci),
                }
            }
            E::AnyOp { left, compare_op, right, .. } => {
                let op = cmp_op(compare_op).ok_or_else(|| unsupported(format!("{compare_op} ANY")))?;
                Ex::Any(b(self.expr(left, scope)?), op, b(self.expr(right, scope)?))
            }
            E::Function(f) => self.function(f, scope)?,
            E::InSubquery { expr, subquery, negated } => {
                let target = b(self.expr(expr, scope)?);
                let items: Vec<Ex> = self
                    .subquery(subquery)?
                    .into_iter()
                    .map(|row| one_value(row).map(Ex::Lit))
                    .collect::<Result<_>>()?;
                let set = ValueSet::of(&items).map(Box::new);
                Ex::InList(target, items, *negated, set)
            }
            E::Exists { subquery, negated } => match self.correlated_exists(subquery, *negated, scope)? {
                Some(ex) => ex,
                None => Ex::Lit(Value::Bool(self.subquery(subquery)?.is_empty() == *negated)),
            },
            E::Subquery(subquery) => {
                let rows = self.subquery(subquery)?;
                match rows.len() {
                    0 => Ex::Lit(Value::Null),
                    1 => Ex::Lit(one_value(rows.into_iter().next().unwrap_or(Value::Null))?),
                    n => {
                        return Err(Error::query(format!(
                            "more than one row ({n}) returned by a subquery used as an expression: add LIMIT 1 or an aggregate"
                        )));
                    }
                }
            }
            E::Cast { .. } => return Err(unsupported("this form of CAST (use CAST(x AS type) or x::type)")),
            other => return Err(unsupported(format!("the expression `{other}`"))),
        })
    }

    /// The names that qualify the outer query's columns (its table and alias, or its sources).
    fn outer_names(&self) -> Vec<String> {
        match &self.names {
            Names::Table(schema) => vec![self.alias.clone().unwrap_or_else(|| schema.record.name.clone())],
            Names::Sources(sources) => sources.iter().map(|s| s.alias.clone()).collect(),
        }
    }

    /// `[NOT] EXISTS (SELECT .. FROM t [AS i] WHERE .. AND i.x = outer.y)`, correlated by one
    /// equality with the outer query: decorrelated into `outer.y [NOT] IN (SELECT i.x FROM t
    /// WHERE .. AND i.x IS NOT NULL)` (and, for `NOT EXISTS`, true when `outer.y` is NULL), run
    /// once. `None` when the subquery names no outer column. Errors: `Unsupported` for other
    /// correlations (several, or not an equality).
    fn correlated_exists(&mut self, q: &ast::Query, negated: bool, scope: Scope) -> Result<Option<Ex>> {
        let outer = self.outer_names();
        let SetExpr::Select(select) = q.body.as_ref() else { return Ok(None) };
        let Some(selection) = &select.selection else { return Ok(None) };
        let inner: Vec<String> = match select.from.as_slice() {
            [f] if f.joins.is_empty() => match &f.relation {
                // Once aliased, a table is named by its alias alone (as in PostgreSQL).
                TableFactor::Table { name, alias, .. } => {
                    vec![alias.as_ref().map_or_else(|| name.to_string(), |a| a.name.value.clone())]
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        let names_outer = |e: &ast::Expr| qualifiers(e).iter().any(|q| outer.contains(q) && !inner.contains(q));
        if !names_outer(selection) {
            return Ok(None);
        }
        let too_hard = || unsupported("a correlated subquery other than EXISTS (... WHERE inner.x = outer.y AND ...)");
        let mut parts = Vec::new();
        and_parts(selection, &mut parts);
        let mut link = None;
        let mut rest = Vec::new();
        for part in parts {
            if !names_outer(part) {
                rest.push(part.clone());
                continue;
            }
            let ast::Expr::BinaryOp { left, op: BinaryOperator::Eq, right } = part else { return Err(too_hard()) };
            let (own, theirs) = match (names_outer(left), names_outer(right)) {
                (false, true) => (left, right),
                (true, false) => (right, left),
                _ => return Err(too_hard()),
            };
            if link.replace(((**own).clone(), (**theirs).clone())).is_some() {
                return Err(too_hard());
            }
        }
        let Some((own, theirs)) = link else { return Err(too_hard()) };
        // Whether rows exist is what counts: their order, number and distinctness do not, but
        // a grouped or aggregated subquery has rows of another kind.
        let aggregate = select.projection.iter().any(|i| match i {
            SelectItem::UnnamedExpr(ast::Expr::Function(f))
            | SelectItem::ExprWithAlias { expr: ast::Expr::Function(f), .. } => {
                matches!(f.name.to_string().to_ascii_uppercase().as_str(), "COUNT" | "SUM" | "AVG" | "MIN" | "MAX")
            }
            _ => false,
        });
        if aggregate
            || select.having.is_some()
            || !matches!(&select.group_by, GroupByExpr::Expressions(e, _) if e.is_empty())
        {
            return Err(unsupported("a correlated EXISTS over a grouped or aggregated subquery"));
        }
        let mut q = q.clone();
        if let Some(LimitClause::LimitOffset { limit: Some(l), .. }) = &q.limit_clause
            && uint(l, "LIMIT")? == 0
        {
            return Ok(Some(Ex::Lit(Value::Bool(negated))));
        }
        q.limit_clause = None;
        q.order_by = None;
        if let SetExpr::Select(s) = q.body.as_mut() {
            s.projection = vec![SelectItem::UnnamedExpr(own.clone())];
            rest.push(ast::Expr::IsNotNull(Box::new(own)));
            s.selection = rest.into_iter().reduce(|a, b| ast::Expr::BinaryOp {
                left: Box::new(a),
                op: BinaryOperator::And,
                right: Box::new(b),
            });
        }
        let items: Vec<Ex> =
            self.subquery(&q)?.into_iter().map(|row| one_value(row).map(Ex::Lit)).collect::<Result<_>>()?;
        let target = self.expr(&theirs, scope)?;
        let set = ValueSet::of(&items).map(Box::new);
        // EXISTS is never NULL: an unknown membership (a NULL key) is false.
        let member = Ex::InList(Box::new(target), items, false, set);
        let exists = Ex::Call(Func::Coalesce, vec![member, Ex::Lit(Value::Bool(false))]);
        Ok(Some(if negated { Ex::Not(Box::new(exists)) } else { exists }))
    }

    /// Run an uncorrelated subquery now (its rows), or refuse it where none can run.
    fn subquery(&self, q: &ast::Query) -> Result<Vec<Value>> {
        match self.subqueries {
            Some(run) => run(q),
            None => Err(unsupported("a subquery here")),
        }
    }

    fn function(&mut self, f: &ast::Function, scope: Scope) -> Result<Ex> {
        let name = f
            .name
            .0
            .iter()
            .map(|p| match p {
                ObjectNamePart::Identifier(i) => i.value.to_ascii_uppercase(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(".");
        if f.over.is_some() {
            return Err(unsupported(format!("the window function {name}() OVER (...)")));
        }
        // A keyword the parser reads as a function without parentheses (`user`): a column.
        if matches!(f.args, FunctionArguments::None)
            && !matches!(name.as_str(), "CURRENT_TIMESTAMP" | "LOCALTIMESTAMP")
            && let [ObjectNamePart::Identifier(i)] = f.name.0.as_slice()
        {
            return self.column(vec![i.value.clone()], i.quote_style == Some('"'));
        }
        if f.filter.is_some() || !f.within_group.is_empty() {
            return Err(unsupported(format!("{name}() with FILTER or WITHIN GROUP")));
        }
        let (args, distinct) = match &f.args {
            FunctionArguments::List(l) => {
                if !l.clauses.is_empty() {
                    return Err(unsupported(format!("clauses inside {name}()")));
                }
                (l.args.as_slice(), l.duplicate_treatment == Some(DuplicateTreatment::Distinct))
            }
            FunctionArguments::None => (&[][..], false),
            FunctionArguments::Subquery(_) => return Err(unsupported("a subquery")),
        };
        let agg = match name.as_str() {
            "COUNT" => Some(if distinct { AggFn::CountDistinct } else { AggFn::Count }),
            "SUM" => Some(AggFn::Sum),
            "AVG" => Some(AggFn::Avg),
            "MIN" => Some(AggFn::Min),
            "MAX" => Some(AggFn::Max),
            _ => None,
        };
        if distinct && name != "COUNT" {
            return Err(unsupported(format!("{name}(DISTINCT ...)")));
        }
        if let Some(func) = agg {
            if scope == Scope::Row {
                return Err(Error::query(format!(
                    "aggregate {name}() is not allowed here (use it in the select list, HAVING or ORDER BY)"
                )));
            }
            let arg = one_arg(&name, args)?;
            let (func, arg) = match (func, arg) {
                (AggFn::Count, None) => (AggFn::CountStar, Ex::Lit(Value::Null)),
                (_, None) => {
                    return Err(Error::query(format!("{name}(*) is not valid; name a column")));
                }
                (func, Some(e)) => (func, self.expr(e, Scope::Row)?),
            };
            self.aggs.push(Agg { func, arg });
            return Ok(Ex::Agg(self.aggs.len() - 1));
        }
        if matches!(name.as_str(), "NOW" | "CURRENT_TIMESTAMP" | "LOCALTIMESTAMP") {
            if !args.is_empty() {
                return Err(Error::query(format!("{name}() takes no arguments")));
            }
            // One time for the whole statement, as PostgreSQL's transaction time.
            return Ok(Ex::Lit(scalar::now()));
        }
        let func = match name.as_str() {
            "LOWER" | "UPPER" => None,
            "COALESCE" => Some((Func::Coalesce, 1, usize::MAX)),
            "NULLIF" => Some((Func::Nullif, 2, 2)),
            "ABS" => Some((Func::Abs, 1, 1)),
            "ROUND" => Some((Func::Round, 1, 2)),
            "FLOOR" => Some((Func::Floor, 1, 1)),
            "CEIL" | "CEILING" => Some((Func::Ceil, 1, 1)),
            "LENGTH" | "CHAR_LENGTH" | "CHARACTER_LENGTH" => Some((Func::Length, 1, 1)),
            "SUBSTR" | "SUBSTRING" => Some((Func::Substr, 2, 3)),
            "TRIM" | "BTRIM" => Some((Func::Trim, 1, 2)),
            "LTRIM" => Some((Func::Ltrim, 1, 2)),
            "RTRIM" => Some((Func::Rtrim, 1, 2)),
            "REPLACE" => Some((Func::Replace, 3, 3)),
            "CONCAT" => Some((Func::Concat, 1, usize::MAX)),
            "CARDINALITY" => Some((Func::Cardinality, 1, 1)),
            "ARRAY_LENGTH" => Some((Func::Cardinality, 2, 2)),
            "DATE_TRUNC" => Some((Func::DateTrunc, 2, 2)),
            _ => {
                return Err(unsupported(format!(
                    "the function {name}() (REM SQL has COALESCE, NULLIF, ABS, ROUND, FLOOR, CEIL, LENGTH, SUBSTR, \
                     TRIM, LTRIM, RTRIM, REPLACE, CONCAT, LOWER, UPPER, CARDINALITY, ARRAY_LENGTH, DATE_TRUNC, NOW \
                     and the aggregates COUNT, SUM, AVG, MIN, MAX)"
                )));
            }
        };
        let Some((func, min, max)) = func else {
            let arg = one_arg(&name, args)?.ok_or_else(|| Error::query(format!("{name}(*) is not valid")))?;
            let arg = Box::new(self.expr(arg, scope)?);
            return Ok(fold(if name == "LOWER" { Ex::Lower(arg) } else { Ex::Upper(arg) }));
        };
        let mut exprs = Vec::with_capacity(args.len());
        for a in args {
            match a {
                FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => exprs.push(self.expr(x, scope)?),
                _ => return Err(Error::query(format!("{name}() takes plain arguments (no *, no names)"))),
            }
        }
        if exprs.len() < min || exprs.len() > max {
            let count = match (min, max) {
                (a, b) if a == b => format!("{a}"),
                (a, usize::MAX) => format!("at least {a}"),
                (a, b) => format!("{a} to {b}"),
            };
            return Err(Error::query(format!("{name}() takes {count} arguments, got {}", exprs.len())));
        }
        if name == "ARRAY_LENGTH" {
            // Arrays here are one-dimensional (JSON arrays): dimension 1 only.
            if !matches!(exprs.pop(), Some(Ex::Lit(Value::Number(n))) if n.as_i64() == Some(1)) {
                return Err(Error::query("ARRAY_LENGTH(array, 1): REM arrays have one dimension"));
            }
        }
        Ok(fold(Ex::Call(func, exprs)))
    }

    /// `x -> 'key'` / `x ->> 'key'` (and `-> 0` for array elements) on a column path: the
    /// path one segment longer, the same as `x.key`; `->>` gives the value's text, as PostgreSQL's does.
    fn json_path(&mut self, left: &ast::Expr, op: &BinaryOperator, right: &ast::Expr, scope: Scope) -> Result<Ex> {
        let key = match right {
            ast::Expr::Value(v) => match &v.value {
                ast::Value::SingleQuotedString(s) => Some(s.clone()),
                ast::Value::Number(n, _) => n.parse::<u64>().ok().map(|n| n.to_string()),
                _ => None,
            },
            _ => None,
        }
        .ok_or_else(|| Error::query(format!("{op} takes a quoted key or an array index, got {right}")))?;
        let path = match self.expr(left, scope)? {
            Ex::Col(mut path) if !SYSTEM_FIELDS.contains(&path[0].as_str()) => {
                path.push(key);
                path
            }
            _ => return Err(Error::query(format!("{op} applies to a column holding JSON (write column -> 'key')"))),
        };
        let col = Ex::Col(path);
        Ok(if *op == BinaryOperator::LongArrow { Ex::Cast(Box::new(col), CastTo::Text) } else { col })
    }
}

/// Compile one expression over several sources (a join's `ON`), subqueries run by `subqueries`.
pub fn expr_over(e: &ast::Expr, sources: &[Source<'_>], subqueries: Subqueries<'_>) -> Result<Ex> {
    let mut c =
        Compiler { names: Names::Sources(sources), alias: None, aggs: Vec::new(), subqueries: Some(subqueries) };
    c.top(e, Scope::Row)
}

/// The `AND`ed parts of `e`.
fn and_parts<'e>(e: &'e ast::Expr, out: &mut Vec<&'e ast::Expr>) {
    match e {
        ast::Expr::BinaryOp { left, op: BinaryOperator::And, right } => {
            and_parts(left, out);
            and_parts(right, out);
        }
        ast::Expr::Nested(inner) => and_parts(inner, out),
        other => out.push(other),
    }
}

/// The qualifiers of the columns `e` names (`o` of `o.y`), read from its tokens.
fn qualifiers(e: &ast::Expr) -> Vec<String> {
    let text = e.to_string();
    let Ok(toks) = sqlparser::tokenizer::Tokenizer::new(&sqlparser::dialect::GenericDialect {}, &text).tokenize()
    else {
        return Vec::new();
    };
    toks.windows(2)
        .filter_map(|w| match (&w[0], &w[1]) {
            (sqlparser::tokenizer::Token::Word(q), sqlparser::tokenizer::Token::Period) => Some(q.value.clone()),
            _ => None,
        })
        .collect()
}

/// The one column of a subquery's row. Errors: `InvalidQuery` when it has several.
fn one_value(row: Value) -> Result<Value> {
    match row {
        Value::Object(m) if m.len() == 1 => Ok(m.into_iter().next().map(|(_, v)| v).unwrap_or(Value::Null)),
        Value::Object(m) => Err(Error::query(format!(
            "a subquery used as a value must return one column; this one returns {}",
            m.len()
        ))),
        other => Ok(other),
    }
}

/// A column of a query over several sources: `alias.column...`, or an unqualified name only
/// one source has (the one naming it explicitly, else the one free-form source). Errors:
/// `InvalidQuery` for an unknown alias or column, or a name several sources have.
fn source_column(sources: &[Source<'_>], path: Vec<String>, quoted: bool) -> Result<Ex> {
    let aliases = || sources.iter().map(|s| s.alias.as_str()).collect::<Vec<_>>().join(", ");
    if path.len() > 1
        && let Some(src) = sources.iter().find(|s| s.alias == path[0])
    {
        if path[1] == "edges" {
            return Err(Error::Unsupported("the edges system field is not readable in SQL yet: use TRAVERSE".into()));
        }
        let known = src.schema.is_none() && src.columns.as_ref().is_some_and(|c| c.contains(&path[1]));
        if !known && !declares(src.schema, &path[1]) {
            let listed = src.schema.and_then(|s| s.record.schema.get("properties")).and_then(Value::as_object);
            let names = listed.into_iter().flat_map(|p| p.keys().map(String::as_str)).chain(SYSTEM_FIELDS);
            let near =
                closest(&path[1], names).map(|n| format!("; did you mean '{}.{n}'?", path[0])).unwrap_or_default();
            return Err(Error::query(format!("Unknown column '{}' in '{}'{near}", path.join("."), path[0])));
        }
        return Ok(Ex::Col(path));
    }
    let name = &path[0];
    let explicit: Vec<&Source<'_>> = sources.iter().filter(|s| names_explicitly(s, name)).collect();
    let open: Vec<&Source<'_>> = sources.iter().filter(|s| open_source(s)).collect();
    let src = match (explicit.as_slice(), open.as_slice()) {
        ([one], _) | ([], [one]) => *one,
        ([], []) => {
            let quotes = match quoted {
                true => format!(" (double quotes name a column; strings take single quotes: write '{name}')"),
                false => String::new(),
            };
            return Err(Error::query(format!(
                "Unknown column '{}': no table of this query ({}) has it{quotes}",
                path.join("."),
                aliases()
            )));
        }
        _ => {
            return Err(Error::query(format!(
                "column reference '{name}' is ambiguous: qualify it with one of {}",
                aliases()
            )));
        }
    };
    let mut qualified = vec![src.alias.clone()];
    qualified.extend(path);
    Ok(Ex::Col(qualified))
}

/// Evaluate an expression whose operands are all literals now, once (so `NOW() - INTERVAL
/// '7 days'` is a literal the planner can use as an index bound). A failure (division by zero,
/// a bad cast) is left in place to be raised when the query runs.
fn fold(ex: Ex) -> Ex {
    if !ex.children().iter().all(|c| matches!(c, Ex::Lit(_))) {
        return ex;
    }
    let empty = crate::model::entity::Entity::default();
    let value = super::eval::eval(&ex, &super::eval::Row { entity: &empty, aggs: &[] });
    match scalar::take_fault() {
        Some(_) => ex,
        None => Ex::Lit(value),
    }
}

/// The target of a `CAST`.
fn cast_to(t: &ast::DataType) -> Result<CastTo> {
    use ast::DataType as T;
    Ok(match t {
        T::Int(_)
        | T::Integer(_)
        | T::BigInt(_)
        | T::SmallInt(_)
        | T::TinyInt(_)
        | T::Int8(_)
        | T::Int4(_)
        | T::Int2(_)
        | T::Int64
        | T::Int32 => CastTo::Integer,
        T::Real
        | T::Float(_)
        | T::Double(_)
        | T::DoublePrecision
        | T::Float4
        | T::Float8
        | T::Float64
        | T::Numeric(_)
        | T::Decimal(_) => CastTo::Float,
        T::Text | T::Varchar(_) | T::Char(_) | T::String(_) | T::CharVarying(_) | T::Character(_) => CastTo::Text,
        T::Boolean | T::Bool => CastTo::Boolean,
        other => {
            return Err(unsupported(format!(
                "CAST to {other} (REM SQL casts to INTEGER, FLOAT, NUMERIC, TEXT and BOOLEAN; timestamps are RFC 3339 text)"
            )));
        }
    })
}

/// An `INTERVAL '...'` literal (a leading unit is appended: `INTERVAL '7' DAY`).
fn interval(iv: &ast::Interval) -> Result<ir::Interval> {
    let text = match iv.value.as_ref() {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::SingleQuotedString(s) => s.clone(),
            ast::Value::Number(n, _) => n.clone(),
            _ => return Err(Error::query("INTERVAL takes a quoted text such as '7 days'")),
        },
        _ => return Err(Error::query("INTERVAL takes a quoted text such as '7 days'")),
    };
    if iv.last_field.is_some() {
        return Err(unsupported("INTERVAL ... TO ... ranges (write INTERVAL '1 day 2 hours')"));
    }
    let text = match &iv.leading_field {
        Some(f) => format!("{text} {}", f.to_string().to_ascii_lowercase()),
        None => text,
    };
    scalar::parse_interval(&text)
}

fn uint(e: &ast::Expr, what: &str) -> Result<u64> {
    match e {
        ast::Expr::Value(v) => match &v.value {
            ast::Value::Number(n, _) => n.parse::<u64>().ok(),
            _ => None,
        },
        _ => None,
    }
    .ok_or_else(|| Error::query(format!("{what} must be a non-negative integer literal, got {e}")))
}

/// Output name of an unaliased select item.
fn default_name(e: &ast::Expr) -> String {
    match e {
        ast::Expr::Identifier(i) => i.value.clone(),
        ast::Expr::CompoundIdentifier(p) => ident_path(p).join("."),
        ast::Expr::Function(f) => f.to_string().to_ascii_lowercase().split('(').next().unwrap_or("expr").to_string(),
        other => other.to_string(),
    }
}

/// The table a query reads, refusing joins and anything that is not one plain table.
pub fn source_table(query: &ast::Query) -> Result<(&ast::Select, String)> {
    if query.with.is_some() {
        return Err(unsupported("WITH (common table expressions)"));
    }
    let select = match query.body.as_ref() {
        SetExpr::Select(s) => s.as_ref(),
        SetExpr::SetOperation { op, .. } => return Err(unsupported(format!("{op} of queries"))),
        SetExpr::Query(_) => return Err(unsupported("a subquery")),
        SetExpr::Values(_) => return Err(unsupported("VALUES")),
        other => return Err(unsupported(format!("`{other}`"))),
    };
    let from = match select.from.as_slice() {
        [] => return Err(Error::query("a query needs FROM <table>")),
        [one] => one,
        _ => return Err(unsupported("JOIN (several tables in FROM)")),
    };
    if !from.joins.is_empty() {
        return Err(unsupported("JOIN"));
    }
    let table = match &from.relation {
        // A one-part name as written, without its quotes: `"order"` names the table `order`.
        TableFactor::Table { name, args: None, .. } => match name.0.as_slice() {
            [ObjectNamePart::Identifier(i)] => i.value.clone(),
            _ => name.to_string(),
        },
        TableFactor::Derived { .. } => return Err(unsupported("a subquery in FROM")),
        other => return Err(unsupported(format!("the table expression {other}"))),
    };
    Ok((select, table))
}

/// Compile a `SELECT` over `schema`'s table (subqueries refused).
pub fn compile_select(query: &ast::Query, select: &ast::Select, schema: &CompiledSchema) -> Result<Select> {
    compile_with(query, select, Names::Table(schema), None)
}

/// [`compile_select`], running uncorrelated subqueries with `subqueries`.
pub fn compile_select_with(
    query: &ast::Query,
    select: &ast::Select,
    schema: &CompiledSchema,
    subqueries: Subqueries<'_>,
) -> Result<Select> {
    compile_with(query, select, Names::Table(schema), Some(subqueries))
}

/// Compile a `SELECT` over rows combined from `sources` (each row's properties hold one object
/// per source alias; see [`Source`]).
pub fn compile_sources(
    query: &ast::Query,
    select: &ast::Select,
    sources: &[Source<'_>],
    subqueries: Subqueries<'_>,
) -> Result<Select> {
    compile_with(query, select, Names::Sources(sources), Some(subqueries))
}

fn compile_with(
    query: &ast::Query,
    select: &ast::Select,
    names: Names<'_>,
    subqueries: Option<Subqueries<'_>>,
) -> Result<Select> {
    if select.into.is_some() {
        return Err(unsupported("SELECT INTO"));
    }
    if !select.named_window.is_empty() || select.qualify.is_some() {
        return Err(unsupported("window functions"));
    }
    if select.top.is_some() || query.fetch.is_some() || !query.locks.is_empty() {
        return Err(unsupported("TOP/FETCH/locking clauses"));
    }
    let distinct = match &select.distinct {
        None => false,
        Some(ast::Distinct::Distinct) => true,
        Some(other) => return Err(unsupported(format!("{other}"))),
    };
    let (table, all_members) = match &names {
        Names::Table(schema) => (schema.record.name.clone(), None),
        Names::Sources(sources) => (String::new(), Some(sources.iter().map(|s| s.alias.clone()).collect::<Vec<_>>())),
    };
    let alias = select.from.first().and_then(|f| match &f.relation {
        TableFactor::Table { alias: Some(a), .. } => Some(a.name.value.clone()),
        _ => None,
    });
    let mut c = Compiler { names, alias, aggs: Vec::new(), subqueries };
    let mut members: Option<Vec<String>> = None;
    let filter = select.selection.as_ref().map(|w| c.top(w, Scope::Row)).transpose()?;
    let group_by = match &select.group_by {
        GroupByExpr::Expressions(exprs, mods) if mods.is_empty() => {
            exprs.iter().map(|e| c.top(e, Scope::Row)).collect::<Result<Vec<_>>>()?
        }
        other => return Err(unsupported(format!("`{other}`"))),
    };
    let mut items = Vec::new();
    let mut star = false;
    for item in &select.projection {
        match item {
            SelectItem::Wildcard(_) => star = true,
            SelectItem::QualifiedWildcard(ast::SelectItemQualifiedWildcardKind::ObjectName(name), _)
                if all_members.as_ref().is_some_and(|m| m.contains(&name.to_string())) =>
            {
                star = true;
                members.get_or_insert_with(Vec::new).push(name.to_string());
            }
            SelectItem::UnnamedExpr(e) => {
                let ex = c.top(e, Scope::Group)?;
                let mut name = default_name(e);
                // `p.name` (a table or alias, then a column) is named `name`, as PostgreSQL names it.
                let qualifies = |q: &str| match &all_members {
                    Some(all) => all.iter().any(|a| a == q),
                    None => q == table || c.alias.as_deref() == Some(q),
                };
                if let ast::Expr::CompoundIdentifier(parts) = e
                    && parts.len() > 1
                    && qualifies(&parts[0].value)
                {
                    name = ident_path(&parts[1..]).join(".");
                }
                items.push((name, ex, e))
            }
            SelectItem::ExprWithAlias { expr, alias } => {
                items.push((alias.value.clone(), c.top(expr, Scope::Group)?, expr))
            }
            other => return Err(unsupported(format!("the select item {other}"))),
        }
    }
    // Two columns named alike (`p.name, c.name`) would be one key of the output object: a
    // qualified column whose bare name another item has keeps its qualifier.
    let counts = items.iter().fold(HashMap::new(), |mut m: HashMap<String, usize>, (n, ..)| {
        *m.entry(n.clone()).or_default() += 1;
        m
    });
    for (name, _, e) in &mut items {
        if counts.get(name.as_str()).is_some_and(|n| *n > 1)
            && let ast::Expr::CompoundIdentifier(parts) = e
        {
            *name = ident_path(parts).join(".");
        }
    }
    let having = select.having.as_ref().map(|h| c.top(h, Scope::Group)).transpose()?;
    let grouped = !group_by.is_empty() || !c.aggs.is_empty();
    if star && (grouped || !items.is_empty()) {
        return Err(unsupported("`*` mixed with other select items or aggregates"));
    }
    if having.is_some() && !grouped {
        return Err(Error::query("HAVING needs GROUP BY or an aggregate"));
    }
    if grouped {
        // Non-aggregate select items must be grouping keys.
        for (name, ex, ast_expr) in &items {
            if !matches!(ex, Ex::Agg(_)) && ex.reads_bare_column() {
                let is_key = select_group_matches(&select.group_by, ast_expr);
                if !is_key {
                    return Err(Error::query(format!(
                        "column '{name}' must appear in GROUP BY or be used in an aggregate function"
                    )));
                }
            }
        }
    }
    let mut order_by = Vec::new();
    if let Some(ob) = &query.order_by {
        let OrderByKind::Expressions(keys) = &ob.kind else {
            return Err(unsupported("ORDER BY ALL"));
        };
        for k in keys {
            let desc = match &k.options.sort {
                None | Some(OrderBySort::Asc) => false,
                Some(OrderBySort::Desc) => true,
                Some(_) => return Err(unsupported("ORDER BY ... USING")),
            };
            let alias = match &k.expr {
                ast::Expr::Identifier(i) => items.iter().find(|(n, ..)| *n == i.value).map(|(_, ex, _)| ex.clone()),
                // `ORDER BY 2`: the second select item.
                ast::Expr::Value(v) if matches!(v.value, ast::Value::Number(..)) => {
                    let n = uint(&k.expr, "ORDER BY position")?;
                    match items.get((n as usize).wrapping_sub(1)) {
                        Some((_, ex, _)) => Some(ex.clone()),
                        None => {
                            return Err(Error::query(format!(
                                "ORDER BY position {n} is not in the select list (1 to {})",
                                items.len()
                            )));
                        }
                    }
                }
                _ => None,
            };
            let expr = match alias {
                Some(ex) => ex,
                None => c.top(&k.expr, if grouped { Scope::Group } else { Scope::Row })?,
            };
            order_by.push(OrderKey { expr, desc, nulls_first: k.options.nulls_first.unwrap_or(desc) });
        }
    }
    let (limit, offset) = match &query.limit_clause {
        None => (None, 0),
        Some(LimitClause::LimitOffset { limit, offset, limit_by }) => {
            if !limit_by.is_empty() {
                return Err(unsupported("LIMIT BY"));
            }
            (
                limit.as_ref().map(|l| uint(l, "LIMIT")).transpose()?,
                offset.as_ref().map(|o| uint(&o.value, "OFFSET")).transpose()?.unwrap_or(0),
            )
        }
        Some(LimitClause::OffsetCommaLimit { offset, limit }) => (Some(uint(limit, "LIMIT")?), uint(offset, "OFFSET")?),
    };
    let include_deleted = filter.as_ref().is_some_and(|f| f.mentions("deleted_at"));
    Ok(Select {
        table,
        projection: if star {
            match (members, all_members) {
                (Some(m), _) | (None, Some(m)) => Projection::Members(m),
                (None, None) => Projection::Star,
            }
        } else {
            Projection::Items(items.into_iter().map(|(n, e, _)| (n, e)).collect())
        },
        filter,
        include_deleted,
        group_by,
        aggs: c.aggs,
        grouped,
        having,
        order_by,
        distinct,
        limit,
        offset,
    })
}

fn select_group_matches(group_by: &GroupByExpr, e: &ast::Expr) -> bool {
    match group_by {
        GroupByExpr::Expressions(exprs, _) => exprs.iter().any(|g| g.to_string() == e.to_string()),
        GroupByExpr::All(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use sqlparser::ast::Statement;

    use super::*;
    use crate::model::schema::{CompiledSchema, SchemaRecord};
    use crate::sql::ir::Projection;

    fn schema() -> CompiledSchema {
        let doc = json!({"type": "object", "key_field": "name", "indexed_fields": ["role"], "properties": {
            "name": {"type": "string"}, "age": {"type": "integer"}, "role": {"type": "string"}}});
        CompiledSchema::compile(SchemaRecord::from_document("person", doc).unwrap()).unwrap()
    }

    fn compile(sql: &str) -> Result<Select> {
        let statements = crate::sql::parsed::parse(sql)?;
        let Statement::Query(query) = &statements[0] else { panic!("{sql} is not a query") };
        let (select, table) = source_table(query)?;
        assert_eq!(table, "person");
        compile_select(query, select, &schema())
    }

    #[test]
    fn a_select_compiles_to_its_parts() {
        let q =
            compile("SELECT name, age AS years FROM person WHERE age > 30 ORDER BY age DESC LIMIT 2 OFFSET 1").unwrap();
        assert_eq!((q.limit, q.offset, q.order_by.len()), (Some(2), 1, 1));
        assert!(q.filter.is_some() && !q.grouped && !q.distinct && !q.include_deleted);
        let Projection::Items(items) = &q.projection else { panic!("named columns expected") };
        assert_eq!(items.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(), ["name", "years"]);
    }

    #[test]
    fn aggregates_and_groups_are_marked() {
        let q = compile("SELECT role, COUNT(*) AS n FROM person GROUP BY role HAVING MAX(age) > 1").unwrap();
        assert!(q.grouped && q.having.is_some());
        // One aggregate slot per aggregate written: COUNT(*) in the output, MAX(age) in HAVING.
        assert_eq!((q.group_by.len(), q.aggs.len()), (1, 2));
        let q = compile("SELECT DISTINCT role FROM person").unwrap();
        assert!(q.distinct && !q.grouped);
    }

    #[test]
    fn a_filter_on_deleted_at_reads_deleted_rows_too() {
        assert!(compile("SELECT * FROM person WHERE deleted_at IS NOT NULL").unwrap().include_deleted);
        assert!(!compile("SELECT * FROM person WHERE age = 3").unwrap().include_deleted);
    }

    #[test]
    fn what_rem_cannot_evaluate_is_refused_while_compiling() {
        for sql in [
            "SELECT * FROM person p JOIN person q ON p.name = q.name",
            "SELECT * FROM person, person",
            "SELECT name FROM person UNION SELECT name FROM person",
        ] {
            let statements = crate::sql::parsed::parse(sql).unwrap();
            let Statement::Query(query) = &statements[0] else { panic!("{sql}") };
            let err = source_table(query).and_then(|(s, _)| compile_select(query, s, &schema())).unwrap_err();
            assert!(matches!(err, Error::Unsupported(_) | Error::InvalidQuery { .. }), "{sql}: {err:?}");
        }
    }
}
