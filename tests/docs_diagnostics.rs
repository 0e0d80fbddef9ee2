//! Checks that docs/diagnostics.md is up to date with the binary: every
//! `## EXXXX` section's example scripts, run for real as `losslang run
//! example.loss` (in a temporary directory, with `NO_COLOR=1`), exit with
//! status 1 and print on stderr exactly the documented output (trailing
//! whitespace ignored; a documented line ending in ` ...` was shortened and
//! only has to be a prefix of the real one). Also checks that every code in
//! the `Code` enum of src/diagnostics/code.rs has a section, and that every
//! section has an example producing its own code (unless listed in
//! `NO_EXAMPLE`).
//!
//! On a mismatch the test fails once, listing every stale example with the
//! expected and the actual output.

use losslang::diagnostics::Code;
use std::fs;
use std::path::Path;
use std::process::Command;

const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/diagnostics.md");

/// Sections that document a code without an example, and why.
const NO_EXAMPLE: &[(&str, &str)] = &[
    (
        "E0005",
        "reserved: a too-large literal reads as inf, so nothing produces it",
    ),
    ("E0407", "needs a Ctrl-C during a contour"),
    (
        "E0408",
        "a warning: the examples here are scripts that fail (tests/cli_user.rs checks it)",
    ),
    (
        "E0600",
        "REPL commands only: the examples run scripts (tests/repl_user.rs covers it)",
    ),
];

/// The suffix the doc puts on a line it shortened.
const SHORTENED: &str = " ...";

/// One `## EXXXX` section of the doc.
struct Section {
    code: String,
    /// The fenced blocks, in order, with the 1-based line of their opening fence.
    blocks: Vec<(usize, String)>,
}

/// One runnable example: a script (or a `$ losslang ...` command line) and
/// the stderr it is documented to give.
struct Example {
    code: String,
    line: usize,
    kind: ExampleKind,
    expected: String,
}

enum ExampleKind {
    /// A script, saved as `example.loss` and run with `losslang run example.loss`.
    Script(String),
    /// The arguments of a `$ losslang ...` line (the E0500 transcript).
    Command(Vec<String>),
}

/// Splits the doc into its `## EXXXX` sections and their fenced blocks.
/// Prose between blocks is ignored; text before the first section (the
/// introduction and the table) is not part of any section.
fn parse_sections(doc: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    let mut open: Option<(usize, Vec<&str>)> = None;
    for (i, line) in doc.lines().enumerate() {
        if line.starts_with("```") {
            match open.take() {
                None => open = Some((i + 1, Vec::new())),
                Some((start, body)) => {
                    let section = sections.last_mut().unwrap_or_else(|| {
                        panic!("{DOC}:{start}: a code block before the first `## E` section")
                    });
                    let mut text = body.join("\n");
                    text.push('\n');
                    section.blocks.push((start, text));
                }
            }
            continue;
        }
        if let Some((_, body)) = open.as_mut() {
            body.push(line);
        } else if let Some(code) = line.strip_prefix("## ") {
            let code = code.trim();
            assert!(
                is_code(code),
                "{DOC}:{}: section heading `{line}` is not a code",
                i + 1
            );
            sections.push(Section {
                code: code.to_string(),
                blocks: Vec::new(),
            });
        }
    }
    assert!(open.is_none(), "{DOC}: a code block is never closed");
    sections
}

fn is_code(s: &str) -> bool {
    s.len() == 5 && s.starts_with('E') && s[1..].bytes().all(|b| b.is_ascii_digit())
}

/// Pairs each section's blocks into examples. A block starting with
/// `$ losslang ` is a transcript: the command, then its stderr. Any other
/// block is a script, and the block after it is its stderr.
fn examples(sections: &[Section]) -> Vec<Example> {
    let mut out = Vec::new();
    for s in sections {
        let mut blocks = s.blocks.iter();
        while let Some((line, block)) = blocks.next() {
            if let Some(rest) = block.strip_prefix("$ losslang ") {
                let (cmd, expected) = rest.split_once('\n').unwrap_or((rest, ""));
                out.push(Example {
                    code: s.code.clone(),
                    line: *line,
                    kind: ExampleKind::Command(
                        cmd.split_whitespace().map(str::to_string).collect(),
                    ),
                    expected: expected.to_string(),
                });
                continue;
            }
            let (_, expected) = blocks.next().unwrap_or_else(|| {
                panic!(
                    "{DOC}:{line}: {}: script block without an output block after it",
                    s.code
                )
            });
            out.push(Example {
                code: s.code.clone(),
                line: *line,
                kind: ExampleKind::Script(expand_script(block)),
                expected: expected.clone(),
            });
        }
    }
    out
}

/// The doc abbreviates the two scripts that are one enormous line (E0004 and
/// E0102): `print ((((...1...))));    # 1001 nested brackets` and
/// `print ------...1;        # 2001 minus signs`. This builds the real line
/// from the count in the comment; any other script is used as it is.
fn expand_script(script: &str) -> String {
    if !script.contains("...") {
        return script.to_string();
    }
    let mut out = String::new();
    for line in script.lines() {
        let Some((_, comment)) = line.split_once('#') else {
            out.push_str(line);
            out.push('\n');
            continue;
        };
        let words: Vec<&str> = comment.split_whitespace().collect();
        let count = |w: &str| -> usize {
            w.parse()
                .unwrap_or_else(|_| panic!("no count in abbreviated script line `{line}`"))
        };
        match words.as_slice() {
            [n, "nested", "brackets"] => {
                let n = count(n);
                out.push_str(&format!("print {}1{};", "(".repeat(n), ")".repeat(n)));
            }
            [n, "minus", "signs"] => {
                out.push_str(&format!("print {}1;", "-".repeat(count(n))));
            }
            _ => panic!("abbreviated script line `{line}`: unknown abbreviation"),
        }
        out.push('\n');
    }
    out
}

/// Files an example reads besides its script. The second E0404 example is
/// documented as running "with `points.csv` holding the columns `x,y`".
fn fixtures(dir: &Path, script: &str) {
    if script.contains("\"points.csv\"") {
        fs::write(dir.join("points.csv"), "x,y\n1,2\n3,4\n").unwrap();
    }
}

/// Trailing whitespace removed from every line, and blank lines at the
/// start and end dropped.
fn normalize(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    while lines.first().is_some_and(|l| l.is_empty()) {
        lines.remove(0);
    }
    lines
}

/// Whether the real output matches the documented one: line for line, where
/// a documented line ending in ` ...` only has to be a prefix of the real one.
fn matches(expected: &[String], got: &[String]) -> bool {
    expected.len() == got.len()
        && expected
            .iter()
            .zip(got)
            .all(|(e, g)| match e.strip_suffix(SHORTENED) {
                Some(prefix) => g.starts_with(prefix) && g.len() > prefix.len(),
                None => e == g,
            })
}

/// Runs one example in a fresh temporary directory; returns its stderr and
/// exit status.
fn run(example: &Example) -> (String, Option<i32>) {
    let dir = tempfile::tempdir().unwrap();
    let args: Vec<String> = match &example.kind {
        ExampleKind::Script(script) => {
            fs::write(dir.path().join("example.loss"), script).unwrap();
            fixtures(dir.path(), script);
            vec!["run".into(), "example.loss".into()]
        }
        ExampleKind::Command(args) => args.clone(),
    };
    let output = Command::new(env!("CARGO_BIN_EXE_losslang"))
        .args(&args)
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("cannot run losslang");
    (
        String::from_utf8_lossy(&output.stderr).into_owned(),
        output.status.code(),
    )
}

/// Every code of the `Code` enum (src/diagnostics/code.rs).
fn table_codes() -> Vec<String> {
    Code::ALL.iter().map(|c| c.as_str().to_string()).collect()
}

#[test]
fn every_code_has_a_section() {
    let doc = fs::read_to_string(DOC).unwrap();
    let documented: Vec<String> = parse_sections(&doc).into_iter().map(|s| s.code).collect();
    let missing: Vec<String> = table_codes()
        .into_iter()
        .filter(|c| !documented.contains(c))
        .collect();
    assert!(
        missing.is_empty(),
        "codes of the `Code` enum with no `## CODE` section in docs/diagnostics.md: {missing:?}"
    );
}

#[test]
fn every_section_has_an_example_of_its_code() {
    let doc = fs::read_to_string(DOC).unwrap();
    let sections = parse_sections(&doc);
    let all = examples(&sections);
    let mut bad = Vec::new();
    for s in &sections {
        let exempt = NO_EXAMPLE.iter().any(|(c, _)| *c == s.code);
        let tag = format!("error[{}]", s.code);
        let shown = all
            .iter()
            .any(|e| e.code == s.code && e.expected.contains(&tag));
        if exempt && !s.blocks.is_empty() {
            bad.push(format!("{}: listed in NO_EXAMPLE but has examples", s.code));
        } else if !exempt && !shown {
            bad.push(format!("{}: no example whose output has `{tag}`", s.code));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn documented_outputs_are_current() {
    let doc = fs::read_to_string(DOC).unwrap();
    let all = examples(&parse_sections(&doc));
    assert!(all.len() >= 30, "only {} examples found", all.len());
    let mut stale = Vec::new();
    for example in &all {
        let (stderr, status) = run(example);
        let expected = normalize(&example.expected);
        let got = normalize(&stderr);
        let same = matches(&expected, &got);
        if !same || status != Some(1) {
            let what = match &example.kind {
                ExampleKind::Script(s) if s.len() > 200 => {
                    format!("{}...\n", s.chars().take(60).collect::<String>())
                }
                ExampleKind::Script(s) => s.clone(),
                ExampleKind::Command(a) => format!("$ losslang {}\n", a.join(" ")),
            };
            stale.push(format!(
                "== {} (docs/diagnostics.md:{}), exit status {status:?}{}\n\
                 --- script\n{what}--- expected stderr\n{}\n--- got stderr\n{}\n",
                example.code,
                example.line,
                if status == Some(1) { "" } else { " (want 1)" },
                expected.join("\n"),
                got.join("\n"),
            ));
        }
    }
    assert!(
        stale.is_empty(),
        "{} of {} examples in docs/diagnostics.md are stale:\n\n{}",
        stale.len(),
        all.len(),
        stale.join("\n")
    );
}
