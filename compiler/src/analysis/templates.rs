//! Names used in `shell` templates (§4.4). A Handlebars template renders an unknown name as
//! nothing, so a typo in `{{reslt}}` would silently run `cmd > ` — worth catching before
//! running.
//!
//! Only the plain forms are checked: `{{name}}`, `{{{name}}}` and helper calls
//! `{{join names "+"}}` outside block helpers. Anything else Handlebars can express (blocks,
//! paths such as `a.b`, `this`, `@index`, comments, partials) is left alone, so the check
//! never rejects a template that works.

use crate::ast::Span;
use crate::ast::{RawString, Task};
use crate::diagnostic::{Code, Diagnostic};

use super::suggest::{did_you_mean, quoted_list};
use super::ModuleCx;

/// The helpers weft registers for shell templates.
pub(crate) const TEMPLATE_HELPERS: &[&str] = &["basename", "dirname", "stem", "ext", "join"];

pub(super) fn check(cx: &mut ModuleCx, task: &Task, template: &RawString) {
    // The source text, not the unescaped value: it gives exact spans, and a raw body's only
    // escapes (`\"`, `\\`) cannot occur inside a name.
    let source = cx.text(template.span);
    for mustache in mustaches(source) {
        let tokens = tokens(mustache.inner);
        let Some(first) = tokens.first() else {
            continue;
        };
        let at = |offset: usize, len: usize| {
            let start = template.span.start + mustache.inner_offset + offset;
            Span::new(start, start + len)
        };
        if tokens.len() == 1 {
            check_name(cx, task, first.text, at(first.offset, first.text.len()));
            continue;
        }
        if !TEMPLATE_HELPERS.contains(&first.text) {
            if is_identifier(first.text) {
                cx.push(
                    Diagnostic::error(
                        Code::Name,
                        cx.file,
                        at(first.offset, first.text.len()),
                        format!("unknown template helper `{}`", first.text),
                    )
                    .with_label("not a helper")
                    .with_help(format!(
                        "{}the helpers are {}",
                        did_you_mean(first.text, TEMPLATE_HELPERS.iter().copied())
                            .map(|s| format!("{s} "))
                            .unwrap_or_default(),
                        quoted_list(TEMPLATE_HELPERS.iter().copied())
                    )),
                );
            }
            continue;
        }
        for token in &tokens[1..] {
            check_name(cx, task, token.text, at(token.offset, token.text.len()));
        }
    }
}

fn check_name(cx: &mut ModuleCx, task: &Task, name: &str, span: Span) {
    if !is_identifier(name) || name == "this" || name == "else" {
        return;
    }
    if task.params.iter().any(|p| p.name.name == name) {
        return;
    }
    let params = task.params.iter().map(|p| p.name.name.as_str());
    let help = did_you_mean(name, params.clone()).unwrap_or_else(|| {
        if task.params.is_empty() {
            "the task has no parameters".to_string()
        } else {
            format!(
                "the template sees the task's parameters: {}",
                quoted_list(params)
            )
        }
    });
    cx.push(
        Diagnostic::error(
            Code::Name,
            cx.file,
            span,
            format!(
                "unknown name `{name}` in the shell template of task `{}`",
                task.name
            ),
        )
        .with_label("not a parameter")
        .with_help(help),
    );
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One `{{…}}` or `{{{…}}}` outside block helpers: its inside, and where that starts in the
/// template source.
struct Mustache<'a> {
    inner: &'a str,
    inner_offset: usize,
}

fn mustaches(source: &str) -> Vec<Mustache<'_>> {
    let mut found = Vec::new();
    let mut block_depth = 0usize;
    let mut from = 0;
    while let Some(relative) = source.get(from..).and_then(|rest| rest.find("{{")) {
        let start = from + relative;
        if source[..start].ends_with('\\') {
            // `\{{` is a literal `{{` in Handlebars.
            from = start + 2;
            continue;
        }
        let triple = source[start + 2..].starts_with('{');
        let (open, close) = if triple { (3, "}}}") } else { (2, "}}") };
        let inner_start = start + open;
        let Some(length) = source[inner_start..].find(close) else {
            break;
        };
        let inner = &source[inner_start..inner_start + length];
        from = inner_start + length + close.len();
        let trimmed = inner.trim_matches('~').trim_start();
        match trimmed.chars().next() {
            Some('#') => block_depth += 1,
            Some('/') => block_depth = block_depth.saturating_sub(1),
            Some('!' | '>' | '^' | '@') | None => {}
            Some(_) if block_depth == 0 => found.push(Mustache {
                inner,
                inner_offset: inner_start,
            }),
            Some(_) => {}
        }
    }
    found
}

struct Token<'a> {
    text: &'a str,
    offset: usize,
}

/// Whitespace-separated words; a `"…"` argument is one word even with spaces inside.
fn tokens(inner: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let bytes = inner.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() || c == b'~' {
            i += 1;
            continue;
        }
        let start = i;
        if c == b'"' || c == b'\'' {
            i += 1;
            while i < bytes.len() && bytes[i] != c {
                i += 1;
            }
            i = (i + 1).min(bytes.len());
        } else {
            while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'~' {
                i += 1;
            }
        }
        // Slicing at ASCII delimiters keeps UTF-8 boundaries.
        if let Some(text) = inner.get(start..i) {
            out.push(Token {
                text,
                offset: start,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inners(source: &str) -> Vec<&str> {
        mustaches(source).into_iter().map(|m| m.inner).collect()
    }

    #[test]
    fn finds_plain_and_triple_mustaches() {
        assert_eq!(inners("cat {{a}} > {{{b}}}"), ["a", "b"]);
        assert_eq!(inners("awk '{print {{k}}}' {{i}}"), ["k", "i"]);
        assert_eq!(inners("echo ${HOME} $((1+2))"), Vec::<&str>::new());
        assert_eq!(inners(r"\{{literal}} {{x}}"), ["x"]);
    }

    #[test]
    fn skips_blocks_and_their_contents() {
        assert_eq!(
            inners("{{#each xs}}{{this}} {{name}}{{/each}} {{y}}"),
            ["y"]
        );
        assert_eq!(inners("{{! a comment }} {{> partial}} {{z}}"), ["z"]);
    }

    #[test]
    fn tokens_keep_quoted_arguments_whole() {
        let words: Vec<&str> = tokens(r#"join names ", ""#)
            .iter()
            .map(|t| t.text)
            .collect();
        assert_eq!(words, ["join", "names", r#"", ""#]);
        assert_eq!(tokens("~ x ~")[0].offset, 2);
    }
}
