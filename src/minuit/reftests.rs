//! Tests of MIGRAD, HESSE and MINOS against iminuit's results
//! (tests/reference/minuit.json), in numeric and autograd modes, with the
//! acceptance rules of shared/tools/refcheck.py's check_minuit.

use super::{hesse, migrad, minos, Fcn, FunctionMinimum, MigradOptions, ParamSpec};
use serde_json::Value;

const REF: &str = include_str!("../../tests/reference/minuit.json");

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Himmelblau,
    Beale,
}

struct TestFcn {
    kind: Kind,
    exact: bool,
    path: Vec<Vec<f64>>,
}

impl TestFcn {
    fn new(kind: Kind, exact: bool) -> TestFcn {
        TestFcn {
            kind,
            exact,
            path: Vec::new(),
        }
    }

    fn f(&self, p: &[f64]) -> f64 {
        let (x, y) = (p[0], p[1]);
        match self.kind {
            Kind::Himmelblau => (x * x + y - 11.0).powi(2) + (x + y * y - 7.0).powi(2),
            Kind::Beale => {
                (1.5 - x + x * y).powi(2)
                    + (2.25 - x + x * y * y).powi(2)
                    + (2.625 - x + x * y * y * y).powi(2)
            }
        }
    }
}

impl Fcn for TestFcn {
    fn value(&mut self, x: &[f64]) -> f64 {
        self.path.push(x.to_vec());
        self.f(x)
    }
    fn has_gradient(&self) -> bool {
        self.exact
    }
    fn gradient(&mut self, p: &[f64], g: &mut [f64]) {
        let (x, y) = (p[0], p[1]);
        match self.kind {
            Kind::Himmelblau => {
                let a = x * x + y - 11.0;
                let b = x + y * y - 7.0;
                g[0] = 4.0 * x * a + 2.0 * b;
                g[1] = 2.0 * a + 4.0 * y * b;
            }
            Kind::Beale => {
                let t = [(1.5, 1), (2.25, 2), (2.625, 3)];
                g[0] = 0.0;
                g[1] = 0.0;
                for (c, k) in t {
                    let yk = y.powi(k);
                    let r = c - x + x * yk;
                    g[0] += 2.0 * r * (yk - 1.0);
                    g[1] += 2.0 * r * x * (k as f64) * y.powi(k - 1);
                }
            }
        }
    }
    fn hessian(&mut self, p: &[f64], h: &mut [f64]) -> bool {
        let (x, y) = (p[0], p[1]);
        match self.kind {
            Kind::Himmelblau => {
                let a = x * x + y - 11.0;
                let b = x + y * y - 7.0;
                h[0] = 4.0 * a + 8.0 * x * x + 2.0;
                h[1] = 4.0 * x + 4.0 * y;
                h[2] = h[1];
                h[3] = 2.0 + 4.0 * b + 8.0 * y * y;
            }
            Kind::Beale => {
                let t = [(1.5, 1), (2.25, 2), (2.625, 3)];
                h.iter_mut().for_each(|v| *v = 0.0);
                for (c, k) in t {
                    let kf = k as f64;
                    let yk = y.powi(k);
                    let dyk = kf * y.powi(k - 1);
                    let d2yk = if k >= 2 {
                        kf * (kf - 1.0) * y.powi(k - 2)
                    } else {
                        0.0
                    };
                    let r = c - x + x * yk;
                    let rx = yk - 1.0;
                    let ry = x * dyk;
                    h[0] += 2.0 * rx * rx;
                    h[1] += 2.0 * (rx * ry + r * dyk);
                    h[3] += 2.0 * (ry * ry + r * x * d2yk);
                }
                h[2] = h[1];
            }
        }
        true
    }
}

fn guess_error(v: f64) -> f64 {
    if v != 0.0 {
        0.01 * v.abs()
    } else {
        0.1
    }
}

struct Case {
    id: String,
    kind: Kind,
    params: Vec<ParamSpec>,
    opts: MigradOptions,
    fixed: Vec<String>,
    refv: Value,
}

fn cases() -> Vec<Case> {
    let all: Value = serde_json::from_str(REF).expect("reference json");
    let mut out = Vec::new();
    for c in all["cases"].as_array().expect("cases") {
        let obj = c["objective"].as_str().unwrap_or("");
        let kind = if obj.starts_with("(1.5") {
            Kind::Beale
        } else {
            Kind::Himmelblau
        };
        let fixed: Vec<String> = c["fixed"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        let mut params = Vec::new();
        for name in ["x", "y"] {
            let v = c["start"][name].as_f64().expect("start");
            let lim = &c["limits"][name];
            params.push(ParamSpec {
                name: name.into(),
                value: v,
                error: guess_error(v),
                lower: lim.get(0).and_then(|v| v.as_f64()),
                upper: lim.get(1).and_then(|v| v.as_f64()),
                fixed: fixed.iter().any(|f| f == name),
            });
        }
        let mo = &c["migrad_options"];
        let opts = MigradOptions {
            tol: mo["tol"].as_f64().unwrap_or(0.1),
            strategy: mo["strategy"].as_u64().unwrap_or(1) as u32,
            errordef: c["errordef"].as_f64().unwrap_or(1.0),
            ncall: None,
            numeric_grad: false,
        };
        out.push(Case {
            id: c["id"].as_str().unwrap_or("").into(),
            kind,
            params,
            opts,
            fixed,
            refv: c.clone(),
        });
    }
    out
}

fn close(a: f64, b: f64, rtol: f64, atol: f64) -> bool {
    (a - b).abs() <= atol + rtol * b.abs()
}

/// Runs one case in one mode and applies check_minuit's rules; returns
/// (problems, our nfcn, our ngrad).
fn check(case: &Case, numeric: bool) -> (Vec<String>, usize, usize) {
    let mut c = Check {
        case,
        numeric,
        mode: if numeric { "numeric" } else { "autograd" },
        r: &case.refv[if numeric { "numeric" } else { "autograd" }],
        bad: Vec::new(),
    };
    let m = c.migrad();
    if c.minimum(&m) {
        let h = c.hesse(&m);
        c.minos(&h);
        c.calls(&m);
    }
    (c.bad, m.nfcn, m.ngrad)
}

/// One case in one mode: iminuit's numbers for it and the problems found.
struct Check<'a> {
    case: &'a Case,
    numeric: bool,
    mode: &'static str,
    r: &'a Value,
    bad: Vec<String>,
}

impl Check<'_> {
    fn fcn(&self) -> TestFcn {
        TestFcn::new(self.case.kind, true)
    }

    /// The hesse error iminuit gives for `n` (the scale of the tolerances).
    fn hesse_error(&self, n: &str) -> Option<f64> {
        self.r["hesse"]["errors"][n].as_f64()
    }

    /// MIGRAD, with every call on the path; in numeric mode the path is
    /// compared with iminuit's (reported, not counted, where it diverges).
    fn migrad(&mut self) -> FunctionMinimum {
        let (case, mode) = (self.case, self.mode);
        let mut opts = case.opts.clone();
        opts.numeric_grad = self.numeric;
        let mut fcn = self.fcn();
        let m = migrad(&mut fcn, &case.params, &opts);
        if fcn.path.len() != m.nfcn {
            self.bad
                .push(format!("path {} != nfcn {}", fcn.path.len(), m.nfcn));
        }
        if self.numeric {
            let rp = self.r["migrad"]["path"].as_array().expect("path");
            for (k, (a, b)) in fcn.path.iter().zip(rp).enumerate() {
                let bx = b["x"].as_f64().unwrap_or(f64::NAN);
                let by = b["y"].as_f64().unwrap_or(f64::NAN);
                if !close(a[0], bx, 1e-9, 1e-12) || !close(a[1], by, 1e-9, 1e-12) {
                    eprintln!(
                        "{} {mode}: path diverges at {k}: ours {:?} iminuit ({bx}, {by})",
                        case.id, a
                    );
                    break;
                }
            }
        }
        m
    }

    /// The minimum's value and parameters; false when the rules end the
    /// check here (iminuit's minimum is invalid, or ours is clearly lower).
    fn minimum(&mut self, m: &FunctionMinimum) -> bool {
        let (case, mode, rm) = (self.case, self.mode, &self.r["migrad"]);
        let fref = rm["fval"].as_f64().unwrap_or(f64::NAN);
        if !rm["valid"].as_bool().unwrap_or(false) {
            eprintln!(
                "{} {mode}: fval {} valid {} values {:?} (iminuit fval {fref}, invalid)",
                case.id, m.fval, m.valid, m.values
            );
            if m.valid && m.fval > fref + 1e-6 {
                self.bad
                    .push(format!("claims valid {} worse than {fref}", m.fval));
            }
            return false;
        }
        if m.fval < fref - 1e-4f64.max(1e-3 * fref.abs()) {
            return false;
        }
        if !m.valid {
            self.bad.push("invalid".into());
        }
        if !close(m.fval, fref, 1e-3, 1e-4) {
            self.bad.push(format!("fval {} want {fref}", m.fval));
        }
        for (i, n) in ["x", "y"].iter().enumerate() {
            let want = rm["values"][n].as_f64().unwrap_or(f64::NAN);
            let fixed = case.fixed.iter().any(|f| f == n);
            let tol = if fixed {
                1e-12
            } else {
                0.05 * self.hesse_error(n).unwrap_or(0.0) + 1e-6
            };
            if (m.values[i] - want).abs() > tol {
                self.bad
                    .push(format!("value {n} {} want {want}", m.values[i]));
            }
        }
        true
    }

    /// HESSE at the minimum: its calls and the free parameters' errors.
    fn hesse(&mut self, m: &FunctionMinimum) -> FunctionMinimum {
        let (case, mode, r) = (self.case, self.mode, self.r);
        let mut hf = self.fcn();
        let (h, hn, hg) = hesse(&mut hf, &case.params, m, self.numeric);
        eprintln!(
            "{} {mode}: fval {:.6e} valid {} edm {:.3e}; hesse nfcn {hn} ngrad {hg} errors {:?} (iminuit {} {})",
            case.id, m.fval, m.valid, m.edm, h.errors, r["hesse"]["nfcn"], r["hesse"]["errors"]
        );
        if hf.path.len() != hn {
            self.bad.push("hesse nfcn mismatch".into());
        }
        if self.numeric && hn as u64 != r["hesse"]["nfcn"].as_u64().unwrap_or(0) {
            eprintln!(
                "{} {mode}: hesse nfcn {hn} vs {}",
                case.id, r["hesse"]["nfcn"]
            );
        }
        for (i, n) in ["x", "y"].iter().enumerate() {
            if case.fixed.iter().any(|f| f == n) {
                continue;
            }
            let want = self.hesse_error(n).unwrap_or(f64::NAN);
            if !close(h.errors[i], want, 0.02, 1e-9) {
                self.bad
                    .push(format!("hesse {n} {} want {want}", h.errors[i]));
            }
        }
        h
    }

    /// MINOS for every parameter iminuit has MINOS errors for.
    fn minos(&mut self, h: &FunctionMinimum) {
        let (case, mode) = (self.case, self.mode);
        let Some(me) = self.r["minos"]["errors"].as_object() else {
            return;
        };
        for (n, lohi) in me {
            let i = if n == "x" { 0 } else { 1 };
            let e = minos(&mut self.fcn(), &case.params, h, i, self.numeric);
            eprintln!(
                "{} {mode}: minos {n} [{:.6}, {:.6}] nfcn {} (iminuit [{lo_}, {hi_}])",
                case.id,
                e.lower,
                e.upper,
                e.nfcn,
                lo_ = lohi[0],
                hi_ = lohi[1]
            );
            let lo = lohi[0].as_f64().unwrap_or(f64::NAN);
            let hi = lohi[1].as_f64().unwrap_or(f64::NAN);
            let scale = 0.01 * self.hesse_error(n).unwrap_or(0.0) + 1e-9;
            if !close(e.lower, lo, 0.03, scale) || !close(e.upper, hi, 0.03, scale) {
                self.bad.push(format!(
                    "minos {n} [{}, {}] want [{lo}, {hi}]",
                    e.lower, e.upper
                ));
            }
            if !e.is_valid() {
                self.bad.push(format!("minos {n} invalid"));
            }
        }
    }

    /// MIGRAD's calls: numeric within 25% (+5) of iminuit's, autograd no
    /// more function plus gradient calls than iminuit with its gradient.
    fn calls(&mut self, m: &FunctionMinimum) {
        let rm = &self.r["migrad"];
        let nref = rm["nfcn"].as_u64().unwrap_or(0) as usize;
        let gref = rm["ngrad"].as_u64().unwrap_or(0) as usize;
        if self.numeric {
            if m.nfcn as f64 > 1.25 * nref as f64 + 5.0 {
                self.bad.push(format!("nfcn {} vs {nref}", m.nfcn));
            }
        } else if m.nfcn + m.ngrad > nref + gref {
            self.bad
                .push(format!("calls {}+{} vs {nref}+{gref}", m.nfcn, m.ngrad));
        }
    }
}

fn run_mode(numeric: bool) {
    let mut failures = Vec::new();
    for case in cases() {
        let (bad, nf, ng) = check(&case, numeric);
        let mode = if numeric { "numeric" } else { "autograd" };
        let rm = &case.refv[mode]["migrad"];
        eprintln!(
            "{} {mode}: nfcn {nf} ngrad {ng} (iminuit {} {}) {}",
            case.id,
            rm["nfcn"],
            rm["ngrad"],
            if bad.is_empty() {
                "ok".into()
            } else {
                bad.join("; ")
            }
        );
        if !bad.is_empty() {
            failures.push(format!("{}: {}", case.id, bad.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn reference_numeric() {
    run_mode(true);
}

#[test]
fn reference_autograd() {
    run_mode(false);
}

#[test]
fn numeric_call_counts_exact() {
    for case in cases() {
        if case.id == "himmelblau-origin" || case.id == "himmelblau-minus2" {
            let mut opts = case.opts.clone();
            opts.numeric_grad = true;
            let mut fcn = TestFcn::new(case.kind, false);
            let m = migrad(&mut fcn, &case.params, &opts);
            let want = case.refv["numeric"]["migrad"]["nfcn"].as_u64().unwrap_or(0) as usize;
            assert_eq!(m.nfcn, want, "{}", case.id);
        }
    }
}

/// iminuit's retries interleave SIMPLEX and MIGRAD at strategy 2 until the
/// call limit: on Beale (numeric) that ends invalid at the call limit, as
/// iminuit's does, within the acceptance rule's calls (iminuit: 546). The
/// exact count depends on rounding along a chaotic path: this test's
/// hand-written Beale gives 443, the interpreter's graph 551.
#[test]
fn beale_retries_like_iminuit() {
    let case = cases()
        .into_iter()
        .find(|c| c.id == "beale")
        .expect("beale case");
    let mut opts = case.opts.clone();
    opts.numeric_grad = true;
    let mut fcn = TestFcn::new(case.kind, false);
    let m = migrad(&mut fcn, &case.params, &opts);
    let r = &case.refv["numeric"]["migrad"];
    let want = r["nfcn"].as_u64().unwrap_or(0) as f64;
    assert!(!m.valid && m.call_limit, "{m:?}");
    assert!(
        m.nfcn as f64 <= 1.25 * want + 5.0,
        "nfcn {} vs {want}",
        m.nfcn
    );
    let fval = r["fval"].as_f64().unwrap_or(0.0);
    assert!((m.fval - fval).abs() < 0.01, "fval {} vs {fval}", m.fval);
}

#[test]
fn nan_objective_ends_invalid() {
    struct NanFcn;
    impl Fcn for NanFcn {
        fn value(&mut self, x: &[f64]) -> f64 {
            if x[0] > 0.5 {
                f64::NAN
            } else {
                (x[0] - 1.0).powi(2)
            }
        }
    }
    let p = vec![ParamSpec {
        name: "a".into(),
        value: 0.0,
        error: 0.1,
        lower: None,
        upper: None,
        fixed: false,
    }];
    let m = migrad(&mut NanFcn, &p, &MigradOptions::default());
    assert!(!m.valid);
    assert!(m.nfcn <= 2000);
}

#[test]
fn gradient_and_hessian_of_test_functions() {
    for kind in [Kind::Himmelblau, Kind::Beale] {
        let mut f = TestFcn::new(kind, true);
        let p = [0.7, -1.3];
        let mut g = [0.0; 2];
        f.gradient(&p, &mut g);
        let mut h = [0.0; 4];
        f.hessian(&p, &mut h);
        let e = 1e-6;
        for i in 0..2 {
            let mut a = p;
            let mut b = p;
            a[i] += e;
            b[i] -= e;
            let num = (f.f(&a) - f.f(&b)) / (2.0 * e);
            assert!((num - g[i]).abs() < 1e-5 * (1.0 + g[i].abs()));
            let (mut ga, mut gb) = ([0.0; 2], [0.0; 2]);
            f.gradient(&a, &mut ga);
            f.gradient(&b, &mut gb);
            for j in 0..2 {
                let num = (ga[j] - gb[j]) / (2.0 * e);
                assert!((num - h[j * 2 + i]).abs() < 1e-4 * (1.0 + h[j * 2 + i].abs()));
            }
        }
    }
}
