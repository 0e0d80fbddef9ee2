//! The interactive REPL (SPEC section 9).

/// Runs the REPL, after running `file` if given. Returns the exit status.
pub fn run(file: Option<&std::path::Path>) -> i32 {
    let _ = file;
    eprintln!("error: the REPL is not available in this build yet; run a script with `losslang run FILE`");
    1
}
