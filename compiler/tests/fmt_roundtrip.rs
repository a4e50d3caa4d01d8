//! Round-trip properties of the formatter over random syntax trees.
//!
//! The strategies below build trees close to what the parser builds: identifiers that are not
//! reserved, directives in the canonical order, string parts merged as the parser merges them.
//! Operators nest freely, with no regard for precedence (a product of sums), so the formatter
//! must add parentheses; the parser keeps them as `Paren` nodes. For each tree `t`:
//!
//! - `parse(format(t))` is `t` again, positions aside, with a `Paren` wherever the precedence
//!   of §5 needs one (added here by a visitor, independently of the formatter);
//! - `format(parse(format(t))) == format(t)`;
//! - comments added to the formatted text all survive a second formatting, which is stable.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;

use weft_compiler::ast::*;
use weft_compiler::ast_visit::{
    clear_spans, walk_body, walk_directive, walk_expr, walk_stmt, VisitMut,
};
use weft_compiler::diagnostic::{render_plain, SourceFile};
use weft_compiler::fmt::format_module;
use weft_compiler::parser::parse_module;

// ---------------------------------------------------------------------------------------------
// Names and literals
// ---------------------------------------------------------------------------------------------

/// The reserved words of §2, as the parser knows them.
const RESERVED: &[&str] = &weft_compiler::parser::RESERVED_WORDS;

/// Words that are keywords in some places (directives, bodies, modifiers, types, `std`): not
/// reserved, but a generated name never needs to be one of them.
const CONTEXTUAL: &[&str] = &[
    "std",
    "prefix",
    "depth",
    "constraint",
    "timeout",
    "priority",
    "on_failure",
    "retry",
    "distributed",
    "replicated",
    "workdir",
    "env",
    "fail_on_exit",
    "raises_on_exit",
    "container",
    "multinode",
    "binary",
    "mpi",
    "ompss",
    "shell",
    "script",
    "args",
    "stdin",
    "stdout",
    "stderr",
    "int",
    "float",
    "bool",
    "str",
    "json",
    "file",
    "dir",
    "cancel_successors",
    "fail",
    "ignore",
];

fn sp() -> Span {
    Span::default()
}

fn mk_ident(name: String) -> Ident {
    Ident { name, span: sp() }
}

fn name() -> BoxedStrategy<String> {
    "[a-z_][a-z0-9_]{0,6}"
        .prop_filter("a reserved or contextual word", |s| {
            !RESERVED.contains(&s.as_str()) && !CONTEXTUAL.contains(&s.as_str())
        })
        .boxed()
}

fn ident() -> BoxedStrategy<Ident> {
    name().prop_map(mk_ident).boxed()
}

/// After a `.` (and as a bare object key) any word goes, reserved ones included.
fn field_word() -> BoxedStrategy<String> {
    prop_oneof![
        3 => name(),
        1 => select(RESERVED).prop_map(str::to_string),
    ]
    .boxed()
}

fn ex(kind: ExprKind) -> Expr {
    Expr { kind, span: sp() }
}

/// Literals as written, with the value the language gives them.
const NUMBERS: &[(&str, NumberValue)] = &[
    ("0", NumberValue::Int(0)),
    ("7", NumberValue::Int(7)),
    ("42", NumberValue::Int(42)),
    ("1_000_000", NumberValue::Int(1_000_000)),
    ("3.5", NumberValue::Float(3.5)),
    ("0.25", NumberValue::Float(0.25)),
    ("1e3", NumberValue::Float(1000.0)),
    ("2.5e-2", NumberValue::Float(0.025)),
    ("1B", NumberValue::Int(1)),
    ("100KB", NumberValue::Int(100_000)),
    ("5MB", NumberValue::Int(5_000_000)),
    ("2GB", NumberValue::Int(2_000_000_000)),
    ("512KiB", NumberValue::Int(524_288)),
    ("256MiB", NumberValue::Int(268_435_456)),
    ("8GiB", NumberValue::Int(8_589_934_592)),
    ("1TiB", NumberValue::Int(1_099_511_627_776)),
    ("500ms", NumberValue::Float(0.5)),
    ("30s", NumberValue::Float(30.0)),
    ("10m", NumberValue::Float(600.0)),
    ("2h", NumberValue::Float(7200.0)),
    ("1.5h", NumberValue::Float(5400.0)),
    ("1d", NumberValue::Float(86400.0)),
];

fn number() -> BoxedStrategy<Expr> {
    select(NUMBERS)
        .prop_map(|(text, value)| {
            ex(ExprKind::Number(Number {
                value,
                text: text.to_string(),
            }))
        })
        .boxed()
}

/// Characters that need care in strings: escapes, braces, quotes, blanks, non-ASCII.
const TEXT_CHARS: &[char] = &[
    'a', 'b', 'z', 'Q', '0', '9', ' ', ' ', '_', '-', '.', '/', '\'', '$', '%', '#', 'é', '→', '"',
    '\\', '{', '}', '\t',
];

fn chars_from(alphabet: &'static [char], len: std::ops::Range<usize>) -> BoxedStrategy<String> {
    vec(select(alphabet), len)
        .prop_map(|chars| chars.into_iter().collect())
        .boxed()
}

/// A line of text: no line break.
fn text(len: std::ops::Range<usize>) -> BoxedStrategy<String> {
    chars_from(TEXT_CHARS, len)
}

/// Merges adjacent text parts and drops empty ones, as the parser does.
fn normalize_parts(parts: Vec<StrPart>) -> Vec<StrPart> {
    let mut out: Vec<StrPart> = Vec::new();
    for part in parts {
        match part {
            StrPart::Text(t) if t.is_empty() => {}
            StrPart::Text(t) => {
                if let Some(StrPart::Text(previous)) = out.last_mut() {
                    previous.push_str(&t);
                } else {
                    out.push(StrPart::Text(t));
                }
            }
            interp => out.push(interp),
        }
    }
    out
}

fn str_expr(parts: Vec<StrPart>, triple: bool) -> Expr {
    ex(ExprKind::Str(StrLit {
        parts: normalize_parts(parts),
        triple,
    }))
}

/// A plain string without interpolation.
fn plain_string() -> BoxedStrategy<Expr> {
    text(0..8)
        .prop_map(|t| str_expr(vec![StrPart::Text(t)], false))
        .boxed()
}

/// Small expressions for interpolations (nested strings stay on one line).
fn interp_expr() -> BoxedStrategy<Expr> {
    prop_oneof![
        ident().prop_map(|i| ex(ExprKind::Var(i))),
        (ident(), field_word()).prop_map(|(base, field)| ex(ExprKind::Field(
            Box::new(ex(ExprKind::Var(base))),
            mk_ident(field)
        ))),
        (ident(), ident()).prop_map(|(f, x)| ex(ExprKind::Call(
            Box::new(ex(ExprKind::Var(f))),
            vec![Arg {
                name: None,
                value: ex(ExprKind::Var(x)),
            }]
        ))),
        (ident(), number()).prop_map(|(x, n)| ex(ExprKind::Binary(
            BinaryOp::Add,
            Box::new(ex(ExprKind::Var(x))),
            Box::new(n)
        ))),
        plain_string(),
    ]
    .boxed()
}

fn str_part() -> BoxedStrategy<StrPart> {
    prop_oneof![
        3 => prop_oneof![text(1..6), Just("\n".to_string())].prop_map(StrPart::Text),
        1 => interp_expr().prop_map(StrPart::Interp),
    ]
    .boxed()
}

/// A `"…"` string with escapes and interpolations.
fn quoted_string() -> BoxedStrategy<Expr> {
    vec(str_part(), 0..5)
        .prop_map(|parts| str_expr(parts, false))
        .boxed()
}

/// A `"""…"""` string the dedent gives back exactly: each non-empty line starts with
/// something other than a space (an escaped tab is not indentation), and a value that does
/// not end with a line break ends with a non-empty line.
fn triple_string() -> BoxedStrategy<Expr> {
    let first_piece = prop_oneof![
        3 => chars_from(TEXT_CHARS, 1..2)
            .prop_filter("starts a line with a space", |t| !t.starts_with(' '))
            .prop_map(StrPart::Text),
        1 => interp_expr().prop_map(StrPart::Interp),
    ];
    let rest_piece = prop_oneof![
        3 => text(1..6).prop_map(StrPart::Text),
        1 => interp_expr().prop_map(StrPart::Interp),
    ];
    let line = option::weighted(0.8, (first_piece, vec(rest_piece, 0..3)));
    (vec(line, 1..4), any::<bool>())
        .prop_filter_map("a last line without text", |(lines, final_newline)| {
            if !final_newline && lines.last().is_some_and(Option::is_none) {
                return None;
            }
            let mut parts = Vec::new();
            for (i, line) in lines.into_iter().enumerate() {
                if i > 0 {
                    parts.push(StrPart::Text("\n".to_string()));
                }
                if let Some((first, rest)) = line {
                    parts.push(first);
                    parts.extend(rest);
                }
            }
            if final_newline {
                parts.push(StrPart::Text("\n".to_string()));
            }
            Some(str_expr(parts, true))
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Expressions, and the parentheses their precedence needs
// ---------------------------------------------------------------------------------------------

/// Binding strengths of §5 (higher binds tighter).
fn precedence(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Binary(op, ..) => match op {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
        },
        ExprKind::Unary(UnaryOp::Not, _) => 3,
        ExprKind::Unary(UnaryOp::Neg, _) => 7,
        ExprKind::Field(..) | ExprKind::Index(..) | ExprKind::Call(..) => 8,
        _ => 9,
    }
}

/// `e`, in parentheses when it binds looser than `at_least`.
fn operand(e: Expr, at_least: u8) -> Expr {
    if precedence(&e) < at_least {
        ex(ExprKind::Paren(Box::new(e)))
    } else {
        e
    }
}

/// Adds the parentheses the text of a tree needs to read back as that tree: the tree the
/// parser builds from the formatter's output.
struct NeededParens;

impl VisitMut for NeededParens {
    fn visit_expr(&mut self, e: &mut Expr) {
        walk_expr(self, e);
        let own = precedence(e);
        let wrap = |child: &mut Box<Expr>, at_least: u8| {
            let inner = std::mem::replace(child.as_mut(), ex(ExprKind::Null));
            **child = operand(inner, at_least);
        };
        match &mut e.kind {
            ExprKind::Binary(_, left, right) => {
                // Left-associative; comparisons do not chain.
                let left_at_least = if own == 4 { own + 1 } else { own };
                wrap(left, left_at_least);
                wrap(right, own + 1);
            }
            ExprKind::Unary(_, operand) => wrap(operand, own),
            ExprKind::Field(base, _) | ExprKind::Index(base, _) | ExprKind::Call(base, _) => {
                wrap(base, 8)
            }
            _ => {}
        }
    }
}

const BINARY_OPS: &[BinaryOp] = &[
    BinaryOp::Or,
    BinaryOp::And,
    BinaryOp::Eq,
    BinaryOp::Ne,
    BinaryOp::Lt,
    BinaryOp::Le,
    BinaryOp::Gt,
    BinaryOp::Ge,
    BinaryOp::Add,
    BinaryOp::Sub,
    BinaryOp::Mul,
    BinaryOp::Div,
    BinaryOp::Rem,
];

fn leaf() -> BoxedStrategy<Expr> {
    prop_oneof![
        1 => Just(ex(ExprKind::Null)),
        1 => any::<bool>().prop_map(|b| ex(ExprKind::Bool(b))),
        3 => number(),
        3 => ident().prop_map(|i| ex(ExprKind::Var(i))),
        2 => quoted_string(),
        1 => triple_string(),
    ]
    .boxed()
}

/// A callee: a name, or a name in a module (`util.shout`).
fn callee() -> BoxedStrategy<Expr> {
    prop_oneof![
        3 => ident().prop_map(|i| ex(ExprKind::Var(i))),
        1 => (ident(), ident()).prop_map(|(module, f)| ex(ExprKind::Field(
            Box::new(ex(ExprKind::Var(module))),
            f
        ))),
    ]
    .boxed()
}

fn expr() -> BoxedStrategy<Expr> {
    leaf()
        .prop_recursive(3, 24, 4, |inner| {
            let object_key = prop_oneof![
                text(0..6).prop_map(|name| ObjectKey {
                    name,
                    quoted: true,
                    span: sp()
                }),
                field_word().prop_map(|name| ObjectKey {
                    name,
                    quoted: false,
                    span: sp()
                }),
            ];
            let args = (
                vec(inner.clone(), 0..3),
                vec((ident(), inner.clone()), 0..2),
            )
                .prop_map(|(positional, named)| {
                    positional
                        .into_iter()
                        .map(|value| Arg { name: None, value })
                        .chain(named.into_iter().map(|(name, value)| Arg {
                            name: Some(name),
                            value,
                        }))
                        .collect::<Vec<_>>()
                });
            prop_oneof![
                vec(inner.clone(), 0..4).prop_map(|items| ex(ExprKind::List(items))),
                vec((object_key, inner.clone()), 0..3)
                    .prop_map(|entries| ex(ExprKind::Object(entries))),
                vec(inner.clone(), 2..4).prop_map(|items| ex(ExprKind::Tuple(items))),
                inner.clone().prop_map(|e| ex(ExprKind::Paren(Box::new(e)))),
                (inner.clone(), field_word())
                    .prop_map(|(base, field)| ex(ExprKind::Field(Box::new(base), mk_ident(field)))),
                (inner.clone(), inner.clone())
                    .prop_map(|(base, index)| ex(ExprKind::Index(Box::new(base), Box::new(index)))),
                (callee(), args).prop_map(|(f, args)| ex(ExprKind::Call(Box::new(f), args))),
                inner
                    .clone()
                    .prop_map(|e| ex(ExprKind::Unary(UnaryOp::Neg, Box::new(e)))),
                inner
                    .clone()
                    .prop_map(|e| ex(ExprKind::Unary(UnaryOp::Not, Box::new(e)))),
                (select(BINARY_OPS), inner.clone(), inner).prop_map(|(op, left, right)| ex(
                    ExprKind::Binary(op, Box::new(left), Box::new(right))
                )),
            ]
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------------

fn pattern() -> BoxedStrategy<Pattern> {
    prop_oneof![
        3 => ident().prop_map(Pattern::Name),
        1 => vec(ident(), 2..4).prop_map(|names| Pattern::Tuple(names, sp())),
    ]
    .boxed()
}

fn assign_target() -> BoxedStrategy<Expr> {
    let var = || ident().prop_map(|i| ex(ExprKind::Var(i)));
    prop_oneof![
        var(),
        (var(), expr())
            .prop_map(|(base, index)| ex(ExprKind::Index(Box::new(base), Box::new(index)))),
        (var(), field_word())
            .prop_map(|(base, field)| ex(ExprKind::Field(Box::new(base), mk_ident(field)))),
    ]
    .boxed()
}

fn st(kind: StmtKind) -> Stmt {
    Stmt { kind, span: sp() }
}

fn block_of(stmts: Vec<Stmt>) -> Block {
    Block { stmts, span: sp() }
}

fn simple_stmt() -> BoxedStrategy<Stmt> {
    prop_oneof![
        3 => (pattern(), expr()).prop_map(|(pattern, value)| st(StmtKind::Let { pattern, value })),
        2 => (assign_target(), any::<bool>(), expr()).prop_map(|(target, add, value)| {
            let op = if add { AssignOp::Add } else { AssignOp::Set };
            st(StmtKind::Assign { target, op, value })
        }),
        1 => option::of(expr()).prop_map(|value| st(StmtKind::Return(value))),
        1 => option::of(expr()).prop_map(|name| st(StmtKind::Barrier(name))),
        1 => expr().prop_map(|value| st(StmtKind::Raise(value))),
        3 => expr().prop_map(|value| st(StmtKind::Expr(value))),
    ]
    .boxed()
}

fn block(depth: u32) -> BoxedStrategy<Block> {
    vec(stmt(depth), 0..4).prop_map(block_of).boxed()
}

fn stmt(depth: u32) -> BoxedStrategy<Stmt> {
    if depth == 0 {
        return simple_stmt();
    }
    let inner = || block(depth - 1);
    prop_oneof![
        4 => simple_stmt(),
        1 => (vec((expr(), inner()), 1..3), option::of(inner())).prop_map(|(branches, otherwise)| {
            let branches = branches
                .into_iter()
                .map(|(cond, body)| IfBranch { cond, body })
                .collect();
            st(StmtKind::If { branches, otherwise })
        }),
        1 => (pattern(), expr(), inner())
            .prop_map(|(pattern, iter, body)| st(StmtKind::For { pattern, iter, body })),
        1 => (expr(), inner()).prop_map(|(cond, body)| st(StmtKind::While { cond, body })),
        1 => (expr(), any::<bool>(), inner())
            .prop_map(|(name, nowait, body)| st(StmtKind::Group { name, nowait, body })),
        1 => (inner(), ident(), inner())
            .prop_map(|(body, var, handler)| st(StmtKind::Try { body, var, handler })),
    ]
    .boxed()
}

// ---------------------------------------------------------------------------------------------
// Items
// ---------------------------------------------------------------------------------------------

fn doc() -> BoxedStrategy<Option<String>> {
    option::weighted(
        0.3,
        vec("([a-z0-9`*.,()/ ]{0,12}[a-z.)])?", 1..3).prop_map(|lines| lines.join("\n")),
    )
    .boxed()
}

fn scalar_type() -> BoxedStrategy<Type> {
    select(
        &[
            Type::Int,
            Type::Float,
            Type::Bool,
            Type::Str,
            Type::Json,
            Type::File,
            Type::Dir,
        ][..],
    )
    .boxed()
}

fn ty() -> BoxedStrategy<Type> {
    (scalar_type(), 0..3usize)
        .prop_map(|(mut t, depth)| {
            for _ in 0..depth {
                t = Type::List(Box::new(t));
            }
            t
        })
        .boxed()
}

fn type_expr(t: Type) -> TypeExpr {
    TypeExpr { ty: t, span: sp() }
}

const DIRECTIONS: &[Direction] = &[
    Direction::In,
    Direction::Out,
    Direction::InOut,
    Direction::Concurrent,
    Direction::Commutative,
];

fn param() -> BoxedStrategy<Param> {
    (
        doc(),
        ident(),
        ty(),
        select(DIRECTIONS),
        any::<bool>(),
        option::weighted(0.3, text(0..6)),
        option::weighted(0.2, 0u32..5),
        option::weighted(0.3, expr()),
    )
        .prop_map(
            |(doc, name, ty, direction, stream, prefix, depth, default)| {
                // Directions only where the language allows them, streams on files with a
                // direction that fits.
                let direction = if ty.allows_direction() {
                    direction
                } else {
                    Direction::In
                };
                let mut modifiers = Vec::new();
                if stream && ty == Type::File {
                    let stream = if direction.writes() {
                        Stream::Stdout
                    } else {
                        Stream::Stdin
                    };
                    modifiers.push(Modifier::Stream(stream, sp()));
                }
                if let Some(prefix) = prefix {
                    modifiers.push(Modifier::Prefix(prefix, sp()));
                }
                if let Some(depth) = depth.filter(|_| matches!(ty, Type::List(_))) {
                    modifiers.push(Modifier::Depth(depth, sp()));
                }
                Param {
                    doc,
                    name,
                    direction,
                    direction_span: (direction != Direction::In).then(sp),
                    ty: type_expr(ty),
                    modifiers,
                    default,
                    span: sp(),
                }
            },
        )
        .boxed()
}

fn entries() -> BoxedStrategy<Vec<Entry>> {
    vec(
        (ident(), expr()).prop_map(|(key, value)| Entry { key, value }),
        0..3,
    )
    .boxed()
}

fn directive() -> BoxedStrategy<Directive> {
    let policy = prop_oneof![
        expr().prop_map(FailurePolicy::Retry),
        Just(FailurePolicy::CancelSuccessors),
        Just(FailurePolicy::Fail),
        Just(FailurePolicy::Ignore),
    ];
    prop_oneof![
        entries().prop_map(DirectiveKind::Constraint),
        expr().prop_map(DirectiveKind::Timeout),
        Just(DirectiveKind::Priority),
        policy.prop_map(DirectiveKind::OnFailure),
        Just(DirectiveKind::Distributed),
        Just(DirectiveKind::Replicated),
        expr().prop_map(DirectiveKind::Workdir),
        entries().prop_map(DirectiveKind::Env),
        expr().prop_map(DirectiveKind::FailOnExit),
        vec(expr(), 0..3).prop_map(DirectiveKind::RaisesOnExit),
        expr().prop_map(DirectiveKind::Container),
        expr().prop_map(DirectiveKind::Multinode),
    ]
    .prop_map(|kind| Directive { kind, span: sp() })
    .boxed()
}

/// Directives as the formatter writes them: in the order of `DirectiveKind`.
fn directives() -> BoxedStrategy<Vec<Directive>> {
    vec(directive(), 0..4)
        .prop_map(|mut directives| {
            let keywords = [
                "constraint",
                "timeout",
                "priority",
                "on_failure",
                "distributed",
                "replicated",
                "workdir",
                "env",
                "fail_on_exit",
                "raises_on_exit",
                "container",
                "multinode",
            ];
            directives.sort_by_key(|d| keywords.iter().position(|k| *k == d.kind.keyword()));
            directives
        })
        .boxed()
}

/// Characters of shell and script code.
const CODE_CHARS: &[char] = &[
    'e', 'c', 'h', 'o', 'x', ' ', ' ', '\'', '"', '\\', '{', '}', '$', '(', ')', '|', '>', ';',
    '%', '\t', 'é',
];

/// A line of code that starts with something other than a blank and is not only blanks.
fn code_line() -> BoxedStrategy<String> {
    (select(&CODE_CHARS[..4]), chars_from(CODE_CHARS, 0..10))
        .prop_map(|(first, rest)| format!("{first}{rest}"))
        .prop_filter("holds three quotes", |line| !line.contains("\"\"\""))
        .boxed()
}

fn raw(value: String, triple: bool) -> RawString {
    RawString {
        value,
        triple,
        span: sp(),
    }
}

fn raw_string() -> BoxedStrategy<RawString> {
    prop_oneof![
        // `"…"`: one line, anything in it.
        2 => chars_from(CODE_CHARS, 0..16).prop_map(|v| raw(v, false)),
        // `"""…"""` on one line: anything, including what only a `"…"` string can hold.
        1 => chars_from(CODE_CHARS, 0..12).prop_map(|v| raw(v, true)),
        // `"""…"""` over several lines, indented code and blank lines included; every value
        // the dedent can give.
        3 => (
            vec((0..3usize, option::weighted(0.85, code_line())), 1..5),
            any::<bool>(),
        )
            .prop_filter_map("no line at the margin, or an empty last line", |(lines, final_newline)| {
                let at_margin = lines.iter().any(|(depth, line)| *depth == 0 && line.is_some());
                let last_ok = final_newline
                    || lines
                        .last()
                        .and_then(|(_, line)| line.as_ref())
                        .is_some_and(|line| !line.ends_with('"'));
                if !at_margin || !last_ok {
                    return None;
                }
                let mut value = lines
                    .iter()
                    .map(|(depth, line)| match line {
                        Some(line) => format!("{}{line}", "  ".repeat(*depth)),
                        None => String::new(),
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                if final_newline {
                    value.push('\n');
                }
                Some(raw(value, true))
            }),
    ]
    .boxed()
}

fn program() -> BoxedStrategy<Expr> {
    prop_oneof![3 => plain_string(), 1 => expr()].boxed()
}

fn body() -> BoxedStrategy<Body> {
    let args = || option::of(vec(expr(), 0..3));
    prop_oneof![
        (program(), args()).prop_map(|(program, args)| Body::Binary {
            program,
            args,
            span: sp()
        }),
        (program(), entries(), args()).prop_map(|(program, options, args)| Body::Mpi {
            program,
            options,
            args,
            span: sp()
        }),
        (program(), args()).prop_map(|(program, args)| Body::Ompss {
            program,
            args,
            span: sp()
        }),
        raw_string().prop_map(|template| Body::Shell {
            template,
            span: sp()
        }),
        (program(), raw_string()).prop_map(|(interpreter, code)| Body::Script {
            interpreter,
            code,
            span: sp()
        }),
        (program(), entries()).prop_map(|(file, args)| Body::Workflow {
            file,
            args,
            span: sp()
        }),
    ]
    .boxed()
}

fn task_body() -> BoxedStrategy<TaskBody> {
    let one_impl = (ident(), directives(), body()).prop_map(|(name, directives, body)| Impl {
        name,
        directives,
        body,
        span: sp(),
    });
    prop_oneof![
        3 => body().prop_map(TaskBody::Single),
        1 => vec(one_impl, 1..3).prop_map(TaskBody::Impls),
    ]
    .boxed()
}

fn return_type() -> BoxedStrategy<Option<ReturnType>> {
    option::of(prop_oneof![
        ty().prop_map(|t| ReturnType::Single(type_expr(t))),
        vec(ty(), 2..4)
            .prop_map(|types| ReturnType::Tuple(types.into_iter().map(type_expr).collect(), sp())),
    ])
    .boxed()
}

fn item() -> BoxedStrategy<Item> {
    let import = prop_oneof![
        (vec(ident(), 1..3), option::of(ident())).prop_map(|(path, alias)| Import {
            target: ImportTarget::Std {
                std_span: sp(),
                path,
            },
            alias,
            span: sp(),
        }),
        ("[a-z]{1,4}(/[a-z]{1,4})?", name(), option::of(ident())).prop_map(|(dir, stem, alias)| {
            Import {
                target: ImportTarget::File {
                    path: format!("{dir}/{stem}.wf"),
                    path_span: sp(),
                    stem: mk_ident(stem),
                },
                alias,
                span: sp(),
            }
        }),
    ];
    prop_oneof![
        1 => import.prop_map(Item::Import),
        3 => (doc(), ident(), vec(param(), 0..4), return_type(), directives(), task_body()).prop_map(
            |(doc, name, params, returns, directives, body)| Item::Task(Task {
                doc,
                name,
                params,
                returns,
                directives,
                body,
                span: sp(),
            })
        ),
        2 => (doc(), ident(), vec(param(), 0..3), option::of(ty()), block(2)).prop_map(
            |(doc, name, params, returns, body)| Item::Fn(FnDef {
                doc,
                name,
                params,
                returns: returns.map(type_expr),
                body,
                span: sp(),
            })
        ),
        2 => (doc(), ident(), vec(param(), 0..3), block(2)).prop_map(
            |(doc, name, params, body)| Item::Workflow(Workflow {
                doc,
                name,
                params,
                body,
                span: sp(),
            })
        ),
    ]
    .boxed()
}

fn module() -> BoxedStrategy<Module> {
    vec(item(), 1..5)
        .prop_map(|items| Module {
            items,
            comments: Vec::new(),
        })
        .boxed()
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn parse(source: &str) -> Result<Module, String> {
    let file = SourceFile::new("generated.wf", source);
    parse_module(&file).map_err(|diagnostics| {
        let rendered: Vec<String> = diagnostics.iter().map(render_plain).collect();
        format!("{}\n--- source ---\n{source}", rendered.join("\n"))
    })
}

/// A one-line value a `"""…"""` raw string can hold (else the formatter must write `"…"`):
/// the dedent would strip leading blanks, a final `"` would merge with the closing quotes,
/// and there is no way to write `"""` inside.
fn one_line_fits_triple(value: &str) -> bool {
    !value.starts_with([' ', '\t']) && !value.ends_with('"') && !value.contains("\"\"\"")
}

/// What the tree must read back as: positions cleared, the parentheses the precedence needs
/// added, and one-line triple-quoted raw strings that cannot stay triple-quoted turned into
/// `"…"` ones.
fn expected(module: &Module) -> Module {
    struct Expect;
    impl VisitMut for Expect {
        fn visit_raw_string(&mut self, raw: &mut RawString) {
            if raw.triple && !raw.value.contains('\n') && !one_line_fits_triple(&raw.value) {
                raw.triple = false;
            }
        }
    }
    let mut module = module.clone();
    Expect.visit_module(&mut module);
    NeededParens.visit_module(&mut module);
    clear_spans(&mut module);
    module
}

fn without_positions(mut module: Module) -> Module {
    clear_spans(&mut module);
    module
}

/// Places in formatted text where a comment can go: before a statement, directive or body
/// (own line), and at the end of its line.
#[derive(Default)]
struct Anchors {
    spans: Vec<Span>,
}

impl VisitMut for Anchors {
    fn visit_stmt(&mut self, stmt: &mut Stmt) {
        self.spans.push(stmt.span);
        walk_stmt(self, stmt);
    }

    fn visit_directive(&mut self, directive: &mut Directive) {
        self.spans.push(directive.span);
        walk_directive(self, directive);
    }

    fn visit_body(&mut self, body: &mut Body) {
        self.spans.push(body.span());
        walk_body(self, body);
    }
}

/// Inserts comments into formatted text, each marked `MARKn:` (which no generated name or
/// string holds), and returns the text and the marks.
fn with_comments(text: &str, module: &Module, choices: &[u8]) -> (String, Vec<String>) {
    let mut anchors = Anchors::default();
    anchors.visit_module(&mut module.clone());
    // (position, text) insertions, applied from the end.
    let mut insertions: Vec<(usize, String)> = Vec::new();
    let mut marks = Vec::new();
    for (i, span) in anchors.spans.iter().enumerate() {
        let choice = choices.get(i % choices.len().max(1)).copied().unwrap_or(0);
        let line_start = text[..span.start].rfind('\n').map_or(0, |p| p + 1);
        let indentation = &text[line_start..span.start];
        if choice & 1 == 1 && indentation.chars().all(|c| c == ' ') {
            let mark = format!("MARK{}:", marks.len());
            insertions.push((line_start, format!("{indentation}// {mark} before\n")));
            marks.push(mark);
        }
        let line_end = text[span.end..]
            .find('\n')
            .map_or(text.len(), |p| span.end + p);
        if choice & 2 == 2 && text[span.end..line_end].trim().is_empty() {
            let mark = format!("MARK{}:", marks.len());
            insertions.push((line_end, format!("  /* {mark} after */")));
            marks.push(mark);
        }
    }
    insertions.sort_by_key(|(position, _)| *position);
    let mut out = text.to_string();
    for (position, comment) in insertions.into_iter().rev() {
        out.insert_str(position, &comment);
    }
    (out, marks)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn formatted_trees_parse_back_and_format_stably(module in module()) {
        let formatted = format_module(&module, "");
        let parsed = parse(&formatted).map_err(TestCaseError::fail)?;
        prop_assert_eq!(without_positions(parsed.clone()), expected(&module), "\n{}", formatted);
        let again = format_module(&parsed, &formatted);
        prop_assert_eq!(&again, &formatted);
        prop_assert!(formatted.ends_with('\n') && !formatted.ends_with("\n\n"));
        prop_assert!(!formatted.lines().any(|l| l.starts_with('\t')), "\n{}", formatted);
    }

    #[test]
    fn comments_survive_and_stay_put(module in module(), choices in vec(0u8..4, 1..8)) {
        let formatted = format_module(&module, "");
        let parsed = parse(&formatted).map_err(TestCaseError::fail)?;
        let (commented, marks) = with_comments(&formatted, &parsed, &choices);
        let with = parse(&commented).map_err(TestCaseError::fail)?;
        prop_assert_eq!(with.comments.len(), marks.len(), "\n{}", commented);
        let once = format_module(&with, &commented);
        for mark in &marks {
            prop_assert_eq!(once.matches(mark.as_str()).count(), 1, "{} in\n{}", mark, once);
        }
        let reparsed = parse(&once).map_err(TestCaseError::fail)?;
        prop_assert_eq!(format_module(&reparsed, &once), once.clone());
        let mut code_only = without_positions(reparsed);
        code_only.comments.clear();
        let mut expected_code = without_positions(with);
        expected_code.comments.clear();
        prop_assert_eq!(code_only, expected_code, "\n{}", once);
    }

    /// Trees built by a program can carry any spans and comments: the formatter never
    /// panics and never drops a comment.
    #[test]
    fn arbitrary_positions_never_lose_comments(
        module in module(),
        source in "[a-z {}\n/é]{0,60}",
        comments in vec((0usize..80, 0usize..10, "[a-z]{1,5}"), 0..4),
    ) {
        let mut module = module;
        module.comments = comments
            .into_iter()
            .map(|(start, len, word)| Comment {
                text: format!("// {word}"),
                span: Span::new(start, start + len),
            })
            .collect();
        let formatted = format_module(&module, &source);
        for comment in &module.comments {
            prop_assert!(formatted.contains(&comment.text), "{} lost:\n{}", comment.text, formatted);
        }
    }
}
