//! The `losslang` command line (SPEC section 1): argument parsing, reading
//! the script, and exit codes. Everything else lives in the library.

use clap::{Args, Parser, Subcommand};
use losslang::check::{self, report, CheckOptions};
use losslang::interp::{Options, Session};
use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A failed allocation exits 1 with E0408, not an abort (src/budget.rs).
#[global_allocator]
static ALLOC: losslang::budget::Guarded = losslang::budget::Guarded;

#[derive(Parser)]
#[command(
    name = "losslang",
    version,
    about = "A small language for loss functions: torch.optim and Minuit on a differentiable expression graph",
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    cmd: Option<Cmd>,
    /// A script to run (the same as `losslang run FILE`)
    file: Option<PathBuf>,
    #[command(flatten)]
    flags: RunFlags,
}

#[derive(Args, Clone, Default)]
struct RunFlags {
    /// Print one JSON object with every result instead of the text report
    #[arg(long)]
    json: bool,
    /// With --json: record every point a minimizer visited (`path`)
    #[arg(long, requires = "json")]
    trace: bool,
    /// Seed the random generator (overrides the script's `seed`)
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// Print the run time at the end (makes the output non-deterministic);
    /// with --json it is the object's `time_ms`
    #[arg(long)]
    time: bool,
}

#[derive(Subcommand)]
enum Cmd {
    /// Run a script (`-` reads it from standard input)
    Run {
        file: PathBuf,
        #[command(flatten)]
        flags: RunFlags,
    },
    /// Check scripts against their expected outputs (X.loss with X.expected)
    Check {
        /// Files or directories to search (default: .)
        paths: Vec<PathBuf>,
        /// Write the expected files from the current output
        #[arg(long)]
        bless: bool,
        /// Relative tolerance for numbers
        #[arg(long, default_value_t = check::DEFAULT_RTOL)]
        rtol: f64,
        /// Absolute tolerance for numbers
        #[arg(long, default_value_t = check::DEFAULT_ATOL)]
        atol: f64,
        /// One JSON object per script (JSON Lines), for autograders
        #[arg(long)]
        json: bool,
        /// Compare each X.loss with DIR/X.expected (a teacher's solutions)
        #[arg(long, value_name = "DIR", conflicts_with = "bless")]
        against: Option<PathBuf>,
        /// Seconds a script may run before it fails
        #[arg(long, value_name = "S", default_value_t = check::DEFAULT_TIMEOUT, value_parser = positive_seconds)]
        timeout: f64,
        /// Also write a JUnit XML report to FILE
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
    },
    /// Runs one script for `check` and prints its results as JSON
    #[command(name = "check-run", hide = true)]
    CheckRun { file: PathBuf },
    /// The interactive REPL, after running FILE if given
    Repl { file: Option<PathBuf> },
    /// The Jupyter kernel: install its kernelspec, or run it
    #[command(subcommand)]
    Jupyter(JupyterCmd),
}

#[derive(Subcommand)]
enum JupyterCmd {
    /// Write the kernelspec (default: the active environment, else system-wide)
    Install {
        /// In the user's Jupyter data directory
        #[arg(long, conflicts_with = "prefix")]
        user: bool,
        /// Under DIR/share/jupyter/kernels
        #[arg(long, value_name = "DIR")]
        prefix: Option<PathBuf>,
    },
    /// Run the kernel (Jupyter starts this with its connection file)
    Kernel { connection_file: PathBuf },
}

/// Reads a script: `-` is standard input. Errors are ready to print.
fn read_script(path: &Path) -> Result<String, String> {
    let bytes = if path == Path::new("-") {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        b
    } else if path.is_dir() {
        return Err(format!(
            "cannot read `{}`: it is a directory, not a script",
            path.display()
        ));
    } else {
        std::fs::read(path).map_err(|e| {
            let why = match e.kind() {
                std::io::ErrorKind::NotFound => "no such file".to_string(),
                _ => e.to_string(),
            };
            format!("cannot read `{}`: {why}", path.display())
        })?
    };
    let mut text = String::from_utf8(bytes).map_err(|e| {
        format!(
            "cannot read `{}`: it is not UTF-8 text (invalid byte at offset {})",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })?;
    // Editors on Windows start UTF-8 files with a byte order mark; it is not
    // part of the script (csv headers get the same treatment).
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    Ok(text)
}

/// Exit status when standard output is closed under us (`| head`): what a
/// shell shows for a program ended by SIGPIPE, which is how `cat` ends.
const EXIT_CLOSED_PIPE: i32 = 141;

/// Exit status after Ctrl-C ended or cut short a run (128 + SIGINT).
const EXIT_INTERRUPTED: i32 = 130;

/// Set by the Ctrl-C handler, so that an interrupted run exits 130 even when
/// the minimization it stopped kept its best point and the script went on.
static INTERRUPTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Standard output for a run: statements flush as they finish, and a closed
/// pipe ends the program quietly instead of every later write failing.
struct Stdout(std::io::BufWriter<std::io::Stdout>);

impl Stdout {
    fn new() -> Stdout {
        Stdout(std::io::BufWriter::new(std::io::stdout()))
    }

    fn check<T>(r: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &r {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(EXIT_CLOSED_PIPE);
            }
        }
        r
    }
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        Stdout::check(self.0.write(buf))
    }
    // BufWriter's own `write_all` (the default one loops over `write`):
    // `--json` output arrives in thousands of small pieces
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        Stdout::check(self.0.write_all(buf))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Stdout::check(self.0.flush())
    }
}

fn color_stderr() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

fn run_file(file: &Path, flags: &RunFlags) -> i32 {
    let start = std::time::Instant::now();
    let src = match read_script(file) {
        Ok(s) => s,
        Err(msg) => {
            if flags.json {
                let v = serde_json::json!({"ok": false, "results": [],
                    "error": {"code": "E0500", "message": msg, "line": null, "column": null,
                        "labels": [], "notes": []}});
                let v = with_errors_list(v);
                let _ = writeln!(Stdout::new(), "{v}");
            }
            eprintln!("error[E0500]: {msg}");
            return 1;
        }
    };
    let opts = Options {
        json: flags.json,
        trace: flags.trace,
        seed: flags.seed,
        repl: false,
        color: color_stderr(),
        progress: std::io::stderr().is_terminal() && !flags.json,
    };
    let out: Box<dyn Write> = Box::new(Stdout::new());
    let mut session = Session::new(opts, out, Box::new(std::io::stderr()));
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        session.base_dir = dir.to_path_buf();
    }
    let name = if file == Path::new("-") {
        "<stdin>".to_string()
    } else {
        file.display().to_string()
    };
    let outcome = session.run_source(&name, &src);
    session.flush();
    let ms = start.elapsed().as_secs_f64() * 1e3;
    let compile_ms = session.compile_time().as_secs_f64() * 1e3;
    let mut stdout = Stdout::new();
    if flags.json {
        let mut report = session.json_report(&outcome);
        if flags.time {
            report["time_ms"] = serde_json::json!(ms);
            report["compile_ms"] = serde_json::json!(compile_ms);
        }
        // straight to the buffered stdout, not through `Display`'s adapter
        let _ = serde_json::to_writer(&mut stdout, &report);
        let _ = writeln!(stdout);
    } else if flags.time {
        let _ = writeln!(
            stdout,
            "time: {ms:.3} ms (compiling tapes: {compile_ms:.3} ms)"
        );
    }
    let _ = stdout.flush();
    if INTERRUPTED.load(std::sync::atomic::Ordering::SeqCst) {
        return EXIT_INTERRUPTED;
    }
    outcome.exit_code()
}

/// A `--json` error object that stands alone also lists itself in `errors`.
fn with_errors_list(mut v: serde_json::Value) -> serde_json::Value {
    let e = v["error"].clone();
    v["error"]["errors"] = serde_json::json!([e]);
    v
}

/// `--timeout`: a positive, finite number of seconds.
fn positive_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 => Ok(v),
        _ => Err(format!("must be a positive number of seconds, got `{s}`")),
    }
}

/// `losslang check`: each script runs in a child process (see check::runner).
fn run_check(opts: CheckOptions) -> i32 {
    let runner = match check::runner::ChildRunner::current(opts.timeout_duration()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot find the losslang binary to run scripts: {e}");
            return 2;
        }
    };
    let mut text = report::text::Text::new(std::io::stdout());
    let mut json = report::json::JsonLines::new(std::io::stdout());
    let mut junit = opts.junit.clone().map(report::junit::Junit::new);
    let mut reporters: Vec<&mut dyn report::Reporter> = Vec::new();
    if opts.json {
        reporters.push(&mut json);
    } else {
        reporters.push(&mut text);
    }
    if let Some(j) = junit.as_mut() {
        reporters.push(j);
    }
    match check::run_check(&opts, &mut |p| runner.run(p), &mut reporters) {
        Ok(summary) => summary.exit_code(),
        // A closed pipe (`| head`) is the reader's choice, not an error.
        Err(check::CheckError::Closed) => 1,
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn real_main(cli: Cli) -> i32 {
    match cli.cmd {
        Some(Cmd::Run { file, flags }) => run_file(&file, &flags),
        Some(Cmd::Check {
            paths,
            bless,
            rtol,
            atol,
            json,
            against,
            timeout,
            junit,
        }) => run_check(CheckOptions {
            paths: if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths
            },
            rtol,
            atol,
            bless,
            json,
            against,
            timeout,
            junit,
        }),
        Some(Cmd::CheckRun { file }) => check::runner::child_main(&file),
        Some(Cmd::Repl { file }) => losslang::repl::run(file.as_deref()),
        Some(Cmd::Jupyter(JupyterCmd::Install { user, prefix })) => {
            use losslang::jupyter::Target;
            losslang::jupyter::install(&match (user, prefix) {
                (true, _) => Target::User,
                (false, Some(p)) => Target::Prefix(p),
                (false, None) => Target::Default,
            })
        }
        Some(Cmd::Jupyter(JupyterCmd::Kernel { connection_file })) => {
            losslang::jupyter::run_kernel(&connection_file)
        }
        None => match cli.file {
            Some(file) => run_file(&file, &cli.flags),
            None => losslang::repl::run(None),
        },
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Ctrl-C stops a running minimization at its next step; a second one
    // ends the program.
    let _ = ctrlc::set_handler(|| {
        use std::sync::atomic::Ordering;
        // The Jupyter kernel's interrupt (interrupt_mode "signal") never ends it.
        if losslang::jupyter::ACTIVE.load(Ordering::SeqCst) {
            losslang::interp::INTERRUPT.store(true, Ordering::SeqCst);
            return;
        }
        // In the REPL a second Ctrl-C must not end the session.
        if losslang::repl::ACTIVE.load(Ordering::SeqCst) {
            losslang::repl::on_ctrl_c();
            return;
        }
        INTERRUPTED.store(true, Ordering::SeqCst);
        if losslang::interp::INTERRUPT.swap(true, Ordering::SeqCst) {
            std::process::exit(EXIT_INTERRUPTED);
        }
    });
    // Deeply nested input is refused by the parser, but the recursive passes
    // over what it accepts get a generous stack of their own.
    let worker = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || real_main(cli));
    let code = match worker.map(|h| h.join()) {
        Ok(Ok(code)) => code,
        _ => {
            eprintln!("error: internal failure (please report this with the script)");
            1
        }
    };
    let _ = std::io::stdout().flush();
    ExitCode::from(code as u8)
}
