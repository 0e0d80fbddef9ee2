//! The text report: one line per script, a failure's reasons (indented) and
//! its diff, then `N passed, M failed` and `score: P/T`.

use std::io::{self, Write};

use super::Reporter;
use crate::check::{ScriptReport, Status, Summary};

/// Writes the text report to a stream.
pub struct Text<W: Write> {
    out: W,
}

impl<W: Write> Text<W> {
    pub fn new(out: W) -> Self {
        Text { out }
    }
}

impl<W: Write> Reporter for Text<W> {
    fn script(&mut self, r: &ScriptReport) -> io::Result<()> {
        let word = match r.status {
            Status::Bless => "BLESS",
            Status::Pass => "PASS",
            Status::Fail | Status::Timeout => "FAIL",
        };
        write!(self.out, "{word} {}", r.path)?;
        if r.points.total > 0 {
            write!(self.out, " ({}/{} points)", r.points.earned, r.points.total)?;
        }
        writeln!(self.out)?;
        for reason in &r.reasons {
            writeln!(self.out, "  {reason}")?;
        }
        if let Some(d) = &r.diff {
            self.out.write_all(d.as_bytes())?;
            if !d.is_empty() && !d.ends_with('\n') {
                writeln!(self.out)?;
            }
        }
        self.out.flush()
    }

    fn finish(&mut self, s: &Summary) -> io::Result<()> {
        writeln!(self.out, "{} passed, {} failed", s.passed, s.failed)?;
        if s.points.total > 0 {
            writeln!(self.out, "score: {}/{}", s.points.earned, s.points.total)?;
        }
        self.out.flush()
    }
}
