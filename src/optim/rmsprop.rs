//! RMSprop (torch.optim.RMSprop), optionally centered and with momentum,
//! following torch's single-tensor code path.

use super::common::{check_all_nonneg, ema_sq, l2_decay, lerp};
use super::{Closure, MomentumKind, OptError, OptReader, Optimizer, ParamLayout};

/// RMSprop's state: the square average, and the momentum buffer and
/// gradient average when those options are on (empty otherwise).
pub struct RmsProp {
    lr: f64,
    alpha: f64,
    eps: f64,
    weight_decay: f64,
    momentum: f64,
    centered: bool,
    grad: Vec<f64>,
    square_avg: Vec<f64>,
    momentum_buffer: Vec<f64>,
    grad_avg: Vec<f64>,
}

optim_config! {
    /// `rmsprop(...)`'s options with torch's defaults.
    pub struct RmspropConfig {
        lr: f64 = 1e-2,
        alpha: f64 = 0.99,
        eps: f64 = 1e-8,
        weight_decay: f64 = 0.0,
        momentum: f64 = 0.0,
        centered: bool = false,
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
    }
}

/// Reads the options, validates them as torch does, allocates the state.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let RmspropConfig {
        lr,
        alpha,
        eps,
        weight_decay,
        momentum,
        centered,
        maximize: _,
    } = RmspropConfig::read(r)?;
    check_all_nonneg(
        r,
        &[
            ("lr", lr),
            ("eps", eps),
            ("momentum", momentum),
            ("weight_decay", weight_decay),
            ("alpha", alpha),
        ],
    )?;
    let n = layout.len();
    let sized = |on: bool| if on { vec![0.0; n] } else { Vec::new() };
    Ok(Box::new(RmsProp {
        lr,
        alpha,
        eps,
        weight_decay,
        momentum,
        centered,
        grad: vec![0.0; n],
        square_avg: vec![0.0; n],
        momentum_buffer: sized(momentum > 0.0),
        grad_avg: sized(centered),
    }))
}

impl Optimizer for RmsProp {
    lr_field!(lr);

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Momentum, self.momentum))
    }

    /// A schedule that turns momentum on before the first step gets the
    /// zero buffer torch would make then.
    fn set_momentum(&mut self, value: f64) {
        self.momentum = value;
        if value > 0.0 && self.momentum_buffer.is_empty() {
            self.momentum_buffer = vec![0.0; self.grad.len()];
        }
    }

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        let alpha = self.alpha;
        for (i, p) in params.iter_mut().enumerate() {
            let g = l2_decay(self.grad[i], self.weight_decay, *p);
            let sq = ema_sq(self.square_avg[i], alpha, g);
            self.square_avg[i] = sq;
            let mut avg = if self.centered {
                let ga = lerp(self.grad_avg[i], g, 1.0 - alpha);
                self.grad_avg[i] = ga;
                (sq - ga * ga).sqrt()
            } else {
                sq.sqrt()
            };
            avg += self.eps;
            if self.momentum > 0.0 {
                let b = self.momentum_buffer[i] * self.momentum + g / avg;
                self.momentum_buffer[i] = b;
                *p += -self.lr * b;
            } else {
                *p += -self.lr * g / avg;
            }
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
        follow_case("rmsprop");
        follow_case("rmsprop-centered-momentum");
    }

    #[test]
    fn options_in_torch_order() {
        assert_eq!(
            defaults("rmsprop"),
            vec![
                ("lr", OptValue::Num(1e-2)),
                ("alpha", OptValue::Num(0.99)),
                ("eps", OptValue::Num(1e-8)),
                ("weight_decay", OptValue::Num(0.0)),
                ("momentum", OptValue::Num(0.0)),
                ("centered", OptValue::Bool(false)),
                ("maximize", OptValue::Bool(false)),
            ]
        );
    }

    #[test]
    fn validation() {
        for name in ["lr", "alpha", "eps", "momentum", "weight_decay"] {
            let (n, allowed) = range_err("rmsprop", &[arg(name, OptValue::Num(-1.0))]);
            assert_eq!(n, name);
            assert_eq!(allowed, format!("{name} must be >= 0"));
        }
    }
}
