//! What every end-to-end test of the `weft` binary needs: a fresh directory to run in, the
//! binary started there with `NO_COLOR=1`, and what it printed.
//!
//! Each test binary uses a part of this module only.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// How long one `weft` command may take before the test fails as hung.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A fresh directory holding a workflow and its data; `weft` runs with it as the current
/// directory. Removed when dropped.
pub struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        Project {
            dir: tempfile::Builder::new()
                .prefix("weft-e2e-")
                .tempdir()
                .expect("a temporary directory"),
        }
    }

    /// A project whose `main.wf` holds `source`.
    pub fn with_main(source: &str) -> Project {
        let project = Project::new();
        project.write("main.wf", source);
        project
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    /// Writes a file (creating its directories).
    pub fn write(&self, relative: &str, contents: &str) -> &Project {
        let path = self.path(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create the parent directory");
        }
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {relative}: {e}"));
        self
    }

    /// A `weft.yaml` beside `main.wf` describing the local machine.
    pub fn config(&self, yaml: &str) -> &Project {
        self.write("weft.yaml", yaml)
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative))
            .unwrap_or_else(|e| panic!("read {relative}: {e}"))
    }

    pub fn exists(&self, relative: &str) -> bool {
        self.path(relative).exists()
    }

    /// The `weft` binary, to run in this directory.
    pub fn command(&self) -> assert_cmd::Command {
        let mut command = assert_cmd::Command::cargo_bin("weft").expect("the weft binary");
        command
            .current_dir(self.root())
            .env("NO_COLOR", "1")
            .env_remove("WEFT_ATTEMPT")
            .env_remove("CUDA_VISIBLE_DEVICES")
            .timeout(COMMAND_TIMEOUT);
        command
    }

    /// `weft ARGS…` in this directory.
    pub fn weft(&self, args: &[&str]) -> Outcome {
        Outcome::from(self.command().args(args).output().expect("weft starts"))
    }

    /// `weft run main.wf EXTRA…`.
    pub fn run(&self, extra: &[&str]) -> Outcome {
        let mut args = vec!["run", "main.wf"];
        args.extend_from_slice(extra);
        self.weft(&args)
    }

    /// Every file under the project except weft's own `.weft/` folder (and the workflow
    /// sources), relative path → contents: what a run leaves for its user.
    pub fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = BTreeMap::new();
        collect_files(self.root(), self.root(), &mut files);
        files.retain(|path, _| !path.ends_with(".wf") && path != "weft.yaml");
        files
    }

    /// The attempt directories of one task (`.weft/runs/*/tasks/*-NAME/attempt-*`), sorted.
    pub fn attempt_dirs(&self, task: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        let Ok(runs) = std::fs::read_dir(self.path(".weft/runs")) else {
            return found;
        };
        for run in runs.flatten() {
            let Ok(tasks) = std::fs::read_dir(run.path().join("tasks")) else {
                continue;
            };
            for entry in tasks.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.split_once('-').map(|(_, t)| t) != Some(task) {
                    continue;
                }
                for attempt in std::fs::read_dir(entry.path())
                    .into_iter()
                    .flatten()
                    .flatten()
                {
                    found.push(attempt.path());
                }
            }
        }
        found.sort();
        found
    }
}

fn collect_files(root: &Path, dir: &Path, into: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if entry.file_name() == ".weft" {
            continue;
        }
        if path.is_dir() {
            collect_files(root, &path, into);
        } else {
            let relative = path
                .strip_prefix(root)
                .expect("inside the root")
                .to_string_lossy()
                .into_owned();
            into.insert(relative, std::fs::read(&path).unwrap_or_default());
        }
    }
}

/// How a `weft` command ended and what it printed.
pub struct Outcome {
    /// The exit status; `None` when killed by a signal.
    pub status: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Outcome {
    fn from(output: Output) -> Outcome {
        Outcome {
            status: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Outcome {
    pub fn lines(&self) -> Vec<&str> {
        self.stdout.lines().collect()
    }

    /// Fails the test, showing everything weft printed, unless it exited with `status`.
    #[track_caller]
    pub fn expect_status(&self, status: i32) -> &Outcome {
        assert_eq!(
            self.status,
            Some(status),
            "unexpected exit status\n--- stdout\n{}--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn success(&self) -> &Outcome {
        self.expect_status(0)
    }

    /// Standard output is exactly these lines.
    #[track_caller]
    pub fn expect_stdout(&self, lines: &[&str]) -> &Outcome {
        assert_eq!(
            self.lines(),
            lines,
            "unexpected standard output\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn expect_stderr(&self, needle: &str) -> &Outcome {
        assert!(
            self.stderr.contains(needle),
            "standard error lacks {needle:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn expect_no_stderr(&self, needle: &str) -> &Outcome {
        assert!(
            !self.stderr.contains(needle),
            "standard error holds {needle:?}\n--- stderr\n{}",
            self.stderr
        );
        self
    }
}

/// A word no other process on the machine has in its command line: put into a task's
/// commands, `pgrep -f` finds the processes it started.
pub fn unique_marker() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "weftmark{}x{}x{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        nanos
    )
}

/// The ids of live processes whose command line contains `marker`.
pub fn processes_with(marker: &str) -> Vec<String> {
    let output = std::process::Command::new("pgrep")
        .args(["-f", marker])
        .output()
        .expect("pgrep runs");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

/// Waits up to `limit` for no process with `marker` to be left (the kernel may take a moment
/// to reap a killed group); returns the survivors.
pub fn survivors_after(marker: &str, limit: Duration) -> Vec<String> {
    let start = std::time::Instant::now();
    loop {
        let left = processes_with(marker);
        if left.is_empty() || start.elapsed() > limit {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Kills whatever `marker` processes a failed test left behind, so it does not leak them.
pub fn kill_marked(marker: &str) {
    for pid in processes_with(marker) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status();
    }
}

/// A `weft.yaml` for a local machine with this many cores (and nothing else said).
pub fn cores(n: u32) -> String {
    format!("executor: local\nlocal:\n  cores: {n}\n")
}

/// The 1-based line of `source` holding `needle` first: where a diagnostic should point.
#[track_caller]
pub fn line_of(source: &str, needle: &str) -> usize {
    source
        .lines()
        .position(|line| line.contains(needle))
        .map(|i| i + 1)
        .unwrap_or_else(|| panic!("{needle:?} is not in the source"))
}
