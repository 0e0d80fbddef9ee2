//! MINOS contours (Minuit2's MnContours, iminuit's `mncontour`): the curve
//! in the plane of two free parameters where the function, minimized over
//! all the others, rises by `up` above the minimum.
//!
//! MnContours finds four points with MINOS and MIGRAD, then adds points one
//! at a time between the two neighbours farthest apart (in units of the
//! MINOS intervals), searching along the perpendicular with MnFunctionCross.
//! Where it gives up (a MINOS error it cannot find, a parameter at a limit,
//! a point it cannot cross to), Minuit2 returns what it has: iminuit then
//! prints "unable to find first two points" and returns an empty curve. We
//! go on with a second method instead, iminuit's experimental one: a ray
//! from the minimum at each of N angles (in the frame of the covariance
//! ellipse), kept inside the limits, along which the crossing is bracketed
//! and bisected. Only when that fails too is the contour reported invalid.

use super::minos::{function_cross, minos_at, Cross, Inner};
use super::state::{Ctx, Strategy};
use super::transform::Transform;
use super::{Fcn, FunctionMinimum, ParamSpec};

/// A contour: `points` in order around the minimum, closed (the last point
/// repeats the first), as iminuit's `mncontour` returns them.
#[derive(Clone, Debug, PartialEq)]
pub struct Contour {
    pub points: Vec<(f64, f64)>,
    /// Function calls used.
    pub nfcn: usize,
    /// Every point lies on the level set.
    pub valid: bool,
    /// Why MnContours itself gave up, when it did (the second method then
    /// produced `points`).
    pub mncontours_failure: Option<String>,
}

/// The contour of parameters `px`, `py` (external indices, both free) at
/// level `up` (errordef times the confidence level's factor), with
/// `npoints` points (at least 4) before closing.
#[allow(clippy::too_many_arguments)]
pub fn contour(
    fcn: &mut dyn Fcn,
    params: &[ParamSpec],
    min: &FunctionMinimum,
    px: usize,
    py: usize,
    npoints: usize,
    numeric: bool,
    up: f64,
) -> Contour {
    let exact = !numeric && fcn.has_gradient();
    let first = mn_contours(fcn, params, min, (px, py), npoints, exact, up);
    let (mut points, mut nfcn, failure) = (first.0, first.1, first.2);
    let mut valid = failure.is_none();
    if failure.is_some() {
        let (p2, n2, ok) = rays(fcn, params, min, (px, py), npoints, exact, up);
        nfcn += n2;
        points = p2;
        valid = ok;
    }
    if let Some(&p0) = points.first() {
        points.push(p0);
    }
    Contour {
        points,
        nfcn,
        valid,
        mncontours_failure: failure,
    }
}

/// MnContours proper: the points (not closed), the calls, and why it gave
/// up when it did.
fn mn_contours(
    fcn: &mut dyn Fcn,
    params: &[ParamSpec],
    min: &FunctionMinimum,
    (px, py): (usize, usize),
    npoints: usize,
    exact: bool,
    up: f64,
) -> (Vec<(f64, f64)>, usize, Option<String>) {
    let toler = 0.1;
    let numeric = !exact;
    let mut nfcn = 0;
    let mnex = minos_at(fcn, params, min, px, numeric, up, toler);
    nfcn += mnex.nfcn;
    if !mnex.is_valid() {
        return (vec![], nfcn, Some("unable to find first two points".into()));
    }
    let mney = minos_at(fcn, params, min, py, numeric, up, toler);
    nfcn += mney.nfcn;
    if !mney.is_valid() {
        return (
            vec![],
            nfcn,
            Some("unable to find second two points".into()),
        );
    }
    if mnex.at_lower_limit || mnex.at_upper_limit || mney.at_lower_limit || mney.at_upper_limit {
        return (
            vec![],
            nfcn,
            Some("a MINOS interval ends at a parameter limit".into()),
        );
    }
    let trafo = Transform::new(params);
    let nvar = trafo.n_free();
    let maxcalls = 100 * (npoints + 5) * (nvar + 1);
    let strat = Strategy::new(min.internal.strategy);
    let mut ctx = Ctx::new(fcn, trafo, up);
    let (valx, valy) = (min.values[px], min.values[py]);
    // the four points: each MINOS end with the other parameter minimized
    let ends = |ctx: &mut Ctx, fixed: usize, other: usize, v: [f64; 2]| {
        let mut inner = Inner::at_minimum(params, min, &[fixed], strat.next_lower(), toler, exact);
        let mut out = [0.0; 2];
        for (k, &val) in v.iter().enumerate() {
            let r = inner.run(ctx, &[val]);
            if !r.valid {
                return None;
            }
            out[k] = inner.params[other].value;
        }
        Some(out)
    };
    let Some(yx) = ends(&mut ctx, px, py, [valx + mnex.lower, valx + mnex.upper]) else {
        return (
            vec![],
            nfcn + ctx.nfcn,
            Some("unable to find the y values at x's MINOS ends".into()),
        );
    };
    let Some(xy) = ends(&mut ctx, py, px, [valy + mney.lower, valy + mney.upper]) else {
        return (
            vec![],
            nfcn + ctx.nfcn,
            Some("unable to find the x values at y's MINOS ends".into()),
        );
    };
    let mut result = vec![
        (valx + mnex.lower, yx[0]),
        (xy[0], valy + mney.lower),
        (valx + mnex.upper, yx[1]),
        (xy[1], valy + mney.upper),
    ];
    let scalx = 1.0 / (mnex.upper - mnex.lower);
    let scaly = 1.0 / (mney.upper - mney.lower);
    for i in result.len()..npoints {
        let (i1, i2) = widest_gap(&result, scalx, scaly, &params[px], &params[py]);
        let (mut a1, mut a2) = (0.5, 0.5);
        loop {
            if nfcn + ctx.nfcn > maxcalls {
                return (
                    result,
                    nfcn + ctx.nfcn,
                    Some("maximum number of function calls exhausted".into()),
                );
            }
            let (p1, p2) = (result[i1], result[i2]);
            let xmid = a1 * p1.0 + a2 * p2.0;
            let ymid = a1 * p1.1 + a2 * p2.1;
            let (xdir, ydir) = (p2.1 - p1.1, p1.0 - p2.0);
            let scal = (xdir * scalx).abs().max((ydir * scaly).abs());
            let (xd, yd) = (xdir / scal, ydir / scal);
            let mut inner = Inner::at_minimum(
                params,
                min,
                &[px, py],
                strat.next_lower(),
                0.5 * toler,
                exact,
            );
            inner.maxcalls = maxcalls;
            match function_cross(
                &mut ctx,
                &mut inner,
                params,
                min.fval,
                &[xmid, ymid],
                &[xd, yd],
            ) {
                Cross::Valid(a) => {
                    let p = (xmid + a * xd, ymid + a * yd);
                    if i2 == 0 {
                        result.push(p);
                    } else {
                        result.insert(i2, p);
                    }
                    break;
                }
                _ if a1 < 0.3 => {
                    return (
                        result,
                        nfcn + ctx.nfcn,
                        Some(format!("unable to find point {} on the contour", i + 1)),
                    );
                }
                _ if a1 > 0.5 => (a1, a2) = (0.25, 0.75),
                _ => (a1, a2) = (0.75, 0.25),
            }
        }
    }
    (result, nfcn + ctx.nfcn, None)
}

/// The two neighbours (the last and the first count as neighbours) farthest
/// apart in units of the MINOS intervals; pairs along a limit do not count.
fn widest_gap(
    pts: &[(f64, f64)],
    scalx: f64,
    scaly: f64,
    px: &ParamSpec,
    py: &ParamSpec,
) -> (usize, usize) {
    let n = pts.len();
    let d2 = |a: (f64, f64), b: (f64, f64)| {
        let (dx, dy) = (a.0 - b.0, a.1 - b.1);
        scalx * scalx * dx * dx + scaly * scaly * dy * dy
    };
    let at_limit = |v: f64, p: &ParamSpec| p.lower == Some(v) || p.upper == Some(v);
    let (mut i1, mut i2) = (n - 1, 0);
    let mut big = d2(pts[n - 1], pts[0]);
    for k in 0..n - 1 {
        let (a, b) = (pts[k], pts[k + 1]);
        let mut d = d2(a, b);
        if (a.0 == b.0 && at_limit(a.0, px)) || (a.1 == b.1 && at_limit(a.1, py)) {
            d = 0.0;
        }
        if d > big {
            big = d;
            i1 = k;
            i2 = k + 1;
        }
    }
    (i1, i2)
}

/// The second method: at each of `npoints` angles, the crossing along a
/// ray from the minimum (in the frame of the covariance ellipse, scaled to
/// the level), clamped to the limits. Returns the points, the calls, and
/// whether every ray crossed.
fn rays(
    fcn: &mut dyn Fcn,
    params: &[ParamSpec],
    min: &FunctionMinimum,
    (px, py): (usize, usize),
    npoints: usize,
    exact: bool,
    up: f64,
) -> (Vec<(f64, f64)>, usize, bool) {
    let trafo = Transform::new(params);
    let (ix, iy) = match (trafo.int_of_ext(px), trafo.int_of_ext(py)) {
        (Some(a), Some(b)) => (a, b),
        _ => return (vec![], 0, false),
    };
    let (sxx, sxy, syy) = match &min.covariance {
        Some(c) => (c[(ix, ix)], c[(ix, iy)], c[(iy, iy)]),
        None => (min.errors[px].powi(2), 0.0, min.errors[py].powi(2)),
    };
    // eigen-decomposition of the 2x2 block, larger axis first
    let tr = 0.5 * (sxx + syy);
    let det = sxx * syy - sxy * sxy;
    let disc = (tr * tr - det).max(0.0).sqrt();
    let (l1, l2) = (tr + disc, (tr - disc).max(f64::MIN_POSITIVE));
    let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
    let (c, s) = (theta.cos(), theta.sin());
    // the ellipse (x - x0)' C^-1 (x - x0) = up / errordef has these half-axes
    let (s1, s2) = (
        (l1 * up / min.errordef).sqrt(),
        (l2 * up / min.errordef).sqrt(),
    );
    let clamp = |v: f64, p: &ParamSpec| {
        v.max(p.lower.unwrap_or(f64::NEG_INFINITY))
            .min(p.upper.unwrap_or(f64::INFINITY))
    };
    let at = |z: f64, phi: f64| {
        let (u, w) = (z * s1 * phi.cos(), z * s2 * phi.sin());
        (
            clamp(min.values[px] + c * u - s * w, &params[px]),
            clamp(min.values[py] + s * u + c * w, &params[py]),
        )
    };
    let strat = Strategy::new(0);
    let mut ctx = Ctx::new(fcn, trafo, up);
    let aim = min.fval + up;
    let mut points = Vec::with_capacity(npoints + 1);
    let mut all_ok = true;
    for k in 0..npoints {
        let phi = -std::f64::consts::PI + 2.0 * std::f64::consts::PI * k as f64 / npoints as f64;
        let mut inner = Inner::at_minimum(params, min, &[px, py], strat, 0.05, exact);
        let mut f = |ctx: &mut Ctx, z: f64| {
            let p = at(z, phi);
            let r = inner.run(ctx, &[p.0, p.1]);
            (r.fval, r.valid, p)
        };
        // bracket: f(lo) < aim <= f(hi)
        let (mut lo, mut hi) = (0.0, 1.0);
        let mut fh = f(&mut ctx, hi);
        let mut ok = fh.1;
        let mut tries = 0;
        while ok && fh.0 < aim && tries < 40 {
            let next = at(2.0 * hi, phi);
            if next == fh.2 {
                break; // clamped at a limit: the contour follows the limit here
            }
            lo = hi;
            hi *= 2.0;
            fh = f(&mut ctx, hi);
            ok = fh.1;
            tries += 1;
        }
        if !ok {
            all_ok = false;
            continue;
        }
        if fh.0 < aim {
            points.push(fh.2);
            continue;
        }
        let mut best = fh.2;
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            let fm = f(&mut ctx, mid);
            if !fm.1 {
                all_ok = false;
                break;
            }
            best = fm.2;
            if (fm.0 - aim).abs() < 1e-5 * up {
                break;
            }
            if fm.0 < aim {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        points.push(best);
    }
    let ok = all_ok && points.len() == npoints;
    (points, ctx.nfcn, ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// f = x^2 + y^2 + x y: an ellipse, exactly.
    struct Quad;
    impl Fcn for Quad {
        fn value(&mut self, x: &[f64]) -> f64 {
            x[0] * x[0] + x[1] * x[1] + x[0] * x[1]
        }
    }

    fn specs() -> Vec<ParamSpec> {
        ["x", "y"]
            .iter()
            .map(|n| ParamSpec {
                name: n.to_string(),
                value: 0.5,
                error: 0.1,
                lower: None,
                upper: None,
                fixed: false,
            })
            .collect()
    }

    #[test]
    fn points_lie_on_the_level_and_close() {
        let p = specs();
        let mut f = Quad;
        let min = super::super::migrad(&mut f, &p, &Default::default());
        assert!(min.valid);
        let c = contour(&mut f, &p, &min, 0, 1, 12, true, 2.0);
        assert!(c.valid, "{c:?}");
        assert_eq!(c.points.len(), 13);
        assert_eq!(c.points[0], c.points[12]);
        for &(x, y) in &c.points {
            let v = x * x + y * y + x * y;
            assert!((v - min.fval - 2.0).abs() < 0.02, "{x} {y} {v}");
        }
    }

    #[test]
    fn rays_stay_inside_a_limit() {
        let mut p = specs();
        p[0].lower = Some(-0.5);
        let mut f = Quad;
        let min = super::super::migrad(&mut f, &p, &Default::default());
        let (pts, _, _) = rays(&mut f, &p, &min, (0, 1), 16, false, 2.0);
        assert_eq!(pts.len(), 16);
        assert!(pts.iter().all(|q| q.0 >= -0.5));
    }
}
