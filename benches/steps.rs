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
    let best = (0..5).map(|_| adam_beale(steps)).fold(f64::INFINITY, f64::min);
    println!("adam on Beale: {:.1} ns per step ({steps} steps, best of 5)", best / steps as f64 * 1e9);

    migrad_hesse(100);
    let reps = 2000;
    let best = (0..5).map(|_| migrad_hesse(reps)).fold(f64::INFINITY, f64::min);
    println!(
        "migrad + hesse on Himmelblau (parse, graph, fit, report): {:.1} us per run (best of 5 x {reps})",
        best / reps as f64 * 1e6
    );
}
