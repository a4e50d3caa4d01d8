//! Syntax errors as the user sees them: the message, the label on the offending token and the
//! help line, rendered as `weft check` does without colour.

use weft_compiler::diagnostic::{render_plain, Code, SourceFile};
use weft_compiler::parser::parse_module;

/// Every diagnostic of `text`, rendered; also checks they are all `weft::syntax` errors.
fn rendered(text: &str) -> String {
    let file = SourceFile::new("main.wf", text);
    let diagnostics = match parse_module(&file) {
        Ok(_) => panic!("expected a syntax error in:\n{text}"),
        Err(diagnostics) => diagnostics,
    };
    assert!(diagnostics
        .iter()
        .all(|d| d.code == Code::Syntax && d.is_error()));
    diagnostics
        .iter()
        .map(render_plain)
        .collect::<Vec<_>>()
        .join("\n")
}

macro_rules! syntax_error {
    ($name:ident, $text:expr) => {
        #[test]
        fn $name() {
            insta::assert_snapshot!(rendered($text));
        }
    };
}

syntax_error!(
    let_without_a_name,
    "task ok() {\n    shell \"true\"\n}\n\nworkflow main() {\n    let = 3\n}\n"
);

syntax_error!(
    reserved_word_as_a_name,
    "workflow main() {\n    for in in [1, 2] {\n        print(in)\n    }\n}\n"
);

syntax_error!(
    unknown_parameter_type,
    "task count(text: string, result: out file) {\n    shell \"wc -w < {{text}} > {{result}}\"\n}\n"
);

syntax_error!(
    missing_colon_in_a_parameter,
    "task count(text file) {\n    shell \"wc -w < {{text}}\"\n}\n"
);

syntax_error!(
    in_is_not_a_direction,
    "task count(text: in file) {\n    shell \"wc -w < {{text}}\"\n}\n"
);

syntax_error!(
    unknown_stream,
    "task run(log: out file as stdlog) {\n    binary \"make\"\n}\n"
);

syntax_error!(
    misspelt_directive,
    "task slow() {\n    timout 5s\n    shell \"sleep 10\"\n}\n"
);

syntax_error!(
    misspelt_item_keyword,
    "taks slow() {\n    shell \"sleep 10\"\n}\n"
);

syntax_error!(
    retry_without_a_count,
    "task flaky() {\n    on_failure retry\n    shell \"exit 1\"\n}\n"
);

syntax_error!(
    unknown_failure_policy,
    "task flaky() {\n    on_failure skip\n    shell \"exit 1\"\n}\n"
);

syntax_error!(
    missing_closing_brace_at_the_end_of_the_file,
    "workflow main() {\n    for x in [1, 2] {\n        print(x)\n    }\n"
);

syntax_error!(
    missing_closing_parenthesis,
    "workflow main() {\n    print(\"a\", \"b\"\n    print(\"c\")\n}\n"
);

syntax_error!(
    missing_comma_between_arguments,
    "workflow main() {\n    print(\"a\" \"b\")\n}\n"
);

syntax_error!(
    missing_comma_in_a_list,
    "workflow main() {\n    let xs = [1, 2 3]\n}\n"
);

syntax_error!(
    two_statements_on_one_line,
    "workflow main() {\n    let x = 1 print(x)\n}\n"
);

syntax_error!(
    missing_expression_after_an_operator,
    "workflow main() {\n    let x = 1 *\n}\n"
);

syntax_error!(
    assignment_instead_of_comparison,
    "workflow main() {\n    let x = 1\n    if x = 1 {\n        print(x)\n    }\n}\n"
);

syntax_error!(
    missing_in_after_the_loop_variable,
    "workflow main() {\n    for x of [1, 2] {\n        print(x)\n    }\n}\n"
);

syntax_error!(
    missing_brace_after_a_condition,
    "workflow main() {\n    while true print(1)\n}\n"
);

syntax_error!(
    else_without_if,
    "workflow main() {\n    print(1)\n    else {\n        print(2)\n    }\n}\n"
);

syntax_error!(
    one_closing_brace_too_many,
    "workflow main() {\n    print(1)\n}\n}\n"
);

syntax_error!(
    item_left_open_before_the_next_one,
    "task count(text: file) {\n    shell \"wc -w < {{text}}\"\n\nworkflow main() {\n    count(\"a.txt\")\n}\n"
);

syntax_error!(
    unterminated_string,
    "workflow main() {\n    print(\"hello)\n}\n"
);

syntax_error!(
    unterminated_triple_quoted_string,
    "task t() {\n    shell \"\"\"\n        echo hi\n}\n\nworkflow main() {\n    t()\n}\n"
);

syntax_error!(
    unterminated_block_comment,
    "workflow main() {\n    /* a comment /* nested */\n    print(1)\n}\n"
);

syntax_error!(
    unknown_escape,
    "workflow main() {\n    print(\"C:\\data\")\n}\n"
);

syntax_error!(
    unknown_unit,
    "task slow() {\n    timeout 5min\n    shell \"sleep 10\"\n}\n"
);

syntax_error!(
    integer_too_large,
    "workflow main() {\n    let n = 99999999999999999999\n}\n"
);

syntax_error!(
    chained_comparison,
    "workflow main(n: int) {\n    if 0 < n < 10 {\n        print(n)\n    }\n}\n"
);

syntax_error!(
    task_without_a_body,
    "task nothing(o: out file) {\n    timeout 1s\n}\n"
);

syntax_error!(
    task_with_two_bodies,
    "task both(o: out file) {\n    shell \"touch {{o}}\"\n    binary \"touch\"\n}\n"
);

syntax_error!(
    task_with_a_body_and_implementations,
    "task mixed(o: out file) {\n    shell \"touch {{o}}\"\n    impl fast {\n        binary \"touch\"\n    }\n}\n"
);

syntax_error!(
    positional_argument_after_a_named_one,
    "workflow main() {\n    run(mode = \"fast\", \"input.txt\")\n}\n"
);

syntax_error!(
    missing_name_after_task,
    "task (o: out file) {\n    shell \"true\"\n}\n"
);

syntax_error!(missing_import_target, "import fs\n");

syntax_error!(
    every_broken_item_in_one_pass,
    "task a() {\n    shell \"x\"\n    shell \"y\"\n}\n\nworkflow b() {\n    let = 1\n}\n\nworkflow c(n: int) {\n    let y = [n\n}\n\nfn d() {\n    return 99999999999999999999\n}\n"
);
