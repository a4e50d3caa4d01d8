//! `weft run --report FILE.html`: one self-contained page (no scripts, no outside styles)
//! from the Handlebars template `templates/report.html.hbs`: the run's summary, a table of
//! calls (attempts, durations, exit status, resources), a timeline of the attempts per
//! resource slot (inline SVG), the executed graph (inline SVG, or a list when too large to
//! draw), and the failures with the last lines of their logs.
//!
//! The page is well-formed XML too (XHTML syntax), so tools can read it back.

use std::collections::HashMap;
use std::path::Path;

use handlebars::Handlebars;
use indexmap::IndexMap;
use serde::Serialize;

use crate::attempt::log_tail;
use crate::record::{
    format_us, rfc3339, status_colour, write_file_atomically, AttemptStatus, RunRecord, TaskStatus,
};

const TEMPLATE: &str = include_str!("../templates/report.html.hbs");

/// Above this many calls the graph is a list: a drawing would be unreadable.
const MAX_DRAWN_NODES: usize = 300;

const LOG_TAIL_LINES: usize = 20;

#[derive(Serialize)]
struct Context {
    title: String,
    summary: Vec<(String, String)>,
    counts: Vec<Count>,
    tasks: Vec<TaskRow>,
    timeline: Timeline,
    graph: Option<Graph>,
    graph_list: Vec<ListNode>,
    failures: Vec<Failure>,
    legend: Vec<Count>,
}

#[derive(Serialize)]
struct Count {
    status: &'static str,
    count: usize,
    colour: &'static str,
}

#[derive(Serialize)]
struct TaskRow {
    id: u64,
    name: String,
    place: String,
    status: &'static str,
    colour: &'static str,
    attempts: usize,
    duration: String,
    resources: String,
    exit: String,
}

#[derive(Serialize)]
struct Timeline {
    width: u32,
    height: u32,
    label_width: u32,
    lanes: Vec<Lane>,
    bars: Vec<Bar>,
    ticks: Vec<Tick>,
}

#[derive(Serialize)]
struct Lane {
    y: u32,
    text_y: u32,
    label: String,
}

#[derive(Serialize)]
struct Bar {
    x: f64,
    y: u32,
    width: f64,
    colour: &'static str,
    title: String,
}

#[derive(Serialize)]
struct Tick {
    x: f64,
    label: String,
}

#[derive(Serialize)]
struct Graph {
    width: u32,
    height: u32,
    nodes: Vec<GraphNode>,
    edges: Vec<GraphEdge>,
}

#[derive(Serialize)]
struct GraphNode {
    x: u32,
    y: u32,
    text_x: u32,
    text_y: u32,
    time_y: u32,
    label: String,
    timing: String,
    colour: &'static str,
    title: String,
}

#[derive(Serialize)]
struct GraphEdge {
    x1: u32,
    y1: u32,
    x2: u32,
    y2: u32,
}

#[derive(Serialize)]
struct ListNode {
    id: u64,
    name: String,
    place: String,
    status: &'static str,
    deps: String,
}

#[derive(Serialize)]
struct Failure {
    name: String,
    place: String,
    attempt: u32,
    status: &'static str,
    message: String,
    stderr_log: String,
    stderr_tail: String,
    stdout_log: String,
    stdout_tail: String,
}

const LANE_HEIGHT: u32 = 20;
const TIMELINE_LABEL_WIDTH: u32 = 170;
const TIMELINE_PLOT_WIDTH: u32 = 820;
const NODE_WIDTH: u32 = 170;
const NODE_HEIGHT: u32 = 40;
const NODE_GAP_X: u32 = 20;
const LAYER_GAP_Y: u32 = 40;

fn timeline(record: &RunRecord) -> Timeline {
    let attempts = record.attempts();
    let mut lanes: IndexMap<(String, usize), u32> = IndexMap::new();
    let mut keys: Vec<(usize, String, usize)> = attempts
        .iter()
        .map(|(_, a)| {
            let order = record
                .resources
                .iter()
                .position(|r| r.name == a.resource)
                .unwrap_or(record.resources.len());
            (order, a.resource.clone(), a.slot)
        })
        .collect();
    keys.sort();
    keys.dedup();
    for (_, resource, slot) in keys {
        let next = lanes.len() as u32;
        lanes.insert((resource, slot), next);
    }
    let end = attempts
        .iter()
        .map(|(_, a)| a.end_us)
        .max()
        .unwrap_or(record.end_us)
        .max(record.end_us);
    let total = end.saturating_sub(record.start_us).max(1) as f64;
    let scale = TIMELINE_PLOT_WIDTH as f64 / total;
    let x_of =
        |us: u64| TIMELINE_LABEL_WIDTH as f64 + us.saturating_sub(record.start_us) as f64 * scale;
    let top = 24;
    let bars = attempts
        .iter()
        .map(|(task, attempt)| {
            let lane = lanes[&(attempt.resource.clone(), attempt.slot)];
            let x = x_of(attempt.start_us);
            Bar {
                x: round(x),
                y: top + lane * LANE_HEIGHT + 2,
                width: round((x_of(attempt.end_us) - x).max(1.0)),
                colour: attempt_colour(attempt.status),
                title: format!(
                    "{} ({}) attempt {}: {}, {}",
                    task.name,
                    task.place(),
                    attempt.attempt,
                    attempt.status.as_str(),
                    format_us(attempt.duration_us())
                ),
            }
        })
        .collect();
    let ticks = (0..=4)
        .map(|i| {
            let at = total * i as f64 / 4.0;
            Tick {
                x: round(TIMELINE_LABEL_WIDTH as f64 + at * scale),
                label: format_us(at as u64),
            }
        })
        .collect();
    let lanes: Vec<Lane> = lanes
        .iter()
        .map(|((resource, slot), index)| Lane {
            y: top + index * LANE_HEIGHT,
            text_y: top + index * LANE_HEIGHT + 14,
            label: format!("{resource} · slot {slot}"),
        })
        .collect();
    Timeline {
        width: TIMELINE_LABEL_WIDTH + TIMELINE_PLOT_WIDTH + 20,
        height: top + lanes.len() as u32 * LANE_HEIGHT + 8,
        label_width: TIMELINE_LABEL_WIDTH,
        lanes,
        bars,
        ticks,
    }
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn attempt_colour(status: AttemptStatus) -> &'static str {
    status_colour(match status {
        AttemptStatus::Done => TaskStatus::Done,
        AttemptStatus::Cached => TaskStatus::Cached,
        AttemptStatus::Failed => TaskStatus::Failed,
        AttemptStatus::Raised => TaskStatus::Raised,
        AttemptStatus::Cancelled => TaskStatus::Cancelled,
        AttemptStatus::Running => TaskStatus::Unfinished,
    })
}

/// A layered drawing: each call one layer below the deepest call it waited for.
fn graph(record: &RunRecord) -> Graph {
    let mut layer: HashMap<u64, u32> = HashMap::new();
    let edges = record.edges();
    let mut incoming: HashMap<u64, Vec<u64>> = HashMap::new();
    for (from, to) in &edges {
        incoming.entry(*to).or_default().push(*from);
    }
    // Dependencies are earlier calls: program order is a topological order.
    for task in &record.tasks {
        let depth = incoming
            .get(&task.id)
            .into_iter()
            .flatten()
            .filter_map(|d| layer.get(d))
            .map(|l| l + 1)
            .max()
            .unwrap_or(0);
        layer.insert(task.id, depth);
    }
    let mut per_layer: HashMap<u32, u32> = HashMap::new();
    let mut position: HashMap<u64, (u32, u32)> = HashMap::new();
    for task in &record.tasks {
        let l = layer[&task.id];
        let column = per_layer.entry(l).or_insert(0);
        position.insert(
            task.id,
            (
                10 + *column * (NODE_WIDTH + NODE_GAP_X),
                10 + l * (NODE_HEIGHT + LAYER_GAP_Y),
            ),
        );
        *column += 1;
    }
    let columns = per_layer.values().copied().max().unwrap_or(0);
    let layers = per_layer.keys().copied().max().map_or(0, |l| l + 1);
    let nodes = record
        .tasks
        .iter()
        .map(|task| {
            let (x, y) = position[&task.id];
            let timing = match task.span_us() {
                Some((start, end)) => {
                    format!("{} · {}", task.status.as_str(), format_us(end - start))
                }
                None => task.status.as_str().to_string(),
            };
            GraphNode {
                x,
                y,
                text_x: x + 8,
                text_y: y + 16,
                time_y: y + 32,
                label: shorten(&format!("{} (line {})", task.name, task.line), 26),
                timing,
                colour: status_colour(task.status),
                title: format!("#{} {} at {}", task.id, task.name, task.place()),
            }
        })
        .collect();
    let edges = edges
        .iter()
        .map(|(from, to)| {
            let (fx, fy) = position[from];
            let (tx, ty) = position[to];
            GraphEdge {
                x1: fx + NODE_WIDTH / 2,
                y1: fy + NODE_HEIGHT,
                x2: tx + NODE_WIDTH / 2,
                y2: ty,
            }
        })
        .collect();
    Graph {
        width: 20 + columns * (NODE_WIDTH + NODE_GAP_X),
        height: 20 + layers * (NODE_HEIGHT + LAYER_GAP_Y),
        nodes,
        edges,
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

fn context(record: &RunRecord) -> Context {
    let duration = record.end_us.saturating_sub(record.start_us);
    let mut summary = vec![
        (
            "Workflow".to_string(),
            format!("{} ({})", record.workflow, record.workflow_file.display()),
        ),
        ("Run".to_string(), record.run.clone()),
        (
            "Status".to_string(),
            format!("{} (exit status {})", record.status, record.exit_code),
        ),
        ("Started".to_string(), rfc3339(record.start_us)),
        ("Duration".to_string(), format_us(duration)),
        ("Calls".to_string(), record.tasks.len().to_string()),
        (
            "Attempts".to_string(),
            record
                .tasks
                .iter()
                .map(|t| t.attempts.len())
                .sum::<usize>()
                .to_string(),
        ),
        (
            "Resources".to_string(),
            record
                .resources
                .iter()
                .map(|r| format!("{} ({} cores)", r.name, r.cores))
                .collect::<Vec<_>>()
                .join(", "),
        ),
        (
            "Directory".to_string(),
            record.run_dir.display().to_string(),
        ),
        ("weft".to_string(), record.weft_version.clone()),
    ];
    if record.resumed {
        summary.push(("Resumed".to_string(), "yes (--resume)".to_string()));
    }
    if let Some(config) = &record.config_file {
        summary.push(("Configuration".to_string(), config.display().to_string()));
    }
    let counts = TaskStatus::ALL
        .iter()
        .map(|s| Count {
            status: s.as_str(),
            count: record.tasks.iter().filter(|t| t.status == *s).count(),
            colour: status_colour(*s),
        })
        .filter(|c| c.count > 0)
        .collect();
    let legend = TaskStatus::ALL
        .iter()
        .map(|s| Count {
            status: s.as_str(),
            count: 0,
            colour: status_colour(*s),
        })
        .collect();
    let tasks = record
        .tasks
        .iter()
        .map(|task| {
            let mut resources: Vec<String> = task
                .attempts
                .iter()
                .map(|a| format!("{} #{}", a.resource, a.slot))
                .collect();
            resources.dedup();
            let exit = match task.attempts.last() {
                Some(a) => match (&a.message, a.status) {
                    (Some(m), _) => m.clone(),
                    (None, AttemptStatus::Done) => "ok".to_string(),
                    (None, status) => status.as_str().to_string(),
                },
                None => "never started".to_string(),
            };
            TaskRow {
                id: task.id,
                name: task.name.clone(),
                place: task.place(),
                status: task.status.as_str(),
                colour: status_colour(task.status),
                attempts: task.attempts.len(),
                duration: format_us(task.attempts.iter().map(|a| a.duration_us()).sum()),
                resources: resources.join(", "),
                exit,
            }
        })
        .collect();
    let failures = record
        .tasks
        .iter()
        .flat_map(|task| task.attempts.iter().map(move |a| (task, a)))
        .filter(|(_, a)| matches!(a.status, AttemptStatus::Failed | AttemptStatus::Raised))
        .map(|(task, attempt)| {
            let tail = |log: &Option<std::path::PathBuf>| {
                log.as_ref()
                    .map(|p| log_tail(&record.run_dir.join(p), LOG_TAIL_LINES))
                    .unwrap_or_default()
            };
            let shown = |log: &Option<std::path::PathBuf>| {
                log.as_ref()
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            };
            Failure {
                name: task.name.clone(),
                place: task.place(),
                attempt: attempt.attempt,
                status: attempt.status.as_str(),
                message: attempt.message.clone().unwrap_or_default(),
                stderr_log: shown(&attempt.stderr_log),
                stderr_tail: tail(&attempt.stderr_log),
                stdout_log: shown(&attempt.stdout_log),
                stdout_tail: tail(&attempt.stdout_log),
            }
        })
        .collect();
    let drawn = record.tasks.len() <= MAX_DRAWN_NODES;
    let graph_list = if drawn {
        Vec::new()
    } else {
        record
            .tasks
            .iter()
            .map(|t| ListNode {
                id: t.id,
                name: t.name.clone(),
                place: t.place(),
                status: t.status.as_str(),
                deps: t
                    .deps
                    .iter()
                    .map(|d| format!("#{d}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            })
            .collect()
    };
    Context {
        title: format!(
            "weft run {} of {}",
            record.run,
            record.workflow_file.display()
        ),
        summary,
        counts,
        tasks,
        timeline: timeline(record),
        graph: (drawn && !record.tasks.is_empty()).then(|| graph(record)),
        graph_list,
        failures,
        legend,
    }
}

/// The report of a run, as HTML text.
pub fn render_report(record: &RunRecord) -> Result<String, String> {
    let mut handlebars = Handlebars::new();
    handlebars.set_strict_mode(true);
    handlebars
        .register_template_string("report", TEMPLATE)
        .map_err(|e| format!("the report template: {e}"))?;
    handlebars
        .render("report", &context(record))
        .map_err(|e| format!("the report template: {e}"))
}

/// Writes the report of a run to `path`.
pub fn write_report(record: &RunRecord, path: &Path) -> Result<(), String> {
    let html = render_report(record)?;
    write_file_atomically(path, html.as_bytes())
}
