//! The syntax tree. Every node carries the byte span of its source text, so
//! any later stage can point a diagnostic at the exact place.

pub use super::lexer::Span;

/// A name with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    MatMul,
    Pow,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
}

impl BinOp {
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

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::Eq | BinOp::Ne
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    Neg,
    Plus,
    Not,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
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
    pub name: Option<Ident>,
    pub value: Expr,
    pub span: Span,
}

/// One entry of `a[...]`: an index or a slice `lo:hi` (either end optional).
#[derive(Clone, Debug, PartialEq)]
pub enum IndexArg {
    At(Expr),
    Slice(Option<Expr>, Option<Expr>, Span),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Num(f64),
    Bool(bool),
    Str(String),
    Name(String),
    Unary(UnOp, Box<Expr>),
    Binary(BinOp, Box<Expr>, Box<Expr>),
    Call(Ident, Vec<Arg>),
    Index(Box<Expr>, Vec<IndexArg>),
    Field(Box<Expr>, Ident),
    Array(Vec<Expr>),
    Tuple(Vec<Expr>),
}

/// `in [LO, HI]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    pub lo: Expr,
    pub hi: Expr,
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

#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    pub name: Ident,
    /// `Some` for `param w[D1, D2]`.
    pub dims: Option<Vec<Expr>>,
    pub init: ParamInit,
    pub limits: Option<Limits>,
    /// `step S`: Minuit's initial step size.
    pub step: Option<Expr>,
    pub fixed: bool,
}

/// `with OPT[(ARGS)]`.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerSpec {
    pub name: Ident,
    pub args: Vec<Arg>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct MinimizeStmt {
    pub maximize: bool,
    pub objective: Expr,
    pub from: Vec<(Ident, Expr)>,
    pub with: Option<OptimizerSpec>,
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
    pub span: Span,
}

/// `for N epochs ...`: minibatch training (SPEC 5.2).
#[derive(Clone, Debug, PartialEq)]
pub struct EpochSpec {
    pub count: Expr,
    pub batch: Option<Expr>,
    pub over: Vec<Ident>,
    pub shuffle: bool,
    pub drop_last: bool,
    pub watch: Vec<Ident>,
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
    pub var: Ident,
    pub lo: Expr,
    pub hi: Expr,
}

// Statements are made once each and never stored in bulk, so the size of
// their largest variant does not matter; boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum PlotKind {
    Contour {
        objective: Expr,
        x: PlotRange,
        y: PlotRange,
        path: PathMode,
    },
    Loss,
    /// `plot lr`: the learning rate per step of the last minimization.
    Lr,
    Curves {
        exprs: Vec<Expr>,
        range: PlotRange,
    },
    /// `plot mncontour X, Y [cl=[C, ...]] [points=N]`: MINOS contours of the
    /// last fit (iminuit's `draw_mncontour`).
    MnContour {
        x: Ident,
        y: Ident,
        opts: Vec<Arg>,
    },
    /// `plot profile X [points=N] [bound=K]`: the MINOS profile of the last
    /// fit (iminuit's `draw_mnprofile`).
    Profile {
        x: Ident,
        opts: Vec<Arg>,
    },
}

#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Param(ParamDecl),
    Let(Ident, Expr),
    Fn(Ident, Vec<Ident>, Expr),
    Assign(Ident, Expr),
    Minimize(MinimizeStmt),
    Hesse,
    /// `minos [NAME, ...] [cl=C]`: the names and the `name=value` options.
    Minos(Vec<Ident>, Vec<Arg>),
    /// `contour X, Y [cl=C] [points=N]` (MnContours).
    Contour {
        x: Ident,
        y: Ident,
        opts: Vec<Arg>,
    },
    /// `profile X [points=N] [bound=K]` (iminuit's mnprofile).
    Profile {
        x: Ident,
        opts: Vec<Arg>,
    },
    Print(Vec<Expr>),
    /// `expect COND ["message"] [points N]` or `expect A == B within TOL ["message"] [points N]`.
    Expect {
        cond: Expr,
        within: Option<Expr>,
        message: Option<String>,
        /// `points N`: the expect's weight in `losslang check`'s score.
        points: Option<Expr>,
    },
    Seed(Expr),
    /// A plot and its file (`to "f.svg"`); without one (allowed only where
    /// plots are shown inline, as in a notebook) it is drawn inline only.
    Plot(PlotKind, Option<Expr>),
    /// A bare expression (the REPL prints its value).
    Expr(Expr),
    /// A statement that failed to parse; its error has been recorded.
    Error,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq, Default)]
pub struct Program {
    pub stmts: Vec<Stmt>,
}
