//! Test support for the optimizer unit tests: the chapter's two objectives
//! with hand-written gradients, and a runner that follows a case of
//! `tests/reference/optim.json` (torch's trajectories) step by step.
//! The end-to-end reference suite, through the language, is tests/reference_optim.rs.
//! Also the small helpers every optimizer's tests use to build one and look
//! at its options and errors.

use super::{build, OptArg, OptError, OptValue, Optimizer, ParamLayout};

pub const REFERENCE: &str = include_str!("../../tests/reference/optim.json");

const HIMMELBLAU: &str = "(x^2 + y - 11)^2 + (x + y^2 - 7)^2";
const BEALE: &str = "(1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2";

/// `name=value` as a script gives it (with no span).
pub fn arg(name: &str, value: OptValue) -> OptArg {
    OptArg {
        name: name.to_string(),
        value,
        span: 0..0,
    }
}

/// The tuple `(a, b)`.
pub fn pair(a: f64, b: f64) -> OptValue {
    OptValue::Tuple(vec![OptValue::Num(a), OptValue::Num(b)])
}

/// Optimizer `name` built from `args` for `layout`, as the language builds
/// it: options read, validated and checked for unknown ones.
pub fn make(
    name: &str,
    args: &[OptArg],
    layout: &ParamLayout,
) -> Result<Box<dyn Optimizer>, OptError> {
    build(name, args, layout)
        .unwrap_or_else(|| panic!("no optimizer {name}"))
        .map(|b| b.optimizer)
}

/// Why optimizer `name` (on two scalars) refuses `args`; panics if it accepts them.
pub fn err(name: &str, args: &[OptArg]) -> OptError {
    match make(name, args, &ParamLayout::scalars(2)) {
        Ok(_) => panic!("{name} accepted {args:?}"),
        Err(e) => e,
    }
}

/// The option named and the `allowed` text of the range error with which
/// optimizer `name` refuses `args`; panics on anything else.
pub fn range_err(name: &str, args: &[OptArg]) -> (String, String) {
    match err(name, args) {
        OptError::Range { name, allowed, .. } => (name, allowed),
        e => panic!("{e:?}"),
    }
}

/// Every option of optimizer `name` with its default, in torch's order.
pub fn defaults(name: &str) -> Vec<(&'static str, OptValue)> {
    build(name, &[], &ParamLayout::scalars(2))
        .unwrap()
        .unwrap()
        .options
}

/// The names of [`defaults`].
pub fn option_names(name: &str) -> Vec<&'static str> {
    defaults(name).into_iter().map(|(n, _)| n).collect()
}

/// Himmelblau's function and its gradient.
pub fn himmelblau(p: &[f64], g: &mut [f64]) -> f64 {
    let (x, y) = (p[0], p[1]);
    let a = x * x + y - 11.0;
    let b = x + y * y - 7.0;
    g[0] = 4.0 * a * x + 2.0 * b;
    g[1] = 2.0 * a + 4.0 * b * y;
    a * a + b * b
}

fn beale(p: &[f64], g: &mut [f64]) -> f64 {
    let (x, y) = (p[0], p[1]);
    let t1 = 1.5 - x + x * y;
    let t2 = 2.25 - x + x * y * y;
    let t3 = 2.625 - x + x * y * y * y;
    g[0] = 2.0 * t1 * (y - 1.0) + 2.0 * t2 * (y * y - 1.0) + 2.0 * t3 * (y * y * y - 1.0);
    g[1] = 2.0 * t1 * x + 2.0 * t2 * 2.0 * x * y + 2.0 * t3 * 3.0 * x * y * y;
    t1 * t1 + t2 * t2 + t3 * t3
}

fn to_opt(v: &serde_json::Value) -> OptValue {
    match v {
        serde_json::Value::Bool(b) => OptValue::Bool(*b),
        serde_json::Value::Number(n) => OptValue::Num(n.as_f64().unwrap()),
        serde_json::Value::String(s) => OptValue::Str(s.clone()),
        serde_json::Value::Array(a) => OptValue::Tuple(a.iter().map(to_opt).collect()),
        _ => OptValue::None,
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 + 1e-7 * b.abs()
}

/// Runs reference case `id` with the hand-written objective and checks every
/// stable step against torch. Panics with the first difference.
pub fn follow_case(id: &str) {
    let doc: serde_json::Value = serde_json::from_str(REFERENCE).unwrap();
    let case = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no case {id}"));
    let objective = case["objective"].as_str().unwrap();
    let f: fn(&[f64], &mut [f64]) -> f64 = if objective.contains(HIMMELBLAU) {
        himmelblau
    } else if objective == BEALE {
        beale
    } else {
        panic!("objective {objective}")
    };
    // maximize-adam maximizes -(himmelblau), which is minimizing himmelblau:
    // the runner negates a maximized objective, so the optimizer sees the latter.
    assert_eq!(objective.starts_with('-'), case["maximize"] == true);
    let args: Vec<OptArg> = case["options"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| OptArg {
            name: k.clone(),
            value: to_opt(v),
            span: 0..0,
        })
        .collect();
    let built = build(
        case["optimizer"].as_str().unwrap(),
        &args,
        &ParamLayout::scalars(2),
    )
    .unwrap()
    .unwrap();
    let mut opt = built.optimizer;
    let start = &case["start"];
    let mut p = [start["x"].as_f64().unwrap(), start["y"].as_f64().unwrap()];
    let path = case["path"].as_array().unwrap();
    let stable = case["stable_steps"].as_u64().unwrap() as usize;
    for (k, want) in path.iter().enumerate().take(stable + 1) {
        let wx = want["params"]["x"].as_f64().unwrap();
        let wy = want["params"]["y"].as_f64().unwrap();
        assert!(
            close(p[0], wx) && close(p[1], wy),
            "{id} step {k}: ({}, {}) want ({wx}, {wy})",
            p[0],
            p[1]
        );
        if k == stable {
            break;
        }
        opt.step(&mut p, &mut |x: &[f64], g: &mut [f64]| f(x, g));
    }
}
