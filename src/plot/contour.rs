//! Filled contour maps: colour bands, marching-squares level lines and the
//! minimizer's path.

use std::collections::HashMap;

use plotters::coord::Shift;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::*;

/// Contour levels for finite data in `[lo, hi]`.
pub(super) fn default_levels(lo: f64, hi: f64) -> Vec<f64> {
    let inside = |v: &&f64| **v > lo && **v < hi;
    if CHAPTER_LEVELS.iter().filter(inside).count() >= 3 {
        return CHAPTER_LEVELS.to_vec();
    }
    if hi.is_nan() || lo.is_nan() || hi <= lo {
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
    linear_steps(lo, hi, 8.0)
}

/// Multiples of a nice step strictly inside `(lo, hi)`, about `n` of them
/// (at most 64, and none when the range is too narrow to step through).
fn linear_steps(lo: f64, hi: f64, n: f64) -> Vec<f64> {
    let step = nice_step(hi - lo, n);
    if !(step.is_finite() && step > 0.0) {
        return Vec::new();
    }
    let start = (lo / step).floor();
    (0..200)
        .map(|k| (start + k as f64) * step)
        .skip_while(|&v| v <= lo)
        .take_while(|&v| v < hi)
        .take(64)
        .collect()
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
    const ALPHA: f64 = 0.55;
    let (r, g, b) = viridis((k as f64 + 0.5) / n.max(1) as f64);
    let mix = |c: f64| (255.0 * (1.0 - ALPHA) + c * ALPHA).round() as u8;
    RGBColor(mix(r), mix(g), mix(b))
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
    Some((
        if t0 > 0.0 { at(t0) } else { a },
        if t1 < 1.0 { at(t1) } else { b },
    ))
}

/// The path as polylines clipped to the box; non-finite points break it.
pub(super) fn clip_path(path: &[(f64, f64)], bx: (f64, f64, f64, f64)) -> Vec<Vec<(f64, f64)>> {
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
pub(super) fn contour_lines(xs: &[f64], ys: &[f64], z: &[f64], level: f64) -> Vec<Vec<(f64, f64)>> {
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
        let (a, (bi, bj)) = (at(i, j), if e & 1 == 0 { (i + 1, j) } else { (i, j + 1) });
        let b = at(bi, bj);
        let t = ((level - a) / (b - a)).clamp(0.0, 1.0);
        let t = if t.is_finite() { t } else { 0.5 };
        (xs[i] + t * (xs[bi] - xs[i]), ys[j] + t * (ys[bj] - ys[j]))
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
            let crossed: Vec<usize> = (0..4).filter(|&k| above[k] != above[(k + 1) % 4]).collect();
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
    if !floor.is_finite() || !umax.is_finite() || umax <= floor {
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
    linear_steps(floor, umax, BANDS as f64)
}

// ---------------------------------------------------------------------------
// Contour figure.

pub(super) struct ContourFig<'a> {
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

impl<'a> ContourFig<'a> {
    pub(super) fn new(p: &'a ContourPlot) -> Result<Self, PlotError> {
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
        let umin_pos =
            finite_range(p.z.iter().map(|z| z + shift).filter(|&u| u > 0.0)).map_or(umax, |r| r.0);
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
        area.draw(&Rectangle::new(
            [(x0, top), (x1, bottom)],
            BLACK.stroke_width(1),
        ))
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
            .draw_series(
                self.lines
                    .iter()
                    .map(|l| DashedPathElement::new(l.clone(), 6, 4, LEVEL_GRAY.stroke_width(1))),
            )
            .map_err(de)?;
        if let Some(path) = p.path.as_deref() {
            let bx = (x0, x1, y0, y1);
            let inside = |q: &&(f64, f64)| {
                q.0.is_finite()
                    && q.1.is_finite()
                    && q.0 >= x0
                    && q.0 <= x1
                    && q.1 >= y0
                    && q.1 <= y1
            };
            // Points that land on the same pixel are drawn once: a long run
            // that has settled would otherwise repeat them by the hundred.
            let px = |q: &(f64, f64)| chart.backend_coord(q);
            let lines: Vec<Vec<(f64, f64)>> = clip_path(path, bx)
                .into_iter()
                .map(|l| {
                    let mut kept: Vec<(f64, f64)> = Vec::with_capacity(l.len());
                    for (k, q) in l.iter().enumerate() {
                        let same = kept.last().is_some_and(|r| px(r) == px(q));
                        if !same || k + 1 == l.len() {
                            kept.push(*q);
                        }
                    }
                    kept
                })
                .collect();
            let mut seen = std::collections::HashSet::new();
            let marks: Vec<(f64, f64)> = path
                .iter()
                .filter(inside)
                .filter(|q| seen.insert(px(q)))
                .copied()
                .collect();
            chart
                .draw_series(
                    lines
                        .into_iter()
                        .map(|l| PathElement::new(l, PATH_BLUE.stroke_width(2))),
                )
                .map_err(de)?
                .label(format!("path ({} points)", path.len()))
                .legend(|(x, y)| PathElement::new(vec![(x - 8, y), (x + 8, y)], PATH_BLUE));
            chart
                .draw_series(marks.iter().map(|&q| Circle::new(q, 3, WHITE.filled())))
                .map_err(de)?;
            chart
                .draw_series(
                    marks
                        .iter()
                        .map(|&q| Circle::new(q, 1.5, PATH_BLUE.filled())),
                )
                .map_err(de)?;
            let ends = [
                (
                    path.iter().find(|q| q.0.is_finite() && q.1.is_finite()),
                    START_GREEN,
                    "start",
                ),
                (
                    path.iter()
                        .rev()
                        .find(|q| q.0.is_finite() && q.1.is_finite()),
                    END_RED,
                    "end",
                ),
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
            .draw(&Rectangle::new(
                [(0, 0), (w as i32 - 1, h as i32 - 1)],
                BLACK.stroke_width(1),
            ))
            .map_err(de)?;
        // Colour bar beside the plotting area, vertically aligned with it.
        let (_, yr) = chart.plotting_area().get_pixel_range();
        let base = bar.get_base_pixel().1;
        self.colour_bar(&bar, yr.start - base, yr.end - base)
    }
}
