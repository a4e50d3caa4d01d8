//! The command line's shape (clap).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser)]
#[command(
    name = "weft",
    version,
    about = "Sequential workflows, parallel runs: tasks, files and futures in one language",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Parse and analyse workflow files; run nothing
    Check(CheckArgs),
    /// Format workflow files in the canonical style
    Fmt(FmtArgs),
    /// Print the task graph that can be known before running
    Graph(GraphArgs),
    /// Run a workflow
    Run(RunArgs),
    /// The configuration file
    Config(ConfigArgs),
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
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// How to print diagnostics: rendered for people, or one JSON object per line
    #[arg(long, value_enum, default_value = "human")]
    pub format: CheckFormat,
    /// Treat warnings as errors
    #[arg(long, value_enum)]
    pub deny: Option<Deny>,
    /// The configuration file (default: weft.yaml beside each workflow)
    #[arg(long)]
    pub config: Option<PathBuf>,
}

#[derive(Args)]
pub struct FmtArgs {
    /// The .wf files to format in place
    #[arg(required = true)]
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
    pub file: PathBuf,
    #[arg(long, value_enum, default_value = "dot")]
    pub format: GraphFormat,
    /// Write the graph here instead of standard output
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// The workflow to plan (default: `main`, or the only one)
    #[arg(long)]
    pub workflow: Option<String>,
    /// The configuration file (default: weft.yaml beside the workflow)
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Workflow options, as for `weft run`
    #[arg(last = true)]
    pub options: Vec<String>,
}

#[derive(Args)]
pub struct RunArgs {
    /// The workflow file
    pub file: PathBuf,
    /// The configuration file (default: weft.yaml beside the workflow)
    #[arg(long)]
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
    /// Workflow options (`--name value`), after `--` or directly after the file
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub options: Vec<String>,
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
