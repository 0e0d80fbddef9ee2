//! Tests of the plot module: both formats rendered in memory, the SVG's
//! structure (isobands as polygons with fractional coordinates, isolines
//! on the true contour, one polyline per path with one vertex per point),
//! the PNG's pixels (no path colour away from a traced segment, even at
//! sharp turns and off the axes), error paths and sparklines.

#[path = "../../tests/common/figures.rs"]
mod figures;

use super::contour::default_levels;
use super::*;
use figures::{attr, dist, elements, numbers, points, texts};
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

fn grid(n: usize, lo: f64, hi: f64, f: impl Fn(f64, f64) -> f64) -> ContourPlot {
    let xs = linspace(lo, hi, n);
    let ys = linspace(lo, hi, n);
    let z = ys
        .iter()
        .flat_map(|&y| xs.iter().map(move |&x| (x, y)))
        .map(|(x, y)| f(x, y))
        .collect();
    ContourPlot {
        xs,
        ys,
        z,
        title: "Himmelblau".into(),
        xlabel: "x".into(),
        ylabel: "y".into(),
        zlabel: "f(x, y)".into(),
        ..ContourPlot::default()
    }
}

fn himmelblau(n: usize, path: bool) -> ContourPlot {
    let mut p = grid(n, -6.0, 6.0, |x, y| {
        (x * x + y - 11.0f64).powi(2) + (x + y * y - 7.0f64).powi(2)
    });
    if path {
        p.paths = vec![PathSeries {
            label: "MIGRAD".into(),
            points: vec![(0.0, 0.0), (1.5, 1.0), (2.5, 1.8), (3.0, 2.0)],
        }];
    }
    p
}

fn sin_cos() -> (Vec<f64>, Vec<(String, Vec<f64>)>) {
    let t = linspace(-3.0, 3.0, 50);
    let s = t.iter().map(|v| v.sin()).collect();
    let c = t.iter().map(|v| v.cos()).collect();
    (t, vec![("sin(t)".into(), s), ("grad(sin(t), t)".into(), c)])
}

fn svg_of(p: &Plot) -> String {
    String::from_utf8(p.render(Format::Svg).expect("svg")).expect("utf-8")
}

/// The PNG's size and RGB pixels.
fn pixels(p: &Plot) -> (usize, usize, Vec<[u8; 3]>) {
    let bytes = p.render(Format::Png).expect("png");
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("buffer size")];
    let info = reader.next_frame(&mut buf).expect("png data");
    let px = buf[..info.buffer_size()]
        .chunks(3)
        .map(|c| [c[0], c[1], c[2]])
        .collect();
    (info.width as usize, info.height as usize, px)
}

#[test]
fn contour_bands_are_polygons_and_levels_lie_on_the_contour() {
    // f = x^2 + y^2 over [-2, 2]: the level line at 1 is the unit circle.
    let mut p = grid(41, -2.0, 2.0, |x, y| x * x + y * y);
    p.levels = Some(vec![1.0]);
    let svg = svg_of(&Plot::Contour(p));
    let bands = elements(&svg, "path", "band");
    assert!(bands.len() >= 4, "{} bands", bands.len());
    assert!(
        bands.iter().any(|b| numbers(attr(b, "d").unwrap_or(""))
            .iter()
            .any(|v| v.fract() != 0.0)),
        "band coordinates are fractional"
    );
    // No pixel rectangles: the only <rect>s are the background and the clip.
    assert_eq!(svg.matches("<rect").count(), 2);
    // The plotting area is 480 px for 4 units; its origin is the clip's.
    let clip = svg.lines().find(|l| l.contains("<clipPath")).expect("clip");
    let rect = &clip[clip.find("<rect").expect("rect")..];
    let (l, t) = (
        attr(rect, "x").unwrap().parse::<f64>().unwrap(),
        attr(rect, "y").unwrap().parse::<f64>().unwrap(),
    );
    let levels = elements(&svg, "polyline", "level");
    let on_map: Vec<&&str> = levels
        .iter()
        .filter(|e| attr(e, "clip-path").is_some())
        .collect();
    assert!(!on_map.is_empty());
    for e in on_map {
        let v = numbers(attr(e, "points").unwrap_or(""));
        for q in v.chunks(2) {
            let (x, y) = ((q[0] - l) / 120.0 - 2.0, 2.0 - (q[1] - t) / 120.0);
            let r = (x * x + y * y).sqrt();
            assert!((r - 1.0).abs() < 0.02, "({x}, {y}) is {r} from the centre");
        }
    }
    for want in ["Himmelblau", "x", "y", "f(x, y)"] {
        assert!(texts(&svg).iter().any(|t| t == want), "no {want:?}");
    }
}

#[test]
fn a_path_is_one_polyline_with_a_vertex_per_point() {
    let mut p = himmelblau(30, true);
    let pts: Vec<(f64, f64)> = (0..200)
        .map(|k| {
            let a = k as f64 * 0.3;
            (3.0 * a.cos() * (1.0 - k as f64 / 250.0), 3.0 * a.sin())
        })
        .collect();
    p.paths[0].points = pts.clone();
    let svg = svg_of(&Plot::Contour(p));
    let lines = elements(&svg, "polyline", "path");
    assert_eq!(lines.len(), 1);
    assert_eq!(points(lines[0]).len(), pts.len());
    assert!(attr(lines[0], "stroke-linejoin") == Some("round"));
    assert!(texts(&svg).iter().any(|t| t == "MIGRAD"));
}

/// Path-coloured pixels (pure blue) farther than `tol` from every segment
/// of `pts` (already in pixels), outside the legend box `legend`.
fn stray_blue(
    (w, _h, px): &(usize, usize, Vec<[u8; 3]>),
    pts: &[(f64, f64)],
    legend: (f64, f64, f64, f64),
    tol: f64,
) -> Vec<(usize, usize, f64)> {
    let mut out = Vec::new();
    for (k, c) in px.iter().enumerate() {
        let (x, y) = ((k % w) as f64 + 0.5, (k / w) as f64 + 0.5);
        let blue = c[2] > 150 && c[0] < 110 && c[1] < 110 && c[2] as i32 - c[0] as i32 > 90;
        if !blue || (x >= legend.0 && x <= legend.2 && y >= legend.1 && y <= legend.3) {
            continue;
        }
        let d = pts
            .windows(2)
            .map(|s| dist((x, y), s[0], s[1]))
            .fold(f64::INFINITY, f64::min);
        if d > tol {
            out.push((k % w, k / w, d));
        }
    }
    out
}

#[test]
fn sharp_turns_and_excursions_draw_no_false_segments() {
    // A zigzag turning back by nearly 180 degrees at every point (where a
    // mitred 2 px line grows spikes), and a leg far outside the axes.
    let mut p = himmelblau(40, true);
    let mut pts: Vec<(f64, f64)> = (0..60)
        .map(|k| (-4.0 + k as f64 * 0.05, if k % 2 == 0 { 1.0 } else { 1.02 }))
        .collect();
    pts.extend([(-1.0, 1.0), (40.0, -30.0), (-1.0, -1.0), (0.5, -1.2)]);
    p.paths[0].points = pts.clone();
    p.paths[0].label = String::new();
    let svg = svg_of(&Plot::Contour(p.clone()));
    let raster = pixels(&Plot::Contour(p));
    let clip = svg.lines().find(|l| l.contains("<clipPath")).expect("clip");
    let rect = &clip[clip.find("<rect").expect("rect")..];
    let n = |k| attr(rect, k).unwrap().parse::<f64>().unwrap();
    let (l, t, w, h) = (n("x"), n("y"), n("width"), n("height"));
    let to_px = |q: &(f64, f64)| (l + (q.0 + 6.0) / 12.0 * w, t + (6.0 - q.1) / 12.0 * h);
    let px: Vec<(f64, f64)> = pts.iter().map(to_px).collect();
    let legend = elements(&svg, "path", "legend")[0];
    let v = numbers(attr(legend, "d").unwrap_or(""));
    let bx = (v[0] - 1.0, v[1] - 1.0, v[2] + 1.0, v[5] + 1.0);
    let stray = stray_blue(&raster, &px, bx, 5.0);
    assert!(
        stray.is_empty(),
        "{} stray pixels, e.g. {:?}",
        stray.len(),
        &stray[..stray.len().min(5)]
    );
    // Clipped: no blue beyond the plotting area (the legend is inside it).
    let (wd, _, all) = &raster;
    let outside = all.iter().enumerate().filter(|(k, c)| {
        let (x, y) = ((k % wd) as f64, (k / wd) as f64);
        let blue = c[2] > 150 && c[0] < 110 && c[1] < 110;
        blue && (x < l - 1.0 || x > l + w + 1.0 || y < t - 1.0 || y > t + h + 1.0)
    });
    assert_eq!(outside.count(), 0, "path pixels outside the axes");
}

#[test]
fn every_figure_renders_in_both_formats() {
    let (t, series) = sin_cos();
    let plots = [
        Plot::Contour(himmelblau(30, false)),
        Plot::Contour(himmelblau(30, true)),
        Plot::Lines(LinePlot::loss(
            &[4.0, 2.0, 1.0, 0.5],
            "loss per step: SGD",
            "step",
        )),
        Plot::Lines(LinePlot::curves(&t, &series, "sin", "t", "value").expect("curves")),
    ];
    for p in &plots {
        let svg = svg_of(p);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        let (w, h, px) = pixels(p);
        assert!(w >= 600 && h >= 400, "{w} x {h}");
        let dark = px.iter().filter(|c| c.iter().all(|&v| v < 80)).count();
        assert!(dark > 500, "{dark} dark pixels: no text or frame");
        // Antialiased: many grey levels along the lines and text.
        let mut levels = std::collections::HashSet::new();
        levels.extend(px.iter().map(|c| c[0]));
        assert!(levels.len() > 64, "{} levels of red", levels.len());
    }
}

#[test]
fn log_axes_use_one_tick_format_and_show_zeros() {
    let mut losses: Vec<f64> = (0..700)
        .map(|k| 10f64.powf(1.0 - k as f64 / 22.0))
        .collect();
    losses.extend([0.0; 300]);
    let svg = svg_of(&Plot::Lines(LinePlot::loss(
        &losses,
        "loss per step: Adam lr=0.1",
        "step",
    )));
    let ticks: Vec<String> = texts(&svg)
        .into_iter()
        .filter(|t| t.starts_with("10") && !t.is_ascii())
        .collect();
    assert!(ticks.len() >= 5, "{ticks:?}");
    assert!(
        ticks
            .iter()
            .all(|t| t[2..].chars().all(|c| "⁻⁰¹²³⁴⁵⁶⁷⁸⁹".contains(c))),
        "{ticks:?}"
    );
    let note = texts(&svg)
        .into_iter()
        .find(|t| t.starts_with('▼'))
        .expect("a note");
    assert!(note.contains("loss = 0 from step 700"), "{note}");
    assert!(
        !elements(&svg, "path", "marker").is_empty(),
        "zeros marked on the axis"
    );
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
    assert!(matches!(
        curves(&f, &[f64::NAN], &[("a".into(), vec![1.0])], "t"),
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
    p.paths = vec![PathSeries {
        label: String::new(),
        points: vec![
            (0.0, 0.0),
            (f64::NAN, 1.0),
            (20.0, 20.0),
            (-3.0, 3.0),
            (f64::INFINITY, 0.0),
            (1e300, -1e300),
            (2.0, 2.0),
        ],
    }];
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
