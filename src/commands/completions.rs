//! `weft completions SHELL`: a completion script generated from the command line's shape,
//! so it can never fall behind a new subcommand or option.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit;

pub fn run(args: CompletionsArgs) -> i32 {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut Cli::command(), "weft", &mut script);
    print_bytes(&script)
}

/// Writes to standard output; a closed pipe (`weft man | head`) is an error to report, not a
/// panic.
pub fn print_bytes(bytes: &[u8]) -> i32 {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => exit::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to standard output: {e}");
            exit::USAGE
        }
    }
}
