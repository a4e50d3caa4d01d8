//! `--trace FILE`: the Chrome trace-event file of a real run passes a schema check — every
//! complete event has its name, times, process and thread, every lane is named, a lane holds
//! one attempt at a time — and tells what happened to each attempt.

mod recorded;

use std::collections::{BTreeMap, BTreeSet};

use recorded::{run_recorded, WORKFLOW};
use serde_json::Value;
use weft_executor::runtime::{Recording, RunEnd};

#[test]
fn the_trace_of_a_run_passes_the_schema_check_and_tells_each_attempt() {
    let run = run_recorded(WORKFLOW, |dir| Recording {
        trace: Some(dir.join("trace.json")),
        ..Recording::default()
    });
    assert_eq!(run.end, RunEnd::Success, "an ignored failure keeps success");
    let text = std::fs::read_to_string(run.path("trace.json")).expect("the trace was written");
    let trace: Value = serde_json::from_str(&text).expect("the trace is JSON");
    let events = trace["traceEvents"].as_array().expect("traceEvents");

    let mut process_names: BTreeMap<u64, String> = BTreeMap::new();
    let mut thread_names: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut slices = Vec::new();
    for event in events {
        let phase = event["ph"].as_str().expect("every event has a phase");
        let pid = event["pid"]
            .as_u64()
            .expect("every event has an integer pid");
        let tid = event["tid"]
            .as_u64()
            .expect("every event has an integer tid");
        match phase {
            "M" => match event["name"].as_str() {
                Some("process_name") => {
                    let name = event["args"]["name"].as_str().expect("a process name");
                    process_names.insert(pid, name.to_string());
                }
                Some("thread_name") => {
                    assert!(event["args"]["name"]
                        .as_str()
                        .is_some_and(|n| !n.is_empty()));
                    thread_names.insert((pid, tid));
                }
                Some("process_sort_index" | "thread_sort_index") => {}
                other => panic!("unexpected metadata event {other:?}"),
            },
            "X" => {
                let name = event["name"].as_str().expect("a slice has a name");
                let ts = event["ts"].as_u64().expect("a slice has a start");
                let dur = event["dur"].as_u64().expect("a slice has a duration");
                assert!(dur > 0, "{event}");
                let args = &event["args"];
                let call = args["call"].as_str().expect("the call's place");
                assert!(call.starts_with("main.wf:"), "{call}");
                let line: usize = call["main.wf:".len()..].parse().expect("a line number");
                assert_eq!(args["line"].as_u64(), Some(line as u64));
                assert!(args["resource"].as_str().is_some());
                let status = args["status"].as_str().expect("a status");
                assert!(
                    ["done", "failed", "raised", "cancelled", "cached"].contains(&status),
                    "{status}"
                );
                let attempt = args["attempt"].as_u64().expect("an attempt number");
                assert!(attempt >= 1);
                slices.push((pid, tid, ts, ts + dur, name.to_string(), status, attempt));
            }
            other => panic!("unexpected phase {other}"),
        }
    }
    assert_eq!(process_names.values().collect::<Vec<_>>(), vec!["local"]);
    for (pid, tid, ..) in &slices {
        assert!(
            thread_names.contains(&(*pid, *tid)),
            "lane {pid}/{tid} is not named"
        );
        assert!(process_names.contains_key(pid));
    }

    // Six calls; `flaky` took two attempts.
    assert_eq!(slices.len(), 7);
    let flaky: Vec<_> = slices.iter().filter(|s| s.4 == "flaky").collect();
    assert_eq!(
        flaky.iter().map(|s| (s.6, s.5)).collect::<Vec<_>>(),
        vec![(1, "failed"), (2, "done")]
    );
    let broken = slices.iter().find(|s| s.4 == "broken").expect("broken");
    assert_eq!(broken.5, "failed");
    assert_eq!(slices.iter().filter(|s| s.4 == "make").count(), 3);

    // A lane holds one attempt at a time (a slice lasts at least 1µs, so one that took
    // less may touch the next by that much).
    let mut by_lane: BTreeMap<(u64, u64), Vec<(u64, u64)>> = BTreeMap::new();
    for (pid, tid, start, end, ..) in &slices {
        by_lane
            .entry((*pid, *tid))
            .or_default()
            .push((*start, *end));
    }
    for (lane, mut spans) in by_lane {
        spans.sort();
        for pair in spans.windows(2) {
            assert!(
                pair[0].1 <= pair[1].0 + 1,
                "lane {lane:?} holds two attempts at once: {pair:?}"
            );
        }
    }
    // `total` waited for every `make`.
    let total = slices.iter().find(|s| s.4 == "total").expect("total");
    for make in slices.iter().filter(|s| s.4 == "make") {
        assert!(make.3 <= total.2, "total started before a make ended");
    }
    assert_eq!(trace["otherData"]["workflow"], "main");
}
