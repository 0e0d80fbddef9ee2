//! Points: what each `expect` of a run earned, counted against the weights
//! the expected file holds.
//!
//! The weights come from the expected file (the teacher's blessed run), not
//! from the script being checked: a weighted expect prints
//! `expect passed (2/2 points): TEXT`, so the blessed file records every
//! expect, its weight and its label (the message and condition before the
//! values). A run's expect earns the expected file's weight when it passed
//! and has the same label; a student who edits an expect's condition or
//! weight earns nothing for it, and an expect the run never reached (it
//! stopped at an error, or timed out) is reported as missing.

use serde_json::Value;

use super::expected::{label, ExpectLine};

/// One `expect` as the script under check ran it (its `--json` record).
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectRecord {
    /// 1-based line of the statement in the script.
    pub line: usize,
    /// The text the report printed after `expect passed: `.
    pub message: String,
    pub passed: bool,
    /// The two sides of a comparison (empty for other conditions).
    pub values: Vec<Value>,
    /// The script's own `points N`.
    pub points: Option<u64>,
}

/// How an expect ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectResult {
    Passed,
    Failed,
    /// In the expected file, but the run never reported it.
    Missing,
}

impl ExpectResult {
    /// `"passed"`, `"failed"` or `"missing"`.
    pub fn word(self) -> &'static str {
        match self {
            ExpectResult::Passed => "passed",
            ExpectResult::Failed => "failed",
            ExpectResult::Missing => "missing",
        }
    }
}

/// One expect in the report.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectOutcome {
    /// Its line in the checked script (`None` when missing).
    pub line: Option<usize>,
    pub message: String,
    pub values: Vec<Value>,
    pub result: ExpectResult,
    /// Its weight (0 when it has none).
    pub points: u64,
    /// What it earned: its weight if it passed.
    pub earned: u64,
}

/// Points earned out of points possible.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Points {
    pub earned: u64,
    pub total: u64,
}

impl std::ops::AddAssign for Points {
    fn add_assign(&mut self, o: Points) {
        self.earned += o.earned;
        self.total += o.total;
    }
}

/// Scores a run's expects against the expected file's `expect` lines
/// (`None`: there is no expected file, and the run's own weights count).
pub fn score(
    expected: Option<&[ExpectLine]>,
    run: &[ExpectRecord],
) -> (Vec<ExpectOutcome>, Points) {
    let Some(expected) = expected else {
        let outcomes: Vec<ExpectOutcome> = run.iter().map(|r| outcome(r, r.points)).collect();
        let pts = total(&outcomes);
        return (outcomes, pts);
    };
    let mut matched = vec![None; run.len()];
    let mut missing = Vec::new();
    for e in expected {
        let want = label(&e.text);
        let found = run
            .iter()
            .enumerate()
            .position(|(i, r)| matched[i].is_none() && label(&r.message) == want);
        match found {
            Some(i) => matched[i] = Some(e.points),
            None => missing.push(ExpectOutcome {
                line: None,
                message: e.text.clone(),
                values: Vec::new(),
                result: ExpectResult::Missing,
                points: e.points.unwrap_or(0),
                earned: 0,
            }),
        }
    }
    let mut outcomes: Vec<ExpectOutcome> = run
        .iter()
        .zip(&matched)
        .map(|(r, w)| outcome(r, w.flatten()))
        .collect();
    outcomes.extend(missing);
    let pts = total(&outcomes);
    (outcomes, pts)
}

fn outcome(r: &ExpectRecord, weight: Option<u64>) -> ExpectOutcome {
    let points = weight.unwrap_or(0);
    ExpectOutcome {
        line: Some(r.line),
        message: r.message.clone(),
        values: r.values.clone(),
        result: if r.passed {
            ExpectResult::Passed
        } else {
            ExpectResult::Failed
        },
        points,
        earned: if r.passed { points } else { 0 },
    }
}

fn total(outcomes: &[ExpectOutcome]) -> Points {
    Points {
        earned: outcomes.iter().map(|o| o.earned).sum(),
        total: outcomes.iter().map(|o| o.points).sum(),
    }
}

/// The points possible in an expected file (a run that never started).
pub fn possible(expected: &[ExpectLine]) -> Points {
    Points {
        earned: 0,
        total: expected.iter().filter_map(|e| e.points).sum(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::expected::expect_lines;
    use super::*;

    fn rec(line: usize, message: &str, passed: bool, points: Option<u64>) -> ExpectRecord {
        ExpectRecord {
            line,
            message: message.to_string(),
            passed,
            values: Vec::new(),
            points,
        }
    }

    #[test]
    fn weights_come_from_the_expected_file() {
        let exp = expect_lines(
            "expect passed (2/2 points): a == 2 within 0.05: 2.0 vs 2.0 (difference 0 <= 0.05)\n\
             expect passed (3/3 points): fit: mse < 0.1: 0.02 < 0.1 is true\n\
             expect passed: b > 0: 1.0 > 0.0 is true\n\
             expect passed (5/5 points): never reached: x > 0: 1.0 > 0.0 is true\n",
        );
        let run = [
            rec(
                7,
                "a == 2 within 0.05: 2.01 vs 2.0 (difference 0.01 <= 0.05)",
                true,
                Some(2),
            ),
            // the student raised the weight and changed nothing else: the
            // teacher's weight counts
            rec(8, "fit: mse < 0.1: 0.5 < 0.1 is false", false, Some(30)),
            rec(9, "b > 0: 1.0 > 0.0 is true", true, None),
            // an expect of the student's own is worth nothing
            rec(
                10,
                "1 == 1 within 0: 1.0 vs 1.0 (difference 0 <= 0)",
                true,
                Some(100),
            ),
        ];
        let (outcomes, pts) = score(Some(&exp), &run);
        assert_eq!(
            pts,
            Points {
                earned: 2,
                total: 10
            }
        );
        let r: Vec<_> = outcomes
            .iter()
            .map(|o| (o.line, o.result, o.points, o.earned))
            .collect();
        assert_eq!(
            r,
            [
                (Some(7), ExpectResult::Passed, 2, 2),
                (Some(8), ExpectResult::Failed, 3, 0),
                (Some(9), ExpectResult::Passed, 0, 0),
                (Some(10), ExpectResult::Passed, 0, 0),
                (None, ExpectResult::Missing, 5, 0),
            ]
        );
        // without an expected file the run's own weights count
        let (_, pts) = score(None, &run);
        assert_eq!(
            pts,
            Points {
                earned: 102,
                total: 132
            }
        );
        assert_eq!(
            possible(&exp),
            Points {
                earned: 0,
                total: 10
            }
        );
    }
}
