//! iminuit's verdicts on harder fits: every case of
//! `tests/reference/fitting_extra.json` (written by `gen_fitting_extra.py`):
//! a function without a minimum, parameters without curvature, HESSE after
//! a MIGRAD that ran out of calls, starts already below the EDM goal, a
//! saddle (Moré–Garbow–Hillstrom problems), a SCAN grid, a contour at a
//! limit, fixed and one-sided parameters.
//!
//! With `grad="numeric"` (as written) the function-minimum box after each
//! statement must be iminuit's, in order (byte for byte for `exact` cases,
//! numbers masked otherwise), and every other table of iminuit's report
//! must appear; a statement iminuit refused must stop the run with E0403 at
//! that line. With the exact gradient the cases marked `flags` must reach
//! the same verdict: the box's flag rows, and the refusal. Contours must
//! lie on their level set and inside the parameters' limits.

mod common;

use common::tables::{boxes, masked};
use common::*;
use serde_json::Value;

/// The function-minimum boxes of a report (the first table after each
/// statement), in order.
fn fmin_boxes(text: &str) -> Vec<Vec<String>> {
    boxes(text)
        .into_iter()
        .filter(|b| b.len() == 12 && b[1].contains("   │"))
        .filter(|b| b[2].starts_with("├─") && b[3].contains("FCN = "))
        .collect()
}

/// The flag rows of a function-minimum box (validity, EDM, limits, call
/// limit, covariance), white space collapsed.
fn flags(b: &[String]) -> Vec<String> {
    [6, 8, 10]
        .iter()
        .map(|&i| b[i].split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

/// Numbers masked; the gradient-call count (which only the exact gradient
/// has) dropped.
fn shape(b: &[String]) -> Vec<String> {
    masked(b)
        .into_iter()
        .map(|l| l.replace(", Ngrad = #", ""))
        .collect()
}

fn check_stages(case: &Value, text: &str, numeric: bool) -> Option<String> {
    let got = fmin_boxes(text);
    let stages: Vec<&Value> = get(case, "stages")
        .as_array()
        .into_iter()
        .flatten()
        .collect();
    let reports: Vec<&Value> = stages
        .iter()
        .filter(|s| get(s, "stage").as_str() != Some("contour"))
        .copied()
        .collect();
    if got.len() < reports.len() {
        return Some(format!(
            "{} function-minimum boxes, iminuit printed {}",
            got.len(),
            reports.len()
        ));
    }
    let all = boxes(text);
    for (k, st) in reports.iter().enumerate() {
        let stage = get(st, "stage").as_str().unwrap_or("?");
        let want_all = boxes(get(st, "report").as_str().unwrap_or_default());
        let Some(want) = want_all.first() else {
            return Some(format!("{stage}: iminuit's report has no table"));
        };
        let exact = numeric && get(st, "mode").as_str() == Some("exact");
        let same = if exact {
            got[k] == *want
        } else if numeric {
            shape(&got[k]) == shape(want)
        } else {
            flags(&got[k]) == flags(want)
        };
        if !same {
            return Some(format!(
                "after {stage}: box\n{}\nwhere iminuit has\n{}",
                got[k].join("\n"),
                want.join("\n")
            ));
        }
        if !numeric {
            continue;
        }
        for w in &want_all[1..] {
            let ok = all.iter().any(|g| {
                if exact {
                    g == w
                } else {
                    masked(g) == masked(w)
                }
            });
            if !ok {
                return Some(format!(
                    "after {stage}: no table like iminuit's\n{}",
                    w.join("\n")
                ));
            }
        }
    }
    None
}

fn check_refusal(case: &Value, stderr: &str, code: i32) -> Option<String> {
    let Some(r) = case.get("refuse") else {
        return (code != 0).then(|| format!("exit {code}: {}", clip(stderr, 300)));
    };
    let line = get(r, "line").as_u64().unwrap_or(0) as usize;
    if code != 1 || !stderr.contains("E0403") || !stderr.contains("needs a valid minimum") {
        return Some(format!(
            "iminuit refused line {line} (\"{}\"); we exit {code}: {}",
            get(r, "message").as_str().unwrap_or_default(),
            clip(stderr, 300)
        ));
    }
    if diag_lines(stderr).first() != Some(&line) {
        return Some(format!(
            "refusal at lines {:?}, want {line}",
            diag_lines(stderr)
        ));
    }
    None
}

/// FCN at each point, evaluated by losslang itself.
fn objective_at(case: &Value, pts: &[Vec<f64>]) -> Result<Vec<f64>, String> {
    let names: Vec<&str> = get(case, "params")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let obj = get(case, "objective")
        .as_str()
        .unwrap_or_default()
        .replace("**", "^");
    let mut script = String::new();
    for n in &names {
        script.push_str(&format!("param {n} = 0;\n"));
    }
    for p in pts {
        for (n, v) in names.iter().zip(p) {
            script.push_str(&format!("{n} = {v:e};\n"));
        }
        script.push_str(&format!("print {obj};\n"));
    }
    let out = run_json(&script, false)?;
    Ok(printed_values(&out)
        .iter()
        .map(|v| num(v).unwrap_or(f64::NAN))
        .collect())
}

/// The limits `[lo, hi]` the script gives parameter `name`.
fn limits_of(script: &str, name: &str) -> (f64, f64) {
    let decl = format!("param {name} = ");
    let line = script.lines().find(|l| l.starts_with(&decl)).unwrap_or("");
    let Some((_, rest)) = line.split_once(" in [") else {
        return (f64::NEG_INFINITY, f64::INFINITY);
    };
    let inner = rest.split(']').next().unwrap_or("");
    let mut it = inner
        .split(',')
        .map(|s| s.trim().parse::<f64>().unwrap_or(f64::NAN));
    (it.next().unwrap_or(f64::NAN), it.next().unwrap_or(f64::NAN))
}

fn check_contour(case: &Value, out: &Value, script: &str) -> Option<String> {
    let want = case.get("contour")?;
    let Some(c) = results_of(out, "contour").last().copied() else {
        return Some("no contour result".into());
    };
    let pts: Vec<(f64, f64)> = get(c, "points")
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                num(&p[0]).unwrap_or(f64::NAN),
                num(&p[1]).unwrap_or(f64::NAN),
            )
        })
        .collect();
    let n_want = get(want, "points").as_array().map_or(0, Vec::len);
    if pts.len() != n_want {
        return Some(format!(
            "contour has {} points, iminuit {n_want}",
            pts.len()
        ));
    }
    let names: Vec<&str> = get(case, "params")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let (xn, yn) = (
        get(want, "x").as_str().unwrap_or(""),
        get(want, "y").as_str().unwrap_or(""),
    );
    let (xl, yl) = (limits_of(script, xn), limits_of(script, yn));
    for &(x, y) in &pts {
        if !(xl.0 <= x && x <= xl.1 && yl.0 <= y && y <= yl.1) {
            return Some(format!("contour point ({x}, {y}) outside the limits"));
        }
    }
    // the other parameters at the contour's minimum: this case has only two
    if names.len() != 2 {
        return None;
    }
    let fmin = num(get(results_of(out, "minimize")[0], "loss")).unwrap_or(f64::NAN);
    let errordef = num(get(case, "errordef")).unwrap_or(1.0);
    let cl = num(get(want, "cl")).unwrap_or(0.68);
    let delta = -2.0 * (1.0 - cl).ln() * errordef;
    let at: Vec<Vec<f64>> = pts.iter().map(|&(x, y)| vec![x, y]).collect();
    let fs = match objective_at(case, &at) {
        Ok(v) => v,
        Err(e) => return Some(e),
    };
    for (&(x, y), v) in pts.iter().zip(&fs) {
        let on_level = (v - fmin - delta).abs() <= 2e-3 * delta;
        let at_limit = x == xl.0 || x == xl.1 || y == yl.0 || y == yl.1;
        if !on_level && !(at_limit && v - fmin < delta) {
            return Some(format!(
                "contour point ({x}, {y}) has FCN - min = {}, want {delta}",
                v - fmin
            ));
        }
    }
    None
}

fn check_case(case: &Value, numeric: bool) -> Option<String> {
    let mut script = get(case, "script").as_str().unwrap_or_default().to_string();
    if !numeric {
        if get(case, "autograd").as_str() != Some("flags") {
            return None;
        }
        script = script
            .replace("grad=\"numeric\", ", "")
            .replace("(grad=\"numeric\")", "");
    }
    let (stdout, stderr, code) = run_text(&script);
    if let Some(why) = check_stages(case, &stdout, numeric) {
        return Some(why);
    }
    if let Some(why) = check_refusal(case, &stderr, code) {
        return Some(why);
    }
    if case.get("contour").is_some() {
        let out = match run_json(&script, false) {
            Ok(o) => o,
            Err(e) => return Some(e),
        };
        return check_contour(case, &out, &script);
    }
    None
}

#[test]
fn fitting_extra_numeric_gradient() {
    check_every_case("fitting_extra.json", "fitting_extra.json (numeric)", |c| {
        check_case(c, true)
    });
}

#[test]
fn fitting_extra_exact_gradient() {
    check_every_case("fitting_extra.json", "fitting_extra.json (autograd)", |c| {
        check_case(c, false)
    });
}
