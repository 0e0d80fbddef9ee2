//! Reverse-mode differentiation, done symbolically on the graph: walking
//! back from the output, each node's adjoint is built from its consumers'
//! adjoints with one rule per op (PyTorch's derivative formulas, including
//! its conventions at kinks: relu'(0) = 0, abs'(0) = 0, a tie in max gives
//! half to each side, `where` differentiates the branch it took). The
//! adjoints are ordinary nodes, hash-consed with the rest, so the gradient
//! shares the forward pass's subexpressions and can itself be differentiated.
//! Every adjoint node, the sums back down to a broadcast argument's shape
//! included, is made through `Graph::node`, so nothing here bypasses the
//! hash-consing.

use super::ops::{Axis, Cmp, Op, OpKind, Red, UnFn};
use super::{Aux, Graph, Ix, NodeId};

/// The gradient of scalar node `output` with respect to each node of `wrt`
/// (parameter nodes), as new nodes. A parameter the output does not depend
/// on gets a zero of its shape.
pub fn grad(g: &mut Graph, output: NodeId, wrt: &[NodeId]) -> Vec<NodeId> {
    let n = output as usize + 1;
    // needed[i]: node i lies on a path from some wrt node to the output.
    let mut depends = vec![false; n];
    for &w in wrt {
        if (w as usize) < n {
            depends[w as usize] = true;
        }
    }
    for i in 0..n {
        if !depends[i] && g.varying[i] {
            depends[i] = g.nodes[i].args.iter().any(|&a| depends[a as usize]);
        }
    }
    let mut adj: Vec<Option<NodeId>> = vec![None; n];
    if depends[output as usize] {
        adj[output as usize] = Some(g.scalar(1.0));
    }
    for i in (0..n).rev() {
        let Some(gi) = adj[i] else { continue };
        if wrt.contains(&(i as NodeId)) && g.nodes[i].args.is_empty() {
            continue;
        }
        let args = g.nodes[i].args.clone();
        for (k, &a) in args.iter().enumerate() {
            if !depends[a as usize] {
                continue;
            }
            if let Some(c) = contribution(g, i as NodeId, k, gi) {
                let c = sum_to(g, c, a);
                adj[a as usize] = Some(match adj[a as usize] {
                    None => c,
                    Some(prev) => g.must(Op::Add, &[prev, c]),
                });
            }
        }
    }
    wrt.iter()
        .map(|&w| match adj.get(w as usize).copied().flatten() {
            Some(a) => a,
            None => zeros_like(g, w),
        })
        .collect()
}

fn zeros_like(g: &mut Graph, n: NodeId) -> NodeId {
    let shape = g.shape(n).to_vec();
    if shape.is_empty() {
        g.scalar(0.0)
    } else {
        g.constant(crate::tensor::Tensor {
            data: vec![0.0; crate::tensor::numel(&shape)],
            shape,
        })
    }
}

/// Reduces a contribution shaped like the consumer to its argument's shape
/// (the adjoint of broadcasting).
fn sum_to(g: &mut Graph, c: NodeId, arg: NodeId) -> NodeId {
    let shape = g.shape(arg).to_vec();
    match g.sum_to(c, &shape) {
        Ok(n) => n,
        // `arg` broadcast to the consumer's shape, so this cannot fail
        Err(e) => panic!("internal shape error in derivative: {}", e.0),
    }
}

/// What a derivative rule sees: node `n` with its op and arguments, the
/// argument `k` the adjoint goes to, the adjoint `gi` of `n`, and the
/// constant 0 that masked adjoints fall back to.
struct Rule<'a> {
    op: Op,
    k: usize,
    n: NodeId,
    args: &'a [NodeId],
    gi: NodeId,
    zero: NodeId,
}

impl Rule<'_> {
    /// The first argument.
    fn a(&self) -> NodeId {
        self.args[0]
    }

    /// The second argument.
    fn b(&self) -> NodeId {
        self.args[1]
    }

    /// The argument the adjoint goes to and the other one, for the
    /// symmetric two-argument rules.
    fn this_other(&self) -> (NodeId, NodeId) {
        if self.k == 0 {
            (self.a(), self.b())
        } else {
            (self.b(), self.a())
        }
    }
}

/// The adjoint that node `n` sends to its argument number `k`, given the
/// adjoint `gi` of `n`; None when it is identically zero.
fn contribution(g: &mut Graph, n: NodeId, k: usize, gi: NodeId) -> Option<NodeId> {
    let op = g.op(n);
    let args = g.args(n).to_vec();
    let zero = g.scalar(0.0);
    let r = Rule {
        op,
        k,
        n,
        args: &args,
        gi,
        zero,
    };
    match op.kind() {
        OpKind::Arithmetic => arithmetic(g, &r),
        OpKind::Unary(f) => unary(g, f, n, r.a(), gi),
        OpKind::Leaf => None,
        OpKind::Structural => structural(g, &r),
        OpKind::Elementwise => elementwise(g, &r),
    }
}

/// The arithmetic ops: + - * / and the powers.
fn arithmetic(g: &mut Graph, r: &Rule) -> Option<NodeId> {
    let (a, gi) = (r.a(), r.gi);
    let c = match (r.op, r.k) {
        (Op::Neg, _) => g.must(Op::Neg, &[gi]),
        (Op::Add, _) => gi,
        (Op::Sub, 0) => gi,
        (Op::Sub, _) => g.must(Op::Neg, &[gi]),
        (Op::Mul, 0) => g.mul(gi, r.b()),
        (Op::Mul, _) => g.mul(gi, a),
        (Op::Div, 0) => g.must(Op::Div, &[gi, r.b()]),
        (Op::Div, _) => {
            // torch: -grad * self / (other * other)
            let ng = g.must(Op::Neg, &[gi]);
            let num = g.mul(ng, a);
            let den = g.must(Op::Mul, &[r.b(), r.b()]);
            g.must(Op::Div, &[num, den])
        }
        (Op::PowC, 0) => return pow_const_base(g, r),
        (Op::PowC, _) => return None,
        (Op::Pow, 0) => pow_base(g, r),
        (Op::Pow, _) => pow_exponent(g, r),
        _ => unreachable!("arithmetic is called for the arithmetic ops"),
    };
    Some(c)
}

/// `a ^ c` with respect to `a`, None for `c == 0`.
fn pow_const_base(g: &mut Graph, r: &Rule) -> Option<NodeId> {
    let e = g.const_scalar(r.b()).unwrap_or(f64::NAN);
    if e == 0.0 {
        return None;
    }
    // torch: grad * (exponent * self.pow(exponent - 1))
    let em1 = g.scalar(e - 1.0);
    let p = g.must(Op::PowC, &[r.a(), em1]);
    let ec = g.scalar(e);
    let t = g.mul(ec, p);
    Some(g.mul(r.gi, t))
}

/// `a ^ b` with respect to `a`.
fn pow_base(g: &mut Graph, r: &Rule) -> NodeId {
    // torch: where(exponent == 0, 0, grad * (exponent * self.pow(exponent - 1)))
    let (b, zero) = (r.b(), r.zero);
    let one = g.scalar(1.0);
    let bm1 = g.must(Op::Sub, &[b, one]);
    let p = g.must(Op::Pow, &[r.a(), bm1]);
    let t = g.must(Op::Mul, &[b, p]);
    let t = g.mul(r.gi, t);
    let is0 = g.must(Op::Cmp(Cmp::Eq), &[b, zero]);
    g.must(Op::Where, &[is0, zero, t])
}

/// `a ^ b` with respect to `b`.
fn pow_exponent(g: &mut Graph, r: &Rule) -> NodeId {
    // torch: grad * where(self == 0 & exponent >= 0, 0, result * log(self))
    let (a, b, zero) = (r.a(), r.b(), r.zero);
    let lg = g.must(Op::Un(UnFn::Log), &[a]);
    let t = g.must(Op::Mul, &[r.n, lg]);
    let a0 = g.must(Op::Cmp(Cmp::Eq), &[a, zero]);
    let bpos = g.must(Op::Cmp(Cmp::Ge), &[b, zero]);
    let cond = g.must(Op::And, &[a0, bpos]);
    let w = g.must(Op::Where, &[cond, zero, t]);
    g.mul(r.gi, w)
}

/// The other elementwise ops: min and max, atan2, clamp, where, the
/// comparisons, xlogy, logaddexp, celu, the clamp straight-through, bce.
fn elementwise(g: &mut Graph, r: &Rule) -> Option<NodeId> {
    let (a, gi, zero) = (r.a(), r.gi, r.zero);
    let c = match (r.op, r.k) {
        (Op::Min | Op::Max, _) => min_max(g, r),
        (Op::Atan2, _) => atan2(g, r),
        (Op::Clamp, _) => clamp(g, r),
        (Op::Where, 0) => return None,
        (Op::Where, 1) => g.must(Op::Where, &[a, gi, zero]),
        (Op::Where, _) => g.must(Op::Where, &[a, zero, gi]),
        (Op::Cmp(_) | Op::And | Op::Or | Op::Not, _) => return None,
        (Op::Xlogy, 0) => xlogy_x(g, r),
        (Op::Xlogy, _) => {
            // torch: grad * self / other
            let t = g.mul(gi, a);
            g.must(Op::Div, &[t, r.b()])
        }
        (Op::LogAddExp, _) => logaddexp(g, r),
        (Op::Celu, 0) => celu(g, r),
        (Op::ClampST, 0) => gi,
        (Op::Celu | Op::ClampST, _) => return None,
        (Op::Bce, 0) => bce_input(g, r),
        (Op::Bce, _) => bce_target(g, r),
        _ => unreachable!("elementwise is called for the other elementwise ops"),
    };
    Some(c)
}

/// `min(a, b)` and `max(a, b)`.
fn min_max(g: &mut Graph, r: &Rule) -> NodeId {
    // torch.maximum: where(self == other, grad / 2, grad), zeroed where the
    // other side wins (self < other for maximum's self, and so on).
    let (this, other) = r.this_other();
    let loses = if r.op == Op::Max { Cmp::Lt } else { Cmp::Gt };
    let two = g.scalar(2.0);
    let half = g.must(Op::Div, &[r.gi, two]);
    let tie = g.must(Op::Cmp(Cmp::Eq), &[this, other]);
    let t = g.must(Op::Where, &[tie, half, r.gi]);
    let lose = g.must(Op::Cmp(loses), &[this, other]);
    g.must(Op::Where, &[lose, r.zero, t])
}

/// `atan2(y, x)`.
fn atan2(g: &mut Graph, r: &Rule) -> NodeId {
    // torch: recip = 1 / (other^2 + self^2); self: grad * other * recip;
    // other: grad * -self * recip
    let (y, x) = (r.a(), r.b());
    let xx = g.must(Op::Mul, &[x, x]);
    let yy = g.must(Op::Mul, &[y, y]);
    let s = g.must(Op::Add, &[xx, yy]);
    let one = g.scalar(1.0);
    let recip = g.must(Op::Div, &[one, s]);
    let t = if r.k == 0 {
        g.mul(r.gi, x)
    } else {
        let ny = g.must(Op::Neg, &[y]);
        g.mul(r.gi, ny)
    };
    g.must(Op::Mul, &[t, recip])
}

/// `clamp(x, lo, hi)`.
fn clamp(g: &mut Graph, r: &Rule) -> NodeId {
    // x: strictly inside (lo, hi), as torch reports at the bounds;
    // lo: where x < lo; hi: where x > hi.
    let (x, lo, hi) = (r.a(), r.b(), r.args[2]);
    let mask = match r.k {
        0 => {
            let gt = g.must(Op::Cmp(Cmp::Gt), &[x, lo]);
            let lt = g.must(Op::Cmp(Cmp::Lt), &[x, hi]);
            g.must(Op::And, &[gt, lt])
        }
        1 => g.must(Op::Cmp(Cmp::Lt), &[x, lo]),
        _ => g.must(Op::Cmp(Cmp::Gt), &[x, hi]),
    };
    g.must(Op::Where, &[mask, r.gi, r.zero])
}

/// `xlogy(x, y)` with respect to `x`.
fn xlogy_x(g: &mut Graph, r: &Rule) -> NodeId {
    // torch: xlogy(grad, other).masked_fill((self == 0) & (other <= 0), 0)
    let (y, zero) = (r.b(), r.zero);
    let t = g.must(Op::Xlogy, &[r.gi, y]);
    let x0 = g.must(Op::Cmp(Cmp::Eq), &[r.a(), zero]);
    let yle = g.must(Op::Cmp(Cmp::Le), &[y, zero]);
    let m = g.must(Op::And, &[x0, yle]);
    g.must(Op::Where, &[m, zero, t])
}

/// `logaddexp(a, b)`.
fn logaddexp(g: &mut Graph, r: &Rule) -> NodeId {
    // torch: grad / (1 + exp(other - self)), and symmetrically
    let (this, other) = r.this_other();
    let d = g.must(Op::Sub, &[other, this]);
    let e = g.must(Op::Un(UnFn::Exp), &[d]);
    let one = g.scalar(1.0);
    let den = g.must(Op::Add, &[one, e]);
    g.must(Op::Div, &[r.gi, den])
}

/// `celu(x, alpha)` with respect to `x` (alpha is a constant).
fn celu(g: &mut Graph, r: &Rule) -> NodeId {
    // torch's elu_backward with input_scale = 1 / float32(alpha):
    // x <= 0 ? grad * s * alpha * exp(x * s) : grad
    let (a, gi) = (r.a(), r.gi);
    let alpha = g.const_scalar(r.b()).unwrap_or(f64::NAN);
    let s = 1.0 / f64::from(alpha as f32);
    let ks = g.scalar(s);
    let ka = g.scalar(alpha);
    let t = g.mul(gi, ks);
    let t = g.mul(t, ka);
    let xs = g.must(Op::Mul, &[a, ks]);
    let e = g.must(Op::Un(UnFn::Exp), &[xs]);
    let t = g.must(Op::Mul, &[t, e]);
    let pos = g.must(Op::Cmp(Cmp::Gt), &[a, r.zero]);
    g.must(Op::Where, &[pos, gi, t])
}

/// `bce(input, target)` with respect to the input.
fn bce_input(g: &mut Graph, r: &Rule) -> NodeId {
    // torch: grad * (input - target) / max((1 - input) * input, 1e-12)
    let (a, t) = (r.a(), r.b());
    let one = g.scalar(1.0);
    let d = g.must(Op::Sub, &[a, t]);
    let num = g.mul(r.gi, d);
    let om = g.must(Op::Sub, &[one, a]);
    let p = g.must(Op::Mul, &[om, a]);
    let eps = g.scalar(1e-12);
    let den = g.must(Op::Max, &[p, eps]);
    g.must(Op::Div, &[num, den])
}

/// `bce(input, target)` with respect to the target.
fn bce_target(g: &mut Graph, r: &Rule) -> NodeId {
    // torch's binary_cross_entropy_target_backward: -logit(input) * grad
    let a = r.a();
    let one = g.scalar(1.0);
    let om = g.must(Op::Sub, &[one, a]);
    let q = g.must(Op::Div, &[a, om]);
    let lg = g.must(Op::Un(UnFn::Log), &[q]);
    let nl = g.must(Op::Neg, &[lg]);
    g.mul(nl, r.gi)
}

/// The ops that move, reduce or reshape values: their adjoints move the
/// gradient back.
fn structural(g: &mut Graph, r: &Rule) -> Option<NodeId> {
    let (a, n, gi) = (r.a(), r.n, r.gi);
    let c = match (r.op, r.k) {
        // broadcast back to the summed value's shape
        (Op::SumTo(_), _) => {
            let s = g.shape(a).to_vec();
            g.expand(gi, &s).ok()?
        }
        (Op::Reduce(r, ax), _) => return reduce_adj(g, r, ax, n, a, gi),
        (Op::ProdExcl(ax), _) => {
            // d E_i / d x_j = prod over the fibre without i and j (i != j), so
            // the adjoint is (sum_i g_i E_i - g_j E_j) / x_j (exact without zeros).
            let t = g.must(Op::Mul, &[gi, n]);
            let s = g.reduce(Red::Sum, t, ax).ok()?;
            let s = keepdim(g, s, a, ax);
            let d = g.must(Op::Sub, &[s, t]);
            g.must(Op::Div, &[d, a])
        }
        (Op::Reshape(_), _) => {
            let s = g.shape(a).to_vec();
            g.reshape(gi, &s).ok()?
        }
        // the summing back happens in `sum_to`
        (Op::Expand(_), _) => gi,
        (Op::Permute(p), _) => {
            let p = g.aux_shape(p).to_vec();
            let mut inv = vec![0; p.len()];
            for (i, &d) in p.iter().enumerate() {
                inv[d] = i;
            }
            g.permute(gi, &inv).ok()?
        }
        (Op::Index(x), _) => g.must(Op::IndexAdj(x), &[gi]),
        (Op::IndexAdj(x), _) => g.must(Op::Index(x), &[gi]),
        (Op::Stack, _) => {
            let mut ix = vec![Ix::At(r.k)];
            ix.extend(g.shape(n)[1..].iter().map(|&d| Ix::Range(0, d)));
            let aux = g.intern(Aux::Index(g.shape(n).to_vec(), ix));
            g.must(Op::Index(aux), &[gi])
        }
        (Op::MatMul, 0) => {
            let bt = g.swap_last(r.b()).ok()?;
            g.must(Op::MatMul, &[gi, bt])
        }
        (Op::MatMul, _) => {
            let at = g.swap_last(a).ok()?;
            g.must(Op::MatMul, &[at, gi])
        }
        _ => unreachable!("structural is called for the structural ops"),
    };
    Some(c)
}

/// A value reduced from `x` along `ax`, reshaped with the axis kept as 1 so
/// that it broadcasts against `x`.
fn keepdim(g: &mut Graph, r: NodeId, x: NodeId, ax: Axis) -> NodeId {
    if ax == Axis::All {
        // a scalar broadcasts as it is
        return r;
    }
    let s = ax.keepdim_shape(g.shape(x));
    g.reshape(r, &s).unwrap_or(r)
}

/// torch's derivatives of the reductions.
fn reduce_adj(g: &mut Graph, r: Red, ax: Axis, y: NodeId, x: NodeId, gi: NodeId) -> Option<NodeId> {
    let xs = g.shape(x).to_vec();
    let gk = keepdim(g, gi, x, ax);
    let zero = g.scalar(0.0);
    Some(match r {
        Red::Sum => g.expand(gk, &xs).ok()?,
        Red::Prod => {
            let e = g.must(Op::ProdExcl(ax), &[x]);
            g.mul(gk, e)
        }
        Red::Min | Red::Max => {
            // amax/amin: the gradient goes evenly to every element equal to the result
            let yk = keepdim(g, y, x, ax);
            let hit = g.must(Op::Cmp(Cmp::Eq), &[x, yk]);
            let one = g.scalar(1.0);
            let ones = g.must(Op::Where, &[hit, one, zero]);
            let cnt = g.reduce(Red::Sum, ones, ax).ok()?;
            let cnt = keepdim(g, cnt, x, ax);
            let share = g.must(Op::Div, &[gk, cnt]);
            let c = g.must(Op::Where, &[hit, share, zero]);
            g.expand(c, &xs).ok()?
        }
        Red::LogSumExp => {
            // torch's logsumexp_backward: grad * exp(self - result)
            let yk = keepdim(g, y, x, ax);
            let d = g.must(Op::Sub, &[x, yk]);
            let e = g.must(Op::Un(UnFn::Exp), &[d]);
            let c = g.mul(gk, e);
            g.expand(c, &xs).ok()?
        }
        Red::ArgMax | Red::ArgMin => return None,
        Red::Norm => {
            // torch: self * (grad / norm), zero where the norm is zero
            let yk = keepdim(g, y, x, ax);
            let q = g.must(Op::Div, &[gk, yk]);
            let t = g.must(Op::Mul, &[x, q]);
            let z = g.must(Op::Cmp(Cmp::Eq), &[yk, zero]);
            let c = g.must(Op::Where, &[z, zero, t]);
            g.expand(c, &xs).ok()?
        }
    })
}

/// What a one-argument rule sees: the function `f`, its result `y` and
/// argument `x`, the adjoint `gi`, the constants 1 and 0.
#[derive(Clone, Copy)]
struct Unary {
    f: UnFn,
    y: NodeId,
    x: NodeId,
    gi: NodeId,
    one: NodeId,
    zero: NodeId,
}

/// torch's derivatives of the one-argument functions: those whose
/// derivative is another of them, and three families.
fn unary(g: &mut Graph, f: UnFn, y: NodeId, x: NodeId, gi: NodeId) -> Option<NodeId> {
    use UnFn::*;
    let one = g.scalar(1.0);
    let zero = g.scalar(0.0);
    let u = Unary {
        f,
        y,
        x,
        gi,
        one,
        zero,
    };
    Some(match f {
        Abs => times(g, u, Sign),
        Sin => times(g, u, Cos),
        Sinh => times(g, u, Cosh),
        Cosh => times(g, u, Sinh),
        Lgamma => times(g, u, Digamma),
        Digamma => times(g, u, Trigamma),
        // piecewise constant: no gradient
        Sign | Floor | Ceil | Round => return None,
        Sqrt | StdSqrt | Exp | Log | Log1p | Expm1 | Cos | Tan | Asin | Acos | Atan => {
            elementary(g, u)
        }
        Tanh | Sigmoid | Relu | Softplus => activation(g, u),
        Erf | Erfc | Erfinv | Trigamma | Hardsigmoid => special(g, u),
    })
}

/// `grad * d(x)`: the rule of a function whose derivative is the function `d`.
fn times(g: &mut Graph, u: Unary, d: UnFn) -> NodeId {
    let s = g.must(Op::Un(d), &[u.x]);
    g.mul(u.gi, s)
}

/// Roots, exponentials, logarithms and the trigonometric functions.
fn elementary(g: &mut Graph, u: Unary) -> NodeId {
    let (y, x, gi, one, zero) = (u.y, u.x, u.gi, u.one, u.zero);
    match u.f {
        UnFn::Sqrt => half_over(g, u),
        UnFn::StdSqrt => {
            // torch's std_backward: grad / (2 * result), zero where result == 0
            let q = half_over(g, u);
            let z = g.must(Op::Cmp(Cmp::Eq), &[y, zero]);
            g.must(Op::Where, &[z, zero, q])
        }
        UnFn::Exp => g.mul(gi, y),
        UnFn::Log => g.must(Op::Div, &[gi, x]),
        UnFn::Log1p => {
            let d = g.must(Op::Add, &[x, one]);
            g.must(Op::Div, &[gi, d])
        }
        UnFn::Expm1 => {
            let d = g.must(Op::Add, &[y, one]);
            g.mul(gi, d)
        }
        UnFn::Cos => {
            let s = g.must(Op::Un(UnFn::Sin), &[x]);
            let ns = g.must(Op::Neg, &[s]);
            g.mul(gi, ns)
        }
        UnFn::Tan => {
            // torch: grad * (1 + result^2)
            let two = g.scalar(2.0);
            let y2 = g.must(Op::PowC, &[y, two]);
            let d = g.must(Op::Add, &[one, y2]);
            g.mul(gi, d)
        }
        UnFn::Asin | UnFn::Acos => {
            // torch: grad * (-self * self + 1).rsqrt(), negated for acos
            let nx = g.must(Op::Neg, &[x]);
            let xx = g.must(Op::Mul, &[nx, x]);
            let s = g.must(Op::Add, &[xx, one]);
            let mh = g.scalar(-0.5);
            let r = g.must(Op::PowC, &[s, mh]);
            let t = g.mul(gi, r);
            if u.f == UnFn::Acos {
                g.must(Op::Neg, &[t])
            } else {
                t
            }
        }
        UnFn::Atan => {
            // torch: grad / (self * self + 1)
            let xx = g.must(Op::Mul, &[x, x]);
            let d = g.must(Op::Add, &[xx, one]);
            g.must(Op::Div, &[gi, d])
        }
        _ => unreachable!("elementary is called for the elementary functions"),
    }
}

/// The square root's rule, torch's `grad / (2 * result)`.
fn half_over(g: &mut Graph, u: Unary) -> NodeId {
    let two = g.scalar(2.0);
    let d = g.must(Op::Mul, &[two, u.y]);
    g.must(Op::Div, &[u.gi, d])
}

/// The hyperbolic tangent and the activations.
fn activation(g: &mut Graph, u: Unary) -> NodeId {
    let (y, x, gi, one, zero) = (u.y, u.x, u.gi, u.one, u.zero);
    match u.f {
        UnFn::Tanh => {
            // torch: grad * (1 - y * y)
            let yy = g.must(Op::Mul, &[y, y]);
            let d = g.must(Op::Sub, &[one, yy]);
            g.mul(gi, d)
        }
        UnFn::Sigmoid => {
            // torch: grad * (1 - y) * y
            let d = g.must(Op::Sub, &[one, y]);
            let t = g.mul(gi, d);
            g.must(Op::Mul, &[t, y])
        }
        UnFn::Relu => {
            // torch's threshold_backward: zero where result <= 0
            let pos = g.must(Op::Cmp(Cmp::Gt), &[y, zero]);
            g.must(Op::Where, &[pos, gi, zero])
        }
        UnFn::Softplus => {
            // torch: x > 20 ? grad : grad * z / (z + 1), z = exp(x)
            let z = g.must(Op::Un(UnFn::Exp), &[x]);
            let t = g.mul(gi, z);
            let z1 = g.must(Op::Add, &[z, one]);
            let t = g.must(Op::Div, &[t, z1]);
            let twenty = g.scalar(20.0);
            let big = g.must(Op::Cmp(Cmp::Gt), &[x, twenty]);
            g.must(Op::Where, &[big, gi, t])
        }
        _ => unreachable!("activation is called for the activations"),
    }
}

/// The error functions, trigamma, hardsigmoid.
fn special(g: &mut Graph, u: Unary) -> NodeId {
    let Unary { x, gi, zero, .. } = u;
    match u.f {
        UnFn::Erf | UnFn::Erfc => {
            // torch: (±M_2_SQRTPI * exp(-(self.pow(2)))) * grad
            let c = std::f64::consts::FRAC_2_SQRT_PI;
            let c = g.scalar(if u.f == UnFn::Erf { c } else { -c });
            let two = g.scalar(2.0);
            let x2 = g.must(Op::PowC, &[x, two]);
            let nx2 = g.must(Op::Neg, &[x2]);
            let e = g.must(Op::Un(UnFn::Exp), &[nx2]);
            let t = g.must(Op::Mul, &[c, e]);
            g.mul(t, gi)
        }
        UnFn::Erfinv => {
            // torch: (M_PI_4 * M_2_SQRTPI) * exp(result.pow(2)) * grad
            let c = g.scalar(std::f64::consts::FRAC_PI_4 * std::f64::consts::FRAC_2_SQRT_PI);
            let two = g.scalar(2.0);
            let y2 = g.must(Op::PowC, &[u.y, two]);
            let e = g.must(Op::Un(UnFn::Exp), &[y2]);
            let t = g.must(Op::Mul, &[c, e]);
            g.mul(t, gi)
        }
        UnFn::Trigamma => {
            // polygamma(2, x) is not available: a third derivative of lgamma
            // is nan rather than a silent zero.
            let nan = g.scalar(f64::NAN);
            g.must(Op::Mul, &[gi, nan])
        }
        UnFn::Hardsigmoid => {
            // torch's hardsigmoid_backward: grad * (1.0f / 6) strictly inside (-3, 3)
            let three = g.scalar(3.0);
            let mthree = g.scalar(-3.0);
            let gt = g.must(Op::Cmp(Cmp::Gt), &[x, mthree]);
            let lt = g.must(Op::Cmp(Cmp::Lt), &[x, three]);
            let inside = g.must(Op::And, &[gt, lt]);
            let sixth = g.scalar(f64::from(1.0f32 / 6.0));
            let t = g.mul(gi, sixth);
            g.must(Op::Where, &[inside, t, zero])
        }
        _ => unreachable!("special is called for the special functions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Tape;
    use crate::tensor::Tensor;

    /// How many nodes of `g` are sums down to a broadcast argument's shape.
    fn sum_tos(g: &Graph) -> usize {
        g.nodes
            .iter()
            .filter(|n| matches!(n.op, Op::SumTo(_)))
            .count()
    }

    #[test]
    fn a_repeated_broadcast_adjoint_is_one_node() {
        // sum(w + x) + sum(w - x) with w [3] broadcast against x [2, 3]:
        // both terms send w the same adjoint (ones of [2, 3]) summed down
        // to [3], which must be one node, as any other repeated
        // subexpression is.
        let mut g = Graph::new();
        let w = g.param(0, vec![3]);
        let x = g.constant(Tensor {
            shape: vec![2, 3],
            data: vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        });
        let a = g.node(Op::Add, &[w, x]).unwrap();
        let b = g.node(Op::Sub, &[w, x]).unwrap();
        let sa = g.reduce(Red::Sum, a, Axis::All).unwrap();
        let sb = g.reduce(Red::Sum, b, Axis::All).unwrap();
        let f = g.node(Op::Add, &[sa, sb]).unwrap();
        let gw = grad(&mut g, f, &[w])[0];
        assert_eq!(sum_tos(&g), 1);
        assert_eq!(g.shape(gw), &[3]);
        let mut t = Tape::new(&g, &[gw]);
        t.set_param(0, &[0.0, 0.0, 0.0]);
        t.forward();
        assert_eq!(t.output(0), &[4.0, 4.0, 4.0]);
        // asking again builds nothing new
        let n = g.len();
        let again = grad(&mut g, f, &[w])[0];
        assert_eq!((again, g.len()), (gw, n));
    }

    #[test]
    fn sum_to_refuses_a_shape_it_does_not_broadcast_from() {
        let mut g = Graph::new();
        let w = g.param(0, vec![2, 3]);
        assert!(g.sum_to(w, &[2]).is_err());
        assert_eq!(g.sum_to(w, &[2, 3]), Ok(w));
        let s = g.sum_to(w, &[1, 3]).unwrap();
        assert_eq!(g.shape(s), &[1, 3]);
        assert_eq!(g.sum_to(w, &[1, 3]), Ok(s));
    }
}
