//! Name resolution before anything runs: every name in a `let` or `fn` body
//! must exist when the definition is made, calls must have the right arity,
//! and a function may not call itself. Unknown names get a did-you-mean hint.

use crate::builtins::{check_call, lookup};
use crate::diagnostics::Diag;
use crate::syntax::ast::{Expr, ExprKind, IndexArg};

pub use crate::builtins::{arity_error, constant, suggest, BUILTINS, CONSTANTS};

/// The diagnostic for a call of a function that does not exist: a
/// did-you-mean among the built-ins and the session's names, or how to
/// define one.
pub fn unknown_function(name: &str, span: crate::diagnostics::Span, scope: &dyn Scope) -> Diag {
    let mut names: Vec<String> = crate::builtins::names().map(str::to_string).collect();
    names.extend(scope.all_names());
    let d = Diag::error("E0200", format!("unknown function `{name}`")).at(span, "not defined");
    match suggest(name, names.iter().map(String::as_str)) {
        Some(s) => d.note(format!("help: did you mean `{s}`?")),
        None => d.note("help: define it with `fn NAME(ARGS) = EXPR;`"),
    }
}

/// Checks a call of the user function `name` of `n` arguments (which
/// takes no named arguments). `span` is the whole call.
pub fn check_fn_call(
    name: &str,
    n: usize,
    args: &[crate::syntax::ast::Arg],
    span: &crate::diagnostics::Span,
) -> Result<(), Diag> {
    if let Some(a) = args.iter().find(|a| a.name.is_some()) {
        return Err(
            Diag::error("E0203", format!("`{name}` takes no named arguments"))
                .at(a.span.clone(), "named argument"),
        );
    }
    if args.len() != n {
        return Err(arity_error(name, &[n], args.len(), span.clone()));
    }
    Ok(())
}

/// What a name can refer to, as the resolver sees it.
pub trait Scope {
    /// A value name (parameter, let, constant, function argument).
    fn has_value(&self, name: &str) -> bool;
    /// The arity of a user function.
    fn fn_arity(&self, name: &str) -> Option<usize>;
    /// Every visible name, for suggestions.
    fn all_names(&self) -> Vec<String>;
}

/// The diagnostic for an unknown name, with a suggestion.
pub fn unknown_name(
    name: &str,
    span: crate::diagnostics::Span,
    scope: &dyn Scope,
    what: &str,
) -> Diag {
    let names = scope.all_names();
    let mut d = Diag::error("E0200", format!("unknown {what} `{name}`")).at(span, "not defined");
    if let Some(s) = suggest(name, names.iter().map(String::as_str)) {
        d = d.note(format!("help: did you mean `{s}`?"));
    } else if what == "name" {
        d = d.note("help: declare it first with `param` or `let`");
    }
    d
}

/// Checks every name and call in `e`. `locals` are names bound around it
/// (function arguments, plot variables); `self_fn` is the function being
/// defined, which must not appear in its own body.
pub fn resolve(
    e: &Expr,
    scope: &dyn Scope,
    locals: &[String],
    self_fn: Option<&str>,
) -> Result<(), Diag> {
    match &e.kind {
        ExprKind::Num(_) | ExprKind::Bool(_) | ExprKind::Str(_) => Ok(()),
        ExprKind::Name(n) => {
            if locals.iter().any(|l| l == n) || scope.has_value(n) || constant(n).is_some() {
                Ok(())
            } else if scope.fn_arity(n).is_some() || lookup(n).is_some() {
                Err(
                    Diag::error("E0206", format!("`{n}` is a function, not a value"))
                        .at(e.span.clone(), "used as a value")
                        .note(format!("help: call it: `{n}(...)`")),
                )
            } else {
                Err(unknown_name(n, e.span.clone(), scope, "name"))
            }
        }
        ExprKind::Unary(_, a) | ExprKind::Field(a, _) => resolve(a, scope, locals, self_fn),
        ExprKind::Binary(_, a, b) => {
            resolve(a, scope, locals, self_fn)?;
            resolve(b, scope, locals, self_fn)
        }
        ExprKind::Index(a, idx) => {
            resolve(a, scope, locals, self_fn)?;
            for i in idx {
                match i {
                    IndexArg::At(x) => resolve(x, scope, locals, self_fn)?,
                    IndexArg::Slice(lo, hi, _) => {
                        for x in [lo, hi].into_iter().flatten() {
                            resolve(x, scope, locals, self_fn)?;
                        }
                    }
                }
            }
            Ok(())
        }
        ExprKind::Array(es) | ExprKind::Tuple(es) => es
            .iter()
            .try_for_each(|x| resolve(x, scope, locals, self_fn)),
        ExprKind::Call(f, args) => {
            if Some(f.name.as_str()) == self_fn {
                return Err(Diag::error("E0202", format!("function `{}` calls itself", f.name))
                    .at(f.span.clone(), "recursive call")
                    .note("help: functions are inlined where they are called, so they cannot recurse"));
            }
            if let Some(n) = scope.fn_arity(&f.name) {
                check_fn_call(&f.name, n, args, &e.span)?;
            } else if let Some(b) = lookup(&f.name) {
                check_call(b, args, &e.span)?;
            } else {
                return Err(unknown_function(&f.name, f.span.clone(), scope));
            }
            // grad's second argument names a parameter (or a local variable).
            for (i, a) in args.iter().enumerate() {
                if f.name == "grad" && i == 1 {
                    continue;
                }
                resolve(&a.value, scope, locals, self_fn)?;
            }
            if f.name == "grad" {
                if let Some(a) = args.get(1) {
                    match &a.value.kind {
                        ExprKind::Name(_) => resolve(&a.value, scope, locals, self_fn)?,
                        _ => {
                            return Err(Diag::error(
                                "E0204",
                                "grad's second argument must be a parameter name",
                            )
                            .at(a.value.span.clone(), "not a name"))
                        }
                    }
                }
            }
            Ok(())
        }
    }
}
