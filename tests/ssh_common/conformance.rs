//! The conformance suite (../shared/conformance, beside the repository) under another
//! executor: every case is copied with a `weft.yaml` for that executor, made from the case's
//! own configuration (its `local` machine becomes one ssh host, or the shape of the Slurm
//! allocation) or, without one, from the test hosts or cluster as they are.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use weft_compiler::config::{format_size, Config};

use super::{text, weft};

/// An executor the suite runs under.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// The ssh test hosts, on the shared file system.
    Ssh,
    /// The ssh test hosts, each staging files into a workdir of its own.
    SshStaged,
    /// Job steps inside an allocation shaped like the case's machine.
    SlurmSrun,
    /// One batch job per attempt.
    SlurmSbatch,
}

/// Cases a backend cannot run as the case means them, and why.
fn unsupported(backend: Backend, case: &str) -> Option<&'static str> {
    let slurm = matches!(backend, Backend::SlurmSrun | Backend::SlurmSbatch);
    match case {
        c if slurm && c.contains("gpu") => Some("the test cluster has no GPUs"),
        // Batch jobs go wherever Slurm has room: the case's two-core, 10 GiB machine is not
        // what the jobs run on.
        c if backend == Backend::SlurmSbatch && c.contains("resource-capacity") => {
            Some("sbatch jobs use the cluster's capacity, not the case's machine")
        }
        // Only a task's file and dir parameters travel to a staging host.
        c if backend == Backend::SshStaged
            && ["binary-exit-value", "priority", "resource-capacity"]
                .iter()
                .any(|name| c.contains(name)) =>
        {
            Some("its tasks use files that are not their parameters, which staging does not move")
        }
        _ => None,
    }
}

/// The conformance suite's runner and cases, if they are beside the repository.
pub fn suite() -> Option<(PathBuf, PathBuf)> {
    let shared = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/conformance");
    let runner = shared.join("run");
    let cases = shared.join("cases");
    (runner.is_file() && cases.is_dir()).then_some((runner, cases))
}

/// Runs the whole suite under `backend`; returns the runner's report, or a reason to skip.
pub fn run_suite(backend: Backend) -> Result<String, String> {
    let Some((runner, cases)) = suite() else {
        return Err("../shared/conformance is not beside the repository".to_string());
    };
    if Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_err()
    {
        return Err("python3 (the conformance runner) is not installed".to_string());
    }
    let work = tempfile::Builder::new()
        .prefix("weft-conformance-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let copied = work.path().join("cases");
    let remote = work.path().join("hosts");
    let mut skipped = Vec::new();
    for entry in std::fs::read_dir(&cases).map_err(|e| e.to_string())? {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().join("case.json").is_file() {
            continue;
        }
        if let Some(reason) = unsupported(backend, &name) {
            skipped.push(format!("{name} ({reason})"));
            continue;
        }
        let dest = copied.join(&name);
        copy_dir(&entry.path(), &dest).map_err(|e| format!("cannot copy {name}: {e}"))?;
        let own = entry.path().join("weft.yaml");
        let own = own
            .is_file()
            .then(|| Config::load(&own).map_err(|d| format!("{name}: {}", d.message)))
            .transpose()?;
        let (config, allocation) = backend_config(backend, own.as_ref(), &remote.join(&name));
        std::fs::write(dest.join("weft.yaml"), config).map_err(|e| e.to_string())?;
        if let Some(allocation) = allocation {
            std::fs::write(dest.join(".salloc-args"), allocation).map_err(|e| e.to_string())?;
        }
    }
    // srun needs an allocation around `weft run`: a wrapper takes the case's shape from
    // .salloc-args (the runner copies it with the case).
    let binary = if backend == Backend::SlurmSrun {
        let wrapper = work.path().join("weft-in-salloc");
        std::fs::write(
            &wrapper,
            format!(
                "#!/bin/bash\nif [ \"$1\" = run ] && [ -f .salloc-args ]; then\n  \
                 exec salloc --quiet $(cat .salloc-args) {weft} \"$@\"\nfi\nexec {weft} \"$@\"\n",
                weft = weft()
            ),
        )
        .map_err(|e| e.to_string())?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| e.to_string())?;
        wrapper
    } else {
        PathBuf::from(weft())
    };
    let output = Command::new("python3")
        .arg(&runner)
        .arg(&binary)
        .arg(&copied)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run the conformance runner: {e}"))?;
    let mut report = text(&output.stdout);
    if !skipped.is_empty() {
        report.push_str(&format!("(not run: {})\n", skipped.join(", ")));
    }
    if output.status.success() {
        Ok(report)
    } else {
        panic!(
            "conformance under {backend:?} failed:\n{report}\n{}",
            text(&output.stderr)
        )
    }
}

/// The configuration of a case under `backend`, and for srun the allocation's shape.
fn backend_config(
    backend: Backend,
    own: Option<&Config>,
    remote: &Path,
) -> (String, Option<String>) {
    let local = own.map(|c| &c.local);
    let cores = local.and_then(|l| l.cores);
    let memory = local.and_then(|l| l.memory);
    let gpus = local.and_then(|l| l.gpus);
    let labels = local.map(|l| l.labels.clone()).unwrap_or_default();
    match backend {
        Backend::Ssh | Backend::SshStaged => {
            // The case's machine becomes one host; without one, the three test hosts.
            let names: Vec<usize> = if own.is_some() {
                vec![1]
            } else {
                vec![1, 2, 3]
            };
            let mut yaml = String::from("executor: ssh\nssh:\n  hosts:\n");
            for i in names {
                yaml.push_str(&format!(
                    "    - host: weft-host{i}\n      cores: {}\n      weft: {}\n",
                    cores.unwrap_or(2),
                    weft()
                ));
                if let Some(memory) = memory {
                    yaml.push_str(&format!("      memory: {}\n", format_size(memory)));
                }
                if let Some(gpus) = gpus {
                    yaml.push_str(&format!("      gpus: {gpus}\n"));
                }
                if !labels.is_empty() {
                    yaml.push_str(&format!("      labels: [{}]\n", labels.join(", ")));
                }
                if backend == Backend::SshStaged {
                    yaml.push_str(&format!(
                        "      staging: true\n      workdir: {}\n",
                        remote.join(format!("host{i}")).display()
                    ));
                }
            }
            (yaml, None)
        }
        Backend::SlurmSrun | Backend::SlurmSbatch => {
            // `weft check` still plans with the local machine the case describes.
            let mut yaml = String::from("executor: slurm\n");
            yaml.push_str(match backend {
                Backend::SlurmSrun => "slurm:\n  mode: srun\n",
                _ => "slurm:\n  mode: sbatch\n  partition: debug\n",
            });
            if let Some(cores) = cores {
                yaml.push_str(&format!("local:\n  cores: {cores}\n"));
                if let Some(memory) = memory {
                    yaml.push_str(&format!("  memory: {}\n", format_size(memory)));
                }
            }
            let allocation = match (cores, memory) {
                (Some(cores), Some(memory)) => {
                    format!("-N1 -c{cores} --mem={}M", memory.div_ceil(1 << 20))
                }
                (Some(cores), None) => format!("-N1 -c{cores}"),
                _ => "-N3 -c2".to_string(),
            };
            (yaml, (backend == Backend::SlurmSrun).then_some(allocation))
        }
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &dest)?;
        } else {
            std::fs::copy(entry.path(), &dest)?;
        }
    }
    Ok(())
}
