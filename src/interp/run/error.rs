//! The run stage's typed errors: the options of `with OPT(...)` (and of the
//! statements after a fit), the objective, the run's length, what Minuit
//! refuses, and a minimization that stops on a non-finite value. The
//! optimizer module's `OptError` and Minuit's `ScanError` convert into
//! these with their spans attached, so every path that meets a mistake
//! builds the same variant and it is worded once, here. Epochs, schedules
//! and the statements after a fit have their own enums beside their code
//! (`epochs.rs`, `schedule.rs`, `uncertainty.rs`).

use crate::diagnostics::{Code, Diag, IntoDiagnostic, Span};
use crate::interp::names::suggest;
use crate::minuit::scan::ScanError;
use crate::optim::OptError;
use crate::tensor::fmt_num;

/// A mistake in the options of an optimizer, a Minuit algorithm, a
/// schedule or a statement after a fit (E0300-E0303).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OptionError {
    /// `adam(0.1)`: an option without its name.
    #[error("optimizer options are named")]
    NotNamed { span: Span },
    /// `all` lists every optimizer and Minuit algorithm.
    #[error("unknown optimizer `{name}`")]
    UnknownOptimizer {
        name: String,
        span: Span,
        suggestion: Option<String>,
        all: Vec<&'static str>,
    },
    /// An option the optimizer module refused (unknown, given twice, of
    /// the wrong type or out of range, or an optimizer torch has that does
    /// not apply here), at its argument or, for an error about the whole
    /// call, at the call.
    #[error("{error}")]
    Optim { error: OptError, span: Span },
    /// `contour ... cl=[...]` with a level that is not a positive number.
    #[error("invalid value for option `cl`")]
    Levels { span: Span },
}

impl OptionError {
    /// The optimizer module's error, at its option or, for an error about
    /// the whole call, at `call` (the `with OPT(...)` span).
    pub fn from_optim(error: OptError, call: &Span) -> OptionError {
        let span = error.span().unwrap_or_else(|| call.clone());
        OptionError::Optim { error, span }
    }
}

fn did_you_mean(d: Diag, suggestion: Option<String>) -> Diag {
    match suggestion {
        Some(s) => d.note(format!("help: did you mean `{s}`?")),
        None => d,
    }
}

impl IntoDiagnostic for OptionError {
    fn into_diagnostic(self) -> Diag {
        let message = self.to_string();
        let err = |code: Code| Diag::error(code, message.clone());
        match self {
            OptionError::NotNamed { span } => err(Code::E0302)
                .at(span, "no option name")
                .note("help: write e.g. `adam(lr=0.1)`"),
            OptionError::UnknownOptimizer {
                span,
                suggestion,
                all,
                ..
            } => did_you_mean(err(Code::E0300).at(span, "not an optimizer"), suggestion)
                .note(format!("the optimizers are: {}", all.join(", "))),
            OptionError::Optim { error, span } => optim_diagnostic(error, span, message),
            OptionError::Levels { span } => {
                err(Code::E0303).at(span, "each level must be > 0").note(
                    "a level below 1 is a probability, from 1 on a number of standard deviations",
                )
            }
        }
    }
}

/// The optimizer module's refusal `error` at `span`, worded `message`.
fn optim_diagnostic(error: OptError, span: Span, message: String) -> Diag {
    let err = |code: Code| Diag::error(code, message);
    match error {
        OptError::Unknown {
            optimizer,
            name,
            valid,
            ..
        } => {
            let suggestion = suggest(&name, valid.iter().copied());
            did_you_mean(err(Code::E0301).at(span, "unknown option"), suggestion)
                .note(format!("{optimizer} takes: {}", valid.join(", ")))
        }
        OptError::Duplicate { .. } => err(Code::E0301).at(span, "again here"),
        OptError::Type { got, .. } => err(Code::E0302).at(span, format!("this is {got}")),
        OptError::Range { allowed, .. } => err(Code::E0303)
            .at(span, "out of range")
            .note(format!("help: {allowed}")),
        OptError::Unsupported { hint, .. } => err(Code::E0300)
            .at(span, "here")
            .note(format!("help: {hint}")),
    }
}

/// What was not finite when a step-based run stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum NonFiniteWhat {
    Loss(f64),
    /// The gradient of parameter `name`, at element `index` of a tensor.
    Gradient {
        name: String,
        index: Option<usize>,
    },
}

impl std::fmt::Display for NonFiniteWhat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NonFiniteWhat::Loss(v) => write!(f, "the loss is {}", fmt_num(*v)),
            NonFiniteWhat::Gradient {
                name,
                index: Some(i),
            } => write!(f, "the gradient of {name}[{i}] is not finite"),
            NonFiniteWhat::Gradient { name, index: None } => {
                write!(f, "the gradient with respect to {name} is not finite")
            }
        }
    }
}

/// A mistake in a `minimize` or `maximize`, or a run that cannot go on.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Option(#[from] OptionError),
    #[error("the objective must be a scalar, this one has shape {shape}")]
    NotScalar { shape: String, span: Span },
    /// `no_params`: nothing is declared at all (the hint says how).
    #[error("the objective depends on no free parameter")]
    NoFreeParameter { span: Span, no_params: bool },
    #[error("the number of steps must be a whole number from 1 to 1000000000 (1e9)")]
    StepCount { value: f64, span: Span },
    /// `for N epochs` given to a Minuit algorithm.
    #[error("`for ... epochs` does not apply to {algorithm}")]
    MinuitEpochs { algorithm: &'static str, span: Span },
    /// `for N steps` given to a Minuit algorithm.
    #[error("`for ... steps` does not apply to {algorithm}")]
    MinuitSteps { algorithm: &'static str, span: Span },
    /// One tensor parameter with more elements than Minuit takes; `span`
    /// is its declaration.
    #[error("Minuit handles at most {max} parameters, `{name}` alone has {n}")]
    MinuitParamTooLarge {
        name: String,
        n: usize,
        max: usize,
        span: Span,
    },
    /// An objective over more parameter elements than Minuit takes.
    #[error("Minuit handles at most {max} parameters, this objective has {n}")]
    MinuitTooMany { n: usize, max: usize, span: Span },
    #[error("scan: {error}")]
    Scan { error: ScanError, span: Span },
    /// A step-based run stopped at `step`; `at` is every free parameter as
    /// `name = value` there, `moved` whether the parameters moved.
    #[error("minimization stopped at step {step}: {what}")]
    StepsNonFinite {
        step: usize,
        what: NonFiniteWhat,
        at: Vec<String>,
        moved: bool,
        span: Span,
    },
    /// A Minuit algorithm ended on a non-finite value; `moved`: the
    /// parameters are left at the best finite point seen.
    #[error("{algorithm} stopped: the objective is {} at its last point", fmt_num(*value))]
    MinuitNonFinite {
        algorithm: &'static str,
        value: f64,
        moved: bool,
        span: Span,
    },
}

const MOVED: &str = "the parameters are left at the best finite point seen (the report above)";
const UNCHANGED: &str = "the parameters are unchanged";
const TOO_MANY_HELP: &str =
    "help: use a step-based optimizer such as adam for large tensor parameters";

impl IntoDiagnostic for RunError {
    fn into_diagnostic(self) -> Diag {
        let message = self.to_string();
        let err = |code: Code| Diag::error(code, message.clone());
        let moved_note = |moved: bool| if moved { MOVED } else { UNCHANGED };
        match self {
            RunError::Option(e) => e.into_diagnostic(),
            RunError::NotScalar { span, .. } => err(Code::E0305)
                .at(span, "not a scalar")
                .note("help: reduce it, e.g. with sum(...) or mean(...)"),
            RunError::NoFreeParameter { span, no_params } => {
                let d = err(Code::E0305).at(span, "nothing to minimize here");
                d.note(if no_params {
                    "help: declare one with `param x = 0;`"
                } else {
                    "help: fixed parameters do not move; remove `fixed` or use another parameter"
                })
            }
            RunError::StepCount { value, span } => {
                err(Code::E0304).at(span, format!("this is {}", fmt_num(value)))
            }
            RunError::MinuitEpochs { span, .. } => err(Code::E0304)
                .at(span, "Minuit minimizes over all the data at once")
                .note(
                    "help: minibatch epochs are for the torch optimizers, e.g. `with adam(lr=0.01)`",
                ),
            RunError::MinuitSteps { span, .. } => err(Code::E0304)
                .at(span, "Minuit decides when it has converged")
                .note("help: limit its calls with `ncall=N` instead"),
            RunError::MinuitParamTooLarge { n, span, .. } => err(Code::E0205)
                .at(span, format!("{n} elements"))
                .note(TOO_MANY_HELP),
            RunError::MinuitTooMany { span, .. } => err(Code::E0205)
                .at(span, "too many parameter elements")
                .note(TOO_MANY_HELP),
            RunError::Scan { span, .. } => err(Code::E0305)
                .at(span, "cannot scan this objective")
                .note("help: scan needs limits `in [lo, hi]` on every free parameter"),
            RunError::StepsNonFinite {
                at, moved, span, ..
            } => err(Code::E0400)
                .at(span, "this objective")
                .note(format!("at {}", at.join(", ")))
                .note(moved_note(moved))
                .note("help: try a smaller learning rate, another starting point, or limits `in [lo, hi]`"),
            RunError::MinuitNonFinite { moved, span, .. } => err(Code::E0400)
                .at(span, "this objective")
                .note(moved_note(moved))
                .note(
                    "help: start from a point where the objective is finite, or add limits `in [lo, hi]`",
                ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optim_error_keeps_its_span_or_takes_the_calls() {
        let e = OptError::Duplicate {
            name: "lr".into(),
            span: 4..9,
        };
        let d = OptionError::from_optim(e, &(0..20)).into_diagnostic();
        assert_eq!((d.code, d.labels[0].0.clone()), (Code::E0301, 4..9));
        assert_eq!(d.message, "option `lr` is given twice");
        let e = OptError::Unsupported {
            message: "sparseadam needs sparse gradients".into(),
            hint: "use adam".into(),
        };
        let e = OptionError::from_optim(e, &(0..20));
        assert!(matches!(&e, OptionError::Optim { span, .. } if *span == (0..20)));
        assert_eq!(e.into_diagnostic().notes, ["help: use adam"]);
    }

    #[test]
    fn an_unknown_option_suggests_a_close_one_and_lists_them() {
        let e = OptError::Unknown {
            optimizer: "adam",
            name: "lrr".into(),
            span: 5..10,
            valid: vec!["lr", "betas"],
        };
        let d = OptionError::from_optim(e, &(0..20)).into_diagnostic();
        assert_eq!(d.message, "unknown option `lrr` for adam");
        assert_eq!(
            d.notes,
            ["help: did you mean `lr`?", "adam takes: lr, betas"]
        );
    }

    #[test]
    fn a_range_error_is_worded_value_first() {
        let e = OptError::Range {
            name: "tol".into(),
            value: "-1".into(),
            allowed: "tol must be >= 0".into(),
            span: None,
        };
        let d = OptionError::from_optim(e, &(2..8)).into_diagnostic();
        assert_eq!(d.message, "invalid value -1 for option `tol`");
        assert_eq!(d.labels, [(2..8, "out of range".to_string())]);
        assert_eq!(d.notes, ["help: tol must be >= 0"]);
    }

    #[test]
    fn run_errors_carry_their_code_and_span() {
        let cases: Vec<(RunError, Code)> = vec![
            (
                RunError::NotScalar {
                    shape: "[2]".into(),
                    span: 1..2,
                },
                Code::E0305,
            ),
            (
                RunError::StepCount {
                    value: 0.0,
                    span: 1..2,
                },
                Code::E0304,
            ),
            (
                RunError::MinuitTooMany {
                    n: 1001,
                    max: 1000,
                    span: 1..2,
                },
                Code::E0205,
            ),
            (
                RunError::Scan {
                    error: ScanError::NoFreeParameters,
                    span: 1..2,
                },
                Code::E0305,
            ),
            (
                RunError::Option(OptionError::NotNamed { span: 1..2 }),
                Code::E0302,
            ),
        ];
        for (e, code) in cases {
            let d = e.into_diagnostic();
            assert_eq!(
                (d.code, d.labels[0].0.clone()),
                (code, 1..2),
                "{}",
                d.message
            );
        }
    }

    #[test]
    fn a_non_finite_stop_says_what_and_where_the_parameters_are() {
        let e = RunError::StepsNonFinite {
            step: 3,
            what: NonFiniteWhat::Gradient {
                name: "w".into(),
                index: Some(1),
            },
            at: vec!["w = [1.0, 2.0]".into()],
            moved: false,
            span: 0..4,
        };
        let d = e.into_diagnostic();
        assert_eq!(
            d.message,
            "minimization stopped at step 3: the gradient of w[1] is not finite"
        );
        assert_eq!(d.notes[..2], ["at w = [1.0, 2.0]", UNCHANGED]);
        let e = RunError::MinuitNonFinite {
            algorithm: "migrad",
            value: f64::NAN,
            moved: true,
            span: 0..4,
        };
        let d = e.into_diagnostic();
        assert_eq!(
            d.message,
            "migrad stopped: the objective is nan at its last point"
        );
        assert_eq!(d.notes[0], MOVED);
    }
}
