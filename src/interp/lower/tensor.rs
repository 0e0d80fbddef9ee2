//! Lowering of the tensor parts of the language (SPEC section 6): array
//! literals, indexing, fields of csv tables, `@` and reductions, with the
//! constant-argument helpers (shapes, whole numbers) that the built-ins and
//! the parameter initializers share.

use super::{eval_node, LVal, Lowerer};
use crate::diagnostics::{Diag, Span};
use crate::graph::{Axis, Graph, Ix, NodeId, Op, Red, ShapeError};
use crate::syntax::ast::{Expr, ExprKind, IndexArg};
use crate::tensor::{checked_numel, max_elements, shape_str, Shape, Tensor, MAX_RANK};

pub(crate) fn shape_diag(e: ShapeError, span: &Span) -> Diag {
    Diag::error("E0402", format!("shape mismatch: {}", e.0)).at(span.clone(), "in this operation")
}

pub(crate) fn err402(msg: impl Into<String>, span: &Span, label: impl Into<String>) -> Diag {
    Diag::error("E0402", msg).at(span.clone(), label)
}

pub(crate) fn too_big(shape: &[usize], span: &Span) -> Diag {
    if shape.len() > MAX_RANK {
        return err402(
            format!(
                "a tensor with {} axes has more than the limit of {MAX_RANK}",
                shape.len()
            ),
            span,
            "too many axes",
        )
        .note(format!(
            "help: a tensor has at most {MAX_RANK} axes, as in NumPy"
        ));
    }
    err402(
        format!(
            "a tensor of shape {} has more than {} elements",
            shape_str(shape),
            max_elements()
        ),
        span,
        "too large",
    )
    .note("help: tensors are limited in size so that a typo cannot exhaust memory")
}

/// The value of `e`, which must not depend on a parameter.
pub(crate) fn const_tensor(l: &mut Lowerer, e: &Expr, what: &str) -> Result<Tensor, Diag> {
    let n = l.num(e)?;
    if l.g.varying[n as usize] {
        return Err(Diag::error("E0207", format!("{what} must be constant"))
            .at(e.span.clone(), "depends on a parameter"));
    }
    if let Some(t) = l.g.const_value(n) {
        return Ok(t.clone());
    }
    Ok(eval_node(l.s, l.g, n, &[]))
}

pub(crate) fn const_num(l: &mut Lowerer, e: &Expr, what: &str) -> Result<f64, Diag> {
    let t = const_tensor(l, e, what)?;
    match t.item() {
        Some(v) if t.is_scalar() => Ok(v),
        _ => Err(
            Diag::error("E0206", format!("{what} must be a single number")).at(
                e.span.clone(),
                format!("this has shape {}", shape_str(&t.shape)),
            ),
        ),
    }
}

pub(crate) fn whole(v: f64, e: &Expr, what: &str) -> Result<i64, Diag> {
    if v.fract() != 0.0 || !v.is_finite() || v.abs() > 2f64.powi(53) {
        return Err(
            Diag::error("E0206", format!("{what} must be a whole number")).at(
                e.span.clone(),
                format!("this is {}", crate::tensor::fmt_num(v)),
            ),
        );
    }
    Ok(v as i64)
}

pub(crate) fn const_int(l: &mut Lowerer, e: &Expr, what: &str) -> Result<i64, Diag> {
    let v = const_num(l, e, what)?;
    whole(v, e, what)
}

/// A shape argument: `[2, 3]` or a single number.
pub(crate) fn shape_arg(l: &mut Lowerer, e: &Expr) -> Result<Shape, Diag> {
    let t = const_tensor(l, e, "a shape")?;
    if t.shape.len() > 1 {
        return Err(
            Diag::error("E0206", "a shape is a list of whole numbers such as [2, 3]").at(
                e.span.clone(),
                format!("this has shape {}", shape_str(&t.shape)),
            ),
        );
    }
    let mut shape = Vec::with_capacity(t.data.len());
    for &v in &t.data {
        let k = whole(v, e, "a dimension")?;
        if k < 0 {
            return Err(Diag::error("E0206", "a dimension must be >= 0")
                .at(e.span.clone(), format!("has {k}")));
        }
        shape.push(k as usize);
    }
    if checked_numel(&shape).is_none() {
        return Err(too_big(&shape, &e.span));
    }
    Ok(shape)
}

/// Array literals, indexing and fields.
pub fn lower_tensor_expr(l: &mut Lowerer, e: &Expr) -> Result<LVal, Diag> {
    match &e.kind {
        ExprKind::Array(items) => array(l, items, &e.span),
        ExprKind::Index(a, idx) => index(l, a, idx, &e.span),
        ExprKind::Field(a, name) => {
            let LVal::Table(n, table) = l.lower(a)? else {
                return Err(Diag::error(
                    "E0206",
                    format!("`.{}`: only a csv table has fields", name.name),
                )
                .at(a.span.clone(), "not a table")
                .note("help: read a table with `let d = csv(\"file.csv\");`, then `d.x`"));
            };
            let (file, names) = &*table;
            let Some(k) = names.iter().position(|c| *c == name.name) else {
                let mut d = Diag::error("E0404", format!("{file} has no column `{}`", name.name))
                    .at(name.span.clone(), "no such column")
                    .note(format!("the columns are {}", names.join(", ")));
                if let Some(s) = super::names::suggest(&name.name, names.iter().map(String::as_str))
                {
                    d = d.note(format!("help: did you mean `{s}`?"));
                }
                return Err(d);
            };
            if l.g.const_value(n).is_none() {
                // A batch of the table's rows (a graph input): its column k.
                let rows = l.g.shape(n)[0];
                let ix = [crate::graph::Ix::Range(0, rows), crate::graph::Ix::At(k)];
                let c =
                    l.g.index(n, &ix)
                        .map_err(|m| Diag::error("E0402", m.0).at(e.span.clone(), "this column"))?;
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
        _ => {
            Err(Diag::error("E0205", "this expression is not supported").at(e.span.clone(), "here"))
        }
    }
}

fn array(l: &mut Lowerer, items: &[Expr], span: &Span) -> Result<LVal, Diag> {
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
            return Err(err402(
                format!(
                    "array elements have different shapes: {} and {}",
                    shape_str(&s0),
                    shape_str(l.g.shape(n))
                ),
                &items[k].span,
                format!("shape {}", shape_str(l.g.shape(n))),
            )
            .at(items[0].span.clone(), format!("shape {}", shape_str(&s0))));
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
            .map_err(|e| shape_diag(e, span))?;
    Ok(LVal::Num(n))
}

fn index(l: &mut Lowerer, a: &Expr, idx: &[IndexArg], span: &Span) -> Result<LVal, Diag> {
    let x = l.num(a)?;
    let shape = l.g.shape(x).to_vec();
    if idx.len() > shape.len() {
        return Err(err402(
            format!(
                "{} indices for a value of shape {}",
                idx.len(),
                shape_str(&shape)
            ),
            span,
            "too many indices",
        ));
    }
    let mut ix = Vec::with_capacity(idx.len());
    for (d, i) in idx.iter().enumerate() {
        let n = shape[d] as i64;
        match i {
            IndexArg::At(e) => {
                let k = const_int(l, e, "an index")?;
                let kk = if k < 0 { k + n } else { k };
                if kk < 0 || kk >= n {
                    return Err(err402(
                        format!("index {k} is out of range for axis {d} of size {n}"),
                        &e.span,
                        "out of range",
                    )
                    .note(format!("the value has shape {}", shape_str(&shape))));
                }
                ix.push(Ix::At(kk as usize));
            }
            IndexArg::Slice(lo, hi, _) => {
                // NumPy: negative ends count from the end, then clamp.
                let mut end = |e: &Option<Expr>, dflt: i64| -> Result<i64, Diag> {
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
    let n = l.g.index(x, &ix).map_err(|e| shape_diag(e, span))?;
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
pub fn matmul(l: &mut Lowerer, a: &Expr, b: &Expr, span: &Span) -> Result<LVal, Diag> {
    let x = l.num(a)?;
    let y = l.num(b)?;
    let n = matmul_nodes(l.g, x, y).map_err(|m| err402(m, span, "in this `@`"))?;
    Ok(LVal::Num(n))
}

/// The diagnostic of axis `k` given for a value of `shape`.
pub(crate) fn no_such_axis(k: i64, shape: &[usize], span: &Span) -> Diag {
    let r = shape.len() as i64;
    err402(
        format!(
            "axis {k} is out of range for a value of shape {}",
            shape_str(shape)
        ),
        span,
        "no such axis",
    )
    .note(format!("help: axes run from {} to {}", -r, r - 1))
}

/// A reduction of `x` along `axis` (None: all elements).
pub(crate) fn reduction(
    l: &mut Lowerer,
    name: &str,
    x: NodeId,
    axis: Option<&Expr>,
    span: &Span,
) -> Result<NodeId, Diag> {
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
    let sd = |e: ShapeError| shape_diag(e, span);
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
                return Err(err402(
                    format!("`{name}` of an empty tensor"),
                    span,
                    "no elements",
                ));
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
