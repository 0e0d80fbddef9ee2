//! The operations of the graph and their forward semantics on scalars,
//! computed as PyTorch's CPU kernels compute them in float64 (for example
//! `x^2` is `x*x` and `x^0.5` is `sqrt(x)`, as torch's pow kernel
//! specializes them), so values and trajectories match torch's bits.

/// Elementwise functions of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnFn {
    /// `abs(x)`
    Abs,
    /// `sqrt(x)`
    Sqrt,
    /// `exp(x)`
    Exp,
    /// `log(x)`, the natural logarithm
    Log,
    /// `log1p(x)` = log(1 + x)
    Log1p,
    /// `expm1(x)` = exp(x) - 1
    Expm1,
    /// `sin(x)`
    Sin,
    /// `cos(x)`
    Cos,
    /// `tan(x)`
    Tan,
    /// `asin(x)`
    Asin,
    /// `acos(x)`
    Acos,
    /// `atan(x)`
    Atan,
    /// `sinh(x)`
    Sinh,
    /// `cosh(x)`
    Cosh,
    /// `tanh(x)`
    Tanh,
    /// `sigmoid(x)` = 1 / (1 + exp(-x))
    Sigmoid,
    /// `relu(x)` = max(x, 0)
    Relu,
    /// `softplus(x)` = log(1 + exp(x)) (beta 1, threshold 20)
    Softplus,
    /// `sign(x)`: -1, 0 or 1
    Sign,
    /// `floor(x)`
    Floor,
    /// `ceil(x)`
    Ceil,
    /// `round(x)`, half to even
    Round,
    /// The square root inside `std`: torch's std_backward gives 0 where the
    /// result is 0 (no name: not callable from scripts).
    StdSqrt,
    // torch.special and torch.nn.functional (the loss-function library).
    /// `erf(x)`
    Erf,
    /// `erfc(x)` = 1 - erf(x)
    Erfc,
    /// `erfinv(x)`, the inverse of erf on (-1, 1)
    Erfinv,
    /// `lgamma(x)` = log|Γ(x)|
    Lgamma,
    /// `digamma(x)`, the derivative of lgamma
    Digamma,
    /// polygamma(1, x), the derivative of digamma (no name).
    Trigamma,
    /// torch's hardsigmoid: clamp(x + 3, 0, 6) / 6, with its own derivative
    /// (torch's backward uses the float32 constant 1/6).
    Hardsigmoid,
}

impl UnFn {
    /// Each function callable from scripts, by its name.
    pub const ALL: &'static [(&'static str, UnFn)] = &[
        ("abs", UnFn::Abs),
        ("sqrt", UnFn::Sqrt),
        ("exp", UnFn::Exp),
        ("log", UnFn::Log),
        ("log1p", UnFn::Log1p),
        ("expm1", UnFn::Expm1),
        ("sin", UnFn::Sin),
        ("cos", UnFn::Cos),
        ("tan", UnFn::Tan),
        ("asin", UnFn::Asin),
        ("acos", UnFn::Acos),
        ("atan", UnFn::Atan),
        ("sinh", UnFn::Sinh),
        ("cosh", UnFn::Cosh),
        ("tanh", UnFn::Tanh),
        ("sigmoid", UnFn::Sigmoid),
        ("relu", UnFn::Relu),
        ("softplus", UnFn::Softplus),
        ("sign", UnFn::Sign),
        ("floor", UnFn::Floor),
        ("ceil", UnFn::Ceil),
        ("round", UnFn::Round),
        ("erf", UnFn::Erf),
        ("erfc", UnFn::Erfc),
        ("erfinv", UnFn::Erfinv),
        ("lgamma", UnFn::Lgamma),
        ("digamma", UnFn::Digamma),
        ("hardsigmoid", UnFn::Hardsigmoid),
    ];

    /// The function a script calls `name`, if any.
    pub fn from_name(name: &str) -> Option<UnFn> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    /// The function's value at `x`, computed as torch's CPU kernel does;
    /// exp, tanh and sigmoid are `tensor::vmath`'s, the same bits as the
    /// vectorized block kernels.
    #[inline(always)]
    pub fn apply(self, x: f64) -> f64 {
        match self {
            UnFn::Abs => x.abs(),
            UnFn::Sqrt | UnFn::StdSqrt => x.sqrt(),
            UnFn::Exp => crate::tensor::vmath::exp(x),
            UnFn::Log => crate::tensor::vmath::log(x),
            UnFn::Log1p => x.ln_1p(),
            UnFn::Expm1 => x.exp_m1(),
            UnFn::Sin => x.sin(),
            UnFn::Cos => x.cos(),
            UnFn::Tan => x.tan(),
            UnFn::Asin => x.asin(),
            UnFn::Acos => x.acos(),
            UnFn::Atan => x.atan(),
            UnFn::Sinh => x.sinh(),
            UnFn::Cosh => x.cosh(),
            UnFn::Tanh => crate::tensor::vmath::tanh(x),
            // torch: 1 / (1 + exp(-x))
            UnFn::Sigmoid => crate::tensor::vmath::sigmoid(x),
            UnFn::Relu => {
                if x > 0.0 || x.is_nan() {
                    x
                } else {
                    0.0
                }
            }
            // torch's softplus with beta=1, threshold=20
            UnFn::Softplus => {
                if x > 20.0 {
                    x
                } else {
                    x.exp().ln_1p()
                }
            }
            UnFn::Sign => {
                if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    x // 0, -0 or nan
                }
            }
            UnFn::Floor => x.floor(),
            UnFn::Ceil => x.ceil(),
            // torch rounds half to even
            UnFn::Round => x.round_ties_even(),
            UnFn::Erf => special::Error::error(x),
            UnFn::Erfc => special::Error::compl_error(x),
            UnFn::Erfinv => erfinv(x),
            UnFn::Lgamma => lgamma(x),
            UnFn::Digamma => digamma(x),
            UnFn::Trigamma => trigamma(x),
            UnFn::Hardsigmoid => clamp(x + 3.0, 0.0, 6.0) / 6.0,
        }
    }
}

/// Comparisons give masks (1.0 true, 0.0 false).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `==`
    Eq,
    /// `!=`
    Ne,
}

/// A graph operation. `Op` stays `Copy` and hashable (the hash-consing
/// key); data that does not fit (shapes, permutations, indices) is interned
/// in `Graph::aux` and referred to by index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A constant: `Graph::consts[i]`.
    Const(u32),
    /// A parameter (or plot variable) slot, read from the evaluator's inputs.
    Param(u32),
    /// A data input slot (a minibatch of rows), numbered apart from the
    /// parameters: set with `Tape::set_input` before each step, so one tape
    /// is re-fed batch after batch. Never differentiated.
    Input(u32),
    /// `-a`
    Neg,
    /// `a + b` (broadcasting, as every elementwise op)
    Add,
    /// `a - b`
    Sub,
    /// `a * b`
    Mul,
    /// `a / b`
    Div,
    /// `a ^ b` with a varying exponent: `powf`.
    Pow,
    /// `a ^ c` with a constant exponent c (second argument): torch's
    /// specialized pow kernel.
    PowC,
    /// An elementwise function of one argument.
    Un(UnFn),
    /// `min(a, b)` elementwise; nan propagates
    Min,
    /// `max(a, b)` elementwise; nan propagates
    Max,
    /// `atan2(y, x)`
    Atan2,
    /// clamp(x, lo, hi)
    Clamp,
    /// where(mask, a, b)
    Where,
    /// A comparison, giving a mask.
    Cmp(Cmp),
    /// `a and b` of two masks
    And,
    /// `a or b` of two masks
    Or,
    /// `not m` of a mask
    Not,
    /// Sums its argument down to a shape it broadcasts from (the adjoint of
    /// broadcasting; `Graph::aux` holds the shape).
    SumTo(u32),
    /// A reduction along one axis (`Axis::All`: over every element), the
    /// axis removed from the shape (NumPy's keepdims=False).
    Reduce(Red, Axis),
    /// For each element, the product of the other elements along the axis
    /// (the derivative of `prod`, exact with zeros).
    ProdExcl(Axis),
    /// The same elements in a new shape (`Graph::aux` holds the shape).
    Reshape(u32),
    /// Broadcast to a larger shape (`Graph::aux` holds the shape).
    Expand(u32),
    /// Axes permuted (`Graph::aux` holds the permutation).
    Permute(u32),
    /// Indexing and slicing with constant indices (`Graph::aux`).
    Index(u32),
    /// The adjoint of `Index`: its argument scattered into zeros shaped like
    /// the indexed value.
    IndexAdj(u32),
    /// Stacks equally shaped arguments along a new first axis.
    Stack,
    /// Matrix product of two tensors of rank >= 2 with equal batch axes.
    MatMul,
    // The loss-function library's elementwise ops (forward in `xlogy`,
    // `logaddexp`, `clamp`, `bce` below, shared by folding and the kernels).
    /// xlogy(x, y): x * log(y), and 0 where x == 0 (unless y is nan).
    Xlogy,
    /// logaddexp(a, b) = log(exp(a) + exp(b)), computed stably.
    LogAddExp,
    /// clamp(x, lo, hi) whose derivative is 1 everywhere: torch's in-place
    /// clamp under no_grad (the norms of cosine_similarity, the variance of
    /// gaussian_nll_loss).
    ClampST,
    /// binary_cross_entropy's elementwise term of (input, target), each log
    /// clamped at -100 as torch does.
    Bce,
    /// celu(x, alpha) with a constant alpha: its own op because torch's
    /// derivative uses 1 / float32(alpha) where the value uses 1 / alpha.
    Celu,
}

/// Reductions kept as single ops (mean, var and std are built from them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Red {
    /// The sum.
    Sum,
    /// The product.
    Prod,
    /// The smallest element (amin: a tie shares the gradient).
    Min,
    /// The largest element (amax: a tie shares the gradient).
    Max,
    /// The Euclidean norm.
    Norm,
    /// log(sum(exp(x))), computed as torch does from the largest element.
    LogSumExp,
    /// The index of the largest (smallest) element, first one on a tie;
    /// nan counts as the largest, as in torch. Not differentiable.
    ArgMax,
    ArgMin,
}

/// What a reduction runs along: every element, or one axis of the
/// argument. A type rather than a number with a reserved value, so "every
/// element" cannot be mistaken for an axis (nor an axis for it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Axis {
    /// Over every element: the result is a scalar.
    All,
    /// Along axis `d` (0-based, below `tensor::MAX_RANK`).
    Dim(u8),
}

impl Axis {
    /// The axis `k` of a value of rank `rank`, negative `k` counting from
    /// the end as in torch; None when out of range.
    pub fn of(k: i64, rank: usize) -> Option<Axis> {
        if rank > crate::tensor::MAX_RANK {
            return None;
        }
        let r = i64::try_from(rank).ok()?;
        let kk = if k < 0 { k + r } else { k };
        if kk < 0 || kk >= r {
            return None;
        }
        u8::try_from(kk).ok().map(Axis::Dim)
    }

    /// The axis index, None for `All`.
    pub fn index(self) -> Option<usize> {
        match self {
            Axis::All => None,
            Axis::Dim(d) => Some(usize::from(d)),
        }
    }

    /// `shape` viewed as [outer, n, inner] around this axis (all of it as
    /// `n` for `All`): how the kernels walk a reduction.
    pub fn split3(self, shape: &[usize]) -> (usize, usize, usize) {
        let p = |s: &[usize]| s.iter().product::<usize>();
        match self.index() {
            None => (1, p(shape), 1),
            Some(a) => (p(&shape[..a]), shape[a], p(&shape[a + 1..])),
        }
    }

    /// The number of elements a reduction of `shape` combines into one.
    pub fn count(self, shape: &[usize]) -> usize {
        self.split3(shape).1
    }

    /// The shape of `shape` reduced along this axis with it kept as 1
    /// (every axis 1 for `All`), so the result broadcasts back.
    pub fn keepdim_shape(self, shape: &[usize]) -> Vec<usize> {
        match self.index() {
            None => vec![1; shape.len()],
            Some(a) => {
                let mut s = shape.to_vec();
                s[a] = 1;
                s
            }
        }
    }
}

impl Op {
    /// Whether the op yields a mask rather than a number.
    pub fn is_mask(self) -> bool {
        matches!(self, Op::Cmp(_) | Op::And | Op::Or | Op::Not)
    }

    /// Whether the op applies elementwise (with broadcasting) to its arguments.
    pub fn is_elementwise(self) -> bool {
        !matches!(
            self,
            Op::Const(_)
                | Op::Param(_)
                | Op::Input(_)
                | Op::SumTo(_)
                | Op::Reduce(..)
                | Op::ProdExcl(_)
                | Op::Reshape(_)
                | Op::Expand(_)
                | Op::Permute(_)
                | Op::Index(_)
                | Op::IndexAdj(_)
                | Op::Stack
                | Op::MatMul
        )
    }
}

/// torch's CPU pow with a scalar exponent, which special-cases these exponents.
pub fn pow_const(x: f64, e: f64) -> f64 {
    if e == 2.0 {
        x * x
    } else if e == 3.0 {
        x * x * x
    } else if e == 0.5 {
        x.sqrt()
    } else if e == -0.5 {
        1.0 / x.sqrt()
    } else if e == -1.0 {
        1.0 / x
    } else if e == -2.0 {
        1.0 / (x * x)
    } else if e == 1.0 {
        x
    } else if e == 0.0 {
        1.0
    } else {
        x.powf(e)
    }
}

/// torch.clamp: min(max(x, lo), hi), nan stays nan.
#[inline(always)]
pub fn clamp(x: f64, lo: f64, hi: f64) -> f64 {
    if x.is_nan() {
        x
    } else {
        x.max(lo).min(hi)
    }
}

/// torch.xlogy: nan if y is nan, 0 where x == 0, else x * log(y).
#[inline(always)]
pub fn xlogy(x: f64, y: f64) -> f64 {
    if y.is_nan() {
        f64::NAN
    } else if x == 0.0 {
        0.0
    } else {
        x * y.ln()
    }
}

/// torch.logaddexp: the larger plus log1p(exp(-|a - b|)); equal infinities
/// give themselves (not inf - inf).
#[inline(always)]
pub fn logaddexp(a: f64, b: f64) -> f64 {
    if a.is_infinite() && a == b {
        a
    } else {
        let m = if a.is_nan() || b.is_nan() {
            f64::NAN
        } else {
            a.max(b)
        };
        m + (-(a - b).abs()).exp().ln_1p()
    }
}

/// binary_cross_entropy's term: (t - 1) * max(log1p(-x), -100) - t * max(log(x), -100).
#[inline(always)]
pub fn bce(x: f64, t: f64) -> f64 {
    (t - 1.0) * (-x).ln_1p().max(-100.0) - t * x.ln().max(-100.0)
}

/// erfinv on [-1, 1] (±inf at ±1, nan outside), from the `special` crate.
pub fn erfinv(x: f64) -> f64 {
    if x.is_nan() || x.abs() > 1.0 {
        f64::NAN
    } else if x.abs() == 1.0 {
        x * f64::INFINITY
    } else {
        special::Error::inv_error(x)
    }
}

/// log|Γ(x)| (inf at the poles 0, -1, -2, ...), as torch.lgamma.
pub fn lgamma(x: f64) -> f64 {
    special::Gamma::ln_gamma(x).0
}

/// digamma as torch.digamma: -inf at +0 (inf at -0), nan at the negative
/// integers.
pub fn digamma(x: f64) -> f64 {
    if x == 0.0 {
        return f64::INFINITY.copysign(-x);
    }
    if x < 0.0 && x == x.trunc() {
        return f64::NAN;
    }
    special::Gamma::digamma(x)
}

/// polygamma(1, x), the trigamma function, as torch computes it: the
/// reflection formula below 1/2, six steps of the recurrence
/// psi1(x) = psi1(x + 1) + 1/x^2, then the asymptotic series. The anchor's
/// own algorithm rather than a more accurate one (such as the `special`
/// crate's), because torch's is only good to about 5e-10 relative and
/// digamma's derivative must be torch's.
pub fn trigamma(x: f64) -> f64 {
    let mut x = x;
    let mut sign = 1.0;
    let mut result = 0.0;
    if x < 0.5 {
        sign = -1.0;
        let s = (std::f64::consts::PI * x).sin();
        result -= std::f64::consts::PI * std::f64::consts::PI / (s * s);
        x = 1.0 - x;
    }
    for _ in 0..6 {
        result += 1.0 / (x * x);
        x += 1.0;
    }
    let ixx = 1.0 / (x * x);
    result +=
        (1.0 + 1.0 / (2.0 * x) + ixx * (1.0 / 6.0 - ixx * (1.0 / 30.0 - ixx * (1.0 / 42.0)))) / x;
    sign * result
}

/// torch's celu: x > 0 ? x : expm1(x * (1 / alpha)) * alpha.
#[inline(always)]
pub fn celu(x: f64, alpha: f64) -> f64 {
    if x > 0.0 || x.is_nan() {
        x
    } else {
        (x * (1.0 / alpha)).exp_m1() * alpha
    }
}

/// A mask value: 1.0 for true, 0.0 for false.
#[inline(always)]
fn b(v: bool) -> f64 {
    if v {
        1.0
    } else {
        0.0
    }
}

/// torch.minimum: the smaller, nan if either is nan.
#[inline(always)]
pub fn minimum(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.min(y)
    }
}

/// torch.maximum: the larger, nan if either is nan.
#[inline(always)]
pub fn maximum(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        f64::NAN
    } else {
        x.max(y)
    }
}

/// torch.where on a mask: `a` where `c` is nonzero (nan counts as true), else `b`.
#[inline(always)]
pub fn select(c: f64, a: f64, b: f64) -> f64 {
    if c != 0.0 {
        a
    } else {
        b
    }
}

/// Logical not of a mask: 1 where x == 0, else 0.
#[inline(always)]
pub fn not(x: f64) -> f64 {
    b(x == 0.0)
}

/// Logical and of two masks (nonzero is true).
#[inline(always)]
pub fn and(x: f64, y: f64) -> f64 {
    b(x != 0.0 && y != 0.0)
}

/// Logical or of two masks (nonzero is true).
#[inline(always)]
pub fn or(x: f64, y: f64) -> f64 {
    b(x != 0.0 || y != 0.0)
}

impl Cmp {
    /// The comparison's mask: 1.0 where it holds (never for nan, except `!=`).
    #[inline(always)]
    pub fn mask(self, x: f64, y: f64) -> f64 {
        b(match self {
            Cmp::Lt => x < y,
            Cmp::Le => x <= y,
            Cmp::Gt => x > y,
            Cmp::Ge => x >= y,
            Cmp::Eq => x == y,
            Cmp::Ne => x != y,
        })
    }
}

/// One element of `op` applied to scalar arguments.
#[inline]
pub fn eval_scalar(op: Op, a: &[f64]) -> f64 {
    match op {
        Op::Const(_)
        | Op::Param(_)
        | Op::Input(_)
        | Op::SumTo(_)
        | Op::Reshape(_)
        | Op::Expand(_)
        | Op::Permute(_)
        | Op::Index(_)
        | Op::IndexAdj(_)
        | Op::Stack
        | Op::MatMul
        | Op::Reduce(..) => a.first().copied().unwrap_or(0.0),
        Op::ProdExcl(_) => 1.0,
        Op::Neg => -a[0],
        Op::Add => a[0] + a[1],
        Op::Sub => a[0] - a[1],
        Op::Mul => a[0] * a[1],
        Op::Div => a[0] / a[1],
        Op::Pow => a[0].powf(a[1]),
        Op::PowC => pow_const(a[0], a[1]),
        Op::Un(f) => f.apply(a[0]),
        Op::Min => minimum(a[0], a[1]),
        Op::Max => maximum(a[0], a[1]),
        Op::Atan2 => a[0].atan2(a[1]),
        Op::Clamp | Op::ClampST => clamp(a[0], a[1], a[2]),
        Op::Xlogy => xlogy(a[0], a[1]),
        Op::LogAddExp => logaddexp(a[0], a[1]),
        Op::Bce => bce(a[0], a[1]),
        Op::Celu => celu(a[0], a[1]),
        Op::Where => select(a[0], a[1], a[2]),
        Op::Cmp(c) => c.mask(a[0], a[1]),
        Op::And => and(a[0], a[1]),
        Op::Or => or(a[0], a[1]),
        Op::Not => not(a[0]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pow_specializations_match_torch() {
        let y: f64 = 1.1;
        assert_eq!(pow_const(y, 3.0), y * y * y);
        assert_eq!(pow_const(0.0, 0.5), 0.0);
        assert_eq!(pow_const(4.0, -0.5), 0.5);
        assert_eq!(pow_const(0.0, 0.0), 1.0);
    }

    #[test]
    fn kinks_and_nan() {
        assert_eq!(UnFn::Relu.apply(-0.0), 0.0);
        assert!(UnFn::Relu.apply(f64::NAN).is_nan());
        assert_eq!(UnFn::Sign.apply(0.0), 0.0);
        assert_eq!(UnFn::Round.apply(2.5), 2.0);
        assert!(eval_scalar(Op::Max, &[f64::NAN, 1.0]).is_nan());
        assert_eq!(eval_scalar(Op::Clamp, &[5.0, 0.0, 1.0]), 1.0);
    }

    #[test]
    fn an_axis_is_checked_against_the_rank_and_never_wraps() {
        assert_eq!(Axis::of(0, 2), Some(Axis::Dim(0)));
        assert_eq!(Axis::of(-1, 2), Some(Axis::Dim(1)));
        assert_eq!(Axis::of(2, 2), None);
        assert_eq!(Axis::of(-3, 2), None);
        assert_eq!(Axis::of(63, 64), Some(Axis::Dim(63)));
        // past the rank cap nothing is an axis, so no byte can wrap
        assert_eq!(Axis::of(1, 266), None);
        assert_eq!(Axis::of(255, 266), None);
        assert_eq!(Axis::of(257, 266), None);
        assert_eq!(Axis::Dim(1).split3(&[2, 3, 4]), (2, 3, 4));
        assert_eq!(Axis::All.split3(&[2, 3, 4]), (1, 24, 1));
        assert_eq!(Axis::Dim(0).keepdim_shape(&[2, 3]), vec![1, 3]);
        assert_eq!(Axis::All.keepdim_shape(&[2, 3]), vec![1, 1]);
        assert_eq!(Axis::Dim(1).count(&[2, 3]), 3);
    }
}

/// The special functions against torch at many points across each domain
/// (tests/reference/special.json, made by gen_functional_extra.py).
#[cfg(test)]
mod special_tests {
    use super::*;
    use serde_json::Value;

    fn num(v: &Value) -> f64 {
        match v {
            Value::String(s) => match s.as_str() {
                "inf" => f64::INFINITY,
                "-inf" => f64::NEG_INFINITY,
                _ => f64::NAN,
            },
            v => v.as_f64().unwrap_or(f64::NAN),
        }
    }

    fn cases() -> Value {
        let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/reference/special.json");
        let text = std::fs::read_to_string(p).expect("special.json");
        serde_json::from_str(&text).expect("special.json parses")
    }

    /// Relative error of `got` against torch's `want` (0 when both are the
    /// same non-finite value).
    fn rel(got: f64, want: f64) -> f64 {
        if !want.is_finite() || !got.is_finite() {
            return if got == want || (got.is_nan() && want.is_nan()) {
                0.0
            } else {
                f64::INFINITY
            };
        }
        if got == want {
            return 0.0;
        }
        (got - want).abs() / want.abs()
    }

    #[test]
    fn special_functions_match_torch_everywhere() {
        let c = cases();
        let fns = &c["functions"];
        let mut report = Vec::new();
        let mut bad = Vec::new();
        for (name, f) in [
            ("erf", UnFn::Erf),
            ("erfc", UnFn::Erfc),
            ("erfinv", UnFn::Erfinv),
            ("lgamma", UnFn::Lgamma),
            ("digamma", UnFn::Digamma),
            ("trigamma", UnFn::Trigamma),
        ] {
            let xs = fns[name]["x"].as_array().expect("x");
            let ys = fns[name]["y"].as_array().expect("y");
            let mut worst = (0.0, 0.0);
            for (x, y) in xs.iter().zip(ys) {
                let (x, y) = (num(x), num(y));
                let r = rel(f.apply(x), y);
                if r > worst.0 {
                    worst = (r, x);
                }
                if r > 1e-12 {
                    bad.push(format!("{name}({x:e}) = {:e}, torch {y:e}", f.apply(x)));
                }
            }
            report.push(format!(
                "{name}: {} points, worst {:.1e} at {:e}",
                xs.len(),
                worst.0,
                worst.1
            ));
        }
        for (name, op) in [("xlogy", Op::Xlogy), ("logaddexp", Op::LogAddExp)] {
            let xs = fns[name]["x"].as_array().expect("x");
            let x2 = fns[name]["x2"].as_array().expect("x2");
            let ys = fns[name]["y"].as_array().expect("y");
            for ((a, b), y) in xs.iter().zip(x2).zip(ys) {
                let (a, b, y) = (num(a), num(b), num(y));
                let got = eval_scalar(op, &[a, b]);
                if rel(got, y) > 1e-12 {
                    bad.push(format!("{name}({a}, {b}) = {got:e}, torch {y:e}"));
                }
            }
        }
        println!("{}", report.join("\n"));
        assert!(
            bad.is_empty(),
            "{}\n{} points off:\n{}",
            report.join("\n"),
            bad.len(),
            bad.iter().take(40).cloned().collect::<Vec<_>>().join("\n")
        );
    }
}
