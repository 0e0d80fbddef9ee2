//! Minuit2's algorithms, written afresh from their published descriptions:
//! MIGRAD (variable metric), HESSE, MINOS, SIMPLEX and SCAN, in internal
//! coordinates with Minuit2's limit transforms, plus the iminuit-style text
//! report. This module depends on nothing else in the crate: the interpreter
//! hands it an `Fcn` and `ParamSpec`s and gets plain result values back.
//!
//! All vectors indexed by parameter (`values`, `errors`, ...) run over every
//! parameter in declaration order, fixed ones included; covariance matrices
//! run over the free parameters only, in declaration order, in external
//! coordinates.

pub mod contours;
pub mod hesse;
pub mod level;
pub mod linesearch;
pub mod migrad;
pub mod minos;
pub mod numgrad;
pub mod options;
pub mod posdef;
pub mod profile;
#[cfg(test)]
mod reftests;
pub mod saddle;
pub mod seed;
pub mod state;
pub mod transform;
pub use hesse::hesse;
pub use migrad::migrad;
pub use minos::minos;
pub use transform::Transform;
pub mod report;
pub mod scan;
pub mod simplex;

pub type Matrix = nalgebra::DMatrix<f64>;

/// The objective, in external coordinates over every parameter (fixed ones
/// included). Implementations count nothing: the algorithms count calls.
pub trait Fcn {
    /// f(x).
    fn value(&mut self, x: &[f64]) -> f64;
    /// Whether `gradient` gives an exact gradient (autograd mode).
    fn has_gradient(&self) -> bool {
        false
    }
    /// The exact gradient at x, written into `g` (same length as x).
    fn gradient(&mut self, _x: &[f64], _g: &mut [f64]) {
        unreachable!("gradient called on an Fcn without one")
    }
    /// An exact Hessian at x over every parameter (row-major n*n into `h`),
    /// when the Fcn can give one; returns false when it cannot.
    fn hessian(&mut self, _x: &[f64], _h: &mut [f64]) -> bool {
        false
    }
}

/// A parameter as the user declared it.
#[derive(Clone, Debug)]
pub struct ParamSpec {
    pub name: String,
    pub value: f64,
    /// Initial step ("error"), as iminuit guesses it when none is given.
    pub error: f64,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub fixed: bool,
}

/// MIGRAD's options (SPEC 5.2).
#[derive(Clone, Debug)]
pub struct MigradOptions {
    pub tol: f64,
    pub strategy: u32,
    pub errordef: f64,
    /// Call limit; None is Minuit2's default 200 + 100 n + 5 n^2.
    pub ncall: Option<usize>,
    /// Use Minuit2's numerical gradient even when the Fcn has an exact one.
    pub numeric_grad: bool,
}

impl Default for MigradOptions {
    fn default() -> Self {
        MigradOptions {
            tol: 0.1,
            strategy: 1,
            errordef: 1.0,
            ncall: None,
            numeric_grad: false,
        }
    }
}

/// A minimum as MIGRAD, SIMPLEX or SCAN found it (Minuit2's FunctionMinimum
/// as iminuit shows it).
#[derive(Clone, Debug)]
pub struct FunctionMinimum {
    pub fval: f64,
    pub edm: f64,
    pub edm_goal: f64,
    pub errordef: f64,
    /// Function calls made by the algorithm that produced this minimum.
    pub nfcn: usize,
    /// Gradient calls.
    pub ngrad: usize,
    pub valid: bool,
    /// The covariance is accurate (iminuit's `fmin.has_accurate_covar`).
    pub accurate: bool,
    pub has_covariance: bool,
    pub has_posdef_covar: bool,
    pub has_made_posdef_covar: bool,
    pub hesse_failed: bool,
    pub at_limit: bool,
    pub call_limit: bool,
    pub above_max_edm: bool,
    /// MIGRAD stopped at a saddle it could not leave: the exact Hessian has
    /// a negative eigenvalue there (autograd mode only; such a minimum is
    /// not valid).
    pub saddle: bool,
    /// Every parameter, external coordinates.
    pub values: Vec<f64>,
    /// Every parameter's parabolic error (0 for fixed ones).
    pub errors: Vec<f64>,
    /// Over free parameters, external coordinates.
    pub covariance: Option<Matrix>,
    /// Internal state for HESSE and MINOS to restart from.
    pub internal: InternalState,
}

/// What HESSE and MINOS need to continue from a minimum: the internal
/// coordinates, gradient and inverse Hessian of the free parameters.
#[derive(Clone, Debug, Default)]
pub struct InternalState {
    pub x: Vec<f64>,
    pub grad: Vec<f64>,
    pub g2: Vec<f64>,
    pub gstep: Vec<f64>,
    pub inv_hessian: Option<Matrix>,
    /// The status of `inv_hessian` (Minuit2's MinimumError status), which
    /// the user-facing flags only summarize.
    pub status: state::ErrStatus,
    /// Minuit2's Dcovar of `inv_hessian` (0 for a fresh HESSE matrix).
    pub dcovar: f64,
    pub strategy: u32,
    pub tol: f64,
}

/// One parameter's MINOS result.
#[derive(Clone, Debug)]
pub struct MinosError {
    pub name: String,
    /// Negative.
    pub lower: f64,
    pub upper: f64,
    pub lower_valid: bool,
    pub upper_valid: bool,
    pub at_lower_limit: bool,
    pub at_upper_limit: bool,
    pub at_lower_max_fcn: bool,
    pub at_upper_max_fcn: bool,
    pub lower_new_min: bool,
    pub upper_new_min: bool,
    pub nfcn: usize,
}

impl MinosError {
    pub fn is_valid(&self) -> bool {
        self.lower_valid && self.upper_valid
    }
}
