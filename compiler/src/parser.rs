//! Pest pairs → syntax tree. (Being written: see the front-end issue.)

use std::sync::Arc;

use crate::ast::Module;
use crate::diagnostic::{Diagnostic, SourceFile};

/// Parses one file. On syntax errors, returns every error the parser could find.
pub fn parse_module(file: &Arc<SourceFile>) -> Result<Module, Vec<Diagnostic>> {
    let _ = file;
    Err(Vec::new())
}
