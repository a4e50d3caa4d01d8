//! `weft check FILE… [--format human|json] [--deny warnings]`.

use weft_compiler::diagnostic::{Diagnostic, Severity};

use crate::cli::{CheckArgs, CheckFormat, Deny};
use crate::exit;
use crate::load::{config_for, has_errors, load_and_analyze, report};

pub fn run(args: CheckArgs) -> i32 {
    let mut all = Vec::new();
    for path in &args.files {
        all.extend(check_file(path, args.config.as_deref()));
    }
    if args.deny == Some(Deny::Warnings) {
        for d in &mut all {
            d.severity = Severity::Error;
        }
    }
    match args.format {
        CheckFormat::Human => report(&all),
        CheckFormat::Json => {
            for d in &all {
                println!("{}", d.to_json());
            }
        }
    }
    if has_errors(&all) {
        exit::USAGE
    } else {
        exit::SUCCESS
    }
}

/// Every diagnostic of one file: syntax, imports, analysis, configuration, and the calls the
/// planner can see (`weft::unsatisfiable`).
pub fn check_file(path: &std::path::Path, config: Option<&std::path::Path>) -> Vec<Diagnostic> {
    let (program, mut diagnostics) = load_and_analyze(path);
    let Some(program) = program else {
        return diagnostics;
    };
    if has_errors(&diagnostics) {
        return diagnostics;
    }
    let config = match config_for(path, config) {
        Ok(c) => c,
        Err(d) => {
            diagnostics.push(*d);
            return diagnostics;
        }
    };
    // A workflow with required options can only be planned once they are given (`weft run`).
    let plannable = |w: &weft_compiler::ast::Workflow| w.params.iter().all(|p| p.default.is_some());
    if let Some(workflow) = program.entry_workflow(None).ok().filter(|w| plannable(w)) {
        let defaults = indexmap::IndexMap::new();
        diagnostics.extend(weft_executor::preflight::plan_diagnostics(
            &program, workflow, defaults, &config,
        ));
    }
    diagnostics
}
