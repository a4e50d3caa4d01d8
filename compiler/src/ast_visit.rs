//! A mutable walk over the syntax tree.
//!
//! `VisitMut` has one method per kind of node; each default method walks into the node's
//! children (through the `walk_*` functions), so an implementation overrides only the nodes it
//! cares about. `clear_spans` is the walk the formatter's round-trip tests use: two trees that
//! differ only in positions compare equal once their spans are cleared.

use crate::ast::{
    Arg, Block, Body, Comment, Directive, DirectiveKind, Entry, Expr, ExprKind, FailurePolicy,
    FnDef, Ident, IfBranch, Impl, Import, ImportTarget, Item, Modifier, Module, ObjectKey, Param,
    Pattern, RawString, ReturnType, Span, Stmt, StmtKind, StrPart, Task, TaskBody, TypeExpr,
    Workflow,
};

/// Sets every span of the module (comments' included) to `0..0`.
pub fn clear_spans(module: &mut Module) {
    SpanClearer.visit_module(module);
}

struct SpanClearer;

impl VisitMut for SpanClearer {
    fn visit_span(&mut self, span: &mut Span) {
        *span = Span::default();
    }
}

pub trait VisitMut {
    fn visit_span(&mut self, _span: &mut Span) {}

    fn visit_module(&mut self, module: &mut Module) {
        walk_module(self, module);
    }

    fn visit_comment(&mut self, comment: &mut Comment) {
        self.visit_span(&mut comment.span);
    }

    fn visit_item(&mut self, item: &mut Item) {
        walk_item(self, item);
    }

    fn visit_ident(&mut self, ident: &mut Ident) {
        self.visit_span(&mut ident.span);
    }

    fn visit_import(&mut self, import: &mut Import) {
        walk_import(self, import);
    }

    fn visit_type_expr(&mut self, ty: &mut TypeExpr) {
        self.visit_span(&mut ty.span);
    }

    fn visit_param(&mut self, param: &mut Param) {
        walk_param(self, param);
    }

    fn visit_task(&mut self, task: &mut Task) {
        walk_task(self, task);
    }

    fn visit_impl(&mut self, imp: &mut Impl) {
        walk_impl(self, imp);
    }

    fn visit_directive(&mut self, directive: &mut Directive) {
        walk_directive(self, directive);
    }

    fn visit_entry(&mut self, entry: &mut Entry) {
        self.visit_ident(&mut entry.key);
        self.visit_expr(&mut entry.value);
    }

    fn visit_body(&mut self, body: &mut Body) {
        walk_body(self, body);
    }

    fn visit_raw_string(&mut self, raw: &mut RawString) {
        self.visit_span(&mut raw.span);
    }

    fn visit_fn(&mut self, def: &mut FnDef) {
        walk_fn(self, def);
    }

    fn visit_workflow(&mut self, workflow: &mut Workflow) {
        walk_workflow(self, workflow);
    }

    fn visit_block(&mut self, block: &mut Block) {
        walk_block(self, block);
    }

    fn visit_stmt(&mut self, stmt: &mut Stmt) {
        walk_stmt(self, stmt);
    }

    fn visit_pattern(&mut self, pattern: &mut Pattern) {
        walk_pattern(self, pattern);
    }

    fn visit_expr(&mut self, expr: &mut Expr) {
        walk_expr(self, expr);
    }

    fn visit_object_key(&mut self, key: &mut ObjectKey) {
        self.visit_span(&mut key.span);
    }

    fn visit_arg(&mut self, arg: &mut Arg) {
        if let Some(name) = &mut arg.name {
            self.visit_ident(name);
        }
        self.visit_expr(&mut arg.value);
    }
}

pub fn walk_module<V: VisitMut + ?Sized>(v: &mut V, module: &mut Module) {
    for item in &mut module.items {
        v.visit_item(item);
    }
    for comment in &mut module.comments {
        v.visit_comment(comment);
    }
}

pub fn walk_item<V: VisitMut + ?Sized>(v: &mut V, item: &mut Item) {
    match item {
        Item::Import(import) => v.visit_import(import),
        Item::Task(task) => v.visit_task(task),
        Item::Fn(def) => v.visit_fn(def),
        Item::Workflow(workflow) => v.visit_workflow(workflow),
    }
}

pub fn walk_import<V: VisitMut + ?Sized>(v: &mut V, import: &mut Import) {
    match &mut import.target {
        ImportTarget::Std { std_span, path } => {
            v.visit_span(std_span);
            for part in path {
                v.visit_ident(part);
            }
        }
        ImportTarget::File {
            path_span, stem, ..
        } => {
            v.visit_span(path_span);
            v.visit_ident(stem);
        }
    }
    if let Some(alias) = &mut import.alias {
        v.visit_ident(alias);
    }
    v.visit_span(&mut import.span);
}

pub fn walk_param<V: VisitMut + ?Sized>(v: &mut V, param: &mut Param) {
    v.visit_ident(&mut param.name);
    if let Some(span) = &mut param.direction_span {
        v.visit_span(span);
    }
    v.visit_type_expr(&mut param.ty);
    for modifier in &mut param.modifiers {
        match modifier {
            Modifier::Stream(_, span) | Modifier::Prefix(_, span) | Modifier::Depth(_, span) => {
                v.visit_span(span)
            }
        }
    }
    if let Some(default) = &mut param.default {
        v.visit_expr(default);
    }
    v.visit_span(&mut param.span);
}

pub fn walk_task<V: VisitMut + ?Sized>(v: &mut V, task: &mut Task) {
    v.visit_ident(&mut task.name);
    for param in &mut task.params {
        v.visit_param(param);
    }
    match &mut task.returns {
        Some(ReturnType::Single(ty)) => v.visit_type_expr(ty),
        Some(ReturnType::Tuple(types, span)) => {
            for ty in types {
                v.visit_type_expr(ty);
            }
            v.visit_span(span);
        }
        None => {}
    }
    for directive in &mut task.directives {
        v.visit_directive(directive);
    }
    match &mut task.body {
        TaskBody::Single(body) => v.visit_body(body),
        TaskBody::Impls(impls) => {
            for imp in impls {
                v.visit_impl(imp);
            }
        }
    }
    v.visit_span(&mut task.span);
}

pub fn walk_impl<V: VisitMut + ?Sized>(v: &mut V, imp: &mut Impl) {
    v.visit_ident(&mut imp.name);
    for directive in &mut imp.directives {
        v.visit_directive(directive);
    }
    v.visit_body(&mut imp.body);
    v.visit_span(&mut imp.span);
}

pub fn walk_directive<V: VisitMut + ?Sized>(v: &mut V, directive: &mut Directive) {
    match &mut directive.kind {
        DirectiveKind::Constraint(entries) | DirectiveKind::Env(entries) => {
            for entry in entries {
                v.visit_entry(entry);
            }
        }
        DirectiveKind::Timeout(e)
        | DirectiveKind::Workdir(e)
        | DirectiveKind::FailOnExit(e)
        | DirectiveKind::Container(e)
        | DirectiveKind::Multinode(e) => v.visit_expr(e),
        DirectiveKind::RaisesOnExit(statuses) => {
            for status in statuses {
                v.visit_expr(status);
            }
        }
        DirectiveKind::OnFailure(FailurePolicy::Retry(n)) => v.visit_expr(n),
        DirectiveKind::OnFailure(_)
        | DirectiveKind::Priority
        | DirectiveKind::Distributed
        | DirectiveKind::Replicated => {}
    }
    v.visit_span(&mut directive.span);
}

fn walk_args_list<V: VisitMut + ?Sized>(v: &mut V, args: &mut Option<Vec<Expr>>) {
    for arg in args.iter_mut().flatten() {
        v.visit_expr(arg);
    }
}

pub fn walk_body<V: VisitMut + ?Sized>(v: &mut V, body: &mut Body) {
    match body {
        Body::Binary {
            program,
            args,
            span,
        }
        | Body::Ompss {
            program,
            args,
            span,
        } => {
            v.visit_expr(program);
            walk_args_list(v, args);
            v.visit_span(span);
        }
        Body::Mpi {
            program,
            options,
            args,
            span,
        } => {
            v.visit_expr(program);
            for option in options {
                v.visit_entry(option);
            }
            walk_args_list(v, args);
            v.visit_span(span);
        }
        Body::Shell { template, span } => {
            v.visit_raw_string(template);
            v.visit_span(span);
        }
        Body::Script {
            interpreter,
            code,
            span,
        } => {
            v.visit_expr(interpreter);
            v.visit_raw_string(code);
            v.visit_span(span);
        }
        Body::Workflow { file, args, span } => {
            v.visit_expr(file);
            for arg in args {
                v.visit_entry(arg);
            }
            v.visit_span(span);
        }
    }
}

pub fn walk_fn<V: VisitMut + ?Sized>(v: &mut V, def: &mut FnDef) {
    v.visit_ident(&mut def.name);
    for param in &mut def.params {
        v.visit_param(param);
    }
    if let Some(returns) = &mut def.returns {
        v.visit_type_expr(returns);
    }
    v.visit_block(&mut def.body);
    v.visit_span(&mut def.span);
}

pub fn walk_workflow<V: VisitMut + ?Sized>(v: &mut V, workflow: &mut Workflow) {
    v.visit_ident(&mut workflow.name);
    for param in &mut workflow.params {
        v.visit_param(param);
    }
    v.visit_block(&mut workflow.body);
    v.visit_span(&mut workflow.span);
}

pub fn walk_block<V: VisitMut + ?Sized>(v: &mut V, block: &mut Block) {
    for stmt in &mut block.stmts {
        v.visit_stmt(stmt);
    }
    v.visit_span(&mut block.span);
}

pub fn walk_pattern<V: VisitMut + ?Sized>(v: &mut V, pattern: &mut Pattern) {
    match pattern {
        Pattern::Name(name) => v.visit_ident(name),
        Pattern::Tuple(names, span) => {
            for name in names {
                v.visit_ident(name);
            }
            v.visit_span(span);
        }
    }
}

pub fn walk_stmt<V: VisitMut + ?Sized>(v: &mut V, stmt: &mut Stmt) {
    match &mut stmt.kind {
        StmtKind::Let { pattern, value } => {
            v.visit_pattern(pattern);
            v.visit_expr(value);
        }
        StmtKind::Assign { target, value, .. } => {
            v.visit_expr(target);
            v.visit_expr(value);
        }
        StmtKind::If {
            branches,
            otherwise,
        } => {
            for IfBranch { cond, body } in branches {
                v.visit_expr(cond);
                v.visit_block(body);
            }
            if let Some(block) = otherwise {
                v.visit_block(block);
            }
        }
        StmtKind::For {
            pattern,
            iter,
            body,
        } => {
            v.visit_pattern(pattern);
            v.visit_expr(iter);
            v.visit_block(body);
        }
        StmtKind::While { cond, body } => {
            v.visit_expr(cond);
            v.visit_block(body);
        }
        StmtKind::Group { name, body, .. } => {
            v.visit_expr(name);
            v.visit_block(body);
        }
        StmtKind::Try { body, var, handler } => {
            v.visit_block(body);
            v.visit_ident(var);
            v.visit_block(handler);
        }
        StmtKind::Return(value) | StmtKind::Barrier(value) => {
            if let Some(value) = value {
                v.visit_expr(value);
            }
        }
        StmtKind::Raise(value) | StmtKind::Expr(value) => v.visit_expr(value),
    }
    v.visit_span(&mut stmt.span);
}

pub fn walk_expr<V: VisitMut + ?Sized>(v: &mut V, expr: &mut Expr) {
    match &mut expr.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => {}
        ExprKind::Str(s) => {
            for part in &mut s.parts {
                if let StrPart::Interp(e) = part {
                    v.visit_expr(e);
                }
            }
        }
        ExprKind::List(items) | ExprKind::Tuple(items) => {
            for item in items {
                v.visit_expr(item);
            }
        }
        ExprKind::Object(entries) => {
            for (key, value) in entries {
                v.visit_object_key(key);
                v.visit_expr(value);
            }
        }
        ExprKind::Paren(inner) | ExprKind::Unary(_, inner) => v.visit_expr(inner),
        ExprKind::Var(name) => v.visit_ident(name),
        ExprKind::Field(base, field) => {
            v.visit_expr(base);
            v.visit_ident(field);
        }
        ExprKind::Index(base, index) => {
            v.visit_expr(base);
            v.visit_expr(index);
        }
        ExprKind::Call(callee, args) => {
            v.visit_expr(callee);
            for arg in args {
                v.visit_arg(arg);
            }
        }
        ExprKind::Binary(_, left, right) => {
            v.visit_expr(left);
            v.visit_expr(right);
        }
    }
    v.visit_span(&mut expr.span);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ast::{BinaryOp, Number, NumberValue};

    #[test]
    fn clear_spans_reaches_nested_expressions() {
        let at = |start| Span::new(start, start + 1);
        let number = |start| Expr {
            kind: ExprKind::Number(Number {
                value: NumberValue::Int(1),
                text: "1".into(),
            }),
            span: at(start),
        };
        let sum = Expr {
            kind: ExprKind::Binary(BinaryOp::Add, Box::new(number(3)), Box::new(number(7))),
            span: Span::new(3, 8),
        };
        let mut module = Module {
            items: vec![Item::Workflow(Workflow {
                doc: None,
                name: Ident {
                    name: "main".into(),
                    span: at(9),
                },
                params: Vec::new(),
                body: Block {
                    stmts: vec![Stmt {
                        kind: StmtKind::Expr(sum),
                        span: Span::new(3, 8),
                    }],
                    span: Span::new(2, 9),
                },
                span: Span::new(0, 10),
            })],
            comments: vec![Comment {
                text: "// c".into(),
                span: at(11),
            }],
        };
        clear_spans(&mut module);
        let debug = format!("{module:?}");
        assert!(!debug.contains("start: 1"), "{debug}");
        assert!(!debug.contains("end: 1"), "{debug}");
        assert_eq!(
            debug.matches("Span").count(),
            debug.matches("start: 0, end: 0").count()
        );
    }
}
