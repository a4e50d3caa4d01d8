//! `weft run` and the resources of the machine (§8): `-j`, cores and memory capacity, GPU
//! numbering, `impl` choice, priorities, and constraints no resource can meet.
//!
//! Overlap is detected with `mkdir busy.lock`, which fails when another task holds the lock;
//! parallelism with rendezvous, where each task waits until the others have started.

mod common;

use common::{cores, line_of, Project};

/// Tasks that fail the run if two of them ever hold `busy.lock` at once.
const EXCLUSIVE: &str = r#"
task exclusive(i: int) {
    CONSTRAINT
    on_failure fail
    shell """
        mkdir busy.lock || { echo "overlap at {{i}}" >&2; exit 1; }
        sleep 0.3
        rmdir busy.lock
        echo {{i}} >> order.log
    """
}

workflow main() {
    for i in range(4) {
        exclusive(i)
    }
}
"#;

fn exclusive(constraint: &str) -> String {
    EXCLUSIVE.replace("CONSTRAINT", constraint)
}

#[test]
fn jobs_1_runs_one_task_at_a_time_in_program_order() {
    let project = Project::with_main(&exclusive(""));
    project.config(&cores(4));
    project.run(&["-j", "1"]).success();
    assert_eq!(project.read("order.log"), "0\n1\n2\n3\n");
    assert!(!project.exists("busy.lock"));
}

#[test]
fn without_a_cap_the_same_tasks_overlap() {
    // The control for the tests above and below: the lock does catch overlapping tasks.
    let project = Project::with_main(&exclusive(""));
    project.config(&cores(4));
    project
        .run(&[])
        .expect_status(1)
        .expect_stderr("overlap at");
}

#[test]
fn cores_are_a_capacity() {
    let project = Project::with_main(&exclusive("constraint { cores: 2 }"));
    project.config(&cores(3));
    project.run(&[]).success();
    assert_eq!(project.read("order.log").lines().count(), 4);
}

#[test]
fn memory_is_a_capacity() {
    let project = Project::with_main(&exclusive("constraint { memory: 6GiB }"));
    project.config("executor: local\nlocal:\n  cores: 4\n  memory: 10GiB\n");
    project.run(&[]).success();
    assert_eq!(project.read("order.log").lines().count(), 4);
}

#[test]
fn tasks_that_fit_together_run_together() {
    let project = Project::with_main(
        r#"
/// Succeeds only if the other task is running at the same time.
task meet(me: str, other: str) {
    constraint { memory: 4GiB, cores: 1 }
    on_failure fail
    shell """
        touch {{me}}.here
        for i in $(seq 1 100); do [ -e {{other}}.here ] && exit 0; sleep 0.05; done
        exit 1
    """
}

workflow main() {
    meet("a", "b")
    meet("b", "a")
}
"#,
    );
    project.config("executor: local\nlocal:\n  cores: 2\n  memory: 10GiB\n");
    project.run(&[]).success();
}

#[test]
fn gpus_are_numbered_and_each_task_sees_only_its_own() {
    let project = Project::with_main(
        r#"
/// Takes one GPU and notes which, once all three such tasks hold one at the same time.
task on_gpu(me: int, o: out file) {
    constraint { gpus: 1 }
    on_failure fail
    shell """
        echo "$CUDA_VISIBLE_DEVICES $WEFT_GPUS" > {{o}}
        touch here.{{me}}
        for i in $(seq 1 100); do [ $(ls here.* | wc -l) -eq 3 ] && exit 0; sleep 0.05; done
        exit 1
    """
}

task two_gpus(o: out file) {
    constraint { gpus: 2 }
    shell "echo \"$CUDA_VISIBLE_DEVICES\" > {{o}}"
}

task no_gpu(o: out file) {
    shell "echo \"${CUDA_VISIBLE_DEVICES-unset} ${WEFT_GPUS-unset}\" > {{o}}"
}

task gather(parts: [file], o: out file) {
    shell "cat {{parts}} | sort > {{o}}"
}

workflow main() {
    let parts = []
    for i in range(3) {
        on_gpu(i, "g{i}.txt")
        parts += ["g{i}.txt"]
    }
    gather(parts, "gpus.txt")
    barrier
    two_gpus("pair.txt")
    no_gpu("none.txt")
}
"#,
    );
    project.config("executor: local\nlocal:\n  cores: 4\n  gpus: 3\n");
    // weft itself may see every GPU: its tasks see only those they reserved.
    let output = project
        .command()
        .env("CUDA_VISIBLE_DEVICES", "0,1,2")
        .args(["run", "main.wf"])
        .output()
        .expect("weft starts");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(project.read("gpus.txt"), "0 0\n1 1\n2 2\n");
    let pair = project.read("pair.txt");
    let ids: Vec<&str> = pair.trim().split(',').collect();
    assert_eq!(ids.len(), 2, "two GPUs: {pair:?}");
    assert_ne!(ids[0], ids[1]);
    assert!(ids.iter().all(|id| ["0", "1", "2"].contains(id)));
    // A task that reserved no GPU on a resource with GPUs sees none.
    assert_eq!(project.read("none.txt"), " unset\n");
}

/// A task with three implementations; which ran depends on the machine.
const IMPLS: &str = r#"
task build(o: out file) {
    impl accelerated {
        constraint { gpus: 1 }
        shell "echo accelerated $CUDA_VISIBLE_DEVICES > {{o}}"
    }
    impl fast_disk {
        constraint { labels: ["fastdisk"] }
        shell "echo fast_disk > {{o}}"
    }
    impl portable {
        shell "echo portable > {{o}}"
    }
}

workflow main() {
    build("which.txt")
}
"#;

#[test]
fn the_first_implementation_the_resource_satisfies_runs() {
    let cases = [
        (
            "executor: local\nlocal:\n  cores: 1\n  gpus: 0\n",
            "portable\n",
        ),
        (
            "executor: local\nlocal:\n  cores: 1\n  gpus: 0\n  labels: [fastdisk]\n",
            "fast_disk\n",
        ),
        (
            "executor: local\nlocal:\n  cores: 1\n  gpus: 1\n  labels: [fastdisk]\n",
            "accelerated 0\n",
        ),
    ];
    for (config, expected) in cases {
        let project = Project::with_main(IMPLS);
        project.config(config);
        project.run(&[]).success();
        assert_eq!(project.read("which.txt"), expected, "with\n{config}");
    }
}

#[test]
fn priority_tasks_start_first_among_those_ready_together() {
    let project = Project::with_main(
        r#"
task gate(o: out file) {
    shell "sleep 0.2; echo open > {{o}}"
}

task plain(g: file, name: str) {
    shell "echo {{name}} >> order.log"
}

task urgent(g: file, name: str) {
    priority
    shell "echo {{name}} >> order.log"
}

workflow main() {
    gate("gate.txt")
    plain("gate.txt", "first-called")
    plain("gate.txt", "second-called")
    urgent("gate.txt", "urgent")
}
"#,
    );
    project.run(&["-j", "1"]).success();
    assert_eq!(
        project.read("order.log"),
        "urgent\nfirst-called\nsecond-called\n"
    );
}

#[test]
fn a_constant_constraint_no_resource_meets_is_an_error_before_anything_runs() {
    let source = r#"
task small(o: out file) {
    shell "echo ran > {{o}}"
}

task huge(o: out file) {
    constraint { cores: 64 }
    shell "echo ran > {{o}}"
}

workflow main() {
    small("small.txt")
    huge("huge.txt")
}
"#;
    let project = Project::with_main(source);
    project.config(&cores(2));
    project
        .run(&[])
        .expect_status(2)
        .expect_stderr("weft::unsatisfiable")
        .expect_stderr("huge")
        .expect_stderr("64");
    assert!(!project.exists("small.txt"));
    assert!(!project.exists(".weft"), "nothing ran, nothing was kept");

    let check = project.weft(&["check", "--format", "json", "main.wf"]);
    check.expect_status(2);
    let diagnostic: serde_json::Value =
        serde_json::from_str(check.stdout.lines().next().expect("a diagnostic")).unwrap();
    assert_eq!(diagnostic["code"], "weft::unsatisfiable");
    assert_eq!(
        diagnostic["line"],
        line_of(source, "huge(\"huge.txt\")") as u64
    );
}

#[test]
fn a_constraint_known_only_while_running_stops_the_run_when_the_call_is_made() {
    let project = Project::with_main(
        r#"
task count() -> int {
    shell "echo 16"
}

task heavy(n: int, o: out file) {
    constraint { cores: n }
    shell "echo {{n}} > {{o}}"
}

workflow main() {
    heavy(count(), "heavy.txt")
}
"#,
    );
    project.config(&cores(2));
    project
        .run(&[])
        .expect_status(1)
        .expect_stderr("heavy")
        .expect_stderr("16");
    assert!(!project.exists("heavy.txt"));
}

#[test]
fn without_gpus_to_share_the_environment_s_gpu_list_is_left_alone() {
    // weft hides GPUs only where it hands them out; elsewhere it does not guess.
    let project = Project::with_main(
        r#"
task show(o: out file) {
    shell "echo \"${CUDA_VISIBLE_DEVICES-unset}\" > {{o}}"
}

workflow main() {
    show("seen.txt")
}
"#,
    );
    project.config("executor: local\nlocal:\n  cores: 1\n  gpus: 0\n");
    let output = project
        .command()
        .env("CUDA_VISIBLE_DEVICES", "0,1")
        .args(["run", "main.wf"])
        .output()
        .expect("weft starts");
    assert!(output.status.success(), "{output:?}");
    assert_eq!(project.read("seen.txt"), "0,1\n");
}
