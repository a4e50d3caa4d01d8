//! The dispatcher alone: a workflow of N independent calls whose attempts do nothing (an
//! in-process launcher that answers at once), so what is measured is weft's own work per
//! task — the body's evaluation and dependency analysis, the channel, scheduling, resource
//! accounting, versions, records. Prints tasks per second and the peak resident memory.
//!
//! `cargo bench -p weft-executor --bench dispatch [-- N…]` (default: 100000 1000000).
//! Each N runs in a child process of its own, so peak memory is that run's alone.

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;
use weft_compiler::config::Config;
use weft_compiler::program::Program;
use weft_executor::attempt::{AttemptOutcome, AttemptSpec};
use weft_executor::launch::{Launcher, Placement, Running};
use weft_executor::runtime::{run, RunEnd, RunRequest};

/// Every attempt succeeds at once, without a process.
struct Nothing;

impl Launcher for Nothing {
    fn launch(&self, _: AttemptSpec, _: Placement, _: CancellationToken) -> Running {
        Box::pin(async {
            AttemptOutcome::Succeeded {
                returned: None,
                out_json: IndexMap::new(),
            }
        })
    }
}

const PROGRAM: &str = r#"
task nothing(i: int) {
    binary "true"
}

workflow main(n: int) {
    for i in range(n) {
        nothing(i)
    }
}
"#;

/// Runs one workflow of `n` calls in this process; prints `n seconds peak_kib`.
fn child(n: i64) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    std::env::set_current_dir(dir.path()).expect("enter it");
    let program = Program::from_source(std::path::Path::new("bench.wf"), PROGRAM.to_string())
        .expect("the benchmark program checks");
    let mut args = IndexMap::new();
    args.insert("n".to_string(), weft_compiler::value::Value::Int(n));
    let started = Instant::now();
    let end = run(RunRequest {
        program: Arc::new(program),
        workflow: "main".to_string(),
        args,
        config: Config::default(),
        sequential: false,
        jobs: None,
        recording: Default::default(),
        launcher: Some(Arc::new(Nothing)),
        progress: Default::default(),
    });
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(end, RunEnd::Success);
    println!("{n} {seconds} {}", peak_kib());
}

/// The process's peak resident set (VmHWM), in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if let Some(n) = args.iter().position(|a| a == "--child") {
        child(args[n + 1].parse().expect("a count"));
        return;
    }
    let counts: Vec<i64> = if args.is_empty() {
        vec![100_000, 1_000_000]
    } else {
        args.iter().filter_map(|a| a.parse().ok()).collect()
    };
    println!("| calls | wall (s) | tasks/s | µs/task | peak RSS (MiB) |");
    println!("|---:|---:|---:|---:|---:|");
    for n in counts {
        let out = Command::new(std::env::current_exe().expect("this benchmark"))
            .args(["--child", &n.to_string()])
            .stderr(std::process::Stdio::null())
            .output()
            .expect("the child runs");
        let text = String::from_utf8_lossy(&out.stdout);
        let fields: Vec<f64> = text
            .split_whitespace()
            .filter_map(|f| f.parse().ok())
            .collect();
        let [_, seconds, kib] = fields[..] else {
            panic!("the child for {n} failed: {text}");
        };
        println!(
            "| {n} | {seconds:.2} | {:.0} | {:.1} | {:.0} |",
            n as f64 / seconds,
            seconds * 1e6 / n as f64,
            kib / 1024.0
        );
    }
}
