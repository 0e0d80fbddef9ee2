//! MIGRAD, Minuit2's variable-metric minimizer (VariableMetricBuilder):
//! Newton steps -V g with a line search, the Davidon update of the inverse
//! Hessian V, the EDM convergence test with goal 0.002 * tol * errordef, a
//! HESSE check of the matrix when it changed too much (always at strategy
//! 2), and iminuit's retries at strategy 2 when the first result is invalid.

use super::hesse::{exact_hessian, hesse_exact, hesse_numeric};
use super::linesearch::line_search;
use super::numgrad::numerical_gradient;
use super::posdef::pos_def_error;
use super::saddle;
use super::seed::{seed_exact, seed_numeric};
use super::state::{
    edm, to_function_minimum, Ctx, EndStatus, ErrStatus, Grad, State, Strategy, Vector,
};
use super::transform::Transform;
use super::{Fcn, FunctionMinimum, Matrix, MigradOptions, ParamSpec};

/// Minuit2's default call limit for n free parameters.
pub fn default_ncall(n: usize) -> usize {
    200 + 100 * n + 5 * n * n
}

/// Sum of absolute values over the lower triangle (Minuit2 sums its packed
/// symmetric storage).
fn sum_abs_lower(m: &Matrix) -> f64 {
    let mut s = 0.0;
    for i in 0..m.nrows() {
        for j in 0..=i {
            s += m[(i, j)].abs();
        }
    }
    s
}

/// The Davidon (rank-one/rank-two switching) update of the inverse Hessian;
/// returns the new matrix and dcovar.
pub fn davidon_update(
    v0: &Matrix,
    dcovar0: f64,
    dx: &Vector,
    dg: &Vector,
) -> Option<(Matrix, f64)> {
    let delgam = dx.dot(dg);
    let vg = v0 * dg;
    let gvg = dg.dot(&vg);
    if delgam == 0.0 || gvg <= 0.0 || !delgam.is_finite() || !gvg.is_finite() {
        return None;
    }
    let mut upd = dx * dx.transpose() / delgam - &vg * vg.transpose() / gvg;
    if delgam > gvg {
        let flnu = dx / delgam - &vg / gvg;
        upd += &flnu * flnu.transpose() * gvg;
    }
    let sum_upd = sum_abs_lower(&upd);
    let v1 = v0 + upd;
    let dcov = 0.5 * (dcovar0 + sum_upd / sum_abs_lower(&v1));
    Some((v1, dcov))
}

/// The gradient at a new point: numerical (from the previous one) or exact.
fn compute_gradient(
    ctx: &mut Ctx,
    x: &Vector,
    f: f64,
    prev: &Grad,
    strat: &Strategy,
    exact: bool,
) -> Grad {
    if exact {
        Grad {
            g: ctx.gradient(x),
            g2: prev.g2.clone(),
            gstep: prev.gstep.clone(),
            analytical: true,
        }
    } else {
        numerical_gradient(ctx, x, f, prev, strat)
    }
}

/// The iterations proper, from `s0`; returns the last state and how they
/// ended.
fn iterate(
    ctx: &mut Ctx,
    start: &State,
    maxfcn: usize,
    edmval: f64,
    strat: &Strategy,
    exact: bool,
) -> (State, EndStatus) {
    let prec = *ctx.trafo.precision();
    let mut s0 = start.clone();
    let mut edm_c = s0.edm * (1.0 + 3.0 * s0.dcovar);
    // do-while, as VariableMetricBuilder: at least one step is taken even
    // when the starting point already meets the EDM goal
    loop {
        let mut step = -(&s0.v * &s0.grad.g);
        if s0.grad.g.dot(&s0.grad.g) <= 0.0 {
            break;
        }
        let mut gdel = step.dot(&s0.grad.g);
        if gdel > 0.0 {
            let (v, st, dc) = pos_def_error(&s0.v, s0.status, s0.dcovar, &prec);
            s0.v = v;
            s0.status = st;
            s0.dcovar = dc;
            step = -(&s0.v * &s0.grad.g);
            gdel = step.dot(&s0.grad.g);
            if gdel > 0.0 {
                return (s0, EndStatus::Ok);
            }
        }
        if gdel.is_nan() {
            let mut s = s0.clone();
            s.edm = f64::NAN;
            return (s, EndStatus::Ok);
        }
        let (a, fa) = line_search(ctx, &s0.x, s0.fval, &step, gdel, &prec);
        if (fa - s0.fval).abs() <= s0.fval.abs() * prec.eps || fa.is_nan() {
            // no improvement: keep the current state
            return finish(ctx, s0, edm_c, edmval, maxfcn, &prec);
        }
        let x1 = &s0.x + &step * a;
        let g1 = compute_gradient(ctx, &x1, fa, &s0.grad, strat, exact);
        let mut e = edm(&g1.g, &s0.v);
        if e.is_nan() {
            let mut s = s0.clone();
            s.edm = f64::NAN;
            return (s, EndStatus::Ok);
        }
        if e < 0.0 {
            let (v, st, dc) = pos_def_error(&s0.v, s0.status, s0.dcovar, &prec);
            s0.v = v;
            s0.status = st;
            s0.dcovar = dc;
            e = edm(&g1.g, &s0.v);
            if e < 0.0 {
                return (s0, EndStatus::Ok);
            }
        }
        let dx = &x1 - &s0.x;
        let dg = &g1.g - &s0.grad.g;
        let (v1, dcov, status) = match davidon_update(&s0.v, s0.dcovar, &dx, &dg) {
            Some((v, d)) => (v, d, ErrStatus::PosDef),
            None => (s0.v.clone(), s0.dcovar, s0.status),
        };
        s0 = State {
            x: x1,
            fval: fa,
            grad: g1,
            v: v1,
            dcovar: dcov,
            status,
            edm: e,
            nfcn: ctx.calls(),
        };
        edm_c = e * (1.0 + 3.0 * dcov);
        if !(edm_c > edmval && ctx.calls() < maxfcn) {
            break;
        }
    }
    finish(ctx, s0, edm_c, edmval, maxfcn, &prec)
}

fn finish(
    ctx: &Ctx,
    s: State,
    edm_c: f64,
    edmval: f64,
    maxfcn: usize,
    prec: &super::transform::Precision,
) -> (State, EndStatus) {
    if ctx.calls() >= maxfcn {
        return (s, EndStatus::CallLimit);
    }
    if edm_c > edmval {
        if edm_c < 10.0 * edmval || edm_c < (prec.eps2 * s.fval).abs() {
            return (s, EndStatus::Ok);
        }
        return (s, EndStatus::AboveMaxEdm);
    }
    (s, EndStatus::Ok)
}

/// One MIGRAD run (Minuit2's MnMigrad call) from internal point x0 with an
/// optional known inverse Hessian; the call count of the run starts at 0.
pub fn run_migrad(
    ctx: &mut Ctx,
    x0: &Vector,
    cov: Option<&Matrix>,
    strat: &Strategy,
    maxfcn: usize,
    tol: f64,
    exact: bool,
) -> (State, EndStatus) {
    ctx.base = ctx.nfcn;
    let prec = *ctx.trafo.precision();
    let effective = (tol * ctx.up).max(prec.eps2);
    let edmval = effective * 0.002;
    let seed = if exact {
        seed_exact(ctx, x0, cov, strat)
    } else {
        seed_numeric(ctx, x0, cov, strat)
    };
    if x0.is_empty() {
        return (seed, EndStatus::Ok);
    }
    if ctx.calls() >= maxfcn {
        return (seed, EndStatus::CallLimit);
    }
    if seed.edm < 0.0 {
        // VariableMetricBuilder: "Initial matrix not pos.def." -- the seed
        // (status NotPosDef) is returned as the minimum, which iminuit shows
        // as INVALID (negative EDM) with "Hesse FAILED" and "Covariance NOT
        // pos. def."
        return (seed, EndStatus::Ok);
    }
    // a seed whose strategy-2 HESSE failed still starts the iterations (its
    // matrix is HESSE's diagonal fallback), as in the Minuit2 of iminuit
    // 2.33; only a seed without a usable value or EDM ends the fit here
    if !seed.fval.is_finite() || seed.edm.is_nan() {
        return (seed, EndStatus::Ok);
    }
    let mut maxfcn_eff = maxfcn;
    let mut ipass = 0;
    let mut current = seed;
    let mut end;
    let mut edm_now;
    loop {
        let mut again = false;
        let (st, status) = iterate(ctx, &current, maxfcn_eff, edmval, strat, exact);
        current = st;
        end = status;
        if end == EndStatus::CallLimit {
            return (current, end);
        }
        if ipass > 0 && !(current.is_valid() && end == EndStatus::Ok) {
            return (current, end);
        }
        edm_now = current.edm;
        if current.dcovar > strat.hessian_recompute_threshold() {
            let mut hs = *strat;
            hs.hess_force_posdef = true;
            let st = if exact {
                hesse_exact(ctx, &current)
            } else {
                hesse_numeric(ctx, &current, &hs, maxfcn)
            };
            current = st;
            if !current.is_valid() {
                break;
            }
            edm_now = current.edm;
            if edm_now > edmval {
                let machine_limit = (prec.eps2 * current.fval).abs();
                if edm_now >= machine_limit {
                    again = true;
                }
            }
        }
        if ipass == 0 {
            maxfcn_eff = (maxfcn as f64 * 1.3) as usize;
        }
        ipass += 1;
        if !again {
            break;
        }
    }
    if edm_now > 10.0 * edmval {
        return (current, EndStatus::AboveMaxEdm);
    }
    if current.status == ErrStatus::CallLimit {
        return (current, EndStatus::CallLimit);
    }
    if current.status != ErrStatus::Unset {
        return (current, EndStatus::Ok);
    }
    (current, end)
}

/// MIGRAD as iminuit runs it: one MnMigrad call at the requested strategy,
/// then, while the minimum is invalid without having hit the call limit, up
/// to four more at strategy 2 from the last state (iminuit also runs
/// SIMPLEX before each retry; that is left out here). Numeric mode
/// (`opts.numeric_grad` or an Fcn without gradient) reproduces Minuit2's
/// numerical derivatives and call counts; otherwise the exact gradient and
/// Hessian are used.
pub fn migrad(fcn: &mut dyn Fcn, params: &[ParamSpec], opts: &MigradOptions) -> FunctionMinimum {
    let exact = !opts.numeric_grad && fcn.has_gradient();
    let trafo = Transform::new(params);
    let n = trafo.n_free();
    let maxfcn = opts.ncall.filter(|&c| c > 0).unwrap_or(default_ncall(n));
    let edm_goal = 0.002 * opts.tol * opts.errordef;
    let mut ctx = Ctx::new(fcn, trafo.clone(), opts.errordef);
    let strat = Strategy::new(opts.strategy);
    let x0 = Vector::from_vec(trafo.initial_internal());
    let (mut st, mut end) = run_migrad(&mut ctx, &x0, None, &strat, maxfcn, opts.tol, exact);
    let mut tries = 5;
    let mut cur_trafo = trafo.clone();
    // iminuit retries while Minuit2's FunctionMinimum::IsValid is false; a
    // seed whose matrix is not positive definite counts as valid there (only
    // iminuit's own negative-EDM check calls it invalid), so it ends the fit
    while (!st.is_valid() || end != EndStatus::Ok)
        && !ctx.saw_nan
        && end != EndStatus::CallLimit
        && tries > 1
        && n > 0
        && st.fval.is_finite()
    {
        // restart from the last state with its errors as steps
        let fm = to_function_minimum(
            &cur_trafo,
            &st,
            end,
            opts.errordef,
            edm_goal,
            0,
            0,
            2,
            opts.tol,
        );
        let mut p2 = params.to_vec();
        for (i, p) in p2.iter_mut().enumerate() {
            p.value = fm.values[i];
            if !p.fixed && fm.errors[i] >= 0.0 && fm.errors[i].is_finite() {
                p.error = fm.errors[i];
            }
        }
        // iminuit interleaves SIMPLEX before each retry (`use_simplex=True`):
        // a pathological case is better restarted from where SIMPLEX goes.
        let sm = super::simplex::simplex(&mut *ctx.fcn, &p2, opts.tol, Some(maxfcn), opts.errordef);
        ctx.nfcn += sm.nfcn;
        ctx.ngrad += sm.ngrad;
        if sm.fval.is_nan() {
            ctx.saw_nan = true;
            break;
        }
        for (i, p) in p2.iter_mut().enumerate() {
            p.value = sm.values[i];
            if !p.fixed && sm.errors[i] >= 0.0 && sm.errors[i].is_finite() {
                p.error = sm.errors[i];
            }
        }
        cur_trafo = Transform::new(&p2);
        ctx.set_trafo(cur_trafo.clone());
        let x = Vector::from_vec(cur_trafo.initial_internal());
        let cov: Option<Matrix> = None;
        let s2 = Strategy::new(2);
        let r = run_migrad(&mut ctx, &x, cov.as_ref(), &s2, maxfcn, opts.tol, exact);
        st = r.0;
        end = r.1;
        tries -= 1;
    }
    let mut saddle = false;
    if exact && n > 0 {
        (st, end, saddle) = leave_saddles(&mut ctx, st, end, &strat, maxfcn, opts.tol);
    }
    let mut fm = to_function_minimum(
        &cur_trafo,
        &st,
        end,
        opts.errordef,
        edm_goal,
        ctx.nfcn,
        ctx.ngrad,
        opts.strategy,
        opts.tol,
    );
    if ctx.saw_nan {
        // a NaN objective value anywhere makes the fit invalid
        fm.valid = false;
    }
    if saddle {
        fm.saddle = true;
        fm.valid = false;
    }
    fm
}

/// Autograd mode: where MIGRAD converged with a matrix that had to be
/// forced positive definite, the exact Hessian is asked whether the point
/// is a saddle; a saddle is left along its direction of negative curvature
/// and MIGRAD goes on from there (at most `MAX_ESCAPES` times). Returns the
/// final state and whether it is a saddle that could not be left. A matrix
/// that is positive definite as computed needs no check (and costs no
/// extra Hessian).
fn leave_saddles(
    ctx: &mut Ctx,
    mut st: State,
    mut end: EndStatus,
    strat: &Strategy,
    maxfcn: usize,
    tol: f64,
) -> (State, EndStatus, bool) {
    let prec = *ctx.trafo.precision();
    for round in 0..=saddle::MAX_ESCAPES {
        let suspect = matches!(st.status, ErrStatus::MadePosDef | ErrStatus::NotPosDef);
        if !(suspect && st.is_valid() && end == EndStatus::Ok && st.edm >= 0.0) {
            return (st, end, false);
        }
        let g = if st.grad.analytical {
            st.grad.g.clone()
        } else {
            ctx.gradient(&st.x)
        };
        let Some(h) = exact_hessian(ctx, &st.x, &g) else {
            return (st, end, false);
        };
        let Some((d, c)) = saddle::negative_curvature(&h, &prec) else {
            return (st, end, false);
        };
        if round == saddle::MAX_ESCAPES {
            break;
        }
        let Some((x1, _)) = saddle::leave(ctx, &st.x, st.fval, &g, &d, c) else {
            return (st, end, true);
        };
        (st, end) = run_migrad(ctx, &x1, None, strat, maxfcn, tol, true);
    }
    (st, end, true)
}
