//! Minuit's reports as HTML tables, as iminuit's `Minuit._repr_html_` shows
//! them in a notebook: the function-minimum box with its validity cells
//! coloured green (good), purple (bad) or yellow (warning), the parameter
//! table (a name and limit turn yellow when an error reaches past a limit),
//! the MINOS table, and the covariance matrix with each off-diagonal cell
//! coloured by its correlation (blue -1, white 0, red +1) and the
//! correlation shown beside the number.
//!
//! It reads the `FitReport` the text report is drawn from and takes its
//! words and numbers from the text report's own helpers, so the two forms
//! of one report never disagree.

use crate::minuit::report::{
    fmin_fields, format_g, matrix_format, pdg_format, FitReport, ParamRow,
};
use crate::minuit::{FunctionMinimum, Matrix, MinosError};

const GOOD: &str = "background-color:#92CCA6;color:black";
const BAD: &str = "background-color:#c15ef7;color:black";
const WARN: &str = "background-color:#FFF79A;color:black";

/// `text` with `&`, `<`, `>` and `"` escaped.
fn esc(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            _ => s.push(c),
        }
    }
    s
}

/// One cell: `<td>` or `<th>` with optional attributes. `html` is trusted
/// markup; callers escape user text first.
fn cell(tag: &str, html: &str, attrs: &[(&str, &str)]) -> String {
    let mut s = format!("<{tag}");
    for (k, v) in attrs {
        if !v.is_empty() {
            s.push_str(&format!(" {k}=\"{}\"", esc(v)));
        }
    }
    s.push_str(&format!(">{html}</{tag}>"));
    s
}

fn row(cells: &[String]) -> String {
    format!(
        "    <tr>\n        {}\n    </tr>\n",
        cells.join("\n        ")
    )
}

fn table(rows: &[String]) -> String {
    format!("<table>\n{}</table>\n", rows.concat())
}

fn style(good: bool, bad_style: &'static str) -> &'static str {
    if good {
        GOOD
    } else {
        bad_style
    }
}

/// The function-minimum box: the minimizer's name over two columns, the
/// minimum and call count, EDM and time (each with iminuit's tooltip),
/// then three rows of coloured validity flags.
pub fn fmin_html(m: &FunctionMinimum, algorithm: &str) -> String {
    let ff: Vec<String> = fmin_fields(m, algorithm).iter().map(|f| esc(f)).collect();
    let (left, center) = ("text-align:left", "text-align:center");
    let titled = |k: usize, align: &str, title: &str| {
        cell("td", &ff[k], &[("style", align), ("title", title)])
    };
    let flag = |k: usize, colour: &str| {
        let style = format!("text-align:center;{colour}");
        cell("td", &ff[k], &[("style", &style)])
    };
    let name = cell(
        "th",
        &ff[0],
        &[("colspan", "2"), ("style", center), ("title", "Minimizer")],
    );
    let calls = "Total number of function and (optional) gradient evaluations";
    let cov = covariance_style(m);
    table(&[
        row(&[name]),
        row(&[
            titled(1, left, "Minimum value of function"),
            titled(2, center, calls),
        ]),
        row(&[
            titled(3, left, "Estimated distance to minimum and goal"),
            titled(4, center, "Total run time of algorithms"),
        ]),
        row(&[
            flag(5, style(m.valid, BAD)),
            flag(6, style(!m.above_max_edm, BAD)),
        ]),
        row(&[
            flag(7, style(!m.at_limit, WARN)),
            flag(8, style(!m.call_limit, BAD)),
        ]),
        row(&[flag(9, cov), flag(10, cov)]),
    ])
}

/// The covariance cells' colour: bad when HESSE failed, a warning when
/// the matrix is only approximate.
fn covariance_style(m: &FunctionMinimum) -> &'static str {
    if m.hesse_failed {
        BAD
    } else if m.accurate {
        GOOD
    } else {
        WARN
    }
}

/// `%.3G` (iminuit's limits in HTML).
fn upper_g(x: f64) -> String {
    format_g(x, 3).to_uppercase()
}

/// The parameter table.
pub fn params_html(rows: &[ParamRow]) -> String {
    let head = [
        ("Name", "Variable name"),
        ("Value", "Value of parameter"),
        ("Hesse Error", "Hesse error"),
        ("Minos Error-", "Minos lower error"),
        ("Minos Error+", "Minos upper error"),
        ("Limit-", "Lower limit of the parameter"),
        ("Limit+", "Upper limit of the parameter"),
        ("Fixed", "Is the parameter fixed in the fit"),
    ];
    let mut cells = vec![cell("td", "", &[])];
    cells.extend(head.iter().map(|(h, t)| cell("th", h, &[("title", t)])));
    let mut out = vec![row(&cells)];
    out.extend(rows.iter().enumerate().map(|(i, p)| param_row(i, p)));
    table(&out)
}

/// One parameter's row: its number, name, value and errors in PDG form,
/// limits and whether it is fixed.
fn param_row(i: usize, p: &ParamRow) -> String {
    let [v, e, mlo, mhi] = param_numbers(p);
    let (reach_lo, reach_hi) = limits_reached(p);
    let warn = |b: bool| if b { WARN } else { "" };
    row(&[
        cell("th", &i.to_string(), &[]),
        cell(
            "td",
            &esc(&p.name),
            &[("style", warn(reach_lo || reach_hi))],
        ),
        cell("td", &v, &[]),
        cell("td", &e, &[]),
        cell("td", &mlo, &[]),
        cell("td", &mhi, &[]),
        cell(
            "td",
            &p.lower.map(upper_g).unwrap_or_default(),
            &[("style", warn(reach_lo))],
        ),
        cell(
            "td",
            &p.upper.map(upper_g).unwrap_or_default(),
            &[("style", warn(reach_hi))],
        ),
        cell("td", if p.fixed { "yes" } else { "" }, &[]),
    ])
}

/// Value, HESSE error and MINOS errors, formatted together (PDG rules);
/// empty where there is none.
fn param_numbers(p: &ParamRow) -> [String; 4] {
    let mut errs: Vec<f64> = p.error.into_iter().collect();
    if let Some((lo, hi)) = p.minos {
        errs.extend([lo, hi]);
    }
    let nums = pdg_format(Some(p.value), &errs);
    let num = |k: usize| nums.get(k).cloned().unwrap_or_default();
    let e = if p.error.is_some() {
        num(1)
    } else {
        String::new()
    };
    let (mlo, mhi) = match p.minos {
        Some(_) => (num(nums.len() - 2), num(nums.len() - 1)),
        None => (String::new(), String::new()),
    };
    [num(0), e, mlo, mhi]
}

/// Whether an error reaches past the lower and the upper limit (iminuit
/// flags such a limit).
fn limits_reached(p: &ParamRow) -> (bool, bool) {
    let lo = p.lower.is_some_and(|lo| {
        p.error.is_some_and(|e| p.value - e < lo)
            || p.minos.is_some_and(|(ml, _)| p.value + ml < lo)
    });
    let hi = p.upper.is_some_and(|hi| {
        p.error.is_some_and(|e| p.value + e > hi)
            || p.minos.is_some_and(|(_, mu)| p.value + mu > hi)
    });
    (lo, hi)
}

/// The MINOS table: errors and the five flags of each side.
pub fn minos_html(rows: &[(String, MinosError)]) -> String {
    let mut header = vec![cell("td", "", &[])];
    header.extend(rows.iter().map(|(name, _)| {
        cell(
            "th",
            &esc(name),
            &[
                ("colspan", "2"),
                ("style", "text-align:center"),
                ("title", "Parameter name"),
            ],
        )
    }));
    let mut error = vec![cell(
        "th",
        "Error",
        &[("title", "Lower and upper minos error of the parameter")],
    )];
    for (_, m) in rows {
        error.extend(
            pdg_format(None, &[m.lower, m.upper])
                .iter()
                .map(|x| cell("td", x, &[])),
        );
    }
    let flags = |label: &str, title: &str, want: bool, f: &dyn Fn(&MinosError) -> [bool; 2]| {
        let mut cells = vec![cell("th", label, &[("title", title)])];
        for (_, m) in rows {
            for b in f(m) {
                let text = if b { "True" } else { "False" };
                cells.push(cell("td", text, &[("style", style(b == want, BAD))]));
            }
        }
        row(&cells)
    };
    table(&[
        row(&header),
        row(&error),
        flags("Valid", "Validity of lower/upper minos error", true, &|m| {
            [m.lower_valid, m.upper_valid]
        }),
        flags(
            "At Limit",
            "Did scan hit limit of any parameter?",
            false,
            &|m| [m.at_lower_limit, m.at_upper_limit],
        ),
        flags(
            "Max FCN",
            "Did scan hit function call limit?",
            false,
            &|m| [m.at_lower_max_fcn, m.at_upper_max_fcn],
        ),
        flags(
            "New Min",
            "New minimum found when doing scan?",
            false,
            &|m| [m.lower_new_min, m.upper_new_min],
        ),
    ])
}

/// The colour of a correlation: blue at -1, white at 0, red at +1
/// (iminuit's gradient, linear between the three).
pub fn correlation_rgb(c: f64) -> String {
    let steps = [
        (-1.0, [120.0, 120.0, 250.0]),
        (0.0, [250.0; 3]),
        (1.0, [250.0, 100.0, 100.0]),
    ];
    let (a, b, z) = if c.is_nan() || c < -1.0 {
        (steps[0], steps[1], 0.0)
    } else if c >= 1.0 {
        (steps[1], steps[2], 1.0)
    } else if c < 0.0 {
        (steps[0], steps[1], c + 1.0)
    } else {
        (steps[1], steps[2], c)
    };
    let mix = |k: usize| (1.0 - z) * a.1[k] + z * b.1[k];
    format!("rgb({:.0},{:.0},{:.0})", mix(0), mix(1), mix(2))
}

/// The covariance matrix with correlation colours.
pub fn matrix_html(names: &[String], m: &Matrix) -> String {
    let n = m.nrows().min(m.ncols()).min(names.len());
    let nums = matrix_format(m);
    let mut head = vec![cell("td", "", &[])];
    head.extend(names[..n].iter().map(|v| cell("th", &esc(v), &[])));
    let mut rows = vec![row(&head)];
    for i in 0..n {
        let mut cells = vec![cell("th", &esc(&names[i]), &[])];
        let di = m[(i, i)].sqrt();
        for j in 0..n {
            let text = &nums[m.ncols() * i + j];
            if i == j {
                cells.push(cell("td", text, &[]));
                continue;
            }
            let val = m[(i, j)];
            let corr = val / (di * m[(j, j)].sqrt() + 1e-100);
            let mut html = text.clone();
            if (corr - val).abs() > 1e-3 {
                html.push_str(&format!(" <strong>({corr:.3})</strong>"));
            }
            let st = format!("background-color:{};color:black", correlation_rgb(corr));
            cells.push(cell("td", &html, &[("style", &st)]));
        }
        rows.push(row(&cells));
    }
    table(&rows)
}

/// The whole report, in iminuit's order (`Minuit._repr_html_`): the
/// minimum box, the parameters, the MINOS errors, the covariance.
pub fn to_html(r: &FitReport) -> String {
    let mut s = String::new();
    if let Some(f) = &r.fmin {
        s.push_str(&fmin_html(&f.min, &f.algorithm));
    }
    if !r.params.is_empty() {
        s.push_str(&params_html(&r.params));
    }
    if !r.merrors.is_empty() {
        s.push_str(&minos_html(&r.merrors));
    }
    if let Some(c) = &r.covariance {
        s.push_str(&matrix_html(&c.names, &c.matrix));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn minimum(valid: bool) -> FunctionMinimum {
        FunctionMinimum {
            fval: 0.25,
            edm: 1e-9,
            edm_goal: 2e-4,
            errordef: 1.0,
            nfcn: 31,
            ngrad: 0,
            valid,
            accurate: valid,
            has_covariance: true,
            has_posdef_covar: true,
            has_made_posdef_covar: false,
            hesse_failed: false,
            at_limit: false,
            call_limit: !valid,
            above_max_edm: false,
            saddle: false,
            values: vec![1.0, 2.0],
            errors: vec![0.1, 0.2],
            covariance: None,
            internal: Default::default(),
        }
    }

    #[test]
    fn validity_cells_are_green_or_purple() {
        let good = fmin_html(&minimum(true), "Migrad");
        assert!(good.contains("Valid Minimum"));
        assert!(good.contains(&format!("text-align:center;{GOOD}\">Valid Minimum")));
        assert!(good.contains(&format!("{GOOD}\">Below call limit")));
        let bad = fmin_html(&minimum(false), "Migrad");
        assert!(bad.contains(&format!("text-align:center;{BAD}\">INVALID Minimum")));
        assert!(bad.contains(&format!("{BAD}\">ABOVE call limit")));
        assert!(bad.contains("FCN = 0.25"));
    }

    #[test]
    fn parameters_are_rounded_like_the_text_table_and_limits_flagged() {
        let rows = [
            ParamRow {
                name: "x".into(),
                value: 1.23456,
                error: Some(0.0123),
                minos: None,
                lower: None,
                upper: None,
                fixed: false,
            },
            ParamRow {
                name: "y<1>".into(),
                value: 0.05,
                error: Some(0.1),
                minos: Some((-0.04, 0.12)),
                lower: Some(0.0),
                upper: None,
                fixed: false,
            },
        ];
        let h = params_html(&rows);
        assert!(
            h.contains("<td>1.235</td>") && h.contains("<td>0.012</td>"),
            "{h}"
        );
        assert!(h.contains("y&lt;1&gt;"));
        // y - 0.1 < 0: the name and the lower limit turn yellow.
        assert!(h.contains(&format!("style=\"{WARN}\">y&lt;1&gt;")));
        assert!(h.contains(&format!("style=\"{WARN}\">0</td>")));
    }

    #[test]
    fn covariance_cells_are_coloured_by_correlation() {
        assert_eq!(correlation_rgb(0.0), "rgb(250,250,250)");
        assert_eq!(correlation_rgb(1.0), "rgb(250,100,100)");
        assert_eq!(correlation_rgb(-1.0), "rgb(120,120,250)");
        assert_eq!(correlation_rgb(0.5), "rgb(250,175,175)");
        let cov = Matrix::from_row_slice(2, 2, &[4.0, 1.0, 1.0, 1.0]);
        let h = matrix_html(&["a".into(), "b".into()], &cov);
        // corr = 1 / (2 * 1) = 0.5
        assert!(h.contains("<strong>(0.500)</strong>"), "{h}");
        assert!(h.contains("background-color:rgb(250,175,175)"));
    }

    #[test]
    fn minos_flags_are_coloured() {
        let e = MinosError {
            name: "x".into(),
            lower: -0.1,
            upper: 0.2,
            lower_valid: true,
            upper_valid: false,
            at_lower_limit: false,
            at_upper_limit: false,
            at_lower_max_fcn: false,
            at_upper_max_fcn: true,
            lower_new_min: false,
            upper_new_min: false,
            nfcn: 10,
        };
        let h = minos_html(&[("x".into(), e)]);
        assert!(h.contains(&format!("style=\"{GOOD}\">True")));
        assert!(h.contains(&format!("style=\"{BAD}\">False")));
        assert!(
            h.contains("<td>-0.1</td>") && h.contains("<td>0.2</td>"),
            "{h}"
        );
    }
}
