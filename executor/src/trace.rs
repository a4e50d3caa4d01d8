//! `weft run --trace FILE`: the run in the Chrome trace-event format, which Perfetto
//! (ui.perfetto.dev, trace_processor) and chrome://tracing open.
//!
//! Each resource is a process (`pid`), each of its slots a thread (`tid`) — a lane holding one
//! attempt at a time — and each attempt one complete event (`ph: "X"`) named after its task,
//! with the call's place, the resource, the status and the attempt number as arguments.
//! Times are microseconds since the run started. Metadata events name every lane.

use std::collections::BTreeSet;
use std::path::Path;

use indexmap::IndexMap;
use serde_json::{json, Value};

use crate::record::{write_file_atomically, RunRecord};

/// The trace of a run, as a JSON object (`traceEvents` and some `otherData`).
pub fn chrome_trace(record: &RunRecord) -> Value {
    // Resources in configuration order, then lanes only attempts name (nested workflows,
    // multi-node attempts).
    let mut lanes: IndexMap<String, BTreeSet<usize>> = record
        .resources
        .iter()
        .map(|r| (r.name.clone(), BTreeSet::new()))
        .collect();
    for (_, attempt) in record.attempts() {
        lanes
            .entry(attempt.resource.clone())
            .or_default()
            .insert(attempt.slot);
    }
    let pid_of = |resource: &str| lanes.get_index_of(resource).map_or(0, |i| i + 1);
    let mut events = Vec::new();
    for (index, (resource, slots)) in lanes.iter().enumerate() {
        let pid = index + 1;
        events.push(json!({
            "name": "process_name", "ph": "M", "pid": pid, "tid": 0,
            "args": { "name": resource },
        }));
        events.push(json!({
            "name": "process_sort_index", "ph": "M", "pid": pid, "tid": 0,
            "args": { "sort_index": index },
        }));
        for slot in slots {
            events.push(json!({
                "name": "thread_name", "ph": "M", "pid": pid, "tid": slot + 1,
                "args": { "name": format!("{resource} slot {slot}") },
            }));
            events.push(json!({
                "name": "thread_sort_index", "ph": "M", "pid": pid, "tid": slot + 1,
                "args": { "sort_index": slot },
            }));
        }
    }
    for (task, attempt) in record.attempts() {
        let mut args = json!({
            "call": task.place(),
            "line": task.line,
            "task_id": task.id,
            "resource": attempt.resource,
            "status": attempt.status.as_str(),
            "attempt": attempt.attempt,
        });
        if let Some(message) = &attempt.message {
            args["message"] = json!(message);
        }
        if let Some(reason) = &attempt.reason {
            args["reason"] = json!(reason);
        }
        events.push(json!({
            "name": task.name,
            "cat": attempt.status.as_str(),
            "ph": "X",
            "ts": attempt.start_us.saturating_sub(record.start_us),
            // Perfetto hides zero-length slices; a restored attempt can take under 1µs.
            "dur": attempt.duration_us().max(1),
            "pid": pid_of(&attempt.resource),
            "tid": attempt.slot + 1,
            "args": args,
        }));
    }
    json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "run": record.run,
            "workflow": record.workflow,
            "workflow_file": record.workflow_file,
            "status": record.status,
            "weft_version": record.weft_version,
        },
    })
}

/// Writes the trace of a run to `path`.
pub fn write_trace(record: &RunRecord, path: &Path) -> Result<(), String> {
    let text = serde_json::to_string(&chrome_trace(record)).map_err(|e| e.to_string())?;
    write_file_atomically(path, text.as_bytes())
}
