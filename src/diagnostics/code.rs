//! Every diagnostic code as an enum, with the one-line meaning that
//! docs/diagnostics.md's table shows (a unit test below holds the two
//! together, so a code cannot be added, dropped or reworded in one place
//! only). The ranges: E00xx lexical, E01xx syntax, E02xx names and values,
//! E03xx optimizers and objectives, E04xx running, E05xx reading the script, E06xx REPL commands.

use std::fmt;

macro_rules! codes {
    ($($code:ident => $meaning:expr,)*) => {
        /// A diagnostic code, printed as `error[E0200]`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $(#[doc = $meaning] $code,)*
        }

        impl Code {
            /// Every code, in the order of the documentation's table.
            pub const ALL: &'static [Code] = &[$(Code::$code,)*];

            /// The code as printed: `"E0200"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$code => stringify!($code),)*
                }
            }

            /// What the code means, as docs/diagnostics.md's table says it.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(Code::$code => $meaning,)*
                }
            }
        }
    };
}

codes! {
    E0001 => "a character that starts no token",
    E0002 => "an unterminated string",
    E0003 => "an unknown escape in a string",
    E0004 => "brackets nested too deeply",
    E0005 => "a number that does not fit an f64",
    E0100 => "a syntax error (with the tokens that were expected)",
    E0101 => "the script ends in the middle of a statement",
    E0102 => "an expression nested too deeply",
    E0200 => "an unknown name (with a did-you-mean hint)",
    E0201 => "a name declared twice",
    E0202 => "a function that calls itself",
    E0203 => "a built-in or function called with the wrong number of arguments",
    E0204 => "something that is not a parameter where a parameter is needed",
    E0205 => "something the grammar accepts that cannot run here (Minuit on more than 1000 parameter elements)",
    E0206 => "a value of the wrong type (a mask where a number is needed, ...)",
    E0207 => "a parameter's initial value or limits are not constant or not valid",
    E0208 => "a bare expression in a script (it does nothing)",
    E0300 => "an unknown optimizer (with a did-you-mean hint)",
    E0301 => "an unknown optimizer option (with the valid ones)",
    E0302 => "an optimizer option of the wrong type",
    E0303 => "an optimizer option out of range",
    E0304 => "`for N steps` or `points N` that is not a positive whole number, or `for` given to Minuit",
    E0305 => "an objective that is not a scalar or depends on no free parameter",
    E0306 => "an unknown schedule, or a schedule that does not fit its optimizer or run",
    E0307 => "epochs and minibatches: bad batch size, data names or watched names",
    E0400 => "a non-finite loss or gradient during a minimization",
    E0401 => "a failed `expect`",
    E0402 => "a runtime error in an expression (shape, domain, size)",
    E0403 => "HESSE, MINOS, `contour` or `profile` without a Minuit minimum, on an invalid minimum, or on an unknown, fixed or repeated name; `plot loss` or `plot ... with path` without a minimization",
    E0404 => "a csv file that cannot be read, a bad cell, or a column it does not have",
    E0406 => "a plot file that cannot be written, or whose name does not end in `.svg` or `.png`; a plot without a file in a script",
    E0407 => "a contour or profile stopped by Ctrl-C before it was complete",
    E0408 => "(a warning) a step-based run whose loss or parameters kept running away: the objective may have no minimum",
    E0500 => "the script cannot be read (missing, a directory, not UTF-8)",
    E0600 => "a REPL command that is unknown, lacks its file name, or cannot write its file",
}

impl Code {
    /// The code printed as `s` (`"E0200"`), if there is one.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// Stages not yet converted to typed errors still name their code as a
/// literal. Every such literal in `src/` is checked to be a code by the
/// test `every_code_literal_in_the_source_is_a_code` below, so the
/// fallback is unreachable; it still yields a real code rather than a panic.
impl From<&'static str> for Code {
    fn from(s: &'static str) -> Code {
        Code::parse(s).unwrap_or(Code::E0402)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    const DOC: &str = include_str!("../../docs/diagnostics.md");

    /// The rows `| [E0001](#e0001) | meaning |` of the doc's table.
    fn doc_table() -> Vec<(String, String)> {
        DOC.lines()
            .filter_map(|l| l.strip_prefix("| [E"))
            .map(|rest| {
                let (code, tail) = rest.split_once(']').unwrap_or((rest, ""));
                let meaning = tail.split_once(") | ").map_or("", |(_, m)| m);
                (
                    format!("E{code}"),
                    meaning.trim_end_matches(" |").to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn the_documented_table_is_the_enum() {
        let doc = doc_table();
        let ours: Vec<(String, String)> = Code::ALL
            .iter()
            .map(|c| (c.as_str().to_string(), c.meaning().to_string()))
            .collect();
        assert_eq!(doc, ours, "docs/diagnostics.md's table differs from Code");
    }

    #[test]
    fn codes_print_and_parse() {
        assert_eq!(Code::E0203.to_string(), "E0203");
        assert_eq!(Code::parse("E0404"), Some(Code::E0404));
        assert_eq!(Code::parse("E9999"), None);
        assert!(Code::E0001 == "E0001");
    }

    /// Every `"E0123"` literal under src/ names a code.
    #[test]
    fn every_code_literal_in_the_source_is_a_code() {
        let mut bad = Vec::new();
        let mut stack = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("src")];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.ends_with("diagnostics/code.rs") {
                    continue; // this test's own examples of bad codes
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                for lit in text.split('"').skip(1).step_by(2) {
                    let is_code = lit.len() == 5
                        && lit.starts_with('E')
                        && lit[1..].bytes().all(|b| b.is_ascii_digit());
                    if is_code && Code::parse(lit).is_none() {
                        bad.push(format!("{}: {lit}", path.display()));
                    }
                }
            }
        }
        assert!(bad.is_empty(), "unknown codes: {bad:?}");
    }
}
