//! Adadelta (torch.optim.Adadelta): running averages of squared gradients
//! and of squared updates (`acc_delta`), following torch's single-tensor
//! code path.

use super::adam::check_nonneg;
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

/// `adadelta(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=false)`.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let lr = r.num("lr", 1.0)?;
    let rho = r.num("rho", 0.9)?;
    let eps = r.num("eps", 1e-6)?;
    let weight_decay = r.num("weight_decay", 0.0)?;
    // Applied by the caller, which negates the objective.
    let _maximize = r.bool("maximize", false)?;
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
    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        let rho = self.rho;
        for (i, p) in params.iter_mut().enumerate() {
            let mut g = self.grad[i];
            if self.weight_decay != 0.0 {
                g += self.weight_decay * *p;
            }
            let sq = self.square_avg[i] * rho + (1.0 - rho) * g * g;
            self.square_avg[i] = sq;
            let std = (sq + self.eps).sqrt();
            let delta = (self.acc_delta[i] + self.eps).sqrt() / std * g;
            self.acc_delta[i] = self.acc_delta[i] * rho + (1.0 - rho) * delta * delta;
            *p += -self.lr * delta;
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
        follow_case("adadelta-default");
        follow_case("adadelta-rho");
    }

    #[test]
    fn options_in_torch_order() {
        let b = build("adadelta", &[], &ParamLayout::scalars(2))
            .unwrap()
            .unwrap();
        assert_eq!(
            b.options,
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
        let l = ParamLayout::scalars(2);
        for rho in [-0.1, 1.5] {
            match build("adadelta", &[arg("rho", OptValue::Num(rho))], &l).unwrap() {
                Err(OptError::Range { name, allowed, .. }) => {
                    assert_eq!(name, "rho");
                    assert_eq!(allowed, "rho must be in [0, 1]");
                }
                Err(e) => panic!("{e:?}"),
                Ok(_) => panic!("accepted"),
            }
        }
        assert!(build("adadelta", &[arg("rho", OptValue::Num(1.0))], &l)
            .unwrap()
            .is_ok());
    }
}
