//! A resolver over one module's syntax tree: every name written in the file, what it names,
//! and which names are visible where.
//!
//! The analysis in weft-compiler checks names but keeps no record of them; the editor needs
//! the record (hover and go to definition ask "what is this word?", completion asks "what is
//! visible here?"). The scoping rules are the analysis's: parameters are visible in the whole
//! item, `let` from its statement to the end of its block, a `for` variable in the loop body, a
//! `catch` variable in its handler; tasks, fns, workflows and imports in the whole file.

use weft_compiler::ast::{
    Arg, Block, Body, DirectiveKind, Entry, Expr, ExprKind, FailurePolicy, ImportTarget, Item,
    Module, Param, Span, StmtKind, Task, TaskBody,
};
use weft_compiler::builtins;

pub type DefId = usize;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefKind {
    Task,
    Fn,
    Workflow,
    Import,
    /// A parameter of the item `owner` (an index into `SymbolIndex::defs`).
    Param {
        owner: DefId,
    },
    /// A `let`, `for` or `catch` variable.
    Variable,
}

#[derive(Clone, Debug)]
pub struct Definition {
    pub name: String,
    pub kind: DefKind,
    /// The span of the name where it is defined.
    pub span: Span,
    /// Where the name is visible.
    pub scope: Span,
    /// The index of the item in `Module::items` (for items, imports and parameters), or of the
    /// item that holds the variable.
    pub item: usize,
    /// For a variable: the span of the statement that binds it.
    pub binder: Span,
}

/// What a callee names, for its named arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CalleeRef {
    Local(DefId),
    Member { binding: String, name: String },
    Builtin(&'static str),
}

/// What one written name (or keyword) means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Symbol {
    /// The name of a definition, where it is defined.
    Definition(DefId),
    /// A use of a definition of this file.
    Use(DefId),
    Builtin(&'static str),
    /// `name` in `binding.name`: a task, fn or workflow of an imported module.
    Member {
        binding: String,
        name: String,
    },
    /// The path of `import "lib/x.wf"`.
    ImportPath(DefId),
    /// `name = …` in a call.
    NamedArgument {
        callee: CalleeRef,
        name: String,
    },
    /// A key of a `constraint { … }` block.
    ConstraintKey(String),
    /// A key of an `mpi "PROGRAM" { … }` options block.
    MpiOption(String),
    /// A keyword with a meaning to show (directives, bodies, directions, streams, policies).
    Keyword(&'static str),
    /// A name that resolves to nothing (the analysis reports it).
    Unresolved(String),
}

#[derive(Clone, Debug)]
pub struct Occurrence {
    pub span: Span,
    pub symbol: Symbol,
}

#[derive(Clone, Debug, Default)]
pub struct SymbolIndex {
    pub defs: Vec<Definition>,
    /// Every resolved name and keyword, in walk order (not sorted; spans never overlap).
    pub occurrences: Vec<Occurrence>,
}

impl SymbolIndex {
    pub fn build(module: &Module, text: &str) -> SymbolIndex {
        let mut resolver = Resolver {
            index: SymbolIndex::default(),
            text,
            items: Vec::new(),
            scopes: Vec::new(),
        };
        resolver.module(module);
        resolver.index
    }

    /// The occurrence whose span contains `offset` (its end included, so that a cursor right
    /// after a name still finds it).
    pub fn at(&self, offset: usize) -> Option<&Occurrence> {
        self.occurrences
            .iter()
            .filter(|o| o.span.start <= offset && offset <= o.span.end)
            .min_by_key(|o| o.span.len())
    }

    /// The definitions visible at `offset`, innermost first, one per name.
    pub fn visible_at(&self, offset: usize) -> Vec<&Definition> {
        let mut visible: Vec<&Definition> = self
            .defs
            .iter()
            .filter(|d| d.scope.start <= offset && offset <= d.scope.end)
            .collect();
        // Innermost (smallest scope) first, so that a shadowing variable wins.
        visible.sort_by_key(|d| (d.scope.len(), std::cmp::Reverse(d.span.start)));
        let mut seen = std::collections::HashSet::new();
        visible.retain(|d| seen.insert(d.name.clone()));
        visible
    }

    /// The definition of the parameter `name` of the item `owner`.
    pub fn param_of(&self, owner: DefId, name: &str) -> Option<DefId> {
        self.defs
            .iter()
            .position(|d| d.name == name && d.kind == DefKind::Param { owner })
    }
}

struct Resolver<'t> {
    index: SymbolIndex,
    text: &'t str,
    /// Item-level names: (name, definition), in source order (the first of duplicates wins).
    items: Vec<(String, DefId)>,
    /// Local scopes, innermost last: parameters, then one frame per block.
    scopes: Vec<Vec<(String, DefId)>>,
}

impl Resolver<'_> {
    fn define(&mut self, name: &str, kind: DefKind, span: Span, scope: Span, item: usize) -> DefId {
        self.define_bound(name, kind, span, scope, item, span)
    }

    fn define_bound(
        &mut self,
        name: &str,
        kind: DefKind,
        span: Span,
        scope: Span,
        item: usize,
        binder: Span,
    ) -> DefId {
        let id = self.index.defs.len();
        self.index.defs.push(Definition {
            name: name.to_string(),
            kind,
            span,
            scope,
            item,
            binder,
        });
        self.occur(span, Symbol::Definition(id));
        id
    }

    fn occur(&mut self, span: Span, symbol: Symbol) {
        self.index.occurrences.push(Occurrence { span, symbol });
    }

    fn keyword_at(&mut self, start: usize, keyword: &'static str) {
        if self.text.get(start..start + keyword.len()) == Some(keyword) {
            self.occur(
                Span::new(start, start + keyword.len()),
                Symbol::Keyword(keyword),
            );
        }
    }

    fn module(&mut self, module: &Module) {
        let whole_file = Span::new(0, self.text.len());
        // Items first: a call may come before the definition it names.
        let mut item_defs = Vec::new();
        for (index, item) in module.items.iter().enumerate() {
            let (kind, name) = match item {
                Item::Import(import) => (DefKind::Import, import.binding()),
                Item::Task(t) => (DefKind::Task, &t.name),
                Item::Fn(f) => (DefKind::Fn, &f.name),
                Item::Workflow(w) => (DefKind::Workflow, &w.name),
            };
            let id = self.define(&name.name, kind, name.span, whole_file, index);
            if !self.items.iter().any(|(n, _)| *n == name.name) {
                self.items.push((name.name.clone(), id));
            }
            item_defs.push(id);
        }
        for (index, item) in module.items.iter().enumerate() {
            let owner = item_defs[index];
            match item {
                Item::Import(import) => self.import(import, owner),
                Item::Task(task) => self.task(task, owner, index),
                Item::Fn(f) => {
                    self.params(&f.params, owner, f.span, index);
                    self.block(&f.body, index);
                    self.scopes.clear();
                }
                Item::Workflow(w) => {
                    self.params(&w.params, owner, w.span, index);
                    self.block(&w.body, index);
                    self.scopes.clear();
                }
            }
        }
    }

    fn import(&mut self, import: &weft_compiler::ast::Import, id: DefId) {
        match &import.target {
            ImportTarget::File { path_span, .. } => {
                // Without an alias, the binding's span is the path itself: already an occurrence.
                if import.alias.is_some() {
                    self.occur(*path_span, Symbol::ImportPath(id));
                }
            }
            ImportTarget::Std { path, .. } => {
                // `std.fs`: every component but the binding names the module too.
                for part in path {
                    if part.span != import.binding().span {
                        self.occur(part.span, Symbol::ImportPath(id));
                    }
                }
            }
        }
    }

    fn params(&mut self, params: &[Param], owner: DefId, scope: Span, item: usize) {
        self.scopes.clear();
        let mut frame = Vec::new();
        for param in params {
            let id = self.define(
                &param.name.name,
                DefKind::Param { owner },
                param.name.span,
                scope,
                item,
            );
            frame.push((param.name.name.clone(), id));
            if let Some(span) = param.direction_span {
                self.keyword_at(span.start, param.direction.keyword());
            }
            for modifier in &param.modifiers {
                if let weft_compiler::ast::Modifier::Stream(stream, span) = modifier {
                    // `as stdout`: the stream word ends the modifier.
                    let word = stream.keyword();
                    self.keyword_at(span.end - word.len(), word);
                }
            }
        }
        // Defaults see the parameters (the analysis reports what they may not use).
        self.scopes.push(frame);
        for param in params {
            if let Some(default) = &param.default {
                self.expr(default);
            }
        }
    }

    fn task(&mut self, task: &Task, owner: DefId, index: usize) {
        self.params(&task.params, owner, task.span, index);
        for directive in &task.directives {
            self.directive(directive);
        }
        match &task.body {
            TaskBody::Single(body) => self.body(body, task, owner),
            TaskBody::Impls(impls) => {
                for imp in impls {
                    self.keyword_at(imp.span.start, "impl");
                    for directive in &imp.directives {
                        self.directive(directive);
                    }
                    self.body(&imp.body, task, owner);
                }
            }
        }
        self.scopes.clear();
    }

    fn directive(&mut self, directive: &weft_compiler::ast::Directive) {
        self.keyword_at(directive.span.start, directive.kind.keyword());
        match &directive.kind {
            DirectiveKind::Constraint(entries) => {
                for entry in entries {
                    self.occur(
                        entry.key.span,
                        Symbol::ConstraintKey(entry.key.name.clone()),
                    );
                    self.expr(&entry.value);
                }
            }
            DirectiveKind::Env(entries) => self.entry_values(entries),
            DirectiveKind::Timeout(e)
            | DirectiveKind::Workdir(e)
            | DirectiveKind::FailOnExit(e)
            | DirectiveKind::Container(e)
            | DirectiveKind::Multinode(e) => self.expr(e),
            DirectiveKind::RaisesOnExit(es) => es.iter().for_each(|e| self.expr(e)),
            DirectiveKind::OnFailure(policy) => {
                if let FailurePolicy::Retry(count) = policy {
                    self.expr(count);
                }
                let rest =
                    &self.text[directive.span.start..directive.span.end.min(self.text.len())];
                for word in ["retry", "cancel_successors", "fail", "ignore"] {
                    if let Some(at) = find_word(rest, word) {
                        self.keyword_at(directive.span.start + at, policy_keyword(word));
                        break;
                    }
                }
            }
            DirectiveKind::Priority | DirectiveKind::Distributed | DirectiveKind::Replicated => {}
        }
    }

    fn entry_values(&mut self, entries: &[Entry]) {
        for entry in entries {
            self.expr(&entry.value);
        }
    }

    fn body(&mut self, body: &Body, task: &Task, owner: DefId) {
        self.keyword_at(body.span().start, body.keyword());
        match body {
            Body::Binary { program, args, .. } | Body::Ompss { program, args, .. } => {
                self.expr(program);
                self.args_list(args.as_deref());
            }
            Body::Mpi {
                program,
                options,
                args,
                ..
            } => {
                self.expr(program);
                for entry in options {
                    self.occur(entry.key.span, Symbol::MpiOption(entry.key.name.clone()));
                    self.expr(&entry.value);
                }
                self.args_list(args.as_deref());
            }
            Body::Shell { template, .. } => {
                let source =
                    &self.text[template.span.start..template.span.end.min(self.text.len())];
                for (offset, name) in template_names(source) {
                    let start = template.span.start + offset;
                    if let Some(param) = task.params.iter().position(|p| p.name.name == name) {
                        let id = self.index.defs.iter().position(|d| {
                            d.kind == DefKind::Param { owner }
                                && d.name == task.params[param].name.name
                        });
                        if let Some(id) = id {
                            self.occur(Span::new(start, start + name.len()), Symbol::Use(id));
                        }
                    }
                }
            }
            Body::Script { interpreter, .. } => self.expr(interpreter),
            Body::Workflow { file, args, .. } => {
                self.expr(file);
                self.entry_values(args);
            }
        }
    }

    fn args_list(&mut self, args: Option<&[Expr]>) {
        if let Some(args) = args {
            if let Some(first) = args.first() {
                // `args [` precedes the first argument; find the keyword just before it.
                let before = &self.text[..first.span.start.min(self.text.len())];
                if let Some(at) = before.rfind("args") {
                    self.keyword_at(at, "args");
                }
            }
            for arg in args {
                self.expr(arg);
            }
        }
    }

    // --- statements ------------------------------------------------------------------------

    fn lookup(&self, name: &str) -> Option<DefId> {
        self.scopes.iter().rev().find_map(|frame| {
            frame
                .iter()
                .rev()
                .find(|(n, _)| n == name)
                .map(|(_, id)| *id)
        })
    }

    fn item(&self, name: &str) -> Option<DefId> {
        self.items
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }

    fn declare(
        &mut self,
        name: &weft_compiler::ast::Ident,
        scope: Span,
        item: usize,
        binder: Span,
    ) {
        let id = self.define_bound(
            &name.name,
            DefKind::Variable,
            name.span,
            scope,
            item,
            binder,
        );
        if let Some(frame) = self.scopes.last_mut() {
            frame.push((name.name.clone(), id));
        }
    }

    fn block(&mut self, block: &Block, item: usize) {
        self.scopes.push(Vec::new());
        for stmt in &block.stmts {
            match &stmt.kind {
                StmtKind::Let { pattern, value } => {
                    self.expr(value);
                    // Visible from the end of the statement to the end of the block.
                    let scope = Span::new(stmt.span.end, block.span.end);
                    for name in pattern.names() {
                        self.declare(name, scope, item, stmt.span);
                    }
                }
                StmtKind::Assign { target, value, .. } => {
                    self.expr(value);
                    self.expr(target);
                }
                StmtKind::If {
                    branches,
                    otherwise,
                } => {
                    for branch in branches {
                        self.expr(&branch.cond);
                        self.block(&branch.body, item);
                    }
                    if let Some(otherwise) = otherwise {
                        self.block(otherwise, item);
                    }
                }
                StmtKind::For {
                    pattern,
                    iter,
                    body,
                } => {
                    self.expr(iter);
                    self.scopes.push(Vec::new());
                    for name in pattern.names() {
                        self.declare(name, body.span, item, stmt.span);
                    }
                    self.block(body, item);
                    self.scopes.pop();
                }
                StmtKind::While { cond, body } => {
                    self.expr(cond);
                    self.block(body, item);
                }
                StmtKind::Return(value) | StmtKind::Barrier(value) => {
                    if let Some(value) = value {
                        self.expr(value);
                    }
                }
                StmtKind::Group { name, body, .. } => {
                    self.expr(name);
                    self.block(body, item);
                }
                StmtKind::Try { body, var, handler } => {
                    self.block(body, item);
                    self.scopes.push(Vec::new());
                    self.declare(var, handler.span, item, stmt.span);
                    self.block(handler, item);
                    self.scopes.pop();
                }
                StmtKind::Raise(e) | StmtKind::Expr(e) => self.expr(e),
            }
        }
        self.scopes.pop();
    }

    // --- expressions -----------------------------------------------------------------------

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => {}
            ExprKind::Str(s) => {
                for part in &s.parts {
                    if let weft_compiler::ast::StrPart::Interp(e) = part {
                        self.expr(e);
                    }
                }
            }
            ExprKind::List(es) | ExprKind::Tuple(es) => es.iter().for_each(|e| self.expr(e)),
            ExprKind::Object(entries) => entries.iter().for_each(|(_, e)| self.expr(e)),
            ExprKind::Paren(e) | ExprKind::Unary(_, e) => self.expr(e),
            ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
                self.expr(a);
                self.expr(b);
            }
            ExprKind::Var(name) => {
                let symbol = match self.lookup(&name.name).or_else(|| self.item(&name.name)) {
                    Some(id) => Symbol::Use(id),
                    None => match builtins::lookup(&name.name) {
                        Some(b) => Symbol::Builtin(b.name),
                        None => Symbol::Unresolved(name.name.clone()),
                    },
                };
                self.occur(name.span, symbol);
            }
            ExprKind::Field(base, field) => {
                if let Some(binding) = self.module_binding(base) {
                    self.expr(base);
                    self.occur(
                        field.span,
                        Symbol::Member {
                            binding,
                            name: field.name.clone(),
                        },
                    );
                } else {
                    self.expr(base);
                }
            }
            ExprKind::Call(callee, args) => {
                let callee_ref = self.callee(callee);
                self.call_args(callee_ref, args);
            }
        }
    }

    /// `fs` in `fs.copy`, when `fs` is an import (and no variable hides it).
    fn module_binding(&self, base: &Expr) -> Option<String> {
        let ExprKind::Var(alias) = &base.kind else {
            return None;
        };
        if self.lookup(&alias.name).is_some() {
            return None;
        }
        let id = self.item(&alias.name)?;
        (self.index.defs[id].kind == DefKind::Import).then(|| alias.name.clone())
    }

    /// Records the callee's name and returns what it names. A callee is a task, fn, workflow
    /// or builtin, never a variable.
    fn callee(&mut self, callee: &Expr) -> Option<CalleeRef> {
        match &callee.kind {
            ExprKind::Var(name) => {
                if let Some(id) = self.item(&name.name) {
                    self.occur(name.span, Symbol::Use(id));
                    return Some(CalleeRef::Local(id));
                }
                if let Some(b) = builtins::lookup(&name.name) {
                    self.occur(name.span, Symbol::Builtin(b.name));
                    return Some(CalleeRef::Builtin(b.name));
                }
                self.occur(name.span, Symbol::Unresolved(name.name.clone()));
                None
            }
            ExprKind::Field(base, field) => {
                self.expr(callee);
                let binding = self.module_binding(base)?;
                Some(CalleeRef::Member {
                    binding,
                    name: field.name.clone(),
                })
            }
            _ => {
                self.expr(callee);
                None
            }
        }
    }

    fn call_args(&mut self, callee: Option<CalleeRef>, args: &[Arg]) {
        for arg in args {
            if let (Some(name), Some(callee)) = (&arg.name, &callee) {
                self.occur(
                    name.span,
                    Symbol::NamedArgument {
                        callee: callee.clone(),
                        name: name.name.clone(),
                    },
                );
            }
            self.expr(&arg.value);
        }
    }
}

fn policy_keyword(word: &str) -> &'static str {
    match word {
        "retry" => "retry",
        "cancel_successors" => "cancel_successors",
        "fail" => "fail",
        _ => "ignore",
    }
}

/// The byte offset of `word` as a whole word in `text`.
fn find_word(text: &str, word: &str) -> Option<usize> {
    let is_word = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    let bytes = text.as_bytes();
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        let before = i == 0 || !is_word(bytes[i - 1]);
        let after = bytes.get(i + word.len()).is_none_or(|&c| !is_word(c));
        before && after
    })
}

/// The names a `shell` template uses, with their byte offsets in the template's source text:
/// `{{name}}`, `{{{name}}}` and the arguments of helpers (`{{join names "+"}}`).
pub fn template_names(source: &str) -> Vec<(usize, &str)> {
    let mut names = Vec::new();
    let mut rest = 0;
    while let Some(open) = source[rest..].find("{{") {
        let inner_start = rest + open + 2 + usize::from(source[rest + open + 2..].starts_with('{'));
        let Some(close) = source[inner_start..].find("}}") else {
            break;
        };
        let inner = &source[inner_start..inner_start + close];
        let mut words = Vec::new();
        let mut in_quotes = false;
        let mut word_start = None;
        for (i, c) in inner
            .char_indices()
            .chain(std::iter::once((inner.len(), ' ')))
        {
            if c == '"' {
                in_quotes = !in_quotes;
            }
            let word_char = !in_quotes && (c.is_ascii_alphanumeric() || c == '_');
            match (word_char, word_start) {
                (true, None) => word_start = Some(i),
                (false, Some(start)) => {
                    words.push((start, &inner[start..i]));
                    word_start = None;
                }
                _ => {}
            }
        }
        // A helper call names the helper first; only its arguments are parameters.
        let skip = usize::from(words.len() > 1);
        for (offset, word) in words.into_iter().skip(skip) {
            if word.chars().next().is_some_and(|c| !c.is_ascii_digit()) {
                names.push((inner_start + offset, word));
            }
        }
        rest = inner_start + close + 2;
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use weft_compiler::diagnostic::SourceFile;

    fn index(source: &str) -> SymbolIndex {
        let file: Arc<SourceFile> = SourceFile::new("t.wf", source);
        let module = weft_compiler::parser::parse_module(&file).expect("test source parses");
        SymbolIndex::build(&module, source)
    }

    fn symbol_at<'i>(index: &'i SymbolIndex, source: &str, needle: &str, nth: usize) -> &'i Symbol {
        let offset = source
            .match_indices(needle)
            .nth(nth)
            .expect("needle present")
            .0;
        &index.at(offset).expect("an occurrence").symbol
    }

    #[test]
    fn variables_resolve_to_the_innermost_binding() {
        let source = "workflow main(n: int = 1) {\n    let x = n\n    for x in [1] {\n        print(x)\n    }\n    print(x)\n}\n";
        let index = index(source);
        let Symbol::Use(inner) = symbol_at(&index, source, "x)", 0) else {
            panic!("x resolves")
        };
        let Symbol::Use(outer) = symbol_at(&index, source, "x)", 1) else {
            panic!("x resolves")
        };
        assert_ne!(inner, outer);
        assert_eq!(index.defs[*inner].span.start, source.find("x in").unwrap());
        assert_eq!(index.defs[*outer].span.start, source.find("x = n").unwrap());
        let Symbol::Use(param) = symbol_at(&index, source, "n\n", 0) else {
            panic!("n resolves")
        };
        assert!(matches!(index.defs[*param].kind, DefKind::Param { .. }));
    }

    #[test]
    fn calls_members_builtins_and_named_arguments() {
        let source = "import std.fs\ntask t(a: file, b: out file) {\n    shell \"cp {{a}} {{b}}\"\n}\nworkflow main() {\n    t(\"x\", b = \"y\")\n    fs.copy(\"y\", \"z\")\n    print(len([1]))\n}\n";
        let index = index(source);
        assert!(matches!(
            symbol_at(&index, source, "t(\"x\"", 0),
            Symbol::Use(_)
        ));
        assert_eq!(
            symbol_at(&index, source, "copy", 0),
            &Symbol::Member {
                binding: "fs".into(),
                name: "copy".into()
            }
        );
        assert!(matches!(
            symbol_at(&index, source, "fs.copy", 0),
            Symbol::Use(_)
        ));
        assert_eq!(symbol_at(&index, source, "len", 0), &Symbol::Builtin("len"));
        assert!(matches!(
            symbol_at(&index, source, "b = ", 0),
            Symbol::NamedArgument { name, .. } if name == "b"
        ));
        // `{{b}}` in the template is the parameter `b`.
        let Symbol::Use(b) = symbol_at(&index, source, "b}}", 0) else {
            panic!("template name resolves")
        };
        assert_eq!(index.defs[*b].name, "b");
        assert_eq!(
            symbol_at(&index, source, "shell", 0),
            &Symbol::Keyword("shell")
        );
        assert_eq!(symbol_at(&index, source, "out", 0), &Symbol::Keyword("out"));
    }

    #[test]
    fn visible_names_depend_on_the_position() {
        let source =
            "workflow main() {\n    let a = 1\n    if true {\n        let b = 2\n    }\n    \n}\n";
        let index = index(source);
        let names = |offset: usize| -> Vec<String> {
            index
                .visible_at(offset)
                .iter()
                .map(|d| d.name.clone())
                .collect()
        };
        let inside_if = source.find("let b").unwrap() + "let b = 2".len() + 1;
        assert!(names(inside_if).contains(&"a".to_string()));
        assert!(names(inside_if).contains(&"b".to_string()));
        let after_if = source.rfind("    \n").unwrap() + 2;
        assert!(names(after_if).contains(&"a".to_string()));
        assert!(!names(after_if).contains(&"b".to_string()));
        assert!(names(after_if).contains(&"main".to_string()));
        // Before its `let`, `a` is not visible.
        assert!(!names(source.find("let a").unwrap()).contains(&"a".to_string()));
    }

    #[test]
    fn template_names_skip_helpers_and_quoted_text() {
        let names = template_names("cat {{a}} {{{b}}} {{join cs \"+\"}} {{basename d}}");
        let words: Vec<&str> = names.iter().map(|(_, w)| *w).collect();
        assert_eq!(words, ["a", "b", "cs", "d"]);
        let source = "x {{ a }}";
        assert_eq!(template_names(source), [(5, "a")]);
    }
}
