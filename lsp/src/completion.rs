//! Completion: what may be written at the cursor.
//!
//! The text being typed rarely parses, so the context comes from `context` (brackets and the
//! words before the cursor) and the names from a tree of the text with the cursor's line
//! blanked out (which parses whenever that line is the only broken one); when even that does
//! not parse, the document's last tree that did.

use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};
use weft_compiler::ast::{Item, Module};
use weft_compiler::builtins::BUILTINS;

use crate::analysis::Analysis;
use crate::context::{context, Frame};
use crate::docs;
use crate::hover::{item_markdown, signature};
use crate::symbols::DefKind;

/// The completions at byte `offset` of the document. `fallback` is the last analysis of the
/// document whose text parsed.
pub fn completion(
    analysis: &Analysis,
    fallback: Option<&Analysis>,
    offset: usize,
) -> Vec<CompletionItem> {
    let text = &analysis.text.text;
    let offset = offset.min(text.len());
    let prefix_start = word_start(text, offset);
    let before = &text[..prefix_start];
    let line = &before[before.rfind('\n').map_or(0, |i| i + 1)..];
    let cx = context(before);
    if cx.in_string_or_comment {
        return Vec::new();
    }

    // `import std.` and `import std.te`
    let trimmed_line = line.trim_start();
    if let Some(rest) = trimmed_line.strip_prefix("import") {
        let rest = rest.trim_start();
        if rest == "std." {
            return weft_stdlib::module_names()
                .map(|name| simple(name, CompletionItemKind::MODULE, "standard module"))
                .collect();
        }
        if rest.is_empty() {
            return vec![simple(
                "std",
                CompletionItemKind::MODULE,
                "the standard library",
            )];
        }
        return Vec::new();
    }

    let repaired;
    let names = if analysis.index.is_some() {
        analysis
    } else {
        repaired = Analysis::new(&analysis.path, blank_line_at(text, offset));
        if repaired.index.is_some() {
            &repaired
        } else {
            fallback.unwrap_or(analysis)
        }
    };

    // `binding.` — the tasks, fns and workflows of an imported module.
    if before.ends_with('.') {
        let base_end = before.len() - 1;
        let base_start = word_start(before, base_end);
        let base = &before[base_start..base_end];
        return members(names, base);
    }

    match cx.innermost() {
        None => docs::ITEM_KEYWORDS.iter().map(|w| keyword(w)).collect(),
        Some(Frame::TaskBlock) if cx.at_start => task_members(true),
        Some(Frame::ImplBlock) if cx.at_start => task_members(false),
        Some(Frame::Constraint) if key_position(cx.previous_punct) => docs::CONSTRAINTS
            .iter()
            .map(|(key, ty, meaning)| {
                with_doc(
                    simple(key, CompletionItemKind::PROPERTY, ty),
                    &format!("{key}: {ty} — {meaning}"),
                )
            })
            .collect(),
        Some(Frame::MpiOptions) if key_position(cx.previous_punct) => docs::MPI_OPTIONS
            .iter()
            .map(|(key, meaning)| {
                with_doc(
                    simple(key, CompletionItemKind::PROPERTY, "mpi option"),
                    meaning,
                )
            })
            .collect(),
        Some(Frame::Params) => {
            if cx.previous_punct == Some(':') || cx.previous_punct.is_none() {
                let mut items: Vec<CompletionItem> = docs::DIRECTIONS
                    .iter()
                    .map(|(w, doc)| with_doc(keyword(w), doc))
                    .collect();
                items.extend(
                    docs::TYPES
                        .iter()
                        .map(|t| simple(t, CompletionItemKind::TYPE_PARAMETER, "type")),
                );
                items
            } else {
                Vec::new()
            }
        }
        Some(frame) => {
            let mut items = scope_names(names, offset);
            if let Frame::Call {
                callee: Some(callee),
            } = frame
            {
                items.extend(named_arguments(names, callee));
            }
            if cx.at_start && *frame == Frame::Block {
                items.extend(docs::STATEMENT_KEYWORDS.iter().map(|w| keyword(w)));
            }
            items.extend(["true", "false", "null", "not"].iter().map(|w| keyword(w)));
            items
        }
    }
}

fn key_position(previous: Option<char>) -> bool {
    matches!(previous, Some('{') | Some(',') | None)
}

fn word_start(text: &str, offset: usize) -> usize {
    let bytes = text.as_bytes();
    let mut start = offset;
    while start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_') {
        start -= 1;
    }
    start
}

/// The text with the line holding `offset` replaced by spaces: offsets elsewhere stay valid.
fn blank_line_at(text: &str, offset: usize) -> String {
    let start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let end = text[offset..].find('\n').map_or(text.len(), |i| offset + i);
    let mut out = String::with_capacity(text.len());
    out.push_str(&text[..start]);
    out.extend(std::iter::repeat_n(' ', text[start..end].len()));
    out.push_str(&text[end..]);
    out
}

fn simple(label: &str, kind: CompletionItemKind, detail: &str) -> CompletionItem {
    CompletionItem {
        label: label.to_string(),
        kind: Some(kind),
        detail: (!detail.is_empty()).then(|| detail.to_string()),
        ..CompletionItem::default()
    }
}

fn keyword(word: &str) -> CompletionItem {
    let item = simple(word, CompletionItemKind::KEYWORD, "");
    match docs::keyword(word) {
        Some(doc) => with_doc(item, doc),
        None => item,
    }
}

fn with_doc(mut item: CompletionItem, markdown: &str) -> CompletionItem {
    item.documentation = Some(Documentation::MarkupContent(MarkupContent {
        kind: MarkupKind::Markdown,
        value: markdown.to_string(),
    }));
    item
}

fn task_members(with_impl: bool) -> Vec<CompletionItem> {
    let mut items: Vec<CompletionItem> = docs::DIRECTIVES
        .iter()
        .chain(docs::BODIES)
        .map(|(w, doc)| with_doc(keyword(w), doc))
        .collect();
    if with_impl {
        items.push(keyword("impl"));
    }
    items
}

/// Names visible at `offset`, and the builtins.
fn scope_names(analysis: &Analysis, offset: usize) -> Vec<CompletionItem> {
    let mut items = Vec::new();
    if let (Some(index), Some(module)) = (&analysis.index, analysis.module()) {
        for def in index.visible_at(offset) {
            let item = match def.kind {
                DefKind::Task | DefKind::Fn | DefKind::Workflow => {
                    let item = &module.items[def.item];
                    with_doc(
                        simple(
                            &def.name,
                            CompletionItemKind::FUNCTION,
                            &signature(item, &analysis.text.text, None),
                        ),
                        &item_markdown(item, &analysis.text.text, None),
                    )
                }
                DefKind::Import => simple(&def.name, CompletionItemKind::MODULE, "module"),
                DefKind::Param { .. } => {
                    simple(&def.name, CompletionItemKind::VARIABLE, "parameter")
                }
                DefKind::Variable => simple(&def.name, CompletionItemKind::VARIABLE, "variable"),
            };
            items.push(item);
        }
    }
    for builtin in BUILTINS {
        items.push(with_doc(
            simple(
                builtin.name,
                CompletionItemKind::FUNCTION,
                builtin.signature,
            ),
            builtin.doc,
        ));
    }
    items
}

/// The tasks, fns and workflows of the module imported as `binding`.
fn members(analysis: &Analysis, binding: &str) -> Vec<CompletionItem> {
    let Some((_, module)) = analysis.imported(binding) else {
        return Vec::new();
    };
    module
        .ast
        .items
        .iter()
        .filter(|item| !matches!(item, Item::Import(_)))
        .map(|item| {
            with_doc(
                simple(
                    &item.defined_name().name,
                    CompletionItemKind::FUNCTION,
                    &signature(item, &module.file.text, Some(binding)),
                ),
                &item_markdown(item, &module.file.text, Some(binding)),
            )
        })
        .collect()
}

/// `name = ` for each parameter of the callee.
fn named_arguments(analysis: &Analysis, callee: &str) -> Vec<CompletionItem> {
    let (module, source): (&Module, &str) = match callee.split_once('.') {
        Some((binding, _)) => match analysis.imported(binding) {
            Some((_, m)) => (&m.ast, &m.file.text),
            None => return Vec::new(),
        },
        None => match analysis.module() {
            Some(m) => (m, &analysis.text.text),
            None => return Vec::new(),
        },
    };
    let name = callee.rsplit('.').next().unwrap_or(callee);
    let params = module.items.iter().find_map(|item| match item {
        Item::Task(t) if t.name.name == name => Some(&t.params),
        Item::Fn(f) if f.name.name == name => Some(&f.params),
        Item::Workflow(w) if w.name.name == name => Some(&w.params),
        _ => None,
    });
    params
        .into_iter()
        .flatten()
        .map(|p| {
            let mut item = simple(
                &format!("{} =", p.name),
                CompletionItemKind::FIELD,
                &crate::hover::param_text(p, source),
            );
            item.insert_text = Some(format!("{} = ", p.name));
            item
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn labels_at(text_with_cursor: &str) -> Vec<String> {
        let offset = text_with_cursor.find('|').expect("a cursor");
        let text = text_with_cursor.replacen('|', "", 1);
        let analysis = Analysis::new(Path::new("complete.wf"), text);
        completion(&analysis, None, offset)
            .into_iter()
            .map(|i| i.label)
            .collect()
    }

    #[test]
    fn std_modules_after_import_std() {
        assert_eq!(labels_at("import std.|"), ["fs", "json", "text"]);
        assert_eq!(labels_at("import std.te|"), ["fs", "json", "text"]);
        assert_eq!(labels_at("import |"), ["std"]);
    }

    #[test]
    fn members_of_an_imported_module() {
        let labels = labels_at("import std.fs\nworkflow main() {\n    fs.|\n}\n");
        assert!(labels.contains(&"copy".to_string()), "{labels:?}");
        assert!(labels.contains(&"move".to_string()), "{labels:?}");
    }

    #[test]
    fn directives_and_constraint_keys_in_tasks() {
        let labels = labels_at("task t() {\n    |\n}\n");
        for word in ["constraint", "timeout", "shell", "script", "impl"] {
            assert!(labels.contains(&word.to_string()), "{word} in {labels:?}");
        }
        let labels =
            labels_at("task t() {\n    constraint { cores: 1, |}\n    shell \"true\"\n}\n");
        assert_eq!(labels.len(), docs::CONSTRAINTS.len());
        assert!(labels.contains(&"memory".to_string()));
    }

    #[test]
    fn names_in_scope_keywords_and_named_arguments() {
        let text = "task count(text: file, result: out file) {\n    shell \"wc {{text}} > {{result}}\"\n}\nworkflow main(input: dir = \"d\") {\n    let parts = []\n    count(\"a\", |)\n}\n";
        let labels = labels_at(text);
        for name in ["parts", "input", "count", "main", "glob", "result ="] {
            assert!(labels.contains(&name.to_string()), "{name} in {labels:?}");
        }
        let labels = labels_at("workflow main() {\n    let a = 1\n    |\n}\n");
        for name in ["a", "let", "for", "group", "print"] {
            assert!(labels.contains(&name.to_string()), "{name} in {labels:?}");
        }
        assert_eq!(labels_at("|"), ["import", "task", "fn", "workflow"]);
    }

    #[test]
    fn completion_while_the_line_does_not_parse() {
        let labels =
            labels_at("workflow main(n: int = 1) {\n    let total = 0\n    print(tot|\n}\n");
        assert!(labels.contains(&"total".to_string()), "{labels:?}");
        assert!(labels.contains(&"n".to_string()), "{labels:?}");
        assert!(labels_at("workflow main() {\n    print(\"ab|\")\n}\n").is_empty());
    }

    #[test]
    fn blanking_keeps_offsets() {
        let text = "a\nbcd\ne";
        assert_eq!(blank_line_at(text, 3), "a\n   \ne");
    }
}
