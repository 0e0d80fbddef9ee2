//! Plot output for losslang: contour maps with a minimizer's path, loss
//! curves, function curves and terminal sparklines.
//!
//! Every function takes plain numbers that the interpreter has already
//! computed; nothing here evaluates expressions. The figures follow the
//! chapter "Minimization algorithms": a log-scaled filled contour map with
//! grey dashed level lines (by default at 1, 10, 20, 50, 100, 200, 500 and
//! 1000), the minimizer's path drawn as a blue line with small markers, and
//! curves such as `sin(t)` with `grad(sin(t), t)` under a legend.
//!
//! The file's extension (`.svg` or `.png`, any case) picks the format. A
//! figure is rendered in memory, written to a hidden temporary file in the
//! target's directory and renamed into place, so a failed plot leaves
//! nothing behind. Text uses the bundled DejaVu Sans font
//! (`assets/DejaVuSans.ttf`), so no system fonts are needed.

use std::collections::HashMap;
use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The font every figure uses, compiled into the binary.
static FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
/// The family name the bundled font is registered under.
const FONT: &str = "sans-serif";
/// The chapter's contour levels, used when they fit the data.
const CHAPTER_LEVELS: [f64; 8] = [1.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];
/// Number of colour bands of a filled contour map.
const BANDS: usize = 12;
/// Largest sparkline this module draws, in characters.
const MAX_SPARK_WIDTH: usize = 4096;

/// Matplotlib's default colour cycle ("tab10").
const CYCLE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const LIGHT_GRAY: RGBColor = RGBColor(211, 211, 211);
const LEVEL_GRAY: RGBColor = RGBColor(110, 110, 110);
const PATH_BLUE: RGBColor = RGBColor(0, 0, 255);
const START_GREEN: RGBColor = RGBColor(0, 160, 0);
const END_RED: RGBColor = RGBColor(220, 0, 0);

/// Why a plot could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The file name does not end in `.svg` or `.png`.
    #[error("cannot tell the image format of \"{}\": the file name must end in .svg or .png", .path.display())]
    UnknownExtension {
        /// The file that was asked for.
        path: PathBuf,
    },
    /// The file (or its temporary sibling) could not be written.
    #[error("cannot write plot to \"{}\": {source}", .path.display())]
    Write {
        /// The file that was asked for.
        path: PathBuf,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// There is nothing to draw.
    #[error("nothing to plot: {0}")]
    EmptyData(String),
    /// The data is inconsistent (mismatched lengths, unsorted grid, ...).
    #[error("invalid plot data: {0}")]
    InvalidData(String),
    /// The bundled font could not be loaded.
    #[error("the bundled plot font could not be loaded")]
    Font,
    /// The drawing library failed.
    #[error("could not draw the plot: {0}")]
    Render(String),
}

/// A filled contour map of `z` over a grid, optionally with a minimizer's path.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContourPlot {
    /// Grid x coordinates, strictly increasing (at least 2).
    pub xs: Vec<f64>,
    /// Grid y coordinates, strictly increasing (at least 2).
    pub ys: Vec<f64>,
    /// Values in row-major order: `z[j * xs.len() + i] = f(xs[i], ys[j])`.
    /// Non-finite cells are left blank.
    pub z: Vec<f64>,
    /// Contour line levels; `None` picks the chapter's levels
    /// (1, 10, 20, 50, 100, 200, 500, 1000) when at least three of them fall
    /// inside the data's range, else levels chosen from the data.
    pub levels: Option<Vec<f64>>,
    /// Points visited by a minimizer, joined in order; the first is marked
    /// green and the last red. Non-finite points break the line.
    pub path: Option<Vec<(f64, f64)>>,
    /// Figure title.
    pub title: String,
    /// Label of the x axis.
    pub xlabel: String,
    /// Label of the y axis.
    pub ylabel: String,
}

/// Draws a filled, log-scaled contour map with dashed level lines and the
/// optional path, and writes it to `file` (`.svg` or `.png`).
pub fn contour(file: &Path, p: &ContourPlot) -> Result<(), PlotError> {
    let fig = ContourFig::new(p)?;
    save(file, &fig)
}

/// Draws the loss per step (step 0 first) and writes it to `file`.
///
/// The y axis is logarithmic when the positive finite losses span more than
/// two decades; then non-positive losses are left out. Non-finite losses
/// break the line.
pub fn loss_curve(file: &Path, losses: &[f64], title: &str) -> Result<(), PlotError> {
    let fig = LossFig::new(losses, title)?;
    save(file, &fig)
}

/// Draws several curves over `t`, with a legend naming each series, and
/// writes the figure to `file`. Every series must have `t.len()` values;
/// non-finite values break a curve.
pub fn curves(
    file: &Path,
    t: &[f64],
    series: &[(String, Vec<f64>)],
    xlabel: &str,
) -> Result<(), PlotError> {
    let fig = CurvesFig::new(t, series, xlabel)?;
    save(file, &fig)
}

/// A one-line Unicode sparkline (`▁▂▃▄▅▆▇█`) of `values`, exactly `width`
/// characters long (capped at 4096).
///
/// Values are resampled by averaging (or repeated when there are fewer
/// values than characters). The scale is logarithmic when the positive
/// finite values span more than two decades. Columns with no finite value
/// are spaces; a constant series is drawn at mid height. Empty input or a
/// zero width gives an empty string.
pub fn sparkline(values: &[f64], width: usize) -> String {
    const TICKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let width = width.min(MAX_SPARK_WIDTH);
    if values.is_empty() || width == 0 {
        return String::new();
    }
    let log = log_worthy(values);
    let floor = positive_min(values).unwrap_or(1.0);
    let tr = |v: f64| -> f64 {
        if !v.is_finite() {
            f64::NAN
        } else if log {
            v.max(floor).log10()
        } else {
            v
        }
    };
    let n = values.len();
    let cols: Vec<f64> = (0..width)
        .map(|c| {
            let lo = c * n / width;
            let hi = ((c + 1) * n / width).max(lo + 1).min(n);
            let (sum, count) = values[lo..hi]
                .iter()
                .map(|&v| tr(v))
                .filter(|v| v.is_finite())
                .fold((0.0, 0usize), |(s, k), v| (s + v, k + 1));
            if count == 0 {
                f64::NAN
            } else {
                sum / count as f64
            }
        })
        .collect();
    let (lo, hi) = finite_range(cols.iter().copied()).unwrap_or((0.0, 0.0));
    cols.iter()
        .map(|&v| {
            if !v.is_finite() {
                ' '
            } else if hi - lo <= 0.0 || !(hi - lo).is_finite() {
                TICKS[3]
            } else {
                let k = ((v - lo) / (hi - lo) * 7.0).round();
                TICKS[k.clamp(0.0, 7.0) as usize]
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Output: format, font, rendering and atomic writes.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Svg,
    Png,
}

fn format_of(file: &Path) -> Result<Format, PlotError> {
    let ext = file
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => Ok(Format::Svg),
        Some("png") => Ok(Format::Png),
        _ => Err(PlotError::UnknownExtension {
            path: file.to_path_buf(),
        }),
    }
}

fn ensure_font() -> Result<(), PlotError> {
    static OK: OnceLock<bool> = OnceLock::new();
    let ok = *OK.get_or_init(|| {
        plotters::style::register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font)
    }
}

/// A figure that can draw itself on any plotters backend.
trait Figure {
    /// Canvas size in pixels.
    fn size(&self) -> (u32, u32);
    /// Draws onto `root`, which is already filled white.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

fn de<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> PlotError {
    PlotError::Render(e.to_string())
}

fn render<F: Figure>(fig: &F, format: Format) -> Result<Vec<u8>, PlotError> {
    let (w, h) = fig.size();
    match format {
        Format::Svg => {
            let mut s = String::new();
            {
                let root = SVGBackend::with_string(&mut s, (w, h)).into_drawing_area();
                root.fill(&WHITE).map_err(de)?;
                fig.draw(&root)?;
                root.present().map_err(de)?;
            }
            Ok(s.into_bytes())
        }
        Format::Png => {
            let mut buf = vec![255u8; w as usize * h as usize * 3];
            {
                let root = BitMapBackend::with_buffer(&mut buf, (w, h)).into_drawing_area();
                fig.draw(&root)?;
                root.present().map_err(de)?;
            }
            let mut out = Vec::new();
            let mut enc = png::Encoder::new(&mut out, w, h);
            enc.set_color(png::ColorType::Rgb);
            enc.set_depth(png::BitDepth::Eight);
            let mut writer = enc
                .write_header()
                .map_err(|e| PlotError::Render(format!("PNG encoding failed: {e}")))?;
            writer
                .write_image_data(&buf)
                .map_err(|e| PlotError::Render(format!("PNG encoding failed: {e}")))?;
            writer
                .finish()
                .map_err(|e| PlotError::Render(format!("PNG encoding failed: {e}")))?;
            Ok(out)
        }
    }
}

fn save<F: Figure>(file: &Path, fig: &F) -> Result<(), PlotError> {
    let format = format_of(file)?;
    ensure_font()?;
    let bytes = match catch_unwind(AssertUnwindSafe(|| render(fig, format))) {
        Ok(r) => r?,
        Err(_) => return Err(PlotError::Render("the drawing library panicked".into())),
    };
    write_atomic(file, &bytes)
}

/// Writes `bytes` to a temporary sibling of `file` and renames it into place;
/// on failure the temporary file is removed.
fn write_atomic(file: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let werr = |source| PlotError::Write {
        path: file.to_path_buf(),
        source,
    };
    let name = file.file_name().ok_or_else(|| {
        werr(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path has no file name",
        ))
    })?;
    let tmp_name = format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = file.with_file_name(tmp_name);
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| {
            f.write_all(bytes)?;
            f.sync_all()
        })
        .and_then(|()| std::fs::rename(&tmp, file));
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        werr(e)
    })
}

// ---------------------------------------------------------------------------
// Numeric helpers.

fn finite_range(it: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    it.filter(|v| v.is_finite())
        .fold(None, |acc: Option<(f64, f64)>, v| match acc {
            None => Some((v, v)),
            Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
        })
}

fn positive_min(values: &[f64]) -> Option<f64> {
    finite_range(values.iter().copied().filter(|&v| v > 0.0)).map(|r| r.0)
}

/// True when the positive finite values span more than two decades.
fn log_worthy(values: &[f64]) -> bool {
    match finite_range(values.iter().copied().filter(|&v| v > 0.0)) {
        Some((lo, hi)) => hi / lo > 100.0,
        None => false,
    }
}

/// A non-empty axis range around `[lo, hi]` with a 5% margin each side.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let span = hi - lo;
    if !(span.is_finite()) || span <= 0.0 {
        let d = if lo.abs() > 0.0 && lo.is_finite() {
            lo.abs() * 0.1
        } else {
            1.0
        };
        return (lo - d, lo + d);
    }
    (lo - 0.05 * span, hi + 0.05 * span)
}

/// A compact tick label: no trailing zeros, exponent form for extremes.
fn fmt_tick(v: f64) -> String {
    if v == 0.0 || !v.is_finite() {
        return if v.is_finite() {
            "0".into()
        } else {
            v.to_string()
        };
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        let s = format!("{v:.1e}");
        return s.replace(".0e", "e");
    }
    let mut s = format!("{v:.4}");
    while s.ends_with('0') {
        s.pop();
    }
    if s.ends_with('.') {
        s.pop();
    }
    if s == "-0" {
        s = "0".into();
    }
    s
}

/// "Nice" step (1, 2 or 5 times a power of ten) for about `n` intervals.
fn nice_step(span: f64, n: f64) -> f64 {
    let raw = span / n;
    let p = 10f64.powf(raw.log10().floor());
    let f = raw / p;
    let m = if f < 1.5 {
        1.0
    } else if f < 3.5 {
        2.0
    } else if f < 7.5 {
        5.0
    } else {
        10.0
    };
    m * p
}

/// Contour levels for finite data in `[lo, hi]`.
fn default_levels(lo: f64, hi: f64) -> Vec<f64> {
    let inside = |v: &&f64| **v > lo && **v < hi;
    if CHAPTER_LEVELS.iter().filter(inside).count() >= 3 {
        return CHAPTER_LEVELS.to_vec();
    }
    if !(hi > lo) {
        return Vec::new();
    }
    if lo > 0.0 && hi / lo > 100.0 {
        // 1-2-5 sequence across the decades.
        let mut out = Vec::new();
        let mut e = lo.log10().floor() as i32;
        while out.len() < 64 && 10f64.powi(e) < hi {
            for m in [1.0, 2.0, 5.0] {
                let v = m * 10f64.powi(e);
                if v > lo && v < hi {
                    out.push(v);
                }
            }
            e += 1;
        }
        return out;
    }
    let step = nice_step(hi - lo, 8.0);
    let mut v = (lo / step).floor() * step;
    let mut out = Vec::new();
    while v < hi && out.len() < 64 {
        if v > lo {
            out.push(v);
        }
        v += step;
    }
    out
}

/// Viridis (matplotlib's default colour map) at `t` in `[0, 1]`.
fn viridis(t: f64) -> (f64, f64, f64) {
    const V: [(f64, f64, f64); 8] = [
        (68.0, 1.0, 84.0),
        (70.0, 50.0, 127.0),
        (54.0, 92.0, 141.0),
        (39.0, 127.0, 143.0),
        (31.0, 162.0, 136.0),
        (74.0, 194.0, 110.0),
        (160.0, 219.0, 57.0),
        (254.0, 232.0, 37.0),
    ];
    let x = t.clamp(0.0, 1.0) * 7.0;
    let i = (x.floor() as usize).min(6);
    let f = x - i as f64;
    let (a, b) = (V[i], V[i + 1]);
    (
        a.0 + (b.0 - a.0) * f,
        a.1 + (b.1 - a.1) * f,
        a.2 + (b.2 - a.2) * f,
    )
}

/// Colour of band `k` of `n`: viridis washed towards white, as a faint
/// background for the lines and path drawn over it.
fn band_colour(k: usize, n: usize) -> RGBColor {
    const ALPHA: f64 = 0.45;
    let (r, g, b) = viridis((k as f64 + 0.5) / n.max(1) as f64);
    let mix = |c: f64| (255.0 * (1.0 - ALPHA) + c * ALPHA).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
}

fn text(size: f64) -> TextStyle<'static> {
    TextStyle::from(FontDesc::new(FontFamily::Name(FONT), size, FontStyle::Normal))
}

/// Splits `(x, y)` pairs into runs of consecutive points that pass `keep`.
fn runs(points: impl Iterator<Item = (f64, f64)>, keep: impl Fn(f64, f64) -> bool) -> Vec<Vec<(f64, f64)>> {
    let mut out = vec![Vec::new()];
    for (x, y) in points {
        if keep(x, y) {
            if let Some(last) = out.last_mut() {
                last.push((x, y));
            }
        } else if out.last().is_some_and(|r| !r.is_empty()) {
            out.push(Vec::new());
        }
    }
    out.retain(|r| !r.is_empty());
    out
}

/// Clips the segment `a`-`b` to the box `[x0, x1] x [y0, y1]` (Liang-Barsky).
fn clip_segment(
    a: (f64, f64),
    b: (f64, f64),
    (x0, x1, y0, y1): (f64, f64, f64, f64),
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [
        (-dx, a.0 - x0),
        (dx, x1 - a.0),
        (-dy, a.1 - y0),
        (dy, y1 - a.1),
    ] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let r = q / p;
            if p < 0.0 {
                t0 = t0.max(r);
            } else {
                t1 = t1.min(r);
            }
        }
    }
    if t0 > t1 || !t0.is_finite() || !t1.is_finite() {
        return None;
    }
    let at = |t: f64| (a.0 + t * dx, a.1 + t * dy);
    Some((if t0 > 0.0 { at(t0) } else { a }, if t1 < 1.0 { at(t1) } else { b }))
}

/// The path as polylines clipped to the box; non-finite points break it.
fn clip_path(path: &[(f64, f64)], bx: (f64, f64, f64, f64)) -> Vec<Vec<(f64, f64)>> {
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut cur: Vec<(f64, f64)> = Vec::new();
    let finite = |p: &(f64, f64)| p.0.is_finite() && p.1.is_finite();
    for w in path.windows(2) {
        let (a, b) = (w[0], w[1]);
        let seg = if finite(&a) && finite(&b) {
            clip_segment(a, b, bx)
        } else {
            None
        };
        match seg {
            None => {
                if cur.len() > 1 {
                    out.push(std::mem::take(&mut cur));
                }
                cur.clear();
            }
            Some((ca, cb)) => {
                if cur.last() != Some(&ca) {
                    if cur.len() > 1 {
                        out.push(std::mem::take(&mut cur));
                    }
                    cur.clear();
                    cur.push(ca);
                }
                cur.push(cb);
                if cb != b {
                    out.push(std::mem::take(&mut cur));
                }
            }
        }
    }
    if cur.len() > 1 {
        out.push(cur);
    }
    out
}

/// Marching squares: the contour of `z` at `level` as polylines in data
/// coordinates. Cells with a non-finite corner are skipped.
fn contour_lines(xs: &[f64], ys: &[f64], z: &[f64], level: f64) -> Vec<Vec<(f64, f64)>> {
    let nx = xs.len();
    let ny = ys.len();
    if nx < 2 || ny < 2 || z.len() != nx * ny || !level.is_finite() {
        return Vec::new();
    }
    let at = |i: usize, j: usize| z[j * nx + i];
    // Edge ids: 2*(j*nx+i) is the edge (i,j)-(i+1,j); +1 is (i,j)-(i,j+1).
    let point = |e: usize| -> (f64, f64) {
        let v = e / 2;
        let (i, j) = (v % nx, v / nx);
        let (a, (bi, bj)) = (at(i, j), if e % 2 == 0 { (i + 1, j) } else { (i, j + 1) });
        let b = at(bi, bj);
        let t = ((level - a) / (b - a)).clamp(0.0, 1.0);
        let t = if t.is_finite() { t } else { 0.5 };
        (
            xs[i] + t * (xs[bi] - xs[i]),
            ys[j] + t * (ys[bj] - ys[j]),
        )
    };
    let mut segs: Vec<(usize, usize)> = Vec::new();
    for j in 0..ny - 1 {
        for i in 0..nx - 1 {
            let v = [at(i, j), at(i + 1, j), at(i + 1, j + 1), at(i, j + 1)];
            if v.iter().any(|c| !c.is_finite()) {
                continue;
            }
            let above = v.map(|c| c >= level);
            // Edges: bottom, right, top, left; corner k touches edges k-1 and k.
            let edges = [
                2 * (j * nx + i),
                2 * (j * nx + i + 1) + 1,
                2 * ((j + 1) * nx + i),
                2 * (j * nx + i) + 1,
            ];
            let crossed: Vec<usize> = (0..4)
                .filter(|&k| above[k] != above[(k + 1) % 4])
                .collect();
            match crossed.len() {
                2 => segs.push((edges[crossed[0]], edges[crossed[1]])),
                4 => {
                    let centre = (v[0] + v[1] + v[2] + v[3]) / 4.0 >= level;
                    for k in 0..4 {
                        if above[k] != centre {
                            segs.push((edges[(k + 3) % 4], edges[k]));
                        }
                    }
                }
                _ => {}
            }
        }
    }
    // Join segments sharing an edge into polylines.
    let mut by_edge: HashMap<usize, Vec<usize>> = HashMap::new();
    for (s, &(a, b)) in segs.iter().enumerate() {
        by_edge.entry(a).or_default().push(s);
        by_edge.entry(b).or_default().push(s);
    }
    let mut used = vec![false; segs.len()];
    let next = |edge: usize, used: &mut Vec<bool>| -> Option<usize> {
        let s = *by_edge.get(&edge)?.iter().find(|&&s| !used[s])?;
        used[s] = true;
        let (a, b) = segs[s];
        Some(if a == edge { b } else { a })
    };
    let mut lines = Vec::new();
    for s in 0..segs.len() {
        if used[s] {
            continue;
        }
        used[s] = true;
        let (a, b) = segs[s];
        let mut fwd = vec![a, b];
        while let Some(e) = next(*fwd.last().unwrap_or(&b), &mut used) {
            fwd.push(e);
        }
        let mut back = Vec::new();
        let mut e = a;
        while let Some(n) = next(e, &mut used) {
            back.push(n);
            e = n;
        }
        back.reverse();
        back.extend(fwd);
        lines.push(back.into_iter().map(point).collect());
    }
    lines
}

/// Boundaries of the colour bands in the shifted space `u = z + shift`:
/// a log sequence when the data spans a decade or more, else linear.
fn band_bounds(floor: f64, umax: f64) -> Vec<f64> {
    if !(umax > floor) || !floor.is_finite() || !umax.is_finite() {
        return Vec::new();
    }
    if floor > 0.0 && umax / floor >= 10.0 {
        let decades = (umax / floor).log10();
        let mults: &[f64] = if decades >= 6.0 {
            &[1.0]
        } else if decades >= 3.0 {
            &[1.0, 3.0]
        } else {
            &[1.0, 2.0, 5.0]
        };
        let mut e = floor.log10().floor() as i32;
        let mut out = Vec::new();
        while out.len() < 40 && 10f64.powi(e) < umax {
            for m in mults {
                let v = m * 10f64.powi(e);
                if v > floor && v < umax {
                    out.push(v);
                }
            }
            e += 1;
        }
        if decades > 12.0 {
            // Too many decades: keep every other boundary.
            out = out.into_iter().step_by(2).collect();
        }
        return out;
    }
    let step = nice_step(umax - floor, BANDS as f64);
    let mut v = (floor / step).floor() * step;
    let mut out = Vec::new();
    while v < umax && out.len() < 40 {
        if v > floor {
            out.push(v);
        }
        v += step;
    }
    out
}

// ---------------------------------------------------------------------------
// Contour figure.

struct ContourFig<'a> {
    p: &'a ContourPlot,
    /// `u = z + shift` is positive wherever the colour scale is logarithmic.
    shift: f64,
    /// Band boundaries in `u`; band k lies between bounds[k-1] and bounds[k].
    bounds: Vec<f64>,
    lines: Vec<Vec<(f64, f64)>>,
}

fn check_axis(name: &str, v: &[f64]) -> Result<(), PlotError> {
    if v.len() < 2 {
        return Err(PlotError::InvalidData(format!(
            "the contour grid needs at least 2 {name} values, got {}",
            v.len()
        )));
    }
    if v.iter().any(|c| !c.is_finite()) || v.windows(2).any(|w| w[1] <= w[0]) {
        return Err(PlotError::InvalidData(format!(
            "the contour grid's {name} values must be finite and strictly increasing"
        )));
    }
    Ok(())
}

impl<'a> ContourFig<'a> {
    fn new(p: &'a ContourPlot) -> Result<Self, PlotError> {
        check_axis("x", &p.xs)?;
        check_axis("y", &p.ys)?;
        let (nx, ny) = (p.xs.len(), p.ys.len());
        if nx.checked_mul(ny) != Some(p.z.len()) {
            return Err(PlotError::InvalidData(format!(
                "the contour grid is {nx} x {ny} but has {} values",
                p.z.len()
            )));
        }
        let (zmin, zmax) = finite_range(p.z.iter().copied()).ok_or_else(|| {
            PlotError::EmptyData("every value of the contour grid is NaN or infinite".into())
        })?;
        let shift = if zmin >= 0.0 {
            0.0
        } else {
            let d = ((zmax - zmin) * 1e-3).max(f64::MIN_POSITIVE);
            -zmin + d
        };
        let umax = zmax + shift;
        let umin_pos = finite_range(p.z.iter().map(|z| z + shift).filter(|&u| u > 0.0))
            .map_or(umax, |r| r.0);
        let floor = umin_pos.max(umax * 1e-6);
        let bounds = band_bounds(floor, umax);
        let levels = match &p.levels {
            Some(l) => l.clone(),
            None => default_levels(zmin, zmax),
        };
        let lines = levels
            .iter()
            .flat_map(|&l| contour_lines(&p.xs, &p.ys, &p.z, l))
            .collect();
        Ok(Self {
            p,
            shift,
            bounds,
            lines,
        })
    }

    fn band_of(&self, z: f64) -> usize {
        let u = z + self.shift;
        self.bounds.partition_point(|&b| b <= u)
    }

    /// Fills the plotting area pixel by pixel (bilinear interpolation, then
    /// banding), merged into rectangles of equal colour.
    fn fill<DB: DrawingBackend>(&self, area: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let p = self.p;
        let (w, h) = area.dim_in_pixel();
        let (w, h) = (w as usize, h as usize);
        if w == 0 || h == 0 {
            return Ok(());
        }
        let nx = p.xs.len();
        let (x0, x1) = (p.xs[0], p.xs[nx - 1]);
        let (y0, y1) = (p.ys[0], p.ys[p.ys.len() - 1]);
        let locate = |grid: &[f64], v: f64| -> (usize, f64) {
            let i = grid
                .partition_point(|&g| g <= v)
                .saturating_sub(1)
                .min(grid.len() - 2);
            let f = ((v - grid[i]) / (grid[i + 1] - grid[i])).clamp(0.0, 1.0);
            (i, f)
        };
        let cols: Vec<(usize, f64)> = (0..w)
            .map(|px| locate(&p.xs, x0 + (px as f64 + 0.5) / w as f64 * (x1 - x0)))
            .collect();
        let nbands = self.bounds.len() + 1;
        let colours: Vec<RGBColor> = (0..nbands).map(|k| band_colour(k, nbands)).collect();
        // Open rectangles: (x start, x end, band) -> first row.
        let mut open: HashMap<(usize, usize, usize), usize> = HashMap::new();
        let mut rects: Vec<(usize, usize, usize, usize, usize)> = Vec::new();
        for py in 0..=h {
            let mut row_runs: Vec<(usize, usize, usize)> = Vec::new();
            if py < h {
                let (j, fy) = locate(&p.ys, y1 - (py as f64 + 0.5) / h as f64 * (y1 - y0));
                let mut run: Option<(usize, usize)> = None;
                for (px, &(i, fx)) in cols.iter().enumerate() {
                    let c = [
                        p.z[j * nx + i],
                        p.z[j * nx + i + 1],
                        p.z[(j + 1) * nx + i],
                        p.z[(j + 1) * nx + i + 1],
                    ];
                    let band = if c.iter().all(|v| v.is_finite()) {
                        let v = (c[0] * (1.0 - fx) + c[1] * fx) * (1.0 - fy)
                            + (c[2] * (1.0 - fx) + c[3] * fx) * fy;
                        Some(self.band_of(v))
                    } else {
                        None
                    };
                    match (run, band) {
                        (Some((s, b)), Some(nb)) if b == nb => {
                            let _ = s;
                        }
                        _ => {
                            if let Some((s, b)) = run {
                                row_runs.push((s, px, b));
                            }
                            run = band.map(|b| (px, b));
                        }
                    }
                }
                if let Some((s, b)) = run {
                    row_runs.push((s, w, b));
                }
            }
            let mut next_open = HashMap::with_capacity(row_runs.len());
            for key in row_runs {
                let start = open.remove(&key).unwrap_or(py);
                next_open.insert(key, start);
            }
            for ((xs, xe, b), ys) in open.drain() {
                rects.push((xs, xe, ys, py, b));
            }
            open = next_open;
        }
        rects.sort_unstable();
        for (xs, xe, ys, ye, b) in rects {
            let colour = colours.get(b).copied().unwrap_or(WHITE);
            area.draw(&Rectangle::new(
                [(xs as i32, ys as i32), (xe as i32, ye as i32)],
                colour.filled(),
            ))
            .map_err(de)?;
        }
        Ok(())
    }

    /// The colour bar: equal-height bands labelled with their boundaries.
    fn colour_bar<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        top: i32,
        bottom: i32,
    ) -> Result<(), PlotError> {
        let nb = self.bounds.len() + 1;
        if self.bounds.is_empty() || bottom - top < 20 {
            return Ok(());
        }
        let (x0, x1) = (8, 26);
        let hgt = (bottom - top) as f64;
        let y_of = |k: usize| bottom - (k as f64 / nb as f64 * hgt).round() as i32;
        for k in 0..nb {
            area.draw(&Rectangle::new(
                [(x0, y_of(k + 1)), (x1, y_of(k))],
                band_colour(k, nb).filled(),
            ))
            .map_err(de)?;
        }
        area.draw(&Rectangle::new([(x0, top), (x1, bottom)], BLACK.stroke_width(1)))
            .map_err(de)?;
        let every = if self.bounds.len() > 10 { 2 } else { 1 };
        let style = text(12.0).pos(Pos::new(HPos::Left, VPos::Center));
        for (k, b) in self.bounds.iter().enumerate().step_by(every) {
            let y = y_of(k + 1);
            area.draw(&PathElement::new(vec![(x1, y), (x1 + 4, y)], BLACK))
                .map_err(de)?;
            let label = fmt_tick(sig(b - self.shift, 3));
            area.draw(&Text::new(label, (x1 + 7, y), style.clone()))
                .map_err(de)?;
        }
        Ok(())
    }
}

/// `v` rounded to `n` significant digits.
fn sig(v: f64, n: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let p = 10f64.powi(n - 1 - v.abs().log10().floor() as i32);
    let r = (v * p).round() / p;
    if r.is_finite() {
        r
    } else {
        v
    }
}

impl Figure for ContourFig<'_> {
    fn size(&self) -> (u32, u32) {
        (700, 600)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let p = self.p;
        let (main, bar) = root.split_horizontally(600);
        let (x0, x1) = (p.xs[0], p.xs[p.xs.len() - 1]);
        let (y0, y1) = (p.ys[0], p.ys[p.ys.len() - 1]);
        let mut chart = ChartBuilder::on(&main)
            .caption(&p.title, text(20.0))
            .margin(12)
            .x_label_area_size(48)
            .y_label_area_size(62)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(de)?;
        let plot_area = chart.plotting_area().strip_coord_spec();
        self.fill(&plot_area)?;
        chart
            .draw_series(self.lines.iter().map(|l| {
                DashedPathElement::new(l.clone(), 6, 4, LEVEL_GRAY.stroke_width(1))
            }))
            .map_err(de)?;
        if let Some(path) = p.path.as_deref() {
            let bx = (x0, x1, y0, y1);
            let inside = |q: &&(f64, f64)| {
                q.0.is_finite() && q.1.is_finite() && q.0 >= x0 && q.0 <= x1 && q.1 >= y0 && q.1 <= y1
            };
            chart
                .draw_series(
                    clip_path(path, bx)
                        .into_iter()
                        .map(|l| PathElement::new(l, PATH_BLUE.stroke_width(1))),
                )
                .map_err(de)?
                .label(format!("path ({} points)", path.len()))
                .legend(|(x, y)| PathElement::new(vec![(x - 8, y), (x + 8, y)], PATH_BLUE));
            chart
                .draw_series(path.iter().filter(inside).map(|&q| Circle::new(q, 3, WHITE.filled())))
                .map_err(de)?;
            chart
                .draw_series(path.iter().filter(inside).map(|&q| Circle::new(q, 1.5, PATH_BLUE.filled())))
                .map_err(de)?;
            let ends = [
                (path.iter().find(|q| q.0.is_finite() && q.1.is_finite()), START_GREEN, "start"),
                (path.iter().rev().find(|q| q.0.is_finite() && q.1.is_finite()), END_RED, "end"),
            ];
            for (q, colour, name) in ends {
                if let Some(&q) = q.filter(|q| inside(q)) {
                    chart
                        .draw_series(std::iter::once(Circle::new(q, 5, colour.filled())))
                        .map_err(de)?
                        .label(name)
                        .legend(move |(x, y)| Circle::new((x, y), 5, colour.filled()));
                    chart
                        .draw_series(std::iter::once(Circle::new(q, 5, BLACK.stroke_width(1))))
                        .map_err(de)?;
                }
            }
        }
        let fx = |v: &f64| fmt_tick(*v);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(p.xlabel.as_str())
            .y_desc(p.ylabel.as_str())
            .axis_desc_style(text(16.0))
            .label_style(text(13.0))
            .x_label_formatter(&fx)
            .y_label_formatter(&fx)
            .x_labels(8)
            .y_labels(8)
            .draw()
            .map_err(de)?;
        if p.path.is_some() {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(WHITE.mix(0.85))
                .border_style(LIGHT_GRAY)
                .label_font(text(13.0))
                .draw()
                .map_err(de)?;
        }
        let (w, h) = plot_area.dim_in_pixel();
        plot_area
            .draw(&Rectangle::new([(0, 0), (w as i32 - 1, h as i32 - 1)], BLACK.stroke_width(1)))
            .map_err(de)?;
        // Colour bar beside the plotting area, vertically aligned with it.
        let (_, yr) = chart.plotting_area().get_pixel_range();
        let base = bar.get_base_pixel().1;
        self.colour_bar(&bar, yr.start - base, yr.end - base)
    }
}

// ---------------------------------------------------------------------------
// Line figures: loss curve and curves over t.

/// One named line of a line figure, already split into drawable runs.
struct Line {
    name: Option<String>,
    colour: RGBColor,
    runs: Vec<Vec<(f64, f64)>>,
}

/// Shared layout of the loss and curves figures.
struct LineChart<'a> {
    title: &'a str,
    xlabel: &'a str,
    ylabel: &'a str,
    x: (f64, f64),
    lines: Vec<Line>,
    /// Dotted light-grey lines at x = 0 and y = 0 (as in the chapter).
    zero_lines: bool,
    integer_x: bool,
}

impl LineChart<'_> {
    fn draw<DB: DrawingBackend, Y>(
        &self,
        root: &DrawingArea<DB, Shift>,
        y: Y,
    ) -> Result<(), PlotError>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(self.title, text(20.0))
            .margin(14)
            .x_label_area_size(48)
            .y_label_area_size(70)
            .build_cartesian_2d(self.x.0..self.x.1, y)
            .map_err(de)?;
        let (xr, yr) = (chart.x_range(), chart.y_range());
        if self.zero_lines {
            let grey = LIGHT_GRAY.stroke_width(1);
            let mut zl = Vec::new();
            if xr.start < 0.0 && xr.end > 0.0 {
                zl.push(vec![(0.0, yr.start), (0.0, yr.end)]);
            }
            if yr.start < 0.0 && yr.end > 0.0 {
                zl.push(vec![(xr.start, 0.0), (xr.end, 0.0)]);
            }
            chart
                .draw_series(zl.into_iter().map(|l| DashedPathElement::new(l, 2, 3, grey)))
                .map_err(de)?;
        }
        for line in &self.lines {
            let style = line.colour.stroke_width(2);
            let anno = chart
                .draw_series(line.runs.iter().map(|r| PathElement::new(r.clone(), style)))
                .map_err(de)?;
            if let Some(name) = &line.name {
                let c = line.colour;
                anno.label(name.as_str())
                    .legend(move |(x, y)| PathElement::new(vec![(x - 10, y), (x + 10, y)], c.stroke_width(2)));
            }
        }
        let fx = |v: &f64| {
            if self.integer_x && v.fract() != 0.0 {
                String::new()
            } else {
                fmt_tick(*v)
            }
        };
        let fy = |v: &f64| fmt_tick(*v);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.xlabel)
            .y_desc(self.ylabel)
            .axis_desc_style(text(16.0))
            .label_style(text(13.0))
            .x_label_formatter(&fx)
            .y_label_formatter(&fy)
            .x_labels(10)
            .y_labels(10)
            .draw()
            .map_err(de)?;
        if self.lines.iter().any(|l| l.name.is_some()) {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.85))
                .border_style(LIGHT_GRAY)
                .label_font(text(14.0))
                .draw()
                .map_err(de)?;
        }
        let area = chart.plotting_area().strip_coord_spec();
        let (w, h) = area.dim_in_pixel();
        area.draw(&Rectangle::new([(0, 0), (w as i32 - 1, h as i32 - 1)], BLACK.stroke_width(1)))
            .map_err(de)?;
        Ok(())
    }
}

struct LossFig {
    chart_title: String,
    lines: Vec<Line>,
    x: (f64, f64),
    /// `Some((lo, hi))` for a logarithmic y axis.
    log_y: Option<(f64, f64)>,
    y: (f64, f64),
}

impl LossFig {
    fn new(losses: &[f64], title: &str) -> Result<Self, PlotError> {
        if losses.is_empty() {
            return Err(PlotError::EmptyData("the loss history is empty".into()));
        }
        let (lo, hi) = finite_range(losses.iter().copied()).ok_or_else(|| {
            PlotError::EmptyData("every loss value is NaN or infinite".into())
        })?;
        let n = losses.len();
        let x = if n == 1 {
            (-0.5, 0.5)
        } else {
            padded(0.0, (n - 1) as f64)
        };
        let log = log_worthy(losses);
        let pts = losses.iter().enumerate().map(|(i, &v)| (i as f64, v));
        let runs = if log {
            runs(pts, |_, v| v.is_finite() && v > 0.0)
        } else {
            runs(pts, |_, v| v.is_finite())
        };
        let log_y = if log {
            finite_range(losses.iter().copied().filter(|&v| v > 0.0))
                .map(|(a, b)| (a / 10f64.powf((b / a).log10() * 0.05), b * 10f64.powf((b / a).log10() * 0.05)))
        } else {
            None
        };
        Ok(Self {
            chart_title: title.to_string(),
            lines: vec![Line {
                name: None,
                colour: CYCLE[0],
                runs,
            }],
            x,
            log_y,
            y: padded(lo, hi),
        })
    }
}

impl Figure for LossFig {
    fn size(&self) -> (u32, u32) {
        (720, 480)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let chart = LineChart {
            title: &self.chart_title,
            xlabel: "step",
            ylabel: "loss",
            x: self.x,
            lines: self
                .lines
                .iter()
                .map(|l| Line {
                    name: l.name.clone(),
                    colour: l.colour,
                    runs: l.runs.clone(),
                })
                .collect(),
            zero_lines: false,
            integer_x: true,
        };
        match self.log_y {
            Some((a, b)) => chart.draw(root, (a..b).log_scale()),
            None => chart.draw(root, self.y.0..self.y.1),
        }
    }
}

struct CurvesFig<'a> {
    xlabel: &'a str,
    lines: Vec<Line>,
    x: (f64, f64),
    y: (f64, f64),
}

impl<'a> CurvesFig<'a> {
    fn new(t: &[f64], series: &[(String, Vec<f64>)], xlabel: &'a str) -> Result<Self, PlotError> {
        if t.is_empty() || series.is_empty() {
            return Err(PlotError::EmptyData(if t.is_empty() {
                "no sample points for t".into()
            } else {
                "no curves were given".into()
            }));
        }
        if let Some((name, v)) = series.iter().find(|(_, v)| v.len() != t.len()) {
            return Err(PlotError::InvalidData(format!(
                "curve \"{name}\" has {} values but t has {}",
                v.len(),
                t.len()
            )));
        }
        let (tlo, thi) = finite_range(t.iter().copied())
            .ok_or_else(|| PlotError::EmptyData("every t value is NaN or infinite".into()))?;
        let (ylo, yhi) = finite_range(series.iter().flat_map(|(_, v)| v.iter().copied()))
            .ok_or_else(|| PlotError::EmptyData("every curve value is NaN or infinite".into()))?;
        let lines = series
            .iter()
            .enumerate()
            .map(|(k, (name, v))| Line {
                name: Some(name.clone()),
                colour: CYCLE[k % CYCLE.len()],
                runs: runs(t.iter().copied().zip(v.iter().copied()), |a, b| {
                    a.is_finite() && b.is_finite()
                }),
            })
            .collect();
        Ok(Self {
            xlabel,
            lines,
            x: if thi > tlo { (tlo, thi) } else { padded(tlo, thi) },
            y: padded(ylo, yhi),
        })
    }
}

impl Figure for CurvesFig<'_> {
    fn size(&self) -> (u32, u32) {
        (720, 480)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        LineChart {
            title: "",
            xlabel: self.xlabel,
            ylabel: "",
            x: self.x,
            lines: self
                .lines
                .iter()
                .map(|l| Line {
                    name: l.name.clone(),
                    colour: l.colour,
                    runs: l.runs.clone(),
                })
                .collect(),
            zero_lines: true,
            integer_x: false,
        }
        .draw(root, self.y.0..self.y.1)
    }
}
