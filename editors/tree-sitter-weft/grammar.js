/**
 * @file The weft task-workflow language (LANGUAGE.md §2–§5).
 * @license MIT
 *
 * The reference syntax is the pest grammar (grammar/src/weft.pest). This grammar accepts the
 * same programs, with two differences that only matter for broken input: keywords that the
 * pest grammar reads in place (directive and body words, `args`, `std`, …) are keywords only
 * where they can appear, and the error productions of the pest grammar are left out.
 *
 * Newlines: a newline ends a statement, except inside brackets and after an operator. The
 * external scanner (src/scanner.c) produces the `_newline` token only where the parser can
 * use one, so everywhere else a newline is whitespace.
 */

/// <reference types="tree-sitter-cli/dsl" />
// @ts-check

// The reserved words of LANGUAGE.md §2: never an identifier, except as a field name after `.`.
const RESERVED_WORDS = [
  'task', 'workflow', 'fn', 'let', 'for', 'in', 'while', 'if', 'else', 'return', 'import',
  'as', 'group', 'nowait', 'barrier', 'try', 'catch', 'raise', 'true', 'false', 'null', 'and',
  'or', 'not', 'out', 'inout', 'concurrent', 'commutative', 'impl',
];

const PREC = {
  or: 1,
  and: 2,
  not: 3,
  compare: 4,
  add: 5,
  multiply: 6,
  unary: 7,
  postfix: 8,
};

const PRIMITIVE_TYPES = ['int', 'float', 'bool', 'str', 'json', 'file', 'dir'];

/**
 * `open item, item, … close` where newlines are free and a trailing comma is allowed.
 * @param {RuleOrLiteral} open
 * @param {RuleOrLiteral} item
 * @param {RuleOrLiteral} close
 */
function bracketed(open, item, close) {
  return seq(open, optional(seq(item, repeat(seq(',', item)), optional(','))), close);
}

/**
 * `{ member SEP member … }`: members separated by newlines or `;`, blank lines anywhere.
 * @param {GrammarSymbols<string>} $
 * @param {RuleOrLiteral} member
 */
function statementBlock($, member) {
  return seq(
    '{',
    repeat($._separator),
    repeat(seq(member, repeat1($._separator))),
    optional(member),
    '}',
  );
}

/**
 * A word after `.` or as a bare object key: any word, reserved or not (`e.group`).
 * @param {GrammarSymbols<string>} $
 */
function fieldName($) {
  return alias(reserved('field_name', $.identifier), $.field_identifier);
}

module.exports = grammar({
  name: 'weft',

  word: $ => $.identifier,

  externals: $ => [
    $._newline,
    $.block_comment,
    $._string_content,
    $._triple_string_content,
    $._raw_string_content,
    $._raw_triple_content,
    $._error_sentinel,
  ],

  extras: $ => [/[ \t\r\n\uFEFF]/, $.comment, $.doc_comment, $.block_comment],

  reserved: {
    global: _ => RESERVED_WORDS,
    // After `.` any word is a field name (`e.group`); so is a bare object key.
    field_name: _ => [],
  },

  supertypes: $ => [$._expression, $._statement, $._directive, $._body],

  rules: {
    source_file: $ => repeat(choice($._item, $._newline)),

    _item: $ => choice(
      $.import_declaration,
      $.task_definition,
      $.function_definition,
      $.workflow_definition,
    ),

    // -----------------------------------------------------------------------------------------
    // Imports
    // -----------------------------------------------------------------------------------------

    import_declaration: $ => seq(
      'import',
      field('module', choice($.std_module, $.string)),
      optional(seq('as', field('alias', $.identifier))),
    ),

    std_module: $ => seq('std', repeat1(seq('.', field('name', $.identifier)))),

    // -----------------------------------------------------------------------------------------
    // Types and parameters
    // -----------------------------------------------------------------------------------------

    _type: $ => choice($.primitive_type, $.list_type),
    primitive_type: _ => choice(...PRIMITIVE_TYPES),
    list_type: $ => seq('[', field('element', $._type), ']'),

    return_type: $ => seq('->', choice($._type, $.tuple_type)),
    tuple_type: $ => bracketed('(', $._type, ')'),

    parameter_list: $ => bracketed('(', $.parameter, ')'),

    parameter: $ => seq(
      field('name', $.identifier),
      ':',
      optional(field('direction', $.direction)),
      field('type', $._type),
      repeat(field('modifier', $._modifier)),
      optional(seq('=', field('default', $._expression))),
    ),

    direction: _ => choice('out', 'inout', 'concurrent', 'commutative'),

    _modifier: $ => choice($.stream_modifier, $.prefix_modifier, $.depth_modifier),
    stream_modifier: $ => seq('as', field('stream', $.stream)),
    stream: _ => choice('stdin', 'stdout', 'stderr'),
    prefix_modifier: $ => seq('prefix', field('prefix', $.string)),
    depth_modifier: $ => seq('depth', field('depth', $.number)),

    // -----------------------------------------------------------------------------------------
    // Tasks
    // -----------------------------------------------------------------------------------------

    task_definition: $ => seq(
      'task',
      field('name', $.identifier),
      field('parameters', $.parameter_list),
      optional(field('return_type', $.return_type)),
      field('body', $.task_block),
    ),

    task_block: $ => statementBlock($, choice($.impl_definition, $._directive, $._body)),

    impl_definition: $ => seq(
      'impl',
      field('name', $.identifier),
      field('body', $.impl_block),
    ),

    impl_block: $ => statementBlock($, choice($._directive, $._body)),

    _directive: $ => choice(
      $.constraint_directive,
      $.timeout_directive,
      $.priority_directive,
      $.on_failure_directive,
      $.distributed_directive,
      $.replicated_directive,
      $.workdir_directive,
      $.env_directive,
      $.fail_on_exit_directive,
      $.raises_on_exit_directive,
      $.container_directive,
      $.multinode_directive,
    ),

    constraint_directive: $ => seq('constraint', field('entries', $.entry_block)),
    timeout_directive: $ => seq('timeout', field('value', $._expression)),
    priority_directive: _ => 'priority',
    on_failure_directive: $ => seq('on_failure', field('policy', $._failure_policy)),
    distributed_directive: _ => 'distributed',
    replicated_directive: _ => 'replicated',
    workdir_directive: $ => seq('workdir', field('value', $._expression)),
    env_directive: $ => seq('env', field('entries', $.entry_block)),
    fail_on_exit_directive: $ => seq('fail_on_exit', field('value', $._expression)),
    raises_on_exit_directive: $ => seq('raises_on_exit', field('statuses', $.expression_list)),
    container_directive: $ => seq('container', field('image', $._expression)),
    multinode_directive: $ => seq('multinode', field('nodes', $._expression)),

    _failure_policy: $ => choice($.retry_policy, $.failure_policy),
    retry_policy: $ => seq('retry', '(', field('count', $._expression), ')'),
    failure_policy: _ => choice('cancel_successors', 'fail', 'ignore'),

    /** `{ key: expr, … }` of `constraint`, `env`, `mpi` and `workflow … args`. */
    entry_block: $ => bracketed('{', $.entry, '}'),
    entry: $ => seq(field('key', $.identifier), ':', field('value', $._expression)),

    /** `[expr, …]` after `args` and `raises_on_exit`. */
    expression_list: $ => bracketed('[', $._expression, ']'),

    _body: $ => choice(
      $.binary_body,
      $.mpi_body,
      $.ompss_body,
      $.shell_body,
      $.script_body,
      $.workflow_body,
    ),

    binary_body: $ => seq(
      'binary',
      field('program', $._expression),
      optional(field('arguments', $.args_clause)),
    ),
    mpi_body: $ => seq(
      'mpi',
      field('program', $._expression),
      field('options', $.entry_block),
      optional(field('arguments', $.args_clause)),
    ),
    ompss_body: $ => seq(
      'ompss',
      field('program', $._expression),
      optional(field('arguments', $.args_clause)),
    ),
    shell_body: $ => seq('shell', field('template', $.raw_string)),
    script_body: $ => seq(
      'script',
      field('interpreter', $._expression),
      optional($._newline),
      field('code', $.raw_string),
    ),
    workflow_body: $ => seq(
      'workflow',
      field('file', $._expression),
      optional(seq('args', field('arguments', $.entry_block))),
    ),
    args_clause: $ => seq('args', field('list', $.expression_list)),

    // -----------------------------------------------------------------------------------------
    // Functions and workflows
    // -----------------------------------------------------------------------------------------

    function_definition: $ => seq(
      'fn',
      field('name', $.identifier),
      field('parameters', $.parameter_list),
      optional(field('return_type', $.return_type)),
      field('body', $.block),
    ),

    workflow_definition: $ => seq(
      'workflow',
      field('name', $.identifier),
      field('parameters', $.parameter_list),
      field('body', $.block),
    ),

    // -----------------------------------------------------------------------------------------
    // Statements
    // -----------------------------------------------------------------------------------------

    _separator: $ => choice($._newline, ';'),

    block: $ => statementBlock($, $._statement),

    _statement: $ => choice(
      $.let_statement,
      $.assignment_statement,
      $.if_statement,
      $.for_statement,
      $.while_statement,
      $.return_statement,
      $.group_statement,
      $.barrier_statement,
      $.try_statement,
      $.raise_statement,
      $.expression_statement,
    ),

    _pattern: $ => choice($.identifier, $.tuple_pattern),
    tuple_pattern: $ => bracketed('(', $.identifier, ')'),

    let_statement: $ => seq(
      'let',
      field('pattern', $._pattern),
      '=',
      field('value', $._expression),
    ),

    assignment_statement: $ => seq(
      field('left', $._expression),
      field('operator', choice('=', '+=')),
      field('right', $._expression),
    ),

    if_statement: $ => seq(
      'if',
      field('condition', $._expression),
      field('consequence', $.block),
      repeat(field('alternative', $.else_if_clause)),
      optional(field('alternative', $.else_clause)),
    ),
    else_if_clause: $ => seq(
      'else',
      'if',
      field('condition', $._expression),
      field('consequence', $.block),
    ),
    else_clause: $ => seq('else', field('body', $.block)),

    for_statement: $ => seq(
      'for',
      field('pattern', $._pattern),
      'in',
      field('iterable', $._expression),
      field('body', $.block),
    ),

    while_statement: $ => seq(
      'while',
      field('condition', $._expression),
      field('body', $.block),
    ),

    return_statement: $ => seq('return', optional(field('value', $._expression))),

    group_statement: $ => seq(
      'group',
      field('name', $._expression),
      optional(field('nowait', $.nowait)),
      field('body', $.block),
    ),
    nowait: _ => 'nowait',

    barrier_statement: $ => seq('barrier', optional(field('name', $._expression))),

    try_statement: $ => seq(
      'try',
      field('body', $.block),
      'catch',
      field('name', $.identifier),
      field('handler', $.block),
    ),

    raise_statement: $ => seq('raise', field('message', $._expression)),

    expression_statement: $ => $._expression,

    // -----------------------------------------------------------------------------------------
    // Expressions
    // -----------------------------------------------------------------------------------------

    _expression: $ => choice(
      $.identifier,
      $.number,
      $.string,
      $.true,
      $.false,
      $.null,
      $.list,
      $.object,
      $.parenthesized_expression,
      $.tuple,
      $.field_expression,
      $.index_expression,
      $.call_expression,
      $.unary_expression,
      $.binary_expression,
    ),

    binary_expression: $ => {
      /** @type {[number, RuleOrLiteral][]} */
      const table = [
        [PREC.or, 'or'],
        [PREC.and, 'and'],
        [PREC.compare, choice('==', '!=', '<', '<=', '>', '>=')],
        [PREC.add, choice('+', '-')],
        [PREC.multiply, choice('*', '/', '%')],
      ];
      return choice(...table.map(([precedence, operator]) => prec.left(precedence, seq(
        field('left', $._expression),
        field('operator', operator),
        field('right', $._expression),
      ))));
    },

    unary_expression: $ => choice(
      prec(PREC.not, seq(field('operator', 'not'), field('operand', $._expression))),
      prec(PREC.unary, seq(field('operator', '-'), field('operand', $._expression))),
    ),

    call_expression: $ => prec(PREC.postfix, seq(
      field('function', $._expression),
      field('arguments', $.argument_list),
    )),
    argument_list: $ => bracketed('(', choice($._expression, $.keyword_argument), ')'),
    keyword_argument: $ => seq(
      field('name', $.identifier),
      '=',
      field('value', $._expression),
    ),

    index_expression: $ => prec(PREC.postfix, seq(
      field('value', $._expression),
      '[',
      field('index', $._expression),
      ']',
    )),

    field_expression: $ => prec(PREC.postfix, seq(
      field('value', $._expression),
      '.',
      field('field', fieldName($)),
    )),

    parenthesized_expression: $ => seq('(', $._expression, ')'),
    tuple: $ => seq(
      '(',
      $._expression,
      repeat1(seq(',', $._expression)),
      optional(','),
      ')',
    ),

    list: $ => bracketed('[', $._expression, ']'),

    object: $ => bracketed('{', $.pair, '}'),
    pair: $ => seq(
      field('key', choice($.string, fieldName($))),
      ':',
      field('value', $._expression),
    ),

    // -----------------------------------------------------------------------------------------
    // Strings
    // -----------------------------------------------------------------------------------------

    string: $ => choice(
      seq('"', repeat($._string_part), '"'),
      seq('"""', repeat($._triple_string_part), '"""'),
    ),
    _string_part: $ => choice(
      alias($._string_content, $.string_content),
      $.escape_sequence,
      $.brace_escape,
      $.interpolation,
    ),
    _triple_string_part: $ => choice(
      alias($._triple_string_content, $.string_content),
      $.escape_sequence,
      $.brace_escape,
      $.interpolation,
    ),
    escape_sequence: _ => token.immediate(/\\./),
    // `{{` is a literal `{`; `}}` and a lone `}` are a literal `}`.
    brace_escape: _ => token.immediate(choice('{{', '}}', '}')),
    interpolation: $ => seq(token.immediate('{'), field('expression', $._expression), '}'),

    /** The string after `shell` and the code after `script`: not interpolated. */
    raw_string: $ => choice(
      seq('"', optional(alias($._raw_string_content, $.raw_string_content)), '"'),
      seq('"""', optional(alias($._raw_triple_content, $.raw_string_content)), '"""'),
    ),

    // -----------------------------------------------------------------------------------------
    // Literals, names and comments
    // -----------------------------------------------------------------------------------------

    /** Ints, floats, sizes (`256MiB`) and durations (`30s`): the unit is part of the token. */
    number: _ => /\d[\d_]*(\.\d[\d_]*)?([eE][+-]?\d+)?[A-Za-z0-9_]*/,
    true: _ => 'true',
    false: _ => 'false',
    null: _ => 'null',

    identifier: _ => /[A-Za-z_][A-Za-z0-9_]*/,

    // `////…` is an ordinary comment; `///` documents the next item or parameter.
    doc_comment: _ => token(/\/\/\/([^\/\n][^\n]*)?/),
    comment: _ => token(choice(/\/\/([^\/\n][^\n]*)?/, /\/\/\/\/[^\n]*/)),
  },
});
