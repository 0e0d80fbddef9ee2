//! The packed `gemm` against a plain triple loop (odd shapes, every
//! stride layout, small and default blockings, both micro-kernels), its
//! summation order to the bit, its pieces and workspace; and a
//! micro-benchmark (an ignored test) against matrixmultiply as the tape
//! ran it before, on the wide MLP's three products.

use super::*;

/// A deterministic matrix of `len` elements with varied magnitudes.
fn data(len: usize, seed: u64) -> Vec<f64> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
        })
        .collect()
}

/// The operand of [rows, cols] stored row-major, or transposed (stored
/// as [cols, rows]).
fn operand(v: &[f64], rows: usize, cols: usize, transposed: bool) -> Operand {
    let (rs, cs) = if transposed {
        (1, rows as isize)
    } else {
        (cols as isize, 1)
    };
    Operand {
        p: v.as_ptr(),
        rs,
        cs,
    }
}

/// c = a @ b by the plain triple loop, and the bound of its rounding:
/// sum |a||b| per element.
fn naive(a: Operand, b: Operand, m: usize, k: usize, n: usize) -> (Vec<f64>, Vec<f64>) {
    let (mut c, mut bound) = (vec![0.0; m * n], vec![0.0; m * n]);
    for i in 0..m {
        for j in 0..n {
            for p in 0..k {
                let x = unsafe { a.at(i, p) * b.at(p, j) };
                c[i * n + j] += x;
                bound[i * n + j] += x.abs();
            }
        }
    }
    (c, bound)
}

fn product(
    kernel: Kernel,
    workers: usize,
    a: Operand,
    b: Operand,
    (m, k, n): (usize, usize, usize),
) -> Vec<f64> {
    blocked(BLOCKING, kernel, workers, a, b, (m, k, n))
}

fn blocked(
    bl: Blocking,
    kernel: Kernel,
    workers: usize,
    a: Operand,
    b: Operand,
    (m, k, n): (usize, usize, usize),
) -> Vec<f64> {
    let mut ws = Workspace::with_blocking([(m, k, n)], workers, bl);
    let mut c = vec![f64::NAN; m * n];
    unsafe { gemm_with(kernel, &mut ws, a, b, c.as_mut_ptr(), m, k, n) };
    c
}

const SHAPES: [(usize, usize, usize); 6] = [
    (2, 2, 2),
    (7, 5, 9),
    (13, 300, 17),
    (130, 513, 530),
    (6, 256, 8),
    (250, 64, 70),
];

fn kernels() -> Vec<Kernel> {
    let mut ks = vec![Kernel::Plain];
    if Kernel::best() == Kernel::Fma {
        ks.push(Kernel::Fma);
    }
    ks
}

#[test]
fn products_match_the_triple_loop_for_any_strides() {
    for (m, k, n) in SHAPES {
        let (av, bv) = (data(m * k, 1), data(k * n, 2));
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let (a, b) = (operand(&av, m, k, ta), operand(&bv, k, n, tb));
            let (want, bound) = naive(a, b, m, k, n);
            for kernel in kernels() {
                let got = product(kernel, 1, a, b, (m, k, n));
                for ((g, w), e) in got.iter().zip(&want).zip(&bound) {
                    let tol = 2.0 * k as f64 * f64::EPSILON * e;
                    assert!(
                        (g - w).abs() <= tol,
                        "{kernel:?} {m}x{k}x{n} {ta} {tb}: {g} vs {w}"
                    );
                }
            }
        }
    }
}

/// Small blocks: many panels, KC blocks and row blocks on small shapes.
#[test]
fn small_blocks_give_the_same_sums() {
    let bl = Blocking {
        mc: 12,
        kc: 7,
        nc: 16,
    };
    for (m, k, n) in [(25, 30, 41), (6, 7, 16), (13, 8, 17)] {
        let (av, bv) = (data(m * k, 8), data(k * n, 9));
        let (a, b) = (operand(&av, m, k, true), operand(&bv, k, n, true));
        let (want, bound) = naive(a, b, m, k, n);
        for kernel in kernels() {
            let got = blocked(bl, kernel, 2, a, b, (m, k, n));
            for ((g, w), e) in got.iter().zip(&want).zip(&bound) {
                assert!(
                    (g - w).abs() <= 2.0 * k as f64 * f64::EPSILON * e,
                    "{g} vs {w}"
                );
            }
            // c = block 0, then c += each next KC block, in order
            let mut acc = vec![0.0; m * n];
            for p0 in (0..k).step_by(bl.kc) {
                for (ij, o) in acc.iter_mut().enumerate() {
                    let (i, j) = (ij / n, ij % n);
                    let mut s = 0.0f64;
                    for p in p0..(p0 + bl.kc).min(k) {
                        s = if kernel == Kernel::Fma {
                            unsafe { a.at(i, p).mul_add(b.at(p, j), s) }
                        } else {
                            s + unsafe { a.at(i, p) * b.at(p, j) }
                        };
                    }
                    *o = if p0 == 0 { s } else { *o + s };
                }
            }
            assert!(
                got.iter()
                    .zip(&acc)
                    .all(|(x, y)| x.to_bits() == y.to_bits()),
                "{kernel:?}"
            );
        }
    }
}

#[test]
fn pieces_and_workers_change_no_bit() {
    for (m, k, n) in [(130, 513, 530), (250, 64, 70), (4, 300, 1000)] {
        let (av, bv) = (data(m * k, 3), data(k * n, 4));
        let (a, b) = (operand(&av, m, k, true), operand(&bv, k, n, false));
        for kernel in kernels() {
            let one = product(kernel, 1, a, b, (m, k, n));
            let many = product(kernel, super::super::threads().max(3), a, b, (m, k, n));
            assert!(one
                .iter()
                .zip(&many)
                .all(|(x, y)| x.to_bits() == y.to_bits()));
        }
    }
}

#[test]
fn plans_cover_every_element_once() {
    for (m, nc, kc, par) in [
        (4096, 256, 256, true),
        (256, 256, 256, true),
        (7, 512, 3, true),
        (130, 9, 2, false),
    ] {
        let blk = Block {
            pc: 0,
            kc,
            jc: 0,
            nc,
            first: true,
        };
        let plan = Plan::new(m, 120, blk, par);
        let mut seen = vec![0u8; m * nc];
        for p in 0..plan.pieces {
            let ((r0, r1), (c0, c1)) = plan.piece(p);
            assert!(r1 - r0 <= plan.rows && (c0 % NR == 0) && (r0 % MR == 0));
            for i in r0..r1 {
                for j in c0..c1 {
                    seen[i * nc + j] += 1;
                }
            }
        }
        assert!(seen.iter().all(|&s| s == 1), "{m} {nc} {kc}");
        assert_eq!(plan.par, par && m * kc * nc >= PAR_WORK);
    }
    // few rows: split over columns too
    let plan = Plan::new(
        12,
        120,
        Block {
            pc: 0,
            kc: 256,
            jc: 0,
            nc: 512,
            first: true,
        },
        true,
    );
    assert!(plan.pieces >= MIN_PIECES && plan.col_pieces > 1);
}

#[test]
fn the_workspace_is_sized_for_the_largest_product() {
    let ws = Workspace::for_shapes([(4096, 256, 256), (256, 4096, 256), (10, 3, 5)], 2);
    assert_eq!((ws.b_len, ws.a_len, ws.workers), (256 * 256, 120 * 256, 2));
    assert!(ws.fits(4096, 4096, 256) && !ws.fits(4096, 256, 257));
    let small = Workspace::for_shapes([(10, 3, 5)], 4);
    assert_eq!((small.b_len, small.a_len, small.workers), (24, 40, 1));
    assert!(Workspace::for_shapes([], 2).buf.is_empty());
    assert_eq!(format!("{small:?}"), "Workspace { b: 24, a: 1 × 40 }");
}

#[test]
#[should_panic(expected = "workspace too small")]
fn a_workspace_too_small_is_refused() {
    let mut ws = Workspace::for_shapes([(4, 4, 4)], 1);
    let v = data(64, 5);
    let mut c = vec![0.0; 64];
    let a = operand(&v, 8, 8, false);
    unsafe { gemm(&mut ws, a, a, c.as_mut_ptr(), 8, 8, 8) };
}

// The micro-benchmark.

/// matrixmultiply as the tape ran it before: at most 8 row pieces on
/// the tape's threads, each a `dgemm` call.
fn matrixmultiply_pieces(a: Operand, b: Operand, c: &mut [f64], (m, k, n): (usize, usize, usize)) {
    let pieces = m.div_ceil(128).min(8);
    let rows = m.div_ceil(pieces);
    let pc = Shared(c.as_mut_ptr());
    for_each(pieces, &|p, _| {
        let (r0, r1) = (p * rows, ((p + 1) * rows).min(m));
        let (ap, bp) = (a, b);
        unsafe {
            let a0 = ap.p.offset(r0 as isize * ap.rs);
            matrixmultiply::dgemm(
                r1 - r0,
                k,
                n,
                1.0,
                a0,
                ap.rs,
                ap.cs,
                bp.p,
                bp.rs,
                bp.cs,
                0.0,
                pc.ptr().add(r0 * n),
                n as isize,
                1,
            )
        }
    });
}

/// This thread's CPU time in seconds (Linux's CLOCK_THREAD_CPUTIME_ID).
fn cpu_time() -> f64 {
    #[repr(C)]
    struct Timespec {
        s: i64,
        ns: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, t: *mut Timespec) -> i32;
    }
    let mut t = Timespec { s: 0, ns: 0 };
    // SAFETY: a valid clock id and a Timespec to fill.
    unsafe { clock_gettime(3, &mut t) };
    t.s as f64 + t.ns as f64 * 1e-9
}

/// The blockings to time: `GEMM_BLOCKINGS="mc,kc,nc;..."`, else the
/// one in use.
fn blockings() -> Vec<Blocking> {
    let Ok(spec) = std::env::var("GEMM_BLOCKINGS") else {
        return vec![BLOCKING];
    };
    spec.split(';')
        .map(|b| {
            let v: Vec<usize> = b
                .split(',')
                .map(|x| x.trim().parse().expect("a size"))
                .collect();
            Blocking {
                mc: v[0],
                kc: v[1],
                nc: v[2],
            }
        })
        .collect()
}

/// The wide MLP's three products (1-256-256-1 on 4096 points) with the
/// tape's strides, ours against matrixmultiply, in GFlop/s; run with
/// `LOSSLANG_THREADS=1` and `=2`:
/// `cargo test --release --lib gemm::tests::speed -- --ignored --nocapture`.
#[test]
#[ignore]
fn speed_on_the_wide_mlp_products() {
    // GEMM_POINTS: fewer points, for calls short enough to run
    // unpreempted on a busy machine; GEMM_REPS: runs (the best counts)
    let env = |v: &str, d: usize| {
        std::env::var(v)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(d)
    };
    let (pts, reps) = (env("GEMM_POINTS", 4096), env("GEMM_REPS", 15));
    let shapes = [
        ("h1 @ w2ᵀ", pts, 256, 256, false, true),
        ("g @ w2", pts, 256, 256, false, false),
        ("gᵀ @ h1", 256, pts, 256, true, false),
    ];
    let threads = super::super::threads();
    for (name, m, k, n, ta, tb) in shapes {
        let (av, bv) = (data(m * k, 6), data(k * n, 7));
        let (a, b) = (operand(&av, m, k, ta), operand(&bv, k, n, tb));
        let (mut ours, mut theirs) = (vec![0.0; m * n], vec![0.0; m * n]);
        let time = |f: &mut dyn FnMut()| {
            f();
            (0..reps)
                .map(|_| {
                    let (t, c) = (std::time::Instant::now(), cpu_time());
                    f();
                    // one thread: this thread's CPU time (preemption
                    // on a busy machine drops out); more: wall time
                    if threads == 1 {
                        cpu_time() - c
                    } else {
                        t.elapsed().as_secs_f64()
                    }
                })
                .fold(f64::INFINITY, f64::min)
        };
        let t_mm = time(&mut || matrixmultiply_pieces(a, b, &mut theirs, (m, k, n)));
        let gf = |t: f64| 2.0 * (m * k * n) as f64 / t / 1e9;
        println!("{name:10} [{m}, {k}] @ [{k}, {n}], {threads} thread(s): matrixmultiply {:.2} ms {:.1} GFlop/s", t_mm * 1e3, gf(t_mm));
        for bl in blockings() {
            let mut ws = Workspace::with_blocking([(m, k, n)], threads, bl);
            let t_ours = time(&mut || unsafe { gemm(&mut ws, a, b, ours.as_mut_ptr(), m, k, n) });
            let diff = ours
                .iter()
                .zip(&theirs)
                .map(|(x, y)| (x - y).abs() / y.abs().max(1e-300))
                .fold(0.0, |m: f64, d| if d.is_nan() { d } else { m.max(d) });
            println!(
                "    ours {:3} {:3} {:4}: {:.2} ms {:.1} GFlop/s, matrixmultiply / ours {:.2}, max rel diff {diff:.1e}",
                bl.mc, bl.kc, bl.nc, t_ours * 1e3, gf(t_ours), t_mm / t_ours
            );
        }
    }
}

#[test]
fn products_with_nothing_to_multiply_are_done_without_the_kernel() {
    // k == 0: an empty sum, so c is all zeros
    let mut c = vec![f64::NAN; 6];
    assert!(unsafe { trivial(c.as_mut_ptr(), 2, 0, 3) });
    assert_eq!(c, vec![0.0; 6]);
    // an empty c: nothing is written
    let mut c = vec![f64::NAN; 1];
    assert!(unsafe { trivial(c.as_mut_ptr(), 0, 4, 3) });
    assert!(unsafe { trivial(c.as_mut_ptr(), 3, 4, 0) });
    assert!(c[0].is_nan());
    // anything else is the kernel's
    assert!(!unsafe { trivial(c.as_mut_ptr(), 1, 1, 1) });
    assert!(c[0].is_nan());
}
