//! Tensor values and gradients against torch (tests/reference/tensor.json,
//! made by tests/reference/gen_tensor.py): every printed value of every
//! case within relative 1e-9, absolute 1e-12 (refcheck.py's `tensor` kind);
//! and vector-parameter fits followed step by step (fit.json, refcheck.py's
//! `fit` kind: every parameter of every step within relative 1e-6); and the
//! torch.nn.functional cases of functional.json and functional_extra.json
//! (the `tensor` kind too).

mod common;

use common::*;
use serde_json::Value;

/// Nested comparison: arrays element by element, numbers with `close`.
fn close_nested(a: &Value, b: &Value, rtol: f64, atol: f64) -> bool {
    match b {
        Value::Array(bs) => match a {
            Value::Array(as_) => {
                as_.len() == bs.len()
                    && as_
                        .iter()
                        .zip(bs)
                        .all(|(x, y)| close_nested(x, y, rtol, atol))
            }
            _ => false,
        },
        _ => !a.is_array() && !a.is_object() && !a.is_null() && close(a, b, rtol, atol),
    }
}

fn check_tensor(case: &Value) -> Option<String> {
    let out = match run_json(get(case, "script").as_str().unwrap_or_default(), false) {
        Ok(out) => out,
        Err(why) => return Some(why),
    };
    if !is_ok(&out) {
        return Some(format!("error: {}", short(get(&out, "error"))));
    }
    let got = printed_values(&out);
    let want = get(case, "expected")
        .as_array()
        .cloned()
        .unwrap_or_default();
    if got.len() != want.len() {
        return Some(format!("{} printed values, want {}", got.len(), want.len()));
    }
    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
        if !close_nested(g, w, 1e-9, 1e-12) {
            return Some(format!("value #{i} = {} want {}", short(g), short(w)));
        }
    }
    None
}

fn check_fit(case: &Value) -> Option<String> {
    let m = match only_minimize(get(case, "script").as_str().unwrap_or_default()) {
        Ok(m) => m,
        Err(why) => return Some(why),
    };
    let path = m
        .get("path")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let want = get(case, "path").as_array().cloned().unwrap_or_default();
    if path.len() != want.len() {
        return Some(format!("path length {} != {}", path.len(), want.len()));
    }
    for (k, (g, w)) in path.iter().zip(&want).enumerate() {
        if let Some(params) = get(w, "params").as_object() {
            for (n, v) in params {
                let gv = get(g, "params").get(n).cloned().unwrap_or(Value::Null);
                if !close_nested(&gv, v, 1e-6, 1e-9) {
                    return Some(format!("step {k}: {n} = {} want {}", short(&gv), short(v)));
                }
            }
        }
    }
    None
}

fn run_all(file: &str, check: fn(&Value) -> Option<String>) {
    check_every_case(file, file, check);
}

#[test]
fn every_tensor_case_matches_torch() {
    run_all("tensor.json", check_tensor);
}

/// torch.nn.functional (functional.json): activations, special functions,
/// softmax and friends, losses, with their gradients.
#[test]
fn every_functional_case_matches_torch() {
    run_all("functional.json", check_tensor);
}

/// More of them from tests/reference/gen_functional_extra.py: other points,
/// shapes up to rank 3, every option and reduction, kinks and boundaries.
#[test]
fn every_extra_functional_case_matches_torch() {
    run_all("functional_extra.json", check_tensor);
}

#[test]
fn vector_parameter_fits_follow_torch_step_by_step() {
    run_all("fit.json", check_fit);
}
