//! The logos lexer: every token of SPEC section 2, with its byte span.
//! Numbers and strings are decoded here, so the parser sees values.
//! The contextual words `contour`, `loss` and `path` become keywords only in
//! a plot statement (see `contextual`), so `let loss = ...` still works.

use logos::Logos;
use std::fmt;
use std::mem::{discriminant, Discriminant};
use std::ops::Range;

/// A byte range of the source text.
pub type Span = Range<usize>;

/// Why a piece of text is not a token (the message of its diagnostic;
/// the rest of the wording is in `syntax::error`).
#[derive(Clone, Debug, Default, PartialEq, thiserror::Error)]
pub enum LexErrorKind {
    #[default]
    #[error("unexpected character")]
    UnexpectedChar,
    #[error("unterminated string")]
    UnterminatedString,
    #[error("unknown escape `\\{0}` in string")]
    BadEscape(char),
    #[error("number too large for an f64")]
    BadNumber,
    /// Brackets nested deeper than `MAX_NESTING` (and, from the grammar,
    /// an expression deeper than `ast::MAX_DEPTH`).
    #[error("brackets nested too deeply")]
    TooDeep,
}

/// A lexical error: what is wrong and where.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{kind}")]
pub struct LexError {
    /// What is wrong.
    pub kind: LexErrorKind,
    /// Where.
    pub span: Span,
}

fn unescape(lex: &mut logos::Lexer<Tok>) -> Result<String, LexErrorKind> {
    let s = lex.slice();
    let inner = &s[1..s.len() - 1];
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('"') => out.push('"'),
                Some('\\') => out.push('\\'),
                Some(other) => return Err(LexErrorKind::BadEscape(other)),
                None => return Err(LexErrorKind::UnterminatedString),
            }
        } else {
            out.push(c);
        }
    }
    Ok(out)
}

fn unterminated(_: &mut logos::Lexer<Tok>) -> Result<(), LexErrorKind> {
    Err(LexErrorKind::UnterminatedString)
}

fn number(lex: &mut logos::Lexer<Tok>) -> Result<f64, LexErrorKind> {
    match lex.slice().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(LexErrorKind::BadNumber),
    }
}

/// A token of the language. Keywords are reserved everywhere except the
/// context words (`contour`, `loss`, `lr`, the training words, ...), which
/// a pass after lexing (`contextual`, `training_words`) makes keywords only
/// where the grammar expects them.
#[derive(Logos, Clone, Debug, PartialEq)]
#[logos(error = LexErrorKind)]
#[logos(skip r"[ \t\r\n\f]+")]
#[logos(skip r"#[^\n]*")]
pub enum Tok {
    /// the keyword `param`
    #[token("param")]
    Param,
    /// the keyword `let`
    #[token("let")]
    Let,
    /// the keyword `fn`
    #[token("fn")]
    Fn,
    /// the keyword `minimize`
    #[token("minimize")]
    Minimize,
    /// the keyword `maximize`
    #[token("maximize")]
    Maximize,
    /// the keyword `with`
    #[token("with")]
    With,
    /// the keyword `for`
    #[token("for")]
    For,
    /// the keyword `steps`
    #[token("steps")]
    Steps,
    /// the keyword `from`
    #[token("from")]
    From,
    /// the keyword `in`
    #[token("in")]
    In,
    /// the keyword `fixed`
    #[token("fixed")]
    Fixed,
    /// the keyword `print`
    #[token("print")]
    Print,
    /// the keyword `expect`
    #[token("expect")]
    Expect,
    /// the keyword `within`
    #[token("within")]
    Within,
    /// the keyword `seed`
    #[token("seed")]
    Seed,
    /// the keyword `hesse`
    #[token("hesse")]
    Hesse,
    /// the keyword `minos`
    #[token("minos")]
    Minos,
    /// the keyword `plot`
    #[token("plot")]
    Plot,
    /// the keyword `over`
    #[token("over")]
    Over,
    /// the keyword `to`
    #[token("to")]
    To,
    /// the keyword `and`
    #[token("and")]
    And,
    /// the keyword `or`
    #[token("or")]
    Or,
    /// the keyword `not`
    #[token("not")]
    Not,
    /// the keyword `true`
    #[token("true")]
    True,
    /// the keyword `false`
    #[token("false")]
    False,
    /// `contour` right after `plot`.
    Contour,
    /// `loss` right after `plot`.
    Loss,
    /// `path` right after `with` in a plot statement.
    Path,
    /// `lr` right after `plot` (and before `to`).
    Lr,
    // The training words of a minimize statement (see `training_words`)
    // are keywords only there; elsewhere they are names.
    /// `schedule` in a minimize statement.
    Schedule,
    /// `per` in `schedule ... per step`.
    Per,
    /// `step` after `per` in a schedule, or after an expression in a `param` statement.
    Step,
    /// `epochs` in `for N epochs`.
    Epochs,
    /// `batch` in `for N epochs batch B`.
    Batch,
    /// `shuffle` in a `for N epochs` clause.
    Shuffle,
    /// `drop_last` in a `for N epochs` clause.
    DropLast,
    /// `watch` in a `for N epochs` clause.
    Watch,
    /// `paths` right after `with` in a plot statement.
    Paths,
    /// `mncontour` right after `plot`, before a name.
    MnContour,
    /// `profile` starting a statement, or right after `plot`, before a name.
    Profile,
    /// `contour` starting a statement, before a name (MINOS contour).
    ContourStmt,
    /// A name right before `=` in a `minos`, `contour` or `profile`
    /// statement: an option.
    OptName(String),

    /// A name: a parameter, `let`, function, builtin or option.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_string())]
    Ident(String),
    /// A number literal (no sign: `-` is an operator).
    #[regex(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", number)]
    Num(f64),
    /// A string literal, its escapes resolved.
    #[regex(r#""([^"\\\n]|\\.)*""#, unescape)]
    Str(String),
    /// A string with no closing quote on its line (an error the parser reports).
    #[regex(r#""([^"\\\n]|\\.)*"#, unterminated)]
    UnterminatedStr,

    /// the symbol `(`
    #[token("(")]
    LParen,
    /// the symbol `)`
    #[token(")")]
    RParen,
    /// the symbol `[`
    #[token("[")]
    LBracket,
    /// the symbol `]`
    #[token("]")]
    RBracket,
    /// the symbol `,`
    #[token(",")]
    Comma,
    /// the symbol `;`
    #[token(";")]
    Semi,
    /// the symbol `:`
    #[token(":")]
    Colon,
    /// the symbol `.`
    #[token(".")]
    Dot,
    /// the symbol `~`
    #[token("~")]
    Tilde,
    /// the symbol `=`
    #[token("=")]
    Assign,
    /// the symbol `==`
    #[token("==")]
    EqEq,
    /// the symbol `!=`
    #[token("!=")]
    NotEq,
    /// the symbol `<`
    #[token("<")]
    Lt,
    /// the symbol `<=`
    #[token("<=")]
    Le,
    /// the symbol `>`
    #[token(">")]
    Gt,
    /// the symbol `>=`
    #[token(">=")]
    Ge,
    /// the symbol `+`
    #[token("+")]
    Plus,
    /// the symbol `-`
    #[token("-")]
    Minus,
    /// the symbol `*`
    #[token("*")]
    Star,
    /// the symbol `/`
    #[token("/")]
    Slash,
    /// the symbol `@`
    #[token("@")]
    At,
    /// the symbol `^` (also `**`)
    #[token("^")]
    #[token("**")]
    Caret,
}

impl Tok {
    /// The text of a keyword or context word (`param`, `contour`, ...),
    /// or `None` for any other token.
    pub fn keyword(&self) -> Option<&'static str> {
        Some(match self {
            Tok::Param => "param",
            Tok::Let => "let",
            Tok::Fn => "fn",
            Tok::Minimize => "minimize",
            Tok::Maximize => "maximize",
            Tok::With => "with",
            Tok::For => "for",
            Tok::Steps => "steps",
            Tok::From => "from",
            Tok::In => "in",
            Tok::Fixed => "fixed",
            Tok::Print => "print",
            Tok::Expect => "expect",
            Tok::Within => "within",
            Tok::Seed => "seed",
            Tok::Hesse => "hesse",
            Tok::Minos => "minos",
            Tok::Plot => "plot",
            Tok::Over => "over",
            Tok::To => "to",
            Tok::And => "and",
            Tok::Or => "or",
            Tok::Not => "not",
            Tok::True => "true",
            Tok::False => "false",
            Tok::Contour => "contour",
            Tok::Loss => "loss",
            Tok::Path => "path",
            Tok::Lr => "lr",
            Tok::Schedule => "schedule",
            Tok::Per => "per",
            Tok::Step => "step",
            Tok::Epochs => "epochs",
            Tok::Batch => "batch",
            Tok::Shuffle => "shuffle",
            Tok::DropLast => "drop_last",
            Tok::Watch => "watch",
            Tok::Paths => "paths",
            Tok::Profile => "profile",
            Tok::MnContour => "mncontour",
            Tok::ContourStmt => "contour",
            _ => return None,
        })
    }

    /// The text of a symbol (`(`, `<=`, `^`, ...), or `None` for any
    /// other token.
    pub fn symbol(&self) -> Option<&'static str> {
        Some(match self {
            Tok::LParen => "(",
            Tok::RParen => ")",
            Tok::LBracket => "[",
            Tok::RBracket => "]",
            Tok::Comma => ",",
            Tok::Semi => ";",
            Tok::Colon => ":",
            Tok::Dot => ".",
            Tok::Tilde => "~",
            Tok::Assign => "=",
            Tok::EqEq => "==",
            Tok::NotEq => "!=",
            Tok::Lt => "<",
            Tok::Le => "<=",
            Tok::Gt => ">",
            Tok::Ge => ">=",
            Tok::Plus => "+",
            Tok::Minus => "-",
            Tok::Star => "*",
            Tok::Slash => "/",
            Tok::At => "@",
            Tok::Caret => "^",
            _ => return None,
        })
    }
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(n) => write!(f, "name `{n}`"),
            Tok::Num(v) => write!(f, "number `{v}`"),
            Tok::Str(s) => write!(f, "string {s:?}"),
            Tok::OptName(n) => write!(f, "option `{n}`"),
            Tok::UnterminatedStr => f.write_str("unterminated string"),
            _ => {
                let text = self.keyword().or_else(|| self.symbol()).unwrap_or("?");
                write!(f, "`{text}`")
            }
        }
    }
}

/// Every keyword (SPEC section 2), the one list the REPL's completion,
/// highlighting and `:help` use; a test below holds it to the tokens.
pub const KEYWORDS: &[&str] = &[
    "param", "let", "fn", "minimize", "maximize", "with", "for", "steps", "from", "in", "fixed",
    "print", "expect", "within", "seed", "hesse", "minos", "plot", "over", "to", "and", "or",
    "not", "true", "false",
];

/// The words special only in a minimize statement (SPEC 2, 5.1, 5.2):
/// names elsewhere, keywords where `training_words` makes them so.
pub const TRAINING_WORDS: &[&str] = &[
    "schedule",
    "per",
    "step",
    "epochs",
    "batch",
    "shuffle",
    "drop_last",
    "watch",
];

/// Brackets may nest this deep; deeper input is refused by the lexer, so no
/// later recursive pass can overflow the stack on it.
pub const MAX_NESTING: usize = 1000;

/// A token with its start and end byte offsets, as LALRPOP takes them.
pub type Spanned = (usize, Tok, usize);

/// Lexes the whole source. Errors do not stop lexing: every bad token is
/// reported, and the tokens around it still reach the parser.
pub fn lex(src: &str) -> (Vec<Spanned>, Vec<LexError>) {
    // About one token per four bytes of source, so the vector rarely grows.
    let mut toks = Vec::with_capacity(src.len() / 4 + 4);
    let mut errors = Vec::new();
    let mut depth = 0usize;
    let mut lexer = Tok::lexer(src);
    while let Some(t) = lexer.next() {
        let span = lexer.span();
        match t {
            Ok(tok) => {
                match tok {
                    Tok::LParen | Tok::LBracket => {
                        depth += 1;
                        if depth > MAX_NESTING {
                            errors.push(LexError {
                                kind: LexErrorKind::TooDeep,
                                span,
                            });
                            // Nothing after this point can be trusted; stop.
                            return (toks, errors);
                        }
                    }
                    Tok::RParen | Tok::RBracket => depth = depth.saturating_sub(1),
                    _ => {}
                }
                toks.push((span.start, tok, span.end));
            }
            Err(kind) => errors.push(LexError { kind, span }),
        }
    }
    contextual(&mut toks);
    training_words(&mut toks);
    (toks, errors)
}

/// In a minimize statement, outside brackets, the training words become
/// keywords where nothing else could stand: `schedule` and `per step`
/// followed by a name (two names in a row are never an expression),
/// `epochs` after the count of `for N`, and `batch`, `shuffle`,
/// `drop_last`, `watch` after `epochs` wherever a name is not expected
/// (not right after `over`, `watch`, `batch` or a comma). Elsewhere they
/// stay names, so `let batch = ...` works.
fn training_words(toks: &mut [Spanned]) {
    let (mut in_min, mut after_for, mut after_epochs, mut depth) = (false, false, false, 0usize);
    for i in 0..toks.len() {
        let prev = if i > 0 { Some(&toks[i - 1].1) } else { None };
        let next_is_name = matches!(toks.get(i + 1).map(|t| &t.1), Some(Tok::Ident(_)));
        match &toks[i].1 {
            Tok::Minimize | Tok::Maximize if depth == 0 => {
                (in_min, after_for, after_epochs) = (true, false, false)
            }
            Tok::Semi => (in_min, after_for, after_epochs, depth) = (false, false, false, 0),
            Tok::LParen | Tok::LBracket => depth += 1,
            Tok::RParen | Tok::RBracket => depth = depth.saturating_sub(1),
            Tok::For if in_min && depth == 0 => after_for = true,
            Tok::Ident(n) if in_min && depth == 0 => {
                let word = match n.as_str() {
                    "schedule" if next_is_name => Some(Tok::Schedule),
                    "per" if matches!(toks.get(i + 1).map(|t| &t.1), Some(Tok::Ident(w)) if w == "step") => {
                        Some(Tok::Per)
                    }
                    "step" if prev == Some(&Tok::Per) => Some(Tok::Step),
                    "epochs" if after_for && prev != Some(&Tok::For) => Some(Tok::Epochs),
                    "batch" | "shuffle" | "drop_last" | "watch"
                        if after_epochs
                            && !matches!(
                                prev,
                                Some(Tok::Over | Tok::Watch | Tok::Batch | Tok::Comma)
                            ) =>
                    {
                        Some(match n.as_str() {
                            "batch" => Tok::Batch,
                            "shuffle" => Tok::Shuffle,
                            "drop_last" => Tok::DropLast,
                            _ => Tok::Watch,
                        })
                    }
                    _ => None,
                };
                if let Some(w) = word {
                    after_epochs |= w == Tok::Epochs;
                    toks[i].1 = w;
                }
            }
            _ => {}
        }
    }
}

/// Turns `contour`, `loss` and `path` into keywords where a plot statement
/// gives them meaning, and leaves them names everywhere else; likewise the
/// Minuit words `contour`/`profile` (starting a statement), `step` (after
/// an expression in `param`) and option names in MINOS statements (see
/// `minuit_words`).
fn contextual(toks: &mut [Spanned]) {
    let mut in_plot = false;
    for i in 0..toks.len() {
        let prev = if i > 0 { Some(&toks[i - 1].1) } else { None };
        let is_plot_prev = prev == Some(&Tok::Plot);
        let is_with_prev = prev == Some(&Tok::With);
        match &toks[i].1 {
            Tok::Plot => in_plot = true,
            Tok::Semi => in_plot = false,
            Tok::Ident(n) if n == "contour" && is_plot_prev => toks[i].1 = Tok::Contour,
            Tok::Ident(n)
                if n == "lr"
                    && is_plot_prev
                    && matches!(toks.get(i + 1).map(|t| &t.1), Some(Tok::To)) =>
            {
                toks[i].1 = Tok::Lr
            }
            Tok::Ident(n)
                if n == "loss"
                    && is_plot_prev
                    && matches!(
                        toks.get(i + 1).map(|t| &t.1),
                        Some(Tok::To | Tok::Semi) | None
                    ) =>
            {
                toks[i].1 = Tok::Loss
            }
            Tok::Ident(n) if n == "path" && in_plot && is_with_prev => toks[i].1 = Tok::Path,
            Tok::Ident(n) if n == "paths" && in_plot && is_with_prev => toks[i].1 = Tok::Paths,
            _ => {}
        }
    }
    minuit_words(toks);
}

/// Whether a token can end an expression (so a following `step` is the
/// keyword, not a name).
fn ends_expr(t: &Tok) -> bool {
    matches!(
        t,
        Tok::Num(_) | Tok::Ident(_) | Tok::RParen | Tok::RBracket | Tok::True | Tok::False
    )
}

/// The contextual words of Minuit's statements: `contour X, Y ...` and
/// `profile X ...` at a statement's start, `plot mncontour` and `plot
/// profile`, `step` in a `param` declaration, and `NAME =` options inside
/// those statements and `minos`.
fn minuit_words(toks: &mut [Spanned]) {
    // the kind of the first token of the current statement (after any
    // rewriting; its kind only, so a name is not copied)
    let mut first: Option<Discriminant<Tok>> = None;
    let is_first = |first: Option<Discriminant<Tok>>, t: &Tok| first == Some(discriminant(t));
    // inside `plot mncontour ...` or `plot profile ...`
    let mut minuit_plot = false;
    for i in 0..toks.len() {
        let start = i == 0 || toks[i - 1].1 == Tok::Semi;
        let next_is_name = matches!(toks.get(i + 1).map(|t| &t.1), Some(Tok::Ident(_)));
        let next_is_assign = matches!(toks.get(i + 1).map(|t| &t.1), Some(Tok::Assign));
        let mut plot_kind = false;
        if i > 0 && toks[i - 1].1 == Tok::Plot && is_first(first, &Tok::Plot) {
            if let Tok::Ident(n) = &toks[i].1 {
                if next_is_name && (n == "mncontour" || n == "profile") {
                    toks[i].1 = if n == "mncontour" {
                        Tok::MnContour
                    } else {
                        Tok::Profile
                    };
                    plot_kind = true;
                }
            }
        }
        if plot_kind {
            minuit_plot = true;
            continue;
        }
        if start {
            minuit_plot = false;
            if let Tok::Ident(n) = &toks[i].1 {
                if next_is_name && n == "contour" {
                    toks[i].1 = Tok::ContourStmt;
                } else if next_is_name && n == "profile" {
                    toks[i].1 = Tok::Profile;
                }
            }
            first = Some(discriminant(&toks[i].1));
            continue;
        }
        let takes_opts = [Tok::Minos, Tok::ContourStmt, Tok::Profile]
            .iter()
            .any(|t| is_first(first, t))
            || minuit_plot;
        match &toks[i].1 {
            Tok::Ident(n) if takes_opts && next_is_assign => toks[i].1 = Tok::OptName(n.clone()),
            Tok::Ident(n)
                if n == "step" && is_first(first, &Tok::Param) && ends_expr(&toks[i - 1].1) =>
            {
                toks[i].1 = Tok::Step
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_keyword_table_is_the_lexers() {
        for k in KEYWORDS {
            let (t, e) = lex(k);
            assert!(e.is_empty() && t.len() == 1, "{k}");
            assert!(!matches!(t[0].1, Tok::Ident(_)), "`{k}` lexes as a name");
            assert_eq!(t[0].1.to_string(), format!("`{k}`"));
        }
        // Every word the lexer always treats as a keyword is in the table.
        let words = "param let fn minimize maximize with for steps from in fixed print \
                     expect within seed hesse minos plot over to and or not true false";
        for w in words.split_whitespace() {
            assert!(KEYWORDS.contains(&w), "{w}");
        }
    }

    /// The tokens of `TRAINING_WORDS`, in its order.
    const TRAINING_TOKENS: [Tok; 8] = [
        Tok::Schedule,
        Tok::Per,
        Tok::Step,
        Tok::Epochs,
        Tok::Batch,
        Tok::Shuffle,
        Tok::DropLast,
        Tok::Watch,
    ];

    #[test]
    fn the_training_words_are_the_training_tokens() {
        let words: Vec<&str> = TRAINING_TOKENS.iter().filter_map(Tok::keyword).collect();
        assert_eq!(words, TRAINING_WORDS);
        // Outside a minimize statement each is a name.
        for w in TRAINING_WORDS {
            assert_eq!(kinds(w), [Tok::Ident(w.to_string())]);
        }
    }

    #[test]
    fn every_symbol_is_shown_as_written() {
        let symbols = "( ) [ ] , ; : . ~ = == != < <= > >= + - * / @ ^";
        for sym in symbols.split_whitespace() {
            let (t, e) = lex(sym);
            assert!(e.is_empty() && t.len() == 1, "{sym}");
            assert_eq!(t[0].1.symbol(), Some(sym));
            assert_eq!(t[0].1.keyword(), None);
            assert_eq!(t[0].1.to_string(), format!("`{sym}`"));
        }
        assert_eq!(kinds("**")[0].to_string(), "`^`");
        // The context words and the tokens that carry a value.
        assert_eq!(Tok::ContourStmt.to_string(), "`contour`");
        assert_eq!(Tok::DropLast.to_string(), "`drop_last`");
        assert_eq!(Tok::OptName("cl".into()).to_string(), "option `cl`");
        assert_eq!(Tok::Ident("x".into()).to_string(), "name `x`");
        assert_eq!(Tok::UnterminatedStr.to_string(), "unterminated string");
        assert_eq!(Tok::Ident("x".into()).keyword(), None);
    }

    fn kinds(src: &str) -> Vec<Tok> {
        let (t, e) = lex(src);
        assert!(e.is_empty(), "{e:?}");
        t.into_iter().map(|t| t.1).collect()
    }

    #[test]
    fn numbers_and_names() {
        assert_eq!(
            kinds("12 0.5 1e-3 2.5E+4 x_1"),
            vec![
                Tok::Num(12.0),
                Tok::Num(0.5),
                Tok::Num(1e-3),
                Tok::Num(2.5e4),
                Tok::Ident("x_1".into())
            ]
        );
    }

    #[test]
    fn power_both_spellings_and_comments() {
        assert_eq!(
            kinds("x^2 ** 3 # comment\n"),
            vec![
                Tok::Ident("x".into()),
                Tok::Caret,
                Tok::Num(2.0),
                Tok::Caret,
                Tok::Num(3.0)
            ]
        );
    }

    #[test]
    fn strings_unescape() {
        assert_eq!(kinds(r#""a\"b\\c\n""#), vec![Tok::Str("a\"b\\c\n".into())]);
    }

    #[test]
    fn spans() {
        let (t, _) = lex("param x");
        assert_eq!((t[1].0, t[1].2), (6, 7));
    }

    #[test]
    fn errors_are_collected() {
        let (t, e) = lex("x $ y \"open");
        assert_eq!(t.len(), 2);
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].kind, LexErrorKind::UnexpectedChar);
        assert_eq!(e[0].span, 2..3);
        assert_eq!(e[1].kind, LexErrorKind::UnterminatedString);
    }

    #[test]
    fn training_words_only_where_they_mean_something() {
        let k = kinds("minimize f with adam schedule step_lr(step_size=2) per step for 3 epochs batch 4 over xs, batch shuffle drop_last watch v;");
        for w in TRAINING_TOKENS {
            assert!(k.contains(&w), "{w:?} in {k:?}");
        }
        // `over xs, batch`: a data name called batch stays a name
        assert!(k.contains(&Tok::Ident("batch".into())));
        assert_eq!(kinds("let batch = 1;")[1], Tok::Ident("batch".into()));
        assert_eq!(
            kinds("minimize epochs + step with adam for epochs steps;")[1],
            Tok::Ident("epochs".into())
        );
        assert!(!kinds("minimize (schedule) with adam;").contains(&Tok::Schedule));
    }

    #[test]
    fn contextual_words() {
        assert_eq!(kinds("let loss = 1;")[1], Tok::Ident("loss".into()));
        assert_eq!(kinds("plot loss to \"a.svg\";")[1], Tok::Loss);
        // Without `to` (a notebook's inline plot).
        assert_eq!(kinds("plot loss;")[1], Tok::Loss);
        let k = kinds("plot contour f over x in [0, 1], y in [0, 1] with path to \"a\";");
        assert_eq!(k[1], Tok::Contour);
        assert!(k.contains(&Tok::Path));
        let k = kinds("plot contour f over x in [0, 1], y in [0, 1] with paths to \"a\";");
        assert!(k.contains(&Tok::Paths));
        assert_eq!(kinds("let paths = 1;")[1], Tok::Ident("paths".into()));
        assert_eq!(
            kinds("minimize path with adam;")[1],
            Tok::Ident("path".into())
        );
    }

    #[test]
    fn deep_nesting_is_refused() {
        let src = "(".repeat(100_000);
        let (_, e) = lex(&src);
        assert_eq!(e.last().unwrap().kind, LexErrorKind::TooDeep);
    }
}
