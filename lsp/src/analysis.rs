//! One analysed document: the program it roots (its imports loaded from disk), the
//! diagnostics `weft check` would give, and the resolved names of its syntax tree.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use weft_compiler::analysis::analyze;
use weft_compiler::ast::Module;
use weft_compiler::diagnostic::{Diagnostic, SourceFile};
use weft_compiler::parser::parse_module;
use weft_compiler::program::{LoadedModule, ModuleId, Program, STD_DIR};

use crate::symbols::SymbolIndex;
use crate::text::Text;

pub struct Analysis {
    pub path: PathBuf,
    pub text: Text,
    /// The program when every file of it parses and every import is found.
    pub program: Option<Program>,
    /// The document's own tree when it parses but the program does not load (a missing
    /// import): hover and definition still work within the file.
    own_module: Option<Module>,
    pub index: Option<SymbolIndex>,
    /// Syntax, import and analysis diagnostics of every file of the program.
    pub diagnostics: Vec<Diagnostic>,
}

impl Analysis {
    pub fn new(path: &Path, text: String) -> Analysis {
        let (program, own_module, diagnostics) = match Program::from_source(path, text.clone()) {
            Ok(program) => {
                let diagnostics = analyze(&program);
                (Some(program), None, diagnostics)
            }
            Err(errors) => {
                let file: Arc<SourceFile> = SourceFile::new(path, text.clone());
                (None, parse_module(&file).ok(), errors)
            }
        };
        let mut analysis = Analysis {
            path: path.to_path_buf(),
            text: Text::new(text),
            program,
            own_module,
            index: None,
            diagnostics,
        };
        analysis.index = analysis
            .module()
            .map(|module| SymbolIndex::build(module, &analysis.text.text));
        analysis
    }

    /// The document's syntax tree, if it parses.
    pub fn module(&self) -> Option<&Module> {
        match &self.program {
            Some(program) => Some(&program.root_module().ast),
            None => self.own_module.as_ref(),
        }
    }

    /// The module an import binding of the document names.
    pub fn imported(&self, binding: &str) -> Option<(ModuleId, &LoadedModule)> {
        let program = self.program.as_ref()?;
        let id = *program.root_module().imports.get(binding)?;
        Some((id, program.module(id)))
    }

    /// Whether a diagnostic belongs to the document itself (not to a file it imports).
    pub fn is_own(&self, diagnostic: &Diagnostic) -> bool {
        diagnostic.file.path() == self.path
    }
}

/// Where a module's source can be opened: its file, or for a standard module a copy of its
/// source written once to a cache directory (the sources live inside the binary).
pub fn module_file(module: &LoadedModule) -> Option<PathBuf> {
    let path = module.file.path();
    match std_module_name(path) {
        Some(name) => materialize_std(name),
        None => Some(absolute(path)),
    }
}

/// `fs` for `<std>/fs.wf`.
pub fn std_module_name(path: &Path) -> Option<&str> {
    let rest = path.to_str()?.strip_prefix(STD_DIR)?.strip_prefix('/')?;
    rest.strip_suffix(".wf")
}

fn materialize_std(name: &str) -> Option<PathBuf> {
    let source = weft_stdlib::module_source(name)?;
    let dir = std::env::temp_dir().join(format!("weft-lsp-std-{}", env!("CARGO_PKG_VERSION")));
    let path = dir.join(format!("{name}.wf"));
    if std::fs::read_to_string(&path).ok().as_deref() != Some(source) {
        std::fs::create_dir_all(&dir).ok()?;
        std::fs::write(&path, source).ok()?;
    }
    Some(path)
}

pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_import_keeps_the_documents_own_tree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("main.wf");
        let analysis = Analysis::new(
            &path,
            "import \"missing.wf\"\nworkflow main() {\n    print(1)\n}\n".to_string(),
        );
        assert!(analysis.program.is_none());
        assert!(analysis.module().is_some());
        assert!(analysis.index.is_some());
        assert_eq!(analysis.diagnostics.len(), 1);
        assert_eq!(analysis.diagnostics[0].code.as_str(), "weft::import");
        assert!(analysis.is_own(&analysis.diagnostics[0]));
    }

    #[test]
    fn std_modules_are_written_where_an_editor_can_open_them() {
        let analysis = Analysis::new(
            Path::new("main.wf"),
            "import std.fs\nworkflow main() {\n    fs.copy(\"a\", \"b\")\n}\n".to_string(),
        );
        let (_, module) = analysis.imported("fs").expect("std.fs loads");
        assert_eq!(std_module_name(module.file.path()), Some("fs"));
        let file = module_file(module).expect("a copy of std.fs");
        assert_eq!(
            std::fs::read_to_string(file).unwrap(),
            weft_stdlib::module_source("fs").unwrap()
        );
    }
}
