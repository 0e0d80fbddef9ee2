//! `execute_request`: a cell is script text run in the kernel's one
//! `Session`, the same interpreter `losslang run` and the REPL drive. What the
//! session prints goes to the cell's `stdout` stream as it is printed; its
//! diagnostics are collected, and a cell that stops on one (or has a failed
//! `expect`) is an `error` reply whose traceback is the rendered codespan
//! diagnostic, in ANSI colour. A cell's error never ends the kernel.

use super::handlers::Kernel;
use super::wire::Message;
use crate::interp::{Outcome, INTERRUPT};
use crate::repl::with_semicolon;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::sync::atomic::Ordering;

/// The source name diagnostics show for cells.
pub const CELL_NAME: &str = "<cell>";

/// Routes the session's text output to the cell being run: stdout as
/// `stream` messages (a line at a time, so long cells show progress),
/// stderr held back until the cell ends.
#[derive(Clone)]
pub struct Streams(Rc<RefCell<StreamState>>);

struct StreamState {
    outbox: super::sockets::Outbox,
    id: String,
    /// The execute_request being run; `None` between cells.
    parent: Option<Message>,
    /// A silent execution publishes nothing.
    silent: bool,
    stdout: String,
    stderr: String,
}

impl Streams {
    pub fn new(outbox: super::sockets::Outbox, id: String) -> Streams {
        Streams(Rc::new(RefCell::new(StreamState {
            outbox,
            id,
            parent: None,
            silent: false,
            stdout: String::new(),
            stderr: String::new(),
        })))
    }

    /// The writer for the session's standard output.
    pub fn stdout(&self) -> Box<dyn Write> {
        Box::new(StreamWriter(self.clone(), false))
    }

    /// The writer for the session's diagnostics.
    pub fn stderr(&self) -> Box<dyn Write> {
        Box::new(StreamWriter(self.clone(), true))
    }

    fn begin(&self, parent: &Message, silent: bool) {
        let mut s = self.0.borrow_mut();
        s.parent = Some(parent.clone());
        s.silent = silent;
        s.stdout.clear();
        s.stderr.clear();
    }

    /// Sends what stdout holds.
    pub fn flush_stdout(&self) {
        let mut s = self.0.borrow_mut();
        if s.stdout.is_empty() {
            return;
        }
        let text = std::mem::take(&mut s.stdout);
        if let (Some(parent), false) = (&s.parent, s.silent) {
            let m = Message::child(
                parent,
                "stream",
                json!({"name": "stdout", "text": text}),
                &s.id,
            );
            super::handlers::send(&s.outbox, super::sockets::Channel::IoPub, m);
        }
    }

    /// Ends the cell: flushes stdout and returns the diagnostics text.
    fn end(&self) -> String {
        self.flush_stdout();
        let mut s = self.0.borrow_mut();
        s.parent = None;
        std::mem::take(&mut s.stderr)
    }
}

struct StreamWriter(Streams, bool);

impl Write for StreamWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let line_done = {
            let mut s = self.0 .0.borrow_mut();
            if self.1 {
                s.stderr.push_str(&text);
                false
            } else {
                s.stdout.push_str(&text);
                s.stdout.ends_with('\n')
            }
        };
        if line_done {
            self.0.flush_stdout();
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.1 {
            self.0.flush_stdout();
        }
        Ok(())
    }
}

/// Text without ANSI colour codes.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // ESC [ ... letter
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The diagnostic code (`E0201`) of rendered diagnostics, for `ename`.
fn code_of(rendered: &str) -> Option<String> {
    let plain = strip_ansi(rendered);
    let rest = plain.trim_start().strip_prefix("error[")?;
    Some(rest.split(']').next()?.to_string())
}

impl Kernel {
    /// Runs one cell and returns the `execute_reply` content.
    pub(crate) fn execute(&mut self, msg: &Message) -> Value {
        let c = &msg.content;
        let code = c["code"].as_str().unwrap_or("").to_string();
        let silent = c["silent"].as_bool().unwrap_or(false);
        let store = c["store_history"].as_bool().unwrap_or(true) && !silent;
        if store {
            self.execution_count += 1;
            self.history.push((self.execution_count, code.clone()));
        }
        let count = self.execution_count;
        if !silent {
            self.publish(
                msg,
                "execute_input",
                json!({"code": code, "execution_count": count}),
            );
        }
        self.streams.begin(msg, silent);
        // An interrupt that came while no cell ran must not stop this one.
        INTERRUPT.store(false, Ordering::SeqCst);
        let outcome = match with_semicolon(&code) {
            Some(src) => self.session.run_more(CELL_NAME, &src),
            None => Outcome::Ok,
        };
        self.session.flush();
        let diagnostics = self.streams.end();
        let (ename, evalue) = match &outcome {
            Outcome::Ok => {
                if !diagnostics.is_empty() && !silent {
                    let text = json!({"name": "stderr", "text": diagnostics});
                    self.publish(msg, "stream", text);
                }
                return json!({
                    "status": "ok",
                    "execution_count": count,
                    "user_expressions": {},
                    "payload": [],
                });
            }
            Outcome::ExpectFailed => ("ExpectFailed".to_string(), "an expect failed".to_string()),
            Outcome::Error(message, _, _) => (
                code_of(&diagnostics).unwrap_or_else(|| "Error".to_string()),
                message.clone(),
            ),
        };
        let traceback: Vec<&str> = diagnostics.trim_end().split('\n').collect();
        let error = json!({"ename": ename, "evalue": evalue, "traceback": traceback});
        if !silent {
            self.publish(msg, "error", error.clone());
        }
        let mut reply = error;
        reply["status"] = json!("error");
        reply["execution_count"] = json!(count);
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_codes_are_stripped_and_the_code_found() {
        let r = "\x1b[0m\x1b[1m\x1b[38;5;9merror[E0201]\x1b[0m: `x` is already declared";
        assert_eq!(strip_ansi(r), "error[E0201]: `x` is already declared");
        assert_eq!(code_of(r).as_deref(), Some("E0201"));
        assert_eq!(code_of("nothing"), None);
    }
}
