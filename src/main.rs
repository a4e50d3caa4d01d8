//! `weft`: the command line over the compiler and the executor.

mod cli;
mod commands;
mod exit;
mod load;

use clap::Parser;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `weft run FILE --help` describes the workflow's options, not weft's: answered before
    // clap sees the arguments.
    if let Some(code) = commands::run::workflow_help(&args) {
        std::process::exit(code);
    }
    let cli = cli::Cli::parse();
    let code = match cli.command {
        cli::Command::Check(args) => commands::check::run(args),
        cli::Command::Fmt(args) => commands::fmt::run(args),
        cli::Command::Graph(args) => commands::graph::run(args),
        cli::Command::Run(args) => commands::run::run(args),
        cli::Command::Config(args) => commands::config::run(args),
        cli::Command::Init(args) => commands::init::run(args),
        cli::Command::Doc(args) => commands::doc::run(args),
        cli::Command::Completions(args) => commands::completions::run(args),
        cli::Command::Man(args) => commands::man::run(args),
        cli::Command::Worker(args) => commands::worker::run(args),
        cli::Command::Clean(args) => commands::clean::run(args),
        cli::Command::Lsp => commands::lsp::run(),
    };
    std::process::exit(code);
}
