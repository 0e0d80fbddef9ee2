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
mod functional;
mod losses;
mod name_error;
pub mod names;
pub(super) mod tensor;

use super::{Def, Session};
use crate::builtins::Kind;
use crate::diagnostics::{Diag, Span};
use crate::graph::ops::Cmp;
use crate::graph::{autodiff, Graph, NodeId, Op};
use crate::syntax::ast::{BinOp, Expr, ExprKind, UnOp};
use crate::tensor::Tensor;
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

fn mask_as_number(span: Span) -> Diag {
    Diag::error("E0206", "a comparison gives a mask, not a number")
        .at(span, "this is a mask")
        .note("help: use `where(cond, a, b)` to turn a mask into numbers")
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

    fn node(&mut self, op: Op, args: &[NodeId], span: &Span) -> Result<NodeId, Diag> {
        self.g.node(op, args).map_err(|e| {
            Diag::error("E0402", format!("shape mismatch: {}", e.0))
                .at(span.clone(), "in this operation")
        })
    }

    /// Lowers `e` to a numeric node.
    pub fn num(&mut self, e: &Expr) -> Result<NodeId, Diag> {
        match self.lower(e)? {
            LVal::Num(n) | LVal::Table(n, _) => Ok(n),
            LVal::Mask(_) => Err(mask_as_number(e.span.clone())),
            LVal::Str(_) => {
                Err(Diag::error("E0206", "a string is not a number").at(e.span.clone(), "string"))
            }
        }
    }

    fn mask(&mut self, e: &Expr) -> Result<NodeId, Diag> {
        match self.lower(e)? {
            LVal::Mask(n) => Ok(n),
            _ => Err(Diag::error("E0206", "expected a condition (a mask)")
                .at(e.span.clone(), "not a comparison")
                .note("help: compare with `<`, `<=`, `>`, `>=`, `==` or `!=`")),
        }
    }

    pub fn lower(&mut self, e: &Expr) -> Result<LVal, Diag> {
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
            ExprKind::Tuple(_) => Err(Diag::error("E0206", "a tuple is not a value")
                .at(e.span.clone(), "tuple")
                .note("help: tuples such as (0.9, 0.999) are only for optimizer options")),
            ExprKind::Array(_) | ExprKind::Index(..) | ExprKind::Field(..) => {
                tensor::lower_tensor_expr(self, e)
            }
        }
    }

    fn name(&mut self, n: &str, span: &Span) -> Result<LVal, Diag> {
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

    fn binary(&mut self, op: BinOp, a: &Expr, b: &Expr, span: &Span) -> Result<LVal, Diag> {
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
            Err(e) => {
                let sh = |g: &Graph, n| crate::tensor::shape_str(g.shape(n));
                Err(Diag::error("E0402", format!("shape mismatch: {}", e.0))
                    .at(
                        self.op_span(a, b, span),
                        format!("in this `{}`", op.symbol()),
                    )
                    .at(a.span.clone(), format!("shape {}", sh(self.g, x)))
                    .at(b.span.clone(), format!("shape {}", sh(self.g, y))))
            }
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
    ) -> Result<LVal, Diag> {
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
    ) -> Result<LVal, Diag> {
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
                    return Err(Diag::error(
                        "E0203",
                        format!("`{name}` of two values takes no axis"),
                    )
                    .at(ax.span.clone(), "axis given here")
                    .note(format!(
                        "help: `{name}(x, axis=K)` reduces one value along an axis"
                    )));
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
    ) -> Result<(), Diag> {
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
        let t = eval_node(self.s, self.g, n, &[]);
        out_of_range(&c, &t)
    }

    fn grad(&mut self, f: &Expr, wrt: &Expr) -> Result<LVal, Diag> {
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
            return Err(Diag::error(
                "E0402",
                format!(
                    "grad needs a scalar expression, this one has shape {}",
                    crate::tensor::shape_str(self.g.shape(out))
                ),
            )
            .at(f.span.clone(), "not a scalar")
            .note("help: reduce it first, e.g. with sum(...)"));
        }
        Ok(LVal::Num(autodiff::grad(self.g, out, &[target])[0]))
    }
}

/// The diagnostic for a value of `t` outside the check's range, if any.
pub fn out_of_range(c: &crate::graph::Check, t: &Tensor) -> Result<(), Diag> {
    match t.data.iter().find(|v| !(**v >= c.lo && **v <= c.hi)) {
        None => Ok(()),
        Some(v) => Err(Diag::error(
            "E0402",
            format!(
                "{} must lie in [{}, {}], and {v} does not",
                c.what, c.lo, c.hi
            ),
        )
        .at(c.span.clone(), "out of range")),
    }
}

/// Checks every range recorded while `g` was lowered, at the session's
/// current parameter values (the start of a minimization).
pub fn check_ranges(s: &Session, g: &Graph) -> Result<(), Diag> {
    for c in &g.checks {
        let t = eval_node(s, g, c.node, &[]);
        out_of_range(c, &t).map_err(|d| {
            d.note("help: torch refuses this value; start the minimization where it is allowed")
        })?;
    }
    Ok(())
}

/// Evaluates a lowered node once at the session's current parameter values.
pub fn eval_node(s: &Session, g: &Graph, n: NodeId, extra: &[(u32, f64)]) -> Tensor {
    let mut tape = crate::graph::Tape::new(g, &[n]);
    for (i, p) in s.params.iter().enumerate() {
        tape.set_param(i as u32, &p.value.data);
    }
    for &(slot, v) in extra {
        tape.set_param(slot, &[v]);
    }
    tape.forward();
    Tensor {
        shape: tape.output_shape(0).to_vec(),
        data: tape.output(0).to_vec(),
    }
}

impl Session {
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
}

#[cfg(test)]
mod tests {
    use super::{LVal, Lowerer};
    use crate::graph::{Graph, Op};
    use crate::interp::testutil::run;

    /// Lowers `expr` in a session that has run `decls`.
    fn lower(decls: &str, expr: &str) -> (Graph, Result<LVal, crate::diagnostics::Diag>) {
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
        assert!(e.message.contains("mask"), "{}", e.message);
    }
}
