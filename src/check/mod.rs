//! `losslang check`: checks scripts against their expected outputs (SPEC
//! section 8), the teaching-assignment checker.
//!
//! For each `X.loss` found under the given paths with an `X.expected` beside
//! it, the checker runs the script through a callback (the interpreter, run
//! the way `losslang run X.loss` would, diagnostics without colour), and
//! compares what it printed with the expected file:
//!
//! * each line is split into numbers and other text; numbers are equal when
//!   `|a - b| <= atol + rtol * max(|a|, |b|)`, other text must match exactly
//!   after trailing spaces, tabs and carriage returns are trimmed from each
//!   line; trailing empty lines are ignored; a line with a different number
//!   of tokens differs;
//! * the exit status must be the one the expected file names (`--- exit N`
//!   as its last line), or 0 when it names none, so a script whose
//!   `expect` fails (exit 1) fails its check unless it is meant to fail.
//!
//! Expected-file format (see `docs/teaching.md`):
//!
//! ```text
//! <the script's stdout>
//! --- stderr
//! <the diagnostic, without colour>
//! --- exit 1
//! ```
//!
//! The `--- stderr` section and the `--- exit N` line are both optional: a
//! file without them is just the stdout of a run that must exit 0, and
//! without a `--- stderr` section stderr is not compared. A line of output
//! that would read as a marker is written with one more leading backslash
//! (`\--- stderr`), so every output round-trips through `--bless`.
//!
//! The report has one `PASS path`, `FAIL path` or `BLESS path` line per
//! script (a failure followed by its reasons and a unified diff) and ends with
//! the line `N passed, M failed`; with `--json` it is JSON Lines instead, one
//! object per script and a last `{"passed": N, "failed": M}`.

use std::collections::HashSet;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp, TextDiff};

/// The default relative tolerance for numbers (`--rtol`), as SPEC section 8 fixes it.
pub const DEFAULT_RTOL: f64 = 1e-6;

/// The default absolute tolerance for numbers (`--atol`): numbers that are
/// round-off noise around zero (`3.1e-17` against `-2.2e-16`) compare equal.
pub const DEFAULT_ATOL: f64 = 1e-12;

/// How long the diff algorithm may search before it settles for a coarser
/// (still correct) diff, so a huge output never hangs the checker.
const DIFF_TIMEOUT: Duration = Duration::from_secs(2);

/// What one run of a script produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Captured {
    /// Everything the script wrote to standard output.
    pub stdout: String,
    /// Everything written to standard error: the diagnostics, rendered
    /// without colour.
    pub stderr: String,
    /// The exit status (0 success, 1 the script failed, 2 usage error).
    pub status: i32,
}

/// The options of `losslang check`.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckOptions {
    /// Files and directories to check; directories are searched recursively.
    pub paths: Vec<PathBuf>,
    /// Relative tolerance for numbers (`--rtol`, default [`DEFAULT_RTOL`]).
    pub rtol: f64,
    /// Absolute tolerance for numbers (`--atol`, default [`DEFAULT_ATOL`]).
    pub atol: f64,
    /// `--bless`: write the expected files from the current output.
    pub bless: bool,
    /// `--json`: report as JSON Lines instead of text.
    pub json: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            paths: vec![PathBuf::from(".")],
            rtol: DEFAULT_RTOL,
            atol: DEFAULT_ATOL,
            bless: false,
            json: false,
        }
    }
}

impl CheckOptions {
    /// Checks the tolerances: both must be finite and non-negative. The CLI
    /// can call this to exit 2 with the message; [`run_check`] returns it as
    /// an `InvalidInput` error.
    pub fn validate(&self) -> Result<(), String> {
        for (name, v) in [("--rtol", self.rtol), ("--atol", self.atol)] {
            if !v.is_finite() || v < 0.0 {
                return Err(format!(
                    "{name} must be a finite non-negative number, got {v}"
                ));
            }
        }
        Ok(())
    }
}

/// Runs the check: discovers the scripts under `opts.paths`, runs each one
/// with `run`, compares (or with `bless`, writes) its expected file, and
/// writes the report to `out`. Returns whether every script passed (the CLI
/// exits 1 when not). Only errors writing to `out`, and invalid tolerances,
/// are returned as `Err`; every problem with a script is a FAIL.
pub fn run_check(
    opts: &CheckOptions,
    run: &mut dyn FnMut(&Path) -> Captured,
    out: &mut dyn Write,
) -> io::Result<bool> {
    opts.validate()
        .map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let tol = Tol {
        rtol: opts.rtol,
        atol: opts.atol,
    };
    let default_paths = [PathBuf::from(".")];
    let paths: &[PathBuf] = if opts.paths.is_empty() {
        &default_paths
    } else {
        &opts.paths
    };

    let mut passed = 0usize;
    let mut failed = 0usize;
    for item in discover(paths, opts.bless) {
        let outcome = match item {
            Item::Script { loss } => check_one(&loss, opts.bless, tol, run),
            Item::Problem { path, reason } => Outcome::fail(&path, reason),
        };
        if outcome.passed {
            passed += 1;
        } else {
            failed += 1;
        }
        report(&outcome, opts.json, out)?;
    }
    if opts.json {
        writeln!(out, "{{\"passed\": {passed}, \"failed\": {failed}}}")?;
    } else {
        writeln!(out, "{passed} passed, {failed} failed")?;
    }
    out.flush()?;
    Ok(failed == 0)
}

// ---------------------------------------------------------------------------
// Discovery

/// One thing to report on.
#[derive(Debug)]
enum Item {
    /// A script to check.
    Script { loss: PathBuf },
    /// A path that could not be searched or is not a script.
    Problem { path: PathBuf, reason: String },
}

impl Item {
    fn path(&self) -> &Path {
        match self {
            Item::Script { loss, .. } => loss,
            Item::Problem { path, .. } => path,
        }
    }
}

/// Finds the scripts under each path, in argument order and then sorted by
/// path within each argument, without duplicates.
fn discover(paths: &[PathBuf], bless: bool) -> Vec<Item> {
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    for root in paths {
        let mut found = Vec::new();
        match fs::metadata(root) {
            Err(e) => found.push(Item::Problem {
                path: root.clone(),
                reason: format!("cannot read {}: {e}", root.display()),
            }),
            Ok(m) if m.is_dir() => walk(root, root, bless, &mut found),
            Ok(_) => found.push(explicit_file(root)),
        }
        found.sort_by(|a, b| a.path().cmp(b.path()));
        for item in found {
            if seen.insert(item.path().to_path_buf()) {
                items.push(item);
            }
        }
    }
    items
}

/// A file named on the command line: `X.loss`, or `X.expected` for `X.loss`.
fn explicit_file(path: &Path) -> Item {
    match path.extension().and_then(|e| e.to_str()) {
        Some("loss") => Item::Script {
            loss: path.to_path_buf(),
        },
        Some("expected") => Item::Script {
            loss: path.with_extension("loss"),
        },
        _ => Item::Problem {
            path: path.to_path_buf(),
            reason: "not a .loss script (nor a .expected file)".to_string(),
        },
    }
}

/// Collects the `.loss` files under `dir`, skipping hidden entries and
/// `target/` directories; symbolic links to directories are not followed.
/// Without `bless`, a script with no expected file beside it is skipped.
fn walk(root: &Path, dir: &Path, bless: bool, found: &mut Vec<Item>) {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            found.push(Item::Problem {
                path: dir.to_path_buf(),
                reason: format!("cannot read directory {}: {e}", dir.display()),
            });
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                found.push(Item::Problem {
                    path: dir.to_path_buf(),
                    reason: format!("cannot read directory {}: {e}", dir.display()),
                });
                continue;
            }
        };
        let name = entry.file_name();
        let name_str = name.to_string_lossy();
        if name_str.starts_with('.') {
            continue;
        }
        // Paths under "." are shown without the "./" prefix.
        let path = if dir == root && root == Path::new(".") {
            PathBuf::from(&name)
        } else {
            dir.join(&name)
        };
        let Ok(ft) = entry.file_type() else { continue };
        if ft.is_dir() {
            if name_str != "target" {
                walk(root, &path, bless, found);
            }
        } else if path.extension().is_some_and(|e| e == "loss")
            && (ft.is_file() || path.is_file())
            && (bless || path.with_extension("expected").exists())
        {
            found.push(Item::Script { loss: path });
        }
    }
}

// ---------------------------------------------------------------------------
// Checking one script

/// The result for one script.
#[derive(Debug)]
struct Outcome {
    name: String,
    passed: bool,
    blessed: bool,
    output: Option<String>,
    diff: Option<String>,
    reasons: Vec<String>,
}

impl Outcome {
    fn fail(path: &Path, reason: String) -> Self {
        Outcome {
            name: path.display().to_string(),
            passed: false,
            blessed: false,
            output: None,
            diff: None,
            reasons: vec![reason],
        }
    }
}

fn check_one(
    loss: &Path,
    bless: bool,
    tol: Tol,
    run: &mut dyn FnMut(&Path) -> Captured,
) -> Outcome {
    if let Err(e) = fs::File::open(loss) {
        return Outcome::fail(loss, format!("cannot read {}: {e}", loss.display()));
    }
    let exp_path = loss.with_extension("expected");
    let expected = if exp_path.exists() {
        match fs::read_to_string(&exp_path)
            .map_err(|e| format!("cannot read {}: {e}", exp_path.display()))
            .and_then(|t| parse_expected(&t).map_err(|e| format!("{}: {e}", exp_path.display())))
        {
            Ok(x) => Some(x),
            // A broken expected file is what --bless is for.
            Err(_) if bless => None,
            Err(e) => return Outcome::fail(loss, e),
        }
    } else if bless {
        None
    } else {
        // Discovery yields such a script only when it was named explicitly.
        return Outcome::fail(
            loss,
            format!(
                "no expected file {} (write it with `losslang check --bless`)",
                exp_path.display()
            ),
        );
    };

    let actual = localize(run(loss), loss);
    let output = render_actual(&actual);
    let mut outcome = Outcome {
        name: loss.display().to_string(),
        passed: false,
        blessed: false,
        output: Some(output.clone()),
        diff: None,
        reasons: Vec::new(),
    };
    if let Some(exp) = &expected {
        let cmp = compare(exp, &actual, tol);
        if cmp.passed {
            outcome.passed = true;
            return outcome;
        }
        if !bless {
            outcome.reasons = cmp.reasons;
            outcome.diff = Some(cmp.diff);
            return outcome;
        }
    }
    match write_atomically(&exp_path, &output) {
        Ok(()) => {
            outcome.passed = true;
            outcome.blessed = true;
        }
        Err(e) => outcome
            .reasons
            .push(format!("cannot write {}: {e}", exp_path.display())),
    }
    outcome
}

/// Writes the script's path, as the checker found and ran it, as its bare
/// file name in the output (diagnostics name the script by the path they
/// were given), so an expected file does not depend on the directory the
/// check was started from.
fn localize(mut c: Captured, loss: &Path) -> Captured {
    let shown = loss.display().to_string();
    if let Some(name) = loss.file_name().map(|n| n.to_string_lossy()) {
        if shown != name {
            c.stdout = c.stdout.replace(&shown, &name);
            c.stderr = c.stderr.replace(&shown, &name);
        }
    }
    c
}

/// Writes `text` to `path` through a hidden temporary file beside it and a
/// rename, so a reader never sees a partial file.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn report(o: &Outcome, json: bool, out: &mut dyn Write) -> io::Result<()> {
    if json {
        // Written by hand to keep the documented key order.
        let reason = (!o.reasons.is_empty()).then(|| o.reasons.join("; "));
        fn j<T: Into<serde_json::Value>>(v: T) -> serde_json::Value {
            v.into()
        }
        return writeln!(
            out,
            "{{\"name\": {}, \"passed\": {}, \"output\": {}, \"diff\": {}, \"reason\": {}, \"blessed\": {}}}",
            j(o.name.as_str()),
            o.passed,
            j(o.output.clone()),
            j(o.diff.clone()),
            j(reason),
            o.blessed,
        );
    }
    let word = if o.blessed {
        "BLESS"
    } else if o.passed {
        "PASS"
    } else {
        "FAIL"
    };
    writeln!(out, "{word} {}", o.name)?;
    for r in &o.reasons {
        writeln!(out, "  {r}")?;
    }
    if let Some(d) = &o.diff {
        out.write_all(d.as_bytes())?;
        if !d.is_empty() && !d.ends_with('\n') {
            writeln!(out)?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// The expected-file format

const STDERR_MARKER: &str = "--- stderr";
const EXIT_MARKER: &str = "--- exit";

/// A parsed expected file.
#[derive(Debug, Clone, PartialEq)]
struct Expected {
    stdout: String,
    /// `None`: stderr is not compared.
    stderr: Option<String>,
    /// `None`: no marker, the run must exit 0.
    exit: Option<i32>,
}

/// Whether a line (after its leading backslashes) reads as a marker.
fn marker_like(line: &str) -> bool {
    let t = line.trim_start_matches('\\').trim_end();
    t == STDERR_MARKER || t.starts_with(EXIT_MARKER)
}

fn escape_line(line: &str) -> String {
    if marker_like(line) {
        format!("\\{line}")
    } else {
        line.to_string()
    }
}

fn unescape_line(line: &str) -> &str {
    match line.strip_prefix('\\') {
        Some(rest) if marker_like(rest) => rest,
        _ => line,
    }
}

fn parse_expected(text: &str) -> Result<Expected, String> {
    let mut lines: Vec<&str> = text.lines().collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let mut exit = None;
    if let Some(last) = lines.last() {
        let t = last.trim_end();
        if let Some(rest) = t.strip_prefix(EXIT_MARKER) {
            let n = rest.trim();
            let code = n
                .parse::<i32>()
                .ok()
                .filter(|_| rest.starts_with(' '))
                .ok_or_else(|| {
                    format!("malformed exit marker `{t}` (expected `--- exit N`, N an integer)")
                })?;
            exit = Some(code);
            lines.pop();
        }
    }
    if lines.iter().any(|l| l.trim_end().starts_with(EXIT_MARKER)) {
        return Err("a `--- exit N` line must be the last line of the file".to_string());
    }
    let markers: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.trim_end() == STDERR_MARKER)
        .map(|(i, _)| i)
        .collect();
    if markers.len() > 1 {
        return Err(
            "more than one `--- stderr` line (write an output line that reads as a marker with a leading backslash)"
                .to_string(),
        );
    }
    let join = |ls: &[&str]| -> String {
        let mut s = String::new();
        for l in ls {
            s.push_str(unescape_line(l));
            s.push('\n');
        }
        s
    };
    let (stdout, stderr) = match markers.first() {
        Some(&i) => (join(&lines[..i]), Some(join(&lines[i + 1..]))),
        None => (join(&lines), None),
    };
    Ok(Expected {
        stdout,
        stderr,
        exit,
    })
}

/// Renders sections in the expected-file format (normalized, escaped).
fn render(stdout: &str, stderr: Option<&str>, exit: Option<i32>) -> String {
    fn push(s: &mut String, text: &str) {
        for l in normalize(text) {
            s.push_str(&escape_line(l));
            s.push('\n');
        }
    }
    let mut s = String::new();
    push(&mut s, stdout);
    if let Some(e) = stderr {
        s.push_str(STDERR_MARKER);
        s.push('\n');
        push(&mut s, e);
    }
    if let Some(code) = exit {
        s.push_str(&format!("{EXIT_MARKER} {code}\n"));
    }
    s
}

/// What `--bless` writes for a run: the stdout, and for a run that exited
/// non-zero the diagnostic and the exit status.
fn render_actual(c: &Captured) -> String {
    if c.status == 0 {
        render(&c.stdout, None, None)
    } else {
        render(&c.stdout, Some(&c.stderr), Some(c.status))
    }
}

// ---------------------------------------------------------------------------
// Comparison

#[derive(Debug, Clone, Copy)]
struct Tol {
    rtol: f64,
    atol: f64,
}

impl Tol {
    fn close(self, a: f64, b: f64) -> bool {
        a == b || (a - b).abs() <= self.atol + self.rtol * a.abs().max(b.abs())
    }
}

/// Splits text into lines with trailing spaces, tabs and `\r` trimmed, and
/// without trailing empty lines.
fn normalize(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text
        .split('\n')
        .map(|l| l.trim_end_matches([' ', '\t', '\r']))
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Tok<'a> {
    Text(&'a str),
    Num(&'a str, f64),
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// If a number starts at `i`, returns its end. A number is
/// `[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?`, not preceded or followed by a
/// letter, digit or `_`; the sign belongs to it only when it does not follow
/// `)` or `]`.
fn number_at(b: &[u8], i: usize) -> Option<usize> {
    let prev = if i > 0 { Some(b[i - 1]) } else { None };
    if prev.is_some_and(is_word_byte) {
        return None;
    }
    let digits = |mut k: usize| {
        let start = k;
        while k < b.len() && b[k].is_ascii_digit() {
            k += 1;
        }
        (k > start).then_some(k)
    };
    let mut k = i;
    if matches!(b.get(k), Some(b'+' | b'-')) {
        if matches!(prev, Some(b')' | b']')) {
            return None;
        }
        k += 1;
    }
    k = match digits(k) {
        Some(end) => {
            if b.get(end) == Some(&b'.') {
                digits(end + 1).unwrap_or(end)
            } else {
                end
            }
        }
        None if b.get(k) == Some(&b'.') => digits(k + 1)?,
        None => return None,
    };
    if matches!(b.get(k), Some(b'e' | b'E')) {
        let mut e = k + 1;
        if matches!(b.get(e), Some(b'+' | b'-')) {
            e += 1;
        }
        if let Some(end) = digits(e) {
            k = end;
        }
    }
    if b.get(k).copied().is_some_and(is_word_byte) {
        return None;
    }
    Some(k)
}

/// Splits a line into numbers and the text between them. `inf` and `nan`
/// are text.
fn tokenize(line: &str) -> Vec<Tok<'_>> {
    let b = line.as_bytes();
    let mut toks = Vec::new();
    let mut text_start = 0;
    let mut i = 0;
    while i < b.len() {
        if let Some(end) = number_at(b, i) {
            // Numbers are ASCII, so both ends are char boundaries.
            let s = &line[i..end];
            if let Ok(v) = s.parse::<f64>() {
                if text_start < i {
                    toks.push(Tok::Text(&line[text_start..i]));
                }
                toks.push(Tok::Num(s, v));
                i = end;
                text_start = end;
                continue;
            }
        }
        i += 1;
    }
    if text_start < b.len() {
        toks.push(Tok::Text(&line[text_start..]));
    }
    toks
}

fn lines_match(e: &str, a: &str, tol: Tol) -> bool {
    if e == a {
        return true;
    }
    let (te, ta) = (tokenize(e), tokenize(a));
    te.len() == ta.len()
        && te.iter().zip(&ta).all(|(x, y)| match (x, y) {
            (Tok::Text(x), Tok::Text(y)) => x == y,
            (Tok::Num(_, x), Tok::Num(_, y)) => tol.close(*x, *y),
            _ => false,
        })
}

fn texts_match(expected: &str, actual: &str, tol: Tol) -> bool {
    let (e, a) = (normalize(expected), normalize(actual));
    e.len() == a.len() && e.iter().zip(&a).all(|(x, y)| lines_match(x, y, tol))
}

/// The line's shape: its text with every number replaced by a placeholder.
fn shape(line: &str) -> Vec<Option<&str>> {
    tokenize(line)
        .into_iter()
        .map(|t| match t {
            Tok::Text(s) => Some(s),
            Tok::Num(..) => None,
        })
        .collect()
}

/// The actual text, normalized, with every number that matches its
/// counterpart in the expected text within tolerance spelled as the expected
/// text spells it, so the diff shows only real differences. Lines are paired
/// by a diff of their shapes.
fn align_numbers(expected: &str, actual: &str, tol: Tol) -> String {
    let (e, a) = (normalize(expected), normalize(actual));
    let (se, sa): (Vec<_>, Vec<_>) = (
        e.iter().map(|l| shape(l)).collect(),
        a.iter().map(|l| shape(l)).collect(),
    );
    let mut lines: Vec<String> = a.iter().map(|l| l.to_string()).collect();
    let deadline = Some(Instant::now() + DIFF_TIMEOUT);
    for op in similar::capture_diff_slices_deadline(Algorithm::Myers, &se, &sa, deadline) {
        if let DiffOp::Equal {
            old_index,
            new_index,
            len,
        } = op
        {
            for k in 0..len {
                let (te, ta) = (tokenize(e[old_index + k]), tokenize(a[new_index + k]));
                if te.len() != ta.len() {
                    continue;
                }
                let mut s = String::new();
                for (x, y) in te.iter().zip(&ta) {
                    match (x, y) {
                        (Tok::Num(se, ve), Tok::Num(_, va)) if tol.close(*ve, *va) => {
                            s.push_str(se)
                        }
                        (_, Tok::Num(sa, _)) | (_, Tok::Text(sa)) => s.push_str(sa),
                    }
                }
                lines[new_index + k] = s;
            }
        }
    }
    let mut s = lines.join("\n");
    s.push('\n');
    s
}

/// The result of comparing a run with its expected file.
struct Comparison {
    passed: bool,
    reasons: Vec<String>,
    diff: String,
}

fn compare(exp: &Expected, act: &Captured, tol: Tol) -> Comparison {
    let want_status = exp.exit.unwrap_or(0);
    let status_ok = act.status == want_status;
    let stdout_ok = texts_match(&exp.stdout, &act.stdout, tol);
    let stderr_ok = exp
        .stderr
        .as_ref()
        .is_none_or(|e| texts_match(e, &act.stderr, tol));
    if status_ok && stdout_ok && stderr_ok {
        return Comparison {
            passed: true,
            reasons: Vec::new(),
            diff: String::new(),
        };
    }
    let mut reasons = Vec::new();
    if !status_ok {
        reasons.push(if exp.exit.is_none() {
            format!(
                "the run exited with status {} (a failed `expect` or an error), but the expected \
                 file has no `--- exit N` line, so the script must exit 0",
                act.status
            )
        } else {
            format!("exit status {}, expected {}", act.status, want_status)
        });
    }
    if !stdout_ok {
        reasons.push("stdout differs".to_string());
    }
    if !stderr_ok {
        reasons.push("stderr (the diagnostic) differs".to_string());
    }

    let show_stderr = exp.stderr.is_some() || (!status_ok && !act.stderr.trim().is_empty());
    let show_exit = exp.exit.is_some() || act.status != 0;
    let expected_text = render(&exp.stdout, exp.stderr.as_deref(), exp.exit);
    let actual_stdout = align_numbers(&exp.stdout, &act.stdout, tol);
    let actual_stderr =
        show_stderr.then(|| align_numbers(exp.stderr.as_deref().unwrap_or(""), &act.stderr, tol));
    let actual_text = render(
        &actual_stdout,
        actual_stderr.as_deref(),
        show_exit.then_some(act.status),
    );
    let diff = TextDiff::configure()
        .algorithm(Algorithm::Myers)
        .timeout(DIFF_TIMEOUT)
        .diff_lines(&expected_text, &actual_text)
        .unified_diff()
        .header("expected", "actual")
        .to_string();
    Comparison {
        passed: false,
        reasons,
        diff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fake interpreter: each line of the script is printed to stdout,
    /// except `!err TEXT` (a stderr line) and `!exit N` (the exit status).
    fn fake(path: &Path) -> Captured {
        let text = fs::read_to_string(path).expect("fake interpreter reads the script");
        let mut c = Captured::default();
        for line in text.lines() {
            if let Some(e) = line.strip_prefix("!err ") {
                c.stderr
                    .push_str(&e.replace("{path}", &path.display().to_string()));
                c.stderr.push('\n');
            } else if let Some(n) = line.strip_prefix("!exit ") {
                c.status = n.trim().parse().unwrap();
            } else {
                c.stdout.push_str(line);
                c.stdout.push('\n');
            }
        }
        c
    }

    fn put(dir: &Path, rel: &str, text: &str) {
        let p = dir.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn opts(dir: &Path) -> CheckOptions {
        CheckOptions {
            paths: vec![dir.to_path_buf()],
            ..CheckOptions::default()
        }
    }

    /// Runs the check with the fake interpreter; returns (all passed, report,
    /// scripts run in order, relative to `dir`).
    fn check(o: &CheckOptions, dir: &Path) -> (bool, String, Vec<String>) {
        let mut ran = Vec::new();
        let mut out = Vec::new();
        let ok = run_check(
            o,
            &mut |p: &Path| {
                ran.push(p.strip_prefix(dir).unwrap_or(p).display().to_string());
                fake(p)
            },
            &mut out,
        )
        .unwrap();
        (ok, String::from_utf8(out).unwrap(), ran)
    }

    fn last_line(s: &str) -> &str {
        s.lines().last().unwrap()
    }

    #[test]
    fn pass() {
        let t = tempfile::tempdir().unwrap();
        put(t.path(), "a.loss", "x = 1\ny = 2\n");
        put(t.path(), "a.expected", "x = 1\ny = 2\n");
        let (ok, out, _) = check(&opts(t.path()), t.path());
        assert!(ok, "{out}");
        let name = t.path().join("a.loss").display().to_string();
        assert_eq!(out, format!("PASS {name}\n1 passed, 0 failed\n"));
    }

    #[test]
    fn fail_shows_diff() {
        let t = tempfile::tempdir().unwrap();
        put(t.path(), "a.loss", "x = 1\ny = 2\n");
        put(t.path(), "a.expected", "x = 1\ny = 3\n");
        let (ok, out, _) = check(&opts(t.path()), t.path());
        assert!(!ok);
        let name = t.path().join("a.loss").display().to_string();
        assert!(
            out.starts_with(&format!("FAIL {name}\n  stdout differs\n")),
            "{out}"
        );
        assert!(out.contains("--- expected\n+++ actual\n"), "{out}");
        assert!(out.contains("\n-y = 3\n+y = 2\n"), "{out}");
        assert!(out.contains("\n x = 1\n"), "{out}");
        assert_eq!(last_line(&out), "0 passed, 1 failed");
    }

    #[test]
    fn numeric_tolerance() {
        let t = tempfile::tempdir().unwrap();
        put(t.path(), "close.loss", "loss 1.0000001 at x=-2.5e-3\n");
        put(t.path(), "close.expected", "loss 1.0 at x=-0.0025\n");
        put(t.path(), "far.loss", "loss 1.001\n");
        put(t.path(), "far.expected", "loss 1.0\n");
        put(t.path(), "zero.loss", "grad 3.1e-17\n");
        put(t.path(), "zero.expected", "grad -2.2e-16\n");
        let (ok, out, _) = check(&opts(t.path()), t.path());
        assert!(!ok);
        assert!(
            out.contains("PASS ") && out.contains("close.loss\n"),
            "{out}"
        );
        assert!(out.contains("FAIL ") && out.contains("far.loss\n"), "{out}");
        assert!(out.contains("zero.loss\n"), "{out}");
        assert_eq!(last_line(&out), "2 passed, 1 failed");

        // A looser rtol makes 1.001 pass.
        let mut o = opts(t.path());
        o.rtol = 1e-2;
        assert!(check(&o, t.path()).0);

        let tol = Tol {
            rtol: 1e-6,
            atol: 0.0,
        };
        assert!(texts_match("1.0", "1.0000001", tol));
        assert!(!texts_match("1.0", "1.001", tol));
        // 0 against round-off noise needs atol
        assert!(!texts_match("0", "1e-300", tol));
        assert!(texts_match("0", "1e-300", Tol { atol: 1e-12, ..tol }));
        // a different number of tokens differs
        assert!(!texts_match("a 1 2", "a 1", tol));
        assert!(!texts_match("1", "x", tol));
    }

    #[test]
    fn diff_hides_numbers_within_tolerance() {
        let t = tempfile::tempdir().unwrap();
        put(t.path(), "a.loss", "a 1.0000001 b 2.5\nc 3.00000001\n");
        put(t.path(), "a.expected", "a 1.0 b 2.0\nc 3\n");
        let (ok, out, _) = check(&opts(t.path()), t.path());
        assert!(!ok);
        assert!(
            out.contains("\n-a 1.0 b 2.0\n+a 1.0 b 2.5\n c 3\n"),
            "{out}"
        );
        assert!(!out.contains("1.0000001"), "{out}");
    }

    #[test]
    fn trailing_spaces_and_newlines() {
        let t = tempfile::tempdir().unwrap();
        put(t.path(), "a.loss", "x = 1   \ny\t\n\n");
        put(t.path(), "a.expected", "x = 1\r\ny");
        put(t.path(), "b.loss", "x  = 1\n");
        put(t.path(), "b.expected", "x = 1\n");
        put(t.path(), "c.loss", "  x\n");
        put(t.path(), "c.expected", "x\n");
        let (ok, out, _) = check(&opts(t.path()), t.path());
        assert!(!ok);
        assert!(out.contains("PASS ") && out.contains("a.loss\n"), "{out}");
        assert_eq!(last_line(&out), "1 passed, 2 failed");
    }

    #[test]
    fn recursive_discovery_order() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        for rel in [
            "z.loss",
            "a/b.loss",
            "a/c/d.loss",
            "a.loss",
            "m/n.loss",
            ".hidden/e.loss",
            "target/f.loss",
            "m/target/g.loss",
        ] {
            put(d, rel, "ok\n");
            put(d, &rel.replace(".loss", ".expected"), "ok\n");
        }
        put(d, "nox.loss", "no expected file\n");
        put(d, ".h.loss", "ok\n");
        put(d, ".h.expected", "ok\n");
        put(d, "notes.txt", "ok\n");
        let (ok, out, ran) = check(&opts(d), d);
        assert!(ok, "{out}");
        assert_eq!(
            ran,
            ["a/b.loss", "a/c/d.loss", "a.loss", "m/n.loss", "z.loss"]
        );
        assert_eq!(last_line(&out), "5 passed, 0 failed");

        // Several paths: argument order, then sorted; duplicates once; a
        // single file; an X.expected names X.loss.
        let o = CheckOptions {
            paths: vec![d.join("z.loss"), d.join("a"), d.join("a/b.expected")],
            ..CheckOptions::default()
        };
        let (ok, _, ran) = check(&o, d);
        assert!(ok);
        assert_eq!(ran, ["z.loss", "a/b.loss", "a/c/d.loss"]);
    }

    #[test]
    fn meant_to_fail() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        let script = "before\n!err error[E0301]: expect failed: x = 2, expected 3\n!err  --> a.loss:4:1\n!exit 1\n";
        let exp = "before\n--- stderr\nerror[E0301]: expect failed: x = 2, expected 3\n --> a.loss:4:1\n--- exit 1\n";
        put(d, "good.loss", script);
        put(d, "good.expected", exp);
        // exit status only, stderr not compared
        put(d, "status_only.loss", script);
        put(d, "status_only.expected", "before\n--- exit 1\n");
        // a different diagnostic
        put(d, "other_diag.loss", &script.replace("x = 2", "x = 2.5"));
        put(d, "other_diag.expected", exp);
        // it was meant to fail but passes
        put(d, "passes.loss", "before\n");
        put(d, "passes.expected", exp);
        let (ok, out, _) = check(&opts(d), d);
        assert!(!ok);
        assert!(
            out.contains("PASS ") && out.contains("good.loss\n"),
            "{out}"
        );
        assert!(out.contains("status_only.loss\n"), "{out}");
        assert!(out.contains("stderr (the diagnostic) differs"), "{out}");
        assert!(out.contains("-error[E0301]: expect failed: x = 2, expected 3\n+error[E0301]: expect failed: x = 2.5, expected 3\n"), "{out}");
        assert!(out.contains("exit status 0, expected 1"), "{out}");
        assert!(out.contains("\n---- exit 1\n+--- exit 0\n"), "{out}");
        assert_eq!(last_line(&out), "2 passed, 2 failed");
    }

    #[test]
    fn nonzero_exit_without_marker_fails() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        put(
            d,
            "a.loss",
            "x = 1\n!err error: expect failed: x == 2\n!exit 1\n",
        );
        put(d, "a.expected", "x = 1\n");
        let (ok, out, _) = check(&opts(d), d);
        assert!(!ok);
        assert!(out.contains("FAIL "), "{out}");
        assert!(
            out.contains("  the run exited with status 1 (a failed `expect` or an error), but the expected file has no `--- exit N` line, so the script must exit 0\n"),
            "{out}"
        );
        assert!(!out.contains("stdout differs"), "{out}");
        assert!(
            out.contains("+--- stderr\n+error: expect failed: x == 2\n+--- exit 1\n"),
            "{out}"
        );
        assert_eq!(last_line(&out), "0 passed, 1 failed");
    }

    #[test]
    fn bless_round_trip() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        put(d, "plain.loss", "loss 0.5   \nx 3\n");
        put(
            d,
            "fails.loss",
            "out\n!err error: boom\n!err   |\n!exit 1\n",
        );
        put(d, "noout.loss", "!err error: parse\n!exit 2\n");
        // output lines that read as markers are escaped
        put(
            d,
            "markers.loss",
            "--- stderr\n\\--- exit 3\n--- exit 4\n!err --- stderr\n!exit 1\n",
        );
        // a stale expected file and a malformed one are rewritten
        put(d, "stale.loss", "new\n");
        put(d, "stale.expected", "old\n");
        put(d, "broken.loss", "fine\n");
        put(d, "broken.expected", "fine\n--- exit one\n");
        // an up-to-date file within tolerance is left alone
        put(d, "same.loss", "1.00000001\n");
        put(d, "same.expected", "1\n");

        let mut o = opts(d);
        o.bless = true;
        let (ok, out, _) = check(&o, d);
        assert!(ok, "{out}");
        assert_eq!(out.matches("BLESS ").count(), 6, "{out}");
        assert_eq!(out.matches("PASS ").count(), 1, "{out}");
        assert!(out.contains("same.loss\n"));
        assert_eq!(last_line(&out), "7 passed, 0 failed");
        let read = |n: &str| fs::read_to_string(d.join(n)).unwrap();
        assert_eq!(read("plain.expected"), "loss 0.5\nx 3\n");
        assert_eq!(
            read("fails.expected"),
            "out\n--- stderr\nerror: boom\n  |\n--- exit 1\n"
        );
        assert_eq!(
            read("noout.expected"),
            "--- stderr\nerror: parse\n--- exit 2\n"
        );
        assert_eq!(
            read("markers.expected"),
            "\\--- stderr\n\\\\--- exit 3\n\\--- exit 4\n--- stderr\n\\--- stderr\n--- exit 1\n"
        );
        assert_eq!(read("same.expected"), "1\n");
        // no temporary files left behind
        let names: Vec<_> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(names.is_empty(), "{names:?}");

        let (ok, out, _) = check(&opts(d), d);
        assert!(ok, "{out}");
        assert_eq!(last_line(&out), "7 passed, 0 failed");
        let parsed = parse_expected(&read("markers.expected")).unwrap();
        assert_eq!(parsed.stdout, "--- stderr\n\\--- exit 3\n--- exit 4\n");
        assert_eq!(parsed.stderr.as_deref(), Some("--- stderr\n"));
        assert_eq!(parsed.exit, Some(1));
    }

    #[test]
    fn json_lines() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        put(d, "a.loss", "x 1\n");
        put(d, "a.expected", "x 1\n");
        put(d, "b.loss", "x 2\n!err error: e\n!exit 1\n");
        put(d, "b.expected", "x 2\n");
        let mut o = opts(d);
        o.json = true;
        let (ok, out, _) = check(&o, d);
        assert!(!ok);
        let lines: Vec<serde_json::Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{out}");
        let a = &lines[0];
        assert_eq!(a["name"], d.join("a.loss").display().to_string());
        assert_eq!(a["passed"], true);
        assert_eq!(a["output"], "x 1\n");
        assert!(a["diff"].is_null());
        assert!(a["reason"].is_null());
        let b = &lines[1];
        assert_eq!(b["passed"], false);
        assert_eq!(b["output"], "x 2\n--- stderr\nerror: e\n--- exit 1\n");
        let diff = b["diff"].as_str().unwrap();
        assert!(diff.starts_with("--- expected\n+++ actual\n"), "{diff}");
        assert!(b["reason"].as_str().unwrap().contains("status 1"));
        assert_eq!(lines[2], serde_json::json!({"passed": 1, "failed": 1}));
        assert!(!out.contains("passed, "), "{out}");
        assert_eq!(last_line(&out), r#"{"passed": 1, "failed": 1}"#);
        assert!(out.starts_with(r#"{"name": "#), "{out}");
    }

    #[test]
    fn problems_are_failures() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        // the expected "file" is a directory
        put(d, "a.loss", "x\n");
        fs::create_dir(d.join("a.expected")).unwrap();
        // a malformed exit marker, and a misplaced one
        put(d, "b.loss", "x\n");
        put(d, "b.expected", "x\n--- exit one\n");
        put(d, "c.loss", "x\n");
        put(d, "c.expected", "--- exit 1\nx\n");
        let o = CheckOptions {
            paths: vec![
                d.to_path_buf(),
                d.join("missing"),
                d.join("notes.txt"),
                d.join("lonely.loss"),
            ],
            ..CheckOptions::default()
        };
        put(d, "notes.txt", "");
        put(d, "lonely.loss", "x\n");
        let (ok, out, ran) = check(&o, d);
        assert!(!ok);
        assert!(ran.is_empty(), "{ran:?}");
        assert!(out.contains("cannot read "), "{out}");
        assert!(
            out.contains("malformed exit marker `--- exit one`"),
            "{out}"
        );
        assert!(out.contains("must be the last line"), "{out}");
        assert!(out.contains("not a .loss script"), "{out}");
        assert!(out.contains("no expected file"), "{out}");
        assert_eq!(last_line(&out), "0 passed, 6 failed");

        let bad = CheckOptions {
            rtol: -1.0,
            ..CheckOptions::default()
        };
        let err = run_check(&bad, &mut fake, &mut Vec::new()).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn empty_tree() {
        let t = tempfile::tempdir().unwrap();
        let (ok, out, _) = check(&opts(t.path()), t.path());
        assert!(ok);
        assert_eq!(out, "0 passed, 0 failed\n");
    }

    #[test]
    fn tokenizer() {
        let nums = |s: &str| -> Vec<String> {
            tokenize(s)
                .into_iter()
                .map(|t| match t {
                    Tok::Num(n, _) => format!("#{n}"),
                    Tok::Text(t) => t.to_string(),
                })
                .collect()
        };
        assert_eq!(nums("x = -1.5e-3,"), ["x = ", "#-1.5e-3", ","]);
        assert_eq!(nums("[1, 2.5E+4]"), ["[", "#1", ", ", "#2.5E+4", "]"]);
        assert_eq!(nums("x1 3rd 2e inf nan -inf"), ["x1 3rd 2e inf nan -inf"]);
        assert_eq!(nums("f(x)-1"), ["f(x)-", "#1"]);
        assert_eq!(nums(".5 ±0.1"), ["#.5", " ±", "#0.1"]);
        assert_eq!(nums("1.2.3"), ["#1.2", ".", "#3"]);
        assert_eq!(nums("é1 1é"), ["é", "#1", " ", "#1", "é"]);
        assert_eq!(nums(""), Vec::<String>::new());
    }

    #[test]
    fn expected_files_do_not_depend_on_the_starting_directory() {
        let t = tempfile::tempdir().unwrap();
        let d = t.path();
        put(
            d,
            "hw/a.loss",
            "!err error: boom\n!err  --> {path}:3:1\n!exit 1\n",
        );
        let mut o = opts(d);
        o.bless = true;
        assert!(check(&o, d).0);
        assert_eq!(
            fs::read_to_string(d.join("hw/a.expected")).unwrap(),
            "--- stderr\nerror: boom\n --> a.loss:3:1\n--- exit 1\n"
        );
        let o = CheckOptions {
            paths: vec![d.join("hw/a.loss")],
            ..CheckOptions::default()
        };
        let (ok, out, _) = check(&o, d);
        assert!(ok, "{out}");
    }
}
