//! Statement dispatch: each statement of a program runs here against the
//! session. Definitions (`let`, `fn`), assignment, `seed`, `print` and
//! `expect` are handled in place; parameters, minimizations and plots are
//! handed to their stages (`params`, `run`, `plots`). `exec` is the
//! boundary where every stage's typed error becomes a `Diag`; the mistakes
//! found here are `ExecError`s, worded once at the end of this file.

use super::lower::LowerError;
use super::names::{NameError, Scope};
use super::params::ParamError;
use super::{eval_node, names, plots, report, run, Def, LVal, Lowerer, Session, TableNames};
use crate::diagnostics::{Code, Diag, IntoDiagnostic, Span};
use crate::graph::Graph;
use crate::syntax::ast::{Expr, ExprKind, Ident, Stmt, StmtKind};
use crate::tensor::{fmt_num, shape_str, Shape, Tensor};
use serde_json::{json, Value};

impl Session {
    pub(super) fn exec(&mut self, st: &Stmt) -> Result<(), Diag> {
        let line = self.line(&st.span);
        match &st.kind {
            StmtKind::Param(d) => Ok(self.declare_param(d)?),
            StmtKind::Let(n, e) => Ok(self.define_let(n, e)?),
            StmtKind::Fn(n, args, body) => Ok(self.define_fn(n, args, body)?),
            StmtKind::Assign(n, e) => Ok(self.assign(n, e)?),
            StmtKind::Minimize(m) => {
                run::run(self, m, st, line)?;
                plots::log_run(self, &m.objective);
                Ok(())
            }
            StmtKind::Hesse => run::uncertainty::hesse(self, st, line),
            StmtKind::Minos(names, opts) => run::uncertainty::minos(self, names, opts, st, line),
            StmtKind::Contour { x, y, opts } => {
                run::uncertainty::contour(self, x, y, opts, st, line)
            }
            StmtKind::Profile { x, opts } => run::uncertainty::profile(self, x, opts, st, line),
            StmtKind::Print(items) => Ok(self.print(items, line)?),
            StmtKind::Expect {
                cond,
                within,
                message,
                points,
            } => {
                let points = points.as_ref().map(|e| self.expect_points(e)).transpose()?;
                let e = Expectation {
                    cond,
                    within: within.as_ref(),
                    message: message.as_deref(),
                    points,
                };
                Ok(self.expect(&e, st, line)?)
            }
            StmtKind::Seed(e) => Ok(self.seed_stmt(e)?),
            StmtKind::Plot(kind, file) => plots::run(self, kind, file.as_ref(), st),
            StmtKind::Expr(e) => Ok(self.bare_expr(e)?),
            StmtKind::Error => Ok(()),
        }
    }

    /// `let NAME = EXPR;`: a constant value is computed once, here.
    fn define_let(&mut self, n: &Ident, e: &Expr) -> Result<(), ExecError> {
        self.check_new_name(&n.name, &n.span)?;
        names::resolve(e, self, &[], None)?;
        // Lower once now so shape errors point at the definition.
        let mut g = Graph::new();
        let v = Lowerer::new(self, &mut g).lower(e)?;
        // Random values and csv tables are made once, here.
        let def = match let_as_data(self, &g, &v, e)? {
            Some((t, table)) => {
                if let Some(table) = table {
                    self.tables.insert(n.name.clone(), table);
                }
                Def::Data(t)
            }
            None => Def::Let(e.clone()),
        };
        self.defs.insert(n.name.clone(), def);
        self.def_spans.insert(n.name.clone(), n.span.clone());
        Ok(())
    }

    /// `fn NAME(ARGS) = BODY;`, its names checked now.
    fn define_fn(&mut self, n: &Ident, args: &[Ident], body: &Expr) -> Result<(), NameError> {
        self.check_new_name(&n.name, &n.span)?;
        for (i, a) in args.iter().enumerate() {
            if args[..i].iter().any(|b| b.name == a.name) {
                return Err(NameError::RepeatedArgument {
                    name: a.name.clone(),
                    span: a.span.clone(),
                });
            }
        }
        let locals: Vec<String> = args.iter().map(|a| a.name.clone()).collect();
        names::resolve(body, self, &locals, Some(&n.name))?;
        self.defs
            .insert(n.name.clone(), Def::Fn(locals, body.clone()));
        self.def_spans.insert(n.name.clone(), n.span.clone());
        Ok(())
    }

    /// `NAME = EXPR;` for a parameter.
    fn assign(&mut self, n: &Ident, e: &Expr) -> Result<(), ExecError> {
        let Some(i) = self.param_index(&n.name) else {
            if self.defs.contains_key(&n.name) {
                return Err(NameError::AssignNotParam {
                    name: n.name.clone(),
                    span: n.span.clone(),
                }
                .into());
            }
            return Err(ExecError::AssignUnknown {
                name: n.name.clone(),
                span: n.span.clone(),
                suggestion: names::suggest(&n.name, self.all_names().iter().map(String::as_str)),
                value: self.src[e.span.clone()].to_string(),
            });
        };
        let v = self.eval(e)?;
        Ok(self.set_param_value(i, v, &e.span)?)
    }

    /// `seed N;`: the same rule as `--seed N`, a whole number that fits a
    /// u64. A literal is read exactly (an f64 cannot hold u64::MAX).
    fn seed_stmt(&mut self, e: &Expr) -> Result<(), ExecError> {
        let exact = self.src[e.span.clone()].trim().parse::<u64>().ok();
        let v = self.const_scalar(e)?;
        let seed = match exact {
            Some(n) => n,
            None if (0.0..18446744073709551616.0).contains(&v) && v.fract() == 0.0 => v as u64,
            None => {
                return Err(ExecError::BadSeed {
                    value: v,
                    span: e.span.clone(),
                })
            }
        };
        if self.opts.seed.is_none() {
            self.seed = seed;
        }
        self.rng = std::cell::RefCell::new(crate::tensor::random::Rng::new(self.seed));
        Ok(())
    }

    /// An expression on its own: shown in the REPL, a mistake in a script.
    fn bare_expr(&mut self, e: &Expr) -> Result<(), ExecError> {
        if !self.opts.repl {
            return Err(ExecError::UnusedValue {
                span: e.span.clone(),
            });
        }
        let text = self.lower_eval(e)?.0;
        if !self.show(super::Display::Value(&text)) {
            self.say(&text);
        }
        Ok(())
    }

    pub(super) fn check_new_name(&self, name: &str, span: &Span) -> Result<(), NameError> {
        let prev = self
            .params
            .iter()
            .find(|p| p.name == name)
            .map(|p| p.span.clone())
            .or_else(|| self.def_spans.get(name).cloned());
        let (name, span) = (name.to_string(), span.clone());
        if let Some(first) = prev {
            return Err(NameError::Redeclared {
                name,
                span,
                first,
                in_repl: self.opts.repl,
            });
        }
        if crate::builtins::lookup(&name).is_some() || names::constant(&name).is_some() {
            return Err(NameError::BuiltinName { name, span });
        }
        Ok(())
    }

    /// Lowers and evaluates for printing: text and JSON.
    fn lower_eval(&self, e: &Expr) -> Result<(String, Value), LowerError> {
        let mut g = Graph::new();
        let v = Lowerer::new(self, &mut g).lower(e)?;
        Ok(match v {
            LVal::Str(s) => (s.clone(), Value::String(s)),
            LVal::Num(n) | LVal::Table(n, _) => {
                let t = eval_node(self, &g, n, &[], &e.span)?;
                (t.to_string(), report::tensor_json(&t))
            }
            LVal::Mask(n) => {
                let t = eval_node(self, &g, n, &[], &e.span)?;
                (report::mask_text(&t), report::mask_json(&t))
            }
        })
    }

    fn print(&mut self, items: &[Expr], line: usize) -> Result<(), LowerError> {
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
    fn expect_points(&self, e: &Expr) -> Result<u64, ExecError> {
        let v = self.const_scalar(e)?;
        if v < 1.0 || v.fract() != 0.0 || v > 1e9 {
            return Err(ExecError::BadPoints {
                value: v,
                span: e.span.clone(),
            });
        }
        Ok(v as u64)
    }

    /// `expect A == B within TOL`: whether it holds, what it found, and
    /// both sides' values.
    fn expect_within(&self, cond: &Expr, tol_e: &Expr) -> Result<Checked, ExecError> {
        let ExprKind::Binary(crate::syntax::ast::BinOp::Eq, a, b) = &cond.kind else {
            return Err(ExecError::WithinNeedsEq {
                span: cond.span.clone(),
            });
        };
        let av = self.eval(a)?;
        let bv = self.eval(b)?;
        let tol = self.const_scalar(tol_e)?;
        let d = report::max_abs_diff(&av, &bv).ok_or_else(|| ExecError::WithinShapes {
            left: av.shape.clone(),
            right: bv.shape.clone(),
            span: cond.span.clone(),
        })?;
        let ok = d <= tol;
        let detail = format!(
            "{} vs {} (difference {} {} {})",
            av,
            bv,
            fmt_num(d),
            if ok { "<=" } else { ">" },
            fmt_num(tol)
        );
        let values = vec![report::tensor_json(&av), report::tensor_json(&bv)];
        Ok((ok, detail, values))
    }

    /// `expect COND`: whether every element holds, what it found, and (for
    /// a comparison) both sides' values.
    fn expect_condition(&self, cond: &Expr, src_text: &str) -> Result<Checked, ExecError> {
        let mut g = Graph::new();
        let v = Lowerer::new(self, &mut g).lower(cond)?;
        let LVal::Mask(n) = v else {
            return Err(ExecError::NotACondition {
                span: cond.span.clone(),
            });
        };
        let t = eval_node(self, &g, n, &[], &cond.span)?;
        let ok = t.data.iter().all(|&v| v != 0.0);
        Ok(match &cond.kind {
            ExprKind::Binary(op, a, b) if op.is_comparison() => {
                let av = self.eval(a)?;
                let bv = self.eval(b)?;
                let values = vec![report::tensor_json(&av), report::tensor_json(&bv)];
                (ok, format!("{av} {} {bv} is {}", op.symbol(), ok), values)
            }
            _ => (ok, format!("{} is {}", src_text, ok), Vec::new()),
        })
    }

    /// Runs an `expect`: says whether it passed, and a failure is reported
    /// (E0401) without stopping the script.
    fn expect(&mut self, e: &Expectation, st: &Stmt, line: usize) -> Result<(), ExecError> {
        let src_text = self.src[e.cond.span.clone()].to_string();
        let (passed, detail, values) = match e.within {
            Some(tol_e) => self.expect_within(e.cond, tol_e)?,
            None => self.expect_condition(e.cond, &src_text)?,
        };
        let full = match e.within {
            Some(t) => format!("{} within {}", src_text, &self.src[t.span.clone()]),
            None => src_text,
        };
        let text = match e.message {
            Some(m) => format!("{m}: {full}: {detail}"),
            None => format!("{full}: {detail}"),
        };
        // A weighted expect shows what it earned: `expect passed (2/2 points): ...`.
        let weight = match e.points {
            Some(n) => format!(" ({}/{n} points)", if passed { n } else { 0 }),
            None => String::new(),
        };
        if passed {
            self.say(&format!("expect passed{weight}: {text}"));
        } else {
            self.say(&format!("expect FAILED{weight}: {text}"));
            self.failed_expects += 1;
            let d = ExecError::ExpectFailed {
                condition: full.clone(),
                detail,
                message: e.message.map(str::to_string),
                span: st.span.clone(),
            }
            .into_diagnostic();
            self.emit(&d);
            if self.first_failure.is_none() {
                let (l, c) = self.diag_line_col(&d);
                self.first_failure = Some((d.message.clone(), l, c));
            }
        }
        self.records
            .push(json!({"kind": "expect", "line": line, "passed": passed,
            "message": text, "values": values, "points": e.points}));
        Ok(())
    }
}

/// The parts of an `expect` statement.
struct Expectation<'a> {
    cond: &'a Expr,
    within: Option<&'a Expr>,
    message: Option<&'a str>,
    points: Option<u64>,
}

/// Whether an `expect` held, what it found, and the values it compared.
type Checked = (bool, String, Vec<Value>);

/// A `let` whose value is constant is computed once, when it is made (so
/// random values and csv tables are drawn and read once). Copying a
/// constant is checked against the memory budget.
pub fn let_as_data(
    s: &Session,
    g: &Graph,
    v: &LVal,
    e: &Expr,
) -> Result<Option<(Tensor, Option<TableNames>)>, LowerError> {
    let (n, table) = match v {
        LVal::Num(n) => (*n, None),
        LVal::Table(n, t) => (*n, Some(TableNames::clone(t))),
        _ => return Ok(None),
    };
    if g.varying[n as usize] {
        return Ok(None);
    }
    let t = match g.const_value(n) {
        Some(t) => {
            crate::budget::check_f64(t.data.len()).map_err(|r| LowerError::Memory {
                refused: r.with_largest(&t.shape),
                span: e.span.clone(),
                what: "keeping this value".into(),
            })?;
            t.clone()
        }
        None => eval_node(s, g, n, &[], &e.span)?,
    };
    Ok(Some((t, table)))
}

/// A mistake in a statement that this stage runs itself.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ExecError {
    #[error(transparent)]
    Name(#[from] NameError),
    #[error(transparent)]
    Lower(#[from] LowerError),
    #[error(transparent)]
    Param(#[from] ParamError),
    /// `x = 3;` where no parameter `x` exists; `value` is the source of
    /// the right side, for the hint to declare it.
    #[error("unknown parameter `{name}`")]
    AssignUnknown {
        name: String,
        span: Span,
        suggestion: Option<String>,
        value: String,
    },
    #[error("a seed is a whole number from 0 to {}", u64::MAX)]
    BadSeed { value: f64, span: Span },
    #[error("this expression's value is not used")]
    UnusedValue { span: Span },
    #[error("`points` must be a positive whole number")]
    BadPoints { value: f64, span: Span },
    #[error("`within` needs a comparison `A == B`")]
    WithinNeedsEq { span: Span },
    #[error("the two sides of `==` have different shapes")]
    WithinShapes {
        left: Shape,
        right: Shape,
        span: Span,
    },
    #[error("`expect` needs a condition")]
    NotACondition { span: Span },
    /// A failed `expect` (reported, not stopping the script): `condition`
    /// as written, `detail` what was found, the script's own `message`.
    #[error("expect failed: {condition}")]
    ExpectFailed {
        condition: String,
        detail: String,
        message: Option<String>,
        span: Span,
    },
}

impl IntoDiagnostic for ExecError {
    fn into_diagnostic(self) -> Diag {
        use ExecError as X;
        let message = self.to_string();
        let err = |code: Code| Diag::error(code, message.clone());
        match self {
            X::Name(e) => e.into_diagnostic(),
            X::Lower(e) => e.into_diagnostic(),
            X::Param(e) => e.into_diagnostic(),
            X::AssignUnknown {
                name,
                span,
                suggestion,
                value,
            } => {
                let hint = suggestion.is_none();
                let d = NameError::UnknownParam {
                    name: name.clone(),
                    span,
                    suggestion,
                }
                .into_diagnostic();
                if !hint {
                    return d;
                }
                // Python habit: `x = 3` to make a variable.
                d.note(format!(
                    "help: declare it with `param {name} = {value};` (or `let {name} = {value};` for a constant)"
                ))
            }
            X::BadSeed { value, span } => {
                err(Code::E0207).at(span, format!("this is {}", fmt_num(value)))
            }
            X::UnusedValue { span } => err(Code::E0208)
                .at(span, "computed and thrown away")
                .note("help: to see it, write `print ...;`"),
            X::BadPoints { value, span } => err(Code::E0304)
                .at(span, format!("this is {}", fmt_num(value)))
                .note("help: write e.g. `expect x == 3 within 0.01 points 2;`"),
            X::WithinNeedsEq { span } => err(Code::E0206).at(span, "not `A == B`"),
            X::WithinShapes { left, right, span } => err(Code::E0402).at(
                span,
                format!("{} vs {}", shape_str(&left), shape_str(&right)),
            ),
            X::NotACondition { span } => err(Code::E0206)
                .at(span, "not a comparison")
                .note("help: write e.g. `expect x > 0;` or `expect x == 3 within 0.01;`"),
            X::ExpectFailed {
                detail,
                message: note,
                span,
                ..
            } => {
                let d = err(Code::E0401).at(span, detail);
                match note {
                    Some(m) => d.note(m),
                    None => d,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Code;
    use crate::interp::testutil::{first_error, run, run_with};
    use crate::interp::{Options, Outcome};
    use crate::syntax::ast::StmtKind;

    #[test]
    fn print_writes_values_in_order() {
        let r = run("param x = 2; let y = x * 3; print x, y, \"s\";");
        assert_eq!(r.outcome, Outcome::Ok);
        assert_eq!(r.out, "2.0 6.0 s\n");
        assert_eq!(r.err, "");
    }

    #[test]
    fn a_failed_expect_goes_on_and_fails_the_run() {
        let r = run("param x = 1; expect x == 2; print x;");
        assert_eq!(r.outcome, Outcome::ExpectFailed);
        assert!(r.out.ends_with("1.0\n"), "{}", r.out);
        assert!(r.err.contains("error[E0401]"), "{}", r.err);
    }

    #[test]
    fn json_mode_prints_nothing_and_records_print() {
        let opts = Options {
            json: true,
            ..Options::default()
        };
        let r = run_with("print 1 + 1;", opts);
        assert_eq!(r.out, "");
        assert_eq!(r.session.records[0]["kind"], "print");
        assert_eq!(r.session.records[0]["line"], 1);
    }

    #[test]
    fn declarations_and_assignments_are_checked() {
        let d = first_error("param x = 1;\nlet x = 2;");
        assert_eq!(d.code, Code::E0201);
        assert_eq!(
            d.labels.len(),
            2,
            "second label points at the first declaration"
        );
        assert_eq!(first_error("let sin = 1;").code, Code::E0201);
        assert_eq!(first_error("fn f(a, a) = a;").code, Code::E0201);
        let d = first_error("let a = 1; a = 2;");
        assert_eq!(
            (d.code, d.message.as_str()),
            (Code::E0204, "`a` is not a parameter")
        );
        assert_eq!(first_error("y = 2;").message, "unknown parameter `y`");
        assert_eq!(first_error("1 + 1;").code, Code::E0208);
        assert_eq!(first_error("seed -1;").code, Code::E0207);
    }

    /// The error of the last statement of `src` (the others run first)
    /// as this stage types it, and the text of its primary span.
    fn exec_error(src: &str) -> (super::ExecError, String) {
        let program = crate::syntax::parse(src).expect("parses");
        let mut s = crate::interp::testutil::session_for(src);
        let (last, before) = program.stmts.split_last().expect("a statement");
        for st in before {
            s.exec(st).expect("runs");
        }
        let e = match &last.kind {
            StmtKind::Let(n, e) => s.define_let(n, e),
            StmtKind::Assign(n, e) => s.assign(n, e),
            StmtKind::Seed(e) => s.seed_stmt(e),
            StmtKind::Expr(e) => s.bare_expr(e),
            StmtKind::Expect {
                cond,
                within,
                points,
                ..
            } => match points {
                Some(p) => s.expect_points(p).map(|_| ()),
                None => {
                    let e = super::Expectation {
                        cond,
                        within: within.as_ref(),
                        message: None,
                        points: None,
                    };
                    s.expect(&e, last, 1)
                }
            },
            _ => panic!("not a statement of this stage"),
        }
        .expect_err("an error");
        let d = crate::diagnostics::IntoDiagnostic::into_diagnostic(e.clone());
        (e, src[d.labels[0].0.clone()].to_string())
    }

    #[test]
    fn statement_mistakes_are_typed_with_their_span() {
        use super::ExecError as X;
        let (e, at) = exec_error("y = 2;");
        assert!(matches!(&e, X::AssignUnknown { suggestion: None, value, .. } if value == "2"));
        assert_eq!(at, "y");
        let (e, _) = exec_error("param yy = 1; y = 2;");
        assert!(matches!(&e, X::AssignUnknown { suggestion: Some(s), .. } if s == "yy"));
        let (e, at) = exec_error("seed 1.5;");
        assert!(matches!(e, X::BadSeed { value: 1.5, .. }), "{e:?}");
        assert_eq!(at, "1.5");
        let (e, at) = exec_error("1 + 1;");
        assert!(matches!(e, X::UnusedValue { .. }), "{e:?}");
        assert_eq!(at, "1 + 1");
        let (e, at) = exec_error("let a = [1, 2] + [1, 2, 3];");
        assert!(matches!(e, X::Lower(_)), "{e:?}");
        assert_eq!(at, "+");
    }

    #[test]
    fn expect_mistakes_are_typed_with_their_span() {
        use super::ExecError as X;
        let (e, at) = exec_error("expect 1 < 2 points 0;");
        assert!(matches!(e, X::BadPoints { value: 0.0, .. }), "{e:?}");
        assert_eq!(at, "0");
        let (e, at) = exec_error("expect 1 < 2 within 0.1;");
        assert!(matches!(e, X::WithinNeedsEq { .. }), "{e:?}");
        assert_eq!(at, "1 < 2");
        let (e, _) = exec_error("expect [1, 2] == [1, 2, 3] within 0.1;");
        assert!(matches!(&e, X::WithinShapes { left, right, .. } if left == &[2] && right == &[3]));
        let (e, at) = exec_error("expect 1 + 1;");
        assert!(matches!(e, X::NotACondition { .. }), "{e:?}");
        assert_eq!(at, "1 + 1");
    }

    #[test]
    fn a_failed_expect_is_worded_with_its_message() {
        let d =
            crate::diagnostics::IntoDiagnostic::into_diagnostic(super::ExecError::ExpectFailed {
                condition: "x > 1".into(),
                detail: "1.0 > 1.0 is false".into(),
                message: Some("x grows".into()),
                span: 0..4,
            });
        assert_eq!(
            (d.code, d.message.as_str()),
            (Code::E0401, "expect failed: x > 1")
        );
        assert_eq!(d.labels[0].1, "1.0 > 1.0 is false");
        assert_eq!(d.notes, ["x grows"]);
    }

    /// Each statement's line comes from a line index, not a scan of the
    /// source from its start (which made 40k statements take 10 s and 50k
    /// 14 s). Four times the statements must take about four times as
    /// long, not sixteen: each size is the best of three runs, so that a
    /// busy machine slows both alike instead of failing a fixed bound.
    #[test]
    fn many_statements_run_in_linear_time() {
        let script = |n: usize| {
            format!(
                "{}param x = 0;\n{}print x;",
                "print 1, 2, 3;\n".repeat(n),
                "x = x + 1;\n".repeat(n)
            )
        };
        let best_of_three = |n: usize| {
            let src = script(n);
            (0..3)
                .map(|_| {
                    let t = std::time::Instant::now();
                    let r = run(&src);
                    let took = t.elapsed().as_secs_f64();
                    assert_eq!(r.out.lines().count(), n + 1);
                    assert!(r.out.ends_with(&format!("{n}.0\n")));
                    took
                })
                .fold(f64::INFINITY, f64::min)
        };
        let small = best_of_three(5_000);
        let large = best_of_three(20_000);
        // linear: about 4x; a scan per statement: about 16x
        assert!(
            large < 8.0 * small.max(1e-3),
            "20k statements {large:.3} s, 5k {small:.3} s"
        );
    }
}
