//! The `plot` statements (SPEC section 7): the interpreter computes the
//! numbers and `crate::plot` draws them. A contour is evaluated over its
//! whole grid in one pass of one tape, with the axis parameters given the
//! grid's shape; when the objective cannot broadcast that way (it reduces
//! over data, say) one scalar tape is evaluated point by point instead.
//! This stage's mistakes are `PlotStmtError`s, worded once at the end.

use super::lower::LowerError;
use super::{Lowerer, RunPath, Session};
use crate::diagnostics::{Code, Diag, IntoDiagnostic, Span};
use crate::graph::{Graph, Tape};
use crate::plot::{self, ContourPlot, LinePlot, PathSeries, Plot};
use crate::syntax::ast::{Expr, PathMode, PlotKind, PlotRange, Stmt};
use std::path::{Path, PathBuf};

/// Grid points per axis of a contour, and samples of a curve plot.
const GRID: usize = 100;
const SAMPLES: usize = 1001;

/// A figure, or why `crate::plot` could not make it.
type Figure = Result<Plot, plot::PlotError>;

/// Runs a plot statement. With `to`, the figure is written to the file;
/// without it (only where the session shows pictures, as in a notebook) it
/// is shown inline only. A session that shows pictures shows every plot.
pub fn run(s: &mut Session, kind: &PlotKind, file: Option<&Expr>, st: &Stmt) -> Result<(), Diag> {
    let (path, shown, span) = match file {
        Some(f) => (Some(target(s, f)?), display(s, f), f.span.clone()),
        None if s.shows_inline() => (None, "(inline)".to_string(), st.span.clone()),
        None => {
            return Err(PlotStmtError::NeedsFile {
                span: st.span.clone(),
            }
            .into())
        }
    };
    let failed = |e| Diag::from(PlotStmtError::of_plot(e, &shown, &span));
    // A file name that picks no format fails before any work is done.
    let format = match &path {
        Some(p) => plot::Format::of(p).map_err(failed)?,
        None => plot::Format::Svg,
    };
    let bytes = figure(s, kind, st)?
        .and_then(|f| f.render(format))
        .map_err(failed)?;
    if let Some(p) = &path {
        plot::write_atomic(p, &bytes).map_err(failed)?;
    }
    s.show(super::Display::Image {
        mime: format.mime(),
        data: &bytes,
    });
    finish(s, kind, file.map(|_| shown), st);
    Ok(())
}

/// The figure of a plot statement (Minuit's are made by `run`).
fn figure(s: &mut Session, kind: &PlotKind, st: &Stmt) -> Result<Figure, Diag> {
    Ok(match kind {
        PlotKind::Loss => loss_figure(s, st)?,
        PlotKind::Lr => {
            let Some(p) = s.last_path.as_ref().filter(|p| !p.lrs.is_empty()) else {
                return Err(PlotStmtError::NoRun {
                    what: "plot lr",
                    span: st.span.clone(),
                }
                .into());
            };
            let title = format!("learning rate per step: {}", optimizer_label(&p.title));
            Ok(Plot::Lines(plot::lr_plot(&p.lrs, &title)))
        }
        PlotKind::Curves { exprs, range } => curves_figure(s, exprs, range)?,
        PlotKind::Contour {
            objective,
            x,
            y,
            path: mode,
        } => contour_figure(s, objective, x, y, *mode, st)?,
        PlotKind::MnContour { x, y, opts } => Ok(super::run::uncertainty::mncontour_figure(
            s, x, y, opts, st,
        )?),
        PlotKind::Profile { x, opts } => {
            Ok(super::run::uncertainty::profile_figure(s, x, opts, st)?)
        }
    })
}

/// `plot loss`: the last run's loss per step (or per evaluation).
fn loss_figure(s: &Session, st: &Stmt) -> Result<Figure, PlotStmtError> {
    let Some(p) = &s.last_path else {
        return Err(PlotStmtError::NoRun {
            what: "plot loss",
            span: st.span.clone(),
        });
    };
    let (per, xlabel) = if is_minuit(&p.title) {
        ("evaluation", "evaluation")
    } else {
        ("step", "step")
    };
    let title = format!("loss per {per}: {}", optimizer_label(&p.title));
    Ok(Ok(match &p.training {
        // a minibatch run: the epoch means and watched values too
        Some(t) => Plot::Lines(plot::epoch_loss_plot(
            &p.losses,
            t.per_epoch,
            &t.epoch_loss,
            &t.watch,
            &title,
        )),
        None => Plot::Lines(LinePlot::loss(&p.losses, &title, xlabel)),
    }))
}

/// `plot E1, E2 over t in [A, B]`: each expression sampled on one tape.
fn curves_figure(s: &Session, exprs: &[Expr], range: &PlotRange) -> Result<Figure, PlotStmtError> {
    let (lo, hi) = bounds(s, range)?;
    let t: Vec<f64> = (0..SAMPLES)
        .map(|i| lo + (hi - lo) * i as f64 / (SAMPLES - 1) as f64)
        .collect();
    let mut series = Vec::with_capacity(exprs.len());
    for e in exprs {
        let mut g = Graph::new();
        let mut l = Lowerer::new(s, &mut g);
        let slot = l.bind_var(&range.var.name);
        let n = l.num(e)?;
        if !g.shape(n).is_empty() {
            return Err(PlotStmtError::CurveNotScalar {
                span: e.span.clone(),
            });
        }
        let mut tape = make_tape(&g, n, &e.span, "this curve")?;
        for (i, p) in s.params.iter().enumerate() {
            tape.set_param(i as u32, &p.value.data);
        }
        let ys = t
            .iter()
            .map(|&v| {
                tape.set_param(slot, &[v]);
                tape.forward();
                tape.output(0)[0]
            })
            .collect();
        series.push((source(s, e), ys));
    }
    let names: Vec<&str> = series.iter().map(|(n, _)| n.as_str()).collect();
    let ylabel = if names.len() == 1 { names[0] } else { "value" };
    let title = format!("{} over {}", names.join(", "), range.var.name);
    Ok(LinePlot::curves(&t, &series, &title, &range.var.name, ylabel).map(Plot::Lines))
}

/// `plot contour F over x in [..], y in [..] [with path(s)]`.
fn contour_figure(
    s: &Session,
    objective: &Expr,
    x: &PlotRange,
    y: &PlotRange,
    mode: PathMode,
    st: &Stmt,
) -> Result<Figure, PlotStmtError> {
    let grid = |(a, b): (f64, f64)| -> Vec<f64> {
        (0..GRID)
            .map(|i| a + (b - a) * i as f64 / (GRID - 1) as f64)
            .collect()
    };
    let xs = grid(bounds(s, x)?);
    let ys = grid(bounds(s, y)?);
    let z = grid_values(s, objective, x, y, &xs, &ys)?;
    let text = source(s, objective);
    let (paths, title) = contour_paths(s, mode, &text, x, y, st)?;
    Ok(Ok(Plot::Contour(ContourPlot {
        xs,
        ys,
        z,
        levels: None,
        paths,
        zlabel: text.clone(),
        title,
        xlabel: x.var.name.clone(),
        ylabel: y.var.name.clone(),
    })))
}

/// After a plot is made: `with paths` forgets its runs, and the plot is
/// recorded (and said, when written to a file `shown`).
fn finish(s: &mut Session, kind: &PlotKind, shown: Option<String>, st: &Stmt) {
    if let PlotKind::Contour {
        objective,
        path: PathMode::All,
        ..
    } = kind
    {
        // The next `with paths` plot of this objective starts afresh.
        let key = compact(&source(s, objective));
        s.runs.retain(|(o, _)| *o != key);
    }
    let line = s.line(&st.span);
    let what = match kind {
        PlotKind::Loss => "loss",
        PlotKind::Lr => "lr",
        PlotKind::Curves { .. } => "curves",
        PlotKind::Contour { .. } => "contour",
        PlotKind::MnContour { .. } => "mncontour",
        PlotKind::Profile { .. } => "profile",
    };
    s.records
        .push(serde_json::json!({"kind": "plot", "line": line, "plot": what, "file": shown}));
    if let Some(shown) = shown {
        s.say(&format!("plot written to {shown}"));
    }
}

/// A tape of `n`, or the memory budget's refusal at `span`.
fn make_tape(
    g: &Graph,
    n: crate::graph::NodeId,
    span: &Span,
    what: &str,
) -> Result<Tape, LowerError> {
    Tape::try_new(g, &[n]).map_err(|refused| LowerError::Memory {
        refused,
        span: span.clone(),
        what: what.into(),
    })
}

/// How many minimizations `with paths` remembers, and how many recorded
/// values in all: older runs are forgotten first.
pub const MAX_RUNS: usize = 64;
const MAX_RUN_VALUES: usize = 4 << 20;

/// An objective's source text without white space: the key that matches
/// a `minimize` to a `plot contour ... with paths` of the same objective.
fn compact(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect()
}

/// Remembers the minimization that just ran (its path is `last_path`) for
/// `plot contour ... with paths`.
pub fn log_run(s: &mut Session, objective: &Expr) {
    let Some(p) = s.last_path.as_ref().filter(|p| !p.points.is_empty()) else {
        return;
    };
    let entry = (compact(&source(s, objective)), p.clone());
    s.runs.push(entry);
    let total = |r: &[(String, RunPath)]| r.iter().map(|(_, p)| p.points.len()).sum::<usize>();
    while s.runs.len() > MAX_RUNS || (s.runs.len() > 1 && total(&s.runs) > MAX_RUN_VALUES) {
        s.runs.remove(0);
    }
}

/// The paths a contour plot draws, and its title.
fn contour_paths(
    s: &Session,
    mode: PathMode,
    text: &str,
    x: &PlotRange,
    y: &PlotRange,
    st: &Stmt,
) -> Result<(Vec<PathSeries>, String), PlotStmtError> {
    match mode {
        PathMode::None => Ok((Vec::new(), text.to_string())),
        PathMode::Last => {
            let Some(p) = &s.last_path else {
                return Err(PlotStmtError::NoRun {
                    what: "plot contour ... with path",
                    span: st.span.clone(),
                });
            };
            let points = axis_points(p, x, y, st, "the last minimization")?;
            let title = format!("{text}: {}", optimizer_label(&p.title));
            let label = String::new();
            Ok((vec![PathSeries { label, points }], title))
        }
        PathMode::All => {
            let key = compact(text);
            let runs: Vec<&RunPath> = s
                .runs
                .iter()
                .filter(|(o, _)| *o == key)
                .map(|(_, p)| p)
                .collect();
            if runs.is_empty() {
                return Err(PlotStmtError::NoRunsOf {
                    objective: text.to_string(),
                    span: st.span.clone(),
                });
            }
            let mut paths = Vec::with_capacity(runs.len());
            for p in &runs {
                let points = axis_points(p, x, y, st, "a minimization of this objective")?;
                paths.push(PathSeries {
                    label: optimizer_label(&p.title),
                    points,
                });
            }
            // Runs with the same optimizer and options differ by their start.
            let labels: Vec<String> = paths.iter().map(|p| p.label.clone()).collect();
            for p in &mut paths {
                if labels.iter().filter(|l| **l == p.label).count() > 1 {
                    if let Some(&(a, b)) = p.points.first() {
                        p.label = format!("{} from ({}, {})", p.label, short(a), short(b));
                    }
                }
            }
            let n = paths.len();
            let title = format!("{text}: {n} minimization{}", if n == 1 { "" } else { "s" });
            Ok((paths, title))
        }
    }
}

/// A number for a legend: at most four significant digits.
fn short(v: f64) -> String {
    let s = format!("{:.4}", v);
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

/// The `(x, y)` values of a recorded path over the plot's two axes.
fn axis_points(
    p: &RunPath,
    x: &PlotRange,
    y: &PlotRange,
    st: &Stmt,
    which: &'static str,
) -> Result<Vec<(f64, f64)>, PlotStmtError> {
    let ix = p.names.iter().position(|n| *n == x.var.name);
    let iy = p.names.iter().position(|n| *n == y.var.name);
    let (Some(ix), Some(iy)) = (ix, iy) else {
        return Err(PlotStmtError::PathAxes {
            which,
            x: x.var.name.clone(),
            y: y.var.name.clone(),
            span: st.span.clone(),
        });
    };
    let n = p.names.len();
    if p.points.is_empty() {
        return Err(PlotStmtError::NoPath {
            which,
            span: st.span.clone(),
        });
    }
    if !p.points.len().is_multiple_of(n) {
        // Guarded, not assumed: a mismatch would misplace every point.
        return Err(PlotStmtError::PathMismatch {
            which,
            span: st.span.clone(),
        });
    }
    Ok(p.point_iter().map(|q| (q[ix], q[iy])).collect())
}

/// True for a run of Minuit's algorithms, whose points are evaluations.
fn is_minuit(title: &str) -> bool {
    let name = title.split('(').next().unwrap_or("");
    matches!(name, "migrad" | "simplex" | "scan")
}

/// An optimizer as figures name it: torch's class name or Minuit's
/// algorithm in capitals, then the options the script gave
/// (`adam(lr=0.1)` is "Adam lr=0.1", `migrad()` is "MIGRAD").
pub(crate) fn optimizer_label(title: &str) -> String {
    let (name, rest) = title.split_once('(').unwrap_or((title, ""));
    let opts = rest.strip_suffix(')').unwrap_or(rest).trim();
    let shown = match name {
        "sgd" => "SGD",
        "adam" => "Adam",
        "adamw" => "AdamW",
        "adamax" => "Adamax",
        "nadam" => "NAdam",
        "radam" => "RAdam",
        "rmsprop" => "RMSprop",
        "adagrad" => "Adagrad",
        "adadelta" => "Adadelta",
        "rprop" => "Rprop",
        "asgd" => "ASGD",
        "lbfgs" => "LBFGS",
        "adafactor" => "Adafactor",
        "migrad" => "MIGRAD",
        "simplex" => "SIMPLEX",
        "scan" => "SCAN",
        other => other,
    };
    if opts.is_empty() {
        shown.to_string()
    } else {
        format!("{shown} {opts}")
    }
}

fn display(s: &Session, file: &Expr) -> String {
    match &file.kind {
        crate::syntax::ast::ExprKind::Str(f) => f.clone(),
        _ => source(s, file),
    }
}

fn source(s: &Session, e: &Expr) -> String {
    s.src.get(e.span.clone()).unwrap_or("").to_string()
}

fn target(s: &Session, file: &Expr) -> Result<PathBuf, PlotStmtError> {
    let crate::syntax::ast::ExprKind::Str(f) = &file.kind else {
        return Err(PlotStmtError::FileNotString {
            span: file.span.clone(),
        });
    };
    let p = PathBuf::from(f);
    let p = if p.is_absolute() {
        p
    } else {
        s.base_dir.join(p)
    };
    // A missing folder is named before anything is drawn.
    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            let shown = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
            return Err(PlotStmtError::NoFolder {
                folder: shown.display().to_string(),
                written: Path::new(f).parent().unwrap_or(dir).display().to_string(),
                span: file.span.clone(),
            });
        }
    }
    Ok(p)
}

fn bounds(s: &Session, r: &PlotRange) -> Result<(f64, f64), PlotStmtError> {
    let lo = s.const_scalar(&r.lo)?;
    let hi = s.const_scalar(&r.hi)?;
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(PlotStmtError::BadRange {
            span: r.lo.span.start..r.hi.span.end,
        });
    }
    Ok((lo, hi))
}

/// f over the grid, row-major in y then x.
fn grid_values(
    s: &Session,
    objective: &Expr,
    x: &PlotRange,
    y: &PlotRange,
    xs: &[f64],
    ys: &[f64],
) -> Result<Vec<f64>, PlotStmtError> {
    let n = xs.len() * ys.len();
    let gx: Vec<f64> = (0..n).map(|k| xs[k % xs.len()]).collect();
    let gy: Vec<f64> = (0..n).map(|k| ys[k / xs.len()]).collect();
    let axes = [x, y];
    match grid_at_once(s, objective, axes, [&gx, &gy])? {
        Some(values) => Ok(values),
        None => grid_point_by_point(s, objective, axes, [&gx, &gy]),
    }
}

/// The objective over the whole grid `g` (x and y at each point) in one
/// pass, with the plot variables bound to vectors: `None` when the
/// objective does not broadcast to the grid.
fn grid_at_once(
    s: &Session,
    objective: &Expr,
    axes: [&PlotRange; 2],
    g: [&[f64]; 2],
) -> Result<Option<Vec<f64>>, PlotStmtError> {
    let n = g[0].len();
    let mut graph = Graph::new();
    let mut l = Lowerer::new(s, &mut graph);
    let mut slots = Vec::new();
    for r in axes {
        match s.param_index(&r.var.name) {
            Some(i) if s.params[i].value.is_scalar() => {
                l.shape_override.insert(i as u32, vec![n]);
                slots.push(i as u32);
            }
            Some(_) => {
                return Err(PlotStmtError::AxisNotScalar {
                    name: r.var.name.clone(),
                    span: r.var.span.clone(),
                })
            }
            None => slots.push(l.bind_var_shaped(&r.var.name, vec![n])),
        }
    }
    let Some(node) = l
        .num(objective)
        .ok()
        .filter(|&node| graph.shape(node) == [n])
    else {
        return Ok(None);
    };
    let mut tape = make_tape(&graph, node, &objective.span, "this contour's grid")?;
    for (i, p) in s.params.iter().enumerate() {
        if !slots.contains(&(i as u32)) {
            tape.set_param(i as u32, &p.value.data);
        }
    }
    tape.set_param(slots[0], g[0]);
    tape.set_param(slots[1], g[1]);
    tape.forward();
    Ok(Some(tape.output(0).to_vec()))
}

/// The objective at each point of the grid `g` on one scalar tape.
fn grid_point_by_point(
    s: &Session,
    objective: &Expr,
    axes: [&PlotRange; 2],
    g: [&[f64]; 2],
) -> Result<Vec<f64>, PlotStmtError> {
    let mut graph = Graph::new();
    let mut l = Lowerer::new(s, &mut graph);
    let slots: Vec<u32> = axes
        .iter()
        .map(|r| match s.param_index(&r.var.name) {
            Some(i) => i as u32,
            None => l.bind_var(&r.var.name),
        })
        .collect();
    let node = l.num(objective)?;
    if !graph.shape(node).is_empty() {
        return Err(PlotStmtError::ContourNotScalar {
            span: objective.span.clone(),
        });
    }
    let mut tape = make_tape(&graph, node, &objective.span, "this contour")?;
    for (i, p) in s.params.iter().enumerate() {
        tape.set_param(i as u32, &p.value.data);
    }
    Ok((0..g[0].len())
        .map(|k| {
            tape.set_param(slots[0], &[g[0][k]]);
            tape.set_param(slots[1], &[g[1][k]]);
            tape.forward();
            tape.output(0)[0]
        })
        .collect())
}

/// A mistake in a `plot` statement, or a figure that could not be made.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum PlotStmtError {
    #[error(transparent)]
    Lower(#[from] LowerError),
    #[error("a plot in a script needs a file")]
    NeedsFile { span: Span },
    /// A plot of the last run (`what` is the statement) with none before it.
    #[error("{what} needs a minimization before it")]
    NoRun { what: &'static str, span: Span },
    /// `with paths` and no run of this objective since the last such plot.
    #[error("no minimization of `{objective}` to draw")]
    NoRunsOf { objective: String, span: Span },
    /// A recorded run (`which`) that did not move both plot axes.
    #[error("{which} did not move both `{x}` and `{y}`")]
    PathAxes {
        which: &'static str,
        x: String,
        y: String,
        span: Span,
    },
    #[error("{which} recorded no path")]
    NoPath { which: &'static str, span: Span },
    #[error("{which} recorded a path that does not match its parameters")]
    PathMismatch { which: &'static str, span: Span },
    #[error("a curve needs a scalar expression of the plot variable")]
    CurveNotScalar { span: Span },
    #[error("a contour needs a scalar objective")]
    ContourNotScalar { span: Span },
    #[error("`{name}` is not a scalar parameter")]
    AxisNotScalar { name: String, span: Span },
    #[error("a plot range needs finite bounds with lo < hi")]
    BadRange { span: Span },
    #[error("a plot's file is a string")]
    FileNotString { span: Span },
    /// The file's folder does not exist: `folder` in full, `written` as
    /// the script wrote it.
    #[error("cannot write the plot: there is no folder `{folder}`")]
    NoFolder {
        folder: String,
        written: String,
        span: Span,
    },
    /// A file name that is not .svg or .png (`shown` as the script wrote it).
    #[error("cannot tell the image format of \"{shown}\"")]
    UnknownFormat { shown: String, span: Span },
    #[error("cannot write the plot to \"{shown}\": {reason}")]
    WriteFailed {
        shown: String,
        reason: String,
        span: Span,
    },
    #[error("cannot draw the plot \"{shown}\": {reason}")]
    DrawFailed {
        shown: String,
        reason: String,
        span: Span,
    },
}

impl PlotStmtError {
    /// `crate::plot`'s error for the file `shown` (as the script wrote it).
    fn of_plot(e: plot::PlotError, shown: &str, span: &Span) -> PlotStmtError {
        let (shown, span) = (shown.to_string(), span.clone());
        match e {
            plot::PlotError::UnknownExtension { .. } => {
                PlotStmtError::UnknownFormat { shown, span }
            }
            plot::PlotError::Write { source, .. } => PlotStmtError::WriteFailed {
                shown,
                reason: source.to_string(),
                span,
            },
            other => PlotStmtError::DrawFailed {
                shown,
                reason: other.to_string(),
                span,
            },
        }
    }
}

impl IntoDiagnostic for PlotStmtError {
    fn into_diagnostic(self) -> Diag {
        use PlotStmtError as P;
        let message = self.to_string();
        let err = |code: Code| Diag::error(code, message.clone());
        match self {
            P::Lower(e) => e.into_diagnostic(),
            P::NeedsFile { span } => err(Code::E0406)
                .at(span, "no `to \"...\"`")
                .note("help: add `to \"plot.svg\"` (or .png); only a notebook cell can show a plot without one"),
            P::NoRun { what, span } => {
                let d = err(Code::E0403)
                    .at(span, "nothing has been minimized yet")
                    .note("help: run `minimize ...;` first");
                if what == "plot lr" {
                    d.note("help: `plot lr` draws the learning rate of the last step-based minimization (Minuit has none)")
                } else {
                    d
                }
            }
            P::NoRunsOf { span, .. } => err(Code::E0403)
                .at(span, "nothing minimized this objective since its last `with paths` plot")
                .note("help: `with paths` draws each `minimize` of the same objective (written the same way) before it"),
            P::PathAxes { span, .. } => err(Code::E0403).at(span, "no path over these axes"),
            P::NoPath { span, .. } => {
                err(Code::E0403).at(span, "too many parameters to record every point")
            }
            P::PathMismatch { span, .. } => err(Code::E0403).at(span, "this plot"),
            P::CurveNotScalar { span } | P::ContourNotScalar { span } => {
                err(Code::E0402).at(span, "not a scalar")
            }
            P::AxisNotScalar { span, .. } => {
                err(Code::E0402).at(span, "a contour axis must be a scalar")
            }
            P::BadRange { span } => err(Code::E0207).at(span, "this range"),
            P::FileNotString { span } => err(Code::E0206).at(span, "not a string"),
            P::NoFolder { written, span, .. } => err(Code::E0406)
                .at(span, "in this folder")
                .note(format!(
                    "help: create it first (`mkdir -p {written}`), or write the plot beside the script"
                )),
            P::UnknownFormat { span, .. } => err(Code::E0406)
                .at(span, "not a .svg or .png file")
                .note("help: end the file name in .svg or .png"),
            P::WriteFailed { span, .. } | P::DrawFailed { span, .. } => {
                err(Code::E0406).at(span, "this file")
            }
        }
    }
}

#[cfg(test)]
mod tests;
