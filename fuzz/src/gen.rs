//! A structure-aware program generator for the `gen_program` target: the
//! fuzzer's bytes choose statements, names, builtins and optimizers from the
//! language's own tables (`losslang::builtins::BUILTINS`,
//! `losslang::optim::NAMES`), so nearly every program parses and the
//! interpreter, lowering, autograd and minimizers get the mutations instead
//! of the parser. Numbers stay small so a program runs in milliseconds.

use arbitrary::{Arbitrary, Result, Unstructured};
use std::fmt::{self, Display, Formatter};

const NAMES: &[&str] = &["x", "y", "w", "a", "b", "f", "g", "t"];
const NUMS: &[&str] = &[
    "0", "1", "2", "0.5", "-1", "3", "1e-3", "10", "inf", "nan", "1e300",
];
const MINUIT: &[&str] = &["migrad", "migrad(grad=\"numeric\")", "migrad(strategy=2)"];

/// A whole program: statements in order.
#[derive(Debug)]
pub struct Program(pub Vec<Stmt>);

/// One statement of the language.
#[derive(Debug, Arbitrary)]
pub enum Stmt {
    Param {
        name: u8,
        dims: Option<(u8, Option<u8>)>,
        init: Expr,
        limits: Option<(Expr, Expr)>,
        fixed: bool,
    },
    ParamInit {
        name: u8,
        dims: (u8, Option<u8>),
        init: u8,
    },
    Let(u8, Expr),
    Fn(u8, Vec<u8>, Expr),
    Assign(u8, Expr),
    Minimize {
        maximize: bool,
        obj: Expr,
        from: Vec<(u8, Expr)>,
        opt: u8,
        lr: u8,
        steps: u8,
    },
    Hesse,
    Minos(Vec<u8>),
    Print(Vec<Expr>),
    Expect(Expr, Option<Expr>),
    Seed(u8),
    Contour {
        obj: Expr,
        x: u8,
        y: u8,
        path: u8,
    },
    PlotLoss,
    Curves(Vec<Expr>, u8),
    Bare(Expr),
}

/// An expression; depth is bounded in `Arbitrary for Expr`.
#[derive(Debug)]
pub enum Expr {
    Num(u8),
    Name(u8),
    Neg(Box<Expr>),
    Not(Box<Expr>),
    Bin(u8, Box<Expr>, Box<Expr>),
    Call(u16, Vec<Expr>, Option<(u8, Box<Expr>)>),
    Array(Vec<Expr>),
    Index(Box<Expr>, u8),
    Grad(Box<Expr>, u8),
    Str(u8),
}

impl<'a> Arbitrary<'a> for Program {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut v = Vec::new();
        while v.len() < 24 && !u.is_empty() {
            v.push(Stmt::arbitrary(u)?);
        }
        Ok(Program(v))
    }
}

fn expr_at(u: &mut Unstructured<'_>, depth: u32) -> Result<Expr> {
    let leaf = depth >= 5 || u.ratio(1, 3)?;
    if leaf {
        return Ok(match u.int_in_range(0..=2)? {
            0 => Expr::Num(u.arbitrary()?),
            1 => Expr::Name(u.arbitrary()?),
            _ => Expr::Str(u.arbitrary()?),
        });
    }
    let sub = |u: &mut Unstructured<'_>| expr_at(u, depth + 1).map(Box::new);
    Ok(match u.int_in_range(0..=7)? {
        0 => Expr::Neg(sub(u)?),
        1 => Expr::Not(sub(u)?),
        2 => Expr::Bin(u.arbitrary()?, sub(u)?, sub(u)?),
        3 => {
            let n = u.int_in_range(0..=3)?;
            let args = (0..n)
                .map(|_| expr_at(u, depth + 1))
                .collect::<Result<_>>()?;
            let opt = if u.arbitrary()? {
                Some((u.arbitrary()?, sub(u)?))
            } else {
                None
            };
            Expr::Call(u.arbitrary()?, args, opt)
        }
        4 => {
            let n = u.int_in_range(0..=4)?;
            Expr::Array(
                (0..n)
                    .map(|_| expr_at(u, depth + 1))
                    .collect::<Result<_>>()?,
            )
        }
        5 => Expr::Index(sub(u)?, u.arbitrary()?),
        6 => Expr::Grad(sub(u)?, u.arbitrary()?),
        _ => Expr::Num(u.arbitrary()?),
    })
}

impl<'a> Arbitrary<'a> for Expr {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        expr_at(u, 0)
    }
}

fn pick<T: Copy>(t: &[T], i: impl Into<usize>) -> T {
    t[i.into() % t.len()]
}

fn name(i: u8) -> &'static str {
    pick(NAMES, i)
}

fn dims(d: (u8, Option<u8>)) -> String {
    match d.1 {
        None => format!("{}", d.0 % 4 + 1),
        Some(e) => format!("{}, {}", d.0 % 4 + 1, e % 4 + 1),
    }
}

fn list(f: &mut Formatter<'_>, xs: &[Expr]) -> fmt::Result {
    for (k, x) in xs.iter().enumerate() {
        if k > 0 {
            write!(f, ", ")?;
        }
        write!(f, "{x}")?;
    }
    Ok(())
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        const OPS: &[&str] = &[
            "+", "-", "*", "/", "^", "<", "<=", ">", "==", "!=", "and", "or", "@",
        ];
        match self {
            Expr::Num(i) => write!(f, "{}", pick(NUMS, *i)),
            Expr::Name(i) => write!(f, "{}", name(*i)),
            Expr::Neg(e) => write!(f, "-({e})"),
            Expr::Not(e) => write!(f, "not ({e})"),
            Expr::Bin(o, a, b) => write!(f, "({a} {} {b})", pick(OPS, *o)),
            Expr::Call(i, args, opt) => {
                let b = pick(losslang::builtins::BUILTINS, *i);
                write!(f, "{}(", b.name)?;
                list(f, args)?;
                if let Some((o, v)) = opt {
                    let key = b
                        .options
                        .get(*o as usize % b.options.len().max(1))
                        .map_or("axis", |o| o.name);
                    let sep = if args.is_empty() { "" } else { ", " };
                    write!(f, "{sep}{key}={v}")?;
                }
                write!(f, ")")
            }
            Expr::Array(xs) => {
                write!(f, "[")?;
                list(f, xs)?;
                write!(f, "]")
            }
            Expr::Index(e, k) => write!(f, "({e})[{}]", k % 4),
            Expr::Grad(e, v) => write!(f, "grad({e}, {})", name(*v)),
            Expr::Str(i) => write!(f, "\"{}.csv\"", name(*i)),
        }
    }
}

impl Display for Stmt {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Stmt::Param {
                name: n,
                dims: d,
                init,
                limits,
                fixed,
            } => {
                write!(f, "param {}", name(*n))?;
                if let Some(d) = d {
                    write!(f, "[{}]", dims(*d))?;
                }
                write!(f, " = {init}")?;
                if let Some((lo, hi)) = limits {
                    write!(f, " in [{lo}, {hi}]")?;
                }
                if *fixed {
                    write!(f, " fixed")?;
                }
                write!(f, ";")
            }
            Stmt::ParamInit {
                name: n,
                dims: d,
                init,
            } => {
                const INITS: &[&str] = &[
                    "zeros",
                    "ones",
                    "randn",
                    "normal(0, 1)",
                    "xavier_uniform",
                    "kaiming_normal",
                ];
                write!(
                    f,
                    "param {}[{}] ~ {};",
                    name(*n),
                    dims(*d),
                    pick(INITS, *init)
                )
            }
            Stmt::Let(n, e) => write!(f, "let {} = {e};", name(*n)),
            Stmt::Fn(n, args, e) => {
                let a: Vec<&str> = args.iter().take(3).map(|&i| name(i)).collect();
                write!(f, "fn {}({}) = {e};", name(*n), a.join(", "))
            }
            Stmt::Assign(n, e) => write!(f, "{} = {e};", name(*n)),
            Stmt::Minimize {
                maximize,
                obj,
                from,
                opt,
                lr,
                steps,
            } => {
                write!(
                    f,
                    "{} {obj}",
                    if *maximize { "maximize" } else { "minimize" }
                )?;
                for (k, (n, v)) in from.iter().take(3).enumerate() {
                    write!(
                        f,
                        "{} {} = {v}",
                        if k == 0 { " from" } else { "," },
                        name(*n)
                    )?;
                }
                let names = losslang::optim::NAMES;
                let i = *opt as usize % (names.len() + MINUIT.len() + 1);
                if i < names.len() {
                    write!(
                        f,
                        " with {}(lr={}) for {} steps",
                        names[i],
                        pick(NUMS, *lr),
                        steps % 20 + 1
                    )?;
                } else if i < names.len() + MINUIT.len() {
                    write!(f, " with {}", MINUIT[i - names.len()])?;
                }
                write!(f, ";")
            }
            Stmt::Hesse => write!(f, "hesse;"),
            Stmt::Minos(ns) => {
                let a: Vec<&str> = ns.iter().take(3).map(|&i| name(i)).collect();
                write!(f, "minos {};", a.join(", "))
            }
            Stmt::Print(xs) => {
                write!(f, "print ")?;
                list(f, xs)?;
                write!(f, ";")
            }
            Stmt::Expect(c, w) => match w {
                Some(t) => write!(f, "expect {c} == 1 within {t};"),
                None => write!(f, "expect {c};"),
            },
            Stmt::Seed(s) => write!(f, "seed {s};"),
            Stmt::Contour { obj, x, y, path } => {
                const PATH: &[&str] = &["", " with path", " with paths"];
                write!(
                    f,
                    "plot contour {obj} over {} in [-1, 1], {} in [-2, 2]{} to \"c.svg\";",
                    name(*x),
                    name(*y),
                    pick(PATH, *path)
                )
            }
            Stmt::PlotLoss => write!(f, "plot loss to \"l.svg\";"),
            Stmt::Curves(xs, v) => {
                write!(f, "plot ")?;
                list(f, xs)?;
                write!(f, " over {} in [-1, 1] to \"p.png\";", name(*v))
            }
            Stmt::Bare(e) => write!(f, "{e};"),
        }
    }
}

impl Display for Program {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for s in &self.0 {
            writeln!(f, "{s}")?;
        }
        Ok(())
    }
}
