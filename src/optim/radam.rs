//! RAdam (torch.optim.RAdam): Adam with the variance rectification term,
//! plain momentum SGD while the approximated SMA length `rho_t` is at most 5,
//! optionally with decoupled weight decay, following torch's single-tensor
//! code path.

use super::common::{AdamOptions, Moments};
use super::{Closure, MomentumKind, OptError, OptReader, Optimizer, ParamLayout};

/// RAdam's state: the two moments.
pub struct RAdam {
    o: AdamOptions,
    decoupled_weight_decay: bool,
    step: f64,
    grad: Vec<f64>,
    moments: Moments,
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
    let decoupled_weight_decay = c.decoupled_weight_decay;
    o.validate(r)?;
    let n = layout.len();
    Ok(Box::new(RAdam {
        o,
        decoupled_weight_decay,
        step: 0.0,
        grad: vec![0.0; n],
        moments: Moments::new(n),
    }))
}

impl Optimizer for RAdam {
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
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - beta2.powf(t);
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * beta2.powf(t) / bias_correction2;
        let rectified = rho_t > 5.0;
        let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
            / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            .powf(0.5);
        let bc2_sqrt = bias_correction2.powf(0.5);
        for (i, p) in params.iter_mut().enumerate() {
            let g = self.o.decay(self.decoupled_weight_decay, p, self.grad[i]);
            let (m, v) = self.moments.update(i, g, beta1, beta2);
            let corrected = m / bias_correction1;
            if rectified {
                // torch's `float / tensor` is `tensor.reciprocal() * float`.
                let adaptive_lr = (1.0 / (v.sqrt() + self.o.eps)) * bc2_sqrt;
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
