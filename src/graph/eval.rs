//! The forward evaluator. A `Tape` is compiled once from a graph and a set
//! of outputs: it keeps only the nodes the outputs need, in topological
//! order, gives each a fixed place in one value buffer, and precomputes the
//! argument offsets (and broadcasting index maps) of every instruction.
//! Evaluating it allocates nothing; a scalar instruction is one `match`.

use super::ops::{eval_scalar, Cmp, Op, Red, UnFn, AXIS_ALL};
use super::{Aux, Graph, Ix, NodeId};
use crate::tensor::{numel, Shape};

/// Where an argument's elements come from for each output element.
#[derive(Clone, Debug)]
enum Src {
    /// A single element, broadcast.
    One(usize),
    /// Same number of elements as the output: element i.
    Same(usize),
    /// General broadcasting: element `map[i]` of the block at `off`.
    Map(usize, Vec<u32>),
}

/// What an instruction does beyond elementwise arithmetic.
#[derive(Clone, Debug)]
enum Kind {
    /// Elementwise `op` over `args` (with broadcasting).
    Elem,
    /// out = 0; out[map[i]] += src[i] (SumTo, IndexAdj).
    Scatter(usize, Vec<u32>),
    /// out[i] = src[map[i]] (Expand, Permute, Index).
    Gather(usize, Vec<u32>),
    /// out = src (Reshape).
    Copy(usize),
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
    /// `batch` products of [m, k] @ [k, n].
    MatMul {
        a: usize,
        b: usize,
        batch: usize,
        m: usize,
        k: usize,
        n: usize,
    },
}

#[derive(Clone, Debug)]
struct Instr {
    op: Op,
    out: usize,
    len: usize,
    args: Vec<Src>,
    kind: Kind,
}

/// A compiled evaluation of some outputs of a graph.
#[derive(Clone, Debug)]
pub struct Tape {
    instrs: Vec<Instr>,
    vals: Vec<f64>,
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

/// For each element of `out` (row-major), the source offset
/// `base + sum(idx[d] * st[d])`.
fn strided_map(out: &[usize], st: &[usize], base: usize) -> Vec<u32> {
    let n = numel(out);
    let nd = out.len();
    let mut map = Vec::with_capacity(n);
    let mut idx = vec![0usize; nd];
    let mut cur = base;
    for _ in 0..n {
        map.push(cur as u32);
        for d in (0..nd).rev() {
            idx[d] += 1;
            cur += st[d];
            if idx[d] < out[d] {
                break;
            }
            cur -= st[d] * idx[d];
            idx[d] = 0;
        }
    }
    map
}

/// Index of the source element for each element of `out` under broadcasting.
fn broadcast_map(src: &[usize], out: &[usize]) -> Vec<u32> {
    let nd = out.len();
    let mut st = vec![0usize; nd];
    let sst = strides(src);
    for i in 0..src.len() {
        let o = nd - src.len() + i;
        st[o] = if src[i] == 1 { 0 } else { sst[i] };
    }
    strided_map(out, &st, 0)
}

/// Gather map of `Index`: for each result element, its place in the source.
fn index_map(src: &[usize], ix: &[Ix]) -> Vec<u32> {
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
    strided_map(&out, &st, base)
}

/// [outer, n, inner] of a reduction of `shape` along `axis`.
fn split3(shape: &[usize], axis: u8) -> (usize, usize, usize) {
    if axis == AXIS_ALL {
        return (1, numel(shape), 1);
    }
    let a = axis as usize;
    (numel(&shape[..a]), shape[a], numel(&shape[a + 1..]))
}

impl Tape {
    /// Compiles the evaluation of `outputs`.
    pub fn new(g: &Graph, outputs: &[NodeId]) -> Tape {
        let mut live = vec![false; g.len()];
        for &o in outputs {
            live[o as usize] = true;
        }
        for i in (0..g.len()).rev() {
            if live[i] {
                for &a in &g.nodes[i].args {
                    live[a as usize] = true;
                }
            }
        }
        let mut offset = vec![usize::MAX; g.len()];
        let mut total = 0;
        let mut vals = Vec::new();
        let mut instrs = Vec::new();
        let mut params = Vec::new();
        let mut live_nodes = 0;
        for (i, node) in g.nodes.iter().enumerate() {
            if !live[i] {
                continue;
            }
            live_nodes += 1;
            let len = numel(&node.shape);
            offset[i] = total;
            total += len;
            match node.op {
                Op::Const(c) => vals.extend_from_slice(&g.consts[c as usize].data),
                Op::Param(slot) => {
                    vals.resize(total, 0.0);
                    params.push((slot, offset[i], len));
                }
                op => {
                    vals.resize(total, 0.0);
                    let a0 = node.args[0];
                    let off0 = offset[a0 as usize];
                    let shape0 = &g.nodes[a0 as usize].shape;
                    let mut args = Vec::new();
                    let kind = match op {
                        Op::SumTo => Kind::Scatter(off0, broadcast_map(&node.shape, shape0)),
                        Op::IndexAdj(a) => match &g.aux[a as usize] {
                            Aux::Index(src, ix) => Kind::Scatter(off0, index_map(src, ix)),
                            _ => unreachable!("IndexAdj without index data"),
                        },
                        Op::Index(a) => match &g.aux[a as usize] {
                            Aux::Index(src, ix) => Kind::Gather(off0, index_map(src, ix)),
                            _ => unreachable!("Index without index data"),
                        },
                        Op::Expand(_) => Kind::Gather(off0, broadcast_map(shape0, &node.shape)),
                        Op::Permute(a) => {
                            let p = g.aux_shape(a);
                            let sst = strides(shape0);
                            let st: Vec<usize> = p.iter().map(|&d| sst[d]).collect();
                            Kind::Gather(off0, strided_map(&node.shape, &st, 0))
                        }
                        Op::Reshape(_) => Kind::Copy(off0),
                        Op::Stack => Kind::Stack(
                            node.args
                                .iter()
                                .map(|&a| (offset[a as usize], g.numel(a)))
                                .collect(),
                        ),
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
                            let sb = &g.nodes[node.args[1] as usize].shape;
                            let r = shape0.len();
                            Kind::MatMul {
                                a: off0,
                                b: offset[node.args[1] as usize],
                                batch: numel(&shape0[..r - 2]),
                                m: shape0[r - 2],
                                k: shape0[r - 1],
                                n: sb[sb.len() - 1],
                            }
                        }
                        _ => {
                            for &a in &node.args {
                                let an = &g.nodes[a as usize];
                                let alen = numel(&an.shape);
                                let off = offset[a as usize];
                                if alen == 1 {
                                    args.push(Src::One(off));
                                } else if an.shape == node.shape {
                                    args.push(Src::Same(off));
                                } else {
                                    args.push(Src::Map(off, broadcast_map(&an.shape, &node.shape)));
                                }
                            }
                            Kind::Elem
                        }
                    };
                    instrs.push(Instr {
                        op,
                        out: offset[i],
                        len,
                        args,
                        kind,
                    });
                }
            }
        }
        let outputs_loc = outputs
            .iter()
            .map(|&o| (offset[o as usize], g.numel(o)))
            .collect();
        Tape {
            instrs,
            vals,
            params,
            outputs: outputs_loc,
            output_shapes: outputs.iter().map(|&o| g.shape(o).to_vec()).collect(),
            live_nodes,
        }
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

    /// Evaluates every instruction. Each instruction matches on its op once
    /// and then runs a tight loop over its elements.
    pub fn forward(&mut self) {
        let vals = &mut self.vals;
        for ins in &self.instrs {
            // Arguments always live before the result in the buffer.
            let (lo, hi) = vals.split_at_mut(ins.out);
            let out = &mut hi[..ins.len];
            match &ins.kind {
                Kind::Elem => {
                    if ins.len == 1 {
                        let mut a = [0.0; 3];
                        for (k, s) in ins.args.iter().enumerate() {
                            a[k] = match s {
                                Src::One(o) | Src::Same(o) => lo[*o],
                                Src::Map(o, m) => lo[o + m[0] as usize],
                            };
                        }
                        out[0] = eval_scalar(ins.op, &a[..ins.args.len()]);
                    } else {
                        elementwise(ins.op, &ins.args, lo, out);
                    }
                }
                Kind::Scatter(src, map) => {
                    out.fill(0.0);
                    for (i, &m) in map.iter().enumerate() {
                        out[m as usize] += lo[src + i];
                    }
                }
                Kind::Gather(src, map) => {
                    let s = &lo[*src..];
                    for (o, &m) in out.iter_mut().zip(map) {
                        *o = s[m as usize];
                    }
                }
                Kind::Copy(src) => out.copy_from_slice(&lo[*src..src + ins.len]),
                Kind::Stack(parts) => {
                    let mut at = 0;
                    for &(off, len) in parts {
                        out[at..at + len].copy_from_slice(&lo[off..off + len]);
                        at += len;
                    }
                }
                &Kind::Reduce {
                    red,
                    src,
                    outer,
                    n,
                    inner,
                } => reduce(red, &lo[src..src + outer * n * inner], out, outer, n, inner),
                &Kind::ProdExcl {
                    src,
                    outer,
                    n,
                    inner,
                } => prod_excl(&lo[src..src + outer * n * inner], out, outer, n, inner),
                &Kind::MatMul {
                    a,
                    b,
                    batch,
                    m,
                    k,
                    n,
                } => {
                    for bi in 0..batch {
                        let pa = &lo[a + bi * m * k..a + (bi + 1) * m * k];
                        let pb = &lo[b + bi * k * n..b + (bi + 1) * k * n];
                        let pc = &mut out[bi * m * n..(bi + 1) * m * n];
                        matmul(pa, pb, pc, m, k, n);
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
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        c.fill(0.0);
        return;
    }
    // SAFETY: the slices hold exactly m*k, k*n and m*n elements, row-major
    // with the strides given, and `c` does not alias `a` or `b`.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            1.0,
            a.as_ptr(),
            k as isize,
            1,
            b.as_ptr(),
            n as isize,
            1,
            0.0,
            c.as_mut_ptr(),
            n as isize,
            1,
        );
    }
}

fn reduce(red: Red, x: &[f64], out: &mut [f64], outer: usize, n: usize, inner: usize) {
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
enum View<'a> {
    One(f64),
    Slice(&'a [f64]),
    Map(&'a [f64], &'a [u32]),
}

#[inline(always)]
fn view<'a>(s: &'a Src, lo: &'a [f64], len: usize) -> View<'a> {
    match s {
        Src::One(o) => View::One(lo[*o]),
        Src::Same(o) => View::Slice(&lo[*o..o + len]),
        Src::Map(o, m) => View::Map(&lo[*o..], m),
    }
}

impl View<'_> {
    #[inline(always)]
    fn at(&self, i: usize) -> f64 {
        match self {
            View::One(v) => *v,
            View::Slice(s) => s[i],
            View::Map(s, m) => s[m[i] as usize],
        }
    }
}

#[inline(always)]
fn un<F: Fn(f64) -> f64>(args: &[Src], lo: &[f64], out: &mut [f64], f: F) {
    match view(&args[0], lo, out.len()) {
        View::Slice(a) => {
            for (o, &x) in out.iter_mut().zip(a) {
                *o = f(x);
            }
        }
        v => {
            for (i, o) in out.iter_mut().enumerate() {
                *o = f(v.at(i));
            }
        }
    }
}

#[inline(always)]
fn bin<F: Fn(f64, f64) -> f64>(args: &[Src], lo: &[f64], out: &mut [f64], f: F) {
    let n = out.len();
    match (view(&args[0], lo, n), view(&args[1], lo, n)) {
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
        (a, b) => {
            for (i, o) in out.iter_mut().enumerate() {
                *o = f(a.at(i), b.at(i));
            }
        }
    }
}

#[inline(always)]
fn tern<F: Fn(f64, f64, f64) -> f64>(args: &[Src], lo: &[f64], out: &mut [f64], f: F) {
    let n = out.len();
    let (a, b, c) = (
        view(&args[0], lo, n),
        view(&args[1], lo, n),
        view(&args[2], lo, n),
    );
    for (i, o) in out.iter_mut().enumerate() {
        *o = f(a.at(i), b.at(i), c.at(i));
    }
}

/// An elementwise instruction over more than one element.
fn elementwise(op: Op, args: &[Src], lo: &[f64], out: &mut [f64]) {
    macro_rules! unfns {
        ($f:expr; $($v:ident),*) => {
            match $f {
                $(UnFn::$v => un(args, lo, out, |x| UnFn::$v.apply(x)),)*
            }
        };
    }
    match op {
        Op::PowC => {
            if let View::One(e) = view(&args[1], lo, out.len()) {
                if e == 2.0 {
                    return un(args, lo, out, |x| x * x);
                }
                return un(args, lo, out, |x| super::ops::pow_const(x, e));
            }
            bin(args, lo, out, super::ops::pow_const)
        }
        Op::Pow => bin(args, lo, out, f64::powf),
        Op::Min => bin(args, lo, out, |x, y| eval_scalar(Op::Min, &[x, y])),
        Op::Max => bin(args, lo, out, |x, y| eval_scalar(Op::Max, &[x, y])),
        Op::Atan2 => bin(args, lo, out, f64::atan2),
        Op::And => bin(args, lo, out, |x, y| eval_scalar(Op::And, &[x, y])),
        Op::Or => bin(args, lo, out, |x, y| eval_scalar(Op::Or, &[x, y])),
        Op::Neg => un(args, lo, out, |x| -x),
        Op::Not => un(args, lo, out, |x| if x == 0.0 { 1.0 } else { 0.0 }),
        Op::Add => bin(args, lo, out, |x, y| x + y),
        Op::Sub => bin(args, lo, out, |x, y| x - y),
        Op::Mul => bin(args, lo, out, |x, y| x * y),
        Op::Div => bin(args, lo, out, |x, y| x / y),
        Op::Un(f) => unfns!(f; Abs, Sqrt, Exp, Log, Log1p, Expm1, Sin, Cos, Tan, Asin, Acos,
            Atan, Sinh, Cosh, Tanh, Sigmoid, Relu, Softplus, Sign, Floor, Ceil, Round, StdSqrt),
        Op::Cmp(c) => {
            let m = |v: bool| if v { 1.0 } else { 0.0 };
            match c {
                Cmp::Lt => bin(args, lo, out, |x, y| m(x < y)),
                Cmp::Le => bin(args, lo, out, |x, y| m(x <= y)),
                Cmp::Gt => bin(args, lo, out, |x, y| m(x > y)),
                Cmp::Ge => bin(args, lo, out, |x, y| m(x >= y)),
                Cmp::Eq => bin(args, lo, out, |x, y| m(x == y)),
                Cmp::Ne => bin(args, lo, out, |x, y| m(x != y)),
            }
        }
        Op::Clamp => tern(
            args,
            lo,
            out,
            |x, l, h| if x.is_nan() { x } else { x.max(l).min(h) },
        ),
        Op::Where => tern(args, lo, out, |c, a, b| if c != 0.0 { a } else { b }),
        // Not elementwise; never compiled as `Kind::Elem`.
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
