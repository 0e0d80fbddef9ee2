//! The interactive REPL (SPEC section 9). It drives the same `Session` as
//! `losslang run`: every input is handed to `Session::run_source`, with
//! `Options.repl` set so that a bare expression prints its value. What this
//! module adds is the line editor (rustyline: history, completion,
//! highlighting), the `:` commands, and Ctrl-C handling.
//!
//! When standard input is not a terminal the REPL reads it line by line,
//! without prompts, so that it can be scripted; see docs/repl.md.

use crate::builtins::CONSTANTS;
use crate::interp::{Options, Outcome, Session, INTERRUPT};
use crate::optim;
use crate::syntax::ast::StmtKind;
use crate::syntax::lexer::{lex, Tok};
use crate::syntax::parser::is_incomplete;
use crate::tensor::fmt_num;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::Hinter;
use rustyline::history::FileHistory;
use rustyline::validate::Validator;
use rustyline::{ColorMode, CompletionType, Config, Context, Editor, Helper};
use std::borrow::Cow;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The main prompt.
pub const PROMPT: &str = "loss> ";
/// The prompt for the next line of an unfinished input.
pub const CONTINUATION: &str = "  ... ";

/// Set while the REPL runs: Ctrl-C then goes to `on_ctrl_c` instead of
/// ending the program on the second press.
pub static ACTIVE: AtomicBool = AtomicBool::new(false);

/// Ctrl-C presses that nothing has taken yet (beyond the first).
static UNTAKEN: AtomicUsize = AtomicUsize::new(0);

/// The REPL's Ctrl-C: asks a running minimization to stop (it keeps the best
/// parameters so far). Presses pile up only while nothing takes them (a long
/// computation that is not a minimization); the third such press ends the
/// program, so a runaway computation can still be stopped.
pub fn on_ctrl_c() {
    if INTERRUPT.swap(true, Ordering::SeqCst) {
        if UNTAKEN.fetch_add(1, Ordering::SeqCst) + 1 >= 2 {
            eprintln!("\ninterrupted three times: leaving the REPL");
            std::process::exit(130);
        }
    } else {
        UNTAKEN.store(0, Ordering::SeqCst);
    }
}

/// Clears a pending Ctrl-C so that it does not stop the next minimization.
fn clear_interrupt() {
    INTERRUPT.store(false, Ordering::SeqCst);
    UNTAKEN.store(0, Ordering::SeqCst);
}

/// The language's keywords (SPEC section 2).
pub const KEYWORDS: &[&str] = &[
    "param", "let", "fn", "minimize", "maximize", "with", "for", "steps", "from", "in", "fixed",
    "print", "expect", "within", "seed", "hesse", "minos", "plot", "over", "to", "and", "or",
    "not", "true", "false",
];

use crate::minuit::options::ALGORITHMS as MINUIT;

/// The REPL's commands, with their one-line help.
pub const COMMANDS: &[(&str, &str)] = &[
    (":help", "this help"),
    (
        ":params",
        "a table of the parameters: value, limits, fixed, error",
    ),
    (":reset", "forget everything declared and done"),
    (":load FILE", "run a script into the session"),
    (
        ":save FILE",
        "write the session's statements as a runnable script",
    ),
    (":quit", "leave (so does Ctrl-D)"),
];

/// Every option name of optimizer `name` (torch or Minuit), if it is one.
pub fn option_names(name: &str) -> Option<Vec<String>> {
    if let Some(a) = crate::minuit::options::algorithm(name) {
        return Some(a.options.iter().map(|s| s.to_string()).collect());
    }
    if !optim::is_optimizer(name) {
        return None;
    }
    match optim::build(name, &[], &optim::ParamLayout::scalars(1)) {
        Some(Ok(b)) => Some(b.options.iter().map(|(n, _)| n.to_string()).collect()),
        _ => None,
    }
}

/// Whether diagnostics on standard error get colour.
fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

/// What the loop does after an input.
#[derive(Debug, PartialEq)]
enum Flow {
    Go,
    Quit,
}

/// The session plus what the REPL itself needs.
struct Repl {
    session: Session,
    /// Inputs that ended in an error (the exit status of a piped REPL).
    errors: usize,
}

impl Repl {
    fn new(color: bool) -> Repl {
        let opts = Options {
            repl: true,
            color,
            progress: std::io::stderr().is_terminal(),
            ..Options::default()
        };
        let out: Box<dyn Write> = Box::new(std::io::stdout());
        Repl {
            session: Session::new(opts, out, Box::new(std::io::stderr())),
            errors: 0,
        }
    }

    /// Parameter, let and fn names declared so far, for completion.
    fn declared(&self) -> Vec<String> {
        let mut v: Vec<String> = self.session.params.iter().map(|p| p.name.clone()).collect();
        v.extend(self.session.defs.keys().cloned());
        v.sort();
        v
    }

    /// Runs one complete input: a command or statements.
    fn handle(&mut self, input: &str) -> Flow {
        let t = input.trim();
        if t.is_empty() {
            return Flow::Go;
        }
        if t.starts_with(':') {
            return self.command(t);
        }
        let Some(src) = with_semicolon(input) else {
            return Flow::Go; // only comments
        };
        clear_interrupt();
        let outcome = self.session.run_more("<repl>", &src);
        self.session.flush();
        if matches!(outcome, Outcome::Error(..)) {
            self.errors += 1;
        }
        Flow::Go
    }

    fn command(&mut self, t: &str) -> Flow {
        let (cmd, arg) = match t.split_once(char::is_whitespace) {
            Some((c, a)) => (c, a.trim()),
            None => (t, ""),
        };
        let needs_arg = |name: &str| {
            eprintln!("error: `{name}` needs a file name, as in `{name} session.loss`");
        };
        match cmd {
            ":help" | ":h" | ":?" => println!("{}", help_text()),
            ":params" | ":p" => print!("{}", params_table(&self.session)),
            ":reset" => {
                self.session.reset();
                println!("the session is empty");
            }
            ":load" | ":l" => {
                if arg.is_empty() {
                    needs_arg(":load");
                    self.errors += 1;
                } else if !self.load(Path::new(arg)) {
                    self.errors += 1;
                }
            }
            ":save" | ":s" => {
                if arg.is_empty() {
                    needs_arg(":save");
                    self.errors += 1;
                } else {
                    match save(&self.session.history, Path::new(arg)) {
                        Ok(n) => println!(
                            "saved {n} statement{} to {arg}",
                            if n == 1 { "" } else { "s" }
                        ),
                        Err(e) => {
                            eprintln!("error: cannot write `{arg}`: {e}");
                            self.errors += 1;
                        }
                    }
                }
            }
            ":quit" | ":q" | ":exit" => return Flow::Quit,
            _ => {
                let names: Vec<&str> = COMMANDS
                    .iter()
                    .map(|(c, _)| c.split(' ').next().unwrap_or(c))
                    .collect();
                let hint = crate::interp::names::suggest(cmd, names.iter().copied())
                    .map(|s| format!(" (did you mean `{s}`?)"))
                    .unwrap_or_default();
                eprintln!("error: unknown command `{cmd}`{hint}; `:help` lists the commands");
                self.errors += 1;
            }
        }
        let _ = std::io::stdout().flush();
        Flow::Go
    }

    /// Runs a script into the session. Relative paths inside it are relative
    /// to its folder while it runs. False when it could not be read or failed.
    fn load(&mut self, path: &Path) -> bool {
        let src = match std::fs::read(path) {
            Ok(b) => match String::from_utf8(b) {
                Ok(s) => s,
                Err(_) => {
                    eprintln!(
                        "error[E0500]: cannot read `{}`: it is not UTF-8 text",
                        path.display()
                    );
                    return false;
                }
            },
            Err(e) => {
                let why = match e.kind() {
                    std::io::ErrorKind::NotFound => "no such file".to_string(),
                    _ => e.to_string(),
                };
                eprintln!("error[E0500]: cannot read `{}`: {why}", path.display());
                return false;
            }
        };
        let saved_dir = self.session.base_dir.clone();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            self.session.base_dir = dir.to_path_buf();
        }
        clear_interrupt();
        let outcome = self.session.run_source(&path.display().to_string(), &src);
        self.session.flush();
        self.session.base_dir = saved_dir;
        outcome == Outcome::Ok
    }
}

/// The input with a `;` after its last token when it has none (the REPL's
/// `;` is optional). `None` when there is no token at all.
pub fn with_semicolon(input: &str) -> Option<String> {
    let (tokens, errors) = lex(input);
    let Some((_, tok, end)) = tokens.last() else {
        // Let the interpreter report a lexer error; skip pure comments.
        return if errors.is_empty() {
            None
        } else {
            Some(input.to_string())
        };
    };
    if *tok == Tok::Semi || errors.iter().any(|e| e.span.start >= *end) {
        return Some(input.to_string());
    }
    let mut s = String::with_capacity(input.len() + 1);
    s.push_str(&input[..*end]);
    s.push(';');
    s.push_str(&input[*end..]);
    Some(s)
}

/// Whether `input` (a command or statements) needs more lines.
pub fn needs_more(input: &str) -> bool {
    let t = input.trim();
    if t.is_empty() || t.starts_with(':') {
        return false;
    }
    match with_semicolon(input) {
        Some(s) => is_incomplete(&s),
        None => false,
    }
}

/// The text of `:help`.
pub fn help_text() -> String {
    let mut s = String::from("Commands:\n");
    for (c, h) in COMMANDS {
        s.push_str(&format!("  {c:<12} {h}\n"));
    }
    s.push_str(
        "\nStatements (the final `;` is optional here; a bare expression prints its value):\n\
         \x20 param x = 1 [in [LO, HI]] [fixed];   let y = EXPR;   fn f(a, b) = EXPR;\n\
         \x20 x = VALUE;   print EXPR, ...;   expect COND [within TOL];   seed N;\n\
         \x20 minimize EXPR [with OPT(opt=value, ...)] [for N steps];   maximize ...;\n\
         \x20 hesse;   minos [x, ...];\n",
    );
    let wrap = |title: &str, items: &[&str]| {
        let mut out = format!("\n{title}:\n ");
        let mut col = 1;
        for it in items {
            if col + it.len() + 1 > 78 {
                out.push_str("\n ");
                col = 1;
            }
            out.push(' ');
            out.push_str(it);
            col += it.len() + 1;
        }
        out.push('\n');
        out
    };
    let builtins: Vec<&str> = crate::builtins::names().collect();
    s.push_str(&wrap("Built-in functions", &builtins));
    let consts: Vec<&str> = CONSTANTS.iter().map(|(n, _)| *n).collect();
    s.push_str(&wrap("Constants", &consts));
    s.push_str(&wrap("Optimizers (torch.optim)", optim::NAMES));
    let minuit: Vec<&str> = MINUIT.iter().map(|a| a.name).collect();
    s.push_str(&wrap("Minuit", &minuit));
    s.push_str("\nTab completes keywords, names and, inside `with adam(`, option names.\n");
    s.push_str("Ctrl-C abandons the line or stops a running minimization; Ctrl-D leaves.");
    s
}

/// The text of `:params`: one row per parameter.
pub fn params_table(s: &Session) -> String {
    if s.params.is_empty() {
        return "no parameters\n".to_string();
    }
    let head = ["name", "value", "limits", "fixed", "error"];
    let rows: Vec<[String; 5]> = s
        .params
        .iter()
        .map(|p| {
            let limits = match (p.lower, p.upper) {
                (None, None) => "-".to_string(),
                (lo, hi) => format!(
                    "[{}, {}]",
                    fmt_num(lo.unwrap_or(f64::NEG_INFINITY)),
                    fmt_num(hi.unwrap_or(f64::INFINITY))
                ),
            };
            [
                p.name.clone(),
                p.value.to_string().replace('\n', " "),
                limits,
                if p.fixed { "yes" } else { "no" }.to_string(),
                p.error.map_or("-".to_string(), fmt_num),
            ]
        })
        .collect();
    let mut widths = head.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, (c, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}  "));
            }
        }
        l.trim_end().to_string() + "\n"
    };
    let mut out = line(&head);
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        out.push_str(&line(&cells));
    }
    out
}

/// Writes the session's statements as a script, atomically (a temporary
/// file in the same folder, then a rename). Bare expressions, which a script
/// may not have, become `print` statements. Returns the statement count.
pub fn save(history: &[String], path: &Path) -> std::io::Result<usize> {
    let mut text = String::from("# saved from the losslang REPL\n");
    for st in history {
        let bare = crate::syntax::parse(st)
            .map(|p| p.stmts.len() == 1 && matches!(p.stmts[0].kind, StmtKind::Expr(_)))
            .unwrap_or(false);
        if bare {
            text.push_str("print ");
        }
        text.push_str(st.trim_end());
        if !st.trim_end().ends_with(';') {
            text.push(';');
        }
        text.push('\n');
    }
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(d) => d.to_path_buf(),
        None => PathBuf::from("."),
    };
    let file_name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|_| history.len())
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

// ---------------------------------------------------------------------------
// The line editor's helper: completion and highlighting.

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
    /// candidates (display, replacement).
    pub fn candidates(&self, line: &str, pos: usize) -> (usize, Vec<(String, String)>) {
        let before = &line[..pos];
        let start = before
            .char_indices()
            .rev()
            .find(|(_, c)| !(c.is_alphanumeric() || *c == '_' || *c == ':'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let word = &before[start..];
        let mut out: Vec<(String, String)> = Vec::new();
        if before[..start].trim().is_empty() && word.starts_with(':') {
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
            return (start, out);
        }
        if let Some(opt) = optimizer_call(&before[..start]) {
            if let Some(names) = option_names(&opt) {
                for n in names.iter().filter(|n| n.starts_with(word)) {
                    out.push((n.clone(), format!("{n}=")));
                }
                return (start, out);
            }
        }
        let after_with = before[..start].trim_end().ends_with("with")
            && before[..start].trim_end().len() < before[..start].len();
        let mut all: Vec<&str> = Vec::new();
        if after_with {
            all.extend(optim::NAMES);
            all.extend(MINUIT.iter().map(|a| a.name));
        } else {
            all.extend(KEYWORDS);
            all.extend(crate::builtins::names());
            all.extend(CONSTANTS.iter().map(|(n, _)| *n));
            all.extend(optim::NAMES);
            all.extend(MINUIT.iter().map(|a| a.name));
            all.extend(self.names.iter().map(String::as_str));
        }
        all.sort();
        all.dedup();
        for n in all.into_iter().filter(|n| n.starts_with(word)) {
            out.push((n.to_string(), n.to_string()));
        }
        (start, out)
    }
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
    let head = before[..open?].trim_end();
    let name_start = head
        .char_indices()
        .rev()
        .find(|(_, c)| !(c.is_alphanumeric() || *c == '_'))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let name = &head[name_start..];
    let prev = head[..name_start].trim_end();
    let prev_word_ok = prev.ends_with("with")
        && prev[..prev.len() - 4]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
    (prev_word_ok && !name.is_empty()).then(|| name.to_string())
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

impl Validator for LossHelper {}

impl Helper for LossHelper {}

/// ANSI colours for the highlighter.
const KEYWORD_COLOR: &str = "\x1b[1;35m";
const NUMBER_COLOR: &str = "\x1b[36m";
const STRING_COLOR: &str = "\x1b[32m";
const COMMENT_COLOR: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// `line` with keywords, numbers, strings and comments coloured.
pub fn highlight_line(line: &str) -> String {
    let b = line.as_bytes();
    let mut out = String::with_capacity(line.len() * 2);
    let mut i = 0;
    let paint = |out: &mut String, color: &str, text: &str| {
        out.push_str(color);
        out.push_str(text);
        out.push_str(RESET);
    };
    while i < b.len() {
        let c = b[i];
        if c == b'#' {
            let end = line[i..].find('\n').map_or(b.len(), |k| i + k);
            paint(&mut out, COMMENT_COLOR, &line[i..end]);
            i = end;
        } else if c == b'"' {
            let mut j = i + 1;
            while j < b.len() && b[j] != b'"' && b[j] != b'\n' {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            let end = (j + 1).min(b.len());
            paint(&mut out, STRING_COLOR, &line[i..end]);
            i = end;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            let w = &line[i..j];
            if KEYWORDS.contains(&w) {
                paint(&mut out, KEYWORD_COLOR, w);
            } else {
                out.push_str(w);
            }
            i = j;
        } else if c.is_ascii_digit() || (c == b'.' && b.get(i + 1).is_some_and(u8::is_ascii_digit))
        {
            let mut j = i;
            while j < b.len() && (b[j].is_ascii_digit() || b[j] == b'.') {
                j += 1;
            }
            if j < b.len() && (b[j] == b'e' || b[j] == b'E') {
                let mut k = j + 1;
                if k < b.len() && (b[k] == b'+' || b[k] == b'-') {
                    k += 1;
                }
                if k < b.len() && b[k].is_ascii_digit() {
                    while k < b.len() && b[k].is_ascii_digit() {
                        k += 1;
                    }
                    j = k;
                }
            }
            paint(&mut out, NUMBER_COLOR, &line[i..j]);
            i = j;
        } else {
            let ch = line[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
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

// ---------------------------------------------------------------------------
// The loops.

/// Runs the REPL, after running `file` if given. Returns the exit status.
pub fn run(file: Option<&Path>) -> i32 {
    ACTIVE.store(true, Ordering::SeqCst);
    let mut repl = Repl::new(color_stderr());
    if let Some(f) = file {
        if !repl.load(f) {
            repl.errors += 1;
        }
    }
    let code = if std::io::stdin().is_terminal() {
        interactive(&mut repl)
    } else {
        piped(&mut repl)
    };
    ACTIVE.store(false, Ordering::SeqCst);
    code
}

/// Standard input is not a terminal: read it line by line, no prompts, no
/// editing. Exit status 1 when any input failed.
fn piped(repl: &mut Repl) -> i32 {
    let stdin = std::io::stdin();
    let mut pending = String::new();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        pending.push_str(&line);
        pending.push('\n');
        if needs_more(&pending) {
            continue;
        }
        let input = std::mem::take(&mut pending);
        if repl.handle(&input) == Flow::Quit {
            return i32::from(repl.errors > 0);
        }
    }
    if !pending.trim().is_empty() {
        repl.handle(&pending);
    }
    i32::from(repl.errors > 0)
}

fn interactive(repl: &mut Repl) -> i32 {
    let color = std::env::var_os("NO_COLOR").is_none();
    let config = Config::builder()
        .auto_add_history(false)
        .completion_type(CompletionType::List)
        .color_mode(if color {
            ColorMode::Enabled
        } else {
            ColorMode::Disabled
        })
        .max_history_size(5000)
        .map(|b| b.build())
        .unwrap_or_default();
    let mut editor: Editor<LossHelper, FileHistory> = match Editor::with_config(config) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("note: no line editing ({e}); reading lines as they come");
            return piped(repl);
        }
    };
    editor.set_helper(Some(LossHelper::new()));
    let hist = history_path();
    if let Some(h) = &hist {
        let _ = editor.load_history(h);
    }
    let mut history_ok = true;
    println!(
        "losslang {} REPL; :help lists the commands, Ctrl-D leaves",
        env!("CARGO_PKG_VERSION")
    );
    let mut pending = String::new();
    loop {
        if let Some(h) = editor.helper_mut() {
            h.names = repl.declared();
        }
        let prompt = if pending.is_empty() {
            PROMPT
        } else {
            CONTINUATION
        };
        match editor.readline(prompt) {
            Ok(line) => {
                if !pending.is_empty() {
                    pending.push('\n');
                }
                pending.push_str(&line);
                if needs_more(&pending) {
                    continue;
                }
                let input = std::mem::take(&mut pending);
                if !input.trim().is_empty() {
                    let _ = editor.add_history_entry(input.as_str());
                    if let (Some(h), true) = (&hist, history_ok) {
                        if let Err(e) = save_history(&mut editor, h) {
                            eprintln!("note: the history is not kept ({}: {e})", h.display());
                            history_ok = false;
                        }
                    }
                }
                if repl.handle(&input) == Flow::Quit {
                    break;
                }
            }
            Err(ReadlineError::Interrupted) => {
                // Ctrl-C while typing: drop the line (and any unfinished input).
                pending.clear();
            }
            Err(ReadlineError::Eof) => {
                if pending.is_empty() {
                    break;
                }
                pending.clear();
            }
            Err(e) => {
                eprintln!("error: cannot read the terminal: {e}");
                return 1;
            }
        }
    }
    0
}

/// Writes the history file, making its folder first.
fn save_history(editor: &mut Editor<LossHelper, FileHistory>, path: &Path) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    editor.save_history(path).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn semicolon_is_added_after_the_last_token() {
        assert_eq!(with_semicolon("1 + 2").as_deref(), Some("1 + 2;"));
        assert_eq!(with_semicolon("1 + 2;").as_deref(), Some("1 + 2;"));
        assert_eq!(with_semicolon("1 + 2 # hi").as_deref(), Some("1 + 2; # hi"));
        assert_eq!(with_semicolon("  # only a comment"), None);
    }

    #[test]
    fn continuation() {
        assert!(needs_more("print (1 +"));
        assert!(!needs_more("print (1 +\n2)"));
        assert!(!needs_more("1 + 2"));
        assert!(!needs_more(":help"));
    }

    #[test]
    fn completion() {
        let mut h = LossHelper::new();
        h.names = vec!["alpha".into()];
        let (s, c) = h.candidates("minimize x^2 with adam(l", 24);
        assert_eq!(s, 23);
        assert!(c.iter().any(|(d, r)| d == "lr" && r == "lr="));
        let (_, c) = h.candidates("minimize x^2 with ad", 20);
        assert!(c.iter().any(|(d, _)| d == "adam") && c.iter().all(|(d, _)| d != "abs"));
        let (_, c) = h.candidates("print al", 8);
        assert!(c.iter().any(|(d, _)| d == "alpha"));
        let (_, c) = h.candidates("pri", 3);
        assert!(c.iter().any(|(d, _)| d == "print"));
        let (_, c) = h.candidates(":pa", 3);
        assert_eq!(c, vec![(":params".to_string(), ":params".to_string())]);
        let (_, c) = h.candidates("minimize x with migrad(st", 25);
        assert!(c.iter().any(|(d, _)| d == "strategy"));
    }

    #[test]
    fn highlighting_keeps_the_text() {
        let l = "param x = 1.5e-3 # hi";
        let h = highlight_line(l);
        assert!(h.contains(KEYWORD_COLOR) && h.contains(NUMBER_COLOR));
        let plain: String = h
            .replace(KEYWORD_COLOR, "")
            .replace(NUMBER_COLOR, "")
            .replace(COMMENT_COLOR, "")
            .replace(RESET, "");
        assert_eq!(plain, l);
    }
}
