//! Progress on standard error (`weft run --progress`): plain lines when standard error is
//! not a terminal, a live bar on one, none on request; standard output keeps only `print`.

mod common;

use common::{cores, Project};

/// Six tasks one after another, 0.5 s each: progress has time to show.
const SLOW: &str = r#"
task nap(i: int) {
    shell "sleep 0.5"
}

workflow main() {
    for i in range(6) {
        nap(i)
    }
    print("done")
}
"#;

#[test]
fn without_a_terminal_progress_is_a_plain_line_now_and_then() {
    let project = Project::with_main(SLOW);
    project.config(&cores(1));
    let outcome = project.run(&[]);
    outcome.success().expect_stdout(&["done"]);
    let lines: Vec<&str> = outcome
        .stderr
        .lines()
        .filter(|l| l.contains("tasks ended"))
        .collect();
    assert!(!lines.is_empty(), "{}", outcome.stderr);
    // The first end is shown at once; the next lines at most every two seconds.
    assert_eq!(
        lines[0],
        "weft: 1 of 6 tasks ended (1 done, 0 failed, 0 cancelled), 1 running"
    );
    assert!(lines.len() < 6, "{lines:?}");
    assert!(outcome
        .stderr
        .contains("weft: 6 tasks: 6 done, 0 failed, 0 cancelled"));
}

#[test]
fn progress_none_shows_only_the_summary() {
    let project = Project::with_main(SLOW);
    project.config(&cores(1));
    let outcome = project.run(&["--progress", "none"]);
    outcome.success().expect_stdout(&["done"]);
    assert!(
        !outcome.stderr.contains("tasks ended"),
        "{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("6 done"));
}

#[test]
fn on_a_terminal_a_bar_shows_what_runs_and_prints_stay_whole() {
    // `script` gives weft a terminal (a pty) and copies what it shows.
    let project = Project::with_main(SLOW);
    project.config(&cores(1));
    let weft = assert_cmd::cargo::cargo_bin("weft");
    let output = std::process::Command::new("script")
        .args([
            "-qec",
            &format!("{} run main.wf", weft.display()),
            "/dev/null",
        ])
        .current_dir(project.root())
        .env("NO_COLOR", "1")
        .output()
        .expect("script(1) runs");
    let shown = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{shown}");
    assert!(shown.contains("tasks ended · 1 running (nap)"), "{shown}");
    assert!(shown.contains("/6 tasks ended"), "{shown}");
    // The printed line and the summary are pieces of their own: the bar is cleared first.
    let pieces: Vec<&str> = shown
        .split(['\r', '\n'])
        .map(|piece| piece.trim_start_matches("\x1b[2K"))
        .collect();
    assert!(pieces.contains(&"done"), "{shown:?}");
    assert!(
        pieces.contains(&"weft: 6 tasks: 6 done, 0 failed, 0 cancelled"),
        "{shown:?}"
    );
    assert!(shown.contains("weft: 6 tasks: 6 done"), "{shown}");
    assert!(
        !shown.contains("tasks ended (1 done"),
        "no plain lines on a terminal"
    );
}
