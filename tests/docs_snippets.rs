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
//! - every `loss` snippet, with an output or not, must parse; so must a
//!   `loss fragment` (statements shown on their own, not run);
//! - a `repl` fence is a REPL transcript: the lines after the prompts
//!   `loss> ` and `  ... ` are typed, the other lines are what the REPL
//!   shows; the typed lines are piped into `losslang repl` and what it
//!   prints (stdout and stderr, in order) must be those lines, exactly;
//! - every other fence says what it is (`text` for pseudo-code, grammar
//!   forms and layouts; `sh`, `console`, `python`, `json`, ... for other
//!   languages): a fence with no tag, or a tag not in `TAGS`, fails.
//!   docs/diagnostics.md is the exception: tests/docs_diagnostics.rs runs
//!   every one of its blocks.
//!
//! The docs stand alone: no path outside the repository.
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

/// The fenced blocks of a Markdown text, also those indented inside a list
/// item (their body loses the fence's indentation).
fn fences(text: &str) -> Vec<Fence> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate();
    while let Some((i, l)) = lines.next() {
        let indent = l.len() - l.trim_start().len();
        let Some(info) = l.trim_start().strip_prefix("```") else {
            continue;
        };
        let mut body = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim_start().starts_with("```") {
                break;
            }
            let cut = l.len() - l.trim_start().len();
            body.push_str(&l[cut.min(indent)..]);
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
            if f.info == "loss fragment" {
                if let Err(e) = losslang::syntax::parse(&f.body) {
                    let first = e.first().map(|d| d.message.clone()).unwrap_or_default();
                    stale.push(format!("{name}:{}: does not parse: {first}", f.line));
                }
                continue;
            }
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

/// The info strings a fence may have (see the module documentation).
const TAGS: &[&str] = &[
    // checked
    "loss",
    "loss continues",
    "loss alone",
    "loss fragment",
    "output",
    "output excerpt",
    "repl",
    // not run: pseudo-code, grammar forms, layouts, other languages
    "text",
    "sh",
    "console",
    "python",
    "json",
    "toml",
    "yaml",
    "rust",
];

/// The fences of `text` whose tag is missing or unknown, as `line: tag`.
fn unmarked(text: &str) -> Vec<String> {
    fences(text)
        .into_iter()
        .filter(|f| !TAGS.contains(&f.info.as_str()))
        .map(|f| format!("{}: `{}`", f.line, f.info))
        .collect()
}

#[test]
fn every_fence_is_checked_or_marked_as_not_run() {
    assert_eq!(unmarked("a\n```\nx\n```\n```text\ny\n```\n"), ["2: ``"]);
    assert_eq!(
        unmarked("1. a\n\n   ```lossy\n   x\n   ```\n"),
        ["3: `lossy`"]
    );
    let mut bad = Vec::new();
    for doc in docs() {
        let text = fs::read_to_string(&doc).unwrap();
        let name = doc.strip_prefix(ROOT).unwrap_or(&doc).display().to_string();
        bad.extend(unmarked(&text).into_iter().map(|u| format!("{name}:{u}")));
    }
    assert!(
        bad.is_empty(),
        "fences with no tag or an unknown one (tag them `text` if they are not run):\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_docs_stand_alone() {
    let mut all = docs();
    all.push(Path::new(ROOT).join("docs/diagnostics.md"));
    let mut bad = Vec::new();
    for doc in &all {
        let text = fs::read_to_string(doc).unwrap();
        for (i, l) in text.lines().enumerate() {
            for word in [
                "../shared",
                "/work/",
                "(Specified, not finished in this build.)",
            ] {
                if l.contains(word) {
                    bad.push(format!("{}:{}: `{word}`", doc.display(), i + 1));
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

const PROMPT: &str = "loss> ";
const CONTINUATION: &str = "  ... ";

/// A transcript's typed lines (the input) and shown lines (the output).
fn transcript(body: &str) -> (String, String) {
    let (mut input, mut shown) = (String::new(), String::new());
    for l in body.lines() {
        match l
            .strip_prefix(PROMPT)
            .or_else(|| l.strip_prefix(CONTINUATION))
        {
            Some(typed) => {
                input.push_str(typed);
                input.push('\n');
            }
            None => {
                shown.push_str(l);
                shown.push('\n');
            }
        }
    }
    (input, shown)
}

/// What `losslang repl` prints, stdout and stderr in one stream, for
/// `input` piped into it (run by `sh` so that both go to one pipe).
fn repl_output(input: &str) -> String {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new("sh")
        .args(["-c", &format!("exec '{BIN}' repl 2>&1")])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env("HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn every_repl_transcript_shows_what_the_repl_prints() {
    let (input, shown) = transcript("loss> print (1 +\n  ... 2)\n3.0\nloss> x\n");
    assert_eq!(
        (input.as_str(), shown.as_str()),
        ("print (1 +\n2)\nx\n", "3.0\n")
    );
    let mut stale = Vec::new();
    let mut checked = 0;
    for doc in docs() {
        let text = fs::read_to_string(&doc).unwrap();
        let name = doc.strip_prefix(ROOT).unwrap_or(&doc).display().to_string();
        for f in fences(&text).into_iter().filter(|f| f.info == "repl") {
            let (input, shown) = transcript(&f.body);
            let got = repl_output(&input);
            checked += 1;
            if !matches(&shown, &got, false) {
                stale.push(format!(
                    "{name}:{}: the REPL prints\n{got}\nbut the doc shows\n{shown}",
                    f.line
                ));
            }
        }
    }
    assert!(checked >= 1, "no REPL transcript in the docs");
    assert!(stale.is_empty(), "{}", stale.join("\n---\n"));
}
