//! Parsing JSON text into a `serde_json::Value` with every object and array allocated at
//! its final size.
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

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

/// Parse `text` as one JSON value. Errors: serde_json's, with line and column.
pub fn parse(text: &str) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_str(text);
    let mut stacks = Stacks::default();
    let value = Seed(&mut stacks).deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// Members of the objects and arrays still open, innermost last.
#[derive(Default)]
struct Stacks {
    entries: Vec<(String, Value)>,
    items: Vec<Value>,
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
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        // As serde_json: a non-finite float (which JSON text cannot spell) becomes null.
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let start = self.0.items.len();
        while let Some(item) = seq.next_element_seed(Seed(&mut *self.0))? {
            self.0.items.push(item);
        }
        Ok(Value::Array(self.0.items.drain(start..).collect()))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let start = self.0.entries.len();
        while let Some(key) = map.next_key::<String>()? {
            let value = map.next_value_seed(Seed(&mut *self.0))?;
            self.0.entries.push((key, value));
        }
        let mut object = Map::with_capacity(self.0.entries.len() - start);
        for (k, v) in self.0.entries.drain(start..) {
            object.insert(k, v);
        }
        Ok(Value::Object(object))
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

    #[test]
    fn errors_equal_serde_jsons() {
        for t in ["", "{", "[1,]", "{\"a\" 1}", "{\"a\":1} x", "\"\\q\"", "1e999", "[1, 2"] {
            let ours = parse(t).unwrap_err().to_string();
            let theirs = serde_json::from_str::<Value>(t).unwrap_err().to_string();
            assert_eq!(ours, theirs, "{t:?}");
        }
    }
}
