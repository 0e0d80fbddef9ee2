//! Adam and AdamW (torch.optim.Adam, torch.optim.AdamW), following torch's
//! single-tensor code path operation by operation. AdamW is Adam with
//! decoupled weight decay, exactly as current torch defines it.

use super::common::{maximum, AdamCore, AdamOptions};
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// Adam's state: the moments of every free parameter, allocated once.
pub struct Adam {
    core: AdamCore,
    amsgrad: bool,
    /// Empty unless `amsgrad`.
    max_exp_avg_sq: Vec<f64>,
}

impl Adam {
    fn new(n: usize, o: AdamOptions, amsgrad: bool, decoupled_weight_decay: bool) -> Self {
        Adam {
            core: AdamCore::new(n, o, decoupled_weight_decay),
            amsgrad,
            max_exp_avg_sq: if amsgrad { vec![0.0; n] } else { Vec::new() },
        }
    }
}

optim_config! {
    /// `adam(...)`'s options with torch.optim.Adam's defaults.
    pub struct AdamConfig {
        lr: f64 = 1e-3,
        betas: (f64, f64) = (0.9, 0.999),
        eps: f64 = 1e-8,
        weight_decay: f64 = 0.0,
        amsgrad: bool = false,
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
        decoupled_weight_decay: bool = false,
    }
}

optim_config! {
    /// `adamw(...)`'s options with torch.optim.AdamW's defaults: Adam with
    /// decoupled weight decay, 0.01 by default.
    pub struct AdamWConfig {
        lr: f64 = 1e-3,
        betas: (f64, f64) = (0.9, 0.999),
        eps: f64 = 1e-8,
        weight_decay: f64 = 1e-2,
        amsgrad: bool = false,
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
    }
}

/// Reads `adam(...)`, validates it as torch does, allocates the state.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let c = AdamConfig::read(r)?;
    let o = AdamOptions::new(c.lr, c.betas, c.eps, c.weight_decay);
    o.validate(r)?;
    let (amsgrad, decoupled) = (c.amsgrad, c.decoupled_weight_decay);
    Ok(Box::new(Adam::new(layout.len(), o, amsgrad, decoupled)))
}

/// Reads `adamw(...)`, validates it as torch does, allocates the state.
pub fn build_adamw(
    r: &mut OptReader,
    layout: &ParamLayout,
) -> Result<Box<dyn Optimizer>, OptError> {
    let c = AdamWConfig::read(r)?;
    let o = AdamOptions::new(c.lr, c.betas, c.eps, c.weight_decay);
    o.validate(r)?;
    Ok(Box::new(Adam::new(layout.len(), o, c.amsgrad, true)))
}

impl Optimizer for Adam {
    adam_hyperparameters!(core.o);

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = self.core.begin_step(params, closure);
        let (bias_correction1, bias_correction2) = self.core.bias_corrections();
        let step_size = self.core.o.lr / bias_correction1;
        let bias_correction2_sqrt = bias_correction2.powf(0.5);
        for (i, p) in params.iter_mut().enumerate() {
            let (_, m, v) = self.core.update(i, p);
            let second = if self.amsgrad {
                let vmax = maximum(self.max_exp_avg_sq[i], v);
                self.max_exp_avg_sq[i] = vmax;
                vmax
            } else {
                v
            };
            let denom = second.sqrt() / bias_correction2_sqrt + self.core.o.eps;
            *p += -step_size * m / denom;
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{arg, defaults, err, follow_case, option_names, pair, range_err};
    use super::super::{build, OptError, OptValue, ParamLayout};

    #[test]
    fn reference_cases() {
        for id in [
            "adam-beale-betas-0.9",
            "adam-beale-betas-0.99",
            "adam-himmelblau-origin",
            "adam-himmelblau-minus2",
            "adam-amsgrad-wd",
            "maximize-adam",
            "adamw-default",
            "adamw-lr",
        ] {
            follow_case(id);
        }
    }

    #[test]
    fn options_in_torch_order() {
        let b = defaults("adam");
        let names: Vec<_> = b.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            [
                "lr",
                "betas",
                "eps",
                "weight_decay",
                "amsgrad",
                "maximize",
                "decoupled_weight_decay"
            ]
        );
        assert_eq!(b[0].1, OptValue::Num(1e-3));
        assert_eq!(b[1].1, pair(0.9, 0.999));
        let w = defaults("adamw");
        assert_eq!(
            option_names("adamw"),
            ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"]
        );
        assert_eq!(w[3].1, OptValue::Num(0.01));
        let l = ParamLayout::scalars(2);
        assert!(!build("adam", &[], &l).unwrap().unwrap().maximize);
        let m = build("adam", &[arg("maximize", OptValue::Bool(true))], &l)
            .unwrap()
            .unwrap();
        assert!(m.maximize);
    }

    #[test]
    fn validation() {
        let (name, allowed) = range_err("adam", &[arg("lr", OptValue::Num(-1.0))]);
        assert_eq!((name.as_str(), allowed.as_str()), ("lr", "lr must be >= 0"));
        let (name, allowed) = range_err("adamw", &[arg("betas", pair(0.9, 1.0))]);
        assert_eq!(
            (name.as_str(), allowed.as_str()),
            ("betas", "betas[1] must be in [0, 1)")
        );
        assert_eq!(
            range_err("adam", &[arg("eps", OptValue::Num(-1e-8))]).0,
            "eps"
        );
        assert_eq!(
            range_err("adam", &[arg("weight_decay", OptValue::Num(-0.1))]).0,
            "weight_decay"
        );
        // AdamW's decay is always decoupled: the option is not torch's.
        match err(
            "adamw",
            &[arg("decoupled_weight_decay", OptValue::Bool(true))],
        ) {
            OptError::Unknown { name, valid, .. } => {
                assert_eq!(name, "decoupled_weight_decay");
                assert!(valid.contains(&"amsgrad"));
            }
            e => panic!("{e:?}"),
        }
        for skipped in ["foreach", "fused", "capturable", "differentiable"] {
            match err("adam", &[arg(skipped, OptValue::Bool(false))]) {
                OptError::Unknown { name, .. } => assert_eq!(name, skipped),
                e => panic!("{e:?}"),
            }
        }
        match err("adam", &[arg("lr", OptValue::Bool(true))]) {
            OptError::Type { name, .. } => assert_eq!(name, "lr"),
            e => panic!("{e:?}"),
        }
    }
}
