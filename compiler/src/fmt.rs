//! The canonical formatter behind `weft fmt`.
//!
//! `format_module` writes a parsed module back in the one canonical style: 4-space
//! indentation, one statement a line, blocks opened on the line of their header and closed on
//! their own line, task directives in the fixed order of `DirectiveKind`, parameter lists on
//! one line when they fit in 100 columns (one parameter a line otherwise), canonical spacing
//! inside expressions. It keeps everything the user wrote: ordinary comments are put back by
//! position (see `comments`), doc comments come from the `doc` fields, numbers keep their
//! literal text, and string values survive exactly (see `strings`). Formatting formatted
//! output changes nothing.

mod comments;
mod expr;
mod strings;

use crate::ast::{
    AssignOp, Block, Body, Directive, DirectiveKind, Expr, FailurePolicy, FnDef, Impl, Import,
    ImportTarget, Item, Modifier, Module, Param, Pattern, RawString, ReturnType, Span, Stmt,
    StmtKind, Task, TaskBody, Workflow,
};
use comments::CommentTracker;
use expr::expr;
use strings::{quoted, raw_quoted, triple_layout, QuoteEnd, INDENT};

/// Lines longer than this put their parameter list one parameter a line.
const MAX_WIDTH: usize = 100;

/// Formats a parsed module in the canonical style. `source` is the file's text (for comments' positions).
pub fn format_module(module: &Module, source: &str) -> String {
    let mut printer = Printer {
        out: String::new(),
        indent: 0,
        comments: CommentTracker::new(source, &module.comments),
        cursor: 0,
        at_block_start: true,
    };
    printer.module(module);
    printer.finish()
}

struct Printer<'a> {
    out: String,
    /// The indentation level of the lines being written.
    indent: usize,
    comments: CommentTracker<'a>,
    /// The source position of the end of what was written last: a blank line the user left
    /// between it and the next statement or comment is kept.
    cursor: usize,
    /// Nothing was written since the current block opened, so no blank line goes here.
    at_block_start: bool,
}

impl Printer<'_> {
    fn finish(mut self) -> String {
        while self.out.ends_with("\n\n") {
            self.out.pop();
        }
        self.out
    }

    // -----------------------------------------------------------------------------------------
    // Lines, blank lines and comments
    // -----------------------------------------------------------------------------------------

    /// Starts a line at the current indentation; `end_line` finishes it.
    fn open_line(&mut self, text: &str) {
        for _ in 0..self.indent {
            self.out.push_str(INDENT);
        }
        self.out.push_str(text);
        self.at_block_start = false;
    }

    /// Ends the current line, with the comment the user wrote after the code that ends at
    /// `anchor` on the same line, if any.
    fn end_line(&mut self, anchor: Option<usize>) {
        let trailing = anchor.and_then(|anchor| self.comments.take_trailing(anchor));
        self.end_line_with(trailing);
    }

    fn end_line_with(&mut self, trailing: Option<usize>) {
        if let Some(index) = trailing {
            let comment = self.comments.get(index);
            self.out.push_str("  ");
            self.push_comment_text(&comment.text);
            self.advance(comment.span.end);
        }
        self.out.push('\n');
    }

    /// Writes a comment on its own line(s).
    fn comment_line(&mut self, index: usize) {
        let comment = self.comments.get(index);
        self.open_line("");
        self.push_comment_text(&comment.text);
        self.out.push('\n');
        self.advance(comment.span.end);
    }

    /// A comment's text without the blanks at the end of its lines; the lines after the
    /// first of a `/* */` comment are kept as written.
    fn push_comment_text(&mut self, text: &str) {
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.out.push('\n');
            }
            self.out.push_str(line.trim_end());
        }
    }

    /// Writes comments on their own lines, keeping the blank lines the user left between
    /// them when `keep_blank_lines`.
    fn comment_lines(&mut self, indices: Vec<usize>, keep_blank_lines: bool) {
        for index in indices {
            if keep_blank_lines {
                self.blank_line_if_source_has_one(self.comments.get(index).span.start);
            }
            self.comment_line(index);
        }
    }

    /// Where the code of a node ends, before any blanks and comments its span swallowed.
    fn code_end(&self, span: Span) -> usize {
        self.comments.code_end(span.start, span.end)
    }

    fn advance(&mut self, position: usize) {
        self.cursor = self.cursor.max(position);
    }

    fn blank_line(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    /// Keeps (one) blank line where the user had one or more before `next_start`.
    fn blank_line_if_source_has_one(&mut self, next_start: usize) {
        if !self.at_block_start && self.comments.blank_line_between(self.cursor, next_start) {
            self.blank_line();
        }
    }

    fn doc_lines(&mut self, doc: Option<&str>) {
        let Some(doc) = doc else { return };
        for line in doc.split('\n') {
            let line = line.trim_end();
            if line.is_empty() {
                self.open_line("///");
            } else {
                self.open_line(&format!("/// {line}"));
            }
            self.out.push('\n');
        }
    }

    // -----------------------------------------------------------------------------------------
    // Items
    // -----------------------------------------------------------------------------------------

    fn module(&mut self, module: &Module) {
        let mut previous: Option<&Item> = None;
        for item in &module.items {
            // One blank line between items; consecutive imports form one group.
            let separated = match previous {
                None => false,
                Some(Item::Import(_)) => !matches!(item, Item::Import(_)),
                Some(_) => true,
            };
            if separated {
                self.blank_line();
            }
            // The separator is the only space before the item's leading comments.
            self.at_block_start = true;
            let leading = self.comments.take_before(item.span().start);
            let has_leading = !leading.is_empty();
            self.comment_lines(leading, true);
            if has_leading {
                self.blank_line_if_source_has_one(item.span().start);
            }
            match item {
                Item::Import(import) => self.import(import),
                Item::Task(task) => self.task(task),
                Item::Fn(def) => self.fn_def(def),
                Item::Workflow(workflow) => self.workflow(workflow),
            }
            self.advance(item.span().end);
            previous = Some(item);
        }
        let rest = self.comments.take_rest();
        self.comment_lines(rest, true);
    }

    fn import(&mut self, import: &Import) {
        let mut line = String::from("import ");
        match &import.target {
            ImportTarget::Std { path, .. } => {
                line.push_str("std");
                for part in path {
                    line.push('.');
                    line.push_str(&part.name);
                }
            }
            ImportTarget::File { path, .. } => line.push_str(&quoted(path)),
        }
        if let Some(alias) = &import.alias {
            line.push_str(" as ");
            line.push_str(&alias.name);
        }
        self.open_line(&line);
        self.end_line(Some(self.code_end(import.span)));
    }

    fn task(&mut self, task: &Task) {
        self.doc_lines(task.doc.as_deref());
        let (suffix, returns_end) = match &task.returns {
            Some(returns) => {
                let (text, end) = return_type(returns);
                (format!(" -> {text} {{"), Some(end))
            }
            None => (" {".to_string(), None),
        };
        let close_paren = self.params(
            &format!("task {}", task.name.name),
            &task.params,
            task.name.span.end,
            &suffix,
        );
        let brace = returns_end
            .or(close_paren)
            .and_then(|from| self.comments.next_significant(from, &[]))
            .filter(|(_, c)| *c == '{')
            .map(|(position, _)| position);
        self.end_line(brace.map(|b| b + 1));
        self.indent += 1;
        self.directives(&task.directives);
        match &task.body {
            TaskBody::Single(body) => self.body(body),
            TaskBody::Impls(impls) => {
                for imp in impls {
                    self.impl_block(imp);
                }
            }
        }
        let closing = self.comments.take_before(task.span.end.saturating_sub(1));
        self.comment_lines(closing, false);
        self.indent -= 1;
        self.open_line("}");
        self.end_line(Some(task.span.end));
    }

    /// `impl NAME {`, its directives in the canonical order, its body, `}`.
    fn impl_block(&mut self, imp: &Impl) {
        let leading = self.comments.take_before(imp.span.start);
        self.comment_lines(leading, false);
        self.open_line(&format!("impl {} {{", imp.name.name));
        let brace = self
            .comments
            .next_significant(imp.name.span.end, &[])
            .filter(|(_, c)| *c == '{')
            .map(|(position, _)| position + 1);
        self.end_line(brace);
        self.indent += 1;
        self.directives(&imp.directives);
        self.body(&imp.body);
        let closing = self.comments.take_before(imp.span.end.saturating_sub(1));
        self.comment_lines(closing, false);
        self.indent -= 1;
        self.open_line("}");
        self.end_line(Some(imp.span.end));
    }

    fn fn_def(&mut self, def: &FnDef) {
        self.doc_lines(def.doc.as_deref());
        let returns = def
            .returns
            .as_ref()
            .map(|t| format!(" -> {}", t.ty))
            .unwrap_or_default();
        self.callable(
            &format!("fn {}", def.name.name),
            &returns,
            &def.params,
            def.name.span.end,
            &def.body,
        );
    }

    fn workflow(&mut self, workflow: &Workflow) {
        self.doc_lines(workflow.doc.as_deref());
        self.callable(
            &format!("workflow {}", workflow.name.name),
            "",
            &workflow.params,
            workflow.name.span.end,
            &workflow.body,
        );
    }

    /// A `fn` or `workflow`: header, then a block of statements.
    fn callable(
        &mut self,
        keyword_and_name: &str,
        returns: &str,
        params: &[Param],
        name_end: usize,
        body: &Block,
    ) {
        // Comments in the parameter list stay there; the ones after it go into the block.
        let (close_paren, last_end) = self.close_paren(params, name_end);
        let empty = self.block_is_empty(body, close_paren.unwrap_or(last_end));
        let suffix = if empty {
            format!("{returns} {{}}")
        } else {
            format!("{returns} {{")
        };
        self.params(keyword_and_name, params, name_end, &suffix);
        if empty {
            self.end_line(Some(body.span.end));
            return;
        }
        self.end_line(Some(body.span.start + 1));
        self.block_body(body);
        self.open_line("}");
        self.end_line(Some(body.span.end));
    }

    /// The source position of the `)` closing a parameter list (when the spans tell it), and
    /// of the end of the last parameter (or of the name when there is none).
    fn close_paren(&self, params: &[Param], name_end: usize) -> (Option<usize>, usize) {
        // The closing parenthesis follows the last parameter, or the opening one.
        let last_end = match params.last() {
            Some(last) => Some(self.code_end(last.span)),
            None => self
                .comments
                .next_significant(name_end, &[])
                .filter(|(_, c)| *c == '(')
                .map(|(position, _)| position + 1),
        }
        .unwrap_or(name_end);
        let close_paren = self
            .comments
            .next_significant(last_end, &[','])
            .filter(|(_, c)| *c == ')')
            .map(|(position, _)| position);
        (close_paren, last_end)
    }

    /// Writes `PREFIX(PARAMS)SUFFIX` without ending the line: on one line when it fits and
    /// nothing (doc or comment) has to go between the parameters, else one parameter a line.
    /// Returns the source position after the closing parenthesis, when the spans tell it.
    fn params(
        &mut self,
        prefix: &str,
        params: &[Param],
        name_end: usize,
        suffix: &str,
    ) -> Option<usize> {
        let (close_paren, last_end) = self.close_paren(params, name_end);
        let list_end = close_paren.unwrap_or(last_end);
        let has_comments = self.comments.any_in(name_end, list_end);

        let one_line = format!(
            "{prefix}({}){suffix}",
            params
                .iter()
                .map(|p| param(p, self.indent))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let fits = INDENT.len() * self.indent + one_line.chars().count() <= MAX_WIDTH
            && !one_line.contains('\n');
        if fits && !has_comments && params.iter().all(|p| p.doc.is_none()) {
            self.open_line(&one_line);
            return close_paren.map(|p| p + 1);
        }

        self.open_line(&format!("{prefix}("));
        self.out.push('\n');
        self.indent += 1;
        for p in params {
            let end = self.code_end(p.span);
            let leading = self.comments.take_before(end);
            self.comment_lines(leading, false);
            self.doc_lines(p.doc.as_deref());
            self.open_line(&format!("{},", param(p, self.indent)));
            self.end_line(Some(end));
        }
        let closing = self.comments.take_before(list_end);
        self.comment_lines(closing, false);
        self.indent -= 1;
        self.open_line(&format!("){suffix}"));
        close_paren.map(|p| p + 1)
    }

    // -----------------------------------------------------------------------------------------
    // Directives and bodies
    // -----------------------------------------------------------------------------------------

    /// Directives in the canonical order; each keeps the comments written before it and at
    /// the end of its line, wherever the reordering moves it.
    fn directives(&mut self, directives: &[Directive]) {
        let ends: Vec<usize> = directives.iter().map(|d| self.code_end(d.span)).collect();
        let trailing: Vec<Option<usize>> = ends
            .iter()
            .map(|end| self.comments.peek_trailing(*end))
            .collect();
        let mut order: Vec<usize> = (0..directives.len()).collect();
        order.sort_by_key(|&i| directive_rank(&directives[i].kind));
        for i in order {
            let directive = &directives[i];
            // The comments between the previous directive (in source order) and this one,
            // except the one at the end of the previous directive's line.
            let (lo, excluded) = match i.checked_sub(1) {
                Some(previous) => (ends[previous], trailing[previous]),
                None => (0, None),
            };
            let leading = self.comments.take_in(lo, ends[i], excluded);
            self.comment_lines(leading, false);
            self.open_line(&directive_text(&directive.kind, self.indent));
            let own_trailing = trailing[i].and_then(|index| self.comments.take(index));
            self.end_line_with(own_trailing);
            self.advance(directive.span.end);
        }
    }

    fn body(&mut self, body: &Body) {
        let end = self.code_end(body.span());
        let leading = self.comments.take_before(end);
        self.comment_lines(leading, false);
        self.open_line(&body_text(body, self.indent));
        self.end_line(Some(end));
        self.advance(body.span().end);
    }

    // -----------------------------------------------------------------------------------------
    // Statements
    // -----------------------------------------------------------------------------------------

    /// Whether a block has nothing to write inside: no statement and no comment.
    fn block_is_empty(&self, block: &Block, header_start: usize) -> bool {
        block.stmts.is_empty()
            && !self
                .comments
                .any_in(header_start, block.span.end.saturating_sub(1))
    }

    /// The statements of a block and the comments before its closing brace, one level in.
    fn block_body(&mut self, block: &Block) {
        self.indent += 1;
        self.at_block_start = true;
        self.advance(block.span.start + 1);
        for stmt in &block.stmts {
            self.statement(stmt);
        }
        let closing = self.comments.take_before(block.span.end.saturating_sub(1));
        self.comment_lines(closing, true);
        self.indent -= 1;
    }

    /// `HEADER {`, the block, and `}` unless another header (`} else {`) continues the
    /// statement. A block that closes the statement and has nothing inside is `HEADER {}`
    /// when `compact_when_empty`.
    fn header_and_block(
        &mut self,
        header: &str,
        block: &Block,
        header_start: usize,
        closes_statement: bool,
        compact_when_empty: bool,
    ) {
        if closes_statement && compact_when_empty && self.block_is_empty(block, header_start) {
            self.open_line(&format!("{header} {{}}"));
            self.end_line(Some(block.span.end));
            return;
        }
        self.open_line(&format!("{header} {{"));
        self.end_line(Some(block.span.start + 1));
        self.block_body(block);
        if closes_statement {
            self.open_line("}");
            self.end_line(Some(block.span.end));
        }
    }

    fn statement(&mut self, stmt: &Stmt) {
        // Comments inside a statement's header (or inside a one-line statement) cannot stay
        // inside the line: they go before the statement.
        let header_end = match &stmt.kind {
            StmtKind::If { branches, .. } => branches.first().map(|b| b.body.span.start),
            StmtKind::For { body, .. }
            | StmtKind::While { body, .. }
            | StmtKind::Group { body, .. }
            | StmtKind::Try { body, .. } => Some(body.span.start),
            _ => None,
        }
        .unwrap_or_else(|| self.code_end(stmt.span));
        let leading = self.comments.take_before(header_end);
        self.comment_lines(leading, true);
        self.blank_line_if_source_has_one(stmt.span.start);

        let indent = self.indent;
        let start = stmt.span.start;
        match &stmt.kind {
            StmtKind::Let { pattern, value } => {
                self.simple_statement(
                    &format!("let {} = {}", pattern_text(pattern), expr(value, indent)),
                    stmt,
                );
            }
            StmtKind::Assign { target, op, value } => {
                let op = match op {
                    AssignOp::Set => "=",
                    AssignOp::Add => "+=",
                };
                self.simple_statement(
                    &format!("{} {op} {}", expr(target, indent), expr(value, indent)),
                    stmt,
                );
            }
            StmtKind::If {
                branches,
                otherwise,
            } => {
                let single_block = branches.len() == 1 && otherwise.is_none();
                for (i, branch) in branches.iter().enumerate() {
                    let keyword = if i == 0 { "if" } else { "} else if" };
                    let header = format!("{keyword} {}", expr(&branch.cond, indent));
                    let last = i + 1 == branches.len() && otherwise.is_none();
                    self.header_and_block(&header, &branch.body, start, last, single_block);
                }
                if let Some(block) = otherwise {
                    self.header_and_block("} else", block, start, true, false);
                }
            }
            StmtKind::For {
                pattern,
                iter,
                body,
            } => {
                let header = format!("for {} in {}", pattern_text(pattern), expr(iter, indent));
                self.header_and_block(&header, body, start, true, true);
            }
            StmtKind::While { cond, body } => {
                let header = format!("while {}", expr(cond, indent));
                self.header_and_block(&header, body, start, true, true);
            }
            StmtKind::Return(value) => {
                let text = match value {
                    Some(value) => format!("return {}", expr(value, indent)),
                    None => "return".to_string(),
                };
                self.simple_statement(&text, stmt);
            }
            StmtKind::Group { name, nowait, body } => {
                let mut header = format!("group {}", expr(name, indent));
                if *nowait {
                    header.push_str(" nowait");
                }
                self.header_and_block(&header, body, start, true, true);
            }
            StmtKind::Barrier(name) => {
                let text = match name {
                    Some(name) => format!("barrier {}", expr(name, indent)),
                    None => "barrier".to_string(),
                };
                self.simple_statement(&text, stmt);
            }
            StmtKind::Try { body, var, handler } => {
                self.header_and_block("try", body, start, false, false);
                let header = format!("}} catch {}", var.name);
                self.header_and_block(&header, handler, start, true, false);
            }
            StmtKind::Raise(value) => {
                self.simple_statement(&format!("raise {}", expr(value, indent)), stmt);
            }
            StmtKind::Expr(value) => self.simple_statement(&expr(value, indent), stmt),
        }
        self.advance(stmt.span.end);
    }

    fn simple_statement(&mut self, text: &str, stmt: &Stmt) {
        self.open_line(text);
        self.end_line(Some(self.code_end(stmt.span)));
    }
}

// ---------------------------------------------------------------------------------------------
// Pieces of lines
// ---------------------------------------------------------------------------------------------

/// `name: [DIRECTION] TYPE [MODIFIER …] [= DEFAULT]`
fn param(p: &Param, indent: usize) -> String {
    let mut out = format!("{}: ", p.name.name);
    let direction = p.direction.keyword();
    if !direction.is_empty() {
        out.push_str(direction);
        out.push(' ');
    }
    out.push_str(&p.ty.ty.to_string());
    for modifier in &p.modifiers {
        match modifier {
            Modifier::Stream(stream, _) => {
                out.push_str(" as ");
                out.push_str(stream.keyword());
            }
            Modifier::Prefix(prefix, _) => {
                out.push_str(" prefix ");
                out.push_str(&quoted(prefix));
            }
            Modifier::Depth(depth, _) => {
                out.push_str(&format!(" depth {depth}"));
            }
        }
    }
    if let Some(default) = &p.default {
        out.push_str(" = ");
        out.push_str(&expr(default, indent));
    }
    out
}

/// The text of a return type, and the source position of its end.
fn return_type(returns: &ReturnType) -> (String, usize) {
    match returns {
        ReturnType::Single(t) => (t.ty.to_string(), t.span.end),
        ReturnType::Tuple(types, span) => {
            let inner: Vec<String> = types.iter().map(|t| t.ty.to_string()).collect();
            (format!("({})", inner.join(", ")), span.end)
        }
    }
}

fn pattern_text(pattern: &Pattern) -> String {
    match pattern {
        Pattern::Name(name) => name.name.clone(),
        Pattern::Tuple(names, _) => {
            let names: Vec<&str> = names.iter().map(|n| n.name.as_str()).collect();
            format!("({})", names.join(", "))
        }
    }
}

/// The rank of a directive in the canonical order: the order of `DirectiveKind`.
fn directive_rank(kind: &DirectiveKind) -> u8 {
    match kind {
        DirectiveKind::Constraint(_) => 0,
        DirectiveKind::Timeout(_) => 1,
        DirectiveKind::Priority => 2,
        DirectiveKind::OnFailure(_) => 3,
        DirectiveKind::Distributed => 4,
        DirectiveKind::Replicated => 5,
        DirectiveKind::Workdir(_) => 6,
        DirectiveKind::Env(_) => 7,
        DirectiveKind::FailOnExit(_) => 8,
        DirectiveKind::RaisesOnExit(_) => 9,
        DirectiveKind::Container(_) => 10,
        DirectiveKind::Multinode(_) => 11,
    }
}

fn directive_text(kind: &DirectiveKind, indent: usize) -> String {
    let keyword = kind.keyword();
    match kind {
        DirectiveKind::Constraint(entries) | DirectiveKind::Env(entries) => {
            format!("{keyword} {}", expr::entries(entries, indent))
        }
        DirectiveKind::Timeout(value)
        | DirectiveKind::Workdir(value)
        | DirectiveKind::FailOnExit(value)
        | DirectiveKind::Container(value)
        | DirectiveKind::Multinode(value) => format!("{keyword} {}", expr(value, indent)),
        DirectiveKind::RaisesOnExit(statuses) => {
            format!("{keyword} {}", expr::list(statuses, indent))
        }
        DirectiveKind::OnFailure(policy) => {
            let policy = match policy {
                FailurePolicy::Retry(n) => format!("retry({})", expr(n, indent)),
                FailurePolicy::CancelSuccessors => "cancel_successors".to_string(),
                FailurePolicy::Fail => "fail".to_string(),
                FailurePolicy::Ignore => "ignore".to_string(),
            };
            format!("{keyword} {policy}")
        }
        DirectiveKind::Priority | DirectiveKind::Distributed | DirectiveKind::Replicated => {
            keyword.to_string()
        }
    }
}

fn body_text(body: &Body, indent: usize) -> String {
    let keyword = body.keyword();
    let args_list = |args: &Option<Vec<Expr>>| match args {
        Some(args) => format!(" args {}", expr::list(args, indent)),
        None => String::new(),
    };
    match body {
        Body::Binary { program, args, .. } | Body::Ompss { program, args, .. } => {
            format!("{keyword} {}{}", expr(program, indent), args_list(args))
        }
        Body::Mpi {
            program,
            options,
            args,
            ..
        } => format!(
            "{keyword} {} {}{}",
            expr(program, indent),
            expr::entries(options, indent),
            args_list(args)
        ),
        Body::Shell { template, .. } => format!("{keyword} {}", raw_string(template, indent)),
        Body::Script {
            interpreter, code, ..
        } => format!(
            "{keyword} {} {}",
            expr(interpreter, indent),
            raw_string(code, indent)
        ),
        Body::Workflow { file, args, .. } => {
            let mut text = format!("{keyword} {}", expr(file, indent));
            if !args.is_empty() {
                text.push_str(" args ");
                text.push_str(&expr::entries(args, indent));
            }
            text
        }
    }
}

/// A `shell`/`script` string: `"""…"""` when the user wrote one and its value can be laid
/// out to survive the dedent, else `"…"`.
///
/// A `"…"` raw string cannot hold a line break, and a `"""…"""` one cannot hold every value
/// (a line of blanks, `"""`, indentation shared by every line). No value the parser builds is
/// in both cases; for a tree built otherwise, a value with a line break is written as a
/// triple-quoted string even when the dedent will change its blanks, the nearest the
/// language can say.
fn raw_string(raw: &RawString, indent: usize) -> String {
    let has_line_break = raw.value.contains('\n');
    if raw.triple || has_line_break {
        if let Some(text) = triple_layout(&raw.value, indent, QuoteEnd::Unescaped) {
            return text;
        }
    }
    if has_line_break {
        return strings::forced_triple(&raw.value, indent);
    }
    raw_quoted(&raw.value)
}
