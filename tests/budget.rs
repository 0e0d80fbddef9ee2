//! The memory budget (src/budget.rs) as a user meets it: under an
//! address-space cap (`ulimit -v`) or a small `LOSSLANG_MEMORY`, statements
//! that would exhaust memory end in a diagnostic and status 1 (or a record
//! cut short and said so), never in an abort on signal 6. Each case here
//! aborted before the budget existed.

mod common;

use common::{TempScript, BIN};
use serde_json::{json, Value};
use std::os::unix::process::ExitStatusExt;
use std::process::Command;

/// An address-space cap for the capped runs: 1 GB.
const CAP_KB: u64 = 1_000_000;

struct Run {
    code: Option<i32>,
    signal: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `losslang ARGS` through `sh` with `ulimit -v cap_kb` (when given)
/// and the environment `env`.
fn run(cap_kb: Option<u64>, env: &[(&str, &str)], args: &[&str]) -> Run {
    let limit = cap_kb.map_or(String::new(), |k| format!("ulimit -v {k}; "));
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(format!("{limit}exec \"$0\" \"$@\""))
        .arg(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("LOSSLANG_MEMORY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run losslang");
    Run {
        code: out.status.code(),
        signal: out.status.signal(),
        stdout: String::from_utf8_lossy(&out.stdout).into(),
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

fn refused(r: &Run) {
    assert_eq!(r.signal, None, "killed by a signal: {}", r.stderr);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr.contains("error[E0409]: not enough memory"),
        "{}",
        r.stderr
    );
}

const BIG: &str =
    "let a = zeros([16384, 16384]);\nprint sum(a + 1), sum(a * 2), sum(exp(a) - a);\n";

#[test]
fn a_4_gib_statement_is_refused_under_an_address_space_cap() {
    let f = TempScript::new(BIG);
    let r = run(Some(CAP_KB), &[], &["run", f.path_str()]);
    refused(&r);
    assert!(r.stderr.contains(":1:15"), "{}", r.stderr);
    assert!(
        r.stderr.contains("a [16384, 16384] tensor needs 2.0 GiB"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("address-space limit (ulimit -v"),
        "{}",
        r.stderr
    );
}

#[test]
fn losslang_memory_sets_the_budget() {
    let f = TempScript::new(BIG);
    let r = run(None, &[("LOSSLANG_MEMORY", "512M")], &["run", f.path_str()]);
    refused(&r);
    assert!(
        r.stderr.contains("the budget is LOSSLANG_MEMORY=512M"),
        "{}",
        r.stderr
    );
    // The JSON object carries the same error.
    let r = run(
        None,
        &[("LOSSLANG_MEMORY", "512M")],
        &["run", f.path_str(), "--json"],
    );
    let v: Value = serde_json::from_str(r.stdout.trim()).expect("one JSON object");
    assert_eq!(v["error"]["code"], "E0409", "{v}");
    assert_eq!(v["error"]["line"], 1);
    // A value that is not a size is an error, not ignored.
    let f = TempScript::new("print sum(ones([3]));\n");
    let r = run(None, &[("LOSSLANG_MEMORY", "lots")], &["run", f.path_str()]);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("error[E0409]: LOSSLANG_MEMORY=`lots` is not a size"),
        "{}",
        r.stderr
    );
}

/// A tape's buffers are checked before it runs: the statement is named,
/// and the largest value's shape.
#[test]
fn a_tape_too_big_for_the_budget_names_its_largest_value() {
    let f = TempScript::new("let a = rand([3000, 1000]);\nprint sum(a @ transpose(a));\n");
    let r = run(None, &[("LOSSLANG_MEMORY", "100M")], &["run", f.path_str()]);
    refused(&r);
    assert!(r.stderr.contains(":2:7"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the largest value here has shape [3000, 3000] (68.7 MiB)"),
        "{}",
        r.stderr
    );
    // With room, the same script runs.
    let r = run(None, &[("LOSSLANG_MEMORY", "2G")], &["run", f.path_str()]);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
}

#[test]
fn csv_of_dev_zero_ends_with_a_diagnostic() {
    let f = TempScript::new("let t = csv(\"/dev/zero\");\nprint t;\n");
    let r = run(Some(CAP_KB), &[], &["run", f.path_str()]);
    assert_eq!(r.signal, None, "{}", r.stderr);
    assert_eq!(r.code, Some(1), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("error[E0404]: `/dev/zero` is larger than the limit of"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains(":1:13"), "{}", r.stderr);
}

/// The first result of `f` run with `--json --trace` under the address
/// space cap; asserts that the run succeeded.
fn traced_under_cap(f: &TempScript) -> Value {
    let r = run(
        Some(CAP_KB),
        &[],
        &["run", f.path_str(), "--json", "--trace"],
    );
    assert_eq!(r.signal, None, "{}", r.stderr);
    assert_eq!(r.code, Some(0), "{}", r.stderr);
    let mut v: Value = serde_json::from_str(r.stdout.trim()).expect("one JSON object");
    v["results"][0].take()
}

/// The JSON form of a long `--trace` path (about 3 KB a point) is cut to
/// the budget, and says so: the first points are kept, `path_dropped`
/// counts the rest and `path_cut` is true. 3,000,000 steps also pass the
/// recorder's own bound (8M values), so both cuts meet here.
#[test]
fn a_long_trace_is_cut_to_the_budget() {
    let steps = 3_000_000;
    let f = TempScript::new(&format!(
        "param x = 1;\nminimize x^2 with sgd(lr=0.0000001) for {steps} steps;\n"
    ));
    let m = &traced_under_cap(&f);
    let kept = m["path"].as_array().map_or(0, Vec::len);
    assert!(kept > 1000 && kept < 1_000_000, "{kept} points");
    assert_eq!(m["lr"].as_array().map(Vec::len), Some(kept));
    assert_eq!(m["path_cut"], true, "{}", m["path_dropped"]);
    // Complete, the path would hold a point per step and the result.
    let dropped = m["path_dropped"].as_u64().expect("path_dropped") as usize;
    assert_eq!(kept + dropped, steps + 1, "{kept} + {dropped}");
    // A short run's record is complete, and says that too.
    let f = TempScript::new("param x = 1;\nminimize x^2 with sgd for 3 steps;\n");
    let r = run(None, &[], &["run", f.path_str(), "--json", "--trace"]);
    let v: Value = serde_json::from_str(r.stdout.trim()).expect("one JSON object");
    let m = &v["results"][0];
    assert_eq!(m["path"].as_array().map(Vec::len), Some(4));
    assert_eq!(
        (&m["path_dropped"], &m["path_cut"]),
        (&json!(0), &json!(false))
    );
}

/// A scan over two parameters records at most its call-record bound; as
/// JSON that is still cut to the budget, with the dropped calls counted.
#[test]
fn a_scan_trace_is_cut_to_the_budget() {
    let f = TempScript::new(
        "param x = 1 in [0, 3]; param y = 2 in [0, 3];\nminimize (x - 1)^2 + (y - 2)^2 with scan(n=3000);\n",
    );
    let m = &traced_under_cap(&f);
    let kept = m["path"].as_array().map_or(0, Vec::len) as u64;
    let dropped = m["path_dropped"].as_u64().unwrap();
    // Every call is either in the path or counted as dropped.
    let nfcn = m["nfcn"].as_u64().unwrap();
    assert!(nfcn > 3000 * 3000, "{nfcn}");
    assert_eq!(kept + dropped, nfcn, "{kept} + {dropped}");
    assert!(kept > 1000, "{kept}");
    assert_eq!(m["path_cut"], true);
}

/// 1000-parameter numeric MIGRAD stays under 100 MB (it took 8.1 GB when
/// every call's point was recorded).
#[test]
fn numeric_migrad_on_1000_parameters_stays_under_100_mb() {
    if !std::path::Path::new("/usr/bin/time").exists() {
        eprintln!("skipped: no /usr/bin/time");
        return;
    }
    let f = TempScript::new(
        "param w[1000] = 0;\nminimize sum((w - 1)^2) with migrad(grad=\"numeric\");\n",
    );
    let out = Command::new("/usr/bin/time")
        .args(["-f", "maxrss_kb=%M", BIN, "run", f.path_str()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let kb: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kb="))
        .and_then(|v| v.trim().parse().ok())
        .expect("time's report");
    assert!(kb < 100_000, "{kb} KB");
}

/// Issue 20, finding 2: a billion-step run reserved its path for every step
/// up front (512 GB for a 64-element parameter) and aborted on signal 6
/// before its first step. Now the record grows as the run goes: this one
/// stops at step 2 (the loss overflows) in a few megabytes, with or without
/// `--trace`.
#[test]
fn a_billion_step_run_reserves_nothing_up_front() {
    let f = TempScript::new(
        "param w[64] ~ ones;\nminimize sum(w^2) with sgd(lr=1e300) for 1000000000 steps;\n",
    );
    for args in [
        &["run", f.path_str()][..],
        &["run", f.path_str(), "--json", "--trace"],
    ] {
        let r = run(Some(CAP_KB), &[], args);
        assert_eq!(r.signal, None, "{}", r.stderr);
        assert_eq!(r.code, Some(1), "{}{}", r.stdout, r.stderr);
        let all = format!("{}{}", r.stdout, r.stderr);
        assert!(all.contains("stopped at step 2"), "{all}");
        assert!(!all.contains("E0409"), "{all}");
    }
}
