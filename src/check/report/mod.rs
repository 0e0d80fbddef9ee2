//! Reporting a check: one [`Reporter`] per output format, each told about
//! every script as it finishes and about the counts at the end.
//!
//! * [`text::Text`]: `PASS path` / `FAIL path` lines with reasons and a
//!   diff, then `N passed, M failed` and, when expects carry points,
//!   `score: P/T` (the default, on stdout);
//! * [`json::JsonLines`]: one JSON object per script and a last one with
//!   the counts (`--json`, on stdout);
//! * [`junit::Junit`]: a JUnit XML file with one testcase per script and one
//!   per expect (`--junit FILE`), written atomically when the check ends.

pub mod json;
pub mod junit;
pub mod text;

use std::io;

use super::{ScriptReport, Summary};

/// Receives the results of a check.
pub trait Reporter {
    /// One script's result, in the order they were checked.
    fn script(&mut self, r: &ScriptReport) -> io::Result<()>;
    /// The counts, after the last script.
    fn finish(&mut self, s: &Summary) -> io::Result<()>;
}
