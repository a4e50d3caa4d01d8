//! The `ssh` executor (§8.1): attempts run on the configured hosts, each through one
//! `weft worker` started over the system's OpenSSH client.
//!
//! The client runs in BatchMode (never a prompt) with the user's keys and `~/.ssh/config`,
//! and multiplexes (`ControlMaster`): everything weft says to a host goes over one
//! connection. The worker is started when the host gets its first attempt; attempts,
//! cancellations and staged files travel as JSON lines on its standard input and output
//! ([`super::wire`]).
//!
//! A host whose connection ends (the host died, the network or sshd went away, ssh's
//! keep-alives went unanswered) is lost for the rest of the run: its running attempts end
//! as failures the dispatcher recognises through [`Launcher::is_lost`] and runs again
//! elsewhere without counting them as retries.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, oneshot, OnceCell};
use tokio_util::sync::CancellationToken;
use weft_compiler::config::{ResourceSpec, SshHost};

use crate::attempt::{AttemptOutcome, AttemptSpec};
use crate::launch::{Launcher, Placement, Running};
use crate::template::shell_quote;

use super::staging::{stage_attempt, Incoming, StagedAttempt, Store};
use super::wire::{
    base64_decode, base64_encode, FromWorker, StagedFile, ToWorker, WireAttempt, WireOutcome,
    BLOB_CHUNK, PROTOCOL_VERSION,
};

/// How long a host has to answer once ssh is started (connection, login, worker start).
const HELLO_TIMEOUT: Duration = Duration::from_secs(60);

/// How many messages wait to go to a worker before senders wait: a large file being staged
/// must not sit in memory whole.
const OUTGOING_QUEUE: usize = 16;

/// Where weft keeps the contents it staged or fetched, under the run directory.
pub const LOCAL_STORE: &str = ".weft/cache/blake3";

pub struct SshLauncher {
    hosts: HashMap<String, Arc<Host>>,
    /// The run's directory: a staging host's workdir stands for it.
    run_dir: PathBuf,
    store: Store,
    next_id: AtomicU64,
}

/// One configured host and its connection, made on first use.
struct Host {
    config: SshHost,
    connection: OnceCell<Result<Arc<Connection>, String>>,
    lost: AtomicBool,
}

impl SshLauncher {
    pub fn new(hosts: &[SshHost], run_dir: PathBuf) -> SshLauncher {
        SshLauncher {
            hosts: hosts
                .iter()
                .map(|config| {
                    (
                        config.host.clone(),
                        Arc::new(Host {
                            config: config.clone(),
                            connection: OnceCell::new(),
                            lost: AtomicBool::new(false),
                        }),
                    )
                })
                .collect(),
            store: Store::new(run_dir.join(LOCAL_STORE)),
            run_dir,
            next_id: AtomicU64::new(1),
        }
    }
}

impl Launcher for SshLauncher {
    fn launch(
        &self,
        spec: AttemptSpec,
        placement: Placement,
        cancel: CancellationToken,
    ) -> Running {
        // A multi-node attempt runs on its first host; the others are reserved for it and
        // named in WEFT_HOSTNAMES.
        let host = placement
            .nodes
            .first()
            .and_then(|node| self.hosts.get(&node.name))
            .cloned();
        let run_dir = self.run_dir.clone();
        let store = self.store.clone();
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        // Attempt files are written and staged files hashed: off the dispatcher's loop.
        crate::launch::on_worker(async move {
            let Some(host) = host else {
                return AttemptOutcome::Failed {
                    message: "internal error: an attempt placed on no ssh host".to_string(),
                };
            };
            let connection = match host.connect(store.clone()).await {
                Ok(connection) => connection,
                Err(message) => {
                    host.lost.store(true, Ordering::SeqCst);
                    return AttemptOutcome::Failed { message };
                }
            };
            let outcome = connection
                .run(id, &spec, &run_dir, &store, host.config.staging, cancel)
                .await;
            if connection.closed.is_cancelled() {
                host.lost.store(true, Ordering::SeqCst);
            }
            outcome
        })
    }

    fn is_lost(&self, resource: &ResourceSpec) -> bool {
        self.hosts
            .get(&resource.name)
            .is_some_and(|host| host.lost.load(Ordering::SeqCst))
    }
}

impl Host {
    async fn connect(&self, store: Store) -> Result<Arc<Connection>, String> {
        self.connection
            .get_or_init(|| async { Connection::open(&self.config, store).await.map(Arc::new) })
            .await
            .clone()
    }
}

/// The ssh command that starts a worker on `host`.
pub fn ssh_command(host: &SshHost) -> Command {
    let mut command = Command::new("ssh");
    command.arg("-T");
    for option in [
        "BatchMode=yes",
        "ControlMaster=auto",
        "ControlPersist=60",
        "ServerAliveInterval=5",
        "ServerAliveCountMax=3",
        "ConnectTimeout=20",
    ] {
        command.arg("-o").arg(option);
    }
    command
        .arg("-o")
        .arg(format!("ControlPath={}/%C", control_dir().display()));
    // Only what the configuration says: anything else comes from ~/.ssh/config.
    if host.port != 22 {
        command.arg("-p").arg(host.port.to_string());
    }
    if let Some(user) = &host.user {
        command.arg("-l").arg(user);
    }
    let weft = host.weft.as_deref().unwrap_or("weft");
    let workdir = host.workdir.as_deref().unwrap_or(".");
    // The remote side runs a shell command line: every word is quoted for it. Without
    // SSH_CLIENT, the tasks' bash does not take itself for a shell run by sshd (which reads
    // ~/.bashrc, under `set -u` too).
    let remote = [
        "exec",
        "env",
        "-u",
        "SSH_CLIENT",
        "-u",
        "SSH2_CLIENT",
        weft,
        "worker",
        "--workdir",
        workdir,
    ]
    .iter()
    .map(|word| shell_quote(word))
    .collect::<Vec<_>>()
    .join(" ");
    command.arg(&host.host).arg("--").arg(remote);
    command
}

/// The directory of ssh's multiplexing sockets: private to the user, and short, since a
/// socket path is limited to about a hundred bytes.
fn control_dir() -> PathBuf {
    use std::os::unix::fs::MetadataExt;
    let uid = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("weft-ssh-{uid}"));
    if std::fs::create_dir_all(&dir).is_ok() {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    }
    dir
}

/// What a worker answers to one request.
enum Reply {
    Missing(Vec<String>),
    Sent,
    Outcome {
        outcome: WireOutcome,
        outputs: Vec<StagedFile>,
        output_dirs: Vec<PathBuf>,
    },
}

/// One worker, over one ssh connection.
struct Connection {
    host: String,
    outgoing: mpsc::Sender<ToWorker>,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>,
    /// Fired when the connection has ended: the host is lost.
    closed: CancellationToken,
    /// Why it ended, once it has.
    lost_reason: Arc<Mutex<Option<String>>>,
    /// Contents the worker is known to hold.
    known: Mutex<HashSet<String>>,
    /// One upload, and one fetch, at a time: a content is never sent twice at once.
    upload: tokio::sync::Mutex<()>,
    fetch: tokio::sync::Mutex<()>,
    next_request: AtomicU64,
    _child: Mutex<Child>,
}

impl Connection {
    async fn open(config: &SshHost, store: Store) -> Result<Connection, String> {
        let name = config.host.clone();
        let mut child = ssh_command(config)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| format!("cannot run ssh to reach host {name}: {e}"))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            return Err(format!("cannot talk to ssh for host {name}"));
        };
        let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
        tokio::spawn(keep_tail(stderr, stderr_tail.clone()));
        let mut lines = BufReader::new(stdout).lines();

        let hello = tokio::time::timeout(HELLO_TIMEOUT, lines.next_line()).await;
        let failure = |what: String| {
            let tail = tail_text(&stderr_tail);
            if tail.is_empty() {
                format!("host {name} is lost: {what}")
            } else {
                format!("host {name} is lost: {what}: {tail}")
            }
        };
        match hello {
            Err(_) => {
                return Err(failure(format!(
                    "no answer from its worker within {}s",
                    HELLO_TIMEOUT.as_secs()
                )))
            }
            Ok(Err(e)) => return Err(failure(format!("cannot read from ssh: {e}"))),
            Ok(Ok(None)) => {
                // Give ssh a moment to say why on its standard error.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return Err(failure("ssh ended before the worker started".to_string()));
            }
            Ok(Ok(Some(line))) => match serde_json::from_str::<FromWorker>(&line) {
                Ok(FromWorker::Hello { version, .. }) if version == PROTOCOL_VERSION => {}
                Ok(FromWorker::Hello { version, .. }) => {
                    return Err(failure(format!(
                        "its weft speaks worker protocol {version}, this one {PROTOCOL_VERSION}: \
                         install the same weft there"
                    )))
                }
                _ => {
                    return Err(failure(format!(
                        "its worker did not start (it printed {:?}); is `weft` on its PATH, or \
                         is `weft:` set for it?",
                        truncate(&line, 200)
                    )))
                }
            },
        }

        let (outgoing, to_send) = mpsc::channel(OUTGOING_QUEUE);
        let closed = CancellationToken::new();
        let pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>> = Arc::default();
        let lost_reason: Arc<Mutex<Option<String>>> = Arc::default();
        tokio::spawn(write_messages(stdin, to_send, closed.clone()));
        tokio::spawn(read_messages(
            lines,
            ReaderState {
                host: name.clone(),
                pending: pending.clone(),
                closed: closed.clone(),
                lost_reason: lost_reason.clone(),
                stderr_tail,
                store,
            },
        ));
        Ok(Connection {
            host: name,
            outgoing,
            pending,
            closed,
            lost_reason,
            known: Mutex::new(HashSet::new()),
            upload: tokio::sync::Mutex::new(()),
            fetch: tokio::sync::Mutex::new(()),
            next_request: AtomicU64::new(1 << 40),
            _child: Mutex::new(child),
        })
    }

    /// Why the host is lost, as the failure message of the attempts it had.
    fn lost_message(&self) -> String {
        let reason = self
            .lost_reason
            .lock()
            .ok()
            .and_then(|r| r.clone())
            .unwrap_or_else(|| "the connection ended".to_string());
        format!("host {} is lost: {reason}", self.host)
    }

    async fn send(&self, message: ToWorker) -> Result<(), String> {
        self.outgoing
            .send(message)
            .await
            .map_err(|_| self.lost_message())
    }

    /// Sends `message` and waits for the answer carrying `id`.
    async fn request(
        &self,
        id: u64,
        message: ToWorker,
    ) -> Result<oneshot::Receiver<Reply>, String> {
        let (tx, rx) = oneshot::channel();
        if let Ok(mut pending) = self.pending.lock() {
            pending.insert(id, tx);
        }
        if self.closed.is_cancelled() {
            return Err(self.lost_message());
        }
        self.send(message).await?;
        Ok(rx)
    }

    async fn run(
        &self,
        id: u64,
        spec: &AttemptSpec,
        run_dir: &Path,
        store: &Store,
        staged: bool,
        cancel: CancellationToken,
    ) -> AttemptOutcome {
        let failed = |message: String| AttemptOutcome::Failed { message };
        let staged_attempt = if staged {
            let (spec, run_dir, store) = (spec.clone(), run_dir.to_path_buf(), store.clone());
            // Hashing inputs reads them whole: off the runtime's threads.
            let staged =
                tokio::task::spawn_blocking(move || stage_attempt(&spec, &run_dir, &store))
                    .await
                    .map_err(|e| format!("staging failed: {e}"))
                    .and_then(|r| r);
            match staged {
                Ok(staged) => Some(staged),
                Err(message) => return failed(message),
            }
        } else {
            None
        };
        if let Some(staged) = &staged_attempt {
            if let Err(message) = self.upload(&staged.staging.inputs, store).await {
                return failed(message);
            }
        }
        if cancel.is_cancelled() {
            return AttemptOutcome::Cancelled;
        }
        let message = match &staged_attempt {
            Some(staged) => ToWorker::Run {
                id,
                attempt: Box::new(staged.attempt.clone()),
                staging: Some(staged.staging.clone()),
            },
            None => ToWorker::Run {
                id,
                attempt: Box::new(WireAttempt::from_spec(spec)),
                staging: None,
            },
        };
        let mut reply = match self.request(id, message).await {
            Ok(reply) => reply,
            Err(message) => return failed(message),
        };
        let mut cancelled = false;
        let answer = loop {
            tokio::select! {
                answer = &mut reply => break answer,
                _ = cancel.cancelled(), if !cancelled => {
                    cancelled = true;
                    // The worker kills the attempt and answers `Cancelled`.
                    let _ = self.send(ToWorker::Cancel { id }).await;
                }
            }
        };
        let (outcome, outputs, output_dirs) = match answer {
            Ok(Reply::Outcome {
                outcome,
                outputs,
                output_dirs,
            }) => (outcome.into_outcome(), outputs, output_dirs),
            Ok(_) => return failed(format!("host {} answered out of turn", self.host)),
            Err(_) if cancelled => return AttemptOutcome::Cancelled,
            Err(_) => return failed(self.lost_message()),
        };
        if let Some(staged) = &staged_attempt {
            if let Err(message) = self
                .bring_back(staged, &outputs, &output_dirs, run_dir, store)
                .await
            {
                return failed(message);
            }
        }
        outcome
    }

    /// Sends the contents among `inputs` the worker does not hold yet.
    async fn upload(&self, inputs: &[StagedFile], store: &Store) -> Result<(), String> {
        let _one_at_a_time = self.upload.lock().await;
        let unknown: Vec<String> = {
            let known = self
                .known
                .lock()
                .map_err(|_| "poisoned state".to_string())?;
            let mut unknown: Vec<String> = inputs
                .iter()
                .map(|f| f.hash.clone())
                .filter(|h| !known.contains(h))
                .collect();
            unknown.sort();
            unknown.dedup();
            unknown
        };
        if unknown.is_empty() {
            return Ok(());
        }
        let id = self.next_request.fetch_add(1, Ordering::Relaxed);
        let reply = self
            .request(
                id,
                ToWorker::Have {
                    id,
                    hashes: unknown.clone(),
                },
            )
            .await?;
        let missing = match reply.await {
            Ok(Reply::Missing(hashes)) => hashes,
            Ok(_) => return Err(format!("host {} answered out of turn", self.host)),
            Err(_) => return Err(self.lost_message()),
        };
        for hash in &missing {
            self.send_content(hash, store).await?;
        }
        if let Ok(mut known) = self.known.lock() {
            known.extend(unknown);
        }
        Ok(())
    }

    async fn send_content(&self, hash: &str, store: &Store) -> Result<(), String> {
        let path = store.path(hash);
        let mut file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let mut buffer = vec![0; BLOB_CHUNK];
        loop {
            let mut filled = 0;
            while filled < buffer.len() {
                let read = file
                    .read(&mut buffer[filled..])
                    .await
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                if read == 0 {
                    break;
                }
                filled += read;
            }
            let last = filled < buffer.len();
            self.send(ToWorker::Blob {
                hash: hash.to_string(),
                data: base64_encode(&buffer[..filled]),
                last,
            })
            .await?;
            if last {
                return Ok(());
            }
        }
    }

    /// Fetches the outputs' contents weft lacks and puts every output in place.
    async fn bring_back(
        &self,
        staged: &StagedAttempt,
        outputs: &[StagedFile],
        output_dirs: &[PathBuf],
        run_dir: &Path,
        store: &Store,
    ) -> Result<(), String> {
        let mut wanted: Vec<String> = outputs
            .iter()
            .map(|f| f.hash.clone())
            .filter(|h| !store.contains(h))
            .collect();
        wanted.sort();
        wanted.dedup();
        if !wanted.is_empty() {
            let _one_at_a_time = self.fetch.lock().await;
            let id = self.next_request.fetch_add(1, Ordering::Relaxed);
            let reply = self
                .request(
                    id,
                    ToWorker::Fetch {
                        id,
                        hashes: wanted.clone(),
                    },
                )
                .await?;
            match reply.await {
                Ok(Reply::Sent) => {}
                Ok(_) => return Err(format!("host {} answered out of turn", self.host)),
                Err(_) => return Err(self.lost_message()),
            }
            if let Some(absent) = wanted.iter().find(|h| !store.contains(h)) {
                return Err(format!(
                    "the content {absent} of an output never arrived from host {}",
                    self.host
                ));
            }
        }
        // What came back is on the worker: later attempts there need not send it again.
        if let Ok(mut known) = self.known.lock() {
            known.extend(outputs.iter().map(|f| f.hash.clone()));
        }
        let dirs: HashSet<&PathBuf> = output_dirs.iter().collect();
        let (staged, outputs, output_dirs) = (
            staged.staging.outputs.clone(),
            outputs.to_vec(),
            output_dirs.to_vec(),
        );
        let (run_dir, store) = (run_dir.to_path_buf(), store.clone());
        let replaced_dirs: Vec<PathBuf> = staged
            .iter()
            .filter(|p| dirs.contains(p))
            .cloned()
            .collect();
        tokio::task::spawn_blocking(move || {
            // An output directory is replaced whole: it holds what the task left, no more.
            for dir in &replaced_dirs {
                let local = run_dir.join(dir);
                if local.is_dir() {
                    std::fs::remove_dir_all(&local)
                        .map_err(|e| format!("cannot replace {}: {e}", local.display()))?;
                }
            }
            for dir in &output_dirs {
                let local = run_dir.join(dir);
                std::fs::create_dir_all(&local)
                    .map_err(|e| format!("cannot create {}: {e}", local.display()))?;
            }
            for file in &outputs {
                let local = run_dir.join(&file.path);
                store
                    .copy_out(&file.hash, &local, file.executable)
                    .map_err(|e| format!("cannot write {}: {e}", local.display()))?;
            }
            Ok(())
        })
        .await
        .map_err(|e| format!("bringing outputs back failed: {e}"))?
    }
}

async fn write_messages(
    stdin: tokio::process::ChildStdin,
    mut to_send: mpsc::Receiver<ToWorker>,
    closed: CancellationToken,
) {
    let mut stdin = tokio::io::BufWriter::new(stdin);
    loop {
        let message = tokio::select! {
            message = to_send.recv() => message,
            _ = closed.cancelled() => None,
        };
        let Some(message) = message else { break };
        let Ok(mut line) = serde_json::to_string(&message) else {
            continue;
        };
        line.push('\n');
        if stdin.write_all(line.as_bytes()).await.is_err() {
            break;
        }
        if to_send.is_empty() && stdin.flush().await.is_err() {
            break;
        }
    }
}

struct ReaderState {
    host: String,
    pending: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>,
    closed: CancellationToken,
    lost_reason: Arc<Mutex<Option<String>>>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    /// Where fetched contents go.
    store: Store,
}

/// Reads the worker's messages until the connection ends, then marks the host lost and
/// wakes every request still waiting (their answers will never come).
async fn read_messages(
    mut lines: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    state: ReaderState,
) {
    let mut incoming: HashMap<String, Incoming> = HashMap::new();
    let reason = loop {
        let line = match lines.next_line().await {
            Ok(Some(line)) => line,
            Ok(None) => break "the connection ended".to_string(),
            Err(e) => break format!("cannot read from ssh: {e}"),
        };
        let message = match serde_json::from_str::<FromWorker>(&line) {
            Ok(message) => message,
            Err(_) => {
                // Something the worker's shell printed; not part of the protocol.
                eprintln!("weft: host {}: {}", state.host, truncate(&line, 300));
                continue;
            }
        };
        let answer = |state: &ReaderState, id: u64, reply: Reply| {
            if let Some(tx) = state.pending.lock().ok().and_then(|mut p| p.remove(&id)) {
                let _ = tx.send(reply);
            }
        };
        match message {
            FromWorker::Hello { .. } => {}
            FromWorker::Missing { id, hashes } => answer(&state, id, Reply::Missing(hashes)),
            FromWorker::Sent { id } => answer(&state, id, Reply::Sent),
            FromWorker::Outcome {
                id,
                outcome,
                outputs,
                output_dirs,
            } => answer(
                &state,
                id,
                Reply::Outcome {
                    outcome,
                    outputs,
                    output_dirs,
                },
            ),
            FromWorker::Blob { hash, data, last } => {
                if let Err(message) = receive_blob(&state, &mut incoming, hash, &data, last) {
                    eprintln!("weft: host {}: {message}", state.host);
                }
            }
            FromWorker::Error { message } => {
                eprintln!("weft: host {}: worker: {message}", state.host);
            }
        }
    };
    // Let ssh's last words reach the tail before quoting it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let tail = tail_text(&state.stderr_tail);
    let reason = if tail.is_empty() {
        reason
    } else {
        format!("{reason} ({tail})")
    };
    if let Ok(mut lost) = state.lost_reason.lock() {
        *lost = Some(reason);
    }
    state.closed.cancel();
    if let Ok(mut pending) = state.pending.lock() {
        pending.clear();
    }
}

fn receive_blob(
    state: &ReaderState,
    incoming: &mut HashMap<String, Incoming>,
    hash: String,
    data: &str,
    last: bool,
) -> Result<(), String> {
    let store = &state.store;
    let bytes = base64_decode(data)?;
    if !incoming.contains_key(&hash) {
        let started = store
            .receive(&hash)
            .map_err(|e| format!("cannot receive content {hash}: {e}"))?;
        incoming.insert(hash.clone(), started);
    }
    let entry = incoming.get_mut(&hash).expect("inserted above");
    if let Err(e) = entry.write(&bytes) {
        incoming.remove(&hash);
        return Err(format!("cannot write content {hash}: {e}"));
    }
    if last {
        let done = incoming.remove(&hash).expect("present above");
        store
            .finish(done)
            .map_err(|e| format!("cannot store content {hash}: {e}"))?;
    }
    Ok(())
}

/// Keeps the last lines ssh wrote to its standard error, for messages about a lost host.
async fn keep_tail(stderr: tokio::process::ChildStderr, tail: Arc<Mutex<VecDeque<String>>>) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if let Ok(mut tail) = tail.lock() {
            if tail.len() == 5 {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
}

fn tail_text(tail: &Mutex<VecDeque<String>>) -> String {
    tail.lock()
        .map(|t| t.iter().map(String::as_str).collect::<Vec<_>>().join("; "))
        .unwrap_or_default()
}

fn truncate(text: &str, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}
