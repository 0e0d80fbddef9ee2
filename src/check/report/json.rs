//! `--json`: JSON Lines for autograders, one object per script in the order
//! checked, then `{"passed": N, "failed": M, "points": P, "max_points": T}`.
//! Nothing else goes to stdout.

use std::io::{self, Write};

use serde_json::{json, Value};

use super::Reporter;
use crate::check::{ExpectOutcome, ScriptReport, Status, Summary};

/// Writes JSON Lines to a stream.
pub struct JsonLines<W: Write> {
    out: W,
}

impl<W: Write> JsonLines<W> {
    pub fn new(out: W) -> Self {
        JsonLines { out }
    }
}

/// `"pass"`, `"fail"`, `"timeout"` or `"bless"`.
pub fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Fail => "fail",
        Status::Timeout => "timeout",
        Status::Bless => "bless",
    }
}

fn expect_json(e: &ExpectOutcome) -> Value {
    json!({
        "line": e.line,
        "message": e.message,
        "values": e.values,
        "result": e.result.word(),
        "passed": e.result == crate::check::ExpectResult::Passed,
        "points": e.points,
        "earned": e.earned,
    })
}

/// The object for one script (also what the tests read).
pub fn script_json(r: &ScriptReport) -> Value {
    let seconds = (r.seconds * 1e6).round() / 1e6;
    json!({
        "path": r.path,
        "status": status_word(r.status),
        "passed": r.status.passed(),
        "seconds": seconds,
        "time": seconds,
        "points": r.points.earned,
        "max_points": r.points.total,
        "expected": r.expected.as_ref().map(|p| p.display().to_string()),
        "expects": r.expects.iter().map(expect_json).collect::<Vec<_>>(),
        "reasons": r.reasons,
        "diff": r.diff,
        "output": r.output,
    })
}

impl<W: Write> Reporter for JsonLines<W> {
    fn script(&mut self, r: &ScriptReport) -> io::Result<()> {
        writeln!(self.out, "{}", script_json(r))?;
        self.out.flush()
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        let v = json!({"passed": s.passed, "failed": s.failed,
            "points": s.points.earned, "max_points": s.points.total});
        writeln!(self.out, "{v}")?;
        self.out.flush()
    }
}
