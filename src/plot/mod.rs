//! Plot output for losslang: contour maps with minimizers' paths, loss
//! curves, function curves and terminal sparklines.
//!
//! A plot is a description ([`ContourPlot`] or [`LinePlot`], wrapped in
//! [`Plot`]) of plain numbers the interpreter has already computed; nothing
//! here evaluates expressions. [`Plot::render`] turns it into SVG or PNG
//! bytes in memory (the Jupyter kernel shows those inline) and
//! [`Plot::save`] writes a file, picking the format from its extension.
//!
//! The figures follow the chapter "Minimization algorithms", drawn as
//! matplotlib draws them. Each figure is first laid out once as a
//! [`scene::Scene`] of primitives in pixels; `svg.rs` writes that as
//! vector elements (isobands as polygons with fractional coordinates, one
//! polyline per path with a vertex per point, text as text) and `raster.rs`
//! paints the same scene with tiny-skia (antialiased, round joins, paths
//! clipped to the axes), so the two formats show the same thing. Text
//! uses the bundled DejaVu Sans (`assets/DejaVuSans.ttf`), so no system
//! fonts are needed.

use std::path::{Path, PathBuf};

mod axes;
mod contour;
mod geom;
mod lines;
mod mncontour;
mod profile;
mod raster;
mod scene;
mod svg;
mod training;
pub use training::{epoch_loss_plot, lr_plot};

/// The chapter's contour levels, used when they fit the data.
const CHAPTER_LEVELS: [f64; 8] = [1.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];
/// Largest sparkline this module draws, in characters.
const MAX_SPARK_WIDTH: usize = 4096;

/// Matplotlib's default colour cycle ("tab10").
const CYCLE: [scene::Rgb; 10] = [
    scene::Rgb(31, 119, 180),
    scene::Rgb(255, 127, 14),
    scene::Rgb(44, 160, 44),
    scene::Rgb(214, 39, 40),
    scene::Rgb(148, 103, 189),
    scene::Rgb(140, 86, 75),
    scene::Rgb(227, 119, 194),
    scene::Rgb(127, 127, 127),
    scene::Rgb(188, 189, 34),
    scene::Rgb(23, 190, 207),
];

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
    /// Drawing or encoding failed.
    #[error("could not draw the plot: {0}")]
    Render(String),
}

/// An image format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Svg,
    Png,
}

impl Format {
    /// The format a file name asks for: `.svg` or `.png`, any case.
    pub fn of(file: &Path) -> Result<Format, PlotError> {
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

    /// The MIME type (`image/svg+xml`, `image/png`), for notebooks.
    pub fn mime(self) -> &'static str {
        match self {
            Format::Svg => "image/svg+xml",
            Format::Png => "image/png",
        }
    }
}

/// One minimizer's path over a contour map.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PathSeries {
    /// Legend text (the optimizer and its options); empty gives
    /// "path (N points)".
    pub label: String,
    /// Points visited, joined in order. Non-finite points break the line.
    pub points: Vec<(f64, f64)>,
}

/// A filled contour map of `z` over a grid, with any number of paths.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContourPlot {
    /// Grid x coordinates, strictly increasing (at least 2).
    pub xs: Vec<f64>,
    /// Grid y coordinates, strictly increasing (at least 2).
    pub ys: Vec<f64>,
    /// Values in row-major order: `z[j * xs.len() + i] = f(xs[i], ys[j])`.
    /// Non-finite cells are left blank.
    pub z: Vec<f64>,
    /// Level lines; `None` picks the chapter's levels
    /// (1, 10, 20, 50, 100, 200, 500, 1000) when at least three of them fall
    /// inside the data's range, else levels chosen from the data.
    pub levels: Option<Vec<f64>>,
    /// Paths drawn over the map; one is blue as in the chapter, several
    /// take colours from matplotlib's cycle. Each starts at a green ring
    /// and ends at a red one.
    pub paths: Vec<PathSeries>,
    /// Figure title.
    pub title: String,
    /// Label of the x axis.
    pub xlabel: String,
    /// Label of the y axis.
    pub ylabel: String,
    /// Label of the colour bar (what the colours show).
    pub zlabel: String,
}

/// One line of a [`LinePlot`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Series {
    /// Legend text (and the name in the off-scale note of a log axis).
    pub label: String,
    /// `(x, y)` points joined in order; non-finite values break the line.
    pub points: Vec<(f64, f64)>,
    /// Mark every point (short series).
    pub markers: bool,
}

/// Lines over a shared x axis: loss curves, curves over t, profiles.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LinePlot {
    pub title: String,
    pub xlabel: String,
    pub ylabel: String,
    pub series: Vec<Series>,
    /// A log y axis; `None` picks one when the positive finite values span
    /// more than two decades.
    pub log_y: Option<bool>,
    /// Dotted light-grey lines at x = 0 and y = 0.
    pub zero_lines: bool,
    /// Ticks on the x axis at whole numbers only (steps, evaluations).
    pub integer_x: bool,
    /// Show a legend naming each series.
    pub legend: bool,
    /// Shaded x ranges behind the series (a MINOS interval), light grey as
    /// matplotlib's `axvspan(..., facecolor="0.8")`.
    pub bands: Vec<(f64, f64)>,
}

/// Any figure this module draws.
#[derive(Debug, Clone, PartialEq)]
pub enum Plot {
    Contour(ContourPlot),
    Lines(LinePlot),
}

impl Plot {
    fn scene(&self) -> Result<scene::Scene, PlotError> {
        scene::font()?;
        match self {
            Plot::Contour(p) => contour::scene(p),
            Plot::Lines(p) => lines::scene(p),
        }
    }

    /// The figure as SVG or PNG bytes.
    pub fn render(&self, format: Format) -> Result<Vec<u8>, PlotError> {
        let scene = self.scene()?;
        match format {
            Format::Svg => Ok(svg::write(&scene).into_bytes()),
            Format::Png => raster::png(&scene),
        }
    }

    /// Renders the figure in the format `file`'s extension names and writes
    /// it atomically: a failed plot leaves nothing behind.
    pub fn save(&self, file: &Path) -> Result<(), PlotError> {
        let bytes = self.render(Format::of(file)?)?;
        write_atomic(file, &bytes)
    }
}

/// Draws a contour map and writes it to `file` (`.svg` or `.png`).
pub fn contour(file: &Path, p: &ContourPlot) -> Result<(), PlotError> {
    Plot::Contour(p.clone()).save(file)
}

/// Draws the loss per step (step 0 first) and writes it to `file`.
pub fn loss_curve(file: &Path, losses: &[f64], title: &str) -> Result<(), PlotError> {
    Plot::Lines(LinePlot::loss(losses, title, "step")).save(file)
}

/// Draws curves over `t` with a legend naming each, and writes them to `file`.
pub fn curves(
    file: &Path,
    t: &[f64],
    series: &[(String, Vec<f64>)],
    xlabel: &str,
) -> Result<(), PlotError> {
    Plot::Lines(LinePlot::curves(t, series, "", xlabel, "")?).save(file)
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
// Output.

/// Writes `bytes` to `file` with `crate::atomic::write_file` (a regular
/// file is replaced atomically, a symlink followed, a FIFO written through).
pub fn write_atomic(file: &Path, bytes: &[u8]) -> Result<(), PlotError> {
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

/// Viridis (matplotlib's default colour map) at `t` in `[0, 1]`.
fn viridis(t: f64) -> (f64, f64, f64) {
    const V: [(f64, f64, f64); 9] = [
        (68.0, 1.0, 84.0),
        (71.0, 45.0, 123.0),
        (59.0, 82.0, 139.0),
        (44.0, 114.0, 142.0),
        (33.0, 145.0, 140.0),
        (40.0, 174.0, 128.0),
        (94.0, 201.0, 98.0),
        (173.0, 220.0, 48.0),
        (253.0, 231.0, 37.0),
    ];
    let x = t.clamp(0.0, 1.0) * 8.0;
    let i = (x.floor() as usize).min(7);
    let f = x - i as f64;
    let (a, b) = (V[i], V[i + 1]);
    (
        a.0 + (b.0 - a.0) * f,
        a.1 + (b.1 - a.1) * f,
        a.2 + (b.2 - a.2) * f,
    )
}

#[cfg(test)]
mod tests;

pub use mncontour::{cl_label, mncontour_plot};
pub use profile::profile_plot;
