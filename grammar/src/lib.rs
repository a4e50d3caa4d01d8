//! The pest grammar of weft (`weft.pest`) and the parser pest derives from it.

use pest_derive::Parser;

#[derive(Parser)]
#[grammar = "weft.pest"]
pub struct WeftParser;
