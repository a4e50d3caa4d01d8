//! The syntax tree of one weft source file.
//!
//! Every node carries the byte span it was built from, so that every later stage (analysis,
//! formatter, evaluator, language server) can point at the exact source text. The tree keeps
//! what the formatter needs to write the file back without losing anything the user wrote:
//! doc comments on the nodes they document, ordinary comments in `Module::comments`, and the
//! literal text of numbers (`1_000_000`, `256MiB`).

use std::fmt;

/// A half-open byte range `start..end` into the source text of one file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn len(self) -> usize {
        self.end - self.start
    }

    pub fn is_empty(self) -> bool {
        self.start == self.end
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start, span.len()).into()
    }
}

/// One parsed `.wf` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    pub items: Vec<Item>,
    /// Every `//` and `/* */` comment of the file, in source order (doc comments `///` are
    /// not here: they live in the `doc` field of the node they document).
    pub comments: Vec<Comment>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Comment {
    /// The comment exactly as written, markers included (`// x`, `/* x */`).
    pub text: String,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import(Import),
    Task(Task),
    Fn(FnDef),
    Workflow(Workflow),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Task(t) => t.span,
            Item::Fn(f) => f.span,
            Item::Workflow(w) => w.span,
        }
    }

    /// The name this item defines in its module (an import defines its alias or last
    /// path component).
    pub fn defined_name(&self) -> &Ident {
        match self {
            Item::Import(i) => i.binding(),
            Item::Task(t) => &t.name,
            Item::Fn(f) => &f.name,
            Item::Workflow(w) => &w.name,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

// ---------------------------------------------------------------------------------------------
// Imports
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub target: ImportTarget,
    pub alias: Option<Ident>,
    pub span: Span,
}

impl Import {
    /// The name the import is used by: the alias, else `fs` for `std.fs`, else the file's stem.
    pub fn binding(&self) -> &Ident {
        if let Some(alias) = &self.alias {
            return alias;
        }
        match &self.target {
            ImportTarget::Std { path, .. } => path.last().expect("std import has a module name"),
            ImportTarget::File { stem, .. } => stem,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ImportTarget {
    /// `import std.fs`: the path after `std` (`[fs]`); `std_span` covers `std`.
    Std { std_span: Span, path: Vec<Ident> },
    /// `import "lib/common.wf"`: the path as written, and the file stem (`common`) with the
    /// span of the string, used as the binding when there is no alias.
    File {
        path: String,
        path_span: Span,
        stem: Ident,
    },
}

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Type {
    Int,
    Float,
    Bool,
    Str,
    Json,
    File,
    Dir,
    List(Box<Type>),
}

impl Type {
    /// `file`, `dir` and `json`, and collections of them: the types that may carry a direction.
    pub fn allows_direction(&self) -> bool {
        match self {
            Type::File | Type::Dir | Type::Json => true,
            Type::List(inner) => inner.allows_direction(),
            _ => false,
        }
    }

    /// The element type at the bottom of nested collections.
    pub fn innermost(&self) -> &Type {
        match self {
            Type::List(inner) => inner.innermost(),
            other => other,
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Int => f.write_str("int"),
            Type::Float => f.write_str("float"),
            Type::Bool => f.write_str("bool"),
            Type::Str => f.write_str("str"),
            Type::Json => f.write_str("json"),
            Type::File => f.write_str("file"),
            Type::Dir => f.write_str("dir"),
            Type::List(inner) => write!(f, "[{inner}]"),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub ty: Type,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ReturnType {
    /// `-> T`
    Single(TypeExpr),
    /// `-> (T1, T2, …)`; `span` covers the parentheses.
    Tuple(Vec<TypeExpr>, Span),
}

// ---------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    In,
    Out,
    InOut,
    Concurrent,
    Commutative,
}

impl Direction {
    pub fn keyword(self) -> &'static str {
        match self {
            Direction::In => "",
            Direction::Out => "out",
            Direction::InOut => "inout",
            Direction::Concurrent => "concurrent",
            Direction::Commutative => "commutative",
        }
    }

    /// Whether a task with this direction reads the datum's current version.
    pub fn reads(self) -> bool {
        !matches!(self, Direction::Out)
    }

    /// Whether a task with this direction produces a new version of the datum.
    pub fn writes(self) -> bool {
        !matches!(self, Direction::In)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stream {
    Stdin,
    Stdout,
    Stderr,
}

impl Stream {
    pub fn keyword(self) -> &'static str {
        match self {
            Stream::Stdin => "stdin",
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Modifier {
    /// `as stdin` / `as stdout` / `as stderr`
    Stream(Stream, Span),
    /// `prefix "--flag="`
    Prefix(String, Span),
    /// `depth N`
    Depth(u32, Span),
}

impl Modifier {
    pub fn span(&self) -> Span {
        match self {
            Modifier::Stream(_, s) | Modifier::Prefix(_, s) | Modifier::Depth(_, s) => *s,
        }
    }
}

/// A parameter of a task, fn or workflow: `name: [DIRECTION] TYPE [MODIFIER …] [= DEFAULT]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The `///` lines before the parameter, markers and one following space removed,
    /// joined with `\n`.
    pub doc: Option<String>,
    pub name: Ident,
    pub direction: Direction,
    /// The span of the direction keyword, when one is written.
    pub direction_span: Option<Span>,
    pub ty: TypeExpr,
    pub modifiers: Vec<Modifier>,
    pub default: Option<Expr>,
    pub span: Span,
}

impl Param {
    pub fn stream(&self) -> Option<Stream> {
        self.modifiers.iter().find_map(|m| match m {
            Modifier::Stream(s, _) => Some(*s),
            _ => None,
        })
    }

    pub fn prefix(&self) -> Option<&str> {
        self.modifiers.iter().find_map(|m| match m {
            Modifier::Prefix(p, _) => Some(p.as_str()),
            _ => None,
        })
    }

    pub fn depth(&self) -> Option<u32> {
        self.modifiers.iter().find_map(|m| match m {
            Modifier::Depth(d, _) => Some(*d),
            _ => None,
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Tasks
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct Task {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub returns: Option<ReturnType>,
    /// Directives written outside `impl` blocks, in source order.
    pub directives: Vec<Directive>,
    pub body: TaskBody,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TaskBody {
    Single(Body),
    Impls(Vec<Impl>),
}

/// `impl NAME { DIRECTIVE … BODY }`
#[derive(Clone, Debug, PartialEq)]
pub struct Impl {
    pub name: Ident,
    pub directives: Vec<Directive>,
    pub body: Body,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Directive {
    pub kind: DirectiveKind,
    pub span: Span,
}

/// One `key: value` entry of a `constraint { … }`, `env { … }`, `mpi … { … }` or
/// `workflow "f.wf" args { … }` block.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Ident,
    pub value: Expr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum DirectiveKind {
    Constraint(Vec<Entry>),
    Timeout(Expr),
    Priority,
    OnFailure(FailurePolicy),
    Distributed,
    Replicated,
    Workdir(Expr),
    Env(Vec<Entry>),
    FailOnExit(Expr),
    RaisesOnExit(Vec<Expr>),
    Container(Expr),
    Multinode(Expr),
}

impl DirectiveKind {
    /// The directive's keyword, also its rank in the canonical order the formatter writes.
    pub fn keyword(&self) -> &'static str {
        match self {
            DirectiveKind::Constraint(_) => "constraint",
            DirectiveKind::Timeout(_) => "timeout",
            DirectiveKind::Priority => "priority",
            DirectiveKind::OnFailure(_) => "on_failure",
            DirectiveKind::Distributed => "distributed",
            DirectiveKind::Replicated => "replicated",
            DirectiveKind::Workdir(_) => "workdir",
            DirectiveKind::Env(_) => "env",
            DirectiveKind::FailOnExit(_) => "fail_on_exit",
            DirectiveKind::RaisesOnExit(_) => "raises_on_exit",
            DirectiveKind::Container(_) => "container",
            DirectiveKind::Multinode(_) => "multinode",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum FailurePolicy {
    /// `retry(N)`: N more attempts after the first.
    Retry(Expr),
    CancelSuccessors,
    Fail,
    Ignore,
}

/// A string written after `shell` or `script`: not interpolated, braces literal (§2).
#[derive(Clone, Debug, PartialEq)]
pub struct RawString {
    /// The value after escapes (`"…"`: only `\"` and `\\`) or dedent (`"""…"""`).
    pub value: String,
    pub triple: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// `binary "PROGRAM" [args [EXPR, …]]`
    Binary {
        program: Expr,
        args: Option<Vec<Expr>>,
        span: Span,
    },
    /// `mpi "PROGRAM" { runner: …, processes: …, nodes: …, flags: … } [args […]]`
    Mpi {
        program: Expr,
        options: Vec<Entry>,
        args: Option<Vec<Expr>>,
        span: Span,
    },
    /// `ompss "PROGRAM" [args […]]`
    Ompss {
        program: Expr,
        args: Option<Vec<Expr>>,
        span: Span,
    },
    /// `shell "TEMPLATE"`
    Shell { template: RawString, span: Span },
    /// `script "INTERPRETER" """CODE"""`
    Script {
        interpreter: Expr,
        code: RawString,
        span: Span,
    },
    /// `workflow "FILE.wf" [args { name: expr, … }]`
    Workflow {
        file: Expr,
        args: Vec<Entry>,
        span: Span,
    },
}

impl Body {
    pub fn span(&self) -> Span {
        match self {
            Body::Binary { span, .. }
            | Body::Mpi { span, .. }
            | Body::Ompss { span, .. }
            | Body::Shell { span, .. }
            | Body::Script { span, .. }
            | Body::Workflow { span, .. } => *span,
        }
    }

    pub fn keyword(&self) -> &'static str {
        match self {
            Body::Binary { .. } => "binary",
            Body::Mpi { .. } => "mpi",
            Body::Ompss { .. } => "ompss",
            Body::Shell { .. } => "shell",
            Body::Script { .. } => "script",
            Body::Workflow { .. } => "workflow",
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Functions and workflows
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct FnDef {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub returns: Option<TypeExpr>,
    pub body: Block,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Workflow {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<Param>,
    pub body: Block,
    pub span: Span,
}

// ---------------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    /// From `{` to `}` inclusive.
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

/// The left side of `let` and the variables of `for`.
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    Name(Ident),
    /// `(a, b)`; `span` covers the parentheses.
    Tuple(Vec<Ident>, Span),
}

impl Pattern {
    pub fn names(&self) -> Vec<&Ident> {
        match self {
            Pattern::Name(n) => vec![n],
            Pattern::Tuple(ns, _) => ns.iter().collect(),
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Pattern::Name(n) => n.span,
            Pattern::Tuple(_, s) => *s,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    /// `=`
    Set,
    /// `+=`
    Add,
}

#[derive(Clone, Debug, PartialEq)]
pub struct IfBranch {
    pub cond: Expr,
    pub body: Block,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Let {
        pattern: Pattern,
        value: Expr,
    },
    /// `target = value` or `target += value`; the target is a variable, an index
    /// (`xs[i]`, `m["k"]`) or a field (`m.k`).
    Assign {
        target: Expr,
        op: AssignOp,
        value: Expr,
    },
    /// `if c { } else if c { } else { }`: one branch per condition.
    If {
        branches: Vec<IfBranch>,
        otherwise: Option<Block>,
    },
    For {
        pattern: Pattern,
        iter: Expr,
        body: Block,
    },
    While {
        cond: Expr,
        body: Block,
    },
    Return(Option<Expr>),
    Group {
        name: Expr,
        nowait: bool,
        body: Block,
    },
    Barrier(Option<Expr>),
    Try {
        body: Block,
        var: Ident,
        handler: Block,
    },
    Raise(Expr),
    Expr(Expr),
}

// ---------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum NumberValue {
    Int(i64),
    Float(f64),
}

/// A numeric literal: ints, floats, sizes (an int of bytes) and durations (a float of
/// seconds). `text` is the literal as written, kept for the formatter.
#[derive(Clone, Debug, PartialEq)]
pub struct Number {
    pub value: NumberValue,
    pub text: String,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Literal text, escapes already applied (`{{` is `{`).
    Text(String),
    /// `{expr}`
    Interp(Expr),
}

/// A string literal of the language (not a raw body): parts of literal text and `{expr}`
/// interpolations.
#[derive(Clone, Debug, PartialEq)]
pub struct StrLit {
    pub parts: Vec<StrPart>,
    pub triple: bool,
}

impl StrLit {
    /// The value when the string has no interpolation.
    pub fn as_plain(&self) -> Option<String> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                StrPart::Text(t) => out.push_str(t),
                StrPart::Interp(_) => return None,
            }
        }
        Some(out)
    }
}

/// A key of an object literal: `"key": v` or `key: v`.
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectKey {
    pub name: String,
    pub quoted: bool,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// `name = value` when given by name.
    pub name: Option<Ident>,
    pub value: Expr,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    Neg,
    Not,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

impl BinaryOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Binding strength: higher binds tighter. All binary operators are left-associative;
    /// comparisons do not chain.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Null,
    Bool(bool),
    Number(Number),
    Str(StrLit),
    List(Vec<Expr>),
    Object(Vec<(ObjectKey, Expr)>),
    /// `(a, b)`: two or more elements.
    Tuple(Vec<Expr>),
    /// `(e)`: kept so the formatter writes back the parentheses the user wrote.
    Paren(Box<Expr>),
    Var(Ident),
    /// `obj.key`, also `module.name` before resolution.
    Field(Box<Expr>, Ident),
    Index(Box<Expr>, Box<Expr>),
    /// `callee(args)`: the callee is a `Var` (task, fn, builtin) or a `Field` of a module
    /// (`util.shout`).
    Call(Box<Expr>, Vec<Arg>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
}
