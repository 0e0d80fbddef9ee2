//! The one place errors become codespan-reporting diagnostics. Every stage
//! (lexer, parser, names, options, runtime) produces a `Diag`: a code, a
//! message, labelled spans (the first is the primary one) and notes. This
//! module renders them, with or without colour, and gives the line and
//! column that `--json` reports.

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity};
use codespan_reporting::files::{SimpleFile, SimpleFiles};
use codespan_reporting::term::{self, termcolor};
use std::ops::Range;

pub type Span = Range<usize>;

/// A problem in a script, before rendering.
#[derive(Clone, Debug, PartialEq)]
pub struct Diag {
    pub code: &'static str,
    pub message: String,
    /// Labelled spans; the first is primary. Empty for whole-file problems.
    pub labels: Vec<(Span, String)>,
    /// "help: ..." lines.
    pub notes: Vec<String>,
    pub severity: Sev,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sev {
    Error,
    Warning,
}

impl Diag {
    pub fn error(code: &'static str, message: impl Into<String>) -> Diag {
        Diag {
            code,
            message: message.into(),
            labels: Vec::new(),
            notes: Vec::new(),
            severity: Sev::Error,
        }
    }

    /// Adds a labelled span (the first one added is the primary label).
    pub fn at(mut self, span: Span, label: impl Into<String>) -> Diag {
        self.labels.push((span, label.into()));
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Diag {
        self.notes.push(note.into());
        self
    }

    pub fn primary_span(&self) -> Option<&Span> {
        self.labels.first().map(|(s, _)| s)
    }

    /// 1-based line and column of the primary span (1, 1 when there is none).
    pub fn line_col(&self, src: &str) -> (usize, usize) {
        match self.primary_span() {
            Some(s) => line_col(src, s.start),
            None => (1, 1),
        }
    }
}

/// The JSON form of a diagnostic (`--json`'s `error` and `errors`): the
/// code, message, the primary span's start and end (1-based lines and
/// columns), every label, the notes, and the first `help:` note on its own.
impl Diag {
    pub fn to_json(&self, src: &str) -> serde_json::Value {
        let pos = |at: usize| {
            let (l, c) = line_col(src, at);
            (serde_json::json!(l), serde_json::json!(c))
        };
        let labels: Vec<serde_json::Value> = self
            .labels
            .iter()
            .enumerate()
            .map(|(i, (span, msg))| {
                let ((l, c), (el, ec)) = (pos(span.start), pos(span.end));
                serde_json::json!({"message": msg, "primary": i == 0, "line": l, "column": c,
                    "end_line": el, "end_column": ec})
            })
            .collect();
        let null = || (serde_json::Value::Null, serde_json::Value::Null);
        let ((l, c), (el, ec)) = match self.primary_span() {
            Some(s) => (pos(s.start), pos(s.end)),
            None => (null(), null()),
        };
        let help = self
            .notes
            .iter()
            .find_map(|n| n.strip_prefix("help: "))
            .map(str::to_string);
        serde_json::json!({
            "code": self.code,
            "severity": match self.severity { Sev::Error => "error", Sev::Warning => "warning" },
            "message": self.message,
            "line": l, "column": c, "end_line": el, "end_column": ec,
            "labels": labels,
            "notes": self.notes,
            "help": help,
        })
    }
}

/// Line starts of a text, for many line lookups in linear time overall
/// (a script with thousands of errors must not rescan the text for each).
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    pub fn new(src: &str) -> LineIndex {
        let mut starts = vec![0];
        starts.extend(src.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex(starts)
    }

    /// 1-based line of byte offset `at`.
    pub fn line(&self, at: usize) -> usize {
        self.0.partition_point(|&s| s <= at)
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
pub fn line_col(src: &str, at: usize) -> (usize, usize) {
    let at = at.min(src.len());
    let mut at = at;
    while !src.is_char_boundary(at) {
        at -= 1;
    }
    let before = &src[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = src[line_start..at].chars().count() + 1;
    (line, col)
}

/// Source lines longer than this (in bytes) are shown clipped around the
/// labels, so that errors on one huge line do not each reprint all of it.
pub const MAX_LINE: usize = 160;
/// Context kept on each side of the labels on a clipped line.
const CLIP_CONTEXT: usize = 60;

/// The source as a diagnostic shows it: every long line that a label
/// touches is cut to a window around its labels (`...` marks the cuts), and
/// the labels are moved to match. Line numbers do not change.
fn clipped(d: &Diag, src: &str) -> (String, Diag) {
    let index = LineIndex::new(src);
    let line_range = |line: usize| {
        let start = index.0[line - 1];
        let end = index.0.get(line).map_or(src.len(), |&s| s - 1);
        start..end
    };
    // (line start, line end, window start, window end) per long line.
    let mut cuts: Vec<(usize, usize, usize, usize)> = Vec::new();
    for (span, _) in &d.labels {
        let span = clamp_span(span, src);
        let line = line_range(index.line(span.start));
        if line.len() <= MAX_LINE || cuts.iter().any(|c| c.0 == line.start) {
            continue;
        }
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
        cuts.push((line.start, line.end, ws, we));
    }
    if cuts.is_empty() {
        return (src.to_string(), d.clone());
    }
    cuts.sort();
    let mut out = String::with_capacity(src.len());
    // (old offset, new offset) at the start of each kept piece, to move spans.
    let mut moves: Vec<(usize, usize, usize, usize)> = Vec::new();
    let mut at = 0;
    for &(ls, le, ws, we) in &cuts {
        out.push_str(&src[at..ls]);
        if ws > ls {
            out.push_str("...");
        }
        let new_ws = out.len();
        out.push_str(&src[ws..we]);
        let new_we = out.len();
        if we < le {
            out.push_str("...");
        }
        moves.push((ls, le, ws, we));
        moves.push((new_ws, new_we, 0, 0));
        at = le;
    }
    out.push_str(&src[at..]);
    let map = |o: usize| {
        let mut delta: isize = 0;
        for pair in moves.chunks(2) {
            let ((ls, le, ws, we), (nws, nwe, _, _)) = (pair[0], pair[1]);
            if o < ls {
                break;
            }
            if o <= le {
                return if o < ws {
                    nws
                } else if o > we {
                    nwe
                } else {
                    nws + (o - ws)
                };
            }
            let new_le = nwe + if we < le { 3 } else { 0 };
            delta = new_le as isize - le as isize;
        }
        (o as isize + delta) as usize
    };
    let mut d = d.clone();
    for (span, _) in &mut d.labels {
        let s = clamp_span(span, src);
        *span = map(s.start)..map(s.end);
    }
    // Columns in the header count from the cut; say where the cut is.
    for &(ls, _, ws, _) in cuts.iter().filter(|c| c.2 > c.0) {
        let col = src[ls..ws].chars().count() + 1;
        d.notes.push(format!(
            "note: line {} is long; it is shown from column {col}, after the `...`",
            index.line(ls)
        ));
    }
    (out, d)
}

/// The codespan form of `d`; `place` gives each label's file and span.
fn to_codespan<F: Copy>(d: &Diag, place: impl Fn(&Span) -> (F, Span)) -> Diagnostic<F> {
    let sev = match d.severity {
        Sev::Error => Severity::Error,
        Sev::Warning => Severity::Warning,
    };
    let labels = d
        .labels
        .iter()
        .enumerate()
        .map(|(i, (span, msg))| {
            let (file, span) = place(span);
            if i == 0 {
                Label::primary(file, span).with_message(msg)
            } else {
                Label::secondary(file, span).with_message(msg)
            }
        })
        .collect();
    Diagnostic::new(sev)
        .with_code(d.code)
        .with_message(&d.message)
        .with_labels(labels)
        .with_notes(d.notes.clone())
}

fn buffer(color: bool) -> termcolor::Buffer {
    if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    }
}

/// Turns diagnostics into text. `color` picks ANSI colours.
pub fn render(diags: &[Diag], name: &str, src: &str, color: bool) -> String {
    let config = term::Config::default();
    let mut buf = buffer(color);
    for d in diags {
        let (text, d) = clipped(d, src);
        let src = text.as_str();
        let file = SimpleFile::new(name, src);
        let diag = to_codespan(&d, |span| ((), clamp_span(span, src)));
        // Writing into a memory buffer cannot fail except on a bad span,
        // which clamp_span rules out; fall back to the bare message anyway.
        if term::emit(&mut buf, &config, &file, &diag).is_err() {
            return format!("error[{}]: {}\n", d.code, d.message);
        }
    }
    String::from_utf8_lossy(buf.as_slice()).into_owned()
}

/// Renders diagnostics whose spans point into several sources laid end to
/// end in `src`: `segments` gives each one's name and start (the REPL's
/// inputs and loaded files). Each label is shown in its own source, with
/// lines counted from that source's start.
pub fn render_in(diags: &[Diag], segments: &[(String, usize)], src: &str, color: bool) -> String {
    if segments.len() <= 1 {
        let name = segments.first().map_or("", |s| s.0.as_str());
        return render(diags, name, src, color);
    }
    let mut files = SimpleFiles::new();
    let ends = segments.iter().skip(1).map(|s| s.1).chain([src.len()]);
    let bounds: Vec<(usize, usize)> = segments
        .iter()
        .zip(ends)
        .map(|((name, base), end)| (files.add(name.as_str(), &src[*base..end]), *base))
        .collect();
    let place = |span: &Span| {
        let span = clamp_span(span, src);
        let k = segments
            .partition_point(|s| s.1 <= span.start)
            .saturating_sub(1);
        let (id, base) = bounds[k];
        let end = segments.get(k + 1).map_or(src.len(), |s| s.1);
        (id, span.start - base..span.end.min(end) - base)
    };
    let config = term::Config::default();
    let mut buf = buffer(color);
    for d in diags {
        let diag = to_codespan(d, place);
        if term::emit(&mut buf, &config, &files, &diag).is_err() {
            return format!("error[{}]: {}\n", d.code, d.message);
        }
    }
    String::from_utf8_lossy(buf.as_slice()).into_owned()
}

fn clamp_span(span: &Span, src: &str) -> Span {
    let fix = |mut i: usize| {
        i = i.min(src.len());
        while !src.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let (a, b) = (fix(span.start), fix(span.end));
    a..b.max(a)
}

/// Every diagnostic code, with a one-line description, for docs and tests.
pub const CODES: &[(&str, &str)] = &[
    ("E0001", "a character that starts no token"),
    ("E0002", "an unterminated string"),
    ("E0003", "an unknown escape in a string"),
    ("E0004", "brackets nested too deeply"),
    ("E0005", "a number that does not fit an f64"),
    (
        "E0100",
        "a syntax error (with the tokens that were expected)",
    ),
    ("E0101", "the script ends in the middle of a statement"),
    ("E0102", "an expression nested too deeply"),
    ("E0200", "an unknown name (with a did-you-mean hint)"),
    ("E0201", "a name declared twice"),
    ("E0202", "a function that calls itself"),
    (
        "E0203",
        "a built-in or function called with the wrong number of arguments",
    ),
    (
        "E0204",
        "something that is not a parameter where a parameter is needed",
    ),
    (
        "E0205",
        "something the grammar accepts that cannot run here (Minuit on more than 1000 parameter elements)",
    ),
    (
        "E0206",
        "a value of the wrong type (a mask where a number is needed, ...)",
    ),
    (
        "E0207",
        "a parameter's initial value or limits are not constant or not valid",
    ),
    ("E0208", "a bare expression in a script (it does nothing)"),
    ("E0300", "an unknown optimizer (with a did-you-mean hint)"),
    ("E0301", "an unknown optimizer option (with the valid ones)"),
    ("E0302", "an optimizer option of the wrong type"),
    ("E0303", "an optimizer option out of range"),
    (
        "E0304",
        "`for N steps` or `points N` that is not a positive whole number, or `for` given to Minuit",
    ),
    (
        "E0305",
        "an objective that is not a scalar or depends on no free parameter",
    ),
    (
        "E0400",
        "a non-finite loss or gradient during a minimization",
    ),
    ("E0401", "a failed `expect`"),
    (
        "E0402",
        "a runtime error in an expression (shape, domain, size)",
    ),
    (
        "E0403",
        "HESSE or MINOS without a Minuit minimum, or on an unknown or fixed name; a plot of a minimization that did not run",
    ),
    (
        "E0404",
        "a csv file that cannot be read, a bad cell, or a column it does not have",
    ),
    ("E0406", "a plot that cannot be written (unknown extension, missing directory), or a script's plot without a file"),
    (
        "E0500",
        "the script cannot be read (missing, a directory, not UTF-8)",
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_clipped_around_the_label() {
        let line = "print ](1); ".repeat(400);
        let src = format!("let a = 1;\n{line}\nprint 2;\n");
        let at = 11 + 12 * 200 + 6; // the `]` of the 200th statement
        let d = Diag::error("E0100", "unexpected `]`").at(at..at + 1, "here");
        let text = render(&[d], "x.loss", &src, false);
        // 2407 - 2347 + 1 = 61 characters into the shown part, after `...`.
        assert!(text.contains("x.loss:2:64"), "{text}");
        assert!(
            text.contains("line 2 is long; it is shown from column 2347"),
            "{text}"
        );
        assert!(text.len() < 1000, "{} bytes:\n{text}", text.len());
        let shown = text
            .lines()
            .find(|l| l.starts_with("2 │"))
            .unwrap_or_default();
        assert!(
            shown.starts_with("2 │ ...") && shown.ends_with("..."),
            "{shown}"
        );
        let caret = text.lines().find(|l| l.contains('^')).unwrap_or_default();
        assert_eq!(
            caret.find('^').map(|i| &shown[i..i + 1]),
            Some("]"),
            "{text}"
        );
    }

    #[test]
    fn labels_are_shown_in_their_own_source() {
        let src = "param x = 1;\nparam x = 2;\n";
        let segs = vec![("a.loss".to_string(), 0), ("<repl:2>".to_string(), 13)];
        let d = Diag::error("E0201", "`x` is already declared")
            .at(19..20, "declared again here")
            .at(6..7, "first declared here");
        let text = render_in(&[d], &segs, src, false);
        assert!(text.contains("┌─ <repl:2>:1:7"), "{text}");
        assert!(text.contains("┌─ a.loss:1:7"), "{text}");
    }

    #[test]
    fn short_lines_are_untouched() {
        let src = "print ](1);\n";
        let d = Diag::error("E0100", "unexpected `]`").at(6..7, "here");
        assert_eq!(clipped(&d, src).0, src);
    }

    #[test]
    fn line_index_agrees_with_line_col() {
        let src = "a\nbb\n\nccc";
        let index = LineIndex::new(src);
        for at in 0..=src.len() {
            assert_eq!(index.line(at), line_col(src, at).0, "at {at}");
        }
    }
}
