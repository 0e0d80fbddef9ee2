//! Adamax (torch.optim.Adamax): Adam with the infinity norm in place of the
//! second moment, following torch's single-tensor code path.

use super::common::{l2_decay, lerp, maximum, AdamOptions};
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// Adamax's state: first moment and exponentially weighted infinity norm.
pub struct Adamax {
    o: AdamOptions,
    step: f64,
    grad: Vec<f64>,
    exp_avg: Vec<f64>,
    exp_inf: Vec<f64>,
}

optim_config! {
    /// `adamax(...)`'s options with torch.optim.Adamax's defaults.
    pub struct AdamaxConfig {
        lr: f64 = 2e-3,
        betas: (f64, f64) = (0.9, 0.999),
        eps: f64 = 1e-8,
        weight_decay: f64 = 0.0,
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
    }
}

/// Reads `adamax(...)`, validates it as torch does, allocates the state.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let c = AdamaxConfig::read(r)?;
    let o = AdamOptions::new(c.lr, c.betas, c.eps, c.weight_decay);
    o.validate(r)?;
    let n = layout.len();
    Ok(Box::new(Adamax {
        o,
        step: 0.0,
        grad: vec![0.0; n],
        exp_avg: vec![0.0; n],
        exp_inf: vec![0.0; n],
    }))
}

impl Optimizer for Adamax {
    adam_hyperparameters!(o);

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        self.step += 1.0;
        let AdamOptions {
            lr,
            beta1,
            beta2,
            eps,
            weight_decay,
        } = self.o;
        let clr = lr / (1.0 - beta1.powf(self.step));
        for (i, p) in params.iter_mut().enumerate() {
            let g = l2_decay(self.grad[i], weight_decay, *p);
            let m = lerp(self.exp_avg[i], g, 1.0 - beta1);
            self.exp_avg[i] = m;
            let u = maximum(self.exp_inf[i] * beta2, g.abs() + eps);
            self.exp_inf[i] = u;
            *p += -clr * m / u;
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
        follow_case("adamax");
    }

    #[test]
    fn options_in_torch_order() {
        assert_eq!(
            option_names("adamax"),
            ["lr", "betas", "eps", "weight_decay", "maximize"]
        );
        assert_eq!(defaults("adamax")[0].1, OptValue::Num(2e-3));
    }

    #[test]
    fn validation() {
        let (name, allowed) = range_err("adamax", &[arg("betas", pair(-0.1, 0.9))]);
        assert_eq!(name, "betas");
        assert_eq!(allowed, "betas[0] must be in [0, 1)");
        assert_eq!(
            range_err("adamax", &[arg("lr", OptValue::Num(-1.0))]).0,
            "lr"
        );
    }
}
