//! Loading and checking a program, and reporting diagnostics, as every command does.

use std::path::Path;

use indexmap::IndexMap;
use weft_compiler::analysis::analyze;
use weft_compiler::ast::{Param, Type, Workflow};
use weft_compiler::config::Config;
use weft_compiler::diagnostic::{Diagnostic, Severity};
use weft_compiler::program::Program;
use weft_compiler::value::Value;

/// Prints diagnostics to standard error as miette renders them.
pub fn report(diagnostics: &[Diagnostic]) {
    weft_compiler::diagnostic::eprint_all(diagnostics);
}

/// Loads a program and analyses it: the program, and every diagnostic found.
pub fn load_and_analyze(path: &Path) -> (Option<Program>, Vec<Diagnostic>) {
    match Program::load(path) {
        Ok(program) => {
            let diagnostics = analyze(&program);
            (Some(program), diagnostics)
        }
        Err(diagnostics) => (None, diagnostics),
    }
}

pub fn has_errors(diagnostics: &[Diagnostic]) -> bool {
    diagnostics.iter().any(|d| d.severity == Severity::Error)
}

/// The configuration for a workflow file.
pub fn config_for(path: &Path, explicit: Option<&Path>) -> Result<Config, Box<Diagnostic>> {
    Config::for_workflow(path, explicit).map_err(Box::new)
}

/// Binds workflow options (`--name value`, `--name=value`, `--flag` for a bool) to the
/// workflow's parameters: values parsed to the parameter's type, defaults applied.
pub fn workflow_arguments(
    workflow: &Workflow,
    options: &[String],
) -> Result<IndexMap<String, Value>, String> {
    let mut given: IndexMap<String, Value> = IndexMap::new();
    let mut i = 0;
    while i < options.len() {
        let option = &options[i];
        if option == "--" {
            i += 1;
            continue;
        }
        let Some(body) = option.strip_prefix("--") else {
            return Err(format!(
                "unexpected argument `{option}`: workflow options are written `--name value`"
            ));
        };
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (body.to_string(), None),
        };
        let key = name.replace('-', "_");
        let param = workflow
            .params
            .iter()
            .find(|p| p.name.name == key)
            .ok_or_else(|| unknown_option(workflow, &name))?;
        let text = match inline {
            Some(v) => v,
            None if param.ty.ty == Type::Bool
                && options.get(i + 1).is_none_or(|n| n.starts_with("--")) =>
            {
                "true".to_string()
            }
            None => {
                i += 1;
                options
                    .get(i)
                    .cloned()
                    .ok_or_else(|| format!("the option `--{name}` needs a value"))?
            }
        };
        given.insert(key, parse_option(param, &text)?);
        i += 1;
    }
    let mut bound = IndexMap::new();
    for param in &workflow.params {
        match given.shift_remove(&param.name.name) {
            Some(v) => {
                bound.insert(param.name.name.clone(), v);
            }
            None if param.default.is_some() => {}
            None => {
                return Err(format!(
                    "the workflow `{}` needs the option `--{} <{}>`",
                    workflow.name, param.name, param.ty.ty
                ))
            }
        }
    }
    Ok(bound)
}

fn unknown_option(workflow: &Workflow, name: &str) -> String {
    let known: Vec<String> = workflow
        .params
        .iter()
        .map(|p| format!("--{}", p.name))
        .collect();
    if known.is_empty() {
        format!(
            "unknown option `--{name}`: the workflow `{}` takes no options",
            workflow.name
        )
    } else {
        format!(
            "unknown option `--{name}`: the workflow `{}` takes {}",
            workflow.name,
            known.join(", ")
        )
    }
}

/// Parses one option value to a parameter's type.
fn parse_option(param: &Param, text: &str) -> Result<Value, String> {
    let bad = || {
        format!(
            "the option `--{}` expects {}, not `{text}`",
            param.name, param.ty.ty
        )
    };
    Ok(match &param.ty.ty {
        Type::Int => Value::Int(text.replace('_', "").parse().map_err(|_| bad())?),
        Type::Float => Value::Float(text.parse().map_err(|_| bad())?),
        Type::Bool => match text {
            "true" | "yes" | "1" => Value::Bool(true),
            "false" | "no" | "0" => Value::Bool(false),
            _ => return Err(bad()),
        },
        Type::Str | Type::File | Type::Dir => Value::str(text),
        Type::Json | Type::List(_) => {
            let json: serde_json::Value = serde_json::from_str(text).map_err(|_| bad())?;
            Value::from_json(&json)
        }
    })
}

/// The help text of a workflow's options, from its doc comments.
pub fn workflow_help(file: &Path, workflow: &Workflow) -> String {
    let mut out = String::new();
    if let Some(doc) = &workflow.doc {
        out.push_str(doc);
        out.push_str("\n\n");
    }
    out.push_str(&format!(
        "Usage: weft run {} [-- OPTIONS]\n\nOptions of workflow `{}`:\n",
        file.display(),
        workflow.name
    ));
    if workflow.params.is_empty() {
        out.push_str("  (none)\n");
    }
    for param in &workflow.params {
        let mut line = format!("  --{} <{}>", param.name, param.ty.ty);
        if let Some(default) = &param.default {
            let text = &default.span;
            line.push_str(&format!("  [default: {}]", default_text(file, *text)));
        }
        out.push_str(&line);
        out.push('\n');
        if let Some(doc) = &param.doc {
            for doc_line in doc.lines() {
                out.push_str(&format!("        {doc_line}\n"));
            }
        }
    }
    out
}

fn default_text(file: &Path, span: weft_compiler::ast::Span) -> String {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|t| t.get(span.start..span.end).map(str::to_string))
        .unwrap_or_default()
}
