//! A task's directives (§4.2), evaluated for one call over its arguments: one `Settings` per
//! implementation (§4.3), the directives outside `impl` blocks applying to all of them.

use std::time::Duration;

use indexmap::IndexMap;
use weft_compiler::ast::{
    Body, Directive, DirectiveKind, Expr, ExprKind, FailurePolicy, StrPart, Task, TaskBody,
};
use weft_compiler::eval::{eval_pure, Interrupt};
use weft_compiler::program::{ModuleId, Program};
use weft_compiler::value::Value;

use crate::resources::Requirement;

/// What happens when an attempt fails (§6.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Up to N more attempts, then as `Fail`.
    Retry(u32),
    Fail,
    CancelSuccessors,
    Ignore,
}

#[derive(Clone, Debug)]
pub struct Settings {
    /// The implementation's name (`None` for a task with a single body).
    pub impl_name: Option<String>,
    pub body: Body,
    pub requirement: Requirement,
    pub timeout: Option<Duration>,
    pub priority: bool,
    pub policy: Policy,
    pub distributed: bool,
    pub replicated: bool,
    pub workdir: Option<String>,
    pub env: Vec<(String, String)>,
    pub fail_on_exit: bool,
    pub raises_on_exit: Vec<i64>,
    pub container: Option<String>,
    pub multinode: Option<u32>,
}

/// Evaluates the directives of a call, one `Settings` per implementation in source order.
/// The error is a message naming the directive.
pub fn evaluate(
    program: &Program,
    module: ModuleId,
    task: &Task,
    scope: &IndexMap<String, Value>,
) -> Result<Vec<Settings>, String> {
    let variants: Vec<(Option<String>, &[Directive], &Body)> = match &task.body {
        TaskBody::Single(body) => vec![(None, &[], body)],
        TaskBody::Impls(impls) => impls
            .iter()
            .map(|i| (Some(i.name.name.clone()), i.directives.as_slice(), &i.body))
            .collect(),
    };
    variants
        .into_iter()
        .map(|(name, own, body)| {
            let mut settings = Settings {
                impl_name: name,
                body: body.clone(),
                requirement: Requirement::default(),
                timeout: None,
                priority: false,
                policy: Policy::Retry(1),
                distributed: false,
                replicated: false,
                workdir: None,
                env: Vec::new(),
                fail_on_exit: false,
                raises_on_exit: Vec::new(),
                container: None,
                multinode: None,
            };
            let mut constraint: IndexMap<String, Value> = IndexMap::new();
            for directive in task.directives.iter().chain(own.iter()) {
                apply(
                    program,
                    module,
                    scope,
                    directive,
                    &mut settings,
                    &mut constraint,
                )?;
            }
            settings.requirement = Requirement::from_constraints(&constraint)
                .map_err(|e| format!("task `{}`: constraint: {e}", task.name))?;
            Ok(settings)
        })
        .collect()
}

/// Whether the task's directives evaluate alike for every call: their expressions are
/// literals, naming no parameter, no constant and no `env` (which is read per call, when the
/// call is scheduled). Such settings are evaluated once and shared by all its calls.
pub fn same_for_every_call(task: &Task) -> bool {
    let own = match &task.body {
        TaskBody::Single(_) => Vec::new(),
        TaskBody::Impls(impls) => impls.iter().flat_map(|i| &i.directives).collect(),
    };
    task.directives
        .iter()
        .chain(own)
        .all(|directive| match &directive.kind {
            DirectiveKind::Constraint(entries) | DirectiveKind::Env(entries) => {
                entries.iter().all(|e| is_literal(&e.value))
            }
            DirectiveKind::Timeout(e)
            | DirectiveKind::Workdir(e)
            | DirectiveKind::FailOnExit(e)
            | DirectiveKind::Container(e)
            | DirectiveKind::Multinode(e)
            | DirectiveKind::OnFailure(FailurePolicy::Retry(e)) => is_literal(e),
            DirectiveKind::RaisesOnExit(items) => items.iter().all(is_literal),
            DirectiveKind::Priority
            | DirectiveKind::Distributed
            | DirectiveKind::Replicated
            | DirectiveKind::OnFailure(_) => true,
        })
}

/// Whether an expression is made of literals only.
fn is_literal(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => true,
        ExprKind::Str(s) => s.parts.iter().all(|p| match p {
            StrPart::Text(_) => true,
            StrPart::Interp(e) => is_literal(e),
        }),
        ExprKind::List(items) | ExprKind::Tuple(items) => items.iter().all(is_literal),
        ExprKind::Object(entries) => entries.iter().all(|(_, e)| is_literal(e)),
        ExprKind::Paren(e) | ExprKind::Unary(_, e) => is_literal(e),
        ExprKind::Binary(_, a, b) => is_literal(a) && is_literal(b),
        ExprKind::Var(_) | ExprKind::Field(..) | ExprKind::Index(..) | ExprKind::Call(..) => false,
    }
}

fn apply(
    program: &Program,
    module: ModuleId,
    scope: &IndexMap<String, Value>,
    directive: &Directive,
    settings: &mut Settings,
    constraint: &mut IndexMap<String, Value>,
) -> Result<(), String> {
    let eval = |expr| -> Result<Value, String> {
        match eval_pure(program, module, scope, expr) {
            Ok(v) => Ok(v),
            Err(Interrupt::Error(d)) => Err(format!(
                "`{}` directive: {}",
                directive.kind.keyword(),
                d.message
            )),
            Err(other) => Err(format!(
                "`{}` directive: {other:?}",
                directive.kind.keyword()
            )),
        }
    };
    match &directive.kind {
        DirectiveKind::Constraint(entries) => {
            for entry in entries {
                constraint.insert(entry.key.name.clone(), eval(&entry.value)?);
            }
        }
        DirectiveKind::Timeout(e) => {
            settings.timeout = match eval(e)? {
                Value::Int(s) if s >= 0 => Some(Duration::from_secs(s as u64)),
                Value::Float(s) if s >= 0.0 => Some(Duration::from_secs_f64(s)),
                Value::Null => None,
                other => {
                    return Err(format!(
                        "timeout expects a duration such as 30s, not {other}"
                    ))
                }
            }
        }
        DirectiveKind::Priority => settings.priority = true,
        DirectiveKind::OnFailure(policy) => {
            settings.policy = match policy {
                FailurePolicy::Retry(n) => match eval(n)? {
                    Value::Int(n) if n >= 0 => Policy::Retry(n as u32),
                    other => return Err(format!("retry() expects a count, not {other}")),
                },
                FailurePolicy::Fail => Policy::Fail,
                FailurePolicy::CancelSuccessors => Policy::CancelSuccessors,
                FailurePolicy::Ignore => Policy::Ignore,
            }
        }
        DirectiveKind::Distributed => settings.distributed = true,
        DirectiveKind::Replicated => settings.replicated = true,
        DirectiveKind::Workdir(e) => {
            settings.workdir = match eval(e)? {
                Value::Null => None,
                v => Some(v.display_text()),
            }
        }
        DirectiveKind::Env(entries) => {
            for entry in entries {
                let value = eval(&entry.value)?;
                if value != Value::Null {
                    settings
                        .env
                        .push((entry.key.name.clone(), value.display_text()));
                }
            }
        }
        DirectiveKind::FailOnExit(e) => settings.fail_on_exit = eval(e)?.truthy(),
        DirectiveKind::RaisesOnExit(items) => {
            for item in items {
                match eval(item)? {
                    Value::Int(n) => settings.raises_on_exit.push(n),
                    Value::List(xs) => {
                        settings
                            .raises_on_exit
                            .extend(xs.iter().filter_map(|x| match x {
                                Value::Int(n) => Some(*n),
                                _ => None,
                            }))
                    }
                    other => {
                        return Err(format!("raises_on_exit expects exit statuses, not {other}"))
                    }
                }
            }
        }
        DirectiveKind::Container(e) => {
            settings.container = match eval(e)? {
                Value::Null => None,
                v => Some(v.display_text()),
            }
        }
        DirectiveKind::Multinode(e) => {
            settings.multinode = match eval(e)? {
                Value::Int(n) if n >= 1 => Some(n as u32),
                other => return Err(format!("multinode expects a number of nodes, not {other}")),
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task_named(source: &str, name: &str) -> Task {
        let program = Program::from_source(std::path::Path::new("t.wf"), source.to_string())
            .expect("the test program checks");
        program.root_module().task(name).expect("the task").clone()
    }

    const SOURCE: &str = r#"
task plain(n: int) {
    constraint { cores: 2, memory: 1GiB }
    timeout 30s
    on_failure retry(2)
    env { MODE: "fast", LEVEL: 1 + 2 }
    binary "true"
}

task sized(n: int) {
    constraint { cores: n }
    binary "true"
}

task from_env() {
    env { HOME_DIR: env("HOME") }
    binary "true"
}

task interpolated(n: int) {
    workdir "run-{n}"
    binary "true"
}

task per_impl(n: int) {
    impl fast {
        constraint { cores: 1 }
        binary "true"
    }
    impl wide {
        timeout n
        binary "true"
    }
}

workflow main() {
    plain(1)
    sized(1)
    from_env()
    interpolated(1)
    per_impl(1)
}
"#;

    #[test]
    fn literal_directives_are_the_same_for_every_call() {
        assert!(same_for_every_call(&task_named(SOURCE, "plain")));
    }

    #[test]
    fn directives_naming_a_parameter_env_or_an_interpolation_are_per_call() {
        for name in ["sized", "from_env", "interpolated", "per_impl"] {
            assert!(!same_for_every_call(&task_named(SOURCE, name)), "{name}");
        }
    }
}
