//! Name resolution before anything runs: every name in a `let` or `fn` body
//! must exist when the definition is made, calls must have the right arity,
//! and a function may not call itself. Unknown names get a did-you-mean hint.

pub use super::name_error::NameError;
use crate::diagnostics::{Diag, IntoDiagnostic, Span};
use crate::syntax::ast::{Arg, Expr, ExprKind, Ident, IndexArg};

/// Built-in functions: name and the allowed numbers of positional arguments.
pub const BUILTINS: &[(&str, &[usize])] = &[
    ("abs", &[1]),
    ("sqrt", &[1]),
    ("exp", &[1]),
    ("log", &[1]),
    ("log1p", &[1]),
    ("expm1", &[1]),
    ("sin", &[1]),
    ("cos", &[1]),
    ("tan", &[1]),
    ("asin", &[1]),
    ("acos", &[1]),
    ("atan", &[1]),
    ("sinh", &[1]),
    ("cosh", &[1]),
    ("tanh", &[1]),
    ("sigmoid", &[1]),
    ("relu", &[1]),
    ("softplus", &[1]),
    ("sign", &[1]),
    ("floor", &[1]),
    ("ceil", &[1]),
    ("round", &[1]),
    ("min", &[1, 2]),
    ("max", &[1, 2]),
    ("pow", &[2]),
    ("atan2", &[2]),
    ("clamp", &[3]),
    ("where", &[3]),
    ("grad", &[2]),
    ("sum", &[1]),
    ("mean", &[1]),
    ("var", &[1]),
    ("std", &[1]),
    ("norm", &[1]),
    ("prod", &[1]),
    ("linspace", &[3]),
    ("arange", &[1, 2, 3]),
    ("zeros", &[1]),
    ("ones", &[1]),
    ("full", &[2]),
    ("rand", &[1]),
    ("randn", &[1]),
    ("randint", &[3]),
    ("reshape", &[2]),
    ("transpose", &[1]),
    ("dot", &[2]),
    ("csv", &[1]),
];

/// Named constants.
pub const CONSTANTS: &[(&str, f64)] = &[
    ("pi", std::f64::consts::PI),
    ("inf", f64::INFINITY),
    ("nan", f64::NAN),
];

pub fn builtin_arity(name: &str) -> Option<&'static [usize]> {
    BUILTINS.iter().find(|(n, _)| *n == name).map(|(_, a)| *a)
}

pub fn constant(name: &str) -> Option<f64> {
    CONSTANTS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// The closest of `candidates` to `name`, if any is close enough to suggest.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro_winkler(name, c);
        if score > 0.8 && best.is_none_or(|(b, _)| score > b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c.to_string())
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

/// The diagnostic for an unknown name, with a suggestion. `what` is
/// "parameter" where only a parameter will do, else "name".
pub fn unknown_name(name: &str, span: Span, scope: &dyn Scope, what: &str) -> Diag {
    let suggestion = suggest(name, scope.all_names().iter().map(String::as_str));
    let name = name.to_string();
    match what {
        "parameter" => NameError::UnknownParam {
            name,
            span,
            suggestion,
        },
        _ => NameError::UnknownName {
            name,
            span,
            suggestion,
        },
    }
    .into_diagnostic()
}

/// Why a value name `name` (at `span`) that is neither local nor declared
/// does not resolve: it names a function, or nothing.
pub fn unknown_value(name: &str, span: &Span, scope: &dyn Scope) -> NameError {
    if scope.fn_arity(name).is_some() || builtin_arity(name).is_some() {
        return NameError::FunctionAsValue {
            name: name.to_string(),
            span: span.clone(),
        };
    }
    NameError::UnknownName {
        name: name.to_string(),
        span: span.clone(),
        suggestion: suggest(name, scope.all_names().iter().map(String::as_str)),
    }
}

/// Built-ins that take options by name (`sum(x, axis=0)`, `arange(.., step=)`).
fn takes_named(name: &str) -> bool {
    matches!(
        name,
        "sum" | "mean" | "var" | "std" | "norm" | "prod" | "min" | "max" | "arange"
    )
}

/// Checks a call `f(args)` (`span` the whole call): the function exists,
/// named arguments only where they are taken, and the number of positional
/// arguments. Used by the resolver and the lowerer alike.
pub fn check_call(
    scope: &dyn Scope,
    f: &Ident,
    args: &[Arg],
    span: &Span,
) -> Result<(), NameError> {
    let name = f.name.as_str();
    let positional = args.iter().filter(|a| a.name.is_none()).count();
    let allowed: Vec<usize> = if let Some(n) = scope.fn_arity(name) {
        vec![n]
    } else if let Some(ar) = builtin_arity(name) {
        ar.to_vec()
    } else {
        let mut names: Vec<String> = BUILTINS.iter().map(|(n, _)| n.to_string()).collect();
        names.extend(scope.all_names());
        return Err(NameError::UnknownFunction {
            name: name.to_string(),
            span: f.span.clone(),
            suggestion: suggest(name, names.iter().map(String::as_str)),
        });
    };
    let user = scope.fn_arity(name).is_some();
    if let Some(a) = args.iter().find(|a| a.name.is_some()) {
        if user || !takes_named(name) {
            return Err(NameError::NoNamedArgs {
                name: name.to_string(),
                span: a.span.clone(),
            });
        }
    }
    if !allowed.contains(&positional) {
        return Err(NameError::Arity {
            name: name.to_string(),
            allowed,
            got: positional,
            span: span.clone(),
        });
    }
    Ok(())
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
    fn a_function_may_not_call_itself() {
        let d = first_error("fn f(a) = f(a) + 1;");
        assert_eq!((d.code, d.labels[0].0.clone()), (Code::E0202, 10..11));
    }
}
