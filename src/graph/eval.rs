//! The forward evaluator. A `Tape` is compiled once from a graph and a set
//! of outputs, and evaluating it allocates nothing.
//!
//! Compiling:
//! - only the nodes the outputs need are kept; a broadcast (`Expand`) read
//!   by elementwise ops is not materialized (the ops broadcast it as they
//!   read it), a `Reshape` is an alias of its argument's storage, and a
//!   matmul operand that is a transpose reads the untransposed value with
//!   swapped strides;
//! - the instructions are scheduled (a topological order) so that
//!   elementwise ops over the same number of elements come one after the
//!   other; each such run is a fused group that is evaluated block by block
//!   (`BLOCK` elements at a time, every op of the group on one block before
//!   the next block), with sums (`Reduce(Sum)` over everything, `SumTo`)
//!   accumulated as the blocks go by, in the same order as an unfused loop;
//! - a value used only inside its group never gets a full-size buffer (it
//!   lives in a block-sized scratch slot); the others get a place in one
//!   value buffer, and a place is reused once the value in it is dead
//!   (liveness over the schedule);
//! - broadcasting, transposes, indexing and their adjoints are strided
//!   iterations (no index maps).
//!
//! Every element is computed by the same operations in the same order as an
//! op-by-op evaluation would, so fusion changes no bit of any result.

use super::ops::{eval_scalar, Cmp, Op, Red, UnFn, AXIS_ALL};
use super::{Aux, Graph, Ix, NodeId};
use crate::tensor::{numel, Shape};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Elements per block of a fused group.
pub const BLOCK: usize = 512;

/// Most axes a strided iteration handles after merging contiguous ones.
const MAXD: usize = 32;

/// A strided view: element i (row-major over `dims`) is at
/// `base + sum(idx[d] * stride[d])`.
#[derive(Clone, Debug)]
struct Strided {
    base: usize,
    /// (extent, stride), outermost first, merged where contiguous; never empty.
    dims: Vec<(usize, usize)>,
}

impl Strided {
    fn new(base: usize, ext: &[usize], st: &[usize]) -> Strided {
        let mut dims: Vec<(usize, usize)> = Vec::new();
        for (&e, &s) in ext.iter().zip(st) {
            if e == 1 {
                continue;
            }
            if let Some(last) = dims.last_mut() {
                if last.1 == s * e {
                    last.0 *= e;
                    last.1 = s;
                    continue;
                }
            }
            dims.push((e, s));
        }
        if dims.is_empty() {
            dims.push((1, 0));
        }
        assert!(dims.len() <= MAXD, "tensor of too high a rank");
        Strided { base, dims }
    }

    /// Calls `f(j, off, run, stride)` for the runs along the innermost axis
    /// that cover elements `start..start + count`: element `start + j + r`
    /// is at `off + r * stride` for `r < run`.
    #[inline(always)]
    fn runs(&self, start: usize, count: usize, mut f: impl FnMut(usize, usize, usize, usize)) {
        if count == 0 {
            return;
        }
        let nd = self.dims.len();
        let mut idx = [0usize; MAXD];
        let mut rem = start;
        let mut off = self.base;
        for d in (0..nd).rev() {
            let (e, s) = self.dims[d];
            idx[d] = rem % e;
            rem /= e;
            off += idx[d] * s;
        }
        let (ein, sin) = self.dims[nd - 1];
        let mut j = 0;
        loop {
            let run = (ein - idx[nd - 1]).min(count - j);
            f(j, off, run, sin);
            j += run;
            if j >= count {
                return;
            }
            off += run * sin;
            idx[nd - 1] += run;
            let mut d = nd - 1;
            while d > 0 && idx[d] == self.dims[d].0 {
                off -= idx[d] * self.dims[d].1;
                idx[d] = 0;
                d -= 1;
                idx[d] += 1;
                off += self.dims[d].1;
            }
        }
    }

    /// The period p when element i's place depends only on i mod p (the
    /// outer axes are broadcast), p a proper divisor of the length.
    fn period(&self) -> Option<usize> {
        let k = self.dims.iter().take_while(|d| d.1 == 0).count();
        if k == 0 || k == self.dims.len() {
            return None;
        }
        Some(self.dims[k..].iter().map(|d| d.0).product())
    }

    /// out[j] = src[at(start + j)].
    #[inline]
    fn gather(&self, src: &[f64], start: usize, out: &mut [f64]) {
        self.runs(start, out.len(), |j, off, run, st| {
            let o = &mut out[j..j + run];
            match st {
                0 if run < 16 => {
                    let v = src[off];
                    for x in o.iter_mut() {
                        *x = v;
                    }
                }
                0 => o.fill(src[off]),
                1 => o.copy_from_slice(&src[off..off + run]),
                _ => {
                    for (r, v) in o.iter_mut().enumerate() {
                        *v = src[off + r * st];
                    }
                }
            }
        });
    }

    /// out[at(start + j)] += x[j], in the order of j.
    #[inline]
    fn scatter_add(&self, x: &[f64], start: usize, out: &mut [f64]) {
        self.runs(start, x.len(), |j, off, run, st| {
            let xs = &x[j..j + run];
            match st {
                0 => {
                    let mut acc = out[off];
                    for &v in xs {
                        acc += v;
                    }
                    out[off] = acc;
                }
                1 => {
                    for (o, &v) in out[off..off + run].iter_mut().zip(xs) {
                        *o += v;
                    }
                }
                _ => {
                    for (r, &v) in xs.iter().enumerate() {
                        out[off + r * st] += v;
                    }
                }
            }
        });
    }
}

/// Where a group step finds a block of a value.
#[derive(Clone, Copy, Debug)]
enum Loc {
    /// A materialized value at this buffer offset (the block starts at
    /// offset + block start).
    Mem(usize),
    /// A scratch slot of `BLOCK` elements.
    Scratch(usize),
}

#[derive(Clone, Copy, Debug)]
enum GArg {
    /// A single element, broadcast.
    One(usize),
    /// The block's elements.
    Block(Loc),
}

#[derive(Clone, Debug)]
enum GStep {
    /// Fills a scratch slot with the block of a broadcast argument stored at
    /// (offset, len).
    Gather {
        src: usize,
        src_len: usize,
        map: Strided,
        slot: usize,
        /// The block is the same for every block (a periodic broadcast and
        /// a block length that is a multiple of the period): filled once.
        once: bool,
    },
    Elem {
        op: Op,
        args: Vec<GArg>,
        out: Loc,
    },
    /// out += every element of the block, in order (`Reduce(Sum)` over all).
    SumAll {
        src: Loc,
        out: usize,
    },
    /// out[map(i)] += src[i], in order (`SumTo`).
    SumTo {
        src: Loc,
        out: usize,
        out_len: usize,
        map: Strided,
    },
}

/// What an instruction does.
#[derive(Clone, Debug)]
enum Kind {
    /// One element of an elementwise op.
    Scalar { op: Op, args: [usize; 3], n: usize },
    /// Elementwise ops (and sums) over `len` elements, run block by block.
    /// `init` lists the sums' results with their starting value.
    Group {
        len: usize,
        block: usize,
        steps: Vec<GStep>,
        init: Vec<(usize, usize, f64)>,
    },
    /// out[i] = src[map(i)] (Expand, Permute, Index).
    Gather {
        src: usize,
        src_len: usize,
        map: Strided,
    },
    /// out = 0; out[map(i)] += src[i] (IndexAdj).
    Scatter {
        src: usize,
        src_len: usize,
        map: Strided,
    },
    /// out = concatenation of the blocks (offset, len).
    Stack(Vec<(usize, usize)>),
    /// A reduction of src viewed as [outer, n, inner] along the middle axis.
    Reduce {
        red: Red,
        src: usize,
        outer: usize,
        n: usize,
        inner: usize,
    },
    /// Products of the other elements along the middle axis.
    ProdExcl {
        src: usize,
        outer: usize,
        n: usize,
        inner: usize,
    },
    /// `batch` products of [m, k] @ [k, n]; operands with their (row,
    /// column, batch) strides.
    MatMul {
        a: usize,
        a_len: usize,
        ast: (isize, isize, usize),
        b: usize,
        b_len: usize,
        bst: (isize, isize, usize),
        batch: usize,
        m: usize,
        k: usize,
        n: usize,
    },
}

#[derive(Clone, Debug)]
struct Instr {
    out: usize,
    len: usize,
    kind: Kind,
}

/// A compiled evaluation of some outputs of a graph.
#[derive(Clone, Debug)]
pub struct Tape {
    instrs: Vec<Instr>,
    vals: Vec<f64>,
    /// Block-sized slots of the fused groups.
    scratch: Vec<f64>,
    /// (slot, offset, len) of every parameter node the outputs read.
    params: Vec<(u32, usize, usize)>,
    outputs: Vec<(usize, usize)>,
    output_shapes: Vec<Shape>,
    /// Number of graph nodes the tape evaluates (for tests and benchmarks).
    pub live_nodes: usize,
}

/// Row-major strides of a shape.
fn strides(shape: &[usize]) -> Vec<usize> {
    let mut st = vec![0; shape.len()];
    let mut s = 1;
    for i in (0..shape.len()).rev() {
        st[i] = s;
        s *= shape[i];
    }
    st
}

/// `src` broadcast to `out`: the strides of `src` over the axes of `out`.
fn broadcast_strided(src: &[usize], out: &[usize]) -> Strided {
    let nd = out.len();
    let mut st = vec![0usize; nd];
    let sst = strides(src);
    for i in 0..src.len() {
        let o = nd - src.len() + i;
        st[o] = if src[i] == 1 { 0 } else { sst[i] };
    }
    Strided::new(0, out, &st)
}

/// Where each element of `src[ix]` is in `src`.
fn index_strided(src: &[usize], ix: &[Ix]) -> Strided {
    let sst = strides(src);
    let mut base = 0;
    let mut out = Vec::new();
    let mut st = Vec::new();
    for (d, &n) in src.iter().enumerate() {
        match ix.get(d) {
            Some(Ix::At(k)) => base += k * sst[d],
            Some(Ix::Range(lo, hi)) => {
                base += lo * sst[d];
                out.push(hi - lo);
                st.push(sst[d]);
            }
            None => {
                out.push(n);
                st.push(sst[d]);
            }
        }
    }
    Strided::new(base, &out, &st)
}

/// [outer, n, inner] of a reduction of `shape` along `axis`.
fn split3(shape: &[usize], axis: u8) -> (usize, usize, usize) {
    if axis == AXIS_ALL {
        return (1, numel(shape), 1);
    }
    let a = axis as usize;
    (numel(&shape[..a]), shape[a], numel(&shape[a + 1..]))
}

/// Whether `perm` swaps the last two axes and keeps the others.
fn swaps_last(perm: &[usize]) -> bool {
    let r = perm.len();
    r >= 2
        && perm[r - 2] == r - 1
        && perm[r - 1] == r - 2
        && perm[..r - 2].iter().enumerate().all(|(i, &p)| i == p)
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
    /// Compiles the evaluation of `outputs`.
    pub fn new(g: &Graph, outputs: &[NodeId]) -> Tape {
        let nn = g.len();
        let len_of = |i: usize| numel(&g.nodes[i].shape);
        // Arguments as evaluated: broadcasts read through by elementwise ops,
        // transposes read through by matmul.
        let mut trans = vec![[false; 2]; nn];
        let rargs: Vec<Vec<usize>> = (0..nn)
            .map(|i| {
                let node = &g.nodes[i];
                if node.op.is_elementwise() {
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
        let is_free =
            |i: usize| matches!(g.nodes[i].op, Op::Const(_) | Op::Param(_) | Op::Reshape(_));
        let is_sink = |i: usize| {
            matches!(g.nodes[i].op, Op::SumTo | Op::Reduce(Red::Sum, AXIS_ALL))
                && len_of(rargs[i][0]) > 1
        };
        let key = |i: usize| -> Option<usize> {
            let op = g.nodes[i].op;
            if is_sink(i) {
                Some(len_of(rargs[i][0]))
            } else if op.is_elementwise() && !is_free(i) && len_of(i) != 1 {
                Some(len_of(i))
            } else {
                None
            }
        };

        // Schedule: a topological order that keeps same-sized elementwise
        // ops together. `units` are instructions: one node or a group.
        let mut units: Vec<Vec<usize>> = Vec::new();
        let mut unit_is_group: Vec<bool> = Vec::new();
        let mut ready_all: BTreeSet<usize> = BTreeSet::new();
        // Ready nodes over few elements: run first (cheap, and they often
        // stand between big elementwise ops that could be fused).
        let mut ready_small: BTreeSet<usize> = BTreeSet::new();
        let small = |n: usize| key(n).unwrap_or(len_of(n)) < BLOCK;
        let mut ready_by_key: HashMap<usize, BTreeSet<usize>> = HashMap::new();
        let mut free_order: Vec<usize> = Vec::new();
        let mut stack: Vec<usize> = Vec::new();
        // Marks `n` done: its consumers may become ready.
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
        let mut release = |n: usize,
                           indeg: &mut Vec<usize>,
                           ready_all: &mut BTreeSet<usize>,
                           ready_small: &mut BTreeSet<usize>,
                           ready_by_key: &mut HashMap<usize, BTreeSet<usize>>,
                           free_order: &mut Vec<usize>| {
            stack.push(n);
            while let Some(n) = stack.pop() {
                for &u in &users[n] {
                    indeg[u] -= 1;
                    if indeg[u] == 0 {
                        if is_free(u) {
                            free_order.push(u);
                            stack.push(u);
                        } else {
                            ready_all.insert(u);
                            if small(u) {
                                ready_small.insert(u);
                            }
                            if let Some(k) = key(u) {
                                ready_by_key.entry(k).or_default().insert(u);
                            }
                        }
                    }
                }
            }
        };
        for i in 0..nn {
            if simple {
                if live[i] {
                    if is_free(i) {
                        free_order.push(i);
                    } else {
                        units.push(vec![i]);
                        unit_is_group.push(false);
                    }
                }
                continue;
            }
            if live[i] && rargs[i].is_empty() {
                free_order.push(i);
                release(
                    i,
                    &mut indeg,
                    &mut ready_all,
                    &mut ready_small,
                    &mut ready_by_key,
                    &mut free_order,
                );
            }
        }
        let mut cur: Option<usize> = None;
        if simple {
            ready_all.clear();
        }
        let mut deferred: Vec<usize> = Vec::new();
        loop {
            if let Some(k) = cur {
                let next = ready_by_key.get(&k).and_then(|s| s.first().copied());
                if let Some(n) = next {
                    ready_by_key.get_mut(&k).expect("ready set").remove(&n);
                    ready_all.remove(&n);
                    ready_small.remove(&n);
                    units.last_mut().expect("open group").push(n);
                    if is_sink(n) {
                        deferred.push(n);
                    } else {
                        release(
                            n,
                            &mut indeg,
                            &mut ready_all,
                            &mut ready_small,
                            &mut ready_by_key,
                            &mut free_order,
                        );
                    }
                    continue;
                }
                cur = None;
                for d in std::mem::take(&mut deferred) {
                    release(
                        d,
                        &mut indeg,
                        &mut ready_all,
                        &mut ready_small,
                        &mut ready_by_key,
                        &mut free_order,
                    );
                }
                continue;
            }
            let Some(n) = ready_small
                .pop_first()
                .or_else(|| ready_all.first().copied())
            else {
                break;
            };
            ready_all.remove(&n);
            ready_small.remove(&n);
            units.push(vec![n]);
            match key(n) {
                Some(k) => {
                    ready_by_key.get_mut(&k).expect("ready set").remove(&n);
                    unit_is_group.push(true);
                    cur = Some(k);
                    if is_sink(n) {
                        deferred.push(n);
                    } else {
                        release(
                            n,
                            &mut indeg,
                            &mut ready_all,
                            &mut ready_small,
                            &mut ready_by_key,
                            &mut free_order,
                        );
                    }
                }
                None => {
                    unit_is_group.push(false);
                    release(
                        n,
                        &mut indeg,
                        &mut ready_all,
                        &mut ready_small,
                        &mut ready_by_key,
                        &mut free_order,
                    );
                }
            }
        }

        // Storage: aliases share their argument's; values used only inside
        // their group need none.
        let mut root: Vec<usize> = (0..nn).collect();
        for &i in &free_order {
            if let Op::Reshape(_) = g.nodes[i].op {
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
            if matches!(g.nodes[i].op, Op::Const(_) | Op::Param(_)) {
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
        let mut vals = vec![0.0; alloc.top];
        for &(off, c) in &vals_init {
            let data = &g.consts[c].data;
            vals[off..off + data.len()].copy_from_slice(data);
        }
        let off = |i: usize| offset[root[i]];

        // Instructions.
        let mut instrs = Vec::with_capacity(units.len());
        let mut max_slots = 0;
        for (t, u) in units.iter().enumerate() {
            if unit_is_group[t] {
                let len = key(u[0]).expect("group key");
                let mut slot_of: HashMap<usize, usize> = HashMap::new();
                let mut nslots = 0;
                let mut gathers = Vec::new();
                let mut body = Vec::new();
                let mut init = Vec::new();
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
                        if node.op == Op::SumTo {
                            init.push((off(n), len_of(n), 0.0));
                            let sh = &g.nodes[a].shape;
                            // the summed shape broadcast from the result's
                            let mut st = broadcast_strided(&node.shape, sh);
                            st.base = 0;
                            body.push(GStep::SumTo {
                                src,
                                out: off(n),
                                out_len: len_of(n),
                                map: st,
                            });
                        } else {
                            init.push((off(n), 1, std::iter::empty::<f64>().sum()));
                            body.push(GStep::SumAll { src, out: off(n) });
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
                        op: node.op,
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
                instrs.push(Instr {
                    out: 0,
                    len,
                    kind: Kind::Group {
                        len,
                        block,
                        steps: gathers,
                        init,
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
            let kind = match node.op {
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
                Op::SumTo => Kind::Scatter {
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
                    let (outer, n, inner) = split3(shape0, ax);
                    Kind::Reduce {
                        red,
                        src: off0,
                        outer,
                        n,
                        inner,
                    }
                }
                Op::ProdExcl(ax) => {
                    let (outer, n, inner) = split3(shape0, ax);
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
        Tape {
            instrs,
            vals,
            scratch: vec![0.0; max_slots * BLOCK],
            params,
            outputs: outputs_loc,
            output_shapes: outputs.iter().map(|&o| g.shape(o).to_vec()).collect(),
            live_nodes,
        }
    }

    /// Size of the value buffer and of the scratch slots, in elements.
    pub fn buffer_len(&self) -> (usize, usize) {
        (self.vals.len(), self.scratch.len())
    }

    /// Number of instructions (a fused group counts as one).
    pub fn instr_count(&self) -> usize {
        self.instrs.len()
    }

    /// The parameter slots the outputs read, with their element counts.
    pub fn param_slots(&self) -> impl Iterator<Item = (u32, usize)> + '_ {
        self.params.iter().map(|&(s, _, l)| (s, l))
    }

    /// Sets a parameter's value (a slot the tape does not read is ignored).
    pub fn set_param(&mut self, slot: u32, value: &[f64]) {
        for &(s, off, len) in &self.params {
            if s == slot {
                self.vals[off..off + len].copy_from_slice(&value[..len]);
            }
        }
    }

    /// Sets scalar parameter slots from a flat list: `slots[i]` gets `x[i]`.
    #[inline]
    pub fn set_scalars(&mut self, slot_offsets: &[usize], x: &[f64]) {
        for (&off, &v) in slot_offsets.iter().zip(x) {
            self.vals[off] = v;
        }
    }

    /// Copies `x` into the buffer at `off` (a parameter's elements).
    #[inline]
    pub fn set_scalars_range(&mut self, off: usize, x: &[f64]) {
        self.vals[off..off + x.len()].copy_from_slice(x);
    }

    /// The buffer offset of a parameter slot, for `set_scalars`.
    pub fn param_offset(&self, slot: u32) -> Option<usize> {
        self.params.iter().find(|p| p.0 == slot).map(|p| p.1)
    }

    /// Evaluates every instruction.
    pub fn forward(&mut self) {
        let total = self.vals.len();
        let p = self.vals.as_mut_ptr();
        let sp = self.scratch.as_mut_ptr();
        // SAFETY (all `rd`/`wr` below): every range lies inside the buffer
        // (offsets and lengths come from the compiled layout), and the
        // range an instruction writes never overlaps a range it reads:
        // a value's place is handed out again only after its last reader,
        // and scratch slots are distinct within a group.
        let rd = |off: usize, len: usize| -> &[f64] {
            debug_assert!(off + len <= total);
            unsafe { std::slice::from_raw_parts(p.add(off), len) }
        };
        let wr = |off: usize, len: usize| -> &mut [f64] {
            debug_assert!(off + len <= total);
            unsafe { std::slice::from_raw_parts_mut(p.add(off), len) }
        };
        for ins in &self.instrs {
            match &ins.kind {
                &Kind::Scalar { op, args, n } => {
                    // SAFETY: offsets inside the buffer.
                    let a = unsafe { [*p.add(args[0]), *p.add(args[1]), *p.add(args[2])] };
                    let v = eval_scalar(op, &a[..n]);
                    unsafe { *p.add(ins.out) = v };
                }
                Kind::Group {
                    len,
                    block,
                    steps,
                    init,
                } => {
                    for &(o, l, v) in init {
                        wr(o, l).fill(v);
                    }
                    let srd = |slot: usize, l: usize| -> &[f64] {
                        unsafe { std::slice::from_raw_parts(sp.add(slot * BLOCK), l) }
                    };
                    let swr = |slot: usize, l: usize| -> &mut [f64] {
                        unsafe { std::slice::from_raw_parts_mut(sp.add(slot * BLOCK), l) }
                    };
                    let blk = |l: Loc, start: usize, bl: usize| -> &[f64] {
                        match l {
                            Loc::Mem(o) => rd(o + start, bl),
                            Loc::Scratch(s) => srd(s, bl),
                        }
                    };
                    let mut start = 0;
                    while start < *len {
                        let bl = (*block).min(len - start);
                        for st in steps {
                            match st {
                                GStep::Gather {
                                    src,
                                    src_len,
                                    map,
                                    slot,
                                    once,
                                } => {
                                    if !*once || start == 0 {
                                        map.gather(rd(*src, *src_len), start, swr(*slot, bl))
                                    }
                                }
                                GStep::Elem { op, args, out } => {
                                    let mut v = [View::One(0.0), View::One(0.0), View::One(0.0)];
                                    for (k, a) in args.iter().enumerate() {
                                        v[k] = match *a {
                                            GArg::One(o) => View::One(rd(o, 1)[0]),
                                            GArg::Block(l) => View::Slice(blk(l, start, bl)),
                                        };
                                    }
                                    let o = match *out {
                                        Loc::Mem(o) => wr(o + start, bl),
                                        Loc::Scratch(s) => swr(s, bl),
                                    };
                                    elementwise(*op, &v[..args.len()], o);
                                }
                                GStep::SumAll { src, out } => {
                                    let o = wr(*out, 1);
                                    let mut acc = o[0];
                                    for &x in blk(*src, start, bl) {
                                        acc += x;
                                    }
                                    o[0] = acc;
                                }
                                GStep::SumTo {
                                    src,
                                    out,
                                    out_len,
                                    map,
                                } => {
                                    map.scatter_add(blk(*src, start, bl), start, wr(*out, *out_len))
                                }
                            }
                        }
                        start += bl;
                    }
                }
                Kind::Gather { src, src_len, map } => {
                    map.gather(rd(*src, *src_len), 0, wr(ins.out, ins.len))
                }
                Kind::Scatter { src, src_len, map } => {
                    let out = wr(ins.out, ins.len);
                    out.fill(0.0);
                    map.scatter_add(rd(*src, *src_len), 0, out);
                }
                Kind::Stack(parts) => {
                    let mut at = 0;
                    let out = wr(ins.out, ins.len);
                    for &(off, len) in parts {
                        out[at..at + len].copy_from_slice(rd(off, len));
                        at += len;
                    }
                }
                &Kind::Reduce {
                    red,
                    src,
                    outer,
                    n,
                    inner,
                } => reduce(
                    red,
                    rd(src, outer * n * inner),
                    wr(ins.out, ins.len),
                    outer,
                    n,
                    inner,
                ),
                &Kind::ProdExcl {
                    src,
                    outer,
                    n,
                    inner,
                } => prod_excl(
                    rd(src, outer * n * inner),
                    wr(ins.out, ins.len),
                    outer,
                    n,
                    inner,
                ),
                &Kind::MatMul {
                    a,
                    a_len,
                    ast,
                    b,
                    b_len,
                    bst,
                    batch,
                    m,
                    k,
                    n,
                } => {
                    let (pa, pb, pc) = (rd(a, a_len), rd(b, b_len), wr(ins.out, ins.len));
                    for bi in 0..batch {
                        matmul_strided(
                            &pa[bi * ast.2..(bi + 1) * ast.2],
                            ast,
                            &pb[bi * bst.2..(bi + 1) * bst.2],
                            bst,
                            &mut pc[bi * m * n..(bi + 1) * m * n],
                            m,
                            k,
                            n,
                        );
                    }
                }
            }
        }
    }

    /// Output `k`'s values.
    pub fn output(&self, k: usize) -> &[f64] {
        let (o, l) = self.outputs[k];
        &self.vals[o..o + l]
    }

    pub fn output_shape(&self, k: usize) -> &[usize] {
        &self.output_shapes[k]
    }
}

/// c = a @ b for row-major [m, k] and [k, n] blocks.
pub fn matmul(a: &[f64], b: &[f64], c: &mut [f64], m: usize, k: usize, n: usize) {
    matmul_strided(
        a,
        (k as isize, 1, m * k),
        b,
        (n as isize, 1, k * n),
        c,
        m,
        k,
        n,
    );
}

/// c = a @ b, a [m, k] and b [k, n] with (row, column) strides, c row-major.
#[allow(clippy::too_many_arguments)]
fn matmul_strided(
    a: &[f64],
    ast: (isize, isize, usize),
    b: &[f64],
    bst: (isize, isize, usize),
    c: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.fill(0.0);
        return;
    }
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    // SAFETY: `a` holds the [m, k] operand with the given strides (both
    // layouts span exactly m*k elements), likewise `b`; `c` holds m*n
    // elements row-major and does not alias `a` or `b`.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            ast.0,
            ast.1,
            b.as_ptr(),
            bst.0,
            bst.1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

fn reduce(red: Red, x: &[f64], out: &mut [f64], outer: usize, n: usize, inner: usize) {
    if red == Red::Sum && inner > 1 {
        // Row by row over contiguous slices; each result still adds its
        // elements in order.
        let init: f64 = std::iter::empty::<f64>().sum();
        for o in 0..outer {
            let acc = &mut out[o * inner..(o + 1) * inner];
            acc.fill(init);
            for i in 0..n {
                let row = &x[(o * n + i) * inner..(o * n + i + 1) * inner];
                for (a, &v) in acc.iter_mut().zip(row) {
                    *a += v;
                }
            }
        }
        return;
    }
    for o in 0..outer {
        for j in 0..inner {
            let base = o * n * inner + j;
            let it = (0..n).map(|i| x[base + i * inner]);
            out[o * inner + j] = match red {
                Red::Sum => it.sum(),
                Red::Prod => it.product(),
                Red::Norm => it.map(|v| v * v).sum::<f64>().sqrt(),
                // torch.amax/amin propagate nan
                Red::Max => it.fold(f64::NEG_INFINITY, |a, v| {
                    if v.is_nan() || a.is_nan() {
                        f64::NAN
                    } else {
                        a.max(v)
                    }
                }),
                Red::Min => it.fold(f64::INFINITY, |a, v| {
                    if v.is_nan() || a.is_nan() {
                        f64::NAN
                    } else {
                        a.min(v)
                    }
                }),
            };
        }
    }
}

fn prod_excl(x: &[f64], out: &mut [f64], outer: usize, n: usize, inner: usize) {
    for o in 0..outer {
        for j in 0..inner {
            let base = o * n * inner + j;
            // prefix products, then multiplied by suffix products
            let mut p = 1.0;
            for i in 0..n {
                out[base + i * inner] = p;
                p *= x[base + i * inner];
            }
            let mut s = 1.0;
            for i in (0..n).rev() {
                out[base + i * inner] *= s;
                s *= x[base + i * inner];
            }
        }
    }
}

/// An argument as a kernel reads it.
#[derive(Clone, Copy)]
enum View<'a> {
    One(f64),
    Slice(&'a [f64]),
}

impl View<'_> {
    #[inline(always)]
    fn at(&self, i: usize) -> f64 {
        match self {
            View::One(v) => *v,
            View::Slice(s) => s[i],
        }
    }
}

#[inline(always)]
fn un<F: Fn(f64) -> f64>(args: &[View], out: &mut [f64], f: F) {
    match args[0] {
        View::Slice(a) => {
            for (o, &x) in out.iter_mut().zip(a) {
                *o = f(x);
            }
        }
        View::One(x) => out.fill(f(x)),
    }
}

#[inline(always)]
fn bin<F: Fn(f64, f64) -> f64>(args: &[View], out: &mut [f64], f: F) {
    match (args[0], args[1]) {
        (View::Slice(a), View::Slice(b)) => {
            for ((o, &x), &y) in out.iter_mut().zip(a).zip(b) {
                *o = f(x, y);
            }
        }
        (View::Slice(a), View::One(y)) => {
            for (o, &x) in out.iter_mut().zip(a) {
                *o = f(x, y);
            }
        }
        (View::One(x), View::Slice(b)) => {
            for (o, &y) in out.iter_mut().zip(b) {
                *o = f(x, y);
            }
        }
        (View::One(x), View::One(y)) => out.fill(f(x, y)),
    }
}

#[inline(always)]
fn tern<F: Fn(f64, f64, f64) -> f64>(args: &[View], out: &mut [f64], f: F) {
    let (a, b, c) = (args[0], args[1], args[2]);
    for (i, o) in out.iter_mut().enumerate() {
        *o = f(a.at(i), b.at(i), c.at(i));
    }
}

/// An elementwise op over a block.
fn elementwise(op: Op, args: &[View], out: &mut [f64]) {
    macro_rules! unfns {
        ($f:expr; $($v:ident),*) => {
            match $f {
                $(UnFn::$v => un(args, out, |x| UnFn::$v.apply(x)),)*
            }
        };
    }
    match op {
        Op::PowC => {
            if let View::One(e) = args[1] {
                if e == 2.0 {
                    return un(args, out, |x| x * x);
                }
                return un(args, out, |x| super::ops::pow_const(x, e));
            }
            bin(args, out, super::ops::pow_const)
        }
        Op::Pow => bin(args, out, f64::powf),
        Op::Min => bin(args, out, |x, y| eval_scalar(Op::Min, &[x, y])),
        Op::Max => bin(args, out, |x, y| eval_scalar(Op::Max, &[x, y])),
        Op::Atan2 => bin(args, out, f64::atan2),
        Op::And => bin(args, out, |x, y| eval_scalar(Op::And, &[x, y])),
        Op::Or => bin(args, out, |x, y| eval_scalar(Op::Or, &[x, y])),
        Op::Neg => un(args, out, |x| -x),
        Op::Not => un(args, out, |x| if x == 0.0 { 1.0 } else { 0.0 }),
        Op::Add => bin(args, out, |x, y| x + y),
        Op::Sub => bin(args, out, |x, y| x - y),
        Op::Mul => bin(args, out, |x, y| x * y),
        Op::Div => bin(args, out, |x, y| x / y),
        Op::Un(f) => unfns!(f; Abs, Sqrt, Exp, Log, Log1p, Expm1, Sin, Cos, Tan, Asin, Acos,
            Atan, Sinh, Cosh, Tanh, Sigmoid, Relu, Softplus, Sign, Floor, Ceil, Round, StdSqrt),
        Op::Cmp(c) => {
            let m = |v: bool| if v { 1.0 } else { 0.0 };
            match c {
                Cmp::Lt => bin(args, out, |x, y| m(x < y)),
                Cmp::Le => bin(args, out, |x, y| m(x <= y)),
                Cmp::Gt => bin(args, out, |x, y| m(x > y)),
                Cmp::Ge => bin(args, out, |x, y| m(x >= y)),
                Cmp::Eq => bin(args, out, |x, y| m(x == y)),
                Cmp::Ne => bin(args, out, |x, y| m(x != y)),
            }
        }
        Op::Clamp => tern(
            args,
            out,
            |x, l, h| if x.is_nan() { x } else { x.max(l).min(h) },
        ),
        Op::Where => tern(args, out, |c, a, b| if c != 0.0 { a } else { b }),
        // Not elementwise; never compiled as a group step.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::super::autodiff::grad;
    use super::super::ops::UnFn;
    use super::*;

    #[test]
    fn beale_shares_subexpressions_and_matches_torch() {
        let mut g = Graph::new();
        let x = g.param(0, vec![]);
        let y = g.param(1, vec![]);
        let term = |g: &mut Graph, c: f64, p: f64| {
            let cc = g.scalar(c);
            let s = g.node(Op::Sub, &[cc, x]).unwrap();
            let e = g.scalar(p);
            let yp = g.node(Op::Pow, &[y, e]).unwrap();
            let xy = g.node(Op::Mul, &[x, yp]).unwrap();
            let t = g.node(Op::Add, &[s, xy]).unwrap();
            let two = g.scalar(2.0);
            g.node(Op::Pow, &[t, two]).unwrap()
        };
        let a = term(&mut g, 1.5, 1.0);
        let b = term(&mut g, 2.25, 2.0);
        let c = term(&mut g, 2.625, 3.0);
        let ab = g.node(Op::Add, &[a, b]).unwrap();
        let f = g.node(Op::Add, &[ab, c]).unwrap();
        // `1.5 - x` and friends each exist once
        let n = g.len();
        let _ = term(&mut g, 1.5, 1.0);
        assert_eq!(g.len(), n);
        let gr = grad(&mut g, f, &[x, y]);
        let mut t = Tape::new(&g, &[f, gr[0], gr[1]]);
        t.set_param(0, &[-1.0]);
        t.set_param(1, &[2.0]);
        t.forward();
        assert_eq!(t.output(0), &[19.953125]);
        assert_eq!(t.output(1), &[-64.75]);
        assert_eq!(t.output(2), &[110.0]);
    }

    #[test]
    fn second_derivative() {
        let mut g = Graph::new();
        let x = g.param(0, vec![]);
        let s = g.node(Op::Un(UnFn::Sin), &[x]).unwrap();
        let d = grad(&mut g, s, &[x])[0];
        let dd = grad(&mut g, d, &[x])[0];
        let mut t = Tape::new(&g, &[dd]);
        t.set_param(0, &[1.0]);
        t.forward();
        assert_eq!(t.output(0), &[-(1.0f64).sin()]);
    }

    #[test]
    fn fused_groups_match_op_by_op_and_share_buffers() {
        let mut g = Graph::new();
        let w = g.param(0, vec![4]);
        let xs: Vec<f64> = (0..3000).map(|i| i as f64 / 1000.0).collect();
        let x = g.constant(crate::tensor::Tensor {
            shape: vec![3000, 1],
            data: xs.clone(),
        });
        let d = g.node(Op::Sub, &[x, w]).unwrap();
        let e = g.node(Op::Un(UnFn::Exp), &[d]).unwrap();
        let s = g.node(Op::Mul, &[e, d]).unwrap();
        let r = g.reduce(Red::Sum, s, AXIS_ALL).unwrap();
        let gr = grad(&mut g, r, &[w]);
        let mut t = Tape::new(&g, &[r, gr[0]]);
        let wv = [0.5, -0.25, 1.0, 2.0];
        t.set_param(0, &wv);
        t.forward();
        // the same sum, element by element in row-major order
        let mut want = std::iter::empty::<f64>().sum::<f64>();
        let mut dw = [0.0; 4];
        for &xi in &xs {
            for j in 0..4 {
                let dv = xi - wv[j];
                want += dv.exp() * dv;
                dw[j] -= dv.exp() * (dv + 1.0);
            }
        }
        assert_eq!(t.output(0), &[want]);
        for (got, want) in t.output(1).iter().zip(dw) {
            assert!((got - want).abs() <= 1e-9 * want.abs());
        }
        // [3000, 4] intermediates live in block-sized scratch slots
        assert!(t.buffer_len().0 < 2 * 12000, "{:?}", t.buffer_len());
    }

    #[test]
    fn broadcasting_and_sum_to() {
        let mut g = Graph::new();
        let w = g.param(0, vec![3]);
        let k = g.constant(crate::tensor::Tensor {
            shape: vec![2, 1],
            data: vec![1.0, 10.0],
        });
        let p = g.node(Op::Mul, &[w, k]).unwrap();
        assert_eq!(g.shape(p), &[2, 3]);
        let mut t = Tape::new(&g, &[p]);
        t.set_param(0, &[1.0, 2.0, 3.0]);
        t.forward();
        assert_eq!(t.output(0), &[1.0, 2.0, 3.0, 10.0, 20.0, 30.0]);
    }
}
