//! Emitting the instructions of a schedule over its layout: a fused group
//! becomes one `Kind::Group` (its steps, scratch slots, sums and block
//! length), any other unit one instruction of its op's family; `finish`
//! wraps them in the `Tape` with the buffers they need.

use super::layout::Layout;
use super::schedule::Unit;
use super::Nodes;
use crate::graph::eval::group::Sink;
use crate::graph::eval::parallel::threads;
use crate::graph::eval::strided::{broadcast_strided, index_strided, permute_strided, Strided};
use crate::graph::eval::{GArg, GStep, Instr, Kind, Loc, Tape, BLOCK};
use crate::graph::ops::Op;
use crate::graph::{Aux, NodeId};
use crate::tensor::numel;
use std::collections::HashMap;

/// Blocks per piece of a split group: groups of more elements than one
/// piece are evaluated piece by piece (on several threads where there are).
const CHUNK_BLOCKS: usize = 16;
/// The largest `SumTo` result a split group keeps a partial copy of per
/// piece; a group with a larger one is not split.
const MAX_PARTIAL: usize = 4096;

/// The instructions so far, and the buffers they need.
pub(super) struct Emitter<'a> {
    nodes: &'a Nodes<'a>,
    layout: Layout,
    instrs: Vec<Instr>,
    /// The most scratch slots any group uses.
    max_slots: usize,
    /// Elements per scratch slot: `BLOCK`, or a longer block a group
    /// needs for whole rows of its matrices.
    slot_len: usize,
    /// Length of the buffer of the split groups' partial sums.
    partials: usize,
    /// Whether a group is split into pieces (then each worker thread gets
    /// scratch slots of its own).
    split: bool,
}

impl<'a> Emitter<'a> {
    pub(super) fn new(nodes: &'a Nodes<'a>, layout: Layout) -> Emitter<'a> {
        Emitter {
            nodes,
            layout,
            instrs: Vec::new(),
            max_slots: 0,
            slot_len: BLOCK,
            partials: 0,
            split: false,
        }
    }

    /// Emits one instruction per unit, and the tape computing `outputs`.
    pub(super) fn run(mut self, units: &[Unit], outputs: &[NodeId]) -> Tape {
        self.instrs.reserve(units.len());
        for u in units {
            let ins = if u.group {
                self.group(&u.nodes)
            } else {
                self.single(u.nodes[0])
            };
            self.instrs.push(ins);
        }
        self.finish(outputs)
    }

    fn off(&self, i: usize) -> usize {
        self.layout.off(i)
    }

    /// The tape: the instructions, the value buffer, scratch for the
    /// groups (for every worker when a group is split) and partial sums.
    fn finish(self, outputs: &[NodeId]) -> Tape {
        let g = self.nodes.g;
        let outputs_loc = outputs
            .iter()
            .map(|&o| (self.off(o as usize), g.numel(o)))
            .collect();
        let stride = self.max_slots * self.slot_len;
        let workers = if self.split { threads() } else { 1 };
        let gemm = super::super::kernels::gemm_workspace(&self.instrs);
        Tape {
            gemm,
            instrs: self.instrs,
            vals: self.layout.vals,
            scratch: vec![0.0; stride * workers],
            scratch_stride: stride,
            slot_len: self.slot_len,
            partials: vec![0.0; self.partials],
            params: self.layout.params,
            inputs: self.layout.inputs,
            outputs: outputs_loc,
            output_shapes: outputs.iter().map(|&o| g.shape(o).to_vec()).collect(),
            live_nodes: self.nodes.live[..g.len()].iter().filter(|&&l| l).count(),
        }
    }

    /// The instruction of a fused group of `members`.
    fn group(&mut self, members: &[usize]) -> Instr {
        let len = self.nodes.key(members[0]).expect("group key");
        let mut b = GroupBuilder::new(self.nodes, &self.layout, len);
        for &n in members {
            if self.nodes.is_sink(n) {
                b.sink(n);
            } else if let Some((cols, trans)) = self.nodes.mv(n) {
                b.mv(n, cols, trans);
            } else {
                b.elem(n);
            }
        }
        let (nslots, record, block) = (b.nslots, b.record, b.choose_block());
        let (steps, sinks) = b.finish();
        self.max_slots = self.max_slots.max(nslots);
        self.slot_len = self.slot_len.max(block);
        let chunk = self.chunk(len, block, &sinks, record);
        Instr {
            out: 0,
            len,
            kind: Kind::Group {
                len,
                block,
                steps,
                sinks,
                chunk,
                record,
            },
        }
    }

    /// Elements per piece of a group over `len` elements, or 0 when it
    /// runs as one range (no more than a piece, or a sum too large to
    /// keep a partial copy of per piece); notes the buffers pieces need.
    fn chunk(&mut self, len: usize, block: usize, sinks: &[Sink], record: usize) -> usize {
        let chunk = CHUNK_BLOCKS * block;
        if len > chunk && sinks.iter().all(|s| s.len <= MAX_PARTIAL) {
            self.partials = self.partials.max(len.div_ceil(chunk) * record);
            self.split = true;
            chunk
        } else {
            0
        }
    }

    /// The instruction of node `i` alone.
    fn single(&self, i: usize) -> Instr {
        Instr {
            out: self.off(i),
            len: self.nodes.len(i),
            kind: self.kind(i),
        }
    }

    /// What node `i` does as an instruction of its own.
    fn kind(&self, i: usize) -> Kind {
        let nodes = self.nodes;
        let a0 = nodes.args[i][0];
        let (src, src_len, shape0) = (self.off(a0), nodes.len(a0), nodes.shape(a0));
        match nodes.elem(i).unwrap_or(nodes.node(i).op) {
            op if op.is_elementwise() => self.scalar(op, i),
            op @ (Op::SumTo(_) | Op::IndexAdj(_)) => Kind::Scatter {
                src,
                src_len,
                map: self.strided_map(op, i),
            },
            op @ (Op::Index(_) | Op::Expand(_) | Op::Permute(_)) => Kind::Gather {
                src,
                src_len,
                map: self.strided_map(op, i),
            },
            Op::Stack => Kind::Stack(
                nodes.args[i]
                    .iter()
                    .map(|&a| (self.off(a), nodes.len(a)))
                    .collect(),
            ),
            Op::Reduce(red, ax) => {
                let (outer, n, inner) = ax.split3(shape0);
                Kind::Reduce {
                    red,
                    src,
                    outer,
                    n,
                    inner,
                }
            }
            Op::ProdExcl(ax) => {
                let (outer, n, inner) = ax.split3(shape0);
                Kind::ProdExcl {
                    src,
                    outer,
                    n,
                    inner,
                }
            }
            Op::MatMul => self.matmul(i),
            op => unreachable!("{op:?} is not an instruction"),
        }
    }

    /// For a gather (`op` of node `i`: Index, Expand, Permute), where each
    /// element of the result is in the argument; for a scatter (SumTo,
    /// IndexAdj), where each element of the argument goes in the result.
    fn strided_map(&self, op: Op, i: usize) -> Strided {
        let g = self.nodes.g;
        let (shape, shape0) = (self.nodes.shape(i), self.nodes.shape(self.nodes.args[i][0]));
        match op {
            Op::SumTo(_) => broadcast_strided(shape, shape0),
            Op::Expand(_) => broadcast_strided(shape0, shape),
            Op::Permute(a) => permute_strided(shape0, g.aux_shape(a), shape),
            Op::Index(a) | Op::IndexAdj(a) => match &g.aux[a as usize] {
                Aux::Index(src, ix) => index_strided(src, ix),
                _ => unreachable!("{op:?} without index data"),
            },
            _ => unreachable!("{op:?} is no gather or scatter"),
        }
    }

    /// One element of elementwise op `op` of node `i`'s arguments.
    fn scalar(&self, op: Op, i: usize) -> Kind {
        let args = &self.nodes.args[i];
        let mut offs = [0usize; 3];
        for (k, &a) in args.iter().enumerate() {
            offs[k] = self.off(a);
        }
        Kind::Scalar {
            op,
            args: offs,
            n: args.len(),
        }
    }

    /// Matmul node `i`: `batch` products of [m, k] @ [k, n], an operand
    /// read transposed taking swapped strides.
    fn matmul(&self, i: usize) -> Kind {
        let (g, nodes) = (self.nodes.g, self.nodes);
        let node = nodes.node(i);
        let (sa, sb) = (&node.shape, g.shape(node.args[1]));
        let r = sa.len();
        let (m, n) = (sa[r - 2], sa[r - 1]);
        let k = sb[sb.len() - 2];
        let (a, b) = (nodes.args[i][0], nodes.args[i][1]);
        let [ta, tb] = nodes.trans[i];
        Kind::MatMul {
            a: self.off(a),
            a_len: nodes.len(a),
            ast: operand_strides(ta, m, k),
            b: self.off(b),
            b_len: nodes.len(b),
            bst: operand_strides(tb, k, n),
            batch: numel(&sa[..r - 2]),
            m,
            k,
            n,
        }
    }
}

/// The (row, column, batch) strides of a [rows, cols] matmul operand
/// stored row-major, or (`transposed`) stored as its transpose [cols, rows].
fn operand_strides(transposed: bool, rows: usize, cols: usize) -> (isize, isize, usize) {
    if transposed {
        (1isize, rows as isize, rows * cols)
    } else {
        (cols as isize, 1isize, rows * cols)
    }
}

/// A fused group being built, member by member: the gathers of its
/// broadcast arguments, its steps, its scratch slots and its sums.
struct GroupBuilder<'a> {
    nodes: &'a Nodes<'a>,
    layout: &'a Layout,
    /// Elements of the group.
    len: usize,
    /// The scratch slot of each internal value computed so far.
    slot_of: HashMap<usize, usize>,
    /// The scratch slot each broadcast argument is gathered into.
    gathered: HashMap<usize, usize>,
    nslots: usize,
    gathers: Vec<GStep>,
    body: Vec<GStep>,
    sinks: Vec<Sink>,
    /// Partial sums per piece so far.
    record: usize,
    /// The column counts of the matrices of its matrix-vector products:
    /// a block holds whole rows of each.
    rows: Vec<usize>,
}

impl<'a> GroupBuilder<'a> {
    fn new(nodes: &'a Nodes<'a>, layout: &'a Layout, len: usize) -> GroupBuilder<'a> {
        GroupBuilder {
            nodes,
            layout,
            len,
            slot_of: HashMap::new(),
            gathered: HashMap::new(),
            nslots: 0,
            gathers: Vec::new(),
            body: Vec::new(),
            sinks: Vec::new(),
            record: 0,
            rows: Vec::new(),
        }
    }

    /// A new scratch slot.
    fn scratch(&mut self) -> usize {
        self.nslots += 1;
        self.nslots - 1
    }

    /// Where the group finds the blocks of value `n` of its own length.
    fn loc(&self, n: usize) -> Loc {
        match self.slot_of.get(&n) {
            Some(&s) => Loc::Scratch(s),
            None => Loc::Mem(self.layout.off(n)),
        }
    }

    /// Sum `n` (`SumTo`, or `Reduce(Sum)` over everything), accumulated
    /// block by block into its place and its part of a piece's record.
    fn sink(&mut self, n: usize) {
        let nodes = self.nodes;
        let a = nodes.args[n][0];
        let (src, out, len) = (self.loc(a), self.layout.off(n), nodes.len(n));
        let part = self.record;
        self.record += len;
        if let Op::SumTo(_) = nodes.node(n).op {
            self.sinks.push(Sink {
                out,
                len,
                init: 0.0,
                part,
            });
            // the summed shape broadcast from the result's
            let mut map = broadcast_strided(nodes.shape(n), nodes.shape(a));
            map.base = 0;
            self.body.push(GStep::SumTo {
                src,
                out,
                out_len: len,
                map,
                part,
            });
        } else {
            let init = std::iter::empty::<f64>().sum();
            self.sinks.push(Sink {
                out,
                len: 1,
                init,
                part,
            });
            self.body.push(GStep::SumAll { src, out, part });
        }
    }

    /// Matrix-vector product `n` of a matrix of `cols` columns (of the
    /// group's length) and a vector (stored): the product's rows written
    /// as the blocks go by, or (`trans`) the transpose's product summed
    /// over the blocks with its part of a piece's record.
    fn mv(&mut self, n: usize, cols: usize, trans: bool) {
        let nodes = self.nodes;
        let (a, v) = (nodes.args[n][0], nodes.args[n][1]);
        let (src, vec, out, len) = (
            self.loc(a),
            self.layout.off(v),
            self.layout.off(n),
            nodes.len(n),
        );
        let part = self.record;
        if trans {
            self.record += len;
            self.sinks.push(Sink {
                out,
                len,
                init: 0.0,
                part,
            });
        }
        self.rows.push(cols);
        self.body.push(GStep::Mv {
            src,
            vec,
            cols,
            out,
            trans,
            part,
        });
    }

    /// Elementwise member `n`: its result goes to a scratch slot when
    /// only the group reads it, else to its place in the buffer.
    fn elem(&mut self, n: usize) {
        let nodes = self.nodes;
        let args = nodes.args[n].iter().map(|&a| self.arg(a, n)).collect();
        let out = if self.layout.internal[n] {
            let s = self.scratch();
            self.slot_of.insert(n, s);
            Loc::Scratch(s)
        } else {
            Loc::Mem(self.layout.off(n))
        };
        let op = nodes.elem(n).expect("elementwise group member");
        self.body.push(GStep::Elem { op, args, out });
    }

    /// How member `n` reads argument `a`: one element broadcast, the
    /// blocks of a value of the group's length, or the blocks of a
    /// broadcast argument gathered into a scratch slot (once per group).
    fn arg(&mut self, a: usize, n: usize) -> GArg {
        let alen = self.nodes.len(a);
        if alen == 1 {
            return GArg::One(self.layout.off(a));
        }
        if alen == self.len {
            return GArg::Block(self.loc(a));
        }
        let slot = match self.gathered.get(&a) {
            Some(&s) => s,
            None => {
                let slot = self.scratch();
                self.gathers.push(GStep::Gather {
                    src: self.layout.off(a),
                    src_len: alen,
                    map: broadcast_strided(self.nodes.shape(a), self.nodes.shape(n)),
                    slot,
                    once: false,
                });
                self.gathered.insert(a, slot);
                slot
            }
        };
        GArg::Block(Loc::Scratch(slot))
    }

    /// The group's block length, chosen for its broadcast arguments'
    /// periods; marks the gathers whose block is the same every block.
    fn choose_block(&mut self) -> usize {
        let periods = self.gathers.iter().filter_map(|st| match st {
            GStep::Gather { map, .. } => map.period(),
            _ => None,
        });
        let block = block_len(&self.rows, periods);
        for st in &mut self.gathers {
            if let GStep::Gather { map, once, .. } = st {
                *once = map.period().is_some_and(|p| block.is_multiple_of(p));
            }
        }
        block
    }

    /// The steps (the gathers, then the members in order) and the sums.
    fn finish(self) -> (Vec<GStep>, Vec<Sink>) {
        let mut steps = self.gathers;
        steps.extend(self.body);
        (steps, self.sinks)
    }
}

/// A block length that is a multiple of every row length in `rows` (the
/// matrices of matrix-vector products: always, even when their least
/// common multiple exceeds a `BLOCK`, then the block is that multiple) and
/// of the given periods of broadcast arguments (so that those are gathered
/// once) as far as the least common multiple stays within half a `BLOCK`.
fn block_len(rows: &[usize], periods: impl IntoIterator<Item = usize>) -> usize {
    let lcm_of = |a: usize, b: usize| a / gcd(a, b) * b;
    let mut lcm = rows.iter().fold(1usize, |l, &r| lcm_of(l, r));
    for p in periods {
        let l = lcm_of(lcm, p);
        if l <= BLOCK / 2 {
            lcm = l;
        }
    }
    if lcm > BLOCK {
        lcm
    } else {
        BLOCK / lcm * lcm
    }
}

fn gcd(a: usize, b: usize) -> usize {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_length_is_a_multiple_of_the_periods_that_fit() {
        assert_eq!(block_len(&[], []), BLOCK);
        assert_eq!(block_len(&[], [3]), 510);
        assert_eq!(block_len(&[], [3, 4, 6]), 504);
        // 2 and 200 have a common multiple of 200: two of them per block
        assert_eq!(block_len(&[], [2, 200]), 400);
        // a period over half a block is left out, the others kept
        assert_eq!(block_len(&[], [300, 5]), 510);
        assert_eq!(block_len(&[], [16, 48]), 480);
    }

    #[test]
    fn block_length_holds_whole_rows_of_the_products_matrices() {
        assert_eq!(block_len(&[10], [10]), 510);
        assert_eq!(block_len(&[64, 64], []), 512);
        // a period that does not fit with the rows is left out
        assert_eq!(block_len(&[200], [3]), 400);
        // rows whose common multiple exceeds a block: a longer block
        assert_eq!(block_len(&[200, 256], []), 6400);
    }

    #[test]
    fn operands_read_transposed_swap_their_strides() {
        assert_eq!(operand_strides(false, 3, 4), (4, 1, 12));
        assert_eq!(operand_strides(true, 3, 4), (1, 3, 12));
    }
}
