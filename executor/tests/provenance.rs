//! `--provenance DIR`: the Workflow Run RO-Crate of a real run has what the RO-Crate 1.1
//! specification and the Process Run Crate and Workflow Run Crate profiles (0.5) require:
//! the metadata descriptor, a root dataset conforming to the profiles with the workflow as
//! its main entity, the workflow as a File + SoftwareSourceCode + ComputationalWorkflow
//! copied into the crate, a CreateAction for the run whose instrument is the workflow, a
//! CreateAction per task attempt with its times, instrument, inputs and results, files with
//! checksums, the configuration and weft itself.

mod recorded;

use std::collections::{BTreeMap, BTreeSet};

use recorded::{run_with_config, WORKFLOW};
use serde_json::Value;
use sha2::{Digest, Sha256};
use weft_executor::provenance::{PROCESS_RUN_CRATE, RO_CRATE, WORKFLOW_RUN_CRATE};
use weft_executor::runtime::Recording;

const CONFIG: &str = "executor: local\nlocal:\n  cores: 2\n";

fn ids(value: &Value) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().flat_map(ids).collect(),
        Value::Object(map) => map
            .get("@id")
            .and_then(Value::as_str)
            .map(|id| vec![id.to_string()])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn types(entity: &Value) -> BTreeSet<String> {
    match &entity["@type"] {
        Value::String(t) => [t.clone()].into_iter().collect(),
        Value::Array(ts) => ts
            .iter()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect(),
        _ => BTreeSet::new(),
    }
}

/// ISO 8601 as the Process Run Crate profile checks it: `2024-05-01T10:00:00.123+00:00`.
fn is_time(value: &Value) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    let Some((time, offset)) = text.rsplit_once('+') else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let offset_ok = offset.len() == 5
        && offset.as_bytes()[2] == b':'
        && digits(&offset[..2])
        && digits(&offset[3..]);
    let (seconds, fraction) = time.split_once('.').unwrap_or((time, "000"));
    offset_ok
        && fraction.len() == 3
        && digits(fraction)
        && humantime::parse_rfc3339(&format!("{seconds}Z")).is_ok()
}

#[test]
fn the_crate_has_what_the_workflow_run_crate_profile_requires() {
    let run = run_with_config(WORKFLOW, Some(CONFIG), |dir| Recording {
        provenance: Some(dir.join("crate")),
        ..Recording::default()
    });
    let crate_dir = run.path("crate");
    let text = std::fs::read_to_string(crate_dir.join("ro-crate-metadata.json"))
        .expect("ro-crate-metadata.json");
    let metadata: Value = serde_json::from_str(&text).expect("JSON-LD");
    assert_eq!(
        metadata["@context"],
        "https://w3id.org/ro/crate/1.1/context"
    );
    let graph: BTreeMap<String, Value> = metadata["@graph"]
        .as_array()
        .expect("@graph")
        .iter()
        .map(|e| {
            (
                e["@id"]
                    .as_str()
                    .expect("every entity has an @id")
                    .to_string(),
                e.clone(),
            )
        })
        .collect();
    let entity = |id: &str| {
        graph
            .get(id)
            .unwrap_or_else(|| panic!("no entity {id}"))
            .clone()
    };

    // The metadata descriptor and the root dataset.
    let descriptor = entity("ro-crate-metadata.json");
    assert_eq!(descriptor["conformsTo"]["@id"], RO_CRATE);
    assert_eq!(descriptor["about"]["@id"], "./");
    let root = entity("./");
    assert!(types(&root).contains("Dataset"));
    for key in ["name", "description", "datePublished"] {
        assert!(root[key].is_string(), "the root has no {key}");
    }
    assert!(is_time(&root["datePublished"]));
    assert!(root["license"].is_string(), "RO-Crate requires a license");
    let profiles = ids(&root["conformsTo"]);
    assert!(profiles.contains(&PROCESS_RUN_CRATE.to_string()));
    assert!(profiles.contains(&WORKFLOW_RUN_CRATE.to_string()));
    for profile in &profiles {
        assert!(types(&entity(profile)).contains("CreativeWork"));
    }

    // The main workflow: in the crate, as it ran.
    let main_id = root["mainEntity"]["@id"].as_str().expect("a mainEntity");
    assert_eq!(main_id, "main.wf");
    let main = entity(main_id);
    for t in ["File", "SoftwareSourceCode", "ComputationalWorkflow"] {
        assert!(types(&main).contains(t), "the workflow is no {t}");
    }
    assert_eq!(
        std::fs::read_to_string(crate_dir.join("main.wf")).expect("main.wf copied"),
        WORKFLOW
    );
    let language = entity(
        main["programmingLanguage"]["@id"]
            .as_str()
            .expect("a language"),
    );
    assert!(types(&language).contains("ComputerLanguage"));
    assert_eq!(language["name"], "weft");
    assert!(ids(&root["hasPart"]).contains(&main_id.to_string()));

    // The run: a CreateAction whose instrument is the workflow.
    let actions: Vec<&Value> = graph
        .values()
        .filter(|e| types(e).contains("CreateAction"))
        .collect();
    let workflow_runs: Vec<&&Value> = actions
        .iter()
        .filter(|a| a["instrument"]["@id"] == main_id)
        .collect();
    assert_eq!(workflow_runs.len(), 1, "one run of the workflow");
    let workflow_run = workflow_runs[0];
    assert!(is_time(&workflow_run["startTime"]) && is_time(&workflow_run["endTime"]));
    assert_eq!(
        workflow_run["actionStatus"],
        "http://schema.org/CompletedActionStatus"
    );
    assert!(ids(&root["mentions"]).contains(&workflow_run["@id"].as_str().unwrap().to_string()));
    let results = ids(&workflow_run["result"]);
    assert_eq!(results.len(), 4, "p1, p2, p3 and flaky: {results:?}");
    for id in &results {
        let file = entity(id);
        assert!(types(&file).contains("File"));
        let path = id.strip_prefix("file://").expect("a file URI");
        let content = std::fs::read(path).expect("the output exists");
        let sha256: String = Sha256::digest(&content)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(file["sha256"], sha256.as_str(), "{id}");
        assert_eq!(file["contentSize"], content.len().to_string().as_str());
    }

    // Each attempt: a CreateAction with its times, its task, what it read and wrote.
    let attempts: Vec<&&Value> = actions
        .iter()
        .filter(|a| a["@id"].as_str().is_some_and(|id| id.contains("-attempt-")))
        .collect();
    assert_eq!(attempts.len(), 7);
    for attempt in &attempts {
        assert!(is_time(&attempt["startTime"]) && is_time(&attempt["endTime"]));
        assert!(attempt["startTime"].as_str() <= attempt["endTime"].as_str());
        let instrument = entity(
            attempt["instrument"]["@id"]
                .as_str()
                .expect("an instrument"),
        );
        assert!(types(&instrument).contains("SoftwareApplication"));
        assert!(attempt["object"].is_array() && attempt["result"].is_array());
    }
    let total = attempts
        .iter()
        .find(|a| a["name"].as_str().is_some_and(|n| n.starts_with("total ")))
        .expect("total's attempt");
    assert_eq!(ids(&total["object"]).len(), 3, "total read the three parts");
    let failed = attempts
        .iter()
        .filter(|a| a["actionStatus"] == "http://schema.org/FailedActionStatus")
        .count();
    assert_eq!(failed, 2, "flaky's first attempt and broken");

    // The configuration, copied, and weft itself.
    let config = entity("weft.yaml");
    assert!(types(&config).contains("File"));
    assert_eq!(
        std::fs::read_to_string(crate_dir.join("weft.yaml")).expect("weft.yaml copied"),
        CONFIG
    );
    let organize = graph
        .values()
        .find(|e| types(e).contains("OrganizeAction"))
        .expect("an OrganizeAction");
    assert_eq!(organize["result"]["@id"], workflow_run["@id"]);
    assert!(ids(&organize["object"]).contains(&"weft.yaml".to_string()));
    let weft = entity(organize["instrument"]["@id"].as_str().expect("weft"));
    assert!(types(&weft).contains("SoftwareApplication"));
    assert_eq!(weft["version"], env!("CARGO_PKG_VERSION"));

    // Every entity referenced is described.
    for e in graph.values() {
        for key in [
            "mainEntity",
            "hasPart",
            "instrument",
            "object",
            "result",
            "mentions",
        ] {
            for id in ids(&e[key]) {
                assert!(
                    graph.contains_key(&id),
                    "{} refers to {id}, not described",
                    e["@id"]
                );
            }
        }
    }
}
