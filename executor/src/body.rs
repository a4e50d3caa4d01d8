//! A workflow body at run time: the evaluator's backend that submits task calls to the
//! dispatcher and blocks only where the body needs a value (§7).
//!
//! The body runs on a thread of its own; the dependency analysis happens here, in program
//! order, so the dispatcher only ever sees calls with their dependencies already known.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use weft_compiler::calls::{call_data, path_future, result_value, written_json_params};
use weft_compiler::deps::{normalise, Tracker};
use weft_compiler::eval::{Backend, CallResult, Interrupt, Site, Stop, TaskCall};
use weft_compiler::plan::glob_on_disk;
use weft_compiler::program::Program;
use weft_compiler::value::{FutureId, Value};

use crate::protocol::{BodyId, FileAccess, GroupId, Request, Submission, WaitError};
use crate::record::{call_record, ShownFiles, TaskRecord};
use crate::versions::{write_atomically, FileKey};

/// Counters shared by every body of a run, so ids are unique across nested workflows.
#[derive(Default)]
pub struct Ids {
    pub tasks: AtomicU64,
    pub futures: AtomicU64,
    pub groups: AtomicU64,
    pub bodies: AtomicU64,
}

/// Where `print` goes: the run's standard output, one line at a time.
pub type Output = Arc<Mutex<Box<dyn Write + Send>>>;

/// Calls are handed to the dispatcher in batches: one channel message (and at most one
/// wake-up of the dispatcher's thread) for many calls. A batch goes when it is this full...
const BATCH_CALLS: usize = 256;
/// ...when its first call has waited this long (checked at each call and loop iteration),
/// and whenever the body asks the dispatcher anything or ends, so no call is held back while
/// the body waits.
const BATCH_DELAY: Duration = Duration::from_micros(200);

pub struct RuntimeBackend {
    pub body: BodyId,
    program: Arc<Program>,
    base: PathBuf,
    tx: mpsc::Sender<Request>,
    ids: Arc<Ids>,
    tracker: Tracker,
    producers: HashMap<FutureId, u64>,
    groups: Vec<(GroupId, String)>,
    nowait_groups: HashMap<String, GroupId>,
    tasks: HashMap<*const weft_compiler::ast::Task, Arc<weft_compiler::ast::Task>>,
    output: Output,
    /// Calls not handed over yet, each with its record, and when the first was made.
    batch: Vec<(Submission, TaskRecord)>,
    batch_since: Option<Instant>,
    /// Source files as the records show them.
    shown_files: ShownFiles,
}

impl RuntimeBackend {
    pub fn new(
        body: BodyId,
        program: Arc<Program>,
        base: PathBuf,
        tx: mpsc::Sender<Request>,
        ids: Arc<Ids>,
        output: Output,
    ) -> RuntimeBackend {
        RuntimeBackend {
            body,
            program,
            base,
            tx,
            ids,
            tracker: Tracker::new(),
            producers: HashMap::new(),
            groups: Vec::new(),
            nowait_groups: HashMap::new(),
            tasks: HashMap::new(),
            output,
            batch: Vec::new(),
            batch_since: None,
            shown_files: ShownFiles::new(),
        }
    }

    /// Sends a request, after the calls made before it.
    fn send(&mut self, request: Request) -> Result<(), Interrupt> {
        self.flush()?;
        self.tx
            .blocking_send(request)
            .map_err(|_| Interrupt::Stop(Stop::Aborted))
    }

    /// Hands the calls held back to the dispatcher.
    pub fn flush(&mut self) -> Result<(), Interrupt> {
        self.batch_since = None;
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        self.tx
            .blocking_send(Request::Submit(batch))
            .map_err(|_| Interrupt::Stop(Stop::Aborted))
    }

    /// Holds a call back for the next batch, or sends the batch when it is due.
    fn submit(&mut self, submission: Submission) -> Result<(), Interrupt> {
        let record = call_record(&submission, &self.base, &mut self.shown_files);
        self.batch.push((submission, record));
        let since = *self.batch_since.get_or_insert_with(Instant::now);
        if self.batch.len() >= BATCH_CALLS || since.elapsed() >= BATCH_DELAY {
            self.flush()?;
        }
        Ok(())
    }

    fn batch_is_late(&self) -> bool {
        self.batch_since
            .is_some_and(|since| since.elapsed() >= BATCH_DELAY)
    }

    /// Sends a request and blocks the body until the dispatcher answers.
    fn ask<T>(
        &mut self,
        site: &Site,
        make: impl FnOnce(oneshot::Sender<Result<T, WaitError>>) -> Request,
    ) -> Result<T, Interrupt> {
        let (reply, answer) = oneshot::channel();
        self.send(make(reply))?;
        match answer.blocking_recv() {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(WaitError::Cancelled(what))) => {
                Err(site.error(format!("{what} was cancelled or failed")))
            }
            Ok(Err(WaitError::Aborted)) | Err(_) => Err(Interrupt::Stop(Stop::Aborted)),
        }
    }

    fn key(&mut self, path: &str) -> (FileKey, PathBuf) {
        let datum = self.tracker.datum(&self.base, path);
        ((self.body, datum), self.tracker.path(datum).to_path_buf())
    }

    /// Waits for every task the body submitted; the next exception raised outside groups.
    pub fn wait_all(
        &mut self,
        site: &Site,
    ) -> Result<Option<weft_compiler::eval::Exception>, Interrupt> {
        let body = self.body;
        self.ask(site, |reply| Request::WaitAll { body, reply })
    }
}

impl Backend for RuntimeBackend {
    fn call_task(
        &mut self,
        program: &Program,
        call: TaskCall<'_>,
    ) -> Result<CallResult, Interrupt> {
        let mut args = call.args;
        // A path given as a task's result must be known before the call's accesses are.
        while let Some(future) = path_future(call.task, &args) {
            let value = self.resolve(future, &call.site)?;
            for v in args.values_mut() {
                *v = v.map_futures(&mut |f| {
                    Ok::<_, Interrupt>(if f == future {
                        value.clone()
                    } else {
                        Value::Future(f)
                    })
                })?;
            }
        }
        let id = self.ids.tasks.fetch_add(1, Ordering::Relaxed);
        let data = call_data(call.task, &args);
        let accesses: Vec<_> = data
            .paths
            .iter()
            .map(|a| (self.tracker.datum(&self.base, &a.path), a.direction))
            .collect();
        let registration = self.tracker.register(id, &accesses);
        let files = data
            .paths
            .iter()
            .zip(registration.accesses)
            .map(|(access, resolved)| FileAccess {
                key: (self.body, resolved.datum),
                user_path: self.tracker.path(resolved.datum).to_path_buf(),
                is_dir: access.is_dir,
                param: access.param,
                resolved,
            })
            .collect();
        let mut deps = registration.deps;
        for future in &data.futures {
            if let Some(&producer) = self.producers.get(future) {
                deps.push(producer);
            }
        }
        deps.sort_unstable();
        deps.dedup();
        let ids = self.ids.clone();
        let mut fresh = || FutureId(ids.futures.fetch_add(1, Ordering::Relaxed));
        let value = result_value(call.task, &mut fresh);
        let json_outs: Vec<(String, FutureId)> = written_json_params(call.task)
            .map(|(_, p)| (p.name.name.clone(), fresh()))
            .collect();
        let mut returns = Vec::new();
        value.futures(&mut returns);
        for f in returns.iter().chain(json_outs.iter().map(|(_, f)| f)) {
            self.producers.insert(*f, id);
        }
        let task = self
            .tasks
            .entry(call.task as *const _)
            .or_insert_with(|| Arc::new(call.task.clone()))
            .clone();
        let rebind = json_outs
            .iter()
            .map(|(name, f)| (name.clone(), Value::Future(*f)))
            .collect();
        let _ = program;
        self.submit(Submission {
            id,
            body: self.body,
            program: self.program.clone(),
            module: call.module,
            task,
            args,
            files,
            deps,
            returns,
            json_outs,
            groups: self.groups.clone(),
            site: call.site,
        })?;
        Ok(CallResult { value, rebind })
    }

    fn resolve(&mut self, future: FutureId, site: &Site) -> Result<Value, Interrupt> {
        self.ask(site, |reply| Request::Resolve { future, reply })
    }

    fn print(&mut self, line: &str) -> Result<(), Interrupt> {
        let mut out = self.output.lock().expect("output lock");
        // A closed stdout (`weft run … | head`) must not stop the run.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
        Ok(())
    }

    fn read_file(&mut self, path: &str, site: &Site) -> Result<Vec<u8>, Interrupt> {
        let (key, user_path) = self.key(path);
        let version = self.tracker.version(key.1);
        let location = self.ask(site, |reply| Request::ReadPath {
            key,
            user_path,
            version,
            reply,
        })?;
        std::fs::read(&location).map_err(|e| site.error(format!("cannot read `{path}`: {e}")))
    }

    fn wait_path(&mut self, path: &str, site: &Site) -> Result<(), Interrupt> {
        let (key, user_path) = self.key(path);
        let version = self.tracker.version(key.1);
        self.ask(site, |reply| Request::ReadPath {
            key,
            user_path,
            version,
            reply,
        })
        .map(|_| ())
    }

    fn write_file(&mut self, path: &str, contents: &[u8], site: &Site) -> Result<(), Interrupt> {
        let (key, user_path) = self.key(path);
        let tasks = self.tracker.accessors(key.1).to_vec();
        self.ask(site, |reply| Request::WaitTasks {
            tasks,
            file: Some(key),
            reply,
        })?;
        write_atomically(&user_path, contents)
            .map_err(|e| site.error(format!("cannot write `{path}`: {e}")))?;
        let version = self.tracker.body_write(key.1);
        self.send(Request::BodyWrote {
            key,
            user_path,
            version,
        })
    }

    fn exists(&mut self, path: &str, _site: &Site) -> Result<bool, Interrupt> {
        let known = self
            .tracker
            .find(&self.base, path)
            .and_then(|d| self.tracker.known_existence(d));
        Ok(known.unwrap_or_else(|| normalise(&self.base, path).exists()))
    }

    fn delete(&mut self, path: &str, _site: &Site) -> Result<(), Interrupt> {
        let (key, user_path) = self.key(path);
        let after = self.tracker.accessors(key.1).to_vec();
        let version = self.tracker.body_delete(key.1);
        self.send(Request::Delete {
            key,
            user_path,
            version,
            after,
        })
    }

    fn glob(&mut self, pattern: &str, site: &Site) -> Result<Vec<String>, Interrupt> {
        let matcher = glob::Pattern::new(&normalise(&self.base, pattern).to_string_lossy())
            .map_err(|e| site.error(format!("bad glob pattern `{pattern}`: {e}")))?;
        let pattern_path = normalise(&self.base, pattern);
        // Writers of matching paths, and of directories the matches may be inside.
        let writers: Vec<u64> = self
            .tracker
            .data()
            .filter(|(_, p)| matcher.matches_path(p) || pattern_path.starts_with(p))
            .flat_map(|(d, _)| self.tracker.producers(d).to_vec())
            .collect();
        if !writers.is_empty() {
            self.ask(site, |reply| Request::WaitTasks {
                tasks: writers,
                file: None,
                reply,
            })?;
        }
        glob_on_disk(&self.base, pattern).map_err(|e| site.error(e))
    }

    fn enter_group(&mut self, name: &str, _site: &Site) -> Result<(), Interrupt> {
        let id = self.ids.groups.fetch_add(1, Ordering::Relaxed);
        self.groups.push((id, name.to_string()));
        Ok(())
    }

    fn leave_group(&mut self, nowait: bool, site: &Site) -> Result<(), Interrupt> {
        let Some((group, name)) = self.groups.pop() else {
            return Ok(());
        };
        if nowait {
            self.nowait_groups.insert(name, group);
            return Ok(());
        }
        match self.ask(site, |reply| Request::WaitGroup { group, reply })? {
            Some(exception) => Err(Interrupt::Exception(exception)),
            None => Ok(()),
        }
    }

    fn before_loop_iteration(&mut self) -> bool {
        // A body computing in a loop must not hold back the calls it made before.
        if self.batch_is_late() {
            let _ = self.flush();
        }
        false
    }

    fn barrier(&mut self, group: Option<&str>, site: &Site) -> Result<(), Interrupt> {
        match group {
            Some(name) => {
                let Some(&group) = self.nowait_groups.get(name) else {
                    return Err(site.error(format!(
                        "there is no `nowait` group named \"{name}\" to wait for"
                    )));
                };
                match self.ask(site, |reply| Request::WaitGroup { group, reply })? {
                    Some(exception) => Err(Interrupt::Exception(exception)),
                    None => Ok(()),
                }
            }
            None => match self.wait_all(site)? {
                Some(exception) => Err(Interrupt::Exception(exception)),
                None => Ok(()),
            },
        }
    }
}
