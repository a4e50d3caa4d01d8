" Vim indent file
" Language: weft
" Indents one 'shiftwidth' inside {}, [] and (); a line starting with a closing bracket goes
" back one level. Lines inside triple-quoted strings keep their indentation.

if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal indentexpr=GetWeftIndent(v:lnum)
setlocal indentkeys=0{,0},0),0],!^F,o,O,e
setlocal autoindent
setlocal expandtab shiftwidth=4 softtabstop=4

let b:undo_indent = 'setlocal indentexpr< indentkeys< autoindent< expandtab< shiftwidth< softtabstop<'

if exists('*GetWeftIndent')
  finish
endif

" The brackets a line opens minus those it closes, outside strings and comments.
function! s:BracketBalance(line) abort
  let balance = 0
  let in_string = 0
  let i = 0
  let n = strlen(a:line)
  while i < n
    let c = a:line[i]
    if in_string
      if c ==# '\'
        let i += 1
      elseif c ==# '"'
        let in_string = 0
      endif
    elseif c ==# '"'
      let in_string = 1
    elseif c ==# '/' && a:line[i + 1] ==# '/'
      break
    elseif c =~# '[{[(]'
      let balance += 1
    elseif c =~# '[}\])]'
      let balance -= 1
    endif
    let i += 1
  endwhile
  return balance
endfunction

" Whether a line is inside a triple-quoted string (by the syntax items under it).
function! s:InTripleString(lnum) abort
  if !exists('g:syntax_on')
    return 0
  endif
  for id in synstack(a:lnum, 1)
    if synIDattr(id, 'name') =~# '^weft\%(TripleString\|RawString\|ScriptCode\)$'
      return 1
    endif
  endfor
  return 0
endfunction

function! GetWeftIndent(lnum) abort
  if s:InTripleString(a:lnum)
    return -1
  endif
  let prev = prevnonblank(a:lnum - 1)
  if prev == 0
    return 0
  endif
  let prev_line = getline(prev)
  let indent = indent(prev)
  " A closing bracket at the start of the previous line was already dedented.
  let balance = s:BracketBalance(prev_line)
  if prev_line =~# '^\s*[}\])]'
    let balance += 1
  endif
  if balance > 0
    let indent += shiftwidth()
  endif
  if getline(a:lnum) =~# '^\s*[}\])]'
    let indent -= shiftwidth()
  endif
  return max([indent, 0])
endfunction
