//! Comparing a run with its expected file: lines, numbers within
//! `--rtol`/`--atol`, decoration masked by [`super::shapes`], and a diff
//! that shows only real differences.
//!
//! Each line is split into numbers and other text; numbers are equal when
//! `|a - b| <= atol + rtol * max(|a|, |b|)`, other text must match exactly
//! after trailing spaces, tabs and carriage returns are trimmed from each
//! line; trailing empty lines are ignored; a line with a different number
//! of tokens differs. Before that, both lines lose their decoration (the
//! best step, call counts, sparklines, table padding), so an equivalent
//! solution that reaches the same numbers passes.

use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp, TextDiff};

use super::expected::{render, Expected};
use super::shapes::undecorate;
use super::Captured;

/// How long the diff algorithm may search before it settles for a coarser
/// (still correct) diff, so a huge output never hangs the checker.
const DIFF_TIMEOUT: Duration = Duration::from_secs(2);

/// The tolerances for numbers.
#[derive(Debug, Clone, Copy)]
pub struct Tol {
    pub rtol: f64,
    pub atol: f64,
}

impl Tol {
    fn close(self, a: f64, b: f64) -> bool {
        a == b || (a - b).abs() <= self.atol + self.rtol * a.abs().max(b.abs())
    }
}

/// Splits text into lines with trailing spaces, tabs and `\r` trimmed, and
/// without trailing empty lines.
pub fn normalize(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end_matches([' ', '\t', '\r']))
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Tok<'a> {
    Text(&'a str),
    Num(&'a str, f64),
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// If a number starts at `i`, returns its end. A number is
/// `[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?`, not preceded or followed by a
/// letter, digit or `_`; the sign belongs to it only when it does not follow
/// `)` or `]`.
fn number_at(b: &[u8], i: usize) -> Option<usize> {
    let prev = if i > 0 { Some(b[i - 1]) } else { None };
    if prev.is_some_and(is_word_byte) {
        return None;
    }
    let digits = |mut k: usize| {
        let start = k;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        (k > start).then_some(k)
    };
    let mut k = i;
    if matches!(b.get(k), Some(b'+' | b'-')) {
        if matches!(prev, Some(b')' | b']')) {
            return None;
        }
        k += 1;
    }
    k = match digits(k) {
        Some(end) => {
            if b.get(end) == Some(&b'.') {
                digits(end + 1).unwrap_or(end)
            } else {
                end
            }
        }
        None if b.get(k) == Some(&b'.') => digits(k + 1)?,
        None => return None,
    };
    if matches!(b.get(k), Some(b'e' | b'E')) {
        let mut e = k + 1;
        if matches!(b.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        if let Some(end) = digits(e) {
            k = end;
        }
    }
    if b.get(k).copied().is_some_and(is_word_byte) {
        return None;
    }
    Some(k)
}

/// Splits a line into numbers and the text between them. `inf` and `nan`
/// are text.
pub(crate) fn tokenize(line: &str) -> Vec<Tok<'_>> {
    let b = line.as_bytes();
    let mut toks = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i < b.len() {
        if let Some(end) = number_at(b, i) {
            // Numbers are ASCII, so both ends are char boundaries.
            let s = &line[i..end];
            if let Ok(v) = s.parse::<f64>() {
                if text_start < i {
                    toks.push(Tok::Text(&line[text_start..i]));
                }
                toks.push(Tok::Num(s, v));
                i = end;
                text_start = end;
                continue;
            }
        }
        i += 1;
    }
    if text_start < b.len() {
        toks.push(Tok::Text(&line[text_start..]));
    }
    toks
}

/// Whether two lines agree: equal once undecorated, or token by token with
/// numbers within the tolerances.
pub fn lines_match(e: &str, a: &str, tol: Tol) -> bool {
    if e == a {
        return true;
    }
    let (e, a) = (undecorate(e), undecorate(a));
    if e == a {
        return true;
    }
    let (te, ta) = (tokenize(&e), tokenize(&a));
    te.len() == ta.len()
        && te.iter().zip(&ta).all(|(x, y)| match (x, y) {
            (Tok::Text(x), Tok::Text(y)) => x == y,
            (Tok::Num(_, x), Tok::Num(_, y)) => tol.close(*x, *y),
            _ => false,
        })
}

pub fn texts_match(expected: &str, actual: &str, tol: Tol) -> bool {
    let (e, a) = (normalize(expected), normalize(actual));
    e.len() == a.len() && e.iter().zip(&a).all(|(x, y)| lines_match(x, y, tol))
}

/// The line's outline: its undecorated text with every number replaced by
/// a placeholder, so lines that differ only in numbers are paired.
fn outline(line: &str) -> Vec<Option<String>> {
    tokenize(&undecorate(line))
        .into_iter()
        .map(|t| match t {
            Tok::Text(s) => Some(s.to_string()),
            Tok::Num(..) => None,
        })
        .collect()
}

/// The actual text, normalized, with every number that matches its
/// counterpart in the expected text within tolerance spelled as the expected
/// text spells it, so the diff shows only real differences. Lines are paired
/// by a diff of their shapes.
fn align_numbers(expected: &str, actual: &str, tol: Tol) -> String {
    let (e, a) = (normalize(expected), normalize(actual));
    let (se, sa): (Vec<_>, Vec<_>) = (
        e.iter().map(|l| outline(l)).collect(),
        a.iter().map(|l| outline(l)).collect(),
    );
    let mut lines: Vec<String> = a.iter().map(|l| l.to_string()).collect();
    let deadline = Some(Instant::now() + DIFF_TIMEOUT);
    for op in similar::capture_diff_slices_deadline(Algorithm::Myers, &se, &sa, deadline) {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            for k in 0..len {
                if lines_match(e[old_index + k], a[new_index + k], tol) {
                    lines[new_index + k] = e[old_index + k].to_string();
                    continue;
                }
                let (te, ta) = (tokenize(e[old_index + k]), tokenize(a[new_index + k]));
                if te.len() != ta.len() {
                    continue;
                }
                let mut s = String::new();
                for (x, y) in te.iter().zip(&ta) {
                    match (x, y) {
                        (Tok::Num(se, ve), Tok::Num(_, va)) if tol.close(*ve, *va) => {
                            s.push_str(se)
                        }
                        (_, Tok::Num(sa, _)) | (_, Tok::Text(sa)) => s.push_str(sa),
                    }
                }
                lines[new_index + k] = s;
            }
        }
    }
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// The result of comparing a run with its expected file.
pub struct Comparison {
    pub passed: bool,
    pub reasons: Vec<String>,
    pub diff: String,
}

/// Compares a run with its expected file: exit status, stdout and (when
/// the file has a `--- stderr` section) stderr.
pub fn compare(exp: &Expected, act: &Captured, tol: Tol) -> Comparison {
    let want_status = exp.exit.unwrap_or(0);
    let status_ok = act.status == want_status;
    let stdout_ok = texts_match(&exp.stdout, &act.stdout, tol);
    let stderr_ok = exp
        .stderr
        .as_ref()
        .is_none_or(|e| texts_match(e, &act.stderr, tol));
    if status_ok && stdout_ok && stderr_ok {
        return Comparison {
            passed: true,
            reasons: Vec::new(),
            diff: String::new(),
        };
    }
    let mut reasons = Vec::new();
    if !status_ok {
        reasons.push(if exp.exit.is_none() {
            format!(
                "the run exited with status {} (a failed `expect` or an error), but the expected \
                 file has no `--- exit N` line, so the script must exit 0",
                act.status
            )
        } else {
            format!("exit status {}, expected {}", act.status, want_status)
        });
    }
    if !stdout_ok {
        reasons.push("stdout differs".to_string());
    }
    if !stderr_ok {
        reasons.push("stderr (the diagnostic) differs".to_string());
    }

    let show_stderr = exp.stderr.is_some() || (!status_ok && !act.stderr.trim().is_empty());
    let show_exit = exp.exit.is_some() || act.status != 0;
    let expected_text = render(&exp.stdout, exp.stderr.as_deref(), exp.exit);
    let actual_stdout = align_numbers(&exp.stdout, &act.stdout, tol);
    let actual_stderr =
        show_stderr.then(|| align_numbers(exp.stderr.as_deref().unwrap_or(""), &act.stderr, tol));
    let actual_text = render(
        &actual_stdout,
        actual_stderr.as_deref(),
        show_exit.then_some(act.status),
    );
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(&expected_text, &actual_text)
        .unified_diff()
        .header("expected", "actual")
        .to_string();
    Comparison {
        passed: false,
        reasons,
        diff,
    }
}
