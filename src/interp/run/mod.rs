//! `minimize` and `maximize`: applies `from`, turns the `with OPT(...)`
//! options into values, builds the objective's graph once, and hands it to
//! a torch.optim optimizer (`steps`) or to Minuit (`minuit`).

mod epochs;
mod error;
pub(super) mod minuit;
mod runaway;
mod schedule;
mod steps;
mod steps_report;
mod stopped;
pub(super) mod tape_cache;
pub(super) mod uncertainty;

use super::{Lowerer, Session};
use crate::diagnostics::{Diag, Span};
use crate::graph::{Graph, NodeId};
use crate::optim::{self, OptArg, OptError, OptValue, ParamLayout};
use crate::syntax::ast::{Arg, Expr, ExprKind, MinimizeStmt, Stmt};
use crate::tensor::Tensor;
pub use error::{NonFiniteWhat, OptionError, RunError};

use crate::minuit::options::{algorithm, ALGORITHMS};
pub use stopped::Replay;

/// Turns `name=value` arguments of `with OPT(...)` into option values.
pub(super) fn option_args(s: &Session, args: &[Arg]) -> Result<Vec<OptArg>, Diag> {
    fn value(s: &Session, e: &Expr) -> Result<OptValue, Diag> {
        Ok(match &e.kind {
            ExprKind::Bool(b) => OptValue::Bool(*b),
            ExprKind::Str(t) => OptValue::Str(t.clone()),
            // a list such as milestones=[5, 12] reads like a tuple
            ExprKind::Tuple(items) | ExprKind::Array(items) => OptValue::Tuple(
                items
                    .iter()
                    .map(|i| value(s, i))
                    .collect::<Result<_, _>>()?,
            ),
            _ => OptValue::Num(s.const_scalar(e)?),
        })
    }
    args.iter()
        .map(|a| {
            let Some(name) = &a.name else {
                return Err(OptionError::NotNamed {
                    span: a.span.clone(),
                }
                .into());
            };
            Ok(OptArg {
                name: name.name.clone(),
                value: value(s, &a.value)?,
                span: a.span.clone(),
            })
        })
        .collect()
}

/// The optimizer module's error as a diagnostic, at its option or at
/// `spec_span` (the whole `with OPT(...)`).
pub(super) fn opt_diag(e: OptError, spec_span: &Span) -> Diag {
    OptionError::from_optim(e, spec_span).into()
}

/// The objective's graph, with the involved parameters.
pub(super) struct Objective {
    pub(super) g: Graph,
    pub(super) out: NodeId,
    /// Session indices of parameters the objective depends on (declaration order).
    pub(super) involved: Vec<usize>,
}

fn build_objective(s: &Session, m: &MinimizeStmt) -> Result<Objective, Diag> {
    let mut g = Graph::new();
    let out = Lowerer::new(s, &mut g).num(&m.objective)?;
    if !g.shape(out).is_empty() {
        return Err(RunError::NotScalar {
            shape: crate::tensor::shape_str(g.shape(out)),
            span: m.objective.span.clone(),
        }
        .into());
    }
    super::lower::check_ranges(s, &g)?;
    let involved: Vec<usize> = g
        .params_reached(out, s.params.len() as u32)
        .into_iter()
        .map(|i| i as usize)
        .collect();
    if !involved.iter().any(|&i| !s.params[i].fixed) {
        return Err(RunError::NoFreeParameter {
            span: m.objective.span.clone(),
            no_params: s.params.is_empty(),
        }
        .into());
    }
    Ok(Objective { g, out, involved })
}

/// Runs `minimize`/`maximize`.
pub fn run(s: &mut Session, m: &MinimizeStmt, st: &Stmt, line: usize) -> Result<(), Diag> {
    start_from(s, m)?;
    let (oname, oargs, ospan) = match &m.with {
        Some(w) => (w.name.name.as_str(), w.args.as_slice(), w.span.clone()),
        None => ("migrad", &[][..], st.span.clone()),
    };
    let args = option_args(s, oargs)?;
    let obj = build_objective(s, m)?;
    if let Some(alg) = algorithm(oname) {
        minuit_applies(m, alg.name)?;
        return minuit::run_minuit(s, m, alg, &args, &ospan, obj, line);
    }
    let length = match steps::epoch_plan(s, m)? {
        Some(plan) => steps::Length::Epochs(plan),
        None => steps::Length::Steps(run_length(s, m)?),
    };
    let free: Vec<usize> = obj
        .involved
        .iter()
        .copied()
        .filter(|&i| !s.params[i].fixed)
        .collect();
    let layout = ParamLayout {
        shapes: free
            .iter()
            .map(|&i| s.params[i].value.shape.clone())
            .collect(),
    };
    let built = build_optimizer(m, oname, &args, &ospan, &layout)?;
    let given: Vec<String> = args.iter().map(|a| a.name.clone()).collect();
    steps::run_steps(
        s,
        steps::StepRun {
            m,
            oname: built.0,
            built: built.1,
            given,
            free,
            layout,
            obj,
            length,
            line,
        },
    )
}

/// `from x = 1, y = 2`: the starting values, set before anything else.
fn start_from(s: &mut Session, m: &MinimizeStmt) -> Result<(), Diag> {
    for (name, e) in &m.from {
        let Some(i) = s.param_index(&name.name) else {
            return Err(super::names::unknown_param(&name.name, name.span.clone(), s).into());
        };
        let v = s.eval(e)?;
        s.set_param_value(i, v, &e.span)?;
    }
    Ok(())
}

/// A Minuit algorithm takes no epochs, schedule or step count.
fn minuit_applies(m: &MinimizeStmt, algorithm: &'static str) -> Result<(), Diag> {
    if let Some(e) = &m.epochs {
        return Err(RunError::MinuitEpochs {
            algorithm,
            span: e.span.clone(),
        }
        .into());
    }
    if let Some(sc) = &m.schedule {
        return Err(schedule::ScheduleError::Minuit {
            algorithm,
            span: sc.span.clone(),
        }
        .into());
    }
    if let Some(e) = &m.steps {
        return Err(RunError::MinuitSteps {
            algorithm,
            span: e.span.clone(),
        }
        .into());
    }
    Ok(())
}

fn run_length(s: &Session, m: &MinimizeStmt) -> Result<usize, Diag> {
    Ok(match &m.steps {
        None => 1000,
        Some(e) => {
            let v = s.const_scalar(e)?;
            if !(v >= 1.0 && v.fract() == 0.0 && v <= 1e9) {
                return Err(RunError::StepCount {
                    value: v,
                    span: e.span.clone(),
                }
                .into());
            }
            v as usize
        }
    })
}

fn build_optimizer(
    m: &MinimizeStmt,
    oname: &str,
    args: &[OptArg],
    ospan: &Span,
    layout: &ParamLayout,
) -> Result<(&'static str, optim::Built), Diag> {
    match optim::build(oname, args, layout) {
        Some(r) => {
            let built = r.map_err(|e| opt_diag(e, ospan))?;
            let name = optim::NAMES
                .iter()
                .copied()
                .find(|n| *n == oname)
                .unwrap_or("sgd");
            Ok((name, built))
        }
        None => {
            let mut all: Vec<&str> = optim::NAMES.to_vec();
            all.extend(ALGORITHMS.iter().map(|a| a.name));
            let name_span = m
                .with
                .as_ref()
                .map_or(ospan.clone(), |w| w.name.span.clone());
            Err(OptionError::UnknownOptimizer {
                name: oname.to_string(),
                span: name_span,
                suggestion: super::names::suggest(oname, all.iter().copied()),
                all,
            }
            .into())
        }
    }
}

/// Every parameter's name and value, for a record.
pub(super) fn params_record(s: &Session) -> Vec<(String, Tensor)> {
    s.params
        .iter()
        .map(|p| (p.name.clone(), p.value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Code;
    use crate::interp::testutil::{first_error, run};
    use crate::interp::Outcome;

    /// The code of the error that stops `src` and its primary label's text.
    fn err_at(src: &str) -> (Code, &str) {
        let d = first_error(src);
        (d.code, &src[d.labels[0].0.clone()])
    }

    #[test]
    fn the_objective_is_checked_before_running() {
        assert_eq!(err_at("param w[2] = 0; minimize w;"), (Code::E0305, "w"));
        assert_eq!(err_at("let a = 1; minimize a^2;"), (Code::E0305, "a^2"));
    }

    #[test]
    fn options_are_checked_at_the_option() {
        let src = "param x = 1; minimize x^2 with adam(lr=0.1, foo=1) for 3 steps;";
        assert_eq!(err_at(src), (Code::E0301, "foo=1"));
        let src = "param x = 1; minimize x^2 with adam(lr=true) for 3 steps;";
        assert_eq!(err_at(src), (Code::E0302, "lr=true"));
        let src = "param x = 1; minimize x^2 with adam for 0 steps;";
        assert_eq!(err_at(src), (Code::E0304, "0"));
    }

    #[test]
    fn a_run_updates_only_the_free_parameters() {
        let r = run("param x = 3; param y = 5 fixed;
            minimize (x - 1)^2 + y with sgd(lr=0.25) for 2 steps; print x, y;");
        assert_eq!(r.outcome, Outcome::Ok, "{}", r.err);
        // x - 1 halves each step: 3 -> 2 -> 1.5
        assert!(r.out.ends_with("1.5 5.0\n"), "{}", r.out);
    }
}
