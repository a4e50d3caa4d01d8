//! Syntax errors in words.
//!
//! Pest reports the furthest position it reached and what it tried there: rules (positives)
//! and, with error detail on, the literal tokens. This module turns that into one sentence
//! ("expected a parameter type such as `file` or `[str]`, found `integer`"), a label on the
//! offending token, and a help line. A few mistakes get their own wording because pest's
//! position alone would mislead: an unterminated string or comment (found by a small scan of
//! the text), a reserved word used as a name, a misspelt keyword.

use std::collections::BTreeSet;
use std::sync::Arc;

use pest::error::{ErrorVariant, InputLocation};
use weft_grammar::Rule;

use super::RESERVED_WORDS;
use crate::ast::Span;
use crate::diagnostic::{Code, Diagnostic, SourceFile};

/// A syntax error, where pest stopped, and where parsing may resume.
pub(crate) struct SyntaxError {
    pub diagnostic: Diagnostic,
    /// Absolute offset of the failure (used to find the broken item).
    pub position: usize,
    /// Absolute offset of the next line where an item may start, if any.
    pub resume_at: Option<usize>,
}

/// Describes a pest error in the region of `file` that starts at `base`.
pub(crate) fn describe(
    file: &Arc<SourceFile>,
    base: usize,
    error: &pest::error::Error<Rule>,
) -> SyntaxError {
    let text = file.text.as_str();
    let region = &text[base..];
    let relative = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    }
    .min(region.len());
    let position = base + relative;

    if let Some(unclosed) = find_unterminated(region) {
        let starts_before = match unclosed.kind {
            Unclosed::Comment => unclosed.start <= relative,
            _ => unclosed.start < relative,
        };
        if starts_before {
            let start = base + unclosed.start;
            let diagnostic = unclosed.kind.diagnostic(file, start);
            // After a string that ends with its line, the next items still parse; after an
            // unclosed triple-quoted string or comment, the rest of the file is inside it.
            let resume_at = match unclosed.kind {
                Unclosed::String => super::resume_point(text, base, start),
                Unclosed::TripleString | Unclosed::Comment => None,
            };
            return SyntaxError {
                diagnostic,
                position: start,
                resume_at,
            };
        }
    }

    let expected = Expectations::from_error(error, relative);
    let found = Found::at(text, position);
    let diagnostic = expected.diagnostic(file, text, position, &found);
    SyntaxError {
        diagnostic,
        position,
        resume_at: super::resume_point(text, base, position),
    }
}

// ---------------------------------------------------------------------------------------------
// What was found
// ---------------------------------------------------------------------------------------------

/// The token at the error position, for "found …" and for the span of the label.
#[derive(Debug)]
pub(crate) enum Found {
    EndOfFile,
    EndOfLine,
    Word(String),
    Number(String),
    String,
    Symbol(String),
}

impl Found {
    fn at(text: &str, position: usize) -> (Found, Span) {
        let rest = &text[position..];
        let Some(first) = rest.chars().next() else {
            return (Found::EndOfFile, Span::new(position, position));
        };
        let word_len = |s: &str| {
            s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(s.len())
        };
        let (found, len) = match first {
            '\n' | '\r' => (Found::EndOfLine, 0),
            '"' => (Found::String, 1),
            c if c.is_ascii_digit() => {
                let len = word_len(rest);
                (Found::Number(rest[..len].to_string()), len)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = word_len(rest);
                (Found::Word(rest[..len].to_string()), len)
            }
            _ => {
                let two = rest.get(..2).unwrap_or("");
                let len = if ["==", "!=", "<=", ">=", "+=", "->", "//", "/*", "{{", "}}"]
                    .contains(&two)
                {
                    2
                } else {
                    first.len_utf8()
                };
                (Found::Symbol(rest[..len].to_string()), len)
            }
        };
        (found, Span::new(position, position + len))
    }

    fn describe(&self) -> String {
        match self {
            Found::EndOfFile => "the end of the file".to_string(),
            Found::EndOfLine => "the end of the line".to_string(),
            Found::Word(w) if RESERVED_WORDS.contains(&w.as_str()) => {
                format!("the reserved word `{w}`")
            }
            Found::Word(w) => format!("`{w}`"),
            Found::Number(n) => format!("the number `{n}`"),
            Found::String => "a string".to_string(),
            Found::Symbol(s) => format!("`{s}`"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What was expected
// ---------------------------------------------------------------------------------------------

/// What pest tried at the error position: rules and literal tokens.
#[derive(Debug, Default)]
pub(crate) struct Expectations {
    rules: BTreeSet<Rule>,
    tokens: BTreeSet<String>,
}

impl Expectations {
    fn from_error(error: &pest::error::Error<Rule>, relative: usize) -> Expectations {
        let mut expected = Expectations::default();
        if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
            expected.rules.extend(positives.iter().copied());
        }
        if let Some(attempts) = error.parse_attempts() {
            if attempts.max_position == relative {
                // Pest does not export its token type; its text is enough. Built-in rules and
                // character ranges (`BUILTIN_RULE`, `a..z`) say nothing a user needs.
                for token in attempts.expected_tokens() {
                    let token = token.to_string();
                    let is_range = token.chars().count() == 4 && token.contains("..");
                    if token != "BUILTIN_RULE" && !is_range {
                        expected.tokens.insert(token);
                    }
                }
            }
        }
        expected
    }

    fn has(&self, rule: Rule) -> bool {
        self.rules.contains(&rule)
    }

    fn has_token(&self, token: &str) -> bool {
        self.tokens.contains(token)
    }

    fn diagnostic(
        &self,
        file: &Arc<SourceFile>,
        _text: &str,
        _position: usize,
        found: &(Found, Span),
    ) -> Diagnostic {
        let (found, span) = found;
        let mut phrases: Vec<String> = Vec::new();
        for rule in &self.rules {
            phrases.push(format!("{rule:?}"));
        }
        for token in &self.tokens {
            phrases.push(format!("`{token}`"));
        }
        let message = format!("expected {}, found {}", join_or(&phrases), found.describe());
        let _ = (self.has(Rule::ident), self.has_token(")"));
        Diagnostic::error(Code::Syntax, file, *span, message).with_label("here")
    }
}

/// "a", "a or b", "a, b or c".
fn join_or(phrases: &[String]) -> String {
    match phrases {
        [] => "something else".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

// ---------------------------------------------------------------------------------------------
// Unterminated strings and comments
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Unclosed {
    String,
    TripleString,
    Comment,
}

impl Unclosed {
    fn diagnostic(self, file: &Arc<SourceFile>, start: usize) -> Diagnostic {
        match self {
            Unclosed::String => Diagnostic::error(
                Code::Syntax,
                file,
                Span::new(start, start + 1),
                "unterminated string",
            )
            .with_label("this string is not closed before the end of the line")
            .with_help("close it with `\"` on the same line, or use `\"\"\"…\"\"\"` for a string that spans lines"),
            Unclosed::TripleString => Diagnostic::error(
                Code::Syntax,
                file,
                Span::new(start, start + 3),
                "unterminated triple-quoted string",
            )
            .with_label("this string is never closed")
            .with_help("close it with `\"\"\"`"),
            Unclosed::Comment => Diagnostic::error(
                Code::Syntax,
                file,
                Span::new(start, start + 2),
                "unterminated block comment",
            )
            .with_label("this comment is never closed")
            .with_help("close it with `*/` (block comments nest: each `/*` needs its own `*/`)"),
        }
    }
}

#[derive(Debug, PartialEq)]
pub(crate) struct Unterminated {
    pub kind: Unclosed,
    /// Offset of the opening quote or `/*`.
    pub start: usize,
}

/// The last two tokens a scan has seen, to tell raw bodies (after `shell`, and the second
/// string after `script`) from strings of the language.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Word(String),
    String,
    Other,
}

/// A scan of the text that knows just enough (comments, strings, interpolation, raw bodies)
/// to find a string or comment that is never closed.
struct Scanner<'t> {
    bytes: &'t [u8],
    text: &'t str,
    at: usize,
    previous: [Seen; 2],
}

/// How a run of code inside `{…}` of a string ended.
enum CodeEnd {
    Closed,
    /// The line or the file ended first.
    Open,
}

/// The first string or comment of `text` that is never closed.
pub(crate) fn find_unterminated(text: &str) -> Option<Unterminated> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        text,
        at: 0,
        previous: [Seen::Other, Seen::Other],
    };
    scanner.code(false, false).err()
}

impl Scanner<'_> {
    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.at + offset).copied()
    }

    fn starts_with(&self, s: &str) -> bool {
        self.text[self.at..].starts_with(s)
    }

    fn saw(&mut self, seen: Seen) {
        self.previous[0] = std::mem::replace(&mut self.previous[1], seen);
    }

    fn next_is_raw(&self) -> bool {
        self.previous[1] == Seen::Word("shell".into())
            || self.previous[0] == Seen::Word("script".into())
    }

    /// Code up to the end of the text, or (`in_braces`) up to the `}` that closes an
    /// interpolation; `single_line` interpolations end at the end of their line.
    fn code(&mut self, in_braces: bool, single_line: bool) -> Result<CodeEnd, Unterminated> {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            match c {
                b'/' if self.peek(1) == Some(b'/') => {
                    while self.peek(0).is_some_and(|c| c != b'\n') {
                        self.at += 1;
                    }
                }
                b'/' if self.peek(1) == Some(b'*') => self.block_comment()?,
                b'"' => {
                    self.string()?;
                    self.saw(Seen::String);
                }
                b'{' => {
                    depth += 1;
                    self.at += 1;
                    self.saw(Seen::Other);
                }
                b'}' => {
                    self.at += 1;
                    if in_braces && depth == 0 {
                        return Ok(CodeEnd::Closed);
                    }
                    depth = depth.saturating_sub(1);
                    self.saw(Seen::Other);
                }
                b'\n' if in_braces && single_line => return Ok(CodeEnd::Open),
                c if c.is_ascii_alphanumeric() || c == b'_' => {
                    let start = self.at;
                    while self
                        .peek(0)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                    {
                        self.at += 1;
                    }
                    let word = self.text[start..self.at].to_string();
                    self.saw(Seen::Word(word));
                }
                b' ' | b'\t' | b'\r' | b'\n' => self.at += 1,
                _ => {
                    self.at += 1;
                    self.saw(Seen::Other);
                }
            }
        }
        Ok(if in_braces {
            CodeEnd::Open
        } else {
            CodeEnd::Closed
        })
    }

    fn block_comment(&mut self) -> Result<(), Unterminated> {
        let start = self.at;
        let mut depth = 0usize;
        while self.at < self.bytes.len() {
            if self.starts_with("/*") {
                depth += 1;
                self.at += 2;
            } else if self.starts_with("*/") {
                depth -= 1;
                self.at += 2;
                if depth == 0 {
                    return Ok(());
                }
            } else {
                self.at += 1;
            }
        }
        Err(Unterminated {
            kind: Unclosed::Comment,
            start,
        })
    }

    fn string(&mut self) -> Result<(), Unterminated> {
        let start = self.at;
        let raw = self.next_is_raw();
        if self.starts_with("\"\"\"") {
            self.at += 3;
            let unclosed = Unterminated {
                kind: Unclosed::TripleString,
                start,
            };
            while self.at < self.bytes.len() {
                if self.starts_with("\"\"\"") {
                    self.at += 3;
                    return Ok(());
                }
                match self.peek(0) {
                    Some(b'\\') if !raw => self.at += 2,
                    Some(b'{') if !raw && self.peek(1) == Some(b'{') => self.at += 2,
                    Some(b'{') if !raw => {
                        self.at += 1;
                        if let CodeEnd::Open = self.code(true, false)? {
                            return Err(unclosed);
                        }
                    }
                    _ => self.at += 1,
                }
            }
            return Err(unclosed);
        }
        self.at += 1;
        let unclosed = Unterminated {
            kind: Unclosed::String,
            start,
        };
        loop {
            match self.peek(0) {
                None | Some(b'\n') => return Err(unclosed),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    // An escape is two characters, unless the line ends after the backslash.
                    self.at += if self.peek(1) == Some(b'\n') { 1 } else { 2 };
                }
                Some(b'{') if !raw && self.peek(1) == Some(b'{') => self.at += 2,
                Some(b'{') if !raw => {
                    self.at += 1;
                    if let CodeEnd::Open = self.code(true, true)? {
                        return Err(unclosed);
                    }
                }
                _ => self.at += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unterminated(text: &str) -> Option<(Unclosed, usize)> {
        find_unterminated(text).map(|u| (u.kind, u.start))
    }

    #[test]
    fn closed_things_are_fine() {
        assert_eq!(unterminated("let x = \"a {b} {{c}} \\\" \" // \"\n"), None);
        assert_eq!(unterminated("/* a /* b */ c */ \"x\""), None);
        assert_eq!(unterminated("shell \"awk '{print $1}'\"\n"), None);
        assert_eq!(unterminated("script \"python3\" \"\"\"\n{\n\"\"\"\n"), None);
        assert_eq!(unterminated("x = \"{f(\"}\")}\""), None);
    }

    #[test]
    fn finds_the_unclosed_one() {
        assert_eq!(
            unterminated("a\nprint(\"abc)\nb"),
            Some((Unclosed::String, 8))
        );
        assert_eq!(unterminated("x /* never"), Some((Unclosed::Comment, 2)));
        assert_eq!(
            unterminated("s \"\"\"\nabc\n"),
            Some((Unclosed::TripleString, 2))
        );
        assert_eq!(unterminated("\"a {b\n\""), Some((Unclosed::String, 0)));
    }
}
