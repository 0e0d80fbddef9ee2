//! The machine-readable reports of a check: one JSON object per script
//! and a summary line (`--json`), and the JUnit XML file (`--junit`),
//! written atomically.

use std::fs;
use std::path::Path;

use super::{fake_run, opts, put};
use crate::check::report::json::JsonLines;
use crate::check::report::junit::Junit;
use crate::check::{run_check, CheckOptions};

#[test]
fn json_lines() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    put(
        d,
        "a.loss",
        "x 1\n!expect passed 2 fit: a == 2: 2.0 vs 2.0\n",
    );
    put(
        d,
        "a.expected",
        "x 1\nexpect passed (2/2 points): fit: a == 2: 2.0 vs 2.0\n",
    );
    put(d, "b.loss", "x 2\n!err error: e\n!exit 1\n");
    put(d, "b.expected", "x 2\n");
    let o = CheckOptions {
        json: true,
        ..opts(d)
    };
    let mut out = Vec::new();
    let summary = run_check(&o, &mut fake_run, &mut [&mut JsonLines::new(&mut out)]).unwrap();
    assert_eq!(summary.exit_code(), 1);
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "{out}");
    let a = &lines[0];
    assert_eq!(a["path"], d.join("a.loss").display().to_string());
    assert_eq!(a["status"], "pass");
    assert_eq!(a["passed"], true);
    assert!(a["seconds"].as_f64().unwrap() >= 0.0);
    assert_eq!(a["time"], a["seconds"]);
    assert_eq!(
        (a["points"].as_u64(), a["max_points"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(a["expects"][0]["line"], 1);
    assert_eq!(a["expects"][0]["message"], "fit: a == 2: 2.0 vs 2.0");
    assert_eq!(a["expects"][0]["result"], "passed");
    assert_eq!(a["expects"][0]["points"], 2);
    assert!(a["diff"].is_null());
    assert_eq!(a["reasons"], serde_json::json!([]));
    let b = &lines[1];
    assert_eq!(b["status"], "fail");
    assert_eq!(b["output"], "x 2\n--- stderr\nerror: e\n--- exit 1\n");
    let diff = b["diff"].as_str().unwrap();
    assert!(diff.starts_with("--- expected\n+++ actual\n"), "{diff}");
    assert!(b["reasons"][0].as_str().unwrap().contains("status 1"));
    assert_eq!(
        lines[2],
        serde_json::json!({"passed": 1, "failed": 1, "points": 2, "max_points": 2})
    );
}

/// A folder `hw` with a failing file `a` (two expects, the second one
/// failed, exit status 1) and a passing `b` whose output needs escaping,
/// and options writing the JUnit report to `report.xml` beside it.
fn junit_fixture(d: &Path) -> CheckOptions {
    put(
        d,
        "hw/a.loss",
        "!expect passed 2 x > 0: 1 > 0 is true\n!expect FAILED 3 y < 0: 1 < 0 is false\n!exit 1\n",
    );
    put(d, "hw/a.expected", "expect passed (2/2 points): x > 0: 1 > 0 is true\nexpect passed (3/3 points): y < 0: -1 < 0 is true\n");
    put(d, "hw/b.loss", "<ok & fine>\n");
    put(d, "hw/b.expected", "<ok & fine>\n");
    CheckOptions {
        paths: vec![d.join("hw")],
        junit: Some(d.join("report.xml")),
        ..CheckOptions::default()
    }
}

#[track_caller]
fn assert_has(xml: &str, part: &str) {
    assert!(xml.contains(part), "no {part:?} in\n{xml}");
}

#[test]
fn junit_report() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let o = junit_fixture(d);
    let file = d.join("report.xml");
    let mut junit = Junit::new(file.clone());
    let summary = run_check(&o, &mut fake_run, &mut [&mut junit]).unwrap();
    assert_eq!((summary.passed, summary.failed), (1, 1));
    let xml = fs::read_to_string(&file).unwrap();
    assert!(
        xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "),
        "{xml}"
    );
    assert_has(
        &xml,
        "<testsuite name=\"losslang check\" tests=\"4\" failures=\"2\"",
    );
    let a = d.join("hw/a.loss").display().to_string();
    assert_has(
        &xml,
        &format!("<testcase classname=\"losslang.check\" name=\"{a}\" file=\"{a}\""),
    );
    assert_has(&xml, "<property name=\"points\" value=\"2\"/>\n        <property name=\"max_points\" value=\"5\"/>");
    assert_has(&xml, &format!("<testcase classname=\"{a}\" name=\"expect x &gt; 0 (2 points)\" file=\"{a}\" line=\"1\" time=\"0.000\">"));
    assert_has(&xml, "name=\"expect y &lt; 0 (3 points)\"");
    assert_has(
        &xml,
        "<failure type=\"check\" message=\"the run exited with status 1",
    );
    assert_has(&xml, "<system-out>&lt;ok &amp; fine&gt;&#10;</system-out>");
    assert!(xml.trim_end().ends_with("</testsuites>"));
    // no temporary file is left beside it
    let names: Vec<_> = fs::read_dir(d)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn a_junit_report_in_a_missing_folder_is_an_error() {
    let t = tempfile::tempdir().unwrap();
    let d = t.path();
    let bad = CheckOptions {
        junit: Some(d.join("no/such/dir/r.xml")),
        ..junit_fixture(d)
    };
    let err = run_check(&bad, &mut fake_run, &mut []).unwrap_err();
    assert!(
        err.to_string().contains("its folder does not exist"),
        "{err}"
    );
}
