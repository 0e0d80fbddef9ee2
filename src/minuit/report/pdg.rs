//! Numbers as iminuit's text report writes them: Python's `%f`, `%g`,
//! `round` and `str` for floats, and the PDG rounding of a value with its
//! uncertainties (`pdg_format.py`, `_repr_text.pdg_format`).
//!
//! The smallest non-zero error decides the number of digits (two significant
//! digits when its three leading digits are below 355, one otherwise,
//! 950..999 rounds up to 1000), the value gets the same decimals, and a
//! shared exponent (a multiple of three) is shown as a suffix `eN` when the
//! numbers are very large or very small. Kept apart from the box layout
//! (`boxes.rs`) because the notebook's HTML tables use the same numbers.

use crate::minuit::Matrix;

/// A small text buffer on the stack for one formatted number (a `{:e}`
/// mantissa or a rounded value), so formatting a report's numbers does not
/// allocate; `None` from `fmt` when the text does not fit.
struct Digits {
    buf: [u8; 400],
    len: usize,
}

impl Digits {
    fn fmt(args: std::fmt::Arguments) -> Option<Digits> {
        use std::fmt::Write;
        let mut d = Digits {
            buf: [0; 400],
            len: 0,
        };
        d.write_fmt(args).ok()?;
        Some(d)
    }

    fn as_str(&self) -> &str {
        // only whole `str`s are ever copied in
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl std::fmt::Write for Digits {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let end = self.len + s.len();
        if end > self.buf.len() {
            return Err(std::fmt::Error);
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// `10^k` for `0 <= k <= 22` (each exact in f64).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// `ax * 10^k` rounded to an integer, when the floating-point product
/// decides that rounding: `10^|k|` is exact, so the product (or quotient)
/// is within half an ulp of the exact value, at most 1e-3 below 1e13; away
/// from a half-integer by more than that, its nearest integer is the exact
/// value's, which is what correctly rounded decimal formatting prints.
/// `None` near a tie or out of range (then the caller formats exactly).
fn scaled_int(ax: f64, k: i32) -> Option<u64> {
    let y = match k {
        0..=22 => ax * POW10[k as usize],
        -22..=-1 => ax / POW10[(-k) as usize],
        _ => return None,
    };
    if !y.is_finite() || y >= 1e13 || ((y - y.floor()) - 0.5).abs() < 0.01 {
        return None;
    }
    Some(y.round() as u64)
}

/// Appends `r * 10^-decimals` in fixed notation with `decimals` digits
/// after the point, `-` first when `neg` (as Rust's and Python's `%.nf`
/// print a negative number, also one that rounds to zero). The digits are
/// written by hand: `write!` of an integer costs more than the rest of a
/// report cell.
fn push_fixed(out: &mut String, neg: bool, r: u64, decimals: usize) {
    // u64 has at most 20 digits; below 1e13 here, so 0.000ddd fits too
    let mut digits = [b'0'; 20];
    let mut len = 0;
    let mut v = r;
    loop {
        digits[19 - len] = b'0' + (v % 10) as u8;
        len += 1;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let digits = &digits[20 - len..];
    if neg {
        out.push('-');
    }
    let push = |out: &mut String, d: &[u8]| {
        // ASCII digits only
        out.push_str(std::str::from_utf8(d).unwrap_or(""));
    };
    if decimals == 0 {
        push(out, digits);
    } else if len <= decimals {
        out.push_str("0.");
        push_n_zeros(out, decimals - len);
        push(out, digits);
    } else {
        push(out, &digits[..len - decimals]);
        out.push('.');
        push(out, &digits[len - decimals..]);
    }
}

/// Appends `n` zeros.
fn push_n_zeros(out: &mut String, n: usize) {
    const ZEROS: &str = "00000000000000000000000000000000";
    let mut left = n;
    while left > 0 {
        let k = left.min(ZEROS.len());
        out.push_str(&ZEROS[..k]);
        left -= k;
    }
}

/// Appends Python's `"%.{n}f" % x` (`nan`, `inf`, `-inf` for non-finite
/// values).
fn write_f(out: &mut String, x: f64, n: i32) {
    use std::fmt::Write;
    if x.is_nan() {
        out.push_str("nan");
    } else if x.is_infinite() {
        out.push_str(if x > 0.0 { "inf" } else { "-inf" });
    } else {
        let d = n.max(0);
        match scaled_int(x.abs(), d) {
            Some(r) => push_fixed(out, x.is_sign_negative(), r, d as usize),
            None => {
                let _ = write!(out, "{:.*}", d as usize, x);
            }
        }
    }
}

/// Python's `round(x, n)` for a float and `n >= 0`: correctly rounded,
/// ties to even on the exact binary value.
///
/// Python rounds the exact decimal expansion of `x`. For a small `n` the
/// product `y = x * 10^n` is within half an ulp of the exact `x 10^n`, so
/// unless `y` lies that close to a half-integer, the integer nearest to `y`
/// is the one Python finds, and dividing it by the exact `10^n` gives the
/// correctly rounded quotient that parsing Python's digits gives. Near a
/// tie (or for a large `y`) the digits are formatted exactly and parsed.
fn py_round(x: f64, n: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    if n <= 15 {
        let p = POW10[n];
        let y = x * p;
        let floor = y.floor();
        // the product's rounding error is at most |y| 2^-53; stay 4x away
        if y.abs() < 4e15 && ((y - floor) - 0.5).abs() > y.abs() * 4.5e-16 + 1e-300 {
            return y.round() / p;
        }
    }
    match Digits::fmt(format_args!("{:.*}", n, x)) {
        Some(d) => d.as_str().parse().unwrap_or(x),
        None => format!("{:.*}", n, x).parse().unwrap_or(x),
    }
}

/// Python's `str(x)` for a float (shortest round-trip digits, exponent form
/// below 1e-4 or from 1e16 on).
pub(crate) fn py_str(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_string();
    }
    let sci = format!("{:e}", x);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if (-4..16).contains(&exp) {
        let s = format!("{}", x);
        if s.contains('.') {
            s
        } else {
            s + ".0"
        }
    } else {
        format!(
            "{}e{}{:02}",
            mant,
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    }
}

/// Python's `format(x, ".{prec}g")` (also `"%g"` with `prec = 6`).
pub fn format_g(x: f64, prec: usize) -> String {
    let mut s = String::new();
    write_g(&mut s, x, prec);
    s
}

/// Appends `format_g(x, prec)` to `out`.
pub(crate) fn write_g(out: &mut String, x: f64, prec: usize) {
    if x.is_nan() {
        return out.push_str("nan");
    }
    if x.is_infinite() {
        return out.push_str(if x > 0.0 { "inf" } else { "-inf" });
    }
    let p = prec.max(1);
    if x == 0.0 {
        return out.push_str(if x.is_sign_negative() { "-0" } else { "0" });
    }
    match sig_digits(x.abs(), p) {
        Some((r, exp)) => push_g(out, x < 0.0, r, exp, p),
        None => write_g_exact(out, x, p),
    }
}

/// `write_g` for a finite non-zero `x` and `p >= 1` by exact formatting
/// (Rust's `{:e}` rounds the exact binary value, as Python's does).
fn write_g_exact(out: &mut String, x: f64, p: usize) {
    use std::fmt::Write;
    let sci_args = format_args!("{:.*e}", p - 1, x);
    let (small, big);
    let sci: &str = match Digits::fmt(sci_args) {
        Some(d) => {
            small = d;
            small.as_str()
        }
        None => {
            big = format!("{:.*e}", p - 1, x);
            &big
        }
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    // Python drops trailing zeros (and then the dot) of a number with a dot
    let strip = |s: &str| -> usize {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').len()
        } else {
            s.len()
        }
    };
    if exp >= -4 && exp < p as i32 {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        let at = out.len();
        let _ = write!(out, "{:.*}", decimals, x);
        let keep = strip(&out[at..]);
        out.truncate(at + keep);
    } else {
        out.push_str(&mant[..strip(mant)]);
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
}

/// `|x|` rounded to `p` significant digits: the digits as an integer in
/// `[10^(p-1), 10^p)` and the decimal exponent of the first, when
/// `scaled_int` decides the rounding.
fn sig_digits(ax: f64, p: usize) -> Option<(u64, i32)> {
    if p > 12 {
        return None;
    }
    let (lo, hi) = (10u64.pow(p as u32 - 1), 10u64.pow(p as u32));
    let mut exp = ax.log10().floor() as i32;
    // log10 may be one off near a power of ten; a carry (9.9996 to 10.00)
    // moves the exponent up
    for _ in 0..3 {
        let r = scaled_int(ax, p as i32 - 1 - exp)?;
        if r >= hi {
            exp += 1;
        } else if r < lo {
            exp -= 1;
        } else {
            return Some((r, exp));
        }
    }
    None
}

/// Appends the `%g` text of `±r 10^(exp - p + 1)`: fixed notation for
/// `-4 <= exp < p`, else a mantissa and `e±XX`; trailing zeros (and then
/// the dot) dropped, as Python does.
fn push_g(out: &mut String, neg: bool, r: u64, exp: i32, p: usize) {
    use std::fmt::Write;
    let at = out.len();
    let strip = |out: &mut String| {
        if out[at..].contains('.') {
            let keep = out.trim_end_matches('0').trim_end_matches('.').len();
            out.truncate(keep);
        }
    };
    if exp >= -4 && exp < p as i32 {
        push_fixed(out, neg, r, (p as i32 - 1 - exp) as usize);
        strip(out);
    } else {
        push_fixed(out, neg, r, p - 1);
        strip(out);
        let _ = write!(out, "e{}{:02}", if exp < 0 { '-' } else { '+' }, exp.abs());
    }
}

/// `10**k` as Python computes it for integer `k` (exact for `k >= 0`).
fn pow10(k: i32) -> f64 {
    10f64.powf(k as f64)
}

/// iminuit's `pdg_format._round` with no leader and no external exponent:
/// the formatted numbers, written into `out[i]` (cleared strings, one per
/// value), and the shared exponent.
fn pdg_round(values: &[f64], out: &mut [String]) -> i32 {
    // the smallest non-zero finite error leads
    let mut leader: Option<usize> = None;
    let mut lerror = f64::INFINITY;
    for (i, x) in values.iter().enumerate().skip(1) {
        let a = x.abs();
        if a > 0.0 && a < lerror {
            lerror = a;
            leader = Some(i);
        }
    }
    let v0 = values.first().copied().unwrap_or(0.0);
    let v0_ok = v0.is_finite() && v0 != 0.0;

    let Some(leader) = leader else {
        if v0_ok {
            let n_exp = v0.abs().log10().floor() as i32;
            let scale = pow10(-n_exp);
            for (s, v) in out.iter_mut().zip(values) {
                write_f(s, v * scale, 4);
            }
            return n_exp;
        }
        for (s, &v) in out.iter_mut().zip(values) {
            s.push_str(&py_str(v));
        }
        return 0;
    };

    let n_exp = lerror.log10().floor() as i32 + 1;
    let scale = pow10(-n_exp);
    let mut digits = py_round(lerror * scale, 3);
    let n_digits: i32;
    if digits < 0.355 {
        n_digits = 2;
        digits = py_round(digits, 2);
    } else {
        n_digits = 1;
        digits = if digits < 0.95 {
            py_round(digits, 1)
        } else {
            1.0
        };
    }

    let mut n_exp_extern = if n_exp.abs() > 2 {
        ((n_exp as f64 / 3.0).round_ties_even() * 3.0) as i32
    } else {
        0
    };
    if v0_ok {
        let n = ((v0.abs().log10() / 3.0).floor() * 3.0) as i32;
        if n > n_exp_extern {
            n_exp_extern = n;
        }
    }
    let shift = n_exp - n_exp_extern;
    let factor = pow10(shift);
    for (i, (s, &x)) in out.iter_mut().zip(values).enumerate() {
        let y = if i != leader {
            py_round(x * scale, n_digits as usize)
        } else {
            digits.copysign(values[leader])
        };
        write_f(s, y * factor, n_digits - shift);
    }
    n_exp - shift
}

/// iminuit's `pdg_format._strip`: drop the trailing zeros (and then the
/// dot) that all numbers with a dot share; turn a leading "-0" into "0".
fn pdg_strip(items: &mut [String]) {
    let dotted = |s: &String| s.contains('.');
    let Some(first) = items.iter().find(|s| dotted(s)) else {
        return;
    };
    let char_from_end = |s: &str, i: usize| -> Option<u8> {
        let b = s.as_bytes();
        if i < b.len() {
            Some(b[b.len() - 1 - i])
        } else {
            None
        }
    };
    let first_len = first.len();
    let all_at = |items: &[String], i: usize, c: u8| {
        items
            .iter()
            .filter(|s| dotted(s))
            .all(|s| char_from_end(s, i) == Some(c))
    };
    let mut i = 0;
    while i < first_len && all_at(items, i, b'0') {
        i += 1;
    }
    if i > 0 && all_at(items, i, b'.') {
        i += 1;
    }
    if i > 0 {
        for s in items.iter_mut().filter(|s| s.contains('.')) {
            let len = s.len();
            s.truncate(len.saturating_sub(i));
        }
    }
    if items[0] == "-0" {
        items[0].clear();
        items[0].push('0');
    }
}

/// iminuit's text-report `pdg_format(value, *errors)`: the value (when
/// given) and each error rounded by the PDG rule, with a shared exponent
/// written as an `eN` suffix on each number.
///
/// ```text
/// pdg_format(Some(1.2567), &[0.1234]) == ["1.26", "0.12"]
/// pdg_format(Some(1.2567e4), &[0.1234e4]) == ["12.6e3", "1.2e3"]
/// ```
pub fn pdg_format(value: Option<f64>, errors: &[f64]) -> Vec<String> {
    let mut out = Vec::new();
    let n = pdg_format_into(value, errors, &mut out);
    out.truncate(n);
    out
}

/// `pdg_format` into the strings of `out` (reused: a report formats many
/// numbers, and its strings are allocated once): the numbers are
/// `out[..k]` for the returned `k`.
pub(crate) fn pdg_format_into(value: Option<f64>, errors: &[f64], out: &mut Vec<String>) -> usize {
    let n = errors.len() + 1;
    if out.len() < n {
        out.resize_with(n, String::new);
    }
    out.iter_mut().for_each(String::clear);
    let v0 = value.unwrap_or(0.0);
    let nexp = match errors {
        [] => pdg_round(&[v0], out),
        [a] => pdg_round(&[v0, *a], out),
        [a, b] => pdg_round(&[v0, *a, *b], out),
        [a, b, c] => pdg_round(&[v0, *a, *b, *c], out),
        _ => {
            let vals: Vec<f64> = std::iter::once(v0).chain(errors.iter().copied()).collect();
            pdg_round(&vals, out)
        }
    };
    let strings = if value.is_none() {
        // as iminuit does: without a value, the first error takes the
        // value's place in the stripping and in the "-0" rule below
        out[..n].rotate_left(1);
        &mut out[..n - 1]
    } else {
        &mut out[..n]
    };
    if strings.is_empty() {
        return 0;
    }
    pdg_strip(strings);
    if nexp != 0 {
        use std::fmt::Write;
        for (i, s) in strings.iter_mut().enumerate() {
            if s.ends_with('f') || s.ends_with('n') {
                continue;
            }
            if i == 0 && is_signed_zero_decimal(s) {
                let neg = s.starts_with('-');
                s.clear();
                s.push_str(if neg { "-0" } else { "0" });
                continue;
            }
            let _ = write!(s, "e{nexp}");
        }
    }
    strings.len()
}

/// Whether `s` matches the regex `-?0\.0+$`.
fn is_signed_zero_decimal(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    match t.strip_prefix("0.") {
        Some(rest) => !rest.is_empty() && rest.bytes().all(|b| b == b'0'),
        None => false,
    }
}

/// The numbers of a matrix as iminuit shows them: the diagonal with three
/// significant digits, each off-diagonal element rounded like a value
/// whose errors are the two diagonal elements. Row-major.
pub fn matrix_format(m: &Matrix) -> Vec<String> {
    let mut r = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            r.push(matrix_cell(m, i, j));
        }
    }
    r
}

/// One number of `matrix_format`: element (i, j).
pub fn matrix_cell(m: &Matrix, i: usize, j: usize) -> String {
    let mut s = String::new();
    write_matrix_cell(&mut s, m, i, j, &mut Vec::new());
    s
}

/// Appends `matrix_cell(m, i, j)` to `out`; `scratch` holds the strings
/// of an off-diagonal element's rounding (kept from cell to cell).
pub(crate) fn write_matrix_cell(
    out: &mut String,
    m: &Matrix,
    i: usize,
    j: usize,
    scratch: &mut Vec<String>,
) {
    if i == j {
        write_g(out, m[(i, i)], 3)
    } else {
        pdg_format_into(Some(m[(i, j)]), &[m[(i, i)], m[(j, j)]], scratch);
        out.push_str(&scratch[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minuit::report::golden::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn pdg_format_iminuit_cases() {
        let nan = f64::NAN;
        let inf = f64::INFINITY;
        let p = |v: f64, e: &[f64]| pdg_format(Some(v), e);
        assert_eq!(p(1.2567, &[0.1234]), s(&["1.26", "0.12"]));
        assert_eq!(p(1.2567e3, &[0.1234e3]), s(&["1.26e3", "0.12e3"]));
        assert_eq!(p(1.2567e4, &[0.1234e4]), s(&["12.6e3", "1.2e3"]));
        assert_eq!(p(1.2567e-1, &[0.1234e-1]), s(&["0.126", "0.012"]));
        assert_eq!(p(1.2567e-2, &[0.1234e-2]), s(&["0.0126", "0.0012"]));
        assert_eq!(p(1.0, &[0.0, 0.25]), s(&["1.00", "0.00", "0.25"]));
        assert_eq!(p(0.0, &[1.0, -1.0]), s(&["0", "1", "-1"]));
        assert_eq!(p(2.0, &[-1.0, 1.0]), s(&["2", "-1", "1"]));
        assert_eq!(p(2.01, &[-1.01, 1.01]), s(&["2", "-1", "1"]));
        assert_eq!(p(1.999, &[-0.999, 0.999]), s(&["2", "-1", "1"]));
        assert_eq!(p(1.0, &[0.5, -0.5]), s(&["1.0", "0.5", "-0.5"]));
        assert_eq!(p(1.0, &[1e-3]), s(&["1.000", "0.001"]));
        assert_eq!(p(1.0, &[1e-4]), s(&["1.0000", "0.0001"]));
        assert_eq!(p(1.0, &[1e-5]), s(&["1.00000", "0.00001"]));
        assert_eq!(p(-1.234567e-22, &[1.234567e-11]), s(&["-0", "0.012e-9"]));
        assert_eq!(p(nan, &[1.23e-2]), s(&["nan", "0.012"]));
        assert_eq!(p(nan, &[1.23e10]), s(&["nan", "0.012e12"]));
        assert_eq!(p(nan, &[-nan]), s(&["nan", "nan"]));
        assert_eq!(p(inf, &[1.23e10]), s(&["inf", "0.012e12"]));
    }

    #[test]
    fn pdg_format_himmelblau() {
        assert_eq!(
            pdg_format(Some(2.999956530631724), &[0.17926876364450897]),
            s(&["3.00", "0.18"])
        );
        assert_eq!(
            pdg_format(Some(2.0000728063904454), &[0.2644548196688126]),
            s(&["2.00", "0.26"])
        );
    }

    #[test]
    fn matrix_numbers() {
        let m = Matrix::from_row_slice(2, 2, &[1e1, 2e2, -3e3, -4e4]);
        assert_eq!(matrix_format(&m), s(&["10", "200", "-3.00e3", "-4e+04"]));
    }

    #[test]
    fn python_g() {
        assert_eq!(format_g(0.005417526275975615, 4), "0.005418");
        assert_eq!(format_g(1.23456e-10, 3), "1.23e-10");
        assert_eq!(format_g(0.1, 3), "0.1");
        assert_eq!(format_g(-4e4, 3), "-4e+04");
        assert_eq!(format_g(123456.0, 6), "123456");
        assert_eq!(format_g(1234567.0, 6), "1.23457e+06");
        assert_eq!(format_g(0.0001, 3), "0.0001");
        assert_eq!(format_g(0.00001, 3), "1e-05");
        assert_eq!(format_g(9.9999, 3), "10");
        assert_eq!(format_g(-0.0, 3), "-0");
        assert_eq!(format_g(f64::NAN, 3), "nan");
        assert_eq!(format_g(f64::NEG_INFINITY, 3), "-inf");
    }

    /// A deterministic spread of doubles: many magnitudes, and numbers
    /// just rounded to a few decimals (the hard case for digit rounding).
    fn samples() -> Vec<f64> {
        let mut v = vec![
            0.5, 1.5, 2.5, 0.125, 0.0321, -0.019, 9.9996, 99.95, 0.00105, 1e-5,
        ];
        let mut state = 0x9e3779b97f4a7c15u64;
        for k in 0..20000 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let m = (state >> 11) as f64 / (1u64 << 53) as f64;
            let e = (k % 40) - 20;
            let x = (m - 0.3) * 10f64.powi(e);
            v.push(x);
            v.push(py_round(x, (k % 5) as usize));
            v.push((x * 1e3).round() / 1e3);
        }
        v
    }

    #[test]
    fn fast_fixed_is_exact_formatting() {
        for x in samples() {
            for n in 0..12 {
                let mut s = String::new();
                write_f(&mut s, x, n);
                assert_eq!(s, format!("{:.*}", n as usize, x), "{x:e} {n}");
            }
        }
    }

    #[test]
    fn fast_round_is_format_and_parse() {
        for x in samples() {
            for n in 0..6 {
                let want: f64 = format!("{:.*}", n, x).parse().unwrap();
                assert_eq!(py_round(x, n).to_bits(), want.to_bits(), "{x:e} {n}");
            }
        }
    }

    #[test]
    fn fast_g_is_exact_formatting() {
        for x in samples().into_iter().filter(|x| *x != 0.0) {
            for p in 1..10 {
                let (mut fast, mut exact) = (String::new(), String::new());
                write_g(&mut fast, x, p);
                write_g_exact(&mut exact, x, p);
                assert_eq!(fast, exact, "{x:e} {p}");
            }
        }
    }

    #[test]
    fn python_str() {
        assert_eq!(py_str(0.0), "0.0");
        assert_eq!(py_str(-0.0), "-0.0");
        assert_eq!(py_str(1.5), "1.5");
        assert_eq!(py_str(3.0), "3.0");
        assert_eq!(py_str(1e-20), "1e-20");
        assert_eq!(py_str(1e16), "1e+16");
        assert_eq!(py_str(0.0001), "0.0001");
    }

    #[test]
    fn golden_pdg_format() {
        let g = golden();
        let cases = g["pdg"].as_array().unwrap();
        assert!(cases.len() > 1000, "{}", cases.len());
        for c in cases {
            let value = opt(&c[0]);
            let errors: Vec<f64> = c[1].as_array().unwrap().iter().map(num).collect();
            let want: Vec<String> = names(&c[2]);
            assert_eq!(pdg_format(value, &errors), want, "{value:?} {errors:?}");
        }
    }

    #[test]
    fn golden_format_g() {
        let g = golden();
        for c in g["g"].as_array().unwrap() {
            let x = num(&c[0]);
            let p = c[1].as_u64().unwrap() as usize;
            assert_eq!(format_g(x, p), c[2].as_str().unwrap(), "{x:e} {p}");
        }
    }
}
