//! The REPL in a pseudo-terminal (rexpect), plus its piped mode; Tab
//! completion by context.

mod common;

use common::repl::{interrupt_a_long_step_run, line, repl_command, spawn_repl, PROMPT};
use common::BIN;
use rexpect::session::PtySession;
use std::process::Command;

fn quit(mut p: PtySession) {
    p.send_control('d').unwrap();
    p.exp_eof().unwrap();
    let status = p.process.wait().unwrap();
    assert!(
        format!("{status:?}").ends_with(", 0)"),
        "exit status {status:?}"
    );
}

#[test]
fn a_bare_expression_prints_its_value() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    let out = line(&mut p, "1 + 2");
    assert!(out.contains("3.0"), "{out}");
    let out = line(&mut p, "10 * 4;");
    assert!(out.contains("40.0"), "{out}");
    quit(p);
}

#[test]
fn minimize_then_print() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    line(&mut p, "param x = 0");
    let out = line(&mut p, "minimize (x - 3)^2 with adam(lr=0.1) for 300 steps");
    assert!(out.contains("minimize with adam"), "{out}");
    assert!(out.contains("300 steps"), "{out}");
    let out = line(&mut p, "print round(x * 100)");
    assert!(out.contains("300.0"), "{out}");
    quit(p);
}

#[test]
fn an_error_leaves_the_session_alive() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    line(&mut p, "let a = 5");
    let out = line(&mut p, "print a + nosuchname");
    assert!(out.contains("error[E0200]"), "{out}");
    assert!(out.contains("nosuchname"), "{out}");
    let out = line(&mut p, "a * 2");
    assert!(out.contains("10.0"), "{out}");
    let out = line(&mut p, ":nonsense");
    assert!(out.contains("unknown command"), "{out}");
    quit(p);
}

#[test]
fn multi_line_input_gets_a_continuation_prompt() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    p.send_line("print (1 +").unwrap();
    p.exp_string("  ... ").unwrap();
    let out = line(&mut p, "41)");
    assert!(out.contains("42.0"), "{out}");
    quit(p);
}

#[test]
fn params_table() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    line(&mut p, "param mu = 1.5 in [0, 10]");
    line(&mut p, "param sigma = 2 fixed");
    let out = line(&mut p, ":params");
    assert!(
        out.contains("name") && out.contains("limits") && out.contains("error"),
        "{out}"
    );
    assert!(
        out.contains("mu") && out.contains("1.5") && out.contains("[0.0, 10.0]"),
        "{out}"
    );
    assert!(out.contains("sigma") && out.contains("yes"), "{out}");
    // After a Minuit fit the table has the parabolic error.
    line(&mut p, "minimize (mu - 4)^2 / 0.25 with migrad");
    let out = line(&mut p, ":params");
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("mu"))
        .unwrap_or_default()
        .to_string();
    let err: f64 = row
        .split_whitespace()
        .last()
        .unwrap_or("")
        .parse()
        .unwrap_or(0.0);
    assert!((err - 0.5).abs() < 0.01, "{out}");
    quit(p);
}

#[test]
fn save_and_load_round_trip() {
    let home = tempfile::tempdir().unwrap();
    let script = home.path().join("session.loss");
    let mut p = spawn_repl(home.path(), &[]);
    line(&mut p, "param w = 2");
    line(&mut p, "let twice = 2 * w");
    line(&mut p, "fn sq(t) = t * t");
    line(&mut p, "sq(twice) + 0.5");
    let out = line(&mut p, &format!(":save {}", script.display()));
    assert!(out.contains("saved 4 statements"), "{out}");
    let out = line(&mut p, ":reset");
    assert!(out.contains("empty"), "{out}");
    let out = line(&mut p, "print twice");
    assert!(out.contains("error"), "{out}");
    let out = line(&mut p, &format!(":load {}", script.display()));
    assert!(out.contains("16.5"), "{out}");
    let out = line(&mut p, "sq(w) + 0.25");
    assert!(out.contains("4.25"), "{out}");
    quit(p);
    // The saved script runs on its own.
    let run = Command::new(BIN).arg("run").arg(&script).output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).contains("16.5"));
}

#[test]
fn ctrl_c_interrupts_a_long_minimization() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    line(&mut p, "param x = 1");
    interrupt_a_long_step_run(&mut p);
    // The session goes on, with the parameters the run reached.
    let out = line(&mut p, "print x < 1");
    assert!(out.contains("true"), "{out}");
    // A later minimization is not stopped by the old Ctrl-C.
    let out = line(&mut p, "minimize (x - 2)^2 with sgd(lr=0.1) for 100 steps");
    assert!(
        out.contains("100 steps") && !out.contains("interrupted"),
        "{out}"
    );
    quit(p);
}

#[test]
fn ctrl_c_abandons_the_line_and_ctrl_d_leaves() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    p.send("print 12345").unwrap();
    p.send_control('c').unwrap();
    p.exp_string(PROMPT).unwrap();
    let out = line(&mut p, "7 * 6");
    assert!(out.contains("42.0") && !out.contains("12345.0"), "{out}");
    quit(p);
}

#[test]
fn repl_file_runs_the_file_first_and_history_is_kept() {
    let home = tempfile::tempdir().unwrap();
    let script = home.path().join("start.loss");
    std::fs::write(&script, "param k = 7;\nprint k;\n").unwrap();
    let mut p = spawn_repl(home.path(), &["repl", script.to_str().unwrap()]);
    let out = line(&mut p, "k * 3");
    assert!(out.contains("21.0"), "{out}");
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
    let hist = std::fs::read_to_string(home.path().join("data/losslang/history")).unwrap();
    assert!(hist.contains("k * 3"), "{hist}");
}

#[test]
fn an_unwritable_history_place_is_not_fatal() {
    let home = tempfile::tempdir().unwrap();
    // XDG_DATA_HOME is a file, so its losslang folder cannot be made.
    let blocker = home.path().join("data");
    std::fs::write(&blocker, "").unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    let out = line(&mut p, "2 + 2");
    assert!(out.contains("4.0"), "{out}");
    let out = line(&mut p, "3 + 3");
    assert!(out.contains("6.0"), "{out}");
    quit(p);
}

#[test]
fn help_lists_commands_builtins_and_optimizers() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    let out = line(&mut p, ":help");
    for word in [
        ":params", ":save", "minimize", "sigmoid", "adamw", "lbfgs", "migrad",
    ] {
        assert!(out.contains(word), "{word} missing in {out}");
    }
    quit(p);
}

#[test]
fn piped_stdin_works_line_by_line() {
    let home = tempfile::tempdir().unwrap();
    let mut c = repl_command(home.path(), &["repl"]);
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin
            .write_all(b"1 + 2\nprint (1 +\n2)\nparam x = 3\n:params\n")
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!stdout.contains(PROMPT), "{stdout}");
    assert_eq!(stdout.lines().take(2).collect::<Vec<_>>(), ["3.0", "3.0"]);
    assert!(stdout.contains("x     3.0"), "{stdout}");
}

/// Types `text` (no Enter), waits for its echo, then presses Tab.
fn type_then_tab(p: &mut PtySession, text: &str) {
    p.send(text).unwrap();
    p.flush().unwrap();
    p.exp_string(text).unwrap();
    p.send("\t").unwrap();
    p.flush().unwrap();
}

#[test]
fn tab_completes_by_context() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    line(&mut p, "let zeta_value = 7");
    // a declared name after `print`: the line is redrawn completed
    type_then_tab(&mut p, "print zeta_v");
    p.exp_string("print zeta_value").unwrap();
    p.send_line("").unwrap();
    p.exp_string("7.0").unwrap();
    p.exp_string(PROMPT).unwrap();
    // an optimizer right after `with` ...
    line(&mut p, "param x = 1");
    type_then_tab(&mut p, "minimize (x - 2)^2 with adag");
    p.exp_string("with adagrad").unwrap();
    p.send_line(" for 3 steps").unwrap();
    p.exp_string("minimize with adagrad(").unwrap();
    p.exp_string(PROMPT).unwrap();
    // ... but not after `print`: `adag` stays as typed
    type_then_tab(&mut p, "print adag");
    p.send_line("").unwrap();
    let before = p.exp_string("unknown name `adag`").unwrap();
    assert!(!before.contains("adagrad"), "{before}");
    p.exp_string(PROMPT).unwrap();
    quit(p);
}
