//! The command line as a user meets it (issue 12): output that streams as
//! statements finish, a closed pipe, Ctrl-C, flags that must go together,
//! the complete `--json` error object, every syntax error (capped) in
//! linear time, and the small rules (a BOM, the seed range, the step limit,
//! summarized tensors, the hint for an undeclared assignment).

mod common;

use common::interrupt::Running;
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::BIN;

/// A script in a temporary folder.
fn script(text: &[u8]) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.loss");
    std::fs::write(&path, text).unwrap();
    let p = path.to_string_lossy().into_owned();
    (dir, p)
}

fn run(args: &[&str]) -> (String, String, Option<i32>) {
    let out = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// A run long enough to be caught in the middle (several seconds).
const LONG: &str = "print \"starting\";\nparam w[100] = 0;\n\
    minimize sum((w-1)^2) with adam(lr=0.001) for 5000000 steps;\nprint \"done\";\n";

#[test]
fn output_appears_when_its_statement_finishes() {
    let (_d, path) = script(LONG.as_bytes());
    let mut run = Running::start(Path::new(&path), false);
    run.read_until_line("starting");
    assert_eq!(run.seen, "starting\n");
    assert!(run.is_running(), "`starting` came only after the run ended");
}

#[test]
fn stdout_and_stderr_stay_in_statement_order() {
    let (_d, path) = script(b"print 1;\nprint 2;\nlet b = qqq(1);\n");
    let out = Command::new("sh")
        .args(["-c", &format!("'{BIN}' run '{path}' 2>&1")])
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = text.lines().take(3).collect();
    assert_eq!(lines[..2], ["1.0", "2.0"], "{text}");
    assert!(lines[2].starts_with("error[E0200]"), "{text}");
}

#[test]
fn a_closed_pipe_ends_the_run_quietly() {
    let (_d, path) = script(
        b"param x = -1;\nparam y = 2;\n\
          minimize (1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 with adam(lr=0.01) for 20000 steps;\n",
    );
    // text output long enough that writes go on after the reader is gone
    let (_t, prints) = script("print \"a line of text\";\n".repeat(20_000).as_bytes());
    for args in [
        vec!["run", &path, "--json", "--trace"],
        vec!["run", &prints],
    ] {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 600];
        let mut stdout = child.stdout.take().unwrap();
        let _ = stdout.read(&mut head);
        drop(stdout); // `| head -c 600` exits
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !stderr.contains("panicked") && !stderr.contains("internal failure"),
            "{args:?}: {stderr}"
        );
        assert!(
            matches!(out.status.code(), Some(0) | Some(141)),
            "{:?}",
            out.status
        );
    }
}

#[test]
fn ctrl_c_exits_130_after_keeping_the_best_point() {
    let (_d, path) = script(LONG.as_bytes());
    let mut run = Running::start(Path::new(&path), false);
    run.read_until_line("starting");
    let (rest, _) = run.interrupt_expecting_130(Duration::from_millis(300));
    // The minimization stopped, reported, and the script went on.
    assert!(rest.contains("interrupted"), "{rest}");
    assert!(rest.ends_with("done\n"), "{rest}");
}

#[test]
fn trace_without_json_is_a_command_line_error() {
    let (_d, path) = script(b"print 1;\n");
    let (out, err, code) = run(&["run", &path, "--trace"]);
    assert_eq!(code, Some(2), "{out}{err}");
    assert!(err.contains("--json"), "{err}");
}

#[test]
fn json_time_goes_into_the_object() {
    let (_d, path) = script(b"print 1;\n");
    let (out, _, code) = run(&["run", &path, "--json", "--time"]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(out.trim()).expect("stdout is one JSON object");
    assert!(v["time_ms"].as_f64().is_some_and(|t| t >= 0.0), "{v}");
}

#[test]
fn time_reports_the_compile_time_of_the_tapes() {
    let (_d, path) = script(
        b"param x = 1;\nminimize (x - 2)^2 with adam(lr=0.1) for 5 steps;\nminimize x^4 + x;\n",
    );
    let (out, _, code) = run(&["run", &path, "--json", "--time"]);
    assert_eq!(code, Some(0));
    let v: Value = serde_json::from_str(out.trim()).expect("stdout is one JSON object");
    let (total, compile) = (v["time_ms"].as_f64(), v["compile_ms"].as_f64());
    assert!(
        compile.zip(total).is_some_and(|(c, t)| c > 0.0 && c <= t),
        "{v}"
    );
    let (out, _, code) = run(&["run", &path, "--time"]);
    assert_eq!(code, Some(0));
    let last = out.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("time: ")
            && last.contains(" ms (compiling tapes: ")
            && last.ends_with(" ms)"),
        "{last}"
    );
}

#[test]
fn the_json_error_object_is_complete() {
    let (_d, path) = script(b"param x = 1;\nlet a = ;\nprint x +* 2;\n");
    let (out, _, code) = run(&["run", &path, "--json"]);
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let e = &v["error"];
    assert_eq!(e["code"], "E0100", "{e}");
    assert_eq!(
        (e["line"].as_u64(), e["column"].as_u64()),
        (Some(2), Some(9))
    );
    assert_eq!(
        (e["end_line"].as_u64(), e["end_column"].as_u64()),
        (Some(2), Some(10))
    );
    assert_eq!(e["message"], "unexpected `;`");
    assert_eq!(e["labels"][0]["primary"], true, "{e}");
    assert!(e["labels"][0]["message"]
        .as_str()
        .unwrap()
        .contains("expected"));
    assert!(e["notes"].is_array() && e.get("help").is_some(), "{e}");
    let errors = e["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{e}");
    assert_eq!(errors[1]["line"], 3);
    // A runtime error and a failed expect carry the same fields.
    let (_d, path) = script(b"param x = 1;\nlet a = qqq(1);\n");
    let (out, _, _) = run(&["run", &path, "--json"]);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["error"]["code"], "E0200");
    assert!(v["error"]["help"].as_str().is_some(), "{v}");
    let (_d, path) = script(b"param x = 1;\nexpect x == 2;\nexpect x == 3;\n");
    let (out, _, _) = run(&["run", &path, "--json"]);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        (v["error"]["code"].as_str(), v["error"]["line"].as_u64()),
        (Some("E0401"), Some(2))
    );
    assert_eq!(v["error"]["errors"].as_array().map(Vec::len), Some(2));
}

#[test]
fn syntax_errors_are_capped_at_20_and_fast() {
    let (_d, path) = script("print ](1);\n".repeat(25).as_bytes());
    let (_, err, code) = run(&["run", &path]);
    assert_eq!(code, Some(1));
    assert_eq!(err.matches("error[E0100]").count(), 20, "{err}");
    assert!(err.contains("and 5 more syntax errors"), "{err}");
    let (_d, path) = script("print ](1);\n".repeat(40_000).as_bytes());
    let t = Instant::now();
    let (_, err, code) = run(&["run", &path]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("and 39980 more"),
        "{}",
        &err[err.len().saturating_sub(200)..]
    );
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
    // 4,000 errors on one 48 KB line: the line is clipped, not reprinted.
    let (_d, path) = script("print ](1); ".repeat(4000).as_bytes());
    let (_, err, _) = run(&["run", &path]);
    assert!(err.len() < 20_000, "{} bytes of diagnostics", err.len());
}

#[test]
fn small_rules() {
    // A byte order mark is not part of the script.
    let (_d, path) = script(b"\xef\xbb\xbfprint 1;\n");
    assert_eq!(run(&["run", &path]).0, "1.0\n");
    // `seed` takes what `--seed` takes.
    let (_d, path) = script(b"seed 18446744073709551615;\nprint rand([1]);\n");
    let (a, err, code) = run(&["run", &path]);
    assert_eq!(code, Some(0), "{err}");
    let (_d, path) = script(b"print rand([1]);\n");
    let (b, _, _) = run(&["run", &path, "--seed", "18446744073709551615"]);
    assert_eq!(a, b);
    // The step limit is named.
    let (_d, path) = script(b"param x = 1;\nminimize x^2 with sgd for 10000000000 steps;\n");
    let (_, err, _) = run(&["run", &path]);
    assert!(err.contains("1000000000 (1e9)"), "{err}");
    // Big tensors print summarized; --json keeps every value.
    let (_d, path) = script(b"print zeros([100, 100]);\n");
    let (out, _, _) = run(&["run", &path]);
    assert!(out.len() < 1000 && out.contains(", ..., "), "{out}");
    let (out, _, _) = run(&["run", &path, "--json"]);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(
        v["results"][0]["values"][0].as_array().map(Vec::len),
        Some(100)
    );
    // Python's `x = 3` on an undeclared name.
    let (_d, path) = script(b"x = 3;\n");
    let (_, err, _) = run(&["run", &path]);
    assert!(err.contains("declare it with `param x = 3;`"), "{err}");
}

#[test]
fn stdin_script_with_json_error_from_the_command_line() {
    // A script that cannot be read still gives the complete object.
    let (out, _, code) = run(&["run", "/nonexistent/x.loss", "--json"]);
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["error"]["code"], "E0500");
    assert_eq!(v["error"]["errors"].as_array().map(Vec::len), Some(1));
    let out = common::run_args(&["run", "-"], Some(b"print 2;\n"));
    assert_eq!(out.stdout, "2.0\n");
}

#[test]
fn missing_files_and_folders_are_named_in_full() {
    let (d, path) = script(b"let t = csv(\"nodata.csv\");\n");
    let (_, err, code) = run(&["run", &path]);
    assert_eq!(code, Some(1));
    let full = d.path().join("nodata.csv");
    assert!(
        err.contains(&format!("there is no file `{}`", full.display())),
        "{err}"
    );
    let (d, path) = script(b"plot sin(t) over t in [0, 1] to \"nofolder/a.svg\";\n");
    let (_, err, code) = run(&["run", &path]);
    assert_eq!(code, Some(1));
    let full = d.path().join("nofolder");
    assert!(
        err.contains(&format!("there is no folder `{}`", full.display())),
        "{err}"
    );
    assert!(err.contains("mkdir -p nofolder"), "{err}");
}

#[test]
fn maximize_is_one_truth_in_text_and_json() {
    let (_d, path) = script(b"param x = 0;\nmaximize -(x - 1)^2 with adam(lr=0.1) for 5 steps;\n");
    let (out, _, code) = run(&["run", &path]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("maximize=true") && !out.contains("maximize=false"),
        "{out}"
    );
    let (out, _, _) = run(&["run", &path, "--json"]);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    let r = &v["results"][0];
    assert_eq!(
        (&r["maximize"], &r["options"]["maximize"]),
        (&Value::Bool(true), &Value::Bool(true)),
        "{r}"
    );
}

#[test]
fn a_nan_stop_keeps_the_best_finite_point_and_reports_what_ran() {
    // sgd(lr=1) on sqrt(x) from 1: x = 0.5 (loss 0.707), then -0.207 (nan)
    let (_d, path) =
        script(b"param x = 1;\nminimize sqrt(x) with sgd(lr=1) for 10 steps;\nprint x;\n");
    let (out, err, code) = run(&["run", &path]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        out.starts_with("minimize with sgd(")
            && out.contains(
                ": 2 steps (stopped at step 3 by a non-finite value: kept the best finite point)"
            )
            && out.contains("x = 0.5\n"),
        "{out}"
    );
    assert!(
        err.contains("error[E0400]: minimization stopped at step 3: the loss is nan")
            && err.contains("the parameters are left at the best finite point"),
        "{err}"
    );
    // the print after it did not run: the error ends the script
    assert!(!out.ends_with("0.5\n0.5\n"), "{out}");
    let (out, _, code) = run(&["run", &path, "--json"]);
    assert_eq!(code, Some(1));
    let v: Value = serde_json::from_str(&out).unwrap();
    let rec = &v["results"][0];
    assert_eq!(rec["kind"], "minimize");
    assert_eq!(rec["stopped"], "nonfinite");
    assert_eq!(rec["steps"], 2);
    assert_eq!(rec["params"]["x"], 0.5);
    assert_eq!(rec["loss"].as_f64(), Some(0.5f64.sqrt()));
    assert_eq!(v["error"]["code"], "E0400");
}

#[test]
fn a_nan_at_the_start_leaves_the_parameters_unchanged() {
    let (_d, path) = script(b"param x = -1;\nminimize sqrt(x) with adam for 10 steps;\n");
    let (out, err, code) = run(&["run", &path, "--json"]);
    assert_eq!(code, Some(1), "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["results"], serde_json::json!([]), "{v}");
    let (out, err, _) = run(&["run", &path]);
    assert_eq!(out, "");
    assert!(err.contains("= the parameters are unchanged"), "{err}");
}

#[test]
fn a_run_that_walks_off_ends_with_a_warning() {
    let (_d, path) = script(b"param x = 1;\nmaximize x^3 with adam(lr=0.1);\nprint \"after\";\n");
    let (out, err, code) = run(&["run", &path]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.ends_with("after\n"), "{out}");
    assert!(
        err.starts_with("warning[E0408]: the loss was still rising fast after 1000 steps: the objective may have no maximum")
            && err.contains("help: give the parameters limits"),
        "{err}"
    );
    // a parameter that walks off is named; `--json` stays ok
    let (_d, path) =
        script(b"param w[3] = 1;\nminimize -sum(w) + 0*w[0] with adam(lr=0.5) for 1000 steps;\n");
    let (out, err, code) = run(&["run", &path, "--json"]);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("`w[0]` was still growing fast after 1000 steps"),
        "{err}"
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["ok"], true);
}

#[test]
fn converging_and_limited_runs_get_no_runaway_warning() {
    for text in [
        // converges far from its start: (x - 500)^2
        "param x = 0;\nminimize (x - 500)^2 with adam(lr=10) for 2000 steps;\n",
        // the same walk as above, but the limits stop it
        "param x = 1 in [-300, 300];\nmaximize x^3 with adam(lr=0.1);\n",
        // too short to judge
        "param x = 1;\nmaximize x^3 with sgd(lr=0.01) for 10 steps;\n",
    ] {
        let (_d, path) = script(text.as_bytes());
        let (_, err, code) = run(&["run", &path]);
        assert_eq!(code, Some(0), "{text}: {err}");
        assert!(!err.contains("E0408"), "{text}: {err}");
    }
}

/// `(stdout, stderr, exit)` of a script run as `losslang run` (`--json` if asked).
fn run_script(text: &str, json: bool) -> (String, String, Option<i32>) {
    let (_d, path) = script(text.as_bytes());
    let mut args = vec!["run", path.as_str()];
    if json {
        args.push("--json");
    }
    run(&args)
}

#[test]
fn a_minuit_run_that_ends_non_finite_keeps_its_best_point() {
    // (script, algorithm, what the end is, the kept value of x, its loss)
    // MIGRAD (numeric) and SIMPLEX walk -1e100*x and -exp(x^2) until the
    // objective overflows to -inf; every point of SCAN's grid is nan.
    let cases = [
        (
            "param x = 1;\nminimize -1e100*x with migrad(grad=\"numeric\");\nprint x;\n",
            "migrad",
            "-inf",
            Some(1.4551165496876022e208),
        ),
        (
            "param x = 1;\nminimize -exp(x^2) with simplex;\nprint x;\n",
            "simplex",
            "-inf",
            Some(21.47000000000002),
        ),
        (
            "param x = -1.5 in [-2, -1];\nminimize sqrt(x) with scan;\nprint x;\n",
            "scan",
            "nan",
            None,
        ),
    ];
    for (text, algo, end, kept) in cases {
        let (out, err, code) = run_script(text, false);
        assert_eq!(code, Some(1), "{text}: {err}");
        let head = out.lines().next().unwrap_or_default();
        let keeps = match kept {
            Some(_) => "(kept the best point seen)",
            None => "(no finite value seen: the parameters are unchanged)",
        };
        assert!(
            head.starts_with(&format!("minimize with {algo}("))
                && head.contains(&format!("the objective is {end} at its last point"))
                && head.ends_with(keeps),
            "{text}: {out}"
        );
        assert!(
            err.starts_with(&format!(
                "error[E0400]: {algo} stopped: the objective is {end} at its last point"
            )) && err.contains("2:10"),
            "{text}: {err}"
        );
        let note = match kept {
            Some(_) => "the parameters are left at the best finite point seen",
            None => "= the parameters are unchanged",
        };
        assert!(err.contains(note), "{text}: {err}");
        // the error ends the script: the `print x` after it did not run
        assert_eq!(
            out.lines().count(),
            2 + usize::from(kept.is_some()),
            "{out}"
        );
        let (out, _, code) = run_script(text, true);
        assert_eq!(code, Some(1));
        let v: Value = serde_json::from_str(&out).unwrap();
        let rec = &v["results"][0];
        assert_eq!(
            (&rec["kind"], &rec["optimizer"], &rec["stopped"]),
            (
                &Value::from("minimize"),
                &Value::from(algo),
                &Value::from("nonfinite")
            ),
            "{v}"
        );
        let x = rec["params"]["x"].as_f64();
        assert_eq!(x, Some(kept.unwrap_or(-1.5)), "{text}: {rec}");
        if kept.is_some() {
            // the loss recorded is the objective at the point kept
            let loss = rec["loss"].as_f64().unwrap_or(f64::NAN);
            assert!(loss.is_finite() && loss < -1e100, "{rec}");
        }
        assert_eq!(v["error"]["code"], "E0400");
    }
}

#[test]
fn a_big_parameter_is_summarized_in_its_report() {
    let (out, _, code) = run_script(
        "param w2[256, 256] = 0.5;\nminimize sum((w2 - 1)^2) with adam(lr=0.1) for 3 steps;\n",
        false,
    );
    assert_eq!(code, Some(0));
    let row = out
        .lines()
        .find(|l| l.trim_start().starts_with("w2 = "))
        .unwrap_or_else(|| panic!("no w2 in {out}"));
    assert!(
        row.contains(", ..., ") && out.len() < 4000,
        "{} bytes",
        out.len()
    );
    let (out, _, _) = run_script(
        "param w2[256, 256] = 0.5;\nminimize sum((w2 - 1)^2) with adam(lr=0.1) for 3 steps;\n",
        true,
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    let w = v["results"][0]["params"]["w2"].as_array().map(Vec::len);
    assert_eq!(w, Some(256), "--json keeps every value");
}

#[test]
fn on_a_terminal_output_streams_in_statement_order() {
    use rexpect::process::wait::WaitStatus;
    // the first line appears while the long minimization still runs
    let (_d, path) = script(LONG.as_bytes());
    let mut c = Command::new(BIN);
    c.args(["run", &path]).env("NO_COLOR", "1");
    let mut p = rexpect::session::spawn_command(c, Some(30_000)).unwrap();
    p.exp_string("starting").unwrap();
    assert_eq!(p.process.status(), Some(WaitStatus::StillAlive));
    p.process.exit().unwrap();
    // stdout and stderr on one terminal, in the order the statements ran
    let (_d, path) = script(b"print 1;\nprint 2;\nlet b = qqq(1);\n");
    let mut c = Command::new(BIN);
    c.args(["run", &path]).env("NO_COLOR", "1");
    let mut p = rexpect::session::spawn_command(c, Some(30_000)).unwrap();
    let all = p.exp_eof().unwrap();
    let lines: Vec<&str> = all.lines().map(str::trim_end).take(3).collect();
    assert_eq!(lines[..2], ["1.0", "2.0"], "{all}");
    assert!(lines[2].starts_with("error[E0200]"), "{all}");
}
