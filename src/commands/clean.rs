//! `weft clean [--keep N] [--all]`: removes weft's own state under `.weft/` in the current
//! directory, never anything else.

use std::path::Path;

use weft_executor::resume::clean;

use crate::cli::CleanArgs;
use crate::exit;

pub fn run(args: CleanArgs) -> i32 {
    let weft_dir = Path::new(".weft");
    if args.all {
        return match std::fs::remove_dir_all(weft_dir) {
            Ok(()) => {
                eprintln!("weft: removed .weft");
                exit::SUCCESS
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                eprintln!("weft: nothing to clean (no .weft here)");
                exit::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot remove .weft: {e}");
                exit::TASK_FAILED
            }
        };
    }
    match clean(weft_dir, args.keep) {
        Ok(report) => {
            eprintln!(
                "weft: removed {} run(s) and {} cached result(s) ({} file(s), {}); kept {} run(s) and {} cached result(s)",
                report.runs_removed,
                report.entries_removed,
                report.blobs_removed,
                human_bytes(report.bytes_freed),
                report.runs_kept,
                report.entries_kept,
            );
            exit::SUCCESS
        }
        Err(message) => {
            eprintln!("error: {message}");
            exit::TASK_FAILED
        }
    }
}

/// `1.5 MiB`.
fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}
