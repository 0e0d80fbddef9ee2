//! The box layout of iminuit's text report (`_repr_text.py`): the
//! function-minimum box, the parameter table, the MINOS box and a matrix,
//! with the same box characters and column widths. The numbers in the
//! boxes come from `pdg.rs`.
//!
//! The report is deterministic: iminuit's "time = ... sec" field is always
//! left empty.

#[cfg(test)]
use super::pdg::pdg_format;
use super::pdg::{pdg_format_into, write_g, write_matrix_cell};
use super::ParamRow;
use crate::minuit::{FunctionMinimum, Matrix, MinosError};

// ---------------------------------------------------------------------------
// Table drawing: everything is appended to one `String`, padding and rules
// pushed in place, so a report allocates little beyond its text
// ---------------------------------------------------------------------------

fn nchars(s: &str) -> usize {
    if s.is_ascii() {
        s.len()
    } else {
        s.chars().count()
    }
}

/// Appends `n` copies of the one-character string `c` (a space or `─`),
/// a slice of a ready-made run at a time.
fn push_n(out: &mut String, c: &str, n: usize) {
    match c {
        " " => push_run(out, SPACES, 1, n),
        "─" => push_run(out, RULE, 3, n),
        _ => (0..n).for_each(|_| out.push_str(c)),
    }
}

/// Runs of spaces and of `─` (3 bytes each) for `push_n`.
const SPACES: &str =
    "                                                                                ";
const RULE: &str =
    "────────────────────────────────────────────────────────────────────────────────";

/// Appends `n` characters of `run`, a run of one character of `w` bytes.
#[inline]
fn push_run(out: &mut String, run: &str, w: usize, n: usize) {
    let per = run.len() / w;
    let mut left = n;
    while left > 0 {
        let k = left.min(per);
        out.push_str(&run[..k * w]);
        left -= k;
    }
}

/// Appends `s` centred in `w` characters (extra space on the right, as
/// Python's `"{:^w}"` does); no truncation.
fn push_center(out: &mut String, s: &str, w: usize) {
    let n = nchars(s);
    let pad = w.saturating_sub(n);
    push_n(out, " ", pad / 2);
    out.push_str(s);
    push_n(out, " ", pad - pad / 2);
}

fn push_ljust(out: &mut String, s: &str, w: usize) {
    out.push_str(s);
    push_n(out, " ", w.saturating_sub(nchars(s)));
}

fn push_rjust(out: &mut String, s: &str, w: usize) {
    push_n(out, " ", w.saturating_sub(nchars(s)));
    out.push_str(s);
}

/// Appends a row of cells and a newline: a positive width centres, a
/// negative width `-w` left-aligns after one space in `w - 1` characters.
fn push_row<S: AsRef<str>>(out: &mut String, widths: &[i32], args: &[S]) {
    for (&w, a) in widths.iter().zip(args) {
        let a = a.as_ref();
        out.push('│');
        if w > 0 {
            push_center(out, a, w as usize);
        } else {
            out.push(' ');
            push_ljust(out, a, (-w - 1).max(0) as usize);
        }
    }
    out.push_str("│\n");
}

/// Appends a horizontal rule and a newline: `first`, then each width's run
/// of `─` followed by `mid` (`last` after the final one).
fn push_line(out: &mut String, widths: &[i32], [first, mid, last]: [char; 3]) {
    out.push(first);
    for (k, &w) in widths.iter().enumerate() {
        push_n(out, "─", w.unsigned_abs() as usize);
        out.push(if k + 1 == widths.len() { last } else { mid });
    }
    out.push('\n');
}

/// Runs `f` on `out` and returns what it appended, without the final
/// newline (the String-returning forms of the `write_*` functions).
fn collect(f: impl FnOnce(&mut String)) -> String {
    let mut out = String::new();
    f(&mut out);
    if out.ends_with('\n') {
        out.pop();
    }
    out
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
    std::array::from_fn(|k| {
        let mut s = String::new();
        write_fmin_field(&mut s, k, m, algorithm);
        s
    })
}

/// Appends field `k` of `fmin_fields` to `out` (written in place: the
/// box is drawn for every fit, so its fields are not `format!`ed).
fn write_fmin_field(out: &mut String, k: usize, m: &FunctionMinimum, algorithm: &str) {
    use std::fmt::Write;
    let flag = |yes: bool, a: &'static str, b: &'static str| if yes { a } else { b };
    match k {
        0 => out.push_str(algorithm),
        1 => {
            out.push_str("FCN = ");
            write_g(out, m.fval, 4);
        }
        2 => {
            let _ = write!(out, "Nfcn = {}", m.nfcn);
            if m.ngrad > 0 {
                let _ = write!(out, ", Ngrad = {}", m.ngrad);
            }
        }
        3 => {
            out.push_str("EDM = ");
            write_g(out, m.edm, 3);
            out.push_str(" (Goal: ");
            write_g(out, m.edm_goal, 3);
            out.push(')');
        }
        4 => {}
        5 => {
            out.push_str(flag(m.valid, "Valid", "INVALID"));
            out.push_str(" Minimum");
        }
        6 => {
            out.push_str(flag(m.above_max_edm, "ABOVE", "Below"));
            out.push_str(" EDM threshold (goal x 10)");
        }
        7 => {
            out.push_str(flag(m.at_limit, "SOME", "No"));
            out.push_str(" parameters at limit");
        }
        8 => {
            out.push_str(flag(m.call_limit, "ABOVE", "Below"));
            out.push_str(" call limit");
        }
        9 => out.push_str(covariance_flags(m).0),
        _ => out.push_str(covariance_flags(m).1),
    }
}

/// The last two fields of the function-minimum box: HESSE's state and the
/// covariance's.
fn covariance_flags(m: &FunctionMinimum) -> (&'static str, &'static str) {
    if m.hesse_failed {
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
    }
}

/// The function-minimum box, as iminuit prints `m.fmin`: the algorithm
/// (e.g. "Migrad", "Simplex", "Scan"), FCN, Nfcn (and Ngrad when non-zero),
/// EDM and its goal, and the validity, EDM, limit, call-limit and covariance
/// flags.
pub fn fmin_block(m: &FunctionMinimum, algorithm: &str) -> String {
    collect(|out| write_fmin_block(out, m, algorithm))
}

/// Appends `fmin_block` and a newline to `out`.
pub fn write_fmin_block(out: &mut String, m: &FunctionMinimum, algorithm: &str) {
    let w1 = [73];
    let wl = [-34, 38];
    let wc = [34, 38];
    let mut cells = [String::with_capacity(48), String::with_capacity(48)];
    push_line(out, &w1, ['┌', '┐', '┐']);
    write_fmin_field(&mut cells[0], 0, m, algorithm);
    cells[0].push_str("   ");
    push_row(out, &w1, &cells[..1]);
    push_line(out, &wl, ['├', '┬', '┤']);
    for k in [1, 3] {
        fmin_row(out, &wl, &mut cells, k, m, algorithm);
    }
    for k in [5, 7, 9] {
        push_line(out, &wc, ['├', '┼', '┤']);
        fmin_row(out, &wc, &mut cells, k, m, algorithm);
    }
    push_line(out, &wc, ['└', '┴', '┘']);
}

/// A row of the function-minimum box: fields `k` and `k + 1`, drawn in
/// `cells` (reused from row to row).
fn fmin_row(
    out: &mut String,
    widths: &[i32],
    cells: &mut [String; 2],
    k: usize,
    m: &FunctionMinimum,
    algorithm: &str,
) {
    for (c, cell) in cells.iter_mut().enumerate() {
        cell.clear();
        write_fmin_field(cell, k + c, m, algorithm);
    }
    push_row(out, widths, &cells[..]);
}

/// The parameter table: index, Name, Value, Hesse Err, Minos Err-,
/// Minos Err+, Limit-, Limit+, Fixed; values rounded to their errors.
pub fn param_table(rows: &[ParamRow]) -> String {
    collect(|out| write_param_table(out, rows))
}

/// Appends `param_table` and a newline to `out`.
pub fn write_param_table(out: &mut String, rows: &[ParamRow]) {
    let name_width = rows.iter().map(|r| nchars(&r.name)).fold(4, usize::max) as i32;
    let num_width = if rows.is_empty() {
        2
    } else {
        (rows.len() - 1).to_string().len().max(2)
    } as i32;
    let ws = [-num_width - 1, -name_width - 2, 11, 11, 12, 12, 9, 9, 7];
    push_line(out, &ws, ['┌', '┬', '┐']);
    push_row(
        out,
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
    );
    push_line(out, &ws, ['├', '┼', '┤']);
    let mut cells: [String; 9] = Default::default();
    let mut scratch = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        for c in cells.iter_mut() {
            c.clear();
        }
        write_param_row(&mut cells, i, r, &mut scratch);
        push_row(out, &ws, &cells);
    }
    push_line(out, &ws, ['└', '┴', '┘']);
}

/// The nine cells of parameter row `i` (into cleared strings); `scratch`
/// holds the rounded numbers' strings from row to row.
fn write_param_row(cells: &mut [String; 9], i: usize, r: &ParamRow, scratch: &mut Vec<String>) {
    use std::fmt::Write;
    let _ = write!(cells[0], "{i}");
    cells[1].push_str(&r.name);
    let errors: &[f64] = match (r.error, r.minos) {
        (Some(e), Some((lo, up))) => &[e, lo, up],
        (Some(e), None) => &[e],
        (None, Some((lo, up))) => &[lo, up],
        (None, None) => &[],
    };
    let k = pdg_format_into(Some(r.value), errors, scratch);
    // the numbers go to Value, then the error columns present
    let cols: &[usize] = match (r.error.is_some(), r.minos.is_some()) {
        (true, true) => &[2, 3, 4, 5],
        (true, false) => &[2, 3],
        (false, true) => &[2, 4, 5],
        (false, false) => &[2],
    };
    for (&c, text) in cols.iter().zip(&scratch[..k]) {
        cells[c].push_str(text);
    }
    if let Some(v) = r.lower {
        write_g(&mut cells[6], v, 6);
    }
    if let Some(v) = r.upper {
        write_g(&mut cells[7], v, 6);
    }
    if r.fixed {
        cells[8].push_str("yes");
    }
}

/// The MINOS box: for each parameter its lower and upper error and the
/// Valid, At Limit, Max FCN and New Min flags. The names are the given
/// strings (the `MinosError::name` field is not used).
pub fn minos_table(rows: &[(String, MinosError)]) -> String {
    collect(|out| write_minos_table(out, rows))
}

/// Appends `minos_table` and a newline to `out`.
pub fn write_minos_table(out: &mut String, rows: &[(String, MinosError)]) {
    let n = rows.len();
    let mut ws = vec![10];
    ws.extend(std::iter::repeat_n(23, n));
    push_line(out, &ws, ['┌', '┬', '┐']);
    let mut head = vec![""];
    head.extend(rows.iter().map(|(name, _)| name.as_str()));
    push_row(out, &ws, &head);
    let mut ws = vec![10];
    ws.extend(std::iter::repeat_n(11, 2 * n));
    // the rule under the names: each name's column splits in two
    out.push('├');
    for (k, &w) in ws.iter().enumerate() {
        push_n(out, "─", w as usize);
        out.push(match k {
            _ if k + 1 == ws.len() => '┤',
            _ if k % 2 == 0 => '┼',
            _ => '┬',
        });
    }
    out.push('\n');
    let mut row = |label: &str, f: &dyn Fn(&MinosError) -> [String; 2]| {
        let mut x = vec![label.to_string()];
        for (_, m) in rows {
            x.extend(f(m));
        }
        push_row(out, &ws, &x);
    };
    let py_bool = |b: bool| if b { "True" } else { "False" }.to_string();
    row("Error", &|m| {
        let mut s = Vec::new();
        let k = pdg_format_into(None, &[m.lower, m.upper], &mut s);
        s.truncate(k);
        let mut s = s.into_iter();
        [s.next().unwrap_or_default(), s.next().unwrap_or_default()]
    });
    row("Valid", &|m| {
        [py_bool(m.lower_valid), py_bool(m.upper_valid)]
    });
    row("At Limit", &|m| {
        [py_bool(m.at_lower_limit), py_bool(m.at_upper_limit)]
    });
    row("Max FCN", &|m| {
        [py_bool(m.at_lower_max_fcn), py_bool(m.at_upper_max_fcn)]
    });
    row("New Min", &|m| {
        [py_bool(m.lower_new_min), py_bool(m.upper_new_min)]
    });
    push_line(out, &ws, ['└', '┴', '┘']);
}

/// A square matrix in iminuit's box (as `print(m.covariance)` draws it),
/// rows and columns labelled with `names`. Missing names are shown empty.
pub fn matrix_table(names: &[String], m: &Matrix) -> String {
    collect(|out| write_matrix_table(out, names, m))
}

/// The largest matrix (rows) whose cells' text is kept between the two
/// passes of `write_matrix_table`.
const SMALL_MATRIX: usize = 16;

/// Appends `matrix_table` and a newline to `out`. Two passes over the
/// numbers (widths, then rows), so a large matrix is never held as one
/// string per cell, and `out` grows once, by exactly the table's size.
pub fn write_matrix_table(out: &mut String, names: &[String], m: &Matrix) {
    let n = m.nrows().min(m.ncols());
    let names: Vec<&str> = (0..n)
        .map(|i| names.get(i).map(String::as_str).unwrap_or(""))
        .collect();
    let first_row_width = names.iter().map(|s| nchars(s)).max().unwrap_or(0);
    let mut cell = String::new();
    let mut scratch = Vec::new();
    // a small matrix keeps its cells' text from the first pass (ends[k]
    // ends cell k in `texts`); a large one formats each cell twice rather
    // than holding a string per cell
    let keep = n <= SMALL_MATRIX;
    let (mut texts, mut ends) = (String::new(), Vec::new());
    let mut row_width = first_row_width;
    for i in 0..n {
        for j in 0..n {
            cell.clear();
            write_matrix_cell(&mut cell, m, i, j, &mut scratch);
            row_width = row_width.max(nchars(&cell));
            if keep {
                texts.push_str(&cell);
                ends.push(texts.len());
            }
        }
    }
    let w = [first_row_width as i32 + 2, ((row_width + 1) * n + 1) as i32];
    // bytes: three rules, the header and the n rows; a cell is ASCII, a
    // name's padding is one byte a character
    let rule = 3 * 3 + 3 * (w[0] + w[1]) as usize + 1;
    let label_bytes = |s: &str| s.len() + first_row_width - nchars(s);
    let row_bytes = |label: usize, cells: usize| 4 + label + 4 + cells + 5;
    let header_cells: usize = names.iter().map(|s| 1 + label_bytes_r(s, row_width)).sum();
    let body: usize = names
        .iter()
        .map(|s| row_bytes(label_bytes(s), n * (row_width + 1)))
        .sum();
    out.reserve(3 * rule + row_bytes(first_row_width, header_cells) + body);

    let row_start = |out: &mut String, first: &str| {
        out.push_str("│ ");
        push_rjust(out, first, first_row_width);
        out.push_str(" │");
    };
    push_line(out, &w, ['┌', '┬', '┐']);
    row_start(out, "");
    for s in &names {
        out.push(' ');
        push_rjust(out, s, row_width);
    }
    out.push_str(" │\n");
    push_line(out, &w, ['├', '┼', '┤']);
    for (i, name) in names.iter().enumerate() {
        row_start(out, name);
        for j in 0..n {
            let text = if keep {
                let k = i * n + j;
                &texts[if k == 0 { 0 } else { ends[k - 1] }..ends[k]]
            } else {
                cell.clear();
                write_matrix_cell(&mut cell, m, i, j, &mut scratch);
                &cell
            };
            out.push(' ');
            push_rjust(out, text, row_width);
        }
        out.push_str(" │\n");
    }
    push_line(out, &w, ['└', '┴', '┘']);
}

/// Bytes of `s` right-justified in `w` characters.
fn label_bytes_r(s: &str, w: usize) -> usize {
    s.len() + w.saturating_sub(nchars(s))
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
    use crate::minuit::report::golden::*;

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
                saddle: false,
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
