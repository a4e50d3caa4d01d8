//! Go to definition: the place a name under the cursor is defined, in this file or in a
//! module it imports.

use std::path::PathBuf;

use weft_compiler::ast::{Item, Span};
use weft_compiler::program::LoadedModule;

use crate::analysis::{absolute, module_file, Analysis};
use crate::symbols::{CalleeRef, DefKind, Symbol};

/// A place in a file: the document itself (`None`) or another file, and a span of it.
#[derive(Debug, PartialEq, Eq)]
pub struct Target {
    pub file: Option<PathBuf>,
    /// The span in that file, with the file's text when it is not the document.
    pub span: Span,
    pub text: Option<String>,
}

pub fn definition(analysis: &Analysis, offset: usize) -> Option<Target> {
    let index = analysis.index.as_ref()?;
    let occurrence = index.at(offset)?;
    let here = |span: Span| Target {
        file: None,
        span,
        text: None,
    };
    match &occurrence.symbol {
        Symbol::Use(id) => {
            let def = &index.defs[*id];
            Some(here(def.span))
        }
        // On an import, its definition is the module it imports.
        Symbol::Definition(id) | Symbol::ImportPath(id) => {
            let def = &index.defs[*id];
            if def.kind == DefKind::Import {
                let (_, module) = analysis.imported(&def.name)?;
                return Some(start_of(module));
            }
            Some(here(def.span))
        }
        Symbol::Member { binding, name } => {
            let (_, module) = analysis.imported(binding)?;
            in_module(module, name, None)
        }
        Symbol::NamedArgument { callee, name } => match callee {
            CalleeRef::Local(owner) => index
                .param_of(*owner, name)
                .map(|p| here(index.defs[p].span)),
            CalleeRef::Member {
                binding,
                name: item,
            } => {
                let (_, module) = analysis.imported(binding)?;
                in_module(module, item, Some(name))
            }
            CalleeRef::Builtin(_) => None,
        },
        Symbol::Builtin(_)
        | Symbol::ConstraintKey(_)
        | Symbol::MpiOption(_)
        | Symbol::Keyword(_)
        | Symbol::Unresolved(_) => None,
    }
}

fn start_of(module: &LoadedModule) -> Target {
    Target {
        file: module_file(module),
        span: Span::new(0, 0),
        text: Some(module.file.text.clone()),
    }
}

/// The task, fn or workflow `name` of an imported module, or its parameter `param`.
fn in_module(module: &LoadedModule, name: &str, param: Option<&str>) -> Option<Target> {
    let item = module
        .ast
        .items
        .iter()
        .find(|item| !matches!(item, Item::Import(_)) && item.defined_name().name == name)?;
    let span = match param {
        None => item.defined_name().span,
        Some(param) => {
            let params = match item {
                Item::Task(t) => &t.params,
                Item::Fn(f) => &f.params,
                Item::Workflow(w) => &w.params,
                Item::Import(_) => return None,
            };
            params.iter().find(|p| p.name.name == param)?.name.span
        }
    };
    Some(Target {
        file: module_file(module).or_else(|| Some(absolute(module.file.path()))),
        span,
        text: Some(module.file.text.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn local_names_and_imported_items() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("lib.wf"),
            "/// Shouts.\ntask shout(word: str, o: out file) {\n    shell \"echo {{word}} > {{o}}\"\n}\n",
        )
        .unwrap();
        let source = "import \"lib.wf\" as lib\nfn twice(x: int) -> int {\n    return x * 2\n}\nworkflow main() {\n    let y = twice(2)\n    lib.shout(\"hi\", o = \"out.txt\")\n    print(y)\n}\n";
        let path = dir.path().join("main.wf");
        let analysis = Analysis::new(&path, source.to_string());
        let at = |needle: &str| definition(&analysis, source.find(needle).unwrap()).expect(needle);

        assert_eq!(at("twice(2)").span.start, source.find("twice(x").unwrap());
        assert_eq!(at("x * 2").span.start, source.find("x: int").unwrap());
        assert_eq!(at("y)").span.start, source.find("y = ").unwrap());

        let member = at("shout");
        let lib_text = member.text.clone().unwrap();
        assert_eq!(member.file.unwrap(), dir.path().join("lib.wf"));
        assert_eq!(&lib_text[member.span.start..member.span.end], "shout");

        let named = at("o = ");
        assert_eq!(&lib_text[named.span.start..named.span.end], "o");

        let import = at("\"lib.wf\"");
        assert_eq!(import.file.unwrap(), dir.path().join("lib.wf"));
        assert_eq!(import.span, Span::new(0, 0));
        assert!(definition(&analysis, source.find("print").unwrap()).is_none());
    }

    #[test]
    fn std_members_open_a_copy_of_the_module() {
        let source =
            "import std.text as t\nworkflow main() {\n    t.grep(\"x\", \"a\", \"b\")\n}\n";
        let analysis = Analysis::new(Path::new("main.wf"), source.to_string());
        let target = definition(&analysis, source.find("grep").unwrap()).expect("grep");
        let file = target.file.unwrap();
        assert!(file.ends_with("text.wf"));
        let text = std::fs::read_to_string(file).unwrap();
        assert_eq!(&text[target.span.start..target.span.end], "grep");
    }
}
