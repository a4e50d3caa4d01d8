//! One attempt of one task, run as a process (§4.4, §4.5, §6.2, §6.3).
//!
//! The runtime hands over an [`AttemptSpec`] — everything already evaluated: parameter
//! values (versioned paths for files), the body to run, the environment, the reserved GPUs —
//! and [`run_attempt`] prepares the attempt directory, starts the process in its own process
//! group, waits for it (or kills the whole group on timeout or cancellation), and reads what
//! it produced: the exit status, `WEFT_RAISE`, the return value (from `WEFT_RETURN` or the
//! standard output) and the new values of `out`/`inout` json parameters.
//!
//! Everything an attempt writes lives in its attempt directory: `args.json` (`WEFT_ARGS`),
//! `script` (the code of a `script` body), `return.json` (`WEFT_RETURN`), `raise.txt`
//! (`WEFT_RAISE`), `out-NAME.json` (`WEFT_OUT_NAME`), `stdout.log` and `stderr.log`.
//!
//! Where the reference is silent:
//! - `as stdin` / `as stdout` / `as stderr` map the stream for every body kind, not only
//!   `binary`/`mpi`; a mapped stream leaves its log file empty.
//! - Relative paths among the values (stream files included) are relative to `workdir`, the
//!   process's working directory.
//! - `concurrent` and `commutative` json parameters get `WEFT_OUT_<name>` too, and, like
//!   `inout` ones, keep their value when the process does not write it.
//! - `WEFT_RAISE` wins over the exit status, a signal and a return value; only a timeout or
//!   a cancellation wins over it.

use std::ffi::OsString;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;
use weft_compiler::ast::{self, Direction, ReturnType, Type};
use weft_compiler::value::Value;

use crate::command::{self, CommandLine};
use crate::process::{self, ProcessEnd, ProcessSpec};
use crate::returns;

/// Everything needed to run one attempt of one task call.
#[derive(Clone, Debug)]
pub struct AttemptSpec {
    /// The task's name: `WEFT_TASK`, and the name messages use.
    pub task_name: String,
    /// `WEFT_TASK_ID`: unique within the run.
    pub task_id: u64,
    /// `WEFT_ATTEMPT`: 1 for the first attempt.
    pub attempt: u32,
    /// The task's parameters: types, directions, stream and prefix modifiers.
    pub params: Vec<ast::Param>,
    pub returns: Option<ReturnType>,
    /// Every parameter's value, in declaration order; files and dirs are the (versioned)
    /// paths the task must use; no futures left.
    pub values: IndexMap<String, Value>,
    /// What to run, already evaluated.
    pub body: BodySpec,
    /// The `env { … }` directive's variables, already evaluated to strings.
    pub env: Vec<(String, String)>,
    /// The process's working directory (absolute). Relative paths among the values, and a
    /// program written with a `/`, are relative to it.
    pub workdir: PathBuf,
    pub timeout: Option<Duration>,
    pub fail_on_exit: bool,
    pub raises_on_exit: Vec<i64>,
    /// The GPUs reserved for the attempt: `CUDA_VISIBLE_DEVICES` and `WEFT_GPUS`.
    pub gpus: Vec<u32>,
    /// Its resource has GPUs and it reserved none: it sees none (`CUDA_VISIBLE_DEVICES` is
    /// set empty), so it cannot use a GPU another task holds.
    pub hide_gpus: bool,
    /// The resources of a `multinode` task.
    pub nodes: Option<NodeInfo>,
    /// A fresh directory for this attempt's own files (created if missing).
    pub attempt_dir: PathBuf,
}

/// The resources a `multinode N` task was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeInfo {
    /// Host names, one per node: `WEFT_HOSTNAMES` (comma-separated), `WEFT_NUM_NODES`.
    pub hostnames: Vec<String>,
    /// The cores reserved on each node: `WEFT_NUM_THREADS`.
    pub threads_per_node: u32,
}

/// What an attempt runs.
#[derive(Clone, Debug, PartialEq)]
pub enum BodySpec {
    /// `binary` and `ompss`. `args` is the evaluated `args [...]` list; `None` means the
    /// default command line (the parameters in declaration order).
    Binary {
        program: String,
        args: Option<Vec<Value>>,
    },
    /// `mpi`: `RUNNER -n PROCESSES FLAGS… PROGRAM ARGS…`.
    Mpi {
        runner: String,
        processes: i64,
        flags: Vec<String>,
        program: String,
        args: Option<Vec<Value>>,
    },
    /// `shell`: a Handlebars template, rendered with the arguments, run by
    /// `bash -euo pipefail -c`.
    Shell { template: String },
    /// `script`: CODE written to a file and run as `INTERPRETER FILE`. The interpreter is one
    /// program name or path (looked up like a `binary` program), without arguments.
    Script { interpreter: String, code: String },
    /// The `container "image"` directive: `inner` runs inside IMAGE with ENGINE, the
    /// configuration's `containers.options` passed to the engine before the image.
    Container {
        engine: ContainerEngine,
        image: String,
        options: Vec<String>,
        inner: Box<BodySpec>,
    },
}

impl BodySpec {
    /// The body that runs in the end, inside any container.
    pub fn innermost(&self) -> &BodySpec {
        match self {
            BodySpec::Container { inner, .. } => inner.innermost(),
            other => other,
        }
    }
}

/// A container engine of the configuration (`containers.engine`), run as found on `PATH`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ContainerEngine {
    Docker,
    Podman,
    Apptainer,
}

impl ContainerEngine {
    /// The engine's command, and its name in the configuration.
    pub fn command(self) -> &'static str {
        match self {
            ContainerEngine::Docker => "docker",
            ContainerEngine::Podman => "podman",
            ContainerEngine::Apptainer => "apptainer",
        }
    }

    /// The engine a configuration names (`docker`, `podman`, `apptainer`).
    pub fn from_name(name: &str) -> Option<ContainerEngine> {
        match name {
            "docker" => Some(ContainerEngine::Docker),
            "podman" => Some(ContainerEngine::Podman),
            "apptainer" => Some(ContainerEngine::Apptainer),
            _ => None,
        }
    }
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq)]
pub enum AttemptOutcome {
    Succeeded {
        /// The return value (a `Value::Tuple` for a tuple return); `None` when the task
        /// returns nothing.
        returned: Option<Value>,
        /// The new values of the `out`/`inout` json parameters the process wrote.
        out_json: IndexMap<String, Value>,
    },
    /// A failure (§6.2); the message names the reason: `exit status 4`, `killed by signal 9
    /// (SIGKILL)`, `timed out after 1s`, a return value that does not parse, …
    Failed { message: String },
    /// A workflow exception (§6.3): the text written to `WEFT_RAISE`, trimmed, or
    /// `exit status N` for a status listed in `raises_on_exit`.
    Raised { message: String },
    /// Cancelled before or while it ran.
    Cancelled,
}

/// The files of one attempt, all inside its attempt directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptFiles {
    pub dir: PathBuf,
    /// `WEFT_ARGS`: a JSON object mapping each parameter's name to its value.
    pub args: PathBuf,
    /// Where a `script` body's code is written.
    pub script: PathBuf,
    /// `WEFT_RETURN`.
    pub return_value: PathBuf,
    /// `WEFT_RAISE`.
    pub raise: PathBuf,
    /// The standard output not mapped to a parameter.
    pub stdout_log: PathBuf,
    /// The standard error not mapped to a parameter.
    pub stderr_log: PathBuf,
}

/// The names of an attempt's logs in its folder.
pub const STDOUT_LOG: &str = "stdout.log";
pub const STDERR_LOG: &str = "stderr.log";

impl AttemptFiles {
    pub fn in_dir(dir: &Path) -> AttemptFiles {
        AttemptFiles {
            dir: dir.to_path_buf(),
            args: dir.join("args.json"),
            script: dir.join("script"),
            return_value: dir.join("return.json"),
            raise: dir.join("raise.txt"),
            stdout_log: dir.join(STDOUT_LOG),
            stderr_log: dir.join(STDERR_LOG),
        }
    }

    /// `WEFT_OUT_<name>`: where the process writes the new value of json parameter `name`.
    pub fn out_json(&self, name: &str) -> PathBuf {
        self.dir.join(format!("out-{name}.json"))
    }
}

impl AttemptSpec {
    /// The attempt's files (its logs among them), whether or not it has run.
    pub fn files(&self) -> AttemptFiles {
        AttemptFiles::in_dir(&self.attempt_dir)
    }

    /// The parameters whose new value the process writes as JSON to `WEFT_OUT_<name>`: the
    /// written (`out`, `inout`, `concurrent`, `commutative`) parameters of type `json` or a
    /// collection of json.
    pub fn out_json_params(&self) -> impl Iterator<Item = &ast::Param> {
        self.params
            .iter()
            .filter(|p| p.direction.writes() && *p.ty.ty.innermost() == Type::Json)
    }

    /// Whether the return value is the exit status: `binary`, `mpi` and `ompss` tasks
    /// returning `int` (§4.5).
    pub fn returns_exit_status(&self) -> bool {
        matches!(
            self.body.innermost(),
            BodySpec::Binary { .. } | BodySpec::Mpi { .. }
        ) && matches!(&self.returns, Some(ReturnType::Single(t)) if t.ty == Type::Int)
    }
}

/// Runs one attempt to its end. Never panics: anything that goes wrong before or after the
/// process is a `Failed` outcome with a message saying what.
pub async fn run_attempt(spec: &AttemptSpec, cancel: CancellationToken) -> AttemptOutcome {
    let files = spec.files();
    let prepared = match prepare(spec, &files) {
        Ok(prepared) => prepared,
        Err(message) => return AttemptOutcome::Failed { message },
    };
    if cancel.is_cancelled() {
        return AttemptOutcome::Cancelled;
    }
    let end = match process::run_process(&prepared.process, &cancel).await {
        Ok(end) => end,
        Err(error) => {
            return AttemptOutcome::Failed {
                message: error.to_string(),
            }
        }
    };
    if matches!(end, ProcessEnd::TimedOut | ProcessEnd::Cancelled) {
        if let Some(cleanup) = &prepared.container_cleanup {
            // Killing the engine's client does not always stop the container itself.
            process::run_quietly(cleanup, &spec.workdir, CONTAINER_CLEANUP_TIMEOUT).await;
        }
    }
    outcome(spec, &files, &prepared, end)
}

/// How long removing a container left by a killed attempt may take.
const CONTAINER_CLEANUP_TIMEOUT: Duration = Duration::from_secs(20);

/// An attempt ready to start.
struct Prepared {
    process: ProcessSpec,
    /// The engine command that removes the attempt's container, for a container body.
    container_cleanup: Option<CommandLine>,
    /// The parameter the standard output is written to, when it is mapped.
    stdout_param: Option<String>,
}

/// Creates the attempt's files and works out the process to run.
fn prepare(spec: &AttemptSpec, files: &AttemptFiles) -> Result<Prepared, String> {
    if let Some((name, _)) = spec.values.iter().find(|(_, v)| v.contains_future()) {
        return Err(format!(
            "internal error: the value of parameter `{name}` of task `{}` is not resolved",
            spec.task_name
        ));
    }
    std::fs::create_dir_all(&files.dir)
        .map_err(|e| format!("cannot create {}: {e}", files.dir.display()))?;
    // The paths the process may write must not exist when it starts (§4.5).
    let mut stale = vec![files.return_value.clone(), files.raise.clone()];
    stale.extend(spec.out_json_params().map(|p| files.out_json(&p.name.name)));
    for path in stale {
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!("cannot remove {}: {e}", path.display()))
            }
            _ => {}
        }
    }
    write_file(&files.args, &args_json(spec))?;
    if let BodySpec::Script { code, .. } = spec.body.innermost() {
        write_file(&files.script, code)?;
    }

    let env = environment(spec, files);
    let search_path = env
        .iter()
        .find(|(name, _)| name == "PATH")
        .map(|(_, value)| OsString::from(value))
        .or_else(|| std::env::var_os("PATH"));
    let built = command::build(
        &spec.body,
        &command::BuildContext {
            spec,
            files,
            env_names: env.iter().map(|(name, _)| name.clone()).collect(),
            search_path,
        },
    )
    .map_err(|e| e.to_string())?;

    let streams = Streams::of(spec)?;
    Ok(Prepared {
        process: ProcessSpec {
            command: built.command,
            workdir: spec.workdir.clone(),
            env,
            env_remove: inherited_to_remove(spec),
            stdin: streams.stdin,
            stdout: streams
                .stdout
                .as_ref()
                .map_or_else(|| files.stdout_log.clone(), |(_, path)| path.clone()),
            stderr: streams.stderr.unwrap_or_else(|| files.stderr_log.clone()),
            logs: vec![files.stdout_log.clone(), files.stderr_log.clone()],
            timeout: spec.timeout,
        },
        container_cleanup: built.container_cleanup,
        stdout_param: streams.stdout.map(|(name, _)| name),
    })
}

fn write_file(path: &Path, contents: &str) -> Result<(), String> {
    std::fs::write(path, contents).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The text of `WEFT_ARGS`: each parameter's name mapped to its value.
fn args_json(spec: &AttemptSpec) -> String {
    let object: serde_json::Map<String, serde_json::Value> = spec
        .values
        .iter()
        .map(|(name, value)| (name.clone(), value.to_json()))
        .collect();
    serde_json::Value::Object(object).to_string()
}

/// The variables the process gets on top of weft's own environment. Later entries win, so
/// the `env` directive comes first and weft's variables cannot be overridden by it.
fn environment(spec: &AttemptSpec, files: &AttemptFiles) -> Vec<(String, String)> {
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let mut env = spec.env.clone();
    env.push(("WEFT_TASK".into(), spec.task_name.clone()));
    env.push(("WEFT_TASK_ID".into(), spec.task_id.to_string()));
    env.push(("WEFT_ATTEMPT".into(), spec.attempt.to_string()));
    env.push(("WEFT_ARGS".into(), path(&files.args)));
    env.push(("WEFT_RETURN".into(), path(&files.return_value)));
    env.push(("WEFT_RAISE".into(), path(&files.raise)));
    for param in spec.out_json_params() {
        let name = &param.name.name;
        env.push((format!("WEFT_OUT_{name}"), path(&files.out_json(name))));
    }
    if !spec.gpus.is_empty() {
        let gpus = spec
            .gpus
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        env.push(("CUDA_VISIBLE_DEVICES".into(), gpus.clone()));
        env.push(("WEFT_GPUS".into(), gpus));
    } else if spec.hide_gpus {
        env.push(("CUDA_VISIBLE_DEVICES".into(), String::new()));
    }
    if let Some(nodes) = &spec.nodes {
        env.push(("WEFT_NUM_NODES".into(), nodes.hostnames.len().to_string()));
        env.push(("WEFT_HOSTNAMES".into(), nodes.hostnames.join(",")));
        env.push((
            "WEFT_NUM_THREADS".into(),
            nodes.threads_per_node.to_string(),
        ));
    }
    // Keep one entry per name (the last), so that a container engine is told each once.
    let mut deduplicated: IndexMap<String, String> = IndexMap::new();
    for (name, value) in env {
        deduplicated.shift_remove(&name);
        deduplicated.insert(name, value);
    }
    deduplicated.into_iter().collect()
}

/// Variables of weft's own environment that must not leak into the process: weft's
/// per-attempt variables this attempt does not set (weft may itself run inside a task).
fn inherited_to_remove(spec: &AttemptSpec) -> Vec<String> {
    let mut remove: Vec<String> = std::env::vars_os()
        .filter_map(|(name, _)| name.into_string().ok())
        .filter(|name| name.starts_with("WEFT_OUT_"))
        .collect();
    if spec.gpus.is_empty() {
        remove.push("WEFT_GPUS".into());
    }
    if spec.nodes.is_none() {
        remove.extend(["WEFT_NUM_NODES", "WEFT_HOSTNAMES", "WEFT_NUM_THREADS"].map(String::from));
    }
    remove
}

/// The parameters mapped to the process's standard streams (`as stdin` …), as paths.
struct Streams {
    stdin: Option<PathBuf>,
    /// The parameter's name and its path.
    stdout: Option<(String, PathBuf)>,
    stderr: Option<PathBuf>,
}

impl Streams {
    fn of(spec: &AttemptSpec) -> Result<Streams, String> {
        let mut streams = Streams {
            stdin: None,
            stdout: None,
            stderr: None,
        };
        for param in &spec.params {
            let Some(stream) = param.stream() else {
                continue;
            };
            let name = &param.name.name;
            let path = match spec.values.get(name) {
                Some(Value::Str(path)) => spec.workdir.join(path.as_ref()),
                Some(other) => {
                    let stream_name = match stream {
                        ast::Stream::Stdin => "input",
                        ast::Stream::Stdout => "output",
                        ast::Stream::Stderr => "error",
                    };
                    return Err(format!(
                        "parameter `{name}` of task `{}` is its standard {stream_name} but its \
                         value is a {}, not a path",
                        spec.task_name,
                        other.kind_name()
                    ));
                }
                None => {
                    return Err(format!(
                        "internal error: no value for parameter `{name}` of task `{}`",
                        spec.task_name
                    ))
                }
            };
            match stream {
                ast::Stream::Stdin => streams.stdin = Some(path),
                ast::Stream::Stdout => streams.stdout = Some((name.clone(), path)),
                ast::Stream::Stderr => streams.stderr = Some(path),
            }
        }
        Ok(streams)
    }
}

/// Reads what the finished process left and decides the attempt's outcome (§4.5, §6.3).
fn outcome(
    spec: &AttemptSpec,
    files: &AttemptFiles,
    prepared: &Prepared,
    end: ProcessEnd,
) -> AttemptOutcome {
    let failed = |message: String| AttemptOutcome::Failed { message };
    let status = match end {
        ProcessEnd::Cancelled => return AttemptOutcome::Cancelled,
        ProcessEnd::TimedOut => {
            let limit = spec.timeout.map(format_duration).unwrap_or_default();
            return failed(format!("timed out after {limit}"));
        }
        ProcessEnd::Signalled(signal) => {
            return match raise_message(files) {
                Ok(Some(message)) => AttemptOutcome::Raised { message },
                Ok(None) => failed(format!("killed by signal {}", signal_name(signal))),
                Err(message) => failed(message),
            }
        }
        ProcessEnd::Exited(status) => status,
    };
    // A raise wins over the exit status: the process may well exit non-zero after writing.
    match raise_message(files) {
        Ok(Some(message)) => return AttemptOutcome::Raised { message },
        Ok(None) => {}
        Err(message) => return failed(message),
    }
    if spec.raises_on_exit.contains(&i64::from(status)) {
        return AttemptOutcome::Raised {
            message: format!("exit status {status}"),
        };
    }
    let exit_is_value = spec.returns_exit_status();
    if status != 0 && (!exit_is_value || spec.fail_on_exit) {
        return failed(format!("exit status {status}"));
    }
    let returned = if exit_is_value {
        Some(Value::Int(i64::from(status)))
    } else {
        match read_return(spec, files, prepared) {
            Ok(value) => value,
            Err(message) => return failed(message),
        }
    };
    let mut out_json = IndexMap::new();
    for param in spec.out_json_params() {
        let name = &param.name.name;
        match returns::read_out_json(&spec.task_name, param, &files.out_json(name)) {
            Ok(Some(value)) => {
                out_json.insert(name.clone(), value);
            }
            Ok(None) if param.direction == Direction::Out => {
                return failed(format!(
                    "out json parameter `{name}` of task `{}` was not written (WEFT_OUT_{name})",
                    spec.task_name
                ))
            }
            Ok(None) => {}
            Err(message) => return failed(message),
        }
    }
    AttemptOutcome::Succeeded { returned, out_json }
}

/// The text the process wrote to `WEFT_RAISE`, trimmed, if it wrote it.
fn raise_message(files: &AttemptFiles) -> Result<Option<String>, String> {
    match std::fs::read(&files.raise) {
        Ok(bytes) => Ok(Some(String::from_utf8_lossy(&bytes).trim().to_string())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", files.raise.display())),
    }
}

/// The return value: from `WEFT_RETURN` if the process wrote it, else from its standard
/// output.
fn read_return(
    spec: &AttemptSpec,
    files: &AttemptFiles,
    prepared: &Prepared,
) -> Result<Option<Value>, String> {
    let Some(ty) = &spec.returns else {
        return Ok(None);
    };
    let task = &spec.task_name;
    match std::fs::read(&files.return_value) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes);
            return returns::parse_json_return(task, ty, &text).map(Some);
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot read {}: {e}", files.return_value.display())),
    }
    if let Some(param) = &prepared.stdout_param {
        return Err(format!(
            "task `{task}` wrote no WEFT_RETURN, and its standard output goes to parameter \
             `{param}`, so it returned no {}",
            returns::describe_return_type(ty)
        ));
    }
    let bytes = std::fs::read(&files.stdout_log)
        .map_err(|e| format!("cannot read {}: {e}", files.stdout_log.display()))?;
    returns::parse_stdout_return(task, ty, &String::from_utf8_lossy(&bytes)).map(Some)
}

/// `9 (SIGKILL)`.
fn signal_name(signal: i32) -> String {
    match nix::sys::signal::Signal::try_from(signal) {
        Ok(known) => format!("{signal} ({})", known.as_str()),
        Err(_) => signal.to_string(),
    }
}

/// A duration for messages: `1s`, `250ms`, `1.5s`, `120s`.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else if duration < Duration::from_secs(1) && duration.subsec_nanos().is_multiple_of(1_000_000)
    {
        format!("{millis}ms")
    } else {
        let seconds = format!("{:.3}", duration.as_secs_f64());
        format!("{}s", seconds.trim_end_matches('0').trim_end_matches('.'))
    }
}

/// The last `lines` lines of a log file (fewer if it is shorter), for failure messages; an
/// empty string when the file is missing or empty. Reads at most the last 64 KiB.
pub fn log_tail(path: &Path, lines: usize) -> String {
    const WINDOW: u64 = 64 * 1024;
    let Ok(mut file) = std::fs::File::open(path) else {
        return String::new();
    };
    let length = file.metadata().map(|m| m.len()).unwrap_or(0);
    let start = length.saturating_sub(WINDOW);
    let mut bytes = Vec::new();
    if file.seek(SeekFrom::Start(start)).is_err() || file.read_to_end(&mut bytes).is_err() {
        return String::new();
    }
    let text = String::from_utf8_lossy(&bytes);
    let mut all: Vec<&str> = text.lines().collect();
    if start > 0 && !all.is_empty() {
        // The window began inside a line.
        all.remove(0);
    }
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_written() {
        assert_eq!(format_duration(Duration::from_secs(1)), "1s");
        assert_eq!(format_duration(Duration::from_secs(90)), "90s");
        assert_eq!(format_duration(Duration::from_secs(120)), "120s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(format_duration(Duration::from_secs_f64(0.0001)), "0s");
    }

    #[test]
    fn signals_are_named() {
        assert_eq!(signal_name(9), "9 (SIGKILL)");
        assert_eq!(signal_name(15), "15 (SIGTERM)");
    }

    #[test]
    fn log_tail_keeps_the_last_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, "a\nb\nc\nd\n").unwrap();
        assert_eq!(log_tail(&path, 2), "c\nd");
        assert_eq!(log_tail(&path, 10), "a\nb\nc\nd");
        assert_eq!(log_tail(&dir.path().join("missing"), 3), "");
        let long: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&path, long).unwrap();
        assert_eq!(log_tail(&path, 2), "line 19998\nline 19999");
    }
}
