//! The interpreter: runs statements against a `Session`. `losslang run`, the
//! REPL and `losslang check` all drive this one type; none has an evaluator
//! of its own. Text output goes to the session's writer as statements run;
//! every reporting statement also leaves a JSON record (SPEC 1.1).

mod fit;
mod lower;
mod minimize;
pub mod names;
mod plots;
mod report;
pub mod tensor_ops;

pub use lower::{eval_node, LVal, Lowerer};

use crate::diagnostics::{line_col, render, Diag, Span};
use crate::graph::Graph;
use crate::syntax::ast::{Expr, ExprKind, ParamDecl, ParamInit, Program, Stmt, StmtKind};
use crate::tensor::{fmt_num, Tensor};
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
    /// Free parameter names, in the order of `points`' entries.
    pub names: Vec<String>,
    /// The loss at each point (per step, or per evaluation for Minuit).
    pub losses: Vec<f64>,
    /// Parameter values at each point, flat: point k is
    /// `points[k * names.len()..(k + 1) * names.len()]` (recorded only when
    /// there are few parameters; empty otherwise).
    pub points: Vec<f64>,
}

impl RunPath {
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
    pub failed_expects: usize,
    /// The first failed expect, for `--json`'s error.
    pub first_failure: Option<(String, usize, usize)>,
    pub last_path: Option<RunPath>,
    pub last_minuit: Option<fit::MinuitRun>,
    /// Directory that relative paths in the script are relative to.
    pub base_dir: PathBuf,
    /// The source statements run so far (for the REPL's `:save`).
    pub history: Vec<String>,
    src_name: String,
    pub(crate) src: String,
}

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
            failed_expects: 0,
            first_failure: None,
            last_path: None,
            last_minuit: None,
            base_dir: PathBuf::from("."),
            history: Vec::new(),
            src_name: String::new(),
            src: String::new(),
        }
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
        self.last_minuit = None;
        self.history.clear();
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

    /// Renders a diagnostic on the error stream.
    pub fn emit(&mut self, d: &Diag) {
        let text = render(
            std::slice::from_ref(d),
            &self.src_name,
            &self.src,
            self.opts.color,
        );
        let _ = self.err.write_all(text.as_bytes());
        let _ = self.err.flush();
    }

    /// Draws (or, with `None`, clears) the progress line on stderr.
    pub(crate) fn progress(&mut self, line: Option<&str>) {
        if !self.opts.progress || self.opts.json {
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

    fn line(&self, span: &Span) -> usize {
        line_col(&self.src, span.start).0
    }

    /// Parses and runs a whole source text. Diagnostics are rendered on the
    /// error stream; the outcome says how it ended.
    pub fn run_source(&mut self, name: &str, src: &str) -> Outcome {
        self.src_name = name.to_string();
        self.src = src.to_string();
        let program = match crate::syntax::parse(src) {
            Ok(p) => p,
            Err(diags) => {
                for d in &diags {
                    self.emit(d);
                }
                let (l, c) = diags[0].line_col(src);
                return Outcome::Error(diags[0].message.clone(), l, c);
            }
        };
        self.run_program(&program)
    }

    /// Runs more source under the same name (the REPL): the text is appended
    /// to what ran before, so diagnostics can point at earlier inputs.
    pub fn run_more(&mut self, name: &str, src: &str) -> Outcome {
        if name != self.src_name {
            return self.run_source(name, src);
        }
        let base = self.src.len();
        if !self.src.is_empty() && !self.src.ends_with('\n') {
            self.src.push('\n');
        }
        let base = base.max(self.src.len());
        self.src.push_str(src);
        let full = std::mem::take(&mut self.src);
        let parsed = crate::syntax::parser::parse_from(&full, base);
        self.src = full;
        match parsed {
            Ok(p) => self.run_program(&p),
            Err(diags) => {
                for d in &diags {
                    self.emit(d);
                }
                let (l, c) = diags[0].line_col(&self.src);
                Outcome::Error(diags[0].message.clone(), l, c)
            }
        }
    }

    /// Runs parsed statements (the source must have been set by `run_source`).
    fn run_program(&mut self, program: &Program) -> Outcome {
        let failed_before = self.failed_expects;
        for st in &program.stmts {
            if let Err(d) = self.exec(st) {
                self.emit(&d);
                self.flush();
                let (l, c) = d.line_col(&self.src);
                return Outcome::Error(d.message.clone(), l, c);
            }
            let text = self.src[st.span.clone()].to_string();
            self.history.push(text);
        }
        self.flush();
        if self.failed_expects > failed_before {
            Outcome::ExpectFailed
        } else {
            Outcome::Ok
        }
    }

    /// Everything the caller prints for `--json`.
    pub fn json_report(&self, outcome: &Outcome) -> Value {
        let error = match outcome {
            Outcome::Ok => Value::Null,
            Outcome::Error(m, l, c) => json!({"message": m, "line": l, "column": c}),
            Outcome::ExpectFailed => match &self.first_failure {
                Some((m, l, c)) => json!({"message": m, "line": l, "column": c}),
                None => json!({"message": "an expect failed", "line": null, "column": null}),
            },
        };
        json!({
            "ok": *outcome == Outcome::Ok,
            "results": self.records,
            "error": error,
        })
    }

    fn exec(&mut self, st: &Stmt) -> Result<(), Diag> {
        let line = self.line(&st.span);
        match &st.kind {
            StmtKind::Param(d) => self.declare_param(d),
            StmtKind::Let(n, e) => {
                self.check_new_name(&n.name, &n.span)?;
                names::resolve(e, self, &[], None)?;
                // Lower once now so shape errors point at the definition.
                let mut g = Graph::new();
                let v = Lowerer::new(self, &mut g).lower(e)?;
                // Random values and csv tables are made once, here.
                if let Some((t, table)) = tensor_ops::let_as_data(self, &g, &v, e) {
                    if let Some(table) = table {
                        self.tables.insert(n.name.clone(), table);
                    }
                    self.defs.insert(n.name.clone(), Def::Data(t));
                    self.def_spans.insert(n.name.clone(), n.span.clone());
                    return Ok(());
                }
                self.defs.insert(n.name.clone(), Def::Let(e.clone()));
                self.def_spans.insert(n.name.clone(), n.span.clone());
                Ok(())
            }
            StmtKind::Fn(n, args, body) => {
                self.check_new_name(&n.name, &n.span)?;
                for (i, a) in args.iter().enumerate() {
                    if args[..i].iter().any(|b| b.name == a.name) {
                        return Err(Diag::error(
                            "E0201",
                            format!("argument `{}` is named twice", a.name),
                        )
                        .at(a.span.clone(), "repeated"));
                    }
                }
                let locals: Vec<String> = args.iter().map(|a| a.name.clone()).collect();
                names::resolve(body, self, &locals, Some(&n.name))?;
                self.defs
                    .insert(n.name.clone(), Def::Fn(locals, body.clone()));
                self.def_spans.insert(n.name.clone(), n.span.clone());
                Ok(())
            }
            StmtKind::Assign(n, e) => {
                let Some(i) = self.param_index(&n.name) else {
                    if self.defs.contains_key(&n.name) {
                        return Err(Diag::error(
                            "E0204",
                            format!("`{}` is not a parameter", n.name),
                        )
                        .at(n.span.clone(), "only parameters can be assigned")
                        .note("help: a `let` names an expression and cannot be changed"));
                    }
                    return Err(names::unknown_name(
                        &n.name,
                        n.span.clone(),
                        self,
                        "parameter",
                    ));
                };
                let v = self.eval(e)?;
                self.set_param_value(i, v, &e.span)
            }
            StmtKind::Minimize(m) => minimize::run(self, m, st, line),
            StmtKind::Hesse => fit::hesse(self, st, line),
            StmtKind::Minos(names) => fit::minos(self, names, st, line),
            StmtKind::Print(items) => self.print(items, line),
            StmtKind::Expect {
                cond,
                within,
                message,
                points,
            } => {
                let points = points.as_ref().map(|e| self.expect_points(e)).transpose()?;
                self.expect(cond, within.as_ref(), message.as_deref(), points, st, line)
            }
            StmtKind::Seed(e) => {
                let v = self.const_scalar(e)?;
                if v < 0.0 || v.fract() != 0.0 || v > 2f64.powi(63) {
                    return Err(Diag::error("E0207", "a seed is a whole number >= 0")
                        .at(e.span.clone(), format!("this is {}", fmt_num(v))));
                }
                if self.opts.seed.is_none() {
                    self.seed = v as u64;
                }
                self.rng = std::cell::RefCell::new(crate::tensor::random::Rng::new(self.seed));
                Ok(())
            }
            StmtKind::Plot(kind, file) => plots::run(self, kind, file, st),
            StmtKind::Expr(e) => {
                if self.opts.repl {
                    let v = self.lower_eval(e)?;
                    let text = v.0;
                    self.say(&text);
                    Ok(())
                } else {
                    Err(Diag::error("E0208", "this expression's value is not used")
                        .at(e.span.clone(), "computed and thrown away")
                        .note("help: to see it, write `print ...;`"))
                }
            }
            StmtKind::Error => Ok(()),
        }
    }

    fn check_new_name(&self, name: &str, span: &Span) -> Result<(), Diag> {
        let prev = self
            .params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.span.clone())
            .or_else(|| self.def_spans.get(name).cloned());
        if let Some(prev) = prev {
            return Err(
                Diag::error("E0201", format!("`{name}` is already declared"))
                    .at(span.clone(), "declared again here")
                    .at(prev, "first declared here")
                    .note("help: pick another name, or assign a parameter with `name = value;`"),
            );
        }
        if names::builtin_arity(name).is_some() || names::constant(name).is_some() {
            return Err(Diag::error("E0201", format!("`{name}` is a built-in name"))
                .at(span.clone(), "cannot be redefined"));
        }
        Ok(())
    }

    /// Evaluates an expression at the current parameter values.
    pub fn eval(&self, e: &Expr) -> Result<Tensor, Diag> {
        let mut g = Graph::new();
        let n = Lowerer::new(self, &mut g).num(e)?;
        Ok(eval_node(self, &g, n, &[]))
    }

    /// Evaluates an expression that must not depend on any parameter.
    pub fn const_value(&self, e: &Expr, what: &str) -> Result<Tensor, Diag> {
        let mut g = Graph::new();
        let n = Lowerer::new(self, &mut g).num(e)?;
        if g.varying[n as usize] {
            return Err(Diag::error("E0207", format!("{what} must be constant"))
                .at(e.span.clone(), "depends on a parameter"));
        }
        Ok(eval_node(self, &g, n, &[]))
    }

    pub fn const_scalar(&self, e: &Expr) -> Result<f64, Diag> {
        let t = self.const_value(e, "this value")?;
        t.item().filter(|_| t.is_scalar()).ok_or_else(|| {
            Diag::error("E0206", "expected a single number").at(e.span.clone(), "not a scalar")
        })
    }

    /// Lowers and evaluates for printing: text and JSON.
    fn lower_eval(&self, e: &Expr) -> Result<(String, Value), Diag> {
        let mut g = Graph::new();
        let v = Lowerer::new(self, &mut g).lower(e)?;
        Ok(match v {
            LVal::Str(s) => (s.clone(), Value::String(s)),
            LVal::Num(n) => {
                let t = eval_node(self, &g, n, &[]);
                (t.to_string(), report::tensor_json(&t))
            }
            LVal::Mask(n) => {
                let t = eval_node(self, &g, n, &[]);
                (report::mask_text(&t), report::mask_json(&t))
            }
        })
    }

    fn declare_param(&mut self, d: &ParamDecl) -> Result<(), Diag> {
        self.check_new_name(&d.name.name, &d.name.span)?;
        let value = match (&d.dims, &d.init) {
            (None, ParamInit::Value(e)) => self.const_value(e, "a parameter's initial value")?,
            _ => tensor_ops::tensor_param_value(self, d)?,
        };
        let (mut lower, mut upper) = (None, None);
        if let Some(l) = &d.limits {
            let lo = self.const_scalar(&l.lo)?;
            let hi = self.const_scalar(&l.hi)?;
            if lo.is_nan() || hi.is_nan() || lo >= hi {
                return Err(Diag::error("E0207", "invalid limits")
                    .at(
                        l.span.clone(),
                        format!("[{}, {}] is empty", fmt_num(lo), fmt_num(hi)),
                    )
                    .note("help: limits are `in [LO, HI]` with LO < HI"));
            }
            lower = (lo > f64::NEG_INFINITY).then_some(lo);
            upper = (hi < f64::INFINITY).then_some(hi);
            if let Some(bad) = value.data.iter().find(|v| !(lo..=hi).contains(*v)) {
                return Err(
                    Diag::error("E0207", "the initial value is outside the limits").at(
                        d.name.span.clone(),
                        format!(
                            "value {} is outside [{}, {}]",
                            fmt_num(*bad),
                            fmt_num(lo),
                            fmt_num(hi)
                        ),
                    ),
                );
            }
        }
        self.params.push(ParamInfo {
            name: d.name.name.clone(),
            value,
            lower,
            upper,
            fixed: d.fixed,
            span: d.name.span.clone(),
            error: None,
        });
        Ok(())
    }

    fn set_param_value(&mut self, i: usize, v: Tensor, span: &Span) -> Result<(), Diag> {
        let p = &self.params[i];
        let v = if v.data.len() == 1 && p.value.data.len() > 1 {
            Tensor {
                shape: p.value.shape.clone(),
                data: vec![v.data[0]; p.value.data.len()],
            }
        } else {
            v
        };
        if v.shape != p.value.shape {
            return Err(Diag::error(
                "E0402",
                format!(
                    "`{}` has shape {}, the value has shape {}",
                    p.name,
                    crate::tensor::shape_str(&p.value.shape),
                    crate::tensor::shape_str(&v.shape)
                ),
            )
            .at(span.clone(), "wrong shape"));
        }
        let lo = p.lower.unwrap_or(f64::NEG_INFINITY);
        let hi = p.upper.unwrap_or(f64::INFINITY);
        if let Some(bad) = v.data.iter().find(|x| !(lo..=hi).contains(*x)) {
            return Err(
                Diag::error("E0207", format!("value outside the limits of `{}`", p.name)).at(
                    span.clone(),
                    format!(
                        "{} is outside [{}, {}]",
                        fmt_num(*bad),
                        fmt_num(lo),
                        fmt_num(hi)
                    ),
                ),
            );
        }
        self.params[i].value = v;
        Ok(())
    }

    fn print(&mut self, items: &[Expr], line: usize) -> Result<(), Diag> {
        let mut texts = Vec::with_capacity(items.len());
        let mut values = Vec::with_capacity(items.len());
        for e in items {
            let (t, v) = self.lower_eval(e)?;
            texts.push(t);
            values.push(v);
        }
        self.say(&texts.join(" "));
        self.records
            .push(json!({"kind": "print", "line": line, "values": values}));
        Ok(())
    }

    /// The weight of `expect ... points N`: a positive whole number.
    fn expect_points(&self, e: &Expr) -> Result<u64, Diag> {
        let v = self.const_scalar(e)?;
        if v < 1.0 || v.fract() != 0.0 || v > 1e9 {
            return Err(
                Diag::error("E0304", "`points` must be a positive whole number")
                    .at(e.span.clone(), format!("this is {}", fmt_num(v)))
                    .note("help: write e.g. `expect x == 3 within 0.01 points 2;`"),
            );
        }
        Ok(v as u64)
    }

    fn expect(
        &mut self,
        cond: &Expr,
        within: Option<&Expr>,
        message: Option<&str>,
        points: Option<u64>,
        st: &Stmt,
        line: usize,
    ) -> Result<(), Diag> {
        let src_text = self.src[cond.span.clone()].to_string();
        let mut values = Vec::new();
        let (passed, detail) = match within {
            Some(tol_e) => {
                let ExprKind::Binary(crate::syntax::ast::BinOp::Eq, a, b) = &cond.kind else {
                    return Err(Diag::error("E0206", "`within` needs a comparison `A == B`")
                        .at(cond.span.clone(), "not `A == B`"));
                };
                let av = self.eval(a)?;
                let bv = self.eval(b)?;
                let tol = self.const_scalar(tol_e)?;
                let d = report::max_abs_diff(&av, &bv).ok_or_else(|| {
                    Diag::error("E0402", "the two sides of `==` have different shapes").at(
                        cond.span.clone(),
                        format!(
                            "{} vs {}",
                            crate::tensor::shape_str(&av.shape),
                            crate::tensor::shape_str(&bv.shape)
                        ),
                    )
                })?;
                let ok = d <= tol;
                values = vec![report::tensor_json(&av), report::tensor_json(&bv)];
                (
                    ok,
                    format!(
                        "{} vs {} (difference {} {} {})",
                        av,
                        bv,
                        fmt_num(d),
                        if ok { "<=" } else { ">" },
                        fmt_num(tol)
                    ),
                )
            }
            None => {
                let mut g = Graph::new();
                let v = Lowerer::new(self, &mut g).lower(cond)?;
                let LVal::Mask(n) = v else {
                    return Err(Diag::error("E0206", "`expect` needs a condition")
                        .at(cond.span.clone(), "not a comparison")
                        .note("help: write e.g. `expect x > 0;` or `expect x == 3 within 0.01;`"));
                };
                let t = eval_node(self, &g, n, &[]);
                let ok = t.data.iter().all(|&v| v != 0.0);
                let detail = match &cond.kind {
                    ExprKind::Binary(op, a, b) if op.is_comparison() => {
                        let av = self.eval(a)?;
                        let bv = self.eval(b)?;
                        values = vec![report::tensor_json(&av), report::tensor_json(&bv)];
                        format!("{av} {} {bv} is {}", op.symbol(), ok)
                    }
                    _ => format!("{} is {}", src_text, ok),
                };
                (ok, detail)
            }
        };
        let full = match within {
            Some(t) => format!("{} within {}", src_text, &self.src[t.span.clone()]),
            None => src_text,
        };
        let text = match message {
            Some(m) => format!("{m}: {full}: {detail}"),
            None => format!("{full}: {detail}"),
        };
        // A weighted expect shows what it earned: `expect passed (2/2 points): ...`.
        let weight = match points {
            Some(n) => format!(" ({}/{n} points)", if passed { n } else { 0 }),
            None => String::new(),
        };
        if passed {
            self.say(&format!("expect passed{weight}: {text}"));
        } else {
            self.say(&format!("expect FAILED{weight}: {text}"));
            self.failed_expects += 1;
            let mut d =
                Diag::error("E0401", format!("expect failed: {full}")).at(st.span.clone(), detail);
            if let Some(m) = message {
                d = d.note(m.to_string());
            }
            self.emit(&d);
            if self.first_failure.is_none() {
                let (l, c) = d.line_col(&self.src);
                self.first_failure = Some((format!("expect failed: {full}"), l, c));
            }
        }
        self.records
            .push(json!({"kind": "expect", "line": line, "passed": passed,
            "message": text, "values": values, "points": points}));
        Ok(())
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
