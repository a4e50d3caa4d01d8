//! `weft run --resume`, `weft run --explain` and `weft clean`: results of completed task
//! attempts, kept under `.weft/` and reused when an attempt with the same key comes again.
//!
//! **The key** of an attempt is a BLAKE3 hash over: the task's source text (the task item as
//! written: parameters, directives, body), the call's argument values with file and directory
//! arguments as the user wrote them (not the versioned paths of one run), a digest of every
//! file or directory the attempt reads, the programs it names (a program given with a `/` by
//! its content, one looked up on `PATH` by the path found and that file's size and
//! modification time, one inside a container image by its name), the image, the evaluated
//! `env` variables, the implementation chosen and the working directory. The input digest is
//! the BLAKE3 hash of the content (`--resume-fingerprint full`, the default), or size +
//! modification time + the first MiB (`fast`); a directory's digest covers its whole tree,
//! sorted. A full-mode run also records its results under their fast key, so a later fast
//! run finds them.
//!
//! **The cache** is content-addressed: `.weft/cache/blobs/ab/abcd…` holds each output file
//! once, named by the BLAKE3 hash of its content. **The state** is one redb database,
//! `.weft/state.redb` (crash-safe: a kill at any moment leaves it readable), laid out so that
//! recording a result costs the same however big the state is: see [`state`]. Each stored
//! result is a record (the outputs' blobs, the return value, the new json values, and the
//! parts of its keys, to say *why* a later attempt of the same call runs again); an index
//! finds records by key and a call's latest record by the call's identity.
//!
//! An entry is written only after the attempt succeeded and every output was copied into the
//! cache. A hit restores the outputs into the version's store path (the place the attempt
//! would have written), so publication to the user's path proceeds as for a run. Restored
//! content is checked against its hash while it is copied: a damaged blob is a miss, never a
//! wrong output.
//!
//! Attempts that share their version with others (`concurrent` and `commutative` accesses)
//! and nested workflows are never cached: their result depends on other tasks.
//!
//! `--explain` plans the workflow without running it and computes the keys it can: inputs
//! on disk are hashed, outputs of calls it finds cached are known from their entries, and a
//! call that reads what a call that would run writes is "unknown until run". It reads files
//! the workflow body itself writes (`write`, `write_json`) as they are on disk now.

mod codec;
mod index;
mod state;

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime};

use indexmap::IndexMap;
use redb::Database;
use weft_compiler::ast::{Body, Direction, ExprKind, Task};
use weft_compiler::calls::{call_data, return_arity, written_json_params};
use weft_compiler::config::Config;
use weft_compiler::deps::{normalise, TaskId};
use weft_compiler::eval::{eval_pure, Interrupt, TaskCall};
use weft_compiler::program::{ModuleId, Program};
use weft_compiler::value::{FutureId, Value};

use crate::attempt::AttemptOutcome;
use crate::directives::{self, Settings};
use crate::launch::Running;
use crate::protocol::Submission;
use crate::record::{CacheNote, NoteSender, RunRecord};
use crate::resources::Pool;
use crate::versions::Versions;
use state::{Snapshot, WriteOp, Writer};

/// Changes whenever what goes into a key changes: older entries then never match.
const KEY_FORMAT: &[u8] = b"weft-resume-key-2";

/// How much of a file the fast fingerprint reads.
const FAST_PREFIX: u64 = 1 << 20;

/// An attempt reading at most this many files of at most `CHEAP_BYTES` each is looked up
/// and restored on the dispatcher's thread (see [`Probe::restore_now`]).
const CHEAP_INPUTS: usize = 16;
const CHEAP_BYTES: u64 = 64 * 1024;

/// The database file under `.weft/`.
pub const STATE_FILE: &str = "state.redb";

/// How input files are fingerprinted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Fingerprint {
    /// The BLAKE3 hash of the whole content.
    #[default]
    Full,
    /// Size, modification time and the first MiB: cheap, trusts modification times.
    Fast,
}

impl Fingerprint {
    pub fn name(self) -> &'static str {
        match self {
            Fingerprint::Full => "full",
            Fingerprint::Fast => "fast",
        }
    }
}

/// What a run does with the cache.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ResumeOptions {
    /// Reuse completed attempts (`--resume`). Without it a run only records its results.
    pub reuse: bool,
    pub fingerprint: Fingerprint,
}

// ---------------------------------------------------------------------------------------------
// Digests
// ---------------------------------------------------------------------------------------------

/// Appends one length-prefixed field, so no two sequences of fields hash alike.
fn field(hasher: &mut blake3::Hasher, bytes: &[u8]) {
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

fn tagged(tag: &[u8], parts: &[&[u8]]) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    field(&mut hasher, tag);
    for part in parts {
        field(&mut hasher, part);
    }
    hasher.finalize()
}

fn missing_digest() -> blake3::Hash {
    tagged(b"weft-missing", &[])
}

fn mtime_ns(meta: &fs::Metadata) -> i128 {
    meta.mtime() as i128 * 1_000_000_000 + meta.mtime_nsec() as i128
}

/// The fast fingerprint of a file from its size, modification time and first MiB's hash.
fn fast_from_parts(size: u64, mtime_ns: i128, prefix: &blake3::Hash) -> blake3::Hash {
    tagged(
        b"weft-fast",
        &[
            &size.to_le_bytes(),
            &mtime_ns.to_le_bytes(),
            prefix.as_bytes(),
        ],
    )
}

fn fast_file_digest(path: &Path, meta: &fs::Metadata) -> io::Result<blake3::Hash> {
    let mut prefix = blake3::Hasher::new();
    prefix.update_reader(File::open(path)?.take(FAST_PREFIX))?;
    Ok(fast_from_parts(
        meta.len(),
        mtime_ns(meta),
        &prefix.finalize(),
    ))
}

fn full_file_digest(path: &Path) -> io::Result<blake3::Hash> {
    let mut hasher = blake3::Hasher::new();
    hasher.update_reader(File::open(path)?)?;
    Ok(hasher.finalize())
}

/// One entry of a directory tree, in the order [`walk_tree`] gives.
#[derive(Clone, Debug, PartialEq)]
enum TreeItem {
    Dir,
    File(blake3::Hash),
    Symlink(String),
}

/// The digest of a directory from its entries (relative paths, depth-first, sorted).
fn tree_digest<'a>(items: impl Iterator<Item = (&'a str, TreeItem)>) -> blake3::Hash {
    let mut hasher = blake3::Hasher::new();
    field(&mut hasher, b"weft-dir");
    for (path, item) in items {
        field(&mut hasher, path.as_bytes());
        match item {
            TreeItem::Dir => field(&mut hasher, b"d"),
            TreeItem::File(digest) => {
                field(&mut hasher, b"f");
                field(&mut hasher, digest.as_bytes());
            }
            TreeItem::Symlink(target) => {
                field(&mut hasher, b"l");
                field(&mut hasher, target.as_bytes());
            }
        }
    }
    hasher.finalize()
}

/// Kinds of entries found walking a directory.
enum Walked {
    Dir,
    File(fs::Metadata),
    Symlink(String),
}

/// Every entry under `root`, depth-first with the names of each folder sorted, as paths
/// relative to `root` joined by `/`. Symbolic links are not followed.
fn walk_tree(root: &Path) -> io::Result<Vec<(String, PathBuf, Walked)>> {
    fn visit(dir: &Path, prefix: &str, out: &mut Vec<(String, PathBuf, Walked)>) -> io::Result<()> {
        let mut names: Vec<_> = fs::read_dir(dir)?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()?;
        names.sort();
        for name in names {
            let path = dir.join(&name);
            let rel = format!("{prefix}{}", name.to_string_lossy());
            let meta = fs::symlink_metadata(&path)?;
            if meta.file_type().is_symlink() {
                let target = fs::read_link(&path)?.to_string_lossy().into_owned();
                out.push((rel, path, Walked::Symlink(target)));
            } else if meta.is_dir() {
                out.push((rel.clone(), path.clone(), Walked::Dir));
                visit(&path, &format!("{rel}/"), out)?;
            } else {
                out.push((rel, path, Walked::File(meta)));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    visit(root, "", &mut out)?;
    Ok(out)
}

/// What identifies a file's content between two looks at it within one run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Stamp {
    fn of(meta: &fs::Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.len(),
            mtime_ns: mtime_ns(meta),
            ctime_ns: meta.ctime() as i128 * 1_000_000_000 + meta.ctime_nsec() as i128,
        }
    }
}

/// A file's digest and the stamp the file had when it was made.
type StampedDigest = (Stamp, blake3::Hash);

/// A program's identity as remembered: the same name can be found from several working
/// directories, inside an image or not, in either fingerprint mode.
struct KnownProgram {
    workdir: PathBuf,
    in_image: bool,
    mode: Fingerprint,
    identity: Arc<str>,
}

/// Digests of inputs, identities of programs and digests of task sources, remembered for
/// one run (or one explain): many calls read the same file, name the same program and are
/// calls of the same task. Lookups borrow their keys: a hit allocates nothing.
#[derive(Default)]
struct Hashing {
    /// Per path, per mode (full, fast): the stamp the digest was made at.
    files: RwLock<HashMap<PathBuf, [Option<StampedDigest>; 2]>>,
    programs: RwLock<HashMap<String, Vec<KnownProgram>>>,
    /// Per task, by its module and where it is written.
    sources: RwLock<HashMap<(ModuleId, usize, usize), blake3::Hash>>,
}

fn mode_slot(mode: Fingerprint) -> usize {
    match mode {
        Fingerprint::Full => 0,
        Fingerprint::Fast => 1,
    }
}

impl Hashing {
    fn file_digest(
        &self,
        path: &Path,
        meta: &fs::Metadata,
        mode: Fingerprint,
    ) -> io::Result<blake3::Hash> {
        let stamp = Stamp::of(meta);
        let slot = mode_slot(mode);
        if let Ok(files) = self.files.read() {
            if let Some(Some((seen, digest))) = files.get(path).map(|known| known[slot]) {
                if seen == stamp {
                    return Ok(digest);
                }
            }
        }
        let digest = match mode {
            Fingerprint::Full => full_file_digest(path)?,
            Fingerprint::Fast => fast_file_digest(path, meta)?,
        };
        if let Ok(mut files) = self.files.write() {
            files.entry(path.to_path_buf()).or_default()[slot] = Some((stamp, digest));
        }
        Ok(digest)
    }

    /// The digest of whatever is at `path`: a file, a directory tree, or nothing.
    fn path_digest(&self, path: &Path, mode: Fingerprint) -> blake3::Hash {
        let meta = match fs::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return missing_digest(),
            Err(e) => return tagged(b"weft-unreadable", &[e.to_string().as_bytes()]),
        };
        let digest = if meta.is_dir() {
            self.dir_digest(path, mode)
        } else {
            self.file_digest(path, &meta, mode)
        };
        digest.unwrap_or_else(|e| tagged(b"weft-unreadable", &[e.to_string().as_bytes()]))
    }

    fn dir_digest(&self, root: &Path, mode: Fingerprint) -> io::Result<blake3::Hash> {
        let mut items = Vec::new();
        for (rel, path, walked) in walk_tree(root)? {
            let item = match walked {
                Walked::Dir => TreeItem::Dir,
                Walked::Symlink(target) => TreeItem::Symlink(target),
                Walked::File(meta) => TreeItem::File(self.file_digest(&path, &meta, mode)?),
            };
            items.push((rel, item));
        }
        Ok(tree_digest(
            items.iter().map(|(r, i)| (r.as_str(), i.clone())),
        ))
    }

    /// What identifies a program: see the module's documentation.
    fn program_identity(
        &self,
        name: &str,
        workdir: &Path,
        in_image: bool,
        mode: Fingerprint,
    ) -> Arc<str> {
        let found = self.programs.read().ok().and_then(|programs| {
            programs.get(name)?.iter().find_map(|known| {
                (known.in_image == in_image && known.mode == mode && known.workdir == workdir)
                    .then(|| known.identity.clone())
            })
        });
        if let Some(identity) = found {
            return identity;
        }
        let identity: Arc<str> = if in_image {
            format!("in-image:{name}")
        } else if name.contains('/') {
            let path = workdir.join(name);
            format!("file:{name}:{}", self.path_digest(&path, mode).to_hex())
        } else {
            match find_on_path(name) {
                Some((path, meta)) => {
                    format!("path:{}:{}:{}", path.display(), meta.len(), mtime_ns(&meta))
                }
                None => format!("unresolved:{name}"),
            }
        }
        .into();
        if let Ok(mut programs) = self.programs.write() {
            programs
                .entry(name.to_string())
                .or_default()
                .push(KnownProgram {
                    workdir: workdir.to_path_buf(),
                    in_image,
                    mode,
                    identity: identity.clone(),
                });
        }
        identity
    }

    /// The digest of a task's source text: the same for every call of the task.
    fn source_digest(&self, program: &Program, module: ModuleId, task: &Task) -> blake3::Hash {
        let memo_key = (module, task.span.start, task.span.end);
        if let Some(digest) = self
            .sources
            .read()
            .ok()
            .and_then(|s| s.get(&memo_key).copied())
        {
            return digest;
        }
        let source = program.modules[module]
            .file
            .text
            .get(task.span.start..task.span.end)
            .unwrap_or_default();
        let digest = blake3::hash(source.as_bytes());
        if let Ok(mut sources) = self.sources.write() {
            sources.insert(memo_key, digest);
        }
        digest
    }
}

/// The first executable file named `name` in a folder of `PATH`.
fn find_on_path(name: &str) -> Option<(PathBuf, fs::Metadata)> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find_map(|dir| {
        let candidate = dir.join(name);
        let meta = fs::metadata(&candidate).ok()?;
        (meta.is_file() && meta.permissions().mode() & 0o111 != 0).then_some((candidate, meta))
    })
}

// ---------------------------------------------------------------------------------------------
// Keys
// ---------------------------------------------------------------------------------------------

/// A program an attempt runs, by the name written (evaluated).
#[derive(Clone, Debug, PartialEq)]
struct ProgramName {
    name: String,
    /// Run inside the container image: only its name identifies it.
    in_image: bool,
}

/// One file or directory an attempt reads.
#[derive(Clone, Debug)]
struct InputSlot {
    /// The user's path, as shown in reasons (relative to the run's directory when inside).
    shown: Arc<str>,
    /// Where the version read lives now.
    at: PathBuf,
}

/// One file or directory an attempt writes.
#[derive(Clone, Debug)]
struct OutputSlot {
    user_path: PathBuf,
    /// The version's store path, where the attempt writes and a hit restores.
    at: PathBuf,
    is_dir: bool,
}

/// Everything that goes into a call's key except the digests of what it reads.
#[derive(Clone, Debug)]
struct CallShape {
    task: Arc<Task>,
    /// What the call is, whatever its inputs: its task, module and arguments.
    identity: blake3::Hash,
    source: blake3::Hash,
    args: blake3::Hash,
    /// The `env` variables, the implementation, the image and the working directory.
    setting: blake3::Hash,
    programs: Vec<ProgramName>,
    /// Where programs named by a path are found from; `None` when no program is.
    workdir: Option<PathBuf>,
    inputs: Vec<InputSlot>,
}

/// The parts of one key, kept to tell later why a key changed.
#[derive(Clone, Debug, PartialEq, Eq)]
struct KeyParts {
    fingerprint: Fingerprint,
    source: blake3::Hash,
    args: blake3::Hash,
    setting: blake3::Hash,
    /// The identity of each program, in the order the body names them.
    programs: Vec<Arc<str>>,
    /// `(user path as shown, digest)` of every input, in access order.
    inputs: Vec<(Arc<str>, blake3::Hash)>,
}

impl KeyParts {
    fn key(&self) -> blake3::Hash {
        let mut hasher = blake3::Hasher::new();
        field(&mut hasher, KEY_FORMAT);
        field(&mut hasher, self.fingerprint.name().as_bytes());
        // Digests have a fixed length: no prefix needed.
        hasher.update(self.source.as_bytes());
        hasher.update(self.args.as_bytes());
        hasher.update(self.setting.as_bytes());
        hasher.update(&(self.programs.len() as u64).to_le_bytes());
        for program in &self.programs {
            field(&mut hasher, program.as_bytes());
        }
        hasher.update(&(self.inputs.len() as u64).to_le_bytes());
        for (path, digest) in &self.inputs {
            field(&mut hasher, path.as_bytes());
            hasher.update(digest.as_bytes());
        }
        hasher.finalize()
    }

    /// Why `self` (now) differs from `before`, in a few words.
    fn change_since(&self, before: &KeyParts) -> String {
        if self.source != before.source {
            return "the task's body or directives changed".to_string();
        }
        if self.programs != before.programs {
            let changed = self
                .programs
                .iter()
                .zip(before.programs.iter())
                .find(|(now, then)| now != then)
                .map(|(now, _)| program_shown(now))
                .unwrap_or_else(|| "its programs".to_string());
            return format!("the program {changed} changed");
        }
        if self.setting != before.setting {
            return "its env, container, implementation or workdir changed".to_string();
        }
        if self.args != before.args {
            return "its arguments changed".to_string();
        }
        let before_inputs: HashMap<&str, &blake3::Hash> =
            before.inputs.iter().map(|(p, d)| (&**p, d)).collect();
        let changed: Vec<&str> = self
            .inputs
            .iter()
            .filter(|(p, d)| before_inputs.get(&**p) != Some(&d))
            .map(|(p, _)| &**p)
            .collect();
        match changed.as_slice() {
            [] => "its earlier result is no longer in the cache".to_string(),
            [one] => format!("input {one} changed"),
            [one, rest @ ..] => format!("input {one} changed (and {} more)", rest.len()),
        }
    }
}

/// `path:/usr/bin/sort:…` → `` `/usr/bin/sort` ``.
fn program_shown(identity: &str) -> String {
    let mut parts = identity.splitn(3, ':');
    let _kind = parts.next();
    format!("`{}`", parts.next().unwrap_or(identity))
}

impl CallShape {
    /// Builds the shape of a call: `args` are its values with user paths, every future
    /// resolved. `None` for an attempt that is never cached.
    #[allow(clippy::too_many_arguments)]
    fn new(
        program: &Program,
        module: ModuleId,
        task: &Arc<Task>,
        settings: &Settings,
        args: &IndexMap<String, Value>,
        inputs: Vec<InputSlot>,
        run_dir: &Path,
        engine: Option<&str>,
        hashing: &Hashing,
    ) -> Result<CallShape, String> {
        if matches!(settings.body, Body::Workflow { .. }) {
            return Err("a nested workflow: its own tasks are cached one by one".to_string());
        }
        if settings.replicated {
            return Err("a replicated task runs on every resource".to_string());
        }
        let file = &program.modules[module].file;
        let args_json = args_json(args);
        let identity = tagged(
            b"weft-call",
            &[
                task.name.name.as_bytes(),
                file.path.as_os_str().as_encoded_bytes(),
                &args_json,
            ],
        );
        let mut programs = program_names(program, module, settings, args)?;
        let in_image = settings.container.is_some();
        for p in &mut programs {
            p.in_image = in_image;
        }
        if settings.container.is_some() {
            programs.insert(
                0,
                ProgramName {
                    name: engine.unwrap_or("docker").to_string(),
                    in_image: false,
                },
            );
        }
        // Only a program named by a path is found from the working directory.
        let workdir = programs
            .iter()
            .any(|p| !p.in_image && p.name.contains('/'))
            .then(|| match &settings.workdir {
                Some(w) => run_dir.join(w),
                None => run_dir.to_path_buf(),
            });
        let mut setting = blake3::Hasher::new();
        field(&mut setting, b"weft-setting");
        for (name, value) in &settings.env {
            field(&mut setting, name.as_bytes());
            field(&mut setting, value.as_bytes());
        }
        field(
            &mut setting,
            settings.impl_name.as_deref().unwrap_or("").as_bytes(),
        );
        field(
            &mut setting,
            settings.container.as_deref().unwrap_or("").as_bytes(),
        );
        field(
            &mut setting,
            settings.workdir.as_deref().unwrap_or("").as_bytes(),
        );
        Ok(CallShape {
            task: task.clone(),
            identity,
            source: hashing.source_digest(program, module, task),
            args: blake3::hash(&args_json),
            setting: setting.finalize(),
            programs,
            workdir,
            inputs,
        })
    }

    fn task_name(&self) -> &str {
        &self.task.name.name
    }

    /// The key's parts in one fingerprint mode; `digest` gives each input's digest (by
    /// index), `None` when it cannot be known.
    fn parts(
        &self,
        hashing: &Hashing,
        mode: Fingerprint,
        mut digest: impl FnMut(usize, &InputSlot) -> Option<blake3::Hash>,
    ) -> Option<KeyParts> {
        let mut inputs = Vec::with_capacity(self.inputs.len());
        for (index, input) in self.inputs.iter().enumerate() {
            inputs.push((input.shown.clone(), digest(index, input)?));
        }
        Some(KeyParts {
            fingerprint: mode,
            source: self.source,
            args: self.args,
            setting: self.setting,
            programs: self
                .programs
                .iter()
                .map(|p| {
                    let workdir = self.workdir.as_deref().unwrap_or(Path::new(""));
                    hashing.program_identity(&p.name, workdir, p.in_image, mode)
                })
                .collect(),
            inputs,
        })
    }
}

/// The arguments as a JSON object, in declaration order: what a call's identity and key
/// know of them. Written as it goes, not built as a map first.
fn args_json(args: &IndexMap<String, Value>) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 * args.len() + 2);
    out.push(b'{');
    for (i, (name, value)) in args.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Writing to a Vec fails only for values JSON cannot hold, which `to_json` never
        // makes.
        let _ = serde_json::to_writer(&mut out, name);
        out.push(b':');
        let _ = serde_json::to_writer(&mut out, &value.to_json());
    }
    out.push(b'}');
    out
}

/// The programs a body names, evaluated over the call's arguments (user paths).
fn program_names(
    program: &Program,
    module: ModuleId,
    settings: &Settings,
    args: &IndexMap<String, Value>,
) -> Result<Vec<ProgramName>, String> {
    let eval = |expr: &weft_compiler::ast::Expr| -> Result<String, String> {
        // Most programs are written as plain strings: no evaluator (and no copy of the
        // arguments into its scope) for those.
        if let ExprKind::Str(literal) = &expr.kind {
            if let Some(plain) = literal.as_plain() {
                return Ok(plain);
            }
        }
        eval_pure(program, module, args, expr)
            .map(|v| v.display_text())
            .map_err(|e| match e {
                Interrupt::Error(d) => d.message,
                other => format!("{other:?}"),
            })
    };
    let named = |name: String| ProgramName {
        name,
        in_image: false,
    };
    Ok(match &settings.body {
        Body::Binary { program, .. } | Body::Ompss { program, .. } => vec![named(eval(program)?)],
        Body::Mpi {
            program, options, ..
        } => {
            let mut runner = "mpirun".to_string();
            for entry in options {
                if entry.key.name == "runner" {
                    runner = eval(&entry.value)?;
                }
            }
            vec![named(runner), named(eval(program)?)]
        }
        Body::Shell { .. } => vec![named("bash".to_string())],
        Body::Script { interpreter, .. } => vec![named(eval(interpreter)?)],
        Body::Workflow { .. } => Vec::new(),
    })
}

/// Shows a path relative to the run's directory when inside it.
fn shown_path(path: &Path, run_dir: &Path) -> String {
    path.strip_prefix(run_dir)
        .unwrap_or(path)
        .to_string_lossy()
        .into_owned()
}

// ---------------------------------------------------------------------------------------------
// Entries and blobs
// ---------------------------------------------------------------------------------------------

/// One file kept in the cache.
#[derive(Clone, Debug, PartialEq, Eq)]
struct StoredFile {
    /// The BLAKE3 hash of the content: the blob's name.
    blob: String,
    size: u64,
    executable: bool,
    /// Restored too, so fast fingerprints of restored files match the originals.
    /// (Nanoseconds since the epoch fit an i64 until 2262.)
    mtime_ns: i64,
    /// The fast fingerprint the file had.
    fast: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum StoredNode {
    Dir,
    File(StoredFile),
    Symlink { target: String },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum StoredOutput {
    File(StoredFile),
    Dir {
        /// Relative path and node, in [`walk_tree`] order.
        tree: Vec<(String, StoredNode)>,
    },
}

impl StoredOutput {
    /// The digest the output has as an input of a later call.
    fn digest(&self, mode: Fingerprint) -> Option<blake3::Hash> {
        let of_file = |f: &StoredFile| {
            blake3::Hash::from_hex(match mode {
                Fingerprint::Full => &f.blob,
                Fingerprint::Fast => &f.fast,
            })
            .ok()
        };
        match self {
            StoredOutput::File(f) => of_file(f),
            StoredOutput::Dir { tree } => {
                let mut items = Vec::with_capacity(tree.len());
                for (path, node) in tree {
                    let item = match node {
                        StoredNode::Dir => TreeItem::Dir,
                        StoredNode::Symlink { target } => TreeItem::Symlink(target.clone()),
                        StoredNode::File(f) => TreeItem::File(of_file(f)?),
                    };
                    items.push((path.as_str(), item));
                }
                Some(tree_digest(items.into_iter()))
            }
        }
    }

    fn blobs(&self) -> Vec<&str> {
        match self {
            StoredOutput::File(f) => vec![f.blob.as_str()],
            StoredOutput::Dir { tree } => tree
                .iter()
                .filter_map(|(_, n)| match n {
                    StoredNode::File(f) => Some(f.blob.as_str()),
                    _ => None,
                })
                .collect(),
        }
    }
}

/// A completed attempt's results.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    task: String,
    created_ms: u64,
    /// One per written access, in access order.
    outputs: Vec<StoredOutput>,
    returned: Option<serde_json::Value>,
    out_json: IndexMap<String, serde_json::Value>,
}

impl Entry {
    /// The bytes a restore copies.
    fn stored_bytes(&self) -> u64 {
        self.outputs
            .iter()
            .map(|o| match o {
                StoredOutput::File(f) => f.size,
                StoredOutput::Dir { tree } => tree
                    .iter()
                    .map(|(_, n)| match n {
                        StoredNode::File(f) => f.size,
                        _ => 0,
                    })
                    .sum(),
            })
            .sum()
    }

    fn outcome(&self) -> AttemptOutcome {
        AttemptOutcome::Succeeded {
            returned: self.returned.as_ref().map(Value::from_json),
            out_json: self
                .out_json
                .iter()
                .map(|(k, v)| (k.clone(), Value::from_json(v)))
                .collect(),
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

fn remove_any(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// A temporary sibling of `path`, for building what then replaces it in one rename.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.weft-{what}-{}", std::process::id()))
}

/// The run's handle on `.weft/state.redb` and `.weft/cache/`.
pub struct Cache {
    blobs: PathBuf,
    tmp: PathBuf,
    /// The view lookups read, and when it was taken: see [`Cache::snapshot`]. Declared
    /// before the database: a view must end before the database closes, or it cannot
    /// record its allocator state and the next open must repair it.
    snapshot: Mutex<Option<(Instant, Arc<Snapshot>)>>,
    db: Arc<Database>,
    options: ResumeOptions,
    hashing: Hashing,
    writer: Writer,
    /// Reused records not handed to the writer yet (number, when): sent in bulk, so a
    /// resume of many small calls does not queue one operation per call.
    touches: Mutex<Vec<(u64, u64)>>,
    tmp_counter: AtomicU64,
}

impl Cache {
    /// Opens the cache of the run directory whose `.weft` folder is `weft_dir`.
    pub fn open(weft_dir: &Path, options: ResumeOptions) -> Result<Arc<Cache>, String> {
        let cache_dir = weft_dir.join("cache");
        let blobs = cache_dir.join("blobs");
        let tmp = cache_dir.join("tmp");
        for dir in [&blobs, &tmp] {
            fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        let db = Arc::new(state::open_state(&weft_dir.join(STATE_FILE))?);
        let writer = Writer::start(db.clone())?;
        Ok(Arc::new(Cache {
            blobs,
            tmp,
            snapshot: Mutex::new(None),
            db,
            options,
            hashing: Hashing::default(),
            writer,
            touches: Mutex::new(Vec::new()),
            tmp_counter: AtomicU64::new(0),
        }))
    }

    pub fn options(&self) -> ResumeOptions {
        self.options
    }

    /// Notes that the run reused a record.
    fn touch(&self, record: u64) {
        const BATCH: usize = 4096;
        let full = self.touches.lock().ok().and_then(|mut touches| {
            touches.push((record, now_ms()));
            (touches.len() >= BATCH).then(|| std::mem::take(&mut *touches))
        });
        if let Some(batch) = full {
            self.writer.send(WriteOp::Touch(batch));
        }
    }

    /// Waits until every result handed over is committed. Later stores are dropped.
    pub fn close(&self) {
        let touches = self
            .touches
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default();
        if !touches.is_empty() {
            self.writer.send(WriteOp::Touch(touches));
        }
        for problem in self.writer.close() {
            eprintln!("weft: the cache could not record results: {problem}");
        }
        if let Ok(mut snapshot) = self.snapshot.lock() {
            snapshot.take();
        }
    }

    fn blob_path(&self, hex: &str) -> PathBuf {
        self.blobs.join(hex.get(..2).unwrap_or("00")).join(hex)
    }

    fn tmp_path(&self) -> PathBuf {
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        self.tmp.join(format!("{}-{n}", std::process::id()))
    }

    /// What was committed at most `SNAPSHOT_AGE` ago. Taking a view costs more than a
    /// lookup in it, so a resume of many calls shares one; it is renewed often, as redb
    /// cannot reuse the pages a live view still sees. (A result this run stores becomes
    /// visible a little later than its commit: commits already wait for a batch.)
    fn snapshot(&self) -> Option<Arc<Snapshot>> {
        const SNAPSHOT_AGE: Duration = Duration::from_millis(50);
        let mut shared = self.snapshot.lock().ok()?;
        if let Some((taken, snapshot)) = shared.as_ref() {
            if taken.elapsed() < SNAPSHOT_AGE {
                return Some(snapshot.clone());
            }
        }
        let snapshot = Arc::new(Snapshot::of(&*self.db)?);
        *shared = Some((Instant::now(), snapshot.clone()));
        Some(snapshot)
    }

    /// Copies one output file into the blobs (a hard link when possible: versions never
    /// change once final), hashing it on the way.
    fn store_file(&self, path: &Path) -> io::Result<StoredFile> {
        let meta = fs::metadata(path)?;
        let mut full = blake3::Hasher::new();
        let mut prefix = blake3::Hasher::new();
        let mut file = File::open(path)?;
        let mut buffer = vec![0u8; 1 << 16];
        let mut seen: u64 = 0;
        loop {
            let n = file.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            full.update(&buffer[..n]);
            if seen < FAST_PREFIX {
                let take = (FAST_PREFIX - seen).min(n as u64) as usize;
                prefix.update(&buffer[..take]);
            }
            seen += n as u64;
        }
        let hex = full.finalize().to_hex().to_string();
        let blob = self.blob_path(&hex);
        if !blob.exists() {
            if let Some(parent) = blob.parent() {
                fs::create_dir_all(parent)?;
            }
            let tmp = self.tmp_path();
            if fs::hard_link(path, &tmp).is_err() {
                fs::copy(path, &tmp)?;
            }
            fs::rename(&tmp, &blob)?;
        }
        Ok(StoredFile {
            blob: hex,
            size: meta.len(),
            executable: meta.permissions().mode() & 0o111 != 0,
            mtime_ns: mtime_ns(&meta) as i64,
            fast: fast_from_parts(meta.len(), mtime_ns(&meta), &prefix.finalize())
                .to_hex()
                .to_string(),
        })
    }

    fn store_output(&self, slot: &OutputSlot) -> io::Result<StoredOutput> {
        if !slot.is_dir {
            return Ok(StoredOutput::File(self.store_file(&slot.at)?));
        }
        let mut tree = Vec::new();
        for (rel, path, walked) in walk_tree(&slot.at)? {
            let node = match walked {
                Walked::Dir => StoredNode::Dir,
                Walked::Symlink(target) => StoredNode::Symlink { target },
                Walked::File(_) => StoredNode::File(self.store_file(&path)?),
            };
            tree.push((rel, node));
        }
        Ok(StoredOutput::Dir { tree })
    }

    /// Copies a blob to `to`, checking its hash on the way; restores mode and mtime.
    fn restore_file(&self, stored: &StoredFile, to: &Path) -> Result<(), String> {
        let blob = self.blob_path(&stored.blob);
        let mut from = File::open(&blob).map_err(|e| format!("{}: {e}", blob.display()))?;
        let mut out = File::create(to).map_err(|e| format!("{}: {e}", to.display()))?;
        let mut hasher = blake3::Hasher::new();
        let mut buffer = vec![0u8; 1 << 16];
        loop {
            let n = from
                .read(&mut buffer)
                .map_err(|e| format!("{}: {e}", blob.display()))?;
            if n == 0 {
                break;
            }
            hasher.update(&buffer[..n]);
            out.write_all(&buffer[..n])
                .map_err(|e| format!("{}: {e}", to.display()))?;
        }
        if hasher.finalize().to_hex().as_str() != stored.blob {
            return Err(format!("{} is damaged", blob.display()));
        }
        let mode = if stored.executable { 0o755 } else { 0o644 };
        let _ = out.set_permissions(fs::Permissions::from_mode(mode));
        if let Some(time) = time_of_ns(stored.mtime_ns.into()) {
            let _ = out.set_modified(time);
        }
        Ok(())
    }

    fn materialise(&self, stored: &StoredOutput, to: &Path) -> Result<(), String> {
        match stored {
            StoredOutput::File(f) => self.restore_file(f, to),
            StoredOutput::Dir { tree } => {
                fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
                for (rel, node) in tree {
                    // Only paths below the output: an entry never writes elsewhere.
                    if !Path::new(rel)
                        .components()
                        .all(|c| matches!(c, std::path::Component::Normal(_)))
                    {
                        return Err(format!("the cached tree names `{rel}`"));
                    }
                    let path = to.join(rel);
                    match node {
                        StoredNode::Dir => fs::create_dir_all(&path)
                            .map_err(|e| format!("{}: {e}", path.display()))?,
                        StoredNode::Symlink { target } => std::os::unix::fs::symlink(target, &path)
                            .map_err(|e| format!("{}: {e}", path.display()))?,
                        StoredNode::File(f) => self.restore_file(f, &path)?,
                    }
                }
                Ok(())
            }
        }
    }

    /// Puts an entry's outputs at the slots' store paths: all of them, or none.
    fn restore(&self, entry: &Entry, slots: &[OutputSlot]) -> Result<(), String> {
        if entry.outputs.len() != slots.len() {
            return Err("the entry does not match the call's outputs".to_string());
        }
        let mut built = Vec::with_capacity(slots.len());
        for (stored, slot) in entry.outputs.iter().zip(slots) {
            let tmp = sibling(&slot.at, "restore");
            let result = (|| {
                if let Some(parent) = tmp.parent() {
                    fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                remove_any(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
                self.materialise(stored, &tmp)
            })();
            built.push(tmp);
            if let Err(problem) = result {
                for tmp in &built {
                    let _ = remove_any(tmp);
                }
                return Err(problem);
            }
        }
        for (tmp, slot) in built.iter().zip(slots) {
            remove_any(&slot.at)
                .and_then(|_| fs::rename(tmp, &slot.at))
                .map_err(|e| format!("{}: {e}", slot.at.display()))?;
        }
        Ok(())
    }
}

fn time_of_ns(ns: i128) -> Option<SystemTime> {
    let ns = u128::try_from(ns).ok()?;
    let secs = u64::try_from(ns / 1_000_000_000).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::new(secs, (ns % 1_000_000_000) as u32))
}

// ---------------------------------------------------------------------------------------------
// Attempts through the cache
// ---------------------------------------------------------------------------------------------

/// One attempt seen by the cache: its key is computed (inputs hashed) when it starts, then
/// it is restored or run, and a success is stored.
pub struct Probe {
    cache: Arc<Cache>,
    shape: CallShape,
    outputs: Vec<OutputSlot>,
    task_id: TaskId,
    attempt: u32,
    notes: NoteSender,
    /// A miss `restore_now` found, for `run` not to look again.
    looked: Mutex<Option<Lookup>>,
}

/// What the lookup found.
enum Lookup {
    Hit {
        key: blake3::Hash,
        /// The record's number.
        id: u64,
        entry: Box<Entry>,
    },
    Miss {
        parts: Vec<KeyParts>,
        reason: Option<String>,
    },
}

impl Probe {
    /// The probe of an attempt about to start, or `None` for an attempt the cache leaves
    /// alone. `args` are the call's values with every future resolved (user paths);
    /// `versions` say where each version of a file lives now.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        cache: &Arc<Cache>,
        sub: &Submission,
        settings: &Settings,
        args: &IndexMap<String, Value>,
        attempt: u32,
        run_dir: &Path,
        engine: Option<&str>,
        versions: &Versions,
        notes: NoteSender,
    ) -> Option<Probe> {
        let locate = |key, version| versions.read_path(key, version);
        let mut inputs = Vec::new();
        let mut outputs = Vec::new();
        for access in &sub.files {
            let r = &access.resolved;
            if matches!(r.direction, Direction::Concurrent | Direction::Commutative) {
                return None;
            }
            if let Some(version) = r.reads {
                inputs.push(InputSlot {
                    shown: shown_path(&access.user_path, run_dir).into(),
                    at: locate(access.key, version).unwrap_or_else(|| access.user_path.clone()),
                });
            }
            if let Some(version) = r.writes {
                outputs.push(OutputSlot {
                    user_path: access.user_path.clone(),
                    at: locate(access.key, version)?,
                    is_dir: access.is_dir,
                });
            }
        }
        let shape = CallShape::new(
            &sub.program,
            sub.module,
            &sub.task,
            settings,
            args,
            inputs,
            run_dir,
            engine,
            &cache.hashing,
        )
        .ok()?;
        Some(Probe {
            cache: cache.clone(),
            shape,
            outputs,
            task_id: sub.id,
            attempt,
            notes,
            looked: Mutex::new(None),
        })
    }

    /// The key's parts in each mode the run stores under, the run's own mode first: a
    /// full-mode run stores under both keys, a fast one only under its own.
    fn parts(&self) -> Vec<KeyParts> {
        let hashing = &self.cache.hashing;
        let modes: &[Fingerprint] = match self.cache.options.fingerprint {
            Fingerprint::Full => &[Fingerprint::Full, Fingerprint::Fast],
            Fingerprint::Fast => &[Fingerprint::Fast],
        };
        modes
            .iter()
            .filter_map(|mode| {
                self.shape.parts(hashing, *mode, |_, input| {
                    Some(hashing.path_digest(&input.at, *mode))
                })
            })
            .collect()
    }

    fn look_up(&self) -> Lookup {
        let cache = &self.cache;
        let parts = self.parts();
        if !cache.options.reuse {
            return Lookup::Miss {
                parts,
                reason: None,
            };
        }
        let Some(now) = parts.first() else {
            return Lookup::Miss {
                parts,
                reason: None,
            };
        };
        let key = now.key();
        let snapshot = cache.snapshot();
        if let Some((id, entry)) = snapshot.as_ref().and_then(|s| s.entry(&key)) {
            return Lookup::Hit {
                key,
                id,
                entry: Box::new(entry),
            };
        }
        let before = snapshot
            .and_then(|s| s.history(&self.shape.identity))
            .and_then(|h| h.into_iter().find(|p| p.fingerprint == now.fingerprint));
        let reason = match before {
            Some(before) => now.change_since(&before),
            None => "no earlier result for this call".to_string(),
        };
        Lookup::Miss {
            parts,
            reason: Some(reason),
        }
    }

    /// Stores a successful attempt's results; nothing when an output is missing (the
    /// dispatcher fails such an attempt).
    /// `keys` are those of `parts`, in order.
    fn store(
        &self,
        parts: &[KeyParts],
        keys: &[blake3::Hash],
        outcome: &AttemptOutcome,
    ) -> Result<(), String> {
        let AttemptOutcome::Succeeded { returned, out_json } = outcome else {
            return Ok(());
        };
        if parts.is_empty() || self.outputs.iter().any(|o| !o.at.exists()) {
            return Ok(());
        }
        let mut outputs = Vec::with_capacity(self.outputs.len());
        for slot in &self.outputs {
            outputs.push(
                self.cache
                    .store_output(slot)
                    .map_err(|e| format!("{}: {e}", slot.user_path.display()))?,
            );
        }
        let entry = Entry {
            task: self.shape.task_name().to_string(),
            created_ms: now_ms(),
            outputs,
            returned: returned.as_ref().map(Value::to_json),
            out_json: out_json
                .iter()
                .map(|(k, v)| (k.clone(), v.to_json()))
                .collect(),
        };
        self.cache.writer.store(keys, &self.shape.identity, |out| {
            codec::encode_record_into(out, &entry, parts, false)
        });
        Ok(())
    }

    fn note(&self, key: Option<blake3::Hash>, hit: bool, reason: Option<String>) {
        if let Some(key) = key {
            let _ = self.notes.send(CacheNote {
                task: self.task_id,
                attempt: self.attempt,
                key: key.to_hex().to_string(),
                hit,
                reason,
            });
        }
    }

    /// Whether the attempt reads only a few small files: hashing them costs less than a
    /// hand-off to another thread.
    fn inputs_are_cheap(&self) -> bool {
        self.shape.inputs.len() <= CHEAP_INPUTS
            && self
                .shape
                .inputs
                .iter()
                .all(|input| match fs::metadata(&input.at) {
                    Ok(meta) => meta.is_file() && meta.len() <= CHEAP_BYTES,
                    Err(e) => e.kind() == io::ErrorKind::NotFound,
                })
    }

    /// Whether the files written (or to restore) are small enough to copy in passing.
    fn cheap_to_copy(bytes: u64) -> bool {
        bytes <= CHEAP_BYTES * CHEAP_INPUTS as u64
    }

    fn written_bytes(&self) -> u64 {
        self.outputs
            .iter()
            .map(|o| {
                if o.is_dir {
                    walk_tree(&o.at)
                        .map(|items| {
                            items
                                .iter()
                                .map(|(_, _, w)| match w {
                                    Walked::File(meta) => meta.len(),
                                    _ => 0,
                                })
                                .sum()
                        })
                        .unwrap_or(u64::MAX)
                } else {
                    fs::metadata(&o.at).map(|m| m.len()).unwrap_or(0)
                }
            })
            .fold(0u64, u64::saturating_add)
    }

    /// Restores the outputs of a hit; a damaged entry is forgotten and counts as a miss.
    fn restore_found(&self, found: Lookup) -> Lookup {
        match found {
            Lookup::Hit { key, id, entry } => match self.cache.restore(&entry, &self.outputs) {
                Ok(()) => Lookup::Hit { key, id, entry },
                Err(problem) => {
                    eprintln!(
                        "weft: the cached result of `{}` cannot be restored ({problem}); running it again",
                        self.shape.task_name()
                    );
                    self.cache.writer.send(WriteOp::Forget(id));
                    Lookup::Miss {
                        parts: self.parts(),
                        reason: Some("its cached result was damaged".to_string()),
                    }
                }
            },
            miss => miss,
        }
    }

    /// Restores the attempt at once when that is cheap: its inputs are a few small files
    /// and its outputs, if found, are small. `None` means: go through [`Probe::run`] (which
    /// reuses what this lookup found). This is what lets a resumed run of many small calls
    /// decide quickly, without a thread hand-off per call.
    pub fn restore_now(&self) -> Option<AttemptOutcome> {
        if !self.cache.options.reuse || !self.inputs_are_cheap() {
            return None;
        }
        let lookup = self.look_up();
        let Lookup::Hit { key, id, entry } = lookup else {
            if let Ok(mut looked) = self.looked.lock() {
                *looked = Some(lookup);
            }
            return None;
        };
        if !Self::cheap_to_copy(entry.stored_bytes()) {
            // Big outputs are copied off the dispatcher's thread.
            if let Ok(mut looked) = self.looked.lock() {
                *looked = Some(Lookup::Hit { key, id, entry });
            }
            return None;
        }
        if self.cache.restore(&entry, &self.outputs).is_err() {
            // The slow path says what is wrong and forgets the entry.
            return None;
        }
        self.cache.touch(id);
        self.note(Some(key), true, None);
        Some(entry.outcome())
    }

    /// Restores the attempt from the cache, or runs it with `launch` (and stores a
    /// success). Files are hashed and copied on a blocking thread unless they are few and
    /// small.
    pub async fn run(self, launch: impl FnOnce() -> Running + Send) -> AttemptOutcome {
        let probe = Arc::new(self);
        let earlier = probe.looked.lock().ok().and_then(|mut l| l.take());
        let found = match earlier {
            Some(found) => found,
            None if probe.inputs_are_cheap() => probe.look_up(),
            None => {
                let looking = probe.clone();
                match tokio::task::spawn_blocking(move || looking.look_up()).await {
                    Ok(found) => found,
                    Err(_) => return launch().await,
                }
            }
        };
        let lookup = match found {
            Lookup::Hit { ref entry, .. } if !Self::cheap_to_copy(entry.stored_bytes()) => {
                let restoring = probe.clone();
                match tokio::task::spawn_blocking(move || restoring.restore_found(found)).await {
                    Ok(lookup) => lookup,
                    Err(_) => return launch().await,
                }
            }
            other => probe.restore_found(other),
        };
        match lookup {
            Lookup::Hit { key, id, entry } => {
                probe.cache.touch(id);
                probe.note(Some(key), true, None);
                entry.outcome()
            }
            Lookup::Miss { parts, reason } => {
                let outcome = launch().await;
                let keys: Vec<blake3::Hash> = parts.iter().map(KeyParts::key).collect();
                let stored = if Self::cheap_to_copy(probe.written_bytes()) {
                    probe.store(&parts, &keys, &outcome)
                } else {
                    let storing = probe.clone();
                    let stored_outcome = outcome.clone();
                    let (kept_parts, kept_keys) = (parts.clone(), keys.clone());
                    tokio::task::spawn_blocking(move || {
                        storing.store(&kept_parts, &kept_keys, &stored_outcome)
                    })
                    .await
                    .unwrap_or_else(|e| Err(e.to_string()))
                };
                if let Err(problem) = stored {
                    eprintln!(
                        "weft: the result of `{}` could not be cached: {problem}",
                        probe.shape.task_name()
                    );
                }
                probe.note(keys.first().copied(), false, reason);
                outcome
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// --explain
// ---------------------------------------------------------------------------------------------

/// What `--resume` would do with one call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Restored from the cache.
    Cached,
    /// Run, and why.
    Run(String),
    /// Whether it runs depends on what earlier calls produce.
    Unknown(String),
}

#[derive(Clone, Debug)]
pub struct Verdict {
    pub id: TaskId,
    pub task: String,
    /// The call's arguments, short: `"data/a.txt", "out/a.count"`.
    pub args: String,
    pub file: PathBuf,
    pub line: usize,
    pub decision: Decision,
}

#[derive(Clone, Debug, Default)]
pub struct Explanation {
    pub verdicts: Vec<Verdict>,
    /// Where planning stopped, if before the end of the workflow body.
    pub stopped: Option<String>,
}

impl Explanation {
    pub fn render(&self) -> String {
        let calls: Vec<String> = self
            .verdicts
            .iter()
            .map(|v| format!("{}({})", v.task, v.args))
            .collect();
        let places: Vec<String> = self
            .verdicts
            .iter()
            .map(|v| format!("{}:{}", v.file.display(), v.line))
            .collect();
        let call_width = calls.iter().map(|c| c.chars().count()).max().unwrap_or(0);
        let place_width = places.iter().map(|p| p.chars().count()).max().unwrap_or(0);
        let mut out = String::new();
        for ((v, call), place) in self.verdicts.iter().zip(&calls).zip(&places) {
            let (word, why) = match &v.decision {
                Decision::Cached => ("cached", "completed before with the same key"),
                Decision::Run(why) => ("run", why.as_str()),
                Decision::Unknown(why) => ("unknown", why.as_str()),
            };
            out.push_str(&format!(
                "{word:<8} {call:<call_width$}  {place:<place_width$}  {why}\n"
            ));
        }
        let count =
            |f: fn(&Decision) -> bool| self.verdicts.iter().filter(|v| f(&v.decision)).count();
        out.push_str(&format!(
            "{} cached, {} would run, {} unknown until run\n",
            count(|d| matches!(d, Decision::Cached)),
            count(|d| matches!(d, Decision::Run(_))),
            count(|d| matches!(d, Decision::Unknown(_))),
        ));
        if let Some(stopped) = &self.stopped {
            out.push_str(&format!(
                "planning stopped at {stopped}; the calls after it are known only when running\n"
            ));
        }
        out
    }
}

/// A call's arguments in a few characters: strings quoted, results not known yet as `?`.
fn args_summary(args: &IndexMap<String, Value>) -> String {
    const MAX: usize = 60;
    let text = args
        .values()
        .map(|v| match v {
            Value::Future(_) => "?".to_string(),
            other if other.contains_future() => "…".to_string(),
            other => other.to_json().to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ");
    if text.chars().count() <= MAX {
        text
    } else {
        format!("{}…", text.chars().take(MAX - 1).collect::<String>())
    }
}

/// A planned call, as the planner's check hook saw it.
struct SeenCall {
    module: ModuleId,
    task: Arc<Task>,
    args: IndexMap<String, Value>,
}

/// How `--explain` opened the state file.
enum Opened {
    None,
    Db(redb::ReadOnlyDatabase),
    Writable(Database),
}

/// Read access to the state for `--explain`, which never writes: one snapshot serves the
/// whole plan.
struct StateReader {
    /// Declared before the database, so it is dropped first.
    snapshot: Option<Snapshot>,
    _opened: Opened,
}

impl StateReader {
    fn open(weft_dir: &Path) -> Result<StateReader, String> {
        let path = weft_dir.join(STATE_FILE);
        let in_use = || {
            format!(
                "{} is in use by a weft run in this directory; explain when it ends",
                path.display()
            )
        };
        let opened = if !path.exists() {
            Opened::None
        } else {
            match redb::ReadOnlyDatabase::open(&path) {
                Ok(db) => Opened::Db(db),
                Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(in_use()),
                // Not closed cleanly (a killed run): opening it for writing repairs it.
                Err(_) => match Database::open(&path) {
                    Ok(db) => Opened::Writable(db),
                    Err(redb::DatabaseError::DatabaseAlreadyOpen) => return Err(in_use()),
                    // The next run moves a damaged state aside; until then nothing is cached.
                    Err(e) => {
                        eprintln!(
                            "weft: {} cannot be read ({e}): every call would run",
                            path.display()
                        );
                        Opened::None
                    }
                },
            }
        };
        let current = match &opened {
            Opened::None => None,
            Opened::Db(db) => Some(state::is_current(db)),
            Opened::Writable(db) => Some(state::is_current(db)),
        };
        if current == Some(false) {
            // The next run moves it aside; until then nothing is cached.
            eprintln!(
                "weft: {} was made by another version of weft: every call would run",
                path.display()
            );
        }
        let snapshot = match (&opened, current) {
            (Opened::Db(db), Some(true)) => Snapshot::of(db),
            (Opened::Writable(db), Some(true)) => Snapshot::of(db),
            _ => None,
        };
        Ok(StateReader {
            snapshot,
            _opened: opened,
        })
    }

    fn entry(&self, key: &blake3::Hash) -> Option<Entry> {
        self.snapshot.as_ref()?.entry(key).map(|(_, entry)| entry)
    }

    fn history(&self, identity: &blake3::Hash) -> Option<Vec<KeyParts>> {
        self.snapshot.as_ref()?.history(identity)
    }
}

/// What an earlier planned call gives later ones, once its verdict is known.
enum Produced {
    /// Restored from the cache: its outputs and values are known.
    Known(Box<Entry>),
    /// It runs (or may): what it produces is known only then.
    Later,
}

/// `weft run --explain`: plans the workflow and says, for each call the planner sees,
/// whether `--resume` would restore it or run it, and why.
pub fn explain(
    program: &Program,
    workflow: &weft_compiler::ast::Workflow,
    args: IndexMap<String, Value>,
    config: &Config,
    run_dir: &Path,
    fingerprint: Fingerprint,
) -> Result<Explanation, String> {
    let mut seen: Vec<SeenCall> = Vec::new();
    let mut tasks: HashMap<*const Task, Arc<Task>> = HashMap::new();
    let mut record = |_: &Program, call: &TaskCall<'_>| {
        let task = tasks
            .entry(call.task as *const Task)
            .or_insert_with(|| Arc::new(call.task.clone()))
            .clone();
        seen.push(SeenCall {
            module: call.module,
            task,
            args: call.args.clone(),
        });
        None
    };
    let plan = weft_compiler::plan::plan_workflow(
        program,
        program.root,
        workflow,
        args,
        run_dir,
        &mut record,
    )
    .map_err(|d| d.message.clone())?;
    let state = StateReader::open(&run_dir.join(".weft"))?;
    let pool = Pool::new(config.resources());
    let engine = config.containers.as_ref().map(|c| c.engine.program());
    let hashing = Hashing::default();

    // The planner numbers futures from 1, in call order: each node's return values, then
    // the new values of its written json parameters.
    let mut future_owner: HashMap<FutureId, (usize, FutureSlot)> = HashMap::new();
    let mut next_future = 0u64;
    for (index, node) in plan.nodes.iter().enumerate() {
        let Some(call) = seen.get(node.id as usize) else {
            break;
        };
        let tuple = matches!(
            call.task.returns,
            Some(weft_compiler::ast::ReturnType::Tuple(..))
        );
        for i in 0..return_arity(&call.task) {
            next_future += 1;
            let slot = if tuple {
                FutureSlot::TupleItem(i)
            } else {
                FutureSlot::Return
            };
            future_owner.insert(FutureId(next_future), (index, slot));
        }
        for (_, param) in written_json_params(&call.task) {
            next_future += 1;
            future_owner.insert(
                FutureId(next_future),
                (index, FutureSlot::Json(param.name.name.clone())),
            );
        }
    }

    let mut produced: Vec<Produced> = Vec::with_capacity(plan.nodes.len());
    // The latest writer of each path planned so far: node and output index.
    let mut writers: HashMap<PathBuf, (usize, usize)> = HashMap::new();
    let mut verdicts = Vec::with_capacity(plan.nodes.len());
    for (index, node) in plan.nodes.iter().enumerate() {
        let Some(call) = seen.get(node.id as usize) else {
            break;
        };
        let place = |i: usize| {
            let n = &plan.nodes[i];
            format!(
                "`{}` ({}:{})",
                n.task,
                shown_path(&program.modules[n.module].file.path, run_dir),
                n.line
            )
        };
        let (decision, result) = decide(
            program,
            call,
            &produced,
            &future_owner,
            &writers,
            &state,
            &pool,
            engine,
            &hashing,
            run_dir,
            fingerprint,
            &place,
        );
        // Register the call's writes, in access order.
        let data = call_data(&call.task, &call.args);
        let mut output = 0;
        for access in &data.paths {
            if access.direction.writes() {
                writers.insert(normalise(run_dir, &access.path), (index, output));
                output += 1;
            }
        }
        produced.push(result);
        verdicts.push(Verdict {
            id: node.id,
            task: node.task.to_string(),
            args: args_summary(&call.args),
            file: PathBuf::from(shown_path(&program.modules[node.module].file.path, run_dir)),
            line: node.line,
            decision,
        });
    }
    Ok(Explanation {
        verdicts,
        stopped: plan
            .sync
            .map(|s| format!("{}:{} ({})", shown_path(&s.file, run_dir), s.line, s.reason)),
    })
}

/// Which value of a call a planner future stands for.
#[derive(Clone, Debug)]
enum FutureSlot {
    Return,
    TupleItem(usize),
    Json(String),
}

/// The verdict on one planned call, and what it gives later calls.
#[allow(clippy::too_many_arguments)]
fn decide(
    program: &Program,
    call: &SeenCall,
    produced: &[Produced],
    future_owner: &HashMap<FutureId, (usize, FutureSlot)>,
    writers: &HashMap<PathBuf, (usize, usize)>,
    state: &StateReader,
    pool: &Pool,
    engine: Option<&str>,
    hashing: &Hashing,
    run_dir: &Path,
    mode: Fingerprint,
    place: &dyn Fn(usize) -> String,
) -> (Decision, Produced) {
    let unknown = |why: String| (Decision::Unknown(why), Produced::Later);
    // Arguments: futures of calls restored from the cache have their values.
    let mut waiting_on: Option<usize> = None;
    let resolved: Result<IndexMap<String, Value>, ()> = call
        .args
        .iter()
        .map(|(name, value)| {
            let v = value.map_futures(&mut |f| {
                let (owner, slot) = future_owner.get(&f).ok_or(())?;
                match &produced[*owner] {
                    Produced::Known(entry) => Ok(future_value(entry, slot, &call.args)),
                    Produced::Later => {
                        waiting_on.get_or_insert(*owner);
                        Err(())
                    }
                }
            })?;
            Ok((name.clone(), v))
        })
        .collect();
    let Ok(args) = resolved else {
        return unknown(match waiting_on {
            Some(owner) => format!("needs the result of {}, which runs first", place(owner)),
            None => "needs a value known only when running".to_string(),
        });
    };
    let settings = match directives::evaluate(program, call.module, &call.task, &args) {
        Ok(settings) => settings,
        Err(message) => return unknown(format!("its directives: {message}")),
    };
    let Some(chosen) = settings
        .iter()
        .find(|s| pool.can_ever_fit(&s.requirement) || matches!(s.body, Body::Workflow { .. }))
    else {
        let why = "no configured resource can run it".to_string();
        return (Decision::Run(why), Produced::Later);
    };
    let data = call_data(&call.task, &args);
    let mut inputs = Vec::new();
    // Per input: the digest from an earlier cached call, or the writer it waits for.
    let mut from_plan: Vec<Option<Result<blake3::Hash, usize>>> = Vec::new();
    for access in &data.paths {
        if matches!(
            access.direction,
            Direction::Concurrent | Direction::Commutative
        ) {
            let why = format!(
                "always runs: it shares {} with other calls ({})",
                access.path,
                if access.direction == Direction::Concurrent {
                    "concurrent"
                } else {
                    "commutative"
                }
            );
            return (Decision::Run(why), Produced::Later);
        }
        if !access.direction.reads() {
            continue;
        }
        let user_path = normalise(run_dir, &access.path);
        let source = match writers.get(&user_path) {
            Some((writer, output)) => Some(match &produced[*writer] {
                Produced::Known(entry) => entry
                    .outputs
                    .get(*output)
                    .and_then(|o| o.digest(mode))
                    .ok_or(*writer),
                Produced::Later => Err(*writer),
            }),
            None => {
                // A path inside, or around, one an earlier call writes: only the run knows.
                let related = writers.iter().find(|(written, _)| {
                    written.starts_with(&user_path) || user_path.starts_with(written)
                });
                if let Some((_, (writer, _))) = related {
                    return unknown(format!(
                        "reads {}, which {} writes into",
                        access.path,
                        place(*writer)
                    ));
                }
                None
            }
        };
        from_plan.push(source);
        inputs.push(InputSlot {
            shown: shown_path(&user_path, run_dir).into(),
            at: user_path,
        });
    }
    if let Some(writer) = from_plan.iter().find_map(|s| match s {
        Some(Err(writer)) => Some(*writer),
        _ => None,
    }) {
        return unknown(format!(
            "reads what {} writes, which runs first",
            place(writer)
        ));
    }
    let shape = match CallShape::new(
        program,
        call.module,
        &call.task,
        chosen,
        &args,
        inputs,
        run_dir,
        engine,
        hashing,
    ) {
        Ok(shape) => shape,
        Err(why) => {
            let why = format!("always runs: {why}");
            return (Decision::Run(why), Produced::Later);
        }
    };
    let parts = shape.parts(hashing, mode, |index, input| match from_plan[index] {
        Some(Ok(digest)) => Some(digest),
        _ => Some(hashing.path_digest(&input.at, mode)),
    });
    let Some(parts) = parts else {
        return unknown("its inputs are known only when running".to_string());
    };
    let key = parts.key();
    if let Some(entry) = state.entry(&key) {
        return (Decision::Cached, Produced::Known(Box::new(entry)));
    }
    let missing_input = shape
        .inputs
        .iter()
        .zip(&from_plan)
        .find(|(input, source)| source.is_none() && !input.at.exists())
        .map(|(input, _)| input.shown.clone());
    let why = match (missing_input, state.history(&shape.identity)) {
        (Some(path), _) => format!("input {path} does not exist"),
        (None, Some(history)) => match history.iter().find(|p| p.fingerprint == mode) {
            Some(before) => parts.change_since(before),
            None => "no earlier result for this call".to_string(),
        },
        (None, None) => "no earlier result for this call".to_string(),
    };
    (Decision::Run(why), Produced::Later)
}

/// A future's value from a cached entry, as the dispatcher would set it.
fn future_value(entry: &Entry, slot: &FutureSlot, args: &IndexMap<String, Value>) -> Value {
    match slot {
        FutureSlot::Return => entry
            .returned
            .as_ref()
            .map(Value::from_json)
            .unwrap_or(Value::Null),
        FutureSlot::TupleItem(i) => match &entry.returned {
            Some(serde_json::Value::Array(items)) => {
                items.get(*i).map(Value::from_json).unwrap_or(Value::Null)
            }
            _ => Value::Null,
        },
        FutureSlot::Json(name) => entry
            .out_json
            .get(name)
            .map(Value::from_json)
            .or_else(|| args.get(name).cloned())
            .unwrap_or(Value::Null),
    }
}

// ---------------------------------------------------------------------------------------------
// weft clean
// ---------------------------------------------------------------------------------------------

/// What `weft clean` removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CleanReport {
    pub runs_removed: usize,
    pub runs_kept: usize,
    pub entries_removed: usize,
    pub entries_kept: usize,
    pub blobs_removed: usize,
    pub bytes_freed: u64,
}

/// When a run started (µs since the epoch): from its `run.json`, else from its name
/// (`SECONDS-PID`), else from the folder's modification time.
fn run_started_us(dir: &Path) -> u64 {
    if let Ok(record) = RunRecord::load(dir) {
        return record.start_us;
    }
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(secs) = name.split('-').next().and_then(|s| s.parse::<u64>().ok()) {
        return secs * 1_000_000;
    }
    fs::metadata(dir)
        .and_then(|m| m.modified())
        .map(crate::record::to_us)
        .unwrap_or_default()
}

fn size_of(path: &Path) -> u64 {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::read_dir(path)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| size_of(&e.path()))
                    .sum()
            })
            .unwrap_or(0),
        Ok(meta) => meta.len(),
        Err(_) => 0,
    }
}

/// `weft clean`: keeps the `keep` most recent runs under `weft_dir/runs` and the cache
/// entries they stored or reused; removes older runs, other entries and blobs no entry
/// needs. Touches nothing outside `weft_dir`. Fails while a run holds the state.
pub fn clean(weft_dir: &Path, keep: usize) -> Result<CleanReport, String> {
    let mut report = CleanReport::default();
    if !weft_dir.exists() {
        return Ok(report);
    }
    // Holding the state keeps runs away while cleaning (and tells if one is going on).
    let state_path = weft_dir.join(STATE_FILE);
    let mut db = if state_path.exists() || weft_dir.join("cache").exists() {
        Some(state::open_state(&state_path)?)
    } else {
        None
    };
    let runs_dir = weft_dir.join("runs");
    let mut runs: Vec<(u64, PathBuf)> = match fs::read_dir(&runs_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
            .map(|e| (run_started_us(&e.path()), e.path()))
            .collect(),
        Err(_) => Vec::new(),
    };
    runs.sort();
    let split = runs.len().saturating_sub(keep);
    let (old, kept) = runs.split_at(split);
    for (_, dir) in old {
        report.bytes_freed += size_of(dir);
        fs::remove_dir_all(dir).map_err(|e| format!("cannot remove {}: {e}", dir.display()))?;
        report.runs_removed += 1;
    }
    report.runs_kept = kept.len();
    // Entries last stored or reused before the oldest kept run began are no run's.
    let cutoff_ms = kept.first().map_or(u64::MAX, |(start, _)| start / 1000);
    let Some(db) = db.as_mut() else {
        return Ok(report);
    };
    let swept = state::sweep(db, cutoff_ms)?;
    report.entries_removed = swept.removed;
    report.entries_kept = swept.kept;
    let referenced = swept.blobs;
    let _ = db.compact();
    // Blobs no entry names, and leftovers of interrupted stores.
    let blobs = weft_dir.join("cache").join("blobs");
    if let Ok(shards) = fs::read_dir(&blobs) {
        for shard in shards.filter_map(Result::ok) {
            let Ok(files) = fs::read_dir(shard.path()) else {
                continue;
            };
            for file in files.filter_map(Result::ok) {
                let name = file.file_name().to_string_lossy().into_owned();
                if !referenced.contains(&name) {
                    report.bytes_freed += size_of(&file.path());
                    if fs::remove_file(file.path()).is_ok() {
                        report.blobs_removed += 1;
                    }
                }
            }
            let _ = fs::remove_dir(shard.path());
        }
    }
    // A state file a killed run was making, and states of another format moved aside.
    if let Ok(files) = fs::read_dir(weft_dir) {
        for file in files.filter_map(Result::ok) {
            let name = file.file_name().to_string_lossy().into_owned();
            if name.starts_with(&format!(".{STATE_FILE}.weft-new-")) || state::is_old_state(&name) {
                report.bytes_freed += size_of(&file.path());
                let _ = fs::remove_file(file.path());
            }
        }
    }
    let tmp = weft_dir.join("cache").join("tmp");
    if let Ok(files) = fs::read_dir(&tmp) {
        for file in files.filter_map(Result::ok) {
            report.bytes_freed += size_of(&file.path());
            let _ = remove_any(&file.path());
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_length_prefixed() {
        assert_ne!(tagged(b"t", &[b"ab", b"c"]), tagged(b"t", &[b"a", b"bc"]));
    }

    #[test]
    fn a_directory_digest_matches_the_digest_of_its_stored_tree() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("out");
        fs::create_dir_all(root.join("sub/empty")).expect("dirs");
        fs::write(root.join("a.txt"), "alpha").expect("write");
        fs::write(root.join("sub/b.txt"), "beta").expect("write");
        std::os::unix::fs::symlink("a.txt", root.join("link")).expect("symlink");
        let cache =
            Cache::open(&dir.path().join(".weft"), ResumeOptions::default()).expect("cache");
        let stored = cache
            .store_output(&OutputSlot {
                user_path: root.clone(),
                at: root.clone(),
                is_dir: true,
            })
            .expect("store");
        for mode in [Fingerprint::Full, Fingerprint::Fast] {
            assert_eq!(
                stored.digest(mode),
                Some(cache.hashing.path_digest(&root, mode)),
                "{mode:?}"
            );
        }
        // Restored elsewhere, the tree has the same digest again.
        let copy = dir.path().join("copy");
        cache.materialise(&stored, &copy).expect("restore");
        assert_eq!(
            Hashing::default().path_digest(&copy, Fingerprint::Full),
            Hashing::default().path_digest(&root, Fingerprint::Full)
        );
        assert_eq!(
            Hashing::default().path_digest(&copy.join("sub/b.txt"), Fingerprint::Fast),
            Hashing::default().path_digest(&root.join("sub/b.txt"), Fingerprint::Fast),
            "restored files keep their modification time"
        );
        cache.close();
    }

    #[test]
    fn a_damaged_blob_is_never_restored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("result.txt");
        fs::write(&file, "the right content").expect("write");
        let cache =
            Cache::open(&dir.path().join(".weft"), ResumeOptions::default()).expect("cache");
        let slot = OutputSlot {
            user_path: file.clone(),
            at: file.clone(),
            is_dir: false,
        };
        let stored = cache.store_output(&slot).expect("store");
        let StoredOutput::File(f) = &stored else {
            panic!("a file is stored as a file");
        };
        // The blob is a hard link of the output: changing the output in place damages it.
        let blob = cache.blob_path(&f.blob);
        fs::remove_file(&blob).expect("unlink");
        fs::write(&blob, "something else").expect("damage");
        let entry = Entry {
            task: "t".to_string(),
            created_ms: 0,
            outputs: vec![stored.clone()],
            returned: None,
            out_json: IndexMap::new(),
        };
        let target = dir.path().join("v1").join("result.txt");
        let restored = cache.restore(
            &entry,
            &[OutputSlot {
                user_path: file.clone(),
                at: target.clone(),
                is_dir: false,
            }],
        );
        assert!(restored.is_err(), "a damaged blob is a miss");
        assert!(!target.exists(), "nothing is left half-restored");
        cache.close();
    }

    #[test]
    fn reasons_name_what_changed() {
        let parts = KeyParts {
            fingerprint: Fingerprint::Full,
            source: blake3::hash(b"s"),
            args: blake3::hash(b"a"),
            setting: blake3::hash(b"e"),
            programs: vec![Arc::from("path:/bin/true:1:2")],
            inputs: vec![
                (Arc::from("data/a.txt"), blake3::hash(b"1")),
                (Arc::from("data/b.txt"), blake3::hash(b"2")),
            ],
        };
        assert_eq!(
            parts.change_since(&parts),
            "its earlier result is no longer in the cache"
        );
        let mut changed = parts.clone();
        changed.inputs[1].1 = blake3::hash(b"3");
        assert_eq!(changed.change_since(&parts), "input data/b.txt changed");
        assert_ne!(changed.key(), parts.key());
        let mut both = changed.clone();
        both.inputs[0].1 = blake3::hash(b"4");
        assert_eq!(
            both.change_since(&parts),
            "input data/a.txt changed (and 1 more)"
        );
        let mut body = changed.clone();
        body.source = blake3::hash(b"t");
        assert_eq!(
            body.change_since(&parts),
            "the task's body or directives changed"
        );
        let mut program = parts.clone();
        program.programs[0] = Arc::from("path:/bin/true:1:3");
        assert_eq!(
            program.change_since(&parts),
            "the program `/bin/true` changed"
        );
        let mut fast = parts.clone();
        fast.fingerprint = Fingerprint::Fast;
        assert_ne!(fast.key(), parts.key(), "each mode has keys of its own");
    }

    #[test]
    fn keys_tell_apart_inputs_that_swap_paths_and_digests() {
        let with = |inputs: Vec<(&str, &[u8])>| KeyParts {
            fingerprint: Fingerprint::Full,
            source: blake3::hash(b"s"),
            args: blake3::hash(b"a"),
            setting: blake3::hash(b"e"),
            programs: Vec::new(),
            inputs: inputs
                .into_iter()
                .map(|(p, d)| (Arc::from(p), blake3::hash(d)))
                .collect(),
        };
        let one = with(vec![("a", b"1"), ("b", b"2")]);
        let swapped = with(vec![("a", b"2"), ("b", b"1")]);
        assert_ne!(one.key(), swapped.key());
        assert_eq!(one.key(), with(vec![("a", b"1"), ("b", b"2")]).key());
    }

    #[test]
    fn arguments_are_written_as_a_json_object_in_order() {
        let mut args = IndexMap::new();
        args.insert("n".to_string(), Value::Int(3));
        args.insert("name".to_string(), Value::Str("a \"b\"".into()));
        assert_eq!(
            String::from_utf8(args_json(&args)).expect("utf-8"),
            r#"{"n":3,"name":"a \"b\""}"#
        );
        assert_eq!(args_json(&IndexMap::new()), b"{}");
    }
}
