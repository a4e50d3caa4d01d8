//! Executor backends beyond this machine (§8.1): where `executor: ssh` and `executor: slurm`
//! send attempts, behind the one [`Launcher`] trait the dispatcher knows.
//!
//! - [`ssh`]: a `weft worker` on each host, over one multiplexed OpenSSH connection.
//! - [`slurm`]: job steps inside an allocation (`srun`) or one batch job per attempt
//!   (`sbatch`).
//! - [`worker`]: `weft worker`, the other end of both.
//! - [`wire`]: what crosses between them; [`staging`]: files sent to hosts that do not share
//!   the run's file system.

pub mod slurm;
pub mod ssh;
pub mod staging;
pub mod wire;
pub mod worker;

use std::path::Path;
use std::sync::Arc;

use weft_compiler::config::{Config, ExecutorKind, ResourceSpec, SlurmMode};

use crate::launch::{Launcher, Local};

/// How a run reaches its resources, and which they are.
pub struct Backend {
    pub launcher: Arc<dyn Launcher>,
    /// The resources the dispatcher places attempts on, in order.
    pub resources: Vec<ResourceSpec>,
}

/// The backend the configuration's `executor` names. `run_dir` is the run's directory (staged
/// ssh hosts mirror it; a Slurm script template file is relative to it). The error says why
/// the backend cannot be used (no allocation for `srun`, no `sinfo` for `sbatch`, …).
pub fn for_config(config: &Config, run_dir: &Path) -> Result<Backend, String> {
    match config.executor {
        ExecutorKind::Local => Ok(Backend {
            launcher: Arc::new(Local),
            resources: config.resources(),
        }),
        ExecutorKind::Ssh => {
            let hosts = config
                .ssh
                .as_ref()
                .map(|ssh| ssh.hosts.clone())
                .unwrap_or_default();
            Ok(Backend {
                launcher: Arc::new(ssh::SshLauncher::new(&hosts, run_dir.to_path_buf())),
                resources: config.resources(),
            })
        }
        ExecutorKind::Slurm => {
            let slurm = config.slurm.clone().unwrap_or_default();
            let resources = match slurm.mode {
                SlurmMode::Srun => slurm::allocation_resources(&config.local)?,
                SlurmMode::Sbatch => slurm::partition_resources(&slurm, &config.local)?,
            };
            Ok(Backend {
                launcher: Arc::new(slurm::SlurmLauncher::new(slurm, run_dir)?),
                resources,
            })
        }
    }
}
