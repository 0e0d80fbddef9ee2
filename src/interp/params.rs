//! Parameters: `param` declarations (scalars and tensors, with limits and
//! `fixed`), assigning a parameter a new value (its shape and limits are
//! checked), and the torch.nn.init initializers of tensor parameters, which
//! draw from the session's one random stream.

use super::lower::tensor::{err402, too_big, whole};
use super::{ParamInfo, Session};
use crate::diagnostics::{Diag, Span};
use crate::syntax::ast::{Arg, Expr, ExprKind, ParamDecl, ParamInit};
use crate::tensor::{checked_numel, fmt_num, init, shape_str, Tensor};

impl Session {
    pub(super) fn declare_param(&mut self, d: &ParamDecl) -> Result<(), Diag> {
        self.check_new_name(&d.name.name, &d.name.span)?;
        let value = match (&d.dims, &d.init) {
            (None, ParamInit::Value(e)) => self.const_value(e, "a parameter's initial value")?,
            _ => tensor_param_value(self, d)?,
        };
        let (mut lower, mut upper) = (None, None);
        if let Some(l) = &d.limits {
            let lo = self.const_scalar(&l.lo)?;
            let hi = self.const_scalar(&l.hi)?;
            if lo.is_nan() || hi.is_nan() || lo >= hi {
                return Err(Diag::error("E0207", "invalid limits")
                    .at(
                        l.span.clone(),
                        format!("[{}, {}] is empty", fmt_num(lo), fmt_num(hi)),
                    )
                    .note("help: limits are `in [LO, HI]` with LO < HI"));
            }
            lower = (lo > f64::NEG_INFINITY).then_some(lo);
            upper = (hi < f64::INFINITY).then_some(hi);
            if let Some(bad) = value.data.iter().find(|v| !(lo..=hi).contains(*v)) {
                return Err(
                    Diag::error("E0207", "the initial value is outside the limits").at(
                        d.name.span.clone(),
                        format!(
                            "value {} is outside [{}, {}]",
                            fmt_num(*bad),
                            fmt_num(lo),
                            fmt_num(hi)
                        ),
                    ),
                );
            }
        }
        let step = match &d.step {
            None => None,
            Some(e) => {
                let v = self.const_scalar(e)?;
                if !(v > 0.0 && v.is_finite()) {
                    return Err(Diag::error("E0207", "a step must be > 0")
                        .at(e.span.clone(), format!("this is {}", fmt_num(v)))
                        .note(
                            "help: `step S` is Minuit's initial step size (iminuit's `errors`)",
                        ));
                }
                Some(v)
            }
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

    pub(super) fn set_param_value(&mut self, i: usize, v: Tensor, span: &Span) -> Result<(), Diag> {
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
            return Err(Diag::error(
                "E0402",
                format!(
                    "`{}` has shape {}, the value has shape {}",
                    p.name,
                    crate::tensor::shape_str(&p.value.shape),
                    crate::tensor::shape_str(&v.shape)
                ),
            )
            .at(span.clone(), "wrong shape"));
        }
        let lo = p.lower.unwrap_or(f64::NEG_INFINITY);
        let hi = p.upper.unwrap_or(f64::INFINITY);
        if let Some(bad) = v.data.iter().find(|x| !(lo..=hi).contains(*x)) {
            return Err(
                Diag::error("E0207", format!("value outside the limits of `{}`", p.name)).at(
                    span.clone(),
                    format!(
                        "{} is outside [{}, {}]",
                        fmt_num(*bad),
                        fmt_num(lo),
                        fmt_num(hi)
                    ),
                ),
            );
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

fn init_signature(name: &str) -> Option<&'static [(&'static str, Opt)]> {
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

#[derive(Clone, Debug)]
enum OptVal {
    Num(f64),
    Str(String),
}

/// The initial value of a tensor parameter `param w[D1, ...] [~ INIT | = EXPR]`.
pub fn tensor_param_value(s: &Session, d: &ParamDecl) -> Result<Tensor, Diag> {
    let pname = &d.name.name;
    let mut shape = Vec::new();
    for e in d.dims.as_deref().unwrap_or(&[]) {
        let v = s.const_scalar(e)?;
        let k = whole(v, e, "a dimension")?;
        if k < 1 {
            return Err(
                Diag::error("E0207", "a parameter's dimensions must be >= 1")
                    .at(e.span.clone(), format!("this is {k}")),
            );
        }
        shape.push(k as usize);
    }
    let dims_span = d
        .dims
        .as_ref()
        .and_then(|v| Some(v.first()?.span.start..v.last()?.span.end))
        .unwrap_or(d.name.span.clone());
    let Some(n) = checked_numel(&shape) else {
        return Err(too_big(&shape, &dims_span));
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
                return Err(err402(
                    format!(
                        "`{pname}` is declared with shape {}, but its value has shape {}",
                        shape_str(&shape),
                        shape_str(&v.shape)
                    ),
                    &e.span,
                    format!("shape {}", shape_str(&v.shape)),
                )
                .at(dims_span, format!("shape {}", shape_str(&shape))));
            }
        }
        ParamInit::Init(e) => initializer(s, e, &shape, n)?,
    };
    Ok(Tensor { shape, data })
}

fn initializer(s: &Session, e: &Expr, shape: &[usize], n: usize) -> Result<Vec<f64>, Diag> {
    let (iname, ispan, args): (&str, &Span, &[Arg]) = match &e.kind {
        ExprKind::Name(nm) => (nm, &e.span, &[]),
        ExprKind::Call(f, args) => (&f.name, &f.span, args),
        _ => {
            return Err(Diag::error("E0207", "expected an initializer after `~`")
                .at(e.span.clone(), "not an initializer")
                .note(format!("help: one of {}", init::INITIALIZERS.join(", "))))
        }
    };
    let Some(sig) = init_signature(iname) else {
        let mut d = Diag::error("E0207", format!("unknown initializer `{iname}`"))
            .at(ispan.clone(), "not an initializer");
        d = match super::names::suggest(iname, init::INITIALIZERS.iter().copied()) {
            Some(m) => d.note(format!("help: did you mean `{m}`?")),
            None => d.note(format!("help: one of {}", init::INITIALIZERS.join(", "))),
        };
        return Err(d);
    };
    let mut vals: Vec<Option<OptVal>> = vec![None; sig.len()];
    let mut npos = 0;
    for a in args {
        let k = match &a.name {
            None => {
                npos += 1;
                if npos > sig.len() {
                    return Err(Diag::error(
                        "E0203",
                        format!("`{iname}` takes at most {} arguments", sig.len()),
                    )
                    .at(a.span.clone(), "one too many"));
                }
                npos - 1
            }
            Some(nm) => match sig.iter().position(|(o, _)| *o == nm.name) {
                Some(k) => k,
                None => {
                    let names: Vec<&str> = sig.iter().map(|(o, _)| *o).collect();
                    let help = if names.is_empty() {
                        format!("help: `{iname}` takes no options")
                    } else {
                        format!("help: its options are {}", names.join(", "))
                    };
                    return Err(Diag::error(
                        "E0203",
                        format!("`{iname}` has no option `{}`", nm.name),
                    )
                    .at(nm.span.clone(), "unknown option")
                    .note(help));
                }
            },
        };
        if vals[k].is_some() {
            return Err(
                Diag::error("E0203", format!("`{}` is given twice", sig[k].0))
                    .at(a.span.clone(), "repeated"),
            );
        }
        let want_str = matches!(sig[k].1, Opt::Str(_));
        vals[k] = Some(match (&a.value.kind, want_str) {
            (ExprKind::Str(t), true) => OptVal::Str(t.clone()),
            (_, true) => {
                return Err(Diag::error(
                    "E0206",
                    format!(
                        "`{}` is a string such as \"{}\"",
                        sig[k].0,
                        match sig[k].1 {
                            Opt::Str(v) => v,
                            Opt::Num(_) => "",
                        }
                    ),
                )
                .at(a.value.span.clone(), "not a string"))
            }
            _ => OptVal::Num(s.const_scalar(&a.value)?),
        });
    }
    let arg_span = |k: usize| -> Span {
        args.iter()
            .find(|a| a.name.as_ref().is_some_and(|n| n.name == sig[k].0))
            .or_else(|| args.iter().filter(|a| a.name.is_none()).nth(k))
            .map(|a| a.span.clone())
            .unwrap_or(e.span.clone())
    };
    let num = |k: usize| match (&vals[k], &sig[k].1) {
        (Some(OptVal::Num(v)), _) => *v,
        (_, Opt::Num(v)) => *v,
        _ => f64::NAN,
    };
    let st = |k: usize| match (&vals[k], &sig[k].1) {
        (Some(OptVal::Str(v)), _) => v.clone(),
        (_, Opt::Str(v)) => v.to_string(),
        _ => String::new(),
    };
    let fans = || {
        init::fans(shape).ok_or_else(|| {
            Diag::error(
                "E0207",
                format!(
                    "`{iname}` needs a parameter of at least 2 dimensions, this one has shape {}",
                    shape_str(shape)
                ),
            )
            .at(e.span.clone(), "fan in and fan out cannot be computed")
            .note("help: for a vector use uniform(a, b) or normal(mean, std)")
        })
    };
    let mut rng = s.rng.borrow_mut();
    Ok(match iname {
        "zeros" => vec![0.0; n],
        "ones" => vec![1.0; n],
        "constant" => {
            if vals[0].is_none() {
                return Err(
                    Diag::error("E0203", "`constant` needs its value: constant(v)")
                        .at(e.span.clone(), "no value"),
                );
            }
            vec![num(0); n]
        }
        "uniform" => {
            let (a, b) = (num(0), num(1));
            if a > b || !a.is_finite() || !b.is_finite() {
                return Err(Diag::error("E0207", "uniform(a, b) needs finite a <= b")
                    .at(e.span.clone(), "empty range"));
            }
            rng.uniform(a, b, n)
        }
        "normal" => {
            let (m, sd) = (num(0), num(1));
            if sd < 0.0 || !m.is_finite() || !sd.is_finite() {
                return Err(
                    Diag::error("E0207", "normal(mean, std) needs a finite std >= 0")
                        .at(arg_span(1), "here"),
                );
            }
            rng.normal(m, sd, n)
        }
        "xavier_uniform" | "xavier_normal" => {
            let (fi, fo) = fans()?;
            let std = num(0) * (2.0 / (fi + fo)).sqrt();
            if iname == "xavier_uniform" {
                let a = 3f64.sqrt() * std;
                rng.uniform(-a, a, n)
            } else {
                rng.normal(0.0, std, n)
            }
        }
        _ => {
            // kaiming_uniform / kaiming_normal
            let (fi, fo) = fans()?;
            let mode = st(1);
            let fan = match mode.as_str() {
                "fan_in" => fi,
                "fan_out" => fo,
                _ => {
                    return Err(Diag::error(
                        "E0207",
                        format!("mode must be \"fan_in\" or \"fan_out\", not \"{mode}\""),
                    )
                    .at(arg_span(1), "bad mode"))
                }
            };
            let nl = st(2);
            let g = init::gain(&nl, Some(num(0))).map_err(|m| {
                let mut d = Diag::error("E0207", m).at(arg_span(2), "bad nonlinearity");
                if let Some(x) = super::names::suggest(&nl, init::NONLINEARITIES.iter().copied()) {
                    d = d.note(format!("help: did you mean \"{x}\"?"));
                }
                d
            })?;
            let std = g / fan.sqrt();
            if iname == "kaiming_uniform" {
                let b = 3f64.sqrt() * std;
                rng.uniform(-b, b, n)
            } else {
                rng.normal(0.0, std, n)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Code;
    use crate::interp::testutil::{first_error, run};
    use crate::interp::Outcome;

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
