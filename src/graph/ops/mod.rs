//! The operations of the graph and their forward semantics on scalars,
//! computed as PyTorch's CPU kernels compute them in float64 (for example
//! `x^2` is `x*x` and `x^0.5` is `sqrt(x)`, as torch's pow kernel
//! specializes them), so values and trajectories match torch's bits.

mod scalar;
pub use scalar::*;

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
    // `logaddexp`, `clamp`, `bce` of scalar.rs, shared by folding and the kernels).
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
        !matches!(self.kind(), OpKind::Leaf | OpKind::Structural)
    }

    /// The op's family: the one list of which op is which.
    pub fn kind(self) -> OpKind {
        match self {
            Op::Const(_) | Op::Param(_) | Op::Input(_) => OpKind::Leaf,
            Op::Neg | Op::Add | Op::Sub | Op::Mul | Op::Div | Op::PowC | Op::Pow => {
                OpKind::Arithmetic
            }
            Op::Un(f) => OpKind::Unary(f),
            Op::SumTo(_)
            | Op::Reduce(..)
            | Op::ProdExcl(_)
            | Op::Reshape(_)
            | Op::Expand(_)
            | Op::Permute(_)
            | Op::Index(_)
            | Op::IndexAdj(_)
            | Op::Stack
            | Op::MatMul => OpKind::Structural,
            Op::Min
            | Op::Max
            | Op::Atan2
            | Op::Clamp
            | Op::Where
            | Op::Cmp(_)
            | Op::And
            | Op::Or
            | Op::Not
            | Op::Xlogy
            | Op::LogAddExp
            | Op::Celu
            | Op::ClampST
            | Op::Bce => OpKind::Elementwise,
        }
    }
}

/// The families of [`Op`], as [`Op::kind`] sorts them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// Constants, parameters and data inputs: no arguments.
    Leaf,
    /// `-`, `+`, `-`, `*`, `/` and the two powers.
    Arithmetic,
    /// A function of one argument.
    Unary(UnFn),
    /// The other elementwise ops: min and max, atan2, clamp, where, the
    /// comparisons and logic, the loss-function library's ops.
    Elementwise,
    /// The ops that move, reduce or reshape values rather than apply
    /// elementwise.
    Structural,
}

/// One element of `op` applied to scalar arguments.
#[inline]
pub fn eval_scalar(op: Op, a: &[f64]) -> f64 {
    if !op.is_elementwise() {
        // a leaf, or a structural op of one element: that element (the
        // empty product of prod's derivative is 1)
        return match op {
            Op::ProdExcl(_) => 1.0,
            _ => a.first().copied().unwrap_or(0.0),
        };
    }
    match op {
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
        _ => unreachable!("the ops that are not elementwise returned above"),
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
    fn every_op_has_one_kind_and_elementwise_follows_it() {
        assert_eq!(Op::Param(0).kind(), OpKind::Leaf);
        assert_eq!(Op::PowC.kind(), OpKind::Arithmetic);
        assert_eq!(Op::Un(UnFn::Exp).kind(), OpKind::Unary(UnFn::Exp));
        assert_eq!(Op::Where.kind(), OpKind::Elementwise);
        assert_eq!(Op::MatMul.kind(), OpKind::Structural);
        assert!(Op::Bce.is_elementwise() && Op::Neg.is_elementwise());
        assert!(!Op::Input(0).is_elementwise() && !Op::Stack.is_elementwise());
        // what folding a non-elementwise op of one element gives
        assert_eq!(eval_scalar(Op::Reduce(Red::Sum, Axis::All), &[3.0]), 3.0);
        assert_eq!(eval_scalar(Op::ProdExcl(Axis::All), &[3.0]), 1.0);
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
