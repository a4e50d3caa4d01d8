//! `weft worker`: the hidden command the ssh and slurm executors start on the machines that
//! run attempts (executor/src/backends/worker.rs does the work).
//!
//! - `weft worker [--workdir DIR]`: serves attempts read from standard input until it ends
//!   (ssh).
//! - `weft worker --attempt FILE --outcome FILE`: runs one attempt (a Slurm step or job).

use crate::cli::WorkerArgs;
use crate::exit;

pub fn run(args: WorkerArgs) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("weft worker: cannot start the runtime: {e}");
            return exit::TASK_FAILED;
        }
    };
    let result = runtime.block_on(async {
        match (&args.attempt, &args.outcome) {
            (Some(attempt), Some(outcome)) => {
                weft_executor::backends::worker::run_attempt_file(attempt, outcome).await
            }
            _ => {
                weft_executor::backends::worker::serve(
                    args.workdir.clone(),
                    tokio::io::stdin(),
                    tokio::io::stdout(),
                )
                .await
            }
        }
    });
    // Attempts killed on the way out may leave reaping tasks behind: do not wait for them.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => exit::SUCCESS,
        Err(message) => {
            eprintln!("weft worker: {message}");
            exit::TASK_FAILED
        }
    }
}
