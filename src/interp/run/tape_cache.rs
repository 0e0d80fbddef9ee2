//! Compiled tapes of recent objectives, so that running the same
//! `minimize` again (a REPL or notebook cell run twice, a script that
//! restarts a fit from several points) does not differentiate the graph and
//! compile its tapes again: for a small objective that work is most of a
//! statement's time (MIGRAD + HESSE on a 2-parameter function evaluates
//! its tapes ~30 times, a few microseconds, but compiling the value,
//! gradient and Hessian tapes costs ten times that).
//!
//! The key is the objective's graph itself, compared node by node (ops,
//! arguments, shapes, the bits of every constant, the shape ops' data),
//! with the output node, what the tapes are for and the parameters
//! differentiated against. A statement builds its graph afresh and the
//! graph is hash-consed in creation order, so the same objective over the
//! same shapes gives the same nodes; anything else misses. Nothing but the
//! graph goes into a tape, so a hit is exactly what compiling would give
//! (the caller sets the parameter values afterwards either way).
//!
//! Only small tapes are kept (`MAX_VALUES` values each): a large objective
//! spends its time in its steps, not in compiling, and keeping its buffers
//! would double its memory. At most `MAX_ENTRIES` entries, least recently
//! used first out.

use crate::graph::{Aux, Graph, NodeId, Op, Tape};
use std::time::{Duration, Instant};

/// Entries kept.
const MAX_ENTRIES: usize = 16;
/// Largest tape kept: value buffer plus scratch, in elements.
const MAX_VALUES: usize = 1 << 14;

/// What a set of tapes computes from the objective.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    /// Minuit: the value; the value and gradient; the Hessian (if any).
    Minuit,
    /// A torch optimizer's step: the value and the gradient.
    Steps,
    /// The value alone.
    Value,
}

/// The graph as a flat, comparable record.
#[derive(Debug)]
struct Key {
    purpose: Purpose,
    out: NodeId,
    params: Vec<usize>,
    ops: Vec<Op>,
    /// Every node's arguments, one after another; `arg_ends[i]` ends node i's.
    args: Vec<NodeId>,
    arg_ends: Vec<usize>,
    shapes: Vec<usize>,
    shape_ends: Vec<usize>,
    /// The bits of every constant's elements, one after another.
    consts: Vec<u64>,
    const_ends: Vec<usize>,
    aux: Vec<Aux>,
}

impl Key {
    fn of(purpose: Purpose, g: &Graph, out: NodeId, params: &[usize]) -> Key {
        let mut k = Key {
            purpose,
            out,
            params: params.to_vec(),
            ops: Vec::with_capacity(g.nodes.len()),
            args: Vec::new(),
            arg_ends: Vec::with_capacity(g.nodes.len()),
            shapes: Vec::new(),
            shape_ends: Vec::with_capacity(g.nodes.len()),
            consts: Vec::new(),
            const_ends: Vec::with_capacity(g.consts.len()),
            aux: g.aux.clone(),
        };
        for n in &g.nodes {
            k.ops.push(n.op);
            k.args.extend_from_slice(&n.args);
            k.arg_ends.push(k.args.len());
            k.shapes.extend_from_slice(&n.shape);
            k.shape_ends.push(k.shapes.len());
        }
        for c in &g.consts {
            k.consts.extend(c.data.iter().map(|v| v.to_bits()));
            k.const_ends.push(k.consts.len());
        }
        k
    }

    /// Is this the key of (`purpose`, `g`, `out`, `params`)? Cheap checks first.
    fn matches(&self, purpose: Purpose, g: &Graph, out: NodeId, params: &[usize]) -> bool {
        if self.purpose != purpose
            || self.out != out
            || self.params != params
            || self.ops.len() != g.nodes.len()
            || self.const_ends.len() != g.consts.len()
            || self.aux != g.aux
        {
            return false;
        }
        let (mut a0, mut s0) = (0, 0);
        for (i, n) in g.nodes.iter().enumerate() {
            let (a1, s1) = (self.arg_ends[i], self.shape_ends[i]);
            if self.ops[i] != n.op
                || self.args[a0..a1] != n.args[..]
                || self.shapes[s0..s1] != n.shape[..]
            {
                return false;
            }
            (a0, s0) = (a1, s1);
        }
        let mut c0 = 0;
        for (i, c) in g.consts.iter().enumerate() {
            let c1 = self.const_ends[i];
            let bits = &self.consts[c0..c1];
            if bits.len() != c.data.len()
                || bits.iter().zip(&c.data).any(|(&b, v)| b != v.to_bits())
            {
                return false;
            }
            c0 = c1;
        }
        true
    }
}

/// The cache: a session keeps one.
#[derive(Debug, Default)]
pub struct TapeCache {
    /// Least recently used first.
    entries: Vec<(Key, Vec<Option<Tape>>)>,
    hits: usize,
    /// Time spent differentiating and compiling minimizations' tapes.
    compiling: Duration,
}

impl TapeCache {
    /// The tapes for `purpose` of the objective `out` of `g` (differentiated
    /// against `params`), or `make`'s (which may add nodes to `g`, e.g. the
    /// gradient's) when none are kept; `make`'s are kept if they are small.
    /// `make` may refuse (a tape over the memory budget): nothing is kept then.
    pub(super) fn get_or_make<E>(
        &mut self,
        purpose: Purpose,
        g: &mut Graph,
        out: NodeId,
        params: &[usize],
        make: impl FnOnce(&mut Graph) -> Result<Vec<Option<Tape>>, E>,
    ) -> Result<Vec<Option<Tape>>, E> {
        if let Some(i) = self
            .entries
            .iter()
            .rposition(|(k, _)| k.matches(purpose, g, out, params))
        {
            let e = self.entries.remove(i);
            let tapes = e.1.clone();
            self.entries.push(e);
            self.hits += 1;
            return Ok(tapes);
        }
        let key = Key::of(purpose, g, out, params);
        let t = Instant::now();
        let tapes = make(g)?;
        self.compiling += t.elapsed();
        let size: usize = tapes
            .iter()
            .flatten()
            .map(|t| {
                let (v, s) = t.buffer_len();
                v + s
            })
            .sum();
        if size <= MAX_VALUES {
            if self.entries.len() == MAX_ENTRIES {
                self.entries.remove(0);
            }
            self.entries.push((key, tapes.clone()));
        }
        Ok(tapes)
    }

    /// How many lookups found their tapes (for tests).
    #[cfg(test)]
    pub fn hits(&self) -> usize {
        self.hits
    }

    /// Counts compiling done outside the cache (minibatch tapes) in
    /// `compile_time`.
    pub(super) fn add_compile_time(&mut self, d: Duration) {
        self.compiling += d;
    }

    /// Time spent differentiating and compiling the tapes of minimizations
    /// so far (`--time` shows it).
    pub fn compile_time(&self) -> Duration {
        self.compiling
    }

    /// Forgets every tape (the REPL's `:reset`).
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Tensor;

    fn objective(c: f64) -> (Graph, NodeId) {
        let mut g = Graph::new();
        let x = g.param(0, vec![]);
        let k = g.scalar(c);
        let d = g.node(Op::Sub, &[x, k]).unwrap();
        let out = g.node(Op::Mul, &[d, d]).unwrap();
        (g, out)
    }

    fn make(g: &mut Graph, out: NodeId) -> Result<Vec<Option<Tape>>, std::convert::Infallible> {
        Ok(vec![Some(Tape::new(g, &[out]))])
    }

    #[test]
    fn the_same_graph_hits_and_a_different_one_misses() {
        let mut c = TapeCache::default();
        let (mut g, out) = objective(2.0);
        let t = c
            .get_or_make(Purpose::Value, &mut g, out, &[], |g| make(g, out))
            .unwrap();
        let (mut g2, out2) = objective(2.0);
        let mut called = false;
        let t2 = c
            .get_or_make(Purpose::Value, &mut g2, out2, &[], |g| {
                called = true;
                make(g, out2)
            })
            .unwrap();
        assert!(!called);
        assert_eq!(c.hits(), 1);
        let mut a = t[0].clone().unwrap();
        let mut b = t2[0].clone().unwrap();
        a.set_param(0, &[5.0]);
        b.set_param(0, &[5.0]);
        a.forward();
        b.forward();
        assert_eq!(a.output(0), &[9.0]);
        assert_eq!(b.output(0), a.output(0));
        // another constant, another purpose, other parameters: misses
        let (mut g3, out3) = objective(3.0);
        c.get_or_make(Purpose::Value, &mut g3, out3, &[], |g| make(g, out3))
            .unwrap();
        let (mut g4, out4) = objective(2.0);
        c.get_or_make(Purpose::Steps, &mut g4, out4, &[], |g| make(g, out4))
            .unwrap();
        c.get_or_make(Purpose::Value, &mut g4, out4, &[0], |g| make(g, out4))
            .unwrap();
        assert_eq!(c.hits(), 1);
    }

    #[test]
    fn a_statement_run_again_reuses_its_tapes_and_gives_the_same_result() {
        use crate::interp::testutil::run;
        let fit =
            "x = 0; y = 0;\nminimize (x^2 + y - 11)^2 + (x + y^2 - 7)^2 with migrad;\nhesse;\n";
        let steps = "x = 0; y = 0;\nminimize (x - 1)^2 + y^2 with adam(lr=0.1) for 20 steps;\n";
        let head = "param x = 0; param y = 0;\n";
        let once = run(&format!("{head}{fit}{steps}"));
        let twice = run(&format!("{head}{fit}{steps}{fit}{steps}"));
        // the second fit and the second run (its step tape and its final
        // loss's tape) compiled nothing
        assert_eq!(once.session.tapes.hits(), 0);
        assert_eq!(twice.session.tapes.hits(), 3);
        assert_eq!(twice.out, format!("{}{}", once.out, once.out));
        // another objective compiles its own
        let other = steps.replace("(x - 1)^2", "(x - 2)^2");
        let r = run(&format!("{head}{steps}{other}"));
        assert_eq!(r.session.tapes.hits(), 0);
    }

    #[test]
    fn zero_and_minus_zero_are_different_constants() {
        let mut c = TapeCache::default();
        let build = |v: f64| {
            let mut g = Graph::new();
            let x = g.param(0, vec![]);
            let k = g.constant(Tensor {
                shape: vec![2],
                data: vec![1.0, v],
            });
            let out = g.node(Op::Mul, &[x, k]).unwrap();
            (g, out)
        };
        let (mut g, out) = build(0.0);
        c.get_or_make(Purpose::Value, &mut g, out, &[], |g| make(g, out))
            .unwrap();
        let (mut g, out) = build(-0.0);
        c.get_or_make(Purpose::Value, &mut g, out, &[], |g| make(g, out))
            .unwrap();
        assert_eq!(c.hits(), 0);
        let (mut g, out) = build(-0.0);
        c.get_or_make(Purpose::Value, &mut g, out, &[], |g| make(g, out))
            .unwrap();
        assert_eq!(c.hits(), 1);
    }

    #[test]
    fn large_tapes_are_not_kept_and_entries_are_bounded() {
        let mut c = TapeCache::default();
        let mut g = Graph::new();
        let x = g.param(0, vec![MAX_VALUES]);
        let out = g
            .reduce(crate::graph::Red::Sum, x, crate::graph::Axis::All)
            .unwrap();
        for _ in 0..2 {
            c.get_or_make(Purpose::Value, &mut g, out, &[], |g| make(g, out))
                .unwrap();
        }
        assert_eq!((c.hits(), c.entries.len()), (0, 0));
        for k in 0..(MAX_ENTRIES + 4) {
            let (mut g, out) = objective(k as f64);
            c.get_or_make(Purpose::Value, &mut g, out, &[], |g| make(g, out))
                .unwrap();
        }
        assert_eq!(c.entries.len(), MAX_ENTRIES);
        // the oldest went out, the newest stayed
        let (mut g, out) = objective(0.0);
        c.get_or_make(Purpose::Value, &mut g, out, &[], |g| make(g, out))
            .unwrap();
        assert_eq!(c.hits(), 0);
        let (mut g, out) = objective((MAX_ENTRIES + 3) as f64);
        c.get_or_make(Purpose::Value, &mut g, out, &[], |g| make(g, out))
            .unwrap();
        assert_eq!(c.hits(), 1);
    }
}
