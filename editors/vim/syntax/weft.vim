" Vim syntax file
" Language: weft (task workflows; LANGUAGE.md §2–§5)
" Works in Vim and Neovim.

if exists('b:current_syntax')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

syn case match
syn sync fromstart

" Reserved words (§2).
syn keyword weftDefine       task fn workflow impl
syn keyword weftInclude      import as
syn keyword weftStatement    let return group nowait barrier
syn keyword weftConditional  if else
syn keyword weftRepeat       for in while
syn keyword weftException    try catch raise
syn keyword weftOperator     and or not
syn keyword weftBoolean      true false
syn keyword weftNull         null
syn keyword weftDirection    out inout concurrent commutative

" Words the grammar reads as keywords in place: after `import`, in parameters, in task bodies.
syn keyword weftInclude      std
syn keyword weftModifier     prefix depth stdin stdout stderr
syn keyword weftBody         binary mpi ompss shell script args
syn keyword weftPolicy       retry cancel_successors fail ignore

" Directives start a line of a task (or follow `{` or `;`); `env(…)` is the builtin.
syn match weftDirective "\%(^\|[{;]\)\s*\zs\<\%(constraint\|timeout\|priority\|on_failure\|distributed\|replicated\|workdir\|env\|fail_on_exit\|raises_on_exit\|container\|multinode\)\>\%(\s*(\)\@!"

" Types; `str(…)`, `int(…)` and `float(…)` are builtins.
syn match weftType "\<\%(int\|float\|bool\|str\|json\|file\|dir\)\>\%(\s*(\)\@!"

" Builtins (§5), when called.
syn match weftBuiltin "\<\%(len\|range\|enumerate\|str\|int\|float\|div\|min\|max\|sum\|keys\|values\|sorted\|glob\|path\|basename\|dirname\|stem\|ext\|env\|print\|wait\|wait_file\|wait_dir\|read\|read_json\|write\|write_json\|exists\|delete\)\ze\s*("

" Names being defined.
syn match weftFunctionName "\%(\<\%(task\|fn\|workflow\)\s\+\)\@<=\h\w*"
syn match weftImplName "\%(\<impl\s\+\)\@<=\h\w*"

" Numbers, sizes and durations.
syn match weftNumber "\<\d[0-9_]*\%(\.\d[0-9_]*\)\=\%([eE][+-]\=\d\+\)\=\%(KiB\|MiB\|GiB\|TiB\|KB\|MB\|GB\|TB\|ms\|s\|m\|h\|d\)\=\>"

" Comments: `///` documents the next item or parameter; `/* */` nests.
syn keyword weftTodo TODO FIXME XXX NOTE contained
syn match weftComment "//.*$" contains=weftTodo,@Spell
syn match weftDocComment "///\%(/\)\@!.*$" contains=weftTodo,@Spell
syn region weftBlockComment start="/\*" end="\*/" contains=weftBlockComment,weftTodo,@Spell

" Strings: escapes, `{{` `}}` literal braces, `{expr}` interpolation.
syn match weftEscape "\\[nt\\\"{}]" contained
syn match weftBraceEscape "{{\|}}" contained
syn region weftInterpolation matchgroup=weftInterpolationDelimiter start="{\%({\)\@!" end="}" contained contains=TOP,weftFunctionName,weftImplName
syn region weftString start=+"+ skip=+\\\\\|\\"+ end=+"\|$+ contains=weftEscape,weftBraceEscape,weftInterpolation
syn region weftTripleString start=+"""+ end=+"""+ contains=weftEscape,weftBraceEscape,weftInterpolation

" Raw bodies (the triple-quoted form is defined last so that it wins at `"""`): a `shell` template (Handlebars holes `{{name}}`), a `script` code string.
syn match weftTemplateHole "{{{\=[^{}]*}}}\=" contained
syn region weftRawString matchgroup=weftString start=+\%(\<shell\s*\)\@<="+ skip=+\\\\\|\\"+ end=+"\|$+ contains=weftTemplateHole
syn region weftRawString matchgroup=weftString start=+\%(\<shell\s*\)\@<="""+ end=+"""+ contains=weftTemplateHole
syn region weftScriptCode matchgroup=weftString start=+\%(\<script\s\+"[^"]*"\s*\)\@<="""+ end=+"""+
syn region weftScriptCode matchgroup=weftString start=+^\s*\zs"""\ze\s*$+ end=+"""+

hi def link weftDefine            Keyword
hi def link weftInclude           Include
hi def link weftStatement         Statement
hi def link weftConditional       Conditional
hi def link weftRepeat            Repeat
hi def link weftException         Exception
hi def link weftOperator          Operator
hi def link weftBoolean           Boolean
hi def link weftNull              Constant
hi def link weftDirection         StorageClass
hi def link weftModifier          StorageClass
hi def link weftBody              Keyword
hi def link weftPolicy            Constant
hi def link weftDirective         PreProc
hi def link weftType              Type
hi def link weftBuiltin           Function
hi def link weftFunctionName      Function
hi def link weftImplName          Label
hi def link weftNumber            Number
hi def link weftTodo              Todo
hi def link weftComment           Comment
hi def link weftDocComment        SpecialComment
hi def link weftBlockComment      Comment
hi def link weftEscape            SpecialChar
hi def link weftBraceEscape       SpecialChar
hi def link weftInterpolationDelimiter Delimiter
hi def link weftString            String
hi def link weftTripleString      String
hi def link weftTemplateHole      Identifier
hi def link weftRawString         String
hi def link weftScriptCode        String

let b:current_syntax = 'weft'

let &cpo = s:cpo_save
unlet s:cpo_save
