//! `weft init [DIR]`: a starter project that runs as it is.
//!
//! The starter is the smallest workflow that shows what weft is for: one task per input file,
//! all running at once, and a reduction whose future the workflow prints. It uses only `wc`,
//! `cat` and `awk`, so it runs wherever weft does.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::cli::InitArgs;
use crate::exit;

/// The starter workflow. `weft check --deny warnings` and `weft fmt --check` pass on it
/// (tested), so a newcomer's first file is also an example of the canonical style.
pub const MAIN_WF: &str = r#"// A starter workflow written by `weft init`. Try:
//     weft run main.wf            count the words of data/*.txt
//     weft run main.wf --help     the workflow's options
//     weft graph main.wf          the task graph, in Graphviz dot
// The user guide (docs/guide/ in weft's repository) explains every line.

/// Counts the words of one text file and writes the number to `result`.
task count_words(
    /// the text to count
    text: file,
    /// where the count goes: one line holding a number
    result: out file,
) {
    constraint { cores: 1 }
    shell "wc -w < {{text}} > {{result}}"
}

/// Adds up the numbers written in the files of `counts`.
task total(counts: [file]) -> int {
    shell "cat {{counts}} | awk '{ n += $1 } END { print n + 0 }'"
}

/// Counts the words of every .txt file of `input`: one `count_words` task per file, all
/// running at the same time, then one `total` that waits for them.
workflow main(
    /// the folder holding the .txt files to count
    input: dir = "data",
    /// where the per-file counts are written
    outdir: str = "counts",
) {
    let counts = []
    for text in glob("{input}/*.txt") {
        let result = "{outdir}/{stem(text)}.count"
        count_words(text, result)  // starts in the background; the loop goes on
        counts += [result]
    }
    let words = total(counts)  // a future: its value comes when `total` is done
    print("{len(counts)} files, {words} words")  // using it waits for it
}
"#;

/// The configuration: the local machine, every key shown and commented out.
pub const WEFT_YAML: &str = "\
# weft's configuration for the workflows in this folder: where tasks run and what they may
# reserve. Every key is optional; `weft config schema` prints them all.
executor: local      # local is the only executor built so far
local:
  # cores: 4         # CPU cores tasks may reserve (default: all logical CPUs)
  # memory: 8GiB     # memory tasks may reserve (default: physical memory)
  # gpus: 0          # GPUs tasks may reserve (default: detected)
  # labels: [blast]  # what this machine offers to `constraint { labels: [...] }`
";

/// The input the starter counts: 3 files, 28 words.
pub const DATA: &[(&str, &str)] = &[
    (
        "data/tasks.txt",
        "A workflow is a program of tasks.\nweft runs them in parallel.\n",
    ),
    (
        "data/files.txt",
        "Each task reads files and writes files.\n",
    ),
    (
        "data/order.txt",
        "The result is the one a sequential run gives.\n",
    ),
];

/// What a run leaves behind that does not belong in version control.
const GITIGNORE: &str = "# weft's own state: file versions and every attempt's logs\n.weft/\n\
                         # what the starter workflow writes\ncounts/\n";

pub fn run(args: InitArgs) -> i32 {
    let dir = args.dir;
    if dir.exists() && !dir.is_dir() {
        eprintln!(
            "error: {} exists and is not a folder; weft init writes into a folder",
            dir.display()
        );
        return exit::USAGE;
    }
    let mut files: Vec<(PathBuf, &str)> = vec![
        (dir.join("main.wf"), MAIN_WF),
        (dir.join("weft.yaml"), WEFT_YAML),
    ];
    files.extend(DATA.iter().map(|(path, text)| (dir.join(path), *text)));

    // Check every file before writing any, so a refusal leaves the folder as it was.
    let existing: Vec<String> = files
        .iter()
        .filter(|(path, _)| path.symlink_metadata().is_ok())
        .map(|(path, _)| path.display().to_string())
        .collect();
    if !existing.is_empty() {
        eprintln!(
            "error: weft init would overwrite {}; nothing was written\n\
             help: move them away, or give weft init a folder of its own: `weft init NEW-FOLDER`",
            existing.join(", ")
        );
        return exit::USAGE;
    }
    // A .gitignore the user already has is theirs: it is left alone, not a reason to refuse.
    let gitignore = dir.join(".gitignore");
    if gitignore.symlink_metadata().is_err() {
        files.push((gitignore, GITIGNORE));
    }

    let mut written: Vec<PathBuf> = Vec::new();
    for (path, text) in &files {
        if let Err(e) = write_new(path, text) {
            eprintln!("error: cannot write {}: {e}", path.display());
            // Take back what this run wrote: a half-made starter would only confuse.
            for path in written.iter().rev() {
                let _ = std::fs::remove_file(path);
            }
            return exit::USAGE;
        }
        written.push(path.clone());
    }
    eprint!("{}", next_steps(&dir));
    exit::SUCCESS
}

/// Writes a file that must not exist yet (creating its folders): `create_new` makes the
/// no-overwrite promise hold even against a file that appeared after the check.
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(text.as_bytes())
}

/// What to do next, printed on standard error as cargo prints its status lines.
fn next_steps(dir: &Path) -> String {
    let shown = dir.display().to_string();
    let mut out = format!(
        "Created a starter workflow in {shown}: main.wf, weft.yaml and {} text files in data/\n\n\
         Next:\n",
        DATA.len()
    );
    // Relative paths in a workflow are relative to where `weft run` starts, so the starter
    // runs from its own folder.
    if dir != Path::new(".") {
        out.push_str(&format!("  cd {shown}\n"));
    }
    out.push_str(
        "  weft run main.wf             count the words of data/*.txt\n\
         \x20 weft run main.wf --help      the workflow's options\n\
         \x20 weft check main.wf           find mistakes without running anything\n\
         \x20 weft doc std.text            ready-made tasks for text files\n",
    );
    out
}
