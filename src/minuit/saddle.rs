//! What the exact Hessian tells about a point MIGRAD stopped at, beyond
//! what Minuit2 can know from its approximations: a parameter without
//! curvature (a zero diagonal element, where Minuit2's numerical HESSE
//! finds "2nd derivative zero" and fails), and a saddle (a negative
//! eigenvalue). MIGRAD only follows -V g, so at a saddle whose gradient
//! vanishes it stops and its matrix, forced positive definite, looks
//! fine; here the point is left along the direction of negative
//! curvature and MIGRAD goes on from there (`migrad` does this in autograd
//! mode), and a saddle that cannot be left is reported as one.

use nalgebra::SymmetricEigen;

use super::state::{Ctx, Vector};
use super::transform::Precision;
use super::Matrix;

/// How many times MIGRAD leaves a saddle before it reports the point.
pub const MAX_ESCAPES: usize = 8;

/// Whether some parameter has no curvature at all: a diagonal element of
/// the Hessian that is zero (or lost in rounding next to the largest).
pub fn zero_curvature(h: &Matrix) -> bool {
    let n = h.nrows();
    let scale = (0..n).map(|i| h[(i, i)].abs()).fold(0.0, f64::max);
    (0..n).any(|i| h[(i, i)].abs() <= f64::EPSILON * scale || h[(i, i)] == 0.0)
}

/// The direction of most negative curvature of `h`, when there is one
/// beyond MnPosDef's tolerance: `(d, c)` with `d^T h d = c < 0`, `d`
/// scaled so that the diagonal of `h` is 1 along each coordinate (the
/// frame MnPosDef judges the matrix in).
pub fn negative_curvature(h: &Matrix, prec: &Precision) -> Option<(Vector, f64)> {
    let n = h.nrows();
    if n == 0 || h.iter().any(|v| !v.is_finite()) {
        return None;
    }
    // a negative diagonal element is itself a direction of negative curvature
    if let Some(i) = (0..n).filter(|&i| h[(i, i)] < 0.0).min_by(|&a, &b| {
        h[(a, a)]
            .partial_cmp(&h[(b, b)])
            .unwrap_or(std::cmp::Ordering::Equal)
    }) {
        let mut d = Vector::zeros(n);
        d[i] = 1.0 / h[(i, i)].abs().sqrt();
        return Some((d, -1.0));
    }
    if (0..n).any(|i| h[(i, i)] == 0.0) {
        return None;
    }
    let s: Vec<f64> = (0..n).map(|i| 1.0 / h[(i, i)].sqrt()).collect();
    let p = Matrix::from_fn(n, n, |i, j| h[(i, j)] * s[i] * s[j]);
    let eig = SymmetricEigen::new(p);
    let (k, pmin) = eig
        .eigenvalues
        .iter()
        .copied()
        .enumerate()
        .min_by(|a, b| a.1.partial_cmp(&b.1).unwrap_or(std::cmp::Ordering::Equal))?;
    let pmax = eig.eigenvalues.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let epspdf = 1.0e-6f64.max(prec.eps2);
    if pmin >= -epspdf * pmax {
        return None;
    }
    let u = eig.eigenvectors.column(k);
    let d = Vector::from_iterator(n, (0..n).map(|i| u[i] * s[i]));
    Some((d, pmin))
}

/// A point below `f` along `d` (or -d, whichever the gradient `g` points
/// down), from `x`: the step where the quadratic model along `d` has
/// fallen by `up`, halved until the function is lower. None when no
/// lower point is found (the saddle is not left).
pub fn leave(
    ctx: &mut Ctx,
    x: &Vector,
    f: f64,
    g: &Vector,
    d: &Vector,
    curvature: f64,
) -> Option<(Vector, f64)> {
    let dir = if g.dot(d) > 0.0 { -d } else { d.clone() };
    let mut t = (2.0 * ctx.up / curvature.abs()).sqrt();
    // a small relative improvement is not noise only above this
    let tiny = f64::EPSILON * f.abs().max(ctx.up) * 16.0;
    for _ in 0..40 {
        let x1 = x + &dir * t;
        let f1 = ctx.value(&x1);
        if f1.is_finite() && f1 < f - tiny {
            return Some((x1, f1));
        }
        t *= 0.5;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prec() -> Precision {
        Precision::default()
    }

    #[test]
    fn a_saddle_has_a_direction_of_negative_curvature() {
        // f = x^2 - y^2 + 0.5 x y: eigenvalues of the scaled matrix 1 ± ...
        let h = Matrix::from_row_slice(2, 2, &[2.0, 3.0, 3.0, 2.0]);
        let (d, c) = negative_curvature(&h, &prec()).expect("a saddle");
        assert!(c < 0.0);
        let dhd = (d.transpose() * &h * &d)[(0, 0)];
        assert!((dhd - c).abs() < 1e-12, "{dhd} vs {c}");
        let pd = Matrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 2.0]);
        assert!(negative_curvature(&pd, &prec()).is_none());
    }

    #[test]
    fn a_negative_diagonal_is_its_own_direction() {
        let h = Matrix::from_row_slice(2, 2, &[2.0, 0.0, 0.0, -8.0]);
        let (d, c) = negative_curvature(&h, &prec()).expect("negative curvature");
        assert_eq!(c, -1.0);
        assert_eq!(d[0], 0.0);
        assert!((d[1] - 1.0 / 8f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn zero_columns_have_no_curvature() {
        let h = Matrix::from_row_slice(3, 3, &[0.0, 0.0, 0.0, 0.0, 4.0, 1.0, 0.0, 1.0, 3.0]);
        assert!(zero_curvature(&h));
        let h = Matrix::from_row_slice(2, 2, &[1.0, 0.0, 0.0, 1e-3]);
        assert!(!zero_curvature(&h));
    }
}
