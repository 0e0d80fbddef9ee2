//! The REPL as a user meets it (issue 12): piped input (invalid UTF-8,
//! failed expects, command mistakes as diagnostics, Python habits, input
//! names, loading a file twice) and, in a pseudo-terminal, when the
//! continuation prompt appears.

use rexpect::session::{spawn_command, PtySession};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_losslang");
const PROMPT: &str = "loss> ";
const CONTINUATION: &str = "  ... ";

fn command(home: &Path) -> Command {
    let mut c = Command::new(BIN);
    c.arg("repl")
        .current_dir(home)
        .env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"))
        .env("TERM", "xterm")
        .env("NO_COLOR", "1");
    c
}

/// Pipes `input` into `losslang repl`: stdout, stderr, exit status.
fn piped(home: &Path, input: &[u8]) -> (String, String, Option<i32>) {
    let mut child = command(home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[test]
fn a_line_of_invalid_utf8_is_a_diagnostic_and_the_session_goes_on() {
    let home = tempfile::tempdir().unwrap();
    let (out, err, code) = piped(home.path(), b"print 1;\n\xff\nprint 2;\n");
    assert_eq!(out, "1.0\n2.0\n", "{err}");
    assert!(
        err.contains("error[E0500]: this line is not UTF-8 text"),
        "{err}"
    );
    assert!(err.contains("<repl:2>:1:1"), "{err}");
    assert_eq!(code, Some(1));
}

#[test]
fn a_failed_expect_makes_the_piped_repl_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let (_, err, code) = piped(home.path(), b"param x = 1\nexpect x == 2\n");
    assert!(err.contains("E0401"), "{err}");
    assert_eq!(code, Some(1));
    let (_, _, code) = piped(home.path(), b"param x = 1\nexpect x == 1\n");
    assert_eq!(code, Some(0));
}

#[test]
fn command_mistakes_are_diagnostics() {
    let home = tempfile::tempdir().unwrap();
    let (_, err, code) = piped(
        home.path(),
        b":bogus\n:load\n:save /nonexistent-dir/s.loss\n:parms\n",
    );
    assert_eq!(code, Some(1));
    assert!(
        err.contains("error[E0600]: unknown command `:bogus`"),
        "{err}"
    );
    assert!(err.contains("┌─ <repl:1>:1:1"), "{err}");
    assert!(
        err.contains("error[E0600]: `:load` needs a file name"),
        "{err}"
    );
    assert!(
        err.contains("error[E0500]: cannot write `/nonexistent-dir/s.loss`"),
        "{err}"
    );
    assert!(err.contains("┌─ <repl:3>:1:7"), "{err}");
    assert!(err.contains("did you mean `:params`?"), "{err}");
    assert!(!err.lines().any(|l| l.starts_with("error: ")), "{err}");
}

#[test]
fn python_habits_point_at_the_commands() {
    let home = tempfile::tempdir().unwrap();
    let (_, err, _) = piped(home.path(), b"help\nexit\nquit()\nprint 5\n");
    assert!(err.contains("`help` is not a statement"), "{err}");
    assert!(err.contains("type `:help`"), "{err}");
    assert!(err.contains("`exit` is not a statement"), "{err}");
    assert_eq!(err.matches("type `:quit`").count(), 2, "{err}");
    // A declared name of that spelling is just a name.
    let (out, _, code) = piped(home.path(), b"let help = 3\nhelp\n");
    assert_eq!((out.as_str(), code), ("3.0\n", Some(0)));
}

#[test]
fn an_unterminated_string_is_an_error_at_once() {
    let home = tempfile::tempdir().unwrap();
    let (out, err, code) = piped(home.path(), b"print \"abc\nprint 2\n");
    assert!(err.contains("E0002"), "{err}");
    assert_eq!(out, "2.0\n", "the next line was swallowed: {err}");
    assert_eq!(code, Some(1));
}

#[test]
fn a_trailing_operator_or_keyword_continues() {
    let home = tempfile::tempdir().unwrap();
    let (out, err, code) = piped(
        home.path(),
        b"let q = 1 +\n2\nparam y =\n4\nminimize (y - 1)^2 with\nmigrad\nq\n",
    );
    assert_eq!(code, Some(0), "{err}");
    assert!(out.ends_with("3.0\n"), "{out}");
}

#[test]
fn inputs_are_named_and_a_second_load_points_at_both_places() {
    let home = tempfile::tempdir().unwrap();
    std::fs::write(home.path().join("a.loss"), "param x = 1;\nprint x;\n").unwrap();
    let (_, err, code) = piped(
        home.path(),
        b"let a = 1\nprint qqq\n:load a.loss\n:load a.loss\n",
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("┌─ <repl:2>:1:7"), "{err}");
    assert!(err.contains("`x` is already declared"), "{err}");
    // Both places, each in its file with its own line numbers.
    assert_eq!(err.matches("a.loss:1:7").count(), 2, "{err}");
    assert!(err.contains("`:reset`"), "{err}");
}

fn spawn(home: &Path) -> PtySession {
    let mut p = spawn_command(command(home), Some(30_000)).expect("spawn the REPL");
    p.exp_string(PROMPT).expect("the first prompt");
    p
}

#[test]
fn continuation_prompt_after_a_trailing_operator_not_after_a_bad_string() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn(home.path());
    p.send_line("let q = 2 *").unwrap();
    p.exp_string(CONTINUATION).expect("a continuation prompt");
    p.send_line("3").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("q").unwrap();
    p.exp_string("6.0").unwrap();
    p.exp_string(PROMPT).unwrap();
    p.send_line("print \"abc").unwrap();
    let before = p
        .exp_string(PROMPT)
        .expect("the main prompt after the error");
    assert!(before.contains("E0002"), "{before}");
    assert!(!before.contains(CONTINUATION.trim()), "{before}");
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
}
