//! The slurm executor against a real Slurm cluster (.ci/setup-slurm.sh: nodes n1-n3 on this
//! machine): job steps inside an allocation, batch jobs, script templates, and steps and jobs
//! cancelled behind weft's back.

mod ssh_common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use ssh_common::*;

const LIMIT: Duration = Duration::from_secs(180);

/// Tasks that name the node they ran on.
const NODE_NAMES: &str = r#"
task nap(i: int, o: out file) {
    constraint { cores: 2, memory: 256MiB }
    shell "sleep 0.5; echo $SLURMD_NODENAME > {{o}}"
}

workflow main() {
    for i in range(6) {
        nap(i, "node{i}.txt")
    }
}
"#;

fn nodes_used(dir: &Path, tasks: usize) -> BTreeSet<String> {
    (0..tasks)
        .map(|i| {
            std::fs::read_to_string(dir.join(format!("node{i}.txt")))
                .unwrap_or_else(|e| panic!("node{i}.txt: {e}"))
                .trim()
                .to_string()
        })
        .collect()
}

#[test]
fn srun_steps_run_on_the_nodes_of_the_allocation() {
    if !slurm_cluster() {
        return;
    }
    let dir = project(NODE_NAMES, "executor: slurm\nslurm:\n  mode: srun\n");
    // Three nodes of two cores: one two-core task a node at a time.
    let output = run_in(
        dir.path(),
        &["salloc", "--quiet", "-N3", "-c2", "--mem=1G"],
        LIMIT,
    );
    assert_status(&output, 0);
    let nodes = nodes_used(dir.path(), 6);
    assert_eq!(
        nodes,
        BTreeSet::from(["n1", "n2", "n3"].map(String::from)),
        "every node of the allocation runs steps"
    );
}

#[test]
fn srun_mode_outside_an_allocation_is_a_clear_error() {
    if !slurm_cluster() {
        return;
    }
    let dir = project(NODE_NAMES, "executor: slurm\nslurm:\n  mode: srun\n");
    let mut command = Command::new(weft());
    command
        .args(["run", "main.wf"])
        .current_dir(dir.path())
        .env_remove("SLURM_JOB_ID")
        .stdin(Stdio::null());
    let output = command.output().unwrap();
    assert_status(&output, 1);
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains("SLURM_JOB_ID is not set"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn sbatch_jobs_follow_the_template_partition_and_walltime() {
    if !slurm_cluster() {
        return;
    }
    let workflow = r#"
task hello(i: int, o: out file) {
    constraint { walltime: 10m }
    shell "echo {{i}} $FROM_TEMPLATE $SLURM_JOB_PARTITION > {{o}}"
}

workflow main() {
    for i in range(4) {
        hello(i, "hello{i}.txt")
    }
}
"#;
    // A template of one's own: the built-in directives plus an environment variable.
    let config = r#"executor: slurm
slurm:
  mode: sbatch
  partition: debug
  max_jobs: 2
  script_template: |
    #!/bin/bash
    #SBATCH --job-name={{job_name}}
    #SBATCH --cpus-per-task={{cores}}
    {{#if walltime}}#SBATCH --time={{walltime}}
    {{/if}}#SBATCH --partition={{partition}}
    #SBATCH --output={{output}}
    #SBATCH --chdir={{workdir}}
    export FROM_TEMPLATE=templated
    exec {{command}}
"#;
    let dir = project(workflow, config);
    let output = run_in(dir.path(), &[], LIMIT);
    assert_status(&output, 0);
    for i in 0..4 {
        let written = std::fs::read_to_string(dir.path().join(format!("hello{i}.txt"))).unwrap();
        assert_eq!(written, format!("{i} templated debug\n"));
    }
    let scripts = attempt_files(dir.path(), "job.sh");
    assert_eq!(scripts.len(), 4);
    for script in scripts {
        let text = std::fs::read_to_string(&script).unwrap();
        assert!(text.contains("#SBATCH --time=0:10:00\n"), "{text}");
        assert!(text.contains("#SBATCH --partition=debug\n"), "{text}");
    }
}

/// Every file of that name in the run's attempt directories.
fn attempt_files(dir: &Path, name: &str) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.join(".weft")];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.file_name().is_some_and(|n| n == name) {
                found.push(path);
            }
        }
    }
    found
}

/// A task whose first attempt waits to be cancelled and whose second finishes at once.
const CANCELLED_ONCE: &str = r#"
task patient(o: out file) {
    on_failure retry(1)
    shell """
        if [ "$WEFT_ATTEMPT" = 1 ]; then
            touch first-attempt-running
            sleep 60
        fi
        echo "attempt $WEFT_ATTEMPT" > {{o}}
    """
}

workflow main() {
    patient("result.txt")
}
"#;

#[test]
fn a_scancelled_batch_job_is_retried() {
    if !slurm_cluster() {
        return;
    }
    let dir = project(CANCELLED_ONCE, "executor: slurm\nslurm:\n  mode: sbatch\n");
    let child = spawn_in(dir.path(), &[], &["run", "main.wf"]);
    let running = wait_for(Duration::from_secs(60), || {
        dir.path().join("first-attempt-running").exists()
    });
    assert!(running, "the first attempt did not start");
    let job_files = attempt_files(dir.path(), "slurm-job-id");
    assert_eq!(job_files.len(), 1);
    let job = std::fs::read_to_string(&job_files[0]).unwrap();
    let status = Command::new("scancel").arg(job.trim()).status().unwrap();
    assert!(status.success());
    let output = wait_with_limit(child, LIMIT);
    assert_status(&output, 0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("result.txt")).unwrap(),
        "attempt 2\n"
    );
    let stderr = text(&output.stderr);
    assert!(stderr.contains("retrying"), "stderr:\n{stderr}");
    // Slurm's SIGTERM may reach the task before weft reads the job's state: either names
    // the cancellation.
    assert!(
        stderr.contains("CANCELLED") || stderr.contains("SIGTERM"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn a_scancelled_job_step_is_retried() {
    if !slurm_cluster() {
        return;
    }
    let dir = project(CANCELLED_ONCE, "executor: slurm\nslurm:\n  mode: srun\n");
    let child = spawn_in(
        dir.path(),
        &[
            "salloc",
            "--quiet",
            "-N1",
            "-c1",
            "--job-name=weft-step-test",
        ],
        &["run", "main.wf"],
    );
    let running = wait_for(Duration::from_secs(60), || {
        dir.path().join("first-attempt-running").exists()
    });
    assert!(running, "the first attempt did not start");
    // The step runs as `weft-patient` inside the allocation: `JOB.STEP`.
    let steps = Command::new("squeue")
        .args(["-h", "-s", "-o", "%i %j"])
        .output()
        .unwrap();
    let steps = text(&steps.stdout);
    let step = steps
        .lines()
        .filter_map(|line| line.split_once(' '))
        .find(|(_, name)| name.trim() == "weft-patient")
        .map(|(id, _)| id.to_string())
        .unwrap_or_else(|| panic!("no step weft-patient in:\n{steps}"));
    let status = Command::new("scancel").arg(&step).status().unwrap();
    assert!(status.success());
    let output = wait_with_limit(child, LIMIT);
    assert_status(&output, 0);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("result.txt")).unwrap(),
        "attempt 2\n"
    );
    let stderr = text(&output.stderr);
    assert!(stderr.contains("retrying"), "stderr:\n{stderr}");
}
