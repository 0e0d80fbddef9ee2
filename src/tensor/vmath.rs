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
//! block or a single-element instruction computes it. exp, tanh and sigmoid
//! use fused multiply-adds where the CPU has AVX2 and FMA: the scalar
//! functions and the blocks choose by the same run-time check, and the
//! split form (a multiply, then an add: Rust never contracts `a * b + c`)
//! runs elsewhere, in the AVX2 and the plain builds alike. So on one
//! machine every path agrees to the bit; across machines with and without
//! FMA the last bit may differ (both forms are held to the same accuracy).
//! log uses no fused multiply-add.
//!
//! Accuracy (the tests below hold it, for the fused and the split form):
//! exp and log within 1 ulp of glibc's; tanh and sigmoid within 2 ulp of
//! glibc's tanh and of 1 / (1 + glibc exp(-x)) (glibc's tanh is itself a
//! 2-ulp function; the sigmoid's division adds a rounding to exp's ulp).
//! In a vector loop a division costs about as much as a dozen multiply-adds
//! and the chain of dependent operations bounds how many elements are in
//! flight, so exp has no division and tanh one.
//! - exp: fdlibm's reduction (e_exp.c): x = k ln2 + r with |r| <= ln2 / 2,
//!   then exp(r) = 1 + r + r² Q(r), Q a degree-9 Chebyshev fit evaluated by
//!   Estrin's scheme, then 2^k; < 1 ulp.
//! - tanh: x + x s P(s) / Q(s) (s = x², a (2, 3) rational fit) where
//!   |x| < 0.55, 1 - 2 / (exp(2|x|) + 1) above (the result is then >= 1/2,
//!   so the subtraction loses nothing); both as base + num / den, one chosen
//!   before the one division.
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
/// exp(r) = 1 + r + r² Q(r) on |r| <= ln2 / 2: Q's coefficients (of r^0
/// .. r^9), fitted to (exp(r) - 1 - r) / r² at Chebyshev nodes in 60-digit
/// arithmetic (mpmath's chebyfit); the fit's error, coefficients rounded,
/// is 1.6e-17 relative (0.07 ulp).
const EXP_Q: [f64; 10] = [
    0.500_000_000_000_000_1,
    0.166_666_666_666_666_69,
    0.041_666_666_666_624_164,
    0.008_333_333_333_330_065,
    0.001_388_888_891_719_671_9,
    0.000_198_412_698_630_405_45,
    2.480_152_132_236_869_2e-5,
    2.755_726_848_031_002_4e-6,
    2.762_007_587_998_336_7e-7,
    2.510_037_583_256_123_4e-8,
];

/// How a multiply-add `a * b + c` is formed: fused (one rounding, one
/// instruction) where the CPU has FMA, else a multiply and an add. The
/// functions here are generic over it, and the scalar functions and the
/// blocks choose it by the same run-time check (`fused`), so a value is the
/// same bits whichever computes it on a given machine.
trait Mad {
    fn mad(a: f64, b: f64, c: f64) -> f64;
}

/// `a.mul_add(b, c)`: only ever run inside a function compiled with FMA
/// (elsewhere it would be libm's slow software fma).
struct Fused;
/// `a * b + c`, two roundings.
struct Split;

impl Mad for Fused {
    #[inline(always)]
    fn mad(a: f64, b: f64, c: f64) -> f64 {
        a.mul_add(b, c)
    }
}

impl Mad for Split {
    #[inline(always)]
    fn mad(a: f64, b: f64, c: f64) -> f64 {
        a * b + c
    }
}

/// Whether this CPU runs the fused (AVX2 + FMA) variants: a cached bit
/// test.
#[inline(always)]
fn fused() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// c[0] + c[1] r + ... + c[9] r^9 by Estrin's scheme: pairs, then pairs of
/// pairs, so the chain of dependent operations is 5 multiply-adds long
/// rather than Horner's 9 (a vector loop of these functions is bound by
/// that chain: the reorder buffer holds only so many elements in flight).
#[inline(always)]
fn estrin<M: Mad>(r: f64, c: &[f64; 10]) -> f64 {
    let r2 = r * r;
    let r4 = r2 * r2;
    let a0 = M::mad(c[1], r, c[0]);
    let a1 = M::mad(c[3], r, c[2]);
    let a2 = M::mad(c[5], r, c[4]);
    let a3 = M::mad(c[7], r, c[6]);
    let a4 = M::mad(c[9], r, c[8]);
    let b0 = M::mad(a1, r2, a0);
    let b1 = M::mad(a3, r2, a2);
    M::mad(r4, M::mad(r4, a4, b1), b0)
}

/// exp(x) for |x| <= EXP_SAFE (other arguments give a finite, wrong value):
/// fdlibm's reduction x = k ln2 + (hi - lo), then a polynomial rather than
/// fdlibm's rational form, so no division (a division costs as much as a
/// dozen multiplies and adds in a vector loop).
#[inline(always)]
fn exp_core<M: Mad>(x: f64) -> f64 {
    let x = x.clamp(-EXP_SAFE, EXP_SAFE);
    let t = M::mad(x, INVLN2, SHIFT);
    let kf = t - SHIFT;
    // hi is exact either way: kf has at most 11 bits and LN2HI 32
    let hi = M::mad(-kf, LN2HI, x);
    let lo = kf * LN2LO;
    let r = hi - lo;
    let q = estrin::<M>(r, &EXP_Q);
    // 1 + r + r²Q with lo subtracted late: its bits are not lost in r
    let y = 1.0 + (hi - M::mad(-(r * r), q, lo));
    let k = t.to_bits().wrapping_sub(SHIFT.to_bits());
    y * f64::from_bits(k.wrapping_add(1023) << 52)
}

/// Whether `exp_core` does not cover x (nan, or |x| > EXP_SAFE).
#[inline(always)]
fn exp_outside(x: f64) -> bool {
    x.is_nan() || x.abs() > EXP_SAFE
}

#[inline(always)]
fn exp_one<M: Mad>(x: f64) -> f64 {
    if exp_outside(x) {
        x.exp()
    } else {
        exp_core::<M>(x)
    }
}

#[inline(always)]
fn sigmoid_one<M: Mad>(x: f64) -> f64 {
    1.0 / (1.0 + exp_one::<M>(-x))
}

/// tanh(x) = x + x s P(s) / Q(s) with s = x² for |x| < TANH_SMALL: the
/// coefficients of P (s^0 .. s^2) and of Q (s^1 .. s^3; Q(0) = 1), a
/// least-squares fit of (tanh(x) - x) / x³ (weighted by s) at 400
/// Chebyshev nodes in 60-digit arithmetic; its error, coefficients rounded,
/// is 1.1e-18 relative to tanh.
const TANH_P: [f64; 3] = [
    -0.333_333_333_333_333_3,
    -0.020_500_347_313_471_93,
    -0.000_199_246_652_857_239_55,
];
const TANH_Q: [f64; 3] = [
    0.461_501_041_940_411_4,
    0.023_293_394_830_069_855,
    0.000_206_607_225_364_295_1,
];

/// Below this |x| tanh uses its rational form; above it 1 - 2 / (e^2|x| + 1)
/// is at least 1/2, so the subtraction loses nothing.
const TANH_SMALL: f64 = 0.55;

/// e^(2|x|) as tanh needs it: tanh(20) rounds to 1, and 2 * 20 is inside
/// exp_core's range.
#[inline(always)]
fn tanh_exp<M: Mad>(x: f64) -> f64 {
    exp_core::<M>(2.0 * x.abs().min(20.0))
}

/// tanh(x) from e = `tanh_exp(x)`: both forms computed as base + num / den
/// and one chosen before the one division (no branch, so it vectorizes).
#[inline(always)]
fn tanh_from<M: Mad>(x: f64, e: f64) -> f64 {
    let a = x.abs();
    let s = a * a;
    let p = M::mad(s, M::mad(s, TANH_P[2], TANH_P[1]), TANH_P[0]);
    let q = M::mad(
        s * s,
        M::mad(s, TANH_Q[2], TANH_Q[1]),
        M::mad(s, TANH_Q[0], 1.0),
    );
    let small = a < TANH_SMALL;
    let base = if small { a } else { 1.0 };
    let num = if small { a * s * p } else { -2.0 };
    let den = if small { q } else { e + 1.0 };
    // (the sign last: at -0 the sum is +0)
    let t = (base + num / den).copysign(x);
    if x.is_nan() {
        x
    } else {
        t
    }
}

#[inline(always)]
fn tanh_one<M: Mad>(x: f64) -> f64 {
    tanh_from::<M>(x, tanh_exp::<M>(x))
}

/// One element in the fused variant (for a CPU with AVX2 and FMA).
macro_rules! fma_one {
    ($name:ident, $body:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $name(x: f64) -> f64 {
            $body::<Fused>(x)
        }
    };
}
fma_one!(exp_fma1, exp_one);
fma_one!(sigmoid_fma1, sigmoid_one);
fma_one!(tanh_fma1, tanh_one);

/// Runs the fused variant where `fused()` holds, else the split one.
macro_rules! one {
    ($fma:ident, $body:ident, $x:expr) => {{
        #[cfg(target_arch = "x86_64")]
        if fused() {
            // SAFETY: the CPU has AVX2 and FMA (checked just above).
            return unsafe { $fma($x) };
        }
        $body::<Split>($x)
    }};
}

/// e^x.
#[inline]
pub fn exp(x: f64) -> f64 {
    one!(exp_fma1, exp_one, x)
}

/// 1 / (1 + e^-x).
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    one!(sigmoid_fma1, sigmoid_one, x)
}

/// tanh(x).
#[inline]
pub fn tanh(x: f64) -> f64 {
    one!(tanh_fma1, tanh_one, x)
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

/// Runs a block function compiled for AVX2 and FMA with fused
/// multiply-adds where `fused()` holds, else compiled for AVX2 where the
/// CPU has it, else plain (both with split multiply-adds: the same bits).
macro_rules! dispatch {
    ($fma:ident, $avx:ident, $body:ident, $x:ident, $out:ident) => {{
        #[cfg(target_arch = "x86_64")]
        {
            if fused() {
                // SAFETY: the CPU has AVX2 and FMA (checked just above).
                return unsafe { $fma($x, $out) };
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU has AVX2 (checked just above).
                return unsafe { $avx($x, $out) };
            }
        }
        $body::<Split>($x, $out)
    }};
}

/// Whether `outside` holds for any element: an or over the whole block
/// (no early exit, so it vectorizes), before the rare scalar fix-up pass.
#[inline(always)]
fn any(x: &[f64], outside: impl Fn(f64) -> bool) -> bool {
    x.iter().fold(false, |b, &v| b | outside(v))
}

#[inline(always)]
fn exp_block<M: Mad>(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = exp_core::<M>(v);
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
fn sigmoid_block<M: Mad>(x: &[f64], out: &mut [f64]) {
    for (o, &v) in out.iter_mut().zip(x) {
        *o = exp_core::<M>(-v);
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
fn tanh_block<M: Mad>(x: &[f64], out: &mut [f64]) {
    // two loops, each a shorter chain of dependent operations than the
    // whole, so that more elements are in flight at once
    for (o, &v) in out.iter_mut().zip(x) {
        *o = tanh_exp::<M>(v);
    }
    for (o, &v) in out.iter_mut().zip(x) {
        *o = tanh_from::<M>(v, *o);
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

/// A block function compiled for AVX2 + FMA (fused multiply-adds) and for
/// AVX2 alone (split ones).
macro_rules! variants {
    ($fma:ident, $avx:ident, $body:ident) => {
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2,fma")]
        unsafe fn $fma(x: &[f64], out: &mut [f64]) {
            $body::<Fused>(x, out)
        }
        #[cfg(target_arch = "x86_64")]
        #[target_feature(enable = "avx2")]
        unsafe fn $avx(x: &[f64], out: &mut [f64]) {
            $body::<Split>(x, out)
        }
    };
}
variants!(exp_fma, exp_avx2, exp_block);
variants!(sigmoid_fma, sigmoid_avx2, sigmoid_block);
variants!(tanh_fma, tanh_avx2, tanh_block);

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn log_avx2(x: &[f64], out: &mut [f64]) {
    log_block(x, out)
}

/// out[i] = exp(x[i]) (the shorter of the two lengths).
pub fn exp_slice(x: &[f64], out: &mut [f64]) {
    dispatch!(exp_fma, exp_avx2, exp_block, x, out)
}

/// out[i] = sigmoid(x[i]).
pub fn sigmoid_slice(x: &[f64], out: &mut [f64]) {
    dispatch!(sigmoid_fma, sigmoid_avx2, sigmoid_block, x, out)
}

/// out[i] = tanh(x[i]).
pub fn tanh_slice(x: &[f64], out: &mut [f64]) {
    dispatch!(tanh_fma, tanh_avx2, tanh_block, x, out)
}

/// out[i] = ln(x[i]).
pub fn log_slice(x: &[f64], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { log_avx2(x, out) };
    }
    log_block(x, out)
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
            TANH_SMALL,
            -TANH_SMALL,
            TANH_SMALL - 1e-16,
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
        // the dispatched one (fused on an FMA machine) and the split one
        for f in [exp, exp_one::<Split>] {
            check("exp", f, f64::exp, &points(-760.0, 720.0), 1);
            // signs and exact values
            assert_eq!(f(0.0), 1.0);
            assert_eq!(f(-0.0), 1.0);
            assert_eq!(f(f64::NEG_INFINITY), 0.0);
            assert_eq!(f(1e-300), 1.0);
        }
    }

    #[test]
    fn tanh_and_sigmoid_within_two_ulp_of_glibc() {
        let xs = points(-30.0, 30.0);
        for (t, sig) in [
            (tanh as fn(f64) -> f64, sigmoid as fn(f64) -> f64),
            (tanh_one::<Split>, sigmoid_one::<Split>),
        ] {
            // glibc's tanh is itself good to 2 ulp; below ~3 the two can
            // differ by 2
            check("tanh", t, f64::tanh, &xs, 2);
            // 1 / (1 + e) carries exp's 1 ulp and one more rounding
            check("sigmoid", sig, |x| 1.0 / (1.0 + (-x).exp()), &xs, 2);
            assert!(t(-0.0).is_sign_negative() && t(-0.0) == 0.0);
            assert_eq!(t(f64::INFINITY), 1.0);
            assert_eq!(t(-1e300), -1.0);
            assert!(t(f64::NAN).is_nan());
            assert_eq!(t(5e-324), 5e-324);
            assert_eq!(t(-1e-300), -1e-300);
        }
    }

    /// On a machine with FMA the fused functions are the ones dispatched,
    /// and they differ from the split ones somewhere (else the fused
    /// variants would not be in use).
    #[test]
    fn fma_machines_use_the_fused_variant() {
        if !fused() {
            return;
        }
        let xs = points(-30.0, 30.0);
        assert!(xs.iter().any(|&x| exp(x) != exp_one::<Split>(x)));
        assert!(xs.iter().any(|&x| tanh(x) != tanh_one::<Split>(x)));
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

    /// Every block variant gives the bits of its scalar function.
    #[test]
    fn blocks_give_the_scalar_bits() {
        let xs = points(-760.0, 720.0);
        let mut out = vec![0.0; xs.len()];
        type Pair = (fn(&[f64], &mut [f64]), fn(f64) -> f64);
        let mut pairs: Vec<Pair> = vec![
            (exp_slice, exp),
            (sigmoid_slice, sigmoid),
            (tanh_slice, tanh),
            (log_slice, log),
            // the plain (split, not AVX2) blocks
            (exp_block::<Split>, exp_one::<Split>),
            (sigmoid_block::<Split>, sigmoid_one::<Split>),
            (tanh_block::<Split>, tanh_one::<Split>),
        ];
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY (each): the CPU has AVX2 (checked just above).
            pairs.extend([
                (
                    |x: &[f64], o: &mut [f64]| unsafe { exp_avx2(x, o) },
                    exp_one::<Split> as _,
                ),
                (
                    |x: &[f64], o: &mut [f64]| unsafe { tanh_avx2(x, o) },
                    tanh_one::<Split>,
                ),
                (
                    |x: &[f64], o: &mut [f64]| unsafe { sigmoid_avx2(x, o) },
                    sigmoid_one::<Split>,
                ),
            ] as [Pair; 3]);
        }
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
    }

    /// ns per element of each block function over 1M arguments in the
    /// ranges a fit sees: 256 passes over 4096 arguments in blocks of 512
    /// as the tape runs them (so from the cache, not memory): `cargo test
    /// --release --lib vmath -- --ignored --nocapture`; best of 20, so that
    /// a busy machine inflates it less.
    #[test]
    #[ignore]
    fn ns_per_element() {
        let (n, block) = (4096, 512);
        let wide: Vec<f64> = (0..n).map(|i| -8.0 + 16.0 * i as f64 / n as f64).collect();
        let pos: Vec<f64> = (0..n).map(|i| 1e-3 + 100.0 * i as f64 / n as f64).collect();
        let mut out = vec![0.0; block];
        let mut sum = 0.0;
        type Block = fn(&[f64], &mut [f64]);
        let cases: [(&str, Block, &[f64]); 4] = [
            ("exp", exp_slice, &wide),
            ("tanh", tanh_slice, &wide),
            ("sigmoid", sigmoid_slice, &wide),
            ("log", log_slice, &pos),
        ];
        for (name, f, xs) in cases {
            let mut best = f64::INFINITY;
            for _ in 0..20 {
                let t = std::time::Instant::now();
                for _ in 0..256 {
                    for c in xs.chunks(block) {
                        f(c, &mut out);
                        sum += out[7];
                    }
                }
                best = best.min(t.elapsed().as_secs_f64());
            }
            println!("{name:8} {:6.2} ns/element", best * 1e9 / (256 * n) as f64);
        }
        assert!(sum.is_finite());
    }
}
