//! Minuit2's numerical derivatives: the initial gradient guessed from the
//! parameters' declared errors (InitialGradientCalculator) and the
//! two-point gradient with its per-parameter step iterations
//! (Numerical2PGradientCalculator), which also yields the diagonal second
//! derivatives G2 and the steps used.

use super::state::{Ctx, Grad, Strategy, Vector};
use super::transform::Transform;

/// The rough gradient, G2 and steps from the declared errors at internal
/// point x, without calling the function.
pub fn initial_gradient(trafo: &Transform, x: &Vector, up: f64) -> Grad {
    let n = x.len();
    let prec = trafo.precision();
    let mut g = Vector::zeros(n);
    let mut g2 = Vector::zeros(n);
    let mut gstep = Vector::zeros(n);
    for i in 0..n {
        let var = x[i];
        let gsmin = 8.0 * prec.eps2 * (var.abs() + prec.eps2);
        let dirin = trafo.ext_error_to_int(i, var).max(gsmin);
        let d2 = 2.0 * up / (dirin * dirin);
        let mut step = gsmin.max(0.1 * dirin);
        if trafo.has_limits(i) && step > 0.5 {
            step = 0.5;
        }
        g[i] = d2 * dirin;
        g2[i] = d2;
        gstep[i] = step;
    }
    Grad {
        g,
        g2,
        gstep,
        analytical: false,
    }
}

/// The two-point numerical gradient at x (where f = fval), starting from
/// the previous gradient `prev` (its G2 and steps set the first step).
pub fn numerical_gradient(
    ctx: &mut Ctx,
    x: &Vector,
    fval: f64,
    prev: &Grad,
    strategy: &Strategy,
) -> Grad {
    let prec = *ctx.trafo.precision();
    let eps2 = prec.eps2;
    let dfmin = 8.0 * eps2 * (fval.abs() + ctx.up);
    let vrysml = 8.0 * prec.eps * prec.eps;
    let n = x.len();
    let mut grd = prev.g.clone();
    let mut g2 = prev.g2.clone();
    let mut gstep = prev.gstep.clone();
    let mut xx = x.clone();
    for i in 0..n {
        let xtf = xx[i];
        let epspri = eps2 + (grd[i] * eps2).abs();
        let mut stepb4 = 0.0;
        for _ in 0..strategy.grad_ncycles {
            let optstp = (dfmin / (g2[i].abs() + epspri)).sqrt();
            let mut step = optstp.max((0.1 * gstep[i]).abs());
            if ctx.trafo.has_limits(i) && step > 0.5 {
                step = 0.5;
            }
            let stpmax = 10.0 * gstep[i].abs();
            if step > stpmax {
                step = stpmax;
            }
            let stpmin = vrysml.max(8.0 * (eps2 * xx[i]).abs());
            if step < stpmin {
                step = stpmin;
            }
            if ((step - stepb4) / step).abs() < strategy.grad_step_tol {
                break;
            }
            gstep[i] = step;
            stepb4 = step;
            let (fs1, fs2) = central_pair(ctx, &mut xx, i, xtf, step);
            let grdb4 = grd[i];
            grd[i] = 0.5 * (fs1 - fs2) / step;
            g2[i] = (fs1 + fs2 - 2.0 * fval) / step / step;
            // NaN comparisons are false: the cycle limit still ends the loop
            if (grdb4 - grd[i]).abs() / (grd[i].abs() + dfmin / step) < strategy.grad_tol {
                break;
            }
        }
    }
    Grad {
        g: grd,
        g2,
        gstep,
        analytical: false,
    }
}

/// The function at x with coordinate `i` moved to `xtf + d`, then to
/// `xtf - d` (left back at `xtf`): the two values of a central difference.
pub(crate) fn central_pair(
    ctx: &mut Ctx,
    x: &mut Vector,
    i: usize,
    xtf: f64,
    d: f64,
) -> (f64, f64) {
    x[i] = xtf + d;
    let fs1 = ctx.value(x);
    x[i] = xtf - d;
    let fs2 = ctx.value(x);
    x[i] = xtf;
    (fs1, fs2)
}

/// The numerical gradient from scratch at x: initial guess, then the
/// two-point iterations.
pub fn numerical_gradient_fresh(ctx: &mut Ctx, x: &Vector, fval: f64, strategy: &Strategy) -> Grad {
    let init = initial_gradient(&ctx.trafo, x, ctx.up);
    numerical_gradient(ctx, x, fval, &init, strategy)
}
