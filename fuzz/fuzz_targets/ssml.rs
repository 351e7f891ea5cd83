//! Arbitrary bytes as an SSML document: checked, never a panic.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_media::ssml::fuzz_bytes(data));
