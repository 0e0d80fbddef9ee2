//! Minuit2's MnPosDef: makes a symmetric matrix positive definite by
//! shifting a non-positive diagonal and, when the smallest eigenvalue of
//! the scaled matrix is too small, inflating the diagonal.

use nalgebra::SymmetricEigen;

use super::state::ErrStatus;
use super::transform::Precision;
use super::Matrix;

/// What MnPosDef did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PosDefOutcome {
    /// A 1x1 positive matrix: returned as it was (status kept).
    Unchanged,
    /// Positive definite (perhaps after a diagonal shift): status PosDef,
    /// dcovar kept.
    PosDef,
    /// Forced positive definite: status MadePosDef, dcovar 1.
    Made,
}

/// Returns the corrected matrix and what was done.
pub fn make_pos_def(m: &Matrix, prec: &Precision) -> (Matrix, PosDefOutcome) {
    let n = m.nrows();
    let mut err = m.clone();
    if n == 1 {
        if err[(0, 0)] < prec.eps || err[(0, 0)].is_nan() {
            err[(0, 0)] = 1.0;
            return (err, PosDefOutcome::Made);
        }
        return (err, PosDefOutcome::Unchanged);
    }
    if n == 0 {
        return (err, PosDefOutcome::Unchanged);
    }
    let epspdf = 1.0e-6f64.max(prec.eps2);
    let mut dgmin = err[(0, 0)];
    for i in 0..n {
        if err[(i, i)] < dgmin {
            dgmin = err[(i, i)];
        }
    }
    let mut dg = 0.0;
    if dgmin <= 0.0 {
        dg = 0.5 + epspdf - dgmin;
    }
    let mut s = vec![0.0; n];
    for i in 0..n {
        err[(i, i)] += dg;
        if err[(i, i)] < 0.0 {
            err[(i, i)] = 1.0;
        }
        s[i] = 1.0 / err[(i, i)].sqrt();
    }
    let p = Matrix::from_fn(n, n, |i, j| err[(i, j)] * s[i] * s[j]);
    if p.iter().any(|v| !v.is_finite()) {
        return (Matrix::identity(n, n), PosDefOutcome::Made);
    }
    let eig = SymmetricEigen::new(p).eigenvalues;
    let pmin = eig.iter().cloned().fold(f64::INFINITY, f64::min);
    let pmax = eig.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let pmax = pmax.abs().max(1.0);
    if pmin > epspdf * pmax {
        // at most a diagonal shift was needed
        return (err, PosDefOutcome::PosDef);
    }
    let padd = 0.001 * pmax - pmin;
    for i in 0..n {
        err[(i, i)] *= 1.0 + padd;
    }
    (err, PosDefOutcome::Made)
}

/// Applies MnPosDef to an inverse Hessian with its status and dcovar.
pub fn pos_def_error(
    v: &Matrix,
    status: ErrStatus,
    dcovar: f64,
    prec: &Precision,
) -> (Matrix, ErrStatus, f64) {
    let (m, what) = make_pos_def(v, prec);
    match what {
        PosDefOutcome::Unchanged => (m, status, dcovar),
        PosDefOutcome::PosDef => (m, ErrStatus::PosDef, dcovar),
        PosDefOutcome::Made => (m, ErrStatus::MadePosDef, 1.0),
    }
}
