//! Writing string literals back: escapes, and the layout of triple-quoted strings that
//! survives the language's dedent (§2).
//!
//! A `"""…"""` string is read back by dropping the line break after the opening quotes and
//! a last line holding only blanks, then removing the indentation common to the non-blank
//! lines. The formatter writes the lines of the value one level deeper than the code, so the
//! dedent removes exactly that level — which is only right when the value's own non-blank
//! lines have no indentation in common, no line is made of blanks only, and so on. When a
//! value cannot be written that way, the caller falls back to a `"…"` string.

/// One indentation level.
pub(super) const INDENT: &str = "    ";

/// The text of a plain `"…"` string literal (no interpolation) holding `value`.
pub(super) fn quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    push_escaped_text(&mut out, value);
    out.push('"');
    out
}

/// Appends literal text for a `"…"` string: `\\`, `\"`, `\n`, `\t`, and `{{`/`}}` so that the
/// braces are not read as interpolation.
pub(super) fn push_escaped_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '{' => out.push_str("{{"),
            '}' => out.push_str("}}"),
            other => out.push(other),
        }
    }
}

/// Literal text for a `"""…"""` string: like `push_escaped_text`, but line breaks stay real
/// line breaks, and a `"` is escaped only where it would otherwise take part in a `"""`
/// (followed by another `"`) or touch the closing quotes (`last_part`'s final character).
pub(super) fn push_triple_text(out: &mut String, text: &str, last_part: bool) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => {
                let next = chars.peek();
                if next == Some(&'"') || (next.is_none() && last_part) {
                    out.push_str("\\\"");
                } else {
                    out.push('"');
                }
            }
            '\t' => out.push_str("\\t"),
            '{' => out.push_str("{{"),
            '}' => out.push_str("}}"),
            other => out.push(other),
        }
    }
}

/// The text of a raw `"…"` string (a `shell` template or `script` code). Its only escapes are
/// `\"` and `\\`, so a `"` is written `\"`, and a backslash is doubled only where it would
/// otherwise start one of them (before `"` or `\`, or before the closing quote): `printf
/// '%s\n'` stays as the user wrote it.
pub(super) fn raw_quoted(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), None | Some('"') | Some('\\')) => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            other => out.push(other),
        }
    }
    out.push('"');
    out
}

/// How a `"""…"""` string may end.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum QuoteEnd {
    /// A raw string has no escapes: a `"` right before the closing quotes would merge
    /// with them, so such a value has no layout.
    Unescaped,
    /// A language string's content arrives with its last `"` escaped (`\"`), which may
    /// touch the closing quotes.
    Escaped,
}

/// Lays out a `"""…"""` string whose content, as it must appear in the source before the
/// dedent, is `content`; the code around it is at `indent` levels. Returns `None` when no
/// layout gives back exactly `content` after the dedent.
///
/// - `echo hi` → `"""echo hi"""` (inline);
/// - `a\nb\n` → the lines one level deeper, then the closing quotes on their own line;
/// - `a\nb` → the same, with the closing quotes right after `b`.
pub(super) fn triple_layout(content: &str, indent: usize, quote_end: QuoteEnd) -> Option<String> {
    if content.contains("\"\"\"") {
        return None;
    }
    if content.is_empty() {
        return Some("\"\"\"\"\"\"".to_string());
    }
    let lines: Vec<&str> = content.split('\n').collect();
    let ends_with_newline = content.ends_with('\n');
    // The lines the user sees between the quotes (without the empty piece after the last
    // line break, which becomes the closing line).
    let body_lines = if ends_with_newline {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    };

    // Lines made of blanks only are emptied or dropped by the dedent, and any indentation
    // all non-blank lines share would be removed with ours.
    if body_lines
        .iter()
        .any(|line| !line.is_empty() && line.trim_matches([' ', '\t']).is_empty())
    {
        return None;
    }
    let starts_with_blank = |line: &&str| line.starts_with([' ', '\t']);
    let mut non_blank = body_lines.iter().filter(|line| !line.is_empty()).peekable();
    if non_blank.peek().is_some() && non_blank.all(starts_with_blank) {
        return None;
    }

    let closing_touches_text = !ends_with_newline;
    if closing_touches_text {
        let last = body_lines.last().copied().unwrap_or_default();
        // A last line without text would be dropped by the dedent; a final `"` would merge
        // with the closing quotes.
        if last.is_empty() || (last.ends_with('"') && quote_end == QuoteEnd::Unescaped) {
            return None;
        }
        // A single line that cannot be confused with anything is written inline.
        if body_lines.len() == 1 && !last.starts_with('"') {
            return Some(format!("\"\"\"{last}\"\"\""));
        }
    }

    Some(block_layout(body_lines, ends_with_newline, indent))
}

/// A value that has no exact `"""…"""` layout and cannot be a `"…"` raw string either (it
/// holds a line break), written in the block layout all the same: the nearest text.
pub(super) fn forced_triple(content: &str, indent: usize) -> String {
    let lines: Vec<&str> = content.split('\n').collect();
    let ends_with_newline = content.ends_with('\n');
    let body_lines = if ends_with_newline {
        &lines[..lines.len() - 1]
    } else {
        &lines[..]
    };
    block_layout(body_lines, ends_with_newline, indent)
}

/// `"""`, a line break, each line one level deeper than the code (empty lines stay empty),
/// and the closing quotes on their own line at the code's indentation when the value ends
/// with a line break, else right after the last line.
fn block_layout(body_lines: &[&str], ends_with_newline: bool, indent: usize) -> String {
    let deeper = INDENT.repeat(indent + 1);
    let mut out = String::from("\"\"\"\n");
    for (i, line) in body_lines.iter().enumerate() {
        if !line.is_empty() {
            out.push_str(&deeper);
            out.push_str(line);
        }
        if i + 1 < body_lines.len() {
            out.push('\n');
        }
    }
    if ends_with_newline {
        // At the code's own indentation, as LANGUAGE.md writes it: the dedent drops that
        // last line whatever its indentation.
        out.push('\n');
        out.push_str(&INDENT.repeat(indent));
    }
    out.push_str("\"\"\"");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The dedent of §2, as the parser applies it, to check layouts against.
    fn dedent(written: &str) -> String {
        let inner = written
            .strip_prefix("\"\"\"")
            .and_then(|s| s.strip_suffix("\"\"\""))
            .expect("triple quotes");
        let inner = inner.strip_prefix('\n').unwrap_or(inner);
        let inner = match inner.rfind('\n') {
            Some(i) if inner[i + 1..].trim().is_empty() => &inner[..=i],
            None if inner.trim().is_empty() => "",
            _ => inner,
        };
        let margin = inner
            .split('\n')
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start().len())
            .min()
            .unwrap_or(0);
        inner
            .split('\n')
            .map(|l| {
                if l.trim().is_empty() {
                    ""
                } else {
                    &l[margin..]
                }
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn layouts_survive_the_dedent() {
        for value in [
            "echo hi",
            "a\nb\n",
            "a\nb",
            "\na\n",
            "if x:\n    y\n\nz\n",
            "\"quoted\" first\n",
            "\"quoted\" only",
            "\n",
        ] {
            let written = triple_layout(value, 1, QuoteEnd::Unescaped).expect(value);
            assert_eq!(dedent(&written), value, "{written}");
            assert!(!written.lines().any(|l| l.ends_with(' ')), "{written:?}");
        }
    }

    #[test]
    fn values_the_dedent_would_change_have_no_layout() {
        for value in [
            "  indented alone",
            "  a\n  b\n",
            "a\n   \nb\n",
            "ends with quote\"",
            "x \"\"\" y",
            "a\n  ",
        ] {
            assert_eq!(
                triple_layout(value, 0, QuoteEnd::Unescaped),
                None,
                "{value:?}"
            );
        }
    }

    #[test]
    fn inline_and_block_forms() {
        assert_eq!(
            triple_layout("echo '[1, \"two\"]'", 1, QuoteEnd::Unescaped).unwrap(),
            "\"\"\"echo '[1, \"two\"]'\"\"\""
        );
        assert_eq!(
            triple_layout("a\n\nb\n", 1, QuoteEnd::Unescaped).unwrap(),
            "\"\"\"\n        a\n\n        b\n    \"\"\""
        );
    }

    #[test]
    fn escapes() {
        assert_eq!(quoted("a\"b\\c\n\t{x}"), r#""a\"b\\c\n\t{{x}}""#);
        // `\n` is no escape of a raw string: the backslash stays single.
        assert_eq!(
            raw_quoted("printf '%s\\n' \"{x}\""),
            r#""printf '%s\n' \"{x}\"""#
        );
        // Doubled where it would start `\\` or `\"`, or touch the closing quote.
        assert_eq!(raw_quoted(r#"a\\b \" end\"#), r#""a\\\b \\\" end\\""#);
        let mut out = String::new();
        push_triple_text(&mut out, "say \"\"hi\"", true);
        assert_eq!(out, r#"say \""hi\""#);
    }
}
