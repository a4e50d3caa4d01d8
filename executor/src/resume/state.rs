//! `.weft/state.redb`: the records of stored results and the index that finds them.
//!
//! **Why this layout.** A run stores a result per successful attempt. redb is a
//! copy-on-write B-tree: a commit copies every page it touches, so what a commit touches
//! must not grow with the state.
//!
//! - `records` (record number → [`codec`] bytes) is keyed by a number that only grows:
//!   a batch appends at the right edge of the tree, whatever the state's size.
//! - The [`index`] (key or call identity → record number) takes the random hashes: see
//!   there how it keeps a commit's cost flat.
//! - `last-used` (record number → milliseconds) says when a run last reused a record, for
//!   `weft clean`; a record's own creation time counts as a use.
//! - `meta` holds the format: a state of another format is moved aside and a new one made
//!   (a cache: losing it costs only reruns).
//!
//! A record keeps its entry and the parts of its keys. A call identity's index entry
//! names its latest record, whose parts say why a later key differs. A record whose
//! outputs were found damaged is *forgotten*: its outputs are dropped, never restored, but
//! its parts still explain.
//!
//! Writes go through one thread, which gathers what runs hand over for up to
//! [`BATCH_WINDOW`] (or [`BATCH_OPS`] operations) into one transaction: a result is kept
//! once its commit returns, and a kill loses at most the batch being gathered.

use std::collections::{BTreeSet, HashMap};
use std::fs;
use std::io;
use std::ops::{Bound, Range};
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use redb::{
    Database, Durability, ReadOnlyTable, ReadableDatabase, ReadableTable, TableDefinition,
    TableError,
};

use super::index::{self, Index, Prefix, PREFIX};
use super::{codec, now_ms, sibling, Entry, KeyParts};

/// Changes whenever the tables or the records change shape.
const FORMAT: u64 = 2;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const FORMAT_NAME: &str = "format";
const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("records");
const LAST_USED: TableDefinition<u64, u64> = TableDefinition::new("last-used");

/// Memory redb keeps pages of the state in (its default is a gibibyte). A run reads little
/// of the state back: level merges read each page once, lookups a few pages each; the
/// system's file cache holds the rest.
const CACHE_BYTES: usize = 128 << 20;

fn database(path: &Path) -> Result<Database, redb::DatabaseError> {
    Database::builder().set_cache_size(CACHE_BYTES).create(path)
}

/// How long the writer gathers results into one commit.
const BATCH_WINDOW: Duration = Duration::from_millis(250);

/// A batch this big is committed without waiting for the window to end.
const BATCH_OPS: usize = 50_000;

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

// ---------------------------------------------------------------------------------------------
// Opening
// ---------------------------------------------------------------------------------------------

/// What an opened file holds.
enum Found {
    Current,
    /// No table at all: a database made by something else than weft, or by a weft killed
    /// before it wrote anything.
    Empty,
    /// Tables of another format (an older weft's).
    Other,
}

fn found(db: &Database) -> Result<Found, String> {
    let read = db.begin_read().map_err(text)?;
    match read.open_table(META) {
        Ok(meta) => Ok(match meta.get(FORMAT_NAME).map_err(text)? {
            Some(format) if format.value() == FORMAT => Found::Current,
            _ => Found::Other,
        }),
        Err(TableError::TableDoesNotExist(_)) => {
            if read.list_tables().map_err(text)?.next().is_none() {
                Ok(Found::Empty)
            } else {
                Ok(Found::Other)
            }
        }
        Err(TableError::TableTypeMismatch { .. }) => Ok(Found::Other),
        Err(e) => Err(text(e)),
    }
}

/// Writes the format record of a new state.
fn initialise(db: &Database) -> Result<(), String> {
    let txn = db.begin_write().map_err(text)?;
    {
        let mut meta = txn.open_table(META).map_err(text)?;
        meta.insert(FORMAT_NAME, FORMAT).map_err(text)?;
        txn.open_table(RECORDS).map_err(text)?;
    }
    index::create(&txn)?;
    txn.commit().map_err(text)
}

/// Whether a state file can be read as this format (what `--explain` asks before reading).
pub(super) fn is_current<D: ReadableDatabase>(db: &D) -> bool {
    let Ok(read) = db.begin_read() else {
        return false;
    };
    read.open_table(META)
        .ok()
        .and_then(|meta| meta.get(FORMAT_NAME).ok().flatten().map(|f| f.value()))
        == Some(FORMAT)
}

/// What a state file of another format is renamed with: `state.redb.old-MILLISECONDS`.
const OLD: &str = "old";

/// Whether a file of `.weft/` is a state of another format moved aside: nothing reads
/// it any more, and `weft clean` removes it. (A damaged one is kept for a look.)
pub(super) fn is_old_state(name: &str) -> bool {
    name.strip_prefix(super::STATE_FILE)
        .and_then(|rest| rest.strip_prefix(&format!(".{OLD}-")))
        .is_some_and(|ms| !ms.is_empty() && ms.bytes().all(|b| b.is_ascii_digit()))
}

/// Moves a state file that cannot be used aside.
fn move_aside(path: &Path, what: &str, why: &str) -> Result<(), String> {
    let aside = path.with_extension(format!("redb.{what}-{}", now_ms()));
    fs::rename(path, &aside).map_err(|e| format!("cannot open {}: {why}; {e}", path.display()))?;
    eprintln!(
        "weft: {} {why}; moved to {} and starting afresh",
        path.display(),
        aside.display()
    );
    Ok(())
}

/// Opens (or creates) the state database. A damaged file that redb cannot repair, or one
/// of another format, is moved aside and a fresh one made, so a run never fails for its
/// cache.
pub(super) fn open_state(path: &Path) -> Result<Database, String> {
    if !path.exists() {
        return create_state(path);
    }
    match database(path) {
        Ok(db) => match found(&db) {
            Ok(Found::Current) => Ok(db),
            Ok(Found::Empty) => {
                initialise(&db)?;
                Ok(db)
            }
            Ok(Found::Other) => {
                drop(db);
                move_aside(path, OLD, "was made by another version of weft")?;
                create_state(path)
            }
            Err(e) => {
                drop(db);
                move_aside(path, "damaged", &format!("could not be read ({e})"))?;
                create_state(path)
            }
        },
        Err(redb::DatabaseError::DatabaseAlreadyOpen) => Err(format!(
            "{} is in use by another weft run in this directory",
            path.display()
        )),
        Err(first) => {
            move_aside(path, "damaged", &format!("could not be opened ({first})"))?;
            create_state(path)
        }
    }
}

/// Makes a new state database beside `path` and puts it there in one step: a run killed
/// while redb lays out a new file leaves no half-made database behind.
fn create_state(path: &Path) -> Result<Database, String> {
    let fresh = sibling(path, "new");
    let _ = fs::remove_file(&fresh);
    let made = database(&fresh)
        .map_err(|e| format!("cannot create {}: {e}", fresh.display()))
        .and_then(|db| initialise(&db).map(|()| db));
    let db = match made {
        Ok(db) => db,
        Err(e) => {
            let _ = fs::remove_file(&fresh);
            return Err(e);
        }
    };
    // A link, not a rename: it fails instead of replacing a database another run made
    // meanwhile (the open file, and its lock, follow the inode either way).
    let linked = fs::hard_link(&fresh, path);
    let _ = fs::remove_file(&fresh);
    match linked {
        Ok(()) => Ok(db),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            drop(db);
            open_state(path)
        }
        Err(e) => Err(format!("cannot create {}: {e}", path.display())),
    }
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/// A consistent view of the state: what was committed when it was taken.
pub(super) struct Snapshot {
    index: Index,
    records: ReadOnlyTable<u64, &'static [u8]>,
}

impl Snapshot {
    /// `None` when the state cannot be read (or has no records table: it is not weft's).
    pub(super) fn of<D: ReadableDatabase>(db: &D) -> Option<Snapshot> {
        let read = db.begin_read().ok()?;
        let records = read.open_table(RECORDS).ok()?;
        Some(Snapshot {
            index: Index::open(&read),
            records,
        })
    }

    /// The entry a key names, with its record number; a forgotten entry is none. The
    /// record must have been stored under that very key (the index keeps only part of
    /// each hash, and a damaged index could name another record): else it is a miss.
    pub(super) fn entry(&self, key: &blake3::Hash) -> Option<(u64, Entry)> {
        let n = self.index.get(key)?;
        let bytes = self.records.get(n).ok()??;
        let stored_under = codec::decode_history(bytes.value())?;
        if !stored_under.iter().any(|parts| parts.key() == *key) {
            return None;
        }
        match codec::decode_entry(bytes.value())? {
            (false, entry) => Some((n, entry)),
            (true, _) => None,
        }
    }

    /// The parts of the keys a call identity was last stored under.
    pub(super) fn history(&self, identity: &blake3::Hash) -> Option<Vec<KeyParts>> {
        let n = self.index.get(identity)?;
        let bytes = self.records.get(n).ok()??;
        codec::decode_history(bytes.value())
    }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// What the writer thread does, in batches of one transaction each.
pub(super) enum WriteOp {
    /// A new record, found by each of its keys; it becomes the latest of `identity`. The
    /// keys (32 bytes each) and the record are bytes of the batch's buffer.
    Store {
        keys: Range<usize>,
        identity: [u8; 32],
        record: Range<usize>,
    },
    /// A run reused these records (number, when): they stay for `weft clean`.
    Touch(Vec<(u64, u64)>),
    /// The record's outputs are damaged: it is never restored again.
    Forget(u64),
}

/// Operations handed over and not committed yet. Stores put their bytes in one buffer, and
/// the writer gives emptied batches back: in a steady run, handing a result over
/// allocates nothing.
#[derive(Default)]
pub(super) struct Batch {
    ops: Vec<WriteOp>,
    bytes: Vec<u8>,
}

impl Batch {
    /// A batch with room for a few thousand results.
    fn with_room() -> Batch {
        Batch {
            ops: Vec::with_capacity(4096),
            bytes: Vec::with_capacity(1 << 20),
        }
    }

    /// Adds a store: `encode` appends the record's bytes.
    pub(super) fn store(
        &mut self,
        keys: &[blake3::Hash],
        identity: &blake3::Hash,
        encode: impl FnOnce(&mut Vec<u8>),
    ) {
        let start = self.bytes.len();
        for key in keys {
            self.bytes.extend_from_slice(key.as_bytes());
        }
        let keys_end = self.bytes.len();
        encode(&mut self.bytes);
        self.ops.push(WriteOp::Store {
            keys: start..keys_end,
            identity: *identity.as_bytes(),
            record: keys_end..self.bytes.len(),
        });
    }

    fn push(&mut self, op: WriteOp) {
        self.ops.push(op);
    }

    fn len(&self) -> usize {
        self.ops.len()
    }

    fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    fn clear(&mut self) {
        self.ops.clear();
        self.bytes.clear();
    }

    /// Whether committing it must wait for the disk: stores and forgets must last, touches
    /// alone need not (losing one only makes `weft clean` less generous).
    fn durable(&self) -> bool {
        self.ops
            .iter()
            .any(|op| matches!(op, WriteOp::Store { .. } | WriteOp::Forget(_)))
    }
}

#[derive(Default)]
struct Pending {
    batch: Batch,
    closed: bool,
}

#[derive(Default)]
struct Queue {
    pending: Mutex<Pending>,
    /// Wakes the writer: the first operation of a batch, a full batch, or the end.
    wake: Condvar,
}

/// The thread that commits what a run hands over.
pub(super) struct Writer {
    queue: Arc<Queue>,
    thread: Mutex<Option<std::thread::JoinHandle<Vec<String>>>>,
}

impl Writer {
    pub(super) fn start(db: Arc<Database>) -> Result<Writer, String> {
        let queue = Arc::new(Queue::default());
        let writing = queue.clone();
        let thread = std::thread::Builder::new()
            .name("weft-cache-writer".to_string())
            .spawn(move || write_loop(&db, &writing))
            .map_err(|e| format!("cannot start the cache writer: {e}"))?;
        Ok(Writer {
            queue,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Adds to the open batch; nothing once the writer is closed. Costs a lock: the writer
    /// is woken only when a batch starts or fills up.
    fn add(&self, add: impl FnOnce(&mut Batch)) {
        let Ok(mut pending) = self.queue.pending.lock() else {
            return;
        };
        if pending.closed {
            return;
        }
        add(&mut pending.batch);
        let len = pending.batch.len();
        drop(pending);
        if len == 1 || len == BATCH_OPS {
            self.queue.wake.notify_one();
        }
    }

    /// Hands a store over: see [`Batch::store`].
    pub(super) fn store(
        &self,
        keys: &[blake3::Hash],
        identity: &blake3::Hash,
        encode: impl FnOnce(&mut Vec<u8>),
    ) {
        self.add(|batch| batch.store(keys, identity, encode));
    }

    /// Hands a touch or a forget over.
    pub(super) fn send(&self, op: WriteOp) {
        self.add(|batch| batch.push(op));
    }

    /// Waits until every operation handed over is committed; returns the problems met.
    pub(super) fn close(&self) -> Vec<String> {
        if let Ok(mut pending) = self.queue.pending.lock() {
            pending.closed = true;
        }
        self.queue.wake.notify_one();
        let thread = self.thread.lock().ok().and_then(|mut t| t.take());
        thread
            .map(|t| {
                t.join()
                    .unwrap_or_else(|_| vec!["the cache writer stopped".to_string()])
            })
            .unwrap_or_default()
    }
}

/// Commits batches until the writer is closed: a result is kept once its commit returns.
fn write_loop(db: &Database, queue: &Queue) -> Vec<String> {
    let mut problems = Vec::new();
    let mut touched_lightly = false;
    // The batch being committed; emptied, it is the next one to fill. Both batches are
    // first allocated here: glibc grows a buffer in the arena it was allocated in, so
    // these stay in the writer's, whatever thread fills them. (In the arena of a thread
    // that frees many small things, freeing a big buffer makes glibc sweep all of them at
    // once: a second of this thread's time at the end of a million calls.)
    let mut batch = Batch::with_room();
    if let Ok(mut pending) = queue.pending.lock() {
        if pending.batch.ops.capacity() == 0 {
            pending.batch = Batch::with_room();
        }
    }
    let mut pairs = Vec::new();
    loop {
        {
            let Ok(mut pending) = queue.pending.lock() else {
                problems.push("the cache writer's queue is unusable".to_string());
                break;
            };
            while pending.batch.is_empty() && !pending.closed {
                pending = match queue.wake.wait(pending) {
                    Ok(p) => p,
                    Err(_) => return problems,
                };
            }
            if pending.batch.is_empty() {
                break;
            }
            // Whatever arrives within the window joins the batch: one commit (and one disk
            // sync) for many results. A kill in the window costs only reruns.
            let window = Instant::now() + BATCH_WINDOW;
            while !pending.closed && pending.batch.len() < BATCH_OPS {
                let left = window.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                pending = match queue.wake.wait_timeout(pending, left) {
                    Ok((p, _)) => p,
                    Err(_) => return problems,
                };
            }
            std::mem::swap(&mut pending.batch, &mut batch);
        }
        let durable = batch.durable();
        touched_lightly |= !durable;
        if let Err(e) = commit_batch(db, &batch, durable, &mut pairs) {
            problems.push(e);
        }
        batch.clear();
    }
    // Makes the touches committed without durability durable too.
    if touched_lightly {
        if let Err(e) = commit_batch(db, &Batch::default(), true, &mut pairs) {
            problems.push(e);
        }
    }
    problems
}

/// Commits a batch; `pairs` is room for its index entries, kept from one commit to the next.
fn commit_batch(
    db: &Database,
    batch: &Batch,
    durable: bool,
    pairs: &mut Vec<(Prefix, u64)>,
) -> Result<(), String> {
    let mut txn = db.begin_write().map_err(text)?;
    if !durable {
        txn.set_durability(Durability::None).map_err(text)?;
    }
    pairs.clear();
    {
        let mut records = txn.open_table(RECORDS).map_err(text)?;
        let first = match records.last().map_err(text)? {
            Some((n, _)) => n.value() + 1,
            None => 1,
        };
        // New records go at the right edge, in order: pages filled and never revisited.
        let mut next = first;
        {
            let mut end = records
                .upper_bound_mut(Bound::<u64>::Unbounded)
                .map_err(text)?;
            for op in &batch.ops {
                let WriteOp::Store {
                    keys,
                    identity,
                    record,
                } = op
                else {
                    continue;
                };
                for key in batch.bytes[keys.clone()].chunks_exact(32) {
                    let mut prefix = [0u8; PREFIX];
                    prefix.copy_from_slice(&key[..PREFIX]);
                    pairs.push((prefix, next));
                }
                pairs.push((index::prefix(identity), next));
                end.insert_before(next, &batch.bytes[record.clone()])
                    .map_err(text)?;
                next += 1;
            }
            end.close().map_err(text)?;
        }
        let mut touches: Vec<(u64, u64)> = Vec::new();
        let mut forgotten: Vec<u64> = Vec::new();
        for op in &batch.ops {
            match op {
                WriteOp::Store { .. } => {}
                WriteOp::Touch(batch) => touches.extend_from_slice(batch),
                WriteOp::Forget(n) => forgotten.push(*n),
            }
        }
        for n in forgotten {
            let Some(record) = records
                .get(n)
                .map_err(text)?
                .and_then(|b| codec::decode_record(b.value()))
            else {
                continue;
            };
            let mut entry = record.entry;
            entry.outputs.clear();
            let bytes = codec::encode_record(&entry, &record.history, true);
            records.insert(n, bytes.as_slice()).map_err(text)?;
        }
        if !touches.is_empty() {
            touches.sort_unstable();
            let mut used = txn.open_table(LAST_USED).map_err(text)?;
            for (n, ms) in touches {
                used.insert(n, ms).map_err(text)?;
            }
        }
    }
    index::add(&txn, pairs)?;
    txn.commit().map_err(text)
}

// ---------------------------------------------------------------------------------------------
// weft clean
// ---------------------------------------------------------------------------------------------

/// What [`sweep`] left.
#[derive(Debug, Default)]
pub(super) struct Swept {
    pub removed: usize,
    pub kept: usize,
    /// The blobs the kept records name.
    pub blobs: BTreeSet<String>,
}

/// Removes the records last stored or reused before `cutoff_ms`, and those nothing finds
/// any more (every key of theirs names a later record); rebuilds the index without them.
pub(super) fn sweep(db: &mut Database, cutoff_ms: u64) -> Result<Swept, String> {
    let mut swept = Swept::default();
    let txn = db.begin_write().map_err(text)?;
    {
        let mut records = txn.open_table(RECORDS).map_err(text)?;
        let mut used = txn.open_table(LAST_USED).map_err(text)?;
        // The blobs of each record recent enough to stay (if something still finds it).
        let mut recent: HashMap<u64, Vec<String>> = HashMap::new();
        let mut total = 0;
        for item in records.iter().map_err(text)? {
            let (n, bytes) = item.map_err(text)?;
            let n = n.value();
            total += 1;
            // A damaged record is as old as can be.
            let Some((forgotten, entry)) = codec::decode_entry(bytes.value()) else {
                continue;
            };
            let reused = used.get(n).map_err(text)?.map_or(0, |v| v.value());
            if entry.created_ms.max(reused) < cutoff_ms {
                continue;
            }
            let blobs = if forgotten {
                Vec::new()
            } else {
                entry
                    .outputs
                    .iter()
                    .flat_map(|o| o.blobs())
                    .map(str::to_string)
                    .collect()
            };
            recent.insert(n, blobs);
        }
        let found = index::rebuild(&txn, |n| recent.contains_key(&n))?;
        records.retain(|n, _| found.contains(&n)).map_err(text)?;
        used.retain(|n, _| found.contains(&n)).map_err(text)?;
        swept.kept = found.len();
        swept.removed = total - swept.kept;
        for n in &found {
            if let Some(blobs) = recent.remove(n) {
                swept.blobs.extend(blobs);
            }
        }
    }
    txn.commit().map_err(text)?;
    Ok(swept)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resume::Fingerprint;
    use indexmap::IndexMap;

    /// The key parts of call `i` in a mode.
    fn parts(i: u64, fingerprint: Fingerprint) -> KeyParts {
        KeyParts {
            fingerprint,
            source: blake3::hash(b"source"),
            args: blake3::hash(&i.to_le_bytes()),
            setting: blake3::hash(b"setting"),
            programs: Vec::new(),
            inputs: Vec::new(),
        }
    }

    fn key(i: u64) -> blake3::Hash {
        parts(i, Fingerprint::Full).key()
    }

    fn fast_key(i: u64) -> blake3::Hash {
        parts(i, Fingerprint::Fast).key()
    }

    fn identity(i: u64) -> blake3::Hash {
        blake3::hash(format!("identity {i}").as_bytes())
    }

    /// A record of call `i`, stored under its keys in both modes.
    fn record(task: &str, i: u64) -> Vec<u8> {
        let entry = Entry {
            task: task.to_string(),
            created_ms: now_ms(),
            outputs: Vec::new(),
            returned: Some(serde_json::json!(task)),
            out_json: IndexMap::new(),
        };
        let history = [parts(i, Fingerprint::Full), parts(i, Fingerprint::Fast)];
        codec::encode_record(&entry, &history, false)
    }

    fn returned(snapshot: &Snapshot, key: &blake3::Hash) -> Option<serde_json::Value> {
        snapshot.entry(key).and_then(|(_, e)| e.returned)
    }

    fn store(i: u64, task: &str) -> impl FnOnce(&mut Batch) + '_ {
        move |batch| {
            batch.store(&[key(i), fast_key(i)], &identity(i), |out| {
                out.extend_from_slice(&record(task, i))
            })
        }
    }

    type Op<'a> = Box<dyn FnOnce(&mut Batch) + 'a>;

    fn commit(db: &Database, ops: Vec<Op<'_>>) {
        let mut batch = Batch::default();
        for op in ops {
            op(&mut batch);
        }
        commit_batch(db, &batch, batch.durable(), &mut Vec::new()).expect("commit");
    }

    fn op(op: WriteOp) -> Op<'static> {
        Box::new(move |batch| batch.push(op))
    }

    #[test]
    fn the_writer_commits_what_it_was_handed_before_it_closes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = Arc::new(open_state(&dir.path().join("state.redb")).expect("state"));
        let writer = Writer::start(db.clone()).expect("writer");
        for i in 0..1000 {
            writer.store(&[key(i), fast_key(i)], &identity(i), |out| {
                out.extend_from_slice(&record(&format!("t{i}"), i))
            });
        }
        assert!(writer.close().is_empty());
        writer.store(&[key(5000)], &identity(5000), |out| {
            out.extend_from_slice(&record("late", 5000))
        });
        let snapshot = Snapshot::of(&*db).expect("snapshot");
        for i in [0, 999] {
            let expected = Some(serde_json::json!(format!("t{i}")));
            assert_eq!(returned(&snapshot, &key(i)), expected);
            assert_eq!(returned(&snapshot, &fast_key(i)), expected);
        }
        assert!(
            snapshot.entry(&key(5000)).is_none(),
            "a store after close is dropped"
        );
    }

    #[test]
    fn a_record_is_found_only_by_a_key_it_was_stored_under() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open_state(&dir.path().join("state.redb")).expect("state");
        // Indexed under key 1, but its parts are those of call 2: as a damaged index would
        // name it.
        commit(
            &db,
            vec![Box::new(|batch: &mut Batch| {
                batch.store(&[key(1)], &identity(1), |out| {
                    out.extend_from_slice(&record("t", 2))
                })
            })],
        );
        let snapshot = Snapshot::of(&db).expect("snapshot");
        assert!(snapshot.entry(&key(1)).is_none());
        assert!(snapshot.history(&identity(1)).is_some());
    }

    #[test]
    fn a_forgotten_record_is_no_hit_but_still_explains() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open_state(&dir.path().join("state.redb")).expect("state");
        commit(&db, vec![Box::new(store(1, "t")), Box::new(store(2, "u"))]);
        let (n, _) = Snapshot::of(&db)
            .and_then(|s| s.entry(&key(1)))
            .expect("stored");
        commit(&db, vec![op(WriteOp::Forget(n))]);
        let snapshot = Snapshot::of(&db).expect("snapshot");
        assert!(snapshot.entry(&key(1)).is_none());
        assert!(snapshot.history(&identity(1)).is_some());
        assert!(snapshot.entry(&key(2)).is_some());
    }

    #[test]
    fn sweep_keeps_recent_and_reused_records_and_drops_unreachable_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut db = open_state(&dir.path().join("state.redb")).expect("state");
        commit(
            &db,
            vec![Box::new(store(1, "old")), Box::new(store(2, "reused"))],
        );
        let reused = Snapshot::of(&db)
            .and_then(|s| s.entry(&key(2)))
            .expect("stored")
            .0;
        std::thread::sleep(Duration::from_millis(5));
        let cutoff = now_ms();
        std::thread::sleep(Duration::from_millis(5));
        // Key 3 is stored twice: the first record is unreachable.
        commit(
            &db,
            vec![Box::new(store(3, "first")), Box::new(store(3, "second"))],
        );
        commit(&db, vec![op(WriteOp::Touch(vec![(reused, now_ms())]))]);
        let swept = sweep(&mut db, cutoff).expect("sweep");
        assert_eq!((swept.removed, swept.kept), (2, 2));
        let snapshot = Snapshot::of(&db).expect("snapshot");
        assert!(snapshot.entry(&key(1)).is_none());
        assert!(snapshot.history(&identity(1)).is_none());
        assert_eq!(
            returned(&snapshot, &key(2)),
            Some(serde_json::json!("reused"))
        );
        assert_eq!(
            returned(&snapshot, &key(3)),
            Some(serde_json::json!("second"))
        );
        // Stores after a sweep find their place in the rebuilt index.
        commit(&db, vec![Box::new(store(4, "later"))]);
        let snapshot = Snapshot::of(&db).expect("snapshot");
        assert_eq!(
            returned(&snapshot, &key(4)),
            Some(serde_json::json!("later"))
        );
        assert_eq!(
            returned(&snapshot, &key(2)),
            Some(serde_json::json!("reused"))
        );
    }

    #[test]
    fn only_states_set_aside_for_their_format_count_as_old() {
        assert!(is_old_state("state.redb.old-1750000000000"));
        for name in [
            "state.redb",
            "state.redb.old-",
            "state.redb.old-12x",
            "state.redb.damaged-1750000000000",
            "other.redb.old-1750000000000",
            ".state.redb.weft-new-42",
        ] {
            assert!(!is_old_state(name), "{name}");
        }
    }

    #[test]
    fn a_state_of_another_format_is_moved_aside() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("state.redb");
        {
            let db = Database::create(&path).expect("db");
            let txn = db.begin_write().expect("txn");
            {
                // What weft wrote before there was a format record.
                let old: TableDefinition<&[u8], &[u8]> = TableDefinition::new("entries");
                txn.open_table(old)
                    .expect("table")
                    .insert(b"k".as_slice(), b"{}".as_slice())
                    .expect("insert");
            }
            txn.commit().expect("commit");
        }
        let db = open_state(&path).expect("opens anyway");
        assert!(is_current(&db));
        drop(db);
        let aside: Vec<String> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("state.redb.old-"))
            .collect();
        assert_eq!(aside.len(), 1, "{aside:?}");
    }
}
