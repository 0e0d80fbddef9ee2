//! The one place errors become codespan-reporting diagnostics. Every stage
//! (lexer, parser, names, options, runtime) ends in a `Diag`: a `Code`, a
//! message, labelled spans (the first is the primary one) and notes. Stages
//! with typed errors (an enum per stage, each variant with its spans)
//! implement `IntoDiagnostic`, so `?` converts them. This module renders
//! diagnostics, with or without colour, and gives the line and column that
//! `--json` reports.

mod code;
mod lines;

pub use code::Code;
use codespan_reporting::diagnostic::{Diagnostic, Label, Severity};
use codespan_reporting::files::SimpleFile;
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

/// Turns diagnostics into text. `color` picks ANSI colours.
pub fn render(diags: &[Diag], name: &str, src: &str, color: bool) -> String {
    let file = SimpleFile::new(name, src);
    let config = term::Config::default();
    let mut buf = if color {
        termcolor::Buffer::ansi()
    } else {
        termcolor::Buffer::no_color()
    };
    for d in diags {
        let sev = match d.severity {
            Sev::Error => Severity::Error,
            Sev::Warning => Severity::Warning,
        };
        let labels = d
            .labels
            .iter()
            .enumerate()
            .map(|(i, (span, msg))| {
                let span = clamp_span(span, src);
                if i == 0 {
                    Label::primary((), span).with_message(msg)
                } else {
                    Label::secondary((), span).with_message(msg)
                }
            })
            .collect();
        let diag = Diagnostic::new(sev)
            .with_code(d.code.as_str())
            .with_message(&d.message)
            .with_labels(labels)
            .with_notes(d.notes.clone());
        // Writing into a memory buffer cannot fail except on a bad span,
        // which clamp_span rules out; fall back to the bare message anyway.
        if term::emit(&mut buf, &config, &file, &diag).is_err() {
            let plain = format!("error[{}]: {}\n", d.code, d.message);
            return plain;
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
