//! The csv reader on arbitrary file contents: a table or an error message,
//! never a panic, and a table's shape must match its header.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    losslang_fuzz::check_csv(data);
});
