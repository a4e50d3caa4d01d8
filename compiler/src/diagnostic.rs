//! Diagnostics: every mistake weft finds in a program, with its stable code (§9), the file,
//! a labelled span and a help line.
//!
//! One `Diagnostic` type serves every stage; `Code` is the closed list of stable codes. It
//! implements `miette::Diagnostic` so the CLI renders it with a source snippet, and it turns
//! into the one-line JSON objects of `weft check --format json`.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, NamedSource, SourceCode};

use crate::ast::Span;

/// A source file: its path as given (used in messages) and its text.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    named: NamedSource<String>,
    /// Where each line starts, for finding a line without reading the text up to it (every
    /// call of a million-call workflow is located).
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<SourceFile> {
        let path = path.into();
        let text = text.into();
        let named = NamedSource::new(path.display().to_string(), text.clone());
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Arc::new(SourceFile {
            path,
            text,
            named,
            line_starts,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        // The last line starting at or before the offset.
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let line_start = self.line_starts[line - 1];
        let column = self.text[line_start..offset].chars().count() + 1;
        (line, column)
    }
}

/// The stable diagnostic codes of LANGUAGE.md §9.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    Syntax,
    Name,
    Type,
    Arity,
    Direction,
    Duplicate,
    Constraint,
    Unsatisfiable,
    Import,
    Config,
    /// An error of the workflow body found while it runs (an index out of range, `int("x")`).
    Runtime,
    /// Warnings: a wait inside a loop that serialises it.
    SerialWait,
    /// Warnings: an unused variable, task, fn or import.
    Unused,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "weft::syntax",
            Code::Name => "weft::name",
            Code::Type => "weft::type",
            Code::Arity => "weft::arity",
            Code::Direction => "weft::direction",
            Code::Duplicate => "weft::duplicate",
            Code::Constraint => "weft::constraint",
            Code::Unsatisfiable => "weft::unsatisfiable",
            Code::Import => "weft::import",
            Code::Config => "weft::config",
            Code::Runtime => "weft::runtime",
            Code::SerialWait => "weft::serial_wait",
            Code::Unused => "weft::unused",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// A further labelled place in the same file (e.g. the first definition of a duplicate).
#[derive(Clone, Debug)]
pub struct Related {
    pub span: Span,
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    pub file: Arc<SourceFile>,
    pub span: Span,
    /// The text of the primary label at `span`.
    pub label: String,
    pub help: Option<String>,
    pub related: Vec<Related>,
}

impl Diagnostic {
    pub fn error(
        code: Code,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            file: file.clone(),
            span,
            label: String::new(),
            help: None,
            related: Vec::new(),
        }
    }

    pub fn warning(
        code: Code,
        file: &Arc<SourceFile>,
        span: Span,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(code, file, span, message)
        }
    }

    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = label.into();
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    pub fn with_related(mut self, span: Span, label: impl Into<String>) -> Diagnostic {
        self.related.push(Related {
            span,
            label: label.into(),
        });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column of the primary span.
    pub fn line_col(&self) -> (usize, usize) {
        self.file.line_col(self.span.start)
    }

    /// The object of `weft check --format json` (§9).
    pub fn to_json(&self) -> serde_json::Value {
        let (line, column) = self.line_col();
        serde_json::json!({
            "severity": self.severity.as_str(),
            "code": self.code.as_str(),
            "message": self.message,
            "file": self.file.path.display().to_string(),
            "line": line,
            "column": column,
        })
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.file.named)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = LabeledSpan::new_primary_with_span(
            (!self.label.is_empty()).then(|| self.label.clone()),
            self.span,
        );
        let related = self
            .related
            .iter()
            .map(|r| LabeledSpan::new_with_span(Some(r.label.clone()), r.span));
        Some(Box::new(std::iter::once(primary).chain(related)))
    }
}

/// Renders diagnostics as miette does on a terminal, without colour: the form used by
/// `weft check` when colour is off, and by the snapshot tests.
pub fn render_plain(diagnostic: &Diagnostic) -> String {
    render(diagnostic, false)
}

/// Renders a diagnostic as miette does, with or without colour.
pub fn render(diagnostic: &Diagnostic, colour: bool) -> String {
    let theme = if colour {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    handler
        .render_report(&mut out, diagnostic)
        .expect("rendering into a String cannot fail");
    out
}

/// Whether standard error gets colour: a terminal, and `NO_COLOR` unset.
pub fn stderr_colour() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Prints diagnostics on standard error, coloured when that is a terminal.
pub fn eprint_all(diagnostics: &[Diagnostic]) {
    let colour = stderr_colour();
    for diagnostic in diagnostics {
        eprintln!("{}", render(diagnostic, colour));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_columns_of_every_offset() {
        let text = "ab\n\nçd\ne";
        let file = SourceFile::new("t.wf", text);
        let expected = [
            (0, (1, 1)),
            (2, (1, 3)),
            (3, (2, 1)),
            (4, (3, 1)),
            (6, (3, 2)),
            (7, (3, 3)),
            (8, (4, 1)),
            (9, (4, 2)),
            (100, (4, 2)),
        ];
        for (offset, line_col) in expected {
            assert_eq!(file.line_col(offset), line_col, "offset {offset}");
        }
    }
}
