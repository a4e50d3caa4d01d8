//! `weft run --provenance DIR`: the run as a Workflow Run RO-Crate
//! (<https://www.researchobject.org/workflow-run-crate/>), as COMPSs writes one.
//!
//! `DIR/ro-crate-metadata.json` describes: the root dataset, conforming to the Process Run
//! Crate, Workflow Run Crate and Workflow RO-Crate profiles, with the main workflow file as
//! its `mainEntity` (a `File`, `SoftwareSourceCode` and `ComputationalWorkflow` whose
//! language is weft and whose inputs are the workflow's parameters); the workflow's files,
//! copied into DIR as they ran (imports and standard modules too); the run as a
//! `CreateAction` whose instrument is the workflow, whose object is its arguments and input
//! files and whose result is the files it wrote; each task attempt as a `CreateAction`
//! (start and end time, the task as instrument, the files it read and wrote); weft itself as
//! the `SoftwareApplication` of an `OrganizeAction` whose object is the configuration file
//! (copied too). Files outside the crate are referenced by `file://` URIs, with their size
//! and SHA-256 checksum as they are at the end of the run.

use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use weft_compiler::ast::Type;
use weft_compiler::program::{Program, STD_DIR};

use crate::record::{write_file_atomically, AttemptStatus, RunRecord, TaskStatus};

pub const PROCESS_RUN_CRATE: &str = "https://w3id.org/ro/wfrun/process/0.5";
pub const WORKFLOW_RUN_CRATE: &str = "https://w3id.org/ro/wfrun/workflow/0.5";
pub const WORKFLOW_RO_CRATE: &str = "https://w3id.org/workflowhub/workflow-ro-crate/1.0";
pub const RO_CRATE: &str = "https://w3id.org/ro/crate/1.1";
const FORMAL_PARAMETER: &str = "https://bioschemas.org/profiles/FormalParameter/1.0-RELEASE";
const COMPUTATIONAL_WORKFLOW: &str =
    "https://bioschemas.org/profiles/ComputationalWorkflow/1.0-RELEASE";
/// The root dataset's `license`: RO-Crate requires one, and a string is allowed.
pub const LICENSE_NOT_GIVEN: &str = "not specified: the workflow's author did not say";

/// ISO 8601 with an explicit offset (`…T07:08:06.242+00:00`), the form the Process Run
/// Crate profile checks for.
fn iso8601(us: u64) -> String {
    let time = crate::record::rfc3339(us);
    match time.strip_suffix('Z') {
        Some(utc) => format!("{utc}+00:00"),
        None => time,
    }
}

/// The text of the first task of that name, as written.
fn task_source<'a>(program: &'a Program, name: &str) -> Option<&'a str> {
    program.modules.iter().find_map(|module| {
        let index = *module.tasks.get(name)?;
        match module.ast.items.get(index)? {
            weft_compiler::ast::Item::Task(task) => {
                module.file.text.get(task.span.start..task.span.end)
            }
            _ => None,
        }
    })
}

/// A short digest of a text: the `version` of a task or workflow as it ran.
fn short_digest(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .take(6)
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn sha256_of(path: &Path) -> Option<(String, u64)> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).ok()?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    let digest = hasher.finalize();
    Some((digest.iter().map(|b| format!("{b:02x}")).collect(), size))
}

/// Where a module's file goes inside the crate: beside the main workflow as it was beside
/// it on disk, standard modules under `std/`, anything else under `imports/`.
fn crate_path(module_path: &Path, root_dir: &Path) -> PathBuf {
    if let Ok(rest) = module_path.strip_prefix(STD_DIR) {
        return Path::new("std").join(rest);
    }
    match module_path.strip_prefix(root_dir) {
        Ok(rel)
            if rel.components().all(|c| matches!(c, Component::Normal(_)))
                && !rel.as_os_str().is_empty() =>
        {
            rel.to_path_buf()
        }
        _ => Path::new("imports").join(module_path.file_name().unwrap_or_default()),
    }
}

fn id_ref(id: &str) -> Value {
    json!({ "@id": id })
}

/// The `additionalType` of a workflow parameter (Workflow RO-Crate's FormalParameter).
fn additional_type(ty: &Type) -> &'static str {
    match ty {
        Type::Int => "Integer",
        Type::Float => "Float",
        Type::Bool => "Boolean",
        Type::Str => "Text",
        Type::File => "File",
        Type::Dir => "Dataset",
        Type::Json => "PropertyValue",
        _ => "ItemList",
    }
}

/// The data entities of the crate, one per path, made on first use.
struct DataEntities {
    run_dir: PathBuf,
    entities: Vec<Value>,
    by_path: HashMap<PathBuf, String>,
}

impl DataEntities {
    fn id_for(&mut self, shown: &Path) -> String {
        let absolute = if shown.is_absolute() {
            shown.to_path_buf()
        } else {
            self.run_dir.join(shown)
        };
        if let Some(id) = self.by_path.get(&absolute) {
            return id.clone();
        }
        let is_dir = absolute.is_dir();
        let mut id = format!("file://{}", absolute.display());
        if is_dir && !id.ends_with('/') {
            id.push('/');
        }
        let mut entity = json!({
            "@id": id,
            "@type": if is_dir { "Dataset" } else { "File" },
            "name": shown.display().to_string(),
        });
        if !is_dir {
            if let Some((sha256, size)) = sha256_of(&absolute) {
                entity["sha256"] = json!(sha256);
                entity["contentSize"] = json!(size.to_string());
            }
        }
        if let Ok(modified) = std::fs::metadata(&absolute).and_then(|m| m.modified()) {
            entity["dateModified"] = json!(iso8601(crate::record::to_us(modified)));
        }
        self.entities.push(entity);
        self.by_path.insert(absolute, id.clone());
        id
    }
}

/// As the profiles write it: the status's URL as a string.
fn action_status(ok: bool) -> Value {
    json!(if ok {
        "http://schema.org/CompletedActionStatus"
    } else {
        "http://schema.org/FailedActionStatus"
    })
}

/// Writes the crate of a run into `dir` (created if needed).
pub fn write_crate(record: &RunRecord, program: &Program, dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let root_module = program.root_module();
    let root_dir = root_module
        .file
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let main_id = crate_path(&root_module.file.path, &root_dir)
        .to_string_lossy()
        .into_owned();

    // The workflow's files, as they ran.
    let mut graph: Vec<Value> = Vec::new();
    let mut has_part: Vec<Value> = Vec::new();
    let mut module_parts: Vec<Value> = Vec::new();
    for (index, module) in program.modules.iter().enumerate() {
        let rel = crate_path(&module.file.path, &root_dir);
        let target = dir.join(&rel);
        write_file_atomically(&target, module.file.text.as_bytes())?;
        let id = rel.to_string_lossy().into_owned();
        has_part.push(id_ref(&id));
        if index == program.root {
            continue;
        }
        module_parts.push(id_ref(&id));
        let (sha256, size) = sha256_of(&target).unwrap_or_default();
        graph.push(json!({
            "@id": id,
            "@type": ["File", "SoftwareSourceCode"],
            "name": module.file.path.display().to_string(),
            "programmingLanguage": id_ref("#weft-language"),
            "encodingFormat": "text/x-weft",
            "sha256": sha256,
            "contentSize": size.to_string(),
        }));
    }

    // The workflow's parameters and the run's arguments.
    let workflow = program.entry_workflow(Some(&record.workflow)).ok();
    let mut inputs = Vec::new();
    let mut data = DataEntities {
        run_dir: record.run_dir.clone(),
        entities: Vec::new(),
        by_path: HashMap::new(),
    };
    let mut run_objects: Vec<Value> = Vec::new();
    for param in workflow.map(|w| w.params.as_slice()).unwrap_or_default() {
        let name = &param.name.name;
        let param_id = format!("#param-{name}");
        inputs.push(id_ref(&param_id));
        let mut formal = json!({
            "@id": param_id,
            "@type": "FormalParameter",
            "conformsTo": id_ref(FORMAL_PARAMETER),
            "name": name,
            "additionalType": additional_type(&param.ty.ty),
            "valueRequired": param.default.is_none(),
        });
        if let Some(doc) = &param.doc {
            formal["description"] = json!(doc);
        }
        graph.push(formal);
        let Some(value) = record.arguments.get(name) else {
            continue;
        };
        match (&param.ty.ty, value) {
            (Type::File | Type::Dir, Value::String(path)) => {
                let id = data.id_for(Path::new(path));
                run_objects.push(id_ref(&id));
                // The argument is an example of the parameter.
                if let Some(entity) = data.entities.iter_mut().find(|e| e["@id"] == id) {
                    entity["exampleOfWork"] = id_ref(&format!("#param-{name}"));
                }
            }
            _ => {
                let pv = format!("#pv-{name}");
                graph.push(json!({
                    "@id": pv,
                    "@type": "PropertyValue",
                    "name": name,
                    "value": match value {
                        Value::String(s) => json!(s),
                        other => json!(other.to_string()),
                    },
                    "exampleOfWork": id_ref(&format!("#param-{name}")),
                }));
                run_objects.push(id_ref(&pv));
            }
        }
    }

    // Every task attempt; the run's inputs are what tasks read before any task wrote it.
    let mut written: BTreeSet<PathBuf> = BTreeSet::new();
    let mut run_inputs: Vec<PathBuf> = Vec::new();
    let mut instruments: Vec<(String, String)> = Vec::new();
    let mut actions: Vec<Value> = Vec::new();
    for task in &record.tasks {
        for input in &task.inputs {
            if !written.contains(input) && !run_inputs.contains(input) {
                run_inputs.push(input.clone());
            }
        }
        if matches!(
            task.status,
            TaskStatus::Done | TaskStatus::Cached | TaskStatus::Ignored
        ) {
            written.extend(task.outputs.iter().cloned());
        }
        let instrument = format!("#task-{}", task.name);
        if !instruments.iter().any(|(id, _)| *id == instrument) {
            instruments.push((instrument.clone(), task.name.clone()));
        }
        for attempt in &task.attempts {
            let ok = matches!(attempt.status, AttemptStatus::Done | AttemptStatus::Cached);
            let object: Vec<Value> = task
                .inputs
                .iter()
                .map(|p| id_ref(&data.id_for(p)))
                .collect();
            let result: Vec<Value> = if ok {
                task.outputs
                    .iter()
                    .map(|p| id_ref(&data.id_for(p)))
                    .collect()
            } else {
                Vec::new()
            };
            let mut action = json!({
                "@id": format!("#task-{}-attempt-{}", task.id, attempt.attempt),
                "@type": "CreateAction",
                "name": format!("{} ({}), attempt {}", task.name, task.place(), attempt.attempt),
                "instrument": id_ref(&instrument),
                "startTime": iso8601(attempt.start_us),
                "endTime": iso8601(attempt.end_us),
                "actionStatus": action_status(ok),
                "object": object,
                "result": result,
                "description": format!(
                    "Ran on {}, slot {}: {}.",
                    attempt.resource,
                    attempt.slot,
                    attempt.status.as_str()
                ),
            });
            if attempt.status == AttemptStatus::Cached {
                action["description"] = json!(
                    "Restored from weft's cache: an attempt with the same key completed before."
                );
            }
            if let Some(message) = &attempt.message {
                action["error"] = json!(message);
            }
            actions.push(action);
        }
    }
    for input in &run_inputs {
        let id = data.id_for(input);
        if !run_objects.iter().any(|o| o["@id"] == id) {
            run_objects.push(id_ref(&id));
        }
    }
    let run_results: Vec<Value> = written.iter().map(|p| id_ref(&data.id_for(p))).collect();

    // The configuration, copied beside the workflow.
    let mut organize_objects = Vec::new();
    if let Some(config) = &record.config_file {
        let source = if config.is_absolute() {
            config.clone()
        } else {
            record.run_dir.join(config)
        };
        if let Ok(text) = std::fs::read(&source) {
            let name = config
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| "weft.yaml".to_string());
            let id = if has_part.iter().any(|p| p["@id"] == name) {
                format!("config/{name}")
            } else {
                name
            };
            write_file_atomically(&dir.join(&id), &text)?;
            let (sha256, size) = sha256_of(&dir.join(&id)).unwrap_or_default();
            graph.push(json!({
                "@id": id,
                "@type": "File",
                "name": "weft configuration",
                "description": format!("The configuration the run used ({}).", config.display()),
                "encodingFormat": "application/yaml",
                "sha256": sha256,
                "contentSize": size.to_string(),
            }));
            has_part.push(id_ref(&id));
            organize_objects.push(id_ref(&id));
        }
    }

    let run_id = format!("#run-{}", record.run);
    let ok = record.exit_code == 0;
    let mut main = json!({
        "@id": main_id,
        "@type": ["File", "SoftwareSourceCode", "ComputationalWorkflow"],
        "conformsTo": id_ref(COMPUTATIONAL_WORKFLOW),
        "version": short_digest(&root_module.file.text),
        "name": format!("{} ({})", record.workflow, root_module.file.path.display()),
        "programmingLanguage": id_ref("#weft-language"),
        "encodingFormat": "text/x-weft",
        "input": inputs,
        "output": [],
        "hasPart": module_parts,
    });
    if let Some((sha256, size)) = sha256_of(&dir.join(&main_id)) {
        main["sha256"] = json!(sha256);
        main["contentSize"] = json!(size.to_string());
    }
    if let Some(doc) = workflow.and_then(|w| w.doc.as_ref()) {
        main["description"] = json!(doc);
    }
    has_part.extend(
        data.entities
            .iter()
            .map(|e| id_ref(e["@id"].as_str().unwrap_or_default())),
    );

    let mut all = vec![
        json!({
            "@id": "ro-crate-metadata.json",
            "@type": "CreativeWork",
            "conformsTo": id_ref(RO_CRATE),
            "about": id_ref("./"),
        }),
        json!({
            "@id": "./",
            "@type": "Dataset",
            "name": format!("weft run {} of {}", record.run, record.workflow_file.display()),
            "description": format!(
                "A run of the weft workflow `{}`: {} task calls, status {}.",
                record.workflow,
                record.tasks.len(),
                record.status
            ),
            "datePublished": iso8601(record.end_us),
            "license": LICENSE_NOT_GIVEN,
            "conformsTo": [
                id_ref(PROCESS_RUN_CRATE),
                id_ref(WORKFLOW_RUN_CRATE),
                id_ref(WORKFLOW_RO_CRATE),
            ],
            "mainEntity": id_ref(&main_id),
            "hasPart": has_part,
            "mentions": std::iter::once(id_ref(&run_id))
                .chain(actions.iter().map(|a| id_ref(a["@id"].as_str().unwrap_or_default())))
                .collect::<Vec<_>>(),
        }),
        json!({ "@id": PROCESS_RUN_CRATE, "@type": "CreativeWork", "name": "Process Run Crate", "version": "0.5" }),
        json!({ "@id": WORKFLOW_RUN_CRATE, "@type": "CreativeWork", "name": "Workflow Run Crate", "version": "0.5" }),
        json!({ "@id": WORKFLOW_RO_CRATE, "@type": "CreativeWork", "name": "Workflow RO-Crate", "version": "1.0" }),
        main,
        json!({
            "@id": "#weft-language",
            "@type": "ComputerLanguage",
            "name": "weft",
            "alternateName": "weft workflow language",
            "version": "0.1",
        }),
        json!({
            "@id": "#weft",
            "@type": "SoftwareApplication",
            "name": "weft",
            "version": record.weft_version,
            "description": "The weft workflow runtime that ran the workflow.",
        }),
        json!({
            "@id": "#organize",
            "@type": "OrganizeAction",
            "name": "weft orchestration of the run",
            "instrument": id_ref("#weft"),
            "object": organize_objects,
            "result": id_ref(&run_id),
            "startTime": iso8601(record.start_us),
            "endTime": iso8601(record.end_us),
        }),
        json!({
            "@id": run_id,
            "@type": "CreateAction",
            "name": format!("Run of {} ({})", record.workflow, record.run),
            "description": format!(
                "weft ran the workflow `{}` of {}: {} task calls, {}.",
                record.workflow,
                main_id,
                record.tasks.len(),
                record.status
            ),
            "instrument": id_ref(&main_id),
            "startTime": iso8601(record.start_us),
            "endTime": iso8601(record.end_us),
            "actionStatus": action_status(ok),
            "object": run_objects,
            "result": run_results,
        }),
    ];
    if !ok {
        if let Some(last) = all.last_mut() {
            last["error"] = json!(format!(
                "{} (exit status {})",
                record.status, record.exit_code
            ));
        }
    }
    all.extend(graph);
    all.extend(instruments.into_iter().map(|(id, name)| {
        let mut task = json!({
            "@id": id,
            "@type": "SoftwareApplication",
            "name": name,
            "description": format!("The weft task `{name}` of {main_id}."),
            "isPartOf": id_ref(&main_id),
        });
        if let Some(source) = task_source(program, &name) {
            task["softwareVersion"] = json!(short_digest(source));
        }
        task
    }));
    all.extend(actions);
    all.extend(data.entities);
    let metadata = json!({
        "@context": "https://w3id.org/ro/crate/1.1/context",
        "@graph": all,
    });
    let text = serde_json::to_string_pretty(&metadata).map_err(|e| e.to_string())?;
    write_file_atomically(&dir.join("ro-crate-metadata.json"), text.as_bytes())
}
