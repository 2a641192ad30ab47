//! libFuzzer over `tokenwell::response::parse`: any bytes become a status,
//! headers, a body, a profile and a send time (see `input.rs`, shared with the
//! corpus replay in tests/fuzz_corpus.rs); a panic or a broken invariant is a
//! crash.
#![no_main]

#[path = "../input.rs"]
mod input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| input::check(data));
