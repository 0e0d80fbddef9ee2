//! The expected-file format: what a blessed run looks like on disk, and the
//! weighted `expect` lines in it that the score is counted from.
//!
//! ```text
//! <the script's stdout>
//! --- stderr
//! <the diagnostic, without colour>
//! --- exit 1
//! ```
//!
//! The `--- stderr` section and the `--- exit N` line are both optional: a
//! file without them is just the stdout of a run that must exit 0, and
//! without a `--- stderr` section stderr is not compared. A line of output
//! that would read as a marker is written with one more leading backslash
//! (`\--- stderr`), so every output round-trips through `--bless`. The file
//! stays plain text a teacher can read and edit; a file that cannot be ours
//! (not UTF-8, binary, misplaced markers) is refused with its line number.

use super::compare::normalize;

const STDERR_MARKER: &str = "--- stderr";
const EXIT_MARKER: &str = "--- exit";

/// A parsed expected file.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    pub stdout: String,
    /// `None`: stderr is not compared.
    pub stderr: Option<String>,
    /// `None`: no marker, the run must exit 0.
    pub exit: Option<i32>,
}

/// Why a file is not an expected file: the 1-based line and what is wrong.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct FormatError {
    pub line: usize,
    pub what: String,
}

fn bad(line: usize, what: impl Into<String>) -> FormatError {
    FormatError {
        line,
        what: what.into(),
    }
}

/// Whether a line (after its leading backslashes) reads as a marker.
fn marker_like(line: &str) -> bool {
    let t = line.trim_start_matches('\\').trim_end();
    t == STDERR_MARKER || t.starts_with(EXIT_MARKER)
}

fn escape_line(line: &str) -> String {
    if marker_like(line) {
        format!("\\{line}")
    } else {
        line.to_string()
    }
}

fn unescape_line(line: &str) -> &str {
    match line.strip_prefix('\\') {
        Some(rest) if marker_like(rest) => rest,
        _ => line,
    }
}

/// Reads the bytes of an expected file. Text that is not UTF-8, or that
/// holds NUL bytes, is some other program's file.
pub fn parse_bytes(bytes: &[u8]) -> Result<Expected, FormatError> {
    let line_of = |offset: usize| 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
    let text = std::str::from_utf8(bytes).map_err(|e| {
        bad(
            line_of(e.valid_up_to()),
            "not UTF-8 text, so not an expected file of losslang check",
        )
    })?;
    if let Some(at) = text.find('\0') {
        return Err(bad(
            line_of(at),
            "a NUL byte: a binary file, not an expected file of losslang check",
        ));
    }
    parse(text)
}

/// Parses the text of an expected file.
pub fn parse(text: &str) -> Result<Expected, FormatError> {
    let mut lines: Vec<&str> = text.lines().collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let exit = take_exit(&mut lines)?;
    let (stdout, stderr) = match stderr_marker(&lines)? {
        Some(i) => (joined(&lines[..i]), Some(joined(&lines[i + 1..]))),
        None => (joined(&lines), None),
    };
    Ok(Expected {
        stdout,
        stderr,
        exit,
    })
}

/// Removes the `--- exit N` line, which may only be the last, and gives N.
fn take_exit(lines: &mut Vec<&str>) -> Result<Option<i32>, FormatError> {
    let mut exit = None;
    if let Some(last) = lines.last() {
        let t = last.trim_end();
        if let Some(rest) = t.strip_prefix(EXIT_MARKER) {
            let code = rest
                .trim()
                .parse::<i32>()
                .ok()
                .filter(|_| rest.starts_with(' '))
                .ok_or_else(|| {
                    bad(
                        lines.len(),
                        format!(
                            "malformed exit marker `{t}` (expected `--- exit N`, N an integer)"
                        ),
                    )
                })?;
            exit = Some(code);
            lines.pop();
        }
    }
    if let Some(i) = lines
        .iter()
        .position(|l| l.trim_end().starts_with(EXIT_MARKER))
    {
        return Err(bad(
            i + 1,
            "a `--- exit N` line must be the last line of the file",
        ));
    }
    Ok(exit)
}

/// The index of the one `--- stderr` line, if there is one.
fn stderr_marker(lines: &[&str]) -> Result<Option<usize>, FormatError> {
    let mut markers = (0..lines.len()).filter(|&i| lines[i].trim_end() == STDERR_MARKER);
    let first = markers.next();
    if let Some(second) = markers.next() {
        return Err(bad(
            second + 1,
            "a second `--- stderr` line (write an output line that reads as a marker with a leading backslash)",
        ));
    }
    Ok(first)
}

/// The lines unescaped, each ended by a newline.
fn joined(lines: &[&str]) -> String {
    let mut s = String::new();
    for l in lines {
        s.push_str(unescape_line(l));
        s.push('\n');
    }
    s
}

/// Renders sections in the expected-file format (normalized, escaped).
pub fn render(stdout: &str, stderr: Option<&str>, exit: Option<i32>) -> String {
    fn push(s: &mut String, text: &str) {
        for l in normalize(text) {
            s.push_str(&escape_line(l));
            s.push('\n');
        }
    }
    let mut s = String::new();
    push(&mut s, stdout);
    if let Some(e) = stderr {
        s.push_str(STDERR_MARKER);
        s.push('\n');
        push(&mut s, e);
    }
    if let Some(code) = exit {
        s.push_str(&format!("{EXIT_MARKER} {code}\n"));
    }
    s
}

/// One `expect` line of a report: `expect passed: TEXT`, or with a weight
/// `expect FAILED (0/2 points): TEXT`.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectLine {
    pub passed: bool,
    /// The weight (`points N`), if the expect has one.
    pub points: Option<u64>,
    /// What follows the colon: the message, the condition and the values.
    pub text: String,
}

/// Reads an `expect` line of the text report, if `line` is one.
pub fn expect_line(line: &str) -> Option<ExpectLine> {
    let rest = line.strip_prefix("expect ")?;
    let (passed, rest) = if let Some(r) = rest.strip_prefix("passed") {
        (true, r)
    } else {
        (false, rest.strip_prefix("FAILED")?)
    };
    let (points, rest) = match rest.strip_prefix(" (") {
        Some(r) => {
            let (inner, after) = r.split_once(" points)")?;
            let (_, total) = inner.split_once('/')?;
            (Some(total.parse().ok()?), after)
        }
        None => (None, rest),
    };
    let text = rest.strip_prefix(": ")?;
    Some(ExpectLine {
        passed,
        points,
        text: text.to_string(),
    })
}

/// The weighted and unweighted `expect` lines of an expected stdout, in order.
pub fn expect_lines(stdout: &str) -> Vec<ExpectLine> {
    stdout.lines().filter_map(expect_line).collect()
}

/// The part of an expect's text that names it (its message and condition),
/// without the values after the last `: `; two runs of the same expect
/// have the same label whatever their numbers.
pub fn label(text: &str) -> &str {
    text.rsplit_once(": ").map_or(text, |(l, _)| l)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_escapes_round_trip() {
        let out = "--- stderr\n\\--- exit 3\n--- exit 4\n";
        let text = render(out, Some("--- stderr\n"), Some(1));
        assert_eq!(
            text,
            "\\--- stderr\n\\\\--- exit 3\n\\--- exit 4\n--- stderr\n\\--- stderr\n--- exit 1\n"
        );
        let e = parse(&text).unwrap();
        assert_eq!(e.stdout, out);
        assert_eq!(e.stderr.as_deref(), Some("--- stderr\n"));
        assert_eq!(e.exit, Some(1));
    }

    #[test]
    fn errors_name_their_line() {
        let e = parse("x\n--- exit one\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.what.contains("malformed exit marker `--- exit one`"));
        let e = parse("x\n--- exit 1\ny\n").unwrap_err();
        assert_eq!(
            (e.line, e.what.contains("must be the last line")),
            (2, true)
        );
        let e = parse("a\n--- stderr\nb\n--- stderr\n").unwrap_err();
        assert_eq!(e.line, 4);
        let e = parse_bytes(b"ok\nstill ok\n\xff\xfe binary").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("line 3: not UTF-8"), "{e}");
        let e = parse_bytes(b"PK\x03\x04\0\0").unwrap_err();
        assert_eq!(e.line, 1);
        assert!(e.what.contains("NUL"));
    }

    #[test]
    fn expect_lines_and_labels() {
        let l = expect_line("expect passed (2/2 points): fit: a == 2 within 0.05: 2.01 vs 2.0 (difference 0.01 <= 0.05)").unwrap();
        assert!(l.passed);
        assert_eq!(l.points, Some(2));
        assert_eq!(label(&l.text), "fit: a == 2 within 0.05");
        let l = expect_line("expect FAILED (0/3 points): x > 1: 0.5 > 1.0 is false").unwrap();
        assert_eq!((l.passed, l.points), (false, Some(3)));
        let l = expect_line("expect passed: x > 0: 1.0 > 0.0 is true").unwrap();
        assert_eq!((l.passed, l.points), (true, None));
        assert_eq!(label(&l.text), "x > 0");
        assert!(expect_line("expected passed: x").is_none());
        assert!(expect_line("expect passed (two points): x").is_none());
        assert_eq!(
            expect_lines("a\nexpect passed: x: 1\nb\nexpect FAILED: y: 2\n").len(),
            2
        );
    }
}
