//! Benchmarks (run with `cargo bench`): whole statements through the
//! interpreter, timed with std::time::Instant over many repetitions.
//!
//! - adam on Beale: a script with 200,000 steps; time per step.
//! - migrad + hesse on Himmelblau: the two statements, repeated; time per pair
//!   (this includes parsing, building the graph and its derivatives, and
//!   formatting the JSON record, so it is an upper bound on the algorithm).

use losslang::interp::{Options, Session};
use std::time::Instant;

fn session() -> Session {
    let opts = Options {
        json: true,
        ..Options::default()
    };
    Session::new(opts, Box::new(std::io::sink()), Box::new(std::io::sink()))
}

fn adam_beale(steps: usize) -> f64 {
    let src = format!(
        "param x = -1; param y = 2;\n\
         minimize (1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2\n\
         with adam(lr=0.3, betas=(0.99, 0.999)) for {steps} steps;\n"
    );
    let mut s = session();
    let t = Instant::now();
    let o = s.run_source("bench.loss", &src);
    assert_eq!(o.exit_code(), 0);
    t.elapsed().as_secs_f64()
}

fn migrad_hesse(reps: usize) -> f64 {
    let src = "param x = 0; param y = 0;\n\
               minimize (x^2 + y - 11)^2 + (x + y^2 - 7)^2 with migrad;\nhesse;\n";
    let t = Instant::now();
    for _ in 0..reps {
        let mut s = session();
        let o = s.run_source("bench.loss", src);
        assert_eq!(o.exit_code(), 0);
    }
    t.elapsed().as_secs_f64()
}

fn main() {
    // Warm up, then take the best of 5 runs.
    adam_beale(10_000);
    let steps = 200_000;
    let best = (0..5)
        .map(|_| adam_beale(steps))
        .fold(f64::INFINITY, f64::min);
    println!(
        "adam on Beale: {:.1} ns per step ({steps} steps, best of 5)",
        best / steps as f64 * 1e9
    );

    migrad_hesse(100);
    let reps = 2000;
    let best = (0..5)
        .map(|_| migrad_hesse(reps))
        .fold(f64::INFINITY, f64::min);
    println!(
        "migrad + hesse on Himmelblau (parse, graph, fit, report): {:.1} us per run (best of 5 x {reps})",
        best / reps as f64 * 1e6
    );
    fit_only_bench();
}

/// MIGRAD + HESSE alone, on the objective compiled as the interpreter
/// compiles it (graph, symbolic gradient and Hessian, tapes), without
/// parsing or reporting: the number to hold against iminuit's ~160 us.
mod fit_only {
    use losslang::graph::{autodiff, Graph, Tape};
    use losslang::interp::{Lowerer, Options, Session};
    use losslang::minuit::{self, Fcn, MigradOptions, ParamSpec};
    use std::time::Instant;

    struct TapeFcn {
        f: Tape,
        fg: Tape,
        h: Tape,
    }

    impl Fcn for TapeFcn {
        fn value(&mut self, x: &[f64]) -> f64 {
            self.f.set_param(0, &x[..1]);
            self.f.set_param(1, &x[1..2]);
            self.f.forward();
            self.f.output(0)[0]
        }
        fn has_gradient(&self) -> bool {
            true
        }
        fn gradient(&mut self, x: &[f64], g: &mut [f64]) {
            self.fg.set_param(0, &x[..1]);
            self.fg.set_param(1, &x[1..2]);
            self.fg.forward();
            g[0] = self.fg.output(1)[0];
            g[1] = self.fg.output(2)[0];
        }
        fn hessian(&mut self, x: &[f64], h: &mut [f64]) -> bool {
            self.h.set_param(0, &x[..1]);
            self.h.set_param(1, &x[1..2]);
            self.h.forward();
            for (i, v) in h.iter_mut().enumerate() {
                *v = self.h.output(i)[0];
            }
            true
        }
    }

    pub fn run(reps: usize) -> f64 {
        let mut s = Session::new(
            Options::default(),
            Box::new(std::io::sink()),
            Box::new(std::io::sink()),
        );
        assert_eq!(
            s.run_source("p.loss", "param x = 0; param y = 0;")
                .exit_code(),
            0
        );
        let e = losslang::syntax::parse_expr("(x^2 + y - 11)^2 + (x + y^2 - 7)^2").unwrap();
        let mut g = Graph::new();
        let out = Lowerer::new(&s, &mut g).num(&e).unwrap();
        let ps = [g.param(0, vec![]), g.param(1, vec![])];
        let gr = autodiff::grad(&mut g, out, &ps);
        let mut hs = Vec::new();
        for &gi in &gr {
            hs.extend(autodiff::grad(&mut g, gi, &ps));
        }
        let mut fcn = TapeFcn {
            f: Tape::new(&g, &[out]),
            fg: Tape::new(&g, &[out, gr[0], gr[1]]),
            h: Tape::new(&g, &hs),
        };
        let specs: Vec<ParamSpec> = ["x", "y"]
            .iter()
            .map(|n| ParamSpec {
                name: n.to_string(),
                value: 0.0,
                error: 0.1,
                lower: None,
                upper: None,
                fixed: false,
            })
            .collect();
        let opts = MigradOptions::default();
        let t = Instant::now();
        for _ in 0..reps {
            let m = minuit::migrad(&mut fcn, &specs, &opts);
            let (h, _, _) = minuit::hesse(&mut fcn, &specs, &m, false);
            assert!(h.valid && (h.values[0] - 3.0).abs() < 1e-3);
        }
        t.elapsed().as_secs_f64()
    }
}

#[allow(dead_code)]
fn fit_only_bench() {
    fit_only::run(100);
    let reps = 20_000;
    let best = (0..5)
        .map(|_| fit_only::run(reps))
        .fold(f64::INFINITY, f64::min);
    println!(
        "migrad + hesse on Himmelblau (algorithm on the compiled tapes): {:.2} us per fit (best of 5 x {reps})",
        best / reps as f64 * 1e6
    );
}
