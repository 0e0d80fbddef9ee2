//! Minuit2's parameter transformation between external coordinates (what
//! the user declared, possibly limited) and internal ones (unbounded, what
//! the algorithms move): the sin transform for two-sided limits, the sqrt
//! transforms for one-sided ones, the machine precision constants Minuit2
//! uses (MnMachinePrecision), the initial internal step derived from the
//! user's error, the conversion of errors and covariances back to external
//! coordinates, and iminuit's "parameter at limit" test.

use super::{Matrix, ParamSpec};

/// Minuit2's machine precision as MnMachinePrecision computes it: the
/// smallest power of two that no longer changes 1 when added, times 8
/// (`eps = 4 * f64::EPSILON`), and `eps2 = 2 * sqrt(eps)`.
#[derive(Clone, Copy, Debug)]
pub struct Precision {
    pub eps: f64,
    pub eps2: f64,
}

impl Default for Precision {
    fn default() -> Self {
        let eps = 4.0 * f64::EPSILON;
        Precision {
            eps,
            eps2: 2.0 * eps.sqrt(),
        }
    }
}

/// How one parameter's external value is mapped.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Limit {
    None,
    Both { lower: f64, upper: f64 },
    Lower(f64),
    Upper(f64),
}

impl Limit {
    /// The limit kind of a declared parameter.
    pub fn of(p: &ParamSpec) -> Limit {
        match (p.lower, p.upper) {
            (Some(lo), Some(up)) => Limit::Both {
                lower: lo,
                upper: up,
            },
            (Some(lo), None) => Limit::Lower(lo),
            (None, Some(up)) => Limit::Upper(up),
            (None, None) => Limit::None,
        }
    }

    /// Whether any limit applies.
    pub fn is_limited(&self) -> bool {
        !matches!(self, Limit::None)
    }

    /// Internal to external value.
    pub fn int2ext(&self, v: f64) -> f64 {
        match *self {
            Limit::None => v,
            Limit::Both { lower, upper } => lower + 0.5 * (upper - lower) * (v.sin() + 1.0),
            Limit::Lower(lo) => lo - 1.0 + (v * v + 1.0).sqrt(),
            Limit::Upper(up) => up + 1.0 - (v * v + 1.0).sqrt(),
        }
    }

    /// External to internal value, with Minuit2's handling of values at or
    /// beyond a limit.
    pub fn ext2int(&self, v: f64, prec: &Precision) -> f64 {
        match *self {
            Limit::None => v,
            Limit::Both { lower, upper } => {
                let piby2 = std::f64::consts::FRAC_PI_2;
                let distnn = 8.0 * prec.eps2.sqrt();
                let yy = 2.0 * (v - lower) / (upper - lower) - 1.0;
                if yy * yy > 1.0 - prec.eps2 {
                    if yy < 0.0 {
                        -piby2 + distnn
                    } else {
                        piby2 - distnn
                    }
                } else {
                    yy.asin()
                }
            }
            Limit::Lower(lo) => {
                let yy = v - lo + 1.0;
                let yy2 = yy * yy;
                if yy2 < 1.0 {
                    0.0
                } else {
                    (yy2 - 1.0).sqrt()
                }
            }
            Limit::Upper(up) => {
                let yy = up - v + 1.0;
                let yy2 = yy * yy;
                if yy2 < 1.0 {
                    0.0
                } else {
                    (yy2 - 1.0).sqrt()
                }
            }
        }
    }

    /// d ext / d int at internal value v.
    pub fn dint2ext(&self, v: f64) -> f64 {
        match *self {
            Limit::None => 1.0,
            Limit::Both { lower, upper } => 0.5 * (upper - lower) * v.cos(),
            Limit::Lower(_) => v / (v * v + 1.0).sqrt(),
            Limit::Upper(_) => -v / (v * v + 1.0).sqrt(),
        }
    }

    /// d^2 ext / d int^2 at internal value v.
    pub fn d2int2ext(&self, v: f64) -> f64 {
        match *self {
            Limit::None => 0.0,
            Limit::Both { lower, upper } => 0.5 * (lower - upper) * v.sin(),
            Limit::Lower(_) => {
                let s = v * v + 1.0;
                1.0 / (s * s.sqrt())
            }
            Limit::Upper(_) => {
                let s = v * v + 1.0;
                -1.0 / (s * s.sqrt())
            }
        }
    }
}

/// The transformation for one set of declared parameters.
#[derive(Clone, Debug)]
pub struct Transform {
    params: Vec<ParamSpec>,
    limits: Vec<Limit>,
    free: Vec<usize>,
    prec: Precision,
}

impl Transform {
    /// Builds the transformation; fixed parameters are left out of the
    /// internal vector.
    pub fn new(params: &[ParamSpec]) -> Transform {
        let free = params
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.fixed)
            .map(|(i, _)| i)
            .collect();
        Transform {
            params: params.to_vec(),
            limits: params.iter().map(Limit::of).collect(),
            free,
            prec: Precision::default(),
        }
    }

    /// Machine precision constants.
    pub fn precision(&self) -> &Precision {
        &self.prec
    }

    /// The declared parameters.
    pub fn params(&self) -> &[ParamSpec] {
        &self.params
    }

    /// Number of free parameters (the internal dimension).
    pub fn n_free(&self) -> usize {
        self.free.len()
    }

    /// External index of each free parameter.
    pub fn free_indices(&self) -> &[usize] {
        &self.free
    }

    /// The internal index of external parameter `ext`, if it is free.
    pub fn int_of_ext(&self, ext: usize) -> Option<usize> {
        self.free.iter().position(|&e| e == ext)
    }

    /// The limit of free parameter `free_i`.
    pub fn limit(&self, free_i: usize) -> Limit {
        self.limits[self.free[free_i]]
    }

    /// Whether free parameter `free_i` has limits.
    pub fn has_limits(&self, free_i: usize) -> bool {
        self.limit(free_i).is_limited()
    }

    /// The internal starting point: each free parameter's declared value.
    pub fn initial_internal(&self) -> Vec<f64> {
        (0..self.n_free())
            .map(|i| self.ext_to_int(i, self.params[self.free[i]].value))
            .collect()
    }

    /// The external values of every parameter (fixed ones keep their
    /// declared value) for the internal vector.
    pub fn to_external(&self, internal: &[f64], ext: &mut [f64]) {
        for (e, p) in ext.iter_mut().zip(&self.params) {
            *e = p.value;
        }
        for (i, &e) in self.free.iter().enumerate() {
            ext[e] = self.int_to_ext(i, internal[i]);
        }
    }

    /// External values of every parameter as a new vector.
    pub fn external(&self, internal: &[f64]) -> Vec<f64> {
        let mut ext = vec![0.0; self.params.len()];
        self.to_external(internal, &mut ext);
        ext
    }

    /// External to internal value of free parameter `free_i`.
    pub fn ext_to_int(&self, free_i: usize, ext_value: f64) -> f64 {
        self.limit(free_i).ext2int(ext_value, &self.prec)
    }

    /// Internal to external value of free parameter `free_i`.
    pub fn int_to_ext(&self, free_i: usize, int_value: f64) -> f64 {
        self.limit(free_i).int2ext(int_value)
    }

    /// d ext / d int of free parameter `free_i`.
    pub fn dint2ext(&self, free_i: usize, int_value: f64) -> f64 {
        self.limit(free_i).dint2ext(int_value)
    }

    /// d^2 ext / d int^2 of free parameter `free_i`.
    pub fn d2int2ext(&self, free_i: usize, int_value: f64) -> f64 {
        self.limit(free_i).d2int2ext(int_value)
    }

    /// An internal error converted to an external one as Minuit2 does: half
    /// the sum of the external distances of int +- err (for a two-sided
    /// limit an internal error above 1 counts the full range on one side).
    pub fn int2ext_error(&self, free_i: usize, int_value: f64, int_error: f64) -> f64 {
        let lim = self.limit(free_i);
        if !lim.is_limited() {
            return int_error;
        }
        let ui = lim.int2ext(int_value);
        let mut du1 = lim.int2ext(int_value + int_error) - ui;
        let du2 = lim.int2ext(int_value - int_error) - ui;
        if let Limit::Both { lower, upper } = lim {
            if int_error > 1.0 {
                du1 = upper - lower;
            }
        }
        0.5 * (du1.abs() + du2.abs())
    }

    /// An internal covariance over the free parameters converted to external
    /// coordinates with the Jacobian of the transformation (no scaling).
    pub fn int2ext_covariance(&self, internal: &[f64], cov: &Matrix) -> Matrix {
        let n = self.n_free();
        let d: Vec<f64> = (0..n).map(|i| self.dint2ext(i, internal[i])).collect();
        Matrix::from_fn(n, n, |i, j| d[i] * cov[(i, j)] * d[j])
    }

    /// The internal step corresponding to the declared external error of
    /// free parameter `free_i` at internal value `int_value`: half the sum
    /// of the internal distances to ext +- error, each side clipped at its
    /// limit (Minuit2's InitialGradientCalculator).
    pub fn ext_error_to_int(&self, free_i: usize, int_value: f64) -> f64 {
        self.ext_error_to_int_with(free_i, int_value, self.params[self.free[free_i]].error)
    }

    /// As `ext_error_to_int` with an explicit external error.
    pub fn ext_error_to_int_with(&self, free_i: usize, int_value: f64, werr: f64) -> f64 {
        let p = &self.params[self.free[free_i]];
        let sav = self.int_to_ext(free_i, int_value);
        let mut hi = sav + werr;
        if let Some(up) = p.upper {
            if hi > up {
                hi = up;
            }
        }
        let vplu = self.ext_to_int(free_i, hi) - int_value;
        let mut lo = sav - werr;
        if let Some(low) = p.lower {
            if lo < low {
                lo = low;
            }
        }
        let vmin = self.ext_to_int(free_i, lo) - int_value;
        0.5 * (vplu.abs() + vmin.abs())
    }

    /// iminuit's "parameters at limit" flag: some free limited parameter
    /// lies closer to a limit than half its error.
    pub fn at_limit(&self, values: &[f64], errors: &[f64]) -> bool {
        self.free.iter().any(|&e| {
            let p = &self.params[e];
            if p.lower.is_none() && p.upper.is_none() {
                return false;
            }
            let lb = p.lower.unwrap_or(f64::NEG_INFINITY);
            let ub = p.upper.unwrap_or(f64::INFINITY);
            (values[e] - lb).min(ub - values[e]) < 0.5 * errors[e]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(value: f64, lower: Option<f64>, upper: Option<f64>) -> ParamSpec {
        ParamSpec {
            name: "p".into(),
            value,
            error: 0.1,
            lower,
            upper,
            fixed: false,
        }
    }

    #[test]
    fn round_trips_and_derivatives() {
        let cases = [
            spec(0.3, None, None),
            spec(0.3, Some(-1.0), Some(2.5)),
            spec(0.3, Some(-1.0), None),
            spec(0.3, None, Some(2.5)),
        ];
        for p in cases {
            let t = Transform::new(std::slice::from_ref(&p));
            for &v in &[-0.9, 0.0, 0.3, 1.7, 2.4] {
                let inside = p.lower.is_none_or(|l| v > l) && p.upper.is_none_or(|u| v < u);
                if !inside {
                    continue;
                }
                let i = t.ext_to_int(0, v);
                assert!((t.int_to_ext(0, i) - v).abs() < 1e-12, "{p:?} {v}");
                let h = 1e-6;
                let num = (t.int_to_ext(0, i + h) - t.int_to_ext(0, i - h)) / (2.0 * h);
                assert!((num - t.dint2ext(0, i)).abs() < 1e-6, "{p:?} {v}");
                let num2 = (t.dint2ext(0, i + h) - t.dint2ext(0, i - h)) / (2.0 * h);
                assert!((num2 - t.d2int2ext(0, i)).abs() < 1e-5, "{p:?} {v}");
            }
        }
    }

    #[test]
    fn limits_at_and_beyond() {
        let t = Transform::new(&[spec(2.5, Some(0.0), Some(2.5))]);
        let i = t.initial_internal()[0];
        assert!(i < std::f64::consts::FRAC_PI_2 && i > 1.5);
        assert!(t.int_to_ext(0, i) <= 2.5);
        let t = Transform::new(&[spec(-0.5, Some(0.0), None)]);
        assert_eq!(t.initial_internal()[0], 0.0);
        assert_eq!(t.int_to_ext(0, 0.0), 0.0);
        let t = Transform::new(&[spec(5.0, None, Some(1.0))]);
        // Minuit2 reflects a value beyond a one-sided limit; it stays inside
        assert!(t.int_to_ext(0, t.initial_internal()[0]) <= 1.0);
        // every internal value maps inside the limits
        let t = Transform::new(&[spec(1.0, Some(0.0), Some(2.5))]);
        for k in -50..50 {
            let e = t.int_to_ext(0, k as f64 * 0.37);
            assert!((0.0..=2.5).contains(&e));
        }
    }

    #[test]
    fn fixed_and_errors() {
        let mut a = spec(1.0, Some(0.0), Some(2.5));
        a.error = 0.01;
        let mut b = spec(7.0, None, None);
        b.fixed = true;
        let t = Transform::new(&[a, b]);
        assert_eq!(t.n_free(), 1);
        assert_eq!(t.free_indices(), &[0]);
        let x = t.initial_internal();
        let ext = t.external(&x);
        assert!((ext[0] - 1.0).abs() < 1e-14);
        assert_eq!(ext[1], 7.0);
        // small errors map linearly through the Jacobian
        let de = t.ext_error_to_int(0, x[0]);
        let back = t.int2ext_error(0, x[0], de);
        assert!((back - 0.01).abs() < 1e-5);
        let cov = Matrix::from_element(1, 1, de * de);
        let ce = t.int2ext_covariance(&x, &cov);
        assert!((ce[(0, 0)].sqrt() - 0.01).abs() < 1e-5);
        assert!(t.at_limit(&[2.49, 7.0], &[0.1, 0.0]));
        assert!(!t.at_limit(&[1.0, 7.0], &[0.1, 0.0]));
    }
}
