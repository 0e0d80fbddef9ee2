//! Compiling a `Tape`: which nodes are live and how they are read (through
//! broadcasts and transposes), the schedule that puts same-sized
//! elementwise ops into fused groups, the value buffer's layout (places
//! reused once dead, group-internal values in scratch slots), and the
//! instructions that come out.

use super::group::Sink;
use super::parallel::threads;
use super::strided::{broadcast_strided, index_strided, strides, Strided};
use super::{GArg, GStep, Instr, Kind, Loc, Tape, BLOCK};
use crate::graph::ops::{Axis, Op, Red};
use crate::graph::{Aux, Graph, NodeId};
use crate::tensor::numel;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Blocks per piece of a split group: groups of more elements than one
/// piece are evaluated piece by piece (on several threads where there are).
const CHUNK_BLOCKS: usize = 16;
/// The largest `SumTo` result a split group keeps a partial copy of per
/// piece; a group with a larger one is not split.
const MAX_PARTIAL: usize = 4096;

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

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// Free places of the value buffer, by length.
#[derive(Default)]
struct Alloc {
    free: BTreeMap<usize, Vec<usize>>,
    top: usize,
}

impl Alloc {
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

    fn give(&mut self, off: usize, len: usize) {
        if len > 0 {
            self.free.entry(len).or_default().push(off);
        }
    }
}

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
        let nn = g.len();
        let len_of = |i: usize| numel(&g.nodes[i].shape);
        // Arguments as evaluated: broadcasts read through by elementwise ops,
        // transposes read through by matmul.
        let mut trans = vec![[false; 2]; nn];
        let rargs: Vec<Vec<usize>> = (0..nn)
            .map(|i| {
                let node = &g.nodes[i];
                if elem_op(g, i).is_some() {
                    node.args
                        .iter()
                        .map(|&a| {
                            let mut a = a as usize;
                            while let Op::Expand(_) = g.nodes[a].op {
                                a = g.nodes[a].args[0] as usize;
                            }
                            a
                        })
                        .collect()
                } else if node.op == Op::MatMul {
                    node.args
                        .iter()
                        .enumerate()
                        .map(|(k, &a)| {
                            let a = a as usize;
                            if let Op::Permute(p) = g.nodes[a].op {
                                if swaps_last(g.aux_shape(p)) {
                                    trans[i][k] = true;
                                    return g.nodes[a].args[0] as usize;
                                }
                            }
                            a
                        })
                        .collect()
                } else {
                    node.args.iter().map(|&a| a as usize).collect()
                }
            })
            .collect();
        let mut live = vec![false; nn];
        for &o in outputs {
            live[o as usize] = true;
        }
        for i in (0..nn).rev() {
            if live[i] {
                for &a in &rargs[i] {
                    live[a] = true;
                }
            }
        }
        let live_nodes = live.iter().filter(|&&l| l).count();
        let is_output = {
            let mut v = vec![false; nn];
            for &o in outputs {
                v[o as usize] = true;
            }
            v
        };
        let is_alias = |i: usize| match g.nodes[i].op {
            Op::Reshape(_) => true,
            Op::Permute(p) => keeps_layout(g.shape(g.nodes[i].args[0]), g.aux_shape(p)),
            _ => false,
        };
        let is_free = |i: usize| {
            is_alias(i) || matches!(g.nodes[i].op, Op::Const(_) | Op::Param(_) | Op::Input(_))
        };
        let is_sink = |i: usize| {
            matches!(
                g.nodes[i].op,
                Op::SumTo(_) | Op::Reduce(Red::Sum, Axis::All)
            ) && len_of(rargs[i][0]) > 1
        };
        let key = |i: usize| -> Option<usize> {
            if is_sink(i) {
                Some(len_of(rargs[i][0]))
            } else if elem_op(g, i).is_some() && !is_free(i) && len_of(i) != 1 {
                Some(len_of(i))
            } else {
                None
            }
        };

        // Schedule: a topological order that keeps same-sized elementwise
        // ops together. `units` are instructions: one node or a group.
        let mut units: Vec<Vec<usize>> = Vec::new();
        let mut unit_is_group: Vec<bool> = Vec::new();
        // Ready nodes over few elements run first (cheap, and they often
        // stand between big elementwise ops that could be fused).
        let small = |n: usize| key(n).unwrap_or(len_of(n)) < BLOCK;
        // Only single elements (the scalar objectives of the optimizer and
        // Minuit suites): the graph's order, one place per value, no
        // scheduling to pay for at compile time.
        let simple = (0..nn).all(|i| !live[i] || is_free(i) || key(i).is_none());
        // Distinct consumers of each live node.
        let mut users: Vec<Vec<usize>> = vec![Vec::new(); nn];
        let mut indeg = vec![0usize; nn];
        for i in 0..nn {
            if simple || !live[i] {
                continue;
            }
            let mut seen: Vec<usize> = Vec::with_capacity(rargs[i].len());
            for &a in &rargs[i] {
                if !seen.contains(&a) {
                    seen.push(a);
                    users[a].push(i);
                }
            }
            indeg[i] = seen.len();
        }
        let mut ready = Ready {
            users,
            indeg,
            all: BTreeSet::new(),
            small: BTreeSet::new(),
            by_key: HashMap::new(),
            free_order: Vec::new(),
            stack: Vec::new(),
            is_free: &is_free,
            is_small: &small,
            key: &key,
        };
        for i in 0..nn {
            if simple {
                if live[i] {
                    if is_free(i) {
                        ready.free_order.push(i);
                    } else {
                        units.push(vec![i]);
                        unit_is_group.push(false);
                    }
                }
                continue;
            }
            if live[i] && rargs[i].is_empty() {
                ready.free_order.push(i);
                ready.release(i);
            }
        }
        let mut cur: Option<usize> = None;
        if simple {
            ready.all.clear();
        }
        // Sinks (sums) of the open group: their consumers wait until it closes.
        let mut deferred: Vec<usize> = Vec::new();
        loop {
            let n = match cur {
                Some(k) => match ready.by_key.get(&k).and_then(|s| s.first().copied()) {
                    Some(n) => {
                        units.last_mut().expect("open group").push(n);
                        n
                    }
                    None => {
                        cur = None;
                        for d in std::mem::take(&mut deferred) {
                            ready.release(d);
                        }
                        continue;
                    }
                },
                None => {
                    let Some(n) = ready.small.first().or_else(|| ready.all.first()).copied() else {
                        break;
                    };
                    units.push(vec![n]);
                    unit_is_group.push(key(n).is_some());
                    cur = key(n);
                    n
                }
            };
            ready.take(n);
            if cur.is_some() && is_sink(n) {
                deferred.push(n);
            } else {
                ready.release(n);
            }
        }
        let Ready {
            free_order, users, ..
        } = ready;

        // Storage: aliases share their argument's; values used only inside
        // their group need none.
        let mut root: Vec<usize> = (0..nn).collect();
        for &i in &free_order {
            if is_alias(i) {
                root[i] = root[rargs[i][0]];
            }
        }
        let mut unit_of = vec![usize::MAX; nn];
        for (t, u) in units.iter().enumerate() {
            for &n in u {
                unit_of[n] = t;
            }
        }
        let mut internal = vec![false; nn];
        for (t, u) in units.iter().enumerate() {
            if !unit_is_group[t] {
                continue;
            }
            for &n in u {
                internal[n] =
                    !is_sink(n) && !is_output[n] && users[n].iter().all(|&c| unit_of[c] == t);
            }
        }
        // Permanent storage: constants, parameters, outputs.
        let mut permanent = vec![false; nn];
        for &i in &free_order {
            if matches!(g.nodes[i].op, Op::Const(_) | Op::Param(_) | Op::Input(_)) {
                permanent[i] = true;
            }
        }
        for &o in outputs {
            permanent[root[o as usize]] = true;
        }
        // Last unit reading each root.
        let mut last_use = vec![0usize; nn];
        for i in 0..nn {
            if !live[i] || unit_of[i] == usize::MAX {
                continue;
            }
            for &a in &rargs[i] {
                let r = root[a];
                last_use[r] = last_use[r].max(unit_of[i]);
            }
        }
        let mut dies_at: Vec<Vec<usize>> = vec![Vec::new(); units.len()];
        let mut offset = vec![usize::MAX; nn];
        let mut alloc = Alloc::default();
        let mut vals_init: Vec<(usize, usize)> = Vec::new(); // (offset, const index)
        let mut params = Vec::new();
        let mut inputs = Vec::new();
        for &i in &free_order {
            match g.nodes[i].op {
                Op::Const(c) => {
                    offset[i] = alloc.take(len_of(i));
                    vals_init.push((offset[i], c as usize));
                }
                Op::Param(slot) => {
                    offset[i] = alloc.take(len_of(i));
                    params.push((slot, offset[i], len_of(i)));
                }
                Op::Input(slot) => {
                    offset[i] = alloc.take(len_of(i));
                    inputs.push((slot, offset[i], len_of(i)));
                }
                _ => {}
            }
        }
        for i in 0..nn {
            if live[i] && unit_of[i] != usize::MAX && !internal[i] && root[i] == i && !permanent[i]
            {
                dies_at[last_use[i]].push(i);
            }
        }
        // Offsets of the computed values, in schedule order; aliases follow.
        for (t, u) in units.iter().enumerate() {
            for &n in u {
                if !internal[n] {
                    offset[n] = alloc.take(len_of(n));
                }
            }
            for &d in dies_at[t].iter().filter(|_| !simple) {
                alloc.give(offset[d], len_of(d));
            }
        }
        // The value buffer is the tape's memory (scratch is a few blocks).
        let mut vals = crate::budget::zeroed(alloc.top).map_err(|e| {
            let big = (0..nn)
                .filter(|&i| live[i] && !internal[i])
                .max_by_key(|&i| len_of(i));
            e.with_largest(big.map_or(&[][..], |i| &g.nodes[i].shape))
        })?;
        for &(off, c) in &vals_init {
            let data = &g.consts[c].data;
            vals[off..off + data.len()].copy_from_slice(data);
        }
        let off = |i: usize| offset[root[i]];

        // Instructions.
        let mut instrs = Vec::with_capacity(units.len());
        let mut max_slots = 0;
        let mut partials = 0;
        let mut split = false;
        for (t, u) in units.iter().enumerate() {
            if unit_is_group[t] {
                let len = key(u[0]).expect("group key");
                let mut slot_of: HashMap<usize, usize> = HashMap::new();
                let mut nslots = 0;
                let mut gathers = Vec::new();
                let mut body = Vec::new();
                let mut sinks: Vec<Sink> = Vec::new();
                let mut record = 0;
                let loc = |n: usize, slot_of: &HashMap<usize, usize>| -> Loc {
                    match slot_of.get(&n) {
                        Some(&s) if internal[n] => Loc::Scratch(s),
                        _ => Loc::Mem(off(n)),
                    }
                };
                for &n in u {
                    let node = &g.nodes[n];
                    if is_sink(n) {
                        let a = rargs[n][0];
                        let src = loc(a, &slot_of);
                        let part = record;
                        record += len_of(n);
                        if matches!(node.op, Op::SumTo(_)) {
                            sinks.push(Sink {
                                out: off(n),
                                len: len_of(n),
                                init: 0.0,
                                part,
                            });
                            let sh = &g.nodes[a].shape;
                            // the summed shape broadcast from the result's
                            let mut st = broadcast_strided(&node.shape, sh);
                            st.base = 0;
                            body.push(GStep::SumTo {
                                src,
                                out: off(n),
                                out_len: len_of(n),
                                map: st,
                                part,
                            });
                        } else {
                            sinks.push(Sink {
                                out: off(n),
                                len: 1,
                                init: std::iter::empty::<f64>().sum(),
                                part,
                            });
                            body.push(GStep::SumAll {
                                src,
                                out: off(n),
                                part,
                            });
                        }
                        continue;
                    }
                    let mut args = Vec::with_capacity(rargs[n].len());
                    for &a in &rargs[n] {
                        let alen = len_of(a);
                        if alen == 1 {
                            args.push(GArg::One(off(a)));
                        } else if alen == len {
                            args.push(GArg::Block(loc(a, &slot_of)));
                        } else {
                            let s = *slot_of.entry(usize::MAX - a).or_insert_with(|| {
                                nslots += 1;
                                gathers.push(GStep::Gather {
                                    src: off(a),
                                    src_len: alen,
                                    map: broadcast_strided(&g.nodes[a].shape, &node.shape),
                                    slot: nslots - 1,
                                    once: false,
                                });
                                nslots - 1
                            });
                            args.push(GArg::Block(Loc::Scratch(s)));
                        }
                    }
                    let out = if internal[n] {
                        nslots += 1;
                        slot_of.insert(n, nslots - 1);
                        Loc::Scratch(nslots - 1)
                    } else {
                        Loc::Mem(off(n))
                    };
                    body.push(GStep::Elem {
                        op: elem_op(g, n).expect("elementwise group member"),
                        args,
                        out,
                    });
                }
                max_slots = max_slots.max(nslots);
                // A block length that is a multiple of the periods of the
                // broadcast arguments, so that those are gathered once.
                let mut lcm = 1usize;
                for st in &gathers {
                    if let GStep::Gather { map, .. } = st {
                        if let Some(p) = map.period() {
                            let l = lcm / gcd(lcm, p) * p;
                            if l <= BLOCK / 2 {
                                lcm = l;
                            }
                        }
                    }
                }
                let block = BLOCK / lcm * lcm;
                for st in &mut gathers {
                    if let GStep::Gather { map, once, .. } = st {
                        *once = map.period().is_some_and(|p| block.is_multiple_of(p));
                    }
                }
                gathers.extend(body);
                let chunk = CHUNK_BLOCKS * block;
                let chunk = if len > chunk && sinks.iter().all(|s| s.len <= MAX_PARTIAL) {
                    partials = partials.max(len.div_ceil(chunk) * record);
                    split = true;
                    chunk
                } else {
                    0
                };
                instrs.push(Instr {
                    out: 0,
                    len,
                    kind: Kind::Group {
                        len,
                        block,
                        steps: gathers,
                        sinks,
                        chunk,
                        record,
                    },
                });
                continue;
            }
            let i = u[0];
            let node = &g.nodes[i];
            let len = len_of(i);
            let a0 = rargs[i][0];
            let off0 = off(a0);
            let shape0 = &g.nodes[a0].shape;
            let kind = match elem_op(g, i).unwrap_or(node.op) {
                op if op.is_elementwise() => {
                    let mut args = [0usize; 3];
                    for (k, &a) in rargs[i].iter().enumerate() {
                        args[k] = off(a);
                    }
                    Kind::Scalar {
                        op,
                        args,
                        n: rargs[i].len(),
                    }
                }
                Op::SumTo(_) => Kind::Scatter {
                    src: off0,
                    src_len: len_of(a0),
                    map: broadcast_strided(&node.shape, shape0),
                },
                Op::IndexAdj(a) => match &g.aux[a as usize] {
                    Aux::Index(src, ix) => Kind::Scatter {
                        src: off0,
                        src_len: len_of(a0),
                        map: index_strided(src, ix),
                    },
                    _ => unreachable!("IndexAdj without index data"),
                },
                Op::Index(a) => match &g.aux[a as usize] {
                    Aux::Index(src, ix) => Kind::Gather {
                        src: off0,
                        src_len: len_of(a0),
                        map: index_strided(src, ix),
                    },
                    _ => unreachable!("Index without index data"),
                },
                Op::Expand(_) => Kind::Gather {
                    src: off0,
                    src_len: len_of(a0),
                    map: broadcast_strided(shape0, &node.shape),
                },
                Op::Permute(a) => {
                    let p = g.aux_shape(a);
                    let sst = strides(shape0);
                    let st: Vec<usize> = p.iter().map(|&d| sst[d]).collect();
                    Kind::Gather {
                        src: off0,
                        src_len: len_of(a0),
                        map: Strided::new(0, &node.shape, &st),
                    }
                }
                Op::Stack => Kind::Stack(rargs[i].iter().map(|&a| (off(a), len_of(a))).collect()),
                Op::Reduce(red, ax) => {
                    let (outer, n, inner) = ax.split3(shape0);
                    Kind::Reduce {
                        red,
                        src: off0,
                        outer,
                        n,
                        inner,
                    }
                }
                Op::ProdExcl(ax) => {
                    let (outer, n, inner) = ax.split3(shape0);
                    Kind::ProdExcl {
                        src: off0,
                        outer,
                        n,
                        inner,
                    }
                }
                Op::MatMul => {
                    let (sa, sb) = (&node.shape, &g.nodes[node.args[1] as usize].shape);
                    let r = sa.len();
                    let (m, n) = (sa[r - 2], sa[r - 1]);
                    let k = sb[sb.len() - 2];
                    let batch = numel(&sa[..r - 2]);
                    // [rows, cols] row-major, or its transpose stored as [cols, rows]
                    let st = |tr: bool, rows: usize, cols: usize| {
                        if tr {
                            (1isize, rows as isize, rows * cols)
                        } else {
                            (cols as isize, 1isize, rows * cols)
                        }
                    };
                    let b1 = rargs[i][1];
                    Kind::MatMul {
                        a: off0,
                        a_len: len_of(a0),
                        ast: st(trans[i][0], m, k),
                        b: off(b1),
                        b_len: len_of(b1),
                        bst: st(trans[i][1], k, n),
                        batch,
                        m,
                        k,
                        n,
                    }
                }
                op => unreachable!("{op:?} is not an instruction"),
            };
            instrs.push(Instr {
                out: off(i),
                len,
                kind,
            });
        }
        let outputs_loc = outputs
            .iter()
            .map(|&o| (off(o as usize), g.numel(o)))
            .collect();
        Ok(Tape {
            instrs,
            vals,
            scratch: vec![0.0; max_slots * BLOCK * if split { threads() } else { 1 }],
            scratch_stride: max_slots * BLOCK,
            partials: vec![0.0; partials],
            params,
            inputs,
            outputs: outputs_loc,
            output_shapes: outputs.iter().map(|&o| g.shape(o).to_vec()).collect(),
            live_nodes,
        })
    }
}

/// The scheduler's view of which nodes can run: a node is ready when all its
/// arguments are done. Free nodes (aliases such as reshapes) are done as soon
/// as they are ready and are listed in `free_order`.
struct Ready<'a> {
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
    is_free: &'a dyn Fn(usize) -> bool,
    is_small: &'a dyn Fn(usize) -> bool,
    key: &'a dyn Fn(usize) -> Option<usize>,
}

impl Ready<'_> {
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
                if (self.is_free)(u) {
                    self.free_order.push(u);
                    self.stack.push(u);
                } else {
                    self.all.insert(u);
                    if (self.is_small)(u) {
                        self.small.insert(u);
                    }
                    if let Some(key) = (self.key)(u) {
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
        if let Some(set) = (self.key)(n).and_then(|k| self.by_key.get_mut(&k)) {
            set.remove(&n);
        }
    }
}
