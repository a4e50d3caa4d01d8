//! Unused imports, and tasks and fns of the root module that nothing calls (warnings).
//!
//! Items of imported modules are libraries: using part of one is normal, so only the root
//! module's own tasks and fns are reported, and only when the root has a workflow (a library
//! checked on its own has no caller). Workflows are entry points and always count as used.

use std::collections::HashSet;

use crate::ast::Item;
use crate::diagnostic::{Code, Diagnostic};
use crate::program::{ModuleId, Program};

use super::ModuleCx;

pub(super) fn check_imports(cx: &mut ModuleCx) {
    let module = cx.module;
    for item in &module.ast.items {
        let Item::Import(import) = item else { continue };
        let binding = import.binding();
        if cx.used_imports.contains(&binding.name) || binding.name.starts_with('_') {
            continue;
        }
        cx.push(
            Diagnostic::warning(
                Code::Unused,
                cx.file,
                import.span,
                format!("unused import `{}`", binding.name),
            )
            .with_label("never used")
            .with_help(format!(
                "remove the import, or use it as `{}.NAME(…)`",
                binding.name
            )),
        );
    }
}

pub(super) fn check_root_items(
    program: &Program,
    called: &HashSet<(ModuleId, String)>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let root = program.root_module();
    if root.workflows.is_empty() {
        // A library checked on its own: nothing in it can be called from this program.
        return;
    }
    for item in &root.ast.items {
        let (kind, name) = match item {
            Item::Task(t) => ("task", &t.name),
            Item::Fn(f) => ("fn", &f.name),
            Item::Workflow(_) | Item::Import(_) => continue,
        };
        if called.contains(&(program.root, name.name.clone())) || name.name.starts_with('_') {
            continue;
        }
        diagnostics.push(
            Diagnostic::warning(
                Code::Unused,
                &root.file,
                name.span,
                format!("{kind} `{name}` is never called"),
            )
            .with_label("never called")
            .with_help(format!(
                "remove it, or call it from a workflow: `{name}(…)`"
            )),
        );
    }
}
