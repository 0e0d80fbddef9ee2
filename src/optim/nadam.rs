//! NAdam (torch.optim.NAdam): Adam with Nesterov momentum and torch's
//! momentum-decay schedule (`mu_t`, and its running product), optionally
//! with decoupled weight decay (NAdamW), following torch's single-tensor
//! code path.

use super::common::{check_nonneg, AdamOptions, Moments};
use super::{Closure, MomentumKind, OptError, OptReader, Optimizer, ParamLayout};

/// NAdam's state: the moments and the product of the momentum schedule.
pub struct NAdam {
    o: AdamOptions,
    momentum_decay: f64,
    decoupled_weight_decay: bool,
    step: f64,
    /// torch keeps one per parameter; they are all equal here.
    mu_product: f64,
    grad: Vec<f64>,
    moments: Moments,
}

optim_config! {
    /// `nadam(...)`'s options with torch.optim.NAdam's defaults.
    pub struct NAdamConfig {
        lr: f64 = 2e-3,
        betas: (f64, f64) = (0.9, 0.999),
        eps: f64 = 1e-8,
        weight_decay: f64 = 0.0,
        momentum_decay: f64 = 4e-3,
        decoupled_weight_decay: bool = false,
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
    }
}

/// Reads `nadam(...)`, validates it as torch does, allocates the state.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let c = NAdamConfig::read(r)?;
    let o = AdamOptions::new(c.lr, c.betas, c.eps, c.weight_decay);
    let (momentum_decay, decoupled_weight_decay) = (c.momentum_decay, c.decoupled_weight_decay);
    o.validate(r)?;
    check_nonneg(r, "momentum_decay", momentum_decay)?;
    let n = layout.len();
    Ok(Box::new(NAdam {
        o,
        momentum_decay,
        decoupled_weight_decay,
        step: 0.0,
        mu_product: 1.0,
        grad: vec![0.0; n],
        moments: Moments::new(n),
    }))
}

impl Optimizer for NAdam {
    fn lr(&self) -> f64 {
        self.o.lr
    }

    fn set_lr(&mut self, lr: f64) {
        self.o.lr = lr;
    }

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Beta1, self.o.beta1))
    }

    fn set_momentum(&mut self, value: f64) {
        self.o.beta1 = value;
    }

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        self.step += 1.0;
        let (lr, beta1, beta2, t) = (self.o.lr, self.o.beta1, self.o.beta2, self.step);
        let bias_correction2 = 1.0 - beta2.powf(t);
        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        self.mu_product *= mu;
        let mu_product_next = self.mu_product * mu_next;
        let grad_coef = -lr * (1.0 - mu) / (1.0 - self.mu_product);
        let avg_coef = (-lr * mu_next) / (1.0 - mu_product_next);
        for (i, p) in params.iter_mut().enumerate() {
            let g = self.o.decay(self.decoupled_weight_decay, p, self.grad[i]);
            let (m, v) = self.moments.update(i, g, beta1, beta2);
            let denom = (v / bias_correction2).sqrt() + self.o.eps;
            *p += grad_coef * g / denom;
            *p += avg_coef * m / denom;
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{arg, defaults, follow_case, option_names, pair, range_err};
    use super::super::OptValue;

    #[test]
    fn reference_cases() {
        follow_case("nadam");
        follow_case("nadam-decoupled");
    }

    #[test]
    fn options_in_torch_order() {
        assert_eq!(
            option_names("nadam"),
            [
                "lr",
                "betas",
                "eps",
                "weight_decay",
                "momentum_decay",
                "decoupled_weight_decay",
                "maximize"
            ]
        );
        let b = defaults("nadam");
        assert_eq!(b[0].1, OptValue::Num(2e-3));
        assert_eq!(b[4].1, OptValue::Num(4e-3));
    }

    #[test]
    fn validation() {
        let (name, allowed) = range_err("nadam", &[arg("momentum_decay", OptValue::Num(-1.0))]);
        assert_eq!(name, "momentum_decay");
        assert_eq!(allowed, "momentum_decay must be >= 0");
        assert_eq!(
            range_err("nadam", &[arg("betas", pair(1.0, 0.9))]).0,
            "betas"
        );
    }
}
