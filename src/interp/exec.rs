//! Statement dispatch: each statement of a program runs here against the
//! session. Definitions (`let`, `fn`), assignment, `seed`, `print` and
//! `expect` are handled in place; parameters, minimizations and plots are
//! handed to their stages (`params`, `run`, `plots`).

use super::names::NameError;
use super::{eval_node, names, plots, report, run, Def, LVal, Lowerer, Session, TableNames};
use crate::diagnostics::{Diag, Span};
use crate::graph::Graph;
use crate::syntax::ast::{Expr, ExprKind, Stmt, StmtKind};
use crate::tensor::{fmt_num, Tensor};
use serde_json::{json, Value};

impl Session {
    pub(super) fn exec(&mut self, st: &Stmt) -> Result<(), Diag> {
        let line = self.line(&st.span);
        match &st.kind {
            StmtKind::Param(d) => Ok(self.declare_param(d)?),
            StmtKind::Let(n, e) => {
                self.check_new_name(&n.name, &n.span)?;
                names::resolve(e, self, &[], None)?;
                // Lower once now so shape errors point at the definition.
                let mut g = Graph::new();
                let v = Lowerer::new(self, &mut g).lower(e)?;
                // Random values and csv tables are made once, here.
                if let Some((t, table)) = let_as_data(self, &g, &v, e)? {
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
                        return Err(NameError::RepeatedArgument {
                            name: a.name.clone(),
                            span: a.span.clone(),
                        }
                        .into());
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
                        return Err(NameError::AssignNotParam {
                            name: n.name.clone(),
                            span: n.span.clone(),
                        }
                        .into());
                    }
                    let mut d = names::unknown_name(&n.name, n.span.clone(), self, "parameter");
                    if d.notes.is_empty() {
                        // Python habit: `x = 3` to make a variable.
                        let value = self.src[e.span.clone()].to_string();
                        d = d.note(format!(
                            "help: declare it with `param {} = {value};` (or `let {} = {value};` for a constant)",
                            n.name, n.name
                        ));
                    }
                    return Err(d);
                };
                let v = self.eval(e)?;
                Ok(self.set_param_value(i, v, &e.span)?)
            }
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
                // The same rule as `--seed N`: a whole number that fits a
                // u64. A literal is read exactly (an f64 cannot hold u64::MAX).
                let exact = self.src[e.span.clone()].trim().parse::<u64>().ok();
                let v = self.const_scalar(e)?;
                let seed = match exact {
                    Some(n) => n,
                    None if (0.0..18446744073709551616.0).contains(&v) && v.fract() == 0.0 => {
                        v as u64
                    }
                    None => {
                        return Err(Diag::error(
                            "E0207",
                            format!("a seed is a whole number from 0 to {}", u64::MAX),
                        )
                        .at(e.span.clone(), format!("this is {}", fmt_num(v))))
                    }
                };
                if self.opts.seed.is_none() {
                    self.seed = seed;
                }
                self.rng = std::cell::RefCell::new(crate::tensor::random::Rng::new(self.seed));
                Ok(())
            }
            StmtKind::Plot(kind, file) => plots::run(self, kind, file.as_ref(), st),
            StmtKind::Expr(e) => {
                if self.opts.repl {
                    let v = self.lower_eval(e)?;
                    let text = v.0;
                    if !self.show(super::Display::Value(&text)) {
                        self.say(&text);
                    }
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
    fn lower_eval(&self, e: &Expr) -> Result<(String, Value), Diag> {
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
                let t = eval_node(self, &g, n, &[], &cond.span)?;
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
                let (l, c) = self.diag_line_col(&d);
                self.first_failure = Some((format!("expect failed: {full}"), l, c));
            }
        }
        self.records
            .push(json!({"kind": "expect", "line": line, "passed": passed,
            "message": text, "values": values, "points": points}));
        Ok(())
    }
}

/// A `let` whose value is constant is computed once, when it is made (so
/// random values and csv tables are drawn and read once). Copying a
/// constant is checked against the memory budget.
pub fn let_as_data(
    s: &Session,
    g: &Graph,
    v: &LVal,
    e: &Expr,
) -> Result<Option<(Tensor, Option<TableNames>)>, Diag> {
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
            crate::budget::check_f64(t.data.len()).map_err(|r| {
                r.with_largest(&t.shape)
                    .diag(e.span.clone(), "keeping this value")
            })?;
            t.clone()
        }
        None => eval_node(s, g, n, &[], &e.span)?,
    };
    Ok(Some((t, table)))
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Code;
    use crate::interp::testutil::{first_error, run, run_with};
    use crate::interp::{Options, Outcome};

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

    /// Each statement's line comes from a line index, not a scan of the
    /// source from its start (which made these take 10 s and 14 s).
    #[test]
    fn many_statements_run_in_linear_time() {
        let t = std::time::Instant::now();
        let r = run(&"print 1, 2, 3;\n".repeat(40_000));
        assert_eq!(r.out.lines().count(), 40_000);
        let src = format!("param x = 0;\n{}print x;", "x = x + 1;\n".repeat(50_000));
        assert!(run(&src).out.ends_with("50000.0\n"));
        let took = t.elapsed().as_secs_f64();
        assert!(took < 8.0, "took {took:.1} s");
    }
}
