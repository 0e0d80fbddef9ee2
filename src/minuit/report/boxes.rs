//! The box layout of iminuit's text report (`_repr_text.py`): the
//! function-minimum box, the parameter table, the MINOS box and a matrix,
//! with the same box characters and column widths. The numbers in the
//! boxes come from `pdg.rs`.
//!
//! The report is deterministic: iminuit's "time = ... sec" field is always
//! left empty.

use super::pdg::{format_g, matrix_cell, pdg_format};
use super::ParamRow;
use crate::minuit::{FunctionMinimum, Matrix, MinosError};

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

/// A square matrix in iminuit's box (as `print(m.covariance)` draws it),
/// rows and columns labelled with `names`. Missing names are shown empty.
pub fn matrix_table(names: &[String], m: &Matrix) -> String {
    let n = m.nrows().min(m.ncols());
    let names: Vec<&str> = (0..n)
        .map(|i| names.get(i).map(String::as_str).unwrap_or(""))
        .collect();
    // two passes over the numbers (widths, then rows) so a large matrix is
    // never held as one string per cell
    let first_row_width = names.iter().map(|s| nchars(s)).max().unwrap_or(0);
    let mut row_width = first_row_width;
    for i in 0..n {
        for j in 0..n {
            row_width = row_width.max(nchars(&matrix_cell(m, i, j)));
        }
    }
    let w = [first_row_width as i32 + 2, ((row_width + 1) * n + 1) as i32];
    let mut out = String::new();
    let row = |out: &mut String, first: &str, cells: &mut dyn Iterator<Item = String>| {
        out.push_str("│ ");
        out.push_str(first);
        out.push_str(" │");
        for c in cells {
            out.push(' ');
            out.push_str(&rjust(&c, row_width));
        }
        out.push_str(" │\n");
    };
    out.push_str(&format_line(&w, "┌┬┐"));
    out.push('\n');
    row(
        &mut out,
        &" ".repeat(first_row_width),
        &mut names.iter().map(|s| s.to_string()),
    );
    out.push_str(&format_line(&w, "├┼┤"));
    out.push('\n');
    for (i, name) in names.iter().enumerate() {
        row(
            &mut out,
            &rjust(name, first_row_width),
            &mut (0..n).map(|j| matrix_cell(m, i, j)),
        );
    }
    out.push_str(&format_line(&w, "└┴┘"));
    out
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
