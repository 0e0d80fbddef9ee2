//! torch's `_strong_wolfe` line search of LBFGS, in its two phases:
//! bracketing (extrapolating until an interval holds a good step) and zoom
//! (shrinking it by cubic interpolation). The trial point is evaluated in a
//! scratch buffer rather than by moving the parameters and back, which
//! gives the same numbers; every buffer is allocated once, in [`LineSearch::new`].

use super::super::common::{py_max, py_min};
use super::super::Closure;
use super::{dot, max_abs};

/// Sufficient-decrease constant of torch's `_strong_wolfe`.
const C1: f64 = 1e-4;
/// Curvature constant of torch's `_strong_wolfe`.
const C2: f64 = 0.9;
/// torch calls `_strong_wolfe` without `tolerance_change`, so the line search
/// always uses its own default, whatever the optimizer's option says.
const LS_TOLERANCE_CHANGE: f64 = 1e-9;

/// Scratch buffers of the strong-Wolfe line search.
pub(super) struct LineSearch {
    /// The trial point `x + t d`.
    trial: Vec<f64>,
    /// The gradient at `x` (torch's `g.clone()`).
    g0: Vec<f64>,
    g_new: Vec<f64>,
    g_prev: Vec<f64>,
    /// Gradients at the two ends of the bracket.
    bracket_g: [Vec<f64>; 2],
}

/// The line search's starting values.
pub(super) struct Start {
    /// First trial step.
    pub t: f64,
    /// Loss at `x`.
    pub f: f64,
    /// Directional derivative at `x`.
    pub gtd: f64,
    /// Most evaluations after the first one.
    pub max_ls: i64,
}

/// What one line search found.
pub(super) struct LineSearchResult {
    pub loss: f64,
    pub t: f64,
    pub func_evals: i64,
}

/// One line search under way: where it starts, along what, and its counts.
struct Search<'a, 'c> {
    x: &'a [f64],
    d: &'a [f64],
    closure: &'a mut Closure<'c>,
    /// Loss and directional derivative at `x`.
    f: f64,
    gtd: f64,
    max_ls: i64,
    /// torch's `ls_func_evals` and `ls_iter`.
    evals: i64,
    iter: i64,
}

impl Search<'_, '_> {
    /// The Armijo (sufficient decrease) condition fails at `p`.
    fn armijo_fails(&self, p: Point) -> bool {
        p.f > self.f + C1 * p.t * self.gtd
    }

    /// The strong curvature condition holds at `p`.
    fn curvature_holds(&self, p: Point) -> bool {
        p.gtd.abs() <= -C2 * self.gtd
    }
}

/// A trial step with its loss and directional derivative.
#[derive(Clone, Copy)]
struct Point {
    t: f64,
    f: f64,
    gtd: f64,
}

impl Point {
    fn tuple(self) -> (f64, f64, f64) {
        (self.t, self.f, self.gtd)
    }
}

/// The bracket: two steps with their losses and directional derivatives
/// (their gradients are `LineSearch::bracket_g`), and which end is low.
struct Bracket {
    t: [f64; 2],
    f: [f64; 2],
    gtd: [f64; 2],
    low: usize,
    high: usize,
    /// torch's `insuf_progress` of the zoom phase.
    insuf_progress: bool,
}

impl Bracket {
    /// The interval between two points, low end first.
    fn new(a: Point, b: Point) -> Self {
        let mut bracket = Bracket {
            t: [a.t, b.t],
            f: [a.f, b.f],
            gtd: [a.gtd, b.gtd],
            low: 0,
            high: 1,
            insuf_progress: false,
        };
        bracket.order();
        bracket
    }

    /// A bracket of one point, which met the strong Wolfe conditions.
    fn single(p: Point) -> Self {
        Bracket {
            t: [p.t, 0.0],
            f: [p.f, 0.0],
            gtd: [0.0; 2],
            low: 0,
            high: 1,
            insuf_progress: false,
        }
    }

    /// Sets `low` to the end with the smaller loss (the first on a tie).
    fn order(&mut self) {
        (self.low, self.high) = if self.f[0] <= self.f[1] {
            (0, 1)
        } else {
            (1, 0)
        };
    }

    fn set(&mut self, end: usize, p: Point) {
        self.t[end] = p.t;
        self.f[end] = p.f;
        self.gtd[end] = p.gtd;
    }

    /// torch's next zoom trial: the cubic interpolation of the two ends,
    /// moved `0.1` of the interval inside when it is too close to an end
    /// twice in a row (or outside it).
    fn next_trial(&mut self) -> f64 {
        let t = cubic_interpolate(
            (self.t[0], self.f[0], self.gtd[0]),
            (self.t[1], self.f[1], self.gtd[1]),
            None,
        );
        let b_max = py_max(self.t[0], self.t[1]);
        let b_min = py_min(self.t[0], self.t[1]);
        let eps = 0.1 * (b_max - b_min);
        if py_min(b_max - t, t - b_min) < eps {
            if self.insuf_progress || t >= b_max || t <= b_min {
                self.insuf_progress = false;
                return if (t - b_max).abs() < (t - b_min).abs() {
                    b_max - eps
                } else {
                    b_min + eps
                };
            }
            self.insuf_progress = true;
        } else {
            self.insuf_progress = false;
        }
        t
    }
}

impl LineSearch {
    /// Buffers for `n` flat parameters.
    pub fn new(n: usize) -> Self {
        LineSearch {
            trial: vec![0.0; n],
            g0: vec![0.0; n],
            g_new: vec![0.0; n],
            g_prev: vec![0.0; n],
            bracket_g: [vec![0.0; n], vec![0.0; n]],
        }
    }

    /// Evaluates the objective at `x + t d` into `self.g_new` (torch's
    /// `p.add_(d, alpha=t)`, fused as in [`super::axpy`]).
    fn eval(&mut self, x: &[f64], d: &[f64], t: f64, closure: &mut Closure<'_>) -> f64 {
        for ((p, xi), di) in self.trial.iter_mut().zip(x).zip(d) {
            *p = t.mul_add(*di, *xi);
        }
        closure(&self.trial, &mut self.g_new)
    }

    /// Evaluates the trial step `t` (its gradient into `g_new`) and counts it.
    fn probe(&mut self, s: &mut Search, t: f64) -> Point {
        let f = self.eval(s.x, s.d, t, s.closure);
        s.evals += 1;
        let gtd = dot(&self.g_new, s.d);
        Point { t, f, gtd }
    }

    /// torch's `_strong_wolfe` from `x` along `d`; `g` holds the gradient at
    /// `x` on entry and the gradient at the returned step on exit.
    pub fn run(
        &mut self,
        x: &[f64],
        d: &[f64],
        closure: &mut Closure<'_>,
        g: &mut [f64],
        start: Start,
    ) -> LineSearchResult {
        let d_norm = max_abs(d, 1.0);
        self.g0.copy_from_slice(g);
        let mut s = Search {
            x,
            d,
            closure,
            f: start.f,
            gtd: start.gtd,
            max_ls: start.max_ls,
            evals: 0,
            iter: 0,
        };
        let first = self.probe(&mut s, start.t);
        let (mut b, done) = self.bracket(&mut s, first);
        if !done {
            self.zoom(&mut s, &mut b, d_norm);
        }
        g.copy_from_slice(&self.bracket_g[b.low]);
        LineSearchResult {
            loss: b.f[b.low],
            t: b.t[b.low],
            func_evals: s.evals,
        }
    }

    /// torch's bracketing phase: extrapolates from `now` until a step meets
    /// the strong Wolfe conditions (then done) or an interval must hold one,
    /// or the evaluations run out (the interval from 0 to the last step).
    fn bracket(&mut self, s: &mut Search, mut now: Point) -> (Bracket, bool) {
        let mut prev = Point {
            t: 0.0,
            f: s.f,
            gtd: s.gtd,
        };
        self.g_prev.copy_from_slice(&self.g0);
        while s.iter < s.max_ls {
            let armijo_fails = s.armijo_fails(now) || (s.iter > 1 && now.f >= prev.f);
            if !armijo_fails && s.curvature_holds(now) {
                self.bracket_g[0].copy_from_slice(&self.g_new);
                return (Bracket::single(now), true);
            }
            if armijo_fails || now.gtd >= 0.0 {
                self.bracket_g[0].copy_from_slice(&self.g_prev);
                self.bracket_g[1].copy_from_slice(&self.g_new);
                return (Bracket::new(prev, now), false);
            }
            // Extrapolate.
            let min_step = now.t + 0.01 * (now.t - prev.t);
            let max_step = now.t * 10.0;
            let t = cubic_interpolate(prev.tuple(), now.tuple(), Some((min_step, max_step)));
            prev = now;
            self.g_prev.copy_from_slice(&self.g_new);
            now = self.probe(s, t);
            s.iter += 1;
        }
        self.bracket_g[0].copy_from_slice(&self.g0);
        self.bracket_g[1].copy_from_slice(&self.g_new);
        // torch leaves the derivatives unset here: the zoom does not run.
        let from = Point {
            t: 0.0,
            f: s.f,
            gtd: 0.0,
        };
        let to = Point { gtd: 0.0, ..now };
        (Bracket::new(from, to), false)
    }

    /// torch's zoom phase: shrinks the bracket until a step meets the strong
    /// Wolfe conditions, the bracket is shorter than the tolerance, or the
    /// evaluations run out.
    fn zoom(&mut self, s: &mut Search, b: &mut Bracket, d_norm: f64) {
        while s.iter < s.max_ls {
            if (b.t[1] - b.t[0]).abs() * d_norm < LS_TOLERANCE_CHANGE {
                break;
            }
            let t = b.next_trial();
            let now = self.probe(s, t);
            s.iter += 1;
            if s.armijo_fails(now) || now.f >= b.f[b.low] {
                b.set(b.high, now);
                self.bracket_g[b.high].copy_from_slice(&self.g_new);
                b.order();
                continue;
            }
            let done = s.curvature_holds(now);
            if !done && now.gtd * (b.t[b.high] - b.t[b.low]) >= 0.0 {
                // The old high becomes the new low.
                self.move_low_to_high(b);
            }
            b.set(b.low, now);
            self.bracket_g[b.low].copy_from_slice(&self.g_new);
            if done {
                break;
            }
        }
    }

    /// Copies the bracket's low end over its high end.
    fn move_low_to_high(&mut self, b: &mut Bracket) {
        let (low, high) = (b.low, b.high);
        b.t[high] = b.t[low];
        b.f[high] = b.f[low];
        b.gtd[high] = b.gtd[low];
        let [b0, b1] = &mut self.bracket_g;
        if high == 0 {
            b0.copy_from_slice(b1);
        } else {
            b1.copy_from_slice(b0);
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

#[cfg(test)]
mod tests {
    use super::*;

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

    fn bracket(t: [f64; 2], f: [f64; 2], gtd: [f64; 2]) -> Bracket {
        let p = |i: usize| Point {
            t: t[i],
            f: f[i],
            gtd: gtd[i],
        };
        Bracket::new(p(0), p(1))
    }

    #[test]
    fn a_bracket_keeps_its_lower_loss_as_low() {
        let b = bracket([0.0, 1.0], [2.0, 1.0], [-1.0, 1.0]);
        assert_eq!((b.low, b.high), (1, 0));
        let b = bracket([0.0, 1.0], [1.0, 1.0], [-1.0, 1.0]);
        assert_eq!((b.low, b.high), (0, 1));
        let s = Bracket::single(Point {
            t: 0.5,
            f: 3.0,
            gtd: 0.1,
        });
        assert_eq!((s.low, s.t[0], s.f[0]), (0, 0.5, 3.0));
    }

    #[test]
    fn a_zoom_trial_near_an_end_moves_inside_the_second_time() {
        // f = (x - 1)^2 on [0, 3]: the cubic's minimum 1 is well inside.
        let mut b = bracket([0.0, 3.0], [1.0, 4.0], [-2.0, 4.0]);
        assert!((b.next_trial() - 1.0).abs() < 1e-15);
        assert!(!b.insuf_progress);
        // f = (x - 0.01)^2 on [0, 1]: the minimum 0.01 is within 0.1 of
        // the end, kept the first time, moved to 0.1 the second.
        let mut b = bracket([0.0, 1.0], [1e-4, 0.9801], [-0.02, 1.98]);
        let t = b.next_trial();
        assert!((t - 0.01).abs() < 1e-12, "{t}");
        assert!(b.insuf_progress);
        assert_eq!(b.next_trial(), 0.1);
        assert!(!b.insuf_progress);
    }
}
