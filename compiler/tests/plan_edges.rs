//! The exact edge sets the planner gives for small programs, one dependency rule each (§7).

use std::path::Path;

use indexmap::IndexMap;
use weft_compiler::plan::{plan_workflow, Plan};
use weft_compiler::program::Program;

const TASKS: &str = r#"
task w(o: out file) { shell "true" }
task r(i: file) { shell "true" }
task rw(f: inout file) { shell "true" }
task c(f: concurrent file) { shell "true" }
task m(f: commutative file) { shell "true" }
task rl(xs: [file]) { shell "true" }
task rl1(xs: [[file]] depth 1) { shell "true" }
task wl(xs: out [[file]]) { shell "true" }
task num() -> int { shell "echo 1" }
task use_num(n: int) { shell "true" }
task push(j: inout json) { shell "true" }
task show(j: json) { shell "true" }
"#;

/// Plans `main` with `body` and returns its edges as (from, to) call indices.
fn edges(body: &str) -> (Plan, Vec<(u64, u64)>) {
    let text = format!("{TASKS}\nworkflow main() {{\n{body}\n}}\n");
    let program = Program::from_source(Path::new("/plan/main.wf"), text)
        .unwrap_or_else(|d| panic!("does not parse: {d:?}"));
    let workflow = program.entry_workflow(None).expect("main");
    let plan = plan_workflow(
        &program,
        program.root,
        workflow,
        IndexMap::new(),
        Path::new("/plan"),
        &mut |_, _| None,
    )
    .expect("plans");
    let mut e: Vec<_> = plan.edges.iter().map(|e| (e.from, e.to)).collect();
    e.sort();
    (plan, e)
}

#[test]
fn read_after_write() {
    assert_eq!(edges(r#"w("a"); r("a"); r("b")"#).1, vec![(0, 1)]);
}

#[test]
fn write_after_read_and_write_after_write_add_no_edge() {
    let (_, e) = edges(r#"w("a"); r("a"); w("a"); w("a"); r("a")"#);
    assert_eq!(e, vec![(0, 1), (3, 4)]);
}

#[test]
fn inout_chains() {
    let (_, e) = edges(r#"w("a"); rw("a"); rw("a"); r("a")"#);
    assert_eq!(e, vec![(0, 1), (1, 2), (2, 3)]);
}

#[test]
fn concurrent_runs_share_the_writer_before_them() {
    let (_, e) = edges(r#"w("a"); c("a"); c("a"); r("a")"#);
    assert_eq!(e, vec![(0, 1), (0, 2), (1, 3), (2, 3)]);
}

#[test]
fn commutative_runs_and_the_access_after_them() {
    let (_, e) = edges(r#"w("a"); m("a"); m("a"); m("a"); rw("a")"#);
    assert_eq!(e, vec![(0, 1), (0, 2), (0, 3), (1, 4), (2, 4), (3, 4)]);
}

#[test]
fn collections_are_tracked_to_every_level_by_default() {
    let (_, e) = edges(r#"wl([["a", "b"], ["c"]]); rl(["c"]); r("b")"#);
    assert_eq!(e, vec![(0, 1), (0, 2)]);
}

#[test]
fn depth_limits_how_far_down_a_collection_is_tracked() {
    // With depth 1 the inner lists are values, not files: no edge from the writer.
    let (_, e) = edges(r#"wl([["a"]]); rl1([["a"]])"#);
    assert_eq!(e, vec![]);
}

#[test]
fn body_writes_wait_and_start_a_new_version() {
    let (_, e) = edges(r#"w("a"); write("a", "x"); r("a")"#);
    assert_eq!(e, vec![]);
}

#[test]
fn deletes_forget_the_file() {
    let (_, e) = edges(r#"w("a"); delete("a"); r("a")"#);
    assert_eq!(e, vec![]);
}

#[test]
fn futures_passed_on_are_read_after_write() {
    let (_, e) = edges("let n = num()\nuse_num(n)\nuse_num(n)");
    assert_eq!(e, vec![(0, 1), (0, 2)]);
}

#[test]
fn inout_json_values_chain_through_the_rebound_variable() {
    let (_, e) = edges("let j = [1]\npush(j)\npush(j)\nshow(j)");
    assert_eq!(e, vec![(0, 1), (1, 2)]);
}

#[test]
fn the_planner_stops_where_the_body_needs_a_value() {
    let (plan, _) = edges("let n = num()\nif n > 0 {\n    w(\"a\")\n}\nr(\"a\")");
    assert_eq!(plan.nodes.len(), 1);
    let sync = plan.sync.expect("a sync point");
    let text = format!("{TASKS}\nworkflow main() {{\n");
    let if_line = text.lines().count() + 2;
    assert_eq!(sync.line, if_line, "the `if` that needs `n`");
}

#[test]
fn groups_name_their_nodes() {
    let (plan, _) =
        edges("group \"g\" {\n    w(\"a\")\n    group \"h\" {\n        r(\"a\")\n    }\n}");
    assert_eq!(plan.nodes[0].group.as_deref(), Some("g"));
    assert_eq!(plan.nodes[1].group.as_deref(), Some("h"));
    assert_eq!(plan.nodes[1].groups, vec!["g".to_string(), "h".to_string()]);
    assert!(plan.to_dot().contains("subgraph cluster_"));
    assert!(plan.to_mermaid().contains("subgraph"));
}

#[test]
fn a_body_polling_for_a_file_stops_the_plan_instead_of_spinning() {
    // Nothing planned writes `flag`: asking again can only be waiting for the run.
    let (plan, _) = edges("w(\"a\")\nwhile not exists(\"flag\") {\n    let x = 1\n}\nr(\"a\")");
    assert_eq!(plan.nodes.len(), 1, "the call before the loop is planned");
    let sync = plan.sync.expect("a sync point");
    assert!(sync.reason.contains("`flag`"), "{}", sync.reason);
}

#[test]
fn an_existence_asked_once_is_read_from_the_disk() {
    let (plan, _) = edges("if exists(\"/no/such/input\") {\n    w(\"a\")\n}\nr(\"b\")");
    assert!(plan.sync.is_none());
    assert_eq!(plan.nodes.len(), 1);
}
