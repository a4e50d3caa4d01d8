//! End to end: `weft run --resume`, `--explain` and `weft clean`, with the weft binary.
//!
//! Tasks append their tag to `side.log` when they start — a side effect outside the
//! language's guarantee, which counts executions. The kill test runs the workflow, kills
//! `weft` with SIGKILL at random moments, asks `--explain` which calls a resume would run,
//! resumes, and checks that exactly those ran and that the files are those of an
//! uninterrupted run.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use common::{survivors_after, unique_marker, Project};

/// Six two-step chains, a merge of their ends and a count of the merge: 14 calls. Every
/// command carries `marker`, so the test can wait for processes a killed weft left behind.
fn pipeline(marker: &str) -> String {
    format!(
        r#"
/// Upper-cases a file and appends its tag.
task step(src: file, dst: out file, tag: str) {{
    shell "echo {{{{tag}}}} >> side.log; : {marker}; sleep 0.05; tr a-z A-Z < {{{{src}}}} > {{{{dst}}}}; echo {{{{tag}}}} >> {{{{dst}}}}"
}}

task merge(parts: [file], all: out file) {{
    shell "echo merge >> side.log; : {marker}; sleep 0.05; cat {{{{parts}}}} > {{{{all}}}}"
}}

task count(all: file) -> int {{
    shell "echo count >> side.log; : {marker}; wc -l < {{{{all}}}}"
}}

workflow main() {{
    let ends = []
    for i in range(6) {{
        let a = "work/a{{i}}.txt"
        step("data/in{{i}}.txt", a, "a{{i}}")
        let b = "work/b{{i}}.txt"
        step(a, b, "b{{i}}")
        ends += [b]
    }}
    merge(ends, "out/all.txt")
    let n = count("out/all.txt")
    print("{{n}} lines")
}}
"#
    )
}

const ALL_TAGS: [&str; 14] = [
    "a0", "b0", "a1", "b1", "a2", "b2", "a3", "b3", "a4", "b4", "a5", "b5", "merge", "count",
];

fn pipeline_project(marker: &str) -> Project {
    let project = Project::with_main(&pipeline(marker));
    for i in 0..6 {
        project.write(&format!("data/in{i}.txt"), &format!("input number {i}\n"));
    }
    project
}

/// The tags in `side.log`, in order.
fn executions(project: &Project) -> Vec<String> {
    if !project.exists("side.log") {
        return Vec::new();
    }
    project
        .read("side.log")
        .lines()
        .map(str::to_string)
        .collect()
}

/// The tags appended to `side.log` by `run`.
fn executed_by(project: &Project, run: impl FnOnce()) -> BTreeSet<String> {
    let before = executions(project).len();
    run();
    let after = executions(project);
    let new: Vec<String> = after[before..].to_vec();
    let set: BTreeSet<String> = new.iter().cloned().collect();
    assert_eq!(set.len(), new.len(), "a call ran twice in one run: {new:?}");
    set
}

/// The files a run leaves, without the side log.
fn outputs(project: &Project) -> BTreeMap<String, Vec<u8>> {
    let mut files = project.snapshot();
    files.remove("side.log");
    files
}

/// `--explain`'s verdict per tag (`cached`, `run` or `unknown`).
fn explain(project: &Project, extra: &[&str]) -> BTreeMap<String, String> {
    let mut args = vec!["--explain"];
    args.extend_from_slice(extra);
    let outcome = project.run(&args);
    outcome.success();
    let mut verdicts = BTreeMap::new();
    for line in outcome.stdout.lines() {
        let Some((word, rest)) = line.split_once(' ') else {
            continue;
        };
        if !matches!(word, "cached" | "run" | "unknown") {
            continue;
        }
        let call = rest.trim_start();
        let tag = if call.starts_with("step(") {
            call.split('"')
                .rev()
                .nth(1)
                .expect("a step's tag is its last argument")
                .to_string()
        } else {
            call.split('(').next().unwrap_or_default().to_string()
        };
        verdicts.insert(tag, word.to_string());
    }
    assert_eq!(
        verdicts.len(),
        ALL_TAGS.len(),
        "explain shows every call:\n{}",
        outcome.stdout
    );
    verdicts
}

fn tags(list: &[&str]) -> BTreeSet<String> {
    list.iter().map(|t| t.to_string()).collect()
}

/// A small deterministic generator, seeded from the clock; the seed is in every message.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

#[test]
fn killed_runs_resume_only_their_unfinished_calls_and_end_as_an_uninterrupted_run() {
    let marker = unique_marker();
    let reference = pipeline_project(&marker);
    let started = Instant::now();
    let full = reference.run(&[]);
    full.success().expect_stdout(&["18 lines"]);
    let duration = started.elapsed();
    let expected = outputs(&reference);
    assert_eq!(executions(&reference).len(), ALL_TAGS.len());

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(7);
    let mut random = Random(seed);
    let weft = assert_cmd::cargo::cargo_bin("weft");
    for round in 0..10 {
        let project = pipeline_project(&marker);
        // Kill points spread over the whole run, from its very start to just after its end.
        let delay = Duration::from_micros(random.next() % (duration.as_micros() as u64 * 11 / 10));
        let mut child = std::process::Command::new(&weft)
            .args(["run", "main.wf"])
            .current_dir(project.root())
            .env("NO_COLOR", "1")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("weft starts");
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        // Tasks the killed weft had started run on to their end; wait for them.
        let left = survivors_after(&marker, Duration::from_secs(20));
        assert!(left.is_empty(), "processes left running: {left:?}");
        let context = format!("seed {seed}, round {round}, killed after {delay:?}");

        let verdicts = explain(&project, &[]);
        let predicted: BTreeSet<String> = verdicts
            .iter()
            .filter(|(_, verdict)| *verdict != "cached")
            .map(|(tag, _)| tag.clone())
            .collect();
        eprintln!(
            "{context}: {} of 14 calls had completed",
            14 - predicted.len()
        );
        let mut resumed = None;
        let ran = executed_by(&project, || resumed = Some(project.run(&["--resume"])));
        let resumed = resumed.expect("the resume ran");
        resumed.success();
        assert_eq!(resumed.lines(), vec!["18 lines"], "{context}");
        assert_eq!(
            ran, predicted,
            "{context}: the resume ran other calls than --explain said\n{verdicts:?}"
        );
        assert_eq!(outputs(&project), expected, "{context}: the files differ");
        // A second resume has nothing left to do.
        let again = executed_by(&project, || {
            project.run(&["--resume"]).success();
        });
        assert!(again.is_empty(), "{context}: ran again {again:?}");
    }
}

#[test]
fn changing_one_input_reruns_exactly_the_calls_that_depend_on_it() {
    let marker = unique_marker();
    let project = pipeline_project(&marker);
    project.run(&[]).success();
    project.write("data/in3.txt", "a changed input\n");
    let verdicts = explain(&project, &[]);
    assert_eq!(verdicts["a3"], "run");
    assert_eq!(verdicts["b3"], "unknown");
    assert_eq!(verdicts["a2"], "cached");
    let explained = project.run(&["--explain"]);
    assert!(
        explained.stdout.contains("input data/in3.txt changed"),
        "{}",
        explained.stdout
    );
    let ran = executed_by(&project, || {
        project.run(&["--resume"]).success();
    });
    assert_eq!(ran, tags(&["a3", "b3", "merge", "count"]));
    assert!(project.read("out/all.txt").contains("A CHANGED INPUT"));
}

#[test]
fn changing_a_task_body_reruns_that_task_and_its_dependants() {
    let marker = unique_marker();
    let project = pipeline_project(&marker);
    project.run(&[]).success();
    // `merge` now writes a header: its calls and what reads its output run again.
    let source = project.read("main.wf").replace(
        "cat {{parts}} > {{all}}",
        "(echo merged; cat {{parts}}) > {{all}}",
    );
    project.write("main.wf", &source);
    let explained = project.run(&["--explain"]);
    assert!(
        explained
            .stdout
            .contains("the task's body or directives changed"),
        "{}",
        explained.stdout
    );
    let mut resumed = None;
    let ran = executed_by(&project, || resumed = Some(project.run(&["--resume"])));
    resumed
        .expect("the resume ran")
        .success()
        .expect_stdout(&["19 lines"]);
    assert_eq!(ran, tags(&["merge", "count"]));

    // A body change that leaves the output as it was reruns the task only.
    let source = project
        .read("main.wf")
        .replace("sleep 0.05; tr", "sleep 0.01; tr");
    project.write("main.wf", &source);
    let ran = executed_by(&project, || {
        project.run(&["--resume"]).success();
    });
    let steps: BTreeSet<String> = ALL_TAGS[..12].iter().map(|t| t.to_string()).collect();
    assert_eq!(
        ran, steps,
        "the steps' outputs are unchanged: merge is restored"
    );
}

#[test]
fn without_resume_every_call_runs_and_is_recorded_for_a_later_resume() {
    let marker = unique_marker();
    let project = pipeline_project(&marker);
    assert_eq!(
        executed_by(&project, || {
            project.run(&[]).success();
        })
        .len(),
        14
    );
    assert_eq!(
        executed_by(&project, || {
            project.run(&[]).success();
        })
        .len(),
        14,
        "a run without --resume reuses nothing"
    );
    let mut resumed = None;
    let ran = executed_by(&project, || resumed = Some(project.run(&["--resume"])));
    assert!(ran.is_empty(), "ran {ran:?}");
    resumed
        .expect("the resume ran")
        .success()
        .expect_stdout(&["18 lines"])
        .expect_stderr("14 restored from the cache");
}

#[test]
fn outputs_removed_by_hand_come_back_from_the_cache() {
    let marker = unique_marker();
    let project = pipeline_project(&marker);
    project.run(&[]).success();
    let expected = outputs(&project);
    std::fs::remove_dir_all(project.path("work")).expect("remove work/");
    std::fs::remove_dir_all(project.path("out")).expect("remove out/");
    let ran = executed_by(&project, || {
        project.run(&["--resume"]).success();
    });
    assert!(ran.is_empty(), "ran {ran:?}");
    assert_eq!(outputs(&project), expected);
}

#[test]
fn return_values_json_outputs_and_out_dirs_are_restored() {
    let project = Project::with_main(
        r#"
task stats(text: file, report: out dir, summary: out json) -> (int, str) {
    script "python3" """
        import json, os
        args = json.load(open(os.environ["WEFT_ARGS"]))
        with open("side.log", "a") as log:
            log.write("stats\n")
        words = open(args["text"]).read().split()
        os.makedirs(os.path.join(args["report"], "deep"), exist_ok=True)
        with open(os.path.join(args["report"], "deep", "words.txt"), "w") as f:
            f.write("\n".join(words) + "\n")
        os.symlink("deep/words.txt", os.path.join(args["report"], "link"))
        json.dump({"words": len(words), "first": words[0]}, open(os.environ["WEFT_OUT_summary"], "w"))
        json.dump([len(words), words[-1]], open(os.environ["WEFT_RETURN"], "w"))
    """
}

workflow main() {
    let summary = {}
    let (n, last) = stats("text.txt", "report", summary)
    print("{n} {last} {summary}")
    print(read("report/link"))
}
"#,
    );
    project.write("text.txt", "alpha beta gamma\n");
    let first = project.run(&[]);
    first.success();
    std::fs::remove_dir_all(project.path("report")).expect("remove report/");
    let ran = executed_by(&project, || {
        let resumed = project.run(&["--resume"]);
        resumed.success();
        assert_eq!(resumed.stdout, first.stdout);
    });
    assert!(ran.is_empty(), "ran {ran:?}");
    assert_eq!(
        project.read("report/deep/words.txt"),
        "alpha\nbeta\ngamma\n"
    );
    assert!(
        first.lines()[0].starts_with("3 gamma {"),
        "{}",
        first.stdout
    );
    assert!(first.lines()[0].contains("alpha"), "{}", first.stdout);
}

#[test]
fn the_fast_fingerprint_trusts_sizes_and_times() {
    let marker = unique_marker();
    let project = pipeline_project(&marker);
    project.run(&[]).success();
    // A full-mode run also records its results under their fast keys.
    let ran = executed_by(&project, || {
        project
            .run(&["--resume", "--resume-fingerprint", "fast"])
            .success();
    });
    assert!(ran.is_empty(), "ran {ran:?}");
    // Same content, new modification time: fast mode runs the call again, full mode not.
    let path = project.path("data/in1.txt");
    let file = std::fs::File::options()
        .write(true)
        .open(&path)
        .expect("open");
    file.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .expect("set the modification time");
    drop(file);
    let verdicts = explain(&project, &["--resume-fingerprint", "fast"]);
    assert_eq!(verdicts["a1"], "run");
    let ran = executed_by(&project, || {
        project.run(&["--resume"]).success();
    });
    assert!(
        ran.is_empty(),
        "full mode looks at the content: ran {ran:?}"
    );
    let ran = executed_by(&project, || {
        project
            .run(&["--resume", "--resume-fingerprint", "fast"])
            .success();
    });
    // a1 writes its output anew: a new modification time, so in fast mode everything that
    // reads it, directly or not, runs again too.
    assert_eq!(ran, tags(&["a1", "b1", "merge", "count"]));
}

#[test]
fn clean_keeps_the_last_run_and_the_results_it_uses() {
    let marker = unique_marker();
    let project = pipeline_project(&marker);
    project.run(&[]).success();
    project.write("data/in0.txt", "second version\n");
    project.run(&["--resume"]).success();
    let runs = || {
        std::fs::read_dir(project.path(".weft/runs"))
            .map(|d| d.count())
            .unwrap_or(0)
    };
    assert_eq!(runs(), 2);
    let files = outputs(&project);
    let cleaned = project.weft(&["clean"]);
    cleaned
        .success()
        .expect_stderr("removed 1 run(s) and 4 cached result(s)");
    assert_eq!(runs(), 1);
    assert_eq!(outputs(&project), files, "clean touches no user file");
    // The results the kept run used are still there; the ones of the first input are not.
    let ran = executed_by(&project, || {
        project.run(&["--resume"]).success();
    });
    assert!(ran.is_empty(), "ran {ran:?}");
    project.write("data/in0.txt", "input number 0\n");
    let ran = executed_by(&project, || {
        project.run(&["--resume"]).success();
    });
    assert_eq!(ran, tags(&["a0", "b0", "merge", "count"]));

    project.weft(&["clean", "--all"]).success();
    assert!(!project.exists(".weft"));
    assert_eq!(outputs(&project).len(), files.len());
    project
        .weft(&["clean"])
        .success()
        .expect_stderr("removed 0 run(s)");
}

#[test]
fn the_graph_of_a_run_has_its_calls_with_timings() {
    let marker = unique_marker();
    let project = pipeline_project(&marker);
    project.run(&[]).success();
    let run_dir = std::fs::read_dir(project.path(".weft/runs"))
        .expect("runs")
        .next()
        .expect("one run")
        .expect("an entry")
        .path();
    let run = run_dir.to_string_lossy().into_owned();
    let json = project.weft(&["graph", "--run", &run, "--format", "json"]);
    json.success();
    let graph: serde_json::Value = serde_json::from_str(&json.stdout).expect("JSON");
    let nodes = graph["nodes"].as_array().expect("nodes");
    assert_eq!(nodes.len(), 14);
    assert!(nodes.iter().all(|n| n["status"] == "done"));
    assert!(nodes.iter().all(|n| n["duration_us"].as_u64().is_some()));
    let merge = nodes.iter().find(|n| n["task"] == "merge").expect("merge");
    let into_merge = graph["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["to"] == merge["id"])
        .count();
    assert_eq!(into_merge, 6, "merge waited for the six chains");
    let dot = project.weft(&["graph", "--run", &run]);
    dot.success();
    assert!(dot.stdout.starts_with("digraph"));
    assert!(dot.stdout.contains("merge (line"));
    let mermaid = project.weft(&["graph", "--run", &run, "--format", "mermaid"]);
    mermaid.success();
    assert!(mermaid.stdout.starts_with("flowchart TD"));
    project
        .weft(&["graph", "--run", "no/such/run"])
        .expect_status(2);
}

/// Big inputs are hashed, and big outputs copied, off the dispatcher's thread: the same
/// results come back.
#[test]
fn big_inputs_and_outputs_are_restored_too() {
    let project = Project::with_main(
        r#"
task grow(src: file, dst: out file) {
    shell "echo grow >> side.log; for i in 1 2 3 4 5 6 7 8 9 10; do cat {{src}}; done > {{dst}}"
}

workflow main() {
    grow("big.txt", "out/bigger.txt")
}
"#,
    );
    let line = "0123456789abcdefghijklmnopqrstuvwxyz\n".repeat(6_000);
    project.write("big.txt", &line);
    project.run(&[]).success();
    let expected = project.read("out/bigger.txt");
    assert_eq!(expected.len(), line.len() * 10);
    std::fs::remove_file(project.path("out/bigger.txt")).expect("remove the output");
    let ran = executed_by(&project, || {
        project.run(&["--resume"]).success();
    });
    assert!(ran.is_empty(), "ran {ran:?}");
    assert_eq!(project.read("out/bigger.txt"), expected);
}

/// A cached file damaged on disk is never restored: the call runs again.
#[test]
fn a_damaged_cached_file_makes_the_call_run_again() {
    let marker = unique_marker();
    let project = pipeline_project(&marker);
    project.run(&[]).success();
    let expected = outputs(&project);
    // Damage every cached file (each is replaced, not changed in place: outputs at the
    // user's paths may share them).
    let mut damaged = 0;
    for shard in std::fs::read_dir(project.path(".weft/cache/blobs")).expect("blobs") {
        for blob in std::fs::read_dir(shard.expect("shard").path()).expect("a shard") {
            let blob = blob.expect("a blob").path();
            std::fs::remove_file(&blob).expect("unlink");
            std::fs::write(&blob, "damaged\n").expect("damage");
            damaged += 1;
        }
    }
    assert!(damaged > 0);
    std::fs::remove_dir_all(project.path("out")).expect("remove out/");
    let mut resumed = None;
    let ran = executed_by(&project, || resumed = Some(project.run(&["--resume"])));
    resumed
        .expect("the resume ran")
        .success()
        .expect_stderr("cannot be restored");
    assert!(ran.contains("merge"), "ran {ran:?}");
    assert_eq!(outputs(&project), expected);
}
