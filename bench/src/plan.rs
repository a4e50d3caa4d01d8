//! `plan`: `weft graph --format json` on a program of a million task calls.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::measure::{self, cpu_seconds, mebibytes, seconds, Measured};
use crate::programs::{million_calls, Variant};
use crate::table::Table;
use crate::PlanArgs;

const GOAL_WALL: Duration = Duration::from_secs(2);
const GOAL_RSS_KIB: u64 = 1024 * 1024;

pub fn run(weft: &Path, args: PlanArgs) -> Result<(), String> {
    let dir = measure::temp_dir()?;
    let program = measure::write_file(dir.path(), "main.wf", &million_calls(args, Variant::Calls))?;
    let graph = dir.path().join("graph.json");
    let calls = args.outer * args.inner;
    println!(
        "plan: `weft graph --format json -o graph.json main.wf`, {calls} calls over {} files",
        args.files
    );
    let mut runs: Vec<Measured> = Vec::new();
    for _ in 0..args.runs.max(1) {
        let mut command = Command::new(weft);
        command
            .current_dir(dir.path())
            .args(["graph", "--format", "json", "-o"])
            .arg(&graph)
            .arg(&program);
        runs.push(measure::run(&mut command)?);
    }
    let shape = GraphShape::of(&graph)?;
    let mut table = Table::new(&["run", "wall", "CPU (user+sys)", "peak RSS"]);
    for (i, m) in runs.iter().enumerate() {
        table.row(vec![
            format!("{}", i + 1),
            seconds(m.wall),
            cpu_seconds(m.cpu),
            mebibytes(m.peak_rss_kib),
        ]);
    }
    let best = measure::best(&runs).expect("at least one run");
    let met = |ok: bool| if ok { "met" } else { "NOT met" };
    table.row(vec![
        "goal".to_string(),
        format!("≤ {} ({})", seconds(GOAL_WALL), met(best.wall <= GOAL_WALL)),
        String::new(),
        format!(
            "≤ 1024 MiB ({})",
            met(best.peak_rss_kib.is_some_and(|k| k <= GOAL_RSS_KIB))
        ),
    ]);
    print!("{}", table.render());
    println!(
        "graph: {} nodes, {} edges, {:.1} MiB of JSON",
        shape.nodes,
        shape.edges,
        shape.bytes as f64 / (1024.0 * 1024.0)
    );
    if shape.nodes != calls {
        println!(
            "warning: the graph has {} nodes for {calls} calls: planning stopped early",
            shape.nodes
        );
    }
    Ok(())
}

/// Counts of the graph `weft graph --format json` wrote, without parsing a file of a
/// hundred megabytes: one `"task":` key per node, one `"from":` key per edge.
struct GraphShape {
    nodes: u64,
    edges: u64,
    bytes: u64,
}

impl GraphShape {
    fn of(path: &Path) -> Result<GraphShape, String> {
        let text =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(GraphShape {
            nodes: occurrences(&text, b"\"task\":"),
            edges: occurrences(&text, b"\"from\":"),
            bytes: text.len() as u64,
        })
    }
}

fn occurrences(haystack: &[u8], needle: &[u8]) -> u64 {
    haystack
        .windows(needle.len())
        .filter(|w| *w == needle)
        .count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_counted() {
        let json =
            br#"{"nodes":[{"id":0,"task":"a"},{"id":1,"task":"b"}],"edges":[{"from":0,"to":1}]}"#;
        assert_eq!(occurrences(json, b"\"task\":"), 2);
        assert_eq!(occurrences(json, b"\"from\":"), 1);
    }
}
