//! weft's language server (`weft lsp`): the Language Server Protocol over stdio.
//!
//! - diagnostics on open and change, with the codes and spans of `weft check` (syntax,
//!   imports and the analysis), also for the files a document imports;
//! - hover: signatures with directions, doc comments, constraint keys, directives, builtins;
//! - go to definition: tasks, fns, workflows, parameters, variables, imports and the items of
//!   imported modules (standard modules open as a copy of their source);
//! - completion: names in scope, keywords, directives, constraint keys, `std.` modules,
//!   `module.` members and named arguments;
//! - formatting through the formatter of `weft fmt`.

mod analysis;
mod completion;
mod context;
mod definition;
mod docs;
mod formatting;
mod hover;
mod server;
mod symbols;
mod text;

pub use docs::{
    BODIES, CONSTRAINTS, DIRECTIONS, DIRECTIVES, ITEM_KEYWORDS, MPI_OPTIONS, OTHER_WORDS,
    STATEMENT_KEYWORDS, TYPES,
};
pub use server::serve;

/// Serves the protocol on standard input and output until the client exits. Returns the exit
/// status: 0 after a `shutdown` request, 1 when the client exits (or disappears) without one
/// or the connection fails.
pub fn serve_stdio() -> i32 {
    let (connection, io_threads) = lsp_server::Connection::stdio();
    let status = match serve(&connection) {
        Ok(true) => 0,
        Ok(false) => 1,
        Err(err) => {
            eprintln!("weft lsp: {err}");
            1
        }
    };
    // The writer thread ends once every sender is gone.
    drop(connection);
    if let Err(err) = io_threads.join() {
        eprintln!("weft lsp: {err}");
        return 1;
    }
    status
}

/// The server's answers without the protocol around them, for tests of robustness.
#[doc(hidden)]
pub mod testing {
    use std::path::Path;

    pub use crate::analysis::Analysis;

    pub fn analyse(path: &Path, text: &str) -> Analysis {
        Analysis::new(path, text.to_string())
    }

    /// The hover text at a byte offset.
    pub fn hover(analysis: &Analysis, offset: usize) -> Option<String> {
        crate::hover::hover(analysis, offset).map(|(_, text)| text)
    }

    /// Whether a definition is found at a byte offset.
    pub fn definition(analysis: &Analysis, offset: usize) -> bool {
        crate::definition::definition(analysis, offset).is_some()
    }

    /// The labels completion offers at a byte offset.
    pub fn completion(analysis: &Analysis, offset: usize) -> Vec<String> {
        crate::completion::completion(analysis, None, offset)
            .into_iter()
            .map(|item| item.label)
            .collect()
    }
}
