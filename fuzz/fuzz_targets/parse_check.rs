//! Parse + check any text: no input may make the front end panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use weft_compiler::analysis::analyze;
use weft_compiler::fmt::format_module;
use weft_compiler::program::Program;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(program) = Program::from_source(std::path::Path::new("fuzz.wf"), text.to_string()) {
        let _ = analyze(&program);
        let _ = format_module(&program.root_module().ast, text);
    }
});
