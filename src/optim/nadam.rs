//! NAdam (torch.optim.NAdam): Adam with Nesterov momentum and torch's
//! momentum-decay schedule (`mu_t`, and its running product), optionally
//! with decoupled weight decay (NAdamW), following torch's single-tensor
//! code path.

use super::adam::{check_betas, check_nonneg, lerp};
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// NAdam's state: the moments and the product of the momentum schedule.
pub struct NAdam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    momentum_decay: f64,
    decoupled_weight_decay: bool,
    step: f64,
    /// torch keeps one per parameter; they are all equal here.
    mu_product: f64,
    grad: Vec<f64>,
    exp_avg: Vec<f64>,
    exp_avg_sq: Vec<f64>,
}

/// `nadam(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
/// momentum_decay=4e-3, decoupled_weight_decay=false, maximize=false)`.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let lr = r.num("lr", 2e-3)?;
    let betas = r.pair("betas", (0.9, 0.999))?;
    let eps = r.num("eps", 1e-8)?;
    let weight_decay = r.num("weight_decay", 0.0)?;
    let momentum_decay = r.num("momentum_decay", 4e-3)?;
    let decoupled_weight_decay = r.bool("decoupled_weight_decay", false)?;
    // Applied by the caller, which negates the objective.
    let _maximize = r.bool("maximize", false)?;
    check_nonneg(r, "lr", lr)?;
    check_nonneg(r, "eps", eps)?;
    check_betas(r, betas)?;
    check_nonneg(r, "weight_decay", weight_decay)?;
    check_nonneg(r, "momentum_decay", momentum_decay)?;
    let n = layout.len();
    Ok(Box::new(NAdam {
        lr,
        beta1: betas.0,
        beta2: betas.1,
        eps,
        weight_decay,
        momentum_decay,
        decoupled_weight_decay,
        step: 0.0,
        mu_product: 1.0,
        grad: vec![0.0; n],
        exp_avg: vec![0.0; n],
        exp_avg_sq: vec![0.0; n],
    }))
}

impl Optimizer for NAdam {
    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        self.step += 1.0;
        let (lr, beta1, beta2, t) = (self.lr, self.beta1, self.beta2, self.step);
        let bias_correction2 = 1.0 - beta2.powf(t);
        let mu = beta1 * (1.0 - 0.5 * 0.96f64.powf(t * self.momentum_decay));
        let mu_next = beta1 * (1.0 - 0.5 * 0.96f64.powf((t + 1.0) * self.momentum_decay));
        self.mu_product *= mu;
        let mu_product_next = self.mu_product * mu_next;
        let grad_coef = -lr * (1.0 - mu) / (1.0 - self.mu_product);
        let avg_coef = (-lr * mu_next) / (1.0 - mu_product_next);
        let decay_factor = 1.0 - lr * self.weight_decay;
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
            let denom = (v / bias_correction2).sqrt() + self.eps;
            *p += grad_coef * g / denom;
            *p += avg_coef * m / denom;
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

    #[test]
    fn reference_cases() {
        follow_case("nadam");
        follow_case("nadam-decoupled");
    }

    #[test]
    fn options_in_torch_order() {
        let b = build("nadam", &[], &ParamLayout::scalars(2))
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
                "momentum_decay",
                "decoupled_weight_decay",
                "maximize"
            ]
        );
        assert_eq!(b.options[0].1, OptValue::Num(2e-3));
        assert_eq!(b.options[4].1, OptValue::Num(4e-3));
    }

    #[test]
    fn validation() {
        let l = ParamLayout::scalars(2);
        match build("nadam", &[arg("momentum_decay", OptValue::Num(-1.0))], &l).unwrap() {
            Err(OptError::Range { name, allowed, .. }) => {
                assert_eq!(name, "momentum_decay");
                assert_eq!(allowed, "momentum_decay must be >= 0");
            }
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("accepted"),
        }
        let bad = OptValue::Tuple(vec![OptValue::Num(1.0), OptValue::Num(0.9)]);
        match build("nadam", &[arg("betas", bad)], &l).unwrap() {
            Err(OptError::Range { name, .. }) => assert_eq!(name, "betas"),
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("accepted"),
        }
    }
}
