//! Name resolution before anything runs: every name in a `let` or `fn` body
//! must exist when the definition is made, calls must have the right arity,
//! and a function may not call itself. Unknown names get a did-you-mean hint.

pub use super::name_error::NameError;
use crate::builtins::{lookup, Builtin, Call};
use crate::diagnostics::Span;
use crate::syntax::ast::{Arg, Expr, ExprKind, Ident, IndexArg};

pub use crate::builtins::{constant, suggest, BUILTINS, CONSTANTS};

/// What a name can refer to, as the resolver sees it.
pub trait Scope {
    /// A value name (parameter, let, constant, function argument).
    fn has_value(&self, name: &str) -> bool;
    /// The arity of a user function.
    fn fn_arity(&self, name: &str) -> Option<usize>;
    /// Every visible name, for suggestions.
    fn all_names(&self) -> Vec<String>;
}

/// A name that nothing declares, at `span`, with a close visible name
/// suggested.
pub fn unknown_name(name: &str, span: Span, scope: &dyn Scope) -> NameError {
    NameError::UnknownName {
        name: name.to_string(),
        span,
        suggestion: suggest(name, scope.all_names().iter().map(String::as_str)),
    }
}

/// A name where only a parameter will do (`from x = 1`) that nothing
/// declares, with a close visible name suggested.
pub fn unknown_param(name: &str, span: Span, scope: &dyn Scope) -> NameError {
    NameError::UnknownParam {
        name: name.to_string(),
        span,
        suggestion: suggest(name, scope.all_names().iter().map(String::as_str)),
    }
}

/// Why a value name `name` (at `span`) that is neither local nor declared
/// does not resolve: it names a function, or nothing.
pub fn unknown_value(name: &str, span: &Span, scope: &dyn Scope) -> NameError {
    if scope.fn_arity(name).is_some() || lookup(name).is_some() {
        return NameError::FunctionAsValue {
            name: name.to_string(),
            span: span.clone(),
        };
    }
    unknown_name(name, span.clone(), scope)
}

/// What a checked call calls: a user function (its arguments are all
/// positional), or a built-in with its arguments sorted by the registry.
pub enum Callee<'e> {
    User,
    Builtin(&'static Builtin, Call<'e>),
}

/// Checks a call `f(args)` (`span` the whole call): the function exists,
/// named arguments only where the builtin registry lists them (and none for
/// user functions), and the number of positional arguments. Used by the
/// resolver and the lowerer alike.
pub fn check_call<'e>(
    scope: &dyn Scope,
    f: &Ident,
    args: &'e [Arg],
    span: &Span,
) -> Result<Callee<'e>, NameError> {
    let name = f.name.as_str();
    if let Some(n) = scope.fn_arity(name) {
        if let Some(a) = args.iter().find(|a| a.name.is_some()) {
            return Err(NameError::NoNamedArgs {
                name: name.to_string(),
                span: a.span.clone(),
            });
        }
        if args.len() != n {
            return Err(NameError::Arity {
                name: name.to_string(),
                allowed: vec![n],
                got: args.len(),
                span: span.clone(),
            });
        }
        return Ok(Callee::User);
    }
    let Some(b) = lookup(name) else {
        let mut names: Vec<String> = crate::builtins::names().map(str::to_string).collect();
        names.extend(scope.all_names());
        return Err(NameError::UnknownFunction {
            name: name.to_string(),
            span: f.span.clone(),
            suggestion: suggest(name, names.iter().map(String::as_str)),
        });
    };
    let call = crate::builtins::check_call(b, args, span)?;
    Ok(Callee::Builtin(b, call))
}

/// Checks every name and call in `e`. `locals` are names bound around it
/// (function arguments, plot variables); `self_fn` is the function being
/// defined, which must not appear in its own body.
pub fn resolve(
    e: &Expr,
    scope: &dyn Scope,
    locals: &[String],
    self_fn: Option<&str>,
) -> Result<(), NameError> {
    let go = |x: &Expr| resolve(x, scope, locals, self_fn);
    match &e.kind {
        ExprKind::Num(_) | ExprKind::Bool(_) | ExprKind::Str(_) => Ok(()),
        ExprKind::Name(n) => {
            if locals.iter().any(|l| l == n) || scope.has_value(n) || constant(n).is_some() {
                Ok(())
            } else {
                Err(unknown_value(n, &e.span, scope))
            }
        }
        ExprKind::Unary(_, a) | ExprKind::Field(a, _) => go(a),
        ExprKind::Binary(_, a, b) => {
            go(a)?;
            go(b)
        }
        ExprKind::Index(a, idx) => {
            go(a)?;
            idx.iter().try_for_each(|i| match i {
                IndexArg::At(x) => go(x),
                IndexArg::Slice(lo, hi, _) => [lo, hi].into_iter().flatten().try_for_each(go),
            })
        }
        ExprKind::Array(es) | ExprKind::Tuple(es) => es.iter().try_for_each(go),
        ExprKind::Call(f, args) => {
            if Some(f.name.as_str()) == self_fn {
                return Err(NameError::Recursive {
                    name: f.name.clone(),
                    span: f.span.clone(),
                });
            }
            check_call(scope, f, args, &e.span)?;
            // grad's second argument names a parameter (or a local variable).
            for (i, a) in args.iter().enumerate() {
                if f.name == "grad" && i == 1 {
                    match &a.value.kind {
                        ExprKind::Name(_) => go(&a.value)?,
                        _ => return Err(grad_not_name(&a.value.span)),
                    }
                } else {
                    go(&a.value)?;
                }
            }
            Ok(())
        }
    }
}

/// `grad(f, E)` where E is not a name.
pub fn grad_not_name(span: &Span) -> NameError {
    NameError::GradNotName { span: span.clone() }
}

#[cfg(test)]
mod tests {
    use crate::diagnostics::Code;
    use crate::interp::testutil::first_error;

    /// The same mistake in a definition (checked by the resolver) and in a
    /// statement (met by the lowerer) reads the same: message, label, notes.
    fn same_wording(in_let: &str, in_print: &str) {
        let (a, b) = (first_error(in_let), first_error(in_print));
        assert_eq!(
            (a.code, &a.message, &a.notes),
            (b.code, &b.message, &b.notes)
        );
        let labels = |d: &crate::diagnostics::Diag| -> Vec<String> {
            d.labels.iter().map(|l| l.1.clone()).collect()
        };
        assert_eq!(labels(&a), labels(&b), "{in_let} / {in_print}");
    }

    #[test]
    fn resolver_and_lowerer_word_mistakes_alike() {
        same_wording("let a = sin(1, 2);", "print sin(1, 2);");
        same_wording("let a = qqq(1);", "print qqq(1);");
        same_wording("let a = sin;", "print sin;");
        same_wording(
            "fn f(a) = a; let b = f(1, 2);",
            "fn f(a) = a; print f(1, 2);",
        );
        same_wording("fn f(a) = a; let b = f(a=1);", "fn f(a) = a; print f(a=1);");
        same_wording("let a = grad(1, 2);", "print grad(1, 2);");
        same_wording(
            "param x = 1; let a = sin(x, q=1);",
            "param x = 1; print sin(x, q=1);",
        );
    }

    #[test]
    fn arity_points_at_the_call_and_counts_arguments() {
        let d = first_error("print atan2(1);");
        assert_eq!(d.code, Code::E0203);
        assert_eq!(d.labels[0], (6..14, "1 argument".to_string()));
    }

    #[test]
    fn unknown_names_suggest_close_ones() {
        let d = first_error("param alpha = 1; print alpah + 1;");
        assert_eq!(d.code, Code::E0200);
        assert_eq!(d.notes, ["help: did you mean `alpha`?"]);
        let d = first_error("let a = zzz;");
        assert_eq!(d.notes, ["help: declare it first with `param` or `let`"]);
    }

    #[test]
    fn a_from_watch_or_over_name_that_nothing_declares_is_unknown() {
        let d = first_error("param x = 1; minimize x^2 from xx = 2;");
        assert_eq!(
            (d.code, d.message.as_str()),
            (Code::E0200, "unknown parameter `xx`")
        );
        assert_eq!(d.labels[0], (31..33, "not defined".to_string()));
        assert_eq!(d.notes, ["help: did you mean `x`?"]);
        let d = first_error(
            "let d = [1, 2]; param w = 0; minimize sum((d - w)^2) with adam() for 2 epochs batch 1 over d watch dd;",
        );
        assert_eq!(d.message, "unknown name `dd`");
        assert_eq!(d.notes, ["help: did you mean `d`?"]);
        let d = first_error("param w = 0; minimize w^2 with adam() for 2 epochs batch 1 over qq;");
        assert_eq!(d.message, "unknown name `qq`");
        assert_eq!(d.notes, ["help: declare it first with `param` or `let`"]);
    }

    #[test]
    fn a_function_may_not_call_itself() {
        let d = first_error("fn f(a) = f(a) + 1;");
        assert_eq!((d.code, d.labels[0].0.clone()), (Code::E0202, 10..11));
    }
}
