//! Learning-rate schedules: torch.optim.lr_scheduler, number for number.
//!
//! torch's schedulers are mostly *recursive*: each `step()` computes the new
//! lr from the group's current lr (cosine annealing's chainable form, the
//! 1/factor undo of `ConstantLR`, ...), and constructing one already steps
//! it once (`_initial_step`) and writes the optimizer's param group. The
//! combinators depend on those side effects: `SequentialLR` resets the lr to
//! `initial_lr`, undoes one step of every child and re-runs the first
//! child's initial step; `ChainedScheduler` steps every child in turn on the
//! same group. To give torch's numbers, this module models the one param
//! group (`Group`: lr, `initial_lr`, momentum or beta1) and replays torch's
//! sequence of constructions and steps on it, node by node (`node.rs` holds
//! the simple schedulers, `cyclic.rs` CyclicLR and OneCycleLR). The caller
//! copies the group's lr (and momentum) into the optimizer after each
//! schedule step.
//!
//! Combinations that make no sense are refused here, where torch would
//! silently do something surprising or fail late: one_cycle_lr run past
//! its `total_steps`, `cycle_momentum` with an optimizer that has no
//! momentum (or SGD with `momentum=0`, which cycling would switch on),
//! milestones that do not increase, `T_max=0`.

mod cyclic;
mod node;
#[cfg(test)]
mod tests;

use super::{MomentumKind, OptArg, OptError, OptReader, OptValue, Optimizer, Span};
use node::{Kind, Node};

/// Every schedule name the language knows, in SPEC order.
pub const NAMES: &[&str] = &[
    "step_lr",
    "multi_step_lr",
    "constant_lr",
    "linear_lr",
    "exponential_lr",
    "polynomial_lr",
    "cosine_annealing_lr",
    "cosine_annealing_warm_restarts",
    "cyclic_lr",
    "one_cycle_lr",
    "reduce_lr_on_plateau",
    "lambda_lr",
    "multiplicative_lr",
    "sequential",
    "chained",
];

/// The options of each schedule, in torch's order (for "did you mean" and completion).
pub fn options(name: &str) -> &'static [&'static str] {
    match name {
        "step_lr" => &["step_size", "gamma"],
        "multi_step_lr" => &["milestones", "gamma"],
        "constant_lr" => &["factor", "total_iters"],
        "linear_lr" => &["start_factor", "end_factor", "total_iters"],
        "exponential_lr" => &["gamma"],
        "polynomial_lr" => &["total_iters", "power"],
        "cosine_annealing_lr" => &["T_max", "eta_min"],
        "cosine_annealing_warm_restarts" => &["T_0", "T_mult", "eta_min"],
        "cyclic_lr" => &[
            "base_lr",
            "max_lr",
            "step_size_up",
            "step_size_down",
            "mode",
            "gamma",
            "cycle_momentum",
            "base_momentum",
            "max_momentum",
        ],
        "one_cycle_lr" => &[
            "max_lr",
            "total_steps",
            "pct_start",
            "anneal_strategy",
            "cycle_momentum",
            "base_momentum",
            "max_momentum",
            "div_factor",
            "final_div_factor",
            "three_phase",
        ],
        "reduce_lr_on_plateau" => &[
            "mode",
            "factor",
            "patience",
            "threshold",
            "threshold_mode",
            "cooldown",
            "min_lr",
            "eps",
        ],
        "sequential" => &["milestones"],
        _ => &[],
    }
}

/// Schedules whose one positional argument is an expression in `epoch`.
pub fn takes_lambda(name: &str) -> bool {
    matches!(name, "lambda_lr" | "multiplicative_lr")
}

/// Schedules whose positional arguments are schedules.
pub fn is_combinator(name: &str) -> bool {
    matches!(name, "sequential" | "chained")
}

/// `lambda_lr`'s and `multiplicative_lr`'s function of the scheduler's count.
pub type LambdaFn = Box<dyn FnMut(f64) -> f64>;

/// A schedule as the script wrote it, with its expression (if any) already
/// made into a function by the interpreter.
pub struct SchedSpec {
    pub name: String,
    pub name_span: Span,
    /// The whole call, for errors about the schedule as a whole.
    pub span: Span,
    /// The named options.
    pub args: Vec<OptArg>,
    /// Positional schedules (sequential, chained).
    pub children: Vec<SchedSpec>,
    /// The positional expression of lambda_lr / multiplicative_lr, and its source text.
    pub lambda: Option<(LambdaFn, String)>,
}

/// Why a schedule was refused.
#[derive(Debug, thiserror::Error)]
pub enum SchedError {
    #[error(transparent)]
    Option(#[from] OptError),
    #[error("unknown schedule `{name}`")]
    Unknown { name: String, span: Span },
    /// A combination that makes no sense, with what is allowed.
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// A combination of schedule options that makes no sense: the message, the
/// label at `span` and what is allowed (the interpreter's diagnostic shows
/// these words as they are).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    pub message: String,
    pub span: Span,
    pub label: String,
    pub help: String,
}

impl SchedError {
    fn invalid(
        span: &Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: impl Into<String>,
    ) -> Self {
        SchedError::Invalid(Invalid {
            message: message.into(),
            span: span.clone(),
            label: label.into(),
            help: help.into(),
        })
    }
}

/// What a schedule needs to know about its run.
#[derive(Clone, Copy, Debug)]
pub struct Context {
    /// The optimizer's name, for messages.
    pub optimizer: &'static str,
    /// The optimizer's lr when the schedule is made.
    pub lr: f64,
    /// The optimizer's momentum or beta1, if it has one.
    pub momentum: Option<(MomentumKind, f64)>,
    /// How many times the schedule will be stepped (steps, or epochs).
    pub total: usize,
}

/// torch's `optimizer.param_groups[0]` as the schedulers see it.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    pub lr: f64,
    pub initial_lr: Option<f64>,
    /// The optimizer's momentum or beta1 (None: it has neither).
    pub momentum: Option<f64>,
}

/// A schedule with its state, ready to step.
pub struct Schedule {
    root: Node,
    group: Group,
    /// The schedule as text, every option resolved: `step_lr(step_size=7, gamma=0.5)`.
    pub text: String,
    /// reduce_lr_on_plateau: `step` wants the loss (or watched value).
    pub wants_metric: bool,
}

impl Schedule {
    /// Builds the schedule as torch constructs it (children first), which
    /// already sets the first step's lr; then `apply` it to the optimizer.
    pub fn build(spec: SchedSpec, ctx: &Context) -> Result<Schedule, SchedError> {
        let mut group = Group {
            lr: ctx.lr,
            initial_lr: None,
            momentum: ctx.momentum.map(|m| m.1),
        };
        let (root, text) = build_node(spec, ctx, &mut group, 0)?;
        let wants_metric = matches!(root.kind, Kind::Plateau(_));
        Ok(Schedule {
            root,
            group,
            text,
            wants_metric,
        })
    }

    /// The lr the next optimizer step uses.
    pub fn lr(&self) -> f64 {
        self.group.lr
    }

    /// Writes the group's lr (and momentum) into the optimizer.
    pub fn apply(&self, opt: &mut dyn Optimizer) {
        opt.set_lr(self.group.lr);
        if let Some(m) = self.group.momentum {
            if opt.momentum().is_some_and(|(_, v)| v != m) {
                opt.set_momentum(m);
            }
        }
    }

    /// One `scheduler.step()` (`step(metric)` for reduce_lr_on_plateau),
    /// after an optimizer step or an epoch.
    pub fn step(&mut self, metric: f64) {
        self.root.step(&mut self.group, metric);
    }
}

/// Reads one schedule (and its children), constructing it on `group` as torch would.
fn build_node(
    spec: SchedSpec,
    ctx: &Context,
    group: &mut Group,
    depth: usize,
) -> Result<(Node, String), SchedError> {
    let Some(name) = NAMES.iter().copied().find(|n| *n == spec.name) else {
        return Err(SchedError::Unknown {
            name: spec.name.clone(),
            span: spec.name_span.clone(),
        });
    };
    if depth > 0 && name == "reduce_lr_on_plateau" {
        return Err(SchedError::invalid(
            &spec.span,
            format!("reduce_lr_on_plateau cannot be part of a {}", "combination"),
            "needs the loss at each step",
            "torch's SequentialLR and ChainedScheduler refuse it too; use it on its own",
        ));
    }
    // An unknown option first: a misspelt required one would otherwise read as missing.
    let valid = options(name);
    if let Some(a) = spec.args.iter().find(|a| !valid.contains(&a.name.as_str())) {
        return Err(OptError::Unknown {
            optimizer: name,
            name: a.name.clone(),
            span: a.span.clone(),
            valid: valid.to_vec(),
        }
        .into());
    }
    if is_combinator(name) {
        return combinator(name, spec, ctx, group, depth);
    }
    if !spec.children.is_empty() {
        return Err(SchedError::invalid(
            &spec.children[0].span,
            format!("{name} takes no schedule"),
            "not an option",
            "only sequential(...) and chained(...) combine schedules",
        ));
    }
    let mut r = OptReader::new(name, &spec.args)?;
    let kind = node::read(name, &mut r, spec.lambda, ctx, &spec.span)?;
    let lambda_src = match &kind {
        Kind::Lambda(_, src) | Kind::Multiplicative(_, src) => Some(src.clone()),
        _ => None,
    };
    let options = r.finish()?;
    let mut parts: Vec<String> = lambda_src.into_iter().collect();
    parts.extend(options.iter().map(|(k, v)| format!("{k}={}", show(v))));
    let text = format!("{name}({})", parts.join(", "));
    let node = Node::construct(kind, group);
    Ok((node, text))
}

/// sequential(S1, ..., milestones=[...]) and chained(S1, ...).
fn combinator(
    name: &'static str,
    spec: SchedSpec,
    ctx: &Context,
    group: &mut Group,
    depth: usize,
) -> Result<(Node, String), SchedError> {
    if spec.children.is_empty() {
        return Err(SchedError::invalid(
            &spec.span,
            format!("{name} needs at least one schedule"),
            "no schedule here",
            format!(
                "write e.g. `{name}(linear_lr(total_iters=4), exponential_lr(gamma=0.9){})`",
                if name == "sequential" {
                    ", milestones=[4]"
                } else {
                    ""
                }
            ),
        ));
    }
    let mut r = OptReader::new(name, &spec.args)?;
    let milestones = if name == "sequential" {
        need(
            &r,
            name,
            "milestones",
            &spec.span,
            "sequential(linear_lr(total_iters=4), exponential_lr(gamma=0.9), milestones=[4])",
        )?;
        let m = r.int_list("milestones")?;
        let span = r.span_of("milestones").unwrap_or_else(|| spec.span.clone());
        if m.len() + 1 != spec.children.len() {
            return Err(SchedError::invalid(
                &span,
                format!(
                    "sequential has {} schedules and {} milestones",
                    spec.children.len(),
                    m.len()
                ),
                "milestones",
                "give one milestone fewer than schedules: where each schedule after the first takes over",
            ));
        }
        check_increasing(&m, &span)?;
        m
    } else {
        Vec::new()
    };
    let options = r.finish()?;
    let mut children = Vec::with_capacity(spec.children.len());
    let mut texts = Vec::new();
    for c in spec.children {
        let (n, t) = build_node(c, ctx, group, depth + 1)?;
        children.push(n);
        texts.push(t);
    }
    texts.extend(options.iter().map(|(k, v)| format!("{k}={}", show(v))));
    let text = format!("{name}({})", texts.join(", "));
    let node = if name == "sequential" {
        Node::sequential(children, milestones, group)
    } else {
        Node::chained(children)
    };
    Ok((node, text))
}

/// A required option (torch's positional ones) that the script left out.
pub(crate) fn need(
    r: &OptReader,
    name: &str,
    option: &str,
    span: &Span,
    example: &str,
) -> Result<(), SchedError> {
    if r.span_of(option).is_some() {
        return Ok(());
    }
    Err(SchedError::invalid(
        span,
        format!("{name} needs `{option}`"),
        format!("no {option}"),
        format!("write e.g. `{example}`"),
    ))
}

/// Milestones must increase strictly (torch's MultiStepLR counts repeats,
/// which is never what was meant; SequentialLR misbehaves).
pub(crate) fn check_increasing(m: &[i64], span: &Span) -> Result<(), SchedError> {
    if let Some(i) = (1..m.len()).find(|&i| m[i] <= m[i - 1]) {
        return Err(SchedError::invalid(
            span,
            format!(
                "milestones must increase: {} comes after {}",
                m[i],
                m[i - 1]
            ),
            "not increasing",
            "list the milestones in increasing order, each once",
        ));
    }
    if let Some(&v) = m.iter().find(|&&v| v < 0) {
        return Err(SchedError::invalid(
            span,
            format!("milestone {v} is negative"),
            "negative",
            "milestones count steps (or epochs) from 0",
        ));
    }
    Ok(())
}

/// An option value as the script would write it.
fn show(v: &OptValue) -> String {
    match v {
        OptValue::Tuple(vs) => format!("[{}]", vs.iter().map(show).collect::<Vec<_>>().join(", ")),
        v => v.to_string(),
    }
}
