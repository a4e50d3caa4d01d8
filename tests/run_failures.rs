//! `weft run` when things go wrong: failure policies, timeouts, body errors, groups and
//! workflow exceptions, Ctrl-C (§6, §10).
//!
//! Tasks that must be killed run `exec -a MARKER sleep …`: the marker is unique to the test,
//! so `pgrep -f MARKER` after weft has exited finds any process that outlived the run.

mod common;

use std::time::{Duration, Instant};

use common::{cores, kill_marked, line_of, survivors_after, unique_marker, Project};

/// How long the kernel may take to reap killed processes once weft has exited.
const REAP_GRACE: Duration = Duration::from_millis(500);

#[track_caller]
fn assert_no_survivors(marker: &str) {
    let left = survivors_after(marker, REAP_GRACE);
    kill_marked(marker);
    assert!(left.is_empty(), "processes outlived the run: {left:?}");
}

// ---------------------------------------------------------------------------------------------
// Failure policies (§6.2)
// ---------------------------------------------------------------------------------------------

#[test]
fn the_default_policy_retries_a_failed_attempt_once() {
    let project = Project::with_main(
        r#"
task flaky(o: out file) {
    shell """
        if [ "$WEFT_ATTEMPT" = 1 ]; then echo "first attempt fails" >&2; exit 1; fi
        echo "attempt $WEFT_ATTEMPT" > {{o}}
    """
}

workflow main() {
    flaky("flaky.txt")
}
"#,
    );
    project.run(&[]).success().expect_stderr("retrying");
    assert_eq!(project.read("flaky.txt"), "attempt 2\n");
    assert_eq!(project.attempt_dirs("flaky").len(), 2);
}

#[test]
fn retry_n_gives_n_more_attempts_then_fails() {
    let source = r#"
task stubborn(needed: int, o: out file) {
    on_failure retry(3)
    shell """
        if [ "$WEFT_ATTEMPT" -lt {{needed}} ]; then exit 1; fi
        echo "attempt $WEFT_ATTEMPT" > {{o}}
    """
}

workflow main(needed: int) {
    stubborn(needed, "out.txt")
}
"#;
    let recovers = Project::with_main(source);
    recovers.run(&["--", "--needed", "4"]).success();
    assert_eq!(recovers.read("out.txt"), "attempt 4\n");
    assert_eq!(recovers.attempt_dirs("stubborn").len(), 4);

    let gives_up = Project::with_main(source);
    gives_up
        .run(&["--", "--needed", "5"])
        .expect_status(1)
        .expect_stderr("stubborn");
    assert_eq!(gives_up.attempt_dirs("stubborn").len(), 4);
    assert!(!gives_up.exists("out.txt"));
}

#[test]
fn fail_stops_the_run_naming_the_task_its_line_and_its_logs() {
    let marker = unique_marker();
    let source = r#"
task slow(o: out file) {
    shell "(exec -a MARKER sleep 30); echo slow > {{o}}"
}

task broken(o: out file) {
    on_failure fail
    shell "sleep 0.3; echo broken-detail >&2; exit 2"
}

task copy(src: file, dst: out file) {
    shell "cp {{src}} {{dst}}"
}

workflow main() {
    slow("slow.txt")
    broken("broken.txt")
    copy("broken.txt", "copy.txt")
}
"#
    .replace("MARKER", &marker);
    let project = Project::with_main(&source);
    project.config(&cores(2));
    let started = Instant::now();
    let outcome = project.run(&[]);
    assert_no_survivors(&marker);
    outcome
        .expect_status(1)
        .expect_stderr("`broken`")
        .expect_stderr(&format!(
            "main.wf:{}",
            line_of(&source, "broken(\"broken.txt\")")
        ))
        .expect_stderr("stderr.log")
        .expect_stderr("broken-detail");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "the slow task was not stopped"
    );
    assert_eq!(
        project.attempt_dirs("broken").len(),
        1,
        "fail does not retry"
    );
    assert!(project.attempt_dirs("copy").is_empty());
    assert!(!project.exists("slow.txt") && !project.exists("copy.txt"));
}

#[test]
fn cancel_successors_cancels_the_dependents_and_lets_the_rest_run() {
    let project = Project::with_main(
        r#"
task broken(o: out file) {
    on_failure cancel_successors
    shell "exit 1"
}

task copy(src: file, dst: out file) {
    shell "cp {{src}} {{dst}}"
}

task independent(o: out file) {
    shell "sleep 0.3; echo free > {{o}}"
}

workflow main() {
    broken("a.txt")
    copy("a.txt", "b.txt")
    copy("b.txt", "c.txt")
    independent("free.txt")
    print("the body goes on")
    barrier
    independent("later.txt")
}
"#,
    );
    project
        .run(&[])
        .expect_status(1)
        .expect_stdout(&["the body goes on"])
        .expect_stderr("`broken`");
    assert_eq!(project.attempt_dirs("broken").len(), 1);
    assert!(project.attempt_dirs("copy").is_empty());
    assert!(!project.exists("b.txt") && !project.exists("c.txt"));
    assert_eq!(project.read("free.txt"), "free\n");
    assert_eq!(project.read("later.txt"), "free\n");
}

#[test]
fn ignore_keeps_what_was_written_creates_the_rest_empty_and_returns_null() {
    let project = Project::with_main(
        r#"
task half_done(kept: out file, missing: out file) -> int {
    on_failure ignore
    shell "echo kept > {{kept}}; echo 7; exit 1"
}

task lines(a: file, b: file) -> int {
    shell "cat {{a}} {{b}} | wc -l"
}

workflow main() {
    let r = half_done("kept.txt", "missing.txt")
    print(r)
    print(lines("kept.txt", "missing.txt"))
}
"#,
    );
    project
        .run(&[])
        .success()
        .expect_stdout(&["null", "1"])
        .expect_stderr("ignore");
    assert_eq!(project.read("kept.txt"), "kept\n");
    assert_eq!(project.read("missing.txt"), "");
    assert_eq!(
        project.attempt_dirs("half_done").len(),
        1,
        "ignore does not retry"
    );
}

#[test]
fn a_timeout_kills_the_whole_process_group() {
    let marker = unique_marker();
    let project = Project::with_main(
        &r#"
task sleepy() {
    timeout 500ms
    on_failure fail
    shell """
        (exec -a MARKER-child sleep 100) &
        bash -c 'exec -a MARKER-grandchild sleep 100' &
        exec -a MARKER-main sleep 100
    """
}

workflow main() {
    sleepy()
}
"#
        .replace("MARKER", &marker),
    );
    let started = Instant::now();
    let outcome = project.run(&[]);
    assert_no_survivors(&marker);
    outcome
        .expect_status(1)
        .expect_stderr("sleepy")
        .expect_stderr("timed out after 500ms");
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[test]
fn a_body_error_reports_its_line_stops_running_tasks_and_exits_1() {
    let marker = unique_marker();
    let source = r#"
task slow(o: out file) {
    shell "(exec -a MARKER sleep 30); echo slow > {{o}}"
}

task number(n: int) -> int {
    shell "echo {{n}}"
}

workflow main() {
    slow("slow.txt")
    let xs = [1, 2, 3]
    print("before")
    print(xs[number(3)])
    print("not reached")
}
"#
    .replace("MARKER", &marker);
    let project = Project::with_main(&source);
    let outcome = project.run(&[]);
    assert_no_survivors(&marker);
    outcome
        .expect_status(1)
        .expect_stdout(&["before"])
        .expect_stderr("out of range")
        .expect_stderr(&format!("main.wf:{}", line_of(&source, "xs[number(3)]")));
    assert!(!project.exists("slow.txt"));
}

#[test]
fn a_body_error_known_before_running_still_runs_the_body_up_to_it() {
    let source = r#"
workflow main() {
    print("before")
    let xs = [1, 2, 3]
    print(xs[3])
}
"#;
    let project = Project::with_main(source);
    project
        .run(&[])
        .expect_status(1)
        .expect_stdout(&["before"])
        .expect_stderr(&format!("main.wf:{}", line_of(source, "xs[3]")));
}

#[test]
fn needing_the_value_of_a_cancelled_task_stops_the_run() {
    let source = r#"
task broken() -> int {
    on_failure cancel_successors
    shell "exit 1"
}

task twice(n: int) -> int {
    shell "echo $(( {{n}} * 2 ))"
}

workflow main() {
    let d = twice(broken())
    print("before")
    print(d + 1)
    print("not reached")
}
"#;
    let project = Project::with_main(source);
    project
        .run(&[])
        .expect_status(1)
        .expect_stdout(&["before"])
        .expect_stderr("cancelled")
        .expect_stderr(&format!("main.wf:{}", line_of(source, "print(d + 1)")));
    assert!(project.attempt_dirs("twice").is_empty());
}

// ---------------------------------------------------------------------------------------------
// Groups and workflow exceptions (§6.1, §6.3)
// ---------------------------------------------------------------------------------------------

#[test]
fn a_group_exception_cancels_the_groups_other_tasks_and_is_caught() {
    let marker = unique_marker();
    let project = Project::with_main(
        &r#"
task probe(i: int) {
    shell """
        if [ {{i}} -eq 1 ]; then sleep 0.3; echo "  found {{i}}  " > "$WEFT_RAISE"; exit 0; fi
        (exec -a MARKER sleep 30)
        touch finished-{{i}}
    """
}

workflow main() {
    try {
        group "search" {
            for i in range(6) {
                probe(i)
            }
        }
        print("not reached")
    } catch e {
        print("caught", e.message, e.task, e.group)
    }
    print("after")
}
"#
        .replace("MARKER", &marker),
    );
    project.config(&cores(3));
    let outcome = project.run(&[]);
    assert_no_survivors(&marker);
    outcome
        .success()
        .expect_stdout(&["caught found 1 probe search", "after"]);
    // Three probes fit at once: the others were never started.
    assert_eq!(project.attempt_dirs("probe").len(), 3);
    assert!((0..6).all(|i| !project.exists(&format!("finished-{i}"))));
}

#[test]
fn only_the_innermost_group_is_cancelled_and_the_enclosing_group_goes_on() {
    let project = Project::with_main(
        r#"
task write_after(delay: float, text: str, o: out file) {
    shell "sleep {{delay}}; echo {{text}} > {{o}}"
}

task raiser(message: str) {
    shell "echo {{message}} > \"$WEFT_RAISE\""
}

workflow main() {
    group "outer" {
        write_after(0.6, "outer", "outer.txt")
        try {
            group "inner" {
                write_after(5.0, "inner", "inner.txt")
                raiser("inner broke")
            }
        } catch e {
            print("caught {e.message} in {e.group}")
        }
        write_after(0.0, "outer again", "outer2.txt")
    }
    print(read("outer.txt") + read("outer2.txt"))
}
"#,
    );
    project.config(&cores(3));
    project.run(&[]).success().expect_stdout(&[
        "caught inner broke in inner",
        "outer",
        "outer again",
        "",
    ]);
    assert!(!project.exists("inner.txt"));
}

#[test]
fn an_exception_outside_groups_waits_for_the_next_plain_barrier() {
    let project = Project::with_main(
        r#"
task raiser() {
    shell "echo boom > \"$WEFT_RAISE\""
}

task make(o: out file) {
    shell "sleep 0.3; echo made > {{o}}"
}

workflow main() {
    raiser()
    make("made.txt")
    print("the body goes on")
    try {
        barrier
        print("not reached")
    } catch e {
        print("at the barrier", e.message, e.task, e.group)
    }
    print(read("made.txt"))
}
"#,
    );
    project.run(&[]).success().expect_stdout(&[
        "the body goes on",
        "at the barrier boom raiser null",
        "made",
        "",
    ]);
}

#[test]
fn an_uncaught_exception_ends_the_run_with_status_3_without_cancelling_others() {
    let project = Project::with_main(
        r#"
task raiser() {
    shell "echo 'it went wrong' > \"$WEFT_RAISE\""
}

task make(o: out file) {
    shell "sleep 0.3; echo made > {{o}}"
}

workflow main() {
    raiser()
    make("made.txt")
    print("still running")
}
"#,
    );
    project
        .run(&[])
        .expect_status(3)
        .expect_stdout(&["still running"])
        .expect_stderr("it went wrong")
        .expect_stderr("raiser");
    assert_eq!(project.read("made.txt"), "made\n");
}

#[test]
fn an_uncaught_exception_with_a_failed_task_exits_3() {
    let project = Project::with_main(
        r#"
task raiser() {
    shell "echo boom > \"$WEFT_RAISE\""
}

task broken() {
    on_failure cancel_successors
    shell "exit 1"
}

workflow main() {
    broken()
    raiser()
}
"#,
    );
    project.run(&[]).expect_status(3).expect_stderr("boom");
}

#[test]
fn raises_on_exit_turns_exit_statuses_into_exceptions_that_are_not_retried() {
    let project = Project::with_main(
        r#"
task check(code: int) {
    raises_on_exit [4, 5]
    shell "exit {{code}}"
}

workflow main() {
    try {
        group "checks" {
            check(5)
        }
    } catch e {
        print(e.message, "from", e.task, "in", e.group)
    }
    check(0)
}
"#,
    );
    project
        .run(&[])
        .success()
        .expect_stdout(&["exit status 5 from check in checks"]);
    assert_eq!(project.attempt_dirs("check").len(), 2);
}

#[test]
fn the_body_raises_its_own_exceptions() {
    let caught = Project::with_main(
        r#"
task number(n: int) -> int {
    shell "echo {{n}}"
}

workflow main() {
    let n = number(4)
    try {
        if n > 3 {
            raise "too big: {n}"
        }
        print("not reached")
    } catch e {
        print(e.message, e.task, e.group)
    }
}
"#,
    );
    caught
        .run(&[])
        .success()
        .expect_stdout(&["too big: 4 null null"]);

    let uncaught = Project::with_main(
        r#"
workflow main() {
    print("first")
    raise "given up"
    print("not reached")
}
"#,
    );
    uncaught
        .run(&[])
        .expect_status(3)
        .expect_stdout(&["first"])
        .expect_stderr("given up");
}

#[test]
fn a_nowait_group_is_waited_for_at_its_named_barrier() {
    let project = Project::with_main(
        r#"
/// Finishes only once the body has written go.flag, after leaving the group: the group's
/// closing brace must not wait for it.
task waiter(o: out file) {
    on_failure fail
    shell """
        for i in $(seq 1 200); do [ -e go.flag ] && break; sleep 0.05; done
        [ -e go.flag ]
        echo done > {{o}}
    """
}

task raiser() {
    shell "sleep 0.2; echo late > \"$WEFT_RAISE\""
}

workflow main() {
    group "background" nowait {
        waiter("bg.txt")
    }
    print("left the group")
    write("go.flag", "")
    barrier "background"
    print(read("bg.txt"))
    group "failing" nowait {
        raiser()
    }
    print("not raised yet")
    try {
        barrier "failing"
    } catch e {
        print("at barrier", e.message, e.group)
    }
}
"#,
    );
    project.run(&[]).success().expect_stdout(&[
        "left the group",
        "done",
        "",
        "not raised yet",
        "at barrier late failing",
    ]);
}

// ---------------------------------------------------------------------------------------------
// Ctrl-C (§10: status 130)
// ---------------------------------------------------------------------------------------------

#[test]
fn ctrl_c_stops_the_tasks_keeps_the_users_files_and_exits_130() {
    interrupt_a_run("INT");
}

#[test]
fn sigterm_is_an_interrupt_too() {
    interrupt_a_run("TERM");
}

/// Starts a run of two long tasks, sends `signal` once both run (while the body waits in a
/// `read`), and checks that weft stops everything, leaves the user's files as they were and
/// exits 130.
fn interrupt_a_run(signal: &str) {
    let marker = unique_marker();
    let project = Project::with_main(
        &r#"
task long(i: int, o: out file) {
    shell "echo partial > {{o}}; (exec -a MARKER sleep 60); echo new > {{o}}"
}

workflow main() {
    long(0, "out0.txt")
    long(1, "out1.txt")
    print("started")
    print(read("out0.txt"))
}
"#
        .replace("MARKER", &marker),
    );
    project.write("out0.txt", "old\n");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("weft"))
        .args(["run", "main.wf"])
        .current_dir(project.root())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("weft starts");
    // Interrupt once both tasks are running.
    let started = Instant::now();
    while common::processes_with(&marker).len() < 2 && started.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let sent = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for weft") {
            break status;
        }
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            kill_marked(&marker);
            panic!("weft did not stop after SIG{signal}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read_all = |pipe: Option<&mut dyn std::io::Read>| {
        let mut text = String::new();
        if let Some(pipe) = pipe {
            let _ = pipe.read_to_string(&mut text);
        }
        text
    };
    let stdout = read_all(child.stdout.as_mut().map(|p| p as &mut dyn std::io::Read));
    let stderr = read_all(child.stderr.as_mut().map(|p| p as &mut dyn std::io::Read));
    assert_no_survivors(&marker);
    assert_eq!(status.code(), Some(130), "stderr:\n{stderr}");
    assert_eq!(stdout, "started\n");
    assert!(stderr.contains("interrupted"), "stderr:\n{stderr}");
    assert_eq!(project.read("out0.txt"), "old\n");
    assert!(!project.exists("out1.txt"));
}

#[test]
fn an_exception_of_a_nowait_group_never_waited_for_is_not_lost() {
    let project = Project::with_main(
        r#"
task raiser() {
    shell "echo forgotten > \"$WEFT_RAISE\""
}

workflow main() {
    group "background" nowait {
        raiser()
    }
    print("end of the body")
}
"#,
    );
    project
        .run(&[])
        .expect_status(3)
        .expect_stdout(&["end of the body"])
        .expect_stderr("forgotten");
}

#[test]
fn an_uncaught_group_exception_leaves_the_tasks_outside_the_group_untouched() {
    let source = r#"
task raiser() {
    shell "echo boom > \"$WEFT_RAISE\""
}

task slow(o: out file) {
    shell "sleep 0.8; echo written > {{o}}"
}

workflow main() {
    slow("slow.txt")
    group "inner" {
        raiser()
    }
    print("not reached")
}
"#;
    let sequential = Project::with_main(source);
    sequential
        .run(&["--sequential"])
        .expect_status(3)
        .expect_stdout(&[]);
    assert_eq!(sequential.read("slow.txt"), "written\n");
    let parallel = Project::with_main(source);
    parallel.run(&[]).expect_status(3).expect_stdout(&[]);
    assert_eq!(parallel.read("slow.txt"), "written\n");
}

#[test]
fn try_catch_does_not_catch_errors_of_the_body_itself() {
    let project = Project::with_main(
        r#"
task number(n: int) -> int {
    shell "echo {{n}}"
}

workflow main() {
    try {
        print([1][number(4)])
    } catch e {
        print("caught", e.message)
    }
    print("not reached")
}
"#,
    );
    project
        .run(&[])
        .expect_status(1)
        .expect_stdout(&[])
        .expect_stderr("out of range");
}

#[test]
fn a_timeout_is_a_failure_that_the_default_policy_retries() {
    let project = Project::with_main(
        r#"
task slow_first(o: out file) {
    timeout 300ms
    shell """
        if [ "$WEFT_ATTEMPT" = 1 ]; then sleep 5; fi
        echo "attempt $WEFT_ATTEMPT" > {{o}}
    """
}

workflow main() {
    slow_first("out.txt")
}
"#,
    );
    project.run(&[]).success().expect_stderr("timed out");
    assert_eq!(project.read("out.txt"), "attempt 2\n");
}

#[test]
fn reading_a_file_whose_writer_failed_names_the_file_and_the_writer() {
    let source = r#"
task broken(o: out file) {
    on_failure cancel_successors
    shell "exit 1"
}

workflow main() {
    broken("broken.txt")
    print(read("broken.txt"))
}
"#;
    let project = Project::with_main(source);
    let outcome = project.run(&[]);
    outcome
        .expect_status(1)
        .expect_stderr(&format!("main.wf:{}", line_of(source, "print(read")));
    // The error's own message, not the failure report or the source snippet around it.
    let message = outcome
        .stderr
        .lines()
        .find(|line| line.contains("cancelled or failed"))
        .unwrap_or_else(|| panic!("no error message in:\n{}", outcome.stderr));
    assert!(message.contains("broken.txt"), "{message}");
    assert!(message.contains("`broken`"), "{message}");
    assert_eq!(
        message.matches("cancelled or failed").count(),
        1,
        "{message}"
    );
}

#[test]
fn a_task_called_into_a_group_after_its_exception_never_starts() {
    let project = Project::with_main(
        r#"
task after(delay: float, n: int) -> int {
    shell "sleep {{delay}}; echo {{n}}"
}

task write_after(delay: float, text: str, o: out file) {
    shell "sleep {{delay}}; echo {{text}} > {{o}}"
}

task raiser(message: str) {
    shell "echo {{message}} > \"$WEFT_RAISE\""
}

workflow main() {
    let gate = after(0.5, 1)
    try {
        group "inner" {
            raiser("inner broke")
            // The body waits here, outside the group's tasks, while the raiser raises: the
            // call below joins a group that is already cancelled.
            if gate > 0 {
                write_after(1.0, "late", "late.txt")
            }
        }
    } catch e {
        print("caught {e.message}")
    }
}
"#,
    );
    project
        .run(&[])
        .success()
        .expect_stdout(&["caught inner broke"]);
    assert!(!project.exists("late.txt"));
    assert!(project.attempt_dirs("write_after").is_empty());
}

#[test]
fn several_exceptions_outside_groups_are_raised_one_per_barrier_in_program_order() {
    // The later call raises first; a sequential run would meet the earlier one first.
    let project = Project::with_main(
        r#"
task raiser(message: str, delay: float) {
    shell "sleep {{delay}}; echo {{message}} > \"$WEFT_RAISE\""
}

workflow main() {
    raiser("first", 0.4)
    raiser("second", 0.0)
    for round in [1, 2, 3] {
        try {
            barrier
            print(round, "nothing left")
        } catch e {
            print(round, e.message)
        }
    }
}
"#,
    );
    project.config(&cores(2));
    project
        .run(&[])
        .success()
        .expect_stdout(&["1 first", "2 second", "3 nothing left"]);
}
