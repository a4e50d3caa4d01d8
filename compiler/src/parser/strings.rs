//! String contents: escapes, raw strings and the dedent of triple-quoted strings (§2).

use crate::ast::{Expr, StrPart};

/// A piece of a string literal as the grammar splits it, before the dedent.
#[derive(Debug)]
pub(crate) enum Piece {
    /// Source text as written: real line breaks and indentation, the only text the dedent
    /// looks at.
    Raw(String),
    /// Text that came from an escape or a doubled brace: never indentation, never a line break.
    Literal(String),
    Interp(Expr),
}

/// The character an escape of a language string stands for (`\n \t \\ \" \{ \}`), or `None`
/// for an escape the language does not have. `escape` is the text as written, backslash
/// included.
pub(crate) fn escape_value(escape: &str) -> Option<char> {
    match escape {
        "\\n" => Some('\n'),
        "\\t" => Some('\t'),
        "\\\\" => Some('\\'),
        "\\\"" => Some('"'),
        "\\{" => Some('{'),
        "\\}" => Some('}'),
        _ => None,
    }
}

/// The value of a `"…"` raw string's content: only `\"` and `\\` are escapes; any other
/// backslash stays (so `printf '%s\n'` reaches the shell as written).
pub(crate) fn raw_plain_value(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    let mut chars = content.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&next) = chars.peek() {
                if next == '"' || next == '\\' {
                    out.push(next);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

/// The value of a `"""…"""` raw string's content: no escapes, only the dedent.
pub(crate) fn raw_triple_value(content: &str) -> String {
    let pieces = dedent(vec![Piece::Raw(content.to_string())]);
    let mut out = String::new();
    for piece in pieces {
        match piece {
            Piece::Raw(text) | Piece::Literal(text) => out.push_str(&text),
            Piece::Interp(_) => {}
        }
    }
    out
}

/// Joins adjacent text pieces into the parts of a `StrLit`.
pub(crate) fn into_parts(pieces: Vec<Piece>) -> Vec<StrPart> {
    let mut parts: Vec<StrPart> = Vec::new();
    for piece in pieces {
        match piece {
            Piece::Raw(text) | Piece::Literal(text) => {
                if text.is_empty() {
                    continue;
                }
                if let Some(StrPart::Text(previous)) = parts.last_mut() {
                    previous.push_str(&text);
                } else {
                    parts.push(StrPart::Text(text));
                }
            }
            Piece::Interp(expr) => parts.push(StrPart::Interp(expr)),
        }
    }
    parts
}

fn is_blank(line: &[Piece]) -> bool {
    line.iter().all(|piece| match piece {
        Piece::Raw(text) => text.chars().all(|c| c == ' ' || c == '\t' || c == '\r'),
        Piece::Literal(_) | Piece::Interp(_) => false,
    })
}

/// The leading spaces and tabs of a line (nothing when it starts with an escape or an
/// interpolation).
fn indentation(line: &[Piece]) -> &str {
    match line.first() {
        Some(Piece::Raw(text)) => {
            let end = text
                .find(|c: char| c != ' ' && c != '\t')
                .unwrap_or(text.len());
            &text[..end]
        }
        _ => "",
    }
}

fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let end = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, x), y)| x != y)
        .map_or(a.len().min(b.len()), |((i, _), _)| i);
    &a[..end]
}

/// The dedent of a triple-quoted string, as Python's `textwrap.dedent` does it, after dropping
/// the line break right after the opening quotes and a last line holding only whitespace:
/// whitespace-only lines become empty, and the longest indentation common to the other lines
/// is removed. Escapes and interpolations are content, never indentation.
pub(crate) fn dedent(pieces: Vec<Piece>) -> Vec<Piece> {
    let mut lines: Vec<Vec<Piece>> = vec![Vec::new()];
    for piece in pieces {
        match piece {
            Piece::Raw(text) => {
                let text = text.replace("\r\n", "\n");
                for (i, segment) in text.split('\n').enumerate() {
                    if i > 0 {
                        lines.push(Vec::new());
                    }
                    if !segment.is_empty() {
                        if let Some(line) = lines.last_mut() {
                            line.push(Piece::Raw(segment.to_string()));
                        }
                    }
                }
            }
            other => {
                if let Some(line) = lines.last_mut() {
                    line.push(other);
                }
            }
        }
    }

    // The line break right after the opening quotes (blanks before it included).
    if lines.len() > 1 && is_blank(&lines[0]) {
        lines.remove(0);
    }
    // A last line of only whitespace before the closing quotes: the line break before it
    // stays, so the value ends with "\n".
    let mut ends_with_newline = false;
    if lines.len() > 1 && lines.last().is_some_and(|line| is_blank(line)) {
        lines.pop();
        ends_with_newline = true;
    }

    let mut margin: Option<String> = None;
    for line in lines.iter().filter(|line| !is_blank(line)) {
        let indent = indentation(line);
        margin = Some(match margin {
            None => indent.to_string(),
            Some(m) => common_prefix(&m, indent).to_string(),
        });
    }
    let margin = margin.unwrap_or_default();

    let mut out: Vec<Piece> = Vec::new();
    let line_count = lines.len();
    for (i, mut line) in lines.into_iter().enumerate() {
        if is_blank(&line) {
            line.clear();
        } else if let Some(Piece::Raw(first)) = line.first_mut() {
            if let Some(rest) = first.strip_prefix(margin.as_str()) {
                *first = rest.to_string();
            }
        }
        out.extend(line);
        if i + 1 < line_count || ends_with_newline {
            out.push(Piece::Raw("\n".to_string()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_plain_keeps_other_backslashes() {
        assert_eq!(
            raw_plain_value(r#"printf '%s\n' \"x\" \\"#),
            "printf '%s\\n' \"x\" \\"
        );
    }

    #[test]
    fn triple_dedent_examples() {
        assert_eq!(raw_triple_value("\n    a\n    "), "a\n");
        assert_eq!(
            raw_triple_value("echo '[1, \"two\"]'"),
            "echo '[1, \"two\"]'"
        );
        assert_eq!(raw_triple_value("\n  a\n\n    b\n  "), "a\n\n  b\n");
        assert_eq!(raw_triple_value("\n  a\n   \n  b\n"), "a\n\nb\n");
        assert_eq!(raw_triple_value("\n\ta\n\tb"), "a\nb");
        assert_eq!(raw_triple_value("\r\n    a\r\n    "), "a\n");
        assert_eq!(raw_triple_value("\n    "), "");
    }

    #[test]
    fn mixed_margins_share_only_their_common_prefix() {
        assert_eq!(raw_triple_value("\n  a\n\tb\n"), "  a\n\tb\n");
    }
}
