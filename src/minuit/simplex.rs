//! SIMPLEX: Minuit2's variant of the Nelder–Mead method (SimplexBuilder,
//! SimplexSeedGenerator, SimplexParameters), run in internal coordinates.
//!
//! * Seed: one call at the starting point; the initial gradient guessed
//!   from the declared errors (no calls) gives the step sizes `gstep`.
//! * Initial simplex: the start plus, for each free parameter, the start
//!   moved by `10 * gstep` along that axis (at least
//!   `8 eps2 (|x| + eps2)`).
//! * Each iteration reflects the worst point through the centroid of the
//!   others (alpha = 1); when that is a new best it tries an expansion
//!   (gamma = 2) and a parabolic step `rho` in [4, 8] along the line;
//!   otherwise a contraction (beta = 0.5), and it stops when the contraction
//!   does not improve on the worst point.
//! * The EDM estimate is `f(worst) - f(best)`; the loop runs while this or
//!   the previous iteration's estimate exceeds the goal
//!   `max(tol * errordef, eps2)` and fewer calls than the limit were made.
//!   (Unlike MIGRAD there is no factor 0.002: iminuit shows this goal.)
//! * At the end the centroid is tried once more; the errors are the
//!   simplex's extent along each axis scaled by `sqrt(errordef / edm)`.
//!
//! The call limit defaults to Minuit2's `200 + 100 n + 5 n^2`; as in
//! Minuit2 it is checked once per iteration, so it can be exceeded by a few
//! calls. `nfcn` counts every call, the seed's included, as iminuit does.

use super::numgrad::initial_gradient;
use super::state::{Ctx, Grad, Vector};
use super::transform::Transform;
use super::{Fcn, FunctionMinimum, InternalState, ParamSpec};

/// SimplexBuilder's reflection, contraction and expansion factors and the
/// range of the parabolic step along the expansion line.
const ALPHA: f64 = 1.0;
const BETA: f64 = 0.5;
const GAMMA: f64 = 2.0;
const RHOMIN: f64 = 4.0;
const RHOMAX: f64 = 8.0;
const RHO1: f64 = 1.0 + ALPHA;
const RHO2: f64 = 1.0 + ALPHA * GAMMA;

/// Runs SIMPLEX from the declared parameters.
///
/// `tol` sets the EDM goal `max(tol * errordef, eps2)`; `ncall` is the
/// approximate call limit (`None` or `Some(0)`: `200 + 100 n + 5 n^2` for
/// `n` free parameters); `errordef` is Minuit's Up (1 for least squares,
/// 0.5 for a negative log-likelihood).
///
/// The result has no covariance; its errors are SIMPLEX's rough estimates
/// (0 for fixed parameters). `internal` holds the final internal point and
/// the initial-gradient guess (G2, steps) derived from those errors, so that
/// HESSE can start from it.
pub fn simplex(
    fcn: &mut dyn Fcn,
    params: &[ParamSpec],
    tol: f64,
    ncall: Option<usize>,
    errordef: f64,
) -> FunctionMinimum {
    let trafo = Transform::new(params);
    let n = trafo.n_free();
    let up = errordef;
    let maxfcn = match ncall {
        Some(c) if c > 0 => c,
        _ => 200 + 100 * n + 5 * n * n,
    };
    let out = Outcome {
        trafo: &trafo,
        edm_goal: edm_goal(tol, up, trafo.precision().eps2),
        up,
        tol,
    };
    let mut ctx = Ctx::new(fcn, trafo.clone(), up);

    // SimplexSeedGenerator
    let x0 = Vector::from_vec(trafo.initial_internal());
    let f0 = ctx.value(&x0);
    if n == 0 {
        return out.finish(&x0, f0, &[], 0.0, ctx.nfcn, End::Ok);
    }
    let seed_grad = initial_gradient(&trafo, &x0, up);
    if ctx.nfcn >= maxfcn {
        // call limit exhausted by the seed: report the seed state
        let (err, edm) = seed_estimates(&seed_grad, up);
        return out.finish(&x0, f0, &err, edm, ctx.nfcn, End::CallLimit);
    }

    // SimplexBuilder
    let steps = (0..n).map(|i| 10.0 * seed_grad.gstep[i]).collect();
    let simplex = Simplex::initial(&mut ctx, &x0, f0, steps, trafo.precision().eps2);
    let mut b = Builder {
        ctx: &mut ctx,
        simplex,
        wg: 1.0 / n as f64,
    };
    loop {
        let edm_prev = b.simplex.edm();
        if !b.iterate() {
            break;
        }
        let edm = b.simplex.edm();
        // NaN estimates compare false: the call limit still ends the loop
        if !((edm > out.edm_goal || edm_prev > out.edm_goal) && b.ctx.nfcn < maxfcn) {
            break;
        }
    }
    let (pbar, ybar) = b.final_point();

    let edm = b.simplex.edm();
    let scale = (up / edm).sqrt();
    let err: Vec<f64> = b.simplex.dirin().iter().map(|d| d * scale).collect();
    let end = if ctx.nfcn > maxfcn {
        End::CallLimit
    } else if edm.is_nan() || edm > out.edm_goal {
        // a NaN estimate counts as above the goal, as in iminuit
        End::AboveMaxEdm
    } else {
        End::Ok
    };
    out.finish(&pbar, ybar, &err, edm, ctx.nfcn, end)
}

/// ModularFunctionMinimizer's effective tolerance `tol * up`, at least
/// eps2 (also for a NaN tolerance, rather than never converging).
pub(crate) fn edm_goal(tol: f64, up: f64, eps2: f64) -> f64 {
    let t = tol * up;
    if t.is_nan() || t < eps2 {
        eps2
    } else {
        t
    }
}

/// The seed's errors (the initial steps sqrt(2 up / g2)) and EDM.
fn seed_estimates(seed: &Grad, up: f64) -> (Vec<f64>, f64) {
    let n = seed.g.len();
    let err: Vec<f64> = (0..n).map(|i| (2.0 * up / seed.g2[i]).sqrt()).collect();
    let edm = 0.5 * (0..n).map(|i| seed.g[i].powi(2) / seed.g2[i]).sum::<f64>();
    (err, edm)
}

/// SimplexBuilder's loop over a simplex, calling the function through
/// `ctx`.
struct Builder<'c, 'f> {
    ctx: &'c mut Ctx<'f>,
    simplex: Simplex,
    /// 1 / n, the weight of a point in the centroid.
    wg: f64,
}

impl Builder<'_, '_> {
    /// The centroid of every point but the highest.
    fn centroid(&self) -> Vector {
        let s = &self.simplex;
        let mut pbar = Vector::zeros(s.points.len() - 1);
        for (i, (_, p)) in s.points.iter().enumerate() {
            if i != s.jh {
                pbar += self.wg * p;
            }
        }
        pbar
    }

    /// The highest point's value.
    fn high(&self) -> f64 {
        self.simplex.points[self.simplex.jh].0
    }

    /// The lowest point's value.
    fn low(&self) -> f64 {
        self.simplex.points[self.simplex.jl].0
    }

    /// One iteration: the highest point reflected through the centroid,
    /// then a contraction when that is no new best, else an expansion.
    /// False when the contraction does not improve on the highest point:
    /// the simplex cannot shrink further (Minuit2's `break`).
    fn iterate(&mut self) -> bool {
        let jh = self.simplex.jh;
        let amin = self.low();
        let pbar = self.centroid();
        let pstar: Vector = (1.0 + ALPHA) * &pbar - ALPHA * &self.simplex.points[jh].1;
        let ystar = self.ctx.value(&pstar);
        if ystar > amin {
            if ystar < self.simplex.points[jh].0 {
                self.simplex.update(ystar, pstar);
                if jh != self.simplex.jh {
                    return true;
                }
            }
            return self.contract(&pbar);
        }
        self.expand(ystar, pstar, &pbar)
    }

    /// The highest point moved halfway to the centroid; false when that
    /// is no lower.
    fn contract(&mut self, pbar: &Vector) -> bool {
        let pstst: Vector = BETA * &self.simplex.points[self.simplex.jh].1 + (1.0 - BETA) * pbar;
        let ystst = self.ctx.value(&pstst);
        if ystst > self.high() {
            return false;
        }
        self.simplex.update(ystst, pstst);
        true
    }

    /// After a reflection to a new best: the expansion (gamma) and a
    /// parabolic step `rho` along the same line, keeping the best of them.
    fn expand(&mut self, ystar: f64, pstar: Vector, pbar: &Vector) -> bool {
        let pstst: Vector = GAMMA * &pstar + (1.0 - GAMMA) * pbar;
        let ystst = self.ctx.value(&pstst);

        let fh = self.high();
        let y1 = (ystar - fh) * RHO2;
        let y2 = (ystst - fh) * RHO1;
        let mut rho = 0.5 * (RHO2 * y1 - RHO1 * y2) / (y1 - y2);
        if rho < RHOMIN {
            self.keep_expansion_or_reflection(ystst, pstst, ystar, pstar);
            return true;
        }
        if rho > RHOMAX {
            rho = RHOMAX;
        }
        let prho: Vector = rho * pbar + (1.0 - rho) * &self.simplex.points[self.simplex.jh].1;
        let yrho = self.ctx.value(&prho);

        let flow = self.low();
        if yrho < flow && yrho < ystst {
            self.simplex.update(yrho, prho);
            return true;
        }
        if ystst < flow {
            self.simplex.update(ystst, pstst);
            return true;
        }
        if yrho > flow {
            self.keep_expansion_or_reflection(ystst, pstst, ystar, pstar);
            return true;
        }
        if ystar > self.high() {
            return self.contract(pbar);
        }
        true
    }

    /// The expansion when it is a new best, else the reflection.
    fn keep_expansion_or_reflection(
        &mut self,
        ystst: f64,
        pstst: Vector,
        ystar: f64,
        pstar: Vector,
    ) {
        if ystst < self.low() {
            self.simplex.update(ystst, pstst);
        } else {
            self.simplex.update(ystar, pstar);
        }
    }

    /// The centroid tried once more at the end: it or the lowest point.
    fn final_point(&mut self) -> (Vector, f64) {
        let amin = self.low();
        let pbar = self.centroid();
        let ybar = self.ctx.value(&pbar);
        if ybar < amin {
            self.simplex.update(ybar, pbar.clone());
            (pbar, ybar)
        } else {
            let (y, p) = &self.simplex.points[self.simplex.jl];
            (p.clone(), *y)
        }
    }
}

/// How SIMPLEX ended.
#[derive(Clone, Copy, PartialEq, Eq)]
enum End {
    Ok,
    AboveMaxEdm,
    CallLimit,
}

/// The simplex: n + 1 points with their values and the indices of the
/// highest (`jh`) and lowest (`jl`) value (Minuit2's SimplexParameters).
struct Simplex {
    points: Vec<(f64, Vector)>,
    jh: usize,
    jl: usize,
}

impl Simplex {
    /// The start and, for each axis, the start moved by `step` along it
    /// (at least `8 eps2 (|x| + eps2)`; a NaN step is replaced too).
    fn initial(ctx: &mut Ctx, x0: &Vector, f0: f64, mut step: Vec<f64>, eps2: f64) -> Simplex {
        let n = x0.len();
        let mut x = x0.clone();
        let mut points: Vec<(f64, Vector)> = Vec::with_capacity(n + 1);
        points.push((f0, x0.clone()));
        let (mut jl, mut jh) = (0usize, 0usize);
        let (mut amin, mut aming) = (f0, f0);
        for i in 0..n {
            let dmin = 8.0 * eps2 * (x[i].abs() + eps2);
            if step[i].is_nan() || step[i] < dmin {
                step[i] = dmin;
            }
            // moved and moved back in place, as Minuit2 does (x + s - s
            // need not be x)
            x[i] += step[i];
            let tmp = ctx.value(&x);
            if tmp < amin {
                amin = tmp;
                jl = i + 1;
            }
            if tmp > aming {
                aming = tmp;
                jh = i + 1;
            }
            points.push((tmp, x.clone()));
            x[i] -= step[i];
        }
        Simplex { points, jh, jl }
    }

    /// Replaces the highest point by (y, p) and finds the new highest.
    fn update(&mut self, y: f64, p: Vector) {
        let jh = self.jh;
        self.points[jh] = (y, p);
        if y < self.points[self.jl].0 {
            self.jl = jh;
        }
        let mut h = 0;
        for i in 1..self.points.len() {
            if self.points[i].0 > self.points[h].0 {
                h = i;
            }
        }
        self.jh = h;
    }

    /// f(highest) - f(lowest).
    fn edm(&self) -> f64 {
        self.points[self.jh].0 - self.points[self.jl].0
    }

    /// The extent of the simplex along each axis.
    fn dirin(&self) -> Vec<f64> {
        let n = self.points.len() - 1;
        (0..n)
            .map(|i| {
                let first = self.points[0].1[i];
                let (lo, hi) = self.points.iter().fold((first, first), |(lo, hi), (_, p)| {
                    let v = p[i];
                    (if v < lo { v } else { lo }, if v > hi { v } else { hi })
                });
                hi - lo
            })
            .collect()
    }
}

/// What every SIMPLEX result shares: the parameters, the EDM goal, Up and
/// the tolerance.
struct Outcome<'t> {
    trafo: &'t Transform,
    edm_goal: f64,
    up: f64,
    tol: f64,
}

impl Outcome<'_> {
    /// The FunctionMinimum for internal point `x` with internal errors
    /// `err`, as iminuit reports a SIMPLEX result.
    fn finish(
        &self,
        x: &Vector,
        fval: f64,
        err: &[f64],
        edm: f64,
        nfcn: usize,
        end: End,
    ) -> FunctionMinimum {
        let (trafo, up) = (self.trafo, self.up);
        let params = trafo.params();
        let values = trafo.external(x.as_slice());
        let mut errors = vec![0.0; params.len()];
        for (i, &e) in trafo.free_indices().iter().enumerate() {
            errors[e] = trafo.int2ext_error(i, x[i], err[i]);
        }
        let guess = guess_from(params, &values, &errors, x, up);
        FunctionMinimum {
            fval,
            edm,
            edm_goal: self.edm_goal,
            errordef: up,
            nfcn,
            ngrad: 0,
            valid: end == End::Ok,
            accurate: false,
            has_covariance: false,
            has_posdef_covar: false,
            has_made_posdef_covar: false,
            hesse_failed: false,
            at_limit: trafo.at_limit(&values, &errors),
            call_limit: end == End::CallLimit,
            above_max_edm: end == End::AboveMaxEdm,
            saddle: false,
            values,
            errors,
            covariance: None,
            internal: InternalState {
                x: x.as_slice().to_vec(),
                grad: guess.g.as_slice().to_vec(),
                g2: guess.g2.as_slice().to_vec(),
                gstep: guess.gstep.as_slice().to_vec(),
                inv_hessian: None,
                status: super::state::ErrStatus::Unset,
                dcovar: 1.0,
                strategy: 1,
                tol: self.tol,
            },
        }
    }
}

/// The initial-gradient guess (no calls) from the result's values and
/// errors, for HESSE to start from.
fn guess_from(params: &[ParamSpec], values: &[f64], errors: &[f64], x: &Vector, up: f64) -> Grad {
    let mut spec: Vec<ParamSpec> = params.to_vec();
    for (i, p) in spec.iter_mut().enumerate() {
        p.value = values[i];
        if !p.fixed && errors[i].is_finite() && errors[i] > 0.0 {
            p.error = errors[i];
        }
    }
    initial_gradient(&Transform::new(&spec), x, up)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::report::{fmin_block, param_table, ParamRow};
    use super::*;
    use serde_json::Value;

    /// A closure as an Fcn.
    pub(crate) struct F<G: FnMut(&[f64]) -> f64>(pub G);

    impl<G: FnMut(&[f64]) -> f64> Fcn for F<G> {
        fn value(&mut self, x: &[f64]) -> f64 {
            (self.0)(x)
        }
    }

    /// The objectives of tests/reference/gen_minuit_extra.py (Python's `**`
    /// is C's pow).
    pub(crate) fn objective(name: &str) -> fn(&[f64]) -> f64 {
        fn himmelblau(p: &[f64]) -> f64 {
            let (x, y) = (p[0], p[1]);
            (x.powf(2.0) + y - 11.0).powf(2.0) + (x + y.powf(2.0) - 7.0).powf(2.0)
        }
        fn beale(p: &[f64]) -> f64 {
            let (x, y) = (p[0], p[1]);
            (1.5 - x + x * y).powf(2.0)
                + (2.25 - x + x * y.powf(2.0)).powf(2.0)
                + (2.625 - x + x * y.powf(3.0)).powf(2.0)
        }
        fn rosenbrock(p: &[f64]) -> f64 {
            let (x, y) = (p[0], p[1]);
            (1.0 - x).powf(2.0) + 100.0 * (y - x.powf(2.0)).powf(2.0)
        }
        fn quad3(p: &[f64]) -> f64 {
            let (a, b, c) = (p[0], p[1], p[2]);
            (a - 1.0).powf(2.0)
                + 2.0 * (b + 0.5).powf(2.0)
                + 0.5 * (c - 2.0).powf(2.0)
                + 0.3 * a * b
        }
        match name {
            "himmelblau" => himmelblau,
            "beale" => beale,
            "rosenbrock" => rosenbrock,
            "quad3" => quad3,
            _ => panic!("unknown objective {name}"),
        }
    }

    pub(crate) fn reference() -> Value {
        serde_json::from_str(include_str!("../../tests/reference/minuit_extra.json")).unwrap()
    }

    pub(crate) fn specs(case: &Value) -> Vec<ParamSpec> {
        case["params"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| ParamSpec {
                name: p["name"].as_str().unwrap().to_string(),
                value: p["value"].as_f64().unwrap(),
                error: p["error"].as_f64().unwrap(),
                lower: p["lower"].as_f64(),
                upper: p["upper"].as_f64(),
                fixed: p["fixed"].as_bool().unwrap(),
            })
            .collect()
    }

    pub(crate) fn close(a: f64, b: f64, rtol: f64) -> bool {
        (a - b).abs() <= rtol * (a.abs().max(b.abs())) + 1e-300
    }

    /// Checks a result against iminuit's, numbers and report text.
    pub(crate) fn check(
        id: &str,
        m: &FunctionMinimum,
        want: &Value,
        specs: &[ParamSpec],
        alg: &str,
    ) {
        check_numbers(id, m, want, specs);
        assert_eq!(fmin_block(m, alg), want["text"].as_str().unwrap(), "{id}");
        assert_eq!(
            param_table(&param_rows(m, specs)),
            want["params_text"].as_str().unwrap(),
            "{id}"
        );
    }

    /// The minimum, EDM, call count, flags, values and errors.
    fn check_numbers(id: &str, m: &FunctionMinimum, want: &Value, specs: &[ParamSpec]) {
        let rtol = 1e-9;
        let f = |k: &str| want[k].as_f64().unwrap();
        assert!(
            close(m.fval, f("fval"), rtol),
            "{id}: fval {} vs {}",
            m.fval,
            f("fval")
        );
        assert!(
            close(m.edm, f("edm"), 1e-7),
            "{id}: edm {} vs {}",
            m.edm,
            f("edm")
        );
        assert!(
            close(m.edm_goal, f("edm_goal"), 1e-12),
            "{id}: goal {}",
            m.edm_goal
        );
        assert_eq!(m.nfcn as u64, want["nfcn"].as_u64().unwrap(), "{id}: nfcn");
        let flag = |k: &str| want[k].as_bool().unwrap();
        assert_eq!(m.valid, flag("valid"), "{id}: valid");
        assert_eq!(m.above_max_edm, flag("above_max_edm"), "{id}");
        assert_eq!(m.call_limit, flag("call_limit"), "{id}");
        assert_eq!(m.at_limit, flag("at_limit"), "{id}");
        for (i, v) in want["values"].as_array().unwrap().iter().enumerate() {
            let v = v.as_f64().unwrap();
            assert!(
                close(m.values[i], v, rtol),
                "{id}: value {i} {} vs {v}",
                m.values[i]
            );
        }
        for (i, e) in want["errors"].as_array().unwrap().iter().enumerate() {
            let e = e.as_f64().unwrap();
            let got = if specs[i].fixed {
                specs[i].error
            } else {
                m.errors[i]
            };
            assert!(close(got, e, 1e-7), "{id}: error {i} {got} vs {e}");
        }
    }

    /// The parameter table's rows as iminuit shows them (a fixed
    /// parameter with its declared error).
    fn param_rows(m: &FunctionMinimum, specs: &[ParamSpec]) -> Vec<ParamRow> {
        specs
            .iter()
            .enumerate()
            .map(|(i, p)| ParamRow {
                name: p.name.clone(),
                value: m.values[i],
                error: Some(if p.fixed { p.error } else { m.errors[i] }),
                minos: None,
                lower: p.lower,
                upper: p.upper,
                fixed: p.fixed,
            })
            .collect()
    }

    /// Runs every case of section `section` of the reference (at least
    /// `min_cases` of them) through `run`, given the objective, the
    /// parameters, the case and its errordef (default 1), and checks the
    /// result as algorithm `alg`'s.
    pub(crate) fn check_cases(
        section: &str,
        min_cases: usize,
        alg: &str,
        mut run: impl FnMut(&mut dyn Fcn, &[ParamSpec], &Value, f64) -> FunctionMinimum,
    ) {
        let r = reference();
        let cases = r[section].as_array().unwrap();
        assert!(cases.len() >= min_cases);
        for c in cases {
            let id = c["id"].as_str().unwrap();
            let specs = specs(c);
            let mut fcn = F(objective(c["function"].as_str().unwrap()));
            let errordef = c["errordef"].as_f64().unwrap_or(1.0);
            let m = run(&mut fcn, &specs, c, errordef);
            check(id, &m, &c["result"], &specs, alg);
        }
    }

    #[test]
    fn matches_iminuit() {
        check_cases("simplex", 10, "Simplex", |fcn, specs, c, errordef| {
            let tol = c["tol"].as_f64().unwrap_or(0.1);
            let ncall = c["ncall"].as_u64().map(|v| v as usize);
            simplex(fcn, specs, tol, ncall, errordef)
        });
    }

    fn spec(name: &str, value: f64) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            value,
            error: 0.1,
            lower: None,
            upper: None,
            fixed: false,
        }
    }

    #[test]
    fn nan_objective_terminates() {
        let mut fcn = F(|_: &[f64]| f64::NAN);
        let m = simplex(&mut fcn, &[spec("x", 0.0), spec("y", 1.0)], 0.1, None, 1.0);
        // iminuit 2.33: nfcn 7, values kept, invalid, above max EDM
        assert!(!m.valid && m.above_max_edm && !m.call_limit);
        assert_eq!(m.nfcn, 7);
        assert_eq!(m.values, vec![0.0, 1.0]);
        let m = simplex(&mut fcn, &[spec("x", f64::NAN)], 0.1, None, 1.0);
        assert!(!m.valid && m.above_max_edm);
        assert_eq!(m.nfcn, 6);

        let mut calls = 0;
        let mut fcn = F(|p: &[f64]| {
            calls += 1;
            if calls % 3 == 0 {
                f64::NAN
            } else {
                p[0] * p[0]
            }
        });
        let m = simplex(&mut fcn, &[spec("x", 3.0)], 0.1, Some(50), 1.0);
        assert!(m.nfcn <= 60);
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        let mut fcn = F(|p: &[f64]| p.iter().map(|v| v * v).sum());
        // no free parameter
        let mut fixed = spec("x", 1.0);
        fixed.fixed = true;
        let m = simplex(&mut fcn, &[fixed], 0.1, None, 1.0);
        assert_eq!(m.nfcn, 1);
        assert!(m.valid);
        // call limit smaller than the seed
        let m = simplex(&mut fcn, &[spec("x", 1.0)], 0.1, Some(1), 1.0);
        assert!(m.call_limit && !m.valid);
        // NaN tolerance, NaN start, zero error, infinite error
        let m = simplex(&mut fcn, &[spec("x", 1.0)], f64::NAN, None, 1.0);
        assert!(m.nfcn < 400);
        let m = simplex(&mut fcn, &[spec("x", f64::NAN)], 0.1, None, 1.0);
        assert!(!m.valid);
        let mut s = spec("x", 1.0);
        s.error = 0.0;
        let _ = simplex(&mut fcn, &[s.clone()], 0.1, None, 1.0);
        s.error = f64::INFINITY;
        let _ = simplex(&mut fcn, &[s], 0.1, None, 1.0);
        // exact minimum at the start: edm 0
        let m = simplex(&mut fcn, &[spec("x", 0.0)], 0.1, None, 1.0);
        assert!(m.fval <= 1e-2);
    }

    #[test]
    fn the_edm_goal_is_tol_times_up() {
        assert_eq!(edm_goal(0.1, 0.5, 1e-8), 0.1 * 0.5);
        assert_eq!(edm_goal(1e-12, 1.0, 1e-8), 1e-8, "at least eps2");
        assert_eq!(edm_goal(f64::NAN, 1.0, 1e-8), 1e-8, "a NaN tolerance");
    }

    #[test]
    fn seed_estimates_are_the_initial_steps() {
        let seed = Grad {
            g: Vector::from_vec(vec![2.0, -1.0]),
            g2: Vector::from_vec(vec![4.0, 1.0]),
            gstep: Vector::zeros(2),
            analytical: false,
        };
        let (err, edm) = seed_estimates(&seed, 0.5);
        assert_eq!(err, vec![0.5, 1.0]);
        assert_eq!(edm, 0.5 * (1.0 + 1.0));
    }

    #[test]
    fn quadratic_converges() {
        let mut fcn = F(|p: &[f64]| (p[0] - 3.0).powi(2) + 10.0 * (p[1] + 1.0).powi(2));
        let m = simplex(&mut fcn, &[spec("a", 0.0), spec("b", 0.0)], 1e-6, None, 1.0);
        assert!(m.valid);
        assert!((m.values[0] - 3.0).abs() < 1e-2 && (m.values[1] + 1.0).abs() < 1e-2);
    }
}
