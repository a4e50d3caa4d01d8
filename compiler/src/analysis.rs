//! Static analysis of a loaded program: everything that can be known wrong before running.
//!
//! One pass per module, each finding a `Diagnostic` with its stable code (§9):
//! - `declarations`: duplicate definitions, parameter declarations (directions, streams,
//!   modifiers, defaults);
//! - `tasks`: directives, constraint keys and values, bodies, `shell` template names;
//! - `bodies`: names and scopes, calls (arity, literal argument types, `out` arguments), in
//!   workflow and fn bodies and in task expressions; unused variables;
//! - `serial_wait`: loops that wait for their own tasks;
//! - `unused`: unused imports, and tasks and fns of the root module nobody calls.
//!
//! Warnings are kept conservative: a warning on a correct, idiomatic program is a bug.

mod bodies;
mod constraints;
mod declarations;
mod literals;
mod serial_wait;
mod suggest;
mod tasks;
mod templates;
mod unused;

use std::collections::HashSet;
use std::sync::Arc;

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::program::{LoadedModule, ModuleId, Program};

/// The keys a `constraint { … }` block may use (§8.2).
pub const CONSTRAINT_KEYS: &[&str] = &[
    "cores", "memory", "gpus", "disk", "arch", "os", "labels", "walltime",
];

/// The keys of an `mpi "PROGRAM" { … }` options block (§4.4).
pub const MPI_OPTION_KEYS: &[&str] = &["runner", "processes", "nodes", "flags"];

/// Every error and warning of every module of the program, sorted by file, then position.
pub fn analyze(program: &Program) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    let mut called = HashSet::new();
    for (id, module) in program.modules.iter().enumerate() {
        let mut cx = ModuleCx::new(program, id, module);
        declarations::check(&mut cx);
        tasks::check(&mut cx);
        bodies::check(&mut cx);
        serial_wait::check(&mut cx);
        unused::check_imports(&mut cx);
        called.extend(cx.called);
        diagnostics.append(&mut cx.diagnostics);
    }
    unused::check_root_items(program, &called, &mut diagnostics);
    diagnostics.sort_by(|a, b| {
        (a.file.path(), a.span.start, a.span.end, a.code).cmp(&(
            b.file.path(),
            b.span.start,
            b.span.end,
            b.code,
        ))
    });
    diagnostics
}

/// What the passes over one module share: where they are, and what they found.
pub(crate) struct ModuleCx<'p> {
    pub program: &'p Program,
    pub id: ModuleId,
    pub module: &'p LoadedModule,
    pub file: &'p Arc<SourceFile>,
    pub diagnostics: Vec<Diagnostic>,
    /// Tasks, fns and workflows called from this module, as (module, name).
    pub called: HashSet<(ModuleId, String)>,
    /// Import bindings used in this module (`fs` of `fs.copy(…)`).
    pub used_imports: HashSet<String>,
}

impl<'p> ModuleCx<'p> {
    fn new(program: &'p Program, id: ModuleId, module: &'p LoadedModule) -> Self {
        ModuleCx {
            program,
            id,
            module,
            file: &module.file,
            diagnostics: Vec::new(),
            called: HashSet::new(),
            used_imports: HashSet::new(),
        }
    }

    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    /// The source text of a span (empty if the span does not fit the file).
    pub fn text(&self, span: crate::ast::Span) -> &'p str {
        self.file.text.get(span.start..span.end).unwrap_or("")
    }
}
