//! Rendering `shell` bodies (§4.4): the template is Handlebars, rendered with the task's
//! arguments, and every value it inserts is shell-quoted the way Python's `shlex.quote` does.
//!
//! Handlebars alone does not fit shell code, so the template is rewritten before Handlebars
//! sees it:
//!
//! - every value expression `{{x}}` becomes `{{{weft-quote x}}}` and every `{{{x}}}` becomes
//!   `{{{weft-verbatim x}}}`; a helper call `{{join xs "+"}}` becomes
//!   `{{{weft-quote (join xs "+")}}}`. The two helpers know each parameter's declared type,
//!   so a collection inserts its elements one word each while a `json` list inserts its JSON
//!   text as one word — which the plain escape function, seeing only a string, could not do.
//! - a `}` right after the `}}` (or `}}}`) that closes an expression is literal text
//!   (`awk '{print {{k}}}'`); it is emitted through a helper so that Handlebars never sees
//!   `}}}}`.
//! - block expressions (`{{#each xs}}`, `{{else}}`, `{{/each}}`), comments and partials are
//!   left to Handlebars as written; `\{{` stays Handlebars' escape for a literal `{{`.
//!
//! Shell syntax with single braces (`${VAR}`, `$(cmd)`, `awk '{print $1}'`) contains no
//! `{{` and passes through untouched. The registry runs in strict mode, so a name the task
//! does not have is an error, and its escape function is shell quoting rather than HTML
//! escaping (every value goes through the helpers, so it is only a safety net).
//!
//! `null` inserts the empty string: quoted (`{{x}}`) that is the word `''`, verbatim
//! (`{{{x}}}`) it is nothing at all.

use std::collections::HashMap;

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonRender, Output, PathAndJson,
    RenderContext, RenderError, RenderErrorReason, ScopedJson,
};
use indexmap::IndexMap;
use serde_json::Value as Json;
use weft_compiler::ast::{Param, Type};
use weft_compiler::value::{format_float, Value};

/// The helper every `{{value}}` expression is rewritten into.
const QUOTE_HELPER: &str = "weft-quote";
/// The helper every `{{{value}}}` expression is rewritten into.
const VERBATIM_HELPER: &str = "weft-verbatim";
/// The helper that writes one literal `}` following an expression.
const BRACE_HELPER: &str = "weft-close-brace";

/// A shell template that could not be rendered: it does not parse, or it uses a name the
/// task does not have.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("task `{task}`: shell template: {detail}")]
pub struct TemplateError {
    pub task: String,
    pub detail: String,
}

/// Quotes `word` for a POSIX shell exactly as Python's `shlex.quote` does: a non-empty word
/// made only of ASCII letters, digits and `@%+=:,./_-` is returned as it is, the empty word
/// becomes `''`, anything else is single-quoted with each `'` written `'"'"'`.
pub fn shell_quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if word.is_empty() {
        "''".to_string()
    } else if word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r#"'"'"'"#))
    }
}

/// Renders the `shell` template of task `task` with the task's arguments.
///
/// `params` gives each argument's declared type (which decides how a list is inserted);
/// `values` holds every parameter's value, futures already resolved.
pub fn render_shell_template(
    task: &str,
    template: &str,
    params: &[Param],
    values: &IndexMap<String, Value>,
) -> Result<String, TemplateError> {
    let types: HashMap<String, Type> = params
        .iter()
        .map(|p| (p.name.name.clone(), p.ty.ty.clone()))
        .collect();
    let context: serde_json::Map<String, Json> = values
        .iter()
        .map(|(name, value)| (name.clone(), value.to_json()))
        .collect();

    let mut registry = Handlebars::new();
    registry.set_strict_mode(true);
    registry.register_escape_fn(shell_quote);
    registry.register_helper(
        QUOTE_HELPER,
        Box::new(ValueHelper {
            types: types.clone(),
            quoted: true,
        }),
    );
    registry.register_helper(
        VERBATIM_HELPER,
        Box::new(ValueHelper {
            types,
            quoted: false,
        }),
    );
    registry.register_helper(BRACE_HELPER, Box::new(close_brace));
    registry.register_helper("basename", Box::new(PathHelper(PathPart::Basename)));
    registry.register_helper("dirname", Box::new(PathHelper(PathPart::Dirname)));
    registry.register_helper("stem", Box::new(PathHelper(PathPart::Stem)));
    registry.register_helper("ext", Box::new(PathHelper(PathPart::Ext)));
    registry.register_helper("join", Box::new(JoinHelper));

    let rewritten = rewrite_template(template);
    registry
        .render_template(&rewritten, &Json::Object(context))
        .map_err(|error| TemplateError {
            task: task.to_string(),
            detail: describe_render_error(&error),
        })
}

/// A user-facing description of a Handlebars error. The positions Handlebars reports are in
/// the rewritten template: lines are the user's (rewriting never adds or removes a line
/// break), columns are not, so only the line is given.
fn describe_render_error(error: &RenderError) -> String {
    let what = match error.reason() {
        RenderErrorReason::MissingVariable(Some(name)) => format!("unknown name `{name}`"),
        RenderErrorReason::MissingVariable(None) => "unknown name".to_string(),
        RenderErrorReason::HelperNotFound(name) => format!("unknown helper `{name}`"),
        RenderErrorReason::TemplateError(parse) => {
            let line = parse
                .pos()
                .map(|(line, _)| format!(" at line {line}"))
                .unwrap_or_default();
            return format!("cannot parse the template{line}: {}", parse.reason());
        }
        RenderErrorReason::Other(message) => message.clone(),
        other => other.to_string(),
    };
    match error.line_no {
        Some(line) => format!("{what} (line {line})"),
        None => what,
    }
}

// ---------------------------------------------------------------------------------------------
// Rewriting the template
// ---------------------------------------------------------------------------------------------

/// Rewrites value expressions into calls of the quoting helpers (see the module docs). Text
/// that is not an expression is copied byte for byte.
fn rewrite_template(template: &str) -> String {
    let bytes = template.as_bytes();
    let mut out = String::with_capacity(template.len() + 32);
    // Start of the text not yet copied to `out`.
    let mut copied = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(b"\\{{") {
            // Handlebars' escape for a literal `{{`: leave it, and what follows, to Handlebars.
            i += 3;
            continue;
        }
        if !bytes[i..].starts_with(b"{{") {
            i += 1;
            continue;
        }
        let Some(expression) = Expression::parse(template, i) else {
            // An unterminated `{{`: Handlebars reports it with its position.
            break;
        };
        out.push_str(&template[copied..i]);
        out.push_str(&expression.rewritten());
        i = expression.end;
        if expression.is_value() {
            // Braces right after the expression's closing braces are literal text.
            while bytes.get(i) == Some(&b'}') {
                out.push_str(&format!("{{{{{BRACE_HELPER}}}}}"));
                i += 1;
            }
        }
        copied = i;
    }
    out.push_str(&template[copied..]);
    out
}

#[derive(Debug, PartialEq)]
enum ExpressionKind {
    /// `{{x}}`: a value, inserted quoted.
    Quoted,
    /// `{{{x}}}`: a value, inserted verbatim.
    Verbatim,
    /// Anything Handlebars handles as written: blocks, `else`, comments, partials, raw blocks.
    AsWritten,
}

/// One `{{…}}` of the template.
struct Expression<'t> {
    kind: ExpressionKind,
    /// The whole expression as written, braces included.
    text: &'t str,
    /// The text between the braces.
    inner: &'t str,
    /// The byte offset just after the closing braces.
    end: usize,
}

impl<'t> Expression<'t> {
    /// The expression that opens at byte `start` (where the template has `{{`), or `None`
    /// when it is never closed.
    fn parse(template: &'t str, start: usize) -> Option<Expression<'t>> {
        let rest = &template[start..];
        let as_written = |close: &str, from: usize| {
            let end = start + from + rest[from..].find(close)? + close.len();
            Some(Expression {
                kind: ExpressionKind::AsWritten,
                text: &template[start..end],
                inner: "",
                end,
            })
        };
        if let Some(after_open) = rest.strip_prefix("{{{{") {
            // A raw block `{{{{raw}}}} … {{{{/raw}}}}`: its content is text, copied as is.
            let opening_end = 4 + after_open.find("}}}}")? + 4;
            let closing = opening_end + rest[opening_end..].find("{{{{/")?;
            return as_written("}}}}", closing + 5);
        }
        if rest.starts_with("{{!--") {
            return as_written("--}}", 5);
        }
        if rest.starts_with("{{!") {
            return as_written("}}", 3);
        }
        let (open, close) = if rest.starts_with("{{{") {
            ("{{{", "}}}")
        } else {
            ("{{", "}}")
        };
        let close_at = open.len() + find_closing(&rest[open.len()..], close)?;
        let inner = &rest[open.len()..close_at];
        let end = start + close_at + close.len();
        let text = &template[start..end];
        let body = inner.trim_matches(|c: char| c == '~' || c.is_whitespace());
        let kind = if body.is_empty()
            || body.starts_with(['#', '/', '^', '>', '&', '*', '!'])
            || body == "else"
            || body.starts_with("else ")
        {
            ExpressionKind::AsWritten
        } else if open == "{{{" {
            ExpressionKind::Verbatim
        } else {
            ExpressionKind::Quoted
        };
        Some(Expression {
            kind,
            text,
            inner,
            end,
        })
    }

    fn is_value(&self) -> bool {
        self.kind != ExpressionKind::AsWritten
    }

    /// The expression as Handlebars should see it.
    fn rewritten(&self) -> String {
        let helper = match self.kind {
            ExpressionKind::Quoted => QUOTE_HELPER,
            ExpressionKind::Verbatim => VERBATIM_HELPER,
            ExpressionKind::AsWritten => return self.text.to_string(),
        };
        // Keep whitespace control (`{{~x~}}`) where it was written.
        let mut body = self.inner.trim();
        let strip_before = if let Some(rest) = body.strip_prefix('~') {
            body = rest;
            "~"
        } else {
            ""
        };
        let strip_after = if let Some(rest) = body.strip_suffix('~') {
            body = rest;
            "~"
        } else {
            ""
        };
        let body = body.trim();
        let argument = if is_helper_call(body) {
            format!("({body})")
        } else {
            body.to_string()
        };
        format!("{{{{{{{strip_before}{helper} {argument}{strip_after}}}}}}}")
    }
}

/// Whether an expression's body is a helper call with arguments (`join xs "+"`) rather than a
/// single value (`xs`, `"lit"`, `(sub expr)`).
fn is_helper_call(body: &str) -> bool {
    !body.starts_with(['"', '\'', '(']) && body.contains(char::is_whitespace)
}

/// The offset in `text` of the first `close` that is outside a string literal (`"…"` or
/// `'…'`, so `{{join xs "}}"}}` closes at the last braces).
fn find_closing(text: &str, close: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    for (offset, c) in text.char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if text[offset..].starts_with(close) => return Some(offset),
            None => {}
        }
    }
    None
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Inserts one value: quoted word by word, or verbatim.
struct ValueHelper {
    /// Each parameter's declared type, by name.
    types: HashMap<String, Type>,
    quoted: bool,
}

impl ValueHelper {
    /// The declared type of the value at `path` in the context (`["xs", "0"]` is an element of
    /// parameter `xs`), when it is known.
    fn type_at(&self, path: &[String]) -> Option<&Type> {
        let (name, rest) = path.split_first()?;
        let mut ty = self.types.get(name)?;
        for _ in rest {
            ty = match ty {
                Type::List(inner) => inner,
                Type::Json => ty,
                _ => return None,
            };
        }
        Some(ty)
    }
}

impl HelperDef for ValueHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let param = present_param(h, 0)?;
        let ty = param.context_path().and_then(|path| self.type_at(path));
        let mut words = Vec::new();
        collect_words(param.value(), ty, &mut words);
        let text = if self.quoted {
            words
                .iter()
                .map(|w| shell_quote(w))
                .collect::<Vec<_>>()
                .join(" ")
        } else {
            words.join(" ")
        };
        out.write(&text)?;
        Ok(())
    }
}

/// Parameter `index` of a helper call, or an error naming what is missing: the name the
/// template used when it is not one of the task's, or the parameter itself when the call
/// has too few.
fn present_param<'a, 'rc>(
    h: &'a Helper<'rc>,
    index: usize,
) -> Result<&'a PathAndJson<'rc>, RenderError> {
    let param = h.param(index).ok_or_else(|| {
        RenderErrorReason::Other(format!(
            "`{}` needs {} argument{}",
            display_helper_name(h.name()),
            index + 1,
            if index == 0 { "" } else { "s" }
        ))
    })?;
    if param.is_value_missing() {
        return Err(RenderErrorReason::MissingVariable(param.relative_path().cloned()).into());
    }
    Ok(param)
}

/// The helper's name as the user wrote it: the value helpers stand for a plain `{{…}}`.
fn display_helper_name(name: &str) -> &str {
    match name {
        QUOTE_HELPER => "{{…}}",
        VERBATIM_HELPER => "{{{…}}}",
        other => other,
    }
}

/// The shell words a value contributes. A collection contributes one word per element
/// (nested collections are flattened), except a value declared `json`, which is one word of
/// compact JSON text when it is a list or an object. A value whose type is unknown (a
/// helper's result, a block parameter) is treated as a collection when it is a list.
fn collect_words(value: &Json, ty: Option<&Type>, words: &mut Vec<String>) {
    match value {
        Json::Array(items) if ty != Some(&Type::Json) => {
            let element_ty = match ty {
                Some(Type::List(inner)) => Some(inner.as_ref()),
                _ => None,
            };
            for item in items {
                collect_words(item, element_ty, words);
            }
        }
        other => words.push(scalar_text(other)),
    }
}

/// The text of one value: strings as they are, numbers as Python prints them, `true` /
/// `false`, null as the empty string, lists and objects as compact JSON.
fn scalar_text(value: &Json) -> String {
    match value {
        Json::Null => String::new(),
        Json::String(s) => s.clone(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => match n.as_u64() {
                Some(u) => u.to_string(),
                None => format_float(n.as_f64().unwrap_or(f64::NAN)),
            },
        },
        Json::Array(_) | Json::Object(_) => Value::from_json(value).to_string(),
    }
}

/// Writes one literal `}` (see `rewrite_template`).
fn close_brace(
    _: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write("}")?;
    Ok(())
}

#[derive(Clone, Copy)]
enum PathPart {
    Basename,
    Dirname,
    Stem,
    Ext,
}

/// `basename`, `dirname`, `stem`, `ext` of a path, or of each path of a list.
struct PathHelper(PathPart);

impl HelperDef for PathHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let param = present_param(h, 0)?;
        let result = map_paths(param.value(), &|path| match self.0 {
            PathPart::Basename => basename(path).to_string(),
            PathPart::Dirname => dirname(path).to_string(),
            PathPart::Stem => split_extension(basename(path)).0.to_string(),
            PathPart::Ext => split_extension(basename(path)).1.to_string(),
        })
        .ok_or_else(|| {
            RenderErrorReason::Other(format!(
                "`{}` needs a path or a list of paths, not `{}`",
                h.name(),
                param.value().render()
            ))
        })?;
        Ok(ScopedJson::Derived(result))
    }
}

/// Applies `f` to a path, or to every path of a (nested) list; `None` if a value is not a
/// string.
fn map_paths(value: &Json, f: &dyn Fn(&str) -> String) -> Option<Json> {
    match value {
        Json::String(path) => Some(Json::String(f(path))),
        Json::Array(items) => items
            .iter()
            .map(|item| map_paths(item, f))
            .collect::<Option<Vec<_>>>()
            .map(Json::Array),
        _ => None,
    }
}

/// The last component of a path, as Python's `os.path.basename` (`a/b.txt` → `b.txt`).
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// All but the last component, as Python's `os.path.dirname` (`a/b.txt` → `a`, `b.txt` →
/// ``, `/x` → `/`).
pub fn dirname(path: &str) -> &str {
    match path.rfind('/') {
        None => "",
        Some(slash) => {
            let head = &path[..=slash];
            let trimmed = head.trim_end_matches('/');
            if trimmed.is_empty() {
                head
            } else {
                trimmed
            }
        }
    }
}

/// Splits a file name at its last extension, as Python's `os.path.splitext` (leading dots
/// do not start an extension): `a.tar.gz` → (`a.tar`, `gz`), `.bashrc` → (`.bashrc`, ``).
pub fn split_extension(name: &str) -> (&str, &str) {
    let leading_dots = name.len() - name.trim_start_matches('.').len();
    match name[leading_dots..].rfind('.') {
        Some(dot) => {
            let dot = leading_dots + dot;
            (&name[..dot], &name[dot + 1..])
        }
        None => (name, ""),
    }
}

/// `join LIST SEP`: the elements' text joined by SEP, as one value (so one quoted word).
struct JoinHelper;

impl HelperDef for JoinHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        let list = present_param(h, 0)?;
        let separator = present_param(h, 1)?;
        let mut words = Vec::new();
        collect_words(list.value(), None, &mut words);
        let joined = words.join(&scalar_text(separator.value()));
        Ok(ScopedJson::Derived(Json::String(joined)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_follows_python_shlex_quote() {
        // Expected values are what Python 3's shlex.quote returns.
        let cases = [
            ("", "''"),
            ("abc", "abc"),
            ("a-b_c.d/e:f,g=h+i%j@k", "a-b_c.d/e:f,g=h+i%j@k"),
            ("3", "3"),
            ("-1.5", "-1.5"),
            ("a b", "'a b'"),
            ("it's", r#"'it'"'"'s'"#),
            ("'", r#"''"'"''"#),
            ("$HOME", "'$HOME'"),
            ("a\nb", "'a\nb'"),
            ("*", "'*'"),
            ("~", "'~'"),
            ("é", "'é'"),
            ("a\"b", "'a\"b'"),
        ];
        for (word, expected) in cases {
            assert_eq!(shell_quote(word), expected, "quoting {word:?}");
        }
    }

    #[test]
    fn value_expressions_are_rewritten_and_blocks_kept() {
        assert_eq!(rewrite_template("echo {{x}}"), "echo {{{weft-quote x}}}");
        assert_eq!(
            rewrite_template("echo {{{ x }}}"),
            "echo {{{weft-verbatim x}}}"
        );
        assert_eq!(
            rewrite_template(r#"{{join xs "+"}}"#),
            r#"{{{weft-quote (join xs "+")}}}"#
        );
        assert_eq!(
            rewrite_template("{{#each xs}}{{this}}{{else}}none{{/each}}"),
            "{{#each xs}}{{{weft-quote this}}}{{else}}none{{/each}}"
        );
        assert_eq!(rewrite_template("a {{~x~}} b"), "a {{{~weft-quote x~}}} b");
        assert_eq!(rewrite_template("{{! a }} b"), "{{! a }} b");
        assert_eq!(
            rewrite_template("{{{{raw}}}} {{x}} {{{{/raw}}}} {{y}}"),
            "{{{{raw}}}} {{x}} {{{{/raw}}}} {{{weft-quote y}}}"
        );
        assert_eq!(rewrite_template("{{!-- }} --}} b"), "{{!-- }} --}} b");
        assert_eq!(
            rewrite_template("awk '{print {{k}}}'"),
            "awk '{print {{{weft-quote k}}}{{weft-close-brace}}'"
        );
    }

    #[test]
    fn shell_brace_syntax_is_left_alone() {
        let text = "echo ${HOME} $(date) | awk '{print $1}' && f() { :; }";
        assert_eq!(rewrite_template(text), text);
    }

    #[test]
    fn string_literals_may_hold_closing_braces() {
        assert_eq!(find_closing(r#"join xs "}}"}}"#, "}}"), Some(12));
        assert_eq!(find_closing("x", "}}"), None);
    }

    #[test]
    fn paths_split_as_python_does() {
        assert_eq!(basename("a/b.txt"), "b.txt");
        assert_eq!(basename("b.txt"), "b.txt");
        assert_eq!(basename("a/"), "");
        assert_eq!(dirname("a/b/c.txt"), "a/b");
        assert_eq!(dirname("c.txt"), "");
        assert_eq!(dirname("/c.txt"), "/");
        assert_eq!(dirname("a//c"), "a");
        assert_eq!(split_extension("a.tar.gz"), ("a.tar", "gz"));
        assert_eq!(split_extension("a"), ("a", ""));
        assert_eq!(split_extension(".bashrc"), (".bashrc", ""));
        assert_eq!(split_extension("..x.y"), ("..x", "y"));
    }

    use weft_compiler::ast::{Direction, Ident, Span, TypeExpr};

    fn param(name: &str, ty: Type) -> Param {
        Param {
            doc: None,
            name: Ident {
                name: name.to_string(),
                span: Span::default(),
            },
            direction: Direction::In,
            direction_span: None,
            ty: TypeExpr {
                ty,
                span: Span::default(),
            },
            modifiers: Vec::new(),
            default: None,
            span: Span::default(),
        }
    }

    fn list(ty: Type) -> Type {
        Type::List(Box::new(ty))
    }

    fn strs(items: &[&str]) -> Value {
        Value::list(items.iter().map(|s| Value::str(*s)).collect())
    }

    /// Renders `template` for a task with the given (name, type, value) parameters.
    fn render(template: &str, args: &[(&str, Type, Value)]) -> Result<String, TemplateError> {
        let params: Vec<Param> = args.iter().map(|(n, t, _)| param(n, t.clone())).collect();
        let values = args
            .iter()
            .map(|(n, _, v)| (n.to_string(), v.clone()))
            .collect();
        render_shell_template("t", template, &params, &values)
    }

    #[test]
    fn values_are_quoted_by_type() {
        let mut object = IndexMap::new();
        object.insert(
            "k".to_string(),
            Value::list(vec![Value::Int(1), Value::Float(2.0)]),
        );
        let args = [
            ("s", Type::Str, Value::str("a b")),
            ("n", Type::Int, Value::Int(3)),
            ("x", Type::Float, Value::Float(1e-7)),
            ("b", Type::Bool, Value::Bool(true)),
            ("names", list(Type::Str), strs(&["a", "b c", ""])),
            (
                "nested",
                list(list(Type::Str)),
                Value::list(vec![strs(&["x"]), strs(&["y z"])]),
            ),
            ("obj", Type::Json, Value::object(object)),
            (
                "jl",
                Type::Json,
                Value::list(vec![Value::Int(1), Value::str("two")]),
            ),
            ("js", Type::Json, Value::str("plain")),
            ("nothing", Type::Json, Value::Null),
        ];
        let rendered = render(
            "{{s}}|{{n}}|{{x}}|{{b}}|{{names}}|{{nested}}|{{obj}}|{{jl}}|{{js}}|{{nothing}}x",
            &args,
        )
        .unwrap();
        assert_eq!(
            rendered,
            r#"'a b'|3|1e-07|true|a 'b c' ''|x 'y z'|'{"k":[1,2.0]}'|'[1,"two"]'|plain|''x"#
        );
        let verbatim = render("{{{s}}}|{{{names}}}|{{{nothing}}}|{{{obj}}}", &args).unwrap();
        // The list's empty element leaves a trailing space; null inserts nothing.
        assert_eq!(verbatim, r#"a b|a b c ||{"k":[1,2.0]}"#);
    }

    #[test]
    fn braces_after_an_expression_are_text() {
        let args = [("k", Type::Int, Value::Int(3))];
        assert_eq!(
            render("awk '{print {{k}}}'", &args).unwrap(),
            "awk '{print 3}'"
        );
        assert_eq!(render("{ {{{k}}}}}", &args).unwrap(), "{ 3}}");
        assert_eq!(
            render("echo '{\"a\": {\"b\": {{k}}}}'", &args).unwrap(),
            "echo '{\"a\": {\"b\": 3}}'"
        );
        assert_eq!(render("echo '}}' {{k}}", &args).unwrap(), "echo '}}' 3");
        assert_eq!(
            render("{{{{raw}}}}{{k}}{{{{/raw}}}} {{k}}", &args).unwrap(),
            "{{k}} 3"
        );
        let shell = "echo ${HOME} $(date) | awk '{print $1}' {{k}}";
        assert_eq!(
            render(shell, &args).unwrap(),
            "echo ${HOME} $(date) | awk '{print $1}' 3"
        );
    }

    #[test]
    fn helpers_quote_their_results() {
        let args = [
            ("f", Type::File, Value::str("dir one/a.tar.gz")),
            ("names", list(Type::Str), strs(&["a", "b c"])),
            ("files", list(Type::File), strs(&["x/1.txt", "y/2.csv"])),
        ];
        let rendered = render(
            "{{basename f}} {{dirname f}} {{stem f}} {{ext f}} {{join names \"+\"}} {{basename files}} {{{join names \", \"}}}",
            &args,
        )
        .unwrap();
        assert_eq!(
            rendered,
            "a.tar.gz 'dir one' a.tar gz 'a+b c' 1.txt 2.csv a, b c"
        );
        assert_eq!(render("{{ext names}}x", &args).unwrap(), "'' ''x");
    }

    #[test]
    fn blocks_iterate_with_quoting() {
        let args = [("names", list(Type::Str), strs(&["a", "b c"]))];
        let rendered = render("{{#each names}}echo {{this}} {{@index}}\n{{/each}}", &args).unwrap();
        assert_eq!(rendered, "echo a 0\necho 'b c' 1\n");
    }

    #[test]
    fn unknown_names_are_errors_naming_the_task() {
        let args = [("k", Type::Int, Value::Int(3))];
        let error = render("echo {{kk}}", &args).unwrap_err();
        assert_eq!(error.task, "t");
        assert!(error.detail.contains("unknown name `kk`"), "{error}");
        assert!(
            error.to_string().starts_with("task `t`: shell template:"),
            "{error}"
        );
        let error = render("echo {{basename nope}}", &args).unwrap_err();
        assert!(error.detail.contains("`nope`"), "{error}");
        let error = render("echo {{#each nope}}x{{/each}}", &args).unwrap_err();
        assert!(error.detail.contains("nope"), "{error}");
        let error = render("echo {{k", &args).unwrap_err();
        assert!(error.detail.contains("cannot parse"), "{error}");
    }
}
