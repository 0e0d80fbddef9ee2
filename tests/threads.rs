//! The thread count changes no bit: the same scripts, with large tapes
//! (fused groups split into pieces, matmuls, matrix-vector products), print
//! the same numbers with LOSSLANG_THREADS = 1, 2 and 3.

use std::process::Command;

fn run(script: &str, threads: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("t.loss");
    std::fs::write(&path, script).expect("write script");
    let out = Command::new(env!("CARGO_BIN_EXE_losslang"))
        .arg(&path)
        .env("LOSSLANG_THREADS", threads)
        .output()
        .expect("run losslang");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn same_bits(script: &str) {
    let one = run(script, "1");
    assert!(one.contains("loss"), "{one}");
    for t in ["2", "3"] {
        assert_eq!(run(script, t), one, "LOSSLANG_THREADS={t}");
    }
}

#[test]
fn adaptive_basis_is_the_same_on_any_number_of_threads() {
    same_bits(
        "let n = 100000;\n\
         let xs = linspace(-2, 2, n);\n\
         let ys = 1 / (1 + exp(-xs / 0.3)) + 0.3 * sin(3 * xs);\n\
         param c[10] = 0.1;\n\
         param alpha[10] = linspace(-1.8, 1.8, 10);\n\
         param beta[10] = 0.5;\n\
         let model = (1 / (1 + exp((reshape(xs, [n, 1]) - alpha) / beta))) @ c;\n\
         let loss = mean((model - ys)^2);\n\
         minimize loss with adam(lr=0.005) for 5 steps;\n\
         print loss, c, alpha, beta;\n",
    );
}

#[test]
fn a_wide_tanh_network_is_the_same_on_any_number_of_threads() {
    same_bits(
        "let xs = reshape(linspace(-3, 3, 2048), [2048, 1]);\n\
         let ys = sin(xs);\n\
         param w1[128, 1] = reshape(sin(linspace(0, 10, 128)), [128, 1]);\n\
         param b1[128] = cos(linspace(0, 5, 128));\n\
         param w2[128, 128] = reshape(0.08 * sin(linspace(0, 900, 16384)), [128, 128]);\n\
         param b2[128] = 0.05 * cos(linspace(0, 3, 128));\n\
         param w3[1, 128] = reshape(0.08 * sin(linspace(1, 7, 128)), [1, 128]);\n\
         param b3[1] = 0.01;\n\
         let h = tanh(tanh(xs @ transpose(w1) + b1) @ transpose(w2) + b2);\n\
         let loss = mean((h @ transpose(w3) + b3 - ys)^2);\n\
         minimize loss with adam(lr=0.001) for 3 steps;\n\
         print loss, b1, w3;\n",
    );
}

/// Odd sizes (not multiples of the kernel's 6 × 8 tile, k of 1000 points
/// in the backward product: four KC blocks, the last partial) through the
/// packed general matmul.
#[test]
fn a_general_matmul_of_odd_sizes_is_the_same_on_any_number_of_threads() {
    same_bits(
        "let xs = reshape(linspace(-3, 3, 1000), [1000, 1]);\n\
         let ys = cos(xs);\n\
         param w1[70, 1] = reshape(sin(linspace(0, 10, 70)), [70, 1]);\n\
         param b1[70] = cos(linspace(0, 5, 70));\n\
         param w2[45, 70] = reshape(0.1 * sin(linspace(0, 900, 3150)), [45, 70]);\n\
         param w3[3, 45] = reshape(0.1 * sin(linspace(1, 7, 135)), [3, 45]);\n\
         let h = tanh(tanh(xs @ transpose(w1) + b1) @ transpose(w2));\n\
         let out = h @ transpose(w3);\n\
         let loss = mean((out[:, 0] + out[:, 1] * out[:, 2] - ys)^2);\n\
         minimize loss with adam(lr=0.001) for 3 steps;\n\
         print loss, w3;\n",
    );
}
