//! `minimize`, `maximize`, `hesse` and `minos`: builds the objective's graph
//! and its symbolic gradient once, compiles one tape, and drives either a
//! torch.optim optimizer step by step or a Minuit algorithm through an `Fcn`
//! over the same tape. Maximizing negates the objective (torch's maximize
//! negates the gradient first thing; only LBFGS, which has no maximize, uses
//! the loss, so the two agree).

use super::report::{num_json, opt_json, optimizer_text, tensor_json};
use super::{take_interrupt, Lowerer, RunPath, Session};
use crate::diagnostics::{Diag, Span};
use crate::graph::{autodiff, Graph, NodeId, Tape};
use crate::minuit::{self, report as mreport, Fcn, FunctionMinimum, MigradOptions, ParamSpec};
use crate::optim::{self, OptArg, OptError, OptValue, ParamLayout};
use crate::syntax::ast::{Arg, Expr, ExprKind, Ident, MinimizeStmt, Stmt};
use crate::tensor::fmt_num;
use serde_json::{json, Map, Value};

const MINUIT: &[&str] = &["migrad", "simplex", "scan"];
/// Free elements up to which a step-based run records its whole path.
const PATH_LIMIT: usize = 64;
/// The most parameter elements a Minuit minimization takes.
const MINUIT_MAX_ELEMENTS: usize = 1000;

/// The last Minuit minimization, for `hesse` and `minos`.
pub struct MinuitRun {
    pub min: FunctionMinimum,
    pub specs: Vec<ParamSpec>,
    /// Session parameter index of each spec.
    pub index: Vec<usize>,
    pub fcn: GraphFcn,
    pub numeric: bool,
    pub minos: Vec<(String, minuit::MinosError)>,
    pub algorithm: &'static str,
}

/// The objective as Minuit sees it: value, exact gradient and exact Hessian
/// from tapes over one graph, recording every evaluation.
pub struct GraphFcn {
    f: Tape,
    fg: Tape,
    h: Option<Tape>,
    slots: Vec<usize>,
    fg_slots: Vec<usize>,
    h_slots: Vec<usize>,
    sign: f64,
    pub path: Vec<(f64, Vec<f64>)>,
}

/// Buffer offsets of parameter elements (slot, element) in a tape.
fn elem_offsets(t: &Tape, elems: &[(usize, usize)]) -> Vec<usize> {
    elems
        .iter()
        .map(|&(s, k)| t.param_offset(s as u32).map_or(usize::MAX, |o| o + k))
        .collect()
}

fn set(t: &mut Tape, offs: &[usize], x: &[f64]) {
    for (&o, &v) in offs.iter().zip(x) {
        if o != usize::MAX {
            t.set_scalars(&[o], &[v]);
        }
    }
}

impl Fcn for GraphFcn {
    fn value(&mut self, x: &[f64]) -> f64 {
        set(&mut self.f, &self.slots, x);
        self.f.forward();
        let v = self.f.output(0)[0];
        self.path.push((v, x.to_vec()));
        self.sign * v
    }
    fn has_gradient(&self) -> bool {
        true
    }
    fn gradient(&mut self, x: &[f64], g: &mut [f64]) {
        set(&mut self.fg, &self.fg_slots, x);
        self.fg.forward();
        for (i, gi) in g.iter_mut().enumerate() {
            *gi = self.sign * self.fg.output(1 + i)[0];
        }
    }
    fn hessian(&mut self, x: &[f64], h: &mut [f64]) -> bool {
        let Some(t) = self.h.as_mut() else {
            return false;
        };
        set(t, &self.h_slots, x);
        t.forward();
        for (i, hi) in h.iter_mut().enumerate() {
            *hi = self.sign * t.output(i)[0];
        }
        true
    }
}

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

fn opt_diag(e: OptError, spec_span: &Span) -> Diag {
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
struct Objective {
    g: Graph,
    out: NodeId,
    /// Session indices of parameters the objective depends on (declaration order).
    involved: Vec<usize>,
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
        return run_minuit(s, m, oname, &args, &ospan, obj, line);
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

fn params_json_map(s: &Session) -> Map<String, Value> {
    s.params
        .iter()
        .map(|p| (p.name.clone(), tensor_json(&p.value)))
        .collect()
}

fn params_json(s: &Session) -> Value {
    Value::Object(params_json_map(s))
}

fn initial_error(v: f64) -> f64 {
    if v == 0.0 {
        0.1
    } else {
        0.01 * v.abs()
    }
}

fn run_minuit(
    s: &mut Session,
    m: &MinimizeStmt,
    oname: &str,
    args: &[OptArg],
    ospan: &Span,
    mut obj: Objective,
    line: usize,
) -> Result<(), Diag> {
    // One Minuit parameter per element: `w[0]`, `w[1]`, ... for a tensor.
    let mut elems: Vec<(usize, usize)> = Vec::new();
    for &i in &obj.involved {
        let n = s.params[i].value.data.len();
        if n > MINUIT_MAX_ELEMENTS {
            return Err(Diag::error(
                "E0205",
                format!(
                    "Minuit handles at most {MINUIT_MAX_ELEMENTS} parameters, `{}` alone has {n}",
                    s.params[i].name
                ),
            )
            .at(s.params[i].span.clone(), format!("{n} elements"))
            .note("help: use a step-based optimizer such as adam for large tensor parameters"));
        }
        elems.extend((0..n).map(|k| (i, k)));
    }
    if elems.len() > MINUIT_MAX_ELEMENTS {
        return Err(Diag::error(
            "E0205",
            format!(
                "Minuit handles at most {MINUIT_MAX_ELEMENTS} parameters, this objective has {}",
                elems.len()
            ),
        )
        .at(m.objective.span.clone(), "too many parameter elements")
        .note("help: use a step-based optimizer such as adam for large tensor parameters"));
    }
    let specs: Vec<ParamSpec> = elems
        .iter()
        .map(|&(i, k)| {
            let p = &s.params[i];
            let v = p.value.data[k];
            ParamSpec {
                name: if p.value.is_scalar() {
                    p.name.clone()
                } else {
                    format!("{}[{k}]", p.name)
                },
                value: v,
                error: initial_error(v),
                lower: p.lower,
                upper: p.upper,
                fixed: p.fixed,
            }
        })
        .collect();
    let nfree = specs.iter().filter(|p| !p.fixed).count();
    let aname: &'static str = MINUIT
        .iter()
        .copied()
        .find(|n| *n == oname)
        .unwrap_or("migrad");
    let mut r = optim::OptReader::new(aname, args).map_err(|e| opt_diag(e, ospan))?;
    let rd = |e| opt_diag(e, ospan);
    let mut mo = MigradOptions::default();
    let mut scan_n = 0;
    match aname {
        "migrad" => {
            mo.tol = r.num("tol", 0.1).map_err(rd)?;
            r.check("tol", mo.tol >= 0.0, mo.tol, "tol must be >= 0")
                .map_err(rd)?;
            let st = r.int("strategy", 1).map_err(rd)?;
            r.check(
                "strategy",
                (0..=2).contains(&st),
                st,
                "strategy must be 0, 1 or 2",
            )
            .map_err(rd)?;
            mo.strategy = st as u32;
        }
        "simplex" => {
            mo.tol = r.num("tol", 0.1).map_err(rd)?;
            r.check("tol", mo.tol >= 0.0, mo.tol, "tol must be >= 0")
                .map_err(rd)?;
        }
        _ => {
            let n = r
                .int("n", minuit::scan::default_points(nfree) as i64)
                .map_err(rd)?;
            r.check("n", n >= 2, n, "n must be >= 2 points per parameter")
                .map_err(rd)?;
            scan_n = n as usize;
        }
    }
    mo.errordef = r.num("errordef", 1.0).map_err(rd)?;
    r.check(
        "errordef",
        mo.errordef > 0.0,
        mo.errordef,
        "errordef must be > 0",
    )
    .map_err(rd)?;
    if aname != "scan" {
        let nc = r
            .int("ncall", minuit::migrad::default_ncall(nfree) as i64)
            .map_err(rd)?;
        r.check("ncall", nc >= 1, nc, "ncall must be >= 1")
            .map_err(rd)?;
        mo.ncall = Some(nc as usize);
    }
    if aname == "migrad" {
        let g = r
            .choice("grad", Some("autograd"), &["autograd", "numeric"])
            .map_err(rd)?;
        mo.numeric_grad = g.as_deref() == Some("numeric");
    }
    let options = r.finish().map_err(rd)?;
    let maximize = m.maximize;
    let sign = if maximize { -1.0 } else { 1.0 };

    // Gradient and Hessian nodes over every involved parameter.
    let pnodes: Vec<NodeId> = obj
        .involved
        .iter()
        .map(|&i| obj.g.param(i as u32, s.params[i].value.shape.clone()))
        .collect();
    let grads = autodiff::grad(&mut obj.g, obj.out, &pnodes);
    let grads = super::tensor_ops::elements(&mut obj.g, &grads);
    let np = grads.len();
    let hess = if np <= 40 {
        let mut h = Vec::with_capacity(np * np);
        for &gi in &grads {
            let row = autodiff::grad(&mut obj.g, gi, &pnodes);
            h.extend(super::tensor_ops::elements(&mut obj.g, &row));
        }
        Some(h)
    } else {
        None
    };
    let mut f = Tape::new(&obj.g, &[obj.out]);
    let mut fg_outs = vec![obj.out];
    fg_outs.extend(&grads);
    let mut fg = Tape::new(&obj.g, &fg_outs);
    let mut h = hess.map(|h| Tape::new(&obj.g, &h));
    for (i, p) in s.params.iter().enumerate() {
        f.set_param(i as u32, &p.value.data);
        fg.set_param(i as u32, &p.value.data);
        if let Some(h) = h.as_mut() {
            h.set_param(i as u32, &p.value.data);
        }
    }
    let mut fcn = GraphFcn {
        slots: elem_offsets(&f, &elems),
        fg_slots: elem_offsets(&fg, &elems),
        h_slots: h
            .as_ref()
            .map(|t| elem_offsets(t, &elems))
            .unwrap_or_default(),
        f,
        fg,
        h,
        sign,
        path: Vec::new(),
    };
    let min = match aname {
        "migrad" => minuit::migrad(&mut fcn, &specs, &mo),
        "simplex" => minuit::simplex::simplex(&mut fcn, &specs, mo.tol, mo.ncall, mo.errordef),
        _ => minuit::scan::scan(&mut fcn, &specs, scan_n, mo.errordef).map_err(|e| {
            Diag::error("E0305", format!("scan: {e}"))
                .at(m.objective.span.clone(), "cannot scan this objective")
                .note("help: scan needs limits `in [lo, hi]` on every free parameter")
        })?,
    };
    if !min.fval.is_finite() || min.values.iter().any(|v| !v.is_finite()) {
        let at: Vec<String> = specs
            .iter()
            .zip(&min.values)
            .map(|(p, v)| format!("{} = {}", p.name, fmt_num(*v)))
            .collect();
        return Err(Diag::error(
            "E0400",
            format!(
                "{aname} stopped: the objective is {} at its last point",
                fmt_num(sign * min.fval)
            ),
        )
        .at(m.objective.span.clone(), "this objective")
        .note(format!("at {}", at.join(", ")))
        .note(
            "help: start from a point where the objective is finite, or add limits `in [lo, hi]`",
        ));
    }
    // Values back into the session.
    for (k, &(i, e)) in elems.iter().enumerate() {
        s.params[i].value.data[e] = min.values[k];
        if s.params[i].value.is_scalar() {
            s.params[i].error = (!specs[k].fixed).then_some(min.errors[k]);
        }
    }
    let numeric = mo.numeric_grad;
    let free_names: Vec<String> = specs
        .iter()
        .filter(|p| !p.fixed)
        .map(|p| p.name.clone())
        .collect();
    let fval = sign * min.fval;
    let explicit: Vec<(&str, OptValue)> = options
        .iter()
        .filter(|(k, _)| args.iter().any(|a| a.name == *k))
        .cloned()
        .collect();
    let title = optimizer_text(aname, &explicit);
    let mut text = format!(
        "{} with {}\n",
        if maximize { "maximize" } else { "minimize" },
        optimizer_text(aname, &options)
    );
    let mut shown = min.clone();
    shown.fval = fval;
    push_block(
        &mut text,
        &mreport::fmin_block(&shown, &algorithm_title(aname)),
    );
    push_block(&mut text, &param_rows_text(&specs, &min, &[]));
    if let Some(c) = &min.covariance {
        push_block(&mut text, &mreport::correlation_table(&free_names, c));
    }
    s.say(text.trim_end());

    let mut rec = Map::new();
    rec.insert("kind".into(), json!("minimize"));
    rec.insert("line".into(), json!(line));
    rec.insert("optimizer".into(), json!(aname));
    rec.insert(
        "options".into(),
        Value::Object(
            options
                .iter()
                .map(|(k, v)| (k.to_string(), opt_json(v)))
                .collect(),
        ),
    );
    rec.insert("maximize".into(), json!(maximize));
    rec.insert("loss".into(), num_json(fval));
    rec.insert("params".into(), params_json(s));
    rec.insert("nfcn".into(), json!(min.nfcn));
    rec.insert("ngrad".into(), json!(min.ngrad));
    rec.insert("edm".into(), num_json(min.edm));
    rec.insert("edm_goal".into(), num_json(min.edm_goal));
    for (k, v) in [
        ("valid", min.valid),
        ("accurate", min.accurate),
        ("at_limit", min.at_limit),
        ("call_limit", min.call_limit),
        ("above_max_edm", min.above_max_edm),
    ] {
        rec.insert(k.into(), json!(v));
    }
    insert_errors(&mut rec, &specs, &min);
    if s.opts.trace {
        let path: Vec<Value> = fcn
            .path
            .iter()
            .map(|(l, x)| {
                let mut params = params_json_map(s);
                for (k, sp) in specs.iter().enumerate() {
                    params.insert(sp.name.clone(), num_json(x[k]));
                }
                json!({"loss": num_json(*l), "params": Value::Object(params)})
            })
            .collect();
        rec.insert("path".into(), Value::Array(path));
    }
    s.records.push(Value::Object(rec));
    let fnames: Vec<usize> = (0..specs.len()).filter(|&k| !specs[k].fixed).collect();
    s.last_path = Some(RunPath {
        title,
        names: fnames.iter().map(|&k| specs[k].name.clone()).collect(),
        losses: fcn.path.iter().map(|p| p.0).collect(),
        points: fcn
            .path
            .iter()
            .flat_map(|p| fnames.iter().map(|&k| p.1[k]))
            .collect(),
    });
    fcn.path.clear();
    s.last_minuit = Some(MinuitRun {
        min,
        specs,
        index: elems.iter().map(|&(i, _)| i).collect(),
        fcn,
        numeric,
        minos: Vec::new(),
        algorithm: aname,
    });
    Ok(())
}

/// Appends a report box on its own lines.
fn push_block(text: &mut String, block: &str) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(block.trim_end());
    text.push('\n');
}

fn algorithm_title(a: &str) -> String {
    match a {
        "migrad" => "Migrad".into(),
        "simplex" => "Simplex".into(),
        _ => "Scan".into(),
    }
}

fn insert_errors(rec: &mut Map<String, Value>, specs: &[ParamSpec], min: &FunctionMinimum) {
    let free: Vec<usize> = (0..specs.len()).filter(|&k| !specs[k].fixed).collect();
    rec.insert(
        "errors".into(),
        Value::Object(
            free.iter()
                .map(|&k| (specs[k].name.clone(), num_json(min.errors[k])))
                .collect(),
        ),
    );
    rec.insert(
        "covariance".into(),
        match &min.covariance {
            Some(c) => Value::Array(
                (0..c.nrows())
                    .map(|i| Value::Array((0..c.ncols()).map(|j| num_json(c[(i, j)])).collect()))
                    .collect(),
            ),
            None => Value::Null,
        },
    );
    rec.insert(
        "free".into(),
        Value::Array(free.iter().map(|&k| json!(specs[k].name)).collect()),
    );
}

fn param_rows_text(
    specs: &[ParamSpec],
    min: &FunctionMinimum,
    minos: &[(String, minuit::MinosError)],
) -> String {
    let rows: Vec<mreport::ParamRow> = specs
        .iter()
        .enumerate()
        .map(|(k, p)| mreport::ParamRow {
            name: p.name.clone(),
            value: min.values[k],
            error: Some(if p.fixed { p.error } else { min.errors[k] }),
            minos: minos
                .iter()
                .find(|(n, _)| *n == p.name)
                .map(|(_, e)| (e.lower, e.upper)),
            lower: p.lower,
            upper: p.upper,
            fixed: p.fixed,
        })
        .collect();
    mreport::param_table(&rows)
}

fn no_minimum(span: &Span, what: &str) -> Diag {
    Diag::error("E0403", format!("{what} needs a Minuit minimum"))
        .at(span.clone(), "no Minuit minimization ran before this")
        .note("help: run `minimize ... with migrad;` first")
}

/// `hesse;`
pub fn hesse(s: &mut Session, st: &Stmt, line: usize) -> Result<(), Diag> {
    let Some(run) = s.last_minuit.as_mut() else {
        return Err(no_minimum(&st.span, "hesse"));
    };
    let (min, nfcn, ngrad) = minuit::hesse(&mut run.fcn, &run.specs, &run.min, run.numeric);
    run.fcn.path.clear();
    run.min = min;
    let run = s.last_minuit.as_ref().expect("set above");
    let free_names: Vec<String> = run
        .specs
        .iter()
        .filter(|p| !p.fixed)
        .map(|p| p.name.clone())
        .collect();
    let mut text = String::from("hesse\n");
    push_block(
        &mut text,
        &param_rows_text(&run.specs, &run.min, &run.minos),
    );
    if let Some(c) = &run.min.covariance {
        push_block(&mut text, &mreport::correlation_table(&free_names, c));
    }
    let mut rec = Map::new();
    rec.insert("kind".into(), json!("hesse"));
    rec.insert("line".into(), json!(line));
    rec.insert("nfcn".into(), json!(nfcn));
    rec.insert("ngrad".into(), json!(ngrad));
    insert_errors(&mut rec, &run.specs, &run.min);
    rec.insert(
        "valid".into(),
        json!(run.min.valid && run.min.covariance.is_some()),
    );
    let updates: Vec<(usize, f64)> = run
        .index
        .iter()
        .enumerate()
        .filter(|(k, _)| !run.specs[*k].fixed)
        .map(|(k, &i)| (i, run.min.errors[k]))
        .collect();
    for (i, e) in updates {
        if s.params[i].value.is_scalar() {
            s.params[i].error = Some(e);
        }
    }
    s.say(text.trim_end());
    s.records.push(Value::Object(rec));
    Ok(())
}

/// `minos [names];`
pub fn minos(s: &mut Session, names: &[Ident], st: &Stmt, line: usize) -> Result<(), Diag> {
    let Some(run) = s.last_minuit.as_ref() else {
        return Err(no_minimum(&st.span, "minos"));
    };
    let mut targets = Vec::new();
    if names.is_empty() {
        targets.extend((0..run.specs.len()).filter(|&k| !run.specs[k].fixed));
    }
    for n in names {
        match run.specs.iter().position(|p| p.name == n.name) {
            Some(k) if run.specs[k].fixed => {
                return Err(Diag::error("E0403", format!("`{}` is fixed", n.name))
                    .at(n.span.clone(), "MINOS needs a free parameter"))
            }
            Some(k) => targets.push(k),
            None => {
                let known: Vec<&str> = run.specs.iter().map(|p| p.name.as_str()).collect();
                let mut d = Diag::error(
                    "E0403",
                    format!("`{}` is not a parameter of the last fit", n.name),
                )
                .at(n.span.clone(), "unknown here");
                if let Some(sg) = super::names::suggest(&n.name, known.iter().copied()) {
                    d = d.note(format!("help: did you mean `{sg}`?"));
                }
                return Err(d.note(format!("the fit's parameters: {}", known.join(", "))));
            }
        }
    }
    let run = s.last_minuit.as_mut().expect("checked above");
    let mut total = 0;
    let mut errors = Map::new();
    let mut valid = Map::new();
    for k in targets {
        let e = minuit::minos(&mut run.fcn, &run.specs, &run.min, k, run.numeric);
        run.fcn.path.clear();
        total += e.nfcn;
        errors.insert(
            run.specs[k].name.clone(),
            json!([num_json(e.lower), num_json(e.upper)]),
        );
        valid.insert(run.specs[k].name.clone(), json!(e.is_valid()));
        run.minos.retain(|(n, _)| *n != run.specs[k].name);
        run.minos.push((run.specs[k].name.clone(), e));
    }
    let mut text = String::from("minos\n");
    push_block(&mut text, &mreport::minos_table(&run.minos));
    push_block(
        &mut text,
        &param_rows_text(&run.specs, &run.min, &run.minos),
    );
    s.say(text.trim_end());
    s.records.push(
        json!({"kind": "minos", "line": line, "nfcn": total, "errors": errors, "valid": valid}),
    );
    Ok(())
}
