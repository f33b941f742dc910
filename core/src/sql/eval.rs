//! Expression evaluation with SQL three-valued logic: `Value::Null` is
//! "unknown". Comparisons across types are unknown (so never true, even under
//! `NOT`); numbers compare numerically whatever their JSON representation.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::ir::{CmpOp, Ex};
use crate::entity::Entity;

/// What expressions read: one entity, plus aggregate values in grouped queries.
pub struct Row<'a> {
    /// The row.
    pub entity: &'a Entity,
    /// Aggregate slot values (empty for row scope).
    pub aggs: &'a [Value],
}

/// The value at a column path: system fields, `properties.x`, or a property path.
pub fn column(entity: &Entity, path: &[String]) -> Value {
    let first = path[0].as_str();
    match first {
        "id" => return Value::String(entity.id.clone()),
        "entity_type" => return Value::String(entity.entity_type.clone()),
        "created_at" => return Value::String(entity.created_at.clone()),
        "modified_at" => return Value::String(entity.modified_at.clone()),
        "deleted_at" => {
            return entity.deleted_at.clone().map(Value::String).unwrap_or(Value::Null);
        }
        _ => {}
    }
    let rest = if first == "properties" && path.len() > 1 { &path[1..] } else { path };
    let mut cur = match entity.properties.get(&rest[0]) {
        Some(v) => v,
        None => return Value::Null,
    };
    for seg in &rest[1..] {
        cur = match cur {
            Value::Object(m) => match m.get(seg) {
                Some(v) => v,
                None => return Value::Null,
            },
            Value::Array(a) => match seg.parse::<usize>().ok().and_then(|i| a.get(i)) {
                Some(v) => v,
                None => return Value::Null,
            },
            _ => return Value::Null,
        };
    }
    cur.clone()
}

/// Compare two non-null values of the same kind; `None` across kinds.
pub fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if let (Some(i), Some(j)) = (x.as_i64(), y.as_i64()) {
                return Some(i.cmp(&j));
            }
            if let (Some(i), Some(j)) = (x.as_u64(), y.as_u64()) {
                return Some(i.cmp(&j));
            }
            x.as_f64()?.partial_cmp(&y.as_f64()?)
        }
        (Value::String(x), Value::String(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Array(_), Value::Array(_)) | (Value::Object(_), Value::Object(_)) => {
            if a == b {
                Some(Ordering::Equal)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn rank(v: &Value) -> u8 {
    match v {
        Value::Null => 0,
        Value::Bool(_) => 1,
        Value::Number(_) => 2,
        Value::String(_) => 3,
        Value::Array(_) => 4,
        Value::Object(_) => 5,
    }
}

/// A total order for sorting and grouping: by type (bool < number < string <
/// array < object), then by value within a type. Nulls are placed by the caller.
pub fn total_order(a: &Value, b: &Value) -> Ordering {
    match compare(a, b) {
        Some(o) => o,
        None => rank(a).cmp(&rank(b)).then_with(|| a.to_string().cmp(&b.to_string())),
    }
}

fn apply(op: CmpOp, o: Ordering) -> bool {
    match op {
        CmpOp::Eq => o == Ordering::Equal,
        CmpOp::Ne => o != Ordering::Equal,
        CmpOp::Lt => o == Ordering::Less,
        CmpOp::Le => o != Ordering::Greater,
        CmpOp::Gt => o == Ordering::Greater,
        CmpOp::Ge => o != Ordering::Less,
    }
}

fn cmp_values(a: &Value, op: CmpOp, b: &Value) -> Value {
    if a.is_null() || b.is_null() {
        return Value::Null;
    }
    match compare(a, b) {
        Some(o) => Value::Bool(apply(op, o)),
        None => Value::Null,
    }
}

/// SQL truth of a value: only `true` is true.
pub fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

fn not(v: Value) -> Value {
    match v {
        Value::Bool(b) => Value::Bool(!b),
        _ => Value::Null,
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok {
    Any,
    One,
    Lit(char),
}

/// A compiled `LIKE` pattern: `%` any run, `_` one char, `escape` makes the next char literal.
/// Patterns without `_` and with `%` only at the ends (`abc`, `abc%`, `%abc`, `%abc%`) are
/// matched as string equality, prefix, suffix and substring tests (the substring with
/// `memchr::memmem`); others by a backtracking matcher.
#[derive(Debug, Clone)]
pub struct LikePattern {
    toks: Vec<Tok>,
    ascii: bool,
    shape: Shape,
}

impl PartialEq for LikePattern {
    fn eq(&self, other: &Self) -> bool {
        self.toks == other.toks
    }
}

/// How a [`LikePattern`] is matched. The literal tests work on bytes: a UTF-8 literal occurs in
/// UTF-8 text as bytes exactly where it occurs as characters.
#[derive(Debug, Clone)]
enum Shape {
    Exact(String),
    Prefix(String),
    Suffix(String),
    Contains(Box<memchr::memmem::Finder<'static>>),
    General,
}

impl Shape {
    fn of(toks: &[Tok]) -> Shape {
        let lead = toks.iter().take_while(|t| **t == Tok::Any).count();
        let trail = toks[lead..].iter().rev().take_while(|t| **t == Tok::Any).count();
        let middle = &toks[lead..toks.len() - trail];
        let literal: Option<String> =
            middle.iter().map(|t| if let Tok::Lit(c) = t { Some(*c) } else { None }).collect();
        match (literal, lead > 0, trail > 0) {
            (None, ..) => Shape::General,
            (Some(l), false, false) => Shape::Exact(l),
            (Some(l), false, true) => Shape::Prefix(l),
            (Some(l), true, false) => Shape::Suffix(l),
            (Some(l), true, true) => Shape::Contains(Box::new(memchr::memmem::Finder::new(l.as_bytes()).into_owned())),
        }
    }
}

impl LikePattern {
    /// Compile `pattern` with an optional escape character.
    pub fn new(pattern: &str, escape: Option<char>) -> Self {
        let mut toks = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            if Some(c) == escape {
                toks.push(Tok::Lit(chars.next().unwrap_or(c)));
            } else if c == '%' {
                toks.push(Tok::Any);
            } else if c == '_' {
                toks.push(Tok::One);
            } else {
                toks.push(Tok::Lit(c));
            }
        }
        let ascii = toks.iter().all(|t| !matches!(t, Tok::Lit(c) if !c.is_ascii()));
        let shape = Shape::of(&toks);
        LikePattern { toks, ascii, shape }
    }

    /// Whether `text` matches. ASCII text is matched on bytes without copying.
    pub fn matches(&self, text: &str) -> bool {
        match &self.shape {
            Shape::Exact(l) => return text == l,
            Shape::Prefix(l) => return text.starts_with(l.as_str()),
            Shape::Suffix(l) => return text.ends_with(l.as_str()),
            Shape::Contains(f) => return f.find(text.as_bytes()).is_some(),
            Shape::General => {}
        }
        if self.ascii && text.is_ascii() {
            run(&self.toks, text.as_bytes(), |c, b| c as u32 == b as u32)
        } else {
            let chars: Vec<char> = text.chars().collect();
            run(&self.toks, &chars, |c, t| c == t)
        }
    }
}

/// Greedy matcher with backtracking to the last `%` (linear in practice).
fn run<T: Copy>(toks: &[Tok], text: &[T], eq: impl Fn(char, T) -> bool) -> bool {
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match toks.get(p) {
            Some(Tok::Any) => {
                star = Some((p, t));
                p += 1;
            }
            Some(Tok::One) => {
                t += 1;
                p += 1;
            }
            Some(Tok::Lit(c)) if eq(*c, text[t]) => {
                t += 1;
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    toks[p..].iter().all(|t| *t == Tok::Any)
}

/// `LIKE` matching (see [`LikePattern`]).
pub fn like(text: &str, pattern: &str, escape: Option<char>) -> bool {
    LikePattern::new(pattern, escape).matches(text)
}

/// A column's value without copying it when it is a property.
pub fn column_cow<'a>(entity: &'a Entity, path: &[String]) -> Cow<'a, Value> {
    let first = path[0].as_str();
    if matches!(first, "id" | "entity_type" | "created_at" | "modified_at" | "deleted_at") {
        return Cow::Owned(column(entity, path));
    }
    let rest = if first == "properties" && path.len() > 1 { &path[1..] } else { path };
    let mut cur = match entity.properties.get(&rest[0]) {
        Some(v) => v,
        None => return Cow::Owned(Value::Null),
    };
    for seg in &rest[1..] {
        let next = match cur {
            Value::Object(m) => m.get(seg),
            Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
            _ => None,
        };
        match next {
            Some(v) => cur = v,
            None => return Cow::Owned(Value::Null),
        }
    }
    Cow::Borrowed(cur)
}

/// An operand: columns and literals borrowed, anything else evaluated.
fn operand<'a>(ex: &'a Ex, row: &Row<'a>) -> Cow<'a, Value> {
    match ex {
        Ex::Col(path) => column_cow(row.entity, path),
        Ex::Lit(v) => Cow::Borrowed(v),
        other => Cow::Owned(eval(other, row)),
    }
}

/// Evaluate `ex` against `row`.
pub fn eval(ex: &Ex, row: &Row<'_>) -> Value {
    match ex {
        Ex::Col(path) => column(row.entity, path),
        Ex::Lit(v) => v.clone(),
        Ex::Agg(i) => row.aggs.get(*i).cloned().unwrap_or(Value::Null),
        Ex::Cmp(a, op, b) => cmp_values(&operand(a, row), *op, &operand(b, row)),
        Ex::And(a, b) => match (eval(a, row), eval(b, row)) {
            (Value::Bool(false), _) | (_, Value::Bool(false)) => Value::Bool(false),
            (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
            _ => Value::Null,
        },
        Ex::Or(a, b) => match (eval(a, row), eval(b, row)) {
            (Value::Bool(true), _) | (_, Value::Bool(true)) => Value::Bool(true),
            (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
            _ => Value::Null,
        },
        Ex::Not(a) => not(eval(a, row)),
        Ex::IsNull(a, negated) => Value::Bool(operand(a, row).is_null() != *negated),
        Ex::InList(a, list, negated) => {
            let v = eval(a, row);
            if v.is_null() {
                return Value::Null;
            }
            let mut unknown = false;
            for item in list {
                match cmp_values(&v, CmpOp::Eq, &eval(item, row)) {
                    Value::Bool(true) => return Value::Bool(!negated),
                    Value::Null => unknown = true,
                    _ => {}
                }
            }
            if unknown { Value::Null } else { Value::Bool(*negated) }
        }
        Ex::Between(a, lo, hi, negated) => {
            let v = eval(a, row);
            let inside = match (cmp_values(&v, CmpOp::Ge, &eval(lo, row)), cmp_values(&v, CmpOp::Le, &eval(hi, row))) {
                (Value::Bool(x), Value::Bool(y)) => Value::Bool(x && y),
                _ => Value::Null,
            };
            if *negated { not(inside) } else { inside }
        }
        Ex::LikeLit(a, pat, negated, ci) => match operand(a, row).as_ref() {
            Value::String(s) => {
                let m = if *ci { pat.matches(&s.to_lowercase()) } else { pat.matches(s) };
                Value::Bool(m != *negated)
            }
            _ => Value::Null,
        },
        Ex::Like(a, pat, escape, negated, ci) => match (eval(a, row), eval(pat, row)) {
            (Value::String(s), Value::String(p)) => {
                let m = if *ci { like(&s.to_lowercase(), &p.to_lowercase(), *escape) } else { like(&s, &p, *escape) };
                Value::Bool(m != *negated)
            }
            _ => Value::Null,
        },
        Ex::Lower(a) => match eval(a, row) {
            Value::String(s) => Value::String(s.to_lowercase()),
            Value::Null => Value::Null,
            _ => Value::Null,
        },
        Ex::Upper(a) => match eval(a, row) {
            Value::String(s) => Value::String(s.to_uppercase()),
            _ => Value::Null,
        },
        Ex::Neg(a) => match eval(a, row) {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Value::from(-i),
                None => n.as_f64().map(|f| Value::from(-f)).unwrap_or(Value::Null),
            },
            _ => Value::Null,
        },
        Ex::Any(needle, op, arr) => {
            let n = eval(needle, row);
            match eval(arr, row) {
                Value::Array(items) => {
                    let mut unknown = n.is_null();
                    for item in &items {
                        match cmp_values(&n, *op, item) {
                            Value::Bool(true) => return Value::Bool(true),
                            Value::Null => unknown = true,
                            _ => {}
                        }
                    }
                    if unknown { Value::Null } else { Value::Bool(false) }
                }
                _ => Value::Null,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn like_handles_wildcards_and_escapes() {
        assert!(like("hello", "h%o", Some('\\')));
        assert!(like("hello", "h_llo", Some('\\')));
        assert!(!like("hello", "h_lo", Some('\\')));
        assert!(like("100%", "100\\%", Some('\\')));
        assert!(!like("1000", "100\\%", Some('\\')));
        assert!(like("a.b", "a.b", Some('\\')));
        assert!(!like("axb", "a.b", Some('\\')), "regex metacharacters are literal");
        assert!(like("", "%", None));
        assert!(like("abcabc", "%abc", None));
        assert!(like("mississippi", "%iss%ipp%", None));
    }

    #[test]
    fn literal_shapes_match_as_the_general_matcher_does() {
        let mut r = fastrand::Rng::with_seed(3);
        let parts = ["a", "b", "é", "%", "_", "ab", "\\%"];
        for _ in 0..20_000 {
            let pattern: String = (0..r.usize(0..5)).map(|_| parts[r.usize(..parts.len())]).collect();
            let text: String = (0..r.usize(0..6)).map(|_| ["a", "b", "é", "%"][r.usize(..4)]).collect();
            let fast = LikePattern::new(&pattern, Some('\\'));
            let general = LikePattern { shape: Shape::General, ..fast.clone() };
            assert_eq!(fast.matches(&text), general.matches(&text), "{text:?} LIKE {pattern:?}");
        }
        assert!(matches!(LikePattern::new("%gold widget%", None).shape, Shape::Contains(_)));
        assert!(matches!(LikePattern::new("ab%", None).shape, Shape::Prefix(_)));
        assert!(matches!(LikePattern::new("%%ab", None).shape, Shape::Suffix(_)));
        assert!(matches!(LikePattern::new("ab", None).shape, Shape::Exact(_)));
        assert!(matches!(LikePattern::new("a%b", None).shape, Shape::General));
        assert!(matches!(LikePattern::new("%a_", None).shape, Shape::General));
    }

    #[test]
    fn numbers_compare_numerically_across_representations() {
        assert_eq!(compare(&json!(30), &json!(30.0)), Some(Ordering::Equal));
        assert_eq!(compare(&json!(2), &json!(10)), Some(Ordering::Less));
        assert_eq!(compare(&json!("2"), &json!(10)), None);
        assert_eq!(cmp_values(&json!("a"), CmpOp::Ne, &json!(1)), Value::Null);
    }
}
