//! Where the cursor is, read from the text before it: inside which brackets, and what opened
//! them. Completion needs this while the user types, when the text rarely parses.
//!
//! A small scanner skips comments and strings and keeps a stack of open brackets, each
//! classified by what precedes it (`constraint {` is a constraint block, `if x {` a block,
//! `= {` an object, …) and by the first word of the statement it is in.

/// What an open bracket holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The body of a task: directives, bodies, `impl` blocks.
    TaskBlock,
    /// An `impl NAME { … }` block: directives and bodies.
    ImplBlock,
    /// A workflow or fn body, or a block of a statement in one.
    Block,
    /// `constraint { … }`
    Constraint,
    /// `mpi "PROGRAM" { … }`
    MpiOptions,
    /// `env { … }` or `workflow "f.wf" args { … }`: keys are free names.
    Entries,
    /// The parameter list of a task, fn or workflow.
    Params,
    /// The arguments of a call to `callee` (`count`, `fs.copy`), or a parenthesis.
    Call { callee: Option<String> },
    /// `[…]` or an object literal.
    Collection,
}

impl Frame {
    /// Frames whose members are separated by newlines.
    fn is_statement_list(&self) -> bool {
        matches!(self, Frame::TaskBlock | Frame::ImplBlock | Frame::Block)
    }
}

/// The context at the cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    /// Open brackets, outermost first.
    pub frames: Vec<Frame>,
    /// Whether the cursor starts a statement, a task member or an item (nothing but
    /// whitespace before it since the last separator).
    pub at_start: bool,
    /// The last significant character before the cursor (not a word character).
    pub previous_punct: Option<char>,
    /// Whether the cursor is inside a string or a comment.
    pub in_string_or_comment: bool,
}

impl Context {
    pub fn innermost(&self) -> Option<&Frame> {
        self.frames.last()
    }
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Word(String),
    Punct(char),
    /// A string, number or other operand.
    Operand,
}

struct Level {
    frame: Option<Frame>,
    /// The first word of the current statement or item.
    first_word: Option<String>,
    at_start: bool,
}

/// Reads `text` (everything before the cursor) and returns the context at its end.
pub fn context(text: &str) -> Context {
    let chars: Vec<char> = text.chars().collect();
    let mut levels = vec![Level {
        frame: None,
        first_word: None,
        at_start: true,
    }];
    let mut last: Option<Token> = None;
    // The words just before the current position, for callees (`fs . copy`).
    let mut recent: Vec<Token> = Vec::new();
    let mut i = 0;
    let mut in_string_or_comment = false;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        // Comments.
        if c == '/' && next == Some('/') {
            match chars[i..].iter().position(|&c| c == '\n') {
                Some(n) => i += n,
                None => {
                    in_string_or_comment = true;
                    break;
                }
            }
            continue;
        }
        if c == '/' && next == Some('*') {
            let mut depth = 0;
            let mut j = i;
            while j < chars.len() {
                if chars[j] == '/' && chars.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 2;
                } else if chars[j] == '*' && chars.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            if depth > 0 {
                in_string_or_comment = true;
                break;
            }
            i = j;
            continue;
        }
        // Strings: skipped whole (an interpolation is not completed into).
        if c == '"' {
            let triple = chars.get(i + 1) == Some(&'"') && chars.get(i + 2) == Some(&'"');
            let end = if triple {
                find_triple_end(&chars, i + 3)
            } else {
                find_plain_end(&chars, i + 1)
            };
            match end {
                Some(end) => i = end,
                None => {
                    in_string_or_comment = true;
                    break;
                }
            }
            note(&mut levels, None);
            last = Some(Token::Operand);
            recent.clear();
            continue;
        }
        if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            note(&mut levels, Some(&word));
            recent.push(Token::Word(word.clone()));
            last = Some(Token::Word(word));
            continue;
        }
        if c.is_ascii_digit() {
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || chars[i] == '_' || chars[i] == '.')
            {
                i += 1;
            }
            note(&mut levels, None);
            last = Some(Token::Operand);
            recent.clear();
            continue;
        }
        match c {
            '\n' | ';' => {
                let level = levels.last_mut().expect("the top level is never popped");
                let separates = match &level.frame {
                    None => c == '\n',
                    Some(frame) => frame.is_statement_list(),
                };
                // An operator at the end of a line continues the statement on the next one.
                let continues = matches!(&last, Some(Token::Punct(p)) if "+-*/%=<>,(".contains(*p))
                    || matches!(&last, Some(Token::Word(w)) if w == "and" || w == "or" || w == "not");
                if separates && !(c == '\n' && continues) {
                    level.first_word = None;
                    level.at_start = true;
                    last = None;
                }
                recent.clear();
            }
            ' ' | '\t' | '\r' => {}
            '(' => {
                let frame = if levels.len() == 1 {
                    Frame::Params
                } else {
                    Frame::Call {
                        callee: callee_of(&recent),
                    }
                };
                note(&mut levels, None);
                levels.push(Level {
                    frame: Some(frame),
                    first_word: None,
                    at_start: false,
                });
                last = Some(Token::Punct('('));
                recent.clear();
            }
            '[' => {
                note(&mut levels, None);
                levels.push(Level {
                    frame: Some(Frame::Collection),
                    first_word: None,
                    at_start: false,
                });
                last = Some(Token::Punct('['));
                recent.clear();
            }
            '{' => {
                let level = levels.last().expect("the top level is never popped");
                let frame = brace_frame(level, last.as_ref());
                note(&mut levels, None);
                let starts_statements = frame.is_statement_list();
                levels.push(Level {
                    frame: Some(frame),
                    first_word: None,
                    at_start: starts_statements,
                });
                last = Some(Token::Punct('{'));
                recent.clear();
            }
            ')' | ']' | '}' => {
                if levels.len() > 1 {
                    levels.pop();
                }
                last = Some(Token::Operand);
                recent.clear();
            }
            _ => {
                if c != '.' {
                    recent.clear();
                } else {
                    recent.push(Token::Punct('.'));
                }
                note(&mut levels, None);
                last = Some(Token::Punct(c));
            }
        }
        i += 1;
    }
    let top = levels.last().expect("the top level is never popped");
    let previous_punct = match last {
        Some(Token::Punct(p)) => Some(p),
        _ => None,
    };
    Context {
        frames: levels.iter().filter_map(|l| l.frame.clone()).collect(),
        at_start: top.at_start,
        previous_punct,
        in_string_or_comment,
    }
}

/// Records that the current statement has begun (with `word` when it begins with a word).
fn note(levels: &mut [Level], word: Option<&str>) {
    let level = levels.last_mut().expect("the top level is never popped");
    if level.at_start {
        level.at_start = false;
        level.first_word = word.map(str::to_string);
    }
}

/// What a `{` opens, given the statement it is in and the token before it.
fn brace_frame(level: &Level, last: Option<&Token>) -> Frame {
    let first = level.first_word.as_deref();
    match &level.frame {
        None => match first {
            Some("task") => Frame::TaskBlock,
            _ => Frame::Block,
        },
        Some(Frame::TaskBlock) | Some(Frame::ImplBlock) => match first {
            Some("constraint") => Frame::Constraint,
            Some("env") => Frame::Entries,
            Some("impl") => Frame::ImplBlock,
            Some("mpi") => Frame::MpiOptions,
            Some("workflow") => Frame::Entries,
            _ => Frame::Collection,
        },
        Some(Frame::Block) => {
            let opens_block = matches!(
                first,
                Some("if" | "else" | "for" | "while" | "group" | "try" | "catch")
            );
            let after_operand = matches!(last, Some(Token::Word(_)) | Some(Token::Operand) | None);
            if opens_block && after_operand {
                Frame::Block
            } else {
                Frame::Collection
            }
        }
        Some(_) => Frame::Collection,
    }
}

/// `count` or `fs.copy` from the words just before a `(`.
fn callee_of(recent: &[Token]) -> Option<String> {
    let mut parts = Vec::new();
    let mut expect_word = true;
    for token in recent.iter().rev() {
        match (token, expect_word) {
            (Token::Word(w), true) => parts.push(w.clone()),
            (Token::Punct('.'), false) => {}
            _ => break,
        }
        expect_word = !expect_word;
    }
    if parts.is_empty() {
        return None;
    }
    parts.reverse();
    Some(parts.join("."))
}

fn find_plain_end(chars: &[char], mut i: usize) -> Option<usize> {
    while i < chars.len() {
        match chars[i] {
            '\\' => i += 2,
            '"' => return Some(i + 1),
            '\n' => return Some(i),
            _ => i += 1,
        }
    }
    None
}

fn find_triple_end(chars: &[char], mut i: usize) -> Option<usize> {
    while i + 2 < chars.len() {
        if chars[i] == '"' && chars[i + 1] == '"' && chars[i + 2] == '"' {
            return Some(i + 3);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(text: &str) -> Vec<Frame> {
        context(text).frames
    }

    #[test]
    fn blocks_of_tasks_and_workflows() {
        assert_eq!(frames("task t(a: int) -> int {\n    "), [Frame::TaskBlock]);
        assert!(context("task t(a: int) {\n    ").at_start);
        assert_eq!(
            frames("workflow main() {\n    if x {\n"),
            [Frame::Block, Frame::Block]
        );
        assert_eq!(
            frames("task t() {\n    impl a {\n        constraint { co"),
            [Frame::TaskBlock, Frame::ImplBlock, Frame::Constraint]
        );
        assert_eq!(
            frames("task t() {\n    mpi \"x\" { run"),
            [Frame::TaskBlock, Frame::MpiOptions]
        );
        assert_eq!(
            frames("task t() {\n    env { A"),
            [Frame::TaskBlock, Frame::Entries]
        );
        assert_eq!(frames("task t("), [Frame::Params]);
        assert!(frames("task t() { shell \"x\" }\n").is_empty());
    }

    #[test]
    fn objects_calls_and_else() {
        assert_eq!(
            frames("workflow main() {\n    let o = {"),
            [Frame::Block, Frame::Collection]
        );
        assert_eq!(
            frames("workflow main() {\n    fs.copy(a, "),
            [
                Frame::Block,
                Frame::Call {
                    callee: Some("fs.copy".into())
                }
            ]
        );
        assert_eq!(
            frames("workflow main() {\n    if a {\n    } else {\n        "),
            [Frame::Block, Frame::Block]
        );
        assert_eq!(
            frames("workflow main() {\n    try {\n    } catch e {"),
            [Frame::Block, Frame::Block]
        );
    }

    #[test]
    fn strings_and_comments_hide_brackets() {
        assert_eq!(
            frames("workflow main() {\n    print(\"(\")\n    // {\n"),
            [Frame::Block]
        );
        assert_eq!(
            frames("task t() {\n shell \"\"\"{\n\"\"\"\n"),
            [Frame::TaskBlock]
        );
        assert!(context("workflow main() {\n    print(\"ab").in_string_or_comment);
        assert!(context("// todo").in_string_or_comment);
        assert!(!context("workflow main() {\n    let a = 1 + \n").at_start);
        assert!(context("workflow main() {\n    let a = 1\n").at_start);
    }
}
