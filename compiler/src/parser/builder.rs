//! Pest pairs → syntax tree, with spans, and the checks the grammar leaves to code: escapes,
//! numbers, body counts, assignment targets, argument order.
//!
//! The builder never panics: the grammar guarantees the shape of the pairs, and where code
//! still has to look for a child it falls back to an error rather than unwrapping.

use std::path::Path;
use std::sync::Arc;

use pest::iterators::Pair;
use weft_grammar::Rule;

use super::literals::{self, NumberError};
use super::strings::{self, Piece};
use crate::ast::*;
use crate::diagnostic::{Code, Diagnostic, SourceFile};

/// Deepest nesting of expressions, types and blocks the builder follows. Far beyond any real
/// program; it keeps hostile input from exhausting the stack.
pub(crate) const MAX_NESTING: usize = 100;

/// Deepest expression tree the builder returns. Long operator chains (`a + b + c …`) are
/// loops in the parser but nest in the tree, and every later stage (and `Drop`) walks trees
/// recursively.
pub(crate) const MAX_EXPRESSION_DEPTH: usize = 256;

/// `not` binds looser than comparisons: its operand is parsed at comparison precedence.
const NOT_OPERAND_PRECEDENCE: u8 = 4;

pub(crate) struct Builder<'f> {
    file: &'f Arc<SourceFile>,
    /// Byte offset of the parsed text in the file (error recovery parses a file in pieces).
    base: usize,
    pub(crate) errors: Vec<Diagnostic>,
    pub(crate) comments: Vec<Comment>,
    depth: usize,
    reported_depth: bool,
    /// How many `build_expr` calls are under way: the outermost one checks the tree's depth.
    expression_level: usize,
}

/// Children of a pair without trivia (comments) and keywords, which the builder never needs.
fn children<'i>(pair: &Pair<'i, Rule>) -> Vec<Pair<'i, Rule>> {
    pair.clone()
        .into_inner()
        .filter(|p| !is_trivia(p.as_rule()) && !is_keyword(p.as_rule()))
        .collect()
}

fn is_trivia(rule: Rule) -> bool {
    matches!(rule, Rule::COMMENT | Rule::stray_doc | Rule::EOI)
}

pub(crate) fn is_keyword(rule: Rule) -> bool {
    matches!(
        rule,
        Rule::kw_task
            | Rule::kw_fn
            | Rule::kw_workflow
            | Rule::kw_import
            | Rule::kw_as
            | Rule::kw_impl
            | Rule::kw_let
            | Rule::kw_if
            | Rule::kw_else
            | Rule::kw_for
            | Rule::kw_in
            | Rule::kw_while
            | Rule::kw_return
            | Rule::kw_group
            | Rule::kw_barrier
            | Rule::kw_try
            | Rule::kw_catch
            | Rule::kw_raise
            | Rule::kw_std
            | Rule::kw_prefix
            | Rule::kw_depth
            | Rule::kw_constraint
            | Rule::kw_timeout
            | Rule::kw_priority
            | Rule::kw_on_failure
            | Rule::kw_retry
            | Rule::kw_distributed
            | Rule::kw_replicated
            | Rule::kw_workdir
            | Rule::kw_env
            | Rule::kw_fail_on_exit
            | Rule::kw_raises_on_exit
            | Rule::kw_container
            | Rule::kw_multinode
            | Rule::kw_binary
            | Rule::kw_mpi
            | Rule::kw_ompss
            | Rule::kw_shell
            | Rule::kw_script
            | Rule::kw_args
    )
}

fn first_of<'i>(pairs: &[Pair<'i, Rule>], rule: Rule) -> Option<Pair<'i, Rule>> {
    pairs.iter().find(|p| p.as_rule() == rule).cloned()
}

fn all_of<'i>(pairs: &[Pair<'i, Rule>], rule: Rule) -> Vec<Pair<'i, Rule>> {
    pairs
        .iter()
        .filter(|p| p.as_rule() == rule)
        .cloned()
        .collect()
}

/// The text of a doc block: `///` and one following space removed from each line, lines
/// joined with `\n`.
fn doc_text(doc_block: &Pair<'_, Rule>) -> String {
    doc_block
        .clone()
        .into_inner()
        .filter(|p| p.as_rule() == Rule::doc_line)
        .map(|line| {
            let text = line.as_str().strip_prefix("///").unwrap_or(line.as_str());
            text.strip_prefix(' ').unwrap_or(text).to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn is_comparison(op: BinaryOp) -> bool {
    op.precedence() == 4
}

fn binary_op(rule: Rule) -> Option<BinaryOp> {
    Some(match rule {
        Rule::op_or => BinaryOp::Or,
        Rule::op_and => BinaryOp::And,
        Rule::op_eq => BinaryOp::Eq,
        Rule::op_ne => BinaryOp::Ne,
        Rule::op_lt => BinaryOp::Lt,
        Rule::op_le => BinaryOp::Le,
        Rule::op_gt => BinaryOp::Gt,
        Rule::op_ge => BinaryOp::Ge,
        Rule::op_add => BinaryOp::Add,
        Rule::op_sub => BinaryOp::Sub,
        Rule::op_mul => BinaryOp::Mul,
        Rule::op_div => BinaryOp::Div,
        Rule::op_rem => BinaryOp::Rem,
        _ => return None,
    })
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !super::RESERVED_WORDS.contains(&name)
}

impl<'f> Builder<'f> {
    pub(crate) fn new(file: &'f Arc<SourceFile>, base: usize) -> Self {
        Builder {
            file,
            base,
            errors: Vec::new(),
            comments: Vec::new(),
            depth: 0,
            reported_depth: false,
            expression_level: 0,
        }
    }

    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        let s = pair.as_span();
        Span::new(self.base + s.start(), self.base + s.end())
    }

    fn error(&mut self, span: Span, message: impl Into<String>, label: impl Into<String>) {
        self.errors
            .push(Diagnostic::error(Code::Syntax, self.file, span, message).with_label(label));
    }

    fn error_with_help(
        &mut self,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.errors.push(
            Diagnostic::error(Code::Syntax, self.file, span, message)
                .with_label(label)
                .with_help(help),
        );
    }

    /// A pair the grammar does not produce at this place: a bug of the parser, reported
    /// rather than panicking.
    fn unexpected(&mut self, span: Span, what: &str) {
        self.error(
            span,
            format!("internal parser error: unexpected {what}"),
            "the parser did not expect this here",
        );
    }

    /// Enters one level of nesting; false (with one error for the file) past the limit.
    fn enter(&mut self, span: Span) -> bool {
        if self.depth >= MAX_NESTING {
            if !self.reported_depth {
                self.reported_depth = true;
                self.error_with_help(
                    span,
                    "this is nested too deeply",
                    "nesting limit reached here",
                    format!("weft follows at most {MAX_NESTING} levels of nested brackets, blocks and operators"),
                );
            }
            return false;
        }
        self.depth += 1;
        true
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // -----------------------------------------------------------------------------------------
    // File and items
    // -----------------------------------------------------------------------------------------

    /// Every comment of the parsed text: `//` and `/* */` comments, and doc comments that
    /// document nothing.
    pub(crate) fn collect_comments(&mut self, file_pair: &Pair<'_, Rule>) {
        for pair in file_pair.clone().into_inner().flatten() {
            match pair.as_rule() {
                Rule::COMMENT | Rule::stray_doc => {
                    let span = self.span(&pair);
                    self.comments.push(Comment {
                        text: pair.as_str().to_string(),
                        span,
                    });
                }
                _ => {}
            }
        }
    }

    pub(crate) fn build_file(&mut self, file_pair: &Pair<'_, Rule>) -> Vec<Item> {
        self.collect_comments(file_pair);
        let mut items = Vec::new();
        let mut pending_doc: Option<Pair<'_, Rule>> = None;
        for pair in children(file_pair) {
            let doc = || pending_doc.as_ref().map(doc_text);
            let item = match pair.as_rule() {
                Rule::doc_block => {
                    pending_doc = Some(pair);
                    continue;
                }
                Rule::import_item => {
                    // An import has no doc: its `///` lines are kept as ordinary comments.
                    if let Some(doc_block) = pending_doc.take() {
                        self.doc_block_as_comments(&doc_block);
                    }
                    self.build_import(&pair).map(Item::Import)
                }
                Rule::task_item => self.build_task(&pair, doc()).map(Item::Task),
                Rule::fn_item => self.build_fn(&pair, doc()).map(Item::Fn),
                Rule::workflow_item => self.build_workflow(&pair, doc()).map(Item::Workflow),
                _ => {
                    let span = self.span(&pair);
                    self.unexpected(span, "item");
                    None
                }
            };
            pending_doc = None;
            items.extend(item);
        }
        items
    }

    fn doc_block_as_comments(&mut self, doc_block: &Pair<'_, Rule>) {
        for line in doc_block.clone().into_inner() {
            if line.as_rule() == Rule::doc_line {
                let span = self.span(&line);
                self.comments.push(Comment {
                    text: line.as_str().to_string(),
                    span,
                });
            }
        }
    }

    fn ident(&self, pair: &Pair<'_, Rule>) -> Ident {
        // `item_name`, `param_name`, … wrap one `ident`; both have the same text and span.
        Ident {
            name: pair.as_str().to_string(),
            span: self.span(pair),
        }
    }

    fn build_import(&mut self, pair: &Pair<'_, Rule>) -> Option<Import> {
        let span = self.span(pair);
        let parts = children(pair);
        let alias = first_of(&parts, Rule::import_alias)
            .and_then(|a| first_of(&children(&a), Rule::ident))
            .map(|a| self.ident(&a));
        let target = if let Some(std_path) = first_of(&parts, Rule::std_path) {
            let start = self.span(&std_path).start;
            let path = children(&std_path).iter().map(|p| self.ident(p)).collect();
            ImportTarget::Std {
                std_span: Span::new(start, start + "std".len()),
                path,
            }
        } else {
            let file_pair = first_of(&parts, Rule::import_file)?;
            let string_pair = first_of(&children(&file_pair), Rule::string)?;
            let path_span = self.span(&string_pair);
            let path = self.plain_string(&string_pair, "an import path")?;
            let stem_text = Path::new(&path)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            if alias.is_none() && !is_identifier(&stem_text) {
                let suggestion: String = stem_text
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                self.error_with_help(
                    path_span,
                    format!("the file name `{stem_text}` cannot be used as a name"),
                    "this import needs a name to be used by",
                    format!(
                        "add an alias: `import \"{path}\" as {}`",
                        alias_suggestion(&suggestion)
                    ),
                );
            }
            ImportTarget::File {
                path,
                path_span,
                stem: Ident {
                    name: stem_text,
                    span: path_span,
                },
            }
        };
        Some(Import {
            target,
            alias,
            span,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Types and parameters
    // -----------------------------------------------------------------------------------------

    fn build_type(&mut self, pair: &Pair<'_, Rule>) -> TypeExpr {
        let span = self.span(pair);
        let fallback = TypeExpr {
            ty: Type::Json,
            span,
        };
        let Some(inner) = children(pair).into_iter().next() else {
            self.unexpected(span, "type");
            return fallback;
        };
        let ty = match inner.as_rule() {
            Rule::prim_type => match inner.as_str() {
                "int" => Type::Int,
                "float" => Type::Float,
                "bool" => Type::Bool,
                "str" => Type::Str,
                "json" => Type::Json,
                "file" => Type::File,
                "dir" => Type::Dir,
                _ => {
                    self.unexpected(span, "type name");
                    return fallback;
                }
            },
            Rule::list_type => {
                let Some(element) = first_of(&children(&inner), Rule::type_expr) else {
                    self.unexpected(span, "list type");
                    return fallback;
                };
                if !self.enter(span) {
                    return fallback;
                }
                let element = self.build_type(&element);
                self.leave();
                Type::List(Box::new(element.ty))
            }
            _ => {
                self.unexpected(span, "type");
                return fallback;
            }
        };
        TypeExpr { ty, span }
    }

    fn build_params(&mut self, list: &Pair<'_, Rule>) -> Vec<Param> {
        let mut params = Vec::new();
        let mut pending_doc = None;
        for pair in children(list) {
            match pair.as_rule() {
                Rule::doc_block => pending_doc = Some(doc_text(&pair)),
                Rule::param => {
                    if let Some(param) = self.build_param(&pair, pending_doc.take()) {
                        params.push(param);
                    }
                }
                _ => {
                    let span = self.span(&pair);
                    self.unexpected(span, "parameter");
                }
            }
        }
        params
    }

    fn build_param(&mut self, pair: &Pair<'_, Rule>, doc: Option<String>) -> Option<Param> {
        let span = self.span(pair);
        let mut name = None;
        let mut direction = Direction::In;
        let mut direction_span = None;
        let mut ty = None;
        let mut modifiers = Vec::new();
        let mut default = None;
        for part in children(pair) {
            let part_span = self.span(&part);
            match part.as_rule() {
                Rule::param_name => name = Some(self.ident(&part)),
                Rule::direction => {
                    direction_span = Some(part_span);
                    direction = match part.as_str() {
                        "out" => Direction::Out,
                        "inout" => Direction::InOut,
                        "concurrent" => Direction::Concurrent,
                        "commutative" => Direction::Commutative,
                        _ => {
                            self.error_with_help(
                                part_span,
                                "`in` is not a parameter direction",
                                "remove `in`: a parameter without a direction is read-only",
                                "the directions are `out`, `inout`, `concurrent` and `commutative`",
                            );
                            Direction::In
                        }
                    };
                }
                Rule::type_expr => ty = Some(self.build_type(&part)),
                Rule::stream_modifier => {
                    let stream = match children(&part).first().map(|p| p.as_str()) {
                        Some("stdin") => Stream::Stdin,
                        Some("stdout") => Stream::Stdout,
                        _ => Stream::Stderr,
                    };
                    modifiers.push(Modifier::Stream(stream, part_span));
                }
                Rule::prefix_modifier => {
                    let string = first_of(&children(&part), Rule::string)?;
                    let prefix = self.plain_string(&string, "a prefix")?;
                    modifiers.push(Modifier::Prefix(prefix, part_span));
                }
                Rule::depth_modifier => {
                    let number = first_of(&children(&part), Rule::number)?;
                    let number_span = self.span(&number);
                    match number.as_str().parse::<u32>() {
                        Ok(depth) => modifiers.push(Modifier::Depth(depth, part_span)),
                        Err(_) => self.error_with_help(
                            number_span,
                            format!("`{}` is not a depth", number.as_str()),
                            "expected a whole number of levels",
                            "write `depth N` with N a whole number, such as `depth 1`",
                        ),
                    }
                }
                Rule::param_default => {
                    let value = first_of(&children(&part), Rule::expr_nl)?;
                    default = Some(self.build_expr(&value));
                }
                _ => self.unexpected(part_span, "part of a parameter"),
            }
        }
        Some(Param {
            doc,
            name: name?,
            direction,
            direction_span,
            ty: ty?,
            modifiers,
            default,
            span,
        })
    }

    fn build_return_type(&mut self, pair: &Pair<'_, Rule>) -> Option<ReturnType> {
        let inner = children(pair).into_iter().next()?;
        match inner.as_rule() {
            Rule::type_expr => Some(ReturnType::Single(self.build_type(&inner))),
            Rule::return_tuple => {
                let span = self.span(&inner);
                let mut types: Vec<TypeExpr> = children(&inner)
                    .iter()
                    .map(|t| self.build_type(t))
                    .collect();
                if types.len() == 1 {
                    types.pop().map(ReturnType::Single)
                } else {
                    Some(ReturnType::Tuple(types, span))
                }
            }
            _ => None,
        }
    }

    // -----------------------------------------------------------------------------------------
    // Tasks
    // -----------------------------------------------------------------------------------------

    fn build_task(&mut self, pair: &Pair<'_, Rule>, doc: Option<String>) -> Option<Task> {
        let span = self.span(pair);
        let parts = children(pair);
        let name = self.ident(&first_of(&parts, Rule::item_name)?);
        let params = self.build_params(&first_of(&parts, Rule::param_list)?);
        let returns = first_of(&parts, Rule::return_type).and_then(|r| self.build_return_type(&r));
        let block = first_of(&parts, Rule::task_block)?;

        let mut directives = Vec::new();
        let mut bodies = Vec::new();
        let mut impls = Vec::new();
        let mut impl_blocks = 0;
        for member in children(&block) {
            match member.as_rule() {
                Rule::directive => directives.extend(self.build_directive(&member)),
                Rule::body => bodies.extend(self.build_body(&member)),
                Rule::impl_block => {
                    impl_blocks += 1;
                    impls.extend(self.build_impl(&member));
                }
                _ => {
                    let member_span = self.span(&member);
                    self.unexpected(member_span, "task member");
                }
            }
        }

        if impls.len() < impl_blocks {
            // A broken `impl` block has been reported; the task has no usable body.
            return None;
        }
        let body = match (bodies.len(), impls.len()) {
            (1, 0) => TaskBody::Single(bodies.remove(0)),
            (0, n) if n > 0 => TaskBody::Impls(impls),
            (0, _) => {
                self.error_with_help(
                    name.span,
                    format!("task `{name}` has no body"),
                    "this task runs nothing",
                    "add one body, such as `shell \"…\"`, `binary \"PROGRAM\"` or `script \"python3\" \"\"\"…\"\"\"`, or `impl NAME { … }` blocks",
                );
                return None;
            }
            (_, 0) => {
                let second = bodies[1].span();
                let first = bodies[0].span();
                self.errors.push(
                    Diagnostic::error(
                        Code::Syntax,
                        self.file,
                        second,
                        format!("task `{name}` has more than one body"),
                    )
                    .with_label("a second body")
                    .with_related(first, "the first body")
                    .with_help("a task has exactly one body; to offer alternatives, write `impl NAME { … }` blocks"),
                );
                return None;
            }
            _ => {
                let first_impl = Span::new(impls[0].span.start, impls[0].name.span.end);
                self.errors.push(
                    Diagnostic::error(
                        Code::Syntax,
                        self.file,
                        bodies[0].span(),
                        format!("task `{name}` has both a body and `impl` blocks"),
                    )
                    .with_label("a body outside the `impl` blocks")
                    .with_related(first_impl, "an `impl` block")
                    .with_help("move this body into an `impl NAME { … }` block, or remove the `impl` blocks"),
                );
                return None;
            }
        };
        Some(Task {
            doc,
            name,
            params,
            returns,
            directives,
            body,
            span,
        })
    }

    fn build_impl(&mut self, pair: &Pair<'_, Rule>) -> Option<Impl> {
        let span = self.span(pair);
        let parts = children(pair);
        let name = self.ident(&first_of(&parts, Rule::item_name)?);
        let members = first_of(&parts, Rule::impl_members)?;
        let mut directives = Vec::new();
        let mut bodies = Vec::new();
        for member in children(&members) {
            match member.as_rule() {
                Rule::directive => directives.extend(self.build_directive(&member)),
                Rule::body => bodies.extend(self.build_body(&member)),
                _ => {
                    let member_span = self.span(&member);
                    self.unexpected(member_span, "implementation member");
                }
            }
        }
        if bodies.len() > 1 {
            let (first, second) = (bodies[0].span(), bodies[1].span());
            self.errors.push(
                Diagnostic::error(
                    Code::Syntax,
                    self.file,
                    second,
                    format!("implementation `{name}` has more than one body"),
                )
                .with_label("a second body")
                .with_related(first, "the first body")
                .with_help("each `impl` block has exactly one body"),
            );
            return None;
        }
        let Some(body) = bodies.pop() else {
            self.error_with_help(
                name.span,
                format!("implementation `{name}` has no body"),
                "this implementation runs nothing",
                "add one body, such as `shell \"…\"` or `binary \"PROGRAM\"`",
            );
            return None;
        };
        Some(Impl {
            name,
            directives,
            body,
            span,
        })
    }

    fn build_entries(&mut self, block: &Pair<'_, Rule>) -> Vec<Entry> {
        let mut entries = Vec::new();
        for entry in all_of(&children(block), Rule::entry) {
            let parts = children(&entry);
            let key = first_of(&parts, Rule::entry_key).map(|k| self.ident(&k));
            let value = first_of(&parts, Rule::expr_nl).map(|v| self.build_expr(&v));
            if let (Some(key), Some(value)) = (key, value) {
                entries.push(Entry { key, value });
            }
        }
        entries
    }

    fn build_expr_list(&mut self, list: &Pair<'_, Rule>) -> Vec<Expr> {
        all_of(&children(list), Rule::expr_nl)
            .iter()
            .map(|e| self.build_expr(e))
            .collect()
    }

    fn build_directive(&mut self, pair: &Pair<'_, Rule>) -> Option<Directive> {
        let span = self.span(pair);
        let inner = children(pair).into_iter().next()?;
        let parts = children(&inner);
        let expr_arg = |this: &mut Self| {
            first_of(&parts, Rule::expr)
                .or_else(|| first_of(&parts, Rule::expr_nl))
                .map(|e| this.build_expr(&e))
        };
        let kind = match inner.as_rule() {
            Rule::constraint_directive => {
                DirectiveKind::Constraint(self.build_entries(&first_of(&parts, Rule::entry_block)?))
            }
            Rule::env_directive => {
                DirectiveKind::Env(self.build_entries(&first_of(&parts, Rule::entry_block)?))
            }
            Rule::timeout_directive => DirectiveKind::Timeout(expr_arg(self)?),
            Rule::workdir_directive => DirectiveKind::Workdir(expr_arg(self)?),
            Rule::fail_on_exit_directive => DirectiveKind::FailOnExit(expr_arg(self)?),
            Rule::container_directive => DirectiveKind::Container(expr_arg(self)?),
            Rule::multinode_directive => DirectiveKind::Multinode(expr_arg(self)?),
            Rule::priority_directive => DirectiveKind::Priority,
            Rule::distributed_directive => DirectiveKind::Distributed,
            Rule::replicated_directive => DirectiveKind::Replicated,
            Rule::raises_on_exit_directive => DirectiveKind::RaisesOnExit(
                self.build_expr_list(&first_of(&parts, Rule::expr_list)?),
            ),
            Rule::on_failure_directive => {
                let policy = first_of(&parts, Rule::failure_policy)?;
                let policy = children(&policy).into_iter().next()?;
                DirectiveKind::OnFailure(match policy.as_rule() {
                    Rule::retry_policy => {
                        let count = first_of(&children(&policy), Rule::expr_nl)?;
                        FailurePolicy::Retry(self.build_expr(&count))
                    }
                    _ => match policy.as_str() {
                        "cancel_successors" => FailurePolicy::CancelSuccessors,
                        "fail" => FailurePolicy::Fail,
                        _ => FailurePolicy::Ignore,
                    },
                })
            }
            _ => {
                self.unexpected(span, "directive");
                return None;
            }
        };
        Some(Directive { kind, span })
    }

    fn build_body(&mut self, pair: &Pair<'_, Rule>) -> Option<Body> {
        let inner = children(pair).into_iter().next()?;
        let span = self.span(&inner);
        let parts = children(&inner);
        let program = |this: &mut Self| first_of(&parts, Rule::expr).map(|e| this.build_expr(&e));
        let args = |this: &mut Self| {
            first_of(&parts, Rule::args_clause)
                .and_then(|clause| first_of(&children(&clause), Rule::expr_list))
                .map(|list| this.build_expr_list(&list))
        };
        Some(match inner.as_rule() {
            Rule::binary_body => Body::Binary {
                program: program(self)?,
                args: args(self),
                span,
            },
            Rule::ompss_body => Body::Ompss {
                program: program(self)?,
                args: args(self),
                span,
            },
            Rule::mpi_body => {
                let program = program(self)?;
                let options = self.build_entries(&first_of(&parts, Rule::entry_block)?);
                Body::Mpi {
                    program,
                    options,
                    args: args(self),
                    span,
                }
            }
            Rule::shell_body => Body::Shell {
                template: self.build_raw_string(&first_of(&parts, Rule::raw_string)?)?,
                span,
            },
            Rule::script_body => Body::Script {
                interpreter: program(self)?,
                code: self.build_raw_string(&first_of(&parts, Rule::raw_string)?)?,
                span,
            },
            Rule::workflow_body => {
                let file = program(self)?;
                let args = match first_of(&parts, Rule::workflow_args) {
                    Some(clause) => {
                        self.build_entries(&first_of(&children(&clause), Rule::entry_block)?)
                    }
                    None => Vec::new(),
                };
                Body::Workflow { file, args, span }
            }
            _ => {
                self.unexpected(span, "body");
                return None;
            }
        })
    }

    fn build_raw_string(&mut self, pair: &Pair<'_, Rule>) -> Option<RawString> {
        let span = self.span(pair);
        let inner = children(pair).into_iter().next()?;
        match inner.as_rule() {
            Rule::raw_triple => {
                let text = inner.as_str();
                let content = text
                    .strip_prefix("\"\"\"")
                    .and_then(|t| t.strip_suffix("\"\"\""))
                    .unwrap_or("");
                Some(RawString {
                    value: strings::raw_triple_value(content),
                    triple: true,
                    span,
                })
            }
            Rule::raw_plain => {
                let parts = children(&inner);
                if first_of(&parts, Rule::unterminated).is_some() {
                    self.unterminated_string(span.start);
                    return None;
                }
                let content = first_of(&parts, Rule::raw_plain_text)
                    .map(|p| p.as_str())
                    .unwrap_or("");
                Some(RawString {
                    value: strings::raw_plain_value(content),
                    triple: false,
                    span,
                })
            }
            _ => None,
        }
    }

    fn unterminated_string(&mut self, quote: usize) {
        self.error_with_help(
            Span::new(quote, quote + 1),
            "unterminated string",
            "this string is not closed before the end of the line",
            "close it with `\"` on the same line, or use `\"\"\"…\"\"\"` for a string that spans lines",
        );
    }

    // -----------------------------------------------------------------------------------------
    // Functions and workflows
    // -----------------------------------------------------------------------------------------

    fn build_fn(&mut self, pair: &Pair<'_, Rule>, doc: Option<String>) -> Option<FnDef> {
        let span = self.span(pair);
        let parts = children(pair);
        let name = self.ident(&first_of(&parts, Rule::item_name)?);
        let params = self.build_params(&first_of(&parts, Rule::param_list)?);
        let returns =
            match first_of(&parts, Rule::return_type).and_then(|r| self.build_return_type(&r)) {
                None => None,
                Some(ReturnType::Single(ty)) => Some(ty),
                Some(ReturnType::Tuple(_, tuple_span)) => {
                    self.error_with_help(
                        tuple_span,
                        format!("fn `{name}` cannot return a tuple"),
                        "a fn returns one value",
                        "return a list or a json object; only tasks return tuples",
                    );
                    None
                }
            };
        let body = self.build_block(&first_of(&parts, Rule::block)?);
        Some(FnDef {
            doc,
            name,
            params,
            returns,
            body,
            span,
        })
    }

    fn build_workflow(&mut self, pair: &Pair<'_, Rule>, doc: Option<String>) -> Option<Workflow> {
        let span = self.span(pair);
        let parts = children(pair);
        let name = self.ident(&first_of(&parts, Rule::item_name)?);
        let params = self.build_params(&first_of(&parts, Rule::param_list)?);
        let body = self.build_block(&first_of(&parts, Rule::block)?);
        Some(Workflow {
            doc,
            name,
            params,
            body,
            span,
        })
    }

    // -----------------------------------------------------------------------------------------
    // Statements
    // -----------------------------------------------------------------------------------------

    fn build_block(&mut self, pair: &Pair<'_, Rule>) -> Block {
        let span = self.span(pair);
        if !self.enter(span) {
            return Block {
                stmts: Vec::new(),
                span,
            };
        }
        let stmts = children(pair)
            .iter()
            .filter_map(|s| self.build_stmt(s))
            .collect();
        self.leave();
        Block { stmts, span }
    }

    fn build_pattern(&mut self, pair: &Pair<'_, Rule>) -> Option<Pattern> {
        let inner = children(pair).into_iter().next()?;
        match inner.as_rule() {
            Rule::ident => Some(Pattern::Name(self.ident(&inner))),
            Rule::tuple_pattern => {
                let span = self.span(&inner);
                let names: Vec<Ident> = children(&inner).iter().map(|n| self.ident(n)).collect();
                if names.len() < 2 {
                    self.error_with_help(
                        span,
                        "a tuple pattern needs at least two names",
                        "only one name here",
                        "write the name without parentheses",
                    );
                    return None;
                }
                Some(Pattern::Tuple(names, span))
            }
            _ => None,
        }
    }

    fn build_stmt(&mut self, pair: &Pair<'_, Rule>) -> Option<Stmt> {
        let span = self.span(pair);
        let parts = children(pair);
        let expr_at = |this: &mut Self, index: usize| {
            all_of(&parts, Rule::expr)
                .get(index)
                .map(|e| this.build_expr(e))
        };
        let block_at = |this: &mut Self, index: usize| {
            all_of(&parts, Rule::block)
                .get(index)
                .map(|b| this.build_block(b))
        };
        let kind = match pair.as_rule() {
            Rule::let_stmt => StmtKind::Let {
                pattern: self.build_pattern(&first_of(&parts, Rule::let_pattern)?)?,
                value: expr_at(self, 0)?,
            },
            Rule::if_stmt => {
                let mut branches = vec![IfBranch {
                    cond: expr_at(self, 0)?,
                    body: block_at(self, 0)?,
                }];
                for else_if in all_of(&parts, Rule::else_if) {
                    let inner = children(&else_if);
                    let cond = self.build_expr(&first_of(&inner, Rule::expr)?);
                    let body = self.build_block(&first_of(&inner, Rule::block)?);
                    branches.push(IfBranch { cond, body });
                }
                let otherwise = match first_of(&parts, Rule::else_block) {
                    Some(else_block) => {
                        Some(self.build_block(&first_of(&children(&else_block), Rule::block)?))
                    }
                    None => None,
                };
                StmtKind::If {
                    branches,
                    otherwise,
                }
            }
            Rule::for_stmt => StmtKind::For {
                pattern: self.build_pattern(&first_of(&parts, Rule::for_pattern)?)?,
                iter: expr_at(self, 0)?,
                body: block_at(self, 0)?,
            },
            Rule::while_stmt => StmtKind::While {
                cond: expr_at(self, 0)?,
                body: block_at(self, 0)?,
            },
            Rule::return_stmt => StmtKind::Return(expr_at(self, 0)),
            Rule::group_stmt => StmtKind::Group {
                name: expr_at(self, 0)?,
                nowait: first_of(&parts, Rule::nowait_flag).is_some(),
                body: block_at(self, 0)?,
            },
            Rule::barrier_stmt => StmtKind::Barrier(expr_at(self, 0)),
            Rule::try_stmt => StmtKind::Try {
                body: block_at(self, 0)?,
                var: self.ident(&first_of(&parts, Rule::catch_name)?),
                handler: block_at(self, 1)?,
            },
            Rule::raise_stmt => StmtKind::Raise(expr_at(self, 0)?),
            Rule::simple_stmt => {
                let target = expr_at(self, 0)?;
                match first_of(&parts, Rule::assign_op) {
                    None => StmtKind::Expr(target),
                    Some(op) => {
                        let op = if op.as_str() == "+=" {
                            AssignOp::Add
                        } else {
                            AssignOp::Set
                        };
                        let value = expr_at(self, 1)?;
                        if !matches!(
                            target.kind,
                            ExprKind::Var(_) | ExprKind::Index(..) | ExprKind::Field(..)
                        ) {
                            self.error_with_help(
                                target.span,
                                "cannot assign to this expression",
                                "not a variable, an element or a field",
                                "assign to a variable (`x = …`), an element (`xs[i] = …`) or a field (`m.k = …`); compare with `==`",
                            );
                            return None;
                        }
                        StmtKind::Assign { target, op, value }
                    }
                }
            }
            _ => {
                self.unexpected(span, "statement");
                return None;
            }
        };
        Some(Stmt { kind, span })
    }

    // -----------------------------------------------------------------------------------------
    // Expressions
    // -----------------------------------------------------------------------------------------

    /// An `expr` or `expr_nl` pair: a flat sequence of prefix operators, operands and infix
    /// operators, put together by precedence climbing.
    pub(crate) fn build_expr(&mut self, pair: &Pair<'_, Rule>) -> Expr {
        let span = self.span(pair);
        if !self.enter(span) {
            return Expr {
                kind: ExprKind::Null,
                span,
            };
        }
        let items = children(pair);
        let mut position = 0;
        self.expression_level += 1;
        let expr = self.climb(&items, &mut position, 0, span);
        self.expression_level -= 1;
        self.leave();
        if self.expression_level == 0 && tree_depth(&expr) > MAX_EXPRESSION_DEPTH {
            self.error_with_help(
                span,
                "this expression is too long or too deeply nested",
                "too many operators and brackets in one expression",
                "split it into several `let` statements",
            );
            dismantle(expr);
            return Expr {
                kind: ExprKind::Null,
                span,
            };
        }
        expr
    }

    fn climb(
        &mut self,
        items: &[Pair<'_, Rule>],
        position: &mut usize,
        min_precedence: u8,
        whole: Span,
    ) -> Expr {
        let mut lhs = self.operand(items, position, whole);
        while let Some(op_pair) = items.get(*position) {
            let Some(op) = binary_op(op_pair.as_rule()) else {
                break;
            };
            let precedence = op.precedence();
            if precedence < min_precedence {
                break;
            }
            *position += 1;
            let rhs = self.climb(items, position, precedence + 1, whole);
            if is_comparison(op) {
                if let ExprKind::Binary(previous, ..) = &lhs.kind {
                    if is_comparison(*previous) {
                        let op_span = self.span(op_pair);
                        self.error_with_help(
                            op_span,
                            "comparisons cannot be chained",
                            "a second comparison",
                            format!(
                                "combine two comparisons with `and`, e.g. `a {} b and b {} c`",
                                previous.symbol(),
                                op.symbol()
                            ),
                        );
                    }
                }
            }
            let span = lhs.span.to(rhs.span);
            lhs = Expr {
                kind: ExprKind::Binary(op, Box::new(lhs), Box::new(rhs)),
                span,
            };
        }
        lhs
    }

    fn operand(&mut self, items: &[Pair<'_, Rule>], position: &mut usize, whole: Span) -> Expr {
        let Some(pair) = items.get(*position) else {
            self.unexpected(whole, "end of expression");
            return Expr {
                kind: ExprKind::Null,
                span: whole,
            };
        };
        let span = self.span(pair);
        *position += 1;
        let (op, operand) = match pair.as_rule() {
            Rule::postfix_expr => return self.build_postfix(pair),
            Rule::op_not | Rule::op_neg => {
                if !self.enter(span) {
                    return Expr {
                        kind: ExprKind::Null,
                        span,
                    };
                }
                let result = if pair.as_rule() == Rule::op_not {
                    (
                        UnaryOp::Not,
                        self.climb(items, position, NOT_OPERAND_PRECEDENCE, whole),
                    )
                } else {
                    (UnaryOp::Neg, self.operand(items, position, whole))
                };
                self.leave();
                result
            }
            _ => {
                self.unexpected(span, "operand");
                return Expr {
                    kind: ExprKind::Null,
                    span,
                };
            }
        };
        Expr {
            span: span.to(operand.span),
            kind: ExprKind::Unary(op, Box::new(operand)),
        }
    }

    fn build_postfix(&mut self, pair: &Pair<'_, Rule>) -> Expr {
        let mut parts = children(pair).into_iter();
        let Some(primary) = parts.next() else {
            let span = self.span(pair);
            self.unexpected(span, "empty operand");
            return Expr {
                kind: ExprKind::Null,
                span,
            };
        };
        let mut expr = self.build_primary(&primary);
        for suffix in parts {
            let span = expr.span.to(self.span(&suffix));
            let kind = match suffix.as_rule() {
                Rule::call_args => ExprKind::Call(Box::new(expr), self.build_args(&suffix)),
                Rule::index_suffix => match first_of(&children(&suffix), Rule::expr_nl) {
                    Some(index) => {
                        let index = self.build_expr(&index);
                        ExprKind::Index(Box::new(expr), Box::new(index))
                    }
                    None => {
                        self.unexpected(span, "index");
                        return expr;
                    }
                },
                Rule::field_suffix => match first_of(&children(&suffix), Rule::field_name) {
                    Some(name) => ExprKind::Field(Box::new(expr), self.ident(&name)),
                    None => {
                        self.unexpected(span, "field");
                        return expr;
                    }
                },
                _ => {
                    self.unexpected(span, "suffix");
                    return expr;
                }
            };
            expr = Expr { kind, span };
        }
        expr
    }

    fn build_args(&mut self, pair: &Pair<'_, Rule>) -> Vec<Arg> {
        let mut args: Vec<Arg> = Vec::new();
        let mut first_named: Option<Span> = None;
        for arg in children(pair) {
            match arg.as_rule() {
                Rule::named_arg => {
                    let parts = children(&arg);
                    let name = first_of(&parts, Rule::ident).map(|n| self.ident(&n));
                    let value = first_of(&parts, Rule::expr_nl).map(|v| self.build_expr(&v));
                    if let (Some(name), Some(value)) = (name, value) {
                        first_named.get_or_insert(name.span);
                        args.push(Arg {
                            name: Some(name),
                            value,
                        });
                    }
                }
                Rule::expr_nl => {
                    let value = self.build_expr(&arg);
                    if let Some(named) = first_named {
                        self.errors.push(
                            Diagnostic::error(
                                Code::Syntax,
                                self.file,
                                value.span,
                                "a positional argument cannot follow a named argument",
                            )
                            .with_label("positional argument")
                            .with_related(named, "named argument")
                            .with_help("pass arguments by position first, then by name: `f(a, b, mode = \"fast\")`"),
                        );
                    }
                    args.push(Arg { name: None, value });
                }
                _ => {
                    let span = self.span(&arg);
                    self.unexpected(span, "argument");
                }
            }
        }
        args
    }

    fn build_primary(&mut self, pair: &Pair<'_, Rule>) -> Expr {
        let span = self.span(pair);
        let kind = match pair.as_rule() {
            Rule::null_lit => ExprKind::Null,
            Rule::bool_lit => ExprKind::Bool(pair.as_str() == "true"),
            Rule::number => self.build_number(pair),
            Rule::string => match self.build_string(pair) {
                Some(lit) => ExprKind::Str(lit),
                None => ExprKind::Null,
            },
            Rule::var => match children(pair).first() {
                Some(ident) => ExprKind::Var(self.ident(ident)),
                None => ExprKind::Null,
            },
            Rule::list_lit => ExprKind::List(
                all_of(&children(pair), Rule::expr_nl)
                    .iter()
                    .map(|e| self.build_expr(e))
                    .collect(),
            ),
            Rule::object_lit => self.build_object(pair),
            Rule::paren_expr => {
                let parts = children(pair);
                let mut elements: Vec<Expr> = all_of(&parts, Rule::expr_nl)
                    .iter()
                    .map(|e| self.build_expr(e))
                    .collect();
                let trailing_comma = first_of(&parts, Rule::trailing_comma);
                match (elements.len(), trailing_comma) {
                    (1, None) => match elements.pop() {
                        Some(inner) => ExprKind::Paren(Box::new(inner)),
                        None => ExprKind::Null,
                    },
                    (1, Some(comma)) => {
                        let comma_span = self.span(&comma);
                        self.error_with_help(
                            comma_span,
                            "a tuple needs at least two elements",
                            "this comma makes a one-element tuple",
                            "remove the comma to write a parenthesised expression",
                        );
                        ExprKind::Null
                    }
                    _ => ExprKind::Tuple(elements),
                }
            }
            _ => {
                self.unexpected(span, "expression");
                ExprKind::Null
            }
        };
        Expr { kind, span }
    }

    fn build_object(&mut self, pair: &Pair<'_, Rule>) -> ExprKind {
        let mut entries = Vec::new();
        for entry in all_of(&children(pair), Rule::object_entry) {
            let parts = children(&entry);
            let Some(key_pair) = first_of(&parts, Rule::object_key) else {
                continue;
            };
            let key_span = self.span(&key_pair);
            let key = match children(&key_pair).into_iter().next() {
                Some(string) if string.as_rule() == Rule::string => {
                    match self.plain_string(&string, "an object key") {
                        Some(name) => ObjectKey {
                            name,
                            quoted: true,
                            span: key_span,
                        },
                        None => continue,
                    }
                }
                Some(word) => ObjectKey {
                    name: word.as_str().to_string(),
                    quoted: false,
                    span: key_span,
                },
                None => continue,
            };
            if let Some(value) = first_of(&parts, Rule::expr_nl) {
                let value = self.build_expr(&value);
                entries.push((key, value));
            }
        }
        ExprKind::Object(entries)
    }

    fn build_number(&mut self, pair: &Pair<'_, Rule>) -> ExprKind {
        let span = self.span(pair);
        let text = pair.as_str();
        match literals::parse_number(text) {
            Ok(number) => return ExprKind::Number(number),
            Err(NumberError::TooLarge) => {
                let is_int = literals::is_integer_literal(text);
                self.error_with_help(
                    span,
                    format!("the number `{text}` is too large"),
                    if is_int {
                        "does not fit in a 64-bit integer"
                    } else {
                        "beyond the largest float"
                    },
                    if is_int {
                        format!("integers (and sizes in bytes) go up to {}", i64::MAX)
                    } else {
                        "floats (and durations in seconds) go up to about 1.8e308".to_string()
                    },
                )
            }
            Err(NumberError::FractionalBytes) => self.error_with_help(
                span,
                format!("the size `{text}` is not a whole number of bytes"),
                "a fraction of a byte",
                "write a whole number of bytes, or use a larger unit",
            ),
            Err(NumberError::UnknownUnit(unit)) => {
                let units = format!(
                    "sizes take {}; durations take {}",
                    literals::SIZE_UNITS.join(" "),
                    literals::DURATION_UNITS.join(" ")
                );
                let help = match literals::suggest_unit(&unit) {
                    Some(suggested) => format!("did you mean `{suggested}`? ({units})"),
                    None => units,
                };
                self.error_with_help(
                    span,
                    format!("unknown unit `{unit}` in the number `{text}`"),
                    "not a size or duration unit",
                    help,
                );
            }
        }
        ExprKind::Null
    }

    // -----------------------------------------------------------------------------------------
    // Strings
    // -----------------------------------------------------------------------------------------

    /// A string that must not interpolate (import paths, prefixes, object keys).
    fn plain_string(&mut self, pair: &Pair<'_, Rule>, what: &str) -> Option<String> {
        let span = self.span(pair);
        let lit = self.build_string(pair)?;
        match lit.as_plain() {
            Some(text) => Some(text),
            None => {
                self.error_with_help(
                    span,
                    format!("{what} cannot contain `{{…}}` interpolation"),
                    "interpolated string",
                    "write the text as it is, or `{{` and `}}` for literal braces",
                );
                None
            }
        }
    }

    pub(crate) fn build_string(&mut self, pair: &Pair<'_, Rule>) -> Option<StrLit> {
        let span = self.span(pair);
        let inner = children(pair).into_iter().next()?;
        let triple = inner.as_rule() == Rule::triple_string;
        let mut pieces = Vec::new();
        let mut valid = true;
        for part in children(&inner) {
            let part_span = self.span(&part);
            match part.as_rule() {
                Rule::str_text | Rule::triple_text => {
                    pieces.push(Piece::Raw(part.as_str().to_string()))
                }
                Rule::str_open_brace => pieces.push(Piece::Literal("{".to_string())),
                Rule::str_close_brace => pieces.push(Piece::Literal("}".to_string())),
                Rule::str_escape => match strings::escape_value(part.as_str()) {
                    Some(c) => pieces.push(Piece::Literal(c.to_string())),
                    None => {
                        valid = false;
                        self.bad_escape(part.as_str(), part_span);
                    }
                },
                Rule::interp => match first_of(&children(&part), Rule::expr_nl) {
                    Some(expr) => pieces.push(Piece::Interp(self.build_expr(&expr))),
                    None => self.unexpected(part_span, "interpolation"),
                },
                Rule::unterminated => {
                    self.unterminated_string(span.start);
                    return None;
                }
                _ => self.unexpected(part_span, "string part"),
            }
        }
        if !valid {
            return None;
        }
        let pieces = if triple {
            strings::dedent(pieces)
        } else {
            pieces
        };
        Some(StrLit {
            parts: strings::into_parts(pieces),
            triple,
        })
    }

    fn bad_escape(&mut self, escape: &str, span: Span) {
        let (message, help) = if escape == "\\" {
            (
                "a `\\` at the end of a line".to_string(),
                "write `\\\\` for a backslash; a string that spans lines is written `\"\"\"…\"\"\"`".to_string(),
            )
        } else {
            (
                format!("unknown escape `{escape}` in a string"),
                "the escapes are `\\n` `\\t` `\\\\` `\\\"` `\\{` `\\}`; write `\\\\` for a backslash".to_string(),
            )
        };
        self.error_with_help(span, message, "unknown escape", help);
    }
}

/// The direct sub-expressions of an expression.
fn sub_expressions(expr: &Expr) -> Vec<&Expr> {
    match &expr.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Var(_) => Vec::new(),
        ExprKind::Str(lit) => lit
            .parts
            .iter()
            .filter_map(|part| match part {
                StrPart::Interp(e) => Some(e),
                StrPart::Text(_) => None,
            })
            .collect(),
        ExprKind::List(items) | ExprKind::Tuple(items) => items.iter().collect(),
        ExprKind::Object(entries) => entries.iter().map(|(_, v)| v).collect(),
        ExprKind::Paren(inner) | ExprKind::Field(inner, _) | ExprKind::Unary(_, inner) => {
            vec![inner]
        }
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => vec![a, b],
        ExprKind::Call(callee, args) => std::iter::once(&**callee)
            .chain(args.iter().map(|a| &a.value))
            .collect(),
    }
}

/// The depth of an expression tree, without recursion.
fn tree_depth(expr: &Expr) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(expr, 1usize)];
    while let Some((e, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        pending.extend(sub_expressions(e).into_iter().map(|s| (s, depth + 1)));
    }
    deepest
}

/// Drops an expression tree without recursion (the derived `Drop` recurses once a level).
fn dismantle(expr: Expr) {
    let mut pending = vec![expr];
    while let Some(mut e) = pending.pop() {
        match std::mem::replace(&mut e.kind, ExprKind::Null) {
            ExprKind::Str(lit) => pending.extend(lit.parts.into_iter().filter_map(|p| match p {
                StrPart::Interp(e) => Some(e),
                StrPart::Text(_) => None,
            })),
            ExprKind::List(items) | ExprKind::Tuple(items) => pending.extend(items),
            ExprKind::Object(entries) => pending.extend(entries.into_iter().map(|(_, v)| v)),
            ExprKind::Paren(inner) | ExprKind::Field(inner, _) | ExprKind::Unary(_, inner) => {
                pending.push(*inner)
            }
            ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => {
                pending.push(*a);
                pending.push(*b);
            }
            ExprKind::Call(callee, args) => {
                pending.push(*callee);
                pending.extend(args.into_iter().map(|a| a.value));
            }
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Var(_) => {}
        }
    }
}

/// An alias for a file whose stem is not a name: letters, digits and `_`, not starting with a
/// digit, not reserved.
fn alias_suggestion(cleaned: &str) -> String {
    let mut alias = cleaned.to_string();
    if alias.is_empty() || alias.starts_with(|c: char| c.is_ascii_digit()) {
        alias.insert(0, '_');
    }
    if super::RESERVED_WORDS.contains(&alias.as_str()) {
        alias.push('_');
    }
    alias
}
