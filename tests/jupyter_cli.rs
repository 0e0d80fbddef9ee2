//! `losslang jupyter install|kernel` through the real binary, and the one
//! language change the notebook brings: `plot ...;` without `to` is a
//! notebook's inline plot, and in a script a diagnostic.

mod common;

use common::{run_args, run_text};

#[test]
fn a_plot_without_a_file_is_an_error_in_a_script() {
    let (out, err, code) =
        run_text("param x = 1;\nminimize x^2 with adam for 3 steps;\nplot loss;\n");
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        err.contains("error[E0406]: a plot in a script needs a file"),
        "{err}"
    );
    assert!(err.contains(":3:1"), "{err}");
    assert!(err.contains("add `to \"plot.svg\"`"), "{err}");
}

#[test]
fn install_writes_a_kernelspec_that_starts_this_binary() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().to_str().unwrap();
    let out = run_args(&["jupyter", "install", "--prefix", prefix], None);
    assert_eq!(out.code, Some(0), "{}", out.describe());
    let spec = dir
        .path()
        .join("share/jupyter/kernels/losslang/kernel.json");
    assert!(out.stdout.contains("installed the losslang kernel in"));
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(spec).unwrap()).unwrap();
    let exe = std::path::Path::new(v["argv"][0].as_str().unwrap());
    assert!(exe.is_absolute() && exe.ends_with("losslang"), "{exe:?}");
    assert_eq!(
        v["argv"].as_array().unwrap()[1..],
        [
            serde_json::json!("jupyter"),
            "kernel".into(),
            "{connection_file}".into()
        ]
    );
}

#[test]
fn install_refuses_both_user_and_prefix() {
    let out = run_args(
        &["jupyter", "install", "--user", "--prefix", "/tmp/x"],
        None,
    );
    assert_eq!(out.code, Some(2), "{}", out.describe());
}

#[test]
fn a_kernel_without_a_usable_connection_file_says_why() {
    let out = run_args(&["jupyter", "kernel", "/nonexistent/kernel-1.json"], None);
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("cannot read the connection file `/nonexistent/kernel-1.json`: no such file"),
        "{}",
        out.stderr
    );
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("k.json");
    std::fs::write(&bad, "{ not json").unwrap();
    let out = run_args(&["jupyter", "kernel", bad.to_str().unwrap()], None);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("is not valid JSON"), "{}", out.stderr);
}
