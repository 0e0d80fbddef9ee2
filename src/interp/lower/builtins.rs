//! Lowering of the built-in functions that are more than one graph op:
//! constructors (`linspace`, `arange`, `zeros`,
//! `ones`, `full`), random functions, `reshape`, `transpose`, `dot` and
//! `csv`. Constructors and random functions make constant nodes when they
//! are lowered; the random ones draw from the session's one stream.

use super::name_error::NameError;
use super::tensor::{const_int, const_num, const_tensor, matmul_nodes, shape_arg, whole};
use super::{shape_mismatch, too_big, LVal, LowerError, Lowerer};
use crate::builtins::Call;
use crate::diagnostics::Span;
use crate::graph::Op;
use crate::syntax::ast::Expr;
use crate::tensor::{checked_numel, max_elements, shape_str, Shape, Tensor};

fn constant(l: &mut Lowerer, shape: Shape, data: Vec<f64>) -> LVal {
    LVal::Num(l.g.constant(Tensor { shape, data }))
}

/// Constructors, random functions, reshape, transpose, dot, csv (their
/// arguments already checked against the registry).
pub fn lower_builtin(
    l: &mut Lowerer,
    name: &str,
    call: &Call,
    whole_e: &Expr,
) -> Result<LVal, LowerError> {
    let span = &whole_e.span;
    match name {
        "linspace" | "arange" => ranges(l, name, call, span),
        "zeros" | "ones" | "full" | "rand" | "randn" | "randint" => filled(l, name, call, span),
        "reshape" => reshape(l, call, span),
        _ => others(l, name, call, span),
    }
}

/// linspace and arange: evenly spaced values.
fn ranges(l: &mut Lowerer, name: &str, call: &Call, span: &Span) -> Result<LVal, LowerError> {
    let pos = &call.pos;
    let named_arg = |k: &str| call.opt(k);
    match name {
        "linspace" => {
            let a = const_num(l, pos[0], "linspace's start")?;
            let b = const_num(l, pos[1], "linspace's end")?;
            let n = const_int(l, pos[2], "linspace's number of points")?;
            if n < 0 {
                return Err(LowerError::LinspaceCount {
                    count: n,
                    span: pos[2].span.clone(),
                });
            }
            let n = n as usize;
            if checked_numel(&[n]).is_none() {
                return Err(too_big(&[n], span));
            }
            Ok(constant(l, vec![n], linspace(a, b, n)))
        }
        "arange" => {
            let (a, b) = if pos.len() == 1 {
                (0.0, const_num(l, pos[0], "arange's end")?)
            } else {
                (
                    const_num(l, pos[0], "arange's start")?,
                    const_num(l, pos[1], "arange's end")?,
                )
            };
            let step_e = pos.get(2).copied().or(named_arg("step"));
            if let (3, Some(e)) = (pos.len(), named_arg("step")) {
                // the same mistake and wording as any other option given twice
                return Err(NameError::OptionTwice {
                    name: "step".into(),
                    span: e.span.clone(),
                }
                .into());
            }
            let step = match step_e {
                Some(e) => const_num(l, e, "arange's step")?,
                None => 1.0,
            };
            let espan = step_e.map(|e| e.span.clone()).unwrap_or(span.clone());
            if step == 0.0 || !step.is_finite() || !a.is_finite() || !b.is_finite() {
                return Err(LowerError::ArangeBounds { span: espan });
            }
            let n = ((b - a) / step).ceil().max(0.0);
            if n > max_elements() as f64 {
                return Err(too_big(&[n as usize], span));
            }
            let n = n as usize;
            Ok(constant(
                l,
                vec![n],
                (0..n).map(|i| a + i as f64 * step).collect(),
            ))
        }
        _ => Err(LowerError::NotSupportedYet {
            name: name.to_string(),
            span: span.clone(),
        }),
    }
}

/// zeros, ones, full and the random tensors of a shape.
fn filled(l: &mut Lowerer, name: &str, call: &Call, span: &Span) -> Result<LVal, LowerError> {
    let pos = &call.pos;
    match name {
        "zeros" | "ones" => {
            let s = shape_arg(l, pos[0])?;
            let v = if name == "zeros" { 0.0 } else { 1.0 };
            let n = crate::tensor::numel(&s);
            Ok(constant(l, s, vec![v; n]))
        }
        "full" => {
            let s = shape_arg(l, pos[0])?;
            let v = const_num(l, pos[1], "full's value")?;
            let n = crate::tensor::numel(&s);
            Ok(constant(l, s, vec![v; n]))
        }
        "rand" | "randn" => {
            let s = shape_arg(l, pos[0])?;
            let n = crate::tensor::numel(&s);
            let data = {
                let mut r = l.s.rng.borrow_mut();
                if name == "rand" {
                    r.uniform(0.0, 1.0, n)
                } else {
                    r.normal(0.0, 1.0, n)
                }
            };
            Ok(constant(l, s, data))
        }
        "randint" => {
            let lo = const_int(l, pos[0], "randint's low")?;
            let hi = const_int(l, pos[1], "randint's high")?;
            if lo >= hi {
                return Err(LowerError::RandintRange {
                    lo,
                    hi,
                    span: span.clone(),
                });
            }
            let s = shape_arg(l, pos[2])?;
            let n = crate::tensor::numel(&s);
            let data = l.s.rng.borrow_mut().randint(lo, hi, n);
            Ok(constant(l, s, data))
        }
        _ => Err(LowerError::NotSupportedYet {
            name: name.to_string(),
            span: span.clone(),
        }),
    }
}

/// reshape(x, shape), one dimension of which may be -1.
fn reshape(l: &mut Lowerer, call: &Call, span: &Span) -> Result<LVal, LowerError> {
    let pos = &call.pos;
    let x = l.num(pos[0])?;
    let t = const_tensor(l, pos[1], "a shape")?;
    let from = l.g.shape(x).to_vec();
    let total = crate::tensor::numel(&from);
    let mut dims = Vec::new();
    let mut hole = None;
    for (i, &v) in t.data.iter().enumerate() {
        let k = whole(v, pos[1], "a dimension")?;
        if k == -1 {
            if hole.is_some() {
                return Err(LowerError::ReshapeTwoHoles {
                    span: pos[1].span.clone(),
                });
            }
            hole = Some(i);
            dims.push(1);
        } else if k < 0 {
            return Err(LowerError::ReshapeBadDim {
                dim: k,
                span: pos[1].span.clone(),
            });
        } else {
            dims.push(k as usize);
        }
    }
    if dims.len() > crate::tensor::MAX_RANK {
        return Err(too_big(&dims, &pos[1].span));
    }
    let known = checked_numel(&dims).unwrap_or(usize::MAX);
    if let Some(h) = hole {
        if known == 0 || !total.is_multiple_of(known) {
            return Err(LowerError::ReshapeNoFit {
                msg: format!(
                    "cannot reshape {} into {}",
                    shape_str(&from),
                    shape_str(&dims).replace(&format!("{}", dims[h]), "-1")
                ),
                span: span.clone(),
            });
        }
        dims[h] = total / known;
    }
    let n =
        l.g.reshape(x, &dims)
            .map_err(|e| LowerError::ReshapeNoFit {
                msg: e.0,
                span: span.clone(),
            })?;
    Ok(LVal::Num(n))
}

/// transpose, dot and csv.
fn others(l: &mut Lowerer, name: &str, call: &Call, span: &Span) -> Result<LVal, LowerError> {
    let pos = &call.pos;
    match name {
        "transpose" => {
            let x = l.num(pos[0])?;
            let r = l.g.shape(x).len();
            let perm: Vec<usize> = (0..r).rev().collect();
            let n = l.g.permute(x, &perm).map_err(|e| shape_mismatch(e, span))?;
            Ok(LVal::Num(n))
        }
        "dot" => {
            let x = l.num(pos[0])?;
            let y = l.num(pos[1])?;
            let n = if l.g.shape(x).is_empty() || l.g.shape(y).is_empty() {
                l.g.node(Op::Mul, &[x, y])
                    .map_err(|e| shape_mismatch(e, span))?
            } else {
                matmul_nodes(l.g, x, y).map_err(|m| LowerError::MatMul {
                    msg: m.replace("matmul", "dot"),
                    span: span.clone(),
                    dot: true,
                })?
            };
            Ok(LVal::Num(n))
        }
        "csv" => {
            let LVal::Str(p) = l.lower(pos[0])? else {
                return Err(LowerError::CsvNotString {
                    span: pos[0].span.clone(),
                });
            };
            let path = l.s.base_dir.join(&p);
            let t = crate::tensor::csv::read(&path, &p, max_elements()).map_err(|msg| {
                LowerError::Csv {
                    msg,
                    span: pos[0].span.clone(),
                }
            })?;
            let n = l.g.constant(t.values);
            Ok(LVal::Table(n, std::rc::Rc::new((t.file, t.names))))
        }
        _ => Err(LowerError::NotSupportedYet {
            name: name.to_string(),
            span: span.clone(),
        }),
    }
}

/// torch.linspace's values.
pub fn linspace(a: f64, b: f64, n: usize) -> Vec<f64> {
    if n == 1 {
        return vec![a];
    }
    let step = (b - a) / (n as f64 - 1.0);
    let half = n / 2;
    (0..n)
        .map(|i| {
            if i < half {
                a + step * i as f64
            } else {
                b - step * (n - i - 1) as f64
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::LowerError as L;
    use super::NameError;
    use crate::interp::testutil::lower_error;

    #[test]
    fn constructors_check_their_counts_and_ranges() {
        let (e, at) = lower_error("", "linspace(0, 1, -2)");
        assert!(matches!(e, L::LinspaceCount { count: -2, .. }), "{e:?}");
        assert_eq!(at, "-2");
        let (e, at) = lower_error("", "arange(0, 5, 1, step=2)");
        assert!(
            matches!(&e, L::Name(NameError::OptionTwice { name, .. }) if name == "step"),
            "{e:?}"
        );
        assert_eq!(at, "2");
        let (e, at) = lower_error("", "arange(0, 5, 0)");
        assert!(matches!(e, L::ArangeBounds { .. }), "{e:?}");
        assert_eq!(at, "0");
        let (e, _) = lower_error("", "randint(3, 3, [2])");
        assert!(matches!(e, L::RandintRange { lo: 3, hi: 3, .. }), "{e:?}");
    }

    #[test]
    fn reshape_names_what_does_not_fit() {
        let (e, at) = lower_error("", "reshape([1, 2, 3, 4], [-1, -1])");
        assert!(matches!(e, L::ReshapeTwoHoles { .. }), "{e:?}");
        assert_eq!(at, "[-1, -1]");
        let (e, _) = lower_error("", "reshape([1, 2, 3, 4], [2, -3])");
        assert!(matches!(e, L::ReshapeBadDim { dim: -3, .. }), "{e:?}");
        let (e, _) = lower_error("", "reshape([1, 2, 3, 4], [3, -1])");
        assert!(
            matches!(&e, L::ReshapeNoFit { msg, .. } if msg == "cannot reshape [4] into [3, -1]"),
            "{e:?}"
        );
        let (e, _) = lower_error("", "reshape([1, 2, 3, 4], [3])");
        assert!(matches!(e, L::ReshapeNoFit { .. }), "{e:?}");
    }

    #[test]
    fn dot_and_csv_errors() {
        let (e, _) = lower_error("", "dot([1, 2], [1, 2, 3])");
        assert!(
            matches!(&e, L::MatMul { dot: true, msg, .. } if msg.starts_with("dot of")),
            "{e:?}"
        );
        let (e, at) = lower_error("", "csv(1)");
        assert!(matches!(e, L::CsvNotString { .. }), "{e:?}");
        assert_eq!(at, "1");
        let (e, at) = lower_error("", "csv(\"no-such-file.csv\")");
        assert!(matches!(e, L::Csv { .. }), "{e:?}");
        assert_eq!(at, "\"no-such-file.csv\"");
    }
}
