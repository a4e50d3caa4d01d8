//! Loading a program: the root file and, transitively, everything it imports (§3).
//!
//! Each file is parsed once, however many modules import it, and gets a `ModuleId`. Imported
//! names are used qualified (`fs.copy(…)`), so a module only records which binding names which
//! module; `resolve_callee` turns a call's callee into the task, fn, workflow or builtin it
//! names.

use std::collections::HashMap;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use indexmap::IndexMap;

use crate::ast::{self, ExprKind, ImportTarget, Item, Span};
use crate::builtins::{self, Builtin};
use crate::diagnostic::{Code, Diagnostic, SourceFile};
use crate::parser;

pub type ModuleId = usize;

/// The directory standard modules appear to live in, in messages: `<std>/fs.wf`.
pub const STD_DIR: &str = "<std>";

#[derive(Debug)]
pub struct Program {
    pub modules: Vec<LoadedModule>,
    pub root: ModuleId,
}

#[derive(Debug)]
pub struct LoadedModule {
    pub file: Arc<SourceFile>,
    pub ast: ast::Module,
    /// Binding name (alias / std module name / file stem) → module.
    pub imports: IndexMap<String, ModuleId>,
    /// Name → index into `ast.items`; with duplicate definitions, the first one.
    pub tasks: IndexMap<String, usize>,
    pub fns: IndexMap<String, usize>,
    pub workflows: IndexMap<String, usize>,
}

/// What a call's callee names.
#[derive(Clone, Copy, Debug)]
pub enum Callee<'a> {
    Task(ModuleId, &'a ast::Task),
    Fn(ModuleId, &'a ast::FnDef),
    Workflow(ModuleId, &'a ast::Workflow),
    Builtin(&'static Builtin),
}

impl<'a> Callee<'a> {
    pub fn name(&self) -> &'a str {
        match self {
            Callee::Task(_, t) => &t.name.name,
            Callee::Fn(_, f) => &f.name.name,
            Callee::Workflow(_, w) => &w.name.name,
            Callee::Builtin(b) => b.name,
        }
    }

    /// The declared parameters; `None` for builtins, whose arity is a range.
    pub fn params(&self) -> Option<&'a [ast::Param]> {
        match self {
            Callee::Task(_, t) => Some(&t.params),
            Callee::Fn(_, f) => Some(&f.params),
            Callee::Workflow(_, w) => Some(&w.params),
            Callee::Builtin(_) => None,
        }
    }

    /// "task", "fn", "workflow" or "builtin", for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Callee::Task(..) => "task",
            Callee::Fn(..) => "fn",
            Callee::Workflow(..) => "workflow",
            Callee::Builtin(_) => "builtin",
        }
    }
}

impl LoadedModule {
    pub fn task(&self, name: &str) -> Option<&ast::Task> {
        match &self.ast.items[*self.tasks.get(name)?] {
            Item::Task(t) => Some(t),
            _ => None,
        }
    }

    pub fn fn_def(&self, name: &str) -> Option<&ast::FnDef> {
        match &self.ast.items[*self.fns.get(name)?] {
            Item::Fn(f) => Some(f),
            _ => None,
        }
    }

    pub fn workflow(&self, name: &str) -> Option<&ast::Workflow> {
        match &self.ast.items[*self.workflows.get(name)?] {
            Item::Workflow(w) => Some(w),
            _ => None,
        }
    }

    /// The task, fn or workflow `name` defined in this module (which is `id`).
    pub fn callee(&self, id: ModuleId, name: &str) -> Option<Callee<'_>> {
        if let Some(t) = self.task(name) {
            return Some(Callee::Task(id, t));
        }
        if let Some(f) = self.fn_def(name) {
            return Some(Callee::Fn(id, f));
        }
        self.workflow(name).map(|w| Callee::Workflow(id, w))
    }

    /// Every name a call in another module can reach as `binding.NAME`, in source order.
    pub fn callable_names(&self) -> impl Iterator<Item = &str> {
        self.ast.items.iter().filter_map(|item| match item {
            Item::Task(t) => Some(t.name.name.as_str()),
            Item::Fn(f) => Some(f.name.name.as_str()),
            Item::Workflow(w) => Some(w.name.name.as_str()),
            Item::Import(_) => None,
        })
    }

    /// The import statement that binds `name`.
    pub fn import_item(&self, name: &str) -> Option<&ast::Import> {
        self.ast.items.iter().find_map(|item| match item {
            Item::Import(i) if i.binding().name == name => Some(i),
            _ => None,
        })
    }
}

impl Program {
    /// Parses the file at `path` and, transitively, its imports. Returns every syntax and
    /// import error of every file it could read.
    pub fn load(path: &Path) -> Result<Program, Vec<Diagnostic>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Program::from_source(path, text),
            Err(err) => {
                let file = SourceFile::new(path, "");
                Err(vec![Diagnostic::error(
                    Code::Import,
                    &file,
                    Span::default(),
                    format!(
                        "cannot read {}: {}",
                        path.display(),
                        describe_io_error(&err)
                    ),
                )
                .with_label("this file")])
            }
        }
    }

    /// Like `load`, with the root file's text given (it need not exist on disk: the language
    /// server passes unsaved buffers). Its imports are read from disk, relative to `path`.
    pub fn from_source(path: &Path, text: String) -> Result<Program, Vec<Diagnostic>> {
        let mut loader = Loader {
            root_dir: path
                .parent()
                .filter(|dir| !dir.as_os_str().is_empty())
                .map(Path::to_path_buf),
            ..Loader::default()
        };
        let root_key = ModuleKey::File(canonical_or_absolute(path));
        let root = loader.load(root_key, SourceFile::new(path, text));
        if !loader.errors.is_empty() {
            return Err(loader.errors);
        }
        let modules: Option<Vec<LoadedModule>> = loader.modules.into_iter().collect();
        match (root, modules) {
            (Some(root), Some(modules)) => Ok(Program { modules, root }),
            // Unreachable in practice: a module fails to load only with an error recorded.
            _ => Err(Vec::new()),
        }
    }

    pub fn root_module(&self) -> &LoadedModule {
        &self.modules[self.root]
    }

    pub fn module(&self, id: ModuleId) -> &LoadedModule {
        &self.modules[id]
    }

    /// What `callee` names in `module`: `name` is a task, fn or workflow of the module, else a
    /// builtin; `alias.name` is a task, fn or workflow of the imported module `alias`.
    pub fn resolve_callee(&self, module: ModuleId, callee: &ast::Expr) -> Option<Callee<'_>> {
        let loaded = self.modules.get(module)?;
        match &callee.kind {
            ExprKind::Var(name) => loaded
                .callee(module, &name.name)
                .or_else(|| builtins::lookup(&name.name).map(Callee::Builtin)),
            ExprKind::Field(base, name) => {
                let ExprKind::Var(alias) = &base.kind else {
                    return None;
                };
                let target = *loaded.imports.get(&alias.name)?;
                self.modules[target].callee(target, &name.name)
            }
            _ => None,
        }
    }

    /// The workflow `weft run` starts (§3): the one named `name` when given, else `main`, else
    /// the only workflow of the root file. The error names the workflows that exist.
    pub fn entry_workflow(&self, name: Option<&str>) -> Result<&ast::Workflow, String> {
        let root = self.root_module();
        let file = root.file.path().display();
        let available = || {
            root.workflows
                .keys()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(name) = name {
            return root.workflow(name).ok_or_else(|| {
                if root.workflows.is_empty() {
                    format!("no workflow `{name}` in {file}: it defines no workflow")
                } else {
                    format!(
                        "no workflow `{name}` in {file}; its workflows are {}",
                        available()
                    )
                }
            });
        }
        if let Some(main) = root.workflow("main") {
            return Ok(main);
        }
        match root.workflows.len() {
            0 => Err(format!("{file} defines no workflow to run")),
            1 => root
                .workflows
                .keys()
                .next()
                .and_then(|only| root.workflow(only))
                .ok_or_else(|| format!("{file} defines no workflow to run")),
            _ => Err(format!(
                "{file} has several workflows ({}) and none is named `main`: pick one with \
                 --workflow NAME",
                available()
            )),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The loader
// ---------------------------------------------------------------------------------------------

/// What identifies a module, so that a file imported twice is loaded once.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum ModuleKey {
    File(PathBuf),
    Std(String),
}

#[derive(Default)]
struct Loader {
    /// A slot per module, reserved before its imports load so that ids are stable; `None`
    /// while loading and for a module that failed (an error is then recorded).
    modules: Vec<Option<LoadedModule>>,
    ids: HashMap<ModuleKey, ModuleId>,
    /// The modules being loaded, outermost first, with the path shown for each: an import of
    /// one of them is a cycle.
    in_progress: Vec<(ModuleKey, String)>,
    /// The root file's directory: paths in cycle messages are shown relative to it.
    root_dir: Option<PathBuf>,
    errors: Vec<Diagnostic>,
}

impl Loader {
    fn load(&mut self, key: ModuleKey, file: Arc<SourceFile>) -> Option<ModuleId> {
        let id = self.modules.len();
        self.modules.push(None);
        self.ids.insert(key.clone(), id);
        let path = file.path();
        let shown = self
            .root_dir
            .as_deref()
            .and_then(|dir| path.strip_prefix(dir).ok())
            .unwrap_or(path);
        self.in_progress.push((key, shown.display().to_string()));
        let loaded = self.parse_and_load_imports(file);
        self.in_progress.pop();
        let loaded = loaded?;
        self.modules[id] = Some(loaded);
        Some(id)
    }

    fn parse_and_load_imports(&mut self, file: Arc<SourceFile>) -> Option<LoadedModule> {
        let ast = match parser::parse_module(&file) {
            Ok(ast) => ast,
            Err(errors) => {
                if errors.is_empty() {
                    // The parser always explains itself; this keeps a failed parse from ever
                    // looking like success.
                    self.errors.push(Diagnostic::error(
                        Code::Syntax,
                        &file,
                        Span::default(),
                        format!("{} could not be parsed", file.path().display()),
                    ));
                } else {
                    self.errors.extend(errors);
                }
                return None;
            }
        };
        let mut imports = IndexMap::new();
        for item in &ast.items {
            let Item::Import(import) = item else { continue };
            if let Some(target) = self.load_import(&file, import) {
                imports
                    .entry(import.binding().name.clone())
                    .or_insert(target);
            }
        }
        let mut tasks = IndexMap::new();
        let mut fns = IndexMap::new();
        let mut workflows = IndexMap::new();
        for (index, item) in ast.items.iter().enumerate() {
            let map = match item {
                Item::Task(_) => &mut tasks,
                Item::Fn(_) => &mut fns,
                Item::Workflow(_) => &mut workflows,
                Item::Import(_) => continue,
            };
            map.entry(item.defined_name().name.clone()).or_insert(index);
        }
        Some(LoadedModule {
            file,
            ast,
            imports,
            tasks,
            fns,
            workflows,
        })
    }

    /// Loads (or finds already loaded) the module one import names.
    fn load_import(
        &mut self,
        importer: &Arc<SourceFile>,
        import: &ast::Import,
    ) -> Option<ModuleId> {
        let (key, shown_path, span) = match &import.target {
            ImportTarget::Std { std_span, path } => {
                let name = path
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(".");
                let span = path.last().map_or(*std_span, |last| std_span.to(last.span));
                let shown = format!("{STD_DIR}/{name}.wf");
                (ModuleKey::Std(name), shown, span)
            }
            ImportTarget::File {
                path, path_span, ..
            } => {
                let shown = import_path(importer.path(), path);
                let key = match std::fs::canonicalize(&shown) {
                    Ok(canonical) => canonical,
                    Err(_) => canonical_or_absolute(&shown),
                };
                (
                    ModuleKey::File(key),
                    shown.display().to_string(),
                    *path_span,
                )
            }
        };

        if let Some(start) = self.in_progress.iter().position(|(k, _)| *k == key) {
            let mut cycle: Vec<&str> = self.in_progress[start..]
                .iter()
                .map(|(_, shown)| shown.as_str())
                .collect();
            cycle.push(&self.in_progress[start].1);
            self.errors.push(
                Diagnostic::error(
                    Code::Import,
                    importer,
                    span,
                    format!("import cycle: {}", cycle.join(" → ")),
                )
                .with_label("this import closes the cycle")
                .with_help(
                    "modules cannot import each other; move what both need into a third file",
                ),
            );
            return None;
        }
        if let Some(&id) = self.ids.get(&key) {
            // Loaded before (or failed before, with its error already reported).
            return self.modules[id].is_some().then_some(id);
        }

        match &key {
            ModuleKey::Std(name) => match weft_stdlib::module_source(name) {
                Some(text) => self.load(key.clone(), SourceFile::new(&shown_path, text)),
                None => {
                    self.errors.push(missing_std_module(importer, span, name));
                    None
                }
            },
            ModuleKey::File(_) => {
                let ImportTarget::File { path: written, .. } = &import.target else {
                    return None;
                };
                match std::fs::read_to_string(&shown_path) {
                    Ok(text) => self.load(key.clone(), SourceFile::new(&shown_path, text)),
                    Err(err) => {
                        self.errors
                            .push(missing_file(importer, span, written, &shown_path, &err));
                        None
                    }
                }
            }
        }
    }
}

/// The path of an imported file: relative to the importing file's directory.
fn import_path(importer: &Path, written: &str) -> PathBuf {
    let written = Path::new(written);
    if written.is_absolute() {
        return written.to_path_buf();
    }
    match importer.parent() {
        Some(dir) => dir.join(written),
        None => written.to_path_buf(),
    }
}

/// The canonical path when the file exists, else the absolute path with `.` and `..` removed
/// lexically (an unsaved buffer, or a file that is missing).
fn canonical_or_absolute(path: &Path) -> PathBuf {
    if let Ok(canonical) = std::fs::canonicalize(path) {
        return canonical;
    }
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    let mut normal = PathBuf::new();
    for component in absolute.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                normal.pop();
            }
            other => normal.push(other),
        }
    }
    normal
}

fn describe_io_error(err: &io::Error) -> String {
    match err.kind() {
        io::ErrorKind::NotFound => "no such file".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string(),
    }
}

fn missing_file(
    importer: &Arc<SourceFile>,
    span: Span,
    written: &str,
    resolved: &str,
    err: &io::Error,
) -> Diagnostic {
    let message = if err.kind() == io::ErrorKind::NotFound {
        format!("cannot find the imported file `{written}`")
    } else {
        format!(
            "cannot read the imported file `{written}`: {}",
            describe_io_error(err)
        )
    };
    let mut help = format!("looked for {resolved}");
    if Path::new(written).is_relative() {
        help.push_str(" (an imported path is relative to the importing file's directory)");
    }
    Diagnostic::error(Code::Import, importer, span, message)
        .with_label("imported here")
        .with_help(help)
}

fn missing_std_module(importer: &Arc<SourceFile>, span: Span, name: &str) -> Diagnostic {
    let names: Vec<&str> = weft_stdlib::module_names().collect();
    let listed = names
        .iter()
        .map(|n| format!("std.{n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let close = names
        .iter()
        .filter(|n| strsim::damerau_levenshtein(n, name) <= 2)
        .min_by_key(|n| strsim::damerau_levenshtein(n, name));
    let help = match close {
        Some(close) => format!("did you mean `std.{close}`? the standard modules are {listed}"),
        None => format!("the standard modules are {listed}"),
    };
    Diagnostic::error(
        Code::Import,
        importer,
        span,
        format!("there is no standard module `std.{name}`"),
    )
    .with_label("unknown module")
    .with_help(help)
}
