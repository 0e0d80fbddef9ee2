//! The figures themselves, drawn by the real binary: every plot of the
//! examples in both formats, checked for structure (SVG: isobands as
//! polygons, level lines, one polyline per path with one vertex per traced
//! point, text for the title, labels and legend; PNG: the same size,
//! antialiased, not blank, a legend with text, and no pixel of a path's
//! colour farther than a few pixels from one of its traced segments), and
//! the issue's cases of false segments: Beale with Adam (lr=0.3) from
//! (-1, 2) and Himmelblau with MIGRAD from (0, 0) and (-2, 0), whose traced
//! points (from `--json --trace`) are checked against both files.

#[path = "common/figures.rs"]
mod figures;

use figures::{attr, dist, elements, numbers, points, texts};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_losslang");

/// Runs `losslang run [flags] FILE` in the file's directory; asserts success.
fn run(file: &Path, flags: &[&str]) -> String {
    let out = Command::new(BIN)
        .arg("run")
        .args(flags)
        .arg(file)
        .current_dir(file.parent().expect("a directory"))
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(
        out.status.success(),
        "{} failed:\n{stdout}\n{stderr}",
        file.display()
    );
    stdout
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------
// Reading the SVG (our writer puts one element on a line).

/// `(left, top, right, bottom)` of the plotting area (the clip rectangle).
fn plot_area(svg: &str) -> (f64, f64, f64, f64) {
    let line = svg
        .lines()
        .find(|l| l.contains("<clipPath"))
        .expect("a clip path");
    let rect = &line[line.find("<rect").expect("a rect")..];
    let n = |k| attr(rect, k).and_then(|v| v.parse::<f64>().ok()).expect(k);
    (n("x"), n("y"), n("x") + n("width"), n("y") + n("height"))
}

/// The legend's box, a little enlarged.
fn legend_box(svg: &str) -> Option<(f64, f64, f64, f64)> {
    let e = elements(svg, "path", "legend").into_iter().next()?;
    let v = numbers(attr(e, "d")?);
    Some((v[0] - 1.5, v[1] - 1.5, v[2] + 1.5, v[5] + 1.5))
}

fn hex(c: &str) -> [u8; 3] {
    let v = u32::from_str_radix(c.trim_start_matches('#'), 16).expect("a colour");
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

// ---------------------------------------------------------------------------
// Reading the PNG.

struct Image {
    w: usize,
    h: usize,
    px: Vec<[u8; 3]>,
}

fn image(file: &Path) -> Image {
    let bytes = fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a PNG header");
    let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
    let info = reader.next_frame(&mut buf).expect("PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    Image {
        w: info.width as usize,
        h: info.height as usize,
        px: buf[..info.buffer_size()]
            .chunks(3)
            .map(|c| [c[0], c[1], c[2]])
            .collect(),
    }
}

/// Pixels of colour `c` (within a small tolerance) outside `skip` that lie
/// farther than `tol` from every segment of `path`, or outside `area`.
fn stray(
    img: &Image,
    c: [u8; 3],
    path: &[(f64, f64)],
    area: (f64, f64, f64, f64),
    skip: Option<(f64, f64, f64, f64)>,
    tol: f64,
) -> Vec<(usize, usize)> {
    let near = |p: &[u8; 3]| {
        (0..3)
            .map(|k| (p[k] as i32 - c[k] as i32).abs())
            .sum::<i32>()
            < 40
    };
    let within =
        |(x, y): (f64, f64), b: (f64, f64, f64, f64)| x >= b.0 && x <= b.2 && y >= b.1 && y <= b.3;
    let mut out = Vec::new();
    for (k, p) in img.px.iter().enumerate() {
        if !near(p) {
            continue;
        }
        let q = ((k % img.w) as f64 + 0.5, (k / img.w) as f64 + 0.5);
        if skip.is_some_and(|b| within(q, b)) {
            continue;
        }
        let inside = within(q, (area.0 - 1.0, area.1 - 1.0, area.2 + 1.0, area.3 + 1.0));
        let d = if path.len() == 1 {
            dist(q, path[0], path[0])
        } else {
            path.windows(2)
                .map(|s| dist(q, s[0], s[1]))
                .fold(f64::INFINITY, f64::min)
        };
        if !inside || d > tol {
            out.push((k % img.w, k / img.w));
        }
    }
    out
}

/// How far a path's pixels may be from its segments: half the line, the
/// markers' radius and edge, and antialiasing.
const TOL: f64 = 5.0;

/// Checks one figure in both formats; returns the SVG.
fn check_figure(svg_file: &Path, png_file: &Path) -> String {
    let svg = fs::read_to_string(svg_file).expect("the SVG");
    let name = svg_file.display().to_string();
    assert!(
        svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
        "{name}"
    );
    let t = texts(&svg);
    assert!(t.len() > 8, "{name}: too little text: {t:?}");
    assert!(
        !t.iter().any(|s| s.contains("()")),
        "{name}: empty parentheses in {t:?}"
    );
    let head = svg.lines().next().expect("a first line");
    let (w, h) = (
        attr(head, "width")
            .and_then(|v| v.parse::<usize>().ok())
            .expect("width"),
        attr(head, "height")
            .and_then(|v| v.parse::<usize>().ok())
            .expect("height"),
    );
    let img = image(png_file);
    assert_eq!((img.w, img.h), (w, h), "{name}: the PNG has the SVG's size");
    // Not blank, with text and frame, and antialiased (many grey levels).
    let dark = img.px.iter().filter(|p| p.iter().all(|&v| v < 60)).count();
    assert!(dark > 1500, "{name}: only {dark} dark pixels");
    let shades: std::collections::HashSet<u8> = img.px.iter().map(|p| p[1]).collect();
    assert!(shades.len() > 100, "{name}: {} shades", shades.len());
    let area = plot_area(&svg);
    let legend = legend_box(&svg);
    if let Some(b) = legend {
        // The legend: a light box with dark text in it.
        let inside = img.px.iter().enumerate().filter(|(k, p)| {
            let (x, y) = ((k % img.w) as f64, (k / img.w) as f64);
            x > b.0 + 3.0
                && x < b.2 - 3.0
                && y > b.1 + 3.0
                && y < b.3 - 3.0
                && p.iter().all(|&v| v < 60)
        });
        assert!(inside.count() > 50, "{name}: no legend text in the PNG");
    }
    // Off-scale marks (▼ on a log axis' edge) are drawn in a line's colour.
    let marks: Vec<(f64, f64)> = elements(&svg, "path", "marker")
        .iter()
        .flat_map(|e| numbers(attr(e, "d").unwrap_or("")))
        .collect::<Vec<f64>>()
        .chunks(2)
        .map(|c| (c[0], c[1]))
        .collect();
    // A line broken into runs (a gap, a point off a log axis) is several
    // polylines of one colour: check each colour against all its segments.
    type Runs = Vec<Vec<(f64, f64)>>;
    let mut by_colour: Vec<([u8; 3], Runs)> = Vec::new();
    for e in elements(&svg, "polyline", "path") {
        let colour = hex(attr(e, "stroke").expect("a stroke"));
        match by_colour.iter_mut().find(|(c, _)| *c == colour) {
            Some((_, runs)) => runs.push(points(e)),
            None => by_colour.push((colour, vec![points(e)])),
        }
    }
    for (colour, runs) in &by_colour {
        let mut s = Vec::new();
        for (k, run) in runs.iter().enumerate() {
            let here = stray(&img, *colour, run, area, legend, TOL);
            s = if k == 0 {
                here
            } else {
                s.into_iter().filter(|p| here.contains(p)).collect()
            };
        }
        s.retain(|&(x, y)| {
            let q = (x as f64 + 0.5, y as f64 + 0.5);
            !marks.iter().any(|m| dist(q, *m, *m) < 9.0)
        });
        assert!(
            s.is_empty(),
            "{name}: {} pixels of a path's colour away from its segments, e.g. {:?}",
            s.len(),
            &s[..s.len().min(5)]
        );
    }
    svg
}

fn is_contour(svg: &str) -> bool {
    !elements(svg, "path", "band").is_empty()
}

fn check_contour(svg: &str, name: &str, paths: usize) {
    let bands = elements(svg, "path", "band");
    assert!(bands.len() >= 4, "{name}: {} bands", bands.len());
    assert!(
        bands.iter().any(|b| numbers(attr(b, "d").unwrap_or(""))
            .iter()
            .any(|v| v.fract() != 0.0)),
        "{name}: band coordinates are whole pixels"
    );
    assert_eq!(svg.matches("<rect").count(), 2, "{name}: pixel rectangles");
    assert!(
        elements(svg, "polyline", "level").len() > 3,
        "{name}: no level lines"
    );
    assert_eq!(
        elements(svg, "polyline", "path").len(),
        paths,
        "{name}: paths"
    );
}

// ---------------------------------------------------------------------------

/// Copies `example` into `dir` twice, drawing into `figures/*.svg` and
/// `figures/*.png`, runs both and returns the figure names (without extension).
fn draw_both(example: &str, dir: &Path) -> Vec<String> {
    let src = fs::read_to_string(repo().join("examples").join(example)).expect("the example");
    fs::create_dir_all(dir.join("figures")).unwrap();
    for d in ["data"] {
        let from = repo().join("examples").join(d);
        if from.is_dir() {
            fs::create_dir_all(dir.join(d)).unwrap();
            for e in fs::read_dir(&from).unwrap() {
                let e = e.unwrap();
                fs::copy(e.path(), dir.join(d).join(e.file_name())).unwrap();
            }
        }
    }
    let svg = dir.join("svg.loss");
    let png = dir.join("png.loss");
    fs::write(&svg, &src).unwrap();
    fs::write(&png, src.replace(".svg\"", ".png\"")).unwrap();
    run(&svg, &[]);
    run(&png, &[]);
    let mut names: Vec<String> = fs::read_dir(dir.join("figures"))
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.strip_suffix(".svg").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn every_example_plot_in_both_formats() {
    let mut examples: Vec<String> = fs::read_dir(repo().join("examples"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".loss"))
        .filter(|n| {
            fs::read_to_string(repo().join("examples").join(n))
                .unwrap()
                .lines()
                .any(|l| l.trim_start().starts_with("plot "))
        })
        .collect();
    examples.sort();
    assert!(examples.iter().any(|e| e == "plots.loss"), "{examples:?}");
    let mut seen = 0;
    for ex in &examples {
        let d = tempfile::tempdir().unwrap();
        for f in draw_both(ex, d.path()) {
            let figs = d.path().join("figures");
            let svg = check_figure(
                &figs.join(format!("{f}.svg")),
                &figs.join(format!("{f}.png")),
            );
            let name = format!("{ex}: {f}");
            // The docs' copies are these figures (compared where they were
            // made: another libm may move a pixel).
            let doc = repo().join("docs/figures").join(format!("{f}.svg"));
            if cfg!(all(target_os = "linux", target_arch = "x86_64")) && doc.exists() {
                assert!(
                    fs::read_to_string(&doc).unwrap() == svg,
                    "docs/figures/{f}.svg is out of date: run {ex} and copy it"
                );
            }
            if is_contour(&svg) {
                let paths = elements(&svg, "polyline", "path").len();
                check_contour(&svg, &name, paths);
                let t = texts(&svg);
                if paths > 0 {
                    for w in ["start", "end"] {
                        assert!(t.iter().any(|s| s == w), "{name}: no {w:?} in {t:?}");
                    }
                }
            } else {
                assert!(
                    !elements(&svg, "polyline", "path").is_empty(),
                    "{name}: no line"
                );
            }
            seen += 1;
        }
    }
    assert!(seen >= 10, "only {seen} figures");
}

/// The traced points of the run recorded in `--json --trace` output, as
/// `(x, y)`.
fn traced(json: &str, k: usize) -> Vec<(f64, f64)> {
    let v: Value = serde_json::from_str(json.trim()).expect("JSON");
    let runs: Vec<&Value> = v["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["kind"] == "minimize")
        .collect();
    runs[k]["path"]
        .as_array()
        .expect("a path")
        .iter()
        .map(|p| {
            (
                p["params"]["x"].as_f64().expect("x"),
                p["params"]["y"].as_f64().expect("y"),
            )
        })
        .collect()
}

#[test]
fn the_issues_paths_have_no_false_segments() {
    let d = tempfile::tempdir().unwrap();
    let script = "\
param x = -1;
param y = 2;
fn beale(x, y) = (1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2;
fn himmelblau(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2;
minimize beale(x, y) with adam(lr=0.3) for 1000 steps;
plot contour beale(x, y) over x in [-6, 6], y in [-2, 4] with path to \"b.svg\";
plot contour beale(x, y) over x in [-6, 6], y in [-2, 4] with path to \"b.png\";
minimize himmelblau(x, y) from x = 0, y = 0 with migrad(grad=\"numeric\");
plot contour himmelblau(x, y) over x in [-6, 6], y in [-6, 6] with path to \"m0.svg\";
plot contour himmelblau(x, y) over x in [-6, 6], y in [-6, 6] with path to \"m0.png\";
minimize himmelblau(x, y) from x = -2, y = 0 with migrad(grad=\"numeric\");
plot contour himmelblau(x, y) over x in [-6, 6], y in [-6, 6] with path to \"m2.svg\";
plot contour himmelblau(x, y) over x in [-6, 6], y in [-6, 6] with path to \"m2.png\";
";
    let file = d.path().join("s.loss");
    fs::write(&file, script).unwrap();
    let json = run(&file, &["--json", "--trace"]);
    for (k, (f, ranges)) in [
        ("b", (-6.0, 6.0, -2.0, 4.0)),
        ("m0", (-6.0, 6.0, -6.0, 6.0)),
        ("m2", (-6.0, 6.0, -6.0, 6.0)),
    ]
    .into_iter()
    .enumerate()
    {
        let svg = check_figure(
            &d.path().join(format!("{f}.svg")),
            &d.path().join(format!("{f}.png")),
        );
        check_contour(&svg, f, 1);
        let (l, t, r, b) = plot_area(&svg);
        let (x0, x1, y0, y1) = ranges;
        let want: Vec<(f64, f64)> = traced(&json, k)
            .into_iter()
            .map(|(x, y)| {
                (
                    l + (x - x0) / (x1 - x0) * (r - l),
                    b - (y - y0) / (y1 - y0) * (b - t),
                )
            })
            .collect();
        // One polyline, one vertex per traced point, where the trace puts it.
        let line = elements(&svg, "polyline", "path")[0];
        let got = points(line);
        assert_eq!(got.len(), want.len(), "{f}: vertices");
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g.0 - w.0).abs() < 0.01 && (g.1 - w.1).abs() < 0.01,
                "{f}: {g:?} vs {w:?}"
            );
        }
        // The PNG's blue lies along the traced segments, inside the axes.
        let img = image(&d.path().join(format!("{f}.png")));
        let s = stray(
            &img,
            [0, 0, 255],
            &want,
            (l, t, r, b),
            legend_box(&svg),
            TOL,
        );
        assert!(
            s.is_empty(),
            "{f}: {} stray blue pixels, e.g. {:?}",
            s.len(),
            &s[..s.len().min(5)]
        );
    }
}

// ---------------------------------------------------------------------------
// `with paths`, and paths of runs with tensor parameters.

/// Runs `script` in a fresh directory; returns it, the exit code and stderr.
fn run_script(script: &str) -> (tempfile::TempDir, Option<i32>, String, String) {
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("s.loss");
    fs::write(&file, script).unwrap();
    let out = Command::new(BIN)
        .arg("run")
        .arg(&file)
        .current_dir(d.path())
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "{err}");
    let o = String::from_utf8_lossy(&out.stdout).into_owned();
    (d, out.status.code(), o, err)
}

const HIMMELBLAU: &str = "param x = -2;\nparam y = 0;\n\
fn h(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2;\n";

#[test]
fn with_paths_draws_every_minimization_of_the_objective() {
    let script = format!(
        "{HIMMELBLAU}\
minimize h(x, y) from x = -2, y = 0;
minimize h(x, y) from x = -2, y = 0 with adam(lr=0.1) for 200 steps;
minimize x^2 + y^2 with sgd(lr=0.1) for 10 steps;
minimize h(x,y) from x = -2, y = 0 with sgd(lr=0.005, momentum=0.9) for 100 steps;
minimize h(x, y) from x = 0, y = 0 with adam(lr=0.1) for 50 steps;
plot contour h(x, y) over x in [-6, 6], y in [-6, 6] with paths to \"a.svg\";
plot contour h(x, y) over x in [-6, 6], y in [-6, 6] with paths to \"a.png\";
"
    );
    let (d, code, _, err) = run_script(&script);
    // The second plot has nothing left to draw: the first took every run.
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("error[E0403]") && err.contains("no minimization of `h(x, y)`"),
        "{err}"
    );
    assert!(err.contains("s.loss:10:"), "{err}");
    assert!(!d.path().join("a.png").exists());
    let svg = fs::read_to_string(d.path().join("a.svg")).unwrap();
    check_contour(&svg, "with paths", 4);
    let t = texts(&svg);
    for want in [
        "MIGRAD",
        "Adam lr=0.1 from (-2, 0)",
        "Adam lr=0.1 from (0, 0)",
        "SGD lr=0.005, momentum=0.9",
        "start",
        "end",
    ] {
        assert!(t.iter().any(|s| s == want), "no {want:?} in {t:?}");
    }
    assert!(t[0] == "h(x, y): 4 minimizations", "{t:?}");
    // Each path in its own colour, with one vertex per recorded point.
    let lines = elements(&svg, "polyline", "path");
    let colours: std::collections::HashSet<&str> =
        lines.iter().filter_map(|e| attr(e, "stroke")).collect();
    assert_eq!(colours.len(), 4);
    let counts: Vec<usize> = lines.iter().map(|e| points(e).len()).collect();
    assert_eq!(&counts[1..], [201, 101, 51]);
}

#[test]
fn with_paths_png_keeps_every_path_near_its_points() {
    let script = format!(
        "{HIMMELBLAU}\
minimize h(x, y) from x = -2, y = 0;
minimize h(x, y) from x = -2, y = 0 with rmsprop(lr=0.01) for 300 steps;
plot contour h(x, y) over x in [-6, 6], y in [-6, 6] with paths to \"a.svg\";
minimize h(x, y) from x = -2, y = 0;
minimize h(x, y) from x = -2, y = 0 with rmsprop(lr=0.01) for 300 steps;
plot contour h(x, y) over x in [-6, 6], y in [-6, 6] with paths to \"a.png\";
"
    );
    let (d, code, _, err) = run_script(&script);
    assert_eq!(code, Some(0), "{err}");
    let svg = check_figure(&d.path().join("a.svg"), &d.path().join("a.png"));
    check_contour(&svg, "with paths", 2);
}

#[test]
fn with_paths_needs_a_minimization_of_that_objective() {
    let script = format!(
        "{HIMMELBLAU}\
minimize x^2 + y^2 with sgd(lr=0.1) for 10 steps;
plot contour h(x, y) over x in [-6, 6], y in [-6, 6] with paths to \"a.svg\";
"
    );
    let (d, code, _, err) = run_script(&script);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("error[E0403]: no minimization of `h(x, y)` to draw"),
        "{err}"
    );
    assert!(err.contains("s.loss:5:1"), "{err}");
    assert!(
        err.contains("help: `with paths` draws each `minimize`"),
        "{err}"
    );
    assert!(!d.path().join("a.svg").exists());
}

/// Issue 20, finding 1: a step-based run with a tensor parameter recorded
/// one name per parameter but one value per element, so the plot indexed
/// past the end (a panic) or, with more steps, drew a misaligned path.
#[test]
fn a_path_with_a_tensor_parameter_names_each_element() {
    for steps in [1, 2, 5] {
        let script = format!(
            "param x = 1; param w[2] = [1, 1]; param y = 0.5;\n\
minimize x^2 + sum(w^2) + y^2 with adam(lr=0.1) for {steps} steps;\n\
plot contour x^2 + y^2 over x in [-1, 1], y in [-1, 1] with path to \"a.svg\";\n"
        );
        let (d, code, _, err) = run_script(&script);
        assert_eq!(code, Some(0), "{steps} steps: {err}");
        let svg = fs::read_to_string(d.path().join("a.svg")).unwrap();
        let (l, t, r, b) = plot_area(&svg);
        let pts = points(elements(&svg, "polyline", "path")[0]);
        assert_eq!(pts.len(), steps + 1);
        // Step 0 is (1, 0.5): the right edge, a quarter below the top;
        // Adam moves x and y by lr each step at first, along the diagonal.
        assert!((pts[0].0 - r).abs() < 0.01 && (pts[0].1 - (t + (b - t) / 4.0)).abs() < 0.01);
        let unit = (r - l) / 2.0;
        assert!((pts[1].0 - (r - 0.1 * unit)).abs() < 0.05, "{pts:?}");
        assert!(
            (pts[1].1 - (t + (b - t) / 4.0 + 0.1 * unit)).abs() < 0.05,
            "{pts:?}"
        );
    }
}

#[test]
fn a_tensor_parameter_is_no_contour_axis_of_a_path() {
    let script = "param w[2] = [1, 1]; param y = 1;\n\
minimize sum(w^2) + y^2 with adam(lr=0.1) for 3 steps;\n\
plot contour y^2 over w in [-1, 1], y in [-1, 1] with path to \"a.svg\";\n";
    let (_, code, _, err) = run_script(script);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("error[E0402]") && err.contains("s.loss:3:"),
        "{err}"
    );
}

#[test]
fn loss_and_curve_plots_are_titled_and_labelled() {
    let script = format!(
        "{HIMMELBLAU}\
minimize h(x, y);
plot loss to \"m.svg\";
plot relu(t), grad(relu(t), t) over t in [-2, 2] to \"r.svg\";
plot sin(t) over t in [-pi, pi] to \"s.svg\";
"
    );
    let (d, code, _, err) = run_script(&script);
    assert_eq!(code, Some(0), "{err}");
    let read = |f: &str| fs::read_to_string(d.path().join(f)).unwrap();
    // MIGRAD's points are evaluations, not steps.
    let m = texts(&read("m.svg"));
    assert_eq!(m[0], "loss per evaluation: MIGRAD");
    assert!(
        m.iter().any(|t| t == "evaluation") && !m.iter().any(|t| t == "step"),
        "{m:?}"
    );
    let r = read("r.svg");
    let t = texts(&r);
    assert_eq!(t[0], "relu(t), grad(relu(t), t) over t");
    for w in ["t", "value", "relu(t)", "grad(relu(t), t)"] {
        assert!(t.iter().any(|s| s == w), "no {w:?} in {t:?}");
    }
    // ReLU's derivative is sampled at t = 0 exactly: one vertical jump from
    // (0, 0) to the next sample at 1, no jog half way.
    let lines = elements(&r, "polyline", "path");
    let step = points(lines[1]);
    let jump: Vec<&[(f64, f64)]> = step
        .windows(2)
        .filter(|w| (w[0].1 - w[1].1).abs() > 1.0)
        .collect();
    assert_eq!(jump.len(), 1, "{jump:?}");
    assert!((jump[0][1].0 - jump[0][0].0) < 1.0, "{jump:?}");
    // Margins: no curve touches the frame.
    let (l, top, rr, b) = plot_area(&r);
    for e in &lines {
        for p in points(e) {
            assert!(
                p.0 > l + 5.0 && p.0 < rr - 5.0 && p.1 > top + 5.0 && p.1 < b - 5.0,
                "{p:?}"
            );
        }
    }
    let s = texts(&read("s.svg"));
    assert_eq!(s[0], "sin(t) over t");
    assert!(s.iter().any(|w| w == "sin(t)"), "the y label: {s:?}");
}
