//! Tests of the whole check with a fake interpreter: each line of a script
//! is printed, except `!err TEXT` (stderr), `!exit N` (the status),
//! `!expect passed|FAILED [N] TEXT` (an expect and its record) and `!hang`
//! (the run times out).

use std::fs;
use std::path::Path;

mod reports;

use super::report::text::Text;
use super::*;

/// A fake interpreter: each line of the script is printed to stdout,
/// except `!err TEXT` (a stderr line) and `!exit N` (the exit status).
fn fake_run(path: &Path) -> Run {
    let text = fs::read_to_string(path).unwrap_or_default();
    if text.contains("!hang") {
        return Run::TimedOut;
    }
    Run::Finished(fake(path))
}

fn fake(path: &Path) -> Captured {
    let text = fs::read_to_string(path).expect("fake interpreter reads the script");
    let mut c = Captured::default();
    for line in text.lines() {
        if let Some(e) = line.strip_prefix("!err ") {
            c.stderr
                .push_str(&e.replace("{path}", &path.display().to_string()));
            c.stderr.push('\n');
        } else if let Some(n) = line.strip_prefix("!exit ") {
            c.status = n.trim().parse().unwrap();
        } else if let Some(rest) = line.strip_prefix("!expect ") {
            // `!expect passed|FAILED [N] TEXT`: an expect line and its record
            let (word, rest) = rest.split_once(' ').unwrap();
            let (points, text) = match rest.split_once(' ') {
                Some((n, t)) if n.parse::<u64>().is_ok() => (n.parse::<u64>().ok(), t),
                _ => (None, rest),
            };
            let passed = word == "passed";
            let weight = points
                .map(|n| format!(" ({}/{n} points)", if passed { n } else { 0 }))
                .unwrap_or_default();
            c.stdout
                .push_str(&format!("expect {word}{weight}: {text}\n"));
            c.expects.push(ExpectRecord {
                line: c.expects.len() + 1,
                message: text.to_string(),
                passed,
                values: Vec::new(),
                points,
            });
        } else {
            c.stdout.push_str(line);
            c.stdout.push('\n');
        }
    }
    c
}

fn put(dir: &Path, rel: &str, text: &str) {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, text).unwrap();
}

fn opts(dir: &Path) -> CheckOptions {
    CheckOptions {
        paths: vec![dir.to_path_buf()],
        ..CheckOptions::default()
    }
}

/// Runs the check with the fake interpreter; returns (exit status, report,
/// scripts run in order, relative to `dir`).
fn check_code(o: &CheckOptions, dir: &Path) -> (i32, String, Vec<String>) {
    let mut ran = Vec::new();
    let mut out = Vec::new();
    let summary = {
        let mut text = Text::new(&mut out);
        run_check(
            o,
            &mut |p: &Path| {
                ran.push(p.strip_prefix(dir).unwrap_or(p).display().to_string());
                fake_run(p)
            },
            &mut [&mut text],
        )
        .unwrap()
    };
    (summary.exit_code(), String::from_utf8(out).unwrap(), ran)
}

/// As `check_code`; the flag says whether every script passed.
fn check(o: &CheckOptions, dir: &Path) -> (bool, String, Vec<String>) {
    let (code, out, ran) = check_code(o, dir);
    (code == 0, out, ran)
}

fn last_line(s: &str) -> &str {
    s.lines().last().unwrap()
}

#[test]
fn pass() {
    let t = tempfile::tempdir().unwrap();
    put(t.path(), "a.loss", "x = 1\ny = 2\n");
    put(t.path(), "a.expected", "x = 1\ny = 2\n");
    let (ok, out, _) = check(&opts(t.path()), t.path());
    assert!(ok, "{out}");
    let name = t.path().join("a.loss").display().to_string();
    assert_eq!(out, format!("PASS {name}\n1 passed, 0 failed\n"));
}

#[test]
fn fail_shows_diff() {
    let t = tempfile::tempdir().unwrap();
    put(t.path(), "a.loss", "x = 1\ny = 2\n");
    put(t.path(), "a.expected", "x = 1\ny = 3\n");
    let (ok, out, _) = check(&opts(t.path()), t.path());
    assert!(!ok);
    let name = t.path().join("a.loss").display().to_string();
    assert!(
        out.starts_with(&format!("FAIL {name}\n  stdout differs\n")),
        "{out}"
    );
    assert!(out.contains("--- expected\n+++ actual\n"), "{out}");
    assert!(out.contains("\n-y = 3\n+y = 2\n"), "{out}");
    assert!(out.contains("\n x = 1\n"), "{out}");
    assert_eq!(last_line(&out), "0 passed, 1 failed");
}

#[test]
fn numeric_tolerance() {
    let t = tempfile::tempdir().unwrap();
    put(t.path(), "close.loss", "loss 1.0000001 at x=-2.5e-3\n");
    put(t.path(), "close.expected", "loss 1.0 at x=-0.0025\n");
    put(t.path(), "far.loss", "loss 1.001\n");
    put(t.path(), "far.expected", "loss 1.0\n");
    put(t.path(), "zero.loss", "grad 3.1e-17\n");
    put(t.path(), "zero.expected", "grad -2.2e-16\n");
    let (ok, out, _) = check(&opts(t.path()), t.path());
    assert!(!ok);
    assert!(
        out.contains("PASS ") && out.contains("close.loss\n"),
        "{out}"
    );
    assert!(out.contains("FAIL ") && out.contains("far.loss\n"), "{out}");
    assert!(out.contains("zero.loss\n"), "{out}");
    assert_eq!(last_line(&out), "2 passed, 1 failed");

    // A looser rtol makes 1.001 pass.
    let mut o = opts(t.path());
    o.rtol = 1e-2;
    assert!(check(&o, t.path()).0);

    let tol = Tol {
        rtol: 1e-6,
        atol: 0.0,
    };
    use compare::texts_match;
    assert!(texts_match("1.0", "1.0000001", tol));
    assert!(!texts_match("1.0", "1.001", tol));
    // 0 against round-off noise needs atol
    assert!(!texts_match("0", "1e-300", tol));
    assert!(texts_match("0", "1e-300", Tol { atol: 1e-12, ..tol }));
    // a different number of tokens differs
    assert!(!texts_match("a 1 2", "a 1", tol));
    assert!(!texts_match("1", "x", tol));
}

#[test]
fn diff_hides_numbers_within_tolerance() {
    let t = tempfile::tempdir().unwrap();
    put(t.path(), "a.loss", "a 1.0000001 b 2.5\nc 3.00000001\n");
    put(t.path(), "a.expected", "a 1.0 b 2.0\nc 3\n");
    let (ok, out, _) = check(&opts(t.path()), t.path());
    assert!(!ok);
    assert!(
        out.contains("\n-a 1.0 b 2.0\n+a 1.0 b 2.5\n c 3\n"),
        "{out}"
    );
    assert!(!out.contains("1.0000001"), "{out}");
}

#[test]
fn trailing_spaces_and_newlines() {
    let t = tempfile::tempdir().unwrap();
    put(t.path(), "a.loss", "x = 1   \ny\t\n\n");
    put(t.path(), "a.expected", "x = 1\r\ny");
    put(t.path(), "b.loss", "x  = 1\n");
    put(t.path(), "b.expected", "x = 1\n");
    put(t.path(), "c.loss", "  x\n");
    put(t.path(), "c.expected", "x\n");
    let (ok, out, _) = check(&opts(t.path()), t.path());
    assert!(!ok);
    assert!(out.contains("PASS ") && out.contains("a.loss\n"), "{out}");
    assert_eq!(last_line(&out), "1 passed, 2 failed");
}

#[test]
fn recursive_discovery_order() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    for rel in [
        "z.loss",
        "a/b.loss",
        "a/c/d.loss",
        "a.loss",
        "m/n.loss",
        ".hidden/e.loss",
        "target/f.loss",
        "m/target/g.loss",
    ] {
        put(d, rel, "ok\n");
        put(d, &rel.replace(".loss", ".expected"), "ok\n");
    }
    put(d, "nox.loss", "no expected file\n");
    put(d, ".h.loss", "ok\n");
    put(d, ".h.expected", "ok\n");
    put(d, "notes.txt", "ok\n");
    let (ok, out, ran) = check(&opts(d), d);
    assert!(ok, "{out}");
    assert_eq!(
        ran,
        ["a/b.loss", "a/c/d.loss", "a.loss", "m/n.loss", "z.loss"]
    );
    assert_eq!(last_line(&out), "5 passed, 0 failed");

    // Several paths: argument order, then sorted; duplicates once; a
    // single file; an X.expected names X.loss.
    let o = CheckOptions {
        paths: vec![d.join("z.loss"), d.join("a"), d.join("a/b.expected")],
        ..CheckOptions::default()
    };
    let (ok, _, ran) = check(&o, d);
    assert!(ok);
    assert_eq!(ran, ["z.loss", "a/b.loss", "a/c/d.loss"]);
}

#[test]
fn meant_to_fail() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let script = "before\n!err error[E0301]: expect failed: x = 2, expected 3\n!err  --> a.loss:4:1\n!exit 1\n";
    let exp = "before\n--- stderr\nerror[E0301]: expect failed: x = 2, expected 3\n --> a.loss:4:1\n--- exit 1\n";
    put(d, "good.loss", script);
    put(d, "good.expected", exp);
    // exit status only, stderr not compared
    put(d, "status_only.loss", script);
    put(d, "status_only.expected", "before\n--- exit 1\n");
    // a different diagnostic
    put(d, "other_diag.loss", &script.replace("x = 2", "x = 2.5"));
    put(d, "other_diag.expected", exp);
    // it was meant to fail but passes
    put(d, "passes.loss", "before\n");
    put(d, "passes.expected", exp);
    let (ok, out, _) = check(&opts(d), d);
    assert!(!ok);
    assert!(
        out.contains("PASS ") && out.contains("good.loss\n"),
        "{out}"
    );
    assert!(out.contains("status_only.loss\n"), "{out}");
    assert!(out.contains("stderr (the diagnostic) differs"), "{out}");
    assert!(out.contains("-error[E0301]: expect failed: x = 2, expected 3\n+error[E0301]: expect failed: x = 2.5, expected 3\n"), "{out}");
    assert!(out.contains("exit status 0, expected 1"), "{out}");
    assert!(out.contains("\n---- exit 1\n+--- exit 0\n"), "{out}");
    assert_eq!(last_line(&out), "2 passed, 2 failed");
}

#[test]
fn nonzero_exit_without_marker_fails() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    put(
        d,
        "a.loss",
        "x = 1\n!err error: expect failed: x == 2\n!exit 1\n",
    );
    put(d, "a.expected", "x = 1\n");
    let (ok, out, _) = check(&opts(d), d);
    assert!(!ok);
    assert!(out.contains("FAIL "), "{out}");
    assert!(
        out.contains("  the run exited with status 1 (a failed `expect` or an error), but the expected file has no `--- exit N` line, so the script must exit 0\n"),
        "{out}"
    );
    assert!(!out.contains("stdout differs"), "{out}");
    assert!(
        out.contains("+--- stderr\n+error: expect failed: x == 2\n+--- exit 1\n"),
        "{out}"
    );
    assert_eq!(last_line(&out), "0 passed, 1 failed");
}

#[test]
fn bless_round_trip() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    put(d, "plain.loss", "loss 0.5   \nx 3\n");
    put(
        d,
        "fails.loss",
        "out\n!err error: boom\n!err   |\n!exit 1\n",
    );
    put(d, "noout.loss", "!err error: parse\n!exit 2\n");
    // output lines that read as markers are escaped
    put(
        d,
        "markers.loss",
        "--- stderr\n\\--- exit 3\n--- exit 4\n!err --- stderr\n!exit 1\n",
    );
    // a stale expected file and a malformed one are rewritten
    put(d, "stale.loss", "new\n");
    put(d, "stale.expected", "old\n");
    put(d, "broken.loss", "fine\n");
    put(d, "broken.expected", "fine\n--- exit one\n");
    // an up-to-date file within tolerance is left alone
    put(d, "same.loss", "1.00000001\n");
    put(d, "same.expected", "1\n");

    let mut o = opts(d);
    o.bless = true;
    let (ok, out, _) = check(&o, d);
    assert!(ok, "{out}");
    assert_eq!(out.matches("BLESS ").count(), 6, "{out}");
    assert_eq!(out.matches("PASS ").count(), 1, "{out}");
    assert!(out.contains("same.loss\n"));
    assert_eq!(last_line(&out), "7 passed, 0 failed");
    let read = |n: &str| fs::read_to_string(d.join(n)).unwrap();
    assert_eq!(read("plain.expected"), "loss 0.5\nx 3\n");
    assert_eq!(
        read("fails.expected"),
        "out\n--- stderr\nerror: boom\n  |\n--- exit 1\n"
    );
    assert_eq!(
        read("noout.expected"),
        "--- stderr\nerror: parse\n--- exit 2\n"
    );
    assert_eq!(
        read("markers.expected"),
        "\\--- stderr\n\\\\--- exit 3\n\\--- exit 4\n--- stderr\n\\--- stderr\n--- exit 1\n"
    );
    assert_eq!(read("same.expected"), "1\n");
    // no temporary files left behind
    let names: Vec<_> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "{names:?}");

    let (ok, out, _) = check(&opts(d), d);
    assert!(ok, "{out}");
    assert_eq!(last_line(&out), "7 passed, 0 failed");
    let parsed = expected::parse(&read("markers.expected")).unwrap();
    assert_eq!(parsed.stdout, "--- stderr\n\\--- exit 3\n--- exit 4\n");
    assert_eq!(parsed.stderr.as_deref(), Some("--- stderr\n"));
    assert_eq!(parsed.exit, Some(1));
}

#[test]
fn problems_are_failures() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    put(d, "ok.loss", "x\n");
    put(d, "ok.expected", "x\n");
    let o = CheckOptions {
        paths: vec![
            d.to_path_buf(),
            d.join("missing"),
            d.join("notes.txt"),
            d.join("lonely.loss"),
        ],
        ..CheckOptions::default()
    };
    put(d, "notes.txt", "");
    put(d, "lonely.loss", "x\n");
    let (code, out, ran) = check_code(&o, d);
    assert_eq!(code, 1, "{out}");
    assert_eq!(ran, ["ok.loss"]);
    assert!(out.contains("cannot read "), "{out}");
    assert!(out.contains("not a .loss script"), "{out}");
    assert!(out.contains("no expected file"), "{out}");
    assert_eq!(last_line(&out), "1 passed, 3 failed");

    for (rtol, timeout) in [(-1.0, 1.0), (1e-6, 0.0), (1e-6, f64::NAN)] {
        let bad = CheckOptions {
            rtol,
            timeout,
            ..CheckOptions::default()
        };
        let err = run_check(&bad, &mut fake_run, &mut []).unwrap_err();
        assert!(matches!(err, CheckError::Invalid(_)), "{err}");
    }
}

/// An expected file that is not one of ours is a setup error: that script
/// fails with the file's line, the others are checked, and the exit status
/// is 2.
#[test]
fn expected_files_that_are_not_ours() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    put(d, "a.loss", "x\n");
    fs::create_dir(d.join("a.expected")).unwrap();
    put(d, "b.loss", "x\n");
    put(d, "b.expected", "x\n--- exit one\n");
    put(d, "c.loss", "x\n");
    fs::write(d.join("c.expected"), b"x\ny\n\x89PNG\r\n").unwrap();
    put(d, "ok.loss", "x\n");
    put(d, "ok.expected", "x\n");
    let (code, out, ran) = check_code(&opts(d), d);
    assert_eq!(code, 2, "{out}");
    assert_eq!(ran, ["ok.loss"]);
    let name = |f: &str| d.join(f).display().to_string();
    assert!(
        out.contains(&format!(
            "cannot read expected file {}: it is a folder",
            name("a.expected")
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "cannot read expected file {}: line 2: malformed exit marker `--- exit one`",
            name("b.expected")
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "cannot read expected file {}: line 3: not UTF-8",
            name("c.expected")
        )),
        "{out}"
    );
    assert_eq!(last_line(&out), "1 passed, 3 failed");
}

#[test]
fn nothing_to_check() {
    let t = tempfile::tempdir().unwrap();
    let err = run_check(&opts(t.path()), &mut fake_run, &mut []).unwrap_err();
    assert_eq!(err, CheckError::NoScripts(t.path().to_path_buf()));
    put(t.path(), "a.loss", "x\n");
    let err = run_check(&opts(t.path()), &mut fake_run, &mut []).unwrap_err();
    assert_eq!(err, CheckError::NoExpected(t.path().to_path_buf(), 1));
}

/// The case: the same fit written another way reaches the same
/// numbers by another path; only the decoration differs, and it passes.
#[test]
fn decoration_is_not_compared() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let report = |best: &str, step: u32, evals: u32, spark: &str| {
        format!(
            "minimize with adam(lr=0.1): 500 steps\n  loss 14.025734583333332 -> 0.023683201340326376 (best {best} at step {step}), {evals} evaluations\n  {spark}\n  a = 0.8405244755189907\n"
        )
    };
    put(
        d,
        "eq.expected",
        &report("0.023683201340326306", 424, 500, "█▇▄▃▂▁▁▁"),
    );
    put(
        d,
        "eq.loss",
        &report("0.023683201340326327", 400, 500, "█▇▅▃▂▁▁▁"),
    );
    put(
        d,
        "wrong.expected",
        &report("0.023683201340326306", 424, 500, "█▇▄▃▂▁▁▁"),
    );
    put(
        d,
        "wrong.loss",
        &report("0.023683201340326306", 424, 500, "█▇▄▃▂▁▁▁").replace("a = 0.84", "a = 0.94"),
    );
    let (ok, out, _) = check(&opts(d), d);
    assert!(!ok);
    assert!(
        out.contains(&format!("PASS {}\n", d.join("eq.loss").display())),
        "{out}"
    );
    assert!(
        out.contains(&format!("FAIL {}\n", d.join("wrong.loss").display())),
        "{out}"
    );
    // the diff shows the real difference only
    assert!(
        out.contains("\n-  a = 0.8405244755189907\n+  a = 0.9405244755189907\n"),
        "{out}"
    );
    assert!(!out.contains("-  loss"), "{out}");
}

#[test]
fn against_a_teachers_solutions() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    put(d, "sol/hw1.loss", "a 2.0\n");
    put(
        d,
        "sol/hw1.expected",
        "a 2.0\nexpect passed (3/3 points): a == 2: 2.0 vs 2.0\n",
    );
    put(
        d,
        "sol/hw2.expected",
        "b 1\nexpect passed (2/2 points): b > 0: 1.0 > 0.0 is true\n",
    );
    put(
        d,
        "alice/hw1.loss",
        "a 2.0000000001\n!expect passed 3 a == 2: 2.0000000001 vs 2.0\n",
    );
    put(d, "alice/scratch.loss", "hello\n");
    let o = CheckOptions {
        paths: vec![d.join("alice")],
        against: Some(d.join("sol")),
        ..CheckOptions::default()
    };
    let (code, out, ran) = check_code(&o, d);
    assert_eq!(code, 1, "{out}");
    assert_eq!(ran, ["alice/hw1.loss"]);
    let p = |f: &str| d.join(f).display().to_string();
    assert!(
        out.contains(&format!("PASS {} (3/3 points)\n", p("alice/hw1.loss"))),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "FAIL {}\n  no solution: {} has no scratch.expected\n",
            p("alice/scratch.loss"),
            p("sol")
        )),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "FAIL {} (0/2 points)\n  missing: no script for the solution {}\n",
            p("alice/hw2.loss"),
            p("sol/hw2.expected")
        )),
        "{out}"
    );
    assert!(out.ends_with("1 passed, 2 failed\nscore: 3/5\n"), "{out}");

    let missing = CheckOptions {
        against: Some(d.join("nope")),
        ..o.clone()
    };
    let err = run_check(&missing, &mut fake_run, &mut []).unwrap_err();
    assert_eq!(err, CheckError::AgainstMissing(d.join("nope")));
    let bless = CheckOptions { bless: true, ..o };
    assert!(matches!(
        run_check(&bless, &mut fake_run, &mut []),
        Err(CheckError::Invalid(_))
    ));
}

#[test]
fn points_and_score() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    put(
        d,
        "a.loss",
        "!expect passed 2 x > 0: 1 > 0 is true\n!expect FAILED 3 y > 0: -1 > 0 is false\n!exit 1\n",
    );
    put(d, "a.expected", "expect passed (2/2 points): x > 0: 1 > 0 is true\nexpect passed (3/3 points): y > 0: 1 > 0 is true\n");
    put(d, "b.loss", "!expect passed x > 0: 1 > 0 is true\n");
    put(d, "b.expected", "expect passed: x > 0: 1 > 0 is true\n");
    let (_, out, _) = check(&opts(d), d);
    assert!(
        out.contains(&format!(
            "FAIL {} (2/5 points)\n",
            d.join("a.loss").display()
        )),
        "{out}"
    );
    // a script without weights shows no points
    assert!(
        out.contains(&format!("PASS {}\n", d.join("b.loss").display())),
        "{out}"
    );
    assert!(out.ends_with("1 passed, 1 failed\nscore: 2/5\n"), "{out}");
    // without any weights there is no score line
    fs::remove_file(d.join("a.loss")).unwrap();
    fs::remove_file(d.join("a.expected")).unwrap();
    let (_, out, _) = check(&opts(d), d);
    assert_eq!(last_line(&out), "1 passed, 0 failed");
}

#[test]
fn timeouts_fail_and_the_check_goes_on() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    put(d, "a.loss", "!hang\n");
    put(
        d,
        "a.expected",
        "expect passed (4/4 points): x > 0: 1 > 0 is true\n",
    );
    put(d, "b.loss", "ok\n");
    put(d, "b.expected", "ok\n");
    let o = CheckOptions {
        timeout: 2.5,
        ..opts(d)
    };
    let (code, out, _) = check_code(&o, d);
    assert_eq!(code, 1);
    assert!(
        out.contains(&format!(
            "FAIL {} (0/4 points)\n  timed out after 2.5 s\n",
            d.join("a.loss").display()
        )),
        "{out}"
    );
    assert!(out.contains("PASS "), "{out}");
}

#[test]
fn tokenizer() {
    let nums = |s: &str| -> Vec<String> {
        compare::tokenize(s)
            .into_iter()
            .map(|t| match t {
                compare::Tok::Num(n, _) => format!("#{n}"),
                compare::Tok::Text(t) => t.to_string(),
            })
            .collect()
    };
    assert_eq!(nums("x = -1.5e-3,"), ["x = ", "#-1.5e-3", ","]);
    assert_eq!(nums("[1, 2.5E+4]"), ["[", "#1", ", ", "#2.5E+4", "]"]);
    assert_eq!(nums("x1 3rd 2e inf nan -inf"), ["x1 3rd 2e inf nan -inf"]);
    assert_eq!(nums("f(x)-1"), ["f(x)-", "#1"]);
    assert_eq!(nums(".5 ±0.1"), ["#.5", " ±", "#0.1"]);
    assert_eq!(nums("1.2.3"), ["#1.2", ".", "#3"]);
    assert_eq!(nums("é1 1é"), ["é", "#1", " ", "#1", "é"]);
    assert_eq!(nums(""), Vec::<String>::new());
}

#[test]
fn expected_files_do_not_depend_on_the_starting_directory() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    put(
        d,
        "hw/a.loss",
        "!err error: boom\n!err  --> {path}:3:1\n!exit 1\n",
    );
    let mut o = opts(d);
    o.bless = true;
    assert!(check(&o, d).0);
    assert_eq!(
        fs::read_to_string(d.join("hw/a.expected")).unwrap(),
        "--- stderr\nerror: boom\n --> a.loss:3:1\n--- exit 1\n"
    );
    let o = CheckOptions {
        paths: vec![d.join("hw/a.loss")],
        ..CheckOptions::default()
    };
    let (ok, out, _) = check(&o, d);
    assert!(ok, "{out}");
}

/// Blessing scores the run against itself: the file it replaces has stale
/// weights.
#[test]
fn bless_scores_the_new_expected_file() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    put(d, "a.loss", "!expect passed 2 new label: 1 > 0 is true\n");
    put(
        d,
        "a.expected",
        "expect passed (5/5 points): old label: 1 > 0 is true\n",
    );
    let o = CheckOptions {
        bless: true,
        ..opts(d)
    };
    let (ok, out, _) = check(&o, d);
    assert!(ok, "{out}");
    assert!(out.contains("a.loss (2/2 points)\n"), "{out}");
    assert!(out.ends_with("score: 2/2\n"), "{out}");
}
