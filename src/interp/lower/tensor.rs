//! Lowering of the tensor parts of the language (SPEC section 6): array
//! literals, indexing, fields of csv tables, `@` and reductions, with the
//! constant-argument helpers (shapes, whole numbers) that the built-ins and
//! the parameter initializers share.

use super::error::{shape_mismatch, too_big, LowerError};
use super::{eval_node, LVal, Lowerer};
use crate::diagnostics::Span;
use crate::graph::{Axis, Graph, Ix, NodeId, Op, Red, ShapeError};
use crate::syntax::ast::{Expr, ExprKind, IndexArg};
use crate::tensor::{checked_numel, shape_str, Shape, Tensor};

/// The value of `e`, which must not depend on a parameter.
pub(crate) fn const_tensor(l: &mut Lowerer, e: &Expr, what: &str) -> Result<Tensor, LowerError> {
    let n = l.num(e)?;
    if l.g.varying[n as usize] {
        return Err(LowerError::NotConstant {
            what: what.to_string(),
            span: e.span.clone(),
        });
    }
    if let Some(t) = l.g.const_value(n) {
        return Ok(t.clone());
    }
    eval_node(l.s, l.g, n, &[], &e.span)
}

pub(crate) fn const_num(l: &mut Lowerer, e: &Expr, what: &str) -> Result<f64, LowerError> {
    let t = const_tensor(l, e, what)?;
    match t.item() {
        Some(v) if t.is_scalar() => Ok(v),
        _ => Err(LowerError::NotSingle {
            what: what.to_string(),
            shape: t.shape,
            span: e.span.clone(),
        }),
    }
}

pub(crate) fn whole(v: f64, e: &Expr, what: &str) -> Result<i64, LowerError> {
    if v.fract() != 0.0 || !v.is_finite() || v.abs() > 2f64.powi(53) {
        return Err(LowerError::NotWhole {
            what: what.to_string(),
            value: v,
            span: e.span.clone(),
        });
    }
    Ok(v as i64)
}

pub(crate) fn const_int(l: &mut Lowerer, e: &Expr, what: &str) -> Result<i64, LowerError> {
    let v = const_num(l, e, what)?;
    whole(v, e, what)
}

/// A shape argument: `[2, 3]` or a single number.
pub(crate) fn shape_arg(l: &mut Lowerer, e: &Expr) -> Result<Shape, LowerError> {
    let t = const_tensor(l, e, "a shape")?;
    if t.shape.len() > 1 {
        return Err(LowerError::ShapeNotList {
            shape: t.shape,
            span: e.span.clone(),
        });
    }
    let mut shape = Vec::with_capacity(t.data.len());
    for &v in &t.data {
        let k = whole(v, e, "a dimension")?;
        if k < 0 {
            return Err(LowerError::NegativeDim {
                dim: k,
                span: e.span.clone(),
            });
        }
        shape.push(k as usize);
    }
    let Some(n) = checked_numel(&shape) else {
        return Err(too_big(&shape, &e.span));
    };
    crate::budget::check_f64(n).map_err(|refused| LowerError::Memory {
        refused,
        span: e.span.clone(),
        what: format!("a {} tensor", shape_str(&shape)),
    })?;
    Ok(shape)
}

/// Array literals, indexing and fields.
pub fn lower_tensor_expr(l: &mut Lowerer, e: &Expr) -> Result<LVal, LowerError> {
    match &e.kind {
        ExprKind::Array(items) => array(l, items, &e.span),
        ExprKind::Index(a, idx) => index(l, a, idx, &e.span),
        ExprKind::Field(a, name) => {
            let LVal::Table(n, table) = l.lower(a)? else {
                return Err(LowerError::NotATable {
                    field: name.name.clone(),
                    span: a.span.clone(),
                });
            };
            let (file, names) = &*table;
            let Some(k) = names.iter().position(|c| *c == name.name) else {
                return Err(LowerError::NoColumn {
                    file: file.clone(),
                    column: name.name.clone(),
                    span: name.span.clone(),
                    columns: names.clone(),
                    suggestion: super::names::suggest(&name.name, names.iter().map(String::as_str)),
                });
            };
            if l.g.const_value(n).is_none() {
                // A batch of the table's rows (a graph input): its column k.
                let rows = l.g.shape(n)[0];
                let ix = [crate::graph::Ix::Range(0, rows), crate::graph::Ix::At(k)];
                let c = l.g.index(n, &ix).map_err(|m| LowerError::ColumnShape {
                    msg: m.0,
                    span: e.span.clone(),
                })?;
                return Ok(LVal::Num(c));
            }
            let t =
                l.g.const_value(n)
                    .cloned()
                    .unwrap_or_else(|| Tensor::scalar(f64::NAN));
            let nc = names.len();
            let rows = t.data.len() / nc.max(1);
            let col = Tensor {
                shape: vec![rows],
                data: (0..rows).map(|r| t.data[r * nc + k]).collect(),
            };
            Ok(LVal::Num(l.g.constant(col)))
        }
        _ => Err(LowerError::Unsupported {
            span: e.span.clone(),
        }),
    }
}

fn array(l: &mut Lowerer, items: &[Expr], span: &Span) -> Result<LVal, LowerError> {
    let mut nodes = Vec::with_capacity(items.len());
    for it in items {
        nodes.push(l.num(it)?);
    }
    if nodes.is_empty() {
        return Ok(LVal::Num(l.g.constant(Tensor {
            shape: vec![0],
            data: Vec::new(),
        })));
    }
    let s0 = l.g.shape(nodes[0]).to_vec();
    for (k, &n) in nodes.iter().enumerate() {
        if l.g.shape(n) != &s0[..] {
            return Err(LowerError::ArrayShapes {
                first: s0,
                first_span: items[0].span.clone(),
                other: l.g.shape(n).to_vec(),
                span: items[k].span.clone(),
            });
        }
    }
    let mut shape = vec![nodes.len()];
    shape.extend(&s0);
    if checked_numel(&shape).is_none() {
        return Err(too_big(&shape, span));
    }
    // Constant elements make a constant.
    if nodes.iter().all(|&n| l.g.const_value(n).is_some()) {
        let mut data = Vec::new();
        for &n in &nodes {
            data.extend_from_slice(
                &l.g.const_value(n)
                    .map(|t| t.data.clone())
                    .unwrap_or_default(),
            );
        }
        return Ok(LVal::Num(l.g.constant(Tensor { shape, data })));
    }
    let n =
        l.g.node(Op::Stack, &nodes)
            .map_err(|e| shape_mismatch(e, span))?;
    Ok(LVal::Num(n))
}

fn index(l: &mut Lowerer, a: &Expr, idx: &[IndexArg], span: &Span) -> Result<LVal, LowerError> {
    let x = l.num(a)?;
    let shape = l.g.shape(x).to_vec();
    if idx.len() > shape.len() {
        return Err(LowerError::TooManyIndices {
            count: idx.len(),
            shape,
            span: span.clone(),
        });
    }
    let mut ix = Vec::with_capacity(idx.len());
    for (d, i) in idx.iter().enumerate() {
        let n = shape[d] as i64;
        match i {
            IndexArg::At(e) => {
                let k = const_int(l, e, "an index")?;
                let kk = if k < 0 { k + n } else { k };
                if kk < 0 || kk >= n {
                    return Err(LowerError::IndexOutOfRange {
                        index: k,
                        axis: d,
                        shape,
                        span: e.span.clone(),
                    });
                }
                ix.push(Ix::At(kk as usize));
            }
            IndexArg::Slice(lo, hi, _) => {
                // NumPy: negative ends count from the end, then clamp.
                let mut end = |e: &Option<Expr>, dflt: i64| -> Result<i64, LowerError> {
                    let Some(e) = e else { return Ok(dflt) };
                    let k = const_int(l, e, "a slice bound")?;
                    let k = if k < 0 { k + n } else { k };
                    Ok(k.clamp(0, n))
                };
                let lo = end(lo, 0)?;
                let hi = end(hi, n)?.max(lo);
                ix.push(Ix::Range(lo as usize, hi as usize));
            }
        }
    }
    let n = l.g.index(x, &ix).map_err(|e| shape_mismatch(e, span))?;
    Ok(LVal::Num(n))
}

/// NumPy's matmul of two nodes.
pub(crate) fn matmul_nodes(g: &mut Graph, x: NodeId, y: NodeId) -> Result<NodeId, String> {
    let (sa, sb) = (g.shape(x).to_vec(), g.shape(y).to_vec());
    let what = || format!("matmul of shapes {} and {}", shape_str(&sa), shape_str(&sb));
    if sa.is_empty() || sb.is_empty() {
        return Err(format!("{}: an operand is a scalar (use `*`)", what()));
    }
    let a2 = if sa.len() == 1 {
        vec![1, sa[0]]
    } else {
        sa.clone()
    };
    let b2 = if sb.len() == 1 {
        vec![sb[0], 1]
    } else {
        sb.clone()
    };
    let (ra, rb) = (a2.len(), b2.len());
    let (m, k, k2, n) = (a2[ra - 2], a2[ra - 1], b2[rb - 2], b2[rb - 1]);
    if k != k2 {
        return Err(format!(
            "{}: the inner dimensions {k} and {k2} differ",
            what()
        ));
    }
    let batch = crate::tensor::broadcast(&a2[..ra - 2], &b2[..rb - 2])
        .ok_or_else(|| format!("{}: the batch dimensions do not broadcast", what()))?;
    let mut ta = batch.clone();
    ta.extend([m, k]);
    let mut tb = batch.clone();
    tb.extend([k, n]);
    let e = |e: ShapeError| e.0;
    let xa = g.reshape(x, &a2).map_err(e)?;
    let xa = g.expand(xa, &ta).map_err(e)?;
    let yb = g.reshape(y, &b2).map_err(e)?;
    let yb = g.expand(yb, &tb).map_err(e)?;
    let r = g.node(Op::MatMul, &[xa, yb]).map_err(e)?;
    let mut out = batch;
    if sa.len() > 1 {
        out.push(m);
    }
    if sb.len() > 1 {
        out.push(n);
    }
    g.reshape(r, &out).map_err(e)
}

/// `a @ b`.
pub fn matmul(l: &mut Lowerer, a: &Expr, b: &Expr, span: &Span) -> Result<LVal, LowerError> {
    let x = l.num(a)?;
    let y = l.num(b)?;
    let n = matmul_nodes(l.g, x, y).map_err(|msg| LowerError::MatMul {
        msg,
        span: span.clone(),
        dot: false,
    })?;
    Ok(LVal::Num(n))
}

/// Axis `k` given for a value of `shape`, which has no such axis.
pub(crate) fn no_such_axis(k: i64, shape: &[usize], span: &Span) -> LowerError {
    LowerError::NoSuchAxis {
        axis: k,
        shape: shape.to_vec(),
        span: span.clone(),
    }
}

/// A reduction of `x` along `axis` (None: all elements).
pub(crate) fn reduction(
    l: &mut Lowerer,
    name: &str,
    x: NodeId,
    axis: Option<&Expr>,
    span: &Span,
) -> Result<NodeId, LowerError> {
    let shape = l.g.shape(x).to_vec();
    let ax = match axis {
        None => Axis::All,
        Some(e) => {
            let k = const_int(l, e, "an axis")?;
            Axis::of(k, shape.len()).ok_or_else(|| no_such_axis(k, &shape, &e.span))?
        }
    };
    let count = ax.count(&shape);
    let g = &mut *l.g;
    let sd = |e: ShapeError| shape_mismatch(e, span);
    let mean = |g: &mut Graph, v: NodeId| -> Result<NodeId, ShapeError> {
        let s = g.reduce(Red::Sum, v, ax)?;
        let c = g.scalar(count as f64);
        g.node(Op::Div, &[s, c])
    };
    let var = |g: &mut Graph| -> Result<NodeId, ShapeError> {
        let m = mean(g, x)?;
        let mk = match ax {
            Axis::All => m,
            Axis::Dim(_) => g.reshape(m, &ax.keepdim_shape(&shape))?,
        };
        let d = g.node(Op::Sub, &[x, mk])?;
        let dd = g.node(Op::Mul, &[d, d])?;
        mean(g, dd)
    };
    let r = match name {
        "sum" => g.reduce(Red::Sum, x, ax),
        "prod" => g.reduce(Red::Prod, x, ax),
        "norm" => g.reduce(Red::Norm, x, ax),
        "min" | "max" => {
            if count == 0 {
                return Err(LowerError::EmptyReduction {
                    name: name.to_string(),
                    span: span.clone(),
                });
            }
            g.reduce(if name == "min" { Red::Min } else { Red::Max }, x, ax)
        }
        "mean" => mean(g, x),
        "var" => var(g),
        _ => var(g).and_then(|v| g.node(Op::Un(crate::graph::UnFn::StdSqrt), &[v])),
    };
    r.map_err(sd)
}

/// Every element of each node as a scalar node, in order (row-major).
pub fn elements(g: &mut Graph, nodes: &[NodeId]) -> Vec<NodeId> {
    let mut out = Vec::new();
    for &n in nodes {
        let shape = g.shape(n).to_vec();
        if shape.is_empty() {
            out.push(n);
            continue;
        }
        let total = crate::tensor::numel(&shape);
        let flat = g.reshape(n, &[total]).expect("same number of elements");
        for k in 0..total {
            out.push(g.index(flat, &[Ix::At(k)]).expect("index in range"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::LowerError as L;
    use crate::interp::testutil::lower_error;

    #[test]
    fn constant_arguments_name_what_they_must_be() {
        let (e, at) = lower_error("param x = 1;", "zeros(x)");
        assert!(
            matches!(&e, L::NotConstant { what, .. } if what == "a shape"),
            "{e:?}"
        );
        assert_eq!(at, "x");
        let (e, at) = lower_error("", "linspace([0, 1], 1, 2)");
        assert!(
            matches!(&e, L::NotSingle { shape, .. } if shape == &[2]),
            "{e:?}"
        );
        assert_eq!(at, "[0, 1]");
        let (e, _) = lower_error("", "zeros(1.5)");
        assert!(
            matches!(e, L::NotWhole { value, .. } if value == 1.5),
            "{e:?}"
        );
        let (e, _) = lower_error("", "zeros([[1, 2]])");
        assert!(matches!(e, L::ShapeNotList { .. }), "{e:?}");
        let (e, _) = lower_error("", "zeros([2, -1])");
        assert!(matches!(e, L::NegativeDim { dim: -1, .. }), "{e:?}");
    }

    #[test]
    fn arrays_and_indices_point_at_the_bad_part() {
        let (e, at) = lower_error("", "[[1, 2], [1, 2, 3]]");
        assert!(
            matches!(&e, L::ArrayShapes { first, other, .. } if first == &[2] && other == &[3])
        );
        assert_eq!(at, "[1, 2, 3]");
        let (e, _) = lower_error("", "[1, 2][0, 0]");
        assert!(matches!(e, L::TooManyIndices { count: 2, .. }), "{e:?}");
        let (e, at) = lower_error("", "[1, 2][5]");
        assert!(
            matches!(
                e,
                L::IndexOutOfRange {
                    index: 5,
                    axis: 0,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(at, "5");
        let (e, at) = lower_error("", "(1).x");
        assert!(
            matches!(&e, L::NotATable { field, .. } if field == "x"),
            "{e:?}"
        );
        assert_eq!(at, "(1)");
    }

    #[test]
    fn matmul_axes_and_reductions() {
        let (e, at) = lower_error("", "[1, 2] @ [1, 2, 3]");
        assert!(matches!(e, L::MatMul { dot: false, .. }), "{e:?}");
        assert_eq!(at, "[1, 2] @ [1, 2, 3]");
        let (e, at) = lower_error("", "sum([1, 2], axis=3)");
        assert!(matches!(e, L::NoSuchAxis { axis: 3, .. }), "{e:?}");
        assert_eq!(at, "3");
        let (e, _) = lower_error("", "max(zeros(0))");
        assert!(
            matches!(&e, L::EmptyReduction { name, .. } if name == "max"),
            "{e:?}"
        );
    }

    #[test]
    fn the_rank_and_size_caps_are_their_own_errors() {
        let (e, _) = lower_error("", "zeros([1000000, 1000000])");
        assert!(matches!(e, L::TooLarge { .. }), "{e:?}");
        let dims = vec!["1"; 65].join(", ");
        let (e, _) = lower_error("", &format!("zeros([{dims}])"));
        assert!(
            matches!(&e, L::TooManyAxes { shape, .. } if shape.len() == 65),
            "{e:?}"
        );
    }
}
