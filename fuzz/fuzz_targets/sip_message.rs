//! Arbitrary bytes parsed as a SIP message (datagram and stream framing), every header the stack reads read.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_sip::message::fuzz_bytes(data));
