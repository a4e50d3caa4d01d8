//! Where the ordinary comments of a file go when it is written back.
//!
//! The syntax tree keeps comments apart from the nodes (`Module::comments`, with their byte
//! spans), so the formatter places them by position: a comment on its own line(s) before a
//! node is written before that node, a comment after code on the same line stays at the end
//! of that line. Every comment is written exactly once: the tracker remembers which ones are
//! out, and whatever is left at the end of the file is written there, so nothing is lost even
//! when the spans make no sense (a tree built by hand).

use crate::ast::Comment;

pub(super) struct CommentTracker<'a> {
    source: &'a str,
    comments: &'a [Comment],
    emitted: Vec<bool>,
}

impl<'a> CommentTracker<'a> {
    pub(super) fn new(source: &'a str, comments: &'a [Comment]) -> Self {
        CommentTracker {
            source,
            comments,
            emitted: vec![false; comments.len()],
        }
    }

    pub(super) fn get(&self, index: usize) -> &'a Comment {
        &self.comments[index]
    }

    /// Takes, in source order, the comments not yet written that start in `lo..hi`, except
    /// `excluded` (the trailing comment of a sibling written elsewhere).
    pub(super) fn take_in(&mut self, lo: usize, hi: usize, excluded: Option<usize>) -> Vec<usize> {
        let mut taken = Vec::new();
        for (index, comment) in self.comments.iter().enumerate() {
            if self.emitted[index] || Some(index) == excluded {
                continue;
            }
            if comment.span.start >= lo && comment.span.start < hi {
                self.emitted[index] = true;
                taken.push(index);
            }
        }
        taken
    }

    /// Takes every comment not yet written that starts before `hi`.
    pub(super) fn take_before(&mut self, hi: usize) -> Vec<usize> {
        self.take_in(0, hi, None)
    }

    /// Takes every comment not yet written.
    pub(super) fn take_rest(&mut self) -> Vec<usize> {
        self.take_in(0, usize::MAX, None)
    }

    /// Whether a comment not yet written starts in `lo..hi`.
    pub(super) fn any_in(&self, lo: usize, hi: usize) -> bool {
        self.comments
            .iter()
            .zip(&self.emitted)
            .any(|(comment, emitted)| {
                !emitted && comment.span.start >= lo && comment.span.start < hi
            })
    }

    /// The comment not yet written that follows `anchor` on the same source line with
    /// nothing but blanks and separators (`,` `;`) in between: the one the user wrote at the
    /// end of the line that `anchor` ends. Does not take it.
    pub(super) fn peek_trailing(&self, anchor: usize) -> Option<usize> {
        let (index, comment) = self
            .comments
            .iter()
            .enumerate()
            .filter(|(index, comment)| !self.emitted[*index] && comment.span.start >= anchor)
            .min_by_key(|(_, comment)| comment.span.start)?;
        let between = self.source.get(anchor..comment.span.start)?;
        between
            .chars()
            .all(|c| matches!(c, ' ' | '\t' | ',' | ';'))
            .then_some(index)
    }

    /// Takes the comment `peek_trailing` finds.
    pub(super) fn take_trailing(&mut self, anchor: usize) -> Option<usize> {
        let index = self.peek_trailing(anchor)?;
        self.emitted[index] = true;
        Some(index)
    }

    /// Takes one given comment if it is not written yet.
    pub(super) fn take(&mut self, index: usize) -> Option<usize> {
        if self.emitted[index] {
            return None;
        }
        self.emitted[index] = true;
        Some(index)
    }

    /// The position and character of the first significant character at or after `from`,
    /// skipping blanks, line breaks, comments and the characters in `also_skip`. `None`
    /// when the spans do not point into the text.
    pub(super) fn next_significant(
        &self,
        from: usize,
        also_skip: &[char],
    ) -> Option<(usize, char)> {
        let mut position = from;
        'scan: loop {
            let rest = self.source.get(position..)?;
            for comment in self.comments {
                if comment.span.start == position && comment.span.end > position {
                    position = comment.span.end;
                    continue 'scan;
                }
            }
            let c = rest.chars().next()?;
            if c.is_whitespace() || also_skip.contains(&c) {
                position += c.len_utf8();
                continue;
            }
            return Some((position, c));
        }
    }

    /// Where the code of a node spanning `start..end` ends: before the blanks and comments
    /// its span may have swallowed at its end (a grammar rule ending in an optional part
    /// takes the blanks and comments in front of that part). `end` itself when the spans do
    /// not point into the text.
    pub(super) fn code_end(&self, start: usize, end: usize) -> usize {
        let mut code_end = end;
        loop {
            let Some(text) = self.source.get(start..code_end) else {
                return end;
            };
            code_end = start + text.trim_end().len();
            let swallowed = self.comments.iter().find(|c| {
                c.span.end == code_end && c.span.start >= start && c.span.start < code_end
            });
            match swallowed {
                Some(comment) => code_end = comment.span.start,
                None => return code_end,
            }
        }
    }

    /// Whether the source between `from` and `to` holds an empty line: the user's blank line
    /// that the formatter keeps (at most one).
    pub(super) fn blank_line_between(&self, from: usize, to: usize) -> bool {
        let Some(between) = self.source.get(from..to) else {
            return false;
        };
        let mut lines = between.split('\n');
        // The first piece is the end of the line `from` is on; a blank line is a later piece
        // that is followed by another line break, i.e. any piece but the first and the last.
        lines.next();
        let mut pieces: Vec<&str> = lines.collect();
        pieces.pop();
        pieces.iter().any(|piece| piece.trim().is_empty())
    }
}
