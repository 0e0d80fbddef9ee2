//! `inspect_request` (Shift-Tab in a notebook): a short documentation text
//! for the name under the cursor. Every lookup goes through `doc`, the one
//! place that knows where documentation comes from: optimizers are described
//! from their live defaults (what `optim::build` fills in, so the text never
//! disagrees with what runs), Minuit's algorithms from the option table the
//! REPL completes, built-ins, constants and keywords from the short texts
//! below. When the interpreter's builtin registry carries docs, `doc` reads
//! them there instead.

use crate::interp::names::{builtin_arity, constant};
use crate::optim::{self, ParamLayout};
use crate::repl::{option_names, KEYWORDS};
use serde_json::{json, Value};

/// One-line descriptions of the built-in functions.
const BUILTIN_DOCS: &[(&str, &str)] = &[
    ("abs", "abs(x): |x|, elementwise; abs'(0) = 0 as in torch"),
    ("sqrt", "sqrt(x): square root, elementwise; sqrt'(0) = inf"),
    ("exp", "exp(x): e^x, elementwise"),
    ("log", "log(x): natural logarithm, elementwise"),
    ("log1p", "log1p(x): log(1 + x), accurate for small x"),
    ("expm1", "expm1(x): exp(x) - 1, accurate for small x"),
    ("sin", "sin(x): sine, elementwise (radians)"),
    ("cos", "cos(x): cosine, elementwise (radians)"),
    ("tan", "tan(x): tangent, elementwise (radians)"),
    ("asin", "asin(x): arcsine, elementwise"),
    ("acos", "acos(x): arccosine, elementwise"),
    ("atan", "atan(x): arctangent, elementwise"),
    ("sinh", "sinh(x): hyperbolic sine, elementwise"),
    ("cosh", "cosh(x): hyperbolic cosine, elementwise"),
    ("tanh", "tanh(x): hyperbolic tangent, elementwise"),
    ("sigmoid", "sigmoid(x): 1 / (1 + exp(-x)), elementwise"),
    ("relu", "relu(x): max(x, 0), elementwise; relu'(0) = 0 as in torch"),
    ("softplus", "softplus(x): log(1 + exp(x)), elementwise"),
    ("sign", "sign(x): -1, 0 or 1, elementwise; derivative 0"),
    ("floor", "floor(x): round down, elementwise; derivative 0"),
    ("ceil", "ceil(x): round up, elementwise; derivative 0"),
    ("round", "round(x): round half to even, elementwise; derivative 0"),
    ("min", "min(x): the smallest element (axis=K along an axis); min(a, b): elementwise, a tie gives half the gradient to each"),
    ("max", "max(x): the largest element (axis=K along an axis); max(a, b): elementwise, a tie gives half the gradient to each"),
    ("pow", "pow(a, b): a^b, elementwise"),
    ("atan2", "atan2(y, x): the angle of (x, y), elementwise"),
    ("clamp", "clamp(x, lo, hi): x limited to [lo, hi], elementwise"),
    ("where", "where(cond, a, b): a where cond holds, else b; differentiates the branch taken"),
    ("grad", "grad(EXPR, x): the derivative of the scalar EXPR with respect to parameter x, shaped like x"),
    ("sum", "sum(x, axis=K): the sum of all elements, or along axis K"),
    ("mean", "mean(x, axis=K): the mean of all elements, or along axis K"),
    ("var", "var(x, axis=K): the variance (divides by n, like NumPy)"),
    ("std", "std(x, axis=K): the standard deviation (divides by n, like NumPy)"),
    ("norm", "norm(x, axis=K): the Euclidean norm"),
    ("prod", "prod(x, axis=K): the product of the elements"),
    ("linspace", "linspace(a, b, n): n evenly spaced numbers from a to b"),
    ("arange", "arange(a, b, step=1): numbers from a up to (not including) b"),
    ("zeros", "zeros([d1, ...]): a tensor of zeros"),
    ("ones", "ones([d1, ...]): a tensor of ones"),
    ("full", "full([d1, ...], v): a tensor filled with v"),
    ("rand", "rand([d1, ...]): uniform random numbers in [0, 1), from the seeded generator"),
    ("randn", "randn([d1, ...]): standard normal random numbers, from the seeded generator"),
    ("randint", "randint(lo, hi, [d1, ...]): random integers in [lo, hi)"),
    ("reshape", "reshape(a, [d1, ...]): the same elements in a new shape (one -1 allowed)"),
    ("transpose", "transpose(a): the axes reversed"),
    ("dot", "dot(a, b): the dot product of two vectors"),
    ("csv", "csv(\"file.csv\"): a table read from a file with a header row; d.x is column x"),
];

/// One-line descriptions of the constants and statements' keywords.
const OTHER_DOCS: &[(&str, &str)] = &[
    ("pi", "pi: 3.141592653589793"),
    ("inf", "inf: positive infinity (for one-sided limits: `in [0, inf]`)"),
    ("nan", "nan: not a number"),
    ("param", "param x = EXPR [step S] [in [LO, HI]] [fixed];  declares a parameter"),
    ("let", "let NAME = EXPR;  names an expression, re-evaluated as parameters change"),
    ("fn", "fn NAME(A, B) = EXPR;  defines a function"),
    ("minimize", "minimize EXPR [from x = E] [with OPT(ARGS)] [for N steps];  without `with`, MIGRAD"),
    ("maximize", "maximize EXPR ...;  as minimize, maximizing (torch's maximize=True)"),
    ("print", "print EXPR, ...;  prints values"),
    ("expect", "expect COND [\"message\"];  or  expect A == B within TOL;  a check"),
    ("seed", "seed N;  seeds the random generator"),
    ("hesse", "hesse;  HESSE errors at the minimum of the last Minuit minimization"),
    ("minos", "minos [x, ...] [cl=C];  MINOS errors (default: every free parameter)"),
    ("plot", "plot contour EXPR over x in [a, b], y in [c, d] [with path] [to \"f.svg\"];  plot loss;  plot E over t in [a, b];  in a notebook, without `to` the plot is shown inline only"),
];

/// What Minuit's algorithms do, before their options.
const MINUIT_DOCS: &[(&str, &str)] = &[
    (
        "migrad",
        "Minuit2's variable-metric minimizer; the EDM goal is 0.002 * tol * errordef",
    ),
    ("simplex", "Minuit2's simplex (Nelder-Mead) minimizer"),
    (
        "scan",
        "a grid over the limits of every free parameter (each needs limits)",
    ),
];

/// The documentation of `name`: a built-in, optimizer, Minuit algorithm,
/// constant or keyword. `None` for anything else.
pub fn doc(name: &str) -> Option<String> {
    if optim::is_optimizer(name) {
        let built = optim::build(name, &[], &ParamLayout::scalars(1))?.ok()?;
        let opts: Vec<String> = built
            .options
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        return Some(format!(
            "{name}({})\n\ntorch.optim's {name}, with torch's option names and defaults; one step is one optimizer.step()",
            opts.join(", ")
        ));
    }
    if let Some((_, what)) = MINUIT_DOCS.iter().find(|(n, _)| *n == name) {
        let opts = option_names(name).unwrap_or_default();
        return Some(format!("{name}({})\n\n{what}", opts.join(", ")));
    }
    if let Some((_, d)) = BUILTIN_DOCS.iter().find(|(n, _)| *n == name) {
        return Some(d.to_string());
    }
    if let Some(arity) = builtin_arity(name) {
        let counts: Vec<String> = arity.iter().map(|a| a.to_string()).collect();
        return Some(format!(
            "{name}: a built-in function of {} argument(s)",
            counts.join(" or ")
        ));
    }
    if let Some((_, d)) = OTHER_DOCS.iter().find(|(n, _)| *n == name) {
        return Some(d.to_string());
    }
    if constant(name).is_some() || KEYWORDS.contains(&name) {
        return Some(format!("{name}: a keyword of the language"));
    }
    None
}

/// The name around byte `pos` of `code` (a cursor just after it counts).
fn word_at(code: &str, pos: usize) -> &str {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let start = code[..pos]
        .char_indices()
        .rev()
        .find(|(_, c)| !is_word(*c))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = code[pos..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(code.len(), |(i, _)| pos + i);
    &code[start..end]
}

/// The `inspect_reply` for the cursor at code point `cursor` of `code`.
/// Inside a call's arguments (`adam(lr=|`), the called name is documented.
pub fn inspect(code: &str, cursor: usize) -> Value {
    let pos = code
        .char_indices()
        .nth(cursor)
        .map_or(code.len(), |(i, _)| i);
    let mut found = doc(word_at(code, pos));
    if found.is_none() {
        // The innermost open call before the cursor.
        let mut depth = 0i32;
        for (i, c) in code[..pos].char_indices().rev() {
            match c {
                ')' => depth += 1,
                '(' if depth > 0 => depth -= 1,
                '(' => {
                    found = doc(word_at(code, i));
                    break;
                }
                _ => {}
            }
        }
    }
    match found {
        Some(text) => {
            json!({"status": "ok", "found": true, "data": {"text/plain": text}, "metadata": {}})
        }
        None => json!({"status": "ok", "found": false, "data": {}, "metadata": {}}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn optimizers_are_documented_with_their_live_defaults() {
        let d = doc("adam").unwrap();
        assert!(
            d.starts_with("adam(lr=0.001, betas=(0.9, 0.999), eps="),
            "{d}"
        );
        assert!(doc("migrad").unwrap().starts_with("migrad(tol, strategy"));
    }

    #[test]
    fn every_builtin_and_optimizer_has_a_doc() {
        for (name, _) in crate::interp::names::BUILTINS {
            assert!(
                BUILTIN_DOCS.iter().any(|(n, _)| n == name),
                "no doc for {name}"
            );
        }
        for name in optim::NAMES {
            assert!(doc(name).is_some(), "no doc for {name}");
        }
        assert!(doc("no_such_thing").is_none());
    }

    #[test]
    fn the_cursor_picks_the_word_or_the_call_it_is_in() {
        let r = inspect("print sin(x)", 8);
        assert_eq!(r["found"], true);
        assert!(r["data"]["text/plain"]
            .as_str()
            .unwrap()
            .starts_with("sin(x)"));
        let r = inspect("minimize x^2 with sgd(lr=0.1, ", 30);
        assert!(r["data"]["text/plain"]
            .as_str()
            .unwrap()
            .starts_with("sgd(lr="));
        assert_eq!(inspect("print zz", 8)["found"], false);
    }
}
