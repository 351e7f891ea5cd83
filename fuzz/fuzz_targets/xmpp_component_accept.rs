//! Arbitrary bytes from a component to the accepting side of a XEP-0114 stream.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_xmpp::component_accept::fuzz_bytes(data));
