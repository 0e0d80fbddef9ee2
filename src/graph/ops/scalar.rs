//! The scalar kernels of the elementwise ops, as PyTorch's CPU kernels
//! compute them in float64: the one forward definition that constant
//! folding (`eval_scalar`) and the tape's kernels both call.

use super::Cmp;

/// torch's CPU pow with a scalar exponent, which special-cases these exponents.
pub fn pow_const(x: f64, e: f64) -> f64 {
    if e == 2.0 {
        x * x
    } else if e == 3.0 {
        x * x * x
    } else if e == 0.5 {
        x.sqrt()
    } else if e == -0.5 {
        1.0 / x.sqrt()
    } else if e == -1.0 {
        1.0 / x
    } else if e == -2.0 {
        1.0 / (x * x)
    } else if e == 1.0 {
        x
    } else if e == 0.0 {
        1.0
    } else {
        x.powf(e)
    }
}

/// torch.clamp: min(max(x, lo), hi), nan stays nan.
#[inline(always)]
pub fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() {
        x
    } else {
        x.max(lo).min(hi)
    }
}

/// torch.xlogy: nan if y is nan, 0 where x == 0, else x * log(y).
#[inline(always)]
pub fn xlogy(x: f64, y: f64) -> f64 {
    if y.is_nan() {
        f64::NAN
    } else if x == 0.0 {
        0.0
    } else {
        x * y.ln()
    }
}

/// torch.logaddexp: the larger plus log1p(exp(-|a - b|)); equal infinities
/// give themselves (not inf - inf).
#[inline(always)]
pub fn logaddexp(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a == b {
        a
    } else {
        let m = if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.max(b)
        };
        m + (-(a - b).abs()).exp().ln_1p()
    }
}

/// binary_cross_entropy's term: (t - 1) * max(log1p(-x), -100) - t * max(log(x), -100).
#[inline(always)]
pub fn bce(x: f64, t: f64) -> f64 {
    (t - 1.0) * (-x).ln_1p().max(-100.0) - t * x.ln().max(-100.0)
}

/// erfinv on [-1, 1] (±inf at ±1, nan outside), from the `special` crate.
pub fn erfinv(x: f64) -> f64 {
    if x.is_nan() || x.abs() > 1.0 {
        f64::NAN
    } else if x.abs() == 1.0 {
        x * f64::INFINITY
    } else {
        special::Error::inv_error(x)
    }
}

/// log|Γ(x)| (inf at the poles 0, -1, -2, ...), as torch.lgamma.
pub fn lgamma(x: f64) -> f64 {
    special::Gamma::ln_gamma(x).0
}

/// digamma as torch.digamma: -inf at +0 (inf at -0), nan at the negative
/// integers.
pub fn digamma(x: f64) -> f64 {
    if x == 0.0 {
        return f64::INFINITY.copysign(-x);
    }
    if x < 0.0 && x == x.trunc() {
        return f64::NAN;
    }
    special::Gamma::digamma(x)
}

/// polygamma(1, x), the trigamma function, as torch computes it: the
/// reflection formula below 1/2, six steps of the recurrence
/// psi1(x) = psi1(x + 1) + 1/x^2, then the asymptotic series. The anchor's
/// own algorithm rather than a more accurate one (such as the `special`
/// crate's), because torch's is only good to about 5e-10 relative and
/// digamma's derivative must be torch's.
pub fn trigamma(x: f64) -> f64 {
    let mut x = x;
    let mut sign = 1.0;
    let mut result = 0.0;
    if x < 0.5 {
        sign = -1.0;
        let s = (std::f64::consts::PI * x).sin();
        result -= std::f64::consts::PI * std::f64::consts::PI / (s * s);
        x = 1.0 - x;
    }
    for _ in 0..6 {
        result += 1.0 / (x * x);
        x += 1.0;
    }
    let ixx = 1.0 / (x * x);
    result +=
        (1.0 + 1.0 / (2.0 * x) + ixx * (1.0 / 6.0 - ixx * (1.0 / 30.0 - ixx * (1.0 / 42.0)))) / x;
    sign * result
}

/// torch's celu: x > 0 ? x : expm1(x * (1 / alpha)) * alpha.
#[inline(always)]
pub fn celu(x: f64, alpha: f64) -> f64 {
    if x > 0.0 || x.is_nan() {
        x
    } else {
        (x * (1.0 / alpha)).exp_m1() * alpha
    }
}

/// A mask value: 1.0 for true, 0.0 for false.
#[inline(always)]
fn b(v: bool) -> f64 {
    if v {
        1.0
    } else {
        0.0
    }
}

/// torch.minimum: the smaller, nan if either is nan.
#[inline(always)]
pub fn minimum(x: f64, y: f64) -> f64 {
    nan_or(x, y, f64::min)
}

/// torch.maximum: the larger, nan if either is nan.
#[inline(always)]
pub fn maximum(x: f64, y: f64) -> f64 {
    nan_or(x, y, f64::max)
}

/// `f(x, y)`, or nan if either is nan (`f64::min` and `f64::max` would
/// return the other one).
#[inline(always)]
fn nan_or(x: f64, y: f64, f: fn(f64, f64) -> f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        f(x, y)
    }
}

/// torch.where on a mask: `a` where `c` is nonzero (nan counts as true), else `b`.
#[inline(always)]
pub fn select(c: f64, a: f64, b: f64) -> f64 {
    if c != 0.0 {
        a
    } else {
        b
    }
}

/// Logical not of a mask: 1 where x == 0, else 0.
#[inline(always)]
pub fn not(x: f64) -> f64 {
    b(x == 0.0)
}

/// Logical and of two masks (nonzero is true).
#[inline(always)]
pub fn and(x: f64, y: f64) -> f64 {
    b(x != 0.0 && y != 0.0)
}

/// Logical or of two masks (nonzero is true).
#[inline(always)]
pub fn or(x: f64, y: f64) -> f64 {
    b(x != 0.0 || y != 0.0)
}

impl Cmp {
    /// The comparison's mask: 1.0 where it holds (never for nan, except `!=`).
    #[inline(always)]
    pub fn mask(self, x: f64, y: f64) -> f64 {
        b(match self {
            Cmp::Lt => x < y,
            Cmp::Le => x <= y,
            Cmp::Gt => x > y,
            Cmp::Ge => x >= y,
            Cmp::Eq => x == y,
            Cmp::Ne => x != y,
        })
    }
}

/// The special functions against torch at many points across each domain
/// (tests/reference/special.json, made by gen_functional_extra.py).
#[cfg(test)]
mod special_tests {
    use super::super::{eval_scalar, Op, UnFn};
    use serde_json::Value;

    fn num(v: &Value) -> f64 {
        match v {
            Value::String(s) => match s.as_str() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => f64::NAN,
            },
            v => v.as_f64().unwrap_or(f64::NAN),
        }
    }

    fn cases() -> Value {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/special.json");
        let text = std::fs::read_to_string(p).expect("special.json");
        serde_json::from_str(&text).expect("special.json parses")
    }

    /// Relative error of `got` against torch's `want` (0 when both are the
    /// same non-finite value).
    fn rel(got: f64, want: f64) -> f64 {
        if !want.is_finite() || !got.is_finite() {
            return if got == want || (got.is_nan() && want.is_nan()) {
                0.0
            } else {
                f64::INFINITY
            };
        }
        if got == want {
            return 0.0;
        }
        (got - want).abs() / want.abs()
    }

    #[test]
    fn special_functions_match_torch_everywhere() {
        let c = cases();
        let fns = &c["functions"];
        let mut report = Vec::new();
        let mut bad = Vec::new();
        for (name, f) in [
            ("erf", UnFn::Erf),
            ("erfc", UnFn::Erfc),
            ("erfinv", UnFn::Erfinv),
            ("lgamma", UnFn::Lgamma),
            ("digamma", UnFn::Digamma),
            ("trigamma", UnFn::Trigamma),
        ] {
            let xs = fns[name]["x"].as_array().expect("x");
            let ys = fns[name]["y"].as_array().expect("y");
            let mut worst = (0.0, 0.0);
            for (x, y) in xs.iter().zip(ys) {
                let (x, y) = (num(x), num(y));
                let r = rel(f.apply(x), y);
                if r > worst.0 {
                    worst = (r, x);
                }
                if r > 1e-12 {
                    bad.push(format!("{name}({x:e}) = {:e}, torch {y:e}", f.apply(x)));
                }
            }
            report.push(format!(
                "{name}: {} points, worst {:.1e} at {:e}",
                xs.len(),
                worst.0,
                worst.1
            ));
        }
        for (name, op) in [("xlogy", Op::Xlogy), ("logaddexp", Op::LogAddExp)] {
            let xs = fns[name]["x"].as_array().expect("x");
            let x2 = fns[name]["x2"].as_array().expect("x2");
            let ys = fns[name]["y"].as_array().expect("y");
            for ((a, b), y) in xs.iter().zip(x2).zip(ys) {
                let (a, b, y) = (num(a), num(b), num(y));
                let got = eval_scalar(op, &[a, b]);
                if rel(got, y) > 1e-12 {
                    bad.push(format!("{name}({a}, {b}) = {got:e}, torch {y:e}"));
                }
            }
        }
        println!("{}", report.join("\n"));
        assert!(
            bad.is_empty(),
            "{}\n{} points off:\n{}",
            report.join("\n"),
            bad.len(),
            bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}
