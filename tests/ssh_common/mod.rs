//! What the ssh and Slurm tests share: the weft binary, whether the test hosts or the test
//! cluster are there (.ci/setup-ssh.sh, .ci/setup-slurm.sh), runs with a time limit, and a
//! spare ssh host the fault tests start and kill.
//!
//! Without the services a test prints a notice and passes, so that `cargo test` passes on a
//! machine without sshd or Slurm; with `WEFT_REQUIRE_CLUSTER=1` (CI) it fails instead.

#![allow(dead_code)]

pub mod conformance;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub fn weft() -> &'static str {
    env!("CARGO_BIN_EXE_weft")
}

/// Whether the test may go on; `what` names the missing service in the notice.
fn available(ok: bool, what: &str, setup: &str) -> bool {
    if ok {
        return true;
    }
    if std::env::var("WEFT_REQUIRE_CLUSTER").as_deref() == Ok("1") {
        panic!("{what} is not reachable and WEFT_REQUIRE_CLUSTER=1: run {setup} first");
    }
    eprintln!("notice: {what} is not reachable; test skipped (run {setup} to enable it)");
    false
}

/// Whether the ssh test hosts answer (weft-host1 … weft-host3).
pub fn ssh_hosts() -> bool {
    let ok = (1..=3).all(|i| {
        Command::new("ssh")
            .args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=3"])
            .arg(format!("weft-host{i}"))
            .arg("true")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    available(ok, "the ssh test hosts", ".ci/setup-ssh.sh")
}

/// Whether the Slurm test cluster answers and has its three nodes.
pub fn slurm_cluster() -> bool {
    let ok = Command::new("sinfo")
        .args(["-h", "-N", "-o", "%N"])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|o| {
            o.status.success() && String::from_utf8_lossy(&o.stdout).lines().count() >= 3
        });
    available(ok, "the Slurm test cluster", ".ci/setup-slurm.sh")
}

/// A fresh directory for one run, with `main.wf` and `weft.yaml`.
pub fn project(workflow: &str, config: &str) -> tempfile::TempDir {
    let dir = tempfile::Builder::new()
        .prefix("weft-cluster-")
        .tempdir()
        .expect("temporary directory");
    std::fs::write(dir.path().join("main.wf"), workflow).unwrap();
    std::fs::write(dir.path().join("weft.yaml"), config).unwrap();
    dir
}

/// `weft run main.wf` in `dir` (through `wrapper`, e.g. salloc, when given), killed after
/// `limit`.
pub fn run_in(dir: &Path, wrapper: &[&str], limit: Duration) -> Output {
    let child = spawn_in(dir, wrapper, &["run", "main.wf"]);
    wait_with_limit(child, limit)
}

pub fn spawn_in(dir: &Path, wrapper: &[&str], args: &[&str]) -> Child {
    let mut command = match wrapper.split_first() {
        Some((program, rest)) => {
            let mut command = Command::new(program);
            command.args(rest).arg(weft());
            command
        }
        None => Command::new(weft()),
    };
    command
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("weft starts")
}

pub fn wait_with_limit(mut child: Child, limit: Duration) -> Output {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > limit => {
                let _ = child.kill();
                let output = child.wait_with_output().expect("weft's output");
                panic!(
                    "weft did not end within {limit:?}\nstdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("cannot wait for weft: {e}"),
        }
    }
    child.wait_with_output().expect("weft's output")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Asserts a run's exit status, showing its output when it differs.
pub fn assert_status(output: &Output, expected: i32) {
    assert_eq!(
        output.status.code(),
        Some(expected),
        "stdout:\n{}\nstderr:\n{}",
        text(&output.stdout),
        text(&output.stderr)
    );
}

/// Waits until `ready` holds, at most `limit`.
pub fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if ready() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    ready()
}

/// The spare ssh host (`weft-spare` in ~/.ssh/config, port 2204): an sshd of its own, started
/// by the test, so that killing it disturbs no other test.
pub struct SpareHost {
    sshd: Option<Child>,
    /// One spare host at a time: the tests of one binary run in parallel.
    _alone: std::sync::MutexGuard<'static, ()>,
}

static SPARE_IN_USE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The spare host's port: the one after the three test hosts (.ci/setup-ssh.sh).
const SPARE_PORT: u16 = 2204;

impl SpareHost {
    pub fn start() -> SpareHost {
        // A test that failed while holding the spare leaves the lock poisoned, not broken.
        let alone = SPARE_IN_USE.lock().unwrap_or_else(|e| e.into_inner());
        let config = PathBuf::from("/run/weft-sshd/sshd_host1.conf");
        let sshd = Command::new("/usr/sbin/sshd")
            .arg("-D")
            .arg("-f")
            .arg(&config)
            .args(["-o", &format!("Port={SPARE_PORT}")])
            .args(["-o", "PidFile=none"])
            .args(["-E", "/run/weft-sshd/sshd_spare.log"])
            .stdin(Stdio::null())
            .spawn()
            .expect("sshd for the spare host starts");
        let host = SpareHost {
            sshd: Some(sshd),
            _alone: alone,
        };
        let up = wait_for(Duration::from_secs(10), || {
            Command::new("ssh")
                .args(["-o", "BatchMode=yes", "-o", "ConnectTimeout=2"])
                .args(["-o", "ControlMaster=no", "-o", "ControlPath=none"])
                .args(["weft-spare", "true"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        });
        assert!(up, "the spare ssh host did not come up");
        host
    }

    /// Kills the host as a crash would: its sshd and everything below it (sessions, the
    /// worker, the tasks). Everything is stopped first, then killed, so that nothing on the
    /// host gets to say anything about the others' end.
    pub fn kill(&mut self) {
        let Some(mut sshd) = self.sshd.take() else {
            return;
        };
        let root = sshd.id();
        let _ = Command::new("kill")
            .args(["-STOP", &root.to_string()])
            .status();
        let mut tree = vec![root];
        tree.extend(descendants(root));
        let pids: Vec<String> = tree.iter().map(u32::to_string).collect();
        for signal in ["-STOP", "-KILL"] {
            let _ = Command::new("kill")
                .arg(signal)
                .args(&pids)
                .stderr(Stdio::null())
                .status();
        }
        let _ = sshd.wait();
    }
}

impl SpareHost {
    /// Freezes the host (SIGSTOP on its sshd and everything below it): its connections stay
    /// open but nothing answers, as with a hung machine or a cut network.
    pub fn freeze(&mut self) {
        let Some(sshd) = &self.sshd else {
            return;
        };
        let root = sshd.id();
        let mut tree = vec![root];
        tree.extend(descendants(root));
        let _ = Command::new("kill")
            .arg("-STOP")
            .args(tree.iter().map(u32::to_string))
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for SpareHost {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Every process below `pid`, from /proc.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
                continue;
            };
            // The parent is the second field after the command name, which ends with ')'.
            let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
            if let Some(parent) = after.split_whitespace().nth(1).and_then(|p| p.parse().ok()) {
                parents.push((child, parent));
            }
        }
    }
    let mut found = Vec::new();
    let mut pending = vec![pid];
    while let Some(current) = pending.pop() {
        for &(child, parent) in &parents {
            if parent == current {
                pending.push(child);
                found.push(child);
            }
        }
    }
    found
}
