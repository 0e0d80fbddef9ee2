//! The `plot` statements (SPEC section 7): the interpreter computes the
//! numbers and `crate::plot` draws them. A contour is evaluated over its
//! whole grid in one pass of one tape, with the axis parameters given the
//! grid's shape; when the objective cannot broadcast that way (it reduces
//! over data, say) one scalar tape is evaluated point by point instead.

use super::{Lowerer, RunPath, Session};
use crate::diagnostics::{Diag, Span};
use crate::graph::{Graph, Tape};
use crate::plot::{self, ContourPlot, LinePlot, PathSeries, Plot};
use crate::syntax::ast::{Expr, PathMode, PlotKind, PlotRange, Stmt};
use std::path::{Path, PathBuf};

/// Grid points per axis of a contour, and samples of a curve plot.
const GRID: usize = 100;
const SAMPLES: usize = 1001;

/// Runs a plot statement. With `to`, the figure is written to the file;
/// without it (only where the session shows pictures, as in a notebook) it
/// is shown inline only. A session that shows pictures shows every plot.
pub fn run(s: &mut Session, kind: &PlotKind, file: Option<&Expr>, st: &Stmt) -> Result<(), Diag> {
    let (path, shown, span) = match file {
        Some(f) => (Some(target(s, f)?), display(s, f), f.span.clone()),
        None if s.shows_inline() => (None, "(inline)".to_string(), st.span.clone()),
        None => return Err(needs_file(st)),
    };
    // A file name that picks no format fails before any work is done.
    let format = match &path {
        Some(p) => plot::Format::of(p).map_err(|e| plot_error(e, &shown, &span))?,
        None => plot::Format::Svg,
    };
    let figure = match kind {
        PlotKind::Loss => {
            let Some(p) = &s.last_path else {
                return Err(no_run(&st.span, "plot loss"));
            };
            let (per, xlabel) = if is_minuit(&p.title) {
                ("evaluation", "evaluation")
            } else {
                ("step", "step")
            };
            let title = format!("loss per {per}: {}", optimizer_label(&p.title));
            match &p.training {
                // a minibatch run: the epoch means and watched values too
                Some(t) => Ok(Plot::Lines(plot::epoch_loss_plot(
                    &p.losses,
                    t.per_epoch,
                    &t.epoch_loss,
                    &t.watch,
                    &title,
                ))),
                None => Ok(Plot::Lines(LinePlot::loss(&p.losses, &title, xlabel))),
            }
        }
        PlotKind::Lr => {
            let Some(p) = s.last_path.as_ref().filter(|p| !p.lrs.is_empty()) else {
                return Err(no_run(&st.span, "plot lr").note(
                    "help: `plot lr` draws the learning rate of the last step-based minimization (Minuit has none)",
                ));
            };
            let title = format!("learning rate per step: {}", optimizer_label(&p.title));
            Ok(Plot::Lines(plot::lr_plot(&p.lrs, &title)))
        }
        PlotKind::Curves { exprs, range } => {
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
                    return Err(Diag::error(
                        "E0402",
                        "a curve needs a scalar expression of the plot variable",
                    )
                    .at(e.span.clone(), "not a scalar"));
                }
                let mut tape =
                    Tape::try_new(&g, &[n]).map_err(|r| r.diag(e.span.clone(), "this curve"))?;
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
            LinePlot::curves(&t, &series, &title, &range.var.name, ylabel).map(Plot::Lines)
        }
        PlotKind::Contour {
            objective,
            x,
            y,
            path: mode,
        } => {
            let (x0, x1) = bounds(s, x)?;
            let (y0, y1) = bounds(s, y)?;
            let xs: Vec<f64> = (0..GRID)
                .map(|i| x0 + (x1 - x0) * i as f64 / (GRID - 1) as f64)
                .collect();
            let ys: Vec<f64> = (0..GRID)
                .map(|i| y0 + (y1 - y0) * i as f64 / (GRID - 1) as f64)
                .collect();
            let z = grid_values(s, objective, x, y, &xs, &ys)?;
            let text = source(s, objective);
            let (paths, title) = contour_paths(s, *mode, &text, x, y, st)?;
            Ok(Plot::Contour(ContourPlot {
                xs,
                ys,
                z,
                levels: None,
                paths,
                zlabel: text.clone(),
                title,
                xlabel: x.var.name.clone(),
                ylabel: y.var.name.clone(),
            }))
        }
        PlotKind::MnContour { x, y, opts } => Ok(super::run::uncertainty::mncontour_figure(
            s, x, y, opts, st,
        )?),
        PlotKind::Profile { x, opts } => {
            Ok(super::run::uncertainty::profile_figure(s, x, opts, st)?)
        }
    };
    let figure = figure.map_err(|e| plot_error(e, &shown, &span))?;
    let bytes = figure
        .render(format)
        .map_err(|e| plot_error(e, &shown, &span))?;
    if let Some(p) = &path {
        plot::write_atomic(p, &bytes).map_err(|e| plot_error(e, &shown, &span))?;
    }
    s.show(super::Display::Image {
        mime: format.mime(),
        data: &bytes,
    });
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
    let file_json = file.map(|_| shown.clone());
    s.records
        .push(serde_json::json!({"kind": "plot", "line": line, "plot": what, "file": file_json}));
    if file.is_some() {
        s.say(&format!("plot written to {shown}"));
    }
    Ok(())
}

fn needs_file(st: &Stmt) -> Diag {
    Diag::error("E0406", "a plot in a script needs a file")
        .at(st.span.clone(), "no `to \"...\"`")
        .note("help: add `to \"plot.svg\"` (or .png); only a notebook cell can show a plot without one")
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
) -> Result<(Vec<PathSeries>, String), Diag> {
    match mode {
        PathMode::None => Ok((Vec::new(), text.to_string())),
        PathMode::Last => {
            let Some(p) = &s.last_path else {
                return Err(no_run(&st.span, "plot contour ... with path"));
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
                return Err(Diag::error(
                    "E0403",
                    format!("no minimization of `{text}` to draw"),
                )
                .at(st.span.clone(), "nothing minimized this objective since its last `with paths` plot")
                .note("help: `with paths` draws each `minimize` of the same objective (written the same way) before it"));
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
    which: &str,
) -> Result<Vec<(f64, f64)>, Diag> {
    let ix = p.names.iter().position(|n| *n == x.var.name);
    let iy = p.names.iter().position(|n| *n == y.var.name);
    let (Some(ix), Some(iy)) = (ix, iy) else {
        return Err(Diag::error(
            "E0403",
            format!(
                "{which} did not move both `{}` and `{}`",
                x.var.name, y.var.name
            ),
        )
        .at(st.span.clone(), "no path over these axes"));
    };
    let n = p.names.len();
    if p.points.is_empty() {
        return Err(Diag::error("E0403", format!("{which} recorded no path"))
            .at(st.span.clone(), "too many parameters to record every point"));
    }
    if !p.points.len().is_multiple_of(n) {
        // Guarded, not assumed: a mismatch would misplace every point.
        return Err(Diag::error(
            "E0403",
            format!("{which} recorded a path that does not match its parameters"),
        )
        .at(st.span.clone(), "this plot"));
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

/// A plot that could not be made, named by the file as the script wrote it.
fn plot_error(e: plot::PlotError, shown: &str, span: &Span) -> Diag {
    use plot::PlotError as P;
    match e {
        P::UnknownExtension { .. } => Diag::error(
            "E0406",
            format!("cannot tell the image format of \"{shown}\""),
        )
        .at(span.clone(), "not a .svg or .png file")
        .note("help: end the file name in .svg or .png"),
        P::Write { source, .. } => Diag::error(
            "E0406",
            format!("cannot write the plot to \"{shown}\": {source}"),
        )
        .at(span.clone(), "this file"),
        other => Diag::error(
            "E0406",
            format!("cannot draw the plot \"{shown}\": {other}"),
        )
        .at(span.clone(), "this file"),
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

fn no_run(span: &Span, what: &str) -> Diag {
    Diag::error("E0403", format!("{what} needs a minimization before it"))
        .at(span.clone(), "nothing has been minimized yet")
        .note("help: run `minimize ...;` first")
}

fn target(s: &Session, file: &Expr) -> Result<PathBuf, Diag> {
    let crate::syntax::ast::ExprKind::Str(f) = &file.kind else {
        return Err(
            Diag::error("E0206", "a plot's file is a string").at(file.span.clone(), "not a string")
        );
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
            return Err(Diag::error(
                "E0406",
                format!(
                    "cannot write the plot: there is no folder `{}`",
                    shown.display()
                ),
            )
            .at(file.span.clone(), "in this folder")
            .note(format!(
                "help: create it first (`mkdir -p {}`), or write the plot beside the script",
                Path::new(f).parent().unwrap_or(dir).display()
            )));
        }
    }
    Ok(p)
}

fn bounds(s: &Session, r: &PlotRange) -> Result<(f64, f64), Diag> {
    let lo = s.const_scalar(&r.lo)?;
    let hi = s.const_scalar(&r.hi)?;
    if !(lo.is_finite() && hi.is_finite() && lo < hi) {
        return Err(
            Diag::error("E0207", "a plot range needs finite bounds with lo < hi")
                .at(r.lo.span.start..r.hi.span.end, "this range"),
        );
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
) -> Result<Vec<f64>, Diag> {
    let n = xs.len() * ys.len();
    let gx: Vec<f64> = (0..n).map(|k| xs[k % xs.len()]).collect();
    let gy: Vec<f64> = (0..n).map(|k| ys[k / xs.len()]).collect();
    // One pass over the whole grid, when the objective broadcasts.
    let mut g = Graph::new();
    let mut l = Lowerer::new(s, &mut g);
    let mut slots = Vec::new();
    for r in [x, y] {
        match s.param_index(&r.var.name) {
            Some(i) if s.params[i].value.is_scalar() => {
                l.shape_override.insert(i as u32, vec![n]);
                slots.push(i as u32);
            }
            Some(_) => {
                return Err(Diag::error(
                    "E0402",
                    format!("`{}` is not a scalar parameter", r.var.name),
                )
                .at(r.var.span.clone(), "a contour axis must be a scalar"))
            }
            None => slots.push(l.bind_var_shaped(&r.var.name, vec![n])),
        }
    }
    if let Ok(node) = l.num(objective) {
        if g.shape(node) == [n] {
            let mut tape = Tape::try_new(&g, &[node])
                .map_err(|r| r.diag(objective.span.clone(), "this contour's grid"))?;
            for (i, p) in s.params.iter().enumerate() {
                if !slots.contains(&(i as u32)) {
                    tape.set_param(i as u32, &p.value.data);
                }
            }
            tape.set_param(slots[0], &gx);
            tape.set_param(slots[1], &gy);
            tape.forward();
            return Ok(tape.output(0).to_vec());
        }
    }
    // Point by point on one scalar tape.
    let mut g = Graph::new();
    let mut l = Lowerer::new(s, &mut g);
    let mut slots = Vec::new();
    for r in [x, y] {
        match s.param_index(&r.var.name) {
            Some(i) => slots.push(i as u32),
            None => slots.push(l.bind_var(&r.var.name)),
        }
    }
    let node = l.num(objective)?;
    if !g.shape(node).is_empty() {
        return Err(Diag::error("E0402", "a contour needs a scalar objective")
            .at(objective.span.clone(), "not a scalar"));
    }
    let mut tape =
        Tape::try_new(&g, &[node]).map_err(|r| r.diag(objective.span.clone(), "this contour"))?;
    for (i, p) in s.params.iter().enumerate() {
        tape.set_param(i as u32, &p.value.data);
    }
    Ok((0..n)
        .map(|k| {
            tape.set_param(slots[0], &[gx[k]]);
            tape.set_param(slots[1], &[gy[k]]);
            tape.forward();
            tape.output(0)[0]
        })
        .collect())
}
