//! Arbitrary bytes as (timestamp, telephone-event payload) records: each event started and ended once.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_media::dtmf::fuzz_bytes(data));
