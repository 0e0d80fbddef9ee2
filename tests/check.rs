//! `losslang check` end to end (SPEC section 8): the real binary on real
//! scripts in temporary folders. One test per option and per bad input:
//! results-based comparison (the issue's equivalent solution passes, a
//! wrong one fails), decoration of today's examples, `--against`,
//! `--timeout`, `points` and the score, `--json`, `--junit`, and the exit
//! status 2 for a check that cannot be done.

mod common;

use common::{assert_contains, run_args, Output};
use std::fs;
use std::path::{Path, PathBuf};

const TEACHER: &str = r#"let d = csv("points.csv");
param a = 0;
param b = 0;
let mse = mean((a*d.x + b - d.y)^2);
minimize mse with adam(lr=0.1) for 500 steps;
print a, b, mse;
expect a == 0.84 within 0.01 points 2;
expect mse < 0.03 "close to every point" points 3;
"#;

/// The data of the worked assignment (examples/assignment).
const POINTS_CSV: &str = include_str!("../examples/data/points.csv");

fn put(dir: &Path, rel: &str, text: &str) -> PathBuf {
    let p = dir.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(&p, text).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn check(args: &[&str]) -> Output {
    let mut all = vec!["check"];
    all.extend_from_slice(args);
    run_args(&all, None)
}

/// A teacher's folder with the blessed solution, and a student's folder
/// holding `student` as line.loss; returns (teacher, student) folders.
fn assignment(root: &Path, student: &str) -> (PathBuf, PathBuf) {
    let t = root.join("teacher");
    let st = root.join("student");
    put(&t, "points.csv", POINTS_CSV);
    put(&t, "line.loss", TEACHER);
    put(&st, "points.csv", POINTS_CSV);
    put(&st, "line.loss", student);
    let out = check(&["--bless", s(&t)]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    (t, st)
}

#[test]
fn an_equivalent_solution_passes_and_a_wrong_one_fails() {
    let tmp = tempfile::tempdir().unwrap();
    let equivalent = TEACHER.replace("mean((a*d.x + b - d.y)^2)", "mean((d.y - b - a*d.x)^2)");
    let (t, st) = assignment(tmp.path(), &equivalent);
    // The runs differ in decoration only (the best step): it passes.
    let out = check(&[s(&st), "--against", s(&t)]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.ends_with("1 passed, 0 failed\nscore: 5/5\n"),
        "{}",
        out.stdout
    );
    // Beside the expected file (a student checking their own copy) too.
    fs::copy(t.join("line.expected"), st.join("line.expected")).unwrap();
    let out = check(&[s(&st)]);
    assert_eq!(out.code, Some(0), "{}", out.describe());

    let wrong = TEACHER.replace("mean((a*d.x + b - d.y)^2)", "mean(a*d.x + b - d.y)^2");
    put(&st, "line.loss", &wrong);
    let out = check(&[s(&st), "--against", s(&t)]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert_contains(&out.stdout, "line.loss (3/5 points)\n");
    assert!(out.stdout.contains("\n-  a = "), "{}", out.stdout);
    assert!(
        out.stdout.ends_with("0 passed, 1 failed\nscore: 3/5\n"),
        "{}",
        out.stdout
    );
}

/// Today's examples: changing what is decoration in every expected file
/// (the best step, call counts, the sparkline, table padding) still passes;
/// changing a result fails.
#[test]
fn decoration_of_the_examples_is_not_compared() {
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("examples");
    copy_dir(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/examples")),
        &dst,
    );
    let step = regex::Regex::new(r"at step \d+\), \d+ evaluations").unwrap();
    let nfcn = regex::Regex::new(r"Nfcn = \d+").unwrap();
    let mut changed = 0;
    for entry in fs::read_dir(&dst).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_none_or(|e| e != "expected") {
            continue;
        }
        let text = fs::read_to_string(&p).unwrap();
        let new = step.replace_all(&text, "at step 1), 2 evaluations");
        let new = nfcn.replace_all(&new, "Nfcn = 12345");
        let new = new.replace("▁▁▁", "▂▃▄").replace("│ FCN = ", "│   FCN = ");
        if new != text {
            changed += 1;
        }
        fs::write(&p, &new).unwrap();
    }
    assert!(changed >= 10, "{changed} files changed");
    let out = check(&[s(&dst)]);
    assert_eq!(out.code, Some(0), "{}", out.describe());

    let beale = dst.join("beale.expected");
    let text = fs::read_to_string(&beale).unwrap();
    fs::write(
        &beale,
        text.replace("x = 3.0190435761276095", "x = 3.0190535761276095"),
    )
    .unwrap();
    let out = check(&[s(&beale)]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stdout
            .contains("-  x = 3.0190535761276095\n+  x = 3.0190435761276095\n"),
        "{}",
        out.stdout
    );
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let e = entry.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn against_reports_scripts_without_solutions_and_missing_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let (t, st) = assignment(tmp.path(), TEACHER);
    put(&t, "extra.loss", "print 1;\n");
    assert_eq!(check(&["--bless", s(&t.join("extra.loss"))]).code, Some(0));
    put(&st, "scratch.loss", "print 2;\n");
    let out = check(&[s(&st), "--against", s(&t)]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let stdout = &out.stdout;
    assert!(
        stdout.contains(&format!("PASS {} (5/5 points)\n", s(&st.join("line.loss")))),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "FAIL {}\n  no solution: {} has no scratch.expected\n",
            s(&st.join("scratch.loss")),
            s(&t)
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "FAIL {}\n  missing: no script for the solution {}\n",
            s(&st.join("extra.loss")),
            s(&t.join("extra.expected"))
        )),
        "{stdout}"
    );
    assert!(
        stdout.ends_with("1 passed, 2 failed\nscore: 5/5\n"),
        "{stdout}"
    );

    // a missing folder, a folder without solutions, --bless with it
    let out = check(&[s(&st), "--against", s(&tmp.path().join("nope"))]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr.contains("the --against folder") && out.stderr.contains("does not exist"),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty());
    let out = check(&[s(&st), "--against", s(&st.join("..").join("student"))]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert_contains(&out.stderr, "has no .expected files");
    let out = check(&[s(&st), "--against", s(&t), "--bless"]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
}

#[test]
fn timeout_fails_the_script_and_goes_on() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    put(
        d,
        "a_slow.loss",
        "param w[100] = 0;\nminimize sum((w-1)^2) with adam(lr=0.001) for 100000000 steps;\n",
    );
    put(d, "a_slow.expected", "");
    put(d, "b_fast.loss", "print 1;\n");
    put(d, "b_fast.expected", "1.0\n");
    let start = std::time::Instant::now();
    let out = check(&[s(d), "--timeout", "1"]);
    assert!(start.elapsed().as_secs_f64() < 30.0);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stdout.starts_with(&format!(
            "FAIL {}\n  timed out after 1 s\nPASS {}\n",
            s(&d.join("a_slow.loss")),
            s(&d.join("b_fast.loss"))
        )),
        "{}",
        out.stdout
    );
    for bad in ["0", "-1", "soon", "inf"] {
        let flag = format!("--timeout={bad}");
        let out = check(&[s(d), &flag]);
        assert_eq!(out.code, Some(2), "{bad}: {}", out.describe());
        assert!(
            out.stderr.contains("--timeout") && out.stderr.contains("positive number of seconds"),
            "{}",
            out.stderr
        );
    }
}

#[test]
fn points_must_be_a_positive_whole_number() {
    for (points, shown) in [("0", "0"), ("1.5", "1.5"), ("-2", "-2")] {
        let script = format!("param x = 1;\nexpect x > 0 points {points};\n");
        let (out, path) = common::run_script_flags(&script, &[]);
        assert_eq!(out.code, Some(1), "{}", out.describe());
        assert!(
            out.stderr
                .contains("error[E0304]: `points` must be a positive whole number"),
            "{}",
            out.stderr
        );
        assert_contains(&out.stderr, &format!("{path}:2:21"));
        assert_contains(&out.stderr, &format!("this is {shown}"));
    }
    // any other word there is a syntax error at that word
    let (out, path) = common::run_script_flags("param x = 1;\nexpect x > 0 pts 2;\n", &[]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    assert!(
        out.stderr.contains("error[E0100]: unexpected name `pts`")
            && out.stderr.contains("^^^ expected `points`")
            && !out.stderr.contains("is a `;` missing"),
        "{}",
        out.stderr
    );
    assert_contains(&out.stderr, &format!("{path}:2:14"));
    // `points` is an ordinary name elsewhere
    let (out, _) = common::run_script_flags(
        "let points = 2;\nexpect points == 2 within 0 \"two\" points 3;\nprint points;\n",
        &[],
    );
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout
            .starts_with("expect passed (3/3 points): two: points == 2 within 0: "),
        "{}",
        out.stdout
    );
    let (out, _) = common::run_script_flags("expect 1 > 2 points 4;\n", &["--json"]);
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let e = &v["results"][0];
    assert_eq!(
        (e["points"].as_u64(), e["passed"].as_bool()),
        (Some(4), Some(false))
    );
    assert_eq!(e["values"], serde_json::json!([1.0, 2.0]));
}

#[test]
fn json_lines_one_object_per_script() {
    let tmp = tempfile::tempdir().unwrap();
    let wrong = TEACHER.replace("mean((a*d.x + b - d.y)^2)", "mean(a*d.x + b - d.y)^2");
    let (t, st) = assignment(tmp.path(), &wrong);
    let out = check(&[s(&st), "--against", s(&t), "--json"]);
    assert_eq!(out.code, Some(1), "{}", out.describe());
    let lines: Vec<serde_json::Value> = out
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{}", out.stdout);
    let r = &lines[0];
    assert_eq!(r["path"], s(&st.join("line.loss")));
    assert_eq!(r["status"], "fail");
    assert!(r["seconds"].as_f64().unwrap() > 0.0);
    assert_eq!(
        (r["points"].as_u64(), r["max_points"].as_u64()),
        (Some(3), Some(5))
    );
    assert_eq!(r["expected"], s(&t.join("line.expected")));
    let e = &r["expects"][0];
    assert_eq!(e["line"], 7);
    assert_eq!(e["result"], "failed");
    assert_eq!(e["points"], 2);
    assert_eq!(e["values"].as_array().unwrap().len(), 2);
    assert!(e["message"]
        .as_str()
        .unwrap()
        .starts_with("a == 0.84 within 0.01: "));
    assert_eq!(r["expects"][1]["result"], "passed");
    assert!(r["diff"]
        .as_str()
        .unwrap()
        .starts_with("--- expected\n+++ actual\n"));
    assert_eq!(
        lines[1],
        serde_json::json!({"passed": 0, "failed": 1, "points": 3, "max_points": 5})
    );
}

#[test]
fn junit_report_for_ci() {
    let tmp = tempfile::tempdir().unwrap();
    let (t, st) = assignment(tmp.path(), TEACHER);
    let xml_path = tmp.path().join("out/report.xml");
    fs::create_dir(tmp.path().join("out")).unwrap();
    let out = check(&[s(&st), "--against", s(&t), "--junit", s(&xml_path)]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    // the text report is still on stdout
    assert!(
        out.stdout.ends_with("1 passed, 0 failed\nscore: 5/5\n"),
        "{}",
        out.stdout
    );
    let xml = fs::read_to_string(&xml_path).unwrap();
    assert!(
        xml.contains("<testsuite name=\"losslang check\" tests=\"3\" failures=\"0\""),
        "{xml}"
    );
    assert!(
        xml.contains("name=\"expect a == 0.84 within 0.01 (2 points)\""),
        "{xml}"
    );
    assert!(
        xml.contains("name=\"expect close to every point: mse &lt; 0.03 (3 points)\" file="),
        "{xml}"
    );
    assert_eq!(fs::read_dir(tmp.path().join("out")).unwrap().count(), 1);
    // a folder that does not exist: a command-line error, and no file
    let bad = tmp.path().join("nope/report.xml");
    let out = check(&[s(&st), "--against", s(&t), "--junit", s(&bad)]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert_contains(&out.stderr, "cannot write the JUnit report");
}

#[test]
fn nothing_to_check_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    fs::create_dir(d.join("empty")).unwrap();
    let out = check(&[s(&d.join("empty"))]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert_contains(&out.stderr, "no .loss scripts under");
    put(d, "hw/a.loss", "print 1;\n");
    let out = check(&[s(&d.join("hw"))]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stderr
            .contains("has 1 script but no expected file beside it"),
        "{}",
        out.stderr
    );
}

#[test]
fn an_expected_file_that_is_not_ours() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    put(d, "a.loss", "print 1;\n");
    fs::write(d.join("a.expected"), b"1.0\n\x89PNG\r\n\x1a\n").unwrap();
    put(d, "b.loss", "print 1;\n");
    put(d, "b.expected", "1.0\n--- exit\n");
    let out = check(&[s(d)]);
    assert_eq!(out.code, Some(2), "{}", out.describe());
    assert!(
        out.stdout.contains(&format!(
            "cannot read expected file {}: line 2: not UTF-8",
            s(&d.join("a.expected"))
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains(&format!(
            "cannot read expected file {}: line 2: malformed exit marker",
            s(&d.join("b.expected"))
        )),
        "{}",
        out.stdout
    );
}

/// An expected file blessed before this version (no points, the whole
/// report) still passes, and a meant-to-fail script is still checked.
#[test]
fn old_expected_files_keep_working() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    put(d, "a.loss", "param x = 2;\nminimize (x-1)^2 with sgd(lr=0.1) for 50 steps;\nexpect x == 1 within 0.01;\n");
    let out = run_args(&["run", s(&d.join("a.loss"))], None);
    put(d, "a.expected", &out.stdout);
    put(
        d,
        "bad.loss",
        "param x = 1;\nminimize x^2 with sgd(lr=-1) for 3 steps;\n",
    );
    let out = check(&["--bless", s(&d.join("bad.loss"))]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let out = check(&[s(d)]);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    assert!(
        out.stdout.ends_with("2 passed, 0 failed\n"),
        "{}",
        out.stdout
    );
}
