//! `weft graph FILE [--format dot|mermaid|json] [-o OUT]`.

use weft_compiler::plan::plan_workflow;

use crate::cli::{GraphArgs, GraphFormat};
use crate::exit;
use crate::load::{has_errors, load_and_analyze, report, workflow_arguments};

pub fn run(args: GraphArgs) -> i32 {
    if let Some(run) = &args.run {
        return executed_graph(run, &args);
    }
    let Some(file) = &args.file else {
        eprintln!("error: a workflow file or --run RUN_DIR is needed");
        return exit::USAGE;
    };
    let (program, diagnostics) = load_and_analyze(file);
    if has_errors(&diagnostics) {
        report(&diagnostics);
        return exit::USAGE;
    }
    let Some(program) = program else {
        return exit::USAGE;
    };
    let workflow = match program.entry_workflow(args.workflow.as_deref()) {
        Ok(w) => w,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::USAGE;
        }
    };
    let options = match workflow_arguments(workflow, &args.options) {
        Ok(o) => o,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::USAGE;
        }
    };
    let base = std::env::current_dir().unwrap_or_default();
    let plan = match plan_workflow(
        &program,
        program.root,
        workflow,
        options,
        &base,
        &mut no_check,
    ) {
        Ok(plan) => plan,
        Err(diagnostic) => {
            report(&[*diagnostic]);
            return exit::USAGE;
        }
    };
    let text = match args.format {
        GraphFormat::Json => {
            let mut json = Vec::new();
            plan.write_json(&mut json)
                .expect("writing JSON into memory cannot fail");
            String::from_utf8(json).expect("JSON is UTF-8")
        }
        GraphFormat::Dot => plan.to_dot(),
        GraphFormat::Mermaid => plan.to_mermaid(),
    };
    write_graph(&args, text)
}

/// `weft graph --run .weft/runs/RUN`: the graph a run executed, with its timings, from
/// the run's `run.json`.
fn executed_graph(run: &std::path::Path, args: &GraphArgs) -> i32 {
    let record = match weft_executor::record::RunRecord::load(run) {
        Ok(record) => record,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::USAGE;
        }
    };
    let text = match args.format {
        GraphFormat::Json => format!("{}\n", record.graph_json()),
        GraphFormat::Dot => record.to_dot(),
        GraphFormat::Mermaid => record.to_mermaid(),
    };
    write_graph(args, text)
}

fn write_graph(args: &GraphArgs, text: String) -> i32 {
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, text) {
                eprintln!("error: cannot write {}: {e}", path.display());
                return exit::USAGE;
            }
        }
        None => print!("{text}"),
    }
    exit::SUCCESS
}

/// `weft graph` only draws: the checks of calls belong to `weft check` and `weft run`.
fn no_check(
    _: &weft_compiler::program::Program,
    _: &weft_compiler::eval::TaskCall<'_>,
) -> Option<weft_compiler::diagnostic::Diagnostic> {
    None
}
