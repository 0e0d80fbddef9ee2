//! Lowering of torch.nn.functional's activations and of the functions along
//! an axis (softmax, log_softmax, logsumexp, argmax, argmin, one_hot), with
//! the option readers the losses share. Each function is built from graph
//! ops whose values and derivatives are torch's (the formulas of torch's
//! CPU kernels and of derivatives.yaml, kinks included), so it fuses and
//! shares subexpressions like any other expression. The few that cannot be
//! composed exactly are ops of their own (hardsigmoid, logsumexp, argmax).

use super::tensor::const_tensor;
use super::{shape_mismatch, too_big, LVal, LowerError, Lowerer};
use crate::builtins::Call;
use crate::diagnostics::Span;
use crate::graph::ops::Cmp;
use crate::graph::{Axis, Graph, NodeId, Op, Red, ShapeError, UnFn};
use crate::syntax::ast::{Expr, ExprKind};
use crate::tensor::Tensor;

/// Graph building with shape errors carried to one place.
pub(super) type R = Result<NodeId, ShapeError>;

/// Small constructors over the graph, so formulas read like torch's.
pub(super) struct F<'g> {
    pub g: &'g mut Graph,
}

impl F<'_> {
    pub fn k(&mut self, v: f64) -> NodeId {
        self.g.scalar(v)
    }
    pub fn op(&mut self, op: Op, args: &[NodeId]) -> R {
        self.g.node(op, args)
    }
    pub fn add(&mut self, a: NodeId, b: NodeId) -> R {
        self.g.node(Op::Add, &[a, b])
    }
    pub fn sub(&mut self, a: NodeId, b: NodeId) -> R {
        self.g.node(Op::Sub, &[a, b])
    }
    pub fn mul(&mut self, a: NodeId, b: NodeId) -> R {
        self.g.node(Op::Mul, &[a, b])
    }
    pub fn div(&mut self, a: NodeId, b: NodeId) -> R {
        self.g.node(Op::Div, &[a, b])
    }
    pub fn neg(&mut self, a: NodeId) -> R {
        self.g.node(Op::Neg, &[a])
    }
    pub fn un(&mut self, f: UnFn, a: NodeId) -> R {
        self.g.node(Op::Un(f), &[a])
    }
    pub fn cmp(&mut self, c: Cmp, a: NodeId, b: NodeId) -> R {
        self.g.node(Op::Cmp(c), &[a, b])
    }
    pub fn wh(&mut self, m: NodeId, a: NodeId, b: NodeId) -> R {
        self.g.node(Op::Where, &[m, a, b])
    }
    /// Sum of every element.
    pub fn sum_all(&mut self, a: NodeId) -> R {
        self.g.reduce(Red::Sum, a, Axis::All)
    }
    /// A reduction along `ax`, the axis kept as 1 so it broadcasts back.
    pub fn reduce_keep(&mut self, r: Red, a: NodeId, ax: Axis) -> R {
        let s = ax.keepdim_shape(self.g.shape(a));
        let n = self.g.reduce(r, a, ax)?;
        match ax {
            Axis::All => Ok(n),
            Axis::Dim(_) => self.g.reshape(n, &s),
        }
    }
}

/// A constant number option, or its default.
pub(super) fn num_opt(
    l: &mut Lowerer,
    call: &Call,
    name: &str,
    default: f64,
) -> Result<f64, LowerError> {
    match call.opt(name) {
        None => Ok(default),
        Some(e) => super::tensor::const_num(l, e, &format!("`{name}`")),
    }
}

/// A boolean option (`true`/`false`), or its default.
pub(super) fn bool_opt(call: &Call, name: &str, default: bool) -> Result<bool, LowerError> {
    match call.opt(name) {
        None => Ok(default),
        Some(Expr {
            kind: ExprKind::Bool(b),
            ..
        }) => Ok(*b),
        Some(e) => Err(LowerError::NotBool {
            option: name.to_string(),
            span: e.span.clone(),
        }),
    }
}

/// A string option that must be one of `allowed` (the first is the default).
pub(super) fn choice_opt(
    call: &Call,
    fname: &str,
    name: &str,
    allowed: &[&'static str],
) -> Result<&'static str, LowerError> {
    let Some(e) = call.opt(name) else {
        return Ok(allowed[0]);
    };
    match &e.kind {
        ExprKind::Str(s) => {
            allowed
                .iter()
                .find(|a| *a == s)
                .copied()
                .ok_or_else(|| LowerError::UnknownChoice {
                    func: fname.to_string(),
                    option: name.to_string(),
                    value: s.clone(),
                    allowed: allowed.to_vec(),
                    span: e.span.clone(),
                })
        }
        _ => Err(LowerError::ChoiceNotString {
            func: fname.to_string(),
            option: name.to_string(),
            allowed: allowed.to_vec(),
            span: e.span.clone(),
        }),
    }
}

/// The axis given by `e` (negative counts from the end) for a value of
/// `rank`; `default` when `e` is absent (None: every element). A scalar's
/// axis 0 or -1 is the whole scalar, as in torch.
pub(super) fn axis_of(
    l: &mut Lowerer,
    e: Option<&Expr>,
    shape: &[usize],
    default: Option<i64>,
) -> Result<Axis, LowerError> {
    let k = match (e, default) {
        (None, None) => return Ok(Axis::All),
        (None, Some(d)) => d,
        (Some(e), _) => super::tensor::const_int(l, e, "an axis")?,
    };
    if shape.is_empty() && (k == 0 || k == -1) {
        return Ok(Axis::All);
    }
    Axis::of(k, shape.len()).ok_or_else(|| {
        let span = e.map(|e| e.span.clone()).unwrap_or_default();
        super::tensor::no_such_axis(k, shape, &span)
    })
}

/// leaky_relu elu selu celu gelu silu mish softplus (with options)
/// hardtanh relu6 hardswish logsigmoid softsign tanhshrink.
pub fn activation(
    l: &mut Lowerer,
    name: &str,
    call: &Call,
    span: &Span,
) -> Result<LVal, LowerError> {
    let x = l.num(call.pos[0])?;
    let n = match name {
        "silu" | "mish" | "hardswish" | "logsigmoid" | "softsign" | "tanhshrink" => {
            fixed(l, name, x, span)?
        }
        "softplus" if call.opt("beta").is_none() && call.opt("threshold").is_none() => {
            F { g: l.g }.un(UnFn::Softplus, x)
        }
        _ => with_options(l, name, call, x, span)?,
    };
    Ok(LVal::Num(n.map_err(|e| shape_mismatch(e, span))?))
}

/// The activations with options (leaky_relu's slope, elu's alpha, ...).
fn with_options(
    l: &mut Lowerer,
    name: &str,
    call: &Call,
    x: NodeId,
    span: &Span,
) -> Result<R, LowerError> {
    Ok(match name {
        "leaky_relu" => {
            let s = num_opt(l, call, "negative_slope", 0.01)?;
            let mut f = F { g: l.g };
            // torch: x > 0 ? x : x * negative_slope (and the same derivative)
            let (zero, ks) = (f.k(0.0), f.k(s));
            let pos = f.cmp(Cmp::Gt, x, zero);
            let neg = f.mul(x, ks);
            pos.and_then(|p| f.wh(p, x, neg?))
        }
        "elu" | "selu" => {
            let (alpha, scale) = match name {
                "elu" => (num_opt(l, call, "alpha", 1.0)?, 1.0),
                _ => (SELU_ALPHA, SELU_SCALE),
            };
            elu(&mut F { g: l.g }, x, alpha * scale, scale)
        }
        "celu" => {
            let a = num_opt(l, call, "alpha", 1.0)?;
            if a == 0.0 {
                return Err(LowerError::CeluAlphaZero {
                    span: opt_span(call, "alpha", span),
                });
            }
            // its own op: torch's derivative uses 1 / float32(alpha)
            let mut f = F { g: l.g };
            let ka = f.k(a);
            f.op(Op::Celu, &[x, ka])
        }
        "gelu" => {
            let approx = choice_opt(call, "gelu", "approximate", &["none", "tanh"])?;
            gelu(&mut F { g: l.g }, x, approx == "tanh")
        }
        "softplus" => {
            let beta = num_opt(l, call, "beta", 1.0)?;
            let thr = num_opt(l, call, "threshold", 20.0)?;
            softplus(&mut F { g: l.g }, x, beta, thr)
        }
        "hardtanh" | "relu6" => {
            let (lo, hi) = if name == "relu6" {
                (0.0, 6.0)
            } else {
                (
                    num_opt(l, call, "min_val", -1.0)?,
                    num_opt(l, call, "max_val", 1.0)?,
                )
            };
            if lo > hi {
                return Err(LowerError::HardtanhOrder {
                    lo,
                    hi,
                    span: opt_span(call, "min_val", span),
                });
            }
            // torch's hardtanh is clamp, with derivative 0 at the limits
            let mut f = F { g: l.g };
            let (a, b) = (f.k(lo), f.k(hi));
            f.op(Op::Clamp, &[x, a, b])
        }
        _ => return Err(not_built(name, span)),
    })
}

/// The activations without options: torch's formulas over graph ops.
fn fixed(l: &mut Lowerer, name: &str, x: NodeId, span: &Span) -> Result<R, LowerError> {
    Ok(match name {
        "silu" => {
            // torch: x * sigmoid(x) (x / (1 + exp(-x)) would give a nan
            // derivative below -709 where exp overflows)
            let mut f = F { g: l.g };
            f.un(UnFn::Sigmoid, x).and_then(|s| f.mul(x, s))
        }
        "mish" => {
            // torch: x * tanh(softplus(x)); beyond 20 tanh is 1 either way
            let mut f = F { g: l.g };
            let t = f.un(UnFn::Softplus, x).and_then(|s| f.un(UnFn::Tanh, s));
            t.and_then(|t| f.mul(x, t))
        }
        "hardswish" => {
            // torch: x * min(max(x + 3, 0), 6) / 6
            let mut f = F { g: l.g };
            let (three, zero, six) = (f.k(3.0), f.k(0.0), f.k(6.0));
            let c = f
                .add(x, three)
                .and_then(|s| f.op(Op::Clamp, &[s, zero, six]));
            c.and_then(|c| f.mul(x, c)).and_then(|p| f.div(p, six))
        }
        "logsigmoid" => logsigmoid(&mut F { g: l.g }, x),
        "softsign" => {
            // torch: x / (|x| + 1)
            let mut f = F { g: l.g };
            let one = f.k(1.0);
            let d = f.un(UnFn::Abs, x).and_then(|a| f.add(a, one));
            d.and_then(|d| f.div(x, d))
        }
        "tanhshrink" => {
            let mut f = F { g: l.g };
            f.un(UnFn::Tanh, x).and_then(|t| f.sub(x, t))
        }
        _ => return Err(not_built(name, span)),
    })
}

fn not_built(name: &str, span: &Span) -> LowerError {
    LowerError::NotSupportedYet {
        name: name.to_string(),
        span: span.clone(),
    }
}

/// The span of option `name` if it is given, else `span` (the call).
pub(super) fn opt_span(call: &Call, name: &str, span: &Span) -> Span {
    call.opt(name)
        .map(|e| e.span.clone())
        .unwrap_or(span.clone())
}

const SELU_ALPHA: f64 = 1.673_263_242_354_377_3;
const SELU_SCALE: f64 = 1.050_700_987_355_480_5;

/// torch's elu kernel: x <= 0 ? expm1(x) * negcoef : x * poscoef. The
/// negative branch sees only x <= 0, so that expm1's overflow beyond 709
/// cannot turn the masked-out derivative into 0 * inf.
fn elu(f: &mut F, x: NodeId, negcoef: f64, poscoef: f64) -> R {
    let zero = f.k(0.0);
    let pos = f.cmp(Cmp::Gt, x, zero)?;
    let p = if poscoef == 1.0 {
        x
    } else {
        let c = f.k(poscoef);
        f.mul(x, c)?
    };
    let xn = f.wh(pos, zero, x)?;
    let e = f.un(UnFn::Expm1, xn)?;
    let nc = f.k(negcoef);
    let n = f.mul(e, nc)?;
    f.wh(pos, p, n)
}

/// torch's gelu: x * 0.5 * (1 + erf(x / sqrt(2))), or with tanh:
/// 0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x^3))).
fn gelu(f: &mut F, x: NodeId, tanh: bool) -> R {
    let (half, one) = (f.k(0.5), f.k(1.0));
    if !tanh {
        let a = f.k(std::f64::consts::FRAC_1_SQRT_2);
        let e = f.mul(x, a).and_then(|s| f.un(UnFn::Erf, s))?;
        let s = f.add(one, e)?;
        let h = f.mul(x, half)?;
        return f.mul(h, s);
    }
    let beta = f.k(std::f64::consts::SQRT_2 * std::f64::consts::FRAC_2_SQRT_PI * 0.5);
    let kappa = f.k(0.044715);
    let x2 = f.mul(x, x)?;
    let x3 = f.mul(x2, x)?;
    let inner = f.mul(kappa, x3).and_then(|k| f.add(x, k))?;
    let t = f.mul(beta, inner).and_then(|i| f.un(UnFn::Tanh, i))?;
    let s = f.add(one, t)?;
    let h = f.mul(half, x)?;
    f.mul(h, s)
}

/// torch's softplus: x * beta > threshold ? x : log1p(exp(x * beta)) / beta
/// (the default is its own op, as before).
fn softplus(f: &mut F, x: NodeId, beta: f64, thr: f64) -> R {
    if beta == 1.0 && thr == 20.0 {
        return f.un(UnFn::Softplus, x);
    }
    let (kb, kt, zero) = (f.k(beta), f.k(thr), f.k(0.0));
    let xb = f.mul(x, kb)?;
    let big = f.cmp(Cmp::Gt, xb, kt)?;
    // the log1p branch sees only what it is used for (no exp overflow)
    let xs = f.wh(big, zero, xb)?;
    let s = f.un(UnFn::Exp, xs).and_then(|e| f.un(UnFn::Log1p, e))?;
    let s = f.div(s, kb)?;
    f.wh(big, x, s)
}

/// torch's log_sigmoid: min(x, 0) - log1p(exp(-|x|)).
pub(super) fn logsigmoid(f: &mut F, x: NodeId) -> R {
    let zero = f.k(0.0);
    let m = f.op(Op::Min, &[x, zero])?;
    let a = f.un(UnFn::Abs, x).and_then(|a| f.neg(a))?;
    let l = f.un(UnFn::Exp, a).and_then(|e| f.un(UnFn::Log1p, e))?;
    f.sub(m, l)
}

/// log_softmax along `ax`: x - logsumexp(x) (torch's numbers and derivative).
pub(super) fn log_softmax(f: &mut F, x: NodeId, ax: Axis) -> R {
    let lse = f.reduce_keep(Red::LogSumExp, x, ax)?;
    f.sub(x, lse)
}

/// softmax, log_softmax, logsumexp, argmax, argmin, one_hot.
pub fn along_axis(
    l: &mut Lowerer,
    name: &str,
    call: &Call,
    span: &Span,
) -> Result<LVal, LowerError> {
    if name == "one_hot" {
        return one_hot(l, call, span);
    }
    let x = l.num(call.pos[0])?;
    let shape = l.g.shape(x).to_vec();
    let default = matches!(name, "softmax" | "log_softmax").then_some(-1);
    let ax = axis_of(l, call.opt("axis"), &shape, default)?;
    let count = ax.count(&shape);
    if count == 0 && matches!(name, "argmax" | "argmin") {
        return Err(LowerError::EmptyReduction {
            name: name.to_string(),
            span: span.clone(),
        });
    }
    let mut f = F { g: l.g };
    let n = match name {
        "softmax" => {
            // exp(x - logsumexp(x)): torch's values, and its derivative
            // y * (g - sum(g * y)) by the chain rule.
            log_softmax(&mut f, x, ax).and_then(|s| f.un(UnFn::Exp, s))
        }
        "log_softmax" => log_softmax(&mut f, x, ax),
        "logsumexp" => f.g.reduce(Red::LogSumExp, x, ax),
        "argmax" => f.g.reduce(Red::ArgMax, x, ax),
        "argmin" => f.g.reduce(Red::ArgMin, x, ax),
        _ => return Err(not_built(name, span)),
    };
    Ok(LVal::Num(n.map_err(|e| shape_mismatch(e, span))?))
}

/// Checks that a constant tensor holds class indices in [0, n): whole
/// numbers. `what` names them in the message.
pub(super) fn check_classes(t: &Tensor, n: usize, e: &Expr, what: &str) -> Result<(), LowerError> {
    for &v in &t.data {
        if v.fract() != 0.0 || !v.is_finite() {
            return Err(LowerError::ClassNotWhole {
                what: what.to_string(),
                value: v,
                classes: n,
                span: e.span.clone(),
            });
        }
        if v < 0.0 || v >= n as f64 {
            return Err(LowerError::ClassOutOfRange {
                value: v,
                classes: n,
                span: e.span.clone(),
            });
        }
    }
    Ok(())
}

/// one_hot(labels, n): a new last axis of length n, 1 at each label.
/// Without n, torch's default: the largest label plus one.
fn one_hot(l: &mut Lowerer, call: &Call, span: &Span) -> Result<LVal, LowerError> {
    let le = call.pos[0];
    let labels = const_tensor(l, le, "one_hot's labels")?;
    let n = match call.pos.get(1) {
        Some(e) => {
            let k = super::tensor::const_int(l, e, "one_hot's number of classes")?;
            if k < 1 {
                return Err(LowerError::OneHotClasses {
                    classes: k,
                    span: e.span.clone(),
                });
            }
            k as usize
        }
        None => labels.data.iter().fold(0.0f64, |a, &v| a.max(v + 1.0)) as usize,
    };
    check_classes(&labels, n, le, "one_hot's labels")?;
    let mut shape = labels.shape.clone();
    shape.push(n);
    if crate::tensor::checked_numel(&shape).is_none_or(|m| m > crate::tensor::max_elements()) {
        return Err(too_big(&shape, span));
    }
    let mut data = Vec::with_capacity(labels.data.len() * n);
    for &v in &labels.data {
        data.extend((0..n).map(|c| if c as f64 == v { 1.0 } else { 0.0 }));
    }
    Ok(LVal::Num(l.g.constant(Tensor { shape, data })))
}

#[cfg(test)]
mod tests {
    use super::LowerError as L;
    use crate::interp::testutil::lower_error;

    #[test]
    fn options_are_checked_for_their_kind() {
        let (e, at) = lower_error("", "kl_div([1], [1], log_target=1)");
        assert!(
            matches!(&e, L::NotBool { option, .. } if option == "log_target"),
            "{e:?}"
        );
        assert_eq!(at, "1");
        let (e, at) = lower_error("", "gelu(1, approximate=\"fast\")");
        let L::UnknownChoice { value, allowed, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(
            (value.as_str(), allowed.len(), at.as_str()),
            ("fast", 2, "\"fast\"")
        );
        let (e, _) = lower_error("", "gelu(1, approximate=1)");
        assert!(matches!(e, L::ChoiceNotString { .. }), "{e:?}");
    }

    #[test]
    fn activation_options_out_of_range() {
        let (e, at) = lower_error("", "celu(1, alpha=0)");
        assert!(matches!(e, L::CeluAlphaZero { .. }), "{e:?}");
        assert_eq!(at, "0");
        let (e, at) = lower_error("", "hardtanh(1, min_val=2, max_val=1)");
        assert!(
            matches!(
                e,
                L::HardtanhOrder {
                    lo: 2.0,
                    hi: 1.0,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(at, "2");
    }

    #[test]
    fn class_indices_and_one_hot() {
        let (e, at) = lower_error("", "one_hot([0, 1.5], 3)");
        assert!(
            matches!(
                e,
                L::ClassNotWhole {
                    value: 1.5,
                    classes: 3,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(at, "[0, 1.5]");
        let (e, _) = lower_error("", "one_hot([0, 3], 3)");
        assert!(
            matches!(
                e,
                L::ClassOutOfRange {
                    value: 3.0,
                    classes: 3,
                    ..
                }
            ),
            "{e:?}"
        );
        let (e, at) = lower_error("", "one_hot([0], 0)");
        assert!(matches!(e, L::OneHotClasses { classes: 0, .. }), "{e:?}");
        assert_eq!(at, "0");
        let (e, _) = lower_error("", "argmax(zeros(0))");
        assert!(
            matches!(&e, L::EmptyReduction { name, .. } if name == "argmax"),
            "{e:?}"
        );
    }
}
