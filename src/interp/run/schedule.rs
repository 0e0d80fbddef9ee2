//! `schedule SCHED(ARGS) [per step]`: turns the script's schedule call into
//! the optimizer module's `SchedSpec` (options as values, positional
//! schedules as children, `lambda_lr`'s expression compiled once into a
//! tape over the fresh name `epoch`), builds it against the optimizer, and
//! maps its errors to diagnostics (E0306).

use super::{opt_diag, option_args};
use crate::diagnostics::{Diag, Span};
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
    let built = Schedule::build(sched, &ctx).map_err(|e| diag(e, &spec.call.span))?;
    built.apply(opt);
    Ok(built)
}

fn to_spec(s: &Session, call: &OptimizerSpec) -> Result<SchedSpec, Diag> {
    let name = call.name.name.as_str();
    if !schedule::NAMES.contains(&name) {
        return Err(diag(
            SchedError::Unknown {
                name: name.to_string(),
                span: call.name.span.clone(),
            },
            &call.span,
        ));
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

fn positional_err(name: &str, span: &Span, wants: &str) -> Diag {
    Diag::error("E0306", format!("{name} does not take this argument"))
        .at(span.clone(), "unexpected here")
        .note(format!("help: {name} takes {wants}"))
}

/// `lambda_lr(EXPR)`: EXPR over the fresh scalar `epoch`, compiled once.
fn compile_lambda(s: &Session, a: &Arg) -> Result<(LambdaFn, String), Diag> {
    let mut g = Graph::new();
    let mut l = Lowerer::new(s, &mut g);
    let slot = l.bind_var("epoch");
    let n = l.num(&a.value)?;
    if !g.shape(n).is_empty() {
        return Err(
            Diag::error("E0306", "the schedule's expression must be a number")
                .at(a.value.span.clone(), "not a scalar"),
        );
    }
    if !g.params_reached(n, s.params.len() as u32).is_empty() {
        return Err(
            Diag::error("E0306", "the schedule's expression depends on a parameter")
                .at(a.value.span.clone(), "depends on a parameter")
                .note("help: a schedule is a function of `epoch`, the scheduler's count, only"),
        );
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

fn diag(e: SchedError, call_span: &Span) -> Diag {
    match e {
        SchedError::Option(o) => opt_diag(o, call_span),
        SchedError::Unknown { name, span } => {
            let mut d = Diag::error("E0306", format!("unknown schedule `{name}`"))
                .at(span, "not a schedule");
            if let Some(s) = names::suggest(&name, schedule::NAMES.iter().copied()) {
                d = d.note(format!("help: did you mean `{s}`?"));
            }
            d.note(format!("the schedules are: {}", schedule::NAMES.join(", ")))
        }
        SchedError::Invalid {
            message,
            span,
            label,
            help,
        } => Diag::error("E0306", message)
            .at(span, label)
            .note(format!("help: {help}")),
    }
}
