//! The iminuit-style text report: the function-minimum box, the parameter
//! table, the MINOS box and the correlation (or covariance) matrix, drawn
//! with the same box characters, column widths and number formatting as
//! iminuit 2.x's text representation (`_repr_text.py`).
//!
//! Numbers with uncertainties are rounded by the PDG rule iminuit uses
//! (`pdg_format.py`): the smallest non-zero error decides the number of
//! digits (two significant digits when its three leading digits are below
//! 355, one otherwise, 950..999 rounds up to 1000), the value gets the same
//! decimals, and a shared exponent (a multiple of three) is shown as a
//! suffix `eN` when the numbers are very large or very small.
//!
//! The report is deterministic: iminuit's "time = ... sec" field is always
//! left empty.

use super::{FunctionMinimum, Matrix, MinosError};

/// One row of the parameter table.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamRow {
    /// The parameter's name.
    pub name: String,
    /// Its value (external coordinates).
    pub value: f64,
    /// Its parabolic ("Hesse") error; `None` leaves the column empty. iminuit
    /// shows the step size of a fixed parameter here.
    pub error: Option<f64>,
    /// MINOS errors `(lower, upper)`, lower negative.
    pub minos: Option<(f64, f64)>,
    /// Lower limit.
    pub lower: Option<f64>,
    /// Upper limit.
    pub upper: Option<f64>,
    /// Whether the parameter is fixed.
    pub fixed: bool,
}

// ---------------------------------------------------------------------------
// Python-compatible number formatting
// ---------------------------------------------------------------------------

/// Python's `"%.{n}f" % x` (`nan`, `inf`, `-inf` for non-finite values).
fn fmt_f(x: f64, n: i32) -> String {
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    format!("{:.*}", n.max(0) as usize, x)
}

/// Python's `round(x, n)` for a float and `n >= 0`: correctly rounded,
/// ties to even on the exact binary value.
fn py_round(x: f64, n: usize) -> f64 {
    if !x.is_finite() {
        return x;
    }
    format!("{:.*}", n, x).parse().unwrap_or(x)
}

/// Python's `str(x)` for a float (shortest round-trip digits, exponent form
/// below 1e-4 or from 1e16 on).
fn py_str(x: f64) -> String {
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
    if x.is_nan() {
        return "nan".to_string();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_string();
    }
    let p = prec.max(1);
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let sci = format!("{:.*e}", p - 1, x);
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let strip = |s: &str| -> String {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_string()
        } else {
            s.to_string()
        }
    };
    if exp >= -4 && exp < p as i32 {
        let decimals = (p as i32 - 1 - exp).max(0) as usize;
        strip(&format!("{:.*}", decimals, x))
    } else {
        format!(
            "{}e{}{:02}",
            strip(mant),
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        )
    }
}

/// `10**k` as Python computes it for integer `k` (exact for `k >= 0`).
fn pow10(k: i32) -> f64 {
    10f64.powf(k as f64)
}

/// iminuit's `pdg_format._round` with no leader and no external exponent:
/// the formatted numbers and the shared exponent.
fn pdg_round(values: &[f64]) -> (Vec<String>, i32) {
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
            return (values.iter().map(|v| fmt_f(v * scale, 4)).collect(), n_exp);
        }
        return (values.iter().map(|&v| py_str(v)).collect(), 0);
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
    let strings = values
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            let y = if i != leader {
                py_round(x * scale, n_digits as usize)
            } else {
                digits.copysign(values[leader])
            };
            fmt_f(y * factor, n_digits - shift)
        })
        .collect();
    (strings, n_exp - shift)
}

/// iminuit's `pdg_format._strip`: drop the trailing zeros (and then the
/// dot) that all numbers with a dot share; turn a leading "-0" into "0".
fn pdg_strip(mut items: Vec<String>) -> Vec<String> {
    let mask: Vec<usize> = (0..items.len())
        .filter(|&i| items[i].contains('.'))
        .collect();
    if mask.is_empty() || items.is_empty() {
        return items;
    }
    let char_from_end = |s: &str, i: usize| -> Option<u8> {
        let b = s.as_bytes();
        if i < b.len() {
            Some(b[b.len() - 1 - i])
        } else {
            None
        }
    };
    let first_len = items[mask[0]].len();
    let mut i = 0;
    while i < first_len
        && mask
            .iter()
            .all(|&k| char_from_end(&items[k], i) == Some(b'0'))
    {
        i += 1;
    }
    if i > 0
        && mask
            .iter()
            .all(|&k| char_from_end(&items[k], i) == Some(b'.'))
    {
        i += 1;
    }
    if i > 0 {
        for &k in &mask {
            let len = items[k].len();
            items[k].truncate(len.saturating_sub(i));
        }
    }
    if items[0] == "-0" {
        items[0] = "0".to_string();
    }
    items
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
    let mut vals = Vec::with_capacity(errors.len() + 1);
    vals.push(value.unwrap_or(0.0));
    vals.extend_from_slice(errors);
    let (mut strings, nexp) = pdg_round(&vals);
    if value.is_none() {
        strings.remove(0);
    }
    // as iminuit does: without a value, the first error takes the value's
    // place in the stripping and in the "-0" rule below
    let mut strings = pdg_strip(strings);
    if nexp != 0 {
        for (i, s) in strings.iter_mut().enumerate() {
            if s.ends_with('f') || s.ends_with('n') {
                continue;
            }
            if i == 0 && is_signed_zero_decimal(s) {
                *s = if s.starts_with('-') { "-0" } else { "0" }.to_string();
                continue;
            }
            s.push_str(&format!("e{}", nexp));
        }
    }
    strings
}

/// Whether `s` matches the regex `-?0\.0+$`.
fn is_signed_zero_decimal(s: &str) -> bool {
    let t = s.strip_prefix('-').unwrap_or(s);
    match t.strip_prefix("0.") {
        Some(rest) => !rest.is_empty() && rest.bytes().all(|b| b == b'0'),
        None => false,
    }
}

// ---------------------------------------------------------------------------
// Table drawing
// ---------------------------------------------------------------------------

fn nchars(s: &str) -> usize {
    s.chars().count()
}

/// Centre `s` in `w` characters (extra space on the right, as Python's
/// `"{:^w}"` does); no truncation.
fn center(s: &str, w: usize) -> String {
    let n = nchars(s);
    if n >= w {
        return s.to_string();
    }
    let left = (w - n) / 2;
    let right = w - n - left;
    format!("{}{}{}", " ".repeat(left), s, " ".repeat(right))
}

fn ljust(s: &str, w: usize) -> String {
    let n = nchars(s);
    if n >= w {
        return s.to_string();
    }
    format!("{}{}", s, " ".repeat(w - n))
}

fn rjust(s: &str, w: usize) -> String {
    let n = nchars(s);
    if n >= w {
        return s.to_string();
    }
    format!("{}{}", " ".repeat(w - n), s)
}

/// A row of cells: a positive width centres, a negative width `-w`
/// left-aligns after one space in `w - 1` characters.
fn format_row<S: AsRef<str>>(widths: &[i32], args: &[S]) -> String {
    let mut s = String::new();
    for (&w, a) in widths.iter().zip(args) {
        let a = a.as_ref();
        s.push('│');
        if w > 0 {
            s.push_str(&center(a, w as usize));
        } else {
            s.push(' ');
            s.push_str(&ljust(a, (-w - 1).max(0) as usize));
        }
    }
    s.push('│');
    s
}

/// A horizontal rule: `edges` has one more character than `widths`.
fn format_line(widths: &[i32], edges: &str) -> String {
    let mut e = edges.chars();
    let mut s = String::new();
    if let Some(c) = e.next() {
        s.push(c);
    }
    for &w in widths {
        s.push_str(&"─".repeat(w.unsigned_abs() as usize));
        if let Some(c) = e.next() {
            s.push(c);
        }
    }
    s
}

// ---------------------------------------------------------------------------
// The blocks
// ---------------------------------------------------------------------------

/// The eleven fields of the function-minimum box, in iminuit's order
/// (`fmin_fields`): the algorithm, FCN, call counts, EDM, time (always
/// empty: the report is deterministic), then the validity, EDM, limit,
/// call-limit and two covariance flags. The text box and the notebook's
/// HTML table both show these.
pub fn fmin_fields(m: &FunctionMinimum, algorithm: &str) -> [String; 11] {
    let mut s_ncall = format!("Nfcn = {}", m.nfcn);
    if m.ngrad > 0 {
        s_ncall.push_str(&format!(", Ngrad = {}", m.ngrad));
    }
    let (cov1, cov2) = if m.hesse_failed {
        (
            "Hesse FAILED",
            if m.call_limit {
                "ABOVE call limit"
            } else if m.has_posdef_covar {
                "Covariance pos. def."
            } else {
                "Covariance NOT pos. def."
            },
        )
    } else if m.has_covariance {
        (
            "Hesse ok",
            if m.accurate {
                "Covariance accurate"
            } else if m.has_made_posdef_covar {
                "Covariance FORCED pos. def."
            } else {
                "Covariance APPROXIMATE"
            },
        )
    } else {
        ("Hesse not run", "NO covariance")
    };
    [
        algorithm.to_string(),
        format!("FCN = {}", format_g(m.fval, 4)),
        s_ncall,
        format!(
            "EDM = {} (Goal: {})",
            format_g(m.edm, 3),
            format_g(m.edm_goal, 3)
        ),
        String::new(),
        format!("{} Minimum", if m.valid { "Valid" } else { "INVALID" }),
        format!(
            "{} EDM threshold (goal x 10)",
            if m.above_max_edm { "ABOVE" } else { "Below" }
        ),
        format!(
            "{} parameters at limit",
            if m.at_limit { "SOME" } else { "No" }
        ),
        format!(
            "{} call limit",
            if m.call_limit { "ABOVE" } else { "Below" }
        ),
        cov1.to_string(),
        cov2.to_string(),
    ]
}

/// The function-minimum box, as iminuit prints `m.fmin`: the algorithm
/// (e.g. "Migrad", "Simplex", "Scan"), FCN, Nfcn (and Ngrad when non-zero),
/// EDM and its goal, and the validity, EDM, limit, call-limit and covariance
/// flags.
pub fn fmin_block(m: &FunctionMinimum, algorithm: &str) -> String {
    let ff = fmin_fields(m, algorithm);
    let w1 = [73];
    let wl = [-34, 38];
    let wc = [34, 38];
    [
        format_line(&w1, "┌┐"),
        format_row(&w1, &[format!("{}   ", ff[0])]),
        format_line(&wl, "├┬┤"),
        format_row(&wl, &ff[1..3]),
        format_row(&wl, &ff[3..5]),
        format_line(&wc, "├┼┤"),
        format_row(&wc, &ff[5..7]),
        format_line(&wc, "├┼┤"),
        format_row(&wc, &ff[7..9]),
        format_line(&wc, "├┼┤"),
        format_row(&wc, &ff[9..11]),
        format_line(&wc, "└┴┘"),
    ]
    .join("\n")
}

/// The parameter table: index, Name, Value, Hesse Err, Minos Err-,
/// Minos Err+, Limit-, Limit+, Fixed; values rounded to their errors.
pub fn param_table(rows: &[ParamRow]) -> String {
    let name_width = rows.iter().map(|r| nchars(&r.name)).fold(4, usize::max) as i32;
    let num_width = if rows.is_empty() {
        2
    } else {
        (rows.len() - 1).to_string().len().max(2)
    } as i32;
    let ws = [-num_width - 1, -name_width - 2, 11, 11, 12, 12, 9, 9, 7];
    let ni = ws.len() - 1;
    let mut lines = vec![
        format_line(&ws, &format!("┌{}┐", "┬".repeat(ni))),
        format_row(
            &ws,
            &[
                "",
                "Name",
                "Value",
                "Hesse Err",
                "Minos Err-",
                "Minos Err+",
                "Limit-",
                "Limit+",
                "Fixed",
            ],
        ),
        format_line(&ws, &format!("├{}┤", "┼".repeat(ni))),
    ];
    for (i, r) in rows.iter().enumerate() {
        let (val, err, mel, meu) = match (r.error, r.minos) {
            (Some(e), Some((lo, up))) => {
                let s = pdg_format(Some(r.value), &[e, lo, up]);
                (s[0].clone(), s[1].clone(), s[2].clone(), s[3].clone())
            }
            (Some(e), None) => {
                let s = pdg_format(Some(r.value), &[e]);
                (s[0].clone(), s[1].clone(), String::new(), String::new())
            }
            (None, Some((lo, up))) => {
                let s = pdg_format(Some(r.value), &[lo, up]);
                (s[0].clone(), String::new(), s[1].clone(), s[2].clone())
            }
            (None, None) => {
                let s = pdg_format(Some(r.value), &[]);
                (s[0].clone(), String::new(), String::new(), String::new())
            }
        };
        lines.push(format_row(
            &ws,
            &[
                i.to_string(),
                r.name.clone(),
                val,
                err,
                mel,
                meu,
                r.lower.map(|v| format_g(v, 6)).unwrap_or_default(),
                r.upper.map(|v| format_g(v, 6)).unwrap_or_default(),
                if r.fixed { "yes" } else { "" }.to_string(),
            ],
        ));
    }
    lines.push(format_line(&ws, &format!("└{}┘", "┴".repeat(ni))));
    lines.join("\n")
}

/// The MINOS box: for each parameter its lower and upper error and the
/// Valid, At Limit, Max FCN and New Min flags. The names are the given
/// strings (the `MinosError::name` field is not used).
pub fn minos_table(rows: &[(String, MinosError)]) -> String {
    let n = rows.len();
    let mut ws = vec![10];
    ws.extend(std::iter::repeat_n(23, n));
    let l1 = format_line(&ws, &format!("┌{}┐", "┬".repeat(n)));
    let mut head = vec![String::new()];
    head.extend(rows.iter().map(|(name, _)| name.clone()));
    let header = format_row(&ws, &head);
    let mut ws = vec![10];
    ws.extend(std::iter::repeat_n(11, 2 * n));
    let l2 = format_line(&ws, &format!("├{}┤", "┼┬".repeat(n)));
    let l3 = format_line(&ws, &format!("└{}┘", "┴".repeat(2 * n)));
    let row = |label: &str, f: &dyn Fn(&MinosError) -> (String, String)| -> String {
        let mut x = vec![label.to_string()];
        for (_, m) in rows {
            let (a, b) = f(m);
            x.push(a);
            x.push(b);
        }
        format_row(&ws, &x)
    };
    let py_bool = |b: bool| if b { "True" } else { "False" }.to_string();
    let error = row("Error", &|m| {
        let s = pdg_format(None, &[m.lower, m.upper]);
        (s[0].clone(), s[1].clone())
    });
    let valid = row("Valid", &|m| {
        (py_bool(m.lower_valid), py_bool(m.upper_valid))
    });
    let at_limit = row("At Limit", &|m| {
        (py_bool(m.at_lower_limit), py_bool(m.at_upper_limit))
    });
    let max_fcn = row("Max FCN", &|m| {
        (py_bool(m.at_lower_max_fcn), py_bool(m.at_upper_max_fcn))
    });
    let new_min = row("New Min", &|m| {
        (py_bool(m.lower_new_min), py_bool(m.upper_new_min))
    });
    [l1, header, l2, error, valid, at_limit, max_fcn, new_min, l3].join("\n")
}

/// The numbers of a matrix as iminuit shows them: the diagonal with three
/// significant digits, each off-diagonal element rounded like a value
/// whose errors are the two diagonal elements. Row-major.
pub fn matrix_format(m: &Matrix) -> Vec<String> {
    let mut r = Vec::with_capacity(m.nrows() * m.ncols());
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            if i == j {
                r.push(format_g(m[(i, i)], 3));
            } else {
                r.push(pdg_format(Some(m[(i, j)]), &[m[(i, i)], m[(j, j)]]).swap_remove(0));
            }
        }
    }
    r
}

/// A square matrix in iminuit's box (as `print(m.covariance)` draws it),
/// rows and columns labelled with `names`. Missing names are shown empty.
pub fn matrix_table(names: &[String], m: &Matrix) -> String {
    let n = m.nrows().min(m.ncols());
    let names: Vec<&str> = (0..n)
        .map(|i| names.get(i).map(String::as_str).unwrap_or(""))
        .collect();
    let nums = matrix_format(m);
    let ncol = m.ncols();
    let first_row_width = names.iter().map(|s| nchars(s)).max().unwrap_or(0);
    let row_width = nums
        .iter()
        .map(|s| nchars(s))
        .max()
        .unwrap_or(0)
        .max(first_row_width);
    let row_fmt = |args: &[String]| -> String {
        let mut s = format!("│ {} │", args[0]);
        for x in &args[1..] {
            s.push(' ');
            s.push_str(x);
        }
        s.push_str(" │");
        s
    };
    let w = [first_row_width as i32 + 2, ((row_width + 1) * n + 1) as i32];
    let mut header = vec![" ".repeat(first_row_width)];
    header.extend(names.iter().map(|s| rjust(s, row_width)));
    let mut lines = vec![
        format_line(&w, "┌┬┐"),
        row_fmt(&header),
        format_line(&w, "├┼┤"),
    ];
    for (i, name) in names.iter().enumerate() {
        let mut row = vec![rjust(name, first_row_width)];
        row.extend((0..n).map(|j| rjust(&nums[ncol * i + j], row_width)));
        lines.push(row_fmt(&row));
    }
    lines.push(format_line(&w, "└┴┘"));
    lines.join("\n")
}

/// The correlation matrix `cov_ij / sqrt(cov_ii cov_jj)` of a covariance
/// matrix, as iminuit's `Matrix.correlation()` computes it (a zero variance
/// gives 0 off the diagonal instead of a division by zero).
pub fn correlation(cov: &Matrix) -> Matrix {
    let n = cov.nrows().min(cov.ncols());
    let d: Vec<f64> = (0..n).map(|i| cov[(i, i)].sqrt()).collect();
    Matrix::from_fn(n, n, |i, j| cov[(i, j)] / (d[i] * d[j] + 1e-100))
}

/// The correlation matrix of `cov` in iminuit's matrix box, labelled with
/// `names` (`print(m.covariance.correlation())`).
pub fn correlation_table(names: &[String], cov: &Matrix) -> String {
    matrix_table(names, &correlation(cov))
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn no_panic_on_odd_input() {
        let odd = [
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.0,
            -0.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            -f64::MAX,
            5e-324,
        ];
        for &v in &odd {
            for &e in &odd {
                let _ = pdg_format(Some(v), &[e]);
                let _ = pdg_format(Some(v), &[e, -e, e]);
                let _ = pdg_format(None, &[v, e]);
                let _ = param_table(&[ParamRow {
                    name: "x".into(),
                    value: v,
                    error: Some(e),
                    minos: Some((-e, v)),
                    lower: Some(v),
                    upper: None,
                    fixed: false,
                }]);
                let m = Matrix::from_row_slice(2, 2, &[v, e, e, v]);
                let _ = correlation_table(&["a".into(), "b".into()], &m);
            }
        }
        let _ = param_table(&[]);
        let _ = minos_table(&[]);
        let _ = matrix_table(&[], &Matrix::zeros(0, 0));
    }
    // ---- goldens produced by iminuit 2.33 (tests/reference/gen_minuit_extra.py)

    use serde_json::Value;

    fn golden() -> Value {
        serde_json::from_str(include_str!("../testdata/report_golden.json")).unwrap()
    }

    fn num(v: &Value) -> f64 {
        match v {
            Value::String(s) => match s.as_str() {
                "nan" => f64::NAN,
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => panic!("bad number {s}"),
            },
            v => v.as_f64().unwrap(),
        }
    }

    fn opt(v: &Value) -> Option<f64> {
        if v.is_null() {
            None
        } else {
            Some(num(v))
        }
    }

    fn text(v: &Value) -> &str {
        v["text"].as_str().unwrap()
    }

    fn names(v: &Value) -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    }

    fn matrix(v: &Value) -> Matrix {
        let rows = v.as_array().unwrap();
        let n = rows.len();
        Matrix::from_fn(n, n, |i, j| num(&rows[i][j]))
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

    #[test]
    fn golden_fmin() {
        let g = golden();
        for c in g["fmin"].as_array().unwrap() {
            let m = FunctionMinimum {
                fval: num(&c["fval"]),
                edm: num(&c["edm"]),
                edm_goal: num(&c["edm_goal"]),
                errordef: 1.0,
                nfcn: c["nfcn"].as_u64().unwrap() as usize,
                ngrad: c["ngrad"].as_u64().unwrap() as usize,
                valid: c["is_valid"].as_bool().unwrap(),
                accurate: c["has_accurate_covar"].as_bool().unwrap(),
                has_covariance: c["has_covariance"].as_bool().unwrap(),
                has_posdef_covar: c["has_posdef_covar"].as_bool().unwrap(),
                has_made_posdef_covar: c["has_made_posdef_covar"].as_bool().unwrap(),
                hesse_failed: c["hesse_failed"].as_bool().unwrap(),
                at_limit: c["has_parameters_at_limit"].as_bool().unwrap(),
                call_limit: c["has_reached_call_limit"].as_bool().unwrap(),
                above_max_edm: c["is_above_max_edm"].as_bool().unwrap(),
                values: vec![],
                errors: vec![],
                covariance: None,
                internal: Default::default(),
            };
            let alg = c["algorithm"].as_str().unwrap();
            assert_eq!(fmin_block(&m, alg), text(c));
        }
    }

    #[test]
    fn golden_params() {
        let g = golden();
        for c in g["params"].as_array().unwrap() {
            let rows: Vec<ParamRow> = c["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| ParamRow {
                    name: r["name"].as_str().unwrap().to_string(),
                    value: num(&r["value"]),
                    error: Some(num(&r["error"])),
                    minos: r["merror"].as_array().map(|a| (num(&a[0]), num(&a[1]))),
                    lower: opt(&r["lower"]),
                    upper: opt(&r["upper"]),
                    fixed: r["fixed"].as_bool().unwrap(),
                })
                .collect();
            assert_eq!(param_table(&rows), text(c));
        }
    }

    #[test]
    fn golden_merrors() {
        let g = golden();
        for c in g["merrors"].as_array().unwrap() {
            let rows: Vec<(String, MinosError)> = c["rows"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let b = |k: &str| r[k].as_bool().unwrap();
                    let name = r["name"].as_str().unwrap().to_string();
                    (
                        name.clone(),
                        MinosError {
                            name,
                            lower: num(&r["lower"]),
                            upper: num(&r["upper"]),
                            lower_valid: b("lower_valid"),
                            upper_valid: b("upper_valid"),
                            at_lower_limit: b("at_lower_limit"),
                            at_upper_limit: b("at_upper_limit"),
                            at_lower_max_fcn: b("at_lower_max_fcn"),
                            at_upper_max_fcn: b("at_upper_max_fcn"),
                            lower_new_min: b("lower_new_min"),
                            upper_new_min: b("upper_new_min"),
                            nfcn: 0,
                        },
                    )
                })
                .collect();
            assert_eq!(minos_table(&rows), text(c));
        }
    }

    #[test]
    fn golden_matrix_and_correlation() {
        let g = golden();
        for c in g["matrix"].as_array().unwrap() {
            assert_eq!(
                matrix_table(&names(&c["names"]), &matrix(&c["data"])),
                text(c)
            );
        }
        for c in g["correlation"].as_array().unwrap() {
            assert_eq!(
                correlation_table(&names(&c["names"]), &matrix(&c["data"])),
                text(c)
            );
        }
    }
}
