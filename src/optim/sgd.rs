//! SGD (torch.optim.SGD): plain gradient descent with optional momentum,
//! dampening, Nesterov momentum and L2 weight decay, following torch's
//! single-tensor code path.

use super::common::{check_all_nonneg, l2_decay};
use super::{Closure, MomentumKind, OptError, OptReader, Optimizer, ParamLayout};

/// SGD's state: the momentum buffer (torch starts it at the first gradient).
pub struct Sgd {
    lr: f64,
    momentum: f64,
    dampening: f64,
    weight_decay: f64,
    nesterov: bool,
    /// Whether the momentum buffer holds a value yet (torch's `None`).
    has_buf: bool,
    grad: Vec<f64>,
    buf: Vec<f64>,
}

optim_config! {
    /// `sgd(...)`'s options with torch.optim.SGD's defaults.
    pub struct SgdConfig {
        lr: f64 = 1e-3,
        momentum: f64 = 0.0,
        dampening: f64 = 0.0,
        weight_decay: f64 = 0.0,
        nesterov: bool = false,
        /// Applied by the caller, which negates the objective.
        maximize: bool = false,
    }
}

/// Reads `sgd(...)`, validates it as torch does, allocates the state.
pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError> {
    let SgdConfig {
        lr,
        momentum,
        dampening,
        weight_decay,
        nesterov,
        maximize: _,
    } = SgdConfig::read(r)?;
    check_all_nonneg(
        r,
        &[
            ("lr", lr),
            ("momentum", momentum),
            ("weight_decay", weight_decay),
        ],
    )?;
    r.check(
        "nesterov",
        !nesterov || (momentum > 0.0 && dampening == 0.0),
        nesterov,
        "nesterov requires momentum > 0 and dampening = 0",
    )?;
    let n = layout.len();
    Ok(Box::new(Sgd {
        lr,
        momentum,
        dampening,
        weight_decay,
        nesterov,
        has_buf: false,
        grad: vec![0.0; n],
        buf: if momentum != 0.0 {
            vec![0.0; n]
        } else {
            Vec::new()
        },
    }))
}

impl Optimizer for Sgd {
    lr_field!(lr);

    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        Some((MomentumKind::Momentum, self.momentum))
    }

    /// A schedule that turns momentum on gets a buffer (started at the
    /// next gradient, as torch starts a missing one).
    fn set_momentum(&mut self, value: f64) {
        self.momentum = value;
        if value != 0.0 && self.buf.is_empty() {
            self.buf = vec![0.0; self.grad.len()];
            self.has_buf = false;
        }
    }

    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64 {
        let loss = closure(params, &mut self.grad);
        let first = !self.has_buf;
        self.has_buf = true;
        for (i, p) in params.iter_mut().enumerate() {
            let mut g = l2_decay(self.grad[i], self.weight_decay, *p);
            if self.momentum != 0.0 {
                let b = if first {
                    g
                } else {
                    self.buf[i] * self.momentum + (1.0 - self.dampening) * g
                };
                self.buf[i] = b;
                g = if self.nesterov {
                    g + self.momentum * b
                } else {
                    b
                };
            }
            *p += -self.lr * g;
        }
        loss
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{arg, defaults, err, follow_case, range_err};
    use super::super::{OptError, OptReader, OptValue};
    use super::SgdConfig;

    #[test]
    fn the_config_table_reads_options_over_torchs_defaults() {
        let d = SgdConfig::default();
        assert_eq!(
            (d.lr, d.momentum, d.nesterov, d.maximize),
            (1e-3, 0.0, false, false)
        );
        let args = [
            arg("momentum", OptValue::Num(0.9)),
            arg("lr", OptValue::Num(0.5)),
        ];
        let mut r = OptReader::new("sgd", &args).unwrap();
        let c = SgdConfig::read(&mut r).unwrap();
        assert_eq!(
            c,
            SgdConfig {
                lr: 0.5,
                momentum: 0.9,
                ..SgdConfig::default()
            }
        );
        // every option resolved, in the table's (torch's) order
        let names: Vec<_> = r.finish().unwrap().into_iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "lr",
                "momentum",
                "dampening",
                "weight_decay",
                "nesterov",
                "maximize"
            ]
        );
        // an ill-typed option keeps its diagnostic
        let bad = [arg("nesterov", OptValue::Num(1.0))];
        let mut r = OptReader::new("sgd", &bad).unwrap();
        match SgdConfig::read(&mut r) {
            Err(OptError::Type { name, expected, .. }) => {
                assert_eq!(
                    (name.as_str(), expected.as_str()),
                    ("nesterov", "true or false")
                )
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reference_cases() {
        for id in ["sgd-plain", "sgd-nesterov", "sgd-dampening-wd"] {
            follow_case(id);
        }
    }

    #[test]
    fn options_in_torch_order() {
        assert_eq!(
            defaults("sgd"),
            vec![
                ("lr", OptValue::Num(1e-3)),
                ("momentum", OptValue::Num(0.0)),
                ("dampening", OptValue::Num(0.0)),
                ("weight_decay", OptValue::Num(0.0)),
                ("nesterov", OptValue::Bool(false)),
                ("maximize", OptValue::Bool(false)),
            ]
        );
    }

    #[test]
    fn validation() {
        let (name, allowed) = range_err("sgd", &[arg("lr", OptValue::Num(-0.1))]);
        assert_eq!(name, "lr");
        assert_eq!(allowed, "lr must be >= 0");
        assert_eq!(
            range_err("sgd", &[arg("momentum", OptValue::Num(-0.5))]).0,
            "momentum"
        );
        let (name, allowed) = range_err("sgd", &[arg("nesterov", OptValue::Bool(true))]);
        assert_eq!(name, "nesterov");
        assert!(allowed.contains("momentum > 0"));
        let damp = [
            arg("momentum", OptValue::Num(0.9)),
            arg("dampening", OptValue::Num(0.1)),
            arg("nesterov", OptValue::Bool(true)),
        ];
        assert_eq!(range_err("sgd", &damp).0, "nesterov");
        match err("sgd", &[arg("betas", OptValue::Num(0.9))]) {
            OptError::Unknown { name, valid, .. } => {
                assert_eq!(name, "betas");
                assert_eq!(valid[0], "lr");
                assert!(valid.contains(&"nesterov"));
            }
            e => panic!("{e:?}"),
        }
    }
}
