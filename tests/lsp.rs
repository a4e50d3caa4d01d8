//! `weft lsp` end to end: the binary speaks JSON-RPC with Content-Length framing on its
//! standard streams, as an editor drives it. Diagnostics are compared with `weft check
//! --format json`, formatting with `weft fmt`.

use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use serde_json::{json, Value};

const WEFT: &str = env!("CARGO_BIN_EXE_weft");
/// Generous: the server answers in milliseconds, but CI machines are shared.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A language client over the server's standard streams.
struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next_id: i64,
    /// Notifications read while waiting for something else.
    pending: Vec<Value>,
}

impl Client {
    fn start(dir: &Path) -> Client {
        let mut child = Command::new(WEFT)
            .arg("lsp")
            .current_dir(dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("weft lsp starts");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            while let Some(message) = read_message(&mut reader) {
                if sender.send(message).is_err() {
                    break;
                }
            }
        });
        let mut client = Client {
            child,
            stdin,
            messages,
            next_id: 1,
            pending: Vec::new(),
        };
        let root = url(dir);
        let init = client.request(
            "initialize",
            json!({"processId": null, "rootUri": root, "capabilities": {}}),
        );
        let capabilities = &init["capabilities"];
        assert_eq!(capabilities["hoverProvider"], json!(true), "{init}");
        assert_eq!(capabilities["definitionProvider"], json!(true), "{init}");
        assert_eq!(
            capabilities["documentFormattingProvider"],
            json!(true),
            "{init}"
        );
        assert!(capabilities["completionProvider"].is_object(), "{init}");
        client.notify("initialized", json!({}));
        client
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len())
            .expect("write to the server");
        self.stdin.flush().expect("flush to the server");
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its result (failing the test on an error response).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let response = self.request_raw(method, params);
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    fn request_raw(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive();
            if message["id"] == json!(id) && message.get("method").is_none() {
                return message;
            }
            self.pending.push(message);
        }
    }

    fn receive(&mut self) -> Value {
        self.messages
            .recv_timeout(TIMEOUT)
            .expect("the server answers in time")
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics_for(&mut self, uri: &str) -> Vec<Value> {
        let is_wanted = |m: &Value| {
            m["method"] == "textDocument/publishDiagnostics" && m["params"]["uri"] == uri
        };
        if let Some(i) = self.pending.iter().position(is_wanted) {
            let message = self.pending.remove(i);
            return message["params"]["diagnostics"]
                .as_array()
                .cloned()
                .unwrap_or_default();
        }
        loop {
            let message = self.receive();
            if is_wanted(&message) {
                return message["params"]["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
            }
            self.pending.push(message);
        }
    }

    fn open(&mut self, uri: &str, text: &str) {
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "weft", "version": 1, "text": text}}),
        );
    }

    fn change(&mut self, uri: &str, version: i64, text: &str) {
        self.notify(
            "textDocument/didChange",
            json!({
                "textDocument": {"uri": uri, "version": version},
                "contentChanges": [{"text": text}],
            }),
        );
    }

    fn at(&mut self, method: &str, uri: &str, (line, character): (usize, usize)) -> Value {
        self.request(
            method,
            json!({
                "textDocument": {"uri": uri},
                "position": {"line": line, "character": character},
            }),
        )
    }

    /// Shuts the server down as an editor does; returns its exit status.
    fn shutdown(mut self) -> i32 {
        assert_eq!(self.request("shutdown", Value::Null), Value::Null);
        self.notify("exit", Value::Null);
        drop(self.stdin);
        self.child
            .wait()
            .expect("the server exits")
            .code()
            .unwrap_or(-1)
    }
}

fn read_message(reader: &mut impl BufRead) -> Option<Value> {
    let mut length = None;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 {
            return None;
        }
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some(value) = header.strip_prefix("Content-Length: ") {
            length = value.parse::<usize>().ok();
        }
    }
    let mut body = vec![0; length?];
    reader.read_exact(&mut body).ok()?;
    serde_json::from_slice(&body).ok()
}

fn url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// The 0-based (line, character) of the `nth` occurrence of `needle` in an ASCII text.
fn position_of(text: &str, needle: &str, nth: usize) -> (usize, usize) {
    let offset = text
        .match_indices(needle)
        .nth(nth)
        .expect("needle present")
        .0;
    let line = text[..offset].matches('\n').count();
    let column = offset - text[..offset].rfind('\n').map_or(0, |i| i + 1);
    (line, column)
}

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let dir_path = dir.path().canonicalize().expect("canonical temp dir");
    std::fs::write(
        dir_path.join("lib.wf"),
        "/// Writes a greeting.\ntask greet(name: str, result: out file) {\n    shell \"echo hello {{name}} > {{result}}\"\n}\n\nfn broken() {\n    print(missing_name)\n}\n",
    )
    .unwrap();
    dir
}

const MAIN: &str = "import \"lib.wf\" as lib\nimport std.fs\n\n/// Counts the words of a file.\ntask count(text: file, total: out file) {\n    constraint { cores: 1, memory: 256MiB }\n    shell \"wc -w < {{text}} > {{total}}\"\n}\n\nworkflow main() {\n    count(\"in.txt\", \"n.txt\")\n    lib.greet(\"you\", result = \"hi.txt\")\n    fs.copy(\"n.txt\", \"copy.txt\")\n    print(undefined_thing)\n}\n";

#[test]
fn diagnostics_match_weft_check_and_follow_changes() {
    let dir = project();
    let root = dir.path().canonicalize().unwrap();
    let main_path = root.join("main.wf");
    std::fs::write(&main_path, MAIN).unwrap();
    let main_uri = url(&main_path);
    let lib_uri = url(&root.join("lib.wf"));

    let check = Command::new(WEFT)
        .args(["check", "--format", "json", "main.wf"])
        .current_dir(&root)
        .output()
        .expect("weft check runs");
    let expected: Vec<(String, u64, u64, String)> = String::from_utf8_lossy(&check.stdout)
        .lines()
        .map(|line| {
            let d: Value = serde_json::from_str(line).expect("one JSON object a line");
            let file = d["file"].as_str().unwrap().to_string();
            (
                d["code"].as_str().unwrap().to_string(),
                d["line"].as_u64().unwrap() - 1,
                d["column"].as_u64().unwrap() - 1,
                file,
            )
        })
        .collect();
    assert!(
        expected.iter().any(|(code, ..)| code == "weft::name"),
        "weft check finds the unknown names: {expected:?}"
    );

    let mut client = Client::start(&root);
    client.open(&main_uri, MAIN);
    let own = client.diagnostics_for(&main_uri);
    let imported = client.diagnostics_for(&lib_uri);
    let as_tuples = |diagnostics: &[Value]| -> Vec<(String, u64, u64)> {
        diagnostics
            .iter()
            .map(|d| {
                (
                    d["code"].as_str().unwrap().to_string(),
                    d["range"]["start"]["line"].as_u64().unwrap(),
                    d["range"]["start"]["character"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let expected_own: Vec<(String, u64, u64)> = expected
        .iter()
        .filter(|(.., file)| file.ends_with("main.wf"))
        .map(|(c, l, col, _)| (c.clone(), *l, *col))
        .collect();
    let expected_lib: Vec<(String, u64, u64)> = expected
        .iter()
        .filter(|(.., file)| file.ends_with("lib.wf"))
        .map(|(c, l, col, _)| (c.clone(), *l, *col))
        .collect();
    assert_eq!(as_tuples(&own), expected_own);
    assert_eq!(as_tuples(&imported), expected_lib);
    assert!(
        !expected_lib.is_empty(),
        "the imported file's error is reported: {expected:?}"
    );
    let unknown = own
        .iter()
        .find(|d| d["message"].as_str().unwrap().contains("undefined_thing"))
        .expect("the unknown name is reported");
    assert_eq!(unknown["severity"], json!(1));
    assert_eq!(unknown["source"], json!("weft"));
    let (line, column) = position_of(MAIN, "undefined_thing", 0);
    assert_eq!(
        unknown["range"]["start"],
        json!({"line": line, "character": column})
    );
    assert_eq!(
        unknown["range"]["end"],
        json!({"line": line, "character": column + "undefined_thing".len()})
    );

    // A syntax error while typing, then the fix: the errors go away.
    let broken = MAIN.replace("print(undefined_thing)", "print(undefined_thing");
    client.change(&main_uri, 2, &broken);
    let syntax = client.diagnostics_for(&main_uri);
    assert!(
        syntax.iter().any(|d| d["code"] == "weft::syntax"),
        "{syntax:?}"
    );
    // A document that does not parse loads no imports: as for `weft check`, the imported
    // file's errors are not shown meanwhile.
    assert_eq!(client.diagnostics_for(&lib_uri), Vec::<Value>::new());
    let fixed = MAIN.replace("print(undefined_thing)", "print(\"done\")");
    client.change(&main_uri, 3, &fixed);
    assert_eq!(client.diagnostics_for(&main_uri), Vec::<Value>::new());
    // The imported file keeps its own error, reported once.
    assert_eq!(as_tuples(&client.diagnostics_for(&lib_uri)), expected_lib);
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn hover_definition_completion_and_formatting() {
    let dir = project();
    let root = dir.path().canonicalize().unwrap();
    let main_path = root.join("main.wf");
    let text = MAIN.replace("print(undefined_thing)", "print(\"done\")");
    let main_uri = url(&main_path);
    let mut client = Client::start(&root);
    client.open(&main_uri, &text);
    client.diagnostics_for(&main_uri);

    // Hover: a task's signature with directions and its doc comment.
    let hover = client.at(
        "textDocument/hover",
        &main_uri,
        position_of(&text, "count(\"in", 0),
    );
    let value = hover["contents"]["value"].as_str().expect("markdown hover");
    assert!(
        value.contains("task count(text: file, total: out file)"),
        "{value}"
    );
    assert!(value.contains("Counts the words of a file."), "{value}");
    // … an imported task, a constraint key and a builtin.
    let hover = client.at(
        "textDocument/hover",
        &main_uri,
        position_of(&text, "greet", 0),
    );
    let value = hover["contents"]["value"].as_str().unwrap();
    assert!(
        value.contains("task lib.greet(name: str, result: out file)"),
        "{value}"
    );
    assert!(value.contains("Writes a greeting."), "{value}");
    let hover = client.at(
        "textDocument/hover",
        &main_uri,
        position_of(&text, "memory", 0),
    );
    assert!(hover["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("memory reserved"));
    let hover = client.at(
        "textDocument/hover",
        &main_uri,
        position_of(&text, "print", 0),
    );
    assert!(hover["contents"]["value"]
        .as_str()
        .unwrap()
        .contains("builtin"));

    // Definition: a task of this file, a parameter used in a template, an imported task.
    let target = client.at(
        "textDocument/definition",
        &main_uri,
        position_of(&text, "count(\"in", 0),
    );
    assert_eq!(target["uri"], json!(main_uri));
    let (line, column) = position_of(&text, "count(text", 0);
    assert_eq!(
        target["range"]["start"],
        json!({"line": line, "character": column})
    );
    let target = client.at(
        "textDocument/definition",
        &main_uri,
        position_of(&text, "total}}", 0),
    );
    let (line, column) = position_of(&text, "total: out", 0);
    assert_eq!(
        target["range"]["start"],
        json!({"line": line, "character": column})
    );
    let target = client.at(
        "textDocument/definition",
        &main_uri,
        position_of(&text, "greet", 0),
    );
    assert_eq!(target["uri"], json!(url(&root.join("lib.wf"))));
    assert_eq!(target["range"]["start"], json!({"line": 1, "character": 5}));

    // Completion: the members of an imported module while the line does not parse …
    let typing = text.replace("fs.copy(\"n.txt\", \"copy.txt\")", "fs.");
    client.change(&main_uri, 2, &typing);
    client.diagnostics_for(&main_uri);
    let (line, column) = position_of(&typing, "fs.\n", 0);
    let items = client.at("textDocument/completion", &main_uri, (line, column + 3));
    let labels: Vec<&str> = items
        .as_array()
        .expect("a list of items")
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    assert!(
        labels.contains(&"copy") && labels.contains(&"gzip"),
        "{labels:?}"
    );
    // … and names in scope with the builtins at the start of a statement.
    let typing = text.replace("print(\"done\")", "pri");
    client.change(&main_uri, 3, &typing);
    client.diagnostics_for(&main_uri);
    let (line, column) = position_of(&typing, "pri\n", 0);
    let items = client.at("textDocument/completion", &main_uri, (line, column + 3));
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    for expected in ["print", "count", "lib", "fs", "let", "group"] {
        assert!(labels.contains(&expected), "{expected} in {labels:?}");
    }

    // Formatting: the same text as `weft fmt`.
    let messy = "workflow   main( ) {\nprint( 1 )\n  let x=[1,2]\n    print(x)\n}\n";
    std::fs::write(root.join("messy.wf"), messy).unwrap();
    let formatted = Command::new(WEFT)
        .args(["fmt", "messy.wf"])
        .current_dir(&root)
        .status()
        .expect("weft fmt runs");
    assert!(formatted.success());
    let expected = std::fs::read_to_string(root.join("messy.wf")).unwrap();
    assert_ne!(expected, messy);
    client.change(&main_uri, 4, messy);
    client.diagnostics_for(&main_uri);
    let edits = client.request(
        "textDocument/formatting",
        json!({"textDocument": {"uri": main_uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    let edits = edits.as_array().expect("edits");
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0]["newText"], json!(expected));
    assert_eq!(
        edits[0]["range"]["start"],
        json!({"line": 0, "character": 0})
    );
    assert_eq!(edits[0]["range"]["end"], json!({"line": 5, "character": 0}));
    // A file that does not parse cannot be formatted: an error, not a broken edit.
    client.change(&main_uri, 5, "workflow main( {\n");
    client.diagnostics_for(&main_uri);
    let response = client.request_raw(
        "textDocument/formatting",
        json!({"textDocument": {"uri": main_uri}, "options": {"tabSize": 4, "insertSpaces": true}}),
    );
    assert!(
        response["error"]["message"]
            .as_str()
            .unwrap_or("")
            .contains("cannot format"),
        "{response}"
    );

    assert_eq!(client.shutdown(), 0);
}

#[test]
fn exit_without_shutdown_is_status_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut client = Client::start(dir.path());
    client.notify("exit", Value::Null);
    let status = client.child.wait().expect("the server exits");
    assert_eq!(status.code(), Some(1));
}
