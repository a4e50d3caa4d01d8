//! The dispatcher: one loop over the bodies' requests and the attempts under way, releasing
//! ready tasks to resources (§6, §7, §8).
//!
//! Each turn takes one event (an attempt's end, a batch of calls, a question of a body),
//! then whatever else has already arrived, then schedules once. Attempts are futures polled
//! on this loop; launchers put what blocks on tokio's workers.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::future::Future;
use std::ops::{Bound, ControlFlow};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::stream::{FuturesUnordered, StreamExt};
use indexmap::IndexMap;
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use weft_compiler::ast::{Body, Direction, Type};
use weft_compiler::deps::{RunId, TaskId};
use weft_compiler::eval::{eval_pure, Exception, Interrupt};
use weft_compiler::value::{FutureId, Value};

use crate::attempt::{
    log_tail, AttemptOutcome, AttemptSpec, BodySpec, NodeInfo, STDERR_LOG, STDOUT_LOG,
};
use crate::directives::{self, Policy, Settings};
use crate::progress::{Counts, Progress};
use crate::protocol::{BodyId, GroupId, Request, Submission, WaitError};
use crate::resources::{Pool, Requirement, Reservation};
use crate::task_table::TaskTable;
use crate::versions::{remove_path, FileKey, Versions};

/// How many requests the loop takes at once before it schedules: enough to amortise a
/// scheduling pass over a batch of calls, few enough to keep attempts' ends flowing.
const DRAIN_LIMIT: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Status {
    Waiting,
    Ready,
    Running,
    Done,
    Failed,
    Cancelled,
}

impl Status {
    fn ended(self) -> bool {
        matches!(self, Status::Done | Status::Failed | Status::Cancelled)
    }
}

struct TaskState {
    sub: Submission,
    status: Status,
    remaining: usize,
    dependents: Vec<TaskId>,
    attempt: u32,
    /// One per implementation; shared by every call when they do not depend on the call.
    settings: Option<Arc<Vec<Settings>>>,
    /// The runs of `commutative` data it updates: one holds a lock while it runs.
    commutative: Vec<RunId>,
    /// A `replicated` call's resources, in order: it runs once on each, one after another
    /// (its files are written in turn; the last run's are the call's), and ends when the
    /// last has run. Empty for other calls.
    replicas: Vec<usize>,
    /// The index in `replicas` of the run under way.
    replica: usize,
    chosen: usize,
    reservations: Vec<Reservation>,
    last_resource: Option<usize>,
    cancel: Option<CancellationToken>,
    /// Whether it reads a version at the user's path, per file access.
    user_reads: Vec<bool>,
    /// A nested workflow: it runs no process and holds no slot of `-j` (its tasks do).
    nested: bool,
}

/// The end of one attempt: from its future on the dispatcher's loop, or from the thread of a
/// nested workflow.
pub enum Finished {
    Attempt {
        id: TaskId,
        outcome: AttemptOutcome,
        dir: PathBuf,
    },
}

#[derive(Default)]
struct Group {
    name: String,
    body: BodyId,
    unfinished: usize,
    tasks: Vec<TaskId>,
    exception: Option<Exception>,
    waiters: Vec<oneshot::Sender<Result<Option<Exception>, WaitError>>>,
}

#[derive(Default)]
struct BodyState {
    unfinished: usize,
    /// Exceptions raised outside any group, with the call that raised each.
    deferred: Vec<(TaskId, Exception)>,
    waiters: Vec<oneshot::Sender<Result<Option<Exception>, WaitError>>>,
}

/// How the run went, for the exit status and the summary.
#[derive(Debug, Default)]
pub struct Summary {
    pub total: usize,
    pub done: usize,
    pub failed: usize,
    pub cancelled: usize,
    /// A failure that changes the exit status (not ignored).
    pub failure: bool,
    pub interrupted: bool,
    /// Every call and attempt, in program order.
    pub records: Vec<crate::record::TaskRecord>,
}

pub struct Options {
    pub run_dir: PathBuf,
    pub state_dir: PathBuf,
    pub jobs: Option<usize>,
    pub sequential: bool,
    pub containers: Option<weft_compiler::config::ContainersConfig>,
    /// How attempts reach the resources (§8.1 `executor`).
    pub launcher: std::sync::Arc<dyn crate::launch::Launcher>,
    /// The results of completed attempts: reused (`--resume`) and recorded.
    pub resume: Option<Arc<crate::resume::Cache>>,
}

pub struct Dispatcher {
    options: Options,
    pool: Pool,
    versions: Versions,
    tasks: TaskTable<TaskState>,
    ready: BTreeSet<(bool, TaskId)>,
    /// Tasks not ended yet, for `--sequential`'s program order (kept only then).
    unfinished: BTreeSet<TaskId>,
    running: usize,
    futures: HashMap<FutureId, (TaskId, Option<usize>, Option<String>)>,
    values: HashMap<FutureId, Value>,
    resolve_waiters: HashMap<FutureId, Vec<oneshot::Sender<Result<Value, WaitError>>>>,
    task_waiters: Vec<TaskWaiter>,
    read_waiters: Vec<ReadWaiter>,
    deletes: Vec<(FileKey, PathBuf, u32, Vec<TaskId>)>,
    groups: HashMap<GroupId, Group>,
    bodies: HashMap<BodyId, BodyState>,
    locks: HashSet<RunId>,
    /// Settings evaluated once per task definition (by the address of its `Arc`, which the
    /// entry keeps alive), or `None` when they depend on each call.
    shared_settings: HashMap<usize, SharedSettings>,
    round_robin: usize,
    /// Resources the launcher lost for good (ssh hosts that died), and what is held on them
    /// so that nothing is placed there again.
    lost: BTreeSet<usize>,
    lost_holds: Vec<Reservation>,
    aborting: bool,
    summary: Summary,
    recorder: crate::record::Recorder,
    /// Attempts under way, polled on the dispatcher's own loop: an attempt that needs no
    /// process ends without a hand-off to another thread. Launchers move what blocks
    /// (spawning processes, copying files) off this loop themselves.
    attempts: FuturesUnordered<Pin<Box<dyn Future<Output = Finished> + Send>>>,
    /// What the user sees of the run on standard error.
    progress: Progress,
    /// Ends of nested workflows, which run on threads of their own.
    finished_tx: mpsc::UnboundedSender<Finished>,
    finished_rx: mpsc::UnboundedReceiver<Finished>,
    /// Spawns nested workflow bodies (`workflow` task bodies).
    pub nested: Option<Box<dyn FnMut(NestedRun) + Send>>,
}

/// A task definition, kept alive, and its settings when every call shares them.
type SharedSettings = (Arc<weft_compiler::ast::Task>, Option<Arc<Vec<Settings>>>);

/// A body waiting for tasks to end (and for a pending delete of a file).
type TaskWaiter = (
    Vec<TaskId>,
    Option<FileKey>,
    oneshot::Sender<Result<(), WaitError>>,
);

/// A body waiting for a file's version to be final.
type ReadWaiter = (FileKey, u32, oneshot::Sender<Result<PathBuf, WaitError>>);

/// A nested workflow to run as one task.
pub struct NestedRun {
    pub task: TaskId,
    pub file: PathBuf,
    pub args: IndexMap<String, Value>,
    pub done: mpsc::UnboundedSender<Finished>,
    pub dir: PathBuf,
}

impl Dispatcher {
    pub fn new(options: Options, pool: Pool, progress: Progress) -> Dispatcher {
        let (finished_tx, finished_rx) = mpsc::unbounded_channel();
        let versions = Versions::new(options.state_dir.join("versions"));
        let recorder = crate::record::Recorder::new(&pool, &options.run_dir);
        Dispatcher {
            options,
            pool,
            versions,
            tasks: TaskTable::default(),
            ready: BTreeSet::new(),
            unfinished: BTreeSet::new(),
            running: 0,
            futures: HashMap::new(),
            values: HashMap::new(),
            resolve_waiters: HashMap::new(),
            task_waiters: Vec::new(),
            read_waiters: Vec::new(),
            deletes: Vec::new(),
            groups: HashMap::new(),
            bodies: HashMap::new(),
            locks: HashSet::new(),
            shared_settings: HashMap::new(),
            round_robin: 0,
            lost: BTreeSet::new(),
            lost_holds: Vec::new(),
            aborting: false,
            summary: Summary::default(),
            recorder,
            attempts: FuturesUnordered::new(),
            progress,
            finished_tx,
            finished_rx,
            nested: None,
        }
    }

    /// Runs until the main body asks to shut down; then stops whatever still runs.
    pub async fn run(mut self, mut requests: mpsc::Receiver<Request>) -> Summary {
        let interrupt = CancellationToken::new();
        spawn_signal_watch(interrupt.clone());
        'run: loop {
            tokio::select! {
                biased;
                _ = interrupt.cancelled(), if !self.summary.interrupted => {
                    self.progress.say("weft: interrupted; stopping the running tasks");
                    self.summary.interrupted = true;
                    self.abort();
                    // The body may be busy computing and never ask again: do not wait for it.
                    break;
                }
                Some(finished) = self.attempts.next(), if !self.attempts.is_empty() => {
                    self.finish(finished);
                }
                Some(finished) = self.finished_rx.recv() => self.finish(finished),
                request = requests.recv() => match request {
                    Some(request) => {
                        if self.take(request).is_break() {
                            break;
                        }
                    }
                    None => break,
                },
            }
            // Whatever else has arrived is taken before scheduling once for all of it.
            for _ in 0..DRAIN_LIMIT {
                match requests.try_recv() {
                    Ok(request) => {
                        if self.take(request).is_break() {
                            break 'run;
                        }
                    }
                    Err(_) => break,
                }
            }
            while let Ok(finished) = self.finished_rx.try_recv() {
                self.finish(finished);
            }
            self.schedule();
            self.progress.update(self.counts());
        }
        // Wait for killed attempts to be reaped, so no process outlives the run.
        while self.running > 0 {
            tokio::select! {
                Some(finished) = self.attempts.next(), if !self.attempts.is_empty() => {
                    self.finish(finished);
                }
                finished = self.finished_rx.recv() => match finished {
                    Some(finished) => self.finish(finished),
                    None => break,
                },
            }
        }
        self.progress.finish();
        self.summary.total = self.tasks.count();
        self.summary.records = self.recorder.take_records();
        crate::drop_in_background((
            std::mem::take(&mut self.tasks),
            std::mem::take(&mut self.values),
        ));
        self.summary
    }

    fn counts(&self) -> Counts {
        Counts {
            total: self.tasks.count(),
            done: self.summary.done,
            failed: self.summary.failed,
            cancelled: self.summary.cancelled,
            running: self.running,
        }
    }

    /// Takes one request; `Break` when the main body asks to shut down.
    fn take(&mut self, request: Request) -> ControlFlow<()> {
        match request {
            Request::Shutdown { abort } => {
                if abort {
                    self.abort();
                }
                ControlFlow::Break(())
            }
            request => {
                self.handle(request);
                ControlFlow::Continue(())
            }
        }
    }

    // -----------------------------------------------------------------------------------------
    // Requests from bodies
    // -----------------------------------------------------------------------------------------

    fn handle(&mut self, request: Request) {
        match request {
            Request::Submit(calls) => {
                for (call, record) in calls {
                    self.recorder.submitted(record);
                    self.submit(call);
                }
            }
            Request::Resolve { future, reply } => {
                if let Some(v) = self.values.get(&future) {
                    let _ = reply.send(Ok(v.clone()));
                } else if let Some(err) = self.future_error(future) {
                    let _ = reply.send(Err(err));
                } else {
                    self.resolve_waiters.entry(future).or_default().push(reply);
                }
            }
            Request::WaitTasks { tasks, file, reply } => {
                self.task_waiters.push((tasks, file, reply));
                self.wake_task_waiters();
            }
            Request::ReadPath {
                key,
                user_path,
                version,
                reply,
            } => {
                // Registers the file; not a task, so any count of a user-path reader it made
                // is taken back at once.
                if self.versions.note_read(key, &user_path, false, version) {
                    let _ = self.versions.reader_done(key);
                }
                self.read_waiters.push((key, version, reply));
                self.wake_read_waiters();
            }
            Request::BodyWrote {
                key,
                user_path,
                version,
            } => self.versions.body_wrote(key, &user_path, version),
            Request::Delete {
                key,
                user_path,
                version,
                after,
            } => {
                self.versions.body_deleted(key, &user_path, version);
                self.deletes.push((key, user_path, version, after));
                self.run_deletes();
                self.wake_task_waiters();
            }
            Request::WaitGroup { group, reply } => {
                let g = self.groups.entry(group).or_default();
                if self.aborting {
                    let _ = reply.send(Err(WaitError::Aborted));
                } else if g.unfinished == 0 {
                    let _ = reply.send(Ok(g.exception.take()));
                } else {
                    g.waiters.push(reply);
                }
            }
            Request::WaitAll { body, reply } => {
                let b = self.bodies.entry(body).or_default();
                if self.aborting {
                    let _ = reply.send(Err(WaitError::Aborted));
                } else if b.unfinished == 0 {
                    let _ = reply.send(Ok(self.take_exception(body)));
                } else {
                    b.waiters.push(reply);
                }
            }
            Request::Shutdown { .. } => unreachable!("handled by the loop"),
        }
    }

    fn future_error(&self, future: FutureId) -> Option<WaitError> {
        if self.aborting {
            return Some(WaitError::Aborted);
        }
        let (task, _, _) = self.futures.get(&future)?;
        let state = self.tasks.get(*task)?;
        matches!(state.status, Status::Failed | Status::Cancelled)
            .then(|| self.cancelled_name(*task))
    }

    fn cancelled_name(&self, task: TaskId) -> WaitError {
        let state = &self.tasks[task];
        WaitError::Cancelled(format!(
            "the result of `{}` (line {})",
            state.sub.task.name,
            state.sub.site.line()
        ))
    }

    fn submit(&mut self, sub: Submission) {
        let id = sub.id;
        for (i, f) in sub.returns.iter().enumerate() {
            let index = (sub.returns.len() > 1
                || matches!(
                    sub.task.returns,
                    Some(weft_compiler::ast::ReturnType::Tuple(..))
                ))
            .then_some(i);
            self.futures.insert(*f, (id, index, None));
        }
        for (name, f) in &sub.json_outs {
            self.futures.insert(*f, (id, None, Some(name.clone())));
        }
        let mut user_reads = Vec::with_capacity(sub.files.len());
        for access in &sub.files {
            let r = &access.resolved;
            if let Some(w) = r.writes {
                // A run's shared version is noted by each member: each must end for it.
                self.versions.note_write(
                    access.key,
                    &access.user_path,
                    access.is_dir,
                    w,
                    r.run.is_some(),
                );
            }
            // Every task reading a version that lives at the user's path (`inout` and runs
            // too, which copy it) holds back newer versions from that path until it ends.
            let at_user = match r.reads {
                Some(v) => self
                    .versions
                    .note_read(access.key, &access.user_path, access.is_dir, v),
                _ => false,
            };
            user_reads.push(at_user);
        }
        let commutative = sub
            .files
            .iter()
            .filter(|a| a.resolved.direction == Direction::Commutative)
            .filter_map(|a| a.resolved.run)
            .collect();
        for (group, name) in &sub.groups {
            let g = self.groups.entry(*group).or_default();
            g.name = name.clone();
            g.body = sub.body;
            g.unfinished += 1;
            g.tasks.push(id);
        }
        self.bodies.entry(sub.body).or_default().unfinished += 1;
        if self.options.sequential {
            self.unfinished.insert(id);
        }
        let mut remaining = 0;
        // A call made into a group whose exception was raised never starts (§6.3).
        let mut doomed = self.aborting
            || sub
                .groups
                .iter()
                .any(|(g, _)| self.groups.get(g).is_some_and(|g| g.exception.is_some()));
        for dep in &sub.deps {
            if let Some(d) = self.tasks.get_mut(*dep) {
                match d.status {
                    Status::Done => {}
                    Status::Failed | Status::Cancelled => doomed = true,
                    _ => {
                        d.dependents.push(id);
                        remaining += 1;
                    }
                }
            }
        }
        self.tasks.insert(
            id,
            TaskState {
                sub,
                status: Status::Waiting,
                remaining,
                dependents: Vec::new(),
                attempt: 0,
                settings: None,
                commutative,
                replicas: Vec::new(),
                replica: 0,
                chosen: 0,
                reservations: Vec::new(),
                last_resource: None,
                cancel: None,
                user_reads,
                nested: false,
            },
        );
        if doomed {
            self.end_task(id, Status::Cancelled);
        } else if remaining == 0 {
            self.make_ready(id);
        }
    }

    fn make_ready(&mut self, id: TaskId) {
        // Settings need the arguments' values: every future is resolved once deps are done,
        // and the call keeps its resolved arguments from now on.
        resolve_args(&mut self.tasks[id].sub.args, &self.values);
        let state = &self.tasks[id];
        let args = &state.sub.args;
        let shared = self
            .shared_settings
            .entry(Arc::as_ptr(&state.sub.task) as usize)
            .or_insert_with(|| {
                let task = state.sub.task.clone();
                let settings = directives::same_for_every_call(&task)
                    .then(|| {
                        directives::evaluate(&state.sub.program, state.sub.module, &task, args)
                            .ok()
                            .map(Arc::new)
                    })
                    .flatten();
                (task, settings)
            });
        let evaluated = match &shared.1 {
            Some(settings) => Ok(settings.clone()),
            None => {
                directives::evaluate(&state.sub.program, state.sub.module, &state.sub.task, args)
                    .map(Arc::new)
            }
        }
        .and_then(|settings| mpi_nodes(&state.sub.program, state.sub.module, args, settings));
        let place = || {
            format!(
                "`{}` ({}:{})",
                state.sub.task.name,
                state.sub.site.file.path.display(),
                state.sub.site.line()
            )
        };
        let problem = match &evaluated {
            Ok(settings) if !self.servable(settings) => Some(format!(
                "weft::unsatisfiable: no configured resource can run {}: {}",
                place(),
                self.pool.unsatisfiable_reason(&settings[0].requirement)
            )),
            Ok(_) => None,
            Err(message) => Some(format!("weft: task {} cannot start: {message}", place())),
        };
        match (problem, evaluated) {
            (None, Ok(settings)) => {
                let priority =
                    settings.first().is_some_and(|s| s.priority) && !self.options.sequential;
                let replicas = self.replica_resources(&settings);
                let state = self.tasks.get_mut(id).expect("known task");
                state.replicas = replicas;
                state.status = Status::Ready;
                state.settings = Some(settings);
                self.ready.insert((!priority, id));
            }
            (problem, _) => {
                // Known only now (§4.3): the run stops with status 1.
                self.progress.say(&problem.unwrap_or_default());
                self.summary.failure = true;
                self.end_task(id, Status::Failed);
                self.abort();
            }
        }
    }

    /// The resources a `replicated` call runs on: every one not lost that can serve one of
    /// its implementations (a multi-node or nested-workflow call runs as usual).
    fn replica_resources(&self, settings: &[Settings]) -> Vec<usize> {
        let Some(first) = settings.first() else {
            return Vec::new();
        };
        if !first.replicated
            || nodes_of(first).is_some()
            || matches!(first.body, Body::Workflow { .. })
        {
            return Vec::new();
        }
        (0..self.pool.len())
            .filter(|r| !self.lost.contains(r))
            .filter(|&r| {
                settings
                    .iter()
                    .any(|s| self.pool.serves_when_idle(r, &s.requirement))
            })
            .collect()
    }

    /// Whether some resource could ever serve some implementation of the task (§4.3).
    fn servable(&self, settings: &[Settings]) -> bool {
        settings.iter().any(|s| {
            matches!(s.body, Body::Workflow { .. })
                || match nodes_of(s) {
                    Some(n) => self.pool.can_ever_fit_nodes(&s.requirement, n as usize),
                    None => self.pool.can_ever_fit(&s.requirement),
                } && self.live_resources_serve(s)
        })
    }

    /// Whether resources not lost could serve one of the task's implementations.
    fn live_resources_serve_any(&self, id: &TaskId) -> bool {
        self.tasks[*id]
            .settings
            .as_ref()
            .is_none_or(|settings| settings.iter().any(|s| self.live_resources_serve(s)))
    }

    /// Whether enough resources not lost could serve the settings when idle.
    fn live_resources_serve(&self, settings: &Settings) -> bool {
        let needed = nodes_of(settings).unwrap_or(1) as usize;
        (0..self.pool.len())
            .filter(|r| !self.lost.contains(r))
            .filter(|&r| self.pool.serves_when_idle(r, &settings.requirement))
            .take(needed)
            .count()
            == needed
    }

    // -----------------------------------------------------------------------------------------
    // Scheduling
    // -----------------------------------------------------------------------------------------

    fn schedule(&mut self) {
        if self.aborting {
            return;
        }
        let cap = if self.options.sequential {
            1
        } else {
            self.options.jobs.unwrap_or(usize::MAX)
        };
        let mut cursor: Option<(bool, TaskId)> = None;
        while self.running < cap {
            let next = match cursor {
                None => self.ready.iter().next().copied(),
                Some(after) => self
                    .ready
                    .range((Bound::Excluded(after), Bound::Unbounded))
                    .next()
                    .copied(),
            };
            let Some(key) = next else { break };
            cursor = Some(key);
            let id = key.1;
            if self.options.sequential && self.unfinished.first() != Some(&id) {
                // One at a time, in program order: only the earliest unfinished task.
                break;
            }
            if (0..self.pool.len()).all(|r| self.pool.free_cores(r) == 0) {
                // Every task reserves at least a core: nothing more fits until one ends.
                break;
            }
            if !self.locks_free(id) {
                continue;
            }
            if let Some((chosen, reservations)) = self.reserve(id) {
                self.ready.remove(&key);
                self.start(id, chosen, reservations);
            }
        }
    }

    fn locks_free(&self, id: TaskId) -> bool {
        self.tasks[id]
            .commutative
            .iter()
            .all(|r| !self.locks.contains(r))
    }

    fn reserve(&mut self, id: TaskId) -> Option<(usize, Vec<Reservation>)> {
        let state = &self.tasks[id];
        let settings = state.settings.as_ref()?;
        if let Some(&target) = state.replicas.get(state.replica) {
            // A replica runs on its own resource, with the first implementation it serves.
            let chosen = settings
                .iter()
                .position(|s| self.pool.serves_when_idle(target, &s.requirement))?;
            let r = self
                .pool
                .try_reserve_on(target, &settings[chosen].requirement)?;
            return Some((chosen, vec![r]));
        }
        let avoid = state.last_resource;
        let first = &settings[0];
        let preferred = first.distributed.then(|| {
            self.round_robin += 1;
            (self.round_robin - 1) % self.pool.len().max(1)
        });
        if settings.len() > 1 {
            let reqs: Vec<_> = settings.iter().map(|s| s.requirement.clone()).collect();
            let (chosen, r) = self.pool.try_reserve_impl(&reqs, preferred, avoid)?;
            return Some((chosen, vec![r]));
        }
        if let Some(n) = nodes_of(first) {
            return self
                .pool
                .try_reserve_nodes(&first.requirement, n as usize)
                .map(|rs| (0, rs));
        }
        if matches!(first.body, Body::Workflow { .. }) {
            // A nested workflow reserves nothing itself (§8.2).
            return Some((0, Vec::new()));
        }
        let r = self
            .pool
            .try_reserve(&first.requirement, preferred, avoid)?;
        Some((0, vec![r]))
    }

    fn start(&mut self, id: TaskId, chosen: usize, reservations: Vec<Reservation>) {
        self.running += 1;
        self.locks
            .extend(self.tasks[id].commutative.iter().copied());
        let attempt_dir = {
            let state = self.tasks.get_mut(id).expect("known task");
            state.status = Status::Running;
            state.attempt += 1;
            state.chosen = chosen;
            state.last_resource = reservations.first().map(|r| r.resource);
            let folder = if state.replicas.is_empty() {
                format!("attempt-{}", state.attempt)
            } else {
                format!("replica-{}-attempt-{}", state.replica + 1, state.attempt)
            };
            self.options
                .state_dir
                .join("tasks")
                .join(format!("{}-{}", id, state.sub.task.name))
                .join(folder)
        };
        let attempt = self.tasks[id].attempt;
        self.recorder
            .attempt_started(id, attempt, &reservations, &attempt_dir);
        self.progress
            .started(id, &self.tasks[id].sub.task.name.name);
        let spec = match self.attempt_spec(id, chosen, &reservations, &attempt_dir) {
            Ok(Launch::Process(s)) => s,
            Ok(Launch::Nested(file, args)) => {
                self.running -= 1;
                // Its own tasks come after it in program order: `--sequential` runs them.
                self.unfinished.remove(&id);
                let state = self.tasks.get_mut(id).expect("known task");
                state.reservations = reservations;
                state.nested = true;
                let run = NestedRun {
                    task: id,
                    file,
                    args,
                    done: self.finished_tx.clone(),
                    dir: attempt_dir,
                };
                if let Some(spawn) = self.nested.as_mut() {
                    spawn(run);
                }
                return;
            }
            Err(message) => {
                self.ended_at_once(Finished::Attempt {
                    id,
                    outcome: AttemptOutcome::Failed { message },
                    dir: attempt_dir,
                });
                self.tasks.get_mut(id).expect("known task").reservations = reservations;
                return;
            }
        };
        let cancel = CancellationToken::new();
        let state = self.tasks.get_mut(id).expect("known task");
        state.reservations = reservations;
        state.cancel = Some(cancel.clone());
        let resources = {
            let state = &self.tasks[id];
            let settings = &state
                .settings
                .as_ref()
                .expect("started tasks have settings")[chosen];
            let first = state.reservations.first();
            crate::launch::Placement {
                nodes: state
                    .reservations
                    .iter()
                    .map(|r| self.pool.spec(r.resource).clone())
                    .collect(),
                cores: first.map_or(0, |r| r.cores),
                memory: first.map_or(0, |r| r.memory),
                gpus: first.map_or(0, |r| r.gpus.len() as u32),
                walltime: settings
                    .requirement
                    .walltime
                    .map(std::time::Duration::from_secs_f64),
            }
        };
        let dir = spec.attempt_dir.clone();
        // With a cache, the attempt is looked up first, and launched only on a miss.
        let probe = self.options.resume.as_ref().and_then(|cache| {
            let state = &self.tasks[id];
            // A replicated call is run for what it does on each resource: never restored.
            if !state.replicas.is_empty() {
                return None;
            }
            crate::resume::Probe::new(
                cache,
                &state.sub,
                &state.settings.as_ref()?[chosen],
                &state.sub.args,
                attempt,
                &self.options.run_dir,
                self.options.containers.as_ref().map(|c| c.engine.program()),
                &self.versions,
                self.recorder.notes(),
            )
        });
        // A hit that is cheap to restore ends here, without a launch (nor an
        // attempt folder: making thousands of them is most of what a resume costs).
        if let Some(outcome) = probe.as_ref().and_then(|p| p.restore_now()) {
            self.ended_at_once(Finished::Attempt { id, outcome, dir });
            return;
        }
        // The launcher makes the attempt folder where it keeps the logs (a task that runs no
        // process here needs none: folders are most of what a tiny task costs).
        let launcher = self.options.launcher.clone();
        let running: crate::launch::Running = match probe {
            Some(probe) => Box::pin(probe.run(move || launcher.launch(*spec, resources, cancel))),
            None => launcher.launch(*spec, resources, cancel),
        };
        self.attempts.push(Box::pin(async move {
            let outcome = running.await;
            Finished::Attempt { id, outcome, dir }
        }));
    }

    /// An attempt that ended before it ran: its end is taken by the loop, as every end is.
    fn ended_at_once(&mut self, finished: Finished) {
        self.attempts.push(Box::pin(std::future::ready(finished)));
    }

    /// Builds what the attempt runs: arguments with the versioned paths, evaluated body.
    fn attempt_spec(
        &mut self,
        id: TaskId,
        chosen: usize,
        reservations: &[Reservation],
        attempt_dir: &std::path::Path,
    ) -> Result<Launch, String> {
        let state = &self.tasks[id];
        let sub = &state.sub;
        let settings = &state.settings.as_ref().expect("ready tasks have settings")[chosen];
        let mut values = sub.args.clone();
        // Each file argument becomes the path of the version the task reads or writes.
        let mut paths: Vec<Vec<String>> = vec![Vec::new(); sub.task.params.len()];
        for access in &sub.files {
            let r = &access.resolved;
            let path = match r.writes {
                Some(w) => self
                    .versions
                    .prepare_write(access.key, r.reads, w)
                    .map_err(|e| format!("cannot prepare {}: {e}", access.user_path.display()))?,
                None => self
                    .versions
                    .read_path(access.key, r.reads.unwrap_or(0))
                    .unwrap_or_else(|| access.user_path.clone()),
            };
            // Relative to the run's directory, unless the task runs elsewhere (`workdir`).
            let shown = if settings.workdir.is_some() {
                path.to_string_lossy().into_owned()
            } else {
                self.shown_path(&path)
            };
            paths[access.param].push(shown);
        }
        let sub = &self.tasks[id].sub;
        for (index, param) in sub.task.params.iter().enumerate() {
            if matches!(param.ty.ty.innermost(), Type::File | Type::Dir) && !paths[index].is_empty()
            {
                let mut supply = paths[index].drain(..);
                let depth = param.depth().unwrap_or(u32::MAX);
                let value = values[index].clone();
                values[index] = replace_paths(&value, depth, &mut supply);
            }
        }
        // The body's expressions see the versioned paths.
        let scope = &values;
        let program = sub.program.clone();
        let module = sub.module;
        let eval = |expr: &weft_compiler::ast::Expr| -> Result<Value, String> {
            eval_pure(&program, module, scope, expr).map_err(|e| match e {
                Interrupt::Error(d) => d.message,
                other => format!("{other:?}"),
            })
        };
        let eval_list =
            |items: &Option<Vec<weft_compiler::ast::Expr>>| -> Result<Option<Vec<Value>>, String> {
                items
                    .as_ref()
                    .map(|xs| xs.iter().map(eval).collect::<Result<Vec<_>, _>>())
                    .transpose()
            };
        let body = match &settings.body {
            Body::Binary { program, args, .. } | Body::Ompss { program, args, .. } => {
                BodySpec::Binary {
                    program: eval(program)?.display_text(),
                    args: eval_list(args)?,
                }
            }
            Body::Mpi {
                program,
                options,
                args,
                ..
            } => {
                let mut runner = "mpirun".to_string();
                let mut processes = 1;
                let mut flags = Vec::new();
                for entry in options {
                    let v = eval(&entry.value)?;
                    match entry.key.name.as_str() {
                        "runner" => runner = v.display_text(),
                        "processes" => {
                            processes = match v {
                                Value::Int(n) => n,
                                other => {
                                    return Err(format!(
                                        "mpi processes must be an int, not {other}"
                                    ))
                                }
                            }
                        }
                        "flags" => match v {
                            Value::List(xs) => flags.extend(xs.iter().map(Value::display_text)),
                            other => flags.extend(
                                other.display_text().split_whitespace().map(str::to_string),
                            ),
                        },
                        _ => {}
                    }
                }
                BodySpec::Mpi {
                    runner,
                    processes,
                    flags,
                    program: eval(program)?.display_text(),
                    args: eval_list(args)?,
                }
            }
            Body::Shell { template, .. } => BodySpec::Shell {
                template: template.value.clone(),
            },
            Body::Script {
                interpreter, code, ..
            } => BodySpec::Script {
                interpreter: eval(interpreter)?.display_text(),
                code: code.value.clone(),
            },
            Body::Workflow { file, args, .. } => {
                let name = eval(file)?.display_text();
                let dir = sub.program.modules[module]
                    .file
                    .path
                    .parent()
                    .map(|p| p.to_path_buf())
                    .unwrap_or_default();
                let mut bound = IndexMap::new();
                for entry in args {
                    bound.insert(entry.key.name.clone(), eval(&entry.value)?);
                }
                return Ok(Launch::Nested(dir.join(name), bound));
            }
        };
        let body = match (&settings.container, &self.options.containers) {
            (Some(image), containers) => {
                let engine = containers
                    .as_ref()
                    .map(|c| c.engine.program())
                    .unwrap_or("docker");
                BodySpec::Container {
                    engine: crate::attempt::ContainerEngine::from_name(engine)
                        .unwrap_or(crate::attempt::ContainerEngine::Docker),
                    image: image.clone(),
                    options: containers
                        .as_ref()
                        .map(|c| c.options.clone())
                        .unwrap_or_default(),
                    inner: Box::new(body),
                }
            }
            (None, _) => body,
        };
        let workdir = match &settings.workdir {
            Some(w) => self.options.run_dir.join(w),
            None => self.options.run_dir.clone(),
        };
        let nodes = nodes_of(settings).map(|_| NodeInfo {
            hostnames: reservations
                .iter()
                .map(|r| self.pool.spec(r.resource).hostname.clone())
                .collect(),
            threads_per_node: settings.requirement.cores,
        });
        let state = &self.tasks[id];
        Ok(Launch::Process(Box::new(AttemptSpec {
            task_name: state.sub.task.name.name.clone(),
            task_id: id,
            attempt: state.attempt,
            params: state.sub.task.params.clone(),
            returns: state.sub.task.returns.clone(),
            values,
            body,
            env: settings.env.clone(),
            workdir,
            timeout: settings.timeout,
            fail_on_exit: settings.fail_on_exit,
            raises_on_exit: settings.raises_on_exit.clone(),
            gpus: reservations
                .iter()
                .flat_map(|r| r.gpus.iter().copied())
                .collect(),
            hide_gpus: reservations
                .iter()
                .all(|r| r.gpus.is_empty() && self.pool.spec(r.resource).gpus > 0)
                && !reservations.is_empty(),
            nodes,
            attempt_dir: attempt_dir.to_path_buf(),
        })))
    }

    /// Paths handed to tasks: relative to the run's directory when inside it.
    fn shown_path(&self, path: &std::path::Path) -> String {
        path.strip_prefix(&self.options.run_dir)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    // -----------------------------------------------------------------------------------------
    // Ends of attempts
    // -----------------------------------------------------------------------------------------

    fn finish(&mut self, finished: Finished) {
        let Finished::Attempt { id, outcome, dir } = finished;
        self.recorder.attempt_ended(id, &outcome);
        self.progress.stopped(id);
        if !self.tasks[id].nested {
            self.running = self.running.saturating_sub(1);
        }
        for run in &self.tasks[id].commutative {
            self.locks.remove(run);
        }
        let state = self.tasks.get_mut(id).expect("known task");
        let placed_on: Vec<usize> = state.reservations.iter().map(|r| r.resource).collect();
        for r in state.reservations.drain(..) {
            self.pool.release(r);
        }
        state.cancel = None;
        let running = state.status == Status::Running;
        if self.note_lost_resources(&placed_on)
            && running
            && matches!(outcome, AttemptOutcome::Failed { .. })
        {
            self.run_again_elsewhere(id, &outcome);
            return;
        }
        if !running {
            return;
        }
        match outcome {
            AttemptOutcome::Succeeded { returned, out_json } => match self.unwritten_out(id) {
                Some(message) => self.failed(id, message, &dir),
                None if self.next_replica(id) => {}
                None => {
                    self.store_results(id, returned, out_json);
                    self.end_task(id, Status::Done);
                }
            },
            AttemptOutcome::Raised { message } => {
                self.raise(id, message);
            }
            AttemptOutcome::Cancelled => self.end_task(id, Status::Cancelled),
            AttemptOutcome::Failed { message } => self.failed(id, message, &dir),
        }
    }

    /// After a replica ran: makes the call ready for its next resource, if one is left.
    fn next_replica(&mut self, id: TaskId) -> bool {
        let state = &mut self.tasks[id];
        if state.replica + 1 >= state.replicas.len() {
            return false;
        }
        state.replica += 1;
        // Each replica has its own attempts (and retries).
        state.attempt = 0;
        state.status = Status::Ready;
        let priority = state
            .settings
            .as_ref()
            .is_some_and(|s| s.first().is_some_and(|s| s.priority))
            && !self.options.sequential;
        self.ready.insert((!priority, id));
        true
    }

    /// Asks the launcher whether the resources an attempt ran on are lost; takes those that
    /// are out of the pool. Returns whether any of them is lost.
    fn note_lost_resources(&mut self, placed_on: &[usize]) -> bool {
        let mut any = false;
        for &resource in placed_on {
            if !self.options.launcher.is_lost(self.pool.spec(resource)) {
                continue;
            }
            any = true;
            if self.lost.insert(resource) {
                self.progress.say(&format!(
                    "weft: host {} is lost; its tasks run on the other hosts",
                    self.pool.spec(resource).name
                ));
                self.fail_stranded_tasks();
            }
        }
        self.hold_lost_resources();
        any
    }

    /// Ready tasks that only lost resources could serve would wait forever: they fail, as
    /// an unsatisfiable task does (§4.3), and the run stops.
    fn fail_stranded_tasks(&mut self) {
        let stranded: Vec<TaskId> = self
            .ready
            .iter()
            .map(|&(_, id)| id)
            .filter(|id| !self.live_resources_serve_any(id))
            .collect();
        for id in stranded {
            self.ready.remove(&(true, id));
            self.ready.remove(&(false, id));
            let state = &self.tasks[id];
            self.progress.say(&format!(
                "weft::unsatisfiable: no host left can run `{}` ({}:{}): the hosts that could are lost",
                state.sub.task.name,
                state.sub.site.file.path.display(),
                state.sub.site.line()
            ));
            self.summary.failure = true;
            self.end_task(id, Status::Failed);
            self.abort();
        }
    }

    /// Reserves whatever is free on lost resources, for good: nothing is placed there again.
    fn hold_lost_resources(&mut self) {
        for resource in self.lost.iter().copied().collect::<Vec<_>>() {
            let everything = Requirement {
                cores: self.pool.free_cores(resource),
                memory: self.pool.free_memory(resource),
                gpus: self.pool.free_gpus(resource).len() as u32,
                ..Requirement::default()
            };
            if everything.cores == 0 && everything.memory == 0 && everything.gpus == 0 {
                continue;
            }
            if let Some(held) = self.pool.try_reserve_on(resource, &everything) {
                self.lost_holds.push(held);
            }
        }
    }

    /// An attempt ended by the loss of its host: it runs again on another resource, and it
    /// does not count as a retry. With no resource left that can serve it, the run stops.
    fn run_again_elsewhere(&mut self, id: TaskId, outcome: &AttemptOutcome) {
        let message = match outcome {
            AttemptOutcome::Failed { message } => message.clone(),
            _ => String::new(),
        };
        let state = &self.tasks[id];
        let name = state.sub.task.name.name.clone();
        let servable = state
            .settings
            .as_ref()
            .is_some_and(|settings| settings.iter().any(|s| self.live_resources_serve(s)));
        if !servable || self.aborting {
            let reason = if self.lost.len() == self.pool.len() {
                "every host is lost".to_string()
            } else {
                "no host left can run it".to_string()
            };
            self.progress.say(&format!(
                "weft: task `{name}` cannot run: {reason} ({message})"
            ));
            self.summary.failure = true;
            self.end_task(id, Status::Failed);
            self.abort();
            return;
        }
        let state = self.tasks.get_mut(id).expect("known task");
        state.attempt = state.attempt.saturating_sub(1);
        state.status = Status::Ready;
        if !state.replicas.is_empty() {
            // The lost resource is no longer one of "every resource"; the call goes on with
            // the next one left, or runs its last replica again to leave its files.
            let lost = &self.lost;
            state.replicas.retain(|r| !lost.contains(r));
            state.replica = state.replica.min(state.replicas.len().saturating_sub(1));
        }
        self.ready.insert((true, id));
        self.progress
            .say(&format!("weft: task `{name}` runs again: {message}"));
    }

    /// An `out file` the attempt did not write fails it, as an unwritten `out json` does
    /// (§4.4): its successors would otherwise be handed a path that does not exist.
    fn unwritten_out(&self, id: TaskId) -> Option<String> {
        let state = &self.tasks[id];
        state.sub.files.iter().find_map(|access| {
            let r = &access.resolved;
            if r.direction != Direction::Out || access.is_dir {
                return None;
            }
            let path = self.versions.read_path(access.key, r.writes?)?;
            (!path.exists()).then(|| {
                format!(
                    "the task did not write its out file `{}` ({})",
                    state.sub.task.params[access.param].name,
                    access.user_path.display()
                )
            })
        })
    }

    fn store_results(
        &mut self,
        id: TaskId,
        returned: Option<Value>,
        out_json: IndexMap<String, Value>,
    ) {
        let state = &self.tasks[id];
        let returns = state.sub.returns.clone();
        match (returns.len(), returned) {
            (0, _) => {}
            (1, Some(v))
                if !matches!(
                    state.sub.task.returns,
                    Some(weft_compiler::ast::ReturnType::Tuple(..))
                ) =>
            {
                self.values.insert(returns[0], v);
            }
            (_, Some(Value::Tuple(items) | Value::List(items))) => {
                for (f, v) in returns.iter().zip(items.iter()) {
                    self.values.insert(*f, v.clone());
                }
            }
            (_, _) => {
                for f in &returns {
                    self.values.insert(*f, Value::Null);
                }
            }
        }
        for (name, f) in state.sub.json_outs.clone() {
            let value = out_json
                .get(&name)
                .cloned()
                .or_else(|| self.tasks[id].sub.args.get(&name).cloned())
                .unwrap_or(Value::Null);
            self.values.insert(f, value);
        }
    }

    fn failed(&mut self, id: TaskId, message: String, dir: &std::path::Path) {
        let state = self.tasks.get_mut(id).expect("known task");
        let settings = &state
            .settings
            .as_ref()
            .expect("started tasks have settings")[state.chosen];
        let policy = settings.policy;
        let name = state.sub.task.name.name.clone();
        let line = state.sub.site.line();
        let file = state.sub.site.file.path.display().to_string();
        if let Policy::Retry(n) = policy {
            if state.attempt <= n && !self.aborting {
                self.progress.say(&format!(
                    "weft: task `{name}` ({file}:{line}) attempt {} failed: {message}; retrying",
                    state.attempt
                ));
                state.status = Status::Ready;
                self.ready.insert((true, id));
                return;
            }
        }
        let stdout = dir.join(STDOUT_LOG);
        let stderr = dir.join(STDERR_LOG);
        let tail = log_tail(&stderr, 10);
        let mut report = format!(
            "weft: task `{name}` ({file}:{line}) failed: {message}\n  logs: {} {}",
            stdout.display(),
            stderr.display()
        );
        if !tail.trim().is_empty() {
            report.push_str("\n  last lines of stderr:");
            for l in tail.lines() {
                report.push_str(&format!("\n    {l}"));
            }
        }
        match policy {
            Policy::Ignore => {
                self.progress
                    .say(&format!("{report}\n  (ignored: on_failure ignore)"));
                let files = self.tasks[id].sub.files.clone();
                for a in &files {
                    if let Some(w) = a.resolved.writes {
                        let _ = self.versions.fill_missing(a.key, w);
                    }
                }
                let returns = self.tasks[id].sub.returns.clone();
                for f in returns {
                    self.values.insert(f, Value::Null);
                }
                self.store_results(id, None, IndexMap::new());
                self.end_task(id, Status::Done);
            }
            Policy::CancelSuccessors => {
                self.progress.say(&report);
                self.summary.failure = true;
                self.end_task(id, Status::Failed);
            }
            Policy::Fail | Policy::Retry(_) => {
                self.progress.say(&report);
                self.summary.failure = true;
                self.end_task(id, Status::Failed);
                self.abort();
            }
        }
    }

    fn raise(&mut self, id: TaskId, message: String) {
        let state = &self.tasks[id];
        let exception_group = state.sub.groups.last().cloned();
        let exception = Exception {
            message,
            task: Some(state.sub.task.name.name.clone()),
            group: exception_group.as_ref().map(|(_, n)| n.clone()),
        };
        let body = state.sub.body;
        match exception_group {
            Some((group, _)) => {
                let g = self.groups.entry(group).or_default();
                if g.exception.is_none() {
                    g.exception = Some(exception);
                }
                let members = g.tasks.clone();
                for member in members.into_iter().filter(|m| *m != id) {
                    self.cancel_task(member);
                }
            }
            None => self
                .bodies
                .entry(body)
                .or_default()
                .deferred
                .push((id, exception)),
        }
        self.end_task(id, Status::Cancelled);
    }

    /// Cancels a task that has not ended: not started ones never start, running ones are
    /// stopped (their end arrives as `Cancelled`).
    fn cancel_task(&mut self, id: TaskId) {
        let Some(state) = self.tasks.get_mut(id) else {
            return;
        };
        match state.status {
            Status::Running => {
                if let Some(token) = &state.cancel {
                    token.cancel();
                }
                // Until its process group is gone, it still holds its resources.
                state.status = Status::Cancelled;
                self.end_task_bookkeeping(id, Status::Cancelled);
            }
            Status::Waiting | Status::Ready => {
                self.ready.remove(&(true, id));
                self.ready.remove(&(false, id));
                self.end_task(id, Status::Cancelled);
            }
            _ => {}
        }
    }

    fn end_task(&mut self, id: TaskId, status: Status) {
        if let Some(state) = self.tasks.get_mut(id) {
            if state.status.ended() {
                return;
            }
            state.status = status;
        }
        self.end_task_bookkeeping(id, status);
    }

    /// Everything that follows a task's end: versions, dependents, groups, waiters.
    fn end_task_bookkeeping(&mut self, id: TaskId, status: Status) {
        self.unfinished.remove(&id);
        self.recorder.task_ended(
            id,
            match status {
                Status::Done => crate::record::TaskEnd::Done,
                Status::Failed => crate::record::TaskEnd::Failed,
                _ => crate::record::TaskEnd::Cancelled,
            },
        );
        match status {
            Status::Done => self.summary.done += 1,
            Status::Failed => self.summary.failed += 1,
            _ => self.summary.cancelled += 1,
        }
        let ok = status == Status::Done;
        let state = &mut self.tasks[id];
        // Nothing depends on it after its end: later calls see its status.
        let dependents = std::mem::take(&mut state.dependents);
        let body = state.sub.body;
        let state = &self.tasks[id];
        for (access, &at_user) in state.sub.files.iter().zip(&state.user_reads) {
            if let Some(w) = access.resolved.writes {
                if let Err(e) = self.versions.producer_done(access.key, w, ok) {
                    self.progress.say(&format!(
                        "weft: cannot update {}: {e}",
                        access.user_path.display()
                    ));
                }
            }
            if at_user {
                let _ = self.versions.reader_done(access.key);
            }
        }
        for dependent in dependents {
            let Some(d) = self.tasks.get_mut(dependent) else {
                continue;
            };
            if d.status != Status::Waiting {
                continue;
            }
            if ok {
                d.remaining -= 1;
                if d.remaining == 0 {
                    self.make_ready(dependent);
                }
            } else {
                self.end_task(dependent, Status::Cancelled);
            }
        }
        for index in 0..self.tasks[id].sub.groups.len() {
            let group = self.tasks[id].sub.groups[index].0;
            if let Some(g) = self.groups.get_mut(&group) {
                g.unfinished -= 1;
                if g.unfinished == 0 && !g.waiters.is_empty() {
                    // Raised where the group is waited for; kept for a later barrier if not.
                    let exception = g.exception.take();
                    for waiter in g.waiters.drain(..) {
                        let _ = waiter.send(Ok(exception.clone()));
                    }
                }
            }
        }
        if let Some(b) = self.bodies.get_mut(&body) {
            b.unfinished -= 1;
            if b.unfinished == 0 && !b.waiters.is_empty() {
                let waiters: Vec<_> = b.waiters.drain(..).collect();
                let exception = self.take_exception(body);
                for waiter in waiters {
                    let _ = waiter.send(Ok(exception.clone()));
                }
            }
        }
        // Futures of the task.
        let sub = &self.tasks[id].sub;
        let futures: Vec<FutureId> = if self.resolve_waiters.is_empty() {
            Vec::new()
        } else {
            let outs = sub.json_outs.iter().map(|(_, f)| *f);
            sub.returns.iter().copied().chain(outs).collect()
        };
        for f in futures {
            if let Some(waiters) = self.resolve_waiters.remove(&f) {
                let answer = match self.values.get(&f) {
                    Some(v) => Ok(v.clone()),
                    None => Err(self.cancelled_name(id)),
                };
                for waiter in waiters {
                    let _ = waiter.send(answer.clone());
                }
            }
        }
        if ok {
            // What only a call yet to run needs: a run of a million calls keeps little of
            // each done one. Its name and site stay for messages; a failed or cancelled
            // call keeps its files, to name the writer of a version that never came.
            let state = &mut self.tasks[id];
            let sub = &mut state.sub;
            sub.args = IndexMap::new();
            sub.files = Vec::new();
            sub.deps = Vec::new();
            sub.returns = Vec::new();
            sub.json_outs = Vec::new();
            sub.groups = Vec::new();
            state.reservations = Vec::new();
            state.user_reads = Vec::new();
            state.commutative = Vec::new();
            state.replicas = Vec::new();
        }
        // Removals first: a body `write` waits for a pending removal of its path.
        if !self.deletes.is_empty() {
            self.run_deletes();
        }
        if !self.task_waiters.is_empty() {
            self.wake_task_waiters();
        }
        if !self.read_waiters.is_empty() {
            self.wake_read_waiters();
        }
    }

    /// The exception a plain barrier or the end of a body raises (§6.3): the first in
    /// program order of those raised outside any group, else that of the first `nowait`
    /// group nobody waited for. The others stay for the next barrier, as they would in a
    /// sequential run where each is met in turn.
    fn take_exception(&mut self, body: BodyId) -> Option<Exception> {
        if let Some(b) = self.bodies.get_mut(&body) {
            if let Some(first) = (0..b.deferred.len()).min_by_key(|&i| b.deferred[i].0) {
                return Some(b.deferred.remove(first).1);
            }
        }
        let group = self
            .groups
            .iter()
            .filter(|(_, g)| g.body == body && g.waiters.is_empty() && g.exception.is_some())
            .map(|(id, _)| *id)
            .min()?;
        self.groups.get_mut(&group)?.exception.take()
    }

    fn task_ended(&self, id: &TaskId) -> bool {
        self.tasks.get(*id).is_none_or(|t| t.status.ended())
    }

    fn wake_task_waiters(&mut self) {
        let waiters = std::mem::take(&mut self.task_waiters);
        for (tasks, file, reply) in waiters {
            let delete_pending = file.is_some_and(|f| self.deletes.iter().any(|d| d.0 == f));
            if tasks.iter().all(|t| self.task_ended(t)) && !delete_pending {
                let _ = reply.send(Ok(()));
            } else {
                self.task_waiters.push((tasks, file, reply));
            }
        }
    }

    fn wake_read_waiters(&mut self) {
        let waiters = std::mem::take(&mut self.read_waiters);
        for (key, version, reply) in waiters {
            if self.versions.is_final(key, version) {
                let path = self.versions.read_path(key, version).unwrap_or_default();
                let _ = reply.send(Ok(path));
            } else if self.versions.is_failed(key, version) {
                let _ = reply.send(Err(WaitError::Cancelled(self.file_writer(key, version))));
            } else {
                self.read_waiters.push((key, version, reply));
            }
        }
    }

    /// Names a file version and the task that should have written it, for messages.
    fn file_writer(&self, key: FileKey, version: u32) -> String {
        let writer = self.tasks.values().find(|t| {
            t.sub
                .files
                .iter()
                .any(|a| a.key == key && a.resolved.writes == Some(version))
        });
        let path = writer
            .and_then(|t| t.sub.files.iter().find(|a| a.key == key))
            .map(|a| self.shown_path(&a.user_path))
            .unwrap_or_default();
        match writer {
            Some(t) => format!(
                "the writer `{}` (line {}) of `{path}`",
                t.sub.task.name,
                t.sub.site.line()
            ),
            None => format!("the writer of `{path}`"),
        }
    }

    fn run_deletes(&mut self) {
        let deletes = std::mem::take(&mut self.deletes);
        for (key, path, version, after) in deletes {
            if after.iter().all(|t| self.task_ended(t)) {
                if !self.versions.published_after(key, version) {
                    let _ = remove_path(&path);
                }
            } else {
                self.deletes.push((key, path, version, after));
            }
        }
    }

    /// Stops the run: nothing more starts, running attempts are killed, bodies are told.
    fn abort(&mut self) {
        if self.aborting {
            return;
        }
        self.aborting = true;
        let ids: Vec<TaskId> = self.tasks.ids().collect();
        for id in ids {
            self.cancel_task(id);
        }
        for (_, waiters) in self.resolve_waiters.drain() {
            for w in waiters {
                let _ = w.send(Err(WaitError::Aborted));
            }
        }
        for (_, _, w) in self.task_waiters.drain(..) {
            let _ = w.send(Err(WaitError::Aborted));
        }
        for (_, _, w) in self.read_waiters.drain(..) {
            let _ = w.send(Err(WaitError::Aborted));
        }
        for g in self.groups.values_mut() {
            for w in g.waiters.drain(..) {
                let _ = w.send(Err(WaitError::Aborted));
            }
        }
        for b in self.bodies.values_mut() {
            for w in b.waiters.drain(..) {
                let _ = w.send(Err(WaitError::Aborted));
            }
        }
    }
}

enum Launch {
    Process(Box<AttemptSpec>),
    Nested(PathBuf, IndexMap<String, Value>),
}

/// The number of resources a task reserves its constraint on: `multinode N`, or `mpi`'s
/// `nodes` option.
fn nodes_of(settings: &Settings) -> Option<u32> {
    settings.multinode
}

/// `mpi … { nodes: N }` reserves its constraint on N resources, as `multinode N` does: the
/// option is evaluated here, into the settings' `multinode`, unless that directive says it.
fn mpi_nodes(
    program: &weft_compiler::program::Program,
    module: weft_compiler::program::ModuleId,
    args: &IndexMap<String, Value>,
    mut settings: Arc<Vec<Settings>>,
) -> Result<Arc<Vec<Settings>>, String> {
    if !settings.iter().any(|s| matches!(s.body, Body::Mpi { .. })) {
        return Ok(settings);
    }
    for s in Arc::make_mut(&mut settings) {
        let Body::Mpi { options, .. } = &s.body else {
            continue;
        };
        let Some(entry) = options.iter().find(|e| e.key.name == "nodes") else {
            continue;
        };
        let nodes = match eval_pure(program, module, args, &entry.value) {
            Ok(Value::Int(n)) if n >= 1 => u32::try_from(n).unwrap_or(u32::MAX),
            Ok(Value::Null) => continue,
            Ok(other) => return Err(format!("mpi nodes must be a number of nodes, not {other}")),
            Err(Interrupt::Error(d)) => return Err(format!("mpi nodes: {}", d.message)),
            Err(other) => return Err(format!("mpi nodes: {other:?}")),
        };
        s.multinode.get_or_insert(nodes);
    }
    Ok(settings)
}

/// Replaces every future among the arguments by its value (all are known once deps ended).
fn resolve_args(args: &mut IndexMap<String, Value>, values: &HashMap<FutureId, Value>) {
    for value in args.values_mut().filter(|v| v.contains_future()) {
        *value = value
            .map_futures(&mut |f| Ok::<_, ()>(values.get(&f).cloned().unwrap_or(Value::Null)))
            .unwrap_or(Value::Null);
    }
}

/// Replaces the path strings of a file argument, in the order `calls::call_data` visits
/// them, with the versioned paths.
fn replace_paths(value: &Value, depth: u32, supply: &mut impl Iterator<Item = String>) -> Value {
    match value {
        Value::Str(s) => supply
            .next()
            .map(Value::str)
            .unwrap_or_else(|| Value::Str(s.clone())),
        Value::List(items) if depth > 0 => Value::list(
            items
                .iter()
                .map(|v| replace_paths(v, depth - 1, supply))
                .collect(),
        ),
        Value::Tuple(items) if depth > 0 => Value::Tuple(Arc::new(
            items
                .iter()
                .map(|v| replace_paths(v, depth - 1, supply))
                .collect(),
        )),
        other => other.clone(),
    }
}

/// Cancels `token` on Ctrl-C or SIGTERM.
fn spawn_signal_watch(token: CancellationToken) {
    tokio::spawn(async move {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => return,
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        token.cancel();
    });
}
