; Highlights for weft. Captures follow the common names (nvim-treesitter, Helix, Zed).
; When several patterns capture one node, the last one wins: general patterns come first.

; Names not captured by a more specific pattern below.
(identifier) @variable

; Comments
(comment) @comment
(block_comment) @comment
(doc_comment) @comment.documentation

; Literals
(number) @number
(true) @boolean
(false) @boolean
(null) @constant.builtin
(string) @string
(raw_string) @string
(escape_sequence) @string.escape
(brace_escape) @string.escape
(interpolation
  "{" @punctuation.special
  "}" @punctuation.special)

; Types, directions and modifiers
(primitive_type) @type.builtin
(direction) @keyword.modifier
(stream) @constant.builtin
[
  "as"
  "prefix"
  "depth"
] @keyword.modifier

; Definitions
(task_definition
  name: (identifier) @function)
(function_definition
  name: (identifier) @function)
(workflow_definition
  name: (identifier) @function)
(impl_definition
  name: (identifier) @label)
(parameter
  name: (identifier) @variable.parameter)
(keyword_argument
  name: (identifier) @variable.parameter)

; Imports
(std_module
  "std" @module.builtin
  name: (identifier) @module)
(import_declaration
  alias: (identifier) @module)

; Fields (a call of a module's task is captured again below)
(field_expression
  field: (field_identifier) @property)

; Calls (a later pattern wins: builtins after the general case)
(call_expression
  function: (identifier) @function.call)
(call_expression
  function: (identifier) @function.builtin
  (#any-of? @function.builtin
    "len" "range" "enumerate" "str" "int" "float" "div" "min" "max" "sum" "keys" "values"
    "sorted" "glob" "path" "basename" "dirname" "stem" "ext" "env" "print" "wait" "wait_file"
    "wait_dir" "read" "read_json" "write" "write_json" "exists" "delete"))
(call_expression
  function: (field_expression
    value: (identifier) @module
    field: (field_identifier) @function.call))

(pair
  key: (field_identifier) @property)
(entry
  key: (identifier) @property)

; Directives and bodies
[
  "constraint"
  "timeout"
  "on_failure"
  "workdir"
  "env"
  "fail_on_exit"
  "raises_on_exit"
  "container"
  "multinode"
] @attribute
(priority_directive) @attribute
(distributed_directive) @attribute
(replicated_directive) @attribute
"retry" @function.builtin
(failure_policy) @constant.builtin

[
  "binary"
  "mpi"
  "ompss"
  "shell"
  "script"
  "args"
] @keyword.function
(workflow_body
  "workflow" @keyword.function)

; Keywords
[
  "task"
  "fn"
  "impl"
] @keyword.function
(workflow_definition
  "workflow" @keyword.function)
"import" @keyword.import
(import_declaration
  "as" @keyword.import)
"return" @keyword.return
[
  "if"
  "else"
] @keyword.conditional
[
  "for"
  "in"
  "while"
] @keyword.repeat
[
  "try"
  "catch"
  "raise"
] @keyword.exception
[
  "let"
  "group"
  "barrier"
] @keyword
(nowait) @keyword
[
  "and"
  "or"
  "not"
] @keyword.operator

; Operators and punctuation
[
  "=="
  "!="
  "<"
  "<="
  ">"
  ">="
  "+"
  "-"
  "*"
  "/"
  "%"
  "="
  "+="
  "->"
] @operator
[
  "("
  ")"
  "["
  "]"
  "{"
  "}"
] @punctuation.bracket
[
  ","
  "."
  ":"
  ";"
] @punctuation.delimiter

