//! HESSE: the full matrix of second derivatives at a state and its inverse,
//! either by Minuit2's finite differences (MnHesse: diagonal terms in cycles
//! that adapt each step to the curvature, then one call per off-diagonal
//! term) or from the Fcn's exact Hessian (autograd mode); made positive
//! definite with MnPosDef and inverted.

use super::numgrad::{central_pair, numerical_gradient_fresh};
use super::posdef::{make_pos_def, PosDefOutcome};
use super::state::{
    edm, invert, state_from_minimum, to_function_minimum, Ctx, EndStatus, ErrStatus, Grad, State,
    Strategy, Vector,
};
use super::transform::{Precision, Transform};
use super::{Fcn, FunctionMinimum, Matrix, ParamSpec};

/// The diagonal matrix 1 / G2 (1 where G2 or its inverse is below eps2)
/// a failed HESSE leaves.
fn diag_fallback(g2: &Vector, eps2: f64) -> Matrix {
    let n = g2.len();
    let mut m = Matrix::zeros(n, n);
    for j in 0..n {
        let t = if g2[j] < eps2 { 1.0 } else { 1.0 / g2[j] };
        m[(j, j)] = if t < eps2 { 1.0 } else { t };
    }
    m
}

/// Minuit2's numerical MnHesse at state `st`; `maxcalls` 0 means
/// 200 + 100 n + 5 n^2 (compared with the calls of the current run).
pub fn hesse_numeric(ctx: &mut Ctx, st: &State, strat: &Strategy, maxcalls: usize) -> State {
    let n = st.x.len();
    let maxcalls = if maxcalls == 0 {
        200 + 100 * n + 5 * n * n
    } else {
        maxcalls
    };
    let mut h = NumericHesse::new(ctx, st, strat);
    let mut vhmat = Matrix::zeros(n, n);
    // Minuit2 asks "has limits" of the parameter with external number i here
    let ext_limited: Vec<bool> = (0..n)
        .map(|i| ctx_params_limited(&h.ctx.trafo, i))
        .collect();
    for (i, &limited) in ext_limited.iter().enumerate() {
        if !h.diagonal(i, limited) {
            return h.failed(st, ErrStatus::HesseFailed);
        }
        vhmat[(i, i)] = h.g2[i];
        if h.ctx.calls() > maxcalls {
            return h.failed(st, ErrStatus::CallLimit);
        }
    }
    if strat.level > 0 {
        // refine the first derivatives (HessianGradientCalculator)
        refine_gradient(h.ctx, &st.x, st.fval, &mut h.grd, &h.g2, &mut h.gst, strat);
    }
    h.off_diagonal(&mut vhmat);
    h.finish(st, vhmat)
}

/// MnHesse's working state: the point it moves one or two coordinates of,
/// the function at the minimum, and per parameter G2, gradient, step and
/// f(x + step).
struct NumericHesse<'s, 'c> {
    ctx: &'s mut Ctx<'c>,
    strat: &'s Strategy,
    prec: Precision,
    amin: f64,
    /// The sagitta the diagonal steps aim at.
    aimsag: f64,
    x: Vector,
    g2: Vector,
    gst: Vector,
    grd: Vector,
    dirin: Vector,
    yy: Vector,
}

/// The central differences at one step: the sagitta
/// 0.5 (f(x+d) + f(x-d) - 2 fmin), both values and the step.
struct Sagitta {
    sag: f64,
    fs1: f64,
    fs2: f64,
    d: f64,
}

impl<'s, 'c> NumericHesse<'s, 'c> {
    /// One call at the minimum; the steps and G2 from the state's gradient
    /// (or a fresh numerical one when that is exact).
    fn new(ctx: &'s mut Ctx<'c>, st: &State, strat: &'s Strategy) -> Self {
        let prec = *ctx.trafo.precision();
        let n = st.x.len();
        let amin = ctx.value(&st.x);
        let aimsag = prec.eps2.sqrt() * (amin.abs() + ctx.up);
        let (mut g2, mut gst, grd, mut dirin) = (
            st.grad.g2.clone(),
            st.grad.gstep.clone(),
            st.grad.g.clone(),
            st.grad.gstep.clone(),
        );
        if st.grad.analytical {
            let tmp = numerical_gradient_fresh(ctx, &st.x, st.fval, strat);
            gst = tmp.gstep.clone();
            dirin = tmp.gstep;
            g2 = tmp.g2;
        }
        NumericHesse {
            ctx,
            strat,
            prec,
            amin,
            aimsag,
            x: st.x.clone(),
            g2,
            gst,
            grd,
            dirin,
            yy: Vector::zeros(n),
        }
    }

    /// The diagonal term of parameter `i`: cycles of central differences,
    /// each next step chosen from the curvature to give the sagitta
    /// `aimsag`, until the step or G2 settles. False when no step gives a
    /// nonzero sagitta.
    fn diagonal(&mut self, i: usize, limited: bool) -> bool {
        let eps2 = self.prec.eps2;
        let xtf = self.x[i];
        let dmin = 8.0 * eps2 * (xtf.abs() + eps2);
        let mut d = self.gst[i].abs().max(dmin);
        for _ in 0..self.strat.hess_ncycles {
            let Some(s) = self.sagitta(i, xtf, d, limited) else {
                return false;
            };
            d = s.d;
            let g2bfor = self.g2[i];
            self.g2[i] = 2.0 * s.sag / (d * d);
            self.grd[i] = (s.fs1 - s.fs2) / (2.0 * d);
            self.gst[i] = d;
            self.dirin[i] = d;
            self.yy[i] = s.fs1;
            let dlast = d;
            d = (2.0 * self.aimsag / self.g2[i].abs()).sqrt();
            if limited {
                d = d.min(0.5);
            }
            if d < dmin {
                d = dmin;
            }
            if ((d - dlast) / d).abs() < self.strat.hess_step_tol {
                break;
            }
            if ((self.g2[i] - g2bfor) / self.g2[i]).abs() < self.strat.hess_g2_tol {
                break;
            }
            d = d.min(10.0 * dlast);
            d = d.max(0.1 * dlast);
        }
        true
    }

    /// The sagitta at step `d` from `xtf` along parameter `i`, the step
    /// grown tenfold (for a limited parameter: to at most 0.51) up to five
    /// times while the sagitta is zero; None if it stays zero.
    fn sagitta(&mut self, i: usize, xtf: f64, mut d: f64, limited: bool) -> Option<Sagitta> {
        for _ in 0..5 {
            let (fs1, fs2) = central_pair(self.ctx, &mut self.x, i, xtf, d);
            let sag = 0.5 * (fs1 + fs2 - 2.0 * self.amin);
            if sag != 0.0 {
                return Some(Sagitta { sag, fs1, fs2, d });
            }
            if limited {
                if d > 0.5 {
                    return None;
                }
                d *= 10.0;
                if d > 0.5 {
                    d = 0.51;
                }
                continue;
            }
            d *= 10.0;
        }
        None
    }

    /// The off-diagonal terms, one call each at the point moved by both
    /// parameters' steps.
    fn off_diagonal(&mut self, vhmat: &mut Matrix) {
        let n = self.x.len();
        let (dirin, yy) = (&self.dirin, &self.yy);
        for i in 0..n {
            if i + 1 >= n {
                break;
            }
            self.x[i] += dirin[i];
            for j in i + 1..n {
                self.x[j] += dirin[j];
                let fs1 = self.ctx.value(&self.x);
                let elem = (fs1 + self.amin - yy[i] - yy[j]) / (dirin[i] * dirin[j]);
                vhmat[(i, j)] = elem;
                vhmat[(j, i)] = elem;
                self.x[j] -= dirin[j];
            }
            self.x[i] -= dirin[i];
        }
    }

    /// The state with the inverse of `vhmat` (made positive definite when
    /// the strategy forces it) and the new gradient.
    fn finish(self, st: &State, mut vhmat: Matrix) -> State {
        let (pd, what) = make_pos_def(&vhmat, &self.prec);
        if self.strat.hess_force_posdef {
            vhmat = pd;
        }
        let Some(inv) = invert(&vhmat) else {
            return self.failed(st, ErrStatus::InvertFailed);
        };
        let (status, dcovar) = if what == PosDefOutcome::Made {
            if self.strat.hess_force_posdef {
                (ErrStatus::MadePosDef, 1.0)
            } else {
                (ErrStatus::NotPosDef, 1.0)
            }
        } else {
            (ErrStatus::PosDef, 0.0)
        };
        let gr = Grad {
            g: self.grd,
            g2: self.g2,
            gstep: self.gst,
            analytical: false,
        };
        let e = edm(&gr.g, &inv);
        State {
            x: st.x.clone(),
            fval: st.fval,
            grad: gr,
            v: inv,
            dcovar,
            status,
            edm: e,
            nfcn: self.ctx.calls(),
        }
    }

    /// `st` with `status` and the diagonal fallback matrix from G2 so far.
    fn failed(&self, st: &State, status: ErrStatus) -> State {
        State {
            v: diag_fallback(&self.g2, self.prec.eps2),
            status,
            dcovar: 1.0,
            nfcn: self.ctx.calls(),
            ..st.clone()
        }
    }
}

/// Minuit2's HessianGradientCalculator: central differences with steps
/// shrinking by 5 until the first derivative settles.
fn refine_gradient(
    ctx: &mut Ctx,
    x0: &Vector,
    fcnmin: f64,
    grd: &mut Vector,
    g2: &Vector,
    gstep: &mut Vector,
    strat: &Strategy,
) {
    let prec = *ctx.trafo.precision();
    let dfmin = 4.0 * prec.eps2 * (fcnmin.abs() + ctx.up);
    let mut x = x0.clone();
    for i in 0..x.len() {
        let xtf = x[i];
        // (sic: Minuit2 takes no absolute value of x here)
        let dmin = 4.0 * prec.eps2 * (xtf + prec.eps2);
        let epspri = prec.eps2 + (grd[i] * prec.eps2).abs();
        let optstp = (dfmin / (g2[i].abs() + epspri)).sqrt();
        let mut d = 0.2 * gstep[i].abs();
        if d > optstp {
            d = optstp;
        }
        if d < dmin {
            d = dmin;
        }
        let mut chgold = 10000.0;
        for j in 0..strat.hess_grad_ncycles {
            let (fs1, fs2) = central_pair(ctx, &mut x, i, xtf, d);
            let grdold = grd[i];
            let grdnew = (fs1 - fs2) / (2.0 * d);
            let dgmin = prec.eps * (fs1.abs() + fs2.abs()) / d;
            if grdnew == 0.0 {
                break;
            }
            let change = ((grdold - grdnew) / grdnew).abs();
            if change > chgold && j > 1 {
                break;
            }
            chgold = change;
            grd[i] = grdnew;
            gstep[i] = d;
            if change < 0.05 || (grdold - grdnew).abs() < dgmin || d < dmin || change.is_nan() {
                break;
            }
            d *= 0.2;
        }
    }
}

fn ctx_params_limited(trafo: &Transform, i: usize) -> bool {
    trafo
        .params()
        .get(i)
        .map(|p| p.lower.is_some() || p.upper.is_some())
        .unwrap_or(false)
}

/// The internal Hessian at x from exact derivatives: the Fcn's Hessian when
/// it gives one (one ngrad), else central differences of the exact gradient
/// (two gradient calls per free parameter).
pub fn exact_hessian(ctx: &mut Ctx, x: &Vector, g: &Vector) -> Option<Matrix> {
    if let Some(h) = ctx.hessian(x, g) {
        return Some(h);
    }
    let n = x.len();
    let mut h = Matrix::zeros(n, n);
    let mut xx = x.clone();
    for i in 0..n {
        let step = f64::EPSILON.cbrt() * x[i].abs().max(1.0);
        xx[i] = x[i] + step;
        let gp = ctx.gradient(&xx);
        xx[i] = x[i] - step;
        let gm = ctx.gradient(&xx);
        xx[i] = x[i];
        for j in 0..n {
            h[(j, i)] = (gp[j] - gm[j]) / (2.0 * step);
        }
    }
    let h = (&h + h.transpose()) * 0.5;
    if h.iter().all(|v| v.is_finite()) {
        Some(h)
    } else {
        None
    }
}

/// HESSE from exact derivatives at state `st` (the gradient is reused when
/// it is exact).
pub fn hesse_exact(ctx: &mut Ctx, st: &State) -> State {
    let prec = *ctx.trafo.precision();
    let g = if st.grad.analytical {
        st.grad.g.clone()
    } else {
        ctx.gradient(&st.x)
    };
    let Some(h) = exact_hessian(ctx, &st.x, &g) else {
        return State {
            status: ErrStatus::HesseFailed,
            nfcn: ctx.calls(),
            ..st.clone()
        };
    };
    let new = state_from_hessian(
        &st.x,
        st.fval,
        g,
        h,
        st.grad.gstep.clone(),
        &prec,
        ctx.calls(),
    );
    if new.status == ErrStatus::HesseFailed {
        // a failed HESSE keeps the state's EDM (MnHesse)
        return State { edm: st.edm, ..new };
    }
    new
}

/// A state whose inverse Hessian comes from the Hessian `h` (made positive
/// definite if needed). A parameter without curvature (a zero diagonal
/// element) fails as Minuit2's numerical HESSE does ("2nd derivative zero"):
/// status HesseFailed with the diagonal fallback matrix.
pub fn state_from_hessian(
    x: &Vector,
    fval: f64,
    g: Vector,
    h: Matrix,
    gstep: Vector,
    prec: &super::transform::Precision,
    nfcn: usize,
) -> State {
    let n = x.len();
    let g2 = Vector::from_iterator(n, (0..n).map(|i| h[(i, i)]));
    let grad = Grad {
        g,
        g2,
        gstep,
        analytical: true,
    };
    if super::saddle::zero_curvature(&h) {
        let v = diag_fallback(&grad.g2, prec.eps2);
        let e = edm(&grad.g, &v);
        return State {
            x: x.clone(),
            fval,
            grad,
            v,
            dcovar: 1.0,
            status: ErrStatus::HesseFailed,
            edm: e,
            nfcn,
        };
    }
    let (pd, what) = make_pos_def(&h, prec);
    let Some(inv) = invert(&pd) else {
        return State {
            x: x.clone(),
            fval,
            v: diag_fallback(&grad.g2, prec.eps2),
            grad,
            dcovar: 1.0,
            status: ErrStatus::InvertFailed,
            edm: f64::NAN,
            nfcn,
        };
    };
    let (status, dcovar) = if what == PosDefOutcome::Made {
        (ErrStatus::MadePosDef, 1.0)
    } else {
        (ErrStatus::PosDef, 0.0)
    };
    let e = edm(&grad.g, &inv);
    State {
        x: x.clone(),
        fval,
        grad,
        v: inv,
        dcovar,
        status,
        edm: e,
        nfcn,
    }
}

/// HESSE after a minimization: returns a copy of `min` with the new
/// errors, covariance and flags, and the value and gradient calls used.
/// `numeric` selects Minuit2's finite differences; otherwise the exact
/// derivatives of the Fcn are used (when it has them).
pub fn hesse(
    fcn: &mut dyn Fcn,
    params: &[ParamSpec],
    min: &FunctionMinimum,
    numeric: bool,
) -> (FunctionMinimum, usize, usize) {
    let trafo = Transform::new(params);
    if trafo.n_free() == 0 || min.internal.x.len() != trafo.n_free() {
        return (min.clone(), 0, 0);
    }
    let strat = Strategy::new(min.internal.strategy);
    let exact = !numeric && fcn.has_gradient();
    let mut ctx = Ctx::new(fcn, trafo.clone(), min.errordef);
    let mut st = state_from_minimum(min, exact && min.ngrad > 0);
    if !exact && (st.grad.gstep.iter().all(|&s| s == 0.0) || min.ngrad > 0) {
        // no usable numerical gradient: start from the declared errors
        let g = numerical_gradient_fresh(&mut ctx, &st.x, st.fval, &strat);
        st.grad = g;
    }
    let new = if exact {
        hesse_exact(&mut ctx, &st)
    } else {
        hesse_numeric(&mut ctx, &st, &strat, 0)
    };
    let (nf, ng) = (ctx.nfcn, ctx.ngrad);
    if new.status == ErrStatus::Unset {
        // no matrix: the minimum stays as it was (iminuit's update_fmin)
        return (min.clone(), nf, ng);
    }
    // iminuit's update_fmin: the EDM of the new matrix decides again
    // whether the minimum is above the EDM limit (as MIGRAD's last step
    // does), and a HESSE that ran out of calls says so
    let end = if new.edm > 10.0 * min.edm_goal {
        EndStatus::AboveMaxEdm
    } else if new.status == ErrStatus::CallLimit {
        EndStatus::CallLimit
    } else {
        EndStatus::Ok
    };
    let mut out = to_function_minimum(
        &trafo,
        &new,
        end,
        min.errordef,
        min.edm_goal,
        min.nfcn,
        min.ngrad,
        min.internal.strategy,
        min.internal.tol,
    );
    if ctx.saw_nan {
        out.valid = false;
    }
    (out, nf, ng)
}
