//! The step loop of every step-based minimization, argmin-style: a
//! `StepRunner` owns the loop (evaluate through the closure, step, project
//! onto the bounds, stop on a non-finite loss or gradient) and calls
//! observers around each step. Everything else a run does hangs on an
//! observer: recording the path (bounded, growing as it goes), the best
//! parameters so far, Ctrl-C, the progress line, the learning-rate
//! schedule, the epochs of a minibatch run. The `Problem` evaluates the
//! objective and is told which step comes next, which is where a minibatch
//! feeder puts the next batch into its tape.
//!
//! Nothing here allocates per step: observers reserve what they need or
//! grow amortized, and the runner's two buffers are made before the loop.

use super::schedule::Schedule;
use super::Optimizer;
use std::sync::atomic::{AtomicBool, Ordering};

/// What an observer asks of the loop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// The objective as the runner sees it.
pub trait Problem {
    /// Step `k` (from 0) comes next: a minibatch feeder sets its batch here.
    fn begin_step(&mut self, _k: usize) {}
    /// The loss at `x` and its gradient (not negated for maximize: the runner does that).
    fn eval(&mut self, x: &[f64], grad: &mut [f64]) -> f64;
}

/// One finished step, as observers see it.
pub struct StepInfo<'a> {
    /// The step's index, from 0.
    pub k: usize,
    /// The parameters before the step (where `loss` was evaluated).
    pub before: &'a [f64],
    /// The parameters after the step (and the bounds).
    pub after: &'a [f64],
    /// The loss the step's first evaluation gave (the user's sign).
    pub loss: f64,
}

/// Watches the loop.
pub trait Observer {
    /// Before step `k`, with the lr it will use.
    fn before_step(&mut self, _k: usize, _x: &[f64], _opt: &dyn Optimizer) {}
    /// After step `k`; `Stop` ends the run after this step.
    fn after_step(&mut self, step: &StepInfo<'_>, opt: &mut dyn Optimizer) -> Control;
}

/// Where the loop met a non-finite loss or gradient.
#[derive(Clone, Debug)]
pub struct NonFinite {
    /// The step (from 1).
    pub step: usize,
    pub loss: f64,
    /// Where it was evaluated.
    pub at: Vec<f64>,
    /// The first non-finite gradient element, if the loss was finite.
    pub which: Option<usize>,
}

/// How a run ended.
#[derive(Clone, Debug)]
pub struct RunEnd {
    /// Steps taken.
    pub ran: usize,
    /// An observer stopped the run (Ctrl-C).
    pub stopped: bool,
    /// A non-finite value stopped the run; `x` holds the last good parameters.
    pub nonfinite: Option<NonFinite>,
}

/// The loop.
pub struct StepRunner<'a> {
    pub steps: usize,
    /// Maximizing: the optimizer sees the negated objective.
    pub maximize: bool,
    /// Per-element box; empty when no parameter has limits.
    pub bounds: &'a [(f64, f64)],
}

impl StepRunner<'_> {
    /// Runs up to `steps` steps from `x` (updated in place).
    pub fn run(
        &self,
        opt: &mut dyn Optimizer,
        problem: &mut dyn Problem,
        x: &mut [f64],
        observers: &mut [&mut dyn Observer],
    ) -> RunEnd {
        let sign = if self.maximize { -1.0 } else { 1.0 };
        let mut before = x.to_vec();
        let mut bad: Option<NonFinite> = None;
        let mut end = RunEnd {
            ran: 0,
            stopped: false,
            nonfinite: None,
        };
        for k in 0..self.steps {
            problem.begin_step(k);
            for o in observers.iter_mut() {
                o.before_step(k, x, opt);
            }
            before.copy_from_slice(x);
            let loss = {
                let mut closure = |xs: &[f64], g: &mut [f64]| -> f64 {
                    let l = problem.eval(xs, g);
                    if bad.is_none() {
                        let which = g.iter().position(|v| !v.is_finite());
                        if !l.is_finite() || which.is_some() {
                            bad = Some(NonFinite {
                                step: k + 1,
                                loss: l,
                                at: xs.to_vec(),
                                which: if l.is_finite() { which } else { None },
                            });
                        }
                    }
                    if sign < 0.0 {
                        g.iter_mut().for_each(|v| *v = -*v);
                    }
                    sign * l
                };
                sign * opt.step(x, &mut closure)
            };
            if let Some(b) = bad.take() {
                x.copy_from_slice(&before);
                end.nonfinite = Some(b);
                return end;
            }
            if !self.bounds.is_empty() {
                for (v, (lo, hi)) in x.iter_mut().zip(self.bounds) {
                    *v = v.clamp(*lo, *hi);
                }
            }
            end.ran = k + 1;
            let info = StepInfo {
                k,
                before: &before,
                after: x,
                loss,
            };
            let mut stop = false;
            for o in observers.iter_mut() {
                stop |= o.after_step(&info, opt) == Control::Stop;
            }
            if stop {
                end.stopped = true;
                break;
            }
        }
        end
    }
}

/// The best parameters so far (the loss is at the parameters before a step).
pub struct Best {
    maximize: bool,
    pub loss: f64,
    /// The step whose starting point was best.
    pub step: usize,
    pub x: Vec<f64>,
}

impl Best {
    pub fn new(maximize: bool, x: &[f64]) -> Best {
        Best {
            maximize,
            loss: f64::NAN,
            step: 0,
            x: x.to_vec(),
        }
    }

    /// Whether `loss` beats the best so far.
    pub fn improves(&self, loss: f64) -> bool {
        let sign = if self.maximize { -1.0 } else { 1.0 };
        self.loss.is_nan() || sign * loss < sign * self.loss
    }
}

impl Observer for Best {
    fn after_step(&mut self, s: &StepInfo<'_>, _opt: &mut dyn Optimizer) -> Control {
        if self.improves(s.loss) {
            self.loss = s.loss;
            self.step = s.k;
            self.x.copy_from_slice(s.before);
        }
        Control::Continue
    }
}

/// The path: the loss and parameters before each step, and the lr each
/// step used. Recorded up to a budget of values and grown as it goes (a
/// billion-step run does not reserve a billion points); past the budget
/// the record is cut, and says where.
pub struct PathRecorder {
    /// Record the parameters (not only losses and lrs).
    points_on: bool,
    /// Steps that fit in the budget.
    limit: usize,
    pub losses: Vec<f64>,
    pub points: Vec<f64>,
    pub lrs: Vec<f64>,
    /// Steps past the limit were not recorded.
    pub cut: bool,
}

impl PathRecorder {
    /// A recorder for up to `budget` values (parameters plus loss plus lr
    /// per step) of `n` parameters each; `points` off records losses and lrs only.
    pub fn new(n: usize, points: bool, budget: usize) -> PathRecorder {
        let per = if points { n + 2 } else { 2 };
        PathRecorder {
            points_on: points,
            limit: (budget / per).max(1),
            losses: Vec::new(),
            points: Vec::new(),
            lrs: Vec::new(),
            cut: false,
        }
    }

    /// Appends the final point (the result), if the record was not cut.
    pub fn finish(&mut self, x: &[f64], loss: f64) {
        if !self.cut {
            self.losses.push(loss);
            if self.points_on {
                self.points.extend_from_slice(x);
            }
        }
    }

    pub fn records_points(&self) -> bool {
        self.points_on
    }
}

impl Observer for PathRecorder {
    fn before_step(&mut self, k: usize, _x: &[f64], opt: &dyn Optimizer) {
        if k < self.limit {
            self.lrs.push(opt.lr());
        }
    }

    fn after_step(&mut self, s: &StepInfo<'_>, _opt: &mut dyn Optimizer) -> Control {
        if s.k < self.limit {
            self.losses.push(s.loss);
            if self.points_on {
                self.points.extend_from_slice(s.before);
            }
        } else {
            self.cut = true;
        }
        Control::Continue
    }
}

/// Stops the run when a flag (Ctrl-C's) is raised, clearing it.
pub struct Interrupt<'a> {
    pub flag: &'a AtomicBool,
    pub hit: bool,
}

impl Observer for Interrupt<'_> {
    fn after_step(&mut self, _s: &StepInfo<'_>, _opt: &mut dyn Optimizer) -> Control {
        if self.flag.swap(false, Ordering::SeqCst) {
            self.hit = true;
            return Control::Stop;
        }
        Control::Continue
    }
}

/// Steps a learning-rate schedule after every optimizer step (`for N
/// steps`, or `per step`): torch's `optimizer.step(); scheduler.step()`.
pub struct PerStep<'a> {
    pub schedule: &'a mut Schedule,
}

impl Observer for PerStep<'_> {
    fn after_step(&mut self, s: &StepInfo<'_>, opt: &mut dyn Optimizer) -> Control {
        self.schedule.step(s.loss);
        self.schedule.apply(opt);
        Control::Continue
    }
}

/// A progress line, a few times a second once a run has taken half a
/// second; the callback gets the step and the last loss, and `None` at the end.
pub struct Progress<'a> {
    pub show: &'a mut dyn FnMut(Option<(usize, f64)>),
    started: std::time::Instant,
    shown: Option<std::time::Instant>,
}

impl<'a> Progress<'a> {
    pub fn new(show: &'a mut dyn FnMut(Option<(usize, f64)>)) -> Self {
        Progress {
            show,
            started: std::time::Instant::now(),
            shown: None,
        }
    }

    /// Clears the line if one was shown.
    pub fn finish(&mut self) {
        if self.shown.is_some() {
            (self.show)(None);
        }
    }
}

impl Observer for Progress<'_> {
    fn after_step(&mut self, s: &StepInfo<'_>, _opt: &mut dyn Optimizer) -> Control {
        if s.k % 256 == 255 {
            let now = std::time::Instant::now();
            let due = self
                .shown
                .map_or(now.duration_since(self.started).as_millis() > 500, |t| {
                    now.duration_since(t).as_millis() > 200
                });
            if due {
                self.shown = Some(now);
                (self.show)(Some((s.k + 1, s.loss)));
            }
        }
        Control::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{build, OptArg, OptValue, ParamLayout};

    struct Quadratic;
    impl Problem for Quadratic {
        fn eval(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
            g[0] = 2.0 * (x[0] - 3.0);
            (x[0] - 3.0).powi(2)
        }
    }

    fn sgd(lr: f64) -> Box<dyn Optimizer> {
        let args = [OptArg {
            name: "lr".into(),
            value: OptValue::Num(lr),
            span: 0..0,
        }];
        build("sgd", &args, &ParamLayout::scalars(1))
            .unwrap()
            .unwrap()
            .optimizer
    }

    #[test]
    fn runs_records_and_keeps_the_best() {
        let mut opt = sgd(0.1);
        let mut x = vec![0.0];
        let mut rec = PathRecorder::new(1, true, 1000);
        let mut best = Best::new(false, &x);
        let r = StepRunner {
            steps: 5,
            maximize: false,
            bounds: &[],
        };
        let end = r.run(
            opt.as_mut(),
            &mut Quadratic,
            &mut x,
            &mut [&mut rec, &mut best],
        );
        assert_eq!(end.ran, 5);
        assert_eq!(rec.losses.len(), 5);
        assert_eq!(rec.points[0], 0.0);
        assert_eq!(rec.lrs, vec![0.1; 5]);
        assert_eq!(best.step, 4);
        // x_{k+1} = x_k - 0.2 (x_k - 3)
        assert!((x[0] - 3.0 * (1.0 - 0.8f64.powi(5))).abs() < 1e-12);
    }

    #[test]
    fn a_bounded_record_is_cut_and_says_so() {
        let mut opt = sgd(0.1);
        let mut x = vec![0.0];
        // 3 values per step: room for 4 steps
        let mut rec = PathRecorder::new(1, true, 12);
        let r = StepRunner {
            steps: 10,
            maximize: false,
            bounds: &[],
        };
        r.run(opt.as_mut(), &mut Quadratic, &mut x, &mut [&mut rec]);
        assert_eq!(rec.losses.len(), 4);
        assert_eq!(rec.points.len(), 4);
        assert!(rec.cut);
        rec.finish(&x, 0.0);
        assert_eq!(rec.losses.len(), 4, "a cut record gets no final point");
    }

    #[test]
    fn an_interrupt_stops_after_the_step() {
        let flag = AtomicBool::new(true);
        let mut opt = sgd(0.1);
        let mut x = vec![0.0];
        let mut stop = Interrupt {
            flag: &flag,
            hit: false,
        };
        let r = StepRunner {
            steps: 10,
            maximize: false,
            bounds: &[],
        };
        let end = r.run(opt.as_mut(), &mut Quadratic, &mut x, &mut [&mut stop]);
        assert_eq!((end.ran, end.stopped, stop.hit), (1, true, true));
        assert!(!flag.load(Ordering::SeqCst));
    }

    #[test]
    fn bounds_and_maximize() {
        struct Neg;
        impl Problem for Neg {
            fn eval(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
                g[0] = -2.0 * x[0];
                -x[0] * x[0]
            }
        }
        let mut opt = sgd(0.1);
        let mut x = vec![1.0];
        let r = StepRunner {
            steps: 3,
            maximize: true,
            bounds: &[(-2.0, 1.1)],
        };
        r.run(opt.as_mut(), &mut Neg, &mut x, &mut []);
        // maximizing -x^2 pulls x to 0: 1 -> 0.8 -> 0.64 -> 0.512
        assert!((x[0] - 0.512).abs() < 1e-12);
        let mut x = vec![1.0];
        let r = StepRunner {
            steps: 3,
            maximize: false,
            bounds: &[(-2.0, 1.1)],
        };
        r.run(sgd(0.1).as_mut(), &mut Neg, &mut x, &mut []);
        assert_eq!(x[0], 1.1, "minimizing -x^2 runs into the bound");
    }

    #[test]
    fn a_nonfinite_loss_keeps_the_last_good_point() {
        struct Log;
        impl Problem for Log {
            fn eval(&mut self, x: &[f64], g: &mut [f64]) -> f64 {
                g[0] = 1.0 / x[0];
                x[0].ln()
            }
        }
        let mut x = vec![0.25];
        let r = StepRunner {
            steps: 10,
            maximize: false,
            bounds: &[],
        };
        let end = r.run(sgd(0.5).as_mut(), &mut Log, &mut x, &mut []);
        let bad = end.nonfinite.expect("log of a negative number");
        assert_eq!(bad.step, 2);
        assert!(bad.loss.is_nan());
        assert_eq!(x[0], bad.at[0]);
    }
}
