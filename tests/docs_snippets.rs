//! Every script snippet in docs/ and README.md prints what the doc shows
//! (docs/diagnostics.md has its own test, tests/docs_diagnostics.rs).
//!
//! The convention (written down in docs/reference.md, "Snippets in these
//! docs"):
//!
//! - a fence tagged `loss` is a whole script that starts a session;
//!   `loss continues` is added to the session so far in the same file (a
//!   tutorial goes on this way); `loss alone` is a whole script that
//!   leaves the session as it was;
//! - a fence tagged `output` right after it is what that snippet prints on
//!   stdout, exactly (trailing whitespace aside); `output excerpt` shows
//!   only some lines, each of which must appear, in that order, in what it
//!   prints (a line ending in ` ...` was cut and matches as a prefix; a
//!   line `...` only says that more follows);
//! - every `loss` snippet, with an output or not, must parse.
//!
//! Scripts run as `losslang run snippet.loss` in a temporary directory
//! with `NO_COLOR=1`. On a mismatch the test fails once, listing every
//! stale snippet with what it prints today.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_losslang");
const ROOT: &str = env!("CARGO_MANIFEST_DIR");
const SHORTENED: &str = " ...";

/// A fenced block: its info string, body and opening line (1-based).
struct Fence {
    info: String,
    body: String,
    line: usize,
}

fn fences(text: &str) -> Vec<Fence> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, l)) = lines.next() {
        let Some(info) = l.strip_prefix("```") else {
            continue;
        };
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l.starts_with("```") {
                break;
            }
            body.push_str(l);
            body.push('\n');
        }
        out.push(Fence {
            info: info.trim().to_string(),
            body,
            line: i + 1,
        });
    }
    out
}

fn docs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(Path::new(ROOT).join("docs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .filter(|p| !p.ends_with("diagnostics.md"))
        .collect();
    v.sort();
    v.push(Path::new(ROOT).join("README.md"));
    v
}

/// Standard output of a script run on its own.
fn stdout_of(script: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("snippet.loss");
    fs::write(&path, script).unwrap();
    let out = Command::new(BIN)
        .arg("run")
        .arg(&path)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn trimmed(t: &str) -> Vec<&str> {
    let mut v: Vec<&str> = t.lines().map(str::trim_end).collect();
    while v.last() == Some(&"") {
        v.pop();
    }
    v
}

fn line_matches(want: &str, got: &str) -> bool {
    match want.strip_suffix(SHORTENED) {
        Some(head) => got.starts_with(head),
        None => want == got,
    }
}

/// Whether `got` is what an `output` (exact) or `output excerpt` block shows.
fn matches(want: &str, got: &str, excerpt: bool) -> bool {
    let (w, g) = (trimmed(want), trimmed(got));
    if !excerpt {
        return w.len() == g.len() && w.iter().zip(&g).all(|(a, b)| line_matches(a, b));
    }
    let mut rest = g.iter();
    w.iter()
        .filter(|a| **a != "...")
        .all(|a| rest.any(|b| line_matches(a, b)))
}

#[test]
fn every_snippet_prints_what_its_doc_shows() {
    let mut stale = Vec::new();
    let mut checked = 0;
    for doc in docs() {
        let text = fs::read_to_string(&doc).unwrap();
        let name = doc.strip_prefix(ROOT).unwrap_or(&doc).display().to_string();
        let fs = fences(&text);
        let mut session = String::new();
        for (k, f) in fs.iter().enumerate() {
            let before = match f.info.as_str() {
                "loss" | "loss alone" => String::new(),
                "loss continues" => session.clone(),
                _ => continue,
            };
            let script = format!("{before}{}", f.body);
            if let Err(e) = losslang::syntax::parse(&script) {
                let first = e.first().map(|d| d.message.clone()).unwrap_or_default();
                stale.push(format!("{name}:{}: does not parse: {first}", f.line));
            }
            if f.info != "loss alone" {
                session = script.clone();
            }
            let Some(out) = fs.get(k + 1).filter(|o| o.info.starts_with("output")) else {
                continue;
            };
            let (whole, prefix) = (stdout_of(&script), stdout_of(&before));
            let got = whole.strip_prefix(&prefix).unwrap_or(&whole);
            checked += 1;
            if !matches(&out.body, got, out.info == "output excerpt") {
                stale.push(format!(
                    "{name}:{}: the snippet prints\n{got}\nbut the doc shows\n{}",
                    f.line, out.body
                ));
            }
        }
    }
    assert!(
        checked >= 10,
        "only {checked} snippets have an output block"
    );
    assert!(stale.is_empty(), "{}", stale.join("\n---\n"));
}

#[test]
fn the_excerpt_rule() {
    let got = "a\nb 12345\nc\n";
    assert!(matches("a\nc\n", got, true));
    assert!(matches("b 12 ...\n", got, true));
    assert!(!matches("c\na\n", got, true));
    assert!(!matches("a\nc\n", got, false));
    assert!(matches("a\nb 12345\nc   \n\n", got, false));
}
