//! Learning-rate schedules and minibatch epochs against torch: every case
//! of `tests/reference/training.json` (torch 2.15) and of our own
//! `tests/reference/training_extra.json` (tests/reference/gen_training_extra.py:
//! csv tables with `over`, tensor parameters, `watch`, shuffle-free
//! schedules per epoch) is run with `--json --trace`, with refcheck.py's
//! `check_training` rules: the lr of every step within relative 1e-10, and
//! the parameters (and the step's loss) before every step within relative
//! 1e-7. Extra cases with `watch` also compare the watched values and the
//! epoch means.

mod common;

use common::*;
use serde_json::Value;

/// `close` through arrays and objects (tensor parameters, epoch curves).
fn close_nested(a: &Value, b: &Value, rtol: f64, atol: f64) -> bool {
    match (a, b) {
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| close_nested(p, q, rtol, atol))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && y.iter()
                    .all(|(k, q)| x.get(k).is_some_and(|p| close_nested(p, q, rtol, atol)))
        }
        _ => close(a, b, rtol, atol),
    }
}

fn check_training(case: &Value) -> Option<String> {
    let script = get(case, "script").as_str().unwrap_or_default().replace(
        "@REF@",
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference"),
    );
    let m = match only_minimize(&script) {
        Ok(m) => m,
        Err(why) => return Some(why),
    };
    let (want_lr, got_lr) = (get(case, "lr").as_array(), get(&m, "lr").as_array());
    match (want_lr, got_lr) {
        (Some(w), Some(g)) if w.len() == g.len() => {
            for (k, (g, w)) in g.iter().zip(w).enumerate() {
                if !close(g, w, 1e-10, 1e-15) {
                    return Some(format!("lr at step {k} = {} want {}", short(g), short(w)));
                }
            }
        }
        (w, g) => {
            return Some(format!(
                "lr has {:?} entries, want {:?}",
                g.map(Vec::len),
                w.map(Vec::len)
            ))
        }
    }
    let want = get(case, "path").as_array().cloned().unwrap_or_default();
    let got = match get(&m, "path").as_array() {
        Some(p) if p.len() == want.len() => p,
        other => {
            return Some(format!(
                "path length {:?} != {}",
                other.map(Vec::len),
                want.len()
            ))
        }
    };
    let nan = Value::String("nan".into());
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        if let Some(params) = get(w, "params").as_object() {
            for (n, v) in params {
                let gv = get(g, "params").get(n).unwrap_or(&nan);
                if !close_nested(gv, v, 1e-7, 1e-9) {
                    return Some(format!("step {k}: {n} = {} want {}", short(gv), short(v)));
                }
            }
        }
        if let Some(l) = w.get("loss") {
            if !close(g.get("loss").unwrap_or(&nan), l, 1e-7, 1e-9) {
                return Some(format!(
                    "step {k}: loss = {} want {}",
                    short(get(g, "loss")),
                    short(l)
                ));
            }
        }
    }
    for key in ["epoch_loss", "watch"] {
        if let Some(w) = case.get(key) {
            if !close_nested(get(&m, key), w, 1e-7, 1e-9) {
                return Some(format!("{key} = {} want {}", short(get(&m, key)), short(w)));
            }
        }
    }
    None
}

#[test]
fn every_training_case_follows_torch() {
    check_every_case("training.json", "training", check_training);
}

#[test]
fn every_extra_training_case_follows_torch() {
    check_every_case("training_extra.json", "training_extra", check_training);
}
