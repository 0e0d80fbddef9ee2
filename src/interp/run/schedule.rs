//! `schedule SCHED(ARGS) [per step]`: turns the script's schedule call into
//! the optimizer module's `SchedSpec` (options as values, positional
//! schedules as children, `lambda_lr`'s expression compiled once into a
//! tape over the fresh name `epoch`), builds it against the optimizer, and
//! maps its errors to diagnostics (E0306) through `ScheduleError`.

use super::{option_args, OptionError};
use crate::diagnostics::{Code, Diag, IntoDiagnostic, Span};
use crate::graph::{Graph, Tape};
use crate::interp::{names, Lowerer, Session};
use crate::optim::schedule::{self, Context, LambdaFn, SchedError, SchedSpec, Schedule};
use crate::optim::{OptArg, Optimizer};
use crate::syntax::ast::{Arg, ExprKind, OptimizerSpec, ScheduleSpec};

/// Builds the schedule of a minimize statement for `opt`, which it may
/// change (cyclic_lr sets the lr and momentum at once, as torch does).
pub(super) fn build(
    s: &Session,
    spec: &ScheduleSpec,
    optimizer: &'static str,
    opt: &mut dyn Optimizer,
    total: usize,
) -> Result<Schedule, Diag> {
    let sched = to_spec(s, &spec.call)?;
    let ctx = Context {
        optimizer,
        lr: opt.lr(),
        momentum: opt.momentum(),
        total,
    };
    let built =
        Schedule::build(sched, &ctx).map_err(|e| ScheduleError::from_sched(e, &spec.call.span))?;
    built.apply(opt);
    Ok(built)
}

fn to_spec(s: &Session, call: &OptimizerSpec) -> Result<SchedSpec, Diag> {
    let name = call.name.name.as_str();
    if !schedule::NAMES.contains(&name) {
        return Err(ScheduleError::from_sched(
            SchedError::Unknown {
                name: name.to_string(),
                span: call.name.span.clone(),
            },
            &call.span,
        )
        .into());
    }
    let (named, positional): (Vec<&Arg>, Vec<&Arg>) =
        call.args.iter().partition(|a| a.name.is_some());
    let named: Vec<Arg> = named.into_iter().cloned().collect();
    let args: Vec<OptArg> = option_args(s, &named)?;
    let mut children = Vec::new();
    let mut lambda = None;
    for a in positional {
        if schedule::is_combinator(name) {
            let ExprKind::Call(f, fargs) = &a.value.kind else {
                return Err(positional_err(
                    name,
                    &a.span,
                    "a schedule such as `exponential_lr(gamma=0.9)`",
                ));
            };
            let inner = OptimizerSpec {
                name: f.clone(),
                args: fargs.clone(),
                span: a.span.clone(),
            };
            children.push(to_spec(s, &inner)?);
        } else if schedule::takes_lambda(name) && lambda.is_none() {
            lambda = Some(compile_lambda(s, a)?);
        } else {
            return Err(positional_err(
                name,
                &a.span,
                "named options, e.g. `gamma=0.5`",
            ));
        }
    }
    Ok(SchedSpec {
        name: name.to_string(),
        name_span: call.name.span.clone(),
        span: call.span.clone(),
        args,
        children,
        lambda,
    })
}

fn positional_err(name: &str, span: &Span, wants: &'static str) -> Diag {
    ScheduleError::Positional {
        name: name.to_string(),
        wants,
        span: span.clone(),
    }
    .into()
}

/// `lambda_lr(EXPR)`: EXPR over the fresh scalar `epoch`, compiled once.
fn compile_lambda(s: &Session, a: &Arg) -> Result<(LambdaFn, String), Diag> {
    let mut g = Graph::new();
    let mut l = Lowerer::new(s, &mut g);
    let slot = l.bind_var("epoch");
    let n = l.num(&a.value)?;
    if !g.shape(n).is_empty() {
        return Err(ScheduleError::LambdaNotScalar {
            span: a.value.span.clone(),
        }
        .into());
    }
    if !g.params_reached(n, s.params.len() as u32).is_empty() {
        return Err(ScheduleError::LambdaParameter {
            span: a.value.span.clone(),
        }
        .into());
    }
    let mut tape =
        Tape::try_new(&g, &[n]).map_err(|r| r.diag(a.value.span.clone(), "this schedule"))?;
    let f = move |epoch: f64| {
        tape.set_param(slot, &[epoch]);
        tape.forward();
        tape.output(0)[0]
    };
    let src = s.src.get(a.value.span.clone()).unwrap_or("").to_string();
    Ok((Box::new(f), src))
}

/// A schedule that cannot be built or does not fit its run (E0306, or an
/// option's code).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ScheduleError {
    #[error(transparent)]
    Option(#[from] OptionError),
    #[error("unknown schedule `{name}`")]
    Unknown {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    /// A positional argument to a schedule that takes `wants` instead.
    #[error("{name} does not take this argument")]
    Positional {
        name: String,
        wants: &'static str,
        span: Span,
    },
    #[error("the schedule's expression must be a number")]
    LambdaNotScalar { span: Span },
    #[error("the schedule's expression depends on a parameter")]
    LambdaParameter { span: Span },
    /// A combination the schedule module refuses, in its words.
    #[error(transparent)]
    Invalid(#[from] schedule::Invalid),
    /// `schedule ...` on a Minuit algorithm.
    #[error("a learning-rate schedule does not apply to {algorithm}")]
    Minuit { algorithm: &'static str, span: Span },
    /// `per step` on a `for N steps` run.
    #[error("`per step` is for `for N epochs` runs")]
    PerStep { span: Span },
}

impl ScheduleError {
    /// The schedule module's error, an option's at its option or at `call`.
    pub fn from_sched(e: SchedError, call: &Span) -> ScheduleError {
        match e {
            SchedError::Option(o) => OptionError::from_optim(o, call).into(),
            SchedError::Unknown { name, span } => ScheduleError::Unknown {
                suggestion: names::suggest(&name, schedule::NAMES.iter().copied()),
                name,
                span,
            },
            SchedError::Invalid(e) => e.into(),
        }
    }
}

impl IntoDiagnostic for ScheduleError {
    fn into_diagnostic(self) -> Diag {
        let message = self.to_string();
        let err = || Diag::error(Code::E0306, message.clone());
        match self {
            ScheduleError::Option(o) => o.into_diagnostic(),
            ScheduleError::Unknown {
                span, suggestion, ..
            } => {
                let mut d = err().at(span, "not a schedule");
                if let Some(s) = suggestion {
                    d = d.note(format!("help: did you mean `{s}`?"));
                }
                d.note(format!("the schedules are: {}", schedule::NAMES.join(", ")))
            }
            ScheduleError::Positional { name, wants, span } => err()
                .at(span, "unexpected here")
                .note(format!("help: {name} takes {wants}")),
            ScheduleError::LambdaNotScalar { span } => err().at(span, "not a scalar"),
            ScheduleError::LambdaParameter { span } => err()
                .at(span, "depends on a parameter")
                .note("help: a schedule is a function of `epoch`, the scheduler's count, only"),
            ScheduleError::Invalid(schedule::Invalid {
                span, label, help, ..
            }) => err().at(span, label).note(format!("help: {help}")),
            ScheduleError::Minuit { span, .. } => err()
                .at(span, "Minuit has no learning rate")
                .note("help: schedules are for the torch optimizers, e.g. `with sgd(lr=0.1)`"),
            ScheduleError::PerStep { span } => err()
                .at(
                    span,
                    "a `for N steps` run steps its schedule after every step already",
                )
                .note("help: leave out `per step`"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_schedule_suggests_and_lists_them() {
        let e = SchedError::Unknown {
            name: "step_rl".into(),
            span: 3..10,
        };
        let e = ScheduleError::from_sched(e, &(0..20));
        assert!(
            matches!(&e, ScheduleError::Unknown { suggestion: Some(s), span, .. }
            if s == "step_lr" && *span == (3..10))
        );
        let d = e.into_diagnostic();
        assert_eq!(d.code, Code::E0306);
        assert_eq!(d.notes[0], "help: did you mean `step_lr`?");
    }

    #[test]
    fn an_option_error_keeps_its_own_code() {
        let e = SchedError::Option(crate::optim::OptError::Duplicate {
            name: "gamma".into(),
            span: 5..12,
        });
        let d = ScheduleError::from_sched(e, &(0..20)).into_diagnostic();
        assert_eq!((d.code, d.labels[0].0.clone()), (Code::E0301, 5..12));
    }

    #[test]
    fn a_refused_combination_keeps_the_schedule_modules_words() {
        let e = SchedError::Invalid(schedule::Invalid {
            message: "cycle_momentum needs a momentum".into(),
            span: 4..9,
            label: "this optimizer has none".into(),
            help: "use cycle_momentum=false".into(),
        });
        let d = ScheduleError::from_sched(e, &(0..20)).into_diagnostic();
        assert_eq!(d.code, Code::E0306);
        assert_eq!(d.message, "cycle_momentum needs a momentum");
        assert_eq!(d.labels[0].0, 4..9);
        assert_eq!(d.notes, ["help: use cycle_momentum=false"]);
    }

    #[test]
    fn schedule_mistakes_are_e0306_at_their_span() {
        for e in [
            ScheduleError::LambdaNotScalar { span: 1..4 },
            ScheduleError::LambdaParameter { span: 1..4 },
            ScheduleError::PerStep { span: 1..4 },
            ScheduleError::Minuit {
                algorithm: "migrad",
                span: 1..4,
            },
        ] {
            let d = e.into_diagnostic();
            assert_eq!((d.code, d.labels[0].0.clone()), (Code::E0306, 1..4));
        }
        let d = ScheduleError::Positional {
            name: "step_lr".into(),
            wants: "named options, e.g. `gamma=0.5`",
            span: 2..3,
        }
        .into_diagnostic();
        assert_eq!(d.message, "step_lr does not take this argument");
        assert_eq!(
            d.notes,
            ["help: step_lr takes named options, e.g. `gamma=0.5`"]
        );
    }
}
