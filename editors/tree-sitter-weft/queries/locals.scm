; Scopes and definitions for weft (LANGUAGE.md §5): parameters are visible in their item,
; `let` to the end of its block, loop and catch variables in their block.

(task_definition) @local.scope
(function_definition) @local.scope
(workflow_definition) @local.scope
(block) @local.scope

(parameter
  name: (identifier) @local.definition)
(let_statement
  pattern: (identifier) @local.definition)
(let_statement
  pattern: (tuple_pattern
    (identifier) @local.definition))
(for_statement
  pattern: (identifier) @local.definition)
(for_statement
  pattern: (tuple_pattern
    (identifier) @local.definition))
(try_statement
  name: (identifier) @local.definition)

(identifier) @local.reference
