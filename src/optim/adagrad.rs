//! Adagrad (torch.optim.Adagrad), with torch's learning-rate decay
//! `clr = lr / (1 + (t - 1) * lr_decay)` and initial accumulator value,
//! following torch's single-tensor (dense) code path.

use super::common::{check_all_nonneg, l2_decay};
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// Adagrad's state: the running sum of squared gradients.
pub struct Adagrad {
    lr: f64,
    lr_decay: f64,
    weight_decay: f64,
    eps: f64,
    step: f64,
    grad: Vec<f64>,
    sum: Vec<f64>,
}

optim_config! {
    /// `adagrad(...)`'s options with torch's defaults.
    pub struct AdagradConfig {
        lr: f64 = 1e-2,
        lr_decay: f64 = 0.0,
        weight_decay: f64 = 0.0,
        initial_accumulator_value: f64 = 0.0,
        eps: f64 = 1e-10,
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
    }
}

/// Reads the options, validates them as torch does, allocates the state.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let AdagradConfig {
        lr,
        lr_decay,
        weight_decay,
        initial_accumulator_value: initial,
        eps,
        maximize: _,
    } = AdagradConfig::read(r)?;
    check_all_nonneg(
        r,
        &[
            ("lr", lr),
            ("lr_decay", lr_decay),
            ("weight_decay", weight_decay),
            ("initial_accumulator_value", initial),
            ("eps", eps),
        ],
    )?;
    let n = layout.len();
    Ok(Box::new(Adagrad {
        lr,
        lr_decay,
        weight_decay,
        eps,
        step: 0.0,
        grad: vec![0.0; n],
        sum: vec![initial; n],
    }))
}

impl Optimizer for Adagrad {
    lr_field!(lr);

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        self.step += 1.0;
        let clr = self.lr / (1.0 + (self.step - 1.0) * self.lr_decay);
        for (i, p) in params.iter_mut().enumerate() {
            let g = l2_decay(self.grad[i], self.weight_decay, *p);
            let s = self.sum[i] + g * g;
            self.sum[i] = s;
            let std = s.sqrt() + self.eps;
            *p += -clr * g / std;
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{arg, defaults, follow_case, range_err};
    use super::super::OptValue;

    #[test]
    fn reference_cases() {
        follow_case("adagrad");
        follow_case("adagrad-decay");
    }

    #[test]
    fn options_in_torch_order() {
        assert_eq!(
            defaults("adagrad"),
            vec![
                ("lr", OptValue::Num(1e-2)),
                ("lr_decay", OptValue::Num(0.0)),
                ("weight_decay", OptValue::Num(0.0)),
                ("initial_accumulator_value", OptValue::Num(0.0)),
                ("eps", OptValue::Num(1e-10)),
                ("maximize", OptValue::Bool(false)),
            ]
        );
    }

    #[test]
    fn validation() {
        for name in ["lr", "lr_decay", "initial_accumulator_value", "eps"] {
            assert_eq!(
                range_err("adagrad", &[arg(name, OptValue::Num(-1.0))]).0,
                name
            );
        }
    }
}
