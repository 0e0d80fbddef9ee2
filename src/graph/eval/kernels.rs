//! The kernels the tape runs: matmul (through `gemm`, or a gemv), reductions
//! along an axis, products of the other elements, and the elementwise ops
//! over a block, each argument either a slice or one broadcast element.

use super::gemm::{self, gemm, Operand, Workspace};
use super::parallel::{for_each, threads, Shared};
use super::{Instr, Kind};
use crate::graph::ops::{self, Cmp, Op, Red, UnFn};
use crate::tensor::vmath;

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

/// c = a @ b, a [m, k] and b [k, n] with (row, column) strides, c row-major,
/// by the tape's kernels with packing buffers made for this one product.
#[allow(clippy::too_many_arguments)]
pub(super) fn matmul_strided(
    a: &[f64],
    ast: (isize, isize, usize),
    b: &[f64],
    bst: (isize, isize, usize),
    c: &mut [f64],
    m: usize,
    k: usize,
    n: usize,
) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    let mut ws = Workspace::for_shapes([(m, k, n)], threads());
    // SAFETY: `a` holds the [m, k] operand with the given strides (both
    // layouts span exactly m*k elements), likewise `b`; `c` holds m*n
    // elements row-major and does not alias `a` or `b`; `ws` is made for
    // this product.
    unsafe {
        matmul_tape(
            &mut ws,
            a.as_ptr(),
            (ast.0, ast.1),
            b.as_ptr(),
            (bst.0, bst.1),
            c.as_mut_ptr(),
            m,
            k,
            n,
        )
    }
}

/// Rows per piece of a split matrix-vector product.
const MV_ROWS: usize = 1024;
/// The least work (multiply-adds) worth splitting across threads.
const PAR_WORK: usize = 1 << 17;

/// Whether `matmul_tape` runs an [m, k] @ [k, n] product through `gemm`
/// (and so needs room for it in the workspace).
fn is_general(m: usize, k: usize, n: usize) -> bool {
    m > 1 && n > 1 && k > 0
}

/// The packing buffers for the general products among `instrs`, for
/// `Tape::forward` (made once, when the tape is compiled).
pub(super) fn gemm_workspace(instrs: &[Instr]) -> Workspace {
    let shapes = instrs.iter().filter_map(|ins| match ins.kind {
        Kind::MatMul { m, k, n, .. } if is_general(m, k, n) => Some((m, k, n)),
        _ => None,
    });
    Workspace::for_shapes(shapes, threads())
}

/// c = a @ b as `matmul_strided`, for the tape: a matrix-vector product
/// (n == 1, or m == 1) by `gemv` rather than packing a whole matrix (an
/// outer product, k == 1, is compiled as an elementwise `Mul`), others by
/// the packed `gemm` in `ws`, in fixed pieces that may run on several
/// threads (each element of c is computed the same way in any piece).
///
/// SAFETY: as `matmul_strided`: `a`, `b` hold the operands with the given
/// strides and c (m * n elements, row-major) overlaps neither; `ws` was
/// made for shapes including this one (`gemm_workspace`).
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn matmul_tape(
    ws: &mut Workspace,
    a: *const f64,
    ast: (isize, isize),
    b: *const f64,
    bst: (isize, isize),
    c: *mut f64,
    m: usize,
    k: usize,
    n: usize,
) {
    if unsafe { gemm::trivial(c, m, k, n) } {
        return;
    }
    if n == 1 {
        return unsafe { gemv(a, ast.0, ast.1, b, bst.0, c, m, k) };
    }
    if m == 1 {
        // c[j] = sum_p a[p] b[p, j]: b's transpose times a
        return unsafe { gemv(b, bst.1, bst.0, a, ast.1, c, n, k) };
    }
    debug_assert!(is_general(m, k, n));
    let (a, b) = (
        Operand {
            p: a,
            rs: ast.0,
            cs: ast.1,
        },
        Operand {
            p: b,
            rs: bst.0,
            cs: bst.1,
        },
    );
    unsafe { gemm(ws, a, b, c, m, k, n) }
}

/// y[i] = sum_p m[i, p] x[p] for i < rows, p < k (m's element (i, p) at
/// i * rs + p * cs, x's p at p * xs). Each sum is formed the same way in
/// any piece, so the split changes no bit.
///
/// SAFETY: the operands hold those elements; y (rows elements) overlaps
/// neither.
#[allow(clippy::too_many_arguments)]
unsafe fn gemv(
    m: *const f64,
    rs: isize,
    cs: isize,
    x: *const f64,
    xs: isize,
    y: *mut f64,
    rows: usize,
    k: usize,
) {
    if rs == 1 && cs != 1 {
        // columns contiguous: y += x[p] * column p, all rows at once
        return unsafe { axpys(m, cs, x, xs, y, rows, k) };
    }
    let pieces = if rows * k >= PAR_WORK {
        rows.div_ceil(MV_ROWS)
    } else {
        1
    };
    let (pm, px, py) = (Shared(m as *mut f64), Shared(x as *mut f64), Shared(y));
    for_each(pieces, &|p, _| {
        let (r0, r1) = (p * MV_ROWS, ((p + 1) * MV_ROWS).min(rows));
        let r1 = if pieces == 1 { rows } else { r1 };
        // SAFETY: rows r0..r1 of m and y; pieces write disjoint rows.
        unsafe { dots(pm.ptr(), rs, cs, px.ptr(), xs, py.ptr(), r0, r1, k) }
    });
}

/// y = sum_p x[p] * column p, m's column p contiguous at p * cs, the
/// columns added in the order of p.
///
/// SAFETY: as `gemv` with rs == 1.
unsafe fn axpys(
    m: *const f64,
    cs: isize,
    x: *const f64,
    xs: isize,
    y: *mut f64,
    rows: usize,
    k: usize,
) {
    let y = unsafe { std::slice::from_raw_parts_mut(y, rows) };
    with_avx2!(axpys_avx2, {
        y.fill(0.0);
        for p in 0..k {
            let xp = unsafe { *x.offset(p as isize * xs) };
            let col = unsafe { std::slice::from_raw_parts(m.offset(p as isize * cs), rows) };
            for (o, &v) in y.iter_mut().zip(col) {
                *o += v * xp;
            }
        }
    })
}

/// The least row length formed in four lanes by `dots` (shorter rows, as
/// the few basis functions of a fit, keep the plain order).
const LANE_DOTS: usize = 16;

/// y[i] = m[i, :] . x for i in r0..r1. With contiguous rows and x (and at
/// least `LANE_DOTS` elements in a row), each
/// dot product is formed in four lanes (p mod 4, four rows at a time),
/// then ((l0 + l1) + (l2 + l3)) plus the tail in order; otherwise four
/// rows at a time, each sum in the order of p.
///
/// SAFETY: as `gemv`.
#[allow(clippy::too_many_arguments)]
unsafe fn dots(
    m: *const f64,
    rs: isize,
    cs: isize,
    x: *const f64,
    xs: isize,
    y: *mut f64,
    r0: usize,
    r1: usize,
    k: usize,
) {
    if cs == 1 && xs == 1 && k >= LANE_DOTS {
        let xv = unsafe { std::slice::from_raw_parts(x, k) };
        let row = |i: usize| unsafe { std::slice::from_raw_parts(m.offset(i as isize * rs), k) };
        return with_avx2!(dots_avx2, {
            let k4 = k / 4 * 4;
            let mut i = r0;
            while i < r1 {
                let nr = (r1 - i).min(4);
                let mut acc = [[0.0f64; 4]; 4];
                for (r, a) in acc.iter_mut().enumerate().take(nr) {
                    let mr = row(i + r);
                    for (mc, xc) in mr[..k4].chunks_exact(4).zip(xv[..k4].chunks_exact(4)) {
                        for ((l, &mv), &xl) in a.iter_mut().zip(mc).zip(xc) {
                            *l += mv * xl;
                        }
                    }
                }
                for (r, a) in acc.iter().enumerate().take(nr) {
                    let mr = row(i + r);
                    let mut s = (a[0] + a[1]) + (a[2] + a[3]);
                    for p in k4..k {
                        s += mr[p] * xv[p];
                    }
                    unsafe { *y.add(i + r) = s };
                }
                i += nr;
            }
        });
    }
    let at = |i: usize, p: usize| unsafe { *m.offset(i as isize * rs + p as isize * cs) };
    let xv = |p: usize| unsafe { *x.offset(p as isize * xs) };
    let mut i = r0;
    while i + 4 <= r1 {
        let mut acc = [0.0f64; 4];
        for p in 0..k {
            let v = xv(p);
            for (r, a) in acc.iter_mut().enumerate() {
                *a += at(i + r, p) * v;
            }
        }
        for (r, a) in acc.iter().enumerate() {
            unsafe { *y.add(i + r) = *a };
        }
        i += 4;
    }
    for i in i..r1 {
        let mut acc = 0.0;
        for p in 0..k {
            acc += at(i, p) * xv(p);
        }
        unsafe { *y.add(i) = acc };
    }
}

pub(super) fn reduce(red: Red, x: &[f64], out: &mut [f64], outer: usize, n: usize, inner: usize) {
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
                // torch.amax/amin propagate nan (as torch.maximum does)
                Red::Max => it.fold(f64::NEG_INFINITY, ops::maximum),
                Red::Min => it.fold(f64::INFINITY, ops::minimum),
                Red::LogSumExp => logsumexp(it),
                Red::ArgMax => arg_best(it, |v, b| v > b),
                Red::ArgMin => arg_best(it, |v, b| v < b),
            };
        }
    }
}

/// torch.logsumexp of one fibre: the largest element m (0 if it is
/// infinite), then log(sum(exp(x - m))) + m.
fn logsumexp(it: impl Iterator<Item = f64> + Clone) -> f64 {
    let m = it.clone().fold(f64::NEG_INFINITY, ops::maximum);
    let m = if m.is_infinite() { 0.0 } else { m };
    it.map(|v| (v - m).exp()).sum::<f64>().ln() + m
}

/// The position of the first element that beats all before it (nan beats
/// everything and stays), as torch.argmax / argmin.
fn arg_best(it: impl Iterator<Item = f64>, beats: impl Fn(f64, f64) -> bool) -> f64 {
    let mut best = (0usize, f64::NAN);
    for (i, v) in it.enumerate() {
        if i == 0 || (!best.1.is_nan() && (v.is_nan() || beats(v, best.1))) {
            best = (i, v);
        }
    }
    best.0 as f64
}

pub(super) fn prod_excl(x: &[f64], out: &mut [f64], outer: usize, n: usize, inner: usize) {
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
pub(super) enum View<'a> {
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

/// A ternary op, one loop per combination of slices and broadcast
/// elements (so that each loop is straight-line and vectorizes).
#[inline(always)]
fn tern<F: Fn(f64, f64, f64) -> f64>(args: &[View], out: &mut [f64], f: F) {
    use View::{One, Slice};
    let n = out.len();
    macro_rules! go {
        ($x:expr, $y:expr, $z:expr) => {
            for i in 0..n {
                out[i] = f($x(i), $y(i), $z(i));
            }
        };
    }
    match (args[0], args[1], args[2]) {
        (Slice(a), Slice(b), Slice(c)) => {
            let (a, b, c) = (&a[..n], &b[..n], &c[..n]);
            go!(|i| a[i], |i| b[i], |i| c[i])
        }
        (Slice(a), Slice(b), One(z)) => {
            let (a, b) = (&a[..n], &b[..n]);
            go!(|i| a[i], |i| b[i], |_| z)
        }
        (Slice(a), One(y), Slice(c)) => {
            let (a, c) = (&a[..n], &c[..n]);
            go!(|i| a[i], |_| y, |i| c[i])
        }
        (Slice(a), One(y), One(z)) => {
            let a = &a[..n];
            go!(|i| a[i], |_| y, |_| z)
        }
        (a, b, c) => {
            for (i, o) in out.iter_mut().enumerate() {
                *o = f(a.at(i), b.at(i), c.at(i));
            }
        }
    }
}

/// An elementwise op over a block, compiled for AVX2 where the CPU has it
/// (the same operations, so the same bits, four lanes at a time).
pub(super) fn elementwise(op: Op, args: &[View], out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2 (checked just above).
        return unsafe { elementwise_avx2(op, args, out) };
    }
    elementwise_body(op, args, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn elementwise_avx2(op: Op, args: &[View], out: &mut [f64]) {
    elementwise_body(op, args, out)
}

#[inline(always)]
fn elementwise_body(op: Op, args: &[View], out: &mut [f64]) {
    macro_rules! unfns {
        ($f:expr; $($v:ident),*) => {
            match $f {
                $(UnFn::$v => un(args, out, |x| UnFn::$v.apply(x)),)*
            }
        };
    }
    if let (Op::Un(f), [View::Slice(a)]) = (op, args) {
        match f {
            UnFn::Exp => return vmath::exp_slice(a, out),
            UnFn::Sigmoid => return vmath::sigmoid_slice(a, out),
            UnFn::Tanh => return vmath::tanh_slice(a, out),
            UnFn::Log => return vmath::log_slice(a, out),
            _ => {}
        }
    }
    match op {
        Op::PowC => {
            if let View::One(e) = args[1] {
                if e == 2.0 {
                    return un(args, out, |x| x * x);
                }
                return un(args, out, |x| ops::pow_const(x, e));
            }
            bin(args, out, ops::pow_const)
        }
        Op::Pow => bin(args, out, f64::powf),
        Op::Min => bin(args, out, ops::minimum),
        Op::Max => bin(args, out, ops::maximum),
        Op::Atan2 => bin(args, out, f64::atan2),
        Op::And => bin(args, out, ops::and),
        Op::Or => bin(args, out, ops::or),
        Op::Neg => un(args, out, |x| -x),
        Op::Not => un(args, out, ops::not),
        Op::Add => bin(args, out, |x, y| x + y),
        Op::Sub => bin(args, out, |x, y| x - y),
        Op::Mul => bin(args, out, |x, y| x * y),
        Op::Div => bin(args, out, |x, y| x / y),
        Op::Un(f) => unfns!(f; Abs, Sqrt, Exp, Log, Log1p, Expm1, Sin, Cos, Tan, Asin, Acos,
            Atan, Sinh, Cosh, Tanh, Sigmoid, Relu, Softplus, Sign, Floor, Ceil, Round, StdSqrt,
            Erf, Erfc, Erfinv, Lgamma, Digamma, Trigamma, Hardsigmoid),
        Op::Cmp(c) => match c {
            // one arm per comparison so each loop is monomorphic
            Cmp::Lt => bin(args, out, |x, y| Cmp::Lt.mask(x, y)),
            Cmp::Le => bin(args, out, |x, y| Cmp::Le.mask(x, y)),
            Cmp::Gt => bin(args, out, |x, y| Cmp::Gt.mask(x, y)),
            Cmp::Ge => bin(args, out, |x, y| Cmp::Ge.mask(x, y)),
            Cmp::Eq => bin(args, out, |x, y| Cmp::Eq.mask(x, y)),
            Cmp::Ne => bin(args, out, |x, y| Cmp::Ne.mask(x, y)),
        },
        Op::Clamp | Op::ClampST => tern(args, out, ops::clamp),
        Op::Xlogy => bin(args, out, ops::xlogy),
        Op::LogAddExp => bin(args, out, ops::logaddexp),
        Op::Bce => bin(args, out, ops::bce),
        Op::Celu => bin(args, out, ops::celu),
        Op::Where => tern(args, out, ops::select),
        // Not elementwise; never compiled as a group step.
        _ => {}
    }
}
