//! `phases`: the million-call program planned inside this process, each phase timed, to
//! see where `weft graph`'s time and memory go (no profiler needed).

use std::path::Path;
use std::time::Instant;

use indexmap::IndexMap;
use weft_compiler::analysis::analyze;
use weft_compiler::diagnostic::Severity;
use weft_compiler::plan::plan_workflow;
use weft_compiler::program::Program;

use crate::measure::{self, seconds};
use crate::programs::million_calls;
use crate::table::Table;
use crate::PlanArgs;

pub fn run(args: PlanArgs) -> Result<(), String> {
    let dir = measure::temp_dir()?;
    let path = measure::write_file(dir.path(), "main.wf", &million_calls(args))?;
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

    let workflow = program.entry_workflow(None)?;
    let start = Instant::now();
    let plan = plan_workflow(
        &program,
        program.root,
        workflow,
        IndexMap::new(),
        dir.path(),
        &mut |_, _| None,
    )
    .map_err(|d| format!("planning: {}", d.message))?;
    phase("planning (evaluator + dependencies)", start);
    let (nodes, edges) = (plan.nodes.len(), plan.edges.len());

    let start = Instant::now();
    let json = plan.to_json();
    phase("graph to a JSON value", start);

    let start = Instant::now();
    let text = format!("{json}\n");
    phase("JSON value to text", start);

    let start = Instant::now();
    write(&dir.path().join("graph.json"), &text)?;
    phase("writing the file", start);

    table.row(vec!["peak".to_string(), String::new(), memory("VmHWM")]);
    print!("{}", table.render());
    println!(
        "graph: {nodes} nodes, {edges} edges, {:.1} MiB of JSON",
        text.len() as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn first_message(phase: &str, diagnostics: &[weft_compiler::diagnostic::Diagnostic]) -> String {
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
