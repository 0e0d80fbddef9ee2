//! RAdam (torch.optim.RAdam): Adam with the variance rectification term,
//! plain momentum SGD while the approximated SMA length `rho_t` is at most 5,
//! optionally with decoupled weight decay, following torch's single-tensor
//! code path.

use super::common::{AdamCore, AdamOptions};
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// RAdam's state: the two moments.
pub struct RAdam {
    core: AdamCore,
}

optim_config! {
    /// `radam(...)`'s options with torch.optim.RAdam's defaults.
    pub struct RAdamConfig {
        lr: f64 = 1e-3,
        betas: (f64, f64) = (0.9, 0.999),
        eps: f64 = 1e-8,
        weight_decay: f64 = 0.0,
        decoupled_weight_decay: bool = false,
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
    }
}

/// Reads `radam(...)`, validates it as torch does, allocates the state.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let c = RAdamConfig::read(r)?;
    let o = AdamOptions::new(c.lr, c.betas, c.eps, c.weight_decay);
    o.validate(r)?;
    Ok(Box::new(RAdam {
        core: AdamCore::new(layout.len(), o, c.decoupled_weight_decay),
    }))
}

impl Optimizer for RAdam {
    adam_hyperparameters!(core.o);

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = self.core.begin_step(params, closure);
        let (lr, beta2, t) = (self.core.o.lr, self.core.o.beta2, self.core.step);
        let (bias_correction1, bias_correction2) = self.core.bias_corrections();
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * beta2.powf(t) / bias_correction2;
        let rectified = rho_t > 5.0;
        let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
            / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            .powf(0.5);
        let bc2_sqrt = bias_correction2.powf(0.5);
        for (i, p) in params.iter_mut().enumerate() {
            let (_, m, v) = self.core.update(i, p);
            let corrected = m / bias_correction1;
            if rectified {
                // torch's `float / tensor` is `tensor.reciprocal() * float`.
                let adaptive_lr = (1.0 / (v.sqrt() + self.core.o.eps)) * bc2_sqrt;
                *p -= corrected * lr * adaptive_lr * rect;
            } else {
                *p -= corrected * lr;
            }
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{arg, err, follow_case, option_names, range_err};
    use super::super::{OptError, OptValue};

    #[test]
    fn reference_cases() {
        follow_case("radam");
    }

    #[test]
    fn options_in_torch_order() {
        assert_eq!(
            option_names("radam"),
            [
                "lr",
                "betas",
                "eps",
                "weight_decay",
                "decoupled_weight_decay",
                "maximize"
            ]
        );
    }

    #[test]
    fn validation() {
        assert_eq!(
            range_err("radam", &[arg("weight_decay", OptValue::Num(-1.0))]).0,
            "weight_decay"
        );
        match err("radam", &[arg("momentum", OptValue::Num(0.9))]) {
            OptError::Unknown { name, .. } => assert_eq!(name, "momentum"),
            e => panic!("{e:?}"),
        }
    }
}
