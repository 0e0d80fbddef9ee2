//! Recomputing instead of storing (rematerialization). A value that one
//! fused group computes and a later group of the same length reads again
//! (the backward pass reading the forward pass's sigmoids) would need a
//! full-size buffer live from the one group to the other. When the value
//! is a short chain of elementwise ops whose inputs are stored anyway, the
//! later group computes it again from those inputs, block by block in its
//! scratch slots, and the buffer is gone.
//!
//! The rule: a value is recomputed where it is read when
//! - it has at least `MIN_LEN` elements (a smaller buffer stays in cache,
//!   and recomputing would cost more than it saves);
//! - it is an elementwise member of a fused group, not an output, and
//!   every reader outside its group is a member of a later group of its
//!   length that reads it block by block (an elementwise op, a sum, the
//!   matrix of a matrix-vector product), so the buffer really goes;
//! - each argument of its length is stored for the tape's life (a
//!   constant, parameter, data input or output) or is itself recomputed;
//!   shorter
//!   arguments (broadcast rows and columns, single elements) are stored
//!   anyway;
//! - the ops recomputed for it (it and its recomputed arguments,
//!   transitively) are at most `MAX_CONE`.
//!
//! A group computes each recomputed value once, whichever of its members
//! read it. A copy computes the same op of the same arguments as the
//! original, so the results keep their bits. Afterwards a member that
//! nothing reads any more (a value only the later group read) is dropped.

use super::layout::unit_of;
use super::schedule::{Schedule, Unit};
use super::Nodes;
use std::collections::HashMap;

/// The most ops recomputed for one value.
const MAX_CONE: usize = 8;
/// The fewest elements of a recomputed value: 2^17 (1 MB, an L2 cache).
const MIN_LEN: usize = 1 << 17;

/// Recomputes the values the rule picks in the later groups that read
/// them (the copies go first in those groups), drops what is no longer
/// read, and updates the schedule's consumer lists.
pub(super) fn rematerialize(nodes: &mut Nodes, sched: &mut Schedule) {
    if sched.simple {
        return;
    }
    let unit_of = unit_of(&sched.units, nodes.count());
    let rec = Rule {
        nodes,
        sched,
        unit_of: &unit_of,
    }
    .recomputed();
    if !rec.contains(&true) {
        return;
    }
    for (t, unit) in sched.units.iter_mut().enumerate() {
        if unit.group {
            recompute_in(nodes, unit, t, &rec, &unit_of);
        }
    }
    drop_unread(nodes, &mut sched.units);
    sched.users = users(nodes);
}

/// What the rule looks at: the nodes, the schedule, each node's unit.
struct Rule<'a> {
    nodes: &'a Nodes<'a>,
    sched: &'a Schedule,
    unit_of: &'a [usize],
}

impl Rule<'_> {
    /// Whether each node is recomputed where it is read. One pass in node
    /// order suffices: a node's arguments come before it.
    fn recomputed(&self) -> Vec<bool> {
        let n = self.nodes.count();
        let mut rec = vec![false; n];
        for v in 0..n {
            rec[v] = self.candidate(v)
                && self.args_available(v, &rec)
                && cone(self.nodes, v, &rec) <= MAX_CONE;
        }
        rec
    }

    /// A large elementwise group member, not an output, whose readers
    /// outside its group are all members of later groups of its length
    /// that read it block by block.
    fn candidate(&self, v: usize) -> bool {
        let (nodes, t) = (self.nodes, self.unit_of[v]);
        let member = nodes.live[v]
            && t != usize::MAX
            && self.sched.units[t].group
            && nodes.elem(v).is_some()
            && !nodes.closes(v)
            && !nodes.is_output[v]
            && nodes.len(v) >= MIN_LEN;
        member
            && self.sched.users[v].iter().all(|&c| {
                let tc = self.unit_of[c];
                tc == t || (tc != usize::MAX && tc > t && reads_blocks(nodes, c, v))
            })
    }

    /// Every argument of `v`'s length is recomputed or kept for the
    /// tape's life (a leaf or an output).
    fn args_available(&self, v: usize, rec: &[bool]) -> bool {
        let nodes = self.nodes;
        nodes.args[v].iter().all(|&a| {
            let kept = storage_of(nodes, a);
            nodes.len(a) != nodes.len(v) || rec[a] || nodes.is_leaf(kept) || nodes.is_output[kept]
        })
    }
}

/// Whether group member `c` reads `v` block by block (as a value of its
/// group's length: not as a broadcast argument, nor as the vector of a
/// matrix-vector product, which are read from storage).
fn reads_blocks(nodes: &Nodes, c: usize, v: usize) -> bool {
    if nodes.key(c) != Some(nodes.len(v)) {
        return false;
    }
    match nodes.mv(c) {
        Some(_) => nodes.args[c][0] == v && nodes.args[c][1] != v,
        None => true,
    }
}

/// The node whose storage `a` uses (through aliases).
fn storage_of(nodes: &Nodes, mut a: usize) -> usize {
    while nodes.is_alias(a) {
        a = nodes.args[a][0];
    }
    a
}

/// The ops recomputed for `v`: it and its recomputed arguments,
/// transitively (counting stops just past `MAX_CONE`).
fn cone(nodes: &Nodes, v: usize, rec: &[bool]) -> usize {
    let mut seen = vec![v];
    let mut stack = vec![v];
    while let Some(x) = stack.pop() {
        for &a in &nodes.args[x] {
            if a != v && rec[a] && !seen.contains(&a) {
                seen.push(a);
                stack.push(a);
                if seen.len() > MAX_CONE {
                    return seen.len();
                }
            }
        }
    }
    seen.len()
}

/// Group `t` reads the recomputed values of earlier groups from copies of
/// its own, made in front of its members.
fn recompute_in(nodes: &mut Nodes, unit: &mut Unit, t: usize, rec: &[bool], unit_of: &[usize]) {
    let mut copies: HashMap<usize, usize> = HashMap::new();
    let mut made: Vec<usize> = Vec::new();
    for &u in &unit.nodes {
        for k in 0..nodes.args[u].len() {
            let a = nodes.args[u][k];
            if rec.get(a) == Some(&true) && unit_of[a] != t {
                nodes.args[u][k] = copy(nodes, a, rec, &mut copies, &mut made);
            }
        }
    }
    if !made.is_empty() {
        made.append(&mut unit.nodes);
        unit.nodes = made;
    }
}

/// The copy of recomputed value `v` (made once, after the copies of its
/// recomputed arguments, which it reads).
fn copy(
    nodes: &mut Nodes,
    v: usize,
    rec: &[bool],
    copies: &mut HashMap<usize, usize>,
    made: &mut Vec<usize>,
) -> usize {
    if let Some(&c) = copies.get(&v) {
        return c;
    }
    let mut args = nodes.args[v].clone();
    for a in args.iter_mut() {
        if rec[*a] {
            *a = copy(nodes, *a, rec, copies, made);
        }
    }
    let c = nodes.copy_of(v, args);
    copies.insert(v, c);
    made.push(c);
    c
}

/// Drops the unit members that neither an output nor a kept member reads
/// (walking the schedule backwards), and units left empty.
fn drop_unread(nodes: &mut Nodes, units: &mut Vec<Unit>) {
    let mut read = vec![false; nodes.count()];
    let mark = |read: &mut Vec<bool>, mut a: usize| loop {
        read[a] = true;
        if !nodes.is_alias(a) {
            break;
        }
        a = nodes.args[a][0];
    };
    for o in (0..nodes.count()).filter(|&o| nodes.is_output[o]) {
        mark(&mut read, o);
    }
    for u in units.iter().rev() {
        for &m in u.nodes.iter().rev() {
            if read[m] {
                for &a in &nodes.args[m] {
                    mark(&mut read, a);
                }
            }
        }
    }
    for u in units.iter_mut() {
        u.nodes.retain(|&m| read[m]);
    }
    units.retain(|u| !u.nodes.is_empty());
    for (i, r) in read.iter().enumerate() {
        if !r && !nodes.is_free(i) {
            nodes.live[i] = false;
        }
    }
}

/// The distinct consumers of each node among the live ones.
fn users(nodes: &Nodes) -> Vec<Vec<usize>> {
    let mut users = vec![Vec::new(); nodes.count()];
    for i in (0..nodes.count()).filter(|&i| nodes.live[i]) {
        for (k, &a) in nodes.args[i].iter().enumerate() {
            if !nodes.args[i][..k].contains(&a) {
                users[a].push(i);
            }
        }
    }
    users
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::autodiff::grad;
    use crate::graph::ops::{Axis, Op, Red, UnFn};
    use crate::graph::{Graph, NodeId};
    use crate::tensor::Tensor;

    /// `sum((f(x - alpha) @ c - y)^2)` over n rows of k columns, `f` given
    /// as `depth` sines (an elementwise chain), with its gradient: the
    /// chain's values are read again by the backward group. Returns the
    /// graph, the outputs, and the chain's nodes from `x - alpha` up.
    fn basis(n: usize, k: usize, depth: usize) -> (Graph, Vec<NodeId>, Vec<usize>) {
        let mut g = Graph::new();
        let c = g.param(0, vec![k, 1]);
        let alpha = g.param(1, vec![k]);
        let col = |i: usize| Tensor {
            shape: vec![n, 1],
            data: (0..n).map(|r| ((r * (i + 3)) % 17) as f64 / 17.0).collect(),
        };
        let (x, y) = (g.constant(col(0)), g.constant(col(1)));
        let mut chain = vec![g.node(Op::Sub, &[x, alpha]).unwrap()];
        for _ in 0..depth {
            let top = *chain.last().unwrap();
            chain.push(g.node(Op::Un(UnFn::Sin), &[top]).unwrap());
        }
        let m = g.node(Op::MatMul, &[*chain.last().unwrap(), c]).unwrap();
        let r = g.node(Op::Sub, &[m, y]).unwrap();
        let sq = g.node(Op::Mul, &[r, r]).unwrap();
        let loss = g.reduce(Red::Sum, sq, Axis::All).unwrap();
        let gr = grad(&mut g, loss, &[c, alpha]);
        let chain = chain.into_iter().map(|i| i as usize).collect();
        (g, vec![loss, gr[0], gr[1]], chain)
    }

    /// The nodes the rule admits (values only their own group reads are
    /// admitted too: they are there to recompute what reads them), and
    /// how many values of `full` elements keep a buffer in the tape.
    fn rule(g: &Graph, outputs: &[NodeId], full: usize) -> (Vec<usize>, usize) {
        let mut nodes = Nodes::new(g, outputs);
        let mut sched = Schedule::new(&nodes);
        let unit_of = unit_of(&sched.units, nodes.count());
        let rule = Rule {
            nodes: &nodes,
            sched: &sched,
            unit_of: &unit_of,
        };
        let rec = rule.recomputed();
        let admitted = (0..rec.len()).filter(|&i| rec[i]).collect();
        rematerialize(&mut nodes, &mut sched);
        let layout = super::super::layout::Layout::new(&nodes, &sched, outputs).unwrap();
        let stored = (0..nodes.count())
            .filter(|&i| nodes.live[i] && !nodes.is_free(i) && !layout.internal[i])
            .filter(|&i| nodes.len(i) == full)
            .count();
        (admitted, stored)
    }

    #[test]
    fn a_large_chain_read_by_the_backward_group_is_recomputed_not_stored() {
        let (n, k) = (20000, 10);
        let (g, outs, chain) = basis(n, k, 3);
        let (admitted, stored) = rule(&g, &outs, n * k);
        assert!(chain.iter().all(|c| admitted.contains(c)), "{admitted:?}");
        assert_eq!(stored, 0);
        let t = crate::graph::eval::Tape::new(&g, &outs);
        assert!(t.buffer_len().0 < n * k, "{:?}", t.buffer_len());
    }

    #[test]
    fn small_values_stay_stored() {
        let (n, k) = (2000, 10);
        let (g, outs, _) = basis(n, k, 3);
        let (admitted, stored) = rule(&g, &outs, n * k);
        assert_eq!(admitted, Vec::<usize>::new());
        assert!(stored > 0);
    }

    #[test]
    fn a_value_of_more_than_max_cone_ops_is_stored() {
        let (n, k) = (20000, 10);
        let (g, outs, chain) = basis(n, k, 9);
        let (admitted, stored) = rule(&g, &outs, n * k);
        // x - alpha and seven sines: eight ops; the eighth sine's would be nine
        assert!(chain[..MAX_CONE].iter().all(|c| admitted.contains(c)));
        assert!(!admitted.contains(&chain[8]) && !admitted.contains(&chain[9]));
        // the top sine (the product's matrix) and the cosines of the
        // eighth and ninth sines, which the forward group computes for
        // the backward one
        assert_eq!(stored, 3);
    }

    #[test]
    fn an_output_is_stored_and_recomputing_may_read_it() {
        let (n, k) = (20000, 10);
        let (g, mut outs, chain) = basis(n, k, 2);
        outs.push(chain[2] as NodeId);
        let (admitted, stored) = rule(&g, &outs, n * k);
        assert!(!admitted.contains(&chain[2]) && admitted.contains(&chain[1]));
        assert_eq!(stored, 1);
    }
}
