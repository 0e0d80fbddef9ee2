//! The REPL under test: in a pseudo-terminal (rexpect), as a user at a
//! terminal meets it, or with its standard input piped. Each run gets its
//! own home folder (history file, current directory) and no colour.

use rexpect::session::{spawn_command, PtySession};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

/// The main prompt.
pub const PROMPT: &str = "loss> ";
/// The prompt of an unfinished input.
pub const CONTINUATION: &str = "  ... ";

/// `losslang ARGS` (no arguments: the REPL) in `home`, with its history
/// under `home/data`, a plain terminal and no colour.
pub fn repl_command(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(super::BIN);
    c.args(args)
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    c
}

/// The REPL in a pseudo-terminal, at its first prompt.
pub fn spawn_repl(home: &Path, args: &[&str]) -> PtySession {
    let mut p = spawn_command(repl_command(home, args), Some(60_000)).expect("spawn the REPL");
    p.exp_string(PROMPT).expect("the first prompt");
    p
}

/// Sends a line and waits for the next main prompt; returns what came
/// before it.
pub fn line(p: &mut PtySession, text: &str) -> String {
    p.send_line(text).expect("send a line");
    p.exp_string(PROMPT)
        .unwrap_or_else(|e| panic!("no prompt after `{text}`: {e}"))
}

/// Starts a step-based minimization of `x` that would run for minutes,
/// presses Ctrl-C after 1.5 s and returns what it printed up to the next
/// prompt (which must say it was interrupted).
pub fn interrupt_a_long_step_run(p: &mut PtySession) -> String {
    p.send_line("minimize x^2 + 0*sin(x) with sgd(lr=1e-9) for 100000000 steps")
        .expect("send a line");
    std::thread::sleep(Duration::from_millis(1500));
    p.send_control('c').expect("send Ctrl-C");
    let out = p.exp_string(PROMPT).expect("the prompt after Ctrl-C");
    assert!(out.contains("interrupted"), "{out}");
    out
}

/// Pipes `input` into `losslang repl` in `home`: stdout, stderr, exit status.
pub fn piped_repl(home: &Path, input: &[u8]) -> (String, String, Option<i32>) {
    let mut child = repl_command(home, &["repl"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the REPL");
    let mut stdin = child.stdin.take().expect("stdin pipe");
    // the REPL may stop reading early; the output says what it did
    let _ = stdin.write_all(input);
    drop(stdin);
    let out = child.wait_with_output().expect("wait for the REPL");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}
