//! `Session::run_source` (what `losslang FILE` runs) on arbitrary bytes,
//! decoded as the CLI decodes a script, with output to a sink and files
//! written only inside a temporary directory. Inputs that could run for
//! minutes are skipped (see `losslang_fuzz::bounded`).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let src = String::from_utf8_lossy(data);
    losslang_fuzz::run_bounded(&src);
});
