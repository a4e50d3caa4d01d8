//! Moving files to hosts that do not share the run's file system (`staging: true`).
//!
//! Contents are addressed by their BLAKE3 hash: each side keeps a [`Store`] of the contents it
//! has (weft under `.weft/cache/blake3`, a worker under `WORKDIR/.weft-cache/blake3`), and a
//! content crosses the connection only when the other side lacks it — an unchanged input, or
//! an output already fetched, crosses once.
//!
//! A staged attempt's paths are relative to the run's directory on weft's side and to the
//! host's workdir on the worker's side; a path that is absolute outside the run's directory,
//! or that climbs out of it with `..`, is refused on both sides.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use weft_compiler::ast::Type;
use weft_compiler::value::Value;

use crate::attempt::{AttemptSpec, BodySpec};

use super::wire::{StagedFile, Staging, WireAttempt, WireValue};

/// A directory of contents named by their hash.
#[derive(Clone, Debug)]
pub struct Store {
    dir: PathBuf,
}

/// Distinguishes the temporary files of contents written at the same time.
static TEMPORARY: AtomicU64 = AtomicU64::new(0);

impl Store {
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    pub fn path(&self, hash: &str) -> PathBuf {
        self.dir.join(hash)
    }

    pub fn contains(&self, hash: &str) -> bool {
        is_hash(hash) && self.path(hash).is_file()
    }

    /// Adds a file's content (if not there yet) and returns its hash.
    pub fn insert_file(&self, path: &Path) -> io::Result<String> {
        let hash = hash_file(path)?;
        if !self.contains(&hash) {
            let temporary = self.temporary_path(&hash)?;
            std::fs::copy(path, &temporary)?;
            std::fs::rename(&temporary, self.path(&hash))?;
        }
        Ok(hash)
    }

    /// Starts receiving a content in pieces.
    pub fn receive(&self, hash: &str) -> io::Result<Incoming> {
        if !is_hash(hash) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("`{hash}` is not a BLAKE3 hash"),
            ));
        }
        let path = self.temporary_path(hash)?;
        Ok(Incoming {
            file: std::fs::File::create(&path)?,
            path,
            hasher: blake3::Hasher::new(),
            hash: hash.to_string(),
        })
    }

    /// Ends a content received in pieces: checks its hash and files it.
    pub fn finish(&self, incoming: Incoming) -> io::Result<()> {
        let Incoming {
            mut file,
            path,
            hasher,
            hash,
        } = incoming;
        file.flush()?;
        drop(file);
        let actual = hasher.finalize().to_hex().to_string();
        if actual != hash {
            let _ = std::fs::remove_file(&path);
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("content announced as {hash} hashes to {actual}"),
            ));
        }
        std::fs::rename(&path, self.path(&hash))
    }

    /// Copies a content out to `dest` (its parent directories created).
    pub fn copy_out(&self, hash: &str, dest: &Path, executable: bool) -> io::Result<()> {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // Never write through a link or into a file another attempt may hold open.
        match std::fs::symlink_metadata(dest) {
            Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(dest)?,
            Ok(_) => std::fs::remove_file(dest)?,
            Err(_) => {}
        }
        std::fs::copy(self.path(hash), dest)?;
        if executable {
            use std::os::unix::fs::PermissionsExt;
            let mut permissions = std::fs::metadata(dest)?.permissions();
            permissions.set_mode(permissions.mode() | 0o111);
            std::fs::set_permissions(dest, permissions)?;
        }
        Ok(())
    }

    fn temporary_path(&self, hash: &str) -> io::Result<PathBuf> {
        let dir = self.dir.join("tmp");
        std::fs::create_dir_all(&dir)?;
        let unique = TEMPORARY.fetch_add(1, Ordering::Relaxed);
        Ok(dir.join(format!("{hash}.{}.{unique}", std::process::id())))
    }
}

/// A content being received.
pub struct Incoming {
    file: std::fs::File,
    path: PathBuf,
    hasher: blake3::Hasher,
    hash: String,
}

impl Incoming {
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        self.file.write_all(bytes)
    }
}

fn is_hash(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The BLAKE3 hash of a file's content, hex.
pub fn hash_file(path: &Path) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = blake3::Hasher::new();
    let mut buffer = vec![0; 1 << 16];
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
    }
    Ok(hasher.finalize().to_hex().to_string())
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o111 != 0)
}

/// `path` with `.` and `..` worked out, if it stays inside its starting point: the form every
/// staged path takes. An absolute path, or one that climbs above its start, is refused.
pub fn contained(path: &Path) -> Result<PathBuf, String> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part),
            Component::CurDir => {}
            Component::ParentDir => {
                if parts.pop().is_none() {
                    return Err(format!(
                        "the path {} escapes the working directory",
                        path.display()
                    ));
                }
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "the path {} is absolute: a staged path must be relative",
                    path.display()
                ))
            }
        }
    }
    Ok(parts.iter().collect())
}

/// Where `path` (relative to `base`, or absolute) lies inside `root`, relative to it.
fn inside_root(root: &Path, base: &Path, path: &Path) -> Result<PathBuf, String> {
    let absolute = base.join(path);
    let relative = absolute.strip_prefix(root).map_err(|_| {
        format!(
            "the path {} is outside the run directory {}: a staged host cannot receive it",
            path.display(),
            root.display()
        )
    })?;
    contained(relative).map_err(|_| {
        format!(
            "the path {} escapes the run directory {}",
            path.display(),
            root.display()
        )
    })
}

/// What an attempt becomes on a staging host, and what moves for it.
#[derive(Debug)]
pub struct StagedAttempt {
    /// The attempt with every path relative to the host's workdir.
    pub attempt: WireAttempt,
    pub staging: Staging,
    /// Each output's path on weft's side, in the order of `staging.outputs`.
    pub local_outputs: Vec<PathBuf>,
}

/// Rewrites an attempt for a staging host: the run's directory `root` becomes the host's
/// workdir. Hashes the inputs into `store` so that they can be sent.
pub fn stage_attempt(
    spec: &AttemptSpec,
    root: &Path,
    store: &Store,
) -> Result<StagedAttempt, String> {
    let workdir = inside_root(root, root, &spec.workdir)?;
    let attempt_dir = inside_root(root, root, &spec.attempt_dir)?;
    let files = spec.files();
    let mut staging = Staging {
        dirs: vec![workdir.clone(), attempt_dir.clone()],
        ..Staging::default()
    };
    let mut local_outputs = Vec::new();
    let mut seen_inputs = HashSet::new();
    let mut values = Vec::new();
    for (name, value) in &spec.values {
        let Some(param) = spec.params.iter().find(|p| p.name.name == *name) else {
            values.push((name.clone(), WireValue::from_value(value)));
            continue;
        };
        if !matches!(param.ty.ty.innermost(), Type::File | Type::Dir) {
            values.push((name.clone(), WireValue::from_value(value)));
            continue;
        }
        let is_dir = *param.ty.ty.innermost() == Type::Dir;
        let mut failure = None;
        let rewritten = map_paths(value, &mut |path| {
            let relative = match inside_root(root, &spec.workdir, Path::new(path)) {
                Ok(relative) => relative,
                Err(message) => {
                    failure.get_or_insert(format!("parameter `{name}`: {message}"));
                    return path.to_string();
                }
            };
            let local = root.join(&relative);
            if param.direction.reads() && seen_inputs.insert(relative.clone()) {
                if let Err(message) =
                    add_input(&local, &relative, store, &mut staging, &mut seen_inputs)
                {
                    failure.get_or_insert(format!("parameter `{name}`: {message}"));
                }
            } else if is_dir && local.is_dir() {
                staging.dirs.push(relative.clone());
            }
            if param.direction.writes() {
                staging.outputs.push(relative.clone());
                local_outputs.push(local);
            }
            relative.to_string_lossy().into_owned()
        });
        if let Some(message) = failure {
            return Err(message);
        }
        values.push((name.clone(), WireValue::from_value(&rewritten)));
    }
    // A program named by a path inside the run directory (`binary "./tool"`, an mpi runner
    // or program) travels too; one elsewhere (`/usr/bin/…`) is the host's own.
    let programs: Vec<&str> = match spec.body.innermost() {
        BodySpec::Binary { program, .. } => vec![program.as_str()],
        BodySpec::Mpi {
            runner, program, ..
        } => vec![runner.as_str(), program.as_str()],
        _ => Vec::new(),
    };
    for program in programs.into_iter().filter(|p| p.contains('/')) {
        if let Ok(relative) = inside_root(root, &spec.workdir, Path::new(program)) {
            let local = root.join(&relative);
            if local.is_file() && seen_inputs.insert(relative.clone()) {
                add_input(&local, &relative, store, &mut staging, &mut seen_inputs)?;
            }
        }
    }
    // The attempt's logs come back too: failure reports quote them.
    for log in [files.stdout_log, files.stderr_log] {
        staging
            .outputs
            .push(attempt_dir.join(log.file_name().unwrap_or_default()));
        local_outputs.push(log);
    }
    let mut attempt = WireAttempt::from_spec(spec);
    attempt.values = values;
    attempt.workdir = workdir;
    attempt.attempt_dir = attempt_dir;
    Ok(StagedAttempt {
        attempt,
        staging,
        local_outputs,
    })
}

/// Adds a file, or every file and directory under a directory, to what is sent. A path that
/// does not exist is left out: the attempt reports it as it would locally.
fn add_input(
    local: &Path,
    relative: &Path,
    store: &Store,
    staging: &mut Staging,
    seen: &mut HashSet<PathBuf>,
) -> Result<(), String> {
    let meta = match std::fs::metadata(local) {
        Ok(meta) => meta,
        Err(_) => return Ok(()),
    };
    if meta.is_dir() {
        staging.dirs.push(relative.to_path_buf());
        let entries = std::fs::read_dir(local)
            .map_err(|e| format!("cannot read {}: {e}", local.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", local.display()))?;
            let child = relative.join(entry.file_name());
            if seen.insert(child.clone()) {
                add_input(&entry.path(), &child, store, staging, seen)?;
            }
        }
        return Ok(());
    }
    let hash = store
        .insert_file(local)
        .map_err(|e| format!("cannot read {}: {e}", local.display()))?;
    staging.inputs.push(StagedFile {
        path: relative.to_path_buf(),
        hash,
        executable: is_executable(local),
    });
    Ok(())
}

/// The value with each path string (a `str` leaf) replaced.
fn map_paths(value: &Value, replace: &mut impl FnMut(&str) -> String) -> Value {
    match value {
        Value::Str(path) => Value::str(replace(path)),
        Value::List(items) => Value::list(items.iter().map(|v| map_paths(v, replace)).collect()),
        Value::Tuple(items) => Value::Tuple(std::sync::Arc::new(
            items.iter().map(|v| map_paths(v, replace)).collect(),
        )),
        other => other.clone(),
    }
}

/// Every file under `dir` (recursively), relative to `base`, and every directory.
pub fn walk(dir: &Path, base: &Path) -> io::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut files = Vec::new();
    let mut dirs = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        dirs.push(current.strip_prefix(base).unwrap_or(&current).to_path_buf());
        for entry in std::fs::read_dir(&current)? {
            let entry = entry?;
            let kind = entry.file_type()?;
            if kind.is_dir() {
                pending.push(entry.path());
            } else if kind.is_file() || (kind.is_symlink() && entry.path().is_file()) {
                let path = entry.path();
                files.push(path.strip_prefix(base).unwrap_or(&path).to_path_buf());
            }
        }
    }
    Ok((files, dirs))
}

/// Whether a file is executable, for outputs brought back.
pub fn executable(path: &Path) -> bool {
    is_executable(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contained_paths_stay_inside() {
        assert_eq!(
            contained(Path::new("a/./b/../c")).unwrap(),
            Path::new("a/c")
        );
        assert_eq!(contained(Path::new("")).unwrap(), Path::new(""));
        assert!(contained(Path::new("../x")).is_err());
        assert!(contained(Path::new("a/../../x")).is_err());
        assert!(contained(Path::new("/etc/passwd")).is_err());
    }

    #[test]
    fn paths_outside_the_run_are_refused() {
        let root = Path::new("/run/dir");
        assert_eq!(
            inside_root(root, root, Path::new("data/x.txt")).unwrap(),
            Path::new("data/x.txt")
        );
        assert_eq!(
            inside_root(root, Path::new("/run/dir/sub"), Path::new("../y")).unwrap(),
            Path::new("y")
        );
        assert!(inside_root(root, root, Path::new("/etc/passwd")).is_err());
        assert!(inside_root(root, root, Path::new("../other")).is_err());
    }

    #[test]
    fn the_store_checks_what_it_receives() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("store"));
        let source = dir.path().join("source");
        std::fs::write(&source, b"hello staging").unwrap();
        let hash = store.insert_file(&source).unwrap();
        assert!(store.contains(&hash));

        let other = Store::new(dir.path().join("other"));
        let mut incoming = other.receive(&hash).unwrap();
        incoming.write(b"hello ").unwrap();
        incoming.write(b"staging").unwrap();
        other.finish(incoming).unwrap();
        assert!(other.contains(&hash));

        let mut forged = other.receive(&"0".repeat(64)).unwrap();
        forged.write(b"not that").unwrap();
        assert!(other.finish(forged).is_err());
        assert!(!other.contains(&"0".repeat(64)));
        assert!(other.receive("../../etc/passwd").is_err());
    }
}
