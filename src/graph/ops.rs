//! The operations of the graph and their forward semantics on scalars,
//! computed as PyTorch's CPU kernels compute them in float64 (for example
//! `x^2` is `x*x` and `x^0.5` is `sqrt(x)`, as torch's pow kernel
//! specializes them), so values and trajectories match torch's bits.

/// Elementwise functions of one argument.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnFn {
    Abs,
    Sqrt,
    Exp,
    Log,
    Log1p,
    Expm1,
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Sigmoid,
    Relu,
    Softplus,
    Sign,
    Floor,
    Ceil,
    Round,
    /// The square root inside `std`: torch's std_backward gives 0 where the
    /// result is 0 (no name: not callable from scripts).
    StdSqrt,
}

impl UnFn {
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
    ];

    pub fn from_name(name: &str) -> Option<UnFn> {
        Self::ALL.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
    }

    #[inline(always)]
    pub fn apply(self, x: f64) -> f64 {
        match self {
            UnFn::Abs => x.abs(),
            UnFn::Sqrt | UnFn::StdSqrt => x.sqrt(),
            UnFn::Exp => x.exp(),
            UnFn::Log => x.ln(),
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
            UnFn::Tanh => x.tanh(),
            // torch: 1 / (1 + exp(-x))
            UnFn::Sigmoid => 1.0 / (1.0 + (-x).exp()),
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
        }
    }
}

/// Comparisons give masks (1.0 true, 0.0 false).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cmp {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// A constant: `Graph::consts[i]`.
    Const(u32),
    /// A parameter (or plot variable) slot, read from the evaluator's inputs.
    Param(u32),
    Neg,
    Add,
    Sub,
    Mul,
    Div,
    /// `a ^ b` with a varying exponent: `powf`.
    Pow,
    /// `a ^ c` with a constant exponent c (second argument): torch's
    /// specialized pow kernel.
    PowC,
    Un(UnFn),
    Min,
    Max,
    Atan2,
    /// clamp(x, lo, hi)
    Clamp,
    /// where(mask, a, b)
    Where,
    Cmp(Cmp),
    And,
    Or,
    Not,
    /// Sums its argument down to this node's shape (the adjoint of broadcasting).
    SumTo,
    /// A reduction along one axis (`AXIS_ALL`: over every element), the axis
    /// removed from the shape (NumPy's keepdims=False).
    Reduce(Red, u8),
    /// For each element, the product of the other elements along the axis
    /// (the derivative of `prod`, exact with zeros).
    ProdExcl(u8),
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
}

/// Reductions kept as single ops (mean, var and std are built from them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Red {
    Sum,
    Prod,
    Min,
    Max,
    Norm,
}

/// The `axis` of a reduction over every element.
pub const AXIS_ALL: u8 = u8::MAX;

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
                | Op::SumTo
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

fn b(v: bool) -> f64 {
    if v {
        1.0
    } else {
        0.0
    }
}

/// One element of `op` applied to scalar arguments.
#[inline]
pub fn eval_scalar(op: Op, a: &[f64]) -> f64 {
    match op {
        Op::Const(_)
        | Op::Param(_)
        | Op::SumTo
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
        // torch.minimum / maximum propagate nan
        Op::Min => {
            if a[0].is_nan() || a[1].is_nan() {
                f64::NAN
            } else {
                a[0].min(a[1])
            }
        }
        Op::Max => {
            if a[0].is_nan() || a[1].is_nan() {
                f64::NAN
            } else {
                a[0].max(a[1])
            }
        }
        Op::Atan2 => a[0].atan2(a[1]),
        // torch.clamp: min(max(x, lo), hi), nan stays nan
        Op::Clamp => {
            if a[0].is_nan() {
                a[0]
            } else {
                a[0].max(a[1]).min(a[2])
            }
        }
        Op::Where => {
            if a[0] != 0.0 {
                a[1]
            } else {
                a[2]
            }
        }
        Op::Cmp(c) => b(match c {
            Cmp::Lt => a[0] < a[1],
            Cmp::Le => a[0] <= a[1],
            Cmp::Gt => a[0] > a[1],
            Cmp::Ge => a[0] >= a[1],
            Cmp::Eq => a[0] == a[1],
            Cmp::Ne => a[0] != a[1],
        }),
        Op::And => b(a[0] != 0.0 && a[1] != 0.0),
        Op::Or => b(a[0] != 0.0 || a[1] != 0.0),
        Op::Not => b(a[0] == 0.0),
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
}
