//! Arbitrary bytes as an NLSML result: parsed, serialised, parsed again.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_media::nlsml::fuzz_nlsml(data));
