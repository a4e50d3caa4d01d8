//! weft's benchmarks, each printing its figures as a small table:
//!
//! - `plan`: `weft graph --format json` on a program whose loops make a million task calls
//!   over ten thousand files (wall time and peak memory of the child; goal ≤ 2 s, ≤ 1 GiB);
//! - `phases`: the same program planned inside this process, timing each phase (parse,
//!   analysis, planning, graph to JSON, writing), to see where `plan`'s time goes;
//! - `tasks`: ten thousand independent `binary "true"` tasks at `-j 2`, against
//!   `seq 10000 | xargs -P2 -n1 true` (goal: ≤ 1.3× the time of xargs).
//!
//! `cargo build --release -p weft && cargo run --release -p weft-bench -- plan`

mod measure;
mod phases;
mod plan;
mod programs;
mod table;
mod tasks;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "weft-bench", about = "weft's benchmarks")]
struct Cli {
    /// The weft binary to measure (default: `weft` beside this binary, i.e. the one
    /// `cargo build --release -p weft` made)
    #[arg(long, global = true, env = "WEFT_BIN")]
    weft: Option<PathBuf>,
    #[command(subcommand)]
    bench: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// `weft graph --format json` on a program of a million task calls
    Plan(PlanArgs),
    /// The phases of planning that program, timed inside this process
    Phases(PlanArgs),
    /// Ten thousand `binary "true"` tasks, against xargs
    Tasks(TasksArgs),
}

#[derive(Args, Clone, Copy)]
pub struct PlanArgs {
    /// Iterations of the outer loop
    #[arg(long, default_value_t = 1000)]
    outer: u64,
    /// Iterations of the inner loop (calls = outer × inner)
    #[arg(long, default_value_t = 1000)]
    inner: u64,
    /// Distinct files the calls use
    #[arg(long, default_value_t = 10_000)]
    files: u64,
    /// Runs to make; the table shows each and the best
    #[arg(long, default_value_t = 1)]
    runs: u32,
}

#[derive(Args, Clone, Copy)]
pub struct TasksArgs {
    /// Tasks to run
    #[arg(long, default_value_t = 10_000)]
    count: u64,
    /// Tasks at once (`weft run -j`, `xargs -P`)
    #[arg(long, default_value_t = 2)]
    jobs: u32,
    /// Runs of each command; the ratio uses the best of each
    #[arg(long, default_value_t = 1)]
    runs: u32,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.bench {
        Bench::Plan(args) => measure::weft_binary(cli.weft).and_then(|weft| plan::run(&weft, args)),
        Bench::Phases(args) => phases::run(args),
        Bench::Tasks(args) => {
            measure::weft_binary(cli.weft).and_then(|weft| tasks::run(&weft, args))
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("weft-bench: {message}");
            ExitCode::FAILURE
        }
    }
}
