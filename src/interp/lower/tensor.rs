//! Lowering of the tensor parts of the language (SPEC section 6): array
//! literals, indexing, fields of csv tables, `@`, reductions, constructors,
//! random functions, and the initial values of tensor parameters.
//!
//! Constructors and random functions make constant nodes when they are
//! lowered; the random ones draw from the session's one stream.

use super::lower::{eval_node, LVal, Lowerer};
use crate::diagnostics::{Diag, Span};
use crate::graph::{Graph, Ix, NodeId, Op, Red, ShapeError, AXIS_ALL};
use crate::syntax::ast::{Arg, Expr, ExprKind, IndexArg, ParamDecl, ParamInit};
use crate::tensor::{checked_numel, init, max_elements, shape_str, Shape, Tensor};

fn shape_diag(e: ShapeError, span: &Span) -> Diag {
    Diag::error("E0402", format!("shape mismatch: {}", e.0)).at(span.clone(), "in this operation")
}

fn err402(msg: impl Into<String>, span: &Span, label: impl Into<String>) -> Diag {
    Diag::error("E0402", msg).at(span.clone(), label)
}

fn too_big(shape: &[usize], span: &Span) -> Diag {
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
fn const_tensor(l: &mut Lowerer, e: &Expr, what: &str) -> Result<Tensor, Diag> {
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

fn const_num(l: &mut Lowerer, e: &Expr, what: &str) -> Result<f64, Diag> {
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

fn whole(v: f64, e: &Expr, what: &str) -> Result<i64, Diag> {
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

fn const_int(l: &mut Lowerer, e: &Expr, what: &str) -> Result<i64, Diag> {
    let v = const_num(l, e, what)?;
    whole(v, e, what)
}

/// A shape argument: `[2, 3]` or a single number.
fn shape_arg(l: &mut Lowerer, e: &Expr) -> Result<Shape, Diag> {
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
            let n = l.num(a)?;
            let Some((file, names)) = l.g.tables.get(&n).cloned() else {
                return Err(Diag::error(
                    "E0206",
                    format!("`.{}`: only a csv table has fields", name.name),
                )
                .at(a.span.clone(), "not a table")
                .note("help: read a table with `let d = csv(\"file.csv\");`, then `d.x`"));
            };
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
fn matmul_nodes(g: &mut Graph, x: NodeId, y: NodeId) -> Result<NodeId, String> {
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

/// A reduction of `x` along `axis` (None: all elements).
fn reduction(
    l: &mut Lowerer,
    name: &str,
    x: NodeId,
    axis: Option<&Expr>,
    span: &Span,
) -> Result<NodeId, Diag> {
    let shape = l.g.shape(x).to_vec();
    let ax = match axis {
        None => AXIS_ALL,
        Some(e) => {
            let k = const_int(l, e, "an axis")?;
            let r = shape.len() as i64;
            let kk = if k < 0 { k + r } else { k };
            if kk < 0 || kk >= r {
                return Err(err402(
                    format!(
                        "axis {k} is out of range for a value of shape {}",
                        shape_str(&shape)
                    ),
                    &e.span,
                    "no such axis",
                )
                .note(format!("help: axes run from {} to {}", -r, r - 1)));
            }
            kk as u8
        }
    };
    let count = if ax == AXIS_ALL {
        crate::tensor::numel(&shape)
    } else {
        shape[ax as usize]
    };
    let g = &mut *l.g;
    let sd = |e: ShapeError| shape_diag(e, span);
    let mean = |g: &mut Graph, v: NodeId| -> Result<NodeId, ShapeError> {
        let s = g.reduce(Red::Sum, v, ax)?;
        let c = g.scalar(count as f64);
        g.node(Op::Div, &[s, c])
    };
    let var = |g: &mut Graph| -> Result<NodeId, ShapeError> {
        let m = mean(g, x)?;
        let mk = if ax == AXIS_ALL {
            m
        } else {
            g.reshape(m, &Graph::keepdim_shape(&shape, ax))?
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

fn constant(l: &mut Lowerer, shape: Shape, data: Vec<f64>) -> LVal {
    LVal::Num(l.g.constant(Tensor { shape, data }))
}

/// Reductions, constructors, random functions, reshape, transpose, dot, csv.
pub fn lower_builtin(
    l: &mut Lowerer,
    name: &str,
    args: &[Arg],
    whole_e: &Expr,
) -> Result<LVal, Diag> {
    let span = &whole_e.span;
    let allowed: &[&str] = match name {
        "sum" | "mean" | "var" | "std" | "norm" | "prod" | "min" | "max" => &["axis"],
        "arange" => &["step"],
        _ => &[],
    };
    let mut named: Vec<(&str, &Expr)> = Vec::new();
    for a in args {
        if let Some(n) = &a.name {
            if !allowed.contains(&n.name.as_str()) {
                let mut d = Diag::error("E0203", format!("`{name}` has no argument `{}`", n.name))
                    .at(n.span.clone(), "unknown argument");
                d = match allowed {
                    [] => d.note(format!("help: `{name}` takes no named arguments")),
                    _ => d.note(format!(
                        "help: its named argument is `{}`",
                        allowed.join("`, `")
                    )),
                };
                return Err(d);
            }
            if named.iter().any(|(m, _)| *m == n.name) {
                return Err(Diag::error("E0203", format!("`{}` is given twice", n.name))
                    .at(n.span.clone(), "repeated"));
            }
            named.push((n.name.as_str(), &a.value));
        }
    }
    let pos: Vec<&Expr> = args
        .iter()
        .filter(|a| a.name.is_none())
        .map(|a| &a.value)
        .collect();
    let named_arg = |k: &str| named.iter().find(|(n, _)| *n == k).map(|(_, e)| *e);
    match name {
        "sum" | "mean" | "var" | "std" | "norm" | "prod" | "min" | "max" => {
            let x = l.num(pos[0])?;
            Ok(LVal::Num(reduction(l, name, x, named_arg("axis"), span)?))
        }
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
            l.g.tables.insert(n, (t.file, t.names));
            Ok(LVal::Num(n))
        }
        _ => Err(
            Diag::error("E0205", format!("`{name}` is not supported yet")).at(span.clone(), "here"),
        ),
    }
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

/// A table's file and column names.
pub type TableNames = (String, Vec<String>);

/// A `let` whose value is constant is computed once, when it is made (so
/// random values and csv tables are drawn and read once).
pub fn let_as_data(
    s: &super::Session,
    g: &Graph,
    v: &LVal,
    _e: &Expr,
) -> Option<(Tensor, Option<TableNames>)> {
    let LVal::Num(n) = *v else { return None };
    if g.varying[n as usize] {
        return None;
    }
    let t = match g.const_value(n) {
        Some(t) => t.clone(),
        None => eval_node(s, g, n, &[]),
    };
    Some((t, g.tables.get(&n).cloned()))
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
pub fn tensor_param_value(s: &super::Session, d: &ParamDecl) -> Result<Tensor, Diag> {
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

fn initializer(s: &super::Session, e: &Expr, shape: &[usize], n: usize) -> Result<Vec<f64>, Diag> {
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
