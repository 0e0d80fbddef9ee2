//! Step-based minimization: the objective's symbolic gradient is added to
//! its graph once, one tape is compiled, and a torch.optim optimizer is
//! driven step by step (with progress, Ctrl-C, bounds and best-so-far),
//! then the text report and the JSON record are written. Maximizing
//! negates the objective (torch's maximize negates the gradient first
//! thing; only LBFGS, which has no maximize, uses the loss, so the two
//! agree).

use super::{params_record, Objective};
use crate::diagnostics::Diag;
use crate::graph::{autodiff, NodeId, Tape};
use crate::interp::report::{optimizer_text, MinimizeRecord, MinimizerFields, PathPoint};
use crate::interp::{take_interrupt, RunPath, Session};
use crate::optim::{self, OptValue, ParamLayout};
use crate::syntax::ast::MinimizeStmt;
use crate::tensor::{fmt_num, Tensor};

/// Free elements up to which a step-based run records its whole path.
const PATH_LIMIT: usize = 64;

#[allow(clippy::too_many_arguments)]
pub(super) fn run_steps(
    s: &mut Session,
    m: &MinimizeStmt,
    oname: &str,
    built: optim::Built,
    given: &[&str],
    free: &[usize],
    layout: &ParamLayout,
    mut obj: Objective,
    steps: usize,
    line: usize,
) -> Result<(), Diag> {
    let maximize = m.maximize || built.maximize;
    let sign = if maximize { -1.0 } else { 1.0 };
    let mut built = built;
    // One truth: `maximize EXPR with adam` is the optimizer's maximize too,
    // in the report's options and in the JSON record.
    for (k, v) in built.options.iter_mut() {
        if *k == "maximize" {
            *v = crate::optim::OptValue::Bool(maximize);
        }
    }
    let mut opt = built.optimizer;
    let pnodes: Vec<NodeId> = free
        .iter()
        .map(|&i| obj.g.param(i as u32, s.params[i].value.shape.clone()))
        .collect();
    let grads = autodiff::grad(&mut obj.g, obj.out, &pnodes);
    let mut outs = vec![obj.out];
    outs.extend(&grads);
    let mut tape = Tape::new(&obj.g, &outs);
    for (i, p) in s.params.iter().enumerate() {
        tape.set_param(i as u32, &p.value.data);
    }
    let ranges = layout.ranges();
    // (tape offset, flat range) of each free parameter's elements
    let locs: Vec<(usize, std::ops::Range<usize>)> = free
        .iter()
        .zip(&ranges)
        .map(|(&i, r)| (tape.param_offset(i as u32).unwrap_or(0), r.clone()))
        .collect();
    let n = layout.len();
    let mut x: Vec<f64> = free
        .iter()
        .flat_map(|&i| s.params[i].value.data.iter().copied())
        .collect();
    let bounds: Vec<(f64, f64)> = free
        .iter()
        .zip(&ranges)
        .flat_map(|(&i, r)| {
            let p = &s.params[i];
            std::iter::repeat_n(
                (
                    p.lower.unwrap_or(f64::NEG_INFINITY),
                    p.upper.unwrap_or(f64::INFINITY),
                ),
                r.len(),
            )
        })
        .collect();
    let has_bounds = bounds.iter().any(|b| b.0.is_finite() || b.1.is_finite());
    let record_points = s.opts.trace || n <= PATH_LIMIT;
    let mut losses: Vec<f64> = Vec::with_capacity(steps + 1);
    // The path, flat (n values per point), reserved up front so a step
    // only copies into memory it already has.
    let mut flat: Vec<f64> = Vec::with_capacity(if record_points { (steps + 1) * n } else { 0 });
    let mut best_x = x.clone();
    let mut before = x.clone();
    let mut best = f64::NAN;
    let mut best_step = 0;
    let (mut nfcn, mut ngrad) = (0usize, 0usize);
    let mut bad: Option<(f64, Vec<f64>, Option<usize>)> = None;
    let mut ran = 0;
    let mut interrupted = false;
    let started = std::time::Instant::now();
    let mut shown = started;
    let show_progress = s.opts.progress && !s.opts.json;
    for k in 0..steps {
        if take_interrupt() {
            interrupted = true;
            break;
        }
        // A progress line after half a second, refreshed a few times a second.
        if show_progress && k % 256 == 0 && k > 0 {
            let now = std::time::Instant::now();
            if now.duration_since(started).as_millis() > 500
                && now.duration_since(shown).as_millis() > 200
            {
                shown = now;
                let last = losses.last().copied().unwrap_or(f64::NAN);
                s.progress(Some(&format!(
                    "{oname}: step {k}/{steps} ({:.0}%), loss {}  (Ctrl-C stops and keeps the best)",
                    100.0 * k as f64 / steps as f64,
                    fmt_num(last)
                )));
            }
        }
        if record_points {
            flat.extend_from_slice(&x);
        }
        before.copy_from_slice(&x);
        let loss = {
            let mut closure = |xs: &[f64], g: &mut [f64]| -> f64 {
                for (off, r) in &locs {
                    tape.set_scalars_range(*off, &xs[r.clone()]);
                }
                tape.forward();
                let l = tape.output(0)[0];
                for (j, (_, r)) in locs.iter().enumerate() {
                    g[r.clone()].copy_from_slice(tape.output(1 + j));
                }
                nfcn += 1;
                ngrad += 1;
                if bad.is_none() {
                    if !l.is_finite() {
                        bad = Some((l, xs.to_vec(), None));
                    } else if let Some(j) = g.iter().position(|v| !v.is_finite()) {
                        bad = Some((l, xs.to_vec(), Some(j)));
                    }
                }
                if sign < 0.0 {
                    for v in g.iter_mut() {
                        *v = -*v;
                    }
                }
                sign * l
            };
            opt.step(&mut x, &mut closure)
        };
        let loss = sign * loss;
        if let Some((l, at, which)) = bad.take() {
            // Keep the last good parameters.
            x.copy_from_slice(&before);
            write_back(s, free, &ranges, &x);
            return Err(nonfinite(s, m, free, &ranges, k + 1, l, &at, which));
        }
        losses.push(loss);
        if best.is_nan() || (sign * loss) < (sign * best) {
            best = loss;
            best_step = k;
            best_x.copy_from_slice(&before);
        }
        if has_bounds {
            for (v, (lo, hi)) in x.iter_mut().zip(&bounds) {
                *v = v.clamp(*lo, *hi);
            }
        }
        ran = k + 1;
    }
    if show_progress && shown > started {
        s.progress(None);
    }
    if interrupted {
        x.copy_from_slice(&best_x);
    }
    // The loss at the result (not counted: the optimizer did not ask for it).
    for (off, r) in &locs {
        tape.set_scalars_range(*off, &x[r.clone()]);
    }
    tape.forward();
    let final_loss = tape.output(0)[0];
    if record_points {
        flat.extend_from_slice(&x);
    }
    losses.push(final_loss);
    if !interrupted && (best.is_nan() || sign * final_loss < sign * best) {
        best = final_loss;
        best_step = ran;
    }
    write_back(s, free, &ranges, &x);

    let full = optimizer_text(oname, &built.options);
    let explicit: Vec<(&str, OptValue)> = built
        .options
        .iter()
        .filter(|(k, _)| given.contains(k))
        .cloned()
        .collect();
    let title = optimizer_text(oname, &explicit);
    let mut text = format!(
        "{} with {title}: {ran} steps{}",
        if maximize { "maximize" } else { "minimize" },
        if interrupted {
            " (interrupted: kept the best parameters)"
        } else {
            ""
        },
        title = full
    );
    text.push_str(&format!(
        "\n  loss {} -> {} (best {} at step {best_step}), {nfcn} evaluations",
        fmt_num(losses[0]),
        fmt_num(final_loss),
        fmt_num(best)
    ));
    text.push_str(&format!("\n  {}", crate::plot::sparkline(&losses, 40)));
    for &i in free {
        text.push_str(&format!("\n  {} = {}", s.params[i].name, s.params[i].value));
    }
    s.say(&text);

    let path = s.opts.trace.then(|| {
        losses
            .iter()
            .zip(flat.chunks(n.max(1)))
            .map(|(&loss, p)| PathPoint {
                loss,
                values: free
                    .iter()
                    .zip(&ranges)
                    .map(|(&i, r)| {
                        let shape = s.params[i].value.shape.clone();
                        let data = p[r.clone()].to_vec();
                        (s.params[i].name.clone(), Tensor { shape, data })
                    })
                    .collect(),
            })
            .collect()
    });
    let rec = MinimizeRecord {
        line,
        optimizer: oname.to_string(),
        options: built
            .options
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        maximize,
        loss: final_loss,
        params: params_record(s),
        nfcn,
        ngrad,
        path,
        kind: MinimizerFields::Steps { steps: ran },
    };
    s.records.push(rec.to_json());
    s.last_path = Some(RunPath {
        title,
        names: RunPath::element_names(&s.params, free),
        losses,
        points: flat,
    });
    Ok(())
}

fn write_back(s: &mut Session, free: &[usize], ranges: &[std::ops::Range<usize>], x: &[f64]) {
    for (&i, r) in free.iter().zip(ranges) {
        s.params[i].value.data.copy_from_slice(&x[r.clone()]);
    }
}

#[allow(clippy::too_many_arguments)]
fn nonfinite(
    s: &Session,
    m: &MinimizeStmt,
    free: &[usize],
    ranges: &[std::ops::Range<usize>],
    step: usize,
    loss: f64,
    at: &[f64],
    which: Option<usize>,
) -> Diag {
    let what = match which {
        None => format!("the loss is {}", fmt_num(loss)),
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
                fmt_num(at[r.start])
            } else {
                crate::tensor::Tensor {
                    shape: s.params[i].value.shape.clone(),
                    data: at[r.clone()].to_vec(),
                }
                .to_string()
            };
            format!("{} = {v}", s.params[i].name)
        })
        .collect();
    Diag::error(
        "E0400",
        format!("minimization stopped at step {step}: {what}"),
    )
    .at(m.objective.span.clone(), "this objective")
    .note(format!("at {}", vals.join(", ")))
    .note("help: try a smaller learning rate, another starting point, or limits `in [lo, hi]`")
}
