//! "A step allocates nothing": a counting global allocator runs the same
//! minimization for few and for many steps; the number of allocations must
//! not grow with the number of steps (everything is made before the first
//! step: the tape, the optimizer's state, the reserved path).

use losslang::interp::{Options, Session};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    /// Allocations made by this thread (other test threads do not count).
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    ALLOCS.with(|c| c.set(c.get() + 1));
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

fn allocations(script: &str) -> usize {
    let mut s = Session::new(
        Options::default(),
        Box::new(std::io::sink()),
        Box::new(std::io::sink()),
    );
    let before = ALLOCS.with(Cell::get);
    let outcome = s.run_source("t.loss", script);
    let after = ALLOCS.with(Cell::get);
    assert_eq!(outcome.exit_code(), 0, "{script}");
    after - before
}

/// 2000 more steps may cost a few allocations more in the report (longer
/// numbers to format), never one per step.
fn same_for_few_and_many(template: &str) {
    let few = allocations(&template.replace("STEPS", "2000"));
    let many = allocations(&template.replace("STEPS", "4000"));
    assert!(
        many.abs_diff(few) <= 16,
        "allocations grow with the steps: {few} for 2000 steps, {many} for 4000\n{template}"
    );
}

#[test]
fn adam_on_beale_allocates_nothing_per_step() {
    same_for_few_and_many(
        "param x = -1; param y = 2;\n\
         minimize (1.5 - x + x*y)^2 + (2.25 - x + x*y^2)^2 + (2.625 - x + x*y^3)^2\n\
         with adam(lr=0.01) for STEPS steps;\n",
    );
}

#[test]
fn every_optimizer_allocates_nothing_per_step() {
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
    same_for_few_and_many(
        "let xs = linspace(-1, 1, 200);\n\
         let ys = sin(3 * xs);\n\
         param w[3] = [0.1, 0.2, 0.3];\n\
         minimize mean((w[0] + w[1] * xs + w[2] * xs^2 - ys)^2) with adam(lr=0.01) for STEPS steps;\n",
    );
}
