//! Name resolution before anything runs: every name in a `let` or `fn` body
//! must exist when the definition is made, calls must have the right arity,
//! and a function may not call itself. Unknown names get a did-you-mean hint.

use crate::diagnostics::Diag;
use crate::syntax::ast::{Expr, ExprKind, IndexArg};

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
            } else if scope.fn_arity(n).is_some() || builtin_arity(n).is_some() {
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
            let positional = args.iter().filter(|a| a.name.is_none()).count();
            if let Some(n) = scope.fn_arity(&f.name) {
                if let Some(a) = args.iter().find(|a| a.name.is_some()) {
                    return Err(Diag::error(
                        "E0203",
                        format!("`{}` takes no named arguments", f.name),
                    )
                    .at(a.span.clone(), "named argument"));
                }
                if positional != n {
                    return Err(arity_error(&f.name, &[n], positional, e.span.clone()));
                }
            } else if let Some(ar) = builtin_arity(&f.name) {
                if !ar.contains(&positional) {
                    return Err(arity_error(&f.name, ar, positional, e.span.clone()));
                }
            } else {
                let mut names: Vec<String> = BUILTINS.iter().map(|(n, _)| n.to_string()).collect();
                names.extend(scope.all_names());
                let mut d = Diag::error("E0200", format!("unknown function `{}`", f.name))
                    .at(f.span.clone(), "not defined");
                if let Some(s) = suggest(&f.name, names.iter().map(String::as_str)) {
                    d = d.note(format!("help: did you mean `{s}`?"));
                } else {
                    d = d.note("help: define it with `fn NAME(ARGS) = EXPR;`");
                }
                return Err(d);
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

fn arity_error(name: &str, allowed: &[usize], got: usize, span: crate::diagnostics::Span) -> Diag {
    let want = allowed
        .iter()
        .map(|n| n.to_string())
        .collect::<Vec<_>>()
        .join(" or ");
    let plural = if allowed == [1] { "" } else { "s" };
    Diag::error(
        "E0203",
        format!(
            "`{name}` takes {want} argument{plural}, but {got} {} given",
            if got == 1 { "was" } else { "were" }
        ),
    )
    .at(
        span,
        format!("{got} argument{}", if got == 1 { "" } else { "s" }),
    )
}
