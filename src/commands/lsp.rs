//! `weft lsp`: the language server, for editors.

pub fn run() -> i32 {
    weft_lsp::serve_stdio()
}
