//! `lbfgs`: torch.optim.LBFGS, limited-memory BFGS with an optional
//! strong-Wolfe line search.
//!
//! One [`Optimizer::step`] is one torch `step(closure)`: up to `max_iter`
//! inner iterations and `max_eval` evaluations of the objective. The state
//! torch keeps in `optimizer.state` (direction `d`, step `t`, the curvature
//! pairs, `H_diag`, the previous gradient and loss, the iteration and
//! evaluation counters) lives in [`Lbfgs`] and carries over from one step to
//! the next exactly as in torch, including torch's tolerance checks, early
//! returns and its way of counting evaluations.
//!
//! torch flattens all parameters, in order, into one vector; our flat buffer
//! is already that vector. Where torch moves the parameters in place and
//! restores them after a trial evaluation of the line search, we evaluate the
//! trial point in a scratch buffer, which gives the same numbers. Every buffer
//! is allocated in [`build`], except the curvature history when
//! `history_size * n` is large: it then grows on first use, up to
//! `history_size` pairs, and is reused after that.

mod line_search;

use super::common::{check_nonneg, py_min};
use super::{Closure, OptError, OptField, OptReader, Optimizer, ParamLayout};
use line_search::{LineSearch, Start};

/// Up to this many history elements (`history_size * n`) are allocated up front.
const PREALLOCATE_LIMIT: usize = 1 << 20;

/// `line_search_fn`: torch's `None` (a fixed step `lr`) or "strong_wolfe".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineSearchFn {
    None,
    StrongWolfe,
}

impl OptField for LineSearchFn {
    fn read(r: &mut OptReader, name: &'static str, default: Self) -> Result<Self, OptError> {
        let d = (default == LineSearchFn::StrongWolfe).then_some("strong_wolfe");
        Ok(match r.choice(name, d, &["strong_wolfe"])? {
            Some(_) => LineSearchFn::StrongWolfe,
            None => LineSearchFn::None,
        })
    }
}

optim_config! {
    /// `lbfgs(...)`'s options with torch.optim.LBFGS's defaults, as the
    /// script gives them (`Config` is what they resolve to).
    pub struct LbfgsConfig {
        lr: f64 = 1.0,
        max_iter: i64 = 20,
        /// torch's None: `max_iter * 5 // 4`.
        max_eval: Option<i64> = None,
        tolerance_grad: f64 = 1e-7,
        tolerance_change: f64 = 1e-9,
        history_size: i64 = 100,
        line_search_fn: LineSearchFn = LineSearchFn::None,
    }
}

/// Reads `lbfgs(...)` options in torch's constructor order, validates them
/// and allocates the optimizer's state for `layout`.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let LbfgsConfig {
        lr,
        max_iter,
        max_eval,
        tolerance_grad,
        tolerance_change,
        history_size,
        line_search_fn,
    } = LbfgsConfig::read(r)?;

    check_nonneg(r, "lr", lr)?;
    // torch accepts these but then fails inside step (popping from an empty
    // history, or an undefined bracket in the line search): refuse them here.
    r.check(
        "history_size",
        history_size >= 1,
        history_size,
        "history_size must be >= 1",
    )?;
    let max_eval = max_eval.unwrap_or_else(|| default_max_eval(max_iter));
    let strong_wolfe = line_search_fn == LineSearchFn::StrongWolfe;
    if strong_wolfe {
        r.check(
            "max_eval",
            max_eval >= 1,
            max_eval,
            "max_eval must be >= 1 with line_search_fn=\"strong_wolfe\"",
        )?;
    }
    Ok(Box::new(Lbfgs::new(
        Config {
            lr,
            max_iter,
            max_eval,
            tolerance_grad,
            tolerance_change,
            history_size: history_size as usize,
            strong_wolfe,
        },
        layout.len(),
    )))
}

/// torch's default `max_eval`: `max_iter * 5 // 4`, with Python's floor division.
fn default_max_eval(max_iter: i64) -> i64 {
    max_iter.saturating_mul(5).div_euclid(4)
}

/// The resolved options of one LBFGS optimizer (torch's `param_groups[0]`).
#[derive(Clone, Copy, Debug)]
pub struct Config {
    /// Step length of the first trial (`lr`, default 1).
    pub lr: f64,
    /// Inner iterations per step (`max_iter`, default 20).
    pub max_iter: i64,
    /// Objective evaluations per step (`max_eval`, default `max_iter * 5 // 4`).
    pub max_eval: i64,
    /// Stop when the largest gradient component is at most this (`tolerance_grad`).
    pub tolerance_grad: f64,
    /// Stop on a smaller change of loss or parameters (`tolerance_change`).
    pub tolerance_change: f64,
    /// Curvature pairs kept (`history_size`, at least 1).
    pub history_size: usize,
    /// `line_search_fn="strong_wolfe"`; otherwise a fixed step `lr`.
    pub strong_wolfe: bool,
}

/// The curvature pairs `(y, s)` and `ro = 1 / y·s`, oldest first, in a ring.
struct History {
    n: usize,
    cap: usize,
    /// Physical slot of the oldest pair.
    head: usize,
    len: usize,
    dirs: Vec<Vec<f64>>,
    stps: Vec<Vec<f64>>,
    ro: Vec<f64>,
}

impl History {
    fn new(n: usize, cap: usize) -> Self {
        let pre = if n.saturating_mul(cap) <= PREALLOCATE_LIMIT {
            cap
        } else {
            0
        };
        History {
            n,
            cap,
            head: 0,
            len: 0,
            dirs: (0..pre).map(|_| vec![0.0; n]).collect(),
            stps: (0..pre).map(|_| vec![0.0; n]).collect(),
            ro: vec![0.0; pre],
        }
    }

    fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }

    /// Physical slot of the `i`-th oldest pair.
    fn slot(&self, i: usize) -> usize {
        (self.head + i) % self.cap
    }

    /// Appends a pair, dropping the oldest when full. `y` and `s` are swapped
    /// into the ring, so the caller gets a spare buffer back in each.
    fn push(&mut self, y: &mut Vec<f64>, s: &mut Vec<f64>, ro: f64) {
        let slot = if self.len == self.cap {
            let slot = self.head;
            self.head = (self.head + 1) % self.cap;
            slot
        } else {
            self.len += 1;
            self.slot(self.len - 1)
        };
        if slot == self.dirs.len() {
            self.dirs.push(vec![0.0; self.n]);
            self.stps.push(vec![0.0; self.n]);
            self.ro.push(0.0);
        }
        std::mem::swap(&mut self.dirs[slot], y);
        std::mem::swap(&mut self.stps[slot], s);
        self.ro[slot] = ro;
    }
}

/// torch.optim.LBFGS with its state.
pub struct Lbfgs {
    cfg: Config,
    /// torch's `state["func_evals"]`: evaluations over all steps.
    func_evals: u64,
    /// torch's `state["n_iter"]`: inner iterations over all steps.
    n_iter: u64,
    d: Vec<f64>,
    t: f64,
    h_diag: f64,
    prev_flat_grad: Vec<f64>,
    prev_loss: f64,
    history: History,
    /// torch's `state["al"]`, by logical history index.
    al: Vec<f64>,
    flat_grad: Vec<f64>,
    y: Vec<f64>,
    s: Vec<f64>,
    ls: Option<LineSearch>,
}

impl Lbfgs {
    /// An optimizer for `n` flat parameters with fresh state.
    pub fn new(cfg: Config, n: usize) -> Self {
        let history = History::new(n, cfg.history_size);
        let al = Vec::with_capacity(history.dirs.len());
        let ls = cfg.strong_wolfe.then(|| LineSearch::new(n));
        Lbfgs {
            cfg,
            func_evals: 0,
            n_iter: 0,
            d: vec![0.0; n],
            t: 0.0,
            h_diag: 1.0,
            prev_flat_grad: vec![0.0; n],
            prev_loss: 0.0,
            history,
            al,
            flat_grad: vec![0.0; n],
            y: vec![0.0; n],
            s: vec![0.0; n],
            ls,
        }
    }

    /// Objective evaluations so far, over all steps (torch's `state["func_evals"]`).
    pub fn func_evals(&self) -> u64 {
        self.func_evals
    }

    /// Inner iterations so far, over all steps (torch's `state["n_iter"]`).
    pub fn n_iter(&self) -> u64 {
        self.n_iter
    }

    /// The new search direction into `self.d`: the two-loop recursion after
    /// updating the history with the last step (torch's `else` branch).
    fn update_direction(&mut self) {
        let n = self.d.len();
        for i in 0..n {
            self.y[i] = self.flat_grad[i] - self.prev_flat_grad[i];
            self.s[i] = self.d[i] * self.t;
        }
        let ys = dot(&self.y, &self.s);
        if ys > 1e-10 {
            let yy = dot(&self.y, &self.y);
            self.history.push(&mut self.y, &mut self.s, 1.0 / ys);
            self.h_diag = ys / yy;
        }
        let h = &self.history;
        let num_old = h.len;
        if self.al.len() < num_old {
            self.al.resize(num_old, 0.0);
        }
        // q = -g, then the backward loop; d doubles as q and r.
        let q = &mut self.d;
        for (qi, gi) in q.iter_mut().zip(&self.flat_grad) {
            *qi = -gi;
        }
        for i in (0..num_old).rev() {
            let k = h.slot(i);
            let al = dot(&h.stps[k], q) * h.ro[k];
            self.al[i] = al;
            axpy(q, -al, &h.dirs[k]);
        }
        for qi in q.iter_mut() {
            *qi *= self.h_diag;
        }
        for i in 0..num_old {
            let k = h.slot(i);
            let be_i = dot(&h.dirs[k], q) * h.ro[k];
            axpy(q, self.al[i] - be_i, &h.stps[k]);
        }
    }
}

impl Optimizer for Lbfgs {
    lr_field!(cfg.lr);

    /// torch's `step(closure)`: up to `max_iter` iterations of direction,
    /// step length and move, stopping on torch's conditions in its order.
    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        debug_assert_eq!(params.len(), self.flat_grad.len());
        let orig_loss = closure(params, &mut self.flat_grad);
        self.func_evals += 1;
        if params.is_empty() || self.gradient_is_small() {
            return orig_loss;
        }
        let cfg = self.cfg;
        let mut loss = orig_loss;
        let mut current_evals: i64 = 1;
        let mut n_iter: i64 = 0;
        while n_iter < cfg.max_iter {
            n_iter += 1;
            self.n_iter += 1;
            self.set_direction();
            self.prev_flat_grad.copy_from_slice(&self.flat_grad);
            self.prev_loss = loss;
            self.t = self.first_step_length();
            let gtd = dot(&self.flat_grad, &self.d);
            if gtd > -cfg.tolerance_change {
                break;
            }
            let start = Start {
                t: self.t,
                f: loss,
                gtd,
                max_ls: cfg.max_eval - current_evals,
            };
            let last = n_iter == cfg.max_iter;
            let mut opt_cond = false;
            if let Some((new_loss, evals)) = self.advance(params, closure, start, last) {
                loss = new_loss;
                current_evals += evals;
                self.func_evals += evals as u64;
                opt_cond = self.gradient_is_small();
            }
            // Stopping conditions, in torch's order.
            if last
                || current_evals >= cfg.max_eval
                || opt_cond
                || max_abs(&self.d, self.t) <= cfg.tolerance_change
                || (loss - self.prev_loss).abs() < cfg.tolerance_change
            {
                break;
            }
        }
        orig_loss
    }
}

impl Lbfgs {
    /// torch's `opt_cond`: the largest gradient component is at most
    /// `tolerance_grad`.
    fn gradient_is_small(&self) -> bool {
        max_abs(&self.flat_grad, 1.0) <= self.cfg.tolerance_grad
    }

    /// The search direction into `self.d`: steepest descent at the very
    /// first iteration (with the history reset), the two-loop recursion
    /// after it.
    fn set_direction(&mut self) {
        if self.n_iter == 1 {
            for (di, gi) in self.d.iter_mut().zip(&self.flat_grad) {
                *di = -gi;
            }
            self.history.clear();
            self.h_diag = 1.0;
        } else {
            self.update_direction();
        }
    }

    /// torch's first trial step: `min(1, 1 / |g|_1) * lr` at the very first
    /// iteration, `lr` after it.
    fn first_step_length(&self) -> f64 {
        if self.n_iter == 1 {
            py_min(1.0, 1.0 / sum_abs(&self.flat_grad)) * self.cfg.lr
        } else {
            self.cfg.lr
        }
    }

    /// Moves `params` along `d`, by the line search's step or the fixed
    /// one, leaving the gradient there in `flat_grad`. Returns the loss
    /// there and the evaluations it took, or None when torch skips the
    /// evaluation (the fixed step of the `last` iteration).
    fn advance(
        &mut self,
        params: &mut [f64],
        closure: &mut Closure<'_>,
        start: Start,
        last: bool,
    ) -> Option<(f64, i64)> {
        match self.ls.as_mut() {
            Some(ls) => {
                let found = ls.run(params, &self.d, closure, &mut self.flat_grad, start);
                self.t = found.t;
                axpy(params, self.t, &self.d);
                Some((found.loss, found.func_evals))
            }
            None => {
                axpy(params, self.t, &self.d);
                (!last).then(|| (closure(params, &mut self.flat_grad), 1))
            }
        }
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `y += alpha * x`, as torch's `y.add_(x, alpha=alpha)`, which on CPU is a
/// fused multiply-add (the vectorized kernel's `fmadd`, and the compiler's
/// contraction of `self + alpha * other` in the scalar tail). With it the
/// reference case `lbfgs-default` matches torch bit for bit.
fn axpy(y: &mut [f64], alpha: f64, x: &[f64]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi = alpha.mul_add(*xi, *yi);
    }
}

fn sum_abs(v: &[f64]) -> f64 {
    v.iter().map(|x| x.abs()).sum()
}

/// `(v * scale).abs().max()` with torch's NaN propagation.
fn max_abs(v: &[f64], scale: f64) -> f64 {
    v.iter().fold(f64::NEG_INFINITY, |m, x| {
        let a = (x * scale).abs();
        if a.is_nan() || a > m {
            a
        } else {
            m
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{self, arg, follow_case, himmelblau};
    use super::super::{OptArg, OptError, OptReader, OptValue, ParamLayout};
    use super::*;

    #[test]
    fn the_config_defaults_are_torchs() {
        let d = LbfgsConfig::default();
        assert_eq!(
            (d.lr, d.max_iter, d.max_eval, d.history_size),
            (1.0, 20, None, 100)
        );
        assert_eq!((d.tolerance_grad, d.tolerance_change), (1e-7, 1e-9));
        assert_eq!(d.line_search_fn, LineSearchFn::None);
    }

    fn make(args: &[OptArg], n: usize) -> Result<Box<dyn Optimizer>, OptError> {
        testutil::make("lbfgs", args, &ParamLayout::scalars(n))
    }

    #[test]
    fn reference_default() {
        follow_case("lbfgs-default");
    }

    #[test]
    fn reference_strong_wolfe() {
        follow_case("lbfgs-strong-wolfe");
    }

    #[test]
    fn options_in_torch_order_with_defaults() {
        let args = [];
        let mut r = OptReader::new("lbfgs", &args).unwrap();
        build(&mut r, &ParamLayout::scalars(2)).unwrap();
        let opts = r.finish().unwrap();
        let names: Vec<_> = opts.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "lr",
                "max_iter",
                "max_eval",
                "tolerance_grad",
                "tolerance_change",
                "history_size",
                "line_search_fn"
            ]
        );
        assert_eq!(opts[0].1, OptValue::Num(1.0));
        assert_eq!(opts[1].1, OptValue::Num(20.0));
        assert_eq!(opts[2].1, OptValue::None);
        assert_eq!(opts[5].1, OptValue::Num(100.0));
        assert_eq!(opts[6].1, OptValue::None);
    }

    #[test]
    fn validation() {
        let bad = |args: &[OptArg], name: &str| match make(args, 2) {
            Err(OptError::Range { name: n, .. }) => assert_eq!(n, name),
            Err(e) => panic!("{name}: unexpected error {e}"),
            Ok(_) => panic!("{name}: accepted"),
        };
        bad(&[arg("lr", OptValue::Num(-0.1))], "lr");
        bad(&[arg("lr", OptValue::Num(f64::NAN))], "lr");
        bad(&[arg("history_size", OptValue::Num(0.0))], "history_size");
        bad(
            &[arg("line_search_fn", OptValue::Str("backtracking".into()))],
            "line_search_fn",
        );
        bad(
            &[
                arg("max_eval", OptValue::Num(0.0)),
                arg("line_search_fn", OptValue::Str("strong_wolfe".into())),
            ],
            "max_eval",
        );
        assert!(matches!(
            make(&[arg("max_iter", OptValue::Num(2.5))], 2),
            Err(OptError::Type { .. })
        ));
        assert!(matches!(
            make(&[arg("maximize", OptValue::Bool(true))], 2),
            Err(OptError::Unknown { .. })
        ));
        assert!(make(&[arg("lr", OptValue::Num(0.0))], 2).is_ok());
        assert!(make(&[arg("max_eval", OptValue::Num(0.0))], 2).is_ok());
    }

    /// max_eval defaults to Python's `max_iter * 5 // 4` (floor).
    #[test]
    fn max_eval_default_floors() {
        for (max_iter, want) in [(20, 25), (3, 3), (1, 1), (0, 0), (-1, -2)] {
            assert_eq!(default_max_eval(max_iter), want);
        }
    }

    /// torch's state carries over: two steps of max_iter=2 are not four
    /// iterations of one step, but they are the same as one run of torch's
    /// loop split at the step boundary, re-evaluating at the new point.
    #[test]
    fn state_carries_across_steps() {
        // A quadratic with an exact answer: f = 0.5 x^T A x - b^T x.
        let f = |p: &[f64], g: &mut [f64]| {
            let (x, y) = (p[0], p[1]);
            g[0] = 3.0 * x + y - 1.0;
            g[1] = x + 2.0 * y - 2.0;
            0.5 * (3.0 * x * x + 2.0 * x * y + 2.0 * y * y) - x - 2.0 * y
        };
        // One step with max_iter=4 vs four steps with max_iter=1: without
        // line search the last iteration of a step does not re-evaluate, and
        // the next step evaluates at the same point, so the paths coincide.
        let mut one = make(&[arg("max_iter", OptValue::Num(4.0))], 2).unwrap();
        let mut p1 = [0.0, 0.0];
        one.step(&mut p1, &mut |p: &[f64], g: &mut [f64]| f(p, g));
        let mut many = make(&[arg("max_iter", OptValue::Num(1.0))], 2).unwrap();
        let mut p2 = [0.0, 0.0];
        let mut evals = 0;
        for _ in 0..4 {
            many.step(&mut p2, &mut |p: &[f64], g: &mut [f64]| {
                evals += 1;
                f(p, g)
            });
        }
        assert_eq!(evals, 4);
        assert_eq!(p1, p2);
        // L-BFGS on a 2-d quadratic: exact after the history holds two pairs.
        let (x, y) = (0.0, 1.0);
        assert!(
            (p1[0] - x).abs() < 1e-12 && (p1[1] - y).abs() < 1e-12,
            "{p1:?}"
        );

        // A fresh optimizer at the same point does not reproduce the second
        // step: its first iteration is a scaled gradient step.
        let mut fresh = make(&[arg("max_iter", OptValue::Num(1.0))], 2).unwrap();
        let mut q = [0.0, 0.0];
        many.step(&mut q, &mut |p: &[f64], g: &mut [f64]| f(p, g));
        let mut q2 = [0.0, 0.0];
        fresh.step(&mut q2, &mut |p: &[f64], g: &mut [f64]| f(p, g));
        assert_ne!(q, q2);
    }

    /// Hand-computed first step on Himmelblau from the origin: g = (-14, -22),
    /// t = 1/36, so one fixed-step iteration lands at (14/36, 22/36).
    #[test]
    fn first_iteration_by_hand() {
        let mut opt = make(&[arg("max_iter", OptValue::Num(1.0))], 2).unwrap();
        let mut p = [0.0, 0.0];
        let loss = opt.step(&mut p, &mut himmelblau);
        assert_eq!(loss, 170.0);
        assert_eq!(p, [(1.0f64 / 36.0) * 14.0, (1.0f64 / 36.0) * 22.0]);
    }

    /// At a stationary point torch returns right after the first evaluation.
    #[test]
    fn optimal_at_start_returns_early() {
        let mut opt = make(&[], 2).unwrap();
        let mut p = [3.0, 2.0];
        let mut evals = 0;
        opt.step(&mut p, &mut |x: &[f64], g: &mut [f64]| {
            evals += 1;
            himmelblau(x, g)
        });
        assert_eq!(evals, 1);
        assert_eq!(p, [3.0, 2.0]);
    }

    /// Evaluations per step: at most max_eval without line search; with it,
    /// torch gives the line search `max_eval - current_evals` iterations
    /// after its first evaluation, so a step can use max_eval + 1.
    #[test]
    fn evaluation_budget() {
        for ls in [false, true] {
            let mut args = vec![
                arg("max_iter", OptValue::Num(50.0)),
                arg("max_eval", OptValue::Num(7.0)),
            ];
            if ls {
                args.push(arg("line_search_fn", OptValue::Str("strong_wolfe".into())));
            }
            let mut opt = make(&args, 2).unwrap();
            let mut p = [-1.0, 0.5];
            for _ in 0..3 {
                let mut evals = 0;
                opt.step(&mut p, &mut |x: &[f64], g: &mut [f64]| {
                    evals += 1;
                    himmelblau(x, g)
                });
                let limit = if ls { 8 } else { 7 };
                assert!(evals <= limit, "line search {ls}: {evals} evaluations");
            }
        }
    }

    /// A history of one pair keeps working past its capacity (the ring wraps).
    #[test]
    fn small_history_wraps() {
        let args = [
            arg("history_size", OptValue::Num(1.0)),
            arg("line_search_fn", OptValue::Str("strong_wolfe".into())),
        ];
        let mut opt = make(&args, 2).unwrap();
        let mut p = [0.0, 0.0];
        for _ in 0..5 {
            opt.step(&mut p, &mut himmelblau);
        }
        let mut g = [0.0; 2];
        assert!(himmelblau(&p, &mut g) < 1e-12, "{p:?}");
    }
}
