//! One module a subcommand.

pub mod check;
pub mod clean;
pub mod completions;
pub mod config;
pub mod doc;
pub mod fmt;
pub mod graph;
pub mod init;
pub mod lsp;
pub mod man;
pub mod run;
pub mod worker;
