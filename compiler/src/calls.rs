//! What a task call touches: the files and directories it reads and writes (to `depth`), and
//! the futures it reads. Shared by the planner and the runtime so both see the same graph.

use indexmap::IndexMap;

use crate::ast::{Direction, Param, ReturnType, Task, Type};
use crate::value::{FutureId, Value};

/// One file or directory access of a call.
#[derive(Clone, Debug, PartialEq)]
pub struct PathAccess {
    pub path: String,
    pub direction: Direction,
    /// The parameter it comes from.
    pub param: usize,
    pub is_dir: bool,
}

/// Everything a call reads and writes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CallData {
    pub paths: Vec<PathAccess>,
    /// Futures passed to the call (at any depth): reads of task results.
    pub futures: Vec<FutureId>,
}

/// The first future found inside the path-typed arguments of a call: its value (a path) must
/// be known before the call's accesses can be.
pub fn path_future(task: &Task, args: &IndexMap<String, Value>) -> Option<FutureId> {
    for (param, value) in task.params.iter().zip(args.values()) {
        if matches!(param.ty.ty.innermost(), Type::File | Type::Dir) {
            let mut found = Vec::new();
            value.futures(&mut found);
            if let Some(f) = found.first() {
                return Some(*f);
            }
        }
    }
    None
}

/// The accesses of a call whose path arguments hold no futures (see `path_future`).
pub fn call_data(task: &Task, args: &IndexMap<String, Value>) -> CallData {
    let mut data = CallData::default();
    for (index, (param, value)) in task.params.iter().zip(args.values()).enumerate() {
        value.futures(&mut data.futures);
        let base = param.ty.ty.innermost();
        if !matches!(base, Type::File | Type::Dir) {
            continue;
        }
        let depth = param.depth().map_or(u32::MAX, |d| d);
        collect_paths(param, index, value, depth, &mut data.paths);
    }
    data
}

fn collect_paths(
    param: &Param,
    index: usize,
    value: &Value,
    depth: u32,
    out: &mut Vec<PathAccess>,
) {
    match value {
        Value::Str(path) => out.push(PathAccess {
            path: path.to_string(),
            direction: param.direction,
            param: index,
            is_dir: matches!(param.ty.ty.innermost(), Type::Dir),
        }),
        Value::List(items) | Value::Tuple(items) if depth > 0 => {
            for item in items.iter() {
                collect_paths(param, index, item, depth - 1, out);
            }
        }
        _ => {}
    }
}

/// How many futures a call returns: one per returned value.
pub fn return_arity(task: &Task) -> usize {
    match &task.returns {
        None => 0,
        Some(ReturnType::Single(_)) => 1,
        Some(ReturnType::Tuple(items, _)) => items.len(),
    }
}

/// The `out`/`inout`/`concurrent`/`commutative` json parameters of a task (§4.1): each call
/// gives them a new value.
pub fn written_json_params(task: &Task) -> impl Iterator<Item = (usize, &Param)> {
    task.params
        .iter()
        .enumerate()
        .filter(|(_, p)| p.direction.writes() && matches!(p.ty.ty.innermost(), Type::Json))
}

/// Builds the call's result value from fresh future ids: null, one future, or a tuple.
pub fn result_value(task: &Task, mut fresh: impl FnMut() -> FutureId) -> Value {
    match &task.returns {
        None => Value::Null,
        Some(ReturnType::Single(_)) => Value::Future(fresh()),
        Some(ReturnType::Tuple(items, _)) => Value::Tuple(std::sync::Arc::new(
            items.iter().map(|_| Value::Future(fresh())).collect(),
        )),
    }
}
