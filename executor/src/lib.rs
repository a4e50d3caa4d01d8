//! weft's runtime: the dispatcher that releases ready tasks to resources, the bodies that
//! submit them, the versions of files, and the processes that run task attempts.
//!
//! `runtime` (entry) → `body` (the evaluator's backend, one thread a workflow body) →
//! `protocol` (their requests) → `dispatcher` (one loop on tokio) → `resources`, `versions`,
//! `directives` → `attempt` (one process: `command`, `template`, `process`, `returns`).

pub mod attempt;
pub mod backends;
pub mod body;
pub mod command;
pub mod directives;
pub mod dispatcher;
pub mod html_report;
pub mod launch;
pub mod preflight;
pub mod process;
pub mod progress;
pub mod protocol;
pub mod provenance;
pub mod record;
pub mod resources;
pub mod resume;
pub mod returns;
pub mod runtime;
pub mod task_table;
pub mod template;
pub mod trace;
pub mod versions;

/// Frees a large structure (a million calls' states or records) on a thread of its own, so
/// the end of a run does not wait for it; the process may end before it finishes.
pub(crate) fn drop_in_background<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("weft-free".to_string())
        .spawn(move || drop(value));
}
