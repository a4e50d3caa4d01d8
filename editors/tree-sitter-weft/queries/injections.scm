; A `shell` template is a bash script (with Handlebars `{{name}}` holes).
(shell_body
  template: (raw_string
    (raw_string_content) @injection.content)
  (#set! injection.language "bash"))

; A `script "python3"` body (any python interpreter) is Python.
(script_body
  interpreter: (string
    (string_content) @_interpreter)
  code: (raw_string
    (raw_string_content) @injection.content)
  (#match? @_interpreter "^(python[0-9.]*|/[^ ]*/python[0-9.]*)$")
  (#set! injection.language "python"))

; Other interpreters named by their program: `script "bash"`, `script "Rscript"`, ….
(script_body
  interpreter: (string
    (string_content) @injection.language)
  code: (raw_string
    (raw_string_content) @injection.content)
  (#not-match? @injection.language "python"))

([
  (comment)
  (block_comment)
  (doc_comment)
] @injection.content
  (#set! injection.language "comment"))
