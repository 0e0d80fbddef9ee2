//! MIGRAD's starting state (Minuit2's MnSeedGenerator): the function and
//! its gradient at the start, an inverse Hessian from a known covariance or
//! from the inverse second derivatives, a line search away from negative
//! curvature (NegativeG2LineSearch), and at strategy 2 a full HESSE. In
//! autograd mode the exact Hessian seeds the matrix instead.

use super::hesse::{exact_hessian, hesse_numeric, state_from_hessian};
use super::linesearch::line_search;
use super::numgrad::{numerical_gradient, numerical_gradient_fresh};
use super::state::{edm, Ctx, ErrStatus, Grad, State, Strategy, Vector};
use super::Matrix;

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
        // exact derivatives carry no step: take the small step the numerical
        // gradient would start with (a tenth of the initial gradient step),
        // so the search explores the nearby valley as numeric MIGRAD does
        let init = super::numgrad::initial_gradient(&ctx.trafo, &st.x, ctx.up);
        let eps2 = ctx.trafo.precision().eps2;
        let dfmin = 8.0 * eps2 * (st.fval.abs() + ctx.up);
        for i in 0..n {
            let epspri = eps2 + (dgrad.g[i] * eps2).abs();
            let optstp = (dfmin / (dgrad.g2[i].abs() + epspri)).sqrt();
            dgrad.gstep[i] = optstp.max(0.1 * init.gstep[i]).min(10.0 * init.gstep[i]);
        }
    }
    let mut x = st.x.clone();
    let mut f = st.fval;
    let mut iter = 0;
    loop {
        let mut again = false;
        for i in 0..n {
            if dgrad.g2[i] <= 0.0 {
                if dgrad.g[i].abs() < prec.eps && dgrad.g2[i].abs() < prec.eps {
                    continue;
                }
                let mut step = Vector::zeros(n);
                let s = dgrad.gstep[i];
                step[i] = if dgrad.g[i] < 0.0 { s } else { -s };
                let gdel = step[i] * dgrad.g[i];
                let (a, fa) = line_search(ctx, &x, f, &step, gdel, &prec);
                x += step * a;
                f = fa;
                dgrad = if exact {
                    let keep = dgrad.gstep.clone();
                    let mut g = exact_grad_g2(ctx, &x);
                    g.gstep = keep;
                    g
                } else {
                    numerical_gradient(ctx, &x, f, &dgrad, strat)
                };
                again = true;
                break;
            }
        }
        let cont = iter < 2 * n && again;
        iter += 1;
        if !cont {
            break;
        }
    }
    let mut v = Matrix::zeros(n, n);
    for i in 0..n {
        v[(i, i)] = if dgrad.g2[i].abs() > prec.eps {
            1.0 / dgrad.g2[i]
        } else {
            1.0
        };
    }
    let e = edm(&dgrad.g, &v);
    State {
        x,
        fval: f,
        grad: dgrad,
        v,
        dcovar: 1.0,
        status: if e < 0.0 {
            ErrStatus::NotPosDef
        } else {
            ErrStatus::PosDef
        },
        edm: e,
        nfcn: ctx.calls(),
    }
}

/// Exact gradient with G2 from the exact Hessian's diagonal.
fn exact_grad_g2(ctx: &mut Ctx, x: &Vector) -> Grad {
    let g = ctx.gradient(x);
    let n = x.len();
    let g2 = match exact_hessian(ctx, x, &g) {
        Some(h) => Vector::from_iterator(n, (0..n).map(|i| h[(i, i)])),
        None => Vector::from_element(n, 1.0),
    };
    Grad {
        g,
        g2,
        gstep: Vector::from_element(n, 1.0),
        analytical: true,
    }
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
    let (mut x, mut f, mut g, mut h) = (x0.clone(), f, g, h);
    if let Some(hm) = &h {
        let g2 = Vector::from_iterator(n, (0..n).map(|i| hm[(i, i)]));
        let grad = Grad {
            g: g.clone(),
            g2,
            gstep: Vector::from_element(n, 1.0),
            analytical: true,
        };
        if has_negative_g2(&grad) {
            let v = diag_from_g2(&grad.g2, prec.eps);
            let e = edm(&grad.g, &v);
            let st = State {
                x: x.clone(),
                fval: f,
                grad,
                v,
                dcovar: 1.0,
                status: ErrStatus::PosDef,
                edm: e,
                nfcn: ctx.calls(),
            };
            let st = negative_g2_search(ctx, &st, strat, true);
            x = st.x;
            f = st.fval;
            g = st.grad.g;
            h = exact_hessian(ctx, &x, &g);
        }
    }
    match h {
        Some(hm) if (0..n).any(|i| hm[(i, i)] < 0.0) => {
            // negative curvature left after the line searches: Minuit2's
            // seed matrix is diag(1/G2), not positive definite, and MIGRAD
            // stops at once ("Initial matrix not pos.def.")
            let g2 = Vector::from_iterator(n, (0..n).map(|i| hm[(i, i)]));
            let mut v = Matrix::zeros(n, n);
            for i in 0..n {
                v[(i, i)] = if g2[i].abs() > prec.eps2 {
                    1.0 / g2[i]
                } else {
                    1.0
                };
            }
            let e = edm(&g, &v);
            State {
                x,
                fval: f,
                grad: Grad {
                    g,
                    g2,
                    gstep: Vector::from_element(n, 1.0),
                    analytical: true,
                },
                v,
                dcovar: 1.0,
                status: if e < 0.0 {
                    ErrStatus::NotPosDef
                } else {
                    ErrStatus::PosDef
                },
                edm: e,
                nfcn: ctx.calls(),
            }
        }
        Some(hm) => {
            let gstep = Vector::from_element(n, 1.0);
            state_from_hessian(&x, f, g, hm, gstep, &prec, ctx.calls())
        }
        _ => {
            let v = Matrix::identity(n, n);
            let e = edm(&g, &v);
            State {
                x,
                fval: f,
                grad: Grad {
                    g,
                    g2: Vector::from_element(n, 1.0),
                    gstep: Vector::from_element(n, 1.0),
                    analytical: true,
                },
                v,
                dcovar: 1.0,
                status: ErrStatus::PosDef,
                edm: e,
                nfcn: ctx.calls(),
            }
        }
    }
}

/// The seed with a known covariance `c` as its matrix (dcovar 0, as in
/// MnSeedGenerator); G2 is the inverse of its diagonal.
fn state_from_cov(x: Vector, f: f64, g: Vector, c: &Matrix, nfcn: usize) -> State {
    let n = x.len();
    let e = edm(&g, c);
    State {
        x,
        fval: f,
        grad: Grad {
            g,
            g2: Vector::from_iterator(n, (0..n).map(|i| 1.0 / c[(i, i)])),
            gstep: Vector::from_element(n, 1.0),
            analytical: true,
        },
        v: c.clone(),
        dcovar: 0.0,
        status: ErrStatus::PosDef,
        edm: e,
        nfcn,
    }
}
