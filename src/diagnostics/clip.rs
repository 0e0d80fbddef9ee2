//! Long source lines shown in part. A diagnostic on a line of thousands of
//! characters would reprint all of it under every error, so each long line
//! a label touches is cut to a window around its labels (`...` marks the
//! cuts), the labels are moved to match, and a note says which column the
//! shown part starts at. Line numbers do not change.

use super::{clamp_span, Diag, LineIndex, Span};

/// Source lines longer than this (in bytes) are shown clipped around the
/// labels, so that errors on one huge line do not each reprint all of it.
pub const MAX_LINE: usize = 160;
/// Context kept on each side of the labels on a clipped line.
const CLIP_CONTEXT: usize = 60;
/// What marks a cut in the shown text.
const ELLIPSIS: &str = "...";

/// One long line and the window of it that is shown (byte offsets in the
/// original source; ordered by the line's start).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Cut {
    line: (usize, usize),
    window: (usize, usize),
}

/// A cut and where its window landed in the clipped text.
#[derive(Clone, Copy, Debug)]
struct Placed {
    cut: Cut,
    window: (usize, usize),
}

/// The source as a diagnostic shows it, and the diagnostic with its labels
/// moved into that text (see the module's doc).
pub(super) fn clipped(d: &Diag, src: &str) -> (String, Diag) {
    let index = LineIndex::new(src);
    let mut cuts = long_line_cuts(d, src, &index);
    if cuts.is_empty() {
        return (src.to_string(), d.clone());
    }
    cuts.sort();
    let (out, placed) = splice(src, &cuts);
    let mut d = d.clone();
    for (span, _) in &mut d.labels {
        let s = clamp_span(span, src);
        *span = moved(&placed, s.start)..moved(&placed, s.end);
    }
    // Columns in the header count from the cut; say where the cut is.
    for c in cuts.iter().filter(|c| c.window.0 > c.line.0) {
        let col = src[c.line.0..c.window.0].chars().count() + 1;
        d.notes.push(format!(
            "note: line {} is long; it is shown from column {col}, after the `...`",
            index.line(c.line.0)
        ));
    }
    (out, d)
}

/// A cut for every long line that a label of `d` starts on, once per line.
fn long_line_cuts(d: &Diag, src: &str, index: &LineIndex) -> Vec<Cut> {
    let mut cuts: Vec<Cut> = Vec::new();
    for (span, _) in &d.labels {
        let span = clamp_span(span, src);
        let line = line_range(src, index, index.line(span.start));
        if line.len() <= MAX_LINE || cuts.iter().any(|c| c.line.0 == line.start) {
            continue;
        }
        cuts.push(Cut {
            line: (line.start, line.end),
            window: window(d, src, &line),
        });
    }
    cuts
}

/// The bytes of line `line` (1-based), without its newline.
fn line_range(src: &str, index: &LineIndex, line: usize) -> Span {
    let start = index.line_start(line).unwrap_or(0);
    let end = index.line_start(line + 1).map_or(src.len(), |s| s - 1);
    start..end
}

/// The part of `line` shown: every label on it with `CLIP_CONTEXT` bytes
/// either side, at most twice `MAX_LINE` long, widened to whole characters.
fn window(d: &Diag, src: &str, line: &Span) -> (usize, usize) {
    let on_line = d
        .labels
        .iter()
        .map(|(s, _)| clamp_span(s, src))
        .filter(|s| line.contains(&s.start) || s.start == line.end);
    let (lo, hi) = on_line.fold((usize::MAX, 0), |(lo, hi), s| {
        (lo.min(s.start), hi.max(s.end.min(line.end)))
    });
    let mut ws = lo.saturating_sub(CLIP_CONTEXT).max(line.start);
    let mut we = (hi + CLIP_CONTEXT).min(line.end).min(ws + 2 * MAX_LINE);
    while !src.is_char_boundary(ws) {
        ws -= 1;
    }
    while !src.is_char_boundary(we) {
        we += 1;
    }
    (ws, we)
}

/// The source with each cut line replaced by its window (marked with
/// `...` where something was cut), and where each window landed.
fn splice(src: &str, cuts: &[Cut]) -> (String, Vec<Placed>) {
    let mut out = String::with_capacity(src.len());
    let mut placed = Vec::with_capacity(cuts.len());
    let mut at = 0;
    for &cut in cuts {
        let ((ls, le), (ws, we)) = (cut.line, cut.window);
        out.push_str(&src[at..ls]);
        if ws > ls {
            out.push_str(ELLIPSIS);
        }
        let start = out.len();
        out.push_str(&src[ws..we]);
        let end = out.len();
        if we < le {
            out.push_str(ELLIPSIS);
        }
        placed.push(Placed {
            cut,
            window: (start, end),
        });
        at = le;
    }
    out.push_str(&src[at..]);
    (out, placed)
}

/// Where offset `o` of the source is in the clipped text: on a cut line,
/// inside its window (an offset cut away sticks to the window's edge);
/// elsewhere, shifted by what the cuts before it removed.
fn moved(placed: &[Placed], o: usize) -> usize {
    let mut delta: isize = 0;
    for p in placed {
        let ((ls, le), (ws, we)) = (p.cut.line, p.cut.window);
        let (new_ws, new_we) = p.window;
        if o < ls {
            break;
        }
        if o <= le {
            return if o < ws {
                new_ws
            } else if o > we {
                new_we
            } else {
                new_ws + (o - ws)
            };
        }
        let new_le = new_we + if we < le { ELLIPSIS.len() } else { 0 };
        delta = new_le as isize - le as isize;
    }
    (o as isize + delta) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Code;

    /// A source whose line 2 is `n` bytes of `x`.
    fn long_source(n: usize) -> String {
        format!("a;\n{}\nb;\n", "x".repeat(n))
    }

    #[test]
    fn the_window_keeps_context_around_the_labels() {
        let src = long_source(1000);
        let d = Diag::error(Code::E0100, "m").at(503..504, "here");
        let cuts = long_line_cuts(&d, &src, &LineIndex::new(&src));
        assert_eq!(
            cuts,
            vec![Cut {
                line: (3, 1003),
                window: (443, 564)
            }]
        );
    }

    #[test]
    fn offsets_move_into_the_window_or_past_the_cut() {
        let src = long_source(1000);
        let cut = Cut {
            line: (3, 1003),
            window: (443, 564),
        };
        let (out, placed) = splice(&src, &[cut]);
        assert_eq!(out, format!("a;\n...{}...\nb;\n", "x".repeat(121)));
        // Inside the window: the same character.
        assert_eq!(moved(&placed, 503), 6 + 60);
        // Cut away on the left or right: the window's edge.
        assert_eq!(moved(&placed, 10), 6);
        assert_eq!(moved(&placed, 900), 6 + 121);
        // Before the line: unchanged; after it: shifted with the text.
        assert_eq!(moved(&placed, 1), 1);
        assert_eq!(&out[moved(&placed, 1004)..], "b;\n");
    }

    #[test]
    fn labels_on_one_line_share_one_cut() {
        let src = long_source(1000);
        let d = Diag::error(Code::E0100, "m")
            .at(503..504, "here")
            .at(520..530, "and here");
        let (out, d2) = clipped(&d, &src);
        assert_eq!(d2.notes.len(), 1, "{:?}", d2.notes);
        let (a, b) = (&d2.labels[0].0, &d2.labels[1].0);
        assert_eq!((b.start - a.start, b.len()), (17, 10));
        assert!(out.len() < 300, "{out}");
    }
}
