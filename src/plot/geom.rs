//! Plane geometry the figures need: clipping segments and polylines to a
//! box (Liang-Barsky), and the mapping between data and pixel coordinates.

/// A box `(x0, x1, y0, y1)` with `x0 <= x1` and `y0 <= y1`.
pub(super) type Bx = (f64, f64, f64, f64);

/// Clips the segment `a`-`b` to the box (Liang-Barsky); `None` when no
/// part of it is inside.
pub(super) fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    (x0, x1, y0, y1): Bx,
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 || !t0.is_finite() || !t1.is_finite() {
        return None;
    }
    let at = |t: f64| (a.0 + t * dx, a.1 + t * dy);
    Some((
        if t0 > 0.0 { at(t0) } else { a },
        if t1 < 1.0 { at(t1) } else { b },
    ))
}

fn finite(p: &(f64, f64)) -> bool {
    p.0.is_finite() && p.1.is_finite()
}

fn inside(p: &(f64, f64), (x0, x1, y0, y1): Bx) -> bool {
    p.0 >= x0 && p.0 <= x1 && p.1 >= y0 && p.1 <= y1
}

/// The polyline through `pts` cut to the box: a list of runs whose vertices
/// are the given points inside the box, plus the crossing points where the
/// line leaves or enters it. Non-finite points break the line. A line
/// that stays inside is returned whole, with exactly its own vertices.
pub(super) fn clip_polyline(pts: &[(f64, f64)], bx: Bx) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    let flush = |cur: &mut Vec<(f64, f64)>, out: &mut Vec<Vec<(f64, f64)>>| {
        if !cur.is_empty() {
            out.push(std::mem::take(cur));
        }
    };
    if pts.len() == 1 && finite(&pts[0]) && inside(&pts[0], bx) {
        return vec![pts.to_vec()];
    }
    for w in pts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let seg = if finite(&a) && finite(&b) {
            clip_segment(a, b, bx)
        } else {
            None
        };
        match seg {
            None => flush(&mut cur, &mut out),
            Some((p, q)) => {
                if cur.is_empty() || p != a {
                    flush(&mut cur, &mut out);
                    cur.push(p);
                }
                cur.push(q);
                if q != b {
                    flush(&mut cur, &mut out);
                }
            }
        }
    }
    flush(&mut cur, &mut out);
    out
}

/// An affine map from a data interval onto a pixel interval (possibly
/// reversed, as y is), optionally through log10.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Scale {
    /// Data range, in log10 units when `log`.
    pub lo: f64,
    pub hi: f64,
    pub p0: f64,
    pub p1: f64,
    pub log: bool,
}

impl Scale {
    /// Pixel coordinate of `v` (data units); non-positive values on a log
    /// scale are NaN.
    pub fn px(&self, v: f64) -> f64 {
        let v = if self.log {
            if v > 0.0 {
                v.log10()
            } else {
                f64::NAN
            }
        } else {
            v
        };
        self.p0 + (v - self.lo) / (self.hi - self.lo) * (self.p1 - self.p0)
    }

    /// Pixel coordinate of a value already in axis units (log10 on a log axis).
    pub fn px_axis(&self, u: f64) -> f64 {
        self.p0 + (u - self.lo) / (self.hi - self.lo) * (self.p1 - self.p0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_inside_keeps_its_vertices() {
        let pts = [(0.1, 0.1), (0.5, 0.9), (0.9, 0.1)];
        assert_eq!(
            clip_polyline(&pts, (0.0, 1.0, 0.0, 1.0)),
            vec![pts.to_vec()]
        );
    }

    #[test]
    fn a_line_leaving_the_box_is_cut_at_the_edge() {
        let pts = [(0.5, 0.5), (1.5, 0.5), (0.5, 0.25)];
        let runs = clip_polyline(&pts, (0.0, 1.0, 0.0, 1.0));
        assert_eq!(runs.len(), 2);
        assert_eq!(runs[0], vec![(0.5, 0.5), (1.0, 0.5)]);
        assert_eq!(runs[1][1], (0.5, 0.25));
        assert!((runs[1][0].0 - 1.0).abs() < 1e-12);
    }

    #[test]
    fn non_finite_points_break_the_line() {
        let pts = [
            (0.1, 0.1),
            (0.2, 0.2),
            (f64::NAN, 0.0),
            (0.3, 0.3),
            (0.4, 0.4),
        ];
        let runs = clip_polyline(&pts, (0.0, 1.0, 0.0, 1.0));
        assert_eq!(
            runs,
            vec![vec![(0.1, 0.1), (0.2, 0.2)], vec![(0.3, 0.3), (0.4, 0.4)]]
        );
    }

    #[test]
    fn a_segment_missing_the_box_is_dropped() {
        assert_eq!(
            clip_segment((2.0, 2.0), (3.0, 2.5), (0.0, 1.0, 0.0, 1.0)),
            None
        );
        assert!(clip_polyline(&[(2.0, 2.0), (3.0, 3.0)], (0.0, 1.0, 0.0, 1.0)).is_empty());
    }
}
