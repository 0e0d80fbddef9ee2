//! The line editor's helper for rustyline: context-aware completion and
//! highlighting with the language's own logos lexer, and where the history
//! lives.
//!
//! Whether an input is finished is not decided by a rustyline `Validator`:
//! a validator that answers `Incomplete` makes rustyline insert a newline in
//! the same buffer, drawing no continuation prompt (`  ... `) on the new
//! line, which SPEC 9 asks for; and a piped REPL (no editor at all) must
//! follow the same rule. So the read loop in `super` asks `needs_more`
//! (the parser) after each line and reads on with the continuation prompt;
//! the `Validator` here accepts every line.

use super::command::{COMMANDS, MINUIT};
use crate::builtins::CONSTANTS;
use crate::optim;
use crate::syntax::lexer::{lex, LexErrorKind, Tok, KEYWORDS, TRAINING_WORDS};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::validate::Validator;
use rustyline::{Context, Helper};
use std::borrow::Cow;
use std::path::PathBuf;

/// Keywords that start a statement (offered only at a statement's start).
const STATEMENT_KEYWORDS: &[&str] = &[
    "param", "let", "fn", "minimize", "maximize", "print", "expect", "seed", "hesse", "minos",
    "plot",
];

/// Every option name of optimizer `name` (torch or Minuit), if it is one.
pub fn option_names(name: &str) -> Option<Vec<String>> {
    if optim::schedule::NAMES.contains(&name) {
        let opts = optim::schedule::options(name);
        return Some(opts.iter().map(|s| s.to_string()).collect());
    }
    if let Some(a) = MINUIT.iter().find(|a| a.name == name) {
        let opts = a.options;
        return Some(opts.iter().map(|s| s.to_string()).collect());
    }
    if !optim::is_optimizer(name) {
        return None;
    }
    match optim::build(name, &[], &optim::ParamLayout::scalars(1)) {
        Some(Ok(b)) => Some(b.options.iter().map(|(n, _)| n.to_string()).collect()),
        _ => None,
    }
}

/// Completion and highlighting for rustyline.
pub struct LossHelper {
    /// Declared names, refreshed after every input.
    pub names: Vec<String>,
    files: FilenameCompleter,
}

impl LossHelper {
    pub fn new() -> LossHelper {
        LossHelper {
            names: Vec::new(),
            files: FilenameCompleter::new(),
        }
    }

    /// Completions at byte `pos` of `line`: the start of the word and the
    /// candidates (display, replacement). What is offered depends on where
    /// the word is: `:` commands, option names inside `with adam(`,
    /// optimizers right after `with`, statement keywords at a statement's
    /// start, and otherwise what an expression can use (declared names,
    /// built-ins, constants, the other keywords).
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<(String, String)>) {
        let before = &line[..pos];
        let start = word_start(before);
        let (head, word) = before.split_at(start);
        if head.trim().is_empty() && word.starts_with(':') {
            return (start, command_candidates(word));
        }
        if let Some(names) = optimizer_call(head).and_then(|opt| option_names(&opt)) {
            let fits = names.iter().filter(|n| n.starts_with(word));
            return (start, fits.map(|n| (n.clone(), format!("{n}="))).collect());
        }
        let (tokens, _) = lex(head);
        let mut all = self.words_after(tokens.last().map(|t| &t.1));
        all.sort();
        all.dedup();
        let fits = all.into_iter().filter(|n| n.starts_with(word));
        (
            start,
            fits.map(|n| (n.to_string(), n.to_string())).collect(),
        )
    }

    /// The words that can follow token `prev` (`None`: the input's start).
    fn words_after(&self, prev: Option<&Tok>) -> Vec<&str> {
        let mut all: Vec<&str> = Vec::new();
        let after_schedule = matches!(prev, Some(Tok::Ident(w)) if w == "schedule");
        if after_schedule || prev == Some(&Tok::Schedule) {
            all.extend(optim::schedule::NAMES);
        } else if prev == Some(&Tok::With) {
            all.extend(optim::NAMES);
            all.extend(MINUIT.iter().map(|a| a.name));
        } else {
            if prev.is_none() || prev == Some(&Tok::Semi) {
                all.extend(STATEMENT_KEYWORDS);
            } else {
                all.extend(KEYWORDS.iter().filter(|k| !STATEMENT_KEYWORDS.contains(k)));
            }
            all.extend(crate::builtins::names());
            all.extend(CONSTANTS.iter().map(|(n, _)| *n));
            all.extend(TRAINING_WORDS);
            all.extend(self.names.iter().map(String::as_str));
        }
        all
    }
}

/// Where the word that ends `before` starts (names and `:` commands).
fn word_start(before: &str) -> usize {
    before
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == ':'))
        .map_or(0, |(i, c)| i + c.len_utf8())
}

/// The `:` commands starting with `word`; one taking an argument is
/// completed with a space after it.
fn command_candidates(word: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (c, _) in COMMANDS {
        let name = c.split(' ').next().unwrap_or(c);
        if name.starts_with(word) {
            let rep = if c.contains(' ') {
                format!("{name} ")
            } else {
                name.to_string()
            };
            out.push((name.to_string(), rep));
        }
    }
    out
}

impl Default for LossHelper {
    fn default() -> Self {
        LossHelper::new()
    }
}

/// When `before` (the text before the word being completed) ends inside the
/// argument list of `with NAME(`, at an argument name, returns NAME.
fn optimizer_call(before: &str) -> Option<String> {
    let trimmed = before.trim_end();
    if !(trimmed.ends_with('(') || trimmed.ends_with(',')) {
        return None;
    }
    // The innermost unclosed `(`.
    let mut depth = 0i32;
    let mut open = None;
    for (i, c) in before.char_indices().rev() {
        match c {
            ')' | ']' => depth += 1,
            '(' | '[' if depth > 0 => depth -= 1,
            '(' => {
                open = Some(i);
                break;
            }
            '[' => return None,
            _ => {}
        }
    }
    let (tokens, _) = lex(&before[..open?]);
    match tokens.as_slice() {
        [.., (_, Tok::With, _), (_, Tok::Ident(name), _)] => Some(name.clone()),
        _ => None,
    }
}

impl Completer for LossHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let t = line.trim_start();
        if (t.starts_with(":load ")
            || t.starts_with(":save ")
            || t.starts_with(":l ")
            || t.starts_with(":s "))
            && line[..pos].contains(' ')
        {
            return self.files.complete(line, pos, ctx);
        }
        let (start, c) = self.candidates(line, pos);
        Ok((
            start,
            c.into_iter()
                .map(|(display, replacement)| Pair {
                    display,
                    replacement,
                })
                .collect(),
        ))
    }
}

impl Hinter for LossHelper {
    type Hint = String;
}

/// Accepts every line: see the module documentation for why continuation
/// is decided by the read loop.
impl Validator for LossHelper {}

impl Helper for LossHelper {}

/// ANSI colours for the highlighter.
pub(crate) const KEYWORD_COLOR: &str = "\x1b[1;35m";
pub(crate) const NUMBER_COLOR: &str = "\x1b[36m";
pub(crate) const STRING_COLOR: &str = "\x1b[32m";
pub(crate) const COMMENT_COLOR: &str = "\x1b[2m";
pub(crate) const RESET: &str = "\x1b[0m";

fn paint(out: &mut String, color: &str, text: &str) {
    out.push_str(color);
    out.push_str(text);
    out.push_str(RESET);
}

/// Text between tokens: blanks, and comments (`#` to the end of the line).
fn paint_gap(out: &mut String, mut text: &str) {
    while let Some(i) = text.find('#') {
        out.push_str(&text[..i]);
        let end = text[i..].find('\n').map_or(text.len(), |k| i + k);
        paint(out, COMMENT_COLOR, &text[i..end]);
        text = &text[end..];
    }
    out.push_str(text);
}

/// `line` with keywords, numbers, strings and comments coloured, as the
/// lexer sees them (so the colours never disagree with the language).
pub fn highlight_line(line: &str) -> String {
    let (tokens, errors) = lex(line);
    let mut pieces: Vec<(usize, usize, Option<&str>)> = tokens
        .iter()
        .map(|(l, t, r)| {
            let color = match t {
                Tok::Num(_) => Some(NUMBER_COLOR),
                Tok::Str(_) | Tok::UnterminatedStr => Some(STRING_COLOR),
                Tok::Ident(_) => None,
                _ if line[*l..*r].starts_with(|c: char| c.is_ascii_alphabetic()) => {
                    Some(KEYWORD_COLOR)
                }
                _ => None,
            };
            (*l, *r, color)
        })
        .collect();
    pieces.extend(errors.iter().map(|e| {
        let color = (e.kind == LexErrorKind::UnterminatedString).then_some(STRING_COLOR);
        (e.span.start, e.span.end, color)
    }));
    pieces.sort_by_key(|p| p.0);
    let mut out = String::with_capacity(line.len() * 2);
    let mut at = 0;
    for (l, r, color) in pieces {
        if l < at || r > line.len() {
            continue;
        }
        paint_gap(&mut out, &line[at..l]);
        match color {
            Some(c) => paint(&mut out, c, &line[l..r]),
            None => out.push_str(&line[l..r]),
        }
        at = r;
    }
    paint_gap(&mut out, &line[at..]);
    out
}

impl Highlighter for LossHelper {
    fn highlight<'l>(&self, line: &'l str, _pos: usize) -> Cow<'l, str> {
        if line.trim_start().starts_with(':') {
            return Cow::Borrowed(line);
        }
        Cow::Owned(highlight_line(line))
    }

    fn highlight_char(&self, _line: &str, _pos: usize, kind: CmdKind) -> bool {
        kind != CmdKind::MoveCursor
    }
}

/// Where the history lives: `$XDG_DATA_HOME/losslang/history`, else
/// `~/.local/share/losslang/history`.
pub fn history_path() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_DATA_HOME").filter(|v| !v.is_empty()) {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".local/share")
        }
    };
    Some(base.join("losslang").join("history"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn displays(h: &LossHelper, line: &str) -> Vec<String> {
        h.candidates(line, line.len())
            .1
            .into_iter()
            .map(|c| c.0)
            .collect()
    }

    #[test]
    fn completion() {
        let mut h = LossHelper::new();
        h.names = vec!["alpha".into()];
        let (s, c) = h.candidates("minimize x^2 with adam(l", 24);
        assert_eq!(s, 23);
        assert!(c.iter().any(|(d, r)| d == "lr" && r == "lr="));
        let c = displays(&h, "minimize x^2 with ad");
        assert!(c.iter().any(|d| d == "adam") && c.iter().all(|d| d != "abs"));
        assert!(displays(&h, "print al").contains(&"alpha".to_string()));
        assert!(displays(&h, "pri").contains(&"print".to_string()));
        assert_eq!(displays(&h, ":pa"), vec![":params".to_string()]);
        assert!(displays(&h, "minimize x with migrad(st").contains(&"strategy".to_string()));
    }

    #[test]
    fn completion_knows_the_context() {
        let h = LossHelper::new();
        // After `print`: names and built-ins, not optimizers or statements.
        let c = displays(&h, "print a");
        assert!(c.contains(&"abs".to_string()), "{c:?}");
        assert!(!c.contains(&"adam".to_string()), "{c:?}");
        assert!(!displays(&h, "print p").contains(&"param".to_string()));
        // At a statement's start, after a `;`: statement keywords.
        assert!(displays(&h, "print 1; pa").contains(&"param".to_string()));
        // In the middle of a statement: its other keywords.
        assert!(displays(&h, "minimize x^2 wi").contains(&"with".to_string()));
    }

    #[test]
    fn highlighting_keeps_the_text() {
        for l in [
            "param x = 1.5e-3 # hi",
            "print \"abc",
            "print \"a # b\", 2 # c",
            "let q = x + $ 3",
        ] {
            let h = highlight_line(l);
            let plain: String = h
                .replace(KEYWORD_COLOR, "")
                .replace(NUMBER_COLOR, "")
                .replace(STRING_COLOR, "")
                .replace(COMMENT_COLOR, "")
                .replace(RESET, "");
            assert_eq!(plain, l);
        }
        let h = highlight_line("param x = 1.5e-3 # hi");
        assert!(h.contains(KEYWORD_COLOR) && h.contains(NUMBER_COLOR));
        assert!(h.contains(&format!("{COMMENT_COLOR}# hi{RESET}")));
        let h = highlight_line("print \"a # b\"");
        assert!(
            h.contains(&format!("{STRING_COLOR}\"a # b\"{RESET}")),
            "{h:?}"
        );
    }
}
