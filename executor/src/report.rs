//! Printing diagnostics of the run on standard error, as `weft check` does.

use std::io::IsTerminal;

use weft_compiler::diagnostic::Diagnostic;

pub fn diagnostic(d: &Diagnostic) {
    let theme = if std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal() {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let mut out = String::new();
    if miette::GraphicalReportHandler::new_themed(theme)
        .render_report(&mut out, d)
        .is_ok()
    {
        eprintln!("{out}");
    } else {
        eprintln!("{}: {}", d.code, d.message);
    }
}
