//! The dependency analysis of LANGUAGE.md §7, in one place for the planner and the runtime.
//!
//! Each datum (a file or directory, by normalised absolute path) has versions. Calls are
//! registered in program order; for each access the tracker answers which earlier tasks the
//! call must wait for (true dependencies only: read after write) and which version it reads
//! and writes. Writers always get a fresh version, so write-after-read and write-after-write
//! never add an edge. Runs of `concurrent` accesses share one version and wait only for the
//! version before the run; runs of `commutative` accesses do the same and are made mutually
//! exclusive by the runtime through their shared `RunId`.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use crate::ast::Direction;

/// A task call's id: its position in program order, from 0.
pub type TaskId = u64;

/// The index of a datum in the tracker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatumId(pub u32);

/// Identifies a run of consecutive `concurrent` or `commutative` accesses to one datum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId {
    pub datum: DatumId,
    pub version: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RunKind {
    Concurrent,
    Commutative,
}

#[derive(Clone, Debug)]
struct Run {
    kind: RunKind,
    /// The producers of the version the run started from: every member waits for them.
    base: Vec<TaskId>,
    members: Vec<TaskId>,
}

#[derive(Clone, Debug)]
struct Datum {
    path: PathBuf,
    /// The current version: 0 is the datum as found on disk before the run.
    version: u32,
    /// The tasks whose completion makes the current version final (none: it is final).
    producers: Vec<TaskId>,
    run: Option<Run>,
    /// Every task that accessed the datum since the body last wrote or deleted it.
    accessors: Vec<TaskId>,
    /// What the body knows about the path's existence: `Some(true)` once a call writes it or
    /// the body writes it, `Some(false)` once deleted, `None` when only the disk can tell.
    exists: Option<bool>,
}

/// What one access of a call resolves to.
#[derive(Clone, Debug, PartialEq)]
pub struct Resolved {
    pub datum: DatumId,
    pub direction: Direction,
    /// The version the task reads (for every direction but `out`).
    pub reads: Option<u32>,
    /// The version the task writes (for every direction but plain reads).
    pub writes: Option<u32>,
    /// Set for `concurrent` and `commutative` accesses: the run the task belongs to.
    pub run: Option<RunId>,
    /// Whether the task is the first member of its run (it prepares the shared version).
    pub opens_run: bool,
}

/// The result of registering one call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Registration {
    /// Earlier tasks this call waits for, without duplicates, in increasing order.
    pub deps: Vec<TaskId>,
    /// One entry per access, in the order given.
    pub accesses: Vec<Resolved>,
}

/// An edge of the task graph: `from` must finish before `to` starts, because `to` reads the
/// version `version` of `datum` that `from` produces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DepEdge {
    pub from: TaskId,
    pub to: TaskId,
    pub datum: DatumId,
    pub version: u32,
}

#[derive(Clone, Debug, Default)]
pub struct Tracker {
    data: Vec<Datum>,
    by_path: HashMap<PathBuf, DatumId>,
    /// Data by the path as the program spelled it, relative to `spelling_base`: programs
    /// name the same files the same way again and again, and normalising a path (an absolute
    /// `PathBuf`, hashed component by component) costs more than the rest of registering a
    /// call. A datum never goes away, so an entry stays right as long as the base does.
    by_spelling: foldhash::HashMap<Spelling, DatumId>,
    spelling_base: PathBuf,
}

impl Tracker {
    pub fn new() -> Tracker {
        Tracker::default()
    }

    /// The datum of a path (relative paths are taken relative to `base`), created on first use.
    pub fn datum(&mut self, base: &Path, path: &str) -> DatumId {
        if let Some(id) = self.spelled(base, path) {
            return id;
        }
        if self.spelling_base.as_os_str() != base.as_os_str() {
            self.by_spelling.clear();
            self.spelling_base = base.to_path_buf();
        }
        let key = normalise(base, path);
        let id = match self.by_path.get(&key) {
            Some(id) => *id,
            None => self.insert(key),
        };
        self.by_spelling.insert(Spelling::new(path), id);
        id
    }

    /// The datum of a spelling already met with the same base.
    fn spelled(&self, base: &Path, path: &str) -> Option<DatumId> {
        if self.spelling_base.as_os_str() == base.as_os_str() {
            self.by_spelling.get(path.as_bytes()).copied()
        } else {
            None
        }
    }

    fn insert(&mut self, key: PathBuf) -> DatumId {
        let id = DatumId(self.data.len() as u32);
        self.data.push(Datum {
            path: key.clone(),
            version: 0,
            producers: Vec::new(),
            run: None,
            accessors: Vec::new(),
            exists: None,
        });
        self.by_path.insert(key, id);
        id
    }

    /// The datum of a path if it was ever used.
    pub fn find(&self, base: &Path, path: &str) -> Option<DatumId> {
        self.spelled(base, path)
            .or_else(|| self.by_path.get(&normalise(base, path)).copied())
    }

    pub fn path(&self, datum: DatumId) -> &Path {
        &self.data[datum.0 as usize].path
    }

    pub fn version(&self, datum: DatumId) -> u32 {
        self.data[datum.0 as usize].version
    }

    /// The tasks that must finish before the current version of `datum` is final.
    pub fn producers(&self, datum: DatumId) -> &[TaskId] {
        &self.data[datum.0 as usize].producers
    }

    /// Every task that used `datum` since the body last wrote or deleted it.
    pub fn accessors(&self, datum: DatumId) -> &[TaskId] {
        &self.data[datum.0 as usize].accessors
    }

    /// Every datum ever used, with its normalised path.
    pub fn data(&self) -> impl Iterator<Item = (DatumId, &Path)> {
        self.data
            .iter()
            .enumerate()
            .map(|(i, d)| (DatumId(i as u32), d.path.as_path()))
    }

    /// What the body can say about the path's existence without waiting (§5 `exists`):
    /// `None` means "whatever the disk says".
    pub fn known_existence(&self, datum: DatumId) -> Option<bool> {
        self.data[datum.0 as usize].exists
    }

    /// Registers a call of `task` making these accesses, in program order.
    pub fn register(&mut self, task: TaskId, accesses: &[(DatumId, Direction)]) -> Registration {
        let mut deps = Vec::new();
        let resolved = accesses
            .iter()
            .map(|&(datum, direction)| self.register_access(task, datum, direction, &mut deps))
            .collect();
        finish_deps(task, &mut deps);
        Registration {
            deps,
            accesses: resolved,
        }
    }

    /// `register`'s dependencies only, into `deps` (cleared first): the planner registers a
    /// million calls and keeps nothing else, so it spares the allocations.
    pub fn register_deps(
        &mut self,
        task: TaskId,
        accesses: &[(DatumId, Direction)],
        deps: &mut Vec<TaskId>,
    ) {
        deps.clear();
        for &(datum, direction) in accesses {
            self.register_access(task, datum, direction, deps);
        }
        finish_deps(task, deps);
    }

    /// Registers one access of `task`, adding the tasks it waits for to `deps`.
    fn register_access(
        &mut self,
        task: TaskId,
        id: DatumId,
        direction: Direction,
        deps: &mut Vec<TaskId>,
    ) -> Resolved {
        let datum = &mut self.data[id.0 as usize];
        datum.accessors.push(task);
        let mut run_id = None;
        let mut opens_run = false;
        let (reads, writes) = match direction {
            Direction::In => {
                deps.extend_from_slice(&datum.producers);
                datum.run = None;
                (Some(datum.version), None)
            }
            Direction::Out => {
                datum.version += 1;
                datum.producers.clear();
                datum.producers.push(task);
                datum.run = None;
                datum.exists = Some(true);
                (None, Some(datum.version))
            }
            Direction::InOut => {
                deps.extend_from_slice(&datum.producers);
                let read = datum.version;
                datum.version += 1;
                datum.producers.clear();
                datum.producers.push(task);
                datum.run = None;
                datum.exists = Some(true);
                (Some(read), Some(datum.version))
            }
            Direction::Concurrent | Direction::Commutative => {
                let kind = if direction == Direction::Concurrent {
                    RunKind::Concurrent
                } else {
                    RunKind::Commutative
                };
                match &mut datum.run {
                    Some(run) if run.kind == kind => {
                        deps.extend_from_slice(&run.base);
                        run.members.push(task);
                        datum.producers.push(task);
                    }
                    _ => {
                        deps.extend_from_slice(&datum.producers);
                        datum.run = Some(Run {
                            kind,
                            base: std::mem::take(&mut datum.producers),
                            members: vec![task],
                        });
                        datum.version += 1;
                        datum.producers = vec![task];
                        opens_run = true;
                    }
                }
                datum.exists = Some(true);
                run_id = Some(RunId {
                    datum: id,
                    version: datum.version,
                });
                (Some(datum.version - 1), Some(datum.version))
            }
        };
        Resolved {
            datum: id,
            direction,
            reads,
            writes,
            run: run_id,
            opens_run,
        }
    }

    /// The body wrote the path itself: a new version, final at once, at the user's path.
    /// The caller has waited for `accessors` first (§7).
    pub fn body_write(&mut self, datum: DatumId) -> u32 {
        let d = &mut self.data[datum.0 as usize];
        d.version += 1;
        d.producers.clear();
        d.run = None;
        d.accessors.clear();
        d.exists = Some(true);
        d.version
    }

    /// The body deleted the path: it is forgotten (a later read starts from a new, missing
    /// version). The caller removes the file once `accessors` are done.
    pub fn body_delete(&mut self, datum: DatumId) -> u32 {
        let d = &mut self.data[datum.0 as usize];
        d.version += 1;
        d.producers.clear();
        d.run = None;
        d.accessors.clear();
        d.exists = Some(false);
        d.version
    }
}

/// A path as the program spelled it, kept inline when short (most are): finding one among
/// thousands then compares bytes already at hand instead of chasing a pointer for each.
#[derive(Clone, Debug)]
enum Spelling {
    Short {
        len: u8,
        bytes: [u8; SHORT_SPELLING],
    },
    Long(Box<[u8]>),
}

const SHORT_SPELLING: usize = 22;

impl Spelling {
    fn new(path: &str) -> Spelling {
        let text = path.as_bytes();
        if text.len() <= SHORT_SPELLING {
            let mut bytes = [0; SHORT_SPELLING];
            bytes[..text.len()].copy_from_slice(text);
            Spelling::Short {
                len: text.len() as u8,
                bytes,
            }
        } else {
            Spelling::Long(text.into())
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Spelling::Short { len, bytes } => &bytes[..usize::from(*len)],
            Spelling::Long(bytes) => bytes,
        }
    }
}

// Hashed and compared as its bytes, so that a map of spellings is searched by `&[u8]`.
impl std::borrow::Borrow<[u8]> for Spelling {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::hash::Hash for Spelling {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for Spelling {
    fn eq(&self, other: &Spelling) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Spelling {}

/// A call's dependencies in increasing order, once each, without the call itself.
fn finish_deps(task: TaskId, deps: &mut Vec<TaskId>) {
    deps.sort_unstable();
    deps.dedup();
    deps.retain(|d| *d != task);
}

/// The absolute, normalised form of a path (`.` and `..` resolved lexically, without touching
/// the file system), relative paths taken from `base`.
pub fn normalise(base: &Path, path: &str) -> PathBuf {
    let joined = if Path::new(path).is_absolute() {
        PathBuf::from(path)
    } else {
        base.join(path)
    };
    let mut out = PathBuf::new();
    for component in joined.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use Direction::*;

    fn setup(paths: &[&str]) -> (Tracker, Vec<DatumId>) {
        let mut t = Tracker::new();
        let ids = paths
            .iter()
            .map(|p| t.datum(Path::new("/run"), p))
            .collect();
        (t, ids)
    }

    #[test]
    fn read_after_write_waits_for_the_writer() {
        let (mut t, d) = setup(&["a"]);
        assert!(t.register(0, &[(d[0], Out)]).deps.is_empty());
        assert_eq!(t.register(1, &[(d[0], In)]).deps, vec![0]);
    }

    #[test]
    fn write_after_read_and_write_after_write_add_no_edge() {
        let (mut t, d) = setup(&["a"]);
        t.register(0, &[(d[0], Out)]);
        t.register(1, &[(d[0], In)]);
        let war = t.register(2, &[(d[0], Out)]);
        assert!(war.deps.is_empty());
        assert_eq!(war.accesses[0].writes, Some(2));
        let waw = t.register(3, &[(d[0], Out)]);
        assert!(waw.deps.is_empty());
        assert_eq!(t.register(4, &[(d[0], In)]).deps, vec![3]);
    }

    #[test]
    fn inout_chains_each_call_to_the_previous_one() {
        let (mut t, d) = setup(&["log"]);
        assert!(t.register(0, &[(d[0], InOut)]).deps.is_empty());
        let second = t.register(1, &[(d[0], InOut)]);
        assert_eq!(second.deps, vec![0]);
        assert_eq!(second.accesses[0].reads, Some(1));
        assert_eq!(second.accesses[0].writes, Some(2));
        assert_eq!(t.register(2, &[(d[0], InOut)]).deps, vec![1]);
    }

    #[test]
    fn concurrent_runs_wait_for_the_writer_before_them_only() {
        let (mut t, d) = setup(&["board"]);
        t.register(0, &[(d[0], Out)]);
        let a = t.register(1, &[(d[0], Concurrent)]);
        let b = t.register(2, &[(d[0], Concurrent)]);
        assert_eq!(a.deps, vec![0]);
        assert_eq!(b.deps, vec![0]);
        assert_eq!(a.accesses[0].run, b.accesses[0].run);
        assert!(a.accesses[0].opens_run && !b.accesses[0].opens_run);
        assert_eq!(t.register(3, &[(d[0], In)]).deps, vec![1, 2]);
    }

    #[test]
    fn commutative_runs_share_a_run_and_the_next_access_waits_for_all() {
        let (mut t, d) = setup(&["acc"]);
        let runs: Vec<_> = (0..4)
            .map(|i| t.register(i, &[(d[0], Commutative)]))
            .collect();
        assert!(runs.iter().all(|r| r.deps.is_empty()));
        assert!(runs
            .iter()
            .all(|r| r.accesses[0].run == runs[0].accesses[0].run));
        assert_eq!(t.register(4, &[(d[0], In)]).deps, vec![0, 1, 2, 3]);
        // A concurrent access after a commutative run starts a new run after all of them.
        assert_eq!(t.register(5, &[(d[0], Concurrent)]).deps, vec![0, 1, 2, 3]);
    }

    #[test]
    fn body_writes_and_deletes_start_over() {
        let (mut t, d) = setup(&["x"]);
        t.register(0, &[(d[0], Out)]);
        assert_eq!(t.accessors(d[0]), &[0]);
        t.body_write(d[0]);
        assert!(t.register(1, &[(d[0], In)]).deps.is_empty());
        t.body_delete(d[0]);
        assert_eq!(t.known_existence(d[0]), Some(false));
    }

    #[test]
    fn spellings_are_remembered_per_base() {
        let mut t = Tracker::new();
        let here = t.datum(Path::new("/run"), "a.txt");
        assert_eq!(t.datum(Path::new("/run"), "a.txt"), here);
        assert_eq!(t.find(Path::new("/run"), "a.txt"), Some(here));
        // The same spelling from another base is another file, and back again the first.
        let there = t.datum(Path::new("/elsewhere"), "a.txt");
        assert_ne!(there, here);
        assert_eq!(t.find(Path::new("/elsewhere"), "a.txt"), Some(there));
        assert_eq!(t.find(Path::new("/run"), "a.txt"), Some(here));
        assert_eq!(t.datum(Path::new("/run"), "a.txt"), here);
        assert_eq!(t.datum(Path::new("/"), "run/x/../a.txt"), here);
        assert_eq!(t.find(Path::new("/run"), "b.txt"), None);
    }

    #[test]
    fn long_and_short_spellings_are_found() {
        let mut t = Tracker::new();
        let long = "a/very/long/directory/name/and/a/file.txt";
        let short = "b.txt";
        let exactly = "c".repeat(SHORT_SPELLING);
        let ids: Vec<_> = [long, short, exactly.as_str()]
            .iter()
            .map(|p| t.datum(Path::new("/run"), p))
            .collect();
        assert_eq!(t.find(Path::new("/run"), long), Some(ids[0]));
        assert_eq!(t.find(Path::new("/run"), short), Some(ids[1]));
        assert_eq!(t.find(Path::new("/run"), &exactly), Some(ids[2]));
        assert_eq!(t.find(Path::new("/run"), "b.tx"), None);
        assert_eq!(Spelling::new(long).as_bytes(), long.as_bytes());
        assert!(matches!(Spelling::new(&exactly), Spelling::Short { .. }));
        assert!(matches!(Spelling::new(long), Spelling::Long(_)));
    }

    #[test]
    fn registering_for_dependencies_only_gives_the_same_dependencies() {
        let calls: Vec<Vec<(usize, Direction)>> = vec![
            vec![(0, Out), (1, Out)],
            vec![(0, In), (1, InOut)],
            vec![(1, Concurrent)],
            vec![(1, Concurrent), (0, In)],
            vec![(1, In), (0, InOut), (0, In)],
            vec![(1, Commutative)],
            vec![(1, In)],
        ];
        let (mut full, d) = setup(&["a", "b"]);
        let (mut lean, _) = setup(&["a", "b"]);
        let mut deps = vec![99];
        for (task, call) in calls.iter().enumerate() {
            let accesses: Vec<_> = call.iter().map(|&(i, dir)| (d[i], dir)).collect();
            let task = task as TaskId;
            lean.register_deps(task, &accesses, &mut deps);
            assert_eq!(deps, full.register(task, &accesses).deps, "call {task}");
        }
        assert_eq!(deps, vec![5]);
    }

    #[test]
    fn paths_are_normalised() {
        let (mut t, d) = setup(&["a/../b.txt"]);
        assert_eq!(t.datum(Path::new("/run"), "./b.txt"), d[0]);
        assert_eq!(t.datum(Path::new("/"), "/run/b.txt"), d[0]);
        assert_eq!(t.path(d[0]), Path::new("/run/b.txt"));
    }
}
