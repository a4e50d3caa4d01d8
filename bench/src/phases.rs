//! `phases`: the million-call program planned inside this process, each phase timed as
//! `weft graph` runs it, to see where its time and memory go without a profiler. A second
//! table plans variants of the program (the loops alone; calls without file parameters) to
//! split the planning phase by layer: the evaluator, the calls, the file dependencies.

use std::path::Path;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use weft_compiler::analysis::analyze;
use weft_compiler::diagnostic::{Diagnostic, Severity};
use weft_compiler::plan::{plan_workflow, Plan};
use weft_compiler::program::Program;

use crate::measure::{self, seconds};
use crate::programs::{million_calls, Variant};
use crate::table::Table;
use crate::PlanArgs;

pub fn run(args: PlanArgs) -> Result<(), String> {
    let dir = measure::temp_dir()?;
    let path = measure::write_file(dir.path(), "main.wf", &million_calls(args, Variant::Calls))?;
    println!(
        "phases of `weft graph --format json`, in process: {} calls over {} files",
        args.outer * args.inner,
        args.files
    );
    let mut table = Table::new(&["phase", "time", "RSS after"]);
    let mut phase = |name: &str, start: Instant| {
        table.row(vec![
            name.to_string(),
            seconds(start.elapsed()),
            memory("VmRSS"),
        ]);
    };

    let start = Instant::now();
    let program = Program::load(&path).map_err(|d| first_message("parse", &d))?;
    phase("parse (Program::load)", start);

    let start = Instant::now();
    let diagnostics = analyze(&program);
    phase("analysis", start);
    if diagnostics.iter().any(|d| d.severity == Severity::Error) {
        return Err(first_message("analysis", &diagnostics));
    }

    let start = Instant::now();
    let plan = plan(&program, dir.path())?;
    phase("planning (evaluator + dependencies)", start);
    let (nodes, edges) = (plan.nodes.len(), plan.edges.len());

    // As `weft graph` does: the JSON text streamed from the plan, never a JSON value.
    let start = Instant::now();
    let mut text = Vec::new();
    plan.write_json(&mut text)
        .map_err(|e| format!("cannot write the graph's JSON: {e}"))?;
    phase("graph to JSON text (Plan::write_json)", start);

    let start = Instant::now();
    let graph = dir.path().join("graph.json");
    std::fs::write(&graph, &text).map_err(|e| format!("cannot write {}: {e}", graph.display()))?;
    phase("writing the file", start);

    let start = Instant::now();
    drop(text);
    drop(plan);
    drop(program);
    phase("freeing the graph and its JSON", start);

    table.row(vec!["peak".to_string(), String::new(), memory("VmHWM")]);
    print!("{}", table.render());
    println!("graph: {nodes} nodes, {edges} edges\n");

    println!("planning by layer (variants of the program, planned the same way):");
    let loops = planning_time(dir.path(), args, Variant::LoopsOnly)?;
    let calls = planning_time(dir.path(), args, Variant::CallsWithoutFiles)?;
    let full = planning_time(dir.path(), args, Variant::Calls)?;
    let mut layers = Table::new(&["layer", "time", "measured as"]);
    layers.row(vec![
        "evaluator: loops, lets, ifs, path strings".to_string(),
        seconds(loops),
        "the loops without calls".to_string(),
    ]);
    layers.row(vec![
        "task calls: binding, futures, nodes".to_string(),
        seconds(calls.saturating_sub(loops)),
        "calls with str parameters − loops".to_string(),
    ]);
    layers.row(vec![
        "file dependencies: paths, versions, edges".to_string(),
        seconds(full.saturating_sub(calls)),
        "calls with file parameters − str".to_string(),
    ]);
    layers.row(vec![
        "planning in all".to_string(),
        seconds(full),
        "calls with file parameters".to_string(),
    ]);
    print!("{}", layers.render());
    Ok(())
}

/// Plans the program's entry workflow as `weft graph` does.
fn plan(program: &Program, base: &Path) -> Result<Plan, String> {
    let workflow = program.entry_workflow(None)?;
    plan_workflow(
        program,
        program.root,
        workflow,
        IndexMap::new(),
        base,
        &mut |_, _| None,
    )
    .map_err(|d| format!("planning: {}", d.message))
}

/// How long planning a variant of the program takes (parsing and freeing not counted).
fn planning_time(dir: &Path, args: PlanArgs, variant: Variant) -> Result<Duration, String> {
    let path = measure::write_file(dir, "variant.wf", &million_calls(args, variant))?;
    let program = Program::load(&path).map_err(|d| first_message("parse", &d))?;
    let start = Instant::now();
    let plan = plan(&program, dir)?;
    let elapsed = start.elapsed();
    drop(plan);
    Ok(elapsed)
}

fn first_message(phase: &str, diagnostics: &[Diagnostic]) -> String {
    match diagnostics.first() {
        Some(d) => format!("{phase}: {}", d.message),
        None => format!("{phase} failed"),
    }
}

/// A memory figure of this process from /proc/self/status (`VmRSS`, now; `VmHWM`, peak).
fn memory(key: &str) -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(key)?.strip_prefix(':'))
        .and_then(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .map_or_else(|| "?".to_string(), |kib| measure::mebibytes(Some(kib)))
}
