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
    for_each_path(task, args, |access| {
        data.paths.push(PathAccess {
            path: access.path.to_string(),
            direction: access.direction,
            param: access.param,
            is_dir: access.is_dir,
        })
    });
    for (_, value) in task.params.iter().zip(args.values()) {
        value.futures(&mut data.futures);
    }
    data
}

/// One file or directory access of a call, borrowed from its arguments.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PathRef<'a> {
    pub path: &'a str,
    pub direction: Direction,
    /// The parameter it comes from.
    pub param: usize,
    pub is_dir: bool,
}

/// Every file or directory access of a call, in the order of `call_data`'s `paths`, without
/// copying the paths: the planner meets a million of them.
pub fn for_each_path<'a>(
    task: &Task,
    args: &'a IndexMap<String, Value>,
    mut visit: impl FnMut(PathRef<'a>),
) {
    for (index, (param, value)) in task.params.iter().zip(args.values()).enumerate() {
        let base = param.ty.ty.innermost();
        if !matches!(base, Type::File | Type::Dir) {
            continue;
        }
        let depth = param.depth().map_or(u32::MAX, |d| d);
        let access = PathRef {
            path: "",
            direction: param.direction,
            param: index,
            is_dir: matches!(base, Type::Dir),
        };
        collect_paths(access, value, depth, &mut visit);
    }
}

fn collect_paths<'a>(
    access: PathRef<'a>,
    value: &'a Value,
    depth: u32,
    visit: &mut impl FnMut(PathRef<'a>),
) {
    match value {
        Value::Str(path) => visit(PathRef { path, ..access }),
        Value::List(items) | Value::Tuple(items) if depth > 0 => {
            for item in items.iter() {
                collect_paths(access, item, depth - 1, visit);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::program::Program;

    #[test]
    fn paths_are_visited_in_order_to_their_depth() {
        let program = Program::from_source(
            std::path::Path::new("/p/main.wf"),
            r#"
task t(n: int, a: file, xs: out [[file]] depth 1, d: inout dir, ys: [file]) { shell "true" }
workflow main() {}
"#
            .to_string(),
        )
        .unwrap_or_else(|d| panic!("does not parse: {d:?}"));
        let task = program.root_module().task("t").expect("t");
        let s = |text: &str| Value::str(text);
        let mut args = IndexMap::new();
        args.insert("n".to_string(), Value::Future(FutureId(4)));
        args.insert("a".to_string(), s("a"));
        args.insert(
            "xs".to_string(),
            Value::list(vec![s("x1"), Value::list(vec![s("too deep")]), s("x2")]),
        );
        args.insert("d".to_string(), s("dir"));
        args.insert("ys".to_string(), Value::list(vec![]));
        let mut visited = Vec::new();
        for_each_path(task, &args, |p| {
            visited.push((p.path.to_string(), p.direction, p.param, p.is_dir))
        });
        assert_eq!(
            visited,
            vec![
                ("a".to_string(), Direction::In, 1, false),
                ("x1".to_string(), Direction::Out, 2, false),
                ("x2".to_string(), Direction::Out, 2, false),
                ("dir".to_string(), Direction::InOut, 3, true),
            ]
        );
        let data = call_data(task, &args);
        let listed: Vec<_> = data
            .paths
            .iter()
            .map(|p| (p.path.clone(), p.direction, p.param, p.is_dir))
            .collect();
        assert_eq!(listed, visited);
        assert_eq!(data.futures, vec![FutureId(4)]);
    }
}
