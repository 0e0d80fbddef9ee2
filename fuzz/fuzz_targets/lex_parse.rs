//! The lexer and the parser on arbitrary bytes: neither may panic, and
//! every error they report must have a span inside the source.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    losslang_fuzz::check_lex_parse(src);
});
