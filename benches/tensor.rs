//! Tensor benchmarks (run with `cargo bench --bench tensor`): the two scripts
//! of `benches/scripts/` run through the interpreter, timed with
//! std::time::Instant. The time per step is the difference between a run
//! with all its steps and a run with one step, divided by the difference in
//! steps, so parsing, data generation and compiling the tape are left out.
//! Each is the best of a few runs, after a warm-up. The side-by-side
//! comparison with PyTorch is `benches/compare/` (its twins of these two
//! workloads: `adaptive_basis.py`, `mlp_small.py`).

use losslang::interp::{Options, Session};
use std::time::Instant;

fn session() -> Session {
    let opts = Options {
        json: true,
        ..Options::default()
    };
    Session::new(opts, Box::new(std::io::sink()), Box::new(std::io::sink()))
}

/// The script with its step count replaced by `steps`.
fn with_steps(src: &str, from: usize, steps: usize) -> String {
    let pat = format!("for {from} steps");
    assert!(src.contains(&pat), "the script has no `{pat}`");
    src.replace(&pat, &format!("for {steps} steps"))
}

fn run(name: &str, src: &str) -> f64 {
    let mut s = session();
    let t = Instant::now();
    let o = s.run_source(name, src);
    assert_eq!(o.exit_code(), 0, "{name} failed");
    t.elapsed().as_secs_f64()
}

/// Seconds per step of `file` (whose minimize runs `steps` steps).
fn per_step(file: &str, steps: usize, runs: usize) -> f64 {
    let path = format!("{}/benches/scripts/{file}", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).expect("bench script");
    let one = with_steps(&src, steps, 1);
    run(&path, &one); // warm-up
    let base = (0..runs)
        .map(|_| run(&path, &one))
        .fold(f64::INFINITY, f64::min);
    let full = (0..runs)
        .map(|_| run(&path, &src))
        .fold(f64::INFINITY, f64::min);
    (full - base) / (steps - 1) as f64
}

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let want = |n: &str| filter.is_empty() || filter.iter().any(|f| n.contains(f.as_str()));
    if want("adaptive-basis") {
        let t = per_step("adaptive-basis.loss", 200, 3);
        println!(
            "adaptive-basis (10 sigmoids x 100,000 points, adam): {:.2} ms per step (best of 3 x 200 steps)",
            t * 1e3
        );
    }
    if want("mlp") {
        let t = per_step("mlp.loss", 1000, 5);
        println!(
            "mlp (1-64-1 relu, 1,000 points, adam): {:.1} us per step (best of 5 x 1000 steps)",
            t * 1e6
        );
    }
}
