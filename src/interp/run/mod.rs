//! `minimize` and `maximize`: applies `from`, turns the `with OPT(...)`
//! options into values, builds the objective's graph once, and hands it to
//! a torch.optim optimizer (`steps`) or to Minuit (`minuit`).

mod epochs;
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
use crate::tensor::{fmt_num, Tensor};

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
                return Err(Diag::error("E0302", "optimizer options are named")
                    .at(a.span.clone(), "no option name")
                    .note("help: write e.g. `adam(lr=0.1)`"));
            };
            Ok(OptArg {
                name: name.name.clone(),
                value: value(s, &a.value)?,
                span: a.span.clone(),
            })
        })
        .collect()
}

pub(super) fn opt_diag(e: OptError, spec_span: &Span) -> Diag {
    let span = e.span().unwrap_or_else(|| spec_span.clone());
    match e {
        OptError::Unknown {
            optimizer,
            name,
            valid,
            ..
        } => {
            let mut d = Diag::error("E0301", format!("unknown option `{name}` for {optimizer}"))
                .at(span, "unknown option");
            if let Some(s) = super::names::suggest(&name, valid.iter().copied()) {
                d = d.note(format!("help: did you mean `{s}`?"));
            }
            d.note(format!("{optimizer} takes: {}", valid.join(", ")))
        }
        OptError::Duplicate { name, .. } => {
            Diag::error("E0301", format!("option `{name}` is given twice")).at(span, "again here")
        }
        OptError::Type {
            name,
            expected,
            got,
            ..
        } => Diag::error(
            "E0302",
            format!("option `{name}` expects {expected}, got {got}"),
        )
        .at(span, format!("this is {got}")),
        OptError::Range {
            name,
            value,
            allowed,
            ..
        } => Diag::error(
            "E0303",
            format!("invalid value {value} for option `{name}`"),
        )
        .at(span, "out of range")
        .note(format!("help: {allowed}")),
        OptError::Unsupported { message, hint } => Diag::error("E0300", message)
            .at(span, "here")
            .note(format!("help: {hint}")),
    }
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
        return Err(Diag::error(
            "E0305",
            format!(
                "the objective must be a scalar, this one has shape {}",
                crate::tensor::shape_str(g.shape(out))
            ),
        )
        .at(m.objective.span.clone(), "not a scalar")
        .note("help: reduce it, e.g. with sum(...) or mean(...)"));
    }
    super::lower::check_ranges(s, &g)?;
    let involved: Vec<usize> = g
        .params_reached(out, s.params.len() as u32)
        .into_iter()
        .map(|i| i as usize)
        .collect();
    if !involved.iter().any(|&i| !s.params[i].fixed) {
        let d = Diag::error("E0305", "the objective depends on no free parameter")
            .at(m.objective.span.clone(), "nothing to minimize here");
        return Err(if s.params.is_empty() {
            d.note("help: declare one with `param x = 0;`")
        } else {
            d.note("help: fixed parameters do not move; remove `fixed` or use another parameter")
        });
    }
    Ok(Objective { g, out, involved })
}

/// Runs `minimize`/`maximize`.
pub fn run(s: &mut Session, m: &MinimizeStmt, st: &Stmt, line: usize) -> Result<(), Diag> {
    for (name, e) in &m.from {
        let Some(i) = s.param_index(&name.name) else {
            return Err(super::names::unknown_name(
                &name.name,
                name.span.clone(),
                s,
                "parameter",
            ));
        };
        let v = s.eval(e)?;
        s.set_param_value(i, v, &e.span)?;
    }
    let (oname, oargs, ospan) = match &m.with {
        Some(w) => (w.name.name.as_str(), w.args.as_slice(), w.span.clone()),
        None => ("migrad", &[][..], st.span.clone()),
    };
    let args = option_args(s, oargs)?;
    let obj = build_objective(s, m)?;
    if let Some(alg) = algorithm(oname) {
        if let Some(e) = &m.epochs {
            return Err(Diag::error(
                "E0304",
                format!("`for ... epochs` does not apply to {oname}"),
            )
            .at(e.span.clone(), "Minuit minimizes over all the data at once")
            .note(
                "help: minibatch epochs are for the torch optimizers, e.g. `with adam(lr=0.01)`",
            ));
        }
        if let Some(sc) = &m.schedule {
            return Err(Diag::error(
                "E0306",
                format!("a learning-rate schedule does not apply to {oname}"),
            )
            .at(sc.span.clone(), "Minuit has no learning rate")
            .note("help: schedules are for the torch optimizers, e.g. `with sgd(lr=0.1)`"));
        }
        if let Some(e) = &m.steps {
            return Err(Diag::error(
                "E0304",
                format!("`for ... steps` does not apply to {oname}"),
            )
            .at(e.span.clone(), "Minuit decides when it has converged")
            .note("help: limit its calls with `ncall=N` instead"));
        }
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

fn run_length(s: &Session, m: &MinimizeStmt) -> Result<usize, Diag> {
    Ok(match &m.steps {
        None => 1000,
        Some(e) => {
            let v = s.const_scalar(e)?;
            if !(v >= 1.0 && v.fract() == 0.0 && v <= 1e9) {
                return Err(Diag::error(
                    "E0304",
                    "the number of steps must be a whole number from 1 to 1000000000 (1e9)",
                )
                .at(e.span.clone(), format!("this is {}", fmt_num(v))));
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
            let mut d = Diag::error("E0300", format!("unknown optimizer `{oname}`"))
                .at(name_span, "not an optimizer");
            if let Some(sug) = super::names::suggest(oname, all.iter().copied()) {
                d = d.note(format!("help: did you mean `{sug}`?"));
            }
            Err(d.note(format!("the optimizers are: {}", all.join(", "))))
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
