//! Checks made before anything runs, on the calls the planner can see: a call that no
//! configured resource can serve with any implementation is `weft::unsatisfiable` (§4.3).

use std::collections::HashMap;

use indexmap::IndexMap;
use weft_compiler::ast::{DirectiveKind, Task, TaskBody};
use weft_compiler::config::Config;
use weft_compiler::diagnostic::{Code, Diagnostic};
use weft_compiler::eval::TaskCall;
use weft_compiler::plan::plan_workflow;
use weft_compiler::program::Program;
use weft_compiler::value::Value;

use crate::directives;
use crate::resources::Pool;

/// Plans the workflow (without running anything) and returns what the calls it reaches
/// reveal: unsatisfiable constraints, and a body error the planner hit.
pub fn plan_diagnostics(
    program: &Program,
    workflow: &weft_compiler::ast::Workflow,
    args: IndexMap<String, Value>,
    config: &Config,
) -> Vec<Diagnostic> {
    let pool = Pool::new(config.resources());
    // Per task definition: whether its constraints can be served, when they do not depend
    // on the call's arguments (then one evaluation serves every call).
    let mut constant: HashMap<*const Task, Option<bool>> = HashMap::new();
    let mut check = |program: &Program, call: &TaskCall<'_>| -> Option<Diagnostic> {
        let key = call.task as *const Task;
        let known = *constant
            .entry(key)
            .or_insert_with(|| servable(&pool, program, call, &IndexMap::new()));
        let servable = match known {
            Some(s) => s,
            None if call.args.values().any(Value::contains_future) => return None,
            None => servable(&pool, program, call, &call.args)?,
        };
        (!servable).then(|| unsatisfiable(&pool, program, call))
    };
    let base = std::env::current_dir().unwrap_or_default();
    match plan_workflow(program, program.root, workflow, args, &base, &mut check) {
        Ok(plan) => plan.diagnostics,
        Err(diagnostic) => vec![*diagnostic],
    }
}

/// Whether some resource can serve some implementation of the call; `None` when the
/// constraints cannot be evaluated with this scope.
fn servable(
    pool: &Pool,
    program: &Program,
    call: &TaskCall<'_>,
    scope: &IndexMap<String, Value>,
) -> Option<bool> {
    let settings = directives::evaluate(program, call.module, call.task, scope).ok()?;
    Some(settings.iter().any(|s| match s.multinode {
        Some(n) => pool.can_ever_fit_nodes(&s.requirement, n as usize),
        None => pool.can_ever_fit(&s.requirement),
    }))
}

fn unsatisfiable(pool: &Pool, program: &Program, call: &TaskCall<'_>) -> Diagnostic {
    let settings =
        directives::evaluate(program, call.module, call.task, &call.args).unwrap_or_default();
    let reason = settings
        .first()
        .map(|s| pool.unsatisfiable_reason(&s.requirement))
        .unwrap_or_default();
    let mut diagnostic = Diagnostic::error(
        Code::Unsatisfiable,
        &call.site.file,
        call.site.span,
        format!("no configured resource can run `{}`", call.task.name),
    )
    .with_label("this call can never be scheduled")
    .with_help(format!(
        "{reason}; lower the constraint, or add a resource that offers it to the configuration (weft.yaml)"
    ));
    // The second label points at the constraint, when it is in the same file.
    let task_file = &program.modules[call.module].file;
    if std::sync::Arc::ptr_eq(task_file, &call.site.file) {
        if let Some(span) = constraint_span(call.task) {
            diagnostic = diagnostic.with_related(span, "the constraint no resource satisfies");
        }
    }
    diagnostic
}

fn constraint_span(task: &Task) -> Option<weft_compiler::ast::Span> {
    let in_task = task
        .directives
        .iter()
        .find(|d| matches!(d.kind, DirectiveKind::Constraint(_)));
    if let Some(d) = in_task {
        return Some(d.span);
    }
    match &task.body {
        TaskBody::Impls(impls) => impls
            .iter()
            .flat_map(|i| i.directives.iter())
            .find(|d| matches!(d.kind, DirectiveKind::Constraint(_)))
            .map(|d| d.span),
        TaskBody::Single(_) => None,
    }
}
