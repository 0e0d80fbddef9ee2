//! RAdam (torch.optim.RAdam): Adam with the variance rectification term,
//! plain momentum SGD while the approximated SMA length `rho_t` is at most 5,
//! optionally with decoupled weight decay, following torch's single-tensor
//! code path.

use super::adam::{check_betas, check_nonneg, lerp};
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// RAdam's state: the two moments.
pub struct RAdam {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    decoupled_weight_decay: bool,
    step: f64,
    grad: Vec<f64>,
    exp_avg: Vec<f64>,
    exp_avg_sq: Vec<f64>,
}

/// `radam(lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
/// decoupled_weight_decay=false, maximize=false)`.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let lr = r.num("lr", 1e-3)?;
    let betas = r.pair("betas", (0.9, 0.999))?;
    let eps = r.num("eps", 1e-8)?;
    let weight_decay = r.num("weight_decay", 0.0)?;
    let decoupled_weight_decay = r.bool("decoupled_weight_decay", false)?;
    // Applied by the caller, which negates the objective.
    let _maximize = r.bool("maximize", false)?;
    check_nonneg(r, "lr", lr)?;
    check_nonneg(r, "eps", eps)?;
    check_betas(r, betas)?;
    check_nonneg(r, "weight_decay", weight_decay)?;
    let n = layout.len();
    Ok(Box::new(RAdam {
        lr,
        beta1: betas.0,
        beta2: betas.1,
        eps,
        weight_decay,
        decoupled_weight_decay,
        step: 0.0,
        grad: vec![0.0; n],
        exp_avg: vec![0.0; n],
        exp_avg_sq: vec![0.0; n],
    }))
}

impl Optimizer for RAdam {
    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        self.step += 1.0;
        let (lr, beta1, beta2, t) = (self.lr, self.beta1, self.beta2, self.step);
        let bias_correction1 = 1.0 - beta1.powf(t);
        let bias_correction2 = 1.0 - beta2.powf(t);
        let rho_inf = 2.0 / (1.0 - beta2) - 1.0;
        let rho_t = rho_inf - 2.0 * t * beta2.powf(t) / bias_correction2;
        let rectified = rho_t > 5.0;
        let rect = ((rho_t - 4.0) * (rho_t - 2.0) * rho_inf
            / ((rho_inf - 4.0) * (rho_inf - 2.0) * rho_t))
            .powf(0.5);
        let bc2_sqrt = bias_correction2.powf(0.5);
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
            let corrected = m / bias_correction1;
            if rectified {
                // torch's `float / tensor` is `tensor.reciprocal() * float`.
                let adaptive_lr = (1.0 / (v.sqrt() + self.eps)) * bc2_sqrt;
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
        follow_case("radam");
    }

    #[test]
    fn options_in_torch_order() {
        let b = build("radam", &[], &ParamLayout::scalars(2))
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
                "decoupled_weight_decay",
                "maximize"
            ]
        );
    }

    #[test]
    fn validation() {
        let l = ParamLayout::scalars(2);
        match build("radam", &[arg("weight_decay", OptValue::Num(-1.0))], &l).unwrap() {
            Err(OptError::Range { name, .. }) => assert_eq!(name, "weight_decay"),
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("accepted"),
        }
        match build("radam", &[arg("momentum", OptValue::Num(0.9))], &l).unwrap() {
            Err(OptError::Unknown { name, .. }) => assert_eq!(name, "momentum"),
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("accepted"),
        }
    }
}
