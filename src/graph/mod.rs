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

/// Symbolic reverse-mode differentiation on the graph.
pub mod autodiff;
/// The compiled tape that evaluates outputs of a graph.
pub mod eval;
/// The operations and their forward semantics on scalars.
pub mod ops;

pub use eval::Tape;
pub use ops::{Axis, Op, Red, UnFn};

use crate::tensor::{broadcast, max_elements, numel, shape_str, Shape, Tensor, MAX_RANK};
use rustc_hash::{FxHashMap, FxHasher};
use std::hash::{Hash, Hasher};

/// Index of a node in its graph.
pub type NodeId = u32;

/// A node's arguments.
pub type Args = smallvec::SmallVec<[NodeId; 3]>;

/// One node: an op, its arguments (earlier nodes) and its result's shape.
#[derive(Clone, Debug)]
pub struct Node {
    /// What the node computes.
    pub op: Op,
    /// Its arguments, all made before it (up to three inline: a node with
    /// few arguments allocates nothing for them).
    pub args: Args,
    /// The shape of its value, known when the node is made.
    pub shape: Shape,
}

/// Extra data of an op that does not fit in `Op` (which stays `Copy`):
/// interned in `Graph::aux`, referred to by index.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Aux {
    Shape(Shape),
    Perm(Vec<usize>),
    /// The shape of the indexed value and one entry per leading axis.
    Index(Shape, Vec<Ix>),
}

/// One axis of an index: a single position (the axis goes away) or a
/// range `lo..hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ix {
    At(usize),
    Range(usize, usize),
}

/// The shape that indexing `shape` with `ix` gives.
pub fn index_shape(shape: &[usize], ix: &[Ix]) -> Shape {
    let mut out = Vec::new();
    for (d, &n) in shape.iter().enumerate() {
        match ix.get(d) {
            Some(Ix::At(_)) => {}
            Some(Ix::Range(lo, hi)) => out.push(hi - lo),
            None => out.push(n),
        }
    }
    out
}

/// The hash-consing key's hash: FxHash, since the keys are small integers
/// made by the program, not by an adversary (SipHash was 40% of lowering).
fn key_hash(op: Op, args: &[NodeId]) -> u64 {
    let mut h = FxHasher::default();
    op.hash(&mut h);
    args.hash(&mut h);
    h.finish()
}

/// Why a node could not be made (a shape mismatch, for now).
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeError(pub String);

fn shape_err<T>(message: String) -> Result<T, ShapeError> {
    Err(ShapeError(message))
}

/// The graph: nodes in topological order, constant values, and the
/// parameter slots that `Param` nodes read.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    /// The nodes, arguments before their users (a topological order).
    pub nodes: Vec<Node>,
    /// Values of `Op::Const(i)` nodes.
    pub consts: Vec<Tensor>,
    /// Hash-consing: every node's id, hashed by its op and arguments and
    /// compared against the node itself, so a lookup builds no key and no
    /// key is stored beside the node.
    memo: hashbrown::HashTable<NodeId>,
    scalar_consts: FxHashMap<u64, NodeId>,
    /// For each node: does it depend on any `Param` or `Input` node (is it
    /// not known until the tape runs)?
    pub varying: Vec<bool>,
    /// Extra data of shape ops (see `Aux`).
    pub aux: Vec<Aux>,
    aux_ids: FxHashMap<Aux, u32>,
    /// Ranges that varying values must lie in when a minimization starts
    /// (torch checks them when it runs: erfinv's argument, a probability).
    pub checks: Vec<Check>,
}

/// A varying node whose every element must lie in [lo, hi]; `span` is the
/// source of the argument it came from, `what` names it.
#[derive(Clone, Debug)]
pub struct Check {
    /// The checked node.
    pub node: NodeId,
    /// The smallest allowed value.
    pub lo: f64,
    /// The largest allowed value.
    pub hi: f64,
    /// Source of the argument, for the diagnostic.
    pub span: std::ops::Range<usize>,
    /// The argument's name in the message ("erfinv's argument").
    pub what: String,
}

impl Graph {
    /// An empty graph, with room for a small statement's nodes (so that
    /// lowering one does not grow the vectors and the table node by node).
    pub fn new() -> Graph {
        const ROOM: usize = 32;
        Graph {
            nodes: Vec::with_capacity(ROOM),
            varying: Vec::with_capacity(ROOM),
            memo: hashbrown::HashTable::with_capacity(ROOM),
            ..Graph::default()
        }
    }

    /// The number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the graph has no nodes.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// The shape of node `n`'s value.
    pub fn shape(&self, n: NodeId) -> &[usize] {
        &self.nodes[n as usize].shape
    }

    /// The op of node `n`.
    pub fn op(&self, n: NodeId) -> Op {
        self.nodes[n as usize].op
    }

    /// The arguments of node `n`.
    pub fn args(&self, n: NodeId) -> &[NodeId] {
        &self.nodes[n as usize].args
    }

    /// The node `op(args)` if the graph has it.
    fn find(&self, op: Op, args: &[NodeId]) -> Option<NodeId> {
        let nodes = &self.nodes;
        self.memo
            .find(key_hash(op, args), |&id| {
                let n = &nodes[id as usize];
                n.op == op && n.args[..] == *args
            })
            .copied()
    }

    /// Appends a node the graph does not have yet (callers look first).
    fn push(&mut self, op: Op, args: &[NodeId], shape: Shape) -> NodeId {
        let varying = matches!(op, Op::Param(_) | Op::Input(_))
            || args.iter().any(|&a| self.varying[a as usize]);
        let id = self.nodes.len() as NodeId;
        let hash = key_hash(op, args);
        let args = Args::from_slice(args);
        self.nodes.push(Node { op, args, shape });
        self.varying.push(varying);
        let nodes = &self.nodes;
        self.memo.insert_unique(hash, id, |&i| {
            let n = &nodes[i as usize];
            key_hash(n.op, &n.args)
        });
        id
    }

    /// A scalar constant (deduplicated by bit pattern).
    pub fn scalar(&mut self, v: f64) -> NodeId {
        if let Some(&id) = self.scalar_consts.get(&v.to_bits()) {
            return id;
        }
        let ci = self.consts.len() as u32;
        self.consts.push(Tensor::scalar(v));
        let id = self.push(Op::Const(ci), &[], Vec::new());
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
        self.push(Op::Const(ci), &[], shape)
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
        self.const_value(n)
            .and_then(|t| if t.is_scalar() { t.item() } else { None })
    }

    /// A parameter slot: its value is read from the evaluator's inputs.
    pub fn param(&mut self, slot: u32, shape: Shape) -> NodeId {
        if let Some(id) = self.find(Op::Param(slot), &[]) {
            return id;
        }
        self.push(Op::Param(slot), &[], shape)
    }

    /// A data input slot of `shape`: its value is set on the tape batch by
    /// batch (`Tape::set_input`), numbered apart from the parameters.
    pub fn input(&mut self, slot: u32, shape: Shape) -> NodeId {
        if let Some(id) = self.find(Op::Input(slot), &[]) {
            return id;
        }
        self.push(Op::Input(slot), &[], shape)
    }

    /// Makes (or finds) the node `op(args)`, folding constants.
    pub fn node(&mut self, op: Op, args: &[NodeId]) -> Result<NodeId, ShapeError> {
        // A constant exponent takes torch's specialized pow kernel.
        let op = if op == Op::Pow && self.const_scalar(args[1]).is_some() {
            Op::PowC
        } else {
            op
        };
        if let Some(id) = self.find(op, args) {
            return Ok(id);
        }
        let shape = self.infer_shape(op, args)?;
        if let Some(v) = self.fold(op, args) {
            return Ok(self.scalar(v));
        }
        Ok(self.push(op, args, shape))
    }

    /// Builds a node whose shape the caller has already checked.
    pub fn must(&mut self, op: Op, args: &[NodeId]) -> NodeId {
        match self.node(op, args) {
            Ok(n) => n,
            // Only called on shapes derived from an existing valid node.
            Err(e) => panic!("internal shape error in derivative: {}", e.0),
        }
    }

    /// Interns extra op data.
    pub fn intern(&mut self, a: Aux) -> u32 {
        if let Some(&i) = self.aux_ids.get(&a) {
            return i;
        }
        let i = self.aux.len() as u32;
        self.aux.push(a.clone());
        self.aux_ids.insert(a, i);
        i
    }

    /// The shape (or permutation) interned as aux data `i`.
    pub fn aux_shape(&self, i: u32) -> &[usize] {
        match &self.aux[i as usize] {
            Aux::Shape(s) | Aux::Index(s, _) => s,
            Aux::Perm(p) => p,
        }
    }

    /// `n` with the same elements in `shape` (same number of elements).
    pub fn reshape(&mut self, n: NodeId, shape: &[usize]) -> Result<NodeId, ShapeError> {
        if self.shape(n) == shape {
            return Ok(n);
        }
        let a = self.intern(Aux::Shape(shape.to_vec()));
        self.node(Op::Reshape(a), &[n])
    }

    /// `n` broadcast to `shape`.
    pub fn expand(&mut self, n: NodeId, shape: &[usize]) -> Result<NodeId, ShapeError> {
        if self.shape(n) == shape {
            return Ok(n);
        }
        let a = self.intern(Aux::Shape(shape.to_vec()));
        self.node(Op::Expand(a), &[n])
    }

    /// `n` summed down to `shape`, which it must broadcast from (the
    /// adjoint of broadcasting), through the same hash-consing as every
    /// other node.
    pub fn sum_to(&mut self, n: NodeId, shape: &[usize]) -> Result<NodeId, ShapeError> {
        if self.shape(n) == shape {
            return Ok(n);
        }
        let a = self.intern(Aux::Shape(shape.to_vec()));
        self.node(Op::SumTo(a), &[n])
    }

    /// `n` with its axes permuted: axis d of the result is axis perm[d] of n.
    pub fn permute(&mut self, n: NodeId, perm: &[usize]) -> Result<NodeId, ShapeError> {
        if perm.iter().enumerate().all(|(i, &p)| i == p) {
            return Ok(n);
        }
        let a = self.intern(Aux::Perm(perm.to_vec()));
        self.node(Op::Permute(a), &[n])
    }

    /// `n` with its last two axes swapped.
    pub fn swap_last(&mut self, n: NodeId) -> Result<NodeId, ShapeError> {
        let r = self.shape(n).len();
        if r < 2 {
            return Ok(n);
        }
        let mut p: Vec<usize> = (0..r).collect();
        p.swap(r - 2, r - 1);
        self.permute(n, &p)
    }

    /// `n[ix]` with constant indices.
    pub fn index(&mut self, n: NodeId, ix: &[Ix]) -> Result<NodeId, ShapeError> {
        let shape = self.shape(n).to_vec();
        let full =
            ix.len() <= shape.len() && ix.iter().zip(&shape).all(|(i, &d)| *i == Ix::Range(0, d));
        if full {
            return Ok(n);
        }
        let a = self.intern(Aux::Index(shape, ix.to_vec()));
        self.node(Op::Index(a), &[n])
    }

    /// A reduction along `axis`.
    pub fn reduce(&mut self, r: Red, n: NodeId, axis: Axis) -> Result<NodeId, ShapeError> {
        self.node(Op::Reduce(r, axis), &[n])
    }

    fn infer_shape(&self, op: Op, args: &[NodeId]) -> Result<Shape, ShapeError> {
        let shape = self.infer_shape_inner(op, args)?;
        if shape.len() > MAX_RANK {
            return Err(ShapeError(format!(
                "the result would have {} axes, more than the limit of {MAX_RANK}",
                shape.len()
            )));
        }
        let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        match n {
            Some(n) if n <= max_elements() => Ok(shape),
            _ => Err(ShapeError(format!(
                "the result would have shape {}, more than the limit of {} elements",
                shape_str(&shape),
                max_elements()
            ))),
        }
    }

    /// The shape of `op` over `args`, one rule per kind of op; every other
    /// op broadcasts its arguments.
    fn infer_shape_inner(&self, op: Op, args: &[NodeId]) -> Result<Shape, ShapeError> {
        match op {
            Op::Reduce(_, ax) => self.reduce_shape(args[0], ax, false),
            Op::ProdExcl(ax) => self.reduce_shape(args[0], ax, true),
            Op::Reshape(a) => self.reshape_shape(a, args[0]),
            Op::SumTo(a) => self.sum_to_shape(a, args[0]),
            Op::Expand(a) => self.expand_shape(a, args[0]),
            Op::Permute(a) => self.permute_shape(a, args[0]),
            Op::Index(a) => self.index_op_shape(a, args[0], false),
            Op::IndexAdj(a) => self.index_op_shape(a, args[0], true),
            Op::Stack => self.stack_shape(args),
            Op::MatMul => self.matmul_shape(args[0], args[1]),
            _ => self.broadcast_shape(args),
        }
    }

    /// A reduction over `ax` (all axes when it has none); ProdExcl
    /// (`keep`) keeps the shape.
    fn reduce_shape(&self, x: NodeId, ax: Axis, keep: bool) -> Result<Shape, ShapeError> {
        let s = self.shape(x);
        let d = ax.index();
        if let Some(d) = d.filter(|&d| d >= s.len()) {
            return shape_err(format!(
                "axis {d} is out of range for shape {}",
                shape_str(s)
            ));
        }
        Ok(match (keep, d) {
            (true, _) => s.to_vec(),
            (false, None) => Vec::new(),
            (false, Some(d)) => {
                let mut v = s.to_vec();
                v.remove(d);
                v
            }
        })
    }

    fn reshape_shape(&self, a: u32, x: NodeId) -> Result<Shape, ShapeError> {
        let s = self.aux_shape(a).to_vec();
        if numel(&s) != self.numel(x) {
            return shape_err(format!(
                "cannot reshape {} into {}",
                shape_str(self.shape(x)),
                shape_str(&s)
            ));
        }
        Ok(s)
    }

    fn sum_to_shape(&self, a: u32, x: NodeId) -> Result<Shape, ShapeError> {
        let s = self.aux_shape(a).to_vec();
        let from = self.shape(x);
        if broadcast(&s, from).as_deref() != Some(from) {
            return shape_err(format!(
                "shape {} does not sum down to {}",
                shape_str(from),
                shape_str(&s)
            ));
        }
        Ok(s)
    }

    fn expand_shape(&self, a: u32, x: NodeId) -> Result<Shape, ShapeError> {
        let s = self.aux_shape(a).to_vec();
        let from = self.shape(x);
        if broadcast(from, &s).as_deref() != Some(&s[..]) {
            return shape_err(format!(
                "shape {} does not broadcast to {}",
                shape_str(from),
                shape_str(&s)
            ));
        }
        Ok(s)
    }

    fn permute_shape(&self, a: u32, x: NodeId) -> Result<Shape, ShapeError> {
        let p = self.aux_shape(a);
        let s = self.shape(x);
        let mut seen = vec![false; s.len()];
        if p.len() != s.len()
            || p.iter()
                .any(|&d| d >= s.len() || std::mem::replace(&mut seen[d], true))
        {
            return shape_err(format!("bad axis permutation for shape {}", shape_str(s)));
        }
        Ok(p.iter().map(|&d| s[d]).collect())
    }

    /// An index of a value of the aux's source shape, or (`adjoint`) its
    /// adjoint, which scatters the indexed shape back into the source's.
    fn index_op_shape(&self, a: u32, x: NodeId, adjoint: bool) -> Result<Shape, ShapeError> {
        let Aux::Index(src, ix) = &self.aux[a as usize] else {
            return shape_err("internal: index without index data".into());
        };
        if ix.len() > src.len() {
            return shape_err(format!(
                "{} indices for a value of shape {}",
                ix.len(),
                shape_str(src)
            ));
        }
        for (d, i) in ix.iter().enumerate() {
            let ok = match *i {
                Ix::At(k) => k < src[d],
                Ix::Range(lo, hi) => lo <= hi && hi <= src[d],
            };
            if !ok {
                return shape_err(format!(
                    "index out of range for axis {d} of shape {}",
                    shape_str(src)
                ));
            }
        }
        let out = index_shape(src, ix);
        if !adjoint {
            if self.shape(x) != &src[..] {
                return shape_err("internal: index of a value of another shape".into());
            }
            return Ok(out);
        }
        if self.shape(x) != &out[..] {
            return shape_err("internal: index adjoint of another shape".into());
        }
        Ok(src.clone())
    }

    fn stack_shape(&self, args: &[NodeId]) -> Result<Shape, ShapeError> {
        let s0 = self.shape(args[0]).to_vec();
        for &a in &args[1..] {
            if self.shape(a) != &s0[..] {
                return shape_err(format!(
                    "array elements have shapes {} and {}; all must have the same shape",
                    shape_str(&s0),
                    shape_str(self.shape(a))
                ));
            }
        }
        let mut s = vec![args.len()];
        s.extend(s0);
        Ok(s)
    }

    fn matmul_shape(&self, x: NodeId, y: NodeId) -> Result<Shape, ShapeError> {
        let (a, b) = (self.shape(x), self.shape(y));
        let (ra, rb) = (a.len(), b.len());
        if ra < 2 || rb < 2 || a[..ra - 2] != b[..rb - 2] || a[ra - 1] != b[rb - 2] {
            return shape_err(format!(
                "matmul: shapes {} and {} do not fit",
                shape_str(a),
                shape_str(b)
            ));
        }
        let mut s = a[..ra - 1].to_vec();
        s.push(b[rb - 1]);
        Ok(s)
    }

    fn broadcast_shape(&self, args: &[NodeId]) -> Result<Shape, ShapeError> {
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
        Ok(shape)
    }

    fn fold(&self, op: Op, args: &[NodeId]) -> Option<f64> {
        if args.is_empty() || args.len() > 3 || !op.is_elementwise() {
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

    /// The number of elements of node `n`'s value.
    pub fn numel(&self, n: NodeId) -> usize {
        numel(self.shape(n))
    }

    /// The `Param` slots below `below` that `out` depends on, in increasing
    /// order: which parameters an objective uses, without compiling a tape.
    pub fn params_reached(&self, out: NodeId, below: u32) -> Vec<u32> {
        let mut seen = vec![false; out as usize + 1];
        seen[out as usize] = true;
        let mut slots = Vec::new();
        // Arguments come before their node, so one backward sweep suffices.
        for n in (0..=out as usize).rev() {
            if !seen[n] || !self.varying[n] {
                continue;
            }
            match self.nodes[n].op {
                Op::Param(s) if s < below => slots.push(s),
                _ => self.nodes[n]
                    .args
                    .iter()
                    .for_each(|&a| seen[a as usize] = true),
            }
        }
        slots.sort_unstable();
        slots.dedup();
        slots
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_op_of_the_same_arguments_is_one_node() {
        let mut g = Graph::new();
        let x = g.param(0, vec![]);
        let y = g.param(1, vec![]);
        assert_eq!(g.param(0, vec![]), x);
        let a = g.node(Op::Add, &[x, y]).unwrap();
        assert_eq!(g.node(Op::Add, &[x, y]).unwrap(), a);
        // Another order or op is another node.
        let b = g.node(Op::Add, &[y, x]).unwrap();
        let c = g.node(Op::Sub, &[x, y]).unwrap();
        assert!(a != b && a != c && b != c);
        // Still found after the table has grown many times.
        let mut chain = vec![x];
        for _ in 0..2000 {
            let last = *chain.last().unwrap();
            chain.push(g.node(Op::Mul, &[last, y]).unwrap());
        }
        let n = g.len();
        for w in chain.windows(2) {
            assert_eq!(g.node(Op::Mul, &[w[0], y]).unwrap(), w[1]);
        }
        assert_eq!(g.len(), n);
        // An input slot is not the parameter slot of the same number.
        assert_ne!(g.input(0, vec![]), x);
    }

    /// sum((w - x)^2) for a parameter w [1] and a data input x [3], with
    /// the gradient, in one tape.
    fn loss_over_input() -> (Graph, NodeId, NodeId, NodeId) {
        let mut g = Graph::new();
        let w = g.param(0, vec![1]);
        let x = g.input(0, vec![3]);
        let d = g.node(Op::Sub, &[w, x]).unwrap();
        let two = g.scalar(2.0);
        let sq = g.node(Op::Pow, &[d, two]).unwrap();
        let f = g.reduce(Red::Sum, sq, Axis::All).unwrap();
        let gw = autodiff::grad(&mut g, f, &[w])[0];
        (g, f, gw, x)
    }

    #[test]
    fn an_input_is_apart_from_the_parameters() {
        let (mut g, f, _, x) = loss_over_input();
        // input slot 0 and parameter slot 0 are different nodes
        assert_ne!(g.param(0, vec![1]), x);
        assert_eq!(g.input(0, vec![3]), x);
        // not a parameter the objective uses, whatever the bound
        assert_eq!(g.params_reached(f, u32::MAX), vec![0]);
        // varying (not known when the graph is built), so never folded
        assert!(g.varying[x as usize] && g.const_value(x).is_none());
    }

    #[test]
    fn one_tape_is_refed_batch_after_batch() {
        let (g, f, gw, _) = loss_over_input();
        let mut t = Tape::new(&g, &[f, gw]);
        t.set_param(0, &[1.0]);
        let mut seen = Vec::new();
        for batch in [[1.0, 2.0, 3.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]] {
            t.set_input(0, &batch);
            t.forward();
            seen.push((t.output(0)[0], t.output(1)[0]));
        }
        // (1-1)^2+(1-2)^2+(1-3)^2 = 5, d/dw = 2*(0-1-2) = -6; then 3, 6; then 0, 0
        assert_eq!(seen, [(5.0, -6.0), (3.0, 6.0), (0.0, 0.0)]);
        // setting a parameter slot does not touch the input of the same number
        t.set_param(0, &[2.0]);
        t.forward();
        assert_eq!(t.output(0)[0], 3.0);
    }
}
