//! Formatting through the formatter of `weft fmt`.

use std::path::Path;

use weft_compiler::diagnostic::SourceFile;
use weft_compiler::fmt::format_module;
use weft_compiler::parser::parse_module;

/// The canonical text of a document, `None` when it is already canonical. A document that
/// does not parse cannot be formatted: the error says where it first breaks.
pub fn format(path: &Path, text: &str) -> Result<Option<String>, String> {
    let file = SourceFile::new(path, text);
    let module = parse_module(&file).map_err(|errors| match errors.first() {
        Some(first) => {
            let (line, column) = first.line_col();
            format!(
                "cannot format: {} (line {line}, column {column})",
                first.message
            )
        }
        None => "cannot format: the file does not parse".to_string(),
    })?;
    let formatted = format_module(&module, text);
    Ok((formatted != text).then_some(formatted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_like_weft_fmt_and_refuses_broken_files() {
        let path = Path::new("f.wf");
        let messy = "workflow   main( ) {\nprint( 1 )\n}\n";
        let formatted = format(path, messy).unwrap().expect("a change");
        assert_eq!(format(path, &formatted).unwrap(), None);
        assert!(formatted.contains("    print(1)"), "{formatted}");
        let error = format(path, "workflow main( {\n").unwrap_err();
        assert!(
            error.starts_with("cannot format:") && error.contains("line 1"),
            "{error}"
        );
    }
}
