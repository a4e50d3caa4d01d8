//! Positions: the compiler speaks in byte offsets, the protocol in lines and UTF-16 code units.

use lsp_types::{Position, Range};
use weft_compiler::ast::Span;

/// The start of every line of a text, to turn byte offsets into protocol positions and back.
#[derive(Clone, Debug)]
pub struct LineIndex {
    /// Byte offset of the first character of each line.
    line_starts: Vec<usize>,
}

impl LineIndex {
    pub fn new(text: &str) -> LineIndex {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { line_starts }
    }

    /// The protocol position of a byte offset (clamped to the text and to a char boundary).
    pub fn position(&self, text: &str, offset: usize) -> Position {
        let mut offset = offset.min(text.len());
        while !text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset) - 1;
        let start = self.line_starts[line];
        let character: usize = text[start..offset].chars().map(char::len_utf16).sum();
        Position::new(line as u32, character as u32)
    }

    /// The byte offset of a protocol position; a position past the end of its line is the end
    /// of the line, a line past the end of the text is the end of the text.
    pub fn offset(&self, text: &str, position: Position) -> usize {
        let Some(&start) = self.line_starts.get(position.line as usize) else {
            return text.len();
        };
        let line_end = self
            .line_starts
            .get(position.line as usize + 1)
            .map_or(text.len(), |next| next - 1);
        let mut units = 0usize;
        for (i, c) in text[start..line_end].char_indices() {
            if units >= position.character as usize {
                return start + i;
            }
            units += c.len_utf16();
        }
        line_end
    }

    pub fn range(&self, text: &str, span: Span) -> Range {
        Range::new(
            self.position(text, span.start),
            self.position(text, span.end),
        )
    }
}

/// A document's text with its line index.
#[derive(Clone, Debug)]
pub struct Text {
    pub text: String,
    pub lines: LineIndex,
}

impl Text {
    pub fn new(text: String) -> Text {
        let lines = LineIndex::new(&text);
        Text { text, lines }
    }

    pub fn offset(&self, position: Position) -> usize {
        self.lines.offset(&self.text, position)
    }

    pub fn range(&self, span: Span) -> Range {
        self.lines.range(&self.text, span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_and_positions_round_trip_through_utf16() {
        let text = Text::new("let é = \"𝄞x\"\nprint(é)\n".to_string());
        // `x` is after a 4-byte character that takes two UTF-16 units.
        let x = text.text.find('x').unwrap();
        let position = text.lines.position(&text.text, x);
        assert_eq!(position, Position::new(0, 11));
        assert_eq!(text.offset(position), x);
        let print = text.text.find("print").unwrap();
        assert_eq!(text.lines.position(&text.text, print), Position::new(1, 0));
        assert_eq!(text.offset(Position::new(1, 0)), print);
    }

    #[test]
    fn positions_past_the_end_are_clamped() {
        let text = Text::new("ab\ncd".to_string());
        assert_eq!(text.offset(Position::new(0, 99)), 2);
        assert_eq!(text.offset(Position::new(7, 0)), 5);
        assert_eq!(text.lines.position(&text.text, 99), Position::new(1, 2));
    }
}
