//! Helpers shared by the integration tests: run the `losslang` binary on a
//! script held in a string (through a unique temporary file or standard
//! input), with a timeout so no test can hang; read its `--json` report;
//! compare numbers the way `shared/tools/refcheck.py` does (`num`, `close`);
//! and pick the source positions out of codespan-reporting's text
//! diagnostics. Each test binary uses its own subset, hence the
//! `dead_code` allowance.
#![allow(dead_code)]

pub mod figures;
pub mod interrupt;
pub mod repl;
pub mod tables;

use serde_json::Value;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The binary under test, built by cargo for the integration tests.
pub const BIN: &str = env!("CARGO_BIN_EXE_losslang");

/// How long one run may take before it counts as a hang (the reference
/// cases run in well under a second each).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// What one run of the binary produced.
#[derive(Clone, Debug)]
pub struct Output {
    pub stdout: String,
    pub stderr: String,
    /// Exit status; `None` when killed (timeout) or ended by a signal.
    pub code: Option<i32>,
    pub timed_out: bool,
}

impl Output {
    /// A short description for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit {:?}{}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.code,
            if self.timed_out { " (timed out)" } else { "" },
            clip(&self.stdout, 2000),
            clip(&self.stderr, 2000)
        )
    }

    /// Standard output parsed as exactly one JSON value (trailing
    /// whitespace allowed, anything else is an error).
    pub fn json(&self) -> Result<Value, String> {
        serde_json::from_str(&self.stdout).map_err(|e| {
            format!(
                "stdout is not one JSON value ({e}); {}",
                self.describe().replace('\n', " | ")
            )
        })
    }
}

/// Cuts `s` to at most `n` characters for messages.
pub fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let cut: String = s.chars().take(n).collect();
        format!("{cut}...")
    }
}

/// A script written to a unique file in the temporary directory, removed
/// when dropped.
pub struct TempScript {
    pub path: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A path in the temporary directory no other test (or test process) uses.
pub fn unique_path(suffix: &str) -> PathBuf {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "losslang-test-{}-{n}-{nanos}{suffix}",
        std::process::id()
    ))
}

impl TempScript {
    pub fn new(script: &str) -> TempScript {
        TempScript::from_bytes(script.as_bytes())
    }

    pub fn from_bytes(bytes: &[u8]) -> TempScript {
        let path = unique_path(".loss");
        std::fs::write(&path, bytes).expect("write temporary script");
        TempScript { path }
    }

    pub fn path_str(&self) -> &str {
        self.path.to_str().expect("temporary path is UTF-8")
    }
}

impl Drop for TempScript {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Runs the binary with `args`, feeding `stdin` (or nothing), with NO_COLOR
/// set, and kills it after `timeout`.
pub fn run_args_timeout(args: &[&str], stdin: Option<&[u8]>, timeout: Duration) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start the losslang binary");
    // Read both pipes on their own threads so a chatty child cannot block.
    let mut out_pipe = child.stdout.take().expect("stdout pipe");
    let mut err_pipe = child.stderr.take().expect("stderr pipe");
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out_pipe.read_to_end(&mut v);
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err_pipe.read_to_end(&mut v);
        v
    });
    let in_thread = stdin.map(|bytes| {
        let bytes = bytes.to_vec();
        let mut pipe = child.stdin.take().expect("stdin pipe");
        std::thread::spawn(move || {
            // The child may stop reading early (e.g. after an error).
            let _ = pipe.write_all(&bytes);
        })
    });
    let start = Instant::now();
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if start.elapsed() > timeout => {
                timed_out = true;
                let _ = child.kill();
                break child.wait().ok();
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(2)),
            Err(_) => break None,
        }
    };
    if let Some(t) = in_thread {
        let _ = t.join();
    }
    let stdout = out_thread.join().unwrap_or_default();
    let stderr = err_thread.join().unwrap_or_default();
    Output {
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        code: if timed_out {
            None
        } else {
            status.and_then(|s| s.code())
        },
        timed_out,
    }
}

/// `run_args_timeout` with the default timeout.
pub fn run_args(args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_args_timeout(args, stdin, TIMEOUT)
}

/// Runs `losslang run [flags...] FILE` on `script` written to a temporary
/// file; returns the output and the file's path as the diagnostics show it.
pub fn run_script_flags(script: &str, flags: &[&str]) -> (Output, String) {
    let file = TempScript::new(script);
    let mut args = vec!["run"];
    args.extend_from_slice(flags);
    args.push(file.path_str());
    let out = run_args(&args, None);
    (out, file.path_str().to_string())
}

/// Text mode: (stdout, stderr, exit code; -1 for a timeout or a signal).
pub fn run_text(script: &str) -> (String, String, i32) {
    let (out, _) = run_script_flags(script, &[]);
    (out.stdout, out.stderr, out.code.unwrap_or(-1))
}

/// `--json` (and `--trace` if asked): the parsed report, or why there is
/// none (timeout, no JSON on stdout), like refcheck.py's `run`.
pub fn run_json(script: &str, trace: bool) -> Result<Value, String> {
    let flags: &[&str] = if trace {
        &["--json", "--trace"]
    } else {
        &["--json"]
    };
    let (out, _) = run_script_flags(script, flags);
    if out.timed_out {
        return Err("timeout".to_string());
    }
    serde_json::from_str(&out.stdout).map_err(|_| {
        format!(
            "no JSON on stdout (exit {:?}): {}",
            out.code,
            clip(out.stderr.trim(), 200)
        )
    })
}

/// refcheck.py's `num`: a JSON number, or one of the strings "inf",
/// "-inf", "nan". Anything else is `None` (refcheck would raise).
pub fn num(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => match s.as_str() {
            "inf" => Some(f64::INFINITY),
            "-inf" => Some(f64::NEG_INFINITY),
            "nan" => Some(f64::NAN),
            _ => None,
        },
        _ => None,
    }
}

/// refcheck.py's `close` on two f64s: NaN only matches NaN, an infinity
/// only itself, else |a - b| <= atol + rtol * |b|.
pub fn close_f64(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    if a.is_nan() || b.is_nan() {
        return a.is_nan() && b.is_nan();
    }
    if a.is_infinite() || b.is_infinite() {
        return a == b;
    }
    (a - b).abs() <= atol + rtol * b.abs()
}

/// refcheck.py's `close` on JSON values (`b` is the reference); a value
/// that is not a number is never close.
pub fn close(a: &Value, b: &Value, rtol: f64, atol: f64) -> bool {
    match (num(a), num(b)) {
        (Some(x), Some(y)) => close_f64(x, y, rtol, atol),
        _ => false,
    }
}

/// Looks `key` up in a JSON object, giving `Value::Null` when absent.
pub fn get<'a>(v: &'a Value, key: &str) -> &'a Value {
    v.get(key).unwrap_or(&Value::Null)
}

/// The results of one kind ("print", "minimize", ...), in order.
pub fn results_of<'a>(report: &'a Value, kind: &str) -> Vec<&'a Value> {
    report
        .get("results")
        .and_then(Value::as_array)
        .map(|rs| {
            rs.iter()
                .filter(|r| r.get("kind").and_then(Value::as_str) == Some(kind))
                .collect()
        })
        .unwrap_or_default()
}

/// All printed values, in order (refcheck's `vals`).
pub fn printed_values(report: &Value) -> Vec<Value> {
    results_of(report, "print")
        .into_iter()
        .flat_map(|r| {
            r.get("values")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

/// Runs `script` with `--json --trace` and returns its one `minimize`
/// result, or why an ok report with exactly one is not what came back
/// (refcheck.py's first test of a minimizer case).
pub fn only_minimize(script: &str) -> Result<Value, String> {
    let out = run_json(script, true)?;
    match results_of(&out, "minimize")[..] {
        [m] if is_ok(&out) => Ok(m.clone()),
        _ => Err(format!(
            "not ok or no minimize result: {}",
            short(get(&out, "error"))
        )),
    }
}

/// Fails, showing all of `text`, unless `text` contains `part`.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "no {part:?} in:\n{text}");
}

/// `ok` of a report, false when missing.
pub fn is_ok(report: &Value) -> bool {
    report.get("ok").and_then(Value::as_bool) == Some(true)
}

/// A JSON value shortened for messages.
pub fn short(v: &Value) -> String {
    clip(&v.to_string(), 120)
}

/// The source positions codespan-reporting prints for each label, as
/// (file, line, column), from `--> FILE:LINE:COL` or `┌─ FILE:LINE:COL`.
pub fn locations(stderr: &str) -> Vec<(String, usize, usize)> {
    let mut found = Vec::new();
    for line in stderr.lines() {
        let t = line.trim_start();
        let rest = if let Some(r) = t.strip_prefix("-->") {
            r
        } else if let Some(r) = t.strip_prefix("┌─") {
            r
        } else {
            continue;
        };
        let mut parts = rest.trim().rsplitn(3, ':');
        let col = parts.next().and_then(|c| c.trim().parse::<usize>().ok());
        let ln = parts.next().and_then(|l| l.trim().parse::<usize>().ok());
        let file = parts.next().unwrap_or("").to_string();
        if let (Some(ln), Some(col)) = (ln, col) {
            found.push((file, ln, col));
        }
    }
    found
}

/// The line numbers of `locations`, in order.
pub fn diag_lines(stderr: &str) -> Vec<usize> {
    locations(stderr).into_iter().map(|(_, l, _)| l).collect()
}

/// Runs `f` on every item with `threads` worker threads; the results come
/// back in the items' order.
pub fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    f: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let out: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
    std::thread::scope(|s| {
        for _ in 0..threads.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= items.len() {
                    break;
                }
                let r = f(&items[i]);
                out.lock().unwrap_or_else(|e| e.into_inner()).push((i, r));
            });
        }
    });
    let mut out = out.into_inner().unwrap_or_else(|e| e.into_inner());
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Reads a reference file from `tests/reference/` and returns its cases.
pub fn reference_cases(name: &str) -> Vec<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("reference")
        .join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let v: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()));
    v.get("cases")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_else(|| panic!("{} has no cases", path.display()))
}

/// The id of a reference case.
pub fn case_id(case: &Value) -> String {
    case.get("id")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

/// Panics with every failure listed, if there is any.
pub fn assert_no_failures(what: &str, total: usize, failures: &[String]) {
    if !failures.is_empty() {
        panic!(
            "{} of {total} {what} cases fail:\n{}",
            failures.len(),
            failures.join("\n")
        );
    }
}

/// Runs `check` on every case of `tests/reference/{file}`, two at a time,
/// and fails listing every case that does not match (`what` names the suite).
pub fn check_every_case(file: &str, what: &str, check: impl Fn(&Value) -> Option<String> + Sync) {
    let cases = reference_cases(file);
    assert!(!cases.is_empty(), "{file} has no cases");
    let verdicts = parallel_map(&cases, 2, check);
    let failures: Vec<String> = cases
        .iter()
        .zip(verdicts)
        .filter_map(|(c, v)| v.map(|why| format!("{}: {why}", case_id(c))))
        .collect();
    assert_no_failures(what, cases.len(), &failures);
}
