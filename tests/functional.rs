//! The loss-function library beyond the torch reference cases: every new
//! function's gradient against central finite differences on random shapes
//! (seeded, points kept away from kinks), and the bad inputs of issue 14
//! each as a diagnostic at the argument saying what is allowed.

mod common;

use common::{get, is_ok, locations, printed_values, run_json, run_text};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;

/// A losslang literal of `v` in `shape`.
fn lit(v: &[f64], shape: &[usize]) -> String {
    if shape.is_empty() {
        return format!("{:?}", v[0]);
    }
    let step = v.len() / shape[0];
    let parts: Vec<String> = (0..shape[0])
        .map(|i| lit(&v[i * step..(i + 1) * step], &shape[1..]))
        .collect();
    format!("[{}]", parts.join(", "))
}

fn flat(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
        v => out.push(common::num(v).unwrap_or(f64::NAN)),
    }
}

/// (expression in p and the constants t (in [-2, 2]) and q (in [0.1, 3]);
/// lowest value of p; highest; kinks to keep away from).
const FUNCTIONS: &[(&str, f64, f64, &[f64])] = &[
    ("leaky_relu(p, negative_slope=0.2)", -3.0, 3.0, &[0.0]),
    ("elu(p, alpha=0.7)", -3.0, 3.0, &[0.0]),
    ("selu(p)", -3.0, 3.0, &[0.0]),
    ("celu(p, alpha=0.3)", -3.0, 3.0, &[0.0]),
    ("gelu(p)", -3.0, 3.0, &[]),
    ("gelu(p, approximate=\"tanh\")", -3.0, 3.0, &[]),
    ("silu(p)", -3.0, 3.0, &[]),
    ("mish(p)", -3.0, 3.0, &[]),
    ("softplus(p, beta=2, threshold=3)", -3.0, 3.0, &[1.5]),
    (
        "hardtanh(p, min_val=-2, max_val=1)",
        -3.0,
        3.0,
        &[-2.0, 1.0],
    ),
    ("relu6(p)", -2.0, 8.0, &[0.0, 6.0]),
    ("hardsigmoid(p)", -5.0, 5.0, &[-3.0, 3.0]),
    ("hardswish(p)", -5.0, 5.0, &[-3.0, 3.0]),
    ("logsigmoid(p)", -5.0, 5.0, &[]),
    ("softsign(p)", -3.0, 3.0, &[0.0]),
    ("tanhshrink(p)", -3.0, 3.0, &[]),
    ("erf(p)", -2.0, 2.0, &[]),
    ("erfc(p)", -2.0, 2.0, &[]),
    ("erfinv(p)", -0.9, 0.9, &[]),
    ("lgamma(p)", 0.2, 6.0, &[]),
    ("digamma(p)", 0.2, 6.0, &[]),
    ("xlogy(p, q)", 0.2, 3.0, &[]),
    ("xlogy(q, p)", 0.2, 3.0, &[]),
    ("logaddexp(p, t)", -3.0, 3.0, &[]),
    ("softmax(p, axis=-1)", -3.0, 3.0, &[]),
    ("log_softmax(p, axis=0)", -3.0, 3.0, &[]),
    ("logsumexp(p, axis=-1)", -3.0, 3.0, &[]),
    ("logsumexp(p)", -3.0, 3.0, &[]),
    ("mse_loss(p, t)", -3.0, 3.0, &[]),
    ("l1_loss(p, t, reduction=\"sum\")", -3.0, 3.0, &[]),
    ("smooth_l1_loss(p, t, beta=0.5)", -3.0, 3.0, &[]),
    (
        "huber_loss(p, t, delta=0.7, reduction=\"none\")",
        -3.0,
        3.0,
        &[],
    ),
    ("binary_cross_entropy(sigmoid(p), q / 3)", -3.0, 3.0, &[]),
    (
        "binary_cross_entropy_with_logits(p, q / 3, pos_weight=t)",
        -3.0,
        3.0,
        &[],
    ),
    (
        "kl_div(log_softmax(p, axis=-1), softmax(t, axis=-1), reduction=\"batchmean\")",
        -3.0,
        3.0,
        &[],
    ),
    (
        "poisson_nll_loss(p, floor(q * 2), full=true)",
        -1.0,
        2.0,
        &[],
    ),
    ("gaussian_nll_loss(t, q, p, full=true)", 0.3, 3.0, &[]),
    ("cosine_similarity(p, t, axis=-1)", -3.0, 3.0, &[]),
    (
        "cross_entropy(p, softmax(t, axis=-1), label_smoothing=0.1)",
        -3.0,
        3.0,
        &[],
    ),
];

/// Random values in [lo, hi], each at least 0.05 from every kink and from
/// t, t ± 0.5 and t ± 0.7 (the kinks of the losses' differences).
fn values(rng: &mut ChaCha8Rng, n: usize, lo: f64, hi: f64, kinks: &[f64], t: &[f64]) -> Vec<f64> {
    (0..n)
        .map(|i| loop {
            let v: f64 = rng.gen_range(lo..hi);
            let d = (v - t[i]).abs();
            let near = kinks.iter().any(|k| (v - k).abs() < 0.05)
                || [0.0, 0.5, 0.7].iter().any(|k| (d - k).abs() < 0.05);
            if !near {
                break v;
            }
        })
        .collect()
}

#[test]
fn gradients_agree_with_central_differences_on_random_shapes() {
    let mut rng = ChaCha8Rng::seed_from_u64(14);
    let shapes: &[&[usize]] = &[&[3, 4], &[2, 2, 3], &[5, 2], &[7]];
    let h = 1e-5;
    let mut failures = Vec::new();
    for (k, (expr, lo, hi, kinks)) in FUNCTIONS.iter().enumerate() {
        let shape = shapes[k % shapes.len()];
        let n: usize = shape.iter().product();
        let t: Vec<f64> = (0..n).map(|_| rng.gen_range(-2.0..2.0)).collect();
        let q: Vec<f64> = (0..n).map(|_| rng.gen_range(0.1..3.0)).collect();
        let p = values(&mut rng, n, *lo, *hi, kinks, &t);
        // A nonlinear scalar of the result, so that a softmax's gradient is
        // not identically zero.
        let obj = format!("sum(0.5 * ({expr})^2 + 0.3 * ({expr}))");
        let mut s = format!(
            "param p = {};\nlet t = {};\nlet q = {};\nprint grad({obj}, p);\n",
            lit(&p, shape),
            lit(&t, shape),
            lit(&q, shape),
        );
        for i in 0..n {
            for sign in [1.0, -1.0] {
                let mut v = p.clone();
                v[i] += sign * h;
                s.push_str(&format!("p = {};\nprint {obj};\n", lit(&v, shape)));
            }
        }
        let out = match run_json(&s, false) {
            Ok(o) if is_ok(&o) => o,
            Ok(o) => {
                failures.push(format!("{expr}: {}", get(&o, "error")));
                continue;
            }
            Err(e) => {
                failures.push(format!("{expr}: {e}"));
                continue;
            }
        };
        let vals = printed_values(&out);
        let mut g = Vec::new();
        flat(&vals[0], &mut g);
        for i in 0..n {
            let fp = common::num(&vals[1 + 2 * i]).unwrap_or(f64::NAN);
            let fm = common::num(&vals[2 + 2 * i]).unwrap_or(f64::NAN);
            let fd = (fp - fm) / (2.0 * h);
            let ok = (g[i] - fd).abs() <= 1e-6 * (1.0 + g[i].abs());
            if !ok {
                failures.push(format!(
                    "{expr} on {shape:?}: element {i}: grad {} vs differences {fd}",
                    g[i]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Runs one failing line after `setup`; returns stderr.
fn error_of(setup: &str, line: &str) -> String {
    let (_, err, code) = run_text(&format!("{setup}\n{line}\n"));
    assert_eq!(code, 1, "{line}: {err}");
    err
}

#[test]
fn bad_inputs_are_diagnostics_at_the_argument() {
    let setup = "param p = [[1, 2, 3], [0, 1, 2]];";
    // (line, words that must appear, column of the primary label)
    let cases: &[(&str, &[&str], usize)] = &[
        (
            "print cross_entropy(p, [0, 3]);",
            &[
                "class index 3 is out of range for 3 classes",
                "run from 0 to 2",
            ],
            24,
        ),
        (
            "print cross_entropy(p, [0, 1.5]);",
            &["must be whole numbers", "1.5"],
            24,
        ),
        (
            "print cross_entropy(p, [0, 1, 2]);",
            &[
                "does not fit an input of shape [2, 3]",
                "class indices of shape [2]",
            ],
            24,
        ),
        (
            "print nll_loss(p, p);",
            &["target of shape [2, 3] does not fit"],
            19,
        ),
        (
            "print cross_entropy(p, [0, 1], weight=[1, 2]);",
            &["weight of shape [2] for 3 classes"],
            39,
        ),
        (
            "print cross_entropy(p, [0, 1], label_smoothing=1.5);",
            &["between 0 and 1"],
            48,
        ),
        (
            "print mse_loss(p, p, reduction=\"avg\");",
            &["unknown reduction \"avg\"", "\"mean\", \"sum\", \"none\""],
            32,
        ),
        (
            "print kl_div(p, p, reduction=\"batch\");",
            &["\"batchmean\""],
            30,
        ),
        (
            "print softmax(p, axis=2);",
            &["axis 2 is out of range", "from -2 to 1"],
            23,
        ),
        (
            "print logsumexp(p, dim=-3);",
            &["axis -3 is out of range"],
            24,
        ),
        (
            "print binary_cross_entropy([0.5, 1.2], [1, 0]);",
            &["must lie in [0, 1]", "1.2"],
            28,
        ),
        (
            "print binary_cross_entropy(sigmoid(p), [1, 0]);",
            &["must have the input's shape [2, 3]"],
            40,
        ),
        (
            "print gelu(p, approximate=\"fast\");",
            &["unknown approximate \"fast\"", "\"none\", \"tanh\""],
            27,
        ),
        (
            "print poisson_nll_loss(p, p, full=1);",
            &["`full` must be true or false"],
            35,
        ),
        (
            "print gaussian_nll_loss(p, p, [1, 2, 3]);",
            &["var of shape [3]", "incorrect size"],
            31,
        ),
        (
            "print gaussian_nll_loss(p, p, [[1], [-1]]);",
            &["var must lie in [0, inf]", "-1"],
            31,
        ),
        (
            "print hardtanh(p, min_val=2, max_val=1);",
            &["min_val 2 is greater than its max_val 1"],
            27,
        ),
        (
            "print huber_loss(p, p, delta=0);",
            &["delta must be > 0"],
            30,
        ),
        (
            "print smooth_l1_loss(p, p, beta=-1);",
            &["beta must be >= 0"],
            33,
        ),
        (
            "print one_hot([0, 4], 3);",
            &["class index 4 is out of range for 3 classes"],
            15,
        ),
        ("print one_hot([0, 1], 0);", &["at least 1 class"], 23),
        ("print argmax(zeros([0]));", &["of an empty tensor"], 7),
        (
            "print leaky_relu(p, slope=0.1);",
            &["no argument `slope`", "negative_slope=0.01"],
            21,
        ),
        (
            "print cross_entropy(p, [0, p[0, 0]]);",
            &["class indices must be constant"],
            24,
        ),
        (
            "print cross_entropy(1, 0);",
            &["needs an input with a class axis"],
            21,
        ),
    ];
    let mut bad = Vec::new();
    for (line, words, col) in cases {
        let err = error_of(setup, line);
        for w in *words {
            if !err.contains(w) {
                bad.push(format!("{line}: no `{w}` in\n{err}"));
            }
        }
        match locations(&err).first() {
            Some((_, 2, c)) if c == col => {}
            other => bad.push(format!(
                "{line}: label at {other:?}, want line 2 column {col}\n{err}"
            )),
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n\n"));
}

#[test]
fn values_torch_gives_as_inf_or_nan_come_out_the_same() {
    let out = run_json(
        "print erfinv(2), erfinv(1), lgamma(0), lgamma(-1), digamma(0), digamma(-2), xlogy(0, 0), logaddexp(-inf, -inf);\n",
        false,
    )
    .expect("runs");
    assert!(is_ok(&out), "{}", get(&out, "error"));
    let mut got = Vec::new();
    for v in printed_values(&out) {
        flat(&v, &mut got);
    }
    let want = [
        f64::NAN,
        f64::INFINITY,
        f64::INFINITY,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        0.0,
        f64::NEG_INFINITY,
    ];
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!(g == &w || (g.is_nan() && w.is_nan()), "{got:?}");
    }
}

#[test]
fn softmax_family_is_stable_for_large_inputs() {
    let (out, err, code) = run_text(
        "print logsumexp([1000, 1000, 0]), softmax([1000, 1000, 0]), log_softmax([-1000, 0]);\n",
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.trim(),
        "1000.6931471805599 [0.5000000000000275, 0.5000000000000275, 0.0] [-1000.0, 0.0]"
    );
}

#[test]
fn a_minimization_starting_outside_the_domain_is_refused() {
    for (script, words, line) in [
        (
            "param x = 2;\nminimize erfinv(x / 4) + (erfinv(x))^2;\n",
            "erfinv's argument must lie in [-1, 1], and 2 does not",
            2,
        ),
        (
            "param z = [0.5, 1.5];\nminimize binary_cross_entropy(z, [1, 0]);\n",
            "binary_cross_entropy's input must lie in [0, 1], and 1.5 does not",
            2,
        ),
    ] {
        let (_, err, code) = run_text(script);
        assert_eq!(code, 1, "{err}");
        assert!(err.contains(words), "{err}");
        assert!(err.contains("help: torch refuses this value"), "{err}");
        assert_eq!(locations(&err).first().map(|l| l.1), Some(line), "{err}");
    }
    // inside the domain it runs, and printing outside gives torch's nan
    let (out, err, code) =
        run_text("param x = 0.5;\nminimize (erfinv(x) - 1)^2;\nx = 2;\nprint erfinv(x);\n");
    assert_eq!(code, 0, "{err}");
    assert!(out.trim_end().ends_with("nan"), "{out}");
}
