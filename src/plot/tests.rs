//! Tests of the plot module: every figure in both formats, a structural
//! golden of a small SVG, error paths and sparklines.

use super::contour::{clip_path, contour_lines, default_levels};
use super::*;
use std::path::PathBuf;

/// A fresh, empty directory for one test (removed by `Drop`).
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("losslang-plot-test-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn entries(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&self.0)
            .expect("read temp dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| a + (b - a) * i as f64 / (n - 1) as f64)
        .collect()
}

fn himmelblau(n: usize, path: bool) -> ContourPlot {
    let xs = linspace(-6.0, 6.0, n);
    let ys = linspace(-6.0, 6.0, n);
    let mut z = Vec::with_capacity(n * n);
    for &y in &ys {
        for &x in &xs {
            z.push((x * x + y - 11.0f64).powi(2) + (x + y * y - 7.0f64).powi(2));
        }
    }
    ContourPlot {
        xs,
        ys,
        z,
        levels: None,
        path: path.then(|| vec![(0.0, 0.0), (1.5, 1.0), (2.5, 1.8), (3.0, 2.0)]),
        title: "Himmelblau".into(),
        xlabel: "x".into(),
        ylabel: "y".into(),
    }
}

fn sin_cos() -> (Vec<f64>, Vec<(String, Vec<f64>)>) {
    let t = linspace(-3.0, 3.0, 50);
    let s = t.iter().map(|v| v.sin()).collect();
    let c = t.iter().map(|v| v.cos()).collect();
    (t, vec![("sin(t)".into(), s), ("grad(sin(t), t)".into(), c)])
}

fn assert_svg(file: &Path) -> String {
    let s = std::fs::read_to_string(file).expect("read svg");
    let head = s.trim_start();
    assert!(
        head.starts_with("<svg") || head.starts_with("<?xml"),
        "{head:.40}"
    );
    assert!(s.contains("<polyline") || s.contains("<path"), "no lines");
    assert!(s.contains("<text"), "no text");
    assert!(s.trim_end().ends_with("</svg>"));
    s
}

fn assert_png(file: &Path, size: (u32, u32)) {
    let bytes = std::fs::read(file).expect("read png");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("png header");
    let info = reader.info();
    assert_eq!((info.width, info.height), size);
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    reader.next_frame(&mut buf).expect("png data");
    let first = &buf[..3];
    assert!(
        buf.chunks(3).any(|px| px != first),
        "the image is one colour"
    );
}

/// The contents of the SVG's `<text>` elements, trimmed.
fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(body[..body.find("</text>")?].trim().to_string())
        })
        .collect()
}

fn count(s: &str, what: &str) -> usize {
    s.matches(what).count()
}

#[test]
fn contour_svg_and_png() {
    let dir = TempDir::new("contour");
    let p = himmelblau(40, true);
    contour(&dir.path("c.svg"), &p).expect("svg");
    let s = assert_svg(&dir.path("c.svg"));
    assert!(s.contains("Himmelblau"));
    assert!(s.contains("start") && s.contains("end"));
    contour(&dir.path("c.png"), &p).expect("png");
    assert_png(&dir.path("c.png"), (700, 600));
    assert_eq!(dir.entries(), ["c.png", "c.svg"]);
}

#[test]
fn loss_curve_svg_and_png() {
    let dir = TempDir::new("loss");
    let decaying: Vec<f64> = (0..200).map(|i| 100.0 * 0.9f64.powi(i)).collect();
    loss_curve(&dir.path("log.svg"), &decaying, "decay").expect("log svg");
    let s = assert_svg(&dir.path("log.svg"));
    assert!(s.contains("loss (log scale)"));
    loss_curve(&dir.path("log.png"), &decaying, "decay").expect("log png");
    assert_png(&dir.path("log.png"), (720, 480));
    let flat = [3.0, 2.5, 2.2, 2.1, 2.05];
    loss_curve(&dir.path("lin.svg"), &flat, "flat").expect("linear svg");
    let s = assert_svg(&dir.path("lin.svg"));
    assert!(texts(&s).iter().any(|t| t == "loss"));
    assert!(!s.contains("log scale"));
}

#[test]
fn curves_svg_and_png() {
    let dir = TempDir::new("curves");
    let (t, series) = sin_cos();
    curves(&dir.path("c.SVG"), &t, &series, "t").expect("svg");
    let s = assert_svg(&dir.path("c.SVG"));
    assert!(s.contains("sin(t)") && s.contains("grad(sin(t), t)"));
    curves(&dir.path("c.Png"), &t, &series, "t").expect("png");
    assert_png(&dir.path("c.Png"), (720, 480));
}

/// Structural golden test of a small contour SVG: element counts and texts.
#[test]
fn contour_svg_golden() {
    let dir = TempDir::new("golden");
    let xs = linspace(-1.0, 1.0, 5);
    let ys = linspace(-1.0, 1.0, 5);
    let z: Vec<f64> = ys
        .iter()
        .flat_map(|&y| xs.iter().map(move |&x| x * x + y * y))
        .collect();
    let p = ContourPlot {
        xs,
        ys,
        z,
        levels: Some(vec![0.5]),
        path: Some(vec![(-0.5, -0.5), (0.0, 0.0)]),
        title: "Golden bowl".into(),
        xlabel: "a".into(),
        ylabel: "b".into(),
    };
    contour(&dir.path("g.svg"), &p).expect("svg");
    let s = assert_svg(&dir.path("g.svg"));
    // One title, axis labels and the legend's three names.
    let t = texts(&s);
    for label in ["Golden bowl", "a", "b", "start", "end", "path (2 points)"] {
        assert_eq!(
            t.iter().filter(|x| *x == label).count(),
            1,
            "{label}: {t:?}"
        );
    }
    // Tick labels on both axes (-1 .. 1) and colour-bar labels.
    assert!(t.iter().filter(|x| *x == "0").count() >= 2, "{t:?}");
    // Path markers: 2 white + 2 blue + start/end fills and outlines, plus
    // 2 legend markers.
    assert_eq!(count(&s, "<circle"), 2 + 2 + 4 + 2);
    // Every element is closed and the document is a single <svg>.
    assert_eq!(count(&s, "<svg"), 1);
    assert_eq!(count(&s, "<text"), count(&s, "</text>"));
    // The level line at 0.5 is a closed ring drawn as dashes.
    let ring = contour_lines(&p.xs, &p.ys, &p.z, 0.5);
    assert_eq!(ring.len(), 1);
    assert_eq!(ring[0].first(), ring[0].last());
    assert!(count(&s, "<polyline") > 4);
}

#[test]
fn unknown_extension_is_an_error() {
    let dir = TempDir::new("ext");
    let p = himmelblau(10, false);
    for name in ["f.jpg", "noext", "f.svg.bak"] {
        let err = contour(&dir.path(name), &p).expect_err(name);
        assert!(matches!(err, PlotError::UnknownExtension { .. }));
        assert!(err.to_string().contains(".svg or .png"), "{err}");
    }
    assert!(dir.entries().is_empty());
}

#[test]
fn unwritable_target_leaves_nothing_behind() {
    let dir = TempDir::new("unwritable");
    let missing = dir.path("no/such/dir/f.png");
    let err = loss_curve(&missing, &[1.0, 0.5], "x").expect_err("missing dir");
    assert!(matches!(err, PlotError::Write { .. }));
    let msg = err.to_string();
    assert!(msg.contains("no/such/dir/f.png"), "{msg}");
    // The target is an existing directory: the rename fails after the
    // temporary file was written; it must be removed again.
    std::fs::create_dir(dir.path("taken.svg")).expect("mkdir");
    let err = loss_curve(&dir.path("taken.svg"), &[1.0, 0.5], "x").expect_err("dir");
    assert!(matches!(err, PlotError::Write { .. }), "{err}");
    assert_eq!(dir.entries(), ["taken.svg"]);
}

#[test]
fn bad_data_is_reported() {
    let dir = TempDir::new("bad");
    let f = dir.path("f.svg");
    assert!(matches!(
        loss_curve(&f, &[], "t"),
        Err(PlotError::EmptyData(_))
    ));
    assert!(matches!(
        loss_curve(&f, &[f64::NAN, f64::INFINITY], "t"),
        Err(PlotError::EmptyData(_))
    ));
    assert!(matches!(
        curves(&f, &[0.0, 1.0], &[("a".into(), vec![1.0])], "t"),
        Err(PlotError::InvalidData(_))
    ));
    assert!(matches!(
        curves(&f, &[0.0, 1.0], &[], "t"),
        Err(PlotError::EmptyData(_))
    ));
    let mut p = himmelblau(10, false);
    p.z.pop();
    assert!(matches!(contour(&f, &p), Err(PlotError::InvalidData(_))));
    let mut p = himmelblau(10, false);
    p.xs.swap(0, 1);
    assert!(matches!(contour(&f, &p), Err(PlotError::InvalidData(_))));
    let mut p = himmelblau(10, false);
    p.z.iter_mut().for_each(|v| *v = f64::NAN);
    assert!(matches!(contour(&f, &p), Err(PlotError::EmptyData(_))));
    assert!(dir.entries().is_empty());
}

#[test]
fn nan_and_extreme_data_do_not_panic() {
    let dir = TempDir::new("nan");
    // Contour with NaN/inf cells, negative values and a path leaving the box.
    let mut p = himmelblau(30, true);
    for k in (0..p.z.len()).step_by(7) {
        p.z[k] = [f64::NAN, f64::INFINITY, f64::NEG_INFINITY][k % 3];
    }
    p.z.iter_mut().take(100).for_each(|v| *v -= 50.0);
    p.path = Some(vec![
        (0.0, 0.0),
        (f64::NAN, 1.0),
        (20.0, 20.0),
        (-3.0, 3.0),
        (f64::INFINITY, 0.0),
    ]);
    for ext in ["svg", "png"] {
        contour(&dir.path(&format!("c.{ext}")), &p).expect("contour with NaN");
    }
    // Constant, negative and huge grids.
    for fill in [0.0, -5.0, 1e300, -1e308] {
        let mut q = himmelblau(5, false);
        q.z.iter_mut().for_each(|v| *v = fill);
        let _ = contour(&dir.path("k.svg"), &q);
    }
    let mut q = himmelblau(5, false);
    q.z[0] = -1e308;
    q.z[1] = 1e308;
    let _ = contour(&dir.path("k.png"), &q);
    // Loss curves with gaps and non-positive values, on both axis kinds.
    let losses = [10.0, f64::NAN, 1.0, 0.0, -1.0, 1e-6, f64::INFINITY, 1e-8];
    loss_curve(&dir.path("l.png"), &losses, "gaps").expect("loss with NaN");
    loss_curve(&dir.path("l.svg"), &[1.0], "single").expect("one loss");
    loss_curve(&dir.path("l2.svg"), &[0.0, 0.0], "zeros").expect("zeros");
    let _ = loss_curve(&dir.path("l3.svg"), &[1e-300, 1e300, f64::MAX], "wide");
    // Curves with NaN holes and a degenerate t.
    let (t, mut series) = sin_cos();
    series[0].1[10] = f64::NAN;
    series[1].1[20] = f64::INFINITY;
    curves(&dir.path("c2.svg"), &t, &series, "t").expect("curves with NaN");
    curves(
        &dir.path("c3.svg"),
        &[1.0, 1.0],
        &[("k".into(), vec![2.0, 2.0])],
        "t",
    )
    .expect("degenerate curves");
    let _ = curves(
        &dir.path("c4.png"),
        &[0.0, f64::MAX],
        &[("m".into(), vec![-f64::MAX, f64::MAX])],
        "t",
    );
    // No temporary files are ever left behind.
    assert!(dir.entries().iter().all(|e| !e.starts_with('.')));
}

#[test]
fn level_choice_follows_the_chapter() {
    assert_eq!(default_levels(0.01, 2000.0), CHAPTER_LEVELS.to_vec());
    let small = default_levels(0.0, 2.0);
    assert!(small.len() >= 3, "{small:?}");
    assert!(small.iter().all(|&v| v > 0.0 && v < 2.0));
    let wide = default_levels(1e-4, 5.0);
    assert!(wide.contains(&0.01) && wide.contains(&1.0), "{wide:?}");
    assert!(default_levels(3.0, 3.0).is_empty());
}

#[test]
fn marching_squares_circle() {
    let xs = linspace(-2.0, 2.0, 41);
    let ys = linspace(-2.0, 2.0, 41);
    let z: Vec<f64> = ys
        .iter()
        .flat_map(|&y| xs.iter().map(move |&x| x * x + y * y))
        .collect();
    let lines = contour_lines(&xs, &ys, &z, 1.0);
    assert_eq!(lines.len(), 1);
    let ring = &lines[0];
    assert_eq!(ring.first(), ring.last(), "closed");
    assert!(ring.len() > 40);
    for &(x, y) in ring {
        assert!(((x * x + y * y).sqrt() - 1.0).abs() < 0.02, "({x}, {y})");
    }
    // A NaN hole splits nothing outside it and never panics.
    let mut z2 = z.clone();
    z2[20 * 41 + 30] = f64::NAN;
    assert!(!contour_lines(&xs, &ys, &z2, 1.0).is_empty());
}

#[test]
fn path_clipping() {
    let bx = (0.0, 1.0, 0.0, 1.0);
    let runs = clip_path(&[(0.5, 0.5), (2.0, 0.5), (0.5, 0.25)], bx);
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0], vec![(0.5, 0.5), (1.0, 0.5)]);
    assert_eq!(runs[1].last(), Some(&(0.5, 0.25)));
    let runs = clip_path(&[(0.1, 0.1), (f64::NAN, 0.0), (0.2, 0.2), (0.3, 0.3)], bx);
    assert_eq!(runs, vec![vec![(0.2, 0.2), (0.3, 0.3)]]);
    assert!(clip_path(&[(5.0, 5.0), (6.0, 6.0)], bx).is_empty());
}

#[test]
fn sparkline_basics() {
    assert_eq!(sparkline(&[], 10), "");
    assert_eq!(sparkline(&[1.0, 2.0], 0), "");
    let ramp: Vec<f64> = (0..8).map(f64::from).collect();
    assert_eq!(sparkline(&ramp, 8), "▁▂▃▄▅▆▇█");
    assert_eq!(sparkline(&[5.0, 5.0, 5.0], 3), "▄▄▄");
    assert_eq!(sparkline(&[f64::NAN; 4], 4), "    ");
    assert_eq!(sparkline(&[0.0, f64::NAN, 1.0], 3), "▁ █");
}

#[test]
fn sparkline_resamples_and_uses_log_scale() {
    // Decades: log scale spreads them evenly; linear would squash them.
    assert_eq!(sparkline(&[1000.0, 100.0, 10.0, 1.0], 4), "█▆▃▁");
    assert_eq!(sparkline(&[10.0, 5.0, 2.0, 1.0], 4), "█▄▂▁");
    // Exactly `width` characters whether down- or up-sampling.
    let long: Vec<f64> = (0..1000).map(|i| 1.0 / (1.0 + f64::from(i))).collect();
    let s = sparkline(&long, 30);
    assert_eq!(s.chars().count(), 30);
    assert!(s.starts_with('█') && s.ends_with('▁'), "{s}");
    assert_eq!(sparkline(&[1.0, 2.0], 6).chars().count(), 6);
    // Deterministic, safe with infinities, negatives and huge widths.
    assert_eq!(sparkline(&long, 30), s);
    let odd = [f64::INFINITY, -3.0, 0.0, f64::NEG_INFINITY, 1e300];
    assert_eq!(sparkline(&odd, 5).chars().count(), 5);
    assert_eq!(sparkline(&[1.0], usize::MAX).chars().count(), 4096);
}
