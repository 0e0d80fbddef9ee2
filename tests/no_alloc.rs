//! "A step allocates nothing": a counting global allocator runs the same
//! minimization for few and for many steps; the number of allocations must
//! not grow with the number of steps (everything is made before the first
//! step: the tape, the optimizer's state, the reserved path).
//!
//! Every thread's allocations count, the tape's worker threads included:
//! the tests take turns (one lock) so that no other test's allocations are
//! counted with theirs, and they run with two threads so that large tapes
//! are evaluated in parallel. Before each count the process is let settle
//! (no allocation for a while), since a previous run's worker threads may
//! still be tidying up (rayon's deques free their garbage lazily).

use losslang::interp::{Options, Session};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

struct Counting;

/// Allocations made by any thread of the process.
static ALLOCS: AtomicUsize = AtomicUsize::new(0);

fn count() {
    ALLOCS.fetch_add(1, Ordering::Relaxed);
}

/// One test at a time, with two tape threads.
fn turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    let guard = TURN.lock().unwrap_or_else(|e| e.into_inner());
    std::env::set_var("LOSSLANG_THREADS", "2");
    guard
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Waits until no thread has allocated for 20 ms (at most about a second).
fn settle() {
    let mut last = ALLOCS.load(Ordering::SeqCst);
    for _ in 0..50 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        let now = ALLOCS.load(Ordering::SeqCst);
        if now == last {
            return;
        }
        last = now;
    }
}

fn allocations(script: &str) -> usize {
    let mut s = Session::new(
        Options::default(),
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
    );
    settle();
    let before = ALLOCS.load(Ordering::SeqCst);
    let outcome = s.run_source("t.loss", script);
    let after = ALLOCS.load(Ordering::SeqCst);
    assert_eq!(outcome.exit_code(), 0, "{script}");
    after - before
}

/// 2000 more steps may cost a few allocations more in the report (longer
/// numbers to format), never one per step.
fn same_for_few_and_many(template: &str) {
    same_for(template, 2000, 4000);
}

fn same_for(template: &str, few_steps: usize, many_steps: usize) {
    let few = allocations(&template.replace("STEPS", &few_steps.to_string()));
    let many = allocations(&template.replace("STEPS", &many_steps.to_string()));
    assert!(
        many.abs_diff(few) <= 16,
        "allocations grow with the steps: {few} for {few_steps} steps, {many} for {many_steps}\n{template}"
    );
}

#[test]
fn adam_on_beale_allocates_nothing_per_step() {
    let _turn = turn();
    same_for_few_and_many(
        "param x = -1; param y = 2;\n\
         minimize (1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2\n\
         with adam(lr=0.01) for STEPS steps;\n",
    );
}

#[test]
fn every_optimizer_allocates_nothing_per_step() {
    let _turn = turn();
    for opt in [
        "sgd(lr=0.001, momentum=0.9)",
        "adamw(lr=0.01)",
        "adamax(lr=0.01)",
        "nadam(lr=0.01)",
        "radam(lr=0.01)",
        "rmsprop(lr=0.001, centered=true)",
        "adagrad(lr=0.1)",
        "adadelta",
        "rprop",
        "asgd(lr=0.001)",
        "lbfgs(history_size=5, max_iter=3)",
        "adafactor(lr=0.01)",
    ] {
        same_for_few_and_many(&format!(
            "param x = 0; param y = 0;\n\
             minimize (x^2 + y - 11)^2 + (x + y^2 - 7)^2 with {opt} for STEPS steps;\n"
        ));
    }
}

#[test]
fn a_tensor_fit_allocates_nothing_per_step() {
    let _turn = turn();
    same_for_few_and_many(
        "let xs = linspace(-1, 1, 200);\n\
         let ys = sin(3 * xs);\n\
         param w[3] = [0.1, 0.2, 0.3];\n\
         minimize mean((w[0] + w[1] * xs + w[2] * xs^2 - ys)^2) with adam(lr=0.01) for STEPS steps;\n",
    );
}

/// 100,000 points by 10 sigmoids: the fused groups and the matmuls are
/// split into pieces that run on two threads; 200 more steps still cost no
/// allocation. (The first run makes this thread's pool of workers.)
#[test]
fn a_parallel_tape_allocates_nothing_per_step() {
    let _turn = turn();
    let template = "let n = 100000;\n\
         let xs = linspace(-2, 2, n);\n\
         let ys = 1 / (1 + exp(-xs / 0.3)) + 0.3 * sin(3 * xs);\n\
         param c[10] = 0.1;\n\
         param alpha[10] = linspace(-1.8, 1.8, 10);\n\
         param beta[10] = 0.5;\n\
         let model = (1 / (1 + exp((reshape(xs, [n, 1]) - alpha) / beta))) @ c;\n\
         minimize mean((model - ys)^2) with adam(lr=0.005) for STEPS steps;\n";
    allocations(&template.replace("STEPS", "2"));
    same_for(template, 20, 220);
}

/// A general matmul ([256, 64] @ [64, 64] forward, its two adjoints
/// backward) runs through the packed kernel, whose buffers the tape owns:
/// no step allocates, with any optimizer, on two threads.
#[test]
fn a_general_matmul_allocates_nothing_per_step() {
    let _turn = turn();
    for opt in [
        "adam(lr=0.001)",
        "sgd(lr=0.01, momentum=0.9)",
        "rmsprop(lr=0.001)",
        "lbfgs(history_size=3, max_iter=2)",
    ] {
        let template = format!(
            "let xs = reshape(linspace(-2, 2, 256), [256, 1]);\n\
             let ys = sin(2 * xs);\n\
             param w1[64, 1] = reshape(sin(linspace(0, 9, 64)), [64, 1]);\n\
             param b1[64] = cos(linspace(0, 4, 64));\n\
             param w2[64, 64] = reshape(0.1 * sin(linspace(0, 700, 4096)), [64, 64]);\n\
             param b2[64] = 0.01 * cos(linspace(0, 3, 64));\n\
             param w3[1, 64] = reshape(0.1 * sin(linspace(1, 8, 64)), [1, 64]);\n\
             let h = tanh(tanh(xs @ transpose(w1) + b1) @ transpose(w2) + b2);\n\
             minimize mean((h @ transpose(w3) - ys)^2) with {opt} for STEPS steps;\n"
        );
        allocations(&template.replace("STEPS", "2"));
        same_for(&template, 20, 220);
    }
}

/// A general matmul large enough to be split into pieces on two threads
/// ([1024, 128] @ [128, 128]; the backward product has k = 1024, four KC
/// blocks) allocates nothing per step either.
#[test]
fn a_parallel_general_matmul_allocates_nothing_per_step() {
    let _turn = turn();
    let template = "let xs = reshape(linspace(-2, 2, 1024), [1024, 1]);\n\
         let ys = sin(2 * xs);\n\
         param w1[128, 1] = reshape(sin(linspace(0, 9, 128)), [128, 1]);\n\
         param w2[128, 128] = reshape(0.1 * sin(linspace(0, 900, 16384)), [128, 128]);\n\
         param w3[1, 128] = reshape(0.1 * sin(linspace(1, 8, 128)), [1, 128]);\n\
         let h = tanh(tanh(xs @ transpose(w1)) @ transpose(w2));\n\
         minimize mean((h @ transpose(w3) - ys)^2) with adam(lr=0.001) for STEPS steps;\n";
    allocations(&template.replace("STEPS", "2"));
    same_for(template, 5, 45);
}
