//! exp, sigmoid, tanh and log written so that a loop over a block
//! vectorizes: straight-line polynomial code with no branch and no table,
//! the rare arguments it does not cover (huge, tiny results, nan; for log
//! zero, negative, subnormal, inf) fixed up by a second, scalar pass. About
//! a quarter of a sigmoid fit's step was glibc's scalar `exp`, and a third
//! of an unbinned likelihood's evaluation its scalar `log`; these run four
//! lanes at a time where the CPU has AVX2 (chosen at run time) and two
//! elsewhere.
//!
//! The scalar functions (`exp`, `tanh`, `sigmoid`, `log`) run the same
//! operations on one element, so a value is the same bits whether a fused
//! block or a single-element instruction computes it. No fused
//! multiply-add is used (Rust never contracts `a * b + c`), so the AVX2 and
//! the plain builds agree to the bit as well.
//!
//! Accuracy (the tests below hold it): exp and log within 1 ulp of glibc's;
//! tanh and sigmoid within 2 ulp of glibc's tanh and of 1 / (1 + glibc
//! exp(-x)) (glibc's tanh is itself a 2-ulp function; the sigmoid's
//! division adds a rounding to exp's ulp).
//! - exp: fdlibm's method (e_exp.c): x = k ln2 + r with |r| <= ln2 / 2,
//!   a Remez rational approximation of exp(r), then 2^k; < 1 ulp.
//! - tanh: the odd Taylor series up to x^39 where |x| < 0.55 (its tail is
//!   below 2^-60 there), 1 - 2 / (exp(2|x|) + 1) above (the result is then
//!   >= 1/2, so the subtraction loses nothing).
//! - sigmoid: 1 / (1 + exp(-x)), torch's definition.
//! - log: fdlibm's method (e_log.c): x = 2^k (1 + f) with 1 + f in
//!   [sqrt(2)/2, sqrt(2)), log(1 + f) = f - f²/2 + s (f²/2 + R(s²)) with
//!   s = f / (2 + f) and R a Remez polynomial; both of fdlibm's forms are
//!   computed and one chosen; < 1 ulp. The exponent becomes a float through
//!   its bits, as AVX2 has no 64-bit integer conversion.

// fdlibm's constants, with the digits it prints them with
#![allow(clippy::excessive_precision)]

/// Below this |x| exp's polynomial path applies (2^k stays normal).
const EXP_SAFE: f64 = 708.0;
const LN2HI: f64 = 6.931_471_803_691_238_164_90e-1;
const LN2LO: f64 = 1.908_214_929_270_587_700_02e-10;
const INVLN2: f64 = std::f64::consts::LOG2_E;
/// 1.5 * 2^52: adding it rounds to an integer kept in the low mantissa bits.
const SHIFT: f64 = 6_755_399_441_055_744.0;
const P1: f64 = 1.666_666_666_666_660_190_37e-1;
const P2: f64 = -2.777_777_777_701_559_338_42e-3;
const P3: f64 = 6.613_756_321_437_934_361_17e-5;
const P4: f64 = -1.653_390_220_546_525_153_90e-6;
const P5: f64 = 4.138_136_797_057_238_460_39e-8;

/// exp(x) for |x| <= EXP_SAFE (other arguments give a finite, wrong value).
#[inline(always)]
fn exp_core(x: f64) -> f64 {
    let x = x.clamp(-EXP_SAFE, EXP_SAFE);
    let t = x * INVLN2 + SHIFT;
    let kf = t - SHIFT;
    // hi is exact: kf has at most 11 bits and LN2HI 32
    let hi = x - kf * LN2HI;
    let lo = kf * LN2LO;
    let r = hi - lo;
    let rr = r * r;
    let c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))));
    let y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi);
    let k = t.to_bits().wrapping_sub(SHIFT.to_bits());
    y * f64::from_bits(k.wrapping_add(1023) << 52)
}

/// Whether `exp_core` does not cover x (nan, or |x| > EXP_SAFE).
#[inline(always)]
fn exp_outside(x: f64) -> bool {
    x.is_nan() || x.abs() > EXP_SAFE
}

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    if exp_outside(x) {
        x.exp()
    } else {
        exp_core(x)
    }
}

/// 1 / (1 + e^-x).
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + exp(-x))
}

/// Taylor coefficients of tanh: x^3, x^5, ..., x^39.
const TANH_SERIES: [f64; 19] = [
    -0.333_333_333_333_333_3,
    0.133_333_333_333_333_33,
    -0.053_968_253_968_253_97,
    0.021_869_488_536_155_203,
    -0.008_863_235_529_902_197,
    0.003_592_128_036_572_481,
    -0.001_455_834_387_051_318_3,
    0.000_590_027_440_945_586,
    -0.000_239_129_114_243_552_48,
    9.691_537_956_929_451e-5,
    -3.927_832_388_331_683e-5,
    1.591_890_506_932_896_4e-5,
    -6.451_689_215_655_431e-6,
    2.614_771_151_290_754_6e-6,
    -1.059_726_832_010_465_4e-6,
    4.294_911_078_273_806e-7,
    -1.740_661_896_357_164_8e-7,
    7.054_636_946_400_968e-8,
    -2.859_136_662_305_254e-8,
];

/// Below this |x| tanh uses its series.
const TANH_SERIES_BELOW: f64 = 0.55;

/// tanh(x): both forms computed, one chosen (no branch, so it vectorizes).
#[inline(always)]
pub fn tanh(x: f64) -> f64 {
    let a = x.abs();
    let s = x * x;
    let mut p = TANH_SERIES[18];
    for &c in TANH_SERIES[..18].iter().rev() {
        p = c + s * p;
    }
    // (the sign again: at -0 the sum would be +0)
    let series = (x + x * (s * p)).copysign(x);
    // tanh(20) rounds to 1, and 2 * 20 is inside exp_core's range
    let e = exp_core(2.0 * a.min(20.0));
    let big = (1.0 - 2.0 / (e + 1.0)).copysign(x);
    let t = if a < TANH_SERIES_BELOW { series } else { big };
    if x.is_nan() {
        x
    } else {
        t
    }
}

// fdlibm's log (e_log.c): Remez coefficients of (log(1+f) - f + f²/2) / s
// in s² (s = f / (2 + f)), with the digits it prints them with
const LG1: f64 = 6.666_666_666_666_735_130e-1;
const LG2: f64 = 3.999_999_999_940_941_908e-1;
const LG3: f64 = 2.857_142_874_366_239_149e-1;
const LG4: f64 = 2.222_219_843_214_978_396e-1;
const LG5: f64 = 1.818_357_216_161_805_012e-1;
const LG6: f64 = 1.531_383_769_920_937_332e-1;
const LG7: f64 = 1.479_819_860_511_658_591e-1;
/// 2^52: a whole number below it OR'd into its mantissa bits is that number
/// plus 2^52, so the exponent becomes a float without an int conversion
/// (which AVX2 does not have for 64-bit lanes).
const TWO52: f64 = 4_503_599_627_370_496.0;

/// ln(x) for positive normal finite x (other arguments give a wrong value).
#[inline(always)]
fn log_core(x: f64) -> f64 {
    let bits = x.to_bits();
    // the top 20 mantissa bits; from about sqrt(2) on, x is halved so that
    // 1 + f lies in [sqrt(2)/2, sqrt(2))
    let hx = (bits >> 32) & 0x000f_ffff;
    let half = (hx + 0x95f64) & 0x0010_0000;
    let y = f64::from_bits((bits & 0x000f_ffff_ffff_ffff) | ((half ^ 0x3ff0_0000) << 32));
    let biased = (bits >> 52) + (half >> 20);
    let k = f64::from_bits(TWO52.to_bits() | biased) - (TWO52 + 1023.0);
    let f = y - 1.0;
    let s = f / (2.0 + f);
    let z = s * s;
    let w = z * z;
    let t1 = w * (LG2 + w * (LG4 + w * LG6));
    let t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
    let r = t2 + t1;
    let hfsq = 0.5 * f * f;
    // fdlibm's two forms, chosen by the same mantissa range (with k = 0 each
    // is fdlibm's k = 0 form to the bit: 0 * ln2 adds nothing)
    let wide = k * LN2HI - ((hfsq - (s * (hfsq + r) + k * LN2LO)) - f);
    let narrow = k * LN2HI - ((s * (f - r) - k * LN2LO) - f);
    if (0x6147a..=0x6b851).contains(&hx) {
        wide
    } else {
        narrow
    }
}

/// Whether `log_core` does not cover x (zero, negative, subnormal, inf, nan).
#[inline(always)]
fn log_outside(x: f64) -> bool {
    !(f64::MIN_POSITIVE..=f64::MAX).contains(&x)
}

/// ln(x).
#[inline]
pub fn log(x: f64) -> f64 {
    if log_outside(x) {
        x.ln()
    } else {
        log_core(x)
    }
}

/// Runs `body` compiled for AVX2 where the CPU has it.
macro_rules! dispatch {
    ($avx:ident, $plain:ident, $x:ident, $out:ident) => {{
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked just above).
            return unsafe { $avx($x, $out) };
        }
        $plain($x, $out)
    }};
}

/// Whether `outside` holds for any element: an or over the whole block
/// (no early exit, so it vectorizes), before the rare scalar fix-up pass.
#[inline(always)]
fn any(x: &[f64], outside: impl Fn(f64) -> bool) -> bool {
    x.iter().fold(false, |b, &v| b | outside(v))
}

#[inline(always)]
fn exp_block(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = exp_core(v);
    }
    if any(x, exp_outside) {
        for (o, &v) in out.iter_mut().zip(x) {
            if exp_outside(v) {
                *o = v.exp();
            }
        }
    }
}

#[inline(always)]
fn sigmoid_block(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = exp_core(-v);
    }
    if any(x, exp_outside) {
        for (o, &v) in out.iter_mut().zip(x) {
            if exp_outside(-v) {
                *o = (-v).exp();
            }
        }
    }
    for o in out.iter_mut() {
        *o = 1.0 / (1.0 + *o);
    }
}

#[inline(always)]
fn log_block(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = log_core(v);
    }
    if any(x, log_outside) {
        for (o, &v) in out.iter_mut().zip(x) {
            if log_outside(v) {
                *o = v.ln();
            }
        }
    }
}

#[inline(always)]
fn tanh_block(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = tanh(v);
    }
}

macro_rules! avx2_variant {
    ($name:ident, $body:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $name(x: &[f64], out: &mut [f64]) {
            $body(x, out)
        }
    };
}
avx2_variant!(exp_avx2, exp_block);
avx2_variant!(sigmoid_avx2, sigmoid_block);
avx2_variant!(tanh_avx2, tanh_block);
avx2_variant!(log_avx2, log_block);

/// out[i] = exp(x[i]) (the shorter of the two lengths).
pub fn exp_slice(x: &[f64], out: &mut [f64]) {
    dispatch!(exp_avx2, exp_block, x, out)
}

/// out[i] = sigmoid(x[i]).
pub fn sigmoid_slice(x: &[f64], out: &mut [f64]) {
    dispatch!(sigmoid_avx2, sigmoid_block, x, out)
}

/// out[i] = tanh(x[i]).
pub fn tanh_slice(x: &[f64], out: &mut [f64]) {
    dispatch!(tanh_avx2, tanh_block, x, out)
}

/// out[i] = ln(x[i]).
pub fn log_slice(x: &[f64], out: &mut [f64]) {
    dispatch!(log_avx2, log_block, x, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distance in units in the last place (same-sign finite values).
    fn ulps(a: f64, b: f64) -> u64 {
        if a == b || (a.is_nan() && b.is_nan()) {
            return 0;
        }
        if a.is_sign_negative() != b.is_sign_negative() || !a.is_finite() || !b.is_finite() {
            return u64::MAX;
        }
        a.to_bits().abs_diff(b.to_bits())
    }

    /// Many points: a dense grid near 0, a wide one, powers of two around
    /// the edges, subnormals, and the special values.
    fn points(lo: f64, hi: f64) -> Vec<f64> {
        let mut v: Vec<f64> = (0..200_001)
            .map(|i| lo + (hi - lo) * i as f64 / 200_000.0)
            .collect();
        v.extend((0..100_001).map(|i| -2.0 + 4.0 * i as f64 / 100_000.0));
        for e in -1074..=1023 {
            let p = 2f64.powi(e);
            v.extend([p, -p, p * 1.3, -p * 1.7]);
        }
        v.extend([
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            5e-324,
            -5e-324,
            f64::MAX,
            f64::MIN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            EXP_SAFE,
            -EXP_SAFE,
            709.782712893384,
            709.79,
            -745.1332191019411,
            -745.2,
            TANH_SERIES_BELOW,
            -TANH_SERIES_BELOW,
            TANH_SERIES_BELOW - 1e-16,
            20.0,
            19.99,
            1e-300,
        ]);
        v
    }

    fn check(
        name: &str,
        ours: impl Fn(f64) -> f64,
        std: impl Fn(f64) -> f64,
        xs: &[f64],
        most: u64,
    ) {
        let mut worst = (0u64, 0.0);
        for &x in xs {
            let (a, b) = (ours(x), std(x));
            assert!(
                a.is_nan() == b.is_nan() && (b.is_finite() || b.is_nan() || a == b),
                "{name}({x:e}) = {a:e}, std {b:e}"
            );
            let d = ulps(a, b);
            if d > worst.0 {
                worst = (d, x);
            }
        }
        assert!(worst.0 <= most, "{name}: {} ulp at {:e}", worst.0, worst.1);
    }

    #[test]
    fn exp_within_one_ulp_of_glibc() {
        check("exp", exp, f64::exp, &points(-760.0, 720.0), 1);
        // signs and exact values
        assert_eq!(exp(0.0), 1.0);
        assert_eq!(exp(-0.0), 1.0);
        assert_eq!(exp(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp(1e-300), 1.0);
    }

    #[test]
    fn tanh_and_sigmoid_within_two_ulp_of_glibc() {
        let xs = points(-30.0, 30.0);
        // glibc's tanh is itself good to 2 ulp; between 0.55 and ~3 the
        // two can differ by 2
        check("tanh", tanh, f64::tanh, &xs, 2);
        // 1 / (1 + e) carries exp's 1 ulp and one more rounding
        check("sigmoid", sigmoid, |x| 1.0 / (1.0 + (-x).exp()), &xs, 2);
        assert!(tanh(-0.0).is_sign_negative() && tanh(-0.0) == 0.0);
        assert_eq!(tanh(f64::INFINITY), 1.0);
        assert_eq!(tanh(-1e300), -1.0);
        assert!(tanh(f64::NAN).is_nan());
    }

    /// Positive arguments for log: near 1 (both forms of the reduction and
    /// the k = 0 case), around the mantissa thresholds (fdlibm's two forms,
    /// the halving at sqrt(2)), pseudo-random bit patterns over every
    /// exponent, and `points`' grids and special values.
    fn log_points() -> Vec<f64> {
        let mut v = points(0.0, 1000.0);
        for i in 1..20_000u64 {
            let d = i as f64 * f64::EPSILON;
            v.extend([
                1.0 + d,
                1.0 - d / 2.0,
                1.0 + i as f64 * 1e-9,
                1.0 - i as f64 * 1e-9,
            ]);
        }
        for e in [1023u64, 1022, 1, 2046, 1000, 1100] {
            for hx in [0x6147a_u64, 0x6b851, 0x6a09e, 0x95f64, 0x6a09f] {
                for d in -300i64..300 {
                    let m = ((hx << 32) as i64 + d * (1 << 22)) as u64 & 0x000f_ffff_ffff_ffff;
                    v.push(f64::from_bits((e << 52) | m));
                }
            }
        }
        let mut r = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..1_000_000 {
            // xorshift64: positive bit patterns of every exponent
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            v.push(f64::from_bits(r >> 1));
        }
        v
    }

    #[test]
    fn log_within_one_ulp_of_glibc() {
        check("log", log, f64::ln, &log_points(), 1);
        assert!(log(1.0) == 0.0 && log(1.0).is_sign_positive());
        assert_eq!(log(0.0), f64::NEG_INFINITY);
        assert_eq!(log(-0.0), f64::NEG_INFINITY);
        assert_eq!(log(f64::INFINITY), f64::INFINITY);
        assert!(log(-1.0).is_nan() && log(f64::NEG_INFINITY).is_nan() && log(f64::NAN).is_nan());
        assert_eq!(log(5e-324), 5e-324f64.ln());
        assert_eq!(log(std::f64::consts::E), 1.0);
        assert_eq!(log(2.0), std::f64::consts::LN_2);
    }

    #[test]
    fn blocks_give_the_scalar_bits() {
        let xs = points(-760.0, 720.0);
        let mut out = vec![0.0; xs.len()];
        type Pair = (fn(&[f64], &mut [f64]), fn(f64) -> f64);
        let pairs: [Pair; 4] = [
            (exp_slice, exp),
            (sigmoid_slice, sigmoid),
            (tanh_slice, tanh),
            (log_slice, log),
        ];
        for (block, one) in pairs {
            block(&xs, &mut out);
            for (&x, &o) in xs.iter().zip(&out) {
                assert_eq!(o.to_bits(), one(x).to_bits(), "{x:e}");
            }
        }
        let ls = log_points();
        let mut lo = vec![0.0; ls.len()];
        log_slice(&ls, &mut lo);
        for (&x, &o) in ls.iter().zip(&lo) {
            assert_eq!(o.to_bits(), log(x).to_bits(), "log({x:e})");
        }
        log_block(&ls, &mut lo);
        for (&x, &o) in ls.iter().zip(&lo) {
            assert_eq!(o.to_bits(), log(x).to_bits(), "log({x:e})");
        }
        // the plain (non-AVX2) build of the block agrees too
        exp_block(&xs, &mut out);
        for (&x, &o) in xs.iter().zip(&out) {
            assert_eq!(o.to_bits(), exp(x).to_bits(), "{x:e}");
        }
    }
}
