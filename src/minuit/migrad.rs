//! MIGRAD, Minuit2's variable-metric minimizer (VariableMetricBuilder):
//! Newton steps -V g with a line search, the Davidon update of the inverse
//! Hessian V, the EDM convergence test with goal 0.002 * tol * errordef, a
//! HESSE check of the matrix when it changed too much (always at strategy
//! 2), and iminuit's retries at strategy 2 when the first result is invalid.

use std::ops::ControlFlow::{self, Break, Continue};

use super::hesse::{exact_hessian, hesse_exact, hesse_numeric};
use super::linesearch::line_search;
use super::numgrad::numerical_gradient;
use super::posdef::pos_def_error;
use super::saddle;
use super::seed::{seed_exact, seed_numeric};
use super::state::{
    edm, to_function_minimum, Ctx, EndStatus, ErrStatus, Grad, State, Strategy, Vector,
};
use super::transform::{Precision, Transform};
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
    // dx dx^T / delgam - vg vg^T / gvg (+ gvg flnu flnu^T when delgam > gvg,
    // flnu = dx / delgam - vg / gvg), element by element into one matrix
    let rank_two = delgam > gvg;
    let flnu = |i: usize| dx[i] / delgam - vg[i] / gvg;
    let mut upd = Matrix::from_fn(dx.len(), dx.len(), |i, j| {
        let u = dx[i] * dx[j] / delgam - vg[i] * vg[j] / gvg;
        if rank_two {
            u + flnu(i) * flnu(j) * gvg
        } else {
            u
        }
    });
    let sum_upd = sum_abs_lower(&upd);
    upd += v0;
    let dcov = 0.5 * (dcovar0 + sum_upd / sum_abs_lower(&upd));
    Some((upd, dcov))
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

/// How one variable-metric step ended.
enum Step {
    /// A new point, with the updated matrix.
    Moved(State),
    /// No way forward from this state (no gradient, or the line search
    /// found no improvement): the iterations end with the usual checks.
    Stuck(State),
    /// The iterations end here as they are (Minuit2 returns at once).
    Done(State),
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
        s0 = match variable_metric_step(ctx, s0, strat, exact, &prec) {
            Step::Moved(s1) => s1,
            Step::Stuck(s) => return finish(ctx, s, edm_c, edmval, maxfcn, &prec),
            Step::Done(s) => return (s, EndStatus::Ok),
        };
        edm_c = s0.edm * (1.0 + 3.0 * s0.dcovar);
        if !(edm_c > edmval && ctx.calls() < maxfcn) {
            break;
        }
    }
    finish(ctx, s0, edm_c, edmval, maxfcn, &prec)
}

/// One step of VariableMetricBuilder from `s0`: the Newton direction -V g
/// (downhill, with V made positive definite if needed), the line search
/// along it, the gradient there and the Davidon update of V.
fn variable_metric_step(
    ctx: &mut Ctx,
    mut s0: State,
    strat: &Strategy,
    exact: bool,
    prec: &Precision,
) -> Step {
    let mut step = &s0.v * &s0.grad.g;
    step.neg_mut();
    if s0.grad.g.dot(&s0.grad.g) <= 0.0 {
        return Step::Stuck(s0);
    }
    let mut gdel = step.dot(&s0.grad.g);
    if gdel > 0.0 {
        force_pos_def(&mut s0, prec);
        step = -(&s0.v * &s0.grad.g);
        gdel = step.dot(&s0.grad.g);
        if gdel > 0.0 {
            return Step::Done(s0);
        }
    }
    if gdel.is_nan() {
        return Step::Done(State {
            edm: f64::NAN,
            ..s0
        });
    }
    let (a, fa) = line_search(ctx, &s0.x, s0.fval, &step, gdel, prec);
    if (fa - s0.fval).abs() <= s0.fval.abs() * prec.eps || fa.is_nan() {
        // no improvement: keep the current state
        return Step::Stuck(s0);
    }
    let mut x1 = step * a;
    x1 += &s0.x;
    let g1 = compute_gradient(ctx, &x1, fa, &s0.grad, strat, exact);
    let mut e = edm(&g1.g, &s0.v);
    if e.is_nan() {
        return Step::Done(State {
            edm: f64::NAN,
            ..s0
        });
    }
    if e < 0.0 {
        force_pos_def(&mut s0, prec);
        e = edm(&g1.g, &s0.v);
        if e < 0.0 {
            return Step::Done(s0);
        }
    }
    let dx = &x1 - &s0.x;
    let dg = &g1.g - &s0.grad.g;
    let (v1, dcov, status) = match davidon_update(&s0.v, s0.dcovar, &dx, &dg) {
        Some((v, d)) => (v, d, ErrStatus::PosDef),
        None => (s0.v.clone(), s0.dcovar, s0.status),
    };
    Step::Moved(State {
        x: x1,
        fval: fa,
        grad: g1,
        v: v1,
        dcovar: dcov,
        status,
        edm: e,
        nfcn: ctx.calls(),
    })
}

/// `s.v` made positive definite (MnPosDef), with its status and dcovar.
fn force_pos_def(s: &mut State, prec: &Precision) {
    let (v, st, dc) = pos_def_error(&s.v, s.status, s.dcovar, prec);
    s.v = v;
    s.status = st;
    s.dcovar = dc;
}

fn finish(
    ctx: &Ctx,
    s: State,
    edm_c: f64,
    edmval: f64,
    maxfcn: usize,
    prec: &Precision,
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
    if let Some(end) = seed_ends_fit(ctx, x0, &seed, maxfcn) {
        return (seed, end);
    }
    let pass = Passes {
        strat,
        maxfcn,
        edmval,
        exact,
        prec,
    };
    let (current, end, edm_now) = match pass.run(ctx, seed) {
        Continue(done) => done,
        Break(early) => return early,
    };
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

/// When the seed is already the result: how the fit ends.
fn seed_ends_fit(ctx: &Ctx, x0: &Vector, seed: &State, maxfcn: usize) -> Option<EndStatus> {
    if x0.is_empty() {
        return Some(EndStatus::Ok);
    }
    if ctx.calls() >= maxfcn {
        return Some(EndStatus::CallLimit);
    }
    if seed.edm < 0.0 {
        // VariableMetricBuilder: "Initial matrix not pos.def." -- the seed
        // (status NotPosDef) is returned as the minimum, which iminuit shows
        // as INVALID (negative EDM) with "Hesse FAILED" and "Covariance NOT
        // pos. def."
        return Some(EndStatus::Ok);
    }
    // a seed whose strategy-2 HESSE failed still starts the iterations (its
    // matrix is HESSE's diagonal fallback), as in the Minuit2 of iminuit
    // 2.33; only a seed without a usable value or EDM ends the fit here
    if !seed.fval.is_finite() || seed.edm.is_nan() {
        return Some(EndStatus::Ok);
    }
    None
}

/// VariableMetricBuilder's passes: iterations, then a HESSE check of the
/// matrix when it changed too much, and another pass when that moved the
/// EDM above the goal.
struct Passes<'s> {
    strat: &'s Strategy,
    maxfcn: usize,
    edmval: f64,
    exact: bool,
    prec: Precision,
}

impl Passes<'_> {
    /// The last state, how it ended and its EDM; `Break` is a result that
    /// skips the final checks (a call limit, a failed later pass).
    fn run(
        &self,
        ctx: &mut Ctx,
        seed: State,
    ) -> ControlFlow<(State, EndStatus), (State, EndStatus, f64)> {
        let mut maxfcn_eff = self.maxfcn;
        let mut ipass = 0;
        let mut current = seed;
        loop {
            let (st, end) = iterate(
                ctx,
                &current,
                maxfcn_eff,
                self.edmval,
                self.strat,
                self.exact,
            );
            current = st;
            if end == EndStatus::CallLimit {
                return Break((current, end));
            }
            if ipass > 0 && !(current.is_valid() && end == EndStatus::Ok) {
                return Break((current, end));
            }
            let mut edm_now = current.edm;
            let mut again = false;
            if current.dcovar > self.strat.hessian_recompute_threshold() {
                current = self.hesse(ctx, &current);
                if !current.is_valid() {
                    return Continue((current, end, edm_now));
                }
                edm_now = current.edm;
                again = edm_now > self.edmval && edm_now >= (self.prec.eps2 * current.fval).abs();
            }
            if ipass == 0 {
                maxfcn_eff = (self.maxfcn as f64 * 1.3) as usize;
            }
            ipass += 1;
            if !again {
                return Continue((current, end, edm_now));
            }
        }
    }

    /// HESSE at `current`, forced positive definite.
    fn hesse(&self, ctx: &mut Ctx, current: &State) -> State {
        let mut hs = *self.strat;
        hs.hess_force_posdef = true;
        if self.exact {
            hesse_exact(ctx, current)
        } else {
            hesse_numeric(ctx, current, &hs, self.maxfcn)
        }
    }
}

/// MIGRAD as iminuit runs it: one MnMigrad call at the requested strategy,
/// then, while the minimum is invalid without having hit the call limit, up
/// to four more at strategy 2 from the last state, each after a SIMPLEX
/// (iminuit's `use_simplex=True`). Numeric mode (`opts.numeric_grad` or an
/// Fcn without gradient) reproduces Minuit2's numerical derivatives and
/// call counts; otherwise the exact gradient and Hessian are used.
pub fn migrad(fcn: &mut dyn Fcn, params: &[ParamSpec], opts: &MigradOptions) -> FunctionMinimum {
    let exact = !opts.numeric_grad && fcn.has_gradient();
    let trafo = Transform::new(params);
    let n = trafo.n_free();
    let fit = Fit {
        params,
        opts,
        maxfcn: opts.ncall.filter(|&c| c > 0).unwrap_or(default_ncall(n)),
        edm_goal: 0.002 * opts.tol * opts.errordef,
        exact,
    };
    let mut ctx = Ctx::new(fcn, trafo.clone(), opts.errordef);
    let strat = Strategy::new(opts.strategy);
    let x0 = Vector::from_vec(trafo.initial_internal());
    let (mut st, mut end) = run_migrad(&mut ctx, &x0, None, &strat, fit.maxfcn, opts.tol, exact);
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
        let Some((t, r)) = fit.retry(&mut ctx, &cur_trafo, &st, end) else {
            break;
        };
        cur_trafo = t;
        (st, end) = r;
        tries -= 1;
    }
    let mut saddle = false;
    if exact && n > 0 {
        (st, end, saddle) = leave_saddles(&mut ctx, st, end, &strat, fit.maxfcn, opts.tol);
    }
    let mut fm = fit.minimum(&cur_trafo, &st, end, (ctx.nfcn, ctx.ngrad), opts.strategy);
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

/// What every MnMigrad call of one `migrad` shares.
struct Fit<'a> {
    params: &'a [ParamSpec],
    opts: &'a MigradOptions,
    maxfcn: usize,
    edm_goal: f64,
    exact: bool,
}

impl Fit<'_> {
    /// The FunctionMinimum of state `st` (with these call counts).
    fn minimum(
        &self,
        trafo: &Transform,
        st: &State,
        end: EndStatus,
        (nfcn, ngrad): (usize, usize),
        strategy: u32,
    ) -> FunctionMinimum {
        let o = self.opts;
        to_function_minimum(
            trafo,
            st,
            end,
            o.errordef,
            self.edm_goal,
            nfcn,
            ngrad,
            strategy,
            o.tol,
        )
    }

    /// One retry: SIMPLEX from the last state with its errors as steps,
    /// then MnMigrad at strategy 2 from where SIMPLEX goes (a pathological
    /// case is better restarted from there). None when SIMPLEX met a NaN.
    fn retry(
        &self,
        ctx: &mut Ctx,
        trafo: &Transform,
        st: &State,
        end: EndStatus,
    ) -> Option<(Transform, (State, EndStatus))> {
        let opts = self.opts;
        let fm = self.minimum(trafo, st, end, (0, 0), 2);
        let mut p2 = self.params.to_vec();
        move_to(&mut p2, &fm.values, &fm.errors);
        let sm = super::simplex::simplex(
            &mut *ctx.fcn,
            &p2,
            opts.tol,
            Some(self.maxfcn),
            opts.errordef,
        );
        ctx.nfcn += sm.nfcn;
        ctx.ngrad += sm.ngrad;
        if sm.fval.is_nan() {
            ctx.saw_nan = true;
            return None;
        }
        move_to(&mut p2, &sm.values, &sm.errors);
        let t = Transform::new(&p2);
        ctx.set_trafo(t.clone());
        let x = Vector::from_vec(t.initial_internal());
        let r = run_migrad(
            ctx,
            &x,
            None,
            &Strategy::new(2),
            self.maxfcn,
            opts.tol,
            self.exact,
        );
        Some((t, r))
    }
}

/// The parameters moved to `values`, with `errors` as steps where usable.
fn move_to(params: &mut [ParamSpec], values: &[f64], errors: &[f64]) {
    for (i, p) in params.iter_mut().enumerate() {
        p.value = values[i];
        if !p.fixed && errors[i] >= 0.0 && errors[i].is_finite() {
            p.error = errors[i];
        }
    }
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
