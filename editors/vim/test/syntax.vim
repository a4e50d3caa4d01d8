" Checks the syntax group under chosen words of sample.wf; exits non-zero on a mismatch.
set nocompatible
filetype plugin indent on
syntax on
set filetype=weft
syntax sync fromstart

" [line text (a unique part of it), word on that line, its occurrence (1-based), group]
let s:checks = [
      \ ['import std.fs', 'import', 1, 'weftInclude'],
      \ ['import std.fs', 'std', 1, 'weftInclude'],
      \ ['/// Counts', 'Counts', 1, 'weftDocComment'],
      \ ['task count', 'task', 1, 'weftDefine'],
      \ ['task count', 'count', 1, 'weftFunctionName'],
      \ ['task count', 'file', 1, 'weftType'],
      \ ['task count', 'out', 1, 'weftDirection'],
      \ ['task count', 'stdout', 1, 'weftModifier'],
      \ ['task count', '2', 1, 'weftNumber'],
      \ ['constraint {', 'constraint', 1, 'weftDirective'],
      \ ['constraint {', '256MiB', 1, 'weftNumber'],
      \ ['env { HOME', 'env', 1, 'weftDirective'],
      \ ['env { HOME', 'env', 2, 'weftBuiltin'],
      \ ['on_failure retry', 'on_failure', 1, 'weftDirective'],
      \ ['on_failure retry', 'retry', 1, 'weftPolicy'],
      \ ['shell "wc', 'shell', 1, 'weftBody'],
      \ ['shell "wc', 'wc', 1, 'weftRawString'],
      \ ['shell "wc', 'text', 1, 'weftTemplateHole'],
      \ ['script "python3"', 'script', 1, 'weftBody'],
      \ ['import json', 'import', 1, 'weftScriptCode'],
      \ ['for x in xs', 'for', 1, 'weftScriptCode'],
      \ ['let parts', 'let', 1, 'weftStatement'],
      \ ['let parts', 'str', 1, 'weftBuiltin'],
      \ ['let parts', 'len', 1, 'weftBuiltin'],
      \ ['let parts', 'b', 1, 'weftString'],
      \ ['for f in glob', 'in', 1, 'weftRepeat'],
      \ ['for f in glob', 'glob', 1, 'weftBuiltin'],
      \ ['if exists', 'and', 1, 'weftOperator'],
      \ ['if exists', 'false', 1, 'weftBoolean'],
      \ ['files.copy', 'a', 1, 'weftComment'],
      \ ['} else {', 'else', 1, 'weftConditional'],
      \ ['raise "no', 'raise', 1, 'weftException'],
      \ ['group "g"', 'nowait', 1, 'weftStatement'],
      \ ['print(null', 'null', 1, 'weftNull'],
      \ ['print(null', '1', 1, 'weftNumber'],
      \ ['print(null', '30s', 1, 'weftNumber'],
      \ ['/* a /*', 'comment', 1, 'weftBlockComment'],
      \ ]

let s:failures = []
for [line_text, word, nth, expected] in s:checks
  let lnum = search('\V' . escape(line_text, '\'), 'nw')
  if lnum == 0
    call add(s:failures, 'no line with: ' . line_text)
    continue
  endif
  let col = -1
  for i in range(nth)
    let col = match(getline(lnum), '\V\<' . escape(word, '\') . '\>', col + 1)
  endfor
  if col < 0
    call add(s:failures, printf('line %d has no %s', lnum, word))
    continue
  endif
  let names = map(synstack(lnum, col + 1), 'synIDattr(v:val, "name")')
  if index(names, expected) < 0
    call add(s:failures, printf('line %d, %s: expected %s, got %s', lnum, word, expected, string(names)))
  endif
endfor

if empty(s:failures)
  call writefile([printf('vim syntax: %d checks passed', len(s:checks))], $WEFT_OUT)
  qall!
endif
call writefile(s:failures, $WEFT_OUT)
cquit!
