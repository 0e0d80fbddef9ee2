//! `for N epochs [batch B] over D, ... [shuffle] [drop_last] [watch NAME, ...]`
//! (SPEC 5.2): checks the data names, plans the batches as torch's
//! DataLoader does (in order, the last batch ragged or dropped, `shuffle`
//! drawing a new order each epoch from the script's generator), feeds each
//! batch's rows into the tape's input slots, and keeps the epoch table
//! (mean batch loss, watched values, lr) as an observer of the step loop.

use crate::diagnostics::{Code, Diag, IntoDiagnostic, Span};
use crate::graph::Tape;
use crate::interp::{Def, Session};
use crate::optim::run::{Control, Observer, StepInfo};
use crate::optim::schedule::Schedule;
use crate::optim::Optimizer;
use crate::syntax::ast::EpochSpec;
use crate::tensor::{fmt_num, shape_str, Tensor};

/// One data name of `over`, with its full value.
pub(super) struct DataName {
    pub name: String,
    pub value: Tensor,
    /// Elements per row (the product of the shape after the first axis).
    pub row: usize,
}

/// The batches of every epoch.
pub(super) struct Plan {
    pub epochs: usize,
    /// Rows of the data (n).
    pub n: usize,
    /// Rows of a full batch (at most n).
    pub batch: usize,
    /// Rows of the last batch when it is smaller (not dropped).
    pub ragged: Option<usize>,
    pub per_epoch: usize,
    pub shuffle: bool,
    pub data: Vec<DataName>,
}

impl Plan {
    pub fn steps(&self) -> usize {
        self.epochs * self.per_epoch
    }

    /// (first row in the epoch's order, rows) of step k's batch.
    pub fn batch_of(&self, k: usize) -> (usize, usize) {
        let b = k % self.per_epoch;
        let start = b * self.batch;
        match self.ragged {
            Some(r) if b + 1 == self.per_epoch => (start, r),
            _ => (start, self.batch),
        }
    }
}

fn whole(
    s: &Session,
    e: &crate::syntax::ast::Expr,
    what: &'static str,
    max: f64,
) -> Result<usize, Diag> {
    let v = s.const_scalar(e)?;
    if !(v >= 1.0 && v.fract() == 0.0 && v <= max) {
        return Err(EpochError::NotWhole {
            what,
            max,
            value: v,
            span: e.span.clone(),
        }
        .into());
    }
    Ok(v as usize)
}

/// Checks `over`, `batch` and the epoch count, and plans the batches.
pub(super) fn plan(s: &Session, e: &EpochSpec) -> Result<Plan, Diag> {
    let epochs = whole(s, &e.count, "the number of epochs", 1e9)?;
    let data = data_names(s, e)?;
    let n = data[0].value.shape[0];
    if n == 0 {
        return Err(EpochError::NoRows {
            span: e.over[0].span.clone(),
        }
        .into());
    }
    let batch = match &e.batch {
        None => n,
        Some(b) => {
            let size = whole(s, b, "the batch size", 1e9)?;
            if size > n && e.drop_last {
                return Err(EpochError::DropsAll {
                    size,
                    n,
                    span: b.span.clone(),
                }
                .into());
            }
            // A batch larger than the data is one batch of all of it, as in torch.
            size.min(n)
        }
    };
    let rest = n % batch;
    let (per_epoch, ragged) = if e.drop_last || rest == 0 {
        (n / batch, None)
    } else {
        (n / batch + 1, Some(rest))
    };
    if epochs.saturating_mul(per_epoch) > 1_000_000_000 {
        return Err(EpochError::TooManySteps {
            epochs,
            per_epoch,
            span: e.count.span.clone(),
        }
        .into());
    }
    for w in &e.watch {
        match s.defs.get(&w.name) {
            Some(Def::Let(_)) | Some(Def::Data(_)) => {}
            _ if s.param_index(&w.name).is_some() => {}
            _ => {
                let span = w.span.clone();
                return Err(crate::interp::names::unknown_name(&w.name, span, s).into());
            }
        }
    }
    Ok(Plan {
        epochs,
        n,
        batch,
        ragged,
        per_epoch,
        shuffle: e.shuffle,
        data,
    })
}

/// The names after `over`: each data (not a parameter, function or scalar),
/// named once, all with the same number of rows.
fn data_names(s: &Session, e: &EpochSpec) -> Result<Vec<DataName>, Diag> {
    if e.over.is_empty() {
        return Err(EpochError::NoData {
            span: e.span.clone(),
        }
        .into());
    }
    let mut data: Vec<DataName> = Vec::new();
    for name in &e.over {
        let (n, span) = (name.name.clone(), name.span.clone());
        if data.iter().any(|d| d.name == name.name) {
            return Err(EpochError::NamedTwice { name: n, span }.into());
        }
        let value = data_value(s, &name.name, &name.span)?;
        let Some(&rows) = value.shape.first() else {
            return Err(EpochError::Scalar { name: n, span }.into());
        };
        if let Some(first) = data.first().filter(|f| f.value.shape[0] != rows) {
            return Err(EpochError::Lengths {
                rows,
                shape: shape_str(&value.shape),
                first: first.name.clone(),
                first_rows: first.value.shape[0],
                span,
            }
            .into());
        }
        let row = value.shape[1..].iter().product();
        data.push(DataName {
            name: n,
            value,
            row,
        });
    }
    Ok(data)
}

/// The full value of a data name, or why it cannot be batched.
fn data_value(s: &Session, name: &str, span: &Span) -> Result<Tensor, Diag> {
    let not_data = |kind| {
        Err(EpochError::NotData {
            name: name.to_string(),
            kind,
            span: span.clone(),
        }
        .into())
    };
    if s.param_index(name).is_some() {
        return not_data(NotData::Parameter);
    }
    match s.defs.get(name) {
        Some(Def::Data(t)) => Ok(t.clone()),
        Some(Def::Let(_)) => not_data(NotData::DependsOnParameter),
        Some(Def::Fn(..)) => not_data(NotData::Function),
        None => Err(crate::interp::names::unknown_name(name, span.clone(), s).into()),
    }
}

/// What a name after `over` is instead of data.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum NotData {
    Parameter,
    /// A `let` that depends on a parameter.
    DependsOnParameter,
    Function,
}

/// A mistake in `for N epochs ... over ... watch ...` (E0307).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub(super) enum EpochError {
    /// The epoch count or batch size (`what`) is not a whole number in 1..=max.
    #[error("{what} must be a whole number from 1 to {max:e}")]
    NotWhole {
        what: &'static str,
        max: f64,
        value: f64,
        span: Span,
    },
    #[error("`for N epochs` needs the data to go through")]
    NoData { span: Span },
    #[error("`{name}` is named twice after `over`")]
    NamedTwice { name: String, span: Span },
    #[error("`{name}` is a single number: there are no rows to batch")]
    Scalar { name: String, span: Span },
    /// `rows` (of `shape`) where `first`, the first name, has `first_rows`.
    #[error("the data after `over` have different lengths")]
    Lengths {
        rows: usize,
        shape: String,
        first: String,
        first_rows: usize,
        span: Span,
    },
    #[error("the data have no rows")]
    NoRows { span: Span },
    #[error("drop_last with batch {size} leaves no batch of the {n} rows")]
    DropsAll { size: usize, n: usize, span: Span },
    #[error("{epochs} epochs of {per_epoch} steps are more than 1e9 steps")]
    TooManySteps {
        epochs: usize,
        per_epoch: usize,
        span: Span,
    },
    #[error("{}", not_data_message(name, *kind))]
    NotData {
        name: String,
        kind: NotData,
        span: Span,
    },
    #[error("`watch {name}`: a watched value must be a number")]
    WatchNotScalar {
        name: String,
        shape: String,
        span: Span,
    },
}

fn not_data_message(name: &str, kind: NotData) -> String {
    match kind {
        NotData::Parameter => format!("`{name}` is a parameter, not data"),
        NotData::DependsOnParameter => {
            format!("`{name}` depends on a parameter, so it is not data")
        }
        NotData::Function => format!("`{name}` is a function, not data"),
    }
}

impl IntoDiagnostic for EpochError {
    fn into_diagnostic(self) -> Diag {
        let d = Diag::error(Code::E0307, self.to_string());
        match self {
            EpochError::NotWhole { value, span, .. } => {
                d.at(span, format!("this is {}", fmt_num(value)))
            }
            EpochError::NoData { span } => d.at(span, "no `over`").note(
                "help: name the data, e.g. `for 10 epochs batch 32 over xs, ys`; without data, use `for N steps`",
            ),
            EpochError::NamedTwice { span, .. } => d.at(span, "again here"),
            EpochError::Scalar { span, .. } => d.at(span, "a scalar").note(
                "help: `over` takes vectors, matrices or csv tables, batched along their first axis",
            ),
            EpochError::Lengths {
                rows,
                shape,
                first,
                first_rows,
                span,
            } => d
                .at(span, format!("{rows} rows (shape {shape})"))
                .note(format!("`{first}` has {first_rows} rows; every name after `over` must have the same number along its first axis")),
            EpochError::NoRows { span } => d.at(span, "empty"),
            EpochError::DropsAll { n, span, .. } => d
                .at(span, format!("more than {n} rows"))
                .note("help: a batch larger than the data is one batch of all of it, unless drop_last drops it: leave out drop_last or use a smaller batch"),
            EpochError::TooManySteps { span, .. } => d.at(span, "too many epochs"),
            EpochError::NotData { kind, span, .. } => d
                .at(
                    span,
                    match kind {
                        NotData::Parameter => "a parameter",
                        NotData::DependsOnParameter => "changes as the parameters move",
                        NotData::Function => "a function",
                    },
                )
                .note("help: `over` takes data: a `let` of constant values or a csv table"),
            EpochError::WatchNotScalar { shape, span, .. } => d
                .at(span, format!("shape {shape}"))
                .note("help: watch a scalar such as a validation loss, e.g. `let val_loss = mean((f(xv) - yv)^2);`"),
        }
    }
}

/// A `watch` name's tape over the full data, with where its parameters go.
pub(super) struct Watched {
    pub name: String,
    pub tape: Tape,
    /// (tape offset, flat range in x) of each free parameter it reads.
    pub locs: Vec<(usize, std::ops::Range<usize>)>,
    pub values: Vec<f64>,
}

/// The epoch table as the run goes: mean batch loss, watched values, lr.
pub(super) struct EpochLog<'a> {
    pub per_epoch: usize,
    sum: f64,
    pub losses: Vec<f64>,
    /// The lr of each epoch's first step.
    pub lrs: Vec<f64>,
    pub watched: Vec<Watched>,
    /// The schedule, when it steps per epoch.
    pub schedule: Option<&'a mut Schedule>,
}

impl<'a> EpochLog<'a> {
    pub fn new(
        per_epoch: usize,
        watched: Vec<Watched>,
        schedule: Option<&'a mut Schedule>,
    ) -> Self {
        EpochLog {
            per_epoch,
            sum: 0.0,
            losses: Vec::new(),
            lrs: Vec::new(),
            watched,
            schedule,
        }
    }
}

impl Observer for EpochLog<'_> {
    fn before_step(&mut self, k: usize, _x: &[f64], opt: &dyn Optimizer) {
        if k.is_multiple_of(self.per_epoch) {
            self.lrs.push(opt.lr());
        }
    }

    fn after_step(&mut self, s: &StepInfo<'_>, opt: &mut dyn Optimizer) -> Control {
        self.sum += s.loss;
        if !(s.k + 1).is_multiple_of(self.per_epoch) {
            return Control::Continue;
        }
        let mean = self.sum / self.per_epoch as f64;
        self.sum = 0.0;
        self.losses.push(mean);
        for w in &mut self.watched {
            for (off, r) in &w.locs {
                w.tape.set_scalars_range(*off, &s.after[r.clone()]);
            }
            w.tape.forward();
            w.values.push(w.tape.output(0)[0]);
        }
        if let Some(sched) = self.schedule.as_deref_mut() {
            // reduce_lr_on_plateau watches the first watched value, or the epoch's mean loss
            let metric = self
                .watched
                .first()
                .and_then(|w| w.values.last().copied())
                .unwrap_or(mean);
            sched.step(metric);
            sched.apply(opt);
        }
        Control::Continue
    }
}

/// Rows of the epoch table: all of a short run, else the first, every tenth and the last.
pub(super) fn table_rows(epochs: usize) -> Vec<usize> {
    if epochs <= 20 {
        return (0..epochs).collect();
    }
    (0..epochs)
        .filter(|e| *e == 0 || (e + 1) % 10 == 0 || e + 1 == epochs)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::interp::testutil::first_error;

    /// The code, message and primary label's text of the error that stops `src`.
    fn err_at(src: &str) -> (Code, String, &str) {
        let d = first_error(src);
        (d.code, d.message, &src[d.labels[0].0.clone()])
    }

    #[test]
    fn the_data_names_are_checked_where_they_are_named() {
        let src = "param a = 0; let xs = [1, 2]; minimize sum((a - xs)^2) with sgd for 2 epochs over xs, xs;";
        let (code, message, at) = err_at(src);
        assert_eq!((code, at), (Code::E0307, "xs"));
        assert_eq!(message, "`xs` is named twice after `over`");
        let src = "param a = 0; minimize a^2 with sgd for 2 epochs over a;";
        assert_eq!(err_at(src).1, "`a` is a parameter, not data");
        let src = "param a = 0; let xs = [1, 2, 3]; let ys = [1, 2];
            minimize sum(a * xs) + sum(a * ys) with sgd for 2 epochs over xs, ys;";
        let (_, message, at) = err_at(src);
        assert_eq!(
            (message.as_str(), at),
            ("the data after `over` have different lengths", "ys")
        );
    }

    #[test]
    fn counts_and_batches_must_be_whole_numbers_that_leave_a_batch() {
        let src =
            "param a = 0; let xs = [1, 2]; minimize sum((a - xs)^2) with sgd for 0 epochs over xs;";
        let (code, message, at) = err_at(src);
        assert_eq!((code, at), (Code::E0307, "0"));
        assert_eq!(
            message,
            "the number of epochs must be a whole number from 1 to 1e9"
        );
        let src = "param a = 0; let xs = [1, 2];
            minimize sum((a - xs)^2) with sgd for 1 epochs batch 5 over xs drop_last;";
        let (_, message, at) = err_at(src);
        assert_eq!(
            message,
            "drop_last with batch 5 leaves no batch of the 2 rows"
        );
        assert_eq!(at, "5");
    }

    #[test]
    fn not_data_says_what_the_name_is() {
        let e = |kind| EpochError::NotData {
            name: "f".into(),
            kind,
            span: 2..3,
        };
        let d = e(NotData::Function).into_diagnostic();
        assert_eq!(d.message, "`f` is a function, not data");
        assert_eq!(d.labels, [(2..3, "a function".to_string())]);
        let d = e(NotData::DependsOnParameter).into_diagnostic();
        assert_eq!(d.labels[0].1, "changes as the parameters move");
        let d = EpochError::WatchNotScalar {
            name: "v".into(),
            shape: "[2]".into(),
            span: 0..1,
        }
        .into_diagnostic();
        assert_eq!(d.message, "`watch v`: a watched value must be a number");
        assert_eq!(d.labels[0].1, "shape [2]");
    }
}
