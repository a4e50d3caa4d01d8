//! Declarations: duplicate definitions in a module, and parameter lists — directions, streams,
//! modifiers and default values (§4.1, §5).

use std::collections::HashMap;

use crate::ast::{Direction, Item, Modifier, Param, Span, Stream, TaskBody, Type};
use crate::diagnostic::{Code, Diagnostic};

use super::literals::{check_literal, how_to_write};
use super::ModuleCx;

pub(super) fn check(cx: &mut ModuleCx) {
    duplicate_items(cx);
    let module = cx.module;
    for item in &module.ast.items {
        match item {
            Item::Import(_) => {}
            Item::Task(task) => {
                check_params(cx, ParamOwner::Task, &task.params);
                if let TaskBody::Impls(impls) = &task.body {
                    let mut first_by_name: HashMap<&str, Span> = HashMap::new();
                    for imp in impls {
                        if let Some(first) = first_by_name.get(imp.name.name.as_str()) {
                            cx.push(duplicate(
                                cx,
                                imp.name.span,
                                *first,
                                format!(
                                    "task `{}` has two implementations named `{}`",
                                    task.name, imp.name
                                ),
                            ));
                        } else {
                            first_by_name.insert(&imp.name.name, imp.name.span);
                        }
                    }
                }
            }
            Item::Fn(f) => check_params(cx, ParamOwner::Fn, &f.params),
            Item::Workflow(w) => check_params(cx, ParamOwner::Workflow, &w.params),
        }
    }
}

/// A duplicate-definition error at `second`, pointing back at `first`.
pub(super) fn duplicate(
    cx: &ModuleCx,
    second: Span,
    first: Span,
    message: impl Into<String>,
) -> Diagnostic {
    Diagnostic::error(Code::Duplicate, cx.file, second, message)
        .with_label("defined again here")
        .with_related(first, "first defined here")
        .with_help("rename or remove one of them")
}

fn item_kind(item: &Item) -> &'static str {
    match item {
        Item::Import(_) => "import",
        Item::Task(_) => "task",
        Item::Fn(_) => "fn",
        Item::Workflow(_) => "workflow",
    }
}

/// Tasks, fns, workflows and import bindings share one namespace per module.
fn duplicate_items(cx: &mut ModuleCx) {
    let mut first_by_name: HashMap<&str, &Item> = HashMap::new();
    for item in &cx.module.ast.items {
        let name = item.defined_name();
        let Some(first) = first_by_name.get(name.name.as_str()) else {
            first_by_name.insert(&name.name, item);
            continue;
        };
        let message = match (item_kind(first), item_kind(item)) {
            ("import", "import") => format!("`{name}` is imported twice"),
            (a, b) if a == b => format!("{b} `{name}` is defined twice"),
            ("import", b) => format!("{b} `{name}` has the name of an import"),
            (a, b) => format!("{b} `{name}` has the name of a {a} defined before"),
        };
        let first_span = first.defined_name().span;
        cx.push(duplicate(cx, name.span, first_span, message));
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum ParamOwner {
    Task,
    Fn,
    Workflow,
}

impl ParamOwner {
    fn word(self) -> &'static str {
        match self {
            ParamOwner::Task => "task",
            ParamOwner::Fn => "fn",
            ParamOwner::Workflow => "workflow",
        }
    }
}

fn check_params(cx: &mut ModuleCx, owner: ParamOwner, params: &[Param]) {
    let mut first_by_name: HashMap<&str, Span> = HashMap::new();
    let mut first_by_stream: HashMap<Stream, Span> = HashMap::new();
    for param in params {
        if let Some(first) = first_by_name.get(param.name.name.as_str()) {
            let message = format!("parameter `{}` is declared twice", param.name);
            cx.push(duplicate(cx, param.name.span, *first, message));
        } else {
            first_by_name.insert(&param.name.name, param.name.span);
        }
        if owner == ParamOwner::Task {
            task_param_direction(cx, param);
            task_param_modifiers(cx, param, &mut first_by_stream);
        } else {
            value_param(cx, owner, param);
        }
        if let Some(default) = &param.default {
            if let Some(mismatch) = check_literal(&param.ty.ty, default) {
                cx.push(
                    Diagnostic::error(
                        Code::Type,
                        cx.file,
                        mismatch.span,
                        format!(
                            "the default of `{}` is {}, but its type is `{}`",
                            param.name,
                            mismatch.found_for(&param.ty.ty),
                            param.ty.ty
                        ),
                    )
                    .with_label(format!("expected {}", a_type(&mismatch.expected)))
                    .with_related(param.ty.span, "declared type")
                    .with_help(how_to_write(&mismatch.expected, mismatch.found)),
                );
            }
        }
    }
}

/// "a `file`", "an `int`", "a `[str]`".
pub(super) fn a_type(ty: &Type) -> String {
    let article = match ty {
        Type::Int => "an",
        _ => "a",
    };
    format!("{article} `{ty}`")
}

fn task_param_direction(cx: &mut ModuleCx, param: &Param) {
    if param.direction == Direction::In || param.ty.ty.allows_direction() {
        return;
    }
    let ty = &param.ty.ty;
    let keyword = param.direction.keyword();
    let help = match ty.innermost() {
        Type::Int | Type::Float | Type::Bool | Type::Str => format!(
            "directions apply to file, dir, json and collections of them; to give back {} \
             from a task, declare a return type: `-> {ty}`",
            a_type(ty)
        ),
        _ => "directions apply to file, dir, json and collections of them".to_string(),
    };
    cx.push(
        Diagnostic::error(
            Code::Direction,
            cx.file,
            param.direction_span.unwrap_or(param.span),
            format!(
                "`{keyword}` is not allowed on parameter `{}` of type `{ty}`",
                param.name
            ),
        )
        .with_label(format!("{} cannot be written by a task", a_type(ty)))
        .with_related(param.ty.span, "this type")
        .with_help(help),
    );
}

fn task_param_modifiers(
    cx: &mut ModuleCx,
    param: &Param,
    first_by_stream: &mut HashMap<Stream, Span>,
) {
    let mut stream_seen: Option<Span> = None;
    let mut prefix_seen: Option<Span> = None;
    let mut depth_seen: Option<Span> = None;
    for modifier in &param.modifiers {
        let span = modifier.span();
        match modifier {
            Modifier::Stream(stream, _) => {
                if let Some(first) = stream_seen {
                    cx.push(
                        Diagnostic::error(
                            Code::Direction,
                            cx.file,
                            span,
                            format!("parameter `{}` is mapped to two streams", param.name),
                        )
                        .with_label("second stream")
                        .with_related(first, "first stream")
                        .with_help("a parameter is at most one of stdin, stdout and stderr"),
                    );
                    continue;
                }
                stream_seen = Some(span);
                stream_modifier(cx, param, *stream, span);
                if let Some(first) = first_by_stream.get(stream) {
                    cx.push(duplicate(
                        cx,
                        span,
                        *first,
                        format!("two parameters are mapped to {}", stream.keyword()),
                    ));
                } else {
                    first_by_stream.insert(*stream, span);
                }
            }
            Modifier::Prefix(_, _) => {
                if let Some(first) = prefix_seen {
                    cx.push(duplicate(
                        cx,
                        span,
                        first,
                        format!("parameter `{}` has two prefixes", param.name),
                    ));
                    continue;
                }
                prefix_seen = Some(span);
                if param.ty.ty == Type::Json {
                    cx.push(
                        Diagnostic::error(
                            Code::Type,
                            cx.file,
                            span,
                            format!(
                                "`prefix` cannot apply to the json parameter `{}`",
                                param.name
                            ),
                        )
                        .with_label("not allowed on `json`")
                        .with_help(
                            "a prefix is put before each command-line argument built from a \
                             scalar or a collection; json values are not put on the command line",
                        ),
                    );
                }
            }
            Modifier::Depth(_, _) => {
                if let Some(first) = depth_seen {
                    cx.push(duplicate(
                        cx,
                        span,
                        first,
                        format!("parameter `{}` has two depths", param.name),
                    ));
                    continue;
                }
                depth_seen = Some(span);
                if !matches!(param.ty.ty, Type::List(_)) {
                    cx.push(
                        Diagnostic::error(
                            Code::Type,
                            cx.file,
                            span,
                            format!(
                                "`depth` applies to collections, but `{}` is {}",
                                param.name,
                                a_type(&param.ty.ty)
                            ),
                        )
                        .with_label("only for collections")
                        .with_related(param.ty.span, "not a collection")
                        .with_help("remove `depth`, or declare a collection such as `[file]`"),
                    );
                }
            }
        }
    }
}

fn stream_modifier(cx: &mut ModuleCx, param: &Param, stream: Stream, span: Span) {
    let name = &param.name;
    let keyword = stream.keyword();
    if param.ty.ty != Type::File {
        cx.push(
            Diagnostic::error(
                Code::Direction,
                cx.file,
                span,
                format!(
                    "`as {keyword}` needs a `file` parameter, but `{name}` is {}",
                    a_type(&param.ty.ty)
                ),
            )
            .with_label("only a file can be a stream")
            .with_related(param.ty.span, "not `file`"),
        );
        return;
    }
    let problem = match stream {
        Stream::Stdin if !param.direction.reads() => Some((
            "is written, not read",
            format!("remove `out`: `{name}: file as stdin`"),
        )),
        Stream::Stdout | Stream::Stderr if !param.direction.writes() => Some((
            "is only read",
            format!("declare it written: `{name}: out file as {keyword}`"),
        )),
        _ => None,
    };
    if let Some((what, help)) = problem {
        let needs = if stream == Stream::Stdin {
            "a parameter the task reads"
        } else {
            "a parameter the task writes (`out` or `inout`)"
        };
        cx.push(
            Diagnostic::error(
                Code::Direction,
                cx.file,
                span,
                format!("`as {keyword}` needs {needs}, but `{name}` {what}"),
            )
            .with_label(format!("{keyword} of the task's process"))
            .with_related(
                param.direction_span.unwrap_or(param.ty.span),
                "its direction",
            )
            .with_help(help),
        );
    }
}

/// Parameters of fns and workflows take values: no directions, no command-line modifiers.
fn value_param(cx: &mut ModuleCx, owner: ParamOwner, param: &Param) {
    let word = owner.word();
    if let Some(span) = param.direction_span {
        let keyword = param.direction.keyword();
        cx.push(
            Diagnostic::error(
                Code::Direction,
                cx.file,
                span,
                format!("a {word} parameter cannot be `{keyword}`"),
            )
            .with_label("only task parameters have directions")
            .with_help(format!(
                "a {word} receives values; remove `{keyword}` (the tasks it calls say what \
                 they write)"
            )),
        );
    }
    for modifier in &param.modifiers {
        let (code, what) = match modifier {
            Modifier::Stream(stream, _) => (Code::Direction, format!("as {}", stream.keyword())),
            Modifier::Prefix(..) => (Code::Type, "prefix".to_string()),
            Modifier::Depth(..) => (Code::Type, "depth".to_string()),
        };
        cx.push(
            Diagnostic::error(
                code,
                cx.file,
                modifier.span(),
                format!("a {word} parameter cannot have `{what}`"),
            )
            .with_label("only for task parameters")
            .with_help(format!(
                "`{what}` says how a task's process receives the argument; remove it here"
            )),
        );
    }
}
