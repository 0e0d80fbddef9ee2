//! Small conversions for reports: values to JSON (SPEC 1.1: non-finite
//! numbers are strings, tensors nested arrays) and text helpers.

use crate::optim::OptValue;
use crate::tensor::{fmt_num, Tensor};
use serde_json::Value;

/// A number as SPEC 1.1 wants it: a JSON number that reads back as the same
/// f64, or "inf", "-inf", "nan".
pub fn num_json(v: f64) -> Value {
    if v.is_nan() {
        Value::String("nan".into())
    } else if v.is_infinite() {
        Value::String(if v > 0.0 { "inf" } else { "-inf" }.into())
    } else {
        serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

fn nested(shape: &[usize], data: &[f64], leaf: &dyn Fn(f64) -> Value) -> Value {
    if shape.is_empty() {
        return leaf(data[0]);
    }
    let inner: usize = shape[1..].iter().product();
    Value::Array(
        (0..shape[0])
            .map(|i| nested(&shape[1..], &data[i * inner..(i + 1) * inner], leaf))
            .collect(),
    )
}

pub fn tensor_json(t: &Tensor) -> Value {
    nested(&t.shape, &t.data, &num_json)
}

pub fn mask_json(t: &Tensor) -> Value {
    nested(&t.shape, &t.data, &|v| Value::Bool(v != 0.0))
}

pub fn mask_text(t: &Tensor) -> String {
    if t.is_scalar() {
        return if t.data[0] != 0.0 { "true" } else { "false" }.into();
    }
    mask_json(t).to_string()
}

/// The largest |a - b| over broadcast elements, None for incompatible shapes.
/// NaN on either side gives NaN (which fails any tolerance).
pub fn max_abs_diff(a: &Tensor, b: &Tensor) -> Option<f64> {
    let shape = crate::tensor::broadcast(&a.shape, &b.shape)?;
    let n = crate::tensor::numel(&shape);
    let get = |t: &Tensor, i: usize| {
        if t.data.len() == 1 {
            t.data[0]
        } else {
            t.data[i]
        }
    };
    if !(a.data.len() == 1 || a.data.len() == n) || !(b.data.len() == 1 || b.data.len() == n) {
        return None;
    }
    let mut m: f64 = 0.0;
    for i in 0..n {
        let (x, y) = (get(a, i), get(b, i));
        let d = if x == y { 0.0 } else { (x - y).abs() };
        if d.is_nan() {
            return Some(f64::NAN);
        }
        m = m.max(d);
    }
    Some(m)
}

pub fn opt_json(v: &OptValue) -> Value {
    match v {
        // Whole-number options (ncall, strategy, max_iter) as JSON integers.
        OptValue::Num(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Value::from(*x as i64),
        OptValue::Num(x) => num_json(*x),
        OptValue::Bool(b) => Value::Bool(*b),
        OptValue::Str(s) => Value::String(s.clone()),
        OptValue::None => Value::Null,
        OptValue::Tuple(vs) => Value::Array(vs.iter().map(opt_json).collect()),
    }
}

pub fn opt_text(v: &OptValue) -> String {
    match v {
        // Whole numbers (strategy, ncall, max_iter) read better without ".0".
        OptValue::Num(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", *x as i64),
        OptValue::Num(x) => fmt_num(*x),
        OptValue::Bool(b) => b.to_string(),
        OptValue::Str(s) => format!("{s:?}"),
        OptValue::None => "None".into(),
        OptValue::Tuple(vs) => format!(
            "({})",
            vs.iter().map(opt_text).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// `adam(lr=0.3, betas=(0.99, 0.999), ...)`.
pub fn optimizer_text(name: &str, options: &[(&str, OptValue)]) -> String {
    format!(
        "{name}({})",
        options
            .iter()
            .map(|(k, v)| format!("{k}={}", opt_text(v)))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_numbers() {
        assert_eq!(num_json(f64::NAN), Value::String("nan".into()));
        assert_eq!(num_json(0.1).to_string(), "0.1");
        assert_eq!(num_json(-f64::INFINITY), Value::String("-inf".into()));
    }

    #[test]
    fn diff_with_broadcast_and_nan() {
        let a = Tensor::scalar(1.0);
        let b = Tensor {
            shape: vec![2],
            data: vec![1.5, 0.0],
        };
        assert_eq!(max_abs_diff(&a, &b), Some(1.0));
        assert!(max_abs_diff(&Tensor::scalar(f64::NAN), &a)
            .unwrap()
            .is_nan());
        assert_eq!(
            max_abs_diff(
                &Tensor::scalar(f64::INFINITY),
                &Tensor::scalar(f64::INFINITY)
            ),
            Some(0.0)
        );
    }
}
