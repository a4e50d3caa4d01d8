//! Running an attempt's process: in its own process group, its streams on files, and on
//! timeout or cancellation the whole group terminated (SIGTERM, then SIGKILL) and waited
//! for, so that no process of the attempt outlives it (§6.2).

use std::fs::{File, OpenOptions};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;
use tokio::process::{Child, Command};
use tokio::time::{sleep, timeout, Instant};
use tokio_util::sync::CancellationToken;

use crate::command::CommandLine;

/// How long the process group gets to end after SIGTERM before it is sent SIGKILL.
pub const TERMINATE_GRACE: Duration = Duration::from_secs(2);

/// How long to wait, after SIGKILL, for the group's processes to be gone.
const KILL_WAIT: Duration = Duration::from_secs(2);

/// One process to run.
#[derive(Clone, Debug)]
pub struct ProcessSpec {
    pub command: CommandLine,
    pub workdir: PathBuf,
    /// Variables set on top of weft's environment.
    pub env: Vec<(String, String)>,
    /// Variables of weft's environment the process must not get.
    pub env_remove: Vec<String>,
    /// The file read as standard input; `/dev/null` when `None`.
    pub stdin: Option<PathBuf>,
    /// The files standard output and error are written to (created or truncated).
    pub stdout: PathBuf,
    pub stderr: PathBuf,
    /// Log files created empty before the process starts, whether or not a stream goes to
    /// them, so that they can always be named and read afterwards.
    pub logs: Vec<PathBuf>,
    pub timeout: Option<Duration>,
}

/// How a process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProcessEnd {
    Exited(i32),
    /// Killed by this signal (not by us).
    Signalled(i32),
    /// Ran past its timeout; its group was killed.
    TimedOut,
    /// Cancelled; its group was killed.
    Cancelled,
}

/// Why a process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot open {} for standard input: {source}", path.display())]
    Stdin {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create {}: {source}", path.display())]
    Output {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot run {}: {source}", program.display())]
    Spawn {
        program: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot wait for {}: {source}", program.display())]
    Wait {
        program: PathBuf,
        source: std::io::Error,
    },
}

/// Runs the process to its end, its timeout or the cancellation, whichever comes first.
pub async fn run_process(
    spec: &ProcessSpec,
    cancel: &CancellationToken,
) -> Result<ProcessEnd, ProcessError> {
    for log in &spec.logs {
        create_output(log)?;
    }
    let stdin = match &spec.stdin {
        Some(path) => Stdio::from(File::open(path).map_err(|source| ProcessError::Stdin {
            path: path.clone(),
            source,
        })?),
        None => Stdio::null(),
    };
    let stdout = create_output(&spec.stdout)?;
    let stderr = if spec.stderr == spec.stdout {
        stdout.try_clone().map_err(|source| ProcessError::Output {
            path: spec.stderr.clone(),
            source,
        })?
    } else {
        create_output(&spec.stderr)?
    };

    let program = &spec.command.program;
    let mut command = Command::new(program);
    command
        .args(&spec.command.args)
        .current_dir(&spec.workdir)
        .stdin(stdin)
        .stdout(stdout)
        .stderr(stderr)
        // Its own group, so that a timeout reaches the children it starts too.
        .process_group(0)
        // A safety net: should this future be dropped, the first process at least dies.
        .kill_on_drop(true);
    for name in &spec.env_remove {
        command.env_remove(name);
    }
    command.envs(spec.env.iter().map(|(k, v)| (k, v)));
    let mut child = command.spawn().map_err(|source| ProcessError::Spawn {
        program: program.clone(),
        source,
    })?;
    let wait_error = |source| ProcessError::Wait {
        program: program.clone(),
        source,
    };
    // The group's id is the first process's pid; known as long as it has not been waited for.
    let Some(group) = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .map(Pid::from_raw)
    else {
        let status = child.wait().await.map_err(wait_error)?;
        return Ok(end_of(status));
    };

    let deadline = spec.timeout.map(|limit| Instant::now() + limit);
    let stop = tokio::select! {
        status = child.wait() => return Ok(end_of(status.map_err(wait_error)?)),
        () = sleep_until(deadline) => ProcessEnd::TimedOut,
        () = cancel.cancelled() => ProcessEnd::Cancelled,
    };
    terminate_group(&mut child, group)
        .await
        .map_err(wait_error)?;
    Ok(stop)
}

/// Runs a command with no input or output, waiting at most `limit`; used for clean-ups whose
/// failure changes nothing.
pub async fn run_quietly(command: &CommandLine, workdir: &Path, limit: Duration) {
    let child = Command::new(&command.program)
        .args(&command.args)
        .current_dir(workdir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn();
    if let Ok(mut child) = child {
        // On timeout the child is killed when dropped.
        let _ = timeout(limit, child.wait()).await;
    }
}

fn create_output(path: &Path) -> Result<File, ProcessError> {
    let error = |source| ProcessError::Output {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(error)?;
    }
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(path)
        .map_err(error)
}

fn end_of(status: ExitStatus) -> ProcessEnd {
    match (status.code(), status.signal()) {
        (Some(code), _) => ProcessEnd::Exited(code),
        (None, Some(signal)) => ProcessEnd::Signalled(signal),
        // Neither an exit code nor a signal: not possible on Unix for a terminated process.
        (None, None) => ProcessEnd::Exited(-1),
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// Ends every process of the group: SIGTERM; up to `TERMINATE_GRACE` for all of them to
/// exit; SIGKILL to whatever is left; then a bounded wait until none is running.
///
/// The first process is reaped only after the group has been signalled, and SIGKILL is sent
/// only while a process of the group is alive, so the group id — the first process's pid —
/// cannot have been reused by another group.
async fn terminate_group(child: &mut Child, group: Pid) -> std::io::Result<()> {
    signal_group(group, Signal::SIGTERM);
    let grace_ends = Instant::now() + TERMINATE_GRACE;
    let mut first_exited = false;
    loop {
        if !first_exited {
            first_exited = child.try_wait()?.is_some();
        }
        if first_exited && !group_is_alive(group) {
            return Ok(());
        }
        if Instant::now() >= grace_ends {
            break;
        }
        sleep(POLL_INTERVAL).await;
    }
    signal_group(group, Signal::SIGKILL);
    if !first_exited {
        child.wait().await?;
    }
    let give_up = Instant::now() + KILL_WAIT;
    while group_is_alive(group) && Instant::now() < give_up {
        sleep(POLL_INTERVAL).await;
    }
    Ok(())
}

/// How often a terminating group is checked.
const POLL_INTERVAL: Duration = Duration::from_millis(20);

fn signal_group(group: Pid, signal: Signal) {
    match killpg(group, signal) {
        // The group is already gone: nothing to do.
        Ok(()) | Err(Errno::ESRCH) => {}
        // EPERM and the like: nothing more can be done from here either; the caller still
        // waits for the first process.
        Err(_) => {}
    }
}

/// Whether a process of the group is still running. Zombies do not count: they are dead,
/// merely not yet reaped by their (possibly non-reaping) new parent.
fn group_is_alive(group: Pid) -> bool {
    match std::fs::read_dir("/proc") {
        Ok(entries) => entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
            .any(|pid| {
                process_state(pid).is_some_and(|(state, pgrp)| {
                    pgrp == group.as_raw() && state != 'Z' && state != 'X'
                })
            }),
        // No /proc: ask the kernel whether the group has members (zombies included).
        Err(_) => killpg(group, None).is_ok(),
    }
}

/// The state letter and process group of a process, from `/proc/PID/stat`.
pub fn process_state(pid: u32) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses.
    let after_comm = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_comm.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let _ppid = fields.next()?;
    let pgrp = fields.next()?.parse().ok()?;
    Some((state, pgrp))
}
