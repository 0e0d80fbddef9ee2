//! The threads a tape runs on, and the rule that keeps results independent
//! of how many there are.
//!
//! Work is split into pieces whose boundaries depend only on the sizes in
//! the tape (never on the thread count), each piece computes what it would
//! compute alone, and partial sums are combined in piece order on one
//! thread. So `LOSSLANG_THREADS=1` and `=8` give the same bits; the thread
//! count only decides who runs which piece.
//!
//! Each thread that evaluates a large tape gets its own rayon pool (made
//! once, on first use, kept in a thread-local) in which that thread is
//! worker 0 (`use_current_thread`): a parallel loop started from it is a
//! call inside the pool rather than a job injected from outside, and that
//! is what keeps a step free of allocations (rayon's injector queue
//! allocates a block every 63 jobs).

use std::cell::OnceCell;
use std::sync::OnceLock;

/// Threads used for large tapes: `LOSSLANG_THREADS`, else the machine's
/// core count (an unset, empty, zero or malformed value means the latter).
pub fn threads() -> usize {
    static THREADS: OnceLock<usize> = OnceLock::new();
    *THREADS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        std::env::var("LOSSLANG_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(cores)
            .min(256)
    })
}

thread_local! {
    /// This thread's pool (None with one thread, or if it cannot be made).
    static POOL: OnceCell<Option<rayon::ThreadPool>> = const { OnceCell::new() };
}

/// A pointer that may be shared by the pieces of one parallel loop: each
/// piece touches a part no other piece touches (the caller's promise).
#[derive(Clone, Copy)]
pub(super) struct Shared(pub(super) *mut f64);
// SAFETY: pieces write disjoint ranges and the loop ends before the
// buffer is used again (see `for_each`).
unsafe impl Send for Shared {}
unsafe impl Sync for Shared {}

impl Shared {
    /// The pointer (a method, so that a closure captures the whole `Shared`).
    #[inline(always)]
    pub(super) fn ptr(self) -> *mut f64 {
        self.0
    }
}

/// Calls `f(piece, worker)` for every piece in 0..n, on this thread's pool
/// when there is one; `worker` (below `threads()`) tells which per-thread
/// scratch space a piece may use. Returns when every piece is done.
pub(super) fn for_each(n: usize, f: &(dyn Fn(usize, usize) + Sync)) {
    if n <= 1 || threads() == 1 {
        for p in 0..n {
            f(p, 0);
        }
        return;
    }
    POOL.with(|cell| {
        let pool = cell.get_or_init(|| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads())
                .use_current_thread()
                .build()
                .ok()
        });
        match pool {
            Some(pool) => pool.install(|| {
                use rayon::prelude::*;
                (0..n)
                    .into_par_iter()
                    .for_each(|p| f(p, rayon::current_thread_index().unwrap_or(0)))
            }),
            None => (0..n).for_each(|p| f(p, 0)),
        }
    })
}
