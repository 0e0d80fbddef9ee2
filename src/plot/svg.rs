//! A [`Scene`] as an SVG document: bands and level lines as `<path>`s with
//! fractional coordinates, polylines as `<polyline>`s (one vertex per
//! point), markers as `<circle>`s and text as `<text>`, every element
//! tagged with a `class` naming its role. Items clipped to the plotting
//! area share one `<clipPath>`.

use std::fmt::Write as _;

use super::scene::{baseline, Circle, Item, Rgb, Scene, Shape, Stroke, Text};

/// Two decimals: a hundredth of a pixel, far below what a viewer shows
/// even zoomed in, keeps the files small.
fn n(v: f64) -> String {
    let s = format!("{v:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn stroke_attrs(s: &Option<Stroke>) -> String {
    match s {
        None => " stroke=\"none\"".into(),
        Some(s) => {
            let mut a = format!(
                " stroke=\"{}\" stroke-width=\"{}\" stroke-linejoin=\"round\" stroke-linecap=\"{}\"",
                s.colour.hex(),
                n(s.width),
                if s.dash.is_empty() { "round" } else { "butt" }
            );
            if !s.dash.is_empty() {
                let d: Vec<String> = s.dash.iter().map(|&v| n(v)).collect();
                let _ = write!(a, " stroke-dasharray=\"{}\"", d.join(" "));
            }
            a
        }
    }
}

fn fill_attr(f: Option<Rgb>) -> String {
    match f {
        None => " fill=\"none\"".into(),
        Some(c) => format!(" fill=\"{}\"", c.hex()),
    }
}

fn points(ring: &[(f64, f64)]) -> String {
    let mut s = String::with_capacity(ring.len() * 14);
    for (k, &(x, y)) in ring.iter().enumerate() {
        if k > 0 {
            s.push(' ');
        }
        let _ = write!(s, "{},{}", n(x), n(y));
    }
    s
}

/// The SVG text of `scene`.
pub(super) fn write(scene: &Scene) -> String {
    let (w, h) = (scene.width, scene.height);
    let mut out = String::with_capacity(64 * 1024);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">"
    );
    let (l, t, r, b) = scene.clip;
    let _ = writeln!(
        out,
        "<defs><clipPath id=\"plot-area\"><rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"/></clipPath></defs>",
        n(l),
        n(t),
        n(r - l),
        n(b - t)
    );
    let _ = writeln!(
        out,
        "<rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\" class=\"background\"/>"
    );
    for item in &scene.items {
        item_svg(&mut out, item);
    }
    out.push_str("</svg>\n");
    out
}

fn clip_attr(clip: bool) -> &'static str {
    if clip {
        " clip-path=\"url(#plot-area)\""
    } else {
        ""
    }
}

fn item_svg(out: &mut String, item: &Item) {
    match item {
        Item::Shape(s) if s.closed => path_svg(out, s),
        Item::Shape(s) => polylines_svg(out, s),
        Item::Circle(c) => circle_svg(out, c),
        Item::Text(t) => text_svg(out, t),
    }
}

/// Open polylines: one `<polyline>` per ring.
fn polylines_svg(out: &mut String, s: &Shape) {
    for ring in &s.rings {
        let _ = writeln!(
            out,
            "<polyline class=\"{}\" points=\"{}\" fill=\"none\"{}{}/>",
            s.role.class(),
            points(ring),
            stroke_attrs(&s.stroke),
            clip_attr(s.clip)
        );
    }
}

/// Polygons with holes: one even-odd `<path>` with a subpath per ring.
fn path_svg(out: &mut String, s: &Shape) {
    let mut d = String::new();
    for ring in s.rings.iter().filter(|r| r.len() > 1) {
        for (k, &(x, y)) in ring.iter().enumerate() {
            let _ = write!(d, "{}{},{}", if k == 0 { "M" } else { "L" }, n(x), n(y));
        }
        d.push('Z');
    }
    let _ = writeln!(
        out,
        "<path class=\"{}\" d=\"{d}\" fill-rule=\"evenodd\"{}{}{}/>",
        s.role.class(),
        fill_attr(s.fill),
        stroke_attrs(&s.stroke),
        clip_attr(s.clip)
    );
}

fn circle_svg(out: &mut String, c: &Circle) {
    let _ = writeln!(
        out,
        "<circle class=\"{}\" cx=\"{}\" cy=\"{}\" r=\"{}\"{}{}{}/>",
        c.role.class(),
        n(c.centre.0),
        n(c.centre.1),
        n(c.r),
        fill_attr(c.fill),
        stroke_attrs(&c.stroke),
        clip_attr(c.clip)
    );
}

fn text_svg(out: &mut String, t: &Text) {
    let (x, y) = t.at;
    // The baseline is placed by the same rule as in the PNG; a vertical
    // text is laid out horizontally, then rotated about `at`.
    let by = baseline(y, t.size, t.valign);
    let rot = if t.vertical {
        format!(" transform=\"rotate(-90 {} {})\"", n(x), n(y))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-family=\"DejaVu Sans, Bitstream Vera Sans, sans-serif\" font-size=\"{}\" text-anchor=\"{}\" fill=\"{}\"{rot}>{}</text>",
        n(x),
        n(by),
        n(t.size),
        t.anchor.svg(),
        t.colour.hex(),
        escape(&t.text)
    );
}
