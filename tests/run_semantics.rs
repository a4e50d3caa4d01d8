//! `weft run`: what a program means whatever order its tasks finish in (§4.5, §5, §7).
//! Futures, returns, printed output, file versions and the body's own file operations.

mod common;

use common::{cores, Project};

#[test]
fn print_follows_program_order_while_tasks_finish_out_of_order() {
    let project = Project::with_main(
        r#"
/// Sleeps, notes when it finished, and returns its word.
task after(delay: float, word: str) -> str {
    shell "sleep {{delay}}; echo {{word}} >> finished.log; echo {{word}}"
}

workflow main() {
    let slow = after(0.8, "slow")
    let quick = after(0.0, "quick")
    let middle = after(0.4, "middle")
    print("1 {slow}")
    print("2 {quick}")
    print("3 {middle}")
}
"#,
    );
    project.config(&cores(4));
    project
        .run(&[])
        .success()
        .expect_stdout(&["1 slow", "2 quick", "3 middle"]);
    // The tasks did run at the same time: they finished in the order of their sleeps.
    assert_eq!(project.read("finished.log"), "quick\nmiddle\nslow\n");
}

#[test]
fn futures_are_waited_for_wherever_the_body_needs_their_value() {
    let project = Project::with_main(
        r#"
task number(n: int) -> int {
    shell "echo {{n}}"
}

task letters() -> [str] {
    shell "printf 'a\nb\nc\n'"
}

task twice(n: int) -> int {
    shell "echo $(( {{n}} * 2 ))"
}

workflow main() {
    let x = number(20)
    print("interpolated {x}")
    print("arithmetic", x * 2 + 1, x / 8, div(x, 3), x % 7)
    if number(1) == 1 {
        print("if taken")
    } else {
        print("if not taken")
    }
    for letter in letters() {
        print("for {letter}")
    }
    print("indexed", letters()[1])
    let parts = [number(1), number(2), number(3)]
    print("len", len(parts))
    print("sum", sum(parts), "max", max(parts))
    print(parts)
    // A future handed to a task is a read of it: no wait in the body.
    print("passed", twice(twice(number(5))))
    let countdown = number(3)
    while countdown > 0 {
        countdown = countdown - 1
    }
    print("while", countdown)
    print("compared", number(2) < number(10), str(number(7)) + "!")
}
"#,
    );
    project.run(&[]).success().expect_stdout(&[
        "interpolated 20",
        "arithmetic 41 2.5 6 6",
        "if taken",
        "for a",
        "for b",
        "for c",
        "indexed b",
        "len 3",
        "sum 6 max 3",
        "[1,2,3]",
        "passed 20",
        "while 0",
        "compared true 7!",
    ]);
}

#[test]
fn tuple_returns_unpack_into_futures() {
    let project = Project::with_main(
        r#"
/// Writes its tuple to WEFT_RETURN.
task stats(xs: [int]) -> (int, float, str) {
    script "python3" """
        import json, os
        xs = json.load(open(os.environ["WEFT_ARGS"]))["xs"]
        json.dump([sum(xs), sum(xs) / len(xs), "n=%d" % len(xs)], open(os.environ["WEFT_RETURN"], "w"))
    """
}

/// Prints its tuple as a JSON array on standard output.
task bounds(a: int, b: int) -> (int, int) {
    shell "echo \"[{{a}}, {{b}}]\""
}

workflow main() {
    let (total, mean, label) = stats([1, 2, 3, 6])
    print(total, mean, label)
    let (low, high) = bounds(3, 9)
    print(high - low)
    let pair = bounds(1, 2)
    print(pair)
}
"#,
    );
    project
        .run(&[])
        .success()
        .expect_stdout(&["12 3.0 n=4", "6", "[1,2]"]);
}

#[test]
fn returns_of_every_type_from_standard_output() {
    let project = Project::with_main(
        r#"
task an_int() -> int { shell "echo '  42  '" }
task a_float() -> float { shell "echo 2.5e-3" }
task a_bool() -> bool { shell "echo true" }
task a_str() -> str { shell "printf '  two words \n\n'" }
task a_json() -> json { shell "echo '{\"k\": [1, null, true]}'" }
task a_file() -> file { shell "echo data/x.txt" }
task ints() -> [int] { shell "printf '1\n2\n\n3\n'" }
task floats() -> [float] { shell "echo '[1, 2.5]'" }
task nested() -> [[str]] { shell "echo '[[\"a\"], []]'" }

workflow main() {
    print(an_int() + 1)
    print(a_float())
    print(a_bool(), not a_bool())
    print("[{a_str()}]")
    print(a_json(), a_json()["k"][2])
    print(a_file(), basename(a_file()))
    print(ints(), floats(), nested())
}
"#,
    );
    project.run(&[]).success().expect_stdout(&[
        "43",
        "0.0025",
        "true false",
        "[  two words ",
        "]",
        r#"{"k":[1,null,true]} true"#,
        "data/x.txt x.txt",
        "[1,2,3] [1.0,2.5] [[\"a\"],[]]",
    ]);
}

#[test]
fn returns_of_every_type_from_weft_return() {
    let project = Project::with_main(
        r#"
/// Returns the JSON text it is given, through WEFT_RETURN, whatever its standard output.
task from_json(text: str) -> json {
    shell "echo noise; printf '%s' {{text}} > \"$WEFT_RETURN\""
}
task an_int() -> int { shell "echo 1; echo 7 > \"$WEFT_RETURN\"" }
task a_float() -> float { shell "echo 3 > \"$WEFT_RETURN\"" }
task a_bool() -> bool { shell "echo false > \"$WEFT_RETURN\"" }
task a_str() -> str { shell "echo '\"line\\nbreak\"' > \"$WEFT_RETURN\"" }
task files() -> [file] { shell "echo '[\"a.txt\", \"b/c.txt\"]' > \"$WEFT_RETURN\"" }

workflow main() {
    print(from_json("[1, 2.0, \{\"a\": null\}]"))
    print(an_int(), a_float(), a_bool())
    print(a_str())
    print(files())
}
"#,
    );
    project.run(&[]).success().expect_stdout(&[
        r#"[1,2.0,{"a":null}]"#,
        "7 3.0 false",
        "line",
        "break",
        r#"["a.txt","b/c.txt"]"#,
    ]);
}

#[test]
fn a_return_value_that_does_not_parse_fails_the_task_naming_the_type() {
    let project = Project::with_main(
        r#"
task count() -> int {
    on_failure fail
    shell "echo many"
}

workflow main() {
    print(count())
}
"#,
    );
    project
        .run(&[])
        .expect_status(1)
        .expect_stderr("count")
        .expect_stderr("an int");
}

#[test]
fn print_writes_values_as_python_and_json_would() {
    let project = Project::with_main(
        r#"
task half(n: int) -> float {
    shell "echo $(( {{n}} / 2 )).5"
}

workflow main() {
    print(3, 3.5, 3.0, 1e-7, 0.1 + 0.2, 1e16, 1_000_000)
    print(true, false, null, "text", ["a", 1, 2.0, null], {"k": {"n": [true]}})
    print(half(7), half(7) * 2, 7 / 2, 6 / 2, div(-7, 2), -7 % 3)
    print(1KiB, 1MB, 250ms, 2m)
    print()
}
"#,
    );
    project.run(&[]).success().expect_stdout(&[
        "3 3.5 3.0 1e-07 0.30000000000000004 1e+16 1000000",
        r#"true false null text ["a",1,2.0,null] {"k":{"n":[true]}}"#,
        "3.5 7.0 3.5 3.0 -4 2",
        "1024 1000000 0.25 120.0",
        "",
    ]);
}

#[test]
fn a_later_writer_does_not_wait_for_an_earlier_reader_and_the_reader_sees_its_version() {
    let project = Project::with_main(
        r#"
task put(text: str, dst: out file) {
    shell "printf '%s\n' {{text}} > {{dst}}; touch put-{{text}}.done"
}

/// Copies its source only once `put("v3", …)` has finished: were it made to wait for that
/// later writer (a false dependency), it would time out and fail the run.
task late_copy(src: file, dst: out file) {
    on_failure fail
    shell """
        for i in $(seq 1 200); do [ -e put-v3.done ] && break; sleep 0.05; done
        [ -e put-v3.done ]
        cp {{src}} {{dst}}
    """
}

task copy(src: file, dst: out file) {
    binary "cp"
}

workflow main() {
    put("v1", "data.txt")
    late_copy("data.txt", "seen-by-reader.txt")   // reads v1
    put("v2", "data.txt")                         // write after read: no wait
    put("v3", "data.txt")                         // write after write: no wait
    copy("data.txt", "final.txt")                 // read after write: waits for v3
}
"#,
    );
    project.config(&cores(3));
    project.run(&[]).success();
    assert_eq!(project.read("data.txt"), "v3\n");
    assert_eq!(project.read("seen-by-reader.txt"), "v1\n");
    assert_eq!(project.read("final.txt"), "v3\n");
}

#[test]
fn inout_chains_run_in_order_and_a_slow_reader_keeps_its_version() {
    let project = Project::with_main(
        r#"
task append(log: inout file, line: str) {
    shell "echo {{line}} >> {{log}}"
}

task slow_copy(src: file, dst: out file) {
    shell "sleep 0.5; cp {{src}} {{dst}}"
}

workflow main() {
    write("log.txt", "start\n")
    append("log.txt", "one")
    slow_copy("log.txt", "after-one.txt")
    for word in ["two", "three", "four"] {
        append("log.txt", word)
    }
    print(read("log.txt"))
}
"#,
    );
    project
        .run(&[])
        .success()
        .expect_stdout(&["start", "one", "two", "three", "four", ""]);
    assert_eq!(project.read("after-one.txt"), "start\none\n");
    assert_eq!(project.read("log.txt"), "start\none\ntwo\nthree\nfour\n");
}

#[test]
fn inout_json_arguments_are_rebound_and_other_holders_keep_the_old_value() {
    let project = Project::with_main(
        r#"
task add(state: inout json, key: str, n: int) {
    script "python3" """
        import json, os
        a = json.load(open(os.environ["WEFT_ARGS"]))
        state = a["state"]
        state[a["key"]] = a["n"]
        json.dump(state, open(os.environ["WEFT_OUT_state"], "w"))
    """
}

task fresh(result: out json) {
    shell "echo '[\"made\"]' > \"$WEFT_OUT_result\""
}

workflow main() {
    let state = {"a": 1}
    let before = state
    add(state, "b", 2)
    add(state, "c", 3)
    print(state)
    print(before)
    let box = {"inner": {}}
    add(box["inner"], "x", 9)
    print(box)
    let made = null
    fresh(made)
    print(made)
}
"#,
    );
    project.run(&[]).success().expect_stdout(&[
        r#"{"a":1,"b":2,"c":3}"#,
        r#"{"a":1}"#,
        r#"{"inner":{"x":9}}"#,
        r#"["made"]"#,
    ]);
}

#[test]
fn an_out_dir_starts_empty_and_replaces_the_users_directory() {
    let project = Project::with_main(
        r#"
/// Notes how many entries its directory had when it started, then fills it.
task fill(d: out dir, n: int) {
    shell """
        n=$(ls -A {{d}} | wc -l | tr -d ' '); echo "$n" > {{d}}/entries-at-start
        for i in $(seq 1 {{n}}); do echo $i > {{d}}/part$i.txt; done
    """
}

task grow(d: inout dir) {
    shell "echo extra > {{d}}/extra.txt"
}

task list(d: dir) -> str {
    shell "ls {{d}} | tr '\n' ' '"
}

workflow main() {
    fill("results", 2)
    print(list("results"))
    grow("results")
    print(list("results"))
}
"#,
    );
    project.write("results/stale.txt", "from before the run\n");
    project.run(&[]).success().expect_stdout(&[
        "entries-at-start part1.txt part2.txt ",
        "entries-at-start extra.txt part1.txt part2.txt ",
    ]);
    assert_eq!(project.read("results/entries-at-start"), "0\n");
    assert!(!project.exists("results/stale.txt"));
    assert_eq!(project.read("results/extra.txt"), "extra\n");
}

#[test]
fn collections_of_files_are_written_and_read_element_by_element() {
    let project = Project::with_main(
        r#"
/// Deals the lines of `src` round-robin into `parts`.
task deal(src: file, parts: out [file]) {
    script "python3" """
        import json, os
        a = json.load(open(os.environ["WEFT_ARGS"]))
        lines = open(a["src"]).read().splitlines()
        n = len(a["parts"])
        for i, p in enumerate(a["parts"]):
            open(p, "w").write("".join(l + "\n" for l in lines[i::n]))
    """
}

task upper(src: file, dst: out file) {
    shell "tr a-z A-Z < {{src}} > {{dst}}"
}

task gather(parts: [file], all: out file) {
    shell "cat {{parts}} > {{all}}"
}

workflow main() {
    write("letters.txt", "a\nb\nc\nd\ne\n")
    let parts = ["deal/p0.txt", "deal/p1.txt"]
    deal("letters.txt", parts)
    let shouted = []
    for (i, p) in enumerate(parts) {
        upper(p, "up/u{i}.txt")
        shouted += ["up/u{i}.txt"]
    }
    gather(shouted, "all.txt")
    print(read("all.txt"))
}
"#,
    );
    project
        .run(&[])
        .success()
        .expect_stdout(&["A", "C", "E", "B", "D", ""]);
    assert_eq!(project.read("deal/p0.txt"), "a\nc\ne\n");
    assert_eq!(project.read("deal/p1.txt"), "b\nd\n");
}

/// The program of the `depth` tests: `probe` reports, for each file of its nested list,
/// whether it existed when the probe ran; `make` writes its file after a pause.
fn depth_program(modifier: &str) -> String {
    format!(
        r#"
task make(o: out file) {{
    shell "sleep 1.5; echo made > {{{{o}}}}"
}}

task probe(groups: [[file]]{modifier}, report: out file) {{
    script "python3" """
        import json, os
        a = json.load(open(os.environ["WEFT_ARGS"]))
        seen = ["present" if os.path.exists(p) else "missing" for g in a["groups"] for p in g]
        open(a["report"], "w").write(" ".join(seen))
    """
}}

workflow main() {{
    make("inner/a.txt")
    probe([["inner/a.txt"]], "report.txt")
}}
"#
    )
}

#[test]
fn collections_are_tracked_at_every_level_by_default() {
    let project = Project::with_main(&depth_program(""));
    project.run(&[]).success();
    assert_eq!(project.read("report.txt"), "present");
    let graph = project.weft(&["graph", "main.wf", "--format", "json"]);
    let graph: serde_json::Value = serde_json::from_str(graph.success().stdout.trim()).unwrap();
    assert_eq!(graph["edges"].as_array().unwrap().len(), 1);
}

#[test]
fn depth_stops_dependency_tracking_below_that_level() {
    // With `depth 1` the inner lists are opaque values: no dependency on `make`, and the
    // probe is handed the paths as written, before `make` has written them.
    let project = Project::with_main(&depth_program(" depth 1"));
    project.run(&[]).success();
    assert_eq!(project.read("report.txt"), "missing");
    assert_eq!(project.read("inner/a.txt"), "made\n");
    let graph = project.weft(&["graph", "main.wf", "--format", "json"]);
    let graph: serde_json::Value = serde_json::from_str(graph.success().stdout.trim()).unwrap();
    assert_eq!(graph["edges"].as_array().unwrap().len(), 0);
}

#[test]
fn a_failing_writer_never_leaves_a_half_written_file_at_the_users_path() {
    let project = Project::with_main(
        r#"
task spoil(dst: out file) {
    shell "echo partial > {{dst}}; echo spoil-went-wrong >&2; exit 3"
}

workflow main() {
    spoil("keep.txt")
}
"#,
    );
    project.write("keep.txt", "precious\n");
    project
        .run(&[])
        .expect_status(1)
        .expect_stderr("spoil")
        .expect_stderr("exit status 3")
        .expect_stderr("spoil-went-wrong");
    assert_eq!(project.read("keep.txt"), "precious\n");
    // Default policy retry(1): two attempts, each with its own logs under .weft/.
    let attempts = project.attempt_dirs("spoil");
    assert_eq!(attempts.len(), 2, "attempts: {attempts:?}");
    for attempt in &attempts {
        let stderr = std::fs::read_to_string(attempt.join("stderr.log")).unwrap();
        assert_eq!(stderr, "spoil-went-wrong\n");
        assert!(attempt.join("stdout.log").exists());
    }
    // The half-written version stays in weft's own store, never at the user's path.
    let versions = std::fs::read_dir(project.path(".weft/runs"))
        .unwrap()
        .flatten()
        .map(|run| run.path().join("versions"))
        .find(|v| v.exists())
        .expect("a versions folder");
    assert!(
        files_under(&versions)
            .iter()
            .any(|f| std::fs::read_to_string(f).unwrap_or_default() == "partial\n"),
        "no partial version under {}",
        versions.display()
    );
}

fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn tasks_get_versioned_paths_under_weft_and_user_paths_for_data_found_on_disk() {
    let project = Project::with_main(
        r#"
task show(src: file, dst: out file) {
    shell "echo {{src}} > {{dst}}; echo {{dst}} >> {{dst}}"
}

workflow main() {
    show("data/input.txt", "paths.txt")
}
"#,
    );
    project.write("data/input.txt", "x\n");
    project.run(&[]).success();
    let paths = project.read("paths.txt");
    let lines: Vec<&str> = paths.lines().collect();
    assert_eq!(lines[0], "data/input.txt");
    assert!(
        lines[1].starts_with(".weft/runs/") && lines[1].ends_with("/paths.txt"),
        "the out path handed to the task: {}",
        lines[1]
    );
}

#[test]
fn every_attempt_gets_its_identity_in_the_environment() {
    let project = Project::with_main(
        r#"
task who(o: out file) {
    env { GREETING: "hi " + "there" }
    shell "echo \"$WEFT_TASK $WEFT_TASK_ID $WEFT_ATTEMPT $GREETING\" > {{o}}; [ ! -e \"$WEFT_RETURN\" ] && [ ! -e \"$WEFT_RAISE\" ]"
}

workflow main() {
    who("a.txt")
    who("b.txt")
}
"#,
    );
    project.run(&[]).success();
    let (a, b) = (project.read("a.txt"), project.read("b.txt"));
    let fields =
        |text: &str| -> Vec<String> { text.split_whitespace().map(String::from).collect() };
    let (a, b) = (fields(&a), fields(&b));
    assert_eq!(a.len(), 5, "{a:?}");
    assert_eq!((a[0].as_str(), a[2].as_str()), ("who", "1"));
    assert_eq!(&a[3..], ["hi", "there"]);
    assert!(a[1].parse::<u64>().is_ok() && b[1].parse::<u64>().is_ok());
    assert_ne!(a[1], b[1], "task ids are unique in the run");
}

#[test]
fn body_writes_and_reads_are_ordered_with_the_tasks() {
    let project = Project::with_main(
        r#"
task slow_copy(src: file, dst: out file) {
    shell "sleep 0.5; cp {{src}} {{dst}}"
}

task bump(doc: inout file) {
    script "python3" """
        import json, os
        path = json.load(open(os.environ["WEFT_ARGS"]))["doc"]
        doc = json.load(open(path))
        doc["n"] += 1
        json.dump(doc, open(path, "w"))
    """
}

/// Reads a path it is given as a plain string: only the body's `write` makes it exist.
task peek(name: str) -> str {
    shell "cat {{name}}"
}

workflow main() {
    write("note.txt", "first\n")
    slow_copy("note.txt", "copy.txt")
    write("note.txt", "second\n")      // waits for slow_copy, which reads the first text
    print(read("copy.txt") + read("note.txt"))
    print(peek("note.txt"))
    write_json("doc.json", {"n": 1, "tags": ["x"]})
    bump("doc.json")
    bump("doc.json")
    let doc = read_json("doc.json")
    print(doc["n"], doc.tags)
}
"#,
    );
    project
        .run(&[])
        .success()
        .expect_stdout(&["first", "second", "", "second", r#"3 ["x"]"#]);
    assert_eq!(project.read("copy.txt"), "first\n");
}

#[test]
fn exists_answers_without_waiting_and_delete_waits_for_earlier_readers() {
    let project = Project::with_main(
        r#"
task make(o: out file) {
    shell "sleep 0.3; echo made > {{o}}"
}

task slow_copy(src: file, dst: out file) {
    shell "sleep 0.5; cp {{src}} {{dst}}"
}

workflow main() {
    print(exists("made.txt"), exists("present.txt"))
    make("made.txt")
    print(exists("made.txt"))
    slow_copy("present.txt", "copy.txt")
    delete("present.txt")                 // removed only once slow_copy has read it
    print(exists("present.txt"))
    delete("made.txt")
    print(exists("made.txt"))
}
"#,
    );
    project.write("present.txt", "here\n");
    project
        .run(&[])
        .success()
        .expect_stdout(&["false true", "true", "false", "false"]);
    assert_eq!(project.read("copy.txt"), "here\n");
    assert!(!project.exists("present.txt"));
    assert!(!project.exists("made.txt"));
}

#[test]
fn glob_waits_for_the_tasks_that_write_matching_files() {
    let project = Project::with_main(
        r#"
task emit(i: int, o: out file) {
    shell "sleep 0.{{i}}; echo {{i}} > {{o}}"
}

workflow main() {
    for i in [3, 1, 2] {
        emit(i, "parts/p{i}.txt")
    }
    emit(1, "elsewhere/q.txt")
    let found = glob("parts/*.txt")
    print(found)
    for f in found {
        print(stem(f), read(f))
    }
}
"#,
    );
    project.run(&[]).success().expect_stdout(&[
        r#"["parts/p1.txt","parts/p2.txt","parts/p3.txt"]"#,
        "p1 1",
        "",
        "p2 2",
        "",
        "p3 3",
        "",
    ]);
}

#[test]
fn null_is_nothing_in_templates_and_argv() {
    let project = Project::with_main(
        r#"
task quoted(x: json, o: out file) {
    shell "printf '[%s]' {{x}} > {{o}}"
}

task argv(x: json, o: out file as stdout) {
    binary "printf" args ["<%s>", "a", x, "b"]
}

workflow main() {
    quoted(null, "quoted.txt")
    argv(null, "argv.txt")
}
"#,
    );
    project.run(&[]).success();
    assert_eq!(project.read("quoted.txt"), "[]");
    assert_eq!(project.read("argv.txt"), "<a><b>");
}

/// Programs whose tasks talk only through their parameters: `--sequential` must give the
/// same printed lines and files as the parallel run.
const EQUIVALENT_PROGRAMS: [&str; 5] = [
    r#"
task square(n: int, o: out file) {
    shell "sleep 0.$(( 3 - {{n}} % 3 )); echo $(( {{n}} * {{n}} )) > {{o}}"
}

task add(parts: [file]) -> int {
    shell "cat {{parts}} | awk '{s += $1} END {print s}'"
}

workflow main() {
    let parts = []
    for i in range(5) {
        square(i, "sq/{i}.txt")
        parts += ["sq/{i}.txt"]
    }
    print("total", add(parts))
    square(9, "sq/0.txt")
    print(read("sq/0.txt"))
}
"#,
    r#"
task append(log: inout file, word: str) {
    shell "sleep 0.1; echo {{word}} >> {{log}}"
}

task snapshot(src: file, dst: out file) {
    shell "sleep 0.3; cp {{src}} {{dst}}"
}

workflow main() {
    write("log.txt", "")
    for (i, w) in enumerate(["a", "b", "c", "d"]) {
        append("log.txt", w)
        snapshot("log.txt", "snap{i}.txt")
    }
    print(read("snap1.txt"))
}
"#,
    r#"
task probe(i: int) -> int {
    shell """
        if [ {{i}} -eq 2 ]; then echo "hit {{i}}" > "$WEFT_RAISE"; exit 0; fi
        echo {{i}}
    """
}

task keep(i: int, o: out file) {
    shell "echo kept {{i}} > {{o}}"
}

workflow main() {
    try {
        group "scan" {
            for i in range(4) {
                probe(i)
            }
        }
    } catch e {
        print("caught", e.message, e.task, e.group)
    }
    keep(1, "kept.txt")
    let v = probe(7)
    if v > 5 {
        print("big", v)
    }
}
"#,
    r#"
task fill(d: out dir, n: int) {
    shell "sleep 0.2; for i in $(seq 1 {{n}}); do echo $i > {{d}}/f$i.txt; done"
}

task add_one(d: inout dir) {
    shell "echo extra > {{d}}/extra.txt"
}

task flaky_sum(parts: [file]) -> int {
    on_failure ignore
    shell "cat {{parts}} | awk '{s += $1} END {print s}'; [ $(cat {{parts}} | wc -l) -lt 5 ]"
}

task stats(d: dir) -> (int, str) {
    shell "echo \"[$(ls {{d}} | wc -l), \\\"$(ls {{d}} | head -n 1)\\\"]\""
}

workflow main() {
    fill("dir", 3)
    let (count, first) = stats("dir")
    add_one("dir")
    let (count2, _first2) = stats("dir")
    print(count, first, count2)
    let parts = glob("dir/f*.txt")
    print(flaky_sum(parts))
    fill("dir", 6)
    print(flaky_sum(glob("dir/f*.txt")))
    print(exists("dir/extra.txt"))
}
"#,
    r#"
task push(xs: inout json, x: int) {
    script "python3" """
        import json, os, time
        a = json.load(open(os.environ["WEFT_ARGS"]))
        time.sleep(0.05 * (3 - a["x"] % 3))
        json.dump(a["xs"] + [a["x"]], open(os.environ["WEFT_OUT_xs"], "w"))
    """
}

task dump(xs: json, o: out file) {
    shell "echo {{xs}} > {{o}}"
}

task tmp(o: out file) {
    shell "echo scratch > {{o}}"
}

workflow main() {
    let lists = {"a": [], "b": [0]}
    for i in range(4) {
        push(lists["a"], i)
        push(lists["b"], i * 10)
    }
    dump(lists, "lists.json")
    tmp("scratch.txt")
    delete("scratch.txt")
    print(exists("scratch.txt"), lists)
    write_json("final.json", lists)
    print(read_json("final.json")["b"][4])
}
"#,
];

#[test]
fn sequential_runs_give_the_same_output_and_files_as_parallel_runs() {
    for source in EQUIVALENT_PROGRAMS {
        let parallel = Project::with_main(source);
        parallel.config(&cores(4));
        let sequential = Project::with_main(source);
        sequential.config(&cores(4));
        let p = parallel.run(&[]);
        let s = sequential.run(&["--sequential"]);
        assert_eq!(p.status, Some(0), "parallel run failed:\n{}", p.stderr);
        assert_eq!(p.status, s.status, "exit status differs:\n{}", s.stderr);
        assert_eq!(p.stdout, s.stdout, "printed lines differ for\n{source}");
        assert!(!p.stdout.is_empty());
        assert_eq!(
            parallel.snapshot(),
            sequential.snapshot(),
            "files differ for\n{source}"
        );
    }
}

/// A reader of a file found on disk is handed the user's path itself: a later writer's version
/// must not be published there before that reader has finished.
const SLOW_READER_OF_A_FILE_ON_DISK: &str = r#"
task put(text: str, dst: out file) {
    shell "printf '%s\n' {{text}} > {{dst}}"
}

task slow_copy(src: file, dst: out file) {
    shell "sleep 0.5; cp {{src}} {{dst}}"
}

workflow main() {
    slow_copy("input.txt", "copy.txt")
    put("new", "input.txt")
    slow_copy("input.txt", "copy2.txt")
    put("newer", "input.txt")
    READ
}
"#;

#[test]
fn a_slow_reader_of_a_file_found_on_disk_keeps_seeing_it() {
    let project = Project::with_main(&SLOW_READER_OF_A_FILE_ON_DISK.replace("READ", ""));
    project.write("input.txt", "original\n");
    project.run(&[]).success();
    assert_eq!(project.read("copy.txt"), "original\n");
    assert_eq!(project.read("copy2.txt"), "new\n");
    assert_eq!(project.read("input.txt"), "newer\n");
}

#[test]
fn a_body_read_does_not_let_a_newer_version_replace_a_file_a_task_still_reads() {
    let project = Project::with_main(
        &SLOW_READER_OF_A_FILE_ON_DISK.replace("READ", "print(read(\"input.txt\"))"),
    );
    project.write("input.txt", "original\n");
    project.run(&[]).success().expect_stdout(&["newer", ""]);
    assert_eq!(project.read("copy.txt"), "original\n");
    assert_eq!(project.read("copy2.txt"), "new\n");
}

#[test]
fn glob_waits_for_a_task_filling_the_directory_it_looks_into() {
    let project = Project::with_main(
        r#"
task fill(d: out dir) {
    shell "sleep 0.3; for i in 1 2 3; do echo $i > {{d}}/f$i.txt; done"
}

workflow main() {
    fill("out")
    print(glob("out/*.txt"))
}
"#,
    );
    project
        .run(&[])
        .success()
        .expect_stdout(&[r#"["out/f1.txt","out/f2.txt","out/f3.txt"]"#]);
}

#[test]
fn concurrent_accesses_share_one_version_after_the_writer_before_them() {
    let project = Project::with_main(
        r#"
task init(board: out file) {
    shell "sleep 0.3; echo base > {{board}}"
}

/// Adds its line, then waits until the three members have all written theirs: they must
/// run at the same time, on the same file.
task join(me: int, board: concurrent file) {
    on_failure fail
    shell """
        [ "$(head -n 1 {{board}})" = base ] || { echo "started before init" >&2; exit 1; }
        echo member{{me}} >> {{board}}
        for i in $(seq 1 100); do [ $(wc -l < {{board}}) -ge 4 ] && exit 0; sleep 0.05; done
        exit 1
    """
}

task seen(board: file, o: out file) {
    shell "sort {{board}} > {{o}}"
}

workflow main() {
    init("board.txt")
    for i in range(3) {
        join(i, "board.txt")
    }
    seen("board.txt", "seen.txt")
}
"#,
    );
    project.config(&cores(4));
    project.run(&[]).success();
    assert_eq!(
        project.read("seen.txt"),
        "base\nmember0\nmember1\nmember2\n"
    );
    assert_eq!(project.read("board.txt").lines().count(), 4);
}

#[test]
fn commutative_accesses_run_one_at_a_time_and_the_next_access_waits_for_all() {
    let project = Project::with_main(
        r#"
task deposit(amount: int, account: commutative file) {
    on_failure fail
    shell """
        mkdir lock.d || { echo "two deposits at once" >&2; exit 1; }
        total=$(cat {{account}})
        sleep 0.1
        echo $(( total + {{amount}} )) > {{account}}
        rmdir lock.d
    """
}

workflow main() {
    write("account.txt", "100\n")
    for amount in [5, 10, 20, 40] {
        deposit(amount, "account.txt")
    }
    print(read("account.txt"))
}
"#,
    );
    project.config(&cores(4));
    project.run(&[]).success().expect_stdout(&["175", ""]);
}

#[test]
fn a_workflow_task_runs_a_nested_workflow_on_the_same_files() {
    let project = Project::with_main(
        r#"
task nested(input: file, output: out file) {
    workflow "lib/double.wf" args { input: input, output: output }
}

task upper(src: file, dst: out file) {
    shell "tr a-z A-Z < {{src}} > {{dst}}"
}

workflow main() {
    write("in.txt", "hello\n")
    nested("in.txt", "doubled.txt")
    upper("doubled.txt", "upper.txt")
    print(read("upper.txt"))
}
"#,
    );
    project.write(
        "lib/double.wf",
        r#"
task twice(src: file, dst: out file) {
    shell "cat {{src}} {{src}} > {{dst}}"
}

workflow main(input: str, output: str) {
    twice(input, output)
}
"#,
    );
    project
        .run(&[])
        .success()
        .expect_stdout(&["HELLO", "HELLO", ""]);
    assert_eq!(project.read("doubled.txt"), "hello\nhello\n");
}

#[test]
fn glob_answers_paths_as_the_pattern_writes_them() {
    let project = Project::with_main(
        r#"
workflow main() {
    print(glob("d/*.txt"), glob("./d/*.txt"), glob("d/../d/*.txt"))
}
"#,
    );
    project.write("d/a.txt", "");
    project
        .run(&[])
        .success()
        .expect_stdout(&[r#"["d/a.txt"] ["./d/a.txt"] ["d/../d/a.txt"]"#]);
}

#[test]
fn a_call_starts_while_the_body_goes_on_computing_in_a_loop() {
    // Calls are handed to the dispatcher in batches; a batch must not wait for the body to
    // ask for something. Here the body spins until the call's side effect appears: if the
    // call were held back, the loop would never end (and the command would time out).
    let project = Project::with_main(
        r#"
task one() -> int {
    shell "echo 1"
}

task touch_flag() {
    shell "touch started.flag"
}

workflow main() {
    // A value only the run knows: the planner's look-ahead stops here, before the loop.
    print(one())
    touch_flag()
    let spins = 0
    while not exists("started.flag") {
        spins = spins + 1
    }
    print("the call ran while the body was looping")
}
"#,
    );
    project
        .run(&[])
        .success()
        .expect_stdout(&["1", "the call ran while the body was looping"]);
}
