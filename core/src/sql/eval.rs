//! Expression evaluation with SQL three-valued logic: `Value::Null` is
//! "unknown". Comparisons across types are unknown (so never true, even under
//! `NOT`); numbers compare numerically whatever their JSON representation.

use std::borrow::Cow;
use std::cmp::Ordering;

use rustc_hash::FxHashSet;
use serde_json::Value;

use super::ir::{CmpOp, Ex};
use crate::model::entity::Entity;

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
    entity.properties.get(&rest[0]).and_then(|v| at_path(v, &rest[1..])).cloned().unwrap_or(Value::Null)
}

/// The value at `path` inside `value`: object members by name, array elements by index;
/// `None` where the path leads nowhere.
pub fn at_path<'a>(value: &'a Value, path: &[String]) -> Option<&'a Value> {
    let mut cur = value;
    for seg in path {
        cur = match cur {
            Value::Object(m) => m.get(seg)?,
            Value::Array(a) => a.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(cur)
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
/// `memchr::memmem`); others by a bit-parallel automaton, in one pass over the text whatever the
/// pattern (no backtracking: `%a%a%a...%b` cannot blow up).
#[derive(Debug, Clone)]
pub struct LikePattern {
    toks: Vec<Tok>,
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
    General(Box<Automaton>),
}

impl Shape {
    fn of(toks: &[Tok]) -> Shape {
        let lead = toks.iter().take_while(|t| **t == Tok::Any).count();
        let trail = toks[lead..].iter().rev().take_while(|t| **t == Tok::Any).count();
        let middle = &toks[lead..toks.len() - trail];
        let literal: Option<String> =
            middle.iter().map(|t| if let Tok::Lit(c) = t { Some(*c) } else { None }).collect();
        match (literal, lead > 0, trail > 0) {
            (None, ..) => Shape::General(Box::new(Automaton::new(toks))),
            (Some(l), false, false) => Shape::Exact(l),
            (Some(l), false, true) => Shape::Prefix(l),
            (Some(l), true, false) => Shape::Suffix(l),
            (Some(l), true, true) => Shape::Contains(Box::new(memchr::memmem::Finder::new(l.as_bytes()).into_owned())),
        }
    }
}

/// Most `u64` words of per-character masks an [`Automaton`] precomputes (256 KiB); a pattern
/// needing more (very long, with many distinct characters) builds each character's mask as it
/// reads it, in time linear in the pattern.
const MAX_MASK_WORDS: usize = 1 << 15;

/// A `LIKE` pattern as a bit-parallel automaton (Shift-And). State `i` means "the first `i`
/// tokens matched", one bit each; reading a character moves each state whose token accepts it
/// one up, and a `%` state also stays (`%` matches any run, including none, so entering a `%`
/// state enters the next one too). The text matches when the last state is reached at its end.
/// One pass over the text, with `words` machine words of work per character.
#[derive(Debug, Clone)]
struct Automaton {
    /// The tokens, with runs of `%` collapsed into one (so that following a `%` takes one step).
    toks: Vec<Tok>,
    /// `u64` words in a state set (one bit per state: tokens + 1).
    words: usize,
    /// The states whose token is `%`.
    any: Vec<u64>,
    /// The states whose token is `_`.
    one: Vec<u64>,
    /// Per character class, `words` words: the states whose token accepts a character of the
    /// class (class 0: characters the pattern does not name). Empty when over [`MAX_MASK_WORDS`].
    masks: Vec<u64>,
    /// Class of each ASCII character.
    ascii: [u32; 128],
    /// Class of each non-ASCII character the pattern names, sorted by character.
    other: Vec<(char, u32)>,
    /// The set holding only the start state, after following `%`.
    start: Vec<u64>,
}

/// Word index and bit of state `i`.
fn bit(i: usize) -> (usize, u64) {
    (i / 64, 1 << (i % 64))
}

impl Automaton {
    fn new(toks: &[Tok]) -> Automaton {
        let mut toks = toks.to_vec();
        toks.dedup_by(|a, b| *a == Tok::Any && *b == Tok::Any);
        let words = toks.len() / 64 + 1;
        let mut chars: Vec<char> =
            toks.iter().filter_map(|t| if let Tok::Lit(c) = t { Some(*c) } else { None }).collect();
        chars.sort_unstable();
        chars.dedup();
        let mut ascii = [0u32; 128];
        let mut other = Vec::new();
        for (k, c) in chars.iter().enumerate() {
            let class = k as u32 + 1;
            if c.is_ascii() {
                ascii[*c as usize] = class;
            } else {
                other.push((*c, class));
            }
        }
        let (mut any, mut one) = (vec![0u64; words], vec![0u64; words]);
        for (i, t) in toks.iter().enumerate() {
            let (w, b) = bit(i);
            match t {
                Tok::Any => any[w] |= b,
                Tok::One => one[w] |= b,
                Tok::Lit(_) => {}
            }
        }
        let mut a = Automaton { toks, words, any, one, masks: Vec::new(), ascii, other, start: Vec::new() };
        let classes = chars.len() + 1;
        if classes.saturating_mul(words) <= MAX_MASK_WORDS {
            let mut masks = Vec::with_capacity(classes * words);
            for _ in 0..classes {
                masks.extend_from_slice(&a.one);
            }
            for (i, t) in a.toks.iter().enumerate() {
                if let Tok::Lit(c) = t {
                    let (w, b) = bit(i);
                    masks[a.class(*c) * words + w] |= b;
                }
            }
            a.masks = masks;
        }
        let mut start = vec![0u64; words];
        start[0] = 1;
        a.follow_any(&mut start);
        a.start = start;
        a
    }

    /// The class of character `c` (0 when the pattern does not name it).
    fn class(&self, c: char) -> usize {
        if c.is_ascii() {
            self.ascii[c as usize] as usize
        } else {
            self.other.binary_search_by_key(&c, |(ch, _)| *ch).map_or(0, |i| self.other[i].1 as usize)
        }
    }

    /// Add to `set` the state after each `%` state in it (one step suffices: no two `%` are adjacent).
    fn follow_any(&self, set: &mut [u64]) {
        let mut carry = 0;
        for (s, any) in set.iter_mut().zip(&self.any) {
            let entering = *s & any;
            *s |= (entering << 1) | carry;
            carry = entering >> 63;
        }
    }

    /// Whether the automaton accepts `text`.
    fn matches(&self, text: &str) -> bool {
        let words = self.words;
        let (last_word, last_bit) = bit(self.toks.len());
        if words == 1 && !self.masks.is_empty() {
            let (any, mut s) = (self.any[0], self.start[0]);
            for c in text.chars() {
                let moved = ((s & self.masks[self.class(c)]) << 1) | (s & any);
                s = moved | ((moved & any) << 1);
                if s == 0 {
                    return false;
                }
            }
            return s & last_bit != 0;
        }
        let mut s = self.start.clone();
        let mut next = vec![0u64; words];
        let mut scratch = if self.masks.is_empty() { vec![0u64; words] } else { Vec::new() };
        for c in text.chars() {
            let mask: &[u64] = if self.masks.is_empty() {
                scratch.copy_from_slice(&self.one);
                for (i, t) in self.toks.iter().enumerate() {
                    if *t == Tok::Lit(c) {
                        let (w, b) = bit(i);
                        scratch[w] |= b;
                    }
                }
                &scratch
            } else {
                let k = self.class(c);
                &self.masks[k * words..(k + 1) * words]
            };
            let mut carry = 0;
            for w in 0..words {
                let accepted = s[w] & mask[w];
                next[w] = (accepted << 1) | carry | (s[w] & self.any[w]);
                carry = accepted >> 63;
            }
            self.follow_any(&mut next);
            if next.iter().all(|w| *w == 0) {
                return false;
            }
            std::mem::swap(&mut s, &mut next);
        }
        s[last_word] & last_bit != 0
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
        let shape = Shape::of(&toks);
        LikePattern { toks, shape }
    }

    /// Whether `text` matches.
    pub fn matches(&self, text: &str) -> bool {
        match &self.shape {
            Shape::Exact(l) => text == l,
            Shape::Prefix(l) => text.starts_with(l.as_str()),
            Shape::Suffix(l) => text.ends_with(l.as_str()),
            Shape::Contains(f) => f.find(text.as_bytes()).is_some(),
            Shape::General(a) => a.matches(text),
        }
    }
}

/// `LIKE` matching (see [`LikePattern`]).
pub fn like(text: &str, pattern: &str, escape: Option<char>) -> bool {
    LikePattern::new(pattern, escape).matches(text)
}

/// Shortest `IN` list of literals compiled into a [`ValueSet`]; shorter lists are compared item by item.
pub const IN_SET_MIN: usize = 8;

/// The values of an `IN (...)` list of literals, hashed, so that testing a row costs the same
/// whatever the list's length. [`ValueSet::contains`] gives exactly what comparing the value with
/// each item in turn gives: numbers equal across representations as [`compare`] has them (`1`
/// and `1.0`, `-0.0` and `0`), and the answer is unknown (`NULL`) without a match when the list
/// holds a `NULL` or an item of another type.
#[derive(Debug, Clone, Default)]
pub struct ValueSet {
    /// The list holds `NULL`.
    null: bool,
    /// Bit `rank(v)` for the type of each non-null item.
    types: u8,
    /// `false` and `true` are in the list.
    bools: [bool; 2],
    strings: FxHashSet<String>,
    /// Integers that fit `i64`.
    ints: FxHashSet<i64>,
    /// Integers above `i64::MAX`.
    bigs: FxHashSet<u64>,
    /// Floats, by [`float_key`].
    floats: FxHashSet<u64>,
    /// Every number as a float, by [`float_key`]: what a float is compared with.
    as_floats: FxHashSet<u64>,
}

/// The hash key of a float: its bits, with `-0.0` as `0.0` (they compare equal).
fn float_key(f: f64) -> u64 {
    if f == 0.0 { 0 } else { f.to_bits() }
}

impl ValueSet {
    /// The set of `items` when there are at least [`IN_SET_MIN`] and each is a literal (or a
    /// negated one); `None` otherwise.
    pub fn of(items: &[Ex]) -> Option<ValueSet> {
        if items.len() < IN_SET_MIN {
            return None;
        }
        let mut set = ValueSet::default();
        for item in items {
            let value = match item {
                Ex::Lit(v) => Cow::Borrowed(v),
                Ex::Neg(x) => match x.as_ref() {
                    Ex::Lit(v) => Cow::Owned(negate(v)),
                    _ => return None,
                },
                _ => return None,
            };
            set.insert(&value)?;
        }
        Some(set)
    }

    /// Add `v`; `None` for an array or object (a literal is neither).
    fn insert(&mut self, v: &Value) -> Option<()> {
        match v {
            Value::Null => self.null = true,
            Value::Bool(b) => self.bools[usize::from(*b)] = true,
            Value::Number(n) => {
                let f = n.as_f64()?;
                if let Some(i) = n.as_i64() {
                    self.ints.insert(i);
                } else if let Some(u) = n.as_u64() {
                    self.bigs.insert(u);
                } else {
                    self.floats.insert(float_key(f));
                }
                self.as_floats.insert(float_key(f));
            }
            Value::String(s) => {
                self.strings.insert(s.clone());
            }
            Value::Array(_) | Value::Object(_) => return None,
        }
        if !v.is_null() {
            self.types |= 1 << rank(v);
        }
        Some(())
    }

    /// `v IN (list)` for a non-null `v`: `Some(true)` when an item equals it, `None` (unknown)
    /// otherwise if an item is `NULL` or of another type, else `Some(false)`.
    pub fn contains(&self, v: &Value) -> Option<bool> {
        let found = match v {
            Value::Bool(b) => self.bools[usize::from(*b)],
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => self.ints.contains(&i) || self.floats.contains(&float_key(i as f64)),
                (None, Some(u)) => self.bigs.contains(&u) || self.floats.contains(&float_key(u as f64)),
                (None, None) => n.as_f64().is_some_and(|f| self.as_floats.contains(&float_key(f))),
            },
            Value::String(s) => self.strings.contains(s.as_str()),
            Value::Null | Value::Array(_) | Value::Object(_) => false,
        };
        if found {
            Some(true)
        } else if self.null || self.types & !(1 << rank(v)) != 0 {
            None
        } else {
            Some(false)
        }
    }
}

/// Arithmetic negation: numbers negated (an integer exactly, `i64::MIN` included), anything else `NULL`.
pub fn negate(v: &Value) -> Value {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => i.checked_neg().map_or_else(|| Value::from(i.unsigned_abs()), Value::from),
            None => n.as_f64().map(|f| Value::from(-f)).unwrap_or(Value::Null),
        },
        _ => Value::Null,
    }
}

/// A column's value without copying it when it is a property.
pub fn column_cow<'a>(entity: &'a Entity, path: &[String]) -> Cow<'a, Value> {
    let first = path[0].as_str();
    if matches!(first, "id" | "entity_type" | "created_at" | "modified_at" | "deleted_at") {
        return Cow::Owned(column(entity, path));
    }
    let rest = if first == "properties" && path.len() > 1 { &path[1..] } else { path };
    match entity.properties.get(&rest[0]).and_then(|v| at_path(v, &rest[1..])) {
        Some(v) => Cow::Borrowed(v),
        None => Cow::Owned(Value::Null),
    }
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
        Ex::InList(a, list, negated, set) => {
            let v = operand(a, row);
            if v.is_null() {
                return Value::Null;
            }
            if let Some(set) = set {
                return set.contains(&v).map_or(Value::Null, |found| Value::Bool(found != *negated));
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
        Ex::Neg(a) => negate(&operand(a, row)),
        Ex::Arith(a, op, b) => super::scalar::arith(&operand(a, row), *op, &operand(b, row)),
        Ex::Concat(a, b) => super::scalar::concat(&operand(a, row), &operand(b, row)),
        Ex::Call(f, args) => super::scalar::call(*f, &args.iter().map(|a| eval(a, row)).collect::<Vec<_>>()),
        Ex::Cast(a, to) => super::scalar::cast(&operand(a, row), *to),
        Ex::Shift(a, iv) => super::scalar::shift(&operand(a, row), *iv),
        Ex::Case(operand_ex, whens, otherwise) => {
            let subject = operand_ex.as_ref().map(|o| eval(o, row));
            for (when, then) in whens {
                let hit = match &subject {
                    Some(s) => truthy(&cmp_values(s, CmpOp::Eq, &eval(when, row))),
                    None => truthy(&eval(when, row)),
                };
                if hit {
                    return eval(then, row);
                }
            }
            otherwise.as_ref().map_or(Value::Null, |e| eval(e, row))
        }
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
            let general = LikePattern { shape: Shape::General(Box::new(Automaton::new(&fast.toks))), ..fast.clone() };
            assert_eq!(fast.matches(&text), general.matches(&text), "{text:?} LIKE {pattern:?}");
        }
        assert!(matches!(LikePattern::new("%gold widget%", None).shape, Shape::Contains(_)));
        assert!(matches!(LikePattern::new("ab%", None).shape, Shape::Prefix(_)));
        assert!(matches!(LikePattern::new("%%ab", None).shape, Shape::Suffix(_)));
        assert!(matches!(LikePattern::new("ab", None).shape, Shape::Exact(_)));
        assert!(matches!(LikePattern::new("a%b", None).shape, Shape::General(_)));
        assert!(matches!(LikePattern::new("%a_", None).shape, Shape::General(_)));
    }

    /// `LIKE` by its definition: every way of splitting the text, as a table over (pattern
    /// position, text position).
    fn like_reference(text: &[char], toks: &[Tok]) -> bool {
        let mut ok = vec![vec![false; text.len() + 1]; toks.len() + 1];
        ok[toks.len()][text.len()] = true;
        for p in (0..toks.len()).rev() {
            for t in (0..=text.len()).rev() {
                ok[p][t] = match toks[p] {
                    Tok::Any => ok[p + 1][t] || (t < text.len() && ok[p][t + 1]),
                    Tok::One => t < text.len() && ok[p + 1][t + 1],
                    Tok::Lit(c) => t < text.len() && text[t] == c && ok[p + 1][t + 1],
                };
            }
        }
        ok[0][0]
    }

    #[test]
    fn like_agrees_with_its_definition() {
        let mut r = fastrand::Rng::with_seed(11);
        let parts = ["a", "b", "é", "%", "_", "\\%", "\\_", "%%"];
        let (mut yes, mut no) = (0, 0);
        for round in 0..30_000 {
            // Long patterns now and then, to cross a machine word of states.
            let len = if round % 10 == 0 { r.usize(30..90) } else { r.usize(0..8) };
            let pattern: String = (0..len).map(|_| parts[r.usize(..parts.len())]).collect();
            let text: String = (0..r.usize(0..(len + 6))).map(|_| ["a", "b", "é", "%", "_"][r.usize(..5)]).collect();
            let like = LikePattern::new(&pattern, Some('\\'));
            let want = like_reference(&text.chars().collect::<Vec<_>>(), &like.toks);
            assert_eq!(like.matches(&text), want, "{text:?} LIKE {pattern:?}");
            // The same automaton without precomputed masks (as for a huge pattern).
            let mut bare = Automaton::new(&like.toks);
            bare.masks.clear();
            assert_eq!(bare.matches(&text), want, "{text:?} LIKE {pattern:?} (masks built per character)");
            if want { yes += 1 } else { no += 1 }
        }
        assert!(yes > 3000 && no > 3000, "both answers drawn: {yes} {no}");
    }

    /// Patterns that make a backtracking matcher retry each `%` at every position: one pass here.
    #[test]
    fn like_with_thousands_of_wildcards_is_one_pass() {
        let text = format!("{}b", "a".repeat(10_000));
        assert!(!like(&text, &"%a".repeat(5_000), None), "the text ends in b");
        assert!(like(&text, &format!("{}%b", "%a".repeat(5_000)), None));
        assert!(!like(&"ab".repeat(5_000), &format!("{}%c", "%a%b".repeat(2_500)), None));
        assert!(like(&"a".repeat(10_000), &format!("%{}_", "a".repeat(4_000)), None));
        assert!(!like(&"a".repeat(10_000), &format!("%{}_b%", "a".repeat(4_000)), None));
        // Many distinct characters: masks are built per character rather than kept.
        let wide: String = (0..3_000u32).filter_map(|i| char::from_u32(0x4e00 + i)).collect();
        let pattern: String = wide.chars().flat_map(|c| ['%', c]).collect();
        assert!(like(&wide, &pattern, None));
        assert!(!like(&wide[..wide.len() - 3], &pattern, None));
    }

    /// A random value as rows and literals hold them: numbers in several representations.
    fn value(r: &mut fastrand::Rng) -> Value {
        match r.u8(0..12) {
            0 => Value::Null,
            1 => Value::Bool(r.bool()),
            2 => json!(r.i64(-3..4)),
            3 => json!(r.i64(-3..4) as f64),
            4 => json!([-0.0, 0.5, 2.5, 1e300][r.usize(0..4)]),
            5 => json!([u64::MAX, u64::MAX - 1, 1 << 63][r.usize(0..3)]),
            6 => json!([i64::MIN, i64::MAX, 9_007_199_254_740_993][r.usize(0..3)]),
            7 => json!(
                [18_446_744_073_709_551_616.0_f64, 9_223_372_036_854_775_808.0, 9_007_199_254_740_992.0][r.usize(0..3)]
            ),
            8 | 9 => json!(["a", "b", "", "1", "é"][r.usize(0..5)]),
            10 => json!([1]),
            _ => json!({"a": 1}),
        }
    }

    #[test]
    fn a_hashed_in_list_answers_as_the_item_by_item_test() {
        let mut r = fastrand::Rng::with_seed(7);
        let entity = Entity {
            id: String::new(),
            entity_type: "t".into(),
            created_at: String::new(),
            modified_at: String::new(),
            deleted_at: None,
            edges: Vec::new(),
            properties: Default::default(),
        };
        let row = Row { entity: &entity, aggs: &[] };
        let (mut hashed, mut answers) = (0, std::collections::HashSet::new());
        for _ in 0..50_000 {
            let items: Vec<Ex> = (0..r.usize(IN_SET_MIN..IN_SET_MIN + 6))
                .map(|_| match value(&mut r) {
                    v @ (Value::Array(_) | Value::Object(_)) => Ex::Lit(v.to_string().into()),
                    Value::Number(n) if r.u8(0..4) == 0 => Ex::Neg(Box::new(Ex::Lit(Value::Number(n)))),
                    v => Ex::Lit(v),
                })
                .collect();
            let target = Box::new(Ex::Lit(value(&mut r)));
            let negated = r.bool();
            let set = ValueSet::of(&items).map(Box::new);
            hashed += usize::from(set.is_some());
            let fast = eval(&Ex::InList(target.clone(), items.clone(), negated, set), &row);
            let slow = eval(&Ex::InList(target.clone(), items.clone(), negated, None), &row);
            assert_eq!(fast, slow, "{target:?} IN {items:?} (negated: {negated})");
            answers.insert(fast.to_string());
        }
        assert_eq!(hashed, 50_000, "every list of literals is hashed");
        assert_eq!(answers.len(), 3, "true, false and null all drawn: {answers:?}");
        let column = Ex::Col(vec!["a".into()]);
        assert!(ValueSet::of(&vec![column; IN_SET_MIN]).is_none(), "only literals are hashed");
        assert!(ValueSet::of(&vec![Ex::Lit(json!(1)); IN_SET_MIN - 1]).is_none(), "short lists are not");
    }

    #[test]
    fn negation_is_exact_for_every_integer() {
        assert_eq!(negate(&json!(i64::MIN)), json!(9_223_372_036_854_775_808u64));
        assert_eq!(negate(&json!(5)), json!(-5));
        assert_eq!(negate(&json!(2.5)), json!(-2.5));
        assert_eq!(negate(&json!("5")), Value::Null);
    }

    #[test]
    fn numbers_compare_numerically_across_representations() {
        assert_eq!(compare(&json!(30), &json!(30.0)), Some(Ordering::Equal));
        assert_eq!(compare(&json!(2), &json!(10)), Some(Ordering::Less));
        assert_eq!(compare(&json!("2"), &json!(10)), None);
        assert_eq!(cmp_values(&json!("a"), CmpOp::Ne, &json!(1)), Value::Null);
    }
}
