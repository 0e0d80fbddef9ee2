//! MnFunctionCross: the `a` where the function, minimized over the other
//! parameters with some parameters fixed at `pmid + a * pdir`, rises to
//! fmin + up. MINOS (one parameter) and the contours (one or two) use it.
//!
//! The search follows Minuit2's stages: two first points (a = 0 and a
//! guess from the rise there), a walk forward while the function falls
//! (its label 300), a straight line through the last two points to a third
//! (label 460), and parabolas through three points (label 500). Each inner
//! fit can end the search (new minimum, call limit, invalid fit, limit),
//! which the steps pass up as `ControlFlow::Break`.

use std::convert::Infallible;
use std::ops::ControlFlow::{self, Break, Continue};

use super::{Cross, Inner, InnerResult};
use crate::minuit::linesearch::Parabola;
use crate::minuit::state::Ctx;
use crate::minuit::ParamSpec;

/// One stage of the search: `Break` ends it with that result.
type Step<T> = ControlFlow<Cross, T>;

/// MnFunctionCross's `tlr`: the tolerance on `a` (relative beyond 1) and,
/// times up, on the function.
const TLR: f64 = 0.01;
/// MnFunctionCross's `maxitr`: the most inner fits.
const MAXITR: usize = 30;

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
    let eps = ctx.trafo.precision().eps;
    let (aulim, on_limit) = a_limit(&inner.pars, params, pmid, pdir, eps);
    if on_limit && inner.pars.len() == 1 {
        return Cross::ParLimit;
    }
    let up = ctx.up;
    let mut search = CrossSearch {
        ctx,
        inner,
        pmid,
        pdir,
        fmin: fval,
        up,
        aim: fval + up,
        tlf: TLR * up,
        eps,
        aulim,
        // Minuit2's `aulim < aopt + tla` at aopt = 0
        limset: on_limit || aulim < TLR,
        ipt: 0,
        alsb: [0.0; 3],
        flsb: [0.0; 3],
        dfda: 0.0,
    };
    let Break(cross) = search.run();
    cross
}

/// How far `a` may go before a moved parameter meets its limit (at most
/// 100, MnFunctionCross's `aulim`), and whether one already sits on its
/// limit with (almost) no direction to move.
fn a_limit(
    pars: &[usize],
    params: &[ParamSpec],
    pmid: &[f64],
    pdir: &[f64],
    eps: f64,
) -> (f64, bool) {
    let mut aulim: f64 = 100.0;
    let mut on_limit = false;
    for (k, &par) in pars.iter().enumerate() {
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
            if zdir.abs() < eps {
                if (zlim - zmid).abs() < eps {
                    on_limit = true;
                }
            } else {
                aulim = aulim.min((zlim - zmid) / zdir);
            }
        }
    }
    (aulim, on_limit)
}

/// The state MnFunctionCross's stages share: the points fitted so far
/// (`alsb`, `flsb`), the slope between the first two, the limit on `a`.
struct CrossSearch<'s, 'c> {
    ctx: &'s mut Ctx<'c>,
    inner: &'s mut Inner,
    pmid: &'s [f64],
    pdir: &'s [f64],
    /// The function at the minimum (`aminsv`).
    fmin: f64,
    up: f64,
    /// The level sought: fmin + up.
    aim: f64,
    /// The tolerance on the function.
    tlf: f64,
    eps: f64,
    aulim: f64,
    /// The last trial `a` was capped at `aulim`.
    limset: bool,
    /// Inner fits so far.
    ipt: usize,
    alsb: [f64; 3],
    flsb: [f64; 3],
    dfda: f64,
}

impl CrossSearch<'_, '_> {
    /// The stages in Minuit2's order; only a `Break` leaves.
    fn run(&mut self) -> Step<Infallible> {
        self.first_points()?;
        let mut walk = true;
        loop {
            if walk {
                self.walk_while_falling()?;
            }
            self.secant_point()?;
            let r = rank_three(&self.flsb, self.aim);
            match r.below {
                1 | 2 => return self.parabolas(r.best),
                0 if r.best != 2 => return Break(Cross::Invalid),
                3 if r.best != 2 => {
                    // all below the level: walk on from the third point
                    self.alsb[1] = self.alsb[2];
                    self.flsb[1] = self.flsb[2];
                    walk = true;
                }
                _ => {
                    // the third point replaces the worst; a new straight line
                    self.flsb[r.worst] = self.flsb[2];
                    self.alsb[r.worst] = self.alsb[2];
                    self.dfda = self.slope01();
                    walk = false;
                }
            }
        }
    }

    /// The slope between the first two points.
    fn slope01(&self) -> f64 {
        (self.flsb[1] - self.flsb[0]) / (self.alsb[1] - self.alsb[0])
    }

    /// The inner fit at `a`, ended on a new minimum, the call limit, an
    /// invalid fit, or a capped `a` still below the level; else its value.
    fn probe(&mut self, a: f64) -> Step<f64> {
        let r: InnerResult = self.inner.run_line(self.ctx, self.pmid, self.pdir, a);
        if r.fval < self.fmin - self.tlf {
            return Break(Cross::NewMin);
        }
        if r.call_limit {
            return Break(Cross::FcnLimit);
        }
        if !r.valid {
            return Break(Cross::Invalid);
        }
        if self.limset && r.fval < self.aim {
            return Break(Cross::ParLimit);
        }
        self.ipt += 1;
        Continue(r.fval)
    }

    /// `a` capped at the parameter limit, noting whether it was.
    fn cap(&mut self, a: f64) -> f64 {
        let (a, capped) = cap_at(a, self.aulim);
        self.limset = capped;
        a
    }

    /// `probe` at the capped `a` (which must be finite); the `a` and value.
    fn probe_capped(&mut self, a: f64) -> Step<(f64, f64)> {
        let a = self.cap(a);
        if !a.is_finite() {
            return Break(Cross::Invalid);
        }
        let f = self.probe(a)?;
        Continue((a, f))
    }

    /// The points at a = 0 and at the `a` the rise there suggests (as if
    /// the function were a parabola in `a`).
    fn first_points(&mut self) -> Step<()> {
        let f0 = self.probe(0.0)?;
        self.alsb[0] = 0.0;
        self.flsb[0] = f0.max(self.fmin + 0.1 * self.up);
        let aopt = (self.up / (self.flsb[0] - self.fmin)).sqrt() - 1.0;
        if (self.flsb[0] - self.aim).abs() < self.tlf {
            return Break(Cross::Valid(aopt));
        }
        let aopt = self.cap(aopt.clamp(-0.5, 1.0));
        let f1 = self.probe(aopt)?;
        self.alsb[1] = aopt;
        self.flsb[1] = f1;
        self.dfda = self.slope01();
        Continue(())
    }

    /// Label 300: while the function falls, steps forward by 0.2, 0.4, ...
    /// until it rises.
    fn walk_while_falling(&mut self) -> Step<()> {
        if self.dfda < 0.0 {
            let maxlk = MAXITR.saturating_sub(self.ipt);
            for it in 0..maxlk {
                self.alsb[0] = self.alsb[1];
                self.flsb[0] = self.flsb[1];
                let aopt = self.cap(self.alsb[0] + 0.2 * (it + 1) as f64);
                let f = self.probe(aopt)?;
                self.alsb[1] = aopt;
                self.flsb[1] = f;
                self.dfda = self.slope01();
                if self.dfda > 0.0 {
                    break;
                }
            }
            if self.ipt > MAXITR {
                return Break(Cross::Invalid);
            }
        }
        Continue(())
    }

    /// Label 460: the straight line through the first two points meets the
    /// level; done when that is close to both, else the third point there
    /// (at most 1 beyond the two).
    fn secant_point(&mut self) -> Step<()> {
        let (alsb, flsb, aim) = (self.alsb, self.flsb, self.aim);
        let mut aopt = alsb[1] + (aim - flsb[1]) / self.dfda;
        let fdist = (aim - flsb[0]).abs().min((aim - flsb[1]).abs());
        let adist = (aopt - alsb[0]).abs().min((aopt - alsb[1]).abs());
        let tla = a_tolerance(TLR, aopt);
        if adist < tla && fdist < self.tlf {
            return Break(Cross::Valid(aopt));
        }
        if self.ipt > MAXITR {
            return Break(Cross::Invalid);
        }
        let bmin = alsb[0].min(alsb[1]) - 1.0;
        if aopt < bmin {
            aopt = bmin;
        }
        let bmax = alsb[0].max(alsb[1]) + 1.0;
        if aopt > bmax {
            aopt = bmax;
        }
        let (aopt, f) = self.probe_capped(aopt)?;
        self.alsb[2] = aopt;
        self.flsb[2] = f;
        Continue(())
    }

    /// Label 500: parabolas through the three points, each new point
    /// replacing the one the bracket around the level can spare, until one
    /// lands on the level.
    fn parabolas(&mut self, mut ibest: usize) -> Step<Infallible> {
        loop {
            let (aopt, slope) = self.parabola_crossing()?;
            let tla = a_tolerance(TLR, aopt);
            if (aopt - self.alsb[ibest]).abs() < tla
                && (self.flsb[ibest] - self.aim).abs() < self.tlf
            {
                return Break(Cross::Valid(aopt));
            }
            let Some(b) = bracket(&self.flsb, self.aim) else {
                return Break(Cross::Invalid);
            };
            let aopt = self.inside_bracket(aopt, slope, tla, &b);
            let (aopt, f) = self.probe_capped(aopt)?;
            self.alsb[b.out] = aopt;
            self.flsb[b.out] = f;
            ibest = b.out;
            if self.ipt >= MAXITR {
                return Break(Cross::Invalid);
            }
        }
    }

    /// Where the parabola through the three points crosses the level, on
    /// its rising side when it rises there, and its slope at that `a`.
    fn parabola_crossing(&self) -> Step<(f64, f64)> {
        let (alsb, flsb) = (self.alsb, self.flsb);
        let pb = Parabola::through((alsb[0], flsb[0]), (alsb[1], flsb[1]), (alsb[2], flsb[2]));
        let (c1, c2, c3) = (pb.c, pb.b, pb.a);
        let determ = c2 * c2 - 4.0 * c3 * (c1 - self.aim);
        if determ.is_nan() || determ < self.eps {
            return Break(Cross::Invalid);
        }
        let rt = determ.sqrt();
        let x1 = (-c2 + rt) / (2.0 * c3);
        let x2 = (-c2 - rt) / (2.0 * c3);
        let s1 = c2 + 2.0 * x1 * c3;
        let s2 = c2 + 2.0 * x2 * c3;
        if s2 > 0.0 {
            Continue((x2, s2))
        } else {
            Continue((x1, s1))
        }
    }

    /// `aopt` pulled halfway towards the bracket's middle when the point
    /// to drop is much nearer the level than the farthest, then kept a
    /// little (`smalla`) inside the bracket.
    fn inside_bracket(&self, mut aopt: f64, slope: f64, tla: f64, b: &Bracket) -> f64 {
        let (alsb, flsb, aim, tlf) = (self.alsb, self.flsb, self.aim, self.tlf);
        let mut ecarmx: f64 = 0.0;
        for fl in flsb {
            ecarmx = ecarmx.max((fl - aim).abs());
        }
        if ecarmx > 10.0 * (flsb[b.out] - aim).abs() {
            aopt = 0.5 * (aopt + 0.5 * (alsb[b.right] + alsb[b.left]));
        }
        let mut smalla = 0.1 * tla;
        if slope * smalla > tlf {
            smalla = tlf / slope;
        }
        let aleft = alsb[b.left] + smalla;
        let aright = alsb[b.right] - smalla;
        if aopt < aleft {
            aopt = aleft;
        }
        if aopt > aright {
            aopt = aright;
        }
        if aleft > aright {
            aopt = 0.5 * (aleft + aright);
        }
        aopt
    }
}

/// How three points lie about the level (MnFunctionCross's ibest, iworst,
/// noless).
#[derive(Debug, PartialEq)]
struct Ranking {
    /// Nearest the level (the third on ties).
    best: usize,
    /// Farthest from it.
    worst: usize,
    /// How many are below it.
    below: usize,
}

fn rank_three(flsb: &[f64; 3], aim: f64) -> Ranking {
    let mut ecarmn = (flsb[2] - aim).abs();
    let mut ecarmx = 0.0;
    let mut r = Ranking {
        best: 2,
        worst: 0,
        below: 0,
    };
    for (i, &fl) in flsb.iter().enumerate() {
        let ecart = (fl - aim).abs();
        if ecart > ecarmx {
            ecarmx = ecart;
            r.worst = i;
        }
        if ecart < ecarmn {
            ecarmn = ecart;
            r.best = i;
        }
        if fl < aim {
            r.below += 1;
        }
    }
    r
}

/// The points nearest the level from below (`left`) and above (`right`),
/// and the one to replace (`out`).
#[derive(Debug, PartialEq)]
struct Bracket {
    left: usize,
    right: usize,
    out: usize,
}

/// The bracket of three points about the level, None unless there are
/// points on both sides of it.
fn bracket(flsb: &[f64; 3], aim: f64) -> Option<Bracket> {
    let mut ileft = 3;
    let mut iright = 3;
    let mut iout = 3;
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
        return None;
    }
    Some(Bracket {
        left: ileft,
        right: iright,
        out: iout,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranking_counts_points_below_and_prefers_the_third_on_ties() {
        let r = rank_three(&[0.5, 2.0, 1.5], 1.0);
        assert_eq!(
            r,
            Ranking {
                best: 2,
                worst: 1,
                below: 1
            }
        );
        // 0.5 and 1.5 are exactly as far from 1
        let r = rank_three(&[0.5, 3.0, 1.5], 1.0);
        assert_eq!(r.best, 2, "a tie keeps the new point");
        assert_eq!(r.worst, 1);
        let r = rank_three(&[0.99, 0.2, 0.5], 1.0);
        assert_eq!(
            r,
            Ranking {
                best: 0,
                worst: 1,
                below: 3
            }
        );
    }

    #[test]
    fn bracket_drops_the_farther_point_on_the_doubled_side() {
        // two above the level: the higher one goes
        let b = bracket(&[0.5, 1.5, 3.0], 1.0).unwrap();
        assert_eq!(
            b,
            Bracket {
                left: 0,
                right: 1,
                out: 2
            }
        );
        // two below: the lower one goes
        let b = bracket(&[0.2, 0.8, 3.0], 1.0).unwrap();
        assert_eq!(
            b,
            Bracket {
                left: 1,
                right: 2,
                out: 0
            }
        );
        assert_eq!(bracket(&[0.2, 0.8, 0.9], 1.0), None);
        assert_eq!(bracket(&[1.2, 1.8, 1.9], 1.0), None);
    }

    #[test]
    fn a_limit_is_the_nearest_limit_along_the_direction() {
        let params = [ParamSpec {
            name: "x".into(),
            value: 0.0,
            error: 0.1,
            lower: Some(-1.0),
            upper: Some(3.0),
            fixed: false,
        }];
        assert_eq!(a_limit(&[0], &params, &[1.0], &[0.5], 1e-16), (4.0, false));
        assert_eq!(a_limit(&[0], &params, &[1.0], &[-4.0], 1e-16), (0.5, false));
        assert_eq!(
            a_limit(&[0], &params, &[1.0], &[0.0], 1e-16),
            (100.0, false)
        );
        // a tiny step from the limit itself: on the limit
        assert_eq!(
            a_limit(&[0], &params, &[3.0], &[1e-20], 1e-16),
            (100.0, true)
        );
    }

    #[test]
    fn caps_and_tolerances() {
        assert_eq!(cap_at(2.0, 1.5), (1.5, true));
        assert_eq!(cap_at(1.0, 1.5), (1.0, false));
        assert!(cap_at(f64::NAN, 1.5).0.is_nan());
        assert_eq!(a_tolerance(0.01, 0.5), 0.01);
        assert_eq!(a_tolerance(0.01, -4.0), 0.04);
    }
}
