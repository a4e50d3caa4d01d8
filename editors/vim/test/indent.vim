" Re-indents the current buffer with the weft indent file and writes it to $WEFT_OUT.
set nocompatible
filetype plugin indent on
syntax on
set filetype=weft
normal! gg=G
execute 'write! ' . fnameescape($WEFT_OUT)
qall!
