//! Static analysis: one snapshot per diagnostic code (the rendered diagnostic, label on the
//! right token), table tests of codes and lines, and programs that must be clean.

use std::fs;
use std::path::Path;

use weft_compiler::analysis::analyze;
use weft_compiler::diagnostic::{render_plain, Code, Diagnostic, Severity};
use weft_compiler::program::Program;

fn load(source: &str) -> Program {
    match Program::from_source(Path::new("main.wf"), source.to_string()) {
        Ok(program) => program,
        Err(errors) => panic!(
            "the test program does not load:\n{}",
            errors.iter().map(render_plain).collect::<String>()
        ),
    }
}

fn check(source: &str) -> Vec<Diagnostic> {
    analyze(&load(source))
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(render_plain)
        .collect::<Vec<_>>()
        .join("\n")
}

/// (code, line, severity) of each diagnostic, in order.
fn summary(diagnostics: &[Diagnostic]) -> Vec<(Code, usize, Severity)> {
    diagnostics
        .iter()
        .map(|d| (d.code, d.line_col().0, d.severity))
        .collect()
}

fn errors_of(source: &str) -> Vec<(Code, usize)> {
    check(source)
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code, d.line_col().0))
        .collect()
}

fn assert_clean(source: &str) {
    let diagnostics = check(source);
    assert!(
        diagnostics.is_empty(),
        "expected no diagnostics, got:\n{}",
        render(&diagnostics)
    );
}

// ---------------------------------------------------------------------------------------------
// One snapshot per code
// ---------------------------------------------------------------------------------------------

#[test]
fn name_unknown_variable() {
    let d = check(
        r#"workflow main() {
    let total = 3
    print(total + totl)
}
"#,
    );
    assert_eq!(summary(&d), [(Code::Name, 3, Severity::Error)]);
    insta::assert_snapshot!(render(&d));
}

#[test]
fn name_unknown_task_and_qualified_name() {
    let d = check(
        r#"import std.fs

task count(text: file, result: out file) {
    shell "wc -w < {{text}} > {{result}}"
}

workflow main() {
    cuont("a.txt", "b.txt")
    fs.cpy("a.txt", "c.txt")
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::Unused, 3, Severity::Warning),
            (Code::Name, 8, Severity::Error),
            (Code::Name, 9, Severity::Error),
        ]
    );
    insta::assert_snapshot!(render(&d));
}

#[test]
fn arity_too_many_arguments() {
    let d = check(
        r#"task two(a: int, b: int) {
    shell "echo {{a}} {{b}}"
}

workflow main() {
    two(1, 2, 3)
}
"#,
    );
    assert_eq!(summary(&d), [(Code::Arity, 6, Severity::Error)]);
    insta::assert_snapshot!(render(&d));
}

#[test]
fn arity_missing_unknown_and_repeated_arguments() {
    let d = check(
        r#"task save(text: str, dst: out file, mode: str = "w") {
    shell "printf '%s' {{text}} > {{dst}}"
}

workflow main() {
    save("x")
    save("x", "a.txt", mdoe = "a")
    save("x", "a.txt", text = "y")
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::Arity, 6, Severity::Error),
            (Code::Arity, 7, Severity::Error),
            (Code::Arity, 8, Severity::Error),
        ]
    );
    insta::assert_snapshot!(render(&d));
}

#[test]
fn type_literal_arguments_and_defaults() {
    let d = check(
        r#"task count(text: file, times: int = "twice") -> int {
    shell "wc -w < {{text}}"
}

workflow main() {
    print(count(42))
    print(count("a.txt", times = 2.5))
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::Type, 1, Severity::Error),
            (Code::Type, 6, Severity::Error),
            (Code::Type, 7, Severity::Error),
        ]
    );
    insta::assert_snapshot!(render(&d));
}

#[test]
fn direction_on_a_scalar_parameter() {
    let d = check(
        r#"task bad(n: out int) {
    shell "true"
}

workflow main() {
    bad(1)
}
"#,
    );
    // Only the declaration: the argument of a direction that cannot exist is not checked.
    assert_eq!(summary(&d), [(Code::Direction, 1, Severity::Error)]);
    insta::assert_snapshot!(render(&d));
}

#[test]
fn direction_streams() {
    let d = check(
        r#"task run(input: out file as stdin, log: file as stderr, all: [file] as stdout) {
    binary "tool"
}

workflow main() {
    run("in.txt", "log.txt", ["a.txt"])
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::Direction, 1, Severity::Error),
            (Code::Direction, 1, Severity::Error),
            (Code::Direction, 1, Severity::Error),
        ]
    );
    insta::assert_snapshot!(render(&d));
}

#[test]
fn direction_out_argument_is_not_a_path() {
    let d = check(
        r#"task produce(n: int, result: out file) {
    shell "seq {{n}} > {{result}}"
}

task stats(xs: inout json) {
    shell "true"
}

workflow main() {
    produce(3, 7)
    produce(3, len("abc"))
    stats([1, 2])
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::Direction, 10, Severity::Error),
            (Code::Direction, 11, Severity::Error),
            (Code::Direction, 12, Severity::Error),
        ]
    );
    insta::assert_snapshot!(render(&d));
}

#[test]
fn duplicate_definitions() {
    let d = check(
        r#"task a(x: int = 1, x: int = 2) {
    shell "true"
}

task a() {
    impl fast {
        shell "true"
    }
    impl fast {
        shell "false"
    }
}

workflow main() {
    a()
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::Duplicate, 1, Severity::Error),
            (Code::Duplicate, 5, Severity::Error),
            (Code::Duplicate, 9, Severity::Error),
        ]
    );
    insta::assert_snapshot!(render(&d));
}

#[test]
fn constraint_keys_and_values() {
    let d = check(
        r#"task big(o: out file) {
    constraint { cpus: 2, memory: 8, labels: "blast", walltime: 90 }
    shell "touch {{o}}"
}

workflow main() {
    big("o.txt")
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::Constraint, 2, Severity::Error),
            (Code::Constraint, 2, Severity::Error),
            (Code::Constraint, 2, Severity::Error),
            (Code::Constraint, 2, Severity::Error),
        ]
    );
    insta::assert_snapshot!(render(&d));
}

#[test]
fn import_missing_file_and_std_module() {
    let errors = Program::from_source(
        Path::new("main.wf"),
        r#"import "lib/nowhere.wf"
import std.fss

workflow main() {
    print("x")
}
"#
        .to_string(),
    )
    .expect_err("missing imports fail to load");
    assert_eq!(
        summary(&errors),
        [
            (Code::Import, 1, Severity::Error),
            (Code::Import, 2, Severity::Error)
        ]
    );
    insta::assert_snapshot!(render(&errors));
}

#[test]
fn import_cycle() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("lib")).unwrap();
    fs::write(
        dir.path().join("lib/a.wf"),
        "import \"b.wf\"\n\nfn from_a() {\n    b.from_b()\n}\n",
    )
    .unwrap();
    fs::write(
        dir.path().join("lib/b.wf"),
        "import \"a.wf\"\n\nfn from_b() {\n    a.from_a()\n}\n",
    )
    .unwrap();
    let main = dir.path().join("main.wf");
    fs::write(
        &main,
        "import \"lib/a.wf\"\n\nworkflow main() {\n    a.from_a()\n}\n",
    )
    .unwrap();
    let errors = Program::load(&main).expect_err("a cycle fails to load");
    assert_eq!(summary(&errors), [(Code::Import, 1, Severity::Error)]);
    assert!(errors[0].file.path().ends_with("lib/b.wf"));
    let rendered = render(&errors).replace(&dir.path().display().to_string(), "[dir]");
    insta::assert_snapshot!(rendered);
}

#[test]
fn unused_variables_imports_tasks_and_fns() {
    let d = check(
        r#"import std.text

task helper(o: out file) {
    shell "touch {{o}}"
}

fn twice(x: int) -> int {
    return x * 2
}

workflow main() {
    let unused = 1
    let _quiet = 2
    for i in range(3) {
        print("hello")
    }
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::Unused, 1, Severity::Warning),
            (Code::Unused, 3, Severity::Warning),
            (Code::Unused, 7, Severity::Warning),
            (Code::Unused, 12, Severity::Warning),
            (Code::Unused, 14, Severity::Warning),
        ]
    );
    insta::assert_snapshot!(render(&d));
}

#[test]
fn serial_wait_in_a_loop() {
    let d = check(
        r#"task count(f: file) -> int {
    shell "wc -l < {{f}}"
}

workflow main() {
    let total = 0
    for f in glob("*.txt") {
        let n = count(f)
        total += n
        print("{f}: {n}")
    }
    print(total)
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::SerialWait, 9, Severity::Warning),
            (Code::SerialWait, 10, Severity::Warning),
        ]
    );
    insta::assert_snapshot!(render(&d));
}

#[test]
fn template_names() {
    let d = check(
        r#"task copy(src: file, dst: out file) {
    shell "cp {{src}} {{dts}} && echo {{stem src}} {{joinn src \",\"}}"
}

workflow main() {
    copy("a", "b")
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::Name, 2, Severity::Error),
            (Code::Name, 2, Severity::Error)
        ]
    );
    insta::assert_snapshot!(render(&d));
}

// ---------------------------------------------------------------------------------------------
// Codes and lines
// ---------------------------------------------------------------------------------------------

#[test]
fn scoping_of_let_for_catch_and_patterns() {
    // `let` is visible after it, in nested blocks; not before it, nor outside its block.
    assert_eq!(
        errors_of(
            r#"workflow main() {
    print(early)
    let early = 1
    if early > 0 {
        let inner = early + 1
        print(inner)
    }
    print(inner)
}
"#
        ),
        [(Code::Name, 2), (Code::Name, 8)]
    );
    // `for` variables, tuple patterns and `catch` variables are local to their block.
    assert_eq!(
        errors_of(
            r#"task pair() -> (int, int) {
    shell "echo '[1, 2]'"
}

workflow main() {
    for (i, x) in enumerate([1, 2]) {
        print(i, x)
    }
    let (a, b) = pair()
    print(a + b)
    try {
        raise "no"
    } catch e {
        print(e.message)
    }
    print(e, i)
}
"#
        ),
        [(Code::Name, 16), (Code::Name, 16)]
    );
}

#[test]
fn assignment_needs_a_declared_variable() {
    assert_eq!(
        errors_of(
            r#"workflow main(n: int = 2) {
    let xs = []
    xs += [1]
    n = n + 1
    ys = [2]
    total += 1
    print(xs, n)
}
"#
        ),
        [(Code::Name, 5), (Code::Name, 6)]
    );
}

#[test]
fn task_expressions_see_parameters_and_env_only() {
    assert_eq!(
        errors_of(
            r#"fn helper() -> int {
    return 1
}

task t(n: int, o: out file) {
    constraint { cores: n, memory: env("MEM", "1GiB") }
    env { LABEL: basename(o), OTHER: missing }
    timeout 10s
    binary "tool" args [n, o, helper(), read("x")]
}

workflow main() {
    t(1, "o.txt")
}
"#
        ),
        [(Code::Name, 7), (Code::Name, 9), (Code::Name, 9)]
    );
}

#[test]
fn calls_of_imported_modules_are_checked() {
    let d = check(
        r#"import std.fs
import std.text as t

workflow main() {
    fs.copy("a.txt")
    t.head("a.txt", "b.txt", n = "3")
    t.sort("a.txt", "s.txt")
    nope.thing()
    sort("a.txt", "s.txt")
}
"#,
    );
    assert_eq!(
        summary(&d),
        [
            (Code::Arity, 5, Severity::Error),
            (Code::Type, 6, Severity::Error),
            (Code::Name, 8, Severity::Error),
            (Code::Name, 9, Severity::Error),
        ]
    );
    let help = d[3].help.as_deref().unwrap_or("");
    assert!(
        help.contains("t.sort"),
        "suggests the qualified name: {help}"
    );
}

#[test]
fn builtin_arity() {
    assert_eq!(
        errors_of(
            r#"workflow main() {
    print(len([1], [2]), range(), div(1, 2), env("A", "b"))
    write("x.txt")
    print(sorted(xs = [1]))
}
"#
        ),
        [
            (Code::Arity, 2),
            (Code::Arity, 2),
            (Code::Arity, 3),
            (Code::Arity, 4)
        ]
    );
}

#[test]
fn out_arguments_that_are_paths() {
    assert_clean(
        r#"task produce(n: int, result: out file) {
    shell "seq {{n}} > {{result}}"
}

task split(src: file, parts: out [file]) {
    shell "true"
}

task push(xs: inout json, x: int) {
    shell "true"
}

fn out_path(i: int) -> str {
    return "out/{i}.txt"
}

workflow main(outdir: str = "results") {
    let names = ["a.txt", "b.txt"]
    produce(1, "x.txt")
    produce(2, "{outdir}/y.txt")
    produce(3, path(outdir, "z.txt"))
    produce(4, outdir + "/w.txt")
    produce(5, names[0])
    produce(6, out_path(6))
    split("x.txt", names)
    split("x.txt", ["p0.txt", "{outdir}/p1.txt"])
    let state = {"xs": [0]}
    push(state, 1)
    push(state["xs"], 2)
    print(state, names)
}
"#,
    );
    assert_eq!(
        errors_of(
            r#"task produce(result: out file) {
    shell "touch {{result}}"
}

task name() -> str {
    shell "echo n.txt"
}

workflow main() {
    produce(name())
    produce(null)
    produce(("a" == "b"))
}
"#
        ),
        [
            (Code::Direction, 10),
            (Code::Direction, 11),
            (Code::Direction, 12)
        ]
    );
}

#[test]
fn directions_on_fn_and_workflow_parameters() {
    assert_eq!(
        errors_of(
            r#"fn f(x: out file) {
    print(x)
}

workflow main(o: inout file = "a.txt", n: int prefix "-n" = 1) {
    f(o)
    print(n)
}
"#
        ),
        [(Code::Direction, 1), (Code::Direction, 5), (Code::Type, 5)]
    );
}

#[test]
fn modifiers_prefix_and_depth() {
    assert_eq!(
        errors_of(
            r#"task t(a: json prefix "--a=", b: file depth 2, c: [[file]] depth 1, d: str prefix "-d") {
    binary "tool"
}

workflow main() {
    t({}, "b", [["c"]], "d")
}
"#
        ),
        [(Code::Type, 1), (Code::Type, 1)]
    );
}

#[test]
fn duplicate_streams_keys_and_directives() {
    assert_eq!(
        errors_of(
            r#"task t(a: out file as stdout, b: out file as stdout) {
    constraint { cores: 1, cores: 2 }
    timeout 1s
    timeout 2s
    env { A: "1", A: "2" }
    binary "tool"
}

workflow main() {
    t("a", "b")
    print({"k": 1, "k": 2})
}
"#
        ),
        [
            (Code::Duplicate, 1),
            (Code::Duplicate, 2),
            (Code::Duplicate, 4),
            (Code::Duplicate, 5),
            (Code::Duplicate, 11)
        ]
    );
}

#[test]
fn mpi_options_and_directive_values() {
    assert_eq!(
        errors_of(
            r#"task sim(o: out file as stdout) {
    timeout 30
    on_failure retry("2")
    fail_on_exit 1
    mpi "./sim" { runner: "mpirun", procs: 4, nodes: 0 }
}

workflow main() {
    sim("o.txt")
}
"#
        ),
        [
            (Code::Type, 2),
            (Code::Type, 3),
            (Code::Type, 4),
            (Code::Constraint, 5),
            (Code::Constraint, 5)
        ]
    );
}

#[test]
fn fn_return_literals_and_tuple_patterns() {
    assert_eq!(
        errors_of(
            r#"task three() -> (int, int, int) {
    shell "echo '[1, 2, 3]'"
}

fn name() -> str {
    return 3
}

workflow main() {
    let (a, b) = three()
    print(a, b, name())
}
"#
        ),
        [(Code::Type, 6), (Code::Type, 10)]
    );
}

#[test]
fn serial_wait_only_for_results_needed_in_the_same_iteration() {
    // Futures collected in a list, passed to tasks, or waited for after the loop: no warning.
    assert_clean(
        r#"task square(x: int) -> int {
    shell "echo $(( {{x}} * {{x}} ))"
}

task add(a: int, b: int) -> int {
    shell "echo $(( {{a}} + {{b}} ))"
}

workflow main() {
    let squares = []
    for i in range(1, 8) {
        let s = square(i)
        let t = add(s, i)
        squares += [t]
    }
    print(len(squares))
    print(sum(wait(squares)))
}
"#,
    );
    let d = check(
        r#"task probe(i: int) -> bool {
    shell "echo true"
}

workflow main() {
    let i = 0
    while i < 10 {
        let found = probe(i)
        if found {
            print("found {i}")
        }
        i += 1
    }
}
"#,
    );
    assert_eq!(summary(&d), [(Code::SerialWait, 9, Severity::Warning)]);
}

#[test]
fn a_while_loop_that_waits_for_what_decides_its_condition_is_not_reported() {
    // A convergence loop: the result it waits for each iteration decides whether to go on.
    assert_clean(
        r#"task step(x: float) -> float {
    shell "echo 0.5"
}

workflow main() {
    let x = 1.0
    let change = 1.0
    while change > 0.01 {
        let next = step(x)
        change = next - x
        x = next
    }
    print(x)
}
"#,
    );
}

#[test]
fn shadowed_let_reports_the_unused_first_binding() {
    let d = check(
        r#"workflow main() {
    let x = 1
    let x = 2
    print(x)
}
"#,
    );
    assert_eq!(summary(&d), [(Code::Unused, 2, Severity::Warning)]);
}

#[test]
fn a_realistic_program_is_clean() {
    assert_clean(
        r#"import std.fs
import std.text as t

/// Counts the words of one text file.
task count(text: file, result: out file) {
    constraint { cores: 1, memory: 256MiB, labels: ["wc"], walltime: 10m }
    on_failure retry(2)
    shell "wc -w < {{text}} > {{result}}"
}

/// Sums the counts.
task total(parts: [file]) -> int {
    script "python3" """
        import json, os
        args = json.load(open(os.environ["WEFT_ARGS"]))
        print(sum(int(open(p).read().split()[0]) for p in args["parts"]))
    """
}

task gpu_sort(data: file, sorted: out file) {
    impl gpu {
        constraint { gpus: 1 }
        binary "gpusort" args [data, sorted]
    }
    impl portable {
        binary "sort" args ["-o", sorted, data]
    }
}

task filter(keyword: str, infile: file as stdin, result: out file as stdout) {
    binary "grep"
}

task append(log: inout file, line: str) {
    shell "echo {{line}} >> {{log}}"
}

fn label(i: int) -> str {
    if i % 2 == 0 {
        return "even"
    }
    return "odd"
}

/// Counts words of every text file of a directory.
workflow main(
    /// where the texts are
    input: dir = "data",
    outdir: str = "counts",
) {
    let parts = []
    write("log.txt", "")
    for f in glob("{input}/*.txt") {
        let r = "{outdir}/{stem(f)}.count"
        count(f, r)
        parts += [r]
    }
    for (i, p) in enumerate(parts) {
        append("log.txt", "{i} {label(i)} {p}")
    }
    fs.concat(parts, "{outdir}/all.txt")
    gpu_sort("{outdir}/all.txt", "{outdir}/sorted.txt")
    filter("1", "{outdir}/sorted.txt", "{outdir}/ones.txt")
    t.head("{outdir}/sorted.txt", "{outdir}/top.txt", n = 3)
    let n = total(parts)
    group "report" {
        print("{len(parts)} files, {n} words")
    }
    try {
        barrier "report"
    } catch e {
        print("failed: {e.message}")
    }
}
"#,
    );
}

#[test]
fn every_std_module_analyses_without_diagnostics() {
    let names: Vec<&str> = weft_stdlib::module_names().collect();
    assert!(names.len() >= 3);
    let mut source = String::new();
    for name in &names {
        source.push_str(&format!("import std.{name}\n"));
    }
    source.push_str("\nworkflow main() {\n");
    for name in &names {
        source.push_str(&format!("    print(\"{name}\")\n"));
    }
    source.push_str("}\n");
    let program = load(&source);
    assert_eq!(program.modules.len(), names.len() + 1);
    let std_diagnostics: Vec<Diagnostic> = analyze(&program)
        .into_iter()
        .filter(|d| d.file.path().starts_with("<std>"))
        .collect();
    assert!(std_diagnostics.is_empty(), "{}", render(&std_diagnostics));
    // Every task and fn of the standard library is documented.
    for module in &program.modules[1..] {
        for item in &module.ast.items {
            let (name, doc) = match item {
                weft_compiler::ast::Item::Task(task) => (&task.name, &task.doc),
                weft_compiler::ast::Item::Fn(f) => (&f.name, &f.doc),
                _ => continue,
            };
            assert!(
                doc.is_some(),
                "{}: `{name}` has no doc comment",
                module.file.path().display(),
            );
        }
    }
}

#[test]
fn a_library_checked_alone_has_no_unused_item_warnings() {
    assert_clean(
        r#"/// Shouts.
task shout(s: str, o: out file) {
    shell "printf '%s' {{s}} | tr a-z A-Z > {{o}}"
}

fn double(x: int) -> int {
    return 2 * x
}
"#,
    );
}
