//! Running a child process and measuring it: wall time, and peak resident memory from the
//! kernel's accounting of waited-for children.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::resource::{getrusage, UsageWho};

/// What one child run cost.
pub struct Measured {
    pub wall: Duration,
    /// User and system CPU time of the child and the children it waited for: unlike the
    /// wall time, hardly changed by other work on a shared machine.
    pub cpu: Option<Duration>,
    /// The largest resident set of any child this process waited for so far, in KiB
    /// (`ru_maxrss` of `RUSAGE_CHILDREN`): the peak of this child when it is the biggest.
    pub peak_rss_kib: Option<u64>,
}

/// The weft binary to measure: the one given, or `weft` beside this binary.
pub fn weft_binary(given: Option<PathBuf>) -> Result<PathBuf, String> {
    let path = match given {
        Some(path) => path,
        None => std::env::current_exe()
            .map_err(|e| format!("cannot find this binary's directory: {e}"))?
            .with_file_name("weft"),
    };
    if path.is_file() {
        Ok(path)
    } else {
        Err(format!(
            "no weft binary at {}: build it first with `cargo build --release -p weft`, or \
             name one with --weft PATH",
            path.display()
        ))
    }
}

/// Runs `command` to its end with standard output discarded; fails, with the end of its
/// standard error, if it does not succeed.
pub fn run(command: &mut Command) -> Result<Measured, String> {
    let shown = format!("{command:?}");
    let cpu_before = children_cpu();
    let start = Instant::now();
    let output = command
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| format!("cannot run {shown}: {e}"))?;
    let wall = start.elapsed();
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(15).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "{shown} ended with {}:\n{}",
            output.status,
            tail.join("\n")
        ));
    }
    let peak_rss_kib = getrusage(UsageWho::RUSAGE_CHILDREN)
        .ok()
        .and_then(|usage| u64::try_from(usage.max_rss()).ok());
    let cpu = match (cpu_before, children_cpu()) {
        (Some(before), Some(after)) => after.checked_sub(before),
        _ => None,
    };
    Ok(Measured {
        wall,
        cpu,
        peak_rss_kib,
    })
}

/// User plus system CPU time of every child waited for so far.
fn children_cpu() -> Option<Duration> {
    let usage = getrusage(UsageWho::RUSAGE_CHILDREN).ok()?;
    let time = |t: nix::sys::time::TimeVal| {
        Duration::from_secs(u64::try_from(t.tv_sec()).ok()?)
            .checked_add(Duration::from_micros(u64::try_from(t.tv_usec()).ok()?))
    };
    time(usage.user_time())?.checked_add(time(usage.system_time())?)
}

/// The best (shortest) of several measurements.
pub fn best(runs: &[Measured]) -> Option<&Measured> {
    runs.iter().min_by_key(|m| m.wall)
}

/// A CPU time as the tables show it.
pub fn cpu_seconds(cpu: Option<Duration>) -> String {
    cpu.map_or_else(|| "?".to_string(), seconds)
}

/// Seconds with milliseconds, as the tables show them.
pub fn seconds(d: Duration) -> String {
    format!("{:.3} s", d.as_secs_f64())
}

/// A size in KiB as MiB.
pub fn mebibytes(kib: Option<u64>) -> String {
    kib.map_or_else(
        || "?".to_string(),
        |k| format!("{:.0} MiB", k as f64 / 1024.0),
    )
}

/// Writes `text` as `name` in `dir`.
pub fn write_file(dir: &Path, name: &str, text: &str) -> Result<PathBuf, String> {
    let path = dir.join(name);
    std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    Ok(path)
}

/// A fresh temporary directory for one benchmark's files.
pub fn temp_dir() -> Result<tempfile::TempDir, String> {
    tempfile::Builder::new()
        .prefix("weft-bench-")
        .tempdir()
        .map_err(|e| format!("cannot make a temporary directory: {e}"))
}
