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
}

impl Ex {
    /// Add the top-level property names this expression reads to `out`.
    pub fn properties_read(&self, out: &mut std::collections::HashSet<String>) {
        match self {
            Ex::Col(p) => {
                let name = if p[0] == "properties" && p.len() > 1 { &p[1] } else { &p[0] };
                out.insert(name.clone());
            }
            Ex::Lit(_) | Ex::Agg(_) => {}
            Ex::Cmp(a, _, b) | Ex::And(a, b) | Ex::Or(a, b) | Ex::Any(a, _, b) | Ex::Like(a, b, ..) => {
                a.properties_read(out);
                b.properties_read(out);
            }
            Ex::Not(a) | Ex::IsNull(a, _) | Ex::Lower(a) | Ex::Upper(a) | Ex::Neg(a) | Ex::LikeLit(a, ..) => {
                a.properties_read(out)
            }
            Ex::InList(a, l, ..) => {
                a.properties_read(out);
                l.iter().for_each(|e| e.properties_read(out));
            }
            Ex::Between(a, b, c, _) => {
                a.properties_read(out);
                b.properties_read(out);
                c.properties_read(out);
            }
        }
    }

    /// Whether the expression reads column `name` (first path segment).
    pub fn mentions(&self, name: &str) -> bool {
        match self {
            Ex::Col(p) => p.first().is_some_and(|f| f == name),
            Ex::Lit(_) | Ex::Agg(_) => false,
            Ex::Cmp(a, _, b) | Ex::And(a, b) | Ex::Or(a, b) | Ex::Any(a, _, b) => a.mentions(name) || b.mentions(name),
            Ex::Not(a) | Ex::IsNull(a, _) | Ex::Lower(a) | Ex::Upper(a) | Ex::Neg(a) | Ex::LikeLit(a, ..) => {
                a.mentions(name)
            }
            Ex::InList(a, l, ..) => a.mentions(name) || l.iter().any(|e| e.mentions(name)),
            Ex::Between(a, b, c, _) => a.mentions(name) || b.mentions(name) || c.mentions(name),
            Ex::Like(a, b, ..) => a.mentions(name) || b.mentions(name),
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
