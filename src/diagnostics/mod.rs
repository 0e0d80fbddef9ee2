//! The one place errors become codespan-reporting diagnostics. Every stage
//! (lexer, parser, names, options, runtime) ends in a `Diag`: a `Code`, a
//! message, labelled spans (the first is the primary one) and notes. Stages
//! with typed errors (an enum per stage, each variant with its spans)
//! implement `IntoDiagnostic`, so `?` converts them. This module renders
//! diagnostics, with or without colour, and gives the line and column that
//! `--json` reports.

mod clip;
mod code;
mod lines;

use clip::clipped;
pub use clip::MAX_LINE;
pub use code::Code;
use codespan_reporting::diagnostic::{Diagnostic, Label, Severity};
use codespan_reporting::files::{SimpleFile, SimpleFiles};
use codespan_reporting::term::{self, termcolor};
pub use lines::LineIndex;
use std::ops::Range;

pub type Span = Range<usize>;

/// A problem in a script, before rendering.
#[derive(Clone, Debug, PartialEq)]
pub struct Diag {
    pub code: Code,
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
    /// An error with its code (a `Code`, or while stages are converted,
    /// the code's text) and message.
    pub fn error(code: impl Into<Code>, message: impl Into<String>) -> Diag {
        Diag {
            code: code.into(),
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

/// A stage's typed error that becomes a diagnostic (loxcraft's
/// `AsDiagnostic`, nickel's `IntoDiagnostics`): each stage keeps its own
/// error enum, with the spans in its variants, and says once here how each
/// variant is worded, so every path that finds the same mistake reports it
/// the same way.
pub trait IntoDiagnostic {
    fn into_diagnostic(self) -> Diag;
}

/// `?` turns any stage's error into a `Diag`.
impl<E: IntoDiagnostic> From<E> for Diag {
    fn from(e: E) -> Diag {
        e.into_diagnostic()
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
            "code": self.code.as_str(),
            "severity": match self.severity { Sev::Error => "error", Sev::Warning => "warning" },
            "message": self.message,
            "line": l, "column": c, "end_line": el, "end_column": ec,
            "labels": labels,
            "notes": self.notes,
            "help": help,
        })
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
        .with_code(d.code.as_str())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_clipped_around_the_label() {
        let line = "print ](1); ".repeat(400);
        let src = format!("let a = 1;\n{line}\nprint 2;\n");
        let at = 11 + 12 * 200 + 6; // the `]` of the 200th statement
        let d = Diag::error(Code::E0100, "unexpected `]`").at(at..at + 1, "here");
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
        let d = Diag::error(Code::E0201, "`x` is already declared")
            .at(19..20, "declared again here")
            .at(6..7, "first declared here");
        let text = render_in(&[d], &segs, src, false);
        assert!(text.contains("┌─ <repl:2>:1:7"), "{text}");
        assert!(text.contains("┌─ a.loss:1:7"), "{text}");
    }

    #[test]
    fn short_lines_are_untouched() {
        let src = "print ](1);\n";
        let d = Diag::error(Code::E0100, "unexpected `]`").at(6..7, "here");
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
