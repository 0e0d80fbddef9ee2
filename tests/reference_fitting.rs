//! iminuit's printed reports, MINOS at other levels, contours and profiles:
//! every case of `tests/reference/fitting.json`, with refcheck.py's
//! `check_fitting` rules. The report's tables must appear in our output as
//! iminuit printed them after migrad, hesse and minos: byte for byte for the
//! chapter's Himmelblau cases, otherwise with numbers masked and padding
//! collapsed; MINOS errors within 3% (at the case's `cl`); contour points on
//! the level set FCN = min + errordef * chi2(2).ppf(cl) within 0.2%, with the
//! same count and extent; profiles point by point. The cases run as written
//! (`grad="numeric"`) and again with the exact gradient (numbers masked;
//! the profile then has its own grid, around its own minimum, so only the
//! numeric run compares profiles).
//!
//! `KNOWN` lists the cases that do not match yet, each with the start of
//! the failure it shows; the test fails when such a case starts to match
//! (take it off the list) or fails differently.

mod common;

use common::tables::{boxes, masked};
use common::*;
use serde_json::Value;

/// Cases that do not match yet: (id, mode, start of the failure message).
const KNOWN: &[(&str, &str, &str)] = &[];

/// refcheck.py's `level_delta` (iminuit's convention for 2 parameters).
fn level_delta(cl: Option<f64>, errordef: f64) -> f64 {
    let mut cl = cl.unwrap_or(0.68);
    if cl >= 1.0 {
        cl = libm::erf(cl / std::f64::consts::SQRT_2);
    }
    -2.0 * (1.0 - cl).ln() * errordef
}

/// The case's objective at each point, evaluated by losslang itself.
fn objective_at(case: &Value, pts: &[(f64, f64)]) -> Result<Vec<f64>, String> {
    let obj = get(case, "objective").as_str().unwrap_or_default();
    let mut script = String::from("param x = 0;\nparam y = 0;\n");
    for (a, b) in pts {
        script.push_str(&format!("x = {a:e};\ny = {b:e};\nprint {obj};\n"));
    }
    let out = run_json(&script, false)?;
    Ok(printed_values(&out)
        .iter()
        .map(|v| num(v).unwrap_or(f64::NAN))
        .collect())
}

fn f(v: &Value) -> f64 {
    num(v).unwrap_or(f64::NAN)
}

fn check_fitting(case: &Value, numeric: bool) -> Option<String> {
    let mut script = get(case, "script").as_str().unwrap_or_default().to_string();
    if !numeric {
        script = script
            .replace("grad=\"numeric\", ", "")
            .replace("(grad=\"numeric\")", "");
    }
    let id = case_id(case);
    let exact = numeric && (id == "himmelblau-origin" || id == "himmelblau-minus2");
    let out = match run_json(&script, false) {
        Ok(o) => o,
        Err(e) => return Some(e),
    };
    if !is_ok(&out) {
        return Some(format!("error: {}", get(&out, "error")));
    }
    let got = boxes(&run_text(&script).0);
    for stage in ["report_migrad", "report_hesse", "report_minos"] {
        for want in boxes(get(case, stage).as_str().unwrap_or_default()) {
            // with the exact gradient our box also counts gradient calls, as
            // iminuit's does when it is given a gradient, and our own numbers
            // may be wider than a cell: padding is not compared then
            let shape = |g: &[String]| -> Vec<String> {
                masked(g)
                    .into_iter()
                    .map(|l| {
                        let l = l.replace(", Ngrad = #", "");
                        if numeric {
                            l
                        } else {
                            l.replace(' ', "")
                        }
                    })
                    .collect()
            };
            let ok = got.iter().any(|g| {
                if exact {
                    *g == want
                } else {
                    shape(g) == shape(&want)
                }
            });
            if !ok {
                return Some(format!(
                    "{stage}: no table like iminuit's:\n{}",
                    want.join("\n")
                ));
            }
        }
    }
    let mins = results_of(&out, "minos");
    let Some(last) = mins.last() else {
        return Some("no minos result".into());
    };
    let errs = get(case, "errors");
    for (n, lohi) in get(case, "minos").as_object().into_iter().flatten() {
        let g = get(get(last, "errors"), n);
        let scale = 0.01 * f(get(errs, n)) + 1e-9;
        let ok = g.as_array().is_some_and(|g| {
            g.len() == 2
                && close(&g[0], &lohi[0], 0.03, scale)
                && close(&g[1], &lohi[1], 0.03, scale)
        });
        if !ok {
            return Some(format!("minos {n} = {g} want {lohi}"));
        }
    }
    let fmin = f(get(results_of(&out, "minimize")[0], "loss"));
    let errordef = f(get(case, "errordef"));
    if let Some(want) = case.get("contour") {
        let Some(c) = results_of(&out, "contour").last().copied() else {
            return Some("no contour result".into());
        };
        let pts: Vec<(f64, f64)> = get(c, "points")
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| (f(&p[0]), f(&p[1])))
            .collect();
        let wpts: Vec<(f64, f64)> = get(want, "points")
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| (f(&p[0]), f(&p[1])))
            .collect();
        if !wpts.is_empty() && pts.len() != wpts.len() {
            return Some(format!(
                "contour has {} points, iminuit {}",
                pts.len(),
                wpts.len()
            ));
        }
        let delta = level_delta(num(get(want, "cl")), errordef);
        let fs = match objective_at(case, &pts) {
            Ok(v) => v,
            Err(e) => return Some(e),
        };
        for ((x, y), v) in pts.iter().zip(&fs) {
            if (v - fmin - delta).abs() > 2e-3 * delta {
                return Some(format!(
                    "contour point ({x}, {y}) has FCN - min = {}, want {delta}",
                    v - fmin
                ));
            }
        }
        for axis in 0..2 {
            let e = f(get(errs, ["x", "y"][axis]));
            let pick = |p: &(f64, f64)| if axis == 0 { p.0 } else { p.1 };
            let (a0, a1) = extent(pts.iter().map(pick));
            let (b0, b1) = extent(wpts.iter().map(pick));
            if !wpts.is_empty()
                && ((a0 - b0).abs() > 0.01 * e + 1e-9 || (a1 - b1).abs() > 0.01 * e + 1e-9)
            {
                return Some(format!(
                    "contour extent along axis {axis}: {a0}..{a1} vs iminuit's {b0}..{b1}"
                ));
            }
        }
    }
    // the grid is the minimum ± bound errors: only the numerical gradient
    // reaches iminuit's minimum and errors closely enough to share its grid
    if let Some(want) = case.get("profile").filter(|_| numeric) {
        let Some(p) = results_of(&out, "profile").last().copied() else {
            return Some("no profile result".into());
        };
        let (gv, wv) = (get(p, "values"), get(want, "values"));
        let (gv, wv) = (
            gv.as_array().cloned().unwrap_or_default(),
            wv.as_array().cloned().unwrap_or_default(),
        );
        if gv.len() != wv.len() {
            return Some(format!(
                "profile has {} points, want {}",
                gv.len(),
                wv.len()
            ));
        }
        let ex = f(get(errs, "x"));
        if gv
            .iter()
            .zip(&wv)
            .any(|(a, b)| !close(a, b, 1e-3, 1e-3 * ex))
        {
            return Some(format!("profile grid {gv:?} want {wv:?}"));
        }
        let gf = get(p, "fcn").as_array().cloned().unwrap_or_default();
        let wf = get(want, "fcn").as_array().cloned().unwrap_or_default();
        if gf.len() != wf.len()
            || gf
                .iter()
                .zip(&wf)
                .any(|(a, b)| !close(a, b, 1e-4, 1e-4 * errordef))
        {
            return Some(format!("profile fcn {gf:?} want {wf:?}"));
        }
    }
    None
}

fn extent(v: impl Iterator<Item = f64>) -> (f64, f64) {
    v.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    })
}

fn run_mode(numeric: bool) {
    let mode = if numeric { "numeric" } else { "autograd" };
    let cases = reference_cases("fitting.json");
    assert_eq!(cases.len(), 5);
    let verdicts = parallel_map(&cases, 2, |c| check_fitting(c, numeric));
    let mut failures = Vec::new();
    for (c, v) in cases.iter().zip(verdicts) {
        let id = case_id(c);
        let known = KNOWN.iter().find(|k| k.0 == id && k.1 == mode);
        match (v, known) {
            (None, None) => {}
            (None, Some(_)) => {
                failures.push(format!("{id} ({mode}) matches now: take it off KNOWN"))
            }
            (Some(why), Some(k)) if why.starts_with(k.2) => {}
            (Some(why), _) => failures.push(format!("{id} ({mode}): {why}")),
        }
    }
    assert_no_failures(&format!("fitting.json ({mode})"), cases.len(), &failures);
}

#[test]
fn fitting_reference_numeric_gradient() {
    run_mode(true);
}

#[test]
fn fitting_reference_exact_gradient() {
    run_mode(false);
}
