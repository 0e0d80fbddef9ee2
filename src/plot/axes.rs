//! The parts every chart shares, drawn the way matplotlib draws them: a
//! frame with outward ticks at round values (1-2-2.5-5 steps, or decades
//! labelled 10ⁿ on a log axis), tick labels with a true minus sign, axis
//! labels, a title, and a legend placed in the corner that hides the
//! fewest data points.

use super::geom::Scale;
use super::scene::{text_width, Anchor, Circle, Item, Rgb, Role, Scene, Stroke, VAlign};

/// Font sizes in pixels (matplotlib's 10 pt ticks, 12 pt title at 100 dpi).
pub(super) const TICK_SIZE: f64 = 13.0;
pub(super) const LABEL_SIZE: f64 = 14.0;
pub(super) const TITLE_SIZE: f64 = 16.0;
pub(super) const LEGEND_SIZE: f64 = 13.0;
const TICK_LEN: f64 = 5.0;
const FRAME_WIDTH: f64 = 1.0;

/// Ticks of one axis: positions in axis units (log10 on a log axis) and
/// their labels.
pub(super) type Ticks = Vec<(f64, String)>;

/// `n` as superscript digits (`-3` is `⁻³`).
pub(super) fn superscript(n: i64) -> String {
    n.to_string()
        .chars()
        .map(|c| match c {
            '-' => '⁻',
            '0' => '⁰',
            '1' => '¹',
            '2' => '²',
            '3' => '³',
            '4' => '⁴',
            '5' => '⁵',
            '6' => '⁶',
            '7' => '⁷',
            '8' => '⁸',
            _ => '⁹',
        })
        .collect()
}

/// `10ⁿ`.
pub(super) fn decade_label(e: i64) -> String {
    format!("10{}", superscript(e))
}

/// A number as a tick label with `decimals` digits after the point, a true
/// minus sign, and no "-0".
pub(super) fn number_label(v: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, v);
    let s = if s
        .trim_start_matches('-')
        .chars()
        .all(|c| c == '0' || c == '.')
    {
        s.trim_start_matches('-').to_string()
    } else {
        s
    };
    s.replace('-', "\u{2212}")
}

/// Round-valued ticks covering `[lo, hi]`: the smallest step of the form
/// {1, 2, 2.5, 5} x 10^k giving at most `max` intervals. With `integer`,
/// steps below 1 are not used (steps, evaluations).
pub(super) fn linear_ticks(lo: f64, hi: f64, max: usize, integer: bool) -> Ticks {
    let span = hi - lo;
    if !(span.is_finite() && span > 0.0) {
        return Vec::new();
    }
    let raw = span / max as f64;
    let mut e = raw.log10().floor();
    let mut pick = None;
    'outer: for _ in 0..3 {
        for m in [1.0, 2.0, 2.5, 5.0] {
            let step = m * 10f64.powf(e);
            if span / step <= max as f64 && !(integer && step < 1.0) {
                pick = Some((m, step, e));
                break 'outer;
            }
        }
        e += 1.0;
    }
    let Some((m, step, e)) = pick else {
        return Vec::new();
    };
    let mut decimals = (-e).max(0.0) as usize;
    if m == 2.5 && e <= 0.0 {
        decimals += 1;
    }
    let first = (lo / step - 1e-9).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    if last - first > 1000 {
        return Vec::new();
    }
    (first..=last)
        .map(|k| {
            let v = k as f64 * step;
            (v, number_label(v, decimals))
        })
        .collect()
}

/// Decade ticks for a log axis spanning `[lo, hi]` in log10 units, at most
/// `max` of them (every second, fifth, ... decade on long axes).
pub(super) fn log_ticks(lo: f64, hi: f64, max: usize) -> Ticks {
    let (a, b) = ((lo - 1e-9).ceil(), (hi + 1e-9).floor());
    if !(a.is_finite() && b.is_finite()) || b < a || b - a > 4000.0 {
        return Vec::new();
    }
    let n = (b - a) as i64 + 1;
    let every = [1i64, 2, 3, 5, 10, 20, 25, 50, 100, 200, 500, 1000]
        .into_iter()
        .find(|k| (n + k - 1) / k <= max as i64)
        .unwrap_or(1000);
    let (a, b) = (a as i64, b as i64);
    (a..=b)
        .filter(|e| e.rem_euclid(every) == 0)
        .map(|e| (e as f64, decade_label(e)))
        .collect()
}

/// One axis of a chart: its data range (log10 units when `log`), ticks and label.
#[derive(Debug, Clone)]
pub(super) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub log: bool,
    pub ticks: Ticks,
    pub label: String,
}

impl Axis {
    /// A linear axis over `lo..hi` with at most `max` ticks (whole
    /// numbers only when `integer`).
    pub fn linear(lo: f64, hi: f64, max: usize, integer: bool, label: &str) -> Axis {
        Axis {
            lo,
            hi,
            log: false,
            ticks: linear_ticks(lo, hi, max, integer),
            label: label.to_string(),
        }
    }

    /// A log axis over `lo..hi` (log10 units) with 10ⁿ ticks.
    pub fn log10(lo: f64, hi: f64, max: usize, label: &str) -> Axis {
        Axis {
            lo,
            hi,
            log: true,
            ticks: log_ticks(lo, hi, max),
            label: label.to_string(),
        }
    }
}

/// A chart's frame: the plotting area in pixels and its two axes.
#[derive(Debug, Clone)]
pub(super) struct Frame {
    /// `(left, top, right, bottom)` in pixels.
    pub area: (f64, f64, f64, f64),
    pub x: Scale,
    pub y: Scale,
}

impl Frame {
    pub fn new(area: (f64, f64, f64, f64), x: &Axis, y: &Axis) -> Self {
        let (l, t, r, b) = area;
        Frame {
            area,
            x: Scale {
                lo: x.lo,
                hi: x.hi,
                p0: l,
                p1: r,
                log: x.log,
            },
            y: Scale {
                lo: y.lo,
                hi: y.hi,
                p0: b,
                p1: t,
                log: y.log,
            },
        }
    }

    /// Pixel position of a data point.
    pub fn px(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (self.x.px(x), self.y.px(y))
    }
}

/// Width of the widest tick label.
pub(super) fn widest(ticks: &Ticks) -> f64 {
    ticks
        .iter()
        .map(|(_, s)| text_width(s, TICK_SIZE))
        .fold(0.0, f64::max)
}

/// Pixels left of the plotting area that the y tick labels and label need.
pub(super) fn left_margin(y: &Axis) -> f64 {
    let label = if y.label.is_empty() {
        0.0
    } else {
        LABEL_SIZE + 10.0
    };
    14.0 + label + widest(&y.ticks) + TICK_LEN + 4.0
}

/// Pixels below the plotting area that the x tick labels and label need.
pub(super) fn bottom_margin(x: &Axis) -> f64 {
    let label = if x.label.is_empty() {
        0.0
    } else {
        LABEL_SIZE + 10.0
    };
    12.0 + label + TICK_SIZE + TICK_LEN + 6.0
}

/// Pixels above the plotting area for the title.
pub(super) fn top_margin(title: &str) -> f64 {
    if title.is_empty() {
        16.0
    } else {
        TITLE_SIZE + 26.0
    }
}

/// `v` moved to the nearest pixel centre, so that a 1 px line along it
/// covers one row or column of pixels instead of blurring over two.
pub(super) fn snap(v: f64) -> f64 {
    (v - 0.5).round() + 0.5
}

/// A plotting area with its edges on pixel centres.
pub(super) fn snap_area((l, t, r, b): (f64, f64, f64, f64)) -> (f64, f64, f64, f64) {
    (snap(l), snap(t), snap(r), snap(b))
}

/// Draws the frame, ticks, tick labels and axis labels.
pub(super) fn draw_frame(scene: &mut Scene, f: &Frame, x: &Axis, y: &Axis) {
    let (l, t, r, b) = f.area;
    let black = Stroke::solid(Rgb::BLACK, FRAME_WIDTH);
    for &(u, ref s) in &x.ticks {
        let px = snap(f.x.px_axis(u));
        if px < l - 0.5 || px > r + 0.5 {
            continue;
        }
        scene.polyline(
            &[(px, b), (px, b + TICK_LEN)],
            black.clone(),
            false,
            Role::Frame,
        );
        scene.text(
            (px, b + TICK_LEN + 4.0),
            s,
            TICK_SIZE,
            Anchor::Middle,
            VAlign::Top,
        );
    }
    for &(u, ref s) in &y.ticks {
        let py = snap(f.y.px_axis(u));
        if py < t - 0.5 || py > b + 0.5 {
            continue;
        }
        scene.polyline(
            &[(l - TICK_LEN, py), (l, py)],
            black.clone(),
            false,
            Role::Frame,
        );
        scene.text(
            (l - TICK_LEN - 4.0, py),
            s,
            TICK_SIZE,
            Anchor::End,
            VAlign::Center,
        );
    }
    scene.rect((l, t, r, b), None, Some(black), Role::Frame);
    let below = b + TICK_LEN + 4.0 + TICK_SIZE + 10.0;
    scene.text(
        ((l + r) / 2.0, below),
        &x.label,
        LABEL_SIZE,
        Anchor::Middle,
        VAlign::Top,
    );
    let beside = l - TICK_LEN - 4.0 - widest(&y.ticks) - 10.0 - LABEL_SIZE / 2.0;
    scene.vertical_text((beside, (t + b) / 2.0), &y.label, LABEL_SIZE);
}

/// Draws the title above the plotting area (first, so that it is the
/// SVG's first text).
pub(super) fn draw_title(scene: &mut Scene, (l, t, r, _): (f64, f64, f64, f64), title: &str) {
    scene.text(
        ((l + r) / 2.0, t - 14.0),
        title,
        TITLE_SIZE,
        Anchor::Middle,
        VAlign::Baseline,
    );
}

/// What a legend entry shows beside its text.
#[derive(Debug, Clone)]
pub(super) enum Sample {
    Line(Stroke),
    /// A line with a marker in the middle.
    LineMarker(Stroke, Marker),
    Marker(Marker),
}

/// A round marker: radius, fill and edge.
#[derive(Debug, Clone)]
pub(super) struct Marker {
    pub r: f64,
    pub fill: Option<Rgb>,
    pub edge: Option<Stroke>,
    /// A dot of this radius and colour in the middle.
    pub dot: Option<(f64, Rgb)>,
}

impl Marker {
    pub fn draw(&self, scene: &mut Scene, c: (f64, f64), clip: bool) {
        scene.push(Item::Circle(Circle {
            centre: c,
            r: self.r,
            fill: self.fill,
            stroke: self.edge.clone(),
            clip,
            role: Role::Marker,
        }));
        if let Some((r, colour)) = self.dot {
            scene.push(Item::Circle(Circle {
                centre: c,
                r,
                fill: Some(colour),
                stroke: None,
                clip,
                role: Role::Marker,
            }));
        }
    }
}

/// Where a legend may go, in order of preference on a tie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Corner {
    UpperRight,
    UpperLeft,
    LowerLeft,
    LowerRight,
}

const PAD: f64 = 8.0;
const ROW: f64 = 19.0;
const SAMPLE_W: f64 = 26.0;

/// The legend's size in pixels.
fn legend_size(entries: &[(String, Sample)]) -> (f64, f64) {
    let text = entries
        .iter()
        .map(|(s, _)| text_width(s, LEGEND_SIZE))
        .fold(0.0, f64::max);
    (
        PAD * 2.0 + SAMPLE_W + 8.0 + text,
        PAD * 2.0 + ROW * entries.len() as f64 - 4.0,
    )
}

fn legend_box(area: (f64, f64, f64, f64), size: (f64, f64), c: Corner) -> (f64, f64, f64, f64) {
    let (l, t, r, b) = area;
    let m = 8.0;
    let (x0, y0) = match c {
        Corner::UpperRight => (r - m - size.0, t + m),
        Corner::UpperLeft => (l + m, t + m),
        Corner::LowerLeft => (l + m, b - m - size.1),
        Corner::LowerRight => (r - m - size.0, b - m - size.1),
    };
    (x0, y0, x0 + size.0, y0 + size.1)
}

/// The corner whose legend box covers the fewest of `points` (pixels),
/// preferring the order of [`Corner`] on a tie, as matplotlib's "best".
pub(super) fn best_corner(
    area: (f64, f64, f64, f64),
    entries: &[(String, Sample)],
    points: &[(f64, f64)],
) -> Corner {
    let size = legend_size(entries);
    let corners = [
        Corner::UpperRight,
        Corner::UpperLeft,
        Corner::LowerLeft,
        Corner::LowerRight,
    ];
    let covered = |c: Corner| {
        let (l, t, r, b) = legend_box(area, size, c);
        points
            .iter()
            .filter(|p| p.0 >= l && p.0 <= r && p.1 >= t && p.1 <= b)
            .count()
    };
    corners
        .into_iter()
        .min_by_key(|&c| covered(c))
        .unwrap_or(Corner::UpperRight)
}

/// Draws a legend box with one row per entry in `corner` of `area`.
pub(super) fn draw_legend(
    scene: &mut Scene,
    area: (f64, f64, f64, f64),
    entries: &[(String, Sample)],
    corner: Corner,
) {
    if entries.is_empty() {
        return;
    }
    let bx = legend_box(area, legend_size(entries), corner);
    scene.rect(
        bx,
        Some(Rgb::WHITE),
        Some(Stroke::solid(Rgb(204, 204, 204), 1.0)),
        Role::Legend,
    );
    for (k, (label, sample)) in entries.iter().enumerate() {
        let y = bx.1 + PAD + ROW * k as f64 + 6.0;
        let (x0, x1) = (bx.0 + PAD, bx.0 + PAD + SAMPLE_W);
        let mid = ((x0 + x1) / 2.0, y);
        match sample {
            Sample::Line(s) => scene.polyline(&[(x0, y), (x1, y)], s.clone(), false, Role::Legend),
            Sample::LineMarker(s, m) => {
                scene.polyline(&[(x0, y), (x1, y)], s.clone(), false, Role::Legend);
                m.draw(scene, mid, false);
            }
            Sample::Marker(m) => m.draw(scene, mid, false),
        }
        scene.text(
            (x1 + 8.0, y),
            label,
            LEGEND_SIZE,
            Anchor::Start,
            VAlign::Center,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(t: &Ticks) -> Vec<&str> {
        t.iter().map(|(_, s)| s.as_str()).collect()
    }

    #[test]
    fn linear_ticks_are_round() {
        assert_eq!(
            labels(&linear_ticks(-6.0, 6.0, 8, false)),
            ["−6", "−4", "−2", "0", "2", "4", "6"]
        );
        assert_eq!(
            labels(&linear_ticks(-0.1, 1.1, 8, false)),
            ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
        );
        assert_eq!(
            labels(&linear_ticks(-50.0, 1050.0, 8, true)),
            ["0", "200", "400", "600", "800", "1000"]
        );
        assert_eq!(
            labels(&linear_ticks(0.0, 3.0, 8, true)),
            ["0", "1", "2", "3"]
        );
    }

    #[test]
    fn log_ticks_are_decades_in_one_format() {
        assert_eq!(
            labels(&log_ticks(-31.5, 1.7, 9)),
            ["10⁻³⁰", "10⁻²⁵", "10⁻²⁰", "10⁻¹⁵", "10⁻¹⁰", "10⁻⁵", "10⁰"]
        );
        assert_eq!(
            labels(&log_ticks(-1.2, 3.4, 9)),
            ["10⁻¹", "10⁰", "10¹", "10²", "10³"]
        );
    }
}
