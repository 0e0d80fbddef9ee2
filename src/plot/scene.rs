//! The figure as a list of drawing primitives in pixel coordinates, the one
//! thing both outputs read: `svg.rs` writes it as SVG elements and
//! `raster.rs` paints it with tiny-skia, so the two formats cannot disagree
//! about what is drawn. Text is measured with the bundled font here, so the
//! layout (label widths, legend boxes) is the same in both.

use std::sync::OnceLock;

use ab_glyph::{Font as _, FontRef, GlyphId};

use super::PlotError;

/// The font every figure uses, compiled into the binary.
static FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The bundled DejaVu Sans, parsed once.
pub(super) fn font() -> Result<&'static FontRef<'static>, PlotError> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
        .ok_or(PlotError::Font)
}

/// An opaque colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    pub const WHITE: Rgb = Rgb(255, 255, 255);
    pub const BLACK: Rgb = Rgb(0, 0, 0);

    /// `#rrggbb`.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// How a line is drawn. Joins are always round: a sharp turn of a thick
/// polyline must not grow a miter spike that no traced segment contains.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Stroke {
    pub colour: Rgb,
    pub width: f64,
    /// Dash and gap lengths in pixels; empty for a solid line.
    pub dash: Vec<f64>,
}

impl Stroke {
    pub fn solid(colour: Rgb, width: f64) -> Self {
        Stroke {
            colour,
            width,
            dash: Vec::new(),
        }
    }

    pub fn dashed(colour: Rgb, width: f64, dash: &[f64]) -> Self {
        Stroke {
            colour,
            width,
            dash: dash.to_vec(),
        }
    }
}

/// What an element is, for the SVG's `class` attribute (tests and users
/// can find the bands, level lines and paths by it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Role {
    Band,
    /// A shaded x range of a line plot (a MINOS interval).
    Span,
    Level,
    Path,
    Marker,
    Frame,
    Legend,
    Other,
}

impl Role {
    pub fn class(self) -> &'static str {
        match self {
            Role::Band => "band",
            Role::Span => "span",
            Role::Level => "level",
            Role::Path => "path",
            Role::Marker => "marker",
            Role::Frame => "frame",
            Role::Legend => "legend",
            Role::Other => "other",
        }
    }
}

/// Horizontal anchoring of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Anchor {
    Start,
    Middle,
    End,
}

impl Anchor {
    /// How far the start of a text of `width` pixels lies from its anchor.
    pub fn offset(self, width: f64) -> f64 {
        match self {
            Anchor::Start => 0.0,
            Anchor::Middle => -width / 2.0,
            Anchor::End => -width,
        }
    }

    /// The SVG `text-anchor` value.
    pub fn svg(self) -> &'static str {
        match self {
            Anchor::Start => "start",
            Anchor::Middle => "middle",
            Anchor::End => "end",
        }
    }
}

/// Vertical placement of a text relative to its `y`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum VAlign {
    /// `y` is the top of the capitals.
    Top,
    /// `y` is the middle of the capitals.
    Center,
    /// `y` is the baseline.
    Baseline,
}

/// Open polylines (`closed == false`) or polygons with holes, filled with
/// the even-odd rule.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Shape {
    pub rings: Vec<Vec<(f64, f64)>>,
    pub closed: bool,
    pub fill: Option<Rgb>,
    pub stroke: Option<Stroke>,
    /// Clipped to the plotting area.
    pub clip: bool,
    pub role: Role,
}

/// A disc (a marker).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Circle {
    pub centre: (f64, f64),
    pub r: f64,
    pub fill: Option<Rgb>,
    pub stroke: Option<Stroke>,
    pub clip: bool,
    pub role: Role,
}

/// One line of text in the bundled font.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Text {
    pub at: (f64, f64),
    pub text: String,
    pub size: f64,
    pub anchor: Anchor,
    pub valign: VAlign,
    /// Rotated 90 degrees counter-clockwise about `at` (a y label).
    pub vertical: bool,
    pub colour: Rgb,
}

/// One drawing primitive. Coordinates are pixels, y down.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Item {
    Shape(Shape),
    Circle(Circle),
    Text(Text),
}

/// A whole figure.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Scene {
    pub width: u32,
    pub height: u32,
    /// The plotting area `(left, top, right, bottom)` that clipped items
    /// are clipped to.
    pub clip: (f64, f64, f64, f64),
    pub items: Vec<Item>,
}

/// Largest distance from the canvas a vertex may have; farther segments
/// are cut at this margin so that every coordinate stays small enough for
/// `f32` rasterizing while the visible part of each segment is unchanged.
const FAR: f64 = 2000.0;

impl Scene {
    pub fn new(width: u32, height: u32) -> Self {
        Scene {
            width,
            height,
            clip: (0.0, 0.0, width as f64, height as f64),
            items: Vec::new(),
        }
    }

    pub fn push(&mut self, item: Item) {
        self.items.push(item);
    }

    /// Adds an open polyline. Non-finite points break it, and segments
    /// reaching far beyond the canvas are cut there, so each piece keeps
    /// exactly the traced vertices that lie near the canvas.
    pub fn polyline(&mut self, pts: &[(f64, f64)], stroke: Stroke, clip: bool, role: Role) {
        let (w, h) = (self.width as f64, self.height as f64);
        let bx = (-FAR, w + FAR, -FAR, h + FAR);
        let rings = super::geom::clip_polyline(pts, bx);
        if !rings.is_empty() {
            self.push(Item::Shape(Shape {
                rings,
                closed: false,
                fill: None,
                stroke: Some(stroke),
                clip,
                role,
            }));
        }
    }

    /// Adds a filled polygon (rings are outer boundaries and holes).
    pub fn polygon(&mut self, rings: Vec<Vec<(f64, f64)>>, fill: Rgb, clip: bool, role: Role) {
        if !rings.is_empty() {
            self.push(Item::Shape(Shape {
                rings,
                closed: true,
                fill: Some(fill),
                stroke: None,
                clip,
                role,
            }));
        }
    }

    /// Adds an axis-aligned rectangle.
    pub fn rect(
        &mut self,
        (l, t, r, b): (f64, f64, f64, f64),
        fill: Option<Rgb>,
        stroke: Option<Stroke>,
        role: Role,
    ) {
        self.push(Item::Shape(Shape {
            rings: vec![vec![(l, t), (r, t), (r, b), (l, b)]],
            closed: true,
            fill,
            stroke,
            clip: false,
            role,
        }));
    }

    /// Adds a horizontal text.
    pub fn text(&mut self, at: (f64, f64), text: &str, size: f64, anchor: Anchor, valign: VAlign) {
        if !text.is_empty() {
            self.push(Item::Text(Text {
                at,
                text: text.to_string(),
                size,
                anchor,
                valign,
                vertical: false,
                colour: Rgb::BLACK,
            }));
        }
    }

    /// Adds a text rotated to read bottom to top, centred on `at`.
    pub fn vertical_text(&mut self, at: (f64, f64), text: &str, size: f64) {
        if !text.is_empty() {
            self.push(Item::Text(Text {
                at,
                text: text.to_string(),
                size,
                anchor: Anchor::Middle,
                valign: VAlign::Center,
                vertical: true,
                colour: Rgb::BLACK,
            }));
        }
    }
}

/// Height of DejaVu Sans' capitals as a fraction of the font size.
pub(super) const CAP_HEIGHT: f64 = 0.729;

/// Where the baseline goes for a text placed at `y` with `valign`.
pub(super) fn baseline(y: f64, size: f64, valign: VAlign) -> f64 {
    match valign {
        VAlign::Top => y + CAP_HEIGHT * size,
        VAlign::Center => y + 0.5 * CAP_HEIGHT * size,
        VAlign::Baseline => y,
    }
}

/// The glyphs of `text` with their x offsets in pixels from the start.
pub(super) fn layout(f: &FontRef<'_>, text: &str, size: f64) -> (Vec<(GlyphId, f64)>, f64) {
    let scale = size / f.units_per_em().unwrap_or(2048.0) as f64;
    let mut x = 0.0;
    let mut out = Vec::with_capacity(text.len());
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = f.glyph_id(c);
        if let Some(p) = prev {
            x += f.kern_unscaled(p, id) as f64 * scale;
        }
        out.push((id, x));
        x += f.h_advance_unscaled(id) as f64 * scale;
        prev = Some(id);
    }
    (out, x)
}

/// Width of `text` at `size` pixels.
pub(super) fn text_width(text: &str, size: f64) -> f64 {
    match font() {
        Ok(f) => layout(f, text, size).1,
        // Without the font nothing is drawn anyway; a rough width keeps
        // the layout code total.
        Err(_) => 0.6 * size * text.chars().count() as f64,
    }
}
