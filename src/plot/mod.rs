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

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;

mod contour;
mod lines;

use contour::ContourFig;
use lines::{curves_chart, loss_chart};

/// The font every figure uses, compiled into the binary.
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
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
    save(file, &loss_chart(losses, title)?)
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
    save(file, &curves_chart(t, series, xlabel)?)
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
    crate::atomic::write_file(file, bytes).map_err(|source| PlotError::Write {
        path: file.to_path_buf(),
        source,
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

/// Largest magnitude an axis may reach; keeps every span finite.
const AXIS_LIMIT: f64 = 1e300;

/// A non-empty, finite axis range around `[lo, hi]` with a 5% margin each
/// side. Values beyond +-1e300 are clamped so that spans stay finite.
fn padded(lo: f64, hi: f64) -> (f64, f64) {
    let clamp = |v: f64| {
        if v.is_nan() {
            0.0
        } else {
            v.clamp(-AXIS_LIMIT, AXIS_LIMIT)
        }
    };
    let (lo, hi) = (clamp(lo.min(hi)), clamp(lo.max(hi)));
    let span = hi - lo;
    let scale = lo.abs().max(hi.abs());
    if span <= scale * 1e-9 || span < 1e-200 {
        let d = if scale > 1e-200 { scale * 0.1 } else { 1.0 };
        return (lo - d, hi + d);
    }
    (lo - 0.05 * span, hi + 0.05 * span)
}

/// `[lo, hi]` as an axis range without margins, unless it is too narrow
/// or too wide to draw, in which case it is [`padded`].
fn exact_range(lo: f64, hi: f64) -> (f64, f64) {
    let scale = lo.abs().max(hi.abs());
    let span = hi - lo;
    if scale <= AXIS_LIMIT && span > scale * 1e-9 && span >= 1e-200 {
        (lo, hi)
    } else {
        padded(lo, hi)
    }
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

fn text(size: f64) -> TextStyle<'static> {
    TextStyle::from(FontDesc::new(
        FontFamily::Name(FONT),
        size,
        FontStyle::Normal,
    ))
}

#[cfg(test)]
mod tests;
