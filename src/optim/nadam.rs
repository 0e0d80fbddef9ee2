//! NAdam (torch.optim.NAdam): Adam with Nesterov momentum and torch's
//! momentum-decay schedule (`mu_t`, and its running product), optionally
//! with decoupled weight decay (NAdamW), following torch's single-tensor
//! code path.

use super::common::{check_nonneg, AdamCore, AdamOptions};
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// NAdam's state: the moments and the product of the momentum schedule.
pub struct NAdam {
    core: AdamCore,
    momentum_decay: f64,
    /// torch keeps one per parameter; they are all equal here.
    mu_product: f64,
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
    o.validate(r)?;
    check_nonneg(r, "momentum_decay", c.momentum_decay)?;
    Ok(Box::new(NAdam {
        core: AdamCore::new(layout.len(), o, c.decoupled_weight_decay),
        momentum_decay: c.momentum_decay,
        mu_product: 1.0,
    }))
}

impl Optimizer for NAdam {
    adam_hyperparameters!(core.o);

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = self.core.begin_step(params, closure);
        let (lr, beta1, t) = (self.core.o.lr, self.core.o.beta1, self.core.step);
        let (_, bias_correction2) = self.core.bias_corrections();
        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        self.mu_product *= mu;
        let mu_product_next = self.mu_product * mu_next;
        let grad_coef = -lr * (1.0 - mu) / (1.0 - self.mu_product);
        let avg_coef = (-lr * mu_next) / (1.0 - mu_product_next);
        for (i, p) in params.iter_mut().enumerate() {
            let (g, m, v) = self.core.update(i, p);
            let denom = (v / bias_correction2).sqrt() + self.core.o.eps;
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
