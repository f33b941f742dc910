//! Scalar expressions: arithmetic, text functions, casts and timestamps, over JSON values.
//!
//! The rules follow PostgreSQL where SQL dialects differ, and say so:
//! - `NULL` in, `NULL` out (except `COALESCE`, `CONCAT` and `CASE`).
//! - An operand of the wrong JSON type (text in arithmetic, a number in `LENGTH`) gives `NULL`,
//!   as a comparison across types does in REM; REM's rows carry no declared SQL types to
//!   refuse such a query up front.
//! - Integer arithmetic is exact on 64 bits, and overflow is an error (PostgreSQL: "bigint
//!   out of range"; SQLite turns the result into a float). `/` between integers truncates
//!   toward zero and `%` takes the dividend's sign (both as in PostgreSQL and SQLite).
//! - Division or remainder by zero is an error (PostgreSQL: "division by zero"; SQLite
//!   returns `NULL`). Write `x / NULLIF(y, 0)` for SQLite's answer.
//!
//! Errors raised while rows are evaluated are kept in a per-thread slot ([`fail`]) and turned
//! into the query's error by the executor ([`take_fault`]), so that evaluation keeps returning
//! plain values.

use std::cell::RefCell;

use serde_json::{Number, Value};

use super::eval::compare;
use super::ir::{ArithOp, CastTo, Func, Interval};
use crate::error::{Error, Result, preview};

thread_local! {
    static FAULT: RefCell<Option<Error>> = const { RefCell::new(None) };
}

/// Record `error` as the running query's failure (the first one wins) and return `NULL`.
pub fn fail(error: Error) -> Value {
    FAULT.with(|f| {
        let mut slot = f.borrow_mut();
        if slot.is_none() {
            *slot = Some(error);
        }
    });
    Value::Null
}

/// The failure recorded since the last call, if any (and clear it).
pub fn take_fault() -> Option<Error> {
    FAULT.with(|f| f.borrow_mut().take())
}

/// A number as arithmetic sees it.
#[derive(Clone, Copy)]
enum Num {
    Int(i64),
    Float(f64),
}

fn num(v: &Value) -> Option<Num> {
    let Value::Number(n) = v else { return None };
    Some(match n.as_i64() {
        Some(i) => Num::Int(i),
        None => Num::Float(n.as_f64()?),
    })
}

impl Num {
    fn float(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

fn out_of_range(what: &str) -> Value {
    fail(Error::query(format!("{what} is out of range (integers are 64-bit; floats must be finite)")))
}

/// A float as a JSON number; non-finite results are an error.
fn float(f: f64, what: &str) -> Value {
    Number::from_f64(f).map(Value::Number).unwrap_or_else(|| out_of_range(what))
}

fn symbol(op: ArithOp) -> &'static str {
    match op {
        ArithOp::Add => "+",
        ArithOp::Sub => "-",
        ArithOp::Mul => "*",
        ArithOp::Div => "/",
        ArithOp::Mod => "%",
    }
}

/// `a op b` (see the module's rules).
pub fn arith(a: &Value, op: ArithOp, b: &Value) -> Value {
    let (Some(x), Some(y)) = (num(a), num(b)) else { return Value::Null };
    let what = || format!("the result of {a} {} {b}", symbol(op));
    if matches!(op, ArithOp::Div | ArithOp::Mod) && y.float() == 0.0 {
        return fail(Error::query(format!("division by zero in {a} {} {b}", symbol(op))));
    }
    match (x, y) {
        (Num::Int(i), Num::Int(j)) => {
            let r = match op {
                ArithOp::Add => i.checked_add(j),
                ArithOp::Sub => i.checked_sub(j),
                ArithOp::Mul => i.checked_mul(j),
                ArithOp::Div => i.checked_div(j),
                ArithOp::Mod => i.checked_rem(j),
            };
            r.map(Value::from).unwrap_or_else(|| out_of_range(&what()))
        }
        _ => {
            let (i, j) = (x.float(), y.float());
            let r = match op {
                ArithOp::Add => i + j,
                ArithOp::Sub => i - j,
                ArithOp::Mul => i * j,
                ArithOp::Div => i / j,
                ArithOp::Mod => i % j,
            };
            float(r, &what())
        }
    }
}

/// A scalar's text, as `||`, `CONCAT` and `CAST(.. AS TEXT)` write it: strings as they are,
/// numbers and booleans as JSON writes them (`-0.0` as `0.0`), arrays and objects as JSON text;
/// `None` for `NULL`.
pub fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        // Negative zero reads as zero (as SQLite writes it).
        Value::Number(n) if n.as_f64() == Some(0.0) && n.is_f64() => Some("0.0".into()),
        other => Some(other.to_string()),
    }
}

/// `a || b`.
pub fn concat(a: &Value, b: &Value) -> Value {
    match (text_of(a), text_of(b)) {
        (Some(x), Some(y)) => Value::String(x + &y),
        _ => Value::Null,
    }
}

/// Round half away from zero to `digits` decimal places (negative: tens, hundreds, ...).
fn round_float(f: f64, digits: i64) -> f64 {
    let digits = digits.clamp(-308, 308) as i32;
    let scale = 10f64.powi(digits.abs());
    if digits >= 0 { (f * scale).round() / scale } else { (f / scale).round() * scale }
}

fn round(args: &[Value]) -> Value {
    let digits = match args.get(1) {
        None => 0,
        Some(Value::Null) => return Value::Null,
        Some(d) => match d.as_i64() {
            Some(d) => d,
            None => return fail(Error::query(format!("ROUND's second argument must be an integer, got {d}"))),
        },
    };
    match num(&args[0]) {
        None => Value::Null,
        Some(Num::Int(i)) if digits >= 0 => Value::from(i),
        Some(Num::Int(i)) => {
            // Exact integer rounding to tens, hundreds, ...: half away from zero (i128, so
            // no step overflows; a result beyond 64 bits is an error).
            let unit = 10i128.pow(digits.unsigned_abs().min(20) as u32);
            let (i, half) = (i128::from(i), unit / 2);
            let q = i / unit + i128::from(i % unit >= half) - i128::from(-(i % unit) >= half);
            i64::try_from(q * unit).map(Value::from).unwrap_or_else(|_| out_of_range("ROUND"))
        }
        Some(Num::Float(f)) => float(round_float(f, digits), "ROUND"),
    }
}

fn chars_set(args: &[Value]) -> Option<Option<Vec<char>>> {
    match args.get(1) {
        None => Some(None),
        Some(Value::String(s)) => Some(Some(s.chars().collect())),
        Some(_) => None,
    }
}

fn trim(args: &[Value], left: bool, right: bool) -> Value {
    let (Value::String(s), Some(set)) = (&args[0], chars_set(args)) else { return Value::Null };
    let strip = |c: char| match &set {
        None => c == ' ',
        Some(cs) => cs.contains(&c),
    };
    let mut t = s.as_str();
    if left {
        t = t.trim_start_matches(strip);
    }
    if right {
        t = t.trim_end_matches(strip);
    }
    Value::String(t.to_string())
}

/// `SUBSTR(s, start [, count])` with PostgreSQL's window: characters at positions `start ..
/// start + count - 1` (1-based) that exist, so a start below 1 shortens the result.
fn substr(args: &[Value]) -> Value {
    let Value::String(s) = &args[0] else { return Value::Null };
    let Some(start) = args.get(1).and_then(Value::as_i64) else { return Value::Null };
    let end = match args.get(2) {
        None => i64::MAX,
        Some(c) => match c.as_i64() {
            Some(c) if c < 0 => return fail(Error::query("negative substring length not allowed")),
            Some(c) => start.saturating_add(c),
            None => return Value::Null,
        },
    };
    let from = start.max(1) as usize - 1;
    let count = end.saturating_sub(start.max(1)).max(0) as usize;
    Value::String(s.chars().skip(from).take(count).collect())
}

/// Call `f` on evaluated arguments (their count was checked when compiling).
pub fn call(f: Func, args: &[Value]) -> Value {
    if !matches!(f, Func::Coalesce | Func::Concat | Func::Nullif) && args.iter().any(Value::is_null) {
        return Value::Null;
    }
    match f {
        Func::Coalesce => args.iter().find(|v| !v.is_null()).cloned().unwrap_or(Value::Null),
        // NULLIF(NULL, x) is NULL; NULLIF(x, NULL) is x (they are not equal).
        Func::Nullif => match compare(&args[0], &args[1]) {
            Some(std::cmp::Ordering::Equal) => Value::Null,
            _ => args[0].clone(),
        },
        Func::Abs => match num(&args[0]) {
            Some(Num::Int(i)) => i.checked_abs().map(Value::from).unwrap_or_else(|| out_of_range("ABS")),
            Some(Num::Float(x)) => float(x.abs(), "ABS"),
            None => Value::Null,
        },
        Func::Round => round(args),
        Func::Floor | Func::Ceil => match num(&args[0]) {
            Some(Num::Int(i)) => Value::from(i),
            Some(Num::Float(x)) => float(if f == Func::Floor { x.floor() } else { x.ceil() }, "FLOOR/CEIL"),
            None => Value::Null,
        },
        Func::Length => match &args[0] {
            Value::String(s) => Value::from(s.chars().count()),
            _ => Value::Null,
        },
        Func::Substr => substr(args),
        Func::Trim => trim(args, true, true),
        Func::Ltrim => trim(args, true, false),
        Func::Rtrim => trim(args, false, true),
        Func::Replace => match (&args[0], &args[1], &args[2]) {
            (Value::String(s), Value::String(from), Value::String(to)) if !from.is_empty() => {
                Value::String(s.replace(from.as_str(), to))
            }
            (Value::String(s), Value::String(_), Value::String(_)) => Value::String(s.clone()),
            _ => Value::Null,
        },
        Func::Concat => Value::String(args.iter().filter_map(text_of).collect()),
        Func::Cardinality => match &args[0] {
            Value::Array(a) => Value::from(a.len()),
            _ => Value::Null,
        },
        Func::DateTrunc => match (&args[0], &args[1]) {
            (Value::String(unit), Value::String(ts)) => date_trunc(unit, ts).unwrap_or_else(fail),
            _ => Value::Null,
        },
    }
}

/// `CAST(v AS to)`. A text that does not read as the type is an error naming it (PostgreSQL:
/// "invalid input syntax"); floats become integers rounded half away from zero.
pub fn cast(v: &Value, to: CastTo) -> Value {
    let bad = |ty: &str| {
        fail(Error::query(format!("cannot cast {} to {ty}", preview(&serde_json::to_string(v).unwrap_or_default()))))
    };
    match (to, v) {
        (_, Value::Null) => Value::Null,
        (CastTo::Text, v) => text_of(v).map(Value::String).unwrap_or(Value::Null),
        (CastTo::Integer, Value::Number(_)) => match num(v) {
            Some(Num::Int(i)) => Value::from(i),
            Some(Num::Float(f)) if f.round().abs() < 9.2e18 => Value::from(f.round() as i64),
            _ => out_of_range("CAST to INTEGER"),
        },
        (CastTo::Integer, Value::Bool(b)) => Value::from(i64::from(*b)),
        (CastTo::Integer, Value::String(s)) => {
            s.trim().parse::<i64>().map(Value::from).unwrap_or_else(|_| bad("INTEGER"))
        }
        (CastTo::Float, Value::Number(n)) => n.as_f64().map(|f| float(f, "CAST to FLOAT")).unwrap_or(Value::Null),
        (CastTo::Float, Value::String(s)) => match s.trim().parse::<f64>() {
            Ok(f) => float(f, "CAST to FLOAT"),
            Err(_) => bad("FLOAT"),
        },
        (CastTo::Boolean, Value::Bool(b)) => Value::Bool(*b),
        (CastTo::Boolean, Value::Number(n)) => Value::Bool(n.as_f64().is_some_and(|f| f != 0.0)),
        (CastTo::Boolean, Value::String(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "t" | "true" | "y" | "yes" | "on" | "1" => Value::Bool(true),
            "f" | "false" | "n" | "no" | "off" | "0" => Value::Bool(false),
            _ => bad("BOOLEAN"),
        },
        (CastTo::Integer, _) => bad("INTEGER"),
        (CastTo::Float, _) => bad("FLOAT"),
        (CastTo::Boolean, _) => bad("BOOLEAN"),
    }
}

/// Parse an interval's text: jiff's friendly format (`'7 days'`, `'1 hour 30 minutes'`,
/// `'2 weeks'`, `'1 month'`, `'-3 days'`) or ISO 8601 (`'P7D'`, `'PT1H30M'`).
/// Errors: `InvalidQuery` naming the text.
pub fn parse_interval(text: &str) -> Result<Interval> {
    let span: jiff::Span = text.trim().to_ascii_lowercase().parse().map_err(|e| {
        Error::query(format!(
            "INTERVAL '{}' is not an interval ({e}): write e.g. INTERVAL '7 days', '1 hour 30 minutes' or 'P1M'",
            preview(text)
        ))
    })?;
    let micros = i64::from(span.get_weeks()) * 7 * 86_400_000_000
        + i64::from(span.get_days()) * 86_400_000_000
        + i64::from(span.get_hours()) * 3_600_000_000
        + span.get_minutes() * 60_000_000
        + span.get_seconds() * 1_000_000
        + span.get_milliseconds() * 1_000
        + span.get_microseconds()
        + span.get_nanoseconds() / 1_000;
    Ok(Interval { months: i64::from(span.get_years()) * 12 + i64::from(span.get_months()), micros })
}

/// A timestamp as REM writes it: RFC 3339 UTC with microseconds, fixed width.
fn format_ts(ts: jiff::Timestamp) -> Value {
    Value::String(format!("{ts:.6}"))
}

/// Read a timestamp: RFC 3339 with an offset, or a date or date-time without one, taken as UTC.
fn parse_ts(text: &str) -> Result<jiff::Zoned> {
    let utc = jiff::tz::TimeZone::UTC;
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.to_zoned(utc));
    }
    if let Ok(dt) = text.parse::<jiff::civil::DateTime>() {
        return dt.to_zoned(utc).map_err(|e| Error::query(e.to_string()));
    }
    Err(Error::query(format!(
        "'{}' is not a timestamp: write RFC 3339 ('2026-01-31T12:00:00Z') or a date ('2026-01-31')",
        preview(text)
    )))
}

/// `ts ± interval` (the interval already signed).
pub fn shift(v: &Value, iv: Interval) -> Value {
    let Value::String(text) = v else { return Value::Null };
    let run = || -> Result<Value> {
        let z = parse_ts(text)?;
        let span = jiff::Span::new()
            .try_months(iv.months)
            .and_then(|s| s.try_microseconds(iv.micros))
            .map_err(|e| Error::query(format!("interval out of range: {e}")))?;
        let moved = z.checked_add(span).map_err(|e| Error::query(format!("timestamp out of range: {e}")))?;
        Ok(format_ts(moved.timestamp()))
    };
    run().unwrap_or_else(fail)
}

/// The current time as a timestamp value (for `NOW()` and `CURRENT_TIMESTAMP`, read once per query).
pub fn now() -> Value {
    Value::String(crate::model::time::now())
}

/// `DATE_TRUNC(unit, ts)`: units `microsecond`, `millisecond`, `second`, `minute`, `hour`, `day`,
/// `week` (ISO: Monday), `month`, `quarter`, `year`, `decade`, `century` (singular or plural).
fn date_trunc(unit: &str, text: &str) -> Result<Value> {
    let z = parse_ts(text)?;
    let d = z.datetime();
    let unit = unit.trim().to_ascii_lowercase();
    let (y, mo, day) = (d.year(), d.month(), d.day());
    let (h, mi, s) = (d.hour(), d.minute(), d.second());
    let micro = i32::from(d.millisecond()) * 1000 + i32::from(d.microsecond());
    let civil = |y: i16, mo: i8, day: i8, h: i8, mi: i8, s: i8, nanos: i32| {
        jiff::civil::DateTime::new(y, mo, day, h, mi, s, nanos).map_err(|e| Error::query(e.to_string()))
    };
    let out = match unit.trim_end_matches('s') {
        "microsecond" => civil(y, mo, day, h, mi, s, micro * 1000)?,
        "millisecond" => civil(y, mo, day, h, mi, s, i32::from(d.millisecond()) * 1_000_000)?,
        "second" => civil(y, mo, day, h, mi, s, 0)?,
        "minute" => civil(y, mo, day, h, mi, 0, 0)?,
        "hour" => civil(y, mo, day, h, 0, 0, 0)?,
        "day" => civil(y, mo, day, 0, 0, 0, 0)?,
        "week" => {
            let monday = d.date() - jiff::Span::new().days(i64::from(d.weekday().to_monday_zero_offset()));
            civil(monday.year(), monday.month(), monday.day(), 0, 0, 0, 0)?
        }
        "month" => civil(y, mo, 1, 0, 0, 0, 0)?,
        "quarter" => civil(y, (mo - 1) / 3 * 3 + 1, 1, 0, 0, 0, 0)?,
        "year" => civil(y, 1, 1, 0, 0, 0, 0)?,
        "decade" => civil(y - y.rem_euclid(10), 1, 1, 0, 0, 0, 0)?,
        "century" => civil(y - (y - 1).rem_euclid(100), 1, 1, 0, 0, 0, 0)?,
        _ => {
            return Err(Error::query(format!(
                "DATE_TRUNC unit '{}' is not known: use microsecond, millisecond, second, minute, hour, day, week, \
                 month, quarter, year, decade or century",
                preview(&unit)
            )));
        }
    };
    let z = out.to_zoned(jiff::tz::TimeZone::UTC).map_err(|e| Error::query(e.to_string()))?;
    Ok(format_ts(z.timestamp()))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn faulted(v: Value) -> String {
        assert_eq!(v, Value::Null);
        take_fault().expect("a fault").to_string()
    }

    #[test]
    fn integer_arithmetic_is_exact_and_checked() {
        assert_eq!(arith(&json!(7), ArithOp::Div, &json!(2)), json!(3));
        assert_eq!(arith(&json!(-7), ArithOp::Div, &json!(2)), json!(-3));
        assert_eq!(arith(&json!(-7), ArithOp::Mod, &json!(3)), json!(-1));
        assert_eq!(arith(&json!(7), ArithOp::Div, &json!(2.0)), json!(3.5));
        assert_eq!(arith(&json!("7"), ArithOp::Add, &json!(1)), Value::Null);
        assert!(faulted(arith(&json!(1), ArithOp::Div, &json!(0))).contains("division by zero"));
        assert!(faulted(arith(&json!(1.5), ArithOp::Mod, &json!(0.0))).contains("division by zero"));
        assert!(faulted(arith(&json!(i64::MAX), ArithOp::Add, &json!(1))).contains("out of range"));
        assert!(faulted(arith(&json!(i64::MIN), ArithOp::Div, &json!(-1))).contains("out of range"));
        assert!(take_fault().is_none());
    }

    #[test]
    fn functions_follow_postgresql() {
        assert_eq!(call(Func::Round, &[json!(2.5)]), json!(3.0));
        assert_eq!(call(Func::Round, &[json!(-2.5)]), json!(-3.0));
        assert_eq!(call(Func::Round, &[json!(1.23456), json!(2)]), json!(1.23));
        assert_eq!(call(Func::Round, &[json!(1250), json!(-2)]), json!(1300));
        assert_eq!(call(Func::Round, &[json!(-1250), json!(-2)]), json!(-1300));
        assert_eq!(call(Func::Round, &[json!(-1249), json!(-2)]), json!(-1200));
        assert_eq!(call(Func::Round, &[json!(44), json!(-30)]), json!(0));
        assert!(faulted(call(Func::Round, &[json!(i64::MAX), json!(-1)])).contains("out of range"));
        assert_eq!(call(Func::Substr, &[json!("hello"), json!(2), json!(3)]), json!("ell"));
        assert_eq!(call(Func::Substr, &[json!("hello"), json!(0), json!(2)]), json!("h"));
        assert_eq!(call(Func::Substr, &[json!("héllo"), json!(2)]), json!("éllo"));
        assert_eq!(call(Func::Trim, &[json!("  a b  ")]), json!("a b"));
        assert_eq!(call(Func::Ltrim, &[json!("xxaxx"), json!("x")]), json!("axx"));
        assert_eq!(call(Func::Replace, &[json!("a-b-c"), json!("-"), json!("+")]), json!("a+b+c"));
        assert_eq!(call(Func::Coalesce, &[Value::Null, json!(2), json!(3)]), json!(2));
        assert_eq!(call(Func::Nullif, &[json!(2), json!(2.0)]), Value::Null);
        assert_eq!(call(Func::Nullif, &[json!(2), Value::Null]), json!(2));
        assert_eq!(call(Func::Concat, &[json!("a"), Value::Null, json!(1)]), json!("a1"));
        assert_eq!(call(Func::Length, &[json!("héllo")]), json!(5));
        assert_eq!(call(Func::Cardinality, &[json!([1, 2, 3])]), json!(3));
        assert_eq!(concat(&json!("a"), &Value::Null), Value::Null);
    }

    #[test]
    fn casts_convert_or_name_the_value() {
        assert_eq!(cast(&json!("42"), CastTo::Integer), json!(42));
        assert_eq!(cast(&json!(2.5), CastTo::Integer), json!(3));
        assert_eq!(cast(&json!(42), CastTo::Text), json!("42"));
        assert_eq!(cast(&json!("yes"), CastTo::Boolean), json!(true));
        assert!(faulted(cast(&json!("abc"), CastTo::Integer)).contains("\"abc\""));
    }

    #[test]
    fn timestamps_shift_and_truncate() {
        let iv = parse_interval("7 days").unwrap();
        assert_eq!(iv, Interval { months: 0, micros: 7 * 86_400_000_000 });
        assert_eq!(shift(&json!("2026-03-01T00:00:00Z"), iv), json!("2026-03-08T00:00:00.000000Z"));
        let month = parse_interval("1 month").unwrap();
        assert_eq!(shift(&json!("2026-01-31"), month), json!("2026-02-28T00:00:00.000000Z"));
        assert!(parse_interval("soon").is_err());
        let ts = json!("2026-12-09T13:45:10.123456Z");
        assert_eq!(call(Func::DateTrunc, &[json!("day"), ts.clone()]), json!("2026-12-09T00:00:00.000000Z"));
        assert_eq!(call(Func::DateTrunc, &[json!("week"), ts.clone()]), json!("2026-12-07T00:00:00.000000Z"));
        assert_eq!(call(Func::DateTrunc, &[json!("quarter"), ts.clone()]), json!("2026-10-01T00:00:00.000000Z"));
        assert_eq!(call(Func::DateTrunc, &[json!("hours"), ts.clone()]), json!("2026-12-09T13:00:00.000000Z"));
        assert!(faulted(call(Func::DateTrunc, &[json!("fortnight"), ts])).contains("fortnight"));
    }
}
