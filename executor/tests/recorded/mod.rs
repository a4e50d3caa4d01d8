//! Runs a workflow with the real runtime, in a fresh directory, and gives back what the run
//! recorded. The runtime runs in the current directory, which is one per process: runs are
//! taken one at a time.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use weft_compiler::config::Config;
use weft_compiler::program::Program;
use weft_executor::record::RunRecord;
use weft_executor::runtime::{run, Recording, RunEnd, RunRequest};

static CURRENT_DIR: Mutex<()> = Mutex::new(());

/// A workflow exercising what the reports show: dependencies, a group, a retried attempt,
/// an ignored failure that writes to standard error, a return value.
pub const WORKFLOW: &str = r#"
/// Writes the numbers 1..n.
task make(n: int, dst: out file) {
    shell "seq {{n}} > {{dst}}"
}

task flaky(dst: out file) {
    on_failure retry(1)
    shell "if [ \"$WEFT_ATTEMPT\" = 1 ]; then echo first attempt fails >&2; exit 3; fi; echo ok > {{dst}}"
}

task broken(src: file) {
    on_failure ignore
    shell "echo 'something went wrong: <b>&' >&2; exit 4"
}

task total(parts: [file]) -> int {
    shell "cat {{parts}} | wc -l"
}

workflow main() {
    let parts = []
    group "making" {
        for i in range(1, 4) {
            let p = "out/p{i}.txt"
            make(i, p)
            parts += [p]
        }
    }
    flaky("out/flaky.txt")
    broken("out/p1.txt")
    let n = total(parts)
    print("{n}")
}
"#;

pub struct Recorded {
    pub dir: tempfile::TempDir,
    pub end: RunEnd,
    pub record: RunRecord,
}

impl Recorded {
    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }
}

/// Runs `source` as `main.wf` in a fresh directory; `recording` names the outputs relative
/// to that directory.
pub fn run_recorded(source: &str, recording: impl FnOnce(&Path) -> Recording) -> Recorded {
    run_with_config(source, None, recording)
}

/// As `run_recorded`, with `weft.yaml` holding `config` when given.
pub fn run_with_config(
    source: &str,
    config: Option<&str>,
    recording: impl FnOnce(&Path) -> Recording,
) -> Recorded {
    let _only_one = CURRENT_DIR.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::Builder::new()
        .prefix("weft-recorded-")
        .tempdir()
        .expect("a temporary directory");
    let main = dir.path().join("main.wf");
    std::fs::write(&main, source).expect("write main.wf");
    let program = Program::load(&main).unwrap_or_else(|d| panic!("main.wf loads: {d:?}"));
    let mut recording = recording(dir.path());
    recording.workflow_file = PathBuf::from("main.wf");
    let config = match config {
        Some(yaml) => {
            let path = dir.path().join("weft.yaml");
            std::fs::write(&path, yaml).expect("write weft.yaml");
            recording.config_file = Some(PathBuf::from("weft.yaml"));
            Config::load(&path).unwrap_or_else(|d| panic!("weft.yaml loads: {d:?}"))
        }
        None => Config::default(),
    };
    let before = std::env::current_dir().expect("a current directory");
    std::env::set_current_dir(dir.path()).expect("enter the run directory");
    let end = run(RunRequest {
        program: Arc::new(program),
        workflow: "main".to_string(),
        args: IndexMap::new(),
        config,
        sequential: false,
        jobs: None,
        recording,
        launcher: None,
        progress: Default::default(),
    });
    std::env::set_current_dir(before).expect("leave the run directory");
    let runs = dir.path().join(".weft").join("runs");
    let folder = std::fs::read_dir(&runs)
        .expect("a runs folder")
        .map(|e| e.expect("an entry").path())
        .max()
        .expect("a run folder");
    let record = RunRecord::load(&folder).expect("run.json reads back");
    Recorded { dir, end, record }
}
