//! `weft config schema`.

use crate::cli::{ConfigArgs, ConfigCommand};
use crate::exit;

pub fn run(args: ConfigArgs) -> i32 {
    match args.command {
        ConfigCommand::Schema => {
            let schema = weft_compiler::config::json_schema();
            println!(
                "{}",
                serde_json::to_string_pretty(&schema).expect("a JSON value serialises")
            );
            exit::SUCCESS
        }
    }
}
