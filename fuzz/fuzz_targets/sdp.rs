//! Arbitrary bytes as an SDP offer: parsed, negotiated, answered, the answer parsed back.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_sip::sdp::fuzz_bytes(data));
