//! The name-resolution stage's typed errors: unknown names and functions,
//! arity, recursion, redeclaration. Both paths that find these mistakes (the
//! resolver that checks a `let` or `fn` when it is defined, and the lowerer
//! that meets a name in a `print` or an objective) build the same variant,
//! and it is worded once, here.

use crate::diagnostics::{Code, Diag, IntoDiagnostic, Span};

/// A mistake in the names of an expression or declaration.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum NameError {
    /// A value name that nothing declares; `suggestion` is a close one.
    #[error("unknown name `{name}`")]
    UnknownName {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    /// A name where a parameter is needed (`x = 1;`, `from x = 1`).
    #[error("unknown parameter `{name}`")]
    UnknownParam {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    #[error("unknown function `{name}`")]
    UnknownFunction {
        name: String,
        span: Span,
        suggestion: Option<String>,
    },
    #[error("`{name}` is a function, not a value")]
    FunctionAsValue { name: String, span: Span },
    #[error("function `{name}` calls itself")]
    Recursive { name: String, span: Span },
    /// A named argument (`span`) to something that takes none.
    #[error("`{name}` takes no named arguments")]
    NoNamedArgs { name: String, span: Span },
    /// `got` positional arguments where `allowed` are; `span` is the call.
    #[error(
        "`{name}` takes {} argument{}, but {got} {} given",
        or_list(allowed),
        if allowed == &[1] { "" } else { "s" },
        if *got == 1 { "was" } else { "were" }
    )]
    Arity {
        name: String,
        allowed: Vec<usize>,
        got: usize,
        span: Span,
    },
    /// `grad(f, 2 * x)`: the second argument is not a name.
    #[error("grad's second argument must be a parameter name")]
    GradNotName { span: Span },
    /// `grad(f, a)` where `a` is not a parameter.
    #[error("`{name}` is not a parameter")]
    GradNotParam { name: String, span: Span },
    /// `a = 1;` where `a` is a `let` or `fn`.
    #[error("`{name}` is not a parameter")]
    AssignNotParam { name: String, span: Span },
    #[error("`{name}` is already declared")]
    /// `in_repl`: the REPL adds how to start afresh (`:reset`).
    Redeclared {
        name: String,
        span: Span,
        first: Span,
        in_repl: bool,
    },
    #[error("`{name}` is a built-in name")]
    BuiltinName { name: String, span: Span },
    /// A keyword option a built-in does not have; `options` are the ones
    /// it has, as `name=default`.
    #[error("`{name}` has no argument `{option}`")]
    UnknownOption {
        name: String,
        option: String,
        span: Span,
        suggestion: Option<String>,
        options: Vec<String>,
    },
    /// A keyword option given twice (`dim` and `axis` are one).
    #[error("`{name}` is given twice")]
    OptionTwice { name: String, span: Span },
    #[error("argument `{name}` is named twice")]
    RepeatedArgument { name: String, span: Span },
}

fn or_list(ns: &[usize]) -> String {
    let words: Vec<String> = ns.iter().map(usize::to_string).collect();
    words.join(" or ")
}

fn did_you_mean(d: Diag, suggestion: Option<String>, otherwise: Option<&str>) -> Diag {
    match (suggestion, otherwise) {
        (Some(s), _) => d.note(format!("help: did you mean `{s}`?")),
        (None, Some(help)) => d.note(help),
        (None, None) => d,
    }
}

/// `d` labelled at the second declaration `span` and the `first`.
fn redeclared(d: Diag, span: Span, first: Span, in_repl: bool) -> Diag {
    let d = d
        .at(span, "declared again here")
        .at(first, "first declared here")
        .note("help: pick another name, or assign a parameter with `name = value;`");
    if in_repl {
        d.note(
            "help: `:reset` forgets everything declared so far (say, before loading a file again)",
        )
    } else {
        d
    }
}

/// `d` at the unknown argument `span` of built-in `name`, with the
/// `options` it takes.
fn unknown_option(
    d: Diag,
    name: &str,
    options: &[String],
    span: Span,
    suggestion: Option<String>,
) -> Diag {
    let d = d.at(span, "unknown argument");
    if options.is_empty() {
        return d.note(format!("help: `{name}` takes no named arguments"));
    }
    did_you_mean(d, suggestion, None).note(format!("help: `{name}` takes {}", options.join(", ")))
}

impl IntoDiagnostic for NameError {
    fn into_diagnostic(self) -> Diag {
        let message = self.to_string();
        let err = |code: Code| Diag::error(code, message.clone());
        match self {
            NameError::UnknownName {
                span, suggestion, ..
            } => did_you_mean(
                err(Code::E0200).at(span, "not defined"),
                suggestion,
                Some("help: declare it first with `param` or `let`"),
            ),
            NameError::UnknownParam {
                span, suggestion, ..
            } => did_you_mean(err(Code::E0200).at(span, "not defined"), suggestion, None),
            NameError::UnknownFunction {
                span, suggestion, ..
            } => did_you_mean(
                err(Code::E0200).at(span, "not defined"),
                suggestion,
                Some("help: define it with `fn NAME(ARGS) = EXPR;`"),
            ),
            NameError::FunctionAsValue { name, span } => err(Code::E0206)
                .at(span, "used as a value")
                .note(format!("help: call it: `{name}(...)`")),
            NameError::Recursive { span, .. } => err(Code::E0202)
                .at(span, "recursive call")
                .note("help: functions are inlined where they are called, so they cannot recurse"),
            NameError::NoNamedArgs { span, .. } => err(Code::E0203).at(span, "named argument"),
            NameError::Arity { got, span, .. } => err(Code::E0203).at(
                span,
                format!("{got} argument{}", if got == 1 { "" } else { "s" }),
            ),
            NameError::GradNotName { span } => err(Code::E0204).at(span, "not a name"),
            NameError::GradNotParam { span, .. } => err(Code::E0204)
                .at(span, "grad differentiates with respect to a parameter")
                .note("help: declare it with `param`"),
            NameError::AssignNotParam { span, .. } => err(Code::E0204)
                .at(span, "only parameters can be assigned")
                .note("help: a `let` names an expression and cannot be changed"),
            NameError::Redeclared {
                span,
                first,
                in_repl,
                ..
            } => redeclared(err(Code::E0201), span, first, in_repl),
            NameError::UnknownOption {
                name,
                options,
                span,
                suggestion,
                ..
            } => unknown_option(err(Code::E0203), &name, &options, span, suggestion),
            NameError::OptionTwice { span, .. } => err(Code::E0203).at(span, "repeated"),
            NameError::BuiltinName { span, .. } => err(Code::E0201).at(span, "cannot be redefined"),
            NameError::RepeatedArgument { span, .. } => err(Code::E0201).at(span, "repeated"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arity_is_worded_with_singular_and_plural() {
        let e = |allowed: Vec<usize>, got| NameError::Arity {
            name: "f".into(),
            allowed,
            got,
            span: 0..1,
        };
        assert_eq!(
            e(vec![1], 2).to_string(),
            "`f` takes 1 argument, but 2 were given"
        );
        assert_eq!(
            e(vec![1, 2], 1).to_string(),
            "`f` takes 1 or 2 arguments, but 1 was given"
        );
        assert_eq!(e(vec![1], 2).into_diagnostic().labels[0].1, "2 arguments");
    }

    #[test]
    fn unknown_names_hint_a_suggestion_or_what_to_do() {
        let d = NameError::UnknownFunction {
            name: "qqq".into(),
            span: 3..6,
            suggestion: None,
        }
        .into_diagnostic();
        assert_eq!(d.code, Code::E0200);
        assert_eq!(d.notes, ["help: define it with `fn NAME(ARGS) = EXPR;`"]);
        let d = NameError::UnknownParam {
            name: "y".into(),
            span: 0..1,
            suggestion: Some("x".into()),
        }
        .into_diagnostic();
        assert_eq!(d.notes, ["help: did you mean `x`?"]);
    }
}
