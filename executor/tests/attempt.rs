//! Task attempts run as real processes (§4.4, §4.5, §6.2, §6.3), each in a fresh temporary
//! directory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use tokio_util::sync::CancellationToken;
use weft_compiler::ast::{
    Direction, Ident, Modifier, Param, ReturnType, Span, Stream, Type, TypeExpr,
};
use weft_compiler::value::Value;
use weft_executor::attempt::{
    log_tail, run_attempt, AttemptOutcome, AttemptSpec, BodySpec, NodeInfo,
};
use weft_executor::process::{process_state, TERMINATE_GRACE};

// ---------------------------------------------------------------------------------------------
// Building attempts
// ---------------------------------------------------------------------------------------------

fn param(name: &str, ty: Type) -> Param {
    Param {
        doc: None,
        name: Ident {
            name: name.to_string(),
            span: Span::default(),
        },
        direction: Direction::In,
        direction_span: None,
        ty: TypeExpr {
            ty,
            span: Span::default(),
        },
        modifiers: Vec::new(),
        default: None,
        span: Span::default(),
    }
}

fn directed(mut p: Param, direction: Direction) -> Param {
    p.direction = direction;
    p
}

fn streamed(mut p: Param, stream: Stream) -> Param {
    p.modifiers.push(Modifier::Stream(stream, Span::default()));
    p
}

fn prefixed(mut p: Param, prefix: &str) -> Param {
    p.modifiers
        .push(Modifier::Prefix(prefix.to_string(), Span::default()));
    p
}

fn list(ty: Type) -> Type {
    Type::List(Box::new(ty))
}

fn strs(items: &[&str]) -> Value {
    Value::list(items.iter().map(|s| Value::str(*s)).collect())
}

fn returns(ty: Type) -> Option<ReturnType> {
    Some(ReturnType::Single(TypeExpr {
        ty,
        span: Span::default(),
    }))
}

fn shell(template: &str) -> BodySpec {
    BodySpec::Shell {
        template: template.to_string(),
    }
}

fn binary(program: &str, args: Option<Vec<Value>>) -> BodySpec {
    BodySpec::Binary {
        program: program.to_string(),
        args,
    }
}

/// A temporary working directory and an attempt of task `t` in it.
struct Fixture {
    dir: tempfile::TempDir,
    spec: AttemptSpec,
}

impl Fixture {
    fn new(body: BodySpec, args: Vec<(Param, Value)>) -> Fixture {
        let dir = tempfile::tempdir().expect("temporary directory");
        let workdir = dir.path().to_path_buf();
        let (params, values): (Vec<Param>, IndexMap<String, Value>) = args
            .into_iter()
            .map(|(p, v)| {
                let name = p.name.name.clone();
                (p, (name, v))
            })
            .unzip();
        let spec = AttemptSpec {
            task_name: "t".to_string(),
            task_id: 7,
            attempt: 1,
            params,
            returns: None,
            values,
            body,
            env: Vec::new(),
            attempt_dir: workdir.join(".weft/attempts/7-1"),
            workdir,
            timeout: None,
            fail_on_exit: false,
            raises_on_exit: Vec::new(),
            gpus: Vec::new(),
            hide_gpus: false,
            nodes: None,
        };
        Fixture { dir, spec }
    }

    fn returning(mut self, ty: Type) -> Fixture {
        self.spec.returns = returns(ty);
        self
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_else(|e| panic!("reading {name}: {e}"))
    }

    async fn run(&self) -> AttemptOutcome {
        run_attempt(&self.spec, CancellationToken::new()).await
    }

    /// Runs the attempt, which must succeed, and gives its return value.
    async fn returned(&self) -> Option<Value> {
        match self.run().await {
            AttemptOutcome::Succeeded { returned, .. } => returned,
            other => panic!(
                "expected success, got {other:?}; stderr: {}",
                log_tail(&self.spec.files().stderr_log, 20)
            ),
        }
    }
}

fn failure(outcome: AttemptOutcome) -> String {
    match outcome {
        AttemptOutcome::Failed { message } => message,
        other => panic!("expected a failure, got {other:?}"),
    }
}

fn raised(outcome: AttemptOutcome) -> String {
    match outcome {
        AttemptOutcome::Raised { message } => message,
        other => panic!("expected a raise, got {other:?}"),
    }
}

/// The processes of group `group` that are still running (zombies are dead).
fn live_members(group: i32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .expect("/proc")
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            process_state(*pid).is_some_and(|(state, pgrp)| pgrp == group && state != 'Z')
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Command lines
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn default_command_line_follows_the_parameters() {
    let fixture = Fixture::new(
        binary("printf", None),
        vec![
            (param("fmt", Type::Str), Value::str("<%s>\n")),
            (prefixed(param("a", Type::Str), "--a="), Value::str("x y")),
            (prefixed(param("n", Type::Int), "-n"), Value::Int(3)),
            (
                param("names", list(Type::Str)),
                strs(&["f1", "f 2", "$HOME"]),
            ),
            (param("flag", Type::Bool), Value::Bool(false)),
            (param("ratio", Type::Float), Value::Float(2.0)),
            (prefixed(param("skip", Type::Json), "--skip="), Value::Null),
            (
                param("nested", list(list(Type::Str))),
                Value::list(vec![strs(&["p"]), strs(&["q", "r"])]),
            ),
            (
                streamed(
                    directed(param("result", Type::File), Direction::Out),
                    Stream::Stdout,
                ),
                Value::str("out.txt"),
            ),
        ],
    );
    assert_eq!(fixture.returned().await, None);
    assert_eq!(
        fixture.read("out.txt"),
        "<--a=x y>\n<-n3>\n<f1>\n<f 2>\n<$HOME>\n<false>\n<2.0>\n<p>\n<q>\n<r>\n"
    );
}

#[tokio::test]
async fn explicit_arguments_are_used_as_written() {
    let mut object = IndexMap::new();
    object.insert(
        "k".to_string(),
        Value::list(vec![Value::Int(1), Value::Null]),
    );
    let fixture = Fixture::new(
        binary(
            "printf",
            Some(vec![
                Value::str("%s,"),
                Value::str("x"),
                Value::Bool(true),
                Value::Null,
                Value::Float(1e-7),
                Value::object(object),
                strs(&["l1", "l 2"]),
            ]),
        ),
        vec![
            // A prefix applies to the default command line only.
            (
                prefixed(param("ignored", Type::Str), "--no="),
                Value::str("q"),
            ),
            (
                streamed(
                    directed(param("o", Type::File), Direction::Out),
                    Stream::Stdout,
                ),
                Value::str("argv.txt"),
            ),
        ],
    );
    fixture.returned().await;
    assert_eq!(
        fixture.read("argv.txt"),
        r#"x,true,1e-07,{"k":[1,null]},l1,l 2,"#
    );
}

#[tokio::test]
async fn streams_map_to_parameters_and_logs() {
    let fixture = Fixture::new(
        binary("grep", None),
        vec![
            (param("keyword", Type::Str), Value::str("alpha")),
            (
                streamed(param("infile", Type::File), Stream::Stdin),
                Value::str("in.txt"),
            ),
            (
                streamed(
                    directed(param("result", Type::File), Direction::Out),
                    Stream::Stdout,
                ),
                Value::str("sub/out.txt"),
            ),
        ],
    );
    std::fs::write(fixture.path("in.txt"), "alpha\nbeta\nalphabet\n").unwrap();
    fixture.returned().await;
    assert_eq!(fixture.read("sub/out.txt"), "alpha\nalphabet\n");
    // Both logs exist even when a stream is mapped.
    let files = fixture.spec.files();
    assert_eq!(std::fs::read_to_string(&files.stdout_log).unwrap(), "");
    assert_eq!(std::fs::read_to_string(&files.stderr_log).unwrap(), "");

    let fixture = Fixture::new(
        binary(
            "sh",
            Some(vec![
                Value::str("-c"),
                Value::str("echo \"$0\" >&2; echo to-log; cat"),
                Value::str("careful"),
            ]),
        ),
        vec![(
            streamed(
                directed(param("e", Type::File), Direction::Out),
                Stream::Stderr,
            ),
            Value::str("warn.txt"),
        )],
    );
    fixture.returned().await;
    assert_eq!(fixture.read("warn.txt"), "careful\n");
    // Unmapped stdout goes to the log; stdin is empty (`cat` ends at once).
    let files = fixture.spec.files();
    assert_eq!(
        std::fs::read_to_string(&files.stdout_log).unwrap(),
        "to-log\n"
    );
}

#[tokio::test]
async fn mpi_goes_through_the_runner() {
    let mut fixture = Fixture::new(
        BodySpec::Mpi {
            runner: "./fake-mpirun".to_string(),
            processes: 4,
            flags: vec!["--oversubscribe".to_string()],
            program: "./sim.sh".to_string(),
            args: None,
        },
        vec![
            (param("cfg", Type::Str), Value::str("small run")),
            (
                streamed(
                    directed(param("o", Type::File), Direction::Out),
                    Stream::Stdout,
                ),
                Value::str("sim.txt"),
            ),
        ],
    );
    write_executable(
        &fixture.path("fake-mpirun"),
        "#!/bin/sh\necho \"runner: $*\"\nshift 3\nexec \"$@\"\n",
    );
    write_executable(&fixture.path("sim.sh"), "#!/bin/sh\necho \"sim: $1\"\n");
    fixture.returned().await;
    assert_eq!(
        fixture.read("sim.txt"),
        "runner: -n 4 --oversubscribe ./sim.sh small run\nsim: small run\n"
    );

    // A missing runner fails the attempt with a message, before anything runs.
    fixture.spec.body = BodySpec::Mpi {
        runner: "weft-no-such-runner".to_string(),
        processes: 1,
        flags: Vec::new(),
        program: "x".to_string(),
        args: None,
    };
    let message = failure(fixture.run().await);
    assert!(
        message.contains("`weft-no-such-runner` not found on PATH"),
        "{message}"
    );
}

fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[tokio::test]
async fn a_program_with_a_slash_is_relative_to_the_workdir() {
    let fixture = Fixture::new(binary("./tools/hello", None), vec![]).returning(Type::Str);
    std::fs::create_dir(fixture.path("tools")).unwrap();
    write_executable(
        &fixture.path("tools/hello"),
        "#!/bin/sh\necho \"hi from $PWD\"\n",
    );
    let expected = format!("hi from {}", fixture.dir.path().display());
    assert_eq!(fixture.returned().await, Some(Value::str(expected)));

    let fixture = Fixture::new(binary("./missing", None), vec![]);
    let message = failure(fixture.run().await);
    assert!(message.starts_with("cannot run "), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Shell templates
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn shell_values_are_quoted_and_never_executed() {
    let nasty = "a b; touch pwned $(touch pwned2) `touch pwned3` 'q' \"d\" \\ * ~";
    let fixture = Fixture::new(
        shell("printf '%s' {{msg}} > {{result}}"),
        vec![
            (param("msg", Type::Str), Value::str(nasty)),
            (
                directed(param("result", Type::File), Direction::Out),
                Value::str("out file.txt"),
            ),
        ],
    );
    fixture.returned().await;
    assert_eq!(fixture.read("out file.txt"), nasty);
    for name in ["pwned", "pwned2", "pwned3"] {
        assert!(!fixture.path(name).exists(), "{name} was created");
    }
}

#[tokio::test]
async fn shell_templates_keep_shell_syntax_and_literal_braces() {
    let fixture = Fixture::new(
        shell(
            "X=5; echo 1 2 3 | awk '{print ${{k}}}' > {{o}}\n\
             echo \"${X} $(echo sub) {{n}}\" >> {{o}}\n\
             echo $(( {{n}} * 2 )) >> {{o}}",
        ),
        vec![
            (param("k", Type::Int), Value::Int(2)),
            (param("n", Type::Int), Value::Int(21)),
            (
                directed(param("o", Type::File), Direction::Out),
                Value::str("o.txt"),
            ),
        ],
    );
    fixture.returned().await;
    assert_eq!(fixture.read("o.txt"), "2\n5 sub 21\n42\n");
}

#[tokio::test]
async fn shell_helpers_lists_and_verbatim_values() {
    let fixture = Fixture::new(
        shell(
            "printf '%s|' {{names}} > {{o}}\n\
             echo {{join names \"+\"}} {{{flag}}} {{nothing}}x >> {{o}}\n\
             echo {{basename f}} {{dirname f}} {{stem f}} {{ext f}} >> {{o}}\n\
             printf '%s\\n' {{cfg}} >> {{o}}",
        ),
        vec![
            (param("names", list(Type::Str)), strs(&["a", "b c"])),
            (param("flag", Type::Bool), Value::Bool(true)),
            (param("nothing", Type::Str), Value::str("")),
            (param("f", Type::File), Value::str("data dir/x.tar.gz")),
            (
                param("cfg", Type::Json),
                Value::list(vec![Value::Int(1), Value::str("two words")]),
            ),
            (
                directed(param("o", Type::File), Direction::Out),
                Value::str("show.txt"),
            ),
        ],
    );
    fixture.returned().await;
    assert_eq!(
        fixture.read("show.txt"),
        "a|b c|a+b c true x\nx.tar.gz data dir x.tar gz\n[1,\"two words\"]\n"
    );
}

#[tokio::test]
async fn an_unknown_template_name_fails_the_attempt() {
    let fixture = Fixture::new(
        shell("touch ran; echo {{missing}}"),
        vec![(param("present", Type::Str), Value::str("x"))],
    );
    let message = failure(fixture.run().await);
    assert!(message.contains("task `t`"), "{message}");
    assert!(message.contains("unknown name `missing`"), "{message}");
    assert!(!fixture.path("ran").exists());
}

#[tokio::test]
async fn shell_runs_with_errexit_and_pipefail() {
    let fixture = Fixture::new(shell("false | cat\ntouch reached"), vec![]);
    assert_eq!(failure(fixture.run().await), "exit status 1");
    assert!(!fixture.path("reached").exists());
    let fixture = Fixture::new(shell("echo \"$UNSET_VARIABLE_OF_WEFT_TEST\""), vec![]);
    assert_eq!(failure(fixture.run().await), "exit status 1");
}

// ---------------------------------------------------------------------------------------------
// Scripts and the environment
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn scripts_read_weft_args_and_write_weft_return() {
    let fixture = Fixture::new(
        BodySpec::Script {
            interpreter: "python3".to_string(),
            code: "import json, os\n\
                   a = json.load(open(os.environ['WEFT_ARGS']))\n\
                   assert not os.path.exists(os.environ['WEFT_RETURN'])\n\
                   assert not os.path.exists(os.environ['WEFT_RAISE'])\n\
                   r = {'n': len(a['xs']), 'sum': sum(a['xs']), 'f': a['f'], 'x': a['x']}\n\
                   json.dump(r, open(os.environ['WEFT_RETURN'], 'w'))\n\
                   print('not the return value')\n"
                .to_string(),
        },
        vec![
            (
                param("xs", Type::Json),
                Value::list(vec![Value::Int(1), Value::Int(2), Value::Int(3)]),
            ),
            (param("f", Type::File), Value::str("in.txt")),
            (param("x", Type::Float), Value::Float(2.0)),
        ],
    )
    .returning(Type::Json);
    let mut expected = IndexMap::new();
    expected.insert("n".to_string(), Value::Int(3));
    expected.insert("sum".to_string(), Value::Int(6));
    expected.insert("f".to_string(), Value::str("in.txt"));
    expected.insert("x".to_string(), Value::Float(2.0));
    assert_eq!(fixture.returned().await, Some(Value::object(expected)));
    let args = std::fs::read_to_string(fixture.spec.files().args).unwrap();
    assert_eq!(args, r#"{"xs":[1,2,3],"f":"in.txt","x":2.0}"#);
}

#[tokio::test]
async fn the_process_gets_weft_variables() {
    let mut fixture = Fixture::new(
        shell(
            "echo \"$WEFT_TASK $WEFT_TASK_ID $WEFT_ATTEMPT $GREETING\"\n\
             [ -f \"$WEFT_ARGS\" ] && [ ! -e \"$WEFT_RETURN\" ] && [ ! -e \"$WEFT_RAISE\" ]\n\
             echo \"${WEFT_GPUS-none} ${WEFT_NUM_NODES-none}\"",
        ),
        vec![],
    )
    .returning(Type::Str);
    fixture.spec.attempt = 2;
    fixture.spec.env = vec![
        ("GREETING".to_string(), "hello there".to_string()),
        // The env directive cannot override weft's own variables.
        ("WEFT_TASK".to_string(), "spoofed".to_string()),
    ];
    assert_eq!(
        fixture.returned().await,
        Some(Value::str("t 7 2 hello there\nnone none"))
    );

    fixture.spec.body = shell(
        "echo \"$CUDA_VISIBLE_DEVICES|$WEFT_GPUS|$WEFT_NUM_NODES|$WEFT_HOSTNAMES|$WEFT_NUM_THREADS\"",
    );
    fixture.spec.gpus = vec![0, 2];
    fixture.spec.nodes = Some(NodeInfo {
        hostnames: vec!["n1".to_string(), "n2".to_string()],
        threads_per_node: 8,
    });
    assert_eq!(
        fixture.returned().await,
        Some(Value::str("0,2|0,2|2|n1,n2|8"))
    );
}

// ---------------------------------------------------------------------------------------------
// Returns
// ---------------------------------------------------------------------------------------------

#[tokio::test]
async fn standard_output_is_the_return_value() {
    let cases = [
        (Type::Int, "printf '  3\\n'", Value::Int(3)),
        (Type::Float, "echo 2.5", Value::Float(2.5)),
        (Type::Bool, "echo true", Value::Bool(true)),
        (
            Type::Str,
            "printf 'two\\n  lines\\n\\n'",
            Value::str("two\n  lines\n"),
        ),
        (
            Type::Json,
            "echo '[1, \"two\"]'",
            Value::list(vec![Value::Int(1), Value::str("two")]),
        ),
        (Type::File, "echo out/a.txt", Value::str("out/a.txt")),
        (
            list(Type::Int),
            "printf '1\\n2\\n'",
            Value::list(vec![Value::Int(1), Value::Int(2)]),
        ),
    ];
    for (ty, command, expected) in cases {
        let fixture = Fixture::new(shell(command), vec![]).returning(ty.clone());
        assert_eq!(fixture.returned().await, Some(expected), "{ty}: {command}");
    }
}

#[tokio::test]
async fn an_unparsable_return_value_fails_naming_task_and_type() {
    let fixture = Fixture::new(shell("echo abc"), vec![]).returning(Type::Int);
    assert_eq!(
        failure(fixture.run().await),
        "task `t`: return value `abc` (its standard output) is not an int"
    );
    let fixture =
        Fixture::new(shell("echo '\"x\"' > \"$WEFT_RETURN\"; echo 5"), vec![]).returning(Type::Int);
    let message = failure(fixture.run().await);
    assert!(
        message.contains("WEFT_RETURN") && message.contains("not an int"),
        "{message}"
    );
}

#[tokio::test]
async fn tuples_are_returned_as_json_arrays() {
    let mut fixture = Fixture::new(shell("echo '[4, \"four\"]' > \"$WEFT_RETURN\""), vec![]);
    fixture.spec.returns = Some(ReturnType::Tuple(
        vec![
            TypeExpr {
                ty: Type::Int,
                span: Span::default(),
            },
            TypeExpr {
                ty: Type::Str,
                span: Span::default(),
            },
        ],
        Span::default(),
    ));
    assert_eq!(
        fixture.returned().await,
        Some(Value::Tuple(Arc::new(vec![
            Value::Int(4),
            Value::str("four")
        ])))
    );
}

#[tokio::test]
async fn stdout_mapped_to_a_parameter_cannot_carry_the_return_value() {
    let fixture = Fixture::new(
        binary("echo", Some(vec![Value::str("3")])),
        vec![(
            streamed(
                directed(param("o", Type::File), Direction::Out),
                Stream::Stdout,
            ),
            Value::str("o.txt"),
        )],
    )
    .returning(Type::Str);
    let message = failure(fixture.run().await);
    assert!(message.contains("parameter `o`"), "{message}");
}

#[tokio::test]
async fn binaries_returning_int_return_their_exit_status() {
    let exit = |status: i64| {
        Fixture::new(
            binary(
                "sh",
                Some(vec![Value::str("-c"), Value::str(format!("exit {status}"))]),
            ),
            vec![],
        )
        .returning(Type::Int)
    };
    assert_eq!(exit(0).returned().await, Some(Value::Int(0)));
    assert_eq!(exit(3).returned().await, Some(Value::Int(3)));

    let mut strict = exit(3);
    strict.spec.fail_on_exit = true;
    assert_eq!(failure(strict.run().await), "exit status 3");
    let mut strict_ok = exit(0);
    strict_ok.spec.fail_on_exit = true;
    assert_eq!(strict_ok.returned().await, Some(Value::Int(0)));

    // A status listed in raises_on_exit raises, even with fail_on_exit.
    let mut raising = exit(3);
    raising.spec.fail_on_exit = true;
    raising.spec.raises_on_exit = vec![9, 3];
    assert_eq!(raised(raising.run().await), "exit status 3");
}

#[tokio::test]
async fn other_bodies_fail_on_a_non_zero_status() {
    let fixture = Fixture::new(shell("echo doomed >&2; exit 4"), vec![]);
    assert_eq!(failure(fixture.run().await), "exit status 4");
    assert_eq!(log_tail(&fixture.spec.files().stderr_log, 5), "doomed");

    // A binary that returns something other than int fails too.
    let fixture = Fixture::new(
        binary(
            "sh",
            Some(vec![Value::str("-c"), Value::str("echo 1; exit 2")]),
        ),
        vec![],
    )
    .returning(Type::Str);
    assert_eq!(failure(fixture.run().await), "exit status 2");

    let mut fixture = Fixture::new(shell("exit 9"), vec![]);
    fixture.spec.raises_on_exit = vec![9];
    assert_eq!(raised(fixture.run().await), "exit status 9");
}

#[tokio::test]
async fn a_process_killed_by_a_signal_fails() {
    let fixture = Fixture::new(shell("kill -9 $$"), vec![]);
    assert_eq!(failure(fixture.run().await), "killed by signal 9 (SIGKILL)");
}

#[tokio::test]
async fn weft_raise_raises_whatever_the_exit_status() {
    let fixture = Fixture::new(
        shell("echo '  found 0  ' > \"$WEFT_RAISE\"; exit 1"),
        vec![],
    );
    assert_eq!(raised(fixture.run().await), "found 0");
    let fixture =
        Fixture::new(shell("printf 'ok\\n' > \"$WEFT_RAISE\""), vec![]).returning(Type::Int);
    assert_eq!(raised(fixture.run().await), "ok");
}

#[tokio::test]
async fn out_json_parameters_are_read_back() {
    let script = |code: &str| BodySpec::Script {
        interpreter: "python3".to_string(),
        code: format!("import json, os\na = json.load(open(os.environ['WEFT_ARGS']))\n{code}\n"),
    };
    let args = || {
        vec![
            (
                directed(param("xs", Type::Json), Direction::InOut),
                Value::list(vec![Value::Int(0)]),
            ),
            (
                directed(param("made", list(Type::Json)), Direction::Out),
                Value::Null,
            ),
            (param("x", Type::Int), Value::Int(10)),
        ]
    };
    let fixture = Fixture::new(
        script(
            "json.dump(a['xs'] + [a['x']], open(os.environ['WEFT_OUT_xs'], 'w'))\n\
             json.dump([{'k': 1}], open(os.environ['WEFT_OUT_made'], 'w'))\n\
             assert 'WEFT_OUT_x' not in os.environ",
        ),
        args(),
    );
    match fixture.run().await {
        AttemptOutcome::Succeeded { returned, out_json } => {
            assert_eq!(returned, None);
            let mut object = IndexMap::new();
            object.insert("k".to_string(), Value::Int(1));
            let keys: Vec<&String> = out_json.keys().collect();
            assert_eq!(keys, ["xs", "made"]);
            assert_eq!(
                out_json["xs"],
                Value::list(vec![Value::Int(0), Value::Int(10)])
            );
            assert_eq!(out_json["made"], Value::list(vec![Value::object(object)]));
        }
        other => panic!("expected success, got {other:?}"),
    }

    // An inout parameter not written keeps its value (absent); an out one fails the task.
    let fixture = Fixture::new(
        script("json.dump([], open(os.environ['WEFT_OUT_made'], 'w'))"),
        args(),
    );
    match fixture.run().await {
        AttemptOutcome::Succeeded { out_json, .. } => {
            assert!(!out_json.contains_key("xs"));
            assert_eq!(out_json["made"], Value::list(vec![]));
        }
        other => panic!("expected success, got {other:?}"),
    }
    let fixture = Fixture::new(script("pass"), args());
    let message = failure(fixture.run().await);
    assert!(
        message.contains("`made`") && message.contains("not written"),
        "{message}"
    );

    // A value of the wrong shape fails too.
    let fixture = Fixture::new(
        script("open(os.environ['WEFT_OUT_made'], 'w').write('{\"not\": \"a list\"}')"),
        args(),
    );
    let message = failure(fixture.run().await);
    assert!(message.contains("WEFT_OUT_made"), "{message}");
}

// ---------------------------------------------------------------------------------------------
// Timeouts and cancellation
// ---------------------------------------------------------------------------------------------

/// A shell that starts background children, records its pid (the group's id) and waits.
fn spawning_shell() -> Fixture {
    Fixture::new(
        shell("sleep 100 & sleep 100 & (trap '' TERM; sleep 100) & echo $$ > group.pid; wait"),
        vec![],
    )
}

async fn group_of(fixture: &Fixture) -> i32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(text) = std::fs::read_to_string(fixture.path("group.pid")) {
            if let Ok(group) = text.trim().parse() {
                return group;
            }
        }
        assert!(Instant::now() < deadline, "the shell never wrote its pid");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_timeout_kills_the_whole_process_group() {
    let mut fixture = spawning_shell();
    fixture.spec.timeout = Some(Duration::from_millis(700));
    let started = Instant::now();
    let outcome = fixture.run().await;
    let took = started.elapsed();
    assert_eq!(failure(outcome), "timed out after 700ms");
    // SIGTERM, the grace period (one child ignores SIGTERM), then SIGKILL.
    assert!(
        took >= Duration::from_millis(700) + TERMINATE_GRACE,
        "took {took:?}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");
    let group = group_of(&fixture).await;
    assert_eq!(live_members(group), Vec::<u32>::new());
}

#[tokio::test]
async fn cancelling_kills_the_whole_process_group() {
    let fixture = spawning_shell();
    let cancel = CancellationToken::new();
    let running = {
        let spec = fixture.spec.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move { run_attempt(&spec, cancel).await })
    };
    let group = group_of(&fixture).await;
    assert!(!live_members(group).is_empty());
    cancel.cancel();
    let outcome = running.await.expect("the attempt task");
    assert_eq!(outcome, AttemptOutcome::Cancelled);
    assert_eq!(live_members(group), Vec::<u32>::new());

    // Cancelled before it starts: nothing runs.
    let fixture = Fixture::new(shell("touch ran"), vec![]);
    let cancel = CancellationToken::new();
    cancel.cancel();
    assert_eq!(
        run_attempt(&fixture.spec, cancel).await,
        AttemptOutcome::Cancelled
    );
    assert!(!fixture.path("ran").exists());
}
