//! What the fuzz targets share: the checks each target makes, and the bound
//! that keeps a `run_source` input from running for minutes. The targets in
//! `fuzz_targets/` are thin wrappers, so a crash reproduces with the same
//! code path from a normal test (see docs/fuzzing.md).

pub mod gen;

use losslang::interp::{Options, Session};
use losslang::syntax::lexer::{lex, Tok};
use std::path::PathBuf;
use std::sync::OnceLock;

/// Largest number literal a `run_source` input may contain. Step counts,
/// tensor dimensions, `scan(n=...)` and the like are all literals, so this
/// keeps one statement to a few million elementary operations.
pub const MAX_LITERAL: f64 = 64.0;

/// Longest `run_source` input, in bytes (bounds the number of statements).
pub const MAX_LEN: usize = 4096;

/// A scratch directory for the process: the session's base directory, so
/// plots and `csv(...)` (both relative to it) only touch files there. The
/// working directory is left alone: libFuzzer writes new inputs to the
/// corpus directory it was given, often a relative path. Also sets the
/// memory budget below libFuzzer's `-rss_limit_mb=2048`, so a large tensor
/// is the E0409 diagnostic it would be for a user, not an rss finding.
pub fn scratch() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        std::env::set_var("LOSSLANG_MEMORY", "1G");
        let d = std::env::temp_dir().join(format!("losslang-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("create the fuzz scratch directory");
        d
    })
}

/// Lexes and parses `src`; panics (a finding) if an error's span lies
/// outside the source or is not on a character boundary.
pub fn check_lex_parse(src: &str) {
    let (toks, errs) = lex(src);
    for (l, _, r) in &toks {
        assert!(
            l <= r && *r <= src.len(),
            "token span {l}..{r} out of bounds"
        );
    }
    for e in &errs {
        assert!(e.span.end <= src.len() && src.is_char_boundary(e.span.start));
    }
    if let Err(diags) = losslang::syntax::parse(src) {
        assert!(
            !diags.is_empty(),
            "a failed parse reports at least one error"
        );
        for d in &diags {
            if let Some(s) = d.primary_span() {
                assert!(
                    s.start <= s.end && s.end <= src.len(),
                    "span {s:?} out of bounds"
                );
            }
        }
    }
    let _ = losslang::syntax::parser::is_incomplete(src);
}

/// Whether `src` is cheap enough to run: short, no literal above
/// [`MAX_LITERAL`], and no string naming a path outside the scratch
/// directory (absolute, `..`, or `~`).
pub fn bounded(src: &str) -> bool {
    if src.len() > MAX_LEN {
        return false;
    }
    let (toks, _) = lex(src);
    toks.iter().all(|(_, t, _)| match t {
        Tok::Num(v) => v.abs() <= MAX_LITERAL,
        Tok::Str(s) => !(s.starts_with('/') || s.starts_with('~') || s.contains("..")),
        _ => true,
    })
}

/// Runs `src` in a fresh session writing to sinks, if it is [`bounded`].
/// Returns whether it ran.
pub fn run_bounded(src: &str) -> bool {
    if !bounded(src) {
        return false;
    }
    run(src, Options::default());
    run(
        src,
        Options {
            json: true,
            trace: true,
            ..Options::default()
        },
    );
    true
}

/// Runs `src` once with `opts`, output discarded, files in the scratch dir.
pub fn run(src: &str, opts: Options) {
    let dir = scratch().clone();
    let mut s = Session::new(opts, Box::new(std::io::sink()), Box::new(std::io::sink()));
    s.base_dir = dir;
    let _ = s.run_source("fuzz.loss", src);
    s.flush();
}

/// Reads `data` as a csv file; a table's values must fill rows x columns.
pub fn check_csv(data: &[u8]) {
    let path = scratch().join("input.csv");
    std::fs::write(&path, data).expect("write the csv input");
    if let Ok(t) = losslang::tensor::csv::read(&path, "input.csv", 1 << 20) {
        let cols = t.names.len();
        assert!(cols > 0);
        assert_eq!(t.values.data.len() % cols, 0, "ragged table");
        assert_eq!(
            t.values.shape.iter().product::<usize>(),
            t.values.data.len()
        );
        for k in 0..cols {
            assert_eq!(t.column(k).data.len() * cols, t.values.data.len());
        }
    }
}
