//! Running a fused group: its steps block by block over a range of
//! elements. A small group runs as one range, its sums accumulated in
//! place. A large one (more than one `chunk`) runs as fixed pieces of
//! `chunk` elements, possibly on several threads: each piece sums into its
//! own record of partial sums, and the records are added in piece order
//! afterwards, so the result does not depend on the thread count.

use super::kernels::{elementwise, View};
use super::parallel::{for_each, Shared};
use super::{GArg, GStep, Loc, BLOCK};

/// A sum a group computes: its place in the value buffer, its length, its
/// starting value, and its place in a piece's record of partial sums.
#[derive(Clone, Copy, Debug)]
pub(super) struct Sink {
    pub(super) out: usize,
    pub(super) len: usize,
    pub(super) init: f64,
    pub(super) part: usize,
}

/// The buffers of a tape, as raw pointers shared by the pieces.
#[derive(Clone, Copy)]
pub(super) struct Bufs {
    pub(super) vals: Shared,
    pub(super) total: usize,
    pub(super) scratch: Shared,
    /// Scratch elements per worker.
    pub(super) scratch_stride: usize,
    pub(super) partials: Shared,
}

/// A fused group as compiled.
pub(super) struct Group<'a> {
    pub(super) len: usize,
    pub(super) block: usize,
    pub(super) steps: &'a [GStep],
    pub(super) sinks: &'a [Sink],
    /// Elements per piece; 0: one range, no pieces.
    pub(super) chunk: usize,
    /// Length of a piece's record of partial sums.
    pub(super) record: usize,
}

impl Group<'_> {
    /// Evaluates the group.
    ///
    /// SAFETY: the buffers hold every offset the steps name, and the group
    /// writes no range it reads (see `Tape::forward`).
    pub(super) unsafe fn run(&self, b: Bufs) {
        if self.chunk == 0 {
            for s in self.sinks {
                unsafe { slice_mut(b.vals, s.out, s.len) }.fill(s.init);
            }
            unsafe { self.blocks(b, 0, self.len, 0, None) };
            return;
        }
        let pieces = self.len.div_ceil(self.chunk);
        let piece = |p: usize, worker: usize| {
            let rec = p * self.record;
            for s in self.sinks {
                // SAFETY: piece p alone owns record p of the partial sums.
                unsafe { slice_mut(b.partials, rec + s.part, s.len) }.fill(s.init);
            }
            let end = ((p + 1) * self.chunk).min(self.len);
            // SAFETY: pieces write disjoint element ranges of the group's
            // outputs, their own record, and their worker's scratch.
            unsafe { self.blocks(b, p * self.chunk, end, worker, Some(rec)) };
        };
        for_each(pieces, &piece);
        // the partial sums, in piece order
        for s in self.sinks {
            let out = unsafe { slice_mut(b.vals, s.out, s.len) };
            out.copy_from_slice(unsafe { slice(b.partials, s.part, s.len) });
            for p in 1..pieces {
                let part = unsafe { slice(b.partials, p * self.record + s.part, s.len) };
                for (o, &v) in out.iter_mut().zip(part) {
                    *o += v;
                }
            }
        }
    }

    /// Runs the steps over elements from..to, block by block; sums go to
    /// the value buffer, or to the record at `rec` of the partial sums.
    unsafe fn blocks(&self, b: Bufs, from: usize, to: usize, worker: usize, rec: Option<usize>) {
        debug_assert!(to <= self.len);
        let sbase = worker * b.scratch_stride;
        let rd = |off: usize, len: usize| -> &[f64] {
            debug_assert!(off + len <= b.total);
            unsafe { slice(b.vals, off, len) }
        };
        let wr = |off: usize, len: usize| -> &mut [f64] {
            debug_assert!(off + len <= b.total);
            unsafe { slice_mut(b.vals, off, len) }
        };
        let srd = |slot: usize, l: usize| -> &[f64] {
            unsafe { slice(b.scratch, sbase + slot * BLOCK, l) }
        };
        let swr = |slot: usize, l: usize| -> &mut [f64] {
            unsafe { slice_mut(b.scratch, sbase + slot * BLOCK, l) }
        };
        let blk = |l: Loc, start: usize, bl: usize| -> &[f64] {
            match l {
                Loc::Mem(o) => rd(o + start, bl),
                Loc::Scratch(s) => srd(s, bl),
            }
        };
        let sum_out = |out: usize, part: usize, len: usize| -> &mut [f64] {
            match rec {
                Some(r) => unsafe { slice_mut(b.partials, r + part, len) },
                None => wr(out, len),
            }
        };
        let mut start = from;
        while start < to {
            let bl = self.block.min(to - start);
            for st in self.steps {
                match st {
                    GStep::Gather {
                        src,
                        src_len,
                        map,
                        slot,
                        once,
                    } => {
                        if !*once || start == from {
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
                    GStep::SumAll { src, out, part } => {
                        let o = sum_out(*out, *part, 1);
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
                        part,
                    } => {
                        map.scatter_add(blk(*src, start, bl), start, sum_out(*out, *part, *out_len))
                    }
                }
            }
            start += bl;
        }
    }
}

/// SAFETY: off..off + len lies inside the buffer behind `p`, and nothing
/// writes it while the slice lives.
#[inline(always)]
unsafe fn slice<'a>(p: Shared, off: usize, len: usize) -> &'a [f64] {
    unsafe { std::slice::from_raw_parts(p.0.add(off), len) }
}

/// SAFETY: off..off + len lies inside the buffer behind `p`, and nothing
/// else reads or writes it while the slice lives.
#[inline(always)]
#[allow(clippy::mut_from_ref)]
unsafe fn slice_mut<'a>(p: Shared, off: usize, len: usize) -> &'a mut [f64] {
    unsafe { std::slice::from_raw_parts_mut(p.0.add(off), len) }
}
