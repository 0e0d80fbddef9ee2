//! Strided iteration: a `Strided` view walks a tensor's elements through
//! per-axis strides (contiguous axes merged), which is how broadcasts,
//! transposes, indexing and their adjoints read and write without index
//! maps. Also the stride helpers that build such views from shapes.

use crate::graph::Ix;

/// Most axes a strided iteration handles after merging contiguous ones.
const MAXD: usize = 32;

/// A strided view: element i (row-major over `dims`) is at
/// `base + sum(idx[d] * stride[d])`.
#[derive(Clone, Debug)]
pub(super) struct Strided {
    pub(super) base: usize,
    /// (extent, stride), outermost first, merged where contiguous; never empty.
    dims: Vec<(usize, usize)>,
}

impl Strided {
    pub(super) fn new(base: usize, ext: &[usize], st: &[usize]) -> Strided {
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
    pub(super) fn period(&self) -> Option<usize> {
        let k = self.dims.iter().take_while(|d| d.1 == 0).count();
        if k == 0 || k == self.dims.len() {
            return None;
        }
        Some(self.dims[k..].iter().map(|d| d.0).product())
    }

    /// The rows `start..start + count` cover when the view has two axes
    /// and they are whole rows: (first row, row length, row stride,
    /// element stride). Broadcasts of a column or a row over a matrix and
    /// their sums are of this kind, and a loop per row is much cheaper than
    /// the general walk for short rows.
    #[inline(always)]
    fn rows(&self, start: usize, count: usize) -> Option<(usize, usize, usize, usize)> {
        match self.dims[..] {
            [(_, s0), (e1, s1)] if start.is_multiple_of(e1) && count.is_multiple_of(e1) => {
                Some((start / e1, e1, s0, s1))
            }
            _ => None,
        }
    }

    /// out[j] = src[at(start + j)].
    #[inline]
    pub(super) fn gather(&self, src: &[f64], start: usize, out: &mut [f64]) {
        with_avx2!(gather_avx2, self.gather_body(src, start, out))
    }

    #[inline(always)]
    fn gather_body(&self, src: &[f64], start: usize, out: &mut [f64]) {
        if let Some((r0, e1, s0, s1)) = self.rows(start, out.len()) {
            if s1 == 0 && e1 <= 16 {
                // a column broadcast over short rows
                let col = &src[self.base + r0 * s0..];
                for (r, row) in out.chunks_exact_mut(e1).enumerate() {
                    let v = col[r * s0];
                    for o in row {
                        *o = v;
                    }
                }
                return;
            }
            for (r, row) in out.chunks_exact_mut(e1).enumerate() {
                let base = self.base + (r0 + r) * s0;
                match s1 {
                    0 => row.fill(src[base]),
                    1 => row.copy_from_slice(&src[base..base + e1]),
                    _ => {
                        for (j, v) in row.iter_mut().enumerate() {
                            *v = src[base + j * s1];
                        }
                    }
                }
            }
            return;
        }
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
    pub(super) fn scatter_add(&self, x: &[f64], start: usize, out: &mut [f64]) {
        with_avx2!(scatter_add_avx2, self.scatter_add_body(x, start, out))
    }

    #[inline(always)]
    fn scatter_add_body(&self, x: &[f64], start: usize, out: &mut [f64]) {
        if let Some((r0, e1, s0, s1)) = self.rows(start, x.len()) {
            if s0 == 0 && s1 == 1 && e1 <= 16 {
                // every row into the same short row (`SumTo` of [n, k] to
                // [k]): its sums in registers across the rows
                return sum_rows(x, &mut out[self.base..self.base + e1]);
            }
            for (r, row) in x.chunks_exact(e1).enumerate() {
                let base = self.base + (r0 + r) * s0;
                match s1 {
                    0 => {
                        let mut acc = out[base];
                        for &v in row {
                            acc += v;
                        }
                        out[base] = acc;
                    }
                    1 => {
                        for (o, &v) in out[base..base + e1].iter_mut().zip(row) {
                            *o += v;
                        }
                    }
                    _ => {
                        for (j, &v) in row.iter().enumerate() {
                            out[base + j * s1] += v;
                        }
                    }
                }
            }
            return;
        }
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

/// out[j] += x[r * out.len() + j] for the rows r in order, out no longer
/// than 16 elements.
#[inline(always)]
fn sum_rows(x: &[f64], out: &mut [f64]) {
    let k = out.len();
    let mut acc = [0.0f64; 16];
    acc[..k].copy_from_slice(out);
    for row in x.chunks_exact(k) {
        for (a, &v) in acc.iter_mut().zip(row) {
            *a += v;
        }
    }
    out.copy_from_slice(&acc[..k]);
}

/// Row-major strides of a shape.
pub(super) fn strides(shape: &[usize]) -> Vec<usize> {
    let mut st = vec![0; shape.len()];
    let mut s = 1;
    for i in (0..shape.len()).rev() {
        st[i] = s;
        s *= shape[i];
    }
    st
}

/// `src` broadcast to `out`: the strides of `src` over the axes of `out`.
pub(super) fn broadcast_strided(src: &[usize], out: &[usize]) -> Strided {
    let nd = out.len();
    let mut st = vec![0usize; nd];
    let sst = strides(src);
    for i in 0..src.len() {
        let o = nd - src.len() + i;
        st[o] = if src[i] == 1 { 0 } else { sst[i] };
    }
    Strided::new(0, out, &st)
}

/// `src` with its axes permuted by `perm` (giving `out`): the strides of
/// `src`'s axes in `out`'s order.
pub(super) fn permute_strided(src: &[usize], perm: &[usize], out: &[usize]) -> Strided {
    let sst = strides(src);
    let st: Vec<usize> = perm.iter().map(|&d| sst[d]).collect();
    Strided::new(0, out, &st)
}

/// Where each element of `src[ix]` is in `src`.
pub(super) fn index_strided(src: &[usize], ix: &[Ix]) -> Strided {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_column_broadcast_over_short_rows_is_gathered_row_by_row() {
        let col: Vec<f64> = (0..30).map(|i| i as f64 * 1.5).collect();
        let map = broadcast_strided(&[30, 1], &[30, 10]);
        let mut out = vec![0.0; 120];
        map.gather(&col, 50, &mut out);
        for (j, &v) in out.iter().enumerate() {
            assert_eq!(v, col[(50 + j) / 10]);
        }
    }

    #[test]
    fn sums_of_rows_into_one_short_row_add_the_rows_in_order() {
        let x: Vec<f64> = (0..70).map(|i| ((i * 13 % 7) as f64 - 3.0) / 9.0).collect();
        let mut map = broadcast_strided(&[10], &[7, 10]);
        map.base = 0;
        let mut out: Vec<f64> = (0..10).map(|j| j as f64).collect();
        let mut want = out.clone();
        for (i, &v) in x.iter().enumerate() {
            want[i % 10] += v;
        }
        map.scatter_add(&x, 0, &mut out);
        assert_eq!(out, want);
    }
}
