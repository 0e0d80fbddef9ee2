//! The differentiable expression graph. Nodes are hash-consed (a repeated
//! subexpression such as `x*y` in Beale is one node), constants are folded
//! as nodes are made, and a node's arguments always come before it, so the
//! node order is already a topological order. Every node's shape is known
//! when it is made.
//!
//! Differentiation (`autodiff`) is reverse mode done once, symbolically: it
//! walks the graph backwards from an output and adds the adjoint of every
//! node as new nodes. The gradient is then just more outputs of the same
//! graph, so a minimizer step is one forward pass over a `Tape` that shares
//! every common subexpression between the loss and its gradient, and
//! `grad(grad(...))` (second order, Minuit's exact Hessian) comes for free.

pub mod autodiff;
pub mod eval;
pub mod ops;

pub use eval::Tape;
pub use ops::{Op, UnFn};

use crate::tensor::{broadcast, numel, shape_str, Shape, Tensor};
use std::collections::HashMap;

/// Index of a node in its graph.
pub type NodeId = u32;

#[derive(Clone, Debug)]
pub struct Node {
    pub op: Op,
    pub args: Vec<NodeId>,
    pub shape: Shape,
}

/// Why a node could not be made (a shape mismatch, for now).
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeError(pub String);

/// The graph: nodes in topological order, constant values, and the
/// parameter slots that `Param` nodes read.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    /// Values of `Op::Const(i)` nodes.
    pub consts: Vec<Tensor>,
    memo: HashMap<(Op, Vec<NodeId>), NodeId>,
    scalar_consts: HashMap<u64, NodeId>,
    /// For each node: does it depend on any `Param`/`Var` node?
    pub varying: Vec<bool>,
}

impl Graph {
    pub fn new() -> Graph {
        Graph::default()
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    pub fn shape(&self, n: NodeId) -> &[usize] {
        &self.nodes[n as usize].shape
    }

    pub fn op(&self, n: NodeId) -> Op {
        self.nodes[n as usize].op
    }

    pub fn args(&self, n: NodeId) -> &[NodeId] {
        &self.nodes[n as usize].args
    }

    fn push(&mut self, op: Op, args: Vec<NodeId>, shape: Shape) -> NodeId {
        let varying = matches!(op, Op::Param(_))
            || args.iter().any(|&a| self.varying[a as usize]);
        let id = self.nodes.len() as NodeId;
        self.nodes.push(Node {
            op,
            args: args.clone(),
            shape,
        });
        self.varying.push(varying);
        self.memo.insert((op, args), id);
        id
    }

    /// A scalar constant (deduplicated by bit pattern).
    pub fn scalar(&mut self, v: f64) -> NodeId {
        if let Some(&id) = self.scalar_consts.get(&v.to_bits()) {
            return id;
        }
        let ci = self.consts.len() as u32;
        self.consts.push(Tensor::scalar(v));
        let id = self.push(Op::Const(ci), Vec::new(), Vec::new());
        self.scalar_consts.insert(v.to_bits(), id);
        id
    }

    /// A constant tensor.
    pub fn constant(&mut self, t: Tensor) -> NodeId {
        if t.is_scalar() {
            return self.scalar(t.data[0]);
        }
        let ci = self.consts.len() as u32;
        let shape = t.shape.clone();
        self.consts.push(t);
        self.push(Op::Const(ci), Vec::new(), shape)
    }

    /// The value of a constant node, if it is one.
    pub fn const_value(&self, n: NodeId) -> Option<&Tensor> {
        match self.op(n) {
            Op::Const(i) => Some(&self.consts[i as usize]),
            _ => None,
        }
    }

    /// The value of a scalar constant node.
    pub fn const_scalar(&self, n: NodeId) -> Option<f64> {
        self.const_value(n).and_then(|t| if t.is_scalar() { t.item() } else { None })
    }

    /// A parameter slot: its value is read from the evaluator's inputs.
    pub fn param(&mut self, slot: u32, shape: Shape) -> NodeId {
        if let Some(&id) = self.memo.get(&(Op::Param(slot), Vec::new())) {
            return id;
        }
        self.push(Op::Param(slot), Vec::new(), shape)
    }

    /// Makes (or finds) the node `op(args)`, folding constants.
    pub fn node(&mut self, op: Op, args: &[NodeId]) -> Result<NodeId, ShapeError> {
        // A constant exponent takes torch's specialized pow kernel.
        let op = if op == Op::Pow && self.const_scalar(args[1]).is_some() {
            Op::PowC
        } else {
            op
        };
        if let Some(&id) = self.memo.get(&(op, args.to_vec())) {
            return Ok(id);
        }
        let shape = self.infer_shape(op, args)?;
        if let Some(v) = self.fold(op, args) {
            return Ok(self.scalar(v));
        }
        Ok(self.push(op, args.to_vec(), shape))
    }

    /// Builds a node whose shape the caller has already checked.
    pub fn must(&mut self, op: Op, args: &[NodeId]) -> NodeId {
        match self.node(op, args) {
            Ok(n) => n,
            // Only called on shapes derived from an existing valid node.
            Err(e) => panic!("internal shape error in derivative: {}", e.0),
        }
    }

    fn infer_shape(&self, op: Op, args: &[NodeId]) -> Result<Shape, ShapeError> {
        let mut shape: Shape = Vec::new();
        for &a in args {
            let s = self.shape(a);
            shape = broadcast(&shape, s).ok_or_else(|| {
                ShapeError(format!(
                    "shapes {} and {} do not broadcast",
                    shape_str(&shape),
                    shape_str(s)
                ))
            })?;
        }
        let _ = op;
        Ok(shape)
    }

    fn fold(&self, op: Op, args: &[NodeId]) -> Option<f64> {
        if args.is_empty() {
            return None;
        }
        let mut v = [0.0; 3];
        for (i, &a) in args.iter().enumerate() {
            v[i] = self.const_scalar(a)?;
        }
        Some(ops::eval_scalar(op, &v[..args.len()]))
    }

    /// Scalar multiplication that skips a factor of exactly one (exact in
    /// IEEE arithmetic, so this changes no value).
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> NodeId {
        if self.const_scalar(a) == Some(1.0) && self.shape(b).len() >= self.shape(a).len() {
            return b;
        }
        if self.const_scalar(b) == Some(1.0) && self.shape(a).len() >= self.shape(b).len() {
            return a;
        }
        self.must(Op::Mul, &[a, b])
    }

    pub fn numel(&self, n: NodeId) -> usize {
        numel(self.shape(n))
    }
}
