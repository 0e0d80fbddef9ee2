//! Lowering of the built-in functions that are more than one graph op:
//! constructors (`linspace`, `arange`, `zeros`,
//! `ones`, `full`), random functions, `reshape`, `transpose`, `dot` and
//! `csv`. Constructors and random functions make constant nodes when they
//! are lowered; the random ones draw from the session's one stream.

use super::tensor::{
    const_int, const_num, const_tensor, err402, matmul_nodes, shape_arg, shape_diag, too_big, whole,
};
use super::{LVal, Lowerer};
use crate::builtins::Call;
use crate::diagnostics::Diag;
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
) -> Result<LVal, Diag> {
    let span = &whole_e.span;
    let pos = &call.pos;
    let named_arg = |k: &str| call.opt(k);
    match name {
        "linspace" => {
            let a = const_num(l, pos[0], "linspace's start")?;
            let b = const_num(l, pos[1], "linspace's end")?;
            let n = const_int(l, pos[2], "linspace's number of points")?;
            if n < 0 {
                return Err(err402(
                    "linspace needs a number of points >= 0",
                    &pos[2].span,
                    format!("{n}"),
                ));
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
            if pos.len() == 3 && named_arg("step").is_some() {
                return Err(
                    Diag::error("E0203", "arange's step is given twice").at(span.clone(), "here")
                );
            }
            let step = match step_e {
                Some(e) => const_num(l, e, "arange's step")?,
                None => 1.0,
            };
            let espan = step_e.map(|e| e.span.clone()).unwrap_or(span.clone());
            if step == 0.0 || !step.is_finite() || !a.is_finite() || !b.is_finite() {
                return Err(err402(
                    "arange needs finite bounds and a nonzero step",
                    &espan,
                    "here",
                ));
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
                return Err(err402(
                    format!("randint needs low < high, here {lo} >= {hi}"),
                    span,
                    "empty range",
                ));
            }
            let s = shape_arg(l, pos[2])?;
            let n = crate::tensor::numel(&s);
            let data = l.s.rng.borrow_mut().randint(lo, hi, n);
            Ok(constant(l, s, data))
        }
        "reshape" => {
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
                        return Err(err402(
                            "reshape: only one dimension can be -1",
                            &pos[1].span,
                            "two -1",
                        ));
                    }
                    hole = Some(i);
                    dims.push(1);
                } else if k < 0 {
                    return Err(err402(
                        format!("reshape: bad dimension {k}"),
                        &pos[1].span,
                        "here",
                    ));
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
                    return Err(err402(
                        format!(
                            "cannot reshape {} into {}",
                            shape_str(&from),
                            shape_str(&dims).replace(&format!("{}", dims[h]), "-1")
                        ),
                        span,
                        "sizes do not fit",
                    ));
                }
                dims[h] = total / known;
            }
            let n =
                l.g.reshape(x, &dims)
                    .map_err(|e| err402(e.0, span, "sizes do not fit"))?;
            Ok(LVal::Num(n))
        }
        "transpose" => {
            let x = l.num(pos[0])?;
            let r = l.g.shape(x).len();
            let perm: Vec<usize> = (0..r).rev().collect();
            let n = l.g.permute(x, &perm).map_err(|e| shape_diag(e, span))?;
            Ok(LVal::Num(n))
        }
        "dot" => {
            let x = l.num(pos[0])?;
            let y = l.num(pos[1])?;
            let n = if l.g.shape(x).is_empty() || l.g.shape(y).is_empty() {
                l.g.node(Op::Mul, &[x, y])
                    .map_err(|e| shape_diag(e, span))?
            } else {
                matmul_nodes(l.g, x, y)
                    .map_err(|m| err402(m.replace("matmul", "dot"), span, "in this dot"))?
            };
            Ok(LVal::Num(n))
        }
        "csv" => {
            let LVal::Str(p) = l.lower(pos[0])? else {
                return Err(Diag::error("E0206", "csv takes a file name in quotes")
                    .at(pos[0].span.clone(), "not a string"));
            };
            let path = l.s.base_dir.join(&p);
            let t = crate::tensor::csv::read(&path, &p, max_elements())
                .map_err(|m| Diag::error("E0404", m).at(pos[0].span.clone(), "this file"))?;
            let n = l.g.constant(t.values);
            Ok(LVal::Table(n, std::rc::Rc::new((t.file, t.names))))
        }
        _ => Err(
            Diag::error("E0205", format!("`{name}` is not supported yet")).at(span.clone(), "here"),
        ),
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
