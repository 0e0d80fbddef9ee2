//! Minuit in the interpreter: the objective's tapes as an `Fcn` (value,
//! exact gradient, exact Hessian), the opt-in record of its calls, and the
//! MIGRAD, SIMPLEX and SCAN runs with their options and reports. The
//! statements that continue from the minimum (`hesse`, `minos`, `contour`,
//! `profile`) are in `uncertainty.rs`.

use super::stopped::{minuit_stopped, MinuitStop, StoppedFit};
use super::tape_cache::{Lease, Purpose, TapeCache};
use super::{opt_diag, params_record, Objective, RunError};
use crate::diagnostics::{Diag, Span};
use crate::graph::{autodiff, Graph, NodeId, Tape};
use crate::interp::report::{
    path_point_cost, write_optimizer_text, ErrorsRecord, MinimizeRecord, MinimizerFields,
    MinuitFields, PathPoint,
};
use crate::interp::{Display, RunPath, Session};
use crate::minuit::options::Algorithm;
use crate::minuit::{self, report as mreport, Fcn, FunctionMinimum, MigradOptions, ParamSpec};
use crate::optim::{self, OptArg, OptValue};
use crate::syntax::ast::MinimizeStmt;
use crate::tensor::Tensor;
use serde_json::json;

/// The most parameter elements a Minuit minimization takes.
const MINUIT_MAX_ELEMENTS: usize = 1000;

/// The last Minuit minimization, for `hesse`, `minos`, `contour` and
/// `profile`.
pub struct MinuitRun {
    pub min: FunctionMinimum,
    pub specs: Vec<ParamSpec>,
    /// Session parameter index of each spec.
    pub index: Vec<usize>,
    pub fcn: GraphFcn,
    pub numeric: bool,
    pub minos: Vec<(String, minuit::MinosError)>,
    pub algorithm: &'static Algorithm,
    /// +1 minimizing, -1 maximizing (Minuit minimized `sign * objective`).
    pub sign: f64,
    /// Every value and gradient call of this fit so far (MIGRAD's, then
    /// HESSE's, MINOS's, ...), as iminuit's `fmin.nfcn` and `fmin.ngrad`.
    pub nfcn_total: usize,
    pub ngrad_total: usize,
}

impl MinuitRun {
    /// iminuit's `print(m)` at this point: the minimum with the running
    /// call counts, the parameters, MINOS's errors and the covariance.
    ///
    /// The box needs the minimum's numbers and flags only, so neither its
    /// covariance nor the internal state (two n x n matrices: 16 MB for a
    /// 1000-parameter fit) is copied: the covariance table is made once,
    /// straight from the minimum's matrix.
    pub fn report(&self) -> mreport::FitReport {
        let m = &self.min;
        let shown = FunctionMinimum {
            fval: m.fval * self.sign,
            nfcn: self.nfcn_total,
            ngrad: self.ngrad_total,
            values: m.values.clone(),
            errors: m.errors.clone(),
            covariance: None,
            internal: Default::default(),
            ..*m
        };
        let mut r = mreport::FitReport::new(self.algorithm.title, &self.specs, shown, &self.minos);
        r.covariance = m.covariance.as_ref().map(|c| mreport::Covariance {
            names: self.specs.iter().map(|p| p.name.clone()).collect(),
            matrix: mreport::full_covariance(&self.specs, c),
        });
        r
    }
}

/// The most numbers a call record keeps (16 MB): a fit with more calls
/// keeps the first ones and says it dropped the rest.
const RECORD_NUMBERS: usize = 2_000_000;
/// Parameters of every call are kept without `--trace` only for this few
/// parameters (the plots draw paths of two); their losses always.
const RECORD_POINTS_UP_TO: usize = 64;

/// The calls of a fit, as `--trace` and `plot ... with path` show them: an
/// observer the Fcn feeds, bounded by `RECORD_NUMBERS`.
#[derive(Debug, Default)]
pub struct CallRecord {
    /// Values per point (every parameter element); 0 records losses only.
    width: usize,
    /// The most calls kept.
    limit: usize,
    pub losses: Vec<f64>,
    /// Flat: call k is `points[k * width..(k + 1) * width]`.
    pub points: Vec<f64>,
    /// Calls not kept.
    pub dropped: usize,
}

impl CallRecord {
    /// A record of calls over `n` parameter elements; points are kept when
    /// `with_points`.
    pub fn new(n: usize, with_points: bool) -> CallRecord {
        let width = if with_points { n } else { 0 };
        // room for a small fit's calls (MIGRAD + HESSE on 2 parameters
        // make about 30), so the record does not grow call by call
        let calls = if n <= 16 { 64 } else { 0 };
        CallRecord {
            width,
            limit: RECORD_NUMBERS / (width + 1),
            losses: Vec::with_capacity(calls),
            points: Vec::with_capacity(calls * width),
            ..Default::default()
        }
    }

    fn push(&mut self, loss: f64, x: &[f64]) {
        if self.losses.len() >= self.limit {
            self.dropped += 1;
            return;
        }
        self.losses.push(loss);
        if self.width > 0 {
            self.points.extend_from_slice(&x[..self.width]);
        }
    }

    /// Forgets the calls (HESSE and MINOS are not part of the path).
    pub fn clear(&mut self) {
        self.losses.clear();
        self.points.clear();
        self.dropped = 0;
    }

    /// The recorded calls, each with its parameters (empty when points are
    /// not kept).
    pub fn calls(&self) -> impl Iterator<Item = (f64, &[f64])> {
        let w = self.width;
        self.losses.iter().enumerate().map(move |(k, &l)| {
            (
                l,
                if w > 0 {
                    &self.points[k * w..(k + 1) * w]
                } else {
                    &[][..]
                },
            )
        })
    }
}

/// The objective as Minuit sees it: value, exact gradient and exact Hessian
/// from tapes over one graph; value calls feed `record`.
///
/// Ctrl-C: every value call polls the interrupt flag. Once it is taken the
/// Fcn stops evaluating and answers NaN at once (no gradient, no Hessian),
/// which ends MIGRAD, SIMPLEX, SCAN, HESSE and MINOS within their call
/// limits in no time; the statement then reports `interrupted()` and the
/// best finite point seen (`best`) instead of the algorithm's result.
pub struct GraphFcn {
    f: Tape,
    fg: Tape,
    h: Option<Tape>,
    slots: Vec<usize>,
    fg_slots: Vec<usize>,
    h_slots: Vec<usize>,
    sign: f64,
    pub record: CallRecord,
    /// Value and gradient calls since `arm`, and the value calls when
    /// Ctrl-C was taken.
    calls: usize,
    grads: usize,
    stopped_at: Option<usize>,
    /// The lowest `sign * value` seen since `arm`, and where.
    best: Option<(f64, Vec<f64>)>,
    /// The tape cache's entry that lent the tapes, if it keeps them.
    lease: Option<Lease>,
}

impl GraphFcn {
    /// Starts a statement: forgets an earlier interrupt and best point.
    pub fn arm(&mut self) {
        self.calls = 0;
        self.grads = 0;
        self.stopped_at = None;
        self.best = None;
    }

    /// The value and gradient calls that ran since `arm`.
    pub fn counts(&self) -> (usize, usize) {
        (self.calls, self.grads)
    }

    /// The value calls made before Ctrl-C stopped this statement, if it did.
    pub fn interrupted(&self) -> Option<usize> {
        self.stopped_at
    }

    /// Hands the tapes back to the cache that lent them (a finished fit
    /// replaced by the next one).
    pub fn give_back(self, cache: &mut TapeCache) {
        if let Some(lease) = self.lease {
            cache.give_back(lease, vec![Some(self.f), Some(self.fg), self.h]);
        }
    }

    /// The best finite point seen since `arm` (external coordinates) with
    /// its objective value (not negated for a maximization).
    pub fn best(&self) -> Option<(f64, &[f64])> {
        self.best
            .as_ref()
            .map(|(v, x)| (self.sign * v, x.as_slice()))
    }
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
        if self.stopped_at.is_some() {
            return f64::NAN;
        }
        if crate::interp::take_interrupt() {
            self.stopped_at = Some(self.calls);
            return f64::NAN;
        }
        self.calls += 1;
        set(&mut self.f, &self.slots, x);
        self.f.forward();
        let v = self.f.output(0)[0];
        self.record.push(v, x);
        let fv = self.sign * v;
        if fv.is_finite() && self.best.as_ref().is_none_or(|(b, _)| fv < *b) {
            match &mut self.best {
                Some((b, bx)) => {
                    *b = fv;
                    bx.copy_from_slice(x);
                }
                None => self.best = Some((fv, x.to_vec())),
            }
        }
        fv
    }
    fn has_gradient(&self) -> bool {
        true
    }
    fn gradient(&mut self, x: &[f64], g: &mut [f64]) {
        if self.stopped_at.is_some() {
            g.fill(f64::NAN);
            return;
        }
        self.grads += 1;
        set(&mut self.fg, &self.fg_slots, x);
        self.fg.forward();
        for (i, gi) in g.iter_mut().enumerate() {
            *gi = self.sign * self.fg.output(1 + i)[0];
        }
    }
    fn hessian(&mut self, x: &[f64], h: &mut [f64]) -> bool {
        let Some(t) = self.h.as_mut().filter(|_| self.stopped_at.is_none()) else {
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

/// iminuit's initial step when none is given.
fn initial_error(v: f64) -> f64 {
    if v == 0.0 {
        0.1
    } else {
        0.01 * v.abs()
    }
}

/// Runs MIGRAD, SIMPLEX or SCAN on the objective: plan (one Minuit
/// parameter per element, the options), run, then report and keep the fit
/// for the statements after it.
pub(super) fn run_minuit(
    s: &mut Session,
    m: &MinimizeStmt,
    alg: &'static Algorithm,
    args: &[OptArg],
    ospan: &Span,
    mut obj: Objective,
    line: usize,
) -> Result<(), Diag> {
    let elems = elements(s, m, &obj.involved)?;
    let specs = param_specs(s, &elems);
    let nfree = specs.iter().filter(|p| !p.fixed).count();
    let opts = read_options(alg.name, args, ospan, nfree)?;
    debug_assert!(opts
        .resolved
        .iter()
        .map(|o| o.0)
        .eq(alg.options.iter().copied()));
    let sign = if m.maximize { -1.0 } else { 1.0 };
    let mut fcn = make_fcn(s, m, &mut obj, &elems, sign)?;
    let min = minimize(alg, &mut fcn, &specs, &opts, &m.objective.span)?;
    // Ctrl-C, or a non-finite end: the best point seen, and a report of what ran.
    let nonfinite = !min.fval.is_finite() || min.values.iter().any(|v| !v.is_finite());
    let stop = match fcn.interrupted() {
        Some(n) => Some(MinuitStop::Interrupted(n)),
        None => nonfinite.then_some(MinuitStop::NonFinite(sign * min.fval)),
    };
    if let Some(stop) = stop {
        let (nfcn, ngrad) = fcn.counts();
        let f = StoppedFit {
            m,
            aname: alg.name,
            options: &opts.resolved,
            specs: &specs,
            elems: &elems,
            nfcn,
            ngrad,
            line,
        };
        return minuit_stopped(s, f, &fcn, stop);
    }
    store(s, &elems, &specs, &min);
    let run = MinuitRun {
        nfcn_total: min.nfcn,
        ngrad_total: min.ngrad,
        min,
        specs,
        index: elems.iter().map(|&(i, _)| i).collect(),
        fcn,
        numeric: opts.mo.numeric_grad,
        minos: Vec::new(),
        algorithm: alg,
        sign,
    };
    finish(s, m, args, &opts.resolved, run, line);
    Ok(())
}

/// Runs the algorithm `alg` (migrad, simplex or scan) on `fcn`; a scan
/// refused is an error at the objective (`span`).
fn minimize(
    alg: &Algorithm,
    fcn: &mut GraphFcn,
    specs: &[ParamSpec],
    opts: &AlgOptions,
    span: &Span,
) -> Result<FunctionMinimum, RunError> {
    let mo = &opts.mo;
    Ok(match alg.name {
        "migrad" => minuit::migrad(fcn, specs, mo),
        "simplex" => minuit::simplex::simplex(fcn, specs, mo.tol, mo.ncall, mo.errordef),
        _ => minuit::scan::scan(fcn, specs, opts.scan_n, mo.errordef).map_err(|error| {
            RunError::Scan {
                error,
                span: span.clone(),
            }
        })?,
    })
}

/// The minimum's values back into the session's parameters (`elems` says
/// where each goes), with the error of each free scalar parameter.
fn store(s: &mut Session, elems: &[(usize, usize)], specs: &[ParamSpec], min: &FunctionMinimum) {
    for (k, &(i, e)) in elems.iter().enumerate() {
        s.params[i].value.data[e] = min.values[k];
        if s.params[i].value.is_scalar() {
            s.params[i].error = (!specs[k].fixed).then_some(min.errors[k]);
        }
    }
}

/// (session parameter, element) of each Minuit parameter: one per element,
/// `w[0]`, `w[1]`, ... for a tensor, at most `MINUIT_MAX_ELEMENTS`.
fn elements(
    s: &Session,
    m: &MinimizeStmt,
    involved: &[usize],
) -> Result<Vec<(usize, usize)>, RunError> {
    let mut elems: Vec<(usize, usize)> = Vec::new();
    for &i in involved {
        let n = s.params[i].value.data.len();
        if n > MINUIT_MAX_ELEMENTS {
            return Err(RunError::MinuitParamTooLarge {
                name: s.params[i].name.clone(),
                n,
                max: MINUIT_MAX_ELEMENTS,
                span: s.params[i].span.clone(),
            });
        }
        elems.extend((0..n).map(|k| (i, k)));
    }
    if elems.len() > MINUIT_MAX_ELEMENTS {
        return Err(RunError::MinuitTooMany {
            n: elems.len(),
            max: MINUIT_MAX_ELEMENTS,
            span: m.objective.span.clone(),
        });
    }
    Ok(elems)
}

/// Minuit's view of each element: name, start, step, limits, fixed.
fn param_specs(s: &Session, elems: &[(usize, usize)]) -> Vec<ParamSpec> {
    elems
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
                error: p.step.unwrap_or_else(|| initial_error(v)),
                lower: p.lower,
                upper: p.upper,
                fixed: p.fixed,
            }
        })
        .collect()
}

/// The options of a Minuit algorithm, read and checked.
struct AlgOptions {
    mo: MigradOptions,
    /// SCAN's points per parameter.
    scan_n: usize,
    /// Every option with its value (given or default), in the algorithm's order.
    resolved: Vec<(&'static str, OptValue)>,
}

/// Reads `aname`'s options with iminuit's defaults (`nfree` free
/// parameters set the default `ncall` and SCAN's points).
fn read_options(
    aname: &'static str,
    args: &[OptArg],
    ospan: &Span,
    nfree: usize,
) -> Result<AlgOptions, Diag> {
    let mut r = optim::OptReader::new(aname, args).map_err(|e| opt_diag(e, ospan))?;
    let rd = |e| opt_diag(e, ospan);
    let mut mo = MigradOptions::default();
    let mut scan_n = 0;
    if aname == "scan" {
        let n = r
            .int("n", minuit::scan::default_points(nfree) as i64)
            .map_err(rd)?;
        r.check("n", n >= 2, n, "n must be >= 2 points per parameter")
            .map_err(rd)?;
        scan_n = n as usize;
    } else {
        mo.tol = r.num("tol", 0.1).map_err(rd)?;
        r.check("tol", mo.tol >= 0.0, mo.tol, "tol must be >= 0")
            .map_err(rd)?;
    }
    if aname == "migrad" {
        let st = r.int("strategy", 1).map_err(rd)?;
        let ok = (0..=2).contains(&st);
        r.check("strategy", ok, st, "strategy must be 0, 1 or 2")
            .map_err(rd)?;
        mo.strategy = st as u32;
    }
    mo.errordef = r.num("errordef", 1.0).map_err(rd)?;
    let ok = mo.errordef > 0.0;
    r.check("errordef", ok, mo.errordef, "errordef must be > 0")
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
    let resolved = r.finish().map_err(rd)?;
    Ok(AlgOptions {
        mo,
        scan_n,
        resolved,
    })
}

/// The objective's value, gradient and Hessian tapes (kept for the same
/// objective) as an Fcn over the elements, at the parameters' values.
fn make_fcn(
    s: &mut Session,
    m: &MinimizeStmt,
    obj: &mut Objective,
    elems: &[(usize, usize)],
    sign: f64,
) -> Result<GraphFcn, Diag> {
    let involved = obj.involved.clone();
    let shapes: Vec<_> = involved
        .iter()
        .map(|&i| s.params[i].value.shape.clone())
        .collect();
    let out = obj.out;
    let (tapes, lease) = s
        .tapes
        .lend(Purpose::Minuit, &mut obj.g, out, &involved, |g| {
            minuit_tapes(g, out, &involved, &shapes)
        })
        .map_err(|r| r.diag(m.objective.span.clone(), "this objective"))?;
    let mut tapes = tapes.into_iter();
    let (Some(Some(mut f)), Some(Some(mut fg)), Some(mut h)) =
        (tapes.next(), tapes.next(), tapes.next())
    else {
        unreachable!("minuit_tapes makes three tapes");
    };
    for (i, p) in s.params.iter().enumerate() {
        f.set_param(i as u32, &p.value.data);
        fg.set_param(i as u32, &p.value.data);
        if let Some(h) = h.as_mut() {
            h.set_param(i as u32, &p.value.data);
        }
    }
    Ok(GraphFcn {
        slots: elem_offsets(&f, elems),
        fg_slots: elem_offsets(&fg, elems),
        h_slots: h
            .as_ref()
            .map(|t| elem_offsets(t, elems))
            .unwrap_or_default(),
        f,
        fg,
        h,
        sign,
        record: CallRecord::new(
            elems.len(),
            s.opts.trace || elems.len() <= RECORD_POINTS_UP_TO,
        ),
        calls: 0,
        grads: 0,
        stopped_at: None,
        best: None,
        lease,
    })
}

/// A finished fit: its report, its record, its path (for `plot ... with
/// path`), and the fit itself kept for `hesse`, `minos`, ...
fn finish(
    s: &mut Session,
    m: &MinimizeStmt,
    args: &[OptArg],
    options: &[(&'static str, OptValue)],
    mut run: MinuitRun,
    line: usize,
) {
    let aname = run.algorithm.name;
    if !s.opts.json {
        // the head line and the report in one string, sized for a small fit
        let mut text = String::with_capacity(8192);
        text.push_str(if m.maximize { "maximize" } else { "minimize" });
        text.push_str(" with ");
        write_optimizer_text(&mut text, aname, options.iter().map(|(k, v)| (*k, v)));
        text.push('\n');
        // the report of a large fit is big: only built when shown, and dropped once shown
        let report = run.report();
        say_report(s, text, Some(&report));
    }
    let json = fit_record(s, m, options, &run, line);
    s.records.push(json);
    let mut title = String::with_capacity(32);
    let explicit = options
        .iter()
        .filter(|(k, _)| args.iter().any(|a| a.name == *k))
        .map(|(k, v)| (*k, v));
    write_optimizer_text(&mut title, aname, explicit);
    let (specs, record) = (&run.specs, &mut run.fcn.record);
    let fnames: Vec<usize> = (0..specs.len()).filter(|&k| !specs[k].fixed).collect();
    let mut points = Vec::with_capacity(record.points.len());
    for (_, x) in record.calls().filter(|(_, x)| !x.is_empty()) {
        points.extend(fnames.iter().map(|&k| x[k]));
    }
    // the losses move to the path (not copied: half a million for a large numeric fit)
    s.last_path = Some(RunPath {
        title,
        names: fnames.iter().map(|&k| specs[k].name.clone()).collect(),
        losses: std::mem::take(&mut record.losses),
        points,
        ..Default::default()
    });
    record.clear();
    // the fit this one replaces gives its tapes back for the next fit
    if let Some(old) = s.last_minuit.replace(run) {
        old.fcn.give_back(&mut s.tapes);
    }
}

/// The fit's JSON record; with `--trace` its calls, cut to a quarter of
/// the memory budget as for a step run.
fn fit_record(
    s: &Session,
    m: &MinimizeStmt,
    options: &[(&'static str, OptValue)],
    run: &MinuitRun,
    line: usize,
) -> serde_json::Value {
    let (min, specs, record) = (&run.min, &run.specs, &run.fcn.record);
    let recorded = record.losses.len();
    let keep = match s.opts.trace {
        true => crate::budget::fits(recorded, path_point_cost(&s.params)),
        false => recorded,
    };
    let path = s.opts.trace.then(|| {
        record
            .calls()
            .take(keep)
            .map(|(loss, x)| PathPoint {
                loss,
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
        optimizer: run.algorithm.name.to_string(),
        options: options
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        maximize: m.maximize,
        loss: run.sign * min.fval,
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
            errors: errors_record(specs, min),
        }),
    };
    let mut json = rec.to_json();
    if s.opts.trace {
        // a fit with more calls than the record keeps says so
        let dropped = record.dropped + (recorded - keep);
        json["path_dropped"] = json!(dropped);
        json["path_cut"] = json!(dropped > 0);
    }
    json
}

/// The value tape, the value-and-gradient tape and (up to 40 parameter
/// elements) the exact Hessian's tape of `out` over the parameters
/// `involved` (of `shapes`).
fn minuit_tapes(
    g: &mut Graph,
    out: NodeId,
    involved: &[usize],
    shapes: &[crate::tensor::Shape],
) -> Result<Vec<Option<Tape>>, crate::budget::Refused> {
    let pnodes: Vec<NodeId> = involved
        .iter()
        .zip(shapes)
        .map(|(&i, sh)| g.param(i as u32, sh.clone()))
        .collect();
    let grads = autodiff::grad(g, out, &pnodes);
    let grads = crate::interp::lower::tensor::elements(g, &grads);
    let np = grads.len();
    let hess = (np <= 40).then(|| {
        let mut h = Vec::with_capacity(np * np);
        for &gi in &grads {
            let row = autodiff::grad(g, gi, &pnodes);
            h.extend(crate::interp::lower::tensor::elements(g, &row));
        }
        h
    });
    let mut fg_outs = vec![out];
    fg_outs.extend(&grads);
    Ok(vec![
        Some(Tape::try_new(g, &[out])?),
        Some(Tape::try_new(g, &fg_outs)?),
        hess.map(|h| Tape::try_new(g, &h)).transpose()?,
    ])
}

/// Appends a report box on its own lines.
/// Prints `head` and the report's text, or, when the display sink shows
/// it, hands the sink that text with the report it is drawn from.
pub(super) fn say_report(s: &mut Session, mut head: String, report: Option<&mreport::FitReport>) {
    if let Some(r) = report {
        // written in place: the report of a large fit is big
        if !head.is_empty() && !head.ends_with('\n') {
            head.push('\n');
        }
        r.write_text(&mut head);
    }
    let text = head.trim_end();
    if let Some(r) = report {
        if s.show(Display::Minuit { text, report: r }) {
            return;
        }
    }
    s.say(text);
}

/// Errors, covariance and free names at a minimum, for a record.
pub(super) fn errors_record(specs: &[ParamSpec], min: &FunctionMinimum) -> ErrorsRecord {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_call_record_is_bounded() {
        // 1000 parameters: about 2000 calls kept, the rest counted
        let mut r = CallRecord::new(1000, true);
        let x = vec![0.5; 1000];
        for k in 0..10_000 {
            r.push(k as f64, &x);
        }
        assert_eq!(r.losses.len(), RECORD_NUMBERS / 1001);
        assert_eq!(r.losses.len() + r.dropped, 10_000);
        assert!(r.points.capacity() + r.losses.capacity() <= 2 * RECORD_NUMBERS);
        assert_eq!(r.calls().count(), r.losses.len());
        // losses only: points take no memory
        let mut r = CallRecord::new(1000, false);
        for k in 0..10_000 {
            r.push(k as f64, &x);
        }
        assert_eq!(r.losses.len(), 10_000);
        assert_eq!(r.points.capacity(), 0);
        r.clear();
        assert_eq!((r.losses.len(), r.dropped), (0, 0));
    }
}
