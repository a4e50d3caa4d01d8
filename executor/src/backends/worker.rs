//! `weft worker`: the other end of the ssh and Slurm executors, on the machine that runs
//! the attempts.
//!
//! - [`serve`] (ssh): reads [`ToWorker`] messages, one JSON object per line, and answers with
//!   [`FromWorker`] ones. Attempts run concurrently with [`run_attempt`]; a `Cancel` kills one;
//!   the end of the input (weft gone, the connection lost) kills them all before the worker
//!   exits, so that no task outlives the run that started it.
//! - [`run_attempt_file`] (Slurm): runs the one attempt a file describes and writes its
//!   outcome to another file; SIGTERM (`scancel`, or weft stopping a step) kills it.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use weft_compiler::ast::Type;
use weft_compiler::value::Value;

use crate::attempt::{run_attempt, AttemptOutcome, AttemptSpec};

use super::staging::{self, contained, Incoming, Store};
use super::wire::{
    base64_decode, base64_encode, FromWorker, StagedFile, Staging, ToWorker, WireAttempt,
    WireOutcome, BLOB_CHUNK, PROTOCOL_VERSION,
};

/// How many answers wait to be written before their senders wait: a large output being sent
/// back must not sit in memory whole.
const REPLY_QUEUE: usize = 16;

/// Where a worker keeps the contents staged to it, under its workdir.
pub const WORKER_STORE: &str = ".weft-cache/blake3";

/// The worker's state shared by the tasks that serve messages.
struct Worker {
    workdir: PathBuf,
    store: Store,
    replies: mpsc::Sender<FromWorker>,
    /// Contents being received, by hash.
    incoming: Mutex<HashMap<String, Incoming>>,
    /// Running attempts, by the id weft gave them.
    running: Mutex<HashMap<u64, CancellationToken>>,
}

/// Serves one weft over `input`/`output` until `input` ends. `workdir` is where staged
/// attempts run (created if missing).
pub async fn serve<R, W>(workdir: PathBuf, input: R, output: W) -> Result<(), String>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    std::fs::create_dir_all(&workdir)
        .map_err(|e| format!("cannot create the workdir {}: {e}", workdir.display()))?;
    let workdir = workdir
        .canonicalize()
        .map_err(|e| format!("cannot use the workdir {}: {e}", workdir.display()))?;
    let (replies, outgoing) = mpsc::channel(REPLY_QUEUE);
    let writer = tokio::spawn(write_messages(output, outgoing));
    let worker = Arc::new(Worker {
        store: Store::new(workdir.join(WORKER_STORE)),
        workdir: workdir.clone(),
        replies,
        incoming: Mutex::new(HashMap::new()),
        running: Mutex::new(HashMap::new()),
    });
    let _ = worker
        .replies
        .send(FromWorker::Hello {
            version: PROTOCOL_VERSION,
            hostname: this_hostname(),
            workdir,
        })
        .await;
    let mut attempts = tokio::task::JoinSet::new();
    let mut lines = BufReader::new(input).lines();
    loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                eprintln!("weft worker: cannot read from weft: {e}");
                break;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<ToWorker>(&line) {
            Ok(message) => worker.handle(message, &mut attempts).await,
            Err(e) => {
                let message = format!("a message the worker does not understand: {e}");
                let _ = worker.replies.send(FromWorker::Error { message }).await;
            }
        }
    }
    // weft is gone: nobody will read an outcome, and no task may outlive the run.
    for token in worker
        .running
        .lock()
        .map(|r| r.clone())
        .unwrap_or_default()
        .values()
    {
        token.cancel();
    }
    while attempts.join_next().await.is_some() {}
    drop(worker);
    let _ = writer.await;
    Ok(())
}

async fn write_messages<W: AsyncWrite + Unpin>(
    output: W,
    mut outgoing: mpsc::Receiver<FromWorker>,
) {
    let mut output = tokio::io::BufWriter::new(output);
    while let Some(message) = outgoing.recv().await {
        let Ok(mut line) = serde_json::to_string(&message) else {
            continue;
        };
        line.push('\n');
        if output.write_all(line.as_bytes()).await.is_err() {
            return;
        }
        // Flush only once nothing else is queued: a burst of blobs goes out in large writes.
        if outgoing.is_empty() && output.flush().await.is_err() {
            return;
        }
    }
    let _ = output.flush().await;
}

impl Worker {
    async fn handle(self: &Arc<Self>, message: ToWorker, attempts: &mut tokio::task::JoinSet<()>) {
        match message {
            ToWorker::Have { id, hashes } => {
                let missing = hashes
                    .into_iter()
                    .filter(|h| !self.store.contains(h))
                    .collect();
                let reply = FromWorker::Missing {
                    id,
                    hashes: missing,
                };
                let _ = self.replies.send(reply).await;
            }
            ToWorker::Blob { hash, data, last } => {
                if let Err(message) = self.receive_blob(&hash, &data, last) {
                    let _ = self.replies.send(FromWorker::Error { message }).await;
                }
            }
            ToWorker::Run {
                id,
                attempt,
                staging,
            } => {
                let token = CancellationToken::new();
                if let Ok(mut running) = self.running.lock() {
                    running.insert(id, token.clone());
                }
                let worker = self.clone();
                attempts.spawn(async move {
                    let (outcome, outputs, output_dirs) =
                        worker.run(*attempt, staging, token).await;
                    if let Ok(mut running) = worker.running.lock() {
                        running.remove(&id);
                    }
                    let reply = FromWorker::Outcome {
                        id,
                        outcome: WireOutcome::from_outcome(&outcome),
                        outputs,
                        output_dirs,
                    };
                    let _ = worker.replies.send(reply).await;
                });
            }
            ToWorker::Cancel { id } => {
                if let Some(token) = self.running.lock().ok().and_then(|r| r.get(&id).cloned()) {
                    token.cancel();
                }
            }
            ToWorker::Fetch { id, hashes } => {
                let worker = self.clone();
                // Reading files is blocking work; the replies keep their order on the channel.
                tokio::task::spawn_blocking(move || {
                    for hash in hashes {
                        if let Err(e) = worker.send_blob(&hash) {
                            let _ = worker.replies.blocking_send(FromWorker::Error {
                                message: format!("cannot send content {hash}: {e}"),
                            });
                        }
                    }
                    let _ = worker.replies.blocking_send(FromWorker::Sent { id });
                });
            }
        }
    }

    fn receive_blob(&self, hash: &str, data: &str, last: bool) -> Result<(), String> {
        let bytes = base64_decode(data)?;
        let mut incoming = self
            .incoming
            .lock()
            .map_err(|_| "the worker's state is poisoned".to_string())?;
        if !incoming.contains_key(hash) {
            let started = self
                .store
                .receive(hash)
                .map_err(|e| format!("cannot receive content {hash}: {e}"))?;
            incoming.insert(hash.to_string(), started);
        }
        let entry = incoming.get_mut(hash).expect("inserted above");
        if let Err(e) = entry.write(&bytes) {
            incoming.remove(hash);
            return Err(format!("cannot write content {hash}: {e}"));
        }
        if last {
            let done = incoming.remove(hash).expect("present above");
            self.store
                .finish(done)
                .map_err(|e| format!("cannot store content {hash}: {e}"))?;
        }
        Ok(())
    }

    fn send_blob(&self, hash: &str) -> std::io::Result<()> {
        let mut file = std::fs::File::open(self.store.path(hash))?;
        let mut buffer = vec![0; BLOB_CHUNK];
        loop {
            let read = read_full(&mut file, &mut buffer)?;
            // A short read is the end (an empty last piece when the size is a multiple).
            let last = read < buffer.len();
            let piece = FromWorker::Blob {
                hash: hash.to_string(),
                data: base64_encode(&buffer[..read]),
                last,
            };
            if self.replies.blocking_send(piece).is_err() {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::BrokenPipe,
                    "weft is gone",
                ));
            }
            if last {
                return Ok(());
            }
        }
    }

    /// Runs one attempt, staged or on the shared file system; returns its outcome and, when
    /// staged, the files and directories found at its output paths.
    async fn run(
        &self,
        attempt: WireAttempt,
        staging: Option<Staging>,
        cancel: CancellationToken,
    ) -> (AttemptOutcome, Vec<StagedFile>, Vec<PathBuf>) {
        let failed = |message: String| (AttemptOutcome::Failed { message }, Vec::new(), Vec::new());
        let Some(staging) = staging else {
            return match attempt.into_spec() {
                Ok(spec) => (run_attempt(&spec, cancel).await, Vec::new(), Vec::new()),
                Err(message) => failed(message),
            };
        };
        let spec = match self.prepare_staged(attempt, &staging) {
            Ok(spec) => spec,
            Err(message) => return failed(message),
        };
        let outcome = run_attempt(&spec, cancel).await;
        match self.collect_outputs(&staging.outputs) {
            Ok((files, dirs)) => (outcome, files, dirs),
            Err(message) => failed(message),
        }
    }

    /// Puts a staged attempt's inputs in place and turns its paths into paths of this host.
    fn prepare_staged(
        &self,
        attempt: WireAttempt,
        staging: &Staging,
    ) -> Result<AttemptSpec, String> {
        let root = &self.workdir;
        for dir in &staging.dirs {
            let path = root.join(contained(dir)?);
            std::fs::create_dir_all(&path)
                .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
        }
        for input in &staging.inputs {
            let path = root.join(contained(&input.path)?);
            if !self.store.contains(&input.hash) {
                return Err(format!(
                    "the content of {} ({}) never reached this host",
                    input.path.display(),
                    input.hash
                ));
            }
            self.store
                .copy_out(&input.hash, &path, input.executable)
                .map_err(|e| format!("cannot put {} in place: {e}", path.display()))?;
        }
        for output in &staging.outputs {
            let path = root.join(contained(output)?);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
            }
        }
        let workdir_relative = contained(&attempt.workdir)?;
        let mut spec = attempt.into_spec()?;
        spec.workdir = root.join(&workdir_relative);
        spec.attempt_dir = root.join(contained(&spec.attempt_dir)?);
        // Paths are relative to the run's directory, which is this workdir: when the task runs
        // elsewhere (a `workdir` directive), they become absolute, as they are locally.
        let params = spec.params.clone();
        for param in &params {
            if !matches!(param.ty.ty.innermost(), Type::File | Type::Dir) {
                continue;
            }
            let Some(value) = spec.values.get_mut(&param.name.name) else {
                continue;
            };
            let mut refused = None;
            *value = map_strings(value, &mut |path| match contained(Path::new(path)) {
                Ok(relative) if workdir_relative.as_os_str().is_empty() => {
                    relative.to_string_lossy().into_owned()
                }
                Ok(relative) => root.join(relative).to_string_lossy().into_owned(),
                Err(message) => {
                    refused.get_or_insert(message);
                    path.to_string()
                }
            });
            if let Some(message) = refused {
                return Err(format!("parameter `{}`: {message}", param.name));
            }
        }
        Ok(spec)
    }

    /// Stores what the attempt left at its output paths, to be fetched.
    fn collect_outputs(
        &self,
        outputs: &[PathBuf],
    ) -> Result<(Vec<StagedFile>, Vec<PathBuf>), String> {
        let root = &self.workdir;
        let mut files = Vec::new();
        let mut dirs = Vec::new();
        let store_file = |relative: PathBuf, files: &mut Vec<StagedFile>| {
            let path = root.join(&relative);
            let hash = self
                .store
                .insert_file(&path)
                .map_err(|e| format!("cannot read the output {}: {e}", path.display()))?;
            files.push(StagedFile {
                executable: staging::executable(&path),
                path: relative,
                hash,
            });
            Ok::<_, String>(())
        };
        for output in outputs {
            let relative = contained(output)?;
            let path = root.join(&relative);
            match std::fs::metadata(&path) {
                Ok(meta) if meta.is_dir() => {
                    let (found_files, found_dirs) = staging::walk(&path, root)
                        .map_err(|e| format!("cannot read the output {}: {e}", path.display()))?;
                    dirs.extend(found_dirs);
                    for file in found_files {
                        store_file(file, &mut files)?;
                    }
                }
                Ok(_) => store_file(relative, &mut files)?,
                // Not written: weft's side sees it missing, as it would locally.
                Err(_) => {}
            }
        }
        Ok((files, dirs))
    }
}

/// Reads until `buffer` is full or the file ends.
fn read_full(file: &mut std::fs::File, buffer: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buffer.len() {
        match file.read(&mut buffer[filled..])? {
            0 => break,
            n => filled += n,
        }
    }
    Ok(filled)
}

fn map_strings(value: &Value, replace: &mut impl FnMut(&str) -> String) -> Value {
    match value {
        Value::Str(s) => Value::str(replace(s)),
        Value::List(items) => Value::list(items.iter().map(|v| map_strings(v, replace)).collect()),
        Value::Tuple(items) => Value::Tuple(Arc::new(
            items.iter().map(|v| map_strings(v, replace)).collect(),
        )),
        other => other.clone(),
    }
}

/// This machine's host name.
pub fn this_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_string())
}

// ---------------------------------------------------------------------------------------------
// One attempt from a file (Slurm)

/// Runs the attempt described by the JSON file `attempt` and writes its outcome to `outcome`
/// (through a temporary file: weft reads a whole outcome or none). SIGTERM or SIGINT cancel
/// it. Returns a message when the outcome cannot be written.
pub async fn run_attempt_file(attempt: &Path, outcome: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(attempt)
        .map_err(|e| format!("cannot read {}: {e}", attempt.display()))?;
    let wire: WireAttempt = serde_json::from_str(&text)
        .map_err(|e| format!("{} is not an attempt: {e}", attempt.display()))?;
    let cancel = CancellationToken::new();
    {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            use tokio::signal::unix::{signal, SignalKind};
            let (Ok(mut term), Ok(mut interrupt)) = (
                signal(SignalKind::terminate()),
                signal(SignalKind::interrupt()),
            ) else {
                return;
            };
            tokio::select! {
                _ = term.recv() => {}
                _ = interrupt.recv() => {}
            }
            cancel.cancel();
        });
    }
    let from_slurm_job = wire.nodes.as_ref().is_some_and(|n| n.from_slurm_job);
    let result = match wire.into_spec() {
        Ok(mut spec) => {
            if from_slurm_job {
                if let Some(nodes) = spec.nodes.as_mut() {
                    nodes.hostnames = super::slurm::job_hostnames().await;
                }
            }
            run_attempt(&spec, cancel).await
        }
        Err(message) => AttemptOutcome::Failed { message },
    };
    let text = serde_json::to_string(&WireOutcome::from_outcome(&result))
        .map_err(|e| format!("cannot encode the outcome: {e}"))?;
    let temporary = outcome.with_extension("partial");
    std::fs::write(&temporary, text)
        .and_then(|()| std::fs::rename(&temporary, outcome))
        .map_err(|e| format!("cannot write {}: {e}", outcome.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_are_sent_in_chunks_that_end_once() {
        let dir = tempfile::tempdir().unwrap();
        let (replies, mut received) = mpsc::channel(16);
        let worker = Worker {
            workdir: dir.path().to_path_buf(),
            store: Store::new(dir.path().join("store")),
            replies,
            incoming: Mutex::new(HashMap::new()),
            running: Mutex::new(HashMap::new()),
        };
        let source = dir.path().join("big");
        let content: Vec<u8> = (0..BLOB_CHUNK * 2 + 5).map(|i| i as u8).collect();
        std::fs::write(&source, &content).unwrap();
        let hash = worker.store.insert_file(&source).unwrap();
        worker.send_blob(&hash).unwrap();
        let mut pieces = Vec::new();
        while let Ok(FromWorker::Blob { data, last, .. }) = received.try_recv() {
            pieces.push((base64_decode(&data).unwrap(), last));
        }
        assert_eq!(pieces.len(), 3);
        assert_eq!(
            pieces.iter().map(|(_, last)| *last).collect::<Vec<_>>(),
            [false, false, true]
        );
        let joined: Vec<u8> = pieces.into_iter().flat_map(|(bytes, _)| bytes).collect();
        assert_eq!(joined, content);

        // An empty content is one empty last piece.
        let empty = dir.path().join("empty");
        std::fs::write(&empty, b"").unwrap();
        let hash = worker.store.insert_file(&empty).unwrap();
        worker.send_blob(&hash).unwrap();
        match received.try_recv() {
            Ok(FromWorker::Blob { data, last, .. }) => {
                assert!(data.is_empty());
                assert!(last);
            }
            _ => panic!("expected one blob"),
        }
        assert!(received.try_recv().is_err());
    }
}
