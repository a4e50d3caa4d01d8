//! Loops that wait for their own tasks (§9 warning `weft::serial_wait`).
//!
//! A `for` body that calls a task and, later in the same iteration, needs that call's
//! result (arithmetic, a condition, interpolation, indexing, a builtin such as `print` or
//! `wait`) blocks until the task has run before the next iteration can call the next one: the
//! loop's tasks run one at a time. Collecting the futures and waiting after the loop keeps
//! them parallel.
//!
//! To stay free of false positives, only variables bound directly to a task call's result in
//! the same iteration are followed (`let n = count(f)`, `let (a, b) = split(f)`, `n =
//! count(f)`); values that merely contain futures (`parts += [count(f)]`) and values passed
//! to fns are not.

use std::collections::{HashMap, HashSet};

use crate::ast::{AssignOp, Block, Expr, ExprKind, Item, Span, Stmt, StmtKind, StrPart};
use crate::diagnostic::{Code, Diagnostic};
use crate::program::Callee;

use super::literals::strip_parens;
use super::ModuleCx;

pub(super) fn check(cx: &mut ModuleCx) {
    let module = cx.module;
    let mut reported = HashSet::new();
    for item in &module.ast.items {
        let body = match item {
            Item::Workflow(w) => &w.body,
            Item::Fn(f) => &f.body,
            Item::Task(_) | Item::Import(_) => continue,
        };
        find_loops(cx, body, &mut reported);
    }
}

/// Checks every loop in a block, nested loops included.
fn find_loops(cx: &mut ModuleCx, block: &Block, reported: &mut HashSet<Span>) {
    for stmt in &block.stmts {
        match &stmt.kind {
            StmtKind::For { body, .. } | StmtKind::While { body, .. } => {
                // A `while` loop that runs until what its tasks computed says stop (a
                // convergence loop) must wait once an iteration: results that feed its
                // condition are not reported.
                let mut exempt = HashSet::new();
                if let StmtKind::While { cond, .. } = &stmt.kind {
                    let mut in_condition = HashSet::new();
                    vars_in(cond, &mut in_condition);
                    feeding(body, &in_condition, &mut exempt);
                }
                let mut scan = IterationScan {
                    cx: &mut *cx,
                    futures: HashMap::new(),
                    reported: &mut *reported,
                    exempt,
                };
                scan.block(body);
                find_loops(cx, body, reported);
            }
            StmtKind::If {
                branches,
                otherwise,
            } => {
                for branch in branches {
                    find_loops(cx, &branch.body, reported);
                }
                if let Some(otherwise) = otherwise {
                    find_loops(cx, otherwise, reported);
                }
            }
            StmtKind::Group { body, .. } => find_loops(cx, body, reported),
            StmtKind::Try { body, handler, .. } => {
                find_loops(cx, body, reported);
                find_loops(cx, handler, reported);
            }
            _ => {}
        }
    }
}

/// A variable holding the future of a task called in this iteration.
#[derive(Clone)]
struct Pending {
    task: String,
    call: Span,
}

/// Walks one iteration of a loop body in program order.
struct IterationScan<'a, 'p> {
    cx: &'a mut ModuleCx<'p>,
    futures: HashMap<String, Pending>,
    /// Waiting expressions already reported (by an inner loop, or an outer one).
    reported: &'a mut HashSet<Span>,
    /// Variables whose waits the loop needs (they feed a `while` condition).
    exempt: HashSet<String>,
}

impl IterationScan<'_, '_> {
    fn block(&mut self, block: &Block) {
        for stmt in &block.stmts {
            self.stmt(stmt);
        }
    }

    fn stmt(&mut self, stmt: &Stmt) {
        match &stmt.kind {
            StmtKind::Let { pattern, value } => {
                self.expr(value, None);
                let pending = self.task_call(value);
                for name in pattern.names() {
                    self.bind(&name.name, pending.clone());
                }
            }
            StmtKind::Assign { target, op, value } => {
                // `x += n` adds n's value (a list literal appended is not waited for).
                let is_operand =
                    *op == AssignOp::Add && matches!(strip_parens(value).kind, ExprKind::Var(_));
                self.expr(value, is_operand.then_some(stmt.span));
                match &strip_parens(target).kind {
                    ExprKind::Var(name) => {
                        if *op == AssignOp::Add {
                            // `n += x` needs n's value.
                            self.expr(target, Some(stmt.span));
                        } else {
                            let pending = self.task_call(value);
                            self.bind(&name.name, pending);
                        }
                    }
                    _ => self.expr(target, None),
                }
            }
            StmtKind::If {
                branches,
                otherwise,
            } => {
                for branch in branches {
                    self.expr(&branch.cond, Some(branch.cond.span));
                    self.block(&branch.body);
                }
                if let Some(otherwise) = otherwise {
                    self.block(otherwise);
                }
            }
            StmtKind::For { iter, body, .. } => {
                self.expr(iter, Some(iter.span));
                self.block(body);
            }
            StmtKind::While { cond, body } => {
                self.expr(cond, Some(cond.span));
                self.block(body);
            }
            StmtKind::Return(value) => {
                if let Some(value) = value {
                    self.expr(value, None);
                }
            }
            StmtKind::Group { name, body, .. } => {
                self.expr(name, Some(name.span));
                self.block(body);
            }
            StmtKind::Barrier(name) => {
                if let Some(name) = name {
                    self.expr(name, Some(name.span));
                }
            }
            StmtKind::Try { body, handler, .. } => {
                self.block(body);
                self.block(handler);
            }
            StmtKind::Raise(message) => self.expr(message, Some(message.span)),
            StmtKind::Expr(expr) => self.expr(expr, None),
        }
    }

    fn bind(&mut self, name: &str, pending: Option<Pending>) {
        match pending {
            Some(pending) => {
                self.futures.insert(name.to_string(), pending);
            }
            None => {
                self.futures.remove(name);
            }
        }
    }

    /// The task a value is the direct result of, when that task returns something.
    fn task_call(&self, value: &Expr) -> Option<Pending> {
        let value = strip_parens(value);
        let ExprKind::Call(callee, _) = &value.kind else {
            return None;
        };
        match self.cx.program.resolve_callee(self.cx.id, callee)? {
            Callee::Task(_, task) if task.returns.is_some() => Some(Pending {
                task: self.cx.text(callee.span).to_string(),
                call: value.span,
            }),
            _ => None,
        }
    }

    /// Walks an expression; `waiting` is the span of the enclosing expression that needs the
    /// values inside it (None where a future may pass through unwaited).
    fn expr(&mut self, expr: &Expr, waiting: Option<Span>) {
        match &expr.kind {
            ExprKind::Var(name) => {
                if let (Some(at), Some(pending)) = (waiting, self.futures.get(&name.name)) {
                    let pending = pending.clone();
                    self.report(at, &name.name, &pending);
                }
            }
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => {}
            ExprKind::Str(lit) => {
                for part in &lit.parts {
                    if let StrPart::Interp(inner) = part {
                        self.expr(inner, Some(inner.span));
                    }
                }
            }
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                for item in items {
                    self.expr(item, waiting);
                }
            }
            ExprKind::Object(entries) => {
                for (_, value) in entries {
                    self.expr(value, waiting);
                }
            }
            ExprKind::Paren(inner) => self.expr(inner, waiting),
            ExprKind::Unary(_, inner) => self.expr(inner, Some(expr.span)),
            ExprKind::Binary(_, left, right) => {
                self.expr(left, Some(expr.span));
                self.expr(right, Some(expr.span));
            }
            ExprKind::Field(base, _) => self.expr(base, Some(expr.span)),
            ExprKind::Index(base, index) => {
                self.expr(base, Some(expr.span));
                self.expr(index, Some(expr.span));
            }
            ExprKind::Call(callee, args) => {
                let resolved = self.cx.program.resolve_callee(self.cx.id, callee);
                for arg in args {
                    let arg_waiting = match resolved {
                        // `len` of a list of futures does not wait; of a future it does.
                        Some(Callee::Builtin(b)) if b.name == "len" => {
                            matches!(strip_parens(&arg.value).kind, ExprKind::Var(_))
                                .then_some(expr.span)
                        }
                        // `exists` and `delete` never wait for values of the body.
                        Some(Callee::Builtin(b)) if matches!(b.name, "exists" | "delete") => None,
                        Some(Callee::Builtin(_)) => Some(expr.span),
                        // Tasks take futures as they are; fns may or may not wait.
                        _ => None,
                    };
                    self.expr(&arg.value, arg_waiting);
                }
            }
        }
    }

    fn report(&mut self, at: Span, name: &str, pending: &Pending) {
        if self.exempt.contains(name) || !self.reported.insert(at) {
            return;
        }
        self.cx.push(
            Diagnostic::warning(
                Code::SerialWait,
                self.cx.file,
                at,
                format!(
                    "this waits for `{name}`, the result of `{}` called in the same iteration: \
                     the loop's tasks run one at a time",
                    pending.task
                ),
            )
            .with_label(format!("waits for `{name}`"))
            .with_related(pending.call, "the task call it waits for")
            .with_help("collect the futures in a list and wait after the loop"),
        );
    }
}

/// The variables an expression reads.
fn vars_in(expr: &Expr, out: &mut HashSet<String>) {
    match &expr.kind {
        ExprKind::Var(name) => {
            out.insert(name.name.clone());
        }
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => {}
        ExprKind::Str(lit) => {
            for part in &lit.parts {
                if let StrPart::Interp(inner) = part {
                    vars_in(inner, out);
                }
            }
        }
        ExprKind::List(items) | ExprKind::Tuple(items) => {
            items.iter().for_each(|i| vars_in(i, out));
        }
        ExprKind::Object(entries) => entries.iter().for_each(|(_, v)| vars_in(v, out)),
        ExprKind::Paren(inner) | ExprKind::Unary(_, inner) | ExprKind::Field(inner, _) => {
            vars_in(inner, out)
        }
        ExprKind::Binary(_, a, b) | ExprKind::Index(a, b) => {
            vars_in(a, out);
            vars_in(b, out);
        }
        ExprKind::Call(callee, args) => {
            vars_in(callee, out);
            args.iter().for_each(|a| vars_in(&a.value, out));
        }
    }
}

/// The variables read by assignments, anywhere in `block`, to one of `targets`.
fn feeding(block: &Block, targets: &HashSet<String>, out: &mut HashSet<String>) {
    for stmt in &block.stmts {
        match &stmt.kind {
            StmtKind::Assign { target, value, .. } => {
                if let ExprKind::Var(name) = &strip_parens(target).kind {
                    if targets.contains(&name.name) {
                        vars_in(value, out);
                    }
                }
            }
            StmtKind::If {
                branches,
                otherwise,
            } => {
                branches.iter().for_each(|b| feeding(&b.body, targets, out));
                if let Some(o) = otherwise {
                    feeding(o, targets, out);
                }
            }
            StmtKind::For { body, .. }
            | StmtKind::While { body, .. }
            | StmtKind::Group { body, .. } => feeding(body, targets, out),
            StmtKind::Try { body, handler, .. } => {
                feeding(body, targets, out);
                feeding(handler, targets, out);
            }
            _ => {}
        }
    }
}
