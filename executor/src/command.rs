//! The command line of an attempt (§4.4): argument building for `binary`/`mpi`/`ompss`,
//! program lookup, the `bash` and interpreter invocations of `shell` and `script` bodies,
//! and the container engine's command line around any of them.

use std::ffi::{OsStr, OsString};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use weft_compiler::ast::{Param, Type};
use weft_compiler::value::{format_float, Value};

use crate::attempt::{AttemptFiles, AttemptSpec, BodySpec, ContainerEngine};
use crate::template::{self, TemplateError};

/// A program and its arguments, each argument one word (never split, never given to a
/// shell).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLine {
    pub program: PathBuf,
    pub args: Vec<String>,
}

/// Why an attempt's command line cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    #[error("program `{program}` not found on PATH")]
    ProgramNotFound { program: String },
    #[error("the program to run is empty")]
    EmptyProgram,
    #[error("internal error: no value for parameter `{param}` of task `{task}`")]
    MissingValue { task: String, param: String },
    #[error(transparent)]
    Template(#[from] TemplateError),
}

/// What building a body's command line needs besides the body.
pub struct BuildContext<'a> {
    pub spec: &'a AttemptSpec,
    pub files: &'a AttemptFiles,
    /// The names of the variables weft sets for the process (a container engine is told to
    /// pass each into the container).
    pub env_names: Vec<String>,
    /// The `PATH` the process will have, where programs are looked up.
    pub search_path: Option<OsString>,
}

/// An attempt's command line, and for a container body the command that removes the
/// container should the attempt be killed.
#[derive(Debug)]
pub struct Built {
    pub command: CommandLine,
    pub container_cleanup: Option<CommandLine>,
}

/// Builds the command line that runs `body`.
pub fn build(body: &BodySpec, context: &BuildContext<'_>) -> Result<Built, CommandError> {
    match body {
        BodySpec::Container {
            engine,
            image,
            options,
            inner,
        } => {
            // Inside the container, programs are looked up on the image's PATH, not ours.
            let inner = body_command(inner, context, false)?;
            let name = container_name(context.spec);
            let engine_program = resolve_program(
                engine.command(),
                &context.spec.workdir,
                context.search_path.as_deref(),
            )?;
            let command = container_command(
                *engine,
                engine_program.clone(),
                &ContainerRun {
                    name: &name,
                    image,
                    options,
                    mounts: &mounts(context.spec, context.files),
                    env_names: &context.env_names,
                    gpus: &context.spec.gpus,
                    user: owner_of(&context.files.dir),
                    workdir: &context.spec.workdir,
                },
                inner,
            );
            let container_cleanup = match engine {
                ContainerEngine::Docker | ContainerEngine::Podman => Some(CommandLine {
                    program: engine_program,
                    args: vec!["rm".into(), "-f".into(), name],
                }),
                // An apptainer container is a plain process tree: killing the group ends it.
                ContainerEngine::Apptainer => None,
            };
            Ok(Built {
                command,
                container_cleanup,
            })
        }
        _ => Ok(Built {
            command: body_command(body, context, true)?,
            container_cleanup: None,
        }),
    }
}

/// The command line of a body that is not a container. `on_host` says whether programs are
/// looked up here (else they are passed as written, for a container to find).
fn body_command(
    body: &BodySpec,
    context: &BuildContext<'_>,
    on_host: bool,
) -> Result<CommandLine, CommandError> {
    let spec = context.spec;
    let program = |name: &str| -> Result<PathBuf, CommandError> {
        if name.is_empty() {
            Err(CommandError::EmptyProgram)
        } else if on_host {
            resolve_program(name, &spec.workdir, context.search_path.as_deref())
        } else {
            Ok(PathBuf::from(name))
        }
    };
    let arguments = |explicit: &Option<Vec<Value>>| match explicit {
        Some(values) => Ok(explicit_arguments(values)),
        None => default_arguments(&spec.task_name, &spec.params, &spec.values),
    };
    match body {
        BodySpec::Binary {
            program: name,
            args,
        } => Ok(CommandLine {
            program: program(name)?,
            args: arguments(args)?,
        }),
        BodySpec::Mpi {
            runner,
            processes,
            flags,
            program: name,
            args,
        } => {
            let mut line = vec!["-n".to_string(), processes.to_string()];
            line.extend(flags.iter().cloned());
            // The program goes to the runner exactly as written: the runner finds it.
            line.push(name.clone());
            line.extend(arguments(args)?);
            Ok(CommandLine {
                program: program(runner)?,
                args: line,
            })
        }
        BodySpec::Shell { template } => {
            let rendered = template::render_shell_template(
                &spec.task_name,
                template,
                &spec.params,
                &spec.values,
            )?;
            Ok(CommandLine {
                program: program("bash")?,
                args: vec!["-euo".into(), "pipefail".into(), "-c".into(), rendered],
            })
        }
        BodySpec::Script { interpreter, .. } => Ok(CommandLine {
            program: program(interpreter)?,
            args: vec![context.files.script.to_string_lossy().into_owned()],
        }),
        BodySpec::Container { inner, .. } => body_command(inner, context, on_host),
    }
}

// ---------------------------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------------------------

/// The default command line of `binary`/`mpi`/`ompss`: the parameters in declaration order,
/// except those mapped to a stream, each with its `prefix`.
pub fn default_arguments(
    task: &str,
    params: &[Param],
    values: &IndexMap<String, Value>,
) -> Result<Vec<String>, CommandError> {
    let mut words = Vec::new();
    for param in params.iter().filter(|p| p.stream().is_none()) {
        let value = values
            .get(&param.name.name)
            .ok_or_else(|| CommandError::MissingValue {
                task: task.to_string(),
                param: param.name.name.clone(),
            })?;
        push_argument_words(value, param.prefix(), &mut words);
    }
    Ok(words)
}

/// The command line of an explicit `args [...]` list: exactly the listed values, without
/// prefixes.
pub fn explicit_arguments(values: &[Value]) -> Vec<String> {
    let mut words = Vec::new();
    for value in values {
        push_argument_words(value, None, &mut words);
    }
    words
}

/// The arguments one value contributes: a collection one per element (recursively), `null`
/// none, a bool `true`/`false`, a number as Python prints it, an object its compact JSON
/// text, a string itself; `prefix` is prepended to each.
pub fn push_argument_words(value: &Value, prefix: Option<&str>, words: &mut Vec<String>) {
    let text = match value {
        Value::Null => return,
        Value::List(items) | Value::Tuple(items) => {
            for item in items.iter() {
                push_argument_words(item, prefix, words);
            }
            return;
        }
        Value::Str(s) => s.to_string(),
        Value::Float(f) => format_float(*f),
        other => other.to_string(),
    };
    words.push(match prefix {
        Some(prefix) => format!("{prefix}{text}"),
        None => text,
    });
}

// ---------------------------------------------------------------------------------------------
// Programs
// ---------------------------------------------------------------------------------------------

/// Finds the program to run: a name with a `/` is a path, relative to `workdir`; a bare name
/// is looked up in `search_path` (an empty entry of it meaning `workdir`, as for a shell).
pub fn resolve_program(
    program: &str,
    workdir: &Path,
    search_path: Option<&OsStr>,
) -> Result<PathBuf, CommandError> {
    if program.is_empty() {
        return Err(CommandError::EmptyProgram);
    }
    if program.contains('/') {
        return Ok(workdir.join(program));
    }
    let search_path = search_path.unwrap_or_default();
    std::env::split_paths(search_path)
        .map(|dir| {
            if dir.as_os_str().is_empty() {
                workdir.join(program)
            } else {
                workdir.join(dir).join(program)
            }
        })
        .find(|candidate| is_executable_file(candidate))
        .ok_or_else(|| CommandError::ProgramNotFound {
            program: program.to_string(),
        })
}

fn is_executable_file(path: &Path) -> bool {
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

// ---------------------------------------------------------------------------------------------
// Containers
// ---------------------------------------------------------------------------------------------

/// What a container engine's command line is made of.
struct ContainerRun<'a> {
    /// The container's name (docker/podman), used to remove it.
    name: &'a str,
    image: &'a str,
    /// `containers.options` of the configuration, before the image.
    options: &'a [String],
    /// Host directories bound at the same path inside.
    mounts: &'a [PathBuf],
    /// The variables passed into the container (their values are in the engine's
    /// environment).
    env_names: &'a [String],
    gpus: &'a [u32],
    /// The user and group files are written as (docker runs as root otherwise).
    user: Option<(u32, u32)>,
    workdir: &'a Path,
}

/// The engine's command line that runs `inner` inside the image, in the same working
/// directory, with the attempt's directories bound at the same paths, so every path the
/// task was given means the same inside.
fn container_command(
    engine: ContainerEngine,
    engine_program: PathBuf,
    run: &ContainerRun<'_>,
    inner: CommandLine,
) -> CommandLine {
    let path = |p: &Path| p.to_string_lossy().into_owned();
    let mut args: Vec<String> = Vec::new();
    match engine {
        ContainerEngine::Docker | ContainerEngine::Podman => {
            args.extend(["run", "--rm", "-i", "--name", run.name].map(String::from));
            args.extend(["--workdir".to_string(), path(run.workdir)]);
            for mount in run.mounts {
                args.extend(["--volume".to_string(), format!("{0}:{0}", path(mount))]);
            }
            for name in run.env_names {
                args.extend(["--env".to_string(), name.clone()]);
            }
            if engine == ContainerEngine::Docker {
                if let Some((uid, gid)) = run.user {
                    args.extend(["--user".to_string(), format!("{uid}:{gid}")]);
                }
            }
            if !run.gpus.is_empty() {
                let ids: Vec<String> = run.gpus.iter().map(u32::to_string).collect();
                if engine == ContainerEngine::Docker {
                    args.extend(["--gpus".to_string(), format!("device={}", ids.join(","))]);
                } else {
                    for id in ids {
                        args.extend(["--device".to_string(), format!("nvidia.com/gpu={id}")]);
                    }
                }
            }
        }
        ContainerEngine::Apptainer => {
            // Apptainer passes the host's environment in by default.
            args.extend(["exec".to_string(), "--pwd".to_string(), path(run.workdir)]);
            if !run.mounts.is_empty() {
                let binds: Vec<String> = run.mounts.iter().map(|m| path(m)).collect();
                args.extend(["--bind".to_string(), binds.join(",")]);
            }
            if !run.gpus.is_empty() {
                args.push("--nv".to_string());
            }
        }
    }
    args.extend(run.options.iter().cloned());
    args.push(run.image.to_string());
    args.push(path(&inner.program));
    args.extend(inner.args);
    CommandLine {
        program: engine_program,
        args,
    }
}

/// A container name unique to this attempt of this run.
fn container_name(spec: &AttemptSpec) -> String {
    format!(
        "weft-{}-{}-{}",
        std::process::id(),
        spec.task_id,
        spec.attempt
    )
}

/// The host directories a container needs: the working directory, the attempt directory,
/// and the directory holding each absolute file or directory path among the arguments that
/// is not already inside one of those.
fn mounts(spec: &AttemptSpec, files: &AttemptFiles) -> Vec<PathBuf> {
    let mut wanted = vec![spec.workdir.clone(), files.dir.clone()];
    for param in &spec.params {
        if !matches!(param.ty.ty.innermost(), Type::File | Type::Dir) {
            continue;
        }
        if let Some(value) = spec.values.get(&param.name.name) {
            collect_paths(value, &mut |path| {
                let path = Path::new(path);
                if let Some(parent) = path.parent().filter(|_| path.is_absolute()) {
                    wanted.push(parent.to_path_buf());
                }
            });
        }
    }
    // Bind only existing directories (an engine would create a missing one as root) and
    // none inside another: the outer binding already shows it.
    wanted.retain(|dir| dir.is_dir() && dir.parent().is_some());
    wanted.sort();
    wanted.dedup();
    let mut mounts: Vec<PathBuf> = Vec::new();
    for dir in wanted {
        if !mounts.iter().any(|outer| dir.starts_with(outer)) {
            mounts.push(dir);
        }
    }
    mounts
}

fn collect_paths(value: &Value, found: &mut dyn FnMut(&str)) {
    match value {
        Value::Str(path) => found(path),
        Value::List(items) | Value::Tuple(items) => {
            items.iter().for_each(|item| collect_paths(item, found))
        }
        _ => {}
    }
}

/// The owner of `dir` (the attempt directory weft just created: weft's own user).
fn owner_of(dir: &Path) -> Option<(u32, u32)> {
    std::fs::metadata(dir).ok().map(|m| (m.uid(), m.gid()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(value: &Value, prefix: Option<&str>) -> Vec<String> {
        let mut out = Vec::new();
        push_argument_words(value, prefix, &mut out);
        out
    }

    #[test]
    fn values_become_whole_arguments() {
        assert_eq!(words(&Value::Int(3), Some("-n")), ["-n3"]);
        assert_eq!(words(&Value::Float(1e-7), None), ["1e-07"]);
        assert_eq!(words(&Value::Float(2.0), None), ["2.0"]);
        assert_eq!(words(&Value::Bool(false), None), ["false"]);
        assert_eq!(words(&Value::Null, Some("--x=")), Vec::<String>::new());
        assert_eq!(words(&Value::str("a b"), None), ["a b"]);
        let nested = Value::list(vec![
            Value::str("a"),
            Value::list(vec![Value::str("b"), Value::Null]),
        ]);
        assert_eq!(words(&nested, Some("-i")), ["-ia", "-ib"]);
        let mut object = IndexMap::new();
        object.insert("k".to_string(), Value::Float(0.5));
        assert_eq!(words(&Value::object(object), None), [r#"{"k":0.5}"#]);
    }

    #[test]
    fn programs_are_found_on_the_search_path_or_relative_to_workdir() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let tool = bin.join("tool");
        std::fs::write(&tool, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(bin.join("plain"), "not executable").unwrap();
        let search = std::env::join_paths(["/nonexistent", bin.to_str().unwrap()]).unwrap();

        let found = resolve_program("tool", dir.path(), Some(&search)).unwrap();
        assert_eq!(found, tool);
        assert!(matches!(
            resolve_program("plain", dir.path(), Some(&search)),
            Err(CommandError::ProgramNotFound { .. })
        ));
        assert_eq!(
            resolve_program("./x/run.sh", dir.path(), Some(&search)).unwrap(),
            dir.path().join("./x/run.sh")
        );
        assert_eq!(
            resolve_program("/bin/sh", dir.path(), None).unwrap(),
            PathBuf::from("/bin/sh")
        );
        // A relative entry of PATH is relative to the working directory.
        assert_eq!(
            resolve_program("tool", dir.path(), Some(OsStr::new("bin"))).unwrap(),
            tool
        );
    }

    #[test]
    fn docker_runs_the_inner_command_in_place() {
        let mounts = [PathBuf::from("/work"), PathBuf::from("/data")];
        let run = ContainerRun {
            name: "weft-1-2-3",
            image: "ubuntu:24.04",
            options: &["--network=none".to_string()],
            mounts: &mounts,
            env_names: &["WEFT_TASK".to_string()],
            gpus: &[0, 2],
            user: Some((1000, 100)),
            workdir: Path::new("/work"),
        };
        let inner = CommandLine {
            program: PathBuf::from("bash"),
            args: vec!["-c".into(), "echo hi".into()],
        };
        let line = container_command(
            ContainerEngine::Docker,
            PathBuf::from("/usr/bin/docker"),
            &run,
            inner.clone(),
        );
        let expected = "run --rm -i --name weft-1-2-3 --workdir /work --volume /work:/work \
                        --volume /data:/data --env WEFT_TASK --user 1000:100 --gpus device=0,2 \
                        --network=none ubuntu:24.04 bash -c";
        assert_eq!(line.args[..line.args.len() - 1].join(" "), expected);
        assert_eq!(line.args.last().unwrap(), "echo hi");

        let line = container_command(
            ContainerEngine::Apptainer,
            PathBuf::from("apptainer"),
            &run,
            inner,
        );
        assert_eq!(
            line.args.join(" "),
            "exec --pwd /work --bind /work,/data --nv --network=none ubuntu:24.04 bash -c echo hi"
        );
    }
}
