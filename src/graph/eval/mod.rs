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
//!
//! Large groups and matmuls are split into pieces of fixed size that may
//! run on several threads (`parallel`); partial sums are combined in piece
//! order, so the thread count changes no bit of any result.
//!
//! The parts: `compile` (building a `Tape` from a graph), `group` (running
//! a fused group), `parallel` (the threads), `strided` (the strided views),
//! `kernels` (matmul, reductions, elementwise blocks); this file holds the
//! instruction set and `forward`, which runs it.

/// Evaluates `$body` (returning from the enclosing function) compiled for
/// AVX2 when the CPU has it, else as plain code: the same operations
/// without FMA, so the same bits either way.
macro_rules! with_avx2 {
    ($name:ident, $body:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            unsafe fn $name<R>(f: impl FnOnce() -> R) -> R {
                f()
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                let f = || $body;
                // SAFETY: the CPU has AVX2 (checked just above).
                return unsafe { $name(f) };
            }
        }
        $body
    }};
}

mod compile;
mod gemm;
mod group;
mod kernels;
mod mv;
mod parallel;
mod strided;

pub use kernels::matmul;
pub use parallel::threads;

use self::group::{Bufs, Group, Sink};
use self::kernels::{matmul_tape, prod_excl, reduce};
use self::parallel::Shared;
use self::strided::Strided;
use super::ops::{eval_scalar, Op, Red};
use crate::tensor::Shape;

/// Elements per block of a fused group.
pub const BLOCK: usize = 512;

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
    /// `part`: where a piece's partial sum goes in its record.
    SumAll {
        src: Loc,
        out: usize,
        part: usize,
    },
    /// out[map(i)] += src[i], in order (`SumTo`).
    SumTo {
        src: Loc,
        out: usize,
        out_len: usize,
        map: Strided,
        part: usize,
    },
    /// A matrix-vector product of the group's values as a matrix of
    /// `cols` columns (the block holds whole rows): `out[row] = src[row,
    /// :] · vec[..cols]` per row of the block (`trans` false), or
    /// `out[..cols] += src[row, :] * vec[row]` row by row in order, a sum
    /// with a place `part` in a piece's record (`trans`: the matrix's
    /// transpose times the vector).
    Mv {
        src: Loc,
        vec: usize,
        cols: usize,
        out: usize,
        trans: bool,
        part: usize,
    },
}

/// What an instruction does.
#[derive(Clone, Debug)]
enum Kind {
    /// One element of an elementwise op.
    Scalar { op: Op, args: [usize; 3], n: usize },
    /// Elementwise ops (and sums) over `len` elements, run block by block
    /// (see `group`); `chunk`: elements per piece (0: not split), `record`:
    /// partial sums per piece.
    Group {
        len: usize,
        block: usize,
        steps: Vec<GStep>,
        sinks: Vec<Sink>,
        chunk: usize,
        record: usize,
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
    /// Block-sized slots of the fused groups, `scratch_stride` elements
    /// for each worker thread.
    scratch: Vec<f64>,
    scratch_stride: usize,
    /// Elements per scratch slot: `BLOCK`, or the longest block a group
    /// needs for its matrix rows.
    slot_len: usize,
    /// The pieces' partial sums of split groups.
    partials: Vec<f64>,
    /// The packing buffers of the general matmuls (`gemm`).
    gemm: gemm::Workspace,
    /// (slot, offset, len) of every parameter node the outputs read.
    params: Vec<(u32, usize, usize)>,
    /// (slot, offset, len) of every data input node the outputs read.
    inputs: Vec<(u32, usize, usize)>,
    outputs: Vec<(usize, usize)>,
    output_shapes: Vec<Shape>,
    /// Number of graph nodes the tape evaluates (for tests and benchmarks).
    pub live_nodes: usize,
}
impl Tape {
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

    /// Sets a data input's value, a batch of `len` elements (a slot the
    /// tape does not read is ignored).
    pub fn set_input(&mut self, slot: u32, value: &[f64]) {
        for &(s, off, len) in &self.inputs {
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
        let mem = Mem {
            p: self.vals.as_mut_ptr(),
            total: self.vals.len(),
        };
        let bufs = Bufs {
            vals: Shared(mem.p),
            total: mem.total,
            scratch: Shared(self.scratch.as_mut_ptr()),
            scratch_stride: self.scratch_stride,
            slot_len: self.slot_len,
            partials: Shared(self.partials.as_mut_ptr()),
        };
        for ins in &self.instrs {
            // SAFETY: every range lies inside the buffer (offsets and
            // lengths come from the compiled layout), and the range an
            // instruction writes never overlaps a range it reads: a
            // value's place is handed out again only after its last
            // reader, and scratch slots are distinct within a group. The
            // scratch and partial buffers are sized for every worker and
            // piece.
            unsafe { ins.run(mem, bufs, &mut self.gemm) };
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

/// The value buffer as the instructions read and write it.
#[derive(Clone, Copy)]
struct Mem {
    p: *mut f64,
    total: usize,
}

impl Mem {
    /// The `len` values at `off`.
    ///
    /// SAFETY: the range lies inside the buffer, and nothing writes it
    /// while the slice is alive.
    unsafe fn rd<'a>(self, off: usize, len: usize) -> &'a [f64] {
        debug_assert!(off + len <= self.total);
        unsafe { std::slice::from_raw_parts(self.p.add(off), len) }
    }

    /// The `len` values at `off`, to write.
    ///
    /// SAFETY: the range lies inside the buffer, and nothing else reads
    /// or writes it while the slice is alive.
    #[allow(clippy::mut_from_ref)]
    unsafe fn wr<'a>(self, off: usize, len: usize) -> &'a mut [f64] {
        debug_assert!(off + len <= self.total);
        unsafe { std::slice::from_raw_parts_mut(self.p.add(off), len) }
    }
}

impl Instr {
    /// Evaluates the instruction.
    ///
    /// SAFETY: `mem` and `bufs` are the buffers of the tape it belongs to
    /// (see `Tape::forward`).
    unsafe fn run(&self, mem: Mem, bufs: Bufs, ws: &mut gemm::Workspace) {
        match &self.kind {
            &Kind::Scalar { op, args, n } => {
                let a = args.map(|off| unsafe { *mem.p.add(off) });
                unsafe { *mem.p.add(self.out) = eval_scalar(op, &a[..n]) };
            }
            Kind::Group {
                len,
                block,
                steps,
                sinks,
                chunk,
                record,
            } => {
                let group = Group {
                    len: *len,
                    block: *block,
                    steps,
                    sinks,
                    chunk: *chunk,
                    record: *record,
                };
                unsafe { group.run(bufs) };
            }
            Kind::MatMul { .. } => unsafe { self.matmul(mem, ws) },
            _ => unsafe { self.run_on_arrays(mem) },
        }
    }

    /// Evaluates an instruction that reads whole values and writes its
    /// result in one go: a gather, scatter, stack or reduction.
    ///
    /// SAFETY: as for `run`.
    unsafe fn run_on_arrays(&self, mem: Mem) {
        let out = unsafe { mem.wr(self.out, self.len) };
        match &self.kind {
            Kind::Gather { src, src_len, map } => {
                map.gather(unsafe { mem.rd(*src, *src_len) }, 0, out)
            }
            Kind::Scatter { src, src_len, map } => {
                out.fill(0.0);
                map.scatter_add(unsafe { mem.rd(*src, *src_len) }, 0, out);
            }
            Kind::Stack(parts) => {
                let mut at = 0;
                for &(off, len) in parts {
                    out[at..at + len].copy_from_slice(unsafe { mem.rd(off, len) });
                    at += len;
                }
            }
            &Kind::Reduce {
                red,
                src,
                outer,
                n,
                inner,
            } => {
                let src = unsafe { mem.rd(src, outer * n * inner) };
                reduce(red, src, out, outer, n, inner)
            }
            &Kind::ProdExcl {
                src,
                outer,
                n,
                inner,
            } => {
                let src = unsafe { mem.rd(src, outer * n * inner) };
                prod_excl(src, out, outer, n, inner)
            }
            Kind::Scalar { .. } | Kind::Group { .. } | Kind::MatMul { .. } => {
                unreachable!("not an instruction on whole arrays")
            }
        }
    }

    /// Evaluates a `Kind::MatMul`: its `batch` products one by one.
    ///
    /// SAFETY: as for `run`.
    unsafe fn matmul(&self, mem: Mem, ws: &mut gemm::Workspace) {
        let &Kind::MatMul {
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
        } = &self.kind
        else {
            unreachable!("a matmul instruction")
        };
        let (pa, pb) = unsafe { (mem.rd(a, a_len), mem.rd(b, b_len)) };
        let pc = unsafe { mem.wr(self.out, self.len) };
        for bi in 0..batch {
            assert!((bi + 1) * ast.2 <= a_len && (bi + 1) * bst.2 <= b_len);
            // SAFETY: product bi's operands lie in `pa`, `pb`
            // (asserted), its result in `pc`, which overlaps neither.
            unsafe {
                matmul_tape(
                    ws,
                    pa[bi * ast.2..].as_ptr(),
                    (ast.0, ast.1),
                    pb[bi * bst.2..].as_ptr(),
                    (bst.0, bst.1),
                    pc[bi * m * n..(bi + 1) * m * n].as_mut_ptr(),
                    m,
                    k,
                    n,
                )
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::autodiff::grad;
    use super::super::ops::UnFn;
    use super::super::{Axis, Graph};
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
        let r = g.reduce(Red::Sum, s, Axis::All).unwrap();
        let gr = grad(&mut g, r, &[w]);
        let mut t = Tape::new(&g, &[r, gr[0]]);
        let wv = [0.5, -0.25, 1.0, 2.0];
        t.set_param(0, &wv);
        t.forward();
        // the same sum, element by element in row-major order, in pieces
        // of 16 blocks whose sums are then added in order
        let mut parts = [std::iter::empty::<f64>().sum::<f64>(); 2];
        let mut dw = [0.0; 4];
        for (i, &xi) in xs.iter().enumerate() {
            for j in 0..4 {
                let dv = xi - wv[j];
                let e = crate::tensor::vmath::exp(dv);
                parts[(i * 4 + j) / (16 * BLOCK)] += e * dv;
                dw[j] -= e * (dv + 1.0);
            }
        }
        assert_eq!(t.output(0), &[parts[0] + parts[1]]);
        for (got, want) in t.output(1).iter().zip(dw) {
            assert!((got - want).abs() <= 1e-9 * want.abs());
        }
        // [3000, 4] intermediates live in block-sized scratch slots
        assert!(t.buffer_len().0 < 2 * 12000, "{:?}", t.buffer_len());
    }

    /// An outer product (k == 1) fuses with what reads it: of the [m, n]
    /// values only h (read by the matmul) is stored, and each element is
    /// the plain product; the
    /// transposed operand ([40, 1] seen as [1, 40]) is an alias.
    #[test]
    fn outer_products_fuse_and_matrix_vector_products_match() {
        let (m, n) = (300, 40);
        let mut g = Graph::new();
        let a = g.param(0, vec![m, 1]);
        let w = g.param(1, vec![n, 1]);
        let wt = g.swap_last(w).unwrap();
        let p = g.node(Op::MatMul, &[a, wt]).unwrap();
        let one = g.scalar(1.0);
        let s = g.node(Op::Add, &[p, one]).unwrap();
        let h = g.node(Op::Un(UnFn::Relu), &[s]).unwrap();
        // a matrix-vector product of h: rows of 40 contiguous elements
        let y = g.node(Op::MatMul, &[h, w]).unwrap();
        let r = g.reduce(Red::Sum, y, Axis::All).unwrap();
        let mut t = Tape::new(&g, &[r]);
        let av: Vec<f64> = (0..m).map(|i| (i as f64 - 150.0) / 37.0).collect();
        let wv: Vec<f64> = (0..n).map(|j| ((j * 7 % 11) as f64 - 5.0) / 3.0).collect();
        t.set_param(0, &av);
        t.set_param(1, &wv);
        t.forward();
        assert!(t.buffer_len().0 < 2 * m * n, "{:?}", t.buffer_len());
        let mut want = 0.0;
        for &ai in &av {
            let row: Vec<f64> = wv.iter().map(|&wj| (ai * wj + 1.0).max(0.0)).collect();
            want += row.iter().zip(&wv).map(|(h, w)| h * w).sum::<f64>();
        }
        let got = t.output(0)[0];
        assert!((got - want).abs() <= 1e-12 * want.abs(), "{got} {want}");
    }

    /// The adaptive basis, `sum((sigmoid((x - alpha) / beta) @ c - y)^2)`
    /// over [n, k] with its gradient: the matrix-vector product and its
    /// transpose's run inside the groups and the backward group recomputes
    /// the sigmoids, so no [n, k] value is stored; the values and
    /// gradients are those of a plain loop.
    #[test]
    fn fused_matrix_vector_products_and_recomputed_sigmoids_match_a_plain_loop() {
        let (n, k) = (14000, 10);
        let mut g = Graph::new();
        let c = g.param(0, vec![k]);
        let alpha = g.param(1, vec![k]);
        let beta = g.param(2, vec![k]);
        let xs: Vec<f64> = (0..n).map(|i| -2.0 + 4.0 * i as f64 / n as f64).collect();
        let ys: Vec<f64> = xs.iter().map(|x| (3.0 * x).sin()).collect();
        let x = g.constant(crate::tensor::Tensor {
            shape: vec![n, 1],
            data: xs.clone(),
        });
        let y = g.constant(crate::tensor::Tensor {
            shape: vec![n, 1],
            data: ys.clone(),
        });
        let d = g.node(Op::Sub, &[x, alpha]).unwrap();
        let z = g.node(Op::Div, &[d, beta]).unwrap();
        let e = g.node(Op::Un(UnFn::Exp), &[z]).unwrap();
        let one = g.scalar(1.0);
        let den = g.node(Op::Add, &[one, e]).unwrap();
        let s = g.node(Op::Div, &[one, den]).unwrap();
        let cc = g.reshape(c, &[k, 1]).unwrap();
        let m = g.node(Op::MatMul, &[s, cc]).unwrap();
        let r = g.node(Op::Sub, &[m, y]).unwrap();
        let sq = g.node(Op::Mul, &[r, r]).unwrap();
        let loss = g.reduce(Red::Sum, sq, Axis::All).unwrap();
        let gr = grad(&mut g, loss, &[c, alpha, beta]);
        let mut t = Tape::new(&g, &[loss, gr[0], gr[1], gr[2]]);
        let mut value_only = Tape::new(&g, &[loss]);
        assert!(t.buffer_len().0 < n * k, "{:?}", t.buffer_len());
        assert!(
            value_only.buffer_len().0 < n * k,
            "{:?}",
            value_only.buffer_len()
        );
        let cv: Vec<f64> = (0..k).map(|j| 0.1 + 0.01 * j as f64).collect();
        let av: Vec<f64> = (0..k).map(|j| -1.8 + 0.4 * j as f64).collect();
        let bv: Vec<f64> = (0..k).map(|j| 0.5 + 0.02 * j as f64).collect();
        for tape in [&mut t, &mut value_only] {
            tape.set_param(0, &cv);
            tape.set_param(1, &av);
            tape.set_param(2, &bv);
            tape.forward();
        }
        let (want, scale, grads, sizes) = basis_by_loop(&xs, &ys, [&cv, &av, &bv]);
        let close = |got: f64, want: f64, size: f64| (got - want).abs() <= 1e-13 * size;
        let got = t.output(0)[0];
        assert!(close(got, want, scale), "{got} {want}");
        // the forward pass is the same with or without the backward's
        assert_eq!(t.output(0)[0].to_bits(), value_only.output(0)[0].to_bits());
        for q in 0..3 {
            for j in 0..k {
                let got = t.output(q + 1)[j];
                assert!(
                    close(got, grads[j][q], sizes[j][q]),
                    "{q} {j}: {got} {}",
                    grads[j][q]
                );
            }
        }
    }

    /// The adaptive basis's loss by a plain loop, the sum of its terms'
    /// sizes, and for each column the gradients' (c, alpha, beta) sums and
    /// the sums of their terms' sizes.
    #[allow(clippy::type_complexity)]
    fn basis_by_loop(
        xs: &[f64],
        ys: &[f64],
        [cv, av, bv]: [&[f64]; 3],
    ) -> (f64, f64, Vec<[f64; 3]>, Vec<[f64; 3]>) {
        let k = cv.len();
        let (mut loss, mut scale) = (0.0f64, 0.0f64);
        let mut grads = vec![[0.0f64; 3]; k];
        let mut sizes = vec![[0.0f64; 3]; k];
        for (&x, &y) in xs.iter().zip(ys) {
            let sv: Vec<(f64, f64)> = (0..k)
                .map(|j| {
                    let e = crate::tensor::vmath::exp((x - av[j]) / bv[j]);
                    (1.0 / (1.0 + e), e)
                })
                .collect();
            let ri = sv.iter().zip(cv).map(|(s, c)| s.0 * c).sum::<f64>() - y;
            loss += ri * ri;
            scale += ri * ri;
            for j in 0..k {
                let (sj, ej) = sv[j];
                let ds = -2.0 * ri * cv[j] * ej * sj * sj / bv[j];
                let terms = [2.0 * ri * sj, -ds, -ds * (x - av[j]) / bv[j]];
                for q in 0..3 {
                    grads[j][q] += terms[q];
                    sizes[j][q] += terms[q].abs();
                }
            }
        }
        (loss, scale, grads, sizes)
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
