//! Where attempts run: the one seam between the dispatcher and the machines.
//!
//! The dispatcher decides *when* and *on which resources* an attempt runs; a `Launcher`
//! decides *how* it gets there: a process on this machine, a worker over SSH, a Slurm job
//! step or batch job. Every launcher ends in the same `AttemptOutcome`.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use weft_compiler::config::ResourceSpec;

use crate::attempt::{run_attempt, AttemptOutcome, AttemptSpec};

/// A running attempt, as the dispatcher awaits it.
pub type Running = Pin<Box<dyn Future<Output = AttemptOutcome> + Send>>;

/// Where an attempt runs and what it holds there: what the dispatcher reserved for it.
#[derive(Clone, Debug, PartialEq)]
pub struct Placement {
    /// The resources, as configured: one, or several for `multinode` and `mpi` with `nodes`.
    pub nodes: Vec<ResourceSpec>,
    /// What is reserved on each of them.
    pub cores: u32,
    /// Bytes; 0 when the task asked for none.
    pub memory: u64,
    pub gpus: u32,
    /// The task's `walltime` constraint (Slurm's time limit).
    pub walltime: Option<Duration>,
}

pub trait Launcher: Send + Sync {
    /// Runs one attempt on the resources reserved for it, until it ends or `cancel` fires.
    /// The future is polled on the dispatcher's loop: what may block (spawning a process,
    /// writing files, waiting on a socket without tokio) goes through [`on_worker`].
    fn launch(&self, spec: AttemptSpec, placement: Placement, cancel: CancellationToken)
        -> Running;

    /// Whether the resource has been lost for the rest of the run (an ssh host that died):
    /// the attempts that failed on it run again elsewhere, not counted as retries.
    fn is_lost(&self, _resource: &ResourceSpec) -> bool {
        false
    }
}

/// Attempts run as processes of this machine.
pub struct Local;

impl Launcher for Local {
    fn launch(
        &self,
        spec: AttemptSpec,
        _placement: Placement,
        cancel: CancellationToken,
    ) -> Running {
        on_worker(async move { run_attempt(&spec, cancel).await })
    }
}

/// Runs an attempt's future on tokio's worker threads, off the dispatcher's loop: processes
/// are spawned and their files written in parallel with the dispatcher's own work.
pub fn on_worker(attempt: impl Future<Output = AttemptOutcome> + Send + 'static) -> Running {
    let handle = tokio::spawn(attempt);
    Box::pin(async move {
        handle.await.unwrap_or_else(|e| AttemptOutcome::Failed {
            message: format!("internal error: the attempt's task ended abnormally: {e}"),
        })
    })
}
