//! The whole conformance suite under the ssh executor, on the shared file system and with
//! every host staging its files (the cases of ../shared/conformance, each with a weft.yaml
//! for the test hosts).

mod ssh_common;

use ssh_common::conformance::{run_suite, Backend};

fn suite_under(backend: Backend) {
    if !ssh_common::ssh_hosts() {
        return;
    }
    match run_suite(backend) {
        Ok(report) => println!("{report}"),
        Err(reason) => eprintln!("notice: conformance under {backend:?} skipped: {reason}"),
    }
}

#[test]
fn conformance_under_ssh() {
    suite_under(Backend::Ssh);
}

#[test]
fn conformance_under_ssh_with_staging() {
    suite_under(Backend::SshStaged);
}
