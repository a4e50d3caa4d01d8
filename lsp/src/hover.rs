//! Hover: what the word under the cursor is, in Markdown.

use weft_compiler::ast::{Item, Module, Param, ReturnType, Task, TaskBody};
use weft_compiler::builtins;
use weft_compiler::program::LoadedModule;

use crate::analysis::Analysis;
use crate::docs;
use crate::symbols::{CalleeRef, DefKind, Definition, Symbol};

/// The Markdown shown for the symbol at `offset`, with the span it describes.
pub fn hover(analysis: &Analysis, offset: usize) -> Option<(weft_compiler::ast::Span, String)> {
    let index = analysis.index.as_ref()?;
    let module = analysis.module()?;
    let text = &analysis.text.text;
    let occurrence = index.at(offset)?;
    let markdown = match &occurrence.symbol {
        Symbol::Definition(id) | Symbol::Use(id) | Symbol::ImportPath(id) => {
            definition(analysis, module, text, &index.defs[*id], &index.defs)
        }
        Symbol::Builtin(name) => builtin(name)?,
        Symbol::Member { binding, name } => {
            let (_, imported) = analysis.imported(binding)?;
            let item = item_named(&imported.ast, name)?;
            item_markdown(item, &imported.file.text, Some(binding))
        }
        Symbol::NamedArgument { callee, name } => {
            let (module, source, owner) = callee_item(analysis, module, text, callee)?;
            let param = item_params(item_named(module, &owner)?)?
                .iter()
                .find(|p| p.name.name == *name)?;
            param_markdown(param, source, &owner)
        }
        Symbol::ConstraintKey(key) => {
            let (ty, meaning) = docs::constraint(key)?;
            format!("**constraint** `{key}`: {ty}\n\n{meaning}")
        }
        Symbol::MpiOption(key) => {
            format!("**mpi option** `{key}`\n\n{}", docs::mpi_option(key)?)
        }
        Symbol::Keyword(word) => docs::keyword(word)?.to_string(),
        Symbol::Unresolved(_) => return None,
    };
    Some((occurrence.span, markdown))
}

fn builtin(name: &str) -> Option<String> {
    let b = builtins::lookup(name)?;
    Some(format!(
        "```weft\n{}\n```\nbuiltin — {}",
        b.signature, b.doc
    ))
}

/// The module, its source and the item name a call's callee refers to.
fn callee_item<'a>(
    analysis: &'a Analysis,
    module: &'a Module,
    text: &'a str,
    callee: &CalleeRef,
) -> Option<(&'a Module, &'a str, String)> {
    match callee {
        CalleeRef::Local(id) => {
            let def = &analysis.index.as_ref()?.defs[*id];
            Some((module, text, def.name.clone()))
        }
        CalleeRef::Member { binding, name } => {
            let (_, imported) = analysis.imported(binding)?;
            Some((&imported.ast, &imported.file.text, name.clone()))
        }
        CalleeRef::Builtin(_) => None,
    }
}

fn definition(
    analysis: &Analysis,
    module: &Module,
    text: &str,
    def: &Definition,
    defs: &[Definition],
) -> String {
    match def.kind {
        DefKind::Task | DefKind::Fn | DefKind::Workflow => {
            item_markdown(&module.items[def.item], text, None)
        }
        DefKind::Import => {
            let Item::Import(import) = &module.items[def.item] else {
                return String::new();
            };
            let written = text.get(import.span.start..import.span.end).unwrap_or("");
            let mut out = format!("```weft\n{written}\n```");
            if let Some((_, imported)) = analysis.imported(&def.name) {
                out.push_str(&module_summary(imported, &def.name));
            }
            out
        }
        DefKind::Param { owner } => {
            let owner_name = &defs[owner].name;
            let param = item_params(&module.items[def.item])
                .and_then(|params| params.iter().find(|p| p.name.span == def.span));
            match param {
                Some(param) => param_markdown(param, text, owner_name),
                None => format!("parameter `{}`", def.name),
            }
        }
        DefKind::Variable => {
            let binder = text.get(def.binder.start..def.binder.end).unwrap_or("");
            let first_line = binder.lines().next().unwrap_or("");
            let (line, _) = line_col(text, def.span.start);
            format!(
                "variable `{}` — bound on line {line}\n```weft\n{first_line}\n```",
                def.name
            )
        }
    }
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    (line, offset - before.rfind('\n').map_or(0, |i| i + 1) + 1)
}

fn item_named<'m>(module: &'m Module, name: &str) -> Option<&'m Item> {
    module.items.iter().find(|item| match item {
        Item::Import(_) => false,
        other => other.defined_name().name == name,
    })
}

fn item_params(item: &Item) -> Option<&[Param]> {
    match item {
        Item::Task(t) => Some(&t.params),
        Item::Fn(f) => Some(&f.params),
        Item::Workflow(w) => Some(&w.params),
        Item::Import(_) => None,
    }
}

/// `name: out file as stdout = "x"`, modifiers and default as written.
pub fn param_text(param: &Param, source: &str) -> String {
    let mut out = format!("{}: ", param.name);
    if !param.direction.keyword().is_empty() {
        out.push_str(param.direction.keyword());
        out.push(' ');
    }
    out.push_str(&param.ty.ty.to_string());
    for modifier in &param.modifiers {
        let span = modifier.span();
        out.push(' ');
        out.push_str(source.get(span.start..span.end).unwrap_or(""));
    }
    if let Some(default) = &param.default {
        out.push_str(" = ");
        out.push_str(
            source
                .get(default.span.start..default.span.end)
                .unwrap_or("…"),
        );
    }
    out
}

/// `task count(text: file, result: out file) -> int`: one line, or one parameter a line when
/// that is too long to read.
pub fn signature(item: &Item, source: &str, qualifier: Option<&str>) -> String {
    let (keyword, name, params, returns) = match item {
        Item::Task(t) => (
            "task",
            &t.name.name,
            &t.params,
            t.returns.as_ref().map(return_text),
        ),
        Item::Fn(f) => (
            "fn",
            &f.name.name,
            &f.params,
            f.returns.as_ref().map(|r| r.ty.to_string()),
        ),
        Item::Workflow(w) => ("workflow", &w.name.name, &w.params, None),
        Item::Import(_) => return String::new(),
    };
    let name = match qualifier {
        Some(q) => format!("{q}.{name}"),
        None => name.clone(),
    };
    let params: Vec<String> = params.iter().map(|p| param_text(p, source)).collect();
    let returns = returns.map(|r| format!(" -> {r}")).unwrap_or_default();
    let one_line = format!("{keyword} {name}({}){returns}", params.join(", "));
    if one_line.len() <= 90 {
        return one_line;
    }
    let mut out = format!("{keyword} {name}(\n");
    for p in params {
        out.push_str(&format!("    {p},\n"));
    }
    out.push_str(&format!("){returns}"));
    out
}

fn return_text(returns: &ReturnType) -> String {
    match returns {
        ReturnType::Single(t) => t.ty.to_string(),
        ReturnType::Tuple(ts, _) => format!(
            "({})",
            ts.iter()
                .map(|t| t.ty.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// A task, fn or workflow: its signature, its doc comment and, for a task, how it runs.
pub fn item_markdown(item: &Item, source: &str, qualifier: Option<&str>) -> String {
    let mut out = format!("```weft\n{}\n```", signature(item, source, qualifier));
    let doc = match item {
        Item::Task(t) => t.doc.as_deref(),
        Item::Fn(f) => f.doc.as_deref(),
        Item::Workflow(w) => w.doc.as_deref(),
        Item::Import(_) => None,
    };
    if let Some(doc) = doc {
        out.push_str("\n\n");
        out.push_str(doc);
    }
    if let Item::Task(task) = item {
        out.push_str(&task_summary(task, source));
    }
    out
}

/// How a task runs: its directives and body kind, as written.
fn task_summary(task: &Task, source: &str) -> String {
    let mut lines = Vec::new();
    for directive in &task.directives {
        let written = source
            .get(directive.span.start..directive.span.end)
            .unwrap_or("");
        lines.push(format!("`{}`", one_line(written)));
    }
    match &task.body {
        TaskBody::Single(body) => lines.push(format!("runs `{}`", body.keyword())),
        TaskBody::Impls(impls) => {
            let names: Vec<String> = impls
                .iter()
                .map(|i| format!("`{}` ({})", i.name, i.body.keyword()))
                .collect();
            lines.push(format!("implementations: {}", names.join(", ")));
        }
    }
    format!("\n\n---\n{}", lines.join("  \n"))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn param_markdown(param: &Param, source: &str, owner: &str) -> String {
    let mut out = format!(
        "```weft\n{}\n```\nparameter of `{owner}`",
        param_text(param, source)
    );
    let direction = param.direction.keyword();
    if let Some(meaning) = docs::DIRECTIONS.iter().find(|(d, _)| *d == direction) {
        out.push_str(" — ");
        out.push_str(meaning.1);
    } else {
        out.push_str(" — read only");
    }
    if let Some(doc) = &param.doc {
        out.push_str("\n\n");
        out.push_str(doc);
    }
    out
}

/// The first comment lines of a module and the names it defines.
fn module_summary(module: &LoadedModule, binding: &str) -> String {
    let mut out = String::new();
    let header: Vec<&str> = module
        .file
        .text
        .lines()
        .take_while(|l| l.starts_with("//"))
        .map(|l| l.trim_start_matches('/').trim())
        .collect();
    if !header.is_empty() {
        out.push_str("\n\n");
        out.push_str(&header.join(" "));
    }
    let names: Vec<String> = module
        .callable_names()
        .map(|n| format!("`{binding}.{n}`"))
        .collect();
    if !names.is_empty() {
        out.push_str("\n\n");
        out.push_str(&names.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn hover_at(source: &str, needle: &str) -> String {
        let analysis = Analysis::new(Path::new("hover.wf"), source.to_string());
        let offset = source.find(needle).expect("needle present");
        hover(&analysis, offset).expect("a hover").1
    }

    const SOURCE: &str = "import std.fs\n\n/// Counts words.\ntask count(\n    /// the text\n    text: file,\n    result: out file as stdout,\n) -> int {\n    constraint { cores: 2, memory: 1GiB }\n    binary \"wc\"\n}\n\nworkflow main() {\n    let n = count(\"a\", result = \"b\")\n    print(n)\n    fs.copy(\"a\", \"c\")\n}\n";

    #[test]
    fn tasks_show_their_signature_doc_and_directives() {
        let text = hover_at(SOURCE, "count(\"a\"");
        assert!(
            text.contains("task count(text: file, result: out file as stdout) -> int"),
            "{text}"
        );
        assert!(text.contains("Counts words."), "{text}");
        assert!(
            text.contains("`constraint { cores: 2, memory: 1GiB }`"),
            "{text}"
        );
        assert!(text.contains("runs `binary`"), "{text}");
    }

    #[test]
    fn parameters_show_their_direction_and_doc() {
        let text = hover_at(SOURCE, "result = ");
        assert!(text.contains("result: out file as stdout"), "{text}");
        assert!(text.contains("written, not read"), "{text}");
        let text = hover_at(SOURCE, "text: file");
        assert!(text.contains("the text"), "{text}");
        assert!(text.contains("read only"), "{text}");
    }

    #[test]
    fn constraints_builtins_members_and_keywords() {
        assert!(hover_at(SOURCE, "memory").contains("memory reserved"));
        let print = hover_at(SOURCE, "print");
        assert!(
            print.contains("print(x, …)") && print.contains("builtin"),
            "{print}"
        );
        let copy = hover_at(SOURCE, "copy");
        assert!(
            copy.contains("task fs.copy(src: file, dst: out file)"),
            "{copy}"
        );
        assert!(hover_at(SOURCE, "binary").contains("never given to a shell"));
        assert!(hover_at(SOURCE, "out file").contains("PyCOMPSs OUT"));
        let variable = hover_at(SOURCE, "n)");
        assert!(variable.contains("let n = count"), "{variable}");
        let module = hover_at(SOURCE, "fs\n");
        assert!(
            module.contains("import std.fs") && module.contains("`fs.copy`"),
            "{module}"
        );
    }
}
