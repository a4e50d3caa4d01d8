//! Examples of the canonical style: ugly input → the one output `weft fmt` writes.
//!
//! Every example also checks that formatting the output again changes nothing, and that the
//! output parses to the same tree as the input (positions aside).

use weft_compiler::ast::{
    BinaryOp, Block, Body, Directive, Expr, ExprKind, Ident, Item, Module, Number, NumberValue,
    RawString, Span, Stmt, StmtKind, StrLit, StrPart, Task, TaskBody, Workflow,
};
use weft_compiler::ast_visit::clear_spans;
use weft_compiler::diagnostic::{render_plain, SourceFile};
use weft_compiler::fmt::format_module;
use weft_compiler::parser::parse_module;

fn parse(source: &str) -> Module {
    let file = SourceFile::new("test.wf", source);
    match parse_module(&file) {
        Ok(module) => module,
        Err(diagnostics) => {
            let rendered: Vec<String> = diagnostics.iter().map(render_plain).collect();
            panic!(
                "does not parse ({} errors):\n{}\n--- source ---\n{source}",
                diagnostics.len(),
                rendered.join("\n")
            )
        }
    }
}

/// The comments of a module, in a fixed order (directives move, and their comments with
/// them), without the blanks at the end of their lines.
fn comment_texts(module: &Module) -> Vec<String> {
    let mut texts: Vec<String> = module
        .comments
        .iter()
        .map(|c| {
            c.text
                .split('\n')
                .map(str::trim_end)
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    texts.sort();
    texts
}

/// The tree without positions and comments, directives in the canonical order (the
/// formatter moves them there).
fn without_positions(mut module: Module) -> Module {
    clear_spans(&mut module);
    module.comments.clear();
    for item in &mut module.items {
        if let Item::Task(task) = item {
            sort_directives(&mut task.directives);
            if let TaskBody::Impls(impls) = &mut task.body {
                for imp in impls {
                    sort_directives(&mut imp.directives);
                }
            }
        }
    }
    module
}

fn sort_directives(directives: &mut [Directive]) {
    const ORDER: [&str; 12] = [
        "constraint",
        "timeout",
        "priority",
        "on_failure",
        "distributed",
        "replicated",
        "workdir",
        "env",
        "fail_on_exit",
        "raises_on_exit",
        "container",
        "multinode",
    ];
    directives.sort_by_key(|d| ORDER.iter().position(|k| *k == d.kind.keyword()));
}

/// Formats `source`, checks that the result is stable and means the same, and returns it.
fn format(source: &str) -> String {
    let module = parse(source);
    let formatted = format_module(&module, source);
    let reparsed = parse(&formatted);
    assert_eq!(
        format_module(&reparsed, &formatted),
        formatted,
        "formatting is not idempotent"
    );
    assert_eq!(
        comment_texts(&reparsed),
        comment_texts(&module),
        "comments were lost or changed:\n{formatted}"
    );
    assert_eq!(
        without_positions(reparsed),
        without_positions(module),
        "the formatted text means something else:\n{formatted}"
    );
    formatted
}

#[track_caller]
fn assert_formats(source: &str, expected: &str) {
    let formatted = format(source);
    assert_eq!(
        formatted, expected,
        "\n--- got ---\n{formatted}\n--- expected ---\n{expected}"
    );
}

#[test]
fn messy_one_liners_become_canonical() {
    assert_formats(
        "task   shout( word : str,result:out file ){\n  constraint {cores:1,memory:256MiB}\n      shell \"echo {{word}} > {{result}}\"\n}\nworkflow main(){ let ws=[\"a\",\"b\"]\n  for w in ws { shout(w,\"{w}.txt\") } }\n",
        r#"task shout(word: str, result: out file) {
    constraint { cores: 1, memory: 256MiB }
    shell "echo {{word}} > {{result}}"
}

workflow main() {
    let ws = ["a", "b"]
    for w in ws {
        shout(w, "{w}.txt")
    }
}
"#,
    );
}

#[test]
fn semicolons_split_statements_onto_lines() {
    assert_formats(
        "workflow main() { let a = 1; let b = a+2 ; print(a,b) }",
        "workflow main() {\n    let a = 1\n    let b = a + 2\n    print(a, b)\n}\n",
    );
}

#[test]
fn directives_are_put_in_the_fixed_order() {
    assert_formats(
        r#"task t(x: file) {
    container "alpine:3"
    on_failure retry(2)
    env { MODE: "fast", LEVEL: 3 }
    timeout 30s
    priority
    constraint { cores: 2 }
    workdir "/tmp"
    fail_on_exit true
    replicated
    raises_on_exit [3,4]
    distributed
    multinode 2
    binary "run" args [x]
}
"#,
        r#"task t(x: file) {
    constraint { cores: 2 }
    timeout 30s
    priority
    on_failure retry(2)
    distributed
    replicated
    workdir "/tmp"
    env { MODE: "fast", LEVEL: 3 }
    fail_on_exit true
    raises_on_exit [3, 4]
    container "alpine:3"
    multinode 2
    binary "run" args [x]
}
"#,
    );
}

#[test]
fn directives_keep_their_comments_when_reordered() {
    assert_formats(
        r#"task t() {
    // the slow part
    timeout 1h  // generous
    constraint { cores: 8 } // all of them
    shell "make"
}
"#,
        r#"task t() {
    constraint { cores: 8 }  // all of them
    // the slow part
    timeout 1h  // generous
    shell "make"
}
"#,
    );
}

#[test]
fn implementations_keep_their_order_and_sort_their_directives() {
    assert_formats(
        r#"task sort(data: file, sorted: out file) {
  on_failure ignore
  impl gpu { timeout 10m
     constraint {gpus:1}
     binary "gpusort" args [data,sorted] }
  impl portable {
        binary "sort" args ["-o",sorted,data]
  }
}
"#,
        r#"task sort(data: file, sorted: out file) {
    on_failure ignore
    impl gpu {
        constraint { gpus: 1 }
        timeout 10m
        binary "gpusort" args [data, sorted]
    }
    impl portable {
        binary "sort" args ["-o", sorted, data]
    }
}
"#,
    );
}

#[test]
fn every_body_kind() {
    assert_formats(
        r#"task a(n: int, o: out file as stdout) -> int { binary "./a.out" }
task b(n: int) { mpi "./sim" {runner:"mpirun",processes:n} args [n] }
task c() { ompss "./c" args [] }
task d(x: json) { workflow "inner.wf" args {x:x} }
task e() { workflow "inner.wf" }
task f(p: file) -> (int, str) { script "python3" "print(1)" }
"#,
        r#"task a(n: int, o: out file as stdout) -> int {
    binary "./a.out"
}

task b(n: int) {
    mpi "./sim" { runner: "mpirun", processes: n } args [n]
}

task c() {
    ompss "./c" args []
}

task d(x: json) {
    workflow "inner.wf" args { x: x }
}

task e() {
    workflow "inner.wf"
}

task f(p: file) -> (int, str) {
    script "python3" "print(1)"
}
"#,
    );
}

#[test]
fn parameters_with_every_direction_and_modifier() {
    assert_formats(
        "task t(a:file,b:inout dir,c:concurrent json,d:commutative [file] depth 1,e:out file as stderr,f:str prefix \"--f=\"=\"x\",g:[[int]]=[[1]]) { binary \"t\" }\n",
        "task t(\n    a: file,\n    b: inout dir,\n    c: concurrent json,\n    d: commutative [file] depth 1,\n    e: out file as stderr,\n    f: str prefix \"--f=\" = \"x\",\n    g: [[int]] = [[1]],\n) {\n    binary \"t\"\n}\n",
    );
}

#[test]
fn parameter_lists_that_fit_stay_on_one_line() {
    // 100 columns exactly.
    let header = format!("task t(a: str, b: str, {}: int) {{", "c".repeat(69));
    assert_eq!(header.len(), 100);
    let source = format!("{header}\n    binary \"t\"\n}}\n");
    assert_formats(&source, &source);
    // One more column and it is one parameter a line.
    let source = format!(
        "task t(a: str, b: str, {}: int) {{\n    binary \"t\"\n}}\n",
        "c".repeat(70)
    );
    assert_formats(
        &source,
        &format!(
            "task t(\n    a: str,\n    b: str,\n    {}: int,\n) {{\n    binary \"t\"\n}}\n",
            "c".repeat(70)
        ),
    );
}

#[test]
fn documented_parameters_go_one_a_line_under_their_docs() {
    assert_formats(
        r#"///Counts words.
///
///   Indented detail.
workflow main(/// Where the texts are.
input: dir = "data",   outdir: str = "out", // where to write
) { print(input) }
"#,
        r#"/// Counts words.
///
///   Indented detail.
workflow main(
    /// Where the texts are.
    input: dir = "data",
    outdir: str = "out",  // where to write
) {
    print(input)
}
"#,
    );
}

#[test]
fn imports_are_grouped_and_items_separated_by_one_blank_line() {
    assert_formats(
        r#"import std.fs


import std.text as t
import "lib/common.wf"
import   "lib/other.wf"   as   o
fn f(x: int) -> int { return x }
fn g() {}



workflow main() { f(1) }
"#,
        r#"import std.fs
import std.text as t
import "lib/common.wf"
import "lib/other.wf" as o

fn f(x: int) -> int {
    return x
}

fn g() {}

workflow main() {
    f(1)
}
"#,
    );
}

#[test]
fn every_statement_kind() {
    assert_formats(
        r#"workflow main(n: int = 3) {
  let (a,b) = pair()
  a = 1
  b += [2]
  m["k"] = 3
  m.k = 4
  if a == 1 { print("one") } else if a == 2 { print("two") }
  else { print("many") }
  for (i,x) in enumerate(xs) { print(i) }
  while n > 0 { n = n - 1 }
  group "g" nowait { work() }
  group "h" { work() }
  barrier "g"
  barrier
  try { work() } catch e { print(e.message, e.group, e.task) }
  raise "bad"
  print(f())
}
fn f() -> int { return 1 }
fn g() { return }
"#,
        r#"workflow main(n: int = 3) {
    let (a, b) = pair()
    a = 1
    b += [2]
    m["k"] = 3
    m.k = 4
    if a == 1 {
        print("one")
    } else if a == 2 {
        print("two")
    } else {
        print("many")
    }
    for (i, x) in enumerate(xs) {
        print(i)
    }
    while n > 0 {
        n = n - 1
    }
    group "g" nowait {
        work()
    }
    group "h" {
        work()
    }
    barrier "g"
    barrier
    try {
        work()
    } catch e {
        print(e.message, e.group, e.task)
    }
    raise "bad"
    print(f())
}

fn f() -> int {
    return 1
}

fn g() {
    return
}
"#,
    );
}

#[test]
fn empty_blocks() {
    assert_formats(
        "workflow main() {\n\n}\nfn f() {\n for x in xs { }\n if c { } else { }\n try {} catch e {}\n}\n",
        "workflow main() {}\n\nfn f() {\n    for x in xs {}\n    if c {\n    } else {\n    }\n    try {\n    } catch e {\n    }\n}\n",
    );
}

#[test]
fn expressions_get_canonical_spacing() {
    assert_formats(
        r#"workflow main() {
  let x = -a*(b+c)-d/2%3
  let y = not a==b and(c or d)
  let z = {"k":[1,2,(3,4)],name:null,"q x":true}
  let w = f( a , mode = "fast" )[ 0 ].field
  let v = [ ]
  let u = { }
  let s = xs[i+1]
  let r = (((x)))
}
"#,
        r#"workflow main() {
    let x = -a * (b + c) - d / 2 % 3
    let y = not a == b and (c or d)
    let z = { "k": [1, 2, (3, 4)], name: null, "q x": true }
    let w = f(a, mode = "fast")[0].field
    let v = []
    let u = {}
    let s = xs[i + 1]
    let r = (((x)))
}
"#,
    );
}

#[test]
fn numbers_keep_their_text() {
    assert_formats(
        "workflow main() { print(1_000_000, 3.50, 1e-3, 512KiB, 2GB, 250ms, 1.5h) }\n",
        "workflow main() {\n    print(1_000_000, 3.50, 1e-3, 512KiB, 2GB, 250ms, 1.5h)\n}\n",
    );
}

#[test]
fn strings_are_re_escaped() {
    assert_formats(
        r#"workflow main() {
    print("tab\there \"q\" back\\slash {{braces}} \{x\} {1 + 2} {f("in")}")
}
"#,
        r#"workflow main() {
    print("tab\there \"q\" back\\slash {{braces}} {{x}} {1 + 2} {f("in")}")
}
"#,
    );
}

#[test]
fn interpolated_objects_keep_apart_from_literal_braces() {
    // `{{` would be a literal brace: a space keeps the object inside the interpolation.
    assert_formats(
        "workflow main() { print(\"x{ {\"a\": 1}.a }y\") }\n",
        "workflow main() {\n    print(\"x{ { \"a\": 1 }.a }y\")\n}\n",
    );
}

#[test]
fn triple_quoted_language_strings_stay_triple_quoted() {
    assert_formats(
        "workflow main() {\n  let s = \"\"\"\n      Hello {name},\n        indented \"quoted\"\n      bye\n      \"\"\"\n  print(s)\n}\n",
        "workflow main() {\n    let s = \"\"\"\n        Hello {name},\n          indented \"quoted\"\n        bye\n    \"\"\"\n    print(s)\n}\n",
    );
}

#[test]
fn triple_quoted_scripts_are_reindented() {
    assert_formats(
        "task stats(xs: json) -> json {\nscript \"python3\" \"\"\"\nimport json, os\nif True:\n    print('{x}')\n\nprint(\"done\")\n\"\"\"\n}\n",
        "task stats(xs: json) -> json {\n    script \"python3\" \"\"\"\n        import json, os\n        if True:\n            print('{x}')\n\n        print(\"done\")\n    \"\"\"\n}\n",
    );
}

#[test]
fn triple_quoted_scripts_without_final_newline_and_inline() {
    assert_formats(
        "task a() {\n    shell \"\"\"\n          echo one\n          echo two\"\"\"\n}\ntask b() { shell \"\"\"echo '[1, \"two\"]'\"\"\" }\n",
        "task a() {\n    shell \"\"\"\n        echo one\n        echo two\"\"\"\n}\n\ntask b() {\n    shell \"\"\"echo '[1, \"two\"]'\"\"\"\n}\n",
    );
}

#[test]
fn raw_strings_keep_their_backslashes() {
    assert_formats(
        r#"task t() { shell "printf '%s\n' \"{{x}}\" | awk '{print $1}' \\" }"#,
        r#"task t() {
    shell "printf '%s\n' \"{{x}}\" | awk '{print $1}' \\"
}
"#,
    );
}

#[test]
fn comments_stay_where_they_were_written() {
    assert_formats(
        r#"// The header of the file.

import std.fs // files

/* A block
   comment. */
task t(x: file) { // the task
    // before the body
    shell "cat {{x}}"   // trailing
    // before the closing brace
}
workflow main() {
    // first


    let a = 1   // one
    /* inline */ let b = 2

    for x in [a, b] { // loop
        t(x)
        // end of loop
    } // after the loop
    let c = [1, // inside a list
        2]
}
// The end.
"#,
        r#"// The header of the file.

import std.fs  // files

/* A block
   comment. */
task t(x: file) {  // the task
    // before the body
    shell "cat {{x}}"  // trailing
    // before the closing brace
}

workflow main() {
    // first

    let a = 1  // one
    /* inline */
    let b = 2

    for x in [a, b] {  // loop
        t(x)
        // end of loop
    }  // after the loop
    // inside a list
    let c = [1, 2]
}
// The end.
"#,
    );
}

#[test]
fn comments_in_odd_places_are_moved_to_a_line_of_their_own() {
    // Inside a condition, between `else` and `{`, inside a one-line directive, inside an
    // argument list: the line cannot keep them, so they go on their own line nearby.
    assert_formats(
        "workflow main() {\n if a /* x */ and b { // why\n f()\n } else /* e */ {\n g(a, /* arg */ b)\n } // end\n}\n",
        "workflow main() {\n    /* x */\n    if a and b {  // why\n        f()\n    } else {\n        /* e */\n        /* arg */\n        g(a, b)\n    }  // end\n}\n",
    );
    assert_formats(
        "task t() -> int /* x */ { // after brace\n constraint {\n  cores: 1, // one\n  memory: 2GB }\n binary \"x\" // b\n}\n",
        "task t() -> int {  // after brace\n    /* x */\n    // one\n    constraint { cores: 1, memory: 2GB }\n    binary \"x\"  // b\n}\n",
    );
}

#[test]
fn comments_after_statements_joined_by_semicolons_end_their_lines() {
    assert_formats(
        "workflow main() {\n let a = 1 /* c */; let b = 2 // d\n}\n",
        "workflow main() {\n    let a = 1  /* c */\n    let b = 2  // d\n}\n",
    );
}

#[test]
fn comments_of_implementations_and_empty_parameter_lists() {
    assert_formats(
        "task t() {\n impl a { // the a\n  shell \"x\"\n  // end of a\n } // after a\n}\nfn f(/* none */) {}\n",
        "task t() {\n    impl a {  // the a\n        shell \"x\"\n        // end of a\n    }  // after a\n}\n\nfn f(\n    /* none */\n) {}\n",
    );
}

#[test]
fn comments_at_the_edges_of_the_file() {
    assert_formats(
        "/* top */ import std.fs /* after */\n// end\n\n\n// really\n",
        "/* top */\nimport std.fs  /* after */\n// end\n\n// really\n",
    );
    assert_formats("// only a comment", "// only a comment\n");
}

#[test]
fn comments_inside_parameter_lists_put_one_parameter_a_line() {
    assert_formats(
        "fn f(a: int, /* the b */ b: int) -> int {\n    return a + b\n}\n",
        "fn f(\n    a: int,  /* the b */\n    b: int,\n) -> int {\n    return a + b\n}\n",
    );
}

#[test]
fn blank_lines_are_kept_once_and_never_at_block_edges() {
    assert_formats(
        "workflow main() {\n\n\n    let a = 1\n\n\n\n    let b = 2\n\n}\n",
        "workflow main() {\n    let a = 1\n\n    let b = 2\n}\n",
    );
}

#[test]
fn formatted_text_is_left_alone() {
    let canonical = r#"import std.fs

/// Counts the words of one text file.
task count(text: file, result: out file) {
    constraint { cores: 1, memory: 256MiB }
    shell "wc -w < {{text}} > {{result}}"
}

workflow main(input: dir = "data") {
    let parts = []
    for f in glob("{input}/*.txt") {
        let r = "{stem(f)}.count"
        count(f, r)
        parts += [r]
    }
    print("{len(parts)} files")  // done
}
"#;
    assert_formats(canonical, canonical);
}

// ---------------------------------------------------------------------------------------------
// Trees built by hand (no parser involved)
// ---------------------------------------------------------------------------------------------

fn ident(name: &str) -> Ident {
    Ident {
        name: name.to_string(),
        span: Span::default(),
    }
}

fn expr(kind: ExprKind) -> Expr {
    Expr {
        kind,
        span: Span::default(),
    }
}

fn var(name: &str) -> Expr {
    expr(ExprKind::Var(ident(name)))
}

fn workflow_of(stmts: Vec<StmtKind>) -> Module {
    Module {
        items: vec![Item::Workflow(Workflow {
            doc: None,
            name: ident("main"),
            params: Vec::new(),
            body: Block {
                stmts: stmts
                    .into_iter()
                    .map(|kind| Stmt {
                        kind,
                        span: Span::default(),
                    })
                    .collect(),
                span: Span::default(),
            },
            span: Span::default(),
        })],
        comments: Vec::new(),
    }
}

#[test]
fn precedence_parentheses_are_added_to_built_trees() {
    let sum = expr(ExprKind::Binary(
        BinaryOp::Add,
        Box::new(var("a")),
        Box::new(var("b")),
    ));
    let product = expr(ExprKind::Binary(
        BinaryOp::Mul,
        Box::new(sum),
        Box::new(var("c")),
    ));
    let module = workflow_of(vec![StmtKind::Expr(product)]);
    assert_eq!(
        format_module(&module, ""),
        "workflow main() {\n    (a + b) * c\n}\n"
    );
}

#[test]
fn built_numbers_without_text_are_written_from_their_value() {
    let number = |value| {
        expr(ExprKind::Number(Number {
            value,
            text: String::new(),
        }))
    };
    let list = expr(ExprKind::List(vec![
        number(NumberValue::Int(42)),
        number(NumberValue::Float(2.0)),
        number(NumberValue::Float(0.001)),
    ]));
    let module = workflow_of(vec![StmtKind::Expr(list)]);
    assert_eq!(
        format_module(&module, ""),
        "workflow main() {\n    [42, 2.0, 0.001]\n}\n"
    );
}

fn shell_task(value: &str, triple: bool) -> Module {
    Module {
        items: vec![Item::Task(Task {
            doc: None,
            name: ident("t"),
            params: Vec::new(),
            returns: None,
            directives: Vec::new(),
            body: TaskBody::Single(Body::Shell {
                template: RawString {
                    value: value.to_string(),
                    triple,
                    span: Span::default(),
                },
                span: Span::default(),
            }),
            span: Span::default(),
        })],
        comments: Vec::new(),
    }
}

#[test]
fn raw_values_a_triple_string_cannot_hold_fall_back_to_quotes() {
    for (value, written) in [
        ("  starts with blanks", r#""  starts with blanks""#),
        ("ends with a quote \"x\"", r#""ends with a quote \"x\"""#),
        ("has \"\"\" inside", r#""has \"\"\" inside""#),
    ] {
        assert_eq!(
            format_module(&shell_task(value, true), ""),
            format!("task t() {{\n    shell {written}\n}}\n")
        );
    }
    // A one-line value starting with a quote is written in the block layout instead.
    assert_eq!(
        format_module(&shell_task("\"quoted\" word", true), ""),
        "task t() {\n    shell \"\"\"\n        \"quoted\" word\"\"\"\n}\n"
    );
}

#[test]
fn built_raw_values_with_line_breaks_become_triple_quoted() {
    assert_eq!(
        format_module(&shell_task("echo a\necho b\n", false), ""),
        "task t() {\n    shell \"\"\"\n        echo a\n        echo b\n    \"\"\"\n}\n"
    );
}

#[test]
fn triple_language_strings_that_the_dedent_would_change_fall_back_to_quotes() {
    let string = expr(ExprKind::Str(StrLit {
        parts: vec![
            StrPart::Text("  a ".to_string()),
            StrPart::Interp(var("x")),
            StrPart::Text("\n  b".to_string()),
        ],
        triple: true,
    }));
    let module = workflow_of(vec![StmtKind::Expr(string)]);
    assert_eq!(
        format_module(&module, ""),
        "workflow main() {\n    \"  a {x}\\n  b\"\n}\n"
    );
}

#[test]
fn an_empty_module_is_an_empty_file() {
    let module = Module {
        items: Vec::new(),
        comments: Vec::new(),
    };
    assert_eq!(format_module(&module, ""), "");
}
