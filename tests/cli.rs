//! The command line (§10): workflow options, `weft run FILE --help`, `weft check` and
//! `weft graph`.

mod common;

use common::{line_of, Project};
use serde_json::Value as Json;

const GREETER: &str = r#"
/// Greets someone, a number of times.
workflow main(
    /// who to greet
    name: str = "world",
    /// how many greetings
    n: int = 1,
    /// shout the greeting
    loud: bool = false,
    ratio: float = 0.5,
    tags: [str] = [],
) {
    for i in range(n) {
        let text = "hello {name} {i}"
        if loud {
            text = text + "!"
        }
        print(text, ratio, tags)
    }
}
"#;

#[test]
fn workflow_options_after_a_double_dash() {
    Project::with_main(GREETER)
        .run(&[
            "--",
            "--name",
            "weft",
            "--n",
            "2",
            "--ratio",
            "2",
            "--tags",
            r#"["a","b"]"#,
        ])
        .success()
        .expect_stdout(&[
            r#"hello weft 0 2.0 ["a","b"]"#,
            r#"hello weft 1 2.0 ["a","b"]"#,
        ]);
}

#[test]
fn workflow_options_right_after_the_file_and_defaults() {
    let project = Project::with_main(GREETER);
    project
        .run(&["--name", "you", "--loud"])
        .success()
        .expect_stdout(&["hello you 0! 0.5 []"]);
    project
        .run(&[])
        .success()
        .expect_stdout(&["hello world 0 0.5 []"]);
    project
        .run(&["--n=2", "--loud", "false"])
        .success()
        .expect_stdout(&["hello world 0 0.5 []", "hello world 1 0.5 []"]);
}

#[test]
fn a_bool_flag_needs_no_value() {
    Project::with_main(GREETER)
        .run(&["--", "--loud", "--name", "flag"])
        .success()
        .expect_stdout(&["hello flag 0! 0.5 []"]);
}

#[test]
fn weft_flags_mix_with_workflow_options() {
    Project::with_main(GREETER)
        .run(&["--name", "mixed", "--sequential", "-j", "1"])
        .success()
        .expect_stdout(&["hello mixed 0 0.5 []"]);
}

#[test]
fn after_a_double_dash_every_option_is_the_workflows() {
    Project::with_main(
        r#"
workflow main(jobs: int = 0, sequential: bool = false) {
    print(jobs, sequential)
}
"#,
    )
    .run(&["--", "--jobs", "3", "--sequential"])
    .success()
    .expect_stdout(&["3 true"]);
}

#[test]
fn an_unknown_option_is_a_usage_error_that_lists_the_known_ones() {
    let project = Project::with_main(GREETER);
    project
        .run(&["--", "--nmae", "x"])
        .expect_status(2)
        .expect_stderr("--nmae")
        .expect_stderr("--name");
    project
        .run(&["--", "--n", "many"])
        .expect_status(2)
        .expect_stderr("--n")
        .expect_stderr("many");
    assert!(!project.exists(".weft"), "nothing ran");
}

#[test]
fn a_required_option_that_is_missing_is_a_usage_error() {
    Project::with_main(
        r#"
workflow main(input: file) {
    print(input)
}
"#,
    )
    .run(&[])
    .expect_status(2)
    .expect_stderr("--input");
}

#[test]
fn run_file_help_lists_the_options_with_their_doc_comments() {
    let outcome = Project::with_main(GREETER).run(&["--help"]);
    outcome.success();
    let help = &outcome.stdout;
    for expected in [
        "Greets someone, a number of times.",
        "--name",
        "who to greet",
        "--n",
        "how many greetings",
        "--loud",
        "shout the greeting",
        "--ratio",
        "--tags",
        "\"world\"",
    ] {
        assert!(help.contains(expected), "help lacks {expected:?}:\n{help}");
    }
    assert!(
        help.find("--name").unwrap() < help.find("--loud").unwrap(),
        "options in declaration order:\n{help}"
    );
}

#[test]
fn workflow_picks_another_entry_point() {
    Project::with_main(
        r#"
workflow main() {
    print("main")
}

workflow other(word: str = "x") {
    print("other {word}")
}
"#,
    )
    .run(&["--workflow", "other", "--", "--word", "y"])
    .success()
    .expect_stdout(&["other y"]);
}

// ---------------------------------------------------------------------------------------------
// weft check
// ---------------------------------------------------------------------------------------------

fn json_lines(stdout: &str) -> Vec<Json> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line:?}: {e}")))
        .collect()
}

#[test]
fn check_json_prints_one_object_per_diagnostic() {
    let source = r#"
task copy(src: file, dst: out file) {
    shell "cp {{src}} {{dst}}"
}

workflow main() {
    copy("a", "b", "c")
    print(undefined_name)
}
"#;
    let project = Project::with_main(source);
    let outcome = project.weft(&["check", "--format", "json", "main.wf"]);
    outcome.expect_status(2);
    let diagnostics = json_lines(&outcome.stdout);
    for d in &diagnostics {
        for key in ["severity", "code", "message", "file", "line", "column"] {
            assert!(d.get(key).is_some(), "{d} lacks {key}");
        }
        assert!(d["line"].as_u64().unwrap() >= 1 && d["column"].as_u64().unwrap() >= 1);
        assert_eq!(d["file"], "main.wf");
    }
    let find = |code: &str| {
        diagnostics
            .iter()
            .find(|d| d["code"] == code)
            .unwrap_or_else(|| panic!("no {code} in {diagnostics:?}"))
    };
    let arity = find("weft::arity");
    assert_eq!(arity["severity"], "error");
    assert_eq!(arity["line"], line_of(source, "copy(\"a\"") as u64);
    let name = find("weft::name");
    assert_eq!(name["line"], line_of(source, "undefined_name") as u64);
    assert_eq!(name["column"], 11);
    assert!(name["message"].as_str().unwrap().contains("undefined_name"));
}

#[test]
fn check_passes_a_clean_program_silently() {
    let project = Project::with_main(GREETER);
    project
        .weft(&["check", "--format", "json", "main.wf"])
        .success()
        .expect_stdout(&[]);
    project.weft(&["check", "main.wf"]).success();
    assert!(!project.exists(".weft"), "check runs nothing");
}

#[test]
fn deny_warnings_turns_an_unused_variable_into_an_error() {
    let source = r#"
workflow main() {
    let unused = 3
    print("hi")
}
"#;
    let project = Project::with_main(source);
    let lenient = project.weft(&["check", "--format", "json", "main.wf"]);
    lenient.success();
    let warnings = json_lines(&lenient.stdout);
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["severity"], "warning");
    assert_eq!(warnings[0]["line"], line_of(source, "let unused") as u64);
    assert!(warnings[0]["message"].as_str().unwrap().contains("unused"));

    let strict = project.weft(&["check", "--deny", "warnings", "--format", "json", "main.wf"]);
    strict.expect_status(2);
    let errors = json_lines(&strict.stdout);
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0]["severity"], "error");
    assert_eq!(errors[0]["code"], warnings[0]["code"]);

    // A warning does not stop a run.
    project.run(&[]).success().expect_stdout(&["hi"]);
}

#[test]
fn check_human_output_shows_the_code_the_line_and_a_snippet() {
    let project = Project::with_main(
        r#"
workflow main() {
    print(nowhere)
}
"#,
    );
    project
        .weft(&["check", "main.wf"])
        .expect_status(2)
        .expect_stderr("weft::name")
        .expect_stderr("main.wf:3")
        .expect_stderr("print(nowhere)");
}

// ---------------------------------------------------------------------------------------------
// weft graph
// ---------------------------------------------------------------------------------------------

const MAP_REDUCE: &str = r#"
/// Counts the words of one file.
task count(text: file, result: out file) {
    shell "wc -w < {{text}} > {{result}}"
}

task merge(parts: [file], total: out file) {
    shell "cat {{parts}} > {{total}}"
}

task report(total: file) -> int {
    shell "wc -l < {{total}}"
}

workflow main(n: int = 4) {
    let parts = []
    group "map" {
        for i in range(n) {
            count("in/{i}.txt", "counts/{i}.txt")
            parts += ["counts/{i}.txt"]
        }
    }
    merge(parts, "total.txt")
    report("total.txt")
    report("total.txt")
}
"#;

fn graph_json(project: &Project, extra: &[&str]) -> Json {
    let mut args = vec!["graph", "main.wf", "--format", "json"];
    args.extend_from_slice(extra);
    let outcome = project.weft(&args);
    outcome.success();
    serde_json::from_str(outcome.stdout.trim()).expect("one JSON object")
}

#[test]
fn graph_json_has_one_node_per_call_and_one_edge_per_dependency() {
    let project = Project::with_main(MAP_REDUCE);
    let graph = graph_json(&project, &[]);
    let nodes = graph["nodes"].as_array().unwrap();
    let edges = graph["edges"].as_array().unwrap();
    assert_eq!(nodes.len(), 7);
    assert_eq!(edges.len(), 6);
    let count_line = line_of(MAP_REDUCE, "count(\"in/") as u64;
    let merge_line = line_of(MAP_REDUCE, "merge(parts, ") as u64;
    for node in &nodes[..4] {
        assert_eq!(node["task"], "count");
        assert_eq!(node["group"], "map");
        assert_eq!(node["line"], count_line);
    }
    assert_eq!(nodes[4]["task"], "merge");
    assert_eq!(nodes[4]["group"], Json::Null);
    assert_eq!(nodes[4]["line"], merge_line);
    let line_of_id = |id: &Json| {
        nodes
            .iter()
            .find(|n| &n["id"] == id)
            .map(|n| n["line"].as_u64().unwrap())
            .unwrap()
    };
    let mut edge_lines: Vec<(u64, u64)> = edges
        .iter()
        .map(|e| (line_of_id(&e["from"]), line_of_id(&e["to"])))
        .collect();
    edge_lines.sort();
    let report_line = merge_line + 1;
    assert_eq!(
        edge_lines,
        vec![
            (count_line, merge_line),
            (count_line, merge_line),
            (count_line, merge_line),
            (count_line, merge_line),
            (merge_line, report_line),
            (merge_line, report_line + 1),
        ]
    );
    // Workflow options shape the graph as they shape the run.
    let bigger = graph_json(&project, &["--", "--n", "6"]);
    assert_eq!(bigger["nodes"].as_array().unwrap().len(), 9);
    assert_eq!(bigger["edges"].as_array().unwrap().len(), 8);
    assert!(
        !project.exists(".weft") && !project.exists("total.txt"),
        "graph runs nothing"
    );
}

#[test]
fn graph_dot_draws_groups_as_clusters() {
    let project = Project::with_main(MAP_REDUCE);
    let outcome = project.weft(&["graph", "main.wf", "--format", "dot"]);
    outcome.success();
    let dot = &outcome.stdout;
    assert!(dot.trim_start().starts_with("digraph"), "{dot}");
    assert!(dot.contains("subgraph cluster_"), "{dot}");
    assert!(dot.contains("map"), "{dot}");
    assert_eq!(dot.matches("->").count(), 6, "{dot}");
    // dot is the default format.
    let default = project.weft(&["graph", "main.wf"]);
    assert_eq!(default.success().stdout, outcome.stdout);
}

#[test]
fn graph_mermaid_is_a_flowchart_with_a_subgraph() {
    let project = Project::with_main(MAP_REDUCE);
    let outcome = project.weft(&["graph", "main.wf", "--format", "mermaid"]);
    outcome.success();
    let mermaid = &outcome.stdout;
    assert!(mermaid.trim_start().starts_with("flowchart"), "{mermaid}");
    assert!(mermaid.contains("subgraph"), "{mermaid}");
    assert_eq!(mermaid.matches("-->").count(), 6, "{mermaid}");
}

#[test]
fn graph_output_file() {
    let project = Project::with_main(MAP_REDUCE);
    project
        .weft(&["graph", "main.wf", "--format", "json", "-o", "graph.json"])
        .success()
        .expect_stdout(&[]);
    let written: Json = serde_json::from_str(&project.read("graph.json")).unwrap();
    assert_eq!(written, graph_json(&project, &[]));
    project
        .weft(&["graph", "main.wf", "--output", "graph.dot"])
        .success();
    assert!(project.read("graph.dot").contains("subgraph cluster_"));
}

#[test]
fn graph_shows_doc_comments() {
    let project = Project::with_main(MAP_REDUCE);
    for format in ["dot", "mermaid", "json"] {
        let outcome = project.weft(&["graph", "main.wf", "--format", format]);
        outcome.success();
        assert!(
            outcome.stdout.contains("Counts the words of one file."),
            "{format}:\n{}",
            outcome.stdout
        );
    }
}

#[test]
fn graph_stops_where_a_value_only_a_run_can_give_is_needed() {
    let project = Project::with_main(
        r#"
task count() -> int {
    shell "echo 3"
}

task work(i: int) {
    shell "echo {{i}}"
}

workflow main() {
    work(0)
    let n = count()
    for i in range(n) {
        work(i)
    }
}
"#,
    );
    let graph = graph_json(&project, &[]);
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 2);
    assert_eq!(graph["edges"].as_array().unwrap().len(), 0);
}

#[test]
fn programs_that_are_wrong_exit_2_and_run_nothing() {
    let project = Project::with_main(
        r#"
task t(o: out file) {
    shell "echo ran > {{o}}"
}

workflow main() {
    t("ran.txt")
    print("x"
}
"#,
    );
    project
        .run(&[])
        .expect_status(2)
        .expect_stdout(&[])
        .expect_stderr("weft::syntax")
        .expect_stderr("main.wf:9");
    project
        .weft(&["run", "missing.wf"])
        .expect_status(2)
        .expect_stderr("missing.wf");
    assert!(!project.exists("ran.txt") && !project.exists(".weft"));
}

#[test]
fn a_file_with_several_workflows_and_no_main_needs_workflow() {
    let project = Project::with_main(
        r#"
workflow first() {
    print("first")
}

workflow second() {
    print("second")
}
"#,
    );
    project
        .run(&[])
        .expect_status(2)
        .expect_stderr("`first`")
        .expect_stderr("`second`")
        .expect_stderr("--workflow");
    project
        .run(&["--workflow", "second"])
        .success()
        .expect_stdout(&["second"]);
    project
        .run(&["--workflow", "third"])
        .expect_status(2)
        .expect_stderr("third");
}

#[test]
fn graph_takes_workflow_options_and_needs_the_required_ones() {
    let project = Project::with_main(
        r#"
task t(o: out file) {
    shell "echo > {{o}}"
}

workflow main(n: int) {
    for i in range(n) {
        t("f{i}")
    }
}
"#,
    );
    project
        .weft(&["graph", "main.wf", "--format", "json"])
        .expect_status(2)
        .expect_stderr("--n");
    let graph = graph_json(&project, &["--", "--n", "3"]);
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 3);
}
