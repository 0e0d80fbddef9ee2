//! Byte offset to line and column in O(log n): the start of every line,
//! found once. A session asks for the line of every statement it runs, so
//! scanning the source from the start each time made a long script
//! quadratic (40,000 statements took seconds).

/// The byte offset where each line of a source starts.
#[derive(Clone, Debug)]
pub struct LineIndex {
    starts: Vec<usize>,
    /// How much of the source has been scanned (the REPL's source grows).
    scanned: usize,
}

impl Default for LineIndex {
    /// The index of an empty source.
    fn default() -> LineIndex {
        LineIndex::new("")
    }
}

impl LineIndex {
    pub fn new(src: &str) -> LineIndex {
        let mut ix = LineIndex {
            starts: vec![0],
            scanned: 0,
        };
        ix.update(src);
        ix
    }

    /// Indexes what was appended to `src` since the last call. A source that
    /// is not an extension of the indexed one (shorter) is indexed afresh.
    pub fn update(&mut self, src: &str) {
        if src.len() < self.scanned {
            *self = LineIndex::new(src);
            return;
        }
        let from = self.scanned;
        let newlines = src.as_bytes()[from..].iter().enumerate();
        self.starts.extend(
            newlines
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| from + i + 1),
        );
        self.scanned = src.len();
    }

    /// 1-based line of byte offset `at` (offsets past the end are on the
    /// last line).
    pub fn line(&self, at: usize) -> usize {
        self.starts.partition_point(|&s| s <= at).max(1)
    }

    /// Byte offset where 1-based line `line` starts, if the source has it.
    pub fn line_start(&self, line: usize) -> Option<usize> {
        line.checked_sub(1)
            .and_then(|i| self.starts.get(i).copied())
    }

    /// 1-based line and column (in characters) of byte offset `at` in `src`,
    /// the source this index was built from.
    pub fn line_col(&self, src: &str, at: usize) -> (usize, usize) {
        let mut at = at.min(src.len());
        while !src.is_char_boundary(at) {
            at -= 1;
        }
        let line = self.starts.partition_point(|&s| s <= at).max(1);
        let start = self.starts[line - 1].min(at);
        (line, src[start..at].chars().count() + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::line_col;

    #[test]
    fn agrees_with_the_scan_at_every_offset() {
        let src = "a\nbé c\n\n  d\n";
        let ix = LineIndex::new(src);
        for at in 0..=src.len() + 2 {
            assert_eq!(ix.line_col(src, at), line_col(src, at), "at {at}");
        }
    }

    #[test]
    fn a_growing_source_is_indexed_incrementally() {
        let mut src = String::from("print 1;\n");
        let mut ix = LineIndex::new(&src);
        src.push_str("print 2;\nprint 3;");
        ix.update(&src);
        assert_eq!(ix.line_col(&src, src.len() - 1), (3, 8));
        ix.update("x");
        assert_eq!(ix.line_col("x", 0), (1, 1));
    }

    #[test]
    fn many_lines_are_fast() {
        let src = "print 1, 2, 3;\n".repeat(200_000);
        let t = std::time::Instant::now();
        let ix = LineIndex::new(&src);
        let mut sum = 0;
        for k in 0..200_000 {
            sum += ix.line_col(&src, k * 15).0;
        }
        assert_eq!(sum, 200_000 * 200_001 / 2);
        assert!(t.elapsed().as_secs_f64() < 2.0, "{:?}", t.elapsed());
    }
}
