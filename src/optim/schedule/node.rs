//! One scheduler of the tree, with torch's state (`last_epoch`,
//! `_step_count`, `base_lrs`, `_is_initial`) and torch's recurrences: each
//! `get_lr` below is the one torch's scheduler computes, from the group's
//! current lr where torch's is chainable, and `closed_form` is its
//! `_get_closed_form_lr` (used when SequentialLR hands over at a milestone).

use super::cyclic::{Cyclic, OneCycle};
use super::{check_increasing, need, Context, Group, LambdaFn, SchedError};
use crate::optim::{OptReader, Span};
use std::f64::consts::PI;

/// What a scheduler computes.
pub(crate) enum Kind {
    Step {
        step_size: i64,
        gamma: f64,
    },
    MultiStep {
        milestones: Vec<i64>,
        gamma: f64,
    },
    Constant {
        factor: f64,
        total_iters: i64,
    },
    Linear {
        start: f64,
        end: f64,
        total_iters: i64,
    },
    Exponential {
        gamma: f64,
    },
    Polynomial {
        total_iters: i64,
        power: f64,
    },
    Cosine {
        t_max: i64,
        eta_min: f64,
    },
    WarmRestarts(Warm),
    Cyclic(Box<Cyclic>),
    OneCycle(Box<OneCycle>),
    Plateau(Plateau),
    Lambda(LambdaFn, String),
    Multiplicative(LambdaFn, String),
    Sequential {
        children: Vec<Node>,
        milestones: Vec<i64>,
    },
    Chained(Vec<Node>),
}

/// CosineAnnealingWarmRestarts' own counters.
pub(crate) struct Warm {
    t_0: i64,
    t_mult: i64,
    eta_min: f64,
    t_i: i64,
    t_cur: i64,
}

/// ReduceLROnPlateau's state.
pub(crate) struct Plateau {
    max: bool,
    rel: bool,
    factor: f64,
    patience: i64,
    threshold: f64,
    cooldown: i64,
    min_lr: f64,
    eps: f64,
    best: f64,
    bad: i64,
    cooldown_counter: i64,
}

/// A scheduler with torch's bookkeeping.
pub(crate) struct Node {
    pub kind: Kind,
    last_epoch: i64,
    step_count: u64,
    base_lr: f64,
    initial: bool,
}

fn positive(r: &OptReader, name: &str, v: i64) -> Result<(), SchedError> {
    Ok(r.check(
        name,
        v >= 1,
        v,
        &format!("{name} must be a whole number >= 1"),
    )?)
}

/// Reads a simple scheduler's options in torch's order, with torch's checks.
pub(crate) fn read(
    name: &str,
    r: &mut OptReader,
    lambda: Option<(LambdaFn, String)>,
    ctx: &Context,
    span: &Span,
) -> Result<Kind, SchedError> {
    Ok(match name {
        "step_lr" => {
            let step_size = r.int("step_size", 0)?;
            need(
                r,
                name,
                "step_size",
                span,
                "step_lr(step_size=30, gamma=0.1)",
            )?;
            positive(r, "step_size", step_size)?;
            Kind::Step {
                step_size,
                gamma: r.num("gamma", 0.1)?,
            }
        }
        "multi_step_lr" => read_multi_step(r, span)?,
        "constant_lr" => read_constant(r)?,
        "linear_lr" => read_linear(r)?,
        "exponential_lr" => read_exponential(r, span)?,
        "polynomial_lr" => {
            let total_iters = r.int("total_iters", 5)?;
            let power = r.num("power", 1.0)?;
            positive(r, "total_iters", total_iters)?;
            Kind::Polynomial { total_iters, power }
        }
        "cosine_annealing_lr" => read_cosine(r, span)?,
        "cosine_annealing_warm_restarts" => Kind::WarmRestarts(Warm::read(r, span)?),
        "cyclic_lr" => Kind::Cyclic(Box::new(Cyclic::read(r, ctx, span)?)),
        "one_cycle_lr" => Kind::OneCycle(Box::new(OneCycle::read(r, ctx, span)?)),
        "reduce_lr_on_plateau" => Kind::Plateau(Plateau::read(r)?),
        "lambda_lr" | "multiplicative_lr" => read_lambda(name, lambda, span)?,
        _ => unreachable!("schedule names are checked before"),
    })
}

/// `multi_step_lr(milestones, gamma=0.1)`.
fn read_multi_step(r: &mut OptReader, span: &Span) -> Result<Kind, SchedError> {
    need(
        r,
        "multi_step_lr",
        "milestones",
        span,
        "multi_step_lr(milestones=[30, 80], gamma=0.1)",
    )?;
    let milestones = r.int_list("milestones")?;
    check_increasing(
        &milestones,
        &r.span_of("milestones").unwrap_or(span.clone()),
    )?;
    Ok(Kind::MultiStep {
        milestones,
        gamma: r.num("gamma", 0.1)?,
    })
}

/// `constant_lr(factor=1/3, total_iters=5)`.
fn read_constant(r: &mut OptReader) -> Result<Kind, SchedError> {
    let factor = r.num("factor", 1.0 / 3.0)?;
    let total_iters = r.int("total_iters", 5)?;
    r.check(
        "factor",
        (0.0..=1.0).contains(&factor),
        factor,
        "factor must be in [0, 1]",
    )?;
    // torch divides by the factor when the constant phase ends.
    r.check(
        "factor",
        factor > 0.0 || total_iters <= 0,
        factor,
        "factor must be > 0 (torch divides by it at total_iters)",
    )?;
    Ok(Kind::Constant {
        factor,
        total_iters,
    })
}

/// `linear_lr(start_factor=1/3, end_factor=1, total_iters=5)`.
fn read_linear(r: &mut OptReader) -> Result<Kind, SchedError> {
    let start = r.num("start_factor", 1.0 / 3.0)?;
    let end = r.num("end_factor", 1.0)?;
    let total_iters = r.int("total_iters", 5)?;
    r.check(
        "start_factor",
        start > 0.0 && start <= 1.0,
        start,
        "start_factor must be in (0, 1]",
    )?;
    r.check(
        "end_factor",
        (0.0..=1.0).contains(&end),
        end,
        "end_factor must be in [0, 1]",
    )?;
    positive(r, "total_iters", total_iters)?;
    Ok(Kind::Linear {
        start,
        end,
        total_iters,
    })
}

/// `exponential_lr(gamma)`.
fn read_exponential(r: &mut OptReader, span: &Span) -> Result<Kind, SchedError> {
    let gamma = r.num("gamma", f64::NAN)?;
    if gamma.is_nan() {
        return Err(SchedError::invalid(
            span,
            "exponential_lr needs `gamma`",
            "no gamma",
            "write e.g. `exponential_lr(gamma=0.95)`",
        ));
    }
    Ok(Kind::Exponential { gamma })
}

/// `cosine_annealing_lr(T_max, eta_min=0)`.
fn read_cosine(r: &mut OptReader, span: &Span) -> Result<Kind, SchedError> {
    let t_max = r.int("T_max", 0)?;
    if r.span_of("T_max").is_none() {
        return Err(SchedError::invalid(
            span,
            "cosine_annealing_lr needs `T_max`",
            "no T_max",
            "write e.g. `cosine_annealing_lr(T_max=100)`: the steps (or epochs) of half a cosine",
        ));
    }
    positive(r, "T_max", t_max)?;
    Ok(Kind::Cosine {
        t_max,
        eta_min: r.num("eta_min", 0.0)?,
    })
}

/// `lambda_lr(expr)` and `multiplicative_lr(expr)`, the expression in
/// `epoch` already compiled.
fn read_lambda(
    name: &str,
    lambda: Option<(LambdaFn, String)>,
    span: &Span,
) -> Result<Kind, SchedError> {
    let Some((f, src)) = lambda else {
        let example = if name == "lambda_lr" {
            "0.95^epoch"
        } else {
            "0.95"
        };
        return Err(SchedError::invalid(
            span,
            format!("{name} needs an expression in `epoch`"),
            "no expression",
            format!("write e.g. `{name}({example})`"),
        ));
    };
    Ok(if name == "lambda_lr" {
        Kind::Lambda(f, src)
    } else {
        Kind::Multiplicative(f, src)
    })
}

impl Warm {
    /// `cosine_annealing_warm_restarts(T_0, T_mult=1, eta_min=0)`.
    fn read(r: &mut OptReader, span: &Span) -> Result<Warm, SchedError> {
        let t_0 = r.int("T_0", 0)?;
        need(
            r,
            "cosine_annealing_warm_restarts",
            "T_0",
            span,
            "cosine_annealing_warm_restarts(T_0=10)",
        )?;
        positive(r, "T_0", t_0)?;
        let t_mult = r.int("T_mult", 1)?;
        positive(r, "T_mult", t_mult)?;
        let eta_min = r.num("eta_min", 0.0)?;
        Ok(Warm {
            t_0,
            t_mult,
            eta_min,
            t_i: t_0,
            t_cur: -1,
        })
    }
}

impl Plateau {
    /// `reduce_lr_on_plateau(mode="min", factor=0.1, patience=10,
    /// threshold=1e-4, threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8)`.
    fn read(r: &mut OptReader) -> Result<Plateau, SchedError> {
        let mode = r.choice("mode", Some("min"), &["min", "max"])?;
        let factor = r.num("factor", 0.1)?;
        let patience = r.int("patience", 10)?;
        let threshold = r.num("threshold", 1e-4)?;
        let tmode = r.choice("threshold_mode", Some("rel"), &["rel", "abs"])?;
        let cooldown = r.int("cooldown", 0)?;
        let min_lr = r.num("min_lr", 0.0)?;
        let eps = r.num("eps", 1e-8)?;
        r.check("factor", factor < 1.0, factor, "factor must be < 1")?;
        let max = mode.as_deref() == Some("max");
        Ok(Plateau {
            max,
            rel: tmode.as_deref() == Some("rel"),
            factor,
            patience,
            threshold,
            cooldown,
            min_lr,
            eps,
            best: if max {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            },
            bad: 0,
            cooldown_counter: 0,
        })
    }
}

impl Node {
    fn new(kind: Kind) -> Node {
        Node {
            kind,
            last_epoch: -1,
            step_count: 0,
            base_lr: 0.0,
            initial: false,
        }
    }

    /// torch's constructor: the scheduler's own setup, then
    /// `LRScheduler.__init__` (initial_lr, base_lrs) and `_initial_step`.
    pub fn construct(kind: Kind, g: &mut Group) -> Node {
        let mut n = Node::new(kind);
        match &mut n.kind {
            Kind::Plateau(_) => {
                // ReduceLROnPlateau does not call the base constructor.
                n.last_epoch = 0;
                return n;
            }
            Kind::Cyclic(c) => c.setup(g),
            Kind::OneCycle(c) => c.setup(g),
            _ => {}
        }
        let initial = *g.initial_lr.get_or_insert(g.lr);
        n.base_lr = initial;
        n.initial_step(g);
        if let Kind::Cyclic(c) = &n.kind {
            n.base_lr = c.base_lr;
        }
        n
    }

    /// SequentialLR's constructor, after its children were constructed.
    pub fn sequential(mut children: Vec<Node>, milestones: Vec<i64>, g: &mut Group) -> Node {
        if let Some(lr) = g.initial_lr {
            g.lr = lr;
        }
        for c in &mut children {
            c.undo();
        }
        let idx = milestones.partition_point(|&m| m <= 0);
        children[idx].initial_step(g);
        let mut n = Node::new(Kind::Sequential {
            children,
            milestones,
        });
        n.last_epoch = 0;
        n
    }

    pub fn chained(children: Vec<Node>) -> Node {
        Node::new(Kind::Chained(children))
    }

    /// SequentialLR's `recursive_undo`: one step back for every leaf.
    fn undo(&mut self) {
        match &mut self.kind {
            Kind::Sequential { children, .. } | Kind::Chained(children) => {
                children.iter_mut().for_each(Node::undo)
            }
            _ => self.last_epoch -= 1,
        }
    }

    fn initial_step(&mut self, g: &mut Group) {
        self.step_count = 0;
        self.initial = true;
        self.step(g, f64::NAN);
        self.initial = false;
    }

    /// `scheduler.step()` (`step(metric)` for the plateau).
    pub fn step(&mut self, g: &mut Group, metric: f64) {
        match &mut self.kind {
            Kind::Sequential {
                children,
                milestones,
            } => {
                self.last_epoch += 1;
                let e = self.last_epoch;
                let idx = milestones.partition_point(|&m| m <= e);
                if idx > 0 && milestones[idx - 1] == e {
                    children[idx].update_lr(g, Some(0));
                } else {
                    children[idx].step(g, metric);
                }
            }
            Kind::Chained(children) => children.iter_mut().for_each(|c| c.step(g, metric)),
            Kind::WarmRestarts(w) => {
                if self.last_epoch < 0 {
                    w.t_i = w.t_0;
                    w.t_cur = 0;
                    self.last_epoch = 0;
                } else {
                    self.last_epoch += 1;
                    w.t_cur += 1;
                    if w.t_cur >= w.t_i {
                        w.t_cur %= w.t_i;
                        w.t_i *= w.t_mult;
                    }
                }
                g.lr = self.get_lr(g);
            }
            Kind::Plateau(p) => {
                self.last_epoch += 1;
                p.step(g, metric);
            }
            _ => {
                self.step_count += 1;
                self.update_lr(g, None);
            }
        }
    }

    /// torch's `_update_lr(epoch)`.
    fn update_lr(&mut self, g: &mut Group, epoch: Option<i64>) {
        g.lr = match epoch {
            None => {
                self.last_epoch += 1;
                self.get_lr(g)
            }
            Some(e) => {
                self.last_epoch = e;
                self.closed_form().unwrap_or_else(|| self.get_lr(g))
            }
        };
    }

    /// torch's chainable `get_lr`.
    fn get_lr(&mut self, g: &mut Group) -> f64 {
        let at = At {
            e: self.last_epoch,
            lr: g.lr,
            base: self.base_lr,
            initial: self.initial,
            step_count: self.step_count,
        };
        let (e, lr, base, initial) = (at.e, at.lr, at.base, at.initial);
        match &mut self.kind {
            Kind::Step { step_size, gamma } => {
                if e == 0 || e % *step_size != 0 {
                    lr
                } else {
                    lr * *gamma
                }
            }
            Kind::MultiStep { milestones, gamma } => {
                if milestones.contains(&e) {
                    lr * *gamma
                } else {
                    lr
                }
            }
            Kind::Constant {
                factor,
                total_iters,
            } => at.constant(*factor, *total_iters),
            Kind::Linear {
                start,
                end,
                total_iters,
            } => at.linear(*start, *end, *total_iters),
            Kind::Exponential { gamma } => at.unless_initial(*gamma),
            Kind::Polynomial { total_iters, power } => at.polynomial(*total_iters, *power),
            Kind::Cosine { t_max, eta_min } => at.cosine(*t_max, *eta_min),
            Kind::WarmRestarts(w) => w.lr(base),
            Kind::Cyclic(c) => c.get_lr(e, base, g),
            Kind::OneCycle(c) => c.get_lr(e, g),
            Kind::Lambda(f, _) => base * f(e as f64),
            Kind::Multiplicative(f, _) => {
                if initial {
                    lr
                } else {
                    lr * f(e as f64)
                }
            }
            Kind::Plateau(_) | Kind::Sequential { .. } | Kind::Chained(_) => lr,
        }
    }

    /// torch's `_get_closed_form_lr`, where the scheduler has one.
    fn closed_form(&self) -> Option<f64> {
        let (e, base) = (self.last_epoch, self.base_lr);
        Some(match &self.kind {
            Kind::Step { step_size, gamma } => base * gamma.powf(e.div_euclid(*step_size) as f64),
            Kind::MultiStep { milestones, gamma } => {
                base * gamma.powf(milestones.partition_point(|&m| m <= e) as f64)
            }
            Kind::Constant {
                factor,
                total_iters,
            } => base * (factor + if e >= *total_iters { 1.0 - factor } else { 0.0 }),
            Kind::Linear {
                start,
                end,
                total_iters,
            } => base * (start + (end - start) * e.min(*total_iters) as f64 / *total_iters as f64),
            Kind::Exponential { gamma } => base * gamma.powf(e as f64),
            Kind::Polynomial { total_iters, power } => {
                base * (1.0 - e.min(*total_iters) as f64 / *total_iters as f64).powf(*power)
            }
            Kind::Cosine { t_max, eta_min } => {
                eta_min + (base - eta_min) * (1.0 + (PI * e as f64 / *t_max as f64).cos()) / 2.0
            }
            _ => return None,
        })
    }
}

/// What torch's chainable `get_lr` reads besides a scheduler's options:
/// `last_epoch`, the group's current lr, `base_lr`, whether this is the
/// constructor's initial step, `_step_count`.
#[derive(Clone, Copy)]
struct At {
    e: i64,
    lr: f64,
    base: f64,
    initial: bool,
    step_count: u64,
}

impl At {
    /// ExponentialLR's recurrence: the lr times `factor`, except at the
    /// initial step.
    fn unless_initial(self, factor: f64) -> f64 {
        if self.initial {
            self.lr
        } else {
            self.lr * factor
        }
    }

    /// ConstantLR's: times `factor` at epoch 0, undone at `total_iters`.
    fn constant(self, factor: f64, total_iters: i64) -> f64 {
        let (e, lr) = (self.e, self.lr);
        if e == 0 {
            lr * factor
        } else if e != total_iters {
            lr
        } else {
            lr * (1.0 / factor)
        }
    }

    /// LinearLR's: from `start` times the lr to `end` times it over
    /// `total_iters`, one ratio per step.
    fn linear(self, start: f64, end: f64, total_iters: i64) -> f64 {
        let (e, lr) = (self.e, self.lr);
        if e == 0 {
            lr * start
        } else if self.initial || e > total_iters {
            lr
        } else {
            lr * (1.0
                + (end - start) / (total_iters as f64 * start + (e - 1) as f64 * (end - start)))
        }
    }

    /// PolynomialLR's: one ratio of the decay `(1 - e / total_iters)^power`.
    fn polynomial(self, total_iters: i64, power: f64) -> f64 {
        let (e, lr) = (self.e, self.lr);
        if self.initial || e > total_iters {
            lr
        } else {
            let t = total_iters as f64;
            let decay = ((1.0 - e as f64 / t) / (1.0 - (e - 1) as f64 / t)).powf(power);
            lr * decay
        }
    }

    /// CosineAnnealingLR's chainable form, with torch's special cases at
    /// the first step and at each restart of the period `2 * t_max`.
    fn cosine(self, t: i64, eta: f64) -> f64 {
        let (e, lr, base) = (self.e, self.lr, self.base);
        if self.initial {
            lr
        } else if self.step_count == 1 && e > 0 {
            eta + (base - eta) * (1.0 + (e as f64 * PI / t as f64).cos()) / 2.0
        } else if (e - 1 - t).rem_euclid(2 * t) == 0 {
            lr + (base - eta) * (1.0 - (PI / t as f64).cos()) / 2.0
        } else {
            (1.0 + (PI * e as f64 / t as f64).cos())
                / (1.0 + (PI * (e - 1) as f64 / t as f64).cos())
                * (lr - eta)
                + eta
        }
    }
}

impl Warm {
    /// CosineAnnealingWarmRestarts' lr in the current period.
    fn lr(&self, base: f64) -> f64 {
        self.eta_min
            + (base - self.eta_min) * (1.0 + (PI * self.t_cur as f64 / self.t_i as f64).cos()) / 2.0
    }
}

impl Plateau {
    fn better(&self, a: f64) -> bool {
        match (self.max, self.rel) {
            (false, true) => a < self.best * (1.0 - self.threshold),
            (false, false) => a < self.best - self.threshold,
            (true, true) => a > self.best * (self.threshold + 1.0),
            (true, false) => a > self.best + self.threshold,
        }
    }

    fn step(&mut self, g: &mut Group, current: f64) {
        if self.better(current) {
            self.best = current;
            self.bad = 0;
        } else {
            self.bad += 1;
        }
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.bad = 0;
        }
        if self.bad > self.patience {
            let old = g.lr;
            let new = (old * self.factor).max(self.min_lr);
            if old - new > self.eps {
                g.lr = new;
            }
            self.cooldown_counter = self.cooldown;
            self.bad = 0;
        }
    }
}
