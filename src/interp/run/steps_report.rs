//! The report of a step-based run: the text (title, loss line, sparkline,
//! the schedule, the epoch table, the parameters), the JSON record (SPEC
//! 1.1: `steps`, `lr`, `path`, `epochs`, `batch`, `epoch_loss`, `watch`)
//! and the curves kept for `plot loss` and `plot lr`; and the diagnostic
//! of a run stopped by a non-finite value.

use super::epochs::{table_rows, Plan};
use super::{params_json, params_json_map};
use crate::diagnostics::Diag;
use crate::interp::report::{num_json, opt_json, optimizer_text, tensor_json};
use crate::interp::{RunPath, Session, TrainingCurves};
use crate::optim::run::{NonFinite, PathRecorder};
use crate::optim::OptValue;
use crate::syntax::ast::MinimizeStmt;
use crate::tensor::{fmt_num, Tensor};
use serde_json::{json, Map, Value};
use std::ops::Range;

/// The epoch table of a minibatch run.
pub(super) struct Epochs<'p> {
    pub plan: &'p Plan,
    pub losses: Vec<f64>,
    pub lrs: Vec<f64>,
    pub watch: Vec<(String, Vec<f64>)>,
}

/// What a finished run reports.
pub(super) struct Outcome<'a> {
    pub oname: &'static str,
    pub options: &'a [(&'static str, OptValue)],
    pub given: &'a [String],
    pub free: &'a [usize],
    pub ranges: &'a [Range<usize>],
    pub maximize: bool,
    pub ran: usize,
    pub interrupted: bool,
    pub nfcn: usize,
    pub final_loss: f64,
    pub best_loss: f64,
    pub best_step: usize,
    pub path: PathRecorder,
    /// The schedule's text, and whether it stepped per step.
    pub schedule: Option<(String, bool)>,
    pub epochs: Option<Epochs<'a>>,
    pub line: usize,
}

pub(super) fn report(s: &mut Session, o: Outcome<'_>) {
    let full = optimizer_text(o.oname, o.options);
    let explicit: Vec<(&str, OptValue)> = o
        .options
        .iter()
        .filter(|(k, _)| o.given.iter().any(|g| g == k))
        .cloned()
        .collect();
    let title = optimizer_text(o.oname, &explicit);
    let verb = if o.maximize { "maximize" } else { "minimize" };
    let length = match &o.epochs {
        Some(e) => format!(
            "{} epochs of {} steps ({}), {} steps",
            e.losses.len(),
            e.plan.per_epoch,
            batches(e.plan),
            o.ran
        ),
        None => format!("{} steps", o.ran),
    };
    let mut text = format!(
        "{verb} with {full}: {length}{}",
        if o.interrupted {
            " (interrupted: kept the best parameters)"
        } else {
            ""
        }
    );
    if let Some((sched, per_step)) = &o.schedule {
        let when = if *per_step { "per step" } else { "per epoch" };
        text.push_str(&format!(
            "\n  schedule {sched} {when}, lr {} -> {}",
            fmt_num(o.path.lrs.first().copied().unwrap_or(f64::NAN)),
            fmt_num(o.path.lrs.last().copied().unwrap_or(f64::NAN))
        ));
    }
    let first = o.path.losses.first().copied().unwrap_or(o.final_loss);
    text.push_str(&format!(
        "\n  loss {} -> {} (best {} at step {}), {} evaluations",
        fmt_num(first),
        fmt_num(o.final_loss),
        fmt_num(o.best_loss),
        o.best_step,
        o.nfcn
    ));
    text.push_str(&format!(
        "\n  {}",
        crate::plot::sparkline(&o.path.losses, 40)
    ));
    if o.path.cut {
        text.push_str(&format!(
            "\n  (the path holds the first {} steps only: the record is bounded)",
            o.path.lrs.len()
        ));
    }
    if let Some(e) = &o.epochs {
        text.push_str(&epoch_table(e));
    }
    for &i in o.free {
        text.push_str(&format!("\n  {} = {}", s.params[i].name, s.params[i].value));
    }
    s.say(&text);
    record(s, &o, &title);
    let curves = o.epochs.as_ref().map(|e| TrainingCurves {
        per_epoch: e.plan.per_epoch,
        epoch_loss: e.losses.clone(),
        watch: e.watch.clone(),
    });
    let keep_points = o.path.records_points();
    s.last_path = Some(RunPath {
        title,
        names: o.free.iter().map(|&i| s.params[i].name.clone()).collect(),
        losses: o.path.losses,
        points: if keep_points {
            o.path.points
        } else {
            Vec::new()
        },
        lrs: o.path.lrs,
        training: curves,
    });
}

/// "batch 8 of 30, the last 6" and the like.
fn batches(p: &Plan) -> String {
    let mut t = format!("batch {} of {}", p.batch, p.n);
    match p.ragged {
        Some(r) => t.push_str(&format!(", the last {r}")),
        None if p.n % p.batch != 0 => t.push_str(&format!(", {} rows dropped", p.n % p.batch)),
        None => {}
    }
    if p.shuffle {
        t.push_str(", shuffled");
    }
    t
}

fn epoch_table(e: &Epochs<'_>) -> String {
    let mut head = vec!["epoch".to_string(), "mean loss".to_string()];
    head.extend(e.watch.iter().map(|(n, _)| n.clone()));
    head.push("lr".to_string());
    let mut rows: Vec<Vec<String>> = vec![head];
    for k in table_rows(e.losses.len()) {
        let mut r = vec![(k + 1).to_string(), fmt_num(e.losses[k])];
        r.extend(e.watch.iter().map(|(_, v)| fmt_num(v[k])));
        r.push(e.lrs.get(k).map_or(String::new(), |v| fmt_num(*v)));
        rows.push(r);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut t = String::new();
    for r in &rows {
        t.push_str("\n  ");
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}"))
            .collect();
        t.push_str(cells.join("  ").trim_end());
    }
    t
}

fn record(s: &mut Session, o: &Outcome<'_>, _title: &str) {
    let mut rec = Map::new();
    rec.insert("kind".into(), json!("minimize"));
    rec.insert("line".into(), json!(o.line));
    rec.insert("optimizer".into(), json!(o.oname));
    rec.insert(
        "options".into(),
        Value::Object(
            o.options
                .iter()
                .map(|(k, v)| (k.to_string(), opt_json(v)))
                .collect(),
        ),
    );
    rec.insert("maximize".into(), json!(o.maximize));
    rec.insert("loss".into(), num_json(o.final_loss));
    rec.insert("params".into(), params_json(s));
    rec.insert("nfcn".into(), json!(o.nfcn));
    rec.insert("ngrad".into(), json!(o.nfcn));
    rec.insert("steps".into(), json!(o.ran));
    if let Some((sched, per_step)) = &o.schedule {
        rec.insert("schedule".into(), json!(sched));
        rec.insert(
            "schedule_per".into(),
            json!(if *per_step { "step" } else { "epoch" }),
        );
    }
    if let Some(e) = &o.epochs {
        rec.insert("epochs".into(), json!(e.losses.len()));
        rec.insert("batch".into(), json!(e.plan.batch));
        rec.insert(
            "epoch_loss".into(),
            Value::Array(e.losses.iter().map(|v| num_json(*v)).collect()),
        );
        if !e.watch.is_empty() {
            let w: Map<String, Value> = e
                .watch
                .iter()
                .map(|(n, v)| {
                    (
                        n.clone(),
                        Value::Array(v.iter().map(|x| num_json(*x)).collect()),
                    )
                })
                .collect();
            rec.insert("watch".into(), Value::Object(w));
        }
    }
    if s.opts.trace {
        rec.insert(
            "lr".into(),
            Value::Array(o.path.lrs.iter().map(|v| num_json(*v)).collect()),
        );
        rec.insert("path".into(), path_json(s, o));
        if o.path.cut {
            rec.insert("path_cut".into(), json!(true));
        }
    }
    s.records.push(Value::Object(rec));
}

fn path_json(s: &Session, o: &Outcome<'_>) -> Value {
    let n: usize = o.ranges.last().map_or(0, |r| r.end);
    let points = o.path.points.chunks(n.max(1));
    Value::Array(
        o.path
            .losses
            .iter()
            .zip(points)
            .map(|(l, p)| {
                let mut params = params_json_map(s);
                for (&i, r) in o.free.iter().zip(o.ranges) {
                    let t = Tensor {
                        shape: s.params[i].value.shape.clone(),
                        data: p[r.clone()].to_vec(),
                    };
                    params.insert(s.params[i].name.clone(), tensor_json(&t));
                }
                json!({"loss": num_json(*l), "params": Value::Object(params)})
            })
            .collect(),
    )
}

pub(super) fn nonfinite(
    s: &Session,
    m: &MinimizeStmt,
    free: &[usize],
    ranges: &[Range<usize>],
    bad: &NonFinite,
) -> Diag {
    let what = match bad.which {
        None => format!("the loss is {}", fmt_num(bad.loss)),
        Some(j) => {
            let (pi, r) = free
                .iter()
                .zip(ranges)
                .find(|(_, r)| r.contains(&j))
                .map(|(p, r)| (*p, r.clone()))
                .unwrap_or((free[0], 0..1));
            let name = &s.params[pi].name;
            if r.len() > 1 {
                format!("the gradient of {name}[{}] is not finite", j - r.start)
            } else {
                format!("the gradient with respect to {name} is not finite")
            }
        }
    };
    let vals: Vec<String> = free
        .iter()
        .zip(ranges)
        .map(|(&i, r)| {
            let v = if r.len() == 1 {
                fmt_num(bad.at[r.start])
            } else {
                Tensor {
                    shape: s.params[i].value.shape.clone(),
                    data: bad.at[r.clone()].to_vec(),
                }
                .to_string()
            };
            format!("{} = {v}", s.params[i].name)
        })
        .collect();
    Diag::error(
        "E0400",
        format!("minimization stopped at step {}: {what}", bad.step),
    )
    .at(m.objective.span.clone(), "this objective")
    .note(format!("at {}", vals.join(", ")))
    .note("help: try a smaller learning rate, another starting point, or limits `in [lo, hi]`")
}
