//! A [`Scene`] painted with tiny-skia into an antialiased RGB PNG. Lines
//! have round joins (no miter spikes at sharp turns), clipped items are
//! masked to the plotting area, and text is filled from the bundled font's
//! glyph outlines, so the PNG needs no system fonts.

use ab_glyph::{Font as _, OutlineCurve};
use tiny_skia::{
    FillRule, LineCap, LineJoin, Mask, Paint, PathBuilder, Pixmap, Rect, StrokeDash, Transform,
};

use super::scene::{baseline, font, layout, Circle, Item, Rgb, Scene, Shape, Stroke, Text};
use super::PlotError;

fn paint(c: Rgb) -> Paint<'static> {
    let mut p = Paint::default();
    p.set_color_rgba8(c.0, c.1, c.2, 255);
    p.anti_alias = true;
    p
}

fn ts_stroke(s: &Stroke) -> tiny_skia::Stroke {
    tiny_skia::Stroke {
        width: s.width as f32,
        line_join: LineJoin::Round,
        line_cap: if s.dash.is_empty() {
            LineCap::Round
        } else {
            LineCap::Butt
        },
        dash: if s.dash.is_empty() {
            None
        } else {
            StrokeDash::new(s.dash.iter().map(|&v| v as f32).collect(), 0.0)
        },
        ..Default::default()
    }
}

fn shape_path(rings: &[Vec<(f64, f64)>], closed: bool) -> Option<tiny_skia::Path> {
    let mut pb = PathBuilder::new();
    for ring in rings.iter().filter(|r| r.len() > 1) {
        pb.move_to(ring[0].0 as f32, ring[0].1 as f32);
        for &(x, y) in &ring[1..] {
            pb.line_to(x as f32, y as f32);
        }
        if closed {
            pb.close();
        }
    }
    pb.finish()
}

/// The outlines of `text` as one path, baseline-left at the origin.
fn text_path(text: &str, size: f64) -> Result<(Option<tiny_skia::Path>, f64), PlotError> {
    let f = font()?;
    let scale = (size / f.units_per_em().unwrap_or(2048.0) as f64) as f32;
    let (glyphs, width) = layout(f, text, size);
    let mut pb = PathBuilder::new();
    for (id, x0) in glyphs {
        let Some(outline) = f.outline(id) else {
            continue;
        };
        let x0 = x0 as f32;
        let p = |q: ab_glyph::Point| (x0 + q.x * scale, -q.y * scale);
        let mut last: Option<ab_glyph::Point> = None;
        for c in &outline.curves {
            let start = match c {
                OutlineCurve::Line(a, _) | OutlineCurve::Quad(a, _, _) => *a,
                OutlineCurve::Cubic(a, _, _, _) => *a,
            };
            if last != Some(start) {
                if last.is_some() {
                    pb.close();
                }
                let (x, y) = p(start);
                pb.move_to(x, y);
            }
            match c {
                OutlineCurve::Line(_, b) => {
                    let (x, y) = p(*b);
                    pb.line_to(x, y);
                    last = Some(*b);
                }
                OutlineCurve::Quad(_, c1, b) => {
                    let ((x1, y1), (x, y)) = (p(*c1), p(*b));
                    pb.quad_to(x1, y1, x, y);
                    last = Some(*b);
                }
                OutlineCurve::Cubic(_, c1, c2, b) => {
                    let ((x1, y1), (x2, y2), (x, y)) = (p(*c1), p(*c2), p(*b));
                    pb.cubic_to(x1, y1, x2, y2, x, y);
                    last = Some(*b);
                }
            }
        }
        if last.is_some() {
            pb.close();
        }
    }
    Ok((pb.finish(), width))
}

/// Paints `scene` and encodes it as an 8-bit RGB PNG.
pub(super) fn png(scene: &Scene) -> Result<Vec<u8>, PlotError> {
    let mut canvas = Canvas::new(scene)?;
    for item in &scene.items {
        match item {
            Item::Shape(s) => canvas.shape(s),
            Item::Circle(c) => canvas.circle(c),
            Item::Text(t) => canvas.text(t)?,
        }
    }
    encode(&canvas.pm)
}

/// A white pixmap and the mask of the plotting area that clipped items
/// are painted through.
struct Canvas {
    pm: Pixmap,
    mask: Mask,
}

impl Canvas {
    fn new(scene: &Scene) -> Result<Self, PlotError> {
        let (w, h) = (scene.width, scene.height);
        let mut pm = Pixmap::new(w, h)
            .ok_or_else(|| PlotError::Render(format!("cannot make a {w} x {h} canvas")))?;
        pm.fill(tiny_skia::Color::WHITE);
        let (l, t, r, b) = scene.clip;
        let mut mask =
            Mask::new(w, h).ok_or_else(|| PlotError::Render("cannot make the clip mask".into()))?;
        if let Some(rect) = Rect::from_ltrb(l as f32, t as f32, r as f32, b as f32) {
            mask.fill_path(
                &PathBuilder::from_rect(rect),
                FillRule::Winding,
                false,
                Transform::identity(),
            );
        }
        Ok(Canvas { pm, mask })
    }

    fn shape(&mut self, s: &Shape) {
        if let Some(path) = shape_path(&s.rings, s.closed) {
            let rule = FillRule::EvenOdd;
            self.fill_and_stroke(&path, rule, s.fill, s.stroke.as_ref(), s.clip);
        }
    }

    fn circle(&mut self, c: &Circle) {
        let (x, y) = c.centre;
        if let Some(path) = PathBuilder::from_circle(x as f32, y as f32, c.r as f32) {
            let rule = FillRule::Winding;
            self.fill_and_stroke(&path, rule, c.fill, c.stroke.as_ref(), c.clip);
        }
    }

    /// Fills `path` (if `fill`), then strokes it (if `stroke`).
    fn fill_and_stroke(
        &mut self,
        path: &tiny_skia::Path,
        rule: FillRule,
        fill: Option<Rgb>,
        stroke: Option<&Stroke>,
        clip: bool,
    ) {
        let id = Transform::identity();
        let m = clip.then_some(&self.mask);
        if let Some(c) = fill {
            self.pm.fill_path(path, &paint(c), rule, id, m);
        }
        if let Some(s) = stroke {
            self.pm
                .stroke_path(path, &paint(s.colour), &ts_stroke(s), id, m);
        }
    }

    fn text(&mut self, t: &Text) -> Result<(), PlotError> {
        let (path, width) = text_path(&t.text, t.size)?;
        let Some(path) = path else { return Ok(()) };
        let dx = t.anchor.offset(width);
        let dy = baseline(0.0, t.size, t.valign);
        // Laid out about `at`, then turned as the SVG's rotate(-90).
        let local = Transform::from_translate(dx as f32, dy as f32);
        let (x, y) = (t.at.0 as f32, t.at.1 as f32);
        let place = if t.vertical {
            Transform::from_row(0.0, -1.0, 1.0, 0.0, x, y)
        } else {
            Transform::from_translate(x, y)
        };
        let transform = place.pre_concat(local);
        let fill = paint(t.colour);
        self.pm
            .fill_path(&path, &fill, FillRule::Winding, transform, None);
        Ok(())
    }
}

fn encode(pm: &Pixmap) -> Result<Vec<u8>, PlotError> {
    // Every pixel is opaque (the canvas starts white), so dropping alpha
    // from the premultiplied data loses nothing.
    let rgb: Vec<u8> = pm
        .data()
        .chunks_exact(4)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    let mut out = Vec::new();
    let fail = |e: png::EncodingError| PlotError::Render(format!("PNG encoding failed: {e}"));
    let mut enc = png::Encoder::new(&mut out, pm.width(), pm.height());
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut writer = enc.write_header().map_err(fail)?;
    writer.write_image_data(&rgb).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(out)
}
