//! Values of the language at run time (and at plan time).
//!
//! Values are immutable and cheap to clone (shared collections). A `Future` stands for a task's
//! return value, or a new version of an `out`/`inout` json argument, that may not be known
//! yet; `wait` (in the evaluator's backend) turns it into a concrete value.

use std::fmt;
use std::sync::Arc;

use indexmap::IndexMap;

/// The id of a future: unique within one run (or one plan).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FutureId(pub u64);

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    List(Arc<Vec<Value>>),
    /// A json object; keys keep their insertion order.
    Object(Arc<IndexMap<String, Value>>),
    Tuple(Arc<Vec<Value>>),
    Future(FutureId),
}

impl Value {
    pub fn str(s: impl Into<Arc<str>>) -> Value {
        Value::Str(s.into())
    }

    pub fn list(items: Vec<Value>) -> Value {
        Value::List(Arc::new(items))
    }

    pub fn object(entries: IndexMap<String, Value>) -> Value {
        Value::Object(Arc::new(entries))
    }

    /// The name of the value's kind, for messages ("expected a list, found a str").
    pub fn kind_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::List(_) => "list",
            Value::Object(_) => "object",
            Value::Tuple(_) => "tuple",
            Value::Future(_) => "future",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// Whether a future occurs anywhere inside the value.
    #[inline]
    pub fn contains_future(&self) -> bool {
        match self {
            Value::Future(_) => true,
            Value::List(xs) | Value::Tuple(xs) => xs.iter().any(Value::contains_future),
            Value::Object(m) => m.values().any(Value::contains_future),
            _ => false,
        }
    }

    /// Every future inside the value, in order.
    pub fn futures(&self, out: &mut Vec<FutureId>) {
        match self {
            Value::Future(f) => out.push(*f),
            Value::List(xs) | Value::Tuple(xs) => xs.iter().for_each(|x| x.futures(out)),
            Value::Object(m) => m.values().for_each(|x| x.futures(out)),
            _ => {}
        }
    }

    /// The value with every future replaced through `resolve`.
    pub fn map_futures<E>(
        &self,
        resolve: &mut impl FnMut(FutureId) -> Result<Value, E>,
    ) -> Result<Value, E> {
        Ok(match self {
            Value::Future(f) => resolve(*f)?,
            Value::List(xs) if self.contains_future() => Value::list(
                xs.iter()
                    .map(|x| x.map_futures(resolve))
                    .collect::<Result<_, _>>()?,
            ),
            Value::Tuple(xs) if self.contains_future() => Value::Tuple(Arc::new(
                xs.iter()
                    .map(|x| x.map_futures(resolve))
                    .collect::<Result<_, _>>()?,
            )),
            Value::Object(m) if self.contains_future() => Value::object(
                m.iter()
                    .map(|(k, v)| Ok((k.clone(), v.map_futures(resolve)?)))
                    .collect::<Result<_, E>>()?,
            ),
            other => other.clone(),
        })
    }

    /// Python truthiness, used by `if`, `while`, `and`, `or`, `not`.
    pub fn truthy(&self) -> bool {
        match self {
            Value::Null => false,
            Value::Bool(b) => *b,
            Value::Int(i) => *i != 0,
            Value::Float(f) => *f != 0.0,
            Value::Str(s) => !s.is_empty(),
            Value::List(xs) | Value::Tuple(xs) => !xs.is_empty(),
            Value::Object(m) => !m.is_empty(),
            Value::Future(_) => true,
        }
    }

    /// The JSON form of a concrete value (tuples become arrays). Futures must have been
    /// resolved first; one left over becomes `null`.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null | Value::Future(_) => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.to_string()),
            Value::List(xs) | Value::Tuple(xs) => J::Array(xs.iter().map(Value::to_json).collect()),
            Value::Object(m) => {
                J::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::str(s.as_str()),
            J::Array(xs) => Value::list(xs.iter().map(Value::from_json).collect()),
            J::Object(m) => Value::object(
                m.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// The text `print`, interpolation and `str()` give: a str is its text, bool
    /// `true`/`false`, `null`, numbers as Python prints them, other values compact JSON.
    pub fn display_text(&self) -> String {
        match self {
            Value::Str(s) => s.to_string(),
            other => other.to_string(),
        }
    }

    /// Appends `display_text` to `out`, without a string of its own (string interpolation
    /// builds every path of a program this way).
    pub fn write_display_text(&self, out: &mut String) {
        use fmt::Write as _;
        match self {
            Value::Str(s) => out.push_str(s),
            // Writing into a `String` cannot fail.
            other => {
                let _ = write!(out, "{other}");
            }
        }
    }
}

/// Formats a float the way Python's `repr` does: `3.0`, `3.5`, `1e-07`, `1e+20`, `inf`, `nan`.
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() {
            "-0.0".into()
        } else {
            "0.0".into()
        };
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, as Python's repr does; Python
    // switches to exponent form below 1e-4 and from 1e16 on.
    let sci = format!("{f:e}");
    let (mantissa, exponent) = sci.split_once('e').expect("{:e} has an exponent");
    let exponent: i32 = exponent.parse().expect("exponent is an integer");
    if !(-4..16).contains(&exponent) {
        let sign = if exponent < 0 { '-' } else { '+' };
        return format!("{mantissa}e{sign}{:02}", exponent.abs());
    }
    let plain = format!("{f}");
    if plain.contains('.') {
        plain
    } else {
        format!("{plain}.0")
    }
}

/// Compact JSON text, as `print` writes lists and objects (`[1,2,3]`, `{"k":[1,null,true]}`),
/// with floats written as Python writes them.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => f.write_str(&format_float(*x)),
            Value::Str(s) => f.write_str(&serde_json::Value::String(s.to_string()).to_string()),
            Value::List(xs) | Value::Tuple(xs) => {
                f.write_str("[")?;
                for (i, x) in xs.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{x}")?;
                }
                f.write_str("]")
            }
            Value::Object(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{}:{v}", serde_json::Value::String(k.clone()))?;
                }
                f.write_str("}")
            }
            Value::Future(id) => write!(f, "<future {}>", id.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_does() {
        assert_eq!(format_float(3.0), "3.0");
        assert_eq!(format_float(3.5), "3.5");
        assert_eq!(format_float(1e-7), "1e-07");
        assert_eq!(format_float(0.0001), "0.0001");
        assert_eq!(format_float(1e16), "1e+16");
        assert_eq!(format_float(123456789.0), "123456789.0");
        assert_eq!(format_float(0.1 + 0.2), "0.30000000000000004");
    }

    #[test]
    fn display_text_is_appended_in_place() {
        let mut out = String::from("f");
        for value in [
            Value::Int(-12),
            Value::str("/x"),
            Value::Float(2.0),
            Value::Null,
            Value::list(vec![Value::str("a"), Value::Bool(true)]),
        ] {
            let before = out.len();
            value.write_display_text(&mut out);
            assert_eq!(out[before..], value.display_text());
        }
        assert_eq!(out, r#"f-12/x2.0null["a",true]"#);
    }

    #[test]
    fn collections_print_as_compact_json() {
        let mut m = IndexMap::new();
        m.insert(
            "k".to_string(),
            Value::list(vec![Value::Int(1), Value::Null, Value::Bool(true)]),
        );
        assert_eq!(Value::object(m).to_string(), r#"{"k":[1,null,true]}"#);
        assert_eq!(Value::str("a").display_text(), "a");
        assert_eq!(
            Value::list(vec![Value::str("a"), Value::Float(2.0)]).to_string(),
            r#"["a",2.0]"#
        );
    }
}
