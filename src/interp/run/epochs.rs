//! `for N epochs [batch B] over D, ... [shuffle] [drop_last] [watch NAME, ...]`
//! (SPEC 5.2): checks the data names, plans the batches as torch's
//! DataLoader does (in order, the last batch ragged or dropped, `shuffle`
//! drawing a new order each epoch from the script's generator), feeds each
//! batch's rows into the tape's input slots, and keeps the epoch table
//! (mean batch loss, watched values, lr) as an observer of the step loop.

use crate::diagnostics::{Diag, Span};
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

fn whole(s: &Session, e: &crate::syntax::ast::Expr, what: &str, max: f64) -> Result<usize, Diag> {
    let v = s.const_scalar(e)?;
    if !(v >= 1.0 && v.fract() == 0.0 && v <= max) {
        return Err(Diag::error(
            "E0307",
            format!("{what} must be a whole number from 1 to {max:e}"),
        )
        .at(e.span.clone(), format!("this is {}", fmt_num(v))));
    }
    Ok(v as usize)
}

/// Checks `over`, `batch` and the epoch count, and plans the batches.
pub(super) fn plan(s: &Session, e: &EpochSpec) -> Result<Plan, Diag> {
    let epochs = whole(s, &e.count, "the number of epochs", 1e9)?;
    if e.over.is_empty() {
        return Err(Diag::error("E0307", "`for N epochs` needs the data to go through")
            .at(e.span.clone(), "no `over`")
            .note("help: name the data, e.g. `for 10 epochs batch 32 over xs, ys`; without data, use `for N steps`"));
    }
    let mut data: Vec<DataName> = Vec::new();
    for name in &e.over {
        if data.iter().any(|d| d.name == name.name) {
            return Err(Diag::error(
                "E0307",
                format!("`{}` is named twice after `over`", name.name),
            )
            .at(name.span.clone(), "again here"));
        }
        let value = data_value(s, &name.name, &name.span)?;
        let Some(&rows) = value.shape.first() else {
            return Err(Diag::error("E0307", format!("`{}` is a single number: there are no rows to batch", name.name))
                .at(name.span.clone(), "a scalar")
                .note("help: `over` takes vectors, matrices or csv tables, batched along their first axis"));
        };
        if let Some(first) = data.first() {
            let n0 = first.value.shape[0];
            if rows != n0 {
                return Err(Diag::error("E0307", "the data after `over` have different lengths")
                    .at(name.span.clone(), format!("{rows} rows (shape {})", shape_str(&value.shape)))
                    .note(format!("`{}` has {n0} rows; every name after `over` must have the same number along its first axis", first.name)));
            }
        }
        let row = value.shape[1..].iter().product();
        data.push(DataName {
            name: name.name.clone(),
            value,
            row,
        });
    }
    let n = data[0].value.shape[0];
    if n == 0 {
        return Err(
            Diag::error("E0307", "the data have no rows").at(e.over[0].span.clone(), "empty")
        );
    }
    let batch = match &e.batch {
        None => n,
        Some(b) => {
            let size = whole(s, b, "the batch size", 1e9)?;
            if size > n && e.drop_last {
                return Err(Diag::error("E0307", format!("drop_last with batch {size} leaves no batch of the {n} rows"))
                    .at(b.span.clone(), format!("more than {n} rows"))
                    .note("help: a batch larger than the data is one batch of all of it, unless drop_last drops it: leave out drop_last or use a smaller batch"));
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
        return Err(Diag::error(
            "E0307",
            format!("{epochs} epochs of {per_epoch} steps are more than 1e9 steps"),
        )
        .at(e.count.span.clone(), "too many epochs"));
    }
    for w in &e.watch {
        match s.defs.get(&w.name) {
            Some(Def::Let(_)) | Some(Def::Data(_)) => {}
            _ if s.param_index(&w.name).is_some() => {}
            _ => {
                return Err(crate::interp::names::unknown_name(
                    &w.name,
                    w.span.clone(),
                    s,
                    "let name",
                ));
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

/// The full value of a data name, or why it cannot be batched.
fn data_value(s: &Session, name: &str, span: &Span) -> Result<Tensor, Diag> {
    let help = "help: `over` takes data: a `let` of constant values or a csv table";
    if s.param_index(name).is_some() {
        return Err(
            Diag::error("E0307", format!("`{name}` is a parameter, not data"))
                .at(span.clone(), "a parameter")
                .note(help),
        );
    }
    match s.defs.get(name) {
        Some(Def::Data(t)) => Ok(t.clone()),
        Some(Def::Let(_)) => Err(Diag::error(
            "E0307",
            format!("`{name}` depends on a parameter, so it is not data"),
        )
        .at(span.clone(), "changes as the parameters move")
        .note(help)),
        Some(Def::Fn(..)) => Err(
            Diag::error("E0307", format!("`{name}` is a function, not data"))
                .at(span.clone(), "a function")
                .note(help),
        ),
        None => Err(crate::interp::names::unknown_name(
            name,
            span.clone(),
            s,
            "data name",
        )),
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
