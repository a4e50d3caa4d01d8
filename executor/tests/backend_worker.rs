//! `weft worker`'s protocol, spoken to `serve` in-process over a pipe: attempts, cancellation,
//! staged files in and out, refused paths, forged contents, and the end of the input. No ssh
//! needed: this is what every ssh host runs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, DuplexStream, Lines, WriteHalf};
use weft_executor::backends::wire::{
    base64_decode, base64_encode, FromWorker, StagedFile, Staging, ToWorker, WireAttempt, WireBody,
    WireDirection, WireOutcome, WireParam, WireType, WireValue, PROTOCOL_VERSION,
};
use weft_executor::backends::worker::serve;

const LIMIT: Duration = Duration::from_secs(30);

/// weft's end of a pipe to a worker serving `workdir`.
struct Weft {
    lines: Lines<BufReader<tokio::io::ReadHalf<DuplexStream>>>,
    writer: WriteHalf<DuplexStream>,
    worker: tokio::task::JoinHandle<Result<(), String>>,
}

impl Weft {
    async fn start(workdir: &Path) -> (Weft, FromWorker) {
        let (ours, theirs) = tokio::io::duplex(1 << 16);
        let (their_read, their_write) = tokio::io::split(theirs);
        let worker = tokio::spawn(serve(workdir.to_path_buf(), their_read, their_write));
        let (our_read, writer) = tokio::io::split(ours);
        let mut weft = Weft {
            lines: BufReader::new(our_read).lines(),
            writer,
            worker,
        };
        let hello = weft.receive().await;
        (weft, hello)
    }

    async fn send(&mut self, message: &ToWorker) {
        let mut line = serde_json::to_string(message).unwrap();
        line.push('\n');
        self.writer.write_all(line.as_bytes()).await.unwrap();
        self.writer.flush().await.unwrap();
    }

    async fn receive(&mut self) -> FromWorker {
        let line = tokio::time::timeout(LIMIT, self.lines.next_line())
            .await
            .expect("the worker answers in time")
            .unwrap()
            .expect("the worker is still there");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    /// Receives messages until the outcome of attempt `id`.
    async fn outcome(&mut self, id: u64) -> (WireOutcome, Vec<StagedFile>, Vec<PathBuf>) {
        loop {
            if let FromWorker::Outcome {
                id: got,
                outcome,
                outputs,
                output_dirs,
            } = self.receive().await
            {
                if got == id {
                    return (outcome, outputs, output_dirs);
                }
            }
        }
    }
}

fn file_param(name: &str, direction: WireDirection) -> WireParam {
    WireParam {
        name: name.to_string(),
        direction,
        ty: WireType::File,
        stream: None,
        prefix: None,
        depth: None,
    }
}

/// A `shell` attempt over `params`/`values`, running in `workdir`.
fn shell_attempt(
    template: &str,
    params: Vec<WireParam>,
    values: Vec<(&str, &str)>,
    workdir: &Path,
    attempt_dir: &Path,
) -> WireAttempt {
    WireAttempt {
        task_name: "t".to_string(),
        task_id: 1,
        attempt: 1,
        params,
        returns: None,
        values: values
            .into_iter()
            .map(|(k, v)| (k.to_string(), WireValue::Str(v.to_string())))
            .collect(),
        body: WireBody::Shell {
            template: template.to_string(),
        },
        env: Vec::new(),
        workdir: workdir.to_path_buf(),
        timeout_ms: None,
        fail_on_exit: false,
        raises_on_exit: Vec::new(),
        gpus: Vec::new(),
        hide_gpus: false,
        nodes: None,
        attempt_dir: attempt_dir.to_path_buf(),
    }
}

fn blake3_hex(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

#[tokio::test]
async fn an_attempt_on_the_shared_file_system_runs_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (mut weft, hello) = Weft::start(&dir.path().join("worker")).await;
    match hello {
        FromWorker::Hello { version, .. } => assert_eq!(version, PROTOCOL_VERSION),
        other => panic!("expected hello, got {other:?}"),
    }
    let attempt = shell_attempt(
        "echo shared > {{o}}",
        vec![file_param("o", WireDirection::Out)],
        vec![("o", "result.txt")],
        dir.path(),
        &dir.path().join("attempt"),
    );
    weft.send(&ToWorker::Run {
        id: 7,
        attempt: Box::new(attempt),
        staging: None,
    })
    .await;
    let (outcome, outputs, _) = weft.outcome(7).await;
    assert!(
        matches!(outcome, WireOutcome::Succeeded { .. }),
        "{outcome:?}"
    );
    assert!(
        outputs.is_empty(),
        "nothing is staged on a shared file system"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("result.txt")).unwrap(),
        "shared\n"
    );
}

#[tokio::test]
async fn a_cancelled_attempt_is_killed_and_reported_cancelled() {
    let dir = tempfile::tempdir().unwrap();
    let (mut weft, _) = Weft::start(&dir.path().join("worker")).await;
    let attempt = shell_attempt(
        "echo $$ > pid.txt; sleep 30",
        Vec::new(),
        Vec::new(),
        dir.path(),
        &dir.path().join("attempt"),
    );
    weft.send(&ToWorker::Run {
        id: 1,
        attempt: Box::new(attempt),
        staging: None,
    })
    .await;
    let pid_file = dir.path().join("pid.txt");
    for _ in 0..200 {
        if std::fs::read_to_string(&pid_file).is_ok_and(|p| !p.trim().is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    let started = std::time::Instant::now();
    weft.send(&ToWorker::Cancel { id: 1 }).await;
    let (outcome, _, _) = weft.outcome(1).await;
    assert_eq!(outcome, WireOutcome::Cancelled);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "the attempt's process is gone"
    );
}

#[tokio::test]
async fn staged_files_go_in_and_come_back_by_content() {
    let dir = tempfile::tempdir().unwrap();
    let workdir = dir.path().join("worker");
    let (mut weft, _) = Weft::start(&workdir).await;
    let input = b"staged input\n".repeat(1000);
    let hash = blake3_hex(&input);

    // Which contents does the worker lack? This one, once.
    weft.send(&ToWorker::Have {
        id: 1,
        hashes: vec![hash.clone()],
    })
    .await;
    assert_eq!(
        weft.receive().await,
        FromWorker::Missing {
            id: 1,
            hashes: vec![hash.clone()]
        }
    );
    let (first, second) = input.split_at(5000);
    for (piece, last) in [(first, false), (second, true)] {
        weft.send(&ToWorker::Blob {
            hash: hash.clone(),
            data: base64_encode(piece),
            last,
        })
        .await;
    }
    weft.send(&ToWorker::Have {
        id: 2,
        hashes: vec![hash.clone()],
    })
    .await;
    assert_eq!(
        weft.receive().await,
        FromWorker::Missing {
            id: 2,
            hashes: Vec::new()
        }
    );

    // Paths are relative to the worker's workdir.
    let attempt = shell_attempt(
        "wc -l < {{src}} > {{dst}}; mkdir -p {{d}}/inner && echo x > {{d}}/inner/x.txt",
        vec![
            file_param("src", WireDirection::In),
            file_param("dst", WireDirection::Out),
            WireParam {
                ty: WireType::Dir,
                ..file_param("d", WireDirection::Out)
            },
        ],
        vec![
            ("src", "data/in.txt"),
            ("dst", "out/count.txt"),
            ("d", "tree"),
        ],
        Path::new(""),
        Path::new(".weft/attempt"),
    );
    let staging = Staging {
        inputs: vec![StagedFile {
            path: "data/in.txt".into(),
            hash: hash.clone(),
            executable: false,
        }],
        dirs: vec!["".into(), ".weft/attempt".into(), "tree".into()],
        outputs: vec!["out/count.txt".into(), "tree".into()],
    };
    weft.send(&ToWorker::Run {
        id: 3,
        attempt: Box::new(attempt),
        staging: Some(staging),
    })
    .await;
    let (outcome, outputs, output_dirs) = weft.outcome(3).await;
    assert!(
        matches!(outcome, WireOutcome::Succeeded { .. }),
        "{outcome:?}"
    );
    assert_eq!(
        std::fs::read(workdir.join("data/in.txt")).unwrap(),
        input,
        "the input was put in place"
    );
    let count = outputs
        .iter()
        .find(|f| f.path == Path::new("out/count.txt"))
        .expect("the out file is reported");
    assert_eq!(count.hash, blake3_hex(b"1000\n"));
    assert!(outputs
        .iter()
        .any(|f| f.path == Path::new("tree/inner/x.txt")));
    assert!(output_dirs.contains(&PathBuf::from("tree/inner")));

    // The outputs' contents come back on request.
    weft.send(&ToWorker::Fetch {
        id: 4,
        hashes: vec![count.hash.clone()],
    })
    .await;
    let mut fetched = Vec::new();
    loop {
        match weft.receive().await {
            FromWorker::Blob { hash, data, last } => {
                assert_eq!(hash, count.hash);
                fetched.extend(base64_decode(&data).unwrap());
                assert!(last);
            }
            FromWorker::Sent { id } => {
                assert_eq!(id, 4);
                break;
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(fetched, b"1000\n");
}

#[tokio::test]
async fn staged_paths_that_escape_the_workdir_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let workdir = dir.path().join("worker");
    let (mut weft, _) = Weft::start(&workdir).await;
    let attempt = shell_attempt(
        "echo escaped > {{o}}",
        vec![file_param("o", WireDirection::Out)],
        vec![("o", "../escaped.txt")],
        Path::new(""),
        Path::new(".weft/attempt"),
    );
    let staging = Staging {
        inputs: Vec::new(),
        dirs: vec!["".into()],
        outputs: vec!["../escaped.txt".into()],
    };
    weft.send(&ToWorker::Run {
        id: 1,
        attempt: Box::new(attempt),
        staging: Some(staging),
    })
    .await;
    let (outcome, _, _) = weft.outcome(1).await;
    match outcome {
        WireOutcome::Failed { message } => assert!(message.contains("escapes"), "{message}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(!dir.path().join("escaped.txt").exists());
}

#[tokio::test]
async fn a_content_that_does_not_match_its_hash_is_not_kept() {
    let dir = tempfile::tempdir().unwrap();
    let (mut weft, _) = Weft::start(&dir.path().join("worker")).await;
    let claimed = blake3_hex(b"what was promised");
    weft.send(&ToWorker::Blob {
        hash: claimed.clone(),
        data: base64_encode(b"something else"),
        last: true,
    })
    .await;
    match weft.receive().await {
        FromWorker::Error { message } => assert!(message.contains("hashes to"), "{message}"),
        other => panic!("expected an error, got {other:?}"),
    }
    weft.send(&ToWorker::Have {
        id: 1,
        hashes: vec![claimed.clone()],
    })
    .await;
    assert_eq!(
        weft.receive().await,
        FromWorker::Missing {
            id: 1,
            hashes: vec![claimed]
        }
    );
}

#[tokio::test]
async fn the_end_of_the_input_kills_running_attempts_and_ends_the_worker() {
    let dir = tempfile::tempdir().unwrap();
    let (mut weft, _) = Weft::start(&dir.path().join("worker")).await;
    let attempt = shell_attempt(
        "echo $$ > pid.txt; sleep 30",
        Vec::new(),
        Vec::new(),
        dir.path(),
        &dir.path().join("attempt"),
    );
    weft.send(&ToWorker::Run {
        id: 1,
        attempt: Box::new(attempt),
        staging: None,
    })
    .await;
    let pid_file = dir.path().join("pid.txt");
    for _ in 0..200 {
        if std::fs::read_to_string(&pid_file).is_ok_and(|p| !p.trim().is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    // weft goes away: its end of the pipe closes.
    let Weft {
        lines,
        writer,
        worker,
    } = weft;
    drop((lines, writer));
    let ended = tokio::time::timeout(LIMIT, worker).await;
    assert!(matches!(ended, Ok(Ok(Ok(())))), "{ended:?}");
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "no attempt outlives the worker"
    );
}
