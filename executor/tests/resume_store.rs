//! The resume state under `.weft/`: a damaged state file never stops a run, two runs never
//! share it, and `weft clean` removes only weft's own files.

mod recorded;

use recorded::run_recorded;
use weft_executor::resume::{clean, Cache, ResumeOptions, STATE_FILE};
use weft_executor::runtime::Recording;

const COPY: &str = r#"
task copy(src: file, dst: out file) {
    shell "cp {{src}} {{dst}}"
}

workflow main() {
    write("in.txt", "some data\n")
    copy("in.txt", "out/copy.txt")
}
"#;

#[test]
fn a_damaged_state_file_is_moved_aside_and_the_run_goes_on() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let weft = dir.path().join(".weft");
    std::fs::create_dir_all(&weft).expect(".weft");
    std::fs::write(weft.join(STATE_FILE), b"this is not a redb file at all").expect("damage");
    let cache = Cache::open(&weft, ResumeOptions::default()).expect("opens anyway");
    cache.close();
    let aside: Vec<String> = std::fs::read_dir(&weft)
        .expect("list .weft")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("state.redb.damaged-"))
        .collect();
    assert_eq!(
        aside.len(),
        1,
        "the damaged file is kept for a look: {aside:?}"
    );
}

#[test]
fn one_run_at_a_time_holds_the_state() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let weft = dir.path().join(".weft");
    let first = Cache::open(&weft, ResumeOptions::default()).expect("the first opens");
    let second = Cache::open(&weft, ResumeOptions::default());
    assert!(
        second.as_ref().err().is_some_and(|e| e.contains("in use")),
        "a second run gets a clear refusal"
    );
    let cleaning = clean(&weft, 1);
    assert!(cleaning.is_err(), "clean waits for no run: it refuses");
    first.close();
    drop(first);
    assert!(Cache::open(&weft, ResumeOptions::default()).is_ok());
}

#[test]
fn clean_removes_runs_results_and_files_no_entry_needs_and_nothing_else() {
    let run = run_recorded(COPY, |_| Recording::default());
    let weft = run.path(".weft");
    let blobs = || {
        walk(&weft.join("cache").join("blobs"))
            .into_iter()
            .filter(|p| p.is_file())
            .count()
    };
    assert_eq!(blobs(), 1, "the copy's output is cached");
    let report = clean(&weft, 1).expect("clean");
    assert_eq!((report.runs_removed, report.runs_kept), (0, 1));
    assert_eq!(report.entries_removed, 0);
    assert_eq!(blobs(), 1);

    let report = clean(&weft, 0).expect("clean everything");
    assert_eq!((report.runs_removed, report.entries_removed), (1, 1));
    assert_eq!(report.blobs_removed, 1);
    assert!(report.bytes_freed > 0);
    assert_eq!(blobs(), 0);
    // The user's files are where they were.
    assert_eq!(
        std::fs::read_to_string(run.path("out/copy.txt")).expect("the output"),
        "some data\n"
    );
    assert_eq!(
        std::fs::read_to_string(run.path("in.txt")).expect("the input"),
        "some data\n"
    );
    assert!(run.path("main.wf").exists());
}

#[test]
fn a_state_an_older_weft_made_is_set_aside_and_clean_removes_it() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let weft = dir.path().join(".weft");
    std::fs::create_dir_all(&weft).expect(".weft");
    {
        // The tables of the first format: JSON entries under their key, no format record.
        let old = redb::Database::create(weft.join(STATE_FILE)).expect("an old state");
        let txn = old.begin_write().expect("a transaction");
        {
            let entries: redb::TableDefinition<&[u8], &[u8]> =
                redb::TableDefinition::new("entries");
            let mut table = txn.open_table(entries).expect("entries");
            table
                .insert(b"key".as_slice(), br#"{"task":"t"}"#.as_slice())
                .expect("an entry");
        }
        txn.commit().expect("commit");
    }
    let names = || -> Vec<String> {
        std::fs::read_dir(&weft)
            .expect("list .weft")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("state.redb."))
            .collect()
    };
    let cache = Cache::open(&weft, ResumeOptions::default()).expect("opens with a new state");
    cache.close();
    drop(cache);
    let aside = names();
    assert!(
        aside.len() == 1 && aside[0].starts_with("state.redb.old-"),
        "{aside:?}"
    );
    let report = clean(&weft, 1).expect("clean");
    assert_eq!(names(), Vec::<String>::new(), "nothing reads it any more");
    assert!(report.bytes_freed > 0);
    assert!(weft.join(STATE_FILE).exists(), "the current state stays");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        }
        out.push(path);
    }
    out
}
