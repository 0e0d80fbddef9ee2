//! CyclicLR and OneCycleLR: the two schedules that also cycle the
//! optimizer's momentum (SGD's and RMSprop's `momentum`, the Adam family's
//! `betas[0]`), inversely to the lr, as torch's do.

use super::{Context, Group, SchedError};
use crate::optim::{MomentumKind, OptReader, Span};
use std::f64::consts::PI;

/// CyclicLR's options and torch's derived sizes.
pub(crate) struct Cyclic {
    pub base_lr: f64,
    max_lr: f64,
    total_size: f64,
    step_ratio: f64,
    mode: Mode,
    gamma: f64,
    /// (base_momentum, max_momentum) when cycling momentum.
    momentum: Option<(f64, f64)>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Triangular,
    Triangular2,
    ExpRange,
}

/// Refuses `cycle_momentum` where cycling cannot do what it says.
fn momentum_check(ctx: &Context, name: &str, span: &Span) -> Result<(), SchedError> {
    match ctx.momentum {
        None => Err(SchedError::invalid(
            span,
            format!("{name} cycles the momentum, and {} has none", ctx.optimizer),
            "cycle_momentum is on by default",
            "give `cycle_momentum=false`, or use an optimizer with momentum or betas (sgd, rmsprop, adam, ...); torch refuses this too".to_string(),
        )),
        Some((MomentumKind::Momentum, 0.0)) => Err(SchedError::invalid(
            span,
            format!("{name} would switch on the momentum of {}, which has momentum=0", ctx.optimizer),
            "cycle_momentum is on by default",
            format!("give {} a momentum (e.g. `momentum=0.9`), or `cycle_momentum=false`", ctx.optimizer),
        )),
        Some(_) => Ok(()),
    }
}

fn anneal_cos(start: f64, end: f64, pct: f64) -> f64 {
    let cos_out = (PI * pct).cos() + 1.0;
    end + (start - end) / 2.0 * cos_out
}

fn anneal_linear(start: f64, end: f64, pct: f64) -> f64 {
    (end - start) * pct + start
}

impl Cyclic {
    /// `cyclic_lr(base_lr, max_lr, step_size_up=2000, step_size_down=none,
    /// mode="triangular", gamma=1, cycle_momentum=true, base_momentum=0.8,
    /// max_momentum=0.9)`.
    pub fn read(r: &mut OptReader, ctx: &Context, span: &Span) -> Result<Cyclic, SchedError> {
        let base_lr = r.num("base_lr", f64::NAN)?;
        let max_lr = r.num("max_lr", f64::NAN)?;
        if base_lr.is_nan() || max_lr.is_nan() {
            return Err(SchedError::invalid(
                span,
                "cyclic_lr needs `base_lr` and `max_lr`",
                "missing",
                "write e.g. `cyclic_lr(base_lr=0.001, max_lr=0.1, step_size_up=20)`",
            ));
        }
        let up = r.int("step_size_up", 2000)?;
        let down = r.opt_int("step_size_down", None)?;
        let mode = r.choice(
            "mode",
            Some("triangular"),
            &["triangular", "triangular2", "exp_range"],
        )?;
        let gamma = r.num("gamma", 1.0)?;
        let cycle = r.bool("cycle_momentum", true)?;
        let base_m = r.num("base_momentum", 0.8)?;
        let max_m = r.num("max_momentum", 0.9)?;
        r.check(
            "step_size_up",
            up >= 1,
            up,
            "step_size_up must be a whole number >= 1",
        )?;
        if let Some(d) = down {
            r.check(
                "step_size_down",
                d >= 1,
                d,
                "step_size_down must be a whole number >= 1",
            )?;
        }
        if cycle {
            momentum_check(ctx, "cyclic_lr", span)?;
        }
        let up = up as f64;
        let down = down.map_or(up, |d| d as f64);
        let total_size = up + down;
        Ok(Cyclic {
            base_lr,
            max_lr,
            total_size,
            step_ratio: up / total_size,
            mode: match mode.as_deref() {
                Some("triangular2") => Mode::Triangular2,
                Some("exp_range") => Mode::ExpRange,
                _ => Mode::Triangular,
            },
            gamma,
            momentum: cycle.then_some((base_m, max_m)),
        })
    }

    /// What CyclicLR's constructor does before the base constructor.
    pub fn setup(&self, g: &mut Group) {
        g.lr = self.base_lr;
        if let Some((_, max_m)) = self.momentum {
            g.momentum = Some(max_m);
        }
    }

    fn scale(&self, x: f64) -> f64 {
        match self.mode {
            Mode::Triangular => 1.0,
            Mode::Triangular2 => 1.0 / 2.0f64.powf(x - 1.0),
            Mode::ExpRange => self.gamma.powf(x),
        }
    }

    pub fn get_lr(&self, e: i64, base_lr: f64, g: &mut Group) -> f64 {
        let e = e as f64;
        let cycle = (1.0 + e / self.total_size).floor();
        let x = 1.0 + e / self.total_size - cycle;
        let factor = if x <= self.step_ratio {
            x / self.step_ratio
        } else {
            (x - 1.0) / (self.step_ratio - 1.0)
        };
        // triangular modes scale per cycle, exp_range per iteration
        let at = if self.mode == Mode::ExpRange {
            e
        } else {
            cycle
        };
        let lr = base_lr + (self.max_lr - base_lr) * factor * self.scale(at);
        if let Some((base_m, max_m)) = self.momentum {
            let height = (max_m - base_m) * factor;
            g.momentum = Some(max_m - height * self.scale(at));
        }
        lr
    }
}

/// OneCycleLR's phases and options.
pub(crate) struct OneCycle {
    total_steps: i64,
    /// (end_step, start, end) per phase; start/end name lr and momentum levels.
    phases: Vec<(f64, Level, Level)>,
    cos: bool,
    momentum: Option<(f64, f64)>,
    max_lr: f64,
    div_factor: f64,
    final_div_factor: f64,
    initial_lr: f64,
    min_lr: f64,
}

/// A phase's end point: (lr level, momentum level).
#[derive(Clone, Copy)]
enum Level {
    Initial,
    Max,
    Min,
}

/// Refuses a run longer than one_cycle_lr's `total_steps` (torch stops
/// with an error past them).
fn check_run_length(
    r: &OptReader,
    ctx: &Context,
    span: &Span,
    total_steps: i64,
) -> Result<(), SchedError> {
    if ctx.total as i64 <= total_steps {
        return Ok(());
    }
    let at = r.span_of("total_steps").unwrap_or_else(|| span.clone());
    Err(SchedError::invalid(
        &at,
        format!(
            "one_cycle_lr(total_steps={total_steps}) would be stepped {} times",
            ctx.total
        ),
        "too few total_steps for this run",
        format!(
            "give total_steps >= {} (or leave it out: it defaults to the run's length), or run fewer steps; torch stops with an error past total_steps",
            ctx.total
        ),
    ))
}

/// OneCycleLR's phases over `t` total steps: (end step, start level, end
/// level), two of them or three.
fn one_cycle_phases(pct: f64, t: f64, three: bool) -> Vec<(f64, Level, Level)> {
    use Level::*;
    if three {
        vec![
            (pct * t - 1.0, Initial, Max),
            (2.0 * pct * t - 2.0, Max, Initial),
            (t - 1.0, Initial, Min),
        ]
    } else {
        vec![(pct * t - 1.0, Initial, Max), (t - 1.0, Max, Min)]
    }
}

/// Refuses a phase of no steps (torch divides by a phase's length).
fn check_phases(
    r: &OptReader,
    span: &Span,
    phases: &[(f64, Level, Level)],
    pct: f64,
    total_steps: i64,
) -> Result<(), SchedError> {
    let mut start = 0.0;
    for &(end, _, _) in phases {
        if end == start {
            return Err(SchedError::invalid(
                &r.span_of("pct_start").unwrap_or_else(|| span.clone()),
                format!("one_cycle_lr: pct_start={pct} with total_steps={total_steps} makes a phase of no steps"),
                "a phase of length 0",
                "torch divides by zero here: change pct_start or total_steps",
            ));
        }
        start = end;
    }
    Ok(())
}

impl OneCycle {
    /// `one_cycle_lr(max_lr, total_steps=the run's, pct_start=0.3,
    /// anneal_strategy="cos", cycle_momentum=true, base_momentum=0.85,
    /// max_momentum=0.95, div_factor=25, final_div_factor=1e4, three_phase=false)`.
    pub fn read(r: &mut OptReader, ctx: &Context, span: &Span) -> Result<OneCycle, SchedError> {
        let max_lr = r.num("max_lr", f64::NAN)?;
        if max_lr.is_nan() {
            return Err(SchedError::invalid(
                span,
                "one_cycle_lr needs `max_lr`",
                "no max_lr",
                "write e.g. `one_cycle_lr(max_lr=0.1)`",
            ));
        }
        let total_steps = r.int("total_steps", ctx.total as i64)?;
        let pct = r.num("pct_start", 0.3)?;
        let strategy = r.choice("anneal_strategy", Some("cos"), &["cos", "linear"])?;
        let cycle = r.bool("cycle_momentum", true)?;
        let base_m = r.num("base_momentum", 0.85)?;
        let max_m = r.num("max_momentum", 0.95)?;
        let div_factor = r.num("div_factor", 25.0)?;
        let final_div_factor = r.num("final_div_factor", 1e4)?;
        let three = r.bool("three_phase", false)?;
        r.check(
            "total_steps",
            total_steps >= 1,
            total_steps,
            "total_steps must be a whole number >= 1",
        )?;
        r.check(
            "pct_start",
            (0.0..=1.0).contains(&pct),
            pct,
            "pct_start must be in [0, 1]",
        )?;
        check_run_length(r, ctx, span, total_steps)?;
        if cycle {
            momentum_check(ctx, "one_cycle_lr", span)?;
        }
        let phases = one_cycle_phases(pct, total_steps as f64, three);
        check_phases(r, span, &phases, pct, total_steps)?;
        let initial_lr = max_lr / div_factor;
        Ok(OneCycle {
            total_steps,
            phases,
            cos: strategy.as_deref() != Some("linear"),
            momentum: cycle.then_some((base_m, max_m)),
            max_lr,
            div_factor,
            final_div_factor,
            initial_lr,
            min_lr: initial_lr / final_div_factor,
        })
    }

    /// What OneCycleLR's constructor does before the base constructor: it
    /// overwrites `initial_lr` (and starts the momentum at its maximum).
    pub fn setup(&mut self, g: &mut Group) {
        self.initial_lr = self.max_lr / self.div_factor;
        self.min_lr = self.initial_lr / self.final_div_factor;
        g.initial_lr = Some(self.initial_lr);
        if let Some((_, max_m)) = self.momentum {
            g.momentum = Some(max_m);
        }
    }

    fn lr_at(&self, l: Level) -> f64 {
        match l {
            Level::Initial => self.initial_lr,
            Level::Max => self.max_lr,
            Level::Min => self.min_lr,
        }
    }

    /// Momentum levels run opposite to the lr: max momentum at the initial
    /// lr, base momentum at max lr; the last phase ends at max momentum.
    fn momentum_at(&self, l: Level, m: (f64, f64)) -> f64 {
        match l {
            Level::Initial | Level::Min => m.1,
            Level::Max => m.0,
        }
    }

    pub fn get_lr(&self, step: i64, g: &mut Group) -> f64 {
        debug_assert!(step <= self.total_steps, "checked when built");
        let s = step as f64;
        let mut start = 0.0;
        let last = self.phases.len() - 1;
        for (i, &(end, a, b)) in self.phases.iter().enumerate() {
            if s <= end || i == last {
                let pct = (s - start) / (end - start);
                let f = if self.cos { anneal_cos } else { anneal_linear };
                if let Some(m) = self.momentum {
                    g.momentum = Some(f(self.momentum_at(a, m), self.momentum_at(b, m), pct));
                }
                return f(self.lr_at(a), self.lr_at(b), pct);
            }
            start = end;
        }
        g.lr
    }
}
