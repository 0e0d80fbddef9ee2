//! Adamax (torch.optim.Adamax): Adam with the infinity norm in place of the
//! second moment, following torch's single-tensor code path.

use super::adam::{check_betas, check_nonneg, lerp, maximum};
use super::{Closure, OptError, OptReader, Optimizer, ParamLayout};

/// Adamax's state: first moment and exponentially weighted infinity norm.
pub struct Adamax {
    lr: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    step: f64,
    grad: Vec<f64>,
    exp_avg: Vec<f64>,
    exp_inf: Vec<f64>,
}

/// `adamax(lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
/// maximize=false)`.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let lr = r.num("lr", 2e-3)?;
    let betas = r.pair("betas", (0.9, 0.999))?;
    let eps = r.num("eps", 1e-8)?;
    let weight_decay = r.num("weight_decay", 0.0)?;
    // Applied by the caller, which negates the objective.
    let _maximize = r.bool("maximize", false)?;
    check_nonneg(r, "lr", lr)?;
    check_nonneg(r, "eps", eps)?;
    check_betas(r, betas)?;
    check_nonneg(r, "weight_decay", weight_decay)?;
    let n = layout.len();
    Ok(Box::new(Adamax {
        lr,
        beta1: betas.0,
        beta2: betas.1,
        eps,
        weight_decay,
        step: 0.0,
        grad: vec![0.0; n],
        exp_avg: vec![0.0; n],
        exp_inf: vec![0.0; n],
    }))
}

impl Optimizer for Adamax {
    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        self.step += 1.0;
        let clr = self.lr / (1.0 - self.beta1.powf(self.step));
        for (i, p) in params.iter_mut().enumerate() {
            let mut g = self.grad[i];
            if self.weight_decay != 0.0 {
                g += self.weight_decay * *p;
            }
            let m = lerp(self.exp_avg[i], g, 1.0 - self.beta1);
            self.exp_avg[i] = m;
            let u = maximum(self.exp_inf[i] * self.beta2, g.abs() + self.eps);
            self.exp_inf[i] = u;
            *p += -clr * m / u;
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
        follow_case("adamax");
    }

    #[test]
    fn options_in_torch_order() {
        let b = build("adamax", &[], &ParamLayout::scalars(2))
            .unwrap()
            .unwrap();
        let names: Vec<_> = b.options.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["lr", "betas", "eps", "weight_decay", "maximize"]);
        assert_eq!(b.options[0].1, OptValue::Num(2e-3));
    }

    #[test]
    fn validation() {
        let bad = OptValue::Tuple(vec![OptValue::Num(-0.1), OptValue::Num(0.9)]);
        match build("adamax", &[arg("betas", bad)], &ParamLayout::scalars(2)).unwrap() {
            Err(OptError::Range { name, allowed, .. }) => {
                assert_eq!(name, "betas");
                assert_eq!(allowed, "betas[0] must be in [0, 1)");
            }
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("accepted"),
        }
        match build(
            "adamax",
            &[arg("lr", OptValue::Num(-1.0))],
            &ParamLayout::scalars(2),
        )
        .unwrap()
        {
            Err(OptError::Range { name, .. }) => assert_eq!(name, "lr"),
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("accepted"),
        }
    }
}
