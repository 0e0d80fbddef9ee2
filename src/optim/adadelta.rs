//! Adadelta (torch.optim.Adadelta): running averages of squared gradients
//! and of squared updates (`acc_delta`), following torch's single-tensor
//! code path.

use super::common::{check_nonneg, ema_sq, l2_decay};
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// Adadelta's state: the square average and the accumulated deltas.
pub struct Adadelta {
    lr: f64,
    rho: f64,
    eps: f64,
    weight_decay: f64,
    grad: Vec<f64>,
    square_avg: Vec<f64>,
    acc_delta: Vec<f64>,
}

optim_config! {
    /// `adadelta(...)`'s options with torch's defaults.
    pub struct AdadeltaConfig {
        lr: f64 = 1.0,
        rho: f64 = 0.9,
        eps: f64 = 1e-6,
        weight_decay: f64 = 0.0,
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
    }
}

/// Reads the options, validates them as torch does, allocates the state.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let AdadeltaConfig {
        lr,
        rho,
        eps,
        weight_decay,
        maximize: _,
    } = AdadeltaConfig::read(r)?;
    check_nonneg(r, "lr", lr)?;
    r.check(
        "rho",
        (0.0..=1.0).contains(&rho),
        rho,
        "rho must be in [0, 1]",
    )?;
    check_nonneg(r, "eps", eps)?;
    check_nonneg(r, "weight_decay", weight_decay)?;
    let n = layout.len();
    Ok(Box::new(Adadelta {
        lr,
        rho,
        eps,
        weight_decay,
        grad: vec![0.0; n],
        square_avg: vec![0.0; n],
        acc_delta: vec![0.0; n],
    }))
}

impl Optimizer for Adadelta {
    lr_field!(lr);

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        let rho = self.rho;
        for (i, p) in params.iter_mut().enumerate() {
            let g = l2_decay(self.grad[i], self.weight_decay, *p);
            let sq = ema_sq(self.square_avg[i], rho, g);
            self.square_avg[i] = sq;
            let std = (sq + self.eps).sqrt();
            let delta = (self.acc_delta[i] + self.eps).sqrt() / std * g;
            self.acc_delta[i] = ema_sq(self.acc_delta[i], rho, delta);
            *p += -self.lr * delta;
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{arg, defaults, follow_case, make, range_err};
    use super::super::{OptValue, ParamLayout};

    #[test]
    fn reference_cases() {
        follow_case("adadelta-default");
        follow_case("adadelta-rho");
    }

    #[test]
    fn options_in_torch_order() {
        assert_eq!(
            defaults("adadelta"),
            vec![
                ("lr", OptValue::Num(1.0)),
                ("rho", OptValue::Num(0.9)),
                ("eps", OptValue::Num(1e-6)),
                ("weight_decay", OptValue::Num(0.0)),
                ("maximize", OptValue::Bool(false)),
            ]
        );
    }

    #[test]
    fn validation() {
        for rho in [-0.1, 1.5] {
            let (name, allowed) = range_err("adadelta", &[arg("rho", OptValue::Num(rho))]);
            assert_eq!(name, "rho");
            assert_eq!(allowed, "rho must be in [0, 1]");
        }
        let l = ParamLayout::scalars(2);
        assert!(make("adadelta", &[arg("rho", OptValue::Num(1.0))], &l).is_ok());
    }
}
