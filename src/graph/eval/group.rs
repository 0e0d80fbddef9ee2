//! Running a fused group: its steps block by block over a range of
//! elements. A small group runs as one range, its sums accumulated in
//! place. A large one (more than one `chunk`) runs as fixed pieces of
//! `chunk` elements, possibly on several threads: each piece sums into its
//! own record of partial sums, and the records are added in piece order
//! afterwards, so the result does not depend on the thread count.

use super::kernels::{elementwise, View};
use super::mv::{col_dots, row_dots};
use super::parallel::{for_each, Shared};
use super::{GArg, GStep, Loc};

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
    /// Elements per scratch slot.
    pub(super) slot_len: usize,
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
        let mut at = At {
            b,
            sbase: worker * b.scratch_stride,
            rec,
            start: from,
            len: 0,
        };
        while at.start < to {
            at.len = self.block.min(to - at.start);
            for st in self.steps {
                // SAFETY: as `blocks`: the block lies inside the group's
                // elements, and this piece alone writes them.
                unsafe { at.step(st, from) };
            }
            at.start += at.len;
        }
    }
}

/// Where one block of a group's run reads and writes: the value buffer,
/// its worker's scratch slots, and where its sums go.
struct At {
    b: Bufs,
    /// The worker's first scratch element.
    sbase: usize,
    /// The record of partial sums, or None for sums into the value buffer.
    rec: Option<usize>,
    /// The block's first element and its length.
    start: usize,
    len: usize,
}

impl At {
    /// One step of the group on this block.
    ///
    /// SAFETY: the step's offsets lie inside the buffers (the tape's
    /// compiler made them so) and no other piece writes this block.
    unsafe fn step(&self, st: &GStep, from: usize) {
        let bl = self.len;
        match st {
            GStep::Gather {
                src,
                src_len,
                map,
                slot,
                once,
            } => {
                if !*once || self.start == from {
                    map.gather(self.rd(*src, *src_len), self.start, self.swr(*slot))
                }
            }
            GStep::Elem { op, args, out } => {
                let mut v = [View::One(0.0), View::One(0.0), View::One(0.0)];
                for (k, a) in args.iter().enumerate() {
                    v[k] = match *a {
                        GArg::One(o) => View::One(self.rd(o, 1)[0]),
                        GArg::Block(l) => View::Slice(self.blk(l)),
                    };
                }
                let o = match *out {
                    Loc::Mem(o) => self.wr(o + self.start, bl),
                    Loc::Scratch(s) => self.swr(s),
                };
                elementwise(*op, &v[..args.len()], o);
            }
            GStep::SumAll { src, out, part } => {
                let o = self.sum_out(*out, *part, 1);
                let mut acc = o[0];
                for &x in self.blk(*src) {
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
            } => map.scatter_add(
                self.blk(*src),
                self.start,
                self.sum_out(*out, *part, *out_len),
            ),
            &GStep::Mv {
                src,
                vec,
                cols,
                out,
                trans,
                part,
            } => unsafe { self.mv(src, vec, cols, out, trans, part) },
        }
    }

    /// A matrix-vector product over the block's rows (see `GStep::Mv`).
    ///
    /// SAFETY: as `step`; the block starts and ends at row boundaries.
    unsafe fn mv(&self, src: Loc, vec: usize, cols: usize, out: usize, trans: bool, part: usize) {
        debug_assert!(self.start.is_multiple_of(cols) && self.len.is_multiple_of(cols));
        let (row, rows) = (self.start / cols, self.len / cols);
        let a = self.blk(src);
        if trans {
            col_dots(a, self.rd(vec + row, rows), self.sum_out(out, part, cols));
        } else {
            row_dots(a, self.rd(vec, cols), self.wr(out + row, rows));
        }
    }

    fn rd<'a>(&self, off: usize, len: usize) -> &'a [f64] {
        debug_assert!(off + len <= self.b.total);
        unsafe { slice(self.b.vals, off, len) }
    }

    #[allow(clippy::mut_from_ref)]
    fn wr<'a>(&self, off: usize, len: usize) -> &'a mut [f64] {
        debug_assert!(off + len <= self.b.total);
        unsafe { slice_mut(self.b.vals, off, len) }
    }

    /// The block's part of a scratch slot.
    #[allow(clippy::mut_from_ref)]
    fn swr<'a>(&self, slot: usize) -> &'a mut [f64] {
        unsafe {
            slice_mut(
                self.b.scratch,
                self.sbase + slot * self.b.slot_len,
                self.len,
            )
        }
    }

    /// The block of a value, in the value buffer or in a scratch slot.
    fn blk<'a>(&self, l: Loc) -> &'a [f64] {
        match l {
            Loc::Mem(o) => self.rd(o + self.start, self.len),
            Loc::Scratch(s) => unsafe {
                slice(self.b.scratch, self.sbase + s * self.b.slot_len, self.len)
            },
        }
    }

    /// Where a sum accumulates: its record of partial sums, or its value.
    #[allow(clippy::mut_from_ref)]
    fn sum_out<'a>(&self, out: usize, part: usize, len: usize) -> &'a mut [f64] {
        match self.rec {
            Some(r) => unsafe { slice_mut(self.b.partials, r + part, len) },
            None => self.wr(out, len),
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
