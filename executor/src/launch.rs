//! Where attempts run: the one seam between the dispatcher and the machines.
//!
//! The dispatcher decides *when* and *on which resources* an attempt runs; a `Launcher`
//! decides *how* it gets there: a process on this machine, a worker over SSH, a Slurm job
//! step or batch job. Every launcher ends in the same `AttemptOutcome`.

use std::future::Future;
use std::pin::Pin;

use tokio_util::sync::CancellationToken;
use weft_compiler::config::ResourceSpec;

use crate::attempt::{run_attempt, AttemptOutcome, AttemptSpec};

/// A running attempt, as the dispatcher awaits it.
pub type Running = Pin<Box<dyn Future<Output = AttemptOutcome> + Send>>;

pub trait Launcher: Send + Sync {
    /// Runs one attempt on the resources reserved for it (one, or several for `multinode`
    /// and `mpi` with `nodes`), until it ends or `cancel` fires.
    fn launch(
        &self,
        spec: AttemptSpec,
        resources: Vec<ResourceSpec>,
        cancel: CancellationToken,
    ) -> Running;
}

/// Attempts run as processes of this machine.
pub struct Local;

impl Launcher for Local {
    fn launch(
        &self,
        spec: AttemptSpec,
        _resources: Vec<ResourceSpec>,
        cancel: CancellationToken,
    ) -> Running {
        Box::pin(async move { run_attempt(&spec, cancel).await })
    }
}
