//! `losslang check`: checks scripts against their expected outputs (SPEC
//! section 8), the teaching-assignment checker and autograder.
//!
//! The stages, one module each:
//!
//! * [`discover`]: which scripts, and which expected file each is compared
//!   with (beside it, or a teacher's solution with `--against DIR`);
//! * [`runner`]: runs a script in a child process of the same binary, so a
//!   script that runs past `--timeout` can be stopped whatever it is doing;
//! * [`expected`]: the expected-file format (plain text, blessed by
//!   `--bless`);
//! * [`compare`] with [`shapes`]: output against expected, numbers within
//!   `--rtol`/`--atol`, report decoration (sparklines, the best step, call
//!   counts, timings) masked by a table of recognised line shapes;
//! * [`score`]: the points of weighted `expect`s;
//! * [`report`]: the text report, JSON Lines and JUnit XML behind one
//!   [`report::Reporter`] trait.
//!
//! [`run_check`] drives them; it gets the runner as a callback, so the
//! tests drive it with a fake interpreter.

pub mod compare;
pub mod discover;
pub mod expected;
pub mod report;
pub mod runner;
pub mod score;
pub mod shapes;

#[cfg(test)]
mod tests;

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use compare::{compare, Tol};
use discover::Item;
use expected::{expect_lines, Expected};
use report::Reporter;
pub use score::{ExpectOutcome, ExpectRecord, ExpectResult, Points};

/// The default relative tolerance for numbers (`--rtol`), as SPEC section 8 fixes it.
pub const DEFAULT_RTOL: f64 = 1e-6;

/// The default absolute tolerance for numbers (`--atol`): numbers that are
/// round-off noise around zero (`3.1e-17` against `-2.2e-16`) compare equal.
pub const DEFAULT_ATOL: f64 = 1e-12;

/// The default time a script may run (`--timeout`, seconds).
pub const DEFAULT_TIMEOUT: f64 = 60.0;

/// What one finished run of a script produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Captured {
    /// Everything the script wrote to standard output.
    pub stdout: String,
    /// Everything written to standard error: the diagnostics, rendered
    /// without colour.
    pub stderr: String,
    /// The exit status (0 success, 1 the script failed, 2 usage error).
    pub status: i32,
    /// Its `expect`s, in the order they ran.
    pub expects: Vec<ExpectRecord>,
}

/// How a run of a script ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Run {
    Finished(Captured),
    /// It ran longer than the timeout and was stopped.
    TimedOut,
    /// It could not be run, or died without reporting (the reason).
    Crashed(String),
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
    /// `--against DIR`: compare with the solutions in DIR.
    pub against: Option<PathBuf>,
    /// `--timeout S`: seconds a script may run (the runner enforces it;
    /// the report quotes it).
    pub timeout: f64,
    /// `--junit FILE`: also write a JUnit XML report.
    pub junit: Option<PathBuf>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            paths: vec![PathBuf::from(".")],
            rtol: DEFAULT_RTOL,
            atol: DEFAULT_ATOL,
            bless: false,
            json: false,
            against: None,
            timeout: DEFAULT_TIMEOUT,
            junit: None,
        }
    }
}

/// A problem with the command line or the folders it names: the check
/// cannot start (exit status 2).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CheckError {
    #[error("{0}")]
    Invalid(String),
    #[error("no .loss scripts under {}", .0.display())]
    NoScripts(PathBuf),
    #[error("{} has {} but no expected file beside {} (write them with `losslang check --bless`, or grade with `--against DIR`)", .0.display(), count(*.1, "script"), if *.1 == 1 { "it" } else { "them" })]
    NoExpected(PathBuf, usize),
    #[error("the --against folder {} does not exist or is not a folder", .0.display())]
    AgainstMissing(PathBuf),
    #[error("the --against folder {} has no .expected files (bless the solutions there with `losslang check --bless`)", .0.display())]
    NoSolutions(PathBuf),
    #[error("{0}")]
    Unreadable(String),
    /// The report's reader went away (`losslang check | head`).
    #[error("the report's output was closed")]
    Closed,
}

/// `1 script`, `2 scripts`.
fn count(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

impl CheckOptions {
    /// Checks the numbers and the combination of options.
    pub fn validate(&self) -> Result<(), CheckError> {
        for (name, v) in [("--rtol", self.rtol), ("--atol", self.atol)] {
            if !v.is_finite() || v < 0.0 {
                return Err(CheckError::Invalid(format!(
                    "{name} must be a finite non-negative number, got {v}"
                )));
            }
        }
        if !self.timeout.is_finite() || self.timeout <= 0.0 {
            return Err(CheckError::Invalid(format!(
                "--timeout must be a positive number of seconds, got {}",
                self.timeout
            )));
        }
        if self.bless && self.against.is_some() {
            return Err(CheckError::Invalid(
                "--bless writes the expected files beside the scripts; it cannot be combined with --against"
                    .to_string(),
            ));
        }
        if let Some(j) = &self.junit {
            let dir = j.parent().filter(|d| !d.as_os_str().is_empty());
            if j.is_dir() || dir.is_some_and(|d| !d.is_dir()) {
                return Err(CheckError::Invalid(format!(
                    "cannot write the JUnit report to {}: {}",
                    j.display(),
                    if j.is_dir() {
                        "it is a folder"
                    } else {
                        "its folder does not exist"
                    }
                )));
            }
        }
        Ok(())
    }

    /// The timeout as a duration.
    pub fn timeout_duration(&self) -> Duration {
        Duration::from_secs_f64(self.timeout)
    }
}

/// What happened to one script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    /// Stopped after `--timeout` seconds (a failure).
    Timeout,
    /// `--bless` wrote its expected file.
    Bless,
}

impl Status {
    /// Whether the script counts as passed.
    pub fn passed(self) -> bool {
        matches!(self, Status::Pass | Status::Bless)
    }
}

/// The result for one script, as every reporter sees it.
#[derive(Debug, Clone)]
pub struct ScriptReport {
    /// The script's path as found.
    pub path: String,
    pub status: Status,
    /// Wall-clock time of its run (0 when it did not run).
    pub seconds: f64,
    /// The expected file it was compared with.
    pub expected: Option<PathBuf>,
    /// Why it failed, one line each.
    pub reasons: Vec<String>,
    /// A unified diff of expected against actual, when the outputs differ.
    pub diff: Option<String>,
    /// The run's output in the expected-file format (what `--bless` writes).
    pub output: Option<String>,
    pub expects: Vec<ExpectOutcome>,
    pub points: Points,
}

impl ScriptReport {
    fn new(path: &Path, expected: Option<&Path>) -> ScriptReport {
        ScriptReport {
            path: path.display().to_string(),
            status: Status::Fail,
            seconds: 0.0,
            expected: expected.map(Path::to_path_buf),
            reasons: Vec::new(),
            diff: None,
            output: None,
            expects: Vec::new(),
            points: Points::default(),
        }
    }

    fn fail(path: &Path, reason: String) -> ScriptReport {
        let mut r = ScriptReport::new(path, None);
        r.reasons.push(reason);
        r
    }
}

/// The counts at the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub points: Points,
    /// Expected files that are not ours: the grading setup is broken.
    pub setup_errors: usize,
}

impl Summary {
    /// The exit status: 0 every script passed, 1 one failed, 2 an expected
    /// file could not be read (the setup, not the work, is wrong).
    pub fn exit_code(&self) -> i32 {
        if self.setup_errors > 0 {
            2
        } else if self.failed > 0 {
            1
        } else {
            0
        }
    }
}

/// Runs the check: discovers the scripts under `opts.paths`, runs each one
/// with `run`, compares (or with `bless`, writes) its expected file, and
/// reports to each reporter. Every problem with one script is a FAIL of
/// that script; a command line or folder with nothing to check is an
/// `Err`, before anything runs. I/O errors of the reporters are `Err` too.
pub fn run_check(
    opts: &CheckOptions,
    run: &mut dyn FnMut(&Path) -> Run,
    reporters: &mut [&mut dyn Reporter],
) -> Result<Summary, CheckError> {
    opts.validate()?;
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
    let items = discover::discover(paths, opts.against.as_deref(), opts.bless)?;
    let io_err = |e: io::Error| match e.kind() {
        io::ErrorKind::BrokenPipe => CheckError::Closed,
        _ => CheckError::Unreadable(format!("cannot write the report: {e}")),
    };
    let mut summary = Summary::default();
    for item in items {
        let (report, setup_error) = match item {
            Item::Script { loss, expected } => {
                check_one(&loss, expected.as_deref(), opts, tol, run)
            }
            Item::Missing { loss, expected } => (missing(&loss, &expected), false),
            Item::Problem { path, reason } => (ScriptReport::fail(&path, reason), false),
        };
        if report.status.passed() {
            summary.passed += 1;
        } else {
            summary.failed += 1;
        }
        summary.points += report.points;
        summary.setup_errors += usize::from(setup_error);
        for r in reporters.iter_mut() {
            r.script(&report).map_err(io_err)?;
        }
    }
    for r in reporters.iter_mut() {
        r.finish(&summary).map_err(io_err)?;
    }
    Ok(summary)
}

/// A solution no submission covers.
fn missing(loss: &Path, expected: &Path) -> ScriptReport {
    let mut r = ScriptReport::new(loss, Some(expected));
    r.reasons.push(format!(
        "missing: no script for the solution {}",
        expected.display()
    ));
    if let Ok(Ok(exp)) = fs::read(expected).map(|b| expected::parse_bytes(&b)) {
        let lines = expect_lines(&exp.stdout);
        (r.expects, r.points) = score::score(Some(&lines), &[]);
    }
    r
}

/// Reads an expected file; `Err` is the reason, ready to show.
fn read_expected(path: &Path) -> Result<Expected, String> {
    let bytes = fs::read(path).map_err(|e| {
        let why = if path.is_dir() {
            "it is a folder".to_string()
        } else {
            e.to_string()
        };
        format!("cannot read expected file {}: {why}", path.display())
    })?;
    expected::parse_bytes(&bytes)
        .map_err(|e| format!("cannot read expected file {}: {e}", path.display()))
}

/// Checks one script; the flag says whether its expected file is broken.
fn check_one(
    loss: &Path,
    exp_path: Option<&Path>,
    opts: &CheckOptions,
    tol: Tol,
    run: &mut dyn FnMut(&Path) -> Run,
) -> (ScriptReport, bool) {
    let mut report = ScriptReport::new(loss, exp_path);
    let (exp_path, expected) = match load(loss, exp_path, opts) {
        Ok(x) => x,
        Err((reason, setup_error)) => {
            report.reasons.push(reason);
            return (report, setup_error);
        }
    };
    let weights = expected.as_ref().map(|e| expect_lines(&e.stdout));
    let start = Instant::now();
    let outcome = run(loss);
    report.seconds = start.elapsed().as_secs_f64();
    let actual = match outcome {
        Run::Finished(c) => localize(c, loss),
        Run::TimedOut | Run::Crashed(_) => {
            if let Run::Crashed(why) = outcome {
                report.reasons.push(why);
            } else {
                report.status = Status::Timeout;
                report
                    .reasons
                    .push(format!("timed out after {} s", opts.timeout));
            }
            if let Some(w) = &weights {
                (report.expects, report.points) = score::score(Some(w), &[]);
            }
            return (report, false);
        }
    };
    (report.expects, report.points) = score::score(weights.as_deref(), &actual.expects);
    judge(&mut report, exp_path, expected.as_ref(), &actual, opts, tol);
    (report, false)
}

/// Finds the script's expected file and reads it (`None`: there is none
/// yet, and `--bless` will write it). `Err` is the reason the script
/// fails, and whether that is a broken expected file.
fn load<'a>(
    loss: &Path,
    exp_path: Option<&'a Path>,
    opts: &CheckOptions,
) -> Result<(&'a Path, Option<Expected>), (String, bool)> {
    if let Err(e) = fs::File::open(loss) {
        return Err((format!("cannot read {}: {e}", loss.display()), false));
    }
    let Some(exp_path) = exp_path else {
        let dir = opts.against.as_deref().unwrap_or(Path::new("."));
        let name = loss.with_extension("expected");
        let name = name.file_name().unwrap_or_default().to_string_lossy();
        return Err((
            format!("no solution: {} has no {name}", dir.display()),
            false,
        ));
    };
    if !exp_path.exists() {
        if opts.bless {
            return Ok((exp_path, None));
        }
        return Err((
            format!(
                "no expected file {} (write it with `losslang check --bless`)",
                exp_path.display()
            ),
            false,
        ));
    }
    match read_expected(exp_path) {
        Ok(x) => Ok((exp_path, Some(x))),
        // A broken expected file is what --bless is for.
        Err(_) if opts.bless => Ok((exp_path, None)),
        Err(e) => Err((e, true)),
    }
}

/// Compares a finished run with its expected file, or with `--bless`
/// writes the file when it does not pass.
fn judge(
    report: &mut ScriptReport,
    exp_path: &Path,
    expected: Option<&Expected>,
    actual: &Captured,
    opts: &CheckOptions,
    tol: Tol,
) {
    let output = render_actual(actual);
    report.output = Some(output.clone());
    if let Some(exp) = expected {
        let cmp = compare(exp, actual, tol);
        if cmp.passed {
            report.status = Status::Pass;
            return;
        }
        if !opts.bless {
            report.reasons = cmp.reasons;
            report.diff = Some(cmp.diff);
            return;
        }
    }
    match write_atomically(exp_path, &output) {
        Ok(()) => {
            report.status = Status::Bless;
            // The run is the expected file now: its own weights count.
            (report.expects, report.points) = score::score(None, &actual.expects);
        }
        Err(e) => report
            .reasons
            .push(format!("cannot write {}: {e}", exp_path.display())),
    }
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

/// What `--bless` writes for a run: the stdout, and for a run that exited
/// non-zero the diagnostic and the exit status.
fn render_actual(c: &Captured) -> String {
    if c.status == 0 {
        expected::render(&c.stdout, None, None)
    } else {
        expected::render(&c.stdout, Some(&c.stderr), Some(c.status))
    }
}

/// Writes `text` to `path` through a hidden temporary file beside it and a
/// rename, so a reader never sees a partial file.
pub(crate) fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
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
