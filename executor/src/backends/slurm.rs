//! The `slurm` executor (§8.1), in two modes.
//!
//! - `srun`: weft runs inside an allocation (`salloc`, or an `sbatch` script); the resources
//!   are the allocation's nodes, read from `SLURM_JOB_NODELIST`, `SLURM_JOB_CPUS_PER_NODE`,
//!   `SLURM_MEM_PER_NODE` …; each attempt is one job step, `srun --exclusive -N1 -n1 -c CORES
//!   --mem MEM [--gpus N] -w NODE`, on the node the dispatcher placed it on.
//! - `sbatch`: each attempt is one batch job, its script rendered from a Handlebars template
//!   (the built-in [`DEFAULT_SCRIPT`] or `slurm.script_template`) and submitted with `sbatch
//!   --parsable`; the resources are the partition's nodes as `sinfo` reports them. One poller
//!   asks `squeue` (and `sacct` for jobs squeue has forgotten) about every job at once.
//!
//! Either way the step or job runs `weft worker --attempt FILE --outcome FILE`: the attempt
//! runs exactly as it would locally, on a file system shared with weft. `max_jobs` bounds the
//! steps or jobs weft keeps submitted; a cancelled attempt is `scancel`led (sbatch) or its
//! `srun` told to stop; a job or step stopped by someone else (`scancel`) is a failure, so the
//! task's retries apply.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::process::Command;
use tokio::sync::{oneshot, Semaphore};
use tokio_util::sync::CancellationToken;
use weft_compiler::config::{
    detected_cores, local_hostname, LocalConfig, ResourceSpec, SlurmConfig, SlurmMode,
};

use crate::attempt::{log_tail, AttemptOutcome, AttemptSpec};
use crate::launch::{Launcher, Placement, Running};
use crate::template::shell_quote;

use super::wire::{WireAttempt, WireOutcome};

/// The batch script of an `sbatch` attempt, unless `slurm.script_template` replaces it.
/// Values are inserted as they are (no HTML escaping); `command` is already quoted for the
/// shell.
pub const DEFAULT_SCRIPT: &str = "#!/bin/bash
#SBATCH --job-name={{job_name}}
#SBATCH --nodes={{nodes}}
#SBATCH --ntasks=1
#SBATCH --cpus-per-task={{cores}}
{{#if memory_mb}}#SBATCH --mem={{memory_mb}}M
{{/if}}{{#if gpus}}#SBATCH --gpus={{gpus}}
{{/if}}{{#if walltime}}#SBATCH --time={{walltime}}
{{/if}}{{#if partition}}#SBATCH --partition={{partition}}
{{/if}}{{#if account}}#SBATCH --account={{account}}
{{/if}}#SBATCH --output={{output}}
#SBATCH --chdir={{workdir}}
exec {{command}}
";

/// How often the states of submitted jobs are asked for.
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// How long a cancelled step or job has to end before weft stops waiting for it.
const CANCEL_WAIT: Duration = Duration::from_secs(30);

/// Job states after which a job runs no more.
const ENDED_STATES: [&str; 11] = [
    "COMPLETED",
    "FAILED",
    "CANCELLED",
    "TIMEOUT",
    "NODE_FAIL",
    "PREEMPTED",
    "OUT_OF_MEMORY",
    "BOOT_FAIL",
    "DEADLINE",
    "REVOKED",
    "SPECIAL_EXIT",
];

pub struct SlurmLauncher {
    mode: SlurmMode,
    config: SlurmConfig,
    /// The weft binary the steps and jobs run (the file system is shared).
    weft: PathBuf,
    /// `max_jobs`: steps or jobs submitted at once.
    slots: Arc<Semaphore>,
    /// The script template (sbatch).
    script: Arc<str>,
    poller: Arc<Poller>,
}

impl SlurmLauncher {
    pub fn new(config: SlurmConfig, run_dir: &Path) -> Result<SlurmLauncher, String> {
        let weft = std::env::current_exe()
            .map_err(|e| format!("cannot find weft's own binary for Slurm to run: {e}"))?;
        let script = match &config.script_template {
            None => DEFAULT_SCRIPT.to_string(),
            // A template is written inline, or names a file (relative to the run directory).
            Some(text) if text.contains('\n') || text.contains("{{") => text.clone(),
            Some(path) => std::fs::read_to_string(run_dir.join(path)).map_err(|e| {
                format!("cannot read the Slurm script template {path} (slurm.script_template): {e}")
            })?,
        };
        // A template that does not render is a mistake better reported before anything runs.
        render_script(&script, &ScriptValues::example())?;
        let permits = config
            .max_jobs
            .map_or(Semaphore::MAX_PERMITS, |n| n.max(1) as usize);
        Ok(SlurmLauncher {
            mode: config.mode,
            weft,
            slots: Arc::new(Semaphore::new(permits)),
            script: script.into(),
            poller: Arc::new(Poller::default()),
            config,
        })
    }

    fn worker_command(&self, attempt_file: &Path, outcome_file: &Path) -> Vec<String> {
        vec![
            self.weft.to_string_lossy().into_owned(),
            "worker".to_string(),
            "--attempt".to_string(),
            attempt_file.to_string_lossy().into_owned(),
            "--outcome".to_string(),
            outcome_file.to_string_lossy().into_owned(),
        ]
    }
}

impl Launcher for SlurmLauncher {
    fn launch(
        &self,
        spec: AttemptSpec,
        placement: Placement,
        cancel: CancellationToken,
    ) -> Running {
        let slots = self.slots.clone();
        let attempt_file = spec.attempt_dir.join("attempt.json");
        let outcome_file = spec.attempt_dir.join("outcome.json");
        let worker = self.worker_command(&attempt_file, &outcome_file);
        let batch = match self.mode {
            SlurmMode::Srun => None,
            SlurmMode::Sbatch => Some((
                self.script.clone(),
                self.poller.clone(),
                ScriptValues::of(
                    &spec,
                    &placement,
                    &worker,
                    self.config.partition.clone(),
                    self.config.account.clone(),
                ),
            )),
        };
        // Attempt files are written and staged files hashed: off the dispatcher's loop.
        crate::launch::on_worker(async move {
            let _slot = tokio::select! {
                slot = slots.acquire_owned() => match slot {
                    Ok(slot) => slot,
                    Err(_) => return AttemptOutcome::Cancelled,
                },
                _ = cancel.cancelled() => return AttemptOutcome::Cancelled,
            };
            let multinode = placement.nodes.len() > 1;
            if let Err(message) = write_attempt(
                &spec,
                batch.is_some() && multinode,
                &attempt_file,
                &outcome_file,
            ) {
                return AttemptOutcome::Failed { message };
            }
            let ended = match batch {
                None => run_step(&spec, &placement, &worker, &cancel).await,
                Some((script, poller, values)) => {
                    run_job(&spec, &script, &values, &poller, &cancel).await
                }
            };
            match ended {
                Ok(ended) => outcome_of(&spec, &outcome_file, ended, cancel.is_cancelled()),
                Err(message) => AttemptOutcome::Failed { message },
            }
        })
    }
}

/// Writes the attempt for the worker, and removes an outcome left by an earlier try.
fn write_attempt(
    spec: &AttemptSpec,
    hosts_from_job: bool,
    attempt_file: &Path,
    outcome_file: &Path,
) -> Result<(), String> {
    std::fs::create_dir_all(&spec.attempt_dir)
        .map_err(|e| format!("cannot create {}: {e}", spec.attempt_dir.display()))?;
    let mut wire = WireAttempt::from_spec(spec);
    if let Some(nodes) = wire.nodes.as_mut() {
        // A batch job's nodes are Slurm's choice: the worker reads them from the job.
        nodes.from_slurm_job = hosts_from_job;
    }
    let text =
        serde_json::to_string(&wire).map_err(|e| format!("cannot encode the attempt: {e}"))?;
    std::fs::write(attempt_file, text)
        .map_err(|e| format!("cannot write {}: {e}", attempt_file.display()))?;
    match std::fs::remove_file(outcome_file) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", outcome_file.display()))
        }
        _ => Ok(()),
    }
}

/// How a step or job ended, as far as Slurm says.
#[derive(Debug)]
struct Ended {
    /// `job step 12.3 exited with status 1`, `job 12 ended CANCELLED`.
    description: String,
    /// The log of the step or job (the worker's own messages, Slurm's).
    log: PathBuf,
}

/// The attempt's outcome: the one the worker wrote, else a failure saying how Slurm ended it.
fn outcome_of(
    spec: &AttemptSpec,
    outcome_file: &Path,
    ended: Ended,
    cancelled_by_weft: bool,
) -> AttemptOutcome {
    let written = std::fs::read_to_string(outcome_file)
        .ok()
        .and_then(|text| serde_json::from_str::<WireOutcome>(&text).ok());
    match written.map(WireOutcome::into_outcome) {
        // The worker was told to stop, but not by weft: `scancel`, a preemption.
        Some(AttemptOutcome::Cancelled) if !cancelled_by_weft => AttemptOutcome::Failed {
            message: format!("{} (stopped by Slurm, not by weft)", ended.description),
        },
        Some(outcome) => outcome,
        None if cancelled_by_weft => AttemptOutcome::Cancelled,
        None => {
            let tail = log_tail(&ended.log, 5);
            let mut message = format!(
                "{} before task `{}` could report an outcome",
                ended.description, spec.task_name
            );
            if !tail.trim().is_empty() {
                message.push_str(&format!(
                    " (Slurm log {}: {})",
                    ended.log.display(),
                    tail.replace('\n', "; ")
                ));
            }
            AttemptOutcome::Failed { message }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// srun

/// The `srun` arguments of one attempt's step, before the command it runs.
pub fn srun_arguments(spec: &AttemptSpec, placement: &Placement) -> Vec<String> {
    let mut args = vec![
        "--exclusive".to_string(),
        "-N1".to_string(),
        "-n1".to_string(),
        format!("-c{}", placement.cores.max(1)),
        format!("--job-name=weft-{}", spec.task_name),
        "--quiet".to_string(),
    ];
    match memory_mib(placement) {
        // `--mem=0` would be the whole node's memory.
        0 => {}
        mib => args.push(format!("--mem={mib}M")),
    }
    if placement.gpus > 0 {
        args.push(format!("--gpus={}", placement.gpus));
    }
    if let Some(node) = placement.nodes.first() {
        args.push(format!("--nodelist={}", node.hostname));
    }
    if let Some(walltime) = placement.walltime {
        args.push(format!("--time={}", slurm_time(walltime)));
    }
    args
}

/// The memory of a step or job, in MiB: what the task reserved, else its cores' share of the
/// node's memory — a step asking for no memory would take the whole node's.
fn memory_mib(placement: &Placement) -> u64 {
    const MIB: u64 = 1 << 20;
    if placement.memory > 0 {
        return placement.memory.div_ceil(MIB).max(1);
    }
    match placement.nodes.first() {
        Some(node) if node.memory != u64::MAX && node.cores > 0 => {
            (node.memory / MIB * u64::from(placement.cores.max(1)) / u64::from(node.cores)).max(1)
        }
        _ => 0,
    }
}

/// A time limit as Slurm reads it: `HH:MM:SS`, rounded up to the second (and at least one
/// minute: Slurm counts in minutes).
pub fn slurm_time(limit: Duration) -> String {
    let seconds = limit.as_secs() + u64::from(limit.subsec_nanos() > 0);
    let seconds = seconds.max(60);
    format!(
        "{}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

async fn run_step(
    spec: &AttemptSpec,
    placement: &Placement,
    worker: &[String],
    cancel: &CancellationToken,
) -> Result<Ended, String> {
    let log = spec.attempt_dir.join("slurm.log");
    let log_file =
        std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let log_err = log_file
        .try_clone()
        .map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let args = srun_arguments(spec, placement);
    let mut child = Command::new("srun")
        .args(&args)
        .args(worker)
        .current_dir(&spec.workdir)
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(log_err)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot run srun (is this inside a Slurm allocation?): {e}"))?;
    let status = tokio::select! {
        status = child.wait() => status,
        _ = cancel.cancelled() => {
            // srun passes SIGTERM on to the step: the worker kills the task and reports.
            if let Some(pid) = child.id() {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGTERM,
                );
            }
            match tokio::time::timeout(CANCEL_WAIT, child.wait()).await {
                Ok(status) => status,
                Err(_) => {
                    let _ = child.kill().await;
                    child.wait().await
                }
            }
        }
    }
    .map_err(|e| format!("cannot wait for srun: {e}"))?;
    let description = match status.code() {
        Some(0) => "the Slurm job step ended".to_string(),
        Some(code) => format!("the Slurm job step ended with srun exit status {code}"),
        None => "the Slurm job step's srun was killed".to_string(),
    };
    Ok(Ended { description, log })
}

/// The resources of the allocation weft runs in (`srun` mode): one per node.
pub fn allocation_resources(local: &LocalConfig) -> Result<Vec<ResourceSpec>, String> {
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    if env("SLURM_JOB_ID").is_none() {
        return Err(
            "the slurm executor in srun mode runs inside an allocation (salloc, or an sbatch \
             script), but SLURM_JOB_ID is not set; use `slurm: { mode: sbatch }` to submit jobs \
             instead"
                .to_string(),
        );
    }
    let nodelist = env("SLURM_JOB_NODELIST")
        .or_else(|| env("SLURM_NODELIST"))
        .ok_or("SLURM_JOB_NODELIST is not set: the allocation's nodes are unknown")?;
    let nodes = expand_hostlist(&nodelist)?;
    let cpus = match env("SLURM_JOB_CPUS_PER_NODE") {
        Some(text) => parse_cpus_per_node(&text, nodes.len())?,
        None => {
            let on_node = env("SLURM_CPUS_ON_NODE")
                .and_then(|c| c.parse().ok())
                .unwrap_or_else(detected_cores);
            vec![on_node; nodes.len()]
        }
    };
    const MIB: u64 = 1 << 20;
    let memory_per_node = |cores: u32| -> u64 {
        if let Some(mb) = env("SLURM_MEM_PER_NODE").and_then(|m| m.parse::<u64>().ok()) {
            return mb * MIB;
        }
        if let Some(mb) = env("SLURM_MEM_PER_CPU").and_then(|m| m.parse::<u64>().ok()) {
            return mb * MIB * u64::from(cores);
        }
        u64::MAX
    };
    let gpus = env("SLURM_GPUS_ON_NODE")
        .and_then(|g| g.parse().ok())
        .unwrap_or(0);
    Ok(nodes
        .into_iter()
        .zip(cpus)
        .map(|(node, cores)| ResourceSpec {
            name: node.clone(),
            hostname: node,
            cores,
            memory: memory_per_node(cores),
            gpus,
            disk: local.disk,
            labels: local.labels.clone(),
            arch: local.arch_or_this(),
            os: local.os_or_this(),
        })
        .collect())
}

/// `SLURM_JOB_CPUS_PER_NODE`: `4(x3),2` is 4, 4, 4, 2.
pub fn parse_cpus_per_node(text: &str, nodes: usize) -> Result<Vec<u32>, String> {
    let bad = || format!("SLURM_JOB_CPUS_PER_NODE={text} is not a list of CPU counts");
    let mut counts = Vec::new();
    for item in text.split(',') {
        let item = item.trim();
        let (count, repeat) = match item.split_once("(x") {
            Some((count, rest)) => {
                let repeat = rest.strip_suffix(')').ok_or_else(bad)?;
                (count, repeat.parse::<usize>().map_err(|_| bad())?)
            }
            None => (item, 1),
        };
        let count: u32 = count.parse().map_err(|_| bad())?;
        counts.extend(std::iter::repeat_n(count, repeat));
    }
    if counts.len() != nodes {
        return Err(format!(
            "SLURM_JOB_CPUS_PER_NODE={text} names {} nodes, the node list {nodes}",
            counts.len()
        ));
    }
    Ok(counts)
}

/// Expands a Slurm host list (`n[1-3,7],login`), as `scontrol show hostnames` does; falls back
/// to this function's own reading when scontrol is not there.
pub fn expand_hostlist(list: &str) -> Result<Vec<String>, String> {
    if let Ok(output) = std::process::Command::new("scontrol")
        .args(["show", "hostnames", list])
        .stderr(Stdio::null())
        .output()
    {
        if output.status.success() {
            let names: Vec<String> = String::from_utf8_lossy(&output.stdout)
                .split_whitespace()
                .map(str::to_string)
                .collect();
            if !names.is_empty() {
                return Ok(names);
            }
        }
    }
    expand_hostlist_text(list)
}

/// The host list grammar: comma-separated names, each with at most one `[…]` of numbers
/// and ranges (zero padding kept).
pub fn expand_hostlist_text(list: &str) -> Result<Vec<String>, String> {
    let bad = || format!("`{list}` is not a Slurm host list");
    let mut names = Vec::new();
    let mut rest = list.trim();
    while !rest.is_empty() {
        // The next name ends at a comma outside brackets.
        let mut depth = 0;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                match c {
                    '[' => depth += 1,
                    ']' => depth -= 1,
                    ',' if depth == 0 => return true,
                    _ => {}
                }
                false
            })
            .map_or(rest.len(), |(i, _)| i);
        let name = &rest[..end];
        rest = rest[end..].trim_start_matches(',');
        match name.split_once('[') {
            None => names.push(name.to_string()),
            Some((prefix, ranges)) => {
                let (ranges, suffix) = ranges.split_once(']').ok_or_else(bad)?;
                for range in ranges.split(',') {
                    let (low, high) = range.split_once('-').unwrap_or((range, range));
                    let width = low.len();
                    let low: u64 = low.parse().map_err(|_| bad())?;
                    let high: u64 = high.parse().map_err(|_| bad())?;
                    if high < low {
                        return Err(bad());
                    }
                    for n in low..=high {
                        names.push(format!("{prefix}{n:0width$}{suffix}"));
                    }
                }
            }
        }
    }
    Ok(names)
}

/// The host names of the job the caller runs in (`sbatch` multinode attempts).
pub async fn job_hostnames() -> Vec<String> {
    match std::env::var("SLURM_JOB_NODELIST") {
        Ok(list) => tokio::task::spawn_blocking(move || expand_hostlist(&list))
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_else(|| vec![local_hostname()]),
        Err(_) => vec![local_hostname()],
    }
}

// ---------------------------------------------------------------------------------------------
// sbatch

/// What a batch script template is rendered with.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ScriptValues {
    pub job_name: String,
    pub nodes: usize,
    pub cores: u32,
    /// 0 when the task asked for none.
    pub memory_mb: u64,
    pub gpus: u32,
    /// `HH:MM:SS`, empty without a `walltime` constraint.
    pub walltime: String,
    pub partition: String,
    pub account: String,
    /// The job's log (`--output`). (Not `log`: Handlebars has a helper of that name.)
    pub output: String,
    pub workdir: String,
    pub attempt_dir: String,
    /// The worker's command line, quoted for the shell.
    pub command: String,
}

impl ScriptValues {
    fn of(
        spec: &AttemptSpec,
        placement: &Placement,
        worker: &[String],
        partition: Option<String>,
        account: Option<String>,
    ) -> ScriptValues {
        const MIB: u64 = 1 << 20;
        ScriptValues {
            job_name: format!("weft-{}", spec.task_name),
            nodes: placement.nodes.len().max(1),
            cores: placement.cores.max(1),
            memory_mb: placement.memory.div_ceil(MIB),
            gpus: placement.gpus,
            walltime: placement.walltime.map(slurm_time).unwrap_or_default(),
            partition: partition.unwrap_or_default(),
            account: account.unwrap_or_default(),
            output: spec
                .attempt_dir
                .join("slurm-%j.log")
                .to_string_lossy()
                .into_owned(),
            workdir: spec.workdir.to_string_lossy().into_owned(),
            attempt_dir: spec.attempt_dir.to_string_lossy().into_owned(),
            command: worker
                .iter()
                .map(|w| shell_quote(w))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }

    fn example() -> ScriptValues {
        ScriptValues {
            job_name: "weft-example".to_string(),
            nodes: 1,
            cores: 1,
            memory_mb: 0,
            gpus: 0,
            walltime: String::new(),
            partition: String::new(),
            account: String::new(),
            output: "/tmp/slurm-%j.log".to_string(),
            workdir: "/tmp".to_string(),
            attempt_dir: "/tmp".to_string(),
            command: "weft worker".to_string(),
        }
    }
}

/// Renders a batch script; values go in as they are (a script is not HTML).
pub fn render_script(template: &str, values: &ScriptValues) -> Result<String, String> {
    let mut registry = handlebars::Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(handlebars::no_escape);
    registry
        .render_template(template, values)
        .map_err(|e| format!("the Slurm script template does not render: {e}"))
}

async fn run_job(
    spec: &AttemptSpec,
    template: &str,
    values: &ScriptValues,
    poller: &Arc<Poller>,
    cancel: &CancellationToken,
) -> Result<Ended, String> {
    let script = spec.attempt_dir.join("job.sh");
    std::fs::write(&script, render_script(template, values)?)
        .map_err(|e| format!("cannot write {}: {e}", script.display()))?;
    let output = Command::new("sbatch")
        .arg("--parsable")
        .arg(&script)
        .current_dir(&spec.workdir)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| format!("cannot run sbatch: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "sbatch refused the job: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    // `--parsable` prints `ID` or `ID;CLUSTER`.
    let stdout = String::from_utf8_lossy(&output.stdout);
    let job = stdout
        .trim()
        .split(';')
        .next()
        .filter(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| format!("sbatch printed no job id: {stdout:?}"))?
        .to_string();
    let _ = std::fs::write(spec.attempt_dir.join("slurm-job-id"), &job);
    let log = spec.attempt_dir.join(format!("slurm-{job}.log"));
    let ended = poller.watch(job.clone());
    tokio::pin!(ended);
    let state = tokio::select! {
        state = &mut ended => state,
        _ = cancel.cancelled() => {
            let _ = Command::new("scancel").arg(&job).stdin(Stdio::null()).status().await;
            match tokio::time::timeout(CANCEL_WAIT, &mut ended).await {
                Ok(state) => state,
                Err(_) => "CANCELLED".to_string(),
            }
        }
    };
    Ok(Ended {
        description: format!("Slurm job {job} ended {state}"),
        log,
    })
}

/// Watches every submitted job with one `squeue` call per interval.
#[derive(Default)]
pub struct Poller {
    jobs: Mutex<HashMap<String, Watch>>,
    started: std::sync::atomic::AtomicBool,
}

struct Watch {
    ended: Option<oneshot::Sender<String>>,
    /// How many polls in a row did not find the job.
    unseen: u32,
    since: Instant,
}

impl Poller {
    /// Waits for the job to end; returns its final state (`COMPLETED`, `CANCELLED`, …).
    async fn watch(self: &Arc<Self>, job: String) -> String {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut jobs) = self.jobs.lock() {
            jobs.insert(
                job,
                Watch {
                    ended: Some(tx),
                    unseen: 0,
                    since: Instant::now(),
                },
            );
        }
        if !self.started.swap(true, std::sync::atomic::Ordering::SeqCst) {
            tokio::spawn(self.clone().poll());
        }
        rx.await.unwrap_or_else(|_| "UNKNOWN".to_string())
    }

    async fn poll(self: Arc<Self>) {
        loop {
            tokio::time::sleep(POLL_INTERVAL).await;
            let watched: Vec<String> = match self.jobs.lock() {
                Ok(jobs) => jobs.keys().cloned().collect(),
                Err(_) => return,
            };
            if watched.is_empty() {
                continue;
            }
            let mut states = job_states("squeue", &watched).await;
            let unseen: Vec<String> = watched
                .iter()
                .filter(|job| !states.contains_key(*job))
                .cloned()
                .collect();
            if !unseen.is_empty() {
                // Jobs squeue has forgotten (MinJobAge passed): the accounting may know.
                states.extend(job_states("sacct", &unseen).await);
            }
            let Ok(mut jobs) = self.jobs.lock() else {
                return;
            };
            for job in &watched {
                let Some(watch) = jobs.get_mut(job) else {
                    continue;
                };
                let ended = match states.get(job) {
                    Some(state) if is_ended(state) => Some(state.clone()),
                    Some(_) => {
                        watch.unseen = 0;
                        None
                    }
                    None => {
                        watch.unseen += 1;
                        // Known to neither: gone for good, once it has had time to show up.
                        (watch.unseen >= 20 && watch.since.elapsed() > Duration::from_secs(5))
                            .then(|| "UNKNOWN (gone from squeue and sacct)".to_string())
                    }
                };
                if let Some(state) = ended {
                    if let Some(tx) = watch.ended.take() {
                        let _ = tx.send(state);
                    }
                    jobs.remove(job);
                }
            }
        }
    }
}

/// `CANCELLED by 0` and `CANCELLED+` are CANCELLED.
fn is_ended(state: &str) -> bool {
    let base = state.split([' ', '+']).next().unwrap_or(state).trim();
    ENDED_STATES.contains(&base)
}

/// The states of `jobs`, asked of `squeue` or `sacct` in calls of at most 200 jobs each.
async fn job_states(tool: &str, jobs: &[String]) -> HashMap<String, String> {
    let mut states = HashMap::new();
    for batch in jobs.chunks(200) {
        let list = batch.join(",");
        let mut command = Command::new(tool);
        match tool {
            "squeue" => command.args(["-h", "--states=all", "-o", "%i|%T", "-j", &list]),
            _ => command.args(["-n", "-P", "-X", "-o", "JobID,State", "-j", &list]),
        };
        let Ok(output) = command
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .await
        else {
            continue;
        };
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            if let Some((job, state)) = line.split_once('|') {
                states.insert(job.trim().to_string(), state.trim().to_string());
            }
        }
    }
    states
}

/// The nodes of the partition jobs go to (`sbatch` mode), as `sinfo` reports them.
pub fn partition_resources(
    config: &SlurmConfig,
    local: &LocalConfig,
) -> Result<Vec<ResourceSpec>, String> {
    let mut command = std::process::Command::new("sinfo");
    command.args(["-h", "-N", "-o", "%N|%c|%m|%G"]);
    if let Some(partition) = &config.partition {
        command.args(["-p", partition]);
    }
    let output = command
        .output()
        .map_err(|e| format!("cannot run sinfo to find the cluster's nodes: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "sinfo failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let mut resources: Vec<ResourceSpec> = Vec::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let fields: Vec<&str> = line.split('|').map(str::trim).collect();
        let [node, cpus, memory, gres] = fields[..] else {
            continue;
        };
        if resources.iter().any(|r| r.name == node) {
            continue;
        }
        const MIB: u64 = 1 << 20;
        resources.push(ResourceSpec {
            name: node.to_string(),
            hostname: node.to_string(),
            cores: cpus.parse().unwrap_or(1),
            memory: memory
                .trim_end_matches('+')
                .parse::<u64>()
                .map_or(u64::MAX, |mb| mb * MIB),
            gpus: gres_gpus(gres),
            disk: local.disk,
            labels: local.labels.clone(),
            arch: local.arch_or_this(),
            os: local.os_or_this(),
        });
    }
    if resources.is_empty() {
        return Err(match &config.partition {
            Some(p) => format!("sinfo reports no node in partition {p}"),
            None => "sinfo reports no node".to_string(),
        });
    }
    Ok(resources)
}

/// GPUs in a `sinfo` GRES field: `gpu:2`, `gpu:a100:4(S:0-1)`, `(null)`.
fn gres_gpus(gres: &str) -> u32 {
    gres.split(',')
        .filter(|g| g.starts_with("gpu"))
        .filter_map(|g| {
            let g = g.split('(').next().unwrap_or(g);
            g.rsplit(':').next()?.parse::<u32>().ok()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_lists_expand() {
        assert_eq!(
            expand_hostlist_text("n[1-3],login").unwrap(),
            ["n1", "n2", "n3", "login"]
        );
        assert_eq!(
            expand_hostlist_text("c[08-10,12]x").unwrap(),
            ["c08x", "c09x", "c10x", "c12x"]
        );
        assert!(expand_hostlist_text("n[3-1]").is_err());
        assert!(expand_hostlist_text("n[1-").is_err());
    }

    #[test]
    fn cpus_per_node_repeat() {
        assert_eq!(parse_cpus_per_node("4(x3),2", 4).unwrap(), [4, 4, 4, 2]);
        assert_eq!(parse_cpus_per_node("8", 1).unwrap(), [8]);
        assert!(parse_cpus_per_node("4(x3)", 2).is_err());
        assert!(parse_cpus_per_node("four", 1).is_err());
    }

    #[test]
    fn time_limits_are_slurm_times() {
        assert_eq!(slurm_time(Duration::from_secs(90 * 60 + 5)), "1:30:05");
        assert_eq!(slurm_time(Duration::from_secs(5)), "0:01:00");
        assert_eq!(slurm_time(Duration::from_secs_f64(3600.2)), "1:00:01");
    }

    #[test]
    fn states_and_gres() {
        assert!(is_ended("CANCELLED by 0"));
        assert!(is_ended("COMPLETED"));
        assert!(!is_ended("RUNNING"));
        assert!(!is_ended("PENDING"));
        assert_eq!(gres_gpus("gpu:2"), 2);
        assert_eq!(gres_gpus("gpu:a100:4(S:0-1),nic:1"), 4);
        assert_eq!(gres_gpus("(null)"), 0);
    }

    #[test]
    fn the_default_script_names_what_was_reserved() {
        let mut values = ScriptValues::example();
        values.memory_mb = 512;
        values.walltime = "0:10:00".to_string();
        values.partition = "debug".to_string();
        let script = render_script(DEFAULT_SCRIPT, &values).unwrap();
        assert!(script.contains("#SBATCH --mem=512M\n"), "{script}");
        assert!(script.contains("#SBATCH --time=0:10:00\n"), "{script}");
        assert!(script.contains("#SBATCH --partition=debug\n"), "{script}");
        // `output`, not `log`: `{{log}}` would be Handlebars' helper and render nothing.
        assert!(
            script.contains("#SBATCH --output=/tmp/slurm-%j.log\n"),
            "{script}"
        );
        assert!(!script.contains("--account"), "{script}");
        assert!(!script.contains("--gpus"), "{script}");
        assert!(script.ends_with("exec weft worker\n"), "{script}");
        assert!(render_script("{{nonsense}}", &values).is_err());
    }
}
