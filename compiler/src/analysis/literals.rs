//! What a literal expression is, and whether it fits a declared type: the type checks that can
//! be made before running, when a value is written out in the source.

use crate::ast::{Expr, ExprKind, NumberValue, Span, Type, UnaryOp};

/// The expression inside any parentheses.
pub(crate) fn strip_parens(mut expr: &Expr) -> &Expr {
    while let ExprKind::Paren(inner) = &expr.kind {
        expr = inner;
    }
    expr
}

/// The unit written after a number (`GiB`, `ms`), or "" for a plain number.
pub(crate) fn number_unit(text: &str) -> &str {
    let digits_end = text
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_alphabetic())
        .map_or(0, |(i, c)| i + c.len_utf8());
    &text[digits_end..]
}

pub(crate) fn is_size_unit(unit: &str) -> bool {
    matches!(
        unit,
        "B" | "KiB" | "MiB" | "GiB" | "TiB" | "KB" | "MB" | "GB" | "TB"
    )
}

pub(crate) fn is_duration_unit(unit: &str) -> bool {
    matches!(unit, "ms" | "s" | "m" | "h" | "d")
}

/// The kind of a literal value, as far as a type check is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Literal {
    Null,
    Bool,
    Int,
    /// An int written with a size unit (`8GiB`).
    Size,
    Float,
    /// A float written with a duration unit (`30s`).
    Duration,
    Str,
    List,
    Object,
    Tuple,
}

impl Literal {
    /// "an int", "a string", … for messages.
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Literal::Null => "null",
            Literal::Bool => "a bool",
            Literal::Int => "an int",
            Literal::Size => "a size (an int of bytes)",
            Literal::Float => "a float",
            Literal::Duration => "a duration (a float of seconds)",
            Literal::Str => "a string",
            Literal::List => "a list",
            Literal::Object => "an object",
            Literal::Tuple => "a tuple",
        }
    }
}

/// What a literal expression is; `None` when its value is only known when running (a
/// variable, a call, arithmetic, …). Interpolated strings are strings.
pub(crate) fn literal(expr: &Expr) -> Option<Literal> {
    let expr = strip_parens(expr);
    Some(match &expr.kind {
        ExprKind::Null => Literal::Null,
        ExprKind::Bool(_) => Literal::Bool,
        ExprKind::Number(n) => {
            let unit = number_unit(&n.text);
            match n.value {
                NumberValue::Int(_) if is_size_unit(unit) => Literal::Size,
                NumberValue::Int(_) => Literal::Int,
                NumberValue::Float(_) if is_duration_unit(unit) => Literal::Duration,
                NumberValue::Float(_) => Literal::Float,
            }
        }
        ExprKind::Unary(UnaryOp::Neg, inner) => match literal(inner)? {
            number @ (Literal::Int | Literal::Size | Literal::Float | Literal::Duration) => number,
            _ => return None,
        },
        ExprKind::Str(_) => Literal::Str,
        ExprKind::List(_) => Literal::List,
        ExprKind::Object(_) => Literal::Object,
        ExprKind::Tuple(_) => Literal::Tuple,
        _ => return None,
    })
}

/// A literal that does not fit a type: where (the literal, or the element of a list literal
/// that does not fit), what was expected there and what was found.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Mismatch {
    pub span: Span,
    pub expected: Type,
    pub found: Literal,
}

impl Mismatch {
    /// What the literal written for a `declared` parameter is: "an int", or "a list holding
    /// an int" when the mismatch is an element of a list literal.
    pub(crate) fn found_for(&self, declared: &Type) -> String {
        if &self.expected == declared {
            self.found.describe().to_string()
        } else {
            format!("a list holding {}", self.found.describe())
        }
    }
}

/// Whether a literal value fits a declared type; `None` when it fits or is not a literal.
/// `null` fits every type (it is how an absent optional value is written).
pub(crate) fn check_literal(ty: &Type, expr: &Expr) -> Option<Mismatch> {
    let expr = strip_parens(expr);
    let found = literal(expr)?;
    let fits = match (ty, found) {
        (_, Literal::Null) => true,
        (Type::Json, Literal::Tuple) => false,
        (Type::Json, _) => true,
        (Type::Int, Literal::Int | Literal::Size) => true,
        (Type::Float, Literal::Int | Literal::Size | Literal::Float | Literal::Duration) => true,
        (Type::Bool, Literal::Bool) => true,
        (Type::Str | Type::File | Type::Dir, Literal::Str) => true,
        (Type::List(inner), Literal::List) => {
            let ExprKind::List(items) = &expr.kind else {
                return None;
            };
            return items.iter().find_map(|item| check_literal(inner, item));
        }
        _ => false,
    };
    (!fits).then(|| Mismatch {
        span: expr.span,
        expected: ty.clone(),
        found,
    })
}

/// A help line for passing a value of type `ty`.
pub(crate) fn how_to_write(ty: &Type, found: Literal) -> String {
    match (ty, found) {
        (Type::File, _) => "a file is given by its path, as a string: \"data.txt\"".to_string(),
        (Type::Dir, _) => "a dir is given by its path, as a string: \"results\"".to_string(),
        (Type::Str, Literal::Int | Literal::Float | Literal::Bool) => {
            "write the value as a string, in quotes".to_string()
        }
        (Type::Int, Literal::Str) | (Type::Float, Literal::Str) => {
            "write the number without quotes".to_string()
        }
        (Type::Int, Literal::Float | Literal::Duration) => {
            "an int has no fractional part; convert with int(x) if that is intended".to_string()
        }
        (Type::List(_), _) => format!("a {ty} is written as a list: [x, y]"),
        (_, Literal::List) => format!("a {ty} is a single value, not a list"),
        _ => format!("expected a value of type `{ty}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{Number, StrLit, StrPart};

    fn expr(kind: ExprKind) -> Expr {
        Expr {
            kind,
            span: Span::new(0, 1),
        }
    }

    fn int(text: &str, value: i64) -> Expr {
        expr(ExprKind::Number(Number {
            value: NumberValue::Int(value),
            text: text.to_string(),
        }))
    }

    fn string(s: &str) -> Expr {
        expr(ExprKind::Str(StrLit {
            parts: vec![StrPart::Text(s.to_string())],
            triple: false,
        }))
    }

    #[test]
    fn units() {
        assert_eq!(number_unit("8GiB"), "GiB");
        assert_eq!(number_unit("1_000"), "");
        assert_eq!(number_unit("1e-3"), "");
        assert_eq!(number_unit("250ms"), "ms");
    }

    #[test]
    fn literals_against_types() {
        assert!(check_literal(&Type::Int, &int("3", 3)).is_none());
        assert!(check_literal(&Type::Float, &int("3", 3)).is_none());
        assert_eq!(
            check_literal(&Type::File, &int("3", 3)).map(|m| m.found),
            Some(Literal::Int)
        );
        assert_eq!(
            check_literal(&Type::Int, &string("3")).map(|m| m.found),
            Some(Literal::Str)
        );
        let files = Type::List(Box::new(Type::File));
        let list = expr(ExprKind::List(vec![string("a"), int("1", 1)]));
        assert_eq!(
            check_literal(&files, &list).map(|m| m.expected),
            Some(Type::File)
        );
        assert!(check_literal(&Type::Str, &list).is_some());
        assert!(check_literal(&Type::Json, &list).is_none());
        assert!(check_literal(&Type::Int, &expr(ExprKind::Null)).is_none());
    }
}
