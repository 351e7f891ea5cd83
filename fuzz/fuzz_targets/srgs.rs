//! Arbitrary bytes as an SRGS grammar (and as a builtin URI); what parses is matched.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_media::srgs::fuzz_grammar(data));
