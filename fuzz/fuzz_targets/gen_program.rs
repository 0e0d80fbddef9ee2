//! Structure-aware: `arbitrary` builds a program from the language's own
//! statements, builtins and optimizers (so most inputs parse and reach the
//! interpreter), which is then run like `run_source`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use losslang_fuzz::gen::Program;

fuzz_target!(|p: Program| {
    let src = p.to_string();
    losslang_fuzz::run_bounded(&src);
});
