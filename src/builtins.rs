//! The one table of built-in functions. Each row says how many positional
//! arguments the function takes, which keyword options it has (with their
//! defaults), how it is lowered, and its one-line documentation. Everything
//! that needs to know about built-ins reads this table: name resolution and
//! lowering (through `check_call`, so an arity or option mistake is worded
//! the same wherever it is found), redefinition checks, REPL completion and
//! `:help`, and the Jupyter kernel's inspect (`doc`).
//!
//! Adding a function is one row here, plus its op in `graph::ops` and its
//! derivative in `graph::autodiff` when it is a new op.

use crate::diagnostics::{Diag, Span};
use crate::graph::ops::{Op, UnFn};
use crate::syntax::ast::{Arg, Expr};

/// A keyword option of a built-in, with its default as the docs show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Opt {
    pub name: &'static str,
    pub default: &'static str,
}

/// How a built-in is lowered to graph nodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One elementwise op of one argument.
    Unary(UnFn),
    /// One elementwise op of all positional arguments (pow, atan2, clamp).
    Elementwise(Op),
    /// `where(mask, a, b)`.
    Where,
    /// `min`/`max`: a reduction with one argument, elementwise with two.
    MinMax(Op),
    /// A reduction with an optional `axis`.
    Reduction,
    /// `grad(E, x)`.
    Grad,
    /// Constructors, random functions, shape functions and data, lowered
    /// by name in `interp::lower::builtins`.
    Tensor,
    /// torch.nn.functional's activations with options, composed of graph
    /// ops in `interp::lower::functional`.
    Activation,
    /// Functions along an axis (softmax, logsumexp, argmax, one_hot, ...).
    AlongAxis,
    /// Losses with `reduction=`, in `interp::lower::losses`.
    Loss,
}

impl Kind {
    /// The heading the function is listed under in `:help`.
    pub fn section(self) -> &'static str {
        match self {
            Kind::Unary(UnFn::Hardsigmoid) => "Activations",
            Kind::Unary(UnFn::Erf | UnFn::Erfc | UnFn::Erfinv | UnFn::Lgamma | UnFn::Digamma)
            | Kind::Elementwise(Op::Xlogy | Op::LogAddExp) => "Special functions",
            Kind::Unary(_) | Kind::Elementwise(_) | Kind::Where | Kind::MinMax(_) => "Elementwise",
            Kind::Activation => "Activations",
            Kind::AlongAxis => "Along an axis",
            Kind::Loss => "Losses",
            Kind::Reduction => "Reductions",
            Kind::Grad => "Derivatives",
            Kind::Tensor => "Tensors and data",
        }
    }
}

/// One built-in function.
#[derive(Clone, Copy, Debug)]
pub struct Builtin {
    pub name: &'static str,
    /// The allowed numbers of positional arguments.
    pub arity: &'static [usize],
    /// Keyword options (`dim` is accepted wherever `axis` is).
    pub options: &'static [Opt],
    pub kind: Kind,
    /// The signature on the first line, then what it computes.
    pub doc: &'static str,
}

impl Builtin {
    /// The signature line of the documentation.
    pub fn signature(&self) -> &'static str {
        self.doc.lines().next().unwrap_or(self.name)
    }

    fn option(&self, name: &str) -> Option<&'static str> {
        let name = if name == "dim" { "axis" } else { name };
        self.options.iter().find(|o| o.name == name).map(|o| o.name)
    }
}

const fn b(
    name: &'static str,
    arity: &'static [usize],
    options: &'static [Opt],
    kind: Kind,
    doc: &'static str,
) -> Builtin {
    Builtin {
        name,
        arity,
        options,
        kind,
        doc,
    }
}

const fn un(name: &'static str, f: UnFn, doc: &'static str) -> Builtin {
    b(name, &[1], &[], Kind::Unary(f), doc)
}

const fn o(name: &'static str, default: &'static str) -> Opt {
    Opt { name, default }
}

const AXIS: &[Opt] = &[o("axis", "none")];
const AXIS_LAST: &[Opt] = &[o("axis", "-1")];
const RED: &[Opt] = &[o("reduction", "\"mean\"")];

/// Every built-in function.
pub const BUILTINS: &[Builtin] = &[
    un("abs", UnFn::Abs, "abs(x)\n|x|; abs'(0) = 0 as in torch"),
    un("sqrt", UnFn::Sqrt, "sqrt(x)\nsquare root; sqrt'(0) = inf"),
    un("exp", UnFn::Exp, "exp(x)\ne to the x"),
    un("log", UnFn::Log, "log(x)\nnatural logarithm"),
    un("log1p", UnFn::Log1p, "log1p(x)\nlog(1 + x), accurate near 0"),
    un("expm1", UnFn::Expm1, "expm1(x)\nexp(x) - 1, accurate near 0"),
    un("sin", UnFn::Sin, "sin(x)\nsine"),
    un("cos", UnFn::Cos, "cos(x)\ncosine"),
    un("tan", UnFn::Tan, "tan(x)\ntangent"),
    un("asin", UnFn::Asin, "asin(x)\ninverse sine"),
    un("acos", UnFn::Acos, "acos(x)\ninverse cosine"),
    un("atan", UnFn::Atan, "atan(x)\ninverse tangent"),
    un("sinh", UnFn::Sinh, "sinh(x)\nhyperbolic sine"),
    un("cosh", UnFn::Cosh, "cosh(x)\nhyperbolic cosine"),
    un("tanh", UnFn::Tanh, "tanh(x)\nhyperbolic tangent"),
    un("sigmoid", UnFn::Sigmoid, "sigmoid(x)\n1 / (1 + exp(-x))"),
    un("relu", UnFn::Relu, "relu(x)\nmax(x, 0); relu'(0) = 0 as in torch"),
    b(
        "softplus",
        &[1],
        &[o("beta", "1"), o("threshold", "20")],
        Kind::Activation,
        "softplus(x, beta=1, threshold=20)\nlog(1 + exp(beta * x)) / beta, x itself where beta * x > threshold",
    ),
    un("sign", UnFn::Sign, "sign(x)\n-1, 0 or 1; derivative 0"),
    un("floor", UnFn::Floor, "floor(x)\nround down; derivative 0"),
    un("ceil", UnFn::Ceil, "ceil(x)\nround up; derivative 0"),
    un(
        "round",
        UnFn::Round,
        "round(x)\nround half to even, as torch; derivative 0",
    ),
    b(
        "min",
        &[1, 2],
        AXIS,
        Kind::MinMax(Op::Min),
        "min(a, b) or min(x, axis=K)\nthe smaller of two values (a tie gives half the gradient to each), or the smallest element",
    ),
    b(
        "max",
        &[1, 2],
        AXIS,
        Kind::MinMax(Op::Max),
        "max(a, b) or max(x, axis=K)\nthe larger of two values (a tie gives half the gradient to each), or the largest element",
    ),
    b(
        "pow",
        &[2],
        &[],
        Kind::Elementwise(Op::Pow),
        "pow(a, b)\na to the b, as a ^ b",
    ),
    b(
        "atan2",
        &[2],
        &[],
        Kind::Elementwise(Op::Atan2),
        "atan2(y, x)\nthe angle of the point (x, y)",
    ),
    b(
        "clamp",
        &[3],
        &[],
        Kind::Elementwise(Op::Clamp),
        "clamp(x, lo, hi)\nx limited to [lo, hi]; derivative 1 strictly inside, 0 at the limits",
    ),
    b(
        "where",
        &[3],
        &[],
        Kind::Where,
        "where(cond, a, b)\na where the mask cond holds, else b; differentiates the branch taken",
    ),
    b(
        "grad",
        &[2],
        &[],
        Kind::Grad,
        "grad(E, x)\nthe derivative of the scalar E with respect to the parameter x, shaped like x",
    ),
    b(
        "sum",
        &[1],
        AXIS,
        Kind::Reduction,
        "sum(x, axis=K)\nsum of the elements (along axis K)",
    ),
    b(
        "mean",
        &[1],
        AXIS,
        Kind::Reduction,
        "mean(x, axis=K)\nmean of the elements (along axis K)",
    ),
    b(
        "var",
        &[1],
        AXIS,
        Kind::Reduction,
        "var(x, axis=K)\nvariance, dividing by n as NumPy does",
    ),
    b(
        "std",
        &[1],
        AXIS,
        Kind::Reduction,
        "std(x, axis=K)\nstandard deviation, dividing by n as NumPy does",
    ),
    b(
        "norm",
        &[1],
        AXIS,
        Kind::Reduction,
        "norm(x, axis=K)\nEuclidean norm; its derivative is 0 where the norm is 0",
    ),
    b(
        "prod",
        &[1],
        AXIS,
        Kind::Reduction,
        "prod(x, axis=K)\nproduct of the elements (exact derivative with zeros)",
    ),
    b(
        "linspace",
        &[3],
        &[],
        Kind::Tensor,
        "linspace(a, b, n)\nn evenly spaced numbers from a to b, as torch.linspace",
    ),
    b(
        "arange",
        &[1, 2, 3],
        &[Opt {
            name: "step",
            default: "1",
        }],
        Kind::Tensor,
        "arange([start,] end[, step])\nstart, start + step, ... below end",
    ),
    b(
        "zeros",
        &[1],
        &[],
        Kind::Tensor,
        "zeros([D1, ...])\na tensor of zeros",
    ),
    b("ones", &[1], &[], Kind::Tensor, "ones([D1, ...])\na tensor of ones"),
    b(
        "full",
        &[2],
        &[],
        Kind::Tensor,
        "full([D1, ...], v)\na tensor filled with v",
    ),
    b(
        "rand",
        &[1],
        &[],
        Kind::Tensor,
        "rand([D1, ...])\nuniform random numbers in [0, 1) from the session's seed",
    ),
    b(
        "randn",
        &[1],
        &[],
        Kind::Tensor,
        "randn([D1, ...])\nstandard normal random numbers from the session's seed",
    ),
    b(
        "randint",
        &[3],
        &[],
        Kind::Tensor,
        "randint(lo, hi, [D1, ...])\nrandom whole numbers in [lo, hi)",
    ),
    b(
        "reshape",
        &[2],
        &[],
        Kind::Tensor,
        "reshape(x, [D1, ...])\nthe same elements in a new shape (one -1 allowed)",
    ),
    b(
        "transpose",
        &[1],
        &[],
        Kind::Tensor,
        "transpose(x)\nthe axes reversed",
    ),
    b(
        "dot",
        &[2],
        &[],
        Kind::Tensor,
        "dot(a, b)\ndot product (matrix product for matrices)",
    ),
    b(
        "csv",
        &[1],
        &[],
        Kind::Tensor,
        "csv(\"file.csv\")\na table read from a csv file with a header row; d.name is a column",
    ),

    // torch.nn.functional: activations
    b("leaky_relu", &[1], &[o("negative_slope", "0.01")], Kind::Activation,
        "leaky_relu(x, negative_slope=0.01)\nx where x > 0, else negative_slope * x; derivative negative_slope at 0"),
    b("elu", &[1], &[o("alpha", "1")], Kind::Activation,
        "elu(x, alpha=1)\nx where x > 0, else alpha * expm1(x); derivative alpha at 0"),
    b("selu", &[1], &[], Kind::Activation,
        "selu(x)\nscale * elu(x, alpha) with torch's constants (alpha 1.6732632423543772, scale 1.0507009873554805)"),
    b("celu", &[1], &[o("alpha", "1")], Kind::Activation,
        "celu(x, alpha=1)\nx where x > 0, else alpha * expm1(x / alpha); derivative 1 at 0"),
    b("gelu", &[1], &[o("approximate", "\"none\"")], Kind::Activation,
        "gelu(x, approximate=\"none\")\nx * Phi(x) with the normal cdf Phi (erf), or its tanh approximation with approximate=\"tanh\""),
    b("silu", &[1], &[], Kind::Activation, "silu(x)\nx * sigmoid(x), computed as x / (1 + exp(-x))"),
    b("mish", &[1], &[], Kind::Activation, "mish(x)\nx * tanh(softplus(x))"),
    b("hardtanh", &[1], &[o("min_val", "-1"), o("max_val", "1")], Kind::Activation,
        "hardtanh(x, min_val=-1, max_val=1)\nx clamped to [min_val, max_val]; derivative 0 at the limits"),
    b("relu6", &[1], &[], Kind::Activation,
        "relu6(x)\nx clamped to [0, 6]; derivative 0 at 0 and at 6"),
    un("hardsigmoid", UnFn::Hardsigmoid,
        "hardsigmoid(x)\nclamp(x + 3, 0, 6) / 6; derivative 1/6 (torch's float32 1/6) strictly inside (-3, 3), else 0"),
    b("hardswish", &[1], &[], Kind::Activation,
        "hardswish(x)\nx * clamp(x + 3, 0, 6) / 6; derivative 0 at -3, 1 at 3"),
    b("logsigmoid", &[1], &[], Kind::Activation,
        "logsigmoid(x)\nlog(sigmoid(x)), computed stably as min(x, 0) - log1p(exp(-|x|))"),
    b("softsign", &[1], &[], Kind::Activation, "softsign(x)\nx / (1 + |x|)"),
    b("tanhshrink", &[1], &[], Kind::Activation, "tanhshrink(x)\nx - tanh(x)"),
    // torch.special
    un("erf", UnFn::Erf, "erf(x)\nthe error function; derivative 2/sqrt(pi) * exp(-x^2)"),
    un("erfc", UnFn::Erfc, "erfc(x)\n1 - erf(x), accurate for large x"),
    un("erfinv", UnFn::Erfinv,
        "erfinv(x)\nthe inverse of erf on [-1, 1] (±inf at ±1, nan outside); derivative sqrt(pi)/2 * exp(erfinv(x)^2)"),
    un("lgamma", UnFn::Lgamma,
        "lgamma(x)\nlog|Gamma(x)|, inf at 0, -1, -2, ...; derivative digamma(x)"),
    un("digamma", UnFn::Digamma,
        "digamma(x)\nthe derivative of lgamma; its own derivative is polygamma(1, x)"),
    b("xlogy", &[2], &[], Kind::Elementwise(Op::Xlogy),
        "xlogy(x, y)\nx * log(y), and 0 where x == 0 (nan where y is nan); d/dx is log(y), 0 where x == 0 and y <= 0"),
    b("logaddexp", &[2], &[], Kind::Elementwise(Op::LogAddExp),
        "logaddexp(a, b)\nlog(exp(a) + exp(b)) without overflow; d/da = 1 / (1 + exp(b - a))"),
    // along an axis
    b("softmax", &[1], AXIS_LAST, Kind::AlongAxis,
        "softmax(x, axis=-1)\nexp(x) normalized to sum 1 along the axis, stable for large x"),
    b("log_softmax", &[1], AXIS_LAST, Kind::AlongAxis,
        "log_softmax(x, axis=-1)\nx - logsumexp(x) along the axis"),
    b("logsumexp", &[1], AXIS, Kind::AlongAxis,
        "logsumexp(x, axis=K)\nlog(sum(exp(x))) along the axis (all elements without one), stable for large x"),
    b("argmax", &[1], AXIS, Kind::AlongAxis,
        "argmax(x, axis=K)\nthe index of the largest element (first on a tie; of the flattened x without axis); not differentiable"),
    b("argmin", &[1], AXIS, Kind::AlongAxis,
        "argmin(x, axis=K)\nthe index of the smallest element (first on a tie); not differentiable"),
    b("one_hot", &[1, 2], &[], Kind::AlongAxis,
        "one_hot(labels, n)\na new last axis of n entries, 1 at each label (n defaults to the largest label + 1)"),
    // losses
    b("mse_loss", &[2], RED, Kind::Loss, "mse_loss(input, target, reduction=\"mean\")\n(input - target)^2, reduced"),
    b("l1_loss", &[2], RED, Kind::Loss,
        "l1_loss(input, target, reduction=\"mean\")\n|input - target|, reduced; derivative 0 at a zero difference"),
    b("smooth_l1_loss", &[2], &[o("reduction", "\"mean\""), o("beta", "1")], Kind::Loss,
        "smooth_l1_loss(input, target, reduction=\"mean\", beta=1)\n0.5 d^2 / beta where |d| < beta, else |d| - beta / 2"),
    b("huber_loss", &[2], &[o("reduction", "\"mean\""), o("delta", "1")], Kind::Loss,
        "huber_loss(input, target, reduction=\"mean\", delta=1)\n0.5 d^2 where |d| < delta, else delta * (|d| - delta / 2)"),
    b("cross_entropy", &[2], &[o("weight", "none"), o("reduction", "\"mean\""), o("label_smoothing", "0")], Kind::Loss,
        "cross_entropy(input, target, weight=none, reduction=\"mean\", label_smoothing=0)\ninput [N, C] (or [C], [N, C, d...]) of logits; target class indices (shaped like input without axis 1) or class probabilities (shaped like input); the weighted mean divides by the targets' total weight"),
    b("nll_loss", &[2], &[o("weight", "none"), o("reduction", "\"mean\"")], Kind::Loss,
        "nll_loss(input, target, weight=none, reduction=\"mean\")\n-input at each target class index (input holds log-probabilities)"),
    b("binary_cross_entropy", &[2], &[o("weight", "none"), o("reduction", "\"mean\"")], Kind::Loss,
        "binary_cross_entropy(input, target, weight=none, reduction=\"mean\")\n-(t log x + (1 - t) log(1 - x)), each log at least -100; input in [0, 1]"),
    b("binary_cross_entropy_with_logits", &[2],
        &[o("weight", "none"), o("reduction", "\"mean\""), o("pos_weight", "none")], Kind::Loss,
        "binary_cross_entropy_with_logits(input, target, weight=none, reduction=\"mean\", pos_weight=none)\nbinary_cross_entropy(sigmoid(input), target) computed stably"),
    b("kl_div", &[2], &[o("reduction", "\"mean\""), o("log_target", "false")], Kind::Loss,
        "kl_div(input, target, reduction=\"mean\", log_target=false)\ntarget * (log(target) - input) with input log-probabilities; reduction may also be \"batchmean\""),
    b("poisson_nll_loss", &[2],
        &[o("log_input", "true"), o("full", "false"), o("eps", "1e-8"), o("reduction", "\"mean\"")], Kind::Loss,
        "poisson_nll_loss(input, target, log_input=true, full=false, eps=1e-8, reduction=\"mean\")\nexp(input) - target * input (or input - target * log(input + eps)), plus Stirling's term with full"),
    b("gaussian_nll_loss", &[3], &[o("full", "false"), o("eps", "1e-6"), o("reduction", "\"mean\"")], Kind::Loss,
        "gaussian_nll_loss(input, target, var, full=false, eps=1e-6, reduction=\"mean\")\n0.5 * (log(var) + (input - target)^2 / var), var at least eps (its derivative passes through, as in torch)"),
    b("cosine_similarity", &[2], &[o("axis", "1"), o("eps", "1e-8")], Kind::Loss,
        "cosine_similarity(a, b, axis=1, eps=1e-8)\nsum(a * b) / (max(|a|, eps) * max(|b|, eps)) along the axis"),
];

/// Named constants.
pub const CONSTANTS: &[(&str, f64)] = &[
    ("pi", std::f64::consts::PI),
    ("inf", f64::INFINITY),
    ("nan", f64::NAN),
];

/// The built-in called `name`.
pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// The documentation of a built-in function or constant (for `:help NAME`
/// and the Jupyter kernel's inspect).
pub fn doc(name: &str) -> Option<&'static str> {
    if let Some(b) = lookup(name) {
        return Some(b.doc);
    }
    match name {
        "pi" => Some("pi\nthe constant 3.141592653589793"),
        "inf" => Some("inf\npositive infinity"),
        "nan" => Some("nan\nnot a number"),
        _ => None,
    }
}

/// The value of a named constant.
pub fn constant(name: &str) -> Option<f64> {
    CONSTANTS.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// Every built-in function's name, in table order.
pub fn names<'a>() -> impl Iterator<Item = &'a str> {
    BUILTINS.iter().map(|b| -> &'a str { b.name })
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

/// The arguments of a checked call: positional ones in order and the
/// keyword options by their canonical name (`dim` becomes `axis`).
#[derive(Debug)]
pub struct Call<'e> {
    pub pos: Vec<&'e Expr>,
    named: Vec<(&'static str, &'e Expr)>,
}

impl<'e> Call<'e> {
    /// The expression given for option `name`, if any.
    pub fn opt(&self, name: &str) -> Option<&'e Expr> {
        self.named.iter().find(|(n, _)| *n == name).map(|(_, e)| *e)
    }
}

/// Checks a call of built-in `b` against its row: the number of positional
/// arguments, and every keyword option known and given once. `span` is the
/// whole call. The one place these mistakes are worded.
pub fn check_call<'e>(b: &Builtin, args: &'e [Arg], span: &Span) -> Result<Call<'e>, Diag> {
    let mut named: Vec<(&'static str, &'e Expr)> = Vec::new();
    for a in args {
        let Some(n) = &a.name else { continue };
        let Some(canon) = b.option(&n.name) else {
            return Err(unknown_option(b, &n.name, n.span.clone()));
        };
        if named.iter().any(|(m, _)| *m == canon) {
            return Err(Diag::error("E0203", format!("`{}` is given twice", n.name))
                .at(n.span.clone(), "repeated"));
        }
        named.push((canon, &a.value));
    }
    let pos: Vec<&Expr> = args
        .iter()
        .filter(|a| a.name.is_none())
        .map(|a| &a.value)
        .collect();
    if !b.arity.contains(&pos.len()) {
        return Err(arity_error(b.name, b.arity, pos.len(), span.clone()));
    }
    Ok(Call { pos, named })
}

fn unknown_option(b: &Builtin, name: &str, span: Span) -> Diag {
    let d = Diag::error("E0203", format!("`{}` has no argument `{name}`", b.name))
        .at(span, "unknown argument");
    if b.options.is_empty() {
        return d.note(format!("help: `{}` takes no named arguments", b.name));
    }
    let all: Vec<&str> = b.options.iter().map(|o| o.name).collect();
    let d = match suggest(name, all.iter().copied()) {
        Some(s) => d.note(format!("help: did you mean `{s}`?")),
        None => d,
    };
    d.note(format!(
        "help: `{}` takes {}",
        b.name,
        b.options
            .iter()
            .map(|o| format!("{}={}", o.name, o.default))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The diagnostic for a call with the wrong number of positional arguments
/// (built-ins and user functions alike).
pub fn arity_error(name: &str, allowed: &[usize], got: usize, span: Span) -> Diag {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_documented() {
        let mut seen = std::collections::HashSet::new();
        for b in BUILTINS {
            assert!(seen.insert(b.name), "{} twice", b.name);
            assert!(
                b.signature().starts_with(b.name),
                "{}: doc must start with its signature",
                b.name
            );
            assert!(
                b.doc.lines().count() >= 2,
                "{}: doc needs a description",
                b.name
            );
            assert!(!b.arity.is_empty());
        }
        assert!(doc("pi").is_some() && doc("nosuch").is_none());
    }

    #[test]
    fn every_unary_function_is_in_the_table() {
        for (n, f) in UnFn::ALL {
            let k = lookup(n).map(|b| b.kind);
            // softplus with options is composed; without, it is its op
            let want = if *n == "softplus" {
                Kind::Activation
            } else {
                Kind::Unary(*f)
            };
            assert_eq!(k, Some(want), "{n}");
        }
    }

    #[test]
    fn arity_wording() {
        let d = arity_error("sin", &[1], 2, 0..3);
        assert_eq!(d.message, "`sin` takes 1 argument, but 2 were given");
        assert_eq!(d.labels[0].1, "2 arguments");
    }
}

#[cfg(test)]
mod doc_tests {
    #[test]
    fn the_reference_lists_every_builtin() {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference.md");
        let text = std::fs::read_to_string(p).expect("docs/reference.md");
        // every word written as code (between backticks)
        let words: std::collections::HashSet<&str> = text
            .split('`')
            .skip(1)
            .step_by(2)
            .flat_map(|code| code.split(|c: char| !(c.is_alphanumeric() || c == '_')))
            .collect();
        let missing: Vec<&str> = super::names().filter(|n| !words.contains(n)).collect();
        assert!(missing.is_empty(), "not in docs/reference.md: {missing:?}");
    }
}
