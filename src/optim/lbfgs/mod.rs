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

use super::common::{check_nonneg, py_max, py_min};
use super::{Closure, OptError, OptField, OptReader, Optimizer, ParamLayout};

/// Sufficient-decrease constant of torch's `_strong_wolfe`.
const C1: f64 = 1e-4;
/// Curvature constant of torch's `_strong_wolfe`.
const C2: f64 = 0.9;
/// torch calls `_strong_wolfe` without `tolerance_change`, so the line search
/// always uses its own default, whatever the optimizer's option says.
const LS_TOLERANCE_CHANGE: f64 = 1e-9;
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

/// Scratch buffers of the strong-Wolfe line search.
struct LineSearch {
    /// The trial point `x + t d`.
    trial: Vec<f64>,
    /// The gradient at `x` (torch's `g.clone()`).
    g0: Vec<f64>,
    g_new: Vec<f64>,
    g_prev: Vec<f64>,
    /// Gradients at the two ends of the bracket.
    bracket_g: [Vec<f64>; 2],
}

/// What one line search found.
struct LineSearchResult {
    loss: f64,
    t: f64,
    func_evals: i64,
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
        let ls = cfg.strong_wolfe.then(|| LineSearch {
            trial: vec![0.0; n],
            g0: vec![0.0; n],
            g_new: vec![0.0; n],
            g_prev: vec![0.0; n],
            bracket_g: [vec![0.0; n], vec![0.0; n]],
        });
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
    fn lr(&self) -> f64 {
        self.cfg.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.cfg.lr = lr;
    }

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        debug_assert_eq!(params.len(), self.flat_grad.len());
        let orig_loss = closure(params, &mut self.flat_grad);
        let mut loss = orig_loss;
        let mut current_evals: i64 = 1;
        self.func_evals += 1;
        if params.is_empty() {
            return orig_loss;
        }
        let mut opt_cond = max_abs(&self.flat_grad, 1.0) <= self.cfg.tolerance_grad;
        if opt_cond {
            return orig_loss;
        }

        let cfg = self.cfg;
        let mut n_iter: i64 = 0;
        while n_iter < cfg.max_iter {
            n_iter += 1;
            self.n_iter += 1;

            // Direction.
            if self.n_iter == 1 {
                for (di, gi) in self.d.iter_mut().zip(&self.flat_grad) {
                    *di = -gi;
                }
                self.history.clear();
                self.h_diag = 1.0;
            } else {
                self.update_direction();
            }
            self.prev_flat_grad.copy_from_slice(&self.flat_grad);
            self.prev_loss = loss;

            // Step length.
            self.t = if self.n_iter == 1 {
                py_min(1.0, 1.0 / sum_abs(&self.flat_grad)) * cfg.lr
            } else {
                cfg.lr
            };
            let gtd = dot(&self.flat_grad, &self.d);
            if gtd > -cfg.tolerance_change {
                break;
            }

            let mut ls_func_evals: i64 = 0;
            if let Some(ls) = self.ls.as_mut() {
                let found = ls.run(
                    params,
                    &self.d,
                    closure,
                    &mut self.flat_grad,
                    Start {
                        t: self.t,
                        f: loss,
                        gtd,
                        max_ls: cfg.max_eval - current_evals,
                    },
                );
                loss = found.loss;
                self.t = found.t;
                ls_func_evals = found.func_evals;
                axpy(params, self.t, &self.d);
                opt_cond = max_abs(&self.flat_grad, 1.0) <= cfg.tolerance_grad;
            } else {
                axpy(params, self.t, &self.d);
                if n_iter != cfg.max_iter {
                    // torch skips the evaluation in the last iteration.
                    loss = closure(params, &mut self.flat_grad);
                    opt_cond = max_abs(&self.flat_grad, 1.0) <= cfg.tolerance_grad;
                    ls_func_evals = 1;
                }
            }
            current_evals += ls_func_evals;
            self.func_evals += ls_func_evals as u64;

            // Stopping conditions, in torch's order.
            if n_iter == cfg.max_iter
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

/// The line search's starting values.
struct Start {
    /// First trial step.
    t: f64,
    /// Loss at `x`.
    f: f64,
    /// Directional derivative at `x`.
    gtd: f64,
    /// Most evaluations after the first one.
    max_ls: i64,
}

impl LineSearch {
    /// Evaluates the objective at `x + t d` into `self.g_new` (torch's
    /// `p.add_(d, alpha=t)`, fused as in [`axpy`]).
    fn eval(&mut self, x: &[f64], d: &[f64], t: f64, closure: &mut Closure<'_>) -> f64 {
        for ((p, xi), di) in self.trial.iter_mut().zip(x).zip(d) {
            *p = t.mul_add(*di, *xi);
        }
        closure(&self.trial, &mut self.g_new)
    }

    /// torch's `_strong_wolfe` from `x` along `d`; `g` holds the gradient at
    /// `x` on entry and the gradient at the returned step on exit.
    fn run(
        &mut self,
        x: &[f64],
        d: &[f64],
        closure: &mut Closure<'_>,
        g: &mut [f64],
        start: Start,
    ) -> LineSearchResult {
        let Start {
            mut t,
            f,
            gtd,
            max_ls,
        } = start;
        let d_norm = max_abs(d, 1.0);
        self.g0.copy_from_slice(g);
        let mut f_new = self.eval(x, d, t, closure);
        let mut ls_func_evals: i64 = 1;
        let mut gtd_new = dot(&self.g_new, d);

        // Bracketing phase.
        let (mut t_prev, mut f_prev, mut gtd_prev) = (0.0, f, gtd);
        self.g_prev.copy_from_slice(&self.g0);
        let mut done = false;
        let mut ls_iter: i64 = 0;
        let mut bracket = [0.0f64; 2];
        let mut bracket_f = [0.0f64; 2];
        let mut bracket_gtd = [0.0f64; 2];
        let mut single = false;
        while ls_iter < max_ls {
            let armijo_fails = f_new > f + C1 * t * gtd || (ls_iter > 1 && f_new >= f_prev);
            if !armijo_fails && gtd_new.abs() <= -C2 * gtd {
                bracket[0] = t;
                bracket_f[0] = f_new;
                self.bracket_g[0].copy_from_slice(&self.g_new);
                single = true;
                done = true;
                break;
            }
            if armijo_fails || gtd_new >= 0.0 {
                bracket = [t_prev, t];
                bracket_f = [f_prev, f_new];
                self.bracket_g[0].copy_from_slice(&self.g_prev);
                self.bracket_g[1].copy_from_slice(&self.g_new);
                bracket_gtd = [gtd_prev, gtd_new];
                break;
            }
            // Extrapolate.
            let min_step = t + 0.01 * (t - t_prev);
            let max_step = t * 10.0;
            let tmp = t;
            t = cubic_interpolate(
                (t_prev, f_prev, gtd_prev),
                (t, f_new, gtd_new),
                Some((min_step, max_step)),
            );
            t_prev = tmp;
            f_prev = f_new;
            self.g_prev.copy_from_slice(&self.g_new);
            gtd_prev = gtd_new;
            f_new = self.eval(x, d, t, closure);
            ls_func_evals += 1;
            gtd_new = dot(&self.g_new, d);
            ls_iter += 1;
        }
        if ls_iter >= max_ls {
            bracket = [0.0, t];
            bracket_f = [f, f_new];
            self.bracket_g[0].copy_from_slice(&self.g0);
            self.bracket_g[1].copy_from_slice(&self.g_new);
        }

        // Zoom phase.
        let mut insuf_progress = false;
        let last = if single { 0 } else { 1 };
        let (mut low, mut high) = if bracket_f[0] <= bracket_f[last] || single {
            (0, 1)
        } else {
            (1, 0)
        };
        while !done && ls_iter < max_ls {
            if (bracket[1] - bracket[0]).abs() * d_norm < LS_TOLERANCE_CHANGE {
                break;
            }
            t = cubic_interpolate(
                (bracket[0], bracket_f[0], bracket_gtd[0]),
                (bracket[1], bracket_f[1], bracket_gtd[1]),
                None,
            );
            let b_max = py_max(bracket[0], bracket[1]);
            let b_min = py_min(bracket[0], bracket[1]);
            let eps = 0.1 * (b_max - b_min);
            if py_min(b_max - t, t - b_min) < eps {
                if insuf_progress || t >= b_max || t <= b_min {
                    t = if (t - b_max).abs() < (t - b_min).abs() {
                        b_max - eps
                    } else {
                        b_min + eps
                    };
                    insuf_progress = false;
                } else {
                    insuf_progress = true;
                }
            } else {
                insuf_progress = false;
            }

            f_new = self.eval(x, d, t, closure);
            ls_func_evals += 1;
            gtd_new = dot(&self.g_new, d);
            ls_iter += 1;

            if f_new > f + C1 * t * gtd || f_new >= bracket_f[low] {
                bracket[high] = t;
                bracket_f[high] = f_new;
                self.bracket_g[high].copy_from_slice(&self.g_new);
                bracket_gtd[high] = gtd_new;
                (low, high) = if bracket_f[0] <= bracket_f[1] {
                    (0, 1)
                } else {
                    (1, 0)
                };
            } else {
                if gtd_new.abs() <= -C2 * gtd {
                    done = true;
                } else if gtd_new * (bracket[high] - bracket[low]) >= 0.0 {
                    // The old high becomes the new low.
                    bracket[high] = bracket[low];
                    bracket_f[high] = bracket_f[low];
                    let [b0, b1] = &mut self.bracket_g;
                    if high == 0 {
                        b0.copy_from_slice(b1);
                    } else {
                        b1.copy_from_slice(b0);
                    }
                    bracket_gtd[high] = bracket_gtd[low];
                }
                bracket[low] = t;
                bracket_f[low] = f_new;
                self.bracket_g[low].copy_from_slice(&self.g_new);
                bracket_gtd[low] = gtd_new;
            }
        }

        g.copy_from_slice(&self.bracket_g[low]);
        LineSearchResult {
            loss: bracket_f[low],
            t: bracket[low],
            func_evals: ls_func_evals,
        }
    }
}

/// torch's `_cubic_interpolate`: the minimizer of the cubic through two points
/// `(x, f, g)` with function values and derivatives, clamped to `bounds` (by
/// default the interval between the points); the midpoint of the bounds when
/// the cubic has no minimum.
fn cubic_interpolate(
    (x1, f1, g1): (f64, f64, f64),
    (x2, f2, g2): (f64, f64, f64),
    bounds: Option<(f64, f64)>,
) -> f64 {
    let (xmin_bound, xmax_bound) = match bounds {
        Some(b) => b,
        None if x1 <= x2 => (x1, x2),
        None => (x2, x1),
    };
    let d1 = g1 + g2 - 3.0 * (f1 - f2) / (x1 - x2);
    let d2_square = d1 * d1 - g1 * g2;
    if d2_square >= 0.0 {
        let d2 = d2_square.sqrt();
        let min_pos = if x1 <= x2 {
            x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2.0 * d2))
        } else {
            x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2.0 * d2))
        };
        py_min(py_max(min_pos, xmin_bound), xmax_bound)
    } else {
        (xmin_bound + xmax_bound) / 2.0
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

    #[test]
    fn cubic_interpolation() {
        // f = (x - 1)^2 through x = 0 and x = 3: the minimum is at 1.
        let t = cubic_interpolate((0.0, 1.0, -2.0), (3.0, 4.0, 4.0), None);
        assert!((t - 1.0).abs() < 1e-15);
        // Clamped to the bounds.
        let t = cubic_interpolate((0.0, 1.0, -2.0), (3.0, 4.0, 4.0), Some((2.0, 5.0)));
        assert_eq!(t, 2.0);
        // No real minimum: the midpoint of the bounds.
        let t = cubic_interpolate((0.0, 0.0, 1.0), (1.0, 0.9, 1.0), None);
        assert_eq!(t, 0.5);
    }
}
