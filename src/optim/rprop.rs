//! Rprop (torch.optim.Rprop): per-element step sizes grown by `etaplus`
//! while the gradient keeps its sign and shrunk by `etaminus` when it flips
//! (the gradient is then zeroed for that step), following torch's
//! single-tensor code path.

use super::common::check_nonneg;
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// Rprop's state: the previous (possibly zeroed) gradient and the step sizes.
pub struct Rprop {
    /// The initial step size; torch reads it only when the state is made.
    lr: f64,
    stepped: bool,
    etaminus: f64,
    etaplus: f64,
    step_size_min: f64,
    step_size_max: f64,
    grad: Vec<f64>,
    prev: Vec<f64>,
    step_size: Vec<f64>,
}

/// torch's `sign` (NaN stays NaN, zero stays zero).
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

/// torch's `clamp(x, lo, hi)`: `min(max(x, lo), hi)`, NaN propagating.
fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() {
        x
    } else {
        x.max(lo).min(hi)
    }
}

optim_config! {
    /// `rprop(...)`'s options with torch's defaults.
    pub struct RpropConfig {
        lr: f64 = 1e-2,
        etas: (f64, f64) = (0.5, 1.2),
        step_sizes: (f64, f64) = (1e-6, 50.0),
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
    }
}

/// Reads the options, validates them as torch does, allocates the state.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let RpropConfig {
        lr,
        etas,
        step_sizes,
        maximize: _,
    } = RpropConfig::read(r)?;
    check_nonneg(r, "lr", lr)?;
    r.check(
        "etas",
        0.0 < etas.0 && etas.0 < 1.0 && 1.0 < etas.1,
        format!("({}, {})", etas.0, etas.1),
        "etas must satisfy 0 < etaminus < 1 < etaplus",
    )?;
    let n = layout.len();
    Ok(Box::new(Rprop {
        lr,
        stepped: false,
        etaminus: etas.0,
        etaplus: etas.1,
        step_size_min: step_sizes.0,
        step_size_max: step_sizes.1,
        grad: vec![0.0; n],
        prev: vec![0.0; n],
        step_size: vec![lr; n],
    }))
}

impl Optimizer for Rprop {
    fn lr(&self) -> f64 {
        self.lr
    }

    /// torch fills the step sizes with the group's lr when the state is
    /// made at the first step; a later lr changes nothing, as in torch.
    fn set_lr(&mut self, lr: f64) {
        self.lr = lr;
        if !self.stepped {
            self.step_size.fill(lr);
        }
    }

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        self.stepped = true;
        let loss = closure(params, &mut self.grad);
        for (i, p) in params.iter_mut().enumerate() {
            let mut g = self.grad[i];
            let s = sign(g * self.prev[i]);
            let factor = if s > 0.0 {
                self.etaplus
            } else if s < 0.0 {
                self.etaminus
            } else if s == 0.0 {
                1.0
            } else {
                s
            };
            let size = clamp(
                self.step_size[i] * factor,
                self.step_size_min,
                self.step_size_max,
            );
            self.step_size[i] = size;
            if factor == self.etaminus {
                g = 0.0;
            }
            *p -= sign(g) * size;
            self.prev[i] = g;
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{arg, defaults, err, follow_case, pair, range_err};
    use super::super::{OptError, OptValue};

    #[test]
    fn reference_cases() {
        follow_case("rprop-default");
        follow_case("rprop-etas");
    }

    #[test]
    fn options_in_torch_order() {
        assert_eq!(
            defaults("rprop"),
            vec![
                ("lr", OptValue::Num(1e-2)),
                ("etas", pair(0.5, 1.2)),
                ("step_sizes", pair(1e-6, 50.0)),
                ("maximize", OptValue::Bool(false)),
            ]
        );
    }

    #[test]
    fn validation() {
        for (a, b) in [(0.0, 1.2), (1.0, 1.2), (0.5, 1.0), (0.5, 0.9)] {
            let (name, allowed) = range_err("rprop", &[arg("etas", pair(a, b))]);
            assert_eq!(name, "etas");
            assert!(allowed.contains("etaminus"));
        }
        match err("rprop", &[arg("etas", OptValue::Num(0.5))]) {
            OptError::Type { name, .. } => assert_eq!(name, "etas"),
            e => panic!("{e:?}"),
        }
    }
}
