//! Python values to JSON text, in Rust: the Python layer hands dicts and lists
//! straight to the native methods, so a row costs no `json.dumps` round trip.
//!
//! `dict` (string keys), `list`, `tuple`, `str`, `int` (64-bit), `float`
//! (finite), `bool` and `None` are written directly; anything else goes through
//! `rem_db._convert._default` (Pydantic models, dates, enums, UUIDs, NumPy...),
//! whose result is written in turn. Errors: `TypeError` (unsupported type,
//! non-string key), `ValueError` (NaN/infinity, integer out of range, nesting
//! deeper than [`MAX_DEPTH`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::fmt::Write;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};

/// Deepest nesting written (as serde_json's default recursion limit).
pub const MAX_DEPTH: u32 = 128;

static DEFAULT: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn fallback<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    let py = obj.py();
    let f = DEFAULT.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        Ok(py.import("rem_db._convert")?.getattr("_default")?.unbind())
    })?;
    f.bind(py).call1((obj,))
}

fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Append the JSON text of `obj` to `out`.
pub fn write(obj: &Bound<'_, PyAny>, out: &mut String, depth: u32) -> PyResult<()> {
    if depth > MAX_DEPTH {
        return Err(PyValueError::new_err(format!("value nests deeper than {MAX_DEPTH} levels")));
    }
    if obj.is_none() {
        out.push_str("null");
    } else if let Ok(s) = obj.cast::<PyString>() {
        string(&s.to_cow()?, out);
    } else if let Ok(b) = obj.cast::<PyBool>() {
        out.push_str(if b.is_true() { "true" } else { "false" });
    } else if let Ok(i) = obj.cast::<PyInt>() {
        match i.extract::<i64>() {
            Ok(v) => {
                let _ = write!(out, "{v}");
            }
            Err(_) => match i.extract::<u64>() {
                Ok(v) => {
                    let _ = write!(out, "{v}");
                }
                Err(_) => return Err(PyValueError::new_err(format!("integer {i} does not fit in 64 bits"))),
            },
        }
    } else if let Ok(f) = obj.cast::<PyFloat>() {
        let v = f.value();
        if !v.is_finite() {
            return Err(PyValueError::new_err(format!("{v} is not a JSON number (NaN and infinity are not allowed)")));
        }
        out.push_str(&serde_json::Number::from_f64(v).map(|n| n.to_string()).unwrap_or_else(|| "null".into()));
    } else if let Ok(d) = obj.cast::<PyDict>() {
        out.push('{');
        for (n, (k, v)) in d.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            let key = k
                .cast::<PyString>()
                .map_err(|_| PyTypeError::new_err(format!("object keys must be strings, got {}", type_name(&k))))?;
            string(&key.to_cow()?, out);
            out.push(':');
            write(&v, out, depth + 1)?;
        }
        out.push('}');
    } else if let Ok(l) = obj.cast::<PyList>() {
        array(l.iter(), out, depth)?;
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        array(t.iter(), out, depth)?;
    } else {
        let converted = fallback(obj)?;
        write(&converted, out, depth + 1)?;
    }
    Ok(())
}

/// Write `items` as a JSON array.
fn array<'py>(items: impl Iterator<Item = Bound<'py, PyAny>>, out: &mut String, depth: u32) -> PyResult<()> {
    out.push('[');
    for (n, v) in items.enumerate() {
        if n > 0 {
            out.push(',');
        }
        write(&v, out, depth + 1)?;
    }
    out.push(']');
    Ok(())
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// The JSON text of `obj`.
pub fn dumps(obj: &Bound<'_, PyAny>) -> PyResult<String> {
    let mut out = String::with_capacity(128);
    write(obj, &mut out, 0)?;
    Ok(out)
}

/// The JSON text of each item of the iterable `items`.
pub fn dumps_each(items: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let mut out = Vec::with_capacity(items.len().unwrap_or(0));
    for item in items.try_iter()? {
        out.push(dumps(&item?)?);
    }
    Ok(out)
}

/// Parse JSON text straight into Python objects (one pass, no intermediate tree):
/// objects → `dict` (in document order), arrays → `list`, integers → `int`, other
/// numbers → `float`, strings, booleans, `null` → `None`. Errors: `ValueError` (malformed).
pub fn loads<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    let ctx = Ctx { py, keys: RefCell::new(HashMap::new()) };
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde::de::DeserializeSeed::deserialize(Seed(&ctx), &mut de)
        .and_then(|v| de.end().map(|_| v))
        .map_err(|e| PyValueError::new_err(format!("the engine returned malformed JSON: {e}")))?;
    Ok(value)
}

/// Most distinct object keys one `loads` call remembers (results repeat the same few keys per row).
const KEY_MEMO: usize = 1024;

/// One `loads` call: the interpreter and the object keys made so far, so each distinct key
/// is one Python string (as `json.loads` memoizes keys).
struct Ctx<'py> {
    py: Python<'py>,
    keys: RefCell<HashMap<String, Bound<'py, PyString>>>,
}

#[derive(Clone, Copy)]
struct Seed<'c, 'py>(&'c Ctx<'py>);

impl<'de, 'py> serde::de::DeserializeSeed<'de> for Seed<'_, 'py> {
    type Value = Bound<'py, PyAny>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Builder(self.0))
    }
}

/// An object key, through the memo.
struct KeySeed<'c, 'py>(&'c Ctx<'py>);

impl<'de, 'py> serde::de::DeserializeSeed<'de> for KeySeed<'_, 'py> {
    type Value = Bound<'py, PyString>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de, 'py> serde::de::Visitor<'de> for KeySeed<'_, 'py> {
    type Value = Bound<'py, PyString>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an object key")
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        let mut keys = self.0.keys.borrow_mut();
        if let Some(k) = keys.get(v) {
            return Ok(k.clone());
        }
        let k = PyString::new(self.0.py, v);
        if keys.len() < KEY_MEMO {
            keys.insert(v.to_string(), k.clone());
        }
        Ok(k)
    }
}

struct Builder<'c, 'py>(&'c Ctx<'py>);

fn custom<E: serde::de::Error>(e: PyErr) -> E {
    E::custom(e.to_string())
}

impl<'de, 'py> serde::de::Visitor<'de> for Builder<'_, 'py> {
    type Value = Bound<'py, PyAny>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(self.0.py.None().into_bound(self.0.py))
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(self.0.py.None().into_bound(self.0.py))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(PyBool::new(self.0.py, v).to_owned().into_any())
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.0.py, v).into_any())
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(PyInt::new(self.0.py, v).into_any())
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(PyFloat::new(self.0.py, v).into_any())
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(PyString::new(self.0.py, v).into_any())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let list = PyList::empty(self.0.py);
        while let Some(item) = seq.next_element_seed(Seed(self.0))? {
            list.append(item).map_err(custom)?;
        }
        Ok(list.into_any())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let dict = PyDict::new(self.0.py);
        while let Some(key) = map.next_key_seed(KeySeed(self.0))? {
            let value = map.next_value_seed(Seed(self.0))?;
            dict.set_item(key, value).map_err(custom)?;
        }
        Ok(dict.into_any())
    }
}
