//! Tensors (SPEC section 6), run through the interpreter: the gradient of
//! every tensor op against central finite differences on random shapes and
//! values (first and second order), values of reductions, matmul and
//! indexing, initializer statistics, seeds, csv tables and their errors,
//! the size limit, and Minuit on tensor parameters.

use losslang::interp::{Options, Outcome, Session};
use losslang::tensor::{fmt_num, Tensor};
use serde_json::Value;
use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;

#[derive(Clone, Default)]
struct Buf(Rc<RefCell<Vec<u8>>>);

impl Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

struct Run {
    outcome: Outcome,
    printed: Vec<Value>,
    stderr: String,
    records: Vec<Value>,
}

fn run_in(src: &str, dir: Option<&std::path::Path>) -> Run {
    let err = Buf::default();
    let opts = Options {
        json: true,
        ..Options::default()
    };
    let mut s = Session::new(opts, Box::new(Buf::default()), Box::new(err.clone()));
    if let Some(d) = dir {
        s.base_dir = d.to_path_buf();
    }
    let outcome = s.run_source("test.loss", src);
    let printed = s
        .records
        .iter()
        .filter(|r| r["kind"] == "print")
        .flat_map(|r| r["values"].as_array().cloned().unwrap_or_default())
        .collect();
    let stderr = String::from_utf8_lossy(&err.0.borrow()).to_string();
    Run {
        outcome,
        printed,
        stderr,
        records: s.records.clone(),
    }
}

fn run(src: &str) -> Run {
    run_in(src, None)
}

fn ok(src: &str) -> Vec<Value> {
    let r = run(src);
    assert_eq!(
        r.outcome,
        Outcome::Ok,
        "script failed:\n{src}\n{}",
        r.stderr
    );
    r.printed
}

fn flat(v: &Value, out: &mut Vec<f64>) {
    match v {
        Value::Array(a) => a.iter().for_each(|x| flat(x, out)),
        Value::Number(n) => out.push(n.as_f64().unwrap()),
        Value::String(s) => out.push(match s.as_str() {
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            _ => f64::NAN,
        }),
        other => panic!("not a number: {other}"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    let mut out = Vec::new();
    flat(v, &mut out);
    out
}

fn num(v: &Value) -> f64 {
    let n = nums(v);
    assert_eq!(n.len(), 1, "not a scalar: {v}");
    n[0]
}

/// A small deterministic generator for test shapes and values.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() * (hi - lo + 1) as f64) as usize % (hi - lo + 1)
    }
    fn values(&mut self, shape: &[usize], lo: f64, hi: f64) -> Tensor {
        let n: usize = shape.iter().product();
        Tensor {
            shape: shape.to_vec(),
            data: (0..n).map(|_| lo + (hi - lo) * self.next()).collect(),
        }
    }
}

fn decl(name: &str, t: &Tensor) -> String {
    let dims: Vec<String> = t.shape.iter().map(|d| d.to_string()).collect();
    format!("param {name}[{}] = {t};\n", dims.join(", "))
}

/// Checks grad(loss, p) for every parameter p against central differences.
fn check_grad(params: &[(&str, Tensor)], loss: &str) {
    let decls: String = params.iter().map(|(n, t)| decl(n, t)).collect();
    let mut script = decls.clone();
    script.push_str(&format!("print {loss};\n"));
    for (n, _) in params {
        script.push_str(&format!("print grad({loss}, {n});\n"));
    }
    let out = ok(&script);
    for (pi, (name, t)) in params.iter().enumerate() {
        let g = nums(&out[1 + pi]);
        assert_eq!(
            g.len(),
            t.data.len(),
            "{loss}: gradient of {name} has the wrong size"
        );
        for (k, &x) in t.data.iter().enumerate() {
            let h = 1e-6 * x.abs().max(1.0);
            let at = |v: f64| {
                let mut s = String::new();
                for (n2, t2) in params {
                    let mut t2 = t2.clone();
                    if n2 == name {
                        t2.data[k] = v;
                    }
                    s.push_str(&decl(n2, &t2));
                }
                s.push_str(&format!("print {loss};\n"));
                num(&ok(&s)[0])
            };
            let fd = (at(x + h) - at(x - h)) / (2.0 * h);
            let tol = 1e-5 * (1.0 + fd.abs().max(g[k].abs()));
            assert!(
                (fd - g[k]).abs() <= tol,
                "{loss}: d/d{name}[{k}] = {} by autodiff, {fd} by finite differences\n{decls}",
                g[k]
            );
        }
    }
}

#[test]
fn gradients_of_elementwise_broadcasting_and_reductions() {
    let mut r = Lcg(1);
    for trial in 0..3 {
        let (m, n) = (r.range(1, 4), r.range(2, 4));
        let a = r.values(&[m, n], -2.0, 2.0);
        let b = r.values(&[n], 0.5, 2.0);
        let c = r.values(&[m, 1], -1.0, 1.0);
        let ps = [("a", a), ("b", b), ("c", c)];
        let losses = [
            "sum(a * b + c)",
            "sum(exp(a) / (1 + b^2) - c * a)",
            "mean(tanh(a) * b) + var(a) + std(a + c)",
            "sum(sum(a, axis=0) ^ 2) + sum(mean(a * c, axis=1) ^ 2)",
            "sum(var(a, axis=0)) + sum(std(a, axis=-1))",
            "norm(a) + sum(norm(a, axis=0)) + prod(b) + sum(prod(a, axis=1))",
            "max(a) + min(a * b) + sum(max(a, axis=0)) + sum(min(a, axis=-1) * 2)",
            "sum(where(a > 0, a * b, c)) + sum(clamp(a, -1, 1) * b)",
        ];
        for l in losses {
            let _ = trial;
            check_grad(&ps, l);
        }
    }
}

#[test]
fn gradients_of_matmul_shapes_and_indexing() {
    let mut r = Lcg(2);
    for _ in 0..2 {
        let (m, k, n) = (r.range(1, 3), r.range(1, 4), r.range(1, 3));
        let a = r.values(&[m, k], -1.0, 1.0);
        let b = r.values(&[k, n], -1.0, 1.0);
        let v = r.values(&[k], -1.0, 1.0);
        let t = r.values(&[2, m, k], -1.0, 1.0);
        let ps = [("a", a), ("b", b), ("v", v), ("t", t)];
        let losses = [
            "sum((a @ b) ^ 2)",
            "sum(v @ b) + sum(sin(a @ v))",
            "v @ v + dot(v, v * 2) + sum(dot(a, b))",
            "sum((t @ b) ^ 2)",
            "sum(transpose(a) * transpose(a)) + sum(transpose(t) ^ 3)",
            "sum(reshape(a, [-1]) * reshape(a, [-1])) + sum(reshape(t, [2, -1]) ^ 2)",
            "a[0, 0] * v[-1] + sum(a[:, 0] ^ 2) + sum(a[0, :] ^ 3) + sum(v[0:1]) + sum(t[1] ^ 2)",
            "sum([a[0, 0], v[0] * 2, 3]) + sum([v, v ^ 2] ^ 2) + sum([a, a * a] @ b)",
        ];
        for l in losses {
            check_grad(&ps, l);
        }
    }
}

#[test]
fn second_order_gradients_through_tensor_ops() {
    let mut r = Lcg(3);
    let a = r.values(&[2, 3], 0.5, 1.5);
    let b = r.values(&[3, 2], -1.0, 1.0);
    let ps = [("a", a), ("b", b)];
    for inner in [
        "sum((a @ b) ^ 2)",
        "prod(a) + sum(max(a, axis=0) ^ 2)",
        "norm(a) + sum(var(a, axis=1))",
        "sum(transpose(a) * b) + sum(a[:, 1:3] ^ 3)",
    ] {
        check_grad(
            &ps,
            &format!("sum(grad({inner}, a) ^ 2) + sum(grad({inner}, b) ^ 2)"),
        );
    }
}

#[test]
fn values_of_reductions_matmul_and_indexing() {
    let out = ok(r#"
        let a = [[1, 2, 3], [4, 5, 6]];
        print sum(a), mean(a), var(a), std([2, 4]), norm([3, 4]), prod(a), min(a), max(a);
        print sum(a, axis=0), sum(a, axis=-1), max(a, axis=1), min(a, axis=0), prod(a, axis=1);
        print a @ [1, 1, 1], [1, 1] @ a, [1, 2] @ [3, 4], a @ transpose(a);
        print a[1], a[:, 1], a[0, 1:3], a[-1, -1], a[0:1], a[:, :2];
        print reshape(a, [3, -1]), transpose(a), dot([1, 2], [3, 4]);
        print linspace(0, 1, 5), arange(0, 1, step=0.25), arange(3), zeros([2]), ones([1, 2]), full([2], 7);
    "#);
    let s = |i: usize| out[i].to_string();
    assert_eq!(s(0), "21.0");
    assert_eq!(num(&out[1]), 3.5);
    assert!((num(&out[2]) - 35.0 / 12.0).abs() < 1e-12);
    assert_eq!(num(&out[3]), 1.0);
    assert_eq!(num(&out[4]), 5.0);
    assert_eq!(num(&out[5]), 720.0);
    assert_eq!((num(&out[6]), num(&out[7])), (1.0, 6.0));
    assert_eq!(nums(&out[8]), [5.0, 7.0, 9.0]);
    assert_eq!(nums(&out[9]), [6.0, 15.0]);
    assert_eq!(nums(&out[10]), [3.0, 6.0]);
    assert_eq!(nums(&out[11]), [1.0, 2.0, 3.0]);
    assert_eq!(nums(&out[12]), [6.0, 120.0]);
    assert_eq!(nums(&out[13]), [6.0, 15.0]);
    assert_eq!(nums(&out[14]), [5.0, 7.0, 9.0]);
    assert_eq!(num(&out[15]), 11.0);
    assert_eq!(out[16].to_string(), "[[14.0,32.0],[32.0,77.0]]");
    assert_eq!(nums(&out[17]), [4.0, 5.0, 6.0]);
    assert_eq!(nums(&out[18]), [2.0, 5.0]);
    assert_eq!(nums(&out[19]), [2.0, 3.0]);
    assert_eq!(num(&out[20]), 6.0);
    assert_eq!(out[21].to_string(), "[[1.0,2.0,3.0]]");
    assert_eq!(out[22].to_string(), "[[1.0,2.0],[4.0,5.0]]");
    assert_eq!(out[23].to_string(), "[[1.0,2.0],[3.0,4.0],[5.0,6.0]]");
    assert_eq!(out[24].to_string(), "[[1.0,4.0],[2.0,5.0],[3.0,6.0]]");
    assert_eq!(num(&out[25]), 11.0);
    assert_eq!(nums(&out[26]), [0.0, 0.25, 0.5, 0.75, 1.0]);
    assert_eq!(nums(&out[27]), [0.0, 0.25, 0.5, 0.75]);
    assert_eq!(nums(&out[28]), [0.0, 1.0, 2.0]);
    assert_eq!(out[29].to_string(), "[0.0,0.0]");
    assert_eq!(out[30].to_string(), "[[1.0,1.0]]");
    assert_eq!(nums(&out[31]), [7.0, 7.0]);
}

#[test]
fn max_and_min_split_ties_evenly_like_amax() {
    let out = ok("param x = 2; param w[4] = [1, 3, 3, 0];
        print grad(max([x, x, 1]), x), grad(max(w), w), grad(min([w, w]), w), grad(sum(max(reshape(w, [2, 2]), axis=0)), w);");
    assert_eq!(num(&out[0]), 1.0);
    assert_eq!(nums(&out[1]), [0.0, 0.5, 0.5, 0.0]);
    assert_eq!(nums(&out[2]), [0.0, 0.0, 0.0, 1.0]);
    assert_eq!(nums(&out[3]), [0.0, 1.0, 1.0, 0.0]);
    // torch: norm'(0) = 0, prod' with a zero is the product of the others
    let out = ok(
        "param w[3] = [0, 2, 3]; param z[2] = [0, 0]; print grad(prod(w), w), grad(norm(z), z);",
    );
    assert_eq!(nums(&out[0]), [6.0, 0.0, 0.0]);
    assert_eq!(nums(&out[1]), [0.0, 0.0]);
    // torch's std_backward is 0 where std is 0; sqrt(var) keeps sqrt'(0) = inf
    let out = ok("param c[3] = [2, 2, 2]; print grad(std(c), c), grad(sqrt(var(c)), c);");
    assert_eq!(nums(&out[0]), [0.0, 0.0, 0.0]);
    assert!(nums(&out[1]).iter().all(|v| v.is_nan()));
}

#[test]
fn initializers_follow_torch_fans_and_gains() {
    let stats = |init: &str, shape: &str| {
        let o = ok(&format!(
            "seed 3; param w[{shape}]{init}; print max(w), min(w), mean(w), var(w);"
        ));
        (num(&o[0]), num(&o[1]), num(&o[2]), num(&o[3]))
    };
    // nn.Linear's default: U(±1/sqrt(fan_in)), fan_in = 100
    let (hi, lo, m, v) = stats("", "1000, 100");
    assert!(
        hi <= 0.1 && hi > 0.0999 && (-0.1..-0.0999).contains(&lo),
        "{hi} {lo}"
    );
    assert!(
        m.abs() < 1e-3 && (v / (0.01 / 3.0) - 1.0).abs() < 0.02,
        "{m} {v}"
    );
    // kaiming_uniform(relu): bound = sqrt(3) * sqrt(2) / sqrt(fan_in)
    let b = 6f64.sqrt() / 10.0;
    let (hi, lo, _, v) = stats(" ~ kaiming_uniform(nonlinearity=\"relu\")", "1000, 100");
    assert!(hi <= b && hi > 0.99 * b && lo >= -b, "{hi} {lo}");
    assert!((v / (b * b / 3.0) - 1.0).abs() < 0.02);
    // kaiming_normal(mode="fan_out"): std = sqrt(2) / sqrt(1000)
    let (_, _, m, v) = stats(" ~ kaiming_normal(mode=\"fan_out\")", "1000, 100");
    assert!(m.abs() < 2e-3 && (v / 0.002 - 1.0).abs() < 0.02, "{m} {v}");
    // xavier_uniform(gain=2): a = 2 * sqrt(6 / (fan_in + fan_out)); conv-shaped fans
    let fi = 3.0 * 25.0;
    let fo = 8.0 * 25.0;
    let a = 2.0 * (6.0f64 / (fi + fo)).sqrt();
    let (hi, lo, _, _) = stats(" ~ xavier_uniform(gain=2)", "8, 3, 5, 5");
    assert!(hi <= a && lo >= -a && hi > 0.95 * a);
    let (_, _, m, v) = stats(" ~ xavier_normal()", "500, 300");
    assert!(
        m.abs() < 2e-3 && (v / (2.0 / 800.0) - 1.0).abs() < 0.02,
        "{m} {v}"
    );
    let (_, _, m, v) = stats(" ~ normal(1, 0.5)", "200, 200");
    assert!((m - 1.0).abs() < 0.01 && (v / 0.25 - 1.0).abs() < 0.03);
    let (hi, lo, ..) = stats(" ~ uniform(-3, -2)", "1000");
    assert!(hi < -2.0 && lo >= -3.0);
    assert_eq!(stats(" ~ zeros", "3").0, 0.0);
    assert_eq!(stats(" ~ ones()", "3").1, 1.0);
    assert_eq!(stats(" ~ constant(2.5)", "3, 2").2, 2.5);
    assert_eq!(stats(" = 4", "2").2, 4.0);
    // tensor values and their shape check
    assert_eq!(
        ok("param w[2, 2] = [[1, 2], [3, 4]]; print sum(w);")[0].to_string(),
        "10.0"
    );
    let r = run("param w[2, 3] = [1, 2];");
    assert!(
        r.stderr.contains("E0402") && r.stderr.contains("[2, 3]") && r.stderr.contains("[2]"),
        "{}",
        r.stderr
    );
    let r = run("param w[4] ~ xavier_uniform;");
    assert!(r.stderr.contains("at least 2 dimensions"), "{}", r.stderr);
    let r = run("param w[4, 4] ~ kaiming_normal(nonlinearity=\"rleu\");");
    assert!(r.stderr.contains("did you mean \"relu\""), "{}", r.stderr);
    let r = run("param w[4, 4] ~ xavier_unifrom;");
    assert!(
        r.stderr.contains("did you mean `xavier_uniform`"),
        "{}",
        r.stderr
    );
}

#[test]
fn seeds_are_deterministic_and_one_stream_is_shared() {
    let script = "seed 42; param w[3, 2]; print w, rand([2]), randn([2]), randint(0, 5, [4]);";
    let a = ok(script);
    assert_eq!(a, ok(script));
    let b = ok(&script.replace("42", "43"));
    assert_ne!(a[0], b[0]);
    // `seed` restarts the stream; random uses advance it
    let o = ok("seed 1; print rand([3]); print rand([3]); seed 1; print rand([3]);");
    assert_eq!(o[0], o[2]);
    assert_ne!(o[0], o[1]);
    // a let of random values is drawn once
    let o = ok("let r = randn([4]); print r; print r;");
    assert_eq!(o[0], o[1]);
    let ints = nums(&ok("print randint(-2, 3, [200]);")[0]);
    assert!(ints
        .iter()
        .all(|v| v.fract() == 0.0 && (-2.0..3.0).contains(v)));
    let u = nums(&ok("print rand([500]);")[0]);
    assert!(u.iter().all(|v| (0.0..1.0).contains(v)));
}

#[test]
fn csv_tables_and_their_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("points.csv"), "x,y\n0,1\n1,3\n2,5\n").unwrap();
    std::fs::write(dir.path().join("bad.csv"), "x,y\n0,1\n1,oops\n").unwrap();
    std::fs::write(dir.path().join("ragged.csv"), "x,y\n0,1\n1\n").unwrap();
    let r = run_in(
        "let d = csv(\"points.csv\"); param w[2] = [0, 0];
         minimize sum((w[0] + w[1] * d.x - d.y)^2) with migrad;
         print d.x, d.y, w;",
        Some(dir.path()),
    );
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.stderr);
    assert_eq!(nums(&r.printed[0]), [0.0, 1.0, 2.0]);
    let w = nums(&r.printed[2]);
    assert!(
        (w[0] - 1.0).abs() < 1e-6 && (w[1] - 2.0).abs() < 1e-6,
        "{w:?}"
    );
    let params = r.records.iter().find(|x| x["kind"] == "minimize").unwrap()["params"].clone();
    assert!(params.get("w").is_some(), "{params}");
    let e = run_in("let d = csv(\"missing.csv\");", Some(dir.path())).stderr;
    assert!(e.contains("E0404") && e.contains("missing.csv"), "{e}");
    let e = run_in("let d = csv(\"bad.csv\");", Some(dir.path())).stderr;
    assert!(
        e.contains("bad.csv:3") && e.contains("`y`") && e.contains("oops"),
        "{e}"
    );
    let e = run_in("let d = csv(\"ragged.csv\");", Some(dir.path())).stderr;
    assert!(e.contains("ragged.csv:3"), "{e}");
    let e = run_in("let d = csv(\"points.csv\"); print d.xx;", Some(dir.path())).stderr;
    assert!(
        e.contains("no column `xx`") && e.contains("did you mean `x`"),
        "{e}"
    );
}

#[test]
fn size_limit_and_shape_errors_are_diagnostics() {
    for src in [
        "param w[100000, 100000];",
        "print zeros([65536, 65536]);",
        "print sum(ones([20000, 1]) * ones([1, 20000]));",
        "print linspace(0, 1, 1e12);",
    ] {
        let r = run(src);
        assert!(matches!(r.outcome, Outcome::Error(..)), "{src}");
        assert!(r.stderr.contains("E0402"), "{src}: {}", r.stderr);
    }
    for (src, words) in [
        ("print [1, 2] @ [1, 2, 3];", &["[2]", "[3]"][..]),
        ("print zeros([2, 3]) + ones([4]);", &["[2, 3]", "[4]"]),
        ("print reshape(zeros([2, 3]), [4, -1]);", &["[2, 3]"]),
        ("print sum(zeros([2, 3]), axis=2);", &["axis 2"]),
        ("print zeros([2, 3])[2];", &["out of range"]),
        ("param x = 1; print [x, [x, x]];", &["[]", "[2]"]),
    ] {
        let r = run(src);
        assert!(r.stderr.contains("E0402"), "{src}: {}", r.stderr);
        for w in words {
            assert!(r.stderr.contains(w), "{src}: no `{w}` in {}", r.stderr);
        }
    }
}

#[test]
fn minuit_fits_tensor_parameters_element_by_element() {
    let r = run("param w[3] = [0, 0, 0]; minimize sum((w - [1, 2, 3])^2) with migrad; print w;");
    assert_eq!(r.outcome, Outcome::Ok, "{}", r.stderr);
    let w = nums(&r.printed[0]);
    for (a, b) in w.iter().zip([1.0, 2.0, 3.0]) {
        assert!((a - b).abs() < 1e-6, "{w:?}");
    }
    let rec = r.records.iter().find(|x| x["kind"] == "minimize").unwrap();
    assert!(rec.to_string().contains("w[2]"), "{rec}");
    let r = run("param w[40, 40]; minimize sum(w^2) with migrad;");
    assert!(r.stderr.contains("at most 1000"), "{}", r.stderr);
}

#[test]
fn step_based_fit_of_a_vector_parameter() {
    let out = ok("seed 0; param w[2] = [0, 0];
        minimize sum((w - [1, -2])^2) with adam(lr=0.1) for 300 steps; print w;");
    let w = nums(&out[0]);
    assert!(
        (w[0] - 1.0).abs() < 1e-2 && (w[1] + 2.0).abs() < 1e-2,
        "{w:?}"
    );
    let _ = fmt_num(0.0);
}
