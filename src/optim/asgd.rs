//! ASGD (torch.optim.ASGD): averaged SGD with torch's decaying step
//! `eta = lr / (1 + lambd * lr * t)^alpha`, averaging coefficient
//! `mu = 1 / max(1, t - t0)` and running average `ax`, following torch's
//! single-tensor code path. The parameters follow the SGD iterates; `ax` is
//! state only, as in torch.

use super::common::{check_all_nonneg, l2_decay};
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// ASGD's state: step count, current eta and mu, and the average `ax`.
pub struct Asgd {
    lr: f64,
    lambd: f64,
    alpha: f64,
    t0: f64,
    weight_decay: f64,
    step: f64,
    eta: f64,
    mu: f64,
    grad: Vec<f64>,
    ax: Vec<f64>,
}

optim_config! {
    /// `asgd(...)`'s options with torch's defaults.
    pub struct AsgdConfig {
        lr: f64 = 1e-2,
        lambd: f64 = 1e-4,
        alpha: f64 = 0.75,
        t0: f64 = 1e6,
        weight_decay: f64 = 0.0,
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
    }
}

/// Reads the options, validates them as torch does, allocates the state.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let AsgdConfig {
        lr,
        lambd,
        alpha,
        t0,
        weight_decay,
        maximize: _,
    } = AsgdConfig::read(r)?;
    check_all_nonneg(
        r,
        &[
            ("lr", lr),
            ("lambd", lambd),
            ("alpha", alpha),
            ("weight_decay", weight_decay),
        ],
    )?;
    let n = layout.len();
    Ok(Box::new(Asgd {
        lr,
        lambd,
        alpha,
        t0,
        weight_decay,
        step: 0.0,
        eta: lr,
        mu: 1.0,
        grad: vec![0.0; n],
        ax: vec![0.0; n],
    }))
}

impl Optimizer for Asgd {
    fn lr(&self) -> f64 {
        self.lr
    }

    /// torch's ASGD starts `eta` at the lr when its state is made (the
    /// first step) and recomputes it from the group's lr after each step.
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
        if self.step == 0.0 {
            self.eta = lr;
        }
    }

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        self.step += 1.0;
        let eta = self.eta;
        let decay = 1.0 - self.lambd * eta;
        for (i, p) in params.iter_mut().enumerate() {
            let g = l2_decay(self.grad[i], self.weight_decay, *p);
            *p *= decay;
            *p += -eta * g;
            if self.mu != 1.0 {
                self.ax[i] += (*p - self.ax[i]) * self.mu;
            } else {
                self.ax[i] = *p;
            }
        }
        let t = self.step;
        self.eta = self.lr / (1.0 + self.lambd * self.lr * t).powf(self.alpha);
        self.mu = 1.0 / (t - self.t0).max(1.0);
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{arg, defaults, follow_case, make, range_err};
    use super::super::{OptValue, ParamLayout};

    #[test]
    fn reference_cases() {
        follow_case("asgd");
    }

    #[test]
    fn options_in_torch_order() {
        assert_eq!(
            defaults("asgd"),
            vec![
                ("lr", OptValue::Num(1e-2)),
                ("lambd", OptValue::Num(1e-4)),
                ("alpha", OptValue::Num(0.75)),
                ("t0", OptValue::Num(1e6)),
                ("weight_decay", OptValue::Num(0.0)),
                ("maximize", OptValue::Bool(false)),
            ]
        );
    }

    #[test]
    fn validation() {
        for name in ["lr", "lambd", "alpha", "weight_decay"] {
            assert_eq!(range_err("asgd", &[arg(name, OptValue::Num(-1.0))]).0, name);
        }
    }

    #[test]
    fn eta_schedule() {
        // f = x^2 from x = 1: eta starts at lr and then decays as torch's.
        let args = [
            arg("lr", OptValue::Num(0.1)),
            arg("lambd", OptValue::Num(0.5)),
        ];
        let mut opt = make("asgd", &args, &ParamLayout::scalars(1)).unwrap();
        let mut p = [1.0];
        let mut want = 1.0f64;
        for t in 0..3 {
            let eta = if t == 0 {
                0.1
            } else {
                0.1 / (1.0 + 0.5 * 0.1 * t as f64).powf(0.75)
            };
            let g = 2.0 * want;
            want = want * (1.0 - 0.5 * eta) + -eta * g;
            opt.step(&mut p, &mut |x: &[f64], g: &mut [f64]| {
                g[0] = 2.0 * x[0];
                x[0] * x[0]
            });
            assert_eq!(p[0], want);
        }
    }
}
