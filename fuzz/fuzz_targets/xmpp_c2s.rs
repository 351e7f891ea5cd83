//! Arbitrary bytes from an XMPP client to the c2s stream state machine.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_xmpp::c2s::fuzz_bytes(data));
