//! What a run did, call by call and attempt by attempt: the dispatcher's [`Recorder`] notes
//! every submission, start and end; the run turns the notes into a [`RunRecord`], written as
//! `.weft/runs/<run>/run.json` at the end of every run and read back by `weft graph --run`,
//! the trace, the HTML report and the provenance crate.
//!
//! Times are microseconds since the Unix epoch (wall clock). Paths are shown relative to the
//! run's directory when they are inside it.
//!
//! Each attempt runs in a *slot* of its resource: the lowest slot index free when it starts,
//! held until it ends. Slots are the lanes of the trace and of the report's timeline; a
//! resource has as many as attempts ever ran on it at once.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::SystemTime;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use weft_compiler::deps::TaskId;

use crate::attempt::{AttemptOutcome, STDERR_LOG, STDOUT_LOG};
use crate::protocol::Submission;
use crate::resources::{Pool, Reservation};
use crate::task_table::TaskTable;

/// The version of the `run.json` format.
pub const RUN_FORMAT: u32 = 1;

/// The lane of attempts that hold no resource: nested workflows (`workflow` task bodies).
pub const NESTED_LANE: &str = "nested workflows";

/// How one attempt ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttemptStatus {
    /// Still running when the record was taken (a run that stopped without reaping it).
    Running,
    Done,
    Failed,
    Raised,
    Cancelled,
    /// Not run: a completed attempt with the same key was found and its outputs restored.
    Cached,
}

impl AttemptStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttemptStatus::Running => "running",
            AttemptStatus::Done => "done",
            AttemptStatus::Failed => "failed",
            AttemptStatus::Raised => "raised",
            AttemptStatus::Cancelled => "cancelled",
            AttemptStatus::Cached => "cached",
        }
    }
}

/// How a task call ended, all attempts considered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TaskStatus {
    /// Not ended when the record was taken.
    Unfinished,
    Done,
    /// Done without running: restored from the cache.
    Cached,
    Failed,
    /// Failed, and `on_failure ignore` let the run go on.
    Ignored,
    /// Raised a workflow exception (§6.3).
    Raised,
    Cancelled,
}

impl TaskStatus {
    /// Every status, in the order summaries list them.
    pub const ALL: [TaskStatus; 7] = [
        TaskStatus::Done,
        TaskStatus::Cached,
        TaskStatus::Failed,
        TaskStatus::Ignored,
        TaskStatus::Raised,
        TaskStatus::Cancelled,
        TaskStatus::Unfinished,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Unfinished => "unfinished",
            TaskStatus::Done => "done",
            TaskStatus::Cached => "cached",
            TaskStatus::Failed => "failed",
            TaskStatus::Ignored => "ignored",
            TaskStatus::Raised => "raised",
            TaskStatus::Cancelled => "cancelled",
        }
    }
}

/// The end the dispatcher gives a task (its own statuses are private to it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskEnd {
    Done,
    Failed,
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AttemptRecord {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// The resource's name (several joined by `+` for a multi-node attempt).
    pub resource: String,
    /// The lane within the resource.
    pub slot: usize,
    pub start_us: u64,
    pub end_us: u64,
    pub status: AttemptStatus,
    /// Why it failed, what it raised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stdout_log: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stderr_log: Option<PathBuf>,
    /// The resume key (hex) the attempt was looked up or stored under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_key: Option<String>,
    /// With `--resume`: why the attempt ran instead of being restored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AttemptRecord {
    pub fn duration_us(&self) -> u64 {
        self.end_us.saturating_sub(self.start_us)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TaskRecord {
    pub id: TaskId,
    pub name: String,
    /// The file of the call.
    pub file: PathBuf,
    /// The line of the call.
    pub line: usize,
    /// Enclosing groups, outermost first.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The calls it waited for.
    #[serde(default)]
    pub deps: Vec<TaskId>,
    /// The user paths it reads.
    #[serde(default)]
    pub inputs: Vec<PathBuf>,
    /// The user paths it writes.
    #[serde(default)]
    pub outputs: Vec<PathBuf>,
    pub status: TaskStatus,
    #[serde(default)]
    pub attempts: Vec<AttemptRecord>,
}

impl TaskRecord {
    /// From the start of the first attempt to the end of the last, if it ever started.
    pub fn span_us(&self) -> Option<(u64, u64)> {
        let start = self.attempts.iter().map(|a| a.start_us).min()?;
        let end = self.attempts.iter().map(|a| a.end_us).max()?;
        Some((start, end.max(start)))
    }

    /// Where the call was made: `main.wf:12`.
    pub fn place(&self) -> String {
        format!("{}:{}", self.file.display(), self.line)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRecord {
    pub name: String,
    pub cores: u32,
}

/// Everything `run.json` holds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub format: u32,
    /// The run's id: the name of its folder under `.weft/runs`.
    pub run: String,
    pub weft_version: String,
    /// The directory the run was started in.
    pub run_dir: PathBuf,
    pub workflow_file: PathBuf,
    pub workflow: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_file: Option<PathBuf>,
    /// The workflow's arguments (its options, defaults applied).
    #[serde(default)]
    pub arguments: serde_json::Map<String, serde_json::Value>,
    pub start_us: u64,
    pub end_us: u64,
    /// `success`, `task failed`, `uncaught exception` or `interrupted`.
    pub status: String,
    pub exit_code: i32,
    /// Whether the run reused earlier results (`--resume`).
    #[serde(default)]
    pub resumed: bool,
    pub resources: Vec<ResourceRecord>,
    pub tasks: Vec<TaskRecord>,
}

impl RunRecord {
    /// Reads `run.json` from a run's folder (or the file itself).
    pub fn load(path: &Path) -> Result<RunRecord, String> {
        let file = if path.is_dir() {
            path.join("run.json")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound && path.is_dir() {
                format!(
                    "{} has no run.json: the run did not reach its end (killed?)",
                    path.display()
                )
            } else {
                format!("cannot read {}: {e}", file.display())
            }
        })?;
        let record: RunRecord = serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a weft run record: {e}", file.display()))?;
        if record.format != RUN_FORMAT {
            return Err(format!(
                "{} has run format {}; this weft reads format {RUN_FORMAT}",
                file.display(),
                record.format
            ));
        }
        Ok(record)
    }

    /// Writes `run.json` into the run's folder, through a temporary file and a rename so a
    /// reader never sees half of it.
    pub fn write(&self, run_folder: &Path) -> Result<PathBuf, String> {
        let path = run_folder.join("run.json");
        // Streamed, without indentation: a run of a million calls makes a large record.
        write_atomically_with(&path, |out| {
            serde_json::to_writer(&mut *out, self).map_err(std::io::Error::other)
        })?;
        Ok(path)
    }

    /// The dependency edges between recorded calls, `(from, to)`, without duplicates.
    pub fn edges(&self) -> Vec<(TaskId, TaskId)> {
        let known: std::collections::HashSet<TaskId> = self.tasks.iter().map(|t| t.id).collect();
        let mut edges: Vec<(TaskId, TaskId)> = self
            .tasks
            .iter()
            .flat_map(|t| t.deps.iter().map(move |d| (*d, t.id)))
            .filter(|(from, _)| known.contains(from))
            .collect();
        edges.sort_unstable();
        edges.dedup();
        edges
    }

    /// Every attempt with its task, in start order.
    pub fn attempts(&self) -> Vec<(&TaskRecord, &AttemptRecord)> {
        let mut all: Vec<_> = self
            .tasks
            .iter()
            .flat_map(|t| t.attempts.iter().map(move |a| (t, a)))
            .collect();
        all.sort_by_key(|(t, a)| (a.start_us, t.id, a.attempt));
        all
    }

    /// How many calls ended each way.
    pub fn counts(&self) -> IndexMap<&'static str, usize> {
        let mut counts = IndexMap::new();
        for status in TaskStatus::ALL {
            let n = self.tasks.iter().filter(|t| t.status == status).count();
            counts.insert(status.as_str(), n);
        }
        counts
    }

    /// `weft graph --run DIR --format json`: the executed graph with timings, in the shape
    /// of `weft graph --format json` plus each node's status and times (µs since the run's
    /// start).
    pub fn graph_json(&self) -> serde_json::Value {
        serde_json::json!({
            "run": self.run,
            "nodes": self.tasks.iter().map(|t| {
                let span = t.span_us();
                serde_json::json!({
                    "id": t.id,
                    "task": t.name,
                    "group": t.groups.last(),
                    "line": t.line,
                    "file": t.file,
                    "status": t.status.as_str(),
                    "attempts": t.attempts.len(),
                    "start_us": span.map(|(s, _)| s.saturating_sub(self.start_us)),
                    "duration_us": span.map(|(s, e)| e - s),
                })
            }).collect::<Vec<_>>(),
            "edges": self.edges().iter().map(|(from, to)| serde_json::json!({
                "from": from,
                "to": to,
            })).collect::<Vec<_>>(),
        })
    }

    fn node_label(&self, task: &TaskRecord) -> String {
        let timing = match task.span_us() {
            Some((start, end)) => format!(
                "{} at +{}",
                format_us(end - start),
                format_us(start.saturating_sub(self.start_us))
            ),
            None => "never started".to_string(),
        };
        let attempts = if task.attempts.len() > 1 {
            format!(", {} attempts", task.attempts.len())
        } else {
            String::new()
        };
        format!(
            "{} (line {})\n{}{attempts}, {timing}",
            task.name,
            task.line,
            task.status.as_str()
        )
    }

    /// Graphviz, one box per call coloured by its status, labelled with its timing.
    pub fn to_dot(&self) -> String {
        let mut out = format!(
            "digraph weft_run {{\n    rankdir=TB;\n    label={};\n    node [shape=box, style=\"rounded,filled\"];\n",
            dot_quote(&format!("run {} ({})", self.run, self.status))
        );
        for task in &self.tasks {
            out.push_str(&format!(
                "    n{} [label={}, fillcolor=\"{}\"];\n",
                task.id,
                dot_quote(&self.node_label(task)),
                status_colour(task.status)
            ));
        }
        for (from, to) in self.edges() {
            out.push_str(&format!("    n{from} -> n{to};\n"));
        }
        out.push_str("}\n");
        out
    }

    /// A Mermaid flowchart, one class per status.
    pub fn to_mermaid(&self) -> String {
        let mut out = String::from("flowchart TD\n");
        for task in &self.tasks {
            out.push_str(&format!(
                "    n{}[\"{}\"]:::{}\n",
                task.id,
                self.node_label(task)
                    .replace('"', "#quot;")
                    .replace('\n', "<br/>"),
                task.status.as_str()
            ));
        }
        for (from, to) in self.edges() {
            out.push_str(&format!("    n{from} --> n{to}\n"));
        }
        for status in TaskStatus::ALL {
            out.push_str(&format!(
                "    classDef {} fill:{}\n",
                status.as_str(),
                status_colour(status)
            ));
        }
        out
    }
}

/// The fill colour of a status, shared by the graph outputs and the report.
pub fn status_colour(status: TaskStatus) -> &'static str {
    match status {
        TaskStatus::Done => "#b7e1b0",
        TaskStatus::Cached => "#b9d7f0",
        TaskStatus::Failed => "#f3a7a7",
        TaskStatus::Ignored => "#f5d6a0",
        TaskStatus::Raised => "#e2c2f0",
        TaskStatus::Cancelled => "#dddddd",
        TaskStatus::Unfinished => "#ffffff",
    }
}

fn dot_quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}

/// A duration for people: `850ms`, `2.4s`, `3m12s`, `1h05m`.
pub fn format_us(us: u64) -> String {
    let ms = us / 1000;
    if ms < 1000 {
        if us < 1000 {
            format!("{us}µs")
        } else {
            format!("{ms}ms")
        }
    } else if ms < 60_000 {
        format!("{:.1}s", ms as f64 / 1000.0)
    } else if ms < 3_600_000 {
        format!("{}m{:02}s", ms / 60_000, (ms / 1000) % 60)
    } else {
        format!("{}h{:02}m", ms / 3_600_000, (ms / 60_000) % 60)
    }
}

/// Microseconds since the Unix epoch.
pub fn now_us() -> u64 {
    to_us(SystemTime::now())
}

pub fn to_us(time: SystemTime) -> u64 {
    time.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

/// RFC 3339 (UTC, to the millisecond) of a time in µs since the epoch.
pub fn rfc3339(us: u64) -> String {
    let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_micros(us);
    humantime::format_rfc3339_millis(time).to_string()
}

/// Writes a file through a temporary sibling and a rename.
pub fn write_file_atomically(path: &Path, contents: &[u8]) -> Result<(), String> {
    write_atomically_with(path, |out| out.write_all(contents))
}

/// Writes a file through a buffered temporary sibling and a rename.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.weft-{}", std::process::id()));
    let written = std::fs::File::create(&tmp).and_then(|file| {
        let mut out = std::io::BufWriter::new(file);
        write(&mut out)?;
        out.flush()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(format!("cannot write {}: {e}", tmp.display()));
    }
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}

/// What the resume layer tells the recorder about an attempt, before the attempt's end
/// reaches the dispatcher.
#[derive(Clone, Debug)]
pub struct CacheNote {
    pub task: TaskId,
    pub attempt: u32,
    pub key: String,
    pub hit: bool,
    pub reason: Option<String>,
}

/// Sends cache notes to the recorder. Each note is sent before the attempt's end is, so the
/// recorder has it when the end arrives.
pub type NoteSender = mpsc::Sender<CacheNote>;

/// Source files as shown in records, by the address of their `SourceFile` (which the
/// calls' sites keep alive for the whole run, so an address is not reused).
pub type ShownFiles = HashMap<usize, PathBuf>;

/// The record of a call as it is made: built on the body's thread, which has time to
/// spare, and handed to the dispatcher with the call.
pub fn call_record(sub: &Submission, run_dir: &Path, shown_files: &mut ShownFiles) -> TaskRecord {
    let shown = |path: &Path| {
        path.strip_prefix(run_dir)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut inputs = Vec::new();
    let mut outputs = Vec::new();
    for access in &sub.files {
        let path = shown(&access.user_path);
        if access.resolved.reads.is_some() && !inputs.contains(&path) {
            inputs.push(path.clone());
        }
        if access.resolved.writes.is_some() && !outputs.contains(&path) {
            outputs.push(path);
        }
    }
    let file = shown_files
        .entry(Arc::as_ptr(&sub.site.file) as usize)
        .or_insert_with(|| shown(&sub.site.file.path))
        .clone();
    TaskRecord {
        id: sub.id,
        name: sub.task.name.name.clone(),
        file,
        line: sub.site.line(),
        groups: sub.groups.iter().map(|(_, name)| name.clone()).collect(),
        deps: sub.deps.clone(),
        inputs,
        outputs,
        status: TaskStatus::Unfinished,
        attempts: Vec::new(),
    }
}

/// The dispatcher's notebook.
pub struct Recorder {
    run_dir: PathBuf,
    resources: Vec<ResourceRecord>,
    tasks: TaskTable<TaskRecord>,
    /// Busy slots, by resource name.
    busy: HashMap<String, BTreeSet<usize>>,
    notes_tx: NoteSender,
    notes_rx: mpsc::Receiver<CacheNote>,
}

impl Recorder {
    pub fn new(pool: &Pool, run_dir: &Path) -> Recorder {
        let (notes_tx, notes_rx) = mpsc::channel();
        Recorder {
            run_dir: run_dir.to_path_buf(),
            resources: pool
                .specs()
                .map(|s| ResourceRecord {
                    name: s.name.clone(),
                    cores: s.cores,
                })
                .collect(),
            tasks: TaskTable::default(),
            busy: HashMap::new(),
            notes_tx,
            notes_rx,
        }
    }

    /// Where the resume layer sends its notes.
    pub fn notes(&self) -> NoteSender {
        self.notes_tx.clone()
    }

    fn shown(&self, path: &Path) -> PathBuf {
        path.strip_prefix(&self.run_dir)
            .map(Path::to_path_buf)
            .unwrap_or_else(|_| path.to_path_buf())
    }

    /// A call reached the dispatcher, with its record (see [`call_record`]).
    pub fn submitted(&mut self, record: TaskRecord) {
        self.tasks.insert(record.id, record);
    }

    /// An attempt starts on these reservations (none: a nested workflow).
    pub fn attempt_started(
        &mut self,
        id: TaskId,
        attempt: u32,
        reservations: &[Reservation],
        attempt_dir: &Path,
    ) {
        let resource = if reservations.is_empty() {
            NESTED_LANE.to_string()
        } else {
            reservations
                .iter()
                .map(|r| {
                    self.resources
                        .get(r.resource)
                        .map_or_else(|| format!("resource {}", r.resource), |s| s.name.clone())
                })
                .collect::<Vec<_>>()
                .join("+")
        };
        let busy = match self.busy.get_mut(&resource) {
            Some(busy) => busy,
            None => self.busy.entry(resource.clone()).or_default(),
        };
        let slot = (0..).find(|s| !busy.contains(s)).unwrap_or_default();
        busy.insert(slot);
        let now = now_us();
        let dir = self.shown(attempt_dir);
        let stdout_log = Some(dir.join(STDOUT_LOG));
        let stderr_log = Some(dir.join(STDERR_LOG));
        if let Some(task) = self.tasks.get_mut(id) {
            task.attempts.push(AttemptRecord {
                attempt,
                resource,
                slot,
                start_us: now,
                end_us: now,
                status: AttemptStatus::Running,
                message: None,
                stdout_log,
                stderr_log,
                cache_key: None,
                reason: None,
            });
        }
    }

    fn take_notes(&mut self) {
        while let Ok(note) = self.notes_rx.try_recv() {
            let Some(record) = self.tasks.get_mut(note.task).and_then(|t| {
                t.attempts
                    .iter_mut()
                    .rev()
                    .find(|a| a.attempt == note.attempt)
            }) else {
                continue;
            };
            record.cache_key = Some(note.key);
            record.reason = note.reason;
            if note.hit {
                record.status = AttemptStatus::Cached;
                // A restored attempt ran nothing and wrote no log.
                record.stdout_log = None;
                record.stderr_log = None;
            }
        }
    }

    /// The current attempt of a task ended (its process is gone).
    pub fn attempt_ended(&mut self, id: TaskId, outcome: &AttemptOutcome) {
        self.take_notes();
        let Some(record) = self
            .tasks
            .get_mut(id)
            .and_then(|t| t.attempts.last_mut())
            .filter(|a| a.status == AttemptStatus::Running || a.status == AttemptStatus::Cached)
        else {
            return;
        };
        // Its lane is free again.
        if let Some(busy) = self.busy.get_mut(&record.resource) {
            busy.remove(&record.slot);
        }
        record.end_us = now_us().max(record.start_us);
        let (status, message) = match outcome {
            AttemptOutcome::Succeeded { .. } => (AttemptStatus::Done, None),
            AttemptOutcome::Failed { message } => (AttemptStatus::Failed, Some(message.clone())),
            AttemptOutcome::Raised { message } => (AttemptStatus::Raised, Some(message.clone())),
            AttemptOutcome::Cancelled => (AttemptStatus::Cancelled, None),
        };
        if record.status != AttemptStatus::Cached {
            record.status = status;
        }
        record.message = message;
    }

    /// The dispatcher ended a task (after its last attempt, or without any).
    pub fn task_ended(&mut self, id: TaskId, end: TaskEnd) {
        let Some(task) = self.tasks.get_mut(id) else {
            return;
        };
        let last = task.attempts.last().map(|a| a.status);
        task.status = match (end, last) {
            (TaskEnd::Done, Some(AttemptStatus::Cached)) => TaskStatus::Cached,
            (TaskEnd::Done, Some(AttemptStatus::Failed)) => TaskStatus::Ignored,
            (TaskEnd::Done, _) => TaskStatus::Done,
            (TaskEnd::Failed, _) => TaskStatus::Failed,
            (TaskEnd::Cancelled, Some(AttemptStatus::Raised)) => TaskStatus::Raised,
            (TaskEnd::Cancelled, _) => TaskStatus::Cancelled,
        };
    }

    /// Every call, in program order; attempts still open are closed now.
    pub fn take_records(&mut self) -> Vec<TaskRecord> {
        self.take_notes();
        let now = now_us();
        // In program order: the table is by id.
        let mut tasks: Vec<TaskRecord> = std::mem::take(&mut self.tasks).into_values().collect();
        for task in &mut tasks {
            for attempt in &mut task.attempts {
                if attempt.status == AttemptStatus::Running {
                    attempt.end_us = now.max(attempt.start_us);
                }
            }
        }
        tasks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(format_us(640), "640µs");
        assert_eq!(format_us(850_000), "850ms");
        assert_eq!(format_us(2_400_000), "2.4s");
        assert_eq!(format_us(192_000_000), "3m12s");
        assert_eq!(format_us(3_900_000_000), "1h05m");
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_700_000_000_123_456), "2023-11-14T22:13:20.123Z");
    }
}
