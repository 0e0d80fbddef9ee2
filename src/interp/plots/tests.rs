//! Unit tests of the plot statements: their typed errors and the contour grid.

use super::PlotStmtError as P;
use crate::diagnostics::IntoDiagnostic;
use crate::interp::testutil::session_for;
use crate::syntax::ast::StmtKind;

/// The typed error of the last statement of `src` (a plot; the others
/// run first) and the text of its primary span.
fn plot_error(src: &str) -> (P, String) {
    let program = crate::syntax::parse(src).expect("parses");
    let mut s = session_for(src);
    let (last, before) = program.stmts.split_last().expect("a statement");
    for st in before {
        s.exec(st).expect("runs");
    }
    let StmtKind::Plot(kind, _) = &last.kind else {
        panic!("not a plot")
    };
    let e = match super::figure(&mut s, kind, last) {
        Ok(_) => panic!("{src:?} plots"),
        Err(d) => d,
    };
    // figure's errors are Diags at the boundary; rebuild the typed one
    // from the message to check both
    let typed = match kind {
        crate::syntax::ast::PlotKind::Loss => super::loss_figure(&s, last).err(),
        crate::syntax::ast::PlotKind::Curves { exprs, range } => {
            super::curves_figure(&s, exprs, range).err()
        }
        crate::syntax::ast::PlotKind::Contour {
            objective,
            x,
            y,
            path,
        } => super::contour_figure(&s, objective, x, y, *path, last).err(),
        _ => None,
    }
    .expect("a typed error");
    assert_eq!(typed.clone().into_diagnostic(), e);
    (typed, src[e.labels[0].0.clone()].to_string())
}

/// The grid of a contour's objective `f` over x, y in [0, 1] x [0, 2].
fn grid(src: &str, f: &str) -> (Vec<f64>, Option<Vec<f64>>) {
    let src = format!("{src} plot contour {f} over x in [0, 1], y in [0, 2];");
    let program = crate::syntax::parse(&src).expect("parses");
    let mut s = session_for(&src);
    let (last, before) = program.stmts.split_last().expect("a statement");
    for st in before {
        s.exec(st).expect("runs");
    }
    let StmtKind::Plot(
        crate::syntax::ast::PlotKind::Contour {
            objective, x, y, ..
        },
        _,
    ) = &last.kind
    else {
        panic!("not a contour")
    };
    let (xs, ys) = ([0.0, 0.5, 1.0], [0.0, 2.0]);
    let all = super::grid_values(&s, objective, x, y, &xs, &ys).expect("a grid");
    let gx: Vec<f64> = (0..6).map(|k| xs[k % 3]).collect();
    let gy: Vec<f64> = (0..6).map(|k| ys[k / 3]).collect();
    let once = super::grid_at_once(&s, objective, [x, y], [&gx, &gy]).expect("no error");
    (all, once)
}

#[test]
fn a_grid_is_row_major_in_y_at_once_or_point_by_point() {
    let want = [0.0, 0.5, 1.0, 2.0, 2.5, 3.0];
    // x + y broadcasts over the whole grid: one pass
    let (all, once) = grid("", "x + y");
    assert_eq!(all, want);
    assert_eq!(once.as_deref(), Some(&want[..]));
    // a sum over [x, y] does not broadcast: point by point
    let (all, once) = grid("", "sum([x, y])");
    assert_eq!(all, want);
    assert_eq!(once, None);
    // a parameter as an axis, and another parameter read from the session
    let (all, _) = grid("param x = 9; param c = 10;", "x + y * c");
    assert_eq!(all, [0.0, 0.5, 1.0, 20.0, 20.5, 21.0]);
}

#[test]
fn plots_of_a_run_need_one_before_them() {
    let (e, at) = plot_error("plot loss to \"a.svg\";");
    assert!(
        matches!(
            e,
            P::NoRun {
                what: "plot loss",
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(at, "plot loss to \"a.svg\";");
    let (e, _) = plot_error("param x = 1; plot contour x^2 + y^2 over x in [-1, 1], y in [-1, 1] with path to \"a.svg\";");
    assert!(matches!(e, P::NoRun { .. }), "{e:?}");
    let (e, _) = plot_error("param x = 1; plot contour x^2 + y^2 over x in [-1, 1], y in [-1, 1] with paths to \"a.svg\";");
    assert!(matches!(&e, P::NoRunsOf { objective, .. } if objective == "x^2 + y^2"));
}

#[test]
fn curves_and_contours_check_their_ranges_and_shapes() {
    let (e, at) = plot_error("plot sin(t) over t in [1, 0] to \"a.svg\";");
    assert!(matches!(e, P::BadRange { .. }), "{e:?}");
    assert_eq!(at, "1, 0");
    let (e, at) = plot_error("plot [t, t] over t in [0, 1] to \"a.svg\";");
    assert!(matches!(e, P::CurveNotScalar { .. }), "{e:?}");
    assert_eq!(at, "[t, t]");
    let (e, at) = plot_error(
        "param w[2] = 0; plot contour sum(w) over w in [0, 1], y in [0, 1] to \"a.svg\";",
    );
    assert!(
        matches!(&e, P::AxisNotScalar { name, .. } if name == "w"),
        "{e:?}"
    );
    assert_eq!(at, "w");
    let (e, _) = plot_error("plot contour [x, y] over x in [0, 1], y in [0, 1] to \"a.svg\";");
    assert!(matches!(e, P::ContourNotScalar { .. }), "{e:?}");
}

#[test]
fn file_problems_are_worded_with_the_name_as_written() {
    let s = session_for("");
    let file = crate::syntax::parse_expr("\"no/such/dir/a.svg\"").expect("parses");
    let e = super::target(&s, &file).expect_err("no folder");
    assert!(
        matches!(&e, P::NoFolder { written, .. } if written == "no/such/dir"),
        "{e:?}"
    );
    let file = crate::syntax::parse_expr("1").expect("parses");
    assert!(matches!(
        super::target(&s, &file),
        Err(P::FileNotString { .. })
    ));
    let e = P::of_plot(
        crate::plot::PlotError::UnknownExtension {
            path: "a.txt".into(),
        },
        "a.txt",
        &(0..7),
    );
    assert_eq!(e.to_string(), "cannot tell the image format of \"a.txt\"");
    assert_eq!(
        e.into_diagnostic().notes,
        ["help: end the file name in .svg or .png"]
    );
}
