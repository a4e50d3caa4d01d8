//! Loading programs: nested relative imports, std imports, each file once, errors in imported
//! files, callee resolution and the entry workflow.

use std::fs;
use std::path::Path;

use weft_compiler::ast::{Expr, ExprKind, Ident, Span};
use weft_compiler::diagnostic::Code;
use weft_compiler::program::{Callee, Program};

fn write(dir: &Path, relative: &str, text: &str) {
    let path = dir.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
}

fn var(name: &str) -> Expr {
    Expr {
        kind: ExprKind::Var(Ident {
            name: name.to_string(),
            span: Span::default(),
        }),
        span: Span::default(),
    }
}

fn field(base: &str, name: &str) -> Expr {
    Expr {
        kind: ExprKind::Field(
            Box::new(var(base)),
            Ident {
                name: name.to_string(),
                span: Span::default(),
            },
        ),
        span: Span::default(),
    }
}

/// main.wf → lib/a.wf → lib/b.wf and shared/c.wf (via `..`); main.wf also imports lib/b.wf
/// under another name.
fn nested_project(dir: &Path) {
    write(
        dir,
        "main.wf",
        r#"import "lib/a.wf"
import "lib/b.wf" as bee
import std.fs

workflow main() {
    a.run("x.txt")
    bee.shout("y.txt")
    fs.copy("x.txt", "z.txt")
}
"#,
    );
    write(
        dir,
        "lib/a.wf",
        r#"import "b.wf"
import "../shared/c.wf"

fn run(p: str) {
    b.shout(p)
    c.touch(p)
}
"#,
    );
    write(
        dir,
        "lib/b.wf",
        r#"task shout(o: out file) {
    shell "echo HEY > {{o}}"
}
"#,
    );
    write(
        dir,
        "shared/c.wf",
        r#"task touch(o: out file) {
    shell "touch {{o}}"
}
"#,
    );
}

#[test]
fn nested_relative_imports_load_each_file_once() {
    let dir = tempfile::tempdir().unwrap();
    nested_project(dir.path());
    let program = Program::load(&dir.path().join("main.wf")).expect("the project loads");

    // main, a, b, c, std.fs: b is imported twice but loaded once.
    assert_eq!(program.modules.len(), 5);
    let root = program.root_module();
    assert_eq!(root.imports.keys().collect::<Vec<_>>(), ["a", "bee", "fs"]);
    let a = &program.modules[root.imports["a"]];
    assert!(a.file.path().ends_with("lib/a.wf"));
    assert_eq!(
        a.imports["b"], root.imports["bee"],
        "one module for lib/b.wf"
    );
    let c = &program.modules[a.imports["c"]];
    assert!(c.file.path().ends_with("shared/c.wf"));
    assert!(c.tasks.contains_key("touch"));
    let fs_module = &program.modules[root.imports["fs"]];
    assert_eq!(fs_module.file.path(), Path::new("<std>/fs.wf"));
    assert!(fs_module.tasks.contains_key("copy"));

    let diagnostics = weft_compiler::analysis::analyze(&program);
    assert!(
        diagnostics.is_empty(),
        "{:?}",
        diagnostics.iter().map(|d| &d.message).collect::<Vec<_>>()
    );
}

#[test]
fn resolve_callee_finds_local_qualified_and_builtin_names() {
    let dir = tempfile::tempdir().unwrap();
    nested_project(dir.path());
    let program = Program::load(&dir.path().join("main.wf")).unwrap();
    let root = program.root;

    match program.resolve_callee(root, &field("bee", "shout")) {
        Some(Callee::Task(module, task)) => {
            assert_eq!(task.name.name, "shout");
            assert!(program.modules[module].file.path().ends_with("lib/b.wf"));
        }
        other => panic!("expected the task bee.shout, got {other:?}"),
    }
    assert!(matches!(
        program.resolve_callee(root, &field("a", "run")),
        Some(Callee::Fn(_, f)) if f.name.name == "run"
    ));
    assert!(matches!(
        program.resolve_callee(root, &var("main")),
        Some(Callee::Workflow(_, w)) if w.name.name == "main"
    ));
    assert!(matches!(
        program.resolve_callee(root, &var("glob")),
        Some(Callee::Builtin(b)) if b.name == "glob"
    ));
    // Imported names are only reachable qualified.
    assert!(program.resolve_callee(root, &var("shout")).is_none());
    assert!(program
        .resolve_callee(root, &field("nope", "shout"))
        .is_none());
    assert!(program
        .resolve_callee(root, &field("bee", "nope"))
        .is_none());
}

#[test]
fn a_local_definition_shadows_a_builtin() {
    let program = Program::from_source(
        Path::new("main.wf"),
        "task glob(o: out file) {\n    shell \"touch {{o}}\"\n}\n\nworkflow main() {\n    glob(\"x\")\n}\n"
            .to_string(),
    )
    .unwrap();
    assert!(matches!(
        program.resolve_callee(program.root, &var("glob")),
        Some(Callee::Task(..))
    ));
}

#[test]
fn errors_in_imported_files_are_reported_with_their_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.wf",
        "import \"lib/broken.wf\"\nimport \"lib/gone.wf\"\n\nworkflow main() {\n    print(1)\n}\n",
    );
    write(dir.path(), "lib/broken.wf", "task broken( {\n");
    let errors = Program::load(&dir.path().join("main.wf")).expect_err("two files are wrong");
    let found: Vec<(Code, String)> = errors
        .iter()
        .map(|d| {
            let file = d
                .file
                .path()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            (d.code, file)
        })
        .collect();
    assert!(
        found.contains(&(Code::Syntax, "broken.wf".to_string())),
        "{found:?}"
    );
    assert!(
        found.contains(&(Code::Import, "main.wf".to_string())),
        "{found:?}"
    );
}

#[test]
fn a_file_importing_itself_is_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.wf",
        "import \"main.wf\"\n\nworkflow main() {\n}\n",
    );
    let errors = Program::load(&dir.path().join("main.wf")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, Code::Import);
    assert_eq!(errors[0].message, "import cycle: main.wf → main.wf");
}

#[test]
fn a_missing_root_file_is_an_error_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let errors = Program::load(&dir.path().join("absent.wf")).unwrap_err();
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].message.contains("no such file"),
        "{}",
        errors[0].message
    );
}

#[test]
fn std_modules_are_loaded_from_the_binary() {
    let program = Program::from_source(
        Path::new("main.wf"),
        "import std.text as t\nimport std.json\n\nworkflow main() {\n    t.sort(\"a\", \"b\")\n    json.write({}, \"c\")\n}\n"
            .to_string(),
    )
    .unwrap();
    let root = program.root_module();
    assert_eq!(root.imports.keys().collect::<Vec<_>>(), ["t", "json"]);
    assert_eq!(
        program.modules[root.imports["t"]].file.path(),
        Path::new("<std>/text.wf")
    );
}

#[test]
fn entry_workflow_rules() {
    let load = |text: &str| Program::from_source(Path::new("w.wf"), text.to_string()).unwrap();

    let only = load("workflow build() {\n}\n");
    assert_eq!(only.entry_workflow(None).unwrap().name.name, "build");

    let several = load("workflow main() {\n}\n\nworkflow other() {\n}\n");
    assert_eq!(several.entry_workflow(None).unwrap().name.name, "main");
    assert_eq!(
        several.entry_workflow(Some("other")).unwrap().name.name,
        "other"
    );
    let err = several.entry_workflow(Some("nope")).unwrap_err();
    assert!(err.contains("`main`") && err.contains("`other`"), "{err}");

    let ambiguous = load("workflow a() {\n}\n\nworkflow b() {\n}\n");
    let err = ambiguous.entry_workflow(None).unwrap_err();
    assert!(err.contains("--workflow"), "{err}");

    let none = load("fn f() {\n}\n");
    assert!(none
        .entry_workflow(None)
        .unwrap_err()
        .contains("no workflow"));
}
