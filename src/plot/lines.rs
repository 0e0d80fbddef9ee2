//! Line figures: the loss per step and curves over a sampled variable.

use plotters::coord::ranged1d::{
    AsRangedCoord, KeyPointHint, NoDefaultFormatting, Ranged, ValueFormatter,
};
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;

use super::*;

/// Splits `(x, y)` pairs into runs of consecutive points that pass `keep`.
fn runs(
    points: impl Iterator<Item = (f64, f64)>,
    keep: impl Fn(f64, f64) -> bool,
) -> Vec<Vec<(f64, f64)>> {
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

/// One named line of a line figure, already split into drawable runs.
struct Line {
    name: Option<String>,
    colour: RGBColor,
    runs: Vec<Vec<(f64, f64)>>,
    /// Mark every point (for short series).
    markers: bool,
}

/// A line figure: the loss curve or curves over t.
pub(super) struct LineChart {
    title: String,
    xlabel: String,
    ylabel: String,
    x: (f64, f64),
    y: (f64, f64),
    lines: Vec<Line>,
    /// Dotted light-grey lines at x = 0 and y = 0 (as in the chapter).
    zero_lines: bool,
    /// Only label integer x ticks (steps).
    integer_x: bool,
    /// The y values are log10 of the data; ticks go at these decades.
    log_ticks: Option<Vec<f64>>,
}

impl Figure for LineChart {
    fn size(&self) -> (u32, u32) {
        (720, 480)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        match &self.log_ticks {
            Some(t) => self.draw_with(
                root,
                TickedAxis {
                    inner: (self.y.0..self.y.1).into(),
                    ticks: t.clone(),
                },
            ),
            None => self.draw_with(root, self.y.0..self.y.1),
        }
    }
}

impl LineChart {
    fn draw_with<DB: DrawingBackend, Y>(
        &self,
        root: &DrawingArea<DB, Shift>,
        y: Y,
    ) -> Result<(), PlotError>
    where
        Y: AsRangedCoord<Value = f64>,
        Y::CoordDescType: ValueFormatter<f64>,
    {
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, text(20.0))
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
                .draw_series(
                    zl.into_iter()
                        .map(|l| DashedPathElement::new(l, 2, 3, grey)),
                )
                .map_err(de)?;
        }
        for line in &self.lines {
            let style = line.colour.stroke_width(2);
            let anno = chart
                .draw_series(line.runs.iter().map(|r| PathElement::new(r.clone(), style)))
                .map_err(de)?;
            if let Some(name) = &line.name {
                let c = line.colour;
                anno.label(name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x - 10, y), (x + 10, y)], c.stroke_width(2))
                });
            }
            if line.markers {
                chart
                    .draw_series(
                        line.runs
                            .iter()
                            .flatten()
                            .map(|&q| Circle::new(q, 3, line.colour.filled())),
                    )
                    .map_err(de)?;
            }
        }
        let fx = |v: &f64| {
            if self.integer_x && v.fract() != 0.0 {
                String::new()
            } else {
                fmt_tick(*v)
            }
        };
        let fy = |v: &f64| {
            if self.log_ticks.is_some() {
                fmt_tick(sig(10f64.powf(*v), 3))
            } else {
                fmt_tick(*v)
            }
        };
        chart
            .configure_mesh()
            .disable_mesh()
            .x_desc(self.xlabel.as_str())
            .y_desc(self.ylabel.as_str())
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
        area.draw(&Rectangle::new(
            [(0, 0), (w as i32 - 1, h as i32 - 1)],
            BLACK.stroke_width(1),
        ))
        .map_err(de)?;
        Ok(())
    }
}

/// A linear f64 axis whose ticks are exactly `ticks` (the log-scale loss axis).
struct TickedAxis {
    inner: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ranged for TickedAxis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.inner.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            Vec::new()
        } else {
            self.ticks.clone()
        }
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.inner.range()
    }
}

impl ValueFormatter<f64> for TickedAxis {
    fn format(value: &f64) -> String {
        fmt_tick(*value)
    }
}

/// Decade ticks (log10 values) inside `[lo, hi]`, at most about ten.
fn decade_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let (a, b) = (lo.ceil(), hi.floor());
    if !(a.is_finite() && b.is_finite()) || b < a {
        return Vec::new();
    }
    let n = (b - a) as usize + 1;
    let every = n.div_ceil(10).max(1);
    (0..n.min(400))
        .step_by(every)
        .map(|k| a + k as f64)
        .collect()
}

pub(super) fn loss_chart(losses: &[f64], title: &str) -> Result<LineChart, PlotError> {
    if losses.is_empty() {
        return Err(PlotError::EmptyData("the loss history is empty".into()));
    }
    let (lo, hi) = finite_range(losses.iter().copied())
        .ok_or_else(|| PlotError::EmptyData("every loss value is NaN or infinite".into()))?;
    let n = losses.len();
    let x = if n == 1 {
        (-0.5, 0.5)
    } else {
        padded(0.0, (n - 1) as f64)
    };
    let log = log_worthy(losses);
    let pts = losses.iter().enumerate().map(|(i, &v)| (i as f64, v));
    let (runs, y, log_ticks) = if log {
        let pts = pts.map(|(i, v)| (i, if v > 0.0 { v.log10() } else { f64::NAN }));
        let runs = runs(pts, |_, v| v.is_finite());
        let (a, b) = finite_range(runs.iter().flatten().map(|q| q.1)).unwrap_or((0.0, 1.0));
        let y = padded(a, b);
        (runs, y, Some(decade_ticks(y.0, y.1)))
    } else {
        (runs(pts, |_, v| v.is_finite()), padded(lo, hi), None)
    };
    Ok(LineChart {
        title: title.to_string(),
        xlabel: "step".into(),
        ylabel: if log { "loss (log scale)" } else { "loss" }.into(),
        x,
        y,
        lines: vec![Line {
            name: None,
            colour: CYCLE[0],
            runs,
            markers: n <= 50,
        }],
        zero_lines: false,
        integer_x: true,
        log_ticks,
    })
}

pub(super) fn curves_chart(
    t: &[f64],
    series: &[(String, Vec<f64>)],
    xlabel: &str,
) -> Result<LineChart, PlotError> {
    if t.is_empty() {
        return Err(PlotError::EmptyData("no sample points for t".into()));
    }
    if series.is_empty() {
        return Err(PlotError::EmptyData("no curves were given".into()));
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
            markers: false,
        })
        .collect();
    Ok(LineChart {
        title: String::new(),
        xlabel: xlabel.to_string(),
        ylabel: String::new(),
        x: exact_range(tlo, thi),
        y: padded(ylo, yhi),
        lines,
        zero_lines: true,
        integer_x: false,
        log_ticks: None,
    })
}
