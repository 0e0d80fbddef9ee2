//! The `plot` statements of SPEC section 7, run through the real binary on
//! scripts in temporary directories: every plot kind writes a valid SVG and
//! PNG; `with path` draws the minimizer's points with start and end marked
//! (every evaluation for Minuit); a structural golden test of a small
//! contour (title naming the optimizer and its options, axis labels, legend,
//! the path's pixels in order); paths are relative to the script; failed
//! plots (missing directory, a directory in the way, unknown extension, no
//! minimization before) exit 1 with a diagnostic on the right line and leave
//! no file or temporary file behind; `--json` records each plot as
//! `{"kind": "plot", "line", "plot", "file"}`; and the chapter's figures of
//! `examples/plots.loss`.

mod common;

use common::assert_contains;
use common::figures::attr;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_losslang");

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Writes `script` to `dir/NAME` and runs `losslang run [flags] dir/NAME`
/// from `cwd` (the script's directory when `None`).
fn run_in(dir: &Path, name: &str, script: &str, flags: &[&str], cwd: Option<&Path>) -> Run {
    let file = dir.join(name);
    fs::write(&file, script).unwrap();
    let out = Command::new(BIN)
        .arg("run")
        .args(flags)
        .arg(&file)
        .current_dir(cwd.unwrap_or(dir))
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    let r = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !r.stderr.contains("panicked"),
        "the binary panicked:\n{}",
        r.stderr
    );
    r
}

fn run(dir: &Path, script: &str) -> Run {
    run_in(dir, "s.loss", script, &[], None)
}

fn run_json(dir: &Path, script: &str) -> (Run, Value) {
    let r = run_in(dir, "s.loss", script, &["--json"], None);
    let v: Value = serde_json::from_str(r.stdout.trim())
        .unwrap_or_else(|e| panic!("--json output is not JSON ({e}):\n{}", r.stdout));
    (r, v)
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Every file name in `dir`, sorted, hidden ones included.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn assert_ok(r: &Run, what: &str) {
    assert_eq!(
        r.code,
        Some(0),
        "{what}: exit status\nstdout:\n{}\nstderr:\n{}",
        r.stdout,
        r.stderr
    );
}

/// The trimmed contents of every `<text>` element, in document order.
fn svg_texts(svg: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        rest = &rest[i..];
        let Some(gt) = rest.find('>') else { break };
        let Some(end) = rest.find("</text>") else {
            break;
        };
        out.push(unescape(rest[gt + 1..end].trim()));
        rest = &rest[end + 7..];
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Every element `<tag ...>` as its opening-tag text.
fn elements<'a>(svg: &'a str, tag: &str) -> Vec<&'a str> {
    let open = format!("<{tag} ");
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find(&open) {
        rest = &rest[i..];
        let end = rest.find('>').map_or(rest.len(), |j| j + 1);
        out.push(&rest[..end]);
        rest = &rest[end..];
    }
    out
}

/// The points of the minimizers' paths: the polylines of class "path".
fn path_points(svg: &str) -> Vec<(f64, f64)> {
    elements(svg, "polyline")
        .into_iter()
        .filter(|e| attr(e, "class") == Some("path"))
        .flat_map(|e| {
            attr(e, "points")
                .unwrap_or("")
                .split_whitespace()
                .map(|p| {
                    let (x, y) = p.split_once(',').expect("x,y");
                    (x.parse().unwrap(), y.parse().unwrap())
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// A well-formed SVG document with drawn lines and text.
fn check_svg(file: &Path) -> String {
    let svg =
        fs::read_to_string(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    assert!(
        svg.trim_start().starts_with("<svg"),
        "{}: not an SVG",
        file.display()
    );
    assert!(
        svg.trim_end().ends_with("</svg>"),
        "{}: unterminated SVG",
        file.display()
    );
    assert!(
        svg.contains("<polyline") || svg.contains("<path"),
        "{}: no lines",
        file.display()
    );
    assert!(!svg_texts(&svg).is_empty(), "{}: no text", file.display());
    assert!(svg.len() > 1000, "{}: suspiciously small", file.display());
    svg
}

/// A PNG: the signature, an IHDR chunk with the size, an IEND at the end.
fn check_png(file: &Path) -> (u32, u32) {
    let b = fs::read(file).unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    assert!(
        b.starts_with(b"\x89PNG\r\n\x1a\n"),
        "{}: no PNG signature",
        file.display()
    );
    assert_eq!(&b[12..16], b"IHDR", "{}: no IHDR", file.display());
    assert!(b.ends_with(&[0x49, 0x45, 0x4E, 0x44, 0xAE, 0x42, 0x60, 0x82]));
    assert!(b.len() > 5000, "{}: only {} bytes", file.display(), b.len());
    let w = u32::from_be_bytes(b[16..20].try_into().unwrap());
    let h = u32::from_be_bytes(b[20..24].try_into().unwrap());
    assert!(w >= 300 && h >= 300, "{}: {w} x {h}", file.display());
    (w, h)
}

const HEAD: &str = "param x = 1;\nparam y = 2;\nfn f(x, y) = (x - 1)^2 + 10 * (y - x^2)^2;\n";

// ---------------------------------------------------------------------------
// Every kind, both formats.

#[test]
fn every_plot_kind_writes_svg_and_png() {
    let d = tmp();
    let script = format!(
        "{HEAD}\
plot contour f(x, y) over x in [-2, 2], y in [-1, 3] to \"c.svg\";
plot contour f(x, y) over x in [-2, 2], y in [-1, 3] to \"c.png\";
minimize f(x, y) from x = -1, y = 1 with adam(lr=0.05) for 200 steps;
plot contour f(x, y) over x in [-2, 2], y in [-1, 3] with path to \"p.svg\";
plot contour f(x, y) over x in [-2, 2], y in [-1, 3] with path to \"p.png\";
plot loss to \"l.svg\";
plot loss to \"l.png\";
plot sin(t), grad(sin(t), t) over t in [-pi, pi] to \"s.svg\";
plot sin(t), grad(sin(t), t) over t in [-pi, pi] to \"s.png\";
plot relu(t) over t in [-2, 2] to \"r.PNG\";
"
    );
    let r = run(d.path(), &script);
    assert_ok(&r, "plots");
    for f in ["c", "p", "l", "s"] {
        check_svg(&d.path().join(format!("{f}.svg")));
        check_png(&d.path().join(format!("{f}.png")));
        assert!(
            r.stdout.contains(&format!("plot written to {f}.svg"))
                && r.stdout.contains(&format!("plot written to {f}.png")),
            "stdout names the files:\n{}",
            r.stdout
        );
    }
    check_png(&d.path().join("r.PNG"));
    // The contour without a path has no legend; the one with it has.
    let plain = fs::read_to_string(d.path().join("c.svg")).unwrap();
    let texts = svg_texts(&plain);
    assert!(
        !texts.iter().any(|t| t == "start" || t == "end"),
        "{texts:?}"
    );
    // Curves are named by their source text.
    let curves = svg_texts(&fs::read_to_string(d.path().join("s.svg")).unwrap());
    for name in ["sin(t)", "grad(sin(t), t)", "t"] {
        assert!(
            curves.iter().any(|t| t == name),
            "no {name:?} in {curves:?}"
        );
    }
    // The loss plot's title names the run.
    let loss = svg_texts(&fs::read_to_string(d.path().join("l.svg")).unwrap());
    assert!(
        loss.iter().any(|t| t == "loss per step: Adam lr=0.05"),
        "{loss:?}"
    );
    // Nothing but the requested files (no temporary files).
    let mut want: Vec<String> = ["c", "p", "l", "s"]
        .iter()
        .flat_map(|f| [format!("{f}.svg"), format!("{f}.png")])
        .collect();
    want.extend(["r.PNG".to_string(), "s.loss".to_string()]);
    want.sort();
    assert_eq!(listing(d.path()), want);
}

#[test]
fn with_path_draws_every_step_with_start_and_end() {
    let d = tmp();
    let script = format!(
        "{HEAD}\
minimize f(x, y) from x = -1.5, y = 2.5 with adam(lr=0.02) for 100 steps;
plot contour f(x, y) over x in [-2, 2], y in [-1, 3] with path to \"p.svg\";
"
    );
    let r = run(d.path(), &script);
    assert_ok(&r, "with path");
    let svg = check_svg(&d.path().join("p.svg"));
    let texts = svg_texts(&svg);
    for w in ["start", "end"] {
        assert!(texts.iter().any(|t| t == w), "no {w:?} legend in {texts:?}");
    }
    assert!(
        texts.iter().any(|t| t.contains("101")),
        "the legend counts 101 points: {texts:?}"
    );
    // The blue line goes through many points; white-ringed markers on them.
    let pts = path_points(&svg);
    assert!(pts.len() >= 30, "only {} path points", pts.len());
    let markers = elements(&svg, "circle")
        .into_iter()
        .filter(|c| attr(c, "fill").is_some_and(|f| f.eq_ignore_ascii_case("#FFFFFF")))
        .count();
    assert!(markers >= 30, "only {markers} markers");
    // The first point is the start: x = -1.5 is left of x = 0.
    let first = pts[0];
    let last = pts[pts.len() - 1];
    assert!(
        first.0 < last.0,
        "start {first:?} should be left of end {last:?}"
    );
}

#[test]
fn minuit_path_has_every_evaluation() {
    let d = tmp();
    let script = "param x = 0;\nparam y = 0;\n\
fn h(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2;\n\
minimize h(x, y) with migrad(grad=\"numeric\");\n\
plot contour h(x, y) over x in [-6, 6], y in [-6, 6] with path to \"m.svg\";\n";
    let (r, v) = run_json(d.path(), script);
    assert_ok(&r, "migrad");
    let nfcn = v["results"][0]["nfcn"].as_u64().expect("nfcn");
    assert!(nfcn > 20, "nfcn = {nfcn}");
    let svg = check_svg(&d.path().join("m.svg"));
    let texts = svg_texts(&svg);
    assert!(
        texts
            .iter()
            .any(|t| t.contains(&format!("({nfcn} points)"))),
        "the path has nfcn = {nfcn} points: {texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("MIGRAD") && t.contains("grad=\"numeric\"")),
        "the title names migrad and its option: {texts:?}"
    );
}

// ---------------------------------------------------------------------------
// Structural golden test: a 2-parameter contour with a 3-step SGD path.

#[test]
fn golden_small_contour_with_sgd_path() {
    let d = tmp();
    let script = "param x = 1;\nparam y = 2;\n\
minimize x^2 + y^2 with sgd(lr=0.1) for 3 steps;\n\
plot contour x^2 + y^2 over x in [-2, 2], y in [-3, 3] with path to \"g.svg\";\n";
    let r = run(d.path(), script);
    assert_ok(&r, "golden");
    let svg = check_svg(&d.path().join("g.svg"));
    let svg_tag = elements(&svg, "svg")[0];
    let size = |k| attr(svg_tag, k).and_then(|v| v.parse::<f64>().ok());
    let (w, h) = (
        size("width").expect("width"),
        size("height").expect("height"),
    );
    assert!(
        (600.0..900.0).contains(&w) && (500.0..700.0).contains(&h),
        "{w} x {h}"
    );

    let texts = svg_texts(&svg);
    // The title: the objective, the optimizer and the options given.
    let title = &texts[0];
    assert!(title.contains("x^2 + y^2"), "title {title:?}");
    assert!(title.contains("SGD"), "title {title:?}");
    assert!(title.contains("lr=0.1"), "title {title:?}");
    // Axis labels and the legend.
    for w in ["x", "y", "start", "end", "path (4 points)"] {
        assert!(texts.iter().any(|t| t == w), "no {w:?} in {texts:?}");
    }
    // Tick labels span the ranges (with a true minus sign).
    let nums: Vec<f64> = texts
        .iter()
        .filter_map(|t| t.replace('\u{2212}', "-").parse().ok())
        .collect();
    for want in [-3.0, -2.0, 2.0, 3.0] {
        assert!(
            nums.iter().any(|&n| (n - want).abs() < 1e-9),
            "no tick {want} in {texts:?}"
        );
    }

    // The path: (1, 2) -> (0.8, 1.6) -> (0.64, 1.28) -> (0.512, 1.024),
    // four points moving left and down (pixel y grows downwards), each step
    // shorter than the one before.
    let pts = path_points(&svg);
    assert_eq!(pts.len(), 4, "{pts:?}");
    for w in pts.windows(2) {
        assert!(w[1].0 < w[0].0 && w[1].1 > w[0].1, "{pts:?}");
    }
    let len = |a: (f64, f64), b: (f64, f64)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    assert!(len(pts[0], pts[1]) > len(pts[1], pts[2]));
    assert!(len(pts[1], pts[2]) > len(pts[2], pts[3]));
    // Step 0 and the result are where they belong: x = 1 is three quarters
    // across [-2, 2], y = 2 is one sixth down [-3, 3] of the plotting area.
    let clip = elements(&svg, "rect")
        .into_iter()
        .find(|r| attr(r, "width").is_some() && !r.contains("class="))
        .expect("the plotting area's clip rectangle");
    let n = |k| attr(clip, k).and_then(|v| v.parse::<f64>().ok()).expect(k);
    let (l, t, aw, ah) = (n("x"), n("y"), n("width"), n("height"));
    assert!((pts[0].0 - (l + 0.75 * aw)).abs() < 0.01, "{pts:?}");
    assert!((pts[0].1 - (t + ah / 6.0)).abs() < 0.01, "{pts:?}");
    // Start and end rings (open, in green and red) sit on the first and
    // last points, drawn over them without hiding them.
    let circles = elements(&svg, "circle");
    let ring = |colour: &str| -> (f64, f64) {
        let c = circles
            .iter()
            .find(|c| {
                attr(c, "stroke").is_some_and(|f| f.eq_ignore_ascii_case(colour))
                    && attr(c, "fill") == Some("none")
            })
            .unwrap_or_else(|| panic!("no {colour} ring"));
        (
            attr(c, "cx").unwrap().parse().unwrap(),
            attr(c, "cy").unwrap().parse().unwrap(),
        )
    };
    assert_eq!(
        ring("#009600"),
        pts[0],
        "the start ring sits on the first point"
    );
    assert_eq!(
        ring("#d70000"),
        pts[3],
        "the end ring sits on the last point"
    );
    // White markers edged in blue with a blue dot, one per point.
    let on_map = |c: &&&str| c.contains("clip-path");
    let white = circles
        .iter()
        .filter(on_map)
        .filter(|c| {
            attr(c, "fill").is_some_and(|f| f.eq_ignore_ascii_case("#ffffff"))
                && attr(c, "stroke") == Some("#0000ff")
        })
        .count();
    let dots = circles
        .iter()
        .filter(on_map)
        .filter(|c| attr(c, "fill") == Some("#0000ff"))
        .count();
    assert_eq!((white, dots), (4, 4));
}

// ---------------------------------------------------------------------------
// Files: relative to the script, atomic.

#[test]
fn relative_paths_are_relative_to_the_script() {
    let d = tmp();
    let elsewhere = tmp();
    fs::create_dir(d.path().join("out")).unwrap();
    let script = "plot sin(t) over t in [0, 1] to \"out/a.svg\";\n";
    let r = run_in(d.path(), "s.loss", script, &[], Some(elsewhere.path()));
    assert_ok(&r, "relative path");
    check_svg(&d.path().join("out").join("a.svg"));
    assert!(listing(elsewhere.path()).is_empty());
}

#[test]
fn overwrites_an_existing_figure() {
    let d = tmp();
    fs::write(d.path().join("a.svg"), "old").unwrap();
    let r = run(d.path(), "plot sin(t) over t in [0, 1] to \"a.svg\";\n");
    assert_ok(&r, "overwrite");
    check_svg(&d.path().join("a.svg"));
    assert_eq!(listing(d.path()), ["a.svg", "s.loss"]);
}

/// stderr's location `FILE:LINE:COL` is on `line`.
fn assert_diag(r: &Run, code: &str, line: usize) {
    assert_eq!(r.code, Some(1), "exit status\nstderr:\n{}", r.stderr);
    assert_contains(&r.stderr, &format!("error[{code}]"));
    assert_contains(&r.stderr, &format!("s.loss:{line}:"));
    assert!(!r.stderr.contains("panicked"));
}

#[test]
fn missing_directory_fails_and_leaves_nothing() {
    let d = tmp();
    let script = format!(
        "{HEAD}\
print 1;
plot contour f(x, y) over x in [-2, 2], y in [-1, 3] to \"nowhere/c.svg\";
print 2;
"
    );
    let r = run(d.path(), &script);
    assert_diag(&r, "E0406", 5);
    let lower = r.stderr.to_lowercase();
    assert!(lower.contains("nowhere/c.svg"), "{}", r.stderr);
    assert!(
        r.stdout.contains('1') && !r.stdout.contains('2'),
        "{}",
        r.stdout
    );
    assert_eq!(listing(d.path()), ["s.loss"]);

    // --json: the error's line, and the results before it.
    let (r, v) = run_json(d.path(), &script);
    assert_eq!(r.code, Some(1));
    assert_eq!(v["ok"], Value::Bool(false));
    assert_eq!(v["error"]["line"], 5);
    assert_eq!(v["results"].as_array().unwrap().len(), 1);
    assert_eq!(listing(d.path()), ["s.loss"]);
}

#[test]
fn directory_in_the_way_fails_and_removes_the_temporary_file() {
    // The temporary file is written, then renaming it onto a directory
    // fails: it must be removed again.
    let d = tmp();
    fs::create_dir(d.path().join("taken.svg")).unwrap();
    let r = run(
        d.path(),
        "param x = 1;\nminimize x^2 with sgd(lr=0.1) for 2 steps;\nplot loss to \"taken.svg\";\n",
    );
    assert_diag(&r, "E0406", 3);
    assert_eq!(listing(d.path()), ["s.loss", "taken.svg"]);
    assert!(listing(&d.path().join("taken.svg")).is_empty());
}

#[cfg(unix)]
#[test]
fn read_only_directory_fails_and_leaves_nothing() {
    use std::os::unix::fs::PermissionsExt;
    let d = tmp();
    let ro = d.path().join("ro");
    fs::create_dir(&ro).unwrap();
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o555)).unwrap();
    // root may write anyway: then there is nothing to test.
    if fs::write(ro.join("probe"), "x").is_ok() {
        fs::remove_file(ro.join("probe")).unwrap();
        fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
        return;
    }
    let r = run(
        d.path(),
        "\nplot sin(t) over t in [0, 1] to \"ro/a.png\";\n",
    );
    fs::set_permissions(&ro, fs::Permissions::from_mode(0o755)).unwrap();
    assert_diag(&r, "E0406", 2);
    assert!(listing(&ro).is_empty());
}

#[test]
fn unknown_extension_is_a_diagnostic() {
    let d = tmp();
    for (file, line) in [("a.jpg", 3), ("noext", 3), ("a.svg.bak", 3)] {
        let script = format!(
            "param x = 1;\nminimize x^2 with sgd(lr=0.1) for 2 steps;\nplot loss to \"{file}\";\n"
        );
        let r = run(d.path(), &script);
        assert_diag(&r, "E0406", line);
        let lower = r.stderr.to_lowercase();
        assert!(
            lower.contains(".svg") && lower.contains(".png"),
            "{}",
            r.stderr
        );
        assert_eq!(listing(d.path()), ["s.loss"]);
    }
}

#[test]
fn plot_loss_needs_a_minimization() {
    let d = tmp();
    let r = run(d.path(), "param x = 1;\n\nplot loss to \"l.svg\";\n");
    assert_diag(&r, "E0403", 3);
    assert!(r.stderr.to_lowercase().contains("minimiz"), "{}", r.stderr);
    assert_eq!(listing(d.path()), ["s.loss"]);
    let (_, v) = run_json(d.path(), "param x = 1;\n\nplot loss to \"l.svg\";\n");
    assert_eq!(v["ok"], Value::Bool(false));
    assert_eq!(v["error"]["line"], 3);
}

#[test]
fn contour_with_path_needs_a_minimization() {
    let d = tmp();
    let script = format!(
        "{HEAD}\
plot contour f(x, y) over x in [-2, 2], y in [-1, 3] to \"fine.svg\";
plot contour f(x, y) over x in [-2, 2], y in [-1, 3]
  with path to \"c.svg\";
"
    );
    let r = run(d.path(), &script);
    assert_diag(&r, "E0403", 5);
    assert_eq!(listing(d.path()), ["fine.svg", "s.loss"]);
}

#[test]
fn contour_with_path_needs_both_axes_in_the_run() {
    let d = tmp();
    let script = "param x = 1;\nparam y = 2;\nparam z = 3;\n\
minimize x^2 + z^2 with sgd(lr=0.1) for 2 steps;\n\
plot contour x^2 + y^2 over x in [-2, 2], y in [-3, 3] with path to \"c.svg\";\n";
    let r = run(d.path(), script);
    assert_diag(&r, "E0403", 5);
    assert_eq!(listing(d.path()), ["s.loss"]);
}

// ---------------------------------------------------------------------------
// --json

#[test]
fn json_records_each_plot() {
    let d = tmp();
    let script = format!(
        "{HEAD}\
plot contour f(x, y) over x in [-2, 2], y in [-1, 3] to \"c.svg\";
minimize f(x, y) with sgd(lr=0.01) for 5 steps;
plot loss to \"l.png\";
plot sin(t) over t in [0, 1] to \"s.svg\";
"
    );
    let (r, v) = run_json(d.path(), &script);
    assert_ok(&r, "json");
    assert_eq!(v["ok"], Value::Bool(true));
    assert_eq!(v["error"], Value::Null);
    assert!(!r.stdout.contains("plot written"), "{}", r.stdout);
    let results = v["results"].as_array().expect("results");
    let plots: Vec<&Value> = results.iter().filter(|x| x["kind"] == "plot").collect();
    assert_eq!(plots.len(), 3, "{results:?}");
    let want = [
        (4, "contour", "c.svg"),
        (6, "loss", "l.png"),
        (7, "curves", "s.svg"),
    ];
    for (p, (line, kind, file)) in plots.iter().zip(want) {
        assert_eq!(p["line"], line, "{p}");
        assert_eq!(p["plot"], kind, "{p}");
        assert_eq!(p["file"], file, "{p}");
    }
    // In execution order, between the other records.
    let kinds: Vec<&str> = results
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["plot", "minimize", "plot", "plot"]);
    check_svg(&d.path().join("c.svg"));
    check_png(&d.path().join("l.png"));
    check_svg(&d.path().join("s.svg"));
}

#[test]
fn figures_are_deterministic() {
    let d = tmp();
    let script = format!(
        "{HEAD}\
minimize f(x, y) with adam(lr=0.1) for 50 steps;
plot contour f(x, y) over x in [-2, 2], y in [-1, 3] with path to \"a.svg\";
plot loss to \"a.png\";
"
    );
    assert_ok(&run(d.path(), &script), "first");
    let svg = fs::read(d.path().join("a.svg")).unwrap();
    let png = fs::read(d.path().join("a.png")).unwrap();
    assert_ok(&run(d.path(), &script), "second");
    assert!(
        svg == fs::read(d.path().join("a.svg")).unwrap(),
        "SVG differs"
    );
    assert!(
        png == fs::read(d.path().join("a.png")).unwrap(),
        "PNG differs"
    );
}

// ---------------------------------------------------------------------------
// The chapter's figures.

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn chapter_figures_example() {
    let d = tmp();
    let script = fs::read_to_string(repo().join("examples/plots.loss")).unwrap();
    fs::create_dir(d.path().join("figures")).unwrap();
    let r = run_in(d.path(), "plots.loss", &script, &[], None);
    assert_ok(&r, "examples/plots.loss");
    let figs = d.path().join("figures");
    let names = listing(&figs);
    for want in [
        "himmelblau-migrad-origin.svg",
        "himmelblau-migrad-minus2.svg",
        "himmelblau-adam-origin.svg",
        "himmelblau-adam-minus2.svg",
        "beale-adam.svg",
        "beale-momentum.svg",
        "sin.svg",
        "relu.svg",
    ] {
        assert!(names.iter().any(|n| n == want), "no {want} in {names:?}");
    }
    let title = |f: &str| svg_texts(&check_svg(&figs.join(f)))[0].clone();
    assert!(title("himmelblau-migrad-origin.svg").contains("MIGRAD"));
    assert!(title("himmelblau-adam-minus2.svg").contains("Adam lr=0.1"));
    assert!(title("beale-adam.svg").contains("betas=(0.9, 0.999)"));
    assert!(title("beale-momentum.svg").contains("betas=(0.99, 0.999)"));
    for f in &names {
        let svg = check_svg(&figs.join(f));
        if f.starts_with("himmelblau-") && !f.contains("loss") || f.starts_with("beale") {
            let texts = svg_texts(&svg);
            assert!(texts.iter().any(|t| t == "start"), "{f}: {texts:?}");
            assert!(texts.iter().any(|t| t == "end"), "{f}: {texts:?}");
        }
    }
    // The docs' copies are the example's figures (compared where they were
    // made: another libm may move a pixel).
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        docs_copies_match(&figs, &names);
    }
}

fn docs_copies_match(figs: &Path, names: &[String]) {
    for f in names {
        let doc = repo().join("docs/figures").join(f);
        if let Ok(bytes) = fs::read(&doc) {
            assert!(
                bytes == fs::read(figs.join(f)).unwrap(),
                "docs/figures/{f} is out of date: copy examples/figures/{f} over it"
            );
        }
    }
}
