//! `--report FILE.html`: the report of a real run is well-formed (it parses as XML), has its
//! sections — summary, tasks, timeline, graph, failures with log tails — needs nothing from
//! outside, and renders in headless Chromium without console errors (a screenshot is left in
//! the test artifacts; the check is skipped where Chromium is not installed).

mod recorded;

use std::path::{Path, PathBuf};
use std::process::Command;

use recorded::{run_recorded, WORKFLOW};
use weft_executor::runtime::Recording;

fn parse(html: &str) -> roxmltree::Document<'_> {
    roxmltree::Document::parse_with_options(
        html,
        roxmltree::ParsingOptions {
            allow_dtd: true,
            ..roxmltree::ParsingOptions::default()
        },
    )
    .unwrap_or_else(|e| panic!("the report is not well-formed: {e}\n{html}"))
}

fn section<'a>(doc: &'a roxmltree::Document<'a>, id: &str) -> roxmltree::Node<'a, 'a> {
    doc.descendants()
        .find(|n| n.has_tag_name("section") && n.attribute("id") == Some(id))
        .unwrap_or_else(|| panic!("no section `{id}`"))
}

fn text_of(node: roxmltree::Node<'_, '_>) -> String {
    node.descendants()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .collect()
}

#[test]
fn the_report_of_a_run_is_well_formed_complete_and_self_contained() {
    let run = run_recorded(WORKFLOW, |dir| Recording {
        report: Some(dir.join("report.html")),
        ..Recording::default()
    });
    let html = std::fs::read_to_string(run.path("report.html")).expect("the report was written");
    let doc = parse(&html);
    assert_eq!(doc.root_element().tag_name().name(), "html");

    let summary = text_of(section(&doc, "summary"));
    assert!(summary.contains("success (exit status 0)"), "{summary}");
    assert!(summary.contains(&run.record.run), "{summary}");
    assert!(summary.contains("1 ignored"), "{summary}");

    let tasks = section(&doc, "tasks");
    let rows: Vec<_> = tasks
        .descendants()
        .filter(|n| n.has_tag_name("tr"))
        .skip(1)
        .collect();
    assert_eq!(rows.len(), 6, "one row per call");
    let flaky = rows
        .iter()
        .map(|r| {
            r.children()
                .filter(|c| c.has_tag_name("td"))
                .map(text_of)
                .collect::<Vec<_>>()
        })
        .find(|cells| cells[1] == "flaky")
        .expect("a row for flaky");
    assert_eq!(flaky[3], "done");
    assert_eq!(flaky[4], "2", "two attempts");
    assert!(flaky[6].starts_with("local #"), "{flaky:?}");

    // The timeline: one bar per attempt, inside an inline SVG.
    let timeline = section(&doc, "timeline");
    let svg = timeline
        .descendants()
        .find(|n| n.tag_name().name() == "svg")
        .expect("an inline SVG");
    assert_eq!(
        svg.tag_name().namespace(),
        Some("http://www.w3.org/2000/svg")
    );
    let bars = svg
        .descendants()
        .filter(|n| n.tag_name().name() == "rect")
        .count();
    assert_eq!(bars, 7);
    assert!(text_of(timeline).contains("local · slot 0"));

    // The graph: a box per call, an arrow per dependency.
    let graph = section(&doc, "graph");
    let boxes = graph
        .descendants()
        .filter(|n| n.tag_name().name() == "rect")
        .count();
    assert_eq!(boxes, 6);
    let arrows = graph
        .descendants()
        .filter(|n| n.tag_name().name() == "line")
        .count();
    assert_eq!(arrows, 4, "total waits for three makes, broken for one");

    // Failures, with the last lines of standard error, escaped as text.
    let failures = text_of(section(&doc, "failures"));
    assert!(failures.contains("exit status 3"), "{failures}");
    assert!(failures.contains("first attempt fails"), "{failures}");
    assert!(
        failures.contains("something went wrong: <b>&"),
        "{failures}"
    );

    // Self-contained: no script, nothing loaded from elsewhere.
    for node in doc.descendants().filter(|n| n.is_element()) {
        assert_ne!(node.tag_name().name(), "script");
        assert_ne!(node.tag_name().name(), "link");
        for attribute in ["src", "href"] {
            if let Some(value) = node.attribute(attribute) {
                assert!(
                    value.starts_with('#') || value.starts_with("url(#"),
                    "{value}"
                );
            }
        }
    }

    render_in_chromium(&run.path("report.html"));
}

/// The first of the usual names of Chromium found on `PATH`.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome", "chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

fn render_in_chromium(report: &Path) {
    let Some(chromium) = chromium() else {
        eprintln!("Chromium is not installed: the rendering check is skipped");
        return;
    };
    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-artifacts");
    std::fs::create_dir_all(&artifacts).expect("an artifacts folder");
    let screenshot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&screenshot);
    let profile = tempfile::tempdir().expect("a profile folder");
    let url = format!("file://{}", report.display());
    let headless = |extra: &[String]| {
        let output = Command::new(&chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(extra)
            .arg(&url)
            .output()
            .expect("chromium runs");
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE")).collect();
        assert!(
            console.is_empty(),
            "the page logged to the console:\n{}",
            console.join("\n")
        );
        assert!(output.status.success(), "chromium failed:\n{stderr}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    headless(&[
        "--window-size=1280,1600".to_string(),
        format!("--screenshot={}", screenshot.display()),
    ]);
    let png = std::fs::read(&screenshot).expect("a screenshot");
    assert!(png.starts_with(b"\x89PNG"), "the screenshot is a PNG");
    assert!(png.len() > 10_000, "the screenshot shows something");
    // The page as Chromium built it has every section.
    let dom = headless(&["--dump-dom".to_string()]);
    for id in ["summary", "tasks", "timeline", "graph", "failures"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "no {id} in the DOM");
    }
    eprintln!("screenshot: {}", screenshot.display());
}
