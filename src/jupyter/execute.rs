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

/// The source name diagnostics show for the cell with execution count `n`
/// (IPython's `In [n]`); lines are counted within the cell.
pub fn cell_name(n: u64) -> String {
    format!("In [{n}]")
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

/// One cell being run: the request, its execution count, and whether it
/// runs silently (then nothing is published for it).
struct CellRun<'a> {
    msg: &'a Message,
    count: u64,
    silent: bool,
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
        let cell = CellRun {
            msg,
            count: self.execution_count,
            silent,
        };
        let input = json!({"code": code, "execution_count": cell.count});
        self.publish_for(&cell, "execute_input", input);
        self.streams.begin(msg, silent);
        // An interrupt that came while no cell ran must not stop this one.
        INTERRUPT.store(false, Ordering::SeqCst);
        let src = with_semicolon(&code);
        let outcome = match &src {
            Some(src) => self.session.run_more(&cell_name(cell.count), src),
            None => Outcome::Ok,
        };
        self.session.flush();
        let (value, diagnostics) = self.streams.end();
        if let Some(v) = value {
            let as_result =
                outcome == Outcome::Ok && src.as_deref().is_some_and(ends_in_expression);
            self.show_value(&cell, v, as_result);
        }
        self.execute_reply(&cell, &outcome, diagnostics)
    }

    fn publish_for(&self, cell: &CellRun, msg_type: &str, content: Value) {
        if !cell.silent {
            self.publish(cell.msg, msg_type, content);
        }
    }

    /// The cell's printed value: its result when the cell ends in an
    /// expression (and succeeded), otherwise a line of its output.
    fn show_value(&self, cell: &CellRun, v: String, as_result: bool) {
        if as_result {
            let data =
                json!({"execution_count": cell.count, "data": {"text/plain": v}, "metadata": {}});
            self.publish_for(cell, "execute_result", data);
        } else {
            let text = json!({"name": "stdout", "text": v + "\n"});
            self.publish_for(cell, "stream", text);
        }
    }

    /// The `execute_reply` content; a failed cell also publishes its error
    /// (with the diagnostics as the traceback), a good one its warnings.
    fn execute_reply(&self, cell: &CellRun, outcome: &Outcome, diagnostics: String) -> Value {
        let (ename, evalue) = match outcome {
            Outcome::Ok => {
                if !diagnostics.is_empty() {
                    let text = json!({"name": "stderr", "text": diagnostics});
                    self.publish_for(cell, "stream", text);
                }
                return json!({
                    "status": "ok",
                    "execution_count": cell.count,
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
        self.publish_for(cell, "error", error.clone());
        let mut reply = error;
        reply["status"] = json!("error");
        reply["execution_count"] = json!(cell.count);
        reply
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jupyter::sockets::Out;
    use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

    fn kernel() -> (Kernel, UnboundedReceiver<Out>) {
        let (tx, rx) = unbounded_channel();
        (Kernel::new(tx, "k".into()), rx)
    }

    fn request(code: &str) -> Message {
        Message {
            identities: Vec::new(),
            header: crate::jupyter::wire::Header::new("execute_request", "c"),
            parent_header: json!({}),
            metadata: json!({}),
            content: json!({"code": code, "silent": false}),
            buffers: Vec::new(),
            invalid: None,
        }
    }

    /// Runs a cell; the reply and the iopub messages (type, content).
    fn run(
        k: &mut Kernel,
        rx: &mut UnboundedReceiver<Out>,
        code: &str,
    ) -> (Value, Vec<(String, Value)>) {
        let reply = k.execute(&request(code));
        let mut out = Vec::new();
        while let Ok(Out::Send(_, m)) = rx.try_recv() {
            out.push((m.msg_type().to_string(), m.content.clone()));
        }
        (reply, out)
    }

    #[test]
    fn a_cell_prints_and_ends_in_a_result() {
        let (mut k, mut rx) = kernel();
        let (reply, out) = run(&mut k, &mut rx, "param x = 2; print x;\nx^2 + 1");
        assert_eq!(reply["status"], "ok");
        assert_eq!(reply["execution_count"], 1);
        let kinds: Vec<&str> = out.iter().map(|(t, _)| t.as_str()).collect();
        assert_eq!(kinds, ["execute_input", "stream", "execute_result"]);
        assert_eq!(out[1].1["text"], "2.0\n");
        assert_eq!(out[2].1["data"]["text/plain"], "5.0");
        // The session lives on: the next cell sees `x`.
        let (reply, out) = run(&mut k, &mut rx, "x");
        assert_eq!(reply["execution_count"], 2);
        assert_eq!(out[1].1["data"]["text/plain"], "2.0");
    }

    #[test]
    fn a_diagnostic_is_an_error_reply_and_the_session_goes_on() {
        let (mut k, mut rx) = kernel();
        let (reply, out) = run(&mut k, &mut rx, "param x = 1;\nprint y;");
        assert_eq!(reply["status"], "error");
        assert_eq!(reply["ename"], "E0200");
        let tb = reply["traceback"].as_array().unwrap();
        let plain = strip_ansi(
            &tb.iter()
                .map(|l| l.as_str().unwrap())
                .collect::<Vec<_>>()
                .join("\n"),
        );
        assert!(plain.contains("In [1]:2:7"), "{plain}");
        assert!(out
            .iter()
            .any(|(t, c)| t == "error" && c["traceback"] == reply["traceback"]));
        let (reply, _) = run(&mut k, &mut rx, "print x;");
        assert_eq!(reply["status"], "ok");
    }

    #[test]
    fn a_failed_expect_fails_the_cell_after_it_ran() {
        let (mut k, mut rx) = kernel();
        let (reply, out) = run(&mut k, &mut rx, "param x = 1;\nexpect x > 2;\nprint x;");
        assert_eq!(reply["status"], "error");
        assert_eq!(reply["ename"], "ExpectFailed");
        assert!(out
            .iter()
            .any(|(t, c)| t == "stream" && c["text"] == "1.0\n"));
    }

    #[test]
    fn an_inline_plot_is_display_data() {
        let (mut k, mut rx) = kernel();
        let (reply, out) = run(&mut k, &mut rx, "plot sin(t) over t in [0, 1];");
        assert_eq!(reply["status"], "ok", "{reply}");
        let shown: Vec<&Value> = out
            .iter()
            .filter(|(t, _)| t == "display_data")
            .map(|(_, c)| c)
            .collect();
        assert_eq!(shown.len(), 1);
        assert!(shown[0]["data"]["image/svg+xml"]
            .as_str()
            .unwrap()
            .contains("<svg"));
        assert!(
            !out.iter().any(|(t, _)| t == "stream"),
            "no `plot written to` line"
        );
    }

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
