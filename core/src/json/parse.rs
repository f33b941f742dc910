//! Parsing JSON text into a `serde_json::Value` with every object and array allocated at
//! its final size, noting on the way whether the text is already compact.
//!
//! serde_json's own `Value` deserializer grows each map and vector as entries arrive: an
//! object's `IndexMap` (the `preserve_order` feature) reallocates its entries and rehashes
//! its index as it passes 3, 7 and 14 entries, and an array doubles its buffer. A batch
//! insert parses every row, and that growth was about 6% of the engine's time in it (a
//! profile of the catalog insert, `docs/benchmarks.md`). Here the members of the objects and
//! arrays being parsed wait on two stacks shared by the whole document, and move into a
//! container of exactly their number when their object or array closes.
//!
//! The result equals `serde_json::from_str::<Value>`'s, key order and duplicate keys
//! included (the last value wins, at the first key's position, as `Map::insert` does), and
//! so do the errors: the same parser reads the text.
//!
//! **Compact text.** [`parse_noting_compact`] also says whether the text is byte for byte
//! what [`crate::json::write::value`] (and so `serde_json::to_vec`) writes for the value, so a
//! caller can store the text it was given instead of writing it again. The parse adds up
//! the length of that compact form token by token and compares it with the text's length.
//! Equal lengths mean equal texts because every token's compact spelling is its shortest:
//! whitespace only adds bytes; a string's compact form writes each character raw unless it
//! must be escaped, and then with the shortest escape, so any other spelling (`\/`,
//! `\u00e9`, a surrogate pair) is longer; an integer is read back in its only spelling (`-0`
//! is read as a float); a duplicate key's earlier member is dropped. Two cases break that
//! rule and are refused outright (the text is then reported as not compact): a float,
//! whose compact spelling (ryu's) may be longer than the text's (`1e2` is written
//! `100.0`), and a control character written `\u00XX`, which the text may spell with
//! upper-case hex digits at the same length.
//!
//! **Integers beyond 64 bits.** serde_json (without its `arbitrary_precision` feature) reads an
//! integer that fits neither `i64` nor `u64` as the nearest float, silently dropping digits. Such
//! a literal is refused instead ([`ReadError::BigInteger`], naming where it is). The parser reports
//! it only as a float, so a float of that size marks the text, and the text is then scanned for
//! an integer literal (no `.`, no exponent) out of range; `1e30` and `1.0e19` stay floats.

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::PathSegment;

/// Why a JSON text was refused.
#[derive(Debug)]
pub enum ReadError {
    /// Not JSON: serde_json's error, with line and column.
    Syntax(serde_json::Error),
    /// An integer literal (no fraction, no exponent) that fits neither `i64` nor `u64`, at `loc`
    /// (empty for the root value).
    BigInteger {
        /// Where the integer is.
        loc: Vec<PathSegment>,
        /// The literal as written.
        literal: String,
    },
}

impl ReadError {
    /// What is wrong and what to do, for a message about the value at `loc` (the location is not
    /// repeated).
    pub fn big_integer_message(literal: &str) -> String {
        format!(
            "integer {} does not fit in 64 bits (the limit) and would lose digits as a float: store it as a \
             string (or write it with a fraction or an exponent if a float is meant)",
            crate::error::preview(literal)
        )
    }
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Syntax(e) => e.fmt(f),
            ReadError::BigInteger { loc, literal } => {
                let at: Vec<String> = loc.iter().map(|s| s.to_string()).collect();
                let at = if at.is_empty() { "<root>".to_string() } else { at.join(".") };
                write!(f, "at {at}: {}", ReadError::big_integer_message(literal))
            }
        }
    }
}

impl From<serde_json::Error> for ReadError {
    fn from(e: serde_json::Error) -> Self {
        ReadError::Syntax(e)
    }
}

/// Parse `text` as one JSON value. Errors: serde_json's, with line and column, or an integer
/// beyond 64 bits (see the module docs).
pub fn parse(text: &str) -> Result<Value, ReadError> {
    parse_noting_compact(text).map(|(value, _)| value)
}

/// Parse `text` as one JSON value, and say whether `text` is exactly the compact JSON of
/// that value (see the module docs). Errors: as [`parse`].
pub fn parse_noting_compact(text: &str) -> Result<(Value, bool), ReadError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut stacks = Stacks { compact: Some(0), ..Stacks::default() };
    let value = Seed(&mut stacks).deserialize(&mut de)?;
    de.end()?;
    if stacks.huge_float
        && let Some((loc, literal)) = big_integer(text)
    {
        return Err(ReadError::BigInteger { loc, literal });
    }
    Ok((value, stacks.compact == Some(text.len())))
}

/// The first integer literal in the JSON text `text` (already known to parse) that fits neither
/// `i64` nor `u64`, with its location. One pass over the bytes, keeping the open containers.
fn big_integer(text: &str) -> Option<(Vec<PathSegment>, String)> {
    /// An open container: an object with its current key (and whether a key comes next), or an
    /// array with its current index.
    enum Open {
        Object(Option<String>, bool),
        Array(u32),
    }
    let b = text.as_bytes();
    let mut open: Vec<Open> = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'{' => open.push(Open::Object(None, true)),
            b'[' => open.push(Open::Array(0)),
            b'}' | b']' => {
                open.pop();
            }
            b',' => match open.last_mut() {
                Some(Open::Array(n)) => *n += 1,
                Some(Open::Object(_, key_next)) => *key_next = true,
                None => {}
            },
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                if let Some(Open::Object(key, key_next @ true)) = open.last_mut() {
                    *key = serde_json::from_str(&text[start..=i.min(b.len() - 1)]).ok();
                    *key_next = false;
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i + 1 < b.len() && matches!(b[i + 1], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') {
                    i += 1;
                }
                let literal = &text[start..=i];
                let integer = !literal.contains(['.', 'e', 'E']);
                if integer && literal.parse::<i64>().is_err() && literal.parse::<u64>().is_err() {
                    let loc = open
                        .iter()
                        .map(|o| match o {
                            Open::Object(key, _) => PathSegment::Field(key.clone().unwrap_or_default()),
                            Open::Array(n) => PathSegment::Index(*n),
                        })
                        .collect();
                    return Some((loc, literal.to_string()));
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Members of the objects and arrays still open, innermost last, and the length of the
/// compact text of the tokens read so far (`None` once a token has no checkable one).
#[derive(Default)]
struct Stacks {
    entries: Vec<(String, Value)>,
    items: Vec<Value>,
    compact: Option<usize>,
    /// A float of at least 2^63 in magnitude was read: perhaps an integer beyond 64 bits.
    huge_float: bool,
}

impl Stacks {
    fn add(&mut self, n: usize) {
        self.compact = self.compact.map(|c| c + n);
    }

    /// Count a string read from `s` as written: borrowed strings had no escape in the text,
    /// so they hold no character that needs one either.
    fn add_str(&mut self, s: &str, borrowed: bool) {
        if borrowed {
            return self.add(s.len() + 2);
        }
        match crate::json::write::escaped_len(s) {
            Some(n) => self.add(n),
            None => self.compact = None,
        }
    }
}

/// Decimal digits of `n`.
fn digits(n: u64) -> usize {
    n.checked_ilog10().map_or(1, |d| d as usize + 1)
}

/// Builds one value, using the shared stacks for its members.
struct Seed<'s>(&'s mut Stacks);

impl<'de> DeserializeSeed<'de> for Seed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Seed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        self.0.add(4);
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        self.0.add(4);
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        self.0.add(if v { 4 } else { 5 });
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        self.0.add(usize::from(v < 0) + digits(v.unsigned_abs()));
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        self.0.add(digits(v));
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        self.0.compact = None;
        // Where serde_json puts an integer that fits neither i64 nor u64 (or a large float).
        self.0.huge_float |= v.abs() >= 9_223_372_036_854_775_808.0;
        // As serde_json: a non-finite float (which JSON text cannot spell) becomes null.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    // Strings count as keys do.
    fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Value, E> {
        Key(self.0).visit_borrowed_str(v).map(Value::String)
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Value, E> {
        Key(self.0).visit_str(v).map(Value::String)
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Value, E> {
        Key(self.0).visit_string(v).map(Value::String)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let start = self.0.items.len();
        while let Some(item) = seq.next_element_seed(Seed(&mut *self.0))? {
            self.0.items.push(item);
        }
        let n = self.0.items.len() - start;
        // Brackets and the commas between items.
        self.0.add(2 + n.saturating_sub(1));
        Ok(Value::Array(self.0.items.drain(start..).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let start = self.0.entries.len();
        while let Some(key) = map.next_key_seed(Key(&mut *self.0))? {
            let value = map.next_value_seed(Seed(&mut *self.0))?;
            self.0.entries.push((key, value));
        }
        let n = self.0.entries.len() - start;
        // Braces, the commas between members and each member's colon.
        self.0.add(2 + n.saturating_sub(1) + n);
        let mut object = Map::with_capacity(n);
        for (k, v) in self.0.entries.drain(start..) {
            object.insert(k, v);
        }
        if object.len() < n {
            // A duplicate key: the counted length includes the dropped member.
            self.0.compact = None;
        }
        Ok(Value::Object(object))
    }
}

/// Reads an object's key (or, for [`Seed`], a string value), counting its compact length.
struct Key<'s>(&'s mut Stacks);

impl<'de> DeserializeSeed<'de> for Key<'_> {
    type Value = String;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Key<'_> {
    type Value = String;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<String, E> {
        self.0.add_str(v, true);
        Ok(v.to_owned())
    }

    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        self.0.add_str(v, false);
        Ok(v.to_owned())
    }

    fn visit_string<E>(self, v: String) -> Result<String, E> {
        self.0.add_str(&v, false);
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Random JSON text: nested objects (with duplicate keys) and arrays, every kind of
    /// number, strings with escapes and non-ASCII text, and whitespace between tokens.
    fn text(r: &mut fastrand::Rng, depth: u32, out: &mut String) {
        let ws = |r: &mut fastrand::Rng, out: &mut String| {
            if r.u64(0..4) == 0 {
                out.push_str([" ", "\n", "\t ", "\r\n  "][r.usize(0..4)]);
            }
        };
        ws(r, out);
        match r.u64(0..if depth > 4 { 6 } else { 8 }) {
            0 => out.push_str("null"),
            1 => out.push_str(["true", "false"][r.usize(0..2)]),
            2 => out.push_str(&format!("{}", r.i64(..) >> r.u32(0..60))),
            3 => out.push_str(
                ["0.5", "-1.25e3", "1E-7", "18446744073709551615", "-9223372036854775808", "3.0"][r.usize(0..6)],
            ),
            4 | 5 => out.push_str(
                ["\"\"", "\"a\"", "\"é\\n\\\"q\\\"\"", "\"\\u00e9\\u0001\\/\"", "\"k1\"", "\"x y\""][r.usize(0..6)],
            ),
            6 => {
                out.push('[');
                for i in 0..r.u64(0..9) {
                    if i > 0 {
                        out.push(',');
                    }
                    text(r, depth + 1, out);
                }
                ws(r, out);
                out.push(']');
            }
            _ => {
                out.push('{');
                for i in 0..r.u64(0..20) {
                    if i > 0 {
                        out.push(',');
                    }
                    ws(r, out);
                    // Few distinct keys, so duplicates are common.
                    out.push_str(&format!("\"k{}\"", r.u64(0..12)));
                    ws(r, out);
                    out.push(':');
                    text(r, depth + 1, out);
                }
                ws(r, out);
                out.push('}');
            }
        }
        ws(r, out);
    }

    #[test]
    fn values_equal_serde_jsons_with_key_order_and_duplicates() {
        let mut r = fastrand::Rng::with_seed(0x2545_f491_4f6c_dd1d);
        let mut objects = 0;
        for _ in 0..4000 {
            let mut t = String::new();
            text(&mut r, 0, &mut t);
            let ours = parse(&t).unwrap();
            let theirs: Value = serde_json::from_str(&t).unwrap();
            assert_eq!(ours, theirs, "{t}");
            // `==` on maps ignores order; the texts do not.
            assert_eq!(ours.to_string(), theirs.to_string(), "{t}");
            objects += t.matches('{').count();
        }
        assert!(objects > 1000, "the generator made objects");
    }

    /// Whether `v` holds a float or a string with a control character written `\u00XX`:
    /// the cases `parse_noting_compact` refuses even when the text is compact.
    fn refused(v: &Value) -> bool {
        match v {
            Value::Number(n) => n.is_f64(),
            Value::String(s) => crate::json::write::escaped_len(s).is_none(),
            Value::Array(items) => items.iter().any(refused),
            Value::Object(m) => m.iter().any(|(k, v)| crate::json::write::escaped_len(k).is_none() || refused(v)),
            _ => false,
        }
    }

    /// Says compact exactly when the text is `serde_json::to_string` of the value, apart from
    /// the refused cases, over random texts and over the compact texts of their values.
    #[test]
    fn compact_exactly_when_the_text_is_serde_jsons() {
        let check = |t: &str| {
            let (v, compact) = parse_noting_compact(t).unwrap();
            let written = serde_json::to_string(&v).unwrap();
            assert_eq!(compact, written == t && !refused(&v), "{t}");
            (compact, written)
        };
        let mut r = fastrand::Rng::with_seed(0x9e37_79b9_7f4a_7c15);
        let (mut yes, mut no) = (0, 0);
        for _ in 0..4000 {
            let mut t = String::new();
            text(&mut r, 0, &mut t);
            let (compact, written) = check(&t);
            let (again, _) = check(&written);
            for c in [compact, again] {
                if c { yes += 1 } else { no += 1 }
            }
        }
        assert!(yes > 1000 && no > 1000, "both answers drawn: {yes} {no}");
        // Spellings whose length could pass for compact, and compact texts that are refused.
        for (t, expected) in [
            ("{\"a\":[1,-2,true,null,\"x\"]}", true),
            ("\"\\\"\\\\\\n\\b\\f\\r\\t\"", true),
            ("\"é😀\"", true),
            ("-0", false),
            ("1e2", false),
            ("100.0", false),
            ("\"\\u001f\"", false),
            ("\"\\u001F\"", false),
            ("\"\\/\"", false),
            ("\"\\u00e9\"", false),
            ("{\"a\":1,\"a\":1}", false),
            ("{\"a\":1 }", false),
            ("[]", true),
            ("{}", true),
        ] {
            assert_eq!(parse_noting_compact(t).unwrap().1, expected, "{t}");
        }
    }

    #[test]
    fn integers_beyond_64_bits_are_refused_with_their_location() {
        let refused = |t: &str| match parse(t) {
            Err(ReadError::BigInteger { loc, literal }) => {
                (loc.iter().map(|s| s.to_string()).collect::<Vec<_>>().join("."), literal)
            }
            other => panic!("{t}: {other:?}"),
        };
        let big = "123456789012345678901234567890";
        assert_eq!(refused(&format!("{{\"n\": {big}}}")), ("n".into(), big.into()));
        assert_eq!(refused(big), ("".into(), big.into()));
        assert_eq!(refused("[1, 2, -9223372036854775809]"), ("2".into(), "-9223372036854775809".into()));
        assert_eq!(
            refused("{\"a\": [0, {\"k\\\"\": 18446744073709551616}], \"z\": 1}"),
            ("a.1.k\"".into(), "18446744073709551616".into())
        );
        assert_eq!(
            refused("{\"s\": \"1e99 , [\", \"x\": {\"y\": 1.5e300, \"z\": 99999999999999999999}}"),
            ("x.z".into(), "99999999999999999999".into())
        );
        let message = parse(&format!("{{\"n\": {big}}}")).unwrap_err().to_string();
        assert!(message.contains("at n: integer 1234") && message.contains("store it as a string"), "{message}");
        // Within 64 bits, and floats however large, are read as before.
        for t in
            ["18446744073709551615", "-9223372036854775808", "1e30", "1.0e19", "-1.5E300", "12345678901234567890.0"]
        {
            assert_eq!(parse(t).unwrap(), serde_json::from_str::<Value>(t).unwrap(), "{t}");
        }
        assert_eq!(parse("18446744073709551615").unwrap().as_u64(), Some(u64::MAX));
    }

    #[test]
    fn errors_equal_serde_jsons() {
        for t in ["", "{", "[1,]", "{\"a\" 1}", "{\"a\":1} x", "\"\\q\"", "1e999", "[1, 2"] {
            let ours = parse(t).unwrap_err().to_string();
            let theirs = serde_json::from_str::<Value>(t).unwrap_err().to_string();
            assert_eq!(ours, theirs, "{t:?}");
        }
    }
}
