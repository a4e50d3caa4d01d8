//! Syntax errors in words.
//!
//! Pest reports the furthest position it reached and what it tried there: rules (positives)
//! and, with error detail on, the literal tokens. This module turns that into one sentence
//! ("expected a parameter type such as `file` or `[str]`, found `integer`"), a label on the
//! offending token, and a help line. A few mistakes get their own wording because pest's
//! position alone would mislead: an unterminated string or comment (found by a small scan of
//! the text), a reserved word used as a name, a misspelt keyword.

use std::collections::BTreeSet;
use std::sync::Arc;

use pest::error::{ErrorVariant, InputLocation};
use weft_grammar::Rule;

use super::{ItemLines, RESERVED_WORDS};
use crate::ast::Span;
use crate::diagnostic::{Code, Diagnostic, SourceFile};

/// A syntax error, where pest stopped, and where parsing may resume.
pub(crate) struct SyntaxError {
    pub diagnostic: Diagnostic,
    /// Absolute offset of the failure (used to find the broken item).
    pub position: usize,
    /// Absolute offset of the next line where an item may start, if any.
    pub resume_at: Option<usize>,
}

/// Describes a pest error in the region of `file` that starts at `base`.
pub(crate) fn describe(
    file: &Arc<SourceFile>,
    base: usize,
    error: &pest::error::Error<Rule>,
    item_lines: &ItemLines,
) -> SyntaxError {
    let text = file.text.as_str();
    let region = &text[base..];
    let relative = match error.location {
        InputLocation::Pos(p) => p,
        InputLocation::Span((start, _)) => start,
    }
    .min(region.len());
    let position = base + relative;

    // Pest stops with a custom message only when its recursion guard trips: input nested
    // deeper than any program (thousands of brackets). Nothing after it is worth reading.
    if let ErrorVariant::CustomError { .. } = error.variant {
        let (_, span) = Found::at(text, position);
        let diagnostic = Diagnostic::error(
            Code::Syntax,
            file,
            span,
            "this is nested too deeply to be read",
        )
        .with_label("nesting limit reached here")
        .with_help("split the expression or the blocks into smaller pieces");
        return SyntaxError {
            diagnostic,
            position,
            resume_at: None,
        };
    }

    if let Some(unclosed) = find_unterminated(region, relative) {
        let starts_before = match unclosed.kind {
            Unclosed::Comment => unclosed.start <= relative,
            _ => unclosed.start < relative,
        };
        if starts_before {
            let start = base + unclosed.start;
            let diagnostic = unclosed.kind.diagnostic(file, start);
            // After a string that ends with its line, the next items still parse; after an
            // unclosed triple-quoted string or comment, the rest of the file is inside it.
            let resume_at = match unclosed.kind {
                Unclosed::String => item_lines.resume_at(base, start),
                Unclosed::TripleString | Unclosed::Comment => None,
            };
            return SyntaxError {
                diagnostic,
                position: start,
                resume_at,
            };
        }
    }

    if let Some(unclosed) = unclosed_before_next_item(file, base, position, item_lines) {
        return unclosed;
    }

    let mut expected = Expectations::from_error(error, relative);
    // Bracket scans start at the broken item: the brackets before it are balanced, and
    // scanning from the start of the file for every error would be quadratic.
    expected.scan_from = item_lines.at_or_before(base, position);
    let found = Found::at(text, position);
    let diagnostic = expected.diagnostic(file, text, position, &found);
    SyntaxError {
        diagnostic,
        position,
        resume_at: item_lines.resume_at(base, position),
    }
}

/// An item left open: the error is on (or after the start of) a line that begins a new item
/// at column 0, and a bracket of the item before it is still open there. Pest can only say
/// that the new item's keyword is unexpected; the mistake is the missing `}` above.
fn unclosed_before_next_item(
    file: &Arc<SourceFile>,
    base: usize,
    position: usize,
    item_lines: &ItemLines,
) -> Option<SyntaxError> {
    let text = file.text.as_str();
    let next_item = item_lines.at_or_before(base, position);
    if next_item <= base {
        return None;
    }
    let previous_item = item_lines.at_or_before(base, next_item - 1);
    let open = enclosing_open(text, previous_item, next_item)?;
    let bracket = open.bracket as char;
    let closer = match open.bracket {
        b'(' => ')',
        b'[' => ']',
        _ => '}',
    };
    let keyword_end = text[next_item..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '/'))
        .map_or(text.len(), |i| next_item + i);
    let diagnostic = Diagnostic::error(
        Code::Syntax,
        file,
        Span::new(open.position, open.position + 1),
        format!("this `{bracket}` is never closed"),
    )
    .with_label(format!("this `{bracket}` is not closed"))
    .with_related(
        Span::new(next_item, keyword_end),
        "the next item starts here",
    )
    .with_help(format!("add `{closer}` before the next item"));
    Some(SyntaxError {
        diagnostic,
        position: open.position,
        resume_at: Some(next_item),
    })
}

// ---------------------------------------------------------------------------------------------
// What was found
// ---------------------------------------------------------------------------------------------

/// The token at the error position, for "found …" and for the span of the label.
#[derive(Debug)]
pub(crate) enum Found {
    EndOfFile,
    EndOfLine,
    Word(String),
    Number(String),
    String,
    Symbol(String),
}

impl Found {
    fn at(text: &str, position: usize) -> (Found, Span) {
        let rest = &text[position..];
        let Some(first) = rest.chars().next() else {
            // Point right after the last token: a span past the final newline has no line to
            // be shown on.
            let end = text.trim_end().len();
            return (Found::EndOfFile, Span::new(end, end));
        };
        let word_len = |s: &str| {
            s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(s.len())
        };
        let (found, len) = match first {
            '\n' | '\r' => (Found::EndOfLine, 0),
            '"' => (Found::String, 1),
            c if c.is_ascii_digit() => {
                let len = word_len(rest);
                (Found::Number(rest[..len].to_string()), len)
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let len = word_len(rest);
                (Found::Word(rest[..len].to_string()), len)
            }
            _ => {
                let two = rest.get(..2).unwrap_or("");
                let len = if ["==", "!=", "<=", ">=", "+=", "->", "//", "/*", "{{", "}}"]
                    .contains(&two)
                {
                    2
                } else {
                    first.len_utf8()
                };
                (Found::Symbol(rest[..len].to_string()), len)
            }
        };
        (found, Span::new(position, position + len))
    }

    fn describe(&self) -> String {
        match self {
            Found::EndOfFile => "the end of the file".to_string(),
            Found::EndOfLine => "the end of the line".to_string(),
            Found::Word(w) if RESERVED_WORDS.contains(&w.as_str()) => {
                format!("the reserved word `{w}`")
            }
            Found::Word(w) => format!("`{w}`"),
            Found::Number(n) => format!("the number `{n}`"),
            Found::String => "a string".to_string(),
            Found::Symbol(s) => format!("`{s}`"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// What was expected
// ---------------------------------------------------------------------------------------------

/// What pest tried at the error position: rules and literal tokens.
#[derive(Debug, Default)]
pub(crate) struct Expectations {
    rules: BTreeSet<Rule>,
    tokens: BTreeSet<String>,
    /// Where scans for the enclosing bracket start.
    scan_from: usize,
}

/// What a rule pest tried stands for, in the user's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Wanted {
    Item,
    LetPattern,
    ForPattern,
    ItemName,
    Name,
    Type,
    Direction,
    Stream,
    Policy,
    Member,
    Statement,
    Expression,
    Parameter,
    Entry,
    ObjectEntry,
    RawString,
    ImportTarget,
    /// A punctuation or keyword token, by its text.
    Token,
    /// What may continue an expression (operators, calls, indexes, fields) or a construct
    /// (optional clauses): only mentioned when nothing else is expected.
    Continuation,
    /// Comments, whitespace: never worth mentioning.
    Noise,
}

fn wanted(rule: Rule) -> (Wanted, Option<&'static str>) {
    use Rule::*;
    let token = |t| (Wanted::Token, Some(t));
    match rule {
        file | doc_block | import_item | task_item | fn_item | workflow_item | kw_task | kw_fn
        | kw_import => (Wanted::Item, None),
        let_pattern => (Wanted::LetPattern, None),
        for_pattern => (Wanted::ForPattern, None),
        item_name => (Wanted::ItemName, None),
        ident | param_name | catch_name | entry_key | tuple_pattern | field_name => {
            (Wanted::Name, None)
        }
        type_expr | list_type | prim_type | return_tuple => (Wanted::Type, None),
        direction => (Wanted::Direction, None),
        stream_name => (Wanted::Stream, None),
        failure_policy | retry_policy | policy_word | kw_retry => (Wanted::Policy, None),
        directive
        | body
        | impl_block
        | kw_impl
        | constraint_directive
        | timeout_directive
        | priority_directive
        | on_failure_directive
        | distributed_directive
        | replicated_directive
        | workdir_directive
        | env_directive
        | fail_on_exit_directive
        | raises_on_exit_directive
        | container_directive
        | multinode_directive
        | binary_body
        | mpi_body
        | ompss_body
        | shell_body
        | script_body
        | workflow_body
        | kw_constraint
        | kw_timeout
        | kw_priority
        | kw_on_failure
        | kw_distributed
        | kw_replicated
        | kw_workdir
        | kw_env
        | kw_fail_on_exit
        | kw_raises_on_exit
        | kw_container
        | kw_multinode
        | kw_binary
        | kw_mpi
        | kw_ompss
        | kw_shell
        | kw_script => (Wanted::Member, None),
        let_stmt | if_stmt | for_stmt | while_stmt | return_stmt | group_stmt | barrier_stmt
        | try_stmt | raise_stmt | simple_stmt | kw_let | kw_if | kw_for | kw_while | kw_return
        | kw_group | kw_barrier | kw_try | kw_raise => (Wanted::Statement, None),
        expr | expr_nl | op_not | op_neg | postfix_expr | null_lit | bool_lit | number | string
        | plain_string | triple_string | list_lit | object_lit | paren_expr | var | interp => {
            (Wanted::Expression, None)
        }
        param => (Wanted::Parameter, None),
        entry => (Wanted::Entry, None),
        object_entry | object_key => (Wanted::ObjectEntry, None),
        raw_string | raw_plain | raw_triple => (Wanted::RawString, None),
        std_path | import_file | kw_std => (Wanted::ImportTarget, None),
        block | task_block | impl_members | entry_block => token("{"),
        param_list => token("("),
        expr_list => token("["),
        kw_in => token("in"),
        kw_catch => token("catch"),
        kw_workflow => token("workflow"),
        op_or | op_and | op_eq | op_ne | op_le | op_ge | op_lt | op_gt | op_add | op_sub
        | op_mul | op_div | op_rem | call_args | index_suffix | field_suffix | assign_op
        | else_if | else_block | kw_else | nowait_flag | import_alias | kw_as | return_type
        | stream_modifier | prefix_modifier | depth_modifier | kw_prefix | kw_depth
        | param_default | args_clause | workflow_args | kw_args | trailing_comma => {
            (Wanted::Continuation, None)
        }
        _ => (Wanted::Noise, None),
    }
}

/// Tokens that begin an expression, and tokens that continue one.
const EXPRESSION_STARTS: [&str; 6] = ["\"", "\"\"\"", "-", "[", "(", "{"];
const CONTINUATIONS: [&str; 18] = [
    "(", "[", ".", "==", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "=", "+=", "->", ",",
];
const NEWLINES: [&str; 3] = ["\n", "\r\n", "\r"];

const ITEM_KEYWORDS: [&str; 4] = ["task", "fn", "workflow", "import"];
const MEMBER_KEYWORDS: [&str; 19] = [
    "constraint",
    "timeout",
    "priority",
    "on_failure",
    "distributed",
    "replicated",
    "workdir",
    "env",
    "fail_on_exit",
    "raises_on_exit",
    "container",
    "multinode",
    "binary",
    "mpi",
    "ompss",
    "shell",
    "script",
    "workflow",
    "impl",
];
const STATEMENT_KEYWORDS: [&str; 9] = [
    "let", "if", "for", "while", "return", "group", "barrier", "try", "raise",
];
const TYPE_NAMES: [&str; 7] = ["int", "float", "bool", "str", "json", "file", "dir"];

/// The keyword closest to a misspelt word, if it is close enough to be a likely typo.
fn did_you_mean(word: &str, candidates: &[&'static str]) -> Option<&'static str> {
    candidates
        .iter()
        .map(|c| (strsim::damerau_levenshtein(word, c), *c))
        .filter(|(distance, c)| *distance <= 2 && *distance < c.len().max(2))
        .min()
        .map(|(_, c)| c)
}

/// Type names users bring from other languages.
fn type_synonym(word: &str) -> Option<&'static str> {
    Some(match word {
        "integer" | "i64" | "long" | "number" => "int",
        "double" | "f64" | "real" => "float",
        "boolean" => "bool",
        "string" | "String" | "text" => "str",
        "object" | "dict" | "map" | "any" => "json",
        "path" | "File" => "file",
        "directory" | "folder" => "dir",
        "list" | "array" => "[T]",
        _ => return None,
    })
}

/// The word right before `position` (skipping blanks), if any.
fn previous_word(text: &str, position: usize) -> &str {
    let before = text[..position].trim_end_matches([' ', '\t']);
    let start = before
        .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(0, |i| i + 1);
    &before[start..]
}

/// Whether only blanks come before `position` on its line.
fn starts_a_line(text: &str, position: usize) -> bool {
    let line_start = text[..position].rfind('\n').map_or(0, |i| i + 1);
    line_start > 0 && text[line_start..position].trim().is_empty()
}

/// The first word of the line holding `position`.
fn line_keyword(text: &str, position: usize) -> &str {
    let line_start = text[..position].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].trim_start();
    let end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(line.len());
    &line[..end]
}

/// One sentence: the message, the label at the found token and a help line.
struct Sentence {
    message: String,
    label: String,
    help: Option<String>,
}

impl Expectations {
    fn from_error(error: &pest::error::Error<Rule>, relative: usize) -> Expectations {
        let mut expected = Expectations::default();
        if let ErrorVariant::ParsingError { positives, .. } = &error.variant {
            expected.rules.extend(positives.iter().copied());
        }
        if let Some(attempts) = error.parse_attempts() {
            if attempts.max_position == relative {
                // Pest does not export its token type; its text is enough. Built-in rules and
                // character ranges (`BUILTIN_RULE`, `a..z`) say nothing a user needs.
                for token in attempts.expected_tokens() {
                    let token = token.to_string();
                    let is_range = token.chars().count() == 4 && token.contains("..");
                    if token != "BUILTIN_RULE" && !is_range {
                        expected.tokens.insert(token);
                    }
                }
            }
        }
        expected
    }

    /// The categories of what was expected, and the punctuation tokens among them.
    fn classify(&self) -> (BTreeSet<Wanted>, BTreeSet<String>, bool) {
        let mut categories = BTreeSet::new();
        let mut tokens = BTreeSet::new();
        for rule in &self.rules {
            match wanted(*rule) {
                (Wanted::Token, Some(token)) => {
                    tokens.insert(token.to_string());
                }
                (category, _) => {
                    categories.insert(category);
                }
            }
        }
        let mut end_of_line = false;
        for token in &self.tokens {
            if NEWLINES.contains(&token.as_str()) {
                end_of_line = true;
            } else if token.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                // Keywords and type names come with their rules; `_` is a name's first letter.
            } else if [" ", "\t", "//", "/*", "///"].contains(&token.as_str()) {
            } else {
                tokens.insert(token.clone());
            }
        }
        if categories.contains(&Wanted::Expression) || categories.contains(&Wanted::Statement) {
            tokens.retain(|t| !EXPRESSION_STARTS.contains(&t.as_str()));
        }
        if categories.contains(&Wanted::Type) {
            tokens.retain(|t| t != "[" && t != "(");
        }
        categories.remove(&Wanted::Noise);
        (categories, tokens, end_of_line)
    }

    fn sentence(&self, text: &str, position: usize, found: &Found) -> Sentence {
        let (categories, mut tokens, end_of_line) = self.classify();
        let has = |w: Wanted| categories.contains(&w);
        let found_text = found.describe();
        let found_word = match found {
            Found::Word(w) => Some(w.as_str()),
            _ => None,
        };
        let sentence = |message: String, label: &str, help: Option<String>| Sentence {
            message,
            label: label.to_string(),
            help,
        };

        // A reserved word where a name belongs.
        if let Some(word) = found_word.filter(|w| RESERVED_WORDS.contains(w)) {
            if has(Wanted::LetPattern)
                || has(Wanted::ForPattern)
                || has(Wanted::ItemName)
                || has(Wanted::Name)
            {
                return sentence(
                    format!("`{word}` is a reserved word and cannot be used as a name"),
                    "reserved word",
                    Some(format!("choose another name, such as `{word}_`")),
                );
            }
        }
        if has(Wanted::LetPattern) {
            return sentence(
                format!("expected a variable name after `let`, found {found_text}"),
                "expected a name here",
                Some("write `let NAME = VALUE`, or `let (a, b) = VALUE` to unpack a tuple".into()),
            );
        }
        if has(Wanted::ForPattern) {
            return sentence(
                format!("expected a loop variable after `for`, found {found_text}"),
                "expected a name here",
                Some(
                    "write `for NAME in LIST { … }`, or `for (i, x) in enumerate(LIST) { … }`"
                        .into(),
                ),
            );
        }
        if has(Wanted::ItemName) {
            let keyword = previous_word(text, position);
            let what = if keyword.is_empty() {
                "the keyword"
            } else {
                keyword
            };
            return sentence(
                format!("expected a name after `{what}`, found {found_text}"),
                "expected a name here",
                None,
            );
        }
        if has(Wanted::Type) {
            let what = if has(Wanted::Direction) {
                "a parameter type"
            } else if previous_word(text, position).is_empty()
                && text[..position].trim_end().ends_with("->")
            {
                "a return type"
            } else {
                "a type"
            };
            let help = match found_word.and_then(|w| type_synonym(w).or_else(|| did_you_mean(w, &TYPE_NAMES))) {
                Some(t) => format!("did you mean `{t}`? The types are `int`, `float`, `bool`, `str`, `json`, `file`, `dir` and lists such as `[file]`"),
                None => "the types are `int`, `float`, `bool`, `str`, `json`, `file`, `dir` and lists such as `[file]`".to_string(),
            };
            return sentence(
                format!("expected {what} such as `file` or `[str]`, found {found_text}"),
                "expected a type here",
                Some(help),
            );
        }
        if has(Wanted::Stream) {
            return sentence(
                format!("expected `stdin`, `stdout` or `stderr` after `as`, found {found_text}"),
                "expected a stream here",
                Some("`as stdin` reads the file as standard input; `as stdout`/`as stderr` write the output into it".into()),
            );
        }
        if has(Wanted::Policy) {
            return sentence(
                format!("expected a failure policy, found {found_text}"),
                "expected a policy here",
                Some(
                    "the policies are `retry(N)`, `cancel_successors`, `fail` and `ignore`".into(),
                ),
            );
        }
        if has(Wanted::RawString) {
            let keyword = line_keyword(text, position);
            let what = if keyword == "script" {
                "the code string after the interpreter"
            } else {
                "a command string after `shell`"
            };
            return sentence(
                format!("expected {what}, found {found_text}"),
                "expected a string here",
                Some(if keyword == "script" {
                    "write `script \"python3\" \"\"\"CODE\"\"\"`".into()
                } else {
                    "write `shell \"COMMAND\"`: a template where `{{name}}` inserts a parameter"
                        .into()
                }),
            );
        }
        if has(Wanted::ImportTarget) {
            return sentence(
                format!("expected a module or a file after `import`, found {found_text}"),
                "expected `std.NAME` or a path",
                Some("write `import std.fs` or `import \"lib/common.wf\"`".into()),
            );
        }
        if has(Wanted::Member) {
            let expected = if tokens.contains("}") {
                "a directive, a body or `}`"
            } else {
                "a directive or a body"
            };
            let help = match found_word.and_then(|w| did_you_mean(w, &MEMBER_KEYWORDS)) {
                Some(keyword) => format!("did you mean `{keyword}`?"),
                None => "a task holds directives (`constraint`, `timeout`, `on_failure`, `env`, …) and one body (`shell`, `script`, `binary`, `mpi`, `ompss`, `workflow`) or `impl` blocks".to_string(),
            };
            return sentence(
                format!("expected {expected}, found {found_text}"),
                "not a directive or a body",
                Some(help),
            );
        }
        if has(Wanted::Item) {
            let help = match found_word.and_then(|w| did_you_mean(w, &ITEM_KEYWORDS)) {
                Some(keyword) => format!("did you mean `{keyword}`?"),
                None if matches!(found, Found::Symbol(s) if s == "}") => {
                    "this `}` closes nothing: there may be one `}` too many above".to_string()
                }
                None => "a file holds `import`s, `task`s, `fn`s and `workflow`s".to_string(),
            };
            return sentence(
                format!("expected `task`, `fn`, `workflow` or `import`, found {found_text}"),
                "expected an item here",
                Some(help),
            );
        }
        if has(Wanted::Parameter) {
            return sentence(
                format!("expected a parameter, found {found_text}"),
                "expected `name: type` here",
                Some("write parameters as `name: type`, e.g. `(input: file, n: int = 1)`".into()),
            );
        }
        if has(Wanted::Entry) || has(Wanted::ObjectEntry) {
            let closing = if tokens.contains("}") { " or `}`" } else { "" };
            let (what, help) = if has(Wanted::Entry) {
                (
                    "`key: value`",
                    "write entries as `key: value`, separated by commas",
                )
            } else {
                (
                    "`\"key\": value`",
                    "write entries as `\"key\": value` or `key: value`, separated by commas",
                )
            };
            return sentence(
                format!("expected {what}{closing}, found {found_text}"),
                "expected an entry here",
                Some(help.into()),
            );
        }
        if has(Wanted::Statement) {
            let closing = if tokens.contains("}") { " or `}`" } else { "" };
            let help = match found_word {
                Some("else") => {
                    Some("`else` belongs right after the `}` of an `if` block".to_string())
                }
                Some("catch") => {
                    Some("`catch` belongs right after the `}` of a `try` block".to_string())
                }
                Some(w) => {
                    did_you_mean(w, &STATEMENT_KEYWORDS).map(|k| format!("did you mean `{k}`?"))
                }
                None => None,
            };
            return sentence(
                format!("expected a statement{closing}, found {found_text}"),
                "expected a statement here",
                help,
            );
        }
        if has(Wanted::Expression) {
            let closing: Vec<&str> = [")", "]", "}"]
                .into_iter()
                .filter(|t| tokens.contains(*t))
                .collect();
            let closing = match closing.as_slice() {
                [one] => format!(" or `{one}`"),
                _ => String::new(),
            };
            return sentence(
                format!("expected an expression{closing}, found {found_text}"),
                "expected a value here",
                None,
            );
        }
        if has(Wanted::Name) {
            let keyword = previous_word(text, position);
            let after = if text[..position].trim_end().ends_with('.') {
                " after `.`".to_string()
            } else if ["task", "fn", "workflow", "impl", "catch", "as"].contains(&keyword) {
                format!(" after `{keyword}`")
            } else {
                String::new()
            };
            return sentence(
                format!("expected a name{after}, found {found_text}"),
                "expected a name here",
                None,
            );
        }

        // Only punctuation is left: closing brackets, separators, the end of a statement.
        let continuation = has(Wanted::Continuation);
        if continuation || end_of_line {
            tokens.retain(|t| !CONTINUATIONS.contains(&t.as_str()) || t == ",");
        }
        let statement_end =
            end_of_line && (tokens.contains(";") || tokens.contains("}") || tokens.is_empty());
        if statement_end {
            tokens.remove(";");
            tokens.remove("}");
            let help = match found {
                Found::Symbol(s) if s == "=" => "to compare two values, write `==`".to_string(),
                _ => "write one statement a line, or separate statements with `;`".to_string(),
            };
            return sentence(
                format!("expected the end of the line, found {found_text}"),
                if continuation {
                    "expected an operator or a new line before this"
                } else {
                    "expected a new line before this"
                },
                Some(help),
            );
        }
        // Inside brackets newlines are free: "the end of the line" would only mislead.
        let in_brackets = tokens.contains(")") || tokens.contains("]");
        // Separators read best first: "`,` or `)`".
        let mut ordered: Vec<&String> = tokens.iter().collect();
        ordered.sort_by_key(|t| (t.as_str() != ",", t.as_str()));
        let mut listed: Vec<String> = ordered.iter().map(|t| format!("`{t}`")).collect();
        if end_of_line && !in_brackets {
            listed.push("the end of the line".to_string());
        }
        if listed.is_empty() {
            return sentence(
                format!("unexpected {found_text}"),
                "not expected here",
                None,
            );
        }
        let help = self.punctuation_help(text, position, &tokens, found);
        let purpose = match tokens
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["{"] => " to open the block",
            ["="] if line_keyword(text, position) == "let" => " after the variable name",
            ["("] if previous_word(text, position) == "retry" => " after `retry`",
            _ => "",
        };
        sentence(
            format!("expected {}{purpose}, found {found_text}", join_or(&listed)),
            &match found {
                Found::EndOfLine | Found::EndOfFile => {
                    format!("expected {} here", join_or(&listed))
                }
                _ => format!("expected {} before this", join_or(&listed)),
            },
            help,
        )
    }

    /// A help line for a missing punctuation token, from the construct around it.
    fn punctuation_help(
        &self,
        text: &str,
        position: usize,
        tokens: &BTreeSet<String>,
        found: &Found,
    ) -> Option<String> {
        let keyword = line_keyword(text, position);
        if let Found::Symbol(s) = found {
            if s == "=" && tokens.contains("{") {
                return Some("to compare two values, write `==`".into());
            }
        }
        if tokens.contains(":") {
            return Some(match enclosing_open(text, self.scan_from, position) {
                Some(Open { bracket: b'(', .. }) => {
                    "write parameters as `name: type`, e.g. `input: file`".into()
                }
                Some(Open { keyword: true, .. }) => {
                    "write entries as `key: value`, separated by commas".into()
                }
                _ => "write object entries as `\"key\": value`, separated by commas".into(),
            });
        }
        if tokens.contains("=") && keyword == "let" {
            return Some("write `let NAME = VALUE`".into());
        }
        if tokens.contains("in") && keyword == "for" {
            return Some("write `for NAME in LIST { … }`".into());
        }
        if tokens.contains("(") && previous_word(text, position) == "retry" {
            return Some("write `retry(N)`: N more attempts after the first".into());
        }
        let at_closer_or_end = match found {
            Found::EndOfFile => true,
            Found::Symbol(s) => [")", "]", "}"].contains(&s.as_str()),
            _ => false,
        };
        if tokens.contains(",") && starts_a_line(text, position) {
            let closer = match enclosing_open(text, self.scan_from, position) {
                Some(Open { bracket: b'(', .. }) => ")",
                Some(Open { bracket: b'[', .. }) => "]",
                _ => "}",
            };
            return Some(format!(
                "a `{closer}` may be missing at the end of the line above"
            ));
        }
        if tokens.contains(",") && !at_closer_or_end {
            return Some(match enclosing_open(text, self.scan_from, position) {
                Some(Open { bracket: b'(', .. }) => "separate arguments with commas".into(),
                _ => "separate elements with commas".into(),
            });
        }
        None
    }

    fn diagnostic(
        &self,
        file: &Arc<SourceFile>,
        text: &str,
        position: usize,
        found: &(Found, Span),
    ) -> Diagnostic {
        let (found, span) = found;
        let mut sentence = self.sentence(text, position, found);
        if let Found::EndOfFile = found {
            sentence.label = "the file ends here".to_string();
        }
        let mut diagnostic = Diagnostic::error(Code::Syntax, file, *span, sentence.message)
            .with_label(sentence.label);
        if let Some(help) = sentence.help {
            diagnostic = diagnostic.with_help(help);
        }
        // A missing closing bracket: show where the bracket was opened.
        let (_, tokens, _) = self.classify();
        let found_closer_or_end = match found {
            Found::EndOfFile => true,
            Found::Symbol(s) => [")", "]", "}"].contains(&s.as_str()),
            _ => false,
        } || starts_a_line(text, position);
        if let Some(open) =
            enclosing_open(text, self.scan_from, position).filter(|_| found_closer_or_end)
        {
            let closer = match open.bracket {
                b'(' => ")",
                b'[' => "]",
                _ => "}",
            };
            if tokens.contains(closer) {
                diagnostic = diagnostic.with_related(
                    Span::new(open.position, open.position + 1),
                    format!("this `{}` is not closed", open.bracket as char),
                );
            }
        }
        diagnostic
    }
}

/// "a", "a or b", "a, b or c".
fn join_or(phrases: &[String]) -> String {
    match phrases {
        [] => "something else".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// An opening bracket not closed before some position.
#[derive(Debug, PartialEq)]
struct Open {
    bracket: u8,
    position: usize,
    /// Whether a directive or body keyword (`constraint`, `env`, `mpi`, `args`) comes right
    /// before it: the braces of `key: value` entries.
    keyword: bool,
}

/// The innermost bracket still open at `position` (strings and comments skipped).
fn enclosing_open(text: &str, from: usize, position: usize) -> Option<Open> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        text,
        at: from,
        previous: [Seen::Other, Seen::Other],
        nesting: 0,
        limit: usize::MAX,
    };
    let mut stack: Vec<Open> = Vec::new();
    while scanner.at < position {
        let Some(c) = scanner.peek(0) else { break };
        match c {
            b'/' if scanner.peek(1) == Some(b'/') => {
                while scanner.peek(0).is_some_and(|c| c != b'\n') {
                    scanner.at += 1;
                }
            }
            b'/' if scanner.peek(1) == Some(b'*') => scanner.block_comment().ok()?,
            b'"' => {
                scanner.string().ok()?;
                scanner.saw(Seen::String);
            }
            b'(' | b'[' | b'{' => {
                let keyword = matches!(&scanner.previous[1], Seen::Word(w) if ["constraint", "env", "args"].contains(&w.as_str()))
                    || matches!(&scanner.previous[0], Seen::Word(w) if w == "mpi");
                stack.push(Open {
                    bracket: c,
                    position: scanner.at,
                    keyword,
                });
                scanner.at += 1;
                scanner.saw(Seen::Other);
            }
            b')' | b']' | b'}' => {
                stack.pop();
                scanner.at += 1;
                scanner.saw(Seen::Other);
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                let start = scanner.at;
                while scanner
                    .peek(0)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    scanner.at += 1;
                }
                let word = text[start..scanner.at].to_string();
                scanner.saw(Seen::Word(word));
            }
            b' ' | b'\t' | b'\r' | b'\n' => scanner.at += 1,
            _ => {
                scanner.at += 1;
                scanner.saw(Seen::Other);
            }
        }
    }
    stack.pop()
}

// ---------------------------------------------------------------------------------------------
// Unterminated strings and comments
// ---------------------------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Unclosed {
    String,
    TripleString,
    Comment,
}

impl Unclosed {
    fn diagnostic(self, file: &Arc<SourceFile>, start: usize) -> Diagnostic {
        match self {
            Unclosed::String => Diagnostic::error(
                Code::Syntax,
                file,
                Span::new(start, start + 1),
                "unterminated string",
            )
            .with_label("this string is not closed before the end of the line")
            .with_help("close it with `\"` on the same line, or use `\"\"\"…\"\"\"` for a string that spans lines"),
            Unclosed::TripleString => Diagnostic::error(
                Code::Syntax,
                file,
                Span::new(start, start + 3),
                "unterminated triple-quoted string",
            )
            .with_label("this string is never closed")
            .with_help("close it with `\"\"\"`"),
            Unclosed::Comment => Diagnostic::error(
                Code::Syntax,
                file,
                Span::new(start, start + 2),
                "unterminated block comment",
            )
            .with_label("this comment is never closed")
            .with_help("close it with `*/` (block comments nest: each `/*` needs its own `*/`)"),
        }
    }
}

#[derive(Debug, PartialEq)]
pub(crate) struct Unterminated {
    pub kind: Unclosed,
    /// Offset of the opening quote or `/*`.
    pub start: usize,
}

/// The last two tokens a scan has seen, to tell raw bodies (after `shell`, and the second
/// string after `script`) from strings of the language.
#[derive(Clone, Debug, PartialEq)]
enum Seen {
    Word(String),
    String,
    Other,
}

/// A scan of the text that knows just enough (comments, strings, interpolation, raw bodies)
/// to find a string or comment that is never closed.
struct Scanner<'t> {
    bytes: &'t [u8],
    text: &'t str,
    at: usize,
    previous: [Seen; 2],
    /// Strings inside interpolations inside strings…: the scan recurses on them.
    nesting: usize,
    /// The scan ends at the first token of code (outside strings) past this offset.
    limit: usize,
}

/// Past this many strings nested in interpolations, the scan gives up (it finds nothing
/// rather than exhausting the stack).
const MAX_SCAN_NESTING: usize = 64;

/// How a run of code inside `{…}` of a string ended.
enum CodeEnd {
    Closed,
    /// The line or the file ended first.
    Open,
}

/// The first string or comment of `text` that is never closed.
/// Start offsets of the lines that begin an item (`super::starts_item`) outside strings and
/// comments. After a triple-quoted string or a comment that is never closed, every item line
/// counts: the user most likely forgot to close it.
pub(crate) fn item_line_starts(text: &str) -> Vec<usize> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        text,
        at: 0,
        previous: [Seen::Other, Seen::Other],
        nesting: 0,
        limit: usize::MAX,
    };
    let mut starts = Vec::new();
    let at_line_start = |at: usize| at == 0 || text.as_bytes()[at - 1] == b'\n';
    while let Some(c) = scanner.peek(0) {
        let at = scanner.at;
        if at_line_start(at) && super::starts_item(&text[at..]) {
            starts.push(at);
        }
        let unclosed = match c {
            b'/' if scanner.peek(1) == Some(b'/') => {
                while scanner.peek(0).is_some_and(|c| c != b'\n') {
                    scanner.at += 1;
                }
                None
            }
            b'/' if scanner.peek(1) == Some(b'*') => scanner.block_comment().err(),
            b'"' => {
                let result = scanner.string();
                scanner.saw(Seen::String);
                match result {
                    // A string that ends with its line: the scan goes on at the line's end.
                    Err(u) if u.kind == Unclosed::String => {
                        while scanner.peek(0).is_some_and(|c| c != b'\n') {
                            scanner.at += 1;
                        }
                        None
                    }
                    other => other.err(),
                }
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                while scanner
                    .peek(0)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                {
                    scanner.at += 1;
                }
                let word = text[at..scanner.at].to_string();
                scanner.saw(Seen::Word(word));
                None
            }
            b' ' | b'\t' | b'\r' | b'\n' => {
                scanner.at += 1;
                None
            }
            _ => {
                scanner.at += 1;
                scanner.saw(Seen::Other);
                None
            }
        };
        if let Some(unclosed) = unclosed {
            let rest = text[unclosed.start..]
                .match_indices('\n')
                .map(|(i, _)| unclosed.start + i + 1);
            starts.extend(
                rest.filter(|&start| start < text.len() && super::starts_item(&text[start..])),
            );
            break;
        }
    }
    starts
}

/// Only strings and comments that start before `limit` are looked at.
pub(crate) fn find_unterminated(text: &str, limit: usize) -> Option<Unterminated> {
    let mut scanner = Scanner {
        bytes: text.as_bytes(),
        text,
        at: 0,
        previous: [Seen::Other, Seen::Other],
        nesting: 0,
        limit,
    };
    scanner.code(false, false).err()
}

impl Scanner<'_> {
    fn peek(&self, offset: usize) -> Option<u8> {
        self.bytes.get(self.at + offset).copied()
    }

    /// Byte-wise: the scan steps over bytes, so `at` may sit inside a multi-byte character.
    fn starts_with(&self, s: &str) -> bool {
        self.bytes
            .get(self.at..)
            .is_some_and(|rest| rest.starts_with(s.as_bytes()))
    }

    fn saw(&mut self, seen: Seen) {
        self.previous[0] = std::mem::replace(&mut self.previous[1], seen);
    }

    fn next_is_raw(&self) -> bool {
        self.previous[1] == Seen::Word("shell".into())
            || self.previous[0] == Seen::Word("script".into())
    }

    /// Code up to the end of the text, or (`in_braces`) up to the `}` that closes an
    /// interpolation; `single_line` interpolations end at the end of their line.
    fn code(&mut self, in_braces: bool, single_line: bool) -> Result<CodeEnd, Unterminated> {
        let mut depth = 0usize;
        while let Some(c) = self.peek(0) {
            if !in_braces && self.at > self.limit {
                break;
            }
            match c {
                b'/' if self.peek(1) == Some(b'/') => {
                    while self.peek(0).is_some_and(|c| c != b'\n') {
                        self.at += 1;
                    }
                }
                b'/' if self.peek(1) == Some(b'*') => self.block_comment()?,
                b'"' => {
                    self.string()?;
                    self.saw(Seen::String);
                }
                b'{' => {
                    depth += 1;
                    self.at += 1;
                    self.saw(Seen::Other);
                }
                b'}' => {
                    self.at += 1;
                    if in_braces && depth == 0 {
                        return Ok(CodeEnd::Closed);
                    }
                    depth = depth.saturating_sub(1);
                    self.saw(Seen::Other);
                }
                b'\n' if in_braces && single_line => return Ok(CodeEnd::Open),
                c if c.is_ascii_alphanumeric() || c == b'_' => {
                    let start = self.at;
                    while self
                        .peek(0)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_')
                    {
                        self.at += 1;
                    }
                    let word = self.text[start..self.at].to_string();
                    self.saw(Seen::Word(word));
                }
                b' ' | b'\t' | b'\r' | b'\n' => self.at += 1,
                _ => {
                    self.at += 1;
                    self.saw(Seen::Other);
                }
            }
        }
        Ok(if in_braces {
            CodeEnd::Open
        } else {
            CodeEnd::Closed
        })
    }

    fn block_comment(&mut self) -> Result<(), Unterminated> {
        let start = self.at;
        let mut depth = 0usize;
        while self.at < self.bytes.len() {
            if self.starts_with("/*") {
                depth += 1;
                self.at += 2;
            } else if self.starts_with("*/") {
                depth -= 1;
                self.at += 2;
                if depth == 0 {
                    return Ok(());
                }
            } else {
                self.at += 1;
            }
        }
        Err(Unterminated {
            kind: Unclosed::Comment,
            start,
        })
    }

    fn string(&mut self) -> Result<(), Unterminated> {
        if self.nesting >= MAX_SCAN_NESTING {
            self.at = self.bytes.len();
            return Ok(());
        }
        self.nesting += 1;
        let result = self.string_contents();
        self.nesting -= 1;
        result
    }

    fn string_contents(&mut self) -> Result<(), Unterminated> {
        let start = self.at;
        let raw = self.next_is_raw();
        if self.starts_with("\"\"\"") {
            self.at += 3;
            let unclosed = Unterminated {
                kind: Unclosed::TripleString,
                start,
            };
            while self.at < self.bytes.len() {
                if self.starts_with("\"\"\"") {
                    self.at += 3;
                    return Ok(());
                }
                match self.peek(0) {
                    Some(b'\\') if !raw => self.at += 2,
                    Some(b'{') if !raw && self.peek(1) == Some(b'{') => self.at += 2,
                    Some(b'{') if !raw => {
                        self.at += 1;
                        if let CodeEnd::Open = self.code(true, false)? {
                            return Err(unclosed);
                        }
                    }
                    _ => self.at += 1,
                }
            }
            return Err(unclosed);
        }
        self.at += 1;
        let unclosed = Unterminated {
            kind: Unclosed::String,
            start,
        };
        loop {
            match self.peek(0) {
                None | Some(b'\n') => return Err(unclosed),
                Some(b'"') => {
                    self.at += 1;
                    return Ok(());
                }
                Some(b'\\') => {
                    // An escape is two characters, unless the line ends after the backslash.
                    self.at += if self.peek(1) == Some(b'\n') { 1 } else { 2 };
                }
                Some(b'{') if !raw && self.peek(1) == Some(b'{') => self.at += 2,
                Some(b'{') if !raw => {
                    self.at += 1;
                    if let CodeEnd::Open = self.code(true, true)? {
                        return Err(unclosed);
                    }
                }
                _ => self.at += 1,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unterminated(text: &str) -> Option<(Unclosed, usize)> {
        find_unterminated(text, text.len()).map(|u| (u.kind, u.start))
    }

    #[test]
    fn closed_things_are_fine() {
        assert_eq!(unterminated("let x = \"a {b} {{c}} \\\" \" // \"\n"), None);
        assert_eq!(unterminated("/* a /* b */ c */ \"x\""), None);
        assert_eq!(unterminated("shell \"awk '{print $1}'\"\n"), None);
        assert_eq!(unterminated("script \"python3\" \"\"\"\n{\n\"\"\"\n"), None);
        assert_eq!(unterminated("x = \"{f(\"}\")}\""), None);
    }

    #[test]
    fn item_lines_skip_strings_and_comments() {
        let text = "task t() {\n    script \"p\" \"\"\"\nimport json\n\"\"\"\n}\n/*\ntask x\n*/\nfn f() {}\n";
        let fn_line = text.find("fn f").unwrap();
        assert_eq!(item_line_starts(text), vec![0, fn_line]);
        // After a string that is never closed, every item line counts.
        let text = "task t() {\n    shell \"\"\"\n}\nworkflow main() {}\n";
        let workflow_line = text.find("workflow").unwrap();
        assert_eq!(item_line_starts(text), vec![0, workflow_line]);
    }

    #[test]
    fn finds_the_unclosed_one() {
        assert_eq!(
            unterminated("a\nprint(\"abc)\nb"),
            Some((Unclosed::String, 8))
        );
        assert_eq!(unterminated("x /* never"), Some((Unclosed::Comment, 2)));
        assert_eq!(
            unterminated("s \"\"\"\nabc\n"),
            Some((Unclosed::TripleString, 2))
        );
        assert_eq!(unterminated("\"a {b\n\""), Some((Unclosed::String, 0)));
    }
}
