//! Robustness: hover, go to definition and completion answer (or decline) at every position of
//! real programs, and of the same programs cut short as while typing, without panicking.

use std::path::{Path, PathBuf};

fn programs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    for dir in ["examples", "stdlib/std"] {
        let entries = std::fs::read_dir(root.join(dir)).expect("the folder exists");
        for entry in entries.flatten() {
            if entry.path().extension().is_some_and(|e| e == "wf") {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    assert!(
        files.len() >= 6,
        "the examples and the standard library: {files:?}"
    );
    files
}

#[test]
fn every_offset_of_every_example() {
    let mut answered = 0;
    for path in programs() {
        let text = std::fs::read_to_string(&path).unwrap();
        let analysis = weft_lsp::testing::analyse(&path, &text);
        for offset in 0..=text.len() {
            if !text.is_char_boundary(offset) {
                continue;
            }
            answered += usize::from(weft_lsp::testing::hover(&analysis, offset).is_some());
            weft_lsp::testing::definition(&analysis, offset);
            if offset % 5 == 0 {
                weft_lsp::testing::completion(&analysis, offset);
            }
        }
    }
    assert!(
        answered > 1000,
        "hover answers on names and keywords: {answered}"
    );
}

#[test]
fn programs_cut_short_while_typing() {
    for path in programs() {
        let text = std::fs::read_to_string(&path).unwrap();
        let mut cut = 0;
        while cut < text.len() {
            if text.is_char_boundary(cut) {
                let partial = &text[..cut];
                let analysis = weft_lsp::testing::analyse(&path, partial);
                weft_lsp::testing::completion(&analysis, cut);
                weft_lsp::testing::hover(&analysis, cut.saturating_sub(1));
            }
            cut += 97;
        }
    }
}
