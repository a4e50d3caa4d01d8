//! The examples and the documentation: every `examples/*.wf` checks without a single
//! diagnostic, every ```weft block of README.md and docs/*.md checks without errors, and the
//! examples run and give the right answers.
//!
//! Documentation blocks (README.md and every .md under docs/, the guide included):
//! - ```weft: a program that must pass `weft check` (warnings allowed: a block may show one
//!   task without the workflow that uses it);
//! - ```weft,clean: a program that must pass `weft check --deny warnings` (no diagnostic at
//!   all: the fix shown for a warning);
//! - ```weft,expect=weft::CODE: a program that is wrong on purpose; `weft check` must report
//!   CODE (for `weft::runtime`, which only a run finds: `weft check` passes and `weft run`
//!   exits 1 reporting it);
//! - ```yaml,weft.yaml: a configuration file; a workflow beside it must pass `weft check`;
//!   ```yaml,weft.yaml,expect=weft::config: a bad one, which `weft check` must report;
//! - ```weft,ignore: not checked (a fragment, or a program that needs files the block does
//!   not show, such as an imported module).
//!
//! The examples run in a temporary copy of `examples/`, from its parent, as a user runs them
//! from the repository's root (`weft run examples/pi.wf`); nothing is written into the
//! repository.

mod common;

use std::path::{Path, PathBuf};

use common::Project;

fn repository() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every `examples/*.wf`, sorted.
fn example_files() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(repository().join("examples"))
        .expect("examples/")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".wf"))
        .collect();
    names.sort();
    names
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create a directory");
    for entry in std::fs::read_dir(from).expect("read a directory").flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy a file");
        }
    }
}

/// A project holding a copy of the repository's `examples/` folder.
fn with_examples() -> Project {
    let project = Project::new();
    copy_tree(&repository().join("examples"), &project.path("examples"));
    project
}

#[test]
fn every_example_checks_without_diagnostics() {
    let project = with_examples();
    let names = example_files();
    assert!(names.len() >= 6, "examples: {names:?}");
    for name in names {
        let path = format!("examples/{name}");
        let outcome = project.weft(&["check", "--format", "json", &path]);
        assert_eq!(
            (outcome.status, outcome.stdout.as_str()),
            (Some(0), ""),
            "{path} has diagnostics:\n{}{}",
            outcome.stdout,
            outcome.stderr
        );
    }
}

/// A fenced code block of a Markdown file: its info string, first line and text.
struct Block {
    info: String,
    line: usize,
    text: String,
}

fn code_blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match open.take() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    open = Some((info.trim().to_string(), index + 1, String::new()));
                }
            }
            Some((info, start, mut text)) => {
                if trimmed.starts_with("```") {
                    blocks.push(Block {
                        info,
                        line: start,
                        text,
                    });
                } else {
                    text.push_str(line);
                    text.push('\n');
                    open = Some((info, start, text));
                }
            }
        }
    }
    blocks
}

/// README.md and every .md file under docs/ (the user guide in docs/guide/ included).
fn documents() -> Vec<PathBuf> {
    let mut docs = Vec::new();
    markdown_files(&repository().join("docs"), &mut docs);
    docs.sort();
    docs.insert(0, repository().join("README.md"));
    docs
}

fn markdown_files(dir: &Path, into: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            markdown_files(&path, into);
        } else if path.extension().is_some_and(|e| e == "md") {
            into.push(path);
        }
    }
}

#[test]
fn the_guide_is_among_the_documents() {
    let docs = documents();
    let guide = repository().join("docs/guide");
    assert!(
        docs.iter().any(|d| d.starts_with(&guide)),
        "docs/guide/*.md are not checked: {docs:?}"
    );
}

/// What a documentation block claims about itself, from its info string
/// (`weft,expect=weft::name`).
#[derive(Debug, PartialEq)]
enum Claim {
    /// Not a weft program or configuration, or marked `ignore`.
    Nothing,
    /// `weft check` passes (warnings allowed).
    Checks,
    /// `weft check --deny warnings` passes.
    Clean,
    /// `weft check` (or, for `weft::runtime`, `weft run`) reports this code.
    Reports(String),
    /// A configuration file that `weft check` accepts.
    GoodConfig,
    /// A configuration file that `weft check` reports as `weft::config`.
    BadConfig,
}

fn claim(info: &str) -> Claim {
    let mut words = info.split(',').map(str::trim);
    let language = words.next().unwrap_or("");
    let attributes: Vec<&str> = words.collect();
    if attributes.contains(&"ignore") {
        return Claim::Nothing;
    }
    let expected = attributes
        .iter()
        .find_map(|a| a.strip_prefix("expect="))
        .map(str::to_string);
    match language {
        "weft" => match expected {
            Some(code) => Claim::Reports(code),
            None if attributes.contains(&"clean") => Claim::Clean,
            None => Claim::Checks,
        },
        "yaml" if attributes.contains(&"weft.yaml") => match expected.as_deref() {
            Some("weft::config") => Claim::BadConfig,
            Some(other) => {
                panic!("a configuration block can only expect weft::config, not {other}")
            }
            None => Claim::GoodConfig,
        },
        _ => Claim::Nothing,
    }
}

#[test]
fn info_strings_say_what_a_block_claims() {
    assert_eq!(claim("weft"), Claim::Checks);
    assert_eq!(claim("weft,clean"), Claim::Clean);
    assert_eq!(claim("weft,ignore"), Claim::Nothing);
    assert_eq!(
        claim("weft,expect=weft::name"),
        Claim::Reports("weft::name".into())
    );
    assert_eq!(claim("yaml,weft.yaml"), Claim::GoodConfig);
    assert_eq!(
        claim("yaml,weft.yaml,expect=weft::config"),
        Claim::BadConfig
    );
    assert_eq!(claim("yaml"), Claim::Nothing);
    assert_eq!(claim("sh"), Claim::Nothing);
}

/// The codes `weft check --format json` reported, one per line of its output.
fn reported_codes(outcome: &common::Outcome) -> Vec<String> {
    outcome
        .stdout
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter_map(|d| d["code"].as_str().map(str::to_string))
        .collect()
}

/// Whether a block does what its info string claims; `Err` says how it does not.
fn verify(project: &Project, block: &Block) -> Result<(), String> {
    let claim = claim(&block.info);
    let checked = |path: &str, extra: &[&str]| {
        let mut args = vec!["check", "--format", "json"];
        args.extend_from_slice(extra);
        args.push(path);
        project.weft(&args)
    };
    match claim {
        Claim::Nothing => Ok(()),
        Claim::Checks | Claim::Clean => {
            project.write("block.wf", &block.text);
            let deny: &[&str] = if claim == Claim::Clean {
                &["--deny", "warnings"]
            } else {
                &[]
            };
            let outcome = checked("block.wf", deny);
            if outcome.status == Some(0) {
                Ok(())
            } else {
                Err(format!(
                    "it does not check:\n{}{}",
                    outcome.stdout, outcome.stderr
                ))
            }
        }
        Claim::Reports(code) if code == "weft::runtime" => {
            project.write("block.wf", &block.text);
            let outcome = checked("block.wf", &[]);
            if outcome.status != Some(0) {
                return Err(format!("it does not check:\n{}", outcome.stdout));
            }
            let run = project.weft(&["run", "block.wf"]);
            if run.status == Some(1) && run.stderr.contains("weft::runtime") {
                Ok(())
            } else {
                Err(format!(
                    "`weft run` does not stop with weft::runtime (status {:?}):\n{}",
                    run.status, run.stderr
                ))
            }
        }
        Claim::Reports(code) => {
            project.write("block.wf", &block.text);
            let outcome = checked("block.wf", &[]);
            let codes = reported_codes(&outcome);
            if codes.contains(&code) {
                Ok(())
            } else {
                Err(format!("it reports {codes:?}, not {code}"))
            }
        }
        Claim::GoodConfig | Claim::BadConfig => {
            project.write(
                "config/main.wf",
                "workflow main() {\n    print(\"ok\")\n}\n",
            );
            project.write("config/weft.yaml", &block.text);
            let outcome = checked("config/main.wf", &[]);
            let codes = reported_codes(&outcome);
            match claim {
                Claim::GoodConfig if outcome.status == Some(0) => Ok(()),
                Claim::BadConfig if codes.iter().any(|c| c == "weft::config") => Ok(()),
                Claim::GoodConfig => Err(format!("the configuration is refused: {codes:?}")),
                _ => Err(format!("it reports {codes:?}, not weft::config")),
            }
        }
    }
}

#[test]
fn code_blocks_are_found_with_their_info_strings() {
    let blocks =
        code_blocks("text\n```weft\na\n```\n\n  ```weft,ignore\nb\n  ```\n```sh\nc\n```\n");
    let seen: Vec<(&str, usize, &str)> = blocks
        .iter()
        .map(|b| (b.info.as_str(), b.line, b.text.as_str()))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("weft", 2, "a\n"),
            ("weft,ignore", 6, "b\n"),
            ("sh", 9, "c\n")
        ]
    );
}

#[test]
fn every_weft_block_of_the_documentation_checks() {
    let project = with_examples();
    let mut checked = 0;
    let mut failures = Vec::new();
    for document in documents() {
        let markdown = std::fs::read_to_string(&document).expect("read the document");
        let name = document
            .strip_prefix(repository())
            .unwrap_or(&document)
            .display()
            .to_string();
        for block in code_blocks(&markdown) {
            if claim(&block.info) == Claim::Nothing {
                continue;
            }
            if let Err(why) = verify(&project, &block) {
                failures.push(format!(
                    "the ```{} block at {name}:{}: {why}\n{}",
                    block.info, block.line, block.text
                ));
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} documentation blocks do not do what they claim (mark a block ```weft,ignore if \
         that is on purpose):\n\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 1, "README.md shows at least one program");
}

// ---------------------------------------------------------------------------------------------
// Running the examples
// ---------------------------------------------------------------------------------------------

#[test]
fn wordcount_counts_every_word_of_every_file() {
    let project = with_examples();
    let outcome = project.weft(&["run", "examples/wordcount.wf"]);
    outcome.success();
    let mut files = 0;
    let mut words = 0;
    for entry in std::fs::read_dir(project.path("examples/data"))
        .unwrap()
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "txt") {
            files += 1;
            words += std::fs::read_to_string(&path)
                .unwrap()
                .split_whitespace()
                .count();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            assert!(project.exists(&format!("counts/{stem}.count")));
        }
    }
    outcome.expect_stdout(&[&format!("{files} files, {words} words")]);
}

#[test]
fn pi_is_estimated_reproducibly() {
    let project = with_examples();
    let parallel = project.weft(&["run", "examples/pi.wf"]);
    parallel.success();
    let lines = parallel.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("160000 points, "), "{lines:?}");
    let estimate: f64 = lines[1]
        .strip_prefix("pi is about ")
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!((3.1..3.18).contains(&estimate), "pi is about {estimate}");
    assert_eq!(project.read("pi.txt"), format!("{estimate}\n"));
    // Seeded samplers: the same numbers one task at a time, or with other options.
    let sequential = project.weft(&["run", "examples/pi.wf", "--sequential"]);
    assert_eq!(sequential.success().stdout, parallel.stdout);
    let small = project.weft(&["run", "examples/pi.wf", "--samples", "2", "--points", "500"]);
    assert!(small.success().stdout.starts_with("1000 points, "));
}

#[test]
fn kmeans_converges_to_the_clusters_of_its_data() {
    let project = with_examples();
    let parallel = project.weft(&["run", "examples/kmeans.wf"]);
    parallel.success();
    let lines = parallel.lines();
    assert_eq!(lines.len(), 4, "{lines:?}");
    let iterations: usize = lines[0]
        .strip_prefix("3 clusters after ")
        .and_then(|rest| rest.strip_suffix(" iterations"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{lines:?}"));
    // The loop ran until the centroids stopped moving: more than once, fewer than the cap.
    assert!((2..50).contains(&iterations), "{iterations} iterations");
    // The data were drawn around (1, 1), (3, 5) and (5, 1.5).
    let centroids: Vec<Vec<f64>> = serde_json::from_str(&project.read("centroids.json")).unwrap();
    let mut centroids = centroids;
    centroids.sort_by(|a, b| a[0].total_cmp(&b[0]));
    for (found, expected) in centroids.iter().zip([[1.0, 1.0], [3.0, 5.0], [5.0, 1.5]]) {
        assert!(
            (found[0] - expected[0]).abs() < 0.2 && (found[1] - expected[1]).abs() < 0.2,
            "{found:?} is far from {expected:?}"
        );
    }
    // Control flow that depends on results gives the same answer one task at a time.
    let sequential = project.weft(&["run", "examples/kmeans.wf", "--sequential"]);
    assert_eq!(sequential.success().stdout, parallel.stdout);
}

#[test]
fn mpi_ranks_all_report() {
    let project = with_examples();
    // Open MPI when it is installed, else the stand-in runner the example ships.
    let has_mpirun = std::process::Command::new("sh")
        .args(["-c", "command -v mpirun"])
        .output()
        .is_ok_and(|o| o.status.success());
    let mut args = vec!["run", "examples/mpi.wf", "--", "--ranks", "3"];
    if !has_mpirun {
        args.extend(["--runner", "examples/data/mpi/fake-mpirun"]);
    }
    let outcome = project.weft(&args);
    outcome.success().expect_stdout(&[
        "rank 0 of 3: hello from weft",
        "rank 1 of 3: hello from weft",
        "rank 2 of 3: hello from weft",
        "",
    ]);
}

fn read_matrix(path: &Path) -> Vec<Vec<i64>> {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn matmul_multiplies_by_blocks() {
    let project = with_examples();
    let a = read_matrix(&project.path("examples/data/matmul/a.json"));
    let b = read_matrix(&project.path("examples/data/matmul/b.json"));
    let n = a.len();
    let expected: Vec<Vec<i64>> = (0..n)
        .map(|i| {
            (0..n)
                .map(|j| (0..n).map(|k| a[i][k] * b[k][j]).sum())
                .collect()
        })
        .collect();
    for size in ["1", "2", "4"] {
        let outcome = project.weft(&["run", "examples/matmul.wf", "--size", size]);
        outcome.success();
        assert_eq!(
            read_matrix(&project.path("product.json")),
            expected,
            "size {size}"
        );
        let printed: Vec<Vec<i64>> = outcome
            .lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(printed, expected);
    }
    // 2 × 2 blocks of a 4 × 4 matrix: 2 × 2 result blocks of 2 products each.
    let graph = project.weft(&["graph", "examples/matmul.wf", "--format", "json"]);
    let graph: serde_json::Value = serde_json::from_str(graph.success().stdout.trim()).unwrap();
    assert_eq!(graph["nodes"].as_array().unwrap().len(), 8);
    assert_eq!(graph["edges"].as_array().unwrap().len(), 4);
}

#[test]
fn pipeline_greps_sorts_and_merges() {
    let project = with_examples();
    let log = project.read("examples/data/pipeline/service.log");
    for (pattern, chunks) in [("ERROR", "4"), ("invalid token", "3")] {
        let mut expected: Vec<&str> = log.lines().filter(|l| l.contains(pattern)).collect();
        expected.sort_unstable();
        let outcome = project.weft(&[
            "run",
            "examples/pipeline.wf",
            "--pattern",
            pattern,
            "--chunks",
            chunks,
        ]);
        outcome.success();
        let merged = project.read("matches.log");
        assert_eq!(merged.lines().collect::<Vec<_>>(), expected, "{pattern}");
        // Each matching line sits in exactly one chunk: count the chunks that hold one.
        let chunk_count: usize = chunks.parse().unwrap();
        let with_match = (0..chunk_count)
            .filter(|c| {
                log.lines()
                    .enumerate()
                    .any(|(i, l)| (i + 1) % chunk_count == *c && l.contains(pattern))
            })
            .count();
        outcome.expect_stdout(&[&format!(
            "{} lines hold \"{pattern}\"; {with_match} of {chunks} chunks had some",
            expected.len()
        )]);
    }
}

#[test]
fn search_stops_at_the_first_find() {
    let project = with_examples();
    project.write("two-cores.yaml", "executor: local\nlocal:\n  cores: 2\n");
    project
        .weft(&["run", "examples/search.wf", "--config", "two-cores.yaml"])
        .success()
        .expect_stdout(&[
            "GATTACAGATTACA found at reads-4.txt:23 by `scan`; the rest of group search was \
             cancelled",
        ]);
    // Scans 5 and 6 were waiting for a core when scan 4 found the motif: never started.
    let started = project.attempt_dirs("scan").len();
    assert!(started < 6, "{started} scans started");
    project
        .weft(&[
            "run",
            "examples/search.wf",
            "--",
            "--motif",
            "CCCCCCCCCCCCCCCCCCCCCCCC",
            "--effort",
            "0",
        ])
        .success()
        .expect_stdout(&["CCCCCCCCCCCCCCCCCCCCCCCC is in none of the 6 files"]);
}

#[test]
fn frequencies_picks_an_implementation_by_the_cores_available() {
    let mut results = Vec::new();
    for (cores, implementation) in [(2, "two_cores"), (1, "one_core")] {
        let project = with_examples();
        project.write(
            "machine.yaml",
            &format!("executor: local\nlocal:\n  cores: {cores}\n"),
        );
        let outcome = project.weft(&[
            "run",
            "examples/frequencies.wf",
            "--config",
            "machine.yaml",
            "--top",
            "4",
        ]);
        outcome.success();
        let attempts = project.attempt_dirs("frequencies");
        assert_eq!(attempts.len(), 1);
        let log = std::fs::read_to_string(attempts[0].join("stderr.log")).unwrap();
        assert_eq!(log, format!("implementation: {implementation}\n"));
        assert_eq!(outcome.stdout, project.read("frequencies.txt") + "\n");
        results.push(project.read("frequencies.txt"));
    }
    assert_eq!(results[0], results[1], "both implementations agree");
    assert_eq!(results[0], "24 the\n8 and\n5 it\n5 of\n");
}
