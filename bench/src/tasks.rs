//! `tasks`: the cost of running many small tasks, against xargs running the same processes.

use std::path::Path;
use std::process::Command;

use crate::measure::{self, cpu_seconds, seconds, Measured};
use crate::programs::independent_tasks;
use crate::table::Table;
use crate::TasksArgs;

const GOAL_RATIO: f64 = 1.3;

pub fn run(weft: &Path, args: TasksArgs) -> Result<(), String> {
    let dir = measure::temp_dir()?;
    let program = measure::write_file(dir.path(), "main.wf", &independent_tasks(args.count))?;
    let TasksArgs { count, jobs, runs } = args;
    println!("tasks: {count} independent `binary \"true\"` tasks, {jobs} at a time");
    let weft_line = format!("weft run -j {jobs} main.wf");
    let xargs_line = format!("seq {count} | xargs -P{jobs} -n1 true");
    let mut weft_runs: Vec<Measured> = Vec::new();
    let mut xargs_runs: Vec<Measured> = Vec::new();
    for _ in 0..runs.max(1) {
        // A fresh state folder each time: what `.weft/` holds grows with every run.
        let state = dir.path().join(".weft");
        if state.exists() {
            std::fs::remove_dir_all(&state)
                .map_err(|e| format!("cannot remove {}: {e}", state.display()))?;
        }
        let mut command = Command::new(weft);
        command
            .current_dir(dir.path())
            .args(["run", "-j", &jobs.to_string()])
            .arg(&program);
        weft_runs.push(measure::run(&mut command)?);
        let mut command = Command::new("sh");
        command.args(["-c", &xargs_line]);
        xargs_runs.push(measure::run(&mut command)?);
    }
    let weft_best = measure::best(&weft_runs).expect("at least one run");
    let xargs_best = measure::best(&xargs_runs).expect("at least one run");
    let per_task =
        |m: &Measured| format!("{:.0} µs", m.wall.as_secs_f64() * 1e6 / count.max(1) as f64);
    let mut table = Table::new(&[
        "command",
        "wall (best)",
        "per task",
        "CPU (best run)",
        "walls of all runs",
    ]);
    let all = |runs: &[Measured]| {
        runs.iter()
            .map(|m| seconds(m.wall))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (line, best, runs) in [
        (weft_line, weft_best, &weft_runs),
        (xargs_line, xargs_best, &xargs_runs),
    ] {
        table.row(vec![
            line,
            seconds(best.wall),
            per_task(best),
            cpu_seconds(best.cpu),
            all(runs),
        ]);
    }
    let ratio = weft_best.wall.as_secs_f64() / xargs_best.wall.as_secs_f64().max(1e-9);
    let cpu_ratio = match (weft_best.cpu, xargs_best.cpu) {
        (Some(w), Some(x)) => format!("{:.2}×", w.as_secs_f64() / x.as_secs_f64().max(1e-9)),
        _ => "?".to_string(),
    };
    let verdict = if ratio <= GOAL_RATIO {
        "met"
    } else {
        "NOT met"
    };
    table.row(vec![
        "ratio weft / xargs".to_string(),
        format!("{ratio:.2}×"),
        String::new(),
        cpu_ratio,
        format!("goal ≤ {GOAL_RATIO}× ({verdict})"),
    ]);
    print!("{}", table.render());
    Ok(())
}
