//! Lowering: an expression of the syntax tree becomes nodes of the graph.
//! Parameters become `Param` nodes (slot = declaration index), `let` names
//! are lowered where they are used (once per graph, thanks to a cache and
//! hash-consing), functions are inlined with their arguments bound, and
//! `grad(E, x)` differentiates E's nodes symbolically. The session's
//! `eval`, `const_value` and `const_scalar` lower and evaluate in one go.
//!
//! `tensor` lowers arrays, indexing, `@` and reductions; `builtins` the
//! built-in functions beyond the elementwise ones; `names` checks names
//! before anything is lowered.

mod builtins;
mod error;
mod functional;
mod losses;
mod name_error;
pub mod names;
pub(super) mod tensor;

use super::{Def, Session};
use crate::builtins::Kind;
use crate::diagnostics::Span;
use crate::graph::ops::Cmp;
use crate::graph::{autodiff, Graph, NodeId, Op};
use crate::syntax::ast::{BinOp, Expr, ExprKind, UnOp};
use crate::tensor::Tensor;
pub use error::LowerError;
pub(crate) use error::{shape_mismatch, too_big};
use names::{Callee, NameError};
use std::collections::HashMap;
use std::rc::Rc;

/// A lowered value.
#[derive(Clone, Debug)]
pub enum LVal {
    /// A numeric node.
    Num(NodeId),
    /// A boolean mask node (comparisons, and/or/not).
    Mask(NodeId),
    /// A string (print, plot files, csv paths).
    Str(String),
    /// A csv table: the node of its values (a constant, or a batch of its
    /// rows as a graph input) and its file and column names, which only
    /// the interpreter needs (`d.x`), so the graph does not carry them.
    Table(NodeId, Rc<TableNames>),
}

/// A table's file and column names.
pub type TableNames = (String, Vec<String>);

/// An `LVal` as a hash key (for the cache of inlined calls).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum LKey {
    Num(NodeId),
    Mask(NodeId),
    Str(String),
}

impl LKey {
    fn of(v: &LVal) -> LKey {
        match v {
            LVal::Num(n) | LVal::Table(n, _) => LKey::Num(*n),
            LVal::Mask(n) => LKey::Mask(*n),
            LVal::Str(s) => LKey::Str(s.clone()),
        }
    }
}

/// Lowers expressions of one session into one graph.
pub struct Lowerer<'a> {
    pub s: &'a Session,
    pub g: &'a mut Graph,
    /// Bound names, innermost last: function arguments and plot variables.
    locals: Vec<(String, LVal)>,
    let_cache: HashMap<String, LVal>,
    /// Inlined function calls by function and argument values.
    fn_cache: HashMap<(String, Vec<LKey>), LVal>,
    /// Extra variable slots (plot variables) beyond the parameters.
    pub extra_slots: u32,
    /// Parameter slots given another shape (a contour's grid of x values).
    pub shape_override: HashMap<u32, crate::tensor::Shape>,
    /// Data names that mean a graph input here (a minibatch's rows), also
    /// inside `let` bodies and functions.
    pub data_inputs: HashMap<String, LVal>,
}

impl<'a> Lowerer<'a> {
    pub fn new(s: &'a Session, g: &'a mut Graph) -> Self {
        Lowerer {
            s,
            g,
            locals: Vec::new(),
            let_cache: HashMap::new(),
            fn_cache: HashMap::new(),
            extra_slots: 0,
            shape_override: HashMap::new(),
            data_inputs: HashMap::new(),
        }
    }

    /// Binds a fresh scalar variable (a plot's `t`) to a new slot after the
    /// parameters; returns its slot.
    pub fn bind_var(&mut self, name: &str) -> u32 {
        self.bind_var_shaped(name, Vec::new())
    }

    /// Makes data name `name` a graph input of `shape` (a batch of its
    /// rows) wherever it is used; a csv table keeps its columns. Returns
    /// the input slot (numbered from 0, apart from the parameters).
    pub fn bind_data(&mut self, name: &str, shape: crate::tensor::Shape) -> u32 {
        let slot = self.data_inputs.len() as u32;
        let n = self.g.input(slot, shape);
        let v = match self.s.tables.get(name) {
            Some(table) => LVal::Table(n, Rc::new(table.clone())),
            None => LVal::Num(n),
        };
        self.data_inputs.insert(name.to_string(), v);
        slot
    }

    /// Binds a fresh variable of the given shape; returns its slot.
    pub fn bind_var_shaped(&mut self, name: &str, shape: crate::tensor::Shape) -> u32 {
        let slot = self.s.params.len() as u32 + self.extra_slots;
        self.extra_slots += 1;
        let n = self.g.param(slot, shape);
        self.locals.push((name.to_string(), LVal::Num(n)));
        slot
    }

    fn node(&mut self, op: Op, args: &[NodeId], span: &Span) -> Result<NodeId, LowerError> {
        self.g.node(op, args).map_err(|e| shape_mismatch(e, span))
    }

    /// Lowers `e` to a numeric node.
    pub fn num(&mut self, e: &Expr) -> Result<NodeId, LowerError> {
        match self.lower(e)? {
            LVal::Num(n) | LVal::Table(n, _) => Ok(n),
            LVal::Mask(_) => Err(LowerError::MaskAsNumber {
                span: e.span.clone(),
            }),
            LVal::Str(_) => Err(LowerError::StringAsNumber {
                span: e.span.clone(),
            }),
        }
    }

    fn mask(&mut self, e: &Expr) -> Result<NodeId, LowerError> {
        match self.lower(e)? {
            LVal::Mask(n) => Ok(n),
            _ => Err(LowerError::NotAMask {
                span: e.span.clone(),
            }),
        }
    }

    pub fn lower(&mut self, e: &Expr) -> Result<LVal, LowerError> {
        match &e.kind {
            ExprKind::Num(v) => Ok(LVal::Num(self.g.scalar(*v))),
            ExprKind::Bool(b) => {
                let n = self.g.scalar(if *b { 1.0 } else { 0.0 });
                Ok(LVal::Mask(n))
            }
            ExprKind::Str(s) => Ok(LVal::Str(s.clone())),
            ExprKind::Name(n) => self.name(n, &e.span),
            ExprKind::Unary(op, a) => match op {
                UnOp::Neg => {
                    let x = self.num(a)?;
                    Ok(LVal::Num(self.node(Op::Neg, &[x], &e.span)?))
                }
                UnOp::Plus => Ok(LVal::Num(self.num(a)?)),
                UnOp::Not => {
                    let m = self.mask(a)?;
                    Ok(LVal::Mask(self.node(Op::Not, &[m], &e.span)?))
                }
            },
            ExprKind::Binary(op, a, b) => self.binary(*op, a, b, &e.span),
            ExprKind::Call(f, args) => self.call(&f.name, &f.span, args, e),
            ExprKind::Tuple(_) => Err(LowerError::TupleValue {
                span: e.span.clone(),
            }),
            ExprKind::Array(_) | ExprKind::Index(..) | ExprKind::Field(..) => {
                tensor::lower_tensor_expr(self, e)
            }
        }
    }

    fn name(&mut self, n: &str, span: &Span) -> Result<LVal, LowerError> {
        if let Some((_, v)) = self.locals.iter().rev().find(|(l, _)| l == n) {
            return Ok(v.clone());
        }
        if let Some(d) = self.data_inputs.get(n) {
            return Ok(d.clone());
        }
        if let Some(i) = self.s.param_index(n) {
            let shape = match self.shape_override.get(&(i as u32)) {
                Some(sh) => sh.clone(),
                None => self.s.params[i].value.shape.clone(),
            };
            return Ok(LVal::Num(self.g.param(i as u32, shape)));
        }
        if let Some(v) = self.let_cache.get(n) {
            return Ok(v.clone());
        }
        if let Some(Def::Let(body)) = self.s.defs.get(n) {
            // A let is lowered in the global scope, whatever the locals here.
            let saved = std::mem::take(&mut self.locals);
            let r = self.lower(body);
            self.locals = saved;
            let v = r?;
            self.let_cache.insert(n.to_string(), v.clone());
            return Ok(v);
        }
        if let Some(Def::Data(t)) = self.s.defs.get(n) {
            let c = self.g.constant(t.clone());
            return Ok(match self.s.tables.get(n) {
                Some(table) => LVal::Table(c, Rc::new(table.clone())),
                None => LVal::Num(c),
            });
        }
        if let Some(v) = names::constant(n) {
            return Ok(LVal::Num(self.g.scalar(v)));
        }
        Err(names::unknown_value(n, span, self.s).into())
    }

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: &Span) -> Result<LVal, LowerError> {
        let gop = match op {
            BinOp::Add => Op::Add,
            BinOp::Sub => Op::Sub,
            BinOp::Mul => Op::Mul,
            BinOp::Div => Op::Div,
            BinOp::Pow => Op::Pow,
            BinOp::MatMul => return tensor::matmul(self, a, b, span),
            BinOp::And | BinOp::Or => {
                let x = self.mask(a)?;
                let y = self.mask(b)?;
                let o = if op == BinOp::And { Op::And } else { Op::Or };
                return Ok(LVal::Mask(self.node(o, &[x, y], span)?));
            }
            cmp => {
                let c = match cmp {
                    BinOp::Lt => Cmp::Lt,
                    BinOp::Le => Cmp::Le,
                    BinOp::Gt => Cmp::Gt,
                    BinOp::Ge => Cmp::Ge,
                    BinOp::Eq => Cmp::Eq,
                    _ => Cmp::Ne,
                };
                let x = self.num(a)?;
                let y = self.num(b)?;
                return Ok(LVal::Mask(self.node(Op::Cmp(c), &[x, y], span)?));
            }
        };
        let x = self.num(a)?;
        let y = self.num(b)?;
        match self.g.node(gop, &[x, y]) {
            Ok(n) => Ok(LVal::Num(n)),
            Err(e) => Err(LowerError::ShapeMismatch {
                msg: e.0,
                span: self.op_span(a, b, span),
                op: Some(op.symbol()),
                operands: vec![
                    (a.span.clone(), self.g.shape(x).to_vec()),
                    (b.span.clone(), self.g.shape(y).to_vec()),
                ],
            }),
        }
    }

    /// The span of the operator between two operands (the first word of the
    /// source between them), or the whole expression if it cannot be found.
    fn op_span(&self, a: &Expr, b: &Expr, whole: &Span) -> Span {
        if let Some(gap) = self.s.src.get(a.span.end..b.span.start) {
            let trimmed = gap.trim_start();
            let start = a.span.end + (gap.len() - trimmed.len());
            if let Some(tok) = trimmed.split_whitespace().next() {
                return start..start + tok.len();
            }
        }
        whole.clone()
    }

    /// A call of user function `name` (already checked), inlined.
    fn inline_fn(
        &mut self,
        name: &str,
        fspan: &Span,
        args: &[crate::syntax::ast::Arg],
    ) -> Result<LVal, LowerError> {
        let Some(Def::Fn(params, body)) = self.s.defs.get(name) else {
            return Err(names::unknown_value(name, fspan, self.s).into());
        };
        let mut bound = Vec::with_capacity(args.len());
        for a in args {
            bound.push(self.lower(&a.value)?);
        }
        // The body sees only its arguments and the globals, so a call
        // with the same argument nodes gives the same nodes: inline it
        // once (nested calls would otherwise take exponential time).
        let key = (name.to_string(), bound.iter().map(LKey::of).collect());
        if let Some(v) = self.fn_cache.get(&key) {
            return Ok(v.clone());
        }
        let bound = params.iter().cloned().zip(bound).collect();
        let saved = std::mem::replace(&mut self.locals, bound);
        let r = self.lower(body);
        self.locals = saved;
        let v = r?;
        self.fn_cache.insert(key, v.clone());
        Ok(v)
    }

    fn call(
        &mut self,
        name: &str,
        fspan: &Span,
        args: &[crate::syntax::ast::Arg],
        whole: &Expr,
    ) -> Result<LVal, LowerError> {
        let span = &whole.span;
        let f = crate::syntax::ast::Ident {
            name: name.to_string(),
            span: fspan.clone(),
        };
        let (b, call) = match names::check_call(self.s, &f, args, span)? {
            Callee::Builtin(b, call) => (b, call),
            Callee::User => return self.inline_fn(name, fspan, args),
        };
        let pos = &call.pos;
        match b.kind {
            Kind::Unary(f) => {
                let x = self.num(pos[0])?;
                if f == crate::graph::UnFn::Erfinv && self.g.varying[x as usize] {
                    // torch's erfinv gives nan outside [-1, 1]; only a
                    // minimization starting there is refused
                    self.check_range(x, pos[0], -1.0, 1.0, "erfinv's argument")?;
                }
                Ok(LVal::Num(self.node(Op::Un(f), &[x], span)?))
            }
            Kind::Elementwise(op) => {
                let mut xs = Vec::with_capacity(pos.len());
                for e in pos {
                    xs.push(self.num(e)?);
                }
                Ok(LVal::Num(self.node(op, &xs, span)?))
            }
            Kind::Where => {
                let c = self.mask(pos[0])?;
                let a = self.num(pos[1])?;
                let b = self.num(pos[2])?;
                Ok(LVal::Num(self.node(Op::Where, &[c, a, b], span)?))
            }
            Kind::MinMax(op) if pos.len() == 2 => {
                if let Some(ax) = call.opt("axis") {
                    return Err(LowerError::MinMaxAxis {
                        name: name.to_string(),
                        span: ax.span.clone(),
                    });
                }
                let x = self.num(pos[0])?;
                let y = self.num(pos[1])?;
                Ok(LVal::Num(self.node(op, &[x, y], span)?))
            }
            Kind::MinMax(_) | Kind::Reduction => {
                let x = self.num(pos[0])?;
                let r = tensor::reduction(self, name, x, call.opt("axis"), span)?;
                Ok(LVal::Num(r))
            }
            Kind::Grad => self.grad(pos[0], pos[1]),
            Kind::Tensor => builtins::lower_builtin(self, name, &call, whole),
            Kind::Activation => functional::activation(self, name, &call, span),
            Kind::AlongAxis => functional::along_axis(self, name, &call, span),
            Kind::Loss => losses::loss(self, name, &call, span),
        }
    }

    /// Every element of `n` (lowered from `e`) must lie in [lo, hi]: checked
    /// now if it is constant, else when a minimization starts.
    pub(super) fn check_range(
        &mut self,
        n: NodeId,
        e: &Expr,
        lo: f64,
        hi: f64,
        what: &str,
    ) -> Result<(), LowerError> {
        let c = crate::graph::Check {
            node: n,
            lo,
            hi,
            span: e.span.clone(),
            what: what.to_string(),
        };
        if self.g.varying[n as usize] {
            self.g.checks.push(c);
            return Ok(());
        }
        let t = eval_node(self.s, self.g, n, &[], &e.span)?;
        out_of_range(&c, &t, false)
    }

    fn grad(&mut self, f: &Expr, wrt: &Expr) -> Result<LVal, LowerError> {
        let ExprKind::Name(n) = &wrt.kind else {
            return Err(names::grad_not_name(&wrt.span).into());
        };
        let target = match self.name(n, &wrt.span)? {
            LVal::Num(node) if matches!(self.g.op(node), Op::Param(_)) => node,
            _ => {
                return Err(NameError::GradNotParam {
                    name: n.clone(),
                    span: wrt.span.clone(),
                }
                .into())
            }
        };
        let out = self.num(f)?;
        if !self.g.shape(out).is_empty() {
            return Err(LowerError::GradNotScalar {
                shape: self.g.shape(out).to_vec(),
                span: f.span.clone(),
            });
        }
        Ok(LVal::Num(autodiff::grad(self.g, out, &[target])[0]))
    }
}

/// The error for a value of `t` outside the check's range, if any;
/// `at_start` when the check is made as a minimization starts.
pub fn out_of_range(c: &crate::graph::Check, t: &Tensor, at_start: bool) -> Result<(), LowerError> {
    match t.data.iter().find(|v| !(**v >= c.lo && **v <= c.hi)) {
        None => Ok(()),
        Some(&value) => Err(LowerError::OutOfRange {
            what: c.what.clone(),
            lo: c.lo,
            hi: c.hi,
            value,
            span: c.span.clone(),
            at_start,
        }),
    }
}

/// Checks every range recorded while `g` was lowered, at the session's
/// current parameter values (the start of a minimization).
pub fn check_ranges(s: &Session, g: &Graph) -> Result<(), LowerError> {
    for c in &g.checks {
        let t = eval_node(s, g, c.node, &[], &c.span)?;
        out_of_range(c, &t, true)?;
    }
    Ok(())
}

/// The most elements a constant may have for `eval_node` to return it
/// without compiling a tape.
const SMALL_CONST: usize = 4096;

/// Evaluates a lowered node once at the session's current parameter values;
/// a tape too big for the memory budget is E0409 at `span`.
pub fn eval_node(
    s: &Session,
    g: &Graph,
    n: NodeId,
    extra: &[(u32, f64)],
    span: &Span,
) -> Result<Tensor, LowerError> {
    // A small constant (`x = 0;`, a folded `2 * 3`) is its value: no tape
    // to compile. Large ones still go through the tape's memory check.
    if let Some(t) = g.const_value(n).filter(|t| t.data.len() <= SMALL_CONST) {
        return Ok(t.clone());
    }
    let mut tape = crate::graph::Tape::try_new(g, &[n]).map_err(|refused| LowerError::Memory {
        refused,
        span: span.clone(),
        what: "evaluating this".into(),
    })?;
    for (i, p) in s.params.iter().enumerate() {
        tape.set_param(i as u32, &p.value.data);
    }
    for &(slot, v) in extra {
        tape.set_param(slot, &[v]);
    }
    tape.forward();
    Ok(Tensor {
        shape: tape.output_shape(0).to_vec(),
        data: tape.output(0).to_vec(),
    })
}

impl Session {
    /// Evaluates an expression at the current parameter values.
    pub fn eval(&self, e: &Expr) -> Result<Tensor, LowerError> {
        // A number (`x = 0;`) needs no graph.
        if let ExprKind::Num(v) = e.kind {
            return Ok(Tensor::scalar(v));
        }
        let mut g = Graph::new();
        let n = Lowerer::new(self, &mut g).num(e)?;
        eval_node(self, &g, n, &[], &e.span)
    }

    /// Evaluates an expression that must not depend on any parameter.
    pub fn const_value(&self, e: &Expr, what: &str) -> Result<Tensor, LowerError> {
        if let ExprKind::Num(v) = e.kind {
            return Ok(Tensor::scalar(v));
        }
        let mut g = Graph::new();
        let n = Lowerer::new(self, &mut g).num(e)?;
        if g.varying[n as usize] {
            return Err(LowerError::NotConstant {
                what: what.to_string(),
                span: e.span.clone(),
            });
        }
        eval_node(self, &g, n, &[], &e.span)
    }

    pub fn const_scalar(&self, e: &Expr) -> Result<f64, LowerError> {
        let t = self.const_value(e, "this value")?;
        t.item()
            .filter(|_| t.is_scalar())
            .ok_or_else(|| LowerError::ExpectedNumber {
                span: e.span.clone(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::{LVal, LowerError, Lowerer};
    use crate::graph::{Graph, Op};
    use crate::interp::testutil::{lower_error, run};

    /// Lowers `expr` in a session that has run `decls`.
    fn lower(decls: &str, expr: &str) -> (Graph, Result<LVal, LowerError>) {
        let r = run(decls);
        let e = crate::syntax::parse_expr(expr).expect("parses");
        let mut g = Graph::new();
        let v = Lowerer::new(&r.session, &mut g).lower(&e);
        (g, v)
    }

    #[test]
    fn a_repeated_subexpression_is_one_node() {
        let (g, v) = lower("param x = 1; param y = 2;", "(x * y) + sin(x * y)");
        assert!(matches!(v, Ok(LVal::Num(_))));
        let muls = g.nodes.iter().filter(|n| n.op == Op::Mul).count();
        assert_eq!(muls, 1);
    }

    #[test]
    fn parameters_are_slots_and_constants_fold() {
        let (g, v) = lower("param x = 1;", "x + 2 * 3");
        let Ok(LVal::Num(n)) = v else { panic!() };
        assert!(g.varying[n as usize]);
        assert_eq!(g.params_reached(n, 1), vec![0]);
        let (g, v) = lower("", "2 * 3 + 1");
        let Ok(LVal::Num(n)) = v else { panic!() };
        assert_eq!(g.const_scalar(n), Some(7.0));
    }

    #[test]
    fn masks_and_strings_are_their_own_values() {
        assert!(matches!(
            lower("param x = 1;", "x > 0").1,
            Ok(LVal::Mask(_))
        ));
        assert!(matches!(lower("", "\"a\"").1, Ok(LVal::Str(_))));
        let e = lower("param x = 1;", "(x > 0) + 1")
            .1
            .expect_err("an error");
        assert!(matches!(e, LowerError::MaskAsNumber { .. }), "{e:?}");
    }

    #[test]
    fn values_of_the_wrong_kind_point_at_themselves() {
        let (e, at) = lower_error("", "1 + \"a\"");
        assert!(matches!(e, LowerError::StringAsNumber { .. }), "{e:?}");
        assert_eq!(at, "\"a\"");
        let (e, at) = lower_error("", "where(1, 2, 3)");
        assert!(matches!(e, LowerError::NotAMask { .. }), "{e:?}");
        assert_eq!(at, "1");
        let (e, at) = lower_error("", "(1, 2)");
        assert!(matches!(e, LowerError::TupleValue { .. }), "{e:?}");
        assert_eq!(at, "(1, 2)");
    }

    #[test]
    fn a_binary_shape_mismatch_labels_the_operator_and_operands() {
        let (e, at) = lower_error("", "[1, 2] + [1, 2, 3]");
        let LowerError::ShapeMismatch { op, operands, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!((*op, at.as_str()), (Some("+"), "+"));
        assert_eq!(
            operands.iter().map(|(_, s)| s.clone()).collect::<Vec<_>>(),
            [vec![2], vec![3]]
        );
        let d = crate::diagnostics::IntoDiagnostic::into_diagnostic(e);
        assert_eq!(d.labels[0].1, "in this `+`");
        assert_eq!(d.labels[2].1, "shape [3]");
    }

    #[test]
    fn call_mistakes_are_typed() {
        let (e, at) = lower_error("", "min(1, 2, axis=0)");
        assert!(
            matches!(&e, LowerError::MinMaxAxis { name, .. } if name == "min"),
            "{e:?}"
        );
        assert_eq!(at, "0");
        let (e, at) = lower_error("param w[2] = 1;", "grad(w, w)");
        assert!(
            matches!(&e, LowerError::GradNotScalar { shape, .. } if shape == &[2]),
            "{e:?}"
        );
        assert_eq!(at, "w");
        let (e, at) = lower_error("", "binary_cross_entropy([0.5, 2], [1, 0])");
        let LowerError::OutOfRange {
            value, at_start, ..
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!((value, at_start, at.as_str()), (2.0, false, "[0.5, 2]"));
    }

    #[test]
    fn constants_evaluate_to_their_values_with_or_without_a_tape() {
        let r = run("param x = 2;");
        let eval = |src: &str| {
            let e = crate::syntax::parse_expr(src).expect("parses");
            r.session.eval(&e).expect("evaluates")
        };
        // a number, small constants (returned as they are), a varying value
        assert_eq!(eval("2.5").data, vec![2.5]);
        assert!(eval("2.5").shape.is_empty());
        assert_eq!(eval("-0").data[0].to_bits(), (-0.0f64).to_bits());
        let t = eval("[1, 2] * 3");
        assert_eq!((t.shape, t.data), (vec![2], vec![3.0, 6.0]));
        assert_eq!(eval("x * 3").data, vec![6.0]);
        // a constant above the limit goes through the tape
        let t = eval("ones([5000]) * 2");
        assert_eq!(t.shape, vec![super::SMALL_CONST + 904]);
        assert!(t.data.iter().all(|&v| v == 2.0));
    }

    #[test]
    fn a_range_checked_when_a_minimization_starts_says_so() {
        let d = crate::interp::testutil::first_error(
            "param p = 2; minimize binary_cross_entropy(p, 1) with sgd(lr=0.1) for 1 steps;",
        );
        assert_eq!(d.code, crate::diagnostics::Code::E0402);
        assert!(
            d.notes[0].contains("start the minimization"),
            "{:?}",
            d.notes
        );
    }
}
