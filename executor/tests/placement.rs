//! Where the dispatcher places attempts over several resources (§4.2 `distributed`,
//! `replicated`), seen through a launcher that runs nothing and notes each placement.

use std::path::Path;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;
use weft_compiler::config::Config;
use weft_compiler::program::Program;
use weft_compiler::value::Value;
use weft_executor::attempt::{AttemptOutcome, AttemptSpec};
use weft_executor::launch::{Launcher, Placement, Running};
use weft_executor::runtime::{run, RunEnd, RunRequest};

/// Every attempt succeeds at once, returning the name of the resource it was placed on.
#[derive(Default)]
struct Notebook {
    placed: Mutex<Vec<(String, u64, u32, String)>>,
}

impl Launcher for Notebook {
    fn launch(&self, spec: AttemptSpec, placement: Placement, _: CancellationToken) -> Running {
        let host = placement.nodes[0].name.clone();
        let folder = spec
            .attempt_dir
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        self.placed.lock().expect("the notebook").push((
            spec.task_name.clone(),
            spec.task_id,
            spec.attempt,
            folder,
        ));
        Box::pin(async move {
            AttemptOutcome::Succeeded {
                returned: Some(Value::str(host)),
                out_json: IndexMap::new(),
            }
        })
    }
}

const HOSTS: &str = "executor: ssh\nssh:\n  hosts:\n    - { host: alpha, cores: 2 }\n    - { host: beta, cores: 2 }\n    - { host: gamma, cores: 2 }\n";

/// Runs `source` over the three hosts of `HOSTS`; the attempts launched, in order.
fn run_over_three_hosts(dir: &Path, source: &str) -> (RunEnd, Vec<(String, u64, u32, String)>) {
    let program = Program::from_source(&dir.join("main.wf"), source.to_string())
        .expect("the test program checks");
    let config = Config::from_yaml(&dir.join("weft.yaml"), HOSTS).expect("the configuration");
    let notebook = Arc::new(Notebook::default());
    std::env::set_current_dir(dir).expect("enter the run's directory");
    let end = run(RunRequest {
        program: Arc::new(program),
        workflow: "main".to_string(),
        args: IndexMap::new(),
        config,
        sequential: false,
        jobs: None,
        recording: Default::default(),
        launcher: Some(notebook.clone()),
        progress: Default::default(),
    });
    let placed = notebook.placed.lock().expect("the notebook").clone();
    (end, placed)
}

#[test]
fn a_replicated_call_runs_once_on_every_resource_and_returns_the_last_run_s_value() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let (end, placed) = run_over_three_hosts(
        dir.path(),
        r#"
task setup() -> str {
    replicated
    binary "true"
}

task plain() -> str {
    binary "true"
}

workflow main() {
    let last = setup()
    write("last.txt", last)
    plain()
}
"#,
    );
    assert_eq!(end, RunEnd::Success);
    let setup: Vec<_> = placed.iter().filter(|p| p.0 == "setup").collect();
    assert_eq!(setup.len(), 3, "once per host: {placed:?}");
    // Each replica is a first attempt, in a folder of its own.
    assert!(setup.iter().all(|p| p.2 == 1), "{setup:?}");
    let folders: Vec<&str> = setup.iter().map(|p| p.3.as_str()).collect();
    assert_eq!(
        folders,
        [
            "replica-1-attempt-1",
            "replica-2-attempt-1",
            "replica-3-attempt-1"
        ]
    );
    assert_eq!(placed.iter().filter(|p| p.0 == "plain").count(), 1);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("last.txt")).expect("written"),
        "gamma"
    );
}
