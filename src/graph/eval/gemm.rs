//! A packed, register-blocked dgemm (c = a @ b, BLIS style) whose packing
//! buffers are a `Workspace` made when a tape is compiled, so a product
//! allocates nothing when the tape runs.
//!
//! The loops: columns of c in panels of NC, the sum over k in blocks of
//! KC, and for each (NC, KC) block B's panel is packed once (in slivers
//! of `NR` columns, zero-padded) into the shared part of the workspace;
//! then the rows of c are cut into fixed pieces (at most MC rows, and
//! across columns too when there are few rows) that may run on several
//! threads, each packing its rows of A (slivers of `MR` rows, zero-padded)
//! into its worker's part and running the `MR` × `NR` micro-kernel over
//! its tiles. The operands are read through any (row, column) strides, so
//! a transposed operand is packed as it is read.
//!
//! Every element of c is the same sum in the same order wherever its tile
//! lies and whichever thread computes it: the KC blocks in ascending order
//! (c = block 0, then c += block 1, ...), each block a chain of fused
//! multiply-adds over its k in ascending order. So neither the pieces nor
//! the thread count change a bit. The micro-kernel is AVX2 + FMA
//! intrinsics when the CPU has them (checked at run time); otherwise a
//! plain kernel of the same blocking with separate multiplies and adds
//! (its last bits differ from the FMA kernel's: it runs only on CPUs
//! without FMA).

use super::parallel::{for_each, Shared};

/// Rows of the micro-kernel's tile.
pub(super) const MR: usize = 6;
/// Columns of the micro-kernel's tile (two AVX vectors).
pub(super) const NR: usize = 8;
/// The block sizes of the packed loops.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Blocking {
    /// Rows of a packed block of A (a multiple of `MR`): MC × KC fits in L2.
    mc: usize,
    /// Depth of a packed block: an `MR` × KC sliver of A and a KC × `NR`
    /// sliver of B fit in L1 together.
    kc: usize,
    /// Columns of a packed panel of B (a multiple of `NR`).
    nc: usize,
}

/// The blocking used, measured on AMD Zen 3 (32 KiB L1d, 512 KiB L2).
const BLOCKING: Blocking = Blocking {
    mc: 120,
    kc: 256,
    nc: 512,
};
/// The least work (multiply-adds of one KC block) worth several pieces.
const PAR_WORK: usize = 1 << 17;
/// Pieces a block is cut into, at least, when it has enough work (so two
/// to four threads stay busy even with few rows).
const MIN_PIECES: usize = 4;
/// Doubles the buffers are aligned to (a cache line).
const ALIGN: usize = 8;

/// The packing buffers of the products of one tape: a panel of B shared
/// by the pieces, and a block of A for each worker thread.
#[derive(Clone)]
pub struct Workspace {
    buf: Vec<f64>,
    /// Elements of B's panel (a multiple of `ALIGN`).
    b_len: usize,
    /// Elements of each worker's block of A (a multiple of `ALIGN`).
    a_len: usize,
    workers: usize,
    bl: Blocking,
}

impl Default for Workspace {
    fn default() -> Self {
        Workspace::for_shapes([], 1)
    }
}

impl std::fmt::Debug for Workspace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Workspace {{ b: {}, a: {} × {} }}",
            self.b_len, self.workers, self.a_len
        )
    }
}

/// Rounds `x` up to a multiple of `m`.
fn round_up(x: usize, m: usize) -> usize {
    x.div_ceil(m) * m
}

impl Workspace {
    /// Buffers big enough for every [m, k] @ [k, n] product in `shapes`
    /// (given as (m, k, n)), run on up to `workers` threads.
    pub fn for_shapes(
        shapes: impl IntoIterator<Item = (usize, usize, usize)>,
        workers: usize,
    ) -> Self {
        Self::with_blocking(shapes, workers, BLOCKING)
    }

    /// `for_shapes` with the given blocking.
    fn with_blocking(
        shapes: impl IntoIterator<Item = (usize, usize, usize)>,
        workers: usize,
        bl: Blocking,
    ) -> Self {
        let (mut b_len, mut a_len, mut par) = (0, 0, false);
        for (m, k, n) in shapes {
            let kc = k.min(bl.kc);
            b_len = b_len.max(kc * round_up(n.min(bl.nc), NR));
            a_len = a_len.max(round_up(m.min(bl.mc), MR) * kc);
            par |= m * kc * n.min(bl.nc) >= PAR_WORK;
        }
        let workers = if par { workers.max(1) } else { 1 };
        let (b_len, a_len) = (round_up(b_len, ALIGN), round_up(a_len, ALIGN));
        let total = if b_len + a_len == 0 {
            0
        } else {
            b_len + a_len * workers + ALIGN
        };
        Workspace {
            buf: vec![0.0; total],
            b_len,
            a_len,
            workers,
            bl,
        }
    }

    /// Whether a product of these sizes fits the buffers.
    fn fits(&self, m: usize, k: usize, n: usize) -> bool {
        let bl = self.bl;
        let kc = k.min(bl.kc);
        kc * round_up(n.min(bl.nc), NR) <= self.b_len
            && round_up(m.min(bl.mc), MR) * kc <= self.a_len
    }

    /// The start of the buffers, aligned to a cache line.
    fn base(&mut self) -> *mut f64 {
        let p = self.buf.as_mut_ptr();
        let skip = (ALIGN - (p as usize / 8) % ALIGN) % ALIGN;
        // SAFETY: the buffer has ALIGN spare elements at its end.
        unsafe { p.add(skip) }
    }
}

/// An operand: its first element and (row, column) strides.
#[derive(Clone, Copy)]
pub(super) struct Operand {
    pub(super) p: *const f64,
    pub(super) rs: isize,
    pub(super) cs: isize,
}
// SAFETY: operands are only read while the product runs.
unsafe impl Send for Operand {}
unsafe impl Sync for Operand {}

impl Operand {
    /// The element at (i, j).
    #[inline(always)]
    unsafe fn at(self, i: usize, j: usize) -> f64 {
        unsafe { *self.p.offset(i as isize * self.rs + j as isize * self.cs) }
    }
}

/// c = a @ b: a [m, k], b [k, n], c [m, n] row-major (row stride n).
///
/// SAFETY: `a` and `b` hold their operands' elements at their strides, `c`
/// holds m * n elements and overlaps neither, and `ws` fits the product
/// (`Workspace::for_shapes` with these sizes); otherwise this panics.
pub(super) unsafe fn gemm(
    ws: &mut Workspace,
    a: Operand,
    b: Operand,
    c: *mut f64,
    m: usize,
    k: usize,
    n: usize,
) {
    if unsafe { !trivial(c, m, k, n) } {
        unsafe { gemm_with(Kernel::best(), ws, a, b, c, m, k, n) }
    }
}

/// Does the products with nothing to multiply: an empty c (nothing to
/// write), or k == 0 (c is all zeros, an empty sum). Whether it did.
///
/// SAFETY: `c` holds m * n elements.
pub(super) unsafe fn trivial(c: *mut f64, m: usize, k: usize, n: usize) -> bool {
    if m == 0 || n == 0 {
        return true;
    }
    if k == 0 {
        unsafe { std::slice::from_raw_parts_mut(c, m * n) }.fill(0.0);
        return true;
    }
    false
}

/// `gemm` with a given micro-kernel.
///
/// SAFETY: as `gemm`, and `kernel` runs on this CPU.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_with(
    kernel: Kernel,
    ws: &mut Workspace,
    a: Operand,
    b: Operand,
    c: *mut f64,
    m: usize,
    k: usize,
    n: usize,
) {
    assert!(
        ws.fits(m, k, n),
        "gemm workspace too small for [{m}, {k}] @ [{k}, {n}]"
    );
    let base = ws.base();
    let (bp, ap) = (Shared(base), Shared(unsafe { base.add(ws.b_len) }));
    let (a_len, workers, c, bl) = (ws.a_len, ws.workers, Shared(c), ws.bl);
    for jc in (0..n).step_by(bl.nc) {
        let nc = bl.nc.min(n - jc);
        for pc in (0..k).step_by(bl.kc) {
            let kc = bl.kc.min(k - pc);
            let blk = Block {
                pc,
                kc,
                jc,
                nc,
                first: pc == 0,
            };
            unsafe { pack_b_panel(b, blk, bp.ptr()) };
            let plan = Plan::new(m, bl.mc, blk, workers > 1);
            let piece = |p: usize, w: usize| {
                assert!(w < workers, "worker {w} has no packing buffer");
                let (rows, cols) = plan.piece(p);
                // SAFETY: worker w's block of A is its own; pieces write
                // disjoint tiles of c; B's panel is only read here.
                unsafe {
                    let apw = ap.ptr().add(w * a_len);
                    run_piece(kernel, a, blk, bl.mc, rows, cols, apw, bp.ptr(), c.ptr(), n);
                }
            };
            if plan.par {
                for_each(plan.pieces, &piece);
            } else {
                (0..plan.pieces).for_each(|p| piece(p, 0));
            }
        }
    }
}

/// One (NC, KC) block of the product: columns jc..jc+nc of c, k in
/// pc..pc+kc; `first`: the first KC block (c is set, not added to).
#[derive(Clone, Copy)]
struct Block {
    pc: usize,
    kc: usize,
    jc: usize,
    nc: usize,
    first: bool,
}

/// The fixed pieces of a block: row ranges of at most MC rows (multiples
/// of `MR`) times column ranges of the panel (multiples of `NR`); they
/// depend only on the sizes.
struct Plan {
    m: usize,
    nc: usize,
    rows: usize,
    cols: usize,
    col_pieces: usize,
    pieces: usize,
    /// Whether the pieces may run on several threads.
    par: bool,
}

impl Plan {
    fn new(m: usize, mc: usize, blk: Block, par: bool) -> Plan {
        let (nc, work) = (blk.nc, m * blk.kc * blk.nc);
        if !par || work < PAR_WORK {
            let rows = round_up(m.min(mc), MR);
            let pieces = m.div_ceil(rows);
            return Plan {
                m,
                nc,
                rows,
                cols: nc,
                col_pieces: 1,
                pieces,
                par: false,
            };
        }
        let row_pieces = m.div_ceil(mc).max(m.div_ceil(MR).min(MIN_PIECES));
        let rows = round_up(m.div_ceil(row_pieces), MR);
        let row_pieces = m.div_ceil(rows);
        let want_cols = MIN_PIECES.div_ceil(row_pieces);
        let cols = round_up(nc.div_ceil(want_cols), NR);
        let col_pieces = nc.div_ceil(cols);
        Plan {
            m,
            nc,
            rows,
            cols,
            col_pieces,
            pieces: row_pieces * col_pieces,
            par: true,
        }
    }

    /// Piece p's rows of c and columns of the panel (from the panel's start).
    fn piece(&self, p: usize) -> ((usize, usize), (usize, usize)) {
        let (ri, ci) = (p / self.col_pieces, p % self.col_pieces);
        let r0 = ri * self.rows;
        let c0 = ci * self.cols;
        (
            (r0, (r0 + self.rows).min(self.m)),
            (c0, (c0 + self.cols).min(self.nc)),
        )
    }
}

/// Packs rows r0..r1 of c's rows, for block `blk` of A, then runs the
/// tiles of columns c0..c1 of the panel: a piece, MC rows at a time.
///
/// SAFETY: as `gemm`; `apw` holds `mc_max` × kc elements of this worker.
#[allow(clippy::too_many_arguments)]
unsafe fn run_piece(
    kernel: Kernel,
    a: Operand,
    blk: Block,
    mc_max: usize,
    (r0, r1): (usize, usize),
    (c0, c1): (usize, usize),
    apw: *mut f64,
    bp: *const f64,
    c: *mut f64,
    ldc: usize,
) {
    let kc = blk.kc;
    for i0 in (r0..r1).step_by(mc_max) {
        let mc = mc_max.min(r1 - i0);
        unsafe { pack_a(a, i0, mc, blk.pc, kc, apw) };
        for j in (c0..c1).step_by(NR) {
            let nr = NR.min(c1 - j);
            let bs = unsafe { bp.add(j * kc) };
            for i in (0..mc).step_by(MR) {
                let mr = MR.min(mc - i);
                let ct = unsafe { c.add((i0 + i) * ldc + blk.jc + j) };
                let at = unsafe { apw.add(i * kc) };
                unsafe { kernel.run(kc, at, bs, ct, ldc, mr, nr, blk.first) };
            }
        }
    }
}

/// Packs B's panel of block `blk` into `dst`: slivers of `NR` columns,
/// each kc rows of NR elements, columns past the end zero; in pieces on
/// several threads when the panel is large.
///
/// SAFETY: `dst` holds kc × round_up(nc, NR) elements.
unsafe fn pack_b_panel(b: Operand, blk: Block, dst: *mut f64) {
    let slivers = blk.nc.div_ceil(NR);
    let per = if blk.kc * blk.nc >= PAR_WORK / 4 {
        8
    } else {
        slivers
    };
    let dst = Shared(dst);
    for_each(slivers.div_ceil(per), &|p, _| {
        for s in p * per..((p + 1) * per).min(slivers) {
            // SAFETY: sliver s's kc × NR elements; pieces write disjoint slivers.
            unsafe { pack_b_sliver(b, blk, s, dst.ptr().add(s * NR * blk.kc)) };
        }
    });
}

/// Packs sliver `s` of B's panel (columns jc + s·NR ..) into `dst`.
///
/// SAFETY: as `pack_b_panel`, `dst` holds kc × NR elements.
unsafe fn pack_b_sliver(b: Operand, blk: Block, s: usize, dst: *mut f64) {
    let (kc, j0) = (blk.kc, blk.jc + s * NR);
    let nr = NR.min(blk.jc + blk.nc - j0);
    let out = unsafe { std::slice::from_raw_parts_mut(dst, kc * NR) };
    if nr < NR {
        out.fill(0.0);
    }
    if b.rs.unsigned_abs() < b.cs.unsigned_abs() {
        // a column is contiguous: read down each column
        for j in 0..nr {
            for p in 0..kc {
                out[p * NR + j] = unsafe { b.at(blk.pc + p, j0 + j) };
            }
        }
    } else {
        for p in 0..kc {
            for j in 0..nr {
                out[p * NR + j] = unsafe { b.at(blk.pc + p, j0 + j) };
            }
        }
    }
}

/// Packs rows i0..i0+mc, k in pc..pc+kc of A into `dst`: slivers of `MR`
/// rows, each kc columns of MR elements, rows past the end zero.
///
/// SAFETY: `dst` holds round_up(mc, MR) × kc elements.
unsafe fn pack_a(a: Operand, i0: usize, mc: usize, pc: usize, kc: usize, dst: *mut f64) {
    for s in 0..mc.div_ceil(MR) {
        let r0 = i0 + s * MR;
        let mr = MR.min(i0 + mc - r0);
        let out = unsafe { std::slice::from_raw_parts_mut(dst.add(s * MR * kc), MR * kc) };
        if mr < MR {
            out.fill(0.0);
        }
        if a.cs.unsigned_abs() < a.rs.unsigned_abs() {
            // a row is contiguous: read along each row
            for r in 0..mr {
                for p in 0..kc {
                    out[p * MR + r] = unsafe { a.at(r0 + r, pc + p) };
                }
            }
        } else {
            for p in 0..kc {
                for r in 0..mr {
                    out[p * MR + r] = unsafe { a.at(r0 + r, pc + p) };
                }
            }
        }
    }
}

/// The micro-kernel in use.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Kernel {
    /// AVX2 + FMA intrinsics.
    Fma,
    /// Plain code, separate multiplies and adds.
    Plain,
}

impl Kernel {
    /// The FMA kernel when the CPU has AVX2 and FMA, else the plain one.
    pub(super) fn best() -> Kernel {
        #[cfg(target_arch = "x86_64")]
        {
            if std::arch::is_x86_feature_detected!("avx2")
                && std::arch::is_x86_feature_detected!("fma")
            {
                return Kernel::Fma;
            }
        }
        Kernel::Plain
    }

    /// c tile (mr × nr of it, row stride ldc) = (first ? 0 : c) + the sum
    /// over p < kc of a sliver's column p times b sliver's row p.
    ///
    /// SAFETY: `a` holds MR × kc, `b` kc × NR packed elements, `c` the
    /// tile; `Fma` only on a CPU with AVX2 and FMA.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    unsafe fn run(
        self,
        kc: usize,
        a: *const f64,
        b: *const f64,
        c: *mut f64,
        ldc: usize,
        mr: usize,
        nr: usize,
        first: bool,
    ) {
        let mut tile = [0.0f64; MR * NR];
        let full = mr == MR && nr == NR;
        let (out, ld) = if full {
            (c, ldc)
        } else {
            (tile.as_mut_ptr(), NR)
        };
        if !full && !first {
            for r in 0..mr {
                for j in 0..nr {
                    tile[r * NR + j] = unsafe { *c.add(r * ldc + j) };
                }
            }
        }
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::Fma => unsafe { fma::kernel(kc, a, b, out, ld, first) },
            _ => unsafe { plain_kernel(kc, a, b, out, ld, first) },
        }
        if !full {
            for r in 0..mr {
                for j in 0..nr {
                    unsafe { *c.add(r * ldc + j) = tile[r * NR + j] };
                }
            }
        }
    }
}

/// The plain micro-kernel: a full MR × NR tile at `c` (row stride ldc).
///
/// SAFETY: as `Kernel::run` with a full tile.
unsafe fn plain_kernel(
    kc: usize,
    a: *const f64,
    b: *const f64,
    c: *mut f64,
    ldc: usize,
    first: bool,
) {
    let (a, b) = unsafe {
        (
            std::slice::from_raw_parts(a, MR * kc),
            std::slice::from_raw_parts(b, NR * kc),
        )
    };
    let mut acc = [[0.0f64; NR]; MR];
    for (ap, bp) in a.chunks_exact(MR).zip(b.chunks_exact(NR)) {
        for (row, &av) in acc.iter_mut().zip(ap) {
            for (x, &bv) in row.iter_mut().zip(bp) {
                *x += av * bv;
            }
        }
    }
    for (r, row) in acc.iter().enumerate() {
        for (j, &x) in row.iter().enumerate() {
            let o = unsafe { &mut *c.add(r * ldc + j) };
            *o = if first { x } else { *o + x };
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod fma {
    //! The AVX2 + FMA micro-kernel: 6 × 8 tile, 12 accumulators, A's
    //! elements broadcast, B's row two vectors.
    use super::{MR, NR};
    use std::arch::x86_64::*;

    /// A full MR × NR tile at `c` (row stride ldc) = (first ? 0 : c) + a·b.
    ///
    /// SAFETY: as `Kernel::run` with a full tile, on a CPU with AVX2 + FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn kernel(
        kc: usize,
        a: *const f64,
        b: *const f64,
        c: *mut f64,
        ldc: usize,
        first: bool,
    ) {
        // the tile of c is read or written once the sums are done: ask for
        // its lines now (a row of 8 doubles spans at most two lines)
        for r in 0..MR {
            let o = unsafe { c.add(r * ldc) } as *const i8;
            _mm_prefetch::<_MM_HINT_T0>(o);
            _mm_prefetch::<_MM_HINT_T0>(o.wrapping_add(8 * NR - 1));
        }
        let mut acc = [[_mm256_setzero_pd(); 2]; MR];
        let (mut a, mut b) = (a, b);
        // one step of k: the same fused multiply-adds in the same order
        // with or without the unrolling below
        let mut step = |a: *const f64, b: *const f64| unsafe {
            let b0 = _mm256_loadu_pd(b);
            let b1 = _mm256_loadu_pd(b.add(4));
            for (r, row) in acc.iter_mut().enumerate() {
                let av = _mm256_broadcast_sd(&*a.add(r));
                row[0] = _mm256_fmadd_pd(av, b0, row[0]);
                row[1] = _mm256_fmadd_pd(av, b1, row[1]);
            }
        };
        for _ in 0..kc / 4 {
            for u in 0..4 {
                unsafe { step(a.add(u * MR), b.add(u * NR)) };
            }
            unsafe {
                a = a.add(4 * MR);
                b = b.add(4 * NR);
            }
        }
        for _ in 0..kc % 4 {
            step(a, b);
            unsafe {
                a = a.add(MR);
                b = b.add(NR);
            }
        }
        for (r, row) in acc.iter().enumerate() {
            unsafe {
                let o = c.add(r * ldc);
                let (mut x0, mut x1) = (row[0], row[1]);
                if !first {
                    x0 = _mm256_add_pd(_mm256_loadu_pd(o), x0);
                    x1 = _mm256_add_pd(_mm256_loadu_pd(o.add(4)), x1);
                }
                _mm256_storeu_pd(o, x0);
                _mm256_storeu_pd(o.add(4), x1);
            }
        }
    }
}

#[cfg(test)]
mod tests;
