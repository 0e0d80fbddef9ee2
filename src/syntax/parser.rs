//! Glue between the lexer and the LALRPOP parser: error recovery (every
//! syntax error of a script at once), the REPL's completeness test, and the
//! hand-over of every error to `syntax::error`, which words it.

use super::ast::{Expr, ExprKind, Program, MAX_DEPTH};
use super::error::SyntaxError;
use super::lexer::{lex, LexError, LexErrorKind, Tok};
use crate::diagnostics::{Diag, IntoDiagnostic};
use lalrpop_util::{lalrpop_mod, ErrorRecovery, ParseError};

lalrpop_mod!(
    #[allow(clippy::all, clippy::pedantic, unused_parens)]
    grammar,
    "/loss.rs"
);

/// The parser's error type.
pub type Error = ParseError<usize, Tok, LexError>;

/// Builds an expression node, refusing trees deeper than `MAX_DEPTH`.
pub fn mk(kind: ExprKind, l: usize, r: usize) -> Result<Expr, Error> {
    let e = Expr::new(kind, l..r);
    if e.depth > MAX_DEPTH {
        return Err(ParseError::User {
            error: LexError {
                kind: LexErrorKind::TooDeep,
                span: l..r,
            },
        });
    }
    Ok(e)
}

/// Parses a whole script. All lexer and syntax errors are returned together.
pub fn parse(src: &str) -> Result<Program, Vec<Diag>> {
    parse_from(src, 0)
}

/// Parses `src[base..]` with spans into the whole of `src` (the REPL keeps
/// one growing source, so a diagnostic can point back at an earlier input).
pub fn parse_from(src: &str, base: usize) -> Result<Program, Vec<Diag>> {
    let (mut tokens, mut lex_errors) = lex(&src[base..]);
    for t in &mut tokens {
        t.0 += base;
        t.2 += base;
    }
    for e in &mut lex_errors {
        e.span = e.span.start + base..e.span.end + base;
    }
    let mut diags: Vec<Diag> = lex_errors.iter().map(lex_diag).collect();
    // A script cut off by a nesting error is not worth parsing further.
    if lex_errors.iter().any(|e| e.kind == LexErrorKind::TooDeep) {
        return Err(diags);
    }
    let mut recovered: Vec<ErrorRecovery<usize, Tok, LexError>> = Vec::new();
    let result = grammar::ProgramParser::new()
        .parse(&mut recovered, tokens.into_iter().map(Ok::<_, LexError>));
    // A bad token is already reported; the parser's complaint about the gap
    // it leaves on the same line would only repeat it.
    let lex_lines: Vec<usize> = diags.iter().map(|d| d.line_col(src).0).collect();
    let push = |d: Diag, diags: &mut Vec<Diag>| {
        if !lex_lines.contains(&d.line_col(src).0) {
            diags.push(d);
        }
    };
    for r in recovered {
        push(parse_diag(r.error, src), &mut diags);
    }
    match result {
        Ok(p) if diags.is_empty() => Ok(p),
        Ok(_) => Err(diags),
        Err(e) => {
            push(parse_diag(e, src), &mut diags);
            if diags.is_empty() {
                // Only possible if the error sat on a line with a lex error.
                diags.extend(lex_errors.iter().map(lex_diag));
            }
            Err(diags)
        }
    }
}

/// Parses one expression (used by the REPL and tests).
pub fn parse_expr(src: &str) -> Result<Expr, Vec<Diag>> {
    let (tokens, lex_errors) = lex(src);
    if !lex_errors.is_empty() {
        return Err(lex_errors.iter().map(lex_diag).collect());
    }
    let mut recovered = Vec::new();
    grammar::ExprParser::new()
        .parse(&mut recovered, tokens.into_iter().map(Ok::<_, LexError>))
        .map_err(|e| vec![parse_diag(e, src)])
}

/// Whether `src` is an unfinished statement: more input could complete it
/// (the REPL's continuation prompt).
pub fn is_incomplete(src: &str) -> bool {
    let (tokens, lex_errors) = lex(src);
    if lex_errors
        .iter()
        .any(|e| e.kind == LexErrorKind::UnterminatedString)
    {
        return true;
    }
    if !lex_errors.is_empty() {
        return false;
    }
    let mut depth: i64 = 0;
    for (_, t, _) in &tokens {
        match t {
            Tok::LParen | Tok::LBracket => depth += 1,
            Tok::RParen | Tok::RBracket => depth -= 1,
            _ => {}
        }
    }
    if depth > 0 {
        return true;
    }
    let mut recovered = Vec::new();
    matches!(
        grammar::ProgramParser::new()
            .parse(&mut recovered, tokens.into_iter().map(Ok::<_, LexError>)),
        Err(ParseError::UnrecognizedEof { .. })
    )
}

fn lex_diag(e: &LexError) -> Diag {
    e.clone().into_diagnostic()
}

fn parse_diag(e: Error, src: &str) -> Diag {
    SyntaxError::from_parse(e, src.len()).into_diagnostic()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::{BinOp, StmtKind, UnOp};

    fn expr(src: &str) -> Expr {
        parse_expr(src).unwrap_or_else(|e| panic!("{e:?}"))
    }

    #[test]
    fn unary_minus_is_looser_than_power() {
        let e = expr("-x^2");
        match e.kind {
            ExprKind::Unary(UnOp::Neg, inner) => {
                assert!(matches!(inner.kind, ExprKind::Binary(BinOp::Pow, _, _)))
            }
            k => panic!("{k:?}"),
        }
    }

    #[test]
    fn power_is_right_associative_and_takes_signed_exponent() {
        let e = expr("2^3^2");
        match e.kind {
            ExprKind::Binary(BinOp::Pow, a, b) => {
                assert_eq!(a.kind, ExprKind::Num(2.0));
                assert!(matches!(b.kind, ExprKind::Binary(BinOp::Pow, _, _)));
            }
            k => panic!("{k:?}"),
        }
        assert!(parse_expr("x^-1").is_ok());
        assert!(parse_expr("x ** 2").is_ok());
    }

    #[test]
    fn comparisons_do_not_chain() {
        assert!(parse_expr("a < b < c").is_err());
    }

    #[test]
    fn spans_cover_the_node() {
        let e = expr("  (a + b) * c");
        assert_eq!(e.span, 2..13);
    }

    #[test]
    fn every_statement_form_parses() {
        let src = r#"
            param x = 1 in [0, 2] fixed;
            param w[3, 4] ~ xavier_uniform(gain=2);
            param v[2] = [1, 2];
            let a = x * 2;
            fn f(p, q) = p + q;
            x = 3;
            minimize f(x, a) from x = 1 with adam(lr=0.1, betas=(0.9, 0.99)) for 10 steps;
            maximize x;
            hesse;
            minos x;
            minos;
            print x, "s", d.col, w[0, :], v[1:];
            expect x == 3 within 0.1 "msg";
            expect x > 0;
            seed 4;
            plot contour x over x in [0, 1], y in [0, 1] with path to "a.svg";
            plot loss to "l.png";
            plot sin(t), grad(sin(t), t) over t in [-3, 3] to "s.svg";
            x + 1;
        "#;
        let p = parse(src).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(p.stmts.len(), 19);
        assert!(matches!(p.stmts[6].kind, StmtKind::Minimize(_)));
    }

    #[test]
    fn error_recovery_reports_every_error() {
        let errs = parse("let a = ;\nlet b = 1 +;\nprint a;\n").unwrap_err();
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert_eq!(errs[0].line_col("let a = ;\nlet b = 1 +;\n").0, 1);
        assert_eq!(errs[1].line_col("let a = ;\nlet b = 1 +;\n").0, 2);
    }

    #[test]
    fn missing_semicolon_at_end() {
        let errs = parse("print 1").unwrap_err();
        assert_eq!(errs[0].code, "E0101");
        assert!(errs[0].labels[0].1.contains("`;`"));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("print {}1{};", "(".repeat(100_000), ")".repeat(100_000));
        let errs = parse(&src).unwrap_err();
        assert_eq!(errs[0].code, "E0004");
        let src = format!("print {}1;", "1 + ".repeat(50_000));
        let errs = parse(&src).unwrap_err();
        assert_eq!(errs[0].code, "E0102");
        let src = format!("print {}1;", "-".repeat(50_000));
        assert_eq!(parse(&src).unwrap_err()[0].code, "E0102");
    }

    #[test]
    fn incomplete_input() {
        assert!(is_incomplete("minimize (x"));
        assert!(is_incomplete("print 1 +"));
        assert!(!is_incomplete("print 1;"));
        assert!(!is_incomplete("print );"));
    }
}
