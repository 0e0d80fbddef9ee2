//! The lowering stage's typed errors: everything that can be wrong with an
//! expression once its names are known (shapes, constant arguments, the
//! options of built-ins and losses, csv tables). Each variant carries the
//! spans and the data of its message; `IntoDiagnostic` words it once, so
//! the paths that find the same mistake (a shape mismatch met by any
//! operation, an empty reduction in `min` or `argmax`) report it the same
//! way. Name mistakes stay `NameError`s and pass through.

use super::name_error::NameError;
use crate::budget::Refused;
use crate::diagnostics::{Code, Diag, IntoDiagnostic, Span};
use crate::tensor::{fmt_num, max_elements, shape_str, Shape, MAX_RANK};

/// A mistake in an expression, found while it is lowered to the graph.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LowerError {
    #[error(transparent)]
    Name(#[from] NameError),
    /// The memory budget refused `what` (a tape, a tensor) at `span`.
    #[error("{}", refused.diag(span.clone(), what).message)]
    Memory {
        refused: Refused,
        span: Span,
        what: String,
    },
    /// Operands whose shapes do not fit (the graph's message). `op` is the
    /// operator's symbol for a binary operation, labelled at `span` with
    /// each operand's shape in `operands`.
    #[error("shape mismatch: {msg}")]
    ShapeMismatch {
        msg: String,
        span: Span,
        op: Option<&'static str>,
        operands: Vec<(Span, Shape)>,
    },
    #[error("a tensor with {} axes has more than the limit of {MAX_RANK}", shape.len())]
    TooManyAxes { shape: Shape, span: Span },
    #[error(
        "a tensor of shape {} has more than {} elements",
        shape_str(shape),
        max_elements()
    )]
    TooLarge { shape: Shape, span: Span },
    /// A value that must be known before anything runs (`what` names it).
    #[error("{what} must be constant")]
    NotConstant { what: String, span: Span },
    #[error("{what} must be a single number")]
    NotSingle {
        what: String,
        shape: Shape,
        span: Span,
    },
    /// A scalar where the statement needs one number.
    #[error("expected a single number")]
    ExpectedNumber { span: Span },
    #[error("{what} must be a whole number")]
    NotWhole {
        what: String,
        value: f64,
        span: Span,
    },
    #[error("a shape is a list of whole numbers such as [2, 3]")]
    ShapeNotList { shape: Shape, span: Span },
    #[error("a dimension must be >= 0")]
    NegativeDim { dim: i64, span: Span },
    #[error("`.{field}`: only a csv table has fields")]
    NotATable { field: String, span: Span },
    #[error("{file} has no column `{column}`")]
    NoColumn {
        file: String,
        column: String,
        span: Span,
        columns: Vec<String>,
        suggestion: Option<String>,
    },
    /// A column of a batch of rows that the graph could not index.
    #[error("{msg}")]
    ColumnShape { msg: String, span: Span },
    #[error("this expression is not supported")]
    Unsupported { span: Span },
    #[error("`{name}` is not supported yet")]
    NotSupportedYet { name: String, span: Span },
    /// Array elements of different shapes: element `span` against the first.
    #[error(
        "array elements have different shapes: {} and {}",
        shape_str(first),
        shape_str(other)
    )]
    ArrayShapes {
        first: Shape,
        first_span: Span,
        other: Shape,
        span: Span,
    },
    #[error("{count} indices for a value of shape {}", shape_str(shape))]
    TooManyIndices {
        count: usize,
        shape: Shape,
        span: Span,
    },
    #[error("index {index} is out of range for axis {axis} of size {}", shape[*axis])]
    IndexOutOfRange {
        index: i64,
        axis: usize,
        shape: Shape,
        span: Span,
    },
    /// `a @ b` (or `dot(a, b)`) of shapes that do not multiply.
    #[error("{msg}")]
    MatMul { msg: String, span: Span, dot: bool },
    #[error(
        "axis {axis} is out of range for a value of shape {}",
        shape_str(shape)
    )]
    NoSuchAxis { axis: i64, shape: Shape, span: Span },
    /// `min`, `max`, `argmin`, `argmax` over no elements.
    #[error("`{name}` of an empty tensor")]
    EmptyReduction { name: String, span: Span },
    #[error("a comparison gives a mask, not a number")]
    MaskAsNumber { span: Span },
    #[error("a string is not a number")]
    StringAsNumber { span: Span },
    #[error("expected a condition (a mask)")]
    NotAMask { span: Span },
    #[error("a tuple is not a value")]
    TupleValue { span: Span },
    /// `min(x, y, axis=K)`: `span` is the axis argument.
    #[error("`{name}` of two values takes no axis")]
    MinMaxAxis { name: String, span: Span },
    #[error(
        "grad needs a scalar expression, this one has shape {}",
        shape_str(shape)
    )]
    GradNotScalar { shape: Shape, span: Span },
    /// A value outside the range a function allows (erfinv's argument, a
    /// probability); `at_start` when found at the start of a minimization.
    #[error("{what} must lie in [{lo}, {hi}], and {value} does not")]
    OutOfRange {
        what: String,
        lo: f64,
        hi: f64,
        value: f64,
        span: Span,
        at_start: bool,
    },
    #[error("linspace needs a number of points >= 0")]
    LinspaceCount { count: i64, span: Span },
    #[error("arange needs finite bounds and a nonzero step")]
    ArangeBounds { span: Span },
    #[error("randint needs low < high, here {lo} >= {hi}")]
    RandintRange { lo: i64, hi: i64, span: Span },
    #[error("reshape: only one dimension can be -1")]
    ReshapeTwoHoles { span: Span },
    #[error("reshape: bad dimension {dim}")]
    ReshapeBadDim { dim: i64, span: Span },
    /// A reshape whose sizes do not fit (`msg` says which).
    #[error("{msg}")]
    ReshapeNoFit { msg: String, span: Span },
    #[error("csv takes a file name in quotes")]
    CsvNotString { span: Span },
    /// A csv file that could not be read (`msg` is the reader's).
    #[error("{msg}")]
    Csv { msg: String, span: Span },
    #[error("`{option}` must be true or false")]
    NotBool { option: String, span: Span },
    /// A string option not among `allowed`.
    #[error("unknown {option} \"{value}\" for {func}")]
    UnknownChoice {
        func: String,
        option: String,
        value: String,
        allowed: Vec<&'static str>,
        span: Span,
    },
    #[error("{func}'s {option} is a string")]
    ChoiceNotString {
        func: String,
        option: String,
        allowed: Vec<&'static str>,
        span: Span,
    },
    #[error("celu's alpha cannot be 0")]
    CeluAlphaZero { span: Span },
    #[error("hardtanh's min_val {lo} is greater than its max_val {hi}")]
    HardtanhOrder { lo: f64, hi: f64, span: Span },
    /// Class indices (`what`) that are not whole numbers.
    #[error("{what} must be whole numbers, not {value}")]
    ClassNotWhole {
        what: String,
        value: f64,
        classes: usize,
        span: Span,
    },
    #[error("class index {value} is out of range for {classes} classes")]
    ClassOutOfRange {
        value: f64,
        classes: usize,
        span: Span,
    },
    #[error("one_hot needs at least 1 class, not {classes}")]
    OneHotClasses { classes: i64, span: Span },
    /// A loss's second operand (`what`: a target, a weight) whose shape does
    /// not fit the input's; `exact` when torch wants the very same shape.
    #[error(
        "a {what} of shape {} does not fit an input of shape {}",
        shape_str(shape),
        shape_str(input)
    )]
    DoesNotFit {
        what: &'static str,
        shape: Shape,
        input: Shape,
        exact: bool,
        span: Span,
    },
    /// A loss's numeric option out of its range (`want` is `> 0`, `>= 0`).
    #[error("{loss}'s {option} must be {want}, not {value}")]
    LossOption {
        loss: String,
        option: &'static str,
        want: &'static str,
        value: f64,
        span: Span,
    },
    #[error("label_smoothing must be between 0 and 1, not {value}")]
    LabelSmoothing { value: f64, span: Span },
    #[error(
        "a var of shape {} does not fit an input of shape {}",
        shape_str(var),
        shape_str(input)
    )]
    VarShape {
        var: Shape,
        input: Shape,
        span: Span,
    },
    #[error("{loss} needs an input with a class axis, not a scalar")]
    ClassAxisScalar { loss: String, span: Span },
    #[error("a weight of shape {} for {classes} classes", shape_str(shape))]
    ClassWeight {
        shape: Shape,
        classes: usize,
        span: Span,
    },
    /// A class target of neither the index shape nor (`probs`: for
    /// cross_entropy) the input's.
    #[error(
        "a target of shape {} does not fit an input of shape {}",
        shape_str(target),
        shape_str(input)
    )]
    ClassTarget {
        target: Shape,
        input: Shape,
        indices: Shape,
        probs: bool,
        span: Span,
    },
}

/// A tensor over the rank cap or the element cap.
pub(crate) fn too_big(shape: &[usize], span: &Span) -> LowerError {
    let (shape, span) = (shape.to_vec(), span.clone());
    if shape.len() > MAX_RANK {
        LowerError::TooManyAxes { shape, span }
    } else {
        LowerError::TooLarge { shape, span }
    }
}

/// A shape mismatch of the graph at `span`.
pub(crate) fn shape_mismatch(e: crate::graph::ShapeError, span: &Span) -> LowerError {
    LowerError::ShapeMismatch {
        msg: e.0,
        span: span.clone(),
        op: None,
        operands: Vec::new(),
    }
}

fn quoted_list(allowed: &[&str]) -> String {
    let quoted: Vec<String> = allowed.iter().map(|a| format!("\"{a}\"")).collect();
    quoted.join(", ")
}

/// The message of an error, and the labels its codes are worded with.
struct Wording {
    message: String,
}

impl Wording {
    fn error(&self, code: Code) -> Diag {
        Diag::error(code, self.message.clone())
    }
    fn e402(&self, span: Span, label: String) -> Diag {
        self.error(Code::E0402).at(span, label)
    }
    fn e206(&self, span: Span, label: &str) -> Diag {
        self.error(Code::E0206).at(span, label)
    }
}

impl IntoDiagnostic for LowerError {
    fn into_diagnostic(self) -> Diag {
        use LowerError as L;
        let w = Wording {
            message: self.to_string(),
        };
        match self {
            L::Name(e) => e.into_diagnostic(),
            L::Memory {
                refused,
                span,
                what,
            } => refused.diag(span, &what),
            // every variant is worded by one of the groups: the fallback
            // (the message alone) is never reached
            other => other
                .shapes(&w)
                .or_else(|e| e.values(&w))
                .or_else(|e| e.tables(&w))
                .or_else(|e| e.constructors(&w))
                .or_else(|e| e.losses(&w))
                .unwrap_or_else(|_| w.error(Code::E0402)),
        }
    }
}

/// The labels and help of each group of mistakes, one function a group;
/// each hands back an error that is not its own.
impl LowerError {
    /// E0402: shapes that do not fit, axes, indices, sizes.
    fn shapes(self, w: &Wording) -> Result<Diag, Self> {
        use LowerError as L;
        Ok(match self {
            L::ShapeMismatch {
                span, op, operands, ..
            } => {
                let label = match op {
                    Some(op) => format!("in this `{op}`"),
                    None => "in this operation".into(),
                };
                let mut d = w.e402(span, label);
                for (s, shape) in operands {
                    d = d.at(s, format!("shape {}", shape_str(&shape)));
                }
                d
            }
            L::TooManyAxes { span, .. } => w.e402(span, "too many axes".into()).note(format!(
                "help: a tensor has at most {MAX_RANK} axes, as in NumPy"
            )),
            L::TooLarge { span, .. } => w
                .e402(span, "too large".into())
                .note("help: tensors are limited in size so that a typo cannot exhaust memory"),
            L::ArrayShapes {
                first,
                first_span,
                other,
                span,
            } => w
                .e402(span, format!("shape {}", shape_str(&other)))
                .at(first_span, format!("shape {}", shape_str(&first))),
            L::TooManyIndices { span, .. } => w.e402(span, "too many indices".into()),
            L::IndexOutOfRange { shape, span, .. } => w
                .e402(span, "out of range".into())
                .note(format!("the value has shape {}", shape_str(&shape))),
            L::MatMul { span, dot, .. } => {
                w.e402(span, if dot { "in this dot" } else { "in this `@`" }.into())
            }
            L::NoSuchAxis { shape, span, .. } => {
                let r = shape.len() as i64;
                w.e402(span, "no such axis".into()).note(format!(
                    "help: axes run from {} to {}",
                    -r,
                    r - 1
                ))
            }
            L::EmptyReduction { span, .. } => w.e402(span, "no elements".into()),
            L::GradNotScalar { span, .. } => w
                .e402(span, "not a scalar".into())
                .note("help: reduce it first, e.g. with sum(...)"),
            L::OutOfRange { span, at_start, .. } => {
                let d = w.e402(span, "out of range".into());
                if at_start {
                    d.note("help: torch refuses this value; start the minimization where it is allowed")
                } else {
                    d
                }
            }
            other => return Err(other),
        })
    }

    /// E0206 and kin: a value of the wrong kind where a number, a constant or a choice is needed.
    fn values(self, w: &Wording) -> Result<Diag, Self> {
        use LowerError as L;
        Ok(match self {
            L::NotConstant { span, .. } => w.error(Code::E0207).at(span, "depends on a parameter"),
            L::NotSingle { shape, span, .. } | L::ShapeNotList { shape, span } => {
                w.e206(span, &format!("this has shape {}", shape_str(&shape)))
            }
            L::ExpectedNumber { span } => w.e206(span, "not a scalar"),
            L::NotWhole { value, span, .. } => w.e206(span, &format!("this is {}", fmt_num(value))),
            L::NegativeDim { dim, span } => w.e206(span, &format!("has {dim}")),
            L::MaskAsNumber { span } => w
                .e206(span, "this is a mask")
                .note("help: use `where(cond, a, b)` to turn a mask into numbers"),
            L::StringAsNumber { span } => w.e206(span, "string"),
            L::NotAMask { span } => w
                .e206(span, "not a comparison")
                .note("help: compare with `<`, `<=`, `>`, `>=`, `==` or `!=`"),
            L::TupleValue { span } => w
                .e206(span, "tuple")
                .note("help: tuples such as (0.9, 0.999) are only for optimizer options"),
            L::NotBool { span, .. } => w.e206(span, "not a boolean"),
            L::UnknownChoice {
                func,
                option,
                allowed,
                span,
                ..
            } => {
                let list = quoted_list(&allowed);
                w.e206(span, &format!("not one of {list}"))
                    .note(format!("help: {func}'s {option} is one of {list}"))
            }
            L::ChoiceNotString { allowed, span, .. } => w
                .e206(span, "not a string")
                .note(format!("help: one of {}", quoted_list(&allowed))),
            L::MinMaxAxis { name, span } => {
                w.error(Code::E0203)
                    .at(span, "axis given here")
                    .note(format!(
                        "help: `{name}(x, axis=K)` reduces one value along an axis"
                    ))
            }
            other => return Err(other),
        })
    }

    /// Csv tables and their columns, and what is not supported.
    fn tables(self, w: &Wording) -> Result<Diag, Self> {
        use LowerError as L;
        Ok(match self {
            L::NotATable { span, .. } => w
                .e206(span, "not a table")
                .note("help: read a table with `let d = csv(\"file.csv\");`, then `d.x`"),
            L::NoColumn {
                span,
                columns,
                suggestion,
                ..
            } => {
                let d = w
                    .error(Code::E0404)
                    .at(span, "no such column")
                    .note(format!("the columns are {}", columns.join(", ")));
                match suggestion {
                    Some(s) => d.note(format!("help: did you mean `{s}`?")),
                    None => d,
                }
            }
            L::ColumnShape { span, .. } => w.e402(span, "this column".into()),
            L::CsvNotString { span } => w.e206(span, "not a string"),
            L::Csv { span, .. } => w.error(Code::E0404).at(span, "this file"),
            L::Unsupported { span } | L::NotSupportedYet { span, .. } => {
                w.error(Code::E0205).at(span, "here")
            }
            other => return Err(other),
        })
    }

    /// The arguments of the tensor constructors and activations.
    fn constructors(self, w: &Wording) -> Result<Diag, Self> {
        use LowerError as L;
        Ok(match self {
            L::LinspaceCount { count, span } => w.e402(span, format!("{count}")),
            L::ArangeBounds { span } => w.e402(span, "here".into()),
            L::RandintRange { span, .. } => w.e402(span, "empty range".into()),
            L::ReshapeTwoHoles { span } => w.e402(span, "two -1".into()),
            L::ReshapeBadDim { span, .. } => w.e402(span, "here".into()),
            L::ReshapeNoFit { span, .. } => w.e402(span, "sizes do not fit".into()),
            L::CeluAlphaZero { span } => w.e402(span, "zero".into()),
            L::HardtanhOrder { span, .. } => w.e402(span, "min_val > max_val".into()),
            other => return Err(other),
        })
    }

    /// The losses' inputs, targets, weights and options.
    fn losses(self, w: &Wording) -> Result<Diag, Self> {
        use LowerError as L;
        Ok(match self {
            L::ClassNotWhole { classes, span, .. } => w.e402(span, "not a class index".into())
                .note(format!(
                    "help: class indices are 0, 1, ..., {}",
                    classes.max(1) - 1
                )),
            L::ClassOutOfRange { classes, span, .. } => w.e402(span, "out of range".into()).note(
                format!("help: class indices run from 0 to {}", classes as i64 - 1),
            ),
            L::OneHotClasses { span, .. } => w.e402(span, "here".into()),
            L::DoesNotFit {
                what,
                shape,
                input,
                exact,
                span,
            } => {
                let how = if exact {
                    "have the input's shape"
                } else {
                    "broadcast with the input's shape"
                };
                w.e402(span, format!("shape {}", shape_str(&shape))).note(format!(
                    "help: the {what} must {how} {}",
                    shape_str(&input)
                ))
            }
            L::LossOption { span, .. } | L::LabelSmoothing { span, .. } => {
                w.e402(span, "out of range".into())
            }
            L::VarShape { span, .. } => w.e402(span, "var is of incorrect size".into()).note(
                "help: var is shaped like the input, like the input without its last axis, or with a last axis of 1",
            ),
            L::ClassAxisScalar { span, .. } => w.e402(span, "a scalar".into())
                .note("help: the input is [C] or [N, C] (or [N, C, d1, ...]) with C classes"),
            L::ClassWeight {
                shape,
                classes,
                span,
            } => w.e402(span, format!("shape {}", shape_str(&shape))).note(format!(
                "help: weight holds one number per class: shape [{classes}]"
            )),
            L::ClassTarget {
                target,
                input,
                indices,
                probs,
                span,
            } => {
                let probs = if probs {
                    format!(", or class probabilities of shape {}", shape_str(&input))
                } else {
                    String::new()
                };
                w.e402(span, format!("shape {}", shape_str(&target))).note(format!(
                    "help: the target holds class indices of shape {}{probs}",
                    shape_str(&indices)
                ))
            }

            other => return Err(other),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_that_must_match_says_so_in_its_help() {
        let e = |exact| LowerError::DoesNotFit {
            what: "target",
            shape: vec![3],
            input: vec![2],
            exact,
            span: 4..7,
        };
        let d = e(true).into_diagnostic();
        assert_eq!(
            d.message,
            "a target of shape [3] does not fit an input of shape [2]"
        );
        assert_eq!(d.labels[0], (4..7, "shape [3]".to_string()));
        assert_eq!(
            d.notes,
            ["help: the target must have the input's shape [2]"]
        );
        let d = e(false).into_diagnostic();
        assert_eq!(
            d.notes,
            ["help: the target must broadcast with the input's shape [2]"]
        );
    }

    #[test]
    fn every_shape_mismatch_reads_the_same() {
        let d = shape_mismatch(crate::graph::ShapeError("[2] and [3]".into()), &(0..5))
            .into_diagnostic();
        assert_eq!(
            (d.code, d.message.as_str()),
            (Code::E0402, "shape mismatch: [2] and [3]")
        );
        assert_eq!(d.labels, [(0..5, "in this operation".to_string())]);
    }

    #[test]
    fn a_name_error_passes_through_unchanged() {
        let n = NameError::GradNotName { span: 1..2 };
        assert_eq!(
            LowerError::from(n.clone()).into_diagnostic(),
            n.into_diagnostic()
        );
    }
}
