//! Pest pairs → syntax tree, and syntax errors in words.
//!
//! `parse_module` runs the pest grammar of weft-grammar over a file and builds `ast::Module`
//! (builder.rs), with a span on every node. On a syntax error it records the error (errors.rs
//! turns pest's expectations into a sentence), skips to the next line that starts an item at
//! column 0, and parses on from there, so that one pass reports every broken item of a file.

mod builder;
mod errors;
mod literals;
mod strings;

use std::sync::Arc;

use pest::Parser;
use weft_grammar::{Rule, WeftParser};

use crate::ast::{Item, Module};
use crate::diagnostic::{Diagnostic, SourceFile};

/// The reserved words of §2: never a name (after a `.` any word is a field name).
pub const RESERVED_WORDS: [&str; 29] = [
    "task",
    "workflow",
    "fn",
    "let",
    "for",
    "in",
    "while",
    "if",
    "else",
    "return",
    "import",
    "as",
    "group",
    "nowait",
    "barrier",
    "try",
    "catch",
    "raise",
    "true",
    "false",
    "null",
    "and",
    "or",
    "not",
    "out",
    "inout",
    "concurrent",
    "commutative",
    "impl",
];

/// Parses one file. On syntax errors, returns every error the parser could find.
pub fn parse_module(file: &Arc<SourceFile>) -> Result<Module, Vec<Diagnostic>> {
    // Pest records the literal tokens it expected only when asked to; the error messages
    // need them (`expected `)``).
    pest::set_error_detail(true);
    let text = file.text.as_str();
    let mut items = Vec::new();
    let mut comments = Vec::new();
    let mut diagnostics = Vec::new();
    let item_lines = ItemLines::of(text);
    let mut offset = 0;
    while offset <= text.len() {
        let region = &text[offset..];
        match WeftParser::parse(Rule::file, region) {
            Ok(pairs) => {
                build_region(
                    file,
                    offset,
                    pairs,
                    &mut items,
                    &mut comments,
                    &mut diagnostics,
                );
                break;
            }
            Err(error) => {
                let syntax_error = errors::describe(file, offset, &error, &item_lines);
                let failed_at = syntax_error.position;
                diagnostics.push(syntax_error.diagnostic);
                // The items before the broken one parse on their own: build them for the
                // errors only the builder finds (bad escapes, numbers, body counts).
                let broken_item = item_lines.at_or_before(offset, failed_at);
                if broken_item > offset {
                    if let Ok(pairs) = WeftParser::parse(Rule::file, &text[offset..broken_item]) {
                        build_region(
                            file,
                            offset,
                            pairs,
                            &mut items,
                            &mut comments,
                            &mut diagnostics,
                        );
                    }
                }
                match syntax_error.resume_at {
                    Some(next) if next > offset => offset = next,
                    _ => break,
                }
            }
        }
    }
    if diagnostics.is_empty() {
        comments.sort_by_key(|c: &crate::ast::Comment| c.span.start);
        Ok(Module { items, comments })
    } else {
        diagnostics.sort_by_key(|d| d.span.start);
        Err(diagnostics)
    }
}

fn build_region(
    file: &Arc<SourceFile>,
    offset: usize,
    mut pairs: pest::iterators::Pairs<'_, Rule>,
    items: &mut Vec<Item>,
    comments: &mut Vec<crate::ast::Comment>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let Some(file_pair) = pairs.next() else {
        return;
    };
    let mut builder = builder::Builder::new(file, offset);
    items.extend(builder.build_file(&file_pair));
    comments.append(&mut builder.comments);
    diagnostics.append(&mut builder.errors);
}

/// Whether a line begins an item at column 0: `task`, `fn`, `workflow`, `import` or a `///`
/// doc comment. These are the points where parsing resumes after an error.
pub(crate) fn starts_item(line: &str) -> bool {
    if line.starts_with("///") {
        return true;
    }
    ["task", "fn", "workflow", "import"].iter().any(|keyword| {
        line.strip_prefix(keyword)
            .is_some_and(|rest| !rest.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_'))
    })
}

/// The lines of a file that begin an item, outside strings and comments (a Python script
/// in a `"""…"""` body may well have `import json` at column 0).
pub(crate) struct ItemLines {
    starts: Vec<usize>,
}

impl ItemLines {
    pub(crate) fn of(text: &str) -> ItemLines {
        ItemLines {
            starts: errors::item_line_starts(text),
        }
    }

    /// The start of the item that contains `position`: the last item line in
    /// `from..=position`, or `from` when there is none.
    pub(crate) fn at_or_before(&self, from: usize, position: usize) -> usize {
        let end = self.starts.partition_point(|&start| start <= position);
        self.starts[..end]
            .last()
            .copied()
            .filter(|&start| start >= from)
            .unwrap_or(from)
    }

    /// Where to resume after an error at `position`: the next item line from there on, past
    /// `from`. An error right at the start of an item line (the item before was not closed)
    /// resumes at that line.
    pub(crate) fn resume_at(&self, from: usize, position: usize) -> Option<usize> {
        let first = self
            .starts
            .partition_point(|&start| start < position.max(from + 1));
        self.starts.get(first).copied()
    }
}
