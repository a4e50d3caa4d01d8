//! `weft man [COMMAND] [--dir DIR]`: manual pages generated from the command line's shape
//! (clap_mangen), with the sections a man page reader expects and clap does not know:
//! examples (the same table as `--help` shows), exit status, environment, files.

use std::path::Path;

use clap::CommandFactory;
use clap_mangen::Man;

use crate::cli::{examples, Cli, ManArgs};
use crate::commands::completions::print_bytes;
use crate::exit;

pub fn run(args: ManArgs) -> i32 {
    // `help` is clap's and has no page. Building gives subcommands their display names
    // (`weft-run`), used as page titles.
    let mut weft = Cli::command().disable_help_subcommand(true);
    weft.build();
    if let Some(dir) = &args.dir {
        return write_pages(&weft, dir);
    }
    let page = match &args.command {
        None => render(&weft, "weft"),
        Some(name) => match weft.find_subcommand(name) {
            Some(sub) => render(sub, name),
            None => {
                let names: Vec<&str> = subcommands(&weft).map(|c| c.get_name()).collect();
                eprintln!(
                    "error: weft has no command `{name}`; its commands are {}",
                    names.join(", ")
                );
                return exit::USAGE;
            }
        },
    };
    match page {
        Ok(page) => print_bytes(&page),
        Err(e) => {
            eprintln!("error: cannot render the manual page: {e}");
            exit::USAGE
        }
    }
}

/// The subcommands that get a page.
fn subcommands(weft: &clap::Command) -> impl Iterator<Item = &clap::Command> {
    weft.get_subcommands().filter(|c| !c.is_hide_set())
}

/// `weft.1` and `weft-COMMAND.1` for every subcommand, into `dir`.
fn write_pages(weft: &clap::Command, dir: &Path) -> i32 {
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        return exit::USAGE;
    }
    let mut pages = vec![(weft, "weft")];
    pages.extend(subcommands(weft).map(|c| (c, c.get_name())));
    for (command, name) in pages {
        let file_name = if name == "weft" {
            "weft.1".to_string()
        } else {
            format!("weft-{name}.1")
        };
        let path = dir.join(&file_name);
        let written = render(command, name).and_then(|page| std::fs::write(&path, page));
        if let Err(e) = written {
            eprintln!("error: cannot write {}: {e}", path.display());
            return exit::USAGE;
        }
        eprintln!("wrote {}", path.display());
    }
    exit::SUCCESS
}

/// One page: clap_mangen's sections, then weft's own.
fn render(command: &clap::Command, name: &str) -> std::io::Result<Vec<u8>> {
    let top = name == "weft";
    // Every page names weft's version, not the subcommand's (`run 0.1.0`).
    let man = Man::new(command.clone())
        .manual("weft manual")
        .source(format!("weft {}", env!("CARGO_PKG_VERSION")));
    let mut page = Vec::new();
    man.render_title(&mut page)?;
    man.render_name_section(&mut page)?;
    man.render_synopsis_section(&mut page)?;
    man.render_description_section(&mut page)?;
    if command.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut page)?;
    }
    if command.has_subcommands() {
        man.render_subcommands_section(&mut page)?;
    }
    page.extend(examples_section(name).as_bytes());
    if top || name == "run" {
        page.extend(EXIT_STATUS.as_bytes());
    }
    if top {
        page.extend(ENVIRONMENT_AND_FILES.as_bytes());
    }
    page.extend(see_also(command, top).as_bytes());
    if top {
        man.render_version_section(&mut page)?;
    }
    Ok(without_repeated_preamble(page))
}

/// clap_mangen starts every section it renders on its own with the same two lines that
/// define the `Aq` string; a page needs them once.
fn without_repeated_preamble(page: Vec<u8>) -> Vec<u8> {
    const PREAMBLE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";
    let text = String::from_utf8_lossy(&page);
    let Some(first) = text.find(PREAMBLE) else {
        return page;
    };
    let keep = first + PREAMBLE.len();
    let mut out = text[..keep].to_string();
    out.push_str(&text[keep..].replace(PREAMBLE, ""));
    out.into_bytes()
}

fn examples_section(name: &str) -> String {
    let examples = examples(name);
    if examples.is_empty() {
        return String::new();
    }
    let mut out = String::from(".SH EXAMPLES\n");
    for example in examples {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            roff_text(example.command),
            roff_text(example.does)
        ));
    }
    out
}

const EXIT_STATUS: &str = r#".SH "EXIT STATUS"
.TP
\fB0\fR
success
.TP
\fB1\fR
a task failed (or \fBweft fmt \-\-check\fR found files to reformat)
.TP
\fB2\fR
the program or the command line is wrong; nothing ran
.TP
\fB3\fR
an uncaught workflow exception
.TP
\fB130\fR
interrupted (Ctrl\-C or SIGTERM)
"#;

const ENVIRONMENT_AND_FILES: &str = r#".SH ENVIRONMENT
.TP
\fBNO_COLOR\fR
when set (to anything), weft writes no colour; colour is also off when the output is not a terminal
.SH FILES
.TP
\fBweft.yaml\fR
the configuration beside a workflow file: the executor and the resources tasks may reserve (\fBweft config schema\fR prints its JSON Schema)
.TP
\fB.weft/\fR
in the directory where \fBweft run\fR starts: file versions and each task attempt's \fBstdout.log\fR and \fBstderr.log\fR; \fBweft run\fR never deletes them
"#;

fn see_also(command: &clap::Command, top: bool) -> String {
    let pages: Vec<String> = if top {
        subcommands(command)
            .map(|c| format!("\\fBweft\\-{}\\fR(1)", roff_text(c.get_name())))
            .collect()
    } else {
        vec!["\\fBweft\\fR(1)".to_string()]
    };
    format!(".SH \"SEE ALSO\"\n{}\n", pages.join(", "))
}

/// Text safe in a roff line: backslashes and hyphens escaped (so a copied command line keeps
/// its ASCII `-`), and a leading `.` or `'` kept from being read as a request.
fn roff_text(text: &str) -> String {
    let escaped = text.replace('\\', "\\e").replace('-', "\\-");
    if escaped.starts_with('.') || escaped.starts_with('\'') {
        format!("\\&{escaped}")
    } else {
        escaped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roff_text_escapes_what_roff_would_interpret() {
        assert_eq!(roff_text("weft run -j 2"), "weft run \\-j 2");
        assert_eq!(roff_text("a\\b"), "a\\eb");
        assert_eq!(roff_text(".weft/"), "\\&.weft/");
        assert_eq!(roff_text("'quoted'"), "\\&'quoted'");
    }
}
