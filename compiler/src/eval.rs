//! The evaluator of workflow bodies and `fn`s, one for the planner and the runtime.
//!
//! The evaluator walks statements in program order. What a task call does, and what it means
//! to need a future's value, is the `Backend`'s business: the planner records a node and stops
//! at the first value it cannot know; the runtime submits the call to the dispatcher and
//! blocks until the value exists. Everything else — scopes, control flow, operators, the pure
//! builtins, groups and `try` — is here, once.

use std::borrow::Cow;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::ast::{
    Arg, AssignOp, BinaryOp, Block, Expr, ExprKind, NumberValue, Param, Pattern, Span, StmtKind,
    StrPart, Task, UnaryOp,
};
use crate::builtins;
use crate::diagnostic::{Code, Diagnostic, SourceFile};
use crate::program::{Callee, ModuleId, Program};
use crate::value::{FutureId, Value};

/// Where in the source something happens: for error messages and graph nodes.
#[derive(Clone, Debug)]
pub struct Site {
    pub file: Arc<SourceFile>,
    pub span: Span,
}

impl Site {
    pub fn line(&self) -> usize {
        self.file.line_col(self.span.start).0
    }

    pub fn error(&self, message: impl Into<String>) -> Interrupt {
        Interrupt::Error(Box::new(
            Diagnostic::error(Code::Runtime, &self.file, self.span, message).with_label("here"),
        ))
    }
}

/// A workflow exception (§6.3): raised by a task or by `raise`, caught by `try`/`catch`.
#[derive(Clone, Debug, PartialEq)]
pub struct Exception {
    pub message: String,
    pub task: Option<String>,
    pub group: Option<String>,
}

impl Exception {
    fn to_value(&self) -> Value {
        let text = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::str);
        let mut m = IndexMap::new();
        m.insert("message".to_string(), Value::str(self.message.as_str()));
        m.insert("task".to_string(), text(&self.task));
        m.insert("group".to_string(), text(&self.group));
        Value::object(m)
    }
}

/// Why evaluation did not go on normally.
#[derive(Debug)]
pub enum Interrupt {
    /// A workflow exception: `try`/`catch` may catch it.
    Exception(Exception),
    /// An error of the body itself (§6.2): not catchable; the run ends with status 1.
    Error(Box<Diagnostic>),
    /// The backend ended the evaluation: the planner reached a value it cannot know, or the
    /// run was stopped (a task failed with `fail`, Ctrl-C).
    Stop(Stop),
}

#[derive(Debug)]
pub enum Stop {
    /// The planner needs a value only a run can give: the graph ends here.
    Sync { site: Site, reason: String },
    /// The run is over (a failure or an interrupt): the runtime already knows why.
    Aborted,
}

/// A task call, its arguments bound to parameters (defaults applied), ready for a backend.
pub struct TaskCall<'a> {
    pub module: ModuleId,
    pub task: &'a Task,
    /// Every parameter's value, in declaration order.
    pub args: IndexMap<String, Value>,
    pub site: Site,
}

/// What a backend gives back for a task call.
pub struct CallResult {
    /// The call's return value: a future, a tuple of futures, or null.
    pub value: Value,
    /// New values of `out`/`inout` json arguments, by parameter name: the evaluator rebinds
    /// the variables or elements that were passed (§4.1).
    pub rebind: Vec<(String, Value)>,
}

/// What running a workflow body needs from the outside world.
pub trait Backend {
    fn call_task(&mut self, program: &Program, call: TaskCall<'_>)
        -> Result<CallResult, Interrupt>;
    /// The value of a future, waiting for it if needed.
    fn resolve(&mut self, future: FutureId, site: &Site) -> Result<Value, Interrupt>;
    /// One line of the run's standard output.
    fn print(&mut self, line: &str) -> Result<(), Interrupt>;
    /// The last version of a file, after its last writer (§7).
    fn read_file(&mut self, path: &str, site: &Site) -> Result<Vec<u8>, Interrupt>;
    /// Waits for the last writer of a file or directory.
    fn wait_path(&mut self, path: &str, site: &Site) -> Result<(), Interrupt>;
    /// Writes a file at the user's path once earlier tasks using it are done.
    fn write_file(&mut self, path: &str, contents: &[u8], site: &Site) -> Result<(), Interrupt>;
    fn exists(&mut self, path: &str, site: &Site) -> Result<bool, Interrupt>;
    fn delete(&mut self, path: &str, site: &Site) -> Result<(), Interrupt>;
    /// Sorted matching paths, after the earlier tasks that write matching paths.
    fn glob(&mut self, pattern: &str, site: &Site) -> Result<Vec<String>, Interrupt>;
    fn enter_group(&mut self, name: &str, site: &Site) -> Result<(), Interrupt>;
    /// Closes the innermost group; waits for its tasks unless `nowait`, and raises its
    /// exception if one of them raised.
    fn leave_group(&mut self, nowait: bool, site: &Site) -> Result<(), Interrupt>;
    /// `barrier` (every task so far) or `barrier "NAME"` (that group's tasks).
    fn barrier(&mut self, group: Option<&str>, site: &Site) -> Result<(), Interrupt>;
    /// Called before each loop iteration; `true` stops the evaluation there (the planner's
    /// budget, so a body that loops without end cannot hang a check). The runtime uses it
    /// to hand over calls it has held back while the body keeps computing.
    fn before_loop_iteration(&mut self) -> bool {
        false
    }
}

enum Flow {
    Next,
    Return(Value),
}

/// A variable's name: borrowed from the program's syntax tree, or owned when it comes from
/// elsewhere (a workflow's arguments, the scope of a directive).
type Name<'p> = Cow<'p, str>;

/// The variables of one running workflow body or `fn`: one stack of bindings, innermost
/// last, cut into scopes at `scope_starts`. Scopes open and close at every block and loop
/// iteration and hold a handful of names, so a vector searched from its end costs far less
/// than a map per scope.
struct Frame<'p> {
    module: ModuleId,
    vars: Vec<(Name<'p>, Value)>,
    /// Where each open scope begins in `vars`, outermost first.
    scope_starts: Vec<usize>,
}

impl<'p> Frame<'p> {
    /// A frame whose one scope holds `vars` (distinct names).
    fn new(module: ModuleId, vars: Vec<(Name<'p>, Value)>) -> Self {
        Frame {
            module,
            vars,
            scope_starts: vec![0],
        }
    }

    fn open_scope(&mut self) {
        self.scope_starts.push(self.vars.len());
    }

    fn close_scope(&mut self) {
        let start = self.scope_starts.pop().unwrap_or(0);
        self.vars.truncate(start);
    }

    /// Binds `name` in the innermost scope, replacing a binding of it there.
    fn declare(&mut self, name: Name<'p>, value: Value) {
        let start = self.scope_starts.last().copied().unwrap_or(0);
        match self.vars[start..].iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.vars.push((name, value)),
        }
    }

    /// The innermost binding of `name`.
    fn get(&self, name: &str) -> Option<&Value> {
        self.vars
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.vars
            .iter_mut()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }
}

/// Runs workflow bodies and `fn`s of one program over a backend.
pub struct Evaluator<'p, B: Backend> {
    program: &'p Program,
    pub backend: B,
    frames: Vec<Frame<'p>>,
}

impl<'p, B: Backend> Evaluator<'p, B> {
    pub fn new(program: &'p Program, backend: B) -> Self {
        Evaluator {
            program,
            backend,
            frames: Vec::new(),
        }
    }

    fn file(&self, module: ModuleId) -> &Arc<SourceFile> {
        &self.program.modules[module].file
    }

    fn site(&self, span: Span) -> Site {
        let module = self.frames.last().map_or(self.program.root, |f| f.module);
        Site {
            file: self.file(module).clone(),
            span,
        }
    }

    /// Runs a workflow body with its parameters bound.
    pub fn run_workflow(
        &mut self,
        module: ModuleId,
        workflow: &'p crate::ast::Workflow,
        mut args: IndexMap<String, Value>,
    ) -> Result<(), Interrupt> {
        // Options not given take their defaults (§5).
        for param in &workflow.params {
            if !args.contains_key(&param.name.name) {
                if let Some(default) = &param.default {
                    let value = self.eval_in(module, &IndexMap::new(), default)?;
                    args.insert(param.name.name.clone(), value);
                }
            }
        }
        let vars = args.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect();
        self.frames.push(Frame::new(module, vars));
        let result = self.exec_block_in_scope(&workflow.body);
        self.frames.pop();
        result.map(|_| ())
    }

    /// Evaluates an expression in a scope of its own (a task's directives over its
    /// parameters, a parameter's default value).
    pub fn eval_in(
        &mut self,
        module: ModuleId,
        scope: &IndexMap<String, Value>,
        expr: &Expr,
    ) -> Result<Value, Interrupt> {
        let vars = scope
            .iter()
            .map(|(k, v)| (Cow::Owned(k.clone()), v.clone()))
            .collect();
        self.frames.push(Frame::new(module, vars));
        let result = self.eval(expr);
        self.frames.pop();
        result
    }

    // -----------------------------------------------------------------------------------------
    // Statements
    // -----------------------------------------------------------------------------------------

    fn frame(&mut self) -> &mut Frame<'p> {
        self.frames.last_mut().expect("a frame is active")
    }

    fn exec_block_in_scope(&mut self, block: &'p Block) -> Result<Flow, Interrupt> {
        for stmt in &block.stmts {
            if let Flow::Return(v) = self.exec(stmt)? {
                return Ok(Flow::Return(v));
            }
        }
        Ok(Flow::Next)
    }

    fn exec_block(&mut self, block: &'p Block) -> Result<Flow, Interrupt> {
        self.frame().open_scope();
        let result = self.exec_block_in_scope(block);
        self.frame().close_scope();
        result
    }

    fn declare(&mut self, name: &'p str, value: Value) {
        self.frame().declare(Cow::Borrowed(name), value);
    }

    fn bind_pattern(
        &mut self,
        pattern: &'p Pattern,
        value: Value,
        span: Span,
    ) -> Result<(), Interrupt> {
        match pattern {
            Pattern::Name(name) => {
                self.declare(&name.name, value);
                Ok(())
            }
            Pattern::Tuple(names, _) => {
                let value = self.need(value, span)?;
                let items = match &value {
                    Value::Tuple(xs) | Value::List(xs) => xs.clone(),
                    other => {
                        return Err(self.site(span).error(format!(
                            "cannot unpack a {} into {} names",
                            other.kind_name(),
                            names.len()
                        )))
                    }
                };
                if items.len() != names.len() {
                    return Err(self.site(span).error(format!(
                        "cannot unpack {} values into {} names",
                        items.len(),
                        names.len()
                    )));
                }
                for (name, item) in names.iter().zip(items.iter()) {
                    self.declare(&name.name, item.clone());
                }
                Ok(())
            }
        }
    }

    fn exec(&mut self, stmt: &'p crate::ast::Stmt) -> Result<Flow, Interrupt> {
        match &stmt.kind {
            StmtKind::Let { pattern, value } => {
                let v = self.eval(value)?;
                self.bind_pattern(pattern, v, value.span)?;
            }
            StmtKind::Assign { target, op, value } => {
                let mut v = self.eval(value)?;
                if *op == AssignOp::Add {
                    // `x += f()` needs both values, as `x = x + f()` does.
                    let old = self.eval(target)?;
                    let old = self.need_shallow(old, target.span)?;
                    v = self.need_shallow(v, value.span)?;
                    v = self.binary(BinaryOp::Add, old, v, stmt.span)?;
                }
                self.assign(target, v)?;
            }
            StmtKind::If {
                branches,
                otherwise,
            } => {
                for branch in branches {
                    let c = self.eval(&branch.cond)?;
                    if self.need(c, branch.cond.span)?.truthy() {
                        return self.exec_block(&branch.body);
                    }
                }
                if let Some(block) = otherwise {
                    return self.exec_block(block);
                }
            }
            StmtKind::For {
                pattern,
                iter,
                body,
            } => {
                let items = self.eval(iter)?;
                let items = self.iterate(items, iter.span)?;
                for item in items {
                    if self.backend.before_loop_iteration() {
                        return Err(self.budget_stop(stmt.span));
                    }
                    self.frame().open_scope();
                    let flow = self
                        .bind_pattern(pattern, item, iter.span)
                        .and_then(|_| self.exec_block_in_scope(body));
                    self.frame().close_scope();
                    if let Flow::Return(v) = flow? {
                        return Ok(Flow::Return(v));
                    }
                }
            }
            StmtKind::While { cond, body } => loop {
                if self.backend.before_loop_iteration() {
                    return Err(self.budget_stop(stmt.span));
                }
                let c = self.eval(cond)?;
                if !self.need(c, cond.span)?.truthy() {
                    break;
                }
                if let Flow::Return(v) = self.exec_block(body)? {
                    return Ok(Flow::Return(v));
                }
            },
            StmtKind::Return(value) => {
                let v = match value {
                    Some(e) => self.eval(e)?,
                    None => Value::Null,
                };
                return Ok(Flow::Return(v));
            }
            StmtKind::Group { name, nowait, body } => {
                let n = self.eval(name)?;
                let n = self.need(n, name.span)?.display_text();
                let site = self.site(stmt.span);
                self.backend.enter_group(&n, &site)?;
                let flow = self.exec_block(body);
                let closing = self.site(Span::new(body.span.end.saturating_sub(1), body.span.end));
                match flow {
                    Ok(flow) => {
                        self.backend.leave_group(*nowait, &closing)?;
                        return Ok(flow);
                    }
                    Err(interrupt) => {
                        // The body is leaving the group early: close it without waiting, and
                        // report what interrupted the body.
                        let _ = self.backend.leave_group(true, &closing);
                        return Err(interrupt);
                    }
                }
            }
            StmtKind::Barrier(name) => {
                let n = match name {
                    Some(e) => {
                        let v = self.eval(e)?;
                        Some(self.need(v, e.span)?.display_text())
                    }
                    None => None,
                };
                let site = self.site(stmt.span);
                self.backend.barrier(n.as_deref(), &site)?;
            }
            StmtKind::Try { body, var, handler } => match self.exec_block(body) {
                Ok(flow) => return Ok(flow),
                Err(Interrupt::Exception(e)) => {
                    self.frame().open_scope();
                    self.declare(&var.name, e.to_value());
                    let flow = self.exec_block_in_scope(handler);
                    self.frame().close_scope();
                    return flow;
                }
                Err(other) => return Err(other),
            },
            StmtKind::Raise(message) => {
                let v = self.eval(message)?;
                let text = self.need(v, message.span)?.display_text();
                return Err(Interrupt::Exception(Exception {
                    message: text,
                    task: None,
                    group: None,
                }));
            }
            StmtKind::Expr(e) => {
                self.eval(e)?;
            }
        }
        Ok(Flow::Next)
    }

    fn budget_stop(&self, span: Span) -> Interrupt {
        Interrupt::Stop(Stop::Sync {
            site: self.site(span),
            reason: "the loop runs longer than planning looks ahead".to_string(),
        })
    }

    fn lookup(&self, name: &str) -> Option<&Value> {
        self.frames.last()?.get(name)
    }

    fn assign(&mut self, target: &Expr, value: Value) -> Result<(), Interrupt> {
        match &target.kind {
            ExprKind::Var(name) => {
                if let Some(slot) = self.frame().get_mut(&name.name) {
                    *slot = value;
                    return Ok(());
                }
                Err(self.site(name.span).error(format!(
                    "`{}` is not declared: write `let {} = …`",
                    name, name
                )))
            }
            ExprKind::Index(base, index) => {
                let container = self.eval(base)?;
                let container = self.need(container, base.span)?;
                let key = self.eval(index)?;
                let key = self.need(key, index.span)?;
                let updated = self.set_element(container, &key, value, index.span)?;
                self.assign(base, updated)
            }
            ExprKind::Field(base, field) => {
                let container = self.eval(base)?;
                let container = self.need(container, base.span)?;
                let updated = self.set_element(
                    container,
                    &Value::str(field.name.as_str()),
                    value,
                    field.span,
                )?;
                self.assign(base, updated)
            }
            ExprKind::Paren(inner) => self.assign(inner, value),
            _ => Err(self
                .site(target.span)
                .error("only a variable, an element `xs[i]` or a field `m.k` can be assigned")),
        }
    }

    fn set_element(
        &self,
        container: Value,
        key: &Value,
        value: Value,
        span: Span,
    ) -> Result<Value, Interrupt> {
        match (container, key) {
            (Value::List(mut xs), Value::Int(i)) => {
                let len = xs.len() as i64;
                let at = if *i < 0 { len + i } else { *i };
                if at < 0 || at >= len {
                    return Err(self.site(span).error(format!(
                        "index {i} is out of range for a list of {len} elements"
                    )));
                }
                Arc::make_mut(&mut xs)[at as usize] = value;
                Ok(Value::List(xs))
            }
            (Value::Object(mut m), Value::Str(k)) => {
                Arc::make_mut(&mut m).insert(k.to_string(), value);
                Ok(Value::Object(m))
            }
            (c, k) => Err(self.site(span).error(format!(
                "cannot set an element of a {} with a {} key",
                c.kind_name(),
                k.kind_name()
            ))),
        }
    }

    fn iterate(&mut self, value: Value, span: Span) -> Result<Vec<Value>, Interrupt> {
        match self.need_shallow(value, span)? {
            // A list nothing else holds (a fresh `range`) is taken over, not copied.
            Value::List(xs) | Value::Tuple(xs) => {
                Ok(Arc::try_unwrap(xs).unwrap_or_else(|shared| shared.as_ref().clone()))
            }
            Value::Object(m) => Ok(m.keys().map(|k| Value::str(k.as_str())).collect()),
            Value::Str(s) => Ok(s.chars().map(|c| Value::str(c.to_string())).collect()),
            other => Err(self
                .site(span)
                .error(format!("cannot loop over a {}", other.kind_name()))),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Needing values
    // -----------------------------------------------------------------------------------------

    /// The value with every future inside it resolved (waited for).
    #[inline(always)]
    pub fn need(&mut self, value: Value, span: Span) -> Result<Value, Interrupt> {
        if !value.contains_future() {
            return Ok(value);
        }
        self.resolve_futures(value, span)
    }

    fn resolve_futures(&mut self, value: Value, span: Span) -> Result<Value, Interrupt> {
        let site = self.site(span);
        let backend = &mut self.backend;
        value.map_futures(&mut |f| backend.resolve(f, &site))
    }

    /// The value itself resolved if it is a future (its elements may stay futures).
    fn need_shallow(&mut self, value: Value, span: Span) -> Result<Value, Interrupt> {
        match value {
            Value::Future(f) => {
                let site = self.site(span);
                self.backend.resolve(f, &site)
            }
            other => Ok(other),
        }
    }

    // -----------------------------------------------------------------------------------------
    // Expressions
    // -----------------------------------------------------------------------------------------

    /// The value of an expression. Names and numbers, the operands of most operators, are
    /// answered here, inlined where they are needed (forced: the compiler will not inline it
    /// into the large `eval_node` by itself, and a call returns its `Result` through memory);
    /// the rest goes through `eval_node`.
    #[inline(always)]
    pub fn eval(&mut self, expr: &Expr) -> Result<Value, Interrupt> {
        match &expr.kind {
            ExprKind::Number(n) => Ok(match n.value {
                NumberValue::Int(i) => Value::Int(i),
                NumberValue::Float(f) => Value::Float(f),
            }),
            ExprKind::Var(name) => match self.lookup(&name.name) {
                Some(v) => Ok(v.clone()),
                None => self.eval_node(expr),
            },
            _ => self.eval_node(expr),
        }
    }

    fn eval_node(&mut self, expr: &Expr) -> Result<Value, Interrupt> {
        match &expr.kind {
            ExprKind::Null => Ok(Value::Null),
            ExprKind::Bool(b) => Ok(Value::Bool(*b)),
            ExprKind::Number(n) => Ok(match n.value {
                NumberValue::Int(i) => Value::Int(i),
                NumberValue::Float(f) => Value::Float(f),
            }),
            ExprKind::Str(s) => {
                // Room for the text and a short value per interpolation: most strings are
                // then built without growing.
                let room = s
                    .parts
                    .iter()
                    .map(|part| match part {
                        StrPart::Text(t) => t.len(),
                        StrPart::Interp(_) => 8,
                    })
                    .sum();
                let mut out = String::with_capacity(room);
                for part in &s.parts {
                    match part {
                        StrPart::Text(t) => out.push_str(t),
                        StrPart::Interp(e) => {
                            let v = self.eval(e)?;
                            self.need(v, e.span)?.write_display_text(&mut out);
                        }
                    }
                }
                Ok(Value::str(out))
            }
            ExprKind::List(items) => {
                let values = items
                    .iter()
                    .map(|e| self.eval(e))
                    .collect::<Result<_, _>>()?;
                Ok(Value::list(values))
            }
            ExprKind::Tuple(items) => {
                let values = items
                    .iter()
                    .map(|e| self.eval(e))
                    .collect::<Result<_, _>>()?;
                Ok(Value::Tuple(Arc::new(values)))
            }
            ExprKind::Object(entries) => {
                let mut m = IndexMap::new();
                for (key, value) in entries {
                    let v = self.eval(value)?;
                    m.insert(key.name.clone(), v);
                }
                Ok(Value::object(m))
            }
            ExprKind::Paren(inner) => self.eval(inner),
            ExprKind::Var(name) => match self.lookup(&name.name) {
                Some(v) => Ok(v.clone()),
                None => Err(self
                    .site(name.span)
                    .error(format!("unknown variable `{name}`"))),
            },
            ExprKind::Field(base, field) => {
                let v = self.eval(base)?;
                let v = self.need_shallow(v, base.span)?;
                match &v {
                    Value::Object(m) => match m.get(&field.name) {
                        Some(x) => Ok(x.clone()),
                        None => Err(self
                            .site(field.span)
                            .error(format!("the object has no key `{}`", field.name))),
                    },
                    other => Err(self.site(field.span).error(format!(
                        "cannot read field `{}` of a {}",
                        field.name,
                        other.kind_name()
                    ))),
                }
            }
            ExprKind::Index(base, index) => {
                let container = self.eval(base)?;
                let container = self.need_shallow(container, base.span)?;
                let key = self.eval(index)?;
                let key = self.need(key, index.span)?;
                self.index(&container, &key, index.span)
            }
            ExprKind::Call(callee, args) => self.call(expr, callee, args),
            ExprKind::Unary(op, operand) => {
                let v = self.eval(operand)?;
                let v = self.need(v, operand.span)?;
                match (op, v) {
                    (UnaryOp::Not, v) => Ok(Value::Bool(!v.truthy())),
                    (UnaryOp::Neg, Value::Int(i)) => Ok(Value::Int(-i)),
                    (UnaryOp::Neg, Value::Float(f)) => Ok(Value::Float(-f)),
                    (UnaryOp::Neg, other) => Err(self
                        .site(expr.span)
                        .error(format!("cannot negate a {}", other.kind_name()))),
                }
            }
            ExprKind::Binary(op, left, right) => {
                let l = self.eval(left)?;
                // `+` joins lists without needing their elements: `parts + [f(x)]` does
                // not wait for `f`. Every other operator needs whole values.
                let l = if *op == BinaryOp::Add {
                    self.need_shallow(l, left.span)?
                } else {
                    self.need(l, left.span)?
                };
                match op {
                    BinaryOp::And if !l.truthy() => return Ok(l),
                    BinaryOp::Or if l.truthy() => return Ok(l),
                    BinaryOp::And | BinaryOp::Or => {
                        let r = self.eval(right)?;
                        return self.need(r, right.span);
                    }
                    _ => {}
                }
                let r = self.eval(right)?;
                let r = if *op == BinaryOp::Add {
                    self.need_shallow(r, right.span)?
                } else {
                    self.need(r, right.span)?
                };
                self.binary(*op, l, r, expr.span)
            }
        }
    }

    fn index(&self, container: &Value, key: &Value, span: Span) -> Result<Value, Interrupt> {
        match (container, key) {
            (Value::List(xs) | Value::Tuple(xs), Value::Int(i)) => {
                let len = xs.len() as i64;
                let at = if *i < 0 { len + i } else { *i };
                if at < 0 || at >= len {
                    return Err(self.site(span).error(format!(
                        "index {i} is out of range for a list of {len} elements"
                    )));
                }
                Ok(xs[at as usize].clone())
            }
            (Value::Str(s), Value::Int(i)) => {
                let chars: Vec<char> = s.chars().collect();
                let len = chars.len() as i64;
                let at = if *i < 0 { len + i } else { *i };
                if at < 0 || at >= len {
                    return Err(self.site(span).error(format!(
                        "index {i} is out of range for a string of {len} characters"
                    )));
                }
                Ok(Value::str(chars[at as usize].to_string()))
            }
            (Value::Object(m), Value::Str(k)) => m.get(k.as_ref()).cloned().ok_or_else(|| {
                self.site(span)
                    .error(format!("the object has no key {}", Value::Str(k.clone())))
            }),
            (c, k) => Err(self.site(span).error(format!(
                "cannot index a {} with a {}",
                c.kind_name(),
                k.kind_name()
            ))),
        }
    }

    fn binary(&self, op: BinaryOp, l: Value, r: Value, span: Span) -> Result<Value, Interrupt> {
        use Value::*;
        let err = |what: &str| -> Interrupt {
            self.site(span).error(format!(
                "cannot {what} a {} and a {}",
                l.kind_name(),
                r.kind_name()
            ))
        };
        let as_float = |v: &Value| match v {
            Int(i) => Some(*i as f64),
            Float(f) => Some(*f),
            Bool(b) => Some(*b as i64 as f64),
            _ => None,
        };
        let as_int = |v: &Value| match v {
            Int(i) => Some(*i),
            Bool(b) => Some(*b as i64),
            _ => None,
        };
        Ok(match op {
            BinaryOp::Add => match (&l, &r) {
                (Str(a), Str(b)) => Value::str(format!("{a}{b}")),
                (List(a), List(b)) => {
                    let mut v = a.as_ref().clone();
                    v.extend(b.iter().cloned());
                    Value::list(v)
                }
                _ => self
                    .arith(&l, &r, i64::checked_add, |a, b| a + b)
                    .ok_or_else(|| err("add"))?,
            },
            BinaryOp::Sub => self
                .arith(&l, &r, i64::checked_sub, |a, b| a - b)
                .ok_or_else(|| err("subtract"))?,
            BinaryOp::Mul => match (&l, &r) {
                (Str(s), Int(n)) | (Int(n), Str(s)) => Value::str(s.repeat((*n).max(0) as usize)),
                (List(xs), Int(n)) | (Int(n), List(xs)) => {
                    let mut v = Vec::new();
                    for _ in 0..(*n).max(0) {
                        v.extend(xs.iter().cloned());
                    }
                    Value::list(v)
                }
                _ => self
                    .arith(&l, &r, i64::checked_mul, |a, b| a * b)
                    .ok_or_else(|| err("multiply"))?,
            },
            BinaryOp::Div => match (as_float(&l), as_float(&r)) {
                (Some(a), Some(b)) => {
                    if b == 0.0 {
                        return Err(self.site(span).error("division by zero"));
                    }
                    Float(a / b)
                }
                _ => return Err(err("divide")),
            },
            BinaryOp::Rem => match (as_int(&l), as_int(&r)) {
                (Some(_), Some(0)) => return Err(self.site(span).error("modulo by zero")),
                (Some(a), Some(b)) => Int(python_mod(a, b)),
                _ => match (as_float(&l), as_float(&r)) {
                    (Some(a), Some(b)) => {
                        if b == 0.0 {
                            return Err(self.site(span).error("modulo by zero"));
                        }
                        Float(a - b * (a / b).floor())
                    }
                    _ => return Err(err("take the remainder of")),
                },
            },
            BinaryOp::Eq => Bool(values_equal(&l, &r)),
            BinaryOp::Ne => Bool(!values_equal(&l, &r)),
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => {
                let ordering = compare(&l, &r).ok_or_else(|| err("compare"))?;
                Bool(match op {
                    BinaryOp::Lt => ordering.is_lt(),
                    BinaryOp::Le => ordering.is_le(),
                    BinaryOp::Gt => ordering.is_gt(),
                    _ => ordering.is_ge(),
                })
            }
            BinaryOp::And | BinaryOp::Or => {
                unreachable!("short-circuit operators are evaluated lazily")
            }
        })
    }

    fn arith(
        &self,
        l: &Value,
        r: &Value,
        int_op: fn(i64, i64) -> Option<i64>,
        float_op: fn(f64, f64) -> f64,
    ) -> Option<Value> {
        match (l, r) {
            (Value::Int(a), Value::Int(b)) => int_op(*a, *b).map(Value::Int),
            (Value::Int(a), Value::Float(b)) => Some(Value::Float(float_op(*a as f64, *b))),
            (Value::Float(a), Value::Int(b)) => Some(Value::Float(float_op(*a, *b as f64))),
            (Value::Float(a), Value::Float(b)) => Some(Value::Float(float_op(*a, *b))),
            _ => None,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Calls
    // -----------------------------------------------------------------------------------------

    fn current_module(&self) -> ModuleId {
        self.frames.last().map_or(self.program.root, |f| f.module)
    }

    fn call(&mut self, expr: &Expr, callee: &Expr, args: &[Arg]) -> Result<Value, Interrupt> {
        let module = self.current_module();
        let program = self.program;
        match program.resolve_callee(module, callee) {
            Some(Callee::Task(task_module, task)) => self.call_task(expr, task_module, task, args),
            Some(Callee::Fn(fn_module, def)) => {
                let values = self.bind_values(fn_module, &def.params, args, expr.span)?;
                let vars = def
                    .params
                    .iter()
                    .zip(values)
                    .map(|(param, value)| (Cow::Borrowed(param.name.name.as_str()), value))
                    .collect();
                self.frames.push(Frame::new(fn_module, vars));
                let flow = self.exec_block_in_scope(&def.body);
                self.frames.pop();
                Ok(match flow? {
                    Flow::Return(v) => v,
                    Flow::Next => Value::Null,
                })
            }
            Some(Callee::Workflow(wf_module, def)) => {
                let bound = self.bind_args(wf_module, &def.params, args, expr.span)?;
                self.run_workflow(wf_module, def, bound)?;
                Ok(Value::Null)
            }
            Some(Callee::Builtin(builtin)) => {
                let mut values = Vec::with_capacity(args.len());
                for arg in args {
                    values.push((self.eval(&arg.value)?, arg.value.span));
                }
                self.builtin(builtin.name, values, expr.span)
            }
            None => Err(self.site(callee.span).error("unknown task, fn or builtin")),
        }
    }

    /// Binds call arguments to parameters: positional first, then named, then defaults.
    fn bind_args(
        &mut self,
        module: ModuleId,
        params: &[Param],
        args: &[Arg],
        span: Span,
    ) -> Result<IndexMap<String, Value>, Interrupt> {
        let values = self.bind_values(module, params, args, span)?;
        let mut bound = IndexMap::with_capacity(params.len());
        for (param, value) in params.iter().zip(values) {
            bound.insert(param.name.name.clone(), value);
        }
        Ok(bound)
    }

    /// The value of each parameter, in order, as `bind_args` binds them.
    fn bind_values(
        &mut self,
        module: ModuleId,
        params: &[Param],
        args: &[Arg],
        span: Span,
    ) -> Result<Vec<Value>, Interrupt> {
        let mut given: Vec<Option<Value>> = vec![None; params.len()];
        let mut position = 0;
        for arg in args {
            let value = self.eval(&arg.value)?;
            let slot = match &arg.name {
                None => {
                    position += 1;
                    position - 1
                }
                Some(name) => params
                    .iter()
                    .position(|p| p.name.name == name.name)
                    .ok_or_else(|| {
                        self.site(name.span)
                            .error(format!("there is no parameter named `{name}`"))
                    })?,
            };
            if slot >= params.len() {
                return Err(self.site(arg.value.span).error(format!(
                    "too many arguments: the call takes {}",
                    params.len()
                )));
            }
            given[slot] = Some(value);
        }
        let mut bound = Vec::with_capacity(params.len());
        for (param, value) in params.iter().zip(given) {
            let value = match (value, &param.default) {
                (Some(v), _) => v,
                (None, Some(default)) => self.eval_in(module, &IndexMap::new(), default)?,
                (None, None) => {
                    return Err(self
                        .site(span)
                        .error(format!("missing argument `{}`", param.name)))
                }
            };
            bound.push(value);
        }
        Ok(bound)
    }

    fn call_task(
        &mut self,
        expr: &Expr,
        module: ModuleId,
        task: &'p Task,
        args: &[Arg],
    ) -> Result<Value, Interrupt> {
        let bound = self.bind_args(module, &task.params, args, expr.span)?;
        let site = self.site(expr.span);
        let result = self.backend.call_task(
            self.program,
            TaskCall {
                module,
                task,
                args: bound,
                site,
            },
        )?;
        for (param, value) in result.rebind {
            let Some(index) = task.params.iter().position(|p| p.name.name == param) else {
                continue;
            };
            let target = args
                .iter()
                .find(|a| a.name.as_ref().is_some_and(|n| n.name == param))
                .or_else(|| args.iter().filter(|a| a.name.is_none()).nth(index));
            if let Some(arg) = target {
                if is_place(&arg.value) {
                    self.assign(&arg.value, value)?;
                }
            }
        }
        Ok(result.value)
    }

    // -----------------------------------------------------------------------------------------
    // Builtins (§5)
    // -----------------------------------------------------------------------------------------

    fn builtin(
        &mut self,
        name: &str,
        args: Vec<(Value, Span)>,
        span: Span,
    ) -> Result<Value, Interrupt> {
        let site = self.site(span);
        // `len` of a list of futures does not wait; `print` and `wait` need everything.
        if name == "len" {
            if let Some((v, s)) = args.first() {
                let v = self.need_shallow(v.clone(), *s)?;
                return match &v {
                    Value::List(xs) | Value::Tuple(xs) => Ok(Value::Int(xs.len() as i64)),
                    Value::Object(m) => Ok(Value::Int(m.len() as i64)),
                    Value::Str(s) => Ok(Value::Int(s.chars().count() as i64)),
                    other => Err(site.error(format!("len() of a {}", other.kind_name()))),
                };
            }
        }
        let mut values = Vec::with_capacity(args.len());
        for (v, s) in args {
            values.push(self.need(v, s)?);
        }
        let text = |i: usize| -> Result<String, Interrupt> {
            match values.get(i) {
                Some(Value::Str(s)) => Ok(s.to_string()),
                Some(other) => Err(site.error(format!(
                    "{name}() expects a str as argument {}, found a {}",
                    i + 1,
                    other.kind_name()
                ))),
                None => Err(site.error(format!("{name}() is missing argument {}", i + 1))),
            }
        };
        let int = |i: usize| -> Result<i64, Interrupt> {
            match values.get(i) {
                Some(Value::Int(n)) => Ok(*n),
                Some(Value::Bool(b)) => Ok(*b as i64),
                Some(other) => Err(site.error(format!(
                    "{name}() expects an int as argument {}, found a {}",
                    i + 1,
                    other.kind_name()
                ))),
                None => Err(site.error(format!("{name}() is missing argument {}", i + 1))),
            }
        };
        let list = |i: usize| -> Result<Arc<Vec<Value>>, Interrupt> {
            match values.get(i) {
                Some(Value::List(xs) | Value::Tuple(xs)) => Ok(xs.clone()),
                Some(Value::Object(m)) => {
                    Ok(Arc::new(m.keys().map(|k| Value::str(k.as_str())).collect()))
                }
                Some(other) => Err(site.error(format!(
                    "{name}() expects a list, found a {}",
                    other.kind_name()
                ))),
                None => Err(site.error(format!("{name}() is missing argument {}", i + 1))),
            }
        };
        Ok(match name {
            "print" => {
                let line = values
                    .iter()
                    .map(Value::display_text)
                    .collect::<Vec<_>>()
                    .join(" ");
                self.backend.print(&line)?;
                Value::Null
            }
            "wait" => values.into_iter().next().unwrap_or(Value::Null),
            "range" => {
                let (start, stop, step) = match values.len() {
                    1 => (0, int(0)?, 1),
                    2 => (int(0)?, int(1)?, 1),
                    _ => (int(0)?, int(1)?, int(2)?),
                };
                if step == 0 {
                    return Err(site.error("range() step must not be zero"));
                }
                let mut out = Vec::new();
                let mut i = start;
                while (step > 0 && i < stop) || (step < 0 && i > stop) {
                    out.push(Value::Int(i));
                    i += step;
                }
                Value::list(out)
            }
            "enumerate" => Value::list(
                list(0)?
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Value::Tuple(Arc::new(vec![Value::Int(i as i64), v.clone()])))
                    .collect(),
            ),
            "str" => Value::str(values.first().map(Value::display_text).unwrap_or_default()),
            "int" => match values.first() {
                Some(Value::Int(i)) => Value::Int(*i),
                Some(Value::Float(f)) => Value::Int(f.trunc() as i64),
                Some(Value::Bool(b)) => Value::Int(*b as i64),
                Some(Value::Str(s)) => {
                    Value::Int(s.trim().replace('_', "").parse().map_err(|_| {
                        site.error(format!("int() cannot parse {}", Value::Str(s.clone())))
                    })?)
                }
                _ => return Err(site.error("int() expects a number or a str")),
            },
            "float" => match values.first() {
                Some(Value::Int(i)) => Value::Float(*i as f64),
                Some(Value::Float(f)) => Value::Float(*f),
                Some(Value::Bool(b)) => Value::Float(*b as i64 as f64),
                Some(Value::Str(s)) => {
                    Value::Float(parse_python_float(s.trim()).ok_or_else(|| {
                        site.error(format!("float() cannot parse {}", Value::Str(s.clone())))
                    })?)
                }
                _ => return Err(site.error("float() expects a number or a str")),
            },
            "div" => match (&values.first(), &values.get(1)) {
                (Some(Value::Int(_)), Some(Value::Int(0))) => {
                    return Err(site.error("integer division by zero"))
                }
                (Some(Value::Int(a)), Some(Value::Int(b))) => Value::Int(python_div(*a, *b)),
                (Some(a), Some(b)) => {
                    let (Some(x), Some(y)) = (number(a), number(b)) else {
                        return Err(site.error("div() expects numbers"));
                    };
                    if y == 0.0 {
                        return Err(site.error("integer division by zero"));
                    }
                    Value::Float((x / y).floor())
                }
                _ => return Err(site.error("div() takes two numbers")),
            },
            "min" | "max" | "sum" | "sorted" => {
                let items: Vec<Value> = if values.len() == 1 {
                    list(0)?.as_ref().clone()
                } else {
                    values.clone()
                };
                match name {
                    "sum" => {
                        let mut total = Value::Int(0);
                        for item in items {
                            total = self.binary(BinaryOp::Add, total, item, span)?;
                        }
                        total
                    }
                    "sorted" => {
                        let mut sorted = items;
                        let mut failed = false;
                        sorted.sort_by(|a, b| {
                            compare(a, b).unwrap_or_else(|| {
                                failed = true;
                                std::cmp::Ordering::Equal
                            })
                        });
                        if failed {
                            return Err(site.error("sorted() of values that cannot be compared"));
                        }
                        Value::list(sorted)
                    }
                    _ => {
                        let mut best: Option<Value> = None;
                        for item in items {
                            best = Some(match best {
                                None => item,
                                Some(b) => {
                                    let ord = compare(&item, &b).ok_or_else(|| {
                                        site.error(format!(
                                            "{name}() of values that cannot be compared"
                                        ))
                                    })?;
                                    if (name == "min" && ord.is_lt())
                                        || (name == "max" && ord.is_gt())
                                    {
                                        item
                                    } else {
                                        b
                                    }
                                }
                            });
                        }
                        best.ok_or_else(|| site.error(format!("{name}() of an empty list")))?
                    }
                }
            }
            "keys" | "values" => match values.first() {
                Some(Value::Object(m)) => Value::list(if name == "keys" {
                    m.keys().map(|k| Value::str(k.as_str())).collect()
                } else {
                    m.values().cloned().collect()
                }),
                _ => return Err(site.error(format!("{name}() expects an object"))),
            },
            "path" => {
                let mut parts = Vec::new();
                for i in 0..values.len() {
                    parts.push(text(i)?);
                }
                let mut out = String::new();
                for part in parts {
                    if part.starts_with('/') || out.is_empty() {
                        out = part;
                    } else {
                        if !out.ends_with('/') {
                            out.push('/');
                        }
                        out.push_str(&part);
                    }
                }
                Value::str(out)
            }
            "basename" => Value::str(path_parts::basename(&text(0)?)),
            "dirname" => Value::str(path_parts::dirname(&text(0)?)),
            "stem" => Value::str(path_parts::stem(&text(0)?)),
            "ext" => Value::str(path_parts::ext(&text(0)?)),
            "env" => match std::env::var(text(0)?) {
                Ok(v) => Value::str(v),
                Err(_) => values.get(1).cloned().unwrap_or(Value::Null),
            },
            "wait_file" | "wait_dir" => {
                self.backend.wait_path(&text(0)?, &site)?;
                Value::Null
            }
            "read" => {
                let bytes = self.backend.read_file(&text(0)?, &site)?;
                Value::str(String::from_utf8_lossy(&bytes).into_owned())
            }
            "read_json" => {
                let bytes = self.backend.read_file(&text(0)?, &site)?;
                let json: serde_json::Value = serde_json::from_slice(&bytes)
                    .map_err(|e| site.error(format!("read_json(): the file is not JSON: {e}")))?;
                Value::from_json(&json)
            }
            "write" => {
                let contents = values.get(1).map(Value::display_text).unwrap_or_default();
                self.backend
                    .write_file(&text(0)?, contents.as_bytes(), &site)?;
                Value::Null
            }
            "write_json" => {
                let contents = values
                    .get(1)
                    .map(|v| v.to_json().to_string())
                    .unwrap_or_default();
                self.backend
                    .write_file(&text(0)?, contents.as_bytes(), &site)?;
                Value::Null
            }
            "exists" => Value::Bool(self.backend.exists(&text(0)?, &site)?),
            "delete" => {
                self.backend.delete(&text(0)?, &site)?;
                Value::Null
            }
            "glob" => Value::list(
                self.backend
                    .glob(&text(0)?, &site)?
                    .into_iter()
                    .map(Value::str)
                    .collect(),
            ),
            other => {
                debug_assert!(builtins::lookup(other).is_some());
                return Err(site.error(format!("the builtin `{other}` is not available here")));
            }
        })
    }
}

/// Whether an argument expression names a place the evaluator can rebind (§4.1).
fn is_place(expr: &Expr) -> bool {
    match &expr.kind {
        ExprKind::Var(_) => true,
        ExprKind::Index(base, _) | ExprKind::Field(base, _) => is_place(base),
        ExprKind::Paren(inner) => is_place(inner),
        _ => false,
    }
}

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Int(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    }
}

/// Python's float(): also `inf`, `nan`, `1e3`, `1_000.5`.
fn parse_python_float(s: &str) -> Option<f64> {
    let cleaned = s.replace('_', "");
    match cleaned.to_ascii_lowercase().as_str() {
        "inf" | "+inf" | "infinity" => Some(f64::INFINITY),
        "-inf" | "-infinity" => Some(f64::NEG_INFINITY),
        "nan" => Some(f64::NAN),
        _ => cleaned.parse().ok(),
    }
}

/// Python's `==`: numbers compare by value across int and float.
pub fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Int(x), Value::Float(y)) | (Value::Float(y), Value::Int(x)) => (*x as f64) == *y,
        (Value::List(x) | Value::Tuple(x), Value::List(y) | Value::Tuple(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(a, b)| values_equal(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        _ => a == b,
    }
}

/// Python's ordering for numbers, strings, bools and lists; `None` when not comparable.
pub fn compare(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Some(x.cmp(y)),
        (Value::List(x) | Value::Tuple(x), Value::List(y) | Value::Tuple(y)) => {
            for (p, q) in x.iter().zip(y.iter()) {
                match compare(p, q)? {
                    std::cmp::Ordering::Equal => continue,
                    other => return Some(other),
                }
            }
            Some(x.len().cmp(&y.len()))
        }
        _ => {
            let num = |v: &Value| match v {
                Value::Int(i) => Some(*i as f64),
                Value::Float(f) => Some(*f),
                Value::Bool(b) => Some(*b as i64 as f64),
                _ => None,
            };
            num(a)?.partial_cmp(&num(b)?)
        }
    }
}

/// The path helpers shared by the builtins and the shell template helpers (§4.4, §5).
pub mod path_parts {
    /// The last component (`x/y.tar.gz` → `y.tar.gz`).
    pub fn basename(p: &str) -> String {
        let trimmed = p.trim_end_matches('/');
        trimmed.rsplit('/').next().unwrap_or("").to_string()
    }

    /// All but the last component (`x/y.tar.gz` → `x`; `y` → ``).
    pub fn dirname(p: &str) -> String {
        let trimmed = p.trim_end_matches('/');
        match trimmed.rfind('/') {
            Some(0) => "/".to_string(),
            Some(i) => trimmed[..i].to_string(),
            None => String::new(),
        }
    }

    /// The last component without its extension (`a.tar.gz` → `a.tar`).
    pub fn stem(p: &str) -> String {
        let base = basename(p);
        match base.rfind('.') {
            Some(i) if i > 0 => base[..i].to_string(),
            _ => base,
        }
    }

    /// The extension without the dot (`gz`), or `""`.
    pub fn ext(p: &str) -> String {
        let base = basename(p);
        match base.rfind('.') {
            Some(i) if i > 0 => base[i + 1..].to_string(),
            _ => String::new(),
        }
    }
}

/// Python's `a % b` for ints: the result has the sign of `b`.
fn python_mod(a: i64, b: i64) -> i64 {
    let r = a.wrapping_rem(b);
    if r != 0 && ((r < 0) != (b < 0)) {
        r + b
    } else {
        r
    }
}

/// Python's `a // b` for ints: rounds towards negative infinity.
fn python_div(a: i64, b: i64) -> i64 {
    let q = a.wrapping_div(b);
    if a.wrapping_rem(b) != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// A backend for expressions that must not touch the run: a task's directives and body
/// arguments, evaluated over its parameters once their futures are resolved.
pub struct NoBackend;

impl NoBackend {
    fn refuse(site: &Site, what: &str) -> Interrupt {
        site.error(format!(
            "{what} is not allowed in a task's directives or arguments"
        ))
    }
}

impl Backend for NoBackend {
    fn call_task(&mut self, _: &Program, call: TaskCall<'_>) -> Result<CallResult, Interrupt> {
        Err(NoBackend::refuse(&call.site, "a task call"))
    }
    fn resolve(&mut self, _: FutureId, site: &Site) -> Result<Value, Interrupt> {
        Err(NoBackend::refuse(site, "waiting for a future"))
    }
    fn print(&mut self, _: &str) -> Result<(), Interrupt> {
        Ok(())
    }
    fn read_file(&mut self, _: &str, site: &Site) -> Result<Vec<u8>, Interrupt> {
        Err(NoBackend::refuse(site, "read()"))
    }
    fn wait_path(&mut self, _: &str, site: &Site) -> Result<(), Interrupt> {
        Err(NoBackend::refuse(site, "waiting for a file"))
    }
    fn write_file(&mut self, _: &str, _: &[u8], site: &Site) -> Result<(), Interrupt> {
        Err(NoBackend::refuse(site, "write()"))
    }
    fn exists(&mut self, _: &str, site: &Site) -> Result<bool, Interrupt> {
        Err(NoBackend::refuse(site, "exists()"))
    }
    fn delete(&mut self, _: &str, site: &Site) -> Result<(), Interrupt> {
        Err(NoBackend::refuse(site, "delete()"))
    }
    fn glob(&mut self, _: &str, site: &Site) -> Result<Vec<String>, Interrupt> {
        Err(NoBackend::refuse(site, "glob()"))
    }
    fn enter_group(&mut self, _: &str, site: &Site) -> Result<(), Interrupt> {
        Err(NoBackend::refuse(site, "a group"))
    }
    fn leave_group(&mut self, _: bool, site: &Site) -> Result<(), Interrupt> {
        Err(NoBackend::refuse(site, "a group"))
    }
    fn barrier(&mut self, _: Option<&str>, site: &Site) -> Result<(), Interrupt> {
        Err(NoBackend::refuse(site, "a barrier"))
    }
}

/// Evaluates an expression of a task (a directive or a body argument) over its parameters'
/// values, which hold no futures.
pub fn eval_pure(
    program: &Program,
    module: ModuleId,
    scope: &IndexMap<String, Value>,
    expr: &Expr,
) -> Result<Value, Interrupt> {
    Evaluator::new(program, NoBackend).eval_in(module, scope, expr)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn int(frame: &Frame<'_>, name: &str) -> Option<i64> {
        match frame.get(name) {
            Some(Value::Int(i)) => Some(*i),
            _ => None,
        }
    }

    #[test]
    fn a_frame_shadows_replaces_and_forgets_as_scopes_do() {
        let mut frame = Frame::new(0, vec![(Cow::Owned("x".to_string()), Value::Int(1))]);
        frame.declare(Cow::Borrowed("y"), Value::Int(2));
        frame.open_scope();
        frame.declare(Cow::Borrowed("x"), Value::Int(10));
        // Declared again in the same scope: replaced, not stacked.
        frame.declare(Cow::Borrowed("x"), Value::Int(11));
        assert_eq!(frame.vars.len(), 3);
        assert_eq!(int(&frame, "x"), Some(11));
        // Assignment reaches the innermost binding, and an outer one when none is inner.
        *frame.get_mut("y").expect("y") = Value::Int(20);
        frame.close_scope();
        assert_eq!(int(&frame, "x"), Some(1));
        assert_eq!(int(&frame, "y"), Some(20));
        assert_eq!(frame.get("z"), None);
    }

    /// The value of `expr` in a program defining `fn`s, through a workflow's default value.
    fn value_of(fns: &str, expr: &str) -> Result<Value, Interrupt> {
        let text = format!("{fns}\nworkflow main(x: json = {expr}) {{}}\n");
        let program = Program::from_source(std::path::Path::new("/p/main.wf"), text)
            .unwrap_or_else(|d| panic!("does not parse: {d:?}"));
        let workflow = program.entry_workflow(None).expect("main");
        let default = workflow.params[0].default.as_ref().expect("a default");
        Evaluator::new(&program, NoBackend).eval_in(program.root, &IndexMap::new(), default)
    }

    #[test]
    fn loops_and_blocks_keep_their_variables_to_themselves() {
        let f = r#"
fn f(n: int) -> int {
    let total = 0
    for i in range(n) {
        let sq = i * i
        total += sq
        if sq > 3 {
            let total = -1
            let sq = 0
        }
        total += sq
    }
    return total
}"#;
        assert_eq!(value_of(f, "f(4)").ok(), Some(Value::Int(28)));
        let g = r#"
fn g(xs: [int]) -> [int] {
    let acc = []
    for x in xs {
        let x = x + 1
        acc = acc + [x]
    }
    return acc
}"#;
        assert_eq!(
            value_of(g, "g([1, 2])").ok(),
            Some(Value::list(vec![Value::Int(2), Value::Int(3)]))
        );
        // A variable of a finished loop is gone.
        let h = r#"
fn h() -> int {
    for i in range(2) {
        let inner = i
    }
    return inner
}"#;
        assert!(matches!(value_of(h, "h()"), Err(Interrupt::Error(_))));
    }
}
