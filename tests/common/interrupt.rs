//! Ctrl-C for a script run: start `losslang run FILE` with its standard
//! output piped, read it until a line says the statement to interrupt has
//! begun, send SIGINT (what a terminal sends for Ctrl-C), then read the rest
//! and check the exit status is 130. Shared by the tests of the command line
//! and of the interrupted Minuit statements.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

/// A `losslang run` whose standard output is read line by line.
pub struct Running {
    child: Child,
    stdout: BufReader<ChildStdout>,
    /// Everything read so far.
    pub seen: String,
}

impl Running {
    /// Starts `losslang run script` (stderr discarded unless `keep_stderr`).
    pub fn start(script: &Path, keep_stderr: bool) -> Running {
        let mut child = Command::new(super::BIN)
            .arg("run")
            .arg(script)
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(if keep_stderr {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .spawn()
            .expect("start the losslang binary");
        let stdout = BufReader::new(child.stdout.take().expect("stdout pipe"));
        Running {
            child,
            stdout,
            seen: String::new(),
        }
    }

    /// Reads whole lines until one equals `line`; panics if the output ends
    /// first.
    pub fn read_until_line(&mut self, line: &str) {
        loop {
            let mut l = String::new();
            let n = self.stdout.read_line(&mut l).expect("read stdout");
            assert!(n > 0, "the run ended before `{line}`: {}", self.seen);
            self.seen.push_str(&l);
            if l.trim_end_matches('\n') == line {
                return;
            }
        }
    }

    /// Whether the program is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().ok().flatten().is_none()
    }

    /// Waits `after`, sends SIGINT, reads the rest of standard output and
    /// checks that the program exits with status 130; returns the rest of
    /// stdout and the whole of stderr (empty when discarded).
    pub fn interrupt_expecting_130(mut self, after: Duration) -> (String, String) {
        std::thread::sleep(after);
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -INT failed");
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).expect("read stdout");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        let status = self.child.wait().expect("wait for losslang");
        assert_eq!(status.code(), Some(130), "{rest}\n--- stderr ---\n{err}");
        (rest, err)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if self.is_running() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
