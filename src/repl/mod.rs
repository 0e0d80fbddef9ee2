//! The interactive REPL (SPEC section 9), split as nickel's is: this file
//! is the backend (`Repl`: each input goes to the same `Session` as
//! `losslang run`, through `Session::run_more` under the name `<repl:N>`,
//! with `Options.repl` set so that a bare expression prints its value) and
//! the piped read loop; `terminal` is the line-editing loop; `command`
//! parses and carries out the `:` commands; `editor` is the rustyline
//! helper (completion, highlighting, history).
//!
//! When standard input is not a terminal the REPL reads it line by line,
//! without prompts, so that it can be scripted; see docs/repl.md.

mod command;
mod editor;
mod terminal;

pub use crate::syntax::lexer::KEYWORDS;
pub use command::{help_text, params_table, save, Command, COMMANDS};
pub use editor::{highlight_line, history_path, option_names, LossHelper};

use crate::diagnostics::{render, Diag};
use crate::interp::{Options, Outcome, Session, INTERRUPT};
use crate::syntax::lexer::{lex, Tok};
use crate::syntax::parser::is_incomplete;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use terminal::Terminal;

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

/// The session plus what the REPL itself needs: the backend that runs each
/// input. It writes only through the session (and the diagnostics it
/// renders), so the piped and interactive loops behave alike.
struct Repl {
    session: Session,
    /// Inputs that ended in an error or a failed `expect` (the exit status
    /// of a piped REPL, as for a script).
    errors: usize,
    /// Inputs read so far: input N is named `<repl:N>` in diagnostics.
    inputs: usize,
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
            inputs: 0,
        }
    }

    /// Parameter, let and fn names declared so far, for completion.
    fn declared(&self) -> Vec<String> {
        let mut v: Vec<String> = self.session.params.iter().map(|p| p.name.clone()).collect();
        v.extend(self.session.defs.keys().cloned());
        v.sort();
        v
    }

    /// The name of the current input in diagnostics.
    fn input_name(&self) -> String {
        format!("<repl:{}>", self.inputs)
    }

    /// Renders a diagnostic about the current input itself (a command, a
    /// line that is not text) and counts it as an error.
    fn report(&mut self, input: &str, d: &Diag) {
        let text = render(
            std::slice::from_ref(d),
            &self.input_name(),
            input,
            self.session.opts.color,
        );
        self.session.flush();
        eprint!("{text}");
        self.errors += 1;
    }

    /// Runs one complete input: a command or statements.
    fn handle(&mut self, input: &str) -> Flow {
        let t = input.trim();
        if t.is_empty() {
            return Flow::Go;
        }
        self.inputs += 1;
        if t.starts_with(':') {
            let lead = input.len() - input.trim_start().len();
            return match t.parse::<Command>() {
                Ok(c) => self.command(c, input),
                Err(mut d) => {
                    for (span, _) in &mut d.labels {
                        *span = span.start + lead..span.end + lead;
                    }
                    self.report(input, &d);
                    Flow::Go
                }
            };
        }
        if let Some(d) = self.python_habit(input) {
            self.report(input, &d);
            return Flow::Go;
        }
        let Some(src) = with_semicolon(input) else {
            return Flow::Go; // only comments
        };
        clear_interrupt();
        let name = self.input_name();
        let outcome = self.session.run_more(&name, &src);
        self.session.flush();
        if outcome != Outcome::Ok {
            self.errors += 1;
        }
        Flow::Go
    }

    /// `help`, `exit`, `quit()` and friends typed as in Python: a pointer
    /// to the `:` command (unless the word is a name the session declared).
    fn python_habit(&self, input: &str) -> Option<Diag> {
        let t = input.trim();
        let word = t.trim_end_matches(';').trim_end();
        let word = word.strip_suffix("()").unwrap_or(word).trim_end();
        let cmd = match word {
            "help" => ":help",
            "exit" | "quit" => ":quit",
            _ => return None,
        };
        if self.declared().iter().any(|n| n == word) {
            return None;
        }
        let start = input.len() - input.trim_start().len();
        let what = if cmd == ":help" {
            "help: type `:help` for the commands and the statement forms".to_string()
        } else {
            "help: type `:quit` (or press Ctrl-D) to leave".to_string()
        };
        Some(
            Diag::error("E0200", format!("`{word}` is not a statement"))
                .at(
                    start..start + t.len(),
                    format!("REPL commands start with `:`: `{cmd}`"),
                )
                .note(what),
        )
    }

    fn command(&mut self, cmd: Command, input: &str) -> Flow {
        match cmd {
            Command::Help => println!("{}", help_text()),
            Command::HelpOn(name) => println!("{}", crate::builtins::doc(&name).unwrap_or("")),
            Command::Params => print!("{}", params_table(&self.session)),
            Command::Reset => {
                self.session.reset();
                println!("the session is empty");
            }
            Command::Load(path) => {
                if !self.load(&path) {
                    self.errors += 1;
                }
            }
            Command::Save(path) => match save(&self.session.history, &path) {
                Ok(n) => println!(
                    "saved {n} statement{} to {}",
                    if n == 1 { "" } else { "s" },
                    path.display()
                ),
                Err(e) => {
                    let d = command::failed(
                        input,
                        format!("cannot write `{}`", path.display()),
                        e.to_string(),
                    );
                    self.report(input, &d);
                }
            },
            Command::Quit => return Flow::Quit,
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
        // Appended to the session's sources, so that a later diagnostic can
        // point back into this file (a name declared here and again later).
        let outcome = self.session.run_more(&path.display().to_string(), &src);
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

/// Whether `input` (a command or statements) needs more lines: a bracket
/// is open, or the input stops where a statement cannot end (after an
/// operator, `=`, `with`, ...). An unterminated string does not: strings end
/// on their line, so it is an error at once.
pub fn needs_more(input: &str) -> bool {
    let t = input.trim();
    if t.is_empty() || t.starts_with(':') {
        return false;
    }
    is_incomplete(input)
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
/// editing. A line that is not UTF-8 is a diagnostic and is skipped. Exit
/// status 1 when any input failed (an error or a failed `expect`).
fn piped(repl: &mut Repl) -> i32 {
    let stdin = std::io::stdin();
    let mut stdin = stdin.lock();
    let mut pending = String::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        match stdin.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                eprintln!("error[E0500]: cannot read standard input: {e}");
                repl.errors += 1;
                break;
            }
        }
        let line = match std::str::from_utf8(&buf) {
            Ok(l) => l,
            Err(e) => {
                repl.inputs += 1;
                let text = String::from_utf8_lossy(&buf).into_owned();
                let at = e.valid_up_to();
                let d = Diag::error("E0500", "this line is not UTF-8 text")
                    .at(at..at + '\u{fffd}'.len_utf8(), "not a UTF-8 character")
                    .note("help: the line was skipped; losslang reads UTF-8 text");
                pending.clear();
                repl.report(&text, &d);
                continue;
            }
        };
        pending.push_str(line.trim_end_matches(['\n', '\r']));
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

/// Standard input is a terminal: line editing, or plain lines when the
/// terminal cannot be edited.
fn interactive(repl: &mut Repl) -> i32 {
    let mut terminal = match Terminal::open() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("note: no line editing ({e}); reading lines as they come");
            return piped(repl);
        }
    };
    println!(
        "losslang {} REPL; :help lists the commands, Ctrl-D leaves",
        env!("CARGO_PKG_VERSION")
    );
    terminal.run(repl)
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
    fn a_trailing_operator_or_keyword_continues() {
        for src in [
            "let q = x +",
            "param y =",
            "minimize x^2 with",
            "print",
            "print 1,",
        ] {
            assert!(needs_more(src), "{src}");
        }
        for src in ["hesse", "minos", "print x", "param y = 1 fixed", "x = 2"] {
            assert!(!needs_more(src), "{src}");
        }
    }

    #[test]
    fn an_unterminated_string_does_not_continue() {
        assert!(!needs_more("print \"abc"));
        assert!(!needs_more("print (\"abc"));
    }
}
