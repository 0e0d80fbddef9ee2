//! The contract every step-based optimizer (torch.optim) implements, and the
//! reader that turns a script's `adam(lr=0.3, betas=(0.99, 0.999))` into a
//! typed configuration with torch's defaults and torch's validation.
//!
//! This file depends on nothing else in the crate, so optimizers can be
//! developed and tested on their own.

use std::ops::Range;

/// Byte span in the script, for diagnostics.
pub type Span = Range<usize>;

/// A value of an optimizer option as written in the script.
#[derive(Clone, Debug, PartialEq)]
pub enum OptValue {
    Num(f64),
    Bool(bool),
    Str(String),
    Tuple(Vec<OptValue>),
    /// torch's `None` (only ever a default: the language has no `None`).
    None,
}

impl OptValue {
    /// What a user would call this kind of value, for "expects a number, got a string".
    pub fn kind(&self) -> &'static str {
        match self {
            OptValue::Num(_) => "a number",
            OptValue::Bool(_) => "a boolean",
            OptValue::Str(_) => "a string",
            OptValue::Tuple(_) => "a tuple",
            OptValue::None => "None",
        }
    }
}

impl std::fmt::Display for OptValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OptValue::Num(v) => write!(f, "{v}"),
            OptValue::Bool(b) => write!(f, "{b}"),
            OptValue::Str(s) => write!(f, "{s:?}"),
            OptValue::None => write!(f, "None"),
            OptValue::Tuple(vs) => {
                write!(f, "(")?;
                for (i, v) in vs.iter().enumerate() {
                    if i > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{v}")?;
                }
                write!(f, ")")
            }
        }
    }
}

/// One `name=value` argument of an optimizer call.
#[derive(Clone, Debug)]
pub struct OptArg {
    pub name: String,
    pub value: OptValue,
    /// Span of the whole `name=value`.
    pub span: Span,
}

/// Why an optimizer's options were refused. Every variant names the option,
/// so the diagnostic can point at it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum OptError {
    #[error("unknown option `{name}` for {optimizer}")]
    Unknown {
        optimizer: &'static str,
        name: String,
        span: Span,
        valid: Vec<&'static str>,
    },
    #[error("option `{name}` is given twice")]
    Duplicate { name: String, span: Span },
    #[error("option `{name}` expects {expected}, got {got}")]
    Type {
        name: String,
        expected: String,
        got: String,
        span: Span,
    },
    #[error("invalid value {value} for option `{name}`")]
    Range {
        name: String,
        value: String,
        /// What is allowed, e.g. "lr must be >= 0".
        allowed: String,
        span: Option<Span>,
    },
    /// The optimizer exists in torch but does not apply here (sparseadam).
    #[error("{message}")]
    Unsupported { message: String, hint: String },
}

impl OptError {
    /// The span of the option at fault; `None` for an error about the
    /// whole call (a combination of options, an unsupported optimizer).
    pub fn span(&self) -> Option<Span> {
        match self {
            OptError::Unknown { span, .. }
            | OptError::Duplicate { span, .. }
            | OptError::Type { span, .. } => Some(span.clone()),
            OptError::Range { span, .. } => span.clone(),
            OptError::Unsupported { .. } => None,
        }
    }
}

/// Reads options by name with torch's defaults, records the resolved value of
/// every option (for the report and `--json`), and refuses unknown ones.
pub struct OptReader<'a> {
    optimizer: &'static str,
    args: &'a [OptArg],
    used: Vec<bool>,
    resolved: Vec<(&'static str, OptValue)>,
}

impl<'a> OptReader<'a> {
    pub fn new(optimizer: &'static str, args: &'a [OptArg]) -> Result<Self, OptError> {
        for (i, a) in args.iter().enumerate() {
            if args[..i].iter().any(|b| b.name == a.name) {
                return Err(OptError::Duplicate {
                    name: a.name.clone(),
                    span: a.span.clone(),
                });
            }
        }
        Ok(OptReader {
            optimizer,
            args,
            used: vec![false; args.len()],
            resolved: Vec::new(),
        })
    }

    pub fn optimizer(&self) -> &'static str {
        self.optimizer
    }

    fn take(&mut self, name: &'static str) -> Option<&'a OptArg> {
        let i = self.args.iter().position(|a| a.name == name)?;
        self.used[i] = true;
        Some(&self.args[i])
    }

    /// The span of option `name` if the script gave it.
    pub fn span_of(&self, name: &str) -> Option<Span> {
        self.args
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.span.clone())
    }

    fn type_err(name: &str, expected: &str, a: &OptArg) -> OptError {
        OptError::Type {
            name: name.to_string(),
            expected: expected.to_string(),
            got: a.value.kind().to_string(),
            span: a.span.clone(),
        }
    }

    /// A float option.
    pub fn num(&mut self, name: &'static str, default: f64) -> Result<f64, OptError> {
        let v = match self.take(name) {
            None => default,
            Some(a) => match a.value {
                OptValue::Num(v) => v,
                _ => return Err(Self::type_err(name, "a number", a)),
            },
        };
        self.resolved.push((name, OptValue::Num(v)));
        Ok(v)
    }

    /// A float option whose torch default is `None`.
    pub fn opt_num(
        &mut self,
        name: &'static str,
        default: Option<f64>,
    ) -> Result<Option<f64>, OptError> {
        let v = match self.take(name) {
            None => default,
            Some(a) => match a.value {
                OptValue::Num(v) => Some(v),
                _ => return Err(Self::type_err(name, "a number", a)),
            },
        };
        self.resolved
            .push((name, v.map(OptValue::Num).unwrap_or(OptValue::None)));
        Ok(v)
    }

    /// An integer option (a number with no fractional part).
    pub fn int(&mut self, name: &'static str, default: i64) -> Result<i64, OptError> {
        let v = match self.take(name) {
            None => default,
            Some(a) => match a.value {
                OptValue::Num(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => v as i64,
                _ => return Err(Self::type_err(name, "an integer", a)),
            },
        };
        self.resolved.push((name, OptValue::Num(v as f64)));
        Ok(v)
    }

    /// A list of integers such as `milestones=[5, 12, 20]` (required).
    pub fn int_list(&mut self, name: &'static str) -> Result<Vec<i64>, OptError> {
        let Some(a) = self.take(name) else {
            return Err(OptError::Range {
                name: name.to_string(),
                value: "nothing".to_string(),
                allowed: format!("{} needs `{name}=[...]`", self.optimizer),
                span: None,
            });
        };
        let expected = "a list of whole numbers [a, b, ...]";
        let OptValue::Tuple(vs) = &a.value else {
            return Err(Self::type_err(name, expected, a));
        };
        let mut out = Vec::with_capacity(vs.len());
        for v in vs {
            match v {
                OptValue::Num(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => out.push(*v as i64),
                _ => return Err(Self::type_err(name, expected, a)),
            }
        }
        self.resolved.push((name, a.value.clone()));
        Ok(out)
    }

    /// An integer option whose torch default is `None`.
    pub fn opt_int(
        &mut self,
        name: &'static str,
        default: Option<i64>,
    ) -> Result<Option<i64>, OptError> {
        let v = match self.take(name) {
            None => default,
            Some(a) => match a.value {
                OptValue::Num(v) if v.fract() == 0.0 && v.abs() < 9.0e15 => Some(v as i64),
                _ => return Err(Self::type_err(name, "an integer", a)),
            },
        };
        self.resolved.push((
            name,
            v.map(|v| OptValue::Num(v as f64)).unwrap_or(OptValue::None),
        ));
        Ok(v)
    }

    pub fn bool(&mut self, name: &'static str, default: bool) -> Result<bool, OptError> {
        let v = match self.take(name) {
            None => default,
            Some(a) => match a.value {
                OptValue::Bool(b) => b,
                _ => return Err(Self::type_err(name, "true or false", a)),
            },
        };
        self.resolved.push((name, OptValue::Bool(v)));
        Ok(v)
    }

    /// A pair of floats such as `betas=(0.9, 0.999)`.
    pub fn pair(
        &mut self,
        name: &'static str,
        default: (f64, f64),
    ) -> Result<(f64, f64), OptError> {
        let v = match self.take(name) {
            None => default,
            Some(a) => match &a.value {
                OptValue::Tuple(vs) => match vs.as_slice() {
                    [OptValue::Num(x), OptValue::Num(y)] => (*x, *y),
                    _ => return Err(Self::type_err(name, "a pair of numbers (a, b)", a)),
                },
                _ => return Err(Self::type_err(name, "a pair of numbers (a, b)", a)),
            },
        };
        self.resolved.push((
            name,
            OptValue::Tuple(vec![OptValue::Num(v.0), OptValue::Num(v.1)]),
        ));
        Ok(v)
    }

    /// A string option restricted to `choices`; `default` None is torch's None.
    pub fn choice(
        &mut self,
        name: &'static str,
        default: Option<&'static str>,
        choices: &[&'static str],
    ) -> Result<Option<String>, OptError> {
        let v = match self.take(name) {
            None => default.map(str::to_string),
            Some(a) => match &a.value {
                OptValue::Str(s) if choices.contains(&s.as_str()) => Some(s.clone()),
                OptValue::Str(s) => {
                    return Err(OptError::Range {
                        name: name.to_string(),
                        value: format!("{s:?}"),
                        allowed: format!(
                            "{name} must be one of {}",
                            choices
                                .iter()
                                .map(|c| format!("{c:?}"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                        span: Some(a.span.clone()),
                    })
                }
                _ => return Err(Self::type_err(name, "a string", a)),
            },
        };
        self.resolved
            .push((name, v.clone().map(OptValue::Str).unwrap_or(OptValue::None)));
        Ok(v)
    }

    /// Records an option whose value the optimizer resolved itself (e.g. a
    /// tuple with a None inside, like Adafactor's eps).
    pub fn record(&mut self, name: &'static str, value: OptValue) {
        self.resolved.push((name, value));
    }

    /// Takes the raw argument for an option with an unusual type; the caller
    /// must `record` the resolved value.
    pub fn raw(&mut self, name: &'static str) -> Option<&'a OptArg> {
        self.take(name)
    }

    /// A range check in torch's words: fails with `allowed` when `ok` is false.
    pub fn check(
        &self,
        name: &str,
        ok: bool,
        value: impl std::fmt::Display,
        allowed: &str,
    ) -> Result<(), OptError> {
        if ok {
            Ok(())
        } else {
            Err(OptError::Range {
                name: name.to_string(),
                value: value.to_string(),
                allowed: allowed.to_string(),
                span: self.span_of(name),
            })
        }
    }

    /// Ends reading: an argument no one read is an unknown option.
    pub fn finish(self) -> Result<Vec<(&'static str, OptValue)>, OptError> {
        if let Some(i) = self.used.iter().position(|u| !u) {
            return Err(OptError::Unknown {
                optimizer: self.optimizer,
                name: self.args[i].name.clone(),
                span: self.args[i].span.clone(),
                valid: self.resolved.iter().map(|(n, _)| *n).collect(),
            });
        }
        Ok(self.resolved)
    }
}

/// Shapes of the free parameters, in declaration order. The optimizer sees
/// one flat buffer that concatenates them; each parameter is its own torch
/// parameter (this matters for Adafactor's factoring and LBFGS's flattening
/// order, which are both per-parameter in torch).
#[derive(Clone, Debug, Default)]
pub struct ParamLayout {
    pub shapes: Vec<Vec<usize>>,
}

impl ParamLayout {
    /// All scalars.
    pub fn scalars(n: usize) -> Self {
        ParamLayout {
            shapes: vec![Vec::new(); n],
        }
    }

    /// Total number of elements.
    pub fn len(&self) -> usize {
        self.shapes
            .iter()
            .map(|s| s.iter().product::<usize>())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The flat range of each parameter.
    pub fn ranges(&self) -> Vec<Range<usize>> {
        let mut at = 0;
        self.shapes
            .iter()
            .map(|s| {
                let n: usize = s.iter().product();
                let r = at..at + n;
                at += n;
                r
            })
            .collect()
    }
}

/// The objective as torch's closure sees it: evaluate at `params`, write the
/// gradient into `grad`, return the loss. The caller counts evaluations.
pub type Closure<'c> = dyn FnMut(&[f64], &mut [f64]) -> f64 + 'c;

/// What a cyclic schedule cycles (torch's `cycle_momentum`): the
/// `momentum` of SGD and RMSprop, or `betas[0]` of the Adam family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MomentumKind {
    Momentum,
    Beta1,
}

/// One torch.optim optimizer with its state. State is allocated in `build`
/// from the layout, so `step` allocates nothing. The learning rate (and the
/// momentum, where there is one) can change between steps, as a torch
/// scheduler changes `param_groups[0]["lr"]`; each optimizer reads them at
/// the step, where torch does.
pub trait Optimizer {
    /// The group's current `lr`.
    fn lr(&self) -> f64;

    /// Sets the group's `lr` for the next steps.
    fn set_lr(&mut self, lr: f64);

    /// The group's `momentum` or `betas[0]`, if the optimizer has one.
    fn momentum(&self) -> Option<(MomentumKind, f64)> {
        None
    }

    /// Sets what `momentum` returns (ignored by optimizers without one).
    fn set_momentum(&mut self, _value: f64) {}

    /// One `optimizer.step(closure)`. `params` is every free parameter, flat,
    /// in layout order, updated in place. Returns the loss of the first
    /// closure evaluation, as torch's `step` does.
    fn step(&mut self, params: &mut [f64], closure: &mut Closure<'_>) -> f64;
}

/// A type an optimizer option can hold: read from the script's options by
/// name, `default` (torch's) when absent, and recorded for the report.
pub trait OptField: Sized {
    fn read(r: &mut OptReader, name: &'static str, default: Self) -> Result<Self, OptError>;
}

impl OptField for f64 {
    fn read(r: &mut OptReader, name: &'static str, default: f64) -> Result<f64, OptError> {
        r.num(name, default)
    }
}

impl OptField for bool {
    fn read(r: &mut OptReader, name: &'static str, default: bool) -> Result<bool, OptError> {
        r.bool(name, default)
    }
}

impl OptField for i64 {
    fn read(r: &mut OptReader, name: &'static str, default: i64) -> Result<i64, OptError> {
        r.int(name, default)
    }
}

impl OptField for Option<i64> {
    fn read(r: &mut OptReader, name: &'static str, default: Self) -> Result<Self, OptError> {
        r.opt_int(name, default)
    }
}

impl OptField for (f64, f64) {
    fn read(r: &mut OptReader, name: &'static str, default: Self) -> Result<Self, OptError> {
        r.pair(name, default)
    }
}

/// Declares an optimizer's typed configuration in one table: each field is
/// an option of the same name with its type and torch's default. The
/// macro makes the struct, its `Default` (torch's defaults, the one place
/// they are written) and `read`, which takes every option in field order
/// (torch's constructor order, so the resolved list comes out in it);
/// unknown and ill-typed options keep `OptReader`'s diagnostics.
macro_rules! optim_config {
    (
        $(#[$m:meta])*
        pub struct $name:ident {
            $( $(#[$fm:meta])* $field:ident : $ty:ty = $default:expr, )*
        }
    ) => {
        $(#[$m])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct $name {
            $( $(#[$fm])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )* }
            }
        }

        impl $name {
            /// The script's options, each absent one at torch's default
            /// (read in field order: struct fields evaluate as written).
            pub fn read(
                r: &mut $crate::optim::OptReader,
            ) -> Result<Self, $crate::optim::OptError> {
                let d = Self::default();
                Ok($name {
                    $( $field: $crate::optim::OptField::read(r, stringify!($field), d.$field)?, )*
                })
            }
        }
    };
}
