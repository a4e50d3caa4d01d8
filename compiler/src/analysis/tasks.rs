//! Tasks: directives (§4.2), constraint blocks (§8.2), bodies (§4.4). The names inside their
//! expressions are checked by `bodies`, which gets them from `task_expressions`.

use std::collections::HashMap;

use crate::ast::{
    Body, Directive, DirectiveKind, Entry, Expr, FailurePolicy, Item, Task, TaskBody,
};
use crate::diagnostic::{Code, Diagnostic};

use super::constraints;
use super::declarations::duplicate;
use super::literals::{literal, Literal};
use super::templates;
use super::ModuleCx;

pub(super) fn check(cx: &mut ModuleCx) {
    let module = cx.module;
    for item in &module.ast.items {
        if let Item::Task(task) = item {
            directives(cx, &task.directives);
            match &task.body {
                TaskBody::Single(body) => check_body(cx, task, body),
                TaskBody::Impls(impls) => {
                    for imp in impls {
                        directives(cx, &imp.directives);
                        check_body(cx, task, &imp.body);
                    }
                }
            }
        }
    }
}

/// Every expression of a task's directives and bodies, in source order.
pub(super) fn task_expressions(task: &Task) -> Vec<&Expr> {
    let mut out = Vec::new();
    directive_expressions(&task.directives, &mut out);
    match &task.body {
        TaskBody::Single(body) => body_expressions(body, &mut out),
        TaskBody::Impls(impls) => {
            for imp in impls {
                directive_expressions(&imp.directives, &mut out);
                body_expressions(&imp.body, &mut out);
            }
        }
    }
    out
}

fn directive_expressions<'a>(directives: &'a [Directive], out: &mut Vec<&'a Expr>) {
    for directive in directives {
        match &directive.kind {
            DirectiveKind::Constraint(entries) | DirectiveKind::Env(entries) => {
                out.extend(entries.iter().map(|e| &e.value));
            }
            DirectiveKind::Timeout(e)
            | DirectiveKind::Workdir(e)
            | DirectiveKind::FailOnExit(e)
            | DirectiveKind::Container(e)
            | DirectiveKind::Multinode(e)
            | DirectiveKind::OnFailure(FailurePolicy::Retry(e)) => out.push(e),
            DirectiveKind::RaisesOnExit(es) => out.extend(es),
            DirectiveKind::OnFailure(_)
            | DirectiveKind::Priority
            | DirectiveKind::Distributed
            | DirectiveKind::Replicated => {}
        }
    }
}

fn body_expressions<'a>(body: &'a Body, out: &mut Vec<&'a Expr>) {
    match body {
        Body::Binary { program, args, .. } | Body::Ompss { program, args, .. } => {
            out.push(program);
            out.extend(args.iter().flatten());
        }
        Body::Mpi {
            program,
            options,
            args,
            ..
        } => {
            out.push(program);
            out.extend(options.iter().map(|e| &e.value));
            out.extend(args.iter().flatten());
        }
        Body::Shell { .. } => {}
        Body::Script { interpreter, .. } => out.push(interpreter),
        Body::Workflow { file, args, .. } => {
            out.push(file);
            out.extend(args.iter().map(|e| &e.value));
        }
    }
}

fn directives(cx: &mut ModuleCx, directives: &[Directive]) {
    let mut first_by_keyword: HashMap<&str, &Directive> = HashMap::new();
    for directive in directives {
        let keyword = directive.kind.keyword();
        if let Some(first) = first_by_keyword.get(keyword) {
            let diagnostic = duplicate(
                cx,
                directive.span,
                first.span,
                format!("`{keyword}` is given twice"),
            )
            .with_help("write each directive once (a constraint block holds every key)");
            cx.push(diagnostic);
        } else {
            first_by_keyword.insert(keyword, directive);
        }
        match &directive.kind {
            DirectiveKind::Constraint(entries) => constraints::check_constraint(cx, entries),
            DirectiveKind::Env(entries) => duplicate_keys(cx, entries, "environment variable"),
            DirectiveKind::Timeout(e) => {
                expect_duration(cx, e, "timeout");
            }
            DirectiveKind::OnFailure(FailurePolicy::Retry(e)) => {
                expect_count(cx, e, "retry", 0);
            }
            DirectiveKind::Multinode(e) => {
                expect_count(cx, e, "multinode", 1);
            }
            DirectiveKind::Workdir(e) => {
                expect(cx, e, &[Literal::Str], "`workdir` takes a path string");
            }
            DirectiveKind::Container(e) => {
                expect(
                    cx,
                    e,
                    &[Literal::Str],
                    "`container` takes an image name string",
                );
            }
            DirectiveKind::FailOnExit(e) => {
                expect(
                    cx,
                    e,
                    &[Literal::Bool],
                    "`fail_on_exit` takes `true` or `false`",
                );
            }
            DirectiveKind::RaisesOnExit(statuses) => {
                for status in statuses {
                    expect(
                        cx,
                        status,
                        &[Literal::Int],
                        "`raises_on_exit` lists exit statuses (ints)",
                    );
                }
            }
            DirectiveKind::OnFailure(_)
            | DirectiveKind::Priority
            | DirectiveKind::Distributed
            | DirectiveKind::Replicated => {}
        }
    }
}

fn check_body(cx: &mut ModuleCx, task: &Task, body: &Body) {
    match body {
        Body::Binary { program, .. } | Body::Ompss { program, .. } => {
            expect(
                cx,
                program,
                &[Literal::Str],
                "the program to run is a string",
            );
        }
        Body::Mpi {
            program, options, ..
        } => {
            expect(
                cx,
                program,
                &[Literal::Str],
                "the program to run is a string",
            );
            constraints::check_mpi_options(cx, options);
        }
        Body::Shell { template, .. } => templates::check(cx, task, template),
        Body::Script { interpreter, .. } => {
            expect(
                cx,
                interpreter,
                &[Literal::Str],
                "the interpreter is a string, e.g. \"python3\"",
            );
        }
        Body::Workflow { file, args, .. } => {
            expect(
                cx,
                file,
                &[Literal::Str],
                "the workflow file is a path string",
            );
            duplicate_keys(cx, args, "workflow argument");
        }
    }
}

pub(super) fn duplicate_keys(cx: &mut ModuleCx, entries: &[Entry], what: &str) {
    for (index, entry) in entries.iter().enumerate() {
        if let Some(first) = entries[..index]
            .iter()
            .find(|e| e.key.name == entry.key.name)
        {
            let message = format!("{what} `{}` is given twice", entry.key);
            let diagnostic = duplicate(cx, entry.key.span, first.key.span, message);
            cx.push(diagnostic);
        }
    }
}

/// A literal value must be one of `accepted` (`null` and non-literals are not checked).
fn expect(cx: &mut ModuleCx, expr: &Expr, accepted: &[Literal], what: &str) -> bool {
    let Some(found) = literal(expr) else {
        return true;
    };
    if found == Literal::Null || accepted.contains(&found) {
        return true;
    }
    cx.push(
        Diagnostic::error(
            Code::Type,
            cx.file,
            expr.span,
            format!("{what}, but this is {}", found.describe()),
        )
        .with_label(format!("{} here", found.describe())),
    );
    false
}

fn expect_duration(cx: &mut ModuleCx, expr: &Expr, directive: &str) {
    match literal(expr) {
        Some(Literal::Int | Literal::Float) => {
            let written = cx.text(expr.span);
            cx.push(
                Diagnostic::error(
                    Code::Type,
                    cx.file,
                    expr.span,
                    format!("`{directive}` takes a duration, but `{written}` has no unit"),
                )
                .with_label("no unit")
                .with_help(format!("write a unit: {written}s (or ms, m, h, d)")),
            );
        }
        _ => {
            expect(
                cx,
                expr,
                &[Literal::Duration],
                &format!("`{directive}` takes a duration such as 30s or 2h"),
            );
        }
    }
}

/// An int literal of at least `min`, without a unit.
fn expect_count(cx: &mut ModuleCx, expr: &Expr, directive: &str, min: i64) {
    if !expect(
        cx,
        expr,
        &[Literal::Int],
        &format!("`{directive}` takes a whole number"),
    ) {
        return;
    }
    if let Some(value) = constraints::int_value(expr) {
        if value < min {
            cx.push(
                Diagnostic::error(
                    Code::Type,
                    cx.file,
                    expr.span,
                    format!("`{directive}` must be at least {min}"),
                )
                .with_label(format!("{value} is too small")),
            );
        }
    }
}
