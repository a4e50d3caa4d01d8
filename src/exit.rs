//! The exit statuses of §10, by name.

/// The run (or the check) succeeded.
pub const SUCCESS: i32 = 0;
/// A task failed; `weft fmt --check` found files to reformat.
pub const TASK_FAILED: i32 = 1;
/// The program or the command line is wrong; nothing ran.
pub const USAGE: i32 = 2;
/// An uncaught workflow exception.
pub const UNCAUGHT_EXCEPTION: i32 = 3;
/// Interrupted by Ctrl-C or SIGTERM.
pub const INTERRUPTED: i32 = 130;
