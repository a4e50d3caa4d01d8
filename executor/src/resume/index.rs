//! The state's index: BLAKE3 hash (a key, or a call's identity) → record number.
//!
//! Hashes are random, and redb is a copy-on-write B-tree: a batch of random inserts into
//! one tree copies nearly every leaf, and the tree grows with the state, so a commit would
//! cost more the more results are kept. And redb's work per entry (a descent, a guard, its
//! bookkeeping) is many times what copying a pair's 24 bytes costs. So the index is a small
//! log-structured merge tree whose entries are packed:
//!
//! - A **level** is a sorted run of `(hash, record number)` pairs (the hash's first
//!   [`PREFIX`] bytes, then the number), kept in its own table as **chunks** of hundreds of
//!   pairs. A chunk is stored under its
//!   *fence*: a hash no greater than any of its pairs and greater than every pair of the
//!   chunk before (the first chunk's fence is all zeroes). The pair of a hash, if any, is
//!   in the chunk with the greatest fence not above the hash: one descent and a binary
//!   search per level.
//! - Commits add to **level 0**, the smallest: each chunk a batch touches is rewritten
//!   (split when it grows too big), so a commit costs at most the size of level 0 however
//!   big the index is.
//! - A level that outgrows its capacity is merged with the next one, [`LEVEL_GROWTH`]
//!   times bigger, into a new table written in order, chunk after chunk. A pair is thus
//!   copied a few times per level over its life: the cost per stored result stays flat
//!   (it grows with the number of levels, the logarithm of the index's size).
//! - Lookups read the levels newest first: a hash stored again names its latest record.
//!
//! Pairs are copied as bytes: merging is memory-speed, and redb sees one value per chunk.

use std::collections::HashSet;

use redb::{ReadTransaction, ReadableTable, Table, TableDefinition, WriteTransaction};

/// Bytes of a hash the index keeps: its first half. Two of the hashes stored share it
/// with a chance of one in 2^64 even after 2^32 stores, and a record found by a key is
/// checked against the whole key anyway (see `Snapshot::entry`).
pub(super) const PREFIX: usize = 16;

/// The part of a hash the index keeps.
pub(super) type Prefix = [u8; PREFIX];

/// Bytes of one pair: the hash's prefix, then the record number (little-endian).
const PAIR: usize = PREFIX + 8;

/// Pairs of a chunk written by a merge (15,360 bytes: a chunk and its key fit 16 KiB).
const CHUNK_PAIRS: usize = 640;

/// A chunk of level 0 growing past this many pairs is split into chunks of `CHUNK_PAIRS`.
const CHUNK_SPLIT: usize = 2 * CHUNK_PAIRS;

/// Pairs level 0 holds before it is merged down. A commit of many results touches every
/// chunk of level 0, so this bounds what such a commit rewrites (2.6 MB), and a smaller
/// level 0 is merged down more often: this balances the two for batches of thousands.
const LEVEL0_CAPACITY: u64 = 1 << 16;

/// How much bigger each level is than the one above it.
const LEVEL_GROWTH: u64 = 8;

type LevelTable = TableDefinition<'static, &'static Prefix, &'static [u8]>;

/// The levels, newest first. They exist from `index-0` up to the deepest in use, with no
/// gap: a reader stops at the first missing one.
const LEVELS: [LevelTable; 6] = [
    TableDefinition::new("index-0"),
    TableDefinition::new("index-1"),
    TableDefinition::new("index-2"),
    TableDefinition::new("index-3"),
    TableDefinition::new("index-4"),
    TableDefinition::new("index-5"),
];

/// Where a merge writes the level it makes, renamed into place once done.
const MERGING: LevelTable = TableDefinition::new("index-merging");

/// Level → how many pairs it holds.
const SIZES: TableDefinition<u64, u64> = TableDefinition::new("index-sizes");

/// The fence of a level's first chunk: no hash is below it.
const FIRST_FENCE: Prefix = [0; PREFIX];

type Pair = (Prefix, u64);

/// The part of a hash the index keeps.
pub(super) fn prefix(hash: &[u8; 32]) -> Prefix {
    let mut prefix = [0u8; PREFIX];
    prefix.copy_from_slice(&hash[..PREFIX]);
    prefix
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// How many pairs a level holds before it is merged into the next; the deepest takes all.
fn capacity(level: usize) -> u64 {
    if level + 1 >= LEVELS.len() {
        return u64::MAX;
    }
    (0..level).fold(LEVEL0_CAPACITY, |c, _| c.saturating_mul(LEVEL_GROWTH))
}

fn pair_at(chunk: &[u8], i: usize) -> Pair {
    let bytes = &chunk[i * PAIR..(i + 1) * PAIR];
    let mut hash = [0u8; PREFIX];
    hash.copy_from_slice(&bytes[..PREFIX]);
    let mut number = [0u8; 8];
    number.copy_from_slice(&bytes[PREFIX..]);
    (hash, u64::from_le_bytes(number))
}

fn push_pair(out: &mut Vec<u8>, hash: &Prefix, number: u64) {
    out.extend_from_slice(hash);
    out.extend_from_slice(&number.to_le_bytes());
}

/// The record number of `hash` in a chunk (sorted pairs); a chunk of a length that is not
/// whole pairs is damaged and finds nothing.
fn find_in_chunk(chunk: &[u8], hash: &Prefix) -> Option<u64> {
    if !chunk.len().is_multiple_of(PAIR) {
        return None;
    }
    let (mut low, mut high) = (0, chunk.len() / PAIR);
    while low < high {
        let middle = (low + high) / 2;
        let at = &chunk[middle * PAIR..middle * PAIR + PREFIX];
        match at.cmp(hash.as_slice()) {
            std::cmp::Ordering::Less => low = middle + 1,
            std::cmp::Ordering::Greater => high = middle,
            std::cmp::Ordering::Equal => return Some(pair_at(chunk, middle).1),
        }
    }
    None
}

/// The index as a reader sees it.
pub(super) struct Index {
    levels: Vec<redb::ReadOnlyTable<&'static Prefix, &'static [u8]>>,
}

impl Index {
    pub(super) fn open(read: &ReadTransaction) -> Index {
        let levels = LEVELS
            .iter()
            .map_while(|level| read.open_table(*level).ok())
            .collect();
        Index { levels }
    }

    /// The record a hash names: the newest level that has it says.
    pub(super) fn get(&self, hash: &blake3::Hash) -> Option<u64> {
        let hash = &prefix(hash.as_bytes());
        self.levels.iter().find_map(|level| {
            let (_, chunk) = level.range::<&Prefix>(..=hash).ok()?.next_back()?.ok()?;
            find_in_chunk(chunk.value(), hash)
        })
    }
}

/// Makes the tables of an empty index.
pub(super) fn create(txn: &WriteTransaction) -> Result<(), String> {
    txn.open_table(LEVELS[0]).map_err(text)?;
    txn.open_table(SIZES).map_err(text)?;
    Ok(())
}

fn size_of(txn: &WriteTransaction, level: usize) -> Result<u64, String> {
    let sizes = txn.open_table(SIZES).map_err(text)?;
    let size = sizes
        .get(level as u64)
        .map_err(text)?
        .map_or(0, |s| s.value());
    Ok(size)
}

fn set_size(txn: &WriteTransaction, level: usize, size: u64) -> Result<(), String> {
    let mut sizes = txn.open_table(SIZES).map_err(text)?;
    sizes.insert(level as u64, size).map_err(text)?;
    Ok(())
}

/// Adds `(hash, record)` pairs: a later pair wins over an earlier one with the same hash,
/// and over what the index held. `pairs` is left sorted, without repeated hashes.
pub(super) fn add(txn: &WriteTransaction, pairs: &mut Vec<Pair>) -> Result<(), String> {
    if pairs.is_empty() {
        return Ok(());
    }
    // Sorted, a batch touches each chunk once; stable, the latest of equal hashes is last,
    // and its record replaces the one kept.
    pairs.sort_by_key(|pair| pair.0);
    pairs.dedup_by(|later, kept| {
        let same = later.0 == kept.0;
        if same {
            kept.1 = later.1;
        }
        same
    });
    let added = add_to_level0(txn, pairs)?;
    set_size(txn, 0, size_of(txn, 0)? + added)?;
    for level in 0..LEVELS.len() - 1 {
        if size_of(txn, level)? <= capacity(level) {
            break;
        }
        merge_down(txn, level)?;
    }
    Ok(())
}

/// Merges sorted pairs into level 0's chunks; returns how many hashes are new there.
fn add_to_level0(txn: &WriteTransaction, pairs: &[Pair]) -> Result<u64, String> {
    let mut level0 = txn.open_table(LEVELS[0]).map_err(text)?;
    let mut added = 0;
    let mut start = 0;
    // Room for a chunk as read and as rewritten, kept from one chunk to the next.
    let (mut chunk, mut merged) = (Vec::new(), Vec::new());
    while let Some((hash, _)) = pairs.get(start) {
        // The chunk the hash belongs in (an empty level gets its first), and the fence of
        // the next one, where the pairs this chunk takes end.
        chunk.clear();
        let fence = match level0.range::<&Prefix>(..=hash).map_err(text)?.next_back() {
            Some(item) => {
                let (fence, pairs) = item.map_err(text)?;
                chunk.extend_from_slice(pairs.value());
                *fence.value()
            }
            None => FIRST_FENCE,
        };
        let next_fence = level0
            .range::<&Prefix>((
                std::ops::Bound::Excluded(&fence),
                std::ops::Bound::Unbounded,
            ))
            .map_err(text)?
            .next()
            .transpose()
            .map_err(text)?
            .map(|(f, _)| *f.value());
        let end = match next_fence {
            Some(next) => start + pairs[start..].partition_point(|(h, _)| *h < next),
            None => pairs.len(),
        };
        added += merge_into_chunk(&chunk, &pairs[start..end], &mut merged);
        write_chunk(&mut level0, fence, &merged)?;
        start = end;
    }
    Ok(added)
}

/// Writes to `out` a chunk with `pairs` merged in (theirs win); returns how many of them
/// are new hashes.
fn merge_into_chunk(chunk: &[u8], pairs: &[Pair], out: &mut Vec<u8>) -> u64 {
    let old = chunk.len() / PAIR;
    out.clear();
    out.reserve(chunk.len() + pairs.len() * PAIR);
    let (mut i, mut j, mut new) = (0, 0, 0);
    while i < old || j < pairs.len() {
        let existing = (i < old).then(|| pair_at(chunk, i));
        match (existing, pairs.get(j)) {
            (Some(e), Some(p)) if e.0 == p.0 => {
                push_pair(out, &p.0, p.1);
                i += 1;
                j += 1;
            }
            (Some(e), Some(p)) if e.0 < p.0 => {
                push_pair(out, &e.0, e.1);
                i += 1;
            }
            (Some(e), None) => {
                push_pair(out, &e.0, e.1);
                i += 1;
            }
            (_, Some(p)) => {
                push_pair(out, &p.0, p.1);
                new += 1;
                j += 1;
            }
            (None, None) => break,
        }
    }
    new
}

/// Stores a chunk of level 0 under its fence, split evenly in chunks of at most
/// `CHUNK_PAIRS` when it grew too big (the pieces after the first under their first hash).
fn write_chunk(
    table: &mut Table<&'static Prefix, &'static [u8]>,
    fence: Prefix,
    pairs: &[u8],
) -> Result<(), String> {
    if pairs.len() <= CHUNK_SPLIT * PAIR {
        table.insert(&fence, pairs).map_err(text)?;
        return Ok(());
    }
    let count = pairs.len() / PAIR;
    let per_piece = count.div_ceil(count.div_ceil(CHUNK_PAIRS));
    for (i, piece) in pairs.chunks(per_piece * PAIR).enumerate() {
        let key = if i == 0 { fence } else { pair_at(piece, 0).0 };
        table.insert(&key, piece).map_err(text)?;
    }
    Ok(())
}

/// The pairs of a level, in order.
struct Pairs<'a> {
    chunks: redb::Range<'a, &'static Prefix, &'static [u8]>,
    chunk: Vec<u8>,
    at: usize,
}

impl<'a> Pairs<'a> {
    fn of(table: &'a impl ReadableTable<&'static Prefix, &'static [u8]>) -> Result<Self, String> {
        Ok(Pairs {
            chunks: table.iter().map_err(text)?,
            chunk: Vec::new(),
            at: 0,
        })
    }

    fn next(&mut self) -> Result<Option<Pair>, String> {
        while self.at * PAIR >= self.chunk.len() {
            match self.chunks.next() {
                Some(item) => {
                    let (_, chunk) = item.map_err(text)?;
                    if !chunk.value().len().is_multiple_of(PAIR) {
                        return Err("the state's index is damaged".to_string());
                    }
                    self.chunk.clear();
                    self.chunk.extend_from_slice(chunk.value());
                    self.at = 0;
                }
                None => return Ok(None),
            }
        }
        self.at += 1;
        Ok(Some(pair_at(&self.chunk, self.at - 1)))
    }
}

/// Writes a new level, pair after pair, in chunks of `CHUNK_PAIRS`.
struct LevelWriter {
    chunk: Vec<u8>,
    fence: Prefix,
    pairs: u64,
}

impl LevelWriter {
    fn new() -> LevelWriter {
        LevelWriter {
            chunk: Vec::with_capacity(CHUNK_PAIRS * PAIR),
            fence: FIRST_FENCE,
            pairs: 0,
        }
    }

    fn push(
        &mut self,
        table: &mut Table<&'static Prefix, &'static [u8]>,
        pair: Pair,
    ) -> Result<(), String> {
        if self.chunk.is_empty() && self.pairs > 0 {
            self.fence = pair.0;
        }
        push_pair(&mut self.chunk, &pair.0, pair.1);
        self.pairs += 1;
        if self.chunk.len() == CHUNK_PAIRS * PAIR {
            self.flush(table)?;
        }
        Ok(())
    }

    fn flush(&mut self, table: &mut Table<&'static Prefix, &'static [u8]>) -> Result<(), String> {
        if !self.chunk.is_empty() {
            table
                .insert(&self.fence, self.chunk.as_slice())
                .map_err(text)?;
            self.chunk.clear();
        }
        Ok(())
    }
}

/// Merges sorted levels, given newest first, into `out`: among equal hashes the newest
/// pair wins; pairs whose record `keep` refuses are left out. Returns the pairs written.
fn merge_levels(
    mut levels: Vec<Pairs<'_>>,
    mut keep: impl FnMut(u64) -> bool,
    out: &mut Table<&'static Prefix, &'static [u8]>,
) -> Result<u64, String> {
    let mut writer = LevelWriter::new();
    let mut heads = Vec::with_capacity(levels.len());
    for level in &mut levels {
        heads.push(level.next()?);
    }
    loop {
        // The smallest hash; among equals the newest level's (the first found).
        let mut first: Option<(usize, Pair)> = None;
        for (i, head) in heads.iter().enumerate() {
            if let Some(pair) = head {
                if first.is_none_or(|(_, f)| pair.0 < f.0) {
                    first = Some((i, *pair));
                }
            }
        }
        let Some((from, pair)) = first else {
            break;
        };
        if keep(pair.1) {
            writer.push(out, pair)?;
        }
        for (i, level) in levels.iter_mut().enumerate().skip(from) {
            if heads[i].is_some_and(|(h, _)| h == pair.0) {
                heads[i] = level.next()?;
            }
        }
    }
    writer.flush(out)?;
    Ok(writer.pairs)
}

/// Replaces `level` and `level + 1` by one level at `level + 1` holding both, and an
/// empty `level`.
fn merge_down(txn: &WriteTransaction, level: usize) -> Result<(), String> {
    let (newer, older) = (LEVELS[level], LEVELS[level + 1]);
    txn.delete_table(MERGING).map_err(text)?;
    let merged = {
        let newer_table = txn.open_table(newer).map_err(text)?;
        let older_table = txn.open_table(older).map_err(text)?;
        let mut out = txn.open_table(MERGING).map_err(text)?;
        merge_levels(
            vec![Pairs::of(&newer_table)?, Pairs::of(&older_table)?],
            |_| true,
            &mut out,
        )?
    };
    txn.delete_table(older).map_err(text)?;
    txn.rename_table(MERGING, older).map_err(text)?;
    txn.delete_table(newer).map_err(text)?;
    txn.open_table(newer).map_err(text)?;
    set_size(txn, level, 0)?;
    set_size(txn, level + 1, merged)
}

/// Rewrites the index with only the pairs whose record `keep` accepts, all in one level;
/// returns the records still named.
pub(super) fn rebuild(
    txn: &WriteTransaction,
    mut keep: impl FnMut(u64) -> bool,
) -> Result<HashSet<u64>, String> {
    let mut named = HashSet::new();
    txn.delete_table(MERGING).map_err(text)?;
    let pairs = {
        let tables = LEVELS
            .iter()
            .map(|level| txn.open_table(*level).map_err(text))
            .collect::<Result<Vec<_>, _>>()?;
        let levels = tables
            .iter()
            .map(Pairs::of)
            .collect::<Result<Vec<_>, _>>()?;
        let mut out = txn.open_table(MERGING).map_err(text)?;
        merge_levels(
            levels,
            |n| {
                let kept = keep(n);
                if kept {
                    named.insert(n);
                }
                kept
            },
            &mut out,
        )?
    };
    // The first level big enough takes it all; those above it are empty.
    let home = (0..LEVELS.len())
        .find(|&level| pairs <= capacity(level))
        .unwrap_or(LEVELS.len() - 1);
    for (level, table) in LEVELS.iter().enumerate() {
        txn.delete_table(*table).map_err(text)?;
        if level < home {
            txn.open_table(*table).map_err(text)?;
        }
        set_size(txn, level, 0)?;
    }
    txn.rename_table(MERGING, LEVELS[home]).map_err(text)?;
    set_size(txn, home, pairs)?;
    Ok(named)
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{Database, ReadableDatabase, ReadableTableMetadata};

    fn hash(i: u64) -> [u8; 32] {
        *blake3::hash(&i.to_le_bytes()).as_bytes()
    }

    fn commit(db: &Database, mut pairs: Vec<Pair>) {
        let txn = db.begin_write().expect("txn");
        add(&txn, &mut pairs).expect("add");
        txn.commit().expect("commit");
    }

    fn level_sizes(db: &Database) -> Vec<u64> {
        let txn = db.begin_write().expect("txn");
        let sizes = (0..LEVELS.len())
            .map(|l| size_of(&txn, l).expect("size"))
            .collect();
        txn.abort().expect("abort");
        sizes
    }

    fn get(db: &Database, i: u64) -> Option<u64> {
        Index::open(&db.begin_read().expect("read")).get(&blake3::Hash::from_bytes(hash(i)))
    }

    fn new_db(dir: &tempfile::TempDir) -> Database {
        let db = Database::create(dir.path().join("index.redb")).expect("db");
        let txn = db.begin_write().expect("txn");
        create(&txn).expect("create");
        txn.commit().expect("commit");
        db
    }

    #[test]
    fn pairs_are_found_across_splits_and_merges_and_the_latest_wins() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = new_db(&dir);
        // Level 0 is merged down once, and its chunks split many times.
        let count = 2 * LEVEL0_CAPACITY + 1000;
        let batch = 40_000;
        let mut start = 0;
        while start < count {
            let end = (start + batch).min(count);
            commit(&db, (start..end).map(|i| (prefix(&hash(i)), i)).collect());
            start = end;
        }
        let sizes = level_sizes(&db);
        assert_eq!(sizes.iter().sum::<u64>(), count, "{sizes:?}");
        assert!(sizes[1] > 0 && sizes[0] <= capacity(0), "{sizes:?}");
        // Stored again: in level 0 and level 1 both, the newer wins.
        commit(&db, vec![(prefix(&hash(5)), 1_000_000)]);
        commit(&db, vec![(prefix(&hash(6)), 1), (prefix(&hash(6)), 2)]);
        for i in (0..count).step_by(1009).chain([count - 1]) {
            let expected = match i {
                5 => 1_000_000,
                6 => 2,
                _ => i,
            };
            assert_eq!(get(&db, i), Some(expected), "hash {i}");
        }
        assert_eq!(get(&db, count), None);
        // Hashes 5 and 6 are in level 1 and level 0 until a merge makes them one.
        assert_eq!(level_sizes(&db).iter().sum::<u64>(), count + 2);
    }

    #[test]
    fn small_batches_touch_a_few_chunks_and_find_their_place() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = new_db(&dir);
        for i in 0..3000 {
            commit(&db, vec![(prefix(&hash(i)), i)]);
        }
        let read = db.begin_read().expect("read");
        let level0 = read.open_table(LEVELS[0]).expect("level 0");
        let chunks = level0.len().expect("len");
        assert!(
            // Split when over CHUNK_SPLIT pairs, into chunks of at least a third of that.
            (3000 / CHUNK_SPLIT as u64..=3 * 3000 / CHUNK_SPLIT as u64).contains(&chunks),
            "{chunks} chunks"
        );
        for i in 0..3000 {
            assert_eq!(get(&db, i), Some(i));
        }
    }

    #[test]
    fn merged_levels_are_packed_chunks() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = new_db(&dir);
        let count = LEVEL0_CAPACITY + 1;
        commit(&db, (0..count).map(|i| (prefix(&hash(i)), i)).collect());
        assert_eq!(level_sizes(&db)[..2], [0, count]);
        let read = db.begin_read().expect("read");
        let level1 = read.open_table(LEVELS[1]).expect("level 1");
        assert_eq!(
            level1.len().expect("len"),
            count.div_ceil(CHUNK_PAIRS as u64)
        );
    }

    #[test]
    fn a_rebuild_keeps_what_is_asked_in_one_level() {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = new_db(&dir);
        let count = LEVEL0_CAPACITY + 5000;
        commit(&db, (0..count).map(|i| (prefix(&hash(i)), i)).collect());
        commit(
            &db,
            (0..100).map(|i| (prefix(&hash(i)), i + count)).collect(),
        );
        let txn = db.begin_write().expect("txn");
        let named = rebuild(&txn, |n| n % 2 == 0).expect("rebuild");
        txn.commit().expect("commit");
        // Hashes 0..100 name count+i now: those with an even count+i stay.
        assert!(named.contains(&count) && !named.contains(&0) && !named.contains(&1));
        assert_eq!(get(&db, 0), Some(count));
        assert_eq!(get(&db, 1), None);
        assert_eq!(get(&db, 200), Some(200));
        assert_eq!(get(&db, 201), None);
        let sizes = level_sizes(&db);
        assert_eq!(sizes.iter().filter(|s| **s > 0).count(), 1, "{sizes:?}");
        assert_eq!(sizes.iter().sum::<u64>(), named.len() as u64);
        // Adding after a rebuild goes on as before.
        commit(&db, vec![(prefix(&hash(1)), 7)]);
        assert_eq!(get(&db, 1), Some(7));
    }

    #[test]
    fn damaged_chunks_find_nothing() {
        let mut chunk = Vec::new();
        push_pair(&mut chunk, &prefix(&hash(1)), 1);
        assert_eq!(find_in_chunk(&chunk, &prefix(&hash(1))), Some(1));
        chunk.pop();
        assert_eq!(find_in_chunk(&chunk, &prefix(&hash(1))), None);
    }
}
