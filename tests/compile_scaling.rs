//! `Tape::new` on large generated graphs: its time grows about linearly
//! with the graph's size (a script with thousands of terms, or Minuit's
//! Hessian of many parameters, compiles big graphs). Each size is the best
//! of a few runs, and the comparison gets three tries; a graph four times as
//! big may take at most 8 times as long: linear growth gives 4 (n log n
//! about 4.6), a quadratic step 16, so the bound sits a factor of 2 from
//! both. The time is the thread's own CPU
//! time (Linux's /proc/thread-self/schedstat), not the wall clock, so that a
//! loaded machine, which makes a long compile wait for the CPU more often
//! than a short one, does not make the test flaky.

use losslang::graph::{autodiff, Axis, Graph, NodeId, Op, Red, Tape, UnFn};
use std::time::Instant;

/// A sum of `n` terms `sin(c_i * x_(i mod p)) * x_((i+1) mod p)` over
/// parameters of `shape`, and its gradient.
fn graph(n: usize, shape: &[usize]) -> (Graph, Vec<NodeId>) {
    let mut g = Graph::new();
    let p = 16;
    let xs: Vec<NodeId> = (0..p).map(|i| g.param(i, shape.to_vec())).collect();
    let mut acc: Option<NodeId> = None;
    for i in 0..n {
        let c = g.scalar(1.0 + i as f64 * 1e-3);
        let a = g.node(Op::Mul, &[c, xs[i % p as usize]]).unwrap();
        let s = g.node(Op::Un(UnFn::Sin), &[a]).unwrap();
        let t = g.node(Op::Mul, &[s, xs[(i + 1) % p as usize]]).unwrap();
        acc = Some(match acc {
            None => t,
            Some(u) => g.node(Op::Add, &[u, t]).unwrap(),
        });
    }
    let mut out = acc.unwrap();
    if !shape.is_empty() {
        out = g.reduce(Red::Sum, out, Axis::All).unwrap();
    }
    let mut outs = vec![out];
    outs.extend(autodiff::grad(&mut g, out, &xs));
    (g, outs)
}

/// Seconds of CPU time this thread has used (the wall clock where the
/// kernel does not say).
fn cpu_seconds(start: Instant) -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map(|ns| ns as f64 * 1e-9)
        .unwrap_or_else(|| start.elapsed().as_secs_f64())
}

fn compile_seconds(n: usize, shape: &[usize]) -> f64 {
    let (g, outs) = graph(n, shape);
    (0..5)
        .map(|_| {
            let start = Instant::now();
            let t0 = cpu_seconds(start);
            let tape = Tape::new(&g, &outs);
            let el = cpu_seconds(start) - t0;
            assert!(tape.live_nodes > n);
            el
        })
        .fold(f64::INFINITY, f64::min)
}

fn assert_linear(shape: &[usize]) {
    // A few tries of the whole comparison: a try whose small size happened
    // to run fast (or its big one slow: cache misses from other processes
    // count as this thread's time too) says nothing about the growth, but a
    // quadratic step gives about 16x on every try.
    let mut tries = Vec::new();
    for _ in 0..3 {
        let small = compile_seconds(4_000, shape);
        let big = compile_seconds(16_000, shape);
        if big < 8.0 * small {
            return;
        }
        tries.push(format!(
            "4k terms {:.1} ms, 16k terms {:.1} ms",
            small * 1e3,
            big * 1e3
        ));
    }
    panic!("shape {shape:?}: {}", tries.join("; "));
}

#[test]
fn scalar_graphs_compile_in_linear_time() {
    assert_linear(&[]);
}

#[test]
fn tensor_graphs_compile_in_about_linear_time() {
    assert_linear(&[4]);
}
