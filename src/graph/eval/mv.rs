//! Matrix-vector products inside a fused group: the group computes the
//! block's rows of a matrix (in scratch) and these kernels take them
//! straight into the product, so a matrix that nothing else reads is
//! never stored. `row_dots` is `A x` (each row dotted with the vector, the
//! result's rows written as the blocks go by), `col_dots` is `Aᵀ x` (the
//! rows added up weighted by the vector, a sum over the blocks like
//! `SumTo`).
//!
//! Each element of a result is formed in an order that depends only on
//! the shapes: a row's dot product the same way in any block, and `Aᵀ x`
//! row by row in order (pieces of a split group are added in piece order
//! by the group), so the thread count changes no bit.

/// The least row length whose dot products are formed in four lanes
/// (p mod 4); shorter rows are summed in the order of p.
const LANE_DOTS: usize = 16;

/// y[r] = a[r, :] · x for the rows of `a` (row-major, `x.len()` columns):
/// in four lanes (p mod 4), combined as ((l0 + l1) + (l2 + l3)) and then
/// the tail in order, for rows of `LANE_DOTS` or more; else in the order
/// of p. Four rows go at a time (independent sums) either way.
pub(super) fn row_dots(a: &[f64], x: &[f64], y: &mut [f64]) {
    let k = x.len();
    assert_eq!(a.len(), y.len() * k, "row_dots: a block of whole rows");
    if k >= LANE_DOTS {
        with_avx2!(lanes_avx2, row_dots_lanes(a, x, y))
    } else {
        with_avx2!(plain_avx2, row_dots_plain(a, x, y))
    }
}

#[inline(always)]
fn row_dots_plain(a: &[f64], x: &[f64], y: &mut [f64]) {
    let k = x.len();
    let mut quads = y.chunks_exact_mut(4);
    let mut rows = a.chunks_exact(4 * k);
    for (yq, aq) in (&mut quads).zip(&mut rows) {
        let (a0, rest) = aq.split_at(k);
        let (a1, rest) = rest.split_at(k);
        let (a2, a3) = rest.split_at(k);
        let mut acc = [0.0f64; 4];
        for p in 0..k {
            let xp = x[p];
            acc[0] += a0[p] * xp;
            acc[1] += a1[p] * xp;
            acc[2] += a2[p] * xp;
            acc[3] += a3[p] * xp;
        }
        yq.copy_from_slice(&acc);
    }
    for (yr, ar) in quads
        .into_remainder()
        .iter_mut()
        .zip(rows.remainder().chunks_exact(k))
    {
        let mut s = 0.0;
        for (&v, &xp) in ar.iter().zip(x) {
            s += v * xp;
        }
        *yr = s;
    }
}

#[inline(always)]
fn row_dots_lanes(a: &[f64], x: &[f64], y: &mut [f64]) {
    let k = x.len();
    let k4 = k / 4 * 4;
    let (xl, xt) = x.split_at(k4);
    // four rows at a time: sixteen independent sums
    for (yq, aq) in y.chunks_mut(4).zip(a.chunks(4 * k)) {
        let mut acc = [[0.0f64; 4]; 4];
        for (l, ar) in acc.iter_mut().zip(aq.chunks_exact(k)) {
            for (ac, xc) in ar[..k4].chunks_exact(4).zip(xl.chunks_exact(4)) {
                for ((s, &v), &xp) in l.iter_mut().zip(ac).zip(xc) {
                    *s += v * xp;
                }
            }
        }
        for ((yr, l), ar) in yq.iter_mut().zip(&acc).zip(aq.chunks_exact(k)) {
            let mut s = (l[0] + l[1]) + (l[2] + l[3]);
            for (&v, &xp) in ar[k4..].iter().zip(xt) {
                s += v * xp;
            }
            *yr = s;
        }
    }
}

/// y[c] += Σ_r a[r, c] x[r] for the rows of `a` (row-major, `y.len()`
/// columns), the rows added in order.
pub(super) fn col_dots(a: &[f64], x: &[f64], y: &mut [f64]) {
    let cols = y.len();
    assert_eq!(a.len(), x.len() * cols, "col_dots: a block of whole rows");
    with_avx2!(col_dots_avx2, {
        if cols <= 16 {
            // the sums in registers, not in memory, across the rows
            let mut acc = [0.0f64; 16];
            acc[..cols].copy_from_slice(y);
            for (ar, &xr) in a.chunks_exact(cols).zip(x) {
                for (s, &v) in acc.iter_mut().zip(ar) {
                    *s += v * xr;
                }
            }
            y.copy_from_slice(&acc[..cols]);
        } else {
            for (ar, &xr) in a.chunks_exact(cols).zip(x) {
                for (s, &v) in y.iter_mut().zip(ar) {
                    *s += v * xr;
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(rows: usize, cols: usize) -> Vec<f64> {
        (0..rows * cols)
            .map(|i| ((i * 37 % 101) as f64 - 50.0) / 7.0)
            .collect()
    }

    #[test]
    fn row_dots_of_short_rows_add_in_the_order_of_the_columns() {
        for (rows, k) in [(9, 10), (4, 3), (1, 2), (7, 15)] {
            let (a, x) = (matrix(rows, k), matrix(1, k));
            let mut y = vec![f64::NAN; rows];
            row_dots(&a, &x, &mut y);
            for r in 0..rows {
                let want = (0..k).fold(0.0, |s, p| s + a[r * k + p] * x[p]);
                assert_eq!(y[r].to_bits(), want.to_bits(), "row {r} of {rows} x {k}");
            }
        }
    }

    #[test]
    fn row_dots_of_long_rows_add_in_four_lanes() {
        let (rows, k) = (5, 67);
        let (a, x) = (matrix(rows, k), matrix(1, k));
        let mut y = vec![0.0; rows];
        row_dots(&a, &x, &mut y);
        for r in 0..rows {
            let mut l = [0.0; 4];
            for p in 0..64 {
                l[p % 4] += a[r * k + p] * x[p];
            }
            let mut want = (l[0] + l[1]) + (l[2] + l[3]);
            for p in 64..k {
                want += a[r * k + p] * x[p];
            }
            assert_eq!(y[r].to_bits(), want.to_bits());
        }
    }

    #[test]
    fn col_dots_accumulate_the_rows_in_order() {
        for (rows, cols) in [(13, 10), (5, 16), (6, 40), (11, 64)] {
            let (a, x) = (matrix(rows, cols), matrix(1, rows));
            let start: Vec<f64> = (0..cols).map(|c| c as f64 * 0.5).collect();
            let mut y = start.clone();
            col_dots(&a, &x, &mut y);
            for c in 0..cols {
                let want = (0..rows).fold(start[c], |s, r| s + a[r * cols + c] * x[r]);
                assert_eq!(
                    y[c].to_bits(),
                    want.to_bits(),
                    "column {c} of {rows} x {cols}"
                );
            }
        }
    }
}
