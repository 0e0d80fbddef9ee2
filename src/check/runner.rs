//! Running one script for `check`, with a time limit.
//!
//! Each script runs in a child process of the same binary
//! (`losslang check-run FILE`, a hidden subcommand), which runs it in
//! process as `losslang run` would (diagnostics without colour) and prints
//! one JSON object: its stdout, stderr, exit status and `expect` records.
//! The parent waits at most `--timeout` seconds and then kills the child.
//!
//! Why a process and not a thread: the interpreter can be busy where no
//! flag is looked at (lowering a large graph, one long tensor operation, a
//! tape evaluation), a thread cannot be stopped from outside, and an
//! abandoned one would keep a core busy while the next scripts run. A child
//! process is stopped at once whatever it does, and a script that crashes
//! (a stack overflow, an abort) fails its own check instead of ending the
//! whole check. A process costs about 10 ms per script (20 runs of a
//! one-line script took 0.21 s on a shared 2-core machine).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{Captured, ExpectRecord, Run};
use crate::interp::{Options, Session};

/// The hidden subcommand a child runs.
pub const CHILD_COMMAND: &str = "check-run";

/// Runs scripts in child processes of `exe`, each for at most `timeout`.
pub struct ChildRunner {
    exe: PathBuf,
    timeout: Duration,
}

impl ChildRunner {
    /// A runner using the running binary.
    pub fn current(timeout: Duration) -> std::io::Result<ChildRunner> {
        Ok(ChildRunner {
            exe: std::env::current_exe()?,
            timeout,
        })
    }

    /// Runs one script.
    pub fn run(&self, script: &Path) -> Run {
        let mut child = match Command::new(&self.exe)
            .arg(CHILD_COMMAND)
            .arg(script)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => return Run::Crashed(format!("cannot start {}: {e}", self.exe.display())),
        };
        // Read both pipes while waiting, so a chatty child never blocks.
        let drain = |mut r: Box<dyn Read + Send>| {
            std::thread::spawn(move || {
                let mut b = Vec::new();
                let _ = r.read_to_end(&mut b);
                b
            })
        };
        let out = child.stdout.take().map(|s| drain(Box::new(s)));
        let err = child.stderr.take().map(|s| drain(Box::new(s)));
        let deadline = Instant::now() + self.timeout;
        let mut pause = Duration::from_millis(1);
        let status = loop {
            match child.try_wait() {
                Ok(Some(st)) => break Some(st),
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
                Ok(None) => {
                    std::thread::sleep(
                        pause.min(deadline.saturating_duration_since(Instant::now())),
                    );
                    pause = (pause * 2).min(Duration::from_millis(20));
                }
                Err(e) => return Run::Crashed(format!("cannot wait for the run: {e}")),
            }
        };
        let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
            h.and_then(|h| h.join().ok()).unwrap_or_default()
        };
        let (out, err) = (join(out), join(err));
        let Some(status) = status else {
            return Run::TimedOut;
        };
        match parse_envelope(&out) {
            Some(c) => Run::Finished(c),
            None => Run::Crashed(format!(
                "the run ended without a result ({status}){}",
                match String::from_utf8_lossy(&err).trim() {
                    "" => String::new(),
                    e => format!(": {e}"),
                }
            )),
        }
    }
}

/// Reads what a child printed.
fn parse_envelope(bytes: &[u8]) -> Option<Captured> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let text = |k: &str| v.get(k)?.as_str().map(str::to_string);
    let expects = v
        .get("expects")?
        .as_array()?
        .iter()
        .filter_map(record_from_json)
        .collect();
    Some(Captured {
        stdout: text("stdout")?,
        stderr: text("stderr")?,
        status: v.get("status")?.as_i64()? as i32,
        expects,
    })
}

/// An expect record of `losslang run --json` (SPEC 1.1).
fn record_from_json(r: &Value) -> Option<ExpectRecord> {
    Some(ExpectRecord {
        line: r.get("line")?.as_u64()? as usize,
        message: r.get("message")?.as_str()?.to_string(),
        passed: r.get("passed")?.as_bool()?,
        values: r
            .get("values")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
        points: r.get("points").and_then(Value::as_u64),
    })
}

/// The child's side: runs the script in process and prints the envelope.
/// Returns the exit status for the child process (0: it reported).
pub fn child_main(script: &Path) -> i32 {
    let c = capture(script);
    let expects: Vec<Value> = c
        .expects
        .iter()
        .map(|e| {
            json!({"line": e.line, "message": e.message, "passed": e.passed,
                "values": e.values, "points": e.points})
        })
        .collect();
    let v = json!({"stdout": c.stdout, "stderr": c.stderr, "status": c.status, "expects": expects});
    println!("{v}");
    0
}

/// Runs one script in this process, capturing its output.
pub fn capture(path: &Path) -> Captured {
    let src = match std::fs::read(path) {
        Ok(b) => match String::from_utf8(b) {
            Ok(s) => s,
            Err(e) => {
                return unreadable(
                    path,
                    &format!(
                        "it is not UTF-8 text (invalid byte at offset {})",
                        e.utf8_error().valid_up_to()
                    ),
                )
            }
        },
        Err(e) => return unreadable(path, &e.to_string()),
    };
    let out = SharedBuf::default();
    let err = SharedBuf::default();
    let mut session = Session::new(
        Options::default(),
        Box::new(out.clone()),
        Box::new(err.clone()),
    );
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        session.base_dir = dir.to_path_buf();
    }
    let outcome = session.run_source(&path.display().to_string(), &src);
    session.flush();
    let expects = session
        .records
        .iter()
        .filter(|r| r.get("kind").and_then(Value::as_str) == Some("expect"))
        .filter_map(record_from_json)
        .collect();
    drop(session);
    Captured {
        stdout: out.text(),
        stderr: err.text(),
        status: outcome.exit_code(),
        expects,
    }
}

fn unreadable(path: &Path, why: &str) -> Captured {
    Captured {
        stdout: String::new(),
        stderr: format!("error[E0500]: cannot read `{}`: {why}\n", path.display()),
        status: 1,
        expects: Vec::new(),
    }
}

/// A writer whose bytes can be read back after the session is done.
#[derive(Clone, Default)]
struct SharedBuf(std::rc::Rc<std::cell::RefCell<Vec<u8>>>);

impl SharedBuf {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.borrow()).into_owned()
    }
}

impl std::io::Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
