//! The forward evaluator. A `Tape` is compiled once from a graph and a set
//! of outputs: it keeps only the nodes the outputs need, in topological
//! order, gives each a fixed place in one value buffer, and precomputes the
//! argument offsets (and broadcasting index maps) of every instruction.
//! Evaluating it allocates nothing; a scalar instruction is one `match`.

use super::ops::{eval_scalar, Op};
use super::{Graph, NodeId};
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

#[derive(Clone, Debug)]
struct Instr {
    op: Op,
    out: usize,
    len: usize,
    args: Vec<Src>,
    /// For SumTo: index of the output element each source element adds to.
    scatter: Option<(usize, Vec<u32>)>,
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

/// Index of the source element for each element of `out` under broadcasting.
fn broadcast_map(src: &[usize], out: &[usize]) -> Vec<u32> {
    let n = numel(out);
    let nd = out.len();
    let mut strides = vec![0usize; nd];
    let mut s = 1;
    for i in (0..src.len()).rev() {
        let o = nd - src.len() + i;
        strides[o] = if src[i] == 1 { 0 } else { s };
        s *= src[i];
    }
    let mut map = Vec::with_capacity(n);
    let mut idx = vec![0usize; nd];
    for _ in 0..n {
        map.push(idx.iter().zip(&strides).map(|(i, s)| i * s).sum::<usize>() as u32);
        for d in (0..nd).rev() {
            idx[d] += 1;
            if idx[d] < out[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    map
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
                    let mut args = Vec::new();
                    let mut scatter = None;
                    for &a in &node.args {
                        let an = &g.nodes[a as usize];
                        let alen = numel(&an.shape);
                        let off = offset[a as usize];
                        if op == Op::SumTo {
                            scatter = Some((off, broadcast_map(&node.shape, &an.shape)));
                            args.push(Src::Same(off));
                        } else if alen == 1 {
                            args.push(Src::One(off));
                        } else if an.shape == node.shape {
                            args.push(Src::Same(off));
                        } else {
                            args.push(Src::Map(off, broadcast_map(&an.shape, &node.shape)));
                        }
                    }
                    instrs.push(Instr {
                        op,
                        out: offset[i],
                        len,
                        args,
                        scatter,
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

    /// Evaluates every instruction.
    pub fn forward(&mut self) {
        let vals = &mut self.vals;
        for ins in &self.instrs {
            if ins.len == 1 && ins.scatter.is_none() {
                let mut a = [0.0; 3];
                for (k, s) in ins.args.iter().enumerate() {
                    a[k] = match s {
                        Src::One(o) | Src::Same(o) => vals[*o],
                        Src::Map(o, m) => vals[o + m[0] as usize],
                    };
                }
                vals[ins.out] = eval_scalar(ins.op, &a[..ins.args.len()]);
                continue;
            }
            if let Some((src, map)) = &ins.scatter {
                vals[ins.out..ins.out + ins.len].fill(0.0);
                for (i, &m) in map.iter().enumerate() {
                    vals[ins.out + m as usize] += vals[src + i];
                }
                continue;
            }
            for i in 0..ins.len {
                let mut a = [0.0; 3];
                for (k, s) in ins.args.iter().enumerate() {
                    a[k] = match s {
                        Src::One(o) => vals[*o],
                        Src::Same(o) => vals[o + i],
                        Src::Map(o, m) => vals[o + m[i] as usize],
                    };
                }
                vals[ins.out + i] = eval_scalar(ins.op, &a[..ins.args.len()]);
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
