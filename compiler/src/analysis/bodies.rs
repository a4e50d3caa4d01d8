//! Names, scopes and calls in workflow and fn bodies, in task expressions (directives and
//! bodies) and in parameter defaults.
//!
//! Scoping (§5): a body sees its parameters; `let` binds from the next statement to the end of
//! its block (nested blocks included); `for` binds its variables in the loop body, `catch e`
//! in the handler. Task expressions see only the task's parameters and the builtins that
//! compute a value (`env`, `basename`, …); defaults see no variable at all.
//!
//! Every call is checked against what it calls: arity (§4.1 positional-then-named), literal
//! arguments against the parameter types, and arguments of parameters a task writes (`out`,
//! `inout`, `concurrent`, `commutative`), which must name where the new version goes.

use crate::ast::{
    Arg, AssignOp, BinaryOp, Block, Expr, ExprKind, FnDef, Ident, Item, Param, Pattern, ReturnType,
    Span, StmtKind, StrPart, Type,
};
use crate::builtins::{self, Builtin};
use crate::diagnostic::{Code, Diagnostic};
use crate::program::Callee;

use super::declarations::{a_type, duplicate};
use super::literals::{check_literal, how_to_write, literal, strip_parens, Literal};
use super::suggest::{did_you_mean, quoted_list};
use super::tasks::task_expressions;
use super::ModuleCx;

pub(super) fn check(cx: &mut ModuleCx) {
    let module = cx.module;
    for item in &module.ast.items {
        match item {
            Item::Import(_) => {}
            Item::Task(task) => {
                check_defaults(cx, &task.params);
                let mut checker = BodyChecker::new(cx, Mode::Task);
                checker.declare_params(&task.params);
                for expr in task_expressions(task) {
                    checker.expr(expr);
                }
                checker.finish();
            }
            Item::Fn(f) => {
                check_defaults(cx, &f.params);
                let mut checker = BodyChecker::new(cx, Mode::Fn(f));
                checker.declare_params(&f.params);
                checker.block(&f.body);
                checker.finish();
            }
            Item::Workflow(w) => {
                check_defaults(cx, &w.params);
                let mut checker = BodyChecker::new(cx, Mode::Workflow);
                checker.declare_params(&w.params);
                checker.block(&w.body);
                checker.finish();
            }
        }
    }
}

fn check_defaults(cx: &mut ModuleCx, params: &[Param]) {
    for default in params.iter().filter_map(|p| p.default.as_ref()) {
        let mut checker = BodyChecker::new(cx, Mode::Default);
        checker.expr(default);
        checker.finish();
    }
}

/// Where the expressions being checked are, which decides what they may name and call.
#[derive(Clone, Copy)]
enum Mode<'p> {
    Workflow,
    Fn(&'p FnDef),
    /// A task's directives and body: its parameters and pure builtins only.
    Task,
    /// A parameter's default value: literals and pure builtins.
    Default,
}

impl Mode<'_> {
    /// Whether tasks, fns, workflows and builtins with effects may be called.
    fn runs_statements(self) -> bool {
        matches!(self, Mode::Workflow | Mode::Fn(_))
    }
}

struct Binding {
    name: String,
    span: Span,
    used: bool,
    /// Parameters are part of a signature: not reported when unused.
    warn_unused: bool,
}

struct BodyChecker<'c, 'p> {
    cx: &'c mut ModuleCx<'p>,
    mode: Mode<'p>,
    /// Innermost last; within a frame, later bindings last.
    frames: Vec<Vec<Binding>>,
}

impl<'c, 'p> BodyChecker<'c, 'p> {
    fn new(cx: &'c mut ModuleCx<'p>, mode: Mode<'p>) -> Self {
        BodyChecker {
            cx,
            mode,
            frames: vec![Vec::new()],
        }
    }

    fn finish(mut self) {
        while !self.frames.is_empty() {
            self.pop_frame();
        }
    }

    // --- scopes ------------------------------------------------------------------------------

    fn declare_params(&mut self, params: &[Param]) {
        for param in params {
            self.declare(&param.name, false);
        }
    }

    fn push_frame(&mut self) {
        self.frames.push(Vec::new());
    }

    fn pop_frame(&mut self) {
        if let Some(frame) = self.frames.pop() {
            for binding in frame {
                self.report_if_unused(binding);
            }
        }
    }

    fn declare(&mut self, name: &Ident, warn_unused: bool) {
        let Some(frame) = self.frames.last_mut() else {
            return;
        };
        // A `let` of a name already bound in the same block replaces it: the old binding is
        // finished, and unused if nothing read it.
        let replaced = frame
            .iter()
            .position(|b| b.name == name.name)
            .map(|i| frame.remove(i));
        frame.push(Binding {
            name: name.name.clone(),
            span: name.span,
            used: false,
            warn_unused,
        });
        if let Some(old) = replaced {
            self.report_if_unused(old);
        }
    }

    fn report_if_unused(&mut self, binding: Binding) {
        if binding.used || !binding.warn_unused || binding.name.starts_with('_') {
            return;
        }
        let name = &binding.name;
        self.cx.push(
            Diagnostic::warning(
                Code::Unused,
                self.cx.file,
                binding.span,
                format!("unused variable `{name}`"),
            )
            .with_label("never read")
            .with_help(format!(
                "remove it (keep the call if the value came from one), or name it `_{name}` \
                 if it is unused on purpose"
            )),
        );
    }

    fn lookup(&mut self, name: &str) -> Option<&mut Binding> {
        self.frames
            .iter_mut()
            .rev()
            .flat_map(|frame| frame.iter_mut().rev())
            .find(|b| b.name == name)
    }

    fn is_variable(&self, name: &str) -> bool {
        self.frames.iter().flatten().any(|b| b.name == name)
    }

    fn visible_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        for binding in self.frames.iter().rev().flat_map(|f| f.iter().rev()) {
            if !names.contains(&binding.name.as_str()) {
                names.push(&binding.name);
            }
        }
        names
    }

    // --- statements --------------------------------------------------------------------------

    fn block(&mut self, block: &Block) {
        self.push_frame();
        self.stmts(block);
        self.pop_frame();
    }

    fn stmts(&mut self, block: &Block) {
        for stmt in &block.stmts {
            self.stmt(&stmt.kind);
        }
    }

    fn stmt(&mut self, stmt: &StmtKind) {
        match stmt {
            StmtKind::Let { pattern, value } => {
                self.expr(value);
                self.tuple_pattern(pattern, value);
                for name in pattern.names() {
                    self.declare(name, true);
                }
            }
            StmtKind::Assign { target, op, value } => {
                self.expr(value);
                self.assign_target(target, *op);
            }
            StmtKind::If {
                branches,
                otherwise,
            } => {
                for branch in branches {
                    self.expr(&branch.cond);
                    self.block(&branch.body);
                }
                if let Some(otherwise) = otherwise {
                    self.block(otherwise);
                }
            }
            StmtKind::For {
                pattern,
                iter,
                body,
            } => {
                self.expr(iter);
                self.push_frame();
                for name in pattern.names() {
                    self.declare(name, true);
                }
                self.block(body);
                self.pop_frame();
            }
            StmtKind::While { cond, body } => {
                self.expr(cond);
                self.block(body);
            }
            StmtKind::Return(value) => {
                if let Some(value) = value {
                    self.expr(value);
                    self.return_value(value);
                }
            }
            StmtKind::Group { name, body, .. } => {
                self.expr(name);
                self.block(body);
            }
            StmtKind::Barrier(name) => {
                if let Some(name) = name {
                    self.expr(name);
                }
            }
            StmtKind::Try { body, var, handler } => {
                self.block(body);
                self.push_frame();
                self.declare(var, true);
                self.block(handler);
                self.pop_frame();
            }
            StmtKind::Raise(message) => self.expr(message),
            StmtKind::Expr(expr) => self.expr(expr),
        }
    }

    /// The target of `=` / `+=`: it must be declared already. Writing a variable is not
    /// reading it, so it does not count as a use; an index or a field is read as a value.
    fn assign_target(&mut self, target: &Expr, op: AssignOp) {
        match &target.kind {
            ExprKind::Var(name) => {
                if self.lookup(&name.name).is_none() {
                    let operator = if op == AssignOp::Add { "+=" } else { "=" };
                    let suggestion = did_you_mean(&name.name, self.visible_names());
                    let help = match suggestion {
                        Some(s) => format!("{s} a new variable is declared with `let`"),
                        None => format!(
                            "declare it first: `let {} = …` (`{operator}` changes a variable \
                             that exists)",
                            name.name
                        ),
                    };
                    self.cx.push(
                        Diagnostic::error(
                            Code::Name,
                            self.cx.file,
                            name.span,
                            format!("assignment to the undeclared variable `{}`", name.name),
                        )
                        .with_label("not declared")
                        .with_help(help),
                    );
                }
            }
            ExprKind::Index(base, index) => {
                self.assign_target(base, AssignOp::Set);
                self.expr(index);
            }
            ExprKind::Field(base, _) => self.assign_target(base, AssignOp::Set),
            ExprKind::Paren(inner) => self.assign_target(inner, op),
            _ => {
                self.expr(target);
                self.cx.push(
                    Diagnostic::error(
                        Code::Type,
                        self.cx.file,
                        target.span,
                        "this cannot be assigned to",
                    )
                    .with_label("not a variable, an element or a field")
                    .with_help("assign to a variable (`x = …`), an element (`xs[i] = …`) or a field (`m.k = …`)"),
                );
            }
        }
    }

    /// `let (a, b) = task(…)`: the pattern must take as many values as the task returns.
    fn tuple_pattern(&mut self, pattern: &Pattern, value: &Expr) {
        let Pattern::Tuple(names, pattern_span) = pattern else {
            return;
        };
        let ExprKind::Call(callee, _) = &strip_parens(value).kind else {
            return;
        };
        let Some(Callee::Task(_, task)) = self.cx.program.resolve_callee(self.cx.id, callee) else {
            return;
        };
        let returned = match &task.returns {
            None => Some("nothing".to_string()),
            Some(ReturnType::Tuple(types, _)) if types.len() != names.len() => {
                Some(format!("{} values", types.len()))
            }
            Some(ReturnType::Single(ty)) if !matches!(ty.ty, Type::Json | Type::List(_)) => {
                Some(format!("one value ({})", a_type(&ty.ty)))
            }
            _ => None,
        };
        if let Some(returned) = returned {
            self.cx.push(
                Diagnostic::error(
                    Code::Type,
                    self.cx.file,
                    *pattern_span,
                    format!(
                        "this pattern takes {} values, but task `{}` returns {returned}",
                        names.len(),
                        task.name
                    ),
                )
                .with_label(format!("{} names", names.len()))
                .with_help("the pattern needs one name per value of the task's `-> (…)`"),
            );
        }
    }

    /// `return VALUE` in a fn declared `-> T`, when VALUE is a literal.
    fn return_value(&mut self, value: &Expr) {
        let Mode::Fn(f) = self.mode else { return };
        let Some(declared) = &f.returns else { return };
        if let Some(mismatch) = check_literal(&declared.ty, value) {
            self.cx.push(
                Diagnostic::error(
                    Code::Type,
                    self.cx.file,
                    mismatch.span,
                    format!(
                        "fn `{}` returns {}, but this is {}",
                        f.name,
                        a_type(&declared.ty),
                        mismatch.found_for(&declared.ty)
                    ),
                )
                .with_label(format!("expected {}", a_type(&mismatch.expected)))
                .with_related(declared.span, "declared return type")
                .with_help(how_to_write(&mismatch.expected, mismatch.found)),
            );
        }
    }

    // --- expressions -------------------------------------------------------------------------

    fn expr(&mut self, expr: &Expr) {
        match &expr.kind {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => {}
            ExprKind::Str(lit) => {
                for part in &lit.parts {
                    if let StrPart::Interp(inner) = part {
                        self.expr(inner);
                    }
                }
            }
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                for item in items {
                    self.expr(item);
                }
            }
            ExprKind::Object(entries) => {
                let mut seen: Vec<(&str, Span)> = Vec::new();
                for (key, value) in entries {
                    if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key.name) {
                        let message = format!("key `{}` appears twice in this object", key.name);
                        let diagnostic = duplicate(self.cx, key.span, *first, message);
                        self.cx.push(diagnostic);
                    } else {
                        seen.push((&key.name, key.span));
                    }
                    self.expr(value);
                }
            }
            ExprKind::Paren(inner) | ExprKind::Unary(_, inner) => self.expr(inner),
            ExprKind::Var(name) => self.read_var(name),
            ExprKind::Field(base, field) => self.field(base, field),
            ExprKind::Index(base, index) => {
                self.expr(base);
                self.expr(index);
            }
            ExprKind::Call(callee, args) => self.call(expr, callee, args),
            ExprKind::Binary(_, left, right) => {
                self.expr(left);
                self.expr(right);
            }
        }
    }

    fn read_var(&mut self, name: &Ident) {
        if let Some(binding) = self.lookup(&name.name) {
            binding.used = true;
            return;
        }
        let module = self.cx.module;
        let n = &name.name;
        let (message, label, help) = if let Some(callee) = module.callee(self.cx.id, n) {
            (
                format!("`{n}` is a {}, not a variable", callee.kind()),
                "not a value",
                Some(format!("call it: `{n}(…)`")),
            )
        } else if module.imports.contains_key(n) {
            self.cx.used_imports.insert(n.clone());
            (
                format!("`{n}` is a module, not a variable"),
                "not a value",
                Some(format!("use what it defines by name: `{n}.NAME(…)`")),
            )
        } else if builtins::lookup(n).is_some() {
            (
                format!("`{n}` is a builtin, not a variable"),
                "not a value",
                Some(format!("call it: `{n}(…)`")),
            )
        } else {
            let suggestion = did_you_mean(n, self.visible_names());
            match self.mode {
                Mode::Task => (
                    format!("unknown name `{n}` in a task"),
                    "not a parameter of this task",
                    Some(suggestion.unwrap_or_else(|| {
                        "a task's directives and body see its parameters only".to_string()
                    })),
                ),
                Mode::Default => (
                    format!("unknown name `{n}` in a default value"),
                    "not defined here",
                    Some("a default value cannot use variables or other parameters".to_string()),
                ),
                _ => {
                    (
                        format!("unknown variable `{n}`"),
                        "not defined",
                        Some(suggestion.unwrap_or_else(|| {
                            format!("declare it before this point: `let {n} = …`")
                        })),
                    )
                }
            }
        };
        let mut diagnostic =
            Diagnostic::error(Code::Name, self.cx.file, name.span, message).with_label(label);
        if let Some(help) = help {
            diagnostic = diagnostic.with_help(help);
        }
        self.cx.push(diagnostic);
    }

    /// `obj.key` on a json value, or `module.name` used without calling it.
    fn field(&mut self, base: &Expr, field: &Ident) {
        if let ExprKind::Var(alias) = &base.kind {
            if !self.is_variable(&alias.name) {
                if let Some(&target) = self.cx.module.imports.get(&alias.name) {
                    self.cx.used_imports.insert(alias.name.clone());
                    let target_module = self.cx.program.module(target);
                    let message = match target_module.callee(target, &field.name) {
                        Some(callee) => format!(
                            "`{alias}.{field}` is a {}: it can only be called",
                            callee.kind()
                        ),
                        None => format!("module `{alias}` has nothing named `{field}`"),
                    };
                    self.cx.push(
                        Diagnostic::error(
                            Code::Name,
                            self.cx.file,
                            base.span.to(field.span),
                            message,
                        )
                        .with_label("not a value")
                        .with_help(format!(
                            "a module's tasks, fns and workflows are called: `{alias}.{field}(…)`"
                        )),
                    );
                    return;
                }
            }
        }
        self.expr(base);
    }

    // --- calls -------------------------------------------------------------------------------

    fn call(&mut self, call: &Expr, callee_expr: &Expr, args: &[Arg]) {
        let callee = self.resolve(callee_expr);
        for arg in args {
            self.expr(&arg.value);
        }
        let Some(callee) = callee else { return };
        if !self.mode.runs_statements() && !matches!(callee, Callee::Builtin(b) if b.pure) {
            let place = if matches!(self.mode, Mode::Task) {
                "a task's directives and body"
            } else {
                "a default value"
            };
            self.cx.push(
                Diagnostic::error(
                    Code::Name,
                    self.cx.file,
                    callee_expr.span,
                    format!(
                        "{} `{}` cannot be called in {place}",
                        callee.kind(),
                        self.cx.text(callee_expr.span)
                    ),
                )
                .with_label("not allowed here")
                .with_help(
                    "these expressions are computed when the task is scheduled: they may use \
                     literals, the task's parameters, `env(…)` and builtins that only compute \
                     a value (`basename`, `len`, …)",
                ),
            );
            return;
        }
        match callee {
            Callee::Builtin(builtin) => self.builtin_arguments(call, builtin, args),
            Callee::Task(module, _) | Callee::Fn(module, _) | Callee::Workflow(module, _) => {
                self.cx.called.insert((module, callee.name().to_string()));
                self.arguments(call, callee_expr, callee, args);
            }
        }
    }

    /// What a callee names, reporting unknown names.
    fn resolve(&mut self, callee_expr: &Expr) -> Option<Callee<'p>> {
        let program = self.cx.program;
        let module = self.cx.module;
        match &callee_expr.kind {
            ExprKind::Var(name) => {
                if let Some(callee) = program.resolve_callee(self.cx.id, callee_expr) {
                    return Some(callee);
                }
                self.unknown_callee(name);
                None
            }
            ExprKind::Field(base, name) => {
                let ExprKind::Var(alias) = &base.kind else {
                    self.expr(base);
                    self.not_callable(callee_expr);
                    return None;
                };
                if let Some(&target) = module.imports.get(&alias.name) {
                    self.cx.used_imports.insert(alias.name.clone());
                    if let Some(callee) = program.resolve_callee(self.cx.id, callee_expr) {
                        return Some(callee);
                    }
                    let target_module = program.module(target);
                    let help = did_you_mean(&name.name, target_module.callable_names())
                        .unwrap_or_else(|| {
                            let names: Vec<&str> = target_module.callable_names().collect();
                            if names.is_empty() {
                                format!("module `{alias}` defines no task, fn or workflow")
                            } else {
                                format!("module `{alias}` defines {}", quoted_list(names))
                            }
                        });
                    self.cx.push(
                        Diagnostic::error(
                            Code::Name,
                            self.cx.file,
                            name.span,
                            format!("module `{alias}` has no task, fn or workflow `{name}`"),
                        )
                        .with_label("not found in the module")
                        .with_related(
                            alias.span,
                            format!("`{alias}` is {}", target_module.file.path().display()),
                        )
                        .with_help(help),
                    );
                    return None;
                }
                if let Some(binding) = self.lookup(&alias.name) {
                    binding.used = true;
                    self.cx.push(
                        Diagnostic::error(
                            Code::Name,
                            self.cx.file,
                            callee_expr.span,
                            format!("`{alias}` is a variable: `{alias}.{name}` cannot be called"),
                        )
                        .with_label("not a task, fn or workflow")
                        .with_help(
                            "weft has no methods: builtins take the value as an argument, \
                             as in `len(xs)`",
                        ),
                    );
                    return None;
                }
                let help = if weft_stdlib::module_source(&alias.name).is_some() {
                    format!("import it first: `import std.{alias}`")
                } else {
                    did_you_mean(&alias.name, module.imports.keys().map(String::as_str))
                        .unwrap_or_else(|| {
                            format!(
                                "import the module first, e.g. `import \"{alias}.wf\"` or \
                                 `import std.NAME as {alias}`"
                            )
                        })
                };
                self.cx.push(
                    Diagnostic::error(
                        Code::Name,
                        self.cx.file,
                        alias.span,
                        format!("unknown module `{alias}`"),
                    )
                    .with_label("no import has this name")
                    .with_help(help),
                );
                None
            }
            _ => {
                self.expr(callee_expr);
                self.not_callable(callee_expr);
                None
            }
        }
    }

    fn not_callable(&mut self, callee_expr: &Expr) {
        self.cx.push(
            Diagnostic::error(
                Code::Name,
                self.cx.file,
                callee_expr.span,
                "this cannot be called",
            )
            .with_label("not a task, fn, workflow or builtin")
            .with_help(
                "call a task, fn or workflow by name (`name(…)`, `module.name(…)`) or a builtin",
            ),
        );
    }

    fn unknown_callee(&mut self, name: &Ident) {
        let module = self.cx.module;
        let candidates = module
            .callable_names()
            .chain(builtins::BUILTINS.iter().map(|b| b.name));
        let n = &name.name;
        let help = if let Some(suggestion) = did_you_mean(n, candidates) {
            suggestion
        } else if let Some((alias, _)) = module
            .imports
            .iter()
            .find(|(_, &target)| self.cx.program.module(target).callee(target, n).is_some())
        {
            format!("imported names are used qualified: `{alias}.{n}(…)`")
        } else if self.is_variable(n) {
            format!("`{n}` is a variable; only tasks, fns, workflows and builtins are called")
        } else {
            "define it in this file with `task`, `fn` or `workflow`, or import a module that \
             defines it"
                .to_string()
        };
        self.cx.push(
            Diagnostic::error(
                Code::Name,
                self.cx.file,
                name.span,
                format!("unknown task, fn or builtin `{n}`"),
            )
            .with_label("not defined")
            .with_help(help),
        );
    }

    fn builtin_arguments(&mut self, call: &Expr, builtin: &'static Builtin, args: &[Arg]) {
        let name = builtin.name;
        if let Some(named) = args.iter().find_map(|a| a.name.as_ref()) {
            self.cx.push(
                Diagnostic::error(
                    Code::Arity,
                    self.cx.file,
                    named.span,
                    format!("builtin `{name}` takes its arguments by position"),
                )
                .with_label("named argument")
                .with_help(format!("write `{}`", builtin.signature)),
            );
            return;
        }
        if builtin.accepts(args.len()) {
            return;
        }
        let expected = match (builtin.min_args, builtin.max_args) {
            (min, Some(max)) if min == max => plural(min, "argument"),
            (min, None) => format!("at least {}", plural(min, "argument")),
            (min, Some(max)) => format!("{min} to {max} arguments"),
        };
        let given = args.len();
        let span = if given < builtin.min_args {
            call.span
        } else {
            let extra = builtin.max_args.unwrap_or(given);
            arg_span(&args[extra]).to(arg_span(&args[given - 1]))
        };
        let label = if given < builtin.min_args {
            "too few arguments"
        } else {
            "unexpected arguments"
        };
        self.cx.push(
            Diagnostic::error(
                Code::Arity,
                self.cx.file,
                span,
                format!("builtin `{name}` takes {expected}, but {given} were given"),
            )
            .with_label(label)
            .with_help(format!("write `{}`", builtin.signature)),
        );
    }

    /// Binds the arguments of a call to a task, fn or workflow to its parameters (§4.1:
    /// positional first, then by name) and checks each bound argument.
    fn arguments(&mut self, call: &Expr, callee_expr: &Expr, callee: Callee<'p>, args: &[Arg]) {
        let Some(params) = callee.params() else {
            return;
        };
        let written_name = self.cx.text(callee_expr.span);
        let signature = signature(self.cx, written_name, callee);
        let mut bound: Vec<Option<&Arg>> = vec![None; params.len()];
        let mut first_named: Option<&Ident> = None;
        let mut positional = 0;
        let mut extra: Vec<&Arg> = Vec::new();
        for arg in args {
            match &arg.name {
                None => {
                    if let Some(named) = first_named {
                        self.cx.push(
                            Diagnostic::error(
                                Code::Arity,
                                self.cx.file,
                                arg.value.span,
                                "a positional argument cannot follow a named one",
                            )
                            .with_label("positional argument")
                            .with_related(named.span, "named argument before it")
                            .with_help(format!(
                                "give positional arguments first, then named ones: {signature}"
                            )),
                        );
                        continue;
                    }
                    match bound.get_mut(positional) {
                        Some(slot) => *slot = Some(arg),
                        None => extra.push(arg),
                    }
                    positional += 1;
                }
                Some(name) => {
                    first_named.get_or_insert(name);
                    let Some(index) = params.iter().position(|p| p.name.name == name.name) else {
                        let help =
                            did_you_mean(&name.name, params.iter().map(|p| p.name.name.as_str()))
                                .map_or_else(|| signature.clone(), |s| format!("{s} {signature}"));
                        self.cx.push(
                            Diagnostic::error(
                                Code::Arity,
                                self.cx.file,
                                name.span,
                                format!(
                                    "{} `{written_name}` has no parameter `{name}`",
                                    callee.kind()
                                ),
                            )
                            .with_label("unknown argument name")
                            .with_help(help),
                        );
                        continue;
                    };
                    if let Some(previous) = bound[index] {
                        self.cx.push(
                            Diagnostic::error(
                                Code::Arity,
                                self.cx.file,
                                name.span,
                                format!("argument `{name}` is given twice"),
                            )
                            .with_label("given again")
                            .with_related(arg_span(previous), "first given here")
                            .with_help(signature.clone()),
                        );
                        continue;
                    }
                    bound[index] = Some(arg);
                }
            }
        }
        if let (Some(first), Some(last)) = (extra.first(), extra.last()) {
            let at_most = if params.iter().any(|p| p.default.is_some()) {
                "at most "
            } else {
                ""
            };
            self.cx.push(
                Diagnostic::error(
                    Code::Arity,
                    self.cx.file,
                    arg_span(first).to(arg_span(last)),
                    format!(
                        "{} `{written_name}` takes {at_most}{}, but {positional} were given",
                        callee.kind(),
                        plural(params.len(), "argument")
                    ),
                )
                .with_label(if extra.len() == 1 {
                    "unexpected argument"
                } else {
                    "unexpected arguments"
                })
                .with_help(signature.clone()),
            );
        }
        let missing: Vec<&Param> = params
            .iter()
            .zip(&bound)
            .filter(|(p, arg)| arg.is_none() && p.default.is_none())
            .map(|(p, _)| p)
            .collect();
        if !missing.is_empty() {
            let names = quoted_list(missing.iter().map(|p| p.name.name.as_str()));
            let (noun, label) = if missing.len() == 1 {
                ("argument", format!("{names} is not given"))
            } else {
                ("arguments", format!("{names} are not given"))
            };
            self.cx.push(
                Diagnostic::error(
                    Code::Arity,
                    self.cx.file,
                    call.span,
                    format!("missing {noun} {names} in this call of `{written_name}`"),
                )
                .with_label(label)
                .with_help(signature.clone()),
            );
        }
        for (param, arg) in params.iter().zip(&bound) {
            if let Some(arg) = arg {
                self.argument(callee, written_name, param, arg);
            }
        }
    }

    /// A bound argument: for a parameter the task writes, whether it names where the new
    /// version goes; else whether a literal fits the parameter's type.
    fn argument(&mut self, callee: Callee<'p>, written_name: &str, param: &Param, arg: &Arg) {
        // A direction the type does not allow is reported at the parameter; checking its
        // arguments too would only repeat that.
        let written_by_task = matches!(callee, Callee::Task(..))
            && param.direction.writes()
            && param.ty.ty.allows_direction();
        if written_by_task {
            if let Err(found) = self.writable(&param.ty.ty, &arg.value) {
                self.not_writable(callee, written_name, param, found);
                return;
            }
        }
        let Some(mismatch) = check_literal(&param.ty.ty, &arg.value) else {
            return;
        };
        self.cx.push(
            Diagnostic::error(
                Code::Type,
                self.cx.file,
                mismatch.span,
                format!(
                    "{} `{written_name}` expects {} for `{}`, but this is {}",
                    callee.kind(),
                    a_type(&param.ty.ty),
                    param.name,
                    mismatch.found_for(&param.ty.ty)
                ),
            )
            .with_label(format!("expected {}", a_type(&mismatch.expected)))
            .with_help(format!(
                "{}; `{}` is declared `{}`",
                how_to_write(&mismatch.expected, mismatch.found),
                param.name,
                param_text(self.cx, callee, param)
            )),
        );
    }

    fn not_writable(
        &mut self,
        callee: Callee<'p>,
        written_name: &str,
        param: &Param,
        found: NotWritable,
    ) {
        let keyword = param.direction.keyword();
        let is_json = param.ty.ty.innermost() == &Type::Json;
        let (must_be, help) = if is_json {
            (
                "a variable or an element",
                "pass a variable (or an element such as `xs[i]`) to receive the new value",
            )
        } else {
            (
                "a path or a variable",
                "pass the path to write, such as \"out.txt\", or a variable holding it",
            )
        };
        self.cx.push(
            Diagnostic::error(
                Code::Direction,
                self.cx.file,
                found.span,
                format!(
                    "the `{keyword}` argument `{}` of `{written_name}` must be {must_be}, not {}",
                    param.name, found.what
                ),
            )
            .with_label(format!("{} cannot be written", found.what))
            .with_help(format!(
                "{help}; `{}` is declared `{}`",
                param.name,
                param_text(self.cx, callee, param)
            )),
        );
    }

    /// Whether an argument can take the new version a task writes: a variable, an element or
    /// a field (rebound after the call), or — for files and dirs — an expression that
    /// computes a path.
    fn writable(&self, ty: &Type, expr: &Expr) -> Result<(), NotWritable> {
        let expr = strip_parens(expr);
        let is_path = matches!(ty, Type::File | Type::Dir);
        let not = |what: &str| {
            Err(NotWritable {
                span: expr.span,
                what: what.to_string(),
            })
        };
        match &expr.kind {
            ExprKind::Var(_) | ExprKind::Index(..) | ExprKind::Field(..) => Ok(()),
            ExprKind::Str(_) if is_path => Ok(()),
            ExprKind::List(items) => match ty {
                Type::List(inner) => items.iter().try_for_each(|item| self.writable(inner, item)),
                _ => not("a list literal"),
            },
            ExprKind::Binary(BinaryOp::Add, left, right)
                if is_path && (is_string(left) || is_string(right)) =>
            {
                Ok(())
            }
            ExprKind::Call(callee, _) => match self.cx.program.resolve_callee(self.cx.id, callee) {
                Some(Callee::Builtin(b))
                    if is_path
                        && matches!(b.name, "path" | "basename" | "dirname" | "stem" | "str") =>
                {
                    Ok(())
                }
                Some(Callee::Fn(_, f))
                    if f.returns.as_ref().is_some_and(|r| {
                        matches!(r.ty.innermost(), Type::Str | Type::File | Type::Dir)
                    }) && ty.innermost() != &Type::Json =>
                {
                    Ok(())
                }
                Some(Callee::Task(..)) => not("a task call (its result is a future value)"),
                _ => not("a call"),
            },
            _ => match literal(expr) {
                Some(Literal::Str) => not("a string literal"),
                Some(Literal::Null) => not("null"),
                Some(found) => not(found.describe()),
                None => not("a computed value"),
            },
        }
    }
}

struct NotWritable {
    span: Span,
    what: String,
}

fn is_string(expr: &Expr) -> bool {
    matches!(strip_parens(expr).kind, ExprKind::Str(_))
}

fn arg_span(arg: &Arg) -> Span {
    match &arg.name {
        Some(name) => name.span.to(arg.value.span),
        None => arg.value.span,
    }
}

fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `name: out file = "x.txt"`, the default as written in the callee's file.
fn param_text(cx: &ModuleCx, callee: Callee, param: &Param) -> String {
    let direction = match param.direction.keyword() {
        "" => String::new(),
        keyword => format!("{keyword} "),
    };
    let mut text = format!("{}: {direction}{}", param.name, param.ty.ty);
    if let Some(default) = &param.default {
        let module = match callee {
            Callee::Task(m, _) | Callee::Fn(m, _) | Callee::Workflow(m, _) => m,
            Callee::Builtin(_) => cx.id,
        };
        let source = &cx.program.module(module).file.text;
        let written = source
            .get(default.span.start..default.span.end)
            .unwrap_or("…");
        text.push_str(" = ");
        text.push_str(written);
    }
    text
}

/// How a callee is called, for help lines: `two(a: int, b: int)`.
fn signature(cx: &ModuleCx, written_name: &str, callee: Callee) -> String {
    match callee {
        Callee::Builtin(b) => b.signature.to_string(),
        _ => {
            let params = callee.params().unwrap_or(&[]);
            let params: Vec<String> = params.iter().map(|p| param_text(cx, callee, p)).collect();
            format!("{written_name}({})", params.join(", "))
        }
    }
}
