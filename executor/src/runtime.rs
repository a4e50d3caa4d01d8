//! `weft run`: the main body on a thread of its own, the dispatcher on tokio, and the exit
//! status of §10.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use indexmap::IndexMap;
use tokio::sync::mpsc;
use weft_compiler::config::Config;
use weft_compiler::diagnostic::eprint_all;
use weft_compiler::eval::{Evaluator, Interrupt, Site, Stop};
use weft_compiler::program::Program;
use weft_compiler::value::Value;

use crate::attempt::AttemptOutcome;
use crate::body::{Ids, Output, RuntimeBackend};
use crate::dispatcher::{Dispatcher, Finished, NestedRun, Options};
use crate::progress::{Progress, ProgressMode};
use crate::protocol::Request;
use crate::record::RunRecord;
use crate::resources::Pool;

pub struct RunRequest {
    pub program: Arc<Program>,
    pub workflow: String,
    pub args: IndexMap<String, Value>,
    pub config: Config,
    pub sequential: bool,
    pub jobs: Option<usize>,
    pub recording: Recording,
    /// Runs attempts this way instead of the configuration's executor (the dispatcher's
    /// benchmark runs tasks that do nothing, in process).
    pub launcher: Option<Arc<dyn crate::launch::Launcher>>,
    /// How progress is shown on standard error.
    pub progress: ProgressMode,
}

/// What a run keeps beyond its files: results for `--resume`, and the reports asked for.
#[derive(Clone, Debug, Default)]
pub struct Recording {
    pub resume: crate::resume::ResumeOptions,
    /// `--trace FILE`: Chrome trace-event JSON.
    pub trace: Option<PathBuf>,
    /// `--report FILE.html`.
    pub report: Option<PathBuf>,
    /// `--provenance DIR`: a Workflow Run RO-Crate.
    pub provenance: Option<PathBuf>,
    /// The workflow file and the configuration file, as the command line named them.
    pub workflow_file: PathBuf,
    pub config_file: Option<PathBuf>,
}

/// How many requests (batches of calls, mostly) bodies may have sent and the dispatcher not
/// yet taken.
const REQUESTS_IN_FLIGHT: usize = 64;

/// How a run ended, as §10's exit statuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunEnd {
    Success,
    TaskFailed,
    UncaughtException,
    Interrupted,
}

/// How the main body ended.
enum BodyEnd {
    Finished,
    Uncaught(weft_compiler::eval::Exception),
    Error(Box<weft_compiler::diagnostic::Diagnostic>),
    Aborted,
}

pub fn run(request: RunRequest) -> RunEnd {
    let run_dir = std::env::current_dir().unwrap_or_default();
    let run_id = format!(
        "{}-{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default(),
        std::process::id()
    );
    let state_dir = run_dir.join(".weft").join("runs").join(&run_id);
    let start_us = crate::record::now_us();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("weft: cannot start the runtime: {e}");
            return RunEnd::TaskFailed;
        }
    };
    // The executor of the configuration (§8.1): where attempts go, and the resources there.
    let backend = match crate::backends::for_config(&request.config, &run_dir) {
        Ok(mut backend) => {
            if let Some(launcher) = request.launcher.clone() {
                backend.launcher = launcher;
            }
            backend
        }
        Err(message) => {
            eprintln!("weft: {message}");
            return RunEnd::TaskFailed;
        }
    };
    let pool = Pool::new(backend.resources);
    let cache = match crate::resume::Cache::open(&run_dir.join(".weft"), request.recording.resume) {
        Ok(cache) => Some(cache),
        Err(e) => {
            eprintln!("weft: {e}; this run neither reuses nor records results");
            None
        }
    };
    let recorded = RunRecord {
        format: crate::record::RUN_FORMAT,
        run: run_id,
        weft_version: env!("CARGO_PKG_VERSION").to_string(),
        run_dir: run_dir.clone(),
        workflow_file: request.recording.workflow_file.clone(),
        workflow: request.workflow.clone(),
        config_file: request.recording.config_file.clone(),
        arguments: request
            .args
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
        start_us,
        end_us: start_us,
        status: String::new(),
        exit_code: 0,
        resumed: request.recording.resume.reuse,
        resources: pool
            .specs()
            .map(|s| crate::record::ResourceRecord {
                name: s.name.clone(),
                cores: s.cores,
            })
            .collect(),
        tasks: Vec::new(),
    };
    let recording = request.recording.clone();
    let options = Options {
        run_dir: run_dir.clone(),
        state_dir,
        jobs: request.jobs,
        sequential: request.sequential,
        containers: request.config.containers.clone(),
        launcher: backend.launcher,
        resume: cache.clone(),
    };
    // Bounded: a body that makes calls faster than they are dispatched waits, instead of
    // queueing a million of them (its batches are up to 256 calls each).
    let (tx, rx) = mpsc::channel(REQUESTS_IN_FLIGHT);
    let ids = Arc::new(Ids::default());
    let progress = Progress::new(request.progress);
    let output: Output = Arc::new(Mutex::new(progress.stdout()));
    let mut dispatcher = Dispatcher::new(options, pool, progress);
    {
        let tx = tx.clone();
        let ids = ids.clone();
        let output = output.clone();
        let run_dir = run_dir.clone();
        dispatcher.nested = Some(Box::new(move |nested: NestedRun| {
            spawn_nested(
                nested,
                tx.clone(),
                ids.clone(),
                output.clone(),
                run_dir.clone(),
            );
        }));
    }
    let program = request.program.clone();
    let main_tx = tx.clone();
    let main_ids = ids.clone();
    let main_output = output.clone();
    let body = std::thread::spawn(move || {
        let end = run_body(
            0,
            program,
            &request.workflow,
            request.args,
            main_tx.clone(),
            main_ids,
            main_output,
            run_dir,
        );
        let abort = !matches!(end, BodyEnd::Finished | BodyEnd::Uncaught(_));
        let _ = main_tx.blocking_send(Request::Shutdown { abort });
        end
    });
    drop(tx);
    let mut summary = runtime.block_on(dispatcher.run(rx));
    // After Ctrl-C the body is left behind: it ends with the process.
    let end = if summary.interrupted {
        BodyEnd::Aborted
    } else {
        body.join().unwrap_or(BodyEnd::Aborted)
    };
    let status = match &end {
        _ if summary.interrupted => RunEnd::Interrupted,
        BodyEnd::Uncaught(e) => {
            eprintln!(
                "weft: uncaught workflow exception: {}{}",
                e.message,
                e.task
                    .as_ref()
                    .map(|t| format!(" (raised by task `{t}`)"))
                    .unwrap_or_default()
            );
            RunEnd::UncaughtException
        }
        BodyEnd::Error(d) => {
            eprint_all(std::slice::from_ref(d));
            RunEnd::TaskFailed
        }
        BodyEnd::Aborted => RunEnd::TaskFailed,
        BodyEnd::Finished if summary.failure => RunEnd::TaskFailed,
        BodyEnd::Finished => RunEnd::Success,
    };
    let cached = summary
        .records
        .iter()
        .filter(|t| t.status == crate::record::TaskStatus::Cached)
        .count();
    eprintln!(
        "weft: {} tasks: {} done, {} failed, {} cancelled{}",
        summary.total,
        summary.done,
        summary.failed,
        summary.cancelled,
        if cached > 0 {
            format!(" ({cached} restored from the cache)")
        } else {
            String::new()
        }
    );
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));
    let mut recorded = recorded;
    recorded.tasks = std::mem::take(&mut summary.records);
    recorded.end_us = crate::record::now_us().max(start_us);
    let (end_status, exit_code) = match status {
        RunEnd::Success => ("success", 0),
        RunEnd::TaskFailed => ("task failed", 1),
        RunEnd::UncaughtException => ("uncaught exception", 3),
        RunEnd::Interrupted => ("interrupted", 130),
    };
    recorded.status = end_status.to_string();
    recorded.exit_code = exit_code;
    // The cache commits its last results while the records are written.
    std::thread::scope(|scope| {
        if let Some(cache) = &cache {
            scope.spawn(|| cache.close());
        }
        keep_records(&recorded, &request.program, &recording);
    });
    crate::drop_in_background(recorded);
    status
}

/// Writes `run.json` into the run's folder, then the trace, report and provenance crate
/// asked for. A report that cannot be written is said, and changes no exit status.
fn keep_records(record: &RunRecord, program: &Program, recording: &Recording) {
    let folder = record.run_dir.join(".weft").join("runs").join(&record.run);
    if let Err(e) = record.write(&folder) {
        eprintln!("weft: {e}");
    }
    if let Some(path) = &recording.trace {
        if let Err(e) = crate::trace::write_trace(record, path) {
            eprintln!("weft: cannot write the trace {}: {e}", path.display());
        }
    }
    if let Some(path) = &recording.report {
        if let Err(e) = crate::html_report::write_report(record, path) {
            eprintln!("weft: cannot write the report {}: {e}", path.display());
        }
    }
    if let Some(dir) = &recording.provenance {
        if let Err(e) = crate::provenance::write_crate(record, program, dir) {
            eprintln!(
                "weft: cannot write the provenance crate {}: {e}",
                dir.display()
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn run_body(
    body: u32,
    program: Arc<Program>,
    workflow: &str,
    args: IndexMap<String, Value>,
    tx: mpsc::Sender<Request>,
    ids: Arc<Ids>,
    output: Output,
    run_dir: PathBuf,
) -> BodyEnd {
    let Ok(workflow) = program.entry_workflow(Some(workflow)) else {
        return BodyEnd::Aborted;
    };
    let backend = RuntimeBackend::new(body, program.clone(), run_dir, tx, ids, output);
    let mut evaluator = Evaluator::new(&program, backend);
    let result = evaluator.run_workflow(program.root, workflow, args);
    // Calls made before an error are handed over too, as they were made before it.
    let result = result.and(evaluator.backend.flush());
    let end_site = Site {
        file: program.root_module().file.clone(),
        span: weft_compiler::ast::Span::new(
            workflow.body.span.end.saturating_sub(1),
            workflow.body.span.end,
        ),
    };
    match result {
        Ok(()) => match evaluator.backend.wait_all(&end_site) {
            Ok(deferred) => match deferred {
                Some(e) => BodyEnd::Uncaught(e),
                None => BodyEnd::Finished,
            },
            Err(_) => BodyEnd::Aborted,
        },
        Err(Interrupt::Exception(e)) => {
            // As in a sequential run, the tasks called before the exception run to their end.
            let _ = evaluator.backend.wait_all(&end_site);
            BodyEnd::Uncaught(e)
        }
        Err(Interrupt::Error(d)) => BodyEnd::Error(d),
        Err(Interrupt::Stop(Stop::Aborted | Stop::Sync { .. })) => BodyEnd::Aborted,
    }
}

/// Runs a nested workflow (a `workflow` task body) on a thread of its own; its tasks go to
/// the same dispatcher. Its end is the task's end.
fn spawn_nested(
    nested: NestedRun,
    tx: mpsc::Sender<Request>,
    ids: Arc<Ids>,
    output: Output,
    run_dir: PathBuf,
) {
    std::thread::spawn(move || {
        let outcome = match Program::load(&nested.file) {
            Err(diagnostics) => {
                eprint_all(&diagnostics);
                AttemptOutcome::Failed {
                    message: format!(
                        "the nested workflow {} does not check",
                        nested.file.display()
                    ),
                }
            }
            Ok(program) => {
                let program = Arc::new(program);
                let name = match program.entry_workflow(None) {
                    Ok(w) => w.name.name.clone(),
                    Err(message) => {
                        let _ = nested.done.send(Finished::Attempt {
                            id: nested.task,
                            outcome: AttemptOutcome::Failed { message },
                            dir: nested.dir,
                        });
                        return;
                    }
                };
                let body = ids.bodies.fetch_add(1, Ordering::Relaxed) as u32 + 1;
                match run_body(body, program, &name, nested.args, tx, ids, output, run_dir) {
                    BodyEnd::Finished => AttemptOutcome::Succeeded {
                        returned: None,
                        out_json: IndexMap::new(),
                    },
                    BodyEnd::Uncaught(e) => AttemptOutcome::Raised { message: e.message },
                    BodyEnd::Error(d) => {
                        eprint_all(std::slice::from_ref(&d));
                        AttemptOutcome::Failed {
                            message: format!("the nested workflow failed: {}", d.message),
                        }
                    }
                    BodyEnd::Aborted => AttemptOutcome::Cancelled,
                }
            }
        };
        let _ = nested.done.send(Finished::Attempt {
            id: nested.task,
            outcome,
            dir: nested.dir,
        });
    });
}
