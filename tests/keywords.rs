//! One source of truth for keywords: the pest grammar (grammar/src/weft.pest). The
//! tree-sitter grammar, the TextMate grammar of the VS Code extension, the Vim syntax file and
//! the language server's keyword lists must know exactly the same words; the editors' builtin
//! lists must be the compiler's table of builtins.

use std::collections::BTreeSet;
use std::path::Path;

use weft_compiler::builtins::BUILTINS;

type Words = BTreeSet<String>;

fn read(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("cannot read {}: {e}", full.display()))
}

/// A keyword: two or more lowercase letters and underscores (single characters such as the
/// `e` of an exponent are not words of the language).
fn is_word(text: &str) -> bool {
    text.len() >= 2 && text.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// The text between each `open` and the next `close`, e.g. the contents of quotes.
fn between(text: &str, open: char, close: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len_utf8()..];
        let Some(end) = after.find(close) else { break };
        out.push(&after[..end]);
        rest = &after[end + close.len_utf8()..];
    }
    out
}

fn builtins() -> Words {
    BUILTINS.iter().map(|b| b.name.to_string()).collect()
}

// ---------------------------------------------------------------------------------------------
// pest
// ---------------------------------------------------------------------------------------------

/// The rules of the pest grammar, without comments: (name, body).
fn pest_rules() -> Vec<(String, String)> {
    let source = read("grammar/src/weft.pest");
    let mut rules: Vec<(String, String)> = Vec::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        if code.trim().is_empty() {
            continue;
        }
        let starts_rule = code
            .split_once('=')
            .map(|(name, _)| {
                let name = name.trim();
                !name.is_empty()
                    && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                    && !code.starts_with(' ')
            })
            .unwrap_or(false);
        if starts_rule {
            let (name, body) = code.split_once('=').expect("checked above");
            rules.push((name.trim().to_string(), body.to_string()));
        } else if let Some(last) = rules.last_mut() {
            last.1.push('\n');
            last.1.push_str(code);
        }
    }
    rules
}

/// Every word the pest grammar matches literally: reserved words, keywords read in place,
/// types, directions, streams, failure policies, literals and word operators.
fn pest_keywords() -> Words {
    pest_rules()
        .iter()
        .flat_map(|(_, body)| between(body, '"', '"'))
        .filter(|w| is_word(w))
        .map(str::to_string)
        .collect()
}

fn pest_rule_words(name: &str) -> Words {
    let rules = pest_rules();
    let (_, body) = rules
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("the pest grammar has a rule `{name}`"));
    between(body, '"', '"')
        .into_iter()
        .filter(|w| is_word(w))
        .map(str::to_string)
        .collect()
}

/// The keyword that starts each rule named `*_SUFFIX` (`constraint` for `constraint_directive
/// = { kw_constraint ~ … }`).
fn pest_leading_keywords(suffix: &str) -> Words {
    pest_rules()
        .iter()
        .filter(|(name, _)| name.ends_with(suffix))
        .filter_map(|(_, body)| {
            let kw = body.split("kw_").nth(1)?;
            let word: String = kw
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                .collect();
            Some(word)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The editors
// ---------------------------------------------------------------------------------------------

/// Single-quoted word literals of grammar.js, leaving out comments, field names and the
/// names of reserved-word sets and of the grammar. Comments in grammar.js take whole lines (`//`, `/** … */`):
/// regular expressions hold `//` and `*/` too, so only whole comment lines are dropped.
fn tree_sitter_keywords() -> Words {
    let source = read("editors/tree-sitter-weft/grammar.js");
    let code: String = source
        .lines()
        .filter(|line| {
            let line = line.trim_start();
            !(line.starts_with("//") || line.starts_with("/*") || line.starts_with('*'))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let code = drop_first_argument(
        &drop_first_argument(&drop_first_argument(&code, "field("), "reserved("),
        "name: ",
    );
    between(&code, '\'', '\'')
        .into_iter()
        .filter(|w| is_word(w))
        .map(str::to_string)
        .collect()
}

/// `code` without the quoted first argument of each call of `function` (`field('name', …)`).
fn drop_first_argument(code: &str, function: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find(function) {
        let after = &rest[at + function.len()..];
        out.push_str(&rest[..at + function.len()]);
        rest = match after.strip_prefix('\'').and_then(|a| a.split_once('\'')) {
            Some((_, tail)) => tail,
            None => after,
        };
    }
    out.push_str(rest);
    out
}

fn tree_sitter_reserved() -> Words {
    let source = read("editors/tree-sitter-weft/grammar.js");
    let list = source
        .split("const RESERVED_WORDS = [")
        .nth(1)
        .and_then(|rest| rest.split("];").next())
        .expect("grammar.js defines RESERVED_WORDS");
    between(list, '\'', '\'')
        .into_iter()
        .map(str::to_string)
        .collect()
}

fn tree_sitter_builtins() -> Words {
    let source = read("editors/tree-sitter-weft/queries/highlights.scm");
    let list = source
        .split("#any-of? @function.builtin")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("highlights.scm lists the builtins");
    between(list, '"', '"')
        .into_iter()
        .map(str::to_string)
        .collect()
}

/// Words of `(a|b|c)` groups in the TextMate grammar's regular expressions.
fn textmate_groups(value: &serde_json::Value, out: &mut Vec<Words>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                if let (true, serde_json::Value::String(regex)) =
                    (key == "match" || key == "begin", v)
                {
                    for group in between(regex, '(', ')') {
                        let group = group.strip_prefix("?:").unwrap_or(group);
                        let words: Vec<&str> = group.split('|').collect();
                        if words.iter().all(|w| is_word(w)) {
                            out.push(words.iter().map(|w| w.to_string()).collect());
                        }
                    }
                }
                textmate_groups(v, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| textmate_groups(v, out)),
        _ => {}
    }
}

fn textmate() -> serde_json::Value {
    serde_json::from_str(&read("editors/vscode/syntaxes/weft.tmLanguage.json"))
        .expect("the TextMate grammar is JSON")
}

fn textmate_words() -> Words {
    let mut groups = Vec::new();
    textmate_groups(&textmate(), &mut groups);
    groups.into_iter().flatten().collect()
}

fn textmate_builtins() -> Words {
    let mut groups = Vec::new();
    textmate_groups(&textmate()["repository"]["builtin-calls"], &mut groups);
    groups.into_iter().flatten().collect()
}

/// `syn keyword` words (TODO markers aside) and the words of `\%(a\|b\)` groups of `syn
/// match` patterns, with the builtins' pattern apart.
fn vim_words() -> (Words, Words) {
    let source = read("editors/vim/syntax/weft.vim");
    let mut words = Words::new();
    let mut builtins = Words::new();
    for line in source.lines() {
        let mut parts = line.split_whitespace();
        match (parts.next(), parts.next(), parts.next()) {
            (Some("syn"), Some("keyword"), Some(group)) if group != "weftTodo" => {
                words.extend(parts.filter(|w| is_word(w)).map(str::to_string));
            }
            (Some("syn"), Some("match"), Some(group)) => {
                for alternation in line.split("\\%(").skip(1) {
                    let alternation = alternation.split("\\)").next().unwrap_or("");
                    let group_words: Vec<&str> = alternation.split("\\|").collect();
                    if group_words.iter().all(|w| is_word(w)) {
                        let target = if group == "weftBuiltin" {
                            &mut builtins
                        } else {
                            &mut words
                        };
                        target.extend(group_words.iter().map(|w| w.to_string()));
                    }
                }
            }
            _ => {}
        }
    }
    (words, builtins)
}

fn lsp_words() -> Words {
    let pairs = weft_lsp::DIRECTIVES
        .iter()
        .chain(weft_lsp::BODIES)
        .chain(weft_lsp::DIRECTIONS)
        .chain(weft_lsp::OTHER_WORDS);
    pairs
        .map(|(w, _)| *w)
        .chain(weft_lsp::STATEMENT_KEYWORDS.iter().copied())
        .chain(weft_lsp::ITEM_KEYWORDS.iter().copied())
        .chain(weft_lsp::TYPES.iter().copied())
        .map(str::to_string)
        .collect()
}

fn assert_same(what: &str, actual: &Words, expected: &Words) {
    let missing: Vec<&String> = expected.difference(actual).collect();
    let extra: Vec<&String> = actual.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what} disagrees with the pest grammar: missing {missing:?}, not in the language {extra:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[test]
fn the_pest_grammar_is_read_as_expected() {
    let keywords = pest_keywords();
    for word in [
        "task",
        "nowait",
        "constraint",
        "on_failure",
        "stdout",
        "json",
        "cancel_successors",
    ] {
        assert!(keywords.contains(word), "{word} in {keywords:?}");
    }
    assert!(!keywords.contains("builder"), "comments are not read");
    assert_eq!(pest_rule_words("reserved").len(), 29);
    assert!(pest_leading_keywords("_directive").contains("raises_on_exit"));
    assert!(pest_leading_keywords("_body").contains("ompss"));
}

#[test]
fn tree_sitter_knows_the_same_keywords() {
    assert_same("grammar.js", &tree_sitter_keywords(), &pest_keywords());
    assert_same(
        "RESERVED_WORDS of grammar.js",
        &tree_sitter_reserved(),
        &pest_rule_words("reserved"),
    );
    assert_same(
        "highlights.scm builtins",
        &tree_sitter_builtins(),
        &builtins(),
    );
}

#[test]
fn the_textmate_grammar_knows_the_same_keywords() {
    let expected: Words = pest_keywords().union(&builtins()).cloned().collect();
    assert_same("weft.tmLanguage.json", &textmate_words(), &expected);
    assert_same(
        "weft.tmLanguage.json builtins",
        &textmate_builtins(),
        &builtins(),
    );
}

#[test]
fn the_vim_syntax_knows_the_same_keywords() {
    let (words, vim_builtins) = vim_words();
    assert_same("syntax/weft.vim", &words, &pest_keywords());
    assert_same("syntax/weft.vim builtins", &vim_builtins, &builtins());
}

#[test]
fn the_language_server_offers_the_same_keywords() {
    let lsp = lsp_words();
    let keywords = pest_keywords();
    let unknown: Vec<&String> = lsp.difference(&keywords).collect();
    assert!(
        unknown.is_empty(),
        "the language server offers words that are not keywords: {unknown:?}"
    );
    let directives: Words = weft_lsp::DIRECTIVES
        .iter()
        .map(|(w, _)| w.to_string())
        .collect();
    assert_same(
        "the language server's directives",
        &directives,
        &pest_leading_keywords("_directive"),
    );
    let bodies: Words = weft_lsp::BODIES
        .iter()
        .map(|(w, _)| w.to_string())
        .collect();
    assert_same(
        "the language server's bodies",
        &bodies,
        &pest_leading_keywords("_body"),
    );
    let types: Words = weft_lsp::TYPES.iter().map(|w| w.to_string()).collect();
    assert_same(
        "the language server's types",
        &types,
        &pest_rule_words("prim_type"),
    );
    let directions: Words = weft_lsp::DIRECTIONS
        .iter()
        .map(|(w, _)| w.to_string())
        .collect();
    let mut pest_directions = pest_rule_words("direction");
    // `in` is accepted only so that the parser can say it is not a direction.
    pest_directions.remove("in");
    assert_same(
        "the language server's directions",
        &directions,
        &pest_directions,
    );
}
