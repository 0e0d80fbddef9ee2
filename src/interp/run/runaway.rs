//! The warning for a step-based run that seems to have no minimum to find:
//! `maximize x^3 with adam(lr=0.1)` walks off towards infinity and would
//! otherwise end with a large number and no word. An observer keeps the
//! start and the point three quarters of the way through (two copies made
//! before the first step, so a step allocates nothing); after the run the
//! rule below compares the three points.
//!
//! The rule (docs/reference.md states it too), over runs of at least
//! `MIN_STEPS` steps, with the loss `f` taken in the direction being
//! minimized (negated for `maximize`), start `0`, three quarters `q`, end `e`:
//!
//! - the loss, when some parameter element has no limits:
//!   `f0 - fe > 1e6 * max(|f0|, 1)` (it fell by six orders of
//!   magnitude past its start's scale) and the last quarter still brought
//!   more than a tenth of that fall (`fq - fe > 0.1 * (f0 - fe)`): a run
//!   that converges slows down at the end, one that runs away does not;
//! - or a parameter element without limits: `|xe| > 100 * max(|x0|, 1)`,
//!   still growing in the last quarter by more than a tenth of its growth
//!   (`|xe| - |xq| > 0.1 * (|xe| - |x0|)`), while the loss still fell
//!   over that quarter (`fe < fq`).
//!
//! Runs cut short (Ctrl-C, a non-finite value) are not judged.

use crate::diagnostics::{Code, Diag, IntoDiagnostic, Sev};
use crate::optim::run::{Control, Observer, StepInfo};
use crate::optim::Optimizer;
use crate::tensor::fmt_num;

/// Shorter runs are not judged: too few steps to tell a trend.
pub(super) const MIN_STEPS: usize = 20;
/// How far the loss must fall, in units of its starting scale.
const LOSS_FALL: f64 = 1e6;
/// How far a parameter must grow, in units of its starting scale.
const PARAM_GROWTH: f64 = 100.0;
/// The share of the change the last quarter must still bring.
const STILL_MOVING: f64 = 0.1;

/// Keeps the start and the three-quarter point of a run.
pub(super) struct Runaway {
    at: usize,
    x0: Vec<f64>,
    f0: f64,
    xq: Vec<f64>,
    fq: f64,
    /// +1 minimizing, -1 maximizing.
    sign: f64,
    seen: bool,
}

/// What the rule found.
#[derive(Debug, PartialEq)]
pub(super) enum Finding {
    /// The loss fell from `from` to `to` (the user's sign).
    Loss { from: f64, to: f64 },
    /// Element `elem` of the free parameters went from `from` to `to`.
    Param { elem: usize, from: f64, to: f64 },
}

impl Runaway {
    /// An observer for a run of `steps` steps from `x`.
    pub(super) fn new(steps: usize, x: &[f64], maximize: bool) -> Runaway {
        Runaway {
            at: steps * 3 / 4,
            x0: x.to_vec(),
            f0: f64::NAN,
            xq: x.to_vec(),
            fq: f64::NAN,
            sign: if maximize { -1.0 } else { 1.0 },
            seen: false,
        }
    }

    /// The rule over a finished run of `steps` steps ending at `x` with loss
    /// `loss`; `free` tells which elements have no limits.
    pub(super) fn judge(
        &self,
        steps: usize,
        x: &[f64],
        loss: f64,
        free: &[bool],
    ) -> Option<Finding> {
        if steps < MIN_STEPS || !self.seen {
            return None;
        }
        let (f0, fq, fe) = (self.sign * self.f0, self.sign * self.fq, self.sign * loss);
        if !(f0.is_finite() && fq.is_finite() && fe.is_finite()) {
            return None;
        }
        let fall = f0 - fe;
        // parameters held in a box cannot walk off
        let unbounded = free.iter().any(|&f| f);
        if unbounded && fall > LOSS_FALL * f0.abs().max(1.0) && fq - fe > STILL_MOVING * fall {
            return Some(Finding::Loss {
                from: self.f0,
                to: loss,
            });
        }
        if fe >= fq {
            return None;
        }
        (0..x.len())
            .filter(|&j| free.get(j).copied().unwrap_or(false))
            .find(|&j| {
                let (a0, aq, ae) = (self.x0[j].abs(), self.xq[j].abs(), x[j].abs());
                ae > PARAM_GROWTH * a0.max(1.0) && ae - aq > STILL_MOVING * (ae - a0)
            })
            .map(|j| Finding::Param {
                elem: j,
                from: self.x0[j],
                to: x[j],
            })
    }
}

impl Observer for Runaway {
    fn after_step(&mut self, s: &StepInfo<'_>, _opt: &mut dyn Optimizer) -> Control {
        if s.k == 0 {
            self.f0 = s.loss;
        }
        if s.k == self.at {
            self.xq.copy_from_slice(s.before);
            self.fq = s.loss;
            self.seen = true;
        }
        Control::Continue
    }
}

/// The warning for a finding (E0408): `name` names the parameter element,
/// `steps` the steps that ran, `span` the objective.
#[derive(Debug, PartialEq, thiserror::Error)]
#[error("{}", self.message())]
pub(super) struct RunawayWarning {
    pub finding: Finding,
    pub name: String,
    pub steps: usize,
    pub maximize: bool,
    pub span: crate::diagnostics::Span,
}

impl RunawayWarning {
    /// ("falling", "fall", "minimum") in the direction of the run.
    fn words(&self) -> (&'static str, &'static str, &'static str) {
        if self.maximize {
            ("rising", "grow", "maximum")
        } else {
            ("falling", "fall", "minimum")
        }
    }

    fn message(&self) -> String {
        let (falling, _, extremum) = self.words();
        let (steps, name) = (self.steps, &self.name);
        match self.finding {
            Finding::Loss { .. } => format!("the loss was still {falling} fast after {steps} steps: the objective may have no {extremum}"),
            Finding::Param { .. } => format!("`{name}` was still growing fast after {steps} steps: the objective may have no {extremum}"),
        }
    }
}

impl IntoDiagnostic for RunawayWarning {
    fn into_diagnostic(self) -> Diag {
        let (_, fall, _) = self.words();
        let name = &self.name;
        let note = match self.finding {
            Finding::Loss { from, to } => format!(
                "it went from {} to {}, and the last quarter of the steps brought more than a tenth of that",
                fmt_num(from),
                fmt_num(to)
            ),
            Finding::Param { from, to, .. } => format!(
                "`{name}` went from {} to {} and kept moving away in the last quarter of steps",
                fmt_num(from),
                fmt_num(to)
            ),
        };
        let mut d = Diag::error(Code::E0408, self.to_string())
            .at(self.span, format!("this objective may {fall} without bound"))
            .note(note)
            .note("help: give the parameters limits (`param x = 1 in [-10, 10];`), or check the objective's sign (`minimize` or `maximize`)");
        d.severity = Sev::Warning;
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the observer over a path of (x, loss) pairs.
    fn judge(path: &[(f64, f64)], end: (f64, f64), maximize: bool, free: bool) -> Option<Finding> {
        let mut r = Runaway::new(path.len(), &[path[0].0], maximize);
        let built = crate::optim::build("sgd", &[], &crate::optim::ParamLayout::scalars(1));
        let mut opt = built
            .expect("sgd exists")
            .expect("sgd's defaults")
            .optimizer;
        for (k, &(x, l)) in path.iter().enumerate() {
            let opt = opt.as_mut();
            let info = StepInfo {
                k,
                before: &[x],
                after: &[x],
                loss: l,
            };
            r.after_step(&info, opt);
        }
        r.judge(path.len(), &[end.0], end.1, &[free])
    }

    #[test]
    fn a_parameter_walking_off_is_found_and_a_converging_one_is_not() {
        // maximize x^3 with a constant step: x = 1 + 0.2 k
        let walk: Vec<(f64, f64)> = (0..1000)
            .map(|k| {
                let x = 1.0 + 0.2 * k as f64;
                (x, x * x * x)
            })
            .collect();
        let f = judge(&walk, (201.0, 201f64.powi(3)), true, true);
        assert!(matches!(f, Some(Finding::Loss { .. })), "{f:?}");
        // maximize x: the loss grows only 200-fold, the parameter rule finds it
        let lin: Vec<(f64, f64)> = walk.iter().map(|&(x, _)| (x, x)).collect();
        let f = judge(&lin, (201.0, 201.0), true, true);
        assert!(matches!(f, Some(Finding::Param { elem: 0, .. })), "{f:?}");
        // with limits on it, the parameter cannot run off
        assert_eq!(judge(&walk, (201.0, 201f64.powi(3)), true, false), None);
        // (x - 500)^2 from 0: converges to 500 geometrically
        let conv: Vec<(f64, f64)> = (0..1000)
            .map(|k| {
                let x = 500.0 * (1.0 - 0.99f64.powi(k));
                (x, (x - 500.0).powi(2))
            })
            .collect();
        let xe = 500.0 * (1.0 - 0.99f64.powi(1000));
        assert_eq!(judge(&conv, (xe, (xe - 500.0).powi(2)), false, true), None);
    }

    #[test]
    fn a_loss_falling_without_bound_is_found() {
        // minimize -exp(k/50): the loss falls faster and faster
        let path: Vec<(f64, f64)> = (0..1000).map(|k| (0.5, -(k as f64 / 50.0).exp())).collect();
        let f = judge(&path, (0.5, -20f64.exp()), false, true);
        assert!(matches!(f, Some(Finding::Loss { .. })), "{f:?}");
        // not when every parameter has limits
        assert_eq!(judge(&path, (0.5, -20f64.exp()), false, false), None);
        // a short run is not judged
        assert_eq!(judge(&path[..10], (0.5, -1e30), false, true), None);
    }

    #[test]
    fn the_warning_is_worded_for_the_direction_and_what_ran_away() {
        let w = |finding, maximize| RunawayWarning {
            finding,
            name: "x".into(),
            steps: 1000,
            maximize,
            span: 3..8,
        };
        let d = w(
            Finding::Loss {
                from: 1.0,
                to: -5.0,
            },
            false,
        )
        .into_diagnostic();
        assert_eq!((d.code, d.severity), (Code::E0408, Sev::Warning));
        assert_eq!(
            d.message,
            "the loss was still falling fast after 1000 steps: the objective may have no minimum"
        );
        assert_eq!(
            d.labels[0],
            (3..8, "this objective may fall without bound".to_string())
        );
        let param = Finding::Param {
            elem: 0,
            from: 1.0,
            to: 201.0,
        };
        let d = w(param, true).into_diagnostic();
        assert!(
            d.message.starts_with("`x` was still growing fast"),
            "{}",
            d.message
        );
        assert!(d.message.ends_with("may have no maximum"), "{}", d.message);
        assert_eq!(d.labels[0].1, "this objective may grow without bound");
    }
}
