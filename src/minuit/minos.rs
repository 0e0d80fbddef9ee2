//! MINOS (Minuit2's MnMinos with MnFunctionCross): for one parameter, the
//! values where the function minimized over the other parameters rises by
//! errordef above the minimum, found by MIGRAD fits with that parameter
//! fixed at trial values chosen by straight lines and then parabolas
//! through the fitted points.

use super::migrad::run_migrad;
use super::state::{Ctx, EndStatus, Strategy, Vector};
use super::transform::Transform;
use super::{Fcn, FunctionMinimum, Matrix, MinosError, ParamSpec};
use crate::minuit::linesearch::Parabola;

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
        let mut upar: Vec<ParamSpec> = params.to_vec();
        for (i, q) in upar.iter_mut().enumerate() {
            q.value = min.values[i];
            if !q.fixed && min.errors[i] > 0.0 && min.errors[i].is_finite() {
                q.error = min.errors[i];
            }
        }
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
    let maxcalls = 2 * (nvar + 1) * (200 + 100 * nvar + 5 * nvar * nvar);
    let p = &params[par];
    let value = min.values[par];
    let mut val = value + direction * min.errors[par];
    if direction > 0.0 {
        if let Some(u) = p.upper {
            val = val.min(u);
        }
    } else if let Some(l) = p.lower {
        val = val.max(l);
    }
    let err = val - value;

    // the user state of the minimum with the other parameters moved along
    // the correlation direction
    let mut upar: Vec<ParamSpec> = params.to_vec();
    for (i, q) in upar.iter_mut().enumerate() {
        q.value = min.values[i];
        if !q.fixed && min.errors[i] > 0.0 && min.errors[i].is_finite() {
            q.error = min.errors[i];
        }
    }
    let v = min
        .internal
        .inv_hessian
        .clone()
        .unwrap_or_else(|| Matrix::identity(nvar, nvar));
    let m = &v * 2.0;
    let xt = &min.internal.x;
    let xunit = (ctx.up / m[(ind, ind)]).sqrt();
    for i in 0..nvar {
        if i == ind {
            continue;
        }
        let xnew = xt[i] + direction * xunit * m[(ind, i)];
        let ext = trafo.free_indices()[i];
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
        maxcalls,
        tol: 0.5 * toler,
        exact,
    };
    function_cross(ctx, &mut inner, params, min.fval, &[val], &[err])
}

/// `aopt` capped at the parameter limit `aulim` (a NaN stays), and whether
/// it was capped: MnFunctionCross's `limset`.
fn cap_at(aopt: f64, aulim: f64) -> (f64, bool) {
    if aopt > aulim {
        (aulim, true)
    } else {
        (aopt, false)
    }
}

/// MnFunctionCross's tolerance on `a`: `tlr`, relative to `|a|` beyond 1.
fn a_tolerance(tlr: f64, aopt: f64) -> f64 {
    if aopt.abs() > 1.0 {
        tlr * aopt.abs()
    } else {
        tlr
    }
}

/// MnFunctionCross: the `a` where the function minimized with `inner.pars`
/// fixed at `pmid + a * pdir` crosses fmin + up (`ctx.up`).
pub(crate) fn function_cross(
    ctx: &mut Ctx,
    inner: &mut Inner,
    params: &[ParamSpec],
    fval: f64,
    pmid: &[f64],
    pdir: &[f64],
) -> Cross {
    let prec = *ctx.trafo.precision();
    let tlr = 0.01;
    let up = ctx.up;
    let tlf = tlr * up;
    let mut tla = tlr;
    let maxitr: usize = 30;
    let mut ipt = 0;
    let aminsv = fval;
    let aim = aminsv + up;
    let mut aopt = 0.0;
    let mut limset = false;
    let mut alsb = [0.0f64; 3];
    let mut flsb = [0.0f64; 3];
    let mut aulim: f64 = 100.0;
    for (k, &par) in inner.pars.iter().enumerate() {
        let p = &params[par];
        let (zmid, zdir) = (pmid[k], pdir[k]);
        let zlim = if zdir > 0.0 {
            p.upper
        } else if zdir < 0.0 {
            p.lower
        } else {
            None
        };
        if let Some(zlim) = zlim {
            if zdir.abs() < prec.eps {
                if (zlim - zmid).abs() < prec.eps {
                    limset = true;
                }
            } else {
                aulim = aulim.min((zlim - zmid) / zdir);
            }
        }
    }
    if limset && inner.pars.len() == 1 {
        return Cross::ParLimit;
    }

    if aulim < aopt + tla {
        limset = true;
    }
    // checks shared by every inner fit; Some(result) ends the search
    let check = |r: &InnerResult, limset: bool| -> Option<Cross> {
        if r.fval < fval - tlf {
            return Some(Cross::NewMin);
        }
        if r.call_limit {
            return Some(Cross::FcnLimit);
        }
        if !r.valid {
            return Some(Cross::Invalid);
        }
        if limset && r.fval < aim {
            return Some(Cross::ParLimit);
        }
        None
    };
    let min0 = inner.run_line(ctx, pmid, pdir, aopt);
    if let Some(c) = check(&min0, limset) {
        return c;
    }
    ipt += 1;
    alsb[0] = 0.0;
    flsb[0] = min0.fval.max(aminsv + 0.1 * up);
    aopt = (up / (flsb[0] - aminsv)).sqrt() - 1.0;
    if (flsb[0] - aim).abs() < tlf {
        return Cross::Valid(aopt);
    }
    aopt = aopt.clamp(-0.5, 1.0);
    (aopt, limset) = cap_at(aopt, aulim);
    let mut min1 = inner.run_line(ctx, pmid, pdir, aopt);
    if let Some(c) = check(&min1, limset) {
        return c;
    }
    ipt += 1;
    alsb[1] = aopt;
    flsb[1] = min1.fval;
    let mut dfda = (flsb[1] - flsb[0]) / (alsb[1] - alsb[0]);
    let mut label = 300;
    loop {
        if label == 300 {
            if dfda < 0.0 {
                let maxlk = maxitr.saturating_sub(ipt);
                for it in 0..maxlk {
                    alsb[0] = alsb[1];
                    flsb[0] = flsb[1];
                    aopt = alsb[0] + 0.2 * (it + 1) as f64;
                    (aopt, limset) = cap_at(aopt, aulim);
                    min1 = inner.run_line(ctx, pmid, pdir, aopt);
                    if let Some(c) = check(&min1, limset) {
                        return c;
                    }
                    ipt += 1;
                    alsb[1] = aopt;
                    flsb[1] = min1.fval;
                    dfda = (flsb[1] - flsb[0]) / (alsb[1] - alsb[0]);
                    if dfda > 0.0 {
                        break;
                    }
                }
                if ipt > maxitr {
                    return Cross::Invalid;
                }
            }
            label = 460;
        }
        if label == 460 {
            aopt = alsb[1] + (aim - flsb[1]) / dfda;
            let fdist = (aim - flsb[0]).abs().min((aim - flsb[1]).abs());
            let adist = (aopt - alsb[0]).abs().min((aopt - alsb[1]).abs());
            tla = a_tolerance(tlr, aopt);
            if adist < tla && fdist < tlf {
                return Cross::Valid(aopt);
            }
            if ipt > maxitr {
                return Cross::Invalid;
            }
            let bmin = alsb[0].min(alsb[1]) - 1.0;
            if aopt < bmin {
                aopt = bmin;
            }
            let bmax = alsb[0].max(alsb[1]) + 1.0;
            if aopt > bmax {
                aopt = bmax;
            }
            (aopt, limset) = cap_at(aopt, aulim);
            if !aopt.is_finite() {
                return Cross::Invalid;
            }
            let min2 = inner.run_line(ctx, pmid, pdir, aopt);
            if let Some(c) = check(&min2, limset) {
                return c;
            }
            ipt += 1;
            alsb[2] = aopt;
            flsb[2] = min2.fval;
            let mut ecarmn = (flsb[2] - aim).abs();
            let mut ecarmx = 0.0;
            let mut ibest = 2;
            let mut iworst = 0;
            let mut noless = 0;
            for (i, &fl) in flsb.iter().enumerate() {
                let ecart = (fl - aim).abs();
                if ecart > ecarmx {
                    ecarmx = ecart;
                    iworst = i;
                }
                if ecart < ecarmn {
                    ecarmn = ecart;
                    ibest = i;
                }
                if fl < aim {
                    noless += 1;
                }
            }
            if noless == 1 || noless == 2 {
                // on to the parabolas below
            } else if noless == 0 && ibest != 2 {
                return Cross::Invalid;
            } else if noless == 3 && ibest != 2 {
                alsb[1] = alsb[2];
                flsb[1] = flsb[2];
                label = 300;
                continue;
            } else {
                flsb[iworst] = flsb[2];
                alsb[iworst] = alsb[2];
                dfda = (flsb[1] - flsb[0]) / (alsb[1] - alsb[0]);
                label = 460;
                continue;
            }
            // parabolas through the three points
            loop {
                let pb =
                    Parabola::through((alsb[0], flsb[0]), (alsb[1], flsb[1]), (alsb[2], flsb[2]));
                let (c1, c2, c3) = (pb.c, pb.b, pb.a);
                let determ = c2 * c2 - 4.0 * c3 * (c1 - aim);
                if determ.is_nan() || determ < prec.eps {
                    return Cross::Invalid;
                }
                let rt = determ.sqrt();
                let x1 = (-c2 + rt) / (2.0 * c3);
                let x2 = (-c2 - rt) / (2.0 * c3);
                let s1 = c2 + 2.0 * x1 * c3;
                let s2 = c2 + 2.0 * x2 * c3;
                aopt = x1;
                let mut slope = s1;
                if s2 > 0.0 {
                    aopt = x2;
                    slope = s2;
                }
                tla = a_tolerance(tlr, aopt);
                if (aopt - alsb[ibest]).abs() < tla && (flsb[ibest] - aim).abs() < tlf {
                    return Cross::Valid(aopt);
                }
                let mut ileft = 3;
                let mut iright = 3;
                let mut iout = 3;
                let mut ecarmx: f64 = 0.0;
                for fl in flsb {
                    ecarmx = ecarmx.max((fl - aim).abs());
                }
                for i in 0..3 {
                    if flsb[i] > aim {
                        if iright == 3 {
                            iright = i;
                        } else if flsb[i] > flsb[iright] {
                            iout = i;
                        } else {
                            iout = iright;
                            iright = i;
                        }
                    } else if ileft == 3 {
                        ileft = i;
                    } else if flsb[i] < flsb[ileft] {
                        iout = i;
                    } else {
                        iout = ileft;
                        ileft = i;
                    }
                }
                if ileft == 3 || iright == 3 || iout == 3 {
                    return Cross::Invalid;
                }
                if ecarmx > 10.0 * (flsb[iout] - aim).abs() {
                    aopt = 0.5 * (aopt + 0.5 * (alsb[iright] + alsb[ileft]));
                }
                let mut smalla = 0.1 * tla;
                if slope * smalla > tlf {
                    smalla = tlf / slope;
                }
                let aleft = alsb[ileft] + smalla;
                let aright = alsb[iright] - smalla;
                if aopt < aleft {
                    aopt = aleft;
                }
                if aopt > aright {
                    aopt = aright;
                }
                if aleft > aright {
                    aopt = 0.5 * (aleft + aright);
                }
                (aopt, limset) = cap_at(aopt, aulim);
                if !aopt.is_finite() {
                    return Cross::Invalid;
                }
                let min2 = inner.run_line(ctx, pmid, pdir, aopt);
                if let Some(c) = check(&min2, limset) {
                    return c;
                }
                ipt += 1;
                alsb[iout] = aopt;
                flsb[iout] = min2.fval;
                ibest = iout;
                if ipt >= maxitr {
                    return Cross::Invalid;
                }
            }
        }
    }
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
    let mut out = MinosError {
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
    };
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
    match upc {
        Cross::ParLimit => {
            out.at_upper_limit = true;
            out.upper_valid = true;
            out.upper = p.upper.map(|u| u - value).unwrap_or(err);
        }
        Cross::Valid(a) => {
            out.upper_valid = true;
            out.upper = err * (1.0 + a);
        }
        Cross::FcnLimit => out.at_upper_max_fcn = true,
        Cross::NewMin => out.upper_new_min = true,
        Cross::Invalid => {}
    }
    match loc {
        Cross::ParLimit => {
            out.at_lower_limit = true;
            out.lower_valid = true;
            out.lower = p.lower.map(|l| l - value).unwrap_or(-err);
        }
        Cross::Valid(a) => {
            out.lower_valid = true;
            out.lower = -err * (1.0 + a);
        }
        Cross::FcnLimit => out.at_lower_max_fcn = true,
        Cross::NewMin => out.lower_new_min = true,
        Cross::Invalid => {}
    }
    if ctx.saw_nan {
        out.lower_valid = false;
        out.upper_valid = false;
    }
    out.nfcn = ctx.nfcn;
    out
}
