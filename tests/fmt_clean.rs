//! The repository's own weft files are in the canonical style: `weft fmt --check` passes.

use std::path::PathBuf;

fn weft_files(dir: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "wf"))
        .collect();
    files.sort();
    files
}

#[test]
fn examples_and_the_standard_library_are_formatted() {
    let files: Vec<PathBuf> = weft_files("examples")
        .into_iter()
        .chain(weft_files("stdlib/std"))
        .collect();
    assert!(files.len() >= 6, "found only {files:?}");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_weft"))
        .arg("fmt")
        .arg("--check")
        .args(&files)
        .env("NO_COLOR", "1")
        .output()
        .expect("weft runs");
    assert!(
        output.status.success(),
        "files weft fmt would change:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
