//! SCAN: a brute-force grid search, as iminuit's `Minuit.scan` does it
//! (not Minuit2's MnScan, which scans one parameter after the other).
//!
//! Every free parameter must have both limits; its axis is `n` evenly
//! spaced points from the lower to the upper limit, both included (NumPy's
//! `linspace`). The grid is run through with the first parameter varying
//! slowest, and the first point with the strictly smallest value wins (NaN
//! values never win; if no point has a value below +inf the start is kept).
//!
//! The result is then made what iminuit makes of it: Minuit2's seed at the
//! best point (one call, the numerical two-point gradient at strategy 1, a
//! line search away from negative curvature) gives the EDM estimate and the
//! errors `sqrt(2 errordef / G2)`; the minimum is valid when that EDM is
//! below the goal `max(0.1 * errordef, eps2)` (iminuit's default `tol`).
//! The seed is the numerical one even when the objective has an exact
//! gradient: a grid search asks for no derivative, and the numbers are
//! then iminuit's.
//!
//! `n` is the number of points per free parameter, so the grid costs
//! `n^k` calls for `k` free parameters. iminuit's `scan(ncall)` takes a
//! total budget instead and uses `max(2, int(ncall^(1/k)))` points per
//! parameter; [`default_points`] gives the number iminuit uses when no
//! budget is given.

use thiserror::Error;

use super::seed::seed_numeric;
use super::simplex::edm_goal;
use super::state::{internal_point, Ctx, Strategy, Vector};
use super::transform::Transform;
use super::{Fcn, FunctionMinimum, ParamSpec};

/// The largest grid SCAN runs (points in total).
pub const MAX_POINTS: u64 = 100_000_000;

/// Why SCAN could not run.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ScanError {
    /// A free parameter lacks a lower or an upper limit.
    #[error("parameter `{name}` needs both limits to be scanned")]
    NoLimits {
        /// The parameter's name.
        name: String,
    },
    /// Every parameter is fixed.
    #[error("all parameters are fixed, there is nothing to scan")]
    NoFreeParameters,
    /// The grid has more than [`MAX_POINTS`] points.
    #[error("the scan grid would have {points} points (at most {max} are allowed)", max = MAX_POINTS)]
    TooManyPoints {
        /// The grid's size as `n^k`, e.g. "1000^40".
        points: String,
    },
}

/// The points per parameter iminuit uses for `scan()` without a budget:
/// `max(2, int(ncall^(1/k)))` with MIGRAD's default call limit
/// `ncall = 200 + 100 k + 5 k^2` for `k` free parameters.
pub fn default_points(k: usize) -> usize {
    if k == 0 {
        return 2;
    }
    let ncall = (200 + 100 * k + 5 * k * k) as f64;
    (ncall.powf(1.0 / k as f64) as usize).max(2)
}

/// NumPy's `linspace(lo, hi, n)[i]`.
fn linspace_at(lo: f64, hi: f64, n: usize, i: usize) -> f64 {
    if n > 1 && i == n - 1 {
        return hi;
    }
    let div = (n.max(2) - 1) as f64;
    let delta = hi - lo;
    let step = delta / div;
    if step == 0.0 {
        i as f64 / div * delta + lo
    } else {
        i as f64 * step + lo
    }
}

/// Runs SCAN with `n` points per free parameter (at least 2) over the
/// limits; `errordef` is Minuit's Up.
///
/// `nfcn` counts the grid and the seed's calls. The result has no
/// covariance; `internal` holds the seed's internal point, gradient, G2 and
/// steps.
pub fn scan(
    fcn: &mut dyn Fcn,
    params: &[ParamSpec],
    n: usize,
    errordef: f64,
) -> Result<FunctionMinimum, ScanError> {
    let axes = Axes::of(params, n.max(2))?;
    let (best_x, grid_calls) = axes.best_point(fcn, params);
    Ok(seed_at(fcn, params, &best_x, errordef, grid_calls))
}

/// The grid: the free parameters (external indices), their limits, the
/// points per axis and the points in all.
struct Axes {
    free: Vec<usize>,
    lims: Vec<(f64, f64)>,
    n: usize,
    total: u64,
}

impl Axes {
    /// The grid of `n` points per free parameter, which must all have both
    /// limits, and at most [`MAX_POINTS`] points in all.
    fn of(params: &[ParamSpec], n: usize) -> Result<Axes, ScanError> {
        let free: Vec<usize> = (0..params.len()).filter(|&i| !params[i].fixed).collect();
        if free.is_empty() {
            return Err(ScanError::NoFreeParameters);
        }
        let mut lims = Vec::with_capacity(free.len());
        for &e in &free {
            let p = &params[e];
            match (p.lower, p.upper) {
                (Some(lo), Some(hi)) => lims.push((lo, hi)),
                _ => {
                    return Err(ScanError::NoLimits {
                        name: p.name.clone(),
                    })
                }
            }
        }
        let k = free.len();
        let total = u32::try_from(k)
            .ok()
            .and_then(|k| (n as u64).checked_pow(k))
            .filter(|&t| t <= MAX_POINTS)
            .ok_or_else(|| ScanError::TooManyPoints {
                points: format!("{n}^{k}"),
            })?;
        Ok(Axes {
            free,
            lims,
            n,
            total,
        })
    }

    /// Every grid point, first free parameter slowest: the first point with
    /// the strictly smallest value (the start if none is below +inf), and
    /// the calls.
    fn best_point(&self, fcn: &mut dyn Fcn, params: &[ParamSpec]) -> (Vec<f64>, usize) {
        let (n, k) = (self.n, self.free.len());
        let mut x: Vec<f64> = params.iter().map(|p| p.value).collect();
        let mut best_x = x.clone();
        let mut best = f64::INFINITY;
        let mut idx = vec![0usize; k];
        let mut grid_calls = 0usize;
        for _ in 0..self.total {
            for (j, &e) in self.free.iter().enumerate() {
                x[e] = linspace_at(self.lims[j].0, self.lims[j].1, n, idx[j]);
            }
            let r = fcn.value(&x);
            grid_calls += 1;
            if r < best {
                best = r;
                best_x.copy_from_slice(&x);
            }
            // odometer: the last free parameter runs fastest
            for j in (0..k).rev() {
                idx[j] += 1;
                if idx[j] < n {
                    break;
                }
                idx[j] = 0;
            }
        }
        (best_x, grid_calls)
    }
}

/// iminuit's FunctionMinimum(fcn, state, strategy, edm_goal): Minuit2's
/// numerical seed at the grid's best point gives the EDM and the errors.
fn seed_at(
    fcn: &mut dyn Fcn,
    params: &[ParamSpec],
    best_x: &[f64],
    up: f64,
    grid_calls: usize,
) -> FunctionMinimum {
    let mut spec = params.to_vec();
    for (p, &v) in spec.iter_mut().zip(best_x) {
        p.value = v;
    }
    let trafo = Transform::new(&spec);
    let edm_goal = edm_goal(0.1, up, trafo.precision().eps2);
    let strategy = Strategy::new(1);
    let mut ctx = Ctx::new(fcn, trafo.clone(), up);
    let x0 = Vector::from_vec(trafo.initial_internal());
    // the grid needs no derivative, and iminuit judges its best point with
    // the numerical seed, whatever the objective offers
    let st = seed_numeric(&mut ctx, &x0, None, &strategy);

    let values = trafo.external(st.x.as_slice());
    let mut errors = vec![0.0; params.len()];
    for (i, &e) in trafo.free_indices().iter().enumerate() {
        let ierr = (2.0 * up * st.v[(i, i)]).sqrt();
        errors[e] = trafo.int2ext_error(i, st.x[i], ierr);
    }
    let valid = st.edm < edm_goal;
    FunctionMinimum {
        fval: st.fval,
        edm: st.edm,
        edm_goal,
        errordef: up,
        nfcn: grid_calls + ctx.nfcn,
        ngrad: ctx.ngrad,
        valid,
        accurate: false,
        has_covariance: false,
        has_posdef_covar: false,
        has_made_posdef_covar: false,
        hesse_failed: false,
        at_limit: trafo.at_limit(&values, &errors),
        call_limit: false,
        above_max_edm: !valid,
        saddle: false,
        values,
        errors,
        covariance: None,
        // the seed's point and derivatives for HESSE to start from; no
        // inverse Hessian: SCAN has no covariance
        internal: internal_point(&st),
    }
}

#[cfg(test)]
mod tests {
    use super::super::simplex::tests::{check_cases, F};
    use super::*;

    #[test]
    fn matches_iminuit() {
        check_cases("scan", 4, "Scan", |fcn, specs, c, errordef| {
            let n = c["n"].as_u64().unwrap() as usize;
            scan(fcn, specs, n, errordef).unwrap()
        });
    }

    #[test]
    fn default_points_as_iminuit() {
        // iminuit: himmelblau-box-default used 20 points per parameter
        assert_eq!(default_points(2), 20);
        assert_eq!(default_points(1), 305);
        assert_eq!(default_points(3), 8);
    }

    fn spec(name: &str, lower: Option<f64>, upper: Option<f64>) -> ParamSpec {
        ParamSpec {
            name: name.into(),
            value: 0.5,
            error: 0.1,
            lower,
            upper,
            fixed: false,
        }
    }

    #[test]
    fn errors_name_the_parameter() {
        let mut fcn = F(|p: &[f64]| p[0] * p[0]);
        let e = scan(
            &mut fcn,
            &[spec("a", Some(0.0), Some(1.0)), spec("b", Some(0.0), None)],
            5,
            1.0,
        )
        .unwrap_err();
        assert_eq!(e, ScanError::NoLimits { name: "b".into() });
        assert!(e.to_string().contains("`b`"));
        let mut fixed = spec("a", None, None);
        fixed.fixed = true;
        assert_eq!(
            scan(&mut fcn, &[fixed], 5, 1.0).unwrap_err(),
            ScanError::NoFreeParameters
        );
        let many: Vec<ParamSpec> = (0..40)
            .map(|i| spec(&format!("p{i}"), Some(0.0), Some(1.0)))
            .collect();
        assert!(matches!(
            scan(&mut fcn, &many, 1000, 1.0),
            Err(ScanError::TooManyPoints { .. })
        ));
    }

    #[test]
    fn nan_and_odd_grids() {
        let mut fcn = F(|_: &[f64]| f64::NAN);
        let m = scan(&mut fcn, &[spec("a", Some(-1.0), Some(1.0))], 7, 1.0).unwrap();
        assert!(!m.valid);
        assert_eq!(m.values, vec![0.5]);
        // n below 2 means 2; a degenerate range
        let mut calls = 0;
        let mut fcn = F(|p: &[f64]| {
            calls += 1;
            (p[0] - 0.3).powi(2)
        });
        let m = scan(&mut fcn, &[spec("a", Some(1.0), Some(1.0))], 0, 1.0).unwrap();
        assert!(m.nfcn >= 2);
        assert!(m.values[0] == 1.0 || !m.values[0].is_finite());
        let _ = scan(
            &mut fcn,
            &[spec("a", Some(f64::NAN), Some(f64::INFINITY))],
            3,
            f64::NAN,
        );
    }

    struct Quad;

    impl Fcn for Quad {
        fn value(&mut self, x: &[f64]) -> f64 {
            (x[0] - 0.3).powi(2) + 2.0 * (x[1] + 0.2).powi(2)
        }
        fn has_gradient(&self) -> bool {
            true
        }
        fn gradient(&mut self, x: &[f64], g: &mut [f64]) {
            g[0] = 2.0 * (x[0] - 0.3);
            g[1] = 4.0 * (x[1] + 0.2);
        }
    }

    #[test]
    fn a_grid_asks_for_no_gradient() {
        let p = [
            spec("a", Some(-1.0), Some(1.0)),
            spec("b", Some(-1.0), Some(1.0)),
        ];
        let m = scan(&mut Quad, &p, 11, 1.0).unwrap();
        assert!(m.nfcn > 121);
        // the best point is judged by the numerical seed, as iminuit does
        assert_eq!(m.ngrad, 0);
        assert!((m.values[0] - 0.3).abs() < 0.11 && (m.values[1] + 0.2).abs() < 0.11);
        assert!(m.errors.iter().all(|e| e.is_finite() && *e > 0.0));
    }

    #[test]
    fn linspace_like_numpy() {
        assert_eq!(linspace_at(-5.0, 5.0, 10, 0), -5.0);
        assert_eq!(linspace_at(-5.0, 5.0, 10, 9), 5.0);
        assert_eq!(linspace_at(-5.0, 5.0, 10, 1), -5.0 + 10.0 / 9.0);
        assert_eq!(linspace_at(0.0, 4.0, 41, 30), 30.0 * 0.1);
    }
}
