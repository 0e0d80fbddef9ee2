//! Ctrl-C in a pseudo-terminal (rexpect) during Minuit statements and after
//! it: the statement stops at the objective's next call, keeps the best
//! point seen and reports what ran; the session goes on; `:save` writes what
//! ran, so the saved file reproduces the session's state. Also a script
//! interrupted in HESSE (SIGINT) exits 130 and goes on; a contour or
//! profile stopped this way is E0407 and shows nothing.

mod common;

use common::interrupt::Running;
use common::repl::{interrupt_a_long_step_run, line, spawn_repl, PROMPT};
use common::BIN;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// A least-squares objective over 200 parameters with a 3000-row matrix:
/// a numeric-gradient MIGRAD on it takes tens of seconds.
const SETUP: [&str; 3] = [
    "let X = randn([3000, 200])",
    "let y = randn([3000])",
    "param w[200] = 0.1",
];
const OBJECTIVE: &str = "mean((X @ w - y)^2) + sum(w^4)";

/// The last number printed in `out` (a `print` of one value).
fn last_number(out: &str) -> f64 {
    out.lines()
        .filter_map(|l| l.trim().parse::<f64>().ok())
        .next_back()
        .unwrap_or_else(|| panic!("no number in {out:?}"))
}

/// The `loss V at the best point` of an interrupted Minuit run's report.
fn best_loss(out: &str) -> f64 {
    out.lines()
        .find_map(|l| l.trim().strip_prefix("loss "))
        .and_then(|l| l.strip_suffix(" at the best point"))
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no best loss in {out}"))
}

/// Runs a saved script with one more statement and returns its last number.
fn run_saved_then(script: &Path, more: &str) -> f64 {
    let mut text = std::fs::read_to_string(script).unwrap();
    text.push_str(more);
    std::fs::write(script, &text).unwrap();
    let out = Command::new(BIN).arg("run").arg(script).output().unwrap();
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    last_number(&String::from_utf8_lossy(&out.stdout))
}

#[test]
fn ctrl_c_stops_migrad_keeps_the_best_point_and_save_reproduces_it() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    for l in SETUP {
        line(&mut p, l);
    }
    let start = last_number(&line(&mut p, &format!("print {OBJECTIVE}")));
    p.send_line(&format!(
        "minimize {OBJECTIVE} with migrad(grad=\"numeric\")"
    ))
    .unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    p.send_control('c').unwrap();
    let out = p.exp_string(PROMPT).unwrap();
    assert!(
        out.contains("interrupted after") && out.contains("kept the best point seen"),
        "{out}"
    );
    // the report's loss is the objective at the parameters the session has
    let best = best_loss(&out);
    let now = last_number(&line(&mut p, &format!("print {OBJECTIVE}")));
    // (the report's value comes from the fit's tape, `print` from the evaluator)
    assert!((now - best).abs() <= 1e-12 * best.abs(), "{now} vs {best}");
    assert!(best < start, "{best} !< {start}");
    // there is no minimum to continue from
    let out = line(&mut p, "hesse");
    assert!(out.contains("E0403"), "{out}");
    // the session goes on, and a later fit is not stopped by the old Ctrl-C
    let out = line(&mut p, "param z = 3");
    assert!(!out.contains("error"), "{out}");
    let out = line(&mut p, "minimize (z - 1)^2 with migrad");
    assert!(out.contains("Valid Minimum"), "{out}");
    // `:save` writes the values reached, not the fit that was cut short
    let script = home.path().join("session.loss");
    line(&mut p, &format!(":save {}", script.display()));
    let saved = std::fs::read_to_string(&script).unwrap();
    assert!(
        saved.contains("# minimize with migrad was interrupted") && saved.contains("\nw = ["),
        "{saved}"
    );
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
    let again = run_saved_then(&script, &format!("print {OBJECTIVE};\n"));
    assert_eq!(again, now);
}

#[test]
fn save_after_an_interrupted_step_run_writes_the_steps_it_took() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    line(&mut p, "param x = 1");
    interrupt_a_long_step_run(&mut p);
    let x = last_number(&line(&mut p, "print x"));
    assert!(x < 1.0, "{x}");
    let script = home.path().join("steps.loss");
    line(&mut p, &format!(":save {}", script.display()));
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
    let saved = std::fs::read_to_string(&script).unwrap();
    let k: usize = saved
        .split("for ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("no `for K steps` in {saved}"));
    assert!((1..100_000_000).contains(&k), "{saved}");
    assert_eq!(run_saved_then(&script, ""), x, "{saved}");
}

#[test]
fn sigint_in_hesse_keeps_the_minimum_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hesse.loss");
    let mut text: String = SETUP.iter().map(|l| format!("{l};\n")).collect();
    text.push_str(&format!(
        "minimize {OBJECTIVE} with migrad(grad=\"numeric\", ncall=500);\nprint \"hesse\";\nhesse;\nprint \"done\";\n"
    ));
    std::fs::write(&path, text).unwrap();
    let mut run = Running::start(&path, false);
    run.read_until_line("hesse");
    let (rest, _) = run.interrupt_expecting_130(Duration::from_millis(1000));
    assert!(
        rest.starts_with("hesse: interrupted after ")
            && rest.contains("the minimum and its errors are unchanged"),
        "{rest}"
    );
    assert!(rest.ends_with("done\n"), "{rest}");
}

/// Two parameters over 300,000 data points: MIGRAD takes a fraction of a
/// second, a contour or profile of thousands of points many seconds.
const CONTOUR_SETUP: [&str; 4] = [
    "let d = randn([300000])",
    "param a = 1",
    "param b = 0.5",
    "minimize sum((d - a)^2 / (1 + b^2)) / 2 + 150000*log(1 + b^2) with migrad",
];

#[test]
fn ctrl_c_in_a_contour_or_profile_is_e0407_and_changes_nothing() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    for l in CONTOUR_SETUP {
        line(&mut p, l);
    }
    let before = line(&mut p, ":params");
    assert!(before.contains("a ") && before.contains("b "), "{before}");
    for (statement, what) in [
        ("contour a, b points=5000", "contour"),
        ("profile a points=5000", "profile"),
    ] {
        p.send_line(statement).unwrap();
        std::thread::sleep(Duration::from_millis(1500));
        p.send_control('c').unwrap();
        let out = p.exp_string(PROMPT).unwrap();
        assert!(
            out.contains(&format!("error[E0407]: the {what} was interrupted after "))
                && out.contains("stopped by Ctrl-C")
                && out.contains("nothing is shown or drawn; the minimum is unchanged"),
            "{out}"
        );
        // no partial result: no contour header (`contour a, b (cl=0.68)`)
        // or profile header (`profile a`) after the echoed input
        let shown = out
            .lines()
            .any(|l| l.contains("(cl=") || l.trim_end() == "profile a");
        assert!(!shown, "{out}");
        // the parameters and their errors are as the fit left them
        let after = line(&mut p, ":params");
        assert_eq!(after.trim(), before.trim(), "after the {what}");
    }
    // the minimum is still there to continue from
    let out = line(&mut p, "hesse");
    assert!(!out.contains("error"), "{out}");
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
}

#[test]
fn sigint_in_a_contour_of_a_script_is_e0407_and_exits_130() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("contour.loss");
    let mut text: String = CONTOUR_SETUP.iter().map(|l| format!("{l};\n")).collect();
    text.push_str("print \"contour\";\ncontour a, b points=5000;\nprint \"done\";\n");
    std::fs::write(&path, text).unwrap();
    let mut run = Running::start(&path, true);
    run.read_until_line("contour");
    let (rest, err) = run.interrupt_expecting_130(Duration::from_millis(1000));
    // nothing shown, and the error ends the script
    assert_eq!(rest, "", "{err}");
    assert!(
        err.starts_with("error[E0407]: the contour was interrupted after ")
            && err.contains("contour.loss:6:1"),
        "{err}"
    );
}

/// Sends `statement`, presses Ctrl-C after 1.5 s and returns what the
/// REPL printed up to its next prompt.
fn interrupt(p: &mut rexpect::session::PtySession, statement: &str) -> String {
    p.send_line(statement).unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    p.send_control('c').unwrap();
    p.exp_string(PROMPT)
        .unwrap_or_else(|e| panic!("no prompt after Ctrl-C in `{statement}`: {e}"))
}

#[test]
fn ctrl_c_stops_simplex_scan_and_minos_and_the_session_goes_on() {
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn_repl(home.path(), &[]);
    for l in SETUP {
        line(&mut p, l);
    }
    let start = last_number(&line(&mut p, &format!("print {OBJECTIVE}")));
    // SIMPLEX with a tolerance it takes many seconds to reach
    let out = interrupt(
        &mut p,
        &format!("minimize {OBJECTIVE} with simplex(tol=1e-9)"),
    );
    assert!(
        out.contains("minimize with simplex(")
            && out.contains(": interrupted after ")
            && out.contains("(kept the best point seen)"),
        "{out}"
    );
    let now = last_number(&line(&mut p, &format!("print {OBJECTIVE}")));
    assert!(now < start, "{now} !< {start}");
    // SCAN of 400^3 points
    line(&mut p, "param a = 0.5 in [-1, 1]");
    line(&mut p, "param b = 0.5 in [-1, 1]");
    line(&mut p, "param c = 0.5 in [-1, 1]");
    let out = interrupt(
        &mut p,
        "minimize (a - 0.3)^2 + (b + 0.2)^2 + (c - 0.1)^2 with scan(n=400)",
    );
    assert!(
        out.contains("minimize with scan(") && out.contains("(kept the best point seen)"),
        "{out}"
    );
    // the parameters are at the best grid point seen (SCAN, as iminuit's,
    // does not evaluate the start, so that point can be worse than it)
    let reported = best_loss(&out);
    let now = last_number(&line(
        &mut p,
        "print (a - 0.3)^2 + (b + 0.2)^2 + (c - 0.1)^2",
    ));
    assert!((now - reported).abs() <= 1e-12, "{now} vs {reported}");
    // MINOS after a valid minimum of the 200 parameters
    let out = line(&mut p, &format!("minimize {OBJECTIVE} with migrad"));
    assert!(out.contains("Valid Minimum"), "{out}");
    let before = line(&mut p, "print w[0], w[199]");
    let out = interrupt(&mut p, "minos");
    assert!(
        out.contains("minos: interrupted after ")
            && out.contains("(the minimum and its errors are unchanged)"),
        "{out}"
    );
    assert_eq!(line(&mut p, "print w[0], w[199]"), before);
    // the minimum is still there: HESSE runs on it
    let out = line(&mut p, "hesse");
    assert!(!out.contains("error"), "{out}");
    p.send_line(":quit").unwrap();
    p.exp_eof().unwrap();
}
