//! `execute_request`: a cell is script text run in the kernel's one
//! `Session`, the same interpreter `losslang run` and the REPL drive (with
//! the REPL's optional final `;`). What it prints and shows goes out as it
//! happens (`display`); a bare last expression is the cell's
//! `execute_result`. A cell that stops on a diagnostic, or has a failed
//! `expect`, is an `error` reply whose traceback is the rendered codespan
//! diagnostic in ANSI colour, so nbclient and nbgrader see the cell fail.
//! A cell's error never ends the kernel.

use super::handlers::Kernel;
use super::wire::Message;
use crate::interp::{Outcome, INTERRUPT};
use crate::repl::with_semicolon;
use crate::syntax::ast::StmtKind;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

/// The source name diagnostics show for cells.
pub const CELL_NAME: &str = "<cell>";

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

/// Whether a cell's last statement is a bare expression (its value is then
/// the cell's result).
fn ends_in_expression(src: &str) -> bool {
    crate::syntax::parse(src)
        .ok()
        .and_then(|p| {
            p.stmts
                .last()
                .map(|st| matches!(st.kind, StmtKind::Expr(_)))
        })
        .unwrap_or(false)
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
        let src = with_semicolon(&code);
        let outcome = match &src {
            Some(src) => self.session.run_more(CELL_NAME, src),
            None => Outcome::Ok,
        };
        self.session.flush();
        let (value, diagnostics) = self.streams.end();
        if let Some(v) = value {
            if outcome == Outcome::Ok && src.as_deref().is_some_and(ends_in_expression) {
                if !silent {
                    let data = json!({"execution_count": count, "data": {"text/plain": v}, "metadata": {}});
                    self.publish(msg, "execute_result", data);
                }
            } else if !silent {
                self.publish(msg, "stream", json!({"name": "stdout", "text": v + "\n"}));
            }
        }
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
    fn only_a_bare_last_statement_is_a_result() {
        assert!(ends_in_expression("param x = 1; x^2;"));
        assert!(!ends_in_expression("x; print x;"));
        assert!(!ends_in_expression("param x = 1;"));
    }

    #[test]
    fn ansi_codes_are_stripped_and_the_code_found() {
        let r = "\x1b[0m\x1b[1m\x1b[38;5;9merror[E0201]\x1b[0m: `x` is already declared";
        assert_eq!(strip_ansi(r), "error[E0201]: `x` is already declared");
        assert_eq!(code_of(r).as_deref(), Some("E0201"));
        assert_eq!(code_of("nothing"), None);
    }
}
