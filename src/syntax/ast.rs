//! The syntax tree. Every node carries the byte span of its source text, so
//! any later stage can point a diagnostic at the exact place.

pub use super::lexer::Span;

/// A name with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name as written.
    pub name: String,
    /// Where it is written.
    pub span: Span,
}

/// A binary operator: arithmetic (`+ - * / @ ^`), comparison, `and`/`or`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*` (elementwise)
    Mul,
    /// `/`
    Div,
    /// `@`: matrix product
    MatMul,
    /// `^`: power
    Pow,
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
    /// `and`
    And,
    /// `or`
    Or,
}

impl BinOp {
    /// The operator as written in the source (for messages and labels).
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::MatMul => "@",
            BinOp::Pow => "^",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::And => "and",
            BinOp::Or => "or",
        }
    }

    /// Whether the operator compares (gives a mask rather than a number).
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
        )
    }
}

/// A prefix operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `+x` (the value unchanged)
    Plus,
    /// `not m`
    Not,
}

/// An expression node with its source span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// The source text it was parsed from.
    pub span: Span,
    /// Height of the tree below this node (a leaf is 1). The parser refuses
    /// trees deeper than `MAX_DEPTH`, so recursive passes cannot overflow.
    pub depth: u32,
}

/// The deepest expression the parser accepts.
pub const MAX_DEPTH: u32 = 2000;

impl Expr {
    /// A node; its depth is computed from its children.
    pub fn new(kind: ExprKind, span: Span) -> Expr {
        let child = |e: &Expr| e.depth;
        let d = match &kind {
            ExprKind::Num(_) | ExprKind::Bool(_) | ExprKind::Str(_) | ExprKind::Name(_) => 0,
            ExprKind::Unary(_, e) | ExprKind::Field(e, _) => child(e),
            ExprKind::Binary(_, a, b) => child(a).max(child(b)),
            ExprKind::Call(_, args) => args.iter().map(|a| child(&a.value)).max().unwrap_or(0),
            ExprKind::Index(e, idx) => idx
                .iter()
                .map(|i| match i {
                    IndexArg::At(e) => child(e),
                    IndexArg::Slice(a, b, _) => {
                        a.as_ref().map_or(0, child).max(b.as_ref().map_or(0, child))
                    }
                })
                .max()
                .unwrap_or(0)
                .max(child(e)),
            ExprKind::Array(es) | ExprKind::Tuple(es) => es.iter().map(child).max().unwrap_or(0),
        };
        Expr {
            kind,
            span,
            depth: d + 1,
        }
    }
}

/// A call argument: positional or `name=value`.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// The `name` of `name=value`; None for a positional argument.
    pub name: Option<Ident>,
    /// The argument's value.
    pub value: Expr,
    /// The whole argument, `name=` included.
    pub span: Span,
}

/// One entry of `a[...]`: an index or a slice `lo:hi` (either end optional).
#[derive(Clone, Debug, PartialEq)]
pub enum IndexArg {
    /// A single position: the axis goes away.
    At(Expr),
    /// `lo:hi` with either end optional, and the slice's span.
    Slice(Option<Expr>, Option<Expr>, Span),
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// A number literal.
    Num(f64),
    /// `true` or `false`.
    Bool(bool),
    /// A string literal (file names, messages, option values).
    Str(String),
    /// A parameter, `let`, data name, function argument or constant.
    Name(String),
    /// A prefix operator applied to its operand.
    Unary(UnOp, Box<Expr>),
    /// A binary operator applied to its operands.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A call of a builtin or a `fn`: its name and arguments.
    Call(Ident, Vec<Arg>),
    /// `a[i, lo:hi, ...]` with constant indices.
    Index(Box<Expr>, Vec<IndexArg>),
    /// `d.x`: a column of a csv table.
    Field(Box<Expr>, Ident),
    /// `[a, b, ...]`: a tensor of equally shaped elements.
    Array(Vec<Expr>),
    /// `(a, b)`: only as an option value, such as `betas=(0.9, 0.999)`.
    Tuple(Vec<Expr>),
}

/// `in [LO, HI]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// The lower limit (`-inf` for none).
    pub lo: Expr,
    /// The upper limit (`inf` for none).
    pub hi: Expr,
    /// The whole `in [LO, HI]`.
    pub span: Span,
}

/// How a parameter gets its value.
#[derive(Clone, Debug, PartialEq)]
pub enum ParamInit {
    /// `= EXPR`
    Value(Expr),
    /// `~ INIT` (an initializer call or name)
    Init(Expr),
    /// tensor parameter with no initializer: nn.Linear's default
    Default,
}

/// `param NAME[DIMS] (= EXPR | ~ INIT) [in [LO, HI]] [step S] [fixed]`.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    /// The parameter's name.
    pub name: Ident,
    /// `Some` for `param w[D1, D2]`.
    pub dims: Option<Vec<Expr>>,
    /// Its initial value.
    pub init: ParamInit,
    /// `in [LO, HI]`, Minuit's limits (and a box for the step optimizers).
    pub limits: Option<Limits>,
    /// `step S`: Minuit's initial step size.
    pub step: Option<Expr>,
    /// `fixed`: left out of every minimization.
    pub fixed: bool,
}

/// `with OPT[(ARGS)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerSpec {
    /// The optimizer's (or schedule's) name.
    pub name: Ident,
    /// Its arguments, `name=value` options among them.
    pub args: Vec<Arg>,
    /// The whole `OPT(ARGS)`.
    pub span: Span,
}

/// `minimize|maximize EXPR [from NAME=EXPR, ...] [with OPT] [for N steps | for N epochs ...] [schedule ...]`.
#[derive(Clone, Debug, PartialEq)]
pub struct MinimizeStmt {
    /// `maximize` rather than `minimize`.
    pub maximize: bool,
    /// The objective, a scalar expression of the parameters.
    pub objective: Expr,
    /// `from NAME=EXPR, ...`: starting values set before the run.
    pub from: Vec<(Ident, Expr)>,
    /// `with OPT(ARGS)`; None is MIGRAD.
    pub with: Option<OptimizerSpec>,
    /// `for N steps` of a step-based optimizer.
    pub steps: Option<Expr>,
    /// `schedule SCHED(ARGS) [per step]`.
    pub schedule: Option<ScheduleSpec>,
    /// `for N epochs [batch B] over D, ... [shuffle] [drop_last] [watch NAME, ...]`.
    pub epochs: Option<EpochSpec>,
}

/// `schedule SCHED(ARGS) [per step]`: a learning-rate schedule.
#[derive(Clone, Debug, PartialEq)]
pub struct ScheduleSpec {
    /// The schedule's call; its positional arguments may be schedules
    /// (sequential, chained) or an expression in `epoch` (lambda_lr).
    pub call: OptimizerSpec,
    /// `per step` in a `for N epochs` run.
    pub per_step: bool,
    /// The whole `schedule ...` clause.
    pub span: Span,
}

/// `for N epochs ...`: minibatch training (SPEC 5.2).
#[derive(Clone, Debug, PartialEq)]
pub struct EpochSpec {
    /// The number of epochs, N.
    pub count: Expr,
    /// `batch B`: rows per batch (all of them when absent).
    pub batch: Option<Expr>,
    /// `over D, ...`: the data names batched along their first axis.
    pub over: Vec<Ident>,
    /// `shuffle`: a new order each epoch.
    pub shuffle: bool,
    /// `drop_last`: leave out a smaller last batch.
    pub drop_last: bool,
    /// `watch NAME, ...`: values shown in the epoch table.
    pub watch: Vec<Ident>,
    /// The whole `for N epochs ...`.
    pub span: Span,
}

/// Which minimizers' paths a contour plot draws.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathMode {
    /// No path.
    None,
    /// `with path`: the last minimization's.
    Last,
    /// `with paths`: every minimization of the plotted objective since the
    /// last `with paths` plot of it.
    All,
}

/// A plotting range `x in [a, b]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotRange {
    /// The plotted variable (a parameter or a fresh name).
    pub var: Ident,
    /// The range's start.
    pub lo: Expr,
    /// The range's end.
    pub hi: Expr,
}

// Statements are made once each and never stored in bulk, so the size of
// their largest variant does not matter; boxing would only add noise.
/// What a `plot` statement draws.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum PlotKind {
    /// `plot contour EXPR, x in [a, b], y in [c, d] [with path|paths]`.
    Contour {
        objective: Expr,
        x: PlotRange,
        y: PlotRange,
        path: PathMode,
    },
    /// `plot loss`: the loss per step (or epoch) of the last minimization.
    Loss,
    /// `plot lr`: the learning rate per step of the last minimization.
    Lr,
    /// `plot EXPR, ... for x in [a, b]`: function curves.
    Curves { exprs: Vec<Expr>, range: PlotRange },
    /// `plot mncontour X, Y [cl=[C, ...]] [points=N]`: MINOS contours of the
    /// last fit (iminuit's `draw_mncontour`).
    MnContour { x: Ident, y: Ident, opts: Vec<Arg> },
    /// `plot profile X [points=N] [bound=K]`: the MINOS profile of the last
    /// fit (iminuit's `draw_mnprofile`).
    Profile { x: Ident, opts: Vec<Arg> },
}

/// The kinds of statement (SPEC section 5).
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    /// `param ...`
    Param(ParamDecl),
    /// `let NAME = EXPR;`
    Let(Ident, Expr),
    /// `fn NAME(ARGS) = EXPR;`
    Fn(Ident, Vec<Ident>, Expr),
    /// `NAME = EXPR;`: a parameter's new value.
    Assign(Ident, Expr),
    /// `minimize ...` / `maximize ...`
    Minimize(MinimizeStmt),
    /// `hesse`: the last fit's errors from the exact Hessian.
    Hesse,
    /// `minos [NAME, ...] [cl=C]`: the names and the `name=value` options.
    Minos(Vec<Ident>, Vec<Arg>),
    /// `contour X, Y [cl=C] [points=N]` (MnContours).
    Contour { x: Ident, y: Ident, opts: Vec<Arg> },
    /// `profile X [points=N] [bound=K]` (iminuit's mnprofile).
    Profile { x: Ident, opts: Vec<Arg> },
    /// `print EXPR, ...`
    Print(Vec<Expr>),
    /// `expect COND ["message"] [points N]` or `expect A == B within TOL ["message"] [points N]`.
    Expect {
        cond: Expr,
        within: Option<Expr>,
        message: Option<String>,
        /// `points N`: the expect's weight in `losslang check`'s score.
        points: Option<Expr>,
    },
    /// `seed N`: restarts the random stream.
    Seed(Expr),
    /// A plot and its file (`to "f.svg"`); without one (allowed only where
    /// plots are shown inline, as in a notebook) it is drawn inline only.
    Plot(PlotKind, Option<Expr>),
    /// A bare expression (the REPL prints its value).
    Expr(Expr),
    /// A statement that failed to parse; its error has been recorded.
    Error,
}

/// A statement with its source span.
#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    /// What the statement is.
    pub kind: StmtKind,
    /// Its source text.
    pub span: Span,
}

/// A parsed script or REPL input: its statements in order.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Program {
    /// The statements, failed ones as `StmtKind::Error`.
    pub stmts: Vec<Stmt>,
}
