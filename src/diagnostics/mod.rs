//! The one place errors become codespan-reporting diagnostics. Every stage
//! (lexer, parser, names, options, runtime) produces a `Diag`: a code, a
//! message, labelled spans (the first is the primary one) and notes. This
//! module renders them, with or without colour, and gives the line and
//! column that `--json` reports.

use codespan_reporting::diagnostic::{Diagnostic, Label, Severity};
use codespan_reporting::files::SimpleFile;
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
            .with_code(d.code)
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
    ("E0406", "a plot that cannot be written (unknown extension, missing directory)"),
    (
        "E0500",
        "the script cannot be read (missing, a directory, not UTF-8)",
    ),
];
