//! `--junit FILE`: a JUnit XML report, the format CI systems (GitHub
//! Actions' test reporters, GitLab, Jenkins) display. One `<testsuite>`; one
//! `<testcase>` per script (its failure holds the reasons and the diff) and
//! one per `expect` (named by script, line and label, with its points).
//!
//! The file is written once, atomically, when the check ends, so a CI step
//! never reads a partial report. The XML is small and flat, so it is
//! written here with careful escaping rather than through an XML library.

use std::fmt::Write as _;
use std::io;
use std::path::PathBuf;

use super::Reporter;
use crate::check::expected::label;
use crate::check::{write_atomically, ExpectResult, ScriptReport, Status, Summary};

/// Collects testcases and writes the file at the end.
pub struct Junit {
    path: PathBuf,
    cases: String,
    tests: usize,
    failures: usize,
    seconds: f64,
}

impl Junit {
    pub fn new(path: PathBuf) -> Self {
        Junit {
            path,
            cases: String::new(),
            tests: 0,
            failures: 0,
            seconds: 0.0,
        }
    }

    /// One testcase; `attrs` are extra attributes, already escaped.
    fn case(&mut self, class: &str, name: &str, attrs: &str, seconds: f64, body: &str) {
        self.tests += 1;
        let _ = write!(
            self.cases,
            "    <testcase classname=\"{}\" name=\"{}\"{attrs} time=\"{seconds:.3}\"",
            escape(class),
            escape(name)
        );
        if body.is_empty() {
            self.cases.push_str("/>\n");
        } else {
            let _ = write!(self.cases, ">\n{body}    </testcase>\n");
        }
    }
}

/// A testcase's points as properties (its name stays the same from run to
/// run, so CI can follow a test's history).
fn points(earned: u64, total: u64) -> String {
    format!(
        "      <properties>\n        <property name=\"points\" value=\"{earned}\"/>\n        <property name=\"max_points\" value=\"{total}\"/>\n      </properties>\n"
    )
}

/// Escapes text for XML 1.0 attributes and content; characters XML cannot
/// hold (most control characters) become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn failure(kind: &str, message: &str, detail: &str) -> String {
    format!(
        "      <failure type=\"{kind}\" message=\"{}\">{}</failure>\n",
        escape(message),
        escape(detail)
    )
}

impl Reporter for Junit {
    fn script(&mut self, r: &ScriptReport) -> io::Result<()> {
        self.seconds += r.seconds;
        let mut body = String::new();
        if !r.status.passed() {
            self.failures += 1;
            let kind = if r.status == Status::Timeout {
                "timeout"
            } else {
                "check"
            };
            let message = r.reasons.first().map_or("failed", |s| s.as_str());
            let mut detail = r.reasons.join("\n");
            if let Some(d) = &r.diff {
                detail.push('\n');
                detail.push_str(d);
            }
            body.push_str(&failure(kind, message, &detail));
        }
        if r.points.total > 0 {
            body.insert_str(0, &points(r.points.earned, r.points.total));
        }
        if let Some(out) = &r.output {
            let _ = writeln!(body, "      <system-out>{}</system-out>", escape(out));
        }
        let file = format!(" file=\"{}\"", escape(&r.path));
        self.case("losslang.check", &r.path, &file, r.seconds, &body);
        for e in &r.expects {
            let mut name = format!("expect {}", label(&e.message));
            if e.points > 0 {
                let _ = write!(name, " ({} points)", e.points);
            }
            let mut body = match e.result {
                ExpectResult::Passed => String::new(),
                ExpectResult::Failed => failure("expect", "expect failed", &e.message),
                ExpectResult::Missing => {
                    failure("expect", "the run never reached this expect", &e.message)
                }
            };
            if !body.is_empty() {
                self.failures += 1;
            }
            if e.points > 0 {
                body.insert_str(0, &points(e.earned, e.points));
            }
            let at = match e.line {
                Some(l) => format!("{file} line=\"{l}\""),
                None => file.clone(),
            };
            self.case(&r.path, &name, &at, 0.0, &body);
        }
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            xml,
            "<testsuites name=\"losslang check\" tests=\"{}\" failures=\"{}\" errors=\"0\" time=\"{:.3}\">",
            self.tests, self.failures, self.seconds
        );
        let _ = writeln!(
            xml,
            "  <testsuite name=\"losslang check\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"{:.3}\">",
            self.tests, self.failures, self.seconds
        );
        let _ = writeln!(
            xml,
            "    <properties>\n      <property name=\"passed\" value=\"{}\"/>\n      <property name=\"failed\" value=\"{}\"/>\n      <property name=\"points\" value=\"{}\"/>\n      <property name=\"max_points\" value=\"{}\"/>\n    </properties>",
            s.passed, s.failed, s.points.earned, s.points.total
        );
        xml.push_str(&self.cases);
        xml.push_str("  </testsuite>\n</testsuites>\n");
        write_atomically(&self.path, &xml).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot write the JUnit report {}: {e}", self.path.display()),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            escape("a<b & \"c\" 'd'>\n\u{1b}[1m"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;&#10;\u{FFFD}[1m"
        );
        assert_eq!(escape("│ ▁▂ é"), "│ ▁▂ é");
    }
}
