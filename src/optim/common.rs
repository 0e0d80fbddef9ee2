//! What the torch.optim optimizers share: torch's elementwise kernels
//! (`lerp`, `maximum`), Python's `min`/`max`, torch's option checks, the
//! options and moments of the Adam family, the two kinds of weight decay,
//! and the macros that write the plain `lr` / momentum accessors.
//! Each helper performs the floating-point operations of the code it
//! replaced, in the same order, so that the trajectories stay bit for bit
//! those of torch's single-tensor path.

use super::{Closure, OptError, OptReader};

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

/// torch's `0 <= value` checks of several options, in the order given
/// (torch's order: the first that fails is reported).
pub(super) fn check_all_nonneg(r: &OptReader, options: &[(&str, f64)]) -> Result<(), OptError> {
    options
        .iter()
        .try_for_each(|&(name, value)| check_nonneg(r, name, value))
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

/// What Adam (and AdamW), NAdam and RAdam share: the four options, whether
/// weight decay is decoupled, torch's step count, the gradient and the two
/// moments `exp_avg` and `exp_avg_sq` of every free parameter. Each of the
/// three makes its own step from the moments.
pub(super) struct AdamCore {
    pub o: AdamOptions,
    pub decoupled_weight_decay: bool,
    /// torch's `state_steps`, as a float as torch keeps it.
    pub step: f64,
    grad: Vec<f64>,
    exp_avg: Vec<f64>,
    exp_avg_sq: Vec<f64>,
}

impl AdamCore {
    /// Fresh state for `n` free parameters.
    pub fn new(n: usize, o: AdamOptions, decoupled_weight_decay: bool) -> Self {
        AdamCore {
            o,
            decoupled_weight_decay,
            step: 0.0,
            grad: vec![0.0; n],
            exp_avg: vec![0.0; n],
            exp_avg_sq: vec![0.0; n],
        }
    }

    /// The start of a step: the loss and gradient at `params`, and torch's
    /// `step_t += 1`. Returns the loss.
    pub fn begin_step(&mut self, params: &[f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        self.step += 1.0;
        loss
    }

    /// torch's `bias_correction1` and `bias_correction2`, `1 - beta^step`.
    pub fn bias_corrections(&self) -> (f64, f64) {
        (
            1.0 - self.o.beta1.powf(self.step),
            1.0 - self.o.beta2.powf(self.step),
        )
    }

    /// Element `i` of the step: the weight decay (of `p` or of the
    /// gradient), then torch's `exp_avg.lerp_(grad, 1 - beta1)` and
    /// `exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)`.
    /// Returns the gradient used and the new moments `(g, m, v)`.
    pub fn update(&mut self, i: usize, p: &mut f64) -> (f64, f64, f64) {
        let g = self.o.decay(self.decoupled_weight_decay, p, self.grad[i]);
        let m = lerp(self.exp_avg[i], g, 1.0 - self.o.beta1);
        self.exp_avg[i] = m;
        let v = ema_sq(self.exp_avg_sq[i], self.o.beta2, g);
        self.exp_avg_sq[i] = v;
        (g, m, v)
    }
}

/// [`Optimizer::lr`](super::Optimizer::lr) and `set_lr` for an optimizer
/// whose learning rate is the plain field at the path given (`lr`,
/// `cfg.lr`): use inside its `impl Optimizer`.
macro_rules! lr_field {
    ($($field:ident).+) => {
        fn lr(&self) -> f64 {
            self.$($field).+
        }

        fn set_lr(&mut self, lr: f64) {
            self.$($field).+ = lr;
        }
    };
}

/// The Adam family's `lr`, `set_lr`, `momentum` and `set_momentum`: the
/// `lr` and `betas[0]` of the [`AdamOptions`] at the path given (`o`,
/// `core.o`), for the cyclic schedules. Use inside its `impl Optimizer`.
macro_rules! adam_hyperparameters {
    ($($o:ident).+) => {
        lr_field!($($o).+.lr);

        fn momentum(&self) -> Option<($crate::optim::MomentumKind, f64)> {
            Some(($crate::optim::MomentumKind::Beta1, self.$($o).+.beta1))
        }

        fn set_momentum(&mut self, value: f64) {
            self.$($o).+.beta1 = value;
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core(decoupled: bool) -> AdamCore {
        let o = AdamOptions::new(0.1, (0.9, 0.999), 1e-8, 0.5);
        AdamCore::new(1, o, decoupled)
    }

    #[test]
    fn adam_core_counts_steps_and_corrects_bias() {
        let mut c = core(false);
        let loss = c.begin_step(&[2.0], &mut |x, g| {
            g[0] = 3.0;
            x[0] * 10.0
        });
        assert_eq!((loss, c.step), (20.0, 1.0));
        assert_eq!(c.bias_corrections(), (1.0 - 0.9, 1.0 - 0.999));
        c.begin_step(&[2.0], &mut |_, _| 0.0);
        assert_eq!(
            c.bias_corrections(),
            (1.0 - 0.9f64.powf(2.0), 1.0 - 0.999f64.powf(2.0))
        );
    }

    #[test]
    fn adam_core_decays_the_gradient_or_the_parameter() {
        // L2: the gradient 3 becomes 3 + 0.5 * 2; the parameter is untouched.
        let mut c = core(false);
        c.begin_step(&[2.0], &mut |_, g| {
            g[0] = 3.0;
            0.0
        });
        let mut p = 2.0;
        let (g, m, v) = c.update(0, &mut p);
        assert_eq!((p, g), (2.0, 4.0));
        assert_eq!((m, v), (lerp(0.0, 4.0, 1.0 - 0.9), ema_sq(0.0, 0.999, 4.0)));
        // decoupled: the parameter shrinks by lr * weight_decay instead.
        let mut c = core(true);
        c.begin_step(&[2.0], &mut |_, g| {
            g[0] = 3.0;
            0.0
        });
        let mut p = 2.0;
        let (g, m, _) = c.update(0, &mut p);
        assert_eq!((p, g), (2.0 * (1.0 - 0.1 * 0.5), 3.0));
        // the moments carry over to the next update
        let (_, m2, _) = c.update(0, &mut p);
        assert_eq!(m2, lerp(m, 3.0, 1.0 - 0.9));
    }
}
