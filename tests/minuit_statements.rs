//! The Minuit statements beyond `minimize`: `step`, one-sided limits,
//! `minos ... cl=`, `contour`, `profile`, the report after each, the
//! validity checks that refuse MINOS on an invalid minimum, the bounded
//! call record, and every bad input as a diagnostic at its line and column.

mod common;

use common::*;

const HIMMELBLAU: &str = "param x = 0;\nparam y = 0;\n\
minimize (x^2 + y - 11)^2 + (x + y^2 - 7)^2 with migrad(grad=\"numeric\");\n";

/// A script that must fail with `code` and a label at (line, column).
fn fails_at(script: &str, code: &str, line: usize, col: usize) -> String {
    let (out, _) = run_script_flags(script, &[]);
    assert_eq!(out.code, Some(1), "{script}\n{}", out.stderr);
    assert!(out.stderr.contains(code), "{}", out.stderr);
    let locs = locations(&out.stderr);
    assert!(
        locs.iter().any(|(_, l, c)| *l == line && *c == col),
        "want {line}:{col} in {locs:?}\n{}",
        out.stderr
    );
    out.stderr
}

#[test]
fn report_after_hesse_and_minos_has_the_fmin_box_and_covariance() {
    let (out, err, code) = run_text(&format!("{HIMMELBLAU}hesse;\nminos;\n"));
    assert_eq!(code, 0, "{err}");
    // iminuit 2.33's print(m): Nfcn counts every call of the fit so far
    assert!(
        out.contains("│ FCN = 9.673e-08                  │              Nfcn = 100              │")
    );
    assert!(out.contains("│ x │ 0.0321 -0.019 │"), "{out}");
    assert_eq!(
        out.matches("│  Error   │   -0.18   │   0.17    │").count(),
        1
    );
    // the MINOS table comes between the parameters and the covariance
    let after_minos = &out[out.find("minos\n").unwrap_or(0)..];
    let p = after_minos.find("│ Name │").unwrap_or(usize::MAX);
    let m = after_minos.find("│  Error   │").unwrap_or(0);
    let c = after_minos.find("│ x │ 0.0321").unwrap_or(0);
    assert!(p < m && m < c, "{after_minos}");
}

#[test]
fn fixed_parameters_are_zero_rows_of_the_covariance() {
    let (out, err, code) =
        run_text("param a = 1;\nparam b = 2 fixed;\nparam c = 0;\nminimize (a - 3)^2 + (c + 1)^2 + b with migrad;\n");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("│ a │ 1 0 0 │") || out.contains("│ a │"),
        "{out}"
    );
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("│ b │")).collect();
    assert_eq!(rows, ["│ b │ 0 0 0 │"], "{out}");
}

#[test]
fn step_changes_migrads_first_steps() {
    let base = "param x = 3.0 STEP;\nparam y = -2.0;\nminimize 0.26*(x^2 + y^2) - 0.48*x*y with migrad(grad=\"numeric\");\n";
    let a = run_json(&base.replace("STEP", ""), true).expect("runs");
    let b = run_json(&base.replace("STEP", "step 0.5"), true).expect("runs");
    let p = |o: &serde_json::Value| get(results_of(o, "minimize")[0], "path")[1].clone();
    assert_ne!(p(&a), p(&b), "the second call's point moves with the step");
}

#[test]
fn one_sided_limits_match_iminuit() {
    // iminuit 2.33: x = 0.5 +- 0.8 in [0, inf], y at its upper limit 5
    let (out, err, code) = run_text(
        "param x = 1 in [0, inf];\nparam y = 2 in [-inf, 5];\nminimize (x-0.5)^2 + (y-6)^2 with migrad(grad=\"numeric\");\n",
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("│ 0 │ x    │    0.5    │    0.8    │            │            │    0    │         │       │"), "{out}");
    assert!(out.contains("│ 1 │ y    │    5.0    │    0.4    │            │            │         │    5    │       │"), "{out}");
    assert!(out.contains("Nfcn = 30"), "{out}");
}

#[test]
fn minos_at_a_confidence_level() {
    // corr-nll at 2 sigma is exactly twice the 1 sigma interval
    let s = "param x = 0;\nparam y = 0;\nminimize (x - 1)^2 + (y - 2)^2 + 1.6*(x - 1)*(y - 2) with migrad(errordef=0.5);\nminos x cl=2;\n";
    let out = run_json(s, false).expect("runs");
    let m = results_of(&out, "minos")[0];
    assert_eq!(num(get(m, "cl")), Some(2.0));
    let e = &get(get(m, "errors"), "x");
    assert!(
        close_f64(
            num(&e[1]).unwrap_or(0.0),
            2.0 * 1.1785113019771212,
            1e-3,
            0.0
        ),
        "{e}"
    );
}

#[test]
fn contour_and_profile_records() {
    let s = format!("{HIMMELBLAU}contour x, y points=8;\nprofile y points=5 bound=1;\n");
    let out = run_json(&s, false).expect("runs");
    let c = results_of(&out, "contour")[0];
    let pts = get(c, "points").as_array().cloned().unwrap_or_default();
    assert_eq!(pts.len(), 9);
    assert_eq!(pts[0], pts[8]);
    assert_eq!(get(c, "valid"), &serde_json::json!(true));
    let p = results_of(&out, "profile")[0];
    assert_eq!(get(p, "values").as_array().map(Vec::len), Some(5));
    assert_eq!(get(p, "fcn").as_array().map(Vec::len), Some(5));
}

#[test]
fn minos_refuses_an_invalid_minimum() {
    // iminuit: INVALID Minimum, Hesse FAILED; its minos() raises
    let err = fails_at(
        "param x = 1;\nminimize -x^2 with migrad(grad=\"numeric\");\nminos;\n",
        "E0403",
        3,
        1,
    );
    assert!(err.contains("not valid"), "{err}");
}

#[test]
fn bad_inputs_are_diagnostics_at_their_spans() {
    fails_at("param x = 1;\ncontour x, y;\n", "E0403", 2, 1);
    fails_at("param x = 1;\nprofile x;\n", "E0403", 2, 1);
    fails_at(&format!("{HIMMELBLAU}contour x, z;\n"), "E0403", 4, 12);
    fails_at(&format!("{HIMMELBLAU}contour x, x;\n"), "E0403", 4, 12);
    fails_at(&format!("{HIMMELBLAU}contour x, y cl=0;\n"), "E0303", 4, 14);
    fails_at(
        &format!("{HIMMELBLAU}contour x, y points=3;\n"),
        "E0303",
        4,
        14,
    );
    fails_at(
        &format!("{HIMMELBLAU}contour x, y colour=3;\n"),
        "E0301",
        4,
        14,
    );
    fails_at(
        &format!("{HIMMELBLAU}profile x bound=-1;\n"),
        "E0303",
        4,
        11,
    );
    fails_at(&format!("{HIMMELBLAU}minos x, x;\n"), "E0403", 4, 10);
    fails_at(&format!("{HIMMELBLAU}minos x cl=-1;\n"), "E0303", 4, 9);
    fails_at("param x = 1 step 0;\n", "E0207", 1, 18);
    fails_at("param x = 1 in [2, 1];\n", "E0207", 1, 13);
    let fixed =
        "param x = 0;\nparam y = 1 fixed;\nminimize (x - 1)^2 + y^2 with migrad;\nprofile y;\n";
    fails_at(fixed, "E0403", 4, 9);
}

#[test]
fn the_trace_path_says_what_it_dropped() {
    // (the bound itself is tested on CallRecord, in interp/run/minuit.rs)
    let s = "param w[100] = 0;\nminimize sum((w-1)^2) with migrad(grad=\"numeric\");\n";
    let out = run_json(s, true).expect("runs");
    let m = results_of(&out, "minimize")[0];
    let path = get(m, "path").as_array().map(Vec::len).unwrap_or(0);
    let nfcn = get(m, "nfcn").as_u64().unwrap_or(0) as usize;
    assert_eq!(get(m, "path_dropped").as_u64(), Some(0));
    assert_eq!(path, nfcn);
    let out = run_json(s, false).expect("runs");
    assert!(get(results_of(&out, "minimize")[0], "path").is_null());
}

#[test]
fn the_options_are_read_in_the_tables_order() {
    for a in losslang::minuit::options::ALGORITHMS {
        let script = format!("param x = 1 in [-2, 2];\nminimize x^2 with {};\n", a.name);
        let out = run_json(&script, false).expect("runs");
        let m = results_of(&out, "minimize")[0];
        let mut keys: Vec<&str> = get(m, "options")
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut want = a.options.to_vec();
        keys.sort_unstable();
        want.sort_unstable();
        assert_eq!(keys, want, "{}", a.name);
    }
}

#[test]
fn plot_mncontour_and_profile_write_their_files() {
    let dir = unique_path("mnplots");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let c = dir.join("c.svg");
    let p = dir.join("p.svg");
    let s = format!(
        "{HIMMELBLAU}minos;\nplot mncontour x, y cl=[0.68, 2] points=12 to \"{}\";\nplot profile x points=9 to \"{}\";\n",
        c.display(),
        p.display()
    );
    let out = run_json(&s, false).expect("runs");
    assert!(is_ok(&out), "{out}");
    let kinds: Vec<&str> = results_of(&out, "plot")
        .iter()
        .filter_map(|r| get(r, "plot").as_str())
        .collect();
    assert_eq!(kinds, ["mncontour", "profile"]);
    let svg = std::fs::read_to_string(&c).expect("contour written");
    assert!(
        svg.contains("68 %") && svg.contains("2σ") && svg.contains("minimum"),
        "{svg}"
    );
    let svg = std::fs::read_to_string(&p).expect("profile written");
    // the MINOS interval shaded (draw_mnprofile's axvspan) and in the title
    assert!(
        svg.contains("class=\"span\"") && svg.contains("MINOS profile of"),
        "{svg}"
    );
    let _ = std::fs::remove_dir_all(&dir);
    fails_at(
        "param x = 1;\nplot mncontour x, y to \"c.svg\";\n",
        "E0403",
        2,
        1,
    );
    fails_at(
        &format!("{HIMMELBLAU}plot mncontour x, y cl=[0.5, -1] to \"c.svg\";\n"),
        "E0303",
        4,
        21,
    );
}
