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
    let mut overall = 1000.0;
    let mut undral = -100.0;
    let toler = 0.05;
    let slambg = 5.0;
    let alpha = 2.0;
    let maxiter = 12;
    let mut niter = 1;

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
    slamin *= prec.eps2;

    let at = |slam: f64| -> Vector { x + step * slam };
    let f1 = ctx.value(&at(1.0));
    niter += 1;
    let mut fvmin = f0;
    let mut xvmin = 0.0;
    if f1 < f0 {
        fvmin = f1;
        xvmin = 1.0;
    }
    let mut toler8 = toler;
    let mut slamax = slambg;
    let mut flast = f1;
    let mut slam = 1.0;
    let p0 = (0.0, f0);
    let mut p1 = (slam, flast);
    let mut f2;
    loop {
        let mut denom = 2.0 * (flast - f0 - gdel * slam) / (slam * slam);
        if denom != 0.0 {
            slam = -gdel / denom;
        } else {
            denom = -0.1 * gdel;
            let _ = denom;
            slam = 1.0;
        }
        if slam < 0.0 {
            slam = slamax;
        }
        if slam > slamax {
            slam = slamax;
        }
        if slam < toler8 {
            slam = toler8;
        }
        if slam < slamin {
            return (xvmin, fvmin);
        }
        if (slam - 1.0).abs() < toler8 && p1.1 < p0.1 {
            return (xvmin, fvmin);
        }
        if (slam - 1.0).abs() < toler8 {
            slam = 1.0 + toler8;
        }
        if slam.is_nan() {
            return (xvmin, fvmin);
        }
        f2 = ctx.value(&at(slam));
        niter += 1;
        if f2 < fvmin {
            fvmin = f2;
            xvmin = slam;
        }
        let mut again = false;
        if (p0.1 - fvmin).abs() < fvmin.abs() * prec.eps {
            again = true;
            flast = f2;
            toler8 = toler * slam;
            overall = slam - toler8;
            slamax = overall;
            p1 = (slam, flast);
        }
        if !(again && niter < maxiter) {
            break;
        }
    }
    if niter >= maxiter {
        return (xvmin, fvmin);
    }
    let mut p0 = p0;
    let mut p2 = (slam, f2);
    loop {
        slamax = slamax.max(alpha * xvmin.abs());
        let pb = Parabola::through(p0, p1, p2);
        if pb.a < prec.eps2 {
            let slopem = 2.0 * pb.a * xvmin + pb.b;
            if slopem < 0.0 {
                slam = xvmin + slamax;
            } else {
                slam = xvmin - slamax;
            }
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
            if slam > overall {
                slam = overall;
            }
        } else if slam < undral {
            slam = undral;
        }
        if slam.is_nan() {
            return (xvmin, fvmin);
        }
        let mut f3;
        loop {
            let toler9 = toler8.max((toler8 * slam).abs());
            if (p0.0 - slam).abs() < toler9
                || (p1.0 - slam).abs() < toler9
                || (p2.0 - slam).abs() < toler9
            {
                return (xvmin, fvmin);
            }
            f3 = ctx.value(&at(slam));
            let mut again = false;
            if f3 > p0.1 && f3 > p1.1 && f3 > p2.1 {
                if slam > xvmin {
                    overall = overall.min(slam - toler8);
                }
                if slam < xvmin {
                    undral = undral.max(slam + toler8);
                }
                slam = 0.5 * (slam + xvmin);
                again = true;
                niter += 1;
            }
            if !(again && niter < maxiter) {
                break;
            }
        }
        if niter >= maxiter {
            return (xvmin, fvmin);
        }
        let p3 = (slam, f3);
        if p0.1 > p1.1 && p0.1 > p2.1 {
            p0 = p3;
        } else if p1.1 > p0.1 && p1.1 > p2.1 {
            p1 = p3;
        } else {
            p2 = p3;
        }
        if f3 < fvmin {
            fvmin = f3;
            xvmin = slam;
        } else {
            if slam > xvmin {
                overall = overall.min(slam - toler8);
            }
            if slam < xvmin {
                undral = undral.max(slam + toler8);
            }
        }
        niter += 1;
        if niter >= maxiter {
            break;
        }
    }
    (xvmin, fvmin)
}
