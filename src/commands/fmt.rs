//! `weft fmt FILE… [--check]`.

use weft_compiler::diagnostic::SourceFile;
use weft_compiler::fmt::format_module;
use weft_compiler::parser::parse_module;

use crate::cli::FmtArgs;
use crate::exit;
use crate::load::report;

pub fn run(args: FmtArgs) -> i32 {
    let mut status = exit::SUCCESS;
    for path in &args.files {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return exit::USAGE;
            }
        };
        let file = SourceFile::new(path, text.clone());
        let module = match parse_module(&file) {
            Ok(m) => m,
            Err(diagnostics) => {
                report(&diagnostics);
                return exit::USAGE;
            }
        };
        let formatted = format_module(&module, &text);
        if formatted == text {
            continue;
        }
        if args.check {
            println!("{}", path.display());
            status = exit::TASK_FAILED;
        } else if let Err(e) = write_atomically(path, &formatted) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return exit::USAGE;
        }
    }
    status
}

/// Replaces the file through a temporary sibling and a rename, so an interrupted `fmt` never
/// leaves a half-written source file.
fn write_atomically(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.weft-fmt-{}", std::process::id()));
    std::fs::write(&tmp, text)?;
    if let Ok(meta) = std::fs::metadata(path) {
        let _ = std::fs::set_permissions(&tmp, meta.permissions());
    }
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}
