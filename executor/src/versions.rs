//! Where each version of each file lives, and when the user's path gets it (§7).
//!
//! A task that writes a file writes a fresh path under the run's state folder; the user's
//! path is replaced by an atomic rename once that version is final and no task still reads
//! the version that lives at the user's path. So a failed or interrupted task never leaves a
//! half-written file where the user looks, and readers of an old version never see a newer
//! one.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};

use weft_compiler::deps::DatumId;

/// A datum of one workflow body (nested workflows have bodies of their own).
pub type FileKey = (u32, DatumId);

#[derive(Clone, Debug)]
enum Location {
    /// At the user's path: the file as found before the run, or written by the body.
    User,
    /// Under the run's state folder.
    Store(PathBuf),
}

#[derive(Debug)]
struct Version {
    location: Location,
    /// Producers still to finish.
    remaining: usize,
    failed: bool,
    /// For a run's shared version: prepared once, by its first member to start.
    prepared: bool,
    /// A `concurrent`/`commutative` run's version: members change it in place, one after
    /// another, so the user's path gets copies of it, never a link to it.
    shared: bool,
}

#[derive(Debug)]
struct FileState {
    user_path: PathBuf,
    is_dir: bool,
    versions: HashMap<u32, Version>,
    /// The newest version the user's path holds (or that must never be published over, after
    /// a body write or delete).
    published: u32,
    /// Unfinished tasks that read a version living at the user's path.
    user_readers: usize,
    /// A final version waiting for `user_readers` to reach zero.
    pending: Option<u32>,
}

pub struct Versions {
    root: PathBuf,
    files: HashMap<FileKey, FileState>,
}

impl Versions {
    /// `root` is the folder versions are written under (`.weft/runs/<run>/versions`).
    pub fn new(root: PathBuf) -> Versions {
        Versions {
            root,
            files: HashMap::new(),
        }
    }

    fn state(&mut self, key: FileKey, user_path: &Path, is_dir: bool) -> &mut FileState {
        self.files.entry(key).or_insert_with(|| FileState {
            user_path: user_path.to_path_buf(),
            is_dir,
            versions: HashMap::new(),
            published: 0,
            user_readers: 0,
            pending: None,
        })
    }

    fn store_path(&self, key: FileKey, version: u32, user_path: &Path) -> PathBuf {
        let name = user_path
            .file_name()
            .map(|n| n.to_os_string())
            .unwrap_or_else(|| "data".into());
        self.root
            .join(format!("{}-{}", key.0, key.1 .0))
            .join(format!("v{version}"))
            .join(name)
    }

    /// A task that will read `version` was submitted. Returns whether it reads the user's
    /// path (then `reader_done` must follow its end).
    pub fn note_read(
        &mut self,
        key: FileKey,
        user_path: &Path,
        is_dir: bool,
        version: u32,
    ) -> bool {
        let state = self.state(key, user_path, is_dir);
        let at_user = !matches!(
            state.versions.get(&version).map(|v| &v.location),
            Some(Location::Store(_))
        );
        if at_user {
            state.user_readers += 1;
        }
        at_user
    }

    /// A task that will produce `version` was submitted.
    pub fn note_write(
        &mut self,
        key: FileKey,
        user_path: &Path,
        is_dir: bool,
        version: u32,
        shared: bool,
    ) {
        let path = self.store_path(key, version, user_path);
        let state = self.state(key, user_path, is_dir);
        let entry = state.versions.entry(version).or_insert(Version {
            location: Location::Store(path),
            remaining: 0,
            failed: false,
            prepared: false,
            shared,
        });
        entry.remaining += 1;
    }

    /// The path where `version` can be read.
    pub fn read_path(&self, key: FileKey, version: u32) -> Option<PathBuf> {
        let state = self.files.get(&key)?;
        Some(match state.versions.get(&version).map(|v| &v.location) {
            Some(Location::Store(p)) => p.clone(),
            _ => state.user_path.clone(),
        })
    }

    /// Whether `version` is final (every producer done and none failed).
    pub fn is_final(&self, key: FileKey, version: u32) -> bool {
        match self.files.get(&key).and_then(|s| s.versions.get(&version)) {
            Some(v) => v.remaining == 0 && !v.failed,
            None => true,
        }
    }

    /// Whether `version` can never become final.
    pub fn is_failed(&self, key: FileKey, version: u32) -> bool {
        self.files
            .get(&key)
            .and_then(|s| s.versions.get(&version))
            .is_some_and(|v| v.failed)
    }

    /// Makes the path a task writes `version` at ready: a copy of `reads` for `inout` and
    /// runs (once per version), an empty directory for an `out dir`, nothing stale.
    pub fn prepare_write(
        &mut self,
        key: FileKey,
        reads: Option<u32>,
        version: u32,
    ) -> io::Result<PathBuf> {
        let source = reads.and_then(|r| self.read_path(key, r));
        let state = self.files.get_mut(&key).expect("noted before");
        let is_dir = state.is_dir;
        let v = state.versions.get_mut(&version).expect("noted before");
        let Location::Store(path) = v.location.clone() else {
            unreachable!("task versions live in the store")
        };
        // Each attempt of an `out`/`inout` writer starts afresh; a run's members share
        // what the first one prepared.
        if v.shared && v.prepared {
            return Ok(path);
        }
        v.prepared = true;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        remove_any(&path)?;
        match source {
            Some(src) if src.exists() => copy_any(&src, &path)?,
            _ if is_dir => std::fs::create_dir_all(&path)?,
            _ => {}
        }
        Ok(path)
    }

    /// A producer of `version` ended; returns paths published as a result.
    pub fn producer_done(&mut self, key: FileKey, version: u32, ok: bool) -> io::Result<()> {
        let Some(state) = self.files.get_mut(&key) else {
            return Ok(());
        };
        let Some(v) = state.versions.get_mut(&version) else {
            return Ok(());
        };
        v.remaining = v.remaining.saturating_sub(1);
        if !ok {
            v.failed = true;
        }
        if v.remaining == 0 && !v.failed && version >= state.published {
            state.pending = Some(state.pending.map_or(version, |p| p.max(version)));
            self.publish_if_free(key)?;
        }
        Ok(())
    }

    /// A task that read the user's path ended.
    pub fn reader_done(&mut self, key: FileKey) -> io::Result<()> {
        if let Some(state) = self.files.get_mut(&key) {
            state.user_readers = state.user_readers.saturating_sub(1);
        }
        self.publish_if_free(key)
    }

    fn publish_if_free(&mut self, key: FileKey) -> io::Result<()> {
        let state = self.files.get_mut(&key).expect("known file");
        if state.user_readers > 0 {
            return Ok(());
        }
        let Some(version) = state.pending.take() else {
            return Ok(());
        };
        // The same version again: a run's version that late members changed.
        if version < state.published {
            return Ok(());
        }
        if let Some(Version {
            location: Location::Store(path),
            shared,
            ..
        }) = state.versions.get(&version)
        {
            // A version a failed task should have written but did not (an ignored
            // failure): nothing to publish, the empty file is made by the caller.
            if path.exists() {
                replace_atomically(path, &state.user_path, !shared)?;
            }
        }
        state.published = version;
        Ok(())
    }

    /// The body wrote the user's path itself: that is `version`, final, at the user's path.
    pub fn body_wrote(&mut self, key: FileKey, user_path: &Path, version: u32) {
        let state = self.state(key, user_path, false);
        state.versions.insert(
            version,
            Version {
                location: Location::User,
                remaining: 0,
                failed: false,
                prepared: true,
                shared: false,
            },
        );
        state.published = version;
        state.pending = None;
    }

    /// The body deleted the path (as `version`): nothing older may be published any more.
    pub fn body_deleted(&mut self, key: FileKey, user_path: &Path, version: u32) {
        // The deleted version lives nowhere: a store path that never exists, so a task
        // reading it (or an `inout` starting from it) finds no file, even while the removal
        // of the user's path waits for earlier tasks.
        let nowhere = self.store_path(key, version, user_path);
        let state = self.state(key, user_path, false);
        state.versions.insert(
            version,
            Version {
                location: Location::Store(nowhere),
                remaining: 0,
                failed: false,
                prepared: true,
                shared: false,
            },
        );
        state.published = state.published.max(version);
        state.pending = None;
    }

    /// Whether a newer version than `version` reached the user's path (then a deferred
    /// delete must not remove it).
    pub fn published_after(&self, key: FileKey, version: u32) -> bool {
        self.files.get(&key).is_some_and(|s| s.published > version)
    }

    /// Creates the empty file (or directory) an ignored failure did not produce (§6.2).
    pub fn fill_missing(&mut self, key: FileKey, version: u32) -> io::Result<()> {
        let Some(state) = self.files.get(&key) else {
            return Ok(());
        };
        if let Some(Version {
            location: Location::Store(path),
            ..
        }) = state.versions.get(&version)
        {
            if !path.exists() {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                if state.is_dir {
                    std::fs::create_dir_all(path)?;
                } else {
                    std::fs::write(path, b"")?;
                }
            }
        }
        Ok(())
    }
}

fn remove_any(path: &Path) -> io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Copies a file or a directory tree.
pub fn copy_any(from: &Path, to: &Path) -> io::Result<()> {
    if from.is_dir() {
        std::fs::create_dir_all(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_any(&entry.path(), &to.join(entry.file_name()))?;
        }
        Ok(())
    } else {
        std::fs::copy(from, to).map(|_| ())
    }
}

/// Puts a copy of `from` at `to` through a temporary sibling and a rename: whoever looks at
/// `to` sees the old content or the new, never a part. Files are hard-linked when allowed and
/// possible (a task's version never changes once final), otherwise copied, as directories are.
pub fn replace_atomically(from: &Path, to: &Path, may_link: bool) -> io::Result<()> {
    if let Some(parent) = to.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let name = to
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = to.with_file_name(format!(".{name}.weft-{}", std::process::id()));
    remove_any(&tmp)?;
    if from.is_dir() {
        copy_any(from, &tmp)?;
        if to.is_dir() {
            // Two renames: a directory cannot replace a non-empty one in one step.
            let old = to.with_file_name(format!(".{name}.weft-old-{}", std::process::id()));
            remove_any(&old)?;
            std::fs::rename(to, &old)?;
            std::fs::rename(&tmp, to)?;
            return remove_any(&old);
        }
    } else if !may_link || std::fs::hard_link(from, &tmp).is_err() {
        std::fs::copy(from, &tmp)?;
    }
    if to.is_dir() {
        remove_any(to)?;
    }
    std::fs::rename(&tmp, to)
}

/// Writes a file at the user's path atomically (the body's `write`).
pub fn write_atomically(path: &Path, contents: &[u8]) -> io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.weft-{}", std::process::id()));
    std::fs::write(&tmp, contents)?;
    std::fs::rename(&tmp, path)
}

/// Removes the user's path (the body's `delete`).
pub fn remove_path(path: &Path) -> io::Result<()> {
    remove_any(path)
}
