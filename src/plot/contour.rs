//! Contour maps in the chapter's look: a light wash of filled bands on a
//! log colour scale (isobands), dashed grey level lines (isolines), both
//! from marching squares with linear interpolation (the `contour` crate),
//! a labelled colour bar with 10ⁿ ticks, and each minimizer's path as a
//! line through white markers edged in its colour, with start and end rings.

use std::collections::HashSet;

use contour::ContourBuilder;

use super::axes::{self, Axis, Frame, Marker, Sample};
use super::geom::Scale;
use super::scene::{text_width, Anchor, Rgb, Role, Scene, Stroke, VAlign};
use super::{finite_range, viridis, ContourPlot, PlotError, AXIS_LIMIT, CHAPTER_LEVELS};

/// Side of the (square) plotting area in pixels.
const SIDE: f64 = 480.0;
/// How much of the colour map shows through white: the chapter's
/// `contourf(..., alpha=0.1)` is a near-white wash; a little more keeps
/// the colour bar readable.
const WASH: f64 = 0.22;
const LEVEL_GREY: Rgb = Rgb(128, 128, 128);
const LEVEL_DASH: [f64; 2] = [6.5, 2.8];
const SINGLE_PATH: Rgb = Rgb(0, 0, 255);
/// Path colours when several share a map: matplotlib's cycle without its
/// green and red (they mark the start and end) and grey (the level lines),
/// then navy.
const PATH_CYCLE: [Rgb; 8] = [
    Rgb(31, 119, 180),
    Rgb(255, 127, 14),
    Rgb(148, 103, 189),
    Rgb(140, 86, 75),
    Rgb(227, 119, 194),
    Rgb(188, 189, 34),
    Rgb(23, 190, 207),
    Rgb(0, 0, 128),
];
const START: Rgb = Rgb(0, 150, 0);
const END: Rgb = Rgb(215, 0, 0);
const BAR_W: f64 = 18.0;
const BAR_GAP: f64 = 22.0;

/// Contour levels for finite data in `[lo, hi]`: the chapter's when at
/// least three fall inside, else a 1-2-5 sequence over the decades of
/// positive data spanning more than two, else about eight round values.
pub(super) fn default_levels(lo: f64, hi: f64) -> Vec<f64> {
    let inside = |v: &&f64| **v > lo && **v < hi;
    if CHAPTER_LEVELS.iter().filter(inside).count() >= 3 {
        return CHAPTER_LEVELS.to_vec();
    }
    if hi.is_nan() || lo.is_nan() || hi <= lo {
        return Vec::new();
    }
    if lo > 0.0 && hi / lo > 100.0 {
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
    axes::linear_ticks(lo, hi, 8, false)
        .into_iter()
        .map(|t| t.0)
        .filter(|&v| v > lo && v < hi)
        .collect()
}

/// Colour of band `k` of `n`: viridis washed towards white.
fn band_colour(k: usize, n: usize) -> Rgb {
    let (r, g, b) = viridis((k as f64 + 0.5) / n.max(1) as f64);
    let mix = |c: f64| (255.0 * (1.0 - WASH) + c * WASH).round() as u8;
    Rgb(mix(r), mix(g), mix(b))
}

/// The colour scale: band thresholds in data units and the colour bar's axis.
struct ColourScale {
    /// Isoband thresholds, increasing; band k lies in `[t[k], t[k+1])`.
    thresholds: Vec<f64>,
    /// The colour bar's axis (log10 units when `log`).
    bar: Axis,
}

fn colour_scale(zmin: f64, zmax: f64, label: &str) -> ColourScale {
    let top = zmax + (zmax.abs() * 1e-9).max(f64::MIN_POSITIVE);
    // Six decades below the maximum at most, so that an exact zero at the
    // minimum does not swamp the map.
    let floor = zmin.max(zmax * 1e-6);
    if zmin >= 0.0 && zmax > 0.0 && zmax / floor >= 10.0 {
        let (lo, hi) = (floor.log10(), zmax.log10());
        let inner: Vec<f64> = axes::linear_ticks(lo, hi, 10, false)
            .into_iter()
            .map(|t| t.0)
            .filter(|&e| e > lo && e < hi)
            .collect();
        let mut thresholds = vec![zmin];
        thresholds.extend(inner.iter().map(|e| 10f64.powf(*e)));
        thresholds.push(top);
        return ColourScale {
            thresholds,
            bar: Axis::log10(lo, hi, 8, label),
        };
    }
    let ticks = axes::linear_ticks(zmin, zmax, 8, false);
    let mut thresholds = vec![zmin];
    thresholds.extend(ticks.iter().map(|t| t.0).filter(|&v| v > zmin && v < zmax));
    thresholds.push(top);
    ColourScale {
        thresholds,
        bar: Axis {
            lo: zmin,
            hi: if zmax > zmin { zmax } else { zmin + 1.0 },
            log: false,
            ticks,
            label: label.to_string(),
        },
    }
}

fn check_axis(name: &str, v: &[f64]) -> Result<(), PlotError> {
    if v.len() < 2 {
        return Err(PlotError::InvalidData(format!(
            "the contour grid needs at least 2 {name} values, got {}",
            v.len()
        )));
    }
    let (first, last) = (v[0], v[v.len() - 1]);
    let scale = first.abs().max(last.abs());
    if v.iter().any(|c| !c.is_finite())
        || v.windows(2).any(|w| w[1] <= w[0])
        || scale > AXIS_LIMIT
        || last - first <= scale * 1e-9
    {
        return Err(PlotError::InvalidData(format!(
            "the contour grid's {name} values must be finite, strictly increasing and span a drawable range"
        )));
    }
    Ok(())
}

/// Data coordinate of the contour crate's grid coordinate `c`, in which
/// value `i` sits at `i + 0.5`.
fn grid_to_data(grid: &[f64], c: f64) -> f64 {
    let i = c - 0.5;
    let n = grid.len();
    if i <= 0.0 {
        grid[0] + i * (grid[1] - grid[0])
    } else if i >= (n - 1) as f64 {
        grid[n - 1] + (i - (n - 1) as f64) * (grid[n - 1] - grid[n - 2])
    } else {
        let k = i.floor() as usize;
        grid[k] + (i - k as f64) * (grid[k + 1] - grid[k])
    }
}

/// Closed rings in pixels: a band's outer boundaries and holes.
type Rings = Vec<Vec<(f64, f64)>>;

/// Everything drawn inside the plotting area, in pixels.
struct Layers {
    /// Band index and its rings.
    bands: Vec<(usize, Rings)>,
    lines: Vec<Vec<(f64, f64)>>,
}

/// The grid padded by one extrapolated value on every side, so that the
/// crate's rings close outside the axes and every level line and band
/// reaches the axes' edge; non-finite values become `hole`.
fn padded_grid(z: &[f64], nx: usize, ny: usize, hole: f64) -> Vec<f64> {
    let (px, py) = (nx + 2, ny + 2);
    let at = |i: usize, j: usize| {
        let v = z[j * nx + i];
        if v.is_finite() {
            v
        } else {
            f64::NAN
        }
    };
    // Linear extrapolation one step beyond each edge.
    let ext = |a: f64, b: f64| 2.0 * a - b;
    let mut out = vec![hole; px * py];
    for j in 0..py {
        for i in 0..px {
            let (ci, cj) = (i.clamp(1, nx) - 1, j.clamp(1, ny) - 1);
            let mut v = at(ci, cj);
            if i == 0 {
                v = ext(v, at(1, cj));
            } else if i == px - 1 {
                v = ext(v, at(nx - 2, cj));
            }
            if j == 0 {
                v = ext(v, at(ci, 1) + (v - at(ci, cj)));
            } else if j == py - 1 {
                v = ext(v, at(ci, ny - 2) + (v - at(ci, cj)));
            }
            out[j * px + i] = if v.is_finite() { v } else { hole };
        }
    }
    out
}

fn layers(
    p: &ContourPlot,
    cs: &ColourScale,
    levels: &[f64],
    f: &Frame,
) -> Result<Layers, PlotError> {
    let m = Marching::new(p, f);
    Ok(Layers {
        bands: m.bands(&cs.thresholds)?,
        lines: m.lines(levels)?,
    })
}

fn marching_failed(e: contour::Error) -> PlotError {
    PlotError::Render(format!("marching squares failed: {e:?}"))
}

/// Marching squares over the padded grid, and the way from the crate's
/// grid coordinates (value k of the padded grid at k + 0.5) back to pixels.
struct Marching<'a> {
    p: &'a ContourPlot,
    f: &'a Frame,
    values: Vec<f64>,
    builder: ContourBuilder,
}

impl<'a> Marching<'a> {
    fn new(p: &'a ContourPlot, f: &'a Frame) -> Self {
        let (nx, ny) = (p.xs.len(), p.ys.len());
        let (zmin, zmax) = finite_range(p.z.iter().copied()).unwrap_or((0.0, 1.0));
        // Non-finite values become a value below every threshold: outside
        // every band (left blank), and level lines next to them are dropped.
        let hole = zmin - (zmax - zmin).abs() - 1.0;
        Marching {
            p,
            f,
            values: padded_grid(&p.z, nx, ny, hole),
            builder: ContourBuilder::new(nx + 2, ny + 2, true),
        }
    }

    fn to_px(&self, (cx, cy): (f64, f64)) -> (f64, f64) {
        let (xs, ys) = (&self.p.xs, &self.p.ys);
        self.f
            .px((grid_to_data(xs, cx - 1.0), grid_to_data(ys, cy - 1.0)))
    }

    /// Whether a level-line point must be dropped: it lies on the padded
    /// grid's border (the crate closes rings there) or next to a
    /// non-finite value.
    fn dropped(&self, (cx, cy): (f64, f64)) -> bool {
        let (nx, ny) = (self.p.xs.len(), self.p.ys.len());
        if cx <= 0.5 || cy <= 0.5 || cx >= nx as f64 + 1.5 || cy >= ny as f64 + 1.5 {
            return true;
        }
        let near = |g: f64, n: usize| {
            let i = (g - 1.5).clamp(0.0, (n - 1) as f64);
            [i.floor() as usize, i.ceil() as usize]
        };
        let (ix, iy) = (near(cx, nx), near(cy, ny));
        ix.iter()
            .any(|&i| iy.iter().any(|&j| !self.p.z[j * nx + i].is_finite()))
    }

    /// Each non-empty band between consecutive `thresholds`, with its index.
    fn bands(&self, thresholds: &[f64]) -> Result<Vec<(usize, Rings)>, PlotError> {
        let bands = self
            .builder
            .isobands(&self.values, thresholds)
            .map_err(marching_failed)?;
        let mut out = Vec::new();
        for (k, band) in bands.iter().enumerate() {
            let rings: Rings = band
                .geometry()
                .0
                .iter()
                .flat_map(|poly| std::iter::once(poly.exterior()).chain(poly.interiors()))
                .map(|ring| ring.0.iter().map(|c| self.to_px((c.x, c.y))).collect())
                .collect();
            if !rings.is_empty() {
                out.push((k, rings));
            }
        }
        Ok(out)
    }

    /// The level lines in pixels, broken where a point is dropped.
    fn lines(&self, levels: &[f64]) -> Result<Vec<Vec<(f64, f64)>>, PlotError> {
        let mut lines = Vec::new();
        for line in self
            .builder
            .lines(&self.values, levels)
            .map_err(marching_failed)?
        {
            for ls in &line.geometry().0 {
                let mut run: Vec<(f64, f64)> = Vec::new();
                for c in ls.0.iter().map(|c| (c.x, c.y)) {
                    if self.dropped(c) {
                        if run.len() > 1 {
                            lines.push(std::mem::take(&mut run));
                        }
                        run.clear();
                    } else {
                        run.push(self.to_px(c));
                    }
                }
                if run.len() > 1 {
                    lines.push(run);
                }
            }
        }
        Ok(lines)
    }
}

/// The figure.
pub(super) fn scene(p: &ContourPlot) -> Result<Scene, PlotError> {
    let (zmin, zmax) = check_grid(p)?;
    let cs = colour_scale(zmin, zmax, &p.zlabel);
    let levels: Vec<f64> = match &p.levels {
        Some(l) => l.clone(),
        None => default_levels(zmin, zmax),
    }
    .into_iter()
    .filter(|l| l.is_finite() && *l > zmin && *l < zmax)
    .collect();
    let (nx, ny) = (p.xs.len(), p.ys.len());
    let x = Axis::linear(p.xs[0], p.xs[nx - 1], 8, false, &p.xlabel);
    let y = Axis::linear(p.ys[0], p.ys[ny - 1], 8, false, &p.ylabel);
    let (mut scene, frame) = canvas(p, &cs, &x, &y);

    let lay = layers(p, &cs, &levels, &frame)?;
    let nb = cs.thresholds.len() - 1;
    for (k, rings) in lay.bands {
        scene.polygon(rings, band_colour(k, nb), true, Role::Band);
    }
    let level_stroke = Stroke::dashed(LEVEL_GREY, 1.8, &LEVEL_DASH);
    for l in &lay.lines {
        scene.polyline(l, level_stroke.clone(), true, Role::Level);
    }
    let entries = draw_paths(&mut scene, p, &frame);
    axes::draw_frame(&mut scene, &frame, &x, &y);
    if !entries.is_empty() {
        let pts: Vec<(f64, f64)> = p
            .paths
            .iter()
            .flat_map(|s| s.points.iter().map(|&q| frame.px(q)))
            .collect();
        let corner = axes::best_corner(frame.area, &entries, &pts);
        axes::draw_legend(&mut scene, frame.area, &entries, corner);
    }
    colour_bar(&mut scene, &cs, &levels, frame.area);
    Ok(scene)
}

/// Checks the grid's axes and size; returns the finite values' range.
fn check_grid(p: &ContourPlot) -> Result<(f64, f64), PlotError> {
    check_axis("x", &p.xs)?;
    check_axis("y", &p.ys)?;
    let (nx, ny) = (p.xs.len(), p.ys.len());
    if nx.checked_mul(ny) != Some(p.z.len()) {
        return Err(PlotError::InvalidData(format!(
            "the contour grid is {nx} x {ny} but has {} values",
            p.z.len()
        )));
    }
    finite_range(p.z.iter().copied()).ok_or_else(|| {
        PlotError::EmptyData("every value of the contour grid is NaN or infinite".into())
    })
}

/// The empty canvas: a square plotting area (clipped to) with room for
/// the tick labels, the colour bar and the title, which is drawn.
fn canvas(p: &ContourPlot, cs: &ColourScale, x: &Axis, y: &Axis) -> (Scene, Frame) {
    let left = axes::left_margin(y);
    let top = axes::top_margin(&p.title);
    let bar_label = if cs.bar.label.is_empty() {
        0.0
    } else {
        axes::LABEL_SIZE + 12.0
    };
    let right = BAR_GAP + BAR_W + 9.0 + axes::widest(&cs.bar.ticks) + bar_label + 12.0;
    let bottom = axes::bottom_margin(x);
    let title_w = text_width(&p.title, axes::TITLE_SIZE);
    let width = (left + SIDE + right).max(title_w + 40.0).ceil();
    let height = (top + SIDE + bottom).ceil();
    let area = axes::snap_area((left, top, left + SIDE, top + SIDE));
    let mut scene = Scene::new(width as u32, height as u32);
    scene.clip = area;
    axes::draw_title(&mut scene, area, &p.title);
    (scene, Frame::new(area, x, y))
}

/// The marker of a path point: a white disc edged in the path's colour
/// with a dot of it inside (the chapter's white "o" under a blue ".").
fn point_marker(c: Rgb) -> Marker {
    Marker {
        r: 3.6,
        fill: Some(Rgb::WHITE),
        edge: Some(Stroke::solid(c, 1.0)),
        dot: Some((1.3, c)),
    }
}

/// A ring around the first or last point, open so the point stays visible.
fn end_marker(c: Rgb) -> Marker {
    Marker {
        r: 7.0,
        fill: None,
        edge: Some(Stroke::solid(c, 2.0)),
        dot: None,
    }
}

/// Draws every path (line, then markers, then start and end rings) and
/// returns the legend entries.
fn draw_paths(scene: &mut Scene, p: &ContourPlot, f: &Frame) -> Vec<(String, Sample)> {
    let mut entries = Vec::new();
    let (l, t, r, b) = f.area;
    let inside =
        |q: (f64, f64)| q.0 >= l - 1.0 && q.0 <= r + 1.0 && q.1 >= t - 1.0 && q.1 <= b + 1.0;
    for (k, s) in p.paths.iter().enumerate() {
        let colour = if p.paths.len() == 1 {
            SINGLE_PATH
        } else {
            PATH_CYCLE[k % PATH_CYCLE.len()]
        };
        let px: Vec<(f64, f64)> = s.points.iter().map(|&q| f.px(q)).collect();
        let stroke = Stroke::solid(colour, 1.5);
        scene.polyline(&px, stroke.clone(), true, Role::Path);
        // A run that has settled repeats points by the hundred: one marker
        // per tenth of a pixel is enough.
        let mut seen = HashSet::new();
        let marker = point_marker(colour);
        for &q in px
            .iter()
            .filter(|q| q.0.is_finite() && q.1.is_finite() && inside(**q))
        {
            if seen.insert(((q.0 * 10.0).round() as i64, (q.1 * 10.0).round() as i64)) {
                marker.draw(scene, q, true);
            }
        }
        let label = if s.label.is_empty() {
            format!("path ({} points)", s.points.len())
        } else {
            s.label.clone()
        };
        entries.push((label, Sample::LineMarker(stroke, marker)));
    }
    let finite = |q: &&(f64, f64)| q.0.is_finite() && q.1.is_finite();
    for (name, colour, pick) in [("start", START, true), ("end", END, false)] {
        let mut any = false;
        for s in &p.paths {
            let q = if pick {
                s.points.iter().find(finite)
            } else {
                s.points.iter().rev().find(finite)
            };
            if let Some(&q) = q {
                let q = f.px(q);
                if inside(q) {
                    end_marker(colour).draw(scene, q, true);
                    any = true;
                }
            }
        }
        if any {
            entries.push((name.to_string(), Sample::Marker(end_marker(colour))));
        }
    }
    entries
}

/// The colour bar right of the plotting area: the bands on the same scale
/// as the map, the level lines marked across it, ticks and its label.
fn colour_bar(scene: &mut Scene, cs: &ColourScale, levels: &[f64], area: (f64, f64, f64, f64)) {
    let (_, t, r, b) = area;
    let (l, rr) = (r + BAR_GAP, r + BAR_GAP + BAR_W);
    let bar = &cs.bar;
    let s = Scale {
        lo: bar.lo,
        hi: bar.hi,
        p0: b,
        p1: t,
        log: bar.log,
    };
    let to_axis = |v: f64| {
        if bar.log {
            v.max(f64::MIN_POSITIVE).log10()
        } else {
            v
        }
    };
    let nb = cs.thresholds.len() - 1;
    for k in 0..nb {
        let lo = to_axis(cs.thresholds[k]).max(bar.lo);
        let hi = to_axis(cs.thresholds[k + 1]).min(bar.hi);
        if hi > lo {
            let (yb, yt) = (s.px_axis(lo), s.px_axis(hi));
            scene.rect((l, yt, rr, yb), Some(band_colour(k, nb)), None, Role::Band);
        }
    }
    for &v in levels {
        let y = s.px_axis(to_axis(v));
        scene.polyline(
            &[(l, y), (rr, y)],
            Stroke::solid(LEVEL_GREY, 1.5),
            false,
            Role::Level,
        );
    }
    let black = Stroke::solid(Rgb::BLACK, 1.0);
    scene.rect((l, t, rr, b), None, Some(black.clone()), Role::Frame);
    for (u, label) in &bar.ticks {
        let y = axes::snap(s.px_axis(*u));
        scene.polyline(&[(rr, y), (rr + 5.0, y)], black.clone(), false, Role::Frame);
        scene.text(
            (rr + 9.0, y),
            label,
            axes::TICK_SIZE,
            Anchor::Start,
            VAlign::Center,
        );
    }
    let lx = rr + 9.0 + axes::widest(&bar.ticks) + 10.0 + axes::LABEL_SIZE / 2.0;
    let label = &bar.label;
    if !label.is_empty() {
        scene.vertical_text((lx, (t + b) / 2.0), label, axes::LABEL_SIZE);
    }
}
