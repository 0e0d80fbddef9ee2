//! Minuit in the interpreter: the objective's tapes as an `Fcn` (value,
//! exact gradient, exact Hessian, recording every evaluation), MIGRAD,
//! SIMPLEX and SCAN runs with their options and reports, and the `hesse`
//! and `minos` statements that continue from the last minimum.

use super::{opt_diag, params_record, Objective, MINUIT};
use crate::diagnostics::{Diag, Span};
use crate::graph::{autodiff, NodeId, Tape};
use crate::interp::report::{
    num_json, optimizer_text, ErrorsRecord, MinimizeRecord, MinimizerFields, MinuitFields,
    PathPoint,
};
use crate::interp::{Display, MinuitTables, RunPath, Session};
use crate::minuit::{self, report as mreport, Fcn, FunctionMinimum, MigradOptions, ParamSpec};
use crate::optim::{self, OptArg, OptValue};
use crate::syntax::ast::{Ident, MinimizeStmt, Stmt};
use crate::tensor::{fmt_num, Tensor};
use serde_json::{json, Map, Value};

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

fn initial_error(v: f64) -> f64 {
    if v == 0.0 {
        0.1
    } else {
        0.01 * v.abs()
    }
}

pub(super) fn run_minuit(
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
    let grads = crate::interp::lower::tensor::elements(&mut obj.g, &grads);
    let np = grads.len();
    let hess = if np <= 40 {
        let mut h = Vec::with_capacity(np * np);
        for &gi in &grads {
            let row = autodiff::grad(&mut obj.g, gi, &pnodes);
            h.extend(crate::interp::lower::tensor::elements(&mut obj.g, &row));
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
    let algorithm = algorithm_title(aname);
    push_block(&mut text, &mreport::fmin_block(&shown, &algorithm));
    let rows = param_rows(&specs, &min, &[]);
    push_block(&mut text, &mreport::param_table(&rows));
    if let Some(c) = &min.covariance {
        push_block(&mut text, &mreport::correlation_table(&free_names, c));
    }
    let tables = MinuitTables {
        fmin: Some((&shown, &algorithm)),
        params: &rows,
        minos: &[],
        covariance: min.covariance.as_ref().map(|c| (&free_names[..], c)),
    };
    say_report(s, &text, tables);

    let path = s.opts.trace.then(|| {
        fcn.path
            .iter()
            .map(|(loss, x)| PathPoint {
                loss: *loss,
                values: specs
                    .iter()
                    .enumerate()
                    .map(|(k, sp)| (sp.name.clone(), Tensor::scalar(x[k])))
                    .collect(),
            })
            .collect()
    });
    let rec = MinimizeRecord {
        line,
        optimizer: aname.to_string(),
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        maximize,
        loss: fval,
        params: params_record(s),
        nfcn: min.nfcn,
        ngrad: min.ngrad,
        path,
        kind: MinimizerFields::Minuit(MinuitFields {
            edm: min.edm,
            edm_goal: min.edm_goal,
            valid: min.valid,
            accurate: min.accurate,
            at_limit: min.at_limit,
            call_limit: min.call_limit,
            above_max_edm: min.above_max_edm,
            errors: errors_record(&specs, &min),
        }),
    };
    s.records.push(rec.to_json());
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
        ..Default::default()
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

/// Errors, covariance and free names at a minimum, for a record.
fn errors_record(specs: &[ParamSpec], min: &FunctionMinimum) -> ErrorsRecord {
    let free: Vec<usize> = (0..specs.len()).filter(|&k| !specs[k].fixed).collect();
    ErrorsRecord {
        errors: free
            .iter()
            .map(|&k| (specs[k].name.clone(), min.errors[k]))
            .collect(),
        covariance: min.covariance.as_ref().map(|c| {
            (0..c.nrows())
                .map(|i| (0..c.ncols()).map(|j| c[(i, j)]).collect())
                .collect()
        }),
        free: free.iter().map(|&k| specs[k].name.clone()).collect(),
    }
}

/// Prints a report's text, unless the display sink shows it with its tables.
fn say_report(s: &mut Session, text: &str, tables: MinuitTables<'_>) {
    let text = text.trim_end();
    if !s.show(Display::Minuit { text, tables }) {
        s.say(text);
    }
}

/// The rows of the parameter table.
fn param_rows(
    specs: &[ParamSpec],
    min: &FunctionMinimum,
    minos: &[(String, minuit::MinosError)],
) -> Vec<mreport::ParamRow> {
    specs
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
        .collect()
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
    let rows = param_rows(&run.specs, &run.min, &run.minos);
    push_block(&mut text, &mreport::param_table(&rows));
    if let Some(c) = &run.min.covariance {
        push_block(&mut text, &mreport::correlation_table(&free_names, c));
    }
    let covariance = run.min.covariance.clone();
    let mut rec = Map::new();
    rec.insert("kind".into(), json!("hesse"));
    rec.insert("line".into(), json!(line));
    rec.insert("nfcn".into(), json!(nfcn));
    rec.insert("ngrad".into(), json!(ngrad));
    errors_record(&run.specs, &run.min).insert_into(&mut rec);
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
    let tables = MinuitTables {
        fmin: None,
        params: &rows,
        minos: &[],
        covariance: covariance.as_ref().map(|c| (&free_names[..], c)),
    };
    say_report(s, &text, tables);
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
                if let Some(sg) = crate::interp::names::suggest(&n.name, known.iter().copied()) {
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
    let rows = param_rows(&run.specs, &run.min, &run.minos);
    push_block(&mut text, &mreport::param_table(&rows));
    let minos = run.minos.clone();
    let tables = MinuitTables {
        fmin: None,
        params: &rows,
        minos: &minos,
        covariance: None,
    };
    say_report(s, &text, tables);
    s.records.push(
        json!({"kind": "minos", "line": line, "nfcn": total, "errors": errors, "valid": valid}),
    );
    Ok(())
}
