//! Which parts of a report are decoration: a small table of recognised line
//! shapes, so the checker compares what an assignment asks for (printed
//! values, expect results, diagnostics, each minimization's final loss,
//! parameters, errors and flags) and not how the run got there.
//!
//! Each [`Shape`] names the lines it applies to (`line`, a regex) and the
//! spans in them that are decoration (every capture group of `mask`, at
//! every match). A masked span compares equal to any other masked span, so
//! `(best 0.02 at step 490)` matches `(best 0.02 at step 466)`. A shape may
//! also `squeeze` the line: runs of spaces and of `─` count as one, because
//! a box-drawn table pads its cells to the width of its numbers.
//!
//! The table fails safe: a line no shape recognises (a report whose layout
//! changed) is compared in full, as text and numbers, so a change of format
//! can make a check stricter, never blind. Adding a report means adding a
//! row here, and the test at the bottom runs every row against the
//! examples' expected files.

use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// One recognised kind of line.
pub struct Shape {
    /// What the shape is, for tests and docs.
    pub name: &'static str,
    /// The lines the shape applies to.
    line: &'static str,
    /// Every capture group of every match is decoration (`None`: nothing).
    mask: Option<&'static str>,
    /// Runs of spaces and of `─` count as one (box-drawn tables).
    squeeze: bool,
}

/// The shapes, in the order they are applied.
pub const SHAPES: &[Shape] = &[
    // `  █▇▅▄▃▂▁▁`: a step-based run's loss history.
    Shape {
        name: "sparkline",
        line: r"^\s*[▁▂▃▄▅▆▇█ ]+$",
        mask: Some(r"([▁▂▃▄▅▆▇█ ]+)"),
        squeeze: false,
    },
    // `  loss 14.0 -> 0.0237 (best 0.0237 at step 424), 500 evaluations`:
    // the start and the final loss are results; which step was best, and
    // how many calls it took, are not.
    Shape {
        name: "step summary",
        line: r"^\s*loss \S+ -> \S+",
        mask: Some(r"(\(best [^)]*\))|\b(\d+) (?:evaluations?|gradient evaluations?|calls?)\b"),
        squeeze: false,
    },
    // `│ FCN = 3.158   │   Nfcn = 2, Ngrad = 3   │`: Minuit's call counts.
    Shape {
        name: "minuit calls",
        line: r"^│.*\b(?:Nfcn|Ngrad) = \d+",
        mask: Some(r"\b(?:Nfcn|Ngrad) = (\d+)"),
        squeeze: true,
    },
    // `│ EDM = 2.06e-29 (Goal: 0.0002) │`: the distance to the minimum is
    // round-off noise at a converged minimum; the validity flags say
    // whether it converged.
    Shape {
        name: "minuit edm",
        line: r"^│ EDM = ",
        mask: Some(r"EDM = (\S+)"),
        squeeze: true,
    },
    // Any other line of a box-drawn table (Minuit's reports).
    Shape {
        name: "table",
        line: r"^\s*[┌├└│┏┣┗┃╭╰]",
        mask: None,
        squeeze: true,
    },
    // `... (difference 0.0190435 <= 0.05)`: derived from the two values
    // the line shows (which are compared), and it amplifies their rounding.
    Shape {
        name: "expect difference",
        line: r"^expect (?:passed|FAILED)",
        mask: Some(r"\(difference (\S+) (?:<=|>) "),
        squeeze: false,
    },
    // Timings, wherever a report shows them: `time: 3.2 ms`, `took 1.5 s`.
    Shape {
        name: "timing",
        line: r"(?i)\b(?:time|took|elapsed)\b|\d\s?(?:ms|µs)\b",
        mask: Some(
            r"(?i)\b(?:time|took|elapsed)[:=]?\s+(\d+(?:\.\d+)?(?:e[+-]?\d+)?\s?(?:ms|µs|us|s|min))\b|\b(\d+(?:\.\d+)?\s?(?:ms|µs))\b",
        ),
        squeeze: false,
    },
];

/// What a masked span is replaced with: one character no report prints.
const MASK: &str = "\u{2063}";

struct Compiled {
    line: Regex,
    mask: Option<Regex>,
    squeeze: bool,
}

static COMPILED: LazyLock<Vec<Compiled>> = LazyLock::new(|| {
    SHAPES
        .iter()
        .map(|s| Compiled {
            // The patterns are constants, tested below.
            line: Regex::new(s.line).expect("valid shape pattern"),
            mask: s.mask.map(|m| Regex::new(m).expect("valid mask pattern")),
            squeeze: s.squeeze,
        })
        .collect()
});

/// The names of the shapes that recognise `line` (for tests and docs).
pub fn recognise(line: &str) -> Vec<&'static str> {
    SHAPES
        .iter()
        .zip(COMPILED.iter())
        .filter(|(_, c)| c.line.is_match(line))
        .map(|(s, _)| s.name)
        .collect()
}

/// The line with its decoration masked and, for tables, its padding
/// squeezed: two lines that differ only in decoration give the same text.
pub fn undecorate(line: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(line);
    for c in COMPILED.iter() {
        if !c.line.is_match(&out) {
            continue;
        }
        if let Some(m) = &c.mask {
            out = Cow::Owned(mask_groups(m, &out));
        }
        if c.squeeze {
            out = Cow::Owned(squeeze(&out));
        }
    }
    out
}

/// Replaces every capture group of every match of `re` by [`MASK`].
fn mask_groups(re: &Regex, line: &str) -> String {
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for caps in re.captures_iter(line) {
        for g in caps.iter().skip(1).flatten() {
            spans.push((g.start(), g.end()));
        }
    }
    spans.sort_unstable();
    let mut s = String::with_capacity(line.len());
    let mut at = 0;
    for (a, b) in spans {
        if a < at {
            continue;
        }
        s.push_str(&line[at..a]);
        s.push_str(MASK);
        at = b;
    }
    s.push_str(&line[at..]);
    s
}

/// Runs of spaces, and runs of `─`, become one.
fn squeeze(line: &str) -> String {
    let mut s = String::with_capacity(line.len());
    let mut prev = None;
    for ch in line.chars() {
        if (ch == ' ' || ch == '─') && prev == Some(ch) {
            continue;
        }
        s.push(ch);
        prev = Some(ch);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &str, b: &str) -> bool {
        undecorate(a) == undecorate(b)
    }

    #[test]
    fn step_report_decoration() {
        let a = "  loss 14.025734583333332 -> 0.023683201340326376 (best 0.023683201340326306 at step 424), 500 evaluations";
        let b = "  loss 14.025734583333332 -> 0.023683201340326376 (best 0.0236832013403263 at step 400), 512 evaluations";
        assert!(same(a, b));
        assert_eq!(recognise(a), ["step summary"]);
        // the final loss is a result
        assert!(!same(a, &a.replace("-> 0.0236", "-> 0.0336")));
        // the sparkline is decoration, whatever its width
        assert!(same("  █▇▄▃▂▁▁▁", "  █▇▇▆▅▅▄▁▁▁▁"));
        assert!(!same("  █▇▄▃▂▁▁▁", "  x = 1"));
    }

    #[test]
    fn minuit_decoration() {
        let a = "│ FCN = 3.158                      │         Nfcn = 2, Ngrad = 3          │";
        let b = "│ FCN = 3.158                      │        Nfcn = 14, Ngrad = 11         │";
        assert!(same(a, b));
        assert!(!same(a, &a.replace("3.158", "3.159")));
        let e = "│ EDM = 2.06e-29 (Goal: 0.0002)    │                                      │";
        assert!(same(
            e,
            "│ EDM = 1.3e-28 (Goal: 0.0002)     │                                      │"
        ));
        assert!(!same(e, &e.replace("0.0002", "0.002")));
        // flags are compared, padding is not
        assert!(same(
            "│          Valid Minimum           │",
            "│         Valid Minimum            │"
        ));
        assert!(!same("│ Valid Minimum │", "│ INVALID Minimum │"));
        assert!(same("├───┼─────┤", "├───┼───────┤"));
        assert!(!same("├───┼─────┤", "├───┼───┼───┤"));
    }

    #[test]
    fn expect_and_timing_decoration() {
        let a = "expect passed: x == 3 within 0.05: 3.0190435761276095 vs 3.0 (difference 0.01904357612760954 <= 0.05)";
        let b = "expect passed: x == 3 within 0.05: 3.0190435761276095 vs 3.0 (difference 0.019043576127 <= 0.05)";
        assert!(same(a, b));
        assert!(!same(a, &a.replace("passed", "FAILED")));
        assert!(!same(a, &a.replace("<= 0.05)", "<= 0.06)")));
        assert!(same("time: 3.2 ms", "time: 17 ms"));
        assert!(same(
            "epoch 3  loss 0.5  12 ms",
            "epoch 3  loss 0.5  9.5 ms"
        ));
        assert!(!same(
            "epoch 3  loss 0.5  12 ms",
            "epoch 3  loss 0.6  12 ms"
        ));
        // ordinary printed lines have no decoration
        for l in [
            "0.8405244755189907 1.1378076923126264",
            "x = 3",
            "chi2 = 3.15 for 10.0 degrees of freedom",
        ] {
            assert!(recognise(l).is_empty(), "{l}");
            assert_eq!(undecorate(l), l);
        }
    }

    /// Every line of every example's expected file is either recognised as
    /// the shape it is, or left whole; and on each, changing decoration is
    /// invisible while changing a result is not.
    #[test]
    fn the_examples_reports() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples");
        let mut seen: std::collections::BTreeSet<&str> = Default::default();
        let mut files = 0;
        let step_re = regex::Regex::new(r"at step \d+\), \d+ evaluations").unwrap();
        let nfcn_re = regex::Regex::new(r"Nfcn = \d+").unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "expected") {
                continue;
            }
            files += 1;
            let text = std::fs::read_to_string(&path).unwrap();
            for line in text.lines() {
                let names = recognise(line);
                seen.extend(names.iter().copied());
                if names.contains(&"step summary") {
                    let moved = step_re.replace(line, "at step 7), 9 evaluations");
                    assert!(same(line, &moved), "{}: {line}", path.display());
                    let worse = line.replacen("-> ", "-> 1", 1);
                    assert!(!same(line, &worse), "{}: {line}", path.display());
                }
                if names.contains(&"minuit calls") {
                    let more = nfcn_re.replace(line, "Nfcn = 12345");
                    assert!(same(line, &more), "{line}");
                    assert!(
                        !same(line, &line.replacen("FCN = ", "FCN = 9", 1)),
                        "{line}"
                    );
                }
                if line.starts_with("│ 0 │") {
                    // a parameter row of Minuit's table: its value is a result
                    assert_eq!(names, ["table"]);
                }
            }
        }
        assert!(files >= 10, "{files} expected files");
        for name in [
            "sparkline",
            "step summary",
            "minuit calls",
            "minuit edm",
            "table",
            "expect difference",
        ] {
            assert!(seen.contains(name), "no example shows a {name} line");
        }
    }
}
