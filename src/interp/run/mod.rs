//! `minimize` and `maximize`: builds the objective's graph and its symbolic
//! gradient once, compiles one tape, and drives a torch.optim optimizer step
//! by step, or hands the objective to Minuit (`fit.rs`). Maximizing negates the objective (torch's maximize
//! negates the gradient first thing; only LBFGS, which has no maximize, uses
//! the loss, so the two agree).

use super::report::{num_json, opt_json, optimizer_text, tensor_json};
use super::{take_interrupt, Lowerer, RunPath, Session};
use crate::diagnostics::{Diag, Span};
use crate::graph::{autodiff, Graph, NodeId, Tape};
use crate::optim::{self, OptArg, OptError, OptValue, ParamLayout};
use crate::syntax::ast::{Arg, Expr, ExprKind, MinimizeStmt, Stmt};
use crate::tensor::fmt_num;
use serde_json::{json, Map, Value};

pub(super) const MINUIT: &[&str] = &["migrad", "simplex", "scan"];
/// Free elements up to which a step-based run records its whole path.
const PATH_LIMIT: usize = 64;

/// Turns `name=value` arguments of `with OPT(...)` into option values.
fn option_args(s: &Session, args: &[Arg]) -> Result<Vec<OptArg>, Diag> {
    fn value(s: &Session, e: &Expr) -> Result<OptValue, Diag> {
        Ok(match &e.kind {
            ExprKind::Bool(b) => OptValue::Bool(*b),
            ExprKind::Str(t) => OptValue::Str(t.clone()),
            ExprKind::Tuple(items) => OptValue::Tuple(
                items
                    .iter()
                    .map(|i| value(s, i))
                    .collect::<Result<_, _>>()?,
            ),
            _ => OptValue::Num(s.const_scalar(e)?),
        })
    }
    args.iter()
        .map(|a| {
            let Some(name) = &a.name else {
                return Err(Diag::error("E0302", "optimizer options are named")
                    .at(a.span.clone(), "no option name")
                    .note("help: write e.g. `adam(lr=0.1)`"));
            };
            Ok(OptArg {
                name: name.name.clone(),
                value: value(s, &a.value)?,
                span: a.span.clone(),
            })
        })
        .collect()
}

pub(super) fn opt_diag(e: OptError, spec_span: &Span) -> Diag {
    let span = e.span().unwrap_or_else(|| spec_span.clone());
    match e {
        OptError::Unknown {
            optimizer,
            name,
            valid,
            ..
        } => {
            let mut d = Diag::error("E0301", format!("unknown option `{name}` for {optimizer}"))
                .at(span, "unknown option");
            if let Some(s) = super::names::suggest(&name, valid.iter().copied()) {
                d = d.note(format!("help: did you mean `{s}`?"));
            }
            d.note(format!("{optimizer} takes: {}", valid.join(", ")))
        }
        OptError::Duplicate { name, .. } => {
            Diag::error("E0301", format!("option `{name}` is given twice")).at(span, "again here")
        }
        OptError::Type {
            name,
            expected,
            got,
            ..
        } => Diag::error(
            "E0302",
            format!("option `{name}` expects {expected}, got {got}"),
        )
        .at(span, format!("this is {got}")),
        OptError::Range {
            name,
            value,
            allowed,
            ..
        } => Diag::error(
            "E0303",
            format!("invalid value {value} for option `{name}`"),
        )
        .at(span, "out of range")
        .note(format!("help: {allowed}")),
        OptError::Unsupported { message, hint } => Diag::error("E0300", message)
            .at(span, "here")
            .note(format!("help: {hint}")),
    }
}

/// The objective's graph, with the involved parameters.
pub(super) struct Objective {
    pub(super) g: Graph,
    pub(super) out: NodeId,
    /// Session indices of parameters the objective depends on (declaration order).
    pub(super) involved: Vec<usize>,
}

fn build_objective(s: &Session, m: &MinimizeStmt) -> Result<Objective, Diag> {
    let mut g = Graph::new();
    let out = Lowerer::new(s, &mut g).num(&m.objective)?;
    if !g.shape(out).is_empty() {
        return Err(Diag::error(
            "E0305",
            format!(
                "the objective must be a scalar, this one has shape {}",
                crate::tensor::shape_str(g.shape(out))
            ),
        )
        .at(m.objective.span.clone(), "not a scalar")
        .note("help: reduce it, e.g. with sum(...) or mean(...)"));
    }
    let tape = Tape::new(&g, &[out]);
    let mut involved: Vec<usize> = tape.param_slots().map(|(s, _)| s as usize).collect();
    involved.sort_unstable();
    if !involved.iter().any(|&i| !s.params[i].fixed) {
        let d = Diag::error("E0305", "the objective depends on no free parameter")
            .at(m.objective.span.clone(), "nothing to minimize here");
        return Err(if s.params.is_empty() {
            d.note("help: declare one with `param x = 0;`")
        } else {
            d.note("help: fixed parameters do not move; remove `fixed` or use another parameter")
        });
    }
    Ok(Objective { g, out, involved })
}

/// Runs `minimize`/`maximize`.
pub fn run(s: &mut Session, m: &MinimizeStmt, st: &Stmt, line: usize) -> Result<(), Diag> {
    for (name, e) in &m.from {
        let Some(i) = s.param_index(&name.name) else {
            return Err(super::names::unknown_name(
                &name.name,
                name.span.clone(),
                s,
                "parameter",
            ));
        };
        let v = s.eval(e)?;
        s.set_param_value(i, v, &e.span)?;
    }
    let (oname, oargs, ospan) = match &m.with {
        Some(w) => (w.name.name.as_str(), w.args.as_slice(), w.span.clone()),
        None => ("migrad", &[][..], st.span.clone()),
    };
    let args = option_args(s, oargs)?;
    let obj = build_objective(s, m)?;
    if MINUIT.contains(&oname) {
        if let Some(e) = &m.steps {
            return Err(Diag::error(
                "E0304",
                format!("`for ... steps` does not apply to {oname}"),
            )
            .at(e.span.clone(), "Minuit decides when it has converged")
            .note("help: limit its calls with `ncall=N` instead"));
        }
        return super::fit::run_minuit(s, m, oname, &args, &ospan, obj, line);
    }
    let steps = match &m.steps {
        None => 1000,
        Some(e) => {
            let v = s.const_scalar(e)?;
            if !(v >= 1.0 && v.fract() == 0.0 && v <= 1e9) {
                return Err(Diag::error(
                    "E0304",
                    "the number of steps must be a whole number >= 1",
                )
                .at(e.span.clone(), format!("this is {}", fmt_num(v))));
            }
            v as usize
        }
    };
    let free: Vec<usize> = obj
        .involved
        .iter()
        .copied()
        .filter(|&i| !s.params[i].fixed)
        .collect();
    let layout = ParamLayout {
        shapes: free
            .iter()
            .map(|&i| s.params[i].value.shape.clone())
            .collect(),
    };
    let built = match optim::build(oname, &args, &layout) {
        Some(r) => r.map_err(|e| opt_diag(e, &ospan))?,
        None => {
            let mut all: Vec<&str> = optim::NAMES.to_vec();
            all.extend(MINUIT);
            let name_span = m
                .with
                .as_ref()
                .map_or(ospan.clone(), |w| w.name.span.clone());
            let mut d = Diag::error("E0300", format!("unknown optimizer `{oname}`"))
                .at(name_span, "not an optimizer");
            if let Some(sug) = super::names::suggest(oname, all.iter().copied()) {
                d = d.note(format!("help: did you mean `{sug}`?"));
            }
            return Err(d.note(format!("the optimizers are: {}", all.join(", "))));
        }
    };
    let given: Vec<&str> = args.iter().map(|a| a.name.as_str()).collect();
    run_steps(s, m, oname, built, &given, &free, &layout, obj, steps, line)
}

#[allow(clippy::too_many_arguments)]
fn run_steps(
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

    let mut rec = Map::new();
    rec.insert("kind".into(), json!("minimize"));
    rec.insert("line".into(), json!(line));
    rec.insert("optimizer".into(), json!(oname));
    rec.insert(
        "options".into(),
        Value::Object(
            built
                .options
                .iter()
                .map(|(k, v)| (k.to_string(), opt_json(v)))
                .collect(),
        ),
    );
    rec.insert("maximize".into(), json!(maximize));
    rec.insert("loss".into(), num_json(final_loss));
    rec.insert("params".into(), params_json(s));
    rec.insert("nfcn".into(), json!(nfcn));
    rec.insert("ngrad".into(), json!(ngrad));
    rec.insert("steps".into(), json!(ran));
    if s.opts.trace {
        let names: Vec<String> = s.params.iter().map(|p| p.name.clone()).collect();
        let path: Vec<Value> = losses
            .iter()
            .zip(flat.chunks(n.max(1)))
            .map(|(l, p)| {
                let mut params = params_json_map(s);
                for (&i, r) in free.iter().zip(&ranges) {
                    let t = crate::tensor::Tensor {
                        shape: s.params[i].value.shape.clone(),
                        data: p[r.clone()].to_vec(),
                    };
                    params.insert(names[i].clone(), tensor_json(&t));
                }
                json!({"loss": num_json(*l), "params": Value::Object(params)})
            })
            .collect();
        rec.insert("path".into(), Value::Array(path));
    }
    s.records.push(Value::Object(rec));
    s.last_path = Some(RunPath {
        title,
        names: free.iter().map(|&i| s.params[i].name.clone()).collect(),
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

pub(super) fn params_json_map(s: &Session) -> Map<String, Value> {
    s.params
        .iter()
        .map(|p| (p.name.clone(), tensor_json(&p.value)))
        .collect()
}

pub(super) fn params_json(s: &Session) -> Value {
    Value::Object(params_json_map(s))
}
