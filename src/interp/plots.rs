//! The `plot` statements (SPEC section 7): the interpreter computes the
//! numbers and `crate::plot` draws them. A contour is evaluated over its
//! whole grid in one pass of one tape, with the axis parameters given the
//! grid's shape; when the objective cannot broadcast that way (it reduces
//! over data, say) one scalar tape is evaluated point by point instead.

use super::{Lowerer, Session};
use crate::diagnostics::{Diag, Span};
use crate::graph::{Graph, Tape};
use crate::plot::{self, ContourPlot};
use crate::syntax::ast::{Expr, PlotKind, PlotRange, Stmt};
use std::path::PathBuf;

/// Grid points per axis of a contour, and samples of a curve plot.
const GRID: usize = 100;
const SAMPLES: usize = 400;

pub fn run(s: &mut Session, kind: &PlotKind, file: &Expr, st: &Stmt) -> Result<(), Diag> {
    let path = target(s, file)?;
    // A file name that picks no format fails before any work is done.
    if !matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("svg" | "png")
    ) {
        let e = plot::PlotError::UnknownExtension { path: path.clone() };
        return Err(plot_error(e, &display(s, file), file));
    }
    let result = match kind {
        PlotKind::Loss => {
            let Some(p) = &s.last_path else {
                return Err(no_run(&st.span, "plot loss"));
            };
            plot::loss_curve(&path, &p.losses, &format!("loss per step: {}", p.title))
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
                let mut tape = Tape::new(&g, &[n]);
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
            plot::curves(&path, &t, &series, &range.var.name)
        }
        PlotKind::Contour {
            objective,
            x,
            y,
            path: with_path,
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
            let mut title = source(s, objective);
            let pts = if *with_path {
                let Some(p) = &s.last_path else {
                    return Err(no_run(&st.span, "plot contour ... with path"));
                };
                let ix = p.names.iter().position(|n| *n == x.var.name);
                let iy = p.names.iter().position(|n| *n == y.var.name);
                let (Some(ix), Some(iy)) = (ix, iy) else {
                    return Err(Diag::error(
                        "E0403",
                        format!(
                            "the last minimization did not move both `{}` and `{}`",
                            x.var.name, y.var.name
                        ),
                    )
                    .at(st.span.clone(), "no path over these axes"));
                };
                if p.points.is_empty() {
                    return Err(
                        Diag::error("E0403", "the last minimization recorded no path")
                            .at(st.span.clone(), "too many parameters to record every point"),
                    );
                }
                title = format!("{title}: {}", p.title);
                Some(p.point_iter().map(|q| (q[ix], q[iy])).collect())
            } else {
                None
            };
            plot::contour(
                &path,
                &ContourPlot {
                    xs,
                    ys,
                    z,
                    levels: None,
                    path: pts,
                    title,
                    xlabel: x.var.name.clone(),
                    ylabel: y.var.name.clone(),
                },
            )
        }
    };
    let shown = display(s, file);
    result.map_err(|e| plot_error(e, &shown, file))?;
    let line = s.line(&st.span);
    let what = match kind {
        PlotKind::Loss => "loss",
        PlotKind::Curves { .. } => "curves",
        PlotKind::Contour { .. } => "contour",
    };
    s.records
        .push(serde_json::json!({"kind": "plot", "line": line, "plot": what, "file": shown}));
    s.say(&format!("plot written to {shown}"));
    Ok(())
}

/// A plot that could not be made, named by the file as the script wrote it.
fn plot_error(e: plot::PlotError, shown: &str, file: &Expr) -> Diag {
    use plot::PlotError as P;
    match e {
        P::UnknownExtension { .. } => Diag::error(
            "E0406",
            format!("cannot tell the image format of \"{shown}\""),
        )
        .at(file.span.clone(), "not a .svg or .png file")
        .note("help: end the file name in .svg or .png"),
        P::Write { source, .. } => Diag::error(
            "E0406",
            format!("cannot write the plot to \"{shown}\": {source}"),
        )
        .at(file.span.clone(), "this file"),
        other => Diag::error(
            "E0406",
            format!("cannot draw the plot \"{shown}\": {other}"),
        )
        .at(file.span.clone(), "this file"),
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
    Ok(if p.is_absolute() {
        p
    } else {
        s.base_dir.join(p)
    })
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
            let mut tape = Tape::new(&g, &[node]);
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
    let mut tape = Tape::new(&g, &[node]);
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
