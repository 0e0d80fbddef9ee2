//! Step-based minimization: the objective's symbolic gradient is added to
//! its graph once and compiled into a tape (for `for N epochs`, one tape
//! for a full batch and one for the ragged last batch, both before the
//! first step), then `optim::run::StepRunner` drives the torch.optim
//! optimizer with its observers: the best point, the bounded path record,
//! Ctrl-C, the progress line, the schedule, the epoch table. The text
//! report and JSON record are written by `steps_report`. Maximizing
//! negates the objective (torch's maximize negates the gradient first
//! thing; only LBFGS, which has no maximize, uses the loss, so the two
//! agree).

use super::epochs::{self, EpochLog, Plan, Watched};
use super::runaway::{self, Finding, Runaway};
use super::steps_report::{self, Outcome};
use super::stopped::{values_replay, Replay};
use super::tape_cache::Purpose;
use super::Objective;
use crate::budget::Refused;
use crate::diagnostics::{Diag, IntoDiagnostic, Span};
use crate::graph::{autodiff, Graph, NodeId, Tape};
use crate::interp::{Lowerer, Session, INTERRUPT};
use crate::optim::run::{
    Best, Interrupt, Observer, PathRecorder, PerStep, Problem, Progress, RunEnd, StepRunner,
};
use crate::optim::{self, ParamLayout};
use crate::syntax::ast::MinimizeStmt;
use crate::tensor::{fmt_num, random::Rng};
use std::ops::Range;

/// Free elements up to which a run records its whole path without `--trace`.
const PATH_LIMIT: usize = 64;
/// Values (parameters, loss and lr per step) a path record may hold: 64 MB.
const PATH_BUDGET: usize = 1 << 23;

/// What the run is: a number of steps, or epochs over data.
pub(super) enum Length {
    Steps(usize),
    Epochs(Plan),
}

/// A compiled tape with where each free parameter's elements go in it.
struct Compiled {
    tape: Tape,
    /// (tape offset, flat range in x) of each free parameter.
    locs: Vec<(usize, Range<usize>)>,
    /// The graph input slot of each data name (epochs only).
    data_slots: Vec<u32>,
}

fn locate(tape: &Tape, free: &[usize], ranges: &[Range<usize>]) -> Vec<(usize, Range<usize>)> {
    free.iter()
        .zip(ranges)
        .map(|(&i, r)| (tape.param_offset(i as u32).unwrap_or(usize::MAX), r.clone()))
        .filter(|(off, _)| *off != usize::MAX)
        .collect()
}

/// The objective and its gradient in one tape for a minibatch: the data
/// names are input slots of `rows` rows.
fn compile(
    s: &Session,
    m: &MinimizeStmt,
    free: &[usize],
    ranges: &[Range<usize>],
    (plan, rows): (&Plan, usize),
) -> Result<Compiled, Diag> {
    let mut g = Graph::new();
    let (out, data_slots) = {
        {
            let mut l = Lowerer::new(s, &mut g);
            let slots: Vec<u32> = plan
                .data
                .iter()
                .map(|d| {
                    let mut shape = d.value.shape.clone();
                    shape[0] = rows;
                    l.bind_data(&d.name, shape)
                })
                .collect();
            (l.num(&m.objective)?, slots)
        }
    };
    let shapes = param_shapes(s, free);
    let tape = value_and_grad(&mut g, out, free, &shapes)
        .map_err(|r| r.diag(m.objective.span.clone(), "this objective and its gradient"))?;
    Ok(finish(s, tape, free, ranges, data_slots))
}

fn param_shapes(s: &Session, free: &[usize]) -> Vec<crate::tensor::Shape> {
    free.iter()
        .map(|&i| s.params[i].value.shape.clone())
        .collect()
}

/// One tape of `out` and its gradient against the parameters `free`.
fn value_and_grad(
    g: &mut Graph,
    out: NodeId,
    free: &[usize],
    shapes: &[crate::tensor::Shape],
) -> Result<Tape, Refused> {
    let pnodes: Vec<NodeId> = free
        .iter()
        .zip(shapes)
        .map(|(&i, sh)| g.param(i as u32, sh.clone()))
        .collect();
    let grads = autodiff::grad(g, out, &pnodes);
    let mut outs = vec![out];
    outs.extend(&grads);
    Tape::try_new(g, &outs)
}

/// The whole-data objective and its gradient (kept in the session's tape
/// cache: the same objective again compiles nothing).
fn compile_objective(
    s: &mut Session,
    obj: &mut Objective,
    free: &[usize],
    ranges: &[Range<usize>],
    span: &Span,
) -> Result<Compiled, Diag> {
    let shapes = param_shapes(s, free);
    let out = obj.out;
    let tape = s
        .tapes
        .get_or_make(Purpose::Steps, &mut obj.g, out, free, |g| {
            Ok(vec![Some(value_and_grad(
                &mut g.clone(),
                out,
                free,
                &shapes,
            )?)])
        })
        .map_err(|r: Refused| r.diag(span.clone(), "this objective and its gradient"))?
        .pop()
        .flatten()
        .expect("one tape");
    Ok(finish(s, tape, free, ranges, Vec::new()))
}

/// The tape with the session's parameter values and the parameters' places.
fn finish(
    s: &Session,
    mut tape: Tape,
    free: &[usize],
    ranges: &[Range<usize>],
    data_slots: Vec<u32>,
) -> Compiled {
    for (i, p) in s.params.iter().enumerate() {
        tape.set_param(i as u32, &p.value.data);
    }
    let locs = free
        .iter()
        .zip(ranges)
        .map(|(&i, r)| (tape.param_offset(i as u32).unwrap_or(0), r.clone()))
        .collect();
    Compiled {
        tape,
        locs,
        data_slots,
    }
}

/// The objective over its tapes, fed batch after batch.
struct TapeProblem<'p> {
    tapes: Vec<Compiled>,
    cur: usize,
    feed: Option<Feed<'p>>,
    nfcn: usize,
}

/// The minibatch feeder: the epoch's order and a row buffer per data name.
struct Feed<'p> {
    plan: &'p Plan,
    order: Vec<usize>,
    bufs: Vec<Vec<f64>>,
    rng: Rng,
}

impl Problem for TapeProblem<'_> {
    fn begin_step(&mut self, k: usize) {
        let Some(f) = &mut self.feed else { return };
        let plan = f.plan;
        if plan.shuffle && k.is_multiple_of(plan.per_epoch) {
            f.rng.permute(&mut f.order);
        }
        let (start, rows) = plan.batch_of(k);
        self.cur = usize::from(rows != plan.batch);
        let c = &mut self.tapes[self.cur];
        for ((d, buf), &slot) in plan.data.iter().zip(&mut f.bufs).zip(&c.data_slots) {
            let len = rows * d.row;
            if plan.shuffle {
                for (j, &r) in f.order[start..start + rows].iter().enumerate() {
                    buf[j * d.row..(j + 1) * d.row]
                        .copy_from_slice(&d.value.data[r * d.row..(r + 1) * d.row]);
                }
                c.tape.set_input(slot, &buf[..len]);
            } else {
                c.tape
                    .set_input(slot, &d.value.data[start * d.row..start * d.row + len]);
            }
        }
    }

    fn eval(&mut self, x: &[f64], grad: &mut [f64]) -> f64 {
        let c = &mut self.tapes[self.cur];
        for (off, r) in &c.locs {
            c.tape.set_scalars_range(*off, &x[r.clone()]);
        }
        c.tape.forward();
        for (j, (_, r)) in c.locs.iter().enumerate() {
            grad[r.clone()].copy_from_slice(c.tape.output(1 + j));
        }
        self.nfcn += 1;
        c.tape.output(0)[0]
    }
}

/// Everything `run_steps` needs about the statement.
pub(super) struct StepRun<'a> {
    pub m: &'a MinimizeStmt,
    pub oname: &'static str,
    pub built: optim::Built,
    pub given: Vec<String>,
    pub free: Vec<usize>,
    pub layout: ParamLayout,
    pub obj: Objective,
    pub length: Length,
    pub line: usize,
}

/// Runs a torch optimizer: plan (schedule, tapes, start and bounds), run
/// the steps under their observers, then write the result back, report it
/// and judge whether the objective ran away.
pub(super) fn run_steps(s: &mut Session, r: StepRun<'_>) -> Result<(), Diag> {
    let StepRun {
        m,
        oname,
        mut built,
        given,
        free,
        layout,
        mut obj,
        length,
        line,
    } = r;
    let maximize = m.maximize || built.maximize;
    report_maximize(&mut built.options, maximize);
    let mut opt = built.optimizer;
    let ranges = layout.ranges();
    let (steps, plan) = match &length {
        Length::Steps(k) => (*k, None),
        Length::Epochs(p) => (p.steps(), Some(p)),
    };
    let (mut schedule, per_step) = build_schedule(s, m, oname, opt.as_mut(), steps, plan)?;
    let (mut problem, watched) = build_problem(s, m, &mut obj, &free, &ranges, plan)?;
    let mut x: Vec<f64> = free
        .iter()
        .flat_map(|&i| s.params[i].value.data.iter().copied())
        .collect();
    let bounds = bounds(s, &free, &ranges);
    let has_bounds = bounds.iter().any(|b| b.0.is_finite() || b.1.is_finite());
    let runner = StepRunner {
        steps,
        maximize,
        bounds: if has_bounds { &bounds } else { &[] },
    };
    let record_path = s.opts.trace || layout.len() <= PATH_LIMIT;
    // the schedule's text is fixed when it is built
    let schedule_text = schedule.as_ref().map(|sc| (sc.text.clone(), per_step));
    let mut w = Watchers::new(layout.len(), record_path, &x, &runner);
    w.follow(plan.map(|p| (p, watched)), schedule.as_mut(), per_step);
    let end = drive(
        s,
        &runner,
        oname,
        plan,
        opt.as_mut(),
        &mut problem,
        &mut x,
        &mut w,
    );
    if let Some(f) = &problem.feed {
        *s.rng.borrow_mut() = f.rng.clone();
    }
    if let Some(b) = end.nonfinite.as_ref().filter(|_| end.ran == 0) {
        // not one step ran: nothing to report, nothing changed
        return Err(steps_report::nonfinite(s, m, &free, &ranges, b, 0));
    }
    let stated = Stated {
        m,
        oname,
        options: &built.options,
        given: &given,
        free: &free,
        ranges: &ranges,
        maximize,
        schedule: schedule_text,
        line,
    };
    Ended::new(end, x, w, problem.nfcn).conclude(s, &stated, &mut obj, &bounds)
}

/// What a step run's statement asked for, as its report shows it.
struct Stated<'a> {
    m: &'a MinimizeStmt,
    oname: &'static str,
    options: &'a [(&'static str, optim::OptValue)],
    given: &'a [String],
    free: &'a [usize],
    ranges: &'a [Range<usize>],
    maximize: bool,
    /// The schedule's text, and whether it stepped per step.
    schedule: Option<(String, bool)>,
    line: usize,
}

/// A step run after its loop: where it ended and what its observers kept.
struct Ended<'p> {
    end: RunEnd,
    x: Vec<f64>,
    nfcn: usize,
    interrupted: bool,
    path: PathRecorder,
    best: Best,
    runaway: Runaway,
    epochs: Option<steps_report::Epochs<'p>>,
}

impl<'p> Ended<'p> {
    /// What the loop left in `x` and the observers `w` after `nfcn` calls
    /// (the epoch table's log over its plan `epochs`).
    fn new(end: RunEnd, x: Vec<f64>, w: Watchers<'_, 'p>, nfcn: usize) -> Ended<'p> {
        Ended {
            end,
            x,
            nfcn,
            interrupted: w.stop.hit,
            path: w.path,
            best: w.best,
            runaway: w.runaway,
            epochs: w
                .log
                .map(|(plan, log)| steps_report::Epochs::from_log(plan, log)),
        }
    }

    /// Settles the run, reports it, then returns the error of a run a
    /// non-finite value stopped, or warns (E0408) of one that ran away.
    fn conclude(
        mut self,
        s: &mut Session,
        st: &Stated<'_>,
        obj: &mut Objective,
        bounds: &[(f64, f64)],
    ) -> Result<(), Diag> {
        let final_loss = self.settle(s, st, obj)?;
        let ran = self.end.ran;
        let bad = self.end.nonfinite.as_ref();
        let bad = bad.map(|b| steps_report::nonfinite(s, st.m, st.free, st.ranges, b, ran));
        let ran_away = self.ran_away(bounds, final_loss);
        steps_report::report(
            s,
            Outcome {
                oname: st.oname,
                options: st.options,
                given: st.given,
                free: st.free,
                ranges: st.ranges,
                maximize: st.maximize,
                ran,
                interrupted: self.interrupted,
                nonfinite: self.end.nonfinite.as_ref().map(|b| b.step),
                nfcn: self.nfcn,
                final_loss,
                best_loss: self.best.loss,
                best_step: self.best.step,
                path: self.path,
                schedule: st.schedule.clone(),
                epochs: self.epochs,
                line: st.line,
            },
        );
        if let Some(d) = bad {
            return Err(d);
        }
        if let Some(f) = ran_away {
            warn_runaway(s, st.m, f, st.free, st.ranges, ran, st.maximize);
        }
        Ok(())
    }

    /// Ctrl-C or a non-finite value.
    fn stopped(&self) -> bool {
        self.interrupted || self.end.nonfinite.is_some()
    }

    /// Ends the run where it belongs (a stopped run back at the best point
    /// seen, the start when no step had a finite loss), closes the path with
    /// the loss there, writes the parameters back and, for a stopped run,
    /// what `:save` replays. Returns the final loss on all the data.
    fn settle(
        &mut self,
        s: &mut Session,
        st: &Stated<'_>,
        obj: &mut Objective,
    ) -> Result<f64, Diag> {
        let (m, free, ranges) = (st.m, st.free, st.ranges);
        let stopped = self.stopped();
        if stopped {
            self.x.copy_from_slice(&self.best.x);
        }
        let final_loss = final_loss(s, m, obj, free, ranges, &self.x)?;
        self.path.finish(&self.x, final_loss);
        if !stopped && self.best.improves(final_loss) {
            self.best.loss = final_loss;
            self.best.step = self.end.ran;
        }
        write_back(s, free, ranges, &self.x);
        if stopped {
            s.replay = Some(replay(s, m, free, self.best.step, self.interrupted));
        }
        Ok(final_loss)
    }

    /// What ran away in a run that went its whole length (elements with a
    /// limit cannot).
    fn ran_away(&self, bounds: &[(f64, f64)], final_loss: f64) -> Option<Finding> {
        if self.stopped() {
            return None;
        }
        let unlimited: Vec<bool> = bounds
            .iter()
            .map(|b| !b.0.is_finite() && !b.1.is_finite())
            .collect();
        self.runaway
            .judge(self.end.ran, &self.x, final_loss, &unlimited)
    }
}

/// One truth: `maximize EXPR with adam` is the optimizer's maximize too,
/// in the report's options and in the JSON record.
fn report_maximize(options: &mut [(&'static str, optim::OptValue)], maximize: bool) {
    for (k, v) in options.iter_mut() {
        if *k == "maximize" {
            *v = optim::OptValue::Bool(maximize);
        }
    }
}

/// The observers of a run besides the progress line.
struct Watchers<'a, 'p> {
    path: PathRecorder,
    best: Best,
    runaway: Runaway,
    stop: Interrupt<'static>,
    /// The epoch table, with the plan it follows.
    log: Option<(&'p Plan, EpochLog<'a>)>,
    per: Option<PerStep<'a>>,
}

impl<'a, 'p> Watchers<'a, 'p> {
    /// The observers every run has, for `n` free elements starting at `x`;
    /// `record_path`: keep each step's point, not only its loss and lr.
    fn new(n: usize, record_path: bool, x: &[f64], runner: &StepRunner<'_>) -> Watchers<'a, 'p> {
        Watchers {
            path: PathRecorder::new(n, record_path, PATH_BUDGET),
            best: Best::new(runner.maximize, x),
            runaway: Runaway::new(runner.steps, x, runner.maximize),
            stop: Interrupt {
                flag: &INTERRUPT,
                hit: false,
            },
            log: None,
            per: None,
        }
    }

    /// Adds the epoch table (for `for N epochs`, with its watched values)
    /// and the schedule, stepped by the table after each epoch or after
    /// every step (`per_step`).
    fn follow(
        &mut self,
        epochs: Option<(&'p Plan, Vec<Watched>)>,
        schedule: Option<&'a mut optim::schedule::Schedule>,
        per_step: bool,
    ) {
        let (epoch_sched, step_sched) = match (schedule, per_step) {
            (Some(sc), true) => (None, Some(sc)),
            (Some(sc), false) => (Some(sc), None),
            (None, _) => (None, None),
        };
        self.log = epochs.map(|(p, watched)| (p, EpochLog::new(p.per_epoch, watched, epoch_sched)));
        self.per = step_sched.map(|schedule| PerStep { schedule });
    }
}

/// The schedule of the statement, built against the optimizer, and whether
/// it steps after every step (`for N steps`, or `per step`).
fn build_schedule(
    s: &Session,
    m: &MinimizeStmt,
    oname: &'static str,
    opt: &mut dyn optim::Optimizer,
    steps: usize,
    plan: Option<&Plan>,
) -> Result<(Option<optim::schedule::Schedule>, bool), Diag> {
    let Some(spec) = &m.schedule else {
        return Ok((None, plan.is_none()));
    };
    if spec.per_step && plan.is_none() {
        return Err(super::schedule::ScheduleError::PerStep {
            span: spec.span.clone(),
        }
        .into());
    }
    let per_step = spec.per_step || plan.is_none();
    let total = if per_step {
        steps
    } else {
        plan.map_or(steps, |p| p.epochs)
    };
    let built = super::schedule::build(s, spec, oname, opt, total)?;
    Ok((Some(built), per_step))
}

/// The tapes (all compiled before the first step), the watched values'
/// tapes and the minibatch feeder.
fn build_problem<'p>(
    s: &mut Session,
    m: &MinimizeStmt,
    obj: &mut Objective,
    free: &[usize],
    ranges: &[Range<usize>],
    plan: Option<&'p Plan>,
) -> Result<(TapeProblem<'p>, Vec<Watched>), Diag> {
    let mut tapes = Vec::new();
    let compiling = std::time::Instant::now();
    match plan {
        None => tapes.push(compile_objective(s, obj, free, ranges, &m.objective.span)?),
        Some(p) => {
            tapes.push(compile(s, m, free, ranges, (p, p.batch))?);
            if let Some(rows) = p.ragged {
                tapes.push(compile(s, m, free, ranges, (p, rows))?);
            }
        }
    }
    let watched = match plan {
        None => Vec::new(),
        Some(_) => {
            let w = watch_tapes(s, m, free, ranges)?;
            s.tapes.add_compile_time(compiling.elapsed());
            w
        }
    };
    let feed = plan.map(|p| Feed {
        plan: p,
        order: (0..p.n).collect(),
        bufs: p.data.iter().map(|d| vec![0.0; p.batch * d.row]).collect(),
        rng: s.rng.borrow().clone(),
    });
    let problem = TapeProblem {
        tapes,
        cur: 0,
        feed,
        nfcn: 0,
    };
    Ok((problem, watched))
}

/// Each free element's limits, (-inf, inf) where it has none.
fn bounds(s: &Session, free: &[usize], ranges: &[Range<usize>]) -> Vec<(f64, f64)> {
    free.iter()
        .zip(ranges)
        .flat_map(|(&i, r)| {
            let p = &s.params[i];
            let lo = p.lower.unwrap_or(f64::NEG_INFINITY);
            std::iter::repeat_n((lo, p.upper.unwrap_or(f64::INFINITY)), r.len())
        })
        .collect()
}

/// The step loop with every observer and, when shown, the progress line.
#[allow(clippy::too_many_arguments)]
fn drive(
    s: &mut Session,
    runner: &StepRunner<'_>,
    oname: &str,
    plan: Option<&Plan>,
    opt: &mut dyn optim::Optimizer,
    problem: &mut TapeProblem<'_>,
    x: &mut [f64],
    w: &mut Watchers<'_, '_>,
) -> RunEnd {
    let steps = runner.steps;
    let per_epoch = plan.map(|p| p.per_epoch);
    let show = s.opts.progress && !s.opts.json;
    let mut say = |at: Option<(usize, f64)>| match at {
        Some((k, loss)) => {
            let what = match per_epoch {
                Some(pe) => format!("epoch {}/{}", (k - 1) / pe + 1, steps / pe),
                None => format!("step {k}/{steps}"),
            };
            s.progress(Some(&format!(
                "{oname}: {what} ({:.0}%), loss {}  (Ctrl-C stops and keeps the best)",
                100.0 * k as f64 / steps as f64,
                fmt_num(loss)
            )));
        }
        None => s.progress(None),
    };
    let mut progress = Progress::new(&mut say);
    let mut obs: Vec<&mut dyn Observer> = vec![&mut w.path, &mut w.best, &mut w.runaway];
    if let Some((_, l)) = w.log.as_mut() {
        obs.push(l);
    }
    if let Some(p) = w.per.as_mut() {
        obs.push(p);
    }
    obs.push(&mut w.stop);
    if show {
        obs.push(&mut progress);
    }
    let end = runner.run(opt, problem, x, &mut obs);
    drop(obs);
    progress.finish();
    end
}

/// The loss at the result, on all the data (not counted: the optimizer did
/// not ask for it).
fn final_loss(
    s: &mut Session,
    m: &MinimizeStmt,
    obj: &mut Objective,
    free: &[usize],
    ranges: &[Range<usize>],
    x: &[f64],
) -> Result<f64, Diag> {
    let out = obj.out;
    let mut t = s
        .tapes
        .get_or_make(Purpose::Value, &mut obj.g, out, &[], |g| {
            Ok(vec![Some(Tape::try_new(g, &[out])?)])
        })
        .map_err(|r: Refused| r.diag(m.objective.span.clone(), "the final loss"))?
        .pop()
        .flatten()
        .expect("one tape");
    for (i, p) in s.params.iter().enumerate() {
        t.set_param(i as u32, &p.value.data);
    }
    for (off, r) in locate(&t, free, ranges) {
        t.set_scalars_range(off, &x[r]);
    }
    t.forward();
    Ok(t.output(0)[0])
}

/// The E0408 warning for a run whose loss or parameters kept running away.
fn warn_runaway(
    s: &mut Session,
    m: &MinimizeStmt,
    finding: Finding,
    free: &[usize],
    ranges: &[Range<usize>],
    steps: usize,
    maximize: bool,
) {
    let name = match &finding {
        Finding::Param { elem, .. } => element_name(s, free, ranges, *elem),
        Finding::Loss { .. } => String::new(),
    };
    let warning = runaway::RunawayWarning {
        finding,
        name,
        steps,
        maximize,
        span: m.objective.span.clone(),
    };
    s.emit(&warning.into_diagnostic());
}

/// `w[3]` or `x`: the name of element `j` of the free parameters.
fn element_name(s: &Session, free: &[usize], ranges: &[Range<usize>], j: usize) -> String {
    free.iter()
        .zip(ranges)
        .find(|(_, r)| r.contains(&j))
        .map(|(&i, r)| {
            let name = &s.params[i].name;
            if r.len() > 1 {
                format!("{name}[{}]", j - r.start)
            } else {
                name.clone()
            }
        })
        .unwrap_or_default()
}

/// What `:save` keeps for a run cut short at the best point, which is where
/// `best_step` steps from the start lead: the same statement `for K steps`
/// when that reproduces it (steps, no schedule, whose length the run
/// depends on), otherwise the values reached.
fn replay(s: &Session, m: &MinimizeStmt, free: &[usize], best_step: usize, ctrl_c: bool) -> Replay {
    let why = format!(
        "{} {}",
        if m.maximize { "maximize" } else { "minimize" },
        if ctrl_c {
            "was interrupted"
        } else {
            "stopped on a non-finite value"
        }
    );
    if m.epochs.is_some() || m.schedule.is_some() || best_step == 0 {
        return values_replay(s, free, &why);
    }
    let k = best_step.to_string();
    match &m.steps {
        Some(n) => Replay::Edit(n.span.clone(), k),
        None => Replay::Append(format!(" for {k} steps")),
    }
}

/// A tape for each `watch` name over the full data.
fn watch_tapes(
    s: &Session,
    m: &MinimizeStmt,
    free: &[usize],
    ranges: &[Range<usize>],
) -> Result<Vec<Watched>, Diag> {
    let Some(e) = &m.epochs else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for w in &e.watch {
        let mut g = Graph::new();
        let name = crate::syntax::ast::Expr::new(
            crate::syntax::ast::ExprKind::Name(w.name.clone()),
            w.span.clone(),
        );
        let n = Lowerer::new(s, &mut g).num(&name)?;
        if !g.shape(n).is_empty() {
            return Err(epochs::EpochError::WatchNotScalar {
                name: w.name.clone(),
                shape: crate::tensor::shape_str(g.shape(n)),
                span: w.span.clone(),
            }
            .into());
        }
        let mut tape =
            Tape::try_new(&g, &[n]).map_err(|r| r.diag(w.span.clone(), "this watched value"))?;
        for (i, p) in s.params.iter().enumerate() {
            tape.set_param(i as u32, &p.value.data);
        }
        let locs = locate(&tape, free, ranges);
        out.push(Watched {
            name: w.name.clone(),
            tape,
            locs,
            values: Vec::new(),
        });
    }
    Ok(out)
}

fn write_back(s: &mut Session, free: &[usize], ranges: &[Range<usize>], x: &[f64]) {
    for (&i, r) in free.iter().zip(ranges) {
        s.params[i].value.data.copy_from_slice(&x[r.clone()]);
    }
}

/// Checks the epoch plan of a statement (before any tape is built).
pub(super) fn epoch_plan(s: &Session, m: &MinimizeStmt) -> Result<Option<Plan>, Diag> {
    m.epochs.as_ref().map(|e| epochs::plan(s, e)).transpose()
}
