//! The command line's shape (clap).
//!
//! Every subcommand's help reads like cargo's: a one-line summary for `-h`, a longer
//! description for `--help`, and examples at the end. The examples live in one table
//! (`examples`) that both the help and the man page (`weft man`) print.

use std::path::PathBuf;

use clap::builder::styling::{AnsiColor, Effects, Style, Styles};
use clap::{Args, Parser, Subcommand, ValueEnum, ValueHint};

/// Cargo's colours: green headers, cyan literals. clap drops them when NO_COLOR is set or
/// the output is not a terminal.
const STYLES: Styles = Styles::styled()
    .header(AnsiColor::Green.on_default().effects(Effects::BOLD))
    .usage(AnsiColor::Green.on_default().effects(Effects::BOLD))
    .literal(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
    .placeholder(AnsiColor::Cyan.on_default())
    .error(AnsiColor::Red.on_default().effects(Effects::BOLD))
    .valid(AnsiColor::Cyan.on_default().effects(Effects::BOLD))
    .invalid(AnsiColor::Yellow.on_default().effects(Effects::BOLD));

#[derive(Parser)]
#[command(
    name = "weft",
    version,
    about = "Sequential workflows, parallel runs: tasks, files and futures in one language",
    long_about = "Sequential workflows, parallel runs: tasks, files and futures in one language.\n\n\
                  A weft program (a .wf file) is sequential code that calls tasks: commands, \
                  shell templates, scripts. weft finds the data dependencies between the calls \
                  and runs the tasks in parallel, with the result a one-by-one run would give.",
    after_help = examples_help("weft"),
    styles = STYLES,
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Parse and analyse workflow files; run nothing
    ///
    /// Reports every mistake found before running (syntax, names, types, arguments,
    /// directions, constraints, imports, configuration) with its code, file, line and a help
    /// line, and the warnings (unused names, loops that wait for their own tasks). Exits 2 when
    /// there is an error, 0 otherwise.
    #[command(after_help = examples_help("check"))]
    Check(CheckArgs),
    /// Format workflow files in the canonical style
    ///
    /// Rewrites each file in place (through a temporary file, so an interrupted run never
    /// leaves half a file). Comments and doc comments are kept.
    #[command(after_help = examples_help("fmt"))]
    Fmt(FmtArgs),
    /// Print the task graph that can be known before running
    ///
    /// One node per task call the planner can see without running anything, one edge per
    /// dependency between two of them; groups are drawn as clusters. Calls that depend on the
    /// value of a task (inside `if` on a future, say) only appear once the run gets there.
    #[command(after_help = examples_help("graph"))]
    Graph(GraphArgs),
    /// Run a workflow
    ///
    /// Runs the workflow `main` of FILE (or the only workflow, or the one given by
    /// --workflow). Only `print` writes to standard output; progress, failures and the summary
    /// go to standard error. Everything weft keeps for itself (file versions, each attempt's
    /// logs) lives under .weft/ in the current directory.
    ///
    /// `weft run FILE --help` lists the options of FILE's workflow.
    ///
    /// Exit status: 0 success, 1 a task failed, 2 the program or the command line is wrong
    /// (nothing ran), 3 an uncaught workflow exception, 130 interrupted.
    #[command(after_help = examples_help("run"))]
    Run(RunArgs),
    /// The configuration file
    ///
    /// A workflow's configuration is weft.yaml beside it (or the file given by --config): the
    /// executor and the resources of the machines that run tasks.
    #[command(after_help = examples_help("config"))]
    Config(ConfigArgs),
    /// Write a starter workflow, its data and a weft.yaml into a folder
    ///
    /// Writes DIR/main.wf (a documented task and workflow that run as they are), a few text
    /// files under DIR/data/ for it to read, DIR/weft.yaml, and DIR/.gitignore (unless one
    /// exists). DIR is created when missing. Nothing is overwritten: when any of these files
    /// exists, weft init writes nothing and exits 2.
    #[command(after_help = examples_help("init"))]
    Init(InitArgs),
    /// Show the tasks, fns and workflows of a module with their doc comments
    ///
    /// TARGET is a standard module (`std.fs`), a workflow file (`main.wf`) or `builtins`.
    /// Without TARGET, lists the standard modules. Each task, fn and workflow is shown with
    /// its signature (directions, types, defaults) and its `///` doc comments; NAME shows only
    /// that one.
    #[command(after_help = examples_help("doc"))]
    Doc(DocArgs),
    /// Print a shell completion script
    ///
    /// The script completes weft's subcommands and options; load it in your shell's startup
    /// file (see the examples).
    #[command(after_help = examples_help("completions"))]
    Completions(CompletionsArgs),
    /// Print weft's manual page (roff)
    ///
    /// Prints weft(1), or the page of one subcommand. With --dir, writes weft.1 and one page per
    /// subcommand (weft-run.1, …) into that folder, for packagers.
    #[command(after_help = examples_help("man"))]
    Man(ManArgs),
    /// Run task attempts for a weft elsewhere (the ssh and slurm executors start it)
    #[command(hide = true)]
    Worker(WorkerArgs),
    /// Remove weft's state: old runs and the cached results no kept run uses
    ///
    /// Keeps the most recent run under .weft/runs (or the last --keep N) and the cache entries
    /// those runs stored or reused; removes older runs, other entries and cached files no entry
    /// needs. --all removes .weft entirely. Never touches anything outside .weft.
    #[command(after_help = examples_help("clean"))]
    Clean(CleanArgs),
    /// Serve the Language Server Protocol on standard input and output
    ///
    /// For editors (the VS Code extension in editors/vscode starts it): diagnostics as `weft
    /// check` gives them, hover, go to definition, completion and formatting. Hidden from the
    /// command list: people do not type it.
    #[command(hide = true)]
    Lsp,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum CheckFormat {
    Human,
    Json,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Deny {
    Warnings,
}

#[derive(Args)]
pub struct CheckArgs {
    /// The .wf files to check
    #[arg(required = true, value_hint = ValueHint::FilePath)]
    pub files: Vec<PathBuf>,
    /// How to print diagnostics: rendered for people, or one JSON object per line
    #[arg(long, value_enum, default_value = "human")]
    pub format: CheckFormat,
    /// Treat warnings as errors
    #[arg(long, value_enum)]
    pub deny: Option<Deny>,
    /// The configuration file (default: weft.yaml beside each workflow)
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub config: Option<PathBuf>,
}

#[derive(Args)]
pub struct FmtArgs {
    /// The .wf files to format in place
    #[arg(required = true, value_hint = ValueHint::FilePath)]
    pub files: Vec<PathBuf>,
    /// Change nothing; exit 1 and name the files that would change
    #[arg(long)]
    pub check: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
    Json,
}

#[derive(Args)]
pub struct GraphArgs {
    /// The workflow file
    #[arg(value_hint = ValueHint::FilePath, required_unless_present = "run")]
    pub file: Option<PathBuf>,
    /// Print the graph a run executed, with timings, from its folder (.weft/runs/RUN)
    #[arg(long, value_name = "RUN_DIR", value_hint = ValueHint::DirPath, conflicts_with = "file")]
    pub run: Option<PathBuf>,
    /// Graphviz dot, a Mermaid flowchart, or JSON (`{"nodes": […], "edges": […]}`)
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
    /// Write the graph here instead of standard output
    #[arg(short, long, value_hint = ValueHint::FilePath)]
    pub output: Option<PathBuf>,
    /// The workflow to plan (default: `main`, or the only one)
    #[arg(long)]
    pub workflow: Option<String>,
    /// The configuration file (default: weft.yaml beside the workflow)
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub config: Option<PathBuf>,
    /// Workflow options, as for `weft run`
    #[arg(last = true)]
    pub options: Vec<String>,
}

#[derive(Args)]
pub struct RunArgs {
    /// The workflow file
    #[arg(value_hint = ValueHint::FilePath)]
    pub file: PathBuf,
    /// The configuration file (default: weft.yaml beside the workflow)
    #[arg(long, value_hint = ValueHint::FilePath)]
    pub config: Option<PathBuf>,
    /// The workflow to run (default: `main`, or the only one)
    #[arg(long)]
    pub workflow: Option<String>,
    /// Run one task at a time, in program order (the reference for the parallel run)
    #[arg(long)]
    pub sequential: bool,
    /// At most this many tasks running at once
    #[arg(short = 'j', long = "jobs")]
    pub jobs: Option<usize>,
    /// Restore task attempts that completed before with the same key instead of running them
    #[arg(long)]
    pub resume: bool,
    /// How keys fingerprint input files: their whole content, or size + modification time +
    /// first MiB
    #[arg(long, value_enum, default_value = "full")]
    pub resume_fingerprint: ResumeFingerprint,
    /// Run nothing: say for each task call whether --resume would run it, and why
    #[arg(long)]
    pub explain: bool,
    /// Write a Chrome trace-event file of the run (opens in Perfetto)
    #[arg(long, value_name = "FILE", value_hint = ValueHint::FilePath)]
    pub trace: Option<PathBuf>,
    /// Write an HTML report of the run (summary, tasks, timeline, graph, failures)
    #[arg(long, value_name = "FILE.html", value_hint = ValueHint::FilePath)]
    pub report: Option<PathBuf>,
    /// Write a Workflow Run RO-Crate of the run into this folder
    #[arg(long, value_name = "DIR", value_hint = ValueHint::DirPath)]
    pub provenance: Option<PathBuf>,
    /// How progress is shown on standard error: a live bar on a terminal and a line every
    /// few seconds otherwise (auto), always one of them, or none
    #[arg(long, value_enum, default_value = "auto")]
    pub progress: ProgressArg,
    /// Workflow options (`--name value`), after `--` or directly after the file
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub options: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProgressArg {
    Auto,
    Bar,
    Lines,
    None,
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResumeFingerprint {
    /// The BLAKE3 hash of the whole content
    Full,
    /// Size, modification time and the first MiB
    Fast,
}

#[derive(Args)]
pub struct CleanArgs {
    /// Keep this many of the most recent runs, and the cached results they use
    #[arg(long, default_value_t = 1)]
    pub keep: usize,
    /// Remove .weft entirely: every run, every cached result, the state
    #[arg(long, conflicts_with = "keep")]
    pub all: bool,
}

#[derive(Args)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Subcommand)]
pub enum ConfigCommand {
    /// Print the JSON Schema of the configuration file
    Schema,
}

#[derive(Args)]
pub struct InitArgs {
    /// The folder to write into (created when missing)
    #[arg(default_value = ".", value_hint = ValueHint::DirPath)]
    pub dir: PathBuf,
}

#[derive(Args)]
pub struct DocArgs {
    /// `std.NAME`, a .wf file, or `builtins` (default: list the standard modules)
    #[arg(value_hint = ValueHint::FilePath)]
    pub target: Option<String>,
    /// Show only this task, fn, workflow or builtin
    pub name: Option<String>,
}

#[derive(Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Args)]
pub struct ManArgs {
    /// Print the page of this subcommand (weft-COMMAND(1)) instead of weft(1)
    pub command: Option<String>,
    /// Write weft.1 and every subcommand's page into this folder instead of printing
    #[arg(long, value_hint = ValueHint::DirPath, conflicts_with = "command")]
    pub dir: Option<PathBuf>,
}

/// `weft worker`: started by weft itself, over ssh or as a Slurm step or job.
#[derive(Args)]
pub struct WorkerArgs {
    /// Where staged attempts run and staged files are kept (ssh)
    #[arg(long, value_hint = ValueHint::DirPath, default_value = ".")]
    pub workdir: PathBuf,
    /// Run the one attempt this file describes, instead of serving standard input (Slurm)
    #[arg(long, value_hint = ValueHint::FilePath, requires = "outcome")]
    pub attempt: Option<PathBuf>,
    /// Where the outcome of --attempt is written
    #[arg(long, value_hint = ValueHint::FilePath, requires = "attempt")]
    pub outcome: Option<PathBuf>,
}

/// One example of a command: the command line and what it does.
pub struct Example {
    pub command: &'static str,
    pub does: &'static str,
}

const fn example(command: &'static str, does: &'static str) -> Example {
    Example { command, does }
}

/// The examples shown at the end of `weft COMMAND --help` and in the man pages; `weft` for
/// the top level.
pub fn examples(command: &str) -> &'static [Example] {
    EXAMPLES
        .iter()
        .find(|(name, _)| *name == command)
        .map_or(&[], |(_, examples)| examples)
}

/// Each command's examples, by command name.
const EXAMPLES: &[(&str, &[Example])] = &[
    (
        "weft",
        &[
            example(
                "weft init hello && cd hello",
                "start a project from a working example",
            ),
            example("weft run main.wf", "run its workflow"),
            example(
                "weft check main.wf",
                "find mistakes without running anything",
            ),
            example("weft doc std.text", "the tasks of a standard module"),
        ],
    ),
    (
        "check",
        &[
            example(
                "weft check main.wf",
                "diagnostics rendered with source snippets",
            ),
            example(
                "weft check --format json lib/*.wf",
                "one JSON object per diagnostic",
            ),
            example(
                "weft check --deny warnings main.wf",
                "fail on warnings too (for CI)",
            ),
        ],
    ),
    (
        "fmt",
        &[
            example("weft fmt main.wf", "format in place"),
            example(
                "weft fmt --check *.wf",
                "list the files that would change; exit 1 if any",
            ),
        ],
    ),
    (
        "graph",
        &[
            example(
                "weft graph main.wf | dot -Tsvg > graph.svg",
                "draw with Graphviz",
            ),
            example("weft graph main.wf --format mermaid", "a Mermaid flowchart"),
            example(
                "weft graph --run .weft/runs/1700000000-4242",
                "the graph a run executed, with timings",
            ),
            example(
                "weft graph main.wf -- --n 8",
                "the graph for other workflow options",
            ),
        ],
    ),
    (
        "run",
        &[
            example("weft run main.wf", "run the workflow `main`"),
            example(
                "weft run main.wf --help",
                "the workflow's options and their docs",
            ),
            example(
                "weft run main.wf -- --input data --n 4",
                "give workflow options",
            ),
            example(
                "weft run main.wf --sequential",
                "one task at a time, in program order",
            ),
            example(
                "weft run main.wf -j 2 --config cluster.yaml",
                "at most 2 tasks at once",
            ),
            example(
                "weft run main.wf --resume",
                "restore what completed before; run the rest",
            ),
            example(
                "weft run main.wf --explain",
                "what --resume would run, and why; runs nothing",
            ),
            example(
                "weft run main.wf --trace trace.json --report report.html",
                "a Perfetto trace and an HTML report of the run",
            ),
        ],
    ),
    (
        "clean",
        &[
            example("weft clean", "keep the last run and the results it uses"),
            example("weft clean --keep 3", "keep the last three runs"),
            example("weft clean --all", "remove .weft entirely"),
        ],
    ),
    (
        "config",
        &[example(
            "weft config schema > weft.schema.json",
            "the JSON Schema, for an editor's YAML support",
        )],
    ),
    (
        "init",
        &[
            example("weft init hello", "write a starter project into ./hello"),
            example("cd hello && weft run main.wf", "run it"),
        ],
    ),
    (
        "doc",
        &[
            example("weft doc", "list the standard modules"),
            example("weft doc std.fs", "every task of std.fs with its docs"),
            example("weft doc std.text grep", "one task"),
            example(
                "weft doc main.wf",
                "the tasks and workflows of your own file",
            ),
            example("weft doc builtins", "print, glob, read_json, …"),
        ],
    ),
    (
        "completions",
        &[
            example(
                "weft completions bash > ~/.local/share/bash-completion/completions/weft",
                "bash",
            ),
            example(
                "weft completions zsh > ~/.zfunc/_weft",
                "zsh (with ~/.zfunc in fpath)",
            ),
            example(
                "weft completions fish > ~/.config/fish/completions/weft.fish",
                "fish",
            ),
        ],
    ),
    (
        "man",
        &[
            example("weft man | man -l -", "read weft(1)"),
            example("weft man run | man -l -", "read weft-run(1)"),
            example(
                "weft man --dir /usr/local/share/man/man1",
                "install every page",
            ),
        ],
    ),
];

/// The "Examples:" section of a command's help, styled like clap's own headings.
pub fn examples_help(command: &str) -> String {
    let header = STYLES.get_header();
    let literal = STYLES.get_literal();
    let mut out = format!("{}Examples:{}\n", header.render(), header.render_reset());
    for example in examples(command) {
        out.push_str(&format!(
            "  {}{}{}\n      {}\n",
            literal.render(),
            example.command,
            literal.render_reset(),
            example.does
        ));
    }
    if command == "weft" {
        out.push_str(&format!(
            "\nSee `{}` for one command's options; the user guide is docs/guide/.",
            styled(literal, "weft help COMMAND")
        ));
    }
    out.trim_end().to_string()
}

fn styled(style: &Style, text: &str) -> String {
    format!("{}{text}{}", style.render(), style.render_reset())
}
