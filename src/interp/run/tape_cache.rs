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
//! A Minuit fit keeps its tapes for `hesse`, `minos`, ... until the next
//! fit replaces it, so a fit borrows its tapes (`lend`) instead of copying
//! them: an entry keeps its compiled tapes and one spare set that a
//! finished fit gave back (`give_back`); a lookup takes the spare when
//! there is one and copies the kept tapes only when there is not. A
//! script repeating one fit alternates between two sets, copying none.
//! A tape given back holds the values of its last evaluation, which the
//! next user overwrites: every evaluation sets the parameters and writes
//! every value it reads after them.
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

/// Compiled tapes, for a set of purpose.
type Tapes = Vec<Option<Tape>>;

/// One kept objective: its key, its tapes, the spare set a user gave back,
/// and the number that `give_back` finds it by.
#[derive(Debug)]
struct Entry {
    key: Key,
    tapes: Tapes,
    spare: Option<Tapes>,
    id: u64,
}

/// Which entry lent a set of tapes (`TapeCache::lend`), for `give_back`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lease(u64);

/// The cache: a session keeps one.
#[derive(Debug, Default)]
pub struct TapeCache {
    /// Least recently used first.
    entries: Vec<Entry>,
    /// The next entry's id.
    next_id: u64,
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
        make: impl FnOnce(&mut Graph) -> Result<Tapes, E>,
    ) -> Result<Tapes, E> {
        self.lend(purpose, g, out, params, make).map(|(t, _)| t)
    }

    /// `get_or_make`, with the lease to hand the tapes back by when their
    /// user is done (`give_back`): a spare set given back earlier is taken
    /// instead of a copy. No lease for tapes that are not kept.
    pub(super) fn lend<E>(
        &mut self,
        purpose: Purpose,
        g: &mut Graph,
        out: NodeId,
        params: &[usize],
        make: impl FnOnce(&mut Graph) -> Result<Tapes, E>,
    ) -> Result<(Tapes, Option<Lease>), E> {
        if let Some(i) = self
            .entries
            .iter()
            .rposition(|e| e.key.matches(purpose, g, out, params))
        {
            let mut e = self.entries.remove(i);
            let tapes = e.spare.take().unwrap_or_else(|| e.tapes.clone());
            let lease = Lease(e.id);
            self.entries.push(e);
            self.hits += 1;
            return Ok((tapes, Some(lease)));
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
        if size > MAX_VALUES {
            return Ok((tapes, None));
        }
        if self.entries.len() == MAX_ENTRIES {
            self.entries.remove(0);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.entries.push(Entry {
            key,
            tapes: tapes.clone(),
            spare: None,
            id,
        });
        Ok((tapes, Some(Lease(id))))
    }

    /// Takes back tapes lent under `lease` as their entry's spare set (they
    /// are dropped when the entry is gone or already has one).
    pub(crate) fn give_back(&mut self, lease: Lease, tapes: Tapes) {
        if let Some(e) = self.entries.iter_mut().find(|e| e.id == lease.0) {
            if e.spare.is_none() {
                e.spare = Some(tapes);
            }
        }
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
        // the third fit runs on the tapes the first gave back
        let thrice = run(&format!("{head}{fit}{fit}{fit}"));
        let fit_once = run(&format!("{head}{fit}"));
        assert_eq!(thrice.out, fit_once.out.repeat(3));
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
    fn lent_tapes_given_back_are_lent_again_not_copied() {
        let mut c = TapeCache::default();
        let (mut g, out) = objective(2.0);
        let (t, lease) = c
            .lend(Purpose::Value, &mut g, out, &[], |g| make(g, out))
            .unwrap();
        let lease = lease.unwrap();
        // the user evaluates at x = 5 and gives the tapes back
        let mut t = t;
        let tape = t[0].as_mut().unwrap();
        tape.set_param(0, &[5.0]);
        tape.forward();
        c.give_back(lease, t);
        assert!(c.entries[0].spare.is_some());
        // the next lookup takes that set (it still holds (5 - 2)^2)...
        let (mut g2, out2) = objective(2.0);
        let (mut t2, lease2) = c
            .lend(Purpose::Value, &mut g2, out2, &[], |g| make(g, out2))
            .unwrap();
        assert_eq!(lease2, Some(lease));
        assert!(c.entries[0].spare.is_none());
        assert_eq!(t2[0].as_ref().unwrap().output(0), &[9.0]);
        // ...and evaluates it as a fresh copy would
        let fresh = c.entries[0].tapes[0].clone();
        for tape in [t2[0].as_mut(), fresh.clone().as_mut()]
            .into_iter()
            .flatten()
        {
            tape.set_param(0, &[-1.0]);
            tape.forward();
            assert_eq!(tape.output(0), &[9.0]);
        }
        // while lent, a lookup gets a copy; a second set given back, or one
        // for an entry gone, is dropped
        let (mut g3, out3) = objective(2.0);
        let (t3, _) = c
            .lend(Purpose::Value, &mut g3, out3, &[], |g| make(g, out3))
            .unwrap();
        c.give_back(lease, t2);
        c.give_back(lease, t3);
        assert_eq!(c.hits(), 2);
        c.clear();
        c.give_back(lease, vec![fresh]);
        assert!(c.entries.is_empty());
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
