//! The report of a step-based run: the text (title, loss line, sparkline,
//! the schedule, the epoch table, the parameters), the JSON record (SPEC
//! 1.1: `steps`, `lr`, `path`, `epochs`, `batch`, `epoch_loss`, `watch`)
//! and the curves kept for `plot loss` and `plot lr`; and the diagnostic
//! of a run stopped by a non-finite value.

use super::epochs::{table_rows, Plan};
use super::{params_record, NonFiniteWhat, RunError};
use crate::diagnostics::Diag;
use crate::interp::report::{
    optimizer_text, path_point_cost, EpochFields, MinimizeRecord, MinimizerFields, PathPoint,
    TrainingFields,
};
use crate::interp::{RunPath, Session, TrainingCurves};
use crate::optim::run::{NonFinite, PathRecorder};
use crate::optim::OptValue;
use crate::syntax::ast::MinimizeStmt;
use crate::tensor::{fmt_num, Tensor};
use std::ops::Range;

/// The epoch table of a minibatch run.
pub(super) struct Epochs<'p> {
    pub plan: &'p Plan,
    pub losses: Vec<f64>,
    pub lrs: Vec<f64>,
    pub watch: Vec<(String, Vec<f64>)>,
}

impl<'p> Epochs<'p> {
    /// What the epoch table `log` kept of a run over `plan`.
    pub fn from_log(plan: &'p Plan, log: super::epochs::EpochLog<'_>) -> Epochs<'p> {
        Epochs {
            plan,
            losses: log.losses,
            lrs: log.lrs,
            watch: log
                .watched
                .into_iter()
                .map(|w| (w.name, w.values))
                .collect(),
        }
    }
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
    /// The step at which a non-finite value stopped the run.
    pub nonfinite: Option<usize>,
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
    let explicit: Vec<(&str, OptValue)> = o
        .options
        .iter()
        .filter(|(k, _)| o.given.iter().any(|g| g == k))
        .cloned()
        .collect();
    let title = optimizer_text(o.oname, &explicit);
    let text = text(s, &o);
    s.say(&text);
    record(s, &o);
    let curves = o.epochs.as_ref().map(|e| TrainingCurves {
        per_epoch: e.plan.per_epoch,
        epoch_loss: e.losses.clone(),
        watch: e.watch.clone(),
    });
    let keep_points = o.path.records_points();
    s.last_path = Some(RunPath {
        title,
        names: RunPath::element_names(&s.params, o.free),
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

/// The printed report: what ran and how it ended, the schedule, the loss
/// and its sparkline, the epoch table, the parameters.
fn text(s: &Session, o: &Outcome<'_>) -> String {
    let full = optimizer_text(o.oname, o.options);
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
        match (o.interrupted, o.nonfinite) {
            (true, _) => " (interrupted: kept the best parameters)".to_string(),
            (_, Some(k)) =>
                format!(" (stopped at step {k} by a non-finite value: kept the best finite point)"),
            _ => String::new(),
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
    text
}

/// "batch 8 of 30, the last 6" and the like.
fn batches(p: &Plan) -> String {
    let mut t = format!("batch {} of {}", p.batch, p.n);
    match p.ragged {
        Some(r) => t.push_str(&format!(", the last {r}")),
        None if !p.n.is_multiple_of(p.batch) => {
            t.push_str(&format!(", {} rows dropped", p.n % p.batch))
        }
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

fn record(s: &mut Session, o: &Outcome<'_>) {
    // The JSON form of a path is far bigger than its record: what does
    // not fit a quarter of the memory budget is cut (`path_dropped` counts it).
    // (Only with --trace: asking the system for its free memory allocates.)
    let keep = match s.opts.trace {
        true => crate::budget::fits(o.path.losses.len(), path_point_cost(&s.params)),
        false => o.path.losses.len(),
    };
    let path = s.opts.trace.then(|| path_points(s, o, keep));
    let training = training_fields(s, o, keep);
    let rec = MinimizeRecord {
        line: o.line,
        optimizer: o.oname.to_string(),
        options: o
            .options
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        maximize: o.maximize,
        loss: o.final_loss,
        params: params_record(s),
        nfcn: o.nfcn,
        ngrad: o.nfcn,
        path,
        kind: MinimizerFields::Steps {
            steps: o.ran,
            training,
        },
    };
    let mut json = rec.to_json();
    if o.interrupted {
        json["interrupted"] = serde_json::json!(true);
    }
    if o.nonfinite.is_some() {
        json["stopped"] = serde_json::json!("nonfinite");
    }
    s.records.push(json);
}

/// The first `keep` points of the run's path, each with every free
/// parameter by name and shape.
fn path_points(s: &Session, o: &Outcome<'_>, keep: usize) -> Vec<PathPoint> {
    let n: usize = o.ranges.last().map_or(0, |r| r.end);
    let values = |p: &[f64]| -> Vec<(String, Tensor)> {
        o.free
            .iter()
            .zip(o.ranges)
            .map(|(&i, r)| {
                let shape = s.params[i].value.shape.clone();
                let data = p[r.clone()].to_vec();
                (s.params[i].name.clone(), Tensor { shape, data })
            })
            .collect()
    };
    o.path
        .losses
        .iter()
        .take(keep)
        .zip(o.path.points.chunks(n.max(1)))
        .map(|(&loss, p)| PathPoint {
            loss,
            values: values(p),
        })
        .collect()
}

/// The record's fields of a step run: the lrs and how much of the path was
/// cut (with `--trace`, of which `keep` points are kept), the schedule and
/// the epochs.
fn training_fields(s: &Session, o: &Outcome<'_>, keep: usize) -> TrainingFields {
    let trace = s.opts.trace;
    TrainingFields {
        lr: trace.then(|| o.path.lrs[..keep.min(o.path.lrs.len())].to_vec()),
        schedule: o
            .schedule
            .as_ref()
            .map(|(t, per)| (t.clone(), if *per { "step" } else { "epoch" })),
        epochs: o.epochs.as_ref().map(|e| EpochFields {
            epochs: e.losses.len(),
            batch: e.plan.batch,
            epoch_loss: e.losses.clone(),
            watch: e.watch.clone(),
        }),
        // Complete, the path has a point per step and the result.
        path_dropped: trace.then(|| {
            let total = if o.path.cut {
                o.ran + 1
            } else {
                o.path.losses.len()
            };
            total.saturating_sub(keep.min(o.path.losses.len()))
        }),
    }
}

pub(super) fn nonfinite(
    s: &Session,
    m: &MinimizeStmt,
    free: &[usize],
    ranges: &[Range<usize>],
    bad: &NonFinite,
    ran: usize,
) -> Diag {
    let what = match bad.which {
        None => NonFiniteWhat::Loss(bad.loss),
        Some(j) => {
            let (pi, r) = free
                .iter()
                .zip(ranges)
                .find(|(_, r)| r.contains(&j))
                .map(|(p, r)| (*p, r.clone()))
                .unwrap_or((free[0], 0..1));
            NonFiniteWhat::Gradient {
                name: s.params[pi].name.clone(),
                index: (r.len() > 1).then(|| j - r.start),
            }
        }
    };
    let at = free
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
    RunError::StepsNonFinite {
        step: bad.step,
        what,
        at,
        moved: ran > 0,
        span: m.objective.span.clone(),
    }
    .into()
}
