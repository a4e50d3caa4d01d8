//! The ssh executor against real sshd daemons on loopback (.ci/setup-ssh.sh): tasks spread
//! over hosts, staged files, refused paths, unreachable hosts, and hosts killed mid-run.

mod ssh_common;

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use ssh_common::*;

const LIMIT: Duration = Duration::from_secs(120);

fn host(name: &str, cores: u32, extra: &str) -> String {
    format!(
        "    - {{ host: {name}, cores: {cores}, weft: {}{extra} }}\n",
        weft()
    )
}

fn ssh_config(hosts: &[String]) -> String {
    format!("executor: ssh\nssh:\n  hosts:\n{}", hosts.concat())
}

#[test]
fn tasks_spread_over_every_host_of_a_shared_file_system() {
    if !ssh_hosts() {
        return;
    }
    let config = ssh_config(&[
        host("weft-host1", 1, ""),
        host("weft-host2", 1, ""),
        host("weft-host3", 1, ""),
    ]);
    // Each task names the worker that ran it (its parent process): one worker per host.
    let workflow = r#"
task square(x: int, o: out file, who: out file) {
    shell "sleep 0.5; echo $(( {{x}} * {{x}} )) > {{o}}; echo $PPID > {{who}}"
}

workflow main() {
    for i in range(6) {
        square(i, "out{i}.txt", "who{i}.txt")
    }
}
"#;
    let dir = project(workflow, &config);
    let output = run_in(dir.path(), &[], LIMIT);
    assert_status(&output, 0);
    let mut workers = BTreeSet::new();
    for i in 0..6 {
        let written = std::fs::read_to_string(dir.path().join(format!("out{i}.txt"))).unwrap();
        assert_eq!(written, format!("{}\n", i * i));
        workers.insert(std::fs::read_to_string(dir.path().join(format!("who{i}.txt"))).unwrap());
    }
    assert_eq!(workers.len(), 3, "workers: {workers:?}");
}

/// Every entry of a worker's content store, with its inode: a content sent again would be
/// written anew (a new inode) over the old one.
fn store_inodes(workdir: &Path) -> BTreeMap<String, u64> {
    let store = workdir.join(".weft-cache/blake3");
    std::fs::read_dir(&store)
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| {
                    (
                        e.file_name().to_string_lossy().into_owned(),
                        e.metadata().unwrap().ino(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn staged_hosts_get_inputs_and_send_outputs_back_once() {
    if !ssh_hosts() {
        return;
    }
    let remote = tempfile::tempdir().unwrap();
    let config = ssh_config(&[host(
        "weft-host2",
        2,
        &format!(", staging: true, workdir: {}", remote.path().display()),
    )]);
    let workflow = r#"
task double(src: file, dst: out file) {
    shell "cat {{src}} {{src}} > {{dst}}"
}

task sizes(src: file, report: out file) {
    shell "wc -c < {{src}} > {{report}}"
}

task tree(d: out dir) {
    shell "mkdir -p {{d}}/sub/empty && echo one > {{d}}/a.txt && echo two > {{d}}/sub/b.txt"
}

task listing(d: dir, o: out file) {
    shell "(cd {{d}} && find . | sort) > {{o}}; cat {{d}}/a.txt {{d}}/sub/b.txt >> {{o}}"
}

workflow main() {
    double("data.bin", "doubled.bin")
    sizes("doubled.bin", "size.txt")
    tree("made")
    listing("made", "listing.txt")
}
"#;
    let dir = project(workflow, &config);
    // Three pieces of a megabyte and a bit: more than one message each way.
    let data: Vec<u8> = (0..3 * 1024 * 1024 + 17).map(|i| (i % 251) as u8).collect();
    std::fs::write(dir.path().join("data.bin"), &data).unwrap();

    let output = run_in(dir.path(), &[], LIMIT);
    assert_status(&output, 0);
    let doubled = std::fs::read(dir.path().join("doubled.bin")).unwrap();
    assert_eq!(doubled.len(), data.len() * 2);
    assert!(doubled[..data.len()] == data[..] && doubled[data.len()..] == data[..]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("size.txt"))
            .unwrap()
            .trim(),
        (data.len() * 2).to_string()
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("listing.txt")).unwrap(),
        ".\n./a.txt\n./sub\n./sub/b.txt\n./sub/empty\none\ntwo\n"
    );
    assert!(dir.path().join("made/sub/empty").is_dir());
    // The tasks ran in the host's workdir, not in the run directory.
    assert!(remote.path().join("data.bin").is_file());

    // A second run sends nothing the host already holds.
    let before = store_inodes(remote.path());
    assert!(before.len() >= 3, "store: {before:?}");
    let output = run_in(dir.path(), &[], LIMIT);
    assert_status(&output, 0);
    let after = store_inodes(remote.path());
    for (hash, inode) in &before {
        assert_eq!(after.get(hash), Some(inode), "content {hash} crossed again");
    }
}

#[test]
fn staged_paths_outside_the_run_directory_are_refused() {
    if !ssh_hosts() {
        return;
    }
    let remote = tempfile::tempdir().unwrap();
    let config = ssh_config(&[host(
        "weft-host1",
        1,
        &format!(", staging: true, workdir: {}", remote.path().display()),
    )]);
    let outside = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(outside.path(), "secret\n").unwrap();
    let workflow = format!(
        r#"
task show(f: file) {{
    on_failure fail
    shell "cat {{{{f}}}}"
}}

workflow main() {{
    show("{}")
}}
"#,
        outside.path().display()
    );
    let dir = project(&workflow, &config);
    let output = run_in(dir.path(), &[], LIMIT);
    assert_status(&output, 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("outside the run directory"),
        "stderr:\n{stderr}"
    );
    // Nothing reached the host.
    assert!(store_inodes(remote.path()).is_empty());
}

#[test]
fn an_unreachable_host_leaves_the_run_to_the_others() {
    if !ssh_hosts() {
        return;
    }
    // Nothing listens on port 1: the connection is refused at once.
    let config = ssh_config(&[host("127.0.0.1", 1, ", port: 1"), host("weft-host3", 1, "")]);
    let workflow = r#"
task touch(o: out file) {
    on_failure fail
    shell "echo done > {{o}}"
}

workflow main() {
    for i in range(4) {
        touch("t{i}.txt")
    }
}
"#;
    let dir = project(workflow, &config);
    let output = run_in(dir.path(), &[], LIMIT);
    assert_status(&output, 0);
    for i in 0..4 {
        assert!(dir.path().join(format!("t{i}.txt")).is_file());
    }
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("host 127.0.0.1 is lost"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn with_no_host_left_the_run_stops_with_a_clear_error() {
    if !ssh_hosts() {
        return;
    }
    let config = ssh_config(&[host("127.0.0.1", 1, ", port: 1")]);
    let workflow = r#"
task touch(o: out file) {
    shell "echo done > {{o}}"
}

workflow main() {
    touch("t.txt")
}
"#;
    let dir = project(workflow, &config);
    let output = run_in(dir.path(), &[], LIMIT);
    assert_status(&output, 1);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("every host is lost"), "stderr:\n{stderr}");
    assert!(stderr.contains("Connection refused"), "stderr:\n{stderr}");
}

/// Tasks that note their start, then take a while: the fault tests kill a host while some
/// of them run there.
const SLOW_TASKS: &str = r#"
task slow(i: int, o: out file) {
    on_failure fail
    shell "touch started-{{i}}; sleep 1.5; echo {{i}} > {{o}}"
}

workflow main() {
    for i in range(8) {
        slow(i, "out{i}.txt")
    }
}
"#;

#[test]
fn a_host_killed_mid_run_hands_its_tasks_to_the_others() {
    if !ssh_hosts() {
        return;
    }
    let mut spare = SpareHost::start();
    let config = ssh_config(&[host("weft-spare", 2, ""), host("weft-host1", 2, "")]);
    let dir = project(SLOW_TASKS, &config);
    let child = spawn_in(dir.path(), &[], &["run", "main.wf"]);
    // Four tasks run (two a host): kill the spare while its two run.
    let started = wait_for(Duration::from_secs(30), || {
        (0..8)
            .filter(|i| dir.path().join(format!("started-{i}")).exists())
            .count()
            >= 4
    });
    assert!(started, "the first tasks did not start");
    spare.kill();
    let output = wait_with_limit(child, LIMIT);
    // `on_failure fail`: had the lost attempts counted as failures, the run would have failed.
    assert_status(&output, 0);
    for i in 0..8 {
        let written = std::fs::read_to_string(dir.path().join(format!("out{i}.txt"))).unwrap();
        assert_eq!(written, format!("{i}\n"));
    }
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("host weft-spare is lost"),
        "stderr:\n{stderr}"
    );
    assert!(stderr.contains("runs again"), "stderr:\n{stderr}");
}

#[test]
fn killing_the_last_host_stops_the_run_with_a_clear_error() {
    if !ssh_hosts() {
        return;
    }
    let mut spare = SpareHost::start();
    let config = ssh_config(&[host("weft-spare", 2, "")]);
    let dir = project(SLOW_TASKS, &config);
    let child = spawn_in(dir.path(), &[], &["run", "main.wf"]);
    let started = wait_for(Duration::from_secs(30), || {
        dir.path().join("started-0").exists()
    });
    assert!(started, "the first task did not start");
    spare.kill();
    let output = wait_with_limit(child, LIMIT);
    assert_status(&output, 1);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("every host is lost"), "stderr:\n{stderr}");
}

#[test]
fn multinode_and_mpi_nodes_reserve_several_hosts_and_name_them() {
    if !ssh_hosts() {
        return;
    }
    let config = ssh_config(&[
        host("weft-host1", 1, ""),
        host("weft-host2", 1, ""),
        host("weft-host3", 1, ""),
    ]);
    let workflow = r#"
task pair(o: out file) {
    multinode 2
    shell "echo $WEFT_NUM_NODES $WEFT_HOSTNAMES > {{o}}"
}

task everywhere(o: out file as stdout) {
    mpi "./show.sh" { runner: "./fake-mpirun", processes: 3, nodes: 3 }
}

workflow main() {
    pair("pair.txt")
    everywhere("mpi.txt")
}
"#;
    let dir = project(workflow, &config);
    let script = |name: &str, body: &str| {
        use std::os::unix::fs::PermissionsExt;
        let path = dir.path().join(name);
        std::fs::write(&path, body).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    };
    // The runner drops `-n N` and runs the program once.
    script("fake-mpirun", "#!/bin/sh\nshift 2\nexec \"$@\"\n");
    script(
        "show.sh",
        "#!/bin/sh\necho \"$WEFT_NUM_NODES $WEFT_HOSTNAMES\"\n",
    );
    let output = run_in(dir.path(), &[], LIMIT);
    assert_status(&output, 0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("pair.txt")).unwrap(),
        "2 weft-host1,weft-host2\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("mpi.txt")).unwrap(),
        "3 weft-host1,weft-host2,weft-host3\n"
    );
}

#[test]
fn a_task_only_a_lost_host_could_run_fails_instead_of_waiting() {
    if !ssh_hosts() {
        return;
    }
    let mut spare = SpareHost::start();
    let config = ssh_config(&[
        host("weft-spare", 1, ", labels: [gold]"),
        host("weft-host1", 1, ""),
    ]);
    // The second call waits for the spare's only core when the spare dies.
    let workflow = r#"
task golden(i: int, o: out file) {
    constraint { labels: ["gold"] }
    shell "touch started-{{i}}; sleep 30; echo {{i}} > {{o}}"
}

workflow main() {
    golden(0, "g0.txt")
    golden(1, "g1.txt")
}
"#;
    let dir = project(workflow, &config);
    let child = spawn_in(dir.path(), &[], &["run", "main.wf"]);
    let started = wait_for(Duration::from_secs(30), || {
        dir.path().join("started-0").exists()
    });
    assert!(started, "the first task did not start");
    spare.kill();
    let output = wait_with_limit(child, Duration::from_secs(20));
    assert_status(&output, 1);
    let stderr = text(&output.stderr);
    assert!(stderr.contains("no host left can run"), "stderr:\n{stderr}");
}

#[test]
fn a_host_that_stops_answering_is_lost_after_the_keep_alives() {
    if !ssh_hosts() {
        return;
    }
    let mut spare = SpareHost::start();
    let config = ssh_config(&[host("weft-spare", 2, ""), host("weft-host1", 2, "")]);
    let dir = project(SLOW_TASKS, &config);
    let child = spawn_in(dir.path(), &[], &["run", "main.wf"]);
    let started = wait_for(Duration::from_secs(30), || {
        (0..8)
            .filter(|i| dir.path().join(format!("started-{i}")).exists())
            .count()
            >= 4
    });
    assert!(started, "the first tasks did not start");
    // Its connection stays open, but nothing answers ssh's keep-alives any more.
    spare.freeze();
    let output = wait_with_limit(child, LIMIT);
    assert_status(&output, 0);
    for i in 0..8 {
        let written = std::fs::read_to_string(dir.path().join(format!("out{i}.txt"))).unwrap();
        assert_eq!(written, format!("{i}\n"));
    }
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("host weft-spare is lost"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn a_replicated_task_runs_once_on_every_host() {
    if !ssh_hosts() {
        return;
    }
    let config = ssh_config(&[
        host("weft-host1", 1, ""),
        host("weft-host2", 1, ""),
        host("weft-host3", 1, ""),
    ]);
    // Each run notes its worker (its parent process) in a file no call declares, and writes
    // the call's out file: the last run's is the call's.
    let workflow = r#"
task setup(o: out file) {
    replicated
    shell "echo $PPID >> replicas.log; echo $PPID > {{o}}"
}

task after(i: file, o: out file) {
    shell "cat {{i}} > {{o}}"
}

workflow main() {
    setup("last.txt")
    after("last.txt", "copy.txt")
}
"#;
    let dir = project(workflow, &config);
    let output = run_in(dir.path(), &[], LIMIT);
    assert_status(&output, 0);
    let log = std::fs::read_to_string(dir.path().join("replicas.log")).unwrap();
    let workers: Vec<&str> = log.lines().collect();
    assert_eq!(workers.len(), 3, "{log}");
    assert_eq!(workers.iter().collect::<BTreeSet<_>>().len(), 3, "{log}");
    let last = std::fs::read_to_string(dir.path().join("last.txt")).unwrap();
    assert_eq!(last.trim(), workers[2]);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("copy.txt")).unwrap(),
        last
    );
}
