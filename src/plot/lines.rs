//! Line charts: the loss per step (or per evaluation) and curves over a
//! sampled variable, as matplotlib's `ax.plot` draws them: 5% margins,
//! antialiased lines in the colour cycle, a legend, dotted zero lines for
//! curves, and a log y axis with 10ⁿ ticks when the values span more than
//! two decades. Values a log axis cannot show (zero, negative) are marked
//! ▼ on its bottom edge and named in a note, so a curve never just stops.

use std::collections::HashSet;

use super::axes::{self, Axis, Frame, Sample};
use super::scene::{text_width, Anchor, Circle, Item, Rgb, Role, Scene, Stroke, VAlign};
use super::{finite_range, log_worthy, padded, LinePlot, PlotError, Series, CYCLE};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 480.0;
const LINE_WIDTH: f64 = 2.0;
const ZERO_GREY: Rgb = Rgb(211, 211, 211);
/// matplotlib's grey "0.8".
const BAND_GREY: Rgb = Rgb(204, 204, 204);

impl LinePlot {
    /// The loss of each step (step 0 first), or of each evaluation when
    /// `xlabel` says so; titled `title`.
    pub fn loss(losses: &[f64], title: &str, xlabel: &str) -> LinePlot {
        LinePlot {
            title: title.to_string(),
            xlabel: xlabel.to_string(),
            ylabel: "loss".into(),
            series: vec![Series {
                label: "loss".into(),
                points: losses
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| (i as f64, v))
                    .collect(),
                markers: losses.len() <= 50,
            }],
            log_y: None,
            zero_lines: false,
            integer_x: true,
            legend: false,
            bands: Vec::new(),
        }
    }

    /// Curves sampled at `t`, one per `(label, values)`, with a legend.
    pub fn curves(
        t: &[f64],
        series: &[(String, Vec<f64>)],
        title: &str,
        xlabel: &str,
        ylabel: &str,
    ) -> Result<LinePlot, PlotError> {
        if let Some((name, v)) = series.iter().find(|(_, v)| v.len() != t.len()) {
            return Err(PlotError::InvalidData(format!(
                "curve \"{name}\" has {} values but t has {}",
                v.len(),
                t.len()
            )));
        }
        Ok(LinePlot {
            title: title.to_string(),
            xlabel: xlabel.to_string(),
            ylabel: ylabel.to_string(),
            series: series
                .iter()
                .map(|(label, v)| Series {
                    label: label.clone(),
                    points: t.iter().copied().zip(v.iter().copied()).collect(),
                    markers: false,
                })
                .collect(),
            log_y: Some(false),
            zero_lines: true,
            integer_x: false,
            legend: true,
            bands: Vec::new(),
        })
    }
}

/// The figure.
pub(super) fn scene(p: &LinePlot) -> Result<Scene, PlotError> {
    let (x, y) = axes_of(p)?;
    let (mut scene, f) = canvas(p, &x, &y);
    draw_bands(&mut scene, &f, &p.bands);
    if p.zero_lines {
        zero_lines(&mut scene, &f);
    }
    let mut entries = Vec::new();
    let mut drawn = Vec::new();
    for (k, s) in p.series.iter().enumerate() {
        let colour = CYCLE[k % CYCLE.len()];
        let stroke = Stroke::solid(colour, LINE_WIDTH);
        let px = draw_series(&mut scene, &f, s, stroke.clone());
        if y.log {
            off_scale(&mut scene, &f, s, colour, &p.xlabel);
        }
        drawn.extend(
            px.into_iter()
                .filter(|q| q.0.is_finite() && q.1.is_finite()),
        );
        if p.legend {
            entries.push((s.label.clone(), Sample::Line(stroke)));
        }
    }
    axes::draw_frame(&mut scene, &f, &x, &y);
    if !entries.is_empty() {
        let corner = axes::best_corner(f.area, &entries, &drawn);
        axes::draw_legend(&mut scene, f.area, &entries, corner);
    }
    Ok(scene)
}

/// The two axes: the finite data's ranges with 5% margins, y on a log
/// scale when asked for or when the values span enough decades.
fn axes_of(p: &LinePlot) -> Result<(Axis, Axis), PlotError> {
    if p.series.iter().all(|s| s.points.is_empty()) {
        return Err(PlotError::EmptyData("no points were given".into()));
    }
    let all = || p.series.iter().flat_map(|s| s.points.iter().copied());
    let (xlo, xhi) = finite_range(all().filter(|q| q.1.is_finite()).map(|q| q.0))
        .ok_or_else(|| PlotError::EmptyData("every value is NaN or infinite".into()))?;
    let ys: Vec<f64> = all().filter(|q| q.0.is_finite()).map(|q| q.1).collect();
    let log = p.log_y.unwrap_or_else(|| log_worthy(&ys));
    let (ylo, yhi) = if log {
        finite_range(ys.iter().copied().filter(|&v| v > 0.0).map(f64::log10))
    } else {
        finite_range(ys.iter().copied())
    }
    .ok_or_else(|| PlotError::EmptyData("no value can be shown on this axis".into()))?;
    let (x0, x1) = padded(xlo, xhi);
    let (y0, y1) = padded(ylo, yhi);
    let x = Axis::linear(x0, x1, 9, p.integer_x, &p.xlabel);
    let y = if log {
        Axis::log10(y0, y1, 9, &p.ylabel)
    } else {
        Axis::linear(y0, y1, 8, false, &p.ylabel)
    };
    Ok((x, y))
}

/// The empty canvas, wide enough for the title, with its plotting area
/// (clipped to) and the title drawn.
fn canvas(p: &LinePlot, x: &Axis, y: &Axis) -> (Scene, Frame) {
    let left = axes::left_margin(y);
    let top = axes::top_margin(&p.title);
    let bottom = axes::bottom_margin(x);
    let width = WIDTH
        .max(text_width(&p.title, axes::TITLE_SIZE) + 40.0)
        .ceil();
    let area = axes::snap_area((left, top, width - 24.0, HEIGHT - bottom));
    let mut scene = Scene::new(width as u32, HEIGHT as u32);
    scene.clip = area;
    axes::draw_title(&mut scene, area, &p.title);
    (scene, Frame::new(area, x, y))
}

/// Grey full-height spans over the x ranges `bands`, cut to the
/// plotting area.
fn draw_bands(scene: &mut Scene, f: &Frame, bands: &[(f64, f64)]) {
    let (l, t, r, bottom) = f.area;
    for &(a, b) in bands {
        let (pa, pb) = (f.x.px(a.min(b)), f.x.px(a.max(b)));
        if pa.is_finite() && pb.is_finite() {
            let (x0, x1) = (pa.max(l), pb.min(r));
            if x1 > x0 {
                let ring = vec![(x0, t), (x1, t), (x1, bottom), (x0, bottom)];
                scene.polygon(vec![ring], BAND_GREY, true, Role::Span);
            }
        }
    }
}

/// One series' line (and markers, when it has them); returns its points
/// in pixels.
fn draw_series(scene: &mut Scene, f: &Frame, s: &Series, stroke: Stroke) -> Vec<(f64, f64)> {
    let px: Vec<(f64, f64)> = s.points.iter().map(|&q| f.px(q)).collect();
    let colour = stroke.colour;
    scene.polyline(&px, stroke, true, Role::Path);
    if s.markers {
        for &q in px.iter().filter(|q| q.0.is_finite() && q.1.is_finite()) {
            scene.push(Item::Circle(Circle {
                centre: q,
                r: 3.0,
                fill: Some(colour),
                stroke: None,
                clip: true,
                role: Role::Marker,
            }));
        }
    }
    px
}

/// Dotted light-grey lines at x = 0 and y = 0 (the chapter's axvline/axhline).
fn zero_lines(scene: &mut Scene, f: &Frame) {
    let (l, t, r, b) = f.area;
    let dotted = Stroke::dashed(ZERO_GREY, 1.5, &[1.5, 2.5]);
    if f.x.lo < 0.0 && f.x.hi > 0.0 {
        let px = f.x.px(0.0);
        scene.polyline(&[(px, t), (px, b)], dotted.clone(), true, Role::Other);
    }
    if !f.y.log && f.y.lo < 0.0 && f.y.hi > 0.0 {
        let py = f.y.px(0.0);
        scene.polyline(&[(l, py), (r, py)], dotted, true, Role::Other);
    }
}

/// Marks the points a log axis cannot show with ▼ on its bottom edge and
/// a note naming them.
fn off_scale(scene: &mut Scene, f: &Frame, s: &Series, colour: Rgb, xlabel: &str) {
    let off: Vec<(f64, f64)> = s
        .points
        .iter()
        .copied()
        .filter(|q| q.0.is_finite() && q.1 <= 0.0)
        .collect();
    let Some(first) = off.first() else { return };
    let (_, t, r, b) = f.area;
    let mut seen = HashSet::new();
    for q in &off {
        let px = f.x.px(q.0);
        if seen.insert((px * 0.5).round() as i64) {
            scene.polygon(
                vec![vec![
                    (px - 4.0, b - 8.0),
                    (px + 4.0, b - 8.0),
                    (px, b - 1.0),
                ]],
                colour,
                true,
                Role::Marker,
            );
        }
    }
    let what = if off.iter().all(|q| q.1 == 0.0) {
        "= 0"
    } else {
        "≤ 0"
    };
    let name = if s.label.is_empty() {
        "value"
    } else {
        &s.label
    };
    let xname = if xlabel.is_empty() { "x =" } else { xlabel };
    let note = format!(
        "▼ {name} {what} from {xname} {} ({} point{}, below the log axis)",
        first.0,
        off.len(),
        if off.len() == 1 { "" } else { "s" },
    );
    scene.text(
        (r - 8.0, t + 10.0),
        &note,
        axes::LEGEND_SIZE,
        Anchor::End,
        VAlign::Top,
    );
}
