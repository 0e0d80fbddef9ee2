//! Reading the figures the plot module writes, shared by its unit tests
//! (src/plot/tests.rs includes this file by path) and
//! tests/plot_figures.rs: the SVG's elements, attributes, numbers and
//! texts (the writer puts one element on a line), and the distance from a
//! pixel to a traced segment.

/// The value of attribute `name` in one element's text.
pub fn attr<'a>(elem: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let i = elem.find(&key)? + key.len();
    let j = elem[i..].find('"')?;
    Some(&elem[i..i + j])
}

/// Every `<tag ...>` element of `svg` whose class is `class`.
pub fn elements<'a>(svg: &'a str, tag: &str, class: &str) -> Vec<&'a str> {
    let open = format!("<{tag} class=\"{class}\"");
    svg.lines().filter(|l| l.starts_with(&open)).collect()
}

/// Every number in `s` (a path's `d`, a polyline's `points`).
pub fn numbers(s: &str) -> Vec<f64> {
    s.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .filter_map(|t| t.parse().ok())
        .collect()
}

/// The vertices of a polyline element.
pub fn points(elem: &str) -> Vec<(f64, f64)> {
    numbers(attr(elem, "points").unwrap_or(""))
        .chunks(2)
        .map(|c| (c[0], c[1]))
        .collect()
}

/// The text of every `<text>` element, unescaped, in order.
pub fn texts(svg: &str) -> Vec<String> {
    svg.split("<text")
        .skip(1)
        .filter_map(|t| {
            let body = &t[t.find('>')? + 1..];
            Some(
                body[..body.find("</text>")?]
                    .replace("&quot;", "\"")
                    .replace("&amp;", "&")
                    .replace("&lt;", "<")
                    .replace("&gt;", ">"),
            )
        })
        .collect()
}

/// Distance from `p` to the segment `a`-`b`.
pub fn dist(p: (f64, f64), a: (f64, f64), b: (f64, f64)) -> f64 {
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let len2 = dx * dx + dy * dy;
    let t = if len2 > 0.0 {
        (((p.0 - a.0) * dx + (p.1 - a.1) * dy) / len2).clamp(0.0, 1.0)
    } else {
        0.0
    };
    ((p.0 - a.0 - t * dx).powi(2) + (p.1 - a.1 - t * dy).powi(2)).sqrt()
}
