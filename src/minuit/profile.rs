//! MINOS profiles (iminuit's `mnprofile`): one parameter fixed at each
//! value of a grid, the function minimized over the other free parameters
//! there. iminuit fits each grid point afresh from the minimum's state
//! (values, errors and matrix, the profiled parameter squeezed out) with
//! MIGRAD at strategy 0, and retries an invalid fit at strategy 2 with
//! SIMPLEX in between (`_robust_low_level_fit`).

use super::minos::Inner;
use super::state::{Ctx, Strategy};
use super::transform::Transform;
use super::{Fcn, FunctionMinimum, MigradOptions, ParamSpec};

/// A profile over a grid: the minimum of the function over the other free
/// parameters at each value, and whether that fit was valid.
#[derive(Clone, Debug, PartialEq)]
pub struct Profile {
    pub values: Vec<f64>,
    pub fcn: Vec<f64>,
    pub valid: Vec<bool>,
    /// Function calls used.
    pub nfcn: usize,
}

/// iminuit's default grid: `size` values evenly over value ± bound·error.
pub fn grid(value: f64, error: f64, size: usize, bound: f64) -> Vec<f64> {
    let (a, b) = (value - bound * error, value + bound * error);
    if size == 1 {
        return vec![a];
    }
    // numpy's linspace: a + k * step, the last value exactly b
    let step = (b - a) / (size - 1) as f64;
    (0..size)
        .map(|k| {
            if k == size - 1 {
                b
            } else {
                a + k as f64 * step
            }
        })
        .collect()
}

/// The profile of parameter `par` (external index, free) over `values`.
pub fn profile(
    fcn: &mut dyn Fcn,
    params: &[ParamSpec],
    min: &FunctionMinimum,
    par: usize,
    values: &[f64],
    numeric: bool,
) -> Profile {
    let exact = !numeric && fcn.has_gradient();
    let mut out = Profile {
        values: values.to_vec(),
        fcn: Vec::with_capacity(values.len()),
        valid: Vec::with_capacity(values.len()),
        nfcn: 0,
    };
    let tol = min.internal.tol;
    for &v in values {
        let mut inner = Inner::at_minimum(params, min, &[par], Strategy::new(0), tol, exact);
        let (fval, valid, retry) = {
            let mut ctx = Ctx::new(&mut *fcn, Transform::new(params), min.errordef);
            let r = inner.run(&mut ctx, &[v]);
            out.nfcn += ctx.nfcn;
            (r.fval, r.valid, !r.valid && !r.call_limit)
        };
        if retry {
            // iminuit's retries: strategy 2, SIMPLEX before each MIGRAD
            let opts = MigradOptions {
                tol,
                strategy: 2,
                errordef: min.errordef,
                ncall: None,
                numeric_grad: !exact,
            };
            let m2 = super::migrad(&mut *fcn, &inner.params, &opts);
            out.nfcn += m2.nfcn;
            out.fcn.push(m2.fval);
            out.valid.push(m2.valid);
            continue;
        }
        out.fcn.push(fval);
        out.valid.push(valid);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Quad;
    impl Fcn for Quad {
        fn value(&mut self, x: &[f64]) -> f64 {
            (x[0] - 1.0).powi(2) + (x[1] - 2.0).powi(2) + 1.6 * (x[0] - 1.0) * (x[1] - 2.0)
        }
    }

    #[test]
    fn the_profile_of_a_quadratic_is_a_parabola() {
        let p: Vec<ParamSpec> = ["x", "y"]
            .iter()
            .map(|n| ParamSpec {
                name: n.to_string(),
                value: 0.0,
                error: 0.1,
                lower: None,
                upper: None,
                fixed: false,
            })
            .collect();
        let mut f = Quad;
        let min = super::super::migrad(&mut f, &p, &Default::default());
        let g = grid(min.values[0], min.errors[0], 5, 2.0);
        assert_eq!(g.len(), 5);
        let pr = profile(&mut f, &p, &min, 0, &g, true);
        for (x, fv) in g.iter().zip(&pr.fcn) {
            // min over y of the quadratic: (1 - 0.64) (x - 1)^2
            let want = 0.36 * (x - 1.0).powi(2);
            assert!((fv - want).abs() < 1e-6, "{x} {fv} {want}");
        }
        assert!(pr.valid.iter().all(|&v| v));
    }
}
