//! `.weft/state.redb`: the records of stored results and the index that finds them.
//!
//! **Why this layout.** A run stores a result per successful attempt, and the keys that
//! find results are BLAKE3 hashes: random. redb is a copy-on-write B-tree, so a commit
//! copies every page it touches, and a batch of random inserts into one big tree touches
//! nearly every leaf: the cost of a commit would grow with the state, and a run of a
//! million calls would spend most of its time copying pages. So:
//!
//! - `records` (record number → [`codec`] bytes) is keyed by a number that only grows:
//!   a batch appends at the right edge of the tree, whatever the state's size.
//! - The index (key or call identity → record number) is a small log-structured merge
//!   tree: random inserts go to `index-0`, a table kept small, so a commit copies a
//!   bounded number of pages; when a level outgrows its capacity it is merged with the
//!   next one, [`LEVEL_GROWTH`] times bigger, into a new table written in key order. Each
//!   index entry is thus rewritten a few times per level (amortised, not per commit), and
//!   a lookup reads at most one table per level, newest first.
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

use std::collections::{BTreeSet, HashMap, HashSet};
use std::fs;
use std::io;
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use redb::{
    Database, Durability, ReadOnlyTable, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition, TableError, WriteTransaction,
};

use super::codec;
use super::{now_ms, sibling, Entry, KeyParts};

/// Changes whenever the tables or the records change shape.
const FORMAT: u64 = 2;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const FORMAT_NAME: &str = "format";
const RECORDS: TableDefinition<u64, &[u8]> = TableDefinition::new("records");
const LAST_USED: TableDefinition<u64, u64> = TableDefinition::new("last-used");

type IndexTable = TableDefinition<'static, &'static [u8; 32], u64>;

/// The index's levels, newest first. They exist from `index-0` up to the deepest in use,
/// with no gap, so a reader stops at the first missing one.
const LEVELS: [IndexTable; 6] = [
    TableDefinition::new("index-0"),
    TableDefinition::new("index-1"),
    TableDefinition::new("index-2"),
    TableDefinition::new("index-3"),
    TableDefinition::new("index-4"),
    TableDefinition::new("index-5"),
];

/// Where a merge writes the level it makes, renamed into place once done.
const MERGING: IndexTable = TableDefinition::new("index-merging");

/// Index entries `index-0` holds before it is merged down: small enough that a commit of
/// random keys copies a few hundred pages at most.
const LEVEL0_CAPACITY: u64 = 1 << 15;

/// How much bigger each level is than the one above it.
const LEVEL_GROWTH: u64 = 8;

/// How long the writer gathers results into one commit.
const BATCH_WINDOW: Duration = Duration::from_millis(250);

/// A batch this big is committed without waiting for the window to end.
const BATCH_OPS: usize = 50_000;

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// How many index entries a level holds before it is merged into the next; the deepest
/// level takes everything.
fn capacity(level: usize) -> u64 {
    if level + 1 >= LEVELS.len() {
        return u64::MAX;
    }
    (0..level).fold(LEVEL0_CAPACITY, |c, _| c.saturating_mul(LEVEL_GROWTH))
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
        txn.open_table(LEVELS[0]).map_err(text)?;
    }
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

/// Moves a state file that cannot be used aside, keeping it for a look.
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
    match Database::create(path) {
        Ok(db) => match found(&db) {
            Ok(Found::Current) => Ok(db),
            Ok(Found::Empty) => {
                initialise(&db)?;
                Ok(db)
            }
            Ok(Found::Other) => {
                drop(db);
                move_aside(path, "old", "was made by another version of weft")?;
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
    let made = Database::create(&fresh)
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
    /// The index's levels, newest first.
    levels: Vec<ReadOnlyTable<&'static [u8; 32], u64>>,
    records: ReadOnlyTable<u64, &'static [u8]>,
}

impl Snapshot {
    /// `None` when the state cannot be read (or has no records table: it is not weft's).
    pub(super) fn of<D: ReadableDatabase>(db: &D) -> Option<Snapshot> {
        let read = db.begin_read().ok()?;
        let records = read.open_table(RECORDS).ok()?;
        let mut levels = Vec::with_capacity(LEVELS.len());
        for level in LEVELS {
            match read.open_table(level) {
                Ok(table) => levels.push(table),
                Err(_) => break,
            }
        }
        Some(Snapshot { levels, records })
    }

    /// The record a key or call identity names.
    fn number(&self, hash: &blake3::Hash) -> Option<u64> {
        self.levels
            .iter()
            .find_map(|level| level.get(hash.as_bytes()).ok().flatten())
            .map(|n| n.value())
    }

    /// The entry a key names, with its record number; a forgotten entry is none.
    pub(super) fn entry(&self, key: &blake3::Hash) -> Option<(u64, Entry)> {
        let n = self.number(key)?;
        let bytes = self.records.get(n).ok()??;
        match codec::decode_entry(bytes.value())? {
            (false, entry) => Some((n, entry)),
            (true, _) => None,
        }
    }

    /// The parts of the keys a call identity was last stored under.
    pub(super) fn history(&self, identity: &blake3::Hash) -> Option<Vec<KeyParts>> {
        let n = self.number(identity)?;
        let bytes = self.records.get(n).ok()??;
        codec::decode_history(bytes.value())
    }
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

/// What the writer thread does, in batches of one transaction each.
pub(super) enum WriteOp {
    /// A new record, found by each of `keys`; it becomes the latest of `identity`.
    Store {
        keys: Vec<blake3::Hash>,
        identity: blake3::Hash,
        record: Vec<u8>,
    },
    /// A run reused these records (number, when): they stay for `weft clean`.
    Touch(Vec<(u64, u64)>),
    /// The record's outputs are damaged: it is never restored again.
    Forget(u64),
}

#[derive(Default)]
struct Pending {
    ops: Vec<WriteOp>,
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

    /// Hands an operation over; dropped once the writer is closed. Costs a lock and a push:
    /// the writer is woken only when a batch starts or fills up.
    pub(super) fn send(&self, op: WriteOp) {
        let Ok(mut pending) = self.queue.pending.lock() else {
            return;
        };
        if pending.closed {
            return;
        }
        pending.ops.push(op);
        let len = pending.ops.len();
        drop(pending);
        if len == 1 || len == BATCH_OPS {
            self.queue.wake.notify_one();
        }
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

/// Commits batches until the writer is closed: stores durably (a result is kept once its
/// commit returns), touches alone without waiting for the disk (losing one only makes
/// `weft clean` less generous).
fn write_loop(db: &Database, queue: &Queue) -> Vec<String> {
    let mut problems = Vec::new();
    let mut touched_lightly = false;
    loop {
        let batch = {
            let Ok(mut pending) = queue.pending.lock() else {
                problems.push("the cache writer's queue is unusable".to_string());
                break;
            };
            while pending.ops.is_empty() && !pending.closed {
                pending = match queue.wake.wait(pending) {
                    Ok(p) => p,
                    Err(_) => return problems,
                };
            }
            if pending.ops.is_empty() {
                break;
            }
            // Whatever arrives within the window joins the batch: one commit (and one disk
            // sync) for many results. A kill in the window costs only reruns.
            let window = Instant::now() + BATCH_WINDOW;
            while !pending.closed && pending.ops.len() < BATCH_OPS {
                let left = window.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                pending = match queue.wake.wait_timeout(pending, left) {
                    Ok((p, _)) => p,
                    Err(_) => return problems,
                };
            }
            std::mem::take(&mut pending.ops)
        };
        let durable = batch
            .iter()
            .any(|op| matches!(op, WriteOp::Store { .. } | WriteOp::Forget(_)));
        touched_lightly |= !durable;
        if let Err(e) = commit_batch(db, batch, durable) {
            problems.push(e);
        }
    }
    // Makes the touches committed without durability durable too.
    if touched_lightly {
        if let Err(e) = commit_batch(db, Vec::new(), true) {
            problems.push(e);
        }
    }
    problems
}

fn commit_batch(db: &Database, batch: Vec<WriteOp>, durable: bool) -> Result<(), String> {
    let mut txn = db.begin_write().map_err(text)?;
    if !durable {
        txn.set_durability(Durability::None).map_err(text)?;
    }
    let mut index: Vec<([u8; 32], u64)> = Vec::new();
    {
        let mut records = txn.open_table(RECORDS).map_err(text)?;
        let mut next = match records.last().map_err(text)? {
            Some((n, _)) => n.value() + 1,
            None => 1,
        };
        let mut stored: Vec<(u64, Vec<u8>)> = Vec::new();
        let mut touches: Vec<(u64, u64)> = Vec::new();
        let mut forgotten: Vec<u64> = Vec::new();
        for op in batch {
            match op {
                WriteOp::Store {
                    keys,
                    identity,
                    record,
                } => {
                    for key in keys {
                        index.push((*key.as_bytes(), next));
                    }
                    index.push((*identity.as_bytes(), next));
                    stored.push((next, record));
                    next += 1;
                }
                WriteOp::Touch(batch) => touches.extend(batch),
                WriteOp::Forget(n) => forgotten.push(n),
            }
        }
        // New records go at the right edge, in order: pages filled and never revisited.
        if !stored.is_empty() {
            let mut end = records
                .upper_bound_mut(Bound::<u64>::Unbounded)
                .map_err(text)?;
            for (n, record) in &stored {
                end.insert_before(n, record.as_slice()).map_err(text)?;
            }
            end.close().map_err(text)?;
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
    add_to_index(&txn, index)?;
    txn.commit().map_err(text)
}

/// Puts `(hash, record)` pairs into the index: later pairs win over earlier ones with the
/// same hash, and over what the index held.
fn add_to_index(txn: &WriteTransaction, mut pairs: Vec<([u8; 32], u64)>) -> Result<(), String> {
    if pairs.is_empty() {
        return Ok(());
    }
    // Sorted, a batch touches each leaf once; stable, the latest of equal hashes is last.
    pairs.sort_by_key(|pair| pair.0);
    {
        let mut level0 = txn.open_table(LEVELS[0]).map_err(text)?;
        for (i, (hash, n)) in pairs.iter().enumerate() {
            if pairs.get(i + 1).is_some_and(|next| next.0 == *hash) {
                continue;
            }
            level0.insert(hash, n).map_err(text)?;
        }
    }
    for (level, table) in LEVELS.iter().enumerate().take(LEVELS.len() - 1) {
        let len = txn.open_table(*table).map_err(text)?.len().map_err(text)?;
        if len <= capacity(level) {
            break;
        }
        merge_down(txn, level)?;
    }
    Ok(())
}

/// Merges sorted runs of index entries in key order; among equal keys the entry of the
/// earliest run wins (runs are given newest first). `keep` filters, `emit` receives.
fn merge_runs<'a>(
    runs: Vec<redb::Range<'a, &'static [u8; 32], u64>>,
    mut keep: impl FnMut(u64) -> bool,
    mut emit: impl FnMut(&[u8; 32], u64) -> Result<(), String>,
) -> Result<(), String> {
    let mut runs = runs;
    let next = |run: &mut redb::Range<'a, &'static [u8; 32], u64>| {
        run.next()
            .transpose()
            .map(|item| item.map(|(k, v)| (*k.value(), v.value())))
            .map_err(text)
    };
    let mut heads: Vec<Option<([u8; 32], u64)>> = Vec::with_capacity(runs.len());
    for run in &mut runs {
        heads.push(next(run)?);
    }
    loop {
        let Some((first, (hash, n))) = heads
            .iter()
            .enumerate()
            .filter_map(|(i, head)| head.map(|h| (i, h)))
            .min_by(|(i, a), (j, b)| a.0.cmp(&b.0).then(i.cmp(j)))
        else {
            return Ok(());
        };
        if keep(n) {
            emit(&hash, n)?;
        }
        for (i, run) in runs.iter_mut().enumerate().skip(first) {
            if heads[i].is_some_and(|(h, _)| h == hash) {
                heads[i] = next(run)?;
            }
        }
    }
}

/// Replaces `level` and `level + 1` by one table at `level + 1` holding both, and an empty
/// `level`.
fn merge_down(txn: &WriteTransaction, level: usize) -> Result<(), String> {
    let newer = LEVELS[level];
    let older = LEVELS[level + 1];
    txn.delete_table(MERGING).map_err(text)?;
    {
        let newer_table = txn.open_table(newer).map_err(text)?;
        let older_table = txn.open_table(older).map_err(text)?;
        let mut merged = txn.open_table(MERGING).map_err(text)?;
        let mut end = merged
            .upper_bound_mut(Bound::<&[u8; 32]>::Unbounded)
            .map_err(text)?;
        merge_runs(
            vec![
                newer_table.iter().map_err(text)?,
                older_table.iter().map_err(text)?,
            ],
            |_| true,
            |hash, n| end.insert_before(hash, n).map_err(text),
        )?;
        end.close().map_err(text)?;
    }
    txn.delete_table(older).map_err(text)?;
    txn.rename_table(MERGING, older).map_err(text)?;
    txn.delete_table(newer).map_err(text)?;
    txn.open_table(newer).map_err(text)?;
    Ok(())
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
        let mut levels = Vec::new();
        for level in LEVELS {
            match txn.open_table(level) {
                Ok(table) => levels.push(table),
                Err(e) => return Err(text(e)),
            }
        }
        let mut found: HashSet<u64> = HashSet::new();
        let mut entries = 0u64;
        txn.delete_table(MERGING).map_err(text)?;
        {
            let mut merged = txn.open_table(MERGING).map_err(text)?;
            let mut end = merged
                .upper_bound_mut(Bound::<&[u8; 32]>::Unbounded)
                .map_err(text)?;
            let runs = levels
                .iter()
                .map(|l| l.iter().map_err(text))
                .collect::<Result<Vec<_>, _>>()?;
            merge_runs(
                runs,
                |n| recent.contains_key(&n),
                |hash, n| {
                    found.insert(n);
                    entries += 1;
                    end.insert_before(hash, n).map_err(text)
                },
            )?;
            end.close().map_err(text)?;
        }
        drop(levels);
        // The rebuilt index goes to the first level big enough for it; those above are
        // empty.
        let home = (0..LEVELS.len())
            .find(|&l| entries <= capacity(l))
            .unwrap_or(LEVELS.len() - 1);
        for (l, level) in LEVELS.iter().enumerate() {
            txn.delete_table(*level).map_err(text)?;
            if l < home {
                txn.open_table(*level).map_err(text)?;
            }
        }
        txn.rename_table(MERGING, LEVELS[home]).map_err(text)?;
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
    use indexmap::IndexMap;

    fn record(task: &str) -> Vec<u8> {
        let entry = Entry {
            task: task.to_string(),
            created_ms: now_ms(),
            outputs: Vec::new(),
            returned: Some(serde_json::json!(task)),
            out_json: IndexMap::new(),
        };
        codec::encode_record(&entry, &[], false)
    }

    fn key(i: u64) -> blake3::Hash {
        blake3::hash(&i.to_le_bytes())
    }

    fn identity(i: u64) -> blake3::Hash {
        blake3::hash(format!("identity {i}").as_bytes())
    }

    fn returned(snapshot: &Snapshot, key: &blake3::Hash) -> Option<serde_json::Value> {
        snapshot.entry(key).and_then(|(_, e)| e.returned)
    }

    fn store(i: u64, task: &str) -> WriteOp {
        WriteOp::Store {
            keys: vec![key(i)],
            identity: identity(i),
            record: record(task),
        }
    }

    fn level_sizes(db: &Database) -> Vec<u64> {
        let read = db.begin_read().expect("read");
        LEVELS
            .iter()
            .map_while(|l| read.open_table(*l).ok())
            .map(|t| t.len().expect("len"))
            .collect()
    }

    #[test]
    fn the_index_finds_every_record_across_merges_and_the_latest_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open_state(&dir.path().join("state.redb")).expect("state");
        // Enough keys for index-0 to be merged down several times and index-1 once.
        let count = LEVEL0_CAPACITY * (LEVEL_GROWTH + 2) / 2;
        let per_batch = 10_000;
        let mut start = 0;
        while start < count {
            let batch = (start..(start + per_batch).min(count))
                .map(|i| store(i, &format!("t{i}")))
                .collect();
            commit_batch(&db, batch, false).expect("commit");
            start += per_batch;
        }
        let sizes = level_sizes(&db);
        assert!(sizes.len() >= 3, "merged down twice: {sizes:?}");
        assert!(sizes[0] <= capacity(0), "{sizes:?}");
        // The same key stored again names the new record, wherever the old one is.
        commit_batch(&db, vec![store(7, "again")], true).expect("commit");
        let snapshot = Snapshot::of(&db).expect("snapshot");
        for i in (0..count).step_by(997) {
            let expected = if i == 7 { "again" } else { &format!("t{i}") };
            assert_eq!(
                returned(&snapshot, &key(i)),
                Some(serde_json::json!(expected)),
                "key {i}"
            );
        }
        assert_eq!(
            returned(&snapshot, &key(7)),
            Some(serde_json::json!("again"))
        );
        assert!(snapshot.entry(&key(count + 1)).is_none());
        assert!(snapshot.history(&identity(3)).is_some());
    }

    #[test]
    fn merged_levels_are_packed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open_state(&dir.path().join("state.redb")).expect("state");
        let count = LEVEL0_CAPACITY + 1;
        let batch = (0..count).map(|i| store(i, "t")).collect();
        commit_batch(&db, batch, false).expect("commit");
        assert_eq!(level_sizes(&db), vec![0, 2 * count]);
        let read = db.begin_read().expect("read");
        let stats = read
            .open_table(LEVELS[1])
            .expect("level 1")
            .stats()
            .expect("stats");
        // 40 bytes a pair: a 4 KiB page holds about a hundred; half-full pages would be
        // twice as many.
        let pages_if_packed = 2 * count * 40 / 4096;
        assert!(
            stats.leaf_pages() < pages_if_packed * 5 / 4,
            "{} leaf pages for {} entries",
            stats.leaf_pages(),
            2 * count
        );
    }

    #[test]
    fn a_forgotten_record_is_no_hit_but_still_explains() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = open_state(&dir.path().join("state.redb")).expect("state");
        commit_batch(&db, vec![store(1, "t"), store(2, "u")], true).expect("commit");
        let (n, _) = Snapshot::of(&db)
            .and_then(|s| s.entry(&key(1)))
            .expect("stored");
        commit_batch(&db, vec![WriteOp::Forget(n)], true).expect("forget");
        let snapshot = Snapshot::of(&db).expect("snapshot");
        assert!(snapshot.entry(&key(1)).is_none());
        assert!(snapshot.history(&identity(1)).is_some());
        assert!(snapshot.entry(&key(2)).is_some());
    }

    #[test]
    fn sweep_keeps_recent_and_reused_records_and_drops_unreachable_ones() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut db = open_state(&dir.path().join("state.redb")).expect("state");
        commit_batch(&db, vec![store(1, "old"), store(2, "reused")], true).expect("commit");
        let reused = Snapshot::of(&db)
            .and_then(|s| s.entry(&key(2)))
            .expect("stored")
            .0;
        std::thread::sleep(Duration::from_millis(5));
        let cutoff = now_ms();
        std::thread::sleep(Duration::from_millis(5));
        // Key 3 is stored twice: the first record is unreachable.
        commit_batch(&db, vec![store(3, "first"), store(3, "second")], true).expect("commit");
        commit_batch(&db, vec![WriteOp::Touch(vec![(reused, now_ms())])], false).expect("touch");
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
        commit_batch(&db, vec![store(4, "later")], true).expect("commit");
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
