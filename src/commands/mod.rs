//! One module a subcommand.

pub mod check;
pub mod config;
pub mod fmt;
pub mod graph;
pub mod run;
