//! Step-based minimizers: the torch.optim suite, one file per optimizer
//! behind the one `Optimizer` trait of `api.rs`. Each optimizer module has
//! `pub fn build(r: &mut OptReader, layout: &ParamLayout) -> Result<Box<dyn Optimizer>, OptError>`
//! which reads its options into a typed config declared with
//! `optim_config!` (api.rs): one table per optimizer giving each option's
//! name, type and torch's default (the config's `Default`, the one place the
//! defaults are written), in torch's constructor order, so the resolved list
//! comes out in that order. It then validates them as torch does and
//! allocates its state once.
//!
//! `maximize` (the statement or torch's `maximize=True`) is applied by the
//! caller, which negates the objective and its gradient: torch's maximize
//! negates the gradient before anything else, and only LBFGS (which has no
//! maximize option) uses the loss value, so the two are the same.

#[macro_use]
mod api;
pub use api::*;
#[macro_use]
mod common;

pub mod adadelta;
pub mod adafactor;
pub mod adagrad;
pub mod adam;
pub mod adamax;
pub mod asgd;
pub mod lbfgs;
pub mod nadam;
pub mod radam;
pub mod rmsprop;
pub mod rprop;
pub mod run;
pub mod schedule;
pub mod sgd;
#[cfg(test)]
mod testutil;

type BuildFn = fn(&mut OptReader, &ParamLayout) -> Result<Box<dyn Optimizer>, OptError>;

/// Every optimizer name the language knows, in SPEC order.
pub const NAMES: &[&str] = &[
    "sgd",
    "adam",
    "adamw",
    "adamax",
    "nadam",
    "radam",
    "rmsprop",
    "adagrad",
    "adadelta",
    "rprop",
    "asgd",
    "lbfgs",
    "adafactor",
];

fn lookup(name: &str) -> Option<(&'static str, BuildFn)> {
    let f: BuildFn = match name {
        "sgd" => sgd::build,
        "adam" => adam::build,
        "adamw" => adam::build_adamw,
        "adamax" => adamax::build,
        "nadam" => nadam::build,
        "radam" => radam::build,
        "rmsprop" => rmsprop::build,
        "adagrad" => adagrad::build,
        "adadelta" => adadelta::build,
        "rprop" => rprop::build,
        "asgd" => asgd::build,
        "lbfgs" => lbfgs::build,
        "adafactor" => adafactor::build,
        _ => return None,
    };
    let name = NAMES.iter().copied().find(|n| *n == name)?;
    Some((name, f))
}

/// An optimizer ready to step, with its options resolved.
pub struct Built {
    pub optimizer: Box<dyn Optimizer>,
    /// Every option in torch's order, defaults filled in.
    pub options: Vec<(&'static str, OptValue)>,
    /// torch's `maximize=True` was given.
    pub maximize: bool,
}

/// Whether `name` is a step-based optimizer.
pub fn is_optimizer(name: &str) -> bool {
    NAMES.contains(&name)
}

/// Builds optimizer `name`. `None` when the name is not a torch optimizer;
/// `sparseadam` is an error that says why it does not apply.
pub fn build(name: &str, args: &[OptArg], layout: &ParamLayout) -> Option<Result<Built, OptError>> {
    if name == "sparseadam" {
        return Some(Err(OptError::Unsupported {
            message: "sparseadam needs sparse gradients, and losslang's gradients are dense"
                .to_string(),
            hint: "use `adam`, which is what SparseAdam computes on dense gradients".to_string(),
        }));
    }
    let (name, f) = lookup(name)?;
    Some((|| {
        let mut r = OptReader::new(name, args)?;
        let optimizer = f(&mut r, layout)?;
        let options = r.finish()?;
        let maximize = options
            .iter()
            .any(|(n, v)| *n == "maximize" && *v == OptValue::Bool(true));
        Ok(Built {
            optimizer,
            options,
            maximize,
        })
    })())
}
