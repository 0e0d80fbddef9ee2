//! The interpreter: runs statements against a `Session`. `losslang run`, the
//! REPL and `losslang check` all drive this one type; none has an evaluator
//! of its own. Text output goes to the session's writer as statements run;
//! every reporting statement also leaves a JSON record (SPEC 1.1).
//!
//! The stages, each in its own module: `exec` dispatches statements (print,
//! expect, seed, assignment, definitions); `params` declares and assigns
//! parameters; `lower` turns expressions into graph nodes; `run` minimizes
//! (`run::steps` for torch.optim, `run::minuit` for Minuit); `report` and
//! `plots` present the results. This file holds the session's data and its
//! public entry points.

mod display;
mod exec;
mod lower;
mod params;
mod plots;
mod report;
mod run;
#[cfg(test)]
mod testutil;

pub use display::{Display, DisplaySink};
pub use lower::names;
pub use lower::{eval_node, LVal, Lowerer, TableNames};

use crate::diagnostics::{render_in, Diag, LineIndex, Span};
use crate::syntax::ast::{Expr, Program};
use crate::tensor::Tensor;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by Ctrl-C; a running minimization stops at its next step and keeps
/// the best parameters so far.
pub static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// Takes (and clears) a pending interrupt.
pub fn take_interrupt() -> bool {
    INTERRUPT.swap(false, Ordering::SeqCst)
}

/// A declared parameter.
#[derive(Clone, Debug)]
pub struct ParamInfo {
    pub name: String,
    pub value: Tensor,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
    pub fixed: bool,
    pub span: Span,
    /// Parabolic errors from the last Minuit fit that moved this parameter.
    pub error: Option<f64>,
    /// `step S`: Minuit's initial step size (iminuit's `errors`).
    pub step: Option<f64>,
}

/// A named definition other than a parameter.
#[derive(Clone, Debug)]
pub enum Def {
    Let(Expr),
    Fn(Vec<String>, Expr),
    /// A constant value (a csv table column set, a loaded array).
    Data(Tensor),
}

/// How the session reports.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// `--json`: no text report; records are printed at the end by the caller.
    pub json: bool,
    /// `--trace`: minimize records carry their path.
    pub trace: bool,
    /// `--seed N`, which overrides the script's `seed`.
    pub seed: Option<u64>,
    /// The REPL: bare expressions print their value.
    pub repl: bool,
    /// Colour in diagnostics.
    pub color: bool,
    /// Show a progress line on stderr during long minimizations (only when
    /// stderr is a terminal and the output is not JSON).
    pub progress: bool,
}

/// The points a minimization visited, for plots.
#[derive(Clone, Debug, Default)]
pub struct RunPath {
    /// Optimizer and options, for plot titles.
    pub title: String,
    /// One name per recorded value, in the order of `points`' entries:
    /// `x` for a scalar parameter, `w[0]`, `w[1]`, ... for the elements of
    /// a tensor (see [`RunPath::element_names`]).
    pub names: Vec<String>,
    /// The loss at each point (per step, or per evaluation for Minuit).
    pub losses: Vec<f64>,
    /// Parameter values at each point, flat: point k is
    /// `points[k * names.len()..(k + 1) * names.len()]` (recorded only when
    /// there are few parameters; empty otherwise).
    pub points: Vec<f64>,
    /// The learning rate of each step (step-based runs; empty for Minuit).
    pub lrs: Vec<f64>,
    /// A minibatch run's epoch means and watched values.
    pub training: Option<TrainingCurves>,
}

/// The per-epoch curves of a `for N epochs` run, for `plot loss`.
#[derive(Clone, Debug, Default)]
pub struct TrainingCurves {
    /// Steps per epoch (epoch e ends after step (e + 1) * per_epoch).
    pub per_epoch: usize,
    /// The mean batch loss of each epoch.
    pub epoch_loss: Vec<f64>,
    /// Each watched name with its value after each epoch.
    pub watch: Vec<(String, Vec<f64>)>,
}

impl RunPath {
    /// The names of the elements of parameters `which`, in order: a
    /// scalar's own name, a tensor's `name[k]` by flat index (as Minuit's
    /// tables name them).
    pub fn element_names(params: &[ParamInfo], which: &[usize]) -> Vec<String> {
        let mut out = Vec::new();
        for &i in which {
            let p = &params[i];
            if p.value.is_scalar() {
                out.push(p.name.clone());
            } else {
                out.extend((0..p.value.data.len()).map(|k| format!("{}[{k}]", p.name)));
            }
        }
        out
    }

    /// The recorded points, each a slice over `names`.
    pub fn point_iter(&self) -> impl Iterator<Item = &[f64]> {
        self.points.chunks(self.names.len().max(1))
    }
}

/// Everything a script has declared and done so far.
pub struct Session {
    pub params: Vec<ParamInfo>,
    pub defs: HashMap<String, Def>,
    /// Declaration spans of definitions, for "declared here" labels.
    def_spans: HashMap<String, Span>,
    pub seed: u64,
    /// The random stream (initializers, rand, randn, randint); restarted by `seed`.
    pub rng: std::cell::RefCell<crate::tensor::random::Rng>,
    /// File and column names of `let` names that hold a csv table.
    pub tables: HashMap<String, (String, Vec<String>)>,
    pub opts: Options,
    /// One JSON object per reporting statement.
    pub records: Vec<Value>,
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    /// Where rich output goes (the Jupyter kernel); `None` prints text only.
    display: Option<Box<dyn DisplaySink>>,
    pub failed_expects: usize,
    /// The first failed expect, for `--json`'s error.
    pub first_failure: Option<(String, usize, usize)>,
    pub last_path: Option<RunPath>,
    /// Each minimization's objective (source text) and path, for
    /// `plot contour ... with paths` (bounded: see `plots::MAX_RUNS`).
    pub runs: Vec<(String, RunPath)>,
    pub last_minuit: Option<run::minuit::MinuitRun>,
    /// Compiled tapes of recent objectives (`run/tape_cache.rs`).
    pub(crate) tapes: run::tape_cache::TapeCache,
    /// Directory that relative paths in the script are relative to.
    pub base_dir: PathBuf,
    /// The source statements run so far (for the REPL's `:save`).
    pub history: Vec<String>,
    /// The sources run so far, one after another in `src`: each input's
    /// name and where it starts (a script has one; the REPL one per input
    /// and per `:load`), so diagnostics name `<repl:24>` or the file, with
    /// lines counted from its start.
    segments: Vec<(String, usize)>,
    pub(crate) src: String,
    /// Line starts of `src`, kept up to date with it.
    lines: LineIndex,
    /// Every diagnostic of the run as JSON (`--json`'s `errors`), capped.
    diag_log: Vec<Value>,
    /// Diagnostics beyond the cap, counted only.
    diags_omitted: usize,
    /// The diagnostic that stopped the run, as JSON.
    stopped_by: Option<Value>,
    /// What `history` keeps for the statement running now, when its text
    /// would not reproduce what it did (a run cut short by Ctrl-C or a
    /// non-finite value): set by the statement, taken after it.
    pub(crate) replay: Option<run::Replay>,
}

/// At most this many syntax errors are shown (then "and N more"), and at
/// most this many diagnostics are listed in `--json`'s `errors`.
pub const MAX_REPORTED: usize = 20;

/// How a run ended.
#[derive(Debug, PartialEq)]
pub enum Outcome {
    Ok,
    /// Failed expects (the script ran to its end).
    ExpectFailed,
    /// An error stopped the script: its message, line and column.
    Error(String, usize, usize),
}

impl Outcome {
    pub fn exit_code(&self) -> i32 {
        match self {
            Outcome::Ok => 0,
            _ => 1,
        }
    }
}

impl Session {
    pub fn new(opts: Options, out: Box<dyn Write>, err: Box<dyn Write>) -> Session {
        Session {
            params: Vec::new(),
            defs: HashMap::new(),
            def_spans: HashMap::new(),
            seed: opts.seed.unwrap_or(0),
            rng: std::cell::RefCell::new(crate::tensor::random::Rng::new(opts.seed.unwrap_or(0))),
            tables: HashMap::new(),
            opts,
            records: Vec::new(),
            out,
            err,
            display: None,
            failed_expects: 0,
            first_failure: None,
            last_path: None,
            runs: Vec::new(),
            last_minuit: None,
            tapes: Default::default(),
            base_dir: PathBuf::from("."),
            history: Vec::new(),
            segments: Vec::new(),
            src: String::new(),
            lines: LineIndex::default(),
            diag_log: Vec::new(),
            diags_omitted: 0,
            stopped_by: None,
            replay: None,
        }
    }

    /// Time spent differentiating and compiling the minimizations' tapes
    /// (`--time` reports it).
    pub fn compile_time(&self) -> std::time::Duration {
        self.tapes.compile_time()
    }

    /// Forgets everything declared and done (the REPL's `:reset`); the
    /// options, writers and base directory stay.
    pub fn reset(&mut self) {
        self.params.clear();
        self.defs.clear();
        self.def_spans.clear();
        self.seed = self.opts.seed.unwrap_or(0);
        self.rng = std::cell::RefCell::new(crate::tensor::random::Rng::new(self.seed));
        self.records.clear();
        self.failed_expects = 0;
        self.first_failure = None;
        self.last_path = None;
        self.runs.clear();
        self.last_minuit = None;
        self.tapes.clear();
        self.history.clear();
        self.diag_log.clear();
        self.diags_omitted = 0;
        self.stopped_by = None;
    }

    pub fn param_index(&self, name: &str) -> Option<usize> {
        self.params.iter().position(|p| p.name == name)
    }

    /// Writes a line of the text report (nothing in `--json` mode).
    pub(crate) fn say(&mut self, text: &str) {
        if !self.opts.json {
            // A closed stdout (a pipe to `head`) is not the script's error.
            let _ = writeln!(self.out, "{text}");
        }
    }

    /// Sends rich output to `sink` from now on (see `display`).
    pub fn set_display(&mut self, sink: Box<dyn DisplaySink>) {
        self.display = Some(sink);
    }

    /// Whether a plot can be shown without a file (`plot ...;` without `to`).
    pub fn shows_inline(&self) -> bool {
        self.display.is_some()
    }

    /// Offers rich output to the display sink; true when it was shown.
    pub(crate) fn show(&mut self, item: Display<'_>) -> bool {
        match &mut self.display {
            Some(sink) if !self.opts.json => sink.show(item),
            _ => false,
        }
    }

    /// Renders a diagnostic on the error stream (after flushing what the
    /// statements before it printed, so the two streams stay in order).
    pub fn emit(&mut self, d: &Diag) {
        let _ = self.out.flush();
        if self.diag_log.len() < MAX_REPORTED {
            self.diag_log.push(d.to_json(&self.src));
        } else {
            self.diags_omitted += 1;
        }
        let text = render_in(
            std::slice::from_ref(d),
            &self.segments,
            &self.src,
            self.opts.color,
        );
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.flush();
    }

    /// Draws (or, with `None`, clears) the progress line on stderr.
    pub(crate) fn progress(&mut self, line: Option<&str>) {
        if !self.opts.progress || self.opts.json || self.show(Display::Progress(line)) {
            return;
        }
        let _ = match line {
            Some(l) => write!(self.err, "\r\x1b[2K{l}"),
            None => write!(self.err, "\r\x1b[2K"),
        };
        let _ = self.err.flush();
    }

    pub fn flush(&mut self) {
        let _ = self.out.flush();
        let _ = self.err.flush();
    }

    /// 1-based line of a span's start in the session's source.
    fn line(&self, span: &Span) -> usize {
        self.line_col_at(span.start).0
    }

    /// 1-based line and column of byte `at`, counted in its own source
    /// (segments start at a line start, so only the line needs moving).
    fn line_col_at(&self, at: usize) -> (usize, usize) {
        let k = self
            .segments
            .partition_point(|s| s.1 <= at)
            .saturating_sub(1);
        let base = self.segments.get(k).map_or(0, |s| s.1);
        let (line, col) = self.lines.line_col(&self.src, at);
        (line + 1 - self.lines.line(base).min(line), col)
    }

    /// Line and column of a diagnostic's primary span, in its own source.
    pub(crate) fn diag_line_col(&self, d: &Diag) -> (usize, usize) {
        d.primary_span()
            .map_or((1, 1), |s| self.line_col_at(s.start))
    }

    /// Parses and runs a whole source text. Diagnostics are rendered on the
    /// error stream; the outcome says how it ended.
    pub fn run_source(&mut self, name: &str, src: &str) -> Outcome {
        self.segments = vec![(name.to_string(), 0)];
        self.src = src.to_string();
        self.lines = LineIndex::new(src);
        match crate::syntax::parse(src) {
            Ok(p) => self.run_program(&p),
            Err(diags) => self.syntax_errors(&diags),
        }
    }

    /// Reports syntax errors: the first `MAX_REPORTED`, then how many more.
    fn syntax_errors(&mut self, diags: &[Diag]) -> Outcome {
        for d in diags.iter().take(MAX_REPORTED) {
            self.emit(d);
        }
        if diags.len() > MAX_REPORTED {
            let more = diags.len() - MAX_REPORTED;
            self.diags_omitted += more;
            let _ = writeln!(
                self.err,
                "error: and {more} more syntax error{} (the first {MAX_REPORTED} are shown)",
                if more == 1 { "" } else { "s" }
            );
            let _ = self.err.flush();
        }
        self.stop(&diags[0])
    }

    /// The outcome of a run that `d` stopped.
    fn stop(&mut self, d: &Diag) -> Outcome {
        self.stopped_by = Some(d.to_json(&self.src));
        let (l, c) = self.diag_line_col(d);
        Outcome::Error(d.message.clone(), l, c)
    }

    /// Runs more source in the same session (a REPL input, a `:load`ed
    /// file, a notebook cell) under its own name: the text is appended to
    /// what ran before, so diagnostics can point at earlier inputs.
    pub fn run_more(&mut self, name: &str, src: &str) -> Outcome {
        if !self.src.is_empty() && !self.src.ends_with('\n') {
            self.src.push('\n');
        }
        let base = self.src.len();
        self.segments.push((name.to_string(), base));
        self.src.push_str(src);
        self.lines.update(&self.src);
        let full = std::mem::take(&mut self.src);
        let parsed = crate::syntax::parser::parse_from(&full, base);
        self.src = full;
        match parsed {
            Ok(p) => self.run_program(&p),
            Err(diags) => self.syntax_errors(&diags),
        }
    }

    /// Runs parsed statements (the source must have been set by `run_source`).
    fn run_program(&mut self, program: &Program) -> Outcome {
        let failed_before = self.failed_expects;
        for st in &program.stmts {
            self.replay = None;
            let done = self.exec(st);
            let text = &self.src[st.span.clone()];
            // a statement that failed after changing the parameters (a run
            // stopped by a NaN) is kept in the form that reproduces them
            match (self.replay.take(), &done) {
                (Some(r), _) => self.history.push(r.apply(text, st.span.start)),
                (None, Ok(())) => self.history.push(text.to_string()),
                (None, Err(_)) => {}
            }
            if let Err(d) = done {
                self.emit(&d);
                self.flush();
                return self.stop(&d);
            }
            // Each statement's output appears when it finishes, not when
            // the run ends.
            self.flush();
        }
        self.flush();
        if self.failed_expects > failed_before {
            Outcome::ExpectFailed
        } else {
            Outcome::Ok
        }
    }

    /// Everything the caller prints for `--json`. The error object is the
    /// diagnostic that ended the run (for failed expects, the first one),
    /// with `errors` listing every diagnostic of the run. The records are
    /// moved into the report, not copied (a large fit's covariance is tens
    /// of MB as JSON values), so the session has none afterwards.
    pub fn json_report(&mut self, outcome: &Outcome) -> Value {
        let first_failed_expect = || self.diag_log.iter().find(|d| d["code"] == "E0401").cloned();
        let (found, m, l, c) = match outcome {
            Outcome::Ok => (None, None, None, None),
            Outcome::Error(m, l, c) => {
                (self.stopped_by.clone(), Some(m.clone()), Some(*l), Some(*c))
            }
            Outcome::ExpectFailed => match &self.first_failure {
                Some((m, l, c)) => (first_failed_expect(), Some(m.clone()), Some(*l), Some(*c)),
                None => (None, Some("an expect failed".to_string()), None, None),
            },
        };
        let error = match m {
            None => Value::Null,
            Some(m) => {
                let mut e =
                    found.unwrap_or_else(|| json!({"code": null, "labels": [], "notes": []}));
                e["message"] = json!(m);
                e["line"] = json!(l);
                e["column"] = json!(c);
                e["errors"] = json!(self.diag_log);
                if self.diags_omitted > 0 {
                    e["errors_omitted"] = json!(self.diags_omitted);
                }
                e
            }
        };
        // by hand: `json!` would copy each value it is given
        let mut report = serde_json::Map::new();
        report.insert("ok".into(), Value::Bool(*outcome == Outcome::Ok));
        let records = std::mem::take(&mut self.records);
        report.insert("results".into(), Value::Array(records));
        report.insert("error".into(), error);
        Value::Object(report)
    }
}

impl names::Scope for Session {
    fn has_value(&self, name: &str) -> bool {
        self.param_index(name).is_some()
            || matches!(self.defs.get(name), Some(Def::Let(_) | Def::Data(_)))
    }

    fn fn_arity(&self, name: &str) -> Option<usize> {
        match self.defs.get(name) {
            Some(Def::Fn(a, _)) => Some(a.len()),
            _ => None,
        }
    }

    fn all_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self.params.iter().map(|p| p.name.clone()).collect();
        v.extend(self.defs.keys().cloned());
        v.extend(names::CONSTANTS.iter().map(|(n, _)| n.to_string()));
        v.sort();
        v
    }
}
