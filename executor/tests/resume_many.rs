//! Many small results through the resume state: every one a run records is found by the
//! next `--resume`, whatever the state's index did in between (its levels are merged as
//! results pile up), and a run of a changed workflow finds the results it still can.
//!
//! `WEFT_RESUME_CALLS=N cargo test --release -p weft-executor --test resume_many -- --nocapture`
//! runs N calls instead and prints how long each run took.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;
use weft_compiler::config::Config;
use weft_compiler::program::Program;
use weft_compiler::value::Value;
use weft_executor::attempt::{AttemptOutcome, AttemptSpec};
use weft_executor::launch::{Launcher, Placement, Running};
use weft_executor::resume::{Fingerprint, ResumeOptions};
use weft_executor::runtime::{run, Recording, RunEnd, RunRequest};

/// The runtime runs in the current directory, one per process.
static CURRENT_DIR: Mutex<()> = Mutex::new(());

/// Succeeds at once without a process, counting the attempts it was asked for.
#[derive(Default)]
struct Counting {
    launched: AtomicUsize,
}

impl Launcher for Counting {
    fn launch(&self, _: AttemptSpec, _: Placement, _: CancellationToken) -> Running {
        self.launched.fetch_add(1, Ordering::Relaxed);
        Box::pin(async {
            AttemptOutcome::Succeeded {
                returned: None,
                out_json: IndexMap::new(),
            }
        })
    }
}

/// `n` independent calls; `salt` is part of every call's arguments, so calls with another
/// salt are other calls.
const PROGRAM: &str = r#"
task step(i: int, salt: str) {
    binary "true"
}

workflow main(n: int, from: int, salt: str) {
    for i in range(from, n) {
        step(i, salt)
    }
}
"#;

struct Project {
    dir: tempfile::TempDir,
    program: Arc<Program>,
}

impl Project {
    fn new() -> Project {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let program = Program::from_source(std::path::Path::new("main.wf"), PROGRAM.to_string())
            .expect("the program checks");
        Project {
            dir,
            program: Arc::new(program),
        }
    }

    /// Runs calls `from..n`; returns how many attempts were launched (not restored).
    fn run(&self, from: i64, n: i64, salt: &str, resume: ResumeOptions) -> usize {
        let _only_one = CURRENT_DIR.lock().unwrap_or_else(|e| e.into_inner());
        let before = std::env::current_dir().expect("a current directory");
        std::env::set_current_dir(self.dir.path()).expect("enter the project");
        let launcher = Arc::new(Counting::default());
        let mut args = IndexMap::new();
        args.insert("n".to_string(), Value::Int(n));
        args.insert("from".to_string(), Value::Int(from));
        args.insert("salt".to_string(), Value::str(salt));
        let started = Instant::now();
        let end = run(RunRequest {
            program: self.program.clone(),
            workflow: "main".to_string(),
            args,
            config: Config::default(),
            sequential: false,
            jobs: None,
            recording: Recording {
                resume,
                ..Recording::default()
            },
            launcher: Some(launcher.clone()),
            progress: Default::default(),
        });
        let seconds = started.elapsed().as_secs_f64();
        std::env::set_current_dir(before).expect("leave the project");
        assert_eq!(end, RunEnd::Success);
        let launched = launcher.launched.load(Ordering::Relaxed);
        eprintln!(
            "{} calls ({} launched, reuse {}): {seconds:.2} s",
            n - from,
            launched,
            resume.reuse
        );
        launched
    }
}

fn calls() -> i64 {
    std::env::var("WEFT_RESUME_CALLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(6_000)
}

#[test]
fn every_recorded_result_is_found_again_and_only_those() {
    let n = calls();
    let project = Project::new();
    let record = ResumeOptions::default();
    let reuse = ResumeOptions {
        reuse: true,
        fingerprint: Fingerprint::Full,
    };
    let fast = ResumeOptions {
        reuse: true,
        fingerprint: Fingerprint::Fast,
    };
    assert_eq!(project.run(0, n, "a", record), n as usize);
    assert_eq!(project.run(0, n, "a", reuse), 0, "all restored");
    // A full-mode run stored its results under their fast keys too.
    assert_eq!(project.run(0, n, "a", fast), 0, "found by their fast keys");
    // Other arguments are other calls; more calls, only the new ones run.
    assert_eq!(project.run(0, n / 2, "b", reuse), (n / 2) as usize);
    assert_eq!(project.run(0, n + 100, "a", reuse), 100);
    assert_eq!(project.run(0, n + 100, "a", reuse), 0);
    assert_eq!(project.run(0, n / 2, "b", reuse), 0);
}
