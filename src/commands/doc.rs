//! `weft doc [TARGET] [NAME]`: a module's tasks, fns and workflows with their signatures and
//! doc comments.
//!
//! TARGET is a standard module (`std.fs`, or `fs`), a workflow file, or `builtins`; without
//! it, the standard modules are listed. Only the file itself is read (its imports are not
//! loaded): documentation needs the syntax tree, not a checked program.

use std::io::IsTerminal;
use std::path::Path;

use weft_compiler::ast::{
    DirectiveKind, Item, Modifier, Module, Param, ReturnType, TaskBody, TypeExpr,
};
use weft_compiler::builtins::{Builtin, BUILTINS};
use weft_compiler::diagnostic::SourceFile;
use weft_compiler::parser::parse_module;
use weft_compiler::program::STD_DIR;

use crate::cli::DocArgs;
use crate::exit;
use crate::load::report;

/// Signatures longer than this are written one parameter a line.
const SIGNATURE_WIDTH: usize = 88;

pub fn run(args: DocArgs) -> i32 {
    let style = Style::for_stdout();
    let text = match args.target.as_deref() {
        None => Ok(std_index(&style)),
        Some("builtins") => builtins(args.name.as_deref(), &style),
        Some(target) => match load_target(target) {
            Ok(loaded) => loaded.render(args.name.as_deref(), &style),
            Err(code) => return code,
        },
    };
    match text {
        Ok(text) => {
            print!("{text}");
            exit::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
    }
}

/// A parsed module and how to name it.
struct Documented {
    /// `std.fs`, or the file's path.
    title: String,
    /// How a workflow gets at it (`import std.fs`); files are imported by a path relative to
    /// the importing file, which this command cannot know.
    import_hint: Option<String>,
    /// `std.fs: ` for standard modules: their header comment starts with it, and the
    /// summary does not repeat the title.
    header_prefix: Option<String>,
    text: String,
    module: Module,
}

/// Parses what TARGET names; on failure the error is already reported and the exit status
/// is returned.
fn load_target(target: &str) -> Result<Documented, i32> {
    let as_path = Path::new(target);
    let std_name = target.strip_prefix("std.").unwrap_or(target);
    let (title, import_hint, header_prefix, path, text) =
        if target.ends_with(".wf") || as_path.is_file() {
            let text = match std::fs::read_to_string(as_path) {
                Ok(text) => text,
                Err(e) => {
                    eprintln!("error: cannot read {target}: {e}");
                    return Err(exit::USAGE);
                }
            };
            (target.to_string(), None, None, target.to_string(), text)
        } else if let Some(source) = weft_stdlib::module_source(std_name) {
            let title = format!("std.{std_name}");
            (
                title.clone(),
                Some(format!("import {title}")),
                Some(format!("{title}: ")),
                format!("{STD_DIR}/{std_name}.wf"),
                source.to_string(),
            )
        } else {
            eprintln!(
                "error: `{target}` is neither a .wf file nor a standard module\n\
                 help: the standard modules are {}; `weft doc builtins` lists the builtins",
                std_module_list()
            );
            return Err(exit::USAGE);
        };
    let file = SourceFile::new(&path, text.clone());
    match parse_module(&file) {
        Ok(module) => Ok(Documented {
            title,
            import_hint,
            header_prefix,
            text,
            module,
        }),
        Err(diagnostics) => {
            report(&diagnostics);
            Err(exit::USAGE)
        }
    }
}

impl Documented {
    fn render(&self, only: Option<&str>, style: &Style) -> Result<String, String> {
        let items: Vec<&Item> = self
            .module
            .items
            .iter()
            .filter(|item| !matches!(item, Item::Import(_)))
            .filter(|item| only.is_none_or(|name| item.defined_name().name == name))
            .collect();
        if let Some(name) = only {
            if items.is_empty() {
                return Err(format!(
                    "{} has no task, fn or workflow `{name}`; it has {}",
                    self.title,
                    self.item_names().join(", ")
                ));
            }
        }
        let mut out = String::new();
        if only.is_none() {
            out.push_str(&style.strong(&self.title));
            if let Some(hint) = &self.import_hint {
                out.push_str(&format!("  ({hint})"));
            }
            out.push('\n');
            let header = self.header();
            if !header.is_empty() {
                out.push('\n');
                out.push_str(&header);
                out.push('\n');
            }
            if items.is_empty() {
                out.push_str("\n(no tasks, fns or workflows)\n");
            }
        }
        for (index, item) in items.iter().enumerate() {
            if only.is_none() || index > 0 {
                out.push('\n');
            }
            out.push_str(&self.item(item, style));
        }
        Ok(out)
    }

    fn item_names(&self) -> Vec<String> {
        self.module
            .items
            .iter()
            .filter(|item| !matches!(item, Item::Import(_)))
            .map(|item| format!("`{}`", item.defined_name().name))
            .collect()
    }

    /// The `//` comments before the first item: a module's own description, by convention.
    fn header(&self) -> String {
        let first_item = self
            .module
            .items
            .first()
            .map_or(self.text.len(), |item| item.span().start);
        let lines: Vec<String> = self
            .module
            .comments
            .iter()
            .take_while(|comment| comment.span.end <= first_item)
            .flat_map(|comment| comment_lines(&comment.text))
            .collect();
        let mut header = lines.join("\n");
        if let Some(prefix) = &self.header_prefix {
            if let Some(rest) = header.strip_prefix(prefix.as_str()) {
                header = rest.to_string();
            }
        }
        header.trim().to_string()
    }

    fn source(&self, span: weft_compiler::ast::Span) -> &str {
        self.text.get(span.start..span.end).unwrap_or("")
    }

    /// One item: its signature, its doc comment, its parameters' docs, what it reserves.
    fn item(&self, item: &Item, style: &Style) -> String {
        let (keyword, name, params, returns, doc) = match item {
            Item::Task(t) => (
                "task",
                &t.name.name,
                &t.params,
                t.returns.as_ref().map(return_text),
                &t.doc,
            ),
            Item::Fn(f) => (
                "fn",
                &f.name.name,
                &f.params,
                f.returns.as_ref().map(|t| t.ty.to_string()),
                &f.doc,
            ),
            Item::Workflow(w) => ("workflow", &w.name.name, &w.params, None, &w.doc),
            Item::Import(_) => return String::new(),
        };
        let mut out = self.signature(keyword, name, params, returns.as_deref(), style);
        let indent = "    ";
        match doc {
            Some(doc) => {
                for line in doc.lines() {
                    out.push_str(&indented(indent, line));
                }
            }
            None => out.push_str(&indented(indent, "(undocumented)")),
        }
        let documented: Vec<&Param> = params.iter().filter(|p| p.doc.is_some()).collect();
        if !documented.is_empty() {
            out.push('\n');
            let width = documented.iter().map(|p| p.name.name.len()).max();
            for param in documented {
                let doc = param.doc.as_deref().unwrap_or("");
                let pad = width.unwrap_or(0) - param.name.name.len();
                let mut lines = doc.lines();
                let first = lines.next().unwrap_or("");
                out.push_str(&format!(
                    "{indent}{}{}  {first}\n",
                    param.name.name,
                    " ".repeat(pad)
                ));
                for line in lines {
                    let hang = " ".repeat(width.unwrap_or(0) + 2);
                    out.push_str(&indented(&format!("{indent}{hang}"), line));
                }
            }
        }
        if let Item::Task(task) = item {
            out.push_str(&self.task_notes(task, indent));
        }
        out
    }

    /// `keyword name(params) -> returns`, on one line when it fits.
    fn signature(
        &self,
        keyword: &str,
        name: &str,
        params: &[Param],
        returns: Option<&str>,
        style: &Style,
    ) -> String {
        let params: Vec<String> = params.iter().map(|p| self.param(p)).collect();
        let returns = returns.map(|r| format!(" -> {r}")).unwrap_or_default();
        let head = style.strong(&format!("{keyword} {name}"));
        let one_line = format!("{keyword} {name}({}){returns}", params.join(", "));
        if one_line.chars().count() <= SIGNATURE_WIDTH {
            format!("{head}({}){returns}\n", params.join(", "))
        } else {
            let mut out = format!("{head}(\n");
            for param in &params {
                out.push_str(&format!("    {param},\n"));
            }
            out.push_str(&format!("){returns}\n"));
            out
        }
    }

    /// `name: [DIRECTION] TYPE [MODIFIER …] [= DEFAULT]`, the default as written.
    fn param(&self, param: &Param) -> String {
        let mut out = format!("{}: ", param.name.name);
        let direction = param.direction.keyword();
        if !direction.is_empty() {
            out.push_str(direction);
            out.push(' ');
        }
        out.push_str(&param.ty.ty.to_string());
        for modifier in &param.modifiers {
            match modifier {
                Modifier::Stream(stream, _) => out.push_str(&format!(" as {}", stream.keyword())),
                Modifier::Prefix(_, span) | Modifier::Depth(_, span) => {
                    out.push(' ');
                    out.push_str(self.source(*span));
                }
            }
        }
        if let Some(default) = &param.default {
            out.push_str(" = ");
            out.push_str(self.source(default.span));
        }
        out
    }

    /// What a task asks of the machine that runs it, and its implementations: what a caller
    /// needs to know besides the signature.
    fn task_notes(&self, task: &weft_compiler::ast::Task, indent: &str) -> String {
        let mut notes = Vec::new();
        for directive in &task.directives {
            if let DirectiveKind::Constraint(_) | DirectiveKind::Timeout(_) = directive.kind {
                notes.push(self.source(directive.span).to_string());
            }
        }
        if let TaskBody::Impls(impls) = &task.body {
            let names: Vec<&str> = impls.iter().map(|i| i.name.name.as_str()).collect();
            notes.push(format!(
                "implementations (the first one a resource can run is picked): {}",
                names.join(", ")
            ));
        }
        if notes.is_empty() {
            return String::new();
        }
        let mut out = String::from("\n");
        for note in notes {
            out.push_str(&indented(indent, &note));
        }
        out
    }
}

fn return_text(returns: &ReturnType) -> String {
    match returns {
        ReturnType::Single(t) => t.ty.to_string(),
        ReturnType::Tuple(types, _) => {
            let types: Vec<String> = types.iter().map(|t: &TypeExpr| t.ty.to_string()).collect();
            format!("({})", types.join(", "))
        }
    }
}

fn indented(indent: &str, line: &str) -> String {
    if line.is_empty() {
        "\n".to_string()
    } else {
        format!("{indent}{line}\n")
    }
}

/// The text of a `//` or `/* */` comment, markers removed, one string a line.
fn comment_lines(comment: &str) -> Vec<String> {
    if let Some(line) = comment.strip_prefix("//") {
        return vec![line
            .strip_prefix(' ')
            .unwrap_or(line)
            .trim_end()
            .to_string()];
    }
    let inner = comment
        .strip_prefix("/*")
        .and_then(|c| c.strip_suffix("*/"))
        .unwrap_or(comment);
    inner
        .lines()
        .map(|line| line.trim().trim_start_matches('*').trim().to_string())
        .collect()
}

fn std_module_list() -> String {
    weft_stdlib::module_names()
        .map(|name| format!("std.{name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `weft doc`: every standard module, its summary and the names it defines.
fn std_index(style: &Style) -> String {
    let mut out = String::from(
        "The standard library: modules written in weft, shipped inside the binary. Use one\n\
         with `import std.NAME` and call its tasks as `NAME.task(…)`.\n\n",
    );
    let width = weft_stdlib::module_names()
        .map(|n| n.len() + 4)
        .max()
        .unwrap_or(0);
    for name in weft_stdlib::module_names() {
        let title = format!("std.{name}");
        let pad = " ".repeat(width - title.len());
        let Some(documented) = load_target(&title).ok() else {
            // A standard module that does not parse is a bug caught by the stdlib's tests;
            // the listing still names it.
            out.push_str(&format!("  {}\n", style.strong(&title)));
            continue;
        };
        let hang = " ".repeat(width + 4);
        let summary = wrap(
            &first_sentence(&documented.header()),
            SIGNATURE_WIDTH - hang.len(),
        );
        for (index, line) in summary.iter().enumerate() {
            if index == 0 {
                out.push_str(&format!("  {}{pad}  {line}\n", style.strong(&title)));
            } else {
                out.push_str(&format!("{hang}{line}\n"));
            }
        }
        let names: Vec<String> = documented
            .module
            .items
            .iter()
            .filter(|item| !matches!(item, Item::Import(_)))
            .map(|item| item.defined_name().name.clone())
            .collect();
        out.push_str(&format!("  {}  {}\n", " ".repeat(width), names.join(", ")));
    }
    out.push_str(
        "\n`weft doc std.NAME` shows a module's tasks with their docs; `weft doc builtins` lists\n\
         the functions every workflow has (print, glob, read_json, …).\n",
    );
    out
}

/// The text up to the first full stop that ends a sentence, on one line.
fn first_sentence(text: &str) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.find(". ") {
        Some(end) => flat[..=end].to_string(),
        None => flat,
    }
}

/// Words of `text` in lines of at most `width` characters (a longer word gets a line of its
/// own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// `weft doc builtins [NAME]`.
fn builtins(only: Option<&str>, style: &Style) -> Result<String, String> {
    let shown: Vec<&Builtin> = BUILTINS
        .iter()
        .filter(|b| only.is_none_or(|name| b.name == name))
        .collect();
    if shown.is_empty() {
        let names: Vec<&str> = BUILTINS.iter().map(|b| b.name).collect();
        return Err(format!(
            "there is no builtin `{}`; the builtins are {}",
            only.unwrap_or_default(),
            names.join(", ")
        ));
    }
    let mut out = String::new();
    if only.is_none() {
        out.push_str(&format!(
            "{}\n\nFunctions every workflow and fn can call, run by the workflow body itself \
             (not tasks).\n",
            style.strong("builtins")
        ));
    }
    for (index, builtin) in shown.iter().enumerate() {
        if only.is_none() || index > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{}\n", style.strong(builtin.signature)));
        out.push_str(&indented("    ", builtin.doc));
    }
    Ok(out)
}

/// Bold on a terminal; nothing when NO_COLOR is set or standard output is a file or a pipe.
struct Style {
    colour: bool,
}

impl Style {
    fn for_stdout() -> Style {
        Style {
            colour: std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal(),
        }
    }

    fn strong(&self, text: &str) -> String {
        if self.colour {
            format!("\x1b[1m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_lose_their_markers() {
        assert_eq!(comment_lines("// a b "), ["a b"]);
        assert_eq!(comment_lines("//x"), ["x"]);
        assert_eq!(comment_lines("/* one\n * two */"), ["one", "two"]);
    }

    #[test]
    fn wrapping_keeps_lines_within_the_width() {
        assert_eq!(wrap("aa bb cc dd", 5), ["aa bb", "cc dd"]);
        assert_eq!(wrap("a verylongword b", 4), ["a", "verylongword", "b"]);
        assert!(wrap("  ", 10).is_empty());
    }

    #[test]
    fn the_first_sentence_ends_at_a_full_stop_followed_by_a_space() {
        assert_eq!(
            first_sentence("Files and\n  folders. More text."),
            "Files and folders."
        );
        assert_eq!(first_sentence("No stop at all"), "No stop at all");
        assert_eq!(first_sentence("Ends here."), "Ends here.");
    }
}
