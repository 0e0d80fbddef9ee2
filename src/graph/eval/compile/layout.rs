//! The value buffer's layout: aliases share their argument's storage,
//! values used only inside their group get none (they live in scratch
//! slots), leaves and outputs keep theirs for the tape's life, and the
//! place of any other value is handed out again after its last reader.

use super::schedule::{Schedule, Unit};
use super::Nodes;
use crate::budget::Refused;
use crate::graph::ops::Op;
use crate::graph::NodeId;
use std::collections::BTreeMap;

/// Where each value lives, and the buffer itself (with the constants in
/// place).
pub(super) struct Layout {
    /// The node whose storage each node uses: itself, or the value an
    /// alias reads.
    root: Vec<usize>,
    /// Values that live only in their group's scratch slots.
    pub(super) internal: Vec<bool>,
    /// Buffer offset of each node that has storage of its own.
    offset: Vec<usize>,
    pub(super) vals: Vec<f64>,
    /// (slot, offset, len) of each parameter node.
    pub(super) params: Vec<(u32, usize, usize)>,
    /// (slot, offset, len) of each data input node.
    pub(super) inputs: Vec<(u32, usize, usize)>,
}

impl Layout {
    /// Lays out the values of `sched`, or refuses when the buffer does
    /// not fit the memory budget.
    pub(super) fn new(
        nodes: &Nodes,
        sched: &Schedule,
        outputs: &[NodeId],
    ) -> Result<Layout, Refused> {
        let root = roots(nodes, &sched.free_order);
        let unit_of = unit_of(&sched.units, nodes.count());
        let internal = internal(nodes, sched, &unit_of);
        let mut places = Places::new(nodes);
        let leaves = places.leaves(&sched.free_order);
        let lives = Lives {
            nodes,
            root: &root,
            unit_of: &unit_of,
            internal: &internal,
        };
        let dies_at = lives.dies_at(sched, outputs);
        places.computed(sched, &internal, &dies_at);
        let vals = places.values(&internal, &leaves.consts)?;
        Ok(Layout {
            root,
            internal,
            offset: places.offset,
            vals,
            params: leaves.params,
            inputs: leaves.inputs,
        })
    }

    /// The buffer offset of node `i`'s value.
    pub(super) fn off(&self, i: usize) -> usize {
        self.offset[self.root[i]]
    }
}

/// The storage owner of each node: aliases (free nodes, in the order they
/// were ready, so after their argument) take their argument's.
fn roots(nodes: &Nodes, free_order: &[usize]) -> Vec<usize> {
    let mut root: Vec<usize> = (0..nodes.count()).collect();
    for &i in free_order {
        if nodes.is_alias(i) {
            root[i] = root[nodes.args[i][0]];
        }
    }
    root
}

/// The unit computing each node (`usize::MAX`: none, a free node).
pub(super) fn unit_of(units: &[Unit], nn: usize) -> Vec<usize> {
    let mut unit_of = vec![usize::MAX; nn];
    for (t, u) in units.iter().enumerate() {
        for &n in &u.nodes {
            unit_of[n] = t;
        }
    }
    unit_of
}

/// The group members that only their own group reads (and that are
/// neither sums nor outputs): they need no place in the buffer.
fn internal(nodes: &Nodes, sched: &Schedule, unit_of: &[usize]) -> Vec<bool> {
    let mut internal = vec![false; nodes.count()];
    for (t, u) in sched.units.iter().enumerate().filter(|(_, u)| u.group) {
        for &n in &u.nodes {
            internal[n] = !nodes.closes(n)
                && !nodes.is_output[n]
                && sched.users[n].iter().all(|&c| unit_of[c] == t);
        }
    }
    internal
}

/// What liveness over the schedule needs to know of the nodes.
struct Lives<'a> {
    nodes: &'a Nodes<'a>,
    root: &'a [usize],
    unit_of: &'a [usize],
    internal: &'a [bool],
}

impl Lives<'_> {
    /// For each unit, the values whose place is free once it has run:
    /// computed values read last by it that are not kept for the
    /// tape's life (leaves and outputs are).
    fn dies_at(&self, sched: &Schedule, outputs: &[NodeId]) -> Vec<Vec<usize>> {
        let nodes = self.nodes;
        let permanent = self.permanent(&sched.free_order, outputs);
        let last_use = self.last_use();
        let mut dies_at: Vec<Vec<usize>> = vec![Vec::new(); sched.units.len()];
        for i in 0..nodes.count() {
            if nodes.live[i]
                && self.unit_of[i] != usize::MAX
                && !self.internal[i]
                && self.root[i] == i
                && !permanent[i]
            {
                dies_at[last_use[i]].push(i);
            }
        }
        dies_at
    }

    /// The storage kept for the tape's life: constants, parameters,
    /// inputs, outputs.
    fn permanent(&self, free_order: &[usize], outputs: &[NodeId]) -> Vec<bool> {
        let mut permanent = vec![false; self.nodes.count()];
        for &i in free_order {
            if self.nodes.is_leaf(i) {
                permanent[i] = true;
            }
        }
        for &o in outputs {
            permanent[self.root[o as usize]] = true;
        }
        permanent
    }

    /// The last unit reading each storage owner.
    fn last_use(&self) -> Vec<usize> {
        let nodes = self.nodes;
        let mut last_use = vec![0usize; nodes.count()];
        for i in 0..nodes.count() {
            if !nodes.live[i] || self.unit_of[i] == usize::MAX {
                continue;
            }
            for &a in &nodes.args[i] {
                let r = self.root[a];
                last_use[r] = last_use[r].max(self.unit_of[i]);
            }
        }
        last_use
    }
}

/// The leaves as placed: (offset, constant index) of each constant, and
/// (slot, offset, len) of each parameter and data input.
struct Leaves {
    consts: Vec<(usize, usize)>,
    params: Vec<(u32, usize, usize)>,
    inputs: Vec<(u32, usize, usize)>,
}

/// Handing out places of the value buffer.
struct Places<'a> {
    nodes: &'a Nodes<'a>,
    offset: Vec<usize>,
    alloc: Alloc,
}

impl<'a> Places<'a> {
    fn new(nodes: &'a Nodes<'a>) -> Places<'a> {
        Places {
            nodes,
            offset: vec![usize::MAX; nodes.count()],
            alloc: Alloc::default(),
        }
    }

    /// Places the constants, parameters and inputs first, in the order
    /// they were ready.
    fn leaves(&mut self, free_order: &[usize]) -> Leaves {
        let mut leaves = Leaves {
            consts: Vec::new(),
            params: Vec::new(),
            inputs: Vec::new(),
        };
        for &i in free_order {
            let len = self.nodes.len(i);
            match self.nodes.node(i).op {
                Op::Const(c) => leaves.consts.push((self.place(i), c as usize)),
                Op::Param(slot) => leaves.params.push((slot, self.place(i), len)),
                Op::Input(slot) => leaves.inputs.push((slot, self.place(i), len)),
                _ => {}
            }
        }
        leaves
    }

    /// Gives node `i` a place of its length; returns its offset.
    fn place(&mut self, i: usize) -> usize {
        self.offset[i] = self.alloc.take(self.nodes.len(i));
        self.offset[i]
    }

    /// Places the computed values in schedule order, handing a place out
    /// again once its value is dead (a simple schedule keeps every place).
    fn computed(&mut self, sched: &Schedule, internal: &[bool], dies_at: &[Vec<usize>]) {
        let nodes = self.nodes;
        for (u, dead) in sched.units.iter().zip(dies_at) {
            for &n in &u.nodes {
                if !internal[n] {
                    self.place(n);
                }
            }
            for &d in dead.iter().filter(|_| !sched.simple) {
                self.alloc.give(self.offset[d], nodes.len(d));
            }
        }
    }

    /// The value buffer (the tape's memory: scratch is a few blocks) with
    /// the constants in place, or the budget's refusal naming the largest
    /// stored value's shape.
    fn values(&self, internal: &[bool], consts: &[(usize, usize)]) -> Result<Vec<f64>, Refused> {
        let nodes = self.nodes;
        let mut vals = crate::budget::zeroed(self.alloc.top).map_err(|e| {
            let big = (0..nodes.count())
                .filter(|&i| nodes.live[i] && !internal[i])
                .max_by_key(|&i| nodes.len(i));
            e.with_largest(big.map_or(&[][..], |i| nodes.shape(i)))
        })?;
        for &(off, c) in consts {
            let data = &nodes.g.consts[c].data;
            vals[off..off + data.len()].copy_from_slice(data);
        }
        Ok(vals)
    }
}

/// Free places of the value buffer, by length.
#[derive(Default)]
struct Alloc {
    free: BTreeMap<usize, Vec<usize>>,
    top: usize,
}

impl Alloc {
    /// A place of `len` elements: the shortest free one that is long
    /// enough (its rest is free again), else a new one at the top.
    fn take(&mut self, len: usize) -> usize {
        if let Some((&have, _)) = self.free.range(len..).next() {
            let offs = self.free.get_mut(&have).expect("free list");
            let off = offs.pop().expect("free list");
            if offs.is_empty() {
                self.free.remove(&have);
            }
            if have > len {
                self.give(off + len, have - len);
            }
            return off;
        }
        let off = self.top;
        self.top += len;
        off
    }

    /// Frees the place of `len` elements at `off`.
    fn give(&mut self, off: usize, len: usize) {
        if len > 0 {
            self.free.entry(len).or_default().push(off);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alloc_reuses_the_shortest_fitting_place_and_frees_its_rest() {
        let mut a = Alloc::default();
        assert_eq!(a.take(10), 0);
        assert_eq!(a.take(4), 10);
        assert_eq!(a.take(6), 14);
        a.give(0, 10);
        a.give(14, 6);
        // 6 fits the place of 6 better than the one of 10
        assert_eq!(a.take(5), 14);
        // the rest of that place (one element at 19) is free again
        assert_eq!(a.take(1), 19);
        assert_eq!(a.take(10), 0);
        assert_eq!(a.take(3), 20);
        assert_eq!(a.top, 23);
    }

    #[test]
    fn alloc_gives_nothing_back_for_an_empty_place() {
        let mut a = Alloc::default();
        assert_eq!(a.take(0), 0);
        a.give(0, 0);
        assert!(a.free.is_empty());
        assert_eq!(a.take(2), 0);
        assert_eq!(a.top, 2);
    }
}
