//! The syntax stage's typed errors: the lexer's (`LexError`, a kind and a
//! span) and the parser's (`SyntaxError`), each worded once here as a
//! diagnostic. LALRPOP's `ParseError` is turned into a `SyntaxError` as soon
//! as the parser gives it back, so nothing else sees the generated types.

use super::ast::MAX_DEPTH;
use super::lexer::{LexError, LexErrorKind, Tok, MAX_NESTING};
use crate::diagnostics::{Code, Diag, IntoDiagnostic, Span};
use lalrpop_util::ParseError;

/// A syntax error, with the spans it points at.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SyntaxError {
    /// Text that is not a token.
    #[error(transparent)]
    Lex(#[from] LexError),
    /// A token the parser could not take at all (LALRPOP's InvalidToken).
    #[error("invalid token")]
    InvalidToken { at: usize },
    /// The script ended inside a statement; `expected` are LALRPOP's
    /// terminal names (`"\";\""`, `"name"`).
    #[error("unexpected end of input")]
    UnexpectedEof { at: usize, expected: Vec<String> },
    /// A token the grammar does not allow here, with a `help:` line for a
    /// mistake people make (`=` to compare, torch's API, ...) when the
    /// parser recognised one.
    #[error("unexpected {tok}")]
    UnexpectedToken {
        tok: Tok,
        span: Span,
        expected: Vec<String>,
        hint: Option<String>,
    },
    /// A `;` expected before a token on a later line: the statement above
    /// lacks its `;`, which belongs at `at`.
    #[error("missing `;` before {tok}")]
    MissingSemi { tok: Tok, at: usize, next: Span },
    #[error("unexpected {tok}")]
    ExtraToken { tok: Tok, span: Span },
    /// An expression tree deeper than `MAX_DEPTH`, starting at `at`.
    #[error("expression nested too deeply")]
    ExprTooDeep { at: usize },
}

impl SyntaxError {
    /// LALRPOP's error for a source of `len` bytes. The grammar reports an
    /// expression that is too deep as a user error of kind `TooDeep`.
    pub fn from_parse(e: ParseError<usize, Tok, LexError>, len: usize) -> SyntaxError {
        match e {
            ParseError::InvalidToken { location } => SyntaxError::InvalidToken { at: location },
            ParseError::UnrecognizedEof { location, expected } => SyntaxError::UnexpectedEof {
                at: location.min(len),
                expected,
            },
            ParseError::UnrecognizedToken {
                token: (l, tok, r),
                expected,
            } => SyntaxError::UnexpectedToken {
                tok,
                span: l..r,
                expected,
                hint: None,
            },
            ParseError::ExtraToken { token: (l, tok, r) } => {
                SyntaxError::ExtraToken { tok, span: l..r }
            }
            ParseError::User { error } if error.kind == LexErrorKind::TooDeep => {
                SyntaxError::ExprTooDeep {
                    at: error.span.start,
                }
            }
            ParseError::User { error } => SyntaxError::Lex(error),
        }
    }
}

impl IntoDiagnostic for LexError {
    fn into_diagnostic(self) -> Diag {
        let message = self.to_string();
        let span = self.span;
        match self.kind {
            LexErrorKind::UnexpectedChar => Diag::error(Code::E0001, message)
                .at(span, "no token starts with this")
                .note("help: names are letters, digits and `_`; `#` starts a comment"),
            LexErrorKind::UnterminatedString => Diag::error(Code::E0002, message)
                .at(span, "this string has no closing `\"`")
                .note("help: strings end on the same line with `\"`"),
            LexErrorKind::BadEscape(_) => Diag::error(Code::E0003, message)
                .at(span, "in this string")
                .note("help: the escapes are \\\", \\\\, \\n and \\t"),
            LexErrorKind::BadNumber => Diag::error(Code::E0005, message)
                .at(span, "this number overflows to infinity")
                .note("help: numbers must be below about 1.8e308; write `inf` for infinity"),
            LexErrorKind::TooDeep => Diag::error(Code::E0004, message)
                .at(span, format!("more than {MAX_NESTING} levels open here"))
                .note("help: split the expression with `let`"),
        }
    }
}

impl IntoDiagnostic for SyntaxError {
    fn into_diagnostic(self) -> Diag {
        let message = self.to_string();
        match self {
            SyntaxError::Lex(e) => e.into_diagnostic(),
            SyntaxError::InvalidToken { at } => {
                Diag::error(Code::E0100, message).at(at..at + 1, "here")
            }
            SyntaxError::UnexpectedEof { at, expected } => {
                let d = Diag::error(Code::E0101, message).at(
                    at..at,
                    format!("expected {} here", expected_list(&expected)),
                );
                if expected.iter().any(|x| x == "\";\"") {
                    d.note("help: every statement ends with `;`")
                } else {
                    d
                }
            }
            SyntaxError::UnexpectedToken {
                span,
                expected,
                hint,
                ..
            } => {
                let d = Diag::error(Code::E0100, message)
                    .at(span, format!("expected {}", expected_list(&expected)));
                match hint {
                    Some(h) => d.note(h),
                    None => d,
                }
            }
            SyntaxError::MissingSemi { at, next, .. } => Diag::error(Code::E0100, message)
                .at(at..at, "add `;` here")
                .at(next, "the next statement starts here")
                .note("help: every statement ends with `;`"),
            SyntaxError::ExtraToken { span, .. } => {
                Diag::error(Code::E0100, message).at(span, "extra token")
            }
            SyntaxError::ExprTooDeep { at } => Diag::error(Code::E0102, message)
                .at(at..at + 1, format!("deeper than {MAX_DEPTH} levels"))
                .note("help: split the expression into several `let`s"),
        }
    }
}

/// Renders LALRPOP's expected-terminal names ("\"name\"", "\";\"") for people.
fn expected_list(expected: &[String]) -> String {
    let mut names: Vec<String> = expected
        .iter()
        .map(|e| {
            let t = e.trim_matches('"');
            match t {
                "name" | "number" | "string" => format!("a {t}"),
                _ => format!("`{}`", t.replace("\\\"", "\"")),
            }
        })
        .collect();
    names.sort();
    names.dedup();
    match names.len() {
        0 => String::new(),
        1 => names[0].clone(),
        _ => {
            let last = names.pop().unwrap_or_default();
            format!("{} or {}", names.join(", "), last)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_tokens_read_as_a_list() {
        let names = ["\";\"", "\"name\"", "\")\""].map(String::from);
        assert_eq!(expected_list(&names), "`)`, `;` or a name");
        assert_eq!(expected_list(&names[..1]), "`;`");
    }

    #[test]
    fn too_deep_user_error_is_an_expression_error() {
        let e = ParseError::User {
            error: LexError {
                kind: LexErrorKind::TooDeep,
                span: 4..9,
            },
        };
        let d = SyntaxError::from_parse(e, 10).into_diagnostic();
        assert_eq!((d.code, d.labels[0].0.clone()), (Code::E0102, 4..5));
    }

    #[test]
    fn eof_is_clamped_to_the_source_and_hints_the_semicolon() {
        let e = ParseError::UnrecognizedEof {
            location: 99,
            expected: vec!["\";\"".into()],
        };
        let d = SyntaxError::from_parse(e, 7).into_diagnostic();
        assert_eq!(d.code, Code::E0101);
        assert_eq!(d.labels[0], (7..7, "expected `;` here".to_string()));
        assert_eq!(d.notes, ["help: every statement ends with `;`"]);
    }

    #[test]
    fn a_bad_escape_names_the_character() {
        let d = LexError {
            kind: LexErrorKind::BadEscape('q'),
            span: 0..4,
        }
        .into_diagnostic();
        assert_eq!(d.message, "unknown escape `\\q` in string");
        assert_eq!(d.code, Code::E0003);
    }
}
