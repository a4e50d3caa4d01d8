//! What workflow bodies ask of the dispatcher: the messages of the channel between them.

use std::path::PathBuf;
use std::sync::Arc;

use indexmap::IndexMap;
use tokio::sync::oneshot;
use weft_compiler::ast::Task;
use weft_compiler::deps::{Resolved, TaskId};
use weft_compiler::eval::{Exception, Site};
use weft_compiler::program::{ModuleId, Program};
use weft_compiler::value::{FutureId, Value};

use crate::versions::FileKey;

/// A workflow body: the main one is 0; each nested `workflow` task runs one more.
pub type BodyId = u32;

/// A group of one body (§6.1).
pub type GroupId = u64;

/// Why a body's request cannot be answered with a value.
#[derive(Clone, Debug, PartialEq)]
pub enum WaitError {
    /// The run is stopping (a failure with `fail`, an uncaught exception, Ctrl-C).
    Aborted,
    /// The value comes from a task that was cancelled or failed: names it.
    Cancelled(String),
}

/// One file access of a submitted call, with the user's path.
#[derive(Clone, Debug)]
pub struct FileAccess {
    pub key: FileKey,
    pub user_path: PathBuf,
    pub is_dir: bool,
    pub param: usize,
    pub resolved: Resolved,
}

/// A task call, as the body hands it over.
pub struct Submission {
    pub id: TaskId,
    pub body: BodyId,
    pub program: Arc<Program>,
    pub module: ModuleId,
    pub task: Arc<Task>,
    /// Every parameter's value; may hold futures, which `deps` cover.
    pub args: IndexMap<String, Value>,
    pub files: Vec<FileAccess>,
    pub deps: Vec<TaskId>,
    /// Futures of the return value, in order (one, or one per tuple element).
    pub returns: Vec<FutureId>,
    /// New values of `out`/`inout` json parameters: parameter name and its future.
    pub json_outs: Vec<(String, FutureId)>,
    /// Enclosing groups, outermost first, with their names.
    pub groups: Vec<(GroupId, String)>,
    pub site: Site,
}

pub enum Request {
    /// Task calls, in program order, each with its record.
    Submit(Vec<(Submission, crate::record::TaskRecord)>),
    /// The value of a future.
    Resolve {
        future: FutureId,
        reply: oneshot::Sender<Result<Value, WaitError>>,
    },
    /// Waits until these tasks ended, whatever their end (and no delete of `file` is pending).
    WaitTasks {
        tasks: Vec<TaskId>,
        file: Option<FileKey>,
        reply: oneshot::Sender<Result<(), WaitError>>,
    },
    /// Where a file's version can be read, once final.
    ReadPath {
        key: FileKey,
        user_path: PathBuf,
        version: u32,
        reply: oneshot::Sender<Result<PathBuf, WaitError>>,
    },
    /// The body wrote a file at the user's path: it is that version.
    BodyWrote {
        key: FileKey,
        user_path: PathBuf,
        version: u32,
    },
    /// Remove the user's path once these tasks ended.
    Delete {
        key: FileKey,
        user_path: PathBuf,
        version: u32,
        after: Vec<TaskId>,
    },
    /// Waits for a group's tasks; answers its exception, if one was raised.
    WaitGroup {
        group: GroupId,
        reply: oneshot::Sender<Result<Option<Exception>, WaitError>>,
    },
    /// Waits for every task a body submitted; answers the next exception raised outside
    /// groups (or in a `nowait` group nobody waited for), if any.
    WaitAll {
        body: BodyId,
        reply: oneshot::Sender<Result<Option<Exception>, WaitError>>,
    },
    /// The run's outcome is decided (the main body ended): stop.
    Shutdown { abort: bool },
}
