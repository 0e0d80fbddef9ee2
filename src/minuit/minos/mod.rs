//! MINOS (Minuit2's MnMinos with MnFunctionCross): for one parameter, the
//! values where the function minimized over the other parameters rises by
//! errordef above the minimum, found by MIGRAD fits with that parameter
//! fixed at trial values chosen by straight lines and then parabolas
//! through the fitted points. This file sets the searches up (MnMinos);
//! `cross` is the search itself (MnFunctionCross), shared with the contours.

use super::migrad::run_migrad;
use super::state::{Ctx, EndStatus, Strategy, Vector};
use super::transform::Transform;
use super::{Fcn, FunctionMinimum, Matrix, MinosError, ParamSpec};

mod cross;
pub(crate) use cross::function_cross;

/// How a crossing search ended (Minuit2's MnCross).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cross {
    Valid(f64),
    ParLimit,
    FcnLimit,
    NewMin,
    Invalid,
}

/// The parameters and matrix an inner MIGRAD continues from (MnMigrad's
/// state between calls), with the parameters MnFunctionCross moves fixed.
pub(crate) struct Inner {
    pub(crate) params: Vec<ParamSpec>,
    pub(crate) cov: Option<Matrix>,
    /// External indices of the fixed parameters the crossing moves.
    pub(crate) pars: Vec<usize>,
    pub(crate) strat: Strategy,
    pub(crate) maxcalls: usize,
    pub(crate) tol: f64,
    pub(crate) exact: bool,
}

/// What a crossing search needs of one inner fit.
pub(crate) struct InnerResult {
    pub(crate) fval: f64,
    pub(crate) valid: bool,
    pub(crate) call_limit: bool,
}

impl Inner {
    /// The inner state at a minimum: every parameter at its fitted value
    /// and error, `pars` fixed (their rows squeezed out of the matrix).
    pub(crate) fn at_minimum(
        params: &[ParamSpec],
        min: &FunctionMinimum,
        pars: &[usize],
        strat: Strategy,
        tol: f64,
        exact: bool,
    ) -> Inner {
        let trafo = Transform::new(params);
        let mut upar = params_at_minimum(params, min);
        let mut ints: Vec<usize> = pars.iter().filter_map(|&p| trafo.int_of_ext(p)).collect();
        for &p in pars {
            upar[p].fixed = true;
        }
        let nvar = trafo.n_free();
        let cov = match &min.internal.inv_hessian {
            Some(v) if nvar > ints.len() => {
                ints.sort_unstable();
                squeeze_many(v, &ints)
            }
            _ => None,
        };
        let nfree = nvar.saturating_sub(pars.len());
        Inner {
            params: upar,
            cov,
            pars: pars.to_vec(),
            strat,
            maxcalls: super::migrad::default_ncall(nfree),
            tol,
            exact,
        }
    }

    /// The fit with the moved parameters at `pmid + a * pdir`.
    fn run_line(&mut self, ctx: &mut Ctx, pmid: &[f64], pdir: &[f64], a: f64) -> InnerResult {
        let values: Vec<f64> = pmid.iter().zip(pdir).map(|(m, d)| m + a * d).collect();
        self.run(ctx, &values)
    }

    /// The fit with the moved parameters at `values`; the state (values,
    /// errors, matrix) carries over to the next call as in MnMigrad.
    pub(crate) fn run(&mut self, ctx: &mut Ctx, values: &[f64]) -> InnerResult {
        for (&p, &v) in self.pars.iter().zip(values) {
            self.params[p].value = v;
        }
        let trafo = Transform::new(&self.params);
        ctx.set_trafo(trafo.clone());
        let x0 = Vector::from_vec(trafo.initial_internal());
        let (st, end) = run_migrad(
            ctx,
            &x0,
            self.cov.as_ref(),
            &self.strat,
            self.maxcalls,
            self.tol,
            self.exact,
        );
        let values = trafo.external(st.x.as_slice());
        for (i, &e) in trafo.free_indices().iter().enumerate() {
            self.params[e].value = values[e];
            if st.is_valid() {
                let ierr = (2.0 * ctx.up * st.v[(i, i)]).max(0.0).sqrt();
                let err = trafo.int2ext_error(i, st.x[i], ierr);
                if err > 0.0 && err.is_finite() {
                    self.params[e].error = err;
                }
            }
        }
        self.cov = if st.is_valid() {
            Some(st.v.clone())
        } else {
            None
        };
        InnerResult {
            fval: st.fval,
            valid: st.is_valid() && end == EndStatus::Ok && st.fval.is_finite(),
            call_limit: end == EndStatus::CallLimit,
        }
    }
}

/// Removes row and column k from an inverse Hessian by going through the
/// Hessian (MnCovarianceSqueeze).
fn squeeze(v: &Matrix, k: usize) -> Option<Matrix> {
    squeeze_many(v, &[k])
}

/// `squeeze` for several indices (sorted ascending).
fn squeeze_many(v: &Matrix, ks: &[usize]) -> Option<Matrix> {
    let mut h = super::state::invert(v)?;
    for &k in ks.iter().rev() {
        h = h.remove_row(k).remove_column(k);
    }
    super::state::invert(&h)
}

/// The user parameters at the minimum: fitted values, and the fitted
/// errors as steps where they are usable.
fn params_at_minimum(params: &[ParamSpec], min: &FunctionMinimum) -> Vec<ParamSpec> {
    let mut upar: Vec<ParamSpec> = params.to_vec();
    for (i, q) in upar.iter_mut().enumerate() {
        q.value = min.values[i];
        if !q.fixed && min.errors[i] > 0.0 && min.errors[i].is_finite() {
            q.error = min.errors[i];
        }
    }
    upar
}

/// MnMinos's first trial for one side: the parameter one error away from
/// its value, not beyond its limit on that side.
fn first_trial(p: &ParamSpec, value: f64, error: f64, direction: f64) -> f64 {
    let mut val = value + direction * error;
    if direction > 0.0 {
        if let Some(u) = p.upper {
            val = val.min(u);
        }
    } else if let Some(l) = p.lower {
        val = val.max(l);
    }
    val
}

/// The user state of the minimum with the other free parameters moved by
/// `shift` (internal, per free index) along the correlation direction, kept
/// inside their limits (MnMinos's start of the inner fits).
fn along_correlation(
    params: &[ParamSpec],
    min: &FunctionMinimum,
    trafo: &Transform,
    ind: usize,
    shift: impl Fn(usize) -> f64,
) -> Vec<ParamSpec> {
    let mut upar = params_at_minimum(params, min);
    let xt = &min.internal.x;
    for (i, &ext) in trafo.free_indices().iter().enumerate() {
        if i == ind {
            continue;
        }
        let xnew = xt[i] + shift(i);
        let mut unew = trafo.int_to_ext(i, xnew);
        if let Some(u) = params[ext].upper {
            unew = unew.min(u);
        }
        if let Some(l) = params[ext].lower {
            unew = unew.max(l);
        }
        if unew.is_finite() {
            upar[ext].value = unew;
        }
    }
    upar
}

/// MnMinos's search on one side (`direction` +1 or -1) of parameter
/// `par`: the inner fits start one error away with the others moved along
/// the correlation, then MnFunctionCross finds the crossing.
#[allow(clippy::too_many_arguments)]
fn find_cross(
    ctx: &mut Ctx,
    params: &[ParamSpec],
    min: &FunctionMinimum,
    par: usize,
    direction: f64,
    strat: &Strategy,
    toler: f64,
    exact: bool,
) -> Cross {
    let trafo = Transform::new(params);
    let Some(ind) = trafo.int_of_ext(par) else {
        return Cross::Invalid;
    };
    let nvar = trafo.n_free();
    let value = min.values[par];
    let val = first_trial(&params[par], value, min.errors[par], direction);
    let err = val - value;
    let v = min
        .internal
        .inv_hessian
        .clone()
        .unwrap_or_else(|| Matrix::identity(nvar, nvar));
    let m = &v * 2.0;
    let xunit = (ctx.up / m[(ind, ind)]).sqrt();
    let mut upar = along_correlation(params, min, &trafo, ind, |i| {
        direction * xunit * m[(ind, i)]
    });
    upar[par].fixed = true;
    upar[par].value = val;
    let cov = if min.internal.inv_hessian.is_some() && nvar > 1 {
        squeeze(&v, ind)
    } else {
        None
    };
    let mut inner = Inner {
        params: upar,
        cov,
        pars: vec![par],
        strat: strat.next_lower(),
        maxcalls: 2 * (nvar + 1) * (200 + 100 * nvar + 5 * nvar * nvar),
        tol: 0.5 * toler,
        exact,
    };
    function_cross(ctx, &mut inner, params, min.fval, &[val], &[err])
}

/// MINOS for the parameter with external index `index`: the upper crossing
/// is searched first, then the lower, as Minuit2 does. `numeric` selects
/// numerical derivatives for the inner fits.
pub fn minos(
    fcn: &mut dyn Fcn,
    params: &[ParamSpec],
    min: &FunctionMinimum,
    index: usize,
    numeric: bool,
) -> MinosError {
    minos_at(
        fcn,
        params,
        min,
        index,
        numeric,
        min.errordef,
        min.internal.tol,
    )
}

/// MINOS at the level `up` (errordef times iminuit's `cl` factor: the
/// function rises by `up` at the crossings), with MnMinos's tolerance
/// `toler`.
pub fn minos_at(
    fcn: &mut dyn Fcn,
    params: &[ParamSpec],
    min: &FunctionMinimum,
    index: usize,
    numeric: bool,
    up: f64,
    toler: f64,
) -> MinosError {
    let name = params
        .get(index)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let err = min.errors.get(index).copied().unwrap_or(0.0);
    let mut out = MinosError::parabolic(name, err);
    let trafo = Transform::new(params);
    if index >= params.len()
        || trafo.int_of_ext(index).is_none()
        || min.internal.x.len() != trafo.n_free()
        || min.values.len() != params.len()
    {
        return out;
    }
    let exact = !numeric && fcn.has_gradient();
    let strat = Strategy::new(min.internal.strategy);
    let mut ctx = Ctx::new(fcn, trafo, up);
    let value = min.values[index];
    let p = &params[index];
    let upc = find_cross(&mut ctx, params, min, index, 1.0, &strat, toler, exact);
    let loc = find_cross(&mut ctx, params, min, index, -1.0, &strat, toler, exact);
    let to_upper = p.upper.map(|u| u - value).unwrap_or(err);
    let to_lower = p.lower.map(|l| l - value).unwrap_or(-err);
    out.upper_side().record(upc, err, to_upper);
    out.lower_side().record(loc, -err, to_lower);
    if ctx.saw_nan {
        out.lower_valid = false;
        out.upper_valid = false;
    }
    out.nfcn = ctx.nfcn;
    out
}

/// One side of a MinosError, filled from its crossing.
struct Side<'a> {
    error: &'a mut f64,
    valid: &'a mut bool,
    at_limit: &'a mut bool,
    max_fcn: &'a mut bool,
    new_min: &'a mut bool,
}

impl Side<'_> {
    /// The side's error from `cross`: `hesse` (signed) times 1 + a at a
    /// crossing, `to_limit` when the limit comes first; the flags as
    /// MnMinos sets them.
    fn record(self, cross: Cross, hesse: f64, to_limit: f64) {
        match cross {
            Cross::ParLimit => {
                *self.at_limit = true;
                *self.valid = true;
                *self.error = to_limit;
            }
            Cross::Valid(a) => {
                *self.valid = true;
                *self.error = hesse * (1.0 + a);
            }
            Cross::FcnLimit => *self.max_fcn = true,
            Cross::NewMin => *self.new_min = true,
            Cross::Invalid => {}
        }
    }
}

impl MinosError {
    /// Not searched yet: the parabolic error `err` on both sides, nothing
    /// valid.
    fn parabolic(name: String, err: f64) -> MinosError {
        MinosError {
            name,
            lower: -err,
            upper: err,
            lower_valid: false,
            upper_valid: false,
            at_lower_limit: false,
            at_upper_limit: false,
            at_lower_max_fcn: false,
            at_upper_max_fcn: false,
            lower_new_min: false,
            upper_new_min: false,
            nfcn: 0,
        }
    }

    fn upper_side(&mut self) -> Side<'_> {
        Side {
            error: &mut self.upper,
            valid: &mut self.upper_valid,
            at_limit: &mut self.at_upper_limit,
            max_fcn: &mut self.at_upper_max_fcn,
            new_min: &mut self.upper_new_min,
        }
    }

    fn lower_side(&mut self) -> Side<'_> {
        Side {
            error: &mut self.lower,
            valid: &mut self.lower_valid,
            at_limit: &mut self.at_lower_limit,
            max_fcn: &mut self.at_lower_max_fcn,
            new_min: &mut self.lower_new_min,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_trial_stops_at_the_limit_on_its_side() {
        let p = ParamSpec {
            name: "a".into(),
            value: 1.0,
            error: 0.1,
            lower: Some(0.5),
            upper: Some(1.2),
            fixed: false,
        };
        assert_eq!(first_trial(&p, 1.0, 0.3, 1.0), 1.2);
        assert_eq!(first_trial(&p, 1.0, 0.1, 1.0), 1.1);
        assert_eq!(first_trial(&p, 1.0, 0.3, -1.0), 0.7);
        assert_eq!(first_trial(&p, 1.0, 0.6, -1.0), 0.5);
    }

    #[test]
    fn each_side_records_its_crossing() {
        let mut e = MinosError::parabolic("a".into(), 0.5);
        e.upper_side().record(Cross::Valid(0.2), 0.5, 9.0);
        e.lower_side().record(Cross::ParLimit, -0.5, -0.3);
        assert_eq!((e.lower, e.upper), (-0.3, 0.5 * 1.2));
        assert!(e.is_valid() && e.at_lower_limit && !e.at_upper_limit);
        let mut e = MinosError::parabolic("a".into(), 0.5);
        e.upper_side().record(Cross::NewMin, 0.5, 9.0);
        e.lower_side().record(Cross::FcnLimit, -0.5, -9.0);
        assert!(e.upper_new_min && e.at_lower_max_fcn && !e.upper_valid && !e.lower_valid);
        assert_eq!((e.lower, e.upper), (-0.5, 0.5), "the parabolic errors stay");
    }
}
