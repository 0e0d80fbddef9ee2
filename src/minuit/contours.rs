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
use super::{Fcn, FunctionMinimum, MinosError, ParamSpec};

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
    let mut job = Job {
        fcn,
        params,
        min,
        px,
        py,
        npoints,
        exact,
        up,
    };
    let first = mn_contours(&mut job);
    let (mut points, mut nfcn, failure) = (first.points, first.nfcn, first.failure);
    let mut valid = failure.is_none();
    if failure.is_some() {
        let second = rays(&mut job);
        nfcn += second.nfcn;
        points = second.points;
        valid = second.failure.is_none();
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

/// What both methods are given: the function and its minimum, the two
/// parameters, how many points, the derivatives to use and the level.
struct Job<'a> {
    fcn: &'a mut dyn Fcn,
    params: &'a [ParamSpec],
    min: &'a FunctionMinimum,
    px: usize,
    py: usize,
    npoints: usize,
    exact: bool,
    up: f64,
}

/// What one method produced: the points (not closed), the calls, and why
/// it gave up when it did.
struct Attempt {
    points: Vec<(f64, f64)>,
    nfcn: usize,
    failure: Option<String>,
}

impl Attempt {
    fn failed(points: Vec<(f64, f64)>, nfcn: usize, why: impl Into<String>) -> Attempt {
        Attempt {
            points,
            nfcn,
            failure: Some(why.into()),
        }
    }
}

/// MnContours's tolerance for its MINOS and MIGRAD runs.
const TOLER: f64 = 0.1;

/// MnContours proper: MINOS for both parameters, the four points at the
/// MINOS ends, then one point at a time in the widest gap.
fn mn_contours(job: &mut Job) -> Attempt {
    let numeric = !job.exact;
    let mnex = minos_at(job.fcn, job.params, job.min, job.px, numeric, job.up, TOLER);
    let mut nfcn = mnex.nfcn;
    if !mnex.is_valid() {
        return Attempt::failed(vec![], nfcn, "unable to find first two points");
    }
    let mney = minos_at(job.fcn, job.params, job.min, job.py, numeric, job.up, TOLER);
    nfcn += mney.nfcn;
    if !mney.is_valid() {
        return Attempt::failed(vec![], nfcn, "unable to find second two points");
    }
    if mnex.at_lower_limit || mnex.at_upper_limit || mney.at_lower_limit || mney.at_upper_limit {
        return Attempt::failed(vec![], nfcn, "a MINOS interval ends at a parameter limit");
    }
    let npoints = job.npoints;
    let mut mc = MnContours::new(job, nfcn);
    let mut result = match mc.four_points(&mnex, &mney) {
        Ok(r) => r,
        Err(why) => return Attempt::failed(vec![], mc.nfcn(), why),
    };
    let scal = (
        1.0 / (mnex.upper - mnex.lower),
        1.0 / (mney.upper - mney.lower),
    );
    for i in result.len()..npoints {
        if let Err(why) = mc.add_point(&mut result, i, scal) {
            return Attempt::failed(result, mc.nfcn(), why);
        }
    }
    Attempt {
        points: result,
        nfcn: mc.nfcn(),
        failure: None,
    }
}

/// MnContours after the two MINOS runs: the fits it makes, and the calls
/// MINOS used.
struct MnContours<'j> {
    ctx: Ctx<'j>,
    params: &'j [ParamSpec],
    min: &'j FunctionMinimum,
    px: usize,
    py: usize,
    exact: bool,
    strat: Strategy,
    maxcalls: usize,
    minos_nfcn: usize,
}

impl<'j> MnContours<'j> {
    fn new(job: &'j mut Job, minos_nfcn: usize) -> MnContours<'j> {
        let trafo = Transform::new(job.params);
        let nvar = trafo.n_free();
        MnContours {
            maxcalls: 100 * (job.npoints + 5) * (nvar + 1),
            strat: Strategy::new(job.min.internal.strategy),
            ctx: Ctx::new(&mut *job.fcn, trafo, job.up),
            params: job.params,
            min: job.min,
            px: job.px,
            py: job.py,
            exact: job.exact,
            minos_nfcn,
        }
    }

    /// The calls so far, MINOS's included.
    fn nfcn(&self) -> usize {
        self.minos_nfcn + self.ctx.nfcn
    }

    /// Each MINOS end with the other parameter minimized: x low, y low,
    /// x high, y high.
    fn four_points(
        &mut self,
        mnex: &MinosError,
        mney: &MinosError,
    ) -> Result<Vec<(f64, f64)>, &'static str> {
        let (px, py) = (self.px, self.py);
        let (valx, valy) = (self.min.values[px], self.min.values[py]);
        let yx = self
            .other_at_ends(px, py, [valx + mnex.lower, valx + mnex.upper])
            .ok_or("unable to find the y values at x's MINOS ends")?;
        let xy = self
            .other_at_ends(py, px, [valy + mney.lower, valy + mney.upper])
            .ok_or("unable to find the x values at y's MINOS ends")?;
        Ok(vec![
            (valx + mnex.lower, yx[0]),
            (xy[0], valy + mney.lower),
            (valx + mnex.upper, yx[1]),
            (xy[1], valy + mney.upper),
        ])
    }

    /// The fitted `other` with `fixed` at each of the two values; None if
    /// a fit fails.
    fn other_at_ends(&mut self, fixed: usize, other: usize, v: [f64; 2]) -> Option<[f64; 2]> {
        let strat = self.strat.next_lower();
        let mut inner =
            Inner::at_minimum(self.params, self.min, &[fixed], strat, TOLER, self.exact);
        let mut out = [0.0; 2];
        for (k, &val) in v.iter().enumerate() {
            let r = inner.run(&mut self.ctx, &[val]);
            if !r.valid {
                return None;
            }
            out[k] = inner.params[other].value;
        }
        Some(out)
    }

    /// Point `i` (counting from 0): the crossing on the perpendicular
    /// through the middle of the widest gap, or through a point a quarter
    /// of the way along it on either side when the middle fails.
    fn add_point(
        &mut self,
        result: &mut Vec<(f64, f64)>,
        i: usize,
        (scalx, scaly): (f64, f64),
    ) -> Result<(), String> {
        let (i1, i2) = widest_gap(
            result,
            scalx,
            scaly,
            &self.params[self.px],
            &self.params[self.py],
        );
        let (mut a1, mut a2) = (0.5, 0.5);
        loop {
            if self.nfcn() > self.maxcalls {
                return Err("maximum number of function calls exhausted".into());
            }
            let (p1, p2) = (result[i1], result[i2]);
            let xmid = a1 * p1.0 + a2 * p2.0;
            let ymid = a1 * p1.1 + a2 * p2.1;
            let (xdir, ydir) = (p2.1 - p1.1, p1.0 - p2.0);
            let scal = (xdir * scalx).abs().max((ydir * scaly).abs());
            let (xd, yd) = (xdir / scal, ydir / scal);
            match self.cross(&[xmid, ymid], &[xd, yd]) {
                Cross::Valid(a) => {
                    let p = (xmid + a * xd, ymid + a * yd);
                    if i2 == 0 {
                        result.push(p);
                    } else {
                        result.insert(i2, p);
                    }
                    return Ok(());
                }
                _ if a1 < 0.3 => {
                    return Err(format!("unable to find point {} on the contour", i + 1))
                }
                _ if a1 > 0.5 => (a1, a2) = (0.25, 0.75),
                _ => (a1, a2) = (0.75, 0.25),
            }
        }
    }

    /// MnFunctionCross with both parameters moved along `pdir` from `pmid`.
    fn cross(&mut self, pmid: &[f64], pdir: &[f64]) -> Cross {
        let (params, min) = (self.params, self.min);
        let strat = self.strat.next_lower();
        let mut inner = Inner::at_minimum(
            params,
            min,
            &[self.px, self.py],
            strat,
            0.5 * TOLER,
            self.exact,
        );
        inner.maxcalls = self.maxcalls;
        function_cross(&mut self.ctx, &mut inner, params, min.fval, pmid, pdir)
    }
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
/// the level), clamped to the limits. A failure means some ray did not
/// cross.
fn rays(job: &mut Job) -> Attempt {
    let trafo = Transform::new(job.params);
    let Some(frame) = Ellipse::of(job, &trafo) else {
        return Attempt::failed(vec![], 0, "not two free parameters");
    };
    let (params, min, npoints) = (job.params, job.min, job.npoints);
    let strat = Strategy::new(0);
    let mut ctx = Ctx::new(&mut *job.fcn, trafo, job.up);
    let aim = min.fval + job.up;
    let mut points = Vec::with_capacity(npoints + 1);
    let mut all_ok = true;
    for k in 0..npoints {
        let phi = -std::f64::consts::PI + 2.0 * std::f64::consts::PI * k as f64 / npoints as f64;
        let mut ray = Ray {
            ctx: &mut ctx,
            inner: Inner::at_minimum(params, min, &[job.px, job.py], strat, 0.05, job.exact),
            frame: &frame,
            phi,
        };
        let (point, ok) = ray.crossing(aim, job.up);
        all_ok &= ok;
        points.extend(point);
    }
    let nfcn = ctx.nfcn;
    if all_ok && points.len() == npoints {
        Attempt {
            points,
            nfcn,
            failure: None,
        }
    } else {
        Attempt::failed(points, nfcn, "a ray did not cross the level")
    }
}

/// The covariance ellipse of the two parameters, scaled to the level: its
/// centre, rotation (cos, sin) and half-axes, and the limits to clamp to.
struct Ellipse<'a> {
    centre: (f64, f64),
    rot: (f64, f64),
    half_axes: (f64, f64),
    limits: (&'a ParamSpec, &'a ParamSpec),
}

impl<'a> Ellipse<'a> {
    /// From the 2x2 block of the covariance (or the errors when there is
    /// none), larger axis first; None unless both parameters are free.
    fn of(job: &Job<'a>, trafo: &Transform) -> Option<Ellipse<'a>> {
        let (px, py, min) = (job.px, job.py, job.min);
        let (ix, iy) = (trafo.int_of_ext(px)?, trafo.int_of_ext(py)?);
        let (sxx, sxy, syy) = match &min.covariance {
            Some(c) => (c[(ix, ix)], c[(ix, iy)], c[(iy, iy)]),
            None => (min.errors[px].powi(2), 0.0, min.errors[py].powi(2)),
        };
        let tr = 0.5 * (sxx + syy);
        let det = sxx * syy - sxy * sxy;
        let disc = (tr * tr - det).max(0.0).sqrt();
        let (l1, l2) = (tr + disc, (tr - disc).max(f64::MIN_POSITIVE));
        let theta = 0.5 * (2.0 * sxy).atan2(sxx - syy);
        // the ellipse (x - x0)' C^-1 (x - x0) = up / errordef has these half-axes
        Some(Ellipse {
            centre: (min.values[px], min.values[py]),
            rot: (theta.cos(), theta.sin()),
            half_axes: (
                (l1 * job.up / min.errordef).sqrt(),
                (l2 * job.up / min.errordef).sqrt(),
            ),
            limits: (&job.params[px], &job.params[py]),
        })
    }

    /// The point `z` times the way to the ellipse at angle `phi`, clamped
    /// to the limits.
    fn at(&self, z: f64, phi: f64) -> (f64, f64) {
        let clamp = |v: f64, p: &ParamSpec| {
            v.max(p.lower.unwrap_or(f64::NEG_INFINITY))
                .min(p.upper.unwrap_or(f64::INFINITY))
        };
        let ((c, s), (s1, s2)) = (self.rot, self.half_axes);
        let (u, w) = (z * s1 * phi.cos(), z * s2 * phi.sin());
        (
            clamp(self.centre.0 + c * u - s * w, self.limits.0),
            clamp(self.centre.1 + s * u + c * w, self.limits.1),
        )
    }
}

/// One ray of the second method, its fits continuing from each other.
struct Ray<'r, 'c> {
    ctx: &'r mut Ctx<'c>,
    inner: Inner,
    frame: &'r Ellipse<'r>,
    phi: f64,
}

/// A fit on a ray: the function minimized over the others, whether the
/// fit is valid, and the point.
type RayFit = (f64, bool, (f64, f64));

impl Ray<'_, '_> {
    fn fit(&mut self, z: f64) -> RayFit {
        let p = self.frame.at(z, self.phi);
        let r = self.inner.run(self.ctx, &[p.0, p.1]);
        (r.fval, r.valid, p)
    }

    /// The point where the ray crosses `aim` (or where a limit stops it
    /// below), and whether every fit was valid.
    fn crossing(&mut self, aim: f64, up: f64) -> (Option<(f64, f64)>, bool) {
        let (lo, hi, fh) = self.bracket(aim);
        if !fh.1 {
            return (None, false);
        }
        if fh.0 < aim {
            return (Some(fh.2), true);
        }
        let (best, ok) = self.bisect(lo, hi, fh.2, aim, up);
        (Some(best), ok)
    }

    /// Doubles `z` from 1 until f(hi) >= aim (at most 40 times), a fit
    /// fails, or a limit stops the ray: (lo, hi, the fit at hi).
    fn bracket(&mut self, aim: f64) -> (f64, f64, RayFit) {
        let (mut lo, mut hi) = (0.0, 1.0);
        let mut fh = self.fit(hi);
        let mut tries = 0;
        while fh.1 && fh.0 < aim && tries < 40 {
            let next = self.frame.at(2.0 * hi, self.phi);
            if next == fh.2 {
                break; // clamped at a limit: the contour follows the limit here
            }
            lo = hi;
            hi *= 2.0;
            fh = self.fit(hi);
            tries += 1;
        }
        (lo, hi, fh)
    }

    /// Bisection of [lo, hi] until f is within 1e-5 up of `aim` (at most
    /// 60 fits): the last point, and false if a fit failed.
    fn bisect(
        &mut self,
        mut lo: f64,
        mut hi: f64,
        mut best: (f64, f64),
        aim: f64,
        up: f64,
    ) -> ((f64, f64), bool) {
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            let fm = self.fit(mid);
            if !fm.1 {
                return (best, false);
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
        (best, true)
    }
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
    fn the_ellipse_frame_rotates_scales_and_clamps() {
        let p = specs();
        let mut py = p[1].clone();
        py.upper = Some(2.25);
        let e = Ellipse {
            centre: (1.0, 2.0),
            rot: (1.0, 0.0),
            half_axes: (2.0, 0.5),
            limits: (&p[0], &py),
        };
        assert_eq!(e.at(0.0, 0.7), (1.0, 2.0));
        assert_eq!(e.at(1.0, 0.0), (3.0, 2.0));
        let (x, y) = e.at(1.0, std::f64::consts::FRAC_PI_2);
        assert!(
            (x - 1.0).abs() < 1e-12 && y == 2.25,
            "clamped at the limit: {x} {y}"
        );
        // a quarter turn swaps the axes
        let turned = Ellipse {
            rot: (0.0, 1.0),
            ..e
        };
        let (x, y) = turned.at(1.0, 0.0);
        assert!((x - 1.0).abs() < 1e-12 && y == 2.25, "{x} {y}");
    }

    #[test]
    fn rays_stay_inside_a_limit() {
        let mut p = specs();
        p[0].lower = Some(-0.5);
        let mut f = Quad;
        let min = super::super::migrad(&mut f, &p, &Default::default());
        let mut job = Job {
            fcn: &mut f,
            params: &p,
            min: &min,
            px: 0,
            py: 1,
            npoints: 16,
            exact: false,
            up: 2.0,
        };
        let pts = rays(&mut job).points;
        assert_eq!(pts.len(), 16);
        assert!(pts.iter().all(|q| q.0 >= -0.5));
    }
}
