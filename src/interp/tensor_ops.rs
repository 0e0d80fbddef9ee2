//! Lowering of the tensor parts of the language (SPEC section 6): array
//! literals, indexing, fields of csv tables, `@`, reductions, constructors.
//! Until each lands, it answers with a clear "not supported yet".

use super::lower::{LVal, Lowerer};
use crate::diagnostics::{Diag, Span};
use crate::syntax::ast::{Arg, Expr, ExprKind};
use crate::tensor::Tensor;

fn not_yet(what: &str, span: Span) -> Diag {
    Diag::error("E0205", format!("{what} is not supported yet"))
        .at(span, "not supported yet")
        .note("help: this version handles scalar expressions; tensors arrive with the tensors issue")
}

/// Array literals, indexing and fields.
pub fn lower_tensor_expr(l: &mut Lowerer, e: &Expr) -> Result<LVal, Diag> {
    match &e.kind {
        ExprKind::Array(items) => {
            // A literal of constant numbers is a constant vector.
            let mut data = Vec::with_capacity(items.len());
            for it in items {
                let n = l.num(it)?;
                match l.g.const_scalar(n) {
                    Some(v) => data.push(v),
                    None => return Err(not_yet("an array of non-constant values", e.span.clone())),
                }
            }
            Ok(LVal::Num(l.g.constant(Tensor {
                shape: vec![data.len()],
                data,
            })))
        }
        ExprKind::Index(..) => Err(not_yet("indexing", e.span.clone())),
        ExprKind::Field(..) => Err(not_yet("a field of a table", e.span.clone())),
        _ => Err(not_yet("this expression", e.span.clone())),
    }
}

/// `a @ b`.
pub fn matmul(_l: &mut Lowerer, _a: &Expr, _b: &Expr, span: &Span) -> Result<LVal, Diag> {
    Err(not_yet("matrix multiplication `@`", span.clone()))
}

/// Reductions, constructors, random functions, reshape, transpose, dot, csv.
pub fn lower_builtin(_l: &mut Lowerer, name: &str, _args: &[Arg], whole: &Expr) -> Result<LVal, Diag> {
    Err(not_yet(&format!("`{name}`"), whole.span.clone()))
}

/// The initial value of a tensor parameter `param w[D1, ...] [~ INIT | = EXPR]`.
pub fn tensor_param_value(
    _s: &super::Session,
    d: &crate::syntax::ast::ParamDecl,
) -> Result<Tensor, Diag> {
    Err(not_yet("a tensor parameter", d.name.span.clone()))
}
