//! Arbitrary bytes as SIP datagrams (split at NUL) into a user agent that answers every call.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_sip::ua::fuzz_bytes(data));
