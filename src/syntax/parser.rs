//! Glue between the lexer and the LALRPOP parser: error recovery (every
//! syntax error of a script at once), the REPL's completeness test, and the
//! hand-over of every error to `syntax::error`, which words it.

use super::ast::{Expr, ExprKind, Program, MAX_DEPTH};
use super::error::SyntaxError;
use super::lexer::{lex, LexError, LexErrorKind, Spanned, Tok};
use crate::diagnostics::{Diag, IntoDiagnostic, LineIndex};
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

/// The values of a list the grammar built of boxes (it boxes large nodes
/// so that the values it moves stay small; see grammar/loss.lalrpop).
pub fn unbox<T>(v: Vec<Box<T>>) -> Vec<T> {
    v.into_iter().map(|b| *b).collect()
}

/// Parses a whole script. All lexer and syntax errors are returned together.
pub fn parse(src: &str) -> Result<Program, Vec<Diag>> {
    parse_from(src, 0)
}

/// Parses `src[base..]` with spans into the whole of `src` (the REPL keeps
/// one growing source, so a diagnostic can point back at an earlier input).
pub fn parse_from(src: &str, base: usize) -> Result<Program, Vec<Diag>> {
    let (tokens, lex_errors) = lex_from(src, base);
    let mut diags: Vec<Diag> = lex_errors.iter().map(lex_diag).collect();
    // A script cut off by a nesting error is not worth parsing further.
    if lex_errors.iter().any(|e| e.kind == LexErrorKind::TooDeep) {
        return Err(diags);
    }
    let mut recovered: Vec<ErrorRecovery<usize, Tok, LexError>> = Vec::new();
    let result = grammar::ProgramParser::new()
        .parse(&mut recovered, tokens.into_iter().map(Ok::<_, LexError>));
    let result = match result {
        Ok(p) if diags.is_empty() && recovered.is_empty() => return Ok(p),
        r => r,
    };
    // The error hints look at the tokens around the error: lexing again
    // (only when there is an error) spares the parser a copy of them.
    let toks = lex_from(src, base).0;
    // A bad token is already reported; the parser's complaint about the gap
    // it leaves on the same line would only repeat it.
    let index = LineIndex::new(src);
    let line_of = |d: &Diag| d.primary_span().map_or(1, |s| index.line(s.start));
    let lex_lines: std::collections::HashSet<usize> = diags.iter().map(line_of).collect();
    let push = |d: Diag, diags: &mut Vec<Diag>| {
        if !lex_lines.contains(&line_of(&d)) {
            diags.push(d);
        }
    };
    for r in recovered {
        push(parse_diag(r.error, src, &toks), &mut diags);
    }
    match result {
        Ok(p) if diags.is_empty() => Ok(p),
        Ok(_) => Err(diags),
        Err(e) => {
            push(parse_diag(e, src, &toks), &mut diags);
            if diags.is_empty() {
                // Only possible if the error sat on a line with a lex error.
                diags.extend(lex_errors.iter().map(lex_diag));
            }
            Err(diags)
        }
    }
}

/// Lexes `src[base..]` with spans into the whole of `src`.
fn lex_from(src: &str, base: usize) -> (Vec<Spanned>, Vec<LexError>) {
    let (mut tokens, mut lex_errors) = lex(&src[base..]);
    if base > 0 {
        for t in &mut tokens {
            t.0 += base;
            t.2 += base;
        }
        for e in &mut lex_errors {
            e.span = e.span.start + base..e.span.end + base;
        }
    }
    (tokens, lex_errors)
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
        .map_err(|e| vec![parse_diag(e, src, &lex(src).0)])
}

/// Whether `src` is an unfinished statement that more input could complete
/// (the REPL's continuation prompt): a bracket is open, or the text ends
/// where a statement cannot (after an operator, `=`, `with`, ...). Text
/// that could end here with a `;` is complete (the REPL adds the `;`); so
/// is text with a lexer error, an unterminated string included, since
/// strings end on their own line.
pub fn is_incomplete(src: &str) -> bool {
    let (tokens, lex_errors) = lex(src);
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
    match grammar::ProgramParser::new()
        .parse(&mut recovered, tokens.into_iter().map(Ok::<_, LexError>))
    {
        Err(ParseError::UnrecognizedEof { expected, .. }) => !expected.iter().any(|x| x == "\";\""),
        _ => false,
    }
}

fn lex_diag(e: &LexError) -> Diag {
    e.clone().into_diagnostic()
}

fn parse_diag(e: Error, src: &str, toks: &[Spanned]) -> Diag {
    match SyntaxError::from_parse(e, src.len()) {
        SyntaxError::UnexpectedToken {
            tok,
            span,
            expected,
            ..
        } => unexpected_token(src, toks, (span.start, tok, span.end), expected),
        other => other,
    }
    .into_diagnostic()
}

/// An unexpected token as a `SyntaxError`, with a hint for the mistakes
/// people make: a `;` forgotten at the end of a line, `=` to compare,
/// chained comparisons, torch's Python API, `100 steps` without `for`.
fn unexpected_token(
    src: &str,
    toks: &[Spanned],
    token: Spanned,
    expected: Vec<String>,
) -> SyntaxError {
    let (l, tok, r) = token;
    let wants = |t: &str| expected.iter().any(|x| x.trim_matches('"') == t);
    let at = toks.partition_point(|t| t.0 < l);
    let prev = at.checked_sub(1).and_then(|i| toks.get(i));
    // The statement the error is in: from the token after the last `;`.
    let start = toks[..at]
        .iter()
        .rposition(|t| t.1 == Tok::Semi)
        .map_or(0, |i| i + 1);
    let stmt = &toks[start..at];
    // A `;` expected before a token on a later line: the line above it is
    // a finished statement that lacks its `;` (rustc's hint, at the place
    // the `;` belongs).
    if let Some((_, _, pend)) = prev {
        if wants(";") && src.get(*pend..l).is_some_and(|gap| gap.contains('\n')) {
            return SyntaxError::MissingSemi {
                tok,
                at: *pend,
                next: l..r,
            };
        }
    }
    let mut hint = None;
    let first = stmt.first().map(|t| &t.1);
    let is_cmp = |t: &Tok| {
        matches!(
            t,
            Tok::Lt | Tok::Le | Tok::Gt | Tok::Ge | Tok::EqEq | Tok::NotEq
        )
    };
    if tok == Tok::Assign && (first == Some(&Tok::Expect) || wants("==")) {
        hint = Some("help: use `==` to compare, as in `expect x == 2 within 0.01;`".to_string());
    } else if is_cmp(&tok) && stmt.iter().any(|t| is_cmp(&t.1)) {
        hint =
            Some("help: comparisons do not chain; use `and`, as in `a < b and b < c`".to_string());
    } else if matches!(first, Some(Tok::Ident(n)) if n == "torch" || n == "optim") {
        hint = Some(
            "help: there are no torch objects here; write `minimize EXPR with adam(lr=0.1);`"
                .to_string(),
        );
    } else if matches!(tok, Tok::Num(_))
        && wants("for")
        && toks.get(at + 1).is_some_and(|t| t.1 == Tok::Steps)
    {
        let n = &src[l..r];
        hint = Some(format!("help: write `for {n} steps`"));
    }
    SyntaxError::UnexpectedToken {
        tok,
        span: l..r,
        expected,
        hint,
    }
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

    /// The hint's first line, for the tests below.
    fn first_error(src: &str) -> Diag {
        parse(src).unwrap_err().remove(0)
    }

    #[test]
    fn a_missing_semicolon_is_pointed_at_where_it_belongs() {
        let src = "param x = 1\nparam y = 2;\n";
        let d = first_error(src);
        assert_eq!(d.message, "missing `;` before `param`");
        // The primary label is the end of line 1, not `param` on line 2.
        assert_eq!(d.labels[0].0, 11..11);
        assert_eq!(d.line_col(src), (1, 12));
    }

    #[test]
    fn no_semicolon_hint_where_it_would_be_wrong() {
        for src in [
            "torch.optim.Adam(params, lr=0.1);",
            "let a = 1; let b = 2; a, b;",
            "param x = 1; minimize x^2 with adam(lr=0.1) 100 steps;",
        ] {
            let d = first_error(src);
            assert!(!d.message.contains("missing"), "{src}: {d:?}");
            assert!(d.notes.iter().all(|n| !n.contains("`;`")), "{src}: {d:?}");
        }
    }

    #[test]
    fn hints_for_common_mistakes() {
        let cases = [
            (
                "param x = 1;\nexpect x = 2 within 0.01;",
                "use `==` to compare",
            ),
            ("print 1 < 2 < 3;", "comparisons do not chain; use `and`"),
            (
                "torch.optim.Adam(params, lr=0.1);",
                "minimize EXPR with adam(lr=0.1)",
            ),
            (
                "param x = 1; minimize x^2 with adam(lr=0.1) 100 steps;",
                "write `for 100 steps`",
            ),
        ];
        for (src, hint) in cases {
            let d = first_error(src);
            assert!(d.notes.iter().any(|n| n.contains(hint)), "{src}: {d:?}");
        }
    }

    /// The grammar's values (its symbol enum is as large as the largest of
    /// them, and every shift and reduce moves one): boxed where large, so
    /// none is much larger than an `Expr` (before: a whole 656-byte `Stmt`).
    #[test]
    fn the_values_the_parser_moves_are_small() {
        use crate::syntax::ast::*;
        use std::mem::size_of;
        assert!(size_of::<Expr>() <= 88, "Expr: {}", size_of::<Expr>());
        let moved = [
            size_of::<Expr>(),
            size_of::<Option<Expr>>(),
            size_of::<Tok>(),
            size_of::<(Tok, Tok)>(),
            size_of::<ErrorRecovery<usize, Tok, LexError>>(),
            size_of::<Ident>(),
            size_of::<OptimizerSpec>(),
            size_of::<ScheduleSpec>(),
            size_of::<ParamInit>(),
            size_of::<Result<Expr, Box<EpochSpec>>>(),
            size_of::<(Box<StmtKind>, Span)>(),
            size_of::<Program>(),
        ];
        let largest = moved.iter().copied().max().unwrap_or(0);
        assert!(largest <= 112, "{moved:?}");
        // What is boxed instead is large: the statement itself most of all.
        assert!(size_of::<Stmt>() > 400 && size_of::<Arg>() > 112);
    }

    #[test]
    fn unbox_keeps_the_order() {
        assert_eq!(unbox(vec![Box::new(1), Box::new(2)]), vec![1, 2]);
    }

    #[test]
    fn an_error_after_a_base_points_into_the_whole_source() {
        let src = "print 1;\nprint 2 +;";
        let d = parse_from(src, 9).unwrap_err().remove(0);
        assert_eq!(d.line_col(src).0, 2);
        assert!(parse_from(src, 0).is_err());
        assert!(parse_from("print 1;\nprint 2;", 9).is_ok());
    }

    #[test]
    fn incomplete_input() {
        assert!(is_incomplete("minimize (x"));
        assert!(is_incomplete("print 1 +"));
        assert!(!is_incomplete("print 1;"));
        assert!(!is_incomplete("print 1"));
        assert!(!is_incomplete("print );"));
        assert!(!is_incomplete("print \"abc"));
    }
}
