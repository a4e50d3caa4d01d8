//! Expressions in the canonical style: spaces around binary operators, after commas and
//! after `:` in objects, none inside brackets; the user's parentheses kept, and the ones the
//! precedence requires added.

use super::strings::{push_escaped_text, push_triple_text, quoted, triple_layout, QuoteEnd};
use crate::ast::{
    Arg, Entry, Expr, ExprKind, Number, NumberValue, ObjectKey, StrLit, StrPart, UnaryOp,
};

/// Binding strengths beyond those of `BinaryOp::precedence` (higher binds tighter): `not`
/// sits between `and` and the comparisons, unary minus above `* / %`, then the postfix
/// forms (call, index, field) and the atoms.
const NOT_PRECEDENCE: u8 = 3;
const COMPARISON_PRECEDENCE: u8 = 4;
const NEG_PRECEDENCE: u8 = 7;
const POSTFIX_PRECEDENCE: u8 = 8;
const ATOM_PRECEDENCE: u8 = 9;

/// The source text of an expression; `indent` is the indentation level of the line it
/// starts on (multi-line strings are laid out one level deeper).
pub(super) fn expr(e: &Expr, indent: usize) -> String {
    let mut out = String::new();
    write_expr(&mut out, e, indent);
    out
}

fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(op, _, _) => op.precedence(),
        ExprKind::Unary(UnaryOp::Not, _) => NOT_PRECEDENCE,
        ExprKind::Unary(UnaryOp::Neg, _) => NEG_PRECEDENCE,
        ExprKind::Field(..) | ExprKind::Index(..) | ExprKind::Call(..) => POSTFIX_PRECEDENCE,
        _ => ATOM_PRECEDENCE,
    }
}

/// Writes `e`, in parentheses when it binds looser than its place needs.
fn write_operand(out: &mut String, e: &Expr, indent: usize, parenthesize: bool) {
    if parenthesize {
        out.push('(');
        write_expr(out, e, indent);
        out.push(')');
    } else {
        write_expr(out, e, indent);
    }
}

fn write_expr(out: &mut String, e: &Expr, indent: usize) {
    match &e.kind {
        ExprKind::Null => out.push_str("null"),
        ExprKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ExprKind::Number(n) => out.push_str(&number_text(n)),
        ExprKind::Str(s) => write_str_lit(out, s, indent),
        ExprKind::List(items) => {
            out.push('[');
            write_comma_separated(out, items, indent);
            out.push(']');
        }
        ExprKind::Object(entries) => {
            if entries.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push_str("{ ");
            for (i, (key, value)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&object_key(key));
                out.push_str(": ");
                write_expr(out, value, indent);
            }
            out.push_str(" }");
        }
        ExprKind::Tuple(items) => {
            out.push('(');
            write_comma_separated(out, items, indent);
            out.push(')');
        }
        ExprKind::Paren(inner) => {
            out.push('(');
            write_expr(out, inner, indent);
            out.push(')');
        }
        ExprKind::Var(name) => out.push_str(&name.name),
        ExprKind::Field(base, field) => {
            write_operand(out, base, indent, precedence(base) < POSTFIX_PRECEDENCE);
            out.push('.');
            out.push_str(&field.name);
        }
        ExprKind::Index(base, index) => {
            write_operand(out, base, indent, precedence(base) < POSTFIX_PRECEDENCE);
            out.push('[');
            write_expr(out, index, indent);
            out.push(']');
        }
        ExprKind::Call(callee, args) => {
            write_operand(out, callee, indent, precedence(callee) < POSTFIX_PRECEDENCE);
            out.push('(');
            write_args(out, args, indent);
            out.push(')');
        }
        ExprKind::Unary(op, operand) => {
            let own = precedence(e);
            match op {
                UnaryOp::Neg => out.push('-'),
                UnaryOp::Not => out.push_str("not "),
            }
            write_operand(out, operand, indent, precedence(operand) < own);
        }
        ExprKind::Binary(op, left, right) => {
            let own = op.precedence();
            // Comparisons do not chain, so a comparison operand of a comparison needs
            // parentheses on either side; every operator is left-associative, so an equal
            // binding on the right needs them too.
            let left_precedence = precedence(left);
            let left_needs = left_precedence < own
                || (own == COMPARISON_PRECEDENCE && left_precedence == COMPARISON_PRECEDENCE);
            write_operand(out, left, indent, left_needs);
            out.push(' ');
            out.push_str(op.symbol());
            out.push(' ');
            write_operand(out, right, indent, precedence(right) <= own);
        }
    }
}

fn write_comma_separated(out: &mut String, items: &[Expr], indent: usize) {
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        write_expr(out, item, indent);
    }
}

fn write_args(out: &mut String, args: &[Arg], indent: usize) {
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        if let Some(name) = &arg.name {
            out.push_str(&name.name);
            out.push_str(" = ");
        }
        write_expr(out, &arg.value, indent);
    }
}

/// `[a, b]`: the argument list of `binary … args`, `raises_on_exit`, ….
pub(super) fn list(items: &[Expr], indent: usize) -> String {
    let mut out = String::from("[");
    write_comma_separated(&mut out, items, indent);
    out.push(']');
    out
}

/// `{ key: value, … }` (or `{}`): the entries of `constraint`, `env`, `mpi` and
/// `workflow … args` blocks, always on one line.
pub(super) fn entries(entries: &[Entry], indent: usize) -> String {
    if entries.is_empty() {
        return "{}".to_string();
    }
    let mut out = String::from("{ ");
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(&entry.key.name);
        out.push_str(": ");
        write_expr(&mut out, &entry.value, indent);
    }
    out.push_str(" }");
    out
}

/// The literal as the user wrote it (`1_000`, `256MiB`, `1e-3`); a number built without
/// its text (by a program rather than the parser) is written from its value.
fn number_text(n: &Number) -> String {
    if !n.text.is_empty() {
        return n.text.clone();
    }
    match n.value {
        NumberValue::Int(i) => i.to_string(),
        NumberValue::Float(f) if f.is_finite() => {
            // `{:?}` always keeps a `.` or an exponent, so the literal stays a float.
            format!("{f:?}")
        }
        // Not expressible as a literal; write something that reads as the same idea.
        NumberValue::Float(f) => f.to_string(),
    }
}

/// An object key: bare when the user wrote it bare and it is a word (any word, reserved or
/// not, as after a `.`), else quoted.
fn object_key(key: &ObjectKey) -> String {
    if !key.quoted && is_word(&key.name) {
        key.name.clone()
    } else {
        quoted(&key.name)
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`.
fn is_word(word: &str) -> bool {
    let mut chars = word.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn write_interpolation(out: &mut String, e: &Expr, indent: usize) {
    let inner = expr(e, indent);
    // `{{`/`}}` are literal braces, so an expression that starts or ends with a brace (an
    // object literal) is kept apart from the interpolation's own braces.
    if inner.starts_with('{') || inner.ends_with('}') {
        out.push_str("{ ");
        out.push_str(&inner);
        out.push_str(" }");
    } else {
        out.push('{');
        out.push_str(&inner);
        out.push('}');
    }
}

fn write_str_lit(out: &mut String, s: &StrLit, indent: usize) {
    if s.triple {
        let mut content = String::new();
        for (i, part) in s.parts.iter().enumerate() {
            match part {
                StrPart::Text(text) => push_triple_text(&mut content, text, i + 1 == s.parts.len()),
                StrPart::Interp(e) => write_interpolation(&mut content, e, indent + 1),
            }
        }
        if let Some(written) = triple_layout(&content, indent, QuoteEnd::Escaped) {
            out.push_str(&written);
            return;
        }
    }
    out.push('"');
    for part in &s.parts {
        match part {
            StrPart::Text(text) => push_escaped_text(out, text),
            StrPart::Interp(e) => write_interpolation(out, e, indent),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{BinaryOp, Ident, Span};

    fn e(kind: ExprKind) -> Expr {
        Expr {
            kind,
            span: Span::default(),
        }
    }

    fn var(name: &str) -> Expr {
        e(ExprKind::Var(Ident {
            name: name.to_string(),
            span: Span::default(),
        }))
    }

    fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        e(ExprKind::Binary(op, Box::new(l), Box::new(r)))
    }

    #[test]
    fn precedence_adds_the_needed_parentheses_only() {
        let sum = bin(BinaryOp::Add, var("a"), var("b"));
        assert_eq!(
            expr(&bin(BinaryOp::Mul, sum.clone(), var("c")), 0),
            "(a + b) * c"
        );
        assert_eq!(
            expr(&bin(BinaryOp::Add, var("c"), sum.clone()), 0),
            "c + (a + b)"
        );
        assert_eq!(
            expr(&bin(BinaryOp::Add, sum.clone(), var("c")), 0),
            "a + b + c"
        );
        let product = bin(BinaryOp::Mul, var("a"), var("b"));
        assert_eq!(expr(&bin(BinaryOp::Sub, var("c"), product), 0), "c - a * b");
        let less = bin(BinaryOp::Lt, var("a"), var("b"));
        assert_eq!(expr(&bin(BinaryOp::Eq, less, var("c")), 0), "(a < b) == c");
        let not_a = e(ExprKind::Unary(UnaryOp::Not, Box::new(var("a"))));
        assert_eq!(
            expr(&bin(BinaryOp::And, not_a.clone(), var("b")), 0),
            "not a and b"
        );
        assert_eq!(expr(&bin(BinaryOp::Eq, not_a, var("b")), 0), "(not a) == b");
        let neg_sum = e(ExprKind::Unary(UnaryOp::Neg, Box::new(sum.clone())));
        assert_eq!(expr(&neg_sum, 0), "-(a + b)");
        let field = e(ExprKind::Field(
            Box::new(sum),
            Ident {
                name: "k".into(),
                span: Span::default(),
            },
        ));
        assert_eq!(expr(&field, 0), "(a + b).k");
    }

    #[test]
    fn strings_escape_and_interpolate() {
        let s = e(ExprKind::Str(StrLit {
            parts: vec![
                StrPart::Text("a \"{b}\"\n".into()),
                StrPart::Interp(var("x")),
            ],
            triple: false,
        }));
        assert_eq!(expr(&s, 0), r#""a \"{{b}}\"\n{x}""#);
    }

    #[test]
    fn words() {
        assert!(is_word("_x1"));
        assert!(is_word("group"));
        assert!(!is_word("1x"));
        assert!(!is_word("a-b"));
        assert!(!is_word(""));
    }
}
