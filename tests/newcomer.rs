//! What a newcomer meets first: `weft init`, `weft doc`, the help texts, shell completions,
//! the man page, and colours that stay off when they should.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Outcome, Project};
use weft_compiler::ast::Item;
use weft_compiler::diagnostic::SourceFile;
use weft_compiler::parser::parse_module;

/// The subcommands this work added or documents: each must be listed by `weft --help`.
const KNOWN_SUBCOMMANDS: &[&str] = &[
    "check",
    "fmt",
    "graph",
    "run",
    "config",
    "init",
    "doc",
    "completions",
    "man",
];

/// Every subcommand `weft --help` lists (hidden ones and clap's `help` aside): the tests of
/// help, completions and man pages hold for commands added later too.
fn subcommands() -> Vec<String> {
    let help = Project::new().weft(&["--help"]);
    help.success();
    let listed: Vec<String> = help
        .stdout
        .lines()
        .skip_while(|line| *line != "Commands:")
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    for known in KNOWN_SUBCOMMANDS {
        assert!(
            listed.iter().any(|l| l == known),
            "`weft --help` does not list {known}:\n{}",
            help.stdout
        );
    }
    listed
}

// ---------------------------------------------------------------------------------------------
// weft init
// ---------------------------------------------------------------------------------------------

const STARTER_FILES: &[&str] = &[
    "main.wf",
    "weft.yaml",
    "data/tasks.txt",
    "data/files.txt",
    "data/order.txt",
    ".gitignore",
];

#[test]
fn init_writes_a_starter_that_checks_formats_and_runs() {
    let project = Project::new();
    let init = project.weft(&["init", "hello"]);
    init.success().expect_stderr("cd hello");
    for file in STARTER_FILES {
        assert!(
            project.exists(&format!("hello/{file}")),
            "{file} is missing"
        );
    }
    // Relative paths are relative to where `weft run` starts: the starter runs from its own
    // folder, as the printed next steps say.
    let starter = Project::new();
    for file in STARTER_FILES {
        starter.write(file, &project.read(&format!("hello/{file}")));
    }
    starter
        .weft(&["check", "--deny", "warnings", "--format", "json", "main.wf"])
        .success()
        .expect_stdout(&[]);
    starter.weft(&["fmt", "--check", "main.wf"]).success();
    starter
        .run(&[])
        .success()
        .expect_stdout(&["3 files, 28 words"]);
    for (stem, words) in [("tasks", "12"), ("files", "7"), ("order", "9")] {
        assert_eq!(starter.read(&format!("counts/{stem}.count")).trim(), words);
    }
    // Its options are documented.
    let help = starter.run(&["--help"]);
    help.success();
    assert!(help
        .stdout
        .contains("the folder holding the .txt files to count"));
    // The same answer with another option and one task at a time.
    starter.write("more/one.txt", "one two three\n");
    starter
        .run(&["--input", "more", "--sequential"])
        .success()
        .expect_stdout(&["1 files, 3 words"]);
}

#[test]
fn init_into_the_current_folder_needs_no_cd() {
    let project = Project::new();
    let init = project.weft(&["init"]);
    init.success()
        .expect_stderr("weft run main.wf")
        .expect_no_stderr("cd ");
    project
        .run(&[])
        .success()
        .expect_stdout(&["3 files, 28 words"]);
}

#[test]
fn init_refuses_to_overwrite_and_then_writes_nothing() {
    let project = Project::new();
    project.write("hello/data/files.txt", "my own data\n");
    project.write("hello/weft.yaml", "executor: local\n");
    let refused = project.weft(&["init", "hello"]);
    refused
        .expect_status(2)
        .expect_stderr("would overwrite")
        .expect_stderr("hello/weft.yaml")
        .expect_stderr("hello/data/files.txt")
        .expect_stderr("nothing was written");
    assert!(refused.stdout.is_empty());
    assert_eq!(project.read("hello/data/files.txt"), "my own data\n");
    assert_eq!(project.read("hello/weft.yaml"), "executor: local\n");
    for untouched in ["hello/main.wf", "hello/data/tasks.txt", "hello/.gitignore"] {
        assert!(!project.exists(untouched), "{untouched} was written");
    }
}

#[test]
fn init_keeps_an_existing_gitignore() {
    let project = Project::new();
    project.write(".gitignore", "target/\n");
    project.weft(&["init"]).success();
    assert_eq!(project.read(".gitignore"), "target/\n");
    assert!(project.exists("main.wf"));
}

#[test]
fn init_into_a_file_is_an_error() {
    let project = Project::new();
    project.write("taken", "a file\n");
    project
        .weft(&["init", "taken"])
        .expect_status(2)
        .expect_stderr("is not a folder");
}

// ---------------------------------------------------------------------------------------------
// weft doc
// ---------------------------------------------------------------------------------------------

/// The items of a standard module as the parser sees them: name and doc comment.
fn std_items(module: &str) -> Vec<(String, Option<String>)> {
    let source = weft_stdlib::module_source(module).expect("a standard module");
    let file = SourceFile::new(format!("<std>/{module}.wf"), source);
    let parsed = parse_module(&file).expect("the standard library parses");
    parsed
        .items
        .iter()
        .filter_map(|item| match item {
            Item::Task(t) => Some((t.name.name.clone(), t.doc.clone())),
            Item::Fn(f) => Some((f.name.name.clone(), f.doc.clone())),
            Item::Workflow(w) => Some((w.name.name.clone(), w.doc.clone())),
            Item::Import(_) => None,
        })
        .collect()
}

#[test]
fn doc_without_a_target_lists_every_standard_module_and_its_items() {
    let listing = Project::new().weft(&["doc"]);
    listing.success();
    for module in weft_stdlib::module_names() {
        assert!(
            listing.stdout.contains(&format!("  std.{module}  ")),
            "std.{module} is not listed:\n{}",
            listing.stdout
        );
        let names: Vec<String> = std_items(module).into_iter().map(|(n, _)| n).collect();
        assert!(
            listing.stdout.contains(&names.join(", ")),
            "the items of std.{module} are not listed:\n{}",
            listing.stdout
        );
    }
    assert!(listing.stdout.contains("weft doc builtins"));
}

#[test]
fn doc_of_a_standard_module_shows_every_item_with_its_whole_doc_comment() {
    let project = Project::new();
    for module in weft_stdlib::module_names() {
        let page = project.weft(&["doc", &format!("std.{module}")]);
        page.success();
        assert!(
            page.stdout
                .starts_with(&format!("std.{module}  (import std.{module})\n")),
            "{}",
            page.stdout
        );
        for (name, doc) in std_items(module) {
            let doc = doc.unwrap_or_else(|| panic!("std.{module}.{name} has no doc comment"));
            assert!(
                page.stdout.contains(&format!("task {name}("))
                    || page.stdout.contains(&format!("fn {name}(")),
                "std.{module}.{name} has no signature:\n{}",
                page.stdout
            );
            for line in doc.lines().filter(|l| !l.is_empty()) {
                assert!(
                    page.stdout.contains(&format!("    {line}\n")),
                    "std.{module}.{name}: the doc line {line:?} is missing:\n{}",
                    page.stdout
                );
            }
        }
    }
}

#[test]
fn doc_of_one_item_shows_its_signature_with_directions_types_and_defaults() {
    let project = Project::new();
    // `fs` alone names the module too.
    for target in ["std.text", "text"] {
        project
            .weft(&["doc", target, "head"])
            .success()
            .expect_stdout(&[
                "task head(src: file, dst: out file as stdout, n: int = 10)",
                "    Writes the first `n` lines of `src` to `dst`.",
            ]);
    }
    project
        .weft(&["doc", "std.fs", "sha256"])
        .success()
        .expect_stdout(&[
            "task sha256(src: file) -> str",
            "    The SHA-256 digest of `src`, as 64 lowercase hexadecimal digits.",
        ]);
}

#[test]
fn doc_of_a_file_shows_header_params_impls_constraints_and_long_signatures() {
    let project = Project::with_main(
        r#"// Tools for sequencing reads.
// Second line of the header.

/// Aligns reads.
///
/// Slow on big inputs.
task align(
    /// the reads
    reads: file,
    /// the reference genome,
    /// indexed
    reference: file prefix "--ref=",
    bam: out file,
    stats: inout json,
    threads: int = 4,
    mode: str = "fast",
) -> (int, str) {
    constraint { cores: 4, memory: 8GiB }
    timeout 2h
    impl gpu {
        constraint { gpus: 1 }
        binary "align-gpu"
    }
    impl cpu {
        binary "align"
    }
}

fn twice(x: int) -> int {
    return x * 2
}

workflow main(n: int = 2) {
    print(twice(n))
}
"#,
    );
    let page = project.weft(&["doc", "main.wf"]);
    page.success().expect_stdout(&[
        "main.wf",
        "",
        "Tools for sequencing reads.",
        "Second line of the header.",
        "",
        "task align(",
        "    reads: file,",
        "    reference: file prefix \"--ref=\",",
        "    bam: out file,",
        "    stats: inout json,",
        "    threads: int = 4,",
        "    mode: str = \"fast\",",
        ") -> (int, str)",
        "    Aligns reads.",
        "",
        "    Slow on big inputs.",
        "",
        "    reads      the reads",
        "    reference  the reference genome,",
        "               indexed",
        "",
        "    constraint { cores: 4, memory: 8GiB }",
        "    timeout 2h",
        "    implementations (the first one a resource can run is picked): gpu, cpu",
        "",
        "fn twice(x: int) -> int",
        "    (undocumented)",
        "",
        "workflow main(n: int = 2)",
        "    (undocumented)",
    ]);
}

#[test]
fn doc_of_the_builtins_lists_each_with_its_signature() {
    let page = Project::new().weft(&["doc", "builtins"]);
    page.success();
    for builtin in weft_compiler::builtins::BUILTINS {
        assert!(
            page.stdout
                .contains(&format!("\n{}\n    ", builtin.signature)),
            "{} is missing:\n{}",
            builtin.name,
            page.stdout
        );
    }
    Project::new()
        .weft(&["doc", "builtins", "div"])
        .success()
        .expect_stdout(&[
            "div(a, b)",
            "    Integer division rounding down, as Python's `a // b`.",
        ]);
}

#[test]
fn doc_errors_name_what_exists() {
    let project = Project::new();
    project
        .weft(&["doc", "std.nope"])
        .expect_status(2)
        .expect_stderr("std.fs, std.json, std.text");
    project
        .weft(&["doc", "std.fs", "nope"])
        .expect_status(2)
        .expect_stderr("`copy`");
    project
        .weft(&["doc", "builtins", "nope"])
        .expect_status(2)
        .expect_stderr("read_json");
    project
        .weft(&["doc", "missing.wf"])
        .expect_status(2)
        .expect_stderr("cannot read missing.wf");
    project.write("broken.wf", "task t( {\n");
    project
        .weft(&["doc", "broken.wf"])
        .expect_status(2)
        .expect_stderr("weft::syntax");
}

// ---------------------------------------------------------------------------------------------
// Help, completions and the man page
// ---------------------------------------------------------------------------------------------

#[test]
fn every_command_has_help_with_examples() {
    let project = Project::new();
    let top = project.weft(&["--help"]);
    top.success();
    for sub in subcommands() {
        let sub = sub.as_str();
        let help = project.weft(&[sub, "--help"]);
        help.success();
        assert!(
            help.stdout.contains("\nExamples:\n  weft "),
            "`weft {sub} --help` shows no examples:\n{}",
            help.stdout
        );
        // `-h` is the short form: the summary line, not the long description.
        let short = project.weft(&[sub, "-h"]);
        short.success();
        assert!(short.stdout.len() <= help.stdout.len());
    }
    assert!(top.stdout.contains("weft help COMMAND"));
}

#[test]
fn completions_are_generated_for_every_shell() {
    let project = Project::new();
    let subcommands = subcommands();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = project.weft(&["completions", shell]);
        script.success();
        for sub in &subcommands {
            assert!(
                script.stdout.contains(sub.as_str()),
                "{shell} completions lack `{sub}`"
            );
        }
    }
    project
        .weft(&["completions", "tcsh"])
        .expect_status(2)
        .expect_stderr("possible values");
}

/// What bash offers after `weft ARGS…` with the completion script loaded.
fn bash_completions(script: &Path, words: &[&str]) -> Vec<String> {
    let words_text = words
        .iter()
        .map(|w| format!("'{w}'"))
        .collect::<Vec<_>>()
        .join(" ");
    let program = format!(
        "source '{}'\nCOMP_WORDS=({words_text})\nCOMP_CWORD={}\nCOMP_LINE='{}'\n\
         COMP_POINT=${{#COMP_LINE}}\n_weft weft '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"\n",
        script.display(),
        words.len() - 1,
        words.join(" "),
        words.last().copied().unwrap_or(""),
        words
            .get(words.len().wrapping_sub(2))
            .copied()
            .unwrap_or("weft"),
    );
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completion_offers_subcommands_and_options() {
    let project = Project::new();
    let script = project.weft(&["completions", "bash"]);
    script.success();
    project.write("weft.bash", &script.stdout);
    let syntax = Command::new("bash")
        .args(["-n", &project.path("weft.bash").display().to_string()])
        .status()
        .expect("bash runs");
    assert!(syntax.success(), "the bash script does not parse");

    let offered = bash_completions(&project.path("weft.bash"), &["weft", "i"]);
    assert_eq!(offered, ["init"]);
    let offered = bash_completions(&project.path("weft.bash"), &["weft", "run", "--seq"]);
    assert_eq!(offered, ["--sequential"]);
    let offered = bash_completions(&project.path("weft.bash"), &["weft", "completions", "f"]);
    assert_eq!(offered, ["fish"]);
}

#[test]
fn the_man_page_has_every_command_examples_and_exit_statuses() {
    let project = Project::new();
    let page = project.weft(&["man"]);
    page.success();
    let roff = &page.stdout;
    assert!(roff.contains(".TH weft 1"), "{roff}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH SUBCOMMANDS",
        ".SH EXAMPLES",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
        ".SH FILES",
        ".SH \"SEE ALSO\"",
    ] {
        assert!(roff.contains(section), "{section} is missing");
    }
    for sub in subcommands() {
        let escaped = sub.replace('-', "\\-");
        assert!(roff.contains(&format!("weft\\-{escaped}(1)")), "{sub}");
    }
    assert!(!roff.contains("weft\\-help"), "clap's help has no page");
    assert!(!roff.contains('\x1b'), "escape codes in roff");

    let run = project.weft(&["man", "run"]);
    run.success();
    assert!(
        run.stdout.contains(".TH weft-run 1  \"weft "),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\\-\\-sequential"));
    assert!(run.stdout.contains(".SH \"EXIT STATUS\""));
    assert!(run.stdout.contains("\\fBweft run main.wf \\-\\-help\\fR"));

    project
        .weft(&["man", "nope"])
        .expect_status(2)
        .expect_stderr("its commands are check, fmt");
}

#[test]
fn man_dir_writes_one_page_per_command() {
    let project = Project::new();
    project.weft(&["man", "--dir", "pages"]).success();
    let mut written: Vec<String> = std::fs::read_dir(project.path("pages"))
        .expect("the pages folder")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    let mut expected: Vec<String> = subcommands()
        .iter()
        .map(|s| format!("weft-{s}.1"))
        .chain(["weft.1".to_string()])
        .collect();
    expected.sort();
    assert_eq!(written, expected);
    assert_eq!(project.read("pages/weft.1"), project.weft(&["man"]).stdout);
}

/// `man` renders the page as a reader sees it: the roff is well-formed enough for it.
#[test]
fn the_man_page_renders_with_man_when_it_is_installed() {
    if Command::new("man").arg("--version").output().is_err() {
        eprintln!("man is not installed: the rendering check is skipped");
        return;
    }
    let project = Project::new();
    project.write("weft.1", &project.weft(&["man"]).stdout);
    let output = Command::new("man")
        .args(["-l", &project.path("weft.1").display().to_string()])
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .expect("man runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(text.contains("EXIT STATUS"), "{text}");
    assert!(text.contains("weft init hello && cd hello"), "{text}");
    assert!(text.contains("NO_COLOR"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Colours
// ---------------------------------------------------------------------------------------------

/// Runs `weft ARGS…` on a pseudo-terminal (all three streams), as a person at a terminal
/// would, with NO_COLOR set or not. Returns what the terminal showed.
fn weft_on_a_terminal(project: &Project, args: &[&str], no_colour: bool) -> Outcome {
    const PTY_RUNNER: &str = r#"
import os, sys
pid, fd = os.forkpty()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
shown = b""
while True:
    try:
        chunk = os.read(fd, 65536)
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.buffer.write(shown)
sys.exit(os.waitstatus_to_exitcode(status))
"#;
    let weft: PathBuf = assert_cmd::cargo::cargo_bin("weft");
    let mut command = Command::new("python3");
    command
        .current_dir(project.root())
        .arg("-c")
        .arg(PTY_RUNNER)
        .arg(&weft)
        .args(args)
        .env("TERM", "xterm-256color")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("CLICOLOR")
        .env_remove("NO_COLOR");
    if no_colour {
        command.env("NO_COLOR", "1");
    }
    Outcome::from(command.output().expect("python3 runs"))
}

fn has_escape(text: &str) -> bool {
    text.contains("\x1b[")
}

#[test]
fn no_color_turns_colour_off_on_a_terminal() {
    let project = Project::new();
    project.write("bad.wf", "workflow main() {\n    print(nope)\n}\n");
    let cases: &[&[&str]] = &[&["--help"], &["check", "bad.wf"], &["doc", "std.fs"]];
    for args in cases {
        // On a terminal, colour is on: this shows that the NO_COLOR run below could fail.
        let coloured = weft_on_a_terminal(&project, args, false);
        assert!(
            has_escape(&coloured.stdout),
            "`weft {}` on a terminal has no colour:\n{}{}",
            args.join(" "),
            coloured.stdout,
            coloured.stderr
        );
        let plain = weft_on_a_terminal(&project, args, true);
        assert!(
            !has_escape(&plain.stdout),
            "`weft {}` with NO_COLOR has escapes:\n{}",
            args.join(" "),
            plain.stdout
        );
        assert!(!plain.stdout.is_empty());
    }
}

#[test]
fn colour_is_off_when_the_output_is_not_a_terminal() {
    let project = Project::new();
    project.write("bad.wf", "workflow main() {\n    print(nope)\n}\n");
    for args in [
        &["--help"][..],
        &["check", "bad.wf"],
        &["doc", "std.fs"],
        &["run", "--help"],
    ] {
        let output = Outcome::from(
            project
                .command()
                .env_remove("NO_COLOR")
                .env("TERM", "xterm-256color")
                .args(args)
                .output()
                .expect("weft starts"),
        );
        assert!(
            !has_escape(&output.stdout) && !has_escape(&output.stderr),
            "`weft {}` writes escapes into a pipe:\n{}{}",
            args.join(" "),
            output.stdout,
            output.stderr
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The guide's console sessions
// ---------------------------------------------------------------------------------------------

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// One command of a ```console block (`$ weft run …`) and the standard output shown under
/// it.
#[derive(Debug, PartialEq)]
struct Step {
    command: String,
    output: Vec<String>,
}

/// The ```console blocks of a Markdown text: where each starts, and its steps.
fn console_sessions(markdown: &str) -> Vec<(usize, Vec<Step>)> {
    let mut sessions = Vec::new();
    let mut open: Option<(usize, Vec<Step>)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match open.as_mut() {
            None => {
                if trimmed.strip_prefix("```").map(str::trim) == Some("console") {
                    open = Some((index + 1, Vec::new()));
                }
            }
            Some((_, steps)) => {
                if trimmed.starts_with("```") {
                    sessions.extend(open.take());
                } else if let Some(command) = line.strip_prefix("$ ") {
                    steps.push(Step {
                        command: command.trim().to_string(),
                        output: Vec::new(),
                    });
                } else if let Some(step) = steps.last_mut() {
                    step.output.push(line.to_string());
                }
            }
        }
    }
    sessions
}

/// A command line split into words as a shell would, for the quoting the guide uses
/// (`'…'` and `"…"`).
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => word.get_or_insert_with(String::new).push(c),
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            None if c.is_whitespace() => words.extend(word.take()),
            None => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

#[test]
fn console_sessions_and_shell_words_are_read_as_written() {
    let sessions =
        console_sessions("a\n```console\n$ weft doc\nline 1\n\n$ cd x\n```\n```sh\n$ no\n```\n");
    assert_eq!(
        sessions,
        vec![(
            2,
            vec![
                Step {
                    command: "weft doc".into(),
                    output: vec!["line 1".into(), "".into()]
                },
                Step {
                    command: "cd x".into(),
                    output: vec![]
                }
            ]
        )]
    );
    assert_eq!(
        shell_words(r#"weft run a.wf --pattern "invalid token" --x '' y"#),
        [
            "weft",
            "run",
            "a.wf",
            "--pattern",
            "invalid token",
            "--x",
            "",
            "y"
        ]
    );
}

/// Runs one session in a fresh copy of `examples/`, from its parent as a user runs them from
/// the repository's root; `Err` says which step did not do what the guide shows.
fn replay(steps: &[Step]) -> Result<(), String> {
    let project = Project::new();
    copy_tree(&repository().join("examples"), &project.path("examples"));
    let mut cwd = project.root().to_path_buf();
    for step in steps {
        let words = shell_words(&step.command);
        match words.first().map(String::as_str) {
            Some("cd") if words.len() == 2 => {
                cwd = cwd.join(&words[1]);
                if !cwd.is_dir() {
                    return Err(format!("`{}`: no such folder", step.command));
                }
            }
            Some("weft") => {
                let outcome = Outcome::from(
                    project
                        .command()
                        .current_dir(&cwd)
                        .args(&words[1..])
                        .output()
                        .expect("weft starts"),
                );
                if outcome.status != Some(0) {
                    return Err(format!(
                        "`{}` exited {:?}:\n{}",
                        step.command, outcome.status, outcome.stderr
                    ));
                }
                let shown = step.output.join("\n");
                if outcome.stdout.trim_end() != shown.trim_end() {
                    return Err(format!(
                        "`{}` printed\n{}\nnot what the guide shows:\n{}",
                        step.command, outcome.stdout, shown
                    ));
                }
            }
            _ => {
                return Err(format!(
                    "`{}`: a console session runs only `weft …` and `cd DIR`",
                    step.command
                ))
            }
        }
    }
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a directory");
    for entry in std::fs::read_dir(from).expect("read a directory").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

#[test]
fn every_console_session_of_the_guide_prints_what_it_shows() {
    let guide = repository().join("docs/guide");
    let mut pages: Vec<PathBuf> = std::fs::read_dir(&guide)
        .expect("docs/guide/")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    pages.push(repository().join("README.md"));
    let mut replayed = 0;
    let mut failures = Vec::new();
    for page in pages {
        let markdown = std::fs::read_to_string(&page).expect("read the page");
        for (line, steps) in console_sessions(&markdown) {
            if let Err(why) = replay(&steps) {
                failures.push(format!("{}:{line}: {why}", page.display()));
            }
            replayed += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(replayed >= 3, "only {replayed} console sessions found");
}
