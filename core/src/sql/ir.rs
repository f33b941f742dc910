//! The query IR: what a parsed statement compiles to. Everything REM cannot
//! evaluate is refused while compiling, so evaluation never guesses.

use serde_json::Value;

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=` / `<>`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

/// Aggregate functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AggFn {
    /// `COUNT(*)`
    CountStar,
    /// `COUNT(x)`: non-null values.
    Count,
    /// `COUNT(DISTINCT x)`.
    CountDistinct,
    /// `SUM(x)` over numbers.
    Sum,
    /// `AVG(x)` over numbers.
    Avg,
    /// `MIN(x)`.
    Min,
    /// `MAX(x)`.
    Max,
}

/// A compiled aggregate: function and argument.
#[derive(Debug, Clone)]
pub struct Agg {
    /// Which function.
    pub func: AggFn,
    /// Argument (`Lit(Null)` for `COUNT(*)`).
    pub arg: Ex,
}

/// Arithmetic operators. Integers stay integers (`/` truncates toward zero, `%` takes the
/// dividend's sign) and overflow is an error; a float on either side makes the result a float.
/// Division or remainder by zero is an error, as in PostgreSQL (SQLite returns `NULL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Mod,
}

/// Scalar functions (see [`super::scalar`] for each one's rules).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    /// `COALESCE(a, b, ...)`: the first non-null argument.
    Coalesce,
    /// `NULLIF(a, b)`: `NULL` when `a = b`, else `a`.
    Nullif,
    /// `ABS(x)`.
    Abs,
    /// `ROUND(x [, digits])`: half away from zero.
    Round,
    /// `FLOOR(x)`.
    Floor,
    /// `CEIL(x)` / `CEILING(x)`.
    Ceil,
    /// `LENGTH(s)` / `CHAR_LENGTH(s)`: characters.
    Length,
    /// `SUBSTR(s, start [, count])` / `SUBSTRING(s FROM start FOR count)`: 1-based characters.
    Substr,
    /// `TRIM([chars FROM] s)` / `BTRIM(s [, chars])`: both ends.
    Trim,
    /// `LTRIM(s [, chars])` / `TRIM(LEADING ...)`.
    Ltrim,
    /// `RTRIM(s [, chars])` / `TRIM(TRAILING ...)`.
    Rtrim,
    /// `REPLACE(s, from, to)`: every occurrence.
    Replace,
    /// `CONCAT(a, b, ...)`: text of the non-null arguments.
    Concat,
    /// `CARDINALITY(array)` / `ARRAY_LENGTH(array, 1)`: elements.
    Cardinality,
    /// `DATE_TRUNC('unit', timestamp)`: RFC 3339 timestamp truncated to the unit.
    DateTrunc,
}

/// What `CAST(x AS type)` converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastTo {
    /// `INTEGER`, `INT`, `BIGINT`, `SMALLINT`: 64-bit integer (floats rounded half away from zero).
    Integer,
    /// `REAL`, `FLOAT`, `DOUBLE PRECISION`, `NUMERIC`, `DECIMAL`: 64-bit float.
    Float,
    /// `TEXT`, `VARCHAR`, `CHAR`, `STRING`.
    Text,
    /// `BOOLEAN`, `BOOL`.
    Boolean,
}

/// A calendar interval (`INTERVAL '7 days'`): months and microseconds, applied to a timestamp
/// in UTC (months first, so `'1 month'` from January 31 is the last day of February).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    /// Whole months (years × 12 + months).
    pub months: i64,
    /// Days, hours, minutes, seconds and fractions, in microseconds (a day is 86,400 s in UTC).
    pub micros: i64,
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub enum Ex {
    /// A column: system field or dotted path into the properties.
    Col(Vec<String>),
    /// A literal.
    Lit(Value),
    /// A comparison (unknown across types).
    Cmp(Box<Ex>, CmpOp, Box<Ex>),
    /// Logical AND.
    And(Box<Ex>, Box<Ex>),
    /// Logical OR.
    Or(Box<Ex>, Box<Ex>),
    /// Logical NOT.
    Not(Box<Ex>),
    /// `x [NOT] IN (list)`: (expr, list, negated, the list's values hashed when it is long and
    /// all literals; see [`super::eval::ValueSet`]).
    InList(Box<Ex>, Vec<Ex>, bool, Option<Box<super::eval::ValueSet>>),
    /// `x [NOT] BETWEEN lo AND hi`.
    Between(Box<Ex>, Box<Ex>, Box<Ex>, bool),
    /// `x [NOT] LIKE/ILIKE pattern`: (expr, pattern, escape, negated, case-insensitive).
    Like(Box<Ex>, Box<Ex>, Option<char>, bool, bool),
    /// `x [NOT] LIKE/ILIKE 'literal'` with the pattern compiled once (lower-cased for ILIKE):
    /// (expr, pattern, negated, case-insensitive).
    LikeLit(Box<Ex>, super::eval::LikePattern, bool, bool),
    /// `x IS [NOT] NULL`.
    IsNull(Box<Ex>, bool),
    /// `LOWER(x)`.
    Lower(Box<Ex>),
    /// `UPPER(x)`.
    Upper(Box<Ex>),
    /// `needle op ANY(array)`.
    Any(Box<Ex>, CmpOp, Box<Ex>),
    /// Arithmetic negation.
    Neg(Box<Ex>),
    /// The value of aggregate slot `n` (grouped queries only).
    Agg(usize),
    /// `a op b` over numbers.
    Arith(Box<Ex>, ArithOp, Box<Ex>),
    /// `a || b`: text concatenation (`NULL` if either side is).
    Concat(Box<Ex>, Box<Ex>),
    /// A scalar function call.
    Call(Func, Vec<Ex>),
    /// `CAST(x AS type)`.
    Cast(Box<Ex>, CastTo),
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`: (operand, (when, then) pairs, else).
    Case(Option<Box<Ex>>, Vec<(Ex, Ex)>, Option<Box<Ex>>),
    /// `timestamp ± INTERVAL '...'` (the interval negated for `-`).
    Shift(Box<Ex>, Interval),
}

impl Ex {
    /// The expressions this one is computed from, in order.
    pub fn children(&self) -> Vec<&Ex> {
        match self {
            Ex::Col(_) | Ex::Lit(_) | Ex::Agg(_) => Vec::new(),
            Ex::Cmp(a, _, b)
            | Ex::And(a, b)
            | Ex::Or(a, b)
            | Ex::Any(a, _, b)
            | Ex::Like(a, b, ..)
            | Ex::Arith(a, _, b)
            | Ex::Concat(a, b) => vec![a, b],
            Ex::Not(a)
            | Ex::IsNull(a, _)
            | Ex::Lower(a)
            | Ex::Upper(a)
            | Ex::Neg(a)
            | Ex::LikeLit(a, ..)
            | Ex::Cast(a, _)
            | Ex::Shift(a, _) => vec![a],
            Ex::InList(a, l, ..) => std::iter::once(&**a).chain(l).collect(),
            Ex::Between(a, b, c, _) => vec![a, b, c],
            Ex::Call(_, args) => args.iter().collect(),
            Ex::Case(operand, whens, otherwise) => operand
                .as_deref()
                .into_iter()
                .chain(whens.iter().flat_map(|(w, t)| [w, t]))
                .chain(otherwise.as_deref())
                .collect(),
        }
    }

    /// Add the top-level property names this expression reads to `out`.
    pub fn properties_read(&self, out: &mut std::collections::HashSet<String>) {
        match self {
            Ex::Col(p) => {
                let name = if p[0] == "properties" && p.len() > 1 { &p[1] } else { &p[0] };
                out.insert(name.clone());
            }
            other => other.children().into_iter().for_each(|c| c.properties_read(out)),
        }
    }

    /// Whether the expression reads column `name` (first path segment).
    pub fn mentions(&self, name: &str) -> bool {
        match self {
            Ex::Col(p) => p.first().is_some_and(|f| f == name),
            other => other.children().into_iter().any(|c| c.mentions(name)),
        }
    }

    /// Whether the expression reads a column outside an aggregate.
    pub fn reads_bare_column(&self) -> bool {
        match self {
            Ex::Col(_) => true,
            Ex::Agg(_) => false,
            other => other.children().into_iter().any(Ex::reads_bare_column),
        }
    }
}

/// One `ORDER BY` key.
#[derive(Debug, Clone)]
pub struct OrderKey {
    /// What to sort by.
    pub expr: Ex,
    /// Descending.
    pub desc: bool,
    /// Nulls first (default: last for ASC, first for DESC, as in PostgreSQL).
    pub nulls_first: bool,
}

/// What a `SELECT` returns.
#[derive(Debug, Clone)]
pub enum Projection {
    /// `*`: id, entity_type, then the properties.
    Star,
    /// Named output columns.
    Items(Vec<(String, Ex)>),
    /// Rows combined from several sources (a join, a `WITH` table): the members of the row's
    /// properties named here, one source's object as the row when there is one name, else an
    /// object of them by name (`SELECT *` of a join: `{"m": {...}, "s": {...}}`).
    Members(Vec<String>),
}

impl Select {
    /// The top-level properties the query reads; `None` when it needs them all (`SELECT *`).
    pub fn properties_read(&self) -> Option<std::collections::HashSet<String>> {
        let Projection::Items(items) = &self.projection else { return None };
        let mut out = std::collections::HashSet::new();
        let exprs = items.iter().map(|(_, e)| e).chain(&self.filter).chain(&self.group_by).chain(&self.having);
        for e in exprs.chain(self.order_by.iter().map(|k| &k.expr)).chain(self.aggs.iter().map(|a| &a.arg)) {
            e.properties_read(&mut out);
        }
        Some(out)
    }

    /// The top-level properties the filter and the sort keys read: what a `*` row spliced from
    /// its stored text (see [`crate::json::record::entity_with_star`]) must still decode.
    pub fn properties_tested(&self) -> std::collections::HashSet<String> {
        let mut out = std::collections::HashSet::new();
        for e in self.filter.iter().chain(self.order_by.iter().map(|k| &k.expr)) {
            e.properties_read(&mut out);
        }
        out
    }
}

/// A compiled `SELECT`.
#[derive(Debug, Clone)]
pub struct Select {
    /// Source table.
    pub table: String,
    /// Output.
    pub projection: Projection,
    /// Row filter.
    pub filter: Option<Ex>,
    /// Include soft-deleted rows (the filter mentions `deleted_at`).
    pub include_deleted: bool,
    /// Grouping keys (grouped when non-empty or when aggregates are used).
    pub group_by: Vec<Ex>,
    /// Aggregate slots referenced by `Ex::Agg`.
    pub aggs: Vec<Agg>,
    /// Whether this is an aggregate query.
    pub grouped: bool,
    /// Group filter.
    pub having: Option<Ex>,
    /// Sort keys.
    pub order_by: Vec<OrderKey>,
    /// `SELECT DISTINCT`.
    pub distinct: bool,
    /// `LIMIT`.
    pub limit: Option<u64>,
    /// `OFFSET`.
    pub offset: u64,
}
