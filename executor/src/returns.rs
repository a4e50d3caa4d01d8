//! Reading what a task produced (§4.5): its return value, from `WEFT_RETURN` (JSON) or its
//! standard output (text parsed as the declared type), and the new values of its `out` /
//! `inout` json parameters (`WEFT_OUT_<name>`).
//!
//! From standard output, a `str` is the output with one trailing newline removed; every
//! other type is parsed from the output with surrounding whitespace trimmed: `int`, `float`
//! and `bool` as written (`3`, `-1.5e3`, `true`), `json` as JSON text, `file` and `dir` as a
//! path. A collection is a JSON array, or one element per non-empty line; a tuple is a JSON
//! array with one element per declared type.

use std::path::Path;
use std::sync::Arc;

use serde_json::Value as Json;
use weft_compiler::ast::{Param, ReturnType, Type};
use weft_compiler::value::Value;

/// How much of an unparsable value a message quotes.
const QUOTED_LIMIT: usize = 80;

/// The return value written to `WEFT_RETURN`: JSON of the declared type (an array for a
/// tuple).
pub fn parse_json_return(task: &str, ty: &ReturnType, text: &str) -> Result<Value, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| {
        format!(
            "task `{task}` wrote `{}` to WEFT_RETURN, which is not JSON ({e})",
            excerpt(text)
        )
    })?;
    typed_return(ty, &json).ok_or_else(|| {
        format!(
            "task `{task}`: return value `{}` (from WEFT_RETURN) is not {}",
            excerpt(text),
            describe_return_type(ty)
        )
    })
}

/// The return value read from the standard output.
pub fn parse_stdout_return(task: &str, ty: &ReturnType, stdout: &str) -> Result<Value, String> {
    let value = match ty {
        ReturnType::Single(t) => parse_text(&t.ty, stdout),
        ReturnType::Tuple(..) => serde_json::from_str(stdout.trim())
            .ok()
            .and_then(|json| typed_return(ty, &json)),
    };
    value.ok_or_else(|| {
        format!(
            "task `{task}`: return value `{}` (its standard output) is not {}",
            excerpt(stdout.trim_end_matches('\n')),
            describe_return_type(ty)
        )
    })
}

/// The new value of an `out`/`inout` json parameter, if the process wrote its file.
pub fn read_out_json(task: &str, param: &Param, path: &Path) -> Result<Option<Value>, String> {
    let name = &param.name.name;
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    };
    let json: Json = serde_json::from_str(&text).map_err(|e| {
        format!(
            "task `{task}` wrote `{}` to WEFT_OUT_{name}, which is not JSON ({e})",
            excerpt(&text)
        )
    })?;
    typed_from_json(&param.ty.ty, &json)
        .map(Some)
        .ok_or_else(|| {
            format!(
                "task `{task}` wrote `{}` to WEFT_OUT_{name}, which is not {}",
                excerpt(&text),
                with_article(&param.ty.ty.to_string())
            )
        })
}

/// `an int`, `a [file]`, `a (int, str) tuple`: the declared return type for messages.
pub fn describe_return_type(ty: &ReturnType) -> String {
    match ty {
        ReturnType::Single(t) => with_article(&t.ty.to_string()),
        ReturnType::Tuple(types, _) => {
            let names: Vec<String> = types.iter().map(|t| t.ty.to_string()).collect();
            format!("a ({}) tuple", names.join(", "))
        }
    }
}

fn with_article(type_name: &str) -> String {
    let article = if type_name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {type_name}")
}

/// A value for a message: its first characters, on one line.
fn excerpt(text: &str) -> String {
    let one_line = text.replace('\n', "\\n");
    match one_line.char_indices().nth(QUOTED_LIMIT) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

/// A JSON value checked against a return type.
fn typed_return(ty: &ReturnType, json: &Json) -> Option<Value> {
    match ty {
        ReturnType::Single(t) => typed_from_json(&t.ty, json),
        ReturnType::Tuple(types, _) => {
            let Json::Array(items) = json else {
                return None;
            };
            if items.len() != types.len() {
                return None;
            }
            let values = types
                .iter()
                .zip(items)
                .map(|(t, item)| typed_from_json(&t.ty, item))
                .collect::<Option<Vec<_>>>()?;
            Some(Value::Tuple(Arc::new(values)))
        }
    }
}

/// A JSON value as a value of type `ty`, or `None` if it is not one. An `int` must be an
/// integer; a `float` may be written as an integer (`3` is `3.0`).
pub fn typed_from_json(ty: &Type, json: &Json) -> Option<Value> {
    match (ty, json) {
        (Type::Json, _) => Some(Value::from_json(json)),
        (Type::Int, Json::Number(n)) => n.as_i64().map(Value::Int),
        (Type::Float, Json::Number(n)) => n.as_f64().map(Value::Float),
        (Type::Bool, Json::Bool(b)) => Some(Value::Bool(*b)),
        (Type::Str | Type::File | Type::Dir, Json::String(s)) => Some(Value::str(s.as_str())),
        (Type::List(inner), Json::Array(items)) => items
            .iter()
            .map(|item| typed_from_json(inner, item))
            .collect::<Option<Vec<_>>>()
            .map(Value::list),
        _ => None,
    }
}

/// Standard output parsed as one value of type `ty`.
fn parse_text(ty: &Type, output: &str) -> Option<Value> {
    if *ty == Type::Str {
        return Some(Value::str(output.strip_suffix('\n').unwrap_or(output)));
    }
    parse_trimmed(ty, output.trim())
}

fn parse_trimmed(ty: &Type, text: &str) -> Option<Value> {
    match ty {
        Type::Str => Some(Value::str(text)),
        Type::Int => text.parse().ok().map(Value::Int),
        Type::Float => parse_float(text).map(Value::Float),
        Type::Bool => match text {
            "true" | "True" => Some(Value::Bool(true)),
            "false" | "False" => Some(Value::Bool(false)),
            _ => None,
        },
        Type::Json => serde_json::from_str(text)
            .ok()
            .map(|j| Value::from_json(&j)),
        Type::File | Type::Dir => (!text.is_empty()).then(|| Value::str(text)),
        Type::List(inner) => {
            if text.starts_with('[') {
                if let Some(value) = serde_json::from_str(text)
                    .ok()
                    .and_then(|json| typed_from_json(ty, &json))
                {
                    return Some(value);
                }
            }
            if matches!(inner.as_ref(), Type::List(_) | Type::Json) {
                // Lines cannot express nested collections or arbitrary JSON.
                return None;
            }
            text.lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .map(|line| parse_trimmed(inner, line))
                .collect::<Option<Vec<_>>>()
                .map(Value::list)
        }
    }
}

/// A float as Python's `float()` reads it: decimal or exponent notation, `inf`, `nan`.
fn parse_float(text: &str) -> Option<f64> {
    let lower = text.to_ascii_lowercase();
    let unsigned = lower.trim_start_matches(['+', '-']);
    let special = matches!(unsigned, "inf" | "infinity" | "nan");
    let digits = unsigned.starts_with(|c: char| c.is_ascii_digit() || c == '.');
    if special || digits {
        lower.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use weft_compiler::ast::{Span, TypeExpr};

    fn single(ty: Type) -> ReturnType {
        ReturnType::Single(TypeExpr {
            ty,
            span: Span::default(),
        })
    }

    fn tuple(types: Vec<Type>) -> ReturnType {
        ReturnType::Tuple(
            types
                .into_iter()
                .map(|ty| TypeExpr {
                    ty,
                    span: Span::default(),
                })
                .collect(),
            Span::default(),
        )
    }

    fn list(ty: Type) -> Type {
        Type::List(Box::new(ty))
    }

    fn stdout(ty: Type, text: &str) -> Result<Value, String> {
        parse_stdout_return("t", &single(ty), text)
    }

    #[test]
    fn standard_output_parses_as_the_declared_type() {
        assert_eq!(stdout(Type::Int, "  3\n"), Ok(Value::Int(3)));
        assert_eq!(stdout(Type::Int, "-12"), Ok(Value::Int(-12)));
        assert_eq!(stdout(Type::Float, "2.5\n"), Ok(Value::Float(2.5)));
        assert_eq!(stdout(Type::Float, "3"), Ok(Value::Float(3.0)));
        assert_eq!(stdout(Type::Float, "1e-3"), Ok(Value::Float(0.001)));
        assert_eq!(stdout(Type::Bool, "true\n"), Ok(Value::Bool(true)));
        assert_eq!(stdout(Type::Bool, "False"), Ok(Value::Bool(false)));
        assert_eq!(
            stdout(Type::Str, "two\nlines\n\n"),
            Ok(Value::str("two\nlines\n"))
        );
        assert_eq!(stdout(Type::Str, "  pad  "), Ok(Value::str("  pad  ")));
        assert_eq!(stdout(Type::Str, ""), Ok(Value::str("")));
        assert_eq!(
            stdout(Type::File, " out/a.txt\n"),
            Ok(Value::str("out/a.txt"))
        );
        assert_eq!(
            stdout(Type::Json, "[1, \"two\"]\n"),
            Ok(Value::list(vec![Value::Int(1), Value::str("two")]))
        );
        assert_eq!(
            stdout(list(Type::Int), "1\n2\n\n3\n"),
            Ok(Value::list(vec![
                Value::Int(1),
                Value::Int(2),
                Value::Int(3)
            ]))
        );
        assert_eq!(
            stdout(list(Type::Str), "[\"a b\", \"c\"]"),
            Ok(Value::list(vec![Value::str("a b"), Value::str("c")]))
        );
        assert_eq!(
            parse_stdout_return("t", &tuple(vec![Type::Int, Type::Str]), "[1, \"x\"]\n"),
            Ok(Value::Tuple(Arc::new(vec![Value::Int(1), Value::str("x")])))
        );
    }

    #[test]
    fn unparsable_output_names_the_task_and_the_type() {
        let error = stdout(Type::Int, "abc\n").unwrap_err();
        assert_eq!(
            error,
            "task `t`: return value `abc` (its standard output) is not an int"
        );
        assert!(stdout(Type::Int, "3.5").is_err());
        assert!(stdout(Type::Int, "").is_err());
        assert!(stdout(Type::Float, "x1").is_err());
        assert!(stdout(Type::Bool, "yes").is_err());
        assert!(stdout(Type::Json, "{oops").is_err());
        assert!(stdout(Type::File, "\n").is_err());
        let error =
            parse_stdout_return("t", &tuple(vec![Type::Int, Type::Int]), "[1]").unwrap_err();
        assert!(error.ends_with("is not a (int, int) tuple"), "{error}");
    }

    #[test]
    fn weft_return_is_json_of_the_declared_type() {
        let json = |ty: Type, text: &str| parse_json_return("t", &single(ty), text);
        assert_eq!(json(Type::Int, "4"), Ok(Value::Int(4)));
        assert_eq!(json(Type::Float, "4"), Ok(Value::Float(4.0)));
        assert_eq!(json(Type::Str, "\"s\"\n"), Ok(Value::str("s")));
        assert!(json(Type::Int, "4.5")
            .unwrap_err()
            .contains("is not an int"));
        assert!(json(Type::Str, "not json")
            .unwrap_err()
            .contains("not JSON"));
        assert!(json(list(Type::Int), "[1, \"x\"]").is_err());
        let mut object = indexmap::IndexMap::new();
        object.insert("n".to_string(), Value::Int(4));
        assert_eq!(json(Type::Json, "{\"n\": 4}"), Ok(Value::object(object)));
    }
}
