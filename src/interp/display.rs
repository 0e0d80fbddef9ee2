//! Rich output: what a front end that can show more than text (the Jupyter
//! kernel) is handed as statements run. A session without a display sink
//! (`losslang run`, the REPL, `check`) prints its text report as always;
//! with one, each item is offered to the sink first, and an item the sink
//! shows is not printed again as text. The items carry data, not markup:
//! how a Minuit report becomes HTML, or a picture an inline image, is the
//! front end's business.

use crate::minuit::report::FitReport;

/// One item of rich output.
pub enum Display<'a> {
    /// The value of a bare expression (REPL mode), as text.
    Value(&'a str),
    /// A picture: its MIME type (`image/svg+xml`, `image/png`) and bytes.
    Image { mime: &'static str, data: &'a [u8] },
    /// A Minuit report: the text the session would print, and the
    /// `FitReport` that text is drawn from (the same numbers and flags).
    Minuit {
        text: &'a str,
        report: &'a FitReport,
    },
    /// The progress line of a long minimization; `None` when it is done.
    Progress(Option<&'a str>),
}

/// Receives rich output as statements run.
pub trait DisplaySink {
    /// Shows `item`; true when it was shown, so the session prints nothing
    /// for it.
    fn show(&mut self, item: Display<'_>) -> bool;
}
