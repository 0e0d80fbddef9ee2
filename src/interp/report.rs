//! The `--json` records of a run (SPEC 1.1) and the conversions under them:
//! one `MinimizeRecord` for both kinds of minimizer (step-based and Minuit),
//! values to JSON (non-finite numbers are strings, tensors nested arrays)
//! and text helpers. The record is plain data so that the training and
//! fitting code fill in fields and never build JSON by hand.

use crate::optim::OptValue;
use crate::tensor::{fmt_num, Tensor};
use serde_json::{json, Map, Value};

/// What a `minimize` / `maximize` statement reports under `--json`
/// (SPEC 1.1, kind `"minimize"`).
#[derive(Clone, Debug)]
pub struct MinimizeRecord {
    /// 1-based line of the statement's first token.
    pub line: usize,
    pub optimizer: String,
    /// Every option, defaults filled in, in the optimizer's order.
    pub options: Vec<(String, OptValue)>,
    pub maximize: bool,
    /// The objective at the final parameters.
    pub loss: f64,
    /// Every parameter of the session, name -> final value.
    pub params: Vec<(String, Tensor)>,
    pub nfcn: usize,
    pub ngrad: usize,
    /// Only with `--trace`: one point per step (step-based, start and
    /// result included) or per evaluation (Minuit).
    pub path: Option<Vec<PathPoint>>,
    /// The fields only one kind of minimizer has.
    pub kind: MinimizerFields,
}

/// One point of a recorded path: the loss and the values of the parameters
/// that moved (the others are reported at their value in `params`).
#[derive(Clone, Debug)]
pub struct PathPoint {
    pub loss: f64,
    pub values: Vec<(String, Tensor)>,
}

/// The fields of a minimize record that depend on the kind of minimizer.
#[derive(Clone, Debug)]
pub enum MinimizerFields {
    /// torch.optim: how many steps ran, and what a schedule or epochs add.
    Steps {
        steps: usize,
        training: TrainingFields,
    },
    /// MIGRAD, SIMPLEX, SCAN.
    Minuit(MinuitFields),
}

/// The training fields of a step-based record (SPEC 1.1): `lr` with
/// `--trace`; `epochs`, `batch`, `epoch_loss` and `watch` for `for N epochs`.
#[derive(Clone, Debug, Default)]
pub struct TrainingFields {
    /// The lr of every step (only with `--trace`).
    pub lr: Option<Vec<f64>>,
    /// The schedule's text, and "step" or "epoch".
    pub schedule: Option<(String, &'static str)>,
    pub epochs: Option<EpochFields>,
    /// With `--trace`: the path entries the record left out (0 when it is
    /// complete); written as `path_dropped` and `path_cut`, as Minuit's are.
    pub path_dropped: Option<usize>,
}

/// A minibatch run's per-epoch record.
#[derive(Clone, Debug)]
pub struct EpochFields {
    pub epochs: usize,
    pub batch: usize,
    pub epoch_loss: Vec<f64>,
    pub watch: Vec<(String, Vec<f64>)>,
}

impl TrainingFields {
    fn insert_into(&self, rec: &mut Map<String, Value>) {
        let nums = |v: &[f64]| Value::Array(v.iter().map(|x| num_json(*x)).collect());
        if let Some((text, per)) = &self.schedule {
            rec.insert("schedule".into(), json!(text));
            rec.insert("schedule_per".into(), json!(per));
        }
        if let Some(e) = &self.epochs {
            rec.insert("epochs".into(), json!(e.epochs));
            rec.insert("batch".into(), json!(e.batch));
            rec.insert("epoch_loss".into(), nums(&e.epoch_loss));
            if !e.watch.is_empty() {
                let w = e.watch.iter().map(|(k, v)| (k.clone(), nums(v)));
                rec.insert("watch".into(), Value::Object(w.collect()));
            }
        }
        if let Some(lr) = &self.lr {
            rec.insert("lr".into(), nums(lr));
        }
        if let Some(d) = self.path_dropped {
            rec.insert("path_dropped".into(), json!(d));
            rec.insert("path_cut".into(), json!(d > 0));
        }
    }
}

/// Minuit's validity flags and errors at a minimum.
#[derive(Clone, Debug)]
pub struct MinuitFields {
    pub edm: f64,
    pub edm_goal: f64,
    pub valid: bool,
    pub accurate: bool,
    pub at_limit: bool,
    pub call_limit: bool,
    pub above_max_edm: bool,
    pub errors: ErrorsRecord,
}

/// Parabolic errors and covariance over the free parameters (shared by the
/// `minimize` and `hesse` records).
#[derive(Clone, Debug)]
pub struct ErrorsRecord {
    /// Free name -> error, declaration order.
    pub errors: Vec<(String, f64)>,
    /// Row-major, over `free`; None when Minuit has none.
    pub covariance: Option<Vec<Vec<f64>>>,
    /// Names of the free parameters, declaration order.
    pub free: Vec<String>,
}

impl ErrorsRecord {
    /// Adds `errors`, `covariance` and `free` to a record.
    pub fn insert_into(&self, rec: &mut Map<String, Value>) {
        let errors = self.errors.iter().map(|(k, v)| (k.clone(), num_json(*v)));
        rec.insert("errors".into(), Value::Object(errors.collect()));
        let cov = self.covariance.as_ref().map_or(Value::Null, |c| {
            let row = |r: &Vec<f64>| Value::Array(r.iter().map(|v| num_json(*v)).collect());
            Value::Array(c.iter().map(row).collect())
        });
        rec.insert("covariance".into(), cov);
        rec.insert("free".into(), json!(self.free));
    }
}

impl MinimizeRecord {
    /// The record as SPEC 1.1's JSON object.
    pub fn to_json(&self) -> Value {
        let mut rec = Map::new();
        rec.insert("kind".into(), json!("minimize"));
        rec.insert("line".into(), json!(self.line));
        rec.insert("optimizer".into(), json!(self.optimizer));
        let options = self.options.iter().map(|(k, v)| (k.clone(), opt_json(v)));
        rec.insert("options".into(), Value::Object(options.collect()));
        rec.insert("maximize".into(), json!(self.maximize));
        rec.insert("loss".into(), num_json(self.loss));
        rec.insert("params".into(), Value::Object(self.params_map()));
        rec.insert("nfcn".into(), json!(self.nfcn));
        rec.insert("ngrad".into(), json!(self.ngrad));
        match &self.kind {
            MinimizerFields::Steps { steps, training } => {
                rec.insert("steps".into(), json!(steps));
                training.insert_into(&mut rec);
            }
            MinimizerFields::Minuit(m) => {
                rec.insert("edm".into(), num_json(m.edm));
                rec.insert("edm_goal".into(), num_json(m.edm_goal));
                for (k, v) in [
                    ("valid", m.valid),
                    ("accurate", m.accurate),
                    ("at_limit", m.at_limit),
                    ("call_limit", m.call_limit),
                    ("above_max_edm", m.above_max_edm),
                ] {
                    rec.insert(k.into(), json!(v));
                }
                m.errors.insert_into(&mut rec);
            }
        }
        if let Some(path) = &self.path {
            let point = |p: &PathPoint| {
                let mut params = self.params_map();
                for (k, t) in &p.values {
                    params.insert(k.clone(), tensor_json(t));
                }
                json!({"loss": num_json(p.loss), "params": Value::Object(params)})
            };
            rec.insert(
                "path".into(),
                Value::Array(path.iter().map(point).collect()),
            );
        }
        Value::Object(rec)
    }

    fn params_map(&self) -> Map<String, Value> {
        self.params
            .iter()
            .map(|(k, t)| (k.clone(), tensor_json(t)))
            .collect()
    }
}

/// About how many bytes one point of a `--trace` path takes on its way
/// out: the `PathPoint`, its JSON values (every parameter, as `params`
/// has) and its text. Measured: a 1-parameter path of 2.8 million points
/// peaked at 8 GB, about 2.9 KB a point.
pub fn path_point_cost(params: &[crate::interp::ParamInfo]) -> u64 {
    1024 + params
        .iter()
        .map(|p| 2048 + p.name.len() as u64 + 64 * p.value.data.len() as u64)
        .sum::<u64>()
}

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
    let mut s = String::with_capacity(16 + 16 * options.len());
    write_optimizer_text(&mut s, name, options.iter().map(|(k, v)| (*k, v)));
    s
}

/// Appends `optimizer_text` of these options to `out` (a statement's head
/// line is written in place, in front of its report).
pub fn write_optimizer_text<'a>(
    out: &mut String,
    name: &str,
    options: impl Iterator<Item = (&'a str, &'a OptValue)>,
) {
    out.push_str(name);
    out.push('(');
    for (i, (k, v)) in options.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(k);
        out.push('=');
        out.push_str(&opt_text(v));
    }
    out.push(')');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(kind: MinimizerFields) -> MinimizeRecord {
        MinimizeRecord {
            line: 3,
            optimizer: "adam".into(),
            options: vec![("lr".into(), OptValue::Num(0.5))],
            maximize: false,
            loss: 0.25,
            params: vec![
                ("x".into(), Tensor::scalar(0.5)),
                ("y".into(), Tensor::scalar(2.0)),
            ],
            nfcn: 4,
            ngrad: 4,
            path: Some(vec![PathPoint {
                loss: f64::NAN,
                values: vec![("x".into(), Tensor::scalar(1.0))],
            }]),
            kind,
        }
    }

    #[test]
    fn step_record_fills_path_points_from_params() {
        let j = record(MinimizerFields::Steps {
            steps: 1,
            training: TrainingFields::default(),
        })
        .to_json();
        assert_eq!(
            j.to_string(),
            r#"{"kind":"minimize","line":3,"loss":0.25,"maximize":false,"nfcn":4,"ngrad":4,"#
                .to_string()
                + r#""optimizer":"adam","options":{"lr":0.5},"params":{"x":0.5,"y":2.0},"#
                + r#""path":[{"loss":"nan","params":{"x":1.0,"y":2.0}}],"steps":1}"#
        );
    }

    #[test]
    fn minuit_record_has_flags_errors_and_null_covariance() {
        let errors = ErrorsRecord {
            errors: vec![("x".into(), 0.1)],
            covariance: None,
            free: vec!["x".into()],
        };
        let mut r = record(MinimizerFields::Minuit(MinuitFields {
            edm: 1e-9,
            edm_goal: 2e-4,
            valid: true,
            accurate: false,
            at_limit: false,
            call_limit: true,
            above_max_edm: false,
            errors,
        }));
        r.path = None;
        let j = r.to_json();
        assert_eq!(j["covariance"], Value::Null);
        assert_eq!(j["errors"]["x"], json!(0.1));
        assert_eq!(j["free"], json!(["x"]));
        assert_eq!(
            (j["valid"].clone(), j["call_limit"].clone()),
            (json!(true), json!(true))
        );
        assert_eq!(j["accurate"], json!(false));
        assert!(j.get("path").is_none() && j.get("steps").is_none());
    }

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
