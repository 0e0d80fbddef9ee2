//! Lowering of torch.nn.functional's losses, each with `reduction=`. Every
//! loss is composed of graph ops following torch's formulas (torch's
//! functional.py and its ATen kernels), so values and derivatives are
//! torch's: class-index targets become a constant one-hot mask, the
//! weighted mean divides by the total weight of the targets, and the
//! clamps torch applies under no_grad keep their pass-through derivative.

use super::functional::{
    axis_of, bool_opt, check_classes, choice_opt, log_softmax, logsigmoid, num_opt, opt_span, F, R,
};
use super::tensor::const_tensor;
use super::{shape_mismatch, LVal, LowerError, Lowerer};
use crate::builtins::Call;
use crate::diagnostics::Span;
use crate::graph::ops::Cmp;
use crate::graph::{Axis, Graph, NodeId, Op, Red, UnFn};
use crate::syntax::ast::Expr;
use crate::tensor::{broadcast, numel, Tensor};

const REDUCTIONS: &[&str] = &["mean", "sum", "none"];

/// torch's apply_loss_reduction.
fn reduce(f: &mut F, loss: NodeId, mode: &str) -> R {
    match mode {
        "none" => Ok(loss),
        "sum" => f.sum_all(loss),
        _ => {
            let n = f.k(f.g.numel(loss) as f64);
            let s = f.sum_all(loss)?;
            f.div(s, n)
        }
    }
}

/// A target (or other second operand) whose shape must broadcast with the
/// input's; `exact` when torch requires the very same shape.
fn fits(
    g: &Graph,
    x: NodeId,
    t: NodeId,
    te: &Expr,
    what: &'static str,
    exact: bool,
) -> Result<(), LowerError> {
    let (xs, ts) = (g.shape(x), g.shape(t));
    let ok = if exact {
        xs == ts
    } else {
        broadcast(xs, ts).is_some()
    };
    if ok {
        return Ok(());
    }
    Err(LowerError::DoesNotFit {
        what,
        shape: ts.to_vec(),
        input: xs.to_vec(),
        exact,
        span: te.span.clone(),
    })
}

/// Every loss.
pub fn loss(l: &mut Lowerer, name: &str, call: &Call, span: &Span) -> Result<LVal, LowerError> {
    if matches!(name, "cross_entropy" | "nll_loss") {
        return class_loss(l, name, call, span);
    }
    let (xe, te) = (call.pos[0], call.pos[1]);
    let x = l.num(xe)?;
    let t = l.num(te)?;
    let mode = reduction_mode(call, name)?;
    let sd = |e| shape_mismatch(e, span);
    let (what, exact) = second_operand(name);
    fits(l.g, x, t, te, what, exact)?;
    let n = match name {
        "mse_loss" => {
            let mut f = F { g: l.g };
            let d = f.sub(x, t).map_err(sd)?;
            let two = f.k(2.0);
            f.op(Op::PowC, &[d, two])
        }
        "l1_loss" => {
            let mut f = F { g: l.g };
            let d = f.sub(x, t).map_err(sd)?;
            f.un(UnFn::Abs, d)
        }
        "smooth_l1_loss" | "huber_loss" => huber_like(l, name, call, (x, t), span)?,
        "binary_cross_entropy" => {
            l.check_range(x, xe, 0.0, 1.0, "binary_cross_entropy's input")?;
            F { g: l.g }.op(Op::Bce, &[x, t])
        }
        "binary_cross_entropy_with_logits" => {
            let pw = match call.opt("pos_weight") {
                Some(e) => Some(operand(l, x, e, "pos_weight")?),
                None => None,
            };
            bce_logits(&mut F { g: l.g }, x, t, pw)
        }
        "kl_div" => {
            let r = kl_div(l, call, x, t)?.map_err(sd)?;
            if mode == "batchmean" {
                return batchmean(&mut F { g: l.g }, r).map(LVal::Num).map_err(sd);
            }
            Ok(r)
        }
        "poisson_nll_loss" => {
            let log_input = bool_opt(call, "log_input", true)?;
            let full = bool_opt(call, "full", false)?;
            let eps = num_opt(l, call, "eps", 1e-8)?;
            poisson(&mut F { g: l.g }, x, t, log_input, full, eps)
        }
        "gaussian_nll_loss" => return gaussian(l, call, x, t, mode, span),
        "cosine_similarity" => return cosine(l, call, x, t, span),
        _ => {
            return Err(LowerError::NotSupportedYet {
                name: name.to_string(),
                span: span.clone(),
            })
        }
    };
    let n = n.map_err(sd)?;
    let n = match call.opt("weight") {
        Some(e) => {
            let w = operand(l, x, e, "weight")?;
            F { g: l.g }.mul(n, w).map_err(sd)?
        }
        None => n,
    };
    let r = reduce(&mut F { g: l.g }, n, mode).map_err(sd)?;
    Ok(LVal::Num(r))
}

/// The loss's `reduction` (kl_div also takes "batchmean"; cosine_similarity
/// has none: it is elementwise).
fn reduction_mode(call: &Call, name: &str) -> Result<&'static str, LowerError> {
    if name == "cosine_similarity" {
        return Ok("none");
    }
    let allowed: &[&str] = if name == "kl_div" {
        &["mean", "sum", "none", "batchmean"]
    } else {
        REDUCTIONS
    };
    choice_opt(call, name, "reduction", allowed)
}

/// What a loss's second operand is called and whether torch wants it of
/// the input's very shape (else it broadcasts).
fn second_operand(name: &str) -> (&'static str, bool) {
    let exact = matches!(
        name,
        "binary_cross_entropy" | "binary_cross_entropy_with_logits"
    );
    match name {
        "cosine_similarity" => ("second vector", exact),
        _ => ("target", exact),
    }
}

/// An operand `e` (`what`: a weight, pos_weight) that must broadcast with
/// the input `x`.
fn operand(l: &mut Lowerer, x: NodeId, e: &Expr, what: &'static str) -> Result<NodeId, LowerError> {
    let w = l.num(e)?;
    fits(l.g, x, w, e, what, false)?;
    Ok(w)
}

/// smooth_l1_loss (beta >= 0) or huber_loss (delta > 0) of input and target.
fn huber_like(
    l: &mut Lowerer,
    name: &str,
    call: &Call,
    (x, t): (NodeId, NodeId),
    span: &Span,
) -> Result<R, LowerError> {
    let huber = name == "huber_loss";
    let key = if huber { "delta" } else { "beta" };
    let b = num_opt(l, call, key, 1.0)?;
    if b < 0.0 || (huber && b == 0.0) {
        let want = if huber { "> 0" } else { ">= 0" };
        return Err(LowerError::LossOption {
            loss: name.to_string(),
            option: key,
            want,
            value: b,
            span: opt_span(call, key, span),
        });
    }
    Ok(smooth_l1(&mut F { g: l.g }, x, t, b, huber))
}

/// kl_div's pointwise terms, the target a probability or (log_target) a
/// log-probability.
fn kl_div(l: &mut Lowerer, call: &Call, x: NodeId, t: NodeId) -> Result<R, LowerError> {
    let log_t = bool_opt(call, "log_target", false)?;
    let mut f = F { g: l.g };
    Ok(if log_t {
        // exp(target) * (target - input)
        f.un(UnFn::Exp, t).and_then(|e| {
            let d = f.sub(t, x)?;
            f.mul(e, d)
        })
    } else {
        // xlogy(target, target) - target * input
        f.op(Op::Xlogy, &[t, t]).and_then(|a| {
            let b = f.mul(t, x)?;
            f.sub(a, b)
        })
    })
}

/// kl_div's "batchmean": the sum over the first axis's length.
fn batchmean(f: &mut F, r: NodeId) -> R {
    let rows = f.g.shape(r).first().copied().unwrap_or(1);
    let s = f.sum_all(r)?;
    let k = f.k(rows as f64);
    f.div(s, k)
}

/// torch's smooth_l1 (|d| < beta ? 0.5 d^2 / beta : |d| - beta / 2) and
/// huber (|d| < delta ? 0.5 d^2 : delta (|d| - delta / 2)).
fn smooth_l1(f: &mut F, x: NodeId, t: NodeId, b: f64, huber: bool) -> R {
    let d = f.sub(x, t)?;
    let z = f.un(UnFn::Abs, d)?;
    if b == 0.0 {
        // torch: smooth_l1 with beta 0 is l1 (no 0 / 0 in the derivative)
        return Ok(z);
    }
    let (kb, half) = (f.k(b), f.k(0.5));
    let inside = f.cmp(Cmp::Lt, z, kb)?;
    let hz = f.mul(half, z)?;
    let sq = f.mul(hz, z)?;
    let hb = f.k(0.5 * b);
    let lin = f.sub(z, hb)?;
    let (sq, lin) = if huber {
        (sq, f.mul(kb, lin)?)
    } else {
        (f.div(sq, kb)?, lin)
    };
    f.wh(inside, sq, lin)
}

/// torch: (1 - t) * x - logsigmoid(x) * ((pos_weight - 1) * t + 1).
fn bce_logits(f: &mut F, x: NodeId, t: NodeId, pw: Option<NodeId>) -> R {
    let one = f.k(1.0);
    let mut ls = logsigmoid(f, x)?;
    if let Some(p) = pw {
        let pm = f.sub(p, one)?;
        let lw = f.mul(pm, t).and_then(|m| f.add(m, one))?;
        ls = f.mul(ls, lw)?;
    }
    let a = f.sub(one, t).and_then(|a| f.mul(a, x))?;
    f.sub(a, ls)
}

/// torch.poisson_nll_loss, Stirling's term where target > 1 with `full`.
fn poisson(f: &mut F, x: NodeId, t: NodeId, log_input: bool, full: bool, eps: f64) -> R {
    let mut loss = if log_input {
        let e = f.un(UnFn::Exp, x)?;
        let tx = f.mul(t, x)?;
        f.sub(e, tx)?
    } else {
        let ke = f.k(eps);
        let lg = f.add(x, ke).and_then(|s| f.un(UnFn::Log, s))?;
        let tl = f.mul(t, lg)?;
        f.sub(x, tl)?
    };
    if full {
        let lt = f.un(UnFn::Log, t)?;
        let a = f.mul(t, lt).and_then(|a| f.sub(a, t))?;
        let tau = f.k(2.0 * std::f64::consts::PI);
        let half = f.k(0.5);
        let b = f
            .mul(tau, t)
            .and_then(|m| f.un(UnFn::Log, m))
            .and_then(|lg| f.mul(half, lg))?;
        let st = f.add(a, b)?;
        let (one, zero) = (f.k(1.0), f.k(0.0));
        let big = f.cmp(Cmp::Gt, t, one)?;
        let st = f.wh(big, st, zero)?;
        loss = f.add(loss, st)?;
    }
    Ok(loss)
}

/// torch's gaussian_nll_loss: var shaped like input, like input without its
/// last axis, or with a last axis of 1; clamped at eps under no_grad.
fn gaussian(
    l: &mut Lowerer,
    call: &Call,
    x: NodeId,
    t: NodeId,
    mode: &str,
    span: &Span,
) -> Result<LVal, LowerError> {
    let ve = call.pos[2];
    let mut v = l.num(ve)?;
    let full = bool_opt(call, "full", false)?;
    let eps = num_opt(l, call, "eps", 1e-6)?;
    let xs = l.g.shape(x).to_vec();
    let vs = l.g.shape(v).to_vec();
    if vs != xs {
        let r = xs.len();
        if r >= 1 && vs == xs[..r - 1] {
            let mut s = vs.clone();
            s.push(1);
            v = l.g.reshape(v, &s).map_err(|e| shape_mismatch(e, span))?;
        } else if !(r >= 1 && vs.len() == r && vs[..r - 1] == xs[..r - 1] && vs[r - 1] == 1) {
            return Err(LowerError::VarShape {
                var: vs,
                input: xs,
                span: ve.span.clone(),
            });
        }
    }
    l.check_range(v, ve, 0.0, f64::INFINITY, "gaussian_nll_loss's var")?;
    let mut f = F { g: l.g };
    let r = (|| {
        let (ke, inf) = (f.k(eps), f.k(f64::INFINITY));
        let vc = f.op(Op::ClampST, &[v, ke, inf])?;
        let lv = f.un(UnFn::Log, vc)?;
        let two = f.k(2.0);
        let d = f.sub(x, t)?;
        let d2 = f.op(Op::PowC, &[d, two])?;
        let q = f.div(d2, vc)?;
        let half = f.k(0.5);
        let mut loss = f.add(lv, q).and_then(|s| f.mul(half, s))?;
        if full {
            let c = f.k(0.5 * (2.0 * std::f64::consts::PI).ln());
            loss = f.add(loss, c)?;
        }
        reduce(&mut f, loss, mode)
    })();
    Ok(LVal::Num(r.map_err(|e| shape_mismatch(e, span))?))
}

/// torch's cosine_similarity: sum((a / max(|a|, eps)) * (b / max(|b|, eps)))
/// along the axis, the norms clamped under no_grad.
fn cosine(
    l: &mut Lowerer,
    call: &Call,
    a: NodeId,
    b: NodeId,
    span: &Span,
) -> Result<LVal, LowerError> {
    let eps = num_opt(l, call, "eps", 1e-8)?;
    let common = broadcast(l.g.shape(a), l.g.shape(b)).unwrap_or_default();
    let ax = axis_of(l, call.opt("axis"), &common, Some(1))?;
    let mut f = F { g: l.g };
    let r = (|| {
        let a = f.g.expand(a, &common)?;
        let b = f.g.expand(b, &common)?;
        let (ke, inf) = (f.k(eps), f.k(f64::INFINITY));
        let na = f.reduce_keep(Red::Norm, a, ax)?;
        let na = f.op(Op::ClampST, &[na, ke, inf])?;
        let nb = f.reduce_keep(Red::Norm, b, ax)?;
        let nb = f.op(Op::ClampST, &[nb, ke, inf])?;
        let p = f.div(a, na)?;
        let q = f.div(b, nb)?;
        let m = f.mul(p, q)?;
        f.g.reduce(Red::Sum, m, ax)
    })();
    Ok(LVal::Num(r.map_err(|e| shape_mismatch(e, span))?))
}

/// cross_entropy and nll_loss: class indices or (cross_entropy only)
/// class probabilities; the class axis is 1 (0 for an input of rank 1).
fn class_loss(l: &mut Lowerer, name: &str, call: &Call, span: &Span) -> Result<LVal, LowerError> {
    let (xe, te) = (call.pos[0], call.pos[1]);
    let x = l.num(xe)?;
    let xs = l.g.shape(x).to_vec();
    if xs.is_empty() {
        return Err(LowerError::ClassAxisScalar {
            loss: name.to_string(),
            span: xe.span.clone(),
        });
    }
    let cax = usize::from(xs.len() > 1);
    let c = xs[cax];
    // the class axis as a reduction axis (0 or 1, so it fits)
    let ax = Axis::Dim(u8::from(xs.len() > 1));
    let mode = choice_opt(call, name, "reduction", REDUCTIONS)?;
    let ls = num_opt(l, call, "label_smoothing", 0.0)?;
    if !(0.0..=1.0).contains(&ls) {
        return Err(LowerError::LabelSmoothing {
            value: ls,
            span: opt_span(call, "label_smoothing", span),
        });
    }
    let weight = match call.opt("weight") {
        Some(e) => Some(class_weight(l, e, (&xs, cax), span)?),
        None => None,
    };
    let t = l.num(te)?;
    let ts = l.g.shape(t).to_vec();
    let mut idx_shape = xs.clone();
    idx_shape.remove(cax);
    let sd = |e| shape_mismatch(e, span);
    if ts == xs && name == "cross_entropy" {
        let mut f = F { g: l.g };
        let input = log_softmax(&mut f, x, ax).map_err(sd)?;
        let r = prob_loss(&mut f, input, t, weight, ax, ls, mode).map_err(sd)?;
        return Ok(LVal::Num(r));
    }
    if ts != idx_shape {
        return Err(LowerError::ClassTarget {
            target: ts,
            input: xs,
            indices: idx_shape,
            probs: name == "cross_entropy",
            span: te.span.clone(),
        });
    }
    let tv = const_tensor(l, te, "class indices")?;
    check_classes(&tv, c, te, "class indices")?;
    let mask = one_hot_mask(&tv, &xs, cax);
    let m = l.g.constant(mask);
    let mut f = F { g: l.g };
    let input = if name == "cross_entropy" {
        log_softmax(&mut f, x, ax).map_err(sd)?
    } else {
        x
    };
    let r = index_loss(&mut f, input, m, weight, ax, c, ls, mode).map_err(sd)?;
    Ok(LVal::Num(r))
}

/// A class loss's `weight` (`e`: one number per class of an input of shape
/// `xs` with its classes on axis `cax`), shaped to broadcast along that axis.
fn class_weight(
    l: &mut Lowerer,
    e: &Expr,
    (xs, cax): (&[usize], usize),
    span: &Span,
) -> Result<NodeId, LowerError> {
    let c = xs[cax];
    let w = l.num(e)?;
    if l.g.shape(w) != [c] {
        return Err(LowerError::ClassWeight {
            shape: l.g.shape(w).to_vec(),
            classes: c,
            span: e.span.clone(),
        });
    }
    let mut bshape = vec![1; xs.len()];
    bshape[cax] = c;
    l.g.reshape(w, &bshape).map_err(|e| shape_mismatch(e, span))
}

/// A constant mask shaped like the input: 1 where the class is the target's.
fn one_hot_mask(t: &Tensor, xs: &[usize], cax: usize) -> Tensor {
    let c = xs[cax];
    let inner: usize = xs[cax + 1..].iter().product();
    let outer: usize = xs[..cax].iter().product();
    let mut data = vec![0.0; numel(xs)];
    for o in 0..outer {
        for i in 0..inner {
            let k = t.data[o * inner + i] as usize;
            data[(o * c + k) * inner + i] = 1.0;
        }
    }
    Tensor {
        shape: xs.to_vec(),
        data,
    }
}

/// torch's nll_loss on log-probabilities `input` at the mask's classes,
/// with label smoothing as cross_entropy adds it.
#[allow(clippy::too_many_arguments)]
fn index_loss(
    f: &mut F,
    input: NodeId,
    m: NodeId,
    w: Option<NodeId>,
    cax: Axis,
    c: usize,
    ls: f64,
    mode: &str,
) -> R {
    let zero = f.k(0.0);
    let picked = f
        .wh(m, input, zero)
        .and_then(|p| f.g.reduce(Red::Sum, p, cax))?;
    let (nll, total) = match w {
        Some(w) => {
            let wt = f
                .wh(m, w, zero)
                .and_then(|p| f.g.reduce(Red::Sum, p, cax))?;
            let nll = f.mul(picked, wt).and_then(|p| f.neg(p))?;
            (nll, f.sum_all(wt)?)
        }
        None => {
            let n = f.k(f.g.numel(picked) as f64);
            (f.neg(picked)?, n)
        }
    };
    let red = |f: &mut F, v: NodeId| -> R {
        match mode {
            "none" => Ok(v),
            "sum" => f.sum_all(v),
            _ => {
                let s = f.sum_all(v)?;
                f.div(s, total)
            }
        }
    };
    let nll = red(f, nll)?;
    if ls == 0.0 {
        return Ok(nll);
    }
    let iw = match w {
        Some(w) => f.mul(input, w)?,
        None => input,
    };
    let smooth = f.g.reduce(Red::Sum, iw, cax).and_then(|s| f.neg(s))?;
    let smooth = red(f, smooth)?;
    let a = f.k(1.0 - ls);
    let b = f.k(ls / c as f64);
    let p = f.mul(a, nll)?;
    let q = f.mul(smooth, b)?;
    f.add(p, q)
}

/// torch's cross_entropy with class probabilities: mean divides by the
/// number of samples, whatever the weights.
fn prob_loss(
    f: &mut F,
    input: NodeId,
    t: NodeId,
    w: Option<NodeId>,
    cax: Axis,
    ls: f64,
    mode: &str,
) -> R {
    let c = cax.count(f.g.shape(input));
    let t = if ls > 0.0 {
        let a = f.k(1.0 - ls);
        let b = f.k(ls / c as f64);
        f.mul(t, a).and_then(|s| f.add(s, b))?
    } else {
        t
    };
    let mut p = f.mul(input, t)?;
    if let Some(w) = w {
        p = f.mul(p, w)?;
    }
    let loss = f.g.reduce(Red::Sum, p, cax).and_then(|s| f.neg(s))?;
    match mode {
        "none" => Ok(loss),
        "sum" => f.sum_all(loss),
        _ => {
            let n = f.k((f.g.numel(input) / c.max(1)) as f64);
            let s = f.sum_all(loss)?;
            f.div(s, n)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::LowerError as L;
    use crate::interp::testutil::lower_error;

    #[test]
    fn targets_that_do_not_fit_the_input() {
        let (e, at) = lower_error("", "mse_loss([1, 2], [1, 2, 3])");
        assert!(
            matches!(
                e,
                L::DoesNotFit {
                    what: "target",
                    exact: false,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(at, "[1, 2, 3]");
        let (e, _) = lower_error("", "binary_cross_entropy([0.5, 0.5], 1)");
        assert!(matches!(e, L::DoesNotFit { exact: true, .. }), "{e:?}");
        let (e, at) = lower_error(
            "",
            "gaussian_nll_loss(zeros([2, 3]), zeros([2, 3]), zeros([3]))",
        );
        assert!(matches!(e, L::VarShape { .. }), "{e:?}");
        assert_eq!(at, "zeros([3])");
    }

    #[test]
    fn loss_options_out_of_range() {
        let (e, at) = lower_error("", "huber_loss(1, 2, delta=0)");
        assert!(
            matches!(
                e,
                L::LossOption {
                    option: "delta",
                    want: "> 0",
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(at, "0");
        let (e, _) = lower_error("", "cross_entropy([1, 2], 0, label_smoothing=2)");
        assert!(matches!(e, L::LabelSmoothing { value: 2.0, .. }), "{e:?}");
    }

    #[test]
    fn class_losses_check_the_class_axis() {
        let (e, at) = lower_error("", "nll_loss(1, 0)");
        assert!(
            matches!(&e, L::ClassAxisScalar { loss, .. } if loss == "nll_loss"),
            "{e:?}"
        );
        assert_eq!(at, "1");
        let (e, _) = lower_error("", "cross_entropy(zeros([2, 3]), [0, 1], weight=[1, 1])");
        assert!(matches!(e, L::ClassWeight { classes: 3, .. }), "{e:?}");
        let (e, at) = lower_error("", "cross_entropy(zeros([2, 3]), [0, 1, 2])");
        assert!(matches!(e, L::ClassTarget { probs: true, .. }), "{e:?}");
        assert_eq!(at, "[0, 1, 2]");
        let (e, _) = lower_error("", "nll_loss(zeros([2, 3]), [0, 1, 2])");
        assert!(matches!(e, L::ClassTarget { probs: false, .. }), "{e:?}");
    }
}
