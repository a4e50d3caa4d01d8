" weft workflow files.
autocmd BufRead,BufNewFile *.wf setfiletype weft
