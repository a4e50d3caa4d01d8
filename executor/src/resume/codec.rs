//! The compact binary form of what the state keeps per stored result: a record holds the
//! entry (outputs, return value, new json values) and the parts of the keys it was stored
//! under, which are what `--explain` and a miss compare against to say why a call runs.
//!
//! Binary rather than JSON because a record is written for every successful attempt: the
//! digests go in as 32 raw bytes (JSON spelt each as 64 hex digits), numbers as LEB128
//! varints, and the parts shared by the two fingerprint modes once. Decoding checks every
//! length: a damaged record reads as nothing, never as a wrong entry.
//!
//! Layout (`v` = varint, `s` = varint length + UTF-8, `h` = 32-byte digest):
//!
//! ```text
//! record   = flags:u8 entry-len:v entry history
//! entry    = created-ms:v task:s outputs:v output* returned json-count:v (name:s json:s)*
//! output   = 0 file | 1 count:v (path:s node)*
//! node     = 0 | 1 file | 2 target:s                      (dir, file, symlink)
//! file     = blob:h size:v executable:u8 mtime-ns:i64le fast:h
//! returned = 0 | 1 json:s
//! history  = modes:v [source:h args:h setting:h inputs:v shown:s* mode*]   (when modes > 0)
//! mode     = fingerprint:u8 (0 programs:v identity:s* | 1 same-programs) digest:h*inputs
//! ```

use std::sync::Arc;

use super::{Entry, Fingerprint, KeyParts, StoredFile, StoredNode, StoredOutput};

/// The record's entry was found damaged: only its history is kept.
const FORGOTTEN: u8 = 1;

/// A stored result as read back.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Record {
    /// The entry's outputs are damaged or gone: it is never a hit, but its history still
    /// explains later misses.
    pub forgotten: bool,
    pub entry: Entry,
    /// The parts of the keys the entry was stored under, the run's own mode first.
    pub history: Vec<KeyParts>,
}

/// The LEB128 bytes of `n`, and how many there are.
fn varint_bytes(mut n: u64) -> ([u8; 10], usize) {
    let mut bytes = [0u8; 10];
    let mut len = 0;
    while n >= 0x80 {
        bytes[len] = (n as u8) | 0x80;
        n >>= 7;
        len += 1;
    }
    bytes[len] = n as u8;
    (bytes, len + 1)
}

struct Encoder(Vec<u8>);

impl Encoder {
    fn byte(&mut self, b: u8) {
        self.0.push(b);
    }

    fn varint(&mut self, n: u64) {
        let (bytes, len) = varint_bytes(n);
        self.0.extend_from_slice(&bytes[..len]);
    }

    fn str(&mut self, s: &str) {
        self.varint(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }

    fn hash(&mut self, h: &blake3::Hash) {
        self.0.extend_from_slice(h.as_bytes());
    }

    /// A blob or fast-fingerprint name, kept as hex in [`StoredFile`]: raw when it is a
    /// digest (always, for what weft writes), else all zeroes, which no content hashes to.
    fn hex_digest(&mut self, hex: &str) {
        let digest = blake3::Hash::from_hex(hex).unwrap_or(blake3::Hash::from_bytes([0; 32]));
        self.hash(&digest);
    }

    fn file(&mut self, f: &StoredFile) {
        self.hex_digest(&f.blob);
        self.varint(f.size);
        self.byte(u8::from(f.executable));
        self.0.extend_from_slice(&f.mtime_ns.to_le_bytes());
        self.hex_digest(&f.fast);
    }

    fn output(&mut self, output: &StoredOutput) {
        match output {
            StoredOutput::File(f) => {
                self.byte(0);
                self.file(f);
            }
            StoredOutput::Dir { tree } => {
                self.byte(1);
                self.varint(tree.len() as u64);
                for (path, node) in tree {
                    self.str(path);
                    match node {
                        StoredNode::Dir => self.byte(0),
                        StoredNode::File(f) => {
                            self.byte(1);
                            self.file(f);
                        }
                        StoredNode::Symlink { target } => {
                            self.byte(2);
                            self.str(target);
                        }
                    }
                }
            }
        }
    }

    fn entry(&mut self, entry: &Entry) {
        self.varint(entry.created_ms);
        self.str(&entry.task);
        self.varint(entry.outputs.len() as u64);
        for output in &entry.outputs {
            self.output(output);
        }
        match &entry.returned {
            Some(value) => {
                self.byte(1);
                self.str(&value.to_string());
            }
            None => self.byte(0),
        }
        self.varint(entry.out_json.len() as u64);
        for (name, value) in &entry.out_json {
            self.str(name);
            self.str(&value.to_string());
        }
    }

    /// The parts of every mode come from one call's shape: its source, arguments, setting
    /// and input paths are the same in each, so they are written once.
    fn history(&mut self, history: &[KeyParts]) {
        self.varint(history.len() as u64);
        let Some(first) = history.first() else {
            return;
        };
        self.hash(&first.source);
        self.hash(&first.args);
        self.hash(&first.setting);
        self.varint(first.inputs.len() as u64);
        for (shown, _) in &first.inputs {
            self.str(shown);
        }
        let mut previous: Option<&[Arc<str>]> = None;
        for parts in history {
            debug_assert!(
                parts.source == first.source
                    && parts.args == first.args
                    && parts.setting == first.setting
                    && parts.inputs.len() == first.inputs.len(),
                "the modes of one history share their call's shape"
            );
            self.byte(match parts.fingerprint {
                Fingerprint::Full => 0,
                Fingerprint::Fast => 1,
            });
            if previous == Some(parts.programs.as_slice()) {
                self.byte(1);
            } else {
                self.byte(0);
                self.varint(parts.programs.len() as u64);
                for program in &parts.programs {
                    self.str(program);
                }
            }
            previous = Some(&parts.programs);
            for (_, digest) in &parts.inputs {
                self.hash(digest);
            }
        }
    }
}

/// The bytes of a record.
pub(super) fn encode_record(entry: &Entry, history: &[KeyParts], forgotten: bool) -> Vec<u8> {
    let mut out = Vec::with_capacity(256);
    encode_record_into(&mut out, entry, history, forgotten);
    out
}

/// Appends the bytes of a record to `out`.
pub(super) fn encode_record_into(
    out: &mut Vec<u8>,
    entry: &Entry,
    history: &[KeyParts],
    forgotten: bool,
) {
    let mut encoder = Encoder(std::mem::take(out));
    encoder.byte(if forgotten { FORGOTTEN } else { 0 });
    // The entry's length goes before it: written after it, then moved into place (a few
    // bytes, where a separate buffer would cost an allocation).
    let entry_start = encoder.0.len();
    encoder.entry(entry);
    let entry_len = encoder.0.len() - entry_start;
    let (len, len_bytes) = varint_bytes(entry_len as u64);
    encoder
        .0
        .splice(entry_start..entry_start, len[..len_bytes].iter().copied());
    encoder.history(history);
    *out = encoder.0;
}

struct Decoder<'a> {
    rest: &'a [u8],
}

impl<'a> Decoder<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.rest.len() {
            return None;
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n: u64 = 0;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    /// A count of items that each take at least one byte: never more than what is left,
    /// so a damaged count cannot make a huge allocation.
    fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.varint()?).ok()?;
        (n <= self.rest.len()).then_some(n)
    }

    fn str(&mut self) -> Option<&'a str> {
        let n = usize::try_from(self.varint()?).ok()?;
        std::str::from_utf8(self.take(n)?).ok()
    }

    fn hash(&mut self) -> Option<blake3::Hash> {
        let bytes: [u8; 32] = self.take(32)?.try_into().ok()?;
        Some(blake3::Hash::from_bytes(bytes))
    }

    fn json(&mut self) -> Option<serde_json::Value> {
        serde_json::from_str(self.str()?).ok()
    }

    fn file(&mut self) -> Option<StoredFile> {
        let blob = self.hash()?.to_hex().to_string();
        let size = self.varint()?;
        let executable = self.byte()? != 0;
        let mtime_ns = i64::from_le_bytes(self.take(8)?.try_into().ok()?);
        let fast = self.hash()?.to_hex().to_string();
        Some(StoredFile {
            blob,
            size,
            executable,
            mtime_ns,
            fast,
        })
    }

    fn output(&mut self) -> Option<StoredOutput> {
        match self.byte()? {
            0 => Some(StoredOutput::File(self.file()?)),
            1 => {
                let count = self.count()?;
                let mut tree = Vec::with_capacity(count);
                for _ in 0..count {
                    let path = self.str()?.to_string();
                    let node = match self.byte()? {
                        0 => StoredNode::Dir,
                        1 => StoredNode::File(self.file()?),
                        2 => StoredNode::Symlink {
                            target: self.str()?.to_string(),
                        },
                        _ => return None,
                    };
                    tree.push((path, node));
                }
                Some(StoredOutput::Dir { tree })
            }
            _ => None,
        }
    }

    fn entry(&mut self) -> Option<Entry> {
        let created_ms = self.varint()?;
        let task = self.str()?.to_string();
        let count = self.count()?;
        let mut outputs = Vec::with_capacity(count);
        for _ in 0..count {
            outputs.push(self.output()?);
        }
        let returned = match self.byte()? {
            0 => None,
            1 => Some(self.json()?),
            _ => return None,
        };
        let count = self.count()?;
        let mut out_json = indexmap::IndexMap::with_capacity(count);
        for _ in 0..count {
            let name = self.str()?.to_string();
            out_json.insert(name, self.json()?);
        }
        Some(Entry {
            task,
            created_ms,
            outputs,
            returned,
            out_json,
        })
    }

    fn history(&mut self) -> Option<Vec<KeyParts>> {
        let modes = self.count()?;
        if modes == 0 {
            return Some(Vec::new());
        }
        let source = self.hash()?;
        let args = self.hash()?;
        let setting = self.hash()?;
        let count = self.count()?;
        let mut shown = Vec::with_capacity(count);
        for _ in 0..count {
            shown.push(Arc::<str>::from(self.str()?));
        }
        let mut history: Vec<KeyParts> = Vec::with_capacity(modes);
        for _ in 0..modes {
            let fingerprint = match self.byte()? {
                0 => Fingerprint::Full,
                1 => Fingerprint::Fast,
                _ => return None,
            };
            let programs = match self.byte()? {
                0 => {
                    let count = self.count()?;
                    let mut programs = Vec::with_capacity(count);
                    for _ in 0..count {
                        programs.push(Arc::<str>::from(self.str()?));
                    }
                    programs
                }
                1 => history.last()?.programs.clone(),
                _ => return None,
            };
            let mut inputs = Vec::with_capacity(shown.len());
            for path in &shown {
                inputs.push((path.clone(), self.hash()?));
            }
            history.push(KeyParts {
                fingerprint,
                source,
                args,
                setting,
                programs,
                inputs,
            });
        }
        Some(history)
    }

    /// The flags, and a decoder of the entry alone; `self` is left at the history.
    fn split(bytes: &'a [u8]) -> Option<(u8, Decoder<'a>, Decoder<'a>)> {
        let mut whole = Decoder { rest: bytes };
        let flags = whole.byte()?;
        let len = usize::try_from(whole.varint()?).ok()?;
        let entry = Decoder {
            rest: whole.take(len)?,
        };
        Some((flags, entry, whole))
    }
}

/// The entry of a record, and whether it is forgotten; `None` when the bytes are damaged.
pub(super) fn decode_entry(bytes: &[u8]) -> Option<(bool, Entry)> {
    let (flags, mut entry, _) = Decoder::split(bytes)?;
    let decoded = entry.entry()?;
    entry.rest.is_empty().then_some(())?;
    Some((flags & FORGOTTEN != 0, decoded))
}

/// The key parts a record keeps; `None` when the bytes are damaged.
pub(super) fn decode_history(bytes: &[u8]) -> Option<Vec<KeyParts>> {
    let (_, _, mut rest) = Decoder::split(bytes)?;
    let history = rest.history()?;
    rest.rest.is_empty().then_some(history)
}

/// A whole record; `None` when the bytes are damaged.
pub(super) fn decode_record(bytes: &[u8]) -> Option<Record> {
    let (forgotten, entry) = decode_entry(bytes)?;
    Some(Record {
        forgotten,
        entry,
        history: decode_history(bytes)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use indexmap::IndexMap;

    fn file(seed: &[u8]) -> StoredFile {
        StoredFile {
            blob: blake3::hash(seed).to_hex().to_string(),
            size: 70_000,
            executable: true,
            mtime_ns: 1_700_000_000_123_456_789,
            fast: blake3::hash(&[seed, b"fast"].concat()).to_hex().to_string(),
        }
    }

    fn entry() -> Entry {
        Entry {
            task: "count".to_string(),
            created_ms: 1_750_000_000_000,
            outputs: vec![
                StoredOutput::File(file(b"x")),
                StoredOutput::Dir {
                    tree: vec![
                        ("sub".to_string(), StoredNode::Dir),
                        ("sub/a".to_string(), StoredNode::File(file(b"a"))),
                        (
                            "link".to_string(),
                            StoredNode::Symlink {
                                target: "sub/a".to_string(),
                            },
                        ),
                    ],
                },
            ],
            returned: Some(serde_json::json!([1, 2.5, "three", {"k": null}])),
            out_json: [("m".to_string(), serde_json::json!({"k": [true]}))]
                .into_iter()
                .collect(),
        }
    }

    fn history() -> Vec<KeyParts> {
        let shared = |fingerprint, digest: &[u8], programs: Vec<Arc<str>>| KeyParts {
            fingerprint,
            source: blake3::hash(b"source"),
            args: blake3::hash(b"args"),
            setting: blake3::hash(b"setting"),
            programs,
            inputs: vec![
                (
                    Arc::from("data/a.txt"),
                    blake3::hash(&[digest, b"a"].concat()),
                ),
                (
                    Arc::from("data/b.txt"),
                    blake3::hash(&[digest, b"b"].concat()),
                ),
            ],
        };
        let programs: Vec<Arc<str>> = vec![Arc::from("path:/bin/sort:10:20")];
        vec![
            shared(Fingerprint::Full, b"full", programs.clone()),
            shared(Fingerprint::Fast, b"fast", programs),
        ]
    }

    #[test]
    fn records_read_back_as_written() {
        for forgotten in [false, true] {
            let bytes = encode_record(&entry(), &history(), forgotten);
            let record = decode_record(&bytes).expect("decodes");
            assert_eq!(
                record,
                Record {
                    forgotten,
                    entry: entry(),
                    history: history(),
                }
            );
        }
    }

    #[test]
    fn programs_differing_between_modes_are_kept_per_mode() {
        let mut parts = history();
        parts[1].programs = vec![Arc::from("file:./tool:abc")];
        let bytes = encode_record(&entry(), &parts, false);
        assert_eq!(decode_history(&bytes), Some(parts));
    }

    #[test]
    fn an_entry_without_outputs_values_or_history_is_a_few_bytes() {
        let bare = Entry {
            task: "nothing".to_string(),
            created_ms: 1_750_000_000_000,
            outputs: Vec::new(),
            returned: None,
            out_json: IndexMap::new(),
        };
        let bytes = encode_record(&bare, &[], false);
        assert!(bytes.len() < 24, "{} bytes", bytes.len());
        assert_eq!(decode_entry(&bytes), Some((false, bare)));
        assert_eq!(decode_history(&bytes), Some(Vec::new()));
    }

    #[test]
    fn damaged_records_read_as_nothing() {
        let bytes = encode_record(&entry(), &history(), false);
        // Every truncation fails: lengths are checked, nothing reads past the end.
        for cut in 0..bytes.len() {
            assert_eq!(decode_record(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert_eq!(decode_history(&longer), None, "trailing bytes");
        // A huge count is refused before anything is allocated for it.
        let mut huge = Encoder(Vec::new());
        huge.byte(0);
        huge.varint(12);
        huge.varint(1);
        huge.str("t");
        huge.varint(u64::MAX >> 1);
        assert_eq!(decode_entry(&huge.0), None);
    }
}
