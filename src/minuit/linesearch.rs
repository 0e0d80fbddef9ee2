//! Minuit2's one-dimensional search along a step (MnLineSearch): the full
//! step first, then parabolas through the best three points with limits on
//! how far a new trial may go, at most 12 points; and the parabola through
//! three points it uses (MnParabolaFactory).

use super::state::{Ctx, Vector};
use super::transform::Precision;

/// The parabola y = a x^2 + b x + c through three points.
#[derive(Clone, Copy, Debug)]
pub struct Parabola {
    pub a: f64,
    pub b: f64,
    pub c: f64,
}

impl Parabola {
    /// Through (x1, y1), (x2, y2), (x3, y3), computed about their mean as
    /// Minuit2 does.
    pub fn through(p1: (f64, f64), p2: (f64, f64), p3: (f64, f64)) -> Parabola {
        let (mut x1, y1) = p1;
        let (mut x2, y2) = p2;
        let (mut x3, y3) = p3;
        let dx12 = x1 - x2;
        let dx13 = x1 - x3;
        let dx23 = x2 - x3;
        let xm = (x1 + x2 + x3) / 3.0;
        x1 -= xm;
        x2 -= xm;
        x3 -= xm;
        let a = y1 / (dx12 * dx13) - y2 / (dx12 * dx23) + y3 / (dx13 * dx23);
        let mut b = -y1 * (x2 + x3) / (dx12 * dx13) + y2 * (x1 + x3) / (dx12 * dx23)
            - y3 * (x1 + x2) / (dx13 * dx23);
        let mut c = y1 - a * x1 * x1 - b * x1;
        c += xm * (xm * a - b);
        b -= 2.0 * xm * a;
        Parabola { a, b, c }
    }

    /// The abscissa of the extremum.
    pub fn min(&self) -> f64 {
        -self.b / (2.0 * self.a)
    }
}

/// MnLineSearch's tolerance on the step fraction, the largest first
/// fraction, how far beyond the best point a parabola may reach (times
/// its distance from 0), and the most function calls counted.
const TOLER: f64 = 0.05;
const SLAMBG: f64 = 5.0;
const ALPHA: f64 = 2.0;
const MAXITER: usize = 12;

/// A point on the line: (fraction of the step, function value).
type Point = (f64, f64);

/// Searches along `step` from x (where f = f0, slope gdel = step . g);
/// returns (fraction of the step, f there) of the best point found.
pub fn line_search(
    ctx: &mut Ctx,
    x: &Vector,
    f0: f64,
    step: &Vector,
    gdel: f64,
    prec: &Precision,
) -> (f64, f64) {
    let mut s = LineSearch {
        slamin: smallest_fraction(x, step, prec),
        ctx,
        x,
        step,
        f0,
        gdel,
        prec,
        overall: 1000.0,
        undral: -100.0,
        toler8: TOLER,
        slamax: SLAMBG,
        niter: 1,
        fvmin: f0,
        xvmin: 0.0,
        trial: x.clone(),
    };
    // every early end keeps the best point so far
    let _ = s.search();
    (s.xvmin, s.fvmin)
}

/// The smallest step fraction worth trying: eps2 times the smallest
/// |x_i / step_i| (at least eps).
fn smallest_fraction(x: &Vector, step: &Vector, prec: &Precision) -> f64 {
    let mut slamin = 0.0;
    for i in 0..step.len() {
        if step[i] == 0.0 {
            continue;
        }
        let ratio = (x[i] / step[i]).abs();
        if slamin == 0.0 || ratio < slamin {
            slamin = ratio;
        }
    }
    if slamin.abs() < prec.eps {
        slamin = prec.eps;
    }
    slamin * prec.eps2
}

/// MnLineSearch's state: the line, the bounds on the next fraction
/// (`overall` above, `undral` below, `slamax` from the best), and the best
/// point (`xvmin`, `fvmin`).
struct LineSearch<'s, 'c> {
    ctx: &'s mut Ctx<'c>,
    x: &'s Vector,
    step: &'s Vector,
    f0: f64,
    gdel: f64,
    prec: &'s Precision,
    slamin: f64,
    overall: f64,
    undral: f64,
    toler8: f64,
    slamax: f64,
    niter: usize,
    fvmin: f64,
    xvmin: f64,
    /// The point of the last trial (one vector for the whole search).
    trial: Vector,
}

impl LineSearch<'_, '_> {
    /// The stages; None ends the search early (at the best point).
    fn search(&mut self) -> Option<()> {
        let f1 = self.value_at(1.0);
        self.niter += 1;
        if f1 < self.f0 {
            self.fvmin = f1;
            self.xvmin = 1.0;
        }
        let (p1, p2) = self.slope_parabolas(f1)?;
        if self.niter >= MAXITER {
            return None;
        }
        self.three_point_parabolas((0.0, self.f0), p1, p2)
    }

    fn value_at(&mut self, slam: f64) -> f64 {
        for ((t, &x), &s) in self.trial.iter_mut().zip(self.x).zip(self.step) {
            *t = x + s * slam;
        }
        self.ctx.value(&self.trial)
    }

    /// `(slam, f)` becomes the best point when it is lower.
    fn note_best(&mut self, slam: f64, f: f64) {
        if f < self.fvmin {
            self.fvmin = f;
            self.xvmin = slam;
        }
    }

    /// A point above the best one lowers `overall`, below it raises
    /// `undral`: the minimum is not beyond it.
    fn narrow(&mut self, slam: f64) {
        if slam > self.xvmin {
            self.overall = self.overall.min(slam - self.toler8);
        }
        if slam < self.xvmin {
            self.undral = self.undral.max(slam + self.toler8);
        }
    }

    /// The first stage: the minimum of the parabola with f0 and slope gdel
    /// at 0 through the last point, tried again closer in while the best
    /// is still f0. The last two points for the second stage.
    fn slope_parabolas(&mut self, f1: f64) -> Option<(Point, Point)> {
        let mut slam = 1.0;
        let mut p1 = (slam, f1);
        loop {
            let denom = 2.0 * (p1.1 - self.f0 - self.gdel * slam) / (slam * slam);
            slam = if denom != 0.0 {
                -self.gdel / denom
            } else {
                1.0
            };
            if slam < 0.0 {
                slam = self.slamax;
            }
            if slam > self.slamax {
                slam = self.slamax;
            }
            if slam < self.toler8 {
                slam = self.toler8;
            }
            if slam < self.slamin {
                return None;
            }
            if (slam - 1.0).abs() < self.toler8 && p1.1 < self.f0 {
                return None;
            }
            if (slam - 1.0).abs() < self.toler8 {
                slam = 1.0 + self.toler8;
            }
            if slam.is_nan() {
                return None;
            }
            let f2 = self.value_at(slam);
            self.niter += 1;
            self.note_best(slam, f2);
            let again = (self.f0 - self.fvmin).abs() < self.fvmin.abs() * self.prec.eps;
            if again {
                self.toler8 = TOLER * slam;
                self.overall = slam - self.toler8;
                self.slamax = self.overall;
                p1 = (slam, f2);
            }
            if !(again && self.niter < MAXITER) {
                return Some((p1, (slam, f2)));
            }
        }
    }

    /// The second stage: parabolas through three points, each new point
    /// replacing the highest, until MAXITER calls.
    fn three_point_parabolas(&mut self, mut p0: Point, mut p1: Point, mut p2: Point) -> Option<()> {
        loop {
            let slam = self.parabola_fraction(p0, p1, p2)?;
            let p3 = self.probe_below_highest(slam, [p0, p1, p2])?;
            if self.niter >= MAXITER {
                return None;
            }
            if p0.1 > p1.1 && p0.1 > p2.1 {
                p0 = p3;
            } else if p1.1 > p0.1 && p1.1 > p2.1 {
                p1 = p3;
            } else {
                p2 = p3;
            }
            let (slam, f3) = p3;
            if f3 < self.fvmin {
                self.fvmin = f3;
                self.xvmin = slam;
            } else {
                self.narrow(slam);
            }
            self.niter += 1;
            if self.niter >= MAXITER {
                return Some(());
            }
        }
    }

    /// The next fraction: the parabola's minimum (or, when it curves the
    /// wrong way, `slamax` downhill from the best), kept within `slamax`
    /// of the best point and within [undral, overall].
    fn parabola_fraction(&mut self, p0: Point, p1: Point, p2: Point) -> Option<f64> {
        self.slamax = self.slamax.max(ALPHA * self.xvmin.abs());
        let (xvmin, slamax) = (self.xvmin, self.slamax);
        let pb = Parabola::through(p0, p1, p2);
        let mut slam;
        if pb.a < self.prec.eps2 {
            let slopem = 2.0 * pb.a * xvmin + pb.b;
            slam = if slopem < 0.0 {
                xvmin + slamax
            } else {
                xvmin - slamax
            };
        } else {
            slam = pb.min();
            if slam > xvmin + slamax {
                slam = xvmin + slamax;
            }
            if slam < xvmin - slamax {
                slam = xvmin - slamax;
            }
        }
        if slam > 0.0 {
            if slam > self.overall {
                slam = self.overall;
            }
        } else if slam < self.undral {
            slam = self.undral;
        }
        (!slam.is_nan()).then_some(slam)
    }

    /// The point at `slam`, moved halfway to the best while it lies above
    /// all three; None when it comes within tolerance of one of them.
    fn probe_below_highest(&mut self, mut slam: f64, pts: [Point; 3]) -> Option<Point> {
        loop {
            let toler9 = self.toler8.max((self.toler8 * slam).abs());
            if pts.iter().any(|p| (p.0 - slam).abs() < toler9) {
                return None;
            }
            let f3 = self.value_at(slam);
            let above = pts.iter().all(|p| f3 > p.1);
            if above {
                self.narrow(slam);
                slam = 0.5 * (slam + self.xvmin);
                self.niter += 1;
            }
            if !(above && self.niter < MAXITER) {
                return Some((slam, f3));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minuit::simplex::tests::F;
    use crate::minuit::transform::Transform;
    use crate::minuit::ParamSpec;

    #[test]
    fn smallest_fraction_is_eps2_times_the_smallest_ratio() {
        let p = Precision::default();
        let x = Vector::from_vec(vec![2.0, 1.0, 5.0]);
        let step = Vector::from_vec(vec![1.0, 0.0, -10.0]);
        // |2 / 1| and |5 / -10|; a zero step does not count
        assert_eq!(smallest_fraction(&x, &step, &p), 0.5 * p.eps2);
        // every ratio 0 at the origin: eps stands in
        assert_eq!(
            smallest_fraction(&Vector::zeros(3), &step, &p),
            p.eps * p.eps2
        );
    }

    #[test]
    fn parabola_through_three_points_and_its_minimum() {
        // y = (x - 1)^2
        let pb = Parabola::through((0.0, 1.0), (1.0, 0.0), (3.0, 4.0));
        assert!((pb.a - 1.0).abs() < 1e-12 && (pb.b + 2.0).abs() < 1e-12);
        assert!((pb.c - 1.0).abs() < 1e-12 && (pb.min() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn a_quadratic_is_minimized_along_the_line_in_few_calls() {
        let mut fcn = F(|x: &[f64]| (x[0] - 3.0).powi(2));
        let spec = ParamSpec {
            name: "x".into(),
            value: 0.0,
            error: 0.1,
            lower: None,
            upper: None,
            fixed: false,
        };
        let mut ctx = Ctx::new(&mut fcn, Transform::new(&[spec]), 1.0);
        let (x0, step) = (Vector::zeros(1), Vector::from_vec(vec![1.0]));
        // f(0) = 9, slope -6 along the step: the parabola lands on 3
        let (a, fa) = line_search(&mut ctx, &x0, 9.0, &step, -6.0, &Precision::default());
        assert!((a - 3.0).abs() < 1e-9 && fa < 1e-12, "{a} {fa}");
        assert!(ctx.nfcn <= 3, "{} calls", ctx.nfcn);
    }
}
