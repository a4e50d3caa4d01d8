//! The parser: the syntax tree of every construct of LANGUAGE.md §2–§5, spans, comments, and
//! a corpus of small programs that must parse.

use std::sync::Arc;

use weft_compiler::ast::*;
use weft_compiler::diagnostic::{render_plain, Code, Diagnostic, SourceFile};
use weft_compiler::parser::parse_module;

fn source(text: &str) -> Arc<SourceFile> {
    SourceFile::new("test.wf", text)
}

fn parse(text: &str) -> Module {
    match parse_module(&source(text)) {
        Ok(module) => module,
        Err(diagnostics) => panic!(
            "expected the program to parse:\n{text}\n{}",
            diagnostics
                .iter()
                .map(render_plain)
                .collect::<Vec<_>>()
                .join("\n")
        ),
    }
}

fn parse_errors(text: &str) -> Vec<Diagnostic> {
    match parse_module(&source(text)) {
        Ok(_) => panic!("expected syntax errors in:\n{text}"),
        Err(diagnostics) => diagnostics,
    }
}

/// The text a span covers.
fn at(text: &str, span: Span) -> &str {
    &text[span.start..span.end]
}

fn task(module: &Module, index: usize) -> &Task {
    match &module.items[index] {
        Item::Task(t) => t,
        other => panic!("expected a task, found {other:?}"),
    }
}

fn workflow(module: &Module, index: usize) -> &Workflow {
    match &module.items[index] {
        Item::Workflow(w) => w,
        other => panic!("expected a workflow, found {other:?}"),
    }
}

/// The statements of `workflow main() { BODY }`.
fn stmts(body: &str) -> Vec<Stmt> {
    let module = parse(&format!("workflow main() {{\n{body}\n}}\n"));
    workflow(&module, 0).body.stmts.clone()
}

/// The expression of `let x = EXPR`.
fn expr(text: &str) -> Expr {
    match stmts(&format!("let x = {text}")).remove(0).kind {
        StmtKind::Let { value, .. } => value,
        other => panic!("expected a let, found {other:?}"),
    }
}

/// A compact rendering of an expression's structure: `(+ 1 (* 2 3))`.
fn sexpr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Null => "null".into(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Number(n) => n.text.clone(),
        ExprKind::Str(s) => {
            let parts: Vec<String> = s
                .parts
                .iter()
                .map(|p| match p {
                    StrPart::Text(t) => format!("{t:?}"),
                    StrPart::Interp(e) => format!("{{{}}}", sexpr(e)),
                })
                .collect();
            format!("(str {})", parts.join(" "))
        }
        ExprKind::List(items) => format!(
            "[{}]",
            items.iter().map(sexpr).collect::<Vec<_>>().join(" ")
        ),
        ExprKind::Object(entries) => format!(
            "{{{}}}",
            entries
                .iter()
                .map(|(k, v)| format!(
                    "{}{}: {}",
                    if k.quoted { "'" } else { "" },
                    k.name,
                    sexpr(v)
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ExprKind::Tuple(items) => format!(
            "(tuple {})",
            items.iter().map(sexpr).collect::<Vec<_>>().join(" ")
        ),
        ExprKind::Paren(inner) => format!("(paren {})", sexpr(inner)),
        ExprKind::Var(name) => name.name.clone(),
        ExprKind::Field(base, name) => format!("(. {} {})", sexpr(base), name.name),
        ExprKind::Index(base, index) => format!("(index {} {})", sexpr(base), sexpr(index)),
        ExprKind::Call(callee, args) => {
            let args: Vec<String> = args
                .iter()
                .map(|a| match &a.name {
                    Some(n) => format!("{}={}", n.name, sexpr(&a.value)),
                    None => sexpr(&a.value),
                })
                .collect();
            format!("(call {} {})", sexpr(callee), args.join(" "))
        }
        ExprKind::Unary(UnaryOp::Neg, inner) => format!("(neg {})", sexpr(inner)),
        ExprKind::Unary(UnaryOp::Not, inner) => format!("(not {})", sexpr(inner)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), sexpr(a), sexpr(b)),
    }
}

fn int(value: &Expr) -> i64 {
    match &value.kind {
        ExprKind::Number(Number {
            value: NumberValue::Int(i),
            ..
        }) => *i,
        other => panic!("expected an int, found {other:?}"),
    }
}

fn float(value: &Expr) -> f64 {
    match &value.kind {
        ExprKind::Number(Number {
            value: NumberValue::Float(f),
            ..
        }) => *f,
        other => panic!("expected a float, found {other:?}"),
    }
}

fn plain(value: &Expr) -> String {
    match &value.kind {
        ExprKind::Str(s) => s.as_plain().expect("a string without interpolation"),
        other => panic!("expected a string, found {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Imports
// ---------------------------------------------------------------------------------------------

#[test]
fn imports_of_std_modules_and_files() {
    let text = "import std.fs\nimport std.text as t\nimport \"lib/common.wf\"\nimport \"lib/x-y.wf\" as xy\n";
    let module = parse(text);
    let imports: Vec<&Import> = module
        .items
        .iter()
        .map(|i| match i {
            Item::Import(i) => i,
            other => panic!("expected an import, found {other:?}"),
        })
        .collect();
    assert_eq!(imports.len(), 4);

    match &imports[0].target {
        ImportTarget::Std { std_span, path } => {
            assert_eq!(at(text, *std_span), "std");
            assert_eq!(path.len(), 1);
            assert_eq!(at(text, path[0].span), "fs");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(imports[0].binding().name, "fs");
    assert_eq!(at(text, imports[0].span), "import std.fs");

    assert_eq!(imports[1].binding().name, "t");
    assert_eq!(at(text, imports[1].alias.as_ref().unwrap().span), "t");

    match &imports[2].target {
        ImportTarget::File {
            path,
            path_span,
            stem,
        } => {
            assert_eq!(path, "lib/common.wf");
            assert_eq!(at(text, *path_span), "\"lib/common.wf\"");
            assert_eq!(stem.name, "common");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(imports[2].binding().name, "common");
    assert_eq!(imports[3].binding().name, "xy");
}

#[test]
fn an_import_whose_file_name_is_not_a_name_needs_an_alias() {
    let errors = parse_errors("import \"lib/x-y.wf\"\n");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].message.contains("`x-y`"), "{}", errors[0].message);
    assert!(errors[0].help.as_deref().unwrap().contains("as x_y"));
}

// ---------------------------------------------------------------------------------------------
// Tasks: parameters, returns, directives, bodies, implementations
// ---------------------------------------------------------------------------------------------

#[test]
fn task_parameters_with_directions_types_modifiers_and_defaults() {
    let text = r#"task t(
    a: file,
    /// the output
    /// (one line each)
    b: out file as stdout,
    c: inout [file] depth 1,
    d: concurrent dir,
    e: commutative json,
    f: [[str]] prefix "--f=" = [],
    g: int = 3, h: float, i: bool = true, j: str = "x",
    k: file as stdin, l: out file as stderr,
) {
    shell "true"
}
"#;
    let module = parse(text);
    let t = task(&module, 0);
    let names: Vec<&str> = t.params.iter().map(|p| p.name.name.as_str()).collect();
    assert_eq!(
        names,
        ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"]
    );

    let p = |name: &str| t.params.iter().find(|p| p.name.name == name).unwrap();
    assert_eq!(p("a").direction, Direction::In);
    assert_eq!(p("a").direction_span, None);
    assert_eq!(p("a").ty.ty, Type::File);
    assert_eq!(p("b").direction, Direction::Out);
    assert_eq!(at(text, p("b").direction_span.unwrap()), "out");
    assert_eq!(p("b").stream(), Some(Stream::Stdout));
    assert_eq!(p("b").doc.as_deref(), Some("the output\n(one line each)"));
    assert_eq!(p("a").doc, None);
    assert_eq!(p("c").direction, Direction::InOut);
    assert_eq!(p("c").ty.ty, Type::List(Box::new(Type::File)));
    assert_eq!(p("c").depth(), Some(1));
    assert_eq!(p("d").direction, Direction::Concurrent);
    assert_eq!(p("d").ty.ty, Type::Dir);
    assert_eq!(p("e").direction, Direction::Commutative);
    assert_eq!(p("e").ty.ty, Type::Json);
    assert_eq!(
        p("f").ty.ty,
        Type::List(Box::new(Type::List(Box::new(Type::Str))))
    );
    assert_eq!(at(text, p("f").ty.span), "[[str]]");
    assert_eq!(p("f").prefix(), Some("--f="));
    assert_eq!(at(text, p("f").modifiers[0].span()), "prefix \"--f=\"");
    assert_eq!(sexpr(p("f").default.as_ref().unwrap()), "[]");
    assert_eq!(int(p("g").default.as_ref().unwrap()), 3);
    assert_eq!(p("h").ty.ty, Type::Float);
    assert_eq!(p("i").ty.ty, Type::Bool);
    assert_eq!(plain(p("j").default.as_ref().unwrap()), "x");
    assert_eq!(p("k").stream(), Some(Stream::Stdin));
    assert_eq!(p("l").stream(), Some(Stream::Stderr));
    // A parameter's span runs from its name to the end of its default; the doc is not in it.
    assert_eq!(at(text, p("g").span), "g: int = 3");
    assert_eq!(at(text, p("b").span), "b: out file as stdout");
}

#[test]
fn task_returns_and_docs() {
    let text = "/// Counts.\n///\n///  Indented line.\ntask one() -> int { shell \"x\" }\ntask two() -> (int, [str]) { shell \"x\" }\ntask none() { shell \"x\" }\n";
    let module = parse(text);
    let one = task(&module, 0);
    assert_eq!(one.doc.as_deref(), Some("Counts.\n\n Indented line."));
    assert!(matches!(
        &one.returns,
        Some(ReturnType::Single(TypeExpr { ty: Type::Int, .. }))
    ));
    assert_eq!(at(text, one.span), "task one() -> int { shell \"x\" }");
    assert_eq!(at(text, one.name.span), "one");
    match &task(&module, 1).returns {
        Some(ReturnType::Tuple(types, span)) => {
            assert_eq!(types.len(), 2);
            assert_eq!(types[1].ty, Type::List(Box::new(Type::Str)));
            assert_eq!(at(text, *span), "(int, [str])");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(task(&module, 2).returns, None);
    assert_eq!(task(&module, 2).doc, None);
}

#[test]
fn every_directive() {
    let text = r#"task t(n: int) {
    constraint { cores: 2, memory: 256MiB, labels: ["a"], }
    timeout 30s
    priority
    on_failure retry(2)
    distributed
    replicated
    workdir "/tmp/{n}"
    env { A: "x", B: str(n) }
    fail_on_exit true
    raises_on_exit [3, 4]
    container "ubuntu:24.04"
    multinode 2
    shell "true"
}
"#;
    let module = parse(text);
    let t = task(&module, 0);
    let keywords: Vec<&str> = t.directives.iter().map(|d| d.kind.keyword()).collect();
    assert_eq!(
        keywords,
        [
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
            "multinode"
        ]
    );
    match &t.directives[0].kind {
        DirectiveKind::Constraint(entries) => {
            let keys: Vec<&str> = entries.iter().map(|e| e.key.name.as_str()).collect();
            assert_eq!(keys, ["cores", "memory", "labels"]);
            assert_eq!(int(&entries[1].value), 256 << 20);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        at(text, t.directives[0].span),
        "constraint { cores: 2, memory: 256MiB, labels: [\"a\"], }"
    );
    match &t.directives[1].kind {
        DirectiveKind::Timeout(e) => assert_eq!(float(e), 30.0),
        other => panic!("{other:?}"),
    }
    match &t.directives[3].kind {
        DirectiveKind::OnFailure(FailurePolicy::Retry(n)) => assert_eq!(int(n), 2),
        other => panic!("{other:?}"),
    }
    match &t.directives[6].kind {
        DirectiveKind::Workdir(e) => assert_eq!(sexpr(e), "(str \"/tmp/\" {n})"),
        other => panic!("{other:?}"),
    }
    match &t.directives[7].kind {
        DirectiveKind::Env(entries) => assert_eq!(sexpr(&entries[1].value), "(call str n)"),
        other => panic!("{other:?}"),
    }
    match &t.directives[9].kind {
        DirectiveKind::RaisesOnExit(codes) => assert_eq!(codes.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn failure_policies() {
    for (written, expected) in [
        ("cancel_successors", FailurePolicy::CancelSuccessors),
        ("fail", FailurePolicy::Fail),
        ("ignore", FailurePolicy::Ignore),
    ] {
        let module = parse(&format!(
            "task t() {{\n    on_failure {written}\n    shell \"x\"\n}}\n"
        ));
        assert_eq!(
            task(&module, 0).directives[0].kind,
            DirectiveKind::OnFailure(expected)
        );
    }
}

fn body_of(text: &str) -> Body {
    let module = parse(text);
    match &task(&module, 0).body {
        TaskBody::Single(body) => body.clone(),
        other => panic!("expected one body, found {other:?}"),
    }
}

#[test]
fn binary_ompss_and_mpi_bodies() {
    let text = "task t(a: str) {\n    binary \"grep\" args [\"-e\", a,\n        \"x\",]\n}\n";
    match body_of(text) {
        Body::Binary {
            program,
            args,
            span,
        } => {
            assert_eq!(plain(&program), "grep");
            assert_eq!(args.unwrap().len(), 3);
            assert_eq!(
                at(text, span),
                "binary \"grep\" args [\"-e\", a,\n        \"x\",]"
            );
        }
        other => panic!("{other:?}"),
    }
    match body_of("task t() { binary \"ls\" }") {
        Body::Binary { args, .. } => assert_eq!(args, None),
        other => panic!("{other:?}"),
    }
    match body_of("task t() { ompss \"./app\" args [1] }") {
        Body::Ompss { program, args, .. } => {
            assert_eq!(plain(&program), "./app");
            assert_eq!(args.unwrap().len(), 1);
        }
        other => panic!("{other:?}"),
    }
    match body_of(
        "task t() {\n    mpi \"./sim\" { runner: \"mpirun\", processes: 4, nodes: 2, flags: \"-x\" } args [\"in\"]\n}\n",
    ) {
        Body::Mpi {
            program,
            options,
            args,
            ..
        } => {
            assert_eq!(plain(&program), "./sim");
            let keys: Vec<&str> = options.iter().map(|e| e.key.name.as_str()).collect();
            assert_eq!(keys, ["runner", "processes", "nodes", "flags"]);
            assert_eq!(args.unwrap().len(), 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn shell_bodies_are_raw() {
    let text = r#"task t(a: file) { shell "printf '%s\n' {{a}} \"q\" \\ | awk '{print $1}'" }"#;
    match body_of(text) {
        Body::Shell { template, span } => {
            assert_eq!(
                template.value,
                r#"printf '%s\n' {{a}} "q" \ | awk '{print $1}'"#
            );
            assert!(!template.triple);
            assert_eq!(at(text, template.span), &text[24..text.len() - 2]);
            assert!(at(text, span).starts_with("shell \""));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn triple_quoted_raw_bodies_have_no_escapes_and_are_dedented() {
    let text = "task t() {\n    shell \"\"\"\n        echo \"{x}\" \\n\n          indented\n\n        done\n    \"\"\"\n}\n";
    match body_of(text) {
        Body::Shell { template, .. } => {
            assert!(template.triple);
            assert_eq!(template.value, "echo \"{x}\" \\n\n  indented\n\ndone\n");
        }
        other => panic!("{other:?}"),
    }
    match body_of("task t() { shell \"\"\"echo '[1, \"two\"]'\"\"\" }") {
        Body::Shell { template, .. } => assert_eq!(template.value, "echo '[1, \"two\"]'"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn script_and_workflow_bodies() {
    let text = "task t() -> json {\n    script \"python3\" \"\"\"\n        import json\n        print(json.dumps({\"a\": 1}))\n    \"\"\"\n}\n";
    match body_of(text) {
        Body::Script {
            interpreter, code, ..
        } => {
            assert_eq!(plain(&interpreter), "python3");
            assert_eq!(code.value, "import json\nprint(json.dumps({\"a\": 1}))\n");
        }
        other => panic!("{other:?}"),
    }
    match body_of("task t(n: int, o: out file) {\n    workflow \"sub.wf\" args { n: n, o: o }\n}\n")
    {
        Body::Workflow { file, args, .. } => {
            assert_eq!(plain(&file), "sub.wf");
            assert_eq!(args.len(), 2);
            assert_eq!(args[1].key.name, "o");
        }
        other => panic!("{other:?}"),
    }
    match body_of("task t() { workflow \"sub.wf\" }") {
        Body::Workflow { args, .. } => assert!(args.is_empty()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn implementations() {
    let text = r#"task sort(data: file, sorted: out file) {
    timeout 1m
    impl gpu {
        constraint { gpus: 1 }
        binary "gpusort" args [data, sorted]
    }
    impl portable { binary "sort" args ["-o", sorted, data] }
}
"#;
    let module = parse(text);
    let t = task(&module, 0);
    assert_eq!(t.directives.len(), 1);
    match &t.body {
        TaskBody::Impls(impls) => {
            assert_eq!(impls.len(), 2);
            assert_eq!(impls[0].name.name, "gpu");
            assert_eq!(impls[0].directives.len(), 1);
            assert_eq!(impls[0].body.keyword(), "binary");
            assert_eq!(impls[1].name.name, "portable");
            assert!(impls[1].directives.is_empty());
            assert_eq!(
                at(text, impls[1].span),
                "impl portable { binary \"sort\" args [\"-o\", sorted, data] }"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn body_count_errors() {
    let none = parse_errors("task t() {\n    timeout 1s\n}\n");
    assert_eq!(none.len(), 1);
    assert_eq!(none[0].message, "task `t` has no body");

    let text = "task t() {\n    shell \"a\"\n    binary \"b\"\n}\n";
    let two = parse_errors(text);
    assert_eq!(two.len(), 1);
    assert_eq!(at(text, two[0].span), "binary \"b\"");
    assert_eq!(at(text, two[0].related[0].span), "shell \"a\"");

    let both = parse_errors("task t() {\n    shell \"a\"\n    impl x { shell \"b\" }\n}\n");
    assert_eq!(both.len(), 1);
    assert!(both[0].message.contains("both a body and `impl` blocks"));

    let empty_impl = parse_errors("task t() {\n    impl x { timeout 1s }\n}\n");
    assert_eq!(empty_impl[0].message, "implementation `x` has no body");
}

// ---------------------------------------------------------------------------------------------
// Functions and workflows
// ---------------------------------------------------------------------------------------------

#[test]
fn fns_and_workflows() {
    let text = "/// Adds.\nfn add(a: int, b: int = 1) -> int {\n    return a + b\n}\n\n/// Entry.\nworkflow main(\n    /// who\n    name: str = \"world\",\n) {\n}\n";
    let module = parse(text);
    match &module.items[0] {
        Item::Fn(f) => {
            assert_eq!(f.doc.as_deref(), Some("Adds."));
            assert_eq!(f.name.name, "add");
            assert_eq!(f.params.len(), 2);
            assert_eq!(f.returns.as_ref().map(|t| &t.ty), Some(&Type::Int));
            assert_eq!(f.body.stmts.len(), 1);
            assert_eq!(at(text, f.body.span), "{\n    return a + b\n}");
        }
        other => panic!("{other:?}"),
    }
    let w = workflow(&module, 1);
    assert_eq!(w.doc.as_deref(), Some("Entry."));
    assert_eq!(w.params[0].doc.as_deref(), Some("who"));
    assert!(w.body.stmts.is_empty());
    assert_eq!(module.items[1].defined_name().name, "main");
}

#[test]
fn a_fn_cannot_return_a_tuple() {
    let errors = parse_errors("fn f() -> (int, int) { return (1, 2) }\n");
    assert!(errors[0].message.contains("cannot return a tuple"));
}

// ---------------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------------

#[test]
fn let_and_assignments() {
    let s =
        stmts("let x = 1\nlet (a, b) = f()\nx = 2\nx += [3]\nxs[0] = 1\nm[\"k\"] += 2\nm.k = 3");
    assert_eq!(s.len(), 7);
    match &s[0].kind {
        StmtKind::Let { pattern, value } => {
            assert_eq!(
                pattern,
                &Pattern::Name(Ident {
                    name: "x".into(),
                    span: pattern.span()
                })
            );
            assert_eq!(int(value), 1);
        }
        other => panic!("{other:?}"),
    }
    match &s[1].kind {
        StmtKind::Let {
            pattern: Pattern::Tuple(names, _),
            ..
        } => assert_eq!(names.len(), 2),
        other => panic!("{other:?}"),
    }
    let assign = |stmt: &Stmt| match &stmt.kind {
        StmtKind::Assign { target, op, value } => (sexpr(target), *op, sexpr(value)),
        other => panic!("{other:?}"),
    };
    assert_eq!(assign(&s[2]), ("x".into(), AssignOp::Set, "2".into()));
    assert_eq!(assign(&s[3]), ("x".into(), AssignOp::Add, "[3]".into()));
    assert_eq!(
        assign(&s[4]),
        ("(index xs 0)".into(), AssignOp::Set, "1".into())
    );
    assert_eq!(assign(&s[5]).1, AssignOp::Add);
    assert_eq!(assign(&s[6]).0, "(. m k)");
}

#[test]
fn only_variables_elements_and_fields_can_be_assigned() {
    let errors = parse_errors("workflow main() {\n    f(x) = 1\n}\n");
    assert_eq!(errors[0].message, "cannot assign to this expression");
}

#[test]
fn if_else_chains() {
    let s = stmts("if a { f() } else if b {\n    g()\n}\nelse if c { } else { h() }\nif d { }");
    assert_eq!(s.len(), 2);
    match &s[0].kind {
        StmtKind::If {
            branches,
            otherwise,
        } => {
            let conds: Vec<String> = branches.iter().map(|b| sexpr(&b.cond)).collect();
            assert_eq!(conds, ["a", "b", "c"]);
            assert_eq!(branches[0].body.stmts.len(), 1);
            assert_eq!(otherwise.as_ref().unwrap().stmts.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    match &s[1].kind {
        StmtKind::If { otherwise, .. } => assert!(otherwise.is_none()),
        other => panic!("{other:?}"),
    }
}

#[test]
fn loops_groups_and_exceptions() {
    let s = stmts(
        "for x in xs { f(x) }\nfor (i, x) in enumerate(xs) {\n}\nwhile n < 3 { n += 1 }\ngroup \"g\" { f() }\ngroup name nowait {\n}\nbarrier\nbarrier \"g\"\ntry { raise \"boom\" } catch e { print(e.message) }\nreturn\nreturn 1",
    );
    let kinds: Vec<&str> = s
        .iter()
        .map(|s| match &s.kind {
            StmtKind::For { .. } => "for",
            StmtKind::While { .. } => "while",
            StmtKind::Group { .. } => "group",
            StmtKind::Barrier(_) => "barrier",
            StmtKind::Try { .. } => "try",
            StmtKind::Return(_) => "return",
            _ => "other",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "for", "for", "while", "group", "group", "barrier", "barrier", "try", "return",
            "return"
        ]
    );
    match &s[1].kind {
        StmtKind::For { pattern, iter, .. } => {
            assert_eq!(pattern.names().len(), 2);
            assert_eq!(sexpr(iter), "(call enumerate xs)");
        }
        other => panic!("{other:?}"),
    }
    match (&s[3].kind, &s[4].kind) {
        (
            StmtKind::Group {
                nowait: false,
                name,
                ..
            },
            StmtKind::Group { nowait: true, .. },
        ) => assert_eq!(plain(name), "g"),
        other => panic!("{other:?}"),
    }
    assert_eq!(s[5].kind, StmtKind::Barrier(None));
    assert!(matches!(&s[6].kind, StmtKind::Barrier(Some(_))));
    match &s[7].kind {
        StmtKind::Try { body, var, handler } => {
            assert!(matches!(body.stmts[0].kind, StmtKind::Raise(_)));
            assert_eq!(var.name, "e");
            assert_eq!(
                sexpr(match &handler.stmts[0].kind {
                    StmtKind::Expr(e) => e,
                    other => panic!("{other:?}"),
                }),
                "(call print (. e message))"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s[8].kind, StmtKind::Return(None));
    assert!(matches!(&s[9].kind, StmtKind::Return(Some(_))));
}

#[test]
fn statement_separators() {
    // `;`, newlines and the closing brace end statements; blank lines and comments are free.
    let s = stmts("a(); b()\n\n   // note\nc() /* x */ ; d()");
    assert_eq!(s.len(), 4);
    let one_line = parse("workflow main() { for x in xs { f(x); g(x) } }");
    match &workflow(&one_line, 0).body.stmts[0].kind {
        StmtKind::For { body, .. } => assert_eq!(body.stmts.len(), 2),
        other => panic!("{other:?}"),
    }
    // Two statements on one line need a separator.
    parse_errors("workflow main() { a() b() }");
}

#[test]
fn statement_spans() {
    let text = "workflow main() {\n    let x = f(1,\n        2)\n    x += 1\n}\n";
    let module = parse(text);
    let s = &workflow(&module, 0).body.stmts;
    assert_eq!(at(text, s[0].span), "let x = f(1,\n        2)");
    assert_eq!(at(text, s[1].span), "x += 1");
}

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

#[test]
fn precedence_and_associativity() {
    for (text, expected) in [
        ("1 + 2 * 3", "(+ 1 (* 2 3))"),
        ("1 - 2 - 3", "(- (- 1 2) 3)"),
        ("a / b % c", "(% (/ a b) c)"),
        ("a or b and c", "(or a (and b c))"),
        ("not a == b", "(not (== a b))"),
        ("not a and b", "(and (not a) b)"),
        ("a < b + 1", "(< a (+ b 1))"),
        ("-a * b", "(* (neg a) b)"),
        ("-x.y[0]", "(neg (index (. x y) 0))"),
        (
            "a != b or c >= d and e <= f",
            "(or (!= a b) (and (>= c d) (<= e f)))",
        ),
        ("(1 + 2) * 3", "(* (paren (+ 1 2)) 3)"),
        ("- - 1", "(neg (neg 1))"),
        ("not not true", "(not (not true))"),
        ("a > b", "(> a b)"),
    ] {
        assert_eq!(sexpr(&expr(text)), expected, "{text}");
    }
}

#[test]
fn comparisons_do_not_chain() {
    let errors = parse_errors("workflow main() { let x = a < b < c }");
    assert_eq!(errors[0].message, "comparisons cannot be chained");
    // Parentheses make it explicit.
    expr("(a < b) == c");
}

#[test]
fn postfix_calls_indexes_and_fields() {
    assert_eq!(
        sexpr(&expr("util.shout(x)[0].group")),
        "(. (index (call (. util shout) x) 0) group)"
    );
    assert_eq!(
        sexpr(&expr("f(a, b, mode = \"fast\", n = 1 + 2)")),
        "(call f a b mode=(str \"fast\") n=(+ 1 2))"
    );
    assert_eq!(sexpr(&expr("f(a == b)")), "(call f (== a b))");
    assert_eq!(sexpr(&expr("f()")), "(call f )");
    // After a `.`, reserved words are field names.
    assert_eq!(sexpr(&expr("e.task")), "(. e task)");
    assert_eq!(sexpr(&expr("e.in.for")), "(. (. e in) for)");
}

#[test]
fn positional_arguments_come_first() {
    let errors = parse_errors("workflow main() { f(mode = 1, x) }");
    assert_eq!(
        errors[0].message,
        "a positional argument cannot follow a named argument"
    );
}

#[test]
fn literals() {
    assert_eq!(expr("null").kind, ExprKind::Null);
    assert_eq!(expr("true").kind, ExprKind::Bool(true));
    assert_eq!(expr("false").kind, ExprKind::Bool(false));
    assert_eq!(int(&expr("42")), 42);
    assert_eq!(int(&expr("1_000_000")), 1_000_000);
    assert_eq!(float(&expr("3.5")), 3.5);
    assert_eq!(float(&expr("1e-3")), 0.001);
    assert_eq!(int(&expr("512KiB")), 512 * 1024);
    assert_eq!(int(&expr("8GiB")), 8 << 30);
    assert_eq!(int(&expr("1TiB")), 1 << 40);
    assert_eq!(int(&expr("100KB")), 100_000);
    assert_eq!(int(&expr("2GB")), 2_000_000_000);
    assert_eq!(int(&expr("64B")), 64);
    assert_eq!(float(&expr("250ms")), 0.25);
    assert_eq!(float(&expr("10m")), 600.0);
    assert_eq!(float(&expr("2h")), 7200.0);
    assert_eq!(float(&expr("1d")), 86400.0);
    match expr("1_000").kind {
        ExprKind::Number(n) => assert_eq!(n.text, "1_000"),
        other => panic!("{other:?}"),
    }
    assert_eq!(int(&expr("-5").clone().kind.as_neg()), 5);
}

/// `Unary(Neg, x)` → `x`, for the test above.
trait AsNeg {
    fn as_neg(&self) -> Expr;
}

impl AsNeg for ExprKind {
    fn as_neg(&self) -> Expr {
        match self {
            ExprKind::Unary(UnaryOp::Neg, inner) => (**inner).clone(),
            other => panic!("expected a negation, found {other:?}"),
        }
    }
}

#[test]
fn number_errors() {
    let errors = parse_errors("workflow main() {\n    let a = 9223372036854775808\n    let b = 10min\n    let c = 1.5B\n}\n");
    assert_eq!(errors.len(), 3);
    assert!(errors[0].message.contains("too large"));
    assert!(errors[1].message.contains("unknown unit `min`"));
    assert!(errors[2].message.contains("whole number of bytes"));
    expr("9223372036854775807");
}

#[test]
fn collections() {
    assert_eq!(sexpr(&expr("[1, [2, 3], ]")), "[1 [2 3]]");
    assert_eq!(sexpr(&expr("[]")), "[]");
    assert_eq!(
        sexpr(&expr("{ \"k\": [1, null, true], ident: 2, group: 3 }")),
        "{'k: [1 null true], ident: 2, group: 3}"
    );
    assert_eq!(sexpr(&expr("{}")), "{}");
    assert_eq!(sexpr(&expr("(a, b)")), "(tuple a b)");
    assert_eq!(sexpr(&expr("(a, b,)")), "(tuple a b)");
    assert_eq!(sexpr(&expr("(a)")), "(paren a)");
    let errors = parse_errors("workflow main() { let t = (a,) }");
    assert_eq!(errors[0].message, "a tuple needs at least two elements");
}

#[test]
fn object_key_spans() {
    let text = "workflow main() { let m = {\"k\": 1, j: 2} }";
    let module = parse(text);
    let StmtKind::Let { value, .. } = &workflow(&module, 0).body.stmts[0].kind else {
        panic!()
    };
    let ExprKind::Object(entries) = &value.kind else {
        panic!()
    };
    assert_eq!(at(text, entries[0].0.span), "\"k\"");
    assert!(entries[0].0.quoted);
    assert_eq!(at(text, entries[1].0.span), "j");
    assert!(!entries[1].0.quoted);
}

#[test]
fn newlines_inside_brackets_are_free() {
    let e = expr("f(\n    a,\n    [1,\n     2],\n    {\n        \"k\": 1,\n    },\n    x = (1\n        + 2),\n)");
    assert_eq!(sexpr(&e), "(call f a [1 2] {'k: 1} x=(paren (+ 1 2)))");
    // A line that ends with an operator continues on the next one.
    assert_eq!(sexpr(&expr("1 +\n    2")), "(+ 1 2)");
    // …but a newline ends a statement before an operator.
    assert_eq!(stmts("let x = 1\n-2").len(), 2);
}

#[test]
fn expression_spans() {
    let text = "workflow main() { let x = a + f(b)[0] * -c }";
    let module = parse(text);
    let StmtKind::Let { value, .. } = &workflow(&module, 0).body.stmts[0].kind else {
        panic!()
    };
    assert_eq!(at(text, value.span), "a + f(b)[0] * -c");
    let ExprKind::Binary(_, lhs, rhs) = &value.kind else {
        panic!()
    };
    assert_eq!(at(text, lhs.span), "a");
    assert_eq!(at(text, rhs.span), "f(b)[0] * -c");
    let ExprKind::Binary(_, index, neg) = &rhs.kind else {
        panic!()
    };
    assert_eq!(at(text, index.span), "f(b)[0]");
    assert_eq!(at(text, neg.span), "-c");
}

#[test]
fn reserved_words_are_not_names() {
    for word in ["in", "out", "task", "not", "impl", "nowait"] {
        parse_errors(&format!("workflow main() {{ let {word} = 1 }}"));
    }
    // A reserved word inside a longer name is fine; so are the directive words.
    let s = stmts("let task_count = 1\nlet input = 2\nlet shell = 3\nlet std = 4\nlet args = 5");
    assert_eq!(s.len(), 5);
}

// ---------------------------------------------------------------------------------------------
// Strings
// ---------------------------------------------------------------------------------------------

#[test]
fn string_escapes_interpolation_and_braces() {
    assert_eq!(
        sexpr(&expr(r#""a\n\t\\\"\{\} {x} {{y}} {f(1, "s")}!""#)),
        r#"(str "a\n\t\\\"{} " {x} " {y} " {(call f 1 (str "s"))} "!")"#
    );
    assert_eq!(sexpr(&expr(r#""{ a + 1 }""#)), "(str {(+ a 1)})");
    assert_eq!(sexpr(&expr(r#""""#)), "(str )");
    match expr(r#""plain""#).kind {
        ExprKind::Str(s) => assert!(!s.triple),
        other => panic!("{other:?}"),
    }
}

#[test]
fn triple_quoted_strings_interpolate_and_dedent() {
    let e = expr("\"\"\"\n        a {x}\n          b \\t\n\n        }} c\n        \"\"\"");
    match &e.kind {
        ExprKind::Str(s) => {
            assert!(s.triple);
            assert_eq!(sexpr(&e), "(str \"a \" {x} \"\\n  b \\t\\n\\n} c\\n\")");
        }
        other => panic!("{other:?}"),
    }
    // `"""⏎····a⏎····"""` is "a\n".
    assert_eq!(plain(&expr("\"\"\"\n    a\n    \"\"\"")), "a\n");
    assert_eq!(plain(&expr("\"\"\"one line\"\"\"")), "one line");
}

#[test]
fn string_errors() {
    let text = "workflow main() {\n    print(\"a\\qb\")\n}\n";
    let errors = parse_errors(text);
    assert_eq!(at(text, errors[0].span), "\\q");
    let text = "workflow main() {\n    print(\"abc)\n}\n";
    let errors = parse_errors(text);
    assert_eq!(errors[0].message, "unterminated string");
    assert_eq!(errors[0].span.start, text.find('"').unwrap());
}

// ---------------------------------------------------------------------------------------------
// Comments
// ---------------------------------------------------------------------------------------------

#[test]
fn comments_are_kept_in_order_and_docs_are_not_comments() {
    let text = "// head\n/* block /* nested */ */\n/// doc of t\ntask t(\n    // before a\n    a: int, // after a\n) {\n    shell \"x\" // tail\n}\nworkflow main() {\n    /// a doc that documents nothing\n    f() /* mid */ + 1\n}\n// end\n";
    let module = parse(text);
    let comments: Vec<&str> = module.comments.iter().map(|c| c.text.as_str()).collect();
    assert_eq!(
        comments,
        [
            "// head",
            "/* block /* nested */ */",
            "// before a",
            "// after a",
            "// tail",
            "/// a doc that documents nothing",
            "/* mid */",
            "// end"
        ]
    );
    for comment in &module.comments {
        assert_eq!(at(text, comment.span), comment.text);
    }
    assert_eq!(task(&module, 0).doc.as_deref(), Some("doc of t"));
}

#[test]
fn slashes_in_strings_are_not_comments() {
    let module = parse("workflow main() { print(\"http://x /* y */\") }");
    assert!(module.comments.is_empty());
}

#[test]
fn doc_comments_before_an_import_are_kept_as_comments() {
    let module = parse("/// about the import\nimport std.fs\n");
    assert_eq!(module.comments.len(), 1);
    assert_eq!(module.comments[0].text, "/// about the import");
}

// ---------------------------------------------------------------------------------------------
// Errors: recovery and robustness
// ---------------------------------------------------------------------------------------------

#[test]
fn every_broken_item_is_reported_in_one_pass() {
    let text = "task a() {\n    shell \"x\"\n    shell \"y\"\n}\n\nworkflow b() {\n    let = 1\n}\n\nworkflow c() {\n    let y = (\n}\n\nfn d() { return 99999999999999999999 }\n\nworkflow e() { print(1) }\n";
    let errors = parse_errors(text);
    let lines: Vec<usize> = errors.iter().map(|d| d.line_col().0).collect();
    assert_eq!(lines, [3, 7, 12, 14]);
    assert!(errors.iter().all(|d| d.code == Code::Syntax));
}

#[test]
fn an_unclosed_item_does_not_hide_the_next_one() {
    let text = "workflow a() {\n    print(1)\n\nworkflow b() {\n    let = 2\n}\n";
    let errors = parse_errors(text);
    let lines: Vec<usize> = errors.iter().map(|d| d.line_col().0).collect();
    assert_eq!(lines, [1, 5]);
}

#[test]
fn item_keywords_inside_strings_are_not_resume_points() {
    // `import json` at column 0 inside a script is code of the script, not an item: the
    // error after it is found in `main`, and `other` is still checked.
    let text = "task t() {\n    script \"python3\" \"\"\"\nimport json\nprint(1)\n\"\"\"\n}\n\nworkflow main() {\n    let = 1\n}\n\nworkflow other() {\n    let = 2\n}\n";
    let errors = parse_errors(text);
    let lines: Vec<usize> = errors.iter().map(|d| d.line_col().0).collect();
    assert_eq!(lines, [9, 13]);
}

#[test]
fn an_item_left_open_is_reported_at_its_brace() {
    let text = "task a() {\n    shell \"x\"\n\nworkflow main() {\n    a()\n}\n\nworkflow b() {\n    let = 1\n}\n";
    let errors = parse_errors(text);
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].message, "this `{` is never closed");
    assert_eq!(errors[0].span.start, text.find('{').unwrap());
    assert_eq!(errors[1].line_col().0, 9);
}

#[test]
fn pathological_inputs_are_errors_not_crashes() {
    let deep_parens = format!(
        "workflow main() {{ let x = {}1{} }}",
        "(".repeat(50_000),
        ")".repeat(50_000)
    );
    let deep_lists = format!(
        "task t(a: {}int{}) {{ shell \"x\" }}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    let negations = format!("workflow main() {{ let x = {}1 }}", "- ".repeat(50_000));
    let long_sum = format!(
        "workflow main() {{ let x = {} }}",
        vec!["1"; 100_000].join(" + ")
    );
    let nested_strings = format!(
        "workflow main() {{ let x = {}1{} }}",
        "\"{".repeat(3_000),
        "}\"".repeat(3_000)
    );
    let nested_blocks = format!(
        "workflow main() {{ {} }}",
        "if x { ".repeat(5_000) + &"}".repeat(5_000)
    );
    for text in [
        deep_parens,
        deep_lists,
        negations,
        long_sum,
        nested_strings,
        nested_blocks,
    ] {
        let errors = parse_errors(&text);
        assert!(errors.iter().all(|d| d.code == Code::Syntax));
    }
}

mod robustness {
    use super::*;
    use proptest::prelude::*;

    const PIECES: [&str; 48] = [
        "task",
        "fn",
        "workflow",
        "import",
        "let",
        "if",
        "else",
        "for",
        "in",
        "while",
        "return",
        "group",
        "nowait",
        "barrier",
        "try",
        "catch",
        "raise",
        "shell",
        "script",
        "binary",
        "impl",
        "constraint",
        "x",
        "file",
        "out",
        "1",
        "2.5",
        "3GiB",
        "\"s {x} \"",
        "\"\"\"",
        "\"",
        "{",
        "}",
        "(",
        ")",
        "[",
        "]",
        ",",
        ":",
        "=",
        "+",
        "->",
        "\n",
        ";",
        "//",
        "/*",
        "*/",
        "///",
    ];

    const PROGRAM: &str = "import std.fs\n/// doc\ntask t(a: file, b: out [file] as stdout = [], c: int = 1) -> (int, str) {\n    constraint { cores: 1, memory: 2GiB }\n    on_failure retry(2)\n    shell \"\"\"\n        echo {{a}}\n    \"\"\"\n}\nfn f(x: int) -> int { return -x * 2 }\nworkflow main(n: int = 3) {\n    let (p, q) = t(\"a\", [\"b\"])\n    for (i, x) in enumerate([1, 2]) { print(\"{i}: {x}\") }\n    try { group \"g\" nowait { f(1) } } catch e { raise e.message }\n    if n > 1 and not false { barrier } else { m[\"k\"] += 1 }\n}\n";

    fn check(text: &str) {
        let file = SourceFile::new("fuzz.wf", text);
        if let Err(errors) = parse_module(&file) {
            assert!(!errors.is_empty());
            for error in errors {
                assert_eq!(error.code, Code::Syntax);
                assert!(error.span.start <= error.span.end && error.span.end <= text.len());
                assert!(
                    text.is_char_boundary(error.span.start)
                        && text.is_char_boundary(error.span.end)
                );
                // Rendering must work for every error too.
                render_plain(&error);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn token_soup_never_panics(pieces in prop::collection::vec(prop::sample::select(PIECES.to_vec()), 0..60)) {
            check(&pieces.join(" "));
        }

        #[test]
        fn arbitrary_text_never_panics(text in "\\PC{0,200}") {
            check(&text);
        }

        #[test]
        fn edited_programs_never_panic(
            position in 0..PROGRAM.len(),
            deleted in 0usize..8,
            inserted in "[\\PC\n]{0,3}",
        ) {
            let mut start = position;
            while !PROGRAM.is_char_boundary(start) {
                start -= 1;
            }
            let mut end = (start + deleted).min(PROGRAM.len());
            while !PROGRAM.is_char_boundary(end) {
                end += 1;
            }
            let text = format!("{}{}{}", &PROGRAM[..start], inserted, &PROGRAM[end..]);
            check(&text);
        }
    }

    #[test]
    fn the_base_program_parses() {
        parse(PROGRAM);
    }
}

// ---------------------------------------------------------------------------------------------
// A corpus of small programs
// ---------------------------------------------------------------------------------------------

const CORPUS: &[&str] = &[
    // Word counts: constraints, shell templates, a script returning json, a map-reduce loop.
    r#"
/// Counts the words of one text file.
task count(text: file, result: out file) {
    constraint { cores: 1, memory: 256MiB }
    shell "wc -w < {{text}} > {{result}}"
}

task total(parts: [file]) -> int {
    script "python3" """
        import json, os
        args = json.load(open(os.environ["WEFT_ARGS"]))
        print(sum(int(open(p).read().split()[0]) for p in args["parts"]))
    """
}

workflow main(input: dir = "data", outdir: str = "counts") {
    let parts = []
    for f in glob("{input}/*.txt") {
        let r = "{outdir}/{stem(f)}.count"
        count(f, r)
        parts += [r]
    }
    let n = total(parts)          // a future
    print("{len(parts)} files, {n} words")
}
"#,
    // Streams, prefixes, exit statuses as values.
    r#"
task grepper(keyword: str, infile: file as stdin, result: out file as stdout) {
    binary "grep"
}
task my_ls(flag: str, hide: file prefix "--hide=", sort: str prefix "--sort=") {
    binary "ls"
}
task probe(path: str) -> int {
    fail_on_exit false
    raises_on_exit [9]
    binary "test" args ["-e", path]
}
workflow main() {
    grepper("alpha", "in.txt", "out.txt")
    let status = probe("here.txt")
    if status == 0 { print("here") } else { print("missing: {status}") }
}
"#,
    // Groups, exceptions, barriers.
    r#"
task probe(i: int) {
    timeout 20s
    on_failure ignore
    shell """
        if [ {{i}} -eq 0 ]; then echo "found" > "$WEFT_RAISE"; exit 1; fi
        awk '{print $1}' data.txt > /dev/null
    """
}
workflow main() {
    try {
        group "search" {
            for i in range(6) { probe(i) }
        }
        print("not reached")
    } catch e {
        print("caught: {e.message} in {e.group}")
    }
    group "later" nowait { probe(7) }
    barrier "later"
    barrier
}
"#,
    // fns, while loops, futures in lists, returns.
    r#"
task add(a: int, b: int) -> int {
    shell "echo $(( {{a}} + {{b}} ))"
}

/// Tree reduction over a list of futures.
fn reduce(xs: [int]) -> int {
    while len(xs) > 1 {
        let next = []
        for i in range(0, len(xs) - 1, 2) { next += [add(xs[i], xs[i + 1])] }
        if len(xs) % 2 == 1 { next += [xs[len(xs) - 1]] }
        xs = next
    }
    return xs[0]
}

workflow main() {
    print(reduce([1, 2, 3, 4, 5]), div(7, 2), 7 / 2, -3 % 2)
}
"#,
    // Imports, json values updated in place, objects and tuples.
    r#"
import std.fs
import std.text as t
import "lib/util.wf" as util

task push(xs: inout json, x: int) {
    env { WEFT_DEBUG: "1" }
    workdir "work"
    script "python3" """
        import json, os
        a = json.load(open(os.environ["WEFT_ARGS"]))
        json.dump(a["xs"] + [a["x"]], open(os.environ["WEFT_OUT_xs"], "w"))
    """
}

task split(src: file) -> (int, str) {
    shell "wc -l < {{src}}"
}

workflow main() {
    let xs = [0]
    for i in range(1, 4) { push(xs, i * 10) }
    let m = {"a": 1, b: [true, null], "c d": {"e": 2.5}}
    m["b"] = "two"; m.a += 1
    let (n, s) = split("in.txt")
    util.shout(t.upper("quiet"), "out.txt")
    fs.copy("a", "b")
    print(m.a, m["b"], len(wait(xs)), n, s)
}
"#,
    // Implementations, mpi, multinode, containers, nested workflows.
    r#"
task simulate(cfg: str, o: out file as stdout) {
    multinode 2
    container "ghcr.io/x/sim:1"
    distributed
    impl cluster {
        constraint { cores: 16, labels: ["mpi"] }
        mpi "./sim" { runner: "mpirun", processes: 32, nodes: 2, flags: "--bind-to core" } args [cfg]
    }
    impl laptop {
        ompss "./sim-seq" args [cfg]
    }
}
task sub(n: int, o: out file) {
    replicated
    priority
    workflow "sub.wf" args { n: n, o: o }
}
workflow main() {
    simulate("small", "sim.txt")
    sub(3, "sub.txt")
}
"#,
    // Messy but valid formatting: one-liners, odd spacing, trailing commas, comments.
    "task   count( text : file,result:out file ){\n  constraint {cores:1,memory:256MiB}\n      shell \"wc -w < {{text}} > {{result}}\"\n}\nworkflow main(){ let xs=[1,2,3]\n  for x in xs { count(\"in{x}.txt\",\"out{x}.txt\") } }\n",
    // Windows line endings and tabs.
    "workflow main() {\r\n\tlet x = [\r\n\t\t1,\r\n\t]\r\n\tprint(x)\r\n}\r\n",
    // An empty file, and one with only comments.
    "",
    "// nothing here\n/* nor here */\n",
];

#[test]
fn the_corpus_parses() {
    for program in CORPUS {
        parse(program);
    }
}

#[test]
fn the_corpus_keeps_every_comment() {
    let module = parse(CORPUS[0]);
    assert_eq!(module.comments.len(), 1);
    assert_eq!(module.comments[0].text, "// a future");
    let module = parse(CORPUS[CORPUS.len() - 1]);
    assert_eq!(module.comments.len(), 2);
}
