//! Training through the command line: the bounded path record (issue 20's
//! billion-step abort), the epoch report and its JSON fields, and every bad
//! input of a schedule or an epoch run as a diagnostic at its line.

mod common;

use common::*;
use serde_json::Value;

const DATA: &str =
    "let xs = [1, 2, 3, 4, 5];\nlet ys = [2, 4, 6, 8, 10];\nlet zs = [1, 2, 3];\nparam w = 0;\n";

/// A long run of a 64-element parameter records a bounded path and says
/// so, instead of reserving every step up front (which aborted at 1e9 steps).
#[test]
fn a_long_run_records_a_bounded_path() {
    let (out, err, code) = run_text(
        "param w[64] ~ zeros;\nminimize sum((w - 1)^2) with sgd(lr=0.001) for 200000 steps;\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("200000 steps"), "{out}");
    assert!(
        out.contains("the path holds the first 127100 steps only"),
        "{out}"
    );
}

#[test]
fn an_epoch_run_reports_its_table_and_json_fields() {
    let script = format!(
        "{DATA}let v = mean((w * xs - ys)^2);\nminimize mean((w * xs - ys)^2) with sgd(lr=0.01) schedule step_lr(step_size=1, gamma=0.5) for 3 epochs batch 2 over xs, ys watch v;\n"
    );
    let (out, err, code) = run_text(&script);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("3 epochs of 3 steps (batch 2 of 5, the last 1), 9 steps"),
        "{out}"
    );
    assert!(
        out.contains("schedule step_lr(step_size=1, gamma=0.5) per epoch"),
        "{out}"
    );
    assert!(out.contains("mean loss"), "{out}");
    let j = run_json(&script, true).expect("json");
    let m = results_of(&j, "minimize")[0];
    assert_eq!(get(m, "epochs"), &Value::from(3));
    assert_eq!(get(m, "batch"), &Value::from(2));
    assert_eq!(get(m, "epoch_loss").as_array().map(Vec::len), Some(3));
    assert_eq!(get(get(m, "watch"), "v").as_array().map(Vec::len), Some(3));
    let lr: Vec<f64> = get(m, "lr")
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_f64)
        .collect();
    assert_eq!(
        lr,
        vec![0.01, 0.01, 0.01, 0.005, 0.005, 0.005, 0.0025, 0.0025, 0.0025]
    );
    // without --trace there is no lr (SPEC 1.1)
    let j = run_json(&script, false).expect("json");
    assert!(results_of(&j, "minimize")[0].get("lr").is_none());
}

/// Each bad input: its code, the start of its message, and its line.
#[test]
fn bad_input_is_a_diagnostic_at_its_line() {
    let cases = [
        (
            "for 2 epochs batch 0 over xs, ys",
            "E0307",
            "the batch size must be",
        ),
        (
            "for 2 epochs batch 2 over xs, zs",
            "E0307",
            "the data after `over` have different lengths",
        ),
        (
            "for 2 epochs batch 2 over xs, w",
            "E0307",
            "`w` is a parameter",
        ),
        (
            "for 2 epochs batch 9 over xs, ys drop_last",
            "E0307",
            "drop_last with batch 9",
        ),
        (
            "for 2 epochs batch 2",
            "E0307",
            "`for N epochs` needs the data",
        ),
        ("for 2 epochs over xs, ys watch xs", "E0307", "`watch xs`"),
        (
            "schedule step_lrr(step_size=2) for 3 steps",
            "E0306",
            "unknown schedule `step_lrr`",
        ),
        (
            "schedule step_lr(step_sze=2) for 3 steps",
            "E0301",
            "unknown option `step_sze` for step_lr",
        ),
        (
            "schedule multi_step_lr(milestones=[5, 3]) for 3 steps",
            "E0306",
            "milestones must increase",
        ),
        (
            "schedule cosine_annealing_lr(T_max=0) for 3 steps",
            "E0303",
            "invalid value 0 for option `T_max`",
        ),
        (
            "schedule one_cycle_lr(max_lr=0.1, total_steps=10) for 30 steps",
            "E0306",
            "one_cycle_lr(total_steps=10) would be stepped 30 times",
        ),
        (
            "schedule cyclic_lr(base_lr=0.01, max_lr=0.1) for 3 steps",
            "E0306",
            "cyclic_lr would switch on the momentum",
        ),
        (
            "schedule lambda_lr(w * epoch) for 3 steps",
            "E0306",
            "the schedule's expression depends on a parameter",
        ),
        (
            "schedule step_lr(step_size=1) per step for 3 steps",
            "E0306",
            "`per step` is for",
        ),
    ];
    let mut failures = Vec::new();
    for (tail, code, msg) in cases {
        let script = format!("{DATA}\nminimize mean((w*xs - ys)^2) with sgd(lr=0.01)\n  {tail};\n");
        let (_, err, status) = run_text(&script);
        let want = format!("error[{code}]: {msg}");
        if status != 1 || !err.contains(&want) || !err.contains(":7:") {
            failures.push(format!(
                "{tail}: exit {status}, want `{want}` on line 7, got:\n{err}"
            ));
        }
    }
    for (script, code, msg) in [
        (format!("{DATA}minimize mean((w*xs - ys)^2) with migrad for 2 epochs over xs, ys;\n"), "E0304", "`for ... epochs` does not apply to migrad"),
        (format!("{DATA}minimize mean((w*xs - ys)^2) with adagrad(lr=0.1) schedule cyclic_lr(base_lr=0.01, max_lr=0.1) for 3 steps;\n"), "E0306", "cyclic_lr cycles the momentum, and adagrad has none"),
        (format!("{DATA}plot lr to \"lr.svg\";\n"), "E0403", ""),
    ] {
        let (_, err, status) = run_text(&script);
        let want = format!("error[{code}]: {msg}");
        if status != 1 || !err.contains(&want) {
            failures.push(format!("exit {status}, want `{want}`, got:\n{err}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
