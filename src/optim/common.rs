//! What the torch.optim optimizers share: torch's elementwise kernels
//! (`lerp`, `maximum`), Python's `min`/`max`, torch's option checks, the
//! options and moments of the Adam family, and the two kinds of weight decay.
//! Each helper performs the floating-point operations of the code it
//! replaced, in the same order, so that the trajectories stay bit for bit
//! those of torch's single-tensor path.

use super::{OptError, OptReader};

/// torch's CPU `lerp(start, end, weight)` with a scalar weight, with its
/// two-sided formula (it matters for rounding).
pub(super) fn lerp(start: f64, end: f64, weight: f64) -> f64 {
    if weight.abs() < 0.5 {
        start + weight * (end - start)
    } else {
        end - (end - start) * (1.0 - weight)
    }
}

/// torch's `maximum`: NaN wins, unlike `f64::max`.
pub(super) fn maximum(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Python's `min(a, b)`: `a` unless `b < a` (so a NaN `a` wins).
pub(super) fn py_min(a: f64, b: f64) -> f64 {
    if b < a {
        b
    } else {
        a
    }
}

/// Python's `max(a, b)`: `a` unless `b > a`.
pub(super) fn py_max(a: f64, b: f64) -> f64 {
    if b > a {
        b
    } else {
        a
    }
}

/// torch's `0 <= value` checks (lr, eps, weight_decay, ...); NaN fails too.
pub(super) fn check_nonneg(r: &OptReader, name: &str, value: f64) -> Result<(), OptError> {
    r.check(name, value >= 0.0, value, &format!("{name} must be >= 0"))
}

/// torch's check that each beta is in [0, 1).
pub(super) fn check_betas(r: &OptReader, betas: (f64, f64)) -> Result<(), OptError> {
    for (i, b) in [betas.0, betas.1].into_iter().enumerate() {
        r.check(
            "betas",
            (0.0..1.0).contains(&b),
            b,
            &format!("betas[{i}] must be in [0, 1)"),
        )?;
    }
    Ok(())
}

/// L2 weight decay, torch's `grad = grad.add(param, alpha=weight_decay)`.
pub(super) fn l2_decay(g: f64, weight_decay: f64, p: f64) -> f64 {
    if weight_decay != 0.0 {
        g + weight_decay * p
    } else {
        g
    }
}

/// An exponential moving average of squares, torch's
/// `avg.mul_(beta).addcmul_(x, x, value=1 - beta)`.
pub(super) fn ema_sq(avg: f64, beta: f64, x: f64) -> f64 {
    avg * beta + (1.0 - beta) * x * x
}

/// The options the Adam family (Adam, AdamW, Adamax, NAdam, RAdam) reads
/// first, in this order: `lr`, `betas`, `eps`, `weight_decay`.
#[derive(Clone, Copy, Debug)]
pub(super) struct AdamOptions {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
}

impl AdamOptions {
    /// The four options as an optimizer's config read them; the caller
    /// then calls [`Self::validate`].
    pub fn new(lr: f64, betas: (f64, f64), eps: f64, weight_decay: f64) -> Self {
        AdamOptions {
            lr,
            beta1: betas.0,
            beta2: betas.1,
            eps,
            weight_decay,
        }
    }

    /// torch's checks of the four options, in torch's order.
    pub fn validate(&self, r: &OptReader) -> Result<(), OptError> {
        check_nonneg(r, "lr", self.lr)?;
        check_nonneg(r, "eps", self.eps)?;
        check_betas(r, (self.beta1, self.beta2))?;
        check_nonneg(r, "weight_decay", self.weight_decay)
    }

    /// Weight decay of the Adam family: decoupled, torch's
    /// `param.mul_(1 - lr * weight_decay)`, or L2 on the gradient. Returns
    /// the gradient to use.
    pub fn decay(&self, decoupled: bool, p: &mut f64, g: f64) -> f64 {
        if self.weight_decay != 0.0 && decoupled {
            *p *= 1.0 - self.lr * self.weight_decay;
            g
        } else {
            l2_decay(g, self.weight_decay, *p)
        }
    }
}

/// Adam's two moments, `exp_avg` and `exp_avg_sq`, of every free parameter.
pub(super) struct Moments {
    pub exp_avg: Vec<f64>,
    pub exp_avg_sq: Vec<f64>,
}

impl Moments {
    pub fn new(n: usize) -> Self {
        Moments {
            exp_avg: vec![0.0; n],
            exp_avg_sq: vec![0.0; n],
        }
    }

    /// torch's `exp_avg.lerp_(grad, 1 - beta1)` and
    /// `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)` for
    /// element `i`; returns the new moments.
    pub fn update(&mut self, i: usize, g: f64, beta1: f64, beta2: f64) -> (f64, f64) {
        let m = lerp(self.exp_avg[i], g, 1.0 - beta1);
        self.exp_avg[i] = m;
        let v = ema_sq(self.exp_avg_sq[i], beta2, g);
        self.exp_avg_sq[i] = v;
        (m, v)
    }
}
