//! Compiling a `Tape`, in stages:
//! 1. `Nodes` (this file): which nodes are live and how they are read
//!    (through broadcasts and transposes), and what kind of instruction
//!    each one is;
//! 2. `schedule`: the order that puts same-sized elementwise ops into
//!    fused groups;
//! 3. `remat`: values a later group reads again are recomputed there
//!    instead of stored, where a simple rule says that is cheap;
//! 4. `layout`: the value buffer's layout (places reused once dead,
//!    group-internal values in scratch slots);
//! 5. `emit`: the instructions that come out, and the tape around them.

mod emit;
mod layout;
mod remat;
mod schedule;

use self::emit::Emitter;
use self::layout::Layout;
use self::schedule::Schedule;
use super::{Tape, BLOCK};
use crate::graph::ops::{Axis, Op, Red};
use crate::graph::{Graph, Node, NodeId};
use crate::tensor::numel;

impl Tape {
    /// Compiles the evaluation of `outputs`; panics if its buffers do not
    /// fit the memory budget (the interpreter uses [`Tape::try_new`]).
    pub fn new(g: &Graph, outputs: &[NodeId]) -> Tape {
        Tape::try_new(g, outputs).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Compiles the evaluation of `outputs`, or refuses when its value
    /// buffer does not fit the memory budget (src/budget.rs), naming the
    /// largest value's shape.
    pub fn try_new(g: &Graph, outputs: &[NodeId]) -> Result<Tape, crate::budget::Refused> {
        let mut nodes = Nodes::new(g, outputs);
        let mut schedule = Schedule::new(&nodes);
        remat::rematerialize(&mut nodes, &mut schedule);
        let layout = Layout::new(&nodes, &schedule, outputs)?;
        Ok(Emitter::new(&nodes, layout).run(&schedule.units, outputs))
    }
}

/// The graph as the tape reads it: each node's arguments as evaluated
/// (broadcasts read through by elementwise ops, transposes read through by
/// matmul), which nodes the outputs need, and what each node becomes.
struct Nodes<'g> {
    g: &'g Graph,
    /// Each node's arguments as evaluated.
    args: Vec<Vec<usize>>,
    /// For a matmul: whether its first and second operands are read
    /// transposed (the argument is the untransposed value).
    trans: Vec<[bool; 2]>,
    /// Whether the outputs need the node.
    live: Vec<bool>,
    is_output: Vec<bool>,
    /// The graph node each node computes: itself, or for a copy made to
    /// recompute a value in a later group (`remat`), the original.
    origin: Vec<usize>,
}

impl<'g> Nodes<'g> {
    fn new(g: &'g Graph, outputs: &[NodeId]) -> Nodes<'g> {
        let nn = g.len();
        let mut trans = vec![[false; 2]; nn];
        let args: Vec<Vec<usize>> = (0..nn).map(|i| read_args(g, i, &mut trans[i])).collect();
        let mut is_output = vec![false; nn];
        for &o in outputs {
            is_output[o as usize] = true;
        }
        let live = liveness(&args, &is_output);
        Nodes {
            g,
            args,
            trans,
            live,
            is_output,
            origin: (0..nn).collect(),
        }
    }

    /// The graph node node `i` computes.
    fn node(&self, i: usize) -> &'g Node {
        &self.g.nodes[self.origin[i]]
    }

    /// The elementwise op node `i` is evaluated as (see `elem_op`).
    fn elem(&self, i: usize) -> Option<Op> {
        elem_op(self.g, self.origin[i])
    }

    /// A copy of node `i` reading `args` (a recomputation of its value);
    /// returns the copy's index.
    fn copy_of(&mut self, i: usize, args: Vec<usize>) -> usize {
        let c = self.args.len();
        self.args.push(args);
        self.trans.push(self.trans[i]);
        self.live.push(true);
        self.is_output.push(false);
        self.origin.push(self.origin[i]);
        c
    }

    /// Number of nodes of the graph (live or not).
    fn count(&self) -> usize {
        self.args.len()
    }

    fn shape(&self, i: usize) -> &'g [usize] {
        &self.node(i).shape
    }

    /// Element count of node `i`.
    fn len(&self, i: usize) -> usize {
        numel(self.shape(i))
    }

    /// A reshape, or a permute that moves no element: shares its
    /// argument's storage.
    fn is_alias(&self, i: usize) -> bool {
        let (g, node) = (self.g, self.node(i));
        match node.op {
            Op::Reshape(_) => true,
            Op::Permute(p) => keeps_layout(g.shape(node.args[0]), g.aux_shape(p)),
            _ => false,
        }
    }

    /// A constant, parameter or data input: stored for the tape's life.
    fn is_leaf(&self, i: usize) -> bool {
        matches!(self.node(i).op, Op::Const(_) | Op::Param(_) | Op::Input(_))
    }

    /// A node that needs no instruction (a leaf or an alias).
    fn is_free(&self, i: usize) -> bool {
        self.is_alias(i) || self.is_leaf(i)
    }

    /// A sum over more than one element, which a fused group accumulates
    /// as its blocks go by.
    fn is_sink(&self, i: usize) -> bool {
        matches!(
            self.node(i).op,
            Op::SumTo(_) | Op::Reduce(Red::Sum, Axis::All)
        ) && self.len(self.args[i][0]) > 1
    }

    /// A matrix-vector product that a fused group computes from the
    /// blocks of its matrix (a value over the group's elements): the
    /// matrix's column count, and whether the product is of its
    /// transpose. The result is a column ([m, 1], no batch), the matrix
    /// has at least two rows and two columns, and no more columns than
    /// half a `BLOCK` (a block holds whole rows).
    fn mv(&self, i: usize) -> Option<(usize, bool)> {
        let node = self.node(i);
        if node.op != Op::MatMul || self.elem(i).is_some() {
            return None;
        }
        let r = node.shape.len();
        if node.shape[r - 1] != 1 || numel(&node.shape[..r - 2]) != 1 {
            return None;
        }
        // the matrix as stored: [m, k] (A x), or [k, m] (its transpose)
        let a = self.shape(self.args[i][0]);
        let (rows, cols) = (a[a.len() - 2], a[a.len() - 1]);
        let fits = rows >= 2 && (2..=BLOCK / 2).contains(&cols);
        fits.then_some((cols, self.trans[i][0]))
    }

    /// A sum or matrix-vector product whose readers wait until its group
    /// has closed (its result is not of the group's length).
    fn closes(&self, i: usize) -> bool {
        self.is_sink(i) || self.mv(i).is_some()
    }

    /// The group a node can join: the element count of the elementwise
    /// op (or of the summed value, or of a matrix-vector product's
    /// matrix), `None` for a node no group takes.
    fn key(&self, i: usize) -> Option<usize> {
        if self.is_sink(i) || self.mv(i).is_some() {
            Some(self.len(self.args[i][0]))
        } else if self.elem(i).is_some() && !self.is_free(i) && self.len(i) != 1 {
            Some(self.len(i))
        } else {
            None
        }
    }

    /// A node over few elements: run first when ready (cheap, and such
    /// nodes often stand between big elementwise ops that could be fused).
    fn is_small(&self, i: usize) -> bool {
        self.key(i).unwrap_or(self.len(i)) < BLOCK
    }

    /// Only single elements are computed (the scalar objectives of the
    /// optimizer and Minuit suites): nothing to fuse.
    fn is_simple(&self) -> bool {
        (0..self.count()).all(|i| !self.live[i] || self.is_free(i) || self.key(i).is_none())
    }
}

/// Node `i`'s arguments as evaluated: an elementwise op reads through
/// broadcasts, a matmul through transposes of its operands (noted in
/// `trans`).
fn read_args(g: &Graph, i: usize, trans: &mut [bool; 2]) -> Vec<usize> {
    let node = &g.nodes[i];
    let args = node.args.iter().map(|&a| a as usize);
    if elem_op(g, i).is_some() {
        args.map(|a| through_expands(g, a)).collect()
    } else if node.op == Op::MatMul {
        args.enumerate()
            .map(|(k, a)| match untransposed(g, a) {
                Some(src) => {
                    trans[k] = true;
                    src
                }
                None => a,
            })
            .collect()
    } else {
        args.collect()
    }
}

/// The value `a` broadcasts (through any chain of `Expand`s).
fn through_expands(g: &Graph, mut a: usize) -> usize {
    while let Op::Expand(_) = g.nodes[a].op {
        a = g.nodes[a].args[0] as usize;
    }
    a
}

/// The argument of `a` when `a` swaps its last two axes.
fn untransposed(g: &Graph, a: usize) -> Option<usize> {
    match g.nodes[a].op {
        Op::Permute(p) if swaps_last(g.aux_shape(p)) => Some(g.nodes[a].args[0] as usize),
        _ => None,
    }
}

/// The nodes the outputs need: outputs, and every argument of a needed
/// node (arguments come before their users).
fn liveness(args: &[Vec<usize>], is_output: &[bool]) -> Vec<bool> {
    let mut live = is_output.to_vec();
    for i in (0..live.len()).rev() {
        if live[i] {
            for &a in &args[i] {
                live[a] = true;
            }
        }
    }
    live
}

/// Whether `perm` swaps the last two axes and keeps the others.
fn swaps_last(perm: &[usize]) -> bool {
    let r = perm.len();
    r >= 2
        && perm[r - 2] == r - 1
        && perm[r - 1] == r - 2
        && perm[..r - 2].iter().enumerate().all(|(i, &p)| i == p)
}

/// Whether permuting `shape` by `perm` keeps the elements in row-major
/// order (only axes of extent 1 move): then the permute is an alias.
fn keeps_layout(shape: &[usize], perm: &[usize]) -> bool {
    let moved: Vec<usize> = perm.iter().copied().filter(|&d| shape[d] != 1).collect();
    moved.windows(2).all(|w| w[0] < w[1])
}

/// The elementwise op node `i` is evaluated as: its own op, or `Mul` for a
/// matmul with k == 1 (an outer product: c[i, j] = a[i, 0] * b[0, j],
/// what a sum of one term is), which then fuses with its neighbours.
fn elem_op(g: &Graph, i: usize) -> Option<Op> {
    let node = &g.nodes[i];
    if node.op.is_elementwise() {
        return Some(node.op);
    }
    if node.op == Op::MatMul {
        let b = g.shape(node.args[1]);
        if b[b.len() - 2] == 1 {
            return Some(Op::Mul);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::autodiff::grad;
    use crate::graph::ops::UnFn;
    use crate::graph::Ix;
    use crate::tensor::Tensor;

    /// (instructions, value buffer length, scratch per worker, partial
    /// sums, live nodes) of the tape of `outputs`: the numbers the
    /// compiler gave before it was split into stages (the layout is part
    /// of what it promises: a step's memory, and the bits, since fusion
    /// decides the order sums are formed in).
    fn compiled(g: &Graph, outputs: &[NodeId]) -> [usize; 5] {
        let t = Tape::new(g, outputs);
        [
            t.instr_count(),
            t.vals.len(),
            t.scratch_stride,
            t.partials.len(),
            t.live_nodes,
        ]
    }

    #[test]
    fn scalar_objectives_compile_in_graph_order() {
        let mut g = Graph::new();
        let x = g.param(0, vec![]);
        let y = g.param(1, vec![]);
        let xy = g.node(Op::Mul, &[x, y]).unwrap();
        let one = g.scalar(1.0);
        let d = g.node(Op::Sub, &[xy, one]).unwrap();
        let two = g.scalar(2.0);
        let sq = g.node(Op::Pow, &[d, two]).unwrap();
        let s = g.node(Op::Un(UnFn::Sin), &[x]).unwrap();
        let f = g.node(Op::Add, &[sq, s]).unwrap();
        let gr = grad(&mut g, f, &[x, y]);
        assert_eq!(compiled(&g, &[f, gr[0], gr[1]]), [11, 15, 0, 0, 15]);
    }

    #[test]
    fn broadcasts_fuse_into_groups_with_their_sums() {
        let mut g = Graph::new();
        let w = g.param(0, vec![4]);
        let x = g.constant(Tensor {
            shape: vec![3000, 1],
            data: (0..3000).map(|i| i as f64 / 1000.0).collect(),
        });
        let d = g.node(Op::Sub, &[x, w]).unwrap();
        let e = g.node(Op::Un(UnFn::Exp), &[d]).unwrap();
        let s = g.node(Op::Mul, &[e, d]).unwrap();
        let r = g.reduce(Red::Sum, s, Axis::All).unwrap();
        let gr = grad(&mut g, r, &[w]);
        assert_eq!(compiled(&g, &[r, gr[0]]), [1, 3010, 5120, 10, 13]);
    }

    #[test]
    fn matmuls_read_transposes_and_outer_products_fuse() {
        let mut g = Graph::new();
        let a = g.param(0, vec![2, 3, 4]);
        let b = g.param(1, vec![2, 5, 4]);
        let bt = g.swap_last(b).unwrap();
        let c = g.node(Op::MatMul, &[a, bt]).unwrap();
        let u = g.param(2, vec![300, 1]);
        let v = g.param(3, vec![40, 1]);
        let vt = g.swap_last(v).unwrap();
        let outer = g.node(Op::MatMul, &[u, vt]).unwrap();
        let h = g.node(Op::Un(UnFn::Relu), &[outer]).unwrap();
        let hv = g.node(Op::MatMul, &[h, v]).unwrap();
        let sc = g.reduce(Red::Sum, c, Axis::All).unwrap();
        let sh = g.reduce(Red::Sum, hv, Axis::All).unwrap();
        let f = g.node(Op::Add, &[sc, sh]).unwrap();
        let gr = grad(&mut g, f, &[a, b, u, v]);
        assert_eq!(
            compiled(&g, &[f, gr[0], gr[1], gr[2], gr[3]]),
            [13, 13441, 3072, 80, 28]
        );
    }

    #[test]
    fn shape_ops_become_gathers_scatters_and_reductions() {
        let mut g = Graph::new();
        let p = g.param(0, vec![4, 6]);
        let ix = g.index(p, &[Ix::Range(1, 3), Ix::At(2)]).unwrap();
        let pt = g.permute(p, &[1, 0]).unwrap();
        let e = g.node(Op::Un(UnFn::Exp), &[pt]).unwrap();
        let pr = g.reduce(Red::Prod, e, Axis::of(0, 2).unwrap()).unwrap();
        let mx = g.reduce(Red::Max, p, Axis::of(1, 2).unwrap()).unwrap();
        let st = g.node(Op::Stack, &[pr, mx]).unwrap();
        let s1 = g.reduce(Red::Sum, st, Axis::All).unwrap();
        let s2 = g.reduce(Red::Sum, ix, Axis::All).unwrap();
        let f = g.node(Op::Mul, &[s1, s2]).unwrap();
        let gr = grad(&mut g, f, &[p]);
        assert_eq!(compiled(&g, &[f, gr[0]]), [23, 148, 1024, 0, 32]);
    }

    #[test]
    fn only_what_the_outputs_read_is_live_and_broadcasts_are_read_through() {
        let mut g = Graph::new();
        let x = g.param(0, vec![3]);
        let y = g.param(1, vec![2, 1]);
        let ex = g.expand(x, &[2, 3]).unwrap();
        let p = g.node(Op::Mul, &[ex, y]).unwrap();
        let unused = g.node(Op::Un(UnFn::Exp), &[y]).unwrap();
        let nodes = Nodes::new(&g, &[p]);
        let [x, y, ex, p, unused] = [x, y, ex, p, unused].map(|n| n as usize);
        assert_eq!(nodes.args[p], vec![x, y]);
        assert!(nodes.live[x] && nodes.live[y] && nodes.live[p]);
        assert!(!nodes.live[ex] && !nodes.live[unused]);
        assert_eq!(nodes.key(p), Some(6));
        assert!(nodes.is_leaf(x) && nodes.is_free(x) && !nodes.is_free(p));
    }

    #[test]
    fn a_matmul_reads_a_transposed_operand_untransposed() {
        let mut g = Graph::new();
        let a = g.param(0, vec![2, 3]);
        let b = g.param(1, vec![4, 3]);
        let bt = g.swap_last(b).unwrap();
        let c = g.node(Op::MatMul, &[a, bt]).unwrap();
        let nodes = Nodes::new(&g, &[c]);
        let c = c as usize;
        assert_eq!(nodes.args[c], vec![a as usize, b as usize]);
        assert_eq!(nodes.trans[c], [false, true]);
        assert!(!nodes.live[bt as usize]);
    }

    #[test]
    fn permutes_that_move_only_unit_axes_are_aliases() {
        assert!(keeps_layout(&[3, 1, 4], &[1, 0, 2]));
        assert!(!keeps_layout(&[3, 1, 4], &[2, 1, 0]));
        assert!(swaps_last(&[0, 2, 1]) && swaps_last(&[1, 0]));
        assert!(!swaps_last(&[2, 1, 0]) && !swaps_last(&[0]));
    }
}
