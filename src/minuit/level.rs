//! Confidence levels as iminuit reads them (`_cl_to_errordef`): a `cl`
//! below 1 is a probability, 1 or more a number of standard deviations
//! (the probability of a central interval of that many sigma of a normal
//! distribution). The function then rises by errordef times the chi-square
//! quantile of that probability for 1 (MINOS) or 2 (contours) degrees of
//! freedom.

/// The errordef factor for `cl` and `ndof` (1 or 2) degrees of freedom.
/// `cl` must be > 0.
pub fn cl_factor(cl: f64, ndof: u32) -> f64 {
    if ndof == 1 {
        if cl >= 1.0 {
            return cl * cl;
        }
        // chi2(1).ppf(p) = 2 erfinv(p)^2
        let z = erfinv(cl);
        return 2.0 * z * z;
    }
    // chi2(2).ppf(p) = -2 ln(1 - p); for n sigma 1 - p = erfc(n / sqrt 2),
    // accurate for many sigma
    if cl >= 1.0 {
        return -2.0 * libm::erfc(cl / std::f64::consts::SQRT_2).ln();
    }
    -2.0 * (-cl).ln_1p()
}

/// The probability a confidence level stands for.
pub fn cl_probability(cl: f64) -> f64 {
    if cl >= 1.0 {
        libm::erf(cl / std::f64::consts::SQRT_2)
    } else {
        cl
    }
}

/// The inverse error function on (-1, 1), by Newton's method on `libm::erf`
/// from Giles' single-precision approximation (two steps reach f64
/// accuracy).
pub fn erfinv(p: f64) -> f64 {
    if p <= -1.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let w = -((1.0 - p) * (1.0 + p)).ln();
    let mut x = if w < 5.0 {
        let w = w - 2.5;
        let mut q = 2.810_226_36e-08;
        for c in [
            3.432_739_39e-07,
            -3.523_387_7e-06,
            -4.391_506_54e-06,
            0.000_218_580_87,
            -0.001_253_725_03,
            -0.004_177_681_64,
            0.246_640_727,
            1.501_409_41,
        ] {
            q = c + q * w;
        }
        q * p
    } else {
        let w = w.sqrt() - 3.0;
        let mut q = -0.000_200_214_257;
        for c in [
            0.000_100_950_558,
            0.001_349_343_22,
            -0.003_673_428_44,
            0.005_739_507_73,
            -0.007_622_461_3,
            0.009_438_870_47,
            1.001_674_06,
            2.832_976_82,
        ] {
            q = c + q * w;
        }
        q * p
    };
    let two_over_sqrt_pi = 2.0 / std::f64::consts::PI.sqrt();
    for _ in 0..3 {
        let e = libm::erf(x) - p;
        let d = two_over_sqrt_pi * (-x * x).exp();
        if d == 0.0 {
            break;
        }
        x -= e / d;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * b.abs()
    }

    #[test]
    fn iminuits_table() {
        // the values iminuit 2.33 keeps in `_cl_to_errordef` (scipy's)
        assert!(close(cl_factor(0.68, 1), 0.988946481478023));
        assert!(close(cl_factor(0.90, 1), 2.705543454095404));
        assert!(close(cl_factor(0.95, 1), 3.841458820694124));
        assert!(close(cl_factor(0.99, 1), 6.634896601021215));
        assert!(close(cl_factor(2.0, 1), 4.0));
        assert!(close(cl_factor(0.68, 2), 2.27886856637673));
        assert!(close(cl_factor(0.90, 2), 4.605170185988092));
        assert!(close(cl_factor(0.99, 2), 9.21034037197618));
        assert!(close(cl_factor(1.0, 2), 2.295748928898636));
        assert!(close(cl_factor(2.0, 2), 6.180074306244168));
        assert!(close(cl_factor(3.0, 2), 11.829158081900795));
        assert!(close(cl_factor(4.0, 2), 19.333908611934685));
    }

    #[test]
    fn erfinv_inverts_erf() {
        for &p in &[-0.999, -0.5, 0.0, 1e-9, 0.3, 0.9, 0.999999] {
            assert!((libm::erf(erfinv(p)) - p).abs() < 1e-15, "{p}");
        }
    }
}
