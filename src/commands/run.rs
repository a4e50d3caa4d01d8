//! `weft run FILE [--config F] [--workflow W] [--sequential] [-j N] [-- OPTIONS]`.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;
use weft_compiler::ast::Workflow;
use weft_compiler::config::Config;
use weft_compiler::program::Program;
use weft_compiler::value::Value;
use weft_executor::progress::ProgressMode;
use weft_executor::resume::{explain, Fingerprint, ResumeOptions};
use weft_executor::runtime::{run as run_workflow, Recording, RunEnd, RunRequest};

use crate::cli::{ProgressArg, ResumeFingerprint, RunArgs};
use crate::exit;
use crate::load::{config_for, has_errors, load_and_analyze, report, workflow_arguments};

pub fn run(mut args: RunArgs) -> i32 {
    take_weft_flags(&mut args);
    let (program, mut diagnostics) = load_and_analyze(&args.file);
    if has_errors(&diagnostics) {
        report(&diagnostics);
        return exit::USAGE;
    }
    let Some(program) = program else {
        return exit::USAGE;
    };
    let config = match config_for(&args.file, args.config.as_deref()) {
        Ok(c) => c,
        Err(d) => {
            report(&[*d]);
            return exit::USAGE;
        }
    };
    let workflow = match program.entry_workflow(args.workflow.as_deref()) {
        Ok(w) => w,
        Err(message) => {
            eprintln!("error: {message}");
            return exit::USAGE;
        }
    };
    let options = match workflow_arguments(workflow, &args.options) {
        Ok(o) => o,
        Err(message) => {
            eprintln!(
                "error: {message}\n(see `weft run {} --help`)",
                args.file.display()
            );
            return exit::USAGE;
        }
    };
    // Calls the planner can see are checked before anything runs (§4.3).
    diagnostics.extend(weft_executor::preflight::plan_diagnostics(
        &program,
        workflow,
        options.clone(),
        &config,
    ));
    if has_errors(&diagnostics) {
        report(&diagnostics);
        return exit::USAGE;
    }
    let fingerprint = match args.resume_fingerprint {
        ResumeFingerprint::Full => Fingerprint::Full,
        ResumeFingerprint::Fast => Fingerprint::Fast,
    };
    if args.explain {
        return explain_run(&program, workflow, options, &config, fingerprint);
    }
    let name = workflow.name.name.clone();
    let config_file = args.config.clone().or_else(|| {
        let beside = args
            .file
            .parent()
            .unwrap_or_else(|| Path::new(""))
            .join(weft_compiler::config::DEFAULT_FILE_NAME);
        beside.is_file().then_some(beside)
    });
    let end = run_workflow(RunRequest {
        program: Arc::new(program),
        workflow: name,
        args: options,
        config,
        sequential: args.sequential,
        jobs: args.jobs,
        launcher: None,
        progress: match args.progress {
            ProgressArg::Auto => ProgressMode::Auto,
            ProgressArg::Bar => ProgressMode::Bar,
            ProgressArg::Lines => ProgressMode::Lines,
            ProgressArg::None => ProgressMode::Off,
        },
        recording: Recording {
            resume: ResumeOptions {
                reuse: args.resume,
                fingerprint,
            },
            trace: args.trace.clone(),
            report: args.report.clone(),
            provenance: args.provenance.clone(),
            workflow_file: args.file.clone(),
            config_file,
        },
    });
    match end {
        RunEnd::Success => exit::SUCCESS,
        RunEnd::TaskFailed => exit::TASK_FAILED,
        RunEnd::UncaughtException => exit::UNCAUGHT_EXCEPTION,
        RunEnd::Interrupted => exit::INTERRUPTED,
    }
}

/// `weft run --explain`: what `--resume` would do with each call the planner sees, on
/// standard output; runs nothing.
fn explain_run(
    program: &Program,
    workflow: &Workflow,
    options: IndexMap<String, Value>,
    config: &Config,
    fingerprint: Fingerprint,
) -> i32 {
    let run_dir = std::env::current_dir().unwrap_or_default();
    match explain(program, workflow, options, config, &run_dir, fingerprint) {
        Ok(explanation) => {
            print!("{}", explanation.render());
            exit::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
    }
}

/// weft's own flags written among the workflow options (`weft run f.wf --n 3 --sequential`)
/// are weft's, unless the workflow has an option of that name.
fn take_weft_flags(args: &mut RunArgs) {
    // clap drops the `--`; everything after it in the real command line is the workflow's.
    let argv: Vec<String> = std::env::args().collect();
    let after_separator = argv
        .iter()
        .position(|a| a == "--")
        .map_or(0, |i| argv.len() - i - 1);
    let mut options = std::mem::take(&mut args.options);
    let protected = options.split_off(options.len().saturating_sub(after_separator));
    let mut rest = Vec::new();
    let mut options = options.into_iter();
    while let Some(option) = options.next() {
        match option.as_str() {
            "--sequential" => args.sequential = true,
            "-j" | "--jobs" => args.jobs = options.next().and_then(|n| n.parse().ok()),
            "--config" => args.config = options.next().map(PathBuf::from),
            "--workflow" => args.workflow = options.next(),
            "--resume" => args.resume = true,
            "--explain" => args.explain = true,
            "--resume-fingerprint" => match options.next().as_deref() {
                Some("fast") => args.resume_fingerprint = ResumeFingerprint::Fast,
                Some("full") => args.resume_fingerprint = ResumeFingerprint::Full,
                other => rest.extend(
                    ["--resume-fingerprint".to_string()]
                        .into_iter()
                        .chain(other.map(str::to_string)),
                ),
            },
            "--trace" => args.trace = options.next().map(PathBuf::from),
            "--report" => args.report = options.next().map(PathBuf::from),
            "--provenance" => args.provenance = options.next().map(PathBuf::from),
            _ => rest.push(option),
        }
    }
    rest.extend(protected);
    args.options = rest;
}

/// `weft run FILE --help`: the workflow's options, from its parameters and doc comments.
/// `None` when the command line is not that.
pub fn workflow_help(argv: &[String]) -> Option<i32> {
    let run_at = argv.iter().position(|a| a == "run")?;
    let rest = &argv[run_at + 1..];
    let file = rest.iter().find(|a| a.ends_with(".wf"))?;
    let file_at = rest.iter().position(|a| a == file)?;
    if !rest[file_at + 1..]
        .iter()
        .any(|a| a == "--help" || a == "-h")
    {
        return None;
    }
    let path = Path::new(file);
    let (program, diagnostics) = load_and_analyze(path);
    let Some(program) = program else {
        report(&diagnostics);
        return Some(exit::USAGE);
    };
    let workflow_name = rest
        .iter()
        .position(|a| a == "--workflow")
        .and_then(|i| rest.get(i + 1))
        .map(String::as_str);
    match program.entry_workflow(workflow_name) {
        Ok(workflow) => {
            print!("{}", crate::load::workflow_help(path, workflow));
            Some(exit::SUCCESS)
        }
        Err(message) => {
            eprintln!("error: {message}");
            Some(exit::USAGE)
        }
    }
}
