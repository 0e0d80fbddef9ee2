//! The REPL as a user meets it (issue 12): piped input (invalid UTF-8,
//! failed expects, command mistakes as diagnostics, Python habits, input
//! names, loading a file twice) and, in a pseudo-terminal, when the
//! continuation prompt appears.

mod common;

use common::repl::{piped_repl as piped, spawn_repl, CONTINUATION, PROMPT};

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

#[test]
fn continuation_prompt_after_a_trailing_operator_not_after_a_bad_string() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &["repl"]);
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

#[test]
fn params_shows_the_values_and_errors_of_the_fit_table() {
    let home = tempfile::tempdir().unwrap();
    let (out, err, code) = piped(
        home.path(),
        b"param mu = 1.5 in [0, 10]\nparam s = 2\nparam k = 7 fixed\n\
          minimize (mu - 4)^2 / 0.3 + (s - 1)^2 / 0.0123 + k with migrad\n:params\n",
    );
    assert_eq!(code, Some(0), "{err}");
    // the fit table's rows: `│ 0 │ mu   │    4.0    │    0.5    │ ...`
    let fit = |name: &str| -> (String, String) {
        let row = out
            .lines()
            .find(|l| l.split('│').nth(2).map(str::trim) == Some(name))
            .unwrap_or_else(|| panic!("no row {name} in {out}"));
        let cells: Vec<&str> = row.split('│').map(str::trim).collect();
        (cells[3].to_string(), cells[4].to_string())
    };
    // the `:params` rows: `mu    4.0    [0.0, 10.0]  no     0.5`
    let params = |name: &str| -> Vec<String> {
        let row = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no :params row {name} in {out}"));
        row.split_whitespace().map(str::to_string).collect()
    };
    for name in ["mu", "s"] {
        let (value, error) = fit(name);
        let row = params(name);
        assert_eq!(
            (&row[1], row.last()),
            (&value, Some(&error)),
            "{name}: {out}"
        );
    }
    // s's error, sqrt(0.0123) = 0.1109, is rounded as the table rounds it
    assert_eq!(fit("s").1, "0.11", "{out}");
    // a fixed parameter has no error
    assert_eq!(params("k").last().map(String::as_str), Some("-"), "{out}");
}

#[test]
fn a_nan_stop_in_the_repl_keeps_the_best_finite_point() {
    // the case: sgd(lr=1) on sqrt(x) from 1 steps to x = -0.207
    let home = tempfile::tempdir().unwrap();
    let (out, err, code) = piped(
        home.path(),
        b"param x = 1\nminimize sqrt(x) with sgd(lr=1)\nprint x\n",
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(
        out.starts_with("minimize with sgd(")
            && out.contains("kept the best finite point")
            && out.ends_with("  x = 0.5\n0.5\n"),
        "{out}"
    );
    assert!(
        err.contains("error[E0400]") && err.contains("┌─ <repl:2>:1:10"),
        "{err}"
    );
}
