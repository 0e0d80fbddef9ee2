//! Parameters: `param` declarations (scalars and tensors, with limits and
//! `fixed`), assigning a parameter a new value (its shape and limits are
//! checked), and the torch.nn.init initializers of tensor parameters, which
//! draw from the session's one random stream. Its mistakes are
//! `ParamError`s, each worded once at the end of this file.

use super::lower::{too_big, LowerError};
use super::names::NameError;
use super::{ParamInfo, Session};
use crate::diagnostics::{Code, Diag, IntoDiagnostic, Span};
use crate::syntax::ast::{Arg, Expr, ExprKind, ParamDecl, ParamInit};
use crate::tensor::{checked_numel, fmt_num, init, shape_str, Shape, Tensor};

impl Session {
    pub(super) fn declare_param(&mut self, d: &ParamDecl) -> Result<(), ParamError> {
        self.check_new_name(&d.name.name, &d.name.span)?;
        let value = match (&d.dims, &d.init) {
            (None, ParamInit::Value(e)) => self.const_value(e, "a parameter's initial value")?,
            _ => tensor_param_value(self, d)?,
        };
        let (lower, upper) = match &d.limits {
            Some(l) => self.limits(l, &value, &d.name)?,
            None => (None, None),
        };
        let step = match &d.step {
            None => None,
            Some(e) => Some(self.step(e)?),
        };
        self.params.push(ParamInfo {
            name: d.name.name.clone(),
            value,
            lower,
            upper,
            fixed: d.fixed,
            span: d.name.span.clone(),
            error: None,
            step,
        });
        Ok(())
    }

    /// The limits `in [LO, HI]` of a parameter declared at `name` with
    /// initial `value` (an infinite end is no limit).
    fn limits(
        &self,
        l: &crate::syntax::ast::Limits,
        value: &Tensor,
        name: &crate::syntax::ast::Ident,
    ) -> Result<(Option<f64>, Option<f64>), ParamError> {
        let lo = self.const_scalar(&l.lo)?;
        let hi = self.const_scalar(&l.hi)?;
        if lo.is_nan() || hi.is_nan() || lo >= hi {
            return Err(ParamError::InvalidLimits {
                lo,
                hi,
                span: l.span.clone(),
            });
        }
        if let Some(&value) = value.data.iter().find(|v| !(lo..=hi).contains(*v)) {
            // worded as an assigned value outside the limits (`x = 5;`)
            return Err(ParamError::ValueOutsideLimits {
                name: name.name.clone(),
                value,
                lo,
                hi,
                span: name.span.clone(),
            });
        }
        let lower = (lo > f64::NEG_INFINITY).then_some(lo);
        let upper = (hi < f64::INFINITY).then_some(hi);
        Ok((lower, upper))
    }

    /// A parameter's `step S`: finite and > 0.
    fn step(&self, e: &Expr) -> Result<f64, ParamError> {
        let v = self.const_scalar(e)?;
        if !(v > 0.0 && v.is_finite()) {
            return Err(ParamError::BadStep {
                value: v,
                span: e.span.clone(),
            });
        }
        Ok(v)
    }

    pub(super) fn set_param_value(
        &mut self,
        i: usize,
        v: Tensor,
        span: &Span,
    ) -> Result<(), ParamError> {
        let p = &self.params[i];
        let v = if v.data.len() == 1 && p.value.data.len() > 1 {
            Tensor {
                shape: p.value.shape.clone(),
                data: vec![v.data[0]; p.value.data.len()],
            }
        } else {
            v
        };
        if v.shape != p.value.shape {
            return Err(ParamError::ValueShape {
                name: p.name.clone(),
                param: p.value.shape.clone(),
                value: v.shape,
                span: span.clone(),
            });
        }
        let lo = p.lower.unwrap_or(f64::NEG_INFINITY);
        let hi = p.upper.unwrap_or(f64::INFINITY);
        if let Some(&value) = v.data.iter().find(|x| !(lo..=hi).contains(*x)) {
            return Err(ParamError::ValueOutsideLimits {
                name: p.name.clone(),
                value,
                lo,
                hi,
                span: span.clone(),
            });
        }
        self.params[i].value = v;
        Ok(())
    }
}

/// Options of an initializer: torch's argument names in order, with defaults.
enum Opt {
    Num(f64),
    Str(&'static str),
}

type Signature = &'static [(&'static str, Opt)];

fn init_signature(name: &str) -> Option<Signature> {
    use Opt::*;
    Some(match name {
        "uniform" => &[("a", Num(0.0)), ("b", Num(1.0))],
        "normal" => &[("mean", Num(0.0)), ("std", Num(1.0))],
        "xavier_uniform" | "xavier_normal" => &[("gain", Num(1.0))],
        "kaiming_uniform" | "kaiming_normal" => &[
            ("a", Num(0.0)),
            ("mode", Str("fan_in")),
            ("nonlinearity", Str("leaky_relu")),
        ],
        "zeros" | "ones" => &[],
        "constant" => &[("val", Num(f64::NAN))],
        _ => return None,
    })
}

/// `name=default` as a built-in's options are listed (a required value,
/// constant's `val`, without a default).
fn opt_with_default(name: &str, default: &Opt) -> String {
    match default {
        Opt::Num(v) if v.is_nan() => name.to_string(),
        Opt::Num(v) => format!("{name}={v}"),
        Opt::Str(v) => format!("{name}=\"{v}\""),
    }
}

#[derive(Clone, Debug)]
enum OptVal {
    Num(f64),
    Str(String),
}

/// The initial value of a tensor parameter `param w[D1, ...] [~ INIT | = EXPR]`.
pub fn tensor_param_value(s: &Session, d: &ParamDecl) -> Result<Tensor, ParamError> {
    let mut shape = Vec::new();
    for e in d.dims.as_deref().unwrap_or(&[]) {
        let v = s.const_scalar(e)?;
        let k = super::lower::tensor::whole(v, e, "a dimension")?;
        if k < 1 {
            return Err(ParamError::DimTooSmall {
                dim: k,
                span: e.span.clone(),
            });
        }
        shape.push(k as usize);
    }
    let dims_span = d
        .dims
        .as_ref()
        .and_then(|v| Some(v.first()?.span.start..v.last()?.span.end))
        .unwrap_or(d.name.span.clone());
    let Some(n) = checked_numel(&shape) else {
        return Err(too_big(&shape, &dims_span).into());
    };
    let data = match &d.init {
        ParamInit::Default => {
            // nn.Linear's weight: kaiming_uniform(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in))
            let bound = 1.0 / init::default_fan_in(&shape).sqrt();
            s.rng.borrow_mut().uniform(-bound, bound, n)
        }
        ParamInit::Value(e) => {
            let v = s.const_value(e, "a parameter's initial value")?;
            if v.is_scalar() {
                vec![v.data[0]; n]
            } else if v.shape == shape {
                v.data
            } else {
                return Err(ParamError::DeclaredShape {
                    name: d.name.name.clone(),
                    declared: shape,
                    value: v.shape,
                    span: e.span.clone(),
                    dims: dims_span,
                });
            }
        }
        ParamInit::Init(e) => initializer(s, e, &shape, n)?,
    };
    Ok(Tensor { shape, data })
}

/// The options of one initializer call, read against its signature.
struct InitCall<'a> {
    name: &'a str,
    sig: Signature,
    vals: Vec<Option<OptVal>>,
    args: &'a [Arg],
    /// The whole `~ INIT(...)` expression.
    span: Span,
}

impl InitCall<'_> {
    /// Option `k`'s number, given or default.
    fn num(&self, k: usize) -> f64 {
        match (&self.vals[k], &self.sig[k].1) {
            (Some(OptVal::Num(v)), _) => *v,
            (_, Opt::Num(v)) => *v,
            _ => f64::NAN,
        }
    }

    /// Option `k`'s string, given or default.
    fn text(&self, k: usize) -> String {
        match (&self.vals[k], &self.sig[k].1) {
            (Some(OptVal::Str(v)), _) => v.clone(),
            (_, Opt::Str(v)) => v.to_string(),
            _ => String::new(),
        }
    }

    /// Where option `k` was given (by name or position), else the call.
    fn arg_span(&self, k: usize) -> Span {
        let name = self.sig[k].0;
        self.args
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.name == name))
            .or_else(|| self.args.iter().filter(|a| a.name.is_none()).nth(k))
            .map(|a| a.span.clone())
            .unwrap_or(self.span.clone())
    }

    /// The fan in and fan out of `shape` (2 dimensions at least).
    fn fans(&self, shape: &[usize]) -> Result<(f64, f64), ParamError> {
        init::fans(shape).ok_or_else(|| ParamError::NeedsFans {
            name: self.name.to_string(),
            shape: shape.to_vec(),
            span: self.span.clone(),
        })
    }
}

/// The initializer's name, the span of the name and its arguments.
fn init_parts(e: &Expr) -> Result<(&str, &Span, &[Arg]), ParamError> {
    match &e.kind {
        ExprKind::Name(nm) => Ok((nm, &e.span, &[])),
        ExprKind::Call(f, args) => Ok((&f.name, &f.span, args)),
        _ => Err(ParamError::NotAnInitializer {
            span: e.span.clone(),
        }),
    }
}

/// Reads the arguments of initializer `e` (positional in torch's order,
/// or by name) against its signature.
fn read_init<'a>(s: &Session, e: &'a Expr) -> Result<InitCall<'a>, ParamError> {
    let (name, ispan, args) = init_parts(e)?;
    let Some(sig) = init_signature(name) else {
        return Err(ParamError::UnknownInitializer {
            name: name.to_string(),
            span: ispan.clone(),
            suggestion: super::names::suggest(name, init::INITIALIZERS.iter().copied()),
        });
    };
    let mut vals: Vec<Option<OptVal>> = vec![None; sig.len()];
    let mut npos = 0;
    for a in args {
        let k = match &a.name {
            None => {
                npos += 1;
                if npos > sig.len() {
                    return Err(ParamError::InitTooManyArgs {
                        name: name.to_string(),
                        max: sig.len(),
                        span: a.span.clone(),
                    });
                }
                npos - 1
            }
            // worded as a built-in's unknown argument: one mistake, one wording
            Some(nm) => sig.iter().position(|(o, _)| *o == nm.name).ok_or_else(|| {
                NameError::UnknownOption {
                    name: name.to_string(),
                    option: nm.name.clone(),
                    span: nm.span.clone(),
                    suggestion: crate::builtins::suggest(&nm.name, sig.iter().map(|(o, _)| *o)),
                    options: sig.iter().map(|(o, d)| opt_with_default(o, d)).collect(),
                }
            })?,
        };
        if vals[k].is_some() {
            return Err(NameError::OptionTwice {
                name: sig[k].0.to_string(),
                span: a.span.clone(),
            }
            .into());
        }
        vals[k] = Some(match (&a.value.kind, &sig[k].1) {
            (ExprKind::Str(t), Opt::Str(_)) => OptVal::Str(t.clone()),
            (_, Opt::Str(example)) => {
                return Err(ParamError::InitNotString {
                    option: sig[k].0,
                    example,
                    span: a.value.span.clone(),
                })
            }
            _ => OptVal::Num(s.const_scalar(&a.value)?),
        });
    }
    Ok(InitCall {
        name,
        sig,
        vals,
        args,
        span: e.span.clone(),
    })
}

/// `n` values of initializer `e` for a parameter of `shape`.
fn initializer(s: &Session, e: &Expr, shape: &[usize], n: usize) -> Result<Vec<f64>, ParamError> {
    let c = read_init(s, e)?;
    let mut rng = s.rng.borrow_mut();
    let span = || c.span.clone();
    Ok(match c.name {
        "zeros" => vec![0.0; n],
        "ones" => vec![1.0; n],
        "constant" => {
            if c.vals[0].is_none() {
                return Err(ParamError::ConstantNeedsValue { span: span() });
            }
            vec![c.num(0); n]
        }
        "uniform" => {
            let (a, b) = (c.num(0), c.num(1));
            if a > b || !a.is_finite() || !b.is_finite() {
                return Err(ParamError::UniformRange { span: span() });
            }
            rng.uniform(a, b, n)
        }
        "normal" => {
            let (m, sd) = (c.num(0), c.num(1));
            if sd < 0.0 || !m.is_finite() || !sd.is_finite() {
                return Err(ParamError::NormalStd {
                    span: c.arg_span(1),
                });
            }
            rng.normal(m, sd, n)
        }
        "xavier_uniform" | "xavier_normal" => {
            let (fi, fo) = c.fans(shape)?;
            let std = c.num(0) * (2.0 / (fi + fo)).sqrt();
            if c.name == "xavier_uniform" {
                let a = 3f64.sqrt() * std;
                rng.uniform(-a, a, n)
            } else {
                rng.normal(0.0, std, n)
            }
        }
        _ => {
            let std = kaiming_std(&c, shape)?;
            if c.name == "kaiming_uniform" {
                let b = 3f64.sqrt() * std;
                rng.uniform(-b, b, n)
            } else {
                rng.normal(0.0, std, n)
            }
        }
    })
}

/// kaiming_uniform / kaiming_normal's standard deviation: gain / sqrt(fan).
fn kaiming_std(c: &InitCall, shape: &[usize]) -> Result<f64, ParamError> {
    let (fi, fo) = c.fans(shape)?;
    let mode = c.text(1);
    let fan = match mode.as_str() {
        "fan_in" => fi,
        "fan_out" => fo,
        _ => {
            return Err(ParamError::BadMode {
                mode,
                span: c.arg_span(1),
            })
        }
    };
    let nl = c.text(2);
    let g = init::gain(&nl, Some(c.num(0))).map_err(|msg| ParamError::BadNonlinearity {
        msg,
        span: c.arg_span(2),
        suggestion: super::names::suggest(&nl, init::NONLINEARITIES.iter().copied()),
    })?;
    Ok(g / fan.sqrt())
}

/// A mistake in a `param` declaration or in a value given to a parameter.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ParamError {
    /// A redeclared or built-in name, an option given twice.
    #[error(transparent)]
    Name(#[from] NameError),
    /// A value, dimension or option that is not a constant number.
    #[error(transparent)]
    Lower(#[from] LowerError),
    /// `in [LO, HI]` with LO >= HI (or a nan); `span` is the whole range.
    #[error("invalid limits")]
    InvalidLimits { lo: f64, hi: f64, span: Span },
    #[error("a step must be > 0")]
    BadStep { value: f64, span: Span },
    /// `x = V` where V's shape is not x's (nor a scalar).
    #[error(
        "`{name}` has shape {}, the value has shape {}",
        shape_str(param),
        shape_str(value)
    )]
    ValueShape {
        name: String,
        param: Shape,
        value: Shape,
        span: Span,
    },
    /// `x = V` where V is outside x's limits, or an initial value outside
    /// the declared ones (`span` is then the name).
    #[error("value outside the limits of `{name}`")]
    ValueOutsideLimits {
        name: String,
        value: f64,
        lo: f64,
        hi: f64,
        span: Span,
    },
    #[error("a parameter's dimensions must be >= 1")]
    DimTooSmall { dim: i64, span: Span },
    /// `param w[2] = [1, 2, 3]`: `span` is the value, `dims` the dimensions.
    #[error(
        "`{name}` is declared with shape {}, but its value has shape {}",
        shape_str(declared),
        shape_str(value)
    )]
    DeclaredShape {
        name: String,
        declared: Shape,
        value: Shape,
        span: Span,
        dims: Span,
    },
    #[error("expected an initializer after `~`")]
    NotAnInitializer { span: Span },
    #[error("unknown initializer `{name}`")]
    UnknownInitializer {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    /// More positional arguments than the initializer has options.
    #[error("`{name}` takes at most {max} arguments")]
    InitTooManyArgs {
        name: String,
        max: usize,
        span: Span,
    },
    /// A string option (`mode`, `nonlinearity`) given a number.
    #[error("`{option}` is a string such as \"{example}\"")]
    InitNotString {
        option: &'static str,
        example: &'static str,
        span: Span,
    },
    /// xavier and kaiming need a fan in and out: 2 dimensions at least.
    #[error(
        "`{name}` needs a parameter of at least 2 dimensions, this one has shape {}",
        shape_str(shape)
    )]
    NeedsFans {
        name: String,
        shape: Shape,
        span: Span,
    },
    #[error("`constant` needs its value: constant(v)")]
    ConstantNeedsValue { span: Span },
    #[error("uniform(a, b) needs finite a <= b")]
    UniformRange { span: Span },
    #[error("normal(mean, std) needs a finite std >= 0")]
    NormalStd { span: Span },
    #[error("mode must be \"fan_in\" or \"fan_out\", not \"{mode}\"")]
    BadMode { mode: String, span: Span },
    /// A nonlinearity torch's calculate_gain does not know (`msg` is its).
    #[error("{msg}")]
    BadNonlinearity {
        msg: String,
        span: Span,
        suggestion: Option<String>,
    },
}

fn outside(value: f64, lo: f64, hi: f64) -> String {
    format!(
        "{} is outside [{}, {}]",
        fmt_num(value),
        fmt_num(lo),
        fmt_num(hi)
    )
}

impl IntoDiagnostic for ParamError {
    fn into_diagnostic(self) -> Diag {
        use ParamError as P;
        let message = self.to_string();
        let err = |code: Code| Diag::error(code, message.clone());
        let initializers = || format!("help: one of {}", init::INITIALIZERS.join(", "));
        match self {
            P::Name(e) => e.into_diagnostic(),
            P::Lower(e) => e.into_diagnostic(),
            P::InvalidLimits { lo, hi, span } => err(Code::E0207)
                .at(span, format!("[{}, {}] is empty", fmt_num(lo), fmt_num(hi)))
                .note("help: limits are `in [LO, HI]` with LO < HI"),
            P::BadStep { value, span } => err(Code::E0207)
                .at(span, format!("this is {}", fmt_num(value)))
                .note("help: `step S` is Minuit's initial step size (iminuit's `errors`)"),
            P::ValueShape { span, .. } => err(Code::E0402).at(span, "wrong shape"),
            P::ValueOutsideLimits {
                value,
                lo,
                hi,
                span,
                ..
            } => err(Code::E0207).at(span, outside(value, lo, hi)),
            P::DimTooSmall { dim, span } => err(Code::E0207).at(span, format!("this is {dim}")),
            P::DeclaredShape {
                declared,
                value,
                span,
                dims,
                ..
            } => err(Code::E0402)
                .at(span, format!("shape {}", shape_str(&value)))
                .at(dims, format!("shape {}", shape_str(&declared))),
            P::NotAnInitializer { span } => err(Code::E0207)
                .at(span, "not an initializer")
                .note(initializers()),
            P::UnknownInitializer {
                span, suggestion, ..
            } => {
                let d = err(Code::E0207).at(span, "not an initializer");
                match suggestion {
                    Some(m) => d.note(format!("help: did you mean `{m}`?")),
                    None => d.note(initializers()),
                }
            }
            P::InitTooManyArgs { span, .. } => err(Code::E0203).at(span, "one too many"),
            P::InitNotString { span, .. } => err(Code::E0206).at(span, "not a string"),
            P::NeedsFans { span, .. } => err(Code::E0207)
                .at(span, "fan in and fan out cannot be computed")
                .note("help: for a vector use uniform(a, b) or normal(mean, std)"),
            P::ConstantNeedsValue { span } => err(Code::E0203).at(span, "no value"),
            P::UniformRange { span } => err(Code::E0207).at(span, "empty range"),
            P::NormalStd { span } => err(Code::E0207).at(span, "here"),
            P::BadMode { span, .. } => err(Code::E0207).at(span, "bad mode"),
            P::BadNonlinearity {
                span, suggestion, ..
            } => {
                let d = err(Code::E0207).at(span, "bad nonlinearity");
                match suggestion {
                    Some(x) => d.note(format!("help: did you mean \"{x}\"?")),
                    None => d,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ParamError as P;
    use crate::diagnostics::Code;
    use crate::interp::testutil::{first_error, run, session_for};
    use crate::interp::Outcome;
    use crate::syntax::ast::StmtKind;

    /// The error of the last statement of `src` (a `param` or an
    /// assignment), the others run first, and the text of its primary span.
    fn param_error(src: &str) -> (P, String) {
        let program = crate::syntax::parse(src).expect("parses");
        let mut s = session_for(src);
        let (last, before) = program.stmts.split_last().expect("a statement");
        for st in before {
            s.exec(st).expect("runs");
        }
        let e = match &last.kind {
            StmtKind::Param(d) => s.declare_param(d).expect_err("an error"),
            StmtKind::Assign(n, e) => {
                let i = s.param_index(&n.name).expect("a parameter");
                let v = s.eval(e).expect("evaluates");
                s.set_param_value(i, v, &e.span).expect_err("an error")
            }
            _ => panic!("not a param or an assignment"),
        };
        let d = crate::diagnostics::IntoDiagnostic::into_diagnostic(e.clone());
        (e, src[d.labels[0].0.clone()].to_string())
    }

    #[test]
    fn limits_and_steps_are_typed() {
        let (e, at) = param_error("param x = 1 in [2, 0];");
        assert!(
            matches!(
                e,
                P::InvalidLimits {
                    lo: 2.0,
                    hi: 0.0,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(at, "in [2, 0]");
        let (e, at) = param_error("param x = 3 in [0, 2];");
        assert!(
            matches!(&e, P::ValueOutsideLimits { name, value: 3.0, .. } if name == "x"),
            "{e:?}"
        );
        assert_eq!(at, "x");
        let (e, at) = param_error("param x = 1 step -1;");
        assert!(matches!(e, P::BadStep { value: -1.0, .. }), "{e:?}");
        assert_eq!(at, "-1");
        let (e, at) = param_error("param x = 1 in [0, 2]; x = 5;");
        assert!(matches!(&e, P::ValueOutsideLimits { name, value: 5.0, .. } if name == "x"));
        assert_eq!(at, "5");
        let (e, _) = param_error("param w[2] = 0; w = [1, 2, 3];");
        assert!(matches!(&e, P::ValueShape { param, value, .. } if param == &[2] && value == &[3]));
    }

    #[test]
    fn shapes_of_tensor_parameters_are_typed() {
        let (e, at) = param_error("param w[2, 0];");
        assert!(matches!(e, P::DimTooSmall { dim: 0, .. }), "{e:?}");
        assert_eq!(at, "0");
        let (e, at) = param_error("param w[2] = [1, 2, 3];");
        assert!(
            matches!(&e, P::DeclaredShape { declared, .. } if declared == &[2]),
            "{e:?}"
        );
        assert_eq!(at, "[1, 2, 3]");
        let (e, _) = param_error("param w[1.5];");
        assert!(matches!(
            e,
            P::Lower(crate::interp::lower::LowerError::NotWhole { .. })
        ));
    }

    #[test]
    fn initializer_calls_are_checked_against_their_signature() {
        let (e, _) = param_error("param w[2] ~ 3;");
        assert!(matches!(e, P::NotAnInitializer { .. }), "{e:?}");
        let (e, at) = param_error("param w[2] ~ unifrom(0, 1);");
        assert!(matches!(&e, P::UnknownInitializer { suggestion: Some(s), .. } if s == "uniform"));
        assert_eq!(at, "unifrom");
        let (e, at) = param_error("param w[2] ~ uniform(0, 1, 2);");
        assert!(matches!(e, P::InitTooManyArgs { max: 2, .. }), "{e:?}");
        assert_eq!(at, "2");
        let (e, at) = param_error("param w[2] ~ normal(sd=1);");
        assert!(
            matches!(&e, P::Name(super::NameError::UnknownOption { option, .. }) if option == "sd"),
            "{e:?}"
        );
        assert_eq!(at, "sd");
        let (e, _) = param_error("param w[2] ~ normal(0, std=1, mean=0);");
        assert!(
            matches!(e, P::Name(super::NameError::OptionTwice { .. })),
            "{e:?}"
        );
        let (e, _) = param_error("param w[2, 2] ~ kaiming_uniform(mode=1);");
        assert!(
            matches!(e, P::InitNotString { option: "mode", .. }),
            "{e:?}"
        );
    }

    #[test]
    fn initializer_values_are_checked() {
        let (e, _) = param_error("param w[2] ~ xavier_uniform;");
        assert!(
            matches!(&e, P::NeedsFans { shape, .. } if shape == &[2]),
            "{e:?}"
        );
        let (e, _) = param_error("param w[2] ~ constant;");
        assert!(matches!(e, P::ConstantNeedsValue { .. }), "{e:?}");
        let (e, _) = param_error("param w[2] ~ uniform(1, 0);");
        assert!(matches!(e, P::UniformRange { .. }), "{e:?}");
        let (e, at) = param_error("param w[2] ~ normal(0, -1);");
        assert!(matches!(e, P::NormalStd { .. }), "{e:?}");
        assert_eq!(at, "-1");
        let (e, at) = param_error("param w[2, 2] ~ kaiming_normal(mode=\"fan\");");
        assert!(
            matches!(&e, P::BadMode { mode, .. } if mode == "fan"),
            "{e:?}"
        );
        assert_eq!(at, "mode=\"fan\"");
        let (e, _) = param_error("param w[2, 2] ~ kaiming_normal(nonlinearity=\"rel\");");
        assert!(
            matches!(
                e,
                P::BadNonlinearity {
                    suggestion: Some(_),
                    ..
                }
            ),
            "{e:?}"
        );
    }

    /// The primary label's source text in `src`.
    fn at<'a>(src: &'a str, d: &crate::diagnostics::Diag) -> &'a str {
        &src[d.labels[0].0.clone()]
    }

    #[test]
    fn a_declaration_sets_value_limits_and_step() {
        let r =
            run("param x = 1 in [0, 2]; param w[2, 3] = 4; param z = 1 step 0.5; print x, sum(w);");
        assert_eq!(r.outcome, Outcome::Ok, "{}", r.err);
        assert_eq!(r.out, "1.0 24.0\n");
        let p = &r.session.params;
        assert_eq!((p[0].lower, p[0].upper), (Some(0.0), Some(2.0)));
        assert_eq!(p[1].value.shape, vec![2, 3]);
    }

    #[test]
    fn bad_declarations_point_at_their_part() {
        // an initial value outside the limits is labelled at the name
        let src = "param x = 3 in [0, 2];";
        let d = first_error(src);
        assert_eq!((d.code, at(src, &d)), (Code::E0207, "x"));
        let src = "param x = 1 in [2, 0];";
        let d = first_error(src);
        assert_eq!(
            (d.code, d.message.as_str()),
            (Code::E0207, "invalid limits")
        );
        let src = "param w[2, 0];";
        let d = first_error(src);
        assert_eq!((d.code, at(src, &d)), (Code::E0207, "0"));
        let src = "param w[2] = [1, 2, 3];";
        let d = first_error(src);
        assert_eq!((d.code, at(src, &d)), (Code::E0402, "[1, 2, 3]"));
        assert_eq!(first_error("param x = 1 step 0;").code, Code::E0207);
    }

    #[test]
    fn the_rank_cap_is_checked_at_the_dimensions() {
        let dims = vec!["1"; 65].join(", ");
        let src = format!("param w[{dims}];");
        let d = first_error(&src);
        assert_eq!(d.code, Code::E0402);
        assert!(d.message.contains("65 axes"), "{}", d.message);
        assert_eq!(at(&src, &d), dims);
    }

    #[test]
    fn an_assignment_keeps_shape_and_limits() {
        let r = run("param x = 1 in [0, 2]; x = 1.5; print x;");
        assert_eq!(r.out, "1.5\n");
        assert_eq!(
            first_error("param x = 1 in [0, 2]; x = 3;").code,
            Code::E0207
        );
        assert_eq!(
            first_error("param w[2] = 0; w = [1, 2, 3];").code,
            Code::E0402
        );
    }
}
