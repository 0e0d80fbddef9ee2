//! Shared pieces of MIGRAD, HESSE and MINOS: the counting objective
//! wrapper in internal coordinates (`Ctx`), Minuit2's strategy settings, the
//! minimization state (parameters, gradient, inverse Hessian and its
//! status), the EDM estimate, and the conversion of a state into the
//! user-facing `FunctionMinimum`.

use nalgebra::DVector;

use super::transform::Transform;
use super::{Fcn, FunctionMinimum, InternalState, Matrix};

/// A column vector over the free parameters.
pub type Vector = DVector<f64>;

/// The objective seen in internal coordinates, counting every call:
/// `nfcn` value calls and `ngrad` gradient calls. A `hessian` call also
/// counts as one `ngrad` (it is one extra derivative pass of the Fcn).
pub struct Ctx<'a> {
    pub fcn: &'a mut dyn Fcn,
    pub trafo: Transform,
    /// Minuit2's Up (errordef).
    pub up: f64,
    pub nfcn: usize,
    pub ngrad: usize,
    /// A value call returned NaN.
    pub saw_nan: bool,
    /// `nfcn` when the current minimization started (Minuit2 counts calls
    /// per MnFcn, i.e. per MIGRAD run).
    pub base: usize,
    ext: Vec<f64>,
    /// The external gradient and Hessian of the last call, kept so that a
    /// call allocates only its result.
    gbuf: Vec<f64>,
    hbuf: Vec<f64>,
}

impl<'a> Ctx<'a> {
    /// Wraps `fcn` for the free parameters of `trafo`.
    pub fn new(fcn: &'a mut dyn Fcn, trafo: Transform, up: f64) -> Ctx<'a> {
        let n = trafo.params().len();
        Ctx {
            fcn,
            trafo,
            up,
            nfcn: 0,
            ngrad: 0,
            saw_nan: false,
            base: 0,
            ext: vec![0.0; n],
            gbuf: Vec::new(),
            hbuf: Vec::new(),
        }
    }

    /// Replaces the transformation (MINOS fixes a parameter between fits).
    pub fn set_trafo(&mut self, trafo: Transform) {
        self.ext = vec![0.0; trafo.params().len()];
        self.trafo = trafo;
    }

    /// Value calls since `base` (the current run's call count).
    pub fn calls(&self) -> usize {
        self.nfcn - self.base
    }

    /// f at internal point x (one nfcn).
    pub fn value(&mut self, x: &Vector) -> f64 {
        self.trafo.to_external(x.as_slice(), &mut self.ext);
        self.nfcn += 1;
        let f = self.fcn.value(&self.ext);
        if f.is_nan() {
            self.saw_nan = true;
        }
        f
    }

    /// Exact gradient in internal coordinates (one ngrad), by the chain
    /// rule through d ext / d int.
    pub fn gradient(&mut self, x: &Vector) -> Vector {
        self.trafo.to_external(x.as_slice(), &mut self.ext);
        self.ngrad += 1;
        self.gbuf.clear();
        self.gbuf.resize(self.ext.len(), 0.0);
        self.fcn.gradient(&self.ext, &mut self.gbuf);
        let (free, g) = (self.trafo.free_indices(), &self.gbuf);
        Vector::from_fn(free.len(), |i, _| g[free[i]] * self.trafo.dint2ext(i, x[i]))
    }

    /// Exact Hessian in internal coordinates, if the Fcn gives one (counts
    /// one ngrad). `gint` is the internal gradient at x, needed for the
    /// second-derivative term of the limit transforms.
    pub fn hessian(&mut self, x: &Vector, gint: &Vector) -> Option<Matrix> {
        self.trafo.to_external(x.as_slice(), &mut self.ext);
        let m = self.ext.len();
        self.hbuf.clear();
        self.hbuf.resize(m * m, 0.0);
        self.ngrad += 1;
        if !self.fcn.hessian(&self.ext, &mut self.hbuf) {
            return None;
        }
        let (t, h) = (&self.trafo, &self.hbuf);
        let free = t.free_indices();
        let n = free.len();
        let d = |i: usize| t.dint2ext(i, x[i]);
        let mut out = Matrix::from_fn(n, n, |i, j| d(i) * h[free[i] * m + free[j]] * d(j));
        for i in 0..n {
            let di = d(i);
            if t.has_limits(i) && di != 0.0 {
                let gext = gint[i] / di;
                out[(i, i)] += gext * t.d2int2ext(i, x[i]);
            }
        }
        if out.iter().any(|v| !v.is_finite()) {
            return None;
        }
        Some(out)
    }

    /// Whether exact derivatives are used.
    pub fn has_gradient(&self) -> bool {
        self.fcn.has_gradient()
    }
}

/// Minuit2's MnStrategy settings.
#[derive(Clone, Copy, Debug)]
pub struct Strategy {
    pub level: u32,
    pub grad_ncycles: usize,
    pub grad_step_tol: f64,
    pub grad_tol: f64,
    pub hess_ncycles: usize,
    pub hess_step_tol: f64,
    pub hess_g2_tol: f64,
    pub hess_grad_ncycles: usize,
    pub hess_force_posdef: bool,
}

impl Strategy {
    /// The settings of strategy `level` (0, 1, 2; higher is 3).
    pub fn new(level: u32) -> Strategy {
        match level {
            0 => Strategy {
                level: 0,
                grad_ncycles: 2,
                grad_step_tol: 0.5,
                grad_tol: 0.1,
                hess_ncycles: 3,
                hess_step_tol: 0.5,
                hess_g2_tol: 0.1,
                hess_grad_ncycles: 1,
                hess_force_posdef: true,
            },
            1 => Strategy {
                level: 1,
                grad_ncycles: 3,
                grad_step_tol: 0.3,
                grad_tol: 0.05,
                hess_ncycles: 5,
                hess_step_tol: 0.3,
                hess_g2_tol: 0.05,
                hess_grad_ncycles: 2,
                hess_force_posdef: true,
            },
            2 => Strategy {
                level: 2,
                grad_ncycles: 5,
                grad_step_tol: 0.1,
                grad_tol: 0.02,
                hess_ncycles: 7,
                hess_step_tol: 0.1,
                hess_g2_tol: 0.02,
                hess_grad_ncycles: 6,
                hess_force_posdef: true,
            },
            _ => Strategy {
                level: 3,
                grad_ncycles: 5,
                grad_step_tol: 0.1,
                grad_tol: 0.02,
                hess_ncycles: 7,
                hess_step_tol: 0.0,
                hess_g2_tol: 0.0,
                hess_grad_ncycles: 6,
                hess_force_posdef: false,
            },
        }
    }

    /// The next lower strategy (MINOS's inner fits).
    pub fn next_lower(&self) -> Strategy {
        Strategy::new(self.level.saturating_sub(1))
    }

    /// dcovar above which MIGRAD verifies its matrix with HESSE.
    pub fn hessian_recompute_threshold(&self) -> f64 {
        match self.level {
            0 => f64::INFINITY,
            1 => 0.05,
            _ => f64::NEG_INFINITY,
        }
    }
}

/// Status of an inverse Hessian (Minuit2's MinimumError status).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ErrStatus {
    #[default]
    Unset,
    PosDef,
    MadePosDef,
    NotPosDef,
    HesseFailed,
    InvertFailed,
    CallLimit,
}

/// First and second derivatives and the step sizes that gave them.
#[derive(Clone, Debug)]
pub struct Grad {
    pub g: Vector,
    pub g2: Vector,
    pub gstep: Vector,
    /// From the exact gradient (no meaningful gstep).
    pub analytical: bool,
}

/// One state of the minimization, in internal coordinates.
#[derive(Clone, Debug)]
pub struct State {
    pub x: Vector,
    pub fval: f64,
    pub grad: Grad,
    /// Inverse Hessian (half the covariance for errordef 1).
    pub v: Matrix,
    pub dcovar: f64,
    pub status: ErrStatus,
    pub edm: f64,
    pub nfcn: usize,
}

impl State {
    /// Minuit2's MinimumState::IsValid for a state with a matrix.
    pub fn is_valid(&self) -> bool {
        self.fval.is_finite()
            && matches!(
                self.status,
                ErrStatus::PosDef | ErrStatus::MadePosDef | ErrStatus::NotPosDef
            )
    }

    /// The matrix is accurate: positive definite and barely changed.
    pub fn is_accurate(&self) -> bool {
        self.status == ErrStatus::PosDef && self.dcovar < 0.1
    }
}

/// EDM = 0.5 g^T V g (VariableMetricEDMEstimator).
///
/// Summed in place, as the row vector g^T V times g (no temporaries: MIGRAD
/// computes it at every step).
pub fn edm(g: &Vector, v: &Matrix) -> f64 {
    let n = g.len();
    let mut q = 0.0;
    for j in 0..n {
        let mut gv = 0.0;
        for i in 0..n {
            gv += g[i] * v[(i, j)];
        }
        q += gv * g[j];
    }
    0.5 * q
}

/// Inverts a symmetric matrix; None when singular or not finite (Minuit2's
/// inversion also fails on a non-positive diagonal).
pub fn invert(m: &Matrix) -> Option<Matrix> {
    if (0..m.nrows()).any(|i| m[(i, i)] <= 0.0) || m.iter().any(|v| !v.is_finite()) {
        return None;
    }
    let inv = m.clone().try_inverse()?;
    if inv.iter().any(|v| !v.is_finite()) {
        return None;
    }
    // keep it exactly symmetric
    Some((&inv + inv.transpose()) * 0.5)
}

/// How a minimization ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndStatus {
    Ok,
    AboveMaxEdm,
    CallLimit,
}

/// Builds the user-facing minimum from a final internal state.
#[allow(clippy::too_many_arguments)]
pub fn to_function_minimum(
    trafo: &Transform,
    st: &State,
    end: EndStatus,
    up: f64,
    edm_goal: f64,
    nfcn: usize,
    ngrad: usize,
    strategy: u32,
    tol: f64,
) -> FunctionMinimum {
    let params = trafo.params();
    let values = trafo.external(st.x.as_slice());
    let has_cov = st.status != ErrStatus::Unset;
    let cov_valid = st.is_valid();
    let errors = external_errors(trafo, st, up, params.len());
    let covariance = if cov_valid {
        Some(trafo.int2ext_covariance(st.x.as_slice(), &st.v) * (2.0 * up))
    } else {
        None
    };
    // Minuit2's FunctionMinimum::IsValid, and iminuit's extra condition
    // that the EDM is not negative (a matrix that is not positive definite)
    let valid = st.is_valid()
        && end == EndStatus::Ok
        && st.fval.is_finite()
        && st.edm.is_finite()
        && st.edm >= 0.0;
    let posdef = st.status == ErrStatus::PosDef;
    let made_posdef = st.status == ErrStatus::MadePosDef;
    FunctionMinimum {
        fval: st.fval,
        edm: st.edm,
        edm_goal,
        errordef: up,
        nfcn,
        ngrad,
        valid,
        accurate: st.is_accurate(),
        has_covariance: has_cov,
        has_posdef_covar: posdef,
        has_made_posdef_covar: made_posdef,
        // iminuit's `hesse_failed`: a matrix exists but is neither positive
        // definite nor made so (HESSE failed, its inversion failed, it hit
        // the call limit, or the matrix is not positive definite)
        hesse_failed: has_cov && !(posdef || made_posdef),
        at_limit: trafo.at_limit(&values, &errors),
        call_limit: end == EndStatus::CallLimit,
        above_max_edm: end == EndStatus::AboveMaxEdm,
        saddle: false,
        values,
        errors,
        covariance,
        internal: InternalState {
            inv_hessian: if has_cov { Some(st.v.clone()) } else { None },
            status: st.status,
            dcovar: st.dcovar,
            strategy,
            tol,
            ..internal_point(st)
        },
    }
}

/// The user errors of state `st` (`nparams` of them, 0 for fixed ones):
/// sqrt(2 up V_ii) through the transform when the matrix is valid.
fn external_errors(trafo: &Transform, st: &State, up: f64, nparams: usize) -> Vec<f64> {
    let mut errors = vec![0.0; nparams];
    let cov_valid = st.is_valid();
    for (i, &e) in trafo.free_indices().iter().enumerate() {
        let ierr = if cov_valid {
            // NaN for a negative diagonal, as Minuit2 shows it
            (2.0 * up * st.v[(i, i)]).sqrt()
        } else {
            // MnUserParameterState takes the parameters' Dirin, which a
            // MIGRAD or HESSE state does not have
            0.0
        };
        errors[e] = trafo.int2ext_error(i, st.x[i], ierr);
    }
    errors
}

/// The internal point and derivatives of `st`, as a minimum keeps them for
/// HESSE and MINOS; no matrix (status Unset, dcovar 1) and iminuit's
/// defaults strategy 1 and tol 0.1, for the caller to override.
pub(crate) fn internal_point(st: &State) -> InternalState {
    InternalState {
        x: st.x.as_slice().to_vec(),
        grad: st.grad.g.as_slice().to_vec(),
        g2: st.grad.g2.as_slice().to_vec(),
        gstep: st.grad.gstep.as_slice().to_vec(),
        inv_hessian: None,
        status: ErrStatus::Unset,
        dcovar: 1.0,
        strategy: 1,
        tol: 0.1,
    }
}

/// Rebuilds an internal state from a minimum (for HESSE and MINOS).
pub fn state_from_minimum(min: &FunctionMinimum, analytical: bool) -> State {
    let n = min.internal.x.len();
    let v = min
        .internal
        .inv_hessian
        .clone()
        .unwrap_or_else(|| Matrix::identity(n, n));
    let status = if min.internal.inv_hessian.is_some() {
        min.internal.status
    } else {
        ErrStatus::Unset
    };
    let vec = |v: &Vec<f64>| {
        if v.len() == n {
            Vector::from_vec(v.clone())
        } else {
            Vector::zeros(n)
        }
    };
    State {
        x: Vector::from_vec(min.internal.x.clone()),
        fval: min.fval,
        grad: Grad {
            g: vec(&min.internal.grad),
            g2: vec(&min.internal.g2),
            gstep: vec(&min.internal.gstep),
            analytical,
        },
        v,
        dcovar: min.internal.dcovar,
        status,
        edm: min.edm,
        nfcn: min.nfcn,
    }
}
