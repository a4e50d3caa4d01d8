//! The whole conformance suite under the slurm executor: job steps inside an allocation
//! shaped like each case's machine, and one batch job per attempt.

mod ssh_common;

use ssh_common::conformance::{run_suite, Backend};

fn suite_under(backend: Backend) {
    if !ssh_common::slurm_cluster() {
        return;
    }
    match run_suite(backend) {
        Ok(report) => println!("{report}"),
        Err(reason) => eprintln!("notice: conformance under {backend:?} skipped: {reason}"),
    }
}

#[test]
fn conformance_under_slurm_srun() {
    suite_under(Backend::SlurmSrun);
}

#[test]
fn conformance_under_slurm_sbatch() {
    suite_under(Backend::SlurmSbatch);
}
