//! MIGRAD's starting state (Minuit2's MnSeedGenerator): the function and
//! its gradient at the start, an inverse Hessian from a known covariance or
//! from the inverse second derivatives, a line search away from negative
//! curvature (NegativeG2LineSearch), and at strategy 2 a full HESSE. In
//! autograd mode the exact Hessian seeds the matrix instead.

use super::hesse::{exact_hessian, hesse_numeric, state_from_hessian};
use super::linesearch::line_search;
use super::numgrad::{numerical_gradient, numerical_gradient_fresh};
use super::state::{edm, Ctx, ErrStatus, Grad, State, Strategy, Vector};
use super::transform::Precision;
use super::Matrix;

/// diag(1/G2), 1 where G2 is not above eps.
fn diag_from_g2(g2: &Vector, eps: f64) -> Matrix {
    let n = g2.len();
    let mut m = Matrix::zeros(n, n);
    for i in 0..n {
        m[(i, i)] = if g2[i] > eps { 1.0 / g2[i] } else { 1.0 };
    }
    m
}

/// The numerical-gradient seed at internal point x0; `cov` is a known
/// internal inverse Hessian (a restart), if any.
pub fn seed_numeric(ctx: &mut Ctx, x0: &Vector, cov: Option<&Matrix>, strat: &Strategy) -> State {
    let prec = *ctx.trafo.precision();
    let f = ctx.value(x0);
    let grad = numerical_gradient_fresh(ctx, x0, f, strat);
    let n = x0.len();
    let (v, dcovar) = match cov {
        Some(c) if c.nrows() == n => {
            let mut m = c.clone();
            for i in 0..n {
                if c[(i, i)].is_nan() || c[(i, i)] <= prec.eps {
                    m[(i, i)] = if grad.g2[i] > prec.eps {
                        1.0 / grad.g2[i]
                    } else {
                        1.0
                    };
                }
            }
            (m, 0.0)
        }
        _ => (diag_from_g2(&grad.g2, prec.eps), 1.0),
    };
    let e = edm(&grad.g, &v);
    let mut state = State {
        x: x0.clone(),
        fval: f,
        grad,
        v,
        dcovar,
        status: ErrStatus::PosDef,
        edm: e,
        nfcn: ctx.calls(),
    };
    if cov.is_none() {
        if has_negative_g2(&state.grad) {
            state = negative_g2_search(ctx, &state, strat, false);
        }
        if strat.level >= 2 {
            return hesse_numeric(ctx, &state, strat, 0);
        }
    }
    state
}

fn has_negative_g2(g: &Grad) -> bool {
    g.g2.iter().any(|&v| v <= 0.0)
}

/// Line searches along each coordinate with non-positive G2, downhill,
/// recomputing the derivatives after each, until every G2 is positive (at
/// most 2n+1 rounds).
pub fn negative_g2_search(ctx: &mut Ctx, st: &State, strat: &Strategy, exact: bool) -> State {
    let prec = *ctx.trafo.precision();
    let n = st.x.len();
    let mut dgrad = st.grad.clone();
    if exact {
        exact_search_steps(ctx, st, &mut dgrad);
    }
    let mut s = Downhill {
        x: st.x.clone(),
        f: st.fval,
        dgrad,
    };
    let mut rounds = 0;
    while s.round(ctx, strat, exact, &prec) && rounds < 2 * n {
        rounds += 1;
    }
    diag_state(s.x, s.f, s.dgrad, prec.eps, ctx.calls())
}

/// Exact derivatives carry no step: take the small step the numerical
/// gradient would start with (a tenth of the initial gradient step), so
/// the search explores the nearby valley as numeric MIGRAD does.
fn exact_search_steps(ctx: &Ctx, st: &State, dgrad: &mut Grad) {
    let init = super::numgrad::initial_gradient(&ctx.trafo, &st.x, ctx.up);
    let eps2 = ctx.trafo.precision().eps2;
    let dfmin = 8.0 * eps2 * (st.fval.abs() + ctx.up);
    for i in 0..st.x.len() {
        let epspri = eps2 + (dgrad.g[i] * eps2).abs();
        let optstp = (dfmin / (dgrad.g2[i].abs() + epspri)).sqrt();
        dgrad.gstep[i] = optstp.max(0.1 * init.gstep[i]).min(10.0 * init.gstep[i]);
    }
}

/// NegativeG2LineSearch's point and derivatives as it moves.
struct Downhill {
    x: Vector,
    f: f64,
    dgrad: Grad,
}

impl Downhill {
    /// One round: a line search downhill along the first coordinate with
    /// G2 <= 0 that is not flat, then fresh derivatives there. False when
    /// there is no such coordinate.
    fn round(&mut self, ctx: &mut Ctx, strat: &Strategy, exact: bool, prec: &Precision) -> bool {
        let n = self.x.len();
        let g = &self.dgrad;
        let flat = |i: usize| g.g[i].abs() < prec.eps && g.g2[i].abs() < prec.eps;
        let Some(i) = (0..n).find(|&i| g.g2[i] <= 0.0 && !flat(i)) else {
            return false;
        };
        let mut step = Vector::zeros(n);
        let s = self.dgrad.gstep[i];
        step[i] = if self.dgrad.g[i] < 0.0 { s } else { -s };
        let gdel = step[i] * self.dgrad.g[i];
        let (a, fa) = line_search(ctx, &self.x, self.f, &step, gdel, prec);
        self.x += step * a;
        self.f = fa;
        self.dgrad = if exact {
            let keep = self.dgrad.gstep.clone();
            let mut g = exact_grad_g2(ctx, &self.x);
            g.gstep = keep;
            g
        } else {
            numerical_gradient(ctx, &self.x, self.f, &self.dgrad, strat)
        };
        true
    }
}

/// The state with the diagonal matrix 1/G2 (1 where |G2| is not above
/// `threshold`), not positive definite when its EDM comes out negative.
fn diag_state(x: Vector, fval: f64, grad: Grad, threshold: f64, nfcn: usize) -> State {
    let n = x.len();
    let mut v = Matrix::zeros(n, n);
    for i in 0..n {
        v[(i, i)] = if grad.g2[i].abs() > threshold {
            1.0 / grad.g2[i]
        } else {
            1.0
        };
    }
    let e = edm(&grad.g, &v);
    State {
        x,
        fval,
        grad,
        v,
        dcovar: 1.0,
        status: if e < 0.0 {
            ErrStatus::NotPosDef
        } else {
            ErrStatus::PosDef
        },
        edm: e,
        nfcn,
    }
}

/// An exact gradient with these G2 (and unit steps).
fn exact_grad(g: Vector, g2: Vector) -> Grad {
    let n = g.len();
    Grad {
        g,
        g2,
        gstep: Vector::from_element(n, 1.0),
        analytical: true,
    }
}

/// Exact gradient with G2 from the exact Hessian's diagonal.
fn exact_grad_g2(ctx: &mut Ctx, x: &Vector) -> Grad {
    let g = ctx.gradient(x);
    let n = x.len();
    let g2 = match exact_hessian(ctx, x, &g) {
        Some(h) => h.diagonal(),
        None => Vector::from_element(n, 1.0),
    };
    exact_grad(g, g2)
}

/// The exact seed's point: value, gradient and Hessian (None when it
/// cannot be had).
struct ExactPoint {
    x: Vector,
    f: f64,
    g: Vector,
    h: Option<Matrix>,
}

/// The exact-derivative seed: value and gradient at x0, and the matrix a
/// known covariance `cov` (a MINOS or contour fit started from the
/// minimum), as Minuit2's MnSeedGenerator takes the state's covariance
/// whenever it has one; else the exact Hessian, negative curvature along a
/// coordinate first left by line searches, and the matrix its inverse.
pub fn seed_exact(ctx: &mut Ctx, x0: &Vector, cov: Option<&Matrix>, strat: &Strategy) -> State {
    let prec = *ctx.trafo.precision();
    let n = x0.len();
    let f = ctx.value(x0);
    let g = ctx.gradient(x0);
    if let Some(c) = cov.filter(|c| c.nrows() == n) {
        // (no Hessian: over many events it costs several gradients)
        return state_from_cov(x0.clone(), f, g, c, ctx.calls());
    }
    let h = exact_hessian(ctx, x0, &g);
    let mut p = ExactPoint {
        x: x0.clone(),
        f,
        g,
        h,
    };
    if let Some(hm) = &p.h {
        let grad = exact_grad(p.g.clone(), hm.diagonal());
        if has_negative_g2(&grad) {
            p = leave_negative_curvature(ctx, &p, grad, strat, prec.eps);
        }
    }
    let ExactPoint { x, f, g, h } = p;
    match h {
        Some(hm) if (0..n).any(|i| hm[(i, i)] < 0.0) => {
            // negative curvature left after the line searches: Minuit2's
            // seed matrix is diag(1/G2), not positive definite, and MIGRAD
            // stops at once ("Initial matrix not pos.def.")
            let grad = exact_grad(g, hm.diagonal());
            diag_state(x, f, grad, prec.eps2, ctx.calls())
        }
        Some(hm) => {
            let gstep = Vector::from_element(n, 1.0);
            state_from_hessian(&x, f, g, hm, gstep, &prec, ctx.calls())
        }
        // no Hessian: unit G2, the identity matrix
        None => diag_state(
            x,
            f,
            exact_grad(g, Vector::from_element(n, 1.0)),
            prec.eps2,
            ctx.calls(),
        ),
    }
}

/// The seed with a known covariance `c` as its matrix (dcovar 0, as in
/// MnSeedGenerator); G2 is the inverse of its diagonal.
fn state_from_cov(x: Vector, f: f64, g: Vector, c: &Matrix, nfcn: usize) -> State {
    let e = edm(&g, c);
    State {
        x,
        fval: f,
        grad: exact_grad(g, c.diagonal().map(|v| 1.0 / v)),
        v: c.clone(),
        dcovar: 0.0,
        status: ErrStatus::PosDef,
        edm: e,
        nfcn,
    }
}

/// NegativeG2LineSearch from `p` (whose Hessian has a non-positive
/// diagonal term, `grad` its derivatives), and the Hessian where it ends.
fn leave_negative_curvature(
    ctx: &mut Ctx,
    p: &ExactPoint,
    grad: Grad,
    strat: &Strategy,
    eps: f64,
) -> ExactPoint {
    let v = diag_from_g2(&grad.g2, eps);
    let e = edm(&grad.g, &v);
    let st = State {
        x: p.x.clone(),
        fval: p.f,
        grad,
        v,
        dcovar: 1.0,
        status: ErrStatus::PosDef,
        edm: e,
        nfcn: ctx.calls(),
    };
    let st = negative_g2_search(ctx, &st, strat, true);
    let h = exact_hessian(ctx, &st.x, &st.grad.g);
    ExactPoint {
        x: st.x,
        f: st.fval,
        g: st.grad.g,
        h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diag_state_inverts_g2_and_flags_a_negative_edm() {
        let g = Vector::from_vec(vec![1.0, 2.0]);
        let g2 = Vector::from_vec(vec![4.0, 1e-9]);
        let st = diag_state(Vector::zeros(2), 0.0, exact_grad(g, g2), 1e-8, 3);
        assert_eq!(
            (st.v[(0, 0)], st.v[(1, 1)]),
            (0.25, 1.0),
            "1 below the threshold"
        );
        assert_eq!(
            (st.status, st.nfcn, st.edm),
            (ErrStatus::PosDef, 3, 0.5 * (0.25 + 4.0))
        );
        let g = Vector::from_vec(vec![2.0, 0.0]);
        let g2 = Vector::from_vec(vec![-1.0, 1.0]);
        let st = diag_state(Vector::zeros(2), 0.0, exact_grad(g, g2), 1e-8, 0);
        assert_eq!((st.status, st.edm), (ErrStatus::NotPosDef, -2.0));
    }
}
