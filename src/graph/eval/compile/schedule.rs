//! The schedule: a topological order of the live nodes that keeps
//! same-sized elementwise ops together, cut into units (the future
//! instructions: one node, or a fused group of them).

use super::Nodes;
use std::collections::{BTreeSet, HashMap};

/// One instruction to be: a single node, or a fused group of nodes.
pub(super) struct Unit {
    pub(super) nodes: Vec<usize>,
    pub(super) group: bool,
}

/// The order the live nodes are computed in.
pub(super) struct Schedule {
    pub(super) units: Vec<Unit>,
    /// The free nodes (leaves and aliases), in the order they were ready.
    pub(super) free_order: Vec<usize>,
    /// Distinct consumers of each live node (left empty by a simple
    /// schedule, which forms no groups).
    pub(super) users: Vec<Vec<usize>>,
    /// Whether the schedule is the graph's order, with no groups.
    pub(super) simple: bool,
}

impl Schedule {
    /// Schedules the live nodes: in the graph's order when there is
    /// nothing to fuse (no scheduling to pay for at compile time),
    /// else grouping same-sized elementwise ops.
    pub(super) fn new(nodes: &Nodes) -> Schedule {
        if nodes.is_simple() {
            Schedule::in_graph_order(nodes)
        } else {
            Schedule::fused(nodes)
        }
    }

    fn in_graph_order(nodes: &Nodes) -> Schedule {
        let mut s = Schedule {
            units: Vec::new(),
            free_order: Vec::new(),
            users: vec![Vec::new(); nodes.count()],
            simple: true,
        };
        for i in (0..nodes.count()).filter(|&i| nodes.live[i]) {
            if nodes.is_free(i) {
                s.free_order.push(i);
            } else {
                s.units.push(Unit {
                    nodes: vec![i],
                    group: false,
                });
            }
        }
        s
    }

    /// Takes ready nodes one by one: while a group is open, the ready
    /// nodes of its key join it; else a small ready node, or the first
    /// ready one, starts the next unit. The consumers of a group's sums
    /// wait until the group closes.
    fn fused(nodes: &Nodes) -> Schedule {
        let mut ready = Ready::new(nodes);
        for i in 0..nodes.count() {
            if nodes.live[i] && nodes.args[i].is_empty() {
                ready.free_order.push(i);
                ready.release(i);
            }
        }
        let mut units: Vec<Unit> = Vec::new();
        // The open group's key, and its sinks.
        let mut open: Option<usize> = None;
        let mut deferred: Vec<usize> = Vec::new();
        loop {
            let n = match open {
                Some(k) => match ready.next_of_key(k) {
                    Some(n) => {
                        units.last_mut().expect("open group").nodes.push(n);
                        n
                    }
                    None => {
                        open = None;
                        for d in std::mem::take(&mut deferred) {
                            ready.release(d);
                        }
                        continue;
                    }
                },
                None => {
                    let Some(n) = ready.next() else {
                        break;
                    };
                    open = nodes.key(n);
                    units.push(Unit {
                        nodes: vec![n],
                        group: open.is_some(),
                    });
                    n
                }
            };
            ready.take(n);
            if open.is_some() && nodes.closes(n) {
                deferred.push(n);
            } else {
                ready.release(n);
            }
        }
        Schedule {
            units,
            free_order: ready.free_order,
            users: ready.users,
            simple: false,
        }
    }
}

/// The scheduler's view of which nodes can run: a node is ready when all its
/// arguments are done. Free nodes (aliases such as reshapes) are done as soon
/// as they are ready and are listed in `free_order`.
struct Ready<'a> {
    nodes: &'a Nodes<'a>,
    /// Distinct consumers of each node.
    users: Vec<Vec<usize>>,
    /// Arguments of each node not yet done.
    indeg: Vec<usize>,
    all: BTreeSet<usize>,
    /// Ready nodes over few elements: the scheduler takes these first.
    small: BTreeSet<usize>,
    /// Ready elementwise nodes by group key (element count).
    by_key: HashMap<usize, BTreeSet<usize>>,
    free_order: Vec<usize>,
    stack: Vec<usize>,
}

impl<'a> Ready<'a> {
    /// Nothing done yet: counts each live node's distinct arguments.
    fn new(nodes: &'a Nodes<'a>) -> Ready<'a> {
        let nn = nodes.count();
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); nn];
        let mut indeg = vec![0usize; nn];
        for i in (0..nn).filter(|&i| nodes.live[i]) {
            let mut seen: Vec<usize> = Vec::with_capacity(nodes.args[i].len());
            for &a in &nodes.args[i] {
                if !seen.contains(&a) {
                    seen.push(a);
                    users[a].push(i);
                }
            }
            indeg[i] = seen.len();
        }
        Ready {
            nodes,
            users,
            indeg,
            all: BTreeSet::new(),
            small: BTreeSet::new(),
            by_key: HashMap::new(),
            free_order: Vec::new(),
            stack: Vec::new(),
        }
    }

    /// The first ready node of group key `key`.
    fn next_of_key(&self, key: usize) -> Option<usize> {
        self.by_key.get(&key).and_then(|s| s.first().copied())
    }

    /// The first small ready node, else the first ready node.
    fn next(&self) -> Option<usize> {
        self.small.first().or_else(|| self.all.first()).copied()
    }

    /// Marks `n` done: consumers whose arguments are all done become ready.
    fn release(&mut self, n: usize) {
        self.stack.push(n);
        while let Some(n) = self.stack.pop() {
            for k in 0..self.users[n].len() {
                let u = self.users[n][k];
                self.indeg[u] -= 1;
                if self.indeg[u] != 0 {
                    continue;
                }
                if self.nodes.is_free(u) {
                    self.free_order.push(u);
                    self.stack.push(u);
                } else {
                    self.all.insert(u);
                    if self.nodes.is_small(u) {
                        self.small.insert(u);
                    }
                    if let Some(key) = self.nodes.key(u) {
                        self.by_key.entry(key).or_default().insert(u);
                    }
                }
            }
        }
    }

    /// Takes `n` out of the ready sets: it is scheduled now.
    fn take(&mut self, n: usize) {
        self.all.remove(&n);
        self.small.remove(&n);
        if let Some(set) = self.nodes.key(n).and_then(|k| self.by_key.get_mut(&k)) {
            set.remove(&n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::ops::{Axis, Op, Red, UnFn};
    use crate::graph::Graph;

    fn units(g: &Graph, out: u32) -> Vec<(Vec<usize>, bool)> {
        let nodes = Nodes::new(g, &[out]);
        let s = Schedule::new(&nodes);
        s.units.into_iter().map(|u| (u.nodes, u.group)).collect()
    }

    #[test]
    fn a_sum_closes_its_group_before_its_readers_run() {
        let mut g = Graph::new();
        let x = g.param(0, vec![1000]);
        let e = g.node(Op::Un(UnFn::Exp), &[x]).unwrap();
        let s = g.reduce(Red::Sum, e, Axis::All).unwrap();
        let m = g.node(Op::Mul, &[e, s]).unwrap();
        let [e, s, m] = [e, s, m].map(|n| n as usize);
        assert_eq!(
            units(&g, m as u32),
            vec![(vec![e, s], true), (vec![m], true)]
        );
    }

    #[test]
    fn same_sized_ops_fuse_around_a_small_one() {
        let mut g = Graph::new();
        let x = g.param(0, vec![1000]);
        let y = g.param(1, vec![2]);
        let e = g.node(Op::Un(UnFn::Exp), &[x]).unwrap();
        let ys = g.node(Op::Un(UnFn::Sin), &[y]).unwrap();
        let t = g.reduce(Red::Max, ys, Axis::All).unwrap();
        let m = g.node(Op::Mul, &[e, t]).unwrap();
        let [e, ys, t, m] = [e, ys, t, m].map(|n| n as usize);
        // the small ops run first (sin over 2 elements is a group of its
        // own), then one group of the big ones
        assert_eq!(
            units(&g, m as u32),
            vec![(vec![ys], true), (vec![t], false), (vec![e, m], true)]
        );
    }

    #[test]
    fn scalar_graphs_keep_the_graph_order() {
        let mut g = Graph::new();
        let x = g.param(0, vec![]);
        let a = g.node(Op::Un(UnFn::Sin), &[x]).unwrap();
        let b = g.node(Op::Un(UnFn::Cos), &[x]).unwrap();
        let c = g.node(Op::Add, &[b, a]).unwrap();
        let nodes = Nodes::new(&g, &[c]);
        let s = Schedule::new(&nodes);
        assert!(s.simple);
        assert_eq!(s.free_order, vec![x as usize]);
        let order: Vec<usize> = s.units.iter().flat_map(|u| u.nodes.clone()).collect();
        assert_eq!(order, [a, b, c].map(|n| n as usize));
    }
}
