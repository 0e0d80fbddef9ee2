//! Adam and AdamW (torch.optim.Adam, torch.optim.AdamW), following torch's
//! single-tensor code path operation by operation. AdamW is Adam with
//! decoupled weight decay, exactly as current torch defines it.
//!
//! Also holds the few elementwise kernels and option checks that the other
//! Adam-family optimizers share (torch's `lerp`, `maximum`, the betas check).

use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// torch's CPU `lerp(start, end, weight)` with a scalar weight, with its
/// two-sided formula (it matters for rounding).
pub(super) fn lerp(start: f64, end: f64, weight: f64) -> f64 {
    if weight.abs() < 0.5 {
        start + weight * (end - start)
    } else {
        end - (end - start) * (1.0 - weight)
    }
}

/// torch's `maximum`: NaN wins, unlike `f64::max`.
pub(super) fn maximum(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// torch's `0 <= value` checks (lr, eps, weight_decay, ...); NaN fails too.
pub(super) fn check_nonneg(r: &OptReader, name: &str, value: f64) -> Result<(), OptError> {
    r.check(name, value >= 0.0, value, &format!("{name} must be >= 0"))
}

/// torch's check that each beta is in [0, 1).
pub(super) fn check_betas(r: &OptReader, betas: (f64, f64)) -> Result<(), OptError> {
    for (i, b) in [betas.0, betas.1].into_iter().enumerate() {
        r.check(
            "betas",
            (0.0..1.0).contains(&b),
            b,
            &format!("betas[{i}] must be in [0, 1)"),
        )?;
    }
    Ok(())
}

/// Adam's state: the moments of every free parameter, allocated once.
pub struct Adam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    amsgrad: bool,
    decoupled_weight_decay: bool,
    step: f64,
    grad: Vec<f64>,
    exp_avg: Vec<f64>,
    exp_avg_sq: Vec<f64>,
    /// Empty unless `amsgrad`.
    max_exp_avg_sq: Vec<f64>,
}

impl Adam {
    #[allow(clippy::too_many_arguments)]
    fn new(
        n: usize,
        lr: f64,
        betas: (f64, f64),
        eps: f64,
        weight_decay: f64,
        amsgrad: bool,
        decoupled_weight_decay: bool,
    ) -> Self {
        Adam {
            lr,
            beta1: betas.0,
            beta2: betas.1,
            eps,
            weight_decay,
            amsgrad,
            decoupled_weight_decay,
            step: 0.0,
            grad: vec![0.0; n],
            exp_avg: vec![0.0; n],
            exp_avg_sq: vec![0.0; n],
            max_exp_avg_sq: if amsgrad { vec![0.0; n] } else { Vec::new() },
        }
    }
}

/// Validation shared by Adam and AdamW, in torch's order.
fn validate(r: &OptReader, lr: f64, eps: f64, betas: (f64, f64), wd: f64) -> Result<(), OptError> {
    check_nonneg(r, "lr", lr)?;
    check_nonneg(r, "eps", eps)?;
    check_betas(r, betas)?;
    check_nonneg(r, "weight_decay", wd)
}

/// `adam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
/// amsgrad=false, maximize=false, decoupled_weight_decay=false)`.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let lr = r.num("lr", 1e-3)?;
    let betas = r.pair("betas", (0.9, 0.999))?;
    let eps = r.num("eps", 1e-8)?;
    let weight_decay = r.num("weight_decay", 0.0)?;
    let amsgrad = r.bool("amsgrad", false)?;
    // Applied by the caller, which negates the objective.
    let _maximize = r.bool("maximize", false)?;
    let decoupled = r.bool("decoupled_weight_decay", false)?;
    validate(r, lr, eps, betas, weight_decay)?;
    Ok(Box::new(Adam::new(
        layout.len(),
        lr,
        betas,
        eps,
        weight_decay,
        amsgrad,
        decoupled,
    )))
}

/// `adamw(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01,
/// amsgrad=false, maximize=false)`: Adam with decoupled weight decay.
pub fn build_adamw(
    r: &mut OptReader,
    layout: &ParamLayout,
) -> Result<Box<dyn Optimizer>, OptError> {
    let lr = r.num("lr", 1e-3)?;
    let betas = r.pair("betas", (0.9, 0.999))?;
    let eps = r.num("eps", 1e-8)?;
    let weight_decay = r.num("weight_decay", 1e-2)?;
    let amsgrad = r.bool("amsgrad", false)?;
    let _maximize = r.bool("maximize", false)?;
    validate(r, lr, eps, betas, weight_decay)?;
    Ok(Box::new(Adam::new(
        layout.len(),
        lr,
        betas,
        eps,
        weight_decay,
        amsgrad,
        true,
    )))
}

impl Optimizer for Adam {
    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        self.step += 1.0;
        let (beta1, beta2) = (self.beta1, self.beta2);
        let bias_correction1 = 1.0 - beta1.powf(self.step);
        let bias_correction2 = 1.0 - beta2.powf(self.step);
        let step_size = self.lr / bias_correction1;
        let bias_correction2_sqrt = bias_correction2.powf(0.5);
        let decay_factor = 1.0 - self.lr * self.weight_decay;
        for (i, p) in params.iter_mut().enumerate() {
            let mut g = self.grad[i];
            if self.weight_decay != 0.0 {
                if self.decoupled_weight_decay {
                    *p *= decay_factor;
                } else {
                    g += self.weight_decay * *p;
                }
            }
            let m = lerp(self.exp_avg[i], g, 1.0 - beta1);
            self.exp_avg[i] = m;
            let v = self.exp_avg_sq[i] * beta2 + (1.0 - beta2) * g * g;
            self.exp_avg_sq[i] = v;
            let second = if self.amsgrad {
                let vmax = maximum(self.max_exp_avg_sq[i], v);
                self.max_exp_avg_sq[i] = vmax;
                vmax
            } else {
                v
            };
            let denom = second.sqrt() / bias_correction2_sqrt + self.eps;
            *p += -step_size * m / denom;
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::follow_case;
    use super::super::{build, OptArg, OptError, OptValue, ParamLayout};

    fn arg(name: &str, value: OptValue) -> OptArg {
        OptArg {
            name: name.to_string(),
            value,
            span: 0..0,
        }
    }

    fn err(name: &str, args: &[OptArg]) -> OptError {
        match build(name, args, &ParamLayout::scalars(2)).unwrap() {
            Ok(_) => panic!("{name} accepted {args:?}"),
            Err(e) => e,
        }
    }

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
        let b = build("adam", &[], &ParamLayout::scalars(2))
            .unwrap()
            .unwrap();
        let names: Vec<_> = b.options.iter().map(|(n, _)| *n).collect();
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
        assert_eq!(b.options[0].1, OptValue::Num(1e-3));
        assert_eq!(
            b.options[1].1,
            OptValue::Tuple(vec![OptValue::Num(0.9), OptValue::Num(0.999)])
        );
        assert!(!b.maximize);
        let w = build("adamw", &[], &ParamLayout::scalars(2))
            .unwrap()
            .unwrap();
        let names: Vec<_> = w.options.iter().map(|(n, _)| *n).collect();
        assert_eq!(
            names,
            ["lr", "betas", "eps", "weight_decay", "amsgrad", "maximize"]
        );
        assert_eq!(w.options[3].1, OptValue::Num(0.01));
        let m = build(
            "adam",
            &[arg("maximize", OptValue::Bool(true))],
            &ParamLayout::scalars(2),
        )
        .unwrap()
        .unwrap();
        assert!(m.maximize);
    }

    #[test]
    fn validation() {
        match err("adam", &[arg("lr", OptValue::Num(-1.0))]) {
            OptError::Range { name, allowed, .. } => {
                assert_eq!(name, "lr");
                assert_eq!(allowed, "lr must be >= 0");
            }
            e => panic!("{e:?}"),
        }
        let bad = OptValue::Tuple(vec![OptValue::Num(0.9), OptValue::Num(1.0)]);
        match err("adamw", &[arg("betas", bad)]) {
            OptError::Range { name, allowed, .. } => {
                assert_eq!(name, "betas");
                assert_eq!(allowed, "betas[1] must be in [0, 1)");
            }
            e => panic!("{e:?}"),
        }
        match err("adam", &[arg("eps", OptValue::Num(-1e-8))]) {
            OptError::Range { name, .. } => assert_eq!(name, "eps"),
            e => panic!("{e:?}"),
        }
        match err("adam", &[arg("weight_decay", OptValue::Num(-0.1))]) {
            OptError::Range { name, .. } => assert_eq!(name, "weight_decay"),
            e => panic!("{e:?}"),
        }
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
