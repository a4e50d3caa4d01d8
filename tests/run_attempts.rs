//! `weft run`: what each attempt of a task starts from and where it runs — retried attempts,
//! `workdir`, standard input, outputs a task does not write (§4.2, §4.4, §6.2, §7).

mod common;

use common::Project;

#[test]
fn a_retried_inout_attempt_starts_from_the_version_it_reads() {
    let project = Project::with_main(
        r#"
task append(log: inout file, word: str) {
    shell """
        echo {{word}} >> {{log}}
        if [ "$WEFT_ATTEMPT" = 1 ]; then exit 1; fi
    """
}

workflow main() {
    write("log.txt", "start\n")
    append("log.txt", "once")
}
"#,
    );
    project.run(&[]).success().expect_stderr("retrying");
    assert_eq!(project.read("log.txt"), "start\nonce\n");
}

#[test]
fn a_retried_attempt_does_not_see_what_the_failed_one_wrote() {
    let project = Project::with_main(
        r#"
task fill(o: out file) {
    on_failure retry(1)
    shell """
        if [ -e {{o}} ]; then echo "stale output of an earlier attempt" >&2; exit 1; fi
        echo "attempt $WEFT_ATTEMPT" > {{o}}
        if [ "$WEFT_ATTEMPT" = 1 ]; then exit 1; fi
    """
}

workflow main() {
    fill("fill.txt")
}
"#,
    );
    project.run(&[]).success();
    assert_eq!(project.read("fill.txt"), "attempt 2\n");
}

#[test]
fn file_arguments_work_from_a_tasks_workdir() {
    let project = Project::with_main(
        r#"
task in_sub(src: file, o: out file) {
    workdir "sub"
    shell "pwd > {{o}}; cat {{src}} >> {{o}}"
}

task make(o: out file) {
    shell "echo made > {{o}}"
}

workflow main() {
    in_sub("data.txt", "from-disk.txt")
    make("made.txt")
    in_sub("made.txt", "from-task.txt")
}
"#,
    );
    project.write("data.txt", "data\n");
    project.write("sub/.keep", "");
    project.run(&[]).success();
    let workdir = std::fs::canonicalize(project.path("sub")).unwrap();
    let expected = |content: &str| format!("{}\n{content}", workdir.display());
    assert_eq!(project.read("from-disk.txt"), expected("data\n"));
    assert_eq!(project.read("from-task.txt"), expected("made\n"));
}

#[test]
fn a_workdir_is_where_the_process_runs() {
    let project = Project::with_main(
        r#"
task where(o: str) {
    workdir "sub/dir"
    shell "pwd > ../../{{o}}; ls > ../../listing.txt"
}

workflow main() {
    where("where.txt")
}
"#,
    );
    project.write("sub/dir/inside.txt", "");
    project.run(&[]).success();
    let workdir = std::fs::canonicalize(project.path("sub/dir")).unwrap();
    assert_eq!(
        project.read("where.txt"),
        format!("{}\n", workdir.display())
    );
    assert_eq!(project.read("listing.txt"), "inside.txt\n");
}

#[test]
fn tasks_read_an_empty_standard_input_whatever_weft_was_given() {
    let project = Project::with_main(
        r#"
task listen(o: out file) {
    shell "cat > {{o}}; echo end >> {{o}}"
}

workflow main() {
    listen("heard.txt")
}
"#,
    );
    let outcome = common::Outcome::from(
        project
            .command()
            .args(["run", "main.wf"])
            .write_stdin("typed at the terminal\n")
            .output()
            .expect("weft starts"),
    );
    outcome.success();
    assert_eq!(project.read("heard.txt"), "end\n");
}

#[test]
fn a_task_that_does_not_write_its_out_file_fails_naming_it() {
    let project = Project::with_main(
        r#"
task lazy(o: out file) {
    on_failure fail
    shell "true"
}

task copy(src: file, dst: out file) {
    shell "cp {{src}} {{dst}}"
}

workflow main() {
    lazy("lazy.txt")
    copy("lazy.txt", "copy.txt")
}
"#,
    );
    project.write("lazy.txt", "old\n");
    project
        .run(&[])
        .expect_status(1)
        .expect_stderr("`lazy`")
        .expect_stderr("lazy.txt");
    assert_eq!(project.read("lazy.txt"), "old\n");
    assert!(project.attempt_dirs("copy").is_empty());
}

#[test]
fn an_out_json_that_is_not_written_fails_the_task_and_an_inout_one_keeps_its_value() {
    let project = Project::with_main(
        r#"
task keep(state: inout json) {
    shell "true"
}

task forget(state: out json) {
    on_failure fail
    shell "true"
}

workflow main() {
    let state = {"n": 1}
    keep(state)
    print(state)
    forget(state)
    print(state)
}
"#,
    );
    project
        .run(&[])
        .expect_status(1)
        .expect_stdout(&[r#"{"n":1}"#])
        .expect_stderr("WEFT_OUT_state");
}
