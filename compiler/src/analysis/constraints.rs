//! `constraint { … }` blocks (§8.2) and the options of `mpi` bodies (§4.4): known keys, and
//! values of the right kind when they are written as literals.

use crate::ast::{Entry, Expr, ExprKind, NumberValue, UnaryOp};
use crate::diagnostic::{Code, Diagnostic};

use super::literals::{literal, number_unit, strip_parens, Literal};
use super::suggest::{closest, quoted_list};
use super::tasks::duplicate_keys;
use super::{ModuleCx, CONSTRAINT_KEYS, MPI_OPTION_KEYS};

/// Names people write for a constraint key, from other schedulers and habits, that are too
/// far from the key for an edit distance to find.
const CONSTRAINT_SYNONYMS: &[(&str, &str)] = &[
    ("cpus", "cores"),
    ("cpu", "cores"),
    ("ncpus", "cores"),
    ("nproc", "cores"),
    ("procs", "cores"),
    ("threads", "cores"),
    ("mem", "memory"),
    ("ram", "memory"),
    ("gpu", "gpus"),
    ("ngpus", "gpus"),
    ("time", "walltime"),
    ("runtime", "walltime"),
    ("wall_time", "walltime"),
    ("duration", "walltime"),
    ("label", "labels"),
    ("tags", "labels"),
    ("tag", "labels"),
    ("architecture", "arch"),
    ("platform", "arch"),
    ("system", "os"),
    ("storage", "disk"),
    ("scratch", "disk"),
];

const MPI_SYNONYMS: &[(&str, &str)] = &[
    ("np", "processes"),
    ("n", "processes"),
    ("procs", "processes"),
    ("ranks", "processes"),
    ("tasks", "processes"),
    ("launcher", "runner"),
    ("mpirun", "runner"),
    ("node", "nodes"),
    ("args", "flags"),
    ("options", "flags"),
];

pub(super) fn check_constraint(cx: &mut ModuleCx, entries: &[Entry]) {
    duplicate_keys(cx, entries, "constraint");
    for entry in entries {
        let key = entry.key.name.as_str();
        if !CONSTRAINT_KEYS.contains(&key) {
            unknown_key(
                cx,
                entry,
                "constraint",
                CONSTRAINT_KEYS,
                CONSTRAINT_SYNONYMS,
            );
            continue;
        }
        let problem = match key {
            "cores" | "gpus" => count(&entry.value, 0),
            "memory" | "disk" => size(cx, &entry.value),
            "walltime" => duration(cx, &entry.value),
            "labels" => string_list(&entry.value, true),
            _ => string(&entry.value),
        };
        if let Some(problem) = problem {
            report(cx, entry, "constraint", problem);
        }
    }
}

pub(super) fn check_mpi_options(cx: &mut ModuleCx, entries: &[Entry]) {
    duplicate_keys(cx, entries, "mpi option");
    for entry in entries {
        let key = entry.key.name.as_str();
        if !MPI_OPTION_KEYS.contains(&key) {
            unknown_key(cx, entry, "mpi option", MPI_OPTION_KEYS, MPI_SYNONYMS);
            continue;
        }
        let problem = match key {
            "processes" | "nodes" => count(&entry.value, 1),
            "flags" => string_list(&entry.value, false),
            _ => string(&entry.value),
        };
        if let Some(problem) = problem {
            report(cx, entry, "mpi option", problem);
        }
    }
}

/// The value of an int literal (negated ones included).
pub(super) fn int_value(expr: &Expr) -> Option<i64> {
    let expr = strip_parens(expr);
    match &expr.kind {
        ExprKind::Number(n) => match n.value {
            NumberValue::Int(v) => Some(v),
            NumberValue::Float(_) => None,
        },
        ExprKind::Unary(UnaryOp::Neg, inner) => int_value(inner).map(|v| -v),
        _ => None,
    }
}

fn unknown_key(
    cx: &mut ModuleCx,
    entry: &Entry,
    what: &str,
    keys: &[&'static str],
    synonyms: &[(&str, &'static str)],
) {
    let key = entry.key.name.as_str();
    let lowered = key.to_lowercase();
    let suggestion = synonyms
        .iter()
        .find(|(synonym, _)| *synonym == lowered)
        .map(|(_, meant)| *meant)
        .or_else(|| closest(key, keys.iter().copied()));
    let listed = quoted_list(keys.iter().copied());
    let help = match suggestion {
        Some(meant) => format!("did you mean `{meant}`? the {what} keys are {listed}"),
        None => format!("the {what} keys are {listed}"),
    };
    cx.push(
        Diagnostic::error(
            Code::Constraint,
            cx.file,
            entry.key.span,
            format!("unknown {what} `{key}`"),
        )
        .with_label(format!("not a {what} key"))
        .with_help(help),
    );
}

/// What is wrong with a value: the message's ending and a help line.
struct Problem {
    message: String,
    help: Option<String>,
}

fn problem(message: impl Into<String>, help: Option<String>) -> Option<Problem> {
    Some(Problem {
        message: message.into(),
        help,
    })
}

fn report(cx: &mut ModuleCx, entry: &Entry, what: &str, problem: Problem) {
    let mut diagnostic = Diagnostic::error(
        Code::Constraint,
        cx.file,
        entry.value.span,
        format!("{what} `{}` {}", entry.key, problem.message),
    )
    .with_label("bad value")
    .with_related(entry.key.span, format!("the {what}"));
    if let Some(help) = problem.help {
        diagnostic = diagnostic.with_help(help);
    }
    cx.push(diagnostic);
}

/// The text of a plain string literal.
fn plain_string(expr: &Expr) -> Option<String> {
    match &strip_parens(expr).kind {
        ExprKind::Str(lit) => lit.as_plain(),
        _ => None,
    }
}

/// A whole number of at least `min`: cores, gpus, processes, nodes.
fn count(value: &Expr, min: i64) -> Option<Problem> {
    match literal(value)? {
        Literal::Int => match int_value(value) {
            Some(n) if n < min => problem(format!("must be at least {min}"), None),
            _ => None,
        },
        Literal::Size => problem("is a count, not a size", None),
        Literal::Float | Literal::Duration => problem(
            "must be a whole number",
            Some("write a whole number, e.g. 2".to_string()),
        ),
        Literal::Str => {
            let help = plain_string(value)
                .filter(|s| s.trim().parse::<i64>().is_ok())
                .map(|s| format!("write the number without quotes: {}", s.trim()));
            problem("must be a number, not a string", help)
        }
        found => problem(
            format!("must be a whole number, not {}", found.describe()),
            None,
        ),
    }
}

/// A size: memory, disk. A small unitless int is almost surely meant in GiB, not bytes.
fn size(cx: &ModuleCx, value: &Expr) -> Option<Problem> {
    let written = cx.text(value.span);
    match literal(value)? {
        Literal::Size | Literal::Int => match int_value(value) {
            Some(n) if n < 0 => problem("cannot be negative", None),
            Some(n) if n < 1024 && number_unit(written).is_empty() => problem(
                format!("is {n} bytes: a size needs a unit"),
                Some(format!("write a unit: {written}GiB")),
            ),
            _ => None,
        },
        Literal::Float => problem(
            "must be a size with a unit",
            Some("write a whole size with a unit, e.g. 1536MiB or 2GiB".to_string()),
        ),
        Literal::Str => {
            let help = plain_string(value)
                .filter(|s| is_size_text(s.trim()))
                .map(|s| format!("write the size without quotes: {}", s.trim()))
                .or_else(|| Some("write a size such as 512MiB or 8GiB".to_string()));
            problem("must be a size, not a string", help)
        }
        found => problem(
            format!("must be a size such as 8GiB, not {}", found.describe()),
            None,
        ),
    }
}

fn is_size_text(text: &str) -> bool {
    let unit = number_unit(text);
    super::literals::is_size_unit(unit)
        && !text[..text.len() - unit.len()].is_empty()
        && text[..text.len() - unit.len()]
            .chars()
            .all(|c| c.is_ascii_digit() || c == '_')
}

/// A duration: walltime.
fn duration(cx: &ModuleCx, value: &Expr) -> Option<Problem> {
    let written = cx.text(value.span);
    match literal(value)? {
        Literal::Duration => None,
        Literal::Int | Literal::Float => problem(
            "must be a duration with a unit",
            Some(format!(
                "write a unit: {written}s, {written}m or {written}h"
            )),
        ),
        Literal::Str => problem(
            "must be a duration, not a string",
            Some("write a duration without quotes, such as 30m or 2h".to_string()),
        ),
        found => problem(
            format!("must be a duration such as 2h, not {}", found.describe()),
            None,
        ),
    }
}

/// A string: arch, os, runner.
fn string(value: &Expr) -> Option<Problem> {
    match literal(value)? {
        Literal::Str => None,
        found => problem(format!("must be a string, not {}", found.describe()), None),
    }
}

/// A list of strings (labels; or mpi flags, which may also be one string).
fn string_list(value: &Expr, list_only: bool) -> Option<Problem> {
    let value = strip_parens(value);
    match literal(value)? {
        Literal::List => {
            let ExprKind::List(items) = &value.kind else {
                return None;
            };
            items.iter().find_map(|item| match literal(item) {
                Some(Literal::Str) | None => None,
                Some(found) => {
                    problem(format!("must list strings, not {}", found.describe()), None)
                }
            })
        }
        Literal::Str if list_only => {
            let text = plain_string(value).unwrap_or_default();
            problem(
                "must be a list of strings",
                Some(format!("write a list: [\"{text}\"]")),
            )
        }
        Literal::Str => None,
        found => problem(
            format!("must be a list of strings, not {}", found.describe()),
            None,
        ),
    }
}
